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
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: testprog scenario\n");
		return 1;
	}
	if (strcmp(argv[1], "go-outside") == 0)
		return gort_go(worker, NULL);
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
