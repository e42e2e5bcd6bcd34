/*
 * skynet: the demo.  A tree of goroutines, each spawning ten children,
 * down to a million leaves numbered 0..999999; each leaf reports its
 * number and the sums travel back up the tree.  1,111,111 goroutines in
 * all, most of them alive at the same time.
 *
 * The join is done with atomics (the last child to finish completes its
 * parent): channels arrive with the next part of gort.
 *
 * With -q it prints only "skynet <ms> ms": it is also the skynet benchmark
 * (make bench), against its Go twin in bench/go/skynet.
 */
#include <dirent.h>
#include <gort.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct node {
	atomic_llong sum;
	atomic_int pending;
	struct node *parent;
	long long num, size;
};

static atomic_int done;
static long long result;
static atomic_long created;

static long long now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

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
		struct node *c = calloc(1, sizeof *c);
		if (c == NULL)
			abort();
		c->parent = n;
		c->num = n->num + i * sub;
		c->size = sub;
		if (gort_go(skynet, c) != 0) {
			perror("gort_go");
			exit(1);
		}
		atomic_fetch_add_explicit(&created, 1, memory_order_relaxed);
	}
}

static int run(void *arg)
{
	bool quiet = *(bool *)arg;
	const long long leaves = 1000000;
	if (!quiet) {
		printf("skynet: a tree of goroutines, ten children each, down to %lld leaves\n", leaves);
		printf("        on %d processors (GORT_MAXPROCS)\n", gort_maxprocs(0));
	}
	long long t0 = now();
	struct node *root = calloc(1, sizeof *root);
	root->size = leaves;
	gort_go(skynet, root);
	int alive = 0;
	while (!atomic_load(&done)) {
		if (!quiet) {
			int n = gort_num_goroutine();
			if (n > alive)
				alive = n;
		}
		gort_yield();
	}
	double ms = (double)(now() - t0) / 1e6;
	bool right = result == leaves * (leaves - 1) / 2;
	if (quiet) {
		printf("skynet %.2f ms\n", ms);
		return right ? 0 : 1;
	}
	long total = atomic_load(&created) + 1;
	printf("  sum of the leaves: %lld (%s)\n", result, right ? "correct" : "WRONG");
	printf("  %ld goroutines in %.0f ms: %.0f ns per goroutine, created and finished\n", total, ms,
	       ms * 1e6 / (double)total);
	printf("  at most %d goroutines alive at once, on %d threads\n", alive, threads());
	return right ? 0 : 1;
}

int main(int argc, char **argv)
{
	bool quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
	return gort_main(run, &quiet);
}
