/*
 * check_audit.c - the audit trail against a real throwaway PostgreSQL
 * cluster (tests/pgtest.c) and real git repositories (libgit2): rows and
 * actors, the hash chain (intact, then broken at the right row by a
 * superuser who disabled the triggers), UPDATE/DELETE refused, the end of
 * a task (audit row, git entry, resources), the task queries and their
 * indexes (EXPLAIN), output replay in pages, retention, and the chiffon
 * binary's `audit`, `audit verify` and `show --output`.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "audit-query.h"
#include "gittrail.h"
#include "migrate.h"
#include "pgtest.h"
#include "sha256.h"
#include "testutil.h"
#include "util.h"

/*
 * Run sql with up to 4 parameters (NULL-terminated list); it must succeed.
 * Returns the first value of the first row (caller frees), NULL when no
 * row or SQL NULL.
 */
static char *
check_sql(PGconn *pg, const char *sql, ...)
{
	const char	*params[4];
	PGresult	*res;
	va_list		 ap;
	char		*v = NULL;
	int		 n = 0;

	va_start(ap, sql);
	while (n < 4 && (params[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

#define check_do(pg, ...) free(check_sql(pg, __VA_ARGS__))

static void
check_is(PGconn *pg, const char *want, const char *sql, const char *p1)
{
	char	*v = check_sql(pg, sql, p1, NULL);

	ck_assert_msg(v != NULL && strcmp(v, want) == 0,
	    "%s [%s]: got '%s', want '%s'", sql, p1 != NULL ? p1 : "",
	    v != NULL ? v : "NULL", want);
	free(v);
}

/* sql must fail; returns the error message (caller frees). */
static char *
check_refused(PGconn *pg, const char *sql)
{
	PGresult	*res = PQexec(pg, sql);
	char		*e;

	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR,
	    "%s: not refused", sql);
	e = xstrdup(PQresultErrorMessage(res));
	PQclear(res);
	return e;
}

static long long
check_ll(char *v)
{
	long long	n;

	ck_assert_msg(v != NULL, "no value");
	n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

/* What a finished task is made of. */
struct check_task {
	const char	*requester;
	const char	*approver;
	const char	*service;
	const char	*action;
	const char	*status;	/* final: succeeded, failed... */
	long		 lines;		/* output lines of its run */
	const char	*created_ago;	/* interval text, or NULL: now */
};

/*
 * Walk one task through the state machine to its final status, the way
 * the orchestrator does: request, plan, approval, routing, a run with
 * its output, final status with resource usage.  Returns the task id.
 */
static long long
check_make_task(PGconn *pg, const struct check_task *t)
{
	char		 req[32], plan[32], task[32], run[32], lines[32], *s;
	char		*started, *text;
	const char	*ago = t->created_ago != NULL ? t->created_ago : "0";
	const char	*run_status;

	text = xasprintf("%s %s on the homelab", t->action, t->service);
	snprintf(req, sizeof req, "%lld", check_ll(check_sql(pg,
	    "INSERT INTO requests (actor, ssh_client, text, parser_tier, "
	    "created_at) VALUES ($1, '192.0.2.7', $2, 'deterministic', "
	    "now() - $3::interval) RETURNING id", t->requester, text, ago,
	    NULL)));
	free(text);
	snprintf(plan, sizeof plan, "%lld", check_ll(check_sql(pg,
	    "INSERT INTO plans (request_id, created_by, summary, created_at) "
	    "VALUES ($1, $2, $3, now() - $4::interval) RETURNING id", req,
	    t->requester, "one step", ago)));
	snprintf(task, sizeof task, "%lld", check_ll(check_sql(pg,
	    "INSERT INTO tasks (plan_id, step, action, service, playbook, "
	    "targets, match_method, match_confidence, created_at) VALUES "
	    "($1, 1, $2, $3, $3 || '-deploy.yml', 'homelab', 'exact', 1, "
	    "now() - $4::interval) RETURNING id", plan, t->action, t->service,
	    ago)));
	check_do(pg, "INSERT INTO approvals (plan_id, approved_by, ssh_client) "
	    "VALUES ($1, $2, '192.0.2.7')", plan, t->approver, NULL);
	check_do(pg, "UPDATE plans SET status = 'approved' WHERE id = $1",
	    plan, NULL);
	check_do(pg, "UPDATE tasks SET status = 'approved' WHERE id = $1",
	    task, NULL);
	check_do(pg, "UPDATE tasks SET status = 'queued' WHERE id = $1", task,
	    NULL);
	check_do(pg, "INSERT INTO routing_decisions (task_id, capability, "
	    "chosen_agent, reason) VALUES ($1, 'ansible', 'local', "
	    "'in-process worker')", task, NULL);
	check_do(pg, "UPDATE tasks SET status = 'running' WHERE id = $1",
	    task, NULL);
	s = check_sql(pg, "INSERT INTO runs (task_id, kind, attempt, agent) "
	    "VALUES ($1, 'ansible-playbook', 1, 'local') "
	    "RETURNING id || ' ' || started_at::text", task, NULL);
	ck_assert(s != NULL);
	snprintf(run, sizeof run, "%.*s", (int)strcspn(s, " "), s);
	started = xstrdup(s + strcspn(s, " ") + 1);
	free(s);
	snprintf(lines, sizeof lines, "%ld", t->lines);
	check_do(pg, "INSERT INTO run_output (run_id, seq, run_started_at, "
	    "stream, at, line) SELECT $1::bigint, g, $2::timestamptz, 1, "
	    "now(), "
	    "'TASK [line ' || g || '] ok: ünïcødé \\ \t' FROM "
	    "generate_series(1, $3::bigint) g", run, started, lines, NULL);
	run_status = strcmp(t->status, "succeeded") == 0 ? "successful" :
	    strcmp(t->status, "timed_out") == 0 ? "timeout" :
	    strcmp(t->status, "canceled") == 0 ? "canceled" : "failed";
	check_do(pg, "UPDATE runs SET status = $2, exit_code = CASE WHEN "
	    "$2 = 'successful' THEN 0 ELSE 2 END, finished_at = "
	    "clock_timestamp(), duration = interval '12.5 seconds', "
	    "lines = $3::bigint, summary = jsonb_build_object('status', $2, "
	    "'services', jsonb_build_array($4::text, 'docker'), 'files', "
	    "jsonb_build_array('/opt/' || $4 || '/compose.yml'), "
	    "'failed_tasks', '[]'::jsonb) WHERE id = $1", run, run_status,
	    lines, t->service);
	check_do(pg, "UPDATE tasks SET status = $2, wall_s = 12.5, user_s = "
	    "3.25, sys_s = 0.5, maxrss_kb = 65536, finished_at = now() - "
	    "$3::interval WHERE id = $1", task, t->status, ago, NULL);
	free(started);
	return strtoll(task, NULL, 10);
}

/* A scratch directory.  Caller frees. */
static char *
check_tmpdir(void)
{
	return testutil_tmpdir("ckaudit");
}

/*
 * Run the build tree's chiffon with args against conninfo; *out gets
 * stdout (caller frees).  Returns the exit status.
 */
static int
check_chiffon(const char *conninfo, const char *const *args, char **out)
{
	const char		*build = getenv("CHIFFON_BUILDDIR");
	const char		*argv[24], *env[3];
	char			*bin, *dir = check_tmpdir(), *conf, *e[2];
	struct testutil_out	 r;
	int			 i = 0;
	FILE			*f;

	bin = path_join(build != NULL ? build : ".", "src/chiffon");
	ck_assert_msg(access(bin, X_OK) == 0, "%s: %s", bin, strerror(errno));
	conf = path_join(dir, "chiffon.conf");
	ck_assert((f = fopen(conf, "w")) != NULL);
	fclose(f);
	argv[i++] = bin;
	argv[i++] = "--config";
	argv[i++] = conf;
	for (; *args != NULL && i < 23; args++)
		argv[i++] = *args;
	argv[i] = NULL;
	env[0] = e[0] = xasprintf("CHIFFON_DB_URL=%s", conninfo);
	env[1] = e[1] = xasprintf("CHIFFON_DATA_DIR=%s", dir);
	env[2] = NULL;
	testutil_run(&r, argv, env, NULL, 0);
	/* Its stderr goes where it went before: the test's log. */
	fputs(r.err, stderr);
	testutil_rm(dir);
	free(dir);
	free(conf);
	free(bin);
	free(e[0]);
	free(e[1]);
	*out = r.out;
	free(r.err);
	ck_assert_int_ge(r.status, 0);
	return r.status;
}

START_TEST(test_record_and_actor)
{
	PGconn			*pg = testutil_db("record", 1, NULL);
	struct audit_ids	 ids = { 0 };
	char			*err = NULL, *want;
	long long		 a, b;

	unsetenv("SSH_CONNECTION");
	ck_assert_ptr_null(audit_ssh_client());
	ck_assert_str_eq(audit_actor(), audit_user());
	ck_assert(*audit_user() != '\0');
	setenv("SSH_CONNECTION", "192.0.2.44 52100 192.0.2.1 22", 1);
	ck_assert_str_eq(audit_ssh_client(), "192.0.2.44");
	want = xasprintf("%s@192.0.2.44", audit_user());
	ck_assert_str_eq(audit_actor(), want);

	ids.request_id = 7;
	a = audit_record(pg, "request.received", NULL, &ids, "kuma",
	    "{\"text\": \"deploy kuma\"}", &err);
	ck_assert_msg(a > 0, "%s", err);
	ids.request_id = 0;
	ids.task_id = 9;
	b = audit_record(pg, "task.dispatched", "agent-nas", &ids, NULL, NULL,
	    &err);
	ck_assert_msg(b == a + 1, "%lld %lld: %s", a, b, err);
	check_is(pg, want, "SELECT actor FROM audit_log WHERE id = 1", NULL);
	check_is(pg, "7|kuma|deploy kuma|true|true",
	    "SELECT request_id || '|' || "
	    "service || '|' || (data->>'text') || '|' || (task_id IS NULL) "
	    "|| '|' || (prev_hash IS NULL) FROM audit_log WHERE id = 1",
	    NULL);
	check_is(pg, "agent-nas|9|{}|true", "SELECT actor || '|' || task_id || "
	    "'|' || data::text || '|' || (request_id IS NULL) FROM audit_log "
	    "WHERE id = 2", NULL);
	/* Bad data is refused, and said so. */
	ck_assert_int_eq(audit_record(pg, "x", NULL, NULL, NULL, "{not json",
	    &err), -1);
	ck_assert_msg(strstr(err, "cannot record x") != NULL, "%s", err);
	free(err);
	unsetenv("SSH_CONNECTION");
	free(want);
	PQfinish(pg);
}
END_TEST

START_TEST(test_verify_chain)
{
	char			*ci, *out, *err = NULL, *reason = NULL, *e;
	PGconn			*pg = testutil_db("chain", 1, &ci);
	struct audit_ids	 ids = { 0 };
	long long		 n, bad;
	int			 i;

	/* Empty is intact. */
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 0);
	for (i = 1; i <= 25; i++) {
		ids.task_id = i;
		ck_assert_msg(audit_record(pg, i % 2 ? "run.started" :
		    "run.finished", "alice", &ids, "kuma",
		    "{\"n\": 1}", &err) == i, "%s", err);
	}
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "verify", NULL }, &out), 0);
	e = "25 rows verified\n0 runs' output verified\nno git trail in ";
	ck_assert_msg(strncmp(out, e, strlen(e)) == 0, "%s", out);
	free(out);

	/* The database refuses changes. */
	e = check_refused(pg, "UPDATE audit_log SET actor = 'mallory' "
	    "WHERE id = 7");
	ck_assert_msg(strstr(e, "append-only") != NULL, "%s", e);
	free(e);
	e = check_refused(pg, "DELETE FROM audit_log WHERE id = 7");
	ck_assert_msg(strstr(e, "append-only") != NULL, "%s", e);
	free(e);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);

	/* A superuser goes around the triggers and edits row 7. */
	check_do(pg, "ALTER TABLE audit_log DISABLE TRIGGER ALL", NULL);
	check_do(pg, "UPDATE audit_log SET data = '{\"n\": 2}' WHERE id = 7",
	    NULL);
	check_do(pg, "ALTER TABLE audit_log ENABLE TRIGGER ALL", NULL);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 1);
	ck_assert_int_eq(bad, 7);
	ck_assert_int_eq(n, 6);
	ck_assert_msg(strstr(reason, "row 7 (run.started") != NULL &&
	    strstr(reason, "changed") != NULL, "%s", reason);
	free(reason);
	reason = NULL;
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "verify", NULL }, &out), 1);
	ck_assert_msg(strncmp(out, "audit_log chain broken at row 7: ",
	    33) == 0, "%s", out);
	free(out);

	/* Put it back, then remove row 12 instead: row 13 breaks. */
	check_do(pg, "ALTER TABLE audit_log DISABLE TRIGGER ALL", NULL);
	check_do(pg, "UPDATE audit_log SET data = '{\"n\": 1}' WHERE id = 7",
	    NULL);
	check_do(pg, "DELETE FROM audit_log WHERE id = 12", NULL);
	check_do(pg, "ALTER TABLE audit_log ENABLE TRIGGER ALL", NULL);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 1);
	ck_assert_int_eq(bad, 13);
	ck_assert_msg(strstr(reason, "prev_hash") != NULL, "%s", reason);
	free(reason);
	reason = NULL;

	/* Removing the first rows is seen too. */
	check_do(pg, "ALTER TABLE audit_log DISABLE TRIGGER ALL", NULL);
	check_do(pg, "DELETE FROM audit_log WHERE id <= 13", NULL);
	check_do(pg, "ALTER TABLE audit_log ENABLE TRIGGER ALL", NULL);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 1);
	ck_assert_int_eq(bad, 14);
	ck_assert_msg(strstr(reason, "first row") != NULL, "%s", reason);
	free(reason);
	free(ci);
	PQfinish(pg);
}
END_TEST

/* The verify walk pages through more rows than one page holds. */
START_TEST(test_verify_pages)
{
	PGconn		*pg = testutil_db("chainpages", 1, NULL);
	char		*err = NULL, *reason = NULL;
	long long	 n, bad;

	check_do(pg, "INSERT INTO audit_log (actor, kind, data) SELECT 'bot', "
	    "'bulk', jsonb_build_object('i', g) FROM generate_series(1, 25003) "
	    "g", NULL);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 25003);
	check_do(pg, "ALTER TABLE audit_log DISABLE TRIGGER ALL", NULL);
	check_do(pg, "UPDATE audit_log SET actor = 'mallory' WHERE id = 20001",
	    NULL);
	check_do(pg, "ALTER TABLE audit_log ENABLE TRIGGER ALL", NULL);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 1);
	ck_assert_int_eq(bad, 20001);
	ck_assert_int_eq(n, 20000);
	free(reason);
	PQfinish(pg);
}
END_TEST

START_TEST(test_task_finished_git)
{
	PGconn		*pg = testutil_db("finished", 1, NULL);
	char		*dir = check_tmpdir(), *repo, *err = NULL, *entry;
	char		*msg, *author, *content, *head, *want, *path, *v;
	char		*head_row;
	struct check_task t = { "bob", "alice", "kuma", "deploy", "succeeded",
			    3, NULL };
	json_object	*o, *x;
	long long	 id, id2, row;

	repo = path_join(dir, "audit/trail");	/* created on first use */
	id = check_make_task(pg, &t);
	row = audit_task_finished(pg, id, repo, "worker@nas", &err);
	ck_assert_msg(row > 0, "%s", err);

	/* The audit row: status, run summary counts and resources. */
	v = xasprintf("%lld", row);
	check_is(pg, "run.finished|worker@nas|succeeded|0|3|12.5|65536|kuma",
	    "SELECT kind || '|' || actor || '|' || (data->>'status') || '|' || "
	    "(data->>'exit_code') || '|' || (data->>'lines') || '|' || "
	    "(data->>'wall_s') || '|' || (data->>'maxrss_kb') || '|' || "
	    "service "
	    "FROM audit_log WHERE id = $1", v);
	free(v);

	/* One commit, by the approver, with the entry. */
	ck_assert_int_eq(testutil_ncommits(repo), 1);
	path = gittrail_task_path(id);
	testutil_head(repo, path, &msg, &author, &content, NULL, &head);
	/* Its trailer anchors the chain: the head it saw (run.finished). */
	v = xasprintf("%lld", row);
	head_row = check_sql(pg, "SELECT id || ' ' || hash FROM audit_log "
	    "WHERE id = $1", v, NULL);
	free(v);
	want = xasprintf("audit: task %lld succeeded\n\nChiffon-Audit-Head: "
	    "%s\n", id, head_row);
	free(head_row);
	ck_assert_str_eq(msg, want);
	ck_assert_msg(strncmp(author, "alice <alice@", 13) == 0, "%s", author);
	ck_assert_int_eq(audit_query_entry(pg, id, &entry, NULL, NULL, &err),
	    0);
	ck_assert_str_eq(content, entry);
	/* The file in the work tree is the same. */
	v = path_join(repo, path);
	free(want);
	want = read_file(v, NULL);
	ck_assert_msg(want != NULL && strcmp(want, entry) == 0, "%s", v);
	free(v);
	free(want);

	/* What the entry holds. */
	o = json_tokener_parse(content);
	ck_assert(o != NULL);
	ck_assert(json_object_object_get_ex(o, "task", &x));
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(x,
	    "id")), id);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x,
	    "status")), "succeeded");
	ck_assert(json_object_object_get_ex(o, "request", &x));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x,
	    "text")), "deploy kuma on the homelab");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x,
	    "actor")), "bob");
	ck_assert(json_object_object_get_ex(o, "approval", &x));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x,
	    "approved_by")), "alice");
	ck_assert(json_object_object_get_ex(o, "plan", &x));
	ck_assert_int_eq(json_object_array_length(json_object_object_get(x,
	    "steps")), 1);
	ck_assert(json_object_object_get_ex(o, "dispatch", &x));
	ck_assert_int_eq(json_object_array_length(json_object_object_get(x,
	    "routing")), 1);
	ck_assert(json_object_object_get_ex(o, "resources", &x));
	ck_assert(json_object_get_double(json_object_object_get(x,
	    "user_s")) == 3.25);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(x,
	    "maxrss_kb")), 65536);
	ck_assert(json_object_object_get_ex(o, "runs", &x));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	    json_object_array_get_idx(x, 0), "status")), "successful");
	ck_assert(json_object_object_get_ex(o, "services_touched", &x));
	ck_assert_str_eq(json_object_to_json_string_ext(x,
	    JSON_C_TO_STRING_PLAIN), "[\"docker\",\"kuma\"]");
	ck_assert(json_object_object_get_ex(o, "timestamps", &x));
	ck_assert(json_object_get_string(json_object_object_get(x,
	    "finished_at")) != NULL);
	ck_assert(json_object_object_get_ex(o, "ids", &x));
	ck_assert_int_eq(json_object_array_length(json_object_object_get(x,
	    "audit_log")), 1);
	json_object_put(o);

	/* audit_git and the "git.committed" row say the same. */
	v = xasprintf("%lld", id);
	check_is(pg, head, "SELECT commit_id FROM audit_git WHERE task_id = $1 "
	    "AND committed_at IS NOT NULL AND last_error IS NULL", v);
	check_is(pg, head, "SELECT data->>'commit' FROM audit_log WHERE "
	    "task_id = $1 AND kind = 'git.committed'", v);
	free(v);

	/* A second task: a second commit, failed, its own file. */
	t.status = "failed";
	t.service = "grafana";
	t.approver = "carol";
	id2 = check_make_task(pg, &t);
	ck_assert_msg(audit_task_finished(pg, id2, repo, NULL, &err) > 0,
	    "%s", err);
	ck_assert_int_eq(testutil_ncommits(repo), 2);
	free(msg);
	free(author);
	free(content);
	free(path);
	path = gittrail_task_path(id2);
	testutil_head(repo, path, &msg, &author, &content, NULL, NULL);
	want = xasprintf("audit: task %lld failed\n\nChiffon-Audit-Head: ",
	    id2);
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "%s", msg);
	ck_assert_msg(strncmp(author, "carol <carol@", 13) == 0, "%s", author);
	ck_assert_ptr_nonnull(content);

	/* Per task: run.finished and git.committed, nothing else. */
	ck_assert_int_eq(check_ll(check_sql(pg, "SELECT count(*) FROM "
	    "audit_log", NULL)), 4);

	free(want);
	free(msg);
	free(author);
	free(content);
	free(head);
	free(path);
	free(entry);
	testutil_rm(dir);
	free(dir);
	free(repo);
	PQfinish(pg);
}
END_TEST

START_TEST(test_unfinished_refused)
{
	PGconn		*pg = testutil_db("unfinished", 1, NULL);
	char		*err = NULL, *plan, *task;

	check_do(pg, "INSERT INTO requests (actor, text) VALUES ('a', 'x')",
	    NULL);
	plan = check_sql(pg, "INSERT INTO plans (request_id, created_by, "
	    "summary) VALUES (1, 'a', 's') RETURNING id", NULL);
	task = check_sql(pg, "INSERT INTO tasks (plan_id, step, action) "
	    "VALUES ($1, 1, 'deploy') RETURNING id", plan, NULL);
	ck_assert_int_eq(audit_task_finished(pg, strtoll(task, NULL, 10),
	    NULL, NULL, &err), -1);
	ck_assert_msg(strstr(err, "final status") != NULL, "%s", err);
	free(err);
	check_is(pg, "0", "SELECT count(*) FROM audit_log", NULL);
	free(plan);
	free(task);
	PQfinish(pg);
}
END_TEST

START_TEST(test_unchanged_no_commit)
{
	PGconn		*pg = testutil_db("unchanged", 1, NULL);
	char		*dir = check_tmpdir(), *err = NULL, *c1, *c2, *v;
	struct check_task t = { "bob", "alice", "pihole", "restart",
			    "succeeded", 1, NULL };
	long long	 id;

	id = check_make_task(pg, &t);
	ck_assert_msg(audit_task_finished(pg, id, dir, NULL, &err) > 0, "%s",
	    err);
	ck_assert_int_eq(testutil_ncommits(dir), 1);
	/* Rebuilding and committing the same entry makes no commit. */
	ck_assert_int_eq(gittrail_task(pg, id, dir, NULL, &c1, &err), 0);
	ck_assert_int_eq(testutil_ncommits(dir), 1);
	v = xasprintf("%lld", id);
	check_is(pg, c1, "SELECT commit_id FROM audit_git WHERE task_id = $1",
	    v);
	check_is(pg, "1", "SELECT count(*) FROM audit_log WHERE task_id = $1 "
	    "AND kind = 'git.committed'", v);
	free(v);
	/* At the gittrail level too; a changed entry does commit. */
	ck_assert_int_eq(gittrail_commit_task(dir, 99, "succeeded",
	    "{\"a\": 1}\n", "dave", "dave@example.org", &c2, &err), 1);
	free(c2);
	ck_assert_int_eq(gittrail_commit_task(dir, 99, "succeeded",
	    "{\"a\": 1}\n", "dave", "dave@example.org", &c2, &err), 0);
	free(c2);
	ck_assert_int_eq(testutil_ncommits(dir), 2);
	ck_assert_int_eq(gittrail_commit_task(dir, 99, "failed",
	    "{\"a\": 2}\n", "dave", "dave@example.org", &c2, &err), 1);
	ck_assert_int_eq(testutil_ncommits(dir), 3);
	free(c1);
	free(c2);
	testutil_rm(dir);
	free(dir);
	PQfinish(pg);
}
END_TEST

/*
 * A read-only audit repository: the task still ends well, the failure is
 * recorded, and the entry is committed by the retry once the repository
 * is writable.  As root, permissions do not stop the process, so the task
 * ends in a child that has become an unprivileged user.
 */
START_TEST(test_readonly_repo)
{
	char		*ci, *dir = check_tmpdir(), *repo, *err = NULL, *v, *e;
	PGconn		*pg = testutil_db("readonly", 1, &ci);
	struct check_task t = { "bob", "alice", "jellyfin", "update",
			    "succeeded", 2, NULL };
	long long	 first, id;
	int		 done = -1, failed = -1, status;
	pid_t		 pid;

	/* A repository with history, not writable by whoever finishes. */
	repo = path_join(dir, "repo");
	first = check_make_task(pg, &t);
	ck_assert_msg(audit_task_finished(pg, first, repo, NULL, &err) > 0,
	    "%s", err);
	ck_assert_int_eq(testutil_ncommits(repo), 1);
	t.service = "nextcloud";
	id = check_make_task(pg, &t);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		PGconn	*cpg;
		int	 rc;

		/* Connected first: the server's socket is not for nobody. */
		cpg = PQconnectdb(ci);
		if (PQstatus(cpg) != CONNECTION_OK) {
			fprintf(stderr, "child: %s", PQerrorMessage(cpg));
			_exit(13);
		}
		if (geteuid() == 0) {
			/* nobody, with its own HOME and libgit2 willing to
			 * open a repository it does not own. */
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(10);
			setenv("HOME", "/nonexistent", 1);
			git_libgit2_init();
			git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
			git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH,
			    GIT_CONFIG_LEVEL_GLOBAL, "/nonexistent");
			git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH,
			    GIT_CONFIG_LEVEL_XDG, "/nonexistent");
		} else {
			char	*argv[] = { "chmod", "-R", "a-w", repo, NULL };
			pid_t	 c = fork();

			if (c == 0) {
				execvp("chmod", argv);
				_exit(127);
			}
			if (waitpid(c, &rc, 0) != c || rc != 0)
				_exit(11);
		}
		/* The repository really is read-only to this process. */
		if (access(repo, W_OK) == 0)
			_exit(12);
		rc = audit_task_finished(cpg, id, repo, NULL, &err) > 0 ?
		    0 : 14;
		if (rc != 0)
			fprintf(stderr, "child: %s\n", err);
		PQfinish(cpg);
		_exit(rc);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %d", status);
	if (geteuid() != 0) {
		char	*argv[] = { "chmod", "-R", "u+w", repo, NULL };

		pid = fork();
		if (pid == 0) {
			execvp("chmod", argv);
			_exit(127);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_int_eq(status, 0);
	}

	/* The task's audit row is there; the git entry is pending. */
	v = xasprintf("%lld", id);
	check_is(pg, "1", "SELECT count(*) FROM audit_log WHERE task_id = $1 "
	    "AND kind = 'run.finished'", v);
	check_is(pg, "succeeded", "SELECT status FROM tasks WHERE id = $1", v);
	check_is(pg, "true|1", "SELECT (committed_at IS NULL) || '|' || "
	    "attempts FROM audit_git WHERE task_id = $1", v);
	e = check_sql(pg, "SELECT last_error FROM audit_git WHERE task_id = $1",
	    v, NULL);
	ck_assert_msg(e != NULL && strcasestr(e, "permission denied") != NULL,
	    "%s", e != NULL ? e : "NULL");
	free(e);
	check_is(pg, "1", "SELECT count(*) FROM audit_log WHERE task_id = $1 "
	    "AND kind = 'git.failed' AND data->>'error' <> ''", v);
	ck_assert_int_eq(testutil_ncommits(repo), 1);

	/* The next start retries, and it goes through. */
	ck_assert_msg(gittrail_retry_pending(pg, &done, &failed, &err) == 0,
	    "%s", err);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(testutil_ncommits(repo), 2);
	check_is(pg, "false|2|true", "SELECT (committed_at IS NULL) || '|' || "
	    "attempts || '|' || (last_error IS NULL) FROM audit_git "
	    "WHERE task_id = $1", v);
	/* Nothing is left to retry. */
	ck_assert_int_eq(gittrail_retry_pending(pg, &done, &failed, &err), 0);
	ck_assert_int_eq(done + failed, 0);
	free(v);
	testutil_rm(dir);
	free(dir);
	free(repo);
	free(ci);
	PQfinish(pg);
}
END_TEST

/* A path where a directory is expected fails the same, recoverably. */
START_TEST(test_bad_repo_path)
{
	PGconn		*pg = testutil_db("badpath", 1, NULL);
	char		*dir = check_tmpdir(), *file, *repo, *err = NULL, *v;
	struct check_task t = { "bob", "alice", "homepage", "deploy",
			    "failed", 1, NULL };
	FILE		*f;
	long long	 id;
	int		 done, failed;

	file = path_join(dir, "file");
	ck_assert((f = fopen(file, "w")) != NULL);
	fclose(f);
	repo = path_join(file, "audit");
	id = check_make_task(pg, &t);
	ck_assert_msg(audit_task_finished(pg, id, repo, NULL, &err) > 0, "%s",
	    err);
	v = xasprintf("%lld", id);
	check_is(pg, "t", "SELECT committed_at IS NULL AND last_error LIKE "
	    "'%Not a directory%' FROM audit_git WHERE task_id = $1", v);
	ck_assert_int_eq(gittrail_retry_pending(pg, &done, &failed, &err), 0);
	ck_assert_int_eq(failed, 1);
	check_is(pg, "2", "SELECT attempts FROM audit_git WHERE task_id = $1",
	    v);
	/* Only the first failure is an audit row. */
	check_is(pg, "1", "SELECT count(*) FROM audit_log WHERE task_id = $1 "
	    "AND kind = 'git.failed'", v);
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(gittrail_retry_pending(pg, &done, &failed, &err), 0);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(testutil_ncommits(repo), 1);
	free(v);
	free(file);
	free(repo);
	testutil_rm(dir);
	free(dir);
	PQfinish(pg);
}
END_TEST

/*
 * A git failure whose audit_git row cannot be written (the table is
 * locked by another session: a real refusal, like a full disk) still
 * leaves its git.failed row, and the retry finds it by that.
 */
START_TEST(test_git_failed_row_lost)
{
	char		*ci, *dir = check_tmpdir(), *file, *repo, *err = NULL, *v;
	PGconn		*pg = testutil_db("rowlost", 1, &ci), *locker;
	struct check_task t = { "bob", "alice", "homepage", "deploy",
			    "succeeded", 1, NULL };
	PGresult	*res;
	FILE		*f;
	long long	 id;
	int		 done, failed;

	file = path_join(dir, "file");
	ck_assert((f = fopen(file, "w")) != NULL);
	fclose(f);
	repo = path_join(file, "audit");
	id = check_make_task(pg, &t);
	v = xasprintf("%lld", id);
	locker = PQconnectdb(ci);
	res = PQexec(locker, "BEGIN; LOCK TABLE audit_git IN EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQclear(PQexec(pg, "SET lock_timeout = '200ms'"));
	ck_assert_msg(audit_task_finished(pg, id, repo, NULL, &err) > 0, "%s",
	    err);
	PQclear(PQexec(locker, "COMMIT"));
	PQfinish(locker);
	PQclear(PQexec(pg, "RESET lock_timeout"));
	check_is(pg, "0", "SELECT count(*) FROM audit_git WHERE task_id = $1",
	    v);
	check_is(pg, "1", "SELECT count(*) FROM audit_log WHERE task_id = $1 "
	    "AND kind = 'git.failed'", v);
	/* Retried: still failing, but now with its audit_git row. */
	ck_assert_int_eq(gittrail_retry_pending(pg, &done, &failed, &err), 0);
	ck_assert_int_eq(failed, 1);
	check_is(pg, "t", "SELECT committed_at IS NULL AND last_error LIKE "
	    "'%Not a directory%' FROM audit_git WHERE task_id = $1", v);
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(gittrail_retry_pending(pg, &done, &failed, &err), 0);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(testutil_ncommits(repo), 1);
	free(v);
	free(file);
	free(repo);
	free(ci);
	testutil_rm(dir);
	free(dir);
	PQfinish(pg);
}
END_TEST

/* Task ids of a result, "1,2,3". */
static char *
check_ids(PGresult *res)
{
	struct strbuf	sb = { 0 };
	int		i;

	for (i = 0; i < PQntuples(res); i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? "," : "",
		    PQgetvalue(res, i, AUDIT_COL_ID));
	return sb.buf != NULL ? strbuf_detach(&sb) : xstrdup("");
}

static void
check_query(PGconn *pg, const struct audit_filter *f, const char *want)
{
	PGresult	*res;
	char		*err = NULL, *got;

	res = audit_query_tasks(pg, f, &err);
	ck_assert_msg(res != NULL, "%s", err);
	got = check_ids(res);
	ck_assert_msg(strcmp(got, want) == 0, "got %s, want %s", got, want);
	free(got);
	PQclear(res);
}

START_TEST(test_queries)
{
	PGconn			*pg = testutil_db("queries", 1, NULL);
	struct audit_filter	 f;
	static const struct check_task tasks[] = {
		{ "bob", "alice", "kuma", "deploy", "succeeded", 1, "3 days" },
		{ "bob", "alice", "kuma", "configure", "failed", 1, "2 days" },
		{ "carol", "alice", "grafana", "deploy", "failed", 1,
		    "10 days" },
		{ "carol", "dave", "pihole", "restart", "timed_out", 1,
		    "1 day" },
		{ "dave", "dave", "kuma", "restart", "canceled", 1,
		    "5 hours" },
		{ "bob", "carol", "grafana", "update", "succeeded", 1,
		    "1 hour" },
	};
	size_t			 i;

	for (i = 0; i < nitems(tasks); i++)
		ck_assert_int_eq(check_make_task(pg, &tasks[i]),
		    (long long)i + 1);
	memset(&f, 0, sizeof f);
	check_query(pg, &f, "6,5,4,2,1");		/* last 7 days */
	f.days = 30;
	check_query(pg, &f, "6,5,4,2,1,3");
	f.days = 0;
	f.failures = 1;
	check_query(pg, &f, "4,2");
	f.days = 30;
	check_query(pg, &f, "4,2,3");
	memset(&f, 0, sizeof f);
	f.service = "kuma";
	check_query(pg, &f, "5,2,1");
	f.status = "failed";
	check_query(pg, &f, "2");
	memset(&f, 0, sizeof f);
	f.user = "carol";			/* requested or approved */
	check_query(pg, &f, "6,4");
	f.user = "dave";
	check_query(pg, &f, "5,4");
	memset(&f, 0, sizeof f);
	f.intent = "restart";			/* the action */
	check_query(pg, &f, "5,4");
	f.intent = "GRAFANA on";		/* words of the request */
	f.days = 30;
	check_query(pg, &f, "6,3");
	memset(&f, 0, sizeof f);
	f.since = "now";
	check_query(pg, &f, "");
	f.since = "2000-01-01";
	f.until = "2000-01-02";
	check_query(pg, &f, "");
	/* Keyset pages: all rows, once each, in order. */
	memset(&f, 0, sizeof f);
	f.days = 30;
	f.limit = 2;
	check_query(pg, &f, "6,5");
	f.after = 5;
	check_query(pg, &f, "4,2");
	f.after = 2;
	check_query(pg, &f, "1,3");
	f.after = 3;
	check_query(pg, &f, "");
	f.failures = 1;
	f.after = 4;
	check_query(pg, &f, "2,3");
	PQfinish(pg);
}
END_TEST

/* EXPLAIN the query of f; the plan must use index and not scan tasks. */
static void
check_plan(PGconn *pg, const struct audit_filter *f, const char *index)
{
	struct audit_query	 q;
	struct strbuf		 sb = { 0 };
	PGresult		*res;
	char			*sql;
	int			 i;

	audit_query_build(f, &q);
	sql = xasprintf("EXPLAIN %s", q.sql);
	res = PQexecParams(pg, sql, q.nparams, NULL, q.params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
	    PQresultErrorMessage(res));
	for (i = 0; i < PQntuples(res); i++) {
		strbuf_adds(&sb, PQgetvalue(res, i, 0));
		strbuf_addc(&sb, '\n');
	}
	ck_assert_msg(strstr(sb.buf, index) != NULL, "%s not used:\n%s",
	    index, sb.buf);
	ck_assert_msg(strstr(sb.buf, "Seq Scan on tasks") == NULL,
	    "tasks scanned:\n%s", sb.buf);
	PQclear(res);
	free(sql);
	strbuf_free(&sb);
	audit_query_free(&q);
}

START_TEST(test_explain_indexes)
{
	PGconn			*pg = testutil_db("explain", 1, NULL);
	struct audit_filter	 f;
	struct strbuf		 sb = { 0 };
	PGresult		*res;
	int			 i;

	/* A year of history: 40,000 tasks over 40 services, 5% failing. */
	check_do(pg, "SET session_replication_role = replica", NULL);
	check_do(pg, "INSERT INTO requests (actor, text, created_at) SELECT "
	    "'user' || (g % 7), 'request ' || g, now() - g * interval "
	    "'13 minutes' FROM generate_series(1, 40000) g", NULL);
	check_do(pg, "INSERT INTO plans (id, plan_id, request_id, created_by, "
	    "summary, created_at) OVERRIDING SYSTEM VALUE SELECT id, id, id, "
	    "actor, 'plan', created_at FROM requests", NULL);
	check_do(pg, "INSERT INTO tasks (plan_id, step, action, service, "
	    "status, created_at, finished_at) SELECT id, 1, 'deploy', "
	    "'svc' || (id % 40), CASE WHEN id % 20 = 0 THEN 'failed' ELSE "
	    "'succeeded' END, created_at, created_at + interval '1 minute' "
	    "FROM plans", NULL);
	check_do(pg, "INSERT INTO approvals (plan_id, approved_by) SELECT id, "
	    "created_by FROM plans", NULL);
	check_do(pg, "RESET session_replication_role", NULL);
	check_do(pg, "ANALYZE", NULL);

	memset(&f, 0, sizeof f);
	f.failures = 1;				/* failures, last week */
	check_plan(pg, &f, "tasks_failures_idx");
	f.after = 39980;
	check_plan(pg, &f, "tasks_failures_idx");
	memset(&f, 0, sizeof f);
	f.service = "svc7";			/* changes to one service */
	f.days = 365;
	check_plan(pg, &f, "tasks_service_idx");
	f.after = 39967;
	check_plan(pg, &f, "tasks_service_idx");
	memset(&f, 0, sizeof f);		/* everything, last week */
	check_plan(pg, &f, "tasks_created_at_idx");

	/* A page of output: the run's partition, by primary key (the
	 * chunks chiffon_run_lines reads, schema 016). */
	check_do(pg, "SELECT chiffon_ensure_partitions(now(), 1)", NULL);
	check_do(pg, "INSERT INTO run_output_chunks SELECT r, s, "
	    "date_trunc('month', now()) + interval '1 day', 1, '{1}', "
	    "ARRAY[now()], '{x}' FROM generate_series(1, 200) r, "
	    "generate_series(1, 200) s", NULL);
	check_do(pg, "ANALYZE run_output_chunks", NULL);
	res = PQexec(pg, "EXPLAIN SELECT k.seq, k.n, k.stream, k.at, k.line "
	    "FROM run_output_chunks k WHERE k.run_id = 5 AND "
	    "k.run_started_at = date_trunc('month', now()) + interval '1 day' "
	    "AND k.seq > 100 - 1000 AND k.seq <= 9223372036854775807 "
	    "ORDER BY k.seq");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(res); i++) {
		strbuf_adds(&sb, PQgetvalue(res, i, 0));
		strbuf_addc(&sb, '\n');
	}
	ck_assert_msg(strstr(sb.buf, "Index") != NULL &&
	    strstr(sb.buf, "Seq Scan") == NULL &&
	    strstr(sb.buf, "run_output_chunks_default") == NULL, "%s",
	    sb.buf);
	strbuf_free(&sb);
	PQclear(res);
	PQfinish(pg);
}
END_TEST

/* Collects replayed lines and checks their order. */
struct check_lines {
	long long	 n;
	long long	 last;
	struct strbuf	 first;
};

static int
check_line(long long run_id, long long seq, int stream, const char *line,
    size_t len, void *data)
{
	struct check_lines	*cl = data;
	char			*want;

	(void)run_id;
	ck_assert_int_eq(seq, cl->last + 1);
	ck_assert_int_eq(stream, 1);
	want = xasprintf("TASK [line %lld] ok: ünïcødé \\ \t", seq);
	ck_assert_msg(len == strlen(want) && memcmp(line, want, len) == 0,
	    "line %lld: %.*s", seq, (int)len, line);
	free(want);
	cl->last = seq;
	cl->n++;
	return 0;
}

START_TEST(test_output_replay)
{
	char			*ci, *out, *err = NULL, *arg, *p;
	PGconn			*pg = testutil_db("output", 1, &ci);
	struct check_task	 t = { "bob", "alice", "kuma", "deploy",
				    "succeeded", 12345, NULL };
	struct check_lines	 cl = { 0, 0, { 0 } };
	long long		 id, n, i;

	id = check_make_task(pg, &t);
	/* Pages of 1000: 13 queries, every line once, in order. */
	n = audit_query_output(pg, 1, 1000, check_line, &cl, &err);
	ck_assert_msg(n == 12345, "%lld: %s", n, err);
	ck_assert_int_eq(cl.n, 12345);
	ck_assert_int_eq(audit_query_output(pg, 99, 0, check_line, &cl, &err),
	    -1);
	ck_assert_msg(strstr(err, "no such run") != NULL, "%s", err);
	free(err);

	/* The binary prints exactly the lines. */
	arg = xasprintf("%lld", id);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "show",
	    "--output", arg, NULL }, &out), 0);
	for (i = 1, p = out; i <= 12345; i++) {
		char	*want = xasprintf(
		    "TASK [line %lld] ok: ünïcødé \\ \t\n",
		    i);

		ck_assert_msg(strncmp(p, want, strlen(want)) == 0,
		    "line %lld: %.60s", i, p);
		p += strlen(want);
		free(want);
	}
	ck_assert_str_eq(p, "");
	free(out);
	/* And the task itself. */
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "show", arg,
	    NULL }, &out), 0);
	ck_assert_msg(strstr(out, "deploy kuma - succeeded") != NULL &&
	    strstr(out, "approved   by alice") != NULL &&
	    strstr(out, "12345 lines") != NULL &&
	    strstr(out, "user 3.25 s") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "show", "999",
	    NULL }, &out), 1);
	free(out);
	free(arg);
	free(ci);
	PQfinish(pg);
}
END_TEST

START_TEST(test_cli_audit)
{
	char			*ci, *out;
	PGconn			*pg = testutil_db("cli", 1, &ci);
	struct check_task	 t = { "bob", "alice", "kuma", "deploy",
				    "failed", 1, "1 hour" };
	json_object		*o, *a;

	check_make_task(pg, &t);
	t.status = "succeeded";
	t.created_ago = "2 hours";
	check_make_task(pg, &t);
	t.status = "failed";
	t.service = "grafana";
	t.created_ago = "3 hours";
	check_make_task(pg, &t);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "--failures", "--json", "--limit", "1", NULL }, &out), 0);
	o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "%s", out);
	a = json_object_object_get(o, "tasks");
	ck_assert_int_eq(json_object_array_length(a), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(
	    json_object_array_get_idx(a, 0), "id")), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o,
	    "next_after")), 1);
	json_object_put(o);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "--failures", "--after", "1", NULL }, &out), 0);
	ck_assert_msg(strstr(out, "grafana") != NULL &&
	    strstr(out, "kuma") == NULL && strncmp(out, "ID ", 3) == 0,
	    "%s", out);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "--service", "nope", NULL }, &out), 0);
	ck_assert_msg(strncmp(out, "no matching tasks", 17) == 0, "%s", out);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "--status", "exploded", NULL }, &out), 2);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "--since", "yesterday-ish", NULL }, &out), 2);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "audit",
	    "--since", "2h30m", "--json", NULL }, &out), 0);
	o = json_tokener_parse(out);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(o,
	    "tasks")), 2);
	json_object_put(o);
	free(out);
	free(ci);
	PQfinish(pg);
}
END_TEST

START_TEST(test_prune)
{
	char		*ci, *out;
	PGconn		*pg = testutil_db("prune", 1, &ci);
	char		*err = NULL, *names = NULL, *reason = NULL;
	long long	 n, bad;
	int		 dropped;

	audit_record(pg, "request.received", NULL, NULL, NULL, NULL, &err);
	check_do(pg, "SELECT chiffon_ensure_partitions('2020-01-15', 2)",
	    NULL);
	check_do(pg, "INSERT INTO run_output VALUES (1, 1, '2020-01-10', 1, "
	    "now(), 'old'), (2, 1, '2020-02-10', 1, now(), 'old too'), "
	    "(3, 1, now(), 1, now(), 'new')", NULL);
	dropped = audit_prune(pg, 180 * 86400.0, &names, &err);
	ck_assert_msg(dropped == 4, "%d: %s", dropped, err);
	ck_assert_str_eq(names, "run_events_p2020_01\nrun_events_p2020_02\n"
	    "run_output_chunks_p2020_01\nrun_output_chunks_p2020_02\n");
	free(names);
	check_is(pg, "new", "SELECT string_agg(line, ',') FROM run_output",
	    NULL);
	check_is(pg, "4", "SELECT jsonb_array_length(data->'dropped') FROM "
	    "audit_log WHERE kind = 'db.pruned'", NULL);
	/* Nothing more to drop; the audit log is whole. */
	ck_assert_int_eq(audit_prune(pg, 180 * 86400.0, NULL, &err), 0);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 3);

	/* The command: a month from 2021 goes, the audit log stays. */
	check_do(pg, "SELECT chiffon_ensure_partitions('2021-03-15', 1)",
	    NULL);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "db", "prune",
	    "--older-than", "180d", NULL }, &out), 0);
	ck_assert_msg(strstr(out, "dropped run_output_chunks_p2021_03\n") !=
	    NULL &&
	    strstr(out, "2 partitions of run output and events dropped") !=
	    NULL, "%s", out);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "db", "prune",
	    "--older-than", "1h", NULL }, &out), 2);
	free(out);
	ck_assert_int_eq(check_chiffon(ci, (const char *[]){ "db", "prune",
	    NULL }, &out), 2);
	free(out);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 4);
	free(ci);
	PQfinish(pg);
}
END_TEST

/* --- the chain and the output anchored in the git trail --------------- */

/*
 * Two finished tasks committed to repo, with three more audit rows
 * between them: rows 1-2 (task 1: run.finished, git.committed), 3-5,
 * 6-7 (task 2).  The commits anchor rows 1 and 6.  Returns the second
 * task's run id.
 */
static long long
check_trail(PGconn *pg, const char *repo)
{
	struct check_task	 t = { "bob", "alice", "kuma", "deploy",
				    "succeeded", 3, NULL };
	struct audit_ids	 ids = { 0 };
	char			*err = NULL;
	long long		 id;
	int			 i;

	id = check_make_task(pg, &t);
	ck_assert_msg(audit_task_finished(pg, id, repo, NULL, &err) > 0, "%s",
	    err);
	for (i = 0; i < 3; i++)
		ck_assert_msg(audit_record(pg, "request.received", "bob", &ids,
		    NULL, "{\"n\": 1}", &err) > 0, "%s", err);
	t.service = "grafana";
	t.lines = 5;
	id = check_make_task(pg, &t);
	ck_assert_msg(audit_task_finished(pg, id, repo, NULL, &err) > 0, "%s",
	    err);
	check_is(pg, "7", "SELECT max(id) FROM audit_log", NULL);
	return check_ll(check_sql(pg, "SELECT max(id) FROM runs", NULL));
}

/* A database and an audit repository for one test. */
struct check_env {
	PGconn	*pg;
	char	*ci;		/* the database's conninfo */
	char	*dir;		/* scratch directory */
	char	*repo;		/* DIR/trail */
};

static void
check_env_start(struct check_env *e, const char *dbname)
{
	e->pg = testutil_db(dbname, 1, &e->ci);
	e->dir = check_tmpdir();
	e->repo = path_join(e->dir, "trail");
}

static void
check_env_stop(struct check_env *e)
{
	testutil_rm(e->dir);
	free(e->dir);
	free(e->repo);
	free(e->ci);
	PQfinish(e->pg);
}

/* gittrail_verify's verdict; *problemp gets its problem (caller frees). */
static int
check_trail_verify(PGconn *pg, const char *repo, struct gittrail_verdict *v,
    char **problemp)
{
	char	*err = NULL;
	int	 rc;

	rc = gittrail_verify(pg, repo, v, &err);
	ck_assert_msg(rc >= 0, "%s", err);
	*problemp = v->problem;
	return rc;
}

/* `chiffon audit verify` with audit.repo; *out its output. */
static int
check_cli_verify(const char *ci, const char *repo, char **out)
{
	int	rc;

	setenv("CHIFFON_AUDIT_REPO", repo, 1);
	rc = check_chiffon(ci, (const char *[]){ "audit", "verify", NULL },
	    out);
	unsetenv("CHIFFON_AUDIT_REPO");
	return rc;
}

/*
 * The owner disables the triggers, changes row 4 and re-hashes the chain
 * from there: the chain alone verifies, the anchor of the second commit
 * (row 6) does not.
 */
START_TEST(test_anchor_rewritten)
{
	struct gittrail_verdict	 v;
	struct check_env	 e;
	char			*problem, *out, *reason = NULL, *err = NULL;
	char			*commit, *blob, *ci, *repo;
	PGconn			*pg;
	long long		 n, bad;

	check_env_start(&e, "anchorrw");
	pg = e.pg;
	ci = e.ci;
	repo = e.repo;
	check_trail(pg, repo);
	ck_assert_int_eq(check_trail_verify(pg, repo, &v, &problem), 0);
	ck_assert_int_eq(v.nanchors, 2);
	ck_assert_int_eq(v.nentries, 2);
	ck_assert_int_eq(v.nruns, 2);
	ck_assert_int_eq(check_cli_verify(ci, repo, &out), 0);
	ck_assert_msg(strstr(out, "7 rows verified\n2 runs' output verified\n"
	    "2 anchors and 2 entries (2 runs) in the git trail ") == out,
	    "%s", out);
	free(out);

	check_do(pg, "ALTER TABLE audit_log DISABLE TRIGGER USER", NULL);
	check_do(pg, "UPDATE audit_log SET data = '{\"n\": 2}' WHERE id = 4",
	    NULL);
	check_do(pg, "DO $$ DECLARE i bigint; BEGIN FOR i IN 4 .. 7 LOOP "
	    "UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log "
	    "WHERE id = i - 1) WHERE id = i; UPDATE audit_log a SET hash = "
	    "chiffon_audit_hash(a) WHERE id = i; END LOOP; END $$", NULL);
	check_do(pg, "ALTER TABLE audit_log ENABLE TRIGGER USER", NULL);
	/* The chain is consistent again ... */
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 7);
	/* ... but not with the git trail. */
	ck_assert_int_eq(check_trail_verify(pg, repo, &v, &problem), 1);
	testutil_head(repo, NULL, NULL, NULL, &blob, NULL, &commit);
	free(blob);
	ck_assert_msg(strstr(problem, "audit_log row 6 was rewritten") !=
	    NULL, "%s", problem);
	ck_assert_msg(strncmp(strstr(problem, "anchor in git commit ") + 21,
	    commit, 12) == 0, "%s (head %s)", problem, commit);
	free(problem);
	ck_assert_int_eq(check_cli_verify(ci, repo, &out), 1);
	ck_assert_msg(strstr(out, "audit_log row 6 was rewritten") != NULL,
	    "%s", out);
	free(out);
	free(commit);
	check_env_stop(&e);
}
END_TEST

/*
 * The owner deletes the tail (rows 5-7) and resets the sequence: the
 * chain verifies, the anchor of row 6 reports the truncation; rows
 * written again under the same ids are reported as rewritten.
 */
START_TEST(test_anchor_truncated)
{
	struct gittrail_verdict	 v;
	struct audit_ids	 ids = { 0 };
	struct check_env	 e;
	char			*problem, *out, *reason = NULL, *err = NULL;
	char			*ci, *repo;
	PGconn			*pg;
	long long		 n, bad;
	int			 i;

	check_env_start(&e, "anchortr");
	pg = e.pg;
	ci = e.ci;
	repo = e.repo;
	check_trail(pg, repo);
	check_do(pg, "ALTER TABLE audit_log DISABLE TRIGGER USER", NULL);
	check_do(pg, "DELETE FROM audit_log WHERE id >= 5", NULL);
	check_do(pg, "ALTER TABLE audit_log ENABLE TRIGGER USER", NULL);
	check_do(pg, "SELECT setval('audit_log_id_seq', 4)", NULL);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(check_trail_verify(pg, repo, &v, &problem), 1);
	ck_assert_msg(strstr(problem, "the audit log was truncated") ==
	    problem && strstr(problem, "names row 6, but the log ends at "
	    "row 4") != NULL, "%s", problem);
	free(problem);
	ck_assert_int_eq(check_cli_verify(ci, repo, &out), 1);
	ck_assert_msg(strstr(out, "4 rows verified\n") == out &&
	    strstr(out, "the audit log was truncated") != NULL, "%s", out);
	free(out);
	/* Refilled: the ids exist again, with other hashes. */
	for (i = 0; i < 3; i++)
		ck_assert_msg(audit_record(pg, "request.received", "mallory",
		    &ids, NULL, NULL, &err) > 0, "%s", err);
	ck_assert_int_eq(audit_verify(pg, &n, &bad, &reason, &err), 0);
	ck_assert_int_eq(check_trail_verify(pg, repo, &v, &problem), 1);
	ck_assert_msg(strstr(problem, "audit_log row 6 was rewritten (or "
	    "removed and written again)") != NULL, "%s", problem);
	free(problem);
	check_env_stop(&e);
}
END_TEST

/*
 * The output digest of run (its id as text) as chiffon-schema(7) defines
 * it, computed here from the rows: chunks of 10000 by seq, each chunk's
 * SHA-256 over "seq<TAB>stream<TAB>line" and a newline per row, the hex
 * SHA-256 of the chunks' raw digests.  Caller frees.
 */
static char *
check_output_digest(PGconn *pg, const char *run)
{
	const char	*params[1] = { run };
	struct strbuf	 chunk = { 0 }, raw = { 0 };
	PGresult	*res;
	char		 hex[SHA256_HEX_LEN + 1];
	long long	 k = -1, seq;
	int		 i, j, n;
	unsigned	 byte;

	res = PQexecParams(pg, "SELECT seq, stream, line FROM run_output "
	    "WHERE run_id = $1 ORDER BY seq", 1, NULL, params, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	n = PQntuples(res);
	for (i = 0; i <= n; i++) {
		seq = i < n ? strtoll(PQgetvalue(res, i, 0), NULL, 10) : 0;
		if (k >= 0 && (i == n || (seq - 1) / 10000 != k)) {
			sha256_hex(chunk.buf, chunk.len, hex);
			for (j = 0; j < 32; j++) {
				ck_assert_int_eq(sscanf(hex + 2 * j, "%2x",
				    &byte), 1);
				strbuf_addc(&raw, (char)byte);
			}
			chunk.len = 0;
		}
		if (i == n)
			break;
		k = (seq - 1) / 10000;
		strbuf_addf(&chunk, "%s\t%s\t%s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	}
	PQclear(res);
	sha256_hex(raw.buf, raw.len, hex);
	strbuf_free(&chunk);
	strbuf_free(&raw);
	return xstrdup(hex);
}

/*
 * Each finished run carries the digest of its output rows, in its row and
 * in the git entry.  A changed line is found against the row; a row
 * "fixed" to match is found against the git entry.
 */
START_TEST(test_output_digest)
{
	struct gittrail_verdict	 v;
	struct check_env	 e;
	char			*problem, *err = NULL, *entry, *sha, *want;
	char			*run;
	PGconn			*pg;
	long long		 r, nruns, task;

	check_env_start(&e, "outdigest");
	pg = e.pg;
	r = check_trail(pg, e.repo);
	run = xasprintf("%lld", r);
	check_is(pg, "5 true", "SELECT output_rows || ' ' || (output_sha256 = "
	    "chiffon_run_output_digest(id)) FROM runs WHERE id = $1", run);
	sha = check_sql(pg, "SELECT output_sha256 FROM runs WHERE id = $1",
	    run, NULL);
	/* The digest is the documented one (schema 14 takes it differently). */
	want = check_output_digest(pg, run);
	ck_assert_str_eq(sha, want);
	free(want);
	task = check_ll(check_sql(pg, "SELECT task_id FROM runs WHERE id = $1",
	    run, NULL));
	ck_assert_int_eq(audit_query_entry(pg, task, &entry, NULL, NULL,
	    &err), 0);
	want = xasprintf("\"output_sha256\": \"%s\"", sha);
	ck_assert_msg(strstr(entry, want) != NULL, "%s", entry);
	ck_assert_int_eq(audit_verify_output(pg, &nruns, &problem, &err), 0);
	ck_assert_int_eq(nruns, 2);

	/* A line changed by the owner (run_output_chunks has no trigger). */
	check_do(pg, "UPDATE run_output_chunks SET line[2 - seq + 1] = "
	    "'ok: nothing happened' WHERE run_id = $1 AND seq <= 2 AND "
	    "seq + n > 2", run, NULL);
	ck_assert_int_eq(audit_verify_output(pg, &nruns, &problem, &err), 1);
	ck_assert_msg(strstr(problem, "its output rows changed after it "
	    "finished (5 rows now, 5 then") != NULL, "%s", problem);
	free(problem);
	/* The run row made to match: the git entry still holds the truth. */
	check_do(pg, "ALTER TABLE runs DISABLE TRIGGER USER", NULL);
	check_do(pg, "UPDATE runs SET output_sha256 = "
	    "chiffon_run_output_digest(id) WHERE id = $1", run, NULL);
	check_do(pg, "ALTER TABLE runs ENABLE TRIGGER USER", NULL);
	ck_assert_int_eq(audit_verify_output(pg, &nruns, &problem, &err), 0);
	ck_assert_int_eq(check_trail_verify(pg, e.repo, &v, &problem), 1);
	free(want);
	want = xasprintf("run %lld: the output digest in its git entry "
	    ".audit/tasks/%lld.json (%.12s) differs", r, task, sha);
	ck_assert_msg(strstr(problem, want) == problem, "%s", problem);
	free(problem);
	free(want);
	free(entry);
	free(sha);
	free(run);
	check_env_stop(&e);
}
END_TEST

static Suite *
check_suite(void)
{
	Suite	*s = suite_create("audit");
	TCase	*tc = tcase_create("audit");

	tcase_add_unchecked_fixture(tc, testutil_cluster_need,
	    testutil_cluster_stop);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_record_and_actor);
	tcase_add_test(tc, test_verify_chain);
	tcase_add_test(tc, test_verify_pages);
	tcase_add_test(tc, test_task_finished_git);
	tcase_add_test(tc, test_unfinished_refused);
	tcase_add_test(tc, test_unchanged_no_commit);
	tcase_add_test(tc, test_readonly_repo);
	tcase_add_test(tc, test_bad_repo_path);
	tcase_add_test(tc, test_git_failed_row_lost);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_explain_indexes);
	tcase_add_test(tc, test_output_replay);
	tcase_add_test(tc, test_cli_audit);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_anchor_rewritten);
	tcase_add_test(tc, test_anchor_truncated);
	tcase_add_test(tc, test_output_digest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_suite());
}
