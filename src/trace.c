/*
 * The execution tracer (Go's trace.go).  It writes Go 1.19's trace format
 * ("go 1.19 trace", version 1019), so that Go's own viewer, `go tool
 * trace`, opens the trace of a gort program.
 *
 * Buffers.  Each P has a buffer that only its owner writes: an event costs
 * no lock, only a clock read and a few varints.  Events of a thread with
 * no P (a thread the runtime does not own, the boot in gort_main) go to a
 * global buffer under trace.lock, which the format calls P -1.  A full
 * buffer is written out by its writer, under trace.lock, as one batch: an
 * EvBatch naming the P and the time, then events stamped with the time
 * since the one before.
 *
 * Clock.  The CPU's time stamp counter where it is invariant (the same on
 * every CPU, as Go's cputicks), else CLOCK_MONOTONIC nanoseconds; either
 * way its reads are ordered (cputicks), and its frequency is measured
 * against nanotime between the trace's start and end.  The counter costs
 * half what the vDSO's clock does on a virtual machine, and a trace reads
 * it at every event.  Every event is written before the action that lets
 * another thread see its effect (GoCreate and GoUnblock before the G is
 * queued, a block event before the unlock that lets a waker in), so
 * ordering the events by time agrees with what caused what, which is how
 * the viewer merges the Ps' batches.  Within a batch times strictly
 * increase: an event stamped no later than the one before it gets that
 * one's time plus one.
 *
 * Start.  gort_trace_start stops the world and writes a snapshot: a
 * GoCreate for every live goroutine, a GoWaiting for each parked one, then
 * ProcStart and GoStart for the caller; restarting the world writes
 * Gomaxprocs, which ends the snapshot for newer viewers.  Threads the
 * runtime does not own make their goroutines' transitions under sched.lock
 * (goready, newproc1), and the snapshot holds it: it sees each whole.
 *
 * Stop, and the end of a program.  Stopping cuts the trace without
 * stopping the world, so that it can run anywhere: at gort_main's return,
 * at exit, in a crash report.  A writer marks its P's buffer busy
 * (tracewriting) before it looks at trace_enabled; the stopper clears
 * trace_enabled, runs a barrier on every CPU (membarrier, as the locks do:
 * lock_futex.c), and waits until no buffer is busy.  From then on no event
 * is written, and the events written are closed under cause: each was
 * written before its effect could be seen, so whatever saw the effect
 * wrote later.  A P still running a goroutine gets a GoPreempt (GoSched
 * for the caller), as stopping the world would give it in Go: the viewer
 * needs every running slice ended.  Then come the buffers, the frequency,
 * and the string and stack tables.
 *
 * Stacks are return addresses from libunwind, interned in a hash table
 * that is read without a lock, for a goroutine's events only, and known
 * again by their shape without unwinding (tracestack).  A yield's event
 * is written on g0, with the stack read where mcall left the goroutine
 * (tracestackof): gort_yield itself tests no flag.  Stacks are
 * symbolized when the trace stops, with the frames a traceback would
 * show.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* Go 1.19's event types (runtime/trace.go); GC events have no use here. */
enum {
	traceEvBatch = 1,
	traceEvFrequency = 2,
	traceEvStack = 3,
	traceEvGomaxprocs = 4,
	traceEvProcStart = 5,
	traceEvProcStop = 6,
	traceEvGoCreate = 13,
	traceEvGoStart = 14,
	traceEvGoEnd = 15,
	traceEvGoStop = 16,
	traceEvGoSched = 17,
	traceEvGoPreempt = 18,
	traceEvGoSleep = 19,
	traceEvGoBlock = 20,
	traceEvGoUnblock = 21,
	traceEvGoBlockSend = 22,
	traceEvGoBlockRecv = 23,
	traceEvGoBlockSelect = 24,
	traceEvGoBlockSync = 25,
	traceEvGoBlockCond = 26,
	traceEvGoBlockNet = 27,
	traceEvGoSysCall = 28,
	traceEvGoSysExit = 29,
	traceEvGoSysBlock = 30,
	traceEvGoWaiting = 31,
	traceEvGoInSyscall = 32,
	traceEvString = 37,
	traceEvUserTaskCreate = 45,
	traceEvUserTaskEnd = 46,
	traceEvUserRegion = 47,
	traceEvUserLog = 48,
};

enum {
	TRACEBUF_SIZE = 64 << 10,
	TRACE_MAXSTACK = 32,      /* frames kept of a stack */
	TRACE_MAXLOG = 16 << 10,  /* bytes kept of a log message */
	TRACE_TABSIZE = 1 << 12,  /* buckets of the stack and string tables */
	TRACE_STOPWAIT_NS = 1000 * 1000 * 1000, /* how long a crash waits for a busy buffer */
};

enum { TRACE_OFF, TRACE_STARTING, TRACE_ON, TRACE_STOPPING };

struct tracebuf {
	size_t pos;
	int64_t lastticks;
	int64_t curg;   /* the goroutine running on the P, as the trace has it; 0: none */
	uint8_t data[TRACEBUF_SIZE];
};

/* An interned stack: its return addresses, innermost first. */
struct tracestack {
	struct tracestack *link;
	uint64_t hash;
	uint64_t id;
	bool entry;     /* a goroutine's entry function: shown whatever it is */
	int32_t n;
	uintptr_t pc[];
};

/*
 * A stack's shape: where its return addresses lie, as offsets from
 * tracestack's stack pointer, and what they were when it was unwound.
 */
struct traceshape {
	struct traceshape *link;
	uintptr_t depth; /* from tracestack's stack pointer up to the stack's top */
	uintptr_t top;   /* a frame above those on the stack (traceunwind), or 0 */
	uint64_t id;     /* the stack, interned */
	int32_t n;
	struct traceslot {
		uintptr_t off, pc;
	} slot[];
};

/* An interned string; ids of user strings and of symbols share one space. */
struct tracestring {
	struct tracestring *link;
	uint64_t hash;
	uint64_t id;
	size_t len;
	char s[];
};

_Atomic bool trace_enabled;
static bool tracetsc; /* the clock is the time stamp counter */

static struct {
	_Atomic uint32_t state;  /* TRACE_* */
	mutex lock;              /* the fd, the global buffer, err */
	int fd;
	bool ownfd;              /* GORT_TRACE's: closed when the trace ends */
	int err;                 /* the first write error */
	struct tracebuf *globbuf;
	int64_t ticksstart, nsstart; /* the clock at the start, for its frequency */
	mutex tablock;           /* inserts into the tables */
	_Atomic(struct tracestack *) stacks[TRACE_TABSIZE];
	_Atomic(struct traceshape *) shapes[TRACE_TABSIZE];
	uint64_t nstacks;
	struct tracestring *strings[TRACE_TABSIZE];
	uint64_t nstrings;
} trace;

static _Atomic uint64_t tasknext;

/* ------------------------------------------------------------ encoding */

static inline uint8_t *putvarint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Writes n bytes to the trace's fd; trace.lock held.  A failure is kept for gort_trace_stop. */
static void tracewriteout(const void *p, size_t n)
{
	while (n > 0 && trace.err == 0) {
		ssize_t w = write(trace.fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			trace.err = w < 0 ? errno : EIO;
			return;
		}
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
}

/* Writes out buf, the buffer of P pid, and empties it; trace.lock held for the global one. */
static void traceflush(struct tracebuf *buf, int64_t pid)
{
	if (pid >= 0)
		lock(&trace.lock);
	tracewriteout(buf->data, buf->pos);
	if (pid >= 0)
		unlock(&trace.lock);
	buf->pos = 0;
}

static inline int64_t traceticks(void)
{
	return tracetsc ? cputicks() : nanotime();
}

/* Whether an event ends the running slice of its P's goroutine. */
static bool traceslicend(uint8_t ev)
{
	return (ev >= traceEvGoEnd && ev <= traceEvGoBlock) ||
	       (ev >= traceEvGoBlockSend && ev <= traceEvGoBlockNet) || ev == traceEvGoSysBlock;
}

/*
 * Appends event ev, at time ticks, to buf, the buffer of P pid: the time
 * since the last event, then the n values (the stack id last, for the
 * events that have one), then for EvUserLog the string s.
 */
static void tracewriteat(struct tracebuf *buf, int64_t pid, int64_t ticks, uint8_t ev, const uint64_t *v, int n,
			 const char *s, size_t slen)
{
	if (buf->pos + 32 + 10 * (size_t)n + (s ? 10 + slen : 0) > TRACEBUF_SIZE)
		traceflush(buf, pid);
	uint8_t *p = buf->data + buf->pos;
	if (buf->pos == 0) {
		*p++ = traceEvBatch | 1 << 6;
		p = putvarint(p, (uint64_t)pid);
		p = putvarint(p, (uint64_t)ticks);
		buf->lastticks = ticks;
	}
	if (ticks <= buf->lastticks)
		ticks = buf->lastticks + 1;
	int k = n < 3 ? n : 3;
	*p++ = (uint8_t)(ev | k << 6);
	uint8_t *lenp = p;
	if (k == 3)
		p++; /* the length of the values, under 128 bytes */
	uint8_t *start = p;
	p = putvarint(p, (uint64_t)(ticks - buf->lastticks));
	for (int i = 0; i < n; i++)
		p = putvarint(p, v[i]);
	if (k == 3)
		*lenp = (uint8_t)(p - start);
	if (s != NULL) {
		p = putvarint(p, slen);
		memcpy(p, s, slen);
		p += slen;
	}
	buf->pos = (size_t)(p - buf->data);
	buf->lastticks = ticks;
	if (ev == traceEvGoStart)
		buf->curg = (int64_t)v[0];
	else if (traceslicend(ev))
		buf->curg = 0;
}

/* Appends event ev to buf, at the time now. */
static void tracewrite(struct tracebuf *buf, int64_t pid, uint8_t ev, const uint64_t *v, int n, const char *s,
		       size_t slen)
{
	tracewriteat(buf, pid, traceticks(), ev, v, n, s, slen);
}

static struct tracebuf *tracebufalloc(void)
{
	struct tracebuf *buf = malloc(sizeof *buf);
	if (buf == NULL)
		throw("out of memory allocating a trace buffer");
	buf->pos = 0;
	buf->curg = 0;
	return buf;
}

/*
 * The buffer for an event of the calling thread, and its P's id (-1: the
 * global buffer, trace.lock taken); NULL if no trace is being written.
 * The P's buffer is marked busy until tracerelease: see the top of the file.
 */
static struct tracebuf *traceacquire(int64_t *pid)
{
	struct g *gp = getg();
	struct p *pp = gp != NULL ? gp->m->p : NULL;
	if (pp == NULL) {
		lock(&trace.lock);
		if (!load_relaxed(&trace_enabled)) {
			unlock(&trace.lock);
			return NULL;
		}
		*pid = -1;
		return trace.globbuf;
	}
	store_relaxed(&pp->tracewriting, 1);
	if (membarrierok)
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	if (!load_relaxed(&trace_enabled)) {
		store_release(&pp->tracewriting, 0);
		return NULL;
	}
	if (pp->tracebuf == NULL)
		pp->tracebuf = tracebufalloc();
	*pid = pp->id;
	return pp->tracebuf;
}

static void tracerelease(int64_t pid)
{
	if (pid < 0)
		unlock(&trace.lock);
	else
		store_release(&getg()->m->p->tracewriting, 0);
}

/* Writes one event of the calling thread, if a trace is being written. */
static void traceevent(uint8_t ev, const uint64_t *v, int n)
{
	int64_t pid;
	struct tracebuf *buf = traceacquire(&pid);
	if (buf == NULL)
		return;
	tracewrite(buf, pid, ev, v, n, NULL, 0);
	tracerelease(pid);
}

/* -------------------------------------------------------------- tables */

static uint64_t tracehash(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3u;
	return h;
}

/* A stack's hash, a word at a time: every event of a goroutine but GoStart and GoEnd computes one. */
static uint64_t stackhash(const uintptr_t *pc, int n, bool entry)
{
	uint64_t h = 0x9e3779b97f4a7c15u + entry;
	for (int i = 0; i < n; i++)
		h = (h ^ pc[i]) * 0xff51afd7ed558ccdu;
	return h ^ h >> 32;
}

static uint64_t stackid(const uintptr_t *pc, int n, bool entry)
{
	uint64_t h = stackhash(pc, n, entry);
	_Atomic(struct tracestack *) *head = &trace.stacks[h & (TRACE_TABSIZE - 1)];
	for (int locked = 0; locked < 2; locked++) {
		for (struct tracestack *s = load_acquire(head); s != NULL; s = s->link)
			if (s->hash == h && s->n == n && s->entry == entry &&
			    memcmp(s->pc, pc, (size_t)n * sizeof pc[0]) == 0) {
				if (locked)
					unlock(&trace.tablock);
				return s->id;
			}
		if (!locked)
			lock(&trace.tablock);
	}
	struct tracestack *s = malloc(sizeof *s + (size_t)n * sizeof pc[0]);
	if (s == NULL)
		throw("out of memory tracing a stack");
	s->hash = h;
	s->id = ++trace.nstacks;
	s->entry = entry;
	s->n = n;
	memcpy(s->pc, pc, (size_t)n * sizeof pc[0]);
	s->link = load_relaxed(head);
	store_release(head, s);
	unlock(&trace.tablock);
	return s->id;
}

/* Whether the return addresses at s's offsets from sp are those it was made with: the stack is s's. */
static __attribute__((no_sanitize("address"))) bool shapematches(const struct traceshape *s, uintptr_t sp)
{
	for (int i = 0; i < s->n; i++)
		if (*(const uintptr_t *)(sp + s->slot[i].off) != s->slot[i].pc)
			return false;
	return true;
}

/*
 * Unwinds the stack above sp with libunwind, from here (saved NULL:
 * sp is tracestack's) or from where saved, a goroutine stopped in mcall,
 * will resume; interns it, below top if not 0 (the function that called
 * mcall with a jump, leaving no frame), and files its shape in *head,
 * unless a frame's place is not a plain return address on this stack (a
 * signal frame, an unwinding error).
 */
static __attribute__((noinline)) uint64_t traceunwind(struct g *saved, uintptr_t top, uintptr_t sp, uintptr_t hi,
						       _Atomic(struct traceshape *) *head)
{
	struct traceshape *s = malloc(sizeof *s + TRACE_MAXSTACK * sizeof s->slot[0]);
	if (s == NULL)
		throw("out of memory tracing a stack");
	uintptr_t pcs[TRACE_MAXSTACK], *pc = pcs + (top != 0);
	int n = 0, max = TRACE_MAXSTACK - (top != 0);
	pcs[0] = top;
	bool exact = true;
	unw_context_t uc;
	unw_cursor_t c;
	if (saved != NULL) {
		memset(&uc, 0, sizeof uc);
		gobufcontext(saved->sched.sp, &uc);
	} else {
		unw_getcontext(&uc);
	}
	if (unw_init_local(&c, &uc) < 0)
		exact = false;
	else
		do {
			unw_word_t ip, csp;
			unw_get_reg(&c, UNW_REG_IP, &ip);
			unw_get_reg(&c, UNW_REG_SP, &csp);
			if (unw_is_signal_frame(&c) > 0 || csp - 8 >= hi)
				exact = false;
			if (csp - 8 < sp)
				continue; /* traceunwind's own frames */
			s->slot[n].off = csp - 8 - sp; /* where the call that made the frame pushed ip */
			s->slot[n].pc = pc[n] = ip;
			n++;
		} while (n < max && unw_step(&c) > 0);
	uint64_t id = n > 0 ? stackid(pcs, n + (top != 0), false) : 0;
	if (!exact || n == 0) {
		free(s);
		return id;
	}
	s->depth = hi - sp;
	s->top = top;
	s->id = id;
	s->n = n;
	lock(&trace.tablock);
	s->link = load_relaxed(head);
	store_release(head, s);
	unlock(&trace.tablock);
	return id;
}

/* The stack above sp, up to hi, known by its shape or else unwound (traceunwind's saved and top); key tells apart its call site. */
static inline uint64_t shapestack(struct g *saved, uintptr_t top, uintptr_t sp, uintptr_t hi, uintptr_t key)
{
	uintptr_t depth = hi - sp;
	uint64_t h = ((depth ^ key) * 0x9e3779b97f4a7c15u) >> 32;
	_Atomic(struct traceshape *) *head = &trace.shapes[h & (TRACE_TABSIZE - 1)];
	for (struct traceshape *s = load_acquire(head); s != NULL; s = s->link)
		if (s->depth == depth && s->top == top && shapematches(s, sp))
			return s->id;
	return traceunwind(saved, top, sp, hi, head);
}

/*
 * The calling goroutine's stack, interned.  0 on g0, where the event
 * belongs to no goroutine's code, and on a thread the runtime does not
 * own, whose stack it knows nothing of.
 *
 * Unwinding is most of a traced event's cost (80 of 140 ns a traced
 * yield), and a goroutine's events mostly come from a few call sites, so
 * a stack is recognised by its shape instead: the distance from here to
 * the stack's top, and the return addresses where the last unwind of
 * that depth found them.  With every frame's size fixed by where it is
 * in its function, as compilers lay frames out, the first address that
 * matches locates the next truly, so a match is the same stack, read
 * live.  Frames that size themselves at run time (alloca) could fool it
 * only by differing in pairs that cancel out, and then also finding
 * stale return addresses of the right values where the next frames are
 * not.
 */
static __attribute__((noinline)) uint64_t tracestack(void)
{
	struct g *gp = getg();
	if (gp == NULL || gp == gp->m->g0)
		return 0;
	uintptr_t sp = getsp(), hi = gp->stack.hi;
	if (sp < gp->stack.lo || sp >= hi)
		return traceunwind(NULL, 0, sp, sp, NULL);
	return shapestack(NULL, 0, sp, hi, (uintptr_t)__builtin_return_address(0));
}

/*
 * gp's stack: the caller's, or, on g0, that of gp stopped in mcall, from
 * its innermost return address up, below top, the runtime function that
 * stopped it, if a jump to mcall left that function no frame: if mcall
 * returns into the program's code.  (Debug builds call mcall_asm from
 * mcall, and every frame stays.)
 */
static uint64_t tracestackof(struct g *gp, uintptr_t top)
{
	if (gp == getg())
		return tracestack();
	uintptr_t sp = gobufretaddr(gp->sched.sp), ret = *(const uintptr_t *)sp;
	if (runtimepc(ret))
		top = 0;
	return shapestack(gp, top, sp, gp->stack.hi, ret);
}

/* The one-frame stack that names a goroutine in the viewer: its entry function. */
static uint64_t entrystack(struct g *gp)
{
	uintptr_t pc = gostartpc(gp) + 1; /* a return address: symbolized at pc-1 */
	return stackid(&pc, 1, true);
}

/* The id of string s, interned; 0 for the empty string. */
static uint64_t tracestring(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	uint64_t h = tracehash(s, len, 0xcbf29ce484222325u);
	struct tracestring **head = &trace.strings[h & (TRACE_TABSIZE - 1)];
	lock(&trace.tablock);
	struct tracestring *t;
	for (t = *head; t != NULL; t = t->link)
		if (t->hash == h && t->len == len && memcmp(t->s, s, len) == 0)
			break;
	if (t == NULL) {
		t = malloc(sizeof *t + len);
		if (t == NULL)
			throw("out of memory tracing a string");
		t->hash = h;
		t->id = ++trace.nstrings;
		t->len = len;
		memcpy(t->s, s, len);
		t->link = *head;
		*head = t;
	}
	unlock(&trace.tablock);
	return t->id;
}

/* ------------------------------------------------------------- events */

void traceGoCreate(struct g *newg)
{
	int64_t pid;
	struct tracebuf *buf = traceacquire(&pid);
	if (buf == NULL)
		return;
	newg->traceseq = 0;
	uint64_t v[3] = {(uint64_t)newg->goid, entrystack(newg), tracestack()};
	tracewrite(buf, pid, traceEvGoCreate, v, 3, NULL, 0);
	tracerelease(pid);
}

/*
 * switched: the P has just stopped another goroutine, on the scheduler's
 * fast path, and the event that said so is the last in its buffer.  The
 * switch is then one instant in the trace: GoStart takes that event's
 * time (plus the tick that keeps times increasing) instead of reading a
 * clock that costs more than the switch between the two reads would.
 */
void traceGoStart(struct g *gp, bool switched)
{
	int64_t pid;
	struct tracebuf *buf = traceacquire(&pid);
	if (buf == NULL)
		return;
	uint64_t v[2] = {(uint64_t)gp->goid, ++gp->traceseq};
	tracewriteat(buf, pid, switched ? buf->lastticks : traceticks(), traceEvGoStart, v, 2, NULL, 0);
	tracerelease(pid);
}

void traceGoEnd(void)
{
	traceevent(traceEvGoEnd, NULL, 0);
}

/* The event of a goroutine parking, by why it parks. */
static uint8_t traceblockev(waitreason reason)
{
	switch (reason) {
	case waitReasonChanReceive:
		return traceEvGoBlockRecv;
	case waitReasonChanSend:
		return traceEvGoBlockSend;
	case waitReasonSelect:
		return traceEvGoBlockSelect;
	case waitReasonChanReceiveNilChan:
	case waitReasonChanSendNilChan:
	case waitReasonSelectNoCases:
		return traceEvGoStop;
	case waitReasonSleep:
		return traceEvGoSleep;
	case waitReasonSemacquire:
	case waitReasonSyncMutexLock:
	case waitReasonSyncRWMutexRLock:
	case waitReasonSyncRWMutexLock:
	case waitReasonSyncWaitGroupWait:
		return traceEvGoBlockSync;
	case waitReasonSyncCondWait:
		return traceEvGoBlockCond;
	case waitReasonIOWait:
		return traceEvGoBlockNet;
	default:
		return traceEvGoBlock;
	}
}

/* A goroutine's events that carry nothing but its stack, gp's (tracestackof). */
static void tracestackevent(uint8_t ev, struct g *gp, uintptr_t top)
{
	int64_t pid;
	struct tracebuf *buf = traceacquire(&pid);
	if (buf == NULL)
		return;
	uint64_t stk = tracestackof(gp, top);
	tracewrite(buf, pid, ev, &stk, 1, NULL, 0);
	tracerelease(pid);
}

void traceGoPark(waitreason reason)
{
	tracestackevent(traceblockev(reason), getg(), 0);
}

/* On g0, gp yielded in gort_yield, which tops its stack as Gosched tops Go's (tracestackof). */
void traceGoSched(struct g *gp)
{
	tracestackevent(traceEvGoSched, gp, (uintptr_t)gort_yield + 1); /* a return address: symbolized at pc-1 */
}

void traceGoPreempt(struct g *gp)
{
	tracestackevent(traceEvGoPreempt, gp, 0);
}

void traceGoUnpark(struct g *gp)
{
	int64_t pid;
	struct tracebuf *buf = traceacquire(&pid);
	if (buf == NULL)
		return;
	uint64_t v[3] = {(uint64_t)gp->goid, ++gp->traceseq, tracestack()};
	tracewrite(buf, pid, traceEvGoUnblock, v, 3, NULL, 0);
	tracerelease(pid);
}

void traceGoSysCall(void)
{
	tracestackevent(traceEvGoSysCall, getg(), 0);
}

/*
 * pp's goroutine, in a system call, lost pp to the caller (sysmon, a
 * stopper, with procstop; or an M whose own call had lost pp, taking it
 * back), which owns pp now and writes into pp's buffer on its behalf, as
 * Go's traceGoSysBlock does.
 */
void traceGoSysBlock(struct p *pp, bool procstop)
{
	store_relaxed(&pp->tracewriting, 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (load_relaxed(&trace_enabled)) {
		if (pp->tracebuf == NULL)
			pp->tracebuf = tracebufalloc();
		tracewrite(pp->tracebuf, pp->id, traceEvGoSysBlock, NULL, 0, NULL, 0);
		if (procstop)
			tracewrite(pp->tracebuf, pp->id, traceEvProcStop, NULL, 0, NULL, 0);
	}
	store_release(&pp->tracewriting, 0);
}

/* gp's system call returned after its P was taken: it is runnable again. */
void traceGoSysExit(struct g *gp)
{
	uint64_t v[3] = {(uint64_t)gp->goid, ++gp->traceseq, 0};
	traceevent(traceEvGoSysExit, v, 3);
}

void traceProcStart(struct m *mp)
{
	uint64_t id = (uint64_t)mp->id;
	traceevent(traceEvProcStart, &id, 1);
}

void traceProcStop(void)
{
	traceevent(traceEvProcStop, NULL, 0);
}

void traceGomaxprocs(int32_t n)
{
	uint64_t v[2] = {(uint64_t)n, 0};
	traceevent(traceEvGomaxprocs, v, 2);
}

/* -------------------------------------------------------- start, stop */

static const char traceheader[16] = "go 1.19 trace\0\0\0";

/* Empties every buffer and writes the header; trace.lock held. */
static void tracebegin(int fd, bool ownfd)
{
	trace.fd = fd;
	trace.ownfd = ownfd;
	trace.err = 0;
	if (trace.globbuf == NULL)
		trace.globbuf = tracebufalloc();
	trace.globbuf->pos = 0;
	int32_t n = load_acquire(&allplen);
	for (int32_t i = 0; i < n; i++)
		if (allp[i]->tracebuf != NULL) {
			allp[i]->tracebuf->pos = 0;
			allp[i]->tracebuf->curg = 0;
		}
	tracetsc = cputicksinvariant();
	trace.ticksstart = traceticks();
	trace.nsstart = nanotime();
	tracewriteout(traceheader, sizeof traceheader);
}

static void traceatexit(void);

/*
 * The goroutines alive as a trace starts, written into the caller's P's
 * buffer: the world is stopped and sched.lock held.
 */
static void tracesnapshot(struct g *me)
{
	struct p *pp = me->m->p;
	if (pp->tracebuf == NULL)
		pp->tracebuf = tracebufalloc();
	struct tracebuf *buf = pp->tracebuf;
	for (struct g *gp = load_acquire(&allgs); gp != NULL; gp = load_acquire(&gp->alllink)) {
		uint32_t status = load_relaxed(&gp->atomicstatus);
		if (status == Gdead || status == Gidle)
			continue;
		gp->traceseq = 0;
		uint64_t v[3] = {(uint64_t)gp->goid, entrystack(gp), 0};
		tracewrite(buf, pp->id, traceEvGoCreate, v, 3, NULL, 0);
		if (status == Gwaiting || status == Gsyscall) {
			gp->traceseq++;
			tracewrite(buf, pp->id, status == Gwaiting ? traceEvGoWaiting : traceEvGoInSyscall, v, 1,
				   NULL, 0);
		}
	}
	uint64_t id = (uint64_t)me->m->id;
	tracewrite(buf, pp->id, traceEvProcStart, &id, 1, NULL, 0);
	uint64_t v[2] = {(uint64_t)me->goid, ++me->traceseq};
	tracewrite(buf, pp->id, traceEvGoStart, v, 2, NULL, 0);
}

/*
 * Starts a trace to fd.  boot: GORT_TRACE's, from gort_main before there
 * is any goroutine; the trace owns fd then.
 */
static int tracestart(int fd, bool boot)
{
	static bool exithook;
	uint32_t off = TRACE_OFF;
	if (!atomic_compare_exchange_strong(&trace.state, &off, TRACE_STARTING)) {
		errno = EBUSY;
		return -1;
	}
	struct g *gp = getg();
	int32_t rs = load_relaxed(&runtime_state);
	int err = fd < 0 || fcntl(fd, F_GETFD) < 0 ? EBADF : 0;
	bool running = rs != RUNTIME_NONE && !boot;
	if (err == 0 && running && (gp == NULL || gp == gp->m->g0 || rs != RUNTIME_RUNNING))
		err = EPERM;
	if (err != 0) {
		store_release(&trace.state, TRACE_OFF);
		errno = err;
		return -1;
	}
	if (!exithook)
		exithook = atexit(traceatexit) == 0;
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (running)
		stopTheWorld();
	lock(&sched.lock);
	lock(&trace.lock);
	tracebegin(fd, boot);
	err = trace.err;
	unlock(&trace.lock);
	if (err == 0) {
		if (running)
			tracesnapshot(gp);
		atomic_store(&trace_enabled, true);
		settraceyield(true);
	}
	unlock(&sched.lock);
	if (running)
		startTheWorld();
	store_release(&trace.state, err == 0 ? TRACE_ON : TRACE_OFF);
	errno = err;
	return err == 0 ? 0 : -1;
}

/* Waits until no one writes into pp's buffer; false if a crash gave up. */
static bool tracequiesce(struct p *pp, bool crash, int64_t deadline)
{
	while (load_acquire(&pp->tracewriting) != 0) {
		if (crash && nanotime() > deadline)
			return false;
		osyield();
	}
	return true;
}

/* A return address of the stack table, symbolized once for every stack that holds it. */
struct tracepc {
	uintptr_t pc;
	uint64_t fn, file, line;
	bool shown;    /* a traceback would show the frame */
};

static struct tracepc *tracepcslot(struct tracepc *tab, size_t mask, uintptr_t pc)
{
	size_t i = (size_t)((pc * 0x9e3779b97f4a7c15u) >> 32) & mask;
	while (tab[i].pc != 0 && tab[i].pc != pc)
		i = (i + 1) & mask;
	return &tab[i];
}

/*
 * Writes the string and stack tables and frees them; trace.lock held.
 * Every return address is symbolized first, interning its function's and
 * file's names, since newer readers want a stack's strings before it.
 */
static void tracedumptables(void)
{
	size_t npc = 0;
	for (int b = 0; b < TRACE_TABSIZE; b++)
		for (struct tracestack *s = load_relaxed(&trace.stacks[b]); s != NULL; s = s->link)
			npc += (size_t)s->n;
	size_t mask = 1;
	while (mask < 2 * npc)
		mask <<= 1;
	struct tracepc *pcs = calloc(mask--, sizeof *pcs);
	if (pcs == NULL)
		throw("out of memory writing a trace's stacks");
	char name[256], file[1024];
	printlock();
	for (int b = 0; b < TRACE_TABSIZE; b++)
		for (struct tracestack *s = load_relaxed(&trace.stacks[b]); s != NULL; s = s->link)
			for (int i = 0; i < s->n; i++) {
				struct tracepc *e = tracepcslot(pcs, mask, s->pc[i]);
				if (e->pc != 0)
					continue;
				int line;
				e->pc = s->pc[i];
				e->shown = tracebackpc(e->pc, name, sizeof name, file, sizeof file, &line);
				e->fn = tracestring(name, strlen(name));
				e->file = tracestring(file, strlen(file));
				e->line = (uint64_t)line;
			}
	printunlock();
	uint8_t rec[32 + TRACE_MAXSTACK * 40];
	for (int b = 0; b < TRACE_TABSIZE; b++) {
		struct tracestring *t = trace.strings[b];
		while (t != NULL) {
			uint8_t *p = rec;
			*p++ = traceEvString;
			p = putvarint(p, t->id);
			p = putvarint(p, t->len);
			tracewriteout(rec, (size_t)(p - rec));
			tracewriteout(t->s, t->len);
			struct tracestring *next = t->link;
			free(t);
			t = next;
		}
		trace.strings[b] = NULL;
	}
	for (int b = 0; b < TRACE_TABSIZE; b++) {
		struct tracestack *s = load_relaxed(&trace.stacks[b]);
		while (s != NULL) {
			/* the frames shown, then the stack's id and their number before them */
			uint8_t frames[TRACE_MAXSTACK * 40], *p = frames;
			uint64_t n = 0;
			for (int i = 0; i < s->n; i++) {
				struct tracepc *e = tracepcslot(pcs, mask, s->pc[i]);
				if (!e->shown && !s->entry)
					continue;
				p = putvarint(p, e->pc);
				p = putvarint(p, e->fn);
				p = putvarint(p, e->file);
				p = putvarint(p, e->line);
				n++;
			}
			uint8_t head[16], *h = putvarint(putvarint(head, s->id), n);
			uint8_t *q = rec;
			*q++ = traceEvStack | 3 << 6;
			q = putvarint(q, (uint64_t)(h - head) + (uint64_t)(p - frames));
			memcpy(q, head, (size_t)(h - head));
			q += h - head;
			memcpy(q, frames, (size_t)(p - frames));
			tracewriteout(rec, (size_t)(q - rec) + (size_t)(p - frames));
			struct tracestack *next = s->link;
			free(s);
			s = next;
		}
		store_relaxed(&trace.stacks[b], NULL);
		for (struct traceshape *sh = load_relaxed(&trace.shapes[b]), *next; sh != NULL; sh = next) {
			next = sh->link;
			free(sh);
		}
		store_relaxed(&trace.shapes[b], NULL);
	}
	trace.nstacks = trace.nstrings = 0;
	free(pcs);
}

/*
 * Ends the trace being written (see the top of the file): 0 when it is
 * complete, -1 with errno EINVAL if none is, or with the error that kept
 * it from being written.  crash: a fatal error's last act, which must
 * not hang on a thread that will never let go of a buffer or a lock.
 */
static int tracefinish(bool crash)
{
	uint32_t on = TRACE_ON;
	if (!atomic_compare_exchange_strong(&trace.state, &on, TRACE_STOPPING)) {
		errno = EINVAL;
		return -1;
	}
	atomic_store(&trace_enabled, false);
	settraceyield(false);
	if (membarrierok)
		membarrier();
	struct g *me = getg();
	struct p *mine = me != NULL ? me->m->p : NULL;
	int64_t deadline = nanotime() + TRACE_STOPWAIT_NS;
	int32_t n = load_acquire(&allplen);
	for (int32_t i = 0; i < n; i++)
		if (allp[i] != mine && !tracequiesce(allp[i], crash, deadline))
			return -1;
	int64_t mygoid = me != NULL && me != me->m->g0 ? me->goid : 0;
	for (int32_t i = 0; i < n; i++) {
		struct tracebuf *buf = allp[i]->tracebuf;
		if (buf == NULL || buf->curg == 0)
			continue;
		uint64_t stk = 0;
		tracewrite(buf, allp[i]->id, buf->curg == mygoid ? traceEvGoSched : traceEvGoPreempt, &stk, 1,
			   NULL, 0);
	}
	if (crash) {
		while (!trylock(&trace.lock))
			if (nanotime() > deadline)
				return -1;
	} else {
		lock(&trace.lock);
	}
	for (int32_t i = 0; i < n; i++)
		if (allp[i]->tracebuf != NULL)
			traceflush(allp[i]->tracebuf, -1);
	traceflush(trace.globbuf, -1);
	int64_t ns = nanotime() - trace.nsstart;
	double ticks = (double)(traceticks() - trace.ticksstart);
	uint8_t freq[12], *p = freq;
	*p++ = traceEvFrequency;
	p = putvarint(p, ns > 0 ? (uint64_t)(ticks * 1e9 / (double)ns) : 1000000000);
	tracewriteout(freq, (size_t)(p - freq));
	tracedumptables();
	int err = trace.err;
	if (trace.ownfd && close(trace.fd) != 0 && err == 0)
		err = errno;
	unlock(&trace.lock);
	store_release(&trace.state, TRACE_OFF);
	errno = err;
	return err == 0 ? 0 : -1;
}

static void traceatexit(void)
{
	tracefinish(false);
}

void tracecrash(void)
{
	if (load_relaxed(&trace.state) == TRACE_ON)
		tracefinish(true);
}

/*
 * GORT_TRACE=path: the whole program is traced, from gort_main's start
 * until it returns (tracemainreturn) or the process exits.
 */
void traceboot(void)
{
	const char *path = getenv("GORT_TRACE");
	if (path == NULL || path[0] == 0)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || tracestart(fd, true) != 0) {
		static char msg[512];
		snprintf(msg, sizeof msg, "GORT_TRACE=%s: %s", path, strerror(errno));
		throw(msg);
	}
}

void tracemainreturn(void)
{
	if (load_relaxed(&trace.state) == TRACE_ON && trace.ownfd)
		tracefinish(false);
}

/* ---------------------------------------------------------------- API */

int gort_trace_start(int fd)
{
	return tracestart(fd, false);
}

int gort_trace_stop(void)
{
	return tracefinish(false);
}

/*
 * A user event: the values in v, then the id of string name if named,
 * then the calling goroutine's stack, then s for a log.  The tables are
 * only touched once the buffer is ours: a trace ending frees them.
 */
static void traceuser(uint8_t ev, uint64_t *v, int n, bool named, const char *name, const char *s,
		      size_t slen)
{
	int64_t pid;
	struct tracebuf *buf = traceacquire(&pid);
	if (buf == NULL)
		return;
	if (named)
		v[n++] = name != NULL ? tracestring(name, strlen(name)) : 0;
	v[n++] = tracestack();
	tracewrite(buf, pid, ev, v, n, s, slen);
	tracerelease(pid);
}

static void checkname(const char *fn, const char *name)
{
	if (name == NULL) {
		static char msg[128];
		snprintf(msg, sizeof msg, "%s: nil name", fn);
		throw(msg);
	}
}

void gort_trace_task_log(uint64_t task, const char *category, const char *message)
{
	if (message == NULL)
		throw("gort_trace_log: nil message");
	if (!load_relaxed(&trace_enabled))
		return;
	size_t len = strlen(message);
	uint64_t v[3] = {task};
	traceuser(traceEvUserLog, v, 1, true, category, message, len < TRACE_MAXLOG ? len : TRACE_MAXLOG);
}

void gort_trace_log(const char *category, const char *message)
{
	gort_trace_task_log(0, category, message);
}

uint64_t gort_trace_task_start(uint64_t parent, const char *name)
{
	checkname("gort_trace_task_start", name);
	uint64_t id = atomic_fetch_add(&tasknext, 1) + 1;
	if (load_relaxed(&trace_enabled)) {
		uint64_t v[4] = {id, parent};
		traceuser(traceEvUserTaskCreate, v, 2, true, name, NULL, 0);
	}
	return id;
}

void gort_trace_task_end(uint64_t task)
{
	if (load_relaxed(&trace_enabled)) {
		uint64_t v[2] = {task};
		traceuser(traceEvUserTaskEnd, v, 1, false, NULL, NULL, 0);
	}
}

static void traceregion(const char *fn, uint64_t task, uint64_t mode, const char *name)
{
	checkname(fn, name);
	if (load_relaxed(&trace_enabled)) {
		uint64_t v[4] = {task, mode};
		traceuser(traceEvUserRegion, v, 2, true, name, NULL, 0);
	}
}

void gort_trace_region_start(uint64_t task, const char *name)
{
	traceregion("gort_trace_region_start", task, 0, name);
}

void gort_trace_region_end(uint64_t task, const char *name)
{
	traceregion("gort_trace_region_end", task, 1, name);
}
