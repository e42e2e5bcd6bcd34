/*
 * Offsets and frame sizes shared by src/arch/amd64.S and the C code.
 * proc.c checks each against the C structures with _Static_assert, so a
 * field moved in runtime.h fails the build instead of the program.
 */
#ifndef GORT_ASM_AMD64_H
#define GORT_ASM_AMD64_H

#define G_SCHED_SP 0  /* offsetof(struct g, sched.sp) */
#define G_M 8         /* offsetof(struct g, m) */
#define G_DEFER 112   /* offsetof(struct g, _defer): GORT_DEFER's chain state */
#define M_G0 0        /* offsetof(struct m, g0) */
#define M_FPCTL 8     /* offsetof(struct m, fpctl) */

/*
 * The floating-point control state as saved in a frame: MXCSR in the low
 * 32 bits, the x87 control word above it, and nothing else (the status
 * flags are caller-saved, and left out so that equal settings compare
 * equal).
 */
#define MXCSR_CONTROL 0xffc0
#define FPCTL_MASK (0x0000ffff00000000 | MXCSR_CONTROL)

/* Bytes mcall pushes: control words (8), six registers (48), return address (8). */
#define GOBUF_FRAME 64

#endif
