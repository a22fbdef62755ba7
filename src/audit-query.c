/*
 * audit-query.c - reading the audit trail back.
 *
 * The task entry is assembled by PostgreSQL with json_build_object (which
 * keeps keys in the order written, unlike jsonb) and pretty-printed with
 * json-c, so the same database content always gives the same bytes: the
 * git trail relies on that to make no commit for an unchanged entry.
 * List queries are assembled from fixed SQL fragments, one per filter,
 * with every value bound as a parameter; each shape is served by an index
 * of schema/001_init.sql (tests/check_audit.c checks with EXPLAIN).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit-query.h"
#include "targets.h"
#include "util.h"

/* A timestamptz as ISO 8601 UTC with microseconds (SQL expression). */
#define AQ_TS(x) "to_char((" x ") AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Lines per output page by default. */
#define AUDIT_QUERY_PAGE	5000

static const char audit_query_entry_sql[] =
    "SELECT json_build_object("
    "'version', 1, "
    "'task', json_build_object("
	"'id', t.id, 'step', t.step, 'action', t.action, "
	"'service', t.service, 'playbook', t.playbook, "
	"'playbook_id', t.playbook_id, 'match_method', t.match_method, "
	"'match_confidence', t.match_confidence, 'targets', t.targets, "
	"'tags', t.tags, 'extra_vars', t.extra_vars, "
	"'check_mode', t.check_mode, 'depends_on', t.depends_on, "
	"'capability', t.capability, 'risk', t.risk, "
	"'estimated_s', t.estimated_s, 'status', t.status, "
	"'status_reason', t.status_reason, 'attempts', t.attempts, "
	"'result', t.result), "
    "'request', (SELECT json_build_object("
	"'id', r.id, 'text', r.text, 'actor', r.actor, "
	"'ssh_client', r.ssh_client, 'source', r.source, "
	"'parser_tier', r.parser_tier, 'cost_usd', r.cost_usd, "
	"'intents', r.intents, "
	"'created_at', " AQ_TS("r.created_at") ") "
	"FROM requests r WHERE r.id = p.request_id), "
    "'plan', json_build_object("
	"'id', p.id, 'plan_id', p.plan_id, 'version', p.version, "
	"'summary', p.summary, 'created_by', p.created_by, "
	"'parser_tier', p.parser_tier, 'cost_usd', p.cost_usd, "
	"'amendment', p.amendment, "
	"'created_at', " AQ_TS("p.created_at") ", "
	"'steps', (SELECT json_agg(json_build_object("
	    "'task_id', s.id, 'step', s.step, 'action', s.action, "
	    "'service', s.service, 'playbook', s.playbook, "
	    "'targets', s.targets, 'depends_on', s.depends_on, "
	    "'risk', s.risk) ORDER BY s.step) "
	    "FROM tasks s WHERE s.plan_id = p.id)), "
    "'approval', (SELECT json_build_object("
	"'id', a.id, 'decision', a.decision, "
	"'approved_by', a.approved_by, 'ssh_client', a.ssh_client, "
	"'at', " AQ_TS("a.at") ", 'reason', a.reason) "
	"FROM approvals a WHERE a.plan_id = p.id "
	"ORDER BY a.id DESC LIMIT 1), "
    "'dispatch', json_build_object("
	"'capability', t.capability, "
	"'routing', coalesce((SELECT json_agg(json_build_object("
	    "'id', d.id, 'at', " AQ_TS("d.at") ", 'attempt', d.attempt, "
	    "'capability', d.capability, 'agent', d.chosen_agent, "
	    "'decision', d.decision, 'reason', d.reason, "
	    "'scores', d.scores) ORDER BY d.id) "
	    "FROM routing_decisions d WHERE d.task_id = t.id), '[]')), "
    "'runs', coalesce((SELECT json_agg(json_build_object("
	"'id', u.id, 'kind', u.kind, 'agent', u.agent, "
	"'attempt', u.attempt, 'status', u.status, "
	"'pending_status', u.pending_status, "
	"'stored_lines', CASE WHEN u.status = 'incomplete' THEN "
	"chiffon_run_lines_stored(u.id, u.started_at) END, "
	"'exit_code', u.exit_code, "
	"'started_at', " AQ_TS("u.started_at") ", "
	"'finished_at', " AQ_TS("u.finished_at") ", "
	"'duration_s', extract(epoch FROM u.duration), "
	"'lines', u.lines, 'events', u.events, "
	"'output_rows', u.output_rows, 'output_sha256', u.output_sha256, "
	"'wall_s', u.wall_s, 'user_s', u.user_s, 'sys_s', u.sys_s, "
	"'maxrss_kb', u.maxrss_kb, 'summary', u.summary) ORDER BY u.id) "
	"FROM runs u WHERE u.task_id = t.id), '[]'), "
    "'resources', json_build_object("
	"'wall_s', t.wall_s, 'user_s', t.user_s, 'sys_s', t.sys_s, "
	"'maxrss_kb', t.maxrss_kb, 'gpu_mem_mb', t.gpu_mem_mb), "
    "'services_touched', (SELECT coalesce(json_agg(DISTINCT x.s "
	"ORDER BY x.s), '[]') FROM (SELECT t.service AS s UNION "
	"SELECT jsonb_array_elements_text(u.summary -> 'services') "
	"FROM runs u WHERE u.task_id = t.id AND "
	"jsonb_typeof(u.summary -> 'services') = 'array') x "
	"WHERE x.s IS NOT NULL), "
    "'files_touched', (SELECT coalesce(json_agg(DISTINCT x.f "
	"ORDER BY x.f), '[]') FROM (SELECT "
	"jsonb_array_elements_text(u.summary -> 'files') AS f "
	"FROM runs u WHERE u.task_id = t.id AND "
	"jsonb_typeof(u.summary -> 'files') = 'array') x), "
    "'suggestions', coalesce((SELECT json_agg(json_build_object("
	"'id', g.id, 'category', g.category, 'rule', g.rule, "
	"'severity', g.severity, 'reason', g.reason, 'file', g.file, "
	"'line', g.line) ORDER BY g.id) "
	"FROM playbook_suggestions g WHERE g.task_id = t.id), '[]'), "
    "'timestamps', json_build_object("
	"'requested_at', (SELECT " AQ_TS("r.created_at") " FROM requests r "
	    "WHERE r.id = p.request_id), "
	"'planned_at', " AQ_TS("p.created_at") ", "
	"'approved_at', (SELECT " AQ_TS("a.at") " FROM approvals a "
	    "WHERE a.plan_id = p.id AND a.decision = 'approved' "
	    "ORDER BY a.id DESC LIMIT 1), "
	"'created_at', " AQ_TS("t.created_at") ", "
	"'started_at', " AQ_TS("t.started_at") ", "
	"'finished_at', " AQ_TS("t.finished_at") "), "
    "'ids', json_build_object("
	"'request', p.request_id, 'plan', p.id, 'task', t.id, "
	"'approvals', coalesce((SELECT json_agg(a.id ORDER BY a.id) "
	    "FROM approvals a WHERE a.plan_id = p.id), '[]'), "
	"'llm_calls', coalesce((SELECT json_agg(l.id ORDER BY l.id) "
	    "FROM llm_calls l WHERE l.request_id = p.request_id), '[]'), "
	"'routing_decisions', coalesce((SELECT json_agg(d.id ORDER BY d.id) "
	    "FROM routing_decisions d WHERE d.task_id = t.id), '[]'), "
	"'runs', coalesce((SELECT json_agg(u.id ORDER BY u.id) "
	    "FROM runs u WHERE u.task_id = t.id), '[]'), "
	"'suggestions', coalesce((SELECT json_agg(g.id ORDER BY g.id) "
	    "FROM playbook_suggestions g WHERE g.task_id = t.id), '[]'), "
	"'audit_log', coalesce((SELECT json_agg(l.id ORDER BY l.id) "
	    "FROM audit_log l WHERE l.task_id = t.id "
	    "AND l.kind NOT LIKE 'git.%'), '[]'))"
    ")::text, t.status, coalesce((SELECT a.approved_by FROM approvals a "
    "WHERE a.plan_id = p.id AND a.decision = 'approved' "
    "ORDER BY a.id DESC LIMIT 1), p.created_by) "
    "FROM tasks t JOIN plans p ON p.id = t.plan_id WHERE t.id = $1::bigint";

int
audit_query_entry(PGconn *pg, long long task_id, char **jsonp,
    char **statusp, char **authorp, char **errp)
{
	PGresult		*res;
	const char		*params[1];
	char			 idbuf[32];
	struct json_tokener	*tok;
	json_object		*o;

	*jsonp = NULL;
	snprintf(idbuf, sizeof idbuf, "%lld", task_id);
	params[0] = idbuf;
	res = PQexecParams(pg, audit_query_entry_sql, 1, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "task %lld: cannot build the audit entry: %s",
		    task_id, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return set_error(errp, "task %lld: no such task", task_id);
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, PQgetvalue(res, 0, 0),
	    PQgetlength(res, 0, 0));
	json_tokener_free(tok);
	if (o == NULL) {
		PQclear(res);
		return set_error(errp, "task %lld: the database built an entry "
		    "that is not JSON", task_id);
	}
	*jsonp = xasprintf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (statusp != NULL)
		*statusp = xstrdup(PQgetvalue(res, 0, 1));
	if (authorp != NULL)
		*authorp = PQgetisnull(res, 0, 2) ? NULL :
		    xstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/* Bind one parameter; returns its "$N". */
static int
audit_query_param(struct audit_query *q, const char *value)
{
	q->params[q->nparams] = value;
	return ++q->nparams;
}

/* A numeric parameter kept in q's own storage. */
static int
audit_query_num(struct audit_query *q, int slot, long long v)
{
	snprintf(q->num[slot], sizeof q->num[slot], "%lld", v);
	return audit_query_param(q, q->num[slot]);
}

void
audit_query_build(const struct audit_filter *f, struct audit_query *q)
{
	struct strbuf	 sb = { 0 };
	const char	*col = f->failures ? "t.finished_at" : "t.created_at";
	int		 n;

	memset(q, 0, sizeof *q);
	strbuf_addf(&sb, "SELECT t.id, to_char(%s, 'YYYY-MM-DD HH24:MI:SS'), "
	    AQ_TS("%s") ", t.status, t.action, coalesce(t.service, ''), "
	    "coalesce(t.playbook, ''), coalesce(t.targets, ''), r.actor, "
	    "coalesce(ap.approved_by, ''), t.wall_s, r.text, t.plan_id, "
	    "p.request_id, (SELECT (e->'hosts')::text FROM "
	    "jsonb_array_elements(CASE WHEN jsonb_typeof(p.detail->'tasks') "
	    "= 'array' THEN p.detail->'tasks' ELSE '[]' END) e WHERE "
	    "e->>'step' = t.step::text AND jsonb_typeof(e->'hosts') = 'array' "
	    "LIMIT 1) "
	    "FROM tasks t JOIN plans p ON p.id = t.plan_id "
	    "JOIN requests r ON r.id = p.request_id "
	    "LEFT JOIN LATERAL (SELECT x.approved_by FROM approvals x "
	    "WHERE x.plan_id = t.plan_id AND x.decision = 'approved' "
	    "ORDER BY x.id DESC LIMIT 1) ap ON true WHERE ", col, col);
	/* The predicate of tasks_failures_idx, spelt the same way. */
	if (f->failures)
		strbuf_adds(&sb, "t.status IN ('failed', 'timed_out') AND ");
	if (f->since != NULL) {
		n = audit_query_param(q, f->since);
		strbuf_addf(&sb, "%s >= $%d::timestamptz", col, n);
	} else {
		n = audit_query_num(q, 0, f->days > 0 ? f->days : 7);
		strbuf_addf(&sb, "%s >= now() - make_interval(days => "
		    "$%d::int)", col, n);
	}
	if (f->until != NULL) {
		n = audit_query_param(q, f->until);
		strbuf_addf(&sb, " AND %s < $%d::timestamptz", col, n);
	}
	if (f->service != NULL) {
		n = audit_query_param(q, f->service);
		strbuf_addf(&sb, " AND t.service = $%d", n);
	}
	if (f->status != NULL) {
		n = audit_query_param(q, f->status);
		strbuf_addf(&sb, " AND t.status = $%d", n);
	}
	if (f->user != NULL) {
		n = audit_query_param(q, f->user);
		strbuf_addf(&sb, " AND (r.actor = $%d OR "
		    "split_part(r.actor, '@', 1) = $%d OR EXISTS (SELECT 1 "
		    "FROM approvals y WHERE y.plan_id = t.plan_id AND "
		    "(y.approved_by = $%d OR split_part(y.approved_by, '@', 1) "
		    "= $%d)))", n, n, n, n);
	}
	if (f->intent != NULL) {
		n = audit_query_param(q, f->intent);
		strbuf_addf(&sb, " AND (t.action = $%d OR "
		    "strpos(lower(r.text), lower($%d)) > 0)", n, n);
	}
	if (f->after > 0) {
		n = audit_query_num(q, 1, f->after);
		strbuf_addf(&sb, " AND (%s, t.id) < (SELECT z.%s, z.id FROM "
		    "tasks z WHERE z.id = $%d::bigint)", col, col + 2, n);
	}
	n = audit_query_num(q, 2, f->limit > 0 ? f->limit : 50);
	strbuf_addf(&sb, " ORDER BY %s DESC, t.id DESC LIMIT $%d::int", col,
	    n);
	q->sql = strbuf_detach(&sb);
}

void
audit_query_free(struct audit_query *q)
{
	free(q->sql);
	q->sql = NULL;
}

PGresult *
audit_query_tasks(PGconn *pg, const struct audit_filter *f, char **errp)
{
	struct audit_query	 q;
	PGresult		*res;

	audit_query_build(f, &q);
	res = PQexecParams(pg, q.sql, q.nparams, NULL, q.params, NULL, NULL,
	    0);
	audit_query_free(&q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "audit query: %s", PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

PGresult *
audit_query_output_page(PGconn *pg, long long run_id, const char *started_at,
    long long after, int limit, char **errp)
{
	const char	*params[4];
	char		 b[3][32];
	PGresult	*res;

	snprintf(b[0], sizeof b[0], "%lld", run_id);
	snprintf(b[1], sizeof b[1], "%lld", after);
	snprintf(b[2], sizeof b[2], "%d", limit > 0 ? limit :
	    AUDIT_QUERY_PAGE);
	params[0] = b[0];
	params[1] = started_at;
	params[2] = b[1];
	params[3] = b[2];
	res = PQexecParams(pg,
	    "SELECT seq, stream, line FROM chiffon_run_lines($1::bigint, "
	    "$2::timestamptz, $3::bigint, NULL, $4::int, NULL, false)", 4,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "run %lld: cannot read its output: %s", run_id,
		    PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

long long
audit_query_output(PGconn *pg, long long run_id, int page_rows,
    audit_query_line_fn fn, void *data, char **errp)
{
	PGresult	*res;
	const char	*params[1];
	char		 idbuf[32], *started;
	long long	 after = 0, total = 0;
	int		 i, n, stop = 0;

	snprintf(idbuf, sizeof idbuf, "%lld", run_id);
	params[0] = idbuf;
	res = PQexecParams(pg, "SELECT started_at::text FROM runs WHERE id = "
	    "$1::bigint", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			set_error(errp, "run %lld: no such run", run_id);
		else
			set_error(errp, "run %lld: %s", run_id,
			    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	started = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (page_rows <= 0)
		page_rows = AUDIT_QUERY_PAGE;
	do {
		res = audit_query_output_page(pg, run_id, started, after,
		    page_rows, errp);
		if (res == NULL) {
			free(started);
			return -1;
		}
		n = PQntuples(res);
		for (i = 0; i < n && !stop; i++) {
			after = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			stop = fn(run_id, after,
			    atoi(PQgetvalue(res, i, 1)), PQgetvalue(res, i, 2),
			    (size_t)PQgetlength(res, i, 2), data);
			total++;
		}
		PQclear(res);
	} while (n == page_rows && !stop);
	free(started);
	return total;
}

int
audit_query_task_run(PGconn *pg, long long task_id, long long *run_idp,
    char **startedp, long long *linesp, char **commitp, char **errp)
{
	const char	*params[1];
	char		 idbuf[32];
	PGresult	*res;

	*run_idp = 0;
	*linesp = 0;
	*startedp = *commitp = NULL;
	snprintf(idbuf, sizeof idbuf, "%lld", task_id);
	params[0] = idbuf;
	res = PQexecParams(pg, "SELECT u.id, u.started_at::text, u.lines, "
	    "g.commit_id FROM tasks t LEFT JOIN LATERAL (SELECT r.id, "
	    "r.started_at, r.lines FROM runs r WHERE r.task_id = t.id "
	    "ORDER BY r.id DESC LIMIT 1) u ON true LEFT JOIN audit_git g ON "
	    "g.task_id = t.id WHERE t.id = $1::bigint", 1, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			set_error(errp, "task %lld: no such task", task_id);
		else
			set_error(errp, "task %lld: %s", task_id,
			    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (!PQgetisnull(res, 0, 0)) {
		*run_idp = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*startedp = xstrdup(PQgetvalue(res, 0, 1));
		*linesp = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	if (!PQgetisnull(res, 0, 3))
		*commitp = xstrdup(PQgetvalue(res, 0, 3));
	PQclear(res);
	return 0;
}

long long
audit_query_output_find(PGconn *pg, long long run_id, const char *started_at,
    long long from, int forward, const char *text, char **errp)
{
	const char	*params[5];
	char		 b[2][32];
	PGresult	*res;
	long long	 seq;

	snprintf(b[0], sizeof b[0], "%lld", run_id);
	snprintf(b[1], sizeof b[1], "%lld", from);
	params[0] = b[0];
	params[1] = started_at;
	params[2] = b[1];
	params[3] = text;
	params[4] = forward ? "f" : "t";
	res = PQexecParams(pg, "SELECT seq FROM chiffon_run_lines($1::bigint, "
	    "$2::timestamptz, $3::bigint, NULL, 1, ARRAY[$4], $5::boolean)",
	    5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "run %lld: cannot search its output: %s",
		    run_id, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	seq = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL,
	    10) : 0;
	PQclear(res);
	return seq;
}

char *
audit_query_targets(const PGresult *res, int row,
    struct json_object **hostsp)
{
	struct json_object	*hosts = NULL;
	const char		*v;
	char			*s;

	if (hostsp != NULL)
		*hostsp = NULL;
	if (!PQgetisnull(res, row, AUDIT_COL_HOSTS))
		hosts = json_tokener_parse(PQgetvalue(res, row,
		    AUDIT_COL_HOSTS));
	if (hosts == NULL || !json_object_is_type(hosts, json_type_array)) {
		json_object_put(hosts);
		v = PQgetvalue(res, row, AUDIT_COL_TARGETS);
		return xstrdup(*v != '\0' ? v : "all");
	}
	s = targets_text(hosts);
	if (hostsp != NULL)
		*hostsp = hosts;
	else
		json_object_put(hosts);
	return s;
}
