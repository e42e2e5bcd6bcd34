/*
 * skynet_chan: the original skynet, joined through channels.  A tree of
 * goroutines, ten children each, down to a million leaves numbered
 * 0..999999; each node makes a channel of capacity 10, starts its ten
 * children, which send their sums on it, receives the ten sums and sends
 * their total to its parent.  Reports the whole run in ms.  (The demo,
 * examples/skynet.c, joins with atomics instead.)  Twin: bench/go/skynet_chan.
 */
#include <gort.h>

#include "bench.h"

struct node {
	gort_chan *out; /* the parent's channel */
	long long num, size;
};

static void skynet(void *arg)
{
	struct node n = *(struct node *)arg;
	free(arg);
	if (n.size == 1) {
		gort_chan_send(n.out, &n.num);
		return;
	}
	gort_chan *rc = gort_chan_make(sizeof(long long), 10);
	long long sub = n.size / 10, sum = 0, v;
	for (int i = 0; i < 10; i++) {
		struct node *c = malloc(sizeof *c);
		if (c == NULL)
			abort();
		*c = (struct node){.out = rc, .num = n.num + i * sub, .size = sub};
		if (gort_go(skynet, c) != 0) {
			perror("gort_go");
			exit(1);
		}
	}
	for (int i = 0; i < 10; i++) {
		gort_chan_recv(rc, &v);
		sum += v;
	}
	gort_chan_free(rc);
	gort_chan_send(n.out, &sum);
}

static int run(void *arg)
{
	long long size = *(long *)arg, result;
	long long t0 = bench_now();
	gort_chan *c = gort_chan_make(sizeof(long long), 1);
	struct node *root = malloc(sizeof *root);
	*root = (struct node){.out = c, .num = 0, .size = size};
	gort_go(skynet, root);
	gort_chan_recv(c, &result);
	bench_report("skynet_chan", (double)(bench_now() - t0) / 1e6, "ms");
	gort_chan_free(c);
	if (result != size * (size - 1) / 2) {
		fprintf(stderr, "skynet_chan: wrong sum %lld\n", result);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long size = bench_arg(argc, argv, 1000000);
	return gort_main(run, &size);
}
