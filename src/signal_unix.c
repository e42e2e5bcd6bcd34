/*
 * Signal handling (Go's signal_unix.go).
 *
 * gort handles the synchronous fault signals, SIGSEGV and SIGBUS, to turn a
 * goroutine running into its stack guard into Go's "fatal error: stack
 * overflow".  The handler runs on a per-thread alternate signal stack
 * (sigaltstack is per thread, so every M installs its own in minitSignals):
 * the overflowing stack has no room left for it.
 *
 * A fault that is not a stack overflow is not ours: the handler reinstalls
 * the action that was there before gort (the default one, or a sanitizer's)
 * and returns, so the faulting instruction runs again under that action.
 *
 * Threads the runtime creates start with the signal mask of the thread that
 * called gort_main, so a program that steers signals to one thread keeps
 * doing so; the fault signals are always unblocked, or the kernel would
 * kill the process without a word.
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static const int faultsigs[] = {SIGSEGV, SIGBUS};
static struct sigaction oldact[NSIG];
static sigset_t initsigmask;

static void sighandler(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	struct g *gp = getg();
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];

	if (gp != NULL && gp->m != NULL && gp != gp->m->g0 &&
	    stack_inguard(gp, (uintptr_t)info->si_addr, sp))
		stackoverflow(gp, sp);

	/* Not ours: run it again under the action we displaced. */
	sigaction(sig, &oldact[sig], NULL);
	if (!(oldact[sig].sa_flags & SA_SIGINFO) &&
	    (oldact[sig].sa_handler == SIG_DFL || oldact[sig].sa_handler == SIG_IGN))
		return;
	if (oldact[sig].sa_flags & SA_SIGINFO)
		oldact[sig].sa_sigaction(sig, info, ctx);
	else
		oldact[sig].sa_handler(sig);
}

void initsig(void)
{
	pthread_sigmask(SIG_SETMASK, NULL, &initsigmask);
	for (size_t i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++) {
		int sig = faultsigs[i];
		sigdelset(&initsigmask, sig);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = sighandler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigfillset(&sa.sa_mask);
		if (sigaction(sig, &sa, &oldact[sig]) != 0)
			throw("initsig: sigaction failed");
	}
}

void minitSignals(struct m *mp)
{
	if (mp->sigstack == NULL) {
		long min = sysconf(_SC_SIGSTKSZ);
		size_t sz = 64 * 1024;
		if (min > 0 && (size_t)min > sz)
			sz = (size_t)min;
		void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			throw("minit: cannot allocate signal stack");
		mp->sigstack = p;
		mp->sigstacksize = sz;
	}
	stack_t ss = {.ss_sp = mp->sigstack, .ss_size = mp->sigstacksize, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0)
		throw("minit: sigaltstack failed");
	pthread_sigmask(SIG_SETMASK, &initsigmask, NULL);
}

/*
 * Before a thread exits: its alternate stack stays with the M, for the next
 * thread that takes the M over.
 */
void unminitSignals(struct m *mp)
{
	stack_t ss = {.ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
	(void)mp;
}
