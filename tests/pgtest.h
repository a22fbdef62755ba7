/*
 * pgtest.h - a real throwaway PostgreSQL cluster for integration tests.
 *
 * pgtest_start() creates a cluster in a fresh directory under $TMPDIR (or
 * /tmp) with chiffon's own embedded-cluster code (src/pgembed.c), starts
 * it on a unix socket only, and creates an empty database.  As root, the
 * server runs as the unprivileged account the embedded code uses.
 * pgtest_stop() stops the server and removes the directory.
 */
#ifndef CHIFFON_PGTEST_H
#define CHIFFON_PGTEST_H

#include <libpq-fe.h>

struct pgtest;

/* NULL with *errp set on failure.  Caller stops it. */
struct pgtest	*pgtest_start(char **errp);
/* A libpq connection string for a new, empty database named dbname. */
char		*pgtest_new_db(struct pgtest *, const char *dbname, char **errp);
/* The same as user (the runtime role: PGEMBED_RUNTIME_USER).  Caller frees. */
char		*pgtest_conninfo_user(struct pgtest *, const char *dbname,
		    const char *user);
/* Connection string for the cluster's default database. */
const char	*pgtest_conninfo(struct pgtest *);
/* The cluster's data directory (the CHIFFON_DATA_DIR used). */
const char	*pgtest_dir(struct pgtest *);
void		 pgtest_stop(struct pgtest *);
/* The cluster's handle (pgembed.h), to stop and start its server. */
struct pgembed	*pgtest_pgembed(struct pgtest *);

#endif
