/*
 * Semaphores and notify lists for the sync primitives (Go's sema.go).
 *
 * semacquire(addr) waits until *addr > 0 and decrements it; semrelease
 * increments it and wakes a waiter.  The count lives in the user's
 * structure (a gort_mutex's sema_), the waiters in a fixed table of roots
 * hashed by address, each a lock and a list of sudogs, so that a
 * zero-initialised primitive needs no setup.  A root's nwait lets
 * semrelease skip the lock when nobody waits; it is raised under the lock
 * before the last check of the count, so a release that misses a waiter
 * cannot happen.  A waiter queued LIFO (a mutex waiter that waited before)
 * goes first; a release with handoff gives its count to the woken waiter
 * directly (the starving mutex), and the releaser then yields to it.
 *
 * A notify list is Go's: waiters take tickets in order, a signal wakes the
 * oldest ticket not yet notified, a broadcast all of them, so gort_cond
 * wakes in FIFO order and a signal before the wait is never lost.
 */
#include "runtime.h"

#define SEMTABSZ 251

struct semaroot {
	mutex lock;
	_Atomic uint32_t nwait;
	struct sudog *head;
	struct sudog *tail;
} __attribute__((aligned(CACHELINE)));

static struct semaroot semtable[SEMTABSZ];

static struct semaroot *semroot(uint32_t *addr)
{
	return &semtable[((uintptr_t)addr >> 3) % SEMTABSZ];
}

static bool cansemacquire(uint32_t *addr)
{
	uint32_t v = __atomic_load_n(addr, __ATOMIC_ACQUIRE);
	while (v > 0)
		if (__atomic_compare_exchange_n(addr, &v, v - 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

void semacquire(uint32_t *addr, bool lifo, waitreason reason)
{
	if (cansemacquire(addr))
		return;
	struct semaroot *root = semroot(addr);
	struct sudog s;
	waiterinit(&s, NULL, NULL);
	s.addr = addr;
	for (;;) {
		lock(&root->lock);
		atomic_fetch_add(&root->nwait, 1);
		if (cansemacquire(addr)) {
			atomic_fetch_sub(&root->nwait, 1);
			unlock(&root->lock);
			return;
		}
		s.ticket = 0;
		noteclear(&s.note);
		s.prev = NULL;
		s.next = NULL;
		if (lifo && root->head != NULL) {
			s.next = root->head;
			root->head->prev = &s;
			root->head = &s;
		} else {
			s.prev = root->tail;
			if (root->tail != NULL)
				root->tail->next = &s;
			else
				root->head = &s;
			root->tail = &s;
		}
		waiterpark(&s, &root->lock, reason);
		if (s.ticket != 0 || cansemacquire(addr))
			return;
	}
}

void semrelease(uint32_t *addr, bool handoff)
{
	struct semaroot *root = semroot(addr);
	__atomic_fetch_add(addr, 1, __ATOMIC_SEQ_CST);
	if (atomic_load(&root->nwait) == 0)
		return;
	lock(&root->lock);
	struct sudog *s = root->head;
	while (s != NULL && s->addr != addr)
		s = s->next;
	if (s == NULL) {
		unlock(&root->lock);
		return;
	}
	atomic_fetch_sub(&root->nwait, 1);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		root->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		root->tail = s->prev;
	unlock(&root->lock);
	bool handed = handoff && cansemacquire(addr);
	s->ticket = handed;
	waiterready(s);
	struct g *gp = getg();
	if (handed && gp != NULL && gp != gp->m->g0)
		gort_yield();
}

/* ------------------------------------------------------------ notify lists */

static inline mutex *nllock(gort_cond *l)
{
	_Static_assert(sizeof l->lock_ == sizeof(mutex), "gort_cond's lock is a runtime mutex");
	return (mutex *)&l->lock_;
}

uint32_t notifylistadd(gort_cond *l)
{
	return __atomic_fetch_add(&l->wait_, 1, __ATOMIC_SEQ_CST);
}

/* Whether ticket a comes before b, wrapping. */
static inline bool ticketless(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void notifylistwait(gort_cond *l, uint32_t t)
{
	lock(nllock(l));
	if (ticketless(t, __atomic_load_n(&l->notify_, __ATOMIC_RELAXED))) {
		unlock(nllock(l));
		return;
	}
	struct sudog s;
	waiterinit(&s, NULL, NULL);
	s.ticket = t;
	if (l->tail_ != NULL)
		((struct sudog *)l->tail_)->next = &s;
	else
		l->head_ = &s;
	l->tail_ = &s;
	waiterpark(&s, nllock(l), waitReasonSyncCondWait);
}

void notifylistnotifyall(gort_cond *l)
{
	if (__atomic_load_n(&l->wait_, __ATOMIC_SEQ_CST) == __atomic_load_n(&l->notify_, __ATOMIC_SEQ_CST))
		return;
	lock(nllock(l));
	struct sudog *s = l->head_;
	l->head_ = NULL;
	l->tail_ = NULL;
	__atomic_store_n(&l->notify_, __atomic_load_n(&l->wait_, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
	unlock(nllock(l));
	while (s != NULL) {
		struct sudog *next = s->next;
		waiterready(s);
		s = next;
	}
}

void notifylistnotifyone(gort_cond *l)
{
	if (__atomic_load_n(&l->wait_, __ATOMIC_SEQ_CST) == __atomic_load_n(&l->notify_, __ATOMIC_SEQ_CST))
		return;
	lock(nllock(l));
	uint32_t t = l->notify_;
	if (t == __atomic_load_n(&l->wait_, __ATOMIC_SEQ_CST)) {
		unlock(nllock(l));
		return;
	}
	__atomic_store_n(&l->notify_, t + 1, __ATOMIC_SEQ_CST);
	/* the waiter with ticket t may not have queued yet: then it will not sleep */
	struct sudog *prev = NULL;
	for (struct sudog *s = l->head_; s != NULL; prev = s, s = s->next) {
		if (s->ticket != t)
			continue;
		if (prev != NULL)
			prev->next = s->next;
		else
			l->head_ = s->next;
		if (l->tail_ == s)
			l->tail_ = prev;
		unlock(nllock(l));
		waiterready(s);
		return;
	}
	unlock(nllock(l));
}
