/*
 * plan-store.c - a plan's rows in plans / tasks (see plan.h): storing a
 * plan (as the next version of another, which it supersedes), resolving
 * what the admin names, and loading a stored plan.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "agent.h"
#include "db.h"
#include "host.h"
#include "plan.h"
#include "util.h"
#include "vocab.h"

static const char plan_sql_lock_old[] =
	"SELECT plan_id, status, request_id FROM plans WHERE id = $1 "
	"FOR UPDATE";
static const char plan_sql_next_version[] =
	"SELECT max(version) + 1 FROM plans WHERE plan_id = $1";
/*
 * The plan and its tasks in one statement (one round trip): the tasks come
 * from the plan's detail (plan_json), their ids are drawn first so that
 * depends_on can name them, and each playbook is linked to its catalog
 * row.  The triggers see ordinary INSERTs (tasks pending approval).
 */
static const char plan_sql_insert[] =
	"WITH p AS (INSERT INTO plans (plan_id, version, request_id, "
	"created_by, parser_tier, cost_usd, summary, detail, amendment) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	"RETURNING id, plan_id, version, status), "
	"s AS (SELECT e, (e->>'step')::int AS step, "
	"nextval(pg_get_serial_sequence('tasks', 'id')) AS id "
	"FROM jsonb_array_elements($8::jsonb->'tasks') AS e), "
	"t AS (INSERT INTO tasks (id, plan_id, step, action, service, "
	"playbook, playbook_id, playbook_sha256, match_method, "
	"match_confidence, targets, tags, skip_tags, "
	"extra_vars, check_mode, depends_on, capability, resources, risk, "
	"estimated_s) OVERRIDING SYSTEM VALUE "
	"SELECT s.id, p.id, s.step, s.e->>'action', s.e->>'service', "
	"s.e->>'playbook', (SELECT b.id FROM playbooks b WHERE b.path = "
	"s.e->>'playbook'), (SELECT b.sha256 FROM playbooks b WHERE b.path = "
	"s.e->>'playbook'), s.e->>'method', CASE WHEN s.e->>'method' IS NULL "
	"THEN NULL ELSE (s.e->>'confidence')::real END, s.e->>'targets', "
	"ARRAY(SELECT jsonb_array_elements_text(s.e->'tags')), "
	"ARRAY(SELECT jsonb_array_elements_text(coalesce(s.e->'skip_tags', "
	"'[]'))), "
	"s.e->'extra_vars', (s.e->>'check')::boolean, "
	"ARRAY(SELECT d.id FROM s d WHERE d.step IN (SELECT "
	"jsonb_array_elements_text(s.e->'depends_on_steps')::int) "
	"ORDER BY d.step), s.e->>'capability', s.e->'resources', "
	"s.e->>'risk', (s.e->>'estimated_s')::float8 FROM p, s "
	"RETURNING id, step, status) "
	"SELECT p.id, p.plan_id, p.version, p.status, t.id, t.step, t.status "
	"FROM p LEFT JOIN t ON true ORDER BY t.step";
static const char plan_sql_supersede_tasks[] =
	"UPDATE tasks SET status = 'superseded', status_reason = $2 "
	"WHERE plan_id = $1 AND status IN ('pending_approval', 'approved')";
static const char plan_sql_supersede_plan[] =
	"UPDATE plans SET status = 'superseded', superseded_by = $2 "
	"WHERE id = $1";

static const char plan_sql_resolve_newest[] =
	"SELECT id FROM plans WHERE plan_id = $1 ORDER BY version DESC "
	"LIMIT 1";
static const char plan_sql_resolve_version[] =
	"SELECT id FROM plans WHERE plan_id = $1 AND version = $2";
static const char plan_sql_load_plan[] =
	"SELECT p.id, p.plan_id, p.version, p.request_id, "
	"coalesce(p.amendment, r.text), p.parser_tier, p.cost_usd, p.status, "
	"p.detail FROM plans p JOIN requests r ON r.id = p.request_id "
	"WHERE p.id = $1";
static const char plan_sql_load_tasks[] =
	"SELECT id, step, action, service, playbook, match_method, "
	"match_confidence, targets, array_to_json(tags), extra_vars, "
	"check_mode, array_to_json(depends_on), capability, resources, risk, "
	"estimated_s, status, array_to_json(skip_tags) FROM tasks "
	"WHERE plan_id = $1 ORDER BY step";
static const char plan_sql_pending[] =
	"SELECT p.id, p.plan_id, p.version, coalesce(p.amendment, r.text), "
	"extract(epoch FROM now() - p.created_at), "
	"(SELECT count(*) FROM tasks t WHERE t.plan_id = p.id), "
	"coalesce((SELECT string_agg(t.action || ' ' || coalesce(t.service, "
	"'?'), ', ' ORDER BY t.step) FROM tasks t WHERE t.plan_id = p.id), "
	"'') FROM plans p JOIN requests r ON r.id = p.request_id "
	"WHERE p.status = 'pending_approval' AND p.created_by = $1 "
	"ORDER BY p.created_at DESC, p.id DESC LIMIT $2";

static void
plan_rollback(PGconn *pg)
{
	db_rollback(pg);
}

/* --- storing -------------------------------------------------------------- */

int
plan_store(PGconn *pg, struct plan *plan, const char *created_by,
    const char *amendment, long long supersedes, char **errp)
{
	PGresult	*res;
	json_object	*detail;
	const char	*params[9];
	char		 rid[32], old[32], pid[32], ver[16], cost[32], row[32];
	char		*summary = NULL, *reason;
	long long	 usd;
	int		 i, n, in_tx = 0;
	size_t		 k;

	if (!plan_runnable(plan))
		return set_error(errp, "the plan has open questions or steps "
		    "without a playbook; it cannot be stored as runnable");
	snprintf(rid, sizeof rid, "%lld", plan->request_id);
	params[0] = NULL;
	params[1] = "1";
	if (supersedes > 0) {
		/* Lock the old version, take the next number, replace. */
		if ((res = db_exec(pg, "BEGIN", 0, NULL, errp)) == NULL)
			return -1;
		PQclear(res);
		in_tx = 1;
		snprintf(old, sizeof old, "%lld", supersedes);
		params[0] = old;
		if ((res = db_exec(pg, plan_sql_lock_old, 1, params,
		    errp)) == NULL)
			goto fail;
		if (PQntuples(res) != 1) {
			PQclear(res);
			set_error(errp, "plan row %lld does not exist",
			    supersedes);
			goto fail;
		}
		if (strcmp(PQgetvalue(res, 0, 1), "pending_approval") != 0) {
			set_error(errp, "plan %s is %s: only a plan pending "
			    "approval can be modified", PQgetvalue(res, 0, 0),
			    PQgetvalue(res, 0, 1));
			PQclear(res);
			goto fail;
		}
		snprintf(pid, sizeof pid, "%s", PQgetvalue(res, 0, 0));
		if (plan->request_id <= 0) {
			plan->request_id = strtoll(PQgetvalue(res, 0, 2), NULL,
			    10);
			snprintf(rid, sizeof rid, "%lld", plan->request_id);
		}
		PQclear(res);
		params[0] = pid;
		if ((res = db_exec(pg, plan_sql_next_version, 1, params,
		    errp)) == NULL)
			goto fail;
		snprintf(ver, sizeof ver, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		params[1] = ver;
	}
	/* Not %f: the locale may want a decimal comma; SQL does not. */
	usd = llround(plan->cost_usd * 1e6);
	snprintf(cost, sizeof cost, "%lld.%06lld", usd / 1000000,
	    usd % 1000000);
	summary = plan_summary(plan);
	detail = plan_json(plan);
	params[2] = rid;
	params[3] = created_by;
	params[4] = plan->tier;
	params[5] = cost;
	params[6] = summary;
	params[7] = json_object_to_json_string_ext(detail,
	    JSON_C_TO_STRING_PLAIN);
	params[8] = amendment;
	res = db_exec(pg, plan_sql_insert, 9, params, errp);
	json_object_put(detail);
	if (res == NULL)
		goto fail;
	n = PQntuples(res);
	if (n != (int)plan->ntasks) {
		PQclear(res);
		set_error(errp, "database: %d tasks stored for a plan of %zu",
		    n, plan->ntasks);
		goto fail;
	}
	plan->row_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	plan->plan_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	plan->version = atoi(PQgetvalue(res, 0, 2));
	free(plan->status);
	plan->status = xstrdup(PQgetvalue(res, 0, 3));
	for (i = 0; i < n; i++) {
		struct plan_task *t = &plan->tasks[i];

		t->id = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		free(t->status);
		t->status = xstrdup(PQgetvalue(res, i, 6));
	}
	PQclear(res);
	if (supersedes > 0) {
		snprintf(row, sizeof row, "%lld", plan->row_id);
		reason = xasprintf("superseded by version %d",
		    plan->version);
		params[0] = old;
		params[1] = reason;
		res = db_exec(pg, plan_sql_supersede_tasks, 2, params, errp);
		free(reason);
		if (res == NULL)
			goto fail;
		PQclear(res);
		params[1] = row;
		if ((res = db_exec(pg, plan_sql_supersede_plan, 2, params,
		    errp)) == NULL)
			goto fail;
		PQclear(res);
		if ((res = db_exec(pg, "COMMIT", 0, NULL, errp)) == NULL)
			goto fail;
		PQclear(res);
	}
	free(summary);
	return 0;

fail:
	if (in_tx)
		plan_rollback(pg);
	free(summary);
	plan->row_id = plan->plan_id = 0;
	for (k = 0; k < plan->ntasks; k++)
		plan->tasks[k].id = 0;
	return -1;
}

/* --- loading -------------------------------------------------------------- */

long long
plan_resolve(PGconn *pg, const char *ref, char **errp)
{
	PGresult	*res;
	const char	*params[2];
	char		 id[32], ver[16], *end;
	long long	 plan_id, row;
	long		 version = 0;

	if (ref == NULL || !isdigit((unsigned char)*ref))
		return set_error(errp, "'%s' is not a plan id (a number, or "
		    "NUMBER.VERSION)", ref != NULL ? ref : "");
	plan_id = strtoll(ref, &end, 10);
	if (*end == '.' || *end == 'v') {
		if (!isdigit((unsigned char)end[1]))
			return set_error(errp, "'%s': the version after '%c' "
			    "is missing", ref, *end);
		version = strtol(end + 1, &end, 10);
	}
	if (*end != '\0' || plan_id <= 0)
		return set_error(errp, "'%s' is not a plan id (a number, or "
		    "NUMBER.VERSION)", ref);
	snprintf(id, sizeof id, "%lld", plan_id);
	snprintf(ver, sizeof ver, "%ld", version);
	params[0] = id;
	params[1] = ver;
	res = db_exec(pg, version > 0 ? plan_sql_resolve_version :
	    plan_sql_resolve_newest, version > 0 ? 2 : 1, params, errp);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		if (version > 0)
			return set_error(errp, "plan %lld has no version %ld",
			    plan_id, version);
		return set_error(errp, "there is no plan %lld (chiffon plan "
		    "prints the id of a new plan)", plan_id);
	}
	row = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return row;
}

static char *
plan_value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    xstrdup(PQgetvalue(res, row, col));
}

static json_object *
plan_value_json(PGresult *res, int row, int col, json_type type)
{
	json_object	*o = NULL;

	if (!PQgetisnull(res, row, col))
		o = json_tokener_parse(PQgetvalue(res, row, col));
	if (o != NULL && !json_object_is_type(o, type)) {
		json_object_put(o);
		o = NULL;
	}
	if (o == NULL)
		o = type == json_type_array ? json_object_new_array() :
		    json_object_new_object();
	return o;
}

/* Fill what the rows do not hold from the stored detail. */
static void
plan_load_detail(struct plan_task *t, json_object *dt)
{
	json_object	*v;
	const char	*s;

	if (dt == NULL)
		return;
	if ((s = plan_jstr(dt, "text")) != NULL)
		t->text = xstrdup(s);
	if ((s = plan_jstr(dt, "note")) != NULL)
		t->note = xstrdup(s);
	if ((s = plan_jstr(dt, "risk_why")) != NULL)
		t->risk_why = xstrdup(s);
	if ((s = plan_jstr(dt, "estimate_from")) != NULL)
		t->estimate_from = xstrdup(s);
	if ((s = plan_jstr(dt, "command")) != NULL)
		t->command = xstrdup(s);
	if (json_object_object_get_ex(dt, "candidates", &v))
		t->candidates = json_object_get(v);
	if (json_object_object_get_ex(dt, "hosts", &v) &&
	    json_object_is_type(v, json_type_array))
		t->hosts = json_object_get(v);
}

struct plan *
plan_load(PGconn *pg, long long row_id, char **errp)
{
	PGresult	*res;
	struct plan	*plan;
	json_object	*detail, *dtasks = NULL, *deps, *a;
	const char	*params[1];
	char		 id[32];
	int		 i, n, k;
	size_t		 j;

	snprintf(id, sizeof id, "%lld", row_id);
	params[0] = id;
	if ((res = db_exec(pg, plan_sql_load_plan, 1, params, errp)) ==
	    NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		set_error(errp, "plan row %lld does not exist", row_id);
		return NULL;
	}
	plan = xcalloc(1, sizeof *plan);
	plan->row_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	plan->plan_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	plan->version = atoi(PQgetvalue(res, 0, 2));
	plan->request_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	plan->text = xstrdup(PQgetvalue(res, 0, 4));
	plan->tier = xstrdup(PQgetvalue(res, 0, 5));
	plan->cost_usd = strtod(PQgetvalue(res, 0, 6), NULL);
	plan->status = xstrdup(PQgetvalue(res, 0, 7));
	detail = plan_value_json(res, 0, 8, json_type_object);
	PQclear(res);
	plan->questions = json_object_new_array();
	plan->notes = json_object_new_array();
	if (json_object_object_get_ex(detail, "notes", &a))
		plan_add_all(plan->notes, a);
	json_object_object_get_ex(detail, "tasks", &dtasks);

	if ((res = db_exec(pg, plan_sql_load_tasks, 1, params, errp)) ==
	    NULL) {
		json_object_put(detail);
		plan_free(plan);
		return NULL;
	}
	n = PQntuples(res);
	plan->tasks = xcalloc((size_t)n + 1, sizeof *plan->tasks);
	plan->ntasks = (size_t)n;
	for (i = 0; i < n; i++) {
		struct plan_task *t = &plan->tasks[i];

		t->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		t->step = atoi(PQgetvalue(res, i, 1));
		t->action = xstrdup(PQgetvalue(res, i, 2));
		t->service = plan_value(res, i, 3);
		t->playbook = plan_value(res, i, 4);
		t->method = plan_value(res, i, 5);
		t->confidence = PQgetisnull(res, i, 6) ? 0 :
		    strtod(PQgetvalue(res, i, 6), NULL);
		t->limit = plan_value(res, i, 7);
		if (t->limit != NULL && strcmp(t->limit, "all") == 0) {
			free(t->limit);
			t->limit = NULL;
		}
		t->tags = plan_value_json(res, i, 8, json_type_array);
		t->extra_vars = plan_value_json(res, i, 9, json_type_object);
		t->check = strcmp(PQgetvalue(res, i, 10), "t") == 0;
		t->capability = xstrdup(PQgetvalue(res, i, 12));
		t->resources = plan_value_json(res, i, 13, json_type_object);
		t->risk = strcmp(PQgetvalue(res, i, 14), "high") == 0 ?
		    PLAN_RISK_HIGH : strcmp(PQgetvalue(res, i, 14), "low") ==
		    0 ? PLAN_RISK_LOW : PLAN_RISK_MEDIUM;
		t->estimated_s = PQgetisnull(res, i, 15) ? 0 :
		    strtod(PQgetvalue(res, i, 15), NULL);
		t->status = xstrdup(PQgetvalue(res, i, 16));
		t->skip_tags = plan_value_json(res, i, 17, json_type_array);
		if (dtasks != NULL && json_object_is_type(dtasks,
		    json_type_array))
			plan_load_detail(t, json_object_array_get_idx(dtasks,
			    (size_t)i));
		if (t->text == NULL)
			t->text = xstrdup("");
	}
	/* depends_on holds task ids: back to steps. */
	for (i = 0; i < n; i++) {
		struct plan_task *t = &plan->tasks[i];

		deps = plan_value_json(res, i, 11, json_type_array);
		t->depends = xcalloc(json_object_array_length(deps) + 1,
		    sizeof *t->depends);
		for (j = 0; j < json_object_array_length(deps); j++) {
			long long d = json_object_get_int64(
			    json_object_array_get_idx(deps, j));

			for (k = 0; k < n; k++) {
				if (plan->tasks[k].id == d)
					t->depends[t->ndepends++] =
					    plan->tasks[k].step;
			}
		}
		json_object_put(deps);
	}
	PQclear(res);
	json_object_put(detail);
	return plan;
}

/* --- listing -------------------------------------------------------------- */

int
plan_pending(PGconn *pg, const char *user, size_t max,
    struct plan_pending **listp, char **errp)
{
	struct plan_pending	*list;
	PGresult		*res;
	const char		*params[2];
	char			 lim[32];
	int			 i, n;

	*listp = NULL;
	snprintf(lim, sizeof lim, "%zu", max);
	params[0] = user;
	params[1] = lim;
	if ((res = db_exec(pg, plan_sql_pending, 2, params, errp)) == NULL)
		return -1;
	n = PQntuples(res);
	list = n > 0 ? xcalloc((size_t)n, sizeof *list) : NULL;
	for (i = 0; i < n; i++) {
		list[i].row_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		list[i].plan_id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		list[i].version = atoi(PQgetvalue(res, i, 2));
		list[i].text = xstrdup(PQgetvalue(res, i, 3));
		list[i].age_s = strtod(PQgetvalue(res, i, 4), NULL);
		list[i].nsteps = (size_t)strtoull(PQgetvalue(res, i, 5), NULL,
		    10);
		list[i].steps = xstrdup(PQgetvalue(res, i, 6));
	}
	PQclear(res);
	*listp = list;
	return n;
}

void
plan_pending_free_row(struct plan_pending *r)
{
	free(r->text);
	free(r->steps);
	r->text = r->steps = NULL;
}

void
plan_pending_free(struct plan_pending *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		plan_pending_free_row(&list[i]);
	free(list);
}
