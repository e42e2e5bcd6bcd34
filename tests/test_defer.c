/*
 * defer, panic, recover and Goexit: the order calls run in, which recover
 * succeeds, what a recovering frame returns, and the shape of Go's
 * TestIssue37688 (seed 004).  Crash output is in test_crash.c.
 */
#include "testutil.h"

static struct testwg wg;

/* ------------------------------------------------------------ a call log */

static char logbuf[4096];
static size_t loglen;

static void logs(const char *s)
{
	size_t n = strlen(s);
	cr_assert_lt(loglen + n, sizeof logbuf, "log overflow");
	memcpy(logbuf + loglen, s, n + 1);
	loglen += n;
}

static void logarg(void *arg)
{
	logs(arg);
}

#define assert_log(want) cr_assert_str_eq(logbuf, want)

/* ------------------------------------------------------------ order */

struct big {
	char tag[2];
	unsigned char fill[300];
};

static void logbig(void *args)
{
	const struct big *b = args;
	for (size_t i = 0; i < sizeof b->fill; i++)
		cr_assert_eq(b->fill[i], (unsigned char)i, "copied block damaged at %zu", i);
	logs(b->tag);
}

static void logsmall(void *args)
{
	logs(args);
}

static void allkinds(void *arg)
{
	char small[4] = "b";
	struct big big = {.tag = "d"};
	for (size_t i = 0; i < sizeof big.fill; i++)
		big.fill[i] = (unsigned char)i;
	gort_defer(logarg, "a");
	gort_defer_copy(logsmall, small, sizeof small);
	small[0] = 'X'; /* copied at the defer: the call sees "b" */
	{
		GORT_DEFER(logarg, "c");
		logs("[");
	}
	gort_defer_copy(logbig, &big, sizeof big);
	memset(&big, 0, sizeof big);
	GORT_DEFER(logarg, "e");
	gort_defer(logarg, "f"); /* after e, in e's scope: runs before e */
	logs("]");
}

static int main_allkinds(void *arg)
{
	cr_assert_eq(gort_call(allkinds, NULL), 0);
	assert_log("[c]fedba");
	return 0;
}

Test(defer, lifo_across_kinds, .timeout = 30) { run_main(main_allkinds, NULL); }

/* A deferred call that defers: the new call belongs to the same frame and runs next. */
static void defers_more(void *arg)
{
	logs("1");
	gort_defer(logarg, "2");
}

static void nested_defer(void *arg)
{
	gort_defer(logarg, "3");
	gort_defer(defers_more, NULL);
	gort_panic("x");
}

static void recover_it(void *arg)
{
	cr_assert(gort_recover(NULL));
}

static void nested_defer_recovered(void *arg)
{
	gort_defer(recover_it, NULL);
	nested_defer(arg);
}

static int main_defer_in_deferred_panic(void *arg)
{
	cr_assert_eq(gort_call(nested_defer_recovered, NULL), 1);
	assert_log("123");
	return 0;
}

Test(defer, defer_inside_deferred_call_during_panic, .timeout = 30)
{
	run_main(main_defer_in_deferred_panic, NULL);
}

/* ------------------------------------------------------------ recover */

static int recovered;
static gort_panic_info info;

static void try_recover(void *arg)
{
	if (gort_recover(&info))
		recovered++;
}

static void no_panic(void *arg)
{
	gort_defer(try_recover, NULL);
	cr_assert(!gort_recover(NULL), "recover outside any deferred call");
}

static void nested_call_recover(void *arg)
{
	/* a gort_call frame between the deferred call and the recover: no */
	cr_assert_eq(gort_call(try_recover, NULL), 0);
	cr_assert_eq(recovered, 0);
	try_recover(NULL); /* the deferred call itself: yes, even from a helper */
	cr_assert_eq(recovered, 1);
	cr_assert_str_eq(info.msg, "boom");
	try_recover(NULL); /* once only */
	cr_assert_eq(recovered, 1);
}

static void panics_boom(void *arg)
{
	gort_defer(try_recover, NULL); /* runs after the recovery: the panic is over */
	gort_defer(nested_call_recover, NULL);
	gort_panic("boom");
}

static int main_recover_rules(void *arg)
{
	cr_assert(!gort_recover(NULL));
	cr_assert_eq(gort_call(no_panic, NULL), 0);
	cr_assert_eq(recovered, 0);
	cr_assert_eq(gort_call(panics_boom, NULL), 1);
	cr_assert_eq(recovered, 1);
	return 0;
}

Test(defer, recover_only_in_a_deferred_call_the_panic_runs, .timeout = 30)
{
	run_main(main_recover_rules, NULL);
}

/* A deferred call that runs at a normal return cannot recover an outer panic. */
static void inner_returns(void *arg)
{
	gort_defer(try_recover, NULL);
}

static void calls_inner(void *arg)
{
	gort_call(inner_returns, NULL);
	cr_assert_eq(recovered, 0, "a normal return's deferred call recovered an outer panic");
	try_recover(NULL);
}

static void outer_panics(void *arg)
{
	gort_defer(calls_inner, NULL);
	gort_panic("outer");
}

static int main_recover_normal_return(void *arg)
{
	cr_assert_eq(gort_call(outer_panics, NULL), 1);
	cr_assert_eq(recovered, 1);
	cr_assert_str_eq(info.msg, "outer");
	return 0;
}

Test(defer, recover_fails_in_a_normal_return_during_a_panic, .timeout = 30)
{
	run_main(main_recover_normal_return, NULL);
}

/* A GORT_DEFER scope that ends inside a deferred call the panic runs is part of that call. */
static void scope_in_deferred(void *arg)
{
	GORT_DEFER(try_recover, NULL);
}

static void panics_scoped(void *arg)
{
	gort_defer(scope_in_deferred, NULL);
	gort_panic("scoped");
}

static int main_recover_in_scope(void *arg)
{
	cr_assert_eq(gort_call(panics_scoped, NULL), 1);
	cr_assert_eq(recovered, 1);
	cr_assert_str_eq(info.msg, "scoped");
	return 0;
}

Test(defer, recover_in_scope_ending_inside_deferred_call, .timeout = 30)
{
	run_main(main_recover_in_scope, NULL);
}

/* A panic in a deferred call replaces the one running it. */
static void panics_second(void *arg)
{
	gort_panicf("second %d", 2);
}

static void check_second(void *arg)
{
	cr_assert(gort_recover(&info));
	cr_assert_str_eq(info.msg, "second 2");
	logs("r");
}

static void repanic(void *arg)
{
	gort_defer(check_second, NULL);
	gort_defer(logarg, "s"); /* the second panic runs it */
	gort_defer(panics_second, NULL);
	gort_panic("first");
}

static int main_repanic(void *arg)
{
	cr_assert_eq(gort_call(repanic, NULL), 1);
	assert_log("sr");
	return 0;
}

Test(defer, panic_in_deferred_call_replaces_the_panic, .timeout = 30) { run_main(main_repanic, NULL); }

/*
 * Each deferred call recovers the panic before it and raises its own (Go's
 * TestDeferWithRepeatedRepanics): every panic is recovered exactly once,
 * by the next deferred call down, and the frame returns 1.
 */
static void recover_and_raise(void *arg)
{
	gort_panic_info pi;
	cr_assert(gort_recover(&pi));
	logs(pi.msg);
	if (arg != NULL)
		gort_panic(arg);
}

static void repeated_repanics(void *arg)
{
	gort_defer(recover_and_raise, NULL);
	gort_defer(recover_and_raise, "3");
	gort_defer(recover_and_raise, "2");
	gort_panic("1");
}

static int main_repeated_repanics(void *arg)
{
	for (int i = 0; i < 3; i++) {
		loglen = 0;
		cr_assert_eq(gort_call(repeated_repanics, NULL), 1);
		assert_log("123");
	}
	return 0;
}

Test(defer, repeated_repanics, .timeout = 30) { run_main(main_repeated_repanics, NULL); }

static int value;

static void check_value(void *arg)
{
	cr_assert(gort_recover(&info));
	cr_assert_eq(info.value, &value);
	cr_assert_null(info.msg);
}

static void panics_value(void *arg)
{
	gort_defer(check_value, NULL);
	gort_panic_value(&value, NULL);
}

static int main_panic_value(void *arg)
{
	cr_assert_eq(gort_call(panics_value, NULL), 1);
	return 0;
}

Test(defer, panic_value_reaches_recover, .timeout = 30) { run_main(main_panic_value, NULL); }

/* ------------------------------------------------------------ Goexit */

static void wgdone(void *arg)
{
	testwg_done(arg);
}

static void recover_must_fail(void *arg)
{
	cr_assert(!gort_recover(NULL), "recover stopped a Goexit");
	logs(arg);
}

static void goexiter(void *arg)
{
	gort_defer(wgdone, &wg);
	gort_defer(recover_must_fail, "g");
	{
		GORT_DEFER(logarg, "s");
		gort_goexit();
	}
	cr_assert_fail("code after gort_goexit ran");
}

static int main_goexit(void *arg)
{
	testwg_add(&wg, 1);
	gort_go(goexiter, NULL);
	testwg_wait(&wg);
	assert_log("sg");
	return 0;
}

Test(defer, goexit_runs_every_deferred_call, .timeout = 30) { run_main(main_goexit, NULL); }

/*
 * Go's TestRecoverBeforePanicAfterGoexit (#29226): a panic raised by a
 * deferred call that Goexit runs, and recovered, does not cancel the
 * Goexit.
 */
static void recover_hello(void *arg)
{
	cr_assert(gort_recover(&info), "bad recover");
	cr_assert_str_eq(info.msg, "hello");
	logs("r");
}

static void panics_hello(void *arg)
{
	gort_panic("hello");
}

static void goexit_then_panic(void *arg)
{
	gort_defer(wgdone, &wg);
	gort_defer(recover_hello, NULL);
	gort_defer(panics_hello, NULL);
	gort_goexit();
}

static void goexit_in_frame(void *arg)
{
	/* and not even from inside a frame that could resume */
	cr_assert_eq(gort_call(goexit_then_panic, NULL), 0);
	cr_assert_fail("the recovering frame resumed after gort_goexit");
}

static int main_goexit_recover(void *arg)
{
	testwg_add(&wg, 2);
	gort_go(goexit_then_panic, NULL);
	gort_go(goexit_in_frame, NULL);
	testwg_wait(&wg);
	assert_log("rr");
	return 0;
}

Test(defer, recovered_panic_does_not_cancel_goexit, .timeout = 30)
{
	run_main(main_goexit_recover, NULL);
}

/* A goroutine's entry frame recovers: the goroutine ends normally. */
static void entry_recovers(void *arg)
{
	gort_defer(wgdone, &wg);
	gort_defer(recover_it, NULL);
	gort_panic("in a goroutine");
}

static int main_entry_recover(void *arg)
{
	testwg_add(&wg, 1);
	gort_go(entry_recovers, NULL);
	testwg_wait(&wg);
	return 0;
}

Test(defer, entry_frame_recovers, .timeout = 30) { run_main(main_entry_recover, NULL); }

/* main_fn's own deferred call recovers: gort_main returns 0, as main returning. */
static int main_recovers(void *arg)
{
	gort_defer(recover_it, NULL);
	gort_panic("in main");
	return 7;
}

Test(defer, main_recovers_and_returns_zero, .timeout = 30)
{
	cr_assert_eq(gort_main(main_recovers, NULL), 0);
}

/* ------------------------------------------------------------ seed 004 */

/*
 * Go's TestIssue37688 in C: pooled records registered in a loop, records
 * in C scopes, a large copied argument block, a panic recovered by a
 * deferred call, then recursion deep enough to overwrite the stack where
 * the abandoned frames were, from two stack depths.  A record left linked
 * or read after its frame died shows up as a wrong log, or under ASan and
 * Valgrind as a bad access.
 */
struct ffargs {
	int a, b, c, d, e, f, g, h, i;
	char pad[200];
};

static void method1(void *arg)
{
	logs("1");
}

static void method2(void *arg)
{
	logs("2");
}

static void ff1_deferred(void *args)
{
	const struct ffargs *x = args;
	if (gort_recover(&info)) {
		cr_assert_str_eq(info.msg, "ff1 panic");
		logs("R");
	}
	cr_assert(x->a == 1 && x->b == 2 && x->c == 3 && x->d == 4 && x->e == 5 && x->f == 6 &&
		  x->g == 7 && x->h == 8 && x->i == 9);
	logs("D");
}

static void ff1(void *arg)
{
	gort_defer(method1, NULL);
	struct ffargs x = {1, 2, 3, 4, 5, 6, 7, 8, 9, {0}};
	gort_defer_copy(ff1_deferred, &x, sizeof x);
	gort_panic("ff1 panic");
}

static __attribute__((noinline)) int rec1(int max)
{
	volatile char frame[64];
	frame[0] = (char)max;
	if (max > 0)
		return rec1(max - 1) + frame[0];
	logs("F");
	return frame[0];
}

static void g2(void *arg)
{
	for (int i = 0; i < 1; i++)
		gort_defer(method1, NULL);
	GORT_DEFER(method2, NULL);
	GORT_DEFER(method1, NULL);
	cr_assert_eq(gort_call(ff1, NULL), 1);
	rec1(2000);
}

static void g3(void *arg)
{
	cr_assert_eq(gort_call(g2, NULL), 0);
}

static void issue37688(void *arg)
{
	for (int j = 0; j < 10; j++) {
		loglen = 0;
		logbuf[0] = 0;
		cr_assert_eq(gort_call(g2, NULL), 0);
		assert_log("RD1F121");
		loglen = 0;
		cr_assert_eq(gort_call(g3, NULL), 0);
		assert_log("RD1F121");
	}
	testwg_done(&wg);
}

/* Sanitizers' frames are larger: the recursion gets a stack that holds it. */
static int main_issue37688(void *arg)
{
	gort_attr attr = {.stack_size = 4 << 20};
	testwg_add(&wg, 1);
	cr_assert_eq(gort_go_attr(&attr, issue37688, NULL), 0);
	testwg_wait(&wg);
	return 0;
}

Test(defer, issue37688, .timeout = 60) { run_main(main_issue37688, NULL); }

/*
 * The g0 check (GORT_DEBUG=invariants=1) at every schedule while defers
 * and panics run on many goroutines across Ps, each switching inside its
 * deferred calls; every recovery is counted.
 */
static _Atomic long recoveries;

static void yield_and_recover(void *arg)
{
	gort_yield();
	if (gort_recover(NULL))
		atomic_fetch_add(&recoveries, 1);
}

static void yield_deferred(void *arg)
{
	gort_yield();
}

static void churn_frame(void *arg)
{
	gort_defer(yield_and_recover, NULL);
	GORT_DEFER(yield_deferred, NULL);
	int n = 7;
	gort_defer_copy(yield_deferred, &n, sizeof n);
	gort_panicf("churn %d", n);
}

static void churner(void *arg)
{
	long rounds = (long)arg;
	for (long i = 0; i < rounds; i++)
		cr_assert_eq(gort_call(churn_frame, NULL), 1);
	testwg_done(&wg);
}

static int main_churn(void *arg)
{
	long gs = 64, rounds = scaled(200, 50);
	testwg_add(&wg, gs);
	for (long i = 0; i < gs; i++)
		cr_assert_eq(gort_go(churner, (void *)rounds), 0);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&recoveries), gs * rounds);
	return 0;
}

Test(defer, churn_across_ps_with_invariant_checks, .timeout = 120)
{
	setenv("GORT_DEBUG", "invariants=1", 1);
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_churn, NULL);
}
