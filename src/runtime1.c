/*
 * Settings from the environment (Go's runtime1.go parsedebugvars):
 * GORT_DEBUG switches, GORT_MAXPROCS and GORT_STACK.  They are read once,
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

struct debugvars debug;

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

static const struct {
	const char *name;
	int32_t value;
} stackguards[] = {
	{"madvise", STACKGUARD_MADVISE},
	{"mprotect", STACKGUARD_MPROTECT},
	{"soft", STACKGUARD_SOFT},
};

static void setdebug(const char *name, const char *value)
{
	uint64_t v;
	if (strcmp(name, "sched_random") == 0) {
		if (!atou64(value, &v))
			badenv("GORT_DEBUG sched_random", value);
		debug.sched_random = v != 0;
	} else if (strcmp(name, "seed") == 0) {
		if (!atou64(value, &v))
			badenv("GORT_DEBUG seed", value);
		debug.seed = v;
	} else if (strcmp(name, "stackguard") == 0) {
		for (size_t i = 0; i < sizeof stackguards / sizeof stackguards[0]; i++)
			if (strcmp(value, stackguards[i].name) == 0) {
				debug.stackguard = stackguards[i].value;
				return;
			}
		badenv("GORT_DEBUG stackguard", value);
	}
}

void parsedebugvars(void)
{
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
