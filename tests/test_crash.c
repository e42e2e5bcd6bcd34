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

static void expect_fatal(const char *scenario, const char *const *env, const char *msg)
{
	const char *all[8] = {asanopts};
	for (size_t i = 0; env && env[i] && i < 6; i++)
		all[i + 1] = env[i];
	run_prog(&r, scenario, all);
	cr_assert_eq(r.status, 2, "%s: exit status %d, output:\n%s", scenario, r.status, r.out);
	char want[512];
	snprintf(want, sizeof want, "fatal error: %s\n", msg);
	cr_assert(strstr(r.out, want) != NULL, "%s: expected \"%s\" in:\n%s", scenario, want, r.out);
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
 */
Test(crash, overflow_soft, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=stackguard=soft", NULL};
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
