/*
 * defer: a call with one deferred call, of each kind; reports the cost of
 * one call with its defer, a line each:
 *
 *   defer_scope  a function whose body is one GORT_DEFER
 *   defer_heap   gort_call of a function that does one gort_defer
 *   defer_copy   gort_call of a function that does one gort_defer_copy of
 *                a 16-byte argument block
 *
 * The deferred functions add to a counter, which is checked.  Twin:
 * bench/go/defer (an open-coded defer, a defer in a loop, and a defer in a
 * loop with two int arguments).
 */
#include <gort.h>

#include "bench.h"

#define NOINLINE __attribute__((noinline))

struct pair {
	long a, b;
};

static long counter;

static NOINLINE void bump(void *arg)
{
	counter++;
}

static NOINLINE void add(void *args)
{
	const struct pair *p = args;
	counter += p->a + p->b;
}

static NOINLINE void defer_scope(void)
{
	GORT_DEFER(bump, NULL);
}

static NOINLINE void defer_heap(void *arg)
{
	gort_defer(bump, NULL);
}

static NOINLINE void defer_copy(void *arg)
{
	struct pair p = {(long)arg, 1};
	gort_defer_copy(add, &p, sizeof p);
}

static int report(const char *name, long long t0, long n, long want)
{
	bench_report(name, (double)(bench_now() - t0) / (double)n, "ns/op");
	if (counter != want) {
		fprintf(stderr, "%s: counter %ld, want %ld\n", name, counter, want);
		return 1;
	}
	return 0;
}

/*
 * n calls for defer_scope, fewer for the slower kinds (about 0.2-0.5 s each
 * in Go).  Each loop runs a hundredth of its count first, untimed, to warm
 * the caches and the defer pool.
 */
static int run(void *arg)
{
	long n = *(long *)arg, m;
	long long t0;

	for (long i = 0; i < n / 100; i++)
		defer_scope();
	counter = 0;
	t0 = bench_now();
	for (long i = 0; i < n; i++)
		defer_scope();
	if (report("defer_scope", t0, n, n))
		return 1;

	m = n / 4;
	for (long i = 0; i < m / 100; i++)
		gort_call(defer_heap, NULL);
	counter = 0;
	t0 = bench_now();
	for (long i = 0; i < m; i++)
		gort_call(defer_heap, NULL);
	if (report("defer_heap", t0, m, m))
		return 1;

	m = n / 8;
	for (long i = 0; i < m / 100; i++)
		gort_call(defer_copy, (void *)i);
	counter = 0;
	t0 = bench_now();
	for (long i = 0; i < m; i++)
		gort_call(defer_copy, (void *)i);
	return report("defer_copy", t0, m, m * (m - 1) / 2 + m);
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 50000000);
	return gort_main(run, &n);
}
