/*
 * spawn: N goroutines created and finished; reports the cost of one.  The
 * main goroutine waits for the count by yielding.  Twin: bench/go/spawn.
 */
#include <gort.h>
#include <stdatomic.h>

#include "bench.h"

static atomic_long finished;

static void work(void *arg)
{
	atomic_fetch_add_explicit(&finished, 1, memory_order_relaxed);
}

static int run(void *arg)
{
	long n = *(long *)arg;
	long long t0 = bench_now();
	for (long i = 0; i < n; i++)
		if (gort_go(work, NULL) != 0)
			return 1;
	while (atomic_load(&finished) < n)
		gort_yield();
	bench_report("spawn", (double)(bench_now() - t0) / (double)n, "ns/op");
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 1000000);
	return gort_main(run, &n);
}
