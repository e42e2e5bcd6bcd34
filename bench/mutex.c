/*
 * mutex: four goroutines contending on one gort_mutex, each incrementing a
 * shared counter N/4 times under it.  Reports the cost of one lock/unlock
 * pair.  Twin: bench/go/mutex (sync.Mutex).
 */
#include <gort.h>

#include "bench.h"

#define WORKERS 4

static gort_mutex mu;
static gort_waitgroup wg;
static long counter, m;

static void work(void *arg)
{
	for (long i = 0; i < m; i++) {
		gort_mutex_lock(&mu);
		counter++;
		gort_mutex_unlock(&mu);
	}
	gort_waitgroup_done(&wg);
}

static int run(void *arg)
{
	long n = WORKERS * m;
	long long t0 = bench_now();
	gort_waitgroup_add(&wg, WORKERS);
	for (int k = 0; k < WORKERS; k++)
		gort_go(work, NULL);
	gort_waitgroup_wait(&wg);
	bench_report("mutex", (double)(bench_now() - t0) / (double)n, "ns/op");
	if (counter != n) {
		fprintf(stderr, "mutex: counter %ld, want %ld\n", counter, n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	m = bench_arg(argc, argv, 10000000) / WORKERS;
	return gort_main(run, NULL);
}
