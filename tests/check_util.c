/*
 * check_util.c - the small helpers every part shares (src/util.c,
 * src/json-get.c): PATH lookup, the edit distance and typo budgets of
 * the did-you-mean checks, and JSON member getters.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json-get.h"
#include "testutil.h"
#include "util.h"

/* An executable file dir/name. */
static void
check_util_exe(const char *dir, const char *name, int mode)
{
	char	*path = path_join(dir, name);
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, (mode_t)mode), 0);
	free(path);
}

START_TEST(test_path_which)
{
	char	*a = testutil_tmpdir("which-a"), *b = testutil_tmpdir("which-b");
	char	*path, *f, *want, *old = getenv("PATH") != NULL ?
		    xstrdup(getenv("PATH")) : NULL;

	check_util_exe(a, "tool", 0644);	/* not executable: skipped */
	check_util_exe(b, "tool", 0755);
	check_util_exe(a, "first", 0755);
	check_util_exe(b, "first", 0755);
	path = xasprintf("%s::%s", a, b);
	setenv("PATH", path, 1);
	f = path_which("tool");
	want = path_join(b, "tool");
	ck_assert_str_eq(f, want);
	free(f);
	free(want);
	f = path_which("first");	/* the first entry wins */
	want = path_join(a, "first");
	ck_assert_str_eq(f, want);
	free(f);
	free(want);
	ck_assert_ptr_null(path_which("no-such-tool"));
	/* A name with a slash is checked as it is. */
	want = path_join(b, "tool");
	f = path_which(want);
	ck_assert_str_eq(f, want);
	free(f);
	free(want);
	want = path_join(a, "tool");
	ck_assert_ptr_null(path_which(want));
	free(want);
	/* Unset: the default list, where sh is. */
	unsetenv("PATH");
	f = path_which("sh");
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(strcmp(f, "/usr/bin/sh") == 0 ||
	    strcmp(f, "/bin/sh") == 0, "sh at %s", f);
	free(f);
	if (old != NULL)
		setenv("PATH", old, 1);
	free(old);
	free(path);
	testutil_rm(a);
	testutil_rm(b);
	free(a);
	free(b);
}
END_TEST

/* str_distance on NUL-terminated strings. */
static size_t
check_util_dist(const char *a, const char *b, size_t max, int flags)
{
	return str_distance(a, strlen(a), b, strlen(b), max, flags);
}

/* As strndup(3): a string shorter than n is copied whole, never past its
 * end (ASan saw tui-summary.c read past a 58-byte message). */
START_TEST(test_xstrndup)
{
	char	*s;

	s = xstrndup("short", 160);
	ck_assert_str_eq(s, "short");
	free(s);
	s = xstrndup("abcdef", 3);
	ck_assert_str_eq(s, "abc");
	free(s);
	s = xstrndup("", 10);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_str_distance)
{
	ck_assert_uint_eq(check_util_dist("grafana", "grafana", 2, 0), 0);
	ck_assert_uint_eq(check_util_dist("grafana", "grafna", 2, 0), 1);
	/* A transposition is one edit (optimal string alignment). */
	ck_assert_uint_eq(check_util_dist("homepage", "homepgae", 2, 0), 1);
	ck_assert_uint_eq(check_util_dist("kitten", "sitting", 5, 0), 3);
	ck_assert_uint_eq(check_util_dist("", "abc", 5, 0), 3);
	ck_assert_uint_eq(check_util_dist("abc", "", 5, 0), 3);
	/* Past max: max + 1, early or late. */
	ck_assert_uint_eq(check_util_dist("kitten", "sitting", 2, 0), 3);
	ck_assert_uint_eq(check_util_dist("a", "abcdef", 1, 0), 2);
	ck_assert_uint_eq(check_util_dist("abcdef", "uvwxyz", 0, 0), 1);
	/* Case: only with STR_DISTANCE_FOLD. */
	ck_assert_uint_eq(check_util_dist("DB.Url", "db.url", 9, 0), 3);
	ck_assert_uint_eq(check_util_dist("DB.Url", "db.url", 9,
	    STR_DISTANCE_FOLD), 0);
	ck_assert_uint_eq(check_util_dist("DB.ulr", "db.url", 9,
	    STR_DISTANCE_FOLD), 1);
	/* Lengths bound what is read. */
	ck_assert_uint_eq(str_distance("jellyfinXX", 8, "jellyfin", 8, 2, 0),
	    0);
}
END_TEST

START_TEST(test_str_typo_budget)
{
	/* The matcher's lengths (plugins/infra/match.c): 5 and 8. */
	ck_assert_uint_eq(str_typo_budget(4, 5, 8), 0);
	ck_assert_uint_eq(str_typo_budget(5, 5, 8), 1);
	ck_assert_uint_eq(str_typo_budget(7, 5, 8), 1);
	ck_assert_uint_eq(str_typo_budget(8, 5, 8), 2);
	/* The parser's (src/intent.c): 4 and 8. */
	ck_assert_uint_eq(str_typo_budget(3, 4, 8), 0);
	ck_assert_uint_eq(str_typo_budget(4, 4, 8), 1);
	ck_assert_uint_eq(str_typo_budget(20, 4, 8), 2);
	ck_assert_uint_eq(str_typo_budget(0, 0, 8), 1);
}
END_TEST

START_TEST(test_json_get)
{
	json_object	*o = json_tokener_parse("{\"s\": \"text\", \"n\": 42,"
			    " \"z\": null, \"b\": true, \"o\": {\"s\": \"in\"}}");
	json_object	*a = json_tokener_parse("[\"s\"]");

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_get_str(o, "s"), "text");
	ck_assert_ptr_null(json_get_str(o, "n"));
	ck_assert_ptr_null(json_get_str(o, "z"));
	ck_assert_ptr_null(json_get_str(o, "o"));
	ck_assert_ptr_null(json_get_str(o, "absent"));
	ck_assert_ptr_null(json_get_str(NULL, "s"));
	ck_assert_ptr_null(json_get_str(a, "s"));
	ck_assert_str_eq(json_get_text(o, "s"), "text");
	ck_assert_str_eq(json_get_text(o, "n"), "42");
	ck_assert_str_eq(json_get_text(o, "b"), "true");
	ck_assert_ptr_null(json_get_text(o, "z"));
	ck_assert_ptr_null(json_get_text(o, "absent"));
	ck_assert_ptr_null(json_get_text(NULL, "s"));
	json_object_put(o);
	json_object_put(a);
}
END_TEST

/*
 * utf8_seq_len at the edges of each guard: overlong forms (C0/C1 leads,
 * E0 below A0, F0 below 90), surrogates (ED A0..), above U+10FFFF (F4
 * 90..), truncated and bad continuation bytes; and the first and last
 * valid sequence of each length.
 */
START_TEST(test_utf8_seq_len)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} v[] = {
		{ "\xc0\xaf", 0 }, { "\xc1\xbf", 0 }, { "\xc2\x80", 2 },
		{ "\xdf\xbf", 2 },
		{ "\xe0\x80\xaf", 0 }, { "\xe0\x9f\xbf", 0 },
		{ "\xe0\xa0\x80", 3 }, { "\xed\x9f\xbf", 3 },
		{ "\xed\xa0\x80", 0 }, { "\xef\xbf\xbf", 3 },
		{ "\xf0\x80\x80\xaf", 0 }, { "\xf0\x8f\xbf\xbf", 0 },
		{ "\xf0\x90\x80\x80", 4 }, { "\xf4\x8f\xbf\xbf", 4 },
		{ "\xf4\x90\x80\x80", 0 }, { "\xf5\x80\x80\x80", 0 },
		{ "\xe2\x82", 0 }, { "\xe2\x82\x41", 0 }, { "\x80", 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(v); i++)
		ck_assert_msg(utf8_seq_len((const unsigned char *)v[i].s,
		    strlen(v[i].s)) == v[i].len, "case %zu: want %zu", i,
		    v[i].len);
	ck_assert_int_eq(utf8_invalid_at("ok \xe0\x80\xaf", 6), 3);
	ck_assert_int_eq(utf8_invalid_at("ok \xe0\xa0\x80", 6), -1);
}
END_TEST

/* tests/helper-print of the build tree.  Caller frees. */
static char *
check_util_helper(void)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");

	return path_join(b != NULL ? b : ".", "tests/helper-print");
}

/*
 * More than a pipe's worth on stderr before stdout ends: a runner that
 * read stdout to its end before stderr would wait for ever (the child
 * blocked writing stderr); testutil_run reads both as they come.
 */
START_TEST(test_run_large_stderr)
{
	char			*helper = check_util_helper();
	const char		*argv[] = { helper, "-W", "1500000", "-l", "3",
				    "-c", "4", NULL };
	struct testutil_out	 r;
	size_t			 i;

	testutil_run(&r, argv, NULL, NULL, 0);
	ck_assert_int_eq(r.status, 4);
	ck_assert_str_eq(r.out, "line 0\nline 1\nline 2\n");
	ck_assert_uint_eq(r.errlen, 1500000);
	ck_assert_uint_eq(strlen(r.err), 1500000);
	for (i = 0; i < r.errlen; i++)
		ck_assert_int_eq(r.err[i], i % 64 == 63 ? '\n' : 'e');
	testutil_out_free(&r);
	/* Merged: one stream, stderr first (stdout is flushed at exit). */
	testutil_run(&r, argv, NULL, NULL, TESTUTIL_MERGE);
	ck_assert_uint_eq(r.outlen, 1500000 + 21);
	ck_assert_str_eq(r.out + 1500000, "line 0\nline 1\nline 2\n");
	ck_assert_str_eq(r.err, "");
	testutil_out_free(&r);
	free(helper);
}
END_TEST

/* The child's environment and directory. */
START_TEST(test_run_env_cwd)
{
	char			*helper = check_util_helper();
	const char		*argv[] = { helper, "-v", "CHECK_UTIL_A", "-v",
				    "CHECK_UTIL_B", "-d", NULL };
	const char		*env[] = { "CHECK_UTIL_A=one=1", "CHECK_UTIL_B",
				    NULL };
	struct testutil_out	 r;

	setenv("CHECK_UTIL_B", "inherited", 1);
	testutil_run(&r, argv, env, "/", 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "CHECK_UTIL_A=one=1\nCHECK_UTIL_B unset\n"
	    "cwd=/\n");
	testutil_out_free(&r);
	unsetenv("CHECK_UTIL_B");
	free(helper);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("helpers");

	tcase_add_test(tc, test_path_which);
	tcase_add_test(tc, test_xstrndup);
	tcase_add_test(tc, test_str_distance);
	tcase_add_test(tc, test_str_typo_budget);
	tcase_add_test(tc, test_json_get);
	tcase_add_test(tc, test_utf8_seq_len);
	tcase_add_test(tc, test_run_large_stderr);
	tcase_add_test(tc, test_run_env_cwd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(util_suite());
}
