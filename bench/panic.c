/*
 * panic: gort_call of a function that defers a call to gort_recover and
 * panics; reports the cost of one panic+recover through that one frame.
 * Twin: bench/go/panic (defer func() { recover() }() then panic("boom")).
 */
#include <gort.h>

#include "bench.h"

#define NOINLINE __attribute__((noinline))

static NOINLINE void recoverer(void *arg)
{
	gort_recover(NULL);
}

static NOINLINE void panicker(void *arg)
{
	gort_defer(recoverer, NULL);
	gort_panic("boom");
}

static int run(void *arg)
{
	long n = *(long *)arg, recovered = 0;

	for (long i = 0; i < n / 100; i++) /* warm up */
		gort_call(panicker, NULL);
	long long t0 = bench_now();
	for (long i = 0; i < n; i++)
		recovered += gort_call(panicker, NULL);
	bench_report("panic_recover", (double)(bench_now() - t0) / (double)n, "ns/op");
	if (recovered != n) {
		fprintf(stderr, "panic_recover: %ld of %ld panics recovered\n", recovered, n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 2000000);
	return gort_main(run, &n);
}
