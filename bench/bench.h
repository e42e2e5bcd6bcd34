/*
 * Shared by the benchmarks: a monotonic clock and the result line that
 * bench/run.sh reads ("<name> <value> <unit>").  Each benchmark's Go twin
 * in bench/go/ prints the same line for the same work.
 */
#ifndef GORT_BENCH_H
#define GORT_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline long long bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline long bench_arg(int argc, char **argv, long def)
{
	return argc > 1 ? atol(argv[1]) : def;
}

static inline void bench_report(const char *name, double value, const char *unit)
{
	printf("%s %.2f %s\n", name, value, unit);
}

#endif
