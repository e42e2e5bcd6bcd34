/*
 * gort: the Go runtime for C programs.
 *
 * Goroutines multiplexed M:N onto OS threads by a work-stealing scheduler,
 * with Go's semantics and Go's messages.  This is the only header a program
 * includes; every type it names is opaque or documented here.
 *
 * Threads.  A goroutine may resume on a different OS thread after any call
 * that can block or reschedule it (gort_yield, channel operations, select,
 * the sync primitives, gort_sleep, the I/O calls, gort_syscall_enter and
 * exit; never gort_go or gort_now).  Thread-local state of the C library therefore
 * moves under a goroutine's feet, and compilers keep the address of errno
 * or of a __thread variable across calls: in a function that calls
 * gort_yield, a later errno may be another thread's.  Check errno in a
 * function of its own that does not reschedule.  Code that needs one fixed
 * thread calls gort_lock_os_thread().
 *
 * Errors.  Functions that can fail for reasons outside the caller's control
 * (memory) return -1 and set errno.  Misuse (a NULL function, calling the
 * API outside gort_main) is a fatal error: gort prints
 * "fatal error: <what>" to stderr and exits with status 2, as Go does.
 *
 * Environment, read once when gort_main starts:
 *   GORT_MAXPROCS  number of goroutines that may run in parallel (Go's
 *                  GOMAXPROCS).  Default: the CPUs this process may use,
 *                  limited by its affinity mask and its cgroup CPU quota.
 *   GORT_STACK     default goroutine stack size in bytes; a K, M or G suffix
 *                  multiplies by 1024, 1024^2 or 1024^3.  Default 256K.
 *   GORT_DEBUG     comma-separated name=value debug switches (like GODEBUG),
 *                  listed in the README.
 */
#ifndef GORT_H
#define GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GORT_EXPORT __attribute__((visibility("default")))
#else
#define GORT_EXPORT
#endif

/*
 * Boots the runtime, runs main_fn(arg) as goroutine 1 and returns its result
 * once it returns.  The calling thread only waits; goroutines run on threads
 * the runtime creates.  Goroutines still alive when main_fn returns are
 * abandoned, as in Go: no new goroutine is scheduled after that point, and
 * those running finish their current stretch between scheduling points.
 * gort_main may be called once per process; a second call is a fatal error.
 */
GORT_EXPORT int gort_main(int (*main_fn)(void *arg), void *arg);

/*
 * Starts fn(arg) in a new goroutine with the default stack size and returns
 * 0.  Returns -1 with errno ENOMEM if no memory for its stack or descriptor
 * could be had; the runtime keeps working.  May be called from goroutines
 * and, while gort_main runs, from threads the runtime does not own.
 * A NULL fn is the fatal error "go of nil func value".
 *
 * Floating-point settings are per goroutine, as they are per thread: the
 * new goroutine starts with the caller's rounding mode and exception masks
 * (MXCSR and the x87 control word, as fesetround and fesetenv set them),
 * and what either changes later is its own, SSE exception flags included.
 *
 * A goroutine that keeps creating goroutines for a whole time slice (10 ms,
 * as Go's) is preempted here, to let the ones it created run; it continues
 * afterwards on the same thread, so errno and thread-locals stay its own.
 */
GORT_EXPORT int gort_go(void (*fn)(void *arg), void *arg);

/*
 * Goroutine attributes.  A zero field means "the default".
 *   stack_size  usable stack bytes, rounded up to a page.  The stack is a
 *               virtual reservation: memory is spent only on pages the
 *               goroutine touches.  Below it lies a guard region; running
 *               into it is the fatal error "stack overflow".
 *   name        shown in crash reports; copied (up to 31 bytes), so it need
 *               not outlive the call.
 */
typedef struct gort_attr {
	size_t stack_size;
	const char *name;
} gort_attr;

/*
 * Like gort_go, with attributes; attr may be NULL.  Fails with EINVAL for a
 * stack_size above 1 GiB.
 */
GORT_EXPORT int gort_go_attr(const gort_attr *attr, void (*fn)(void *arg), void *arg);

/*
 * Yields the processor, letting other goroutines run; the caller continues
 * later, perhaps on another thread (Go's runtime.Gosched).  On a thread the
 * runtime does not own it yields the thread instead.
 */
GORT_EXPORT void gort_yield(void);

/*
 * Ends the calling goroutine (Go's runtime.Goexit), after running all its
 * deferred calls, in which gort_recover returns false.  Calling it from the
 * main goroutine ends only that goroutine: the program continues until the
 * others are done, and then dies with Go's "fatal error: no goroutines
 * (main called runtime.Goexit) - deadlock!".  Calling it from a thread that
 * is not running a goroutine is a fatal error.
 */
GORT_EXPORT _Noreturn void gort_goexit(void);

/* The calling goroutine's id (goroutine 1 runs main_fn); 0 outside goroutines. */
GORT_EXPORT int64_t gort_goid(void);

/*
 * Sets the number of goroutines that may run in parallel when n > 0 and
 * returns the previous value (Go's runtime.GOMAXPROCS).  Changing it waits
 * until every running goroutine reaches a scheduling point.
 */
GORT_EXPORT int gort_maxprocs(int n);

/* The number of goroutines that exist, the caller included. */
GORT_EXPORT int gort_num_goroutine(void);

/*
 * Writes every goroutine to fd as a SIGQUIT dump shows them (status, wait
 * reason, how long it has waited when a minute or more, traceback,
 * "created by"), the caller's first: Go's runtime.Stack(buf, true).  The
 * other goroutines stay where they are while it writes (the world is
 * stopped).  Returns 0, or -1 with errno EBADF if fd is not open.  Only a
 * goroutine may call it; from another thread it is a fatal error.
 */
GORT_EXPORT int gort_dump(int fd);

/*
 * The scheduler's counters, as gort_read_stats finds them.  Counts since
 * gort_main started; each field is read on its own while goroutines run,
 * so the fields together are a snapshot only approximately.
 */
typedef struct gort_stats {
	int64_t goroutines;         /* that exist now (gort_num_goroutine) */
	int64_t goroutines_created; /* ever, goroutine 1 included */
	int32_t threads;            /* the runtime's OS threads: the Ms and sysmon */
	int32_t idle_threads;       /* Ms asleep with nothing to run */
	int32_t procs;              /* Ps: GORT_MAXPROCS */
	int32_t idle_procs;         /* Ps with nothing to run */
	int64_t runqueue;           /* goroutines in the global run queue */
	int64_t local_runqueue;     /* goroutines in the Ps' own queues */
	int64_t steals;             /* goroutines an idle P took from another P's queue */
	int64_t parks;              /* times a goroutine blocked: channel, select, lock, sleep... */
	int64_t stack_reserved;     /* bytes of address space mapped for stacks, guards included */
	int64_t stack_resident;     /* bytes of the default-size stacks in memory (mincore) */
} gort_stats;

/*
 * Fills *stats.  Never blocks on goroutines, but stack_resident asks the
 * kernel about every page of stack address space: a call takes about half
 * a millisecond per 1,000 stacks the program has had at once.  A NULL
 * stats is a fatal error.
 */
GORT_EXPORT void gort_read_stats(gort_stats *stats);

/*
 * Execution traces (Go's runtime/trace), in the format of Go 1.19's, which
 * `go tool trace FILE` opens; `gort-trace` (installed with the library)
 * turns one into JSON for Perfetto and prints a summary.  GORT_TRACE=path
 * traces a whole program instead: from gort_main's start until it
 * returns, or until the process exits, panics or dies of a fatal error,
 * the file being complete each way.
 */

/*
 * Starts writing an execution trace to fd: every goroutine's creation,
 * start, blocking (on what, where), unblocking and end, on which
 * processor, with C function names in its stacks.  The world stops while
 * the goroutines alive are recorded.  Call it from a goroutine, or before
 * gort_main.  Returns 0, or -1 with errno: EBUSY if a trace is being
 * written, EBADF if fd is not open, EPERM from a thread that is not a
 * goroutine while gort_main runs, or the error writing fd.
 */
GORT_EXPORT int gort_trace_start(int fd);

/*
 * Ends the trace: what is still buffered is written, then the tables the
 * viewer needs; the file is complete and valid when it returns.  Every
 * goroutine running at that moment is shown descheduled there.  fd stays
 * open.  Returns 0, or -1 with errno: EINVAL if no trace is being written,
 * or the first error writing fd.  Callable from any thread.
 */
GORT_EXPORT int gort_trace_stop(void);

/*
 * A log message in the trace, on the calling goroutine, under category
 * (NULL: none): Go's trace.Log.  Nothing happens when no trace is being
 * written.  A NULL message is a fatal error.
 */
GORT_EXPORT void gort_trace_log(const char *category, const char *message);

/*
 * User tasks and regions (Go's trace.NewTask and trace.StartRegion), shown
 * by the viewer's "User-defined tasks" and "User-defined regions" pages.
 * A task is a piece of work that may span goroutines: start one, pass its
 * id to the goroutines that work on it, end it when done.  parent is the
 * id of the task it is part of, or 0.  Task ids are handed out whether or
 * not a trace is being written, so code can be traced at any time.
 */
GORT_EXPORT uint64_t gort_trace_task_start(uint64_t parent, const char *name);
GORT_EXPORT void gort_trace_task_end(uint64_t task);

/* gort_trace_log, for a task (0: none). */
GORT_EXPORT void gort_trace_task_log(uint64_t task, const char *category, const char *message);

/*
 * A region of the calling goroutine's time, within a task (0: none).
 * Regions nest: each end names the innermost region the goroutine has
 * started and not ended, as the viewer requires.  A NULL name is a fatal
 * error.
 */
GORT_EXPORT void gort_trace_region_start(uint64_t task, const char *name);
GORT_EXPORT void gort_trace_region_end(uint64_t task, const char *name);

/*
 * Wires the calling goroutine to the thread it runs on: until a matching
 * number of gort_unlock_os_thread calls, it runs only on this thread and no
 * other goroutine does.  Calls nest.  A goroutine that exits while wired
 * takes its thread with it, as in Go.  On a thread the runtime does not own
 * it does nothing: such a thread is fixed already.
 */
GORT_EXPORT void gort_lock_os_thread(void);

/* Undoes one gort_lock_os_thread; a no-op when the goroutine is not wired. */
GORT_EXPORT void gort_unlock_os_thread(void);

/*
 * Defer, panic and recover: Go's error model.
 *
 * Every goroutine has one chain of deferred calls, run last-in first-out.
 * A deferred call belongs to a frame: the innermost gort_call running on
 * the goroutine, or the goroutine's entry function (which is a frame too;
 * for goroutine 1 that is main_fn).  A frame's deferred calls run when it
 * returns, and when a panic or gort_goexit passes through it.
 *
 * A panic runs the pending deferred calls top-down on top of the panicking
 * stack: no C frame is abandoned before they have run.  A deferred call
 * that calls gort_recover stops the panic; its frame then finishes its
 * remaining deferred calls and returns (gort_call returns 1), abandoning
 * the C frames the panic went through.  A panic nobody recovers prints
 * Go's report (the panic, then the goroutine's traceback) and exits the
 * process with status 2.
 *
 * Abandoned C frames run no cleanup of their own: what must be undone on a
 * panic (a lock, a buffer) is undone by a deferred call.  Do not longjmp
 * out of a GORT_DEFER scope.
 */

/*
 * Runs fn(arg) as a frame.  Returns 0 when fn returned (its deferred calls
 * then ran), 1 when a panic inside it was recovered by one of its deferred
 * calls (the rest of them then ran).  A panic not recovered inside it
 * continues through the caller's frame.  A NULL fn is a fatal error.
 */
GORT_EXPORT int gort_call(void (*fn)(void *arg), void *arg);

/*
 * Defers fn(arg) to the end of the innermost frame.  The record comes from
 * a per-processor pool: no allocation in the common case.  Calling it on a
 * thread that is not running a goroutine is a fatal error.
 */
GORT_EXPORT void gort_defer(void (*fn)(void *arg), void *arg);

/*
 * Like gort_defer, but the size bytes at args are copied now (Go evaluates
 * a deferred call's arguments at the defer statement), and fn receives a
 * pointer to the copy, aligned for any type.  Small blocks live in the
 * pooled record; larger ones are allocated and freed once fn has run.
 * Out of memory for the copy is a fatal error.
 */
GORT_EXPORT void gort_defer_copy(void (*fn)(void *args), const void *args, size_t size);

/*
 * GORT_DEFER(fn, arg);  defers fn(arg) to the end of the enclosing C scope,
 * without allocating: the record lives in the scope itself.  It expands to
 * declarations, usable wherever a declaration is.  When the scope ends, on any path
 * (return, break, goto), fn(arg) runs, and before it everything deferred
 * on the goroutine since that has not run yet: the chain stays a strict
 * stack.  A panic runs it like any deferred call.  Requires GCC or Clang
 * (the cleanup attribute).
 *
 * What follows is GORT_DEFER's machinery, not API: the record's words and
 * gort_deferchain_ are private to gort and may change with its version.
 * Both ends of a scope are inline in the common case, as Go's open-coded
 * defers are: the record is linked onto the goroutine's chain at the
 * declaration, and unlinked and called at the end while it is on top.
 */
typedef struct gort_defer_scope {
	void *private_[7];
} gort_defer_scope;

GORT_EXPORT char gort_defer_scope_enter_slow(gort_defer_scope *rec, void (*fn)(void *arg),
					     void *arg);
GORT_EXPORT _Noreturn void gort_defer_scope_fail(void (*fn)(void *arg));
GORT_EXPORT void gort_defer_scope_exit_slow(gort_defer_scope *rec);

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * The running goroutine's chain state {top record, frame}; NULL
 * where deferring is not allowed.  Read with %fs on every use: a goroutine
 * may change threads between two GORT_DEFERs.
 */
extern __thread void *gort_deferchain_;

static inline __attribute__((always_inline)) char
gort_defer_scope_enter(gort_defer_scope *rec, void (*fn)(void *arg), void *arg)
{
	void **chain;
	__asm__ volatile("movq gort_deferchain_@gottpoff(%%rip), %0\n\t"
			 "movq %%fs:(%0), %0"
			 : "=r"(chain)
			 :
			 : "memory");
	if (__builtin_expect(chain == 0 || fn == 0, 0))
		gort_defer_scope_fail(fn);
	/*
	 * Linked first, filled after: the compiler then sees, at the end of a
	 * scope with no call in it, which function the record holds.
	 */
	void *top = chain[0], *frame = chain[1];
	chain[0] = rec;
	rec->private_[0] = top;
	rec->private_[1] = (void *)fn;
	rec->private_[2] = arg;
	rec->private_[3] = frame;
	rec->private_[5] = 0;
	rec->private_[6] = chain;
	return 0;
}
#else
#define gort_defer_scope_enter gort_defer_scope_enter_slow
#endif

static inline __attribute__((always_inline)) void gort_defer_scope_exit(gort_defer_scope *rec)
{
	void **chain = (void **)rec->private_[6];
	if (__builtin_expect(chain[0] == rec, 1)) {
		void (*fn)(void *) = (void (*)(void *))rec->private_[1];
		void *arg = rec->private_[2];
		chain[0] = rec->private_[0];
		fn(arg);
		return;
	}
	gort_defer_scope_exit_slow(rec);
}

#define GORT_DEFER(fn, arg) GORT_DEFER_(__COUNTER__, fn, arg)
#define GORT_DEFER_(n, fn, arg) GORT_DEFER__(n, fn, arg)
#define GORT_DEFER__(n, fn, arg)                                                         \
	gort_defer_scope gort_defer_scope_##n __attribute__((cleanup(gort_defer_scope_exit))); \
	__attribute__((unused)) const char gort_defer_linked_##n =                            \
		gort_defer_scope_enter(&gort_defer_scope_##n, (fn), (arg))

/*
 * Panics with the message msg (not copied: it must stay valid while the
 * panic runs; a string on the panicking goroutine's stack is copied if a
 * deferred call recovers it).  A NULL msg prints as "nil".  On a thread
 * that is not running a goroutine it is a fatal error.
 */
GORT_EXPORT _Noreturn void gort_panic(const char *msg);

/* Panics with a message formatted as by printf. */
GORT_EXPORT _Noreturn void gort_panicf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Panics with a value for the recovering code (Go's panic(v) with v not a
 * string) and a message for the report; with a NULL msg the report shows
 * the value as "(void *) 0x...".
 */
GORT_EXPORT _Noreturn void gort_panic_value(void *value, const char *msg);

/* What a recovered panic carried. */
typedef struct gort_panic_info {
	const char *msg;   /* valid at least until the recovering frame returns */
	void *value;
} gort_panic_info;

/*
 * Stops the panic in progress and returns true, filling *out (out may be
 * NULL), when called during a deferred call that this panic is running
 * (from it, a function it calls, or a GORT_DEFER scope ending inside it),
 * with no gort_call entered since that deferred call began.  Otherwise (no
 * panic, gort_goexit running the calls, a panic already recovered, a
 * nested gort_call) it returns false and does nothing.
 */
GORT_EXPORT bool gort_recover(gort_panic_info *out);

/*
 * Channels (Go's chan T).  A channel carries values of elem_size bytes,
 * copied in and out; cap 0 makes it unbuffered (a send waits for a
 * receiver).  Goroutines and threads the runtime does not own may both use
 * a channel: a blocked goroutine parks, a blocked thread sleeps.  A NULL
 * channel blocks forever, as a nil channel does in Go.
 */
typedef struct gort_chan gort_chan;

/* A new channel; NULL with errno EINVAL for elem_size above 65535 (Go's limit), ENOMEM. */
GORT_EXPORT gort_chan *gort_chan_make(size_t elem_size, size_t cap);

/*
 * Frees c (NULL: nothing).  No operation on c may still be under way, as
 * with free(3); freeing a channel that a goroutine is blocked on is a
 * fatal error.
 */
GORT_EXPORT void gort_chan_free(gort_chan *c);

/*
 * Sends the value at elem, blocking until a receiver takes it or the
 * buffer has room.  Panics "send on closed channel" (recoverable).
 */
GORT_EXPORT void gort_chan_send(gort_chan *c, const void *elem);

/*
 * Receives a value into elem (NULL: drop it), blocking until there is one.
 * Returns false once c is closed and drained, with elem zero-filled.
 */
GORT_EXPORT bool gort_chan_recv(gort_chan *c, void *elem);

/* Sends if that need not block; false otherwise.  Still panics on a closed channel. */
GORT_EXPORT bool gort_chan_trysend(gort_chan *c, const void *elem);

/* Receives if that need not block: 1 received, 0 closed and drained, -1 would block. */
GORT_EXPORT int gort_chan_tryrecv(gort_chan *c, void *elem);

/*
 * Closes c: receivers drain the buffer, then get zero values and false;
 * blocked senders panic.  Panics "close of closed channel" and "close of
 * nil channel".
 */
GORT_EXPORT void gort_chan_close(gort_chan *c);

/* Values buffered in c, and its capacity (0 for NULL). */
GORT_EXPORT size_t gort_chan_len(gort_chan *c);
GORT_EXPORT size_t gort_chan_cap(gort_chan *c);

/*
 * select.  Each case sends *elem on chan or receives into elem (NULL:
 * drop the value); a case with a NULL chan is never ready.  Among the
 * ready cases one is taken at random, as in Go.
 */
enum { GORT_SEND = 1, GORT_RECV = 2 };

typedef struct gort_case {
	gort_chan *chan;
	int dir;       /* GORT_SEND or GORT_RECV */
	void *elem;
	bool ok;       /* set for a receive: false if the channel was closed */
} gort_case;

/*
 * Takes one case and returns its index, blocking until one is ready;
 * without block, returns -1 at once if none is (Go's default case).  A
 * send case on a closed channel panics "send on closed channel".
 */
GORT_EXPORT int gort_select(gort_case *cases, int ncases, bool block);

/* Like a blocking gort_select, but gives up after timeout_ns: -1. */
GORT_EXPORT int gort_select_timeout(gort_case *cases, int ncases, int64_t timeout_ns);

/*
 * Synchronization (Go's sync package).  The types are complete so that
 * they can be embedded and zero-initialised, which makes them ready to
 * use, as in Go; their fields are private.  They work for goroutines and
 * for threads the runtime does not own alike.  None may be copied once
 * used.
 */

/*
 * A mutual exclusion lock: a waiter spins briefly, then sleeps; a waiter
 * passed over for more than 1 ms switches the lock to starvation mode,
 * where it is handed over in FIFO order (Go's sync.Mutex).  Unlocking an
 * unlocked mutex is the fatal error "sync: unlock of unlocked mutex".
 */
typedef struct gort_mutex {
	int32_t state_;
	uint32_t sema_;
} gort_mutex;

GORT_EXPORT void gort_mutex_lock(gort_mutex *m);
GORT_EXPORT bool gort_mutex_trylock(gort_mutex *m);
GORT_EXPORT void gort_mutex_unlock(gort_mutex *m);

/*
 * A reader/writer lock: any number of readers or one writer; a blocked
 * writer keeps new readers out (Go's sync.RWMutex).
 */
typedef struct gort_rwmutex {
	gort_mutex w_;
	uint32_t writersem_;
	uint32_t readersem_;
	int32_t readercount_;
	int32_t readerwait_;
} gort_rwmutex;

GORT_EXPORT void gort_rwmutex_rlock(gort_rwmutex *rw);
GORT_EXPORT void gort_rwmutex_runlock(gort_rwmutex *rw);
GORT_EXPORT void gort_rwmutex_lock(gort_rwmutex *rw);
GORT_EXPORT void gort_rwmutex_unlock(gort_rwmutex *rw);

/*
 * Waits for a collection of goroutines to finish (Go's sync.WaitGroup).
 * A negative counter panics "sync: negative WaitGroup counter"; reusing the
 * group before Wait returned panics "sync: WaitGroup is reused before
 * previous Wait has returned".
 */
typedef struct gort_waitgroup {
	uint64_t state_;
	uint32_t sema_;
} gort_waitgroup;

GORT_EXPORT void gort_waitgroup_add(gort_waitgroup *wg, int64_t delta);
GORT_EXPORT void gort_waitgroup_done(gort_waitgroup *wg);
GORT_EXPORT void gort_waitgroup_wait(gort_waitgroup *wg);

/* Runs fn(arg) once; every caller returns after it has run (Go's sync.Once). */
typedef struct gort_once {
	uint32_t done_;
	gort_mutex m_;
} gort_once;

GORT_EXPORT void gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg);

/* A condition variable used with a gort_mutex (Go's sync.Cond). */
typedef struct gort_cond {
	uint32_t wait_;
	uint32_t notify_;
	uint32_t lock_;
	void *head_;
	void *tail_;
} gort_cond;

/* Unlocks m, waits for a signal, locks m again.  Wakeups come in FIFO order. */
GORT_EXPORT void gort_cond_wait(gort_cond *c, gort_mutex *m);
GORT_EXPORT void gort_cond_signal(gort_cond *c);
GORT_EXPORT void gort_cond_broadcast(gort_cond *c);

/*
 * Time (Go's time package).  Timers live in per-processor heaps run by the
 * scheduler; an idle thread sleeps until the next one is due.
 */

/* Monotonic time in nanoseconds. */
GORT_EXPORT int64_t gort_now(void);

/* Sleeps for ns nanoseconds (the goroutine parks; a plain thread sleeps). */
GORT_EXPORT void gort_sleep(int64_t ns);

typedef struct gort_timer gort_timer;

/*
 * A timer that sends gort_now() (an int64_t) on its channel once, ns from
 * now (Go's time.NewTimer).  The channel has room for one value.  NULL
 * with errno ENOMEM.
 */
GORT_EXPORT gort_timer *gort_timer_make(int64_t ns);

/* A ticker: sends every period_ns, dropping ticks a slow reader misses (time.NewTicker). */
GORT_EXPORT gort_timer *gort_ticker_make(int64_t period_ns);

/* A timer that runs fn(arg) in a goroutine of its own, ns from now (time.AfterFunc). */
GORT_EXPORT gort_timer *gort_after_func(int64_t ns, void (*fn)(void *arg), void *arg);

/* The channel a timer or ticker sends on (NULL for gort_after_func). */
GORT_EXPORT gort_chan *gort_timer_chan(gort_timer *t);

/*
 * Stops t; true if that prevented it from firing, false if it had fired
 * or was stopped already (Go's Timer.Stop).  A value already sent stays
 * in the channel.
 */
GORT_EXPORT bool gort_timer_stop(gort_timer *t);

/*
 * Makes t fire ns from now (a ticker: every ns); true if it was active
 * (Go's Timer.Reset).
 */
GORT_EXPORT bool gort_timer_reset(gort_timer *t, int64_t ns);

/* Stops t and frees it and its channel. */
GORT_EXPORT void gort_timer_free(gort_timer *t);

/*
 * Network and system calls (Go's netpoller and entersyscall).
 *
 * A descriptor used through these calls is made non-blocking and
 * registered with the netpoller (epoll) on first use.  A call that would
 * block parks only the calling goroutine; the netpoller readies it when
 * the descriptor is ready.  Descriptors epoll cannot watch (regular files)
 * are read and written with a plain call made as a blocking system call
 * (gort_syscall_enter), so these calls work on any descriptor.  A
 * descriptor used here must be closed with gort_close, which also
 * forgets it.  Errors are those of the system call: -1 with errno set,
 * plus ETIMEDOUT past a deadline and EBADF for a descriptor closed by
 * gort_close while a call waited on it.  On a thread that is not a
 * goroutine, the calls block the thread, as the system calls would.
 */

/* read(2): waits until fd has data, end of file or an error. */
GORT_EXPORT ssize_t gort_read(int fd, void *buf, size_t n);

/*
 * write(2), but writes all n bytes (waiting for room as often as needed)
 * unless an error or the write deadline intervenes, as Go's Write: the
 * result is n, or -1 with errno set.  A socket whose peer has gone fails
 * with EPIPE and raises no SIGPIPE, as in Go.
 */
GORT_EXPORT ssize_t gort_write(int fd, const void *buf, size_t n);

/*
 * accept4(2) on a listening socket: waits for a connection.  The new
 * descriptor is non-blocking and close-on-exec, registered already, and
 * for TCP has Nagle's algorithm off (TCP_NODELAY), as Go's connections.
 */
GORT_EXPORT int gort_accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen);

/*
 * connect(2): waits until the connection is made or fails (the write
 * deadline bounds the wait); 0, or -1 with the connection's error.
 */
GORT_EXPORT int gort_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);

/* recvfrom(2): waits for a datagram or data. */
GORT_EXPORT ssize_t gort_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
				  socklen_t *addrlen);

/* sendto(2): waits for room to send. */
GORT_EXPORT ssize_t gort_sendto(int fd, const void *buf, size_t n, int flags,
				const struct sockaddr *addr, socklen_t addrlen);

/*
 * Closes fd.  Every goroutine blocked on it wakes, and its call fails with
 * EBADF; the descriptor is closed once the last call using it has
 * returned, so its number is never reused under a call in flight.
 */
GORT_EXPORT int gort_close(int fd);

/*
 * Sets fd's deadlines, absolute gort_now() times (0: none).  A blocked
 * call, and any later one, fails with ETIMEDOUT once its deadline has
 * passed; a new deadline applies to calls already blocked.
 */
GORT_EXPORT int gort_set_deadline(int fd, int64_t read_deadline_ns, int64_t write_deadline_ns);

/*
 * Parks until fd is ready for events (POLLIN, POLLOUT or both) or the
 * deadline (absolute, 0: none) passes: for libraries that do their own
 * I/O on a non-blocking descriptor.  The ready events (a subset of
 * events, with POLLERR or POLLHUP when the kernel reports them), 0 at
 * the deadline, or -1 with errno.
 */
GORT_EXPORT int gort_poll_fd(int fd, int events, int64_t deadline_ns);

/*
 * A listening TCP socket on host:port (host NULL: every address), with
 * SO_REUSEADDR; port "0" picks a free port (getsockname tells which).
 * -1 with errno; a name that does not resolve is EADDRNOTAVAIL.
 */
GORT_EXPORT int gort_listen_tcp(const char *host, const char *port, int backlog);

/*
 * A TCP connection to host:port, trying each address in turn until one
 * connects or the deadline (absolute, 0: none) passes.  The name is
 * resolved by getaddrinfo as a blocking system call.  -1 with errno: the
 * last address's error, ETIMEDOUT, or EHOSTUNREACH if the name does not
 * resolve.
 */
GORT_EXPORT int gort_dial_tcp(const char *host, const char *port, int64_t deadline_ns);

/*
 * Brackets a call that may block in the kernel where gort cannot see it
 * (a disk read, getaddrinfo, a C library's own socket).  The goroutine
 * keeps its processor for a quick return; if the call lasts longer than
 * about 20 microseconds, the runtime's monitor thread hands the processor
 * to another thread so that the other goroutines keep running (Go's
 * entersyscall/exitsyscall).  Between the two calls, use no other gort
 * function.  No effect on a thread that is not a goroutine.
 */
GORT_EXPORT void gort_syscall_enter(void);
GORT_EXPORT void gort_syscall_exit(void);

#ifdef __cplusplus
}
#endif

#endif /* GORT_H */
