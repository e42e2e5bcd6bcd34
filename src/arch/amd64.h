/*
 * x86-64 pieces the C code needs inline: reading the current G and the
 * stack pointer, and forging a new goroutine's first frame.  The matching
 * assembly is amd64.S; the shared offsets are in asm_amd64.h.
 */
#ifndef GORT_ARCH_AMD64_H
#define GORT_ARCH_AMD64_H

#include <stdint.h>
#include <ucontext.h>

#include "asm_amd64.h"

struct g;
extern __thread struct g *g_tls;
void goentry_asm(void);

/*
 * The current G.  The volatile asm reads %fs on every call: a plain read
 * of g_tls would let the compiler keep the variable's address in a
 * register across a call that reschedules the goroutine onto another
 * thread, after which that address is the old thread's (DESIGN.md
 * invariant 5; ldc-developers/druntime#30 is this bug).  The memory
 * clobber keeps the read where it is written, relative to the calls
 * around it.
 */
static inline __attribute__((always_inline)) struct g *getg(void)
{
	struct g *gp;
	__asm__ volatile("movq g_tls@gottpoff(%%rip), %0\n\t"
			 "movq %%fs:(%0), %0"
			 : "=r"(gp)
			 :
			 : "memory");
	return gp;
}

static inline __attribute__((always_inline)) uintptr_t getsp(void)
{
	uintptr_t sp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	return sp;
}

/*
 * This thread's floating-point control words, in one word: MXCSR's low
 * half, without its exception flags, and the x87 control word above.
 */
static inline uint32_t fpctl(void)
{
	uint32_t mxcsr = __builtin_ia32_stmxcsr() & 0xffc0;
	uint16_t fcw;
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	return mxcsr | (uint32_t)fcw << 16;
}

/*
 * The time stamp counter, read after every earlier instruction has
 * completed: a reading taken after seeing another thread's store is not
 * earlier than one that thread took before making it (the tracer's clock).
 */
static inline int64_t cputicks(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return (int64_t)((uint64_t)hi << 32 | lo);
}

/* Whether the counter ticks at one rate on every CPU, in every power state (CPUID's invariant TSC). */
static inline bool cputicksinvariant(void)
{
	uint32_t a, b, c, d;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
	if (a < 0x80000007u)
		return false;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000007u), "c"(0));
	return d & (1u << 8);
}

/*
 * Forges, at the top of a new goroutine's stack [lo, hi), the frame mcall
 * would have left (amd64.S), returning into goentry_asm with rsp 16-byte
 * aligned.  The goroutine starts with the control words fp, its creator's
 * taken at gort_go (fpctl), as a new thread inherits its creator's.
 * Returns the saved sp.
 */
static inline uintptr_t gostartcall(uintptr_t hi, uint32_t fp)
{
	uintptr_t *sp = (uintptr_t *)(hi - GOBUF_FRAME);
	sp[0] = (fp & 0xffff) | (uintptr_t)(fp >> 16) << 32;
	sp[1] = sp[2] = sp[3] = sp[4] = sp[5] = sp[6] = 0; /* r15..rbp */
	sp[7] = (uintptr_t)goentry_asm;
	return (uintptr_t)sp;
}

/* Where the return address into mcall's caller lies in the frame mcall left at sp: the goroutine's innermost. */
static inline uintptr_t gobufretaddr(uintptr_t sp)
{
	return sp + GOBUF_FRAME - sizeof(uintptr_t);
}

/*
 * The registers of a goroutine that is not running, as an unwinder wants
 * them, from the frame mcall left at sp (amd64.S): where it will return
 * to, its stack pointer then, and the callee-saved registers.
 */
static inline void gobufcontext(uintptr_t sp, ucontext_t *uc)
{
	const uintptr_t *f = (const uintptr_t *)sp;
	greg_t *r = uc->uc_mcontext.gregs;
	r[REG_R15] = (greg_t)f[1];
	r[REG_R14] = (greg_t)f[2];
	r[REG_R13] = (greg_t)f[3];
	r[REG_R12] = (greg_t)f[4];
	r[REG_RBX] = (greg_t)f[5];
	r[REG_RBP] = (greg_t)f[6];
	r[REG_RIP] = (greg_t)f[7];
	r[REG_RSP] = (greg_t)(sp + GOBUF_FRAME);
}

#endif
