/*
 * Stack switching for x86-64 (System V ABI): the only code in gort that
 * changes stacks.  Go's asm_amd64.s is the model; the difference is that C
 * has callee-saved registers, so mcall saves them and gogo restores them.
 *
 * The frame mcall leaves on a goroutine's stack; g->sched.sp points at it:
 *
 *	sp+56	return address into mcall's caller
 *	sp+48	rbp
 *	sp+40	rbx
 *	sp+32	r12
 *	sp+24	r13
 *	sp+16	r14
 *	sp+8	r15
 *	sp+4	x87 control word (16 bits; the two bytes above it are junk)
 *	sp+0	MXCSR
 *
 * Deliberately not saved: the caller-saved registers (the C caller of mcall
 * expects them clobbered), the vector and x87 data registers (caller-saved
 * as well), and the x87 status word (caller-saved by the ABI).  MXCSR goes
 * whole, status flags with its controls, so a goroutine's SSE exception
 * flags are its own, as a thread's are.
 *
 * gogo reloads both control words every time.  What costs is reading
 * MXCSR: stmxcsr takes some 13 cycles on this machine's AMD EPYC, ldmxcsr
 * one.  Reloading only when the words differ from the thread's, as gort
 * once did, meant reading back in mcall what stmxcsr had just stored, to
 * keep the thread's words in the M: yield was 2 ns slower that way.
 *
 * gogo resumes with an indirect jump, not a ret.  A ret is predicted from
 * the CPU's stack of return addresses, which at that point holds g0's calls
 * and the goroutine that just left: always wrong.  The jump is predicted
 * from where it went last time, which is right whenever goroutines switch
 * at the same call site, as a yield loop or a channel ping-pong does: one
 * yield went from 45 to 27 ns on one P with this change.
 *
 * A new goroutine gets the same frame, forged by gostartcall (proc.c), with
 * goentry_asm as its return address, so gogo needs no special case.
 *
 * The current G lives in the thread-local g_tls, which these functions
 * update at the exact instruction where the stack changes.  Next to it,
 * gort_deferchain_ points at the running goroutine's defer chain state,
 * NULL on g0: GORT_DEFER's inline code in gort.h finds the chain there, and
 * finds none where deferring is not allowed.  CFI describes
 * every instruction, so debuggers and unwinders see the goroutine's own
 * frames while its context is being saved or restored, and stop cleanly at
 * goentry_asm and at the g0 side of mcall.
 */
#include "asm_amd64.h"

	.text

/*
 * void mcall_asm(void (*fn)(struct g *gp))
 *
 * Saves the caller's context in g->sched, switches to the M's g0 stack at
 * its fixed top and calls fn(g).  fn never returns; the goroutine resumes,
 * returning from mcall_asm, when some M calls gogo(g).
 */
	.p2align 4
	.globl	mcall_asm
	.hidden	mcall_asm
	.type	mcall_asm, @function
mcall_asm:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rdi, %r11			/* fn */
	movq	g_tls@gottpoff(%rip), %rax
	movq	%fs:(%rax), %rdi		/* g: fn's argument */
	movq	%rsp, G_SCHED_SP(%rdi)
	movq	G_M(%rdi), %rdx
	movq	M_G0(%rdx), %rdx
	movq	%rdx, %fs:(%rax)		/* g_tls = g0 */
	movq	gort_deferchain_@gottpoff(%rip), %rax
	movq	$0, %fs:(%rax)			/* no defers on g0 */
	movq	G_SCHED_SP(%rdx), %rsp		/* top of g0's stack */
	.cfi_undefined %rip			/* g0's view starts here */
	call	*%r11
	ud2					/* fn returned: impossible */
	.cfi_endproc
	.size	mcall_asm, .-mcall_asm

/*
 * _Noreturn void gogo(struct g *gp)
 *
 * Makes gp the current G and resumes the context in gp->sched, consuming
 * it: sched.sp is cleared, so resuming the same context twice would fault
 * at once instead of running a goroutine twice.
 */
	.p2align 4
	.globl	gogo
	.hidden	gogo
	.type	gogo, @function
gogo:
	.cfi_startproc
	movq	g_tls@gottpoff(%rip), %rax
	movq	%rdi, %fs:(%rax)		/* g_tls = gp */
	movq	gort_deferchain_@gottpoff(%rip), %rax
	leaq	G_DEFER(%rdi), %rcx
	movq	%rcx, %fs:(%rax)		/* gp's defer chain */
	movq	G_SCHED_SP(%rdi), %rsp
	/* from here on, the frame described is the goroutine's */
	.cfi_def_cfa %rsp, GOBUF_FRAME
	.cfi_offset %rbp, -16
	.cfi_offset %rbx, -24
	.cfi_offset %r12, -32
	.cfi_offset %r13, -40
	.cfi_offset %r14, -48
	.cfi_offset %r15, -56
	movq	$0, G_SCHED_SP(%rdi)
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	popq	%rcx				/* jmp, not ret: see the top */
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %rcx
	jmpq	*%rcx
	.cfi_endproc
	.size	gogo, .-gogo

/*
 * void systemstack_asm(void (*fn)(void *), void *arg)
 *
 * Calls fn(arg) on the M's g0 stack and returns.  On g0 already, it is a
 * plain call.  rbp anchors the frame, so an unwinder walking out of fn
 * crosses back onto the goroutine's stack.
 */
	.p2align 4
	.globl	systemstack_asm
	.hidden	systemstack_asm
	.type	systemstack_asm, @function
systemstack_asm:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	pushq	%rbx
	.cfi_offset %rbx, -24
	pushq	%r12
	.cfi_offset %r12, -32
	pushq	%r13
	.cfi_offset %r13, -40
	pushq	%r14
	.cfi_offset %r14, -48
	movq	g_tls@gottpoff(%rip), %r12
	movq	%fs:(%r12), %rbx		/* g */
	movq	gort_deferchain_@gottpoff(%rip), %r13
	movq	%fs:(%r13), %r14		/* g's defer chain, or NULL */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	G_M(%rbx), %rdx
	movq	M_G0(%rdx), %rdx
	cmpq	%rdx, %rbx
	je	1f				/* on g0: just call */
	movq	%rdx, %fs:(%r12)		/* g_tls = g0 */
	movq	$0, %fs:(%r13)			/* no defers on g0 */
	movq	G_SCHED_SP(%rdx), %rsp
1:	call	*%rax
	movq	%rbx, %fs:(%r12)		/* g_tls = g */
	movq	%r14, %fs:(%r13)
	leaq	-32(%rbp), %rsp
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	systemstack_asm, .-systemstack_asm

/*
 * _Noreturn void mstart_asm(struct m *mp)
 *
 * Makes the current stack the M's g0 stack: its current top becomes the
 * point every mcall restarts from.  Then runs mstart1(mp), which never
 * returns.
 */
	.p2align 4
	.globl	mstart_asm
	.hidden	mstart_asm
	.type	mstart_asm, @function
mstart_asm:
	.cfi_startproc
	pushq	%rbp				/* aligns rsp to 16 */
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	movq	M_G0(%rdi), %rax
	movq	%rsp, G_SCHED_SP(%rax)
	movq	g_tls@gottpoff(%rip), %rdx
	movq	%rax, %fs:(%rdx)		/* g_tls = g0 */
	call	mstart1
	ud2
	.cfi_endproc
	.size	mstart_asm, .-mstart_asm

/*
 * The first code a new goroutine runs: gogo "returns" here from the frame
 * gostartcall forged, with rsp 16-byte aligned.  It is the outermost frame
 * of every goroutine; unwinders stop at it.
 */
	.p2align 4
	.globl	goentry_asm
	.hidden	goentry_asm
	.type	goentry_asm, @function
goentry_asm:
	.cfi_startproc
	.cfi_undefined %rip
	xorl	%ebp, %ebp
	call	goentry
	ud2					/* goentry never returns */
	.cfi_endproc
	.size	goentry_asm, .-goentry_asm

	.section .note.GNU-stack,"",@progbits
