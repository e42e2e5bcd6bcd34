/*
 * uint32_t abi_check_callee_saved(void (*fn)(void))
 *
 * Loads a known value into every callee-saved register, calls fn, and
 * returns a bit mask of the registers whose value did not survive:
 * 1 rbx, 2 rbp, 4 r12, 8 r13, 16 r14, 32 r15.
 */
	.text
	.globl	abi_check_callee_saved
	.type	abi_check_callee_saved, @function
abi_check_callee_saved:
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
	movabsq	$0x1111111111111111, %rbx
	movabsq	$0x2222222222222222, %rbp
	movabsq	$0x3333333333333333, %r12
	movabsq	$0x4444444444444444, %r13
	movabsq	$0x5555555555555555, %r14
	movabsq	$0x6666666666666666, %r15
	call	*%rdi
	xorl	%eax, %eax
	movabsq	$0x1111111111111111, %rcx
	cmpq	%rcx, %rbx
	je	1f
	orl	$1, %eax
1:	movabsq	$0x2222222222222222, %rcx
	cmpq	%rcx, %rbp
	je	2f
	orl	$2, %eax
2:	movabsq	$0x3333333333333333, %rcx
	cmpq	%rcx, %r12
	je	3f
	orl	$4, %eax
3:	movabsq	$0x4444444444444444, %rcx
	cmpq	%rcx, %r13
	je	4f
	orl	$8, %eax
4:	movabsq	$0x5555555555555555, %rcx
	cmpq	%rcx, %r14
	je	5f
	orl	$16, %eax
5:	movabsq	$0x6666666666666666, %rcx
	cmpq	%rcx, %r15
	je	6f
	orl	$32, %eax
6:	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	abi_check_callee_saved, .-abi_check_callee_saved

	.section .note.GNU-stack,"",@progbits
