/*
 * plan-build.c - building plans (see plan.h); plan-show.c shows them,
 * plan-store.c stores and loads them.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "agent.h"
#include "db.h"
#include "host.h"
#include "json-get.h"
#include "plan.h"
#include "targets.h"
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
/* Actions that bring a service's playbook into being (deploys wait). */
static const char *const plan_generate_actions[] = { "generate", NULL };
/* Request parameters a generate step passes to template.generate. */
static const char *const plan_generate_params[] = { "port", "image", "host",
    "force", NULL };

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

/* The string member key of o, else NULL (json_get_str). */
const char *
plan_jstr(json_object *o, const char *key)
{
	return json_get_str(o, key);
}

static char *
plan_xstrdup0(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
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

/*
 * A playbook's "# chiffon:needs=" resources into step t (they override
 * the same keys of vars.chiffon_resources); a bad line is a question.
 */
static void
plan_needs(struct plan *plan, struct plan_task *t,
    const struct vocab_playbook *pb)
{
	struct json_object	*needs;
	char			*json, *err = NULL, *q;

	if ((json = agent_needs_json(pb->needs, &err)) == NULL) {
		q = xasprintf("%s: its '# chiffon:needs=' line is wrong: %s; "
		    "fix the playbook, then plan again", pb->path, err);
		plan_add_unique(plan->questions, q);
		free(q);
		free(err);
		return;
	}
	needs = json_tokener_parse(json);
	json_object_object_foreach(needs, k, v)
		json_object_object_add(t->resources, k, json_object_get(v));
	json_object_put(needs);
	free(json);
}

void
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

/*
 * The matcher's answer for a new service: template.preview computes what
 * template.generate will write (existing files are only refused when the
 * step runs, so that --force can be planned).  A refusal or a missing
 * template plugin is {"match": null, "error": ...}.  0, never -1.
 */
static int
plan_match_generate(struct app *app, const char *name, json_object *targets,
    json_object **resultp, char **errp)
{
	json_object	*params = json_object_new_object(), *res, *m;
	char		*status = NULL, *result = NULL, *err = NULL;

	(void)errp;
	json_object_object_add(params, "service", json_object_new_string(name));
	json_object_object_add(params, "force", json_object_new_boolean(1));
	if (targets != NULL && json_object_array_length(targets) > 0)
		json_object_object_add(params, "host", json_object_get(
		    json_object_array_get_idx(targets, 0)));
	*resultp = json_object_new_object();
	if (host_invoke_sync(app, CHIFFON_CAP_TEMPLATE_PREVIEW,
	    json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
	    PLAN_MATCH_TIMEOUT_MS, &status, &result, &err) != 0) {
		json_object_object_add(*resultp, "match", NULL);
		json_object_object_add(*resultp, "error",
		    json_object_new_string(err));
		free(err);
		json_object_put(params);
		return 0;
	}
	json_object_put(params);
	res = json_tokener_parse(result);
	if (strcmp(status, "successful") != 0 || res == NULL) {
		json_object_object_add(*resultp, "match", NULL);
		json_object_object_add(*resultp, "error",
		    json_object_new_string(plan_jstr(res, "error") != NULL ?
		    plan_jstr(res, "error") : "template.preview failed"));
	} else {
		m = json_object_new_object();
		json_object_object_add(m, "path", plan_jstr_new(plan_jstr(res,
		    "playbook")));
		json_object_object_add(m, "service", plan_jstr_new(plan_jstr(
		    res, "service")));
		json_object_object_add(m, "layout", plan_jstr_new(plan_jstr(
		    res, "layout")));
		json_object_object_add(m, "role", plan_jstr_new(plan_jstr(
		    res, "role")));
		json_object_object_add(m, "confidence",
		    json_object_new_double(1));
		json_object_object_add(*resultp, "match", m);
		json_object_object_add(*resultp, "files", json_object_get(
		    json_object_object_get(res, "files")));
	}
	json_object_put(res);
	free(status);
	free(result);
	return 0;
}

int
plan_match_host(const char *text, const char *action, json_object *targets,
    json_object **resultp, void *data, char **errp)
{
	struct app	*app = data;
	json_object	*params;
	char		*status = NULL, *result = NULL, *err = NULL;
	const char	*msg;
	int		 rc;

	if (action != NULL && strcmp(action, "generate") == 0)
		return plan_match_generate(app, text, targets, resultp, errp);
	params = json_object_new_object();
	json_object_object_add(params, "text", json_object_new_string(text));
	if (action != NULL)
		json_object_object_add(params, "action",
		    json_object_new_string(action));
	if (targets != NULL)
		json_object_object_add(params, "targets",
		    json_object_get(targets));
	rc = host_invoke_sync(app, CHIFFON_CAP_ANSIBLE_MATCH,
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

static int
plan_cmp_confidence(const void *a, const void *b)
{
	double	ca = json_object_get_double(json_object_object_get(
		    *(json_object *const *)a, "confidence"));
	double	cb = json_object_get_double(json_object_object_get(
		    *(json_object *const *)b, "confidence"));

	return ca < cb ? 1 : ca > cb ? -1 : 0;
}

/*
 * Candidates, best first, each with the words to type to pick it:
 * "deploy jellyfin in nas.yml" (nas.yml, 0.42); ...  Caller frees.
 */
static char *
plan_candidates_text(json_object *cands)
{
	struct strbuf	 sb = { 0 };
	json_object	*c;
	size_t		 i;
	const char	*w;

	if (cands != NULL && json_object_is_type(cands, json_type_array))
		json_object_array_sort(cands, plan_cmp_confidence);
	for (i = 0; cands != NULL && i < json_object_array_length(cands);
	    i++) {
		c = json_object_array_get_idx(cands, i);
		w = plan_jstr(c, "words");
		if (w != NULL)
			strbuf_addf(&sb, "%s\"%s\" (%s, %.2f)", i > 0 ? "; " :
			    "", w, plan_jstr(c, "path") != NULL ?
			    plan_jstr(c, "path") : "?",
			    json_object_get_double(json_object_object_get(c,
			    "confidence")));
		else
			strbuf_addf(&sb, "%s%s (%.2f)", i > 0 ? ", " : "",
			    plan_jstr(c, "path") != NULL ? plan_jstr(c,
			    "path") : "?", json_object_get_double(
			    json_object_object_get(c, "confidence")));
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

/* "create a.yml, edit site.yml (site layout)".  Caller frees. */
static char *
plan_generate_files(json_object *res, const char *layout)
{
	struct strbuf	 sb = { 0 };
	json_object	*files, *f;
	size_t		 i, n;

	files = json_object_object_get(res, "files");
	n = files != NULL ? json_object_array_length(files) : 0;
	for (i = 0; i < n; i++) {
		f = json_object_array_get_idx(files, i);
		strbuf_addf(&sb, "%s%s %s", i > 0 ? ", " : "",
		    plan_jstr(f, "action"), plan_jstr(f, "path"));
	}
	strbuf_addf(&sb, " (%s layout)", layout != NULL ? layout : "?");
	return strbuf_detach(&sb);
}

/*
 * A generate step: the matcher, asked with action "generate" and the new
 * service's name as text, names the playbook that will run it (the
 * template plugin's template.preview, see plan_match_host); what it
 * refuses (a hostile name, an unknown layout, no template plugin)
 * becomes a question.  The step runs the "template.generate" capability
 * with the request's port, image, host and force in its extra vars.
 */
static int
plan_generate_task(struct plan *plan, struct plan_task *t,
    json_object *params, json_object *targets, plan_match_fn match,
    void *match_data, char **errp)
{
	json_object	*res = NULL, *m;
	const char	*name, *why;
	char		*q;

	name = plan_jstr(params, "name");
	if (name == NULL)
		name = t->service;
	if (name == NULL) {
		q = xasprintf("Step %d (%s): what should the new service be "
		    "called?", t->step, t->text);
		plan_add_unique(plan->questions, q);
		free(q);
		return 0;
	}
	if (match(name, "generate", targets, &res, match_data, errp) != 0)
		return -1;
	if (!json_object_object_get_ex(res, "match", &m) || m == NULL ||
	    plan_jstr(m, "path") == NULL) {
		why = plan_jstr(res, "error");
		q = xasprintf("Step %d (%s): cannot generate %s: %s", t->step,
		    t->text, name, why != NULL ? why : "no template plugin "
		    "answered");
		plan_add_unique(plan->questions, q);
		free(q);
		json_object_put(res);
		return 0;
	}
	free(t->service);
	t->service = plan_xstrdup0(plan_jstr(m, "service"));
	t->playbook = xstrdup(plan_jstr(m, "path"));
	t->confidence = 1;
	free(t->capability);
	t->capability = xstrdup(CHIFFON_CAP_TEMPLATE_GENERATE);
	free(t->note);
	t->note = plan_generate_files(res, plan_jstr(m, "layout"));
	t->gen_layout = plan_xstrdup0(plan_jstr(m, "layout"));
	t->gen_role = plan_xstrdup0(plan_jstr(m, "role"));
	json_object_put(res);
	/* The template plugin's own parameters, nothing else. */
	if (params != NULL && json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, key, val) {
			if (str_in_list(key, plan_generate_params))
				json_object_object_add(t->extra_vars, key,
				    json_object_get(val));
		}
	}
	return 0;
}

/* Are a and b the same service name, case, '-', '_' and ' ' aside? */
static int
plan_same_name(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (strchr(" _-", *a) != NULL && strchr(" _-", *b) != NULL)
			continue;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	}
	return *a == '\0' && *b == '\0';
}

/*
 * A step for a service an earlier generate step of the plan creates
 * ("create a playbook for mealie and deploy it") runs what that step
 * writes: its playbook, and for a role in a site playbook the role's tag
 * with its <role>_enabled toggle on.  Non-zero when t was such a step.
 */
static int
plan_generated_task(struct plan *plan, struct plan_task *t)
{
	struct plan_task	*g;
	char			*var;
	size_t			 i;

	if (t->service == NULL)
		return 0;
	for (i = 0; i < plan->ntasks && &plan->tasks[i] != t; i++) {
		g = &plan->tasks[i];
		if (strcmp(g->action, "generate") != 0 || g->service == NULL ||
		    g->playbook == NULL || !plan_same_name(g->service,
		    t->service))
			continue;
		free(t->service);
		t->service = xstrdup(g->service);
		t->playbook = xstrdup(g->playbook);
		t->confidence = 1;
		if (g->gen_layout != NULL && strcmp(g->gen_layout, "site") ==
		    0 && g->gen_role != NULL) {
			json_object_array_add(t->tags,
			    json_object_new_string(g->service));
			var = xasprintf("%s_enabled", g->gen_role);
			json_object_object_add(t->extra_vars, var,
			    json_object_new_boolean(1));
			free(var);
		}
		if (t->note == NULL)
			t->note = xasprintf("runs what step %d generates",
			    g->step);
		return 1;
	}
	return 0;
}

/* "Step N ...: BODY" into the array (a question or a note). */
static void
plan_step_say(json_object *to, struct plan_task *t, int with_text,
    const char *fmt, va_list ap)
{
	char	*body, *q;

	body = xvasprintf(fmt, ap);
	q = with_text ? xasprintf("Step %d (%s): %s", t->step, t->text, body) :
	    xasprintf("Step %d: %s", t->step, body);
	plan_add_unique(to, q);
	free(q);
	free(body);
}

/* A question about step t (formatted): the step is refused. */
static void __attribute__((format(printf, 3, 4)))
plan_ask(struct plan *plan, struct plan_task *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	plan_step_say(plan->questions, t, 1, fmt, ap);
	va_end(ap);
	t->refused = 1;
}

/* A note about step t (formatted). */
static void __attribute__((format(printf, 3, 4)))
plan_note(struct plan *plan, struct plan_task *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	plan_step_say(plan->notes, t, 0, fmt, ap);
	va_end(ap);
}

/* Strings of a JSON array joined by sep.  Caller frees. */
static char *
plan_join(json_object *a, const char *sep)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	for (i = 0; a != NULL && json_object_is_type(a, json_type_array) &&
	    i < json_object_array_length(a); i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? sep : "",
		    json_object_get_string(json_object_array_get_idx(a, i)));
	if (sb.buf == NULL)
		strbuf_adds(&sb, "");
	return strbuf_detach(&sb);
}

/* Does the JSON array of strings a hold s? */
static int
plan_array_has(json_object *a, const char *s)
{
	size_t	i;

	for (i = 0; a != NULL && json_object_is_type(a, json_type_array) &&
	    i < json_object_array_length(a); i++) {
		if (strcmp(json_object_get_string(json_object_array_get_idx(a,
		    i)), s) == 0)
			return 1;
	}
	return 0;
}

/* Every tag a playbook knows: its own and its services'.  Caller puts. */
static json_object *
plan_known_tags(const struct vocab_playbook *vp)
{
	json_object	*all = json_object_new_array(), *a, *svcs;
	size_t		 i;

	if (vp == NULL || vp->json == NULL)
		return all;
	if (json_object_object_get_ex(vp->json, "tags", &a))
		plan_add_all(all, a);
	if (json_object_object_get_ex(vp->json, "services", &svcs) &&
	    json_object_is_type(svcs, json_type_array)) {
		for (i = 0; i < json_object_array_length(svcs); i++) {
			if (json_object_object_get_ex(
			    json_object_array_get_idx(svcs, i), "tags", &a))
				plan_add_all(all, a);
		}
	}
	return all;
}

/*
 * What selects the matched service: tags, its toggle (true, or false to
 * remove it), the app list of a loop, the limit of its play; an import
 * without tags runs the imported playbook itself.  Refuses (a question,
 * non-zero) what cannot be run as asked: requirements not installed, a
 * whole playbook of many services for a request that named one.
 */
static int
plan_select(struct plan *plan, struct plan_task *t, json_object *m,
    const struct vocab *v)
{
	const char	*kind = plan_jstr(m, "kind"), *toggle, *hosts, *pbh;
	const char	*via = plan_jstr(m, "via"), *svc, *rf;
	json_object	*tags = NULL, *vars = NULL, *req = NULL, *n;
	char		*list, *where;
	int		 nsvc;
	size_t		 i;

	if (json_object_object_get_ex(m, "requires", &req) &&
	    json_object_array_length(req) > 0) {
		list = plan_join(req, ", ");
		rf = plan_jstr(v->catalog, "requirements_file");
		plan_ask(plan, t, "%s needs %s, not installed: run "
		    "`ansible-galaxy install -r %s` in the repository first "
		    "(collections: `ansible-galaxy collection install -r %s`).",
		    t->playbook, list, rf != NULL ? rf : "requirements.yml",
		    rf != NULL ? rf : "requirements.yml");
		free(list);
		return -1;
	}
	nsvc = json_object_object_get_ex(m, "services", &n) ?
	    json_object_get_int(n) : 0;
	svc = plan_jstr(m, "service");
	if (kind != NULL && strcmp(kind, "playbook") == 0 && nsvc > 1 &&
	    (t->method == NULL || strcmp(t->method, "exact") != 0)) {
		/* Never the whole of a playbook of many services by guess. */
		plan_ask(plan, t, "the closest playbook, %s, holds %d services "
		    "and would apply all of them; name the one you mean (chiffon "
		    "catalog lists them), or the playbook by its path.",
		    t->playbook, nsvc);
		return -1;
	}
	json_object_object_get_ex(m, "tags", &tags);
	if (kind != NULL && strcmp(kind, "import") == 0 && via != NULL &&
	    json_object_array_length(tags) == 0) {
		free(t->playbook);
		t->playbook = xstrdup(via);
	} else if (svc != NULL && plan_array_has(tags, svc))
		plan_add_unique(t->tags, svc);	/* [pihole, dns]: pihole */
	else
		plan_add_all(t->tags, tags);
	if ((toggle = plan_jstr(m, "toggle")) != NULL) {
		int on = strcmp(t->action, "remove") != 0;

		json_object_object_add(t->extra_vars, toggle,
		    json_object_new_boolean(on));
		hosts = plan_jstr(m, "hosts");
		where = xasprintf("group_vars/%s.yml", hosts != NULL &&
		    *hosts != '\0' && strchr(hosts, ':') == NULL ? hosts :
		    "all");
		plan_note(plan, t, "%s=%s is set for this run only; to make it "
		    "permanent, set \"%s: %s\" in %s (or host_vars/).", toggle,
		    on ? "true" : "false", toggle, on ? "true" : "false",
		    where);
		free(where);
	}
	if (json_object_object_get_ex(m, "vars", &vars) &&
	    json_object_is_type(vars, json_type_object)) {
		json_object_object_foreach(vars, key, val)
			json_object_object_add(t->extra_vars, key,
			    json_object_get(val));
	}
	hosts = plan_jstr(m, "hosts");
	pbh = plan_jstr(m, "playbook_hosts");
	if (t->limit == NULL && hosts != NULL && *hosts != '\0' &&
	    strcmp(hosts, "all") != 0 && pbh != NULL &&
	    strstr(pbh, ", ") != NULL)
		t->limit = xstrdup(hosts);
	(void)svc;
	(void)i;
	return 0;
}

/* The repository's own variable for a version of svc, or NULL. */
static const char *
plan_version_var(json_object *vars, const char *svc)
{
	static const char	*forms[] = { "%s_version", "%s_image_version",
				    "%s_image_tag", "%s_tag", "%s_release" };
	const char		*found = NULL, *s;
	char			*n, *p, *want;
	size_t			 i, j;

	if (vars == NULL || svc == NULL)
		return NULL;
	n = xstrdup(svc);
	for (p = n; *p != '\0'; p++) {
		if (*p == '-' || *p == '.')
			*p = '_';
	}
	for (i = 0; i < nitems(forms) && found == NULL; i++) {
		want = xasprintf(forms[i], n);
		for (j = 0; j < json_object_array_length(vars); j++) {
			s = json_object_get_string(json_object_array_get_idx(
			    vars, j));
			if (strcmp(s, want) == 0) {
				found = s;
				break;
			}
		}
		free(want);
	}
	free(n);
	return found;
}

/* Did the admin type word (at a word start) in text? */
static int
plan_text_has(const char *text, const char *word)
{
	const char	*p = text;

	while (p != NULL && (p = strcasestr(p, word)) != NULL) {
		if (p == text || !isalnum((unsigned char)p[-1]))
			return 1;
		p++;
	}
	return 0;
}

/* Parameters that are no extra vars of their own. */
static const char *const plan_not_vars[] = { "detail", "unknown_service",
    "name", "tags", "skip_tags", "version", "playbook", NULL };

/* Variables no request may set unless the admin typed them. */
static int
plan_guarded_var(const char *key)
{
	return strncmp(key, "ansible_", 8) == 0 ||
	    strncmp(key, "become", 6) == 0 || strcmp(key, "hosts") == 0;
}

/*
 * The request's parameters on step t: "version X" to the repository's
 * own variable, tags checked against the playbook's, "without
 * restarting" to --skip-tags, other values only for variables the
 * repository declares (ansible_* and become* only when typed as
 * key=value).  Nothing is dropped silently: what is not used is noted.
 */
static void
plan_params(struct plan *plan, struct plan_task *t, json_object *params,
    const struct vocab *v)
{
	const struct vocab_playbook	*vp = vocab_playbook(v, t->playbook);
	json_object			*vars = NULL, *known, *a;
	const char			*s, *var;
	char				*typed, *list;
	size_t				 i;
	int				 found;

	if (params == NULL || !json_object_is_type(params, json_type_object))
		return;
	vars = json_object_new_array();
	if (vp != NULL && vp->json != NULL &&
	    json_object_object_get_ex(vp->json, "variables", &a))
		plan_add_all(vars, a);
	if (json_object_object_get_ex(v->catalog, "variables", &a))
		plan_add_all(vars, a);
	known = plan_known_tags(vp);
	if ((s = plan_jstr(params, "version")) != NULL) {
		if ((var = plan_version_var(vars, t->service)) != NULL)
			json_object_object_add(t->extra_vars, var,
			    json_object_new_string(s));
		else
			plan_note(plan, t, "not used: version %s (%s declares "
			    "no %s_version variable)", s, t->playbook,
			    t->service != NULL ? t->service : "SERVICE");
	}
	if ((s = plan_jstr(params, "tags")) != NULL) {
		if (plan_array_has(known, s))
			plan_add_unique(t->tags, s);
		else {
			list = plan_join(known, ", ");
			plan_ask(plan, t, "%s has no tag '%s' (its tags: %s).",
			    t->playbook, s, *list != '\0' ? list : "none");
			free(list);
		}
	}
	if ((s = plan_jstr(params, "skip_tags")) != NULL) {
		found = 0;
		for (i = 0; i < json_object_array_length(known); i++) {
			const char *k = json_object_get_string(
			    json_object_array_get_idx(known, i));

			if (strstr(k, s) != NULL) {
				plan_add_unique(t->skip_tags, k);
				found = 1;
			}
		}
		if (!found)
			plan_note(plan, t, "not used: without %sing (%s has no "
			    "%s tag to skip)", s, t->playbook, s);
	}
	json_object_object_foreach(params, key, val) {
		if (str_in_list(key, plan_not_vars))
			continue;
		typed = xasprintf("%s=", key);
		found = plan_text_has(plan->text, typed);
		free(typed);
		a = vars;
		if ((plan_guarded_var(key) && !found) ||
		    (!found && !plan_array_has(a, key))) {
			plan_note(plan, t, "not used: %s=%s (%s)", key,
			    json_object_get_string(val), plan_guarded_var(key) ?
			    "connection and become variables only when typed "
			    "as key=value" : "not a variable the repository "
			    "declares");
			continue;
		}
		json_object_object_add(t->extra_vars, key,
		    json_object_get(val));
	}
	json_object_put(known);
	json_object_put(vars);
}

/* Match one step; a miss or an unknown service becomes a question. */
static int
plan_match_task(struct plan *plan, struct plan_task *t, json_object *intent,
    const struct vocab *v, plan_match_fn match, void *match_data,
    char **errp)
{
	json_object	*res = NULL, *m, *targets = NULL, *params = NULL;
	const char	*unknown = NULL, *svc;
	char		*text, *cands, *q;

	json_object_object_get_ex(intent, "targets", &targets);
	if (json_object_object_get_ex(intent, "params", &params))
		unknown = plan_jstr(params, "unknown_service");
	if (strcmp(t->action, "generate") == 0)
		return plan_generate_task(plan, t, params, targets, match,
		    match_data, errp);
	if (plan_generated_task(plan, t))
		return 0;
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
	    unknown == NULL && (t->service != NULL ||
	    plan_jstr(params, "playbook") != NULL)) {
		svc = plan_jstr(m, "service");
		if (t->service == NULL && svc != NULL)
			t->service = xstrdup(svc);	/* named by path */
		else if (svc != NULL && strcmp(svc, t->service) != 0) {
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
		if (plan_select(plan, t, m, v) != 0) {
			free(t->playbook);
			t->playbook = NULL;
		} else
			plan_params(plan, t, params, v);
	}
	if (t->playbook == NULL && !t->refused) {
		cands = plan_candidates_text(t->candidates);
		if (unknown != NULL)
			q = xasprintf("Step %d (%s): no playbook for '%s'.%s%s"
			    "%s%s%s", t->step, t->text, unknown, *cands !=
			    '\0' ? " Closest, none a match: " : "", cands,
			    strcmp(t->action, "deploy") == 0 ? " Generate "
			    "one? chiffon generate " : "",
			    strcmp(t->action, "deploy") == 0 ? unknown : "",
			    strcmp(t->action, "deploy") == 0 ? " (see "
			    "TEMPLATES in chiffon(1))" : "");
		else
			q = xasprintf("Step %d (%s): no playbook matches %s%s%s "
			    "well enough.%s%s Name one, or rephrase.",
			    t->step, t->text, t->action, t->service != NULL ?
			    " " : "", t->service != NULL ? t->service : "",
			    *cands != '\0' ? " Candidates: " : "", cands);
		plan_add_unique(plan->questions, q);
		free(q);
		free(cands);
	}
	json_object_put(res);
	return 0;
}

/* A word of a command line, quoted for a POSIX shell when it must be. */
static void
plan_shell_word(struct strbuf *sb, const char *w)
{
	const char	*p;

	for (p = w; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("-_./=:,@%+", *p) ==
		    NULL)
			break;
	}
	if (*p == '\0' && *w != '\0') {
		strbuf_adds(sb, w);
		return;
	}
	strbuf_addc(sb, '\'');
	for (p = w; *p != '\0'; p++) {
		if (*p == '\'')
			strbuf_adds(sb, "'\\''");
		else
			strbuf_addc(sb, *p);
	}
	strbuf_addc(sb, '\'');
}

char *
plan_command(const struct plan_task *t, const char *inventory)
{
	struct strbuf	 sb = { 0 };
	char		*list, *kv;

	if (t->playbook == NULL)
		return NULL;
	strbuf_adds(&sb, "ansible-playbook ");
	plan_shell_word(&sb, t->playbook);
	if (inventory != NULL) {
		strbuf_adds(&sb, " -i ");
		plan_shell_word(&sb, inventory);
	}
	if (t->limit != NULL) {
		strbuf_adds(&sb, " --limit ");
		plan_shell_word(&sb, t->limit);
	}
	if (t->tags != NULL && json_object_array_length(t->tags) > 0) {
		list = plan_join(t->tags, ",");
		strbuf_adds(&sb, " --tags ");
		plan_shell_word(&sb, list);
		free(list);
	}
	if (t->skip_tags != NULL && json_object_array_length(t->skip_tags) >
	    0) {
		list = plan_join(t->skip_tags, ",");
		strbuf_adds(&sb, " --skip-tags ");
		plan_shell_word(&sb, list);
		free(list);
	}
	if (t->extra_vars != NULL) {
		json_object_object_foreach(t->extra_vars, key, val) {
			if (val != NULL && (json_object_is_type(val,
			    json_type_boolean) || json_object_is_type(val,
			    json_type_int) || (json_object_is_type(val,
			    json_type_string) && strpbrk(json_object_get_string(
			    val), " \t\"'{}[]") == NULL &&
			    *json_object_get_string(val) != '\0')))
				kv = xasprintf("%s=%s", key,
				    json_object_get_string(val));
			else {
				json_object *one = json_object_new_object();

				json_object_object_add(one, key,
				    json_object_get(val));
				kv = xstrdup(json_object_to_json_string_ext(one,
				    JSON_C_TO_STRING_PLAIN));
				json_object_put(one);
			}
			strbuf_adds(&sb, " -e ");
			plan_shell_word(&sb, kv);
			free(kv);
		}
	}
	if (t->check)
		strbuf_adds(&sb, " --check --diff");
	return strbuf_detach(&sb);
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
	json_object_put(t->hosts);
	json_object_put(t->tags);
	json_object_put(t->skip_tags);
	free(t->command);
	json_object_put(t->extra_vars);
	free(t->depends);
	free(t->capability);
	free(t->gen_layout);
	free(t->gen_role);
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
	t->skip_tags = json_object_new_array();
	t->extra_vars = json_object_new_object();
	if (json_object_object_get_ex(intent, "params", &params) &&
	    json_object_is_type(params, json_type_object) &&
	    (s = plan_jstr(params, "detail")) != NULL)
		t->note = xstrdup(s);
	t->capability = xstrdup(CHIFFON_CAP_ANSIBLE);
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
	const char *const	*producers;
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
		if (plan_action_find(t->action)->after_deploy)
			producers = plan_deploy_actions;
		else if (str_in_list(t->action, plan_deploy_actions))
			producers = plan_generate_actions;
		else
			continue;
		if (t->service == NULL)
			continue;
		/* The nearest earlier deploy (generate) of the service. */
		for (j = i; j-- > 0;) {
			struct plan_task *d = &plan->tasks[j];

			if (d->service != NULL &&
			    strcmp(d->service, t->service) == 0 &&
			    str_in_list(d->action, producers)) {
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

/* Actions, and words of a step's text, that destroy or reset things. */
static const char *const plan_destructive_actions[] = { "remove",
    "restore", NULL };
static const char *const plan_destructive_words[] = { "remove", "nuke",
    "reset", "reboot", "wipe", "destroy", "purge", "uninstall", "delete",
    NULL };

/* Non-zero when text has one of plan_destructive_words as a word. */
static int
plan_destructive_text(const char *text)
{
	char	 word[32];
	size_t	 n;

	if (text == NULL)
		return 0;
	while (*text != '\0') {
		for (n = 0; isalpha((unsigned char)*text); text++)
			if (n < sizeof word - 1)
				word[n++] = (char)tolower((unsigned char)*text);
		word[n] = '\0';
		if (n > 0 && str_in_list(word, plan_destructive_words))
			return 1;
		if (*text != '\0')
			text++;
	}
	return 0;
}

/* Non-zero when step t needs a typed confirmation. */
static int
plan_step_destructive(const struct plan_task *t)
{
	return t->risk >= PLAN_RISK_HIGH || (t->action != NULL &&
	    str_in_list(t->action, plan_destructive_actions)) ||
	    plan_destructive_text(t->text);
}

size_t
plan_confirm_needed(const struct plan *plan)
{
	size_t	i;

	for (i = 0; i < plan->ntasks; i++)
		if (plan_step_destructive(&plan->tasks[i]))
			return i + 1;
	return 0;
}

int
plan_confirm_ok(const struct plan *plan, const char *typed)
{
	size_t	i, len;

	while (isspace((unsigned char)*typed))
		typed++;
	len = strlen(typed);
	while (len > 0 && isspace((unsigned char)typed[len - 1]))
		len--;
	if (len == 3 && strncasecmp(typed, "yes", 3) == 0)
		return 1;
	for (i = 0; i < plan->ntasks; i++) {
		const char *svc = plan->tasks[i].service;

		if (svc != NULL && strlen(svc) == len &&
		    strncmp(svc, typed, len) == 0 &&
		    plan_step_destructive(&plan->tasks[i]))
			return 1;
	}
	return 0;
}

char *
plan_confirm_question(const struct plan *plan)
{
	size_t		 i = plan_confirm_needed(plan);
	const char	*svc;

	if (i == 0)
		return NULL;
	svc = plan->tasks[i - 1].service;
	if (svc != NULL)
		return xasprintf("step %d (%s %s) is %s risk: type yes or %s "
		    "to approve", plan->tasks[i - 1].step,
		    plan->tasks[i - 1].action, svc,
		    plan_risk_name(plan->tasks[i - 1].risk), svc);
	return xasprintf("step %d (%s) is %s risk: type yes to approve",
	    plan->tasks[i - 1].step, plan->tasks[i - 1].action,
	    plan_risk_name(plan->tasks[i - 1].risk));
}

/* Whether the playbook text has a play with vars_prompt. */
static int
plan_text_prompts(const char *text)
{
	const char	*p = text;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '-')
			p++;
		if (strncmp(p, "vars_prompt", 11) == 0) {
			p += 11;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ':')
				return 1;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/*
 * The settings of repo/ansible.cfg that make every run ask for a
 * password, as "become password, vault password", or NULL.  Caller
 * frees.
 */
static char *
plan_cfg_prompts(const char *repo)
{
	static const struct {
		const char	*key;
		const char	*what;
	} asks[] = {
		{ "become_ask_pass", "become password" },
		{ "ask_vault_pass", "vault password" },
	};
	struct strbuf	 sb = { 0 };
	char		*path = path_join(repo, "ansible.cfg"), *text, *p, *v;
	size_t		 i, n;

	text = read_file(path, NULL);
	free(path);
	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n') != NULL ?
	    strchr(p, '\n') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (i = 0; i < nitems(asks); i++) {
			n = strlen(asks[i].key);
			if (strncmp(p, asks[i].key, n) != 0)
				continue;
			v = p + n;
			while (*v == ' ' || *v == '\t' || *v == '=')
				v++;
			if (strncasecmp(v, "true", 4) == 0 ||
			    strncasecmp(v, "yes", 3) == 0 || *v == '1')
				strbuf_addf(&sb, "%s%s", sb.len > 0 ? ", " : "",
				    asks[i].what);
		}
	}
	free(text);
	return sb.len > 0 ? strbuf_detach(&sb) : NULL;
}

char *
plan_prompts(const struct plan *plan, const char *repo)
{
	struct strbuf	 sb = { 0 };
	char		*path, *text, *cfg;
	size_t		 i;

	/* ansible.cfg asking for a password: every step asks. */
	if (repo != NULL && plan->ntasks > 0 &&
	    (cfg = plan_cfg_prompts(repo)) != NULL) {
		strbuf_addf(&sb, "every step (ansible.cfg: %s)", cfg);
		free(cfg);
		return strbuf_detach(&sb);
	}
	for (i = 0; repo != NULL && i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];

		if (t->playbook == NULL)
			continue;
		path = path_join(repo, t->playbook);
		text = read_file(path, NULL);
		free(path);
		if (text != NULL && plan_text_prompts(text))
			strbuf_addf(&sb, "%sstep %d (%s)", sb.len > 0 ? ", " :
			    "", t->step, t->playbook);
		free(text);
	}
	return sb.len > 0 ? strbuf_detach(&sb) : NULL;
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
		if (plan_match_task(plan, &plan->tasks[i], o, v, match,
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
		if (pb != NULL && pb->needs != NULL)
			plan_needs(plan, t, pb);
		if (pb != NULL && pb->gpu &&
		    !json_object_object_get_ex(t->resources, "gpu", NULL))
			json_object_object_add(t->resources, "gpu",
			    json_object_new_boolean(1));
		checkable = t->playbook != NULL && (pb == NULL ||
		    !pb->no_check);
		t->risk = plan_risk(t->action, t->risk, checkable,
		    &t->risk_why);
		free(t->command);
		t->command = plan_command(t, v != NULL ? v->inventory : NULL);
		/* The real hosts: the play's pattern and the limit. */
		if (t->playbook != NULL)
			t->hosts = targets_hosts(v, pb != NULL ? pb->hosts :
			    NULL, t->limit, NULL);
	}
	if (v != NULL && plan_jstr(v->catalog, "inventory_note") != NULL)
		plan_add_unique(plan->notes, plan_jstr(v->catalog,
		    "inventory_note"));
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
