/*
 * pingpong: two goroutines and two unbuffered channels; the main goroutine
 * sends i on ping, the partner answers i+1 on pong.  Reports the cost of
 * one round trip (two handoffs).  Twin: bench/go/pingpong.
 */
#include <gort.h>

#include "bench.h"

static gort_chan *ping, *pong;
static gort_waitgroup wg;
static long n;

static void partner(void *arg)
{
	long v;
	for (long i = 0; i < n; i++) {
		if (!gort_chan_recv(ping, &v))
			break;
		v++;
		gort_chan_send(pong, &v);
	}
	gort_waitgroup_done(&wg);
}

static int run(void *arg)
{
	long bad = 0, v;
	ping = gort_chan_make(sizeof(long), 0);
	pong = gort_chan_make(sizeof(long), 0);
	gort_waitgroup_add(&wg, 1);
	long long t0 = bench_now();
	gort_go(partner, NULL);
	for (long i = 0; i < n; i++) {
		gort_chan_send(ping, &i);
		if (!gort_chan_recv(pong, &v) || v != i + 1)
			bad++;
	}
	bench_report("pingpong", (double)(bench_now() - t0) / (double)n, "ns/op");
	gort_waitgroup_wait(&wg);
	gort_chan_free(ping);
	gort_chan_free(pong);
	if (bad != 0) {
		fprintf(stderr, "pingpong: %ld wrong answers\n", bad);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	n = bench_arg(argc, argv, 1000000);
	return gort_main(run, NULL);
}
