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
 *             the program); stacks guarded beyond the budget are soft.
 *   soft      no hardware guard.  The guard region is a red zone that no
 *             correct program touches, checked in software: a goroutine
 *             whose stack pointer is below its stack when it switches out is
 *             reported at once, and when a goroutine on a soft stack exits,
 *             mincore(2) tells whether any red-zone page was ever touched.
 *             Weaker than a guard, never silent: an overflow may first
 *             corrupt the stacks below it, until it faults at the bottom of
 *             its arena, switches, or exits.
 *
 * A stack's life.  gort_go binds a slot to the new goroutine at once, so
 * that running out of memory is reported to its caller (ENOMEM), but does
 * not touch it.  When the goroutine first runs (stackstart, on g0), a slot
 * the goroutine has not touched is swapped for a warm one its P freed
 * recently (or, with none, one from the global pool): a program that
 * creates a burst of goroutines then runs them on a handful of stacks that
 * stay in cache, while the burst's own slots are only address space.  Warm
 * slots are spent there alone: gort_go binds clean ones, or new address
 * space, as long as any is to be had.  So the pages resident are those of
 * goroutines that have run, never those of goroutines waiting in a queue,
 * and the pool's bound below is not forever shedding pages that are about
 * to be touched again.  The guard is installed at the first run too, once
 * per slot, so slots that never run cost no system call and no page table.
 *
 * Slot state travels with the slot: in g.stackflags while bound, and in the
 * low bits of its (page-aligned) address in the pools:
 *   STK_GUARDED  its guard is installed;
 *   STK_SOFT     it can have none (checked in software, above);
 *   STK_DIRTY    its pages have been touched.
 *
 * Pools.  A P keeps freed slots in two small caches, dirty and clean, with
 * no lock; beyond them is a global pool under stacklock.  Past a bound,
 * the global pool returns the pages of its oldest dirty slots to the OS
 * with MADV_DONTNEED and keeps only the address range.  The bound follows
 * demand, as Go's scavenger does: the pool may hold as many slots as the
 * most default stacks in use at once lately (a high-water mark that halves
 * every STACKPOOL_DECAY_NS) less those in use now, and at least
 * STACKPOOL_DIRTY_MIN.  A program whose goroutines rise and fall by
 * thousands then reuses warm stacks, where a fixed bound would have it give
 * pages away and fault them back in a moment later.  When the whole runtime
 * goes idle, the pool gives back all but STACKPOOL_DIRTY_MIN at once
 * (stackscavenge): nothing needs a warm stack then.  Arenas are never
 * unmapped: their address space is cheap and they are reused.
 *
 * Stacks of other sizes (gort_attr.stack_size) are mapped one by one and
 * unmapped when their goroutine exits.
 */
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
	CARVE_BATCH = PSTACKCACHE_SIZE / 2,
	STACKPOOL_DIRTY_MIN = 128,
	MAPS_RESERVED = 16384, /* mappings left to the rest of the program */
	STACK_MIN = 16 * 1024,
};
#define STACKPOOL_DECAY_NS ((int64_t)1000 * 1000 * 1000)
#define STACK_MAX ((size_t)1 << 30)
#define STK_FLAGS ((uintptr_t)(STK_GUARDED | STK_SOFT | STK_DIRTY))

static size_t pagesize;
static int32_t guardmode;       /* STACKGUARD_MADVISE, _MPROTECT or _SOFT */
static mutex stacklock;
static uintptr_t arena_next, arena_end;
static size_t arena_slots = ARENA_MIN_SLOTS;
static int64_t guardbudget;     /* mprotect guards left (stacklock) */
static int64_t inusepeak, inusepeakwhen; /* the high-water mark and when it was set (stacklock) */

/* Every arena, newest first: records are never changed or freed once linked. */
struct arena {
	struct arena *next;
	uintptr_t base;
	size_t len;
};
static struct arena *_Atomic arenas;
static _Atomic int64_t mappedbytes; /* stack address space: arenas and stacks of other sizes */

/* the global pool: slots with pages resident (dirty), and without (clean) */
struct stackvec {
	uintptr_t *v;
	size_t n, cap;
};
static struct stackvec pooldirty, poolclean;
static _Atomic size_t npooldirty; /* pooldirty.n, for a look without the lock */

static size_t slotsize(void)
{
	return stack_guard + stack_default;
}

static bool vecpush(struct stackvec *sv, uintptr_t slot)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 256;
		uintptr_t *v = realloc(sv->v, cap * sizeof *v);
		if (v == NULL)
			return false;
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = slot;
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
 * Guards the stack whose usable part starts at lo: STK_GUARDED, or
 * STK_SOFT if it cannot be.
 */
static uintptr_t guardinstall(uintptr_t lo)
{
	void *guard = (void *)(lo - stack_guard);
	switch (guardmode) {
	case STACKGUARD_MADVISE:
		return madvise(guard, stack_guard, MADV_GUARD_INSTALL) == 0 ? STK_GUARDED : STK_SOFT;
	case STACKGUARD_MPROTECT: {
		lock(&stacklock);
		bool ok = guardbudget > 0 && mprotect(guard, stack_guard, PROT_NONE) == 0;
		guardbudget -= ok;
		unlock(&stacklock);
		return ok ? STK_GUARDED : STK_SOFT;
	}
	default:
		return STK_SOFT;
	}
}

/* Carves a new slot from an arena, 0 if no memory.  stacklock held. */
static uintptr_t carve(void)
{
	if (arena_next == arena_end) {
		size_t len = arena_slots * slotsize();
		struct arena *a = malloc(sizeof *a);
		if (a == NULL)
			return 0;
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			free(a);
			return 0;
		}
		*a = (struct arena){.next = load_relaxed(&arenas), .base = (uintptr_t)p, .len = len};
		store_release(&arenas, a);
		atomic_fetch_add(&mappedbytes, (int64_t)len);
		/* where THP is "always", a huge page would make every touched stack cost 2 MiB */
		madvise(p, len, MADV_NOHUGEPAGE);
		arena_next = (uintptr_t)p;
		arena_end = arena_next + len;
		if (arena_slots < ARENA_MAX_SLOTS)
			arena_slots *= 2;
	}
	uintptr_t lo = arena_next + stack_guard;
	arena_next += slotsize();
	return lo;
}

/*
 * A slot from the global pool: a dirty one, or a clean one or else a new
 * one; 0 if none.  stacklock held.
 */
static uintptr_t poolget(bool dirty)
{
	if (dirty) {
		if (pooldirty.n == 0)
			return 0;
		uintptr_t slot = pooldirty.v[--pooldirty.n];
		store_relaxed(&npooldirty, pooldirty.n);
		return slot;
	}
	if (poolclean.n > 0)
		return poolclean.v[--poolclean.n];
	return carve();
}

/* Default stacks in use: started and not yet exited. */
static int64_t stacksinuse(void)
{
	int64_t inuse = 0;
	int32_t n = load_acquire(&allplen);
	for (int32_t i = 0; i < n; i++)
		inuse += load_relaxed(&allp[i]->stackinuse);
	return inuse;
}

/* How many dirty slots the global pool keeps (see the top of the file).  stacklock held. */
static size_t dirtybound(void)
{
	int64_t inuse = stacksinuse(), now = nanotime();
	if (inuse >= inusepeak) {
		inusepeak = inuse;
		inusepeakwhen = now;
	} else if (now - inusepeakwhen >= STACKPOOL_DECAY_NS) {
		inusepeak = inuse > inusepeak / 2 ? inuse : inusepeak / 2;
		inusepeakwhen = now;
	}
	int64_t spare = inusepeak - inuse;
	return spare > STACKPOOL_DIRTY_MIN ? (size_t)spare : STACKPOOL_DIRTY_MIN;
}

/* Gives back the pages of the n dirty slots at v, which become clean ones. */
static void slotsrelease(uintptr_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		madvise((void *)(v[i] & ~STK_FLAGS), stack_default, MADV_DONTNEED);
		v[i] &= ~STK_DIRTY;
	}
}

/* Moves the n slots at v to the clean pool.  stacklock held. */
static void poolputclean(const uintptr_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!vecpush(&poolclean, v[i]))
			throw("out of memory in the stack pool");
}

/* Cleans the oldest dirty slots of the pool until keep are left.  stacklock held. */
static void poolrelease(size_t keep)
{
	size_t drop = pooldirty.n - keep;
	slotsrelease(pooldirty.v, drop);
	poolputclean(pooldirty.v, drop);
	memmove(pooldirty.v, pooldirty.v + drop, (pooldirty.n - drop) * sizeof(uintptr_t));
	pooldirty.n -= drop;
	store_relaxed(&npooldirty, pooldirty.n);
}

/*
 * Puts a slot into the global pool; past the bound, the oldest dirty ones
 * give their pages back.  stacklock held.
 */
static void poolput(uintptr_t slot)
{
	if (!(slot & STK_DIRTY)) {
		poolputclean(&slot, 1);
		return;
	}
	if (!vecpush(&pooldirty, slot))
		throw("out of memory in the stack pool");
	store_relaxed(&npooldirty, pooldirty.n);
	if (pooldirty.n <= STACKPOOL_DIRTY_MIN)
		return;
	size_t bound = dirtybound();
	if (pooldirty.n > bound)
		poolrelease(bound / 2);
}

/*
 * The runtime has gone idle: the pool keeps STACKPOOL_DIRTY_MIN dirty
 * slots and gives the rest back, and the high-water mark starts again from
 * what is in use.  The system calls are made a batch at a time without the
 * lock, which a goroutine waking meanwhile may need, and the work stops
 * once stop is woken: the idle M doing it is wanted.
 */
void stackscavenge(note *stop)
{
	uintptr_t batch[64];
	while (load_relaxed(&npooldirty) > STACKPOOL_DIRTY_MIN && !notewoken(stop)) {
		lock(&stacklock);
		inusepeak = stacksinuse();
		inusepeakwhen = nanotime();
		size_t n = 0;
		while (n < sizeof batch / sizeof batch[0] && pooldirty.n > STACKPOOL_DIRTY_MIN)
			batch[n++] = pooldirty.v[--pooldirty.n];
		store_relaxed(&npooldirty, pooldirty.n);
		unlock(&stacklock);
		slotsrelease(batch, n);
		lock(&stacklock);
		poolputclean(batch, n);
		unlock(&stacklock);
	}
}

/* A slot from pp's dirty or clean cache; 0 if it is empty. */
static uintptr_t cacheget(struct p *pp, bool dirty)
{
	if (pp->nstackcache[dirty] == 0)
		return 0;
	return pp->stackcache[dirty][--pp->nstackcache[dirty]];
}

static void cacheput(struct p *pp, uintptr_t slot)
{
	int d = (slot & STK_DIRTY) != 0;
	if (pp->nstackcache[d] == PSTACKCACHE_SIZE) {
		/* a full cache drains half, so the next frees are cheap again */
		lock(&stacklock);
		while (pp->nstackcache[d] > PSTACKCACHE_SIZE / 2)
			poolput(pp->stackcache[d][--pp->nstackcache[d]]);
		unlock(&stacklock);
	}
	pp->stackcache[d][pp->nstackcache[d]++] = slot;
}

/*
 * A slot from the global pool (poolget), and up to CARVE_BATCH more of the
 * same kind into pp's cache, which is empty, while the lock is held.
 */
static uintptr_t poolgetbatch(struct p *pp, bool dirty)
{
	lock(&stacklock);
	uintptr_t slot = poolget(dirty);
	for (int i = 0; pp != NULL && slot != 0 && i < CARVE_BATCH; i++) {
		uintptr_t s = poolget(dirty);
		if (s == 0)
			break;
		cacheput(pp, s);
	}
	unlock(&stacklock);
	return slot;
}

static void stackbind(struct g *gp, uintptr_t slot, size_t size)
{
	gp->stack.lo = slot & ~STK_FLAGS;
	gp->stack.hi = gp->stack.lo + size;
	gp->stackflags = slot & STK_FLAGS;
}

/* Maps a stack of a size other than the default. */
static bool stackmap(struct g *gp, size_t size)
{
	void *p = mmap(NULL, stack_guard + size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	atomic_fetch_add(&mappedbytes, (int64_t)(stack_guard + size));
	madvise(p, stack_guard + size, MADV_NOHUGEPAGE);
	uintptr_t lo = (uintptr_t)p + stack_guard;
	stackbind(gp, lo | guardinstall(lo), size);
	return true;
}

/*
 * Binds a stack of size usable bytes (0: the default) to gp, without
 * touching it; from pp's caches when pp is not NULL.  False, with errno
 * set, if none can be had.
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
		if (stackmap(gp, size))
			return true;
		errno = ENOMEM;
		return false;
	}
	uintptr_t slot = pp != NULL ? cacheget(pp, false) : 0;
	if (slot == 0)
		slot = poolgetbatch(pp, false);
	/* out of address space: the warm slots are all that is left */
	if (slot == 0 && pp != NULL)
		slot = cacheget(pp, true);
	if (slot == 0)
		slot = poolgetbatch(pp, true);
	if (slot == 0) {
		errno = ENOMEM;
		return false;
	}
	stackbind(gp, slot, stack_default);
	return true;
}

/*
 * Makes gp's stack ready for its first run, on pp's g0: a warm slot from
 * pp's dirty cache replaces one gp never touched, and the guard goes in.
 */
void stackstart(struct p *pp, struct g *gp)
{
	bool dflt = gp->stack.hi - gp->stack.lo == stack_default;
	if (dflt)
		pcountadd(&pp->stackinuse, 1);
	if (!(gp->stackflags & STK_DIRTY) && dflt) {
		uintptr_t warm = cacheget(pp, true);
		if (warm == 0 && load_relaxed(&npooldirty) > 0)
			warm = poolgetbatch(pp, true);
		if (warm != 0) {
			cacheput(pp, gp->stack.lo | gp->stackflags);
			stackbind(gp, warm, stack_default);
		}
	}
	if (!(gp->stackflags & (STK_GUARDED | STK_SOFT)))
		gp->stackflags |= guardinstall(gp->stack.lo);
	gp->stackflags |= STK_DIRTY;
	san_stack_register(gp);
}

/* Takes gp's stack away from it as it exits on pp, into pp's cache. */
void stackfree(struct p *pp, struct g *gp)
{
	uintptr_t lo = gp->stack.lo, hi = gp->stack.hi;
	uintptr_t flags = gp->stackflags;
	san_stack_deregister(gp);
	gp->stack.lo = gp->stack.hi = 0;
	gp->stackflags = 0;
	if (hi - lo != stack_default) {
		if ((flags & STK_GUARDED) && guardmode == STACKGUARD_MPROTECT) {
			lock(&stacklock);
			guardbudget++;
			unlock(&stacklock);
		}
		munmap((void *)(lo - stack_guard), stack_guard + (hi - lo));
		atomic_fetch_sub(&mappedbytes, (int64_t)(stack_guard + (hi - lo)));
		return;
	}
	pcountadd(&pp->stackinuse, -1);
	cacheput(pp, lo | flags);
}

/*
 * Stack memory for gort_read_stats: the address space mapped, and how much
 * of the arenas is resident, page by page from mincore(2), a chunk of
 * pages per call so that the vector fits on the caller's stack.
 */
void stackstats(int64_t *reserved, int64_t *resident)
{
	unsigned char vec[1024];
	size_t chunk = sizeof vec * pagesize;
	int64_t pages = 0;
	*reserved = load_relaxed(&mappedbytes);
	for (struct arena *a = load_acquire(&arenas); a != NULL; a = a->next) {
		for (size_t off = 0; off < a->len; off += chunk) {
			size_t len = a->len - off < chunk ? a->len - off : chunk;
			if (mincore((void *)(a->base + off), len, vec) != 0)
				continue;
			for (size_t i = 0; i < len / pagesize; i++)
				pages += vec[i] & 1;
		}
	}
	*resident = pages * (int64_t)pagesize;
}

/* Empties pp's caches into the global pool (pp is being destroyed). */
void stackcache_flush(struct p *pp)
{
	lock(&stacklock);
	for (int d = 0; d < 2; d++)
		while (pp->nstackcache[d] > 0)
			poolput(pp->stackcache[d][--pp->nstackcache[d]]);
	unlock(&stacklock);
}

/*
 * Whether a fault at addr with stack pointer sp is gp running off its
 * stack: the address is in the guard, or the stack pointer itself went
 * below the stack (a frame larger than the guard jumped over it, or, on a
 * soft stack, the recursion ran on through the stacks below until it hit
 * unmapped memory).  A stack pointer far below is some other stack a
 * program switched to itself, and not ours to judge.
 */
bool stack_inguard(struct g *gp, uintptr_t addr, uintptr_t sp)
{
	uintptr_t lo = gp->stack.lo;
	if (lo == 0)
		return false;
	if (addr < lo && addr >= lo - stack_guard)
		return true;
	return sp < lo && lo - sp < STACK_MAX;
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
 * Reports gp's stack overflow, Go's way, and exits with status 2.  From a
 * signal handler (on the alternate stack), uc is the faulting context and
 * the report shows gp's frames; without one it shows gp's header only.
 */
_Noreturn void stackoverflow(struct g *gp, uintptr_t sp, struct ucontext_t *uc)
{
	printlock();
	printstackline(gp, sp);
	if (gp->named) {
		printstr("runtime: goroutine \"");
		printstr(gp->name);
		printstr("\"\n");
	}
	printstr("fatal error: stack overflow\n");
	if (uc != NULL) {
		freezetheworld();
		crashtraceback(gp, uc, false);
	} else {
		printstr("\ngoroutine ");
		printint(gp->goid);
		printstr(" [running]:\n");
	}
	printunlock();
	crashexit();
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
			stackoverflow(gp, gp->stack.lo - stack_guard + i * pagesize, NULL);
		}
}
