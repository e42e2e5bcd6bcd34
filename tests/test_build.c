/*
 * What users build against: the installed header and libraries, found by
 * pkg-config exactly as `cc app.c $(pkg-config --cflags --libs gort)`;
 * only gort_ names exported; no executable stack.
 */
#include "testutil.h"

/* Runs a shell command, returning its exit status and output. */
static int sh(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t k = fread(out, 1, n - 1, p);
	out[k] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char out[1 << 16];

Test(build, only_gort_symbols_are_exported, .timeout = 60)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "nm -g --defined-only %1$s/libgort.a | awk 'NF==3 {print $3}';"
		 "nm -D --defined-only %1$s/libgort.so | awk 'NF==3 {print $3}'", builddir());
	cr_assert_eq(sh(cmd, out, sizeof out), 0);
	int n = 0;
	for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n"), n++)
		cr_assert(strncmp(s, "gort_", 5) == 0, "internal symbol exported: %s", s);
	cr_assert_gt(n, 10);
}

Test(build, no_executable_stack, .timeout = 60)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "readelf -lW %s/libgort.so | grep GNU_STACK", builddir());
	cr_assert_eq(sh(cmd, out, sizeof out), 0);
	cr_assert(strstr(out, "RWE") == NULL, "executable stack: %s", out);
}

static const char app[] =
	"#include <gort.h>\n"
	"#include <stdio.h>\n"
	"static int n;\n"
	"static void hi(void *a) { n += 1; }\n"
	"static int run(void *a) { gort_go(hi, 0); while (n == 0) gort_yield(); return 7; }\n"
	"int main(void) { int r = gort_main(run, 0); printf(\"ok %d\\n\", r); return 0; }\n";

Test(build, install_and_pkg_config, .timeout = 300, .disabled = UNDER_SANITIZER)
{
	char dir[] = "/tmp/gort-install-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[512], cmd[4096];
	snprintf(path, sizeof path, "%s/app.c", dir);
	FILE *f = fopen(path, "w");
	fputs(app, f);
	fclose(f);
	snprintf(cmd, sizeof cmd,
		 "set -e; make -s install PREFIX=%1$s/prefix >/dev/null 2>&1;"
		 "export PKG_CONFIG_PATH=%1$s/prefix/lib/pkgconfig;"
		 "cc %1$s/app.c $(pkg-config --cflags --libs gort) -o %1$s/app-shared;"
		 "cc %1$s/app.c $(pkg-config --static --cflags gort) %1$s/prefix/lib/libgort.a"
		 " $(pkg-config --static --libs-only-l gort | sed 's/-lgort//') -o %1$s/app-static;"
		 "%1$s/app-shared; %1$s/app-static; ldd %1$s/app-shared | grep -c libgort.so.0;"
		 "test -f %1$s/prefix/share/gort/gort-gdb.py;"
		 "%1$s/prefix/bin/gort-trace check tests/data/go119.trace;"
		 "rm -rf %1$s",
		 dir);
	int st = sh(cmd, out, sizeof out);
	cr_assert_eq(st, 0, "install or build failed:\n%s", out);
	cr_assert_str_eq(out, "ok 7\nok 7\n1\n");
}
