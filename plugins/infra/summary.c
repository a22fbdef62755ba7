/*
 * summary.c - build a run's summary from chiffon_events lines.
 *
 * The summary JSON (stored on runs.summary):
 *   status, exit_code, duration_s
 *   hosts         {HOST: {ok, changed, failed, unreachable, skipped,
 *                 rescued, ignored}} from playbook_on_stats; when the run
 *                 ended before the recap (canceled, killed) the counts are
 *                 tallied from the runner events instead and
 *                 stats_source says "events" (rescued is then unknown: 0)
 *   stats_source  "playbook_on_stats" or "events"
 *   failed_tasks  [{host, task, action, message, unreachable}] for every
 *                 failure not ignored (ignore_errors) and every
 *                 unreachable host
 *   changed_tasks [{host, task, action, task_path}] (idempotency input)
 *   files         paths from res.dest / res.path of changed results
 *   services      names of services (service, systemd...), "compose:P"
 *                 for compose projects and "container:N" for containers
 *                 that changed
 *   no_hosts_matched, events
 * Lists are bounded (SUMMARY_LIST_MAX entries) and messages are cut at
 * SUMMARY_MSG_MAX bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json-get.h"
#include "summary.h"
#include "util.h"

#define SUMMARY_LIST_MAX	1000
#define SUMMARY_MSG_MAX		2000

/* The keys of a host's counts, in recap order. */
static const char *const summary_count_keys[] = {
	"ok", "changed", "failed", "unreachable", "skipped", "rescued",
	"ignored",
};

/* Module names (without collection prefix) that manage a service. */
static const char *const summary_service_modules[] = {
	"service", "systemd", "systemd_service", "sysvinit", "openrc",
	"runit", "svc",
};

/* A run being summarised. */
struct summary {
	size_t		 nevents;
	size_t		 nbad;
	int		 stats_seen;
	int		 no_hosts_matched;
	json_object	*stats;		/* hosts from playbook_on_stats */
	json_object	*counted;	/* hosts tallied from runner events */
	json_object	*failed_tasks;
	json_object	*changed_tasks;
	json_object	*files;
	json_object	*files_seen;	/* set of files */
	json_object	*services;
	json_object	*services_seen;	/* set of services */
	char		*first_failure;
};

struct summary *
summary_new(void)
{
	struct summary	*s = xcalloc(1, sizeof *s);

	s->stats = json_object_new_object();
	s->counted = json_object_new_object();
	s->failed_tasks = json_object_new_array();
	s->changed_tasks = json_object_new_array();
	s->files = json_object_new_array();
	s->files_seen = json_object_new_object();
	s->services = json_object_new_array();
	s->services_seen = json_object_new_object();
	return s;
}

void
summary_free(struct summary *s)
{
	if (s == NULL)
		return;
	json_object_put(s->stats);
	json_object_put(s->counted);
	json_object_put(s->failed_tasks);
	json_object_put(s->changed_tasks);
	json_object_put(s->files);
	json_object_put(s->files_seen);
	json_object_put(s->services);
	json_object_put(s->services_seen);
	free(s->first_failure);
	free(s);
}

static int
summary_bool(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_boolean(v);
}

/* Strip "ansible.builtin." and similar collection prefixes. */
static const char *
summary_short_action(const char *action)
{
	const char	*dot;

	if (action == NULL)
		return "";
	dot = strrchr(action, '.');
	return dot != NULL ? dot + 1 : action;
}

/* The per-host counts object for host in hosts, created at zero. */
static json_object *
summary_host_counts(json_object *hosts, const char *host)
{
	json_object	*h;
	size_t		 i;

	if (json_object_object_get_ex(hosts, host, &h))
		return h;
	h = json_object_new_object();
	for (i = 0; i < nitems(summary_count_keys); i++)
		json_object_object_add(h, summary_count_keys[i],
		    json_object_new_int(0));
	json_object_object_add(hosts, host, h);
	return h;
}

static void
summary_count(struct summary *s, const char *host, const char *key)
{
	json_object	*h, *v;

	if (host == NULL)
		return;
	h = summary_host_counts(s->counted, host);
	if (json_object_object_get_ex(h, key, &v))
		json_object_set_int(v, json_object_get_int(v) + 1);
}

/* Add text to a bounded set-like list. */
static void
summary_add_unique(json_object *list, json_object *seen, const char *text)
{
	if (text == NULL || *text == '\0' ||
	    json_object_object_get_ex(seen, text, NULL) ||
	    json_object_array_length(list) >= SUMMARY_LIST_MAX)
		return;
	json_object_object_add(seen, text, NULL);
	json_object_array_add(list, json_object_new_string(text));
}

/* The message of a failed result: msg, stderr, module_stderr, reason. */
static char *
summary_message(json_object *res)
{
	static const char *const keys[] = {
		"msg", "stderr", "module_stderr", "reason", "censored",
	};
	json_object	*v;
	const char	*text = NULL;
	size_t		 i, len;

	for (i = 0; i < nitems(keys) && text == NULL; i++) {
		if (res == NULL || !json_object_object_get_ex(res, keys[i], &v))
			continue;
		if (json_object_is_type(v, json_type_string)) {
			text = json_object_get_string(v);
			if (*text == '\0')
				text = NULL;
		} else if (v != NULL)
			text = json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN);
	}
	if (text == NULL)
		return xstrdup("(no message)");
	len = strlen(text);
	if (len > SUMMARY_MSG_MAX) {
		char *cut = xstrndup(text, SUMMARY_MSG_MAX);
		char *out = xasprintf("%s...", cut);
		free(cut);
		return out;
	}
	return xstrdup(text);
}

static json_object *
summary_task_entry(json_object *ev, const char *host)
{
	json_object	*t = json_object_new_object();
	const char	*task = json_get_str(ev, "task");
	const char	*action = json_get_str(ev, "task_action");
	const char	*path = json_get_str(ev, "task_path");

	json_object_object_add(t, "host",
	    host != NULL ? json_object_new_string(host) : NULL);
	json_object_object_add(t, "task",
	    json_object_new_string(task != NULL ? task : ""));
	json_object_object_add(t, "action",
	    json_object_new_string(action != NULL ? action : ""));
	if (path != NULL)
		json_object_object_add(t, "task_path",
		    json_object_new_string(path));
	return t;
}

static void
summary_failure(struct summary *s, json_object *ev, json_object *res,
    const char *host, int unreachable)
{
	json_object	*t;
	char		*msg;

	if (json_object_array_length(s->failed_tasks) >= SUMMARY_LIST_MAX)
		return;
	msg = summary_message(res);
	t = summary_task_entry(ev, host);
	json_object_object_add(t, "message", json_object_new_string(msg));
	json_object_object_add(t, "unreachable",
	    json_object_new_boolean(unreachable));
	json_object_array_add(s->failed_tasks, t);
	if (s->first_failure == NULL) {
		const char *task = json_get_str(ev, "task");
		s->first_failure = xasprintf("%s%s%s", task != NULL ? task : "",
		    task != NULL ? ": " : "", msg);
	}
	free(msg);
}

/* Files and services touched by a changed result. */
static void
summary_touched(struct summary *s, json_object *ev, json_object *res)
{
	const char	*action = summary_short_action(json_get_str(ev,
			    "task_action"));
	const char	*name;
	json_object	*inv, *args;
	size_t		 i;
	char		*text;

	summary_add_unique(s->files, s->files_seen, json_get_str(res, "dest"));
	summary_add_unique(s->files, s->files_seen, json_get_str(res, "path"));

	for (i = 0; i < nitems(summary_service_modules); i++) {
		if (strcmp(action, summary_service_modules[i]) == 0) {
			summary_add_unique(s->services, s->services_seen,
			    json_get_str(res, "name"));
			return;
		}
	}
	args = NULL;
	if (json_object_object_get_ex(res, "invocation", &inv))
		json_object_object_get_ex(inv, "module_args", &args);
	if (strncmp(action, "docker_compose", 14) == 0) {
		name = json_get_str(args, "project_name");
		if (name == NULL && (name = json_get_str(args,
		    "project_src")) != NULL && strrchr(name, '/') != NULL)
			name = strrchr(name, '/') + 1;
		if (name == NULL)
			name = json_get_str(res, "project_name");
		if (name != NULL) {
			text = xasprintf("compose:%s", name);
			summary_add_unique(s->services, s->services_seen, text);
			free(text);
		}
	} else if (strcmp(action, "docker_container") == 0 ||
	    strcmp(action, "podman_container") == 0) {
		name = json_get_str(args, "name");
		if (name != NULL) {
			text = xasprintf("container:%s", name);
			summary_add_unique(s->services, s->services_seen, text);
			free(text);
		}
	}
}

static void
summary_stats(struct summary *s, json_object *ev)
{
	json_object	*hosts, *c, *h, *v;
	size_t		 i;

	if (!json_object_object_get_ex(ev, "stats", &hosts) ||
	    !json_object_is_type(hosts, json_type_object))
		return;
	s->stats_seen = 1;
	json_object_object_foreach(hosts, host, counts) {
		c = summary_host_counts(s->stats, host);
		for (i = 0; i < nitems(summary_count_keys); i++) {
			const char *key = summary_count_keys[i];
			/* Ansible calls failed "failures". */
			if (strcmp(key, "failed") == 0)
				key = "failures";
			if (!json_object_object_get_ex(counts, key, &v))
				continue;
			if (json_object_object_get_ex(c, summary_count_keys[i],
			    &h))
				json_object_set_int(h, json_object_get_int(v));
		}
	}
}

int
summary_event(struct summary *s, const char *line, size_t len)
{
	struct json_tokener	*tok;
	json_object		*ev, *res = NULL;
	const char		*event, *host;
	int			 changed, ignored;

	s->nevents++;
	tok = json_tokener_new_ex(64);
	ev = json_tokener_parse_ex(tok, line, (int)len);
	json_tokener_free(tok);
	if (ev == NULL || !json_object_is_type(ev, json_type_object) ||
	    (event = json_get_str(ev, "event")) == NULL) {
		json_object_put(ev);
		s->nbad++;
		return -1;
	}
	host = json_get_str(ev, "host");
	json_object_object_get_ex(ev, "res", &res);
	changed = summary_bool(ev, "changed");

	if (strcmp(event, "runner_on_ok") == 0) {
		summary_count(s, host, "ok");
		if (changed) {
			summary_count(s, host, "changed");
			if (json_object_array_length(s->changed_tasks) <
			    SUMMARY_LIST_MAX)
				json_object_array_add(s->changed_tasks,
				    summary_task_entry(ev, host));
			summary_touched(s, ev, res);
		}
	} else if (strcmp(event, "runner_item_on_ok") == 0) {
		if (changed)
			summary_touched(s, ev, res);
	} else if (strcmp(event, "runner_on_failed") == 0) {
		ignored = summary_bool(ev, "ignore_errors");
		if (ignored) {
			summary_count(s, host, "ok");
			summary_count(s, host, "ignored");
			if (changed)
				summary_count(s, host, "changed");
		} else {
			summary_count(s, host, "failed");
			summary_failure(s, ev, res, host, 0);
		}
	} else if (strcmp(event, "runner_on_skipped") == 0) {
		summary_count(s, host, "skipped");
	} else if (strcmp(event, "runner_on_unreachable") == 0) {
		summary_count(s, host, "unreachable");
		summary_failure(s, ev, res, host, 1);
	} else if (strcmp(event, "playbook_on_no_hosts_matched") == 0) {
		s->no_hosts_matched = 1;
	} else if (strcmp(event, "playbook_on_stats") == 0) {
		summary_stats(s, ev);
	}
	json_object_put(ev);
	return 0;
}

size_t
summary_nevents(const struct summary *s)
{
	return s->nevents;
}

int
summary_has_stats(const struct summary *s)
{
	return s->stats_seen;
}

const char *
summary_first_failure(const struct summary *s)
{
	return s->first_failure;
}

char *
summary_json(const struct summary *s, const char *status, int exit_code,
    double duration_s)
{
	json_object	*o = json_object_new_object();
	char		*text;

	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "exit_code", json_object_new_int(exit_code));
	json_object_object_add(o, "duration_s",
	    json_object_new_double(duration_s));
	json_object_object_add(o, "hosts", json_object_get(s->stats_seen ?
	    s->stats : s->counted));
	json_object_object_add(o, "stats_source", json_object_new_string(
	    s->stats_seen ? "playbook_on_stats" : "events"));
	json_object_object_add(o, "failed_tasks",
	    json_object_get(s->failed_tasks));
	json_object_object_add(o, "changed_tasks",
	    json_object_get(s->changed_tasks));
	json_object_object_add(o, "files", json_object_get(s->files));
	json_object_object_add(o, "services", json_object_get(s->services));
	json_object_object_add(o, "no_hosts_matched",
	    json_object_new_boolean(s->no_hosts_matched));
	json_object_object_add(o, "events",
	    json_object_new_int64((int64_t)s->nevents));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

char *
summary_not_idempotent(const char *earlier_json, const char *later_json)
{
	json_object	*a, *b, *changed, *out;
	const char	*status;
	char		*text = NULL;

	a = json_tokener_parse(earlier_json);
	b = json_tokener_parse(later_json);
	if (a == NULL || b == NULL ||
	    !json_object_object_get_ex(b, "changed_tasks", &changed) ||
	    !json_object_is_type(changed, json_type_array))
		goto out;
	out = json_object_new_array();
	status = json_get_str(a, "status");
	/* Only a successful earlier run says what "converged" means. */
	if (status != NULL && strcmp(status, "successful") == 0)
		json_object_put(out), out = json_object_get(changed);
	text = xstrdup(json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
out:
	json_object_put(a);
	json_object_put(b);
	return text;
}
