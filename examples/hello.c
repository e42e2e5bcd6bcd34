/*
 * hello: the smallest complete gort program.  Goroutine 1 starts ten
 * more, each adds its number to a total, and main waits for them.
 *
 *	cc hello.c $(pkg-config --cflags --libs gort) -o hello
 */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_long total, finished;

static void worker(void *arg)
{
	long n = (long)arg;
	atomic_fetch_add(&total, n);
	printf("goroutine %lld added %ld\n", (long long)gort_goid(), n);
	atomic_fetch_add(&finished, 1);
}

static int run(void *arg)
{
	for (long i = 1; i <= 10; i++)
		if (gort_go(worker, (void *)i) != 0)
			return 1;
	while (atomic_load(&finished) < 10)
		gort_yield(); /* let the others run; channels will do this better */
	printf("total %ld from %d goroutines on %d processors\n", atomic_load(&total), 10,
	       gort_maxprocs(0));
	return 0;
}

int main(void)
{
	return gort_main(run, NULL);
}
