/*
 * The bounds of the runtime's code, for tracebacks (traceback.c hides the
 * runtime's own frames, as Go's runtime.text/etext let it).  Assembled
 * twice: once to open the library's text, once (-DETEXT) to close it.  The
 * Makefile links the library as one relocatable object with the two
 * markers first and last, and compiles it with all code in .text (no
 * hot/cold splitting), so everything between them is the runtime.
 */
	.text
#ifdef ETEXT
	.globl	runtime_etext
	.hidden	runtime_etext
runtime_etext:
#else
	.globl	runtime_text
	.hidden	runtime_text
runtime_text:
#endif
	.section .note.GNU-stack,"",@progbits
