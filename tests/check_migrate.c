/*
 * check_migrate.c - the migration runner and the rules the first migration
 * puts into the database (task state machine, approval gate, append-only
 * hash-chained audit log, partitions), against a real throwaway cluster.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "dispatch.h"
#include "log.h"
#include "migrate.h"
#include "pgtest.h"
#include "testutil.h"
#include "util.h"

static void
check_notice(void *arg, const char *message)
{
}

/* A connection to a new empty database. */
static PGconn *
check_db(const char *name)
{
	PGconn	*pg = testutil_db(name, 0, NULL);

	PQsetNoticeProcessor(pg, check_notice, NULL);
	return pg;
}

/* A migrated database. */
static PGconn *
check_migrated_db(const char *name)
{
	PGconn	*pg = check_db(name);
	char	*err = NULL;
	int	 n;

	ck_assert_msg(migrate_apply(pg, &n, &err) == 0, "migrate: %s", err);
	return pg;
}

/* Run SQL that must succeed; return the first value (caller frees). */
static char *
check_value(PGconn *pg, const char *sql)
{
	PGresult	*res = PQexec(pg, sql);
	char		*v = NULL;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQerrorMessage(pg));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = xstrdup(PQgetisnull(res, 0, 0) ? "NULL" :
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
check_ok(PGconn *pg, const char *sql)
{
	free(check_value(pg, sql));
}

/* SQL that must fail; returns the error (caller frees). */
static char *
check_refused(PGconn *pg, const char *sql)
{
	PGresult	*res = PQexec(pg, sql);
	char		*e;

	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR,
	    "not refused: %s", sql);
	e = xstrdup(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	PQclear(res);
	return e;
}

/* All rows of the first column joined by newlines (caller frees). */
static char *
check_rows(PGconn *pg, const char *sql)
{
	PGresult	*res = PQexec(pg, sql);
	struct strbuf	 sb = { 0 };
	int		 i;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(pg));
	for (i = 0; i < PQntuples(res); i++) {
		strbuf_adds(&sb, PQgetvalue(res, i, 0));
		strbuf_addc(&sb, '\n');
	}
	PQclear(res);
	return strbuf_detach(&sb);
}

static void
check_value_is(PGconn *pg, const char *sql, const char *want)
{
	char	*v = check_value(pg, sql);

	ck_assert_msg(v != NULL && strcmp(v, want) == 0,
	    "%s: got '%s', want '%s'", sql, v != NULL ? v : "(no row)", want);
	free(v);
}

START_TEST(test_fresh_and_rerun)
{
	PGconn		*pg = check_db("fresh");
	char		*err = NULL, *sql;
	int		 n = -1;
	static const char *tables[] = { "schema_migrations", "requests",
	    "plans", "approvals", "tasks", "task_transitions", "work_queue",
	    "runs", "run_output", "run_events", "agents", "agent_metrics",
	    "routing_decisions", "llm_calls", "playbooks",
	    "playbook_mappings", "playbook_suggestions", "audit_log",
	    "audit_git" };
	size_t		 i;
	char		 nmig[16];

	ck_assert_int_ge(migrate_latest(), 1);
	/* Versions may have gaps: count the migrations, not the latest. */
	snprintf(nmig, sizeof nmig, "%zu", migrate_nmigrations);
	ck_assert_int_eq(migrate_db_version(pg, &err), 0);
	ck_assert_int_eq(migrate_apply(pg, &n, &err), 0);
	ck_assert_int_eq(n, (int)migrate_nmigrations);
	ck_assert_int_eq(migrate_db_version(pg, &err), migrate_latest());
	for (i = 0; i < nitems(tables); i++) {
		sql = xasprintf("SELECT to_regclass('%s') IS NOT NULL",
		    tables[i]);
		check_value_is(pg, sql, "t");
		free(sql);
	}
	/* Versions may have gaps (numbers are handed out per branch). */
	snprintf(nmig, sizeof nmig, "%zu", (size_t)migrate_nmigrations);
	sql = xasprintf("SELECT count(*) FROM schema_migrations WHERE "
	    "checksum ~ '^[0-9a-f]{64}$' AND name ~ '^[0-9]+_.*\\.sql$'");
	check_value_is(pg, sql, nmig);
	free(sql);
	/* This month's and next month's partitions exist. */
	check_value_is(pg, "SELECT count(*) FROM pg_inherits i JOIN pg_class "
	    "p ON p.oid = i.inhparent WHERE p.relname = 'run_output_chunks'", "3");

	/* Re-running is a no-op. */
	n = -1;
	ck_assert_int_eq(migrate_apply(pg, &n, &err), 0);
	ck_assert_int_eq(n, 0);
	check_value_is(pg, "SELECT count(*) FROM schema_migrations", nmig);
	check_value_is(pg, "SELECT chiffon_ensure_partitions(now(), 2)", "0");
	PQfinish(pg);
}
END_TEST

START_TEST(test_newer_refused)
{
	PGconn	*pg = check_migrated_db("newer");
	char	*err = NULL, *want, *sql;
	int	 n = -1;

	sql = xasprintf("INSERT INTO schema_migrations (version, name, "
	    "checksum) VALUES (%d, '999_future.sql', 'x')",
	    migrate_latest() + 1);
	check_ok(pg, sql);
	free(sql);
	ck_assert_int_eq(migrate_apply(pg, &n, &err), -1);
	want = xasprintf("database schema version %d is newer than this "
	    "chiffon (knows up to %d): upgrade chiffon", migrate_latest() + 1,
	    migrate_latest());
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(n, 0);
	free(want);
	free(err);
	PQfinish(pg);
}
END_TEST

static const struct migrate_migration check_good[] = {
	{ 1, "001_a.sql", "CREATE TABLE a (x integer);\n" },
	{ 2, "002_b.sql", "CREATE TABLE b (x integer);\n"
	    "INSERT INTO b VALUES (1);\n" },
	{ 3, "003_c.sql", "CREATE TABLE c (x integer);\n" },
};

static const struct migrate_migration check_bad[] = {
	{ 1, "001_a.sql", "CREATE TABLE a (x integer);\n" },
	{ 2, "002_b.sql", "CREATE TABLE b (x integer);\n"
	    "INSERT INTO b VALUES (1);\n"
	    "SELEC 1;\n" },
	{ 3, "003_c.sql", "CREATE TABLE c (x integer);\n" },
};

START_TEST(test_failure_rolls_back_only_itself)
{
	PGconn	*pg = check_db("failing");
	char	*err = NULL;
	int	 n = -1;

	ck_assert_int_eq(migrate_apply_list(pg, check_bad, 3, &n, &err), -1);
	ck_assert_int_eq(n, 1);
	ck_assert_msg(strstr(err, "schema/002_b.sql:3: syntax error at or "
	    "near \"SELEC\"") != NULL, "error: %s", err);
	free(err);
	err = NULL;
	check_value_is(pg, "SELECT to_regclass('a') IS NOT NULL", "t");
	check_value_is(pg, "SELECT to_regclass('b') IS NULL", "t");
	check_value_is(pg, "SELECT to_regclass('c') IS NULL", "t");
	ck_assert_int_eq(migrate_db_version(pg, &err), 1);
	/* The connection is usable and the fixed list applies the rest. */
	ck_assert_int_eq(migrate_apply_list(pg, check_good, 3, &n, &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(migrate_db_version(pg, &err), 3);
	check_value_is(pg, "SELECT count(*) FROM b", "1");
	PQfinish(pg);
}
END_TEST

static char	*check_logged;

static void
check_log_sink(int level, const char *who, const char *msg, void *data)
{
	if (level == CHIFFON_LOG_WARNING && check_logged == NULL)
		check_logged = xstrdup(msg);
}

START_TEST(test_checksum_warning_and_order)
{
	PGconn				*pg = check_db("checksum");
	struct migrate_migration	 changed[3];
	char				*err = NULL;
	int				 n = -1;

	ck_assert_int_eq(migrate_apply_list(pg, check_good, 3, &n, &err), 0);
	memcpy(changed, check_good, sizeof changed);
	changed[1].sql = "CREATE TABLE b (x bigint);\n";
	log_set_sink(check_log_sink, NULL);
	ck_assert_int_eq(migrate_apply_list(pg, changed, 3, &n, &err), 0);
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(check_logged != NULL && strstr(check_logged,
	    "schema/002_b.sql (version 2) differs") != NULL, "warning: %s",
	    check_logged != NULL ? check_logged : "(none)");
	free(check_logged);
	check_logged = NULL;

	/* A list out of order is refused before anything is done. */
	changed[0] = check_good[1];
	changed[1] = check_good[0];
	ck_assert_int_eq(migrate_apply_list(pg, changed, 2, &n, &err), -1);
	ck_assert_msg(strstr(err, "versions must ascend") != NULL, "%s", err);
	free(err);
	PQfinish(pg);
}
END_TEST

START_TEST(test_concurrent_migrate)
{
	char	*err = NULL, *conninfo;
	PGconn	*pg;
	pid_t	 pid;
	int	 status, n = -1, i;
	char	 nmig[16];

	conninfo = pgtest_new_db(testutil_cluster(), "concurrent", &err);
	ck_assert_msg(conninfo != NULL, "pgtest_new_db: %s", err);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pg = PQconnectdb(conninfo);
		_exit(PQstatus(pg) == CONNECTION_OK &&
		    migrate_apply(pg, &n, &err) == 0 ? 0 : 1);
	}
	pg = PQconnectdb(conninfo);
	ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
	i = migrate_apply(pg, &n, &err);
	ck_assert_msg(i == 0, "migrate: %s", err);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the concurrent migrator failed");
	snprintf(nmig, sizeof nmig, "%zu", migrate_nmigrations);
	check_value_is(pg, "SELECT count(*) FROM schema_migrations", nmig);
	free(conninfo);
	PQfinish(pg);
}
END_TEST

/* A request and plan (row id 1) with an approval, for the task tests. */
static void
check_plan(PGconn *pg, int approve)
{
	check_ok(pg, "INSERT INTO requests (actor, text) VALUES "
	    "('alice', 'deploy kuma')");
	check_ok(pg, "INSERT INTO plans (request_id, created_by, summary) "
	    "VALUES (1, 'alice', 'deploy Uptime Kuma')");
	check_value_is(pg, "SELECT plan_id FROM plans WHERE id = 1", "1");
	if (approve)
		check_ok(pg, "INSERT INTO approvals (plan_id, approved_by, "
		    "ssh_client) VALUES (1, 'alice', '192.0.2.1')");
}

/* Paths from pending_approval to each state. */
static const struct {
	const char	*state;
	const char	*path[5];
} check_paths[] = {
	{ "pending_approval", { NULL } },
	{ "approved", { "approved", NULL } },
	{ "queued", { "approved", "queued", NULL } },
	{ "running", { "approved", "queued", "running", NULL } },
	{ "succeeded", { "approved", "queued", "running", "succeeded" } },
	{ "failed", { "approved", "queued", "running", "failed" } },
	{ "canceled", { "approved", "canceled", NULL } },
	{ "timed_out", { "approved", "queued", "running", "timed_out" } },
	{ "paused", { "paused", NULL } },
	{ "rejected", { "rejected", NULL } },
	{ "superseded", { "superseded", NULL } },
};

/* The legal transitions, as the orchestrator issue states them. */
static const char *check_legal[] = {
	"pending_approval>approved", "pending_approval>rejected",
	"pending_approval>superseded", "pending_approval>paused",
	"approved>queued", "approved>superseded", "approved>canceled",
	"approved>paused", "queued>running", "queued>canceled",
	"queued>paused", "running>succeeded", "running>failed",
	"running>canceled", "running>timed_out", "running>queued",
	"running>paused", "paused>queued", "paused>approved",
	"paused>canceled",
	/* schema 005: a task refused at its claim fails from queued */
	"queued>failed",
};

START_TEST(test_task_state_machine)
{
	PGconn		*pg = check_migrated_db("states");
	PGresult	*res;
	char		*sql, *e, *pair, *id;
	size_t		 from, to, i, j, legal, step = 0, nlegal = 0;

	check_plan(pg, 1);
	for (from = 0; from < nitems(check_paths); from++) {
		for (to = 0; to < nitems(check_paths); to++) {
			if (from == to)
				continue;
			sql = xasprintf("INSERT INTO tasks (plan_id, step, "
			    "action) VALUES (1, %zu, 'deploy') RETURNING id",
			    ++step);
			id = check_value(pg, sql);
			free(sql);
			for (i = 0; i < 5 && check_paths[from].path[i] != NULL;
			    i++) {
				sql = xasprintf("UPDATE tasks SET status = '%s' "
				    "WHERE id = %s", check_paths[from].path[i],
				    id);
				check_ok(pg, sql);
				free(sql);
			}
			pair = xasprintf("%s>%s", check_paths[from].state,
			    check_paths[to].state);
			legal = 0;
			for (j = 0; j < nitems(check_legal); j++)
				legal |= strcmp(pair, check_legal[j]) == 0;
			sql = xasprintf("UPDATE tasks SET status = '%s' "
			    "WHERE id = %s", check_paths[to].state, id);
			res = PQexec(pg, sql);
			if (legal) {
				ck_assert_msg(PQresultStatus(res) ==
				    PGRES_COMMAND_OK, "%s refused: %s", pair,
				    PQerrorMessage(pg));
				nlegal++;
			} else
				ck_assert_msg(PQresultStatus(res) ==
				    PGRES_FATAL_ERROR, "%s allowed", pair);
			PQclear(res);
			free(sql);
			free(pair);
			free(id);
		}
	}
	ck_assert_int_eq(nlegal, nitems(check_legal));

	/* A finished task cannot be touched at all. */
	check_value_is(pg, "SELECT count(*) FROM tasks WHERE status = "
	    "'succeeded' AND finished_at IS NOT NULL AND started_at IS NOT "
	    "NULL", "11");
	e = check_refused(pg, "UPDATE tasks SET status_reason = 'x' "
	    "WHERE status = 'succeeded'");
	ck_assert_msg(strstr(e, "final state") != NULL, "%s", e);
	free(e);
	PQfinish(pg);
}
END_TEST

/*
 * The one list of task states in C (dispatch.c) is the schema's: the
 * same names as the tasks.status CHECK constraint, and final exactly
 * where chiffon_task_terminal() says so.
 */
START_TEST(test_task_states_match_schema)
{
	PGconn		*pg = check_db("states");
	const char	*params[1];
	char		*err = NULL, *got, *line;
	PGresult	*res;
	size_t		 i, n;
	int		 final;

	ck_assert_int_eq(migrate_apply(pg, NULL, &err), 0);
	got = check_rows(pg, "SELECT m[1] FROM pg_constraint c, "
	    "regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', "
	    "'g') m WHERE c.conname = 'tasks_status_check' ORDER BY 1");
	for (i = 0; i < dispatch_ntask_states; i++) {
		params[0] = dispatch_task_states[i];
		res = PQexecParams(pg, "SELECT chiffon_task_terminal($1)", 1,
		    NULL, params, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		final = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		ck_assert_msg(final == (dispatch_task_final(params[0]) != 0),
		    "%s: final in C %d, in the schema %d", params[0],
		    dispatch_task_final(params[0]), final);
		PQclear(res);
		line = xasprintf("%s\n", dispatch_task_states[i]);
		ck_assert_msg(strstr(got, line) != NULL, "state %s is not in "
		    "tasks_status_check:\n%s", dispatch_task_states[i], got);
		free(line);
	}
	/* As many states in the constraint as in C: no state missing. */
	for (n = 0, line = got; (line = strchr(line, '\n')) != NULL; line++)
		n++;
	ck_assert_uint_eq(n, dispatch_ntask_states);
	free(got);
	PQfinish(pg);
}
END_TEST

START_TEST(test_approval_gate)
{
	PGconn	*pg = check_migrated_db("gate");
	char	*e;

	check_plan(pg, 0);
	/* A task cannot be born past the gate. */
	e = check_refused(pg, "INSERT INTO tasks (plan_id, step, action, "
	    "status) VALUES (1, 1, 'deploy', 'queued')");
	ck_assert_msg(strstr(e, "must be pending_approval") != NULL, "%s", e);
	free(e);
	check_ok(pg, "INSERT INTO tasks (plan_id, step, action) VALUES "
	    "(1, 1, 'deploy')");
	/* Nor skip it, nor be approved without an approval row. */
	e = check_refused(pg, "UPDATE tasks SET status = 'queued'");
	ck_assert_msg(strstr(e, "illegal transition pending_approval -> "
	    "queued") != NULL, "%s", e);
	free(e);
	e = check_refused(pg, "UPDATE tasks SET status = 'approved'");
	ck_assert_msg(strstr(e, "has no approval row") != NULL, "%s", e);
	free(e);
	/* Nor be queued for work. */
	e = check_refused(pg, "INSERT INTO work_queue (task_id, capability) "
	    "VALUES (1, 'ansible')");
	ck_assert_msg(strstr(e, "only approved tasks") != NULL, "%s", e);
	free(e);
	/* A rejection is not an approval. */
	e = check_refused(pg, "INSERT INTO approvals (plan_id, approved_by, "
	    "decision) VALUES (1, 'bob', 'rejected')");
	free(e);
	check_ok(pg, "INSERT INTO approvals (plan_id, approved_by, decision, "
	    "reason) VALUES (1, 'bob', 'rejected', 'not today')");
	free(check_refused(pg, "UPDATE tasks SET status = 'approved'"));

	/* Version 2 supersedes version 1: approving version 1 is refused. */
	check_ok(pg, "INSERT INTO plans (plan_id, version, request_id, "
	    "created_by, summary) VALUES (1, 2, 1, 'alice', 'amended')");
	check_ok(pg, "UPDATE plans SET status = 'superseded', "
	    "superseded_by = 2 WHERE id = 1");
	e = check_refused(pg, "INSERT INTO approvals (plan_id, approved_by) "
	    "VALUES (1, 'alice')");
	ck_assert_msg(strstr(e, "is superseded") != NULL, "%s", e);
	free(e);
	e = check_refused(pg, "UPDATE plans SET status = 'approved', "
	    "superseded_by = NULL WHERE id = 1");
	free(e);
	e = check_refused(pg, "UPDATE approvals SET decision = 'approved'");
	ck_assert_msg(strstr(e, "append-only") != NULL, "%s", e);
	free(e);

	/* The current version goes through the gate. */
	check_ok(pg, "INSERT INTO tasks (plan_id, step, action) VALUES "
	    "(2, 1, 'deploy')");
	check_ok(pg, "INSERT INTO approvals (plan_id, approved_by) "
	    "VALUES (2, 'alice')");
	check_ok(pg, "UPDATE tasks SET status = 'approved' WHERE plan_id = 2");
	check_ok(pg, "INSERT INTO work_queue (task_id, capability) "
	    "SELECT id, capability FROM tasks WHERE plan_id = 2");
	check_value_is(pg, "SELECT max_attempts FROM work_queue", "3");

	/* An approval row on version 2 does not approve version 1's task. */
	e = check_refused(pg, "UPDATE tasks SET status = 'approved' "
	    "WHERE plan_id = 1");
	ck_assert_msg(strstr(e, "superseded") != NULL, "%s", e);
	free(e);
	PQfinish(pg);
}
END_TEST

START_TEST(test_audit_log)
{
	PGconn	*pg = check_migrated_db("audit");
	char	*e;

	check_ok(pg, "INSERT INTO audit_log (actor, kind, data) VALUES "
	    "('alice', 'request', '{\"text\": \"deploy kuma\"}')");
	check_ok(pg, "INSERT INTO audit_log (actor, kind, service) VALUES "
	    "('alice', 'plan', 'kuma'), ('bob', 'approval', 'kuma')");
	check_ok(pg, "INSERT INTO audit_log (id, actor, kind) VALUES "
	    "(1000, 'mallory', 'forged id')");
	check_value_is(pg, "SELECT string_agg(id::text, ',' ORDER BY id) "
	    "FROM audit_log", "1,2,3,4");
	check_value_is(pg, "SELECT count(*) FROM audit_log WHERE "
	    "hash ~ '^[0-9a-f]{64}$' AND hash = chiffon_audit_hash(audit_log)",
	    "4");
	check_value_is(pg, "SELECT prev_hash IS NULL FROM audit_log "
	    "WHERE id = 1", "t");
	check_value_is(pg, "SELECT count(*) FROM audit_log a JOIN audit_log p "
	    "ON p.id = a.id - 1 WHERE a.prev_hash = p.hash", "3");
	/* The hash covers the content: same content, other actor differs. */
	check_value_is(pg, "SELECT count(DISTINCT hash) FROM audit_log", "4");

	e = check_refused(pg, "UPDATE audit_log SET actor = 'mallory'");
	ck_assert_msg(strstr(e, "append-only") != NULL, "%s", e);
	free(e);
	e = check_refused(pg, "DELETE FROM audit_log WHERE id = 2");
	ck_assert_msg(strstr(e, "append-only") != NULL, "%s", e);
	free(e);
	e = check_refused(pg, "TRUNCATE audit_log");
	ck_assert_msg(strstr(e, "append-only") != NULL, "%s", e);
	free(e);

	/* A row changed behind the triggers' back no longer verifies. */
	check_ok(pg, "ALTER TABLE audit_log DISABLE TRIGGER "
	    "audit_log_append_only");
	check_ok(pg, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2");
	check_value_is(pg, "SELECT min(id) FROM audit_log "
	    "WHERE hash <> chiffon_audit_hash(audit_log)", "2");
	PQfinish(pg);
}
END_TEST

/* A new database migrated up to (not including) schema version. */
static PGconn *
check_db_before(const char *name, int version)
{
	PGconn	*pg = check_db(name);
	char	*err = NULL;
	size_t	 k = 0;
	int	 n;

	while (k < migrate_nmigrations &&
	    migrate_migrations[k].version < version)
		k++;
	ck_assert_int_lt(k, migrate_nmigrations);
	ck_assert_int_eq(migrate_migrations[k].version, version);
	ck_assert_msg(migrate_apply_list(pg, migrate_migrations, k, &n,
	    &err) == 0, "migrate to before %d: %s", version, err);
	return pg;
}

START_TEST(test_partitions_and_runs)
{
	PGconn	*pg = check_migrated_db("partitions");
	char	*e;

	/* A row of a month without a partition lands in the default one and
	 * moves when that month's partition is created. */
	check_ok(pg, "INSERT INTO run_output (run_id, seq, run_started_at, "
	    "stream, at, line) VALUES (1, 1, '2031-05-02 10:00+00', 1, now(), "
	    "'x')");
	check_value_is(pg, "SELECT tableoid::regclass::text FROM run_output_chunks",
	    "run_output_chunks_default");
	check_value_is(pg, "SELECT chiffon_ensure_partitions("
	    "'2031-05-20 00:00+00', 1)", "2");
	check_value_is(pg, "SELECT tableoid::regclass::text FROM run_output_chunks",
	    "run_output_chunks_p2031_05");
	/* (run_id, seq) is unique because a run lives in one partition. */
	e = check_refused(pg, "INSERT INTO run_output (run_id, seq, "
	    "run_started_at, stream, at, line) VALUES (1, 1, "
	    "'2031-05-02 10:00+00', 1, now(), 'again')");
	free(e);
	/* Retention drops whole months: first the current and next ones
	 * (2 x 2), then 2031-05 once it has ended. */
	check_value_is(pg, "SELECT count(*) FROM chiffon_drop_partitions("
	    "'2031-05-31 00:00+00')", "4");
	check_value_is(pg, "SELECT count(*) FROM run_output", "1");
	check_value_is(pg, "SELECT count(*) FROM chiffon_drop_partitions("
	    "'2031-06-01 00:00+00')", "2");
	check_value_is(pg, "SELECT count(*) FROM run_output", "0");
	check_value_is(pg, "SELECT string_agg(c.relname, ',') FROM "
	    "pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN "
	    "pg_class p ON p.oid = i.inhparent WHERE p.relname = "
	    "'run_output_chunks'", "run_output_chunks_default");

	/* A finished run is immutable. */
	check_ok(pg, "INSERT INTO runs (kind) VALUES ('test')");
	check_ok(pg, "UPDATE runs SET status = 'successful', exit_code = 0, "
	    "finished_at = now()");
	e = check_refused(pg, "UPDATE runs SET status = 'failed'");
	ck_assert_msg(strstr(e, "is finished") != NULL, "%s", e);
	free(e);
	free(check_refused(pg, "DELETE FROM runs"));
	free(check_refused(pg, "INSERT INTO runs (kind, status) VALUES "
	    "('test', 'bogus')"));
	PQfinish(pg);
}
END_TEST

/*
 * Schema 015: the digest a run's writer sets as it closes the running run
 * is kept when as many rows as its lines are stored; with a row missing
 * the server takes the digest (and the row count) from the rows.
 */
START_TEST(test_writer_digest)
{
	PGconn	*pg = check_migrated_db("writerdigest");

	check_ok(pg, "INSERT INTO runs (id, kind) OVERRIDING SYSTEM VALUE "
	    "VALUES (1, 'test'), (2, 'test')");
	check_ok(pg, "INSERT INTO run_output (run_id, seq, run_started_at, "
	    "stream, at, line) SELECT r.id, s, r.started_at, 1, now(), 'x' "
	    "FROM runs r, generate_series(1, 2) s");
	check_ok(pg, "UPDATE runs SET status = 'successful', lines = 2, "
	    "finished_at = now(), "
	    "output_sha256 = 'the writer''s' WHERE id = 1");
	check_value_is(pg, "SELECT output_sha256 || ' ' || output_rows FROM "
	    "runs WHERE id = 1", "the writer's 2");
	check_ok(pg, "UPDATE runs SET status = 'successful', lines = 3, "
	    "finished_at = now(), "
	    "output_sha256 = 'the writer''s' WHERE id = 2");
	check_value_is(pg, "SELECT (output_sha256 = "
	    "chiffon_run_output_digest(2)) || ' ' || output_rows FROM runs "
	    "WHERE id = 2", "true 2");
	PQfinish(pg);
}
END_TEST

/*
 * Schema 011: suggestions stored twice before it are collapsed into the
 * oldest row; afterwards the key (playbook, content hash, rule, file,
 * line) refuses a second copy.
 */
START_TEST(test_suggestions_once)
{
	PGconn	*pg = check_db_before("suggestions_once", 11);
	char	*err = NULL, *e;
	int	 n;

	check_ok(pg, "INSERT INTO playbook_suggestions (playbook, category, "
	    "rule, severity, reason, file, line) SELECT 'a.yml', "
	    "'standards', 'name[missing]', 'minor', 'r' || g, 'a.yml', 3 "
	    "FROM generate_series(1, 3) g");
	check_ok(pg, "INSERT INTO playbook_suggestions (playbook, category, "
	    "rule, severity, reason, file, line) VALUES ('a.yml', "
	    "'standards', 'name[missing]', 'minor', 'other line', 'a.yml', 4), "
	    "('a.yml', 'standards', 'yaml', 'minor', 'no line', NULL, NULL), "
	    "('a.yml', 'standards', 'yaml', 'minor', 'no line', NULL, NULL)");
	ck_assert_msg(migrate_apply(pg, &n, &err) == 0, "migrate: %s", err);
	check_value_is(pg, "SELECT string_agg(reason, ',' ORDER BY id) FROM "
	    "playbook_suggestions", "r1,other line,no line");
	e = check_refused(pg, "INSERT INTO playbook_suggestions (playbook, "
	    "category, rule, severity, reason, file, line) VALUES ('a.yml', "
	    "'standards', 'name[missing]', 'minor', 'again', 'a.yml', 3)");
	ck_assert_msg(strstr(e, "playbook_suggestions_once_idx") != NULL,
	    "%s", e);
	free(e);
	/* Another content of the playbook is another key. */
	check_ok(pg, "INSERT INTO playbook_suggestions (playbook, category, "
	    "rule, severity, reason, file, line, playbook_sha256) VALUES "
	    "('a.yml', 'standards', 'name[missing]', 'minor', 'new', 'a.yml', "
	    "3, repeat('0', 64))");
	PQfinish(pg);
}
END_TEST

/*
 * Schema 016: lines stored one a row before it are moved into chunks of
 * consecutive lines (at most 1,000; a gap ends one), unchanged: the view
 * shows the same rows and the digests taken before still match.  Then
 * chiffon_output_store (a spool's lines) stores only the lines not
 * stored yet, once, in chunks; chiffon_run_lines pages them.
 */
START_TEST(test_output_chunks)
{
	PGconn	*pg = check_db_before("output_chunks", 16);
	char	*err = NULL, *before, *after, *e;
	int	 n;

	check_ok(pg, "INSERT INTO runs (id, kind) OVERRIDING SYSTEM VALUE "
	    "VALUES (1, 'test'), (2, 'test')");
	/* Run 1: 2,500 lines, 1,201-1,210 missing; run 2: 3 lines. */
	check_ok(pg, "INSERT INTO run_output (run_id, seq, run_started_at, "
	    "stream, at, line) SELECT r.id, s, r.started_at, 1 + s % 2, "
	    "r.started_at + s * interval '1 ms', 'line ' || s || E'\tof ' || "
	    "r.id FROM runs r, generate_series(1, 2500) s WHERE (r.id = 1 "
	    "AND s NOT BETWEEN 1201 AND 1210) OR s <= 3");
	check_ok(pg, "UPDATE runs SET status = 'successful', lines = "
	    "CASE id WHEN 1 THEN 2490 ELSE 3 END, finished_at = now()");
	before = check_rows(pg, "SELECT run_id, seq, stream, at, line, "
	    "run_started_at FROM run_output ORDER BY run_id, seq");
	ck_assert_msg(migrate_apply(pg, &n, &err) == 0, "migrate: %s", err);
	after = check_rows(pg, "SELECT run_id, seq, stream, at, line, "
	    "run_started_at FROM run_output ORDER BY run_id, seq");
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	check_value_is(pg, "SELECT string_agg(run_id || ':' || seq || '+' || "
	    "n, ' ' ORDER BY run_id, seq) FROM run_output_chunks",
	    "1:1+1000 1:1001+200 1:1211+1000 1:2211+290 2:1+3");
	check_value_is(pg, "SELECT count(*) FROM runs WHERE output_sha256 = "
	    "chiffon_run_output_digest(id) AND output_rows = lines", "2");
	check_value_is(pg, "SELECT chiffon_run_lines_stored(id, started_at) "
	    "FROM runs WHERE id = 1", "2490");

	/* A spool holding lines already stored, one twice, and new ones. */
	check_ok(pg, "INSERT INTO runs (id, kind) OVERRIDING SYSTEM VALUE "
	    "VALUES (3, 'test')");
	check_ok(pg, "INSERT INTO run_output (run_id, seq, run_started_at, "
	    "stream, at, line) SELECT 3, s, r.started_at, 1, now(), 'x' || s "
	    "FROM runs r, generate_series(1, 5) s WHERE r.id = 3");
	check_ok(pg, "CREATE TEMP TABLE sp (LIKE run_output)");
	check_ok(pg, "INSERT INTO sp SELECT 3, s, r.started_at, 1, now(), "
	    "'x' || s FROM runs r, generate_series(4, 1507) s WHERE r.id = 3 "
	    "UNION ALL SELECT 3, 9, r.started_at, 1, now(), 'x9' FROM runs r "
	    "WHERE r.id = 3");
	check_value_is(pg, "SELECT chiffon_output_store('sp')", "1502");
	check_value_is(pg, "SELECT string_agg(seq || '+' || n, ' ' ORDER BY "
	    "seq) FROM run_output_chunks WHERE run_id = 3",
	    "1+1 2+1 3+1 4+1 5+1 6+1000 1006+502");
	check_value_is(pg, "SELECT count(*) || ' ' || count(DISTINCT seq) || "
	    "' ' || max(seq) FROM run_output WHERE run_id = 3",
	    "1507 1507 1507");
	check_value_is(pg, "SELECT chiffon_output_store('sp')", "0");

	/* Pages and searches by the chunks, across the gap of run 1. */
	check_value_is(pg, "SELECT string_agg(seq::text, ',') FROM "
	    "chiffon_run_lines(1, NULL, 1198, NULL, 4, NULL, false)",
	    "1199,1200,1211,1212");
	check_value_is(pg, "SELECT string_agg(seq::text, ',') FROM "
	    "chiffon_run_lines(1, NULL, 1213, NULL, 4, NULL, true)",
	    "1212,1211,1200,1199");
	check_value_is(pg, "SELECT string_agg(seq::text, ',') FROM "
	    "chiffon_run_lines(1, NULL, 0, 2000, 3, ARRAY['line 7', "
	    "'line 1999'], false)", "7,70,71");
	check_value_is(pg, "SELECT string_agg(seq::text, ',') FROM "
	    "chiffon_run_lines(1, NULL, 2500, 2000, 2, ARRAY['line 7', "
	    "'line 1999'], true)", "1999,799");
	check_value_is(pg, "SELECT count(*) FROM chiffon_run_lines(1, NULL, "
	    "0, NULL, 100000, NULL, false)", "2490");
	check_value_is(pg, "SELECT count(*) FROM chiffon_run_lines(99, NULL, "
	    "0, NULL, 10, NULL, false)", "0");
	/* Lines are added, never changed; a chunk holds 1 to 1,000. */
	e = check_refused(pg, "INSERT INTO run_output_chunks SELECT 3, 2000, "
	    "r.started_at, 2, '{1}', ARRAY[now()], '{x}' FROM runs r WHERE "
	    "r.id = 3");
	free(e);
	e = check_refused(pg, "INSERT INTO run_output (run_id, seq, "
	    "run_started_at, stream, at, line) SELECT 3, 1006, r.started_at, "
	    "1, now(), 'again' FROM runs r WHERE r.id = 3");
	free(e);
	PQfinish(pg);
}
END_TEST

/*
 * migrate_current: true on a migrated database; false with next month's
 * partition missing (migrate_apply makes it again) or a migration row
 * missing, and on an empty database.  A start that finds it true makes
 * no owner connection (db.c).
 */
START_TEST(test_current)
{
	PGconn	*pg = check_db("current");
	char	*err = NULL, *part, *sql;
	int	 n;

	ck_assert_int_eq(migrate_current(pg), 0);
	ck_assert_msg(migrate_apply(pg, &n, &err) == 0, "migrate: %s", err);
	ck_assert_int_ne(migrate_current(pg), 0);
	part = check_value(pg, "SELECT 'run_events_p' || to_char("
	    "date_trunc('month', now() AT TIME ZONE 'UTC') + "
	    "interval '1 month', 'YYYY_MM')");
	sql = xasprintf("DROP TABLE %s", part);
	check_ok(pg, sql);
	free(sql);
	ck_assert_int_eq(migrate_current(pg), 0);
	ck_assert_msg(migrate_apply(pg, &n, &err) == 0, "migrate: %s", err);
	ck_assert_int_ne(migrate_current(pg), 0);
	check_ok(pg, "DELETE FROM schema_migrations WHERE version = 16");
	ck_assert_int_eq(migrate_current(pg), 0);
	free(part);
	PQfinish(pg);
}
END_TEST

START_TEST(test_indexes_used)
{
	PGconn	*pg = check_migrated_db("indexes");
	char	*plan;

	check_ok(pg, "SET enable_seqscan = off");
	plan = check_rows(pg, "EXPLAIN SELECT id FROM tasks WHERE status IN "
	    "('failed', 'timed_out') AND finished_at > now() - "
	    "interval '7 days' ORDER BY finished_at DESC, id DESC LIMIT 50");
	ck_assert_msg(strstr(plan, "tasks_failures_idx") != NULL, "%s", plan);
	free(plan);
	plan = check_rows(pg, "EXPLAIN SELECT id FROM tasks WHERE "
	    "service = 'kuma' ORDER BY created_at DESC, id DESC LIMIT 50");
	ck_assert_msg(strstr(plan, "tasks_service_idx") != NULL, "%s", plan);
	free(plan);
	PQfinish(pg);
}
END_TEST

static Suite *
check_suite(void)
{
	Suite	*s = suite_create("migrate");
	TCase	*tc = tcase_create("migrate");

	tcase_add_unchecked_fixture(tc, testutil_cluster_need,
	    testutil_cluster_stop);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fresh_and_rerun);
	tcase_add_test(tc, test_newer_refused);
	tcase_add_test(tc, test_failure_rolls_back_only_itself);
	tcase_add_test(tc, test_checksum_warning_and_order);
	tcase_add_test(tc, test_concurrent_migrate);
	tcase_add_test(tc, test_task_state_machine);
	tcase_add_test(tc, test_task_states_match_schema);
	tcase_add_test(tc, test_approval_gate);
	tcase_add_test(tc, test_audit_log);
	tcase_add_test(tc, test_partitions_and_runs);
	tcase_add_test(tc, test_writer_digest);
	tcase_add_test(tc, test_output_chunks);
	tcase_add_test(tc, test_current);
	tcase_add_test(tc, test_indexes_used);
	tcase_add_test(tc, test_suggestions_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_suite());
}
