/*
 * The default GORT_MAXPROCS: the cgroup CPU limit, read from cgroup v1 and
 * v2 file layouts built in a temporary directory, and Go 1.25's rounding.
 */
#include <sys/stat.h>

#include "runtime.h"
#include "testutil.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	cr_assert_eq(system(cmd), 0);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static double limit(const char *cgroup, const char *mountinfo)
{
	char c[512], m[512];
	snprintf(c, sizeof c, "%s/%s", root, cgroup);
	snprintf(m, sizeof m, "%s/%s", root, mountinfo);
	return cgroupcpulimit(c, m);
}

static void setup(void)
{
	strcpy(root, "/tmp/gort-cgroup-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(os, .init = setup, .fini = teardown);

Test(os, cgroup_v2_cpu_max)
{
	char mi[512];
	put("cgroup", "0::/user.slice/app\n");
	snprintf(mi, sizeof mi, "25 1 0:22 / %s/sys/fs/cgroup rw,relatime shared:4 - cgroup2 cgroup2 rw\n", root);
	put("mountinfo", mi);
	put("sys/fs/cgroup/user.slice/app/cpu.max", "150000 100000\n");
	cr_assert_float_eq(limit("cgroup", "mountinfo"), 1.5, 1e-9);
	put("sys/fs/cgroup/user.slice/app/cpu.max", "max 100000\n");
	cr_assert_float_eq(limit("cgroup", "mountinfo"), 0.0, 1e-9);
}

Test(os, cgroup_v1_cfs_quota)
{
	char mi[512];
	put("cgroup", "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n");
	/* inside a container the mount's root is the container's cgroup */
	snprintf(mi, sizeof mi,
		 "30 25 0:26 /docker/abc %s/sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n",
		 root);
	put("mountinfo", mi);
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "250000\n");
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
	cr_assert_float_eq(limit("cgroup", "mountinfo"), 2.5, 1e-9);
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	cr_assert_float_eq(limit("cgroup", "mountinfo"), 0.0, 1e-9);
}

Test(os, no_cgroup_files)
{
	cr_assert_float_eq(limit("nonexistent", "nonexistent"), 0.0, 1e-9);
}

Test(os, default_maxprocs_rounding)
{
	cr_assert_eq(defaultmaxprocs(8, 0), 8, "no limit: all CPUs");
	cr_assert_eq(defaultmaxprocs(8, 2.5), 3, "rounded up");
	cr_assert_eq(defaultmaxprocs(8, 0.5), 2, "never below 2");
	cr_assert_eq(defaultmaxprocs(1, 0.5), 1, "never above the CPUs");
	cr_assert_eq(defaultmaxprocs(4, 16), 4);
}
