/*
 * Go's error model in C: a deferred unlock that runs on every path, a
 * panic recovered at a frame boundary, and, with an argument, a panic
 * nobody recovers, which ends the program with Go's report.
 *
 *   build/examples/errors          recovers, prints, exits 0
 *   build/examples/errors crash    dies with a report, exit status 2
 */
#include <gort.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int balance = 100;

static void unlock(void *m)
{
	pthread_mutex_unlock(m);
}

static void withdraw(int amount)
{
	pthread_mutex_lock(&mu);
	GORT_DEFER(unlock, &mu); /* runs however this scope is left, panics included */
	if (amount > balance)
		gort_panicf("withdraw %d: balance is only %d", amount, balance);
	balance -= amount;
}

static void report(void *arg)
{
	gort_panic_info *info = arg;
	if (gort_recover(info))
		printf("recovered: %s\n", info->msg);
}

struct request {
	int amount;
	gort_panic_info info;
};

static void handle(void *arg)
{
	struct request *r = arg;
	gort_defer(report, &r->info);
	withdraw(r->amount);
	printf("withdrew %d, balance %d\n", r->amount, balance);
}

static int run(void *arg)
{
	int amounts[] = {30, 500, 50};
	for (int i = 0; i < 3; i++) {
		struct request r = {.amount = amounts[i]};
		if (gort_call(handle, &r) == 1)
			printf("request %d failed; the mutex is free again: %s\n", i,
			       pthread_mutex_trylock(&mu) == 0 && !pthread_mutex_unlock(&mu) ? "yes" : "no");
	}
	if (arg != NULL)
		withdraw(1000); /* nobody recovers this one */
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(run, argc > 1 && strcmp(argv[1], "crash") == 0 ? "crash" : NULL);
}
