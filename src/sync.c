/*
 * Mutex, RWMutex, WaitGroup, Once and Cond (Go's sync package).
 *
 * The algorithms are Go's, on the semaphores of sema.c; the structures are
 * the user's, zero-initialised, and their fields are accessed atomically.
 *
 * The mutex: state holds the locked bit, a woken bit (a woken waiter is
 * competing, so unlock need not wake another), a starving bit and the
 * number of waiters.  Normal mode lets a running locker barge past
 * sleepers, which keeps the lock hot and fast; a waiter that has waited
 * over 1 ms switches the mutex to starvation mode, where unlock hands the
 * lock straight to the oldest waiter and newcomers queue behind it, until
 * a waiter that waited briefly, or the last one, switches it back.
 */
#include "runtime.h"

#define MUTEX_LOCKED 1
#define MUTEX_WOKEN 2
#define MUTEX_STARVING 4
#define MUTEX_WAITER_SHIFT 3
#define STARVATION_THRESHOLD_NS 1000000
#define ACTIVE_SPIN 4
#define ACTIVE_SPIN_CNT 30

#define RWMUTEX_MAX_READERS (1 << 30)

static inline int32_t load32(int32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline bool cas32(int32_t *p, int32_t old, int32_t new_)
{
	return __atomic_compare_exchange_n(p, &old, new_, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

static inline int32_t add32(int32_t *p, int32_t delta)
{
	return __atomic_add_fetch(p, delta, __ATOMIC_ACQ_REL);
}

/*
 * Go's sync_runtime_canSpin: spinning pays only with several CPUs, another
 * P running (who might unlock) and nothing else for this P to run.
 */
static bool canspin(int iter)
{
	if (iter >= ACTIVE_SPIN || ncpu <= 1)
		return false;
	struct g *gp = getg();
	if (gp == NULL)
		return true;
	struct p *pp = gp->m->p;
	if (load_relaxed(&gomaxprocs) <= atomic_load(&sched.npidle) + atomic_load(&sched.nmspinning) + 1)
		return false;
	return pp == NULL || runqempty(pp);
}

static void dospin(void)
{
	for (int i = 0; i < ACTIVE_SPIN_CNT; i++)
		__builtin_ia32_pause();
}

static void mutexlockslow(gort_mutex *m)
{
	int64_t waitstart = 0;
	bool starving = false, awoke = false;
	int iter = 0;
	int32_t old = load32(&m->state_);
	for (;;) {
		/* Spin while it is locked in normal mode, telling unlock not to wake anyone. */
		if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == MUTEX_LOCKED && canspin(iter)) {
			if (!awoke && !(old & MUTEX_WOKEN) && (old >> MUTEX_WAITER_SHIFT) != 0 &&
			    cas32(&m->state_, old, old | MUTEX_WOKEN))
				awoke = true;
			dospin();
			iter++;
			old = load32(&m->state_);
			continue;
		}
		int32_t new_ = old;
		if (!(old & MUTEX_STARVING))
			new_ |= MUTEX_LOCKED; /* a starving mutex is not for newcomers */
		if (old & (MUTEX_LOCKED | MUTEX_STARVING))
			new_ += 1 << MUTEX_WAITER_SHIFT;
		if (starving && (old & MUTEX_LOCKED))
			new_ |= MUTEX_STARVING;
		if (awoke) {
			if (!(new_ & MUTEX_WOKEN))
				throw("sync: inconsistent mutex state");
			new_ &= ~MUTEX_WOKEN;
		}
		if (!cas32(&m->state_, old, new_)) {
			old = load32(&m->state_);
			continue;
		}
		if (!(old & (MUTEX_LOCKED | MUTEX_STARVING)))
			return; /* locked it */
		bool lifo = waitstart != 0; /* waited before: go first */
		if (waitstart == 0)
			waitstart = nanotime();
		semacquire(&m->sema_, lifo, waitReasonSyncMutexLock);
		starving = starving || nanotime() - waitstart > STARVATION_THRESHOLD_NS;
		old = load32(&m->state_);
		if (old & MUTEX_STARVING) {
			/* handed the lock directly: take it and count ourselves out */
			if ((old & (MUTEX_LOCKED | MUTEX_WOKEN)) || (old >> MUTEX_WAITER_SHIFT) == 0)
				throw("sync: inconsistent mutex state");
			int32_t delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);
			if (!starving || (old >> MUTEX_WAITER_SHIFT) == 1)
				delta -= MUTEX_STARVING; /* leave starvation mode */
			add32(&m->state_, delta);
			return;
		}
		awoke = true;
		iter = 0;
	}
}

void gort_mutex_lock(gort_mutex *m)
{
	preemptcheck();
	if (likely(cas32(&m->state_, 0, MUTEX_LOCKED)))
		return;
	mutexlockslow(m);
}

bool gort_mutex_trylock(gort_mutex *m)
{
	int32_t old = load32(&m->state_);
	if (old & (MUTEX_LOCKED | MUTEX_STARVING))
		return false;
	return cas32(&m->state_, old, old | MUTEX_LOCKED);
}

static void mutexunlockslow(gort_mutex *m, int32_t new_)
{
	if (!((new_ + MUTEX_LOCKED) & MUTEX_LOCKED))
		throw("sync: unlock of unlocked mutex");
	if (new_ & MUTEX_STARVING) {
		semrelease(&m->sema_, true); /* hand it to the next waiter */
		return;
	}
	int32_t old = new_;
	for (;;) {
		/* nobody to wake, or someone is awake or holds it already */
		if ((old >> MUTEX_WAITER_SHIFT) == 0 || (old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING)))
			return;
		new_ = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
		if (cas32(&m->state_, old, new_)) {
			semrelease(&m->sema_, false);
			return;
		}
		old = load32(&m->state_);
	}
}

void gort_mutex_unlock(gort_mutex *m)
{
	int32_t new_ = add32(&m->state_, -MUTEX_LOCKED);
	if (unlikely(new_ != 0))
		mutexunlockslow(m, new_);
}

/* ------------------------------------------------------------ RWMutex */

void gort_rwmutex_rlock(gort_rwmutex *rw)
{
	if (add32(&rw->readercount_, 1) < 0)
		semacquire(&rw->readersem_, false, waitReasonSyncRWMutexRLock); /* a writer is pending */
}

void gort_rwmutex_runlock(gort_rwmutex *rw)
{
	int32_t r = add32(&rw->readercount_, -1);
	if (r >= 0)
		return;
	if (r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS)
		throw("sync: RUnlock of unlocked RWMutex");
	if (add32(&rw->readerwait_, -1) == 0)
		semrelease(&rw->writersem_, false); /* the last reader the writer waits for */
}

void gort_rwmutex_lock(gort_rwmutex *rw)
{
	gort_mutex_lock(&rw->w_);
	/* announce the writer, then wait for the readers already in */
	int32_t r = add32(&rw->readercount_, -RWMUTEX_MAX_READERS) + RWMUTEX_MAX_READERS;
	if (r != 0 && add32(&rw->readerwait_, r) != 0)
		semacquire(&rw->writersem_, false, waitReasonSyncRWMutexLock);
}

void gort_rwmutex_unlock(gort_rwmutex *rw)
{
	int32_t r = add32(&rw->readercount_, RWMUTEX_MAX_READERS);
	if (r >= RWMUTEX_MAX_READERS)
		throw("sync: Unlock of unlocked RWMutex");
	for (int32_t i = 0; i < r; i++)
		semrelease(&rw->readersem_, false);
	gort_mutex_unlock(&rw->w_);
}

/* ------------------------------------------------------------ WaitGroup */

/* state_: the counter in the high 32 bits, the number of waiters in the low ones. */
void gort_waitgroup_add(gort_waitgroup *wg, int64_t delta)
{
	uint64_t state = __atomic_add_fetch(&wg->state_, (uint64_t)delta << 32, __ATOMIC_SEQ_CST);
	int32_t v = (int32_t)(state >> 32);
	uint32_t w = (uint32_t)state;
	if (v < 0)
		gort_panic("sync: negative WaitGroup counter");
	if (w != 0 && delta > 0 && v == (int32_t)delta)
		gort_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
	if (v > 0 || w == 0)
		return;
	/* the counter reached 0 with waiters: nobody may touch the state now but us */
	if (__atomic_load_n(&wg->state_, __ATOMIC_SEQ_CST) != state)
		gort_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
	__atomic_store_n(&wg->state_, 0, __ATOMIC_SEQ_CST);
	for (; w != 0; w--)
		semrelease(&wg->sema_, false);
}

void gort_waitgroup_done(gort_waitgroup *wg)
{
	gort_waitgroup_add(wg, -1);
}

void gort_waitgroup_wait(gort_waitgroup *wg)
{
	uint64_t state = __atomic_load_n(&wg->state_, __ATOMIC_SEQ_CST);
	for (;;) {
		if ((state >> 32) == 0)
			return;
		if (__atomic_compare_exchange_n(&wg->state_, &state, state + 1, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			semacquire(&wg->sema_, false, waitReasonSyncWaitGroupWait);
			if (__atomic_load_n(&wg->state_, __ATOMIC_SEQ_CST) != 0)
				gort_panic("sync: WaitGroup is reused before previous Wait has returned");
			return;
		}
	}
}

/* ------------------------------------------------------------ Once */

static void oncefinish(void *arg)
{
	gort_once *o = arg;
	__atomic_store_n(&o->done_, 1, __ATOMIC_RELEASE);
	gort_mutex_unlock(&o->m_);
}

/*
 * If fn panics, the Once counts as done and its mutex is released (a
 * deferred call), as in Go; a thread the runtime does not own cannot
 * panic through it.
 */
void gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg)
{
	if (__atomic_load_n(&o->done_, __ATOMIC_ACQUIRE))
		return;
	gort_mutex_lock(&o->m_);
	if (o->done_ != 0) {
		gort_mutex_unlock(&o->m_);
		return;
	}
	struct g *gp = getg();
	if (gp != NULL && gp->goid != 0) {
		GORT_DEFER(oncefinish, o);
		fn(arg);
	} else {
		fn(arg);
		oncefinish(o);
	}
}

/* ------------------------------------------------------------ Cond */

void gort_cond_wait(gort_cond *c, gort_mutex *m)
{
	uint32_t t = notifylistadd(c);
	gort_mutex_unlock(m);
	notifylistwait(c, t);
	gort_mutex_lock(m);
}

void gort_cond_signal(gort_cond *c)
{
	notifylistnotifyone(c);
}

void gort_cond_broadcast(gort_cond *c)
{
	notifylistnotifyall(c);
}
