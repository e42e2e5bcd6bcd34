/*
 * gort-trace: reads an execution trace in Go's 1.19 format (the "v1"
 * format Go 1.19 to 1.21 write, also the 1.7 to 1.11 versions of it that
 * differ only in a few argument counts), checks it the way Go's own parser
 * (internal/trace) does, and shows it:
 *
 *   gort-trace check FILE        validate; silent on success
 *   gort-trace events FILE       the merged event stream, then event counts
 *   gort-trace json FILE [OUT]   Chrome trace-event JSON (Perfetto, chrome://tracing)
 *   gort-trace summary FILE      goroutines, processors and blocking, in tables
 *
 * The stages follow Go's internal/trace parser, rule by rule, so that a
 * trace this tool accepts is one `go tool trace` accepts, and the event
 * stream printed is the one `go tool trace -d` prints:
 *
 *  1. read_wire: the whole file is in memory; the header is checked, then
 *     every record is split into its type and its varint values (inline
 *     when there are fewer than 4, otherwise after a byte length).
 *     EvString records fill the string table here, and EvUserLog's trailing
 *     inline string is kept; nothing else is interpreted yet, because
 *     strings may come after the records that use them.
 *  2. parse_events: the number of values is checked for each event type,
 *     EvStack records fill the stack table, and every other event gets its
 *     absolute timestamp (batch ticks plus deltas), its P (the batch's) and
 *     its G (the G last started on that P, remembered across batches).
 *  3. merge: the events of each P are in order, but the Ps' streams must be
 *     interleaved.  Among the first unmerged event of each P, those whose
 *     goroutine is in the state (and at the sequence number) the event
 *     needs are ready; the earliest ready one is taken, and so on.  A
 *     stream whose order does not then agree with its timestamps is
 *     rejected, as is one that cannot be ordered at all.
 *  4. ticks become nanoseconds since the first event, futile wakeups are
 *     dropped, and the state machine of Gs and Ps is run over the stream
 *     (post_process): a G starts only when runnable, a P runs one G, and
 *     so on.
 *  5. analyse: the checked stream becomes intervals (running slices per P
 *     and per G, blocked and runnable waits, regions, tasks, logs), from
 *     which the JSON and the summary are written.
 *
 * json lays the trace out for Chrome's trace-event viewers: a process of
 * Ps whose threads show which goroutine ran when, a process of goroutines
 * whose threads show each one running, blocked (and why) or runnable, with
 * its logs and tasks, and a process for user regions (see cmd_json).
 *
 * Errors end the program at once (fail): this is a one-shot tool, and the
 * first error is the one Go would report.  What lives until the end hangs
 * off the one global struct trace, so leak checkers find nothing lost.
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ event types */

/* The event types' numbers and names are the format's (runtime/trace.go). */
enum {
	EvNone, EvBatch, EvFrequency, EvStack, EvGomaxprocs, EvProcStart, EvProcStop, EvGCStart,
	EvGCDone, EvGCSTWStart, EvGCSTWDone, EvGCSweepStart, EvGCSweepDone, EvGoCreate, EvGoStart,
	EvGoEnd, EvGoStop, EvGoSched, EvGoPreempt, EvGoSleep, EvGoBlock, EvGoUnblock, EvGoBlockSend,
	EvGoBlockRecv, EvGoBlockSelect, EvGoBlockSync, EvGoBlockCond, EvGoBlockNet, EvGoSysCall,
	EvGoSysExit, EvGoSysBlock, EvGoWaiting, EvGoInSyscall, EvHeapAlloc, EvHeapGoal,
	EvTimerGoroutine, EvFutileWakeup, EvString, EvGoStartLocal, EvGoUnblockLocal,
	EvGoSysExitLocal, EvGoStartLabel, EvGoBlockGC, EvGCMarkAssistStart, EvGCMarkAssistDone,
	EvUserTaskCreate, EvUserTaskEnd, EvUserRegion, EvUserLog, EvCPUSample, EvCount
};

/*
 * What each type carries after its timestamp delta: named arguments, then a
 * stack id when stack is set; sargs are the strings the parser resolves for
 * it (printed after the arguments, as Go prints them).  minver is the first
 * format version with the type.
 */
struct evdesc {
	const char *name;
	int minver;
	bool stack;
	int nargs;
	const char *args[3];
	int nsargs;
	const char *sargs[2];
};

static const struct evdesc descs[EvCount] = {
	[EvNone] = {"None", 1005, false, 0, {0}, 0, {0}},
	[EvBatch] = {"Batch", 1005, false, 2, {"p", "ticks"}, 0, {0}},
	[EvFrequency] = {"Frequency", 1005, false, 1, {"freq"}, 0, {0}},
	[EvStack] = {"Stack", 1005, false, 2, {"id", "siz"}, 0, {0}},
	[EvGomaxprocs] = {"Gomaxprocs", 1005, true, 1, {"procs"}, 0, {0}},
	[EvProcStart] = {"ProcStart", 1005, false, 1, {"thread"}, 0, {0}},
	[EvProcStop] = {"ProcStop", 1005, false, 0, {0}, 0, {0}},
	[EvGCStart] = {"GCStart", 1005, true, 1, {"seq"}, 0, {0}},
	[EvGCDone] = {"GCDone", 1005, false, 0, {0}, 0, {0}},
	[EvGCSTWStart] = {"GCSTWStart", 1005, false, 1, {"kindid"}, 1, {"kind"}},
	[EvGCSTWDone] = {"GCSTWDone", 1005, false, 0, {0}, 0, {0}},
	[EvGCSweepStart] = {"GCSweepStart", 1005, true, 0, {0}, 0, {0}},
	[EvGCSweepDone] = {"GCSweepDone", 1005, false, 2, {"swept", "reclaimed"}, 0, {0}},
	[EvGoCreate] = {"GoCreate", 1005, true, 2, {"g", "stack"}, 0, {0}},
	[EvGoStart] = {"GoStart", 1005, false, 2, {"g", "seq"}, 0, {0}},
	[EvGoEnd] = {"GoEnd", 1005, false, 0, {0}, 0, {0}},
	[EvGoStop] = {"GoStop", 1005, true, 0, {0}, 0, {0}},
	[EvGoSched] = {"GoSched", 1005, true, 0, {0}, 0, {0}},
	[EvGoPreempt] = {"GoPreempt", 1005, true, 0, {0}, 0, {0}},
	[EvGoSleep] = {"GoSleep", 1005, true, 0, {0}, 0, {0}},
	[EvGoBlock] = {"GoBlock", 1005, true, 0, {0}, 0, {0}},
	[EvGoUnblock] = {"GoUnblock", 1005, true, 2, {"g", "seq"}, 0, {0}},
	[EvGoBlockSend] = {"GoBlockSend", 1005, true, 0, {0}, 0, {0}},
	[EvGoBlockRecv] = {"GoBlockRecv", 1005, true, 0, {0}, 0, {0}},
	[EvGoBlockSelect] = {"GoBlockSelect", 1005, true, 0, {0}, 0, {0}},
	[EvGoBlockSync] = {"GoBlockSync", 1005, true, 0, {0}, 0, {0}},
	[EvGoBlockCond] = {"GoBlockCond", 1005, true, 0, {0}, 0, {0}},
	[EvGoBlockNet] = {"GoBlockNet", 1005, true, 0, {0}, 0, {0}},
	[EvGoSysCall] = {"GoSysCall", 1005, true, 0, {0}, 0, {0}},
	[EvGoSysExit] = {"GoSysExit", 1005, false, 3, {"g", "seq", "ts"}, 0, {0}},
	[EvGoSysBlock] = {"GoSysBlock", 1005, false, 0, {0}, 0, {0}},
	[EvGoWaiting] = {"GoWaiting", 1005, false, 1, {"g"}, 0, {0}},
	[EvGoInSyscall] = {"GoInSyscall", 1005, false, 1, {"g"}, 0, {0}},
	[EvHeapAlloc] = {"HeapAlloc", 1005, false, 1, {"mem"}, 0, {0}},
	[EvHeapGoal] = {"HeapGoal", 1005, false, 1, {"mem"}, 0, {0}},
	[EvTimerGoroutine] = {"TimerGoroutine", 1005, false, 1, {"g"}, 0, {0}},
	[EvFutileWakeup] = {"FutileWakeup", 1005, false, 0, {0}, 0, {0}},
	[EvString] = {"String", 1007, false, 0, {0}, 0, {0}},
	[EvGoStartLocal] = {"GoStartLocal", 1007, false, 1, {"g"}, 0, {0}},
	[EvGoUnblockLocal] = {"GoUnblockLocal", 1007, true, 1, {"g"}, 0, {0}},
	[EvGoSysExitLocal] = {"GoSysExitLocal", 1007, false, 2, {"g", "ts"}, 0, {0}},
	[EvGoStartLabel] = {"GoStartLabel", 1008, false, 3, {"g", "seq", "labelid"}, 1, {"label"}},
	[EvGoBlockGC] = {"GoBlockGC", 1008, true, 0, {0}, 0, {0}},
	[EvGCMarkAssistStart] = {"GCMarkAssistStart", 1009, true, 0, {0}, 0, {0}},
	[EvGCMarkAssistDone] = {"GCMarkAssistDone", 1009, false, 0, {0}, 0, {0}},
	[EvUserTaskCreate] = {"UserTaskCreate", 1011, true, 3, {"taskid", "pid", "typeid"}, 1, {"name"}},
	[EvUserTaskEnd] = {"UserTaskEnd", 1011, true, 1, {"taskid"}, 0, {0}},
	[EvUserRegion] = {"UserRegion", 1011, true, 3, {"taskid", "mode", "typeid"}, 1, {"name"}},
	[EvUserLog] = {"UserLog", 1011, true, 2, {"id", "keyid"}, 2, {"category", "message"}},
	[EvCPUSample] = {"CPUSample", 1019, true, 3, {"ts", "p", "g"}, 0, {0}},
};

/* The parser's pseudo-Ps, numbered as Go numbers them. */
enum {
	FakeP = 1000000,    /* the Ps of a trace are below */
	TimerP = 1000001,   /* unblocks by the timer goroutine */
	NetpollP = 1000002, /* unblocks of Gs blocked on the network */
	SyscallP = 1000003, /* returns from system calls */
	GCP = 1000004,      /* GC starts */
	ProfileP = 1000005, /* CPU samples, ordered by their own timestamps */
};

/* The kinds of blocking, for the JSON's and the summary's names. */
enum { R_RECV, R_SEND, R_SELECT, R_SYNC, R_COND, R_SLEEP, R_NET, R_BLOCK, R_SYSCALL, R_STOP, R_GC, R_COUNT };
static const char *const reasons[R_COUNT] = {
	"chan receive", "chan send", "select", "sync", "sync.Cond", "sleep",
	"network", "blocked", "syscall", "stopped", "GC assist",
};

/* ------------------------------------------------------------------ data */

#define NONE SIZE_MAX

struct str {
	const char *p;
	size_t n;
};

struct frame {
	uint64_t pc, fn, file, line; /* fn and file are string ids */
};

struct stack {
	size_t first; /* into trace.frames */
	size_t n;
};

/* A raw record: its type and where its values are in trace.rawargs. */
struct rawev {
	size_t off, arg0, nargs;
	size_t msg; /* EvUserLog: its inline string, in trace.msgs */
	uint8_t type;
};

struct event {
	int64_t ts; /* ticks until to_nanoseconds, then ns since the first event */
	int64_t p;
	uint64_t g, stk;
	uint64_t args[3]; /* EvUserLog's args[2] indexes trace.msgs */
	size_t off;
	uint8_t type;
};

/* A P: its batch of events, and its state for each stage. */
struct pinfo {
	int64_t id;
	uint64_t lastg;                 /* parse: the G running at the end of its last batch */
	size_t *bev, nbev, capbev, head; /* merge: its events, in file order */
	bool running;                   /* post_process */
	uint64_t g;
	size_t evstw, evsweep;
	bool seen;     /* analyse: a real P with events */
	int64_t busy;  /* analyse: ns spent running goroutines */
	size_t slices; /* analyse */
};

enum { gDead, gRunnable, gRunning, gWaiting };

/* A G: its state for each stage. */
struct ginfo {
	uint64_t id;
	uint64_t oseq; /* merge */
	int ostatus;
	bool exists; /* post_process: Go's map has it */
	int state;
	size_t ev, evassist; /* its last state change; its open mark assist */
	bool futile; /* remove_futile */
	size_t *wake, nwake, capwake;
	/* analyse */
	uint64_t entry;     /* the stack id of its entry function */
	bool created, ended;
	int astate;         /* gDead, gRunnable, gRunning or gWaiting */
	int64_t since;      /* when astate began */
	int reason;         /* while waiting */
	uint64_t blockstk;  /* while waiting: where it blocked */
	uint64_t resumestk; /* where it will go on from when it next runs */
	uint64_t sysstk;    /* its last system call's stack */
	int64_t runp;       /* while running */
	uint64_t runstk;
	int64_t running;    /* ns, in total */
	bool hasregions;
	size_t *regions, nregions, capregions; /* open regions, indexes in trace.regions */
};

/* Open-addressing hash map from 64-bit keys to 32-bit values. */
struct u64map {
	uint64_t *keys;
	uint32_t *vals; /* UINT32_MAX: empty slot */
	size_t cap, n;
};

#define VEC(type)              \
	struct {               \
		type *v;       \
		size_t n, cap; \
	}
#define PUSH(vec, x)                                                              \
	do {                                                                      \
		if ((vec).n == (vec).cap)                                         \
			grow((void **)&(vec).v, &(vec).cap, sizeof *(vec).v);     \
		(vec).v[(vec).n++] = (x);                                         \
	} while (0)

/* The analysis' intervals; times in ns. */
struct slice {
	uint64_t g, startstk, endstk;
	int64_t p, start, end;
	uint8_t endtype; /* EvNone: still running when the trace ends */
};
struct wait {
	uint64_t g, stk, by; /* by: the unblocking G, or UINT64_MAX */
	int64_t start, end;
	int reason;
	bool open; /* not over when the trace ends */
};
struct span {
	uint64_t g;
	int64_t start, end;
};
struct region {
	uint64_t g, task;
	struct str name;
	int64_t start, end;
};
struct task {
	uint64_t id, g, endg;
	struct str name;
	int64_t start, end;
	bool ended;
};
struct counter {
	int64_t ts;
	long running, runnable;
};

static struct trace {
	const char *path;
	unsigned char *data;
	size_t size;
	int ver;
	int64_t freq;

	struct u64map strmap; /* string id -> strs */
	VEC(struct str) strs;
	VEC(struct str) msgs;
	VEC(struct rawev) raws;
	VEC(uint64_t) rawargs;
	struct u64map stkmap; /* stack id -> stacks */
	VEC(struct stack) stacks;
	VEC(struct frame) frames;
	struct u64map timerg; /* the timer goroutines' ids */

	VEC(struct event) evs;
	struct u64map pmap;
	VEC(struct pinfo) ps;
	struct u64map gmap;
	VEC(struct ginfo) gs;

	VEC(struct slice) slices;
	VEC(struct wait) waits;
	VEC(struct span) runnables;
	VEC(struct region) regions;
	VEC(struct task) tasks;
	VEC(size_t) logs;
	VEC(struct counter) counters;
	int64_t end; /* the last event's time */
} T;

/* ---------------------------------------------------------------- basics */

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "gort-trace: %s: ", T.path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		fail("out of memory");
	return p;
}

static void grow(void **v, size_t *cap, size_t elem)
{
	size_t n = *cap ? *cap * 2 : 16;
	if (n > SIZE_MAX / elem)
		fail("out of memory");
	*v = xrealloc(*v, n * elem);
	*cap = n;
}

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t map_slot(const struct u64map *m, uint64_t key)
{
	size_t i = hash64(key) & (m->cap - 1);
	while (m->vals[i] != UINT32_MAX && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static bool map_get(const struct u64map *m, uint64_t key, uint32_t *val)
{
	if (m->cap == 0)
		return false;
	size_t i = map_slot(m, key);
	if (m->vals[i] == UINT32_MAX)
		return false;
	*val = m->vals[i];
	return true;
}

static void map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct u64map old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		m->keys = xrealloc(NULL, m->cap * sizeof *m->keys);
		m->vals = xrealloc(NULL, m->cap * sizeof *m->vals);
		memset(m->vals, 0xff, m->cap * sizeof *m->vals);
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.vals[i] != UINT32_MAX)
				map_put(m, old.keys[i], old.vals[i]);
		free(old.keys);
		free(old.vals);
	}
	size_t i = map_slot(m, key);
	if (m->vals[i] == UINT32_MAX)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
}

static struct str string_of(uint64_t id)
{
	uint32_t i;
	if (id != 0 && map_get(&T.strmap, id, &i))
		return T.strs.v[i];
	return (struct str){"", 0};
}

/* A stack's frames (innermost first), or NULL when there is no such stack. */
static const struct frame *stack_of(uint64_t id, size_t *n)
{
	uint32_t i;
	*n = 0;
	if (id == 0 || !map_get(&T.stkmap, id, &i))
		return NULL;
	*n = T.stacks.v[i].n;
	return &T.frames.v[T.stacks.v[i].first];
}

/* The P with this id, made on first use; its index in T.ps. */
static size_t pidx(int64_t id)
{
	uint32_t i;
	if (map_get(&T.pmap, (uint64_t)id, &i))
		return i;
	PUSH(T.ps, ((struct pinfo){.id = id, .evstw = NONE, .evsweep = NONE}));
	map_put(&T.pmap, (uint64_t)id, (uint32_t)(T.ps.n - 1));
	return T.ps.n - 1;
}

/* The same for Gs.  Pointers into T.gs die when another G is made. */
static size_t gidx(uint64_t id)
{
	uint32_t i;
	if (map_get(&T.gmap, id, &i))
		return i;
	if (T.gs.n >= UINT32_MAX - 1)
		fail("too many goroutines");
	PUSH(T.gs, ((struct ginfo){.id = id, .ev = NONE, .evassist = NONE}));
	map_put(&T.gmap, id, (uint32_t)(T.gs.n - 1));
	return T.gs.n - 1;
}

/* Pointers to them, the index taken before T.gs or T.ps may move. */
static struct ginfo *gptr(uint64_t id)
{
	size_t i = gidx(id);
	return &T.gs.v[i];
}

static struct pinfo *pptr(int64_t id)
{
	size_t i = pidx(id);
	return &T.ps.v[i];
}

static const char *evname(int type)
{
	return descs[type].name;
}

/* --------------------------------------------------------- 1. wire format */

struct reader {
	const unsigned char *p;
	size_t n, off;
};

/* An unsigned LEB128 value of at most 10 bytes. */
static uint64_t read_val(struct reader *r)
{
	size_t off0 = r->off;
	uint64_t v = 0;
	for (int i = 0; i < 10; i++) {
		if (r->off >= r->n)
			fail("failed to read trace at offset %zu: unexpected end of file", off0);
		unsigned char b = r->p[r->off++];
		v |= (uint64_t)(b & 0x7f) << (i * 7);
		if ((b & 0x80) == 0)
			return v;
	}
	fail("bad value at offset 0x%zx", off0);
}

/* A string of at most 1e6 bytes: its bytes stay in the file's buffer. */
static struct str read_bytes(struct reader *r, uint64_t len)
{
	if (len > r->n - r->off)
		fail("failed to read trace at offset %zu: read %zu, want %" PRIu64 ", unexpected end of file",
		     r->off, r->n - r->off, len);
	struct str s = {(const char *)r->p + r->off, (size_t)len};
	r->off += (size_t)len;
	return s;
}

/* "go 1.N trace" padded with NULs to 16 bytes; the version as 1000+N. */
static int parse_header(const unsigned char *b)
{
	if (b[0] != 'g' || b[1] != 'o' || b[2] != ' ' || b[3] < '1' || b[3] > '9' || b[4] != '.' || b[5] < '1' ||
	    b[5] > '9')
		fail("not a trace file");
	int ver = b[5] - '0', i = 0;
	for (; i < 2 && b[6 + i] >= '0' && b[6 + i] <= '9'; i++)
		ver = ver * 10 + b[6 + i] - '0';
	ver += (b[3] - '0') * 1000;
	if (memcmp(b + 6 + i, " trace\0\0\0\0", 10 - i) != 0)
		fail("not a trace file");
	return ver;
}

static void read_wire(void)
{
	if (T.size < 16)
		fail("failed to read header: read %zu bytes, want 16", T.size);
	T.ver = parse_header(T.data);
	/* 1.5's format numbered events differently; 1.7 onwards differ only in arguments */
	switch (T.ver) {
	case 1007: case 1008: case 1009: case 1010: case 1011: case 1019:
		break;
	default:
		fail("unsupported trace file version %d.%d", T.ver / 1000, T.ver % 1000);
	}
	struct reader r = {T.data, T.size, 16};
	while (r.off < r.n) {
		size_t off0 = r.off;
		unsigned char b = r.p[r.off++];
		int type = b & 0x3f, narg = (b >> 6) + 1;
		if (type == EvNone || type >= EvCount || descs[type].minver > T.ver)
			fail("unknown event type %d at offset 0x%zx", type, off0);
		if (type == EvString) {
			uint64_t id = read_val(&r);
			uint32_t dummy;
			if (id == 0)
				fail("string at offset %zu has invalid id 0", r.off);
			if (map_get(&T.strmap, id, &dummy))
				fail("string at offset %zu has duplicate id %" PRIu64, r.off, id);
			uint64_t len = read_val(&r);
			if (len == 0)
				fail("string at offset %zu has invalid length 0", r.off);
			if (len > 1000000)
				fail("string at offset %zu has too large length %" PRIu64, r.off, len);
			PUSH(T.strs, read_bytes(&r, len));
			map_put(&T.strmap, id, (uint32_t)(T.strs.n - 1));
			continue;
		}
		struct rawev ev = {.off = off0, .arg0 = T.rawargs.n, .msg = NONE, .type = (uint8_t)type};
		if (narg < 4) {
			for (int i = 0; i < narg; i++)
				PUSH(T.rawargs, read_val(&r));
		} else {
			/* a byte length, then values until that many bytes are read */
			uint64_t len = read_val(&r);
			size_t start = r.off;
			while (len > r.off - start)
				PUSH(T.rawargs, read_val(&r));
			if (len != r.off - start)
				fail("event has wrong length at offset 0x%zx: want %" PRIu64 ", got %zu", off0, len,
				     r.off - start);
		}
		ev.nargs = T.rawargs.n - ev.arg0;
		if (type == EvUserLog) {
			/* the message: a length, then its bytes */
			size_t at = r.off;
			uint64_t len = read_val(&r);
			if (len > 1000000)
				fail("string at offset %zu is too large (len=%" PRIu64 ")", at, len);
			PUSH(T.msgs, read_bytes(&r, len));
			ev.msg = T.msgs.n - 1;
		}
		PUSH(T.raws, ev);
	}
}

/* ------------------------------------------------------ 2. parse events */

static void batch_push(struct pinfo *p, size_t ev)
{
	if (p->nbev == p->capbev)
		grow((void **)&p->bev, &p->capbev, sizeof *p->bev);
	p->bev[p->nbev++] = ev;
}

/* How many values a record of this type must have. */
static size_t arg_num(const struct rawev *raw)
{
	const struct evdesc *d = &descs[raw->type];
	if (raw->type == EvStack)
		return raw->nargs; /* checked on its own */
	size_t n = (size_t)d->nargs + d->stack;
	if (raw->type == EvBatch || raw->type == EvFrequency || raw->type == EvTimerGoroutine)
		return n; /* no timestamp */
	n++;
	if (raw->type == EvGCSweepDone && T.ver < 1009)
		n -= 2; /* 1.9 added swept and reclaimed */
	if (raw->type == EvGCSTWStart && T.ver < 1010)
		n--; /* 1.10 added the kind */
	return n;
}

static void parse_events(void)
{
	int64_t lastts = 0;
	uint64_t lastg = 0;
	int64_t lastp = 0;
	size_t cur = pidx(0);
	for (size_t k = 0; k < T.raws.n; k++) {
		const struct rawev *raw = &T.raws.v[k];
		const uint64_t *a = &T.rawargs.v[raw->arg0];
		const struct evdesc *d = &descs[raw->type];
		size_t narg = arg_num(raw);
		if (raw->nargs != narg)
			fail("%s has wrong number of arguments at offset 0x%zx: want %zu, got %zu", d->name, raw->off,
			     narg, raw->nargs);
		switch (raw->type) {
		case EvBatch:
			/* the G running on a P carries over to its next batch */
			T.ps.v[cur].lastg = lastg;
			lastp = (int64_t)a[0];
			cur = pidx(lastp);
			lastg = T.ps.v[cur].lastg;
			lastts = (int64_t)a[1];
			continue;
		case EvFrequency:
			T.freq = (int64_t)a[0];
			if (T.freq <= 0)
				fail("bad EvFrequency %" PRId64 ": time stamps out of order", T.freq);
			continue;
		case EvTimerGoroutine:
			map_put(&T.timerg, a[0], 1);
			continue;
		case EvStack: {
			if (raw->nargs < 2)
				fail("EvStack has wrong number of arguments at offset 0x%zx: want at least 2, got %zu",
				     raw->off, raw->nargs);
			uint64_t size = a[1];
			if (size > 1000)
				fail("EvStack has bad number of frames at offset 0x%zx: %" PRIu64, raw->off, size);
			if (raw->nargs != 2 + 4 * size)
				fail("EvStack has wrong number of arguments at offset 0x%zx: want %" PRIu64 ", got %zu",
				     raw->off, 2 + 4 * size, raw->nargs);
			if (a[0] != 0 && size > 0) {
				PUSH(T.stacks, ((struct stack){T.frames.n, (size_t)size}));
				for (uint64_t i = 0; i < size; i++)
					PUSH(T.frames, ((struct frame){a[2 + 4 * i], a[3 + 4 * i], a[4 + 4 * i],
								       a[5 + 4 * i]}));
				map_put(&T.stkmap, a[0], (uint32_t)(T.stacks.n - 1));
			}
			continue;
		}
		}
		struct event e = {.off = raw->off, .type = raw->type, .p = lastp, .g = lastg};
		/* wrapping arithmetic: a corrupt delta is not undefined behaviour */
		e.ts = (int64_t)((uint64_t)lastts + a[0]);
		lastts = e.ts;
		for (size_t i = 1; i < narg; i++) {
			if (i == narg - 1 && d->stack)
				e.stk = a[i];
			else
				e.args[i - 1] = a[i];
		}
		switch (raw->type) {
		case EvGoStart: case EvGoStartLocal: case EvGoStartLabel:
			lastg = e.g = e.args[0];
			break;
		case EvGCSTWStart:
			e.g = 0;
			if (e.args[0] > 1)
				fail("unknown STW kind %" PRIu64, e.args[0]);
			break;
		case EvGCStart: case EvGCDone: case EvGCSTWDone:
			e.g = 0;
			break;
		case EvGoEnd: case EvGoStop: case EvGoSched: case EvGoPreempt: case EvGoSleep: case EvGoBlock:
		case EvGoBlockSend: case EvGoBlockRecv: case EvGoBlockSelect: case EvGoBlockSync:
		case EvGoBlockCond: case EvGoBlockNet: case EvGoSysBlock: case EvGoBlockGC:
			lastg = 0;
			break;
		case EvGoSysExit: case EvGoWaiting: case EvGoInSyscall:
			e.g = e.args[0];
			break;
		case EvUserLog:
			e.args[2] = raw->msg;
			break;
		case EvCPUSample:
			/* written late by another goroutine: its own time, P and G */
			e.ts = (int64_t)e.args[0];
			e.p = (int64_t)e.args[1];
			e.g = e.args[2];
			e.args[0] = 0;
			break;
		}
		PUSH(T.evs, e);
		size_t b = raw->type == EvCPUSample ? pidx(ProfileP) : cur;
		batch_push(&T.ps.v[b], T.evs.n - 1);
	}
	if (T.evs.n == 0)
		fail("trace is empty");
	if (T.freq == 0)
		fail("no EvFrequency event");
}

/* ---------------------------------------------------------------- 3. merge */

/*
 * An event's effect on its goroutine's (sequence, status): the state it
 * needs (init) and the state it leaves (next).  Events that concern no G's
 * state are unordered and always ready.  The Local variants were written
 * on the P of the G's previous transition, so they need no sequence
 * number, and add one.
 */
#define UNORDERED UINT64_MAX
#define GARBAGE (UINT64_MAX - 1) /* the GC's own sequence, kept as a G's */
#define NOSEQ UINT64_MAX
#define SEQINC (UINT64_MAX - 1)

struct gstate {
	uint64_t seq;
	int status;
};

static uint64_t transition_of(const struct event *e, struct gstate *init, struct gstate *next)
{
	switch (e->type) {
	case EvGoCreate:
		*init = (struct gstate){0, gDead};
		*next = (struct gstate){1, gRunnable};
		return e->args[0];
	case EvGoWaiting: case EvGoInSyscall:
		*init = (struct gstate){1, gRunnable};
		*next = (struct gstate){2, gWaiting};
		return e->g;
	case EvGoStart: case EvGoStartLabel:
		*init = (struct gstate){e->args[1], gRunnable};
		*next = (struct gstate){e->args[1] + 1, gRunning};
		return e->g;
	case EvGoStartLocal:
		*init = (struct gstate){NOSEQ, gRunnable};
		*next = (struct gstate){SEQINC, gRunning};
		return e->g;
	case EvGoBlock: case EvGoBlockSend: case EvGoBlockRecv: case EvGoBlockSelect: case EvGoBlockSync:
	case EvGoBlockCond: case EvGoBlockNet: case EvGoSleep: case EvGoSysBlock: case EvGoBlockGC:
		*init = (struct gstate){NOSEQ, gRunning};
		*next = (struct gstate){NOSEQ, gWaiting};
		return e->g;
	case EvGoSched: case EvGoPreempt:
		*init = (struct gstate){NOSEQ, gRunning};
		*next = (struct gstate){NOSEQ, gRunnable};
		return e->g;
	case EvGoUnblock: case EvGoSysExit:
		*init = (struct gstate){e->args[1], gWaiting};
		*next = (struct gstate){e->args[1] + 1, gRunnable};
		return e->args[0];
	case EvGoUnblockLocal: case EvGoSysExitLocal:
		*init = (struct gstate){NOSEQ, gWaiting};
		*next = (struct gstate){SEQINC, gRunnable};
		return e->args[0];
	case EvGCStart:
		*init = (struct gstate){e->args[0], gDead};
		*next = (struct gstate){e->args[0] + 1, gDead};
		return GARBAGE;
	}
	return UNORDERED;
}

static bool ready(const struct event *e)
{
	struct gstate init, next, cur = {0, gDead};
	uint64_t g = transition_of(e, &init, &next);
	if (g == UNORDERED)
		return true;
	uint32_t i;
	if (map_get(&T.gmap, g, &i))
		cur = (struct gstate){T.gs.v[i].oseq, T.gs.v[i].ostatus};
	return (init.seq == NOSEQ || init.seq == cur.seq) && init.status == cur.status;
}

static void transition(const struct event *e)
{
	struct gstate init, next;
	uint64_t g = transition_of(e, &init, &next);
	if (g == UNORDERED)
		return;
	struct ginfo *gi = gptr(g);
	if (next.seq == SEQINC)
		gi->oseq++;
	else if (next.seq != NOSEQ)
		gi->oseq = next.seq;
	gi->ostatus = next.status;
}

/* The heap of Ps whose first unmerged event is ready, earliest first. */
static struct {
	uint32_t *v;
	size_t n, cap;
} heap;

static const struct event *head_of(size_t p)
{
	return &T.evs.v[T.ps.v[p].bev[T.ps.v[p].head]];
}

/* Earlier time first; between equal times, the P seen first in the file. */
static bool heap_less(uint32_t a, uint32_t b)
{
	int64_t ta = head_of(a)->ts, tb = head_of(b)->ts;
	return ta < tb || (ta == tb && a < b);
}

static void heap_push(uint32_t p)
{
	if (heap.n == heap.cap)
		grow((void **)&heap.v, &heap.cap, sizeof *heap.v);
	size_t i = heap.n++;
	for (; i > 0 && heap_less(p, heap.v[(i - 1) / 2]); i = (i - 1) / 2)
		heap.v[i] = heap.v[(i - 1) / 2];
	heap.v[i] = p;
}

static uint32_t heap_pop(void)
{
	uint32_t top = heap.v[0], last = heap.v[--heap.n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= heap.n)
			break;
		if (c + 1 < heap.n && heap_less(heap.v[c + 1], heap.v[c]))
			c++;
		if (!heap_less(heap.v[c], last))
			break;
		heap.v[i] = heap.v[c];
		i = c;
	}
	if (heap.n > 0)
		heap.v[i] = last;
	return top;
}

/* Stable merge sort by time (CPU samples; system call exits). */
static void sort_by_time(struct event *v, size_t n)
{
	size_t i;
	for (i = 1; i < n && v[i - 1].ts <= v[i].ts; i++)
		;
	if (i >= n)
		return;
	struct event *tmp = xrealloc(NULL, n * sizeof *tmp);
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t a = lo, b = mid, o = lo;
			while (a < mid && b < hi)
				tmp[o++] = v[b].ts < v[a].ts ? v[b++] : v[a++];
			while (a < mid)
				tmp[o++] = v[a++];
			while (b < hi)
				tmp[o++] = v[b++];
		}
		memcpy(v, tmp, n * sizeof *v);
	}
	free(tmp);
}

/*
 * Interleaves the Ps' batches: repeatedly, of the first unmerged event of
 * every P, the earliest of those ready is merged.  Timestamps decide only
 * between events that are all possible next; the G states decide what is
 * possible, so that a skewed clock cannot put a GoStart before the GoUnblock
 * that made it possible.  Ps whose head is not ready wait in a list that
 * is looked at again after every merge.
 */
static void merge(void)
{
	size_t prof;
	uint32_t pi;
	if (map_get(&T.pmap, (uint64_t)ProfileP, &pi)) {
		/* samples are flushed late: order them by their own clock first */
		prof = pi;
		struct event *tmp = xrealloc(NULL, (T.ps.v[prof].nbev + 1) * sizeof *tmp);
		for (size_t i = 0; i < T.ps.v[prof].nbev; i++)
			tmp[i] = T.evs.v[T.ps.v[prof].bev[i]];
		sort_by_time(tmp, T.ps.v[prof].nbev);
		for (size_t i = 0; i < T.ps.v[prof].nbev; i++)
			T.evs.v[T.ps.v[prof].bev[i]] = tmp[i];
		free(tmp);
	}

	struct event *out = xrealloc(NULL, T.evs.n * sizeof *out);
	size_t nout = 0;
	uint32_t *waiting = xrealloc(NULL, (T.ps.n + 1) * sizeof *waiting);
	size_t nwaiting = 0;
	for (size_t p = 0; p < T.ps.n; p++) {
		if (T.ps.v[p].nbev == 0)
			continue;
		if (ready(head_of(p)))
			heap_push((uint32_t)p);
		else
			waiting[nwaiting++] = (uint32_t)p;
	}
	while (nout < T.evs.n) {
		if (heap.n == 0) {
			free(out);
			free(waiting);
			fail("no consistent ordering of events possible");
		}
		uint32_t p = heap_pop();
		struct event *e = &T.evs.v[T.ps.v[p].bev[T.ps.v[p].head]];
		if (!ready(e)) {
			/* another event of the same G went first: wait again */
			waiting[nwaiting++] = p;
			continue;
		}
		transition(e);
		/* the Local variants only guide the merge */
		if (e->type == EvGoStartLocal)
			e->type = EvGoStart;
		else if (e->type == EvGoUnblockLocal)
			e->type = EvGoUnblock;
		else if (e->type == EvGoSysExitLocal)
			e->type = EvGoSysExit;
		out[nout++] = *e;
		if (++T.ps.v[p].head < T.ps.v[p].nbev) {
			if (ready(head_of(p)))
				heap_push(p);
			else
				waiting[nwaiting++] = p;
		}
		for (size_t i = 0; i < nwaiting;) {
			if (ready(head_of(waiting[i]))) {
				heap_push(waiting[i]);
				waiting[i] = waiting[--nwaiting];
			} else {
				i++;
			}
		}
	}
	free(waiting);
	free(T.evs.v);
	T.evs.v = out;
	T.evs.cap = T.evs.n;
	for (size_t p = 0; p < T.ps.n; p++) {
		free(T.ps.v[p].bev);
		T.ps.v[p].bev = NULL;
		T.ps.v[p].nbev = T.ps.v[p].capbev = 0;
	}

	for (size_t i = 1; i < T.evs.n; i++)
		if (T.evs.v[i].ts < T.evs.v[i - 1].ts)
			fail("time stamps out of order");

	/*
	 * A system call's exit is written when the G gets a P again, but
	 * carries the time it really returned: use that time now that the
	 * order is settled, as long as it is after the G blocked.
	 */
	struct u64map lastblock = {0};
	VEC(int64_t) blockts = {0};
	bool moved = false;
	for (size_t i = 0; i < T.evs.n; i++) {
		struct event *e = &T.evs.v[i];
		uint32_t k;
		if (e->type == EvGoSysBlock || e->type == EvGoInSyscall) {
			if (map_get(&lastblock, e->g, &k)) {
				blockts.v[k] = e->ts;
			} else {
				PUSH(blockts, e->ts);
				map_put(&lastblock, e->g, (uint32_t)(blockts.n - 1));
			}
		} else if (e->type == EvGoSysExit && e->args[2] != 0) {
			int64_t ts = (int64_t)e->args[2], block = 0;
			if (map_get(&lastblock, e->g, &k))
				block = blockts.v[k];
			if (block == 0 || ts < block) {
				free(lastblock.keys);
				free(lastblock.vals);
				free(blockts.v);
				if (block == 0)
					fail("stray syscall exit");
				fail("time stamps out of order");
			}
			e->ts = ts;
			moved = true;
		}
	}
	free(lastblock.keys);
	free(lastblock.vals);
	free(blockts.v);
	if (moved)
		sort_by_time(T.evs.v, T.evs.n);
}

/* Ticks to ns since the first event; unblocks and exits to their pseudo-Ps. */
static void to_nanoseconds(void)
{
	int64_t min = T.evs.v[0].ts;
	double scale = 1e9 / (double)T.freq;
	for (size_t i = 0; i < T.evs.n; i++) {
		struct event *e = &T.evs.v[i];
		double ns = (double)(int64_t)((uint64_t)e->ts - (uint64_t)min) * scale;
		e->ts = ns >= 9.2e18 ? INT64_MAX : ns <= -9.2e18 ? INT64_MIN : (int64_t)ns;
		uint32_t k;
		if (e->type == EvGoUnblock && map_get(&T.timerg, e->g, &k))
			e->p = TimerP;
		if (e->type == EvGoSysExit)
			e->p = SyscallP;
	}
}

/* ------------------------------------------------------ 4. checks */

static bool is_block(int type)
{
	switch (type) {
	case EvGoBlock: case EvGoBlockSend: case EvGoBlockRecv: case EvGoBlockSelect:
	case EvGoBlockSync: case EvGoBlockCond:
		return true;
	}
	return false;
}

/*
 * A futile wakeup is a G unblocked only to block again at once (a mutex
 * taken by another first): the unblock, the starts and preemptions after
 * it and the block that follows are dropped, as Go drops them.
 */
static void remove_futile(void)
{
	bool any = false;
	for (size_t i = 0; i < T.evs.n && !any; i++)
		any = T.evs.v[i].type == EvFutileWakeup;
	if (!any)
		return;
	unsigned char *drop = xrealloc(NULL, T.evs.n);
	memset(drop, 0, T.evs.n);
	for (size_t i = 0; i < T.evs.n; i++) {
		const struct event *e = &T.evs.v[i];
		struct ginfo *g;
		switch (e->type) {
		case EvGoUnblock:
			g = gptr(e->args[0]);
			g->nwake = 0;
			if (g->nwake == g->capwake)
				grow((void **)&g->wake, &g->capwake, sizeof *g->wake);
			g->wake[g->nwake++] = i;
			break;
		case EvGoStart: case EvGoPreempt: case EvFutileWakeup:
			g = gptr(e->g);
			if (g->nwake == g->capwake)
				grow((void **)&g->wake, &g->capwake, sizeof *g->wake);
			g->wake[g->nwake++] = i;
			if (e->type == EvFutileWakeup)
				g->futile = true;
			break;
		default:
			if (!is_block(e->type))
				break;
			g = gptr(e->g);
			if (g->futile) {
				drop[i] = 1;
				for (size_t k = 0; k < g->nwake; k++)
					drop[g->wake[k]] = 1;
			}
			g->futile = false;
			g->nwake = 0;
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < T.evs.n; i++)
		if (!drop[i])
			T.evs.v[n++] = T.evs.v[i];
	T.evs.n = n;
	free(drop);
}

/* The region's name, as the parser resolves it. */
static struct str region_name(const struct event *e)
{
	return string_of(e->args[2]);
}

static bool str_eq(struct str a, struct str b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* fail, with the event's place in the file and time, as Go reports them. */
__attribute__((noreturn, format(printf, 2, 3))) static void failat(const struct event *e, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fail("%s (offset %zu, time %" PRId64 ")", msg, e->off, e->ts);
}

/* The event's G runs on its P, and (unless allowed) is not G 0. */
static void check_running(const struct pinfo *p, const struct ginfo *g, const struct event *e, bool g0)
{
	if (g->state != gRunning)
		failat(e, "g %" PRIu64 " is not running while %s", e->g, evname(e->type));
	if (p->g != e->g)
		failat(e, "p %" PRId64 " is not running g %" PRIu64 " while %s", e->p, e->g, evname(e->type));
	if (!g0 && e->g == 0)
		failat(e, "g 0 did %s", evname(e->type));
}

/* A region ends: the innermost one open on its G, if it began in the trace. */
static void end_region(struct ginfo *g, const struct event *e)
{
	if (g->nregions == 0)
		return;
	const struct event *s = &T.evs.v[g->regions[g->nregions - 1]];
	struct str en = region_name(e), sn = region_name(s);
	if (s->args[0] != e->args[0] || !str_eq(sn, en))
		failat(e,
		       "misuse of region in goroutine %" PRIu64 ": region end \"%.*s\" (task %" PRIu64
		       ") when the innermost active region is \"%.*s\" (task %" PRIu64 ")",
		       e->g, (int)en.n, en.p, e->args[0], (int)sn.n, sn.p, s->args[0]);
	g->nregions--;
}

/*
 * The G and P state machines over the merged stream: Ps start before they
 * stop and run one G at a time, Gs go dead -> runnable -> running ->
 * waiting/runnable/dead as their events say, GC phases and user regions
 * pair up.  The messages are Go's.
 */
static void post_process(void)
{
	struct u64map tasks = {0};
	size_t evgc = NONE, evstw = NONE;
	gptr(0)->exists = true;
	gptr(0)->state = gRunning;
	for (size_t i = 0; i < T.evs.n; i++) {
		struct event *e = &T.evs.v[i];
		size_t gi = gidx(e->g), g1i = NONE;
		if (e->type == EvGoCreate || e->type == EvGoUnblock)
			g1i = gidx(e->args[0]);
		struct ginfo *g = &T.gs.v[gi], *g1 = g1i != NONE ? &T.gs.v[g1i] : NULL;
		struct pinfo *p = pptr(e->p);
		size_t *evp;
		switch (e->type) {
		case EvProcStart:
			if (p->running)
				failat(e, "p %" PRId64 " is running before start", e->p);
			p->running = true;
			break;
		case EvProcStop:
			if (!p->running)
				failat(e, "p %" PRId64 " is not running before stop", e->p);
			if (p->g != 0)
				failat(e, "p %" PRId64 " is running a goroutine %" PRIu64 " during stop", e->p, p->g);
			p->running = false;
			break;
		case EvGCStart:
			if (evgc != NONE)
				failat(e, "previous GC is not ended before a new one");
			evgc = i;
			e->p = GCP;
			break;
		case EvGCDone:
			if (evgc == NONE)
				failat(e, "bogus GC end");
			evgc = NONE;
			break;
		case EvGCSTWStart:
			evp = T.ver < 1010 ? &p->evstw : &evstw; /* per P before 1.10 */
			if (*evp != NONE)
				failat(e, "previous STW is not ended before a new one");
			*evp = i;
			break;
		case EvGCSTWDone:
			evp = T.ver < 1010 ? &p->evstw : &evstw;
			if (*evp == NONE)
				failat(e, "bogus STW end");
			*evp = NONE;
			break;
		case EvGCSweepStart:
			if (p->evsweep != NONE)
				failat(e, "previous sweeping is not ended before a new one");
			p->evsweep = i;
			break;
		case EvGCSweepDone:
			if (p->evsweep == NONE)
				failat(e, "bogus sweeping end");
			p->evsweep = NONE;
			break;
		case EvGCMarkAssistStart:
			if (g->evassist != NONE)
				failat(e, "previous mark assist is not ended before a new one");
			g->evassist = i;
			break;
		case EvGCMarkAssistDone:
			/* an assist may have begun before the trace did */
			g->evassist = NONE;
			break;
		case EvGoWaiting: case EvGoInSyscall:
			if (g->state != gRunnable)
				failat(e, "g %" PRIu64 " is not runnable before %s", e->g, evname(e->type));
			g->state = gWaiting;
			g->ev = i;
			break;
		case EvGoCreate:
			check_running(p, g, e, true);
			if (g1->exists)
				failat(e, "g %" PRIu64 " already exists", e->args[0]);
			g1->exists = true;
			g1->state = gRunnable;
			g1->ev = i;
			break;
		case EvGoStart: case EvGoStartLabel:
			if (g->state != gRunnable)
				failat(e, "g %" PRIu64 " is not runnable before start", e->g);
			if (p->g != 0)
				failat(e, "p %" PRId64 " is already running g %" PRIu64 " while start g %" PRIu64, e->p,
				     p->g, e->g);
			g->state = gRunning;
			g->ev = NONE;
			p->g = e->g;
			break;
		case EvGoEnd: case EvGoStop:
			check_running(p, g, e, false);
			g->state = gDead;
			p->g = 0;
			if (e->type == EvGoEnd) /* a G's end closes its regions */
				g->nregions = 0;
			break;
		case EvGoSched: case EvGoPreempt:
			check_running(p, g, e, false);
			g->state = gRunnable;
			g->ev = i;
			p->g = 0;
			break;
		case EvGoUnblock:
			if (g->state != gRunning)
				failat(e, "g %" PRIu64 " is not running while unpark", e->g);
			if (e->p != TimerP && p->g != e->g)
				failat(e, "p %" PRId64 " is not running g %" PRIu64 " while unpark", e->p, e->g);
			if (g1->state != gWaiting)
				failat(e, "g %" PRIu64 " is not waiting before unpark", e->args[0]);
			if (g1->ev != NONE && T.evs.v[g1->ev].type == EvGoBlockNet && e->p != TimerP)
				e->p = NetpollP;
			g1->exists = true;
			g1->state = gRunnable;
			g1->ev = i;
			break;
		case EvGoSysCall:
			check_running(p, g, e, false);
			g->ev = i;
			break;
		case EvGoSysBlock:
			check_running(p, g, e, false);
			g->state = gWaiting;
			p->g = 0;
			break;
		case EvGoSysExit:
			if (g->state != gWaiting)
				failat(e, "g %" PRIu64 " is not waiting during syscall exit", e->g);
			g->state = gRunnable;
			g->ev = i;
			break;
		case EvGoSleep: case EvGoBlock: case EvGoBlockSend: case EvGoBlockRecv: case EvGoBlockSelect:
		case EvGoBlockSync: case EvGoBlockCond: case EvGoBlockNet: case EvGoBlockGC:
			check_running(p, g, e, false);
			g->state = gWaiting;
			g->ev = i;
			p->g = 0;
			break;
		case EvUserTaskCreate: {
			uint32_t k;
			if (map_get(&tasks, e->args[0], &k) && k != 0) {
				free(tasks.keys);
				free(tasks.vals);
				failat(e, "task id conflicts (id:%" PRIu64 ")", e->args[0]);
			}
			map_put(&tasks, e->args[0], 1);
			break;
		}
		case EvUserTaskEnd:
			map_put(&tasks, e->args[0], 0); /* ended: the id may be used again */
			break;
		case EvUserRegion:
			if (e->args[1] == 0) {
				if (g->nregions == g->capregions)
					grow((void **)&g->regions, &g->capregions, sizeof *g->regions);
				g->regions[g->nregions++] = i;
			} else if (e->args[1] == 1) {
				end_region(g, e);
			} else {
				failat(e, "invalid user region mode %" PRIu64, e->args[1]);
			}
			break;
		}
		g->exists = true;
	}
	free(tasks.keys);
	free(tasks.vals);
	for (size_t i = 0; i < T.gs.n; i++)
		T.gs.v[i].nregions = 0;
}

/* Viewers name a goroutine after its entry function: it must be there. */
static void check_create_stacks(void)
{
	for (size_t i = 0; i < T.evs.n; i++) {
		const struct event *e = &T.evs.v[i];
		size_t n;
		if (e->type == EvGoCreate && stack_of(e->args[1], &n) == NULL)
			failat(e, "invalid go create event: missing stack information for g %" PRIu64, e->args[0]);
	}
}

/* Every stage up to a checked stream in T.evs. */
static void load(void)
{
	read_wire();
	parse_events();
	free(T.raws.v);
	free(T.rawargs.v);
	T.raws.v = NULL;
	T.rawargs.v = NULL;
	T.raws.n = T.rawargs.n = 0;
	merge();
	to_nanoseconds();
	remove_futile();
	post_process();
	check_create_stacks();
}

/* ------------------------------------------------------------ 5. analyse */

static long nrunning, nrunnable;

/* The G's state for the analysis, counted for the JSON's counters. */
static void become(struct ginfo *g, int state, int64_t ts)
{
	nrunning -= g->astate == gRunning;
	nrunnable -= g->astate == gRunnable;
	g->astate = state;
	g->since = ts;
	nrunning += state == gRunning;
	nrunnable += state == gRunnable;
}

/* The G's running slice ends at ts (type EvNone: the trace ends). */
static void end_run(struct ginfo *g, int64_t ts, int type, uint64_t stk)
{
	if (g->astate != gRunning)
		return;
	PUSH(T.slices, ((struct slice){.g = g->id, .startstk = g->runstk, .endstk = stk, .p = g->runp,
				       .start = g->since, .end = ts, .endtype = (uint8_t)type}));
	g->running += ts - g->since;
	struct pinfo *p = pptr(g->runp);
	p->busy += ts - g->since;
	p->slices++;
}

static void begin_wait(struct ginfo *g, int reason, uint64_t stk, int64_t ts)
{
	become(g, gWaiting, ts);
	g->reason = reason;
	g->blockstk = stk;
}

/* A waiting G's wait ends at ts: unblocked by G by (UINT64_MAX: none). */
static void end_wait(struct ginfo *g, int64_t ts, uint64_t by, bool open)
{
	if (g->astate != gWaiting)
		return;
	PUSH(T.waits, ((struct wait){.g = g->id, .stk = g->blockstk, .by = by, .start = g->since, .end = ts,
				     .reason = g->reason, .open = open}));
}

static void end_runnable(struct ginfo *g, int64_t ts)
{
	if (g->astate == gRunnable)
		PUSH(T.runnables, ((struct span){g->id, g->since, ts}));
}

static int block_reason(int type)
{
	switch (type) {
	case EvGoBlockRecv: return R_RECV;
	case EvGoBlockSend: return R_SEND;
	case EvGoBlockSelect: return R_SELECT;
	case EvGoBlockSync: return R_SYNC;
	case EvGoBlockCond: return R_COND;
	case EvGoSleep: return R_SLEEP;
	case EvGoBlockNet: return R_NET;
	case EvGoBlockGC: return R_GC;
	case EvGoStop: return R_STOP;
	}
	return R_BLOCK;
}

static void close_regions(struct ginfo *g, int64_t ts)
{
	while (g->nregions > 0)
		T.regions.v[g->regions[--g->nregions]].end = ts;
}

/*
 * The checked stream as intervals: each G's running slices (also per P),
 * blocked waits with their reason and blocking stack, runnable waits, and
 * its regions; tasks and logs; and how many Gs run and wait to run.
 * Whatever is still open when the trace ends is closed at its last event.
 */
static void analyse(void)
{
	struct u64map livetasks = {0}; /* task id -> index in T.tasks + 1, 0 once ended */
	T.end = T.evs.v[T.evs.n - 1].ts;
	for (size_t i = 0; i < T.evs.n; i++) {
		const struct event *e = &T.evs.v[i];
		int64_t ts = e->ts;
		struct ginfo *g;
		uint32_t k;
		if (e->p >= 0 && e->p < FakeP)
			pptr(e->p)->seen = true;
		switch (e->type) {
		case EvGoCreate:
			g = gptr(e->args[0]);
			g->created = true;
			g->entry = g->resumestk = e->args[1];
			become(g, gRunnable, ts);
			break;
		case EvGoStart: case EvGoStartLabel:
			g = gptr(e->g);
			end_runnable(g, ts);
			become(g, gRunning, ts);
			g->runp = e->p;
			g->runstk = g->resumestk;
			break;
		case EvGoEnd:
			g = gptr(e->g);
			end_run(g, ts, e->type, 0);
			become(g, gDead, ts);
			g->ended = true;
			close_regions(g, ts);
			break;
		case EvGoSched: case EvGoPreempt:
			g = gptr(e->g);
			end_run(g, ts, e->type, e->stk);
			become(g, gRunnable, ts);
			g->resumestk = e->stk;
			break;
		case EvGoStop: case EvGoSleep: case EvGoBlock: case EvGoBlockSend: case EvGoBlockRecv:
		case EvGoBlockSelect: case EvGoBlockSync: case EvGoBlockCond: case EvGoBlockNet: case EvGoBlockGC:
			g = gptr(e->g);
			end_run(g, ts, e->type, e->stk);
			begin_wait(g, block_reason(e->type), e->stk, ts);
			g->resumestk = e->stk;
			break;
		case EvGoSysCall:
			gptr(e->g)->sysstk = e->stk;
			break;
		case EvGoSysBlock:
			g = gptr(e->g);
			end_run(g, ts, e->type, g->sysstk);
			begin_wait(g, R_SYSCALL, g->sysstk, ts);
			g->resumestk = g->sysstk;
			break;
		case EvGoUnblock: case EvGoSysExit: {
			uint64_t by = e->type == EvGoUnblock && e->g != 0 ? e->g : UINT64_MAX;
			g = gptr(e->type == EvGoUnblock ? e->args[0] : e->g);
			end_wait(g, ts, by, false);
			become(g, gRunnable, ts);
			break;
		}
		case EvGoWaiting: case EvGoInSyscall:
			/* blocked when the trace began: it was never runnable */
			g = gptr(e->g);
			begin_wait(g, e->type == EvGoWaiting ? R_BLOCK : R_SYSCALL, 0, ts);
			break;
		case EvUserTaskCreate:
			PUSH(T.tasks, ((struct task){.id = e->args[0], .g = e->g, .name = string_of(e->args[2]),
						     .start = ts, .end = T.end}));
			map_put(&livetasks, e->args[0], (uint32_t)T.tasks.n);
			break;
		case EvUserTaskEnd:
			if (map_get(&livetasks, e->args[0], &k) && k != 0) {
				T.tasks.v[k - 1].end = ts;
				T.tasks.v[k - 1].endg = e->g;
				T.tasks.v[k - 1].ended = true;
				map_put(&livetasks, e->args[0], 0);
			}
			break;
		case EvUserRegion:
			g = gptr(e->g);
			if (e->args[1] == 0) {
				PUSH(T.regions, ((struct region){e->g, e->args[0], region_name(e), ts, T.end}));
				g->hasregions = true;
				if (g->nregions == g->capregions)
					grow((void **)&g->regions, &g->capregions, sizeof *g->regions);
				g->regions[g->nregions++] = T.regions.n - 1;
			} else if (g->nregions > 0) {
				T.regions.v[g->regions[--g->nregions]].end = ts;
			}
			break;
		case EvUserLog:
			PUSH(T.logs, i);
			break;
		}
		if (T.counters.n == 0 || T.counters.v[T.counters.n - 1].running != nrunning ||
		    T.counters.v[T.counters.n - 1].runnable != nrunnable)
			PUSH(T.counters, ((struct counter){ts, nrunning, nrunnable}));
	}
	free(livetasks.keys);
	free(livetasks.vals);
	for (size_t i = 0; i < T.gs.n; i++) {
		struct ginfo *g = &T.gs.v[i];
		end_run(g, T.end, EvNone, 0);
		end_wait(g, T.end, UINT64_MAX, true);
		end_runnable(g, T.end);
		close_regions(g, T.end);
	}
}

/* The function a G was created to run ("" if unknown). */
static struct str entry_name(const struct ginfo *g)
{
	size_t n;
	const struct frame *f = stack_of(g->entry, &n);
	return f != NULL ? string_of(f->fn) : (struct str){"", 0};
}

static const struct ginfo *ginfo_of(uint64_t id)
{
	uint32_t i;
	return map_get(&T.gmap, id, &i) ? &T.gs.v[i] : NULL;
}

/*
 * The innermost frame of a stack that is the program's rather than the
 * runtime's or the standard library's (the frame itself when none is).
 */
static const struct frame *user_frame(uint64_t stk)
{
	static const char *const lib[] = {"runtime.", "runtime/", "internal/", "sync.", "sync/", "time.",
					  "syscall.", "os.", "net.", "gort_", "gort."};
	size_t n;
	const struct frame *f = stack_of(stk, &n);
	for (size_t i = 0; i < n; i++) {
		struct str fn = string_of(f[i].fn);
		bool inlib = false;
		for (size_t k = 0; k < sizeof lib / sizeof *lib && !inlib; k++)
			inlib = fn.n >= strlen(lib[k]) && memcmp(fn.p, lib[k], strlen(lib[k])) == 0;
		if (!inlib)
			return &f[i];
	}
	return n > 0 ? &f[0] : NULL;
}

/* ------------------------------------------------------------- events */

/* A string argument: control characters escaped, to keep one event a line. */
static void print_text(FILE *o, struct str s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '\n')
			fputs("\\n", o);
		else if (c == '\t')
			fputs("\\t", o);
		else if (c == '\r')
			fputs("\\r", o);
		else if (c < 0x20 || c == 0x7f)
			fprintf(o, "\\x%02x", c);
		else
			fputc(c, o);
	}
}

/* The strings Go's parser attaches to an event, in its order. */
static struct str sarg(const struct event *e, int i)
{
	switch (e->type) {
	case EvGCSTWStart:
		return e->args[0] == 0 ? (struct str){"mark termination", 16} : (struct str){"sweep termination", 17};
	case EvGoStartLabel: case EvUserTaskCreate: case EvUserRegion:
		return string_of(e->args[2]);
	case EvUserLog:
		return i == 0 ? string_of(e->args[1]) : T.msgs.v[e->args[2]];
	}
	return (struct str){"", 0};
}

static int by_name(const void *a, const void *b)
{
	return strcmp(evname(*(const int *)a), evname(*(const int *)b));
}

/* One event a line, as Go's Event.String writes them, then the counts. */
static void cmd_events(void)
{
	size_t counts[EvCount] = {0};
	for (size_t i = 0; i < T.evs.n; i++) {
		const struct event *e = &T.evs.v[i];
		const struct evdesc *d = &descs[e->type];
		counts[e->type]++;
		printf("%" PRId64 " %s p=%" PRId64 " g=%" PRIu64 " off=%zu", e->ts, d->name, e->p, e->g, e->off);
		for (int k = 0; k < d->nargs; k++)
			printf(" %s=%" PRIu64, d->args[k], e->args[k]);
		for (int k = 0; k < d->nsargs; k++) {
			printf(" %s=", d->sargs[k]);
			print_text(stdout, sarg(e, k));
		}
		putchar('\n');
	}
	int types[EvCount], n = 0;
	for (int t = 0; t < EvCount; t++)
		if (counts[t] > 0)
			types[n++] = t;
	qsort(types, (size_t)n, sizeof *types, by_name);
	for (int k = 0; k < n; k++)
		printf("count %s %zu\n", evname(types[k]), counts[types[k]]);
}

/* --------------------------------------------------------------- json */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t c;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return len;
}

/* The inside of a JSON string: escapes, and U+FFFD for bytes not UTF-8. */
static void jtext(FILE *o, struct str s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	for (size_t i = 0; i < s.n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			fputc('\\', o);
			fputc(c, o);
		} else if (c == '\n') {
			fputs("\\n", o);
		} else if (c == '\t') {
			fputs("\\t", o);
		} else if (c == '\r') {
			fputs("\\r", o);
		} else if (c < 0x20) {
			fprintf(o, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t len = utf8_len(p + i, s.n - i);
			if (len == 0) {
				fputs("\\ufffd", o);
				i++;
			} else {
				fwrite(p + i, 1, len, o);
				i += len;
			}
			continue;
		} else {
			fputc(c, o);
		}
		i++;
	}
}

static struct str cstr(const char *s)
{
	return (struct str){s, strlen(s)};
}

/* Microseconds with 3 decimals: exactly the ns. */
static void jtime(FILE *o, const char *key, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	fprintf(o, ",\"%s\":%" PRId64 ".%03d", key, ns / 1000, (int)(ns % 1000));
}

/* "G<id> <entry function>" */
static void jgname(FILE *o, uint64_t id)
{
	fprintf(o, "G%" PRIu64, id);
	const struct ginfo *g = ginfo_of(id);
	struct str fn = g != NULL ? entry_name(g) : cstr("");
	if (fn.n > 0) {
		fputc(' ', o);
		jtext(o, fn);
	}
}

/* A stack's top frames as strings "func file:line", innermost first. */
static void jstack(FILE *o, const char *key, uint64_t stk, size_t max)
{
	size_t n;
	const struct frame *f = stack_of(stk, &n);
	if (f == NULL)
		return;
	fprintf(o, ",\"%s\":[", key);
	for (size_t i = 0; i < n && i < max; i++) {
		fputs(i ? ",\"" : "\"", o);
		jtext(o, string_of(f[i].fn));
		fputc(' ', o);
		jtext(o, string_of(f[i].file));
		fprintf(o, ":%" PRIu64 "\"", f[i].line);
	}
	fputc(']', o);
}

/* The tid of a P's thread: the P, or one past the real Ps for "No P". */
static int64_t ptid(int64_t p)
{
	return p >= 0 ? p : FakeP;
}

static void jmeta(FILE *o, const char *what, int pid, int64_t tid, const char *key)
{
	fprintf(o, ",\n{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%d,\"tid\":%" PRId64 ",\"args\":{\"%s\":", what, pid,
		tid, key);
}

static int by_pid(const void *a, const void *b)
{
	int64_t x = T.ps.v[*(const size_t *)a].id, y = T.ps.v[*(const size_t *)b].id;
	return (x > y) - (x < y);
}

/*
 * Chrome's trace-event format: process 1 has a thread per P with the
 * goroutines' running slices and the goroutine counters; process 2 a
 * thread per goroutine with its running, blocked and runnable intervals,
 * its logs and its tasks; process 3 the goroutines' user regions, on
 * threads of their own because a region spans many running slices and
 * X slices on one thread must nest.
 */
static void cmd_json(FILE *o)
{
	size_t gostarts = 0, creates = 0, procslices = 0;
	for (size_t i = 0; i < T.evs.n; i++) {
		gostarts += T.evs.v[i].type == EvGoStart || T.evs.v[i].type == EvGoStartLabel;
		creates += T.evs.v[i].type == EvGoCreate;
	}
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", o);
	fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"Procs\"}}", o);
	jmeta(o, "process_sort_index", 1, 0, "sort_index");
	fputs("1}}", o);
	jmeta(o, "process_name", 2, 0, "name");
	fputs("\"Goroutines\"}}", o);
	jmeta(o, "process_sort_index", 2, 0, "sort_index");
	fputs("2}}", o);
	if (T.regions.n > 0) {
		jmeta(o, "process_name", 3, 0, "name");
		fputs("\"User regions\"}}", o);
		jmeta(o, "process_sort_index", 3, 0, "sort_index");
		fputs("3}}", o);
	}

	/* the Ps, in order */
	size_t *order = xrealloc(NULL, (T.ps.n + 1) * sizeof *order), np = 0;
	for (size_t i = 0; i < T.ps.n; i++)
		if (T.ps.v[i].seen || T.ps.v[i].slices > 0)
			order[np++] = i;
	qsort(order, np, sizeof *order, by_pid);
	for (size_t k = 0; k < np; k++) {
		int64_t id = T.ps.v[order[k]].id;
		jmeta(o, "thread_name", 1, ptid(id), "name");
		if (id >= 0)
			fprintf(o, "\"Proc %" PRId64 "\"}}", id);
		else
			fputs("\"No P\"}}", o);
		jmeta(o, "thread_sort_index", 1, ptid(id), "sort_index");
		fprintf(o, "%" PRId64 "}}", id);
	}
	free(order);

	/* the goroutines' threads */
	for (size_t i = 0; i < T.gs.n; i++) {
		const struct ginfo *g = &T.gs.v[i];
		if (!g->created && g->running == 0)
			continue;
		for (int pid = 2; pid <= (g->hasregions ? 3 : 2); pid++) {
			jmeta(o, "thread_name", pid, (int64_t)g->id, "name");
			fputc('"', o);
			jgname(o, g->id);
			fputs("\"}}", o);
			jmeta(o, "thread_sort_index", pid, (int64_t)g->id, "sort_index");
			fprintf(o, "%" PRIu64 "}}", g->id);
		}
	}

	for (size_t i = 0; i < T.slices.n; i++) {
		const struct slice *s = &T.slices.v[i];
		fputs(",\n{\"name\":\"", o);
		jgname(o, s->g);
		fprintf(o, "\",\"cat\":\"goroutine\",\"ph\":\"X\",\"pid\":1,\"tid\":%" PRId64, ptid(s->p));
		jtime(o, "ts", s->start);
		jtime(o, "dur", s->end - s->start);
		fprintf(o, ",\"args\":{\"goid\":%" PRIu64, s->g);
		jstack(o, "start_stack", s->startstk, 5);
		fprintf(o, ",\"end_event\":\"%s\"", s->endtype == EvNone ? "trace end" : evname(s->endtype));
		jstack(o, "end_stack", s->endstk, 5);
		fputs("}}", o);
		procslices++;

		fprintf(o, ",\n{\"name\":\"running\",\"cat\":\"running\",\"ph\":\"X\",\"pid\":2,\"tid\":%" PRIu64,
			s->g);
		jtime(o, "ts", s->start);
		jtime(o, "dur", s->end - s->start);
		fprintf(o, ",\"args\":{\"p\":%" PRId64 "}}", s->p);
	}
	for (size_t i = 0; i < T.waits.n; i++) {
		const struct wait *w = &T.waits.v[i];
		fprintf(o, ",\n{\"name\":\"%s\",\"cat\":\"blocked\",\"ph\":\"X\",\"pid\":2,\"tid\":%" PRIu64,
			reasons[w->reason], w->g);
		jtime(o, "ts", w->start);
		jtime(o, "dur", w->end - w->start);
		fputs(",\"args\":{", o);
		if (w->by != UINT64_MAX)
			fprintf(o, "\"unblocked_by\":%" PRIu64 ",", w->by);
		fprintf(o, "\"unblocked\":%s", w->open ? "false" : "true");
		jstack(o, "stack", w->stk, 5);
		fputs("}}", o);
	}
	for (size_t i = 0; i < T.runnables.n; i++) {
		const struct span *s = &T.runnables.v[i];
		fprintf(o, ",\n{\"name\":\"runnable\",\"cat\":\"runnable\",\"ph\":\"X\",\"pid\":2,\"tid\":%" PRIu64,
			s->g);
		jtime(o, "ts", s->start);
		jtime(o, "dur", s->end - s->start);
		fputc('}', o);
	}
	for (size_t i = 0; i < T.regions.n; i++) {
		const struct region *r = &T.regions.v[i];
		fputs(",\n{\"name\":\"", o);
		jtext(o, r->name);
		fprintf(o, "\",\"cat\":\"region\",\"ph\":\"X\",\"pid\":3,\"tid\":%" PRIu64, r->g);
		jtime(o, "ts", r->start);
		jtime(o, "dur", r->end - r->start);
		fprintf(o, ",\"args\":{\"task\":%" PRIu64 "}}", r->task);
	}
	for (size_t i = 0; i < T.logs.n; i++) {
		const struct event *e = &T.evs.v[T.logs.v[i]];
		fputs(",\n{\"name\":\"", o);
		jtext(o, sarg(e, 0));
		fputs(": ", o);
		jtext(o, sarg(e, 1));
		fprintf(o, "\",\"cat\":\"log\",\"ph\":\"i\",\"s\":\"t\",\"pid\":2,\"tid\":%" PRIu64, e->g);
		jtime(o, "ts", e->ts);
		fprintf(o, ",\"args\":{\"task\":%" PRIu64, e->args[0]);
		jstack(o, "stack", e->stk, 5);
		fputs("}}", o);
	}
	for (size_t i = 0; i < T.tasks.n; i++) {
		const struct task *t = &T.tasks.v[i];
		for (int end = 0; end < 2; end++) {
			fputs(",\n{\"name\":\"", o);
			jtext(o, t->name);
			fprintf(o, "\",\"cat\":\"task\",\"ph\":\"%s\",\"id\":%" PRIu64 ",\"pid\":2,\"tid\":%" PRIu64,
				end ? "e" : "b", t->id, end && t->ended ? t->endg : t->g);
			jtime(o, "ts", end ? t->end : t->start);
			fputc('}', o);
		}
	}
	for (size_t i = 0; i < T.counters.n; i++) {
		const struct counter *c = &T.counters.v[i];
		fputs(",\n{\"name\":\"Goroutines\",\"ph\":\"C\",\"pid\":1,\"tid\":0", o);
		jtime(o, "ts", c->ts);
		fprintf(o, ",\"args\":{\"running\":%ld,\"runnable\":%ld}}", c->running, c->runnable);
	}
	fprintf(o,
		"\n],\n\"otherData\":{\"goroutines\":%zu,\"slices\":%zu,\"gostart\":%zu,\"userlogs\":%zu,"
		"\"version\":\"go %d.%d trace\"}}\n",
		creates, procslices, gostarts, T.logs.n, T.ver / 1000, T.ver % 1000);
}

/* ------------------------------------------------------------ summary */

/* A duration as Go's time.Duration prints it: 1.5µs, 12.345ms, 1m2.5s. */
static const char *fmt_dur(char *buf, size_t size, int64_t d)
{
	static const struct {
		uint64_t unit;
		int digits;
		const char *name;
	} units[] = {{1000, 3, "µs"}, {1000000, 6, "ms"}, {1000000000, 9, "s"}};
	uint64_t u = d < 0 ? -(uint64_t)d : (uint64_t)d;
	const char *sign = d < 0 ? "-" : "";
	if (u == 0)
		return snprintf(buf, size, "0s"), buf;
	if (u < 1000)
		return snprintf(buf, size, "%s%" PRIu64 "ns", sign, u), buf;
	int k = u < 1000000 ? 0 : u < 1000000000 ? 1 : 2;
	uint64_t whole = u / units[k].unit, frac = u % units[k].unit;
	char prefix[48] = "";
	if (k == 2 && whole >= 60) {
		uint64_t m = whole / 60, h = m / 60;
		whole %= 60;
		if (h > 0)
			snprintf(prefix, sizeof prefix, "%" PRIu64 "h%" PRIu64 "m", h, m % 60);
		else
			snprintf(prefix, sizeof prefix, "%" PRIu64 "m", m);
	}
	char fr[16] = "";
	if (frac != 0) {
		snprintf(fr, sizeof fr, ".%0*" PRIu64, units[k].digits, frac);
		for (size_t n = strlen(fr); fr[n - 1] == '0'; n--)
			fr[n - 1] = 0;
	}
	snprintf(buf, size, "%s%s%" PRIu64 "%s%s", sign, prefix, whole, fr, units[k].name);
	return buf;
}

/* Columns of text, aligned when printed; widths count UTF-8 characters. */
struct table {
	int ncol;
	const char *const *head;
	const char *right; /* 'r' for each right-aligned column */
	VEC(char *) cells;
};

__attribute__((format(printf, 2, 3))) static void cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fail("out of memory");
	va_end(ap);
	PUSH(t->cells, s);
}

static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void table_print(struct table *t)
{
	size_t w[8] = {0};
	for (int c = 0; c < t->ncol; c++)
		w[c] = width(t->head[c]);
	for (size_t i = 0; i < t->cells.n; i++)
		if (width(t->cells.v[i]) > w[i % (size_t)t->ncol])
			w[i % (size_t)t->ncol] = width(t->cells.v[i]);
	for (size_t r = 0; r <= t->cells.n / (size_t)t->ncol; r++) {
		if (r > 0 && (r - 1) * (size_t)t->ncol >= t->cells.n)
			break;
		fputs("  ", stdout);
		for (int c = 0; c < t->ncol; c++) {
			const char *s = r == 0 ? t->head[c] : t->cells.v[(r - 1) * (size_t)t->ncol + (size_t)c];
			size_t pad = w[c] - width(s);
			bool last = c == t->ncol - 1;
			if (t->right[c] == 'r')
				printf("%*s%s", (int)pad, "", s);
			else
				printf("%s%*s", s, last ? 0 : (int)pad, "");
			if (!last)
				fputs("  ", stdout);
		}
		putchar('\n');
	}
	for (size_t i = 0; i < t->cells.n; i++)
		free(t->cells.v[i]);
	free(t->cells.v);
	t->cells.v = NULL;
	t->cells.n = t->cells.cap = 0;
}

struct group {
	struct str fn;
	size_t count;
	int64_t running;
};

static int by_entry(const void *a, const void *b)
{
	struct str x = entry_name(&T.gs.v[*(const size_t *)a]), y = entry_name(&T.gs.v[*(const size_t *)b]);
	int c = memcmp(x.p, y.p, x.n < y.n ? x.n : y.n);
	return c != 0 ? c : (x.n > y.n) - (x.n < y.n);
}

static int by_running(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->running != y->running)
		return x->running < y->running ? 1 : -1;
	return (x->count < y->count) - (x->count > y->count);
}

static int by_duration(const void *a, const void *b)
{
	const struct wait *x = &T.waits.v[*(const size_t *)a], *y = &T.waits.v[*(const size_t *)b];
	int64_t dx = x->end - x->start, dy = y->end - y->start;
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return (x->start > y->start) - (x->start < y->start);
}

static void cmd_summary(void)
{
	char b1[64], b2[64];
	size_t created = 0, ended = 0;
	for (size_t i = 0; i < T.gs.n; i++) {
		created += T.gs.v[i].created;
		ended += T.gs.v[i].created && T.gs.v[i].ended;
	}
	printf("Trace: %s (go %d.%d format), %zu events\n", T.path, T.ver / 1000, T.ver % 1000, T.evs.n);
	printf("Duration: %s\n", fmt_dur(b1, sizeof b1, T.end));
	printf("Goroutines: %zu created, %zu ended, %zu alive at the end\n", created, ended, created - ended);

	/* goroutines by entry function, the busiest first */
	/* idx sorts Gs, then Ps, then waits */
	size_t *idx = xrealloc(NULL, (T.gs.n + T.ps.n + T.waits.n + 1) * sizeof *idx), n = 0;
	for (size_t i = 0; i < T.gs.n; i++)
		if (T.gs.v[i].created)
			idx[n++] = i;
	qsort(idx, n, sizeof *idx, by_entry);
	struct group *groups = xrealloc(NULL, (n + 1) * sizeof *groups);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ginfo *g = &T.gs.v[idx[i]];
		struct str fn = entry_name(g);
		if (ng == 0 || !str_eq(groups[ng - 1].fn, fn))
			groups[ng++] = (struct group){fn, 0, 0};
		groups[ng - 1].count++;
		groups[ng - 1].running += g->running;
	}
	qsort(groups, ng, sizeof *groups, by_running);
	static const char *const ghead[] = {"COUNT", "RUNNING", "ENTRY FUNCTION"};
	struct table t = {3, ghead, "rr", {0}};
	for (size_t i = 0; i < ng; i++) {
		cell(&t, "%zu", groups[i].count);
		cell(&t, "%s", fmt_dur(b1, sizeof b1, groups[i].running));
		cell(&t, "%.*s", (int)groups[i].fn.n, groups[i].fn.n ? groups[i].fn.p : "?");
	}
	printf("\nGoroutines by entry function:\n");
	table_print(&t);
	free(groups);

	/* processors */
	static const char *const phead[] = {"PROC", "RUNNING", "UTILISATION"};
	t = (struct table){3, phead, "rrr", {0}};
	n = 0;
	for (size_t i = 0; i < T.ps.n; i++)
		if (T.ps.v[i].seen || T.ps.v[i].slices > 0)
			idx[n++] = i;
	qsort(idx, n, sizeof *idx, by_pid);
	for (size_t i = 0; i < n; i++) {
		const struct pinfo *p = &T.ps.v[idx[i]];
		if (p->id >= 0)
			cell(&t, "%" PRId64, p->id);
		else
			cell(&t, "no P");
		cell(&t, "%s", fmt_dur(b1, sizeof b1, p->busy));
		cell(&t, "%.1f%%", T.end > 0 ? 100.0 * (double)p->busy / (double)T.end : 0.0);
	}
	printf("\nProcessor utilisation:\n");
	table_print(&t);

	/* the longest waits */
	static const char *const whead[] = {"DURATION", "GOROUTINE", "REASON", "WHERE"};
	t = (struct table){4, whead, "rr  ", {0}};
	for (size_t i = 0; i < T.waits.n; i++)
		idx[i] = i;
	qsort(idx, T.waits.n, sizeof *idx, by_duration);
	for (size_t i = 0; i < T.waits.n && i < 10; i++) {
		const struct wait *w = &T.waits.v[idx[i]];
		const struct frame *f = user_frame(w->stk);
		cell(&t, "%s", fmt_dur(b1, sizeof b1, w->end - w->start));
		cell(&t, "G%" PRIu64, w->g);
		cell(&t, "%s%s", reasons[w->reason], w->open ? " (until the end)" : "");
		if (f != NULL) {
			struct str fn = string_of(f->fn), file = string_of(f->file);
			cell(&t, "%.*s %.*s:%" PRIu64, (int)fn.n, fn.p, (int)file.n, file.p, f->line);
		} else {
			cell(&t, "-");
		}
	}
	printf("\nLongest blocking waits:\n");
	table_print(&t);
	free(idx);

	/* blocked time by reason, the most first */
	int64_t total[R_COUNT] = {0};
	size_t count[R_COUNT] = {0};
	int order[R_COUNT], nr = 0;
	for (size_t i = 0; i < T.waits.n; i++) {
		total[T.waits.v[i].reason] += T.waits.v[i].end - T.waits.v[i].start;
		count[T.waits.v[i].reason]++;
	}
	for (int r = 0; r < R_COUNT; r++)
		if (count[r] > 0)
			order[nr++] = r;
	for (int i = 1; i < nr; i++) /* insertion sort: a handful of reasons */
		for (int k = i; k > 0 && total[order[k]] > total[order[k - 1]]; k--) {
			int x = order[k];
			order[k] = order[k - 1];
			order[k - 1] = x;
		}
	static const char *const rhead[] = {"REASON", "WAITS", "TOTAL"};
	t = (struct table){3, rhead, " rr", {0}};
	for (int i = 0; i < nr; i++) {
		cell(&t, "%s", reasons[order[i]]);
		cell(&t, "%zu", count[order[i]]);
		cell(&t, "%s", fmt_dur(b2, sizeof b2, total[order[i]]));
	}
	printf("\nBlocked time by reason:\n");
	table_print(&t);
}

/* --------------------------------------------------------------- main */

static void read_file(void)
{
	FILE *f = strcmp(T.path, "-") == 0 ? stdin : fopen(T.path, "rb");
	if (f == NULL) {
		fprintf(stderr, "gort-trace: %s: %s\n", T.path, strerror(errno));
		exit(1);
	}
	size_t cap = 1 << 16;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	T.data = xrealloc(NULL, cap);
	for (;;) {
		size_t k = fread(T.data + T.size, 1, cap - T.size, f);
		T.size += k;
		if (k == 0)
			break;
		if (T.size == cap) {
			cap *= 2;
			T.data = xrealloc(T.data, cap);
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "gort-trace: %s: %s\n", T.path, strerror(errno));
		exit(1);
	}
	if (f != stdin)
		fclose(f);
}

static void usage(FILE *o)
{
	fputs("usage: gort-trace check FILE        check that FILE is a consistent Go 1.19 execution trace\n"
	      "       gort-trace events FILE       print its events, one a line, then a count of each kind\n"
	      "       gort-trace json FILE [OUT]   convert it to Chrome trace-event JSON (Perfetto)\n"
	      "       gort-trace summary FILE      goroutines, processor use and the longest waits\n"
	      "FILE - reads standard input.\n",
	      o);
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	const char *cmd = argc >= 2 ? argv[1] : "";
	bool json = strcmp(cmd, "json") == 0;
	if (!(argc == 3 || (json && argc == 4)) ||
	    !(json || strcmp(cmd, "check") == 0 || strcmp(cmd, "events") == 0 || strcmp(cmd, "summary") == 0)) {
		usage(stderr);
		return 2;
	}
	T.path = argv[2];
	read_file();
	load();
	if (strcmp(cmd, "events") == 0) {
		cmd_events();
	} else if (json) {
		analyse();
		const char *out = argc == 4 ? argv[3] : "-";
		FILE *o = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
		if (o == NULL) {
			fprintf(stderr, "gort-trace: %s: %s\n", out, strerror(errno));
			return 1;
		}
		cmd_json(o);
		if (ferror(o) | (o != stdout ? fclose(o) : fflush(o))) {
			fprintf(stderr, "gort-trace: %s: %s\n", out, strerror(errno));
			return 1;
		}
	} else if (strcmp(cmd, "summary") == 0) {
		analyse();
		cmd_summary();
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gort-trace: writing output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
