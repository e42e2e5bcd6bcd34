/*
 * yield: two goroutines calling gort_yield, N yields in all; reports the
 * cost of one yield (a switch to the other goroutine when both share a P).
 * Twin: bench/go/yield (runtime.Gosched).
 */
#include <gort.h>
#include <stdatomic.h>

#include "bench.h"

static long n;
static atomic_int done;

static void other(void *arg)
{
	for (long i = 0; i < n / 2; i++)
		gort_yield();
	atomic_store(&done, 1);
}

static int run(void *arg)
{
	long long t0 = bench_now();
	gort_go(other, NULL);
	for (long i = 0; i < n / 2; i++)
		gort_yield();
	while (!atomic_load(&done))
		gort_yield();
	bench_report("yield", (double)(bench_now() - t0) / (double)n, "ns/op");
	return 0;
}

int main(int argc, char **argv)
{
	n = bench_arg(argc, argv, 10000000);
	return gort_main(run, NULL);
}
