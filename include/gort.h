/*
 * gort: the Go runtime for C programs.
 *
 * Goroutines multiplexed M:N onto OS threads by a work-stealing scheduler,
 * with Go's semantics and Go's messages.  This is the only header a program
 * includes; every type it names is opaque or documented here.
 *
 * Threads.  A goroutine may resume on a different OS thread after any call
 * that can block or reschedule it (gort_yield, and every blocking call to
 * come; never gort_go).  Thread-local state of the C library therefore
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

#include <stddef.h>
#include <stdint.h>

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
 * Ends the calling goroutine (Go's runtime.Goexit).  Calling it from the
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
 * Wires the calling goroutine to the thread it runs on: until a matching
 * number of gort_unlock_os_thread calls, it runs only on this thread and no
 * other goroutine does.  Calls nest.  A goroutine that exits while wired
 * takes its thread with it, as in Go.  On a thread the runtime does not own
 * it does nothing: such a thread is fixed already.
 */
GORT_EXPORT void gort_lock_os_thread(void);

/* Undoes one gort_lock_os_thread; a no-op when the goroutine is not wired. */
GORT_EXPORT void gort_unlock_os_thread(void);

#ifdef __cplusplus
}
#endif

#endif /* GORT_H */
