/*
 * route.c - scoring the agents that could run a task, the claiming rule,
 * and routing_decisions rows.  See route.h for the formula.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "dispatch.h"
#include "route.h"
#include "util.h"

#define ROUTE_W_SUCCESS	0.4
#define ROUTE_W_RECENT	0.2
#define ROUTE_W_SPECIAL	0.1
#define ROUTE_W_LOAD	0.3
#define ROUTE_EPSILON	1e-9

static const char route_score_sql[] =
    "SELECT a.name, a.capacity, cardinality(a.capabilities),"
    " (SELECT count(*) FROM work_queue w WHERE w.claimed_by = a.name"
    "  AND w.lease_until > now()),"
    " coalesce(h.ok, 0), coalesce(h.n, 0), coalesce(h.recent, 0)"
    " FROM agents a"
    " LEFT JOIN LATERAL (SELECT"
    "  count(DISTINCT t.id) FILTER (WHERE t.status = 'succeeded') AS ok,"
    "  count(DISTINCT t.id) FILTER (WHERE t.status IN ('succeeded',"
    "   'failed', 'timed_out')) AS n,"
    "  count(*) FILTER (WHERE rd.at > now() - interval '1 hour') AS recent"
    "  FROM routing_decisions rd JOIN tasks t ON t.id = rd.task_id"
    "  WHERE rd.chosen_agent = a.name AND rd.decision = 'dispatched'"
    "  AND t.capability = $1"
    "  AND coalesce(t.playbook, t.action) IS NOT DISTINCT FROM $2"
    "  AND rd.at > now() - interval '30 days') h ON true"
    " WHERE $1 = ANY (a.capabilities) AND a.status = 'online'"
    " AND a.last_heartbeat > now() - make_interval(secs => $3::float8)"
    " ORDER BY a.name";

static int
route_cmp(const void *va, const void *vb)
{
	const struct route_candidate	*a = va, *b = vb;

	if (a->score > b->score + ROUTE_EPSILON)
		return -1;
	if (b->score > a->score + ROUTE_EPSILON)
		return 1;
	return strcmp(a->agent, b->agent);
}

int
route_score(PGconn *pg, const char *capability, const char *work_type,
    double agent_timeout_s, struct route_result *r, char **errp)
{
	struct route_candidate	*c;
	const char		*params[3];
	char			 timeout[32];
	PGresult		*res;
	int			 i, n;

	memset(r, 0, sizeof *r);
	snprintf(timeout, sizeof timeout, "%.3f", agent_timeout_s);
	params[0] = capability;
	params[1] = work_type;
	params[2] = timeout;
	res = db_exec(pg, route_score_sql, 3, params, errp);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	r->c = xcalloc((size_t)n + 1, sizeof *r->c);
	for (i = 0; i < n; i++) {
		c = &r->c[r->n++];
		c->agent = xstrdup(PQgetvalue(res, i, 0));
		c->capacity = atoi(PQgetvalue(res, i, 1));
		c->ncaps = atoi(PQgetvalue(res, i, 2));
		c->running = atoi(PQgetvalue(res, i, 3));
		c->succeeded = atoll(PQgetvalue(res, i, 4));
		c->finished = atoll(PQgetvalue(res, i, 5));
		c->recent = atoll(PQgetvalue(res, i, 6));
		c->success = (double)(c->succeeded + 1) /
		    (double)(c->finished + 2);
		c->special = 1.0 / (c->ncaps > 1 ? c->ncaps : 1);
		c->load = c->capacity > 0 ?
		    (double)c->running / c->capacity : 1.0;
		if (c->load > 1.0)
			c->load = 1.0;
		c->score = ROUTE_W_SUCCESS * c->success +
		    ROUTE_W_RECENT * (c->recent > 0 ? 1.0 : 0.0) +
		    ROUTE_W_SPECIAL * c->special +
		    ROUTE_W_LOAD * (1.0 - c->load);
	}
	PQclear(res);
	qsort(r->c, r->n, sizeof *r->c, route_cmp);
	return 0;
}

void
route_result_free(struct route_result *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->c[i].agent);
	free(r->c);
	r->c = NULL;
	r->n = 0;
}

/* A double rounded to 4 decimals, as JSON. */
static struct json_object *
route_num(double v)
{
	char	buf[32];

	snprintf(buf, sizeof buf, "%.4f", v);
	return json_object_new_double_s(v, buf);
}

char *
route_scores_json(const struct route_result *r)
{
	struct json_object		*arr, *o;
	const struct route_candidate	*c;
	char				*out;
	size_t				 i;

	arr = json_object_new_array();
	for (i = 0; r != NULL && i < r->n; i++) {
		c = &r->c[i];
		o = json_object_new_object();
		json_object_object_add(o, "agent",
		    json_object_new_string(c->agent));
		json_object_object_add(o, "score", route_num(c->score));
		json_object_object_add(o, "success_rate",
		    route_num(c->success));
		json_object_object_add(o, "recent",
		    json_object_new_boolean(c->recent > 0));
		json_object_object_add(o, "specialization",
		    route_num(c->special));
		json_object_object_add(o, "load", route_num(c->load));
		json_object_object_add(o, "running",
		    json_object_new_int(c->running));
		json_object_object_add(o, "capacity",
		    json_object_new_int(c->capacity));
		json_object_object_add(o, "finished",
		    json_object_new_int64(c->finished));
		json_object_object_add(o, "succeeded",
		    json_object_new_int64(c->succeeded));
		json_object_array_add(arr, o);
	}
	out = xstrdup(json_object_to_json_string_ext(arr,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return out;
}

int
route_should_claim(const struct route_result *r, const char *self,
    double waited_s, double grace_s, char **reasonp)
{
	const struct route_candidate	*best, *me = NULL;
	size_t				 i;

	*reasonp = NULL;
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->c[i].agent, self) == 0)
			me = &r->c[i];
	}
	if (r->n == 0 || me == NULL) {
		*reasonp = xstrdup("no registered online candidate; claimed "
		    "by the worker that found it");
		return 1;
	}
	best = &r->c[0];
	if (best == me || me->score >= best->score - ROUTE_EPSILON) {
		*reasonp = xasprintf("best candidate (score %.4f of %zu "
		    "candidate%s)", me->score, r->n, r->n == 1 ? "" : "s");
		return 1;
	}
	if (best->running >= best->capacity) {
		*reasonp = xasprintf("best candidate %s is busy (%d/%d); "
		    "score %.4f against %.4f", best->agent, best->running,
		    best->capacity, me->score, best->score);
		return 1;
	}
	if (waited_s >= grace_s) {
		*reasonp = xasprintf("best candidate %s did not claim it "
		    "within %.0f s; score %.4f against %.4f", best->agent,
		    grace_s, me->score, best->score);
		return 1;
	}
	*reasonp = xasprintf("left for the best candidate %s (score %.4f "
	    "against %.4f)", best->agent, best->score, me->score);
	return 0;
}

int
route_record(PGconn *pg, long long task_id, int attempt,
    const char *capability, const char *chosen, const char *decision,
    const char *reason, const char *scores_json, char **errp)
{
	const char	*params[7];
	char		 tid[32], att[16];
	PGresult	*res;

	snprintf(tid, sizeof tid, "%lld", task_id);
	snprintf(att, sizeof att, "%d", attempt > 0 ? attempt : 1);
	params[0] = tid;
	params[1] = att;
	params[2] = capability;
	params[3] = chosen;
	params[4] = decision;
	params[5] = reason;
	params[6] = scores_json != NULL ? scores_json : "[]";
	res = db_exec(pg, "INSERT INTO routing_decisions (task_id, "
	    "attempt, capability, chosen_agent, decision, reason, scores) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)", 7, params, errp);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}
