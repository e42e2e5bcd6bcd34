/*
 * Runtime locks and notes on Linux futexes (Go's lock_futex.go).
 *
 * mutex: key is 0 (unlocked), 1 (locked) or 2 (locked, and someone may be
 * sleeping in the kernel).  A locker spins a little first: the runtime's
 * critical sections are a few dozen instructions, and a futex round trip is
 * microseconds.  Unlock wakes a sleeper only when the key says there may be
 * one, so uncontended lock/unlock is one atomic exchange each.
 *
 * note: key is 0 until notewakeup sets it to 1.  A note has one sleeper and
 * one waker; a second wakeup is a fatal error, because it means two parties
 * both believed they owned the same wakeup (a lost-wakeup bug's mirror
 * image).
 */
#include "runtime.h"

enum { MUTEX_UNLOCKED = 0, MUTEX_LOCKED = 1, MUTEX_SLEEPING = 2 };
enum { ACTIVE_SPIN = 4, ACTIVE_SPIN_CNT = 30, PASSIVE_SPIN = 1 };

static inline void procyield(int n)
{
	while (n-- > 0)
		__builtin_ia32_pause();
}

void lock(mutex *l)
{
	uint32_t v = atomic_exchange(&l->key, MUTEX_LOCKED);
	if (likely(v == MUTEX_UNLOCKED))
		return;
	/*
	 * v is MUTEX_LOCKED or MUTEX_SLEEPING.  Whatever it was, it must be
	 * restored when we take the lock, or a sleeper could be forgotten.
	 */
	uint32_t wait = v;
	for (;;) {
		for (int i = 0; i < ACTIVE_SPIN + PASSIVE_SPIN; i++) {
			for (;;) {
				uint32_t u = MUTEX_UNLOCKED;
				if (load_relaxed(&l->key) != MUTEX_UNLOCKED)
					break;
				if (atomic_compare_exchange_weak(&l->key, &u, wait))
					return;
			}
			if (i < ACTIVE_SPIN)
				procyield(ACTIVE_SPIN_CNT);
			else
				osyield();
		}
		v = atomic_exchange(&l->key, MUTEX_SLEEPING);
		if (v == MUTEX_UNLOCKED)
			return;
		wait = MUTEX_SLEEPING;
		futexsleep(&l->key, MUTEX_SLEEPING, -1);
	}
}

/* Takes l if it is free; never waits. */
bool trylock(mutex *l)
{
	uint32_t v = MUTEX_UNLOCKED;
	return atomic_compare_exchange_strong(&l->key, &v, MUTEX_LOCKED);
}

void unlock(mutex *l)
{
	uint32_t v = atomic_exchange(&l->key, MUTEX_UNLOCKED);
	if (unlikely(v == MUTEX_UNLOCKED))
		throw("unlock of unlocked lock");
	if (v == MUTEX_SLEEPING)
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
