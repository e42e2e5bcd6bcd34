/*
 * Channels (Go's chan.go).
 *
 * A channel is one lock, a ring buffer of dataqsiz values, and two FIFO
 * queues of waiters (sudogs): receivers waiting for a value and senders
 * waiting for room.  A value never waits in a queue and the buffer at
 * once: a send that finds a waiting receiver hands the value straight into
 * the receiver's memory (its stack, which never moves) and readies it into
 * the sender's runnext, and a receive that finds a waiting sender takes
 * from the buffer's head and moves the sender's value to its tail, so FIFO
 * order holds.  close wakes every waiter: receivers with a zero value,
 * senders to panic.
 *
 * Waiters are goroutines or threads the runtime does not own: a C program
 * mixes both, and either may block on a channel.  A goroutine parks with
 * gopark, the channel's lock released by the unlock callback once it is
 * parked (no wakeup can be lost, DESIGN.md invariant 3); a thread sleeps
 * on a note in its sudog.  Whoever dequeues a sudog owns the wakeup; a
 * select's sudogs share a flag, and only the first to set it wakes the
 * select (the others' dequeue skips them).
 *
 * Invariants, under c->lock:
 *   at most one of recvq and sendq is non-empty, and recvq is empty while
 *   the buffer holds values (a receiver would have taken one);
 *   sendq is empty while the buffer has room;
 *   a closed channel has empty queues after close returns.
 */
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest element, as Go's. */
#define MAXELEMSIZE 65535

/* ------------------------------------------------------------ waiters */

static bool parkunlock(struct g *gp, void *lk)
{
	unlock(lk);
	return true;
}

/*
 * Makes the caller sg's waiter and sleeps until waiterready(sg); lk, held
 * on entry, is released once the sleep is safe.  sg is on a wait queue
 * under lk already.
 */
void waiterpark(struct sudog *sg, mutex *lk, waitreason reason)
{
	if (sg->g != NULL) {
		gopark(parkunlock, lk, reason);
		return;
	}
	unlock(lk);
	notesleep(sg->wakenote);
}

/* Wakes sg's waiter.  sg may be gone as soon as this returns (it lives on the waiter's stack). */
void waiterready(struct sudog *sg)
{
	struct g *gp = sg->g;
	if (gp != NULL)
		goready(gp);
	else
		notewakeup(sg->wakenote);
}

/*
 * Prepares sg for the caller: a goroutine, or a thread the runtime does not
 * own.  Code running on g0 cannot wait.
 */
void waiterinit(struct sudog *sg, void *elem, struct gort_chan *c)
{
	struct g *gp = getg();
	if (gp != NULL && gp == gp->m->g0)
		throw("blocking operation on system stack");
	*sg = (struct sudog){.g = gp, .elem = elem, .c = c, .wakenote = &sg->note};
}

/* Blocks the caller for good: an operation on a NULL channel, an empty select. */
_Noreturn void blockforever(waitreason reason)
{
	struct g *gp = getg();
	if (gp == NULL)
		for (;;)
			pause();
	if (gp == gp->m->g0)
		throw("blocking on system stack");
	gopark(NULL, NULL, reason);
	throw("unreachable");
}

void waitqenqueue(waitq *q, struct sudog *sg)
{
	sg->next = NULL;
	sg->prev = q->last;
	if (q->last != NULL)
		q->last->next = sg;
	else
		q->first = sg;
	q->last = sg;
}

void waitqremove(waitq *q, struct sudog *sg)
{
	if (sg->prev != NULL)
		sg->prev->next = sg->next;
	else if (q->first == sg)
		q->first = sg->next;
	else
		return; /* not queued: dequeued by a waker already */
	if (sg->next != NULL)
		sg->next->prev = sg->prev;
	else
		q->last = sg->prev;
	sg->next = sg->prev = NULL;
}

/*
 * The first waiter that can be woken.  A select's sudog is skipped when
 * another of its cases won already.
 */
struct sudog *waitqdequeue(waitq *q)
{
	struct sudog *sg;
	while ((sg = q->first) != NULL) {
		q->first = sg->next;
		if (q->first != NULL)
			q->first->prev = NULL;
		else
			q->last = NULL;
		sg->next = sg->prev = NULL;
		if (sg->selectdone != NULL) {
			struct sudog *none = NULL;
			if (!atomic_compare_exchange_strong(sg->selectdone, &none, sg))
				continue;
		}
		return sg;
	}
	return NULL;
}

/* ------------------------------------------------------------ channels */

static inline void *chanbuf(struct gort_chan *c, size_t i)
{
	return c->buf + i * c->elemsize;
}

/*
 * Most channels carry a word or two: those sizes are copied inline, where
 * a call to memcpy would cost more than the copy.
 */
static inline void elemcopy(struct gort_chan *c, void *dst, const void *src)
{
	if (dst == NULL)
		return;
	switch (c->elemsize) {
	case 0: break;
	case 4: memcpy(dst, src, 4); break;
	case 8: memcpy(dst, src, 8); break;
	case 16: memcpy(dst, src, 16); break;
	default: memcpy(dst, src, c->elemsize);
	}
}

static inline void elemzero(struct gort_chan *c, void *dst)
{
	if (dst != NULL && c->elemsize > 0)
		memset(dst, 0, c->elemsize);
}

gort_chan *gort_chan_make(size_t elem_size, size_t cap)
{
	if (elem_size > MAXELEMSIZE) {
		errno = EINVAL;
		return NULL;
	}
	size_t bytes;
	if (__builtin_mul_overflow(elem_size, cap, &bytes) ||
	    __builtin_add_overflow(bytes, sizeof(struct gort_chan), &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	struct gort_chan *c = calloc(1, bytes);
	if (c == NULL)
		return NULL;
	c->elemsize = elem_size;
	c->dataqsiz = cap;
	return c;
}

void gort_chan_free(gort_chan *c)
{
	if (c == NULL)
		return;
	lock(&c->lock);
	bool waiters = c->recvq.first != NULL || c->sendq.first != NULL;
	unlock(&c->lock);
	if (waiters)
		throw("gort_chan_free: goroutines are blocked on the channel");
	free(c);
}

/*
 * Hands ep to sg, a waiting receiver dequeued from c.  c->lock held; the
 * caller then unlocks and wakes sg.
 */
void chansendto(struct gort_chan *c, struct sudog *sg, const void *ep)
{
	elemcopy(c, sg->elem, ep);
	sg->success = true;
	sg->c = c;
}

/*
 * Takes a value for ep from sg, a waiting sender dequeued from c: directly
 * when there is no buffer, else from the buffer's head, the sender's value
 * going to its tail.  c->lock held; the caller then unlocks and wakes sg.
 */
void chanrecvfrom(struct gort_chan *c, struct sudog *sg, void *ep)
{
	if (c->dataqsiz == 0) {
		elemcopy(c, ep, sg->elem);
	} else {
		void *qp = chanbuf(c, c->recvx);
		elemcopy(c, ep, qp);
		elemcopy(c, qp, sg->elem);
		if (++c->recvx == c->dataqsiz)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	sg->success = true;
	sg->c = c;
}

/* Puts ep in c's buffer, which has room.  c->lock held. */
void chanbufsend(struct gort_chan *c, const void *ep)
{
	elemcopy(c, chanbuf(c, c->sendx), ep);
	if (++c->sendx == c->dataqsiz)
		c->sendx = 0;
	c->qcount++;
}

/* Takes the oldest value of c's buffer, which has one, into ep.  c->lock held. */
void chanbufrecv(struct gort_chan *c, void *ep)
{
	elemcopy(c, ep, chanbuf(c, c->recvx));
	if (++c->recvx == c->dataqsiz)
		c->recvx = 0;
	c->qcount--;
}

static _Noreturn void sendclosed(struct gort_chan *c)
{
	unlock(&c->lock);
	gort_panic("send on closed channel");
}

/* Go's chansend: false only if !block and it would have blocked. */
static bool chansend(struct gort_chan *c, const void *ep, bool block)
{
	if (c == NULL) {
		if (!block)
			return false;
		blockforever(waitReasonChanSendNilChan);
	}
	if (ep == NULL && c->elemsize > 0)
		throw("channel send of a NULL element");
	lock(&c->lock);
	if (c->closed)
		sendclosed(c);
	struct sudog *sg = waitqdequeue(&c->recvq);
	if (sg != NULL) {
		chansendto(c, sg, ep);
		unlock(&c->lock);
		waiterready(sg);
		return true;
	}
	if (c->qcount < c->dataqsiz) {
		chanbufsend(c, ep);
		unlock(&c->lock);
		return true;
	}
	if (!block) {
		unlock(&c->lock);
		return false;
	}
	struct sudog mysg;
	waiterinit(&mysg, (void *)ep, c);
	waitqenqueue(&c->sendq, &mysg);
	waiterpark(&mysg, &c->lock, waitReasonChanSend);
	if (!mysg.success)
		gort_panic("send on closed channel");
	return true;
}

/* Go's chanrecv: 1 received, 0 closed and drained (ep zeroed), -1 would block (only if !block). */
static int chanrecv(struct gort_chan *c, void *ep, bool block)
{
	if (c == NULL) {
		if (!block)
			return -1;
		blockforever(waitReasonChanReceiveNilChan);
	}
	lock(&c->lock);
	if (c->closed && c->qcount == 0) {
		unlock(&c->lock);
		elemzero(c, ep);
		return 0;
	}
	struct sudog *sg = waitqdequeue(&c->sendq);
	if (sg != NULL) {
		chanrecvfrom(c, sg, ep);
		unlock(&c->lock);
		waiterready(sg);
		return 1;
	}
	if (c->qcount > 0) {
		chanbufrecv(c, ep);
		unlock(&c->lock);
		return 1;
	}
	if (!block) {
		unlock(&c->lock);
		return -1;
	}
	struct sudog mysg;
	waiterinit(&mysg, ep, c);
	waitqenqueue(&c->recvq, &mysg);
	waiterpark(&mysg, &c->lock, waitReasonChanReceive);
	return mysg.success ? 1 : 0;
}

void gort_chan_send(gort_chan *c, const void *elem)
{
	preemptcheck();
	chansend(c, elem, true);
}

bool gort_chan_recv(gort_chan *c, void *elem)
{
	preemptcheck();
	return chanrecv(c, elem, true) == 1;
}

bool gort_chan_trysend(gort_chan *c, const void *elem)
{
	preemptcheck();
	return chansend(c, elem, false);
}

int gort_chan_tryrecv(gort_chan *c, void *elem)
{
	preemptcheck();
	return chanrecv(c, elem, false);
}

void gort_chan_close(gort_chan *c)
{
	if (c == NULL)
		gort_panic("close of nil channel");
	lock(&c->lock);
	if (c->closed) {
		unlock(&c->lock);
		gort_panic("close of closed channel");
	}
	c->closed = 1;
	/* Gather every waiter under the lock, wake them after it. */
	struct sudog *wake = NULL, *sg;
	while ((sg = waitqdequeue(&c->recvq)) != NULL) {
		elemzero(c, sg->elem);
		sg->success = false;
		sg->c = c;
		sg->next = wake;
		wake = sg;
	}
	while ((sg = waitqdequeue(&c->sendq)) != NULL) {
		sg->success = false;
		sg->c = c;
		sg->next = wake;
		wake = sg;
	}
	unlock(&c->lock);
	while ((sg = wake) != NULL) {
		wake = sg->next;
		waiterready(sg);
	}
}

size_t gort_chan_len(gort_chan *c)
{
	if (c == NULL)
		return 0;
	lock(&c->lock);
	size_t n = c->qcount;
	unlock(&c->lock);
	return n;
}

size_t gort_chan_cap(gort_chan *c)
{
	return c == NULL ? 0 : c->dataqsiz;
}
