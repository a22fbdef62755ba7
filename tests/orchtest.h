/*
 * orchtest.h - what the orchestrator's suites share: a struct app on a
 * fresh database of a throwaway cluster (pgtest.h) with the build tree's
 * infra plugin loaded and the demo homelab (contrib/homelab) as the
 * Ansible repository, its hosts rooted in a private directory; and small
 * query helpers that fail the test on a database error.
 */
#ifndef CHIFFON_ORCHTEST_H
#define CHIFFON_ORCHTEST_H

#include <libpq-fe.h>

struct app;
struct pgtest;

/* What orchtest_start set up. */
struct orchtest {
	struct app	*app;
	char		*conninfo;	/* of the test database */
	char		*tmp;		/* private directory, removed at stop */
	char		*demo_root;	/* CHIFFON_DEMO_ROOT (under tmp) */
	char		*repo;		/* contrib/homelab in the source tree */
	char		*plugin_dir;	/* the build tree's infra plugin */
};

/* $CHIFFON_SRCDIR, else "..".  $CHIFFON_BUILDDIR, else ".". */
const char	*orchtest_srcdir(void);
const char	*orchtest_builddir(void);

/*
 * A new database dbname on cluster, an app on it with the infra plugin
 * and the demo homelab.  Fails the test (ck_abort) when anything is
 * missing.  Free with orchtest_stop.
 */
void		 orchtest_start(struct orchtest *, struct pgtest *,
		    const char *dbname);
void		 orchtest_stop(struct orchtest *);
/* The app's connection. */
PGconn		*orchtest_pg(struct orchtest *);

/* One value of a one-row query (NULL for SQL NULL).  Caller frees. */
char		*orchtest_str(PGconn *, const char *sql, int n,
		    const char *const *params);
long long	 orchtest_int(PGconn *, const char *sql, int n,
		    const char *const *params);
/* Run sql; 0 on success, -1 with *errp (caller frees) when refused. */
int		 orchtest_try(PGconn *, const char *sql, int n,
		    const char *const *params, char **errp);

#endif
