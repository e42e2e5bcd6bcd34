/*
 * The runtime's own mutex (lock_futex.c), used by plain threads: more
 * threads than processors, some holding the lock across a sleep so that
 * the others go to sleep in the kernel for it.  Every increment of a plain
 * counter made under the lock must be there at the end, and no thread may
 * be left asleep (a lost wakeup hangs the test into its timeout).
 */
#include <pthread.h>
#include <unistd.h>

#include "runtime.h"
#include "testutil.h"

enum { LOCK_THREADS = 6 };

static struct {
	mutex mu;
	long counter;
	long iters;
	_Atomic long slept; /* critical sections that slept holding the lock */
} lk;

static void *locker(void *arg)
{
	long id = (long)arg;
	for (long i = 0; i < lk.iters; i++) {
		lock(&lk.mu);
		lk.counter++;
		/* now and then, hold it long enough for the others to sleep */
		if ((i + id) % 97 == 0) {
			usleep(50);
			atomic_fetch_add(&lk.slept, 1);
		}
		unlock(&lk.mu);
	}
	return NULL;
}

Test(lock, contended_runtime_mutex_loses_no_update_and_no_wakeup, .timeout = 120)
{
	lk.iters = scaled(100000, 10000);
	pthread_t t[LOCK_THREADS];
	for (long i = 0; i < LOCK_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, locker, (void *)i), 0);
	for (long i = 0; i < LOCK_THREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(lk.counter, LOCK_THREADS * lk.iters, "counter %ld, want %ld", lk.counter,
		     LOCK_THREADS * lk.iters);
	cr_assert_gt(atomic_load(&lk.slept), 0);
	cr_assert_eq(atomic_load(&lk.mu.key), 0, "the lock is left held");
}

Test(lock, trylock_fails_while_held_and_succeeds_after, .timeout = 30)
{
	mutex mu = {0};
	cr_assert(trylock(&mu));
	cr_assert_not(trylock(&mu));
	unlock(&mu);
	lock(&mu);
	cr_assert_not(trylock(&mu));
	unlock(&mu);
	cr_assert(trylock(&mu));
	unlock(&mu);
}
