/*
 * The scheduler, through the public API and the internal park/ready API:
 * every goroutine runs exactly once, goroutines run in parallel, work is
 * stolen, stacks survive switches and migrations, wired goroutines stay on
 * their thread, GORT_MAXPROCS changes while running, and running out of
 * memory is an error, not a crash.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "runtime.h"
#include "testutil.h"

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---------------------------------------------------------------- basics */

static int main_basics(void *arg)
{
	cr_assert_eq(gort_goid(), 1, "main runs as goroutine 1");
	cr_assert_eq(gort_num_goroutine(), 1);
	cr_assert_gt(gort_maxprocs(0), 0);
	return 42;
}

Test(proc, main_returns_its_result, .timeout = 30)
{
	cr_assert_eq(gort_goid(), 0, "no goroutine outside gort_main");
	cr_assert_eq(gort_main(main_basics, NULL), 42);
	cr_assert_eq(gort_goid(), 0);
}

static _Atomic long counter;
static struct testwg wg;

static void count(void *arg)
{
	atomic_fetch_add(&counter, (long)arg);
	testwg_done(&wg);
}

static int main_many(void *arg)
{
	long n = scaled(100000, 10000);
	testwg_add(&wg, n);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(count, (void *)1), 0);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&counter), n);
	/* the last ones may still be on their way out after testwg_done */
	while (gort_num_goroutine() > 1)
		gort_yield();
	cr_assert_eq(gort_num_goroutine(), 1, "only main is left");
	return 0;
}

Test(proc, goroutines_all_run, .timeout = 60) { run_main(main_many, NULL); }

/* ----------------------------------------------------------- skynet tree */

struct node {
	long index, size;
	_Atomic int pending;
	struct node *parent;
};

static _Atomic unsigned char *ran;
static _Atomic long treedone;

static void nodedone(struct node *n)
{
	while (n->parent != NULL) {
		struct node *p = n->parent;
		free(n);
		if (atomic_fetch_sub(&p->pending, 1) != 1)
			return;
		n = p;
	}
	free(n);
	atomic_store(&treedone, 1);
}

/* Goroutine index i has children 10i+1..10i+10, down to size 1. */
static void tree(void *arg)
{
	struct node *n = arg;
	atomic_fetch_add(&ran[n->index], 1);
	if (n->size == 1) {
		nodedone(n);
		return;
	}
	atomic_store(&n->pending, 10);
	for (int i = 0; i < 10; i++) {
		struct node *c = calloc(1, sizeof *c);
		c->index = n->index * 10 + i + 1;
		c->size = n->size / 10;
		c->parent = n;
		cr_assert_eq(gort_go(tree, c), 0);
	}
}

static int main_tree(void *arg)
{
	long leaves = *(long *)arg, total = 0;
	for (long s = leaves; s >= 1; s /= 10)
		total += leaves / s;
	ran = calloc((size_t)total, 1);
	struct node *root = calloc(1, sizeof *root);
	root->size = leaves;
	gort_go(tree, root);
	yield_until(&treedone, 1);
	for (long i = 0; i < total; i++)
		cr_assert_eq(ran[i], 1, "goroutine %ld ran %d times", i, ran[i]);
	return 0;
}

Test(proc, skynet_million_each_runs_once, .timeout = 120)
{
	long leaves = scaled(1000000, 10000);
	run_main(main_tree, &leaves);
}

Test(proc, skynet_randomized_schedule, .timeout = 120)
{
	setenv("GORT_DEBUG", "sched_random=1", 1);
	long leaves = scaled(100000, 10000);
	run_main(main_tree, &leaves);
}

/* ------------------------------------------------------------ parallelism */

/*
 * Go's TestGoroutineParallelism: P goroutines take turns on a shared
 * counter by spinning, never yielding, so they finish only if they truly
 * run at the same time.
 */
static _Atomic long turn;
static long nprocs;

static void spinner(void *arg)
{
	long p = (long)arg;
	for (long i = 0; i < 1000; i++) {
		long want = nprocs * i + p;
		while (atomic_load(&turn) != want)
			;
		atomic_store(&turn, want + 1);
	}
	testwg_done(&wg);
}

static void parallel(long p)
{
	nprocs = p;
	atomic_store(&turn, 0);
	testwg_add(&wg, p);
	for (long i = 0; i < p; i++)
		gort_go(spinner, (void *)i);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&turn), 1000 * p);
}

static int main_parallel(void *arg)
{
	cr_assert_eq(gort_maxprocs(0), 2);
	for (int try = 0; try < 20; try++)
		parallel(2);
	return 0;
}

Test(proc, goroutines_run_in_parallel, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_parallel, NULL);
}

/* --------------------------------------------------------------- stealing */

static _Atomic int onp[MAX_GOMAXPROCS];
static _Atomic int ownerp, stolen;

/*
 * On the creator's P a goroutine spins, without yielding, until one has
 * run elsewhere: the test ends only if another P steals from the queue it
 * sits in front of, however the OS schedules the threads.
 */
static void busy(void *arg)
{
	int id = getg()->m->p->id;
	if (id != atomic_load(&ownerp))
		atomic_store(&stolen, 1);
	while (!atomic_load(&stolen))
		;
	atomic_fetch_add(&onp[id], 1);
	testwg_done(&wg);
}

static int main_steal(void *arg)
{
	/* all on this P's queue, none yielding: only stealing spreads them */
	atomic_store(&ownerp, getg()->m->p->id);
	testwg_add(&wg, 64);
	for (int i = 0; i < 64; i++)
		gort_go(busy, NULL);
	testwg_wait(&wg);
	cr_assert_gt(atomic_load(&onp[1 - atomic_load(&ownerp)]), 0, "no P stole");
	cr_assert_eq(atomic_load(&onp[0]) + atomic_load(&onp[1]), 64);
	gort_stats st;
	gort_read_stats(&st);
	cr_assert_gt(st.steals, 0, "the stats count the steals");
	return 0;
}

Test(proc, work_is_stolen, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_steal, NULL);
}

/* -------------------------------------------- stacks across switches (seed 000) */

/*
 * Each goroutine keeps a pattern of its own in its stack and checks it
 * after every switch, while others are created and exit around it and the
 * randomized scheduler delays g0 right after each goroutine is published.
 */
static _Atomic long churn;

static void shortlived(void *arg)
{
	volatile long x[32];
	for (int i = 0; i < 32; i++)
		x[i] = i;
	atomic_fetch_add(&churn, x[31] - 30);
}

static void keeper(void *arg)
{
	long id = (long)arg;
	volatile uint64_t pat[512];
	for (int i = 0; i < 512; i++)
		pat[i] = (uint64_t)id * 0x9E3779B97F4A7C15ULL + (uint64_t)i;
	for (int round = 0; round < 200; round++) {
		if (round % 8 == 0)
			gort_go(shortlived, NULL);
		gort_yield();
		for (int i = 0; i < 512; i++)
			cr_assert_eq(pat[i], (uint64_t)id * 0x9E3779B97F4A7C15ULL + (uint64_t)i,
				     "goroutine %ld: stack word %d changed in round %d", id, i, round);
	}
	testwg_done(&wg);
}

static int main_keepers(void *arg)
{
	long n = scaled(2000, 200);
	testwg_add(&wg, n);
	for (long i = 0; i < n; i++)
		gort_go(keeper, (void *)i);
	testwg_wait(&wg);
	return 0;
}

Test(proc, stacks_survive_switches, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_keepers, NULL);
}

/*
 * The seed-000 path itself: a baton passes around a ring of goroutines by
 * readyexecute, whose g0 side publishes the caller and then must not look
 * at its stack again.  Each checks its stack pattern after every turn.
 */
enum { RING = 64 };
static struct g *ringg[RING];
static _Atomic int ringparked[RING];
static _Atomic long passes;
static long rounds;

static bool ringunlock(struct g *gp, void *arg)
{
	atomic_store(&ringparked[(long)arg], 1);
	return true;
}

static void ringmember(void *arg)
{
	long id = (long)arg;
	volatile uint64_t pat[256];
	ringg[id] = getg();
	for (int i = 0; i < 256; i++)
		pat[i] = (uint64_t)id << 32 | (uint64_t)i;
	if (id != 0)
		gopark(ringunlock, (void *)id, waitReasonZero);
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < 256; i++)
			cr_assert_eq(pat[i], (uint64_t)id << 32 | (uint64_t)i, "ring %ld: word %d", id, i);
		bool last = r == rounds - 1;
		if (!(last && id == RING - 1)) { /* member 0 is gone by then */
			long next = (id + 1) % RING;
			while (!atomic_load(&ringparked[next]))
				gort_yield();
			atomic_store(&ringparked[next], 0);
			atomic_fetch_add(&passes, 1);
			readyexecute(ringg[next]);
		}
		if (!last)
			gopark(ringunlock, (void *)id, waitReasonZero);
	}
	testwg_done(&wg);
}

static int main_ring(void *arg)
{
	rounds = scaled(300, 50);
	testwg_add(&wg, RING);
	for (long i = RING - 1; i >= 0; i--)
		gort_go(ringmember, (void *)i);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&passes), rounds * RING - 1);
	return 0;
}

Test(proc, readyexecute_handoff_ring, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_ring, NULL);
}

/* -------------------------------------------------- migration (invariant 5) */

static _Atomic long migrations;

static void migrant(void *arg)
{
	struct g *me = getg();
	pid_t last = tid();
	for (int i = 0; i < 2000; i++) {
		gort_yield();
		cr_assert_eq(getg(), me, "current g changed");
		cr_assert_eq(me->m->curg, me, "the M does not run us");
		cr_assert_eq(me->m->procid, tid(), "the M's thread is not ours");
		cr_assert_eq(me->m->p->m, me->m, "our P is not our M's");
		if (tid() != last) {
			atomic_fetch_add(&migrations, 1);
			last = tid();
		}
	}
	testwg_done(&wg);
}

static int main_migrate(void *arg)
{
	testwg_add(&wg, 8);
	for (int i = 0; i < 8; i++)
		gort_go(migrant, NULL);
	testwg_wait(&wg);
	cr_assert_gt(atomic_load(&migrations), 0, "no goroutine ever moved between threads");
	return 0;
}

Test(proc, runtime_view_right_after_migration, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_migrate, NULL);
}

/* ------------------------------------------------------- lock_os_thread */

static _Atomic pid_t lockedtid;
static _Atomic long intruders;
static struct testgate gate;

static void visitor(void *arg)
{
	for (int i = 0; i < 200; i++) {
		if (tid() == atomic_load(&lockedtid))
			atomic_fetch_add(&intruders, 1);
		gort_yield();
	}
	testwg_done(&wg);
}

static void wired(void *arg)
{
	gort_lock_os_thread();
	gort_lock_os_thread();
	gort_unlock_os_thread(); /* still wired: calls nest */
	atomic_store(&lockedtid, tid());
	for (int i = 0; i < 500; i++) {
		gort_yield();
		cr_assert_eq(tid(), atomic_load(&lockedtid), "wired goroutine moved threads");
	}
	testgate_wait(&gate); /* parked and readied by another goroutine */
	cr_assert_eq(tid(), atomic_load(&lockedtid));
	gort_unlock_os_thread();
	atomic_store(&lockedtid, 0);
	testwg_done(&wg);
}

static void opener(void *arg)
{
	while (testgate_parked(&gate) == 0)
		gort_yield();
	testgate_open(&gate);
}

static int main_wired(void *arg)
{
	testwg_add(&wg, 9);
	gort_go(wired, NULL);
	for (int i = 0; i < 8; i++)
		gort_go(visitor, NULL);
	gort_go(opener, NULL);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&intruders), 0, "other goroutines ran on the wired thread");
	return 0;
}

Test(proc, lock_os_thread_keeps_the_thread, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_wired, NULL);
}

Test(proc, lock_os_thread_one_p, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_wired, NULL);
}

static void wiredexit(void *arg)
{
	gort_lock_os_thread();
	atomic_store(&lockedtid, tid());
	testwg_done(&wg);
}

static int main_wiredexit(void *arg)
{
	testwg_add(&wg, 1);
	gort_go(wiredexit, NULL);
	testwg_wait(&wg);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d", (int)atomic_load(&lockedtid));
	int64_t deadline = nanotime() + 5000000000LL;
	while (access(path, F_OK) == 0 && nanotime() < deadline)
		gort_yield();
	cr_assert_neq(access(path, F_OK), 0, "the thread of a goroutine that exited wired is still alive");
	/* the runtime goes on without it */
	parallel(2);
	return 0;
}

Test(proc, exiting_wired_takes_its_thread, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_wiredexit, NULL);
}

/* ---------------------------------------------------------------- maxprocs */

static _Atomic int running, maxrunning;

static void measured(void *arg)
{
	int now = atomic_fetch_add(&running, 1) + 1;
	int old = atomic_load(&maxrunning);
	while (now > old && !atomic_compare_exchange_weak(&maxrunning, &old, now))
		;
	int64_t end = nanotime() + 1000000;
	while (nanotime() < end)
		;
	atomic_fetch_sub(&running, 1);
	testwg_done(&wg);
}

static int concurrency(void)
{
	atomic_store(&maxrunning, 0);
	testwg_add(&wg, 16);
	for (int i = 0; i < 16; i++)
		gort_go(measured, NULL);
	testwg_wait(&wg);
	return atomic_load(&maxrunning);
}

static int main_maxprocs(void *arg)
{
	cr_assert_eq(gort_maxprocs(0), 4, "GORT_MAXPROCS sets the default");
	cr_assert_eq(gort_maxprocs(1), 4);
	cr_assert_eq(gort_maxprocs(0), 1);
	cr_assert_eq(concurrency(), 1, "two goroutines ran at once with one P");
	cr_assert_eq(gort_maxprocs(2), 1);
	parallel(2);
	/* shrink while Ps have queued work: none of it may be lost */
	gort_maxprocs(4);
	atomic_store(&counter, 0);
	testwg_add(&wg, 4000);
	for (int i = 0; i < 4000; i++) {
		gort_go(count, (void *)1);
		if (i == 2000)
			cr_assert_eq(gort_maxprocs(1), 4);
	}
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&counter), 4000);
	cr_assert_eq(gort_maxprocs(2), 1);
	return 0;
}

Test(proc, maxprocs_changes_while_running, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_maxprocs, NULL);
}

/* ------------------------------------------------------------ plain threads */

static void *plain(void *arg)
{
	cr_assert_eq(gort_goid(), 0);
	gort_yield(); /* yields the thread */
	cr_assert_eq(gort_go(count, (void *)5), 0);
	return NULL;
}

static int main_plain(void *arg)
{
	atomic_store(&counter, 0);
	testwg_add(&wg, 1);
	pthread_t t;
	pthread_create(&t, NULL, plain, NULL);
	testwg_wait(&wg);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&counter), 5);
	return 0;
}

Test(proc, go_from_a_plain_thread, .timeout = 30) { run_main(main_plain, NULL); }

/* ------------------------------------------------------------------ goexit */

static _Atomic int afterexit;

static void exiter(void *arg)
{
	testwg_done(&wg);
	gort_goexit();
	atomic_store(&afterexit, 1);
}

static int main_goexit(void *arg)
{
	testwg_add(&wg, 100);
	for (int i = 0; i < 100; i++)
		gort_go(exiter, NULL);
	testwg_wait(&wg);
	while (gort_num_goroutine() > 1)
		gort_yield();
	cr_assert_eq(atomic_load(&afterexit), 0);
	return 0;
}

Test(proc, goexit_ends_the_goroutine, .timeout = 30) { run_main(main_goexit, NULL); }

/*
 * gort_go may preempt a caller that creates goroutines for a whole time
 * slice, but it resumes it on the same thread: a caller that reads errno
 * after gort_go (with errno's address computed before, as compilers do)
 * must read the errno of the thread that set it.
 */
static _Atomic long spawned;

static void noop(void *arg)
{
	atomic_fetch_add(&spawned, 1);
}

static int main_samethread(void *arg)
{
	pid_t t0 = tid();
	long n = 0;
	/* long enough for several time slices, so the preemption happens */
	long max = scaled(100000000, SANITIZER_MAX_LIVE);
	for (int64_t end = nanotime() + 60000000; nanotime() < end && n < max; n++) {
		cr_assert_eq(gort_go(noop, NULL), 0);
		cr_assert_eq(tid(), t0, "gort_go moved its caller to another thread");
	}
	yield_until(&spawned, n);
	return 0;
}

Test(proc, gort_go_keeps_its_caller_on_its_thread, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_samethread, NULL);
}

/* With one P, the goroutines a creator makes run only if it is preempted. */
static _Atomic bool creating;
static _Atomic long randuring;

static void during(void *arg)
{
	atomic_fetch_add(&randuring, atomic_load(&creating));
}

static int main_preempted(void *arg)
{
	atomic_store(&creating, true);
	/* a slice is 10 ms; sanitizers make each gort_go much slower */
	int64_t end = nanotime() + 5000000000LL;
	while (atomic_load(&randuring) == 0 && nanotime() < end)
		cr_assert_eq(gort_go(during, NULL), 0);
	atomic_store(&creating, false);
	cr_assert_gt(atomic_load(&randuring), 0, "a creator running for 5 s was never preempted");
	return 0;
}

Test(proc, creator_preempted_after_a_time_slice, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_preempted, NULL);
}

/*
 * A goroutine that yields while it waits for a creator must not keep the
 * preempted creator from running (it would wait for ever, with one P).
 */
static _Atomic bool created;

static void yieldwaiter(void *arg)
{
	while (!atomic_load(&created))
		gort_yield();
	atomic_fetch_add(&randuring, 1);
}

static int main_yield_behind_creator(void *arg)
{
	cr_assert_eq(gort_go(yieldwaiter, NULL), 0);
	int64_t end = nanotime() + 50000000LL; /* several time slices */
	while (nanotime() < end)
		cr_assert_eq(gort_go(noop, NULL), 0);
	atomic_store(&created, true);
	while (atomic_load(&randuring) == 0)
		gort_yield();
	return 0;
}

Test(proc, yielder_does_not_starve_a_preempted_creator, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_yield_behind_creator, NULL);
}

/* ------------------------------------------------------- a million parked */

static struct testgate millgate;
static _Atomic long millexited;

static void parker(void *arg)
{
	testgate_wait(&millgate);
	atomic_fetch_add(&millexited, 1);
}

static int main_million(void *arg)
{
	long n = scaled(1000000, SANITIZER_MAX_LIVE);
	for (long i = 0; i < n; i++)
		cr_assert_eq(go_errno(NULL, parker, NULL), 0, "gort_go failed at %ld", i);
	while (testgate_parked(&millgate) < n)
		gort_yield();
	cr_assert_eq(gort_num_goroutine(), n + 1);
	testgate_open(&millgate);
	yield_until(&millexited, n);
	while (gort_num_goroutine() > 1)
		gort_yield();
	return 0;
}

Test(proc, million_parked_goroutines, .timeout = 300) { run_main(main_million, NULL); }

Test(proc, million_parked_goroutines_mprotect_fallback, .timeout = 300)
{
	setenv("GORT_DEBUG", "stackguard=mprotect", 1);
	run_main(main_million, NULL);
}

/* ------------------------------------------------------------------ ENOMEM */

static struct testgate memgate;
static _Atomic long memexited;

static void holder(void *arg)
{
	volatile char touch[8192];
	touch[0] = 1;
	testgate_wait(&memgate);
	atomic_fetch_add(&memexited, touch[0]);
}

static int main_enomem(void *arg)
{
	parallel(2); /* both Ms exist before memory runs out */
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0;
	cr_assert_eq(fscanf(f, "%ld", &pages), 1);
	fclose(f);
	struct rlimit rl = {.rlim_cur = (rlim_t)pages * 4096 + (512L << 20), .rlim_max = RLIM_INFINITY};
	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);

	long n = 0;
	int err;
	while ((err = go_errno(NULL, holder, NULL)) == 0) {
		n++;
		cr_assert_lt(n, 10000000, "never ran out of memory");
	}
	cr_assert_eq(err, ENOMEM, "gort_go failed with %s", strerror(err));
	cr_assert_gt(n, 100);
	while (testgate_parked(&memgate) < n)
		gort_yield();
	testgate_open(&memgate);
	yield_until(&memexited, n);
	/* the stacks came back: creating goroutines works again */
	atomic_store(&counter, 0);
	testwg_add(&wg, 1000);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(go_errno(NULL, count, (void *)1), 0, "gort_go after recovery");
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&counter), 1000);
	return 0;
}

Test(proc, enomem_when_stacks_cannot_be_had, .timeout = 120, .disabled = UNDER_SANITIZER)
{
	if (under_valgrind())
		cr_skip_test("Valgrind cannot run under a low RLIMIT_AS");
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_enomem, NULL);
}
