/*
 * The context switch keeps the C ABI: callee-saved registers, MXCSR and
 * the x87 control word survive a switch and are per goroutine, and a new
 * goroutine starts with its creator's; it starts with a 16-byte aligned stack; unwinders and gdb walk a
 * goroutine's stack and stop cleanly at its entry.
 */
#include <execinfo.h>
#include <fenv.h>
#include <fpu_control.h>
#include <stdatomic.h>
#include <xmmintrin.h>

#include "runtime.h"
#include "testutil.h"

uint32_t abi_check_callee_saved(void (*fn)(void));

static struct testwg wg;
static _Atomic uint32_t clobbered;

static void regs(void *arg)
{
	for (int i = 0; i < 2000; i++)
		atomic_fetch_or(&clobbered, abi_check_callee_saved(gort_yield));
	testwg_done(&wg);
}

static int main_regs(void *arg)
{
	testwg_add(&wg, 8);
	for (int i = 0; i < 8; i++)
		gort_go(regs, NULL);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&clobbered), 0, "registers lost across a switch: mask %#x",
		     atomic_load(&clobbered));
	return 0;
}

Test(abi, callee_saved_registers_survive_switches, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "2", 1);
	run_main(main_regs, NULL);
}

/* ------------------------------------------------ floating-point control */

/* The x87 control word; Valgrind does not emulate its precision control. */
static fpu_control_t getcw(void)
{
	fpu_control_t cw;
	_FPU_GETCW(cw);
	return under_valgrind() ? 0 : cw;
}

static _Atomic int fpbad;
static _Atomic unsigned inheritedcsr;

static void fpcustom(void *arg)
{
	fesetround(FE_UPWARD); /* x87 and SSE rounding */
	fpu_control_t cw = (getcw() & ~_FPU_EXTENDED) | _FPU_SINGLE;
	_FPU_SETCW(cw);
	unsigned csr = _mm_getcsr();
	for (int i = 0; i < 2000; i++) {
		gort_yield();
		if (_mm_getcsr() != csr || getcw() != cw)
			atomic_store(&fpbad, 1);
	}
	testwg_done(&wg);
}

static void fpdefault(void *arg)
{
	unsigned csr = _mm_getcsr();
	fpu_control_t cw = getcw();
	for (int i = 0; i < 2000; i++) {
		gort_yield();
		if (_mm_getcsr() != csr || getcw() != cw)
			atomic_store(&fpbad, 2);
	}
	testwg_done(&wg);
}

static int main_fp(void *arg)
{
	testwg_add(&wg, 3);
	gort_go(fpcustom, NULL);
	gort_go(fpdefault, NULL);
	gort_go(fpdefault, NULL);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&fpbad), 0, "%s goroutine's FP control changed",
		     atomic_load(&fpbad) == 1 ? "the custom" : "a default");
	return 0;
}

Test(abi, mxcsr_and_x87_control_are_per_goroutine, .timeout = 60)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_fp, NULL);
}

static void inherits(void *arg)
{
	atomic_store(&inheritedcsr, _mm_getcsr());
	testwg_done(&wg);
}

/* The rounding at gort_go counts, not the one of whatever ran last on the thread. */
static int main_inherit(void *arg)
{
	testwg_add(&wg, 1);
	fesetround(FE_UPWARD);
	gort_go(inherits, NULL);
	fesetround(FE_TONEAREST);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&inheritedcsr) & _MM_ROUND_MASK, _MM_ROUND_UP,
		     "a new goroutine starts with its creator's MXCSR at gort_go");
	return 0;
}

Test(abi, a_new_goroutine_inherits_its_creators_fp_control, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_inherit, NULL);
}

/* SSE exception flags live in MXCSR, which a switch saves whole: a goroutine sees only its own. */
static _Atomic int flagleak;
static _Atomic bool flagsdone;

static void raisesinexact(void *arg)
{
	volatile double one = 1.0, three = 3.0;
	while (!atomic_load(&flagsdone)) {
		volatile double third = one / three; /* FE_INEXACT */
		(void)third;
		gort_yield();
	}
	testwg_done(&wg);
}

static void keepsclean(void *arg)
{
	feclearexcept(FE_ALL_EXCEPT);
	for (int i = 0; i < 2000; i++) {
		gort_yield();
		if (_mm_getcsr() & _MM_EXCEPT_INEXACT)
			atomic_store(&flagleak, 1);
	}
	atomic_store(&flagsdone, true);
	testwg_done(&wg);
}

static int main_flags(void *arg)
{
	testwg_add(&wg, 2);
	gort_go(raisesinexact, NULL);
	gort_go(keepsclean, NULL);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&flagleak), 0, "another goroutine's exception flag showed");
	return 0;
}

Test(abi, sse_exception_flags_are_per_goroutine, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	run_main(main_flags, NULL);
}

/* ------------------------------------------------------------- alignment */

static _Atomic int misaligned;

static void aligned(void *arg)
{
	_Alignas(16) volatile char buf[16];
	__m128 v = _mm_set1_ps(1.0f);
	volatile __m128 onstack = v; /* movaps on a stack slot faults if misaligned */
	if (((uintptr_t)buf & 15) != 0)
		atomic_store(&misaligned, 1);
	(void)onstack;
	testwg_done(&wg);
}

static int main_aligned(void *arg)
{
	testwg_add(&wg, 100);
	for (int i = 0; i < 100; i++)
		gort_go(aligned, NULL);
	testwg_wait(&wg);
	cr_assert_eq(atomic_load(&misaligned), 0);
	return 0;
}

Test(abi, goroutine_entry_is_aligned, .timeout = 30) { run_main(main_aligned, NULL); }

/* --------------------------------------------------------------- unwinding */

static int nframes;
static void *frames[64];

static __attribute__((noinline)) void unwind_here(void)
{
	nframes = backtrace(frames, 64);
}

static void unwinder(void *arg)
{
	unwind_here();
	testwg_done(&wg);
}

static int main_unwind(void *arg)
{
	testwg_add(&wg, 1);
	gort_go(unwinder, NULL);
	testwg_wait(&wg);
	cr_assert_gt(nframes, 2);
	cr_assert_lt(nframes, 64, "the unwinder did not stop");
	uintptr_t last = (uintptr_t)frames[nframes - 1], entry = (uintptr_t)goentry_asm;
	cr_assert(last > entry && last <= entry + 16,
		  "the outermost frame is %p, not goentry_asm (%p)", frames[nframes - 1], (void *)entry);
	return 0;
}

Test(abi, unwinder_stops_at_goroutine_entry, .timeout = 30, .disabled = UNDER_SANITIZER)
{
	run_main(main_unwind, NULL);
}

/* gdb, stopped inside a goroutine, shows its frames down to the entry and no corruption. */
Test(abi, gdb_backtrace, .timeout = 60, .disabled = UNDER_SANITIZER)
{
	static struct progresult r;
	run_gdb(&r, "-ex bt", "gdb-trap");
	const char *out = r.out;
	cr_assert(strstr(out, "SIGTRAP") != NULL, "gdb did not stop:\n%s", out);
	cr_assert(strstr(out, "trapper") != NULL, "no goroutine frame:\n%s", out);
	cr_assert(strstr(out, "goentry_asm") != NULL, "no entry frame:\n%s", out);
	cr_assert(strstr(out, "corrupt stack") == NULL && strstr(out, "previous frame") == NULL,
		  "gdb saw a broken stack:\n%s", out);
}
