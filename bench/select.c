/*
 * select: four producers, each sending 0..N/4-1 on its own unbuffered
 * channel, and one consumer selecting over the four receives, N times.
 * Reports the cost of one item.  Twin: bench/go/select.
 */
#include <gort.h>

#include "bench.h"

#define PRODUCERS 4

static gort_chan *chans[PRODUCERS];
static gort_waitgroup wg;
static long m; /* items per producer */

static void produce(void *arg)
{
	gort_chan *c = arg;
	for (long i = 0; i < m; i++)
		gort_chan_send(c, &i);
	gort_waitgroup_done(&wg);
}

static int run(void *arg)
{
	long n = PRODUCERS * m, count[PRODUCERS] = {0}, vals[PRODUCERS], bad = 0;
	gort_case cases[PRODUCERS];
	for (int k = 0; k < PRODUCERS; k++) {
		chans[k] = gort_chan_make(sizeof(long), 0);
		cases[k] = (gort_case){.chan = chans[k], .dir = GORT_RECV, .elem = &vals[k]};
	}
	gort_waitgroup_add(&wg, PRODUCERS);
	long long t0 = bench_now();
	for (int k = 0; k < PRODUCERS; k++)
		gort_go(produce, chans[k]);
	/* Each channel's values arrive in order: the k-th received from a
	 * channel is k. */
	for (long i = 0; i < n; i++) {
		int k = gort_select(cases, PRODUCERS, true);
		if (k < 0 || k >= PRODUCERS || !cases[k].ok) {
			fprintf(stderr, "select: gort_select returned %d\n", k);
			return 1;
		}
		if (vals[k] != count[k])
			bad++;
		count[k]++;
	}
	bench_report("select", (double)(bench_now() - t0) / (double)n, "ns/op");
	gort_waitgroup_wait(&wg);
	for (int k = 0; k < PRODUCERS; k++) {
		gort_chan_free(chans[k]);
		if (count[k] != m)
			bad++;
	}
	if (bad != 0) {
		fprintf(stderr, "select: counts %ld %ld %ld %ld (want %ld each), %ld values out of order\n",
		        count[0], count[1], count[2], count[3], m, bad);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	m = bench_arg(argc, argv, 1000000) / PRODUCERS;
	return gort_main(run, NULL);
}
