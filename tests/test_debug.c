/*
 * What the runtime shows of itself: goroutine dumps (SIGQUIT, gort_dump),
 * gort_read_stats, and GORT_DEBUG's schedtrace (SCHED lines) and
 * scheddetail (per-P, M and G lines) in Go's formats, checked in a child
 * process's output.
 */
#include <regex.h>

#include "testutil.h"

static struct progresult r;

/* The lines of r.out that match pattern (an extended regex), counted. */
static int matching(const char *pattern)
{
	regex_t re;
	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0, "%s", pattern);
	int n = 0;
	char *save = NULL, *copy = strdup(r.out);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n += regexec(&re, line, 0, NULL, 0) == 0;
	free(copy);
	regfree(&re);
	return n;
}

Test(debug, schedtrace_prints_go_sched_lines, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=schedtrace=20", "GORT_MAXPROCS=2", NULL};
	run_prog(&r, "busy", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	int all = matching("^SCHED ");
	int good = matching("^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ spinningthreads=[0-9]+ "
			    "idlethreads=[0-9]+ runqueue=[0-9]+ \\[[0-9]+ [0-9]+\\]$");
	cr_assert_eq(good, all, "every SCHED line in Go's format:\n%s", r.out);
	/* 300 ms of work, a line every 20 ms: allow a slow machine half of them */
	cr_assert_geq(all, 7, "%d lines:\n%s", all, r.out);

	/* the first line is at 0ms, and the times go up by about the interval */
	long prev = -1;
	for (const char *p = r.out; (p = strstr(p, "SCHED ")) != NULL; p++) {
		long ms = strtol(p + 6, NULL, 10);
		if (prev < 0)
			cr_assert_eq(ms, 0, "%s", r.out);
		else
			cr_assert(ms >= prev + 20, "%ld after %ld:\n%s", ms, prev, r.out);
		prev = ms;
	}
}

Test(debug, scheddetail_adds_ps_ms_and_gs, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=schedtrace=100,scheddetail=1", "GORT_MAXPROCS=2", NULL};
	run_prog(&r, "busy", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	/* gcwaiting=1 when a line catches the world freezing as main returns */
	int lines = matching("^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ spinningthreads=[0-9]+ "
			     "idlethreads=[0-9]+ runqueue=[0-9]+ gcwaiting=[01] nmidlelocked=[0-9]+ stopwait=[0-9]+$");
	cr_assert_geq(lines, 2, "%s", r.out);
	cr_assert_eq(matching("^  P[01]: status=[0-4] schedtick=[0-9]+ m=-?[0-9]+ runqsize=[0-9]+ gfreecnt=[0-9]+ "
			      "timerslen=[0-9]+$"),
		     2 * lines, "a line per P under each SCHED line:\n%s", r.out);
	cr_assert_geq(matching("^  M[0-9]+: p=-?[0-9]+ curg=-?[0-9]+ spinning=(true|false) lockedg=-?[0-9]+$"), lines,
		      "%s", r.out);
	cr_assert_geq(matching("^  G1: status=[0-6]\\([a-z .]*\\) m=-?[0-9]+ lockedm=-?[0-9]+$"), lines, "%s", r.out);
	/* the goroutine parked for good, once it has parked: goroutine 2 */
	cr_assert_geq(matching("^  G2: status=4\\(chan receive\\) m=-1 lockedm=-1$"), 1, "%s", r.out);
}

Test(debug, schedtrace_wants_milliseconds, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=schedtrace=soon", NULL};
	run_prog(&r, "env", e);
	cr_assert_eq(r.status, 2, "%s", r.out);
	assert_output_has(&r, "fatal error: GORT_DEBUG schedtrace: invalid value \"soon\"\n");
}

/* ------------------------------------------------------------------ dumps */

/* A dump from a signal handler allocates (symbols, lines): expected. */
static const char *const sanopts[] = {"TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0", NULL};

/* The goroutine blocked for three minutes, as every dump shows it. */
static void assert_blocked_goroutine(void)
{
	assert_output_has(&r, " [chan receive, 3 minutes]:\ngort_chan_recv(...)\n");
	assert_output_has(&r, "\nchanwaiter_fn(...)\n");
	assert_output_has(&r, "created by parkforminutes in goroutine 1\n");
}

/*
 * ThreadSanitizer holds an asynchronous signal until its thread calls a
 * function it intercepts, and gort's threads sleep in futex system calls it
 * does not see: under it, the signal would wait for ever.
 */
/*
 * A goroutine that runs a whole time slice calling only gort_now is
 * preempted there (with one P, the other goroutine runs meanwhile), and
 * GORT_DEBUG=longrun=1 reports it with its traceback.
 */
Test(debug, longrun_preempts_and_reports_a_cpu_hog, .timeout = 30)
{
	const char *e[] = {"GORT_DEBUG=longrun=1", "GORT_MAXPROCS=1", NULL};
	run_prog(&r, "longrun", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	assert_output_has(&r, "other ran during the hog: 1\n");
	cr_assert_geq(matching("^gort: goroutine [0-9]+ ran for [0-9]+ ms without a scheduling point$"), 1, "%s", r.out);
	cr_assert_geq(matching("^goroutine [0-9]+ \\[running\\]:$"), 1, "%s", r.out);
	cr_assert_geq(matching("^longrun_hog\\("), 1, "the hog's frame:\n%s", r.out);
}

Test(debug, longrun_is_quiet_unless_asked, .timeout = 30)
{
	const char *e[] = {"GORT_MAXPROCS=1", NULL};
	run_prog(&r, "longrun", e);
	cr_assert_eq(r.status, 0, "%s", r.out);
	assert_output_has(&r, "other ran during the hog: 1\n");
	cr_assert_eq(matching("without a scheduling point"), 0, "%s", r.out);
}

Test(debug, sigquit_dumps_every_goroutine_and_exits_2, .timeout = 30, .disabled = UNDER_TSAN)
{
	run_prog(&r, "sigquit", sanopts);
	cr_assert_eq(r.status, 2, "%s", r.out);
	cr_assert(strncmp(r.out, "SIGQUIT: quit\nPC=0x", 19) == 0, "%s", r.out);
	assert_output_has(&r, "\ngoroutine 1 [");
	assert_blocked_goroutine();
	assert_output_has(&r, "\nrip    0x");
}

Test(debug, dump_writes_every_goroutine_and_goes_on, .timeout = 30)
{
	run_prog(&r, "dump", sanopts);
	cr_assert_eq(r.status, 0, "%s", r.out);
	assert_output_has(&r, "\ngoroutine 1 [running]:\nmain_dump(...)\n");
	assert_blocked_goroutine();
	cr_assert(strstr(r.out, "created by parkforminutes") < strstr(r.out, "dumped, and going on\n"), "%s", r.out);
	cr_assert_null(strstr(r.out, "SIGQUIT"), "%s", r.out);
}

/*
 * The gdb helper (tools/gort-gdb.py), in a program stopped with a goroutine
 * blocked: info goroutines lists both, and goroutine 2 bt walks the
 * blocked one's stack from where it will resume, down to its entry.
 */
Test(debug, gdb_helper_lists_goroutines_and_their_stacks, .timeout = 60, .disabled = UNDER_SANITIZER)
{
	run_gdb(&r,
		"-ex 'source tools/gort-gdb.py' -ex 'info goroutines' -ex 'echo ---\\n' -ex 'goroutine 2 bt' "
		"-ex 'echo ---\\n' -ex 'bt 1'",
		"gdb-goroutines");
	char *out = r.out;
	char *list = strstr(out, "* 1 running "), *bt = strstr(out, "---\n"), *after = bt ? strstr(bt + 4, "---\n") : NULL;
	cr_assert(list != NULL && bt != NULL && after != NULL, "%s", out);
	cr_assert(strstr(list, "\n  2 chan receive chanwaiter_fn\n") != NULL, "%s", out);
	*after = 0;
	cr_assert(strstr(bt, "gort_chan_recv") && strstr(bt, "chanwaiter_fn") && strstr(bt, "goentry_asm"),
		  "goroutine 2's stack:\n%s", bt);
	/* and the registers are the thread's again */
	cr_assert(strstr(after + 4, "#0 ") != NULL && strstr(after + 4, "chanwaiter_fn") == NULL, "%s", after + 4);
}

/* ------------------------------------------------------------------ stats */

static gort_chan *gate;
static gort_waitgroup started, finished;

enum { PARKERS = 100, TOUCHED = 64 << 10 };

/* Touches TOUCHED bytes of its stack, then parks on gate until it closes. */
static void parker(void *arg)
{
	volatile char buf[TOUCHED];
	for (size_t i = 0; i < sizeof buf; i += 4096)
		buf[i] = 1;
	gort_waitgroup_done(&started);
	gort_chan_recv(gate, NULL);
	buf[0] = 2;
	gort_waitgroup_done(&finished);
}

/* On one P, so that what runs when is certain. */
static int main_stats(void *arg)
{
	gort_stats s0, s1, s2;
	gort_read_stats(&s0);
	cr_assert_eq(s0.goroutines, 1);
	cr_assert_eq(s0.goroutines_created, 1);
	cr_assert_eq(s0.procs, 1);
	cr_assert_eq(s0.idle_procs, 0, "main holds the only P");
	cr_assert_geq(s0.threads, 2, "an M and sysmon");
	cr_assert_gt(s0.stack_reserved, 0);
	cr_assert(s0.stack_resident > 0 && s0.stack_resident <= s0.stack_reserved, "%lld of %lld",
		  (long long)s0.stack_resident, (long long)s0.stack_reserved);

	gate = gort_chan_make(0, 0);
	gort_waitgroup_add(&started, PARKERS);
	gort_waitgroup_add(&finished, PARKERS);
	for (int i = 0; i < PARKERS; i++)
		gort_go(parker, NULL);
	/* main parks; each parker runs, then parks on gate; the last readies main */
	gort_waitgroup_wait(&started);
	gort_read_stats(&s1);
	cr_assert_eq(s1.goroutines, 1 + PARKERS);
	cr_assert_eq(s1.goroutines_created, 1 + PARKERS);
	cr_assert_geq(s1.parks - s0.parks, 1 + PARKERS, "%lld parks", (long long)(s1.parks - s0.parks));
	cr_assert_eq(s1.runqueue + s1.local_runqueue, 0, "nothing is runnable but main");
	cr_assert_geq(s1.stack_resident - s0.stack_resident, (int64_t)PARKERS * (TOUCHED - 4096),
		      "%lld bytes more resident", (long long)(s1.stack_resident - s0.stack_resident));

	gort_chan_close(gate);
	gort_waitgroup_wait(&finished);
	while (gort_num_goroutine() > 1)
		gort_yield();
	gort_read_stats(&s2);
	cr_assert_eq(s2.goroutines, 1);
	cr_assert_eq(s2.goroutines_created, 1 + PARKERS);
	gort_chan_free(gate);
	return 0;
}

Test(debug, stats_count_goroutines_parks_and_stack_pages, .timeout = 30)
{
	setenv("GORT_MAXPROCS", "1", 1);
	cr_assert_eq(gort_main(main_stats, NULL), 0);
}

Test(debug, stats_want_somewhere_to_go, .timeout = 30)
{
	run_prog(&r, "stats-nil", NULL);
	cr_assert_eq(r.status, 2, "%s", r.out);
	assert_output_has(&r, "fatal error: gort_read_stats: nil stats\n");
}
