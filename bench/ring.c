/*
 * ring: the thread ring.  503 goroutines in a ring of unbuffered channels
 * pass a token N times; each decrements it and the one that receives 0
 * reports its number (1-based), which must be N%503+1.  Reports the cost of
 * one hop.  Then the channels are closed and the ring's goroutines end.
 * Twin: bench/go/ring.
 */
#include <gort.h>

#include "bench.h"

#define RING 503

static gort_chan *chans[RING], *done;
static gort_waitgroup wg;

static void member(void *arg)
{
	long id = (long)arg, token;
	gort_chan *in = chans[id - 1], *out = chans[id % RING];
	while (gort_chan_recv(in, &token)) {
		if (token == 0) {
			gort_chan_send(done, &id);
			break;
		}
		token--;
		gort_chan_send(out, &token);
	}
	gort_waitgroup_done(&wg);
}

static int run(void *arg)
{
	long n = *(long *)arg, winner;
	for (int i = 0; i < RING; i++)
		chans[i] = gort_chan_make(sizeof(long), 0);
	done = gort_chan_make(sizeof(long), 0);
	long long t0 = bench_now();
	gort_waitgroup_add(&wg, RING);
	for (long i = 0; i < RING; i++)
		gort_go(member, (void *)(i + 1));
	gort_chan_send(chans[0], &n);
	gort_chan_recv(done, &winner);
	bench_report("ring", (double)(bench_now() - t0) / (double)n, "ns/op");
	for (int i = 0; i < RING; i++)
		gort_chan_close(chans[i]);
	gort_waitgroup_wait(&wg);
	for (int i = 0; i < RING; i++)
		gort_chan_free(chans[i]);
	gort_chan_free(done);
	if (winner != n % RING + 1) {
		fprintf(stderr, "ring: goroutine %ld got the last token, want %ld\n", winner, n % RING + 1);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 2000000);
	return gort_main(run, &n);
}
