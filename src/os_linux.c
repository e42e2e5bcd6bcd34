/*
 * What the runtime asks of Linux (Go's os_linux.go): time, futexes, thread
 * creation, per-thread setup, and the number of CPUs the process may use.
 *
 * The CPU count follows Go 1.25: the CPUs in the affinity mask, lowered to
 * the cgroup's CPU bandwidth limit (quota/period, rounded up, never below
 * 2) when one is set.  Like Go, only the leaf cgroup holding the process
 * is read: container runtimes hide their parents anyway.
 */
#include "runtime.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A clock that is cheap to read and a few milliseconds coarse. */
int64_t nanotime_coarse(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

void osyield(void)
{
	sched_yield();
}

void usleep_ns(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Sleeps while *addr == val, for at most ns nanoseconds when ns >= 0.  It
 * may return early or spuriously: callers re-check their condition.
 */
void futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns)
{
	struct timespec ts, *tsp = NULL;
	if (ns >= 0) {
		ts.tv_sec = ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		tsp = &ts;
	}
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
}

void futexwakeup(_Atomic uint32_t *addr, uint32_t cnt)
{
	if (syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, cnt, NULL, NULL, 0) < 0)
		throw("futexwakeup failed");
}

/*
 * Whether this process can use membarrier: registers for the private
 * expedited command (Linux 4.14), which seccomp filters and emulators
 * may refuse.
 */
bool membarrierinit(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return false;
	return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* A full memory barrier on every CPU running a thread of this process. */
void membarrier(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		throw("membarrier failed");
}

/* ---------------------------------------------------------- CPU count */

/*
 * Reads the first line of a file into buf; false if it cannot.
 */
static bool readline(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)n, f) != NULL;
	fclose(f);
	return ok;
}

/*
 * The mount point of the cgroup hierarchy holding controller ctl ("cpu"),
 * or of the unified hierarchy when ctl is NULL, from a mountinfo file.
 */
static bool cgroupmount(const char *mountinfo, const char *ctl, char *mnt, size_t n, char *root,
			size_t rn)
{
	FILE *f = fopen(mountinfo, "re");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		/* id parent maj:min root mountpoint options... - fstype source superopts */
		char r[1024], m[1024], fstype[64], superopts[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, superopts) != 2)
			continue;
		if (ctl == NULL) {
			found = strcmp(fstype, "cgroup2") == 0;
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (char *s = strtok(superopts, ","); s; s = strtok(NULL, ","))
				if (strcmp(s, ctl) == 0)
					found = true;
		}
		if (found) {
			snprintf(mnt, n, "%s", m);
			snprintf(root, rn, "%s", r);
		}
	}
	fclose(f);
	return found;
}

/*
 * The CPU bandwidth limit, in CPUs (fractional), of the cgroup named in
 * cgroupfile (/proc/self/cgroup), its hierarchy found in mountinfo
 * (/proc/self/mountinfo); 0 if there is none.
 */
double cgroupcpulimit(const char *cgroupfile, const char *mountinfo)
{
	FILE *f = fopen(cgroupfile, "re");
	if (!f)
		return 0;
	char line[4096], v1path[2048] = "", v2path[2048] = "";
	bool v1 = false, v2 = false;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		/* hierarchy-id:controllers:path */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = 0;
		const char *ctls = c1 + 1, *path = c2 + 1;
		if (strcmp(line, "0") == 0 && *ctls == 0) {
			snprintf(v2path, sizeof v2path, "%s", path);
			v2 = true;
		}
		char ctlbuf[256];
		snprintf(ctlbuf, sizeof ctlbuf, "%s", ctls);
		for (char *s = strtok(ctlbuf, ","); s; s = strtok(NULL, ","))
			if (strcmp(s, "cpu") == 0) {
				snprintf(v1path, sizeof v1path, "%s", path);
				v1 = true;
			}
	}
	fclose(f);

	char mnt[1024], root[1024], file[4096], buf[128];
	if (v1 && cgroupmount(mountinfo, "cpu", mnt, sizeof mnt, root, sizeof root)) {
		/* the mount's root is a prefix of the path when namespaced */
		const char *rel = v1path;
		if (strcmp(root, "/") != 0 && strncmp(rel, root, strlen(root)) == 0)
			rel += strlen(root);
		long long quota, period;
		snprintf(file, sizeof file, "%s%s/cpu.cfs_quota_us", mnt, rel);
		if (!readline(file, buf, sizeof buf) || sscanf(buf, "%lld", &quota) != 1 || quota <= 0)
			return 0;
		snprintf(file, sizeof file, "%s%s/cpu.cfs_period_us", mnt, rel);
		if (!readline(file, buf, sizeof buf) || sscanf(buf, "%lld", &period) != 1 || period <= 0)
			return 0;
		return (double)quota / (double)period;
	}
	if (v2 && cgroupmount(mountinfo, NULL, mnt, sizeof mnt, root, sizeof root)) {
		const char *rel = v2path;
		if (strcmp(root, "/") != 0 && strncmp(rel, root, strlen(root)) == 0)
			rel += strlen(root);
		snprintf(file, sizeof file, "%s%s/cpu.max", mnt, rel);
		char quota[64];
		long long period;
		if (!readline(file, buf, sizeof buf) || sscanf(buf, "%63s %lld", quota, &period) != 2 ||
		    strcmp(quota, "max") == 0 || period <= 0)
			return 0;
		return strtod(quota, NULL) / (double)period;
	}
	return 0;
}

/*
 * GORT_MAXPROCS's default from n usable CPUs and a CPU limit (0: none):
 * the limit rounded up, never below 2, and never above n.
 */
int32_t defaultmaxprocs(int32_t n, double limit)
{
	if (limit > 0) {
		int32_t l = (int32_t)limit;
		if ((double)l < limit)
			l++;
		if (l < 2)
			l = 2;
		if (l < n)
			n = l;
	}
	return n > 0 ? n : 1;
}

int32_t ncpu = 1;

/* The default GORT_MAXPROCS; sets ncpu, the CPUs this process may run on. */
int32_t getproccount(void)
{
	cpu_set_t set;
	int32_t n = 1;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	else if (sysconf(_SC_NPROCESSORS_ONLN) > 0)
		n = (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
	ncpu = n;
	return defaultmaxprocs(n, cgroupcpulimit("/proc/self/cgroup", "/proc/self/mountinfo"));
}

/* -------------------------------------------------------------- threads */

static void *mstart(void *arg)
{
	mstart_asm(arg);
}

/*
 * Starts a detached thread running fn(arg), with every signal blocked (an
 * M's minit unblocks those it handles).
 */
bool newthread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err == 0;
}

/* Starts a thread running mp.  Its g0 stack is the thread's own stack. */
bool newosproc(struct m *mp)
{
	return newthread(mstart, mp);
}

/*
 * Per-thread setup, on the new thread: its id, its g0 stack bounds, and
 * its signal state.
 */
void minit(struct m *mp)
{
	mp->procid = gettid_();

	pthread_attr_t attr;
	void *addr;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			mp->g0->stack.lo = (uintptr_t)addr;
			mp->g0->stack.hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&attr);
	}
	minitSignals(mp);
}
