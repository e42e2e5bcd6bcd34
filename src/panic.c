/*
 * Defer, panic, recover, Goexit and fatal errors (Go's panic.go).
 *
 * Each goroutine has one chain of deferred calls (g->_defer), newest first,
 * and each record names the frame it belongs to: a gort_call frame (struct
 * callframe, on gort_call's C stack, its chain in g->frame) or NULL, the
 * goroutine's entry function.  A frame that returns runs the records of
 * its own at the top of the chain (deferreturn).  A panic runs records
 * top-down on top of the panicking stack, whatever frame they belong to,
 * so C frames stay intact while deferred calls that live in them
 * (GORT_DEFER) run; a recover then jumps back to the recovering frame's
 * gort_call (longjmp) once that frame's remaining records have run, and
 * only then are the C frames in between abandoned.
 *
 * Invariants (DESIGN.md invariant 2, seed 004):
 *  - newdefer only allocates; deferlink alone links, and only onto the
 *    goroutine that runs it, never onto g0: deferring on the system stack
 *    is "fatal error: defer on system stack".
 *  - A record stays linked while its call runs (started).  A panic that
 *    meets a started record does not run it again: it unlinks it, marking
 *    the panic that was running it aborted (Go's #43920 handling), so a
 *    record is run at most once and freed exactly once, even when its call
 *    never returns.
 *  - While a deferred call runs, g->frame is its record's frame: deferring
 *    from inside it adds to that frame, and a recover from inside it
 *    returns to that frame.
 *  - Records of abandoned C frames (GORT_DEFER scopes) are unlinked before
 *    the jump that abandons them, while their stack is intact; nothing
 *    reads a record after its frame is gone.
 *  - A recovered message that lives on the stack being abandoned is copied
 *    first; the copy lives until the recovering frame returns.
 *
 * recover follows Go's rule with frames in place of Go's argp: it works
 * only during a deferred call that the current panic runs (g->curdefer
 * names that record and the record names the panic), whatever runs inside
 * that call, helpers and GORT_DEFER scopes ending in it included; gort_call
 * hides curdefer from what it calls.
 *
 * throw(msg) is the one way the runtime dies of an internal error or of
 * misuse: it prints Go's "fatal error: msg" and the goroutines, then exits
 * with status 2.  Reports are printed on g0 (systemstack): the goroutine
 * that died may be short of stack.
 */
#include "runtime.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "san.h"

/* A gort_call frame: where a recovered panic returns to. */
struct callframe {
	struct callframe *link;   /* the enclosing frame */
	struct _defer *curdefer;  /* the caller's g->curdefer, hidden meanwhile */
	jmp_buf ctx;
};

/* A recovered message, copied off the stack the recovery abandons. */
struct msgcopy {
	struct msgcopy *next;
	struct callframe *frame;  /* freed when this frame returns */
	char s[];
};

/* Pooled records have room for this many bytes of gort_defer_copy arguments. */
#define DEFER_INLINE_ARGS 80

struct pooldefer {
	struct _defer d;
	_Alignas(16) unsigned char args[DEFER_INLINE_ARGS];
};

struct heapdefer {
	struct _defer d;
	_Alignas(16) unsigned char args[];
};

/*
 * A GORT_DEFER record, in the caller's scope: a record and where its
 * goroutine's chain state is, for the inline end of the scope in gort.h,
 * which relies on this layout.
 */
struct scopedefer {
	struct _defer d;
	struct _defer **chain;   /* &g->_defer, followed by g->frame */
};

_Static_assert(sizeof(struct scopedefer) == sizeof(gort_defer_scope), "gort_defer_scope size");
_Static_assert(_Alignof(struct scopedefer) <= _Alignof(gort_defer_scope), "gort_defer_scope align");
_Static_assert(offsetof(struct _defer, link) == 0 * sizeof(void *) &&
		       offsetof(struct _defer, fn) == 1 * sizeof(void *) &&
		       offsetof(struct _defer, arg) == 2 * sizeof(void *) &&
		       offsetof(struct _defer, frame) == 3 * sizeof(void *) &&
		       offsetof(struct _defer, panic) == 4 * sizeof(void *) &&
		       offsetof(struct _defer, kind) == 5 * sizeof(void *) &&
		       offsetof(struct scopedefer, chain) == 6 * sizeof(void *) && DEFER_SCOPE == 0,
	       "gort.h builds and reads GORT_DEFER records: a zero word 5 is a scope, not "
	       "started, and word 4 (panic) is left unset, as it is read only once started");
_Static_assert(offsetof(struct g, frame) == offsetof(struct g, _defer) + sizeof(void *),
	       "gort.h reads the chain state in this order");

/* Goroutines running deferred calls for a panic, and whether one is dying (Go's). */
static _Atomic int32_t runningPanicDefers;
static _Atomic uint32_t panicking;

/* ------------------------------------------------------------ records */

static __attribute__((noinline, noreturn)) void badcaller(struct g *gp, const char *fn)
{
	if (gp != NULL)
		throw("defer on system stack");
	static char msg[128];
	snprintf(msg, sizeof msg, "%s called on a thread that is not running a goroutine", fn);
	throw(msg);
}

/*
 * The user goroutine calling fn, or a fatal error naming the misuse.  A
 * g0 is told from a user G by its goid, 0, without a load of its M.
 */
static inline struct g *defergp(const char *fn)
{
	struct g *gp = getg();
	if (unlikely(gp == NULL || gp->goid == 0))
		badcaller(gp, fn);
	return gp;
}

/* Takes a pooled record from the P's pool, refilled from the global one. */
static struct _defer *newdefer(struct p *pp)
{
	if (unlikely(pp->ndeferpool == 0)) {
		lock(&sched.deferlock);
		while (pp->ndeferpool < DEFERPOOL_SIZE / 2 && sched.deferpool != NULL) {
			struct _defer *d = sched.deferpool;
			sched.deferpool = d->link;
			pp->deferpool[pp->ndeferpool++] = d;
		}
		unlock(&sched.deferlock);
		if (pp->ndeferpool == 0) {
			struct pooldefer *pd = malloc(sizeof *pd);
			if (pd == NULL)
				throw("out of memory allocating a defer record");
			pd->d.kind = DEFER_POOL;
			return &pd->d;
		}
	}
	return pp->deferpool[--pp->ndeferpool];
}

/* Gives back a record that is unlinked and done with. */
static void freedefer(struct _defer *d)
{
	d->link = NULL;
	d->fn = NULL;
	if (d->kind == DEFER_HEAP) {
		free(d);
		return;
	}
	if (d->kind != DEFER_POOL)
		return;
	struct p *pp = getg()->m->p;
	if (unlikely(pp->ndeferpool == DEFERPOOL_SIZE)) {
		/* half to the global pool, so that Ps that free more than they take share */
		lock(&sched.deferlock);
		while (pp->ndeferpool > DEFERPOOL_SIZE / 2) {
			struct _defer *x = pp->deferpool[--pp->ndeferpool];
			x->link = sched.deferpool;
			sched.deferpool = x;
		}
		unlock(&sched.deferlock);
	}
	pp->deferpool[pp->ndeferpool++] = d;
}

/* Moves a P's pooled records to the global pool (the P is being destroyed). */
void deferpoolflush(struct p *pp)
{
	lock(&sched.deferlock);
	while (pp->ndeferpool > 0) {
		struct _defer *d = pp->deferpool[--pp->ndeferpool];
		d->link = sched.deferpool;
		sched.deferpool = d;
	}
	unlock(&sched.deferlock);
}

/* The one place a record joins a chain: gp's own, gp running here. */
static inline void deferlink(struct g *gp, struct _defer *d, void (*fn)(void *), void *arg)
{
	gort_assert(gp == gp->m->curg && gp != gp->m->g0);
	d->fn = fn;
	d->arg = arg;
	d->frame = gp->frame;
	d->panic = NULL;
	d->started = false;
	d->link = gp->_defer;
	gp->_defer = d;
}

/* Unlinks d, usually the top record; calls it made may have deferred more above it. */
static void deferunlink(struct g *gp, struct _defer *d)
{
	struct _defer **pd = &gp->_defer;
	while (*pd != d) {
		if (*pd == NULL)
			throw("bad defer entry");
		pd = &(*pd)->link;
	}
	*pd = d->link;
}

/*
 * Runs d, the top record, in its frame, then unlinks and frees it.  d stays
 * linked and started meanwhile: a panic out of its call finds it and
 * disposes of it instead of running it twice.
 */
static void rundefer(struct g *gp, struct _defer *d, struct _panic *p)
{
	struct callframe *frame = gp->frame;
	struct _defer *cur = gp->curdefer;
	d->started = true;
	d->panic = p;
	gp->frame = d->frame;
	gp->curdefer = d;
	d->fn(d->arg);
	gp->frame = frame;
	gp->curdefer = cur;
	d->panic = NULL;
	deferunlink(gp, d);
	freedefer(d);
}

/* Runs the records of frame at the top of the chain: the frame is returning. */
static void deferreturn(struct g *gp, struct callframe *frame)
{
	struct _defer *d;
	while ((d = gp->_defer) != NULL && d->frame == frame) {
		gort_assert(!d->started);
		rundefer(gp, d, NULL);
	}
}

/* The entry function of gp returned: its frame's records run. */
void deferreturnentry(struct g *gp)
{
	deferreturn(gp, NULL);
}

/* Frees the recovered-message copies owned by frame (the newest ones). */
static void freemsgcopies(struct g *gp, struct callframe *frame)
{
	struct msgcopy *c;
	while ((c = gp->msgcopies) != NULL && (frame == NULL || c->frame == frame)) {
		gp->msgcopies = c->next;
		free(c);
	}
}

/* At goroutine exit: nothing deferred may be left, and no copy kept. */
void deferexit(struct g *gp)
{
	if (gp->_defer != NULL || gp->_panic != NULL)
		throw("goroutine exits with deferred calls pending");
	freemsgcopies(gp, NULL);
	gp->frame = NULL;
	gp->curdefer = NULL;
}

/* ---------------------------------------------------------------- API */

void gort_defer(void (*fn)(void *arg), void *arg)
{
	struct g *gp = defergp("gort_defer");
	if (unlikely(fn == NULL))
		throw("defer of nil func value");
	deferlink(gp, newdefer(gp->m->p), fn, arg);
}

void gort_defer_copy(void (*fn)(void *args), const void *args, size_t size)
{
	struct g *gp = defergp("gort_defer_copy");
	if (unlikely(fn == NULL))
		throw("defer of nil func value");
	struct _defer *d;
	void *copy;
	if (size <= DEFER_INLINE_ARGS) {
		d = newdefer(gp->m->p);
		copy = ((struct pooldefer *)d)->args;
	} else {
		struct heapdefer *hd = malloc(sizeof *hd + size);
		if (hd == NULL)
			throw("out of memory copying deferred arguments");
		hd->d.kind = DEFER_HEAP;
		d = &hd->d;
		copy = hd->args;
	}
	if (size > 0)
		memcpy(copy, args, size);
	deferlink(gp, d, fn, copy);
}

/* GORT_DEFER's declaration where gort.h has no inline code for it. */
char gort_defer_scope_enter_slow(gort_defer_scope *rec, void (*fn)(void *arg), void *arg)
{
	struct g *gp = defergp("GORT_DEFER");
	if (unlikely(fn == NULL))
		throw("defer of nil func value");
	struct scopedefer *sd = (struct scopedefer *)rec;
	sd->d.kind = DEFER_SCOPE;
	sd->chain = &gp->_defer;
	deferlink(gp, &sd->d, fn, arg);
	return 0;
}

/* gort.h's inline GORT_DEFER found no goroutine to defer on, or a NULL function. */
_Noreturn void gort_defer_scope_fail(void (*fn)(void *arg))
{
	defergp("GORT_DEFER");
	if (fn == NULL)
		throw("defer of nil func value");
	throw("GORT_DEFER: the goroutine's defer chain is not set");
}

static bool deferlinked(struct g *gp, struct _defer *d)
{
	for (struct _defer *x = gp->_defer; x != NULL; x = x->link)
		if (x == d)
			return true;
	return false;
}

/*
 * A GORT_DEFER scope ends with records above its own: those deferred since
 * (gort_defer in the scope) run first.  The common case, its record on
 * top, is inline in gort.h: it unlinks the record before the call, as Go's
 * deferreturn does, so a panic out of the call has nothing of it to
 * dispose of (the record is not freed).  It leaves g->frame alone, since a
 * scope ends in the frame it began in, and g->curdefer too: a scope that
 * ends inside a deferred call is part of that call, for recover.
 */
void gort_defer_scope_exit_slow(gort_defer_scope *rec)
{
	struct g *gp = getg();
	struct _defer *d = (struct _defer *)rec;
	if (!deferlinked(gp, d))
		throw("GORT_DEFER record is not on the defer chain (a longjmp out of its scope?)");
	while (gp->_defer != d)
		rundefer(gp, gp->_defer, NULL);
	gort_defer_scope_exit(rec);
}

int gort_call(void (*fn)(void *arg), void *arg)
{
	struct g *gp = defergp("gort_call");
	if (unlikely(fn == NULL))
		throw("gort_call of nil func value");
	struct callframe f;
	f.link = gp->frame;
	f.curdefer = gp->curdefer;
	gp->frame = &f;
	gp->curdefer = NULL;
	int recovered = setjmp(f.ctx);
	if (!recovered) {
		fn(arg);
		deferreturn(gp, &f);
	}
	gp->frame = f.link;
	gp->curdefer = f.curdefer;
	if (unlikely(gp->msgcopies != NULL))
		freemsgcopies(gp, &f);
	return recovered;
}

/* ---------------------------------------------------------------- panic */

/*
 * Runs every record on gp's chain for the panic (or Goexit) p, until one
 * recovers p.  Returns the frame to resume, or, if p ran out of records,
 * with p->recovered false.
 */
static __attribute__((noinline)) struct callframe *panicloop(struct g *gp, struct _panic *p)
{
	struct _defer *d;
	while ((d = gp->_defer) != NULL) {
		if (d->started) {
			/* a call that panicked: its panic is superseded, the call done */
			if (d->panic != NULL)
				d->panic->aborted = true;
			d->panic = NULL;
			deferunlink(gp, d);
			freedefer(d);
			continue;
		}
		struct callframe *frame = d->frame;
		rundefer(gp, d, p);
		if (p->recovered)
			return frame;
	}
	return NULL;
}

static _Noreturn void fatalpanic(struct g *gp, struct _panic *p);
static _Noreturn void goexitdefers(struct g *gp, struct _panic *ge);

/* Unlinks gp's newest panic, which is over. */
static void droppanic(struct g *gp)
{
	struct _panic *p = gp->_panic;
	gp->_panic = p->link;
	if (!p->goexit)
		atomic_fetch_sub(&runningPanicDefers, 1);
}

/*
 * A recovered panic: drop it and the panics it aborted, finish the
 * recovering frame's records, and resume the frame as if its function had
 * returned.  If the panic interrupted a Goexit, the Goexit goes on instead:
 * a recover cannot cancel it (Go's #29226).
 */
static _Noreturn void recovery(struct g *gp, struct callframe *frame)
{
	droppanic(gp);
	struct _panic *top = gp->_panic;
	if (top != NULL && top->goexit && top->aborted) {
		top->aborted = false;
		goexitdefers(gp, top);
	}
	while (gp->_panic != NULL && gp->_panic->aborted)
		droppanic(gp);
	deferreturn(gp, frame);
	if (frame == NULL)
		goexit1(); /* the entry function's frame recovered: the goroutine returns */
	longjmp(frame->ctx, 1);
}

static _Noreturn __attribute__((noinline)) void gopanic(struct _panic *p)
{
	struct g *gp = getg();
	if (gp == NULL || gp == gp->m->g0) {
		printlock();
		printstr("panic: ");
		printstr(p->msg ? p->msg : "nil");
		printstr("\n");
		printunlock();
		throw(gp == NULL ? "panic on a thread that is not running a goroutine"
				 : "panic on system stack");
	}
	atomic_fetch_add(&runningPanicDefers, 1);
	p->link = gp->_panic;
	gp->_panic = p;
	struct callframe *frame = panicloop(gp, p);
	if (p->recovered)
		recovery(gp, frame);
	fatalpanic(gp, p);
}

_Noreturn void gort_panic(const char *msg)
{
	struct _panic p = {.msg = msg};
	gopanic(&p);
}

_Noreturn void gort_panic_value(void *value, const char *msg)
{
	struct _panic p = {.msg = msg, .value = value};
	gopanic(&p);
}

_Noreturn void gort_panicf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char buf[n + 1]; /* on the panicking stack, which lives while the panic runs */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	struct _panic p = {.msg = buf};
	gopanic(&p);
}

/*
 * A message on gp's stack dies with the frames a recovery abandons: the
 * recovering frame gets a copy that lives until it returns.
 */
static const char *stablemsg(struct g *gp, const char *msg, struct callframe *frame)
{
	uintptr_t a = (uintptr_t)msg;
	if (msg == NULL || a < gp->stack.lo || a >= gp->stack.hi)
		return msg;
	size_t n = strlen(msg);
	struct msgcopy *c = malloc(sizeof *c + n + 1);
	if (c == NULL)
		throw("out of memory copying a recovered panic message");
	memcpy(c->s, msg, n + 1);
	c->frame = frame;
	c->next = gp->msgcopies;
	gp->msgcopies = c;
	return c->s;
}

bool gort_recover(gort_panic_info *out)
{
	struct g *gp = getg();
	if (gp == NULL || gp == gp->m->g0)
		return false;
	struct _panic *p = gp->_panic;
	struct _defer *d = gp->curdefer;
	if (p == NULL || p->goexit || p->recovered || d == NULL || d->panic != p)
		return false;
	p->recovered = true;
	if (out != NULL) {
		out->msg = stablemsg(gp, p->msg, d->frame);
		out->value = p->value;
	}
	return true;
}

/* ---------------------------------------------------------------- Goexit */

/* Runs all of gp's records for the Goexit ge (recover fails in them), then ends gp. */
static _Noreturn void goexitdefers(struct g *gp, struct _panic *ge)
{
	panicloop(gp, ge); /* never recovered: it runs them all */
	while (gp->_panic != NULL)
		droppanic(gp);
	goexit1();
}

_Noreturn void gort_goexit(void)
{
	struct g *gp = getg();
	if (gp != NULL && gp == gp->m->g0)
		gp = gp->m->curg;
	if (gp == NULL || getg() != gp)
		throw("gort_goexit called from a thread that is not running a goroutine");
	if (gp->goid == 1)
		atomic_store(&sched.maingoexited, true);
	struct _panic ge = {.goexit = true};
	ge.link = gp->_panic;
	gp->_panic = &ge;
	goexitdefers(gp, &ge);
}

/* ----------------------------------------------------------- fatal errors */

/*
 * Go's printpanics: the oldest panic first, each newer one on the next
 * line, indented; Goexits are not shown.
 */
static void printpanics(struct _panic *p)
{
	if (p->link != NULL) {
		printpanics(p->link);
		if (!p->link->goexit)
			printstr("\t");
	}
	if (p->goexit)
		return;
	printstr("panic: ");
	if (p->msg != NULL) {
		printstr(p->msg);
	} else if (p->value != NULL) {
		printstr("(void *) ");
		printhex((uintptr_t)p->value);
	} else {
		printstr("nil");
	}
	if (p->recovered)
		printstr(" [recovered]");
	printstr("\n");
}

/*
 * Goroutine 1 returned: as Go's main does, give a goroutine running
 * deferred calls for a panic the time to finish them, and never exit under
 * a goroutine printing its report (that one exits the process).
 */
void panicwait(void)
{
	for (int i = 0; i < 1000 && atomic_load(&runningPanicDefers) != 0; i++)
		gort_yield();
	if (atomic_load(&panicking))
		gopark(NULL, NULL, waitReasonPanicWait);
}

struct panicreport {
	struct g *gp;
	struct _panic *p;
};

static void dopanic_m(void *arg)
{
	struct panicreport *r = arg;
	printlock();
	printpanics(r->p);
	crashtraceback(r->gp, NULL, false);
	printunlock();
	crashexit();
}

static _Noreturn void fatalpanic(struct g *gp, struct _panic *p)
{
	atomic_store(&panicking, 1);
	freezetheworld();
	struct panicreport r = {gp, p};
	systemstack(dopanic_m, &r);
	__builtin_unreachable();
}

static void fatalthrow(void *msg)
{
	struct g *gp = getg();
	printlock();
	printstr("fatal error: ");
	printstr(msg);
	printstr("\n");
	crashtraceback(gp ? gp->m->curg : NULL, NULL, true);
	printunlock();
	crashexit();
}

/*
 * Dies of an internal error or of misuse, with Go's report: the message
 * and every goroutine.
 */
_Noreturn void throw(const char *msg)
{
	struct g *gp = getg();
	atomic_store(&panicking, 1);
	if (gp != NULL) {
		freezetheworld();
		systemstack(fatalthrow, (void *)msg);
	}
	fatalthrow((void *)msg);
	__builtin_unreachable();
}

_Noreturn void throw_assert(const char *cond, const char *file, int line)
{
	printlock();
	printstr("runtime: assertion failed: ");
	printstr(cond);
	printstr(" at ");
	printstr(file);
	printstr(":");
	printint(line);
	printstr("\n");
	printunlock();
	throw("runtime invariant violated");
}

/* GORT_DEBUG=invariants=1, at every schedule: g0 never holds a record (seed 004). */
void checkg0(struct m *mp)
{
	if (mp->g0->_defer != NULL || mp->g0->_panic != NULL)
		throw("g0 holds a defer or panic record");
}
