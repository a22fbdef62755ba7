/*
 * plan.c - building, storing and showing plans (see plan.h).
 *
 * Building is a pipeline over the parser's intents: match each to a
 * playbook, order the steps (a deploy of a service comes before the steps
 * that configure or check it; otherwise the request's order stands),
 * then estimate, weigh the risk and write the questions.  Every table of
 * behaviour (defaults, risk bases) is data at the top of the file.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "db.h"
#include "host.h"
#include "plan.h"
#include "util.h"
#include "vocab.h"

/* A match lookup takes milliseconds; allow a catalog refresh. */
#define PLAN_MATCH_TIMEOUT_MS	(60 * 1000)
/* Past runs that make the median. */
#define PLAN_HISTORY_RUNS	"20"

/* Per-action behaviour: default duration and base risk. */
static const struct plan_action {
	const char	*name;
	double		 default_s;
	int		 risk;
	int		 after_deploy;	/* runs after a deploy of its service */
} plan_actions[] = {
	{ "deploy",	120,	PLAN_RISK_MEDIUM,	0 },
	{ "remove",	60,	PLAN_RISK_HIGH,		0 },
	{ "restart",	30,	PLAN_RISK_MEDIUM,	1 },
	{ "update",	180,	PLAN_RISK_MEDIUM,	0 },
	{ "configure",	60,	PLAN_RISK_MEDIUM,	1 },
	{ "check",	20,	PLAN_RISK_LOW,		1 },
	{ "generate",	10,	PLAN_RISK_LOW,		0 },
	{ "backup",	300,	PLAN_RISK_LOW,		1 },
	{ "restore",	300,	PLAN_RISK_HIGH,		0 },
	{ "stop",	30,	PLAN_RISK_MEDIUM,	1 },
	{ "start",	30,	PLAN_RISK_MEDIUM,	1 },
};
/* An action the table does not know. */
static const struct plan_action plan_action_unknown = {
	NULL, 60, PLAN_RISK_MEDIUM, 0
};

/* Actions that bring a service into being (others may depend on them). */
static const char *const plan_deploy_actions[] = { "deploy", "update",
    NULL };

/* Intent parameters that are not extra vars. */
static const char *const plan_not_vars[] = { "detail", "unknown_service",
    "name", "tags", NULL };

static const char *const plan_risk_names[] = {
	[PLAN_RISK_LOW] = "low",
	[PLAN_RISK_MEDIUM] = "medium",
	[PLAN_RISK_HIGH] = "high",
};

/* Median duration of the last real successful runs of each playbook. */
static const char plan_sql_history[] =
	"SELECT h.path, percentile_cont(0.5) WITHIN GROUP (ORDER BY "
	"coalesce(r.wall_s, extract(epoch FROM r.duration))), count(*) "
	"FROM jsonb_array_elements_text($1::jsonb) AS h(path) "
	"CROSS JOIN LATERAL (SELECT id FROM tasks WHERE playbook = h.path "
	"AND status = 'succeeded' ORDER BY finished_at DESC LIMIT "
	PLAN_HISTORY_RUNS ") t JOIN runs r ON r.task_id = t.id "
	"WHERE r.status = 'successful' AND r.duration IS NOT NULL "
	"AND NOT coalesce((r.meta->>'check')::boolean, false) "
	"GROUP BY h.path";

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
	"playbook, playbook_id, match_method, match_confidence, targets, tags, "
	"extra_vars, check_mode, depends_on, capability, resources, risk, "
	"estimated_s) OVERRIDING SYSTEM VALUE "
	"SELECT s.id, p.id, s.step, s.e->>'action', s.e->>'service', "
	"s.e->>'playbook', (SELECT b.id FROM playbooks b WHERE b.path = "
	"s.e->>'playbook'), s.e->>'method', CASE WHEN s.e->>'method' IS NULL "
	"THEN NULL ELSE (s.e->>'confidence')::real END, s.e->>'targets', "
	"ARRAY(SELECT jsonb_array_elements_text(s.e->'tags')), "
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
	"estimated_s, status FROM tasks WHERE plan_id = $1 ORDER BY step";

/* --- small helpers -------------------------------------------------------- */

static const struct plan_action *
plan_action_find(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < nitems(plan_actions); i++) {
		if (strcmp(plan_actions[i].name, name) == 0)
			return &plan_actions[i];
	}
	return &plan_action_unknown;
}

static const char *
plan_jstr(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static char *
plan_xstrdup0(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
plan_rollback(PGconn *pg)
{
	PQclear(PQexec(pg, "ROLLBACK"));
}

/* Append a string to a JSON array of strings unless present. */
static void
plan_add_unique(json_object *a, const char *s)
{
	size_t	i;

	for (i = 0; i < json_object_array_length(a); i++) {
		if (strcmp(json_object_get_string(json_object_array_get_idx(a,
		    i)), s) == 0)
			return;
	}
	json_object_array_add(a, json_object_new_string(s));
}

static void
plan_add_all(json_object *to, json_object *from)
{
	size_t	i;

	if (from == NULL || !json_object_is_type(from, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(from); i++) {
		const char *s = json_object_get_string(
		    json_object_array_get_idx(from, i));
		if (s != NULL && *s != '\0')
			plan_add_unique(to, s);
	}
}

/* --- matching ------------------------------------------------------------- */

int
plan_match_host(const char *text, const char *action, json_object *targets,
    json_object **resultp, void *data, char **errp)
{
	struct app	*app = data;
	json_object	*params = json_object_new_object();
	char		*status = NULL, *result = NULL, *err = NULL;
	const char	*msg;
	int		 rc;

	json_object_object_add(params, "text", json_object_new_string(text));
	if (action != NULL)
		json_object_object_add(params, "action",
		    json_object_new_string(action));
	if (targets != NULL)
		json_object_object_add(params, "targets",
		    json_object_get(targets));
	rc = host_invoke_sync(app, "ansible.match",
	    json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
	    PLAN_MATCH_TIMEOUT_MS, &status, &result, &err);
	json_object_put(params);
	if (rc != 0) {
		rc = set_error(errp, "ansible.match: %s", err);
		free(err);
		return rc;
	}
	*resultp = json_tokener_parse(result);
	if (strcmp(status, "successful") != 0 || *resultp == NULL) {
		msg = plan_jstr(*resultp, "error");
		rc = set_error(errp, "ansible.match: %s", msg != NULL ? msg :
		    "the matcher failed");
		json_object_put(*resultp);
		*resultp = NULL;
	}
	free(status);
	free(result);
	return rc;
}

/* Candidates as "a.yml (0.42), b.yml (0.31)".  Caller frees. */
static char *
plan_candidates_text(json_object *cands)
{
	struct strbuf	 sb = { 0 };
	json_object	*c;
	size_t		 i;

	for (i = 0; cands != NULL && i < json_object_array_length(cands);
	    i++) {
		c = json_object_array_get_idx(cands, i);
		strbuf_addf(&sb, "%s%s (%.2f)", i > 0 ? ", " : "",
		    plan_jstr(c, "path") != NULL ? plan_jstr(c, "path") : "?",
		    json_object_get_double(json_object_object_get(c,
		    "confidence")));
	}
	return strbuf_detach(&sb);
}

/* Does text contain word (case-insensitive, at word boundaries)? */
static int
plan_has_word(const char *text, const char *word)
{
	size_t		 n = strlen(word);
	const char	*p = text;

	while (n > 0 && (p = strcasestr(p, word)) != NULL) {
		if ((p == text || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[n]))
			return 1;
		p++;
	}
	return 0;
}

/* Match one step; a miss or an unknown service becomes a question. */
static int
plan_match_task(struct plan *plan, struct plan_task *t, json_object *intent,
    plan_match_fn match, void *match_data, char **errp)
{
	json_object	*res = NULL, *m, *targets = NULL, *params = NULL;
	const char	*unknown = NULL, *svc;
	char		*text, *cands, *q;

	json_object_object_get_ex(intent, "targets", &targets);
	if (json_object_object_get_ex(intent, "params", &params))
		unknown = plan_jstr(params, "unknown_service");
	if (strcmp(t->action, "generate") == 0) {
		q = xasprintf("Step %d (%s): chiffon cannot generate roles or "
		    "playbooks yet; write the playbook and ask again.",
		    t->step, t->text);
		plan_add_unique(plan->questions, q);
		free(q);
		return 0;
	}
	if (t->service != NULL && !plan_has_word(t->text, t->service))
		text = xasprintf("%s %s", t->text, t->service);
	else
		text = xstrdup(t->text);
	if (match(text, t->action, targets, &res, match_data, errp) != 0) {
		free(text);
		return -1;
	}
	free(text);
	json_object_object_get_ex(res, "candidates", &t->candidates);
	json_object_get(t->candidates);
	if (json_object_object_get_ex(res, "match", &m) && m != NULL &&
	    t->service != NULL && unknown == NULL) {
		svc = plan_jstr(m, "service");
		if (svc != NULL && strcmp(svc, t->service) != 0) {
			/* Never run another service's playbook. */
			q = xasprintf("Step %d (%s): the closest playbook, %s, "
			    "is for %s, not %s. Is that what you meant?",
			    t->step, t->text, plan_jstr(m, "path"), svc,
			    t->service);
			plan_add_unique(plan->questions, q);
			free(q);
			json_object_put(res);
			return 0;
		}
		t->playbook = plan_xstrdup0(plan_jstr(m, "path"));
		t->method = plan_xstrdup0(plan_jstr(m, "method"));
		t->confidence = json_object_get_double(
		    json_object_object_get(m, "confidence"));
	}
	if (t->playbook == NULL) {
		cands = plan_candidates_text(t->candidates);
		if (unknown != NULL)
			q = xasprintf("Step %d (%s): no playbook for '%s'.%s%s",
			    t->step, t->text, unknown, *cands != '\0' ?
			    " Closest, none a match: " : "", cands);
		else
			q = xasprintf("Step %d (%s): no playbook matches %s%s "
			    "well enough.%s%s Name one, or rephrase.",
			    t->step, t->text, t->action, t->service != NULL ?
			    t->service : "", *cands != '\0' ? " Candidates: " :
			    "", cands);
		plan_add_unique(plan->questions, q);
		free(q);
		free(cands);
	}
	json_object_put(res);
	return 0;
}

/* --- building ------------------------------------------------------------- */

static void
plan_task_clear(struct plan_task *t)
{
	free(t->action);
	free(t->service);
	free(t->text);
	free(t->playbook);
	free(t->method);
	json_object_put(t->candidates);
	free(t->limit);
	json_object_put(t->tags);
	json_object_put(t->extra_vars);
	free(t->depends);
	free(t->capability);
	free(t->estimate_from);
	json_object_put(t->resources);
	free(t->risk_why);
	free(t->note);
	free(t->status);
	memset(t, 0, sizeof *t);
}

void
plan_free(struct plan *plan)
{
	size_t	i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->ntasks; i++)
		plan_task_clear(&plan->tasks[i]);
	free(plan->tasks);
	free(plan->text);
	free(plan->tier);
	free(plan->status);
	json_object_put(plan->questions);
	json_object_put(plan->notes);
	free(plan);
}

/* Targets: "all" anywhere means no limit; otherwise the names joined. */
static char *
plan_limit(json_object *targets, int *groupp, const struct vocab *v)
{
	struct strbuf	 sb = { 0 };
	const char	*s;
	size_t		 i, n;

	*groupp = 0;
	n = targets != NULL && json_object_is_type(targets, json_type_array) ?
	    json_object_array_length(targets) : 0;
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(targets,
		    i));
		if (s == NULL || *s == '\0')
			continue;
		if (strcmp(s, "all") == 0) {
			strbuf_free(&sb);
			*groupp = 1;
			return NULL;
		}
		if (v != NULL && vocab_is_group(v, s))
			*groupp = 1;
		strbuf_addf(&sb, "%s%s", sb.len > 0 ? "," : "", s);
	}
	if (sb.len == 0) {
		/* No targets: the playbook's own hosts, all of them. */
		strbuf_free(&sb);
		*groupp = 1;
		return NULL;
	}
	return strbuf_detach(&sb);
}

static void
plan_task_from_intent(struct plan_task *t, json_object *intent,
    const struct vocab *v, int *broadp)
{
	json_object	*params = NULL, *targets = NULL;
	const char	*s;

	t->action = xstrdup(plan_jstr(intent, "action") != NULL ?
	    plan_jstr(intent, "action") : "?");
	t->service = plan_xstrdup0(plan_jstr(intent, "service"));
	t->text = xstrdup(plan_jstr(intent, "text") != NULL ?
	    plan_jstr(intent, "text") : "");
	t->check = json_object_get_boolean(json_object_object_get(intent,
	    "check"));
	json_object_object_get_ex(intent, "targets", &targets);
	t->limit = plan_limit(targets, broadp, v);
	t->tags = json_object_new_array();
	t->extra_vars = json_object_new_object();
	if (json_object_object_get_ex(intent, "params", &params) &&
	    json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, key, val) {
			if (!str_in_list(key, plan_not_vars))
				json_object_object_add(t->extra_vars, key,
				    json_object_get(val));
		}
		if ((s = plan_jstr(params, "tags")) != NULL)
			json_object_array_add(t->tags,
			    json_object_new_string(s));
		if ((s = plan_jstr(params, "detail")) != NULL)
			t->note = xstrdup(s);
	}
	t->capability = xstrdup("ansible");
}

/*
 * Order: keep the request's order, except that a step which configures,
 * checks or restarts a service comes after a later deploy of the same
 * service (which moves up in front of it).  Then link dependencies.
 */
static void
plan_order(struct plan *plan)
{
	struct plan_task	*out;
	int			*done;
	size_t			 i, j, n = 0;

	out = xcalloc(plan->ntasks, sizeof *out);
	done = xcalloc(plan->ntasks, sizeof *done);
	for (i = 0; i < plan->ntasks; i++) {
		struct plan_task *t = &plan->tasks[i];

		if (done[i])
			continue;
		if (plan_action_find(t->action)->after_deploy &&
		    t->service != NULL) {
			for (j = i + 1; j < plan->ntasks; j++) {
				struct plan_task *d = &plan->tasks[j];

				if (!done[j] && d->service != NULL &&
				    strcmp(d->service, t->service) == 0 &&
				    str_in_list(d->action,
				    plan_deploy_actions)) {
					out[n++] = *d;
					done[j] = 1;
				}
			}
		}
		out[n++] = *t;
		done[i] = 1;
	}
	free(plan->tasks);
	plan->tasks = out;
	free(done);

	for (i = 0; i < plan->ntasks; i++) {
		struct plan_task *t = &plan->tasks[i];

		t->step = (int)i + 1;
		if (!plan_action_find(t->action)->after_deploy ||
		    t->service == NULL)
			continue;
		/* The nearest earlier deploy of the same service. */
		for (j = i; j-- > 0;) {
			struct plan_task *d = &plan->tasks[j];

			if (d->service != NULL &&
			    strcmp(d->service, t->service) == 0 &&
			    str_in_list(d->action, plan_deploy_actions)) {
				t->depends = xmalloc(sizeof *t->depends);
				t->depends[0] = d->step;
				t->ndepends = 1;
				break;
			}
		}
	}
}

double
plan_default_estimate(const char *action)
{
	return plan_action_find(action)->default_s;
}

/*
 * Estimate every step with one query: the median of past runs of its
 * playbook, else the action's default.
 */
static void
plan_estimate_all(PGconn *pg, struct plan *plan)
{
	PGresult	*res = NULL;
	json_object	*paths = json_object_new_array();
	const char	*params[1];
	size_t		 i;
	int		 k;
	long		 n;

	for (i = 0; i < plan->ntasks; i++) {
		if (plan->tasks[i].playbook != NULL)
			json_object_array_add(paths, json_object_new_string(
			    plan->tasks[i].playbook));
	}
	params[0] = json_object_to_json_string_ext(paths,
	    JSON_C_TO_STRING_PLAIN);
	if (pg != NULL && json_object_array_length(paths) > 0)
		res = db_exec(pg, plan_sql_history, 1, params, NULL);
	for (i = 0; i < plan->ntasks; i++) {
		struct plan_task *t = &plan->tasks[i];

		for (k = 0; res != NULL && k < PQntuples(res); k++) {
			if (t->playbook == NULL ||
			    strcmp(PQgetvalue(res, k, 0), t->playbook) != 0 ||
			    PQgetisnull(res, k, 1))
				continue;
			n = atol(PQgetvalue(res, k, 2));
			t->estimated_s = strtod(PQgetvalue(res, k, 1), NULL);
			t->estimate_from = xasprintf("median of %ld run%s", n,
			    n == 1 ? "" : "s");
			break;
		}
		if (t->estimate_from == NULL) {
			t->estimated_s = plan_default_estimate(t->action);
			t->estimate_from = xstrdup("default for the action");
		}
	}
	PQclear(res);
	json_object_put(paths);
}

double
plan_estimate(PGconn *pg, const char *playbook, const char *action,
    char **fromp)
{
	struct plan_task	 t = { 0 };
	struct plan		 plan = { 0 };
	double			 s;

	t.playbook = (char *)playbook;
	t.action = (char *)action;
	plan.tasks = &t;
	plan.ntasks = 1;
	plan_estimate_all(pg, &plan);
	s = t.estimated_s;
	if (fromp != NULL)
		*fromp = t.estimate_from;
	else
		free(t.estimate_from);
	return s;
}

const char *
plan_risk_name(int risk)
{
	if (risk < PLAN_RISK_LOW || risk > PLAN_RISK_HIGH)
		return "medium";
	return plan_risk_names[risk];
}

int
plan_risk(const char *action, int broad, int checkable, char **whyp)
{
	const struct plan_action	*a = plan_action_find(action);
	struct strbuf			 sb = { 0 };
	int				 risk = a->risk;

	strbuf_addf(&sb, "%s is %s risk", action != NULL ? action : "?",
	    plan_risk_name(a->risk));
	if (broad) {
		risk++;
		strbuf_adds(&sb, "; all hosts or a group: +1");
	} else
		strbuf_adds(&sb, "; named hosts only");
	if (checkable) {
		risk--;
		strbuf_adds(&sb, "; a check-mode dry run is possible: -1");
	} else
		strbuf_adds(&sb, "; no dry run possible");
	if (risk < a->risk)
		risk = a->risk;
	if (risk > PLAN_RISK_HIGH)
		risk = PLAN_RISK_HIGH;
	if (whyp != NULL)
		*whyp = strbuf_detach(&sb);
	else
		strbuf_free(&sb);
	return risk;
}

struct plan *
plan_build(PGconn *pg, const char *text, json_object *parsed,
    const struct vocab *v, plan_match_fn match, void *match_data,
    char **errp)
{
	struct plan			*plan;
	const struct vocab_playbook	*pb;
	json_object			*intents = NULL, *a, *o;
	size_t				 i, n;
	char				*q;

	plan = xcalloc(1, sizeof *plan);
	plan->text = xstrdup(text != NULL ? text : "");
	plan->tier = xstrdup(plan_jstr(parsed, "tier") != NULL ?
	    plan_jstr(parsed, "tier") : "deterministic");
	plan->questions = json_object_new_array();
	plan->notes = json_object_new_array();
	plan->version = 1;
	if (json_object_object_get_ex(parsed, "ambiguities", &a))
		plan_add_all(plan->questions, a);
	if (json_object_object_get_ex(parsed, "notes", &a))
		plan_add_all(plan->notes, a);
	if (json_object_object_get_ex(parsed, "out_of_scope", &a)) {
		for (i = 0; i < json_object_array_length(a); i++) {
			q = xasprintf("Not understood, left out: '%s'",
			    json_object_get_string(json_object_array_get_idx(a,
			    i)));
			plan_add_unique(plan->notes, q);
			free(q);
		}
	}

	json_object_object_get_ex(parsed, "intents", &intents);
	n = intents != NULL && json_object_is_type(intents, json_type_array) ?
	    json_object_array_length(intents) : 0;
	plan->tasks = xcalloc(n + 1, sizeof *plan->tasks);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(intents, i);
		/*
		 * Until the risk is weighed, t->risk holds whether the
		 * targets are broad (it travels with the step when
		 * plan_order moves it).
		 */
		plan_task_from_intent(&plan->tasks[i], o, v,
		    &plan->tasks[i].risk);
		plan->tasks[i].step = (int)i + 1;
		plan->ntasks++;
		if (plan_match_task(plan, &plan->tasks[i], o, match,
		    match_data, errp) != 0) {
			plan_free(plan);
			return NULL;
		}
	}
	if (n == 0 && json_object_array_length(plan->questions) == 0)
		plan_add_unique(plan->questions, "I found nothing to do in "
		    "this request: what should I do, and to which service?");

	plan_order(plan);
	plan_estimate_all(pg, plan);
	for (i = 0; i < plan->ntasks; i++) {
		struct plan_task *t = &plan->tasks[i];
		int checkable;

		pb = vocab_playbook(v, t->playbook);
		/*
		 * Only real needs: the dispatcher waits for an agent that
		 * reports every key (see dispatch.h).
		 */
		if (pb != NULL && pb->resources != NULL)
			t->resources = json_tokener_parse(
			    json_object_to_json_string(pb->resources));
		if (t->resources == NULL)
			t->resources = json_object_new_object();
		if (pb != NULL && pb->gpu &&
		    !json_object_object_get_ex(t->resources, "gpu", NULL))
			json_object_object_add(t->resources, "gpu",
			    json_object_new_boolean(1));
		checkable = t->playbook != NULL && (pb == NULL ||
		    !pb->no_check);
		t->risk = plan_risk(t->action, t->risk, checkable,
		    &t->risk_why);
	}
	return plan;
}

int
plan_runnable(const struct plan *plan)
{
	size_t	i;

	if (plan->ntasks == 0 ||
	    json_object_array_length(plan->questions) > 0)
		return 0;
	for (i = 0; i < plan->ntasks; i++) {
		if (plan->tasks[i].playbook == NULL)
			return 0;
	}
	return 1;
}

/* --- showing -------------------------------------------------------------- */

char *
plan_duration(double s)
{
	long	t = lround(s);

	if (t < 60)
		return xasprintf("%lds", t < 0 ? 0 : t);
	if (t < 3600)
		return t % 60 == 0 ? xasprintf("%ldm", t / 60) :
		    xasprintf("%ldm%02lds", t / 60, t % 60);
	return xasprintf("%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

static int
plan_max_risk(const struct plan *plan)
{
	int	r = PLAN_RISK_LOW;
	size_t	i;

	for (i = 0; i < plan->ntasks; i++) {
		if (plan->tasks[i].risk > r)
			r = plan->tasks[i].risk;
	}
	return r;
}

static double
plan_total(const struct plan *plan)
{
	double	s = 0;
	size_t	i;

	for (i = 0; i < plan->ntasks; i++)
		s += plan->tasks[i].estimated_s;
	return s;
}

char *
plan_summary(const struct plan *plan)
{
	struct strbuf	 sb = { 0 };
	char		*d = plan_duration(plan_total(plan));
	size_t		 i;

	strbuf_addf(&sb, "%zu step%s: ", plan->ntasks,
	    plan->ntasks == 1 ? "" : "s");
	for (i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];

		strbuf_addf(&sb, "%s%s %s (%s)", i > 0 ? ", then " : "",
		    t->action, t->service != NULL ? t->service : "?",
		    t->playbook != NULL ? t->playbook : "no playbook");
	}
	strbuf_addf(&sb, "; risk %s; est. %s",
	    plan_risk_name(plan_max_risk(plan)), d);
	free(d);
	return strbuf_detach(&sb);
}

char *
plan_format(const struct plan *plan)
{
	struct strbuf	 sb = { 0 };
	size_t		 i, j, nq;
	char		*d, *safe;

	if (plan->row_id > 0)
		strbuf_addf(&sb, "Plan %lld (version %d, %s)", plan->plan_id,
		    plan->version, plan->status != NULL ? plan->status :
		    "pending_approval");
	else
		strbuf_adds(&sb, "Draft plan (not stored)");
	if (plan->request_id > 0)
		strbuf_addf(&sb, " for request %lld", plan->request_id);
	strbuf_addf(&sb, ", understood by the %s parser ($%.4f)\n",
	    plan->tier != NULL ? plan->tier : "deterministic",
	    plan->cost_usd);
	safe = term_safe(plan->text);
	strbuf_addf(&sb, "  \"%s\"\n\n", safe);
	free(safe);
	for (i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];

		strbuf_addf(&sb, "%2d. %s %s  ", t->step, t->action,
		    t->service != NULL ? t->service : "?");
		if (t->playbook != NULL)
			strbuf_addf(&sb, "%s (%s, %.2f)", t->playbook,
			    t->method != NULL ? t->method : "?",
			    t->confidence);
		else
			strbuf_adds(&sb, "NO PLAYBOOK");
		d = plan_duration(t->estimated_s);
		strbuf_addf(&sb, "  targets: %s  risk: %s  est. %s",
		    t->limit != NULL ? t->limit : "all",
		    plan_risk_name(t->risk), d);
		free(d);
		if (t->check)
			strbuf_adds(&sb, "  [check mode]");
		if (t->status != NULL &&
		    strcmp(t->status, "pending_approval") != 0)
			strbuf_addf(&sb, "  [%s]", t->status);
		strbuf_addc(&sb, '\n');
		if (t->ndepends > 0) {
			strbuf_adds(&sb, "    after step");
			for (j = 0; j < t->ndepends; j++)
				strbuf_addf(&sb, "%s %d", j > 0 ? "," : "",
				    t->depends[j]);
			strbuf_addc(&sb, '\n');
		}
		if (t->note != NULL)
			strbuf_addf(&sb, "    asked: %s\n", t->note);
		if (t->extra_vars != NULL &&
		    json_object_object_length(t->extra_vars) > 0)
			strbuf_addf(&sb, "    vars: %s\n",
			    json_object_to_json_string_ext(t->extra_vars,
			    JSON_C_TO_STRING_PLAIN));
		if (t->tags != NULL && json_object_array_length(t->tags) > 0)
			strbuf_addf(&sb, "    tags: %s\n",
			    json_object_to_json_string_ext(t->tags,
			    JSON_C_TO_STRING_PLAIN));
		if (t->resources != NULL &&
		    json_object_object_length(t->resources) > 0)
			strbuf_addf(&sb, "    needs: %s\n",
			    json_object_to_json_string_ext(t->resources,
			    JSON_C_TO_STRING_PLAIN));
		if (t->risk_why != NULL)
			strbuf_addf(&sb, "    risk: %s\n", t->risk_why);
	}
	if (plan->ntasks > 0) {
		d = plan_duration(plan_total(plan));
		strbuf_addf(&sb, "\n%zu step%s, est. %s in all, highest risk "
		    "%s.\n", plan->ntasks, plan->ntasks == 1 ? "" : "s", d,
		    plan_risk_name(plan_max_risk(plan)));
		free(d);
	}
	nq = json_object_array_length(plan->questions);
	if (nq > 0) {
		strbuf_adds(&sb, "\nQuestions (nothing runs until they are "
		    "answered; rephrase the request):\n");
		for (i = 0; i < nq; i++)
			strbuf_addf(&sb, "  ? %s\n", json_object_get_string(
			    json_object_array_get_idx(plan->questions, i)));
	}
	for (i = 0; i < json_object_array_length(plan->notes); i++)
		strbuf_addf(&sb, "%s  - %s\n", i == 0 ? "\nNotes:\n" : "",
		    json_object_get_string(json_object_array_get_idx(
		    plan->notes, i)));
	return strbuf_detach(&sb);
}

static json_object *
plan_jstr_new(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* A confidence with three decimals, printed as such. */
static json_object *
plan_conf_json(double c)
{
	char	buf[32];
	long	m = lround(c * 1000);

	/* Not %f: the locale may want a decimal comma; JSON does not. */
	if (m < 0)
		m = 0;
	snprintf(buf, sizeof buf, "%ld.%03ld", m / 1000, m % 1000);
	return json_object_new_double_s((double)m / 1000, buf);
}

static json_object *
plan_task_json(const struct plan_task *t)
{
	json_object	*o = json_object_new_object(), *a;
	size_t		 j;

	json_object_object_add(o, "step", json_object_new_int(t->step));
	if (t->id > 0)
		json_object_object_add(o, "id", json_object_new_int64(t->id));
	json_object_object_add(o, "action", plan_jstr_new(t->action));
	json_object_object_add(o, "service", plan_jstr_new(t->service));
	json_object_object_add(o, "text", plan_jstr_new(t->text));
	json_object_object_add(o, "playbook", plan_jstr_new(t->playbook));
	json_object_object_add(o, "method", plan_jstr_new(t->method));
	json_object_object_add(o, "confidence", plan_conf_json(t->confidence));
	a = json_object_new_array();
	for (j = 0; t->candidates != NULL &&
	    j < json_object_array_length(t->candidates); j++) {
		json_object *c = json_object_array_get_idx(t->candidates, j);
		json_object *d = json_object_new_object();

		json_object_object_add(d, "path",
		    plan_jstr_new(plan_jstr(c, "path")));
		json_object_object_add(d, "service",
		    plan_jstr_new(plan_jstr(c, "service")));
		json_object_object_add(d, "confidence", plan_conf_json(
		    json_object_get_double(json_object_object_get(c,
		    "confidence"))));
		json_object_array_add(a, d);
	}
	json_object_object_add(o, "candidates", a);
	json_object_object_add(o, "targets",
	    json_object_new_string(t->limit != NULL ? t->limit : "all"));
	json_object_object_add(o, "limit", plan_jstr_new(t->limit));
	json_object_object_add(o, "tags", t->tags != NULL ?
	    json_object_get(t->tags) : json_object_new_array());
	json_object_object_add(o, "extra_vars", t->extra_vars != NULL ?
	    json_object_get(t->extra_vars) : json_object_new_object());
	json_object_object_add(o, "check", json_object_new_boolean(t->check));
	a = json_object_new_array();
	for (j = 0; j < t->ndepends; j++)
		json_object_array_add(a, json_object_new_int(t->depends[j]));
	json_object_object_add(o, "depends_on_steps", a);
	json_object_object_add(o, "capability", plan_jstr_new(t->capability));
	json_object_object_add(o, "estimated_s",
	    json_object_new_double(t->estimated_s));
	json_object_object_add(o, "estimate_from",
	    plan_jstr_new(t->estimate_from));
	json_object_object_add(o, "resources", t->resources != NULL ?
	    json_object_get(t->resources) : json_object_new_object());
	json_object_object_add(o, "risk",
	    json_object_new_string(plan_risk_name(t->risk)));
	json_object_object_add(o, "risk_why", plan_jstr_new(t->risk_why));
	json_object_object_add(o, "note", plan_jstr_new(t->note));
	if (t->status != NULL)
		json_object_object_add(o, "status", plan_jstr_new(t->status));
	return o;
}

json_object *
plan_json(const struct plan *plan)
{
	json_object	*o = json_object_new_object(), *a;
	char		*s;
	size_t		 i;

	if (plan->row_id > 0) {
		json_object_object_add(o, "id",
		    json_object_new_int64(plan->plan_id));
		json_object_object_add(o, "version",
		    json_object_new_int(plan->version));
		json_object_object_add(o, "row_id",
		    json_object_new_int64(plan->row_id));
		json_object_object_add(o, "status", plan_jstr_new(
		    plan->status));
	}
	if (plan->request_id > 0)
		json_object_object_add(o, "request_id",
		    json_object_new_int64(plan->request_id));
	json_object_object_add(o, "request", plan_jstr_new(plan->text));
	json_object_object_add(o, "tier", plan_jstr_new(plan->tier));
	json_object_object_add(o, "cost_usd",
	    json_object_new_double(plan->cost_usd));
	json_object_object_add(o, "runnable",
	    json_object_new_boolean(plan_runnable(plan)));
	s = plan_summary(plan);
	json_object_object_add(o, "summary", json_object_new_string(s));
	free(s);
	json_object_object_add(o, "risk",
	    json_object_new_string(plan_risk_name(plan_max_risk(plan))));
	json_object_object_add(o, "estimated_s",
	    json_object_new_double(plan_total(plan)));
	a = json_object_new_array();
	for (i = 0; i < plan->ntasks; i++)
		json_object_array_add(a, plan_task_json(&plan->tasks[i]));
	json_object_object_add(o, "tasks", a);
	json_object_object_add(o, "questions",
	    json_object_get(plan->questions));
	json_object_object_add(o, "notes", json_object_get(plan->notes));
	return o;
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
	if (json_object_object_get_ex(dt, "candidates", &v))
		t->candidates = json_object_get(v);
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
