/*
 * Goroutine stacks (Go's stack.go, for stacks that never move).
 *
 * C has no pointer maps, so a goroutine's stack can never be copied or
 * grown: it is a fixed virtual reservation, large enough for C code
 * (256 KiB usable by default), of which the kernel commits only the pages
 * the goroutine touches.  Below each stack lies a guard region; running into
 * it is "fatal error: stack overflow", reported by the SIGSEGV handler on
 * the thread's alternate signal stack (signal_unix.c).
 *
 * Layout.  Default-size stacks are slots carved from arenas, one mmap each
 * of many slots, so a million stacks cost a few thousand mappings:
 *
 *	| guard | usable stack ... | guard | usable stack ... | ...
 *	        lo                 hi
 *
 * Guards.  Linux limits a process to vm.max_map_count mappings (65530 by
 * default), and an mprotect'ed guard page splits its arena's mapping in two
 * for every stack.  So the guard is chosen, once, by the first of these the
 * kernel supports (GORT_DEBUG=stackguard=... forces one):
 *   madvise   MADV_GUARD_INSTALL (Linux 6.13): guard markers in the page
 *             tables, no mapping of their own.  Every stack is guarded.
 *   mprotect  PROT_NONE guards while a budget derived from max_map_count
 *             lasts (two mappings a stack, with room left for the rest of
 *             the program); stacks carved beyond the budget are soft.
 *   soft      no hardware guard.  The guard region is a red zone that no
 *             correct program touches, checked in software: a goroutine
 *             whose stack pointer is below its stack when it switches out is
 *             reported at once, and when a goroutine on a soft stack exits,
 *             mincore(2) tells whether any red-zone page was ever touched.
 *             A frame larger than the red zone that overflows and returns
 *             between two switches may corrupt the stack below before it is
 *             reported at exit: weaker than a guard, never silent.
 * A soft stack is marked by bit 0 of its lo address in the pools (lo is
 * page-aligned) and by g.stacksoft while in use.
 *
 * Pools.  A dead G keeps its stack on its P's free list (proc.c), so the
 * spawn fast path touches no pool at all.  Stacks without a G sit in a
 * per-P cache (no lock) and then in a global pool under stacklock.  Past
 * STACKPOOL_DIRTY_MAX stacks, the global pool returns their pages to the OS
 * with MADV_DONTNEED and keeps only the address range.  Arenas are never
 * unmapped: their address space is cheap and they are reused.
 *
 * Stacks of other sizes (gort_attr.stack_size) are mapped one by one and
 * unmapped when their goroutine exits.
 */
#define _GNU_SOURCE
#include "runtime.h"
#include "san.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

size_t stack_default = 256 * 1024;
size_t stack_guard = 16 * 1024;

enum {
	ARENA_MIN_SLOTS = 64,
	ARENA_MAX_SLOTS = 4096,
	STACKPOOL_DIRTY_MAX = 128,
	MAPS_RESERVED = 16384, /* mappings left to the rest of the program */
	STACK_MIN = 16 * 1024,
};
#define STACK_MAX ((size_t)1 << 30)
#define SOFTBIT ((uintptr_t)1)

static size_t pagesize;
static int32_t guardmode;       /* STACKGUARD_MADVISE, _MPROTECT or _SOFT */
static mutex stacklock;
static uintptr_t arena_next, arena_end;
static size_t arena_slots = ARENA_MIN_SLOTS;
static int64_t guardbudget;     /* mprotect guards left (stacklock) */

/* the global pool: pages resident (dirty) or returned to the OS (clean) */
struct stackvec {
	uintptr_t *v;
	size_t n, cap;
};
static struct stackvec pooldirty, poolclean;

static size_t slotsize(void)
{
	return stack_guard + stack_default;
}

static bool vecpush(struct stackvec *sv, uintptr_t lo)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 256;
		uintptr_t *v = realloc(sv->v, cap * sizeof *v);
		if (v == NULL)
			return false;
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = lo;
	return true;
}

static bool guardsupported(void)
{
	void *p = mmap(NULL, 2 * pagesize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	bool ok = madvise(p, pagesize, MADV_GUARD_INSTALL) == 0;
	munmap(p, 2 * pagesize);
	return ok;
}

static int64_t maxmapcount(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	long long n = 65530;
	if (f) {
		if (fscanf(f, "%lld", &n) != 1)
			n = 65530;
		fclose(f);
	}
	return n;
}

void stackinit(void)
{
	pagesize = (size_t)sysconf(_SC_PAGESIZE);
	const char *s = getenv("GORT_STACK");
	if (s != NULL && *s != 0) {
		size_t n = parsebytes("GORT_STACK", s);
		if (n < STACK_MIN || n > STACK_MAX)
			throw("GORT_STACK: stack size must be between 16K and 1G");
		stack_default = (n + pagesize - 1) & ~(pagesize - 1);
	}
	guardmode = debug.stackguard;
	if (guardmode == STACKGUARD_AUTO || guardmode == STACKGUARD_MADVISE)
		guardmode = guardsupported() ? STACKGUARD_MADVISE : STACKGUARD_MPROTECT;
	if (guardmode == STACKGUARD_MPROTECT) {
		int64_t budget = (maxmapcount() - MAPS_RESERVED) / 2;
		guardbudget = budget > 0 ? budget : 0;
	}
}

/*
 * Guards the region [base, base+stack_guard) below a new stack; returns
 * false if the stack must be soft.  Called with stacklock held.
 */
static bool guardinstall(uintptr_t base)
{
	switch (guardmode) {
	case STACKGUARD_MADVISE:
		return madvise((void *)base, stack_guard, MADV_GUARD_INSTALL) == 0;
	case STACKGUARD_MPROTECT:
		if (guardbudget == 0 || mprotect((void *)base, stack_guard, PROT_NONE) != 0)
			return false;
		guardbudget--;
		return true;
	default:
		return false;
	}
}

/* A slot from the pool or a new one from an arena, as lo|SOFTBIT; 0 if none. */
static uintptr_t poolget(void)
{
	if (pooldirty.n > 0)
		return pooldirty.v[--pooldirty.n];
	if (poolclean.n > 0)
		return poolclean.v[--poolclean.n];
	if (arena_next == arena_end) {
		size_t len = arena_slots * slotsize();
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return 0;
		arena_next = (uintptr_t)p;
		arena_end = arena_next + len;
		if (arena_slots < ARENA_MAX_SLOTS)
			arena_slots *= 2;
	}
	uintptr_t base = arena_next;
	arena_next += slotsize();
	return (base + stack_guard) | (guardinstall(base) ? 0 : SOFTBIT);
}

/*
 * Puts slots into the global pool; past the bound, the oldest dirty ones
 * give their pages back.  Called with stacklock held.
 */
static void poolput(uintptr_t lo)
{
	if (!vecpush(&pooldirty, lo)) {
		/* No memory to remember the slot: give its pages back at least. */
		madvise((void *)(lo & ~SOFTBIT), stack_default, MADV_DONTNEED);
		return;
	}
	if (pooldirty.n <= STACKPOOL_DIRTY_MAX)
		return;
	size_t keep = STACKPOOL_DIRTY_MAX / 2, i;
	for (i = 0; i < pooldirty.n - keep; i++) {
		uintptr_t s = pooldirty.v[i];
		madvise((void *)(s & ~SOFTBIT), stack_default, MADV_DONTNEED);
		if (!vecpush(&poolclean, s))
			break;
	}
	memmove(pooldirty.v, pooldirty.v + i, (pooldirty.n - i) * sizeof(uintptr_t));
	pooldirty.n -= i;
}

/* Maps a stack of a size other than the default. */
static bool stackmap(struct g *gp, size_t size)
{
	void *p = mmap(NULL, stack_guard + size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	lock(&stacklock);
	gp->stacksoft = !guardinstall((uintptr_t)p);
	unlock(&stacklock);
	gp->stack.lo = (uintptr_t)p + stack_guard;
	gp->stack.hi = gp->stack.lo + size;
	return true;
}

/*
 * Gives gp a stack of size usable bytes (0: the default), from pp's cache
 * when pp is not NULL.  False, with errno set, if none can be had.
 */
bool stackalloc(struct p *pp, struct g *gp, size_t size)
{
	if (size == 0)
		size = stack_default;
	if (size > STACK_MAX) {
		errno = EINVAL;
		return false;
	}
	size = size < STACK_MIN ? STACK_MIN : (size + pagesize - 1) & ~(pagesize - 1);
	if (size != stack_default) {
		if (!stackmap(gp, size)) {
			errno = ENOMEM;
			return false;
		}
	} else {
		uintptr_t lo = 0;
		if (pp != NULL && pp->nstackcache > 0) {
			lo = pp->stackcache[--pp->nstackcache];
		} else {
			lock(&stacklock);
			lo = poolget();
			/* refill half the cache while the lock is held */
			while (pp != NULL && lo != 0 && pp->nstackcache < PSTACKCACHE_SIZE / 2 &&
			       (pooldirty.n > 0 || poolclean.n > 0))
				pp->stackcache[pp->nstackcache++] = poolget();
			unlock(&stacklock);
			if (lo == 0) {
				errno = ENOMEM;
				return false;
			}
		}
		gp->stacksoft = lo & SOFTBIT;
		gp->stack.lo = lo & ~SOFTBIT;
		gp->stack.hi = gp->stack.lo + stack_default;
	}
	san_stack_register(gp);
	return true;
}

/* Takes gp's stack away from it, into pp's cache when pp is not NULL. */
void stackfree(struct p *pp, struct g *gp)
{
	uintptr_t lo = gp->stack.lo, hi = gp->stack.hi;
	san_stack_deregister(gp);
	san_stack_unpoison(lo, hi);
	gp->stack.lo = gp->stack.hi = 0;
	if (hi - lo != stack_default) {
		if (!gp->stacksoft && guardmode == STACKGUARD_MPROTECT) {
			lock(&stacklock);
			guardbudget++;
			unlock(&stacklock);
		}
		munmap((void *)(lo - stack_guard), stack_guard + (hi - lo));
		return;
	}
	lo |= gp->stacksoft ? SOFTBIT : 0;
	if (pp != NULL && pp->nstackcache < PSTACKCACHE_SIZE) {
		pp->stackcache[pp->nstackcache++] = lo;
		return;
	}
	lock(&stacklock);
	/* a full cache drains half, so the next frees are cheap again */
	while (pp != NULL && pp->nstackcache > PSTACKCACHE_SIZE / 2)
		poolput(pp->stackcache[--pp->nstackcache]);
	poolput(lo);
	unlock(&stacklock);
}

/* Empties pp's cache into the global pool (pp is being destroyed). */
void stackcache_flush(struct p *pp)
{
	lock(&stacklock);
	while (pp->nstackcache > 0)
		poolput(pp->stackcache[--pp->nstackcache]);
	unlock(&stacklock);
}

/*
 * Whether a fault at addr with stack pointer sp is gp running off its
 * stack: the address is in the guard, or the stack pointer itself went
 * below the stack (a frame larger than the guard jumped over it).
 */
bool stack_inguard(struct g *gp, uintptr_t addr, uintptr_t sp)
{
	uintptr_t lo = gp->stack.lo;
	if (lo == 0)
		return false;
	if (addr < lo && addr >= lo - stack_guard)
		return true;
	return sp < lo && sp >= lo - stack_guard - (1u << 20);
}

static void printstackline(struct g *gp, uintptr_t sp)
{
	printstr("runtime: goroutine stack exceeds ");
	printint((int64_t)(gp->stack.hi - gp->stack.lo));
	printstr("-byte limit\n");
	printstr("runtime: sp=");
	printhex(sp);
	printstr(" stack=[");
	printhex(gp->stack.lo);
	printstr(", ");
	printhex(gp->stack.hi);
	printstr("]\n");
}

/*
 * Reports gp's stack overflow, Go's way, and exits with status 2.  It may
 * run in a signal handler on the alternate stack: write(2) and _exit only.
 */
_Noreturn void stackoverflow(struct g *gp, uintptr_t sp)
{
	printlock();
	printstackline(gp, sp);
	if (gp->name[0] != 0) {
		printstr("runtime: goroutine \"");
		printstr(gp->name);
		printstr("\"\n");
	}
	printstr("fatal error: stack overflow\n");
	printstr("\ngoroutine ");
	printint(gp->goid);
	printstr(" [running]:\n");
	printunlock();
	_exit(2);
}

/*
 * Checks the red zone of a soft stack whose goroutine just exited: a
 * resident page there means the goroutine overflowed at some point.
 */
void stackcheck_soft(struct g *gp)
{
	size_t n = stack_guard / pagesize;
	unsigned char vec[n];
	if (mincore((void *)(gp->stack.lo - stack_guard), stack_guard, vec) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (vec[i] & 1) {
			printlock();
			printstr("runtime: goroutine ");
			printint(gp->goid);
			printstr(" ran below its stack before it exited\n");
			printunlock();
			stackoverflow(gp, gp->stack.lo - stack_guard + i * pagesize);
		}
}
