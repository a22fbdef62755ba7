/*
 * testutil.c - helpers several suites share (see testutil.h).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <libpq-fe.h>

#include "conf.h"
#include "migrate.h"
#include "pgtest.h"
#include "testutil.h"
#include "util.h"

/* The suite's cluster: started once in the parent process. */
static struct pgtest	*testutil_pg;

/* Start the cluster; on failure say why as "program: why". */
static int
testutil_cluster_try(void)
{
	const char	*prog = program_invocation_short_name;
	char		*err = NULL;

	if (strncmp(prog, "lt-", 3) == 0)
		prog += 3;
	if ((testutil_pg = pgtest_start(&err)) != NULL)
		return 0;
	fprintf(stderr, "%s: %s\n", prog, err);
	free(err);
	return -1;
}

void
testutil_cluster_start(void)
{
	testutil_cluster_try();
}

void
testutil_cluster_need(void)
{
	if (testutil_cluster_try() != 0)
		exit(1);
}

void
testutil_cluster_stop(void)
{
	if (testutil_pg != NULL)
		pgtest_stop(testutil_pg);
	testutil_pg = NULL;
}

struct pgtest *
testutil_cluster(void)
{
	return testutil_pg;
}

PGconn *
testutil_db(const char *name, int migrate, char **conninfop)
{
	char	*err = NULL, *ci;
	PGconn	*pg;
	int	 n;

	ck_assert_msg(testutil_pg != NULL, "no test cluster");
	ci = pgtest_new_db(testutil_pg, name, &err);
	ck_assert_msg(ci != NULL, "pgtest_new_db: %s", err);
	pg = PQconnectdb(ci);
	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "connect: %s",
	    PQerrorMessage(pg));
	if (migrate)
		ck_assert_msg(migrate_apply(pg, &n, &err) == 0, "migrate: %s",
		    err);
	if (conninfop != NULL)
		*conninfop = ci;
	else
		free(ci);
	return pg;
}

char *
testutil_tmpdir(const char *tag)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	dir = xasprintf("%s/chiffon-%s-XXXXXX", tmp, tag);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir,
	    strerror(errno));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	return dir;
}

static int
testutil_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
testutil_rm(const char *dir)
{
	nftw(dir, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
testutil_ncommits(const char *repo_path)
{
	git_repository	*repo;
	git_revwalk	*walk;
	git_oid		 oid;
	int		 n = 0;

	ck_assert_int_eq(git_repository_open(&repo, repo_path), 0);
	ck_assert_int_eq(git_revwalk_new(&walk, repo), 0);
	if (git_revwalk_push_head(walk) == 0)
		while (git_revwalk_next(&oid, walk) == 0)
			n++;
	git_revwalk_free(walk);
	git_repository_free(repo);
	return n;
}

void
testutil_head(const char *repo_path, const char *path, char **msgp,
    char **authorp, char **blobp, int *modep, char **idp)
{
	git_repository		*repo;
	git_commit		*c;
	git_tree		*tree;
	git_tree_entry		*e;
	git_blob		*blob;
	git_oid			 oid;
	const git_signature	*a;
	char			 hex[GIT_OID_HEXSZ + 1];

	ck_assert_int_eq(git_repository_open(&repo, repo_path), 0);
	ck_assert_int_eq(git_reference_name_to_id(&oid, repo, "HEAD"), 0);
	ck_assert_int_eq(git_commit_lookup(&c, repo, &oid), 0);
	if (idp != NULL)
		*idp = xstrdup(git_oid_tostr(hex, sizeof hex, &oid));
	if (msgp != NULL)
		*msgp = xstrdup(git_commit_message(c));
	if (authorp != NULL) {
		a = git_commit_author(c);
		*authorp = xasprintf("%s <%s>", a->name, a->email);
	}
	*blobp = NULL;
	ck_assert_int_eq(git_commit_tree(&tree, c), 0);
	if (path != NULL && git_tree_entry_bypath(&e, tree, path) == 0) {
		ck_assert_int_eq(git_blob_lookup(&blob, repo,
		    git_tree_entry_id(e)), 0);
		*blobp = xstrndup(git_blob_rawcontent(blob),
		    (size_t)git_blob_rawsize(blob));
		if (modep != NULL)
			*modep = (int)git_tree_entry_filemode(e);
		git_blob_free(blob);
		git_tree_entry_free(e);
	}
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
}

void
testutil_conf_set(struct conf *conf, const char *key, const char *value)
{
	char	*err = NULL;

	ck_assert_msg(conf_set(conf, key, value, "test", &err) == 0,
	    "%s = %s: %s", key, value, err);
}

void
testutil_reap(pid_t *pids, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
		pids[i] = 0;
	}
}

/* The child of testutil_run: never returns. */
static void __attribute__((noreturn))
testutil_run_child(const char *const *argv, const char *const *env,
    const char *cwd, int out, int err)
{
	const char	*eq;
	char		*name;
	int		 fd;

	setpgid(0, 0);
	if (cwd != NULL && chdir(cwd) != 0)
		_exit(126);
	if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	for (; env != NULL && *env != NULL; env++) {
		if ((eq = strchr(*env, '=')) == NULL) {
			unsetenv(*env);
			continue;
		}
		name = xstrndup(*env, (size_t)(eq - *env));
		setenv(name, eq + 1, 1);
		free(name);
	}
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

void
testutil_run(struct testutil_out *o, const char *const *argv,
    const char *const *env, const char *cwd, int flags)
{
	struct strbuf	 sb[2] = { { 0 }, { 0 } };
	struct pollfd	 pfd[2];
	char		 buf[65536];
	ssize_t		 n;
	int		 po[2], pe[2], ws, i, open_fds;
	pid_t		 pid;

	memset(o, 0, sizeof *o);
	ck_assert(pipe(po) == 0);
	ck_assert(pipe(pe) == 0);
	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(po[0]);
		close(pe[0]);
		testutil_run_child(argv, env, cwd, po[1],
		    (flags & TESTUTIL_MERGE) ? po[1] : pe[1]);
	}
	close(po[1]);
	close(pe[1]);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	for (open_fds = 2; open_fds > 0; ) {
		if (poll(pfd, 2, -1) < 0) {
			ck_assert_msg(errno == EINTR, "poll: %s",
			    strerror(errno));
			continue;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if ((n = read(pfd[i].fd, buf, sizeof buf)) > 0) {
				strbuf_add(&sb[i], buf, (size_t)n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			open_fds--;
		}
	}
	ck_assert(waitpid(pid, &ws, 0) == pid);
	o->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	o->outlen = sb[0].len;
	o->out = strbuf_detach(&sb[0]);
	o->errlen = sb[1].len;
	o->err = strbuf_detach(&sb[1]);
}

void
testutil_out_free(struct testutil_out *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof *o);
}
