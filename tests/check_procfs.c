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
#include <sys/mman.h>
#include <unistd.h>

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

/*
 * Field 22 of stat, counted after the command name's last ')': field k
 * of the fake line holds k * 10, so a miscount shows as another value.
 */
START_TEST(test_proc_start)
{
	char		*root = testutil_tmpdir("procfs");
	struct strbuf	 sb = { 0 };
	int		 k;

	strbuf_adds(&sb, "4242 (a (b) c) d) S");
	for (k = 4; k <= 52; k++)
		strbuf_addf(&sb, " %d", k * 10);
	strbuf_adds(&sb, "\n");
	check_procfs_write(root, "proc/4242/stat", sb.buf);
	check_procfs_write(root, "proc/77/stat", "77 (no fields) S 1 2\n");
	check_procfs_write(root, "proc/78/stat", "garbage\n");
	procfs_set_root(root);
	ck_assert_int_eq(procfs_proc_start(4242), 220);
	ck_assert_int_eq(procfs_proc_start(77), -1);
	ck_assert_int_eq(procfs_proc_start(78), -1);
	ck_assert_int_eq(procfs_proc_start(4243), -1);
	procfs_set_root(NULL);
	strbuf_free(&sb);
	testutil_rm(root);
	free(root);
}
END_TEST

/*
 * A live process's start time does not move when it maps memory: the
 * field after it (vsize) does.  Reading vsize made a worker that grew
 * look like a process that is gone, and its live run was closed.
 */
START_TEST(test_proc_start_self)
{
	long long	 before, after;
	size_t		 len = 64 << 20;
	void		*m;

	before = procfs_proc_start((long)getpid());
	ck_assert_int_gt(before, 0);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	memset(m, 1, 4096);
	after = procfs_proc_start((long)getpid());
	munmap(m, len);
	ck_assert_int_eq(before, after);
	/* The parent started earlier (or in the same tick). */
	ck_assert_int_le(procfs_proc_start((long)getppid()), before);
}
END_TEST

static Suite *
procfs_suite(void)
{
	Suite	*s = suite_create("procfs");
	TCase	*tc = tcase_create("root");

	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_worker_memory);
	tcase_add_test(tc, test_proc_start);
	tcase_add_test(tc, test_proc_start_self);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(procfs_suite());
}
