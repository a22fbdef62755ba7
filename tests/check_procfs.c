/*
 * check_procfs.c - /proc read through the configurable root (procfs.h)
 * on a fake tree under the test's directory: the worker's memory
 * figures come from the fake meminfo, and a tree without one leaves them
 * out instead of reading the real machine's.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "procfs.h"
#include "testutil.h"
#include "util.h"
#include "worker.h"

/* Write text to root/rel, making its directories. */
static void
check_procfs_write(const char *root, const char *rel, const char *text)
{
	char	*path = path_join(root, rel), *slash;
	FILE	*f;

	slash = strrchr(path, '/');
	*slash = '\0';
	ck_assert_int_eq(mkdir_p(path, 0755), 0);
	*slash = '/';
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
}

/* worker_metrics() parsed; member key as an integer, -1 when absent. */
static long long
check_procfs_metric(const char *key)
{
	char		*text = worker_metrics();
	json_object	*o = json_tokener_parse(text), *v;
	long long	 n = -1;

	ck_assert_msg(o != NULL, "not JSON: %s", text);
	if (json_object_object_get_ex(o, key, &v))
		n = json_object_get_int64(v);
	json_object_put(o);
	free(text);
	return n;
}

START_TEST(test_path)
{
	char	*p;

	procfs_set_root(NULL);
	ck_assert_str_eq(procfs_root(), "");
	p = procfs_path("/proc/%d/stat", 42);
	ck_assert_str_eq(p, "/proc/42/stat");
	free(p);
	procfs_set_root("/");
	ck_assert_str_eq(procfs_root(), "");
	procfs_set_root("/srv/fake//");
	p = procfs_path("/sys/class/%s", "drm");
	ck_assert_str_eq(p, "/srv/fake/sys/class/drm");
	free(p);
	procfs_set_root(NULL);
}
END_TEST

START_TEST(test_worker_memory)
{
	char	*root = testutil_tmpdir("procfs");

	check_procfs_write(root, "proc/meminfo",
	    "MemTotal:       16384000 kB\n"
	    "MemFree:          102400 kB\n"
	    "MemAvailable:    8192000 kB\n"
	    "Buffers:           51200 kB\n");
	procfs_set_root(root);
	ck_assert_int_eq(check_procfs_metric("mem_mb"), 16000);
	ck_assert_int_eq(check_procfs_metric("mem_mb_free"), 8000);
	ck_assert_int_ge(check_procfs_metric("cpu"), 1);
	/* No meminfo under the root: no figures, not the real ones. */
	testutil_rm(root);
	ck_assert_int_eq(check_procfs_metric("mem_mb"), -1);
	ck_assert_int_eq(check_procfs_metric("mem_mb_free"), -1);
	/* Back on the real /proc: this machine has memory. */
	procfs_set_root(NULL);
	ck_assert_int_gt(check_procfs_metric("mem_mb"), 0);
	free(root);
}
END_TEST

static Suite *
procfs_suite(void)
{
	Suite	*s = suite_create("procfs");
	TCase	*tc = tcase_create("root");

	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_worker_memory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(procfs_suite());
}
