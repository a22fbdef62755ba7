/*
 * pgtest.c - a real throwaway PostgreSQL cluster for integration tests,
 * built with the embedded-cluster code chiffon itself uses (pgembed.c) in
 * a fresh directory under $TMPDIR or /tmp.
 *
 * The directory is mode 0755 so that, when the tests run as root, the
 * server account can reach the cluster inside it.  The cluster is created
 * with initdb --no-sync and runs with fsync off: it is thrown away.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pgembed.h"
#include "pgtest.h"
#include "util.h"

/* One test cluster. */
struct pgtest {
	char		*dir;		/* the mkdtemp directory (DATA) */
	struct pgembed	*pg;
	char		*conninfo;	/* to the "chiffon" database */
};

static int
pgtest_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(stderr, "pgtest: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

/* rm -rf dir, without a shell. */
static void
pgtest_rm(const char *dir)
{
	nftw(dir, pgtest_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct pgtest *
pgtest_start(char **errp)
{
	struct pgtest	*t;
	const char	*tmp = getenv("TMPDIR");
	char		*template;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	template = path_join(tmp, "chiffon-pgtest-XXXXXX");
	if (mkdtemp(template) == NULL) {
		set_error(errp, "mkdtemp %s: %s", template, strerror(errno));
		free(template);
		return NULL;
	}
	if (chmod(template, 0755) != 0) {
		set_error(errp, "chmod %s: %s", template, strerror(errno));
		pgtest_rm(template);
		free(template);
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->dir = template;
	t->pg = pgembed_new(t->dir, getenv("CHIFFON_DB_SERVER_USER"));
	pgembed_set_fast(t->pg, 1);
	if (pgembed_start(t->pg, NULL, errp) != 0) {
		pgtest_stop(t);
		return NULL;
	}
	t->conninfo = pgembed_conninfo(t->pg, PGEMBED_DBNAME);
	return t;
}

char *
pgtest_new_db(struct pgtest *t, const char *dbname, char **errp)
{
	if (pgembed_create_db(t->pg, dbname, errp) != 0)
		return NULL;
	return pgembed_conninfo(t->pg, dbname);
}

char *
pgtest_conninfo_user(struct pgtest *t, const char *dbname, const char *user)
{
	return pgembed_conninfo_user(t->pg, dbname, user);
}

const char *
pgtest_conninfo(struct pgtest *t)
{
	return t->conninfo;
}

const char *
pgtest_dir(struct pgtest *t)
{
	return t->dir;
}

struct pgembed *
pgtest_pgembed(struct pgtest *t)
{
	return t->pg;
}

/* Stop the server; a failure is reported, the directory goes anyway. */
static void
pgtest_halt(struct pgembed *pg)
{
	char	*err = NULL;

	if (pgembed_stop(pg, NULL, &err) != 0)
		fprintf(stderr, "pgtest: %s\n", err);
	free(err);
}

void
pgtest_stop(struct pgtest *t)
{
	if (t == NULL)
		return;
	pgtest_halt(t->pg);
	pgtest_rm(t->dir);
	pgembed_free(t->pg);
	free(t->conninfo);
	free(t->dir);
	free(t);
}
