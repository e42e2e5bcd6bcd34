/*
 * Goroutine tracebacks and crash reports (Go's traceback.go).
 *
 * Unwinding is libunwind's (local unwinding from a register context, with
 * the CFI of the C code and of src/arch), names and lines are elfutils'
 * (libdw's DWARF and symbol tables, static functions and inlined calls
 * included).  Both are only used on the way to a crash, with the print
 * lock held, so their state needs no other lock.
 *
 * What is shown follows Go's showframe: the runtime's own frames are
 * hidden unless GORT_TRACEBACK=system, except the public gort_ functions a
 * goroutine can be blocked or ended in, and the panic that ran a deferred
 * call, shown as "panic(...)" as Go does.  The runtime's code is the range
 * between runtime_text and runtime_etext, the first and last symbols of
 * the library's one text section (Makefile: the library is linked as one
 * relocatable object between src/runtime_text.S's two markers).
 *
 * Three kinds of stack are unwound:
 *   the crashing goroutine's, from the current context: the report is
 *     printed on g0, and systemstack's CFI crosses back to the goroutine;
 *   a faulting one's, from the signal's context;
 *   a goroutine that is not running, from the frame mcall left on its
 *     stack (arch/amd64.h), while the world is frozen.
 */
#include "runtime.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "san.h"

#define TRACEBACK_MAXFRAMES 100

extern const char runtime_text[], runtime_etext[];

bool runtimepc(uintptr_t pc)
{
	return pc >= (uintptr_t)runtime_text && pc < (uintptr_t)runtime_etext;
}

/* ------------------------------------------------------------ symbols */

static Dwfl *dwfl;

/* The process's modules, reported once, at the first traceback. */
static Dwfl *getdwfl(void)
{
	static char *debuginfopath;
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &debuginfopath,
	};
	if (dwfl != NULL)
		return dwfl;
	Dwfl *d = dwfl_begin(&callbacks);
	if (d == NULL)
		return NULL;
	dwfl_report_begin(d);
	if (dwfl_linux_proc_report(d, getpid()) != 0) {
		dwfl_end(d);
		return NULL;
	}
	dwfl_report_end(d, NULL, NULL);
	return dwfl = d;
}

/*
 * A source file as Go prints it, absolute: a relative name is joined to
 * its compilation directory.  The result lives until the next call (the
 * print lock serializes callers).
 */
static const char *abspath(const char *file, const char *compdir)
{
	static char buf[4096];
	if (file == NULL || file[0] == '/' || compdir == NULL)
		return file;
	snprintf(buf, sizeof buf, "%s/%s", compdir, file);
	return buf;
}

/* Where a pc is: its function (entry and name) and its source line. */
struct location {
	const char *name;
	uintptr_t entry;
	const char *file;
	int line;
};

/*
 * Symbolizes pc (an instruction address: a return address less one) and
 * returns the module to look for inlined calls in, or NULL.
 */
static Dwfl_Module *locate(uintptr_t pc, struct location *loc)
{
	memset(loc, 0, sizeof *loc);
	loc->entry = pc;
	Dwfl *d = getdwfl();
	Dwfl_Module *mod = d ? dwfl_addrmodule(d, pc) : NULL;
	if (mod == NULL)
		return NULL;
	GElf_Off off = 0;
	GElf_Sym sym;
	loc->name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
	if (loc->name != NULL)
		loc->entry = pc - off;
	Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
	if (line != NULL)
		loc->file = abspath(dwfl_lineinfo(line, NULL, &loc->line, NULL, NULL, NULL),
				    dwfl_line_comp_dir(line));
	return mod;
}

/* The length of a C name as Go would print it: GCC's clone suffixes (.part.0, .cold) dropped. */
static size_t funcnamelen(const char *name)
{
	const char *dot = strchr(name, '.');
	return dot ? (size_t)(dot - name) : strlen(name);
}

static void printfuncname(const char *name)
{
	if (name == NULL) {
		printstr("?");
		return;
	}
	char buf[256];
	size_t n = funcnamelen(name) < sizeof buf - 1 ? funcnamelen(name) : sizeof buf - 1;
	memcpy(buf, name, n);
	buf[n] = 0;
	printstr(buf);
}

/*
 * "\tfile:line +0xoff", Go's second line of a frame; no offset for an
 * inlined call or a function's entry.
 */
static void printfileline(const char *file, int line, uintptr_t off, bool withoff)
{
	printstr("\t");
	printstr(file ? file : "?");
	printstr(":");
	printint(line);
	if (withoff) {
		printstr(" +");
		printhex(off);
	}
	printstr("\n");
}

/* ------------------------------------------------------------ frames */

struct tbstate {
	int level;
	int printed;      /* frames printed so far */
	bool elided;
};

/*
 * The runtime's public entry points that are part of a panic, a dump or a
 * trace event, not frames of their own: gort_dump's report and a user log
 * event's stack start at the caller, as Go's runtime.Stack and trace.Log
 * do.
 */
static bool reportentry(const char *name)
{
	static const char *const names[] = {
		"gort_call", "gort_panic", "gort_panicf", "gort_panic_value", "gort_defer_scope_exit", "gort_dump",
		"gort_trace_log", "gort_trace_task_log", "gort_trace_task_start", "gort_trace_task_end",
		"gort_trace_region_start", "gort_trace_region_end",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/*
 * Whether to show a frame of function name at pc, and under which name
 * (Go's showframe).  Runtime frames before the first one shown are the
 * machinery of the report itself.
 */
static const char *showname(struct tbstate *st, uintptr_t pc, const char *name, bool first)
{
	if (st->level >= TRACEBACK_SYSTEM || first || !runtimepc(pc))
		return name ? name : "?";
	if (name == NULL)
		return NULL;
	if (strcmp(name, "gopanic") == 0)
		return st->printed > 0 ? "panic" : NULL;
	if (strncmp(name, "gort_", 5) == 0 && !reportentry(name))
		return name;
	return NULL;
}

static bool frameroom(struct tbstate *st)
{
	if (st->printed < TRACEBACK_MAXFRAMES)
		return true;
	if (!st->elided)
		printstr("...additional frames elided...\n");
	st->elided = true;
	return false;
}

/*
 * Prints the frame at pc: first the calls inlined there, innermost first,
 * each "name(...)" with its line and no offset, then the function itself.
 * lookup is pc, or pc-1 for a return address (the call's line, not the
 * next one's).  first: the faulting instruction of a signal report, shown
 * even in the runtime.
 */
static void printframe(struct tbstate *st, uintptr_t pc, uintptr_t lookup, bool first)
{
	struct location loc;
	Dwfl_Module *mod = locate(lookup, &loc);
	const char *file = loc.file;
	int line = loc.line;
	Dwarf_Addr bias;
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, lookup, &bias) : NULL;
	Dwarf_Die *scopes = NULL, innermost;
	int nscopes = cu ? dwarf_getscopes(cu, lookup - bias, &scopes) : 0;
	if (nscopes > 0 && dwarf_tag(&scopes[0]) == DW_TAG_inlined_subroutine) {
		/*
		 * dwarf_getscopes follows the inlined function's own definition;
		 * the chain of calls it was inlined through, out to the real
		 * function, is the nesting of the innermost instance.
		 */
		innermost = scopes[0];
		free(scopes);
		scopes = NULL;
		nscopes = dwarf_getscopes_die(&innermost, &scopes);
	} else {
		nscopes = 0;
	}
	Dwarf_Files *files = NULL;
	if (nscopes > 0 && dwarf_getsrcfiles(cu, &files, NULL) != 0)
		files = NULL;
	for (int i = 0; i < nscopes; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		const char *name = showname(st, lookup, dwarf_diename(&scopes[i]), first);
		if (name != NULL && frameroom(st)) {
			printfuncname(name);
			printstr("(...)\n");
			printfileline(file, line, 0, false);
			st->printed++;
		}
		Dwarf_Attribute attr;
		Dwarf_Word w;
		if (files != NULL && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &w) == 0)
			file = dwarf_filesrc(files, w, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &w) == 0)
			line = (int)w;
	}
	free(scopes);
	const char *name = showname(st, lookup, loc.name, first);
	if (name != NULL && frameroom(st)) {
		printfuncname(name);
		printstr("(...)\n");
		printfileline(file, line, pc - loc.entry, pc > loc.entry);
		st->printed++;
	}
}

/* Prints the frames of the stack whose registers are in uc, innermost first. */
static void printframes(unw_context_t *uc, bool signal, bool runtimestack)
{
	struct tbstate st = {.level = runtimestack ? TRACEBACK_SYSTEM : debug.traceback};
	unw_cursor_t c;
	if (unw_init_local2(&c, uc, signal ? UNW_INIT_SIGNAL_FRAME : 0) != 0)
		return;
	bool exact = signal;
	for (int depth = 0; depth < 4096 && !st.elided; depth++) {
		unw_word_t ip;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) != 0 || ip == 0)
			break;
		printframe(&st, ip, exact ? ip : ip - 1, signal && depth == 0);
		exact = unw_is_signal_frame(&c) > 0;
		if (unw_step(&c) <= 0)
			break;
	}
}

/*
 * For the execution tracer's stack table: the function and source line of
 * the call that made return address pc, under the name a traceback shows
 * it by; and whether a traceback shows that frame.  Print lock held.
 */
bool tracebackpc(uintptr_t pc, char *name, size_t namesz, char *file, size_t filesz, int *line)
{
	struct tbstate st = {.level = debug.traceback, .printed = 1};
	struct location loc;
	locate(pc - 1, &loc);
	const char *shown = showname(&st, pc - 1, loc.name, false);
	const char *n = shown ? shown : loc.name ? loc.name : "?";
	snprintf(name, namesz, "%.*s", (int)funcnamelen(n), n);
	snprintf(file, filesz, "%s", loc.file ? loc.file : "?");
	*line = loc.line;
	return shown != NULL;
}

/* ------------------------------------------------------------ goroutines */

/* Go's wait reasons, with the newer, more specific names for the sync waits. */
const char *const waitreasonstrings[waitReasonMax] = {
	[waitReasonZero] = "",
	[waitReasonPanicWait] = "panicwait",
	[waitReasonChanReceive] = "chan receive",
	[waitReasonChanSend] = "chan send",
	[waitReasonChanReceiveNilChan] = "chan receive (nil chan)",
	[waitReasonChanSendNilChan] = "chan send (nil chan)",
	[waitReasonSelect] = "select",
	[waitReasonSelectNoCases] = "select (no cases)",
	[waitReasonSleep] = "sleep",
	[waitReasonSemacquire] = "semacquire",
	[waitReasonSyncMutexLock] = "sync.Mutex.Lock",
	[waitReasonSyncRWMutexRLock] = "sync.RWMutex.RLock",
	[waitReasonSyncRWMutexLock] = "sync.RWMutex.Lock",
	[waitReasonSyncWaitGroupWait] = "sync.WaitGroup.Wait",
	[waitReasonSyncCondWait] = "sync.Cond.Wait",
	[waitReasonIOWait] = "IO wait",
};

/* Go's goroutineheader: "goroutine 7 [chan receive, 2 minutes, locked to thread]:". */
static void goroutineheader(struct g *gp)
{
	uint32_t status = load_relaxed(&gp->atomicstatus);
	const char *s;
	switch (status) {
	case Gidle: s = "idle"; break;
	case Grunnable: s = "runnable"; break;
	case Grunning: s = "running"; break;
	case Gsyscall: s = "syscall"; break;
	case Gdead: s = "dead"; break;
	default:
		s = gp->waitreason > waitReasonZero && gp->waitreason < waitReasonMax
			    ? waitreasonstrings[gp->waitreason]
			    : "waiting";
	}
	printstr("goroutine ");
	printint(gp->goid);
	printstr(" [");
	printstr(s);
	if ((status == Gwaiting || status == Gsyscall) && gp->waitsince != 0) {
		int64_t minutes = (nanotime_coarse() - gp->waitsince) / 60000000000LL;
		if (minutes >= 1) {
			printstr(", ");
			printint(minutes);
			printstr(" minutes");
		}
	}
	if (gp->lockedm != NULL)
		printstr(", locked to thread");
	printstr("]:\n");
}

/* Go's printcreatedby: the function that called gort_go, and where. */
static void printcreatedby(struct g *gp)
{
	if (gp->gopc == 0 || gp->goid == 1)
		return;
	struct location loc;
	locate(gp->gopc - 1, &loc);
	printstr("created by ");
	printfuncname(loc.name);
	if (gp->parentgoid != 0) {
		printstr(" in goroutine ");
		printint(gp->parentgoid);
	}
	printstr("\n");
	printfileline(loc.file, loc.line, gp->gopc - loc.entry, true);
}

/*
 * The stack of a goroutine that is not running, from its saved context.
 * One that never ran shows its function at its entry, as Go's does.
 */
static void tracebacksaved(struct g *gp)
{
	uintptr_t sp = gp->sched.sp;
	if (sp == 0) {
		if (gp->fn == NULL)
			return;
		struct tbstate st = {.level = debug.traceback};
		printframe(&st, (uintptr_t)gp->fn, (uintptr_t)gp->fn, false);
		return;
	}
	unw_context_t uc;
	memset(&uc, 0, sizeof uc);
	gobufcontext(sp, &uc);
	printframes(&uc, false, false);
}

/* Every goroutine but me, as Go's tracebackothers, each after a blank line. */
static void tracebackothers(struct g *me)
{
	for (struct g *gp = load_acquire(&allgs); gp != NULL; gp = load_acquire(&gp->alllink)) {
		uint32_t status = load_relaxed(&gp->atomicstatus);
		if (gp == me || status == Gdead || status == Gidle || gp->goid == 0)
			continue;
		printstr("\n");
		goroutineheader(gp);
		if (status == Grunning || status == Gsyscall)
			printstr("\tgoroutine running on other thread; stack unavailable\n");
		else
			tracebacksaved(gp);
		printcreatedby(gp);
	}
}

/*
 * gp's stack (gp NULL: none; a g0: the runtime's own, "runtime stack:"),
 * from the signal context sigctx or else from here, then, with all, every
 * other goroutine.  Each part follows a blank line.  Print lock held.
 */
static void tracebackgoroutines(struct g *gp, struct ucontext_t *sigctx, bool all)
{
	san_crashing(true);
	unw_context_t here;
	unw_context_t *uc = (unw_context_t *)sigctx;
	if (uc == NULL) {
		unw_getcontext(&here);
		uc = &here;
	}
	struct g *me = NULL;
	if (gp != NULL) {
		printstr("\n");
		if (gp == gp->m->g0) {
			printstr("runtime stack:\n");
			printframes(uc, sigctx != NULL, true);
		} else {
			me = gp;
			goroutineheader(gp);
			printframes(uc, sigctx != NULL, false);
			printcreatedby(gp);
		}
	}
	if (all)
		tracebackothers(me);
	san_crashing(false);
}

/*
 * The goroutine part of a crash report: gp's stack, and every other
 * goroutine's with all or GORT_TRACEBACK=all (tracebackgoroutines).
 */
void crashtraceback(struct g *gp, struct ucontext_t *sigctx, bool all)
{
	if (debug.traceback != TRACEBACK_NONE)
		tracebackgoroutines(gp, sigctx, all || debug.traceback >= TRACEBACK_ALL);
}

/*
 * gort_dump's report: the calling goroutine gp and every other, whatever
 * GORT_TRACEBACK says, as Go's runtime.Stack(buf, true).  The world is
 * stopped, so that no stack changes while it is read.  Print lock held.
 */
void dumpgoroutines(struct g *gp)
{
	tracebackgoroutines(gp, NULL, true);
}

/* The calling goroutine's stack, as a crash report shows it (GORT_DEBUG=longrun).  Print lock held. */
void tracebackhere(struct g *gp)
{
	tracebackgoroutines(gp, NULL, false);
}

/* The end of a crash report: exit 2, or abort for a core dump (GORT_TRACEBACK=crash). */
_Noreturn void crashexit(void)
{
	tracecrash();
	if (debug.traceback == TRACEBACK_CRASH) {
		signal(SIGABRT, SIG_DFL);
		abort();
	}
	dieexit();
}
