/*
 * How gort dies: each test runs tests/testprog in a child process and
 * checks the message and the exit status (2), as Go's crash tests do.
 */
#include "testutil.h"

static struct progresult r;

/*
 * ASan's fake stacks (detect_stack_use_after_return) move locals off the
 * real stack, and a deliberate overflow then runs into ASan's own limits
 * before it reaches the guard; these programs are about how gort dies.
 */
static const char asanopts[] = "ASAN_OPTIONS=detect_stack_use_after_return=0:halt_on_error=1";
/* A crash report from a signal handler allocates (symbols, lines): expected. */
static const char tsanopts[] = "TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0";

/* Runs scenario (with env entries, NULL-terminated) and checks it died with status 2. */
static void run_crash(const char *scenario, const char *const *env)
{
	const char *all[8] = {asanopts, tsanopts};
	for (size_t i = 0; env && env[i] && i < 5; i++)
		all[i + 2] = env[i];
	run_prog(&r, scenario, all);
	cr_assert_eq(r.status, 2, "%s: exit status %d, output:\n%s", scenario, r.status, r.out);
}

static void expect_fatal(const char *scenario, const char *const *env, const char *msg)
{
	char want[512];
	snprintf(want, sizeof want, "fatal error: %s\n", msg);
	run_crash(scenario, env);
	cr_assert(strstr(r.out, want) != NULL, "%s: expected \"%s\" in:\n%s", scenario, want, r.out);
}

/* A panic report: lines is a part of it, "panic: ..." and what follows. */
static void expect_panic(const char *scenario, const char *const *env, const char *lines)
{
	run_crash(scenario, env);
	cr_assert(strstr(r.out, lines) != NULL, "%s: expected \"%s\" in:\n%s", scenario, lines, r.out);
}

static void expect_overflow(const char *guard)
{
	char env[64];
	snprintf(env, sizeof env, "GORT_DEBUG=stackguard=%s", guard);
	const char *e[] = {env, NULL};
	expect_fatal("overflow", e, "stack overflow");
	assert_output_has(&r, "runtime: goroutine stack exceeds 262144-byte limit\n");
	assert_output_has(&r, "runtime: sp=0x");
	assert_output_has(&r, "\ngoroutine 2 [running]:\n");
}

Test(crash, overflow_madvise_guard, .timeout = 30) { expect_overflow("madvise"); }
Test(crash, overflow_mprotect_guard, .timeout = 30) { expect_overflow("mprotect"); }

/*
 * Without a hardware guard, an overflow is caught where the stack pointer
 * leaves its stack and memory ends: below a stack of its own mapping, at
 * once (a default stack would first run through the stacks below it).
 * One P: a thread started after the stack was mapped could have its own
 * memory (ASan's thread state) mapped just below it, where the recursion
 * would run through it before it faulted.
 */
Test(crash, overflow_soft, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=stackguard=soft", "GORT_MAXPROCS=1", NULL};
	expect_fatal("overflow-mapped", e, "stack overflow");
	assert_output_has(&r, "runtime: goroutine stack exceeds 131072-byte limit\n");
}

Test(crash, overflow_names_goroutine, .timeout = 30)
{
	expect_fatal("overflow-named", NULL, "stack overflow");
	assert_output_has(&r, "runtime: goroutine \"recurser\"\n");
}

Test(crash, overflow_custom_stack_size, .timeout = 30)
{
	const char *e[] = {"GORT_STACK=64K", NULL};
	expect_fatal("overflow", e, "stack overflow");
	assert_output_has(&r, "runtime: goroutine stack exceeds 65536-byte limit\n");
}

Test(crash, frame_larger_than_guard, .timeout = 30)
{
	expect_fatal("overflow-bigframe", NULL, "stack overflow");
}

Test(crash, soft_stack_red_zone_found_at_exit, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=stackguard=soft", NULL};
	expect_fatal("overflow-redzone", e, "stack overflow");
	assert_output_has(&r, "ran below its stack before it exited");
}

Test(crash, go_outside_main, .timeout = 30)
{
	expect_fatal("go-outside", NULL, "gort_go called outside gort_main");
}

Test(crash, yield_outside_main, .timeout = 30)
{
	expect_fatal("yield-outside", NULL, "gort_yield called outside gort_main");
}

Test(crash, main_twice, .timeout = 30)
{
	expect_fatal("main-twice", NULL, "gort_main called twice");
}

Test(crash, main_in_goroutine, .timeout = 30)
{
	expect_fatal("main-in-goroutine", NULL, "gort_main called from a goroutine");
	assert_output_has(&r, "\ngoroutine 1 [running]:\n");
}

Test(crash, go_nil_func, .timeout = 30)
{
	expect_fatal("go-nil", NULL, "go of nil func value");
}

/*
 * The deadlock checks stay silent while threads the runtime does not own
 * exist, and ThreadSanitizer runs a thread of its own.
 */
Test(crash, goexit_in_main, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_fatal("goexit-main", NULL, "no goroutines (main called runtime.Goexit) - deadlock!");
}

Test(crash, all_asleep, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_fatal("deadlock", NULL, "all goroutines are asleep - deadlock!");
}

Test(crash, bad_maxprocs, .timeout = 30)
{
	const char *e[] = {"GORT_MAXPROCS=two", NULL};
	expect_fatal("env", e, "GORT_MAXPROCS: invalid value \"two\"");
}

Test(crash, bad_stack_size, .timeout = 30)
{
	const char *e1[] = {"GORT_STACK=12x", NULL};
	expect_fatal("env", e1, "GORT_STACK: invalid value \"12x\"");
	const char *e2[] = {"GORT_STACK=4K", NULL};
	expect_fatal("env", e2, "GORT_STACK: stack size must be between 16K and 1G");
}

Test(crash, bad_debug_switch, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=stackguard=paper", NULL};
	expect_fatal("env", e, "GORT_DEBUG stackguard: invalid value \"paper\"");
	const char *ok[] = {"GORT_DEBUG=nosuchswitch=1", NULL};
	run_prog(&r, "env", ok);
	cr_assert_eq(r.status, 0, "unknown switches are ignored, as in GODEBUG:\n%s", r.out);
}

/* ------------------------------------------------------------ panics */

Test(crash, panic_report, .timeout = 30)
{
	expect_panic("panic", NULL, "panic: boom\n\ngoroutine 1 [running]:\npanicker(...)\n\t");
	assert_output_has(&r, "tests/testprog.c:");
	assert_output_has(&r, "main_panic(...)\n");
	/* deferred calls run before the report, as in Go */
	cr_assert(strstr(r.out, "deferred call ran\n") < strstr(r.out, "panic: boom"), "%s", r.out);
}

Test(crash, panic_in_goroutine_names_its_creator, .timeout = 30)
{
	expect_panic("panic-goroutine", NULL, "panic: in a goroutine\n\ngoroutine ");
	assert_output_has(&r, " [running]:\npanicker(...)\n");
	assert_output_has(&r, "panicking_goroutine(...)\n");
	assert_output_has(&r, "created by main_panic_goroutine in goroutine 1\n\t");
}

Test(crash, panic_in_deferred_call, .timeout = 30)
{
	expect_panic("panic-nested", NULL, "panic: first\n\tpanic: second\n\ngoroutine 1 [running]:\n");
	assert_output_has(&r, "second_panicker(...)\n");
	/* the panic that ran the deferred call shows as Go's panic frame */
	assert_output_has(&r, "\npanic(...)\n");
	assert_output_has(&r, "\npanicker(...)\n");
}

Test(crash, repanic_after_recover, .timeout = 30)
{
	expect_panic("panic-repanic", NULL, "panic: first [recovered]\n\tpanic: again\n");
	assert_output_has(&r, "recover_and_repanic(...)\n");
}

Test(crash, panic_value_and_panicf, .timeout = 30)
{
	expect_panic("panic-value", NULL, "panic: (void *) 0x1234\n");
	expect_panic("panicf", NULL, "panic: bad thing 42\n");
}

Test(crash, traceback_none, .timeout = 30)
{
	const char *e[] = {"GORT_TRACEBACK=none", NULL};
	expect_panic("panic", e, "panic: boom\n");
	cr_assert_null(strstr(r.out, "goroutine"), "%s", r.out);
}

Test(crash, segv_report, .timeout = 30)
{
	expect_panic("segv", NULL, "SIGSEGV: segmentation violation\nPC=0x");
	assert_output_has(&r, " addr=0x10\n\ngoroutine ");
	assert_output_has(&r, " [running]:\nnil_deref(...)\n");
	assert_output_has(&r, "created by main_segv in goroutine 1\n");
	assert_output_has(&r, "\nrip    0x");
}

Test(crash, sigfpe_report, .timeout = 30)
{
	expect_panic("sigfpe", NULL, "SIGFPE: floating-point exception\nPC=0x");
	assert_output_has(&r, "\ngoroutine 1 [running]:\ndivide(...)\n");
}

Test(crash, traceback_all_shows_every_goroutine, .timeout = 30)
{
	const char *e[] = {"GORT_TRACEBACK=all", NULL};
	expect_panic("traceback-all", e, "panic: with others\n\ngoroutine 1 [running]:\n");
	assert_output_has(&r, " [waiting, 3 minutes]:\nparked_fn(...)\n");
	assert_output_has(&r, "created by main_traceback_all in goroutine 1\n");
	/* the third one is runnable, or running on the other P */
	cr_assert(strstr(r.out, "yielder_fn(...)\n") != NULL ||
		  strstr(r.out, "\tgoroutine running on other thread; stack unavailable\n") != NULL,
		  "%s", r.out);
	run_crash("traceback-all", NULL);
	cr_assert_null(strstr(r.out, "parked_fn"), "only the panicking goroutine by default:\n%s", r.out);
}

Test(crash, traceback_shows_a_goroutine_that_never_ran_at_its_function, .timeout = 30)
{
	const char *e[] = {"GORT_TRACEBACK=all", "GORT_MAXPROCS=1", NULL};
	expect_panic("traceback-all", e, "panic: with others\n\ngoroutine 1 [running]:\n");
	/* Go's form: the function's first line, and no offset at its entry */
	const char *late = strstr(r.out, " [runnable]:\nlate_fn(...)\n\t");
	cr_assert_not_null(late, "%s", r.out);
	const char *fileline = late + strlen(" [runnable]:\nlate_fn(...)\n");
	const char *end = strchr(fileline, '\n');
	const char *created = "\ncreated by main_traceback_all";
	cr_assert(end != NULL && strncmp(end, created, strlen(created)) == 0 &&
			  memchr(fileline, '+', (size_t)(end - fileline)) == NULL,
		  "%s", r.out);
}

Test(crash, throw_shows_goroutines, .timeout = 30)
{
	expect_fatal("go-nil", NULL, "go of nil func value");
	assert_output_has(&r, "\ngoroutine 1 [running]:\n");
	assert_output_has(&r, "main_go_nil(...)\n");
}

Test(crash, overflow_shows_the_recursion, .timeout = 30)
{
	expect_fatal("overflow", NULL, "stack overflow");
	assert_output_has(&r, "\ngoroutine 2 [running]:\nrecurse(...)\n");
}

Test(crash, long_traceback_is_cut_at_100_frames, .timeout = 30)
{
	expect_panic("panic-deep", NULL, "panic: deep\n\ngoroutine 1 [running]:\ndeep(...)\n");
	assert_output_has(&r, "...additional frames elided...\n");
	int frames = 0;
	for (const char *p = r.out; (p = strstr(p, "\ndeep(...)\n")) != NULL; p++)
		frames++;
	cr_assert_eq(frames, 100, "%d frames:\n%s", frames, r.out);
}

Test(crash, defer_on_system_stack, .timeout = 30)
{
	expect_fatal("defer-system-stack", NULL, "defer on system stack");
	expect_fatal("defer-scope-system-stack", NULL, "defer on system stack");
}

Test(crash, defer_outside_goroutine, .timeout = 30)
{
	expect_fatal("defer-outside", NULL,
		     "gort_defer called on a thread that is not running a goroutine");
	expect_fatal("defer-scope-outside", NULL,
		     "GORT_DEFER called on a thread that is not running a goroutine");
}

Test(crash, goexit_in_panic, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_fatal("goexit-in-panic", NULL, "no goroutines (main called runtime.Goexit) - deadlock!");
}

Test(crash, panic_after_goexit, .timeout = 30)
{
	expect_panic("panic-after-goexit", NULL, "panic: hello\n");
}

Test(crash, recovered_panic_after_goexit, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_fatal("recovered-panic-after-goexit", NULL,
		     "no goroutines (main called runtime.Goexit) - deadlock!");
}

/* ------------------------------------------------ channels, select, sync, timers */

/*
 * Deadlock reports name what each goroutine waits for, as Go's do
 * ("goroutine 1 [chan receive]:"); they stay silent while
 * ThreadSanitizer's own thread exists, hence .disabled = UNDER_TSAN.
 */

/*
 * Asserts that a goroutine whose header ends with header ("goroutine 1
 * [chan receive]:", or " [chan receive]:" for any) shows fn among its
 * frames.
 */
static void assert_goroutine(const char *header, const char *fn)
{
	char hdr[128], frame[128];
	snprintf(hdr, sizeof hdr, "%s\n", header);
	snprintf(frame, sizeof frame, "\n%s(...)\n", fn);
	for (const char *p = r.out; (p = strstr(p, hdr)) != NULL; p++) {
		const char *body = p + strlen(hdr) - 1;
		const char *end = strstr(body, "\ngoroutine ");
		const char *f = strstr(body, frame);
		if (f != NULL && (end == NULL || f < end))
			return;
	}
	cr_assert_fail("no goroutine \"%s\" with %s in its traceback:\n%s", header, fn, r.out);
}

/* A deadlock report in which goroutine 1 waits for state, in fn (NULL: not checked). */
static void expect_deadlock(const char *scenario, const char *state, const char *fn)
{
	char header[128];
	snprintf(header, sizeof header, "\ngoroutine 1 [%s]:", state);
	expect_fatal(scenario, NULL, "all goroutines are asleep - deadlock!");
	assert_output_has(&r, header);
	if (fn != NULL)
		assert_goroutine(header, fn);
}

Test(crash, deadlock_chan_receive, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("chan-deadlock", "chan receive", "main_chan_deadlock");
}

Test(crash, deadlock_chan_send, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("chan-send-deadlock", "chan send", "main_chan_send_deadlock");
}

Test(crash, deadlock_nil_chan, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("nilchan-deadlock", "chan receive (nil chan)", "main_nilchan_deadlock");
}

Test(crash, deadlock_select, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("select-deadlock", "select", "main_select_deadlock");
	expect_deadlock("select-nocases-deadlock", "select (no cases)", "main_select_nocases_deadlock");
}

Test(crash, deadlock_mutex, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("mutex-deadlock", "sync.Mutex.Lock", "main_mutex_deadlock");
}

Test(crash, deadlock_rwmutex, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("rwmutex-deadlock", "sync.RWMutex.Lock", "main_rwmutex_deadlock");
}

Test(crash, deadlock_cond, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("cond-deadlock", "sync.Cond.Wait", "main_cond_deadlock");
}

Test(crash, deadlock_waitgroup, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("waitgroup-deadlock", "sync.WaitGroup.Wait", "main_waitgroup_deadlock");
}

/* A fatal error's report shows every goroutine, each with what it waits for. */
Test(crash, deadlock_shows_every_goroutine, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("deadlock-many", "sync.WaitGroup.Wait", "main_deadlock_many");
	assert_goroutine(" [chan receive]:", "dl_receiver");
	assert_goroutine(" [chan send]:", "dl_sender");
	assert_goroutine(" [sync.Cond.Wait]:", "dl_cond_waiter");
	assert_output_has(&r, "created by main_deadlock_many in goroutine 1\n");
}

/* Once the timers have run out, a deadlock is a deadlock. */
Test(crash, deadlock_after_timers_ran_out, .timeout = 30, .disabled = UNDER_TSAN)
{
	expect_deadlock("deadlock-after-timers", "chan receive", "main_deadlock_after_timers");
	assert_goroutine(" [chan receive]:", "dt_sleeper");
}

Test(crash, unlock_of_unlocked_mutex, .timeout = 30)
{
	expect_fatal("mutex-unlock-unlocked", NULL, "sync: unlock of unlocked mutex");
	cr_assert_null(strstr(r.out, "recovered"), "a fatal error was recovered:\n%s", r.out);
}

Test(crash, unlock_of_unlocked_rwmutex, .timeout = 30)
{
	expect_fatal("rwmutex-unlock-unlocked", NULL, "sync: Unlock of unlocked RWMutex");
	expect_fatal("rwmutex-runlock-unlocked", NULL, "sync: RUnlock of unlocked RWMutex");
}

/* Freeing a channel a goroutine is blocked on is fatal, not a use after free. */
Test(crash, free_of_channel_with_blocked_goroutine, .timeout = 30)
{
	run_crash("chan-free-blocked", NULL);
	assert_output_has(&r, "fatal error: ");
	cr_assert_null(strstr(r.out, "freed"), "gort_chan_free returned:\n%s", r.out);
}

Test(crash, channel_panics_unrecovered, .timeout = 30)
{
	expect_panic("send-closed", NULL, "panic: send on closed channel\n\ngoroutine 1 [running]:\n");
	assert_goroutine("goroutine 1 [running]:", "main_send_closed");
	expect_panic("close-closed", NULL, "panic: close of closed channel\n\ngoroutine 1 [running]:\n");
	expect_panic("close-nil", NULL, "panic: close of nil channel\n\ngoroutine 1 [running]:\n");
}

Test(crash, blocked_send_panics_on_close, .timeout = 30)
{
	expect_panic("blocked-send-closed", NULL, "panic: send on closed channel\n\ngoroutine ");
	assert_goroutine(" [running]:", "blocked_sender");
}

Test(crash, negative_waitgroup_counter_unrecovered, .timeout = 30)
{
	expect_panic("waitgroup-negative", NULL, "panic: sync: negative WaitGroup counter\n\ngoroutine 1 [running]:\n");
}

/* An after_func's function runs in a goroutine of its own: a panic there is that goroutine's. */
Test(crash, panic_in_after_func, .timeout = 30)
{
	expect_panic("after-func-panic", NULL, "panic: in a timer\n\ngoroutine ");
	assert_goroutine(" [running]:", "timer_panics");
	cr_assert_null(strstr(r.out, "goroutine 1 [running]:"), "the panic is not main's:\n%s", r.out);
}
