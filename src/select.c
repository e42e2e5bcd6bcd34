/*
 * select (Go's select.go).
 *
 * A select polls its cases in a random order (fairness: no case starves
 * another), with every channel involved locked, in address order so that
 * two selects over the same channels cannot deadlock; a channel named by
 * several cases is locked once.  If no case is ready and the select may
 * block, it queues one sudog per case, all sharing one "done" word, and
 * sleeps.  The first waker to set done (waitqdequeue's compare-and-swap)
 * completes its case and wakes the select; every other sudog is then
 * dequeued, under the locks again.  NULL channels are never ready.
 *
 * Parking a goroutine releases the locks after it is parked (the unlock
 * callback, on g0).  The callback must not read the goroutine's stack once
 * it has released a lock: a waker may then run the goroutine on another M,
 * which returns from the select and reuses the stack (seed 000).  So it
 * first copies the channels to unlock into its M, then releases them.
 */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

/* Above this many cases, the select's scratch arrays come from the heap. */
#define SELECT_STACK_CASES 16

struct selstate {
	gort_case *cases;
	int n;                   /* cases with a channel */
	uint16_t *pollorder;     /* indices into cases, random */
	uint16_t *lockorder;     /* the same, by channel address */
};

#define MAXCASES 65536

static inline struct gort_chan *casechan(struct selstate *s, int i)
{
	return s->cases[s->lockorder[i]].chan;
}

static void sellock(struct selstate *s)
{
	struct gort_chan *last = NULL;
	for (int i = 0; i < s->n; i++) {
		struct gort_chan *c = casechan(s, i);
		if (c != last)
			lock(&c->lock);
		last = c;
	}
}

static void selunlock(struct selstate *s)
{
	for (int i = s->n - 1; i >= 0; i--) {
		struct gort_chan *c = casechan(s, i);
		if (i > 0 && c == casechan(s, i - 1))
			continue;
		unlock(&c->lock);
	}
}

/* The select's unlock callback, on g0: see the top of the file. */
static bool selparkcommit(struct g *gp, void *arg)
{
	struct selstate *s = arg;
	struct m *mp = getg()->m;
	int n = 0;
	if (mp->selbufcap < s->n) {
		free(mp->selbuf);
		mp->selbuf = malloc((size_t)s->n * sizeof *mp->selbuf);
		if (mp->selbuf == NULL)
			throw("out of memory unlocking a select");
		mp->selbufcap = s->n;
	}
	for (int i = 0; i < s->n; i++) {
		struct gort_chan *c = casechan(s, i);
		if (n == 0 || mp->selbuf[n - 1] != c)
			mp->selbuf[n++] = c;
	}
	/* from here on, s (on gp's stack) may be gone */
	while (n > 0)
		unlock(&mp->selbuf[--n]->lock);
	return true;
}

static int bychan(const void *a, const void *b, void *cases)
{
	uintptr_t x = (uintptr_t)((gort_case *)cases)[*(const uint16_t *)a].chan;
	uintptr_t y = (uintptr_t)((gort_case *)cases)[*(const uint16_t *)b].chan;
	return (x > y) - (x < y);
}

/* Sorts order's n case indices by channel address: by insertion when n is small, as it usually is. */
static void sortbychan(gort_case *cases, uint16_t *order, int n)
{
	if (n > SELECT_STACK_CASES) {
		qsort_r(order, (size_t)n, sizeof *order, bychan, cases);
		return;
	}
	for (int i = 1; i < n; i++) {
		uint16_t v = order[i];
		int j = i;
		while (j > 0 && (uintptr_t)cases[order[j - 1]].chan > (uintptr_t)cases[v].chan) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
}

/*
 * Tries the cases in poll order with every channel locked.  Returns the
 * case taken (the locks released) or -1 (the locks still held).
 */
static int selpoll(struct selstate *s)
{
	for (int k = 0; k < s->n; k++) {
		int i = s->pollorder[k];
		gort_case *cas = &s->cases[i];
		struct gort_chan *c = cas->chan;
		struct sudog *sg;
		if (cas->dir == GORT_RECV) {
			if ((sg = waitqdequeue(&c->sendq)) != NULL) {
				chanrecvfrom(c, sg, cas->elem);
				selunlock(s);
				waiterready(sg);
				cas->ok = true;
				return i;
			}
			if (c->qcount > 0) {
				chanbufrecv(c, cas->elem);
				selunlock(s);
				cas->ok = true;
				return i;
			}
			if (c->closed) {
				selunlock(s);
				if (cas->elem != NULL && c->elemsize > 0)
					memset(cas->elem, 0, c->elemsize);
				cas->ok = false;
				return i;
			}
		} else {
			if (c->closed) {
				selunlock(s);
				gort_panic("send on closed channel");
			}
			if ((sg = waitqdequeue(&c->recvq)) != NULL) {
				chansendto(c, sg, cas->elem);
				selunlock(s);
				waiterready(sg);
				return i;
			}
			if (c->qcount < c->dataqsiz) {
				chanbufsend(c, cas->elem);
				selunlock(s);
				return i;
			}
		}
	}
	return -1;
}

/* Queues a sudog per case and sleeps until one fires; returns its case. */
static int selwait(struct selstate *s)
{
	struct sudog stacksgs[SELECT_STACK_CASES];
	struct sudog *sgs = s->n <= SELECT_STACK_CASES ? stacksgs : malloc((size_t)s->n * sizeof *sgs);
	if (sgs == NULL)
		throw("out of memory in select");
	_Atomic(struct sudog *) done = NULL;
	note wake = {0};
	struct g *gp = NULL;
	for (int k = 0; k < s->n; k++) {
		int i = s->lockorder[k];
		gort_case *cas = &s->cases[i];
		struct sudog *sg = &sgs[k];
		waiterinit(sg, cas->elem, cas->chan);
		sg->selectdone = &done;
		sg->wakenote = &wake;
		gp = sg->g;
		waitqenqueue(cas->dir == GORT_RECV ? &cas->chan->recvq : &cas->chan->sendq, sg);
	}
	if (gp != NULL) {
		gopark(selparkcommit, s, waitReasonSelect);
	} else {
		selunlock(s);
		notesleep(&wake);
	}
	struct sudog *winner = atomic_load(&done);
	sellock(s);
	int taken = -1;
	for (int k = 0; k < s->n; k++) {
		int i = s->lockorder[k];
		gort_case *cas = &s->cases[i];
		if (&sgs[k] == winner) {
			taken = i;
			continue;
		}
		waitqremove(cas->dir == GORT_RECV ? &cas->chan->recvq : &cas->chan->sendq, &sgs[k]);
	}
	selunlock(s);
	bool success = winner->success;
	if (sgs != stacksgs)
		free(sgs);
	gort_case *cas = &s->cases[taken];
	if (cas->dir == GORT_SEND && !success)
		gort_panic("send on closed channel");
	cas->ok = success;
	return taken;
}

int gort_select(gort_case *cases, int ncases, bool block)
{
	if (ncases < 0 || ncases > MAXCASES || (ncases > 0 && cases == NULL))
		throw("gort_select: bad case list");
	preemptcheck();
	uint16_t stackorder[2 * SELECT_STACK_CASES];
	uint16_t *order = ncases <= SELECT_STACK_CASES ? stackorder
						      : malloc(2 * (size_t)ncases * sizeof *order);
	if (order == NULL)
		throw("out of memory in select");
	struct selstate s = {cases, 0, order, order + ncases};
	/* Poll order: a random permutation of the cases with a channel. */
	for (int i = 0; i < ncases; i++) {
		if (cases[i].dir != GORT_SEND && cases[i].dir != GORT_RECV)
			throw("gort_select: case direction is neither GORT_SEND nor GORT_RECV");
		if (cases[i].dir == GORT_SEND && cases[i].chan != NULL && cases[i].elem == NULL &&
		    cases[i].chan->elemsize > 0)
			throw("channel send of a NULL element");
		if (cases[i].chan == NULL)
			continue;
		int j = (int)cheaprandn((uint32_t)s.n + 1);
		s.pollorder[s.n] = s.pollorder[j];
		s.pollorder[j] = (uint16_t)i;
		s.n++;
	}
	memcpy(s.lockorder, s.pollorder, (size_t)s.n * sizeof *order);
	sortbychan(cases, s.lockorder, s.n);

	int taken = -1;
	if (s.n > 0) {
		sellock(&s);
		taken = selpoll(&s);
		if (taken < 0 && !block)
			selunlock(&s);
		else if (taken < 0)
			taken = selwait(&s);
	}
	if (order != stackorder)
		free(order);
	if (taken < 0 && block)
		blockforever(waitReasonSelectNoCases);
	return taken;
}
