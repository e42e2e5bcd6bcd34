/*
 * skynet: a tree of goroutines, each spawning ten children, down to N
 * leaves numbered 0..N-1; the sum of the leaves travels back up.  Here the
 * join is done with atomics: the last child to finish completes its
 * parent.  Reports the whole run in ms.  Twin: bench/go/skynet.
 */
#include <gort.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bench.h"

struct node {
	atomic_llong sum;
	atomic_int pending;
	struct node *parent;
	long long num, size;
};

static atomic_int done;
static long long result;

static void complete(struct node *n)
{
	while (n != NULL) {
		struct node *parent = n->parent;
		long long sum = atomic_load(&n->sum);
		free(n);
		if (parent == NULL) {
			result = sum;
			atomic_store(&done, 1);
			return;
		}
		atomic_fetch_add(&parent->sum, sum);
		if (atomic_fetch_sub(&parent->pending, 1) != 1)
			return;
		n = parent;
	}
}

static void skynet(void *arg)
{
	struct node *n = arg;
	if (n->size == 1) {
		atomic_store(&n->sum, n->num);
		complete(n);
		return;
	}
	long long sub = n->size / 10;
	atomic_store(&n->pending, 10);
	for (int i = 0; i < 10; i++) {
		struct node *c = malloc(sizeof *c);
		atomic_init(&c->sum, 0);
		atomic_init(&c->pending, 0);
		c->parent = n;
		c->num = n->num + i * sub;
		c->size = sub;
		if (gort_go(skynet, c) != 0)
			abort();
	}
}

static int run(void *arg)
{
	long long size = *(long *)arg;
	long long t0 = bench_now();
	struct node *root = malloc(sizeof *root);
	atomic_init(&root->sum, 0);
	atomic_init(&root->pending, 0);
	root->parent = NULL;
	root->num = 0;
	root->size = size;
	gort_go(skynet, root);
	while (!atomic_load(&done))
		gort_yield();
	double ms = (double)(bench_now() - t0) / 1e6;
	if (result != size * (size - 1) / 2) {
		fprintf(stderr, "skynet: wrong sum %lld\n", result);
		return 1;
	}
	bench_report("skynet", ms, "ms");
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 1000000);
	return gort_main(run, &n);
}
