/*
 * The execution tracer: traces of whole programs (GORT_TRACE), of a
 * window of one (gort_trace_start/stop), and of programs that panic, exit
 * or die, each read back by two parsers that must both accept it: Go's
 * own (`go tool trace -d`, when Go is installed) and gort-trace's, which
 * checks the same rules.  Then the events must account for every
 * goroutine the program created, started and ended.
 */
#include <pthread.h>

#include "testutil.h"

enum { MAXGOID = 1 << 16 };
enum { G_CREATED = 1, G_STARTED = 2, G_ENDED = 4, G_PREEMPTED = 8 };

/* What a parser made of a trace. */
struct traceread {
	int status;           /* the parser's exit status */
	char err[1024];       /* its first line that is not an event */
	long events;
	long creates, starts, ends, userlogs, regions, tasks;
	long bad;             /* starts or ends of goroutines never created */
	long outside;         /* events of threads with no P */
	long syscalls, sysblocks, sysexits, netblocks;
	unsigned char g[MAXGOID];
};

static struct traceread tr;

/* The value of the first "key=" in line after from, or -1. */
static long field(const char *line, const char *key, const char *from)
{
	const char *p = from ? strstr(line, from) : line;
	size_t n = strlen(key);
	for (; p != NULL && (p = strstr(p, key)) != NULL; p += n)
		if (p == line || p[-1] == ' ')
			return strtol(p + n, NULL, 10);
	return -1;
}

/* The value of the last "g=" in line: GoCreate's new goroutine. */
static long lastg(const char *line)
{
	const char *p = NULL;
	for (const char *q = line; (q = strstr(q, " g=")) != NULL; q++)
		p = q;
	return p ? strtol(p + 3, NULL, 10) : -1;
}

/*
 * Runs a parser's command line, which prints one event per line ("<time>
 * <Name> p=<P> g=<G> ..." as Go's Event.String), and tallies the events.
 */
static void readtrace(const char *cmd)
{
	memset(&tr, 0, sizeof tr);
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL, "%s", cmd);
	char line[4096], name[64];
	while (fgets(line, sizeof line, p) != NULL) {
		long ts;
		if (sscanf(line, "%ld %63s p=", &ts, name) != 2 || strstr(line, " p=") == NULL) {
			if (tr.err[0] == 0 && strstr(line, "Parsing trace") == NULL && strncmp(line, "count ", 6) != 0)
				snprintf(tr.err, sizeof tr.err, "%.1000s", line);
			continue;
		}
		tr.events++;
		tr.outside += strstr(line, " p=-1 ") != NULL;
		long g = field(line, "g=", " p=");
		if (strcmp(name, "GoCreate") == 0) {
			g = lastg(line);
			cr_assert(g > 0 && g < MAXGOID, "%s", line);
			tr.g[g] |= G_CREATED;
			tr.creates++;
		} else if (strcmp(name, "GoStart") == 0 || strcmp(name, "GoEnd") == 0) {
			cr_assert(g > 0 && g < MAXGOID, "%s", line);
			tr.bad += !(tr.g[g] & G_CREATED);
			tr.g[g] |= name[2] == 'S' ? G_STARTED : G_ENDED;
			*(name[2] == 'S' ? &tr.starts : &tr.ends) += 1;
		} else if (strcmp(name, "GoPreempt") == 0) {
			cr_assert(g > 0 && g < MAXGOID, "%s", line);
			tr.g[g] |= G_PREEMPTED;
		} else if (strcmp(name, "GoSysCall") == 0) {
			tr.syscalls++;
		} else if (strcmp(name, "GoSysBlock") == 0) {
			tr.sysblocks++;
		} else if (strcmp(name, "GoSysExit") == 0) {
			tr.sysexits++;
		} else if (strcmp(name, "GoBlockNet") == 0) {
			tr.netblocks++;
		} else if (strcmp(name, "UserLog") == 0) {
			tr.userlogs++;
		} else if (strcmp(name, "UserRegion") == 0) {
			tr.regions++;
		} else if (strncmp(name, "UserTask", 8) == 0) {
			tr.tasks++;
		}
	}
	int st = pclose(p);
	tr.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool have_go(void)
{
	return system("command -v go >/dev/null 2>&1") == 0;
}

/* The parsers, each reading path in turn: gort-trace's, then Go's if installed. */
static int parsers(const char *path, char cmds[2][4200])
{
	snprintf(cmds[0], sizeof cmds[0], "%s/gort-trace events '%s' 2>&1", builddir(), path);
	snprintf(cmds[1], sizeof cmds[1], "go tool trace -d '%s' 2>&1", path);
	return have_go() ? 2 : 1;
}

/* Asserts that every parser accepts the trace at path, and reads it with the last. */
static void assert_trace_parses(const char *path)
{
	char cmds[2][4200];
	int n = parsers(path, cmds);
	for (int i = 0; i < n; i++) {
		readtrace(cmds[i]);
		cr_assert_eq(tr.status, 0, "%s: %s", cmds[i], tr.err);
		cr_assert_eq(tr.err[0], 0, "%s: %s", cmds[i], tr.err);
		cr_assert_gt(tr.events, 0, "%s", cmds[i]);
		cr_assert_eq(tr.bad, 0, "%s: goroutines started or ended without being created", cmds[i]);
	}
}

static char *tmppath(char *buf, size_t n, const char *what)
{
	snprintf(buf, n, "/tmp/gort-test-%s-XXXXXX", what);
	int fd = mkstemp(buf);
	cr_assert_geq(fd, 0);
	close(fd);
	return buf;
}

static struct progresult r;

/* How many times s occurs in the file at path. */
static long file_count(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "%s", path);
	static char buf[16 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	long count = 0;
	for (const char *p = buf; (p = memmem(p, n - (size_t)(p - buf), s, strlen(s))) != NULL; p++)
		count++;
	return count;
}

static bool file_has(const char *path, const char *s)
{
	return file_count(path, s) > 0;
}

/*
 * gort-trace's JSON export of the trace at path is valid JSON (when
 * python3 is there to say so), and counts what the events do: a running
 * slice per GoStart (tr, as the last parser read it), the goroutines
 * created, the logs.
 */
static void assert_json_counts(const char *path, long created)
{
	char json[300], cmd[1024];
	tmppath(json, sizeof json, "json");
	snprintf(cmd, sizeof cmd, "%s/gort-trace json '%s' '%s'", builddir(), path, json);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	if (system("command -v python3 >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof cmd,
			 "python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); o = d[\"otherData\"]; "
			 "print(len(d[\"traceEvents\"]), o[\"slices\"], o[\"gostart\"], o[\"goroutines\"], "
			 "o[\"userlogs\"])' '%s'",
			 json);
		FILE *p = popen(cmd, "r");
		long n = 0, slices = 0, gostart = 0, goroutines = 0, logs = 0;
		int got = fscanf(p, "%ld %ld %ld %ld %ld", &n, &slices, &gostart, &goroutines, &logs);
		cr_assert_eq(pclose(p), 0, "the export is not valid JSON");
		cr_assert_eq(got, 5);
		cr_assert_gt(n, tr.events / 2);
		cr_assert_eq(slices, tr.starts);
		cr_assert_eq(gostart, tr.starts);
		cr_assert_eq(goroutines, created);
		cr_assert_eq(logs, tr.userlogs);
	}
	unlink(json);
}

/*
 * The tests/testprog "traced" program, traced whole with procs Ps: every
 * goroutine it created is in the trace, created, started and ended, with
 * its user annotations and the names of its C functions.  Goroutine 1
 * parks for good as main returns, and a worker may still be on its way
 * out then: the trace's end shows it preempted where it ran.
 */
static void trace_whole_program(const char *procs)
{
	char path[256], env1[300], env2[64];
	snprintf(env1, sizeof env1, "GORT_TRACE=%s", tmppath(path, sizeof path, "whole"));
	snprintf(env2, sizeof env2, "GORT_MAXPROCS=%s", procs);
	const char *e[] = {env1, env2, NULL};
	run_prog(&r, "traced", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	const char *c = strstr(r.out, "created ");
	cr_assert(c != NULL, "%s", r.out);
	long created = strtol(c + 8, NULL, 10);

	char cmds[2][4200];
	int n = parsers(path, cmds);
	for (int i = 0; i < n; i++) {
		readtrace(cmds[i]);
		cr_assert_eq(tr.status, 0, "%s: %s", cmds[i], tr.err);
		cr_assert_eq(tr.creates, created, "%s", cmds[i]);
		/* goroutine ids come in batches per P: not all of 1..created are used */
		for (long g = 1; g < MAXGOID; g++) {
			if (!(tr.g[g] & G_CREATED))
				continue;
			cr_assert(tr.g[g] & G_STARTED, "%s: g%ld never started", cmds[i], g);
			if (g == 1)
				cr_assert(!(tr.g[g] & G_ENDED), "%s: main ended", cmds[i]);
			else
				cr_assert(tr.g[g] & (G_ENDED | G_PREEMPTED), "%s: g%ld neither ended nor cut running",
					  cmds[i], g);
		}
		cr_assert_leq(tr.ends, created - 1, "%s", cmds[i]);
		cr_assert_eq(tr.bad, 0, "%s", cmds[i]);
		/* a task created and ended; a region around the spawning and one per short goroutine */
		cr_assert_eq(tr.tasks, 2, "%s", cmds[i]);
		cr_assert_eq(tr.regions, 2 * (1 + 200), "%s", cmds[i]);
		cr_assert_eq(tr.userlogs, 8 + 1, "%s", cmds[i]);
	}
	assert_json_counts(path, created);
	cr_assert(file_has(path, "traced_worker"), "the workers' function, named in a stack");
	cr_assert(file_has(path, "testprog.c"), "its file");
	cr_assert(file_has(path, "no more jobs"), "a log message");
	unlink(path);
}

Test(trace, whole_program_one_proc, .timeout = 120)
{
	trace_whole_program("1");
}

Test(trace, whole_program_two_procs, .timeout = 120)
{
	trace_whole_program("2");
}

/*
 * System calls that sysmon takes the P from, and a goroutine waiting on a
 * pipe: each call a GoSysCall, each P taken a GoSysBlock and the return a
 * GoSysExit, the wait a GoBlockNet; both parsers accept the order.
 */
static void trace_syscalls(const char *procs)
{
	char path[256], env1[300], env2[64];
	snprintf(env1, sizeof env1, "GORT_TRACE=%s", tmppath(path, sizeof path, "sys"));
	snprintf(env2, sizeof env2, "GORT_MAXPROCS=%s", procs);
	const char *e[] = {env1, env2, NULL};
	run_prog(&r, "traced-syscalls", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	const char *c = strstr(r.out, "syscalls ");
	cr_assert(c != NULL, "%s", r.out);
	long calls = strtol(c + 9, NULL, 10);
	char cmds[2][4200];
	int n = parsers(path, cmds);
	for (int i = 0; i < n; i++) {
		readtrace(cmds[i]);
		cr_assert_eq(tr.status, 0, "%s: %s", cmds[i], tr.err);
		cr_assert_eq(tr.syscalls, calls, "%s", cmds[i]);
		/* the 30 ms sleeps outlast sysmon's tick: their Ps are taken */
		cr_assert_geq(tr.sysblocks, 1, "%s", cmds[i]);
		cr_assert_eq(tr.sysexits, tr.sysblocks, "%s", cmds[i]);
		cr_assert_geq(tr.netblocks, 1, "%s", cmds[i]);
	}
	unlink(path);
}

Test(trace, syscalls_and_network_waits_one_proc, .timeout = 120)
{
	trace_syscalls("1");
}

Test(trace, syscalls_and_network_waits_two_procs, .timeout = 120)
{
	trace_syscalls("2");
}

/*
 * Yields from one call site through two callers of the same frame size,
 * and through a frame that sizes itself at run time: each yield's stack,
 * which ends one running slice in the JSON export and starts the next,
 * names its own caller.
 */
Test(trace, stacks_from_one_call_site_are_told_apart, .timeout = 120)
{
	char path[256], json[256], env1[300], cmd[1024];
	snprintf(env1, sizeof env1, "GORT_TRACE=%s", tmppath(path, sizeof path, "stacks"));
	const char *e[] = {env1, "GORT_MAXPROCS=1", NULL};
	run_prog(&r, "traced-stacks", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	const char *c = strstr(r.out, "calls ");
	cr_assert(c != NULL, "%s", r.out);
	long calls = strtol(c + 6, NULL, 10);
	assert_trace_parses(path);
	snprintf(cmd, sizeof cmd, "%s/gort-trace json '%s' '%s'", builddir(), path, tmppath(json, sizeof json, "json"));
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(file_count(json, "\"tstk_yield "), 2 * 3 * calls);
	cr_assert_eq(file_count(json, "\"gort_yield "), 2 * 3 * calls, "gort_yield tops each yield's stack");
	cr_assert_eq(file_count(json, "\"tstk_via_a "), 2 * calls);
	cr_assert_eq(file_count(json, "\"tstk_via_b "), 2 * calls);
	cr_assert_eq(file_count(json, "\"tstk_via_vla "), 2 * calls);
	unlink(json);
	unlink(path);
}

/* -------------------------------------------------- start and stop mid-run */

static _Atomic long stopping;
static _Atomic long running;

static void blip(void *arg)
{
	gort_yield();
}

static void churn(void *arg)
{
	gort_chan *c = arg;
	long v = 0;
	atomic_fetch_add(&running, 1);
	while (!atomic_load(&stopping)) {
		gort_case cs[2] = {{c, GORT_SEND, &v, false}, {c, GORT_RECV, &v, false}};
		gort_select_timeout(cs, 2, 100000);
		if (++v % 100 == 0)
			gort_go(blip, NULL);
	}
	atomic_fetch_sub(&running, 1);
}

static int window(void *arg)
{
	const char **paths = arg;
	gort_maxprocs(2);
	gort_chan *c = gort_chan_make(sizeof(long), 0);
	for (int i = 0; i < 6; i++)
		gort_go(churn, c);
	yield_until(&running, 6);
	for (int i = 0; i < 2; i++) {
		int fd = open(paths[i], O_WRONLY | O_TRUNC);
		cr_assert_geq(fd, 0);
		cr_assert_eq(gort_trace_start(fd), 0, "%s", strerror(errno));
		gort_sleep(30 * 1000000LL);
		cr_assert_eq(gort_trace_stop(), 0, "%s", strerror(errno));
		close(fd);
	}
	atomic_store(&stopping, 1);
	while (atomic_load(&running) > 0)
		gort_sleep(1000000);
	return 0;
}

/* Two windows of a busy program, each cut while goroutines run on every P. */
Test(trace, stopped_midrun_is_complete, .timeout = 120)
{
	char a[256], b[256];
	const char *paths[2] = {tmppath(a, sizeof a, "win1"), tmppath(b, sizeof b, "win2")};
	run_main(window, paths);
	for (int i = 0; i < 2; i++) {
		assert_trace_parses(paths[i]);
		cr_assert_gt(tr.starts, 10, "%s", paths[i]);
		unlink(paths[i]);
	}
}

/*
 * Threads the runtime does not own ready goroutines and create them while
 * traces start and stop: their events go to the global buffer, and the
 * snapshot at each start sees their transitions whole (sched.lock).
 */
static _Atomic int outsiders_stop;
static gort_chan *outsiders_chan;

static void drain(void *arg)
{
	long v;
	while (gort_chan_recv(outsiders_chan, &v))
		;
}

static void *outsider(void *arg)
{
	for (long i = 0; !atomic_load(&outsiders_stop); i++) {
		gort_chan_send(outsiders_chan, &i);
		if (i % 50 == 0)
			gort_go(blip, NULL);
	}
	return NULL;
}

static int outsiders(void *arg)
{
	char(*paths)[256] = arg;
	gort_maxprocs(2);
	outsiders_chan = gort_chan_make(sizeof(long), 0);
	for (int i = 0; i < 4; i++)
		gort_go(drain, NULL);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, outsider, NULL);
	for (int i = 0; i < 4; i++) {
		int fd = open(paths[i], O_WRONLY | O_TRUNC);
		cr_assert_eq(gort_trace_start(fd), 0, "%s", strerror(errno));
		gort_sleep(20 * 1000000LL);
		cr_assert_eq(gort_trace_stop(), 0, "%s", strerror(errno));
		close(fd);
	}
	atomic_store(&outsiders_stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}

Test(trace, threads_outside_the_runtime, .timeout = 120)
{
	char paths[4][256];
	for (int i = 0; i < 4; i++)
		tmppath(paths[i], sizeof paths[i], "outside");
	run_main(outsiders, paths);
	long outside = 0;
	for (int i = 0; i < 4; i++) {
		assert_trace_parses(paths[i]);
		outside += tr.outside;
		unlink(paths[i]);
	}
	cr_assert_gt(outside, 0, "no event of a thread without a P");
}

/* ------------------------------------------------- the ends of a program */

static void trace_of_a_death(const char *scenario, const char *end, int status, const char *msg)
{
	char path[256], env1[300], env2[64];
	snprintf(env1, sizeof env1, "GORT_TRACE=%s", tmppath(path, sizeof path, "death"));
	snprintf(env2, sizeof env2, "TRACED_END=%s", end);
	const char *e[] = {env1, env2, "GORT_MAXPROCS=2", NULL};
	run_prog(&r, scenario, e);
	cr_assert_eq(r.status, status, "%s", r.out);
	if (msg != NULL)
		assert_output_has(&r, msg);
	assert_trace_parses(path);
	cr_assert_gt(tr.starts, 0);
	unlink(path);
}

Test(trace, panic_leaves_a_complete_trace, .timeout = 120)
{
	trace_of_a_death("traced", "panic", 2, "panic: traced program panics");
}

Test(trace, exit_leaves_a_complete_trace, .timeout = 120)
{
	trace_of_a_death("traced", "exit", 3, NULL);
}

/* ThreadSanitizer's own thread keeps deadlocks from being reported (README, Limitations). */
Test(trace, fatal_error_leaves_a_complete_trace, .timeout = 120, .disabled = UNDER_TSAN)
{
	trace_of_a_death("chan-deadlock", "", 2, "fatal error: all goroutines are asleep - deadlock!");
}

/* ------------------------------------------------------------ misuse */

static void *outside(void *arg)
{
	int *fd = arg;
	*fd = gort_trace_start(*fd) == 0 ? 0 : errno;
	return NULL;
}

static int misuse(void *arg)
{
	char path[256];
	int fd = open(tmppath(path, sizeof path, "misuse"), O_WRONLY);
	cr_assert_eq(gort_trace_stop(), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(gort_trace_start(-1), -1);
	cr_assert_eq(errno, EBADF);
	pthread_t t;
	int res = fd;
	pthread_create(&t, NULL, outside, &res);
	pthread_join(t, NULL);
	cr_assert_eq(res, EPERM, "from a thread that is not a goroutine");
	cr_assert_eq(gort_trace_start(fd), 0);
	cr_assert_eq(gort_trace_start(fd), -1);
	cr_assert_eq(errno, EBUSY);
	gort_trace_log(NULL, "no category");
	uint64_t t1 = gort_trace_task_start(0, "a"), t2 = gort_trace_task_start(t1, "b");
	cr_assert(t1 != 0 && t2 != t1);
	cr_assert_eq(gort_trace_stop(), 0);
	cr_assert_eq(gort_trace_stop(), -1);
	cr_assert_eq(errno, EINVAL);
	close(fd);
	assert_trace_parses(path);
	unlink(path);
	return 0;
}

Test(trace, misuse_fails_with_errno, .timeout = 60)
{
	run_main(misuse, NULL);
}

Test(trace, nil_log_message_is_fatal, .timeout = 30)
{
	run_prog(&r, "trace-log-nil", NULL);
	cr_assert_eq(r.status, 2, "%s", r.out);
	assert_output_has(&r, "fatal error: gort_trace_log: nil message");
}
