/*
 * Runtime locks and notes on Linux futexes (after Go's lock_futex.go).
 *
 * mutex: key is 0 (unlocked) or 1 (locked).  A locker spins a little
 * first: the runtime's critical sections are a few dozen instructions, and
 * a futex round trip is microseconds.  Then it counts itself in sleepers,
 * a table hashed by the lock's address, and sleeps on the key.
 *
 * Uncontended, lock is one atomic exchange and unlock none: a release
 * store of 0, then a look at the lock's sleepers slot.  Two constraints
 * shape that.  The slot lives outside the lock, in memory that outlives
 * it, because the store is the last moment the unlocker may touch the
 * lock: right after it, another thread may take it, finish, and free the
 * channel it is part of.  And an unlock that misses a sleeper would be a
 * lost wakeup, while a store followed by a load of another word is the one
 * reordering x86 allows; so the two sides are fenced asymmetrically.  A
 * sleeper counts itself, then membarrier(2) runs a full barrier on every
 * CPU running one of our threads, and only then checks the key a last
 * time.  An unlock whose store was still pending in its CPU had it drained
 * by that barrier, and the sleeper sees the key free; an unlock that loads
 * the slot after that barrier sees the sleeper.  The barrier costs
 * microseconds, paid only by a thread about to sleep anyway.  Where the
 * kernel refuses membarrier (seccomp, emulators), unlock fences instead.
 * Locks that share a slot only cost each other a spurious futex wake.
 *
 * note: key is 0 until notewakeup sets it to 1.  A note has one sleeper and
 * one waker; a second wakeup is a fatal error, because it means two parties
 * both believed they owned the same wakeup (a lost-wakeup bug's mirror
 * image).
 */
#include "runtime.h"

enum { MUTEX_UNLOCKED = 0, MUTEX_LOCKED = 1 };
enum { ACTIVE_SPIN = 4, ACTIVE_SPIN_CNT = 30, PASSIVE_SPIN = 1 };
enum { SLEEPERS_BITS = 8 };

/* Set once, before main and so before any of our threads. */
bool membarrierok;

/* threads sleeping for a lock, or about to, by hash of its address */
static _Atomic uint32_t sleepers[1 << SLEEPERS_BITS];

static __attribute__((constructor)) void lockinit(void)
{
	membarrierok = membarrierinit();
}

static inline _Atomic uint32_t *sleepersof(mutex *l)
{
	return &sleepers[((uintptr_t)l * 0x9e3779b97f4a7c15u) >> (64 - SLEEPERS_BITS)];
}

static inline void procyield(int n)
{
	while (n-- > 0)
		__builtin_ia32_pause();
}

void lock(mutex *l)
{
	if (likely(atomic_exchange(&l->key, MUTEX_LOCKED) == MUTEX_UNLOCKED))
		return;
	for (int i = 0; i < ACTIVE_SPIN + PASSIVE_SPIN; i++) {
		uint32_t u = MUTEX_UNLOCKED;
		if (load_relaxed(&l->key) == MUTEX_UNLOCKED &&
		    atomic_compare_exchange_weak(&l->key, &u, MUTEX_LOCKED))
			return;
		if (i < ACTIVE_SPIN)
			procyield(ACTIVE_SPIN_CNT);
		else
			osyield();
	}
	_Atomic uint32_t *slot = sleepersof(l);
	atomic_fetch_add(slot, 1);
	if (membarrierok)
		membarrier();
	while (atomic_exchange(&l->key, MUTEX_LOCKED) != MUTEX_UNLOCKED)
		futexsleep(&l->key, MUTEX_LOCKED, -1);
	atomic_fetch_sub(slot, 1);
}

/* Takes l if it is free; never waits. */
bool trylock(mutex *l)
{
	uint32_t v = MUTEX_UNLOCKED;
	return atomic_compare_exchange_strong(&l->key, &v, MUTEX_LOCKED);
}

void unlock(mutex *l)
{
	/* while we hold l, nobody else changes its key */
	if (unlikely(load_relaxed(&l->key) != MUTEX_LOCKED))
		throw("unlock of unlocked lock");
	_Atomic uint32_t *slot = sleepersof(l);
	store_release(&l->key, MUTEX_UNLOCKED);
	if (membarrierok)
		atomic_signal_fence(memory_order_seq_cst); /* the compiler keeps the order */
	else
		atomic_thread_fence(memory_order_seq_cst);
	/* l may be freed by now: only its address is used, by the kernel */
	if (unlikely(load_relaxed(slot) != 0))
		futexwakeup(&l->key, 1);
}

void noteclear(note *n)
{
	store_relaxed(&n->key, 0);
}

void notewakeup(note *n)
{
	uint32_t old = atomic_exchange(&n->key, 1);
	if (unlikely(old != 0))
		throw("notewakeup - double wakeup");
	futexwakeup(&n->key, 1);
}

bool notewoken(note *n)
{
	return load_acquire(&n->key) != 0;
}

void notesleep(note *n)
{
	while (load_acquire(&n->key) == 0)
		futexsleep(&n->key, 0, -1);
}

bool notetsleep(note *n, int64_t ns)
{
	if (ns < 0) {
		notesleep(n);
		return true;
	}
	int64_t deadline;
	if (__builtin_add_overflow(nanotime(), ns, &deadline))
		deadline = INT64_MAX;
	while (load_acquire(&n->key) == 0) {
		futexsleep(&n->key, 0, ns);
		if (load_acquire(&n->key) != 0)
			break;
		ns = deadline - nanotime();
		if (ns <= 0)
			return false;
	}
	return true;
}
