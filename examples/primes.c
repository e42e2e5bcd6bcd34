/*
 * primes: Go's concurrent prime sieve.  A generator goroutine sends 2, 3,
 * 4, ... down an unbuffered channel; every prime that comes out of the
 * end of the chain starts one more filter goroutine, which passes on only
 * the numbers its prime does not divide.  The chain grows to one goroutine
 * per prime, each pair joined by a channel, and every number is handed
 * from goroutine to goroutine until a filter drops it: a test of channel
 * handoff more than of arithmetic.
 *
 * Prints the first 20 primes, then the Nth (N from argv[1], 1000 by
 * default) and how long the sieve took to find it.
 *
 *	cc primes.c $(pkg-config --cflags --libs gort) -o primes
 *	./primes [N]
 */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

struct filter {
	gort_chan *in, *out;
	long prime;
};

/* Sends 2, 3, 4, ... to ch, for ever. */
static void generate(void *arg)
{
	gort_chan *ch = arg;
	for (long i = 2;; i++)
		gort_chan_send(ch, &i);
}

/* Copies the numbers from in to out, dropping those that prime divides. */
static void filter(void *arg)
{
	struct filter *f = arg;
	for (;;) {
		long i;
		gort_chan_recv(f->in, &i);
		if (i % f->prime != 0)
			gort_chan_send(f->out, &i);
	}
}

static int run(void *arg)
{
	long n = *(long *)arg, prime = 0;
	int64_t t0 = gort_now();
	gort_chan *ch = gort_chan_make(sizeof(long), 0);
	if (ch == NULL || gort_go(generate, ch) != 0) {
		perror("primes");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		gort_chan_recv(ch, &prime);
		if (i < 20)
			printf("%ld%s", prime, i == 19 || i == n - 1 ? "\n" : " ");
		struct filter *f = malloc(sizeof *f);
		if (f == NULL || (f->out = gort_chan_make(sizeof(long), 0)) == NULL) {
			perror("primes");
			return 1;
		}
		f->in = ch;
		f->prime = prime;
		if (gort_go(filter, f) != 0) {
			perror("primes");
			return 1;
		}
		ch = f->out;
	}
	double ms = (double)(gort_now() - t0) / 1e6;
	int procs = gort_maxprocs(0);
	printf("prime %ld is %ld: found through a chain of %ld goroutines in %.1f ms on %d processor%s\n", n,
	       prime, n + 1, ms, procs, procs == 1 ? "" : "s");
	/*
	 * The generator and the filters are still blocked on their channels;
	 * they are abandoned when run returns, as Go's are when main returns.
	 */
	return 0;
}

int main(int argc, char **argv)
{
	long n = 1000;
	if (argc > 1) {
		char *end;
		n = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || n < 1 || n > 100000000) {
			fprintf(stderr, "usage: primes [N]   (N >= 1: how many primes)\n");
			return 2;
		}
	}
	return gort_main(run, &n);
}
