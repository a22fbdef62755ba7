/*
 * tui-plan.c - the plan/review pane.
 *
 * For now the pane shows what the catalog matches for a submitted request:
 * the request is handed to the "ansible.match" capability (the infra
 * plugin) through host_invoke, and its answer - the playbook with its
 * confidence, or the candidates when nothing matched well enough - is
 * shown as text.  Without a plugin providing the capability the pane says
 * so; it never makes a plan up.  The orchestrator turns this pane into the
 * approval view later.
 *
 * An answer may come after the user submitted another request or quit:
 * each invocation is a job that knows its request's generation, and jobs
 * still pending when the shell ends are detached from it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "host.h"
#include "plugins.h"
#include "tui.h"
#include "util.h"

#define TUI_PLAN_CAPABILITY	"ansible.match"

/* One ansible.match invocation in flight. */
struct tui_plan_job {
	struct tui		*t;	/* NULL once the shell ended */
	unsigned		 gen;	/* the request it answers */
	char			*text;	/* that request */
	LIST_ENTRY(tui_plan_job) entry;
};

/* A member of obj as a string, or NULL. */
static const char *
tui_plan_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return NULL;
	if (json_object_get_type(v) == json_type_null)
		return NULL;
	return json_object_get_string(v);
}

/* One playbook of an answer: "kuma-deploy.yml  (kuma, 0.93, exact)". */
static void
tui_plan_add_playbook(struct tui *t, const char *lead, struct json_object *m)
{
	struct json_object	*v;
	struct strbuf		 sb = { 0 };
	const char		*path, *service, *method, *desc;

	path = tui_plan_str(m, "path");
	if (path == NULL)
		path = tui_plan_str(m, "playbook");
	service = tui_plan_str(m, "service");
	method = tui_plan_str(m, "method");
	desc = tui_plan_str(m, "description");
	strbuf_addf(&sb, "%s%s", lead, path != NULL ? path : "(no path)");
	if (service != NULL)
		strbuf_addf(&sb, "  service %s", service);
	if (json_object_object_get_ex(m, "confidence", &v))
		strbuf_addf(&sb, "  confidence %.2f", json_object_get_double(v));
	if (method != NULL)
		strbuf_addf(&sb, "  (%s)", method);
	tui_log_add(&t->plan, -1, sb.buf);
	if (desc != NULL && *desc != '\0') {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "      %s", desc);
		tui_log_add(&t->plan, -1, sb.buf);
	}
	strbuf_free(&sb);
}

/* Show an ansible.match answer. */
static void
tui_plan_show(struct tui *t, const char *status, const char *result)
{
	struct json_object	*obj, *m, *cands, *c;
	const char		*err, *action, *matched = NULL, *path;
	char			*line;
	size_t			 i, n, shown;

	obj = result != NULL ? json_tokener_parse(result) : NULL;
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	err = obj != NULL ? tui_plan_str(obj, "error") : NULL;
	if (strcmp(status, "successful") != 0 || err != NULL) {
		line = xasprintf("Matching failed (%s):", status);
		tui_log_add(&t->plan, CHIFFON_LOG_ERROR, line);
		free(line);
		tui_log_add(&t->plan, -1, err != NULL ? err :
		    result != NULL ? result : "(no answer)");
		json_object_put(obj);
		return;
	}
	if (obj == NULL) {
		tui_log_add(&t->plan, CHIFFON_LOG_ERROR,
		    "The matcher's answer is not a JSON object:");
		tui_log_add(&t->plan, -1, result != NULL ? result : "(none)");
		return;
	}
	action = tui_plan_str(obj, "action");
	if (action != NULL) {
		line = xasprintf("Action: %s", action);
		tui_log_add(&t->plan, -1, line);
		free(line);
	}
	if (json_object_object_get_ex(obj, "match", &m) &&
	    json_object_is_type(m, json_type_object)) {
		tui_log_add(&t->plan, -1, "Matching playbook:");
		tui_plan_add_playbook(t, "  ", m);
		matched = tui_plan_str(m, "path");
	} else
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING,
		    "No playbook matches this request well enough.");
	if (json_object_object_get_ex(obj, "candidates", &cands) &&
	    json_object_is_type(cands, json_type_array)) {
		n = json_object_array_length(cands);
		for (i = 0, shown = 0; i < n; i++) {
			c = json_object_array_get_idx(cands, i);
			path = tui_plan_str(c, "path");
			if (matched != NULL && path != NULL &&
			    strcmp(path, matched) == 0)
				continue;
			if (shown++ == 0)
				tui_log_add(&t->plan, -1, matched != NULL ?
				    "Other candidates:" : "Candidates:");
			tui_plan_add_playbook(t, "  - ", c);
		}
	}
	tui_log_add(&t->plan, -1, "");
	tui_log_add(&t->plan, -1, "(Nothing runs from this screen yet: "
	    "planning and approval come with the orchestrator.)");
	json_object_put(obj);
}

/* Start the pane over with the request. */
static void
tui_plan_head(struct tui *t, const char *text)
{
	char	*head = xasprintf("Request: %s", text);

	tui_log_clear(&t->plan);
	tui_log_add(&t->plan, -1, head);
	tui_log_add(&t->plan, -1, "");
	free(head);
}

/* host_invoke's completion. */
static void
tui_plan_done(const char *status, const char *result, void *data)
{
	struct tui_plan_job	*job = data;
	struct tui		*t = job->t;

	if (t != NULL)
		LIST_REMOVE(job, entry);
	if (t != NULL && job->gen == t->plan_gen) {
		tui_plan_head(t, job->text);
		tui_plan_show(t, status, result);
		tui_layout_draw_panes(t);
	}
	free(job->text);
	free(job);
}

void
tui_plan_request(struct tui *t, const char *text)
{
	struct json_object	*params;
	struct tui_plan_job	*job;
	char			*err = NULL;
	int			 rc;

	t->plan_gen++;
	tui_plan_head(t, text);
	if (t->app->plugins == NULL || plugins_capability(t->app->plugins,
	    TUI_PLAN_CAPABILITY) == NULL) {
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING, "No planner yet: "
		    "no loaded plugin provides the '" TUI_PLAN_CAPABILITY
		    "' capability, so nothing can be matched or run.");
		tui_log_add(&t->plan, -1, "Load the infra plugin "
		    "(chiffon plugins lists what loaded and why not).");
		return;
	}

	job = xcalloc(1, sizeof *job);
	job->t = t;
	job->gen = t->plan_gen;
	job->text = xstrdup(text);
	LIST_INSERT_HEAD(&t->plan_jobs, job, entry);
	tui_log_add(&t->plan, -1, "Matching...");
	params = json_object_new_object();
	json_object_object_add(params, "text", json_object_new_string(text));
	rc = host_invoke(t->app, TUI_PLAN_CAPABILITY,
	    json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
	    tui_plan_done, job, &err);
	json_object_put(params);
	if (rc != 0) {
		/* done will not be called. */
		LIST_REMOVE(job, entry);
		free(job->text);
		free(job);
		tui_plan_head(t, text);
		tui_log_add(&t->plan, CHIFFON_LOG_ERROR, "Matching failed:");
		tui_log_add(&t->plan, -1, err);
		free(err);
	}
}

void
tui_plan_end(struct tui *t)
{
	struct tui_plan_job	*job;

	while ((job = LIST_FIRST(&t->plan_jobs)) != NULL) {
		LIST_REMOVE(job, entry);
		job->t = NULL;
	}
}
