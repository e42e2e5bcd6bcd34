/*
 * Channels: Go's TestChan for capacities 0..19 (blocking, FIFO order,
 * close, len and cap), TestMultiConsumer and TestNonblockRecvRace, the
 * close rules with Go's panic messages (recoverable), nil channels,
 * zero-size and large elements, and stress runs that count what went in
 * and what came out: nothing lost, nothing twice.
 *
 * Goroutines are joined with testwg (the runtime's own park/ready), not
 * with gort_waitgroup, so that a bug in sync shows up in test_sync.c only.
 * A channel is freed only once every goroutine that used it is joined:
 * gort_chan_free may not race with an operation still under way.
 */
#include <stdatomic.h>

#include "runtime.h"
#include "testutil.h"

#define MS 1000000LL

/* ------------------------------------------------------------ helpers */

/* A call that may panic, run in a frame whose deferred call recovers. */
struct trial {
	void (*fn)(void *);
	void *arg;
	bool panicked;
	char msg[128];
};

static void trial_recover(void *arg)
{
	struct trial *t = arg;
	gort_panic_info pi;
	if (gort_recover(&pi)) {
		t->panicked = true;
		snprintf(t->msg, sizeof t->msg, "%s", pi.msg != NULL ? pi.msg : "(nil)");
	}
}

static void trial_frame(void *arg)
{
	struct trial *t = arg;
	gort_defer(trial_recover, t);
	t->fn(t->arg);
}

/* Runs fn(arg); returns the message it panicked with, or NULL if it returned. */
static const char *trial(struct trial *t, void (*fn)(void *), void *arg)
{
	*t = (struct trial){.fn = fn, .arg = arg};
	int r = gort_call(trial_frame, t);
	cr_assert_eq(r, t->panicked ? 1 : 0, "gort_call returned %d", r);
	return t->panicked ? t->msg : NULL;
}

#define assert_panics(fn, arg, want)                                                \
	do {                                                                        \
		struct trial t_;                                                    \
		const char *m_ = trial(&t_, (fn), (arg));                           \
		cr_assert(m_ != NULL, "%s did not panic", #fn);                     \
		cr_assert_str_eq(m_, (want), "%s panicked with \"%s\"", #fn, m_); \
	} while (0)

static gort_chan *mustmake(size_t size, size_t cap)
{
	gort_chan *c = gort_chan_make(size, cap);
	cr_assert_not_null(c, "gort_chan_make(%zu, %zu) failed", size, cap);
	return c;
}

/* gort_chan_make and the errno it set, read in a function of its own. */
static __attribute__((noinline)) gort_chan *make_errno(size_t size, size_t cap, int *err)
{
	errno = 0;
	gort_chan *c = gort_chan_make(size, cap);
	*err = errno;
	return c;
}

static void send_int(gort_chan *c, int v)
{
	gort_chan_send(c, &v);
}

static int recv_int(gort_chan *c, bool *ok)
{
	int v = -1;
	bool r = gort_chan_recv(c, &v);
	if (ok != NULL)
		*ok = r;
	return v;
}

static void do_close(void *c)
{
	gort_chan_close(c);
}

static void do_send(void *c)
{
	int v = 7;
	gort_chan_send(c, &v);
}

static void do_trysend(void *c)
{
	int v = 7;
	gort_chan_trysend(c, &v);
}

static void do_select_send(void *c)
{
	int v = 7;
	gort_case cs = {.chan = c, .dir = GORT_SEND, .elem = &v};
	gort_select(&cs, 1, true);
}

static void do_select_send_nb(void *c)
{
	int v = 7;
	gort_case cs = {.chan = c, .dir = GORT_SEND, .elem = &v};
	gort_select(&cs, 1, false);
}

/* ------------------------------------------------ Go's TestChan, caps 0..19 */

static struct {
	gort_chan *c;
	_Atomic int flag, result;
	struct testwg wg;
} tc;

static void tc_recv(void *arg)
{
	int v;
	gort_chan_recv(tc.c, &v);
	atomic_store(&tc.flag, 1);
	testwg_done(&tc.wg);
}

/* The same with a NULL elem: the value is dropped. */
static void tc_recv_nil_elem(void *arg)
{
	gort_chan_recv(tc.c, NULL);
	atomic_store(&tc.flag, 1);
	testwg_done(&tc.wg);
}

static void tc_send(void *arg)
{
	send_int(tc.c, 0);
	atomic_store(&tc.flag, 1);
	testwg_done(&tc.wg);
}

static void tc_recv_closed(void *arg)
{
	bool ok;
	int v = recv_int(tc.c, &ok);
	atomic_store(&tc.result, v == 0 && !ok);
	testwg_done(&tc.wg);
}

static void tc_send100(void *arg)
{
	for (int i = 0; i < 100; i++)
		send_int(tc.c, i);
	testwg_done(&tc.wg);
}

enum { TC_P = 4, TC_L = 1000 };
static _Atomic int tc_seen[TC_L];

static void tc_sendL(void *arg)
{
	for (int i = 0; i < TC_L; i++)
		send_int(tc.c, i);
	testwg_done(&tc.wg);
}

static void tc_recvL(void *arg)
{
	for (int i = 0; i < TC_L; i++) {
		bool ok;
		int v = recv_int(tc.c, &ok);
		cr_assert(ok);
		cr_assert(v >= 0 && v < TC_L, "received %d", v);
		atomic_fetch_add(&tc_seen[v], 1);
	}
	testwg_done(&tc.wg);
}

static void go_tc(void (*fn)(void *))
{
	testwg_add(&tc.wg, 1);
	cr_assert_eq(gort_go(fn, NULL), 0);
}

static void testchan(long cap)
{
	gort_chan *c;
	bool ok;
	int v, zero = 0;

	/* a receive from an empty channel blocks; a non-blocking one does not */
	c = tc.c = mustmake(sizeof(int), (size_t)cap);
	atomic_store(&tc.flag, 0);
	go_tc(tc_recv);
	go_tc(tc_recv_nil_elem);
	gort_sleep(MS);
	cr_assert_eq(atomic_load(&tc.flag), 0, "chan[%ld]: receive from empty chan", cap);
	cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "chan[%ld]: receive from empty chan", cap);
	gort_case rc = {.chan = c, .dir = GORT_RECV, .elem = &v};
	cr_assert_eq(gort_select(&rc, 1, false), -1, "chan[%ld]: receive from empty chan", cap);
	send_int(c, 0);
	send_int(c, 0);
	testwg_wait(&tc.wg);
	gort_chan_free(c);

	/* a send to a full channel blocks; a non-blocking one does not */
	c = tc.c = mustmake(sizeof(int), (size_t)cap);
	for (int i = 0; i < cap; i++)
		send_int(c, i);
	atomic_store(&tc.flag, 0);
	go_tc(tc_send);
	gort_sleep(MS);
	cr_assert_eq(atomic_load(&tc.flag), 0, "chan[%ld]: send to full chan", cap);
	cr_assert(!gort_chan_trysend(c, &zero), "chan[%ld]: send to full chan", cap);
	gort_case sc = {.chan = c, .dir = GORT_SEND, .elem = &zero};
	cr_assert_eq(gort_select(&sc, 1, false), -1, "chan[%ld]: send to full chan", cap);
	cr_assert_eq(recv_int(c, NULL), 0);
	testwg_wait(&tc.wg);
	cr_assert_eq(atomic_load(&tc.flag), 1);
	gort_chan_free(c);

	/* a closed channel gives its values, then zeros */
	c = mustmake(sizeof(int), (size_t)cap);
	for (int i = 0; i < cap; i++)
		send_int(c, i);
	gort_chan_close(c);
	for (int i = 0; i < cap; i++) {
		v = recv_int(c, &ok);
		cr_assert(ok && v == i, "chan[%ld]: received %d/%d, expected %d/1", cap, v, ok, i);
	}
	for (int i = 0; i < 2; i++) {
		v = recv_int(c, &ok);
		cr_assert(!ok && v == 0, "chan[%ld]: received %d/%d, expected 0/0", cap, v, ok);
	}
	v = -1;
	cr_assert_eq(gort_chan_tryrecv(c, &v), 0);
	cr_assert_eq(v, 0, "a receive from a closed channel zero-fills elem");
	gort_chan_free(c);

	/* close unblocks a receive */
	c = tc.c = mustmake(sizeof(int), (size_t)cap);
	atomic_store(&tc.result, 0);
	go_tc(tc_recv_closed);
	gort_sleep(MS);
	gort_chan_close(c);
	testwg_wait(&tc.wg);
	cr_assert(atomic_load(&tc.result), "chan[%ld]: received non zero from closed chan", cap);
	gort_chan_free(c);

	/* 100 integers arrive uncorrupted and in FIFO order, twice */
	c = tc.c = mustmake(sizeof(int), (size_t)cap);
	for (int round = 0; round < 2; round++) {
		go_tc(tc_send100);
		for (int i = 0; i < 100; i++) {
			v = recv_int(c, &ok);
			cr_assert(ok && v == i, "chan[%ld]: received %d/%d, expected %d", cap, v, ok, i);
		}
		testwg_wait(&tc.wg);
	}

	/* 1000 integers from each of 4 senders, taken by 4 receivers: each value 4 times */
	for (int i = 0; i < TC_L; i++)
		atomic_store(&tc_seen[i], 0);
	for (int p = 0; p < TC_P; p++) {
		go_tc(tc_sendL);
		go_tc(tc_recvL);
	}
	testwg_wait(&tc.wg);
	for (int i = 0; i < TC_L; i++)
		cr_assert_eq(atomic_load(&tc_seen[i]), TC_P, "chan[%ld]: value %d received %d times",
			     cap, i, atomic_load(&tc_seen[i]));
	gort_chan_free(c);

	/* len and cap */
	c = mustmake(sizeof(int), (size_t)cap);
	cr_assert(gort_chan_len(c) == 0 && gort_chan_cap(c) == (size_t)cap,
		  "chan[%ld]: bad len/cap %zu/%zu", cap, gort_chan_len(c), gort_chan_cap(c));
	for (int i = 0; i < cap; i++)
		send_int(c, i);
	cr_assert(gort_chan_len(c) == (size_t)cap && gort_chan_cap(c) == (size_t)cap,
		  "chan[%ld]: bad len/cap %zu/%zu", cap, gort_chan_len(c), gort_chan_cap(c));
	gort_chan_free(c);
}

static int main_testchan(void *arg)
{
	for (long cap = 0; cap < 20; cap++)
		testchan(cap);
	return 0;
}

Test(chan, go_testchan_caps_0_to_19, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1); /* as Go's test sets */
	run_main(main_testchan, NULL);
}

Test(chan, go_testchan_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_testchan, NULL);
}

Test(chan, go_testchan_randomized_schedule, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_testchan, NULL);
}

/* ------------------------------------------------ Go's TestMultiConsumer */

enum { MC_NWORK = 23 };
static const int mc_pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};

static struct {
	gort_chan *q, *r;
	long niter, expect;
	struct testwg workers, feeder;
} mc;

static void mc_worker(void *arg)
{
	long w = (long)arg;
	int v;
	while (gort_chan_recv(mc.q, &v)) {
		/* mess with the FIFO-ish nature of the queue */
		if (mc_pn[w % 10] == v)
			gort_yield();
		gort_chan_send(mc.r, &v);
	}
	testwg_done(&mc.workers);
}

static void mc_feeder(void *arg)
{
	for (long i = 0; i < mc.niter; i++) {
		int v = mc_pn[i % 10];
		mc.expect += v;
		gort_chan_send(mc.q, &v);
	}
	gort_chan_close(mc.q); /* no more work */
	testwg_wait(&mc.workers);
	gort_chan_close(mc.r); /* so no more results */
	testwg_done(&mc.feeder);
}

static int main_multiconsumer(void *arg)
{
	mc.niter = scaled(271828, 27182);
	mc.q = mustmake(sizeof(int), MC_NWORK * 3);
	mc.r = mustmake(sizeof(int), MC_NWORK * 3);
	testwg_add(&mc.workers, MC_NWORK);
	for (long w = 0; w < MC_NWORK; w++)
		cr_assert_eq(gort_go(mc_worker, (void *)w), 0);
	testwg_add(&mc.feeder, 1);
	cr_assert_eq(gort_go(mc_feeder, NULL), 0);
	long n = 0, s = 0;
	int v;
	while (gort_chan_recv(mc.r, &v)) {
		n++;
		s += v;
	}
	testwg_wait(&mc.feeder);
	cr_assert(n == mc.niter && s == mc.expect, "expected sum %ld (got %ld) from %ld iter (saw %ld)",
		  mc.expect, s, mc.niter, n);
	gort_chan_free(mc.q);
	gort_chan_free(mc.r);
	return 0;
}

Test(chan, go_multiconsumer, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_multiconsumer, NULL);
}

Test(chan, go_multiconsumer_four_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_multiconsumer, NULL);
}

/* ------------------------------------------------ Go's TestNonblockRecvRace */

/*
 * A buffered value and a close race with a non-blocking receive: the
 * channel is always ready (a value, or closed), so the receive never
 * reports that it would block, and the value goes to exactly one side.
 */
static struct {
	gort_chan *c;
	int mode;
	_Atomic int got;
	struct testwg wg;
} nb;

static void nb_racer(void *arg)
{
	int v = -1;
	if (nb.mode == 0) {
		int r = gort_chan_tryrecv(nb.c, &v);
		cr_assert_neq(r, -1, "chan is not ready");
		cr_assert_eq(v, r == 1 ? 1 : 0);
		atomic_store(&nb.got, r == 1);
	} else {
		gort_case cs = {.chan = nb.c, .dir = GORT_RECV, .elem = &v};
		cr_assert_eq(gort_select(&cs, 1, false), 0, "chan is not ready");
		cr_assert_eq(v, cs.ok ? 1 : 0);
		atomic_store(&nb.got, cs.ok);
	}
	testwg_done(&nb.wg);
}

static int main_nonblock_recv_race(void *arg)
{
	long n = scaled(10000, 1000);
	for (long i = 0; i < n; i++) {
		nb.c = mustmake(sizeof(int), 1);
		nb.mode = (int)(i & 1);
		send_int(nb.c, 1);
		testwg_add(&nb.wg, 1);
		cr_assert_eq(gort_go(nb_racer, NULL), 0);
		gort_chan_close(nb.c);
		bool ok;
		int v = recv_int(nb.c, &ok);
		cr_assert_eq(v, ok ? 1 : 0);
		testwg_wait(&nb.wg);
		cr_assert_eq(ok + atomic_load(&nb.got), 1, "iteration %ld: the value went to %d receivers",
			     i, ok + atomic_load(&nb.got));
		gort_chan_free(nb.c);
	}
	return 0;
}

Test(chan, go_nonblock_recv_race, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_nonblock_recv_race, NULL);
}

/* ------------------------------------------------------------ close rules */

static int main_close_rules(void *arg)
{
	static const size_t caps[] = {0, 3};
	for (size_t k = 0; k < 2; k++) {
		gort_chan *c = mustmake(sizeof(int), caps[k]);
		for (size_t i = 0; i < caps[k]; i++)
			send_int(c, (int)i + 1);
		gort_chan_close(c);
		assert_panics(do_close, c, "close of closed channel");
		assert_panics(do_send, c, "send on closed channel");
		assert_panics(do_trysend, c, "send on closed channel");
		assert_panics(do_select_send, c, "send on closed channel");
		assert_panics(do_select_send_nb, c, "send on closed channel");
		/* none of it touched the values, and receives still work */
		cr_assert_eq(gort_chan_len(c), caps[k]);
		for (size_t i = 0; i < caps[k]; i++) {
			int v = -1;
			cr_assert_eq(gort_chan_tryrecv(c, &v), 1);
			cr_assert_eq(v, (int)i + 1);
		}
		bool ok = true;
		cr_assert_eq(recv_int(c, &ok), 0);
		cr_assert(!ok);
		assert_panics(do_close, c, "close of closed channel");
		gort_chan_free(c);
	}
	assert_panics(do_close, NULL, "close of nil channel");
	return 0;
}

Test(chan, close_rules_panic_with_gos_messages, .timeout = 30) { run_main(main_close_rules, NULL); }

/* Senders blocked on a channel panic when it is closed; its buffered values stay. */
static void (*const blocking_sends[])(void *) = {do_send, do_select_send};

static struct {
	gort_chan *c;
	_Atomic int panicked;
	struct testwg wg;
} bs;

static void bs_sender(void *arg)
{
	struct trial t;
	const char *m = trial(&t, blocking_sends[(long)arg & 1], bs.c);
	cr_assert(m != NULL && strcmp(m, "send on closed channel") == 0,
		  "a send blocked when its channel closed ended with %s", m != NULL ? m : "no panic");
	atomic_fetch_add(&bs.panicked, 1);
	testwg_done(&bs.wg);
}

static int main_blocked_senders(void *arg)
{
	for (size_t cap = 0; cap < 3; cap += 2) {
		bs.c = mustmake(sizeof(int), cap);
		for (size_t i = 0; i < cap; i++)
			send_int(bs.c, 100 + (int)i);
		atomic_store(&bs.panicked, 0);
		testwg_add(&bs.wg, 10);
		for (long i = 0; i < 10; i++)
			cr_assert_eq(gort_go(bs_sender, (void *)i), 0);
		gort_sleep(10 * MS);
		cr_assert_eq(atomic_load(&bs.panicked), 0);
		gort_chan_close(bs.c);
		testwg_wait(&bs.wg);
		cr_assert_eq(atomic_load(&bs.panicked), 10);
		for (size_t i = 0; i < cap; i++) {
			bool ok;
			cr_assert_eq(recv_int(bs.c, &ok), 100 + (int)i);
			cr_assert(ok);
		}
		cr_assert_eq(gort_chan_tryrecv(bs.c, NULL), 0);
		gort_chan_free(bs.c);
	}
	return 0;
}

Test(chan, close_panics_blocked_senders, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_blocked_senders, NULL);
}

/* Receivers blocked on a channel all wake when it is closed, with zeroed elements. */
struct triple {
	long a, b, c;
};

static struct {
	gort_chan *c;
	_Atomic int woke;
	struct testwg wg;
} br;

static void br_receiver(void *arg)
{
	struct triple v;
	memset(&v, 0x5a, sizeof v);
	bool ok;
	if ((long)arg & 1) {
		gort_case cs = {.chan = br.c, .dir = GORT_RECV, .elem = &v, .ok = true};
		cr_assert_eq(gort_select(&cs, 1, true), 0);
		ok = cs.ok;
	} else {
		ok = gort_chan_recv(br.c, &v);
	}
	cr_assert(!ok, "a receive woken by close reported a value");
	cr_assert(v.a == 0 && v.b == 0 && v.c == 0, "the element was not zeroed");
	atomic_fetch_add(&br.woke, 1);
	testwg_done(&br.wg);
}

static int main_blocked_receivers(void *arg)
{
	for (size_t cap = 0; cap < 5; cap += 4) {
		br.c = mustmake(sizeof(struct triple), cap);
		atomic_store(&br.woke, 0);
		testwg_add(&br.wg, 20);
		for (long i = 0; i < 20; i++)
			cr_assert_eq(gort_go(br_receiver, (void *)i), 0);
		gort_sleep(10 * MS);
		cr_assert_eq(atomic_load(&br.woke), 0);
		gort_chan_close(br.c);
		testwg_wait(&br.wg);
		cr_assert_eq(atomic_load(&br.woke), 20);
		gort_chan_free(br.c);
	}
	return 0;
}

Test(chan, close_wakes_every_blocked_receiver, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_blocked_receivers, NULL);
}

/*
 * Sends racing a close, with receivers draining: a send that returns has
 * delivered its value (it is received exactly once), a send that does not
 * panics "send on closed channel"; nothing else happens.
 */
static struct {
	gort_chan *c;
	long senders;
	_Atomic long delivered, panicked, received;
	_Atomic unsigned char *seen;
	struct testwg wg;
} sr;

static void sr_send(void *arg)
{
	gort_chan_send(sr.c, arg);
}

static void sr_sender(void *arg)
{
	long v = (long)arg;
	struct trial t;
	const char *m = trial(&t, sr_send, &v);
	if (m == NULL)
		atomic_fetch_add(&sr.delivered, 1);
	else if (strcmp(m, "send on closed channel") == 0)
		atomic_fetch_add(&sr.panicked, 1);
	else
		cr_assert_fail("send ended with panic %s", m);
	testwg_done(&sr.wg);
}

static void sr_receiver(void *arg)
{
	long v;
	while (gort_chan_recv(sr.c, &v)) {
		cr_assert(v >= 0 && v < sr.senders);
		cr_assert_eq(atomic_fetch_add(&sr.seen[v], 1), 0, "value %ld received twice", v);
		atomic_fetch_add(&sr.received, 1);
	}
	testwg_done(&sr.wg);
}

static int main_send_close_race(void *arg)
{
	long rounds = scaled(300, 50);
	sr.senders = 32;
	sr.seen = calloc((size_t)sr.senders, 1);
	for (long r = 0; r < rounds; r++) {
		sr.c = mustmake(sizeof(long), (size_t)(r % 3) * 4);
		atomic_store(&sr.delivered, 0);
		atomic_store(&sr.panicked, 0);
		atomic_store(&sr.received, 0);
		for (long i = 0; i < sr.senders; i++)
			atomic_store(&sr.seen[i], 0);
		testwg_add(&sr.wg, sr.senders + 2);
		cr_assert_eq(gort_go(sr_receiver, NULL), 0);
		for (long i = 0; i < sr.senders; i++)
			cr_assert_eq(gort_go(sr_sender, (void *)i), 0);
		cr_assert_eq(gort_go(sr_receiver, NULL), 0);
		for (long y = 0; y < r % 7; y++)
			gort_yield();
		gort_chan_close(sr.c);
		testwg_wait(&sr.wg);
		cr_assert_eq(atomic_load(&sr.delivered) + atomic_load(&sr.panicked), sr.senders);
		cr_assert_eq(atomic_load(&sr.received), atomic_load(&sr.delivered),
			     "round %ld: %ld sends returned, %ld values received", r,
			     atomic_load(&sr.delivered), atomic_load(&sr.received));
		gort_chan_free(sr.c);
	}
	free((void *)sr.seen);
	return 0;
}

Test(chan, sends_racing_close, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_send_close_race, NULL);
}

Test(chan, sends_racing_close_four_procs, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_send_close_race, NULL);
}

/* ------------------------------------------------------------ nil channels */

static _Atomic int nil_passed;

static void nil_send(void *arg)
{
	send_int(NULL, 1);
	atomic_fetch_add(&nil_passed, 1);
}

static void nil_recv(void *arg)
{
	int v;
	gort_chan_recv(NULL, &v);
	atomic_fetch_add(&nil_passed, 1);
}

static void nil_select(void *arg)
{
	int v = 0;
	gort_case cs[2] = {{.chan = NULL, .dir = GORT_RECV, .elem = &v},
			   {.chan = NULL, .dir = GORT_SEND, .elem = &v}};
	gort_select(cs, 2, true);
	atomic_fetch_add(&nil_passed, 1);
}

static int main_nil(void *arg)
{
	int v = 0;
	cr_assert_eq(gort_chan_tryrecv(NULL, &v), -1, "a nil channel is never ready");
	cr_assert(!gort_chan_trysend(NULL, &v));
	cr_assert_eq(gort_chan_len(NULL), 0);
	cr_assert_eq(gort_chan_cap(NULL), 0);
	gort_case cs[2] = {{.chan = NULL, .dir = GORT_RECV, .elem = &v},
			   {.chan = NULL, .dir = GORT_SEND, .elem = &v}};
	cr_assert_eq(gort_select(cs, 2, false), -1);

	cr_assert_eq(gort_go(nil_send, NULL), 0);
	cr_assert_eq(gort_go(nil_recv, NULL), 0);
	cr_assert_eq(gort_go(nil_select, NULL), 0);
	gort_sleep(50 * MS);
	cr_assert_eq(atomic_load(&nil_passed), 0, "an operation on a nil channel returned");
	cr_assert_eq(gort_num_goroutine(), 4, "the three blocked forever still exist");
	return 0; /* they are abandoned, as in Go */
}

Test(chan, nil_channel_blocks_forever, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_nil, NULL);
}

/* ------------------------------------------------------------ make's limits */

static int main_make_errors(void *arg)
{
	int err;
	cr_assert_null(make_errno(65536, 0, &err), "elements above 65535 bytes");
	cr_assert_eq(err, EINVAL);
	cr_assert_null(make_errno(65536, 10, &err));
	cr_assert_eq(err, EINVAL);
	cr_assert_null(make_errno(SIZE_MAX, 1, &err));
	cr_assert_eq(err, EINVAL);
	/* a buffer whose size overflows size_t */
	cr_assert_null(make_errno(4096, SIZE_MAX / 1024, &err), "elem_size * cap overflowed");
	cr_assert(err == ENOMEM || err == EINVAL, "errno %d", err);
	cr_assert_null(make_errno(65535, SIZE_MAX, &err));
	cr_assert(err == ENOMEM || err == EINVAL, "errno %d", err);
	/* sanitizers' allocators abort instead of failing a huge malloc */
	if (!UNDER_SANITIZER && !under_valgrind()) {
		cr_assert_null(make_errno(8, (size_t)1 << 56, &err), "an exabyte buffer");
		cr_assert_eq(err, ENOMEM);
	}
	/* the runtime goes on */
	gort_chan *c = mustmake(65535, 0);
	gort_chan_free(c);
	return 0;
}

Test(chan, make_rejects_what_go_rejects, .timeout = 30) { run_main(main_make_errors, NULL); }

/* ------------------------------------------------------------ elements */

/* Every size arrives intact, through the buffer and directly between stacks. */
static struct {
	gort_chan *c;
	size_t size;
	int n;
	struct testwg wg;
} el;

static unsigned char pat(size_t i, int k)
{
	return (unsigned char)(i * 31 + (size_t)k * 7 + 1);
}

static void el_sender(void *arg)
{
	unsigned char *b = malloc(el.size);
	for (int k = 0; k < el.n; k++) {
		for (size_t i = 0; i < el.size; i++)
			b[i] = pat(i, k);
		gort_chan_send(el.c, b);
		memset(b, 0xee, el.size); /* the channel copied it */
	}
	free(b);
	testwg_done(&el.wg);
}

static int main_elements(void *arg)
{
	static const size_t sizes[] = {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 100, 255, 1000, 4096, 65535};
	static const size_t caps[] = {0, 1, 5};
	el.n = 12;
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (size_t k = 0; k < 3; k++) {
			el.size = sizes[s];
			el.c = mustmake(el.size, caps[k]);
			unsigned char *b = malloc(el.size + 16);
			testwg_add(&el.wg, 1);
			cr_assert_eq(gort_go(el_sender, NULL), 0);
			for (int n = 0; n < el.n; n++) {
				if (n % 3 == 0)
					gort_sleep(MS / 4); /* let the sender block, or fill the buffer */
				memset(b, 0, el.size + 16);
				cr_assert(gort_chan_recv(el.c, b));
				for (size_t i = 0; i < el.size; i++)
					cr_assert_eq(b[i], pat(i, n), "size %zu cap %zu: element %d byte %zu",
						     el.size, caps[k], n, i);
				for (size_t i = el.size; i < el.size + 16; i++)
					cr_assert_eq(b[i], 0, "size %zu: wrote past the element", el.size);
			}
			testwg_wait(&el.wg);
			free(b);
			gort_chan_free(el.c);
		}
	}
	return 0;
}

Test(chan, elements_of_every_size_arrive_intact, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_elements, NULL);
}

/* Zero-size elements: a channel of struct{}, counted. */
static struct {
	gort_chan *c;
	struct testwg wg;
} zs;

static void zs_sender(void *arg)
{
	char dummy = 0;
	for (int i = 0; i < 1000; i++)
		gort_chan_send(zs.c, &dummy);
	testwg_done(&zs.wg);
}

static int main_zero_size(void *arg)
{
	char dummy = 0;
	/* unbuffered */
	zs.c = mustmake(0, 0);
	cr_assert_eq(gort_chan_cap(zs.c), 0);
	testwg_add(&zs.wg, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(gort_go(zs_sender, NULL), 0);
	for (int i = 0; i < 4000; i++)
		cr_assert(gort_chan_recv(zs.c, i & 1 ? NULL : &dummy));
	testwg_wait(&zs.wg);
	cr_assert_eq(gort_chan_tryrecv(zs.c, &dummy), -1, "a value more than was sent");
	cr_assert_eq(gort_chan_len(zs.c), 0);
	gort_chan_close(zs.c);
	cr_assert(!gort_chan_recv(zs.c, &dummy));
	cr_assert_eq(gort_chan_tryrecv(zs.c, NULL), 0);
	gort_chan_free(zs.c);

	/* buffered: the buffer counts, though it holds nothing */
	zs.c = mustmake(0, 5);
	for (int i = 0; i < 5; i++)
		cr_assert(gort_chan_trysend(zs.c, &dummy));
	cr_assert(!gort_chan_trysend(zs.c, &dummy), "a send to a full buffer");
	cr_assert_eq(gort_chan_len(zs.c), 5);
	cr_assert_eq(gort_chan_cap(zs.c), 5);
	testwg_add(&zs.wg, 1);
	cr_assert_eq(gort_go(zs_sender, NULL), 0);
	for (int i = 0; i < 1005; i++)
		cr_assert(gort_chan_recv(zs.c, &dummy));
	testwg_wait(&zs.wg);
	cr_assert_eq(gort_chan_len(zs.c), 0);
	cr_assert_eq(gort_chan_tryrecv(zs.c, &dummy), -1);
	cr_assert(gort_chan_trysend(zs.c, &dummy));
	gort_chan_close(zs.c);
	cr_assert_eq(gort_chan_tryrecv(zs.c, &dummy), 1, "closing keeps the buffered value");
	cr_assert_eq(gort_chan_tryrecv(zs.c, &dummy), 0);
	gort_chan_free(zs.c);
	return 0;
}

Test(chan, zero_size_elements, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_zero_size, NULL);
}

/* Freeing a channel that still buffers values is fine (nobody blocked on it). */
static int main_free_buffered(void *arg)
{
	for (int i = 0; i < 1000; i++) {
		gort_chan *c = mustmake(64, 8);
		char v[64] = {0};
		for (int k = 0; k < i % 9; k++)
			cr_assert(gort_chan_trysend(c, v));
		if (i % 2)
			gort_chan_close(c);
		gort_chan_free(c);
	}
	return 0;
}

Test(chan, free_with_buffered_values, .timeout = 30) { run_main(main_free_buffered, NULL); }

/* ------------------------------------------------------------ stress */

/*
 * Producers and consumers on one channel, each side mixing blocking
 * operations, non-blocking ones in a yield loop and one-case selects;
 * every value is received exactly once.
 */
enum { MP_PROD = 4, MP_CONS = 4 };

static struct {
	gort_chan *c;
	long per;
	_Atomic unsigned char *seen;
	_Atomic long received;
	struct testwg prod, cons;
} mp;

static void mp_producer(void *arg)
{
	long p = (long)arg;
	for (long i = 0; i < mp.per; i++) {
		long v = p * mp.per + i;
		if (p == 0 && (i & 1)) {
			while (!gort_chan_trysend(mp.c, &v))
				gort_yield();
		} else if (p == 1 && (i & 1)) {
			gort_case cs = {.chan = mp.c, .dir = GORT_SEND, .elem = &v};
			cr_assert_eq(gort_select(&cs, 1, true), 0);
		} else {
			gort_chan_send(mp.c, &v);
		}
	}
	testwg_done(&mp.prod);
}

static void mp_consumer(void *arg)
{
	long k = (long)arg;
	for (long n = 0;; n++) {
		long v = -1;
		bool ok;
		if (k == 0 && (n & 1)) {
			int r;
			while ((r = gort_chan_tryrecv(mp.c, &v)) < 0)
				gort_yield();
			ok = r == 1;
		} else if (k == 1 && (n & 1)) {
			gort_case cs = {.chan = mp.c, .dir = GORT_RECV, .elem = &v};
			cr_assert_eq(gort_select(&cs, 1, true), 0);
			ok = cs.ok;
		} else {
			ok = gort_chan_recv(mp.c, &v);
		}
		if (!ok)
			break;
		cr_assert(v >= 0 && v < MP_PROD * mp.per, "received %ld", v);
		cr_assert_eq(atomic_fetch_add(&mp.seen[v], 1), 0, "value %ld received twice", v);
		atomic_fetch_add(&mp.received, 1);
	}
	testwg_done(&mp.cons);
}

static void mpmc(size_t cap)
{
	long total = MP_PROD * mp.per;
	mp.c = mustmake(sizeof(long), cap);
	mp.seen = calloc((size_t)total, 1);
	atomic_store(&mp.received, 0);
	testwg_add(&mp.prod, MP_PROD);
	testwg_add(&mp.cons, MP_CONS);
	for (long i = 0; i < MP_CONS; i++)
		cr_assert_eq(gort_go(mp_consumer, (void *)i), 0);
	for (long i = 0; i < MP_PROD; i++)
		cr_assert_eq(gort_go(mp_producer, (void *)i), 0);
	testwg_wait(&mp.prod);
	gort_chan_close(mp.c);
	testwg_wait(&mp.cons);
	cr_assert_eq(atomic_load(&mp.received), total, "cap %zu: %ld of %ld values received", cap,
		     atomic_load(&mp.received), total);
	for (long i = 0; i < total; i++)
		cr_assert_eq(mp.seen[i], 1, "cap %zu: value %ld received %d times", cap, i, mp.seen[i]);
	free((void *)mp.seen);
	gort_chan_free(mp.c);
}

static int main_mpmc(void *arg)
{
	mp.per = scaled(50000, 5000);
	mpmc(0);
	mpmc(1);
	mpmc(64);
	return 0;
}

Test(chan, mpmc_every_value_exactly_once, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_mpmc, NULL);
}

Test(chan, mpmc_every_value_exactly_once_one_proc, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_mpmc, NULL);
}

Test(chan, mpmc_every_value_exactly_once_four_procs_randomized, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_mpmc, NULL);
}

/*
 * The daisy chain: n goroutines in a row, each passing what it receives
 * from its right, plus one, to its left, through unbuffered channels.
 */
static struct testwg dc_wg;

struct link {
	gort_chan *left, *right;
};

static void whisper(void *arg)
{
	struct link *l = arg;
	int v;
	cr_assert(gort_chan_recv(l->right, &v));
	v++;
	gort_chan_send(l->left, &v);
	testwg_done(&dc_wg);
}

static int main_daisy_chain(void *arg)
{
	long n = scaled(10000, 1000);
	gort_chan **chans = calloc((size_t)n + 1, sizeof *chans);
	struct link *links = calloc((size_t)n, sizeof *links);
	chans[0] = mustmake(sizeof(int), 0);
	testwg_add(&dc_wg, n);
	for (long i = 0; i < n; i++) {
		chans[i + 1] = mustmake(sizeof(int), 0);
		links[i] = (struct link){chans[i], chans[i + 1]};
		cr_assert_eq(gort_go(whisper, &links[i]), 0);
	}
	send_int(chans[n], 1);
	bool ok;
	int v = recv_int(chans[0], &ok);
	cr_assert(ok);
	cr_assert_eq(v, n + 1);
	testwg_wait(&dc_wg);
	for (long i = 0; i <= n; i++)
		gort_chan_free(chans[i]);
	free(chans);
	free(links);
	return 0;
}

Test(chan, daisy_chain, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_daisy_chain, NULL);
}

/* Ping-pong: one counter passed back and forth, n times each way. */
static struct {
	gort_chan *ping, *pong;
	long n;
	struct testwg wg;
} pp;

static void ponger(void *arg)
{
	long v;
	while (gort_chan_recv(pp.ping, &v)) {
		v++;
		gort_chan_send(pp.pong, &v);
	}
	testwg_done(&pp.wg);
}

static int main_pingpong(void *arg)
{
	pp.n = scaled(200000, 20000);
	for (size_t cap = 0; cap < 2; cap++) {
		pp.ping = mustmake(sizeof(long), cap);
		pp.pong = mustmake(sizeof(long), cap);
		testwg_add(&pp.wg, 1);
		cr_assert_eq(gort_go(ponger, NULL), 0);
		long v = 0;
		for (long i = 0; i < pp.n; i++) {
			gort_chan_send(pp.ping, &v);
			cr_assert(gort_chan_recv(pp.pong, &v));
			cr_assert_eq(v, i + 1);
		}
		gort_chan_close(pp.ping);
		testwg_wait(&pp.wg);
		gort_chan_free(pp.ping);
		gort_chan_free(pp.pong);
	}
	return 0;
}

Test(chan, pingpong, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_pingpong, NULL);
}

Test(chan, pingpong_one_proc, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_pingpong, NULL);
}
