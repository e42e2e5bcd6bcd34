/*
 * timers: N timers made with delays spread over 1-10 ms, then each one's
 * value received, in the order they were made; each value (gort_now() when
 * it fired) must be no earlier than the start plus its delay.  Reports the
 * cost of one timer, made, fired and received.  Twin: bench/go/timers
 * (time.NewTimer).
 */
#include <gort.h>

#include "bench.h"

/* delay spreads the timers over [1 ms, 10 ms) in a scattered order. */
static int64_t delay(long i)
{
	return 1000000 + (int64_t)(i * 7919 % 9000) * 1000;
}

static int run(void *arg)
{
	long n = *(long *)arg, bad = 0, lost = 0;
	gort_timer **timers = malloc((size_t)n * sizeof *timers);
	if (timers == NULL)
		return 1;
	long long t0 = bench_now();
	int64_t start = gort_now();
	for (long i = 0; i < n; i++)
		timers[i] = gort_timer_make(delay(i));
	for (long i = 0; i < n; i++) {
		int64_t v;
		if (!gort_chan_recv(gort_timer_chan(timers[i]), &v))
			lost++;
		else if (v < start + delay(i))
			bad++;
		gort_timer_free(timers[i]);
	}
	bench_report("timers", (double)(bench_now() - t0) / (double)n, "ns/op");
	free(timers);
	if (bad != 0 || lost != 0) {
		fprintf(stderr, "timers: %ld of %ld timers fired early, %ld channels closed\n", bad, n, lost);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 100000);
	return gort_main(run, &n);
}
