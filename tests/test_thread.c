/*
 * Plain threads (pthreads gort did not start) and goroutines together:
 * while gort_main runs, a plain thread may use channels, select, the sync
 * primitives and gort_sleep, blocking its own thread where a goroutine
 * would park.  Values cross between the two through one channel and one
 * mutex in both directions, each counted: nothing lost, nothing twice.
 * A goroutine waiting for a thread parks and leaves its processor to the
 * others.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "runtime.h"
#include "testutil.h"

#define MS 1000000LL
#define SEC 1000000000LL

static gort_chan *mustmake(size_t size, size_t cap)
{
	gort_chan *c = gort_chan_make(size, cap);
	cr_assert_not_null(c, "gort_chan_make(%zu, %zu) failed", size, cap);
	return c;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
	return t;
}

/* ------------------------------------------------ one channel, one mutex */

/*
 * A plain thread and goroutines exchange values through one channel and
 * guard one counter with one mutex.  The thread sends n requests and the
 * goroutines m; everybody receives from the same channel until it closes;
 * each value is taken exactly once and the counter, bumped under the mutex
 * by all, comes out exact.
 */
enum { X_GOROUTINES = 4, X_THREADS = 2 };

static struct {
	gort_chan *c;
	gort_mutex mu;
	long counter, per;
	_Atomic unsigned char *seen;
	_Atomic long taken_by_thread, taken_by_goroutine;
	struct testwg senders, receivers;
	_Atomic long thread_senders_left, thread_receivers_left;
} x;

static void x_take(long v, bool thread)
{
	cr_assert(v >= 0 && v < (X_GOROUTINES + X_THREADS) * x.per, "received %ld", v);
	cr_assert_eq(atomic_fetch_add(&x.seen[v], 1), 0, "value %ld received twice", v);
	atomic_fetch_add(thread ? &x.taken_by_thread : &x.taken_by_goroutine, 1);
	gort_mutex_lock(&x.mu);
	x.counter++;
	gort_mutex_unlock(&x.mu);
}

static void x_send_all(long id)
{
	for (long i = 0; i < x.per; i++) {
		long v = id * x.per + i;
		gort_chan_send(x.c, &v);
		gort_mutex_lock(&x.mu);
		x.counter++;
		gort_mutex_unlock(&x.mu);
	}
}

static void *x_thread_sender(void *arg)
{
	cr_assert_eq(gort_goid(), 0);
	x_send_all((long)arg);
	atomic_fetch_sub(&x.thread_senders_left, 1);
	return NULL;
}

static void *x_thread_receiver(void *arg)
{
	long v;
	while (gort_chan_recv(x.c, &v))
		x_take(v, true);
	atomic_fetch_sub(&x.thread_receivers_left, 1);
	return NULL;
}

static void x_goroutine_sender(void *arg)
{
	x_send_all((long)arg);
	testwg_done(&x.senders);
}

static void x_goroutine_receiver(void *arg)
{
	long v;
	while (gort_chan_recv(x.c, &v))
		x_take(v, false);
	testwg_done(&x.receivers);
}

static int main_exchange(void *arg)
{
	static const size_t caps[] = {0, 1, 16};
	x.per = scaled(20000, 2000);
	long total = (X_GOROUTINES + X_THREADS) * x.per;
	x.seen = calloc((size_t)total, 1);
	for (int k = 0; k < 3; k++) {
		x.c = mustmake(sizeof(long), caps[k]);
		x.counter = 0;
		for (long i = 0; i < total; i++)
			atomic_store(&x.seen[i], 0);
		atomic_store(&x.thread_senders_left, X_THREADS);
		atomic_store(&x.thread_receivers_left, X_THREADS);
		pthread_t ts[X_THREADS], tr[X_THREADS];
		for (long i = 0; i < X_THREADS; i++) {
			tr[i] = spawn(x_thread_receiver, NULL);
			ts[i] = spawn(x_thread_sender, (void *)(X_GOROUTINES + i));
		}
		testwg_add(&x.senders, X_GOROUTINES);
		testwg_add(&x.receivers, X_GOROUTINES);
		for (long i = 0; i < X_GOROUTINES; i++) {
			cr_assert_eq(gort_go(x_goroutine_receiver, NULL), 0);
			cr_assert_eq(gort_go(x_goroutine_sender, (void *)i), 0);
		}
		/*
		 * A thread may wait for the mutex behind a goroutine receiver
		 * that needs this processor: joining it while it has not finished
		 * would block the processor with it.
		 */
		testwg_wait(&x.senders);
		while (atomic_load(&x.thread_senders_left) > 0)
			gort_yield();
		for (long i = 0; i < X_THREADS; i++)
			pthread_join(ts[i], NULL);
		gort_chan_close(x.c);
		testwg_wait(&x.receivers);
		while (atomic_load(&x.thread_receivers_left) > 0)
			gort_yield();
		for (long i = 0; i < X_THREADS; i++)
			pthread_join(tr[i], NULL);
		for (long i = 0; i < total; i++)
			cr_assert_eq(x.seen[i], 1, "cap %zu: value %ld received %d times", caps[k], i, x.seen[i]);
		cr_assert_eq(x.counter, 2 * total, "cap %zu: counter %ld, expected %ld", caps[k], x.counter, 2 * total);
		cr_assert_eq(atomic_load(&x.taken_by_thread) + atomic_load(&x.taken_by_goroutine), (k + 1) * total);
		gort_chan_free(x.c);
	}
	cr_assert_gt(atomic_load(&x.taken_by_thread), 0, "the threads received nothing");
	cr_assert_gt(atomic_load(&x.taken_by_goroutine), 0, "the goroutines received nothing");
	free((void *)x.seen);
	return 0;
}

Test(thread, threads_and_goroutines_share_a_channel_and_a_mutex, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_exchange, NULL);
}

Test(thread, threads_and_goroutines_share_a_channel_and_a_mutex_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_exchange, NULL);
}

/* ------------------------------------------------ ping-pong */

/* A thread and a goroutine pass a counter back and forth, unbuffered. */
static struct {
	gort_chan *ping, *pong;
	long n;
	struct testwg wg;
} pp;

static void *pp_thread(void *arg)
{
	long v = 0;
	for (long i = 0; i < pp.n; i++) {
		gort_chan_send(pp.ping, &v);
		cr_assert(gort_chan_recv(pp.pong, &v));
		cr_assert_eq(v, 2 * i + 2);
	}
	gort_chan_close(pp.ping);
	return NULL;
}

static void pp_goroutine(void *arg)
{
	long v;
	while (gort_chan_recv(pp.ping, &v)) {
		v += 2;
		gort_chan_send(pp.pong, &v);
	}
	testwg_done(&pp.wg);
}

static int main_pingpong(void *arg)
{
	pp.n = scaled(20000, 2000);
	pp.ping = mustmake(sizeof(long), 0);
	pp.pong = mustmake(sizeof(long), 0);
	testwg_add(&pp.wg, 1);
	cr_assert_eq(gort_go(pp_goroutine, NULL), 0);
	pthread_t t = spawn(pp_thread, NULL);
	testwg_wait(&pp.wg);
	pthread_join(t, NULL);
	gort_chan_free(pp.ping);
	gort_chan_free(pp.pong);
	return 0;
}

Test(thread, pingpong_with_a_goroutine, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_pingpong, NULL);
}

Test(thread, pingpong_with_a_goroutine_one_proc, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_pingpong, NULL);
}

/* ------------------------------------------------ blocking, both ways */

/*
 * A thread blocks in a receive for a while, until a goroutine sends after
 * sleeping; then a goroutine blocks until the thread sends after sleeping.
 * The goroutine starts once the thread has read the clock: a thread can
 * take milliseconds to start (under ASan, 6), which its wait would lose.
 */
static struct {
	gort_chan *to_thread, *to_goroutine;
	int64_t thread_waited;
	_Atomic bool thread_started;
	struct testwg wg;
} bl;

static void *bl_thread(void *arg)
{
	int64_t t0 = gort_now();
	atomic_store(&bl.thread_started, true);
	int v;
	cr_assert(gort_chan_recv(bl.to_thread, &v));
	cr_assert_eq(v, 1);
	bl.thread_waited = gort_now() - t0;
	gort_sleep(30 * MS);
	v = 2;
	gort_chan_send(bl.to_goroutine, &v);
	return NULL;
}

static void bl_goroutine(void *arg)
{
	gort_sleep(30 * MS);
	int v = 1;
	gort_chan_send(bl.to_thread, &v);
	int64_t t0 = gort_now();
	cr_assert(gort_chan_recv(bl.to_goroutine, &v));
	cr_assert_eq(v, 2);
	/* the thread slept 30 ms after our send: allow for our own delay in reading the clock */
	cr_assert_geq(gort_now() - t0, 25 * MS);
	testwg_done(&bl.wg);
}

static int main_blocking(void *arg)
{
	bl.to_thread = mustmake(sizeof(int), 0);
	bl.to_goroutine = mustmake(sizeof(int), 0);
	pthread_t t = spawn(bl_thread, NULL);
	while (!atomic_load(&bl.thread_started))
		gort_yield();
	testwg_add(&bl.wg, 1);
	cr_assert_eq(gort_go(bl_goroutine, NULL), 0);
	testwg_wait(&bl.wg);
	pthread_join(t, NULL);
	cr_assert_geq(bl.thread_waited, 25 * MS, "the thread's receive returned after %lld ns",
		      (long long)bl.thread_waited);
	gort_chan_free(bl.to_thread);
	gort_chan_free(bl.to_goroutine);
	return 0;
}

Test(thread, blocking_both_ways, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_blocking, NULL);
}

/* ------------------------------------------------ a goroutine waiting for a thread parks */

/*
 * With one processor: a goroutine blocks on a mutex a thread holds, another
 * on a channel only the thread will send on; the thread lets go only once
 * a third goroutine has made progress, which it can only do if the two
 * waiting ones left the processor.
 */
static struct {
	gort_mutex mu;
	gort_chan *c;
	_Atomic long held, progress, got;
	struct testwg wg;
} pk;

static void *pk_thread(void *arg)
{
	gort_mutex_lock(&pk.mu);
	atomic_store(&pk.held, 1);
	int64_t end = gort_now() + 20 * SEC;
	while (atomic_load(&pk.progress) < 100 && gort_now() < end)
		gort_sleep(MS);
	cr_assert_geq(atomic_load(&pk.progress), 100, "no goroutine ran while two waited for a thread");
	gort_mutex_unlock(&pk.mu);
	int v = 9;
	gort_chan_send(pk.c, &v);
	return NULL;
}

static void pk_locker(void *arg)
{
	while (!atomic_load(&pk.held))
		gort_yield();
	gort_mutex_lock(&pk.mu);
	atomic_fetch_add(&pk.got, 1);
	gort_mutex_unlock(&pk.mu);
	testwg_done(&pk.wg);
}

static void pk_receiver(void *arg)
{
	int v;
	cr_assert(gort_chan_recv(pk.c, &v));
	cr_assert_eq(v, 9);
	atomic_fetch_add(&pk.got, 1);
	testwg_done(&pk.wg);
}

static void pk_worker(void *arg)
{
	while (!atomic_load(&pk.held))
		gort_yield();
	for (int i = 0; i < 100; i++) {
		atomic_fetch_add(&pk.progress, 1);
		gort_yield();
	}
	testwg_done(&pk.wg);
}

static int main_parks(void *arg)
{
	pk.c = mustmake(sizeof(int), 0);
	pthread_t t = spawn(pk_thread, NULL);
	testwg_add(&pk.wg, 3);
	cr_assert_eq(gort_go(pk_locker, NULL), 0);
	cr_assert_eq(gort_go(pk_receiver, NULL), 0);
	cr_assert_eq(gort_go(pk_worker, NULL), 0);
	testwg_wait(&pk.wg);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&pk.got), 2);
	gort_chan_free(pk.c);
	return 0;
}

Test(thread, goroutine_waiting_for_a_thread_leaves_the_processor, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_parks, NULL);
}

/* ------------------------------------------------ select, sleep, timers */

static struct {
	gort_chan *a, *b;
	struct testwg wg;
} sel;

static void *sel_thread(void *arg)
{
	int va = -1, vb = -1;
	gort_case cs[2] = {{.chan = sel.a, .dir = GORT_RECV, .elem = &va},
			   {.chan = sel.b, .dir = GORT_RECV, .elem = &vb}};
	cr_assert_eq(gort_select(cs, 2, false), -1, "nothing is ready yet");
	int64_t t0 = gort_now();
	cr_assert_eq(gort_select_timeout(cs, 2, 20 * MS), -1);
	cr_assert_geq(gort_now() - t0, 20 * MS, "a thread's select timed out early");
	/* the goroutine sends on b, then closes a */
	cr_assert_eq(gort_select(cs, 2, true), 1);
	cr_assert(cs[1].ok);
	cr_assert_eq(vb, 7);
	cr_assert_eq(gort_select_timeout(cs, 2, 10 * SEC), 0);
	cr_assert(!cs[0].ok, "a closed channel in a thread's select");
	/* sleep and timers on a thread */
	t0 = gort_now();
	gort_sleep(15 * MS);
	cr_assert_geq(gort_now() - t0, 15 * MS, "a thread's sleep returned early");
	t0 = gort_now();
	gort_timer *t = gort_timer_make(10 * MS);
	cr_assert_not_null(t);
	int64_t v;
	cr_assert(gort_chan_recv(gort_timer_chan(t), &v));
	cr_assert_geq(v, t0 + 10 * MS);
	gort_timer_free(t);
	return NULL;
}

static void sel_goroutine(void *arg)
{
	gort_sleep(40 * MS);
	int v = 7;
	gort_chan_send(sel.b, &v);
	gort_sleep(10 * MS);
	gort_chan_close(sel.a);
	testwg_done(&sel.wg);
}

static int main_select(void *arg)
{
	sel.a = mustmake(sizeof(int), 0);
	sel.b = mustmake(sizeof(int), 0);
	pthread_t t = spawn(sel_thread, NULL);
	testwg_add(&sel.wg, 1);
	cr_assert_eq(gort_go(sel_goroutine, NULL), 0);
	testwg_wait(&sel.wg);
	pthread_join(t, NULL);
	gort_chan_free(sel.a);
	gort_chan_free(sel.b);
	return 0;
}

Test(thread, select_sleep_and_timers_on_a_thread, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_select, NULL);
}

/* ------------------------------------------------ sync across the two */

/*
 * Threads and goroutines hammer one mutex and one rwmutex; a thread waits
 * on a wait group that goroutines complete and goroutines on one a thread
 * completes; a cond wakes a thread from a goroutine and back; a Once run
 * by both runs once.
 */
static struct {
	gort_mutex mu;
	gort_rwmutex rw;
	gort_waitgroup g_done, t_done;
	gort_once once;
	gort_cond cond;
	long counter, iters, a, b;
	_Atomic long once_runs, turn;
	struct testwg wg;
} sy;

static void sy_once(void *arg)
{
	atomic_fetch_add(&sy.once_runs, 1);
}

static void sy_work(void)
{
	for (long i = 0; i < sy.iters; i++) {
		gort_mutex_lock(&sy.mu);
		sy.counter++;
		gort_mutex_unlock(&sy.mu);
		if (i % 4 == 0) {
			gort_rwmutex_lock(&sy.rw);
			sy.a++;
			sy.b++;
			gort_rwmutex_unlock(&sy.rw);
		} else {
			gort_rwmutex_rlock(&sy.rw);
			cr_assert_eq(sy.a, sy.b);
			gort_rwmutex_runlock(&sy.rw);
		}
	}
	gort_once_do(&sy.once, sy_once, NULL);
}

static void *sy_thread(void *arg)
{
	sy_work();
	gort_waitgroup_done(&sy.t_done);
	gort_waitgroup_wait(&sy.g_done); /* goroutines complete it */
	return NULL;
}

static void sy_goroutine(void *arg)
{
	sy_work();
	gort_waitgroup_done(&sy.g_done);
	gort_waitgroup_wait(&sy.t_done); /* threads complete it */
	testwg_done(&sy.wg);
}

/* Turn-taking on a cond: the thread takes odd turns, the goroutine even ones. */
static void take_turns(long parity, long n)
{
	for (long i = 0; i < n; i++) {
		gort_mutex_lock(&sy.mu);
		while (atomic_load(&sy.turn) % 2 != parity)
			gort_cond_wait(&sy.cond, &sy.mu);
		atomic_fetch_add(&sy.turn, 1);
		gort_cond_broadcast(&sy.cond);
		gort_mutex_unlock(&sy.mu);
	}
}

static void *turn_thread(void *arg)
{
	take_turns(1, (long)arg);
	return NULL;
}

static void turn_goroutine(void *arg)
{
	take_turns(0, (long)arg);
	testwg_done(&sy.wg);
}

static int main_sync(void *arg)
{
	const long nt = 2, ng = 4;
	sy.iters = scaled(20000, 2000);
	gort_waitgroup_add(&sy.t_done, nt);
	gort_waitgroup_add(&sy.g_done, ng);
	pthread_t ts[2];
	for (long i = 0; i < nt; i++)
		ts[i] = spawn(sy_thread, NULL);
	testwg_add(&sy.wg, ng);
	for (long i = 0; i < ng; i++)
		cr_assert_eq(gort_go(sy_goroutine, NULL), 0);
	testwg_wait(&sy.wg);
	for (long i = 0; i < nt; i++)
		pthread_join(ts[i], NULL);
	cr_assert_eq(sy.counter, (nt + ng) * sy.iters);
	cr_assert_eq(sy.a, (nt + ng) * ((sy.iters + 3) / 4));
	cr_assert_eq(atomic_load(&sy.once_runs), 1);

	long turns = scaled(5000, 500);
	testwg_add(&sy.wg, 1);
	pthread_t t = spawn(turn_thread, (void *)turns);
	cr_assert_eq(gort_go(turn_goroutine, (void *)turns), 0);
	testwg_wait(&sy.wg);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&sy.turn), 2 * turns);
	return 0;
}

Test(thread, sync_between_threads_and_goroutines, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_sync, NULL);
}

Test(thread, sync_between_threads_and_goroutines_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_sync, NULL);
}

/* ------------------------------------------------ close */

/* A thread blocked in a receive wakes when a goroutine closes the channel. */
static void *closed_thread(void *arg)
{
	gort_chan *c = arg;
	int v = 5;
	cr_assert(!gort_chan_recv(c, &v));
	cr_assert_eq(v, 0);
	cr_assert_eq(gort_chan_tryrecv(c, &v), 0);
	return NULL;
}

static int main_closed(void *arg)
{
	gort_chan *c = mustmake(sizeof(int), 0);
	pthread_t t = spawn(closed_thread, c);
	gort_sleep(10 * MS); /* the thread blocks in the receive */
	gort_chan_close(c);
	pthread_join(t, NULL);
	gort_chan_free(c);
	return 0;
}

Test(thread, close_wakes_a_thread, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_closed, NULL);
}
