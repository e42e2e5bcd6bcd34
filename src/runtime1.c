/*
 * Settings from the environment (Go's runtime1.go parsedebugvars):
 * GORT_DEBUG switches, GORT_TRACEBACK, GORT_MAXPROCS and GORT_STACK.  They are read once,
 * when gort_main starts.
 *
 * GORT_DEBUG is a comma-separated list of name=value pairs, like GODEBUG.
 * As in Go, names gort does not know are ignored, so a setting meant for a
 * newer version does no harm; but a known name with a value that does not
 * parse is a fatal error, since silently running without the switch the
 * user asked for wastes their time.
 */
#include "runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct debugvars debug = {.traceback = TRACEBACK_SINGLE};

static _Noreturn void badenv(const char *name, const char *value)
{
	static char msg[256];
	snprintf(msg, sizeof msg, "%s: invalid value \"%s\"", name, value);
	throw(msg);
}

static bool atou64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != 0)
		return false;
	*out = v;
	return true;
}

struct namedvalue {
	const char *name;
	int32_t value;
};

static const struct namedvalue stackguards[] = {
	{"madvise", STACKGUARD_MADVISE},
	{"mprotect", STACKGUARD_MPROTECT},
	{"soft", STACKGUARD_SOFT},
	{NULL, 0},
};

/* Go's GOTRACEBACK values, the numeric ones included. */
static const struct namedvalue tracebacks[] = {
	{"none", TRACEBACK_NONE},
	{"0", TRACEBACK_NONE},
	{"single", TRACEBACK_SINGLE},
	{"", TRACEBACK_SINGLE},
	{"1", TRACEBACK_SINGLE},
	{"all", TRACEBACK_ALL},
	{"system", TRACEBACK_SYSTEM},
	{"2", TRACEBACK_SYSTEM},
	{"crash", TRACEBACK_CRASH},
	{NULL, 0},
};

static int32_t lookup(const struct namedvalue *t, const char *what, const char *value)
{
	for (; t->name != NULL; t++)
		if (strcmp(value, t->name) == 0)
			return t->value;
	badenv(what, value);
}

static bool flag(const char *what, const char *value)
{
	uint64_t v;
	if (!atou64(value, &v))
		badenv(what, value);
	return v != 0;
}

static void setdebug(const char *name, const char *value)
{
	if (strcmp(name, "sched_random") == 0) {
		debug.sched_random = flag("GORT_DEBUG sched_random", value);
	} else if (strcmp(name, "seed") == 0) {
		if (!atou64(value, &debug.seed))
			badenv("GORT_DEBUG seed", value);
	} else if (strcmp(name, "stackguard") == 0) {
		debug.stackguard = lookup(stackguards, "GORT_DEBUG stackguard", value);
	} else if (strcmp(name, "invariants") == 0) {
		debug.invariants = flag("GORT_DEBUG invariants", value);
	} else if (strcmp(name, "schedtrace") == 0) {
		uint64_t ms;
		if (!atou64(value, &ms) || ms > INT32_MAX)
			badenv("GORT_DEBUG schedtrace", value);
		debug.schedtrace = (int32_t)ms;
	} else if (strcmp(name, "scheddetail") == 0) {
		debug.scheddetail = flag("GORT_DEBUG scheddetail", value);
	} else if (strcmp(name, "longrun") == 0) {
		debug.longrun = flag("GORT_DEBUG longrun", value);
	}
}

void parsedebugvars(void)
{
	const char *tb = getenv("GORT_TRACEBACK");
	debug.traceback = tb ? lookup(tracebacks, "GORT_TRACEBACK", tb) : TRACEBACK_SINGLE;
	const char *env = getenv("GORT_DEBUG");
	if (env == NULL)
		return;
	char buf[1024];
	size_t n = strlen(env);
	if (n >= sizeof buf)
		badenv("GORT_DEBUG", "(too long)");
	memcpy(buf, env, n + 1);
	char *save = NULL;
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (eq == NULL)
			continue;
		*eq = 0;
		setdebug(kv, eq + 1);
	}
	debug.slowschedule = debug.sched_random || debug.invariants;
}

/* GORT_MAXPROCS, or 0 when unset. */
int32_t envmaxprocs(void)
{
	const char *s = getenv("GORT_MAXPROCS");
	uint64_t v;
	if (s == NULL || *s == 0)
		return 0;
	if (!atou64(s, &v) || v == 0)
		badenv("GORT_MAXPROCS", s);
	return v > MAX_GOMAXPROCS ? MAX_GOMAXPROCS : (int32_t)v;
}

/*
 * A byte count with an optional K, M or G suffix (powers of 1024).
 */
size_t parsebytes(const char *name, const char *s)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		badenv(name, s);
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno != 0 || *end != 0 || v > (~0ULL >> shift) >> 1)
		badenv(name, s);
	return (size_t)(v << shift);
}
