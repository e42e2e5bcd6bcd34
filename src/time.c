/*
 * Timers, sleep and the time API (Go's time.go and sleep.go).
 *
 * Every P has a min-heap of timers, under its timerslock, and publishes
 * the earliest deadline in timer0when so that the scheduler can see
 * without the lock whether anything is due.  A timer goes into the heap of
 * the P that sets it and stays there until it fires or is stopped; a P
 * that is destroyed hands its timers to P 0 (movetimers, world stopped).
 * Timers run on an M that holds a P, on g0: their functions are short and
 * never block (ready a goroutine, a non-blocking send, start a goroutine).
 *
 * Who runs them: a P's own M at every schedule (a load of timer0when when
 * none is due), any M looking for work (findrunnable runs every P's due
 * timers before it gives up), and, when every M would go idle, the M that
 * sleeps until the next deadline (proc.c: stopm's timed sleep).  Adding a
 * timer earlier than that deadline wakes a P to take it into account.
 *
 * A timer's memory may be the waiter's stack (gort_sleep, select's
 * timeout): once its function has run, checktimers does not touch it
 * again; a timer stopped while its function may be running elsewhere is
 * waited for (timerwait) before its memory goes.
 */
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* ------------------------------------------------------------ heaps */

static void siftup(struct p *pp, int32_t i)
{
	struct timer **h = pp->timers;
	struct timer *t = h[i];
	while (i > 0) {
		int32_t parent = (i - 1) / 2;
		if (h[parent]->when <= t->when)
			break;
		h[i] = h[parent];
		h[i]->idx = i;
		i = parent;
	}
	h[i] = t;
	t->idx = i;
}

static void siftdown(struct p *pp, int32_t i)
{
	struct timer **h = pp->timers;
	int32_t n = pp->ntimers;
	struct timer *t = h[i];
	for (;;) {
		int32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1]->when < h[c]->when)
			c++;
		if (t->when <= h[c]->when)
			break;
		h[i] = h[c];
		h[i]->idx = i;
		i = c;
	}
	h[i] = t;
	t->idx = i;
}

static void updatetimer0(struct p *pp)
{
	store_relaxed(&pp->timer0when, pp->ntimers > 0 ? pp->timers[0]->when : 0);
}

/* Puts t in pp's heap.  pp->timerslock held. */
static void heappush(struct p *pp, struct timer *t)
{
	if (pp->ntimers == pp->timerscap) {
		int32_t cap = pp->timerscap ? 2 * pp->timerscap : 64;
		struct timer **h = realloc(pp->timers, (size_t)cap * sizeof *h);
		if (h == NULL)
			throw("out of memory adding a timer");
		pp->timers = h;
		pp->timerscap = cap;
	}
	pp->timers[pp->ntimers++] = t;
	siftup(pp, pp->ntimers - 1);
	atomic_store(&t->pp, pp);
	updatetimer0(pp);
}

/* Takes t out of pp's heap.  pp->timerslock held. */
static void heapremove(struct p *pp, struct timer *t)
{
	int32_t i = t->idx;
	struct timer *last = pp->timers[--pp->ntimers];
	if (i < pp->ntimers) {
		pp->timers[i] = last;
		last->idx = i;
		siftup(pp, i);
		siftdown(pp, last->idx);
	}
	atomic_store(&t->pp, NULL);
	updatetimer0(pp);
}

/* ------------------------------------------------------------ timers */

/* The P whose heap a new timer joins: the caller's, or P 0 from a thread outside. */
static struct p *timerp(void)
{
	struct g *gp = getg();
	struct p *pp = gp != NULL ? gp->m->p : NULL;
	return pp != NULL ? pp : allp[0];
}

/*
 * Arms t, which is in no heap, to fire at when.  t must not be touched
 * after the lock is released: it may fire, and its owner free it, at once.
 */
void addtimer(struct timer *t, int64_t when)
{
	struct p *pp = timerp();
	t->when = when;
	lock(&pp->timerslock);
	heappush(pp, t);
	unlock(&pp->timerslock);
	timerwake(when);
}

/* Disarms t; true if it was armed (it has not fired and will not). */
bool deltimer(struct timer *t)
{
	for (;;) {
		struct p *pp = atomic_load(&t->pp);
		if (pp == NULL)
			return false;
		lock(&pp->timerslock);
		if (atomic_load(&t->pp) == pp) {
			heapremove(pp, t);
			unlock(&pp->timerslock);
			return true;
		}
		unlock(&pp->timerslock); /* moved meanwhile: follow it */
	}
}

/* Waits until t's function is not running on any M (t is disarmed already). */
void timerwait(struct timer *t)
{
	for (;;) {
		bool running = false;
		int32_t n = load_acquire(&allplen);
		for (int32_t i = 0; i < n; i++)
			running |= atomic_load(&allp[i]->runningtimer) == t;
		if (!running)
			return;
		osyield();
	}
}

/*
 * Runs pp's due timers (now 0: read the clock if anything may be due).
 * Returns pp's next deadline, 0 for none.  Called on g0 with a P held.
 */
int64_t checktimers(struct p *pp, int64_t now)
{
	int64_t next = load_relaxed(&pp->timer0when);
	if (next == 0)
		return 0;
	if (now == 0)
		now = nanotime();
	if (now < next)
		return next;
	/* one M at a time runs a P's timers, so runningtimer names the one running */
	uint32_t idle = 0;
	if (!atomic_compare_exchange_strong(&pp->timersrunning, &idle, 1))
		return next;
	lock(&pp->timerslock);
	while (pp->ntimers > 0 && pp->timers[0]->when <= now) {
		struct timer *t = pp->timers[0];
		/* before t leaves the heap: whoever sees it gone must see it running */
		atomic_store(&pp->runningtimer, t);
		if (t->period > 0) {
			/* a ticker: next tick in the future, missed ones dropped */
			int64_t step, w;
			if (__builtin_mul_overflow((now - t->when) / t->period + 1, t->period, &step) ||
			    __builtin_add_overflow(t->when, step, &w))
				w = INT64_MAX;
			t->when = w;
			siftdown(pp, 0);
			updatetimer0(pp);
		} else {
			heapremove(pp, t);
		}
		void (*f)(void *) = t->f;
		void *arg = t->arg;
		unlock(&pp->timerslock);
		f(arg); /* t may be gone from here on */
		atomic_store(&pp->runningtimer, NULL);
		lock(&pp->timerslock);
	}
	unlock(&pp->timerslock);
	atomic_store(&pp->timersrunning, 0);
	return load_relaxed(&pp->timer0when);
}

/* The earliest deadline over all Ps, 0 for none. */
int64_t nexttimer(void)
{
	int64_t next = 0;
	int32_t n = load_acquire(&allplen);
	for (int32_t i = 0; i < n; i++) {
		int64_t w = load_relaxed(&allp[i]->timer0when);
		if (w != 0 && (next == 0 || w < next))
			next = w;
	}
	return next;
}

/* Moves from's timers into to's heap; the world is stopped. */
void movetimers(struct p *to, struct p *from)
{
	lock(&to->timerslock);
	lock(&from->timerslock);
	while (from->ntimers > 0) {
		struct timer *t = from->timers[from->ntimers - 1];
		heapremove(from, t);
		heappush(to, t);
	}
	free(from->timers);
	from->timers = NULL;
	from->timerscap = 0;
	unlock(&from->timerslock);
	unlock(&to->timerslock);
}

/* The time ns from now, saturating: the longest durations never wrap into the past (Go's when). */
static int64_t whenafter(int64_t ns)
{
	int64_t now = nanotime(), when;
	if (ns <= 0)
		return now;
	return __builtin_add_overflow(now, ns, &when) ? INT64_MAX : when;
}

/* ------------------------------------------------------------ sleep */

static void sleepready(void *arg)
{
	goready(arg);
}

/* gort_sleep's unlock callback: the goroutine is parked, now its timer may fire. */
static bool sleepcommit(struct g *gp, void *arg)
{
	struct timer *t = arg;
	addtimer(t, t->when);
	return true;
}

int64_t gort_now(void)
{
	return nanotime();
}

void gort_sleep(int64_t ns)
{
	if (ns <= 0)
		return;
	struct g *gp = getg();
	if (gp == NULL) {
		struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return;
	}
	if (gp == gp->m->g0)
		throw("gort_sleep on system stack");
	struct timer t = {.when = whenafter(ns), .f = sleepready, .arg = gp};
	gopark(sleepcommit, &t, waitReasonSleep);
}

/* ------------------------------------------------------------ the API */

/*
 * A timer of the API.  mu serializes what its users do to it (stop, reset,
 * free may race each other, as Go allows): each is a deltimer and maybe an
 * addtimer, which must not interleave with another's.
 */
struct gort_timer {
	struct timer t;
	mutex mu;
	gort_chan *c;
	void (*fn)(void *);
	void *fnarg;
};

/* A timer's function: send the time, unless the last one is still unread (Go's sendTime). */
static void sendtime(void *arg)
{
	gort_timer *gt = arg;
	int64_t now = nanotime();
	gort_chan_trysend(gt->c, &now);
}

static void gofunc(void *arg)
{
	gort_timer *gt = arg;
	if (gort_go(gt->fn, gt->fnarg) != 0)
		throw("gort_after_func: cannot start the goroutine");
}

static gort_timer *newtimer(int64_t ns, int64_t period, void (*fn)(void *), void *fnarg)
{
	gort_timer *gt = calloc(1, sizeof *gt);
	if (gt == NULL)
		return NULL;
	if (fn == NULL && (gt->c = gort_chan_make(sizeof(int64_t), 1)) == NULL) {
		free(gt);
		errno = ENOMEM;
		return NULL;
	}
	gt->fn = fn;
	gt->fnarg = fnarg;
	gt->t.f = fn ? gofunc : sendtime;
	gt->t.arg = gt;
	gt->t.period = period;
	addtimer(&gt->t, whenafter(ns));
	return gt;
}

gort_timer *gort_timer_make(int64_t ns)
{
	return newtimer(ns, 0, NULL, NULL);
}

gort_timer *gort_ticker_make(int64_t period_ns)
{
	if (period_ns <= 0)
		gort_panic("non-positive interval for gort_ticker_make");
	return newtimer(period_ns, period_ns, NULL, NULL);
}

gort_timer *gort_after_func(int64_t ns, void (*fn)(void *arg), void *arg)
{
	if (fn == NULL)
		throw("gort_after_func of nil func value");
	return newtimer(ns, 0, fn, arg);
}

gort_chan *gort_timer_chan(gort_timer *t)
{
	return t->c;
}

bool gort_timer_stop(gort_timer *t)
{
	lock(&t->mu);
	bool active = deltimer(&t->t);
	unlock(&t->mu);
	return active;
}

bool gort_timer_reset(gort_timer *t, int64_t ns)
{
	if (t->t.period > 0 && ns <= 0)
		gort_panic("non-positive interval for gort_timer_reset of a ticker");
	lock(&t->mu);
	bool active = deltimer(&t->t);
	if (t->t.period > 0)
		t->t.period = ns;
	addtimer(&t->t, whenafter(ns));
	unlock(&t->mu);
	return active;
}

void gort_timer_free(gort_timer *t)
{
	if (t == NULL)
		return;
	lock(&t->mu);
	deltimer(&t->t);
	unlock(&t->mu);
	timerwait(&t->t);
	gort_chan_free(t->c);
	free(t);
}

/*
 * A blocking select with one more case: a timer's channel.  The timer and
 * its channel live on this stack; the timer is disarmed, and waited for if
 * it is firing, before they go.
 */
int gort_select_timeout(gort_case *cases, int ncases, int64_t timeout_ns)
{
	if (ncases < 0 || (ncases > 0 && cases == NULL))
		throw("gort_select: bad case list");
	_Alignas(16) unsigned char chanmem[sizeof(struct gort_chan) + sizeof(int64_t)] = {0};
	struct gort_timer gt = {.c = (struct gort_chan *)chanmem};
	gt.c->elemsize = sizeof(int64_t);
	gt.c->dataqsiz = 1;
	gt.t.f = sendtime;
	gt.t.arg = &gt;
	int64_t fired;
	gort_case all[ncases + 1];
	for (int i = 0; i < ncases; i++)
		all[i] = cases[i];
	all[ncases] = (gort_case){.chan = gt.c, .dir = GORT_RECV, .elem = &fired};
	addtimer(&gt.t, whenafter(timeout_ns));
	int taken = gort_select(all, ncases + 1, true);
	deltimer(&gt.t);
	timerwait(&gt.t);
	if (taken == ncases)
		return -1;
	cases[taken].ok = all[taken].ok;
	return taken;
}
