/*
 * testutil.h - what several suites share: the throwaway cluster
 * (pgtest.h) as an unchecked fixture, new databases on it, scratch
 * directories and their removal, and the HEAD commit of a git repository
 * (libgit2).  Every helper fails the test (ck_assert) on an error.
 */
#ifndef CHIFFON_TESTUTIL_H
#define CHIFFON_TESTUTIL_H

#include <sys/types.h>

#include <check.h>
#include <libpq-fe.h>

struct conf;
struct pgtest;

/*
 * Every suite's main(): run s (libgit2 initialised around it) and return
 * EXIT_SUCCESS when no test failed.  Set the log level before, when the
 * suite wants one (tests/testmain.c; no database needed).
 */
int		 testutil_main(Suite *s);

/* What testutil_run read from a program. */
struct testutil_out {
	char	*out;		/* stdout (and stderr, merged), never NULL */
	size_t	 outlen;
	char	*err;		/* stderr ("" when merged), never NULL */
	size_t	 errlen;
	int	 status;	/* exit status, -1 when it did not exit */
};

/* testutil_run: stderr goes into out as it comes. */
#define TESTUTIL_MERGE	0x1

/*
 * Run argv[0] (a path, or a name looked up in PATH) with argv in its own
 * process group, stdin /dev/null, in cwd (NULL: this directory), with
 * env ("NAME=VALUE" to set, "NAME" to unset; NULL-terminated, may be
 * NULL) applied in the child.  One poll loop reads stdout and stderr
 * together until both end, so neither can fill up and block the child.
 * Fails the test when it cannot start.  Free *o with testutil_out_free.
 */
void		 testutil_run(struct testutil_out *o, const char *const *argv,
		    const char *const *env, const char *cwd, int flags);
void		 testutil_out_free(struct testutil_out *);

/*
 * Unchecked fixtures (tests fork): start the suite's cluster once in the
 * parent, or stop it.  When it does not start, testutil_cluster_start
 * says why on stderr and leaves testutil_cluster() NULL for the tests to
 * fail on; testutil_cluster_need says why and exits 1.
 */
void		 testutil_cluster_start(void);
void		 testutil_cluster_need(void);
void		 testutil_cluster_stop(void);
struct pgtest	*testutil_cluster(void);

/*
 * A connection to a new database name on the cluster, migrated when
 * migrate is non-zero; *conninfop (unless NULL) gets its conninfo
 * (caller frees).
 */
PGconn		*testutil_db(const char *name, int migrate, char **conninfop);

/*
 * A fresh directory $TMPDIR/chiffon-TAG-XXXXXX (else under /tmp), mode
 * 0755 so that the server account gets in.  Caller frees.
 */
char		*testutil_tmpdir(const char *tag);
/* conf_set from "test"; fails the test when the value is refused. */
void		 testutil_conf_set(struct conf *, const char *key,
		    const char *value);
/* SIGKILL and reap every pid > 0 of pids[n], setting each to 0. */
void		 testutil_reap(pid_t *pids, size_t n);

/* Remove dir and everything below it. */
void		 testutil_rm(const char *dir);

/* The number of commits reachable from HEAD (0: unborn). */
int		 testutil_ncommits(const char *repo_path);
/*
 * HEAD's commit: *msgp its message, *authorp "name <email>", *blobp the
 * content at path (NULL if path is NULL or absent), *modep its file mode,
 * *idp the commit id.  Any pointer but blobp may be NULL.  Caller frees.
 */
void		 testutil_head(const char *repo_path, const char *path,
		    char **msgp, char **authorp, char **blobp, int *modep,
		    char **idp);

#endif
