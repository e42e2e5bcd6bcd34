/*
 * tools/gort-trace, the execution-trace reader, run as a child process:
 * on a trace written by Go 1.19 (tests/data/go119.trace, made by
 * tests/data/gotrace/main.go), whose events must be the ones `go tool trace
 * -d` prints when a Go toolchain is there; and on small traces built here
 * byte by byte, valid and broken in one way each, which it must reject
 * with Go's words.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>

#include "testutil.h"

#define FIXTURE "tests/data/go119.trace"

/* ------------------------------------------------------------- running */

struct run {
	int status; /* exit status, or 128+signal */
	char *out, *err;
	size_t nout;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	size_t k;
	while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n - 1 == 0)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = 0;
	if (len != NULL)
		*len = n;
	return buf;
}

static void make_temp(char *path, size_t size, const char *what)
{
	snprintf(path, size, "/tmp/gort-tracetool-%s-XXXXXX", what);
	int fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
}

static bool have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Runs argv (looked up in PATH), its stdout and stderr kept apart. */
static void run_split(struct run *r, char *const argv[])
{
	char outp[64], errp[64];
	make_temp(outp, sizeof outp, "out");
	make_temp(errp, sizeof errp, "err");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_TRUNC, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_TRUNC, 0);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	cr_assert_eq(e, 0, "cannot run %s: %s", argv[0], strerror(e));
	posix_spawn_file_actions_destroy(&fa);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = slurp(outp, &r->nout);
	r->err = slurp(errp, NULL);
	unlink(outp);
	unlink(errp);
}

/* gort-trace with up to three arguments (NULL ends them). */
static void tool(struct run *r, const char *a, const char *b, const char *c)
{
	char prog[4096];
	snprintf(prog, sizeof prog, "%s/gort-trace", builddir());
	cr_assert(access(prog, X_OK) == 0, "%s is not built", prog);
	char *argv[] = {prog, (char *)a, (char *)b, (char *)c, NULL};
	run_split(r, argv);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* ------------------------------------------------------ the events' text */

/* Whether a line of `events` (or of `go tool trace -d`) is an event. */
static bool is_event_line(const char *line)
{
	const char *p = line;
	while (isdigit((unsigned char)*p))
		p++;
	return p > line && *p == ' ' && isupper((unsigned char)p[1]);
}

/* The count line "count <name> <n>" of an `events` output; -1 if none. */
static long count_of(const char *out, const char *name)
{
	char key[128];
	snprintf(key, sizeof key, "count %s ", name);
	for (const char *p = out; (p = strstr(p, key)) != NULL; p++)
		if (p == out || p[-1] == '\n')
			return strtol(p + strlen(key), NULL, 10);
	return -1;
}

/*
 * The first five fields (time, type, p=, g=, off=) of every event line,
 * sorted: a stream's content, whatever order it gives events at equal
 * times in.  The strings are in one buffer, *keep.
 */
static size_t event_keys(const char *out, char ***keys, char **keep)
{
	char *copy = strdup(out), *save = NULL;
	size_t n = 0, cap = 1024;
	*keys = malloc(cap * sizeof **keys);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!is_event_line(line))
			continue;
		char *p = line;
		for (int f = 0; f < 5 && p != NULL; f++)
			p = strchr(p + 1, ' ');
		if (p != NULL)
			*p = 0;
		if (n == cap)
			*keys = realloc(*keys, (cap *= 2) * sizeof **keys);
		(*keys)[n++] = line;
	}
	*keep = copy;
	return n;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The number after key in a JSON text ("\"slices\":"); -1 if none. */
static long json_long(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p != NULL ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* --------------------------------------------------------- the fixture */

Test(tracetool, check_accepts_a_go_trace, .timeout = 30)
{
	struct run r;
	tool(&r, "check", FIXTURE, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(r.out[0], 0, "check prints nothing: %s", r.out);
	cr_assert_eq(r.err[0], 0, "check prints nothing: %s", r.err);
	run_free(&r);
}

Test(tracetool, events_counts_add_up, .timeout = 30)
{
	struct run r;
	tool(&r, "events", FIXTURE, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);

	/* each count is the number of lines of its type */
	char **keys, *keep;
	size_t n = event_keys(r.out, &keys, &keep);
	long total = 0;
	static const char *const names[] = {"GoCreate", "GoStart", "GoEnd", "GoBlockRecv", "GoBlockSend",
					    "GoBlockSelect", "GoBlockSync", "GoSleep", "GoUnblock", "ProcStart",
					    "UserTaskCreate", "UserTaskEnd", "UserRegion", "UserLog"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		long c = count_of(r.out, names[i]), lines = 0;
		cr_assert_gt(c, 0, "%s occurs in the fixture", names[i]);
		for (size_t k = 0; k < n; k++) {
			const char *t = strchr(keys[k], ' ') + 1;
			lines += strncmp(t, names[i], strlen(names[i])) == 0 && t[strlen(names[i])] == ' ';
		}
		cr_assert_eq(c, lines, "count %s %ld, %ld lines", names[i], c, lines);
	}
	for (const char *p = r.out; (p = strstr(p, "\ncount ")) != NULL; p++)
		total += strtol(strchr(p + 7, ' '), NULL, 10);
	cr_assert_eq(total, (long)n, "the counts add up to the %zu events", n);
	cr_assert_eq(count_of(r.out, "UserTaskCreate"), 1);
	cr_assert_eq(count_of(r.out, "UserRegion"), 10, "five regions, begun and ended");

	/* each GoCreate creates a goroutine of its own, and every G started was created */
	uint64_t created[4096];
	size_t ncreated = 0;
	char *save = NULL, *copy = strdup(r.out);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *off = strstr(line, " off="), *g = off ? strstr(off, " g=") : NULL;
		if (!is_event_line(line))
			continue;
		if (strstr(line, " GoCreate ") != NULL) {
			cr_assert(g != NULL, "%s", line);
			uint64_t id = strtoull(g + 3, NULL, 10);
			for (size_t k = 0; k < ncreated; k++)
				cr_assert_neq(created[k], id, "g %llu created twice", (unsigned long long)id);
			created[ncreated++] = id;
		} else if (strstr(line, " GoStart ") != NULL) {
			uint64_t id = strtoull(g + 3, NULL, 10);
			bool found = false;
			for (size_t k = 0; k < ncreated; k++)
				found |= created[k] == id;
			cr_assert(found, "g %llu started, never created: %s", (unsigned long long)id, line);
		}
	}
	cr_assert_eq((long)ncreated, count_of(r.out, "GoCreate"));
	free(copy);
	free(keys);
	free(keep);
	run_free(&r);
}

/* The same events, at the same times, on the same Ps and Gs, as Go's parser. */
Test(tracetool, events_are_go_tool_traces, .timeout = 60)
{
	if (!have("go"))
		cr_skip_test("no Go toolchain to compare with");
	struct run mine, go;
	tool(&mine, "events", FIXTURE, NULL);
	cr_assert_eq(mine.status, 0, "%s", mine.err);
	char *argv[] = {"go", "tool", "trace", "-d", FIXTURE, NULL};
	run_split(&go, argv);
	if (go.status != 0 && strstr(go.err, "unsupported trace file version") != NULL)
		cr_skip_test("this Go reads no 1.19 traces: %s", go.err);
	cr_assert_eq(go.status, 0, "go tool trace -d: %s", go.err);

	char **a, **b, *ka, *kb;
	size_t na = event_keys(mine.out, &a, &ka), nb = event_keys(go.out, &b, &kb);
	cr_assert_eq(na, nb, "%zu events, go tool trace has %zu", na, nb);
	qsort(a, na, sizeof *a, cmpstr);
	qsort(b, nb, sizeof *b, cmpstr);
	for (size_t i = 0; i < na; i++)
		cr_assert_str_eq(a[i], b[i], "event %zu", i);
	free(a);
	free(b);
	free(ka);
	free(kb);
	run_free(&mine);
	run_free(&go);
}

Test(tracetool, json_counts_agree_with_events, .timeout = 30)
{
	struct run ev, js, out;
	char path[64];
	make_temp(path, sizeof path, "json");
	tool(&ev, "events", FIXTURE, NULL);
	tool(&js, "json", FIXTURE, path);
	cr_assert_eq(js.status, 0, "%s", js.err);
	cr_assert_eq(js.out[0], 0, "the JSON went to %s", path);
	char *text = slurp(path, NULL);

	cr_assert(strncmp(text, "{", 1) == 0 && strstr(text, "\"traceEvents\":[") != NULL, "%.200s", text);
	cr_assert(strstr(text, "\"displayTimeUnit\":\"ns\"") != NULL);
	const char *other = strstr(text, "\"otherData\":{");
	cr_assert(other != NULL, "otherData is there");
	/* GC workers' GoStartLabels start slices too */
	long labels = count_of(ev.out, "GoStartLabel");
	long gostart = count_of(ev.out, "GoStart") + (labels > 0 ? labels : 0);
	cr_assert_eq(json_long(other, "\"slices\":"), gostart, "a slice for each GoStart");
	cr_assert_eq(json_long(other, "\"gostart\":"), gostart);
	cr_assert_eq(json_long(other, "\"goroutines\":"), count_of(ev.out, "GoCreate"));
	cr_assert_eq(json_long(other, "\"userlogs\":"), count_of(ev.out, "UserLog"));

	/* the names Perfetto shows */
	cr_assert(strstr(text, "\"args\":{\"name\":\"Procs\"}") && strstr(text, "\"args\":{\"name\":\"Goroutines\"}"));
	cr_assert(strstr(text, "\"args\":{\"name\":\"Proc 0\"}") && strstr(text, "\"args\":{\"name\":\"Proc 1\"}"));
	cr_assert(strstr(text, "\"name\":\"G1 runtime.main\"") != NULL);
	cr_assert(strstr(text, "main.consumer\",\"cat\":\"goroutine\",\"ph\":\"X\",\"pid\":1") != NULL);
	static const char *const kinds[] = {
		"\"name\":\"chan receive\"", "\"name\":\"chan send\"", "\"name\":\"select\"", "\"name\":\"sync\"",
		"\"name\":\"sleep\"", "\"name\":\"network\"", "\"name\":\"syscall\"", "\"name\":\"runnable\"",
		"\"ph\":\"C\"", "\"cat\":\"task\",\"ph\":\"b\"", "\"cat\":\"task\",\"ph\":\"e\"",
		"\"name\":\"nap\",\"cat\":\"region\",\"ph\":\"X\"",
		"\"name\":\"sleeper: slept 2ms\",\"cat\":\"log\",\"ph\":\"i\",\"s\":\"t\""};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		cr_assert(strstr(text, kinds[i]) != NULL, "%s in the JSON", kinds[i]);
	/* quotes, a backslash, a newline and a tab escaped; UTF-8 kept; a stray byte replaced */
	cr_assert(strstr(text, "\"name\":\"main: start \\\"pipeline\\\" \\\\ with\\nnewline\\ttab, h\xc3\xa9llo, "
			       "bad \\ufffd byte\"") != NULL,
		  "the log message escaped");

	/* without OUT, the same on stdout */
	tool(&out, "json", FIXTURE, NULL);
	cr_assert_eq(out.status, 0, "%s", out.err);
	cr_assert_str_eq(out.out, text);
	free(text);
	unlink(path);
	run_free(&ev);
	run_free(&js);
	run_free(&out);
}

/* A JSON parser agrees it is JSON, and finds what otherData counts. */
Test(tracetool, json_parses, .timeout = 30)
{
	if (!have("python3"))
		cr_skip_test("no python3 to parse the JSON with");
	struct run js, py;
	char path[64];
	make_temp(path, sizeof path, "json");
	tool(&js, "json", FIXTURE, path);
	cr_assert_eq(js.status, 0, "%s", js.err);
	char *tool_argv[] = {"python3", "-m", "json.tool", path, NULL};
	run_split(&py, tool_argv);
	cr_assert_eq(py.status, 0, "python3 -m json.tool: %s", py.err);
	run_free(&py);

	char *check_argv[] = {
		"python3", "-c",
		"import json, sys\n"
		"d = json.load(open(sys.argv[1]))\n"
		"ev, od = d['traceEvents'], d['otherData']\n"
		"procs = [e for e in ev if e['ph'] == 'X' and e['pid'] == 1]\n"
		"assert len(procs) == od['slices'], (len(procs), od)\n"
		"assert len([e for e in ev if e['ph'] == 'i']) == od['userlogs'], od\n"
		"assert all(e['dur'] >= 0 for e in ev if e['ph'] == 'X')\n"
		"msg = [e['name'] for e in ev if e.get('cat') == 'log' and e['name'].startswith('main: start')]\n"
		"want = 'main: start \"pipeline\" \\\\ with\\nnewline\\ttab, h\\u00e9llo, bad \\ufffd byte'\n"
		"assert msg == [want], msg\n",
		path, NULL};
	run_split(&py, check_argv);
	cr_assert_eq(py.status, 0, "%s", py.err);
	run_free(&py);
	unlink(path);
	run_free(&js);
}

Test(tracetool, summary_prints_its_sections, .timeout = 30)
{
	struct run r;
	tool(&r, "summary", FIXTURE, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	static const char *const want[] = {
		"Duration: ", "\nGoroutines: 18 created, ", "\nGoroutines by entry function:\n",
		"\nProcessor utilisation:\n", "\nLongest blocking waits:\n", "\nBlocked time by reason:\n",
		"main.consumer", "main.sleeper", "chan send", "DURATION", "UTILISATION"};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		cr_assert(strstr(r.out, want[i]) != NULL, "\"%s\" in:\n%s", want[i], r.out);
	/* a wait in a sleeper, at the line of its Sleep */
	cr_assert(strstr(r.out, "sleep") && strstr(r.out, "main.go:"), "%s", r.out);
	run_free(&r);
}

/* ------------------------------------------------------ traces by hand */

struct tbuf {
	unsigned char b[4096];
	size_t n;
};

static void put_byte(struct tbuf *t, unsigned c)
{
	cr_assert_lt(t->n, sizeof t->b);
	t->b[t->n++] = (unsigned char)c;
}

static void put_uv(struct tbuf *t, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		put_byte(t, (unsigned)(v & 0x7f) | 0x80);
	put_byte(t, (unsigned)v);
}

/* An event: its type with k = values - 1 (3: a byte length first), then its values. */
static void ev(struct tbuf *t, int type, int n, ...)
{
	struct tbuf vals = {.n = 0};
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		put_uv(&vals, va_arg(ap, uint64_t));
	va_end(ap);
	if (n <= 3) {
		put_byte(t, (unsigned)type | (unsigned)(n - 1) << 6);
	} else {
		put_byte(t, (unsigned)type | 3u << 6);
		put_uv(t, vals.n);
	}
	memcpy(t->b + t->n, vals.b, vals.n);
	t->n += vals.n;
}

static void put_string(struct tbuf *t, uint64_t id, const char *s)
{
	put_byte(t, 37);
	put_uv(t, id);
	put_uv(t, strlen(s));
	for (; *s; s++)
		put_byte(t, (unsigned char)*s);
}

enum variant {
	GOOD, NO_FREQUENCY, GOSTART_TWO_VALUES, NEVER_CREATED, CLOCK_BEHIND, STOP_WHILE_RUNNING, NO_STACK,
	REGIONS_CROSSED
};

#define U(x) ((uint64_t)(x))

/*
 * Two Ps, P1's batch first in the file: P0 creates G1 and G2 and runs G1
 * until it blocks; P1 runs G2, which unblocks G1 and ends; G1 runs again
 * on P0 and ends.  The merge must take P0's GoCreates before P1's GoStart.
 * Times are ticks of a 1 GHz clock.
 */
static void build(struct tbuf *t, enum variant v)
{
	t->n = 0;
	const char *h = "go 1.19 trace\0\0\0";
	for (int i = 0; i < 16; i++)
		put_byte(t, (unsigned char)h[i]);

	ev(t, 1, 2, U(1), U(v == CLOCK_BEHIND ? 50 : 105)); /* Batch p=1 */
	ev(t, 5, 2, U(1), U(8));                           /* ProcStart */
	if (v == GOSTART_TWO_VALUES)
		ev(t, 14, 2, U(1), U(2)); /* GoStart g=2, its seq left out */
	else
		ev(t, 14, 3, U(1), U(2), U(1)); /* GoStart g=2 seq=1 */
	if (v == STOP_WHILE_RUNNING)
		ev(t, 6, 1, U(1)); /* ProcStop while G2 runs */
	ev(t, 21, 4, U(1), U(1), U(2), U(0)); /* GoUnblock g=1 seq=2 */
	ev(t, 15, 1, U(1));                   /* GoEnd */
	ev(t, 6, 1, U(1));                    /* ProcStop */

	ev(t, 1, 2, U(0), U(100));              /* Batch p=0 */
	ev(t, 13, 4, U(1), U(1), U(1), U(0));   /* GoCreate g=1 stack=1 */
	if (v != NEVER_CREATED)
		ev(t, 13, 4, U(1), U(2), U(1), U(0)); /* GoCreate g=2 stack=1 */
	ev(t, 5, 2, U(1), U(7));                /* ProcStart */
	ev(t, 14, 3, U(1), U(1), U(1));         /* GoStart g=1 seq=1 */
	if (v == REGIONS_CROSSED) {
		ev(t, 47, 5, U(0), U(1), U(0), U(1), U(0)); /* UserRegion task=1 start "main.worker" */
		ev(t, 47, 5, U(0), U(1), U(1), U(2), U(0)); /* UserRegion task=1 end "worker.c" */
	}
	ev(t, 23, 2, U(1), U(0));               /* GoBlockRecv */
	ev(t, 14, 3, U(15), U(1), U(3));        /* GoStart g=1 seq=3 */
	ev(t, 15, 1, U(1));                     /* GoEnd */
	ev(t, 6, 1, U(1));                      /* ProcStop */

	if (v != NO_FREQUENCY)
		ev(t, 2, 1, U(1000000000)); /* Frequency */
	put_string(t, 1, "main.worker");
	put_string(t, 2, "worker.c");
	if (v != NO_STACK)
		ev(t, 3, 6, U(1), U(1), U(0x401000), U(1), U(2), U(10)); /* Stack 1: main.worker worker.c:10 */
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f != NULL);
	cr_assert_eq(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* check on these bytes fails with "gort-trace: FILE: " and want in the message. */
static void rejected(const void *b, size_t n, const char *want)
{
	char path[64];
	struct run r;
	make_temp(path, sizeof path, "bad");
	write_file(path, b, n);
	tool(&r, "check", path, NULL);
	char prefix[128];
	snprintf(prefix, sizeof prefix, "gort-trace: %s: ", path);
	cr_assert_eq(r.status, 1, "exit 1 for \"%s\", got %d: %s", want, r.status, r.err);
	cr_assert_eq(r.out[0], 0, "%s", r.out);
	cr_assert(strncmp(r.err, prefix, strlen(prefix)) == 0, "%s", r.err);
	cr_assert(strstr(r.err, want) != NULL, "\"%s\" in %s", want, r.err);
	cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "one line: %s", r.err);
	unlink(path);
	run_free(&r);
}

Test(tracetool, hand_built_trace_is_accepted, .timeout = 30)
{
	struct tbuf t;
	char path[64];
	struct run r;
	build(&t, GOOD);
	make_temp(path, sizeof path, "good");
	write_file(path, t.b, t.n);
	tool(&r, "check", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	tool(&r, "events", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(count_of(r.out, "GoCreate"), 2, "%s", r.out);
	cr_assert_eq(count_of(r.out, "GoStart"), 3, "%s", r.out);
	cr_assert_eq(count_of(r.out, "GoUnblock"), 1, "%s", r.out);
	cr_assert_eq(count_of(r.out, "ProcStart"), 2, "%s", r.out);
	/* merged: P0's creations, G1 runs and blocks, P1 runs G2, which unblocks G1 */
	const char *order[] = {"0 GoCreate p=0 g=0 off=", "1 GoCreate p=0 g=0 off=", "4 GoBlockRecv p=0 g=1 ",
			       "6 GoStart p=1 g=2 ", "7 GoUnblock p=1 g=2 ", "19 GoStart p=0 g=1 "};
	const char *at = r.out;
	for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
		const char *next = strstr(at, order[i]);
		cr_assert(next != NULL, "\"%s\" after the events before it:\n%s", order[i], r.out);
		at = next;
	}
	run_free(&r);

	tool(&r, "json", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"slices\":3,\"gostart\":3") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "\"name\":\"G2 main.worker\"") != NULL, "%s", r.out);
	run_free(&r);
	unlink(path);
}

Test(tracetool, broken_traces_are_rejected, .timeout = 30)
{
	struct tbuf t;
	build(&t, NO_FREQUENCY);
	rejected(t.b, t.n, "no EvFrequency event");
	build(&t, GOSTART_TWO_VALUES);
	rejected(t.b, t.n, "GoStart has wrong number of arguments at offset 0x16: want 3, got 2");
	build(&t, NEVER_CREATED);
	rejected(t.b, t.n, "no consistent ordering of events possible");
	build(&t, CLOCK_BEHIND);
	rejected(t.b, t.n, "time stamps out of order");
	build(&t, STOP_WHILE_RUNNING);
	rejected(t.b, t.n, "p 1 is running a goroutine 2 during stop (offset 26, time 7)");
	build(&t, NO_STACK);
	rejected(t.b, t.n, "missing stack information");
	build(&t, REGIONS_CROSSED);
	rejected(t.b, t.n, "misuse of region in goroutine 1: region end \"worker.c\" (task 1) when the innermost "
			   "active region is \"main.worker\" (task 1)");

	/* the last record cut short, in a varint */
	build(&t, GOOD);
	rejected(t.b, t.n - 1, "failed to read trace at offset");
	/* the length of an event says more than there is */
	rejected("go 1.19 trace\0\0\0\xcd\x04\x01\x01\x01\x80\x01", 23,
		 "event has wrong length at offset 0x10: want 4, got 5");
	rejected("go 1.19 trace\0\0\0\x00", 17, "unknown event type 0 at offset 0x10");
	rejected("go 1.19 trace\0\0\0\x41\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 28, "bad value at offset 0x11");
	rejected("go 1.19 trace\0\0\0\x25\x00", 18, "invalid id 0");
	rejected("go 1.19 trace\0\0\0", 16, "trace is empty");
	rejected("go 1.19 trice\0\0\0", 16, "not a trace file");
	rejected("go 1.5 trace\0\0\0\0", 16, "unsupported trace file version 1.5");
	rejected("go 1.1", 6, "failed to read header");
	rejected("", 0, "failed to read header");
}

Test(tracetool, a_truncated_go_trace_is_rejected, .timeout = 30)
{
	size_t n;
	char *b = slurp(FIXTURE, &n);
	rejected(b, n / 2, "");
	free(b);
}

Test(tracetool, usage_and_unreadable_files, .timeout = 30)
{
	struct run r;
	tool(&r, NULL, NULL, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "usage: gort-trace check FILE") != NULL, "%s", r.err);
	run_free(&r);
	tool(&r, "frobnicate", FIXTURE, NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "usage:") != NULL, "%s", r.err);
	run_free(&r);
	tool(&r, "check", FIXTURE, "extra");
	cr_assert_eq(r.status, 2);
	run_free(&r);
	tool(&r, "check", "/nonexistent/x.trace", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "gort-trace: /nonexistent/x.trace: No such file or directory\n");
	run_free(&r);
}
