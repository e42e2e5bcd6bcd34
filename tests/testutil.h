/*
 * Helpers shared by the tests.  Each Criterion test runs in a process of
 * its own, so each may call gort_main once.  Tests that check how gort
 * dies run tests/testprog in a child process and look at its stderr and
 * exit status, as Go's crash tests do.
 *
 * Sizes scale down under the sanitizers and Valgrind, which multiply the
 * cost of every goroutine; GORT_TEST_LONG=1 scales them up tenfold.
 */
#ifndef GORT_TESTUTIL_H
#define GORT_TESTUTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <gort.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "san.h"

#if defined(GORT_ASAN) || defined(GORT_TSAN)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* TSan counts every goroutine alive as a thread, and allows 8128. */
#ifdef GORT_TSAN
#define UNDER_TSAN 1
#define SANITIZER_MAX_LIVE 4000
#else
#define UNDER_TSAN 0
#define SANITIZER_MAX_LIVE 20000
#endif

extern char **environ;

static inline bool under_valgrind(void)
{
#ifdef GORT_VALGRIND
	return RUNNING_ON_VALGRIND;
#else
	return false;
#endif
}

/* A size for a stress test: n normally, less under a sanitizer or Valgrind. */
static inline long scaled(long n, long sanitized)
{
	long v = n;
	if (under_valgrind())
		v = sanitized / 10 > 0 ? sanitized / 10 : 1;
	else if (UNDER_SANITIZER)
		v = sanitized;
	const char *l = getenv("GORT_TEST_LONG");
	if (l != NULL && *l == '1')
		v *= 10;
	return v;
}

/* Runs fn as goroutine 1 and checks it returned 0. */
static inline void run_main(int (*fn)(void *), void *arg)
{
	int r = gort_main(fn, arg);
	cr_assert_eq(r, 0, "main goroutine returned %d", r);
}

/*
 * A wait group on the runtime's own park/ready protocol (channels come
 * later): tests use it to join goroutines without spinning, and it
 * exercises gopark's unlock-after-park rule on every use.
 */
struct testwg {
	mutex lk;
	long n;
	struct g *waiter;
};

static inline bool testwg_unlock(struct g *gp, void *lk)
{
	unlock(lk);
	return true;
}

static inline void testwg_add(struct testwg *w, long n)
{
	lock(&w->lk);
	w->n += n;
	unlock(&w->lk);
}

static inline void testwg_done(struct testwg *w)
{
	lock(&w->lk);
	struct g *gp = NULL;
	if (--w->n == 0) {
		gp = w->waiter;
		w->waiter = NULL;
	}
	unlock(&w->lk);
	if (gp != NULL)
		goready(gp);
}

static inline void testwg_wait(struct testwg *w)
{
	lock(&w->lk);
	if (w->n == 0) {
		unlock(&w->lk);
		return;
	}
	w->waiter = getg();
	gopark(testwg_unlock, &w->lk, waitReasonZero);
}

/*
 * A gate: goroutines park at it until it opens.  Parked goroutines hang
 * off a list through their param field.
 */
struct testgate {
	mutex lk;
	bool open;
	long parked;
	struct g *list;
};

static inline void testgate_wait(struct testgate *t)
{
	lock(&t->lk);
	if (t->open) {
		unlock(&t->lk);
		return;
	}
	struct g *gp = getg();
	gp->param = t->list;
	t->list = gp;
	t->parked++;
	gopark(testwg_unlock, &t->lk, waitReasonZero);
}

static inline long testgate_parked(struct testgate *t)
{
	lock(&t->lk);
	long n = t->parked;
	unlock(&t->lk);
	return n;
}

static inline void testgate_open(struct testgate *t)
{
	lock(&t->lk);
	t->open = true;
	struct g *gp = t->list;
	t->list = NULL;
	unlock(&t->lk);
	while (gp != NULL) {
		struct g *next = gp->param;
		gp->param = NULL;
		goready(gp);
		gp = next;
	}
}

/*
 * gort_go_attr, returning 0 or the errno it failed with.  errno is read in
 * a function of its own: the caller may have rescheduled earlier, and the
 * compiler would use errno's address from before (README, "Threads").
 */
static __attribute__((noinline, unused)) int go_errno(const gort_attr *attr, void (*fn)(void *), void *arg)
{
	return gort_go_attr(attr, fn, arg) == 0 ? 0 : errno;
}

/* Waits, yielding, until *flag reaches want. */
static inline void yield_until(_Atomic long *flag, long want)
{
	while (__atomic_load_n((long *)flag, __ATOMIC_ACQUIRE) < want)
		gort_yield();
}

/* The directory the tests and testprog were built in. */
static inline const char *builddir(void)
{
	const char *b = getenv("GORT_BUILD");
	return b != NULL ? b : "build";
}

struct progresult {
	int status;      /* exit status, or 128+signal */
	char out[65536]; /* stderr and stdout, interleaved */
};

/* Whether environment entry e sets the variable that entry f sets. */
static inline bool samevar(const char *e, const char *f)
{
	size_t n = strcspn(f, "=");
	return strncmp(e, f, n) == 0 && e[n] == '=';
}

/*
 * Runs argv[0] (a path, or a name looked up in PATH) with environment
 * entries ("NAME=value", NULL-terminated, replacing inherited ones),
 * collecting its output.
 */
static inline void run_cmd(struct progresult *r, char *const *argv, const char *const *env)
{
	size_t n = 0, extra = 0, e = 0;
	while (environ[n])
		n++;
	while (env && env[extra])
		extra++;
	char **envp = calloc(n + extra + 1, sizeof *envp);
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < extra; j++)
			replaced |= samevar(environ[i], env[j]);
		if (!replaced)
			envp[e++] = environ[i];
	}
	for (size_t i = 0; i < extra; i++)
		envp[e++] = (char *)env[i];

	int fds[2];
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	pid_t pid;
	int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	cr_assert_eq(err, 0, "cannot run %s: %s", argv[0], strerror(err));
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(fds[1]);

	size_t len = 0;
	ssize_t k;
	while ((k = read(fds[0], r->out + len, sizeof r->out - 1 - len)) > 0)
		len += (size_t)k;
	r->out[len] = 0;
	close(fds[0]);

	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs testprog with the given scenario and environment entries. */
static inline void run_prog(struct progresult *r, const char *scenario, const char *const *env)
{
	char prog[4096];
	snprintf(prog, sizeof prog, "%s/tests/testprog", builddir());
	char *argv[] = {prog, (char *)scenario, NULL};
	run_cmd(r, argv, env);
}

/*
 * Runs testprog's scenario under gdb in batch mode: "run", then commands
 * (more -ex options), collecting gdb's output; skips the test where gdb
 * cannot run.
 */
static inline void run_gdb(struct progresult *r, const char *commands, const char *scenario)
{
	if (system("command -v gdb >/dev/null 2>&1") != 0)
		cr_skip_test("gdb is not installed");
	if (under_valgrind())
		cr_skip_test("gdb does not run under Valgrind");
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "gdb -nx -batch -ex run %s --args %s/tests/testprog %s 2>&1", commands,
		 builddir(), scenario);
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL, "%s", cmd);
	size_t n = fread(r->out, 1, sizeof r->out - 1, p);
	r->out[n] = 0;
	r->status = pclose(p);
}

/* Asserts that the child's output contains s. */
#define assert_output_has(r, s) \
	cr_assert(strstr((r)->out, (s)) != NULL, "expected %s in output:\n%s", #s, (r)->out)

#endif
