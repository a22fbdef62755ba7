/*
 * orchtest.h - what the orchestrator's suites share: a struct app on a
 * fresh database of the suite's throwaway cluster (testutil.h), migrated
 * by the owner and used as the runtime role, with the build tree's
 * infra plugin loaded and the demo homelab (contrib/homelab) as the
 * Ansible repository, its hosts rooted in a private directory; and small
 * query helpers that fail the test on a database error.
 */
#ifndef CHIFFON_ORCHTEST_H
#define CHIFFON_ORCHTEST_H

#include <libpq-fe.h>

struct app;
struct plan;

/* What orchtest_start set up. */
struct orchtest {
	struct app	*app;
	char		*conninfo;	/* of the test database, as the
					   runtime role (chiffon_runtime) */
	char		*owner_conninfo; /* the same as the owner */
	PGconn		*owner;		/* connected as the owner */
	char		*tmp;		/* private directory, removed at stop */
	char		*demo_root;	/* CHIFFON_DEMO_ROOT (under tmp) */
	char		*repo;		/* contrib/homelab in the source tree */
	char		*plugin_dir;	/* the build tree's infra plugin */
};

/* $CHIFFON_SRCDIR, else "..".  $CHIFFON_BUILDDIR, else ".". */
const char	*orchtest_srcdir(void);
const char	*orchtest_builddir(void);

/*
 * A new database "PREFIX<pid>" on the suite's cluster (testutil.h:
 * testutil_cluster_start), an app on it with the infra plugin and the
 * demo homelab.  Fails the test (ck_abort) when anything is missing.
 * Free with orchtest_stop.
 */
void		 orchtest_start(struct orchtest *, const char *prefix);
/* The same with another repository (relative to the source tree). */
void		 orchtest_start_repo(struct orchtest *, const char *prefix,
		    const char *repo);
void		 orchtest_stop(struct orchtest *);
/* The app's connection (the runtime role, as chiffon runs). */
PGconn		*orchtest_pg(struct orchtest *);
/* A connection as the owner of the tables (migrations ran as it). */
PGconn		*orchtest_owner_pg(struct orchtest *);
/* request_plan for text from the command line; fails the test on error. */
struct plan	*orchtest_plan(struct orchtest *, const char *text);

/* One value of a one-row query (NULL for SQL NULL).  Caller frees. */
char		*orchtest_str(PGconn *, const char *sql, int n,
		    const char *const *params);
long long	 orchtest_int(PGconn *, const char *sql, int n,
		    const char *const *params);
/* Run sql; 0 on success, -1 with *errp (caller frees) when refused. */
int		 orchtest_try(PGconn *, const char *sql, int n,
		    const char *const *params, char **errp);

#endif
