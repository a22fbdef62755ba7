/*
 * check_gittrail.c - the git trail on real repositories through libgit2:
 * a repository created on first use, entries committed with the right
 * author and message, the work tree and index left in line with HEAD,
 * changes the user staged neither committed nor lost, an existing
 * directory that is not a repository refused untouched, bare
 * repositories, and changes to the Ansible repository committed with a
 * Chiffon-Task trailer.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "gittrail.h"
#include "testutil.h"
#include "util.h"

/* A scratch directory, removed and freed by check_rm. */
static char *
check_tmpdir(void)
{
	return testutil_tmpdir("ckgit");
}

static void
check_rm(char *dir)
{
	testutil_rm(dir);
	free(dir);
}

static void
check_write(const char *dir, const char *rel, const char *text, int mode)
{
	char	*path = path_join(dir, rel), *slash;
	FILE	*f;

	slash = strrchr(path, '/');
	*slash = '\0';
	ck_assert_int_eq(mkdir_p(path, 0755), 0);
	*slash = '/';
	ck_assert((f = fopen(path, "w")) != NULL);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, (mode_t)mode), 0);
	free(path);
}

/*
 * The status of the work tree: "X path" lines, X = 'A' staged new, 'M'
 * modified (staged or not), '?' untracked, 'D' deleted.  Caller frees.
 */
static char *
check_status(const char *repo_path)
{
	git_repository		*repo;
	git_status_list		*list;
	git_status_options	 opts;
	const git_status_entry	*e;
	struct strbuf		 sb = { 0 };
	const char		*path;
	size_t			 i;
	char			 x;

	ck_assert_int_eq(git_status_options_init(&opts,
	    GIT_STATUS_OPTIONS_VERSION), 0);
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
	    GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	ck_assert_int_eq(git_repository_open(&repo, repo_path), 0);
	ck_assert_int_eq(git_status_list_new(&list, repo, &opts), 0);
	for (i = 0; i < git_status_list_entrycount(list); i++) {
		e = git_status_byindex(list, i);
		x = e->status & GIT_STATUS_INDEX_NEW ? 'A' :
		    e->status & (GIT_STATUS_INDEX_MODIFIED |
		    GIT_STATUS_WT_MODIFIED) ? 'M' :
		    e->status & (GIT_STATUS_INDEX_DELETED |
		    GIT_STATUS_WT_DELETED) ? 'D' :
		    e->status & GIT_STATUS_WT_NEW ? '?' : '!';
		path = e->head_to_index != NULL ?
		    e->head_to_index->new_file.path :
		    e->index_to_workdir->new_file.path;
		strbuf_addf(&sb, "%c %s\n", x, path);
	}
	git_status_list_free(list);
	git_repository_free(repo);
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

START_TEST(test_first_use)
{
	char	*dir = check_tmpdir(), *repo, *err = NULL, *commit, *msg;
	char	*author, *blob, *st, host[256], *want, *path;
	int	 rc;

	repo = path_join(dir, "data/audit");
	rc = gittrail_commit_task(repo, 17, "succeeded", "{\"task\": 17}\n",
	    "alice", NULL, &commit, &err);
	ck_assert_msg(rc == 1, "%s", err);
	ck_assert_int_eq(strlen(commit), 40);
	ck_assert_int_eq(testutil_ncommits(repo), 1);
	testutil_head(repo, ".audit/tasks/17.json", &msg, &author, &blob, NULL, NULL);
	ck_assert_str_eq(msg, "audit: task 17 succeeded\n");
	ck_assert_int_eq(gethostname(host, sizeof host), 0);
	want = xasprintf("alice <alice@%s>", host);
	ck_assert_str_eq(author, want);
	ck_assert_str_eq(blob, "{\"task\": 17}\n");
	/* The work tree and the index agree with HEAD. */
	path = path_join(repo, ".audit/tasks/17.json");
	free(blob);
	blob = read_file(path, NULL);
	ck_assert_str_eq(blob, "{\"task\": 17}\n");
	st = check_status(repo);
	ck_assert_str_eq(st, "");
	free(st);
	free(msg);
	free(author);
	free(blob);
	free(want);
	free(commit);

	/* A name holding an address is the email too. */
	ck_assert_int_eq(gittrail_commit_task(repo, 18, "failed", "{}\n",
	    "bob@192.0.2.9", NULL, NULL, &err), 1);
	testutil_head(repo, ".audit/tasks/18.json", &msg, &author, &blob, NULL, NULL);
	ck_assert_str_eq(msg, "audit: task 18 failed\n");
	ck_assert_str_eq(author, "bob <bob@192.0.2.9>");
	free(msg);
	free(author);
	free(blob);
	/* An explicit email wins; odd characters do not break git. */
	ck_assert_int_eq(gittrail_commit_task(repo, 18, "failed", "{\"x\":1}\n",
	    "Eve <x>", "eve@example.org", NULL, &err), 1);
	testutil_head(repo, ".audit/tasks/18.json", &msg, &author, &blob, NULL, NULL);
	ck_assert_str_eq(author, "Eve _x_ <eve@example.org>");
	ck_assert_int_eq(testutil_ncommits(repo), 3);
	free(msg);
	free(author);
	free(blob);
	free(path);
	free(repo);
	check_rm(dir);
}
END_TEST

START_TEST(test_not_a_repository)
{
	char		*dir = check_tmpdir(), *err = NULL, *git;
	struct stat	 st;

	check_write(dir, "playbook.yml", "- hosts: all\n", 0644);
	ck_assert_int_eq(gittrail_commit_task(dir, 1, "succeeded", "{}\n",
	    "alice", NULL, NULL, &err), -1);
	ck_assert_msg(strstr(err, "is not a git repository") != NULL &&
	    strstr(err, dir) != NULL, "%s", err);
	free(err);
	git = path_join(dir, ".git");
	ck_assert_int_eq(stat(git, &st), -1);
	free(git);
	/* A file in the way. */
	git = path_join(dir, "playbook.yml");
	ck_assert_int_eq(gittrail_commit_task(git, 1, "succeeded", "{}\n",
	    "alice", NULL, NULL, &err), -1);
	ck_assert_msg(strstr(err, "not a directory") != NULL, "%s", err);
	free(err);
	free(git);
	check_rm(dir);
}
END_TEST

START_TEST(test_staged_changes_kept)
{
	char		*dir = check_tmpdir(), *err = NULL, *st, *blob;
	git_repository	*repo;
	git_index	*idx;

	/* The audit repo is the Ansible repo, with work in progress. */
	ck_assert_int_eq(gittrail_commit_task(dir, 1, "succeeded", "{}\n",
	    "alice", NULL, NULL, &err), 1);
	check_write(dir, "site.yml", "- hosts: all\n", 0644);
	check_write(dir, "notes.txt", "untracked\n", 0644);
	ck_assert_int_eq(git_repository_open(&repo, dir), 0);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "site.yml"), 0);
	ck_assert_int_eq(git_index_write(idx), 0);
	git_index_free(idx);
	git_repository_free(repo);

	ck_assert_int_eq(gittrail_commit_task(dir, 2, "failed", "{}\n",
	    "alice", NULL, NULL, &err), 1);
	testutil_head(dir, "site.yml", NULL, NULL, &blob, NULL, NULL);
	ck_assert_ptr_null(blob);
	testutil_head(dir, ".audit/tasks/2.json", NULL, NULL, &blob, NULL, NULL);
	ck_assert_str_eq(blob, "{}\n");
	free(blob);
	st = check_status(dir);
	ck_assert_str_eq(st, "? notes.txt\nA site.yml\n");
	free(st);
	check_rm(dir);
}
END_TEST

START_TEST(test_bare)
{
	char		*dir = check_tmpdir(), *err = NULL, *blob, *msg;
	git_repository	*repo;

	ck_assert_int_eq(git_repository_init(&repo, dir, 1), 0);
	git_repository_free(repo);
	ck_assert_int_eq(gittrail_commit_task(dir, 5, "canceled",
	    "{\"id\": 5}\n", "alice", NULL, NULL, &err), 1);
	ck_assert_int_eq(gittrail_commit_task(dir, 5, "canceled",
	    "{\"id\": 5}\n", "alice", NULL, NULL, &err), 0);
	testutil_head(dir, ".audit/tasks/5.json", &msg, NULL, &blob, NULL, NULL);
	ck_assert_str_eq(msg, "audit: task 5 canceled\n");
	ck_assert_str_eq(blob, "{\"id\": 5}\n");
	ck_assert_int_eq(testutil_ncommits(dir), 1);
	free(msg);
	free(blob);
	check_rm(dir);
}
END_TEST

START_TEST(test_repo_change_trailer)
{
	char		*dir = check_tmpdir(), *err = NULL, *msg, *blob, *st;
	char		*author, *c1 = NULL;
	git_repository	*repo;
	int		 mode = 0;

	ck_assert_int_eq(git_repository_init(&repo, dir, 0), 0);
	git_repository_free(repo);
	check_write(dir, "roles/web/tasks/main.yml", "- name: install\n",
	    0644);
	check_write(dir, "roles/web/defaults/main.yml", "port: 8080\n", 0644);
	check_write(dir, "bin/check.sh", "#!/bin/sh\nexit 0\n", 0755);
	check_write(dir, "untouched.yml", "- hosts: x\n", 0644);
	ck_assert_int_eq(gittrail_commit_repo_change(dir,
	    (const char *[]){ "roles/web", "bin/check.sh", NULL },
	    "Generate role web\n", 42, "alice", NULL, &c1, &err), 1);
	ck_assert_ptr_nonnull(c1);
	testutil_head(dir, "roles/web/defaults/main.yml", &msg, &author, &blob,
	    NULL, NULL);
	ck_assert_str_eq(msg, "Generate role web\n\nChiffon-Task: 42\n");
	ck_assert_str_eq(blob, "port: 8080\n");
	free(blob);
	free(msg);
	free(author);
	testutil_head(dir, "bin/check.sh", NULL, NULL, &blob, &mode, NULL);
	ck_assert_int_eq(mode, GIT_FILEMODE_BLOB_EXECUTABLE);
	free(blob);
	testutil_head(dir, "untouched.yml", NULL, NULL, &blob, NULL, NULL);
	ck_assert_ptr_null(blob);
	st = check_status(dir);
	ck_assert_str_eq(st, "? untouched.yml\n");
	free(st);

	/* Nothing changed: no commit. */
	ck_assert_int_eq(gittrail_commit_repo_change(dir,
	    (const char *[]){ "roles/web", NULL }, "again", 43, "alice", NULL,
	    NULL, &err), 0);
	ck_assert_int_eq(testutil_ncommits(dir), 1);

	/* A removed file is removed from the tree. */
	check_write(dir, "roles/web/defaults/main.yml", "port: 9090\n", 0644);
	blob = path_join(dir, "bin/check.sh");
	ck_assert_int_eq(unlink(blob), 0);
	free(blob);
	ck_assert_int_eq(gittrail_commit_repo_change(dir,
	    (const char *[]){ "roles/web", "bin/check.sh", NULL },
	    "Apply suggestion: port", 44, NULL, NULL, NULL, &err), 1);
	testutil_head(dir, "bin/check.sh", &msg, NULL, &blob, NULL, NULL);
	ck_assert_ptr_null(blob);
	ck_assert_str_eq(msg, "Apply suggestion: port\n\nChiffon-Task: 44\n");
	free(msg);
	testutil_head(dir, "roles/web/defaults/main.yml", NULL, NULL, &blob,
	    NULL, NULL);
	ck_assert_str_eq(blob, "port: 9090\n");
	free(blob);
	ck_assert_int_eq(testutil_ncommits(dir), 2);
	st = check_status(dir);
	ck_assert_str_eq(st, "? untouched.yml\n");
	free(st);

	/* Paths outside the repository are refused. */
	ck_assert_int_eq(gittrail_commit_repo_change(dir,
	    (const char *[]){ "../etc/passwd", NULL }, "x", 1, NULL, NULL,
	    NULL, &err), -1);
	ck_assert_msg(strstr(err, "relative") != NULL, "%s", err);
	free(err);
	free(c1);
	check_rm(dir);
}
END_TEST

static Suite *
check_suite(void)
{
	Suite	*s = suite_create("gittrail");
	TCase	*tc = tcase_create("gittrail");

	tcase_add_test(tc, test_first_use);
	tcase_add_test(tc, test_not_a_repository);
	tcase_add_test(tc, test_staged_changes_kept);
	tcase_add_test(tc, test_bare);
	tcase_add_test(tc, test_repo_change_trailer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_suite());
}
