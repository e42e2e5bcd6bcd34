/*
 * Telling AddressSanitizer, ThreadSanitizer and Valgrind about stack
 * switches (DESIGN.md invariant 6).  Every switch is bracketed the same way
 * (../TESTING.md §2; Boost.Context and folly are the models):
 *
 *	san_switch(from, to)	on from's stack, just before the asm switch:
 *				ASan start_switch_fiber with to's stack,
 *				TSan switch_to_fiber(to) as the very last call;
 *	san_arrived(g, from)	first thing on g's stack after the switch:
 *				ASan finish_switch_fiber.
 *
 * Without sanitizers all of this compiles to nothing; Valgrind support
 * costs a check at stack allocation only.
 *
 * TSan keeps a shadow call stack per fiber, and the runtime abandons frames
 * on every switch (g0's are restarted from the top at each mcall), which
 * would overflow it.  So the TSan build compiles the runtime without
 * function entry/exit instrumentation (Makefile); memory accesses and
 * atomics are still checked, and the program's own functions keep theirs.
 */
#ifndef GORT_SAN_H
#define GORT_SAN_H

#include "runtime.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GORT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GORT_ASAN)
#define GORT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(GORT_TSAN)
#define GORT_TSAN 1
#endif

#if defined(GORT_ASAN) || defined(GORT_TSAN)
#define GORT_SAN_FIBERS 1
#endif

#ifdef GORT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GORT_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef GORT_VALGRIND
#include <valgrind/valgrind.h>
#endif

static inline __attribute__((always_inline)) void san_switch(struct g *from, struct g *to, bool exiting)
{
#ifdef GORT_ASAN
	__sanitizer_start_switch_fiber(exiting ? NULL : &from->asan_fake_stack,
				       (const void *)to->stack.lo, to->stack.hi - to->stack.lo);
#endif
#ifdef GORT_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
	(void)from, (void)to, (void)exiting;
}

/* fake: what san_switch saved when this stack was left (NULL: a new goroutine) */
static inline __attribute__((always_inline)) void san_arrived(void *fake)
{
#ifdef GORT_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	(void)fake;
}

/*
 * Fibers: a new goroutine gets a fresh TSan fiber and loses it when it
 * exits, on g0, after switching away.  A fresh fiber per goroutine keeps
 * TSan's shadow call stack from filling with the frames an exiting
 * goroutine abandons.  A g0 uses its thread's own fiber.
 */
static inline void san_newg(struct g *gp, bool g0)
{
#ifdef GORT_TSAN
	gp->tsan_fiber = g0 ? __tsan_get_current_fiber() : __tsan_create_fiber(0);
#endif
	(void)gp, (void)g0;
}

static inline void san_exitg(struct g *gp)
{
#ifdef GORT_TSAN
	__tsan_destroy_fiber(gp->tsan_fiber);
	gp->tsan_fiber = NULL;
#endif
	(void)gp;
}

/*
 * A stack changes hands: clear ASan poison left by frames that were
 * abandoned rather than returned from, and tell Valgrind where stacks are.
 */
static inline void san_stack_unpoison(uintptr_t lo, uintptr_t hi)
{
#ifdef GORT_ASAN
	__asan_unpoison_memory_region((void *)lo, hi - lo);
#endif
	(void)lo, (void)hi;
}

static inline void san_stack_register(struct g *gp)
{
#ifdef GORT_VALGRIND
	if (RUNNING_ON_VALGRIND)
		gp->valgrind_stack = VALGRIND_STACK_REGISTER(gp->stack.lo, gp->stack.hi - 1);
#endif
	(void)gp;
}

static inline void san_stack_deregister(struct g *gp)
{
#ifdef GORT_VALGRIND
	if (gp->valgrind_stack)
		VALGRIND_STACK_DEREGISTER(gp->valgrind_stack);
	gp->valgrind_stack = 0;
#endif
	(void)gp;
}

/*
 * A crash report is being printed: it reads other goroutines' state and
 * stacks without synchronization, with the world frozen as well as it can
 * be, as Go's does.  ThreadSanitizer is told not to report those reads.
 */
#ifdef GORT_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
#endif

static inline void san_crashing(bool begin)
{
#ifdef GORT_TSAN
	if (begin) {
		AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
		AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
	} else {
		AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
		AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
	}
#endif
	(void)begin;
}

#endif /* GORT_SAN_H */
