/*
 * audit.c - the audit trail: writing audit_log rows, verifying the hash
 * chain, the end-of-task record (audit row plus git entry) and retention.
 *
 * The database does the chaining (schema/001_init.sql: the audit_log_chain
 * trigger takes a lock, assigns the id, links prev_hash and computes the
 * hash with chiffon_audit_hash); this file only appends and checks.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "audit.h"
#include "db.h"
#include "gittrail.h"
#include "util.h"

/* Rows per page when walking the chain. */
#define AUDIT_VERIFY_PAGE	"10000"

/* Decimal text of a non-zero id into buf, or NULL for 0 (SQL NULL). */
static const char *
audit_id_param(char *buf, size_t len, long long id)
{
	if (id == 0)
		return NULL;
	snprintf(buf, len, "%lld", id);
	return buf;
}

const char *
audit_user(void)
{
	static char	 name[256];
	struct passwd	*pw;
	const char	*env;

	if ((pw = getpwuid(geteuid())) != NULL && pw->pw_name != NULL &&
	    *pw->pw_name != '\0')
		snprintf(name, sizeof name, "%s", pw->pw_name);
	else if ((env = getenv("USER")) != NULL && *env != '\0')
		snprintf(name, sizeof name, "%s", env);
	else
		snprintf(name, sizeof name, "uid%lu", (unsigned long)geteuid());
	return name;
}

const char *
audit_ssh_client(void)
{
	static char	 addr[128];
	const char	*env = getenv("SSH_CONNECTION");
	size_t		 n;

	/* "client_address client_port server_address server_port" */
	if (env == NULL)
		return NULL;
	env += strspn(env, " ");
	n = strcspn(env, " ");
	if (n == 0 || n >= sizeof addr)
		return NULL;
	memcpy(addr, env, n);
	addr[n] = '\0';
	return addr;
}

const char *
audit_actor(void)
{
	static char	 actor[400];
	const char	*client = audit_ssh_client();

	if (client != NULL)
		snprintf(actor, sizeof actor, "%s@%s", audit_user(), client);
	else
		snprintf(actor, sizeof actor, "%s", audit_user());
	return actor;
}

long long
audit_record(PGconn *pg, const char *kind, const char *actor,
    const struct audit_ids *ids, const char *service, const char *data_json,
    char **errp)
{
	const char	*params[8];
	char		 b[4][32];
	PGresult	*res;
	long long	 id;

	if (kind == NULL || *kind == '\0')
		return set_error(errp, "audit_record: empty kind");
	params[0] = actor != NULL ? actor : audit_actor();
	params[1] = kind;
	params[2] = audit_id_param(b[0], sizeof b[0],
	    ids != NULL ? ids->request_id : 0);
	params[3] = audit_id_param(b[1], sizeof b[1],
	    ids != NULL ? ids->plan_id : 0);
	params[4] = audit_id_param(b[2], sizeof b[2],
	    ids != NULL ? ids->task_id : 0);
	params[5] = audit_id_param(b[3], sizeof b[3],
	    ids != NULL ? ids->run_id : 0);
	params[6] = service;
	params[7] = data_json;
	res = PQexecParams(pg,
	    "INSERT INTO audit_log (actor, kind, request_id, plan_id, task_id, "
	    "run_id, service, data) VALUES ($1, $2, $3::bigint, $4::bigint, "
	    "$5::bigint, $6::bigint, $7, coalesce($8::jsonb, '{}')) "
	    "RETURNING id", 8, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		set_error(errp, "audit_log: cannot record %s: %s", kind,
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

int
audit_verify(PGconn *pg, long long *nrows, long long *bad_id,
    char **reasonp, char **errp)
{
	PGresult	*res;
	char		*prev = NULL, after[32];
	const char	*params[2];
	long long	 n = 0, id = 0;
	int		 i, rows, rc = 0;

	*nrows = 0;
	*bad_id = 0;
	snprintf(after, sizeof after, "0");
	for (;;) {
		params[0] = after;
		params[1] = AUDIT_VERIFY_PAGE;
		res = PQexecParams(pg,
		    "SELECT a.id, a.prev_hash, a.hash, "
		    "a.hash = chiffon_audit_hash(a), a.kind, "
		    "to_char(a.at AT TIME ZONE 'UTC', "
		    "'YYYY-MM-DD HH24:MI:SS UTC') "
		    "FROM audit_log a WHERE a.id > $1::bigint "
		    "ORDER BY a.id LIMIT $2::int", 2, NULL, params, NULL, NULL,
		    0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			set_error(errp, "audit_log: cannot read the chain: %s",
			    PQresultErrorMessage(res));
			PQclear(res);
			free(prev);
			return -1;
		}
		rows = PQntuples(res);
		for (i = 0; i < rows && rc == 0; i++) {
			const char	*hash = PQgetvalue(res, i, 2);
			int		 null_prev = PQgetisnull(res, i, 1);

			id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			if (strcmp(PQgetvalue(res, i, 3), "t") != 0) {
				*reasonp = xasprintf("row %lld (%s, %s): its "
				    "hash does not match its content: the row "
				    "was changed after it was written", id,
				    PQgetvalue(res, i, 4),
				    PQgetvalue(res, i, 5));
				rc = 1;
			} else if (prev == NULL && !null_prev) {
				*reasonp = xasprintf("row %lld (%s, %s): it is "
				    "the first row but links to a previous "
				    "hash: rows before it were removed", id,
				    PQgetvalue(res, i, 4),
				    PQgetvalue(res, i, 5));
				rc = 1;
			} else if (prev != NULL && (null_prev ||
			    strcmp(PQgetvalue(res, i, 1), prev) != 0)) {
				*reasonp = xasprintf("row %lld (%s, %s): "
				    "prev_hash does not match the hash of the "
				    "row before it: a row in between was "
				    "removed or changed", id,
				    PQgetvalue(res, i, 4),
				    PQgetvalue(res, i, 5));
				rc = 1;
			}
			if (rc != 0) {
				*bad_id = id;
				break;
			}
			free(prev);
			prev = xstrdup(hash);
			n++;
		}
		PQclear(res);
		if (rc != 0 || rows == 0)
			break;
		snprintf(after, sizeof after, "%lld", id);
	}
	free(prev);
	*nrows = n;
	return rc;
}

int
audit_verify_output(PGconn *pg, long long *nruns, char **problemp,
    char **errp)
{
	PGresult	*res;
	int		 rc = 0;

	*nruns = 0;
	*problemp = NULL;
	res = PQexec(pg, "SELECT count(*) FROM runs WHERE output_sha256 IS "
	    "NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "audit verify: %s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	*nruns = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	res = PQexec(pg, "SELECT r.id, d.nrows, r.output_rows, d.digest, "
	    "r.output_sha256 FROM runs r, LATERAL "
	    "chiffon_run_output_summary(r.id) d "
	    "WHERE r.output_sha256 IS NOT NULL AND d.digest <> "
	    "r.output_sha256 ORDER BY r.id LIMIT 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "audit verify: %s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1) {
		*problemp = xasprintf("run %s: its output rows changed after it "
		    "finished (%s rows now, %s then; digest %.12s, recorded "
		    "%.12s)", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
		    PQgetvalue(res, 0, 4));
		rc = 1;
	}
	PQclear(res);
	return rc;
}

long long
audit_task_finished(PGconn *pg, long long task_id, const char *repo_path,
    const char *actor, char **errp)
{
	const char	*params[2];
	PGresult	*res;
	char		 idbuf[32], *err = NULL;
	long long	 id;

	snprintf(idbuf, sizeof idbuf, "%lld", task_id);
	params[0] = actor != NULL ? actor : audit_actor();
	params[1] = idbuf;
	res = PQexecParams(pg,
	    "INSERT INTO audit_log (actor, kind, request_id, plan_id, task_id, "
	    "run_id, service, data) "
	    "SELECT $1, 'run.finished', p.request_id, t.plan_id, t.id, r.id, "
	    "t.service, jsonb_strip_nulls(jsonb_build_object("
	    "'status', t.status, 'status_reason', t.status_reason, "
	    "'attempts', t.attempts, 'playbook', t.playbook, "
	    "'run_id', r.id, 'run_status', r.status, "
	    "'exit_code', r.exit_code, 'lines', r.lines, "
	    "'hosts', r.summary -> 'hosts', "
	    "'failed_tasks', jsonb_array_length(CASE WHEN jsonb_typeof("
	    "r.summary -> 'failed_tasks') = 'array' THEN r.summary -> "
	    "'failed_tasks' END), "
	    "'wall_s', t.wall_s, 'user_s', t.user_s, 'sys_s', t.sys_s, "
	    "'maxrss_kb', t.maxrss_kb, 'gpu_mem_mb', t.gpu_mem_mb)) "
	    "FROM tasks t JOIN plans p ON p.id = t.plan_id "
	    "LEFT JOIN LATERAL (SELECT * FROM runs u WHERE u.task_id = t.id "
	    "ORDER BY u.id DESC LIMIT 1) r ON true "
	    "WHERE t.id = $2::bigint AND chiffon_task_terminal(t.status) "
	    "RETURNING id", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "task %lld: cannot record run.finished: %s",
		    task_id, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return set_error(errp, "task %lld: no such task, or it has not "
		    "reached a final status yet (set the final status first)",
		    task_id);
	}
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);

	/* The git entry: failures are recorded, never returned. */
	if (repo_path != NULL && *repo_path != '\0' &&
	    gittrail_task(pg, task_id, repo_path, actor, NULL, &err) == -1)
		free(err);
	return id;
}

int
audit_prune(PGconn *pg, double older_than_s, char **names, char **errp)
{
	struct strbuf	 sb = { 0 };
	const char	*params[1];
	char		 secs[64], *data;
	PGresult	*res;
	struct audit_ids ids = { 0 };
	int		 i, n;

	if (names != NULL)
		*names = NULL;
	if (older_than_s < 0)
		return set_error(errp, "prune: negative age");
	snprintf(secs, sizeof secs, "%.0f", older_than_s);
	params[0] = secs;
	/* The drop and its audit row go together or not at all. */
	res = PQexec(pg, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_error(errp, "prune: %s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	res = PQexecParams(pg,
	    "SELECT chiffon_drop_partitions(now() - make_interval(secs => "
	    "$1::double precision))", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "prune: %s", PQresultErrorMessage(res));
		PQclear(res);
		db_rollback(pg);
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		strbuf_adds(&sb, PQgetvalue(res, i, 0));
		strbuf_addc(&sb, '\n');
	}
	PQclear(res);

	/* The audit row lists what went; json quoting is left to SQL. */
	params[0] = sb.len > 0 ? sb.buf : "";
	res = PQexecParams(pg,
	    "SELECT jsonb_build_object('older_than_s', $2::double precision, "
	    "'dropped', to_jsonb(array_remove(string_to_array($1, E'\\n'), "
	    "'')))::text", 2, NULL, (const char *const[]){ params[0], secs },
	    NULL, NULL, 0);
	data = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ?
	    xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	if (data == NULL || audit_record(pg, "db.pruned", NULL, &ids, NULL,
	    data, errp) == -1) {
		if (data == NULL)
			set_error(errp, "prune: cannot build the audit row: %s",
			    PQerrorMessage(pg));
		free(data);
		strbuf_free(&sb);
		db_rollback(pg);
		return -1;
	}
	free(data);
	res = PQexec(pg, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_error(errp, "prune: commit: %s", PQresultErrorMessage(res));
		PQclear(res);
		strbuf_free(&sb);
		return -1;
	}
	PQclear(res);
	if (names != NULL)
		*names = strbuf_detach(&sb);
	else
		strbuf_free(&sb);
	return n;
}
