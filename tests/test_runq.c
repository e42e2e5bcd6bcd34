/*
 * Unit tests of the local run queues, in the manner of Go's
 * TestSchedLocalQueue, TestSchedLocalQueueSteal, TestSchedLocalQueueEmpty
 * and TestStealOrder: on bare P and G structures, without a running
 * scheduler.  Every G put in must come out exactly once.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "runtime.h"
#include "testutil.h"

static struct p *newp_(void)
{
	struct p *pp = aligned_alloc(CACHELINE, sizeof *pp);
	cr_assert_not_null(pp);
	memset(pp, 0, sizeof *pp);
	return pp;
}

Test(runq, fifo)
{
	struct p *pp = newp_();
	struct g gs[RUNQ_SIZE];
	bool inherit;
	cr_assert(runqempty(pp));
	for (int i = 0; i < RUNQ_SIZE; i++) {
		for (int j = 0; j < i; j++)
			runqput(pp, &gs[j], false);
		cr_assert_eq(runqlen(pp), (uint32_t)i);
		for (int j = 0; j < i; j++) {
			struct g *gp = runqget(pp, &inherit);
			cr_assert_eq(gp, &gs[j], "round %d: got the wrong G at %d", i, j);
			cr_assert_not(inherit);
		}
		cr_assert_null(runqget(pp, &inherit));
		cr_assert(runqempty(pp));
	}
	free(pp);
}

Test(runq, runnext_runs_first_and_kicks_the_old_one_to_the_tail)
{
	struct p *pp = newp_();
	struct g a, b, c;
	bool inherit;
	runqput(pp, &a, false);
	runqput(pp, &b, true);
	runqput(pp, &c, true); /* b goes to the tail */
	cr_assert_eq(runqget(pp, &inherit), &c);
	cr_assert(inherit, "runnext inherits the time slice");
	cr_assert_eq(runqget(pp, &inherit), &a);
	cr_assert_eq(runqget(pp, &inherit), &b);
	cr_assert(runqempty(pp));
	free(pp);
}

/* Go's TestSchedLocalQueueSteal: a steal takes half, rounded up; nothing is lost. */
Test(runq, steal_takes_half)
{
	struct p *p1 = newp_(), *p2 = newp_();
	static struct g gs[RUNQ_SIZE];
	int seen[RUNQ_SIZE];
	bool inherit;
	for (int i = 0; i < RUNQ_SIZE; i++) {
		for (int j = 0; j < i; j++) {
			gs[j].goid = j;
			seen[j] = 0;
			runqput(p1, &gs[j], false);
		}
		struct g *gp = runqsteal(p2, p1, true);
		int s = 0;
		if (gp) {
			s++;
			seen[gp->goid]++;
		}
		while ((gp = runqget(p2, &inherit)) != NULL) {
			s++;
			seen[gp->goid]++;
		}
		while ((gp = runqget(p1, &inherit)) != NULL)
			seen[gp->goid]++;
		for (int j = 0; j < i; j++)
			cr_assert_eq(seen[j], 1, "round %d: G %d seen %d times", i, j, seen[j]);
		cr_assert(s == i / 2 || s == i / 2 + 1, "round %d: stole %d", i, s);
	}
	free(p1);
	free(p2);
}

/* A full ring spills half of itself, plus the new G, to the global queue. */
Test(runq, overflow_goes_to_the_global_queue)
{
	struct p *pp = newp_();
	static struct g gs[RUNQ_SIZE + 1];
	for (int i = 0; i <= RUNQ_SIZE; i++)
		runqput(pp, &gs[i], false);
	cr_assert_eq(runqlen(pp), RUNQ_SIZE / 2);
	cr_assert_eq(sched.runqsize, RUNQ_SIZE / 2 + 1);
	/* the oldest half, in order, then the G that did not fit */
	int n = 0;
	for (struct g *gp = sched.runq.head; gp; gp = gp->schedlink, n++)
		cr_assert_eq(gp, n < RUNQ_SIZE / 2 ? &gs[n] : &gs[RUNQ_SIZE], "global queue out of order at %d", n);
	cr_assert_eq(n, RUNQ_SIZE / 2 + 1);
	free(pp);
}

/*
 * Go's TestSchedLocalQueueEmpty: while runnext moves to the ring, the
 * queue must never look empty to another thread.
 */
static struct p *emptyp;
static atomic_int ready;
static atomic_bool sawempty;

static void *emptychecker(void *arg)
{
	atomic_fetch_add(&ready, 1);
	while (atomic_load(&ready) != 2)
		;
	if (runqempty(emptyp))
		atomic_store(&sawempty, true);
	return NULL;
}

Test(runq, never_spuriously_empty, .timeout = 60)
{
	emptyp = newp_();
	struct g gs[2];
	bool inherit;
	for (int i = 0; i < (int)scaled(20000, 2000); i++) {
		atomic_store(&ready, 0);
		bool next0 = (i & 1) == 0, next1 = (i & 2) == 0;
		runqput(emptyp, &gs[0], next0);
		pthread_t t;
		pthread_create(&t, NULL, emptychecker, NULL);
		atomic_fetch_add(&ready, 1);
		while (atomic_load(&ready) != 2)
			;
		runqput(emptyp, &gs[1], next1);
		runqget(emptyp, &inherit);
		pthread_join(t, NULL);
		runqget(emptyp, &inherit);
		cr_assert_not(atomic_load(&sawempty), "queue looked empty (next0=%d next1=%d)", next0, next1);
	}
	free(emptyp);
}

/*
 * The owner puts and gets while two thieves steal: every G comes out
 * exactly once (run it under ThreadSanitizer too).
 */
enum { CONC_GS = 1 << 16, THIEVES = 2 };
static struct g *concgs;
static atomic_int *taken;
static struct p *victim;
static atomic_bool ownerdone;

static void *thief(void *arg)
{
	struct p *mine = newp_();
	bool inherit;
	while (!atomic_load(&ownerdone) || !runqempty(victim)) {
		struct g *gp = runqsteal(mine, victim, true);
		while (gp != NULL) {
			atomic_fetch_add(&taken[gp->goid], 1);
			gp = runqget(mine, &inherit);
		}
	}
	free(mine);
	return NULL;
}

Test(runq, concurrent_steal_conserves, .timeout = 120)
{
	int n = (int)scaled(CONC_GS, CONC_GS / 16);
	concgs = calloc((size_t)n, sizeof *concgs);
	taken = calloc((size_t)n, sizeof *taken);
	victim = newp_();
	pthread_t t[THIEVES];
	for (int i = 0; i < THIEVES; i++)
		pthread_create(&t[i], NULL, thief, NULL);
	bool inherit;
	for (int i = 0; i < n; i++) {
		concgs[i].goid = i;
		/* keep the ring from spilling into the global queue */
		while (runqlen(victim) >= RUNQ_SIZE - 1) {
			struct g *gp = runqget(victim, &inherit);
			if (gp)
				atomic_fetch_add(&taken[gp->goid], 1);
		}
		runqput(victim, &concgs[i], (i % 3) == 0);
		if (i % 5 == 0) {
			struct g *gp = runqget(victim, &inherit);
			if (gp)
				atomic_fetch_add(&taken[gp->goid], 1);
		}
	}
	atomic_store(&ownerdone, true);
	for (int i = 0; i < THIEVES; i++)
		pthread_join(t[i], NULL);
	struct g *gp;
	while ((gp = runqget(victim, &inherit)) != NULL)
		atomic_fetch_add(&taken[gp->goid], 1);
	for (int i = 0; i < n; i++)
		cr_assert_eq(atomic_load(&taken[i]), 1, "G %d taken %d times", i, atomic_load(&taken[i]));
	free(concgs);
	free(taken);
	free(victim);
}

/* Go's TestStealOrder: the walk from any start visits every P once. */
Test(runq, steal_order_visits_every_p_once)
{
	for (uint32_t n = 1; n <= 64; n++)
		for (uint32_t r = 0; r < 200; r++) {
			uint32_t inc = stealstride(n, r * 2654435761u);
			bool seen[64] = {0};
			uint32_t pos = r % n;
			for (uint32_t k = 0; k < n; k++, pos = (pos + inc) % n) {
				cr_assert_not(seen[pos], "n=%u inc=%u visits %u twice", n, inc, pos);
				seen[pos] = true;
			}
		}
}
