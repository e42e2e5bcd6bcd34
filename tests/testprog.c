/*
 * Programs that are meant to die, run by the tests in a child process (as
 * Go's crash tests run testdata/testprog).  argv[1] names the scenario.
 */
#include <alloca.h>
#include <gort.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static volatile char sink;

/* Recursion that never ends: each frame keeps 1 KiB live. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int depth)
{
	volatile char buf[1024];
	buf[0] = (char)depth;
	buf[1023] = (char)depth;
	return recurse(depth + 1) + buf[0] + buf[1023];
}

static void overflow(void *arg)
{
	sink = (char)recurse(0);
}

static int main_overflow(void *arg)
{
	gort_go(overflow, NULL);
	for (;;)
		gort_yield();
	return 0;
}

/* A stack of its own mapping: nothing in use lies just below it. */
static int main_overflow_mapped(void *arg)
{
	gort_attr attr = {.stack_size = 128 << 10};
	gort_go_attr(&attr, overflow, NULL);
	for (;;)
		gort_yield();
	return 0;
}

static int main_overflow_named(void *arg)
{
	gort_attr attr = {.name = "recurser"};
	gort_go_attr(&attr, overflow, NULL);
	for (;;)
		gort_yield();
	return 0;
}

/*
 * A frame far larger than the guard, live across a switch: the stack
 * pointer itself is below the stack when the goroutine yields.
 */
static void bigframe(void *arg)
{
	volatile char *p = alloca(stack_default + 4 * stack_guard);
	p[0] = 1;
	gort_yield();
	sink = p[0];
}

static int main_bigframe(void *arg)
{
	gort_go(bigframe, NULL);
	for (;;)
		gort_yield();
	return 0;
}

/*
 * On a soft stack (GORT_DEBUG=stackguard=soft), writes into the red zone
 * below the stack and returns as if nothing happened: found at exit.
 */
static void redzone(void *arg)
{
	char *lo = (char *)getg()->stack.lo;
	lo[-100] = 1;
}

static int main_redzone(void *arg)
{
	gort_go(redzone, NULL);
	for (;;)
		gort_yield();
	return 0;
}

static int main_nop(void *arg)
{
	return 0;
}

static int main_twice(void *arg)
{
	return 0;
}

static void worker(void *arg)
{
}

static int main_in_goroutine(void *arg)
{
	return gort_main(main_nop, NULL);
}

static int main_go_nil(void *arg)
{
	gort_go(NULL, NULL);
	return 0;
}

static void sleeper(void *arg)
{
	for (int i = 0; i < 1000; i++)
		gort_yield();
}

static int main_goexit(void *arg)
{
	gort_go(sleeper, NULL);
	gort_goexit();
	return 0;
}

static int main_deadlock(void *arg)
{
	gopark(NULL, NULL, waitReasonZero);
	return 0;
}

/* Stops under a debugger, inside a goroutine (tests/test_abi.c). */
static __attribute__((noinline)) void trapper(void *arg)
{
	raise(SIGTRAP);
	sink = 1;
}

static int main_trap(void *arg)
{
	gort_go(trapper, NULL);
	while (sink == 0)
		gort_yield();
	return 0;
}

/* ------------------------------------------------------------ panics */

static __attribute__((noinline)) void panicker(const char *msg)
{
	gort_panic(msg);
}

static void print_deferred(void *arg)
{
	fputs(arg, stderr);
}

static int main_panic(void *arg)
{
	gort_defer(print_deferred, "deferred call ran\n");
	panicker("boom");
	return 0;
}

static void panicking_goroutine(void *arg)
{
	panicker("in a goroutine");
}

static int main_panic_goroutine(void *arg)
{
	gort_go(panicking_goroutine, NULL);
	for (;;)
		gort_yield();
	return 0;
}

static __attribute__((noinline)) void second_panicker(void *arg)
{
	gort_panic("second");
}

static int main_panic_nested(void *arg)
{
	gort_defer(second_panicker, NULL);
	panicker("first");
	return 0;
}

static void recover_and_repanic(void *arg)
{
	gort_recover(NULL);
	gort_panic("again");
}

static int main_panic_repanic(void *arg)
{
	gort_defer(recover_and_repanic, NULL);
	panicker("first");
	return 0;
}

static int main_panic_value(void *arg)
{
	gort_panic_value((void *)0x1234, NULL);
}

static int main_panicf(void *arg)
{
	gort_panicf("bad %s %d", "thing", 42);
}

/* Real faults: UBSan, when on, must not catch them first. */
#define FAULTS __attribute__((noinline, no_sanitize_undefined))

static FAULTS void nil_deref(void *arg)
{
	*(volatile int *)arg = 1;
}

static int main_segv(void *arg)
{
	gort_go(nil_deref, (void *)16);
	for (;;)
		gort_yield();
	return 0;
}

static volatile int zero;

static FAULTS void divide(void *arg)
{
	sink = (char)(7 / zero);
}

static int main_sigfpe(void *arg)
{
	divide(NULL);
	return 0;
}

/*
 * Other goroutines in a report (GORT_TRACEBACK=all): one parked, made to
 * look parked for three minutes, and one runnable.
 */
static struct g *parked;

static __attribute__((noinline)) void parked_fn(void *arg)
{
	parked = getg();
	gopark(NULL, NULL, waitReasonZero);
	sink = 1; /* not a tail call: the frame stays on the stack */
}

static __attribute__((noinline)) void yielder_fn(void *arg)
{
	for (;;)
		gort_yield();
}

static int main_traceback_all(void *arg)
{
	gort_go(parked_fn, NULL);
	gort_go(yielder_fn, NULL);
	while (parked == NULL || atomic_load(&parked->atomicstatus) != Gwaiting)
		gort_yield();
	parked->waitsince = nanotime_coarse() - 3 * 60000000000LL - 1000000000LL;
	panicker("with others");
	return 0;
}

/* A panic 150 frames deep: the report shows 100. */
static __attribute__((noinline)) void deep(int n)
{
	if (n == 0)
		gort_panic("deep");
	deep(n - 1);
	sink = (char)n;
}

static int main_panic_deep(void *arg)
{
	deep(150);
	return 0;
}

static void defers(void *arg)
{
	gort_defer(print_deferred, "");
}

static void defers_scope(void *arg)
{
	GORT_DEFER(print_deferred, "");
}

static int main_defer_system_stack(void *arg)
{
	systemstack(defers, NULL);
	return 0;
}

static int main_defer_scope_system_stack(void *arg)
{
	systemstack(defers_scope, NULL);
	return 0;
}

/* Go's crash tests TestGoexitInPanic, TestPanicAfterGoexit, TestRecoveredPanicAfterGoexit. */
static void goexits(void *arg)
{
	gort_goexit();
}

static int main_goexit_in_panic(void *arg)
{
	gort_defer(goexits, NULL);
	gort_panic("hello");
}

static void panics_hello(void *arg)
{
	gort_panic("hello");
}

static int main_panic_after_goexit(void *arg)
{
	gort_defer(panics_hello, NULL);
	gort_goexit();
}

static void must_recover(void *arg)
{
	if (!gort_recover(NULL))
		gort_panic("bad recover");
}

static int main_recovered_panic_after_goexit(void *arg)
{
	gort_defer(must_recover, NULL);
	gort_defer(panics_hello, NULL);
	gort_goexit();
}

static const struct {
	const char *name;
	int (*fn)(void *);
} scenarios[] = {
	{"overflow", main_overflow},
	{"overflow-named", main_overflow_named},
	{"overflow-mapped", main_overflow_mapped},
	{"overflow-bigframe", main_bigframe},
	{"overflow-redzone", main_redzone},
	{"main-in-goroutine", main_in_goroutine},
	{"go-nil", main_go_nil},
	{"goexit-main", main_goexit},
	{"deadlock", main_deadlock},
	{"env", main_nop},
	{"gdb-trap", main_trap},
	{"panic", main_panic},
	{"panic-goroutine", main_panic_goroutine},
	{"panic-nested", main_panic_nested},
	{"panic-repanic", main_panic_repanic},
	{"panic-value", main_panic_value},
	{"panic-deep", main_panic_deep},
	{"panicf", main_panicf},
	{"segv", main_segv},
	{"sigfpe", main_sigfpe},
	{"traceback-all", main_traceback_all},
	{"defer-system-stack", main_defer_system_stack},
	{"defer-scope-system-stack", main_defer_scope_system_stack},
	{"goexit-in-panic", main_goexit_in_panic},
	{"panic-after-goexit", main_panic_after_goexit},
	{"recovered-panic-after-goexit", main_recovered_panic_after_goexit},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: testprog scenario\n");
		return 1;
	}
	if (strcmp(argv[1], "go-outside") == 0)
		return gort_go(worker, NULL);
	if (strcmp(argv[1], "defer-outside") == 0) {
		gort_defer(print_deferred, "");
		return 0;
	}
	if (strcmp(argv[1], "defer-scope-outside") == 0) {
		GORT_DEFER(print_deferred, "");
		return 0;
	}
	if (strcmp(argv[1], "yield-outside") == 0) {
		gort_yield();
		return 0;
	}
	if (strcmp(argv[1], "main-twice") == 0) {
		gort_main(main_twice, NULL);
		return gort_main(main_twice, NULL);
	}
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			return gort_main(scenarios[i].fn, NULL);
	fprintf(stderr, "testprog: unknown scenario %s\n", argv[1]);
	return 1;
}
