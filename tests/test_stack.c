/*
 * Goroutine stacks: legal depth up to the limit, sizes from gort_attr and
 * GORT_STACK, errors for impossible sizes, and idle stacks giving their
 * memory back.  Overflows are in test_crash.c.
 */
#include <stdatomic.h>

#include "runtime.h"
#include "testutil.h"

static struct testwg wg;

/* Uses about n bytes of stack, touching every page. */
static __attribute__((noinline)) long dig(long n)
{
	volatile char buf[2048];
	buf[0] = (char)n;
	buf[2047] = (char)n;
	if (n <= 2048)
		return buf[0];
	return dig(n - 2048 - 64) + buf[2047];
}

static _Atomic long depthok;

static void digger(void *arg)
{
	dig((long)arg);
	atomic_fetch_add(&depthok, 1);
	testwg_done(&wg);
}

static int main_depth(void *arg)
{
	long usable = *(long *)arg;
	gort_attr big = {.stack_size = 4 << 20, .name = "deep"};
	testwg_add(&wg, 3);
	gort_go(digger, (void *)(usable * 9 / 10));
	gort_go_attr(&big, digger, (void *)(3L << 20));
	gort_attr tiny = {.stack_size = 1}; /* rounded up to the 16 KiB minimum */
	gort_go_attr(&tiny, digger, (void *)8192);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&depthok), 3);
	gort_attr huge = {.stack_size = (size_t)2 << 30};
	cr_assert_eq(go_errno(&huge, digger, NULL), EINVAL);
	return 0;
}

Test(stack, deep_but_legal_recursion, .timeout = 30)
{
	long usable = 256 << 10;
	run_main(main_depth, &usable);
}

Test(stack, gort_stack_sets_the_default, .timeout = 30)
{
	setenv("GORT_STACK", "1M", 1);
	long usable = 1 << 20;
	run_main(main_depth, &usable);
}

/* ------------------------------------------------------ memory goes back */

static long rsskb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, rss;
	cr_assert_eq(fscanf(f, "%ld %ld", &size, &rss), 2);
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static struct testgate gate;

static void fat(void *arg)
{
	dig(128 << 10);
	testgate_wait(&gate);
	testwg_done(&wg);
}

static int main_release(void *arg)
{
	long n = scaled(2000, 200);
	long before = rsskb();
	testwg_add(&wg, n);
	for (long i = 0; i < n; i++)
		gort_go(fat, NULL);
	while (testgate_parked(&gate) < n)
		gort_yield();
	long peak = rsskb();
	cr_assert_gt(peak - before, n * 100, "the burst did not use its stacks? %ld KiB", peak - before);
	testgate_open(&gate);
	testwg_wait(&wg);
	/* the pool gives memory back once the runtime goes idle, as it does here */
	long after = rsskb();
	for (int i = 0; i < 500 && after - before >= 64 << 10; i++) {
		gort_sleep(10 * 1000 * 1000);
		after = rsskb();
	}
	cr_assert_lt(after - before, 64 << 10, "idle stacks kept %ld KiB of %ld KiB", after - before,
		     peak - before);
	return 0;
}

Test(stack, idle_stacks_return_their_memory, .timeout = 60, .disabled = UNDER_SANITIZER)
{
	run_main(main_release, NULL);
}
