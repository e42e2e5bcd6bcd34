/*
 * The scheduler (Go's proc.go): goroutines (G) run on OS threads (M) that
 * hold a processor (P).  There are GORT_MAXPROCS Ps; an M must hold one to
 * run goroutines, so at most that many run in parallel.
 *
 * Run queues.  Each P has a 256-slot ring that only its owner fills and
 * that thieves may empty from the other end, plus runnext: the G that the
 * running one just readied, which runs next so that a pair of goroutines
 * talking to each other stay on one P and share its cache.  Beyond the
 * rings there is one global queue under sched.lock, checked every 61st
 * schedule so that nothing queued there starves.  An M that finds its P's
 * queue empty looks at the global queue and then steals half of a random
 * other P's ring.
 *
 * Spinning and wakeups (Go's "worker thread parking/unparking", DESIGN.md
 * invariant 3).  An M looking for work without finding any is spinning.
 * Whoever makes a G runnable calls wakep, which wakes an idle M only if
 * there is an idle P and no M is spinning already: the spinner will find
 * the work.  Two transitions could race and leave a G runnable next to an
 * idle P forever; each side fences before it looks at the other:
 *
 *	submitting work:	1. put the G on a run queue
 *				2. StoreLoad fence (see wakep)
 *				3. read nmspinning and npidle (wakep)
 *	spinning -> idle:	1. put the P on the idle list
 *				2. decrement nmspinning (a locked RMW: a fence)
 *				3. look at every P's run queue again
 *				4. found something: take an idle P, spin again
 *
 * A spinning M that finds work stops spinning and calls wakep itself, since
 * it may have been the last spinner (resetspinning).
 *
 * Parking (gopark/goready).  A goroutine parks by mcall'ing park_m, which
 * marks it waiting and only then runs the caller's unlock function on g0:
 * whoever wants to wake it takes the same lock, so it always finds a
 * goroutine that is parked for good, never one halfway there.  Exactly the
 * party that won the wakeup makes it runnable (casgstatus catches a second
 * waker).  Everything the g0 side needs travels in g or m fields, read
 * before the goroutine is published (seed 000).
 *
 * Goroutines wired to a thread (gort_lock_os_thread) run only on their M,
 * which runs nothing else: when the wired G blocks, its M hands its P to
 * another M and sleeps; whoever dequeues the wired G hands the P back.
 *
 * Stopping the world (gort_maxprocs).  The stopper sets sched.gcwaiting;
 * every M gives up its P at its next schedule, and the stopper waits for
 * the last one.  gort has no asynchronous preemption, so a goroutine that
 * never reaches a scheduling point delays this, as in Go before 1.14.
 *
 * Lifetime.  gort_main runs on a thread the runtime does not own: it starts
 * goroutine 1 on the global queue, starts an M for it and sleeps until
 * goroutine 1 returns; then it freezes the scheduler (no M picks another G)
 * and returns on the thread that called it, with that thread's own errno
 * and thread-locals intact.
 */
#include "runtime.h"
#include "san.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(offsetof(struct g, sched.sp) == G_SCHED_SP, "G_SCHED_SP");
_Static_assert(offsetof(struct g, m) == G_M, "G_M");
_Static_assert(offsetof(struct g, _defer) == G_DEFER, "G_DEFER");
_Static_assert(offsetof(struct m, g0) == M_G0, "M_G0");

__thread struct g *g_tls __attribute__((tls_model("initial-exec")));
/* &g_tls->_defer for a user G, NULL on g0 and foreign threads (amd64.S, gort.h) */
GORT_EXPORT __thread void *gort_deferchain_ __attribute__((tls_model("initial-exec")));

struct schedt sched;
struct p **allp;
_Atomic int32_t allplen;   /* P structs allocated, gomaxprocs or more */
_Atomic int32_t gomaxprocs;
_Atomic int32_t runtime_state;

enum {
	GOID_BATCH = 16,
	GFREE_PREFETCH = 4,     /* how far ahead gfget fetches the Gs it will hand out */
	MAX_MCOUNT = 10000,
	STEAL_TRIES = 4,
	FORCE_PREEMPT_NS = 10 * 1000 * 1000, /* a time slice, as Go's */
	FREEZE_STOPWAIT = 0x7fffffff,
	TIMER_RETRY_NS = 1000000,  /* an overdue timer with every P held: look again after this */
};

static void wakep(void);
static _Noreturn void schedule(struct m *mp);
/* How execute writes the new goroutine's GoStart, if a trace is being written. */
enum gostart {
	GOSTART_FRESH,    /* at the time now */
	GOSTART_SWITCHED, /* at the time of the P's previous event, later than what readied what it starts (traceGoStart) */
	GOSTART_UNTRACED, /* not at all: no trace can have started (goscheduntraced_m) */
};

static _Noreturn void execute(struct m *mp, struct g *gp, bool inherittime, enum gostart gostart);
static void dropg(struct m *mp);
static void startm(struct p *pp, bool spinning);
static void stopm(struct m *mp, int64_t until);
static void tickcoarse(void);
static void handoffp(struct p *pp);
static struct p *procresize(int32_t nprocs);

/* --------------------------------------------------------------- random */

/* xorshift64*, per M: no shared state on the scheduler's hot paths. */
/* A thread the runtime does not own draws from its own generator. */
static __thread uint64_t threadrand;

uint32_t cheaprand(void)
{
	struct g *gp = getg();
	uint64_t *state = gp != NULL ? &gp->m->fastrand : &threadrand;
	uint64_t x = *state;
	if (unlikely(x == 0))
		x = (uint64_t)nanotime() ^ (uintptr_t)state ^ 0x9E3779B97F4A7C15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

uint32_t cheaprandn(uint32_t n)
{
	return (uint32_t)(((uint64_t)cheaprand() * n) >> 32);
}

/* ----------------------------------------------------------- G status */

static _Noreturn void badstatus(const char *what, struct g *gp, uint32_t old, uint32_t new_)
{
	printlock();
	printstr("runtime: ");
	printstr(what);
	printstr(": goroutine ");
	printint(gp->goid);
	printstr(" status ");
	printint(load_relaxed(&gp->atomicstatus));
	printstr(", want ");
	printint(old);
	printstr(" -> ");
	printint(new_);
	printstr("\n");
	printunlock();
	throw("bad g status");
}

/*
 * A transition made by the G's owner, who alone may change its status now:
 * a plain store, checked in debug builds.
 */
static inline void setgstatus(struct g *gp, uint32_t old, uint32_t new_)
{
#ifdef GORT_DEBUG_BUILD
	if (load_relaxed(&gp->atomicstatus) != old)
		badstatus("setgstatus", gp, old, new_);
#else
	(void)old;
#endif
	store_release(&gp->atomicstatus, new_);
}

/*
 * A wakeup.  Whoever gets here has won it already, under the lock of what
 * the G waited on or by a CAS of its own (a netpoll slot, a select's
 * selectdone), so a checked store does: a second waker finds the G
 * runnable and throws.  Debug builds CAS, which also catches two wakers at
 * the same instant; a round trip on an unbuffered channel, two wakeups,
 * took a tenth longer with the locked instruction.
 */
static inline void casgstatus(struct g *gp, uint32_t old, uint32_t new_)
{
#ifdef GORT_DEBUG_BUILD
	uint32_t cur = old;
	if (unlikely(!cas_acq_rel(&gp->atomicstatus, &cur, new_)))
		badstatus("casgstatus", gp, old, new_);
#else
	if (unlikely(load_relaxed(&gp->atomicstatus) != old))
		badstatus("casgstatus", gp, old, new_);
	store_release(&gp->atomicstatus, new_);
#endif
}

/* ------------------------------------------------------- context switch */

#ifdef GORT_SAN_FIBERS
/*
 * With sanitizers, mcall goes through this trampoline, so that the first
 * thing on g0 is telling ASan the switch has finished.  The target travels
 * in an M field like everything else mcall passes.
 */
static void mcall_san(struct g *gp)
{
	struct m *mp = getg()->m;
	void (*fn)(struct g *) = mp->mcallfn;
	mp->mcallfn = NULL;
	san_arrived(mp->g0->asan_fake_stack);
	fn(gp);
}
#endif

static void goexit0(struct g *gp);

void mcall(void (*fn)(struct g *))
{
	struct g *gp = getg();
	gort_assert(gp != gp->m->g0);
	/* A soft stack (stack.c) has no guard page: catch an overflow here. */
	uintptr_t sp = getsp();
	if (unlikely(sp < gp->stack.lo))
		stackoverflow(gp, sp, NULL);
#ifdef GORT_SAN_FIBERS
	gp->m->mcallfn = fn;
	san_switch(gp, gp->m->g0, fn == goexit0);
	mcall_asm(mcall_san);
	san_arrived(gp->asan_fake_stack);
#else
	mcall_asm(fn);
#endif
}

void systemstack(void (*fn)(void *), void *arg)
{
	systemstack_asm(fn, arg);
}

/* --------------------------------------------------------- run queues */

/*
 * The global run queue, under sched.lock.  runqsize is atomic only so
 * that schedulers may glance at it without the lock.
 */
static void globrunqputbatch(struct g *head, struct g *tail, int32_t n)
{
	tail->schedlink = NULL;
	if (sched.runq.tail)
		sched.runq.tail->schedlink = head;
	else
		sched.runq.head = head;
	sched.runq.tail = tail;
	store_relaxed(&sched.runqsize, load_relaxed(&sched.runqsize) + n);
}

static void globrunqput(struct g *gp)
{
	globrunqputbatch(gp, gp, 1);
}

/* Puts gp at the head of the global queue (its P is going away). */
static void globrunqputhead(struct g *gp)
{
	gp->schedlink = sched.runq.head;
	sched.runq.head = gp;
	if (sched.runq.tail == NULL)
		sched.runq.tail = gp;
	store_relaxed(&sched.runqsize, load_relaxed(&sched.runqsize) + 1);
}

static struct g *globrunqpop(void)
{
	struct g *gp = sched.runq.head;
	if (gp) {
		sched.runq.head = gp->schedlink;
		if (sched.runq.head == NULL)
			sched.runq.tail = NULL;
		else
			__builtin_prefetch(sched.runq.head); /* a list walk: fetch ahead */
	}
	return gp;
}

/*
 * How many Gs pp takes from the global queue of size Gs: a fair share, at
 * most max (0: no limit) and at most what its ring has room for, plus
 * extra taken to run at once.  sched.lock held.
 */
static int32_t globrunqshare(struct p *pp, int32_t size, int32_t max, int32_t extra)
{
	int32_t n = size / load_relaxed(&gomaxprocs) + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	if (n > RUNQ_SIZE / 2)
		n = RUNQ_SIZE / 2;
	/* never more than the ring holds: runqput must not spill (we hold the lock) */
	int32_t room = RUNQ_SIZE - (int32_t)runqlen(pp) + extra;
	return n > room ? room : n;
}

/*
 * Takes a batch from the global queue: one G to run and up to max-1 more
 * for pp's ring (max 0: a fair share).  Called with sched.lock held.
 */
static struct g *globrunqget(struct p *pp, int32_t max)
{
	int32_t size = load_relaxed(&sched.runqsize);
	if (size == 0)
		return NULL;
	int32_t n = globrunqshare(pp, size, max, 1);
	store_relaxed(&sched.runqsize, size - n);
	struct g *gp = globrunqpop();
	while (--n > 0)
		runqput(pp, globrunqpop(), false);
	return gp;
}

/*
 * Moves half of pp's full ring, plus gp, to the global queue.  False if a
 * thief emptied some of the ring meanwhile (then there is room again).
 */
static bool runqputslow(struct p *pp, struct g *gp, uint32_t h, uint32_t t)
{
	struct g *batch[RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2;
	gort_assert(n == RUNQ_SIZE / 2);
	for (uint32_t i = 0; i < n; i++)
		batch[i] = load_relaxed(&pp->runq[(h + i) % RUNQ_SIZE]);
	if (!atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
						     memory_order_relaxed))
		return false;
	batch[n] = gp;
	if (debug.sched_random)
		for (uint32_t i = 1; i <= n; i++) {
			uint32_t j = cheaprandn(i + 1);
			struct g *tmp = batch[i];
			batch[i] = batch[j];
			batch[j] = tmp;
		}
	for (uint32_t i = 0; i < n; i++)
		batch[i]->schedlink = batch[i + 1];
	lock(&sched.lock);
	globrunqputbatch(batch[0], batch[n], (int32_t)n + 1);
	unlock(&sched.lock);
	return true;
}

/* Slow part of runqput: the ring was full. */
static __attribute__((noinline)) void runqputfull(struct p *pp, struct g *gp)
{
	for (;;) {
		uint32_t h = load_acquire(&pp->runqhead);
		uint32_t t = load_relaxed(&pp->runqtail);
		if (t - h < RUNQ_SIZE) {
			store_relaxed(&pp->runq[t % RUNQ_SIZE], gp);
			store_release(&pp->runqtail, t + 1);
			return;
		}
		if (runqputslow(pp, gp, h, t))
			return;
	}
}

/*
 * Puts gp on pp's local queue: into runnext when next is set (kicking the
 * old runnext to the tail), else at the tail; a full ring spills half to
 * the global queue.  Only pp's owner may call it.  With next set, the G is
 * published by a locked RMW, a full barrier: wakep relies on it.
 */
inline __attribute__((always_inline)) void runqput(struct p *pp, struct g *gp, bool next)
{
	if (next) {
		struct g *old = load_relaxed(&pp->runnext);
		if (unlikely(debug.sched_random) && cheaprandn(2) == 0) {
			old = gp; /* skip runnext, but keep its full barrier (wakep) */
			atomic_thread_fence(memory_order_seq_cst);
		} else {
			while (!atomic_compare_exchange_weak(&pp->runnext, &old, gp))
				;
			if (old == NULL)
				return;
		}
		gp = old;
	}
	uint32_t h = load_acquire(&pp->runqhead);
	uint32_t t = load_relaxed(&pp->runqtail);
	if (unlikely(t - h >= RUNQ_SIZE)) {
		runqputfull(pp, gp);
		return;
	}
	store_relaxed(&pp->runq[t % RUNQ_SIZE], gp);
	store_release(&pp->runqtail, t + 1);
}

/*
 * Takes a G from pp's local queue; *inherittime is set when it came from
 * runnext, which runs in the current time slice.  Only the owner calls it.
 *
 * The only P has no thieves (everyone else looks at its queue with the
 * world stopped), so it moves the ring's head with a plain store.  A
 * locked instruction waits for every store before it to drain, and a
 * switch has just made a dozen: the CAS was a fifth of a yield on one P.
 * runnext keeps its CAS there too: without it, a ping-pong through
 * runnext ran slower, not faster.
 */
inline __attribute__((always_inline)) struct g *runqget(struct p *pp, bool *inherittime)
{
	struct g *next = load_relaxed(&pp->runnext);
	/* Only the owner makes runnext non-nil, so a failed CAS means a thief took it. */
	if (next != NULL && atomic_compare_exchange_strong(&pp->runnext, &next, NULL)) {
		*inherittime = true;
		return next;
	}
	for (;;) {
		uint32_t h = load_acquire(&pp->runqhead);
		uint32_t t = load_relaxed(&pp->runqtail);
		if (t == h)
			return NULL;
		struct g *gp = load_relaxed(&pp->runq[h % RUNQ_SIZE]);
		if (pp->alone ? (store_release(&pp->runqhead, h + 1), true)
			      : atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + 1, memory_order_release,
									 memory_order_relaxed)) {
			/*
			 * The next G was likely made or last run on another
			 * P: fetch what execute and goentry read of it now.
			 */
			if (t - h > 1) {
				struct g *after = load_relaxed(&pp->runq[(h + 1) % RUNQ_SIZE]);
				__builtin_prefetch(after);
				__builtin_prefetch((char *)after + CACHELINE);
			}
			*inherittime = false;
			return gp;
		}
	}
}

/*
 * Grabs half of pp's ring into batch[batchhead...] (a ring of the same
 * size), or pp's runnext when the ring is empty and stealrunnext is set.
 * Returns the number taken.  Any M may call it.
 */
static uint32_t runqgrab(struct p *pp, _Atomic(struct g *) *batch, uint32_t batchhead, bool stealrunnext)
{
	for (;;) {
		uint32_t h = load_acquire(&pp->runqhead);
		uint32_t t = load_acquire(&pp->runqtail);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			struct g *next;
			if (!stealrunnext || (next = load_relaxed(&pp->runnext)) == NULL)
				return 0;
			/*
			 * pp may be about to run the G it just readied: give it
			 * a moment, or the G bounces between Ps for nothing.
			 */
			if (load_relaxed(&pp->status) == Prunning)
				usleep_ns(3000);
			if (!atomic_compare_exchange_strong(&pp->runnext, &next, NULL))
				continue;
			store_relaxed(&batch[batchhead % RUNQ_SIZE], next);
			return 1;
		}
		if (n > RUNQ_SIZE / 2)
			continue; /* h and t read at different moments */
		for (uint32_t i = 0; i < n; i++)
			store_relaxed(&batch[(batchhead + i) % RUNQ_SIZE],
				      load_relaxed(&pp->runq[(h + i) % RUNQ_SIZE]));
		if (atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
							     memory_order_relaxed))
			return n;
	}
}

/*
 * Steals half of victim's queue into pp's ring and returns one of the Gs,
 * or NULL.  pp's owner calls it.
 */
struct g *runqsteal(struct p *pp, struct p *victim, bool stealrunnext)
{
	uint32_t t = load_relaxed(&pp->runqtail);
	uint32_t n = runqgrab(victim, pp->runq, t, stealrunnext);
	if (n == 0)
		return NULL;
	pcountadd(&pp->nsteals, n);
	n--;
	struct g *gp = load_relaxed(&pp->runq[(t + n) % RUNQ_SIZE]);
	if (n == 0)
		return gp;
	uint32_t h = load_acquire(&pp->runqhead);
	if (t - h + n >= RUNQ_SIZE)
		throw("runqsteal: runq overflow");
	store_release(&pp->runqtail, t + n);
	return gp;
}

/*
 * Whether pp's queue is empty.  runnext moving to the ring must not make
 * it look empty for an instant: read tail again until it is stable.
 */
bool runqempty(struct p *pp)
{
	for (;;) {
		uint32_t head = atomic_load(&pp->runqhead);
		uint32_t tail = atomic_load(&pp->runqtail);
		struct g *next = atomic_load(&pp->runnext);
		if (tail == atomic_load(&pp->runqtail))
			return head == tail && next == NULL;
	}
}

/* Whether pp holds no runnable G at all, its preempted one included. */
static bool pidleable(struct p *pp)
{
	return runqempty(pp) && pp->preempted == NULL;
}

/* The number of Gs in pp's ring (runnext not counted), as of some moment. */
uint32_t runqlen(struct p *pp)
{
	return atomic_load(&pp->runqtail) - atomic_load(&pp->runqhead);
}

/* ------------------------------------------------------- Gs and free Gs */

_Atomic(struct g *) allgs;
static _Atomic(struct g *) *allgtail = &allgs;
static mutex allglock;

/*
 * A new G, dead until used, appended to allgs for good: tracebacks walk it
 * without a lock, in creation order as Go's do.
 */
struct g *malg(void)
{
	struct g *gp = calloc(1, sizeof *gp);
	if (gp == NULL)
		return NULL;
	store_relaxed(&gp->atomicstatus, Gdead);
	lock(&allglock);
	store_release(allgtail, gp);
	allgtail = &gp->alllink;
	unlock(&allglock);
	return gp;
}

/*
 * Dead Gs are kept in stacks of pointers, a P's own and a global one, so
 * that taking one reads nothing of it: a G freed on another P has its lines
 * in that P's cache, and a list linked through the Gs would make every take
 * wait for one.  gfget instead fetches the lines newproc1 writes a few Gs
 * ahead, all at once.
 */
static void gfprefetch(struct g *gp)
{
	__builtin_prefetch(gp, 1);
	__builtin_prefetch((char *)gp + CACHELINE, 1);
	__builtin_prefetch((char *)gp + 2 * CACHELINE, 1);
}

/* Moves the n Gs at v onto the global stack.  gflock held. */
static void gfpushn(struct g *const *v, int32_t n)
{
	if (sched.gfree.n + n > sched.gfree.cap) {
		int32_t cap = sched.gfree.cap ? sched.gfree.cap * 2 : 4 * PGFREE_SIZE;
		struct g **nv = realloc(sched.gfree.v, (size_t)cap * sizeof *nv);
		if (nv == NULL)
			throw("out of memory in the free goroutine list");
		sched.gfree.v = nv;
		sched.gfree.cap = cap;
	}
	memcpy(sched.gfree.v + sched.gfree.n, v, (size_t)n * sizeof *v);
	sched.gfree.n += n;
	store_relaxed(&sched.ngfree, sched.gfree.n);
}

/* Moves up to n Gs from the global stack to v; how many.  gflock held. */
static int32_t gfpopn(struct g **v, int32_t n)
{
	if (n > sched.gfree.n)
		n = sched.gfree.n;
	sched.gfree.n -= n;
	memcpy(v, sched.gfree.v + sched.gfree.n, (size_t)n * sizeof *v);
	store_relaxed(&sched.ngfree, sched.gfree.n);
	return n;
}

/*
 * Puts a dead G (its stack already freed) on pp's stack.  A full stack
 * hands its older half, the part least likely in cache, to the global one.
 * pp NULL: straight there.
 */
static void gfput(struct p *pp, struct g *gp)
{
	if (pp == NULL) {
		lock(&sched.gflock);
		gfpushn(&gp, 1);
		unlock(&sched.gflock);
		return;
	}
	pp->gfree[pp->ngfree++] = gp;
	if (pp->ngfree < PGFREE_SIZE)
		return;
	const int32_t half = PGFREE_SIZE / 2;
	lock(&sched.gflock);
	gfpushn(pp->gfree, half);
	unlock(&sched.gflock);
	memmove(pp->gfree, pp->gfree + half, (size_t)half * sizeof *pp->gfree);
	pp->ngfree = half;
}

/* A dead G from pp's stack, refilled from the global one; or NULL. */
static struct g *gfget(struct p *pp)
{
	struct g *gp = NULL;
	if (pp == NULL) {
		if (load_relaxed(&sched.ngfree) > 0) {
			lock(&sched.gflock);
			gfpopn(&gp, 1);
			unlock(&sched.gflock);
		}
		return gp;
	}
	if (pp->ngfree == 0) {
		if (load_relaxed(&sched.ngfree) == 0)
			return NULL;
		lock(&sched.gflock);
		pp->ngfree = gfpopn(pp->gfree, PGFREE_SIZE / 2);
		unlock(&sched.gflock);
		if (pp->ngfree == 0)
			return NULL;
		/* the first to be handed out is taken now; fetch the next ones */
		for (int32_t i = 1; i < GFREE_PREFETCH && i < pp->ngfree; i++)
			gfprefetch(pp->gfree[pp->ngfree - 1 - i]);
	}
	gp = pp->gfree[--pp->ngfree];
	if (pp->ngfree >= GFREE_PREFETCH)
		gfprefetch(pp->gfree[pp->ngfree - GFREE_PREFETCH]);
	return gp;
}

/* Moves all of pp's dead Gs to the global stack (pp is being destroyed). */
static void gfpurge(struct p *pp)
{
	if (pp->ngfree == 0)
		return;
	lock(&sched.gflock);
	gfpushn(pp->gfree, pp->ngfree);
	unlock(&sched.gflock);
	pp->ngfree = 0;
}

static void addgoroutines(struct p *pp, int64_t delta)
{
	if (pp == NULL) {
		atomic_fetch_add(&sched.ngoroutines, delta);
		if (delta > 0)
			atomic_fetch_add(&sched.ncreated, delta);
		return;
	}
	pcountadd(&pp->ngoroutines, delta);
	if (delta > 0)
		pcountadd(&pp->ncreated, delta);
}

static int64_t newgoid(struct p *pp)
{
	if (pp == NULL)
		return (int64_t)atomic_fetch_add(&sched.goidgen, 1) + 1;
	if (pp->goidcache == pp->goidcacheend) {
		pp->goidcache = atomic_fetch_add(&sched.goidgen, GOID_BATCH) + 1;
		pp->goidcacheend = pp->goidcache + GOID_BATCH;
	}
	return (int64_t)pp->goidcache++;
}

/*
 * Creates a runnable G for fn(arg) and queues it: on pp's local queue (in
 * runnext, as Go does, so a new goroutine runs soon and hot), or, with no
 * P (a thread the runtime does not own), on the global queue.
 */
static int newproc1(struct p *pp, const gort_attr *attr, void (*fn)(void *), void *arg,
		    uintptr_t gopc)
{
	if (fn == NULL)
		throw("go of nil func value");
	struct g *newg = gfget(pp);
	if (newg == NULL && (newg = malg()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (!stackalloc(pp, newg, attr ? attr->stack_size : 0)) {
		int err = errno;
		gfput(pp, newg);
		errno = err;
		return -1;
	}
	newg->sched.sp = 0; /* not started: execute forges its first frame */
	newg->fn = fn;
	newg->arg = arg;
	newg->startfp = fpctl();
	newg->named = attr && attr->name;
	if (newg->named) {
		strncpy(newg->name, attr->name, GNAME_MAX - 1);
		newg->name[GNAME_MAX - 1] = 0;
	}
	newg->goid = newgoid(pp);
	newg->gopc = gopc;
	struct g *creator = getg();
	newg->parentgoid = creator == NULL ? 0 : creator->m->curg ? creator->m->curg->goid : 0;
	san_newg(newg, false);
	addgoroutines(pp, 1);
	if (pp != NULL) {
		setgstatus(newg, Gdead, Grunnable);
		if (traceenabled())
			traceGoCreate(newg);
		runqput(pp, newg, true);
		wakep();
		return 0;
	}
	/* under sched.lock, which a trace's start holds to see the transition whole */
	lock(&sched.lock);
	setgstatus(newg, Gdead, Grunnable);
	if (traceenabled())
		traceGoCreate(newg);
	globrunqput(newg);
	unlock(&sched.lock);
	/* Without a P we cannot be sloppy: make sure some M will look. */
	if (load_relaxed(&sched.npidle) != 0)
		startm(NULL, false);
	return 0;
}

/*
 * Whether the goroutine running on pp has had it for a whole time slice
 * (Go's sysmon retake test: the P's schedtick has not moved for
 * forcePreemptNS).
 */
static bool slicedone(struct p *pp)
{
	int64_t now = nanotime();
	if (pp->sysmontick.schedtick != pp->schedtick) {
		pp->sysmontick.schedtick = pp->schedtick;
		pp->sysmontick.schedwhen = now;
		return false;
	}
	return now - pp->sysmontick.schedwhen >= FORCE_PREEMPT_NS;
}

/*
 * Go's gopreempt_m, but the preempted goroutine is not queued where
 * another P could steal it: it waits in its P's preempted slot until the P
 * has run everything else it has (findrunnable), and so resumes on the
 * same thread.  gort_go is where gort preempts, and a caller reading errno
 * after it must find the errno of the thread that set it.
 */
static void gopreempt_m(struct g *gp)
{
	struct m *mp = gp->m;
	setgstatus(gp, Grunning, Grunnable);
	dropg(mp);
	mp->p->preempted = gp;
	schedule(mp);
}

int newproc(const gort_attr *attr, void (*fn)(void *), void *arg, uintptr_t gopc)
{
	struct g *gp = getg();
	if (gp == NULL)
		return newproc1(NULL, attr, fn, arg, gopc);
	struct m *mp = gp->m;
	struct p *pp = mp->p;
	if (newproc1(pp, attr, fn, arg, gopc) != 0)
		return -1;
	if (gp == mp->g0)
		return 0;
	/*
	 * gort has no timer preemption, but a goroutine that creates others
	 * in a loop is preempted here: after a whole time slice, as Go's
	 * would be (otherwise, with one P, it could queue millions before any
	 * ran), and as soon as its P's ring is full.  Running the ring then,
	 * rather than spilling half of it to the global queue at the next
	 * gort_go, keeps the new goroutines, their stacks and the dead Gs
	 * they leave on this P, with no lock taken.
	 */
	if (unlikely(runqlen(pp) == RUNQ_SIZE || ((++pp->newprocs & 255) == 0 && slicedone(pp))) &&
	    mp->lockedg == NULL && pp->preempted == NULL) {
		if (traceenabled())
			traceGoPreempt(gp);
		mcall(gopreempt_m);
	}
	return 0;
}

/* The first C code of every goroutine, on its own stack. */
void goentry(void)
{
	struct g *gp = getg();
	san_arrived(NULL);
	gp->fn(gp->arg);
	deferreturnentry(gp);
	goexit1();
}

void goexit1(void)
{
	mcall(goexit0);
	__builtin_unreachable();
}

static void mexit(struct m *mp);

/* goexit continuation on g0. */
static void goexit0(struct g *gp)
{
	struct m *mp = gp->m;
	struct p *pp = mp->p;
	if (traceenabled())
		traceGoEnd();
	if (gp->stackflags & STK_SOFT)
		stackcheck_soft(gp);
	/* Frames abandoned by the final switch may leave ASan poison behind. */
	san_stack_unpoison(gp->sched.sp, gp->stack.hi);
	deferexit(gp);
	stackfree(pp, gp);
	setgstatus(gp, Grunning, Gdead);
	bool locked = gp->lockedm != NULL;
	gp->lockedm = NULL;
	gp->lockedext = 0;
	mp->lockedg = NULL;
	gp->fn = NULL;
	gp->arg = NULL;
	gp->param = NULL;
	gp->sched.sp = 0;
	dropg(mp);
	san_exitg(gp);
	addgoroutines(pp, -1);
	gfput(pp, gp);
	if (locked)
		mexit(mp);
	schedule(mp);
}

/* -------------------------------------------------------------- Ps */

static void acquirep(struct m *mp, struct p *pp)
{
	if (mp->p != NULL || pp->m != NULL || load_relaxed(&pp->status) != Pidle)
		throw("acquirep: invalid p state");
	mp->p = pp;
	pp->m = mp;
	store_relaxed(&pp->status, Prunning);
	if (traceenabled())
		traceProcStart(mp);
}

static struct p *releasep(struct m *mp)
{
	struct p *pp = mp->p;
	if (pp == NULL || pp->m != mp || load_relaxed(&pp->status) != Prunning)
		throw("releasep: invalid p state");
	if (traceenabled())
		traceProcStop();
	mp->p = NULL;
	pp->m = NULL;
	store_relaxed(&pp->status, Pidle);
	return pp;
}

/* Idle P list; sched.lock held. */
static void pidleput(struct p *pp)
{
	if (!pidleable(pp))
		throw("pidleput: P has non-empty run queue");
	pp->link = sched.pidle;
	sched.pidle = pp;
	atomic_fetch_add(&sched.npidle, 1);
}

static struct p *pidleget(void)
{
	struct p *pp = sched.pidle;
	if (pp != NULL) {
		sched.pidle = pp->link;
		atomic_fetch_sub(&sched.npidle, 1);
	}
	return pp;
}

/* -------------------------------------------------------------- Ms */

static void checkdead(void);

static void mput(struct m *mp)
{
	mp->schedlink = sched.midle;
	sched.midle = mp;
	sched.nmidle++;
	checkdead();
}

static struct m *mget(void)
{
	struct m *mp = sched.midle;
	if (mp != NULL) {
		sched.midle = mp->schedlink;
		sched.nmidle--;
	}
	return mp;
}

/* An M without a thread, kept for allocm to reuse; sched.lock held. */
static void mfreeput(struct m *mp)
{
	mp->nothread = true;
	mp->schedlink = sched.mfree;
	sched.mfree = mp;
	sched.nmfreed++;
}

static struct m *_Atomic allm; /* newest first; linked under sched.lock */

/* The Ms with a thread (or about to have one); sched.lock held. */
static int64_t mcount(void)
{
	return sched.mnext - sched.nmfreed;
}

/*
 * A new M, counted as running from now on (so checkdead never mistakes
 * the gap before its thread starts for a deadlock).  sched.lock held.
 */
static struct m *allocm(struct p *pp, bool spinning)
{
	if (mcount() >= MAX_MCOUNT)
		throw("thread exhaustion");
	struct m *mp = sched.mfree;
	if (mp != NULL) {
		sched.mfree = mp->schedlink;
		sched.nmfreed--;
		mp->nothread = false;
	} else {
		mp = calloc(1, sizeof *mp);
		struct g *g0 = calloc(1, sizeof *g0);
		if (mp == NULL || g0 == NULL)
			throw("out of memory allocating an M");
		mp->g0 = g0;
		g0->m = mp;
		mp->id = sched.mnext++;
		mp->alllink = load_relaxed(&allm);
		store_release(&allm, mp);
	}
	uint64_t seed = debug.seed ? debug.seed : (uint64_t)nanotime();
	mp->fastrand = (seed ^ ((uint64_t)(mp->id + 1) * 0x9E3779B97F4A7C15ULL)) | 1;
	mp->nextp = pp;
	mp->spinning = spinning;
	mp->schedlink = NULL;
	return mp;
}

/* The first code on a new M's thread, on its g0 stack. */
void mstart1(struct m *mp)
{
	minit(mp);
	san_newg(mp->g0, true);
	struct p *pp = mp->nextp;
	mp->nextp = NULL;
	acquirep(mp, pp);
	schedule(mp);
}

/*
 * Runs pp on some M: an idle one, or a new one.  pp NULL: an idle P, if
 * any.  spinning: the caller counted the M in nmspinning already.
 */
static void startm(struct p *pp, bool spinning)
{
	lock(&sched.lock);
	if (pp == NULL) {
		pp = pidleget();
		if (pp == NULL) {
			unlock(&sched.lock);
			if (spinning && atomic_fetch_sub(&sched.nmspinning, 1) < 1)
				throw("startm: negative nmspinning");
			return;
		}
	}
	struct m *nmp = mget();
	if (nmp == NULL) {
		nmp = allocm(pp, spinning);
		unlock(&sched.lock);
		if (newosproc(nmp))
			return;
		/*
		 * No thread to be had (memory or threads are exhausted).  A
		 * spinning M is an extra hand for work that the running Ms get
		 * to anyway: the P goes back and the runtime keeps working.
		 * Any other start needs its M.
		 */
		if (!spinning)
			throw("newosproc: cannot create a thread");
		lock(&sched.lock);
		mfreeput(nmp);
		pidleput(pp);
		unlock(&sched.lock);
		if (atomic_fetch_sub(&sched.nmspinning, 1) < 1)
			throw("startm: negative nmspinning");
		return;
	}
	unlock(&sched.lock);
	if (nmp->spinning)
		throw("startm: m is spinning");
	if (nmp->nextp != NULL)
		throw("startm: m has p");
	if (spinning && !pidleable(pp))
		throw("startm: p has runnable gs");
	nmp->spinning = spinning;
	nmp->nextp = pp;
	notewakeup(&nmp->park);
}

/* Takes mp off the idle list, if it is still there.  sched.lock held. */
static bool midleremove(struct m *mp)
{
	for (struct m **pm = &sched.midle; *pm != NULL; pm = &(*pm)->schedlink)
		if (*pm == mp) {
			*pm = mp->schedlink;
			sched.nmidle--;
			return true;
		}
	return false;
}

/*
 * Stops mp until startm hands it a P, which it then holds.  With timers
 * pending (until, their earliest deadline, non-zero), the M with the
 * earliest deadline sleeps only until then: it wakes to run them, taking an
 * idle P itself, so that no timer waits for an M while every M is idle.
 */
static void stopm(struct m *mp, int64_t until)
{
	if (mp->p != NULL)
		throw("stopm holding p");
	if (mp->spinning)
		throw("stopm spinning");
	lock(&sched.lock);
	mput(mp);
	/*
	 * Every P idle: a moment to give memory back (stack.c).  The M is on
	 * the idle list meanwhile, so a wakeup finds it rather than making a
	 * new thread, and cuts the work short.
	 */
	if (load_relaxed(&sched.npidle) == load_relaxed(&gomaxprocs)) {
		unlock(&sched.lock);
		stackscavenge(&mp->park);
		lock(&sched.lock);
	}
	for (;;) {
		int64_t other = load_relaxed(&sched.timersleepuntil);
		bool timed = until != 0 && (other == 0 || until < other);
		if (timed)
			store_relaxed(&sched.timersleepuntil, until);
		unlock(&sched.lock);
		if (!timed) {
			notesleep(&mp->park);
			break;
		}
		int64_t wait = until - nanotime();
		bool woken = notetsleep(&mp->park, wait > 0 ? wait : 0);
		lock(&sched.lock);
		if (load_relaxed(&sched.timersleepuntil) == until)
			store_relaxed(&sched.timersleepuntil, 0);
		if (woken) {
			unlock(&sched.lock);
			break;
		}
		if (!midleremove(mp)) {
			/* a startm took this M: its wakeup is on the way */
			unlock(&sched.lock);
			notesleep(&mp->park);
			break;
		}
		struct p *pp = pidleget();
		if (pp != NULL) {
			unlock(&sched.lock);
			mp->nextp = pp;
			break;
		}
		/*
		 * Every P is held, perhaps by an M on its way to sleep: stay the
		 * timer sleeper, and look again soon if the deadline has passed.
		 */
		mput(mp);
		until = nexttimer();
		int64_t soon = nanotime() + TIMER_RETRY_NS;
		if (until != 0 && until < soon)
			until = soon;
	}
	noteclear(&mp->park);
	struct p *pp = mp->nextp;
	mp->nextp = NULL;
	/* sysmon may be sleeping a long idle tick: the clock is fresh when work resumes */
	tickcoarse();
	acquirep(mp, pp);
}

/*
 * A timer was armed for when (Go's wakeNetPoller): if no M sleeps until a
 * deadline before it and a P is idle, wake a P, whose M will sleep until
 * the new deadline if it finds nothing else to do.
 */
void timerwake(int64_t when)
{
	/* an M blocked in the network poller sleeps until pollUntil at most */
	if (netpollinited() && atomic_load(&sched.lastpoll) == 0) {
		int64_t pu = load_relaxed(&sched.pollUntil);
		if (pu == 0 || pu > when)
			netpollbreak();
		return;
	}
	int64_t until = load_relaxed(&sched.timersleepuntil);
	if (until != 0 && until <= when)
		return;
	wakep();
}

/*
 * Hands off a P whose M is about to block or exit: to a new M if there is
 * work for it, to the stopper if the world is stopping, else to the idle
 * list.  It must start an M whenever findrunnable would find a G on pp.
 */
static void handoffp(struct p *pp)
{
	if (!pidleable(pp) || load_relaxed(&sched.runqsize) != 0) {
		startm(pp, false);
		return;
	}
	/* nobody spinning or idle: this P is the one to look for work */
	int32_t zero = 0;
	if (atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) == 0 &&
	    atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1)) {
		startm(pp, true);
		return;
	}
	lock(&sched.lock);
	if (atomic_load(&sched.gcwaiting)) {
		store_relaxed(&pp->status, Pgcstop);
		if (--sched.stopwait == 0)
			notewakeup(&sched.stopnote);
		unlock(&sched.lock);
		return;
	}
	/*
	 * The last P going idle while goroutines wait on descriptors and no M
	 * polls: its M must, or they wait for sysmon, which may be asleep.
	 */
	if (load_relaxed(&sched.runqsize) != 0 ||
	    (load_relaxed(&sched.npidle) == load_relaxed(&gomaxprocs) - 1 && netpollinited() &&
	     load_relaxed(&netpollwaiters) > 0 && load_relaxed(&sched.lastpoll) != 0)) {
		unlock(&sched.lock);
		startm(pp, false);
		return;
	}
	pidleput(pp);
	unlock(&sched.lock);
}

/*
 * Tries to get one more M spinning, if a P is idle and nobody spins.
 *
 * The work just submitted must be visible before npidle and nmspinning are
 * read (the StoreLoad fence at the top of the file).  x86 orders a store
 * before a later load only across a locked instruction, so every caller
 * has one between the two: the runnext CAS of runqput(..., true), a status
 * CAS, or an atomic RMW.  That spares a fence on every goroutine created.
 */
static void wakep(void)
{
	if (atomic_load(&sched.npidle) == 0)
		return;
	int32_t zero = 0;
	if (atomic_load(&sched.nmspinning) != 0 ||
	    !atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1))
		return;
	startm(NULL, true);
}

static void resetspinning(struct m *mp)
{
	mp->spinning = false;
	if (atomic_fetch_sub(&sched.nmspinning, 1) < 1)
		throw("findrunnable: negative nmspinning");
	wakep();
}

static void incidlelocked(int32_t v)
{
	lock(&sched.lock);
	sched.nmidlelocked += v;
	if (v > 0)
		checkdead();
	unlock(&sched.lock);
}

/* mp's locked G is not running: give the P away and sleep until it is. */
static void stoplockedm(struct m *mp)
{
	if (mp->lockedg == NULL || mp->lockedg->lockedm != mp)
		throw("stoplockedm: inconsistent locking");
	if (mp->p != NULL)
		handoffp(releasep(mp));
	incidlelocked(1);
	notesleep(&mp->park);
	noteclear(&mp->park);
	if (load_relaxed(&mp->lockedg->atomicstatus) != Grunnable)
		throw("stoplockedm: not runnable");
	struct p *pp = mp->nextp;
	mp->nextp = NULL;
	acquirep(mp, pp);
}

/* gp is wired to another M: hand it our P and sleep. */
static void startlockedm(struct m *mp, struct g *gp)
{
	struct m *lm = gp->lockedm;
	if (lm == mp)
		throw("startlockedm: locked to me");
	if (lm->nextp != NULL)
		throw("startlockedm: m has p");
	incidlelocked(-1);
	lm->nextp = releasep(mp);
	notewakeup(&lm->park);
	stopm(mp, 0);
}

/*
 * Ends the thread of an M whose wired G exited (its thread state may be
 * anything now, so nobody else may run on it).  The M struct and its
 * signal stack wait on sched.mfree for the next new M.
 */
static void mexit(struct m *mp)
{
	handoffp(releasep(mp));
	unminitSignals(mp);
	lock(&sched.lock);
	mfreeput(mp);
	checkdead();
	unlock(&sched.lock);
	pthread_exit(NULL);
}

/* ------------------------------------------------------ stop the world */

/*
 * Takes pp from the goroutine in a system call on it, moving it to
 * status (Pidle for sysmon, Pgcstop for a stopper); false if its call
 * returned first.  The trace shows the goroutine blocked and pp stopped,
 * and syscalltick tells the goroutine, on its return, that this is
 * written (gort_syscall_exit).
 */
static bool takesyscallp(struct p *pp, uint32_t status)
{
	uint32_t s = Psyscall;
	if (!atomic_compare_exchange_strong(&pp->status, &s, status))
		return false;
	if (traceenabled())
		traceGoSysBlock(pp, true);
	atomic_fetch_add(&pp->syscalltick, 1);
	return true;
}

/* An M that saw gcwaiting gives up its P to the stopper and sleeps. */
static void gcstopm(struct m *mp)
{
	if (!atomic_load(&sched.gcwaiting))
		throw("gcstopm: not waiting for gc");
	if (mp->spinning) {
		mp->spinning = false;
		if (atomic_fetch_sub(&sched.nmspinning, 1) < 1)
			throw("gcstopm: negative nmspinning");
	}
	struct p *pp = releasep(mp);
	lock(&sched.lock);
	store_relaxed(&pp->status, Pgcstop);
	if (--sched.stopwait == 0)
		notewakeup(&sched.stopnote);
	unlock(&sched.lock);
	stopm(mp, 0);
}

/*
 * Stops every P but the caller's.  The caller is a goroutine; concurrent
 * stoppers take turns, yielding (not blocking) while they wait, so that
 * the one stopping the world can take their P too.
 */
void stopTheWorld(void)
{
	uint32_t free_ = 0;
	while (!atomic_compare_exchange_weak(&sched.stwlock.key, &free_, 1)) {
		free_ = 0;
		gort_yield();
	}
	struct m *mp = getg()->m;
	lock(&sched.lock);
	sched.stopwait = load_relaxed(&gomaxprocs);
	atomic_store(&sched.gcwaiting, 1);
	store_relaxed(&mp->p->status, Pgcstop);
	sched.stopwait--;
	struct p *pp;
	while ((pp = pidleget()) != NULL) {
		store_relaxed(&pp->status, Pgcstop);
		sched.stopwait--;
	}
	/* a P left in a system call is taken as it is (its M finds it gone on return) */
	for (int32_t i = 0; i < load_relaxed(&gomaxprocs); i++)
		if (takesyscallp(allp[i], Pgcstop))
			sched.stopwait--;
	bool wait = sched.stopwait > 0;
	unlock(&sched.lock);
	if (wait) {
		notesleep(&sched.stopnote);
		noteclear(&sched.stopnote);
	}
	if (sched.stopwait != 0)
		throw("stopTheWorld: not stopped");
	for (int32_t i = 0; i < load_relaxed(&gomaxprocs); i++)
		if (load_relaxed(&allp[i]->status) != Pgcstop)
			throw("stopTheWorld: not stopped");
}

/* Restarts the world with sched.newprocs Ps (0: as many as before). */
void startTheWorld(void)
{
	lock(&sched.lock);
	int32_t procs = sched.newprocs ? sched.newprocs : load_relaxed(&gomaxprocs);
	sched.newprocs = 0;
	struct p *runnable = procresize(procs);
	atomic_store(&sched.gcwaiting, 0);
	unlock(&sched.lock);
	while (runnable != NULL) {
		struct p *pp = runnable;
		runnable = pp->link;
		startm(pp, false);
	}
	wakep();
	atomic_store(&sched.stwlock.key, 0);
}

/*
 * Stops scheduling for good, without waiting: every M stops at its next
 * schedule.  Used when goroutine 1 returns and the process is on its way
 * out, and on a fatal error, as Go's freezetheworld is.  A fatal error may
 * strike with sched.lock held, by this thread or a dead one: then the
 * stop is flagged without the lock, which is enough for Ms to stop.
 */
void freezetheworld(void)
{
	for (int i = 0; i < 1000; i++)
		if (trylock(&sched.lock)) {
			sched.stopwait = FREEZE_STOPWAIT;
			atomic_store(&sched.gcwaiting, 1);
			unlock(&sched.lock);
			return;
		}
	atomic_store(&sched.gcwaiting, 1);
}

/* ------------------------------------------------------------ the loop */

/*
 * A stride for walking n Ps from a random start that visits each exactly
 * once: a number coprime to n, picked with the random r (Go's randomOrder).
 */
uint32_t stealstride(uint32_t n, uint32_t r)
{
	if (n <= 1)
		return 1;
	for (uint32_t inc = 1 + r % (n - 1);; inc = inc > 1 ? inc - 1 : n - 1) {
		uint32_t a = n, b = inc;
		while (b != 0) {
			uint32_t t = a % b;
			a = b;
			b = t;
		}
		if (a == 1)
			return inc;
	}
}

/*
 * Steals from other Ps, visiting them in a random order (stealstride).
 * The last round may take a victim's runnext too.
 */
static struct g *stealwork(struct p *pp, bool *inherittime)
{
	uint32_t n = (uint32_t)load_relaxed(&gomaxprocs);
	for (int i = 0; i < STEAL_TRIES; i++) {
		uint32_t pos = cheaprandn(n), inc = stealstride(n, cheaprand());
		for (uint32_t k = 0; k < n; k++, pos = (pos + inc) % n) {
			if (atomic_load(&sched.gcwaiting))
				return NULL;
			struct p *p2 = allp[pos];
			if (p2 == pp || load_relaxed(&p2->status) == Pidle)
				continue;
			struct g *gp = runqsteal(pp, p2, i == STEAL_TRIES - 1);
			if (gp != NULL) {
				*inherittime = false;
				return gp;
			}
		}
	}
	return NULL;
}

/* Runs every P's due timers; whether any ran. */
static bool checkalltimers(void)
{
	int64_t now = 0;
	bool ran = false;
	int32_t n = load_relaxed(&gomaxprocs);
	for (int32_t i = 0; i < n; i++) {
		int64_t w = load_relaxed(&allp[i]->timer0when);
		if (w == 0)
			continue;
		if (now == 0)
			now = nanotime();
		if (w <= now) {
			checktimers(allp[i], now);
			ran = true;
		}
	}
	return ran;
}

/* A P, if some P's queue holds work and an idle P can be had; else NULL. */
static struct p *checkrunqsnop(void)
{
	int32_t n = load_relaxed(&gomaxprocs);
	for (int32_t i = 0; i < n; i++) {
		if (!runqempty(allp[i])) {
			lock(&sched.lock);
			struct p *pp = pidleget();
			unlock(&sched.lock);
			return pp;
		}
	}
	return NULL;
}

/* A G the netpoller readied (still Gwaiting, its slot cleared) made runnable. */
static void netpollready(struct g *gp)
{
	if (traceenabled())
		traceGoUnpark(gp);
	casgstatus(gp, Gwaiting, Grunnable);
}

/*
 * Makes the n Gs of list (linked through schedlink, Gwaiting: the
 * netpoller's) runnable on the global queue, and starts Ms for idle Ps to
 * run them (Go's injectglist).
 */
static void injectglist(struct g *list, int32_t n)
{
	if (list == NULL)
		return;
	lock(&sched.lock);
	for (struct g *gp = list, *next; gp != NULL; gp = next) {
		next = gp->schedlink;
		netpollready(gp);
		globrunqput(gp);
	}
	unlock(&sched.lock);
	for (; n > 0 && load_relaxed(&sched.npidle) != 0; n--)
		startm(NULL, false);
}

/*
 * The first G of a netpoll list, made runnable for the caller, which
 * holds pp, to run; the rest go to pp's queue, from which idle Ps steal
 * (wakep), as any work the caller submits.
 */
static struct g *netpolltake(struct p *pp, struct g *list, bool *inherittime)
{
	for (struct g *gp = list, *next; gp != NULL; gp = next) {
		next = gp->schedlink;
		netpollready(gp);
		if (gp != list)
			runqput(pp, gp, false);
	}
	if (list->schedlink != NULL) {
		atomic_thread_fence(memory_order_seq_cst); /* the queue before npidle (wakep) */
		wakep();
	}
	*inherittime = false;
	return list;
}

/*
 * An M with nothing to do and no P blocks in the network poller until a
 * descriptor is ready or the next timer is due (one M at a time: lastpoll
 * is 0 meanwhile).  Returns a G to run, its P acquired; or NULL, with a P
 * to look again (a timer, a break) or without one.  false: another M polls.
 */
static bool netpollidle(struct m *mp, struct g **gpp, bool *inherittime)
{
	*gpp = NULL;
	if (!netpollinited() || load_relaxed(&netpollwaiters) == 0 || atomic_exchange(&sched.lastpoll, 0) == 0)
		return false;
	int64_t until = nexttimer(), delay = -1;
	if (until != 0) {
		delay = until - nanotime();
		if (delay < 0)
			delay = 0;
	}
	store_relaxed(&sched.pollUntil, until);
	int32_t n;
	struct g *list = netpoll(delay, &n);
	store_relaxed(&sched.pollUntil, 0);
	atomic_store(&sched.lastpoll, nanotime());
	tickcoarse();
	lock(&sched.lock);
	struct p *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	unlock(&sched.lock);
	if (pp == NULL) {
		injectglist(list, n);
		return true;
	}
	acquirep(mp, pp);
	if (list != NULL)
		*gpp = netpolltake(pp, list, inherittime);
	return true;
}

/* Finds a runnable G, sleeping until there is one. */
static __attribute__((noinline)) struct g *findrunnable(struct m *mp, bool *inherittime)
{
	struct g *gp;
top:
	if (atomic_load(&sched.gcwaiting)) {
		gcstopm(mp);
		goto top;
	}
	struct p *pp = mp->p;
	checktimers(pp, 0);
	if ((gp = runqget(pp, inherittime)) != NULL)
		return gp;
	if (load_relaxed(&sched.runqsize) != 0) {
		lock(&sched.lock);
		gp = globrunqget(pp, 0);
		unlock(&sched.lock);
		if (gp != NULL) {
			*inherittime = false;
			return gp;
		}
	}
	if ((gp = pp->preempted) != NULL) {
		pp->preempted = NULL;
		*inherittime = false;
		return gp;
	}
	/* Ready descriptors, without blocking, before stealing (Go's order). */
	if (netpollinited() && load_relaxed(&netpollwaiters) > 0 && load_relaxed(&sched.lastpoll) != 0) {
		int32_t n;
		struct g *list = netpoll(0, &n);
		if (list != NULL)
			return netpolltake(pp, list, inherittime);
	}
	/* Spin, unless half the busy Ps already have a spinner. */
	int32_t procs = load_relaxed(&gomaxprocs);
	if (mp->spinning || 2 * atomic_load(&sched.nmspinning) < procs - atomic_load(&sched.npidle)) {
		if (!mp->spinning) {
			mp->spinning = true;
			atomic_fetch_add(&sched.nmspinning, 1);
		}
		if ((gp = stealwork(pp, inherittime)) != NULL)
			return gp;
	}
	/* Due timers anywhere run here, their goroutines readied onto this P. */
	if (checkalltimers() && (gp = runqget(pp, inherittime)) != NULL)
		return gp;

	/* Nothing anywhere: give up the P. */
	lock(&sched.lock);
	if (atomic_load(&sched.gcwaiting)) {
		unlock(&sched.lock);
		goto top;
	}
	if (load_relaxed(&sched.runqsize) != 0) {
		gp = globrunqget(pp, 0);
		unlock(&sched.lock);
		*inherittime = false;
		return gp;
	}
	if (releasep(mp) != pp)
		throw("findrunnable: wrong p");
	pidleput(pp);
	unlock(&sched.lock);

	/*
	 * The spinning -> idle dance (see the top of the file): after the
	 * decrement, look at every queue once more, or work submitted while
	 * we were giving up could wait next to an idle P.
	 */
	if (mp->spinning) {
		mp->spinning = false;
		if (atomic_fetch_sub(&sched.nmspinning, 1) < 1)
			throw("findrunnable: negative nmspinning");
		if ((pp = checkrunqsnop()) != NULL) {
			acquirep(mp, pp);
			mp->spinning = true;
			atomic_fetch_add(&sched.nmspinning, 1);
			goto top;
		}
	}
	if (netpollidle(mp, &gp, inherittime)) {
		if (gp != NULL)
			return gp;
		if (mp->p != NULL)
			goto top;
	}
	stopm(mp, nexttimer());
	goto top;
}

/* schedule's full loop: the lock wiring, the world stopping, a P to find. */
static __attribute__((noinline, noreturn)) void schedule_slow(struct m *mp)
{
	if (unlikely(debug.invariants))
		checkg0(mp);
	if (unlikely(mp->lockedg != NULL)) {
		stoplockedm(mp);
		execute(mp, mp->lockedg, false, GOSTART_FRESH);
	}
top:
	if (unlikely(debug.sched_random) && cheaprandn(4) == 0)
		osyield(); /* widen the window after a publication (seed 000) */
	if (unlikely(atomic_load(&sched.gcwaiting))) {
		gcstopm(mp);
		goto top;
	}
	struct p *pp = mp->p;
	struct g *gp = NULL;
	bool inherittime = false;
	checktimers(pp, 0); /* what they ready runs in turn, behind what waits already */
	/* Now and then, a preempted creator and the global queue go first: fairness. */
	if (unlikely(pp->schedtick % 61 == 0) && pp->preempted != NULL) {
		gp = pp->preempted;
		pp->preempted = NULL;
	} else if (unlikely(pp->schedtick % 61 == 0) && load_relaxed(&sched.runqsize) > 0) {
		lock(&sched.lock);
		gp = globrunqget(pp, 1);
		unlock(&sched.lock);
	}
	if (gp == NULL)
		gp = runqget(pp, &inherittime);
	if (unlikely(gp == NULL))
		gp = findrunnable(mp, &inherittime);
	if (unlikely(mp->spinning))
		resetspinning(mp);
	if (unlikely(gp->lockedm != NULL)) {
		startlockedm(mp, gp);
		goto top;
	}
	execute(mp, gp, inherittime, GOSTART_FRESH);
}

/*
 * One round of scheduling: find a runnable G and run it.  Never returns.
 * The common case, decided with a handful of loads, takes the next G of
 * the M's own P; anything else goes round schedule_slow's loop, which
 * makes every one of these checks again.  It and execute are inlined into
 * their callers: a yield took 14.6 ns with the two calls, 12.6 without.
 * gostart: the fast path's (execute).
 */
static inline __attribute__((always_inline)) _Noreturn void schedule1(struct m *mp, enum gostart gostart)
{
	struct p *pp = mp->p;
	if (likely(mp->lockedg == NULL && !debug.slowschedule && !mp->spinning &&
		   load_relaxed(&pp->timer0when) == 0 &&
		   pp->schedtick % 61 != 0 && !atomic_load(&sched.gcwaiting))) {
		bool inherittime;
		struct g *gp = runqget(pp, &inherittime);
		if (likely(gp != NULL && gp->lockedm == NULL))
			execute(mp, gp, inherittime, gostart);
		if (gp != NULL)
			startlockedm(mp, gp);
	}
	schedule_slow(mp);
}

static inline __attribute__((always_inline)) _Noreturn void schedule(struct m *mp)
{
	schedule1(mp, GOSTART_SWITCHED);
}

/* execute's end while a trace is written: out of line, so that the switch saves no registers for it. */
static __attribute__((noinline, noreturn)) void tracegogo(struct g *gp, bool switched)
{
	traceGoStart(gp, switched);
	gogo(gp);
}

/* Runs gp on mp, which dequeued it: gp is Grunnable and now mp's. */
static inline __attribute__((always_inline)) _Noreturn void execute(struct m *mp, struct g *gp, bool inherittime,
								     enum gostart gostart)
{
	mp->curg = gp;
	gp->m = mp;
	if (unlikely(gp->sched.sp == 0)) {
		stackstart(mp->p, gp);
		gp->sched.sp = gostartcall(gp->stack.hi, gp->startfp);
	}
	setgstatus(gp, Grunnable, Grunning);
	if (!inherittime)
		mp->p->schedtick++;
	san_switch(mp->g0, gp, false);
	if (gostart != GOSTART_UNTRACED && traceenabled())
		tracegogo(gp, gostart == GOSTART_SWITCHED);
	gogo(gp);
}

static void dropg(struct m *mp)
{
	mp->curg->m = NULL;
	mp->curg = NULL;
}

/* ---------------------------------------------------------- park/ready */

static void park_m(struct g *gp)
{
	struct m *mp = gp->m;
	pcountadd(&mp->p->nparks, 1);
	setgstatus(gp, Grunning, Gwaiting);
	dropg(mp);
	bool (*fn)(struct g *, void *) = mp->waitunlockf;
	void *lk = mp->waitlock;
	mp->waitunlockf = NULL;
	mp->waitlock = NULL;
	/* From here gp may be readied and run elsewhere: do not touch it. */
	if (fn != NULL && !fn(gp, lk)) {
		if (traceenabled())
			traceGoUnpark(gp);
		casgstatus(gp, Gwaiting, Grunnable);
		execute(mp, gp, true, GOSTART_FRESH);
	}
	schedule(mp);
}

/*
 * Parks the calling goroutine.  unlockf(gp, lock), if not NULL, runs on g0
 * once the goroutine is Gwaiting and its context saved; returning false
 * resumes it at once (whatever it waited for already happened).  The
 * goroutine runs again when someone calls goready on it.
 */
void gopark(bool (*unlockf)(struct g *, void *), void *lock, waitreason reason)
{
	struct g *gp = getg();
	struct m *mp = gp->m;
	mp->waitlock = lock;
	mp->waitunlockf = unlockf;
	gp->waitreason = reason;
	gp->waitsince = load_relaxed(&sched.coarsenow);
	if (traceenabled())
		traceGoPark(reason);
	mcall(park_m);
}

/*
 * Makes a parked goroutine runnable, into runnext of the caller's P so it
 * runs soon.  From a thread the runtime does not own, it goes to the
 * global queue.
 */
void goready(struct g *gp)
{
	struct g *cur = getg();
	if (cur != NULL) {
		if (traceenabled())
			traceGoUnpark(gp);
		casgstatus(gp, Gwaiting, Grunnable);
		/*
		 * gp runs next, most often once the caller parks, and its
		 * first steps pop the frames above sched.sp: start fetching
		 * them.  Among many goroutines (a ring) they are cold.  Not
		 * past the stack's top: a prefetch into the next stack's
		 * guard costs a page walk for nothing.
		 */
		uintptr_t top = gp->sched.sp + 4 * CACHELINE;
		if (top > gp->stack.hi)
			top = gp->stack.hi;
		for (uintptr_t a = gp->sched.sp; a < top; a += CACHELINE)
			__builtin_prefetch((const void *)a);
		runqput(cur->m->p, gp, true);
		wakep();
		return;
	}
	/* under sched.lock, which a trace's start holds to see the transition whole */
	lock(&sched.lock);
	if (traceenabled())
		traceGoUnpark(gp);
	casgstatus(gp, Gwaiting, Grunnable);
	globrunqput(gp);
	unlock(&sched.lock);
	if (load_relaxed(&sched.npidle) != 0)
		startm(NULL, false);
}

static void readyexecute_m(struct g *cur)
{
	/* Read the target before cur is published: cur's stack may be reused after. */
	struct g *gp = cur->readyg;
	cur->readyg = NULL;
	struct m *mp = cur->m;
	struct p *pp = mp->p;
	setgstatus(cur, Grunning, Grunnable);
	dropg(mp);
	runqput(pp, cur, false);
	casgstatus(gp, Gwaiting, Grunnable);
	atomic_thread_fence(memory_order_seq_cst); /* wakep's barrier: cur was published */
	if (mp->lockedg != NULL || gp->lockedm != NULL) {
		runqput(pp, gp, true);
		wakep();
		schedule(mp);
	}
	wakep();
	execute(mp, gp, true, GOSTART_FRESH);
}

/*
 * Makes the parked gp runnable and switches to it at once, in the caller's
 * time slice; the caller goes to the back of its P's queue (Go's
 * readyExecute, the hand-off of a synchronous exchange).
 */
void readyexecute(struct g *gp)
{
	if (traceenabled()) {
		traceGoUnpark(gp);
		traceGoPreempt(getg());
	}
	getg()->readyg = gp;
	mcall(readyexecute_m);
}

/*
 * gp yields while the global queue holds work: a fair share of that work
 * moves to the tail of pp's ring first, and gp goes behind it, into the
 * ring if there is room, else to the global queue, as Go's Gosched puts
 * every yielder.  So yielders take turns in FIFO order however many there
 * are, and none waits behind a ring that keeps refilling.
 */
static __attribute__((noinline)) void globrunqmove(struct p *pp, struct g *gp)
{
	lock(&sched.lock);
	int32_t size = load_relaxed(&sched.runqsize);
	int32_t n = globrunqshare(pp, size, 0, 0);
	store_relaxed(&sched.runqsize, size - n);
	while (n-- > 0)
		runqput(pp, globrunqpop(), false);
	bool full = runqlen(pp) == RUNQ_SIZE;
	if (full)
		globrunqput(gp);
	unlock(&sched.lock);
	if (!full)
		runqput(pp, gp, false);
}

/*
 * gort_yield's continuation.  Go's Gosched puts the goroutine on the
 * global queue, behind everything; gort keeps it on its P's ring, which
 * costs no lock, unless the global queue holds work (globrunqmove).
 */
static inline __attribute__((always_inline)) void gosched(struct g *gp, enum gostart gostart)
{
	struct m *mp = gp->m;
	struct p *pp = mp->p;
	setgstatus(gp, Grunning, Grunnable);
	dropg(mp);
	if (unlikely(load_relaxed(&sched.runqsize) != 0)) {
		globrunqmove(pp, gp);
		/*
		 * What came from the global queue may have been readied, its
		 * GoUnblock written elsewhere, after this P's last event: its
		 * GoStart cannot take that event's time.
		 */
		if (gostart == GOSTART_SWITCHED)
			gostart = GOSTART_FRESH;
	} else {
		runqput(pp, gp, false);
	}
	/*
	 * A goroutine preempted at gort_go goes before yielders: one that
	 * yields while waiting for the creator must not keep it from running.
	 */
	struct g *pre = pp->preempted;
	if (unlikely(pre != NULL)) {
		pp->preempted = NULL;
		execute(mp, pre, false, GOSTART_FRESH);
	}
	schedule1(mp, gostart);
}

/*
 * A yield's continuations.  While a trace is written, one that writes the
 * event first (GoSched, GoPreempt), reading the goroutine's stack where
 * mcall left it; while none is, one that does not look at trace_enabled
 * even to start the next goroutine: a trace starts only with the world
 * stopped, which waits for this P to stop, which it does only at its next
 * round of scheduling.  The yielder picks one with a single look, and
 * gort_yield with none at all (settraceyield): the look cost a yield 2-3%
 * at two Ps.
 */
static __attribute__((noinline)) void gosched_m(struct g *gp)
{
	gosched(gp, GOSTART_SWITCHED);
}

static void goschedtraced_m(struct g *gp)
{
	traceGoSched(gp);
	gosched_m(gp);
}

static void gopreempttraced_m(struct g *gp)
{
	traceGoPreempt(gp);
	gosched_m(gp);
}

static void goscheduntraced_m(struct g *gp)
{
	gosched(gp, GOSTART_UNTRACED);
}

static void (*_Atomic yieldm)(struct g *) = goscheduntraced_m;

void settraceyield(bool on)
{
	store_release(&yieldm, on ? goschedtraced_m : goscheduntraced_m);
}

/* ------------------------------------------------------- system calls */

/*
 * Go's entersyscall and exitsyscall.  A goroutine about to block in the
 * kernel leaves its P in Psyscall, still attached in spirit (m->oldp) but
 * free for the taking: if the call returns quickly, the goroutine takes it
 * back with one CAS; if it lasts, sysmon (retake) or a stopper takes it
 * with the same CAS and hands it to another M.  Whoever loses the CAS
 * knows the P is gone.  syscalltick counts the calls and retakes, so that
 * sysmon can tell a long call from a succession of short ones.
 */

static void sysmonwake(void);

void gort_syscall_enter(void)
{
	struct g *gp = getg();
	if (gp == NULL || gp == gp->m->g0)
		return;
	preemptcheck();
	struct m *mp = gp->m;
	struct p *pp = mp->p;
	if (traceenabled())
		traceGoSysCall();
	gp->waitsince = load_relaxed(&sched.coarsenow);
	setgstatus(gp, Grunning, Gsyscall);
	mp->oldp = pp;
	mp->syscalltick = load_relaxed(&pp->syscalltick);
	mp->p = NULL;
	pp->m = NULL;
	/* a full fence: a stopper that set gcwaiting before this either sees Psyscall or is seen */
	atomic_store(&pp->status, Psyscall);
	if (unlikely(atomic_load(&sched.gcwaiting))) {
		lock(&sched.lock);
		if (sched.stopwait > 0 && takesyscallp(pp, Pgcstop) && --sched.stopwait == 0)
			notewakeup(&sched.stopnote);
		unlock(&sched.lock);
	}
	if (unlikely(atomic_load(&sched.sysmonwaiting)))
		sysmonwake();
}

/* exitsyscall's slow path, on g0: no P to be had, so gp waits in the global queue. */
static void exitsyscall0(struct g *gp)
{
	struct m *mp = gp->m;
	setgstatus(gp, Gsyscall, Grunnable);
	dropg(mp);
	lock(&sched.lock);
	struct p *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	if (pp == NULL)
		globrunqput(gp);
	unlock(&sched.lock);
	if (pp != NULL) {
		acquirep(mp, pp);
		execute(mp, gp, false, GOSTART_FRESH);
	}
	if (mp->lockedg != NULL) {
		stoplockedm(mp);
		execute(mp, gp, false, GOSTART_FRESH);
	}
	stopm(mp, 0);
	schedule(mp);
}

void gort_syscall_exit(void)
{
	struct g *gp = getg();
	if (gp == NULL || gp == gp->m->g0)
		return;
	if (load_relaxed(&gp->atomicstatus) != Gsyscall)
		throw("gort_syscall_exit without gort_syscall_enter");
	struct m *mp = gp->m;
	struct p *pp = mp->oldp;
	mp->oldp = NULL;
	uint32_t s = Psyscall;
	if (atomic_compare_exchange_strong(&pp->status, &s, Prunning)) {
		/* the quick return: the P waited */
		mp->p = pp;
		pp->m = mp;
		if (load_relaxed(&pp->syscalltick) != mp->syscalltick && traceenabled()) {
			/*
			 * Not for us: it was retaken, and is taken back now from
			 * another goroutine's system call on it (Go's
			 * exitsyscallfast_reacquired): that one blocks, this one
			 * starts again.
			 */
			traceGoSysBlock(pp, false);
			traceGoSysExit(gp);
			traceGoStart(gp, false);
		}
		atomic_fetch_add(&pp->syscalltick, 1);
		setgstatus(gp, Gsyscall, Grunning);
		return;
	}
	/* retaken: any idle P will do; a trace shows the retake first (its GoSysBlock) */
	if (traceenabled())
		while (load_acquire(&pp->syscalltick) == mp->syscalltick)
			osyield();
	lock(&sched.lock);
	pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	unlock(&sched.lock);
	if (pp != NULL) {
		acquirep(mp, pp);
		if (traceenabled()) {
			traceGoSysExit(gp);
			traceGoStart(gp, false);
		}
		setgstatus(gp, Gsyscall, Grunning);
		return;
	}
	if (traceenabled())
		traceGoSysExit(gp);
	mcall(exitsyscall0);
}

/* ----------------------------------------------------------- procresize */

static struct p *newp(int32_t id)
{
	struct p *pp = aligned_alloc(CACHELINE, sizeof *pp);
	if (pp == NULL)
		throw("out of memory allocating a P");
	memset(pp, 0, sizeof *pp);
	pp->id = id;
	store_relaxed(&pp->status, Pgcstop);
	return pp;
}

/* A P beyond the new GORT_MAXPROCS: hand everything it holds to the world. */
static void destroyp(struct p *pp)
{
	struct g *gp;
	bool inherit;
	while ((gp = runqget(pp, &inherit)) != NULL)
		globrunqputhead(gp);
	if (pp->preempted != NULL)
		globrunqput(pp->preempted);
	pp->preempted = NULL;
	gfpurge(pp);
	stackcache_flush(pp);
	deferpoolflush(pp);
	movetimers(allp[0], pp);
	atomic_fetch_add(&sched.ngoroutines, load_relaxed(&pp->ngoroutines));
	store_relaxed(&pp->ngoroutines, 0);
	store_relaxed(&pp->status, Pdead);
}

/*
 * Changes the number of Ps, with the world stopped (or not yet started)
 * and sched.lock held.  Ps with queued work are returned, linked, for the
 * caller to start Ms on; the others go idle.
 */
static struct p *procresize(int32_t nprocs)
{
	int32_t old = load_relaxed(&gomaxprocs);
	for (int32_t i = load_relaxed(&allplen); i < nprocs; i++) {
		allp[i] = newp(i);
		store_release(&allplen, i + 1);
	}
	for (int32_t i = nprocs; i < old; i++)
		destroyp(allp[i]);

	struct g *gp = getg();
	struct m *mp = gp ? gp->m : NULL;
	if (mp != NULL && mp->p != NULL && mp->p->id < nprocs) {
		store_relaxed(&mp->p->status, Prunning);
	} else if (mp != NULL) {
		/* the trace sees the caller descheduled from its old P and started on P 0, as Go's does */
		if (traceenabled() && mp->p != NULL) {
			traceGoSched(gp);
			traceProcStop();
		}
		if (mp->p != NULL)
			mp->p->m = NULL;
		mp->p = NULL;
		store_relaxed(&allp[0]->status, Pidle);
		allp[0]->m = NULL;
		acquirep(mp, allp[0]);
		if (traceenabled())
			traceGoStart(mp->curg, false);
	}
	struct p *runnable = NULL;
	for (int32_t i = nprocs - 1; i >= 0; i--) {
		struct p *pp = allp[i];
		if (mp != NULL && mp->p == pp)
			continue;
		store_relaxed(&pp->status, Pidle);
		if (pidleable(pp)) {
			pidleput(pp);
		} else {
			pp->link = runnable;
			runnable = pp;
		}
	}
	for (int32_t i = 0; i < nprocs; i++)
		allp[i]->alone = nprocs == 1;
	atomic_store(&gomaxprocs, nprocs);
	if (traceenabled())
		traceGomaxprocs(nprocs);
	return runnable;
}

/* ----------------------------------------------------------- schedtrace */

/* The runtime's threads: the Ms, and sysmon.  sched.lock held. */
static int64_t threadcount(void)
{
	return mcount() + 1;
}

static void printfield(const char *name, int64_t v)
{
	printstr(name);
	printint(v);
}

/*
 * GORT_DEBUG=schedtrace=<ms>: Go's SCHED line, printed by sysmon, with
 * Go's names for what gort has; scheddetail=1 adds a line per P, M and G.
 * Other threads' fields are read without their owners' synchronisation,
 * as Go reads them: a snapshot that may be torn, of structures that are
 * never freed, each pointer read once.
 */
static __attribute__((no_sanitize("thread"))) void schedtrace(int64_t now, bool detailed)
{
	static int64_t starttime;
	if (starttime == 0)
		starttime = now;
	lock(&sched.lock);
	printlock();
	printfield("SCHED ", (now - starttime) / 1000000);
	printfield("ms: gomaxprocs=", load_relaxed(&gomaxprocs));
	printfield(" idleprocs=", load_relaxed(&sched.npidle));
	printfield(" threads=", threadcount());
	printfield(" spinningthreads=", load_relaxed(&sched.nmspinning));
	printfield(" idlethreads=", sched.nmidle);
	printfield(" runqueue=", load_relaxed(&sched.runqsize));
	if (detailed) {
		printfield(" gcwaiting=", load_relaxed(&sched.gcwaiting));
		printfield(" nmidlelocked=", sched.nmidlelocked);
		printfield(" stopwait=", sched.stopwait);
		printstr("\n");
	}
	int32_t n = load_relaxed(&gomaxprocs);
	for (int32_t i = 0; i < n; i++) {
		struct p *pp = allp[i];
		int64_t len = (uint32_t)(load_relaxed(&pp->runqtail) - load_relaxed(&pp->runqhead));
		if (detailed) {
			struct m *mp = pp->m;
			printfield("  P", i);
			printfield(": status=", load_relaxed(&pp->status));
			printfield(" schedtick=", pp->schedtick);
			printfield(" m=", mp != NULL ? mp->id : -1);
			printfield(" runqsize=", len);
			printfield(" gfreecnt=", pp->ngfree);
			printfield(" timerslen=", pp->ntimers);
			printstr("\n");
		} else {
			printstr(i == 0 ? " [" : " ");
			printint(len);
			if (i == n - 1)
				printstr("]\n");
		}
	}
	if (detailed) {
		for (struct m *mp = load_relaxed(&allm); mp != NULL; mp = mp->alllink) {
			if (mp->nothread)
				continue;
			struct p *pp = mp->p;
			struct g *curg = mp->curg, *lockedg = mp->lockedg;
			printfield("  M", mp->id);
			printfield(": p=", pp != NULL ? pp->id : -1);
			printfield(" curg=", curg != NULL ? curg->goid : -1);
			printstr(mp->spinning ? " spinning=true" : " spinning=false");
			printfield(" lockedg=", lockedg != NULL ? lockedg->goid : -1);
			printstr("\n");
		}
		for (struct g *gp = load_acquire(&allgs); gp != NULL; gp = load_acquire(&gp->alllink)) {
			uint32_t status = load_relaxed(&gp->atomicstatus);
			struct m *mp = gp->m, *lockedm = gp->lockedm;
			waitreason reason = gp->waitreason;
			printfield("  G", gp->goid);
			printfield(": status=", status);
			printstr("(");
			if (status == Gwaiting && reason > waitReasonZero && reason < waitReasonMax)
				printstr(waitreasonstrings[reason]);
			printfield(") m=", mp != NULL ? mp->id : -1);
			printfield(" lockedm=", lockedm != NULL ? lockedm->id : -1);
			printstr("\n");
		}
	}
	printunlock();
	unlock(&sched.lock);
}

/*
 * The kernel id of a thread of one of the Ms, 0 if none has started: where
 * a signal that needs the runtime's context goes when it lands on a thread
 * that is not an M (signal_unix.c).  Async-signal-safe: it reads allm
 * without the lock (Ms are never freed) and fields an M's own thread
 * writes, racily, as schedtrace does.
 */
__attribute__((no_sanitize("thread"))) pid_t signalthread(void)
{
	for (struct m *mp = load_acquire(&allm); mp != NULL; mp = mp->alllink)
		if (!mp->nothread && mp->procid != 0)
			return mp->procid;
	return 0;
}

/* --------------------------------------------------------------- sysmon */

#define SYSMON_TICK_NS (10 * 1000 * 1000)   /* while goroutines run */
#define SYSMON_MIN_NS (20 * 1000)           /* while it finds work to do */
#define SYSMON_IDLE_NS (1000 * 1000 * 1000) /* while every P is idle */
#define NETPOLL_STALE_NS (10 * 1000 * 1000)

static void tickcoarse(void)
{
	store_relaxed(&sched.coarsenow, nanotime_coarse());
}

/* Wakes sysmon from its sleep while every P was idle (Go's sysmonwait). */
static void sysmonwake(void)
{
	lock(&sched.lock);
	if (sched.sysmonwait) {
		sched.sysmonwait = false;
		store_relaxed(&sched.sysmonwaiting, false);
		notewakeup(&sched.sysmonnote);
	}
	unlock(&sched.lock);
}

/* What sysmon saw of a P when it last looked (Go's sysmontick). */
struct sysmonobs {
	uint32_t schedtick;
	int64_t nparks;
	int64_t schedwhen;
	bool flagged;
	uint32_t syscalltick;
	int64_t syscallwhen;
};
static struct sysmonobs sysmonobs[MAX_GOMAXPROCS];

/*
 * Reads of a running P from outside, as Go's sysmon reads them: its
 * schedtick, and the goroutine it runs.  They change under sysmon's feet,
 * but Ms and Gs are never freed, so the worst a stale read does is flag a
 * goroutine that preemptpark then finds has moved on.
 */
static __attribute__((no_sanitize("thread"))) uint32_t runningtick(struct p *pp)
{
	return pp->schedtick;
}

/* Flags the goroutine running on pp since o->schedwhen; false if none runs. */
static __attribute__((no_sanitize("thread"))) bool flagrunning(struct p *pp, struct sysmonobs *o)
{
	struct m *mp = pp->m;
	struct g *gp = mp != NULL ? mp->curg : NULL;
	if (gp == NULL)
		return false;
	store_relaxed(&gp->preemptp, pp);
	store_relaxed(&gp->preempttick, o->schedtick);
	store_relaxed(&gp->preemptparks, o->nparks);
	store_relaxed(&gp->preemptsince, o->schedwhen);
	store_release(&gp->preempt, true);
	return true;
}

/*
 * Go's retake.  A P that has been in the same system call since sysmon
 * last looked is handed to another M, unless there is nothing for it to
 * do and the call is younger than 10 ms.  A goroutine that has run a
 * whole time slice without a scheduling point (its P neither scheduled
 * nor parked anything) is flagged for preemptcheck.  The number of Ps
 * retaken.
 */
static uint32_t retake(int64_t now)
{
	uint32_t n = 0;
	int32_t procs = load_relaxed(&gomaxprocs);
	for (int32_t i = 0; i < procs; i++) {
		struct p *pp = allp[i];
		struct sysmonobs *o = &sysmonobs[i];
		uint32_t status = load_acquire(&pp->status);
		if (status == Psyscall) {
			uint32_t t = load_relaxed(&pp->syscalltick);
			if (o->syscalltick != t) {
				o->syscalltick = t;
				o->syscallwhen = now;
				continue;
			}
			if (runqempty(pp) && atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) > 0 &&
			    o->syscallwhen + FORCE_PREEMPT_NS > now)
				continue;
			if (!takesyscallp(pp, Pidle))
				continue;
			n++;
			handoffp(pp);
		} else if (status == Prunning) {
			uint32_t t = runningtick(pp);
			int64_t parks = load_relaxed(&pp->nparks);
			if (o->schedtick != t || o->nparks != parks) {
				o->schedtick = t;
				o->nparks = parks;
				o->schedwhen = now;
				o->flagged = false;
			} else if (o->schedwhen + FORCE_PREEMPT_NS <= now && !o->flagged) {
				o->flagged = flagrunning(pp, o);
			}
		}
	}
	return n;
}

/*
 * gp has run a time slice without a scheduling point: it yields here, at
 * the runtime call that noticed (one that may reschedule anyway, so the
 * goroutine may resume on another thread, and any P may run it), and with
 * GORT_DEBUG=longrun=1 says so with its traceback, to point at the loop.
 * A flag that went stale (gp was scheduled since sysmon looked) is
 * dropped.
 */
void preemptpark(struct g *gp)
{
	store_relaxed(&gp->preempt, false);
	struct p *pp = gp->m->p;
	if (gp == gp->m->g0 || gp->m->lockedg != NULL || pp != load_relaxed(&gp->preemptp) ||
	    pp->schedtick != load_relaxed(&gp->preempttick) || load_relaxed(&pp->nparks) != load_relaxed(&gp->preemptparks))
		return;
	if (debug.longrun) {
		int64_t ms = (nanotime() - load_relaxed(&gp->preemptsince)) / 1000000;
		printlock();
		printstr("gort: goroutine ");
		printint(gp->goid);
		printstr(" ran for ");
		printint(ms);
		printstr(" ms without a scheduling point\n");
		tracebackhere(gp);
		printunlock();
	}
	mcall(traceenabled() ? gopreempttraced_m : goscheduntraced_m);
}

/*
 * Go's system monitor: a thread of the runtime's that holds no P and runs
 * no goroutine, so it sees the scheduler from outside.  It takes Ps back
 * from system calls that block (retake), flags goroutines that run too
 * long, polls the network when no M has for 10 ms, and keeps
 * sched.coarsenow, the clock gopark stamps a wait with (reading the
 * system's clock at every park cost 3.4 ns of a 70 ns channel hop; a
 * wait's length is shown in minutes).  Its period starts at 20 us and
 * doubles, up to 10 ms, while it finds nothing to do; while every P is
 * idle it sleeps until a system call begins.  It ends soon after
 * gort_main returns.
 */
static void *sysmon(void *arg)
{
	int64_t trace = (int64_t)debug.schedtrace * 1000000, lasttrace = 0, delay = 0;
	uint32_t idle = 0;
	while (load_acquire(&runtime_state) == RUNTIME_RUNNING) {
		if (idle == 0)
			delay = SYSMON_MIN_NS;
		else if (idle > 50)
			delay *= 2;
		if (delay > SYSMON_TICK_NS)
			delay = SYSMON_TICK_NS;
		int64_t now = nanotime();
		if (trace > 0 && lasttrace + trace - now < delay)
			delay = lasttrace + trace - now > 0 ? lasttrace + trace - now : 0;
		usleep_ns(delay);
		if (trace == 0 && load_relaxed(&sched.npidle) == load_relaxed(&gomaxprocs)) {
			lock(&sched.lock);
			if (load_relaxed(&sched.npidle) == load_relaxed(&gomaxprocs)) {
				sched.sysmonwait = true;
				store_relaxed(&sched.sysmonwaiting, true);
				unlock(&sched.lock);
				notetsleep(&sched.sysmonnote, SYSMON_IDLE_NS);
				lock(&sched.lock);
				sched.sysmonwait = false;
				store_relaxed(&sched.sysmonwaiting, false);
				noteclear(&sched.sysmonnote);
				idle = 0;
			}
			unlock(&sched.lock);
		}
		tickcoarse();
		now = nanotime();
		int64_t last = load_relaxed(&sched.lastpoll);
		if (netpollinited() && last != 0 && last + NETPOLL_STALE_NS < now &&
		    atomic_compare_exchange_strong(&sched.lastpoll, &last, now)) {
			int32_t n;
			struct g *list = netpoll(0, &n);
			injectglist(list, n);
		}
		if (retake(now) != 0)
			idle = 0;
		else
			idle++;
		if (trace > 0 && (lasttrace == 0 || now - lasttrace >= trace)) {
			lasttrace = now;
			schedtrace(now, debug.scheddetail);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ checkdead */

/* The threads of this process. */
static int64_t countthreads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (d == NULL)
		return INT64_MAX;
	int64_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int64_t gcount(void)
{
	int64_t n = atomic_load(&sched.ngoroutines);
	int32_t len = load_acquire(&allplen);
	for (int32_t i = 0; i < len; i++)
		n += load_relaxed(&allp[i]->ngoroutines);
	return n;
}

/*
 * Called with sched.lock held whenever an M goes idle: if none is left
 * running, nothing in the runtime can ever run again.  But a thread the
 * runtime does not own could still create or wake goroutines: as Go stays
 * silent when cgo threads may call in, this stays silent whenever the
 * process has threads other than the Ms, sysmon and the one waiting in
 * gort_main.
 */
static void checkdead(void)
{
	if (sched.mainexited)
		return;
	int64_t run = mcount() - sched.nmidle - sched.nmidlelocked;
	if (run > 0)
		return;
	if (run < 0)
		throw("checkdead: inconsistent counts");
	if (atomic_load(&sched.gcwaiting) || countthreads() > threadcount() + 1 || nexttimer() != 0)
		return;
	unlock(&sched.lock);
	if (gcount() == 0 && atomic_load(&sched.maingoexited))
		throw("no goroutines (main called runtime.Goexit) - deadlock!");
	throw("all goroutines are asleep - deadlock!");
}

/* ------------------------------------------------------------ the API */

/*
 * The caller of an API function: its G, or NULL on a thread the runtime
 * does not own, which is allowed only while gort_main runs.
 */
static struct g *apig(const char *fn)
{
	struct g *gp = getg();
	if (gp == NULL && load_acquire(&runtime_state) != RUNTIME_RUNNING) {
		static char msg[128];
		snprintf(msg, sizeof msg, "%s called outside gort_main", fn);
		throw(msg);
	}
	return gp;
}

/* The user goroutine running on this thread, or NULL. */
static struct g *apicurg(const char *fn)
{
	struct g *gp = apig(fn);
	if (gp != NULL && gp == gp->m->g0)
		gp = gp->m->curg;
	return gp;
}

static void schedinit(void)
{
	parsedebugvars();
	if (debug.sched_random) {
		if (debug.seed == 0)
			debug.seed = (uint64_t)nanotime() ^ ((uint64_t)getpid() << 32);
		fprintf(stderr, "gort: GORT_DEBUG=sched_random=1,seed=%llu\n", (unsigned long long)debug.seed);
	}
	stackinit();
	initsig();
	int32_t procs = envmaxprocs(), cpus = getproccount();
	if (procs == 0)
		procs = cpus;
	allp = calloc(MAX_GOMAXPROCS, sizeof *allp);
	if (allp == NULL)
		throw("out of memory allocating Ps");
	lock(&sched.lock);
	procresize(procs);
	unlock(&sched.lock);
	tickcoarse();
}

struct mainargs {
	int (*fn)(void *);
	void *arg;
};

static void runtime_main(void *arg);

/* The function a goroutine started in, as the user wrote it (Go's startpc). */
uintptr_t gostartpc(struct g *gp)
{
	if (gp->fn == runtime_main)
		return (uintptr_t)((struct mainargs *)gp->arg)->fn;
	return (uintptr_t)gp->fn;
}

static void callmain(void *arg)
{
	struct mainargs *ma = arg;
	sched.mainresult = ma->fn(ma->arg);
}

/*
 * Goroutine 1.  main_fn runs as a frame: its deferred calls run when it
 * returns, and if one of them recovers a panic, main returns 0.
 */
static void runtime_main(void *arg)
{
	if (gort_call(callmain, arg) != 0)
		sched.mainresult = 0;
	panicwait();
	lock(&sched.lock);
	sched.mainexited = true;
	unlock(&sched.lock);
	freezetheworld();
	notewakeup(&sched.mainnote);
	gopark(NULL, NULL, waitReasonZero);
}

int gort_main(int (*main_fn)(void *arg), void *arg)
{
	int32_t none = RUNTIME_NONE;
	if (!atomic_compare_exchange_strong(&runtime_state, &none, RUNTIME_RUNNING))
		throw(getg() != NULL ? "gort_main called from a goroutine" : "gort_main called twice");
	if (main_fn == NULL)
		throw("gort_main: nil main function");
	traceboot();
	schedinit();
	static struct mainargs ma;
	ma.fn = main_fn;
	ma.arg = arg;
	if (newproc1(NULL, NULL, runtime_main, &ma, (uintptr_t)__builtin_return_address(0)) != 0)
		throw("gort_main: cannot create the main goroutine");
	/* after goroutine 1 and its M, which sysmon's first look (schedtrace) shows, as in Go */
	if (!newthread(sysmon, NULL))
		throw("newosproc: cannot create a thread");
	notesleep(&sched.mainnote);
	tracemainreturn();
	atomic_store(&runtime_state, RUNTIME_DONE);
	return sched.mainresult;
}

int gort_go(void (*fn)(void *arg), void *arg)
{
	apig("gort_go");
	return newproc(NULL, fn, arg, (uintptr_t)__builtin_return_address(0));
}

int gort_go_attr(const gort_attr *attr, void (*fn)(void *arg), void *arg)
{
	apig("gort_go_attr");
	return newproc(attr, fn, arg, (uintptr_t)__builtin_return_address(0));
}

void gort_yield(void)
{
	struct g *gp = apig("gort_yield");
	if (gp == NULL || gp == gp->m->g0) {
		osyield();
		return;
	}
	mcall(load_relaxed(&yieldm));
}

int64_t gort_goid(void)
{
	struct g *gp = getg();
	if (gp != NULL && gp == gp->m->g0)
		gp = gp->m->curg;
	return gp ? gp->goid : 0;
}

int gort_maxprocs(int n)
{
	struct g *gp = apig("gort_maxprocs");
	int32_t ret = load_relaxed(&gomaxprocs);
	if (n <= 0 || n == ret)
		return ret;
	if (gp == NULL || gp == gp->m->g0)
		throw("gort_maxprocs: changing GORT_MAXPROCS from a thread that is not running a goroutine");
	stopTheWorld();
	sched.newprocs = n > MAX_GOMAXPROCS ? MAX_GOMAXPROCS : n;
	startTheWorld();
	return ret;
}

int gort_num_goroutine(void)
{
	apig("gort_num_goroutine");
	return (int)gcount();
}

int gort_dump(int fd)
{
	struct g *gp = apicurg("gort_dump");
	if (gp == NULL)
		throw("gort_dump: called from a thread that is not running a goroutine");
	if (fcntl(fd, F_GETFL) < 0)
		return -1;
	stopTheWorld();
	printlockfd(fd);
	dumpgoroutines(gp);
	printunlock();
	startTheWorld();
	return 0;
}

void gort_read_stats(gort_stats *st)
{
	apig("gort_read_stats");
	if (st == NULL)
		throw("gort_read_stats: nil stats");
	*st = (gort_stats){.goroutines = gcount(), .goroutines_created = load_relaxed(&sched.ncreated)};
	lock(&sched.lock);
	st->threads = (int32_t)threadcount();
	st->idle_threads = sched.nmidle;
	st->procs = load_relaxed(&gomaxprocs);
	st->idle_procs = load_relaxed(&sched.npidle);
	st->runqueue = load_relaxed(&sched.runqsize);
	unlock(&sched.lock);
	int32_t n = load_acquire(&allplen);
	for (int32_t i = 0; i < n; i++) {
		struct p *pp = allp[i];
		st->goroutines_created += load_relaxed(&pp->ncreated);
		st->steals += load_relaxed(&pp->nsteals);
		st->parks += load_relaxed(&pp->nparks);
		if (i < st->procs)
			st->local_runqueue += (uint32_t)(load_relaxed(&pp->runqtail) - load_relaxed(&pp->runqhead)) +
					      (load_relaxed(&pp->runnext) != NULL);
	}
	stackstats(&st->stack_reserved, &st->stack_resident);
}

void gort_lock_os_thread(void)
{
	struct g *gp = apicurg("gort_lock_os_thread");
	if (gp == NULL)
		return; /* a thread of the program's own is wired already */
	if (gp->lockedext == UINT32_MAX)
		throw("gort_lock_os_thread nesting overflow");
	gp->lockedext++;
	gp->m->lockedg = gp;
	gp->lockedm = gp->m;
}

void gort_unlock_os_thread(void)
{
	struct g *gp = apicurg("gort_unlock_os_thread");
	if (gp == NULL || gp->lockedext == 0)
		return;
	if (--gp->lockedext == 0) {
		gp->m->lockedg = NULL;
		gp->lockedm = NULL;
	}
}
