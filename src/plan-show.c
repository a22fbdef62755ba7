/*
 * plan-show.c - plans for people and for JSON (see plan.h): durations,
 * summaries, the text `chiffon plan` prints, and the detail stored with
 * a plan.
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
#include "plan.h"
#include "targets.h"
#include "util.h"
#include "vocab.h"

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
plan_targets(const struct plan_task *t, const struct vocab *v)
{
	const struct vocab_playbook	*vp = NULL;
	char				*s = NULL;

	if (v != NULL && t->playbook != NULL)
		vp = vocab_playbook(v, t->playbook);
	if (v != NULL)
		s = targets_show(v, vp != NULL ? vp->hosts : NULL, t->limit);
	if (s == NULL && t->hosts != NULL)
		s = targets_text(t->hosts);
	/* A limit outside the play's hosts: say which. */
	if (s != NULL && t->limit != NULL && strcmp(s, "no host") == 0) {
		free(s);
		s = xasprintf("no host (limit %s)", t->limit);
	}
	if (s != NULL)
		return s;
	return xstrdup(t->limit != NULL ? t->limit : vp != NULL &&
	    vp->hosts != NULL ? vp->hosts : "all");
}

char *
plan_format(const struct plan *plan)
{
	struct strbuf	 sb = { 0 };
	size_t		 i, j, nq;
	char		*d, *safe, *targets;

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
		targets = plan_targets(t, NULL);
		strbuf_addf(&sb, "  targets: %s  risk: %s  est. %s", targets,
		    plan_risk_name(t->risk), d);
		free(targets);
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
			strbuf_addf(&sb, "    %s: %s\n",
			    t->capability != NULL && strcmp(t->capability,
			    CHIFFON_CAP_TEMPLATE_GENERATE) == 0 ? "files" :
			    "asked", t->note);
		if (t->extra_vars != NULL &&
		    json_object_object_length(t->extra_vars) > 0)
			strbuf_addf(&sb, "    vars: %s\n",
			    json_object_to_json_string_ext(t->extra_vars,
			    JSON_C_TO_STRING_PLAIN));
		if (t->tags != NULL && json_object_array_length(t->tags) > 0)
			strbuf_addf(&sb, "    tags: %s\n",
			    json_object_to_json_string_ext(t->tags,
			    JSON_C_TO_STRING_PLAIN));
		if (t->skip_tags != NULL &&
		    json_object_array_length(t->skip_tags) > 0)
			strbuf_addf(&sb, "    skip tags: %s\n",
			    json_object_to_json_string_ext(t->skip_tags,
			    JSON_C_TO_STRING_PLAIN));
		if (t->command != NULL)
			strbuf_addf(&sb, "    command: %s\n", t->command);
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

json_object *
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
	/* Stored as tasks.targets: the limit, "all" for none. */
	json_object_object_add(o, "targets",
	    json_object_new_string(t->limit != NULL ? t->limit : "all"));
	json_object_object_add(o, "hosts", t->hosts != NULL ?
	    json_object_get(t->hosts) : NULL);
	json_object_object_add(o, "limit", plan_jstr_new(t->limit));
	json_object_object_add(o, "tags", t->tags != NULL ?
	    json_object_get(t->tags) : json_object_new_array());
	json_object_object_add(o, "skip_tags", t->skip_tags != NULL ?
	    json_object_get(t->skip_tags) : json_object_new_array());
	json_object_object_add(o, "command", plan_jstr_new(t->command));
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

