/*
 * workers: a worker pool, the way Go programs write one.  A feeder
 * goroutine sends jobs on a buffered channel and closes it; a fixed number
 * of worker goroutines take jobs until the channel is closed and drained,
 * and send their results on a second channel; a WaitGroup tells a closer
 * goroutine when every worker is done, so that it closes the results
 * channel and main's receive loop ends, as Go's
 *
 *	for r := range results { ... }
 *
 * does.  Each job is a number whose Collatz sequence the worker walks;
 * main keeps the longest sequence and counts the jobs each worker did.
 *
 *	cc workers.c $(pkg-config --cflags --libs gort) -o workers
 *	./workers [jobs [workers]]
 */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

struct result {
	long n, steps;
	int worker;
};

static long njobs = 100000;
static int nworkers = 8;
static gort_chan *jobs, *results;
static gort_waitgroup working, closers;

/* Steps from n down to 1, halving the even and tripling-plus-one the odd. */
static long collatz(long n)
{
	long steps = 0;
	while (n != 1) {
		n = n % 2 ? 3 * n + 1 : n / 2;
		steps++;
	}
	return steps;
}

static void worker(void *arg)
{
	int id = (int)(long)arg;
	long n;
	while (gort_chan_recv(jobs, &n)) {
		struct result r = {n, collatz(n), id};
		gort_chan_send(results, &r);
	}
	gort_waitgroup_done(&working);
}

static void feeder(void *arg)
{
	for (long n = 1; n <= njobs; n++)
		gort_chan_send(jobs, &n);
	gort_chan_close(jobs); /* no more work: the workers' loops end */
	gort_waitgroup_done(&closers);
}

static void closer(void *arg)
{
	gort_waitgroup_wait(&working);
	gort_chan_close(results); /* no more results: main's loop ends */
	gort_waitgroup_done(&closers);
}

static int run(void *arg)
{
	int64_t t0 = gort_now();
	long *done = calloc((size_t)nworkers, sizeof *done);
	jobs = gort_chan_make(sizeof(long), (size_t)nworkers * 2);
	results = gort_chan_make(sizeof(struct result), (size_t)nworkers * 2);
	if (done == NULL || jobs == NULL || results == NULL) {
		perror("workers");
		return 1;
	}
	gort_waitgroup_add(&working, nworkers);
	gort_waitgroup_add(&closers, 2);
	for (long i = 0; i < nworkers; i++)
		if (gort_go(worker, (void *)i) != 0) {
			perror("workers");
			return 1;
		}
	if (gort_go(feeder, NULL) != 0 || gort_go(closer, NULL) != 0) {
		perror("workers");
		return 1;
	}

	struct result r, best = {0, -1, 0};
	long received = 0;
	while (gort_chan_recv(results, &r)) {
		received++;
		done[r.worker]++;
		if (r.steps > best.steps)
			best = r;
	}
	double ms = (double)(gort_now() - t0) / 1e6;

	/* both channels are closed; once their closers are out, free them */
	gort_waitgroup_wait(&closers);
	gort_chan_free(jobs);
	gort_chan_free(results);

	long lo = done[0], hi = done[0];
	for (int i = 1; i < nworkers; i++) {
		lo = done[i] < lo ? done[i] : lo;
		hi = done[i] > hi ? done[i] : hi;
	}
	free(done);
	int procs = gort_maxprocs(0);
	printf("%ld jobs on %d workers (%d processor%s): %.1f ms\n", received, nworkers, procs,
	       procs == 1 ? "" : "s", ms);
	printf("  longest Collatz sequence from 1..%ld: %ld, %ld steps (worker %d)\n", njobs, best.n,
	       best.steps, best.worker);
	printf("  jobs per worker: %ld to %ld\n", lo, hi);
	return received == njobs ? 0 : 1;
}

static long arg(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "usage: workers [jobs [workers]]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		njobs = arg(argv[1], 100000000);
	if (argc > 2)
		nworkers = (int)arg(argv[2], 100000);
	return gort_main(run, NULL);
}
