/*
 * The network poller (Go's netpoll.go and netpoll_epoll.go) and the
 * descriptor calls built on it (Go's internal/poll).
 *
 * One epoll instance serves the process.  A descriptor joins it on first
 * use, edge-triggered for reading and writing at once, and stays in it
 * until gort_close.  Its state is a pollDesc, found by descriptor number
 * in a table that only grows: a pollDesc is never freed, so a stale epoll
 * event or deadline timer may always look at one; each registration gets a
 * new sequence number (fdseq, carried in the epoll event), and events of
 * an earlier registration are dropped.
 *
 * Waiting (Go's pollDesc.rg/wg).  Each direction has one slot that holds
 * 0, pdReady (readiness came and nobody consumed it), pdWait (a goroutine
 * is about to park) or the parked G.  A goroutine that got EAGAIN moves
 * the slot 0 -> pdWait, then parks; its commit (on g0, once it is
 * Gwaiting) moves pdWait -> G.  A notification moves the slot to pdReady
 * and wakes whatever G it replaced; when it lands between EAGAIN and the
 * commit, the commit fails and the goroutine resumes at once, so readiness
 * is never lost and a G is readied by exactly the party whose CAS took it.
 * Close and deadlines are notifications without readiness (slot -> 0): the
 * woken call sees why in netpollcheckerr.
 *
 * Who polls.  findrunnable polls without blocking before it steals; an M
 * with nothing to do blocks in epoll_wait until the next timer, one at a
 * time (sched.lastpoll is 0 while one does), but only while goroutines
 * wait on descriptors (netpollwaiters): otherwise it sleeps as before, so
 * deadlock detection still sees every M idle.  An M blocked in epoll is
 * not idle, which is why a goroutine waiting on the network is never
 * reported as deadlocked, as in Go.  An eventfd breaks the wait when a
 * timer is armed earlier than it.  sysmon polls when nobody has for 10 ms.
 *
 * Closing (Go's fdMutex, simplified).  Every call holds a reference on
 * the pollDesc while it uses the descriptor number; gort_close marks it
 * closing (new calls fail with EBADF), wakes the waiters, waits for the
 * references to drain and only then closes the number, which the kernel
 * may hand out again at once: a call in flight never reads a stranger's
 * descriptor.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	pdReady = 1,
	pdWait = 2,
};

/* pollDesc.state: OPEN while registered, CLOSING once gort_close began, references above */
enum {
	FD_OPEN = 1,
	FD_CLOSING = 2,
	FD_REF = 4,
};

struct pollDesc {
	mutex lock;               /* registration, deadlines, close */
	_Atomic uint64_t state;
	_Atomic uintptr_t rg, wg;
	_Atomic uint32_t fdseq;   /* the registration epoll events must match */
	int fd;
	bool pollable;            /* in epoll; else calls block as system calls */
	bool sock;                /* a socket: written with MSG_NOSIGNAL */
	bool tcp;                 /* a TCP socket: a short read empties it */
	bool drained;             /* the last gort_read emptied it (rmu held) */
	_Atomic bool hangup;      /* epoll reported its end, an error or urgent data */
	_Atomic int64_t rd, wd;   /* deadlines: 0 none, -1 passed */
	struct timer rt, wt;
	_Atomic int32_t pollboth; /* gort_poll_fd waits for either direction on rg */
	gort_mutex rmu, wmu;      /* one call at a time per direction, as Go's fdMutex */
	uint32_t closesema;       /* gort_close waits here for the references */
};

#define PDCHUNK 256
#define PDCHUNKS 16384         /* descriptors below 4M */
#define NETPOLL_EVENTS 128
#define BREAK_KEY UINT64_MAX

static _Atomic(struct pollDesc *) pdtab[PDCHUNKS];
static mutex pdtablock;
static int epfd = -1;
static int breakfd = -1;
static _Atomic bool netpollinited_;
static _Atomic uint32_t netpollwakesig; /* a break is on its way */
_Atomic int32_t netpollwaiters;

bool netpollinited(void)
{
	return load_acquire(&netpollinited_);
}

static void netpollinit(void)
{
	lock(&pdtablock);
	if (!load_relaxed(&netpollinited_)) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		breakfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (epfd < 0 || breakfd < 0)
			throw("netpollinit: cannot create epoll or eventfd");
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BREAK_KEY};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, breakfd, &ev) != 0)
			throw("netpollinit: epoll_ctl failed");
		store_relaxed(&sched.lastpoll, nanotime());
		store_release(&netpollinited_, true);
	}
	unlock(&pdtablock);
}

/* fd's pollDesc, made on first sight; NULL for a number out of range. */
static struct pollDesc *pdlookup(int fd)
{
	if (fd < 0 || fd >= PDCHUNK * PDCHUNKS)
		return NULL;
	_Atomic(struct pollDesc *) *slot = &pdtab[fd / PDCHUNK];
	struct pollDesc *chunk = load_acquire(slot);
	if (chunk == NULL) {
		lock(&pdtablock);
		chunk = load_relaxed(slot);
		if (chunk == NULL) {
			chunk = calloc(PDCHUNK, sizeof *chunk);
			if (chunk == NULL)
				throw("out of memory allocating poll descriptors");
			store_release(slot, chunk);
		}
		unlock(&pdtablock);
	}
	return &chunk[fd % PDCHUNK];
}

/* ------------------------------------------------------------ waiting */

static _Atomic uintptr_t *pdslot(struct pollDesc *pd, int mode)
{
	return mode == 'r' ? &pd->rg : &pd->wg;
}

/* Why a call on pd cannot go on: EBADF once closing, ETIMEDOUT past its deadline; else 0. */
static int netpollcheckerr(struct pollDesc *pd, int mode, bool deadlines)
{
	if (load_acquire(&pd->state) & FD_CLOSING)
		return EBADF;
	if (deadlines && load_acquire(mode == 'r' ? &pd->rd : &pd->wd) < 0)
		return ETIMEDOUT;
	return 0;
}

/* One goroutine's wait in a slot, bounded by a timer of its own when t.when is set. */
struct pollwait {
	struct pollDesc *pd;
	int mode;
	struct timer t;
};

/*
 * park_m's unlock function.  w lives on gp's stack: once the CAS has
 * published gp, a notifier may ready it and its next wait reuse w, so the
 * timer is armed before.  A timer that fires first finds pdWait and clears
 * it; then the CAS fails and gp goes on at once, to disarm the timer.
 */
static bool netpollblockcommit(struct g *gp, void *arg)
{
	struct pollwait *w = arg;
	if (w->t.when != 0)
		addtimer(&w->t, w->t.when);
	uintptr_t wait = pdWait;
	if (!atomic_compare_exchange_strong(pdslot(w->pd, w->mode), &wait, (uintptr_t)gp))
		return false;
	atomic_fetch_add(&netpollwaiters, 1);
	return true;
}

/*
 * Notifies pd's mode waiter: with ioready, readiness is recorded for the
 * next call if nobody waits.  Returns the parked G this took, to be readied.
 */
static struct g *netpollunblock(struct pollDesc *pd, int mode, bool ioready)
{
	_Atomic uintptr_t *gpp = pdslot(pd, mode);
	for (;;) {
		uintptr_t old = load_acquire(gpp);
		if (old == pdReady)
			return NULL;
		if (old == 0 && !ioready)
			return NULL;
		if (atomic_compare_exchange_strong(gpp, &old, ioready ? pdReady : 0)) {
			if (old == pdWait)
				return NULL;
			if (old != 0)
				atomic_fetch_sub(&netpollwaiters, 1);
			return (struct g *)old;
		}
	}
}

static void netpollgoready(struct g *gp)
{
	if (gp != NULL)
		goready(gp);
}

static void netpollexpire(void *arg)
{
	struct pollwait *w = arg;
	netpollgoready(netpollunblock(w->pd, w->mode, false));
}

/*
 * Parks until pd is ready for mode (true), or until a close, a deadline
 * (with deadlines) or until (non-zero) woke it (false).
 */
static bool netpollblock(struct pollDesc *pd, int mode, int64_t until, bool deadlines)
{
	_Atomic uintptr_t *gpp = pdslot(pd, mode);
	for (;;) {
		uintptr_t old = load_acquire(gpp);
		if (old == pdReady) {
			if (atomic_compare_exchange_strong(gpp, &old, 0))
				return true;
			continue;
		}
		if (old != 0)
			throw("netpollblock: double wait");
		if (atomic_compare_exchange_strong(gpp, &old, pdWait))
			break;
	}
	struct pollwait w = {.pd = pd, .mode = mode, .t = {.when = until, .f = netpollexpire, .arg = &w}};
	/* a close or deadline that came before pdWait was set woke nobody: look again */
	if (netpollcheckerr(pd, mode, deadlines) == 0 && (until == 0 || nanotime() < until))
		gopark(netpollblockcommit, &w, waitReasonIOWait);
	if (until != 0) {
		deltimer(&w.t);
		timerwait(&w.t);
	}
	uintptr_t old = atomic_exchange(gpp, 0);
	if (old > pdWait)
		throw("netpollblock: corrupted state");
	return old == pdReady;
}

static bool ongoroutine(void)
{
	struct g *gp = getg();
	return gp != NULL && gp != gp->m->g0;
}

/* poll(2) on one descriptor; ms as poll's: -1 none, 0 a look. */
static int pollone(int fd, int events, int ms)
{
	struct pollfd p = {.fd = fd, .events = (short)events};
	int n = poll(&p, 1, ms);
	return n <= 0 ? n : p.revents;
}

/* poll(2) for a thread that is not a goroutine: until is absolute, 0 for none. */
static int threadpoll(int fd, int events, int64_t until)
{
	int ms = -1;
	if (until != 0) {
		int64_t left = until - nanotime();
		ms = left <= 0 ? 0 : left / 1000000 >= INT32_MAX ? INT32_MAX : (int)((left + 999999) / 1000000);
	}
	return pollone(fd, events, ms);
}

/*
 * Waits until pd is ready for mode: 0, or the errno of a close or deadline.
 * On a thread that is not a goroutine, poll(2) waits instead, bounded by
 * the deadline as it stands when the wait starts.
 */
static int netpollwait(struct pollDesc *pd, int mode)
{
	int err;
	if (!ongoroutine()) {
		if ((err = netpollcheckerr(pd, mode, true)) != 0)
			return err;
		int64_t d = load_relaxed(mode == 'r' ? &pd->rd : &pd->wd);
		if (threadpoll(pd->fd, mode == 'r' ? POLLIN : POLLOUT, d) == 0 && d > 0)
			return ETIMEDOUT;
		return netpollcheckerr(pd, mode, true);
	}
	while (!netpollblock(pd, mode, 0, true))
		if ((err = netpollcheckerr(pd, mode, true)) != 0)
			return err;
	return 0;
}

/* ----------------------------------------------------------- epoll */

/* Wakes the M blocked in epoll_wait, if one is. */
void netpollbreak(void)
{
	uint32_t zero = 0;
	if (!atomic_compare_exchange_strong(&netpollwakesig, &zero, 1))
		return;
	uint64_t one = 1;
	while (write(breakfd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

/*
 * Polls for ready descriptors, waiting up to delay ns (0: not at all,
 * negative: until something happens).  Returns the Gs to wake, linked
 * through schedlink and still Gwaiting: the caller makes them runnable.
 */
struct g *netpoll(int64_t delay, int32_t *n)
{
	*n = 0;
	if (!netpollinited())
		return NULL;
	struct epoll_event events[NETPOLL_EVENTS];
	struct timespec ts, *tp = NULL;
	if (delay >= 0) {
		ts.tv_sec = delay / 1000000000;
		ts.tv_nsec = delay % 1000000000;
		tp = &ts;
	}
	int nev;
	for (;;) {
		nev = epoll_pwait2(epfd, events, NETPOLL_EVENTS, tp, NULL);
		if (nev >= 0)
			break;
		if (errno != EINTR)
			throw("netpoll: epoll_wait failed");
		if (delay > 0)
			return NULL; /* the caller looks at timers and comes back */
	}
	struct g *head = NULL, *tail = NULL;
	for (int i = 0; i < nev; i++) {
		uint64_t key = events[i].data.u64;
		if (key == BREAK_KEY) {
			uint64_t v;
			if (read(breakfd, &v, sizeof v) < 0 && errno != EAGAIN)
				throw("netpoll: eventfd read failed");
			store_release(&netpollwakesig, 0);
			continue;
		}
		struct pollDesc *pd = pdlookup((int)(uint32_t)key);
		if (pd == NULL || load_acquire(&pd->fdseq) != (uint32_t)(key >> 32))
			continue;
		uint32_t e = events[i].events;
		struct g *ready[2] = {NULL, NULL};
		if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI))
			store_release(&pd->hangup, true);
		if ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)) ||
		    ((e & EPOLLOUT) && load_relaxed(&pd->pollboth) != 0))
			ready[0] = netpollunblock(pd, 'r', true);
		if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			ready[1] = netpollunblock(pd, 'w', true);
		for (int k = 0; k < 2; k++) {
			if (ready[k] == NULL)
				continue;
			ready[k]->schedlink = NULL;
			if (tail != NULL)
				tail->schedlink = ready[k];
			else
				head = ready[k];
			tail = ready[k];
			(*n)++;
		}
	}
	return head;
}

/* ------------------------------------------------------------ descriptors */

/*
 * Takes a reference on fd's pollDesc, registering fd first if this is its
 * first use; NULL with errno set (EBADF for a closed or closing fd).
 */
static struct pollDesc *fdacquire(int fd)
{
	struct pollDesc *pd = pdlookup(fd);
	if (pd == NULL) {
		errno = EBADF;
		return NULL;
	}
	uint64_t s = load_acquire(&pd->state);
	for (;;) {
		if (!(s & FD_OPEN)) {
			lock(&pd->lock);
			s = load_relaxed(&pd->state);
			if (!(s & FD_OPEN)) {
				int err = 0;
				if (fcntl(fd, F_GETFD) < 0) {
					err = errno;
				} else {
					if (!netpollinited())
						netpollinit();
					uint32_t seq = load_relaxed(&pd->fdseq) + 1;
					struct epoll_event ev = {
						.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
						.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)seq << 32,
					};
					pd->fd = fd;
					store_release(&pd->fdseq, seq);
					store_relaxed(&pd->rg, 0);
					store_relaxed(&pd->wg, 0);
					store_relaxed(&pd->rd, 0);
					store_relaxed(&pd->wd, 0);
					int type;
					socklen_t len = sizeof type;
					pd->sock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
					int proto;
					len = sizeof proto;
					pd->tcp = pd->sock && type == SOCK_STREAM &&
						  getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
						  proto == IPPROTO_TCP;
					pd->drained = false;
					store_relaxed(&pd->hangup, false);
					pd->pollable = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
					int fl;
					if (!pd->pollable && errno != EPERM)
						err = errno;
					else if (pd->pollable && ((fl = fcntl(fd, F_GETFL)) < 0 ||
								  fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
						err = errno;
				}
				if (err != 0) {
					unlock(&pd->lock);
					errno = err;
					return NULL;
				}
				store_release(&pd->state, FD_OPEN);
				s = FD_OPEN;
			}
			unlock(&pd->lock);
		}
		if (s & FD_CLOSING) {
			errno = EBADF;
			return NULL;
		}
		if (atomic_compare_exchange_weak(&pd->state, &s, s + FD_REF))
			return pd;
	}
}

static void fdrelease(struct pollDesc *pd)
{
	uint64_t s = atomic_fetch_sub(&pd->state, FD_REF);
	if ((s & FD_CLOSING) && s / FD_REF == 1)
		semrelease(&pd->closesema, false);
}

/* A deadline's timer: expire it, if it has come (a stale timer finds a later one, or none). */
static void netpolldeadline(struct pollDesc *pd, int mode)
{
	_Atomic int64_t *d = mode == 'r' ? &pd->rd : &pd->wd;
	lock(&pd->lock);
	int64_t when = load_relaxed(d);
	struct g *gp = NULL;
	if (when > 0 && when <= nanotime()) {
		store_release(d, -1);
		gp = netpollunblock(pd, mode, false);
	}
	unlock(&pd->lock);
	netpollgoready(gp);
}

static void netpollreaddeadline(void *arg)
{
	netpolldeadline(arg, 'r');
}

static void netpollwritedeadline(void *arg)
{
	netpolldeadline(arg, 'w');
}

/* Sets one deadline, pd->lock held; returns the G a passed deadline woke. */
static struct g *setdeadline(struct pollDesc *pd, int mode, int64_t when)
{
	_Atomic int64_t *d = mode == 'r' ? &pd->rd : &pd->wd;
	struct timer *t = mode == 'r' ? &pd->rt : &pd->wt;
	deltimer(t);
	if (when != 0 && when <= nanotime()) {
		store_release(d, -1);
		return netpollunblock(pd, mode, false);
	}
	store_release(d, when);
	if (when != 0) {
		t->f = mode == 'r' ? netpollreaddeadline : netpollwritedeadline;
		t->arg = pd;
		addtimer(t, when);
	}
	return NULL;
}

int gort_set_deadline(int fd, int64_t read_deadline_ns, int64_t write_deadline_ns)
{
	struct pollDesc *pd = fdacquire(fd);
	if (pd == NULL)
		return -1;
	lock(&pd->lock);
	struct g *r = setdeadline(pd, 'r', read_deadline_ns);
	struct g *w = setdeadline(pd, 'w', write_deadline_ns);
	unlock(&pd->lock);
	netpollgoready(r);
	netpollgoready(w);
	fdrelease(pd);
	return 0;
}

int gort_close(int fd)
{
	struct pollDesc *pd = pdlookup(fd);
	if (pd == NULL)
		return close(fd);
	lock(&pd->lock);
	uint64_t s = load_relaxed(&pd->state);
	if (!(s & FD_OPEN)) {
		/* never used through gort: an ordinary close */
		unlock(&pd->lock);
		return close(fd);
	}
	if (s & FD_CLOSING) {
		unlock(&pd->lock);
		errno = EBADF;
		return -1;
	}
	s = atomic_fetch_or(&pd->state, FD_CLOSING);
	deltimer(&pd->rt);
	deltimer(&pd->wt);
	struct g *r = netpollunblock(pd, 'r', false);
	struct g *w = netpollunblock(pd, 'w', false);
	unlock(&pd->lock);
	netpollgoready(r);
	netpollgoready(w);
	if (s / FD_REF > 0)
		semacquire(&pd->closesema, false, waitReasonIOWait);
	if (pd->pollable)
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	/* the number is free once it is closed: the pollDesc is reset first */
	lock(&pd->lock);
	store_release(&pd->state, 0);
	unlock(&pd->lock);
	return close(fd);
}

/* ------------------------------------------------------------ I/O */

/* One system call's arguments; op makes the call. */
struct iocall {
	ssize_t (*op)(int fd, struct iocall *c);
	struct pollDesc *pd;
	char *buf;
	size_t n;
	int flags;
	struct sockaddr *addr;
	socklen_t *addrlen;
	socklen_t alen;
};

static ssize_t opread(int fd, struct iocall *c)
{
	return read(fd, c->buf, c->n);
}

/* A socket whose peer has gone fails with EPIPE, and no SIGPIPE, as Go's writes do. */
static ssize_t opwrite(int fd, struct iocall *c)
{
	return c->pd->sock ? send(fd, c->buf, c->n, MSG_NOSIGNAL) : write(fd, c->buf, c->n);
}

static ssize_t oprecvfrom(int fd, struct iocall *c)
{
	return recvfrom(fd, c->buf, c->n, c->flags, c->addr, c->addrlen);
}

static ssize_t opsendto(int fd, struct iocall *c)
{
	return sendto(fd, c->buf, c->n, c->flags | MSG_NOSIGNAL, c->addr, c->alen);
}

static ssize_t opaccept(int fd, struct iocall *c)
{
	return accept4(fd, c->addr, c->addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/*
 * Makes c's call on fd until it does not fail with EAGAIN, waiting for
 * mode readiness in between, one call per direction at a time.  With all,
 * a partial transfer goes on with the rest (Go's Write).  A descriptor
 * epoll cannot watch (a regular file) is used with a blocking call, made
 * as a system call so that its P serves others meanwhile.
 */
static ssize_t fdio(int fd, int mode, struct iocall *c, bool all)
{
	struct pollDesc *pd = fdacquire(fd);
	if (pd == NULL)
		return -1;
	c->pd = pd;
	gort_mutex *mu = mode == 'r' ? &pd->rmu : &pd->wmu;
	gort_mutex_lock(mu); /* a scheduling point (preemptcheck) */
	ssize_t res = -1, done = 0;
	int err;
	/*
	 * A TCP socket that the last read emptied (it returned less than
	 * asked: the kernel copies until its queue is empty) has had data
	 * since only if epoll has reported it since (edge-triggered: every
	 * arrival queues a report): unless the slot holds one, the read would
	 * fail with EAGAIN, and the goroutine waits at once.  That saves a
	 * system call per request in a server.  A read also stops short at
	 * the end of the stream, an error or urgent data, all of which epoll
	 * reports once, perhaps before that read: once it has, reads always
	 * go first.
	 */
	bool wait = c->op == opread && pd->drained && load_acquire(&pd->rg) != pdReady &&
		    !load_relaxed(&pd->hangup);
	for (;;) {
		if ((err = netpollcheckerr(pd, mode, true)) != 0)
			break;
		if (wait) {
			wait = false;
			if ((err = netpollwait(pd, mode)) != 0)
				break;
		}
		if (pd->pollable) {
			res = c->op(fd, c);
		} else {
			gort_syscall_enter();
			res = c->op(fd, c);
			err = errno;
			gort_syscall_exit();
			errno = err;
		}
		err = 0;
		if (c->op == opread)
			pd->drained = pd->tcp && res > 0 && (size_t)res < c->n;
		if (res >= 0) {
			if (!all)
				break;
			done += res;
			c->buf += res;
			c->n -= (size_t)res;
			if (c->n == 0) {
				res = done;
				break;
			}
			continue;
		}
		err = errno;
		if (err == EINTR)
			continue;
		if (err != EAGAIN || !pd->pollable)
			break;
		if ((err = netpollwait(pd, mode)) != 0)
			break;
	}
	gort_mutex_unlock(mu);
	fdrelease(pd);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return res;
}

ssize_t gort_read(int fd, void *buf, size_t n)
{
	struct iocall c = {.op = opread, .buf = buf, .n = n};
	return fdio(fd, 'r', &c, false);
}

ssize_t gort_write(int fd, const void *buf, size_t n)
{
	struct iocall c = {.op = opwrite, .buf = (char *)buf, .n = n};
	return n == 0 ? fdio(fd, 'w', &c, false) : fdio(fd, 'w', &c, true);
}

ssize_t gort_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
		      socklen_t *addrlen)
{
	struct iocall c = {.op = oprecvfrom, .buf = buf, .n = n, .flags = flags, .addr = addr, .addrlen = addrlen};
	return fdio(fd, 'r', &c, false);
}

ssize_t gort_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
		    socklen_t addrlen)
{
	struct iocall c = {.op = opsendto, .buf = (char *)buf, .n = n, .flags = flags,
			   .addr = (struct sockaddr *)addr, .alen = addrlen};
	return fdio(fd, 'w', &c, false);
}

int gort_accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct iocall c = {.op = opaccept, .addr = addr, .addrlen = addrlen};
	int fd = (int)fdio(listen_fd, 'r', &c, false);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* Go's default; fails harmlessly off TCP */
	struct pollDesc *pd = fdacquire(fd);
	if (pd == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	fdrelease(pd);
	return fd;
}

int gort_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct pollDesc *pd = fdacquire(fd);
	if (pd == NULL)
		return -1;
	gort_mutex_lock(&pd->wmu);
	int err = 0;
	if (connect(fd, addr, addrlen) != 0)
		err = errno;
	/* in progress: writable once it is made or has failed (Go's netFD.connect) */
	while (err == EINPROGRESS || err == EALREADY || err == EINTR) {
		if ((err = netpollwait(pd, 'w')) != 0)
			break;
		socklen_t len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		else if (err == 0 && pd->pollable) {
			struct sockaddr_storage peer;
			len = sizeof peer;
			if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
				err = EINPROGRESS; /* a spurious wakeup: not connected yet */
		}
	}
	gort_mutex_unlock(&pd->wmu);
	fdrelease(pd);
	errno = err;
	return err == 0 ? 0 : -1;
}

/* getaddrinfo as a blocking system call; its error as an errno. */
static int resolve(const char *host, const char *port, bool passive, struct addrinfo **res)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG};
	gort_syscall_enter();
	int rc = getaddrinfo(host, port, &hints, res);
	int err = errno;
	gort_syscall_exit();
	if (rc == 0)
		return 0;
	if (rc == EAI_SYSTEM)
		return err;
	if (rc == EAI_MEMORY)
		return ENOMEM;
	return passive ? EADDRNOTAVAIL : EHOSTUNREACH;
}

static int tcpsocket(const struct addrinfo *ai)
{
	return socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
}

int gort_listen_tcp(const char *host, const char *port, int backlog)
{
	struct addrinfo *res;
	int err = resolve(host, port, true, &res), fd = -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	/* an IPv6 wildcard takes IPv4 too: prefer it, as Go's ":port" does */
	const struct addrinfo *pick = res;
	for (const struct addrinfo *ai = res; ai != NULL && host == NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET6)
			pick = ai;
	const struct addrinfo *order[2] = {pick, res != pick ? res : NULL};
	for (int i = 0; i < 2 && order[i] != NULL; i++) {
		const struct addrinfo *ai = order[i];
		int one = 1;
		if ((fd = tcpsocket(ai)) < 0) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = err;
	return fd;
}

int gort_dial_tcp(const char *host, const char *port, int64_t deadline_ns)
{
	struct addrinfo *res;
	int err = resolve(host, port, false, &res), fd = -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (deadline_ns != 0 && nanotime() >= deadline_ns) {
			err = ETIMEDOUT;
			break;
		}
		if ((fd = tcpsocket(ai)) < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* Go's default */
		if (gort_set_deadline(fd, 0, deadline_ns) == 0 && gort_connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    gort_set_deadline(fd, 0, 0) == 0)
			break;
		err = errno;
		gort_close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = err;
	return fd;
}

int gort_poll_fd(int fd, int events, int64_t deadline_ns)
{
	struct pollDesc *pd = fdacquire(fd);
	if (pd == NULL)
		return -1;
	events &= POLLIN | POLLOUT;
	/* both directions: the wait is on rg, which write readiness then wakes too */
	int mode = events & POLLIN ? 'r' : 'w';
	bool both = events == (POLLIN | POLLOUT);
	gort_mutex *mu = mode == 'r' ? &pd->rmu : &pd->wmu;
	gort_mutex_lock(mu);
	if (both)
		atomic_fetch_add(&pd->pollboth, 1);
	int ready, err = 0;
	for (;;) {
		if ((ready = pollone(fd, events, 0)) != 0 || events == 0)
			break;
		if (!ongoroutine() || !pd->pollable) {
			ready = threadpoll(fd, events, deadline_ns);
			break;
		}
		if (deadline_ns != 0 && nanotime() >= deadline_ns)
			break;
		netpollblock(pd, mode, deadline_ns, false);
		if ((err = netpollcheckerr(pd, mode, false)) != 0)
			break;
	}
	if (both)
		atomic_fetch_sub(&pd->pollboth, 1);
	gort_mutex_unlock(mu);
	fdrelease(pd);
	if (ready < 0 || err != 0) {
		errno = err != 0 ? err : errno;
		return -1;
	}
	return ready;
}
