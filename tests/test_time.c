/*
 * Time: gort_now, gort_sleep, timers, tickers and gort_after_func, with
 * Go's semantics.  Nobody wakes early and everybody wakes (10,000
 * concurrent sleepers); Stop reports whether it stopped a pending timer
 * and a stopped timer never sends; Reset restarts; tickers tick and drop
 * what a slow reader misses; an after_func runs once, in a goroutine of
 * its own; timers fire in the order of their deadlines (Go's
 * TestAfterQueuing); and Stop and Reset racing the firing lose nothing and
 * fire nothing twice.  A goroutine waiting only on time is not a deadlock.
 *
 * The checks hold for both of Go's timer channel semantics (before and
 * after Go 1.23): a value is awaited, never assumed to be buffered, and a
 * stale value is recognized by its time.
 */
#include <stdatomic.h>
#include <time.h>

#include "runtime.h"
#include "testutil.h"

#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/*
 * Yields for about ns.  The stress tests wait this way, not with
 * gort_sleep, so that a timer the runtime loses fails them instead of
 * hanging them.
 */
static void linger(int64_t ns)
{
	int64_t end = nanotime() + ns;
	while (nanotime() < end)
		gort_yield();
}

static int64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static gort_timer *musttimer(gort_timer *t)
{
	cr_assert_not_null(t, "timer creation failed");
	return t;
}

/* Waits up to timeout for a value from a timer's channel; false if none came. */
static bool timer_value(gort_timer *t, int64_t *v, int64_t timeout)
{
	gort_case cs = {.chan = gort_timer_chan(t), .dir = GORT_RECV, .elem = v};
	return gort_select_timeout(&cs, 1, timeout) == 0;
}

/* ------------------------------------------------------------ now, sleep */

static int main_now(void *arg)
{
	int64_t last = gort_now();
	for (int i = 0; i < 100000; i++) {
		int64_t t = gort_now();
		cr_assert_geq(t, last, "time went backwards");
		last = t;
	}
	int64_t g0 = gort_now(), c0 = clock_ns();
	struct timespec ts = {0, 20 * MS};
	nanosleep(&ts, NULL);
	int64_t g = gort_now() - g0, c = clock_ns() - c0;
	cr_assert_geq(g, 20 * MS, "20 ms measured as %lld ns", (long long)g);
	cr_assert_lt(g > c ? g - c : c - g, 50 * MS, "gort_now %lld ns, CLOCK_MONOTONIC %lld ns", (long long)g,
		     (long long)c);
	return 0;
}

Test(time, now_is_monotonic, .timeout = 30) { run_main(main_now, NULL); }

static int main_sleep(void *arg)
{
	static const int64_t ds[] = {1 * US, 100 * US, 1 * MS, 10 * MS, 50 * MS};
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		int64_t t0 = gort_now();
		gort_sleep(ds[i]);
		int64_t el = gort_now() - t0;
		cr_assert_geq(el, ds[i], "slept %lld ns of %lld", (long long)el, (long long)ds[i]);
		cr_assert_lt(el, ds[i] + 2 * SEC, "slept %lld ns of %lld", (long long)el, (long long)ds[i]);
	}
	/* zero and negative durations return at once (Go's TestSleepZeroDeadlock) */
	int64_t t0 = gort_now();
	gort_chan *tmp = gort_chan_make(1, 1);
	for (int i = 0; i < 1000; i++) {
		gort_sleep(0);
		gort_sleep(-5);
		gort_sleep(INT64_MIN);
		char b = 1;
		gort_chan_send(tmp, &b);
		cr_assert(gort_chan_recv(tmp, &b));
	}
	gort_chan_free(tmp);
	cr_assert_lt(gort_now() - t0, 2 * SEC);
	return 0;
}

Test(time, sleep_durations, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_sleep, NULL);
}

/* A sleeping goroutine gives up its processor, and sleepers sleep at the same time. */
static _Atomic long spins, stop_spinning;
static struct testwg wg;

static void spinner(void *arg)
{
	while (!atomic_load(&stop_spinning)) {
		atomic_fetch_add(&spins, 1);
		gort_yield();
	}
	testwg_done(&wg);
}

static void nap(void *arg)
{
	gort_sleep(50 * MS);
	testwg_done(&wg);
}

static int main_sleep_parks(void *arg)
{
	testwg_add(&wg, 1);
	cr_assert_eq(gort_go(spinner, NULL), 0);
	gort_sleep(20 * MS);
	cr_assert_gt(atomic_load(&spins), 0, "nothing ran while main slept");
	atomic_store(&stop_spinning, 1);
	testwg_wait(&wg);

	int64_t t0 = gort_now();
	testwg_add(&wg, 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(gort_go(nap, NULL), 0);
	testwg_wait(&wg);
	int64_t el = gort_now() - t0;
	cr_assert_geq(el, 50 * MS);
	cr_assert_lt(el, 400 * MS, "ten 50 ms sleeps took %lld ms on one processor", (long long)(el / MS));
	return 0;
}

Test(time, sleep_leaves_the_processor, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_sleep_parks, NULL);
}

/* 10,000 goroutines sleep at once, each for its own time: none early, all wake. */
static struct {
	_Atomic long early, woke;
	_Atomic int64_t worst_late;
} sl;

static void sleeper(void *arg)
{
	long i = (long)arg;
	int64_t d = 1 * MS + (int64_t)((uint64_t)i * 2654435761u % 100) * MS;
	int64_t t0 = gort_now();
	gort_sleep(d);
	int64_t late = gort_now() - t0 - d;
	if (late < 0)
		atomic_fetch_add(&sl.early, 1);
	int64_t w = atomic_load(&sl.worst_late);
	while (late > w && !atomic_compare_exchange_weak(&sl.worst_late, &w, late))
		;
	atomic_fetch_add(&sl.woke, 1);
	testwg_done(&wg);
}

static int main_sleepers(void *arg)
{
	long n = scaled(10000, 2000);
	int64_t t0 = gort_now();
	testwg_add(&wg, n);
	for (long i = 0; i < n; i++)
		cr_assert_eq(gort_go(sleeper, (void *)i), 0);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&sl.woke), n);
	cr_assert_eq(atomic_load(&sl.early), 0, "%ld sleepers woke early", atomic_load(&sl.early));
	/* a bound on lost wakeups, not a measure: ThreadSanitizer alone takes 11 s here, more on a busy machine */
	cr_assert_lt(gort_now() - t0, (UNDER_SANITIZER ? 90 : 20) * SEC);
	cr_log_info("worst lateness %lld us", (long long)(atomic_load(&sl.worst_late) / US));
	return 0;
}

Test(time, ten_thousand_sleepers, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_sleepers, NULL);
}

Test(time, ten_thousand_sleepers_four_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_sleepers, NULL);
}

Test(time, ten_thousand_sleepers_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_sleepers, NULL);
}

/* Go's TestOverflowSleep: the longest durations do not wrap around into the past. */
static _Atomic long overslept;

static void sleep_forever(void *arg)
{
	gort_sleep(INT64_MAX);
	atomic_store(&overslept, 1);
}

static int main_overflow(void *arg)
{
	cr_assert_eq(gort_go(sleep_forever, NULL), 0);
	gort_timer *t = musttimer(gort_timer_make(INT64_MAX));
	gort_timer *tk = musttimer(gort_ticker_make(INT64_MAX));
	gort_sleep(50 * MS);
	cr_assert_eq(atomic_load(&overslept), 0, "a sleep of INT64_MAX ns returned");
	int64_t v;
	cr_assert_eq(gort_chan_tryrecv(gort_timer_chan(t), &v), -1, "a timer of INT64_MAX ns fired");
	cr_assert_eq(gort_chan_tryrecv(gort_timer_chan(tk), &v), -1, "a ticker of INT64_MAX ns ticked");
	cr_assert(gort_timer_stop(t));
	gort_timer_free(t);
	gort_timer_free(tk);
	/* and the most negative is the past */
	t = musttimer(gort_timer_make(INT64_MIN));
	cr_assert(timer_value(t, &v, 2 * SEC), "a timer of INT64_MIN ns did not fire");
	gort_timer_free(t);
	return 0; /* the sleeper is abandoned */
}

Test(time, go_overflow_sleep, .timeout = 30) { run_main(main_overflow, NULL); }

/* Sleepers' timers survive their processors going away. */
static void shrink_sleeper(void *arg)
{
	int64_t t0 = gort_now();
	gort_sleep(50 * MS);
	cr_assert_geq(gort_now() - t0, 50 * MS);
	atomic_fetch_add(&sl.woke, 1);
	testwg_done(&wg);
}

static int main_sleep_shrink(void *arg)
{
	testwg_add(&wg, 200);
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(gort_go(shrink_sleeper, NULL), 0);
		if (i % 10 == 0)
			gort_yield(); /* spread them over the processors */
	}
	gort_sleep(10 * MS);
	cr_assert_eq(gort_maxprocs(1), 4);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&sl.woke), 200);
	gort_maxprocs(3);
	return 0;
}

Test(time, sleepers_wake_after_maxprocs_shrinks, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_sleep_shrink, NULL);
}

/*
 * Waiting only on time is not a deadlock: main alone, asleep or on a
 * timer.  In a child process: the test runner's own thread would keep
 * deadlock detection quiet here, and the test could not fail.
 */
Test(time, waiting_on_time_is_not_a_deadlock, .timeout = 30, .disabled = UNDER_TSAN)
{
	static struct progresult r;
	run_prog(&r, "time-alone", NULL);
	cr_assert_eq(r.status, 0, "exit status %d, output:\n%s", r.status, r.out);
	assert_output_has(&r, "waited on time alone\n");
}

/* ------------------------------------------------------------ timers */

static int main_timer_fires(void *arg)
{
	int64_t t0 = gort_now();
	gort_timer *t = musttimer(gort_timer_make(20 * MS));
	gort_chan *c = gort_timer_chan(t);
	cr_assert_not_null(c);
	int64_t v = 0;
	cr_assert(gort_chan_recv(c, &v));
	int64_t t1 = gort_now();
	cr_assert_geq(v, t0 + 20 * MS, "fired %lld ns early", (long long)(t0 + 20 * MS - v));
	cr_assert_leq(v, t1, "the value is the time it fired");
	cr_assert_geq(t1 - t0, 20 * MS);
	cr_assert(!gort_timer_stop(t), "stop of a timer that fired");
	gort_sleep(30 * MS);
	cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "a timer fires once");
	gort_timer_free(t);

	/* zero and negative durations fire at once */
	for (int64_t d = 0; d >= -1; d--) {
		t = musttimer(gort_timer_make(d));
		cr_assert(timer_value(t, &v, 2 * SEC), "a timer of %lld ns did not fire", (long long)d);
		gort_timer_free(t);
	}
	return 0;
}

Test(time, timer_fires_once_with_the_time, .timeout = 30) { run_main(main_timer_fires, NULL); }

static int main_timer_stop(void *arg)
{
	gort_timer *t = musttimer(gort_timer_make(100 * MS));
	cr_assert(gort_timer_stop(t), "stop of a pending timer");
	cr_assert(!gort_timer_stop(t), "stop of a stopped timer");
	gort_sleep(150 * MS);
	int64_t v;
	cr_assert_eq(gort_chan_tryrecv(gort_timer_chan(t), &v), -1, "a stopped timer fired");
	gort_timer_free(t);

	/* freeing a pending timer stops it */
	t = musttimer(gort_timer_make(100 * MS));
	gort_timer_free(t);
	t = musttimer(gort_timer_make(5 * MS));
	gort_sleep(20 * MS);
	gort_timer_free(t); /* fired, value unread */
	return 0;
}

Test(time, timer_stop, .timeout = 30) { run_main(main_timer_stop, NULL); }

static int main_timer_reset(void *arg)
{
	int64_t v;
	/* a pending timer moved later fires at the new time only */
	gort_timer *t = musttimer(gort_timer_make(100 * MS));
	int64_t t0 = gort_now();
	cr_assert(gort_timer_reset(t, 300 * MS), "reset of a pending timer");
	gort_sleep(150 * MS);
	cr_assert_eq(gort_chan_tryrecv(gort_timer_chan(t), &v), -1, "fired at its old time");
	cr_assert(timer_value(t, &v, 5 * SEC));
	cr_assert_geq(v, t0 + 300 * MS);
	gort_sleep(30 * MS);
	cr_assert_eq(gort_chan_tryrecv(gort_timer_chan(t), &v), -1, "fired twice");

	/* fired and drained: reset reports inactive, and it fires again */
	t0 = gort_now();
	cr_assert(!gort_timer_reset(t, 10 * MS), "reset of a timer that fired");
	cr_assert(timer_value(t, &v, 5 * SEC));
	cr_assert_geq(v, t0 + 10 * MS);

	/* stopped: the same */
	cr_assert(!gort_timer_reset(t, SEC), "it fired: inactive");
	cr_assert(gort_timer_stop(t));
	t0 = gort_now();
	cr_assert(!gort_timer_reset(t, 10 * MS), "reset of a stopped timer");
	cr_assert(timer_value(t, &v, 5 * SEC));
	cr_assert_geq(v, t0 + 10 * MS);

	/* moved earlier */
	cr_assert(!gort_timer_reset(t, 3600 * SEC));
	t0 = gort_now();
	cr_assert(gort_timer_reset(t, 10 * MS));
	cr_assert(timer_value(t, &v, 5 * SEC), "a timer moved from an hour to 10 ms did not fire");
	cr_assert_geq(v, t0 + 10 * MS);
	cr_assert_lt(gort_now() - t0, 5 * SEC);

	/* to now */
	cr_assert(!gort_timer_reset(t, 0));
	cr_assert(timer_value(t, &v, 2 * SEC));
	gort_timer_free(t);
	return 0;
}

Test(time, timer_reset, .timeout = 30) { run_main(main_timer_reset, NULL); }

/* Many timers: created and stopped, and created and fired. */
static int main_many_timers(void *arg)
{
	long n = scaled(10000, 2000);
	gort_timer **ts = calloc((size_t)n, sizeof *ts);
	uint64_t s = 1;
	int64_t t0 = gort_now();
	for (long i = 0; i < n; i++)
		ts[i] = musttimer(gort_timer_make(3600 * SEC + (int64_t)(lcg(&s) % 1000) * SEC));
	for (long i = 0; i < n; i++) {
		cr_assert(gort_timer_stop(ts[i]), "timer %ld was not pending", i);
		gort_timer_free(ts[i]);
	}
	for (long i = 0; i < n; i++)
		ts[i] = musttimer(gort_timer_make((int64_t)(lcg(&s) % 20000) * US));
	for (long i = 0; i < n; i++) {
		int64_t v;
		cr_assert(timer_value(ts[i], &v, 10 * SEC), "timer %ld never fired", i);
		cr_assert_geq(v, t0);
		gort_timer_free(ts[i]);
	}
	free(ts);
	return 0;
}

Test(time, many_timers, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_many_timers, NULL);
}

/* ------------------------------------------------------------ tickers */

static int main_ticker(void *arg)
{
	const int64_t period = 10 * MS;
	int64_t t0 = gort_now(), last = 0, v;
	gort_timer *tk = musttimer(gort_ticker_make(period));
	gort_chan *c = gort_timer_chan(tk);
	for (int k = 1; k <= 5; k++) {
		cr_assert(gort_chan_recv(c, &v));
		cr_assert_gt(v, last, "ticks go forward");
		cr_assert_geq(v, t0 + k * period, "tick %d came early", k);
		last = v;
	}
	cr_assert_lt(gort_now() - t0, 5 * SEC);

	/* a slow reader misses ticks: they do not pile up */
	gort_sleep(20 * period);
	int queued = 0;
	while (gort_chan_tryrecv(c, &v) == 1)
		queued++;
	cr_assert_leq(queued, 2, "%d ticks piled up", queued);

	/* reset changes the period */
	int64_t tr = gort_now();
	gort_timer_reset(tk, 3 * period);
	while (gort_chan_tryrecv(c, &v) == 1)
		;
	int64_t v1, v2;
	cr_assert(gort_chan_recv(c, &v1));
	if (v1 < tr + 3 * period) /* a tick of the old period, in flight during the reset */
		cr_assert(gort_chan_recv(c, &v1));
	cr_assert(gort_chan_recv(c, &v2));
	cr_assert_geq(v1, tr + 3 * period, "first tick after reset came early");
	cr_assert_geq(v2, tr + 6 * period, "second tick after reset came early");

	/* stopped: no more ticks */
	gort_timer_stop(tk);
	while (gort_chan_tryrecv(c, &v) == 1)
		;
	gort_sleep(10 * period);
	cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "a stopped ticker ticked");
	gort_timer_free(tk);

	/* freed while running */
	tk = musttimer(gort_ticker_make(MS));
	gort_sleep(5 * MS);
	gort_timer_free(tk);
	gort_sleep(5 * MS);
	return 0;
}

Test(time, ticker, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_ticker, NULL);
}

/* ------------------------------------------------------------ after_func */

static struct {
	_Atomic long runs;
	_Atomic int64_t goid, at;
	gort_chan *block;
	_Atomic long second;
} af;

static void af_record(void *arg)
{
	atomic_store(&af.at, gort_now());
	atomic_store(&af.goid, gort_goid());
	atomic_fetch_add(&af.runs, 1);
}

static void af_blocks(void *arg)
{
	int v = 1;
	gort_chan_send(af.block, &v); /* only its own goroutine waits */
}

static void af_second(void *arg)
{
	atomic_store(&af.second, 1);
}

static int main_after_func(void *arg)
{
	int64_t t0 = gort_now();
	gort_timer *t = musttimer(gort_after_func(20 * MS, af_record, NULL));
	cr_assert_null(gort_timer_chan(t), "an after_func timer has no channel");
	while (atomic_load(&af.runs) == 0 && gort_now() - t0 < 5 * SEC)
		gort_sleep(MS);
	cr_assert_eq(atomic_load(&af.runs), 1);
	cr_assert_geq(atomic_load(&af.at), t0 + 20 * MS, "ran early");
	int64_t id = atomic_load(&af.goid);
	cr_assert(id != 0 && id != gort_goid(), "fn ran as goroutine %lld, not in one of its own", (long long)id);
	cr_assert(!gort_timer_stop(t), "stop after it ran");
	gort_sleep(30 * MS);
	cr_assert_eq(atomic_load(&af.runs), 1, "ran twice");

	/* reset after it ran: runs again */
	cr_assert(!gort_timer_reset(t, 5 * MS));
	while (atomic_load(&af.runs) < 2 && gort_now() - t0 < 5 * SEC)
		gort_sleep(MS);
	cr_assert_eq(atomic_load(&af.runs), 2);
	gort_timer_free(t);

	/* stopped before it runs: never runs */
	t = musttimer(gort_after_func(100 * MS, af_record, NULL));
	cr_assert(gort_timer_stop(t));
	gort_sleep(150 * MS);
	cr_assert_eq(atomic_load(&af.runs), 2, "a stopped after_func ran");
	/* reset while pending: runs once, at the new time (not also at the old) */
	int64_t t1 = gort_now();
	cr_assert(!gort_timer_reset(t, 100 * MS));
	cr_assert(gort_timer_reset(t, 20 * MS), "reset of a pending after_func");
	gort_sleep(200 * MS);
	cr_assert_eq(atomic_load(&af.runs), 3);
	cr_assert_geq(atomic_load(&af.at), t1 + 20 * MS);
	gort_timer_free(t);

	/* freed while pending: never runs */
	t = musttimer(gort_after_func(100 * MS, af_record, NULL));
	gort_timer_free(t);
	gort_sleep(150 * MS);
	cr_assert_eq(atomic_load(&af.runs), 3, "a freed after_func ran");

	/* fn may block: it holds up nothing but its own goroutine */
	af.block = gort_chan_make(sizeof(int), 0);
	gort_timer *t2 = musttimer(gort_after_func(5 * MS, af_blocks, NULL));
	gort_timer *t3 = musttimer(gort_after_func(30 * MS, af_second, NULL));
	int64_t t4 = gort_now();
	while (!atomic_load(&af.second) && gort_now() - t4 < 5 * SEC)
		gort_sleep(MS);
	cr_assert(atomic_load(&af.second), "a blocked after_func held up the next timer");
	int v;
	cr_assert(gort_chan_recv(af.block, &v));
	gort_timer_free(t2);
	gort_timer_free(t3);
	while (gort_num_goroutine() > 1)
		gort_yield();
	gort_chan_free(af.block);
	return 0;
}

Test(time, after_func, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_after_func, NULL);
}

Test(time, after_func_one_proc, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_after_func, NULL);
}

/* A thousand after_funcs with their own delays: each runs exactly once. */
enum { AF_N = 1000 };
static _Atomic long af_count[AF_N];

static void af_counted(void *arg)
{
	atomic_fetch_add(&af_count[(long)arg], 1);
	testwg_done(&wg);
}

static int main_many_after_funcs(void *arg)
{
	gort_timer *ts[AF_N];
	uint64_t s = 3;
	testwg_add(&wg, AF_N);
	for (long i = 0; i < AF_N; i++)
		ts[i] = musttimer(gort_after_func((int64_t)(lcg(&s) % 50000) * US, af_counted, (void *)i));
	testwg_wait(&wg);
	gort_sleep(10 * MS);
	for (long i = 0; i < AF_N; i++) {
		cr_assert_eq(atomic_load(&af_count[i]), 1, "after_func %ld ran %ld times", i,
			     atomic_load(&af_count[i]));
		gort_timer_free(ts[i]);
	}
	return 0;
}

Test(time, many_after_funcs_each_run_once, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_many_after_funcs, NULL);
}

/* Go's TestAfterQueuing: timers fire in the order of their deadlines. */
static const long aq_slots[] = {0, 2, 1, 5, 4, 3, 8, 7, 6, 9};
enum { AQ_N = 10 };

static struct {
	_Atomic long n;
	long order[AQ_N];
	int64_t at[AQ_N];
} aq;

static void aq_fire(void *arg)
{
	long k = atomic_fetch_add(&aq.n, 1);
	aq.order[k] = (long)arg;
	aq.at[k] = gort_now();
	testwg_done(&wg);
}

static bool after_queuing(int64_t delta)
{
	gort_timer *ts[AQ_N];
	atomic_store(&aq.n, 0);
	testwg_add(&wg, AQ_N);
	int64_t t0 = gort_now();
	for (int i = 0; i < AQ_N; i++)
		ts[i] = musttimer(gort_after_func(aq_slots[i] * delta, aq_fire, (void *)aq_slots[i]));
	testwg_wait(&wg);
	bool ordered = true;
	for (int i = 0; i < AQ_N; i++) {
		cr_assert_geq(aq.at[i], t0 + aq.order[i] * delta, "slot %ld fired early", aq.order[i]);
		ordered &= aq.order[i] == i;
		gort_timer_free(ts[i]);
	}
	return ordered;
}

static int main_after_queuing(void *arg)
{
	/* as Go does, retry with longer gaps on a busy machine */
	for (int64_t delta = 20 * MS; delta <= 160 * MS; delta *= 2)
		if (after_queuing(delta))
			return 0;
	cr_assert_fail("timers fired out of order");
	return 1;
}

Test(time, go_after_queuing, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_after_queuing, NULL);
}

/* ------------------------------------------------------------ races */

/*
 * after_funcs stopped and reset at random by several goroutines while they
 * fire, often two on the same timer at once.  Every Reset that finds its timer inactive starts a firing, every
 * Stop that finds it pending cancels one: the runs come out as
 * 1 + inactive resets - successful stops, per timer, never more.
 */
enum { AR_TIMERS = 16, AR_WORKERS = 4 };

static struct {
	gort_timer *t[AR_TIMERS];
	_Atomic long runs[AR_TIMERS], starts[AR_TIMERS], cancels[AR_TIMERS];
	long ops;
	struct testwg wg;
} ar;

static void ar_fire(void *arg)
{
	atomic_fetch_add(&ar.runs[(long)arg], 1);
}

static void ar_worker(void *arg)
{
	uint64_t s = (uint64_t)(long)arg * 7919 + 1;
	for (long i = 0; i < ar.ops; i++) {
		long k = (long)(lcg(&s) % AR_TIMERS);
		int64_t d = (int64_t)(lcg(&s) % 2000) * US;
		if (lcg(&s) % 2) {
			if (gort_timer_stop(ar.t[k]))
				atomic_fetch_add(&ar.cancels[k], 1);
		} else {
			if (!gort_timer_reset(ar.t[k], d))
				atomic_fetch_add(&ar.starts[k], 1);
		}
		if (i % 16 == 0)
			linger((int64_t)(lcg(&s) % 500) * US);
	}
	testwg_done(&ar.wg);
}

static long ar_mismatch(void)
{
	for (long k = 0; k < AR_TIMERS; k++) {
		long want = atomic_load(&ar.starts[k]) - atomic_load(&ar.cancels[k]);
		if (atomic_load(&ar.runs[k]) != want)
			return k;
	}
	return -1;
}

static int main_after_func_races(void *arg)
{
	uint64_t s = 11;
	ar.ops = scaled(5000, 500);
	for (long k = 0; k < AR_TIMERS; k++) {
		atomic_store(&ar.starts[k], 1);
		ar.t[k] = musttimer(gort_after_func((int64_t)(lcg(&s) % 2000) * US, ar_fire, (void *)k));
	}
	testwg_add(&ar.wg, AR_WORKERS);
	for (long w = 0; w < AR_WORKERS; w++)
		cr_assert_eq(gort_go(ar_worker, (void *)w), 0);
	testwg_wait(&ar.wg);
	/* the last firings are due within 2 ms */
	int64_t end = gort_now() + 10 * SEC;
	while (ar_mismatch() >= 0 && gort_now() < end)
		gort_yield();
	linger(20 * MS);
	long k = ar_mismatch();
	cr_assert_lt(k, 0, "timer %ld: ran %ld times, started %ld, cancelled %ld", k, atomic_load(&ar.runs[k]),
		     atomic_load(&ar.starts[k]), atomic_load(&ar.cancels[k]));
	for (k = 0; k < AR_TIMERS; k++) {
		cr_assert(!gort_timer_stop(ar.t[k]));
		gort_timer_free(ar.t[k]);
	}
	return 0;
}

Test(time, after_func_stop_reset_races, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_after_func_races, NULL);
}

Test(time, after_func_stop_reset_races_four_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_after_func_races, NULL);
}

/*
 * Two goroutines reset the same timer at once, as Go allows (the runtime
 * serializes timer operations): the timer is armed once, so one Stop
 * disarms it, and its function never runs after that.
 */
static struct {
	gort_timer *t;
	long resets;
	_Atomic long fired;
	struct testwg wg;
} cr;

static void cr_fire(void *arg)
{
	atomic_fetch_add(&cr.fired, 1);
}

static void cr_resetter(void *arg)
{
	for (long i = 0; i < cr.resets; i++)
		gort_timer_reset(cr.t, 50 * MS);
	testwg_done(&cr.wg);
}

static int main_concurrent_resets(void *arg)
{
	cr.resets = scaled(100000, 10000);
	cr.t = musttimer(gort_after_func(3600 * SEC, cr_fire, NULL));
	testwg_add(&cr.wg, 2);
	cr_assert_eq(gort_go(cr_resetter, NULL), 0);
	cr_assert_eq(gort_go(cr_resetter, NULL), 0);
	testwg_wait(&cr.wg);
	cr_assert(gort_timer_stop(cr.t), "the timer was reset, so it was pending");
	cr_assert(!gort_timer_stop(cr.t));
	linger(120 * MS);
	cr_assert_eq(atomic_load(&cr.fired), 0, "a stopped timer ran %ld times: it was armed twice",
		     atomic_load(&cr.fired));
	cr_assert(!gort_timer_reset(cr.t, MS));
	int64_t end = nanotime() + 5 * SEC;
	while (atomic_load(&cr.fired) == 0 && nanotime() < end)
		gort_yield();
	linger(20 * MS);
	cr_assert_eq(atomic_load(&cr.fired), 1);
	gort_timer_free(cr.t);
	return 0;
}

Test(time, concurrent_resets_of_one_timer, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_concurrent_resets, NULL);
}

/*
 * Channel timers, each owned by a goroutine, reset and stopped around their
 * deadline, the Go way: "if (!stop) drain".  A stop that succeeds leaves
 * nothing to receive, one that fails means a value comes, and every value
 * received was sent after the reset that armed it (no stale value).
 */
static struct {
	long rounds;
	_Atomic long stopped, fired;
	struct testwg wg;
} ct;

static void ct_worker(void *arg)
{
	uint64_t s = (uint64_t)(long)arg * 31 + 5;
	gort_timer *t = musttimer(gort_timer_make(3600 * SEC));
	gort_chan *c = gort_timer_chan(t);
	for (long i = 0; i < ct.rounds; i++) {
		int64_t d = (int64_t)(lcg(&s) % 1000) * US;
		int64_t tr = gort_now();
		bool active = gort_timer_reset(t, d);
		cr_assert_eq(active, i == 0, "round %ld: reset found the timer %s", i, active ? "active" : "inactive");
		gort_sleep((int64_t)(lcg(&s) % 1000) * US);
		int64_t v = 0;
		if (gort_timer_stop(t)) {
			atomic_fetch_add(&ct.stopped, 1);
			cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "a value from a timer that was stopped");
		} else {
			atomic_fetch_add(&ct.fired, 1);
			cr_assert(timer_value(t, &v, 5 * SEC), "stop said it fired, but no value came");
			cr_assert_geq(v, tr + d, "a stale value: sent %lld ns before its deadline",
				      (long long)(tr + d - v));
			cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "two values from one firing");
		}
	}
	gort_sleep(2 * MS);
	int64_t v;
	cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "a value after the last stop");
	gort_timer_free(t);
	testwg_done(&ct.wg);
}

static int main_chan_timer_races(void *arg)
{
	ct.rounds = scaled(500, 100);
	testwg_add(&ct.wg, 8);
	for (long w = 0; w < 8; w++)
		cr_assert_eq(gort_go(ct_worker, (void *)w), 0);
	testwg_wait(&ct.wg);
	cr_assert_eq(atomic_load(&ct.stopped) + atomic_load(&ct.fired), 8 * ct.rounds);
	cr_assert_gt(atomic_load(&ct.stopped), 0);
	cr_assert_gt(atomic_load(&ct.fired), 0);
	return 0;
}

Test(time, timer_stop_reset_races, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_chan_timer_races, NULL);
}

Test(time, timer_stop_reset_races_four_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_chan_timer_races, NULL);
}

/* Go's TestTimerStopStress: timers stopped long before they are due never fire. */
static void must_not_fire(void *arg)
{
	cr_assert_fail("timer %ld was not stopped", (long)arg);
}

static void stop_stress(void *arg)
{
	gort_timer *t = musttimer(gort_after_func(2 * SEC, must_not_fire, arg));
	gort_sleep(SEC / 2);
	cr_assert(gort_timer_stop(t));
	gort_timer_free(t);
	testwg_done(&wg);
}

static int main_stop_stress(void *arg)
{
	testwg_add(&wg, 100);
	for (long i = 0; i < 100; i++)
		cr_assert_eq(gort_go(stop_stress, (void *)i), 0);
	testwg_wait(&wg);
	gort_sleep(3 * SEC);
	return 0;
}

Test(time, go_timer_stop_stress, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_stop_stress, NULL);
}
