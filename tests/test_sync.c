/*
 * sync: Mutex, RWMutex, Once, WaitGroup and Cond, zero values ready to use
 * as in Go.  Ported from what Go's sync tests check: HammerMutex and
 * TestMutexFairness, TestParallelReaders and HammerRWMutex with writer
 * preference, TestOnce and TestOncePanic, testWaitGroup, TestWaitGroupRace
 * and TestWaitGroupMisuse ("sync: negative WaitGroup counter", a
 * recoverable panic), TestCondSignal, TestCondSignalGenerations,
 * TestCondBroadcast and TestRace.  Under contention the tests count:
 * counters guarded by a lock come out exact.  Unlocking an unlocked mutex
 * is a fatal error, tested in test_crash.c.
 *
 * Goroutines are joined with testwg and wait with yield loops, so that
 * these tests need neither channels nor timers (but for TestMutexFairness,
 * which sleeps holding the lock, as Go's does).
 */
#include <stdatomic.h>

#include "runtime.h"
#include "testutil.h"

#define MS 1000000LL

/* ------------------------------------------------------------ helpers */

struct trial {
	void (*fn)(void *);
	void *arg;
	bool panicked;
	char msg[128];
};

static void trial_recover(void *arg)
{
	struct trial *t = arg;
	gort_panic_info pi;
	if (gort_recover(&pi)) {
		t->panicked = true;
		snprintf(t->msg, sizeof t->msg, "%s", pi.msg != NULL ? pi.msg : "(nil)");
	}
}

static void trial_frame(void *arg)
{
	struct trial *t = arg;
	gort_defer(trial_recover, t);
	t->fn(t->arg);
}

/* Runs fn(arg); returns the message it panicked with, or NULL if it returned. */
static const char *trial(struct trial *t, void (*fn)(void *), void *arg)
{
	*t = (struct trial){.fn = fn, .arg = arg};
	int r = gort_call(trial_frame, t);
	cr_assert_eq(r, t->panicked ? 1 : 0, "gort_call returned %d", r);
	return t->panicked ? t->msg : NULL;
}

#define assert_panics(fn, arg, want)                                                \
	do {                                                                        \
		struct trial t_;                                                    \
		const char *m_ = trial(&t_, (fn), (arg));                           \
		cr_assert(m_ != NULL, "%s did not panic", #fn);                     \
		cr_assert_str_eq(m_, (want), "%s panicked with \"%s\"", #fn, m_); \
	} while (0)

/* Yields until *v reaches want; fails after 20 s. */
static void await(_Atomic long *v, long want, const char *what)
{
	int64_t end = nanotime() + 20000 * MS;
	while (atomic_load(v) < want) {
		cr_assert_lt(nanotime(), end, "waited 20 s for %s (%ld of %ld)", what, atomic_load(v), want);
		gort_yield();
	}
}

/* Yields for about ns, letting whatever can run, run. */
static void linger(int64_t ns)
{
	int64_t end = nanotime() + ns;
	while (nanotime() < end)
		gort_yield();
}

/* ------------------------------------------------------------ Mutex */

static gort_mutex mu; /* a zero value, ready to use */
static struct testwg wg;

static void try_fails(void *arg)
{
	cr_assert(!gort_mutex_trylock(&mu), "trylock of a mutex another goroutine holds");
	testwg_done(&wg);
}

static int main_mutex_basics(void *arg)
{
	cr_assert(gort_mutex_trylock(&mu), "trylock of a zero mutex");
	cr_assert(!gort_mutex_trylock(&mu));
	gort_mutex_unlock(&mu);
	gort_mutex_lock(&mu);
	testwg_add(&wg, 1);
	cr_assert_eq(gort_go(try_fails, NULL), 0);
	testwg_wait(&wg);
	gort_mutex_unlock(&mu);
	cr_assert(gort_mutex_trylock(&mu));
	gort_mutex_unlock(&mu);

	gort_mutex local;
	memset(&local, 0, sizeof local);
	gort_mutex_lock(&local);
	cr_assert(!gort_mutex_trylock(&local));
	gort_mutex_unlock(&local);
	return 0;
}

Test(sync, mutex_basics, .timeout = 30) { run_main(main_mutex_basics, NULL); }

/*
 * Go's HammerMutex: goroutines lock and unlock, every third time trying
 * instead; a plain counter under the lock comes out exact.
 */
static struct {
	long iters, counter, tried;
	_Atomic long attempts;
} hm;

static void hammer_mutex(void *arg)
{
	for (long i = 0; i < hm.iters; i++) {
		if (i % 3 == 0) {
			atomic_fetch_add(&hm.attempts, 1);
			if (gort_mutex_trylock(&mu)) {
				hm.tried++;
				gort_mutex_unlock(&mu);
			}
			continue;
		}
		gort_mutex_lock(&mu);
		long c = hm.counter;
		if (i % 7 == 0)
			gort_yield(); /* hold it across a switch now and then */
		hm.counter = c + 1;
		gort_mutex_unlock(&mu);
	}
	testwg_done(&wg);
}

static int main_hammer_mutex(void *arg)
{
	const long gs = 10;
	hm.iters = scaled(30000, 3000);
	testwg_add(&wg, gs);
	for (long i = 0; i < gs; i++)
		cr_assert_eq(gort_go(hammer_mutex, NULL), 0);
	testwg_wait(&wg);
	long locks = gs * (hm.iters - (hm.iters + 2) / 3);
	cr_assert_eq(hm.counter, locks, "counter %ld, expected %ld", hm.counter, locks);
	cr_assert_leq(hm.tried, atomic_load(&hm.attempts));
	cr_assert(gort_mutex_trylock(&mu), "the mutex was left locked");
	gort_mutex_unlock(&mu);
	return 0;
}

Test(sync, go_hammer_mutex_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_hammer_mutex, NULL);
}

Test(sync, go_hammer_mutex_two_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_hammer_mutex, NULL);
}

Test(sync, go_hammer_mutex_four_procs_randomized, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_hammer_mutex, NULL);
}

/*
 * A goroutine waiting for a mutex parks: with one processor, another
 * goroutine still runs while the holder waits for it.
 */
static _Atomic long progress, holding;

static void holder(void *arg)
{
	gort_mutex_lock(&mu);
	atomic_store(&holding, 1);
	await(&progress, 100, "the other goroutine to run while one waits for the mutex");
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static void waiter(void *arg)
{
	await(&holding, 1, "the holder");
	gort_mutex_lock(&mu);
	cr_assert_geq(atomic_load(&progress), 100, "acquired a held mutex");
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static void progresser(void *arg)
{
	await(&holding, 1, "the holder");
	for (int i = 0; i < 100; i++) {
		atomic_fetch_add(&progress, 1);
		gort_yield();
	}
	testwg_done(&wg);
}

static int main_mutex_parks(void *arg)
{
	testwg_add(&wg, 3);
	cr_assert_eq(gort_go(holder, NULL), 0);
	cr_assert_eq(gort_go(waiter, NULL), 0);
	cr_assert_eq(gort_go(progresser, NULL), 0);
	testwg_wait(&wg);
	return 0;
}

Test(sync, mutex_waiter_leaves_the_processor, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_mutex_parks, NULL);
}

/* A mutex locked by one goroutine may be unlocked by another, as in Go. */
static void unlocker(void *arg)
{
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static int main_unlock_elsewhere(void *arg)
{
	gort_mutex_lock(&mu);
	testwg_add(&wg, 1);
	cr_assert_eq(gort_go(unlocker, NULL), 0);
	testwg_wait(&wg);
	cr_assert(gort_mutex_trylock(&mu));
	gort_mutex_unlock(&mu);
	return 0;
}

Test(sync, mutex_unlocked_by_another_goroutine, .timeout = 30) { run_main(main_unlock_elsewhere, NULL); }

/*
 * Go's TestMutexFairness: one goroutine keeps the mutex most of the time,
 * sleeping while it holds it; another must still get it ten times within
 * seconds (starvation mode hands the lock over).
 */
static _Atomic long fair_stop, fair_got;

static void fair_hog(void *arg)
{
	while (!atomic_load(&fair_stop)) {
		gort_mutex_lock(&mu);
		gort_sleep(100000);
		gort_mutex_unlock(&mu);
	}
	testwg_done(&wg);
}

static void fair_other(void *arg)
{
	for (int i = 0; i < 10; i++) {
		gort_sleep(100000);
		gort_mutex_lock(&mu);
		gort_mutex_unlock(&mu);
		atomic_fetch_add(&fair_got, 1);
	}
	testwg_done(&wg);
}

static int main_mutex_fairness(void *arg)
{
	testwg_add(&wg, 2);
	cr_assert_eq(gort_go(fair_hog, NULL), 0);
	cr_assert_eq(gort_go(fair_other, NULL), 0);
	int64_t end = gort_now() + 10000 * MS;
	while (atomic_load(&fair_got) < 10 && gort_now() < end)
		gort_sleep(MS);
	atomic_store(&fair_stop, 1);
	cr_assert_eq(atomic_load(&fair_got), 10, "can't acquire Mutex in 10 seconds (%ld of 10 times)",
		     atomic_load(&fair_got));
	testwg_wait(&wg);
	return 0;
}

Test(sync, go_mutex_fairness, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_mutex_fairness, NULL);
}

/* ------------------------------------------------------------ RWMutex */

static gort_rwmutex rw;

/* Go's TestParallelReaders: n readers hold the read lock at once. */
static _Atomic long readers_in, readers_go;

static void parallel_reader(void *arg)
{
	gort_rwmutex_rlock(&rw);
	atomic_fetch_add(&readers_in, 1);
	await(&readers_go, 1, "the go-ahead");
	gort_rwmutex_runlock(&rw);
	testwg_done(&wg);
}

static int main_parallel_readers(void *arg)
{
	long n = *(long *)arg;
	testwg_add(&wg, n);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(parallel_reader, NULL), 0);
	await(&readers_in, n, "every reader inside the read lock");
	atomic_store(&readers_go, 1);
	testwg_wait(&wg);
	gort_rwmutex_lock(&rw); /* all gone: a writer gets in */
	gort_rwmutex_unlock(&rw);
	return 0;
}

Test(sync, go_parallel_readers, .timeout = 30)
{
	static long n = 4;
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_parallel_readers, &n);
}

Test(sync, go_parallel_readers_one_proc, .timeout = 30)
{
	static long n = 10;
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_parallel_readers, &n);
}

/*
 * Go's HammerRWMutex: writers add 10000 to an activity count and readers 1,
 * each checking the count it sees: a writer sees only itself, a reader
 * never a writer.  A pair of plain variables written together under the
 * write lock is always seen equal under the read lock.
 */
static struct {
	_Atomic long activity;
	long a, b, iters;
	_Atomic long reads, writes;
} hr;

static void hammer_writer(void *arg)
{
	for (long i = 0; i < hr.iters; i++) {
		gort_rwmutex_lock(&rw);
		long n = atomic_fetch_add(&hr.activity, 10000) + 10000;
		cr_assert_eq(n, 10000, "wlock(%ld)", n);
		hr.a++;
		for (int k = 0; k < 100; k++)
			;
		if (i % 5 == 0)
			gort_yield();
		hr.b++;
		atomic_fetch_sub(&hr.activity, 10000);
		atomic_fetch_add(&hr.writes, 1);
		gort_rwmutex_unlock(&rw);
	}
	testwg_done(&wg);
}

static void hammer_reader(void *arg)
{
	for (long i = 0; i < hr.iters; i++) {
		gort_rwmutex_rlock(&rw);
		long n = atomic_fetch_add(&hr.activity, 1) + 1;
		cr_assert(n >= 1 && n < 10000, "rlock(%ld)", n);
		cr_assert_eq(hr.a, hr.b, "a reader saw a write half done");
		if (i % 5 == 0)
			gort_yield();
		atomic_fetch_sub(&hr.activity, 1);
		atomic_fetch_add(&hr.reads, 1);
		gort_rwmutex_runlock(&rw);
	}
	testwg_done(&wg);
}

static int main_hammer_rwmutex(void *arg)
{
	static const long readers[] = {1, 3, 10};
	hr.iters = scaled(5000, 500);
	for (int k = 0; k < 3; k++) {
		atomic_store(&hr.reads, 0);
		atomic_store(&hr.writes, 0);
		hr.a = hr.b = 0;
		testwg_add(&wg, 2 + readers[k]);
		cr_assert_eq(gort_go(hammer_writer, NULL), 0);
		for (long i = 0; i < readers[k] / 2; i++)
			cr_assert_eq(gort_go(hammer_reader, NULL), 0);
		cr_assert_eq(gort_go(hammer_writer, NULL), 0);
		for (long i = readers[k] / 2; i < readers[k]; i++)
			cr_assert_eq(gort_go(hammer_reader, NULL), 0);
		testwg_wait(&wg);
		cr_assert_eq(atomic_load(&hr.writes), 2 * hr.iters);
		cr_assert_eq(atomic_load(&hr.reads), readers[k] * hr.iters);
		cr_assert_eq(hr.a, 2 * hr.iters);
		cr_assert_eq(atomic_load(&hr.activity), 0);
	}
	return 0;
}

Test(sync, go_hammer_rwmutex_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_hammer_rwmutex, NULL);
}

Test(sync, go_hammer_rwmutex_two_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_hammer_rwmutex, NULL);
}

Test(sync, go_hammer_rwmutex_four_procs_randomized, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_hammer_rwmutex, NULL);
}

/*
 * A writer waiting for readers holds new readers back (Go: "If any
 * goroutine calls Lock while the lock is already held by one or more
 * readers, concurrent calls to RLock will block until the writer has
 * acquired (and released) the lock"), so writers cannot starve.
 */
static _Atomic long step, writer_done_at, late_reader_at;

static void pref_writer(void *arg)
{
	atomic_store(&step, 1);
	gort_rwmutex_lock(&rw);
	atomic_store(&writer_done_at, atomic_fetch_add(&step, 1));
	gort_rwmutex_unlock(&rw);
	testwg_done(&wg);
}

static void pref_reader(void *arg)
{
	gort_rwmutex_rlock(&rw);
	atomic_store(&late_reader_at, atomic_fetch_add(&step, 1));
	gort_rwmutex_runlock(&rw);
	testwg_done(&wg);
}

static int main_writer_preference(void *arg)
{
	gort_rwmutex_rlock(&rw);
	testwg_add(&wg, 2);
	cr_assert_eq(gort_go(pref_writer, NULL), 0);
	await(&step, 1, "the writer");
	linger(20 * MS); /* the writer is blocked in lock by now */
	cr_assert_eq(atomic_load(&writer_done_at), 0, "a writer got in past a reader");
	cr_assert_eq(gort_go(pref_reader, NULL), 0);
	linger(20 * MS);
	cr_assert_eq(atomic_load(&late_reader_at), 0, "a new reader got in past a waiting writer");
	gort_rwmutex_runlock(&rw);
	testwg_wait(&wg);
	cr_assert_lt(atomic_load(&writer_done_at), atomic_load(&late_reader_at), "the writer went first");
	return 0;
}

Test(sync, rwmutex_waiting_writer_blocks_new_readers, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_writer_preference, NULL);
}

/* ------------------------------------------------------------ Once */

static gort_once once;
static _Atomic long once_val;

static void once_incr(void *arg)
{
	linger(5 * MS); /* the others must wait for it */
	atomic_fetch_add(&once_val, 1);
}

static void once_caller(void *arg)
{
	gort_once_do(&once, once_incr, NULL);
	cr_assert_eq(atomic_load(&once_val), 1, "once_do returned before the function completed");
	testwg_done(&wg);
}

static int main_once(void *arg)
{
	testwg_add(&wg, 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(gort_go(once_caller, NULL), 0);
	testwg_wait(&wg);
	gort_once_do(&once, once_incr, NULL);
	cr_assert_eq(atomic_load(&once_val), 1);
	return 0;
}

Test(sync, go_once, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_once, NULL);
}

/* Go's TestOncePanic: a function that panicked counts as done. */
static int once_panic_ran;

static void once_panics(void *arg)
{
	once_panic_ran++;
	gort_panic("failed");
}

static void once_do_panicking(void *arg)
{
	gort_once_do(arg, once_panics, NULL);
}

static void once_must_not_run(void *arg)
{
	cr_assert_fail("Once.Do called twice");
}

static int main_once_panic(void *arg)
{
	static gort_once o;
	assert_panics(once_do_panicking, &o, "failed");
	cr_assert_eq(once_panic_ran, 1);
	gort_once_do(&o, once_must_not_run, NULL);
	gort_once_do(&o, once_must_not_run, NULL);
	return 0;
}

Test(sync, go_once_panic, .timeout = 30) { run_main(main_once_panic, NULL); }

/* Many Once values, raced on from several goroutines in different orders. */
enum { ONCES = 1000 };
static gort_once onces[ONCES];
static _Atomic long once_runs[ONCES];

static void once_count(void *arg)
{
	atomic_fetch_add(&once_runs[(long)arg], 1);
}

static void once_racer(void *arg)
{
	long k = (long)arg;
	for (long i = 0; i < ONCES; i++) {
		long j = k & 1 ? ONCES - 1 - i : (i * 7 + k) % ONCES;
		gort_once_do(&onces[j], once_count, (void *)j);
		cr_assert_eq(atomic_load(&once_runs[j]), 1);
	}
	testwg_done(&wg);
}

static int main_many_onces(void *arg)
{
	testwg_add(&wg, 8);
	for (long k = 0; k < 8; k++)
		cr_assert_eq(gort_go(once_racer, (void *)k), 0);
	testwg_wait(&wg);
	for (long i = 0; i < ONCES; i++)
		cr_assert_eq(atomic_load(&once_runs[i]), 1, "once %ld ran %ld times", i, atomic_load(&once_runs[i]));
	return 0;
}

Test(sync, many_onces_each_run_once, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_many_onces, NULL);
}

/* ------------------------------------------------------------ WaitGroup */

/*
 * Go's testWaitGroup: n goroutines pass wg1 and stop at wg2; none may get
 * past wg2 before all n Dones, and all must get past after.  The two wait
 * groups are reused, round after round.
 */
static gort_waitgroup wg1, wg2;
static _Atomic long exited;

static void wg_member(void *arg)
{
	gort_waitgroup_done(&wg1);
	gort_waitgroup_wait(&wg2);
	atomic_fetch_add(&exited, 1);
	testwg_done(&wg);
}

static int main_waitgroup(void *arg)
{
	const long n = 16;
	for (int round = 0; round < 50; round++) {
		atomic_store(&exited, 0);
		gort_waitgroup_add(&wg1, n);
		gort_waitgroup_add(&wg2, n);
		testwg_add(&wg, n);
		for (long i = 0; i < n; i++)
			cr_assert_eq(gort_go(wg_member, NULL), 0);
		gort_waitgroup_wait(&wg1);
		for (long i = 0; i < n; i++) {
			if (i == n / 2)
				linger(MS / 10);
			cr_assert_eq(atomic_load(&exited), 0, "WaitGroup released group too soon");
			gort_waitgroup_done(&wg2);
		}
		testwg_wait(&wg); /* blocks if the barrier failed to let someone through */
		cr_assert_eq(atomic_load(&exited), n);
	}
	return 0;
}

Test(sync, go_waitgroup, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_waitgroup, NULL);
}

Test(sync, go_waitgroup_one_proc, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_waitgroup, NULL);
}

/* Go's TestWaitGroupRace: Wait never returns early. */
static _Atomic long wgr_n;
static gort_waitgroup wgr;

static void wgr_incr(void *arg)
{
	atomic_fetch_add(&wgr_n, 1);
	gort_waitgroup_done(&wgr);
}

static int main_waitgroup_race(void *arg)
{
	long rounds = scaled(10000, 1000);
	for (long i = 0; i < rounds; i++) {
		atomic_store(&wgr_n, 0);
		gort_waitgroup_add(&wgr, 1);
		cr_assert_eq(gort_go(wgr_incr, NULL), 0);
		gort_waitgroup_add(&wgr, 1);
		cr_assert_eq(gort_go(wgr_incr, NULL), 0);
		gort_waitgroup_wait(&wgr);
		cr_assert_eq(atomic_load(&wgr_n), 2, "spurious wakeup from Wait");
	}
	return 0;
}

Test(sync, go_waitgroup_race, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_waitgroup_race, NULL);
}

/* Many waiters, one counter; a zero counter does not block. */
static gort_waitgroup wgm, gate;
static _Atomic long released;

static void wgm_waiter(void *arg)
{
	gort_waitgroup_wait(&gate);
	atomic_fetch_add(&released, 1);
	testwg_done(&wg);
}

static void wgm_worker(void *arg)
{
	gort_yield();
	gort_waitgroup_done(&wgm);
}

static int main_waitgroup_many(void *arg)
{
	gort_waitgroup_wait(&wgm); /* zero: returns at once */
	long n = scaled(10000, 2000);
	gort_waitgroup_add(&wgm, n);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(wgm_worker, NULL), 0);
	gort_waitgroup_wait(&wgm);

	gort_waitgroup_add(&gate, 1);
	testwg_add(&wg, 50);
	for (int i = 0; i < 50; i++)
		cr_assert_eq(gort_go(wgm_waiter, NULL), 0);
	linger(10 * MS);
	cr_assert_eq(atomic_load(&released), 0);
	gort_waitgroup_done(&gate);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&released), 50);
	gort_waitgroup_wait(&gate);
	return 0;
}

Test(sync, waitgroup_many_waiters_and_workers, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_waitgroup_many, NULL);
}

/* Go's TestWaitGroupMisuse: a negative counter panics, recoverably. */
static void wg_add_minus_one(void *arg)
{
	gort_waitgroup_add(arg, -1);
}

static void wg_done(void *arg)
{
	gort_waitgroup_done(arg);
}

static void wg_done_twice(void *arg)
{
	gort_waitgroup_add(arg, 1);
	gort_waitgroup_done(arg);
	gort_waitgroup_done(arg);
}

static void wg_add_too_little(void *arg)
{
	gort_waitgroup_add(arg, 3);
	gort_waitgroup_add(arg, -4);
}

static int main_waitgroup_misuse(void *arg)
{
	static gort_waitgroup a, b, c, d;
	assert_panics(wg_add_minus_one, &a, "sync: negative WaitGroup counter");
	assert_panics(wg_done, &b, "sync: negative WaitGroup counter");
	assert_panics(wg_done_twice, &c, "sync: negative WaitGroup counter");
	assert_panics(wg_add_too_little, &d, "sync: negative WaitGroup counter");
	return 0;
}

Test(sync, go_waitgroup_misuse_panics, .timeout = 30) { run_main(main_waitgroup_misuse, NULL); }

/* ------------------------------------------------------------ Cond */

static gort_cond cond;
static _Atomic long running, awake;

/* Go's TestCondSignal: each Signal wakes exactly one waiter. */
static void cs_waiter(void *arg)
{
	gort_mutex_lock(&mu);
	atomic_fetch_add(&running, 1);
	gort_cond_wait(&cond, &mu);
	atomic_fetch_add(&awake, 1);
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static int main_cond_signal(void *arg)
{
	const long n = 4;
	testwg_add(&wg, n);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(cs_waiter, NULL), 0);
	await(&running, n, "everyone to run");
	for (long k = 0; k < n; k++) {
		linger(MS);
		cr_assert_eq(atomic_load(&awake), k, "goroutine not asleep");
		gort_mutex_lock(&mu); /* so they are all in gort_cond_wait */
		gort_cond_signal(&cond);
		gort_mutex_unlock(&mu);
		await(&awake, k + 1, "a goroutine to wake");
		linger(MS);
		cr_assert_eq(atomic_load(&awake), k + 1, "too many goroutines awake");
	}
	testwg_wait(&wg);
	gort_cond_signal(&cond); /* nobody waits: nothing happens */
	return 0;
}

Test(sync, go_cond_signal, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_cond_signal, NULL);
}

/* Go's TestCondSignalGenerations: Signal wakes waiters in the order they waited. */
enum { GENS = 100 };
static _Atomic long woke_order[GENS], woke_n;

static void gen_waiter(void *arg)
{
	gort_mutex_lock(&mu);
	atomic_fetch_add(&running, 1);
	gort_cond_wait(&cond, &mu);
	/* mu serializes the waiters; woke_n moves only once the order is stored */
	long k = atomic_load(&woke_n);
	atomic_store(&woke_order[k], (long)arg);
	atomic_store(&woke_n, k + 1);
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static int main_cond_generations(void *arg)
{
	testwg_add(&wg, GENS);
	for (long i = 0; i < GENS; i++) {
		cr_assert_eq(gort_go(gen_waiter, (void *)i), 0);
		await(&running, i + 1, "the waiter");
	}
	for (long i = 0; i < GENS; i++) {
		gort_mutex_lock(&mu);
		gort_cond_signal(&cond);
		gort_mutex_unlock(&mu);
		await(&woke_n, i + 1, "a waiter to wake");
		cr_assert_eq(atomic_load(&woke_order[i]), i, "signal %ld woke waiter %ld", i,
			     atomic_load(&woke_order[i]));
	}
	testwg_wait(&wg);
	return 0;
}

Test(sync, go_cond_signal_generations, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_cond_generations, NULL);
}

/* Go's TestCondBroadcast: each Broadcast wakes every waiter once. */
static struct {
	long n;
	bool exit;
	_Atomic long running, woke;
	_Atomic unsigned char *seen;
} cb;

static void cb_waiter(void *arg)
{
	long g = (long)arg;
	gort_mutex_lock(&mu);
	while (!cb.exit) {
		atomic_fetch_add(&cb.running, 1);
		gort_cond_wait(&cond, &mu);
		cr_assert_eq(atomic_fetch_add(&cb.seen[g], 1), 0, "goroutine %ld woke up twice", g);
		atomic_fetch_add(&cb.woke, 1);
	}
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static int main_cond_broadcast(void *arg)
{
	cb.n = scaled(200, 50);
	cb.seen = calloc((size_t)cb.n, 1);
	testwg_add(&wg, cb.n);
	for (long g = 0; g < cb.n; g++)
		cr_assert_eq(gort_go(cb_waiter, (void *)g), 0);
	for (long i = 0; i < cb.n; i++) {
		await(&cb.running, (i + 1) * cb.n, "every waiter to wait");
		cr_assert_eq(atomic_load(&cb.woke), i * cb.n, "goroutine not asleep");
		gort_mutex_lock(&mu);
		for (long g = 0; g < cb.n; g++)
			atomic_store(&cb.seen[g], 0);
		if (i == cb.n - 1)
			cb.exit = true;
		gort_cond_broadcast(&cond);
		gort_mutex_unlock(&mu);
		await(&cb.woke, (i + 1) * cb.n, "every waiter to wake");
	}
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&cb.running), cb.n * cb.n, "goroutine did not exit");
	gort_cond_broadcast(&cond);
	free((void *)cb.seen);
	return 0;
}

Test(sync, go_cond_broadcast, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_cond_broadcast, NULL);
}

/* A Signal with nobody waiting is not remembered. */
static void late_waiter(void *arg)
{
	gort_mutex_lock(&mu);
	atomic_store(&running, 1);
	gort_cond_wait(&cond, &mu);
	atomic_store(&awake, 1);
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static int main_cond_not_remembered(void *arg)
{
	gort_cond_signal(&cond);
	gort_cond_broadcast(&cond);
	testwg_add(&wg, 1);
	cr_assert_eq(gort_go(late_waiter, NULL), 0);
	await(&running, 1, "the waiter");
	linger(10 * MS);
	cr_assert_eq(atomic_load(&awake), 0, "a waiter woke from an old signal");
	gort_mutex_lock(&mu);
	gort_cond_signal(&cond);
	gort_mutex_unlock(&mu);
	testwg_wait(&wg);
	return 0;
}

Test(sync, cond_signal_without_waiters_is_lost, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_cond_not_remembered, NULL);
}

/* Go's TestRace (cond_test.go): three goroutines hand a state machine around. */
static int cr_x;

static void race1(void *arg)
{
	gort_mutex_lock(&mu);
	cr_x = 1;
	gort_cond_wait(&cond, &mu);
	cr_assert_eq(cr_x, 2, "want 2");
	cr_x = 3;
	gort_cond_signal(&cond);
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static void race2(void *arg)
{
	gort_mutex_lock(&mu);
	for (;;) {
		if (cr_x == 1) {
			cr_x = 2;
			gort_cond_signal(&cond);
			break;
		}
		gort_mutex_unlock(&mu);
		gort_yield();
		gort_mutex_lock(&mu);
	}
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static void race3(void *arg)
{
	gort_mutex_lock(&mu);
	for (;;) {
		if (cr_x == 2) {
			gort_cond_wait(&cond, &mu);
			cr_assert_eq(cr_x, 3, "want 3");
			break;
		}
		if (cr_x == 3)
			break;
		gort_mutex_unlock(&mu);
		gort_yield();
		gort_mutex_lock(&mu);
	}
	gort_mutex_unlock(&mu);
	testwg_done(&wg);
}

static int main_cond_race(void *arg)
{
	for (int i = 0; i < 200; i++) {
		cr_x = 0;
		testwg_add(&wg, 3);
		cr_assert_eq(gort_go(race1, NULL), 0);
		cr_assert_eq(gort_go(race2, NULL), 0);
		cr_assert_eq(gort_go(race3, NULL), 0);
		testwg_wait(&wg);
	}
	return 0;
}

Test(sync, go_cond_race, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_cond_race, NULL);
}

/*
 * A bounded buffer on a mutex and two conds, producers and consumers many:
 * every item is taken exactly once.
 */
enum { BB_CAP = 8, BB_PROD = 4, BB_CONS = 4 };

static struct {
	gort_mutex mu;
	gort_cond notfull, notempty;
	long buf[BB_CAP], head, count, per;
	bool closed;
	_Atomic unsigned char *seen;
	_Atomic long taken;
	struct testwg cons;
} bb;

static void bb_producer(void *arg)
{
	long p = (long)arg;
	for (long i = 0; i < bb.per; i++) {
		gort_mutex_lock(&bb.mu);
		while (bb.count == BB_CAP)
			gort_cond_wait(&bb.notfull, &bb.mu);
		bb.buf[(bb.head + bb.count) % BB_CAP] = p * bb.per + i;
		bb.count++;
		if (i % 2)
			gort_cond_signal(&bb.notempty);
		else
			gort_cond_broadcast(&bb.notempty);
		gort_mutex_unlock(&bb.mu);
	}
	testwg_done(&wg);
}

static void bb_consumer(void *arg)
{
	for (;;) {
		gort_mutex_lock(&bb.mu);
		while (bb.count == 0 && !bb.closed)
			gort_cond_wait(&bb.notempty, &bb.mu);
		if (bb.count == 0) {
			gort_mutex_unlock(&bb.mu);
			break;
		}
		long v = bb.buf[bb.head];
		bb.head = (bb.head + 1) % BB_CAP;
		bb.count--;
		gort_cond_signal(&bb.notfull);
		gort_mutex_unlock(&bb.mu);
		cr_assert_eq(atomic_fetch_add(&bb.seen[v], 1), 0, "item %ld taken twice", v);
		atomic_fetch_add(&bb.taken, 1);
	}
	testwg_done(&bb.cons);
}

static int main_bounded_buffer(void *arg)
{
	bb.per = scaled(20000, 2000);
	long total = BB_PROD * bb.per;
	bb.seen = calloc((size_t)total, 1);
	testwg_add(&wg, BB_PROD);
	testwg_add(&bb.cons, BB_CONS);
	for (long p = 0; p < BB_PROD; p++)
		cr_assert_eq(gort_go(bb_producer, (void *)p), 0);
	for (long c = 0; c < BB_CONS; c++)
		cr_assert_eq(gort_go(bb_consumer, NULL), 0);
	testwg_wait(&wg);
	gort_mutex_lock(&bb.mu);
	bb.closed = true;
	gort_cond_broadcast(&bb.notempty);
	gort_mutex_unlock(&bb.mu);
	testwg_wait(&bb.cons);
	cr_assert_eq(atomic_load(&bb.taken), total);
	for (long i = 0; i < total; i++)
		cr_assert_eq(bb.seen[i], 1, "item %ld taken %d times", i, bb.seen[i]);
	free((void *)bb.seen);
	return 0;
}

Test(sync, cond_bounded_buffer, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_bounded_buffer, NULL);
}

Test(sync, cond_bounded_buffer_four_procs_randomized, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_bounded_buffer, NULL);
}
