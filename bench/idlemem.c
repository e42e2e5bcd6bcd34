/*
 * idlemem: N goroutines parked receiving on one shared channel; reports
 * how much the resident set grew per parked goroutine, read from
 * /proc/self/statm before and after.  Then the channel is closed and every
 * goroutine must see it closed and end.  Twin: bench/go/idlemem (which
 * reads /proc/self/statm too, not runtime.MemStats).
 */
#include <gort.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bench.h"

static gort_chan *c;
static gort_waitgroup started, finished;
static atomic_long closed;

/* rss returns the resident set size in bytes (statm's second field, in
 * pages). */
static long long rss(void)
{
	long long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL || fscanf(f, "%lld %lld", &size, &resident) != 2) {
		perror("idlemem: /proc/self/statm");
		exit(1);
	}
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void idle(void *arg)
{
	int v;
	gort_waitgroup_done(&started);
	if (!gort_chan_recv(c, &v))
		atomic_fetch_add(&closed, 1);
	gort_waitgroup_done(&finished);
}

static int run(void *arg)
{
	long n = *(long *)arg;
	c = gort_chan_make(sizeof(int), 0);
	long long before = rss();
	gort_waitgroup_add(&started, n);
	gort_waitgroup_add(&finished, n);
	for (long i = 0; i < n; i++)
		if (gort_go(idle, NULL) != 0) {
			perror("gort_go");
			return 1;
		}
	/* Every goroutine has run up to its receive; give the last ones time
	 * to park. */
	gort_waitgroup_wait(&started);
	gort_sleep(10000000);
	long long after = rss();
	bench_report("idlemem", (double)(after - before) / (double)n, "B/goroutine");
	gort_chan_close(c);
	gort_waitgroup_wait(&finished);
	gort_chan_free(c);
	if (atomic_load(&closed) != n) {
		fprintf(stderr, "idlemem: %ld of %ld goroutines saw the channel closed\n",
		        atomic_load(&closed), n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 100000);
	return gort_main(run, &n);
}
