/*
 * Signal handling (Go's signal_unix.go).
 *
 * gort handles the synchronous fault signals (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL).  A goroutine running into its stack guard is Go's "fatal error:
 * stack overflow"; any other fault in a goroutine or in the runtime gets
 * Go's crash report (the signal, pc and fault address, the goroutine's
 * traceback, the registers) and exit status 2.  The handler runs on a
 * per-thread alternate signal stack (sigaltstack is per thread, so every M
 * installs its own in minitSignals): the overflowing stack has no room
 * left for it, and the report's unwinding needs some.
 *
 * SIGQUIT, unless the program has an action of its own for it, prints
 * every goroutine and exits 2, as Go's does (a dump on demand: kill -QUIT).
 *
 * A fault on a thread the runtime does not own, or a fault signal sent by
 * kill, is not ours: the handler reinstalls the action that was there
 * before gort (the default one, or a sanitizer's) and returns, so the
 * faulting instruction runs again under that action.
 *
 * Threads the runtime creates start with the signal mask of the thread that
 * called gort_main, so a program that steers signals to one thread keeps
 * doing so; the fault signals are always unblocked, or the kernel would
 * kill the process without a word.
 */
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static const struct {
	int sig;
	const char *name;
} faultsigs[] = {
	{SIGSEGV, "SIGSEGV: segmentation violation"},
	{SIGBUS, "SIGBUS: bus error"},
	{SIGFPE, "SIGFPE: floating-point exception"},
	{SIGILL, "SIGILL: illegal instruction"},
};
static struct sigaction oldact[NSIG];
static sigset_t initsigmask;

/* Go's dumpregs for amd64. */
static void dumpregs(const ucontext_t *uc)
{
	static const struct {
		const char *name;
		int reg;
	} regs[] = {
		{"rax    ", REG_RAX}, {"rbx    ", REG_RBX}, {"rcx    ", REG_RCX}, {"rdx    ", REG_RDX},
		{"rdi    ", REG_RDI}, {"rsi    ", REG_RSI}, {"rbp    ", REG_RBP}, {"rsp    ", REG_RSP},
		{"r8     ", REG_R8},  {"r9     ", REG_R9},  {"r10    ", REG_R10}, {"r11    ", REG_R11},
		{"r12    ", REG_R12}, {"r13    ", REG_R13}, {"r14    ", REG_R14}, {"r15    ", REG_R15},
		{"rip    ", REG_RIP}, {"rflags ", REG_EFL},
	};
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
		printstr(regs[i].name);
		printhex((uint64_t)uc->uc_mcontext.gregs[regs[i].reg]);
		printstr("\n");
	}
}

/*
 * Go's report of a signal it cannot turn into a panic: a fault in
 * runtime-owned code, with its address; or SIGQUIT, Go's goroutine dump,
 * which shows every goroutine and may land on any thread that does not
 * block it (gp NULL: not one of the runtime's).  Then exit status 2.
 */
static _Noreturn void sigcrash(struct g *gp, const char *name, siginfo_t *info, ucontext_t *uc)
{
	bool quit = info->si_signo == SIGQUIT;
	freezetheworld();
	printlock();
	printstr(name);
	printstr("\nPC=");
	printhex((uint64_t)uc->uc_mcontext.gregs[REG_RIP]);
	printstr(" m=");
	printint(gp != NULL ? gp->m->id : -1);
	printstr(" sigcode=");
	printint(info->si_code);
	if (!quit) {
		printstr(" addr=");
		printhex((uintptr_t)info->si_addr);
	}
	printstr("\n");
	crashtraceback(gp, uc, quit);
	if (debug.traceback != TRACEBACK_NONE) {
		printstr("\n");
		dumpregs(uc);
	}
	printunlock();
	crashexit();
}

static void sighandler(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	struct g *gp = getg();
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];

	if (sig == SIGQUIT) {
		if (load_acquire(&runtime_state) == RUNTIME_RUNNING) {
			/* the dump is made on an M, on its signal stack; an M's thread takes it over */
			pid_t tid = gp == NULL ? signalthread() : 0;
			if (tid != 0 && syscall(SYS_tgkill, getpid(), tid, SIGQUIT) == 0)
				return;
			sigcrash(gp, "SIGQUIT: quit", info, uc);
		}
		/* gort_main has returned: the program's own action, as if gort had never been */
		sigaction(sig, &oldact[sig], NULL);
		raise(sig);
		return;
	}

	if (gp != NULL && gp->m != NULL && info->si_code > 0) {
		if (gp != gp->m->g0 && stack_inguard(gp, (uintptr_t)info->si_addr, sp))
			stackoverflow(gp, sp, uc);
		for (size_t i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++)
			if (faultsigs[i].sig == sig)
				sigcrash(gp, faultsigs[i].name, info, uc);
	}

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

static bool sethandler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sighandler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, &oldact[sig]) == 0;
}

void initsig(void)
{
	pthread_sigmask(SIG_SETMASK, NULL, &initsigmask);
	for (size_t i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++) {
		sigdelset(&initsigmask, faultsigs[i].sig);
		if (!sethandler(faultsigs[i].sig))
			throw("initsig: sigaction failed");
	}
	/* SIGQUIT only if the program left it to the default: a handler or SIG_IGN of its own stays */
	struct sigaction cur;
	if (sigaction(SIGQUIT, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL)
		sethandler(SIGQUIT);
}

void minitSignals(struct m *mp)
{
	if (mp->sigstack == NULL) {
		long min = sysconf(_SC_SIGSTKSZ);
		size_t sz = 256 * 1024; /* room to unwind and symbolize a crash */
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
