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

/* Bytes mcall pushes: control words (8), six registers (48), return address (8). */
#define GOBUF_FRAME 64

#endif
