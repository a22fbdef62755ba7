/*
 * dispatch.c - the work queue in PostgreSQL: queueing approved tasks,
 * claiming with FOR UPDATE SKIP LOCKED, finishing and retrying, lease
 * expiry, resource pauses, and agent heartbeats.  See dispatch.h.
 *
 * Each function is one transaction.  Audit rows written inside a
 * transaction sit behind a savepoint so that a failing audit write is
 * logged but never undoes the dispatch decision it describes.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "approve-hash.h"
#include "audit.h"
#include "db.h"
#include "dispatch.h"
#include "log.h"
#include "procfs.h"
#include "route.h"
#include "run-summary.h"
#include "util.h"

#define DISPATCH_MAX_ATTEMPTS	3
#define DISPATCH_CLAIM_BATCH	"16"	/* candidates looked at per claim */
#define DISPATCH_BACKOFF_MAX	3600.0
#define DISPATCH_WHO		"dispatch"
#define DISPATCH_PAUSE_PREFIX	"waiting for resources: "

/* Free now (K_free, else K) of metrics M for resource need.k. */
#define DISPATCH_FREE(M)						\
	"coalesce(CASE WHEN jsonb_typeof((" M ") -> (need.k || '_free'))" \
	" = 'number' THEN ((" M ") ->> (need.k || '_free'))::float8 END,"  \
	" ((" M ") ->> need.k)::float8)"
/* True when metrics M provide the resources R at PCT percent. */
#define DISPATCH_FITS(R, M, PCT)					\
	"NOT EXISTS (SELECT 1 FROM jsonb_each(" R ") AS need(k, v)"	\
	" WHERE NOT coalesce(CASE WHEN jsonb_typeof(need.v) <> 'number'" \
	" THEN (" M ") ? need.k"					\
	" ELSE jsonb_typeof((" M ") -> need.k) = 'number'"		\
	" AND ((" M ") ->> need.k)::float8 > 0"			\
	" AND " DISPATCH_FREE(M) " >= (need.v #>> '{}')::float8"	\
	" AND 100 * " DISPATCH_FREE(M) " >= " PCT "::float8"		\
	" * ((" M ") ->> need.k)::float8 END, false))"
/* Agent alias A is online (heartbeat within TIMEOUT seconds). */
#define DISPATCH_ONLINE(A, TIMEOUT)					\
	A ".status = 'online' AND " A ".last_heartbeat > now()"	\
	" - make_interval(secs => " TIMEOUT "::float8)"

/* -- helpers ----------------------------------------------------------- */

char *
dispatch_text_array(const char *const *v, size_t n)
{
	struct strbuf	 sb = { 0 };
	const char	*s;
	size_t		 i;

	strbuf_addc(&sb, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		strbuf_addc(&sb, '"');
		for (s = v[i]; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				strbuf_addc(&sb, '\\');
			strbuf_addc(&sb, *s);
		}
		strbuf_addc(&sb, '"');
	}
	strbuf_addc(&sb, '}');
	return strbuf_detach(&sb);
}

static char *
dispatch_id_array(const long long *ids, size_t n)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	strbuf_addc(&sb, '{');
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%lld", i > 0 ? "," : "", ids[i]);
	strbuf_addc(&sb, '}');
	return strbuf_detach(&sb);
}

static const char *
dispatch_val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* A JSON object text of key/value string pairs (NULL values skipped). */
static char *
dispatch_json(const char *key, ...)
{
	struct json_object	*o = json_object_new_object();
	const char		*k, *v;
	char			*out;
	va_list			 ap;

	va_start(ap, key);
	for (k = key; k != NULL; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		if (v != NULL)
			json_object_object_add(o, k,
			    json_object_new_string(v));
	}
	va_end(ap);
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/*
 * One audit row.  In a transaction (in_tx) it sits behind a savepoint so
 * that its failure leaves the transaction usable.  Failures are logged.
 */
static void
dispatch_audit(PGconn *pg, int in_tx, const char *kind, long long request_id,
    long long plan_id, long long task_id, const char *service,
    const char *data_json)
{
	struct audit_ids	 ids = { 0 };
	char			*err = NULL;

	ids.request_id = request_id;
	ids.plan_id = plan_id;
	ids.task_id = task_id;
	if (in_tx && db_run(pg, "SAVEPOINT dispatch_audit", 0, NULL,
	    &err) != 0) {
		log_msg(CHIFFON_LOG_WARNING, DISPATCH_WHO, "audit %s for task "
		    "%lld not recorded: %s", kind, task_id, err);
		free(err);
		return;
	}
	if (audit_record(pg, kind, NULL, &ids, service, data_json,
	    &err) < 0) {
		log_msg(CHIFFON_LOG_WARNING, DISPATCH_WHO, "audit %s for task "
		    "%lld not recorded: %s", kind, task_id,
		    err != NULL ? err : "unknown error");
		free(err);
		err = NULL;
		if (in_tx && db_run(pg, "ROLLBACK TO SAVEPOINT "
		    "dispatch_audit", 0, NULL, &err) != 0) {
			free(err);
			err = NULL;
		}
	}
	if (in_tx && db_run(pg, "RELEASE SAVEPOINT dispatch_audit", 0,
	    NULL, &err) != 0)
		free(err);
}

/* The backoff before attempt number attempt + 1. */
static double
dispatch_backoff(const struct dispatch_params *dp, int attempt)
{
	double	s = dp->backoff_s;
	int	i;

	for (i = 1; i < attempt && s < DISPATCH_BACKOFF_MAX; i++)
		s *= 2;
	return s < DISPATCH_BACKOFF_MAX ? s : DISPATCH_BACKOFF_MAX;
}

/*
 * A task ended in a final state other than succeeded: cancel the tasks
 * that depend on it, transitively, and drop their queue rows.
 */
static int
dispatch_cancel_dependents(PGconn *pg, long long task_id, const char *status,
    char **errp)
{
	const char	*params[2];
	char		 tid[32], *why;
	int		 rc;

	snprintf(tid, sizeof tid, "%lld", task_id);
	why = xasprintf("canceled: task %lld it depends on ended %s",
	    task_id, status);
	params[0] = tid;
	params[1] = why;
	rc = db_run(pg, "WITH RECURSIVE dead(id) AS ("
	    " SELECT $1::bigint UNION"
	    " SELECT t.id FROM tasks t JOIN dead d ON d.id = ANY (t.depends_on))"
	    " UPDATE tasks SET status = 'canceled', status_reason = $2"
	    " WHERE id IN (SELECT id FROM dead) AND id <> $1::bigint"
	    " AND status IN ('approved', 'queued', 'paused')", 2, params,
	    errp);
	free(why);
	if (rc != 0)
		return -1;
	return db_run(pg, "DELETE FROM work_queue q USING tasks t"
	    " WHERE t.id = q.task_id AND q.claimed_by IS NULL"
	    " AND chiffon_task_terminal(t.status)", 0, NULL, errp);
}

const char *const dispatch_task_states[] = {
	"pending_approval", "approved", "queued", "running", "succeeded",
	"failed", "canceled", "timed_out", "interrupted", "incomplete",
	"paused", "rejected", "superseded",
};
const size_t dispatch_ntask_states = nitems(dispatch_task_states);

int
dispatch_task_final(const char *status)
{
	static const char *const finals[] = { "succeeded", "failed",
	    "canceled", "timed_out", "interrupted", "rejected", "superseded",
	    NULL };

	return str_in_list(status, finals);
}

/* When no task of the plan row is left unfinished, set its status. */
static int
dispatch_plan_settle(PGconn *pg, long long plan_id, char **errp)
{
	const char	*params[1];
	char		 pid[32];

	snprintf(pid, sizeof pid, "%lld", plan_id);
	params[0] = pid;
	return db_run(pg, "UPDATE plans SET status = (SELECT CASE"
	    " WHEN bool_and(t.status = 'succeeded') THEN 'succeeded'"
	    " WHEN bool_and(t.status = 'canceled') THEN 'canceled'"
	    " WHEN bool_or(t.status = 'interrupted') THEN 'interrupted'"
	    " ELSE 'failed' END FROM tasks t WHERE t.plan_id = $1::bigint)"
	    " WHERE id = $1::bigint AND status IN ('approved', 'running')"
	    " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.plan_id ="
	    " $1::bigint AND NOT chiffon_task_terminal(t.status))", 1, params,
	    errp);
}

/* -- queueing ------------------------------------------------------------ */

/*
 * Queue task tid for capability: its work_queue row and status queued,
 * through chiffon_queue_task (schema 005: the runtime role cannot insert
 * into work_queue or move a task to queued itself).  again: a paused task
 * coming back, whose row may still be there; the workers are woken
 * explicitly.  0, or -1 with *errp.
 */
static int
dispatch_queue_task(PGconn *pg, const char *tid, const char *capability,
    int again, char **errp)
{
	const char	*params[3] = { tid, capability, again ? "t" : "f" };

	return db_run(pg, "SELECT chiffon_queue_task($1::bigint, $2,"
	    " $3::boolean)", 3, params, errp);
}

int
dispatch_enqueue(PGconn *pg, long long plan_row_id, int *nqueuedp,
    char **errp)
{
	const char	*params[2];
	char		 pid[32], *data;
	PGresult	*res = NULL;
	int		 i, n;

	if (nqueuedp != NULL)
		*nqueuedp = 0;
	snprintf(pid, sizeof pid, "%lld", plan_row_id);
	params[0] = pid;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	res = db_exec(pg, "SELECT t.id, t.capability, t.service,"
	    " p.request_id, t.step FROM tasks t JOIN plans p ON p.id = t.plan_id"
	    " WHERE t.plan_id = $1::bigint AND t.status = 'approved'"
	    " ORDER BY t.step FOR UPDATE OF t", 1, params, errp);
	if (res == NULL)
		goto fail;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		params[0] = PQgetvalue(res, i, 0);
		params[1] = PQgetvalue(res, i, 1);
		if (dispatch_queue_task(pg, params[0], params[1], 0,
		    errp) != 0)
			goto fail;
		data = dispatch_json("capability", params[1], "step",
		    PQgetvalue(res, i, 4), (char *)NULL);
		dispatch_audit(pg, 1, "task.dispatched",
		    atoll(PQgetvalue(res, i, 3)), plan_row_id,
		    atoll(params[0]), dispatch_val(res, i, 2), data);
		free(data);
	}
	params[0] = pid;
	if (n > 0 && db_run(pg, "UPDATE plans SET status = 'running'"
	    " WHERE id = $1::bigint AND status = 'approved'", 1, params,
	    errp) != 0)
		goto fail;
	PQclear(res);
	res = NULL;
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
		return -1;
	if (nqueuedp != NULL)
		*nqueuedp = n;
	return 0;

fail:
	PQclear(res);
	db_rollback(pg);
	return -1;
}

/* -- claiming ------------------------------------------------------------ */

/*
 * Ownership (schema/003): a row with owner_agent is claimed by that agent
 * only, and without routing (column 16 says whose it is); with $4 set
 * (owned_only) the agent claims nothing else.
 */
#define DISPATCH_OWNER_COLUMN	", q.owner_agent"
#define DISPATCH_OWNER_FILTER						\
    " AND (q.owner_agent = $2 OR (q.owner_agent IS NULL"		\
    "  AND NOT $4::boolean))"
#define DISPATCH_OWNER_COL	16
#define DISPATCH_SKIP_TAGS_COL	17	/* after the owner column */

static const char dispatch_candidates_sql[] =
    "SELECT q.id, q.task_id, q.attempts, q.max_attempts, q.capability,"
    " extract(epoch FROM now() - q.available_at), t.plan_id, p.request_id,"
    " t.service, t.playbook, t.action, t.targets, to_jsonb(t.tags),"
    " t.extra_vars, t.check_mode, t.step"
    DISPATCH_OWNER_COLUMN
    ", to_jsonb(t.skip_tags)"
    " FROM work_queue q JOIN tasks t ON t.id = q.task_id"
    " JOIN plans p ON p.id = t.plan_id"
    " WHERE q.claimed_by IS NULL AND q.available_at <= now()"
    " AND q.capability = ANY ($1::text[]) AND t.status = 'queued'"
    DISPATCH_OWNER_FILTER
    " AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.id = ANY (t.depends_on)"
    "  AND d.status <> 'succeeded')"
    " AND (t.resources = '{}'::jsonb OR "
    DISPATCH_FITS("t.resources",
	"SELECT ag.resource_metrics FROM agents ag WHERE ag.name = $2", "$3")
    ")"
    " ORDER BY q.priority DESC, q.id"
    " LIMIT " DISPATCH_CLAIM_BATCH
    " FOR UPDATE OF q SKIP LOCKED";

/* The handler's parameters from a candidate row.  Caller frees. */
static char *
dispatch_params_json(PGresult *res, int i, int attempt, const char *agent,
    long long token)
{
	struct json_object	*o, *v;
	const char		*s;
	char			*out;

	o = json_object_new_object();
	json_object_object_add(o, "task_id",
	    json_object_new_int64(atoll(PQgetvalue(res, i, 1))));
	json_object_object_add(o, "attempt", json_object_new_int(attempt));
	json_object_object_add(o, "agent", json_object_new_string(agent));
	json_object_object_add(o, "claim_token", json_object_new_int64(token));
	if ((s = dispatch_val(res, i, 10)) != NULL)
		json_object_object_add(o, "action", json_object_new_string(s));
	if ((s = dispatch_val(res, i, 8)) != NULL)
		json_object_object_add(o, "service", json_object_new_string(s));
	if ((s = dispatch_val(res, i, 9)) != NULL)
		json_object_object_add(o, "playbook",
		    json_object_new_string(s));
	if ((s = dispatch_val(res, i, 11)) != NULL && *s != '\0')
		json_object_object_add(o, "limit", json_object_new_string(s));
	if ((s = dispatch_val(res, i, 12)) != NULL &&
	    (v = json_tokener_parse(s)) != NULL) {
		if (json_object_array_length(v) > 0)
			json_object_object_add(o, "tags", v);
		else
			json_object_put(v);
	}
	if ((s = dispatch_val(res, i, 13)) != NULL &&
	    (v = json_tokener_parse(s)) != NULL)
		json_object_object_add(o, "extra_vars", v);
	if ((s = dispatch_val(res, i, DISPATCH_SKIP_TAGS_COL)) != NULL &&
	    (v = json_tokener_parse(s)) != NULL) {
		if (json_object_array_length(v) > 0)
			json_object_object_add(o, "skip_tags", v);
		else
			json_object_put(v);
	}
	s = dispatch_val(res, i, 14);
	json_object_object_add(o, "check",
	    json_object_new_boolean(s != NULL && *s == 't'));
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static void	dispatch_audit_task(PGconn *, const struct dispatch_params *,
		    long long task_id);

/*
 * Candidate row i no longer matches its approval (why): it fails without
 * running, with a "task.refused" audit row, inside the claim's
 * transaction.  0, or -1 with *errp.
 */
static int
dispatch_refuse(PGconn *pg, const struct dispatch_params *dp,
    PGresult *cand, int i, const char *why, char **errp)
{
	const char	*params[3];
	char		*result, *data;
	long long	 tid = atoll(PQgetvalue(cand, i, 1));

	result = dispatch_json("error", why, (char *)NULL);
	params[0] = PQgetvalue(cand, i, 1);
	params[1] = why;
	params[2] = result;
	if (db_run(pg, "UPDATE tasks SET status = 'failed',"
	    " status_reason = $2, result = $3::jsonb WHERE id = $1::bigint"
	    " AND status = 'queued'", 3, params, errp) != 0 ||
	    db_run(pg, "DELETE FROM work_queue WHERE task_id ="
	    " $1::bigint", 1, params, errp) != 0 ||
	    dispatch_cancel_dependents(pg, tid, "failed", errp) != 0 ||
	    dispatch_plan_settle(pg, atoll(PQgetvalue(cand, i, 6)),
	    errp) != 0) {
		free(result);
		return -1;
	}
	free(result);
	log_msg(CHIFFON_LOG_WARNING, DISPATCH_WHO, "%s: task %lld refused: %s",
	    dp->agent, tid, why);
	data = dispatch_json("reason", why, "agent", dp->agent, (char *)NULL);
	dispatch_audit(pg, 1, "task.refused", atoll(PQgetvalue(cand, i, 7)),
	    atoll(PQgetvalue(cand, i, 6)), tid, dispatch_val(cand, i, 8),
	    data);
	free(data);
	return 0;
}

/* dispatch_take: the candidate failed its approval check instead. */
#define DISPATCH_REFUSED	1

/*
 * Claim candidate row i for dp->agent.  0, DISPATCH_REFUSED when it no
 * longer matches its approval (it failed instead), or -1 with *errp.
 */
static int
dispatch_take(PGconn *pg, const struct dispatch_params *dp, PGresult *cand,
    int i, const char *reason, const char *scores,
    struct dispatch_claim *c, char **errp)
{
	const char	*params[3];
	char		 lease[32], att[16], *why = NULL;
	PGresult	*res;
	int		 rc;

	/* What would run must be what was approved (approve-hash.h). */
	if ((rc = approve_hash_check(pg, atoll(PQgetvalue(cand, i, 1)),
	    &dp->scope, &why, errp)) != 0) {
		if (rc > 0)
			rc = dispatch_refuse(pg, dp, cand, i, why, errp) == 0 ?
			    DISPATCH_REFUSED : -1;
		free(why);
		return rc;
	}
	snprintf(lease, sizeof lease, "%.3f", dp->lease_s);
	params[0] = PQgetvalue(cand, i, 0);
	params[1] = dp->agent;
	params[2] = lease;
	res = db_exec(pg, "UPDATE work_queue SET claimed_by = $2,"
	    " claimed_at = now(), lease_until = now() + make_interval(secs =>"
	    " $3::float8), attempts = attempts + 1,"
	    " claim_token = nextval('chiffon_claim_token_seq')"
	    " WHERE id = $1::bigint RETURNING attempts, claim_token", 3,
	    params, errp);
	if (res == NULL)
		return -1;
	memset(c, 0, sizeof *c);
	c->attempt = atoi(PQgetvalue(res, 0, 0));
	c->token = atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	snprintf(att, sizeof att, "%d", c->attempt);
	params[0] = PQgetvalue(cand, i, 1);
	params[1] = att;
	/* queued -> running as the owner (schema 005, chiffon_claim_task). */
	if (db_run(pg, "SELECT chiffon_claim_task($1::bigint,"
	    " $2::integer)", 2, params, errp) != 0)
		return -1;
	c->task_id = atoll(PQgetvalue(cand, i, 1));
	c->max_attempts = atoi(PQgetvalue(cand, i, 3));
	c->capability = xstrdup(PQgetvalue(cand, i, 4));
	c->plan_id = atoll(PQgetvalue(cand, i, 6));
	c->request_id = atoll(PQgetvalue(cand, i, 7));
	c->service = dispatch_val(cand, i, 8) != NULL ?
	    xstrdup(PQgetvalue(cand, i, 8)) : NULL;
	c->params_json = dispatch_params_json(cand, i, c->attempt, dp->agent,
	    c->token);
	if (route_record(pg, c->task_id, c->attempt, c->capability, dp->agent,
	    "dispatched", reason, scores, errp) != 0) {
		dispatch_claim_free(c);
		return -1;
	}
	{
		struct json_object	*o = json_object_new_object();

		json_object_object_add(o, "agent",
		    json_object_new_string(dp->agent));
		json_object_object_add(o, "attempt",
		    json_object_new_int(c->attempt));
		json_object_object_add(o, "reason",
		    json_object_new_string(reason));
		json_object_object_add(o, "scores",
		    json_tokener_parse(scores));
		dispatch_audit(pg, 1, "task.routed", c->request_id, c->plan_id,
		    c->task_id, c->service, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
		json_object_object_del(o, "scores");
		json_object_object_del(o, "reason");
		json_object_object_add(o, "capability",
		    json_object_new_string(c->capability));
		dispatch_audit(pg, 1, "run.started", c->request_id, c->plan_id,
		    c->task_id, c->service, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	return 0;
}

/* Whether candidate row i is owned by dp->agent. */
static int
dispatch_owned(PGresult *cand, int i, const struct dispatch_params *dp)
{
	const char	*owner = dispatch_val(cand, i, DISPATCH_OWNER_COL);

	return owner != NULL && strcmp(owner, dp->agent) == 0;
}

int
dispatch_set_owner(PGconn *pg, const char *agent, char **errp)
{
	const char	*params[1] = { agent != NULL ? agent : "" };
	PGresult	*res;

	res = db_exec(pg, "SELECT set_config('chiffon.owner_agent',"
	    " $1, false)", 1, params, errp);
	PQclear(res);
	return res != NULL ? 0 : -1;
}

int
dispatch_disown(PGconn *pg, long long plan_row_id, char **errp)
{
	const char	*params[1];
	char		 row[32];

	snprintf(row, sizeof row, "%lld", plan_row_id);
	params[0] = row;
	return db_run(pg, "UPDATE work_queue SET owner_agent = NULL"
	    " WHERE task_id IN (SELECT id FROM tasks WHERE plan_id ="
	    " $1::bigint)", 1, params, errp);
}

int
dispatch_claim(PGconn *pg, const struct dispatch_params *dp,
    struct dispatch_claim *c, char **errp)
{
	struct route_result	 rr;
	const char		*params[4], *work;
	char			*caps, pct[16], *reason = NULL, *scores;
	PGresult		*cand;
	long long		*refused = NULL;
	int			 i, n, take, claimed = 0, nrefused = 0, rc;

	memset(c, 0, sizeof *c);
	if (dp->ncaps == 0)
		return 0;
	caps = dispatch_text_array(dp->caps, dp->ncaps);
	snprintf(pct, sizeof pct, "%d", dp->min_capacity_percent);
	params[0] = caps;
	params[1] = dp->agent;
	params[2] = pct;
	params[3] = dp->owned_only ? "t" : "f";
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0) {
		free(caps);
		return -1;
	}
	cand = db_exec(pg, dispatch_candidates_sql, 4, params, errp);
	free(caps);
	if (cand == NULL)
		goto fail;
	n = PQntuples(cand);
	refused = xcalloc((size_t)n + 1, sizeof *refused);
	for (i = 0; i < n && !claimed; i++) {
		work = dispatch_val(cand, i, 9);
		if (work == NULL)
			work = dispatch_val(cand, i, 10);
		if (route_score(pg, PQgetvalue(cand, i, 4), work,
		    dp->agent_timeout_s, &rr, errp) != 0)
			goto fail;
		if (dispatch_owned(cand, i, dp)) {
			take = 1;
			reason = xasprintf("approved for %s (owner)",
			    dp->agent);
		} else
			take = route_should_claim(&rr, dp->agent,
			    atof(PQgetvalue(cand, i, 5)), dp->grace_s,
			    &reason);
		if (take) {
			scores = route_scores_json(&rr);
			if ((rc = dispatch_take(pg, dp, cand, i, reason, scores,
			    c, errp)) < 0) {
				free(scores);
				free(reason);
				route_result_free(&rr);
				goto fail;
			}
			free(scores);
			if (rc == DISPATCH_REFUSED)
				refused[nrefused++] = atoll(PQgetvalue(cand, i,
				    1));
			else
				claimed = 1;
		} else
			log_msg(CHIFFON_LOG_DEBUG, DISPATCH_WHO, "%s: task %s "
			    "%s", dp->agent, PQgetvalue(cand, i, 1), reason);
		free(reason);
		reason = NULL;
		route_result_free(&rr);
	}
	PQclear(cand);
	cand = NULL;
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0) {
		if (claimed)
			dispatch_claim_free(c);
		free(refused);
		return -1;
	}
	for (i = 0; i < nrefused; i++)
		dispatch_audit_task(pg, dp, refused[i]);
	free(refused);
	return claimed;

fail:
	free(refused);
	PQclear(cand);
	db_rollback(pg);
	return -1;
}

void
dispatch_claim_free(struct dispatch_claim *c)
{
	if (c == NULL)
		return;
	free(c->capability);
	free(c->service);
	free(c->params_json);
	memset(c, 0, sizeof *c);
}

/* -- finishing ----------------------------------------------------------- */

/* tasks.status for a capability's final status. */
static const char *
dispatch_final_status(const char *status)
{
	if (status == NULL)
		return "failed";
	if (strcmp(status, "successful") == 0)
		return "succeeded";
	if (strcmp(status, "timeout") == 0)
		return "timed_out";
	if (strcmp(status, "canceled") == 0)
		return "canceled";
	if (strcmp(status, "interrupted") == 0)
		return "interrupted";
	return "failed";
}

/*
 * Whether an attempt that ended with status/result may be retried, and
 * why (static storage), or NULL when not.
 */
static const char *
dispatch_retry_reason(const char *status, struct json_object *result)
{
	struct json_object	*v;
	struct run_summary	 rs;

	if (status != NULL && strcmp(status, "timeout") == 0)
		return "timed out";
	if (status == NULL || strcmp(status, "failed") != 0 || result == NULL)
		return NULL;
	if (json_object_object_get_ex(result, "retryable", &v) &&
	    json_object_get_boolean(v))
		return "retryable failure";
	run_summary_totals(result, &rs);
	if (rs.unreachable > 0 && rs.failed == 0)
		return "host unreachable";
	return NULL;
}

/* A number from the result (top level, "usage" or "rusage"), or NULL. */
static char *
dispatch_usage(struct json_object *result, const char *key)
{
	static const char *const	 where[] = { "usage", "rusage" };
	struct json_object		*o, *v;
	size_t				 i;

	if (result == NULL)
		return NULL;
	for (i = 0; i < nitems(where); i++) {
		if (json_object_object_get_ex(result, where[i], &o) &&
		    json_object_object_get_ex(o, key, &v) &&
		    (json_object_is_type(v, json_type_double) ||
		    json_object_is_type(v, json_type_int)))
			return xasprintf("%.17g", json_object_get_double(v));
	}
	if (json_object_object_get_ex(result, key, &v) &&
	    (json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int)))
		return xasprintf("%.17g", json_object_get_double(v));
	return NULL;
}

/* Put a claimed task back in the queue (inside a transaction). */
static int
dispatch_requeue(PGconn *pg, const struct dispatch_params *dp,
    long long task_id, const char *capability, int attempt,
    int max_attempts, double delay_s, const char *error,
    const char *result_json, const char *chosen, char **errp)
{
	const char	*params[5];
	char		 tid[32], delay[32], *why;

	snprintf(tid, sizeof tid, "%lld", task_id);
	snprintf(delay, sizeof delay, "%.3f", delay_s);
	why = xasprintf("retry %d of %d after: %s", attempt + 1, max_attempts,
	    error);
	params[0] = tid;
	params[1] = error;
	params[2] = delay;
	if (db_run(pg, "UPDATE work_queue SET claimed_by = NULL,"
	    " claimed_at = NULL, lease_until = NULL, last_error = $2,"
	    " available_at = now() + make_interval(secs => $3::float8)"
	    " WHERE task_id = $1::bigint", 3, params, errp) != 0)
		goto fail;
	params[1] = why;
	params[2] = result_json;
	if (db_run(pg, "UPDATE tasks SET status = 'queued',"
	    " status_reason = $2, result = $3::jsonb WHERE id = $1::bigint"
	    " AND status = 'running'", 3, params, errp) != 0)
		goto fail;
	params[0] = capability;
	if (db_run(pg, "SELECT pg_notify('chiffon_work', $1)", 1,
	    params, errp) != 0)
		goto fail;
	if (route_record(pg, task_id, attempt, capability, chosen, "requeued",
	    why, NULL, errp) != 0)
		goto fail;
	free(why);
	(void)dp;
	return 0;

fail:
	free(why);
	return -1;
}

/* Finish a claimed task in a final state (inside a transaction). */
static int
dispatch_final(PGconn *pg, long long task_id, long long plan_id,
    const char *final, const char *reason, const char *result_json,
    struct json_object *result, char **errp)
{
	static const char *const	 keys[] = {
		"wall_s", "user_s", "sys_s", "maxrss_kb", "gpu_mem_mb"
	};
	const char			*params[9];
	char				 tid[32], *usage[nitems(keys)];
	size_t				 i;
	int				 rc;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	params[1] = final;
	params[2] = result_json;
	params[3] = reason;
	for (i = 0; i < nitems(keys); i++)
		params[4 + i] = usage[i] = dispatch_usage(result, keys[i]);
	rc = db_run(pg, "UPDATE tasks t SET status = $2,"
	    " result = $3::jsonb, status_reason = $4,"
	    " wall_s = coalesce($5::float8, (SELECT r.wall_s FROM runs r"
	    "  WHERE r.task_id = t.id ORDER BY r.id DESC LIMIT 1),"
	    "  extract(epoch FROM clock_timestamp() - t.started_at)),"
	    " user_s = coalesce($6::float8, (SELECT r.user_s FROM runs r"
	    "  WHERE r.task_id = t.id ORDER BY r.id DESC LIMIT 1)),"
	    " sys_s = coalesce($7::float8, (SELECT r.sys_s FROM runs r"
	    "  WHERE r.task_id = t.id ORDER BY r.id DESC LIMIT 1)),"
	    " maxrss_kb = coalesce($8::float8::bigint, (SELECT r.maxrss_kb"
	    "  FROM runs r WHERE r.task_id = t.id ORDER BY r.id DESC LIMIT 1)),"
	    " gpu_mem_mb = coalesce($9::float8::bigint, t.gpu_mem_mb)"
	    " WHERE t.id = $1::bigint AND (t.status IN ('running',"
	    " 'incomplete') OR ($2 = 'interrupted' AND t.status IN"
	    " ('queued', 'paused')))", 9, params, errp);
	for (i = 0; i < nitems(keys); i++)
		free(usage[i]);
	if (rc != 0)
		return -1;
	if (db_run(pg, "DELETE FROM work_queue WHERE task_id ="
	    " $1::bigint", 1, params, errp) != 0)
		return -1;
	if (strcmp(final, "succeeded") != 0 &&
	    dispatch_cancel_dependents(pg, task_id, final, errp) != 0)
		return -1;
	return dispatch_plan_settle(pg, plan_id, errp);
}

/* A run.finished audit row (outside any transaction). */
static void
dispatch_audit_finished(PGconn *pg, const struct dispatch_claim *c,
    const char *agent, const char *status, const char *outcome,
    const char *reason)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "agent", json_object_new_string(agent));
	json_object_object_add(o, "attempt", json_object_new_int(c->attempt));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "outcome", json_object_new_string(outcome));
	if (reason != NULL)
		json_object_object_add(o, "reason",
		    json_object_new_string(reason));
	dispatch_audit(pg, 0, "run.finished", c->request_id, c->plan_id,
	    c->task_id, c->service, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/*
 * A task reached its final state (committed): the "run.finished" audit
 * row and the git entry (audit.c).  Failures are logged, never fatal.
 */
static void
dispatch_audit_task(PGconn *pg, const struct dispatch_params *dp,
    long long task_id)
{
	char	*err = NULL;

	if (audit_task_finished(pg, task_id, dp->audit_repo, NULL, &err) < 0) {
		log_msg(CHIFFON_LOG_WARNING, DISPATCH_WHO, "audit of finished "
		    "task %lld not recorded: %s", task_id,
		    err != NULL ? err : "unknown error");
		free(err);
	}
}

int
dispatch_finish(PGconn *pg, const struct dispatch_params *dp,
    const struct dispatch_claim *c, const char *status,
    const char *result_json, enum dispatch_outcome *outcomep,
    const char **final_statusp, char **errp)
{
	struct json_object	*result = NULL, *v;
	const char		*params[3], *retry, *final, *reason = NULL;
	char			 tid[32], tok[24], *exhausted = NULL;
	PGresult		*res;
	int			 attempts, max_attempts, incomplete;

	*outcomep = DISPATCH_LOST;
	*final_statusp = NULL;
	if (result_json == NULL)
		result_json = "{}";
	result = json_tokener_parse(result_json);
	if (result == NULL || !json_object_is_type(result, json_type_object)) {
		json_object_put(result);
		result = NULL;
		result_json = "{}";
	}
	snprintf(tid, sizeof tid, "%lld", c->task_id);
	snprintf(tok, sizeof tok, "%lld", c->token);
	params[0] = tid;
	params[1] = dp->agent;
	params[2] = tok;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		goto out;
	/* The fence: only the holder of this very claim may finish it. */
	res = db_exec(pg, "SELECT q.attempts, q.max_attempts,"
	    " EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id"
	    "  AND r.claim_token = q.claim_token"
	    "  AND r.status IN ('running', 'incomplete')) FROM"
	    " work_queue q JOIN tasks t ON t.id = q.task_id"
	    " WHERE q.task_id = $1::bigint AND q.claimed_by = $2"
	    " AND q.claim_token IS NOT DISTINCT FROM nullif($3::bigint, 0)"
	    " AND t.status = 'running' FOR UPDATE OF q, t", 3, params, errp);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		/* Paused, canceled or recovered elsewhere: not ours now. */
		PQclear(res);
		db_rollback(pg);
		json_object_put(result);
		return 0;
	}
	attempts = atoi(PQgetvalue(res, 0, 0));
	max_attempts = atoi(PQgetvalue(res, 0, 1));
	incomplete = *PQgetvalue(res, 0, 2) == 't';
	PQclear(res);

	retry = dispatch_retry_reason(status, result);
	if (incomplete) {
		/* Its output is not all stored: no verdict until it is. */
		final = dispatch_final_status(status);
		params[1] = final;
		params[2] = result_json;
		if (db_run(pg, "UPDATE tasks SET status = 'incomplete',"
		    " pending_status = $2, result = $3::jsonb, status_reason ="
		    " 'output not completely stored yet; it ends ' || $2 ||"
		    " ' once it is' WHERE id = $1::bigint AND status ="
		    " 'running'", 3, params, errp) != 0 ||
		    db_run(pg, "DELETE FROM work_queue WHERE task_id ="
		    " $1::bigint", 1, params, errp) != 0)
			goto fail;
		if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
			goto out;
		*outcomep = DISPATCH_FINISHED;
		*final_statusp = "incomplete";
		dispatch_audit_finished(pg, c, dp->agent, status != NULL ?
		    status : "failed", "incomplete", "output not completely "
		    "stored");
		json_object_put(result);
		return 0;
	}
	if (retry != NULL && attempts < max_attempts) {
		if (dispatch_requeue(pg, dp, c->task_id, c->capability,
		    attempts, max_attempts, dispatch_backoff(dp, attempts),
		    retry, result_json, dp->agent, errp) != 0)
			goto fail;
		if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
			goto out;
		*outcomep = DISPATCH_REQUEUED;
		dispatch_audit_finished(pg, c, dp->agent, status != NULL ?
		    status : "failed", "requeued", retry);
		json_object_put(result);
		return 0;
	}
	final = dispatch_final_status(status);
	if (retry != NULL) {
		exhausted = xasprintf("%s; %d of %d attempts used", retry,
		    attempts, max_attempts);
		reason = exhausted;
		if (route_record(pg, c->task_id, attempts, c->capability,
		    dp->agent, "failed", exhausted, NULL, errp) != 0)
			goto fail;
	} else if (result != NULL &&
	    json_object_object_get_ex(result, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		reason = json_object_get_string(v);
	if (dispatch_final(pg, c->task_id, c->plan_id, final, reason,
	    result_json, result, errp) != 0)
		goto fail;
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
		goto out;
	*outcomep = DISPATCH_FINISHED;
	*final_statusp = final;
	dispatch_audit_task(pg, dp, c->task_id);
	free(exhausted);
	json_object_put(result);
	return 0;

fail:
	db_rollback(pg);
out:
	free(exhausted);
	json_object_put(result);
	return -1;
}

int
dispatch_release(PGconn *pg, const struct dispatch_params *dp,
    const struct dispatch_claim *c, const char *why, char **errp)
{
	const char	*params[4];
	char		 tid[32], tok[24];

	snprintf(tid, sizeof tid, "%lld", c->task_id);
	snprintf(tok, sizeof tok, "%lld", c->token);
	params[0] = tid;
	params[1] = dp->agent;
	params[2] = why;
	params[3] = tok;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	if (db_run(pg, "UPDATE tasks t SET status = 'queued',"
	    " status_reason = $3 FROM work_queue q WHERE q.task_id = t.id"
	    " AND t.id = $1::bigint AND q.claimed_by = $2"
	    " AND q.claim_token IS NOT DISTINCT FROM nullif($4::bigint, 0)"
	    " AND t.status = 'running'", 4, params, errp) != 0 ||
	    db_run(pg, "UPDATE work_queue SET claimed_by = NULL,"
	    " claimed_at = NULL, lease_until = NULL, last_error = $3,"
	    " attempts = greatest(attempts - 1, 0)"
	    " WHERE task_id = $1::bigint AND claimed_by = $2"
	    " AND claim_token IS NOT DISTINCT FROM nullif($4::bigint, 0)", 4,
	    params, errp) != 0 ||
	    route_record(pg, c->task_id, c->attempt, c->capability,
	    dp->agent, "requeued", why, NULL, errp) != 0 ||
	    db_run(pg, "COMMIT", 0, NULL, errp) != 0) {
		db_rollback(pg);
		return -1;
	}
	return 0;
}

int
dispatch_renew(PGconn *pg, const struct dispatch_params *dp,
    const long long *ids, const long long *tokens, size_t n,
    long long **keptp, char **errp)
{
	const char	*params[4];
	char		 lease[32], *arr, *toks;
	PGresult	*res;
	int		 i, kept;

	*keptp = NULL;
	if (n == 0)
		return 0;
	arr = dispatch_id_array(ids, n);
	toks = dispatch_id_array(tokens, n);
	snprintf(lease, sizeof lease, "%.3f", dp->lease_s);
	params[0] = dp->agent;
	params[1] = lease;
	params[2] = arr;
	params[3] = toks;
	res = db_exec(pg, "UPDATE work_queue q SET lease_until ="
	    " now() + make_interval(secs => $2::float8) FROM tasks t,"
	    " unnest($3::bigint[], $4::bigint[]) AS c (task_id, token)"
	    " WHERE t.id = q.task_id AND t.status = 'running'"
	    " AND q.claimed_by = $1 AND q.task_id = c.task_id"
	    " AND q.claim_token IS NOT DISTINCT FROM nullif(c.token, 0)"
	    " RETURNING q.task_id", 4, params, errp);
	free(arr);
	free(toks);
	if (res == NULL)
		return -1;
	kept = PQntuples(res);
	*keptp = xcalloc((size_t)kept + 1, sizeof **keptp);
	for (i = 0; i < kept; i++)
		(*keptp)[i] = atoll(PQgetvalue(res, i, 0));
	PQclear(res);
	return kept;
}

/* -- lease expiry -------------------------------------------------------- */

/*
 * May a process that recorded an open run of task (a decimal string)
 * still exist?  1 or 0, -1 with *errp.  One of this host is looked up
 * (pid and start time); one of another host cannot be seen from here and
 * counts as alive: its playbook may still be going.
 */
static int
dispatch_owner_alive(PGconn *pg, const char *task, char **errp)
{
	const char	*params[2] = { task, NULL };
	char		 host[256];
	PGresult	*res;
	int		 i, alive = 0;

	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	params[1] = host;
	res = db_exec(pg, "SELECT owner_host = $2, owner_pid,"
	    " coalesce(owner_start, -1) FROM runs WHERE task_id = $1::bigint"
	    " AND status = 'running' AND owner_host IS NOT NULL"
	    " AND owner_pid IS NOT NULL", 2, params, errp);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && !alive; i++)
		alive = *PQgetvalue(res, i, 0) != 't' ||
		    procfs_proc_alive(atol(PQgetvalue(res, i, 1)),
		    strtoll(PQgetvalue(res, i, 2), NULL, 10));
	PQclear(res);
	return alive;
}

int
dispatch_recover(PGconn *pg, const struct dispatch_params *dp, char **errp)
{
	struct dispatch_claim	 c;
	const char		*params[2], *status, *agent;
	char			*why, *result;
	PGresult		*res;
	long long		*finals = NULL;
	int			 i, n, recovered = 0, attempts, max_attempts;
	int			 nfinals = 0, retry_safe, stalled;

	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	if (db_run(pg, "DELETE FROM work_queue q USING tasks t"
	    " WHERE t.id = q.task_id AND chiffon_task_terminal(t.status)"
	    " AND (q.claimed_by IS NULL OR q.lease_until < now())", 0, NULL,
	    errp) != 0)
		goto fail;
	res = db_exec(pg, "SELECT q.task_id, q.attempts,"
	    " q.max_attempts, q.claimed_by, t.status, q.capability,"
	    " t.plan_id, p.request_id, t.service, t.check_mode FROM work_queue q"
	    " JOIN tasks t ON t.id = q.task_id JOIN plans p ON p.id = t.plan_id"
	    " WHERE q.claimed_by IS NOT NULL AND q.lease_until < now()"
	    " ORDER BY q.id FOR UPDATE OF q, t SKIP LOCKED", 0, NULL, errp);
	if (res == NULL)
		goto fail;
	n = PQntuples(res);
	finals = xcalloc((size_t)n + 1, sizeof *finals);
	for (i = 0; i < n; i++) {
		params[0] = PQgetvalue(res, i, 0);
		attempts = atoi(PQgetvalue(res, i, 1));
		max_attempts = atoi(PQgetvalue(res, i, 2));
		agent = PQgetvalue(res, i, 3);
		status = PQgetvalue(res, i, 4);
		if (strcmp(status, "running") != 0) {
			/* Queued or paused with a stale claim: just free it. */
			if (db_run(pg, "UPDATE work_queue SET"
			    " claimed_by = NULL, claimed_at = NULL,"
			    " lease_until = NULL WHERE task_id = $1::bigint",
			    1, params, errp) != 0)
				goto fail_res;
			continue;
		}
		memset(&c, 0, sizeof c);
		c.task_id = atoll(params[0]);
		c.attempt = attempts;
		c.capability = PQgetvalue(res, i, 5);
		c.plan_id = atoll(PQgetvalue(res, i, 6));
		c.request_id = atoll(PQgetvalue(res, i, 7));
		c.service = (char *)dispatch_val(res, i, 8);
		/*
		 * A check-mode step is safe to run again only once the run it
		 * had is over: not while the process that holds it lives on
		 * here (stopped, stalled), its playbook perhaps still going,
		 * nor when it is of another host (it cannot be checked).
		 */
		retry_safe = *PQgetvalue(res, i, 9) == 't';
		stalled = retry_safe ? dispatch_owner_alive(pg, params[0],
		    errp) : 0;
		if (stalled < 0)
			goto fail_res;
		if (stalled)
			retry_safe = 0;
		/* Its runs end here: the old holder's writes are fenced. */
		if (db_run(pg, "SELECT chiffon_run_interrupt(id) FROM"
		    " runs WHERE task_id = $1::bigint AND status = 'running'",
		    1, params, errp) != 0)
			goto fail_res;
		why = xasprintf("worker lost: %s stopped renewing its lease",
		    agent);
		result = dispatch_json("error", why, (char *)NULL);
		if (retry_safe && attempts < max_attempts) {
			if (dispatch_requeue(pg, dp, c.task_id, c.capability,
			    attempts, max_attempts, dispatch_backoff(dp,
			    attempts), "worker lost", result, agent,
			    errp) != 0)
				goto fail_why;
		} else {
			free(why);
			why = stalled ? xasprintf("worker lost: %s stopped "
			    "renewing its lease, but its process still exists "
			    "(or is on another host) and its check-mode run may "
			    "still be going; it is not run a second time "
			    "alongside", agent) :
			    retry_safe ? xasprintf("worker lost: %s stopped "
			    "renewing its lease; %d of %d attempts used",
			    agent, attempts, max_attempts) : xasprintf("worker "
			    "lost: %s stopped renewing its lease; a step that "
			    "changes hosts is not run again by itself", agent);
			if (route_record(pg, c.task_id, attempts, c.capability,
			    agent, "failed", why, NULL, errp) != 0 ||
			    dispatch_final(pg, c.task_id, c.plan_id,
			    "interrupted", why, result, NULL, errp) != 0)
				goto fail_why;
		}
		if (retry_safe && attempts < max_attempts)
			dispatch_audit(pg, 1, "run.finished", c.request_id,
			    c.plan_id, c.task_id, c.service, result);
		else
			finals[nfinals++] = c.task_id;
		free(result);
		free(why);
		recovered++;
		continue;
fail_why:
		free(result);
		free(why);
		goto fail_res;
	}
	PQclear(res);
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0) {
		free(finals);
		return -1;
	}
	for (i = 0; i < nfinals; i++)
		dispatch_audit_task(pg, dp, finals[i]);
	free(finals);
	return recovered;

fail_res:
	PQclear(res);
fail:
	free(finals);
	db_rollback(pg);
	return -1;
}

int
dispatch_complete(PGconn *pg, long long task_id, const char *audit_repo,
    char **errp)
{
	struct dispatch_params	 dp = { .audit_repo = audit_repo };
	const char		*params[1];
	char			 tid[32];
	PGresult		*res;
	long long		 plan_id;
	char			*final, *result;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	res = db_exec(pg, "SELECT t.pending_status, t.plan_id,"
	    " coalesce(t.result, '{}')::text FROM tasks t"
	    " WHERE t.id = $1::bigint AND t.status = 'incomplete'"
	    " AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id"
	    " AND r.status IN ('running', 'incomplete')) FOR UPDATE", 1,
	    params, errp);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(pg);
		return 0;
	}
	final = xstrdup(PQgetvalue(res, 0, 0));
	plan_id = atoll(PQgetvalue(res, 0, 1));
	result = xstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	if (db_run(pg, "UPDATE tasks SET pending_status = NULL,"
	    " status_reason = NULL WHERE id = $1::bigint", 1, params,
	    errp) != 0 || dispatch_final(pg, task_id, plan_id, final, NULL,
	    result, NULL, errp) != 0 ||
	    db_run(pg, "COMMIT", 0, NULL, errp) != 0) {
		free(final);
		free(result);
		goto fail;
	}
	log_msg(CHIFFON_LOG_INFO, DISPATCH_WHO, "task %lld: its output is "
	    "stored completely now; it %s", task_id, final);
	free(final);
	free(result);
	dispatch_audit_task(pg, &dp, task_id);
	return 1;

fail:
	db_rollback(pg);
	return -1;
}

int
dispatch_output_lost(PGconn *pg, long long task_id, const char *final,
    const char *reason, const char *audit_repo, char **errp)
{
	struct dispatch_params	 dp = { .audit_repo = audit_repo };
	const char		*params[1];
	char			 tid[32], *result, *status;
	PGresult		*res;
	long long		 plan_id;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	res = db_exec(pg, "SELECT status, plan_id, coalesce(result,"
	    " '{}')::text FROM tasks WHERE id = $1::bigint FOR UPDATE", 1,
	    params, errp);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0),
	    "incomplete") != 0) {
		status = PQntuples(res) == 1 ? xstrdup(PQgetvalue(res, 0, 0)) :
		    NULL;
		PQclear(res);
		db_rollback(pg);
		if (status != NULL && strcmp(status, "running") == 0) {
			free(status);
			return 0;
		}
		free(status);
		return 1;
	}
	plan_id = atoll(PQgetvalue(res, 0, 1));
	result = xstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	if (db_run(pg, "UPDATE tasks SET pending_status = NULL"
	    " WHERE id = $1::bigint", 1, params, errp) != 0 ||
	    dispatch_final(pg, task_id, plan_id, final, reason, result, NULL,
	    errp) != 0 ||
	    db_run(pg, "COMMIT", 0, NULL, errp) != 0) {
		free(result);
		goto fail;
	}
	free(result);
	dispatch_audit_task(pg, &dp, task_id);
	return 1;

fail:
	db_rollback(pg);
	return -1;
}

/*
 * The one way into 'interrupted' (inside a transaction, the task row
 * locked): unless the task already ended, dispatch_final with reason
 * (its queue row goes, its dependents are canceled, the plan settles)
 * and one "task.interrupted" audit row.  Its open runs are the caller's:
 * dispatch_interrupt closes them (their process is gone); a shell
 * interrupting its own plan (dispatch_interrupt_plan) is stopping them
 * and their last rows still arrive.  1 when it was interrupted, 0 when
 * it had ended, -1 with *errp.
 */
static int
dispatch_interrupted(PGconn *pg, long long task_id, long long plan_id,
    long long request_id, const char *service, const char *reason,
    char **errp)
{
	const char	*params[1];
	char		 tid[32], *result, *data;
	PGresult	*res;
	int		 live;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	if ((res = db_exec(pg, "SELECT 1 FROM tasks WHERE id = $1::bigint"
	    " AND status IN ('running', 'queued', 'paused')", 1, params,
	    errp)) == NULL)
		return -1;
	live = PQntuples(res) > 0;
	PQclear(res);
	if (!live)
		return 0;
	result = dispatch_json("error", reason, (char *)NULL);
	if (dispatch_final(pg, task_id, plan_id, "interrupted", reason,
	    result, NULL, errp) != 0) {
		free(result);
		return -1;
	}
	free(result);
	data = dispatch_json("reason", reason, (char *)NULL);
	dispatch_audit(pg, 1, "task.interrupted", request_id, plan_id,
	    task_id, service, data);
	free(data);
	return 1;
}

int
dispatch_interrupt(PGconn *pg, long long task_id, long long token,
    const char *agent, const char *reason, const char *audit_repo,
    char **errp)
{
	struct dispatch_params	 dp = { .audit_repo = audit_repo };
	const char		*params[3];
	char			 tid[32], tok[24];
	PGresult		*res;

	snprintf(tid, sizeof tid, "%lld", task_id);
	snprintf(tok, sizeof tok, "%lld", token);
	params[0] = tid;
	params[1] = tok;
	params[2] = agent != NULL ? agent : "";
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	res = db_exec(pg, "SELECT t.plan_id, p.request_id, t.service"
	    " FROM work_queue q JOIN tasks t ON t.id = q.task_id"
	    " JOIN plans p ON p.id = t.plan_id WHERE q.task_id = $1::bigint"
	    " AND t.status = 'running' AND (q.claim_token = $2::bigint"
	    " OR ($2::bigint = 0 AND q.claimed_by = $3))"
	    " FOR UPDATE OF q, t", 3, params, errp);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(pg);
		return 0;
	}
	if (db_run(pg, "SELECT chiffon_run_interrupt(id) FROM runs"
	    " WHERE task_id = $1::bigint AND status = 'running'", 1, params,
	    errp) != 0 || dispatch_interrupted(pg, task_id,
	    atoll(PQgetvalue(res, 0, 0)), atoll(PQgetvalue(res, 0, 1)),
	    dispatch_val(res, 0, 2), reason, errp) < 0 ||
	    db_run(pg, "COMMIT", 0, NULL, errp) != 0) {
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	dispatch_audit_task(pg, &dp, task_id);
	return 1;

fail:
	db_rollback(pg);
	return -1;
}

/* -- resources, pause and resume ----------------------------------------- */

/*
 * The reason a task with resources R and capability cap cannot be placed:
 * the resources no single online agent provides.  Caller frees.
 */
static char *
dispatch_missing(PGconn *pg, const struct dispatch_params *dp,
    const char *task_id, const char *cap, char **errp)
{
	struct strbuf	 sb = { 0 };
	const char	*params[4];
	char		 pct[16], timeout[32];
	PGresult	*res;
	int		 i, n;

	snprintf(pct, sizeof pct, "%d", dp->min_capacity_percent);
	snprintf(timeout, sizeof timeout, "%.3f", dp->agent_timeout_s);
	params[0] = task_id;
	params[1] = cap;
	params[2] = pct;
	params[3] = timeout;
	res = db_exec(pg, "SELECT need.k, need.v #>> '{}'"
	    " FROM tasks t, jsonb_each(t.resources) AS need(k, v)"
	    " WHERE t.id = $1::bigint AND NOT EXISTS (SELECT 1 FROM agents a"
	    " WHERE " DISPATCH_ONLINE("a", "$4") " AND $2 = ANY (a.capabilities)"
	    " AND " DISPATCH_FITS("jsonb_build_object(need.k, need.v)",
		"a.resource_metrics", "$3") ")"
	    " ORDER BY need.k", 4, params, errp);
	if (res == NULL)
		return NULL;
	n = PQntuples(res);
	strbuf_adds(&sb, DISPATCH_PAUSE_PREFIX);
	if (n == 0)
		strbuf_addf(&sb, "no single online agent with %s provides "
		    "all of the resources together", cap);
	else {
		strbuf_addf(&sb, "no online agent with %s has ", cap);
		for (i = 0; i < n; i++)
			strbuf_addf(&sb, "%s%s %s free", i > 0 ? ", " : "",
			    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		strbuf_addf(&sb, " (at least %d%% of its capacity)",
		    dp->min_capacity_percent);
	}
	PQclear(res);
	return strbuf_detach(&sb);
}

int
dispatch_check_resources(PGconn *pg, const struct dispatch_params *dp,
    int *npausedp, int *nresumedp, char **errp)
{
	struct route_result	 rr;
	const char		*params[4];
	char			 pct[16], timeout[32], *why, *scores, *data;
	PGresult		*res;
	int			 i, n, npaused = 0, nresumed = 0;

	if (npausedp != NULL)
		*npausedp = 0;
	if (nresumedp != NULL)
		*nresumedp = 0;
	snprintf(pct, sizeof pct, "%d", dp->min_capacity_percent);
	snprintf(timeout, sizeof timeout, "%.3f", dp->agent_timeout_s);
	params[0] = pct;
	params[1] = timeout;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;

	/* Pause what nobody can run. */
	res = db_exec(pg, "SELECT t.id, t.capability, t.plan_id,"
	    " p.request_id, t.service, t.attempts, coalesce(t.playbook,"
	    " t.action) FROM tasks t"
	    " JOIN work_queue q ON q.task_id = t.id"
	    " JOIN plans p ON p.id = t.plan_id"
	    " WHERE t.status = 'queued' AND q.claimed_by IS NULL"
	    " AND t.resources <> '{}'::jsonb AND NOT EXISTS (SELECT 1"
	    " FROM agents a WHERE " DISPATCH_ONLINE("a", "$2")
	    " AND t.capability = ANY (a.capabilities) AND "
	    DISPATCH_FITS("t.resources", "a.resource_metrics", "$1") ")"
	    " ORDER BY t.id FOR UPDATE OF t, q SKIP LOCKED", 2, params, errp);
	if (res == NULL)
		goto fail;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		why = dispatch_missing(pg, dp, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), errp);
		if (why == NULL)
			goto fail_res;
		params[2] = PQgetvalue(res, i, 0);
		params[3] = why;
		if (db_run(pg, "UPDATE tasks SET status = 'paused',"
		    " status_reason = $2 WHERE id = $1::bigint AND"
		    " status = 'queued'", 2, params + 2, errp) != 0 ||
		    route_score(pg, PQgetvalue(res, i, 1), dispatch_val(res,
		    i, 6), dp->agent_timeout_s, &rr, errp) != 0) {
			free(why);
			goto fail_res;
		}
		scores = route_scores_json(&rr);
		route_result_free(&rr);
		if (route_record(pg, atoll(PQgetvalue(res, i, 0)),
		    atoi(PQgetvalue(res, i, 5)) + 1, PQgetvalue(res, i, 1),
		    NULL, "paused", why, scores, errp) != 0) {
			free(scores);
			free(why);
			goto fail_res;
		}
		data = dispatch_json("reason", why, "by", "dispatch",
		    (char *)NULL);
		dispatch_audit(pg, 1, "task.paused",
		    atoll(PQgetvalue(res, i, 3)), atoll(PQgetvalue(res, i, 2)),
		    atoll(PQgetvalue(res, i, 0)), dispatch_val(res, i, 4), data);
		free(data);
		free(scores);
		free(why);
		npaused++;
	}
	PQclear(res);

	/* Resume what someone can run again. */
	res = db_exec(pg, "SELECT t.id, t.capability, t.plan_id,"
	    " p.request_id, t.service FROM tasks t"
	    " JOIN plans p ON p.id = t.plan_id"
	    " WHERE t.status = 'paused' AND t.status_reason LIKE"
	    " '" DISPATCH_PAUSE_PREFIX "%' AND EXISTS (SELECT 1 FROM agents a"
	    " WHERE " DISPATCH_ONLINE("a", "$2")
	    " AND t.capability = ANY (a.capabilities) AND "
	    DISPATCH_FITS("t.resources", "a.resource_metrics", "$1") ")"
	    " ORDER BY t.id FOR UPDATE OF t SKIP LOCKED", 2, params, errp);
	if (res == NULL)
		goto fail;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		params[2] = PQgetvalue(res, i, 0);
		params[3] = PQgetvalue(res, i, 1);
		if (dispatch_queue_task(pg, params[2], params[3], 1,
		    errp) != 0)
			goto fail_res;
		data = dispatch_json("reason", "resources available again",
		    "by", "dispatch", (char *)NULL);
		dispatch_audit(pg, 1, "task.resumed",
		    atoll(PQgetvalue(res, i, 3)), atoll(PQgetvalue(res, i, 2)),
		    atoll(PQgetvalue(res, i, 0)), dispatch_val(res, i, 4), data);
		free(data);
		nresumed++;
	}
	PQclear(res);
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
		return -1;
	if (npausedp != NULL)
		*npausedp = npaused;
	if (nresumedp != NULL)
		*nresumedp = nresumed;
	return 0;

fail_res:
	PQclear(res);
fail:
	db_rollback(pg);
	return -1;
}

int
dispatch_pause(PGconn *pg, long long task_id, const char *reason,
    char **errp)
{
	const char	*params[2], *status;
	char		 tid[32], *why, *data;
	PGresult	*res;

	snprintf(tid, sizeof tid, "%lld", task_id);
	why = xasprintf("paused by %s: %s", audit_actor(),
	    reason != NULL && *reason != '\0' ? reason : "no reason given");
	params[0] = tid;
	params[1] = why;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		goto out;
	res = db_exec(pg, "SELECT t.status, t.plan_id, p.request_id,"
	    " t.service FROM tasks t JOIN plans p ON p.id = t.plan_id"
	    " WHERE t.id = $1::bigint FOR UPDATE OF t", 1, params, errp);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		set_error(errp, "task %lld does not exist", task_id);
		goto fail;
	}
	status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "approved") != 0 && strcmp(status, "queued") != 0 &&
	    strcmp(status, "running") != 0) {
		set_error(errp, "task %lld is %s; only approved, queued or "
		    "running tasks can be paused", task_id, status);
		PQclear(res);
		goto fail;
	}
	if (db_run(pg, "UPDATE tasks SET status = 'paused',"
	    " status_reason = $2 WHERE id = $1::bigint", 2, params,
	    errp) != 0 ||
	    db_run(pg, "UPDATE work_queue SET claimed_by = NULL,"
	    " claimed_at = NULL, lease_until = NULL, attempts ="
	    " CASE WHEN claimed_by IS NULL THEN attempts"
	    " ELSE greatest(attempts - 1, 0) END"
	    " WHERE task_id = $1::bigint", 1, params, errp) != 0) {
		PQclear(res);
		goto fail;
	}
	data = dispatch_json("reason", why, "from", status, "by", "user",
	    (char *)NULL);
	dispatch_audit(pg, 1, "task.paused", atoll(PQgetvalue(res, 0, 2)),
	    atoll(PQgetvalue(res, 0, 1)), task_id, dispatch_val(res, 0, 3),
	    data);
	free(data);
	PQclear(res);
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
		goto out;
	free(why);
	return 0;

fail:
	db_rollback(pg);
out:
	free(why);
	return -1;
}

int
dispatch_resume(PGconn *pg, long long task_id, char **errp)
{
	const char	*params[2];
	char		 tid[32], *data;
	PGresult	*res;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	res = db_exec(pg, "SELECT t.status, t.plan_id, p.request_id,"
	    " t.service, t.capability, EXISTS (SELECT 1 FROM approvals a"
	    " WHERE a.plan_id = t.plan_id AND a.decision = 'approved')"
	    " FROM tasks t JOIN plans p ON p.id = t.plan_id"
	    " WHERE t.id = $1::bigint FOR UPDATE OF t", 1, params, errp);
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		set_error(errp, "task %lld does not exist", task_id);
		goto fail_res;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "paused") != 0) {
		set_error(errp, "task %lld is %s, not paused", task_id,
		    PQgetvalue(res, 0, 0));
		goto fail_res;
	}
	if (*PQgetvalue(res, 0, 5) != 't') {
		set_error(errp, "task %lld: its plan has no approval; approve "
		    "the plan instead of resuming the task", task_id);
		goto fail_res;
	}
	params[1] = PQgetvalue(res, 0, 4);
	if (dispatch_queue_task(pg, tid, params[1], 1, errp) != 0)
		goto fail_res;
	data = dispatch_json("by", "user", (char *)NULL);
	dispatch_audit(pg, 1, "task.resumed", atoll(PQgetvalue(res, 0, 2)),
	    atoll(PQgetvalue(res, 0, 1)), task_id, dispatch_val(res, 0, 3),
	    data);
	free(data);
	PQclear(res);
	return db_run(pg, "COMMIT", 0, NULL, errp);

fail_res:
	PQclear(res);
fail:
	db_rollback(pg);
	return -1;
}

/* -- interrupting (the process running a plan goes away) ----------------- */

int
dispatch_interrupt_plan(PGconn *pg, long long plan_row_id, const char *why,
    int *ntasksp, char **errp)
{
	const char		*params[1];
	char			 row[32];
	PGresult		*res;
	int			 i, n = 0, rc;

	if (ntasksp != NULL)
		*ntasksp = 0;
	snprintf(row, sizeof row, "%lld", plan_row_id);
	params[0] = row;
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	res = db_exec(pg, "SELECT t.id, p.request_id, t.service FROM tasks t"
	    " JOIN plans p ON p.id = t.plan_id WHERE t.plan_id = $1::bigint"
	    " AND t.status IN ('running', 'queued', 'paused') ORDER BY t.id"
	    " FOR UPDATE OF t", 1, params, errp);
	if (res == NULL)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
		rc = dispatch_interrupted(pg, atoll(PQgetvalue(res, i, 0)),
		    plan_row_id, atoll(PQgetvalue(res, i, 1)),
		    dispatch_val(res, i, 2), why, errp);
		if (rc < 0) {
			PQclear(res);
			goto fail;
		}
		n += rc;
	}
	PQclear(res);
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
		goto fail;
	if (ntasksp != NULL)
		*ntasksp = n;
	return 0;

fail:
	db_rollback(pg);
	return -1;
}

/*
 * Plans queued for an agent that is gone (schema/003): its shell was
 * killed (SIGKILL, power loss) and nobody else may run them.  An owner is
 * gone when it has no agents row agent_timeout_s after the queueing (a
 * shell registers its worker right after approving), is not online
 * within agent_timeout_s, or is a process of this host that no longer
 * exists.
 */
static const char dispatch_sql_orphans[] =
    "SELECT DISTINCT t.plan_id, a.host, a.pid, coalesce("
    DISPATCH_ONLINE("a", "$1") ", false), a.name IS NULL AND"
    " q.enqueued_at < now() - make_interval(secs => $1::float8)"
    " FROM work_queue q JOIN tasks t ON t.id = q.task_id"
    " LEFT JOIN agents a ON a.name = q.owner_agent"
    " WHERE q.owner_agent IS NOT NULL AND q.owner_agent <> $2"
    " AND t.status IN ('queued', 'running', 'paused')";

int
dispatch_orphaned_plans(PGconn *pg, const struct dispatch_params *dp,
    long long **rowsp, char **errp)
{
	const char	*params[2];
	char		 timeout[32], host[256];
	PGresult	*res;
	long		 pid;
	int		 i, n, k = 0, dead;

	*rowsp = NULL;
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(timeout, sizeof timeout, "%.3f", dp->agent_timeout_s);
	params[0] = timeout;
	params[1] = dp->agent;
	if ((res = db_exec(pg, dispatch_sql_orphans, 2, params,
	    errp)) == NULL)
		return -1;
	n = PQntuples(res);
	*rowsp = xcalloc((size_t)n + 1, sizeof **rowsp);
	for (i = 0; i < n; i++) {
		pid = PQgetisnull(res, i, 2) ? 0 : atol(PQgetvalue(res, i, 2));
		if (PQgetisnull(res, i, 1))	/* no agents row */
			dead = *PQgetvalue(res, i, 4) == 't';
		else
			dead = *PQgetvalue(res, i, 3) != 't' ||
			    (strcmp(PQgetvalue(res, i, 1), host) == 0 &&
			    pid > 0 && kill((pid_t)pid, 0) == -1 &&
			    errno == ESRCH);
		if (dead)
			(*rowsp)[k++] = atoll(PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return k;
}

/* -- agents -------------------------------------------------------------- */

int
dispatch_heartbeat(PGconn *pg, const struct dispatch_params *dp,
    int capacity, int running, const char *metrics_json, int starting,
    char **errp)
{
	const char	*params[9];
	char		 host[256], cap[16], run[16], pid[16], timeout[32];
	char		*caps;
	PGresult	*res;
	long		 other;
	int		 rc;

	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	if (starting) {
		snprintf(timeout, sizeof timeout, "%.3f", dp->agent_timeout_s);
		params[0] = dp->agent;
		params[1] = timeout;
		res = db_exec(pg, "SELECT host, pid FROM agents"
		    " WHERE name = $1 AND " DISPATCH_ONLINE("agents", "$2"),
		    2, params, errp);
		if (res == NULL)
			return -1;
		if (PQntuples(res) > 0) {
			other = PQgetisnull(res, 0, 1) ? 0 :
			    atol(PQgetvalue(res, 0, 1));
			if (strcmp(PQgetvalue(res, 0, 0), host) != 0 ||
			    (other != (long)getpid() && other > 0 &&
			    (kill((pid_t)other, 0) == 0 || errno == EPERM))) {
				set_error(errp, "worker name '%s' is in use by "
				    "process %ld on %s; choose another with "
				    "--name", dp->agent, other,
				    PQgetvalue(res, 0, 0));
				PQclear(res);
				return -1;
			}
		}
		PQclear(res);
	}
	caps = dispatch_text_array(dp->caps, dp->ncaps);
	snprintf(cap, sizeof cap, "%d", capacity);
	snprintf(run, sizeof run, "%d", running);
	params[0] = dp->agent;
	params[1] = host;
	params[2] = caps;
	params[3] = cap;
	params[4] = run;
	params[5] = PACKAGE_VERSION;
	params[6] = dp->report_only ? NULL : pid;
	params[7] = metrics_json != NULL ? metrics_json : "{}";
	params[8] = starting ? "t" : "f";
	rc = db_run(pg, "INSERT INTO agents (name, host, capabilities,"
	    " capacity, running, status, version, pid, last_heartbeat,"
	    " resource_metrics) VALUES ($1, $2, $3::text[], $4::integer,"
	    " $5::integer, 'online', $6, $7::integer, now(), $8::jsonb)"
	    " ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host,"
	    " capabilities = EXCLUDED.capabilities,"
	    " capacity = EXCLUDED.capacity, running = EXCLUDED.running,"
	    " status = 'online', version = EXCLUDED.version,"
	    " pid = EXCLUDED.pid, last_heartbeat = now(),"
	    " started_at = CASE WHEN $9::boolean THEN now()"
	    "  ELSE agents.started_at END,"
	    " resource_metrics = agents.resource_metrics ||"
	    "  EXCLUDED.resource_metrics", 9, params, errp);
	free(caps);
	return rc;
}

int
dispatch_agent_offline(PGconn *pg, const char *agent, char **errp)
{
	const char	*params[1] = { agent };

	return db_run(pg, "UPDATE agents SET status = 'offline',"
	    " running = 0 WHERE name = $1", 1, params, errp);
}

int
dispatch_agents_reap(PGconn *pg, char **errp)
{
	const char	*params[1];
	char		 host[256];
	PGresult	*res;
	long		 pid;
	int		 i, n, reaped = 0;

	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	params[0] = host;
	res = db_exec(pg, "SELECT name, coalesce(pid, 0) FROM agents"
	    " WHERE host = $1 AND status <> 'offline'", 1, params, errp);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		pid = atol(PQgetvalue(res, i, 1));
		if (pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (dispatch_agent_offline(pg, PQgetvalue(res, i, 0),
		    errp) != 0) {
			PQclear(res);
			return -1;
		}
		reaped++;
	}
	PQclear(res);
	return reaped;
}
