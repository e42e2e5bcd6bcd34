/*
 * chan_buffered: one producer sends 0..N-1 on a channel of capacity 128
 * and closes it; the main goroutine receives until it is closed and
 * drained.  Reports the cost of one item.  Twin: bench/go/chan_buffered.
 */
#include <gort.h>

#include "bench.h"

static gort_chan *c;
static gort_waitgroup wg;
static long n;

static void producer(void *arg)
{
	for (long i = 0; i < n; i++)
		gort_chan_send(c, &i);
	gort_chan_close(c);
	gort_waitgroup_done(&wg);
}

static int run(void *arg)
{
	long count = 0, sum = 0, v;
	c = gort_chan_make(sizeof(long), 128);
	gort_waitgroup_add(&wg, 1);
	long long t0 = bench_now();
	gort_go(producer, NULL);
	while (gort_chan_recv(c, &v)) {
		sum += v;
		count++;
	}
	bench_report("chan_buffered", (double)(bench_now() - t0) / (double)n, "ns/op");
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
	if (count != n || sum != n * (n - 1) / 2) {
		fprintf(stderr, "chan_buffered: %ld items summing to %ld, want %ld and %ld\n", count, sum,
		        n, n * (n - 1) / 2);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	n = bench_arg(argc, argv, 10000000);
	return gort_main(run, NULL);
}
