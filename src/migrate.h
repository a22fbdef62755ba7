/*
 * migrate.h - numbered SQL migrations (schema/NNN_name.sql), compiled into
 * the binary so it always knows exactly which schema versions it supports.
 * Each pending migration runs in its own transaction and is recorded in
 * schema_migrations.  A database newer than the binary is refused.
 */
#ifndef CHIFFON_MIGRATE_H
#define CHIFFON_MIGRATE_H

#include <libpq-fe.h>

/* Highest migration version compiled into this binary. */
int	migrate_latest(void);
/*
 * Apply pending migrations.  *napplied (if not NULL) gets the count.
 * Returns -1 with *errp set on failure (the failing migration is rolled
 * back; earlier ones stay) or when the database is newer than the binary.
 */
int	migrate_apply(PGconn *, int *napplied, char **errp);
/*
 * Non-zero when migrate_apply has nothing to do on this database: every
 * migration applied with its text's checksum and this month's and next
 * month's partitions there.  Needs only SELECT (the runtime role's), so
 * a start that finds it true makes no owner connection.
 */
int	migrate_current(PGconn *);
/* Current database version (0 for an empty database), or -1 on error. */
int	migrate_db_version(PGconn *, char **errp);

/*
 * One migration: version is the file name's number, name the file name
 * (for example 1, "001_init.sql"), sql its text.
 */
struct migrate_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

/* The migrations compiled in: src/schema-sql.c, generated from schema/. */
extern const struct migrate_migration	migrate_migrations[];
extern const size_t			migrate_nmigrations;

/*
 * migrate_apply on an explicit list (versions strictly ascending): the
 * runner itself, used by migrate_apply and by the tests.
 */
int	migrate_apply_list(PGconn *, const struct migrate_migration *,
	    size_t n, int *napplied, char **errp);

#endif
