/*
 * Internal structures of the runtime: G (goroutine), M (OS thread),
 * P (processor: the right to run goroutines), the scheduler state, and the
 * functions subsystems share.  Names follow Go's runtime (runtime2.go,
 * proc.go) so that its documentation maps one to one.
 *
 * Everything here has hidden visibility; the build also localizes these
 * symbols in the static library, so Go's short names (gopark, goready)
 * cannot clash with a program's own.
 */
#ifndef GORT_RUNTIME_H
#define GORT_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gort.h"

struct g;
struct m;
struct p;

/* ---------------------------------------------------------------- atomics */

#define load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define cas_acq_rel(p, old, new)                                                   \
	atomic_compare_exchange_strong_explicit((p), (old), (new), memory_order_acq_rel, \
						memory_order_acquire)

/* Adds to a counter that only its P's owner writes: no locked instruction. */
static inline void pcountadd(_Atomic int64_t *c, int64_t delta)
{
	store_relaxed(c, load_relaxed(c) + delta);
}

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Invariant checks.  gort_assert stays on in debug builds (DEBUG=1 and the
 * sanitizer builds); checks that guard against misuse by callers are plain
 * ifs with throw() and are always on.
 */
#ifdef GORT_DEBUG_BUILD
#define gort_assert(cond)                                                \
	do {                                                             \
		if (unlikely(!(cond)))                                   \
			throw_assert(#cond, __FILE__, __LINE__);         \
	} while (0)
#else
#define gort_assert(cond) ((void)0)
#endif

/* ------------------------------------------------------------------ locks */

/* A runtime mutex (lock_futex.c): spins briefly, then sleeps on a futex. */
typedef struct mutex {
	_Atomic uint32_t key;
} mutex;

/*
 * A one-shot sleep and wakeup (Go's note).  Exactly one thread sleeps and
 * one wakes; noteclear may be called only once the sleep has returned.
 */
typedef struct note {
	_Atomic uint32_t key;
} note;

/* Whether membarrier(2) works here: fences may then be asymmetric (lock_futex.c). */
extern bool membarrierok;

void lock(mutex *l);
bool trylock(mutex *l);
void unlock(mutex *l);
void noteclear(note *n);
void notewakeup(note *n);
void notesleep(note *n);
bool notetsleep(note *n, int64_t ns); /* false if it timed out */
bool notewoken(note *n);            /* whether the wakeup came: the sleeper may look first */

/* --------------------------------------------------------------- goroutine */

/*
 * G status.  The status is a lock on the goroutine's stack: only the owner
 * named below may run on it or change the status.
 *   Gidle      just allocated, not yet initialised.
 *   Grunnable  on a run queue, not running; the stack is not owned, and
 *              whoever dequeues the G owns it.
 *   Grunning   running on m->curg of exactly one M, which owns the stack.
 *   Gwaiting   parked in some wait structure; only the party that wins the
 *              wakeup (goready) may make it Grunnable.
 *   Gdead      exited or never used; owned by whoever holds it on a free
 *              list.
 *   Gsyscall   running in a system call between gort_syscall_enter and
 *              exit, on its M, which may have lost its P meanwhile.
 */
enum {
	Gidle = 0,
	Grunnable = 1,
	Grunning = 2,
	Gsyscall = 3,
	Gwaiting = 4,
	Gdead = 6,
};

/* Why a goroutine is parked (Go's waitReason); shown in crash reports. */
typedef enum waitreason {
	waitReasonZero = 0,
	waitReasonPanicWait,
	waitReasonChanReceive,
	waitReasonChanSend,
	waitReasonChanReceiveNilChan,
	waitReasonChanSendNilChan,
	waitReasonSelect,
	waitReasonSelectNoCases,
	waitReasonSleep,
	waitReasonSemacquire,
	waitReasonSyncMutexLock,
	waitReasonSyncRWMutexRLock,
	waitReasonSyncRWMutexLock,
	waitReasonSyncWaitGroupWait,
	waitReasonSyncCondWait,
	waitReasonIOWait,
	waitReasonMax,
} waitreason;

extern const char *const waitreasonstrings[waitReasonMax];

/* A goroutine stack: [lo, hi) is usable, guard bytes below lo are not. */
struct stack {
	uintptr_t lo;
	uintptr_t hi;
};

/*
 * Saved context.  mcall pushes the callee-saved registers, MXCSR and the
 * x87 control word onto the goroutine's own stack and records the stack
 * pointer here; gogo restores from it and clears it (a context is consumed
 * exactly once).  The layout is drawn in src/arch/amd64.S.
 */
struct gobuf {
	uintptr_t sp;
};

#define GNAME_MAX 32

/*
 * The fields of the creation, run and exit paths come first, so that a
 * burst of goroutines waiting in a queue touches as few cache lines as can
 * be.
 */
struct g {
	struct gobuf sched; /* offset 0: used by the assembly */
	struct m *m;        /* offset 8: the M running it, when Grunning */
	struct stack stack;
	uint32_t stackflags;   /* STK_* (stack.c) */
	uint32_t startfp;      /* its first FP control words, the creator's (fpctl, gostartcall) */
	_Atomic uint32_t atomicstatus;
	waitreason waitreason;
	int64_t goid;
	struct g *schedlink;   /* run queue and free list link */
	/* second line */
	void (*fn)(void *);    /* entry function and its argument */
	void *arg;
	struct m *lockedm;     /* wired to this M (gort_lock_os_thread) */
	uint32_t lockedext;    /* nesting depth of gort_lock_os_thread */
	bool named;            /* name holds gort_attr.name */
	_Atomic bool preempt;  /* sysmon: it has run a whole time slice (preemptcheck) */
	struct g *readyg;      /* scratch for readyexecute: the G to switch to */
	void *param;           /* passed by the waker to a parked G */
	/* defer and panic (panic.c) */
	/* these two in this order: GORT_DEFER's inline code knows them (gort.h) */
	struct _defer *_defer; /* deferred calls, innermost first */
	struct callframe *frame;  /* innermost gort_call frame; NULL: the entry function */
	struct _defer *curdefer;  /* the deferred call running, for recover */
	struct _panic *_panic; /* panics in progress, newest first */
	struct msgcopy *msgcopies; /* recovered messages copied off the stack */
	/* cold */
	_Atomic(struct g *) alllink; /* every G ever made (allgs), for tracebacks */
	uintptr_t gopc;        /* where the creator called gort_go (traceback) */
	int64_t parentgoid;    /* the creator's goid; 0 for a thread outside */
	int64_t waitsince;     /* when it parked (sched.coarsenow), for tracebacks */
	uint64_t traceseq;     /* its transitions in the trace being written (trace.c) */
	/* where sysmon saw it run since when, for preemptpark to tell a stale flag */
	_Atomic(struct p *) preemptp;
	_Atomic uint32_t preempttick;
	_Atomic int64_t preemptparks, preemptsince;
	char name[GNAME_MAX];
	void *tsan_fiber;      /* sanitizer state (san.h) */
	void *asan_fake_stack;
	unsigned valgrind_stack;
};

/* ----------------------------------------------------------------- thread */

struct m {
	struct g *g0;          /* offset 0: used by the assembly */
	struct g *curg;        /* the user goroutine running, or NULL */
	struct p *p;           /* attached P, or NULL */
	struct p *nextp;       /* P handed to it while it slept */
	int64_t id;
	pid_t procid;          /* kernel thread id */
	bool spinning;         /* looking for work without any */
	struct note park;      /* where it sleeps when idle */
	struct m *schedlink;   /* idle list link */
	struct m *alllink;     /* every M made (allm), for schedtrace */
	bool nothread;         /* on the free list: its thread exited, or never started */
	struct g *lockedg;     /* the G wired to it */
	/* arguments of gopark and mcall, read on g0 (see gopark, mcall) */
	bool (*waitunlockf)(struct g *gp, void *lock);
	void *waitlock;
	void (*mcallfn)(struct g *);
	uint64_t fastrand;
	struct gort_chan **selbuf; /* scratch for a select's unlock callback (select.c) */
	int selbufcap;
	void *sigstack;        /* alternate signal stack, per thread */
	size_t sigstacksize;
	struct p *oldp;        /* the P it held when its G entered a system call */
	uint32_t syscalltick;  /* and that P's syscalltick then */
};

/* ---------------------------------------------------- defer and panic */

/*
 * A deferred call.  Records come in three kinds: pooled (per-P pools, room
 * for a small copied argument block), heap (a larger block), and scope
 * (GORT_DEFER: the record lives in the C scope that declared it).  A record
 * is linked only onto the chain of the goroutine that owns it, and only by
 * deferlink (seed 004).
 */
struct _defer {
	struct _defer *link;
	void (*fn)(void *);
	void *arg;
	struct callframe *frame; /* the frame it belongs to */
	struct _panic *panic;    /* the panic running it, if one is; set once started */
	uint8_t kind;
	bool started;            /* running, or run by a panic that was replaced */
};

enum { DEFER_SCOPE = 0, DEFER_POOL, DEFER_HEAP };

/* A panic in progress; lives on the stack of the call that raised it. */
struct _panic {
	struct _panic *link;     /* the panic it interrupted */
	const char *msg;
	void *value;
	bool recovered;
	bool aborted;            /* a newer panic ran past its deferred call */
	bool goexit;             /* gort_goexit running the deferred calls */
};

#define DEFERPOOL_SIZE 32

/* ------------------------------------------------------------ waiting */

/*
 * A waiter in a wait queue (Go's sudog): a goroutine, or a thread the
 * runtime does not own (g NULL), which sleeps on note.  A sudog lives on
 * the stack of the call that waits, which stays put while it waits (stacks
 * never move); the waker may touch it until it wakes the waiter, and not
 * after.
 */
struct sudog {
	struct g *g;
	struct sudog *next;
	struct sudog *prev;
	void *elem;                   /* the value sent or the place to receive it */
	struct gort_chan *c;
	_Atomic(struct sudog *) *selectdone; /* select: the winner, set by the first waker, who alone may wake */
	struct sudog *waitlink;       /* select: the next case's sudog */
	bool success;                 /* woken by a value (true) or a close (false) */
	uint32_t ticket;              /* semaphores: handed the count directly */
	void *addr;                   /* semaphores: the address waited on */
	note *wakenote;               /* a thread's: its own note, or its select's */
	note note;
};

/* A FIFO of sudogs. */
typedef struct waitq {
	struct sudog *first;
	struct sudog *last;
} waitq;

/*
 * A channel (Go's hchan).  Everything but the constants is under lock.
 * The buffer follows the header, in the same allocation.
 */
struct gort_chan {
	mutex lock;
	uint32_t closed;
	size_t qcount;     /* values in the buffer */
	size_t dataqsiz;   /* its capacity */
	size_t elemsize;
	size_t sendx;      /* where the next buffered send goes */
	size_t recvx;      /* where the next buffered receive comes from */
	waitq recvq;
	waitq sendq;
	_Alignas(16) unsigned char buf[];
};

/* ----------------------------------------------------------------- processor */

enum {
	Pidle = 0,
	Prunning = 1,
	Psyscall = 2,
	Pgcstop = 3,
	Pdead = 4,
};

#define RUNQ_SIZE 256
#define PSTACKCACHE_SIZE 32
#define PGFREE_SIZE 64


/* A FIFO of Gs linked through schedlink. */
typedef struct gqueue {
	struct g *head;
	struct g *tail;
} gqueue;

/*
 * A P's fields are grouped by who touches them, each group on cache lines
 * of its own, so that thieves polling a busy P's queue do not steal the
 * lines its owner writes on every goroutine it creates or ends.
 */
#define CACHELINE 64

struct p {
	/* read by anyone */
	int32_t id;
	_Atomic uint32_t status;
	struct p *link;        /* idle list link (sched.lock) */
	struct m *m;           /* the M it is attached to */

	/*
	 * Local run queue: a ring written only by the owner (at the tail) and
	 * read by the owner and thieves (at the head).  runnext, when set,
	 * runs before the ring: a G readied by the current one.
	 */
	_Alignas(CACHELINE) _Atomic uint32_t runqhead;
	_Atomic uint32_t runqtail;
	_Atomic(struct g *) runq[RUNQ_SIZE];
	_Alignas(CACHELINE) _Atomic(struct g *) runnext;

	/* the owner's alone */
	_Alignas(CACHELINE) uint32_t schedtick; /* incremented on every scheduler call */
	bool alone;            /* the only P: nobody steals from it (proc.c runqget) */
	struct {
		uint32_t schedtick;   /* schedtick when last looked at... */
		int64_t schedwhen;    /* ...and then */
	} sysmontick;          /* for the owner's own time slice check (proc.c slicedone) */
	_Atomic uint32_t syscalltick; /* incremented when a system call ends or its P is retaken */
	uint32_t newprocs;     /* goroutines created, for the time slice check */
	struct g *preempted;   /* a G preempted at gort_go, run last (proc.c) */
	uint64_t goidcache;    /* goroutine ids handed out in batches */
	uint64_t goidcacheend;
	/* dead Gs, a stack whose top is the most recently freed (proc.c gfput) */
	int32_t ngfree;
	struct g *gfree[PGFREE_SIZE];
	/* default-size stacks ready for reuse, [0] clean and [1] dirty (stack.c) */
	int32_t nstackcache[2];
	uintptr_t stackcache[2][PSTACKCACHE_SIZE];
	/* default stacks started here minus those freed here; the sum over allp is those in use */
	_Atomic int64_t stackinuse;
	/* timers (time.c), a min-heap on when, under timerslock */
	mutex timerslock;
	struct timer **timers;
	int32_t ntimers;
	int32_t timerscap;
	_Atomic int64_t timer0when; /* the earliest when, 0 for none: read without the lock */
	_Atomic(struct timer *) runningtimer; /* whose function is running */
	_Atomic uint32_t timersrunning;      /* an M is running this P's timers */
	int32_t ndeferpool;    /* free pooled defer records (panic.c) */
	struct _defer *deferpool[DEFERPOOL_SIZE];
	/* goroutines created minus goroutines exited on this P (read by gcount) */
	_Atomic int64_t ngoroutines;
	/* counts for gort_read_stats, written by the owner alone (pcountadd) */
	_Atomic int64_t ncreated, nsteals, nparks;
	/* execution trace (trace.c): the owner's buffer, busy while it writes an event */
	struct tracebuf *tracebuf;
	_Atomic uint32_t tracewriting;
};

/* ------------------------------------------------------------- scheduler */

struct schedt {
	mutex lock;
	/* idle Ms */
	struct m *midle;
	int32_t nmidle;
	int32_t nmidlelocked;   /* Ms sleeping while their locked G waits */
	int64_t mnext;          /* number of Ms created, and the next id */
	int32_t nmfreed;        /* Ms whose thread exited */
	struct m *mfree;        /* those Ms, for reuse */
	/* idle Ps */
	struct p *pidle;
	_Atomic int32_t npidle;
	_Atomic int32_t nmspinning;
	_Atomic int64_t timersleepuntil; /* the deadline an idle M sleeps until, 0: none */
	_Atomic int64_t lastpoll;  /* when the network was last polled; 0: an M is blocked in it */
	_Atomic int64_t pollUntil; /* the deadline that M sleeps until, 0: none */
	bool sysmonwait;           /* sysmon sleeps on sysmonnote: every P is idle (sched.lock) */
	_Atomic bool sysmonwaiting; /* the same, for a look without the lock */
	note sysmonnote;
	/* global run queue */
	gqueue runq;
	_Atomic int32_t runqsize;
	/*
	 * Each group below has cache lines of its own: the ones written often
	 * (ids, free lists) must not evict gcwaiting, which every schedule
	 * reads.
	 */
	/* global free Gs, a stack (proc.c gfput) */
	_Alignas(CACHELINE) mutex gflock;
	struct {
		struct g **v;
		int32_t n, cap;
	} gfree;
	_Atomic int32_t ngfree; /* gfree.n, for a look without the lock */
	/* pooled defer records beyond the Ps' pools, linked through link */
	_Alignas(CACHELINE) mutex deferlock;
	struct _defer *deferpool;
	/* goroutine ids are handed to Ps in batches from here */
	_Alignas(CACHELINE) _Atomic uint64_t goidgen;
	/* goroutines created or exited without a P (threads the runtime does not own) */
	_Atomic int64_t ngoroutines;
	_Atomic int64_t ncreated;
	/* stop the world */
	_Alignas(CACHELINE) _Atomic uint32_t gcwaiting;
	int32_t stopwait;
	note stopnote;
	mutex stwlock;          /* serialises stoppers */
	int32_t newprocs;       /* GORT_MAXPROCS to restart the world with */
	/*
	 * The clock parks stamp waits with (gopark), kept by sysmon and by Ms
	 * waking from idle; read by every park, written rarely.
	 */
	_Alignas(CACHELINE) _Atomic int64_t coarsenow;
	/* lifetime of gort_main */
	_Alignas(CACHELINE) note mainnote;
	int mainresult;
	bool mainexited;
	_Atomic bool maingoexited;
};

extern struct schedt sched;
extern _Atomic(struct g *) allgs;  /* every G, oldest first, through alllink; never shrinks */
extern struct p **allp;
extern _Atomic int32_t allplen;
extern _Atomic int32_t gomaxprocs;
extern _Atomic int32_t runtime_state; /* see RUNTIME_* */

#define MAX_GOMAXPROCS 1024

enum {
	RUNTIME_NONE = 0,  /* gort_main not called yet */
	RUNTIME_RUNNING,
	RUNTIME_DONE,      /* gort_main returned */
};

/* ----------------------------------------------------------- debug switches */

struct debugvars {
	int32_t sched_random;   /* randomize scheduling (Go's race-mode randomizeScheduler) */
	uint64_t seed;          /* its seed; 0 = pick one and print it */
	int32_t stackguard;     /* STACKGUARD_* (stack.c) */
	int32_t invariants;     /* check the runtime's invariants at every schedule */
	int32_t slowschedule;   /* one of the above: schedule takes its slow path */
	int32_t traceback;      /* GORT_TRACEBACK: TRACEBACK_* */
	int32_t schedtrace;     /* milliseconds between SCHED lines (sysmon), 0: none */
	int32_t scheddetail;    /* and a line per P, M and G after each */
	int32_t longrun;        /* report goroutines that run a time slice without a scheduling point */
};
extern struct debugvars debug;

/* GORT_TRACEBACK levels (Go's GOTRACEBACK). */
enum {
	TRACEBACK_NONE = 0,
	TRACEBACK_SINGLE,   /* the failing goroutine (the default) */
	TRACEBACK_ALL,      /* and every other */
	TRACEBACK_SYSTEM,   /* and the runtime's own frames */
	TRACEBACK_CRASH,    /* and then abort, for a core dump */
};

enum {
	STACKGUARD_AUTO = 0,
	STACKGUARD_MADVISE,
	STACKGUARD_MPROTECT,
	STACKGUARD_SOFT,
};

/* ---------------------------------------------------- context switching */

/*
 * getg() returns the current goroutine of this thread: a user G, its M's
 * g0, or NULL on a thread the runtime does not own (src/arch/amd64.h).
 */
#include "arch/amd64.h"

/* Assembly (src/arch/amd64.S). */
_Noreturn void gogo(struct g *gp);
void mcall_asm(void (*fn)(struct g *));
void systemstack_asm(void (*fn)(void *), void *arg);
_Noreturn void mstart_asm(struct m *mp);

/*
 * mcall switches to the M's g0 stack and calls fn(gp) there, gp being the
 * goroutine that called it; fn never returns.  It takes no argument for fn:
 * once fn publishes gp (a run queue put, a status change a waker can see),
 * another M may resume gp and reuse its stack, so nothing fn needs may live
 * there.  Whatever fn needs travels in fields of g or m (seed 000).
 */
void mcall(void (*fn)(struct g *));

/*
 * systemstack runs fn(arg) on the M's g0 stack and returns.  The calling
 * goroutine stays Grunning and owned by this M throughout, so fn may use
 * the caller's stack; it must not publish the caller (that is mcall's job).
 */
void systemstack(void (*fn)(void *), void *arg);

/* ----------------------------------------------------------- proc.c */

struct g *malg(void);
int newproc(const gort_attr *attr, void (*fn)(void *), void *arg, uintptr_t gopc);
void goentry(void);
uintptr_t gostartpc(struct g *gp);
void gopark(bool (*unlockf)(struct g *, void *), void *lock, waitreason reason);
void goready(struct g *gp);
void readyexecute(struct g *gp);
_Noreturn void goexit1(void);
_Noreturn void mstart1(struct m *mp);
void stopTheWorld(void);
void startTheWorld(void);
void freezetheworld(void);
uint32_t cheaprand(void);
uint32_t cheaprandn(uint32_t n);
void osyield(void);
void usleep_ns(int64_t ns);
void preemptpark(struct g *gp);
void settraceyield(bool on); /* which of its continuations gort_yield runs: with trace_enabled */

/*
 * A scheduling point for a goroutine that has run a whole time slice:
 * sysmon flags it, and it yields at its next runtime call that may
 * reschedule anyway (gort has no asynchronous preemption).
 */
static inline void preemptcheck(void)
{
	struct g *gp = getg();
	if (gp != NULL && unlikely(load_relaxed(&gp->preempt)))
		preemptpark(gp);
}

/* run queues, exposed for their unit tests (tests/test_runq.c) */
void runqput(struct p *pp, struct g *gp, bool next);
struct g *runqget(struct p *pp, bool *inherittime);
struct g *runqsteal(struct p *pp, struct p *victim, bool stealrunnext);
bool runqempty(struct p *pp);
uint32_t runqlen(struct p *pp);
uint32_t stealstride(uint32_t n, uint32_t r);

/* ----------------------------------------------------------- stack.c */

extern size_t stack_default;   /* usable bytes of a default stack */
extern size_t stack_guard;     /* guard bytes below every stack */

void stackinit(void);
enum { STK_GUARDED = 1, STK_SOFT = 2, STK_DIRTY = 4 };

bool stackalloc(struct p *pp, struct g *gp, size_t size);
void stackstart(struct p *pp, struct g *gp);
void stackfree(struct p *pp, struct g *gp);
void stackscavenge(note *stop);
void stackcache_flush(struct p *pp);
void stackstats(int64_t *reserved, int64_t *resident);
bool stack_inguard(struct g *gp, uintptr_t addr, uintptr_t sp);
struct ucontext_t;
_Noreturn void stackoverflow(struct g *gp, uintptr_t sp, struct ucontext_t *uc);
void stackcheck_soft(struct g *gp);

/* ----------------------------------------------------------- os_linux.c */

int64_t nanotime(void);
int64_t nanotime_coarse(void);
pid_t gettid_(void);
pid_t signalthread(void);
extern int32_t ncpu;
int32_t getproccount(void);
double cgroupcpulimit(const char *cgroupfile, const char *mountinfo);
int32_t defaultmaxprocs(int32_t ncpu, double limit);
void futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns);
void futexwakeup(_Atomic uint32_t *addr, uint32_t cnt);
bool membarrierinit(void);
void membarrier(void);
bool newosproc(struct m *mp);
bool newthread(void *(*fn)(void *), void *arg);
void minit(struct m *mp);

/* ----------------------------------------------------------- signal_unix.c */

void initsig(void);
void minitSignals(struct m *mp);
void unminitSignals(struct m *mp);

/* ----------------------------------------------------------- runtime1.c */

void parsedebugvars(void);
int32_t envmaxprocs(void);
size_t parsebytes(const char *name, const char *s);

/* ----------------------------------------------------------- panic.c */

_Noreturn void throw(const char *msg);
_Noreturn void throw_assert(const char *cond, const char *file, int line);
void deferreturnentry(struct g *gp);
void deferexit(struct g *gp);
void deferpoolflush(struct p *pp);
void panicwait(void);
void checkg0(struct m *mp);

/* ----------------------------------------------------------- print.c */

void printstr(const char *s);
void printint(int64_t v);
void printhex(uint64_t v);
void printlock(void);
void printlockfd(int fd);
void printunlock(void);
_Noreturn void dieexit(void);

/* ----------------------------------------------------------- chan.c */

void waiterinit(struct sudog *sg, void *elem, struct gort_chan *c);
void waiterpark(struct sudog *sg, mutex *lk, waitreason reason);
void chansendto(struct gort_chan *c, struct sudog *sg, const void *ep);
void chanrecvfrom(struct gort_chan *c, struct sudog *sg, void *ep);
void chanbufsend(struct gort_chan *c, const void *ep);
void chanbufrecv(struct gort_chan *c, void *ep);
void waiterready(struct sudog *sg);
_Noreturn void blockforever(waitreason reason);
void waitqenqueue(waitq *q, struct sudog *sg);
struct sudog *waitqdequeue(waitq *q);
void waitqremove(waitq *q, struct sudog *sg);

/* ----------------------------------------------------------- sema.c */

void semacquire(uint32_t *addr, bool lifo, waitreason reason);
void semrelease(uint32_t *addr, bool handoff);
uint32_t notifylistadd(gort_cond *l);
void notifylistwait(gort_cond *l, uint32_t ticket);
void notifylistnotifyone(gort_cond *l);
void notifylistnotifyall(gort_cond *l);

/* ----------------------------------------------------------- time.c */

/*
 * A runtime timer: f(arg) runs on some M holding a P once when has come
 * (then every period, if set).  pp is the P whose heap holds it, NULL when
 * it is in none; it changes only under that P's timerslock.
 */
struct timer {
	int64_t when;
	int64_t period;
	void (*f)(void *arg);
	void *arg;
	_Atomic(struct p *) pp;
	int32_t idx;             /* in pp's heap */
	_Atomic int32_t running; /* f is running: the timer must not be freed */
};

void addtimer(struct timer *t, int64_t when);
bool deltimer(struct timer *t);
int64_t checktimers(struct p *pp, int64_t now);
int64_t nexttimer(void);
void timerwake(int64_t when);
void timerwait(struct timer *t);
void movetimers(struct p *to, struct p *from);

/* ----------------------------------------------------------- netpoll.c */

extern _Atomic int32_t netpollwaiters; /* goroutines parked on a descriptor */
bool netpollinited(void);
struct g *netpoll(int64_t delay, int32_t *n);
void netpollbreak(void);

/* ----------------------------------------------------------- traceback.c */

struct ucontext_t;
void crashtraceback(struct g *gp, struct ucontext_t *sigctx, bool all);
void dumpgoroutines(struct g *gp);
void tracebackhere(struct g *gp);
_Noreturn void crashexit(void);
bool runtimepc(uintptr_t pc);
bool tracebackpc(uintptr_t pc, char *name, size_t namesz, char *file, size_t filesz, int *line);

/* ----------------------------------------------------------- trace.c */

/*
 * Whether an execution trace is being written.  The scheduler looks at it
 * before each event it would write, and calls the trace* functions below,
 * which look again, only when it is set.  Built with GORT_NOTRACE, no
 * event is ever written: bench/run.sh measures against such a build what
 * the tracer costs while off.
 */
extern _Atomic bool trace_enabled;

static inline bool traceenabled(void)
{
#ifdef GORT_NOTRACE
	return false;
#else
	return unlikely(load_relaxed(&trace_enabled));
#endif
}

void traceGoCreate(struct g *newg);
void traceGoStart(struct g *gp, bool switched);
void traceGoEnd(void);
void traceGoPark(waitreason reason);
void traceGoUnpark(struct g *gp);
/* gp yields, or is preempted: the caller, or, on g0, a goroutine stopped in mcall, whose stack is read where mcall left it. */
void traceGoSched(struct g *gp);
void traceGoPreempt(struct g *gp);
void traceProcStart(struct m *mp);
void traceProcStop(void);
void traceGomaxprocs(int32_t n);
void traceGoSysCall(void);
void traceGoSysBlock(struct p *pp, bool procstop);
void traceGoSysExit(struct g *gp);
void traceboot(void);
void tracemainreturn(void);
void tracecrash(void);

#endif /* GORT_RUNTIME_H */
