/*
 * migrate.c - apply the numbered SQL migrations compiled into chiffon.
 *
 * Every migration runs in its own transaction holding a transaction-level
 * advisory lock, so several chiffon processes starting at once apply each
 * migration exactly once.  The row in schema_migrations (version, file
 * name, time, SHA-256 of the text computed by the server) is written in the
 * same transaction.  A database that knows a version this binary does not
 * is refused before anything is touched.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "util.h"

/* pg_advisory_xact_lock key: "chiffon migrate" folded into 63 bits. */
#define MIGRATE_LOCK_KEY	"4292781526040811"

/* The schema_migrations table (created before the first migration). */
static const char migrate_table_sql[] =
	"CREATE TABLE schema_migrations ("
	" version integer PRIMARY KEY,"
	" name text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now(),"
	" checksum text NOT NULL)";

/* Run a parameterless command; 0 or -1 with *errp naming what. */
static int
migrate_exec(PGconn *pg, const char *sql, const char *what, char **errp)
{
	PGresult	*res;
	int		 ok;

	res = PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok) {
		set_error(errp, "%s: %s", what, PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/*
 * Begin a transaction and take the migration lock.  NOTICEs are turned
 * off for the transaction: they must not reach the terminal.
 */
static int
migrate_begin(PGconn *pg, char **errp)
{
	if (migrate_exec(pg, "BEGIN", "migrate: BEGIN", errp) != 0)
		return -1;
	if (migrate_exec(pg, "SET LOCAL client_min_messages TO warning",
	    "migrate: SET client_min_messages", errp) != 0) {
		db_rollback(pg);
		return -1;
	}
	if (migrate_exec(pg, "SELECT pg_advisory_xact_lock("
	    MIGRATE_LOCK_KEY ")", "migrate: taking the migration lock",
	    errp) != 0) {
		db_rollback(pg);
		return -1;
	}
	return 0;
}

/*
 * The line (1-based) of the 1-based character position pos in the UTF-8
 * text sql, as the server counts characters.
 */
static int
migrate_line_of(const char *sql, long pos)
{
	const unsigned char	*p = (const unsigned char *)sql;
	long			 chars = 0;
	int			 line = 1;

	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;	/* UTF-8 continuation byte */
		if (++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Trim trailing newlines of a server message (in place). */
static char *
migrate_chomp(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

/*
 * The error of a failed migration statement: "schema/NAME:LINE: message"
 * plus the server's detail, hint and context when it gave them.
 */
static int
migrate_sql_error(const struct migrate_migration *m, PGresult *res,
    PGconn *pg, char **errp)
{
	struct strbuf	 sb = { 0 };
	const char	*primary, *pos, *detail, *hint, *context;
	char		*copy;

	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	context = PQresultErrorField(res, PG_DIAG_CONTEXT);

	strbuf_addf(&sb, "migration schema/%s", m->name);
	if (pos != NULL)
		strbuf_addf(&sb, ":%d", migrate_line_of(m->sql, atol(pos)));
	if (primary != NULL)
		strbuf_addf(&sb, ": %s", primary);
	else {
		copy = xstrdup(PQerrorMessage(pg));
		strbuf_addf(&sb, ": %s", migrate_chomp(copy));
		free(copy);
	}
	if (detail != NULL)
		strbuf_addf(&sb, " (%s)", detail);
	if (hint != NULL)
		strbuf_addf(&sb, " (hint: %s)", hint);
	if (context != NULL) {
		copy = xstrdup(context);
		strbuf_addf(&sb, " (context: %s)", migrate_chomp(copy));
		free(copy);
	}
	strbuf_adds(&sb, "; nothing of this migration was applied");
	set_error(errp, "%s", sb.buf);
	strbuf_free(&sb);
	return -1;
}

/* 1 if schema_migrations exists, 0 if not, -1 on error. */
static int
migrate_have_table(PGconn *pg, char **errp)
{
	PGresult	*res;
	int		 have;

	res = PQexec(pg, "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "migrate: looking for schema_migrations: %s",
		    PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	have = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return have;
}

int
migrate_db_version(PGconn *pg, char **errp)
{
	PGresult	*res;
	int		 have, version;

	if ((have = migrate_have_table(pg, errp)) <= 0)
		return have;
	res = PQexec(pg, "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "migrate: reading schema_migrations: %s",
		    PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return version;
}

int
migrate_latest(void)
{
	if (migrate_nmigrations == 0)
		return 0;
	return migrate_migrations[migrate_nmigrations - 1].version;
}

/*
 * Create schema_migrations if missing and return the applied versions
 * (ascending, *nversions of them; caller frees).
 */
static int
migrate_prepare(PGconn *pg, int **versionsp, int *nversionsp, char **errp)
{
	PGresult	*res;
	int		 have, i, n;

	*versionsp = NULL;
	*nversionsp = 0;
	if (migrate_begin(pg, errp) != 0)
		return -1;
	if ((have = migrate_have_table(pg, errp)) < 0)
		goto fail;
	if (!have && migrate_exec(pg, migrate_table_sql,
	    "migrate: creating schema_migrations", errp) != 0)
		goto fail;
	res = PQexec(pg, "SELECT version FROM schema_migrations "
	    "ORDER BY version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "migrate: reading schema_migrations: %s",
		    PQerrorMessage(pg));
		PQclear(res);
		goto fail;
	}
	n = PQntuples(res);
	*versionsp = xreallocarray(NULL, (size_t)n + 1, sizeof **versionsp);
	for (i = 0; i < n; i++)
		(*versionsp)[i] = atoi(PQgetvalue(res, i, 0));
	*nversionsp = n;
	PQclear(res);
	if (migrate_exec(pg, "COMMIT", "migrate: COMMIT", errp) != 0) {
		free(*versionsp);
		*versionsp = NULL;
		*nversionsp = 0;
		return -1;
	}
	return 0;

fail:
	db_rollback(pg);
	return -1;
}

/* Warn when an applied migration's text differs from the compiled one. */
static int
migrate_check_checksum(PGconn *pg, const struct migrate_migration *m,
    char **errp)
{
	PGresult	*res;
	char		 version[16];
	const char	*params[2];

	snprintf(version, sizeof version, "%d", m->version);
	params[0] = version;
	params[1] = m->sql;
	res = PQexecParams(pg, "SELECT checksum = encode(sha256("
	    "convert_to($2::text, 'UTF8')), 'hex'), checksum "
	    "FROM schema_migrations WHERE version = $1::integer",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "migrate: checking schema/%s: %s", m->name,
		    PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		log_warn("migration schema/%s (version %d) differs from the "
		    "one applied to this database (checksum %.12s...); "
		    "applied migrations are never re-run: put changes in a "
		    "new migration", m->name, m->version,
		    PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

/* Apply one migration in its own transaction.  1 applied, 0 not, -1. */
static int
migrate_one(PGconn *pg, const struct migrate_migration *m, char **errp)
{
	PGresult	*res;
	char		 version[16];
	const char	*params[3];
	int		 done;

	snprintf(version, sizeof version, "%d", m->version);
	if (migrate_begin(pg, errp) != 0)
		return -1;

	/* Another process may have applied it while we waited. */
	params[0] = version;
	res = PQexecParams(pg, "SELECT 1 FROM schema_migrations "
	    "WHERE version = $1::integer", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "migrate: reading schema_migrations: %s",
		    PQerrorMessage(pg));
		PQclear(res);
		db_rollback(pg);
		return -1;
	}
	done = PQntuples(res) > 0;
	PQclear(res);
	if (done) {
		db_rollback(pg);
		return 0;
	}

	res = PQexec(pg, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_EMPTY_QUERY) {
		migrate_sql_error(m, res, pg, errp);
		PQclear(res);
		db_rollback(pg);
		return -1;
	}
	PQclear(res);

	params[1] = m->name;
	params[2] = m->sql;
	res = PQexecParams(pg, "INSERT INTO schema_migrations "
	    "(version, name, checksum) VALUES ($1::integer, $2, "
	    "encode(sha256(convert_to($3::text, 'UTF8')), 'hex'))",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_error(errp, "migrate: recording schema/%s: %s", m->name,
		    PQerrorMessage(pg));
		PQclear(res);
		db_rollback(pg);
		return -1;
	}
	PQclear(res);
	if (migrate_exec(pg, "COMMIT", "migrate: COMMIT", errp) != 0) {
		db_rollback(pg);
		return -1;
	}
	return 1;
}

static int
migrate_has_version(const int *versions, int n, int version)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (versions[i] == version)
			return 1;
	}
	return 0;
}

/*
 * Non-zero when the database holds exactly the migrations of list, each
 * with the checksum of its text: the common start, which then needs no
 * transaction, no lock and no query per migration.  One query sends the
 * texts and the server hashes them as it did when it recorded them.
 * Anything else (a missing table, a migration to apply, a newer
 * database, a differing text, an error) is left to the full path, which
 * says what it finds.
 */
static int
migrate_all_applied(PGconn *pg, const struct migrate_migration *list,
    size_t n)
{
	struct strbuf	  sql = { 0 };
	const char	**params;
	char		(*versions)[16];
	PGresult	 *res;
	size_t		  i;
	int		  ok;

	if (n == 0 || n > 1000)
		return 0;
	/*
	 * Looked up by a scan of the catalog, not by name (to_regclass): a
	 * name not found is remembered by the backend until its next
	 * transaction starts, and the full path's check under the lock would
	 * then miss a table another process has just created.
	 */
	res = PQexec(pg, "SELECT 1 FROM pg_catalog.pg_class c"
	    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE c.relname = 'schema_migrations'"
	    " AND n.nspname = ANY (current_schemas(false))");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
	PQclear(res);
	if (!ok)
		return 0;
	params = xreallocarray(NULL, n * 2, sizeof *params);
	versions = xreallocarray(NULL, n, sizeof *versions);
	strbuf_addf(&sql, "SELECT (SELECT count(*) FROM schema_migrations) ="
	    " %zu AND bool_and(m.checksum IS NOT DISTINCT FROM"
	    " encode(sha256(convert_to(c.sql, 'UTF8')), 'hex'))"
	    " FROM (VALUES ", n);
	for (i = 0; i < n; i++) {
		/* Placeholders only: the values are parameters. */
		strbuf_addf(&sql, "%s($%zu::integer, $%zu::text)", i > 0 ?
		    ", " : "", 2 * i + 1, 2 * i + 2);
		snprintf(versions[i], sizeof versions[i], "%d",
		    list[i].version);
		params[2 * i] = versions[i];
		params[2 * i + 1] = list[i].sql;
	}
	strbuf_adds(&sql, ") c (version, sql)"
	    " LEFT JOIN schema_migrations m USING (version)");
	res = PQexecParams(pg, sql.buf, (int)(n * 2), NULL, params, NULL,
	    NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	strbuf_free(&sql);
	free(params);
	free(versions);
	return ok;
}

/* The body of migrate_apply_list. */
static int
migrate_run(PGconn *pg, const struct migrate_migration *list, size_t n,
    int *napplied, char **errp)
{
	int	*versions, nversions, latest, rc;
	size_t	 i;

	for (i = 1; i < n; i++) {
		if (list[i].version <= list[i - 1].version)
			return set_error(errp, "migrate: schema/%s does not "
			    "follow schema/%s: versions must ascend",
			    list[i].name, list[i - 1].name);
	}
	latest = n > 0 ? list[n - 1].version : 0;
	if (migrate_all_applied(pg, list, n))
		return 0;

	if (migrate_prepare(pg, &versions, &nversions, errp) != 0)
		return -1;
	if (nversions > 0 && versions[nversions - 1] > latest) {
		rc = set_error(errp, "database schema version %d is newer "
		    "than this chiffon (knows up to %d): upgrade chiffon",
		    versions[nversions - 1], latest);
		free(versions);
		return rc;
	}
	for (i = 0; i < n; i++) {
		if (migrate_has_version(versions, nversions,
		    list[i].version)) {
			if (migrate_check_checksum(pg, &list[i], errp) != 0)
				goto fail;
			continue;
		}
		if ((rc = migrate_one(pg, &list[i], errp)) < 0)
			goto fail;
		if (rc > 0 && napplied != NULL)
			(*napplied)++;
	}
	free(versions);
	return 0;

fail:
	free(versions);
	return -1;
}

int
migrate_apply_list(PGconn *pg, const struct migrate_migration *list,
    size_t n, int *napplied, char **errp)
{
	if (napplied != NULL)
		*napplied = 0;
	if (PQstatus(pg) != CONNECTION_OK)
		return set_error(errp, "migrate: not connected to the "
		    "database: %s", PQerrorMessage(pg));
	if (PQtransactionStatus(pg) != PQTRANS_IDLE)
		return set_error(errp, "migrate: the connection is busy "
		    "(inside a transaction or a query)");
	return migrate_run(pg, list, n, napplied, errp);
}

/*
 * SELECT fn(args) when the function fn exists (schemas before it lack
 * it); what names the step for the error.  0, or -1 with *errp.
 */
static int
migrate_call(PGconn *pg, const char *fn, const char *args, const char *what,
    char **errp)
{
	const char	*params[1] = { fn };
	PGresult	*res;
	char		*sql;
	int		 have;

	res = PQexecParams(pg, "SELECT to_regproc($1) IS NOT NULL", 1, NULL,
	    params, NULL, NULL, 0);
	have = PQresultStatus(res) == PGRES_TUPLES_OK &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!have)
		return 0;
	/* fn and args are constants of this file, not data. */
	sql = xasprintf("SELECT %s(%s)", fn, args);
	res = PQexec(pg, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "migrate: %s: %s", what, PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

int
migrate_current(PGconn *pg)
{
	PGresult	*res;
	int		 ok;

	if (!migrate_all_applied(pg, migrate_migrations, migrate_nmigrations))
		return 0;
	res = PQexec(pg, "SELECT chiffon_partitions_ready(now(), 2)");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return ok;
}

int
migrate_apply(PGconn *pg, int *napplied, char **errp)
{
	int	n = 0, rc;

	rc = migrate_apply_list(pg, migrate_migrations, migrate_nmigrations,
	    &n, errp);
	if (napplied != NULL)
		*napplied = n;
	if (rc != 0)
		return -1;
	/* The runtime role's rights on whatever they created (schema 005). */
	if (n > 0 && migrate_call(pg, "chiffon_grant_runtime", "",
	    "granting the runtime role chiffon_runtime its rights", errp) != 0)
		return -1;
	/* Keep a month of partitions ahead of the clock at every start. */
	return migrate_call(pg, "chiffon_ensure_partitions", "now(), 2",
	    "creating this month's partitions of run_output and run_events",
	    errp);
}
