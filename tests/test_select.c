/*
 * select: Go's TestSelectFairness, TestPseudoRandomSend,
 * TestSelectDuplicateChannel, TestSelfSelect, TestSelectStress and
 * TestNonblockSelectRace(2); default and timeout; nil and closed channels
 * among the cases; many cases at once, and goroutines selecting over the
 * same channels in opposite orders.  Stress runs count what was sent and
 * what was received.
 *
 * Goroutines are joined with testwg (the runtime's own park/ready); a
 * channel is freed only once every goroutine that used it is joined.
 */
#include <math.h>
#include <stdatomic.h>

#include "runtime.h"
#include "testutil.h"

#define MS 1000000LL

static gort_chan *mustmake(size_t size, size_t cap)
{
	gort_chan *c = gort_chan_make(size, cap);
	cr_assert_not_null(c, "gort_chan_make(%zu, %zu) failed", size, cap);
	return c;
}

static void send_int(gort_chan *c, int v)
{
	gort_chan_send(c, &v);
}

static int recv_int(gort_chan *c)
{
	int v = -1;
	cr_assert(gort_chan_recv(c, &v));
	return v;
}

static gort_case recv_case(gort_chan *c, void *elem)
{
	return (gort_case){.chan = c, .dir = GORT_RECV, .elem = elem};
}

static gort_case send_case(gort_chan *c, void *elem)
{
	return (gort_case){.chan = c, .dir = GORT_SEND, .elem = elem};
}

/* A cheap random sequence for goroutines that need one of their own. */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* ------------------------------------------------ Go's TestSelectFairness */

enum { FAIR_TRIALS = 10000 };

static struct {
	gort_chan *c1, *c2, *c3, *c4, *out, *done;
	struct testwg wg;
} fs;

static void fair_selector(void *arg)
{
	for (;;) {
		unsigned char b = 0, d;
		gort_case in[4] = {recv_case(fs.c3, &b), recv_case(fs.c4, &b), recv_case(fs.c1, &b),
				   recv_case(fs.c2, &b)};
		int i = gort_select(in, 4, true);
		cr_assert(i == 2 || i == 3, "case %d taken: its channel is never ready", i);
		cr_assert(in[i].ok);
		gort_case out[2] = {send_case(fs.out, &b), recv_case(fs.done, &d)};
		if (gort_select(out, 2, true) == 1)
			break;
	}
	testwg_done(&fs.wg);
}

static int main_fairness(void *arg)
{
	fs.c1 = mustmake(1, FAIR_TRIALS + 1);
	fs.c2 = mustmake(1, FAIR_TRIALS + 1);
	for (int i = 0; i < FAIR_TRIALS + 1; i++) {
		unsigned char one = 1, two = 2;
		gort_chan_send(fs.c1, &one);
		gort_chan_send(fs.c2, &two);
	}
	fs.c3 = mustmake(1, 0);
	fs.c4 = mustmake(1, 0);
	fs.out = mustmake(1, 0);
	fs.done = mustmake(1, 0);
	testwg_add(&fs.wg, 1);
	cr_assert_eq(gort_go(fair_selector, NULL), 0);
	long cnt1 = 0, cnt2 = 0;
	for (int i = 0; i < FAIR_TRIALS; i++) {
		unsigned char b = 0;
		cr_assert(gort_chan_recv(fs.out, &b));
		if (b == 1)
			cnt1++;
		else if (b == 2)
			cnt2++;
		else
			cr_assert_fail("unexpected value %d on channel", b);
	}
	/* more than 10 sigma away from the mean is unfair */
	double mean = FAIR_TRIALS * 0.5, stddev = sqrt(FAIR_TRIALS * 0.5 * (1 - 0.5));
	cr_assert(fabs((double)cnt1 - mean) <= 10 * stddev, "unfair select: in %d trials, results were %ld, %ld",
		  FAIR_TRIALS, cnt1, cnt2);
	gort_chan_close(fs.done);
	testwg_wait(&fs.wg);
	gort_chan_free(fs.c1);
	gort_chan_free(fs.c2);
	gort_chan_free(fs.c3);
	gort_chan_free(fs.c4);
	gort_chan_free(fs.out);
	gort_chan_free(fs.done);
	return 0;
}

Test(select, go_select_fairness, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_fairness, NULL);
}

Test(select, go_select_fairness_one_proc, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_fairness, NULL);
}

/* ------------------------------------------------ Go's TestPseudoRandomSend */

enum { PRS_N = 100 };

static struct {
	gort_chan *c;
	int l[PRS_N];
	struct testwg wg;
} prs;

static void prs_receiver(void *arg)
{
	for (int i = 0; i < PRS_N; i++) {
		gort_yield();
		prs.l[i] = recv_int(prs.c);
	}
	testwg_done(&prs.wg);
}

static int main_pseudo_random_send(void *arg)
{
	static const size_t caps[] = {0, PRS_N};
	for (int k = 0; k < 2; k++) {
		prs.c = mustmake(sizeof(int), caps[k]);
		testwg_add(&prs.wg, 1);
		cr_assert_eq(gort_go(prs_receiver, NULL), 0);
		for (int i = 0; i < PRS_N; i++) {
			int one = 1, zero = 0;
			gort_case cs[2] = {send_case(prs.c, &one), send_case(prs.c, &zero)};
			int r = gort_select(cs, 2, true);
			cr_assert(r == 0 || r == 1);
		}
		testwg_wait(&prs.wg);
		int n0 = 0, n1 = 0;
		for (int i = 0; i < PRS_N; i++) {
			n0 += (prs.l[i] + 1) % 2;
			n1 += prs.l[i];
		}
		cr_assert(n0 > PRS_N / 10 && n1 > PRS_N / 10,
			  "want pseudorandom, got %d zeros and %d ones (chan cap %zu)", n0, n1, caps[k]);
		gort_chan_free(prs.c);
	}
	return 0;
}

Test(select, go_pseudo_random_send, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_pseudo_random_send, NULL);
}

/* ------------------------------------------ Go's TestSelectDuplicateChannel */

/*
 * A goroutine can be queued on one channel several times: A waits on c
 * twice and on d, B on c; d wakes A, which must take itself off c twice,
 * so that the send on c finds B.
 */
static struct {
	gort_chan *c, *d, *e;
	struct testwg wg;
} dupc;

static void dup_a(void *arg)
{
	int v = -1;
	gort_case cs[3] = {recv_case(dupc.c, &v), recv_case(dupc.c, &v), recv_case(dupc.d, &v)};
	cr_assert_eq(gort_select(cs, 3, true), 2);
	cr_assert_eq(v, 7);
	send_int(dupc.e, 9);
	testwg_done(&dupc.wg);
}

static void dup_b(void *arg)
{
	cr_assert_eq(recv_int(dupc.c), 8);
	testwg_done(&dupc.wg);
}

static int main_duplicate(void *arg)
{
	for (int round = 0; round < 20; round++) {
		dupc.c = mustmake(sizeof(int), 0);
		dupc.d = mustmake(sizeof(int), 0);
		dupc.e = mustmake(sizeof(int), 0);
		testwg_add(&dupc.wg, 2);
		cr_assert_eq(gort_go(dup_a, NULL), 0);
		gort_sleep(MS); /* A queues on c first */
		cr_assert_eq(gort_go(dup_b, NULL), 0);
		gort_sleep(MS); /* then B */
		send_int(dupc.d, 7); /* wakes A, which leaves c's queue */
		cr_assert_eq(recv_int(dupc.e), 9);
		send_int(dupc.c, 8); /* must find B */
		testwg_wait(&dupc.wg);
		gort_chan_free(dupc.c);
		gort_chan_free(dupc.d);
		gort_chan_free(dupc.e);
	}
	return 0;
}

Test(select, go_select_duplicate_channel, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_duplicate, NULL);
}

/* A ready channel named by several cases is taken once, by any of them. */
static int main_duplicate_ready(void *arg)
{
	gort_chan *c = mustmake(sizeof(int), 1);
	int hits[3] = {0};
	for (int i = 0; i < 300; i++) {
		send_int(c, i);
		int v = -1;
		gort_case cs[3] = {recv_case(c, &v), recv_case(c, &v), recv_case(c, &v)};
		int r = gort_select(cs, 3, false);
		cr_assert(r >= 0 && r < 3, "select returned %d", r);
		cr_assert(cs[r].ok);
		cr_assert_eq(v, i);
		hits[r]++;
		cr_assert_eq(gort_select(cs, 3, false), -1, "one value was received twice");
	}
	for (int k = 0; k < 3; k++)
		cr_assert_gt(hits[k], 30, "case %d taken %d times of 300", k, hits[k]);
	gort_chan_free(c);
	return 0;
}

Test(select, duplicate_ready_channel_taken_once, .timeout = 30) { run_main(main_duplicate_ready, NULL); }

/* ------------------------------------------------ default */

static int main_default(void *arg)
{
	gort_chan *c[3] = {mustmake(sizeof(int), 0), mustmake(sizeof(int), 1), mustmake(sizeof(int), 4)};
	int v = -1;
	gort_case cs[3] = {recv_case(c[0], &v), recv_case(c[1], &v), recv_case(c[2], &v)};
	cr_assert_eq(gort_select(cs, 3, false), -1, "nothing is ready");
	cr_assert_eq(v, -1, "default wrote into an element");
	cr_assert_eq(gort_select(NULL, 0, false), -1, "no cases");

	send_int(c[1], 5);
	cr_assert_eq(gort_select(cs, 3, false), 1);
	cr_assert_eq(v, 5);
	cr_assert(cs[1].ok);
	cr_assert_eq(gort_select(cs, 3, false), -1);

	/* sends: ready while there is room, then not */
	int x = 11;
	gort_case ss[3] = {send_case(c[0], &x), send_case(c[1], &x), send_case(c[2], &x)};
	for (int i = 0; i < 5; i++) {
		int r = gort_select(ss, 3, false);
		cr_assert(r == 1 || r == 2, "select returned %d", r);
	}
	cr_assert_eq(gort_select(ss, 3, false), -1, "every buffer is full");
	cr_assert_eq(gort_chan_len(c[1]) + gort_chan_len(c[2]), 5);

	/* the index counts nil cases too */
	gort_chan_tryrecv(c[1], NULL);
	gort_case mixed[4] = {recv_case(NULL, &v), send_case(NULL, &x), send_case(c[0], &x), send_case(c[1], &x)};
	cr_assert_eq(gort_select(mixed, 4, false), 3);
	cr_assert_eq(gort_select(mixed, 2, false), -1, "nil channels are never ready");

	/* a send and a receive on the same unbuffered channel cannot meet */
	gort_case self[2] = {send_case(c[0], &x), recv_case(c[0], &v)};
	cr_assert_eq(gort_select(self, 2, false), -1);
	cr_assert_eq(gort_select_timeout(self, 2, 10 * MS), -1, "a select met itself");

	for (int i = 0; i < 3; i++)
		gort_chan_free(c[i]);
	return 0;
}

Test(select, default_when_nothing_is_ready, .timeout = 30) { run_main(main_default, NULL); }

/* A send case and a receive case both ready: either may be taken. */
static int main_send_or_recv(void *arg)
{
	gort_chan *in = mustmake(sizeof(int), 1), *out = mustmake(sizeof(int), 1);
	int n[2] = {0};
	send_int(in, 1);
	for (int i = 0; i < 1000; i++) {
		int v = 0, x = 2;
		gort_case cs[2] = {recv_case(in, &v), send_case(out, &x)};
		int r = gort_select(cs, 2, false);
		cr_assert(r == 0 || r == 1);
		n[r]++;
		if (r == 0) {
			cr_assert_eq(v, 1);
			send_int(in, 1);
		} else {
			cr_assert_eq(recv_int(out), 2);
		}
	}
	cr_assert(n[0] > 100 && n[1] > 100, "receive taken %d times, send %d times", n[0], n[1]);
	gort_chan_free(in);
	gort_chan_free(out);
	return 0;
}

Test(select, ready_send_and_receive_chosen_at_random, .timeout = 30) { run_main(main_send_or_recv, NULL); }

/* ------------------------------------------------ closed channels */

struct triple {
	long a, b, c;
};

static int main_closed(void *arg)
{
	gort_chan *c = mustmake(sizeof(struct triple), 2), *never = mustmake(sizeof(struct triple), 0);
	struct triple v, one = {1, 2, 3};
	gort_chan_send(c, &one);
	gort_chan_close(c);
	gort_case cs[2] = {recv_case(never, &v), recv_case(c, &v)};
	cs[1].ok = false;
	cr_assert_eq(gort_select(cs, 2, true), 1, "the buffered value first");
	cr_assert(cs[1].ok);
	cr_assert(v.a == 1 && v.b == 2 && v.c == 3);
	for (int block = 0; block < 2; block++) {
		memset(&v, 0x5a, sizeof v);
		cs[1].ok = true;
		cr_assert_eq(gort_select(cs, 2, block), 1, "a closed channel is always ready");
		cr_assert(!cs[1].ok);
		cr_assert(v.a == 0 && v.b == 0 && v.c == 0, "the element was not zeroed");
	}
	memset(&v, 0x5a, sizeof v);
	cr_assert_eq(gort_select_timeout(cs, 2, 10000 * MS), 1);
	cr_assert(!cs[1].ok && v.a == 0);
	gort_chan_free(c);
	gort_chan_free(never);
	return 0;
}

Test(select, closed_channel_is_ready_with_ok_false, .timeout = 30) { run_main(main_closed, NULL); }

/* Goroutines blocked in selects all wake when one of their channels closes. */
static struct {
	gort_chan *c, *d;
	_Atomic int woke;
	struct testwg wg;
} cw;

static void cw_selector(void *arg)
{
	int v = 42, w = 43;
	gort_case cs[2] = {recv_case(cw.c, &v), recv_case(cw.d, &w)};
	cs[1].ok = true;
	cr_assert_eq(gort_select(cs, 2, true), 1);
	cr_assert(!cs[1].ok);
	cr_assert_eq(w, 0);
	cr_assert_eq(v, 42, "the case not taken wrote its element");
	atomic_fetch_add(&cw.woke, 1);
	testwg_done(&cw.wg);
}

static int main_close_wakes(void *arg)
{
	cw.c = mustmake(sizeof(int), 0);
	cw.d = mustmake(sizeof(int), 0);
	testwg_add(&cw.wg, 16);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(gort_go(cw_selector, NULL), 0);
	gort_sleep(10 * MS);
	cr_assert_eq(atomic_load(&cw.woke), 0);
	gort_chan_close(cw.d);
	testwg_wait(&cw.wg);
	cr_assert_eq(atomic_load(&cw.woke), 16);
	/* c's queue was left clean: it still works */
	int v = 0;
	cr_assert(!gort_chan_trysend(cw.c, &v), "a receiver left queued on c");
	gort_chan_free(cw.c);
	gort_chan_free(cw.d);
	return 0;
}

Test(select, close_wakes_blocked_selects, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_close_wakes, NULL);
}

/* A non-blocking send finds a receiver parked on an unbuffered channel. */
static struct {
	gort_chan *c;
	_Atomic int got;
	struct testwg wg;
} pr;

static void pr_receiver(void *arg)
{
	atomic_store(&pr.got, recv_int(pr.c));
	testwg_done(&pr.wg);
}

static int main_parked_receiver(void *arg)
{
	pr.c = mustmake(sizeof(int), 0);
	for (int mode = 0; mode < 2; mode++) {
		testwg_add(&pr.wg, 1);
		cr_assert_eq(gort_go(pr_receiver, NULL), 0);
		gort_sleep(5 * MS);
		int x = 100 + mode;
		gort_case cs = send_case(pr.c, &x);
		bool sent = false;
		for (int64_t end = gort_now() + 5000 * MS; !sent && gort_now() < end;) {
			sent = mode ? gort_select(&cs, 1, false) == 0 : gort_chan_trysend(pr.c, &x);
			if (!sent)
				gort_sleep(MS);
		}
		cr_assert(sent, "a non-blocking send never found the parked receiver");
		testwg_wait(&pr.wg);
		cr_assert_eq(atomic_load(&pr.got), 100 + mode);
	}
	gort_chan_free(pr.c);
	return 0;
}

Test(select, nonblocking_send_meets_parked_receiver, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_parked_receiver, NULL);
}

/* ------------------------------------------------ timeout */

static struct {
	gort_chan *c;
	struct testwg wg;
} late;

static void late_sender(void *arg)
{
	gort_sleep(20 * MS);
	send_int(late.c, 77);
	testwg_done(&late.wg);
}

static int main_timeout(void *arg)
{
	gort_chan *c = mustmake(sizeof(int), 0), *d = mustmake(sizeof(int), 1);
	int v = -1;
	gort_case cs[2] = {recv_case(c, &v), recv_case(d, &v)};
	static const int64_t timeouts[] = {1 * MS, 10 * MS, 50 * MS};
	for (int i = 0; i < 3; i++) {
		int64_t t0 = gort_now();
		cr_assert_eq(gort_select_timeout(cs, 2, timeouts[i]), -1);
		int64_t el = gort_now() - t0;
		cr_assert_geq(el, timeouts[i], "timed out after %lld ns, before %lld", (long long)el,
			      (long long)timeouts[i]);
		cr_assert_lt(el, timeouts[i] + 5000 * MS, "timed out after %lld ns", (long long)el);
	}
	cr_assert_eq(v, -1);

	/* ready at once: no waiting */
	send_int(d, 3);
	int64_t t0 = gort_now();
	cr_assert_eq(gort_select_timeout(cs, 2, 10000 * MS), 1);
	cr_assert_lt(gort_now() - t0, 1000 * MS);
	cr_assert_eq(v, 3);

	/* ready in the middle of the wait */
	late.c = c;
	testwg_add(&late.wg, 1);
	cr_assert_eq(gort_go(late_sender, NULL), 0);
	t0 = gort_now();
	cr_assert_eq(gort_select_timeout(cs, 2, 10000 * MS), 0);
	cr_assert_lt(gort_now() - t0, 5000 * MS);
	cr_assert_eq(v, 77);
	testwg_wait(&late.wg);

	/* a send that timed out sent nothing */
	int x = 5;
	gort_case sc = send_case(c, &x);
	cr_assert_eq(gort_select_timeout(&sc, 1, 5 * MS), -1);
	cr_assert_eq(gort_chan_tryrecv(c, &v), -1, "a timed-out send left its value behind");

	gort_chan_free(c);
	gort_chan_free(d);
	return 0;
}

Test(select, timeout, .timeout = 60) { run_main(main_timeout, NULL); }

/*
 * Timeouts racing sends: each round the receiver waits up to a few hundred
 * microseconds, and the sender sends after about as long.  A select that
 * timed out must not take a later value: every value arrives once, in order.
 */
enum { LT_PAIRS = 4 };

static struct {
	gort_chan *c[LT_PAIRS];
	long rounds;
	_Atomic long timeouts;
	struct testwg wg;
} lt;

static void lt_sender(void *arg)
{
	long k = (long)arg;
	uint64_t s = (uint64_t)k;
	for (long i = 0; i < lt.rounds; i++) {
		gort_sleep((int64_t)(lcg(&s) % 400) * 1000);
		long v = i;
		gort_chan_send(lt.c[k], &v);
	}
	testwg_done(&lt.wg);
}

static void lt_receiver(void *arg)
{
	long k = (long)arg;
	uint64_t s = (uint64_t)k + 100;
	for (long i = 0; i < lt.rounds; i++) {
		long v = -1;
		gort_case cs = recv_case(lt.c[k], &v);
		if (gort_select_timeout(&cs, 1, (int64_t)(1 + lcg(&s) % 400) * 1000) < 0) {
			atomic_fetch_add(&lt.timeouts, 1);
			cr_assert_eq(v, -1);
			cr_assert(gort_chan_recv(lt.c[k], &v));
		}
		cr_assert_eq(v, i, "pair %ld: received %ld, expected %ld", k, v, i);
	}
	testwg_done(&lt.wg);
}

static int main_timeout_race(void *arg)
{
	lt.rounds = scaled(2000, 200);
	testwg_add(&lt.wg, 2 * LT_PAIRS);
	for (long k = 0; k < LT_PAIRS; k++) {
		lt.c[k] = mustmake(sizeof(long), 0);
		cr_assert_eq(gort_go(lt_sender, (void *)k), 0);
		cr_assert_eq(gort_go(lt_receiver, (void *)k), 0);
	}
	testwg_wait(&lt.wg);
	cr_assert_gt(atomic_load(&lt.timeouts), 0, "no select ever timed out");
	for (long k = 0; k < LT_PAIRS; k++)
		gort_chan_free(lt.c[k]);
	return 0;
}

Test(select, timeouts_racing_sends_lose_nothing, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_timeout_race, NULL);
}

/* ------------------------------------------------ Go's TestSelfSelect */

static struct {
	gort_chan *c;
	size_t cap;
	struct testwg wg;
} ss;

static void ss_worker(void *arg)
{
	int p = (int)(long)arg;
	for (int i = 0; i < 1000; i++) {
		int v = -1, out = p;
		gort_case cs[2];
		if (p == 0 || i % 2 == 0) {
			cs[0] = send_case(ss.c, &out);
			cs[1] = recv_case(ss.c, &v);
		} else {
			cs[0] = recv_case(ss.c, &v);
			cs[1] = send_case(ss.c, &out);
		}
		int k = gort_select(cs, 2, true);
		cr_assert(k == 0 || k == 1);
		if (cs[k].dir == GORT_RECV && ss.cap == 0)
			cr_assert_neq(v, p, "self receive");
	}
	testwg_done(&ss.wg);
}

static int main_self_select(void *arg)
{
	static const size_t caps[] = {0, 10};
	for (int k = 0; k < 2; k++) {
		ss.cap = caps[k];
		ss.c = mustmake(sizeof(int), ss.cap);
		testwg_add(&ss.wg, 2);
		for (long p = 0; p < 2; p++)
			cr_assert_eq(gort_go(ss_worker, (void *)p), 0);
		testwg_wait(&ss.wg);
		gort_chan_free(ss.c);
	}
	return 0;
}

Test(select, go_self_select, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_self_select, NULL);
}

/* ------------------------------------------------ Go's TestSelectStress */

/*
 * Four channels (two unbuffered, two buffered); per channel a sender and a
 * receiver of N values, plus one goroutine that sends N values on each in
 * one select and one that receives N from each in one select.  Nothing may
 * deadlock, and per channel the values received add up to those sent.
 */
static struct {
	gort_chan *c[4];
	long n;
	_Atomic long sent[4], received[4];
	struct testwg wg;
} st;

static void st_sender(void *arg)
{
	long k = (long)arg, sum = 0;
	for (long i = 1; i <= st.n; i++) {
		gort_chan_send(st.c[k], &i);
		sum += i;
	}
	atomic_fetch_add(&st.sent[k], sum);
	testwg_done(&st.wg);
}

static void st_receiver(void *arg)
{
	long k = (long)arg, sum = 0;
	for (long i = 0; i < st.n; i++) {
		long v;
		cr_assert(gort_chan_recv(st.c[k], &v));
		sum += v;
	}
	atomic_fetch_add(&st.received[k], sum);
	testwg_done(&st.wg);
}

static void st_select_sender(void *arg)
{
	static const int order[4] = {3, 2, 0, 1};
	long n[4] = {0}, sum[4] = {0}, vals[4];
	gort_chan *c1[4];
	memcpy(c1, st.c, sizeof c1);
	for (long i = 0; i < 4 * st.n; i++) {
		gort_case cs[4];
		for (int j = 0; j < 4; j++) {
			vals[order[j]] = 1000000 + n[order[j]];
			cs[j] = send_case(c1[order[j]], &vals[order[j]]);
		}
		int r = gort_select(cs, 4, true);
		cr_assert(r >= 0 && r < 4);
		int k = order[r];
		sum[k] += vals[k];
		if (++n[k] == st.n)
			c1[k] = NULL;
	}
	for (int k = 0; k < 4; k++)
		atomic_fetch_add(&st.sent[k], sum[k]);
	testwg_done(&st.wg);
}

static void st_select_receiver(void *arg)
{
	long n[4] = {0}, sum[4] = {0}, v;
	gort_chan *c1[4];
	memcpy(c1, st.c, sizeof c1);
	for (long i = 0; i < 4 * st.n; i++) {
		gort_case cs[4];
		for (int j = 0; j < 4; j++)
			cs[j] = recv_case(c1[j], &v);
		int k = gort_select(cs, 4, true);
		cr_assert(k >= 0 && k < 4);
		cr_assert(cs[k].ok);
		sum[k] += v;
		if (++n[k] == st.n)
			c1[k] = NULL;
	}
	for (int k = 0; k < 4; k++)
		atomic_fetch_add(&st.received[k], sum[k]);
	testwg_done(&st.wg);
}

static int main_select_stress(void *arg)
{
	st.n = scaled(20000, 2000);
	st.c[0] = mustmake(sizeof(long), 0);
	st.c[1] = mustmake(sizeof(long), 0);
	st.c[2] = mustmake(sizeof(long), 2);
	st.c[3] = mustmake(sizeof(long), 3);
	testwg_add(&st.wg, 10);
	for (long k = 0; k < 4; k++) {
		cr_assert_eq(gort_go(st_sender, (void *)k), 0);
		cr_assert_eq(gort_go(st_receiver, (void *)k), 0);
	}
	cr_assert_eq(gort_go(st_select_sender, NULL), 0);
	cr_assert_eq(gort_go(st_select_receiver, NULL), 0);
	testwg_wait(&st.wg);
	for (int k = 0; k < 4; k++) {
		cr_assert_eq(atomic_load(&st.sent[k]), atomic_load(&st.received[k]),
			     "channel %d: sent %ld, received %ld", k, atomic_load(&st.sent[k]),
			     atomic_load(&st.received[k]));
		cr_assert_eq(gort_chan_len(st.c[k]), 0);
		gort_chan_free(st.c[k]);
	}
	return 0;
}

Test(select, go_select_stress, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	run_main(main_select_stress, NULL);
}

Test(select, go_select_stress_two_procs_randomized, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_select_stress, NULL);
}

/* ------------------------------------------ Go's TestNonblockSelectRace(2) */

/*
 * From the moment the racer starts, c1 or c2 is always ready, so its
 * non-blocking select must take one of them: select acts on the state of
 * the channels at one moment, not over a smeared window.
 */
static struct {
	gort_chan *c1, *c2;
	_Atomic int ok;
	struct testwg wg;
} nsr;

static void nsr_racer(void *arg)
{
	int v;
	gort_case cs[2] = {recv_case(nsr.c1, &v), recv_case(nsr.c2, &v)};
	atomic_store(&nsr.ok, gort_select(cs, 2, false) >= 0);
	testwg_done(&nsr.wg);
}

static void nonblock_select_race(bool close_c2)
{
	long n = scaled(20000, 2000);
	for (long i = 0; i < n; i++) {
		nsr.c1 = mustmake(sizeof(int), 1);
		nsr.c2 = mustmake(sizeof(int), close_c2 ? 0 : 1);
		send_int(nsr.c1, 1);
		atomic_store(&nsr.ok, 0);
		testwg_add(&nsr.wg, 1);
		cr_assert_eq(gort_go(nsr_racer, NULL), 0);
		if (close_c2)
			gort_chan_close(nsr.c2);
		else
			send_int(nsr.c2, 1);
		gort_chan_tryrecv(nsr.c1, NULL);
		testwg_wait(&nsr.wg);
		cr_assert(atomic_load(&nsr.ok), "iteration %ld: no chan is ready", i);
		gort_chan_free(nsr.c1);
		gort_chan_free(nsr.c2);
	}
}

static int main_nonblock_select_race(void *arg)
{
	nonblock_select_race(false);
	return 0;
}

static int main_nonblock_select_race2(void *arg)
{
	nonblock_select_race(true);
	return 0;
}

Test(select, go_nonblock_select_race, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_nonblock_select_race, NULL);
}

Test(select, go_nonblock_select_race2, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_nonblock_select_race2, NULL);
}

/* ------------------------------------------------ many cases */

enum { MANY = 256 };

static struct {
	gort_chan *c[MANY];
	long rounds;
	struct testwg wg;
} many;

static void many_sender(void *arg)
{
	uint64_t s = 7;
	for (long i = 0; i < many.rounds; i++) {
		int k = (int)(lcg(&s) % MANY);
		send_int(many.c[k], k);
	}
	testwg_done(&many.wg);
}

static int main_many(void *arg)
{
	many.rounds = scaled(5000, 500);
	for (int k = 0; k < MANY; k++)
		many.c[k] = mustmake(sizeof(int), (size_t)(k % 2));
	testwg_add(&many.wg, 1);
	cr_assert_eq(gort_go(many_sender, NULL), 0);
	static gort_case cs[MANY];
	int v;
	for (long i = 0; i < many.rounds; i++) {
		for (int k = 0; k < MANY; k++)
			cs[k] = recv_case(many.c[k], &v);
		int r = gort_select(cs, MANY, true);
		cr_assert(r >= 0 && r < MANY);
		cr_assert_eq(v, r, "case %d received %d", r, v);
	}
	testwg_wait(&many.wg);
	for (int k = 0; k < MANY; k++)
		cs[k] = recv_case(many.c[k], &v);
	cr_assert_eq(gort_select(cs, MANY, false), -1, "a value more than was sent");
	for (int k = 0; k < MANY; k++)
		gort_chan_free(many.c[k]);
	return 0;
}

Test(select, many_cases, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_many, NULL);
}

/* ------------------------------------------------ opposite orders */

/*
 * Two goroutines select {a <- x, y = <-b}, in opposite case orders, while
 * a third selects {b <- y, x = <-a} twice as often: every select pairs with
 * one of the other side, so all finish, and what each channel carried adds
 * up on both sides.  A select that locks channels in case order deadlocks
 * here.
 */
static struct {
	gort_chan *a, *b;
	long n;
	_Atomic long sent_a, recv_a, sent_b, recv_b;
	struct testwg wg;
} cx;

static void cx_side(void *arg)
{
	long id = (long)arg, sa = 0, rb = 0;
	for (long i = 0; i < cx.n; i++) {
		long out = id * 10000000 + i + 1, in = 0;
		gort_case cs[2] = {send_case(cx.a, &out), recv_case(cx.b, &in)};
		if (id == 1) {
			gort_case t = cs[0];
			cs[0] = cs[1];
			cs[1] = t;
		}
		int r = gort_select(cs, 2, true);
		if (cs[r].dir == GORT_SEND) {
			sa += out;
		} else {
			cr_assert_gt(in, 0);
			rb += in;
		}
	}
	atomic_fetch_add(&cx.sent_a, sa);
	atomic_fetch_add(&cx.recv_b, rb);
	testwg_done(&cx.wg);
}

static void cx_middle(void *arg)
{
	long ra = 0, sb = 0;
	for (long i = 0; i < 2 * cx.n; i++) {
		long out = 50000000 + i + 1, in = 0;
		gort_case cs[2] = {send_case(cx.b, &out), recv_case(cx.a, &in)};
		int r = gort_select(cs, 2, true);
		if (r == 0) {
			sb += out;
		} else {
			cr_assert_gt(in, 0);
			ra += in;
		}
	}
	atomic_fetch_add(&cx.recv_a, ra);
	atomic_fetch_add(&cx.sent_b, sb);
	testwg_done(&cx.wg);
}

static int main_cross(void *arg)
{
	cx.n = scaled(50000, 5000);
	cx.a = mustmake(sizeof(long), 0);
	cx.b = mustmake(sizeof(long), 0);
	testwg_add(&cx.wg, 3);
	cr_assert_eq(gort_go(cx_side, (void *)0), 0);
	cr_assert_eq(gort_go(cx_side, (void *)1), 0);
	cr_assert_eq(gort_go(cx_middle, NULL), 0);
	testwg_wait(&cx.wg);
	cr_assert_eq(atomic_load(&cx.sent_a), atomic_load(&cx.recv_a));
	cr_assert_eq(atomic_load(&cx.sent_b), atomic_load(&cx.recv_b));
	cr_assert_gt(atomic_load(&cx.sent_a), 0);
	cr_assert_gt(atomic_load(&cx.sent_b), 0);
	gort_chan_free(cx.a);
	gort_chan_free(cx.b);
	return 0;
}

Test(select, opposite_case_orders, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_cross, NULL);
}

Test(select, opposite_case_orders_four_procs_randomized, .timeout = 120)
{
	setenv("GORT_MAXPROCS", "4", 1);
	setenv("GORT_DEBUG", "sched_random=1", 1);
	run_main(main_cross, NULL);
}
