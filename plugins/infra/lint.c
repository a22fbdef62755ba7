/*
 * lint.c - improvement suggestions for playbooks: ansible-lint findings
 * and chiffon's own idempotency check, stored in playbook_suggestions.
 *
 * ansible-lint runs as `ansible-lint -f json -q --offline --nocolor
 * PLAYBOOK` in the repo (so the repo's .ansible-lint applies) through
 * host->spawn; its JSON (a codeclimate-style list of issues with
 * check_name, severity, description, location.path, location.lines.begin)
 * is mapped rule by rule to one of five categories with a one-line reason
 * (lint_rules).  More than LINT_KEEP_ABOVE findings keep the LINT_KEEP
 * most severe.  The "ansible.lint" capability runs it on demand; run.c
 * runs it after a failed run (and after a successful one with
 * plugin.infra.lint_on_success).
 *
 * A finding is stored once (schema 011): rows are keyed by the playbook,
 * the SHA-256 of its content, the rule and the location, and inserted
 * with ON CONFLICT DO NOTHING.  playbook_lint caches the result per
 * content hash: lint_start answers from the stored rows, without running
 * ansible-lint, when the playbook's hash was linted before.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "infra.h"
#include "json-get.h"
#include "run.h"
#include "sha256.h"
#include "util.h"

/* ansible-lint is killed after this long (milliseconds). */
#define LINT_TIMEOUT_MS	(300 * 1000)
/* Reasons are cut at this many bytes. */
#define LINT_REASON_MAX	400

/*
 * Rule id (or its prefix before '[') to category, reason and fix.  Looked up
 * exact first, then by prefix; unknown rules are best_practices.
 */
static const struct lint_rule {
	const char	*rule;
	const char	*category;
	const char	*reason;
	const char	*fix;		/* what to do about it */
} lint_rules[] = {
	{ "no-changed-when", "idempotency",
	  "a command without changed_when reports changed on every run",
	  "add changed_when (or creates/removes) saying when the command "
	  "changes something" },
	{ "command-instead-of-module", "idempotency",
	  "a module knows the current state; a command always runs",
	  "use the module that manages this (ansible.builtin.git, apt, "
	  "service...)" },
	{ "package-latest", "idempotency",
	  "state=latest changes the system whenever a new version appears",
	  "pin a version or use state: present" },
	{ "latest", "idempotency",
	  "checking out the latest revision is not repeatable",
	  "pin version: to a tag or commit" },
	{ "git-latest", "idempotency",
	  "checking out the latest revision is not repeatable",
	  "pin version: to a tag or commit" },
	{ "hg-latest", "idempotency",
	  "checking out the latest revision is not repeatable",
	  "pin revision: to a tag or changeset" },
	{ "no-handler", "idempotency",
	  "work that depends on a change belongs in a handler",
	  "move the task into a handler and notify it" },
	{ "ignore-errors", "error_handling",
	  "ignore_errors hides failures; use failed_when or rescue",
	  "replace ignore_errors with failed_when or a block with rescue" },
	{ "risky-shell-pipe", "error_handling",
	  "without pipefail a failing command in a pipe goes unnoticed",
	  "add set -o pipefail (and executable: /bin/bash)" },
	{ "no-jinja-when", "error_handling",
	  "Jinja braces in when are evaluated twice and can fail oddly",
	  "write when: without {{ }}" },
	{ "literal-compare", "error_handling",
	  "comparing to True/False literally misreads truthy values",
	  "test the value itself (when: x, when: not x)" },
	{ "empty-string-compare", "error_handling",
	  "comparing to an empty string misreads undefined values",
	  "use when: x | length > 0 (or == 0)" },
	{ "command-instead-of-shell", "performance",
	  "shell starts /bin/sh for nothing; command is cheaper and safer",
	  "use ansible.builtin.command unless shell features are needed" },
	{ "run-once", "performance",
	  "run_once with the free strategy runs more than once",
	  "use the linear strategy or delegate_to for run_once tasks" },
	{ "no-relative-paths", "best_practices",
	  "relative paths into files/ or templates/ break when moved",
	  "refer to files and templates by name, without ../" },
	{ "partial-become", "best_practices",
	  "become_user without become does not change the user",
	  "set become: true next to become_user" },
	{ "risky-file-permissions", "best_practices",
	  "files created without an explicit mode get unpredictable modes",
	  "set mode: explicitly, e.g. mode: \"0644\"" },
	{ "risky-octal", "best_practices",
	  "a mode without a leading zero is not the octal you meant",
	  "quote the mode with a leading zero, e.g. mode: \"0644\"" },
	{ "no-log-password", "best_practices",
	  "a task handling passwords should set no_log",
	  "add no_log: true to the task" },
	{ "no-prompting", "best_practices",
	  "prompts block unattended runs",
	  "pass the value as a variable instead of vars_prompt or pause" },
	{ "inline-env-var", "best_practices",
	  "environment variables belong in the environment keyword",
	  "set variables with the environment: keyword" },
	{ "avoid-implicit", "best_practices",
	  "implicit behaviour may change between Ansible versions",
	  "state the behaviour explicitly in the module's arguments" },
	{ "deprecated-module", "best_practices",
	  "a deprecated module will be removed",
	  "replace the module with its successor" },
	{ "deprecated-command-syntax", "best_practices",
	  "the command syntax is deprecated",
	  "use the module the command stands for" },
	{ "deprecated-bare-vars", "best_practices",
	  "bare variables in loops are deprecated",
	  "write loops as \"{{ var }}\"" },
	{ "deprecated-local-action", "best_practices",
	  "local_action is deprecated; use delegate_to: localhost",
	  "use delegate_to: localhost" },
	{ "only-builtins", "best_practices",
	  "modules outside ansible.builtin add dependencies",
	  "use an ansible.builtin module or declare the collection" },
	{ "no-free-form", "best_practices",
	  "free-form module arguments are ambiguous; use a mapping",
	  "write the module's arguments as a mapping" },
	{ "args", "best_practices",
	  "module arguments do not match the module's specification",
	  "fix the arguments to match the module's documentation" },
	{ "loop-var-prefix", "best_practices",
	  "loop variables without a role prefix collide in nested loops",
	  "set loop_control.loop_var with the role's prefix" },
	{ "sanity", "best_practices",
	  "the collection fails ansible-test sanity rules",
	  "fix what ansible-test sanity reports" },
	{ "name", "standards",
	  "plays and tasks need clear, well-formed names for the log",
	  "give every play and task a name starting with a capital letter" },
	{ "fqcn", "standards",
	  "use fully qualified collection names for modules",
	  "use the full module name, e.g. ansible.builtin.copy" },
	{ "yaml", "standards", "the YAML does not follow the house style",
	  "reformat the YAML (yamllint shows the rule)" },
	{ "jinja", "standards", "the Jinja expression is badly spaced",
	  "space Jinja expressions as {{ var }}" },
	{ "key-order", "standards", "keys are in an unexpected order",
	  "put name first, then the module, block keys last" },
	{ "no-tabs", "standards", "tabs in YAML values are error-prone",
	  "replace tabs with spaces or \t" },
	{ "var-naming", "standards", "variable names should be snake_case",
	  "rename the variable in snake_case" },
	{ "role-name", "standards", "role names should be snake_case",
	  "rename the role in snake_case" },
	{ "schema", "standards", "the file does not match Ansible's schema",
	  "fix the keys to match Ansible's schema" },
	{ "meta-incorrect", "standards", "role metadata is incomplete",
	  "fill in meta/main.yml's galaxy_info" },
	{ "meta-no-info", "standards", "role metadata is missing",
	  "add galaxy_info to meta/main.yml" },
	{ "meta-no-tags", "standards", "role metadata tags are malformed",
	  "use lowercase alphanumeric galaxy tags" },
	{ "meta-video-links", "standards", "role video links are malformed",
	  "give video_links url and title" },
	{ "meta-runtime", "standards", "meta/runtime.yml is wrong",
	  "set requires_ansible in meta/runtime.yml" },
	{ "galaxy", "standards", "the collection metadata is incomplete",
	  "complete galaxy.yml (version, changelog)" },
	{ "playbook-extension", "standards",
	  "playbooks should end in .yml or .yaml",
	  "rename the playbook to .yml" },
	{ "syntax-check", "standards", "the playbook does not parse",
	  "fix the error ansible-playbook --syntax-check reports" },
	{ "load-failure", "standards", "the file could not be loaded",
	  "make the file readable and valid YAML" },
	{ "parser-error", "standards", "the file could not be parsed",
	  "fix the YAML syntax" },
	{ "internal-error", "standards", "ansible-lint could not check it",
	  "run ansible-lint by hand to see the error" },
	{ "warning", "standards", "ansible-lint warned about the file",
	  "see the warning ansible-lint printed" },
	{ "chiffon-not-idempotent", "idempotency",
	  "the task reported changed again on a rerun with the same inputs",
	  "make the task report changed only when it changes something "
	  "(changed_when, a module, creates:)" },
};

/* Severities, least to most severe. */
static const char *const lint_severities[] = {
	"info", "minor", "major", "critical", "blocker",
};

/* One ansible-lint process. */
struct lint_job {
	LIST_ENTRY(lint_job)	 entry;		/* lint_state.jobs */
	struct chiffon_task	*task;		/* capability call, or NULL */
	struct chiffon_child	*child;
	char			*playbook;
	char			*sha256;	/* of the playbook, or NULL */
	char			*task_id;
	char			*run_id;
	struct strbuf		 out;		/* stdout + stderr */
	int			 timer;
	lint_done_fn		 done;
	void			*data;
};

/* The plugin-wide state of lint. */
static struct {
	LIST_HEAD(, lint_job) jobs;
} lint_state;

const char *
lint_category(const char *rule, const char **reason, const char **fix)
{
	size_t	 i, len;

	len = strcspn(rule, "[");
	for (i = 0; i < nitems(lint_rules); i++) {
		if (strcmp(rule, lint_rules[i].rule) == 0)
			goto found;
	}
	for (i = 0; i < nitems(lint_rules); i++) {
		if (strlen(lint_rules[i].rule) == len &&
		    strncmp(rule, lint_rules[i].rule, len) == 0)
			goto found;
	}
	if (reason != NULL)
		*reason = "ansible-lint reports a practice to improve";
	if (fix != NULL)
		*fix = "see the rule in ansible-lint's documentation "
		    "(ansible-lint -L)";
	return "best_practices";
found:
	if (reason != NULL)
		*reason = lint_rules[i].reason;
	if (fix != NULL)
		*fix = lint_rules[i].fix;
	return lint_rules[i].category;
}

static int
lint_severity_rank(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(lint_severities); i++) {
		if (strcmp(s, lint_severities[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* "reason: description" on one line, bounded.  Caller frees. */
static char *
lint_reason(const char *reason, const char *description)
{
	char	*text, *p;

	if (description != NULL && *description != '\0')
		text = xasprintf("%s: %s", reason, description);
	else
		text = xstrdup(reason);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	if (strlen(text) > LINT_REASON_MAX)
		strcpy(text + LINT_REASON_MAX - 3, "...");
	return text;
}

void
lint_free(struct lint_finding *f, size_t n)
{
	size_t	i;

	for (i = 0; f != NULL && i < n; i++) {
		free(f[i].rule);
		free(f[i].severity);
		free(f[i].category);
		free(f[i].reason);
		free(f[i].fix);
		free(f[i].file);
	}
	free(f);
}

/*
 * Sort most severe first, keeping ansible-lint's order among equals
 * (insertion sort: stable, and n is at most a few hundred).
 */
static void
lint_sort(struct lint_finding *f, size_t n)
{
	struct lint_finding	 t;
	size_t			 i, j;

	for (i = 1; i < n; i++) {
		t = f[i];
		for (j = i; j > 0 && lint_severity_rank(f[j - 1].severity) <
		    lint_severity_rank(t.severity); j--)
			f[j] = f[j - 1];
		f[j] = t;
	}
}

int
lint_parse(const char *json, size_t len, struct lint_finding **out,
    size_t *nout, char **errp)
{
	struct json_tokener	*tok;
	json_object		*list, *item, *loc, *lines, *v;
	struct lint_finding	*f;
	const char		*rule, *sev, *reason, *cat, *fix;
	size_t			 i, n, k;

	tok = json_tokener_new();
	list = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	if (list == NULL || !json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		return set_error(errp, "ansible-lint output is not a JSON "
		    "list");
	}
	n = json_object_array_length(list);
	f = xcalloc(n + 1, sizeof *f);
	for (i = k = 0; i < n; i++) {
		item = json_object_array_get_idx(list, i);
		if ((rule = json_get_str(item, "check_name")) == NULL)
			continue;
		sev = json_get_str(item, "severity");
		if (sev == NULL || lint_severity_rank(sev) < 0)
			sev = "minor";
		cat = lint_category(rule, &reason, &fix);
		f[k].rule = xstrdup(rule);
		f[k].severity = xstrdup(sev);
		f[k].category = xstrdup(cat);
		f[k].fix = xstrdup(fix);
		f[k].reason = lint_reason(reason, json_get_str(item,
		    "description"));
		if (json_object_object_get_ex(item, "location", &loc)) {
			if (json_get_str(loc, "path") != NULL)
				f[k].file = xstrdup(json_get_str(loc, "path"));
			if (json_object_object_get_ex(loc, "lines", &lines) &&
			    json_object_object_get_ex(lines, "begin", &v))
				f[k].line = json_object_get_int(v);
			else if (json_object_object_get_ex(loc, "positions",
			    &lines) && json_object_object_get_ex(lines,
			    "begin", &v) && json_object_object_get_ex(v,
			    "line", &v))
				f[k].line = json_object_get_int(v);
			if (f[k].line < 0)
				f[k].line = 0;
		}
		k++;
	}
	json_object_put(list);
	if (k > LINT_KEEP_ABOVE) {
		lint_sort(f, k);
		for (i = LINT_KEEP; i < k; i++) {
			free(f[i].rule);
			free(f[i].severity);
			free(f[i].category);
			free(f[i].reason);
			free(f[i].fix);
			free(f[i].file);
		}
		k = LINT_KEEP;
	}
	*out = f;
	*nout = k;
	return 0;
}

int
lint_idempotency(const char *changed_json, const char *repo,
    const char *playbook, struct lint_finding **out, size_t *nout)
{
	size_t			 rlen = strlen(repo);
	json_object		*list, *item;
	struct lint_finding	*f;
	const char		*reason, *fix, *task, *host, *path;
	char			*desc, *colon;
	size_t			 i, n;

	*out = NULL;
	*nout = 0;
	list = json_tokener_parse(changed_json);
	if (list == NULL || !json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		return -1;
	}
	n = json_object_array_length(list);
	f = xcalloc(n + 1, sizeof *f);
	lint_category("chiffon-not-idempotent", &reason, &fix);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(list, i);
		task = json_get_str(item, "task");
		host = json_get_str(item, "host");
		path = json_get_str(item, "task_path");
		desc = xasprintf("task \"%s\" on %s", task != NULL ? task : "?",
		    host != NULL ? host : "?");
		f[i].rule = xstrdup("chiffon-not-idempotent");
		f[i].severity = xstrdup("major");
		f[i].category = xstrdup("idempotency");
		f[i].fix = xstrdup(fix);
		f[i].reason = lint_reason(reason, desc);
		free(desc);
		/* task_path is "FILE:LINE". */
		if (path != NULL) {
			if (strncmp(path, repo, rlen) == 0 &&
			    path[rlen] == '/')
				path += rlen + 1;
			f[i].file = xstrdup(path);
			if ((colon = strrchr(f[i].file, ':')) != NULL) {
				*colon = '\0';
				f[i].line = atoi(colon + 1);
			}
		} else
			f[i].file = xstrdup(playbook);
	}
	json_object_put(list);
	*out = f;
	*nout = n;
	return 0;
}

/*
 * One finding as a JSON object.  null_line: a line of 0 or less (none
 * known) becomes null, as the database wants it.
 */
static json_object *
lint_finding_json(const struct lint_finding *f, int null_line)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "category",
	    json_object_new_string(f->category));
	json_object_object_add(o, "rule", json_object_new_string(f->rule));
	json_object_object_add(o, "severity",
	    json_object_new_string(f->severity));
	json_object_object_add(o, "reason", json_object_new_string(f->reason));
	json_object_object_add(o, "fix", f->fix != NULL ?
	    json_object_new_string(f->fix) : NULL);
	json_object_object_add(o, "file", f->file != NULL ?
	    json_object_new_string(f->file) : NULL);
	json_object_object_add(o, "line", f->line > 0 || !null_line ?
	    json_object_new_int(f->line) : NULL);
	return o;
}

/* db_query callback: remember the error. */
static void
lint_db_done(const struct chiffon_db_result *res, const char *error,
    void *data)
{
	char	**errp = data;

	if (error != NULL)
		*errp = xstrdup(error);
}

char *
lint_playbook_sha256(const char *repo, const char *playbook)
{
	char	 hex[SHA256_HEX_LEN + 1], *path;
	int	 rc;

	path = *playbook == '/' ? xstrdup(playbook) :
	    path_join(repo, playbook);
	rc = sha256_file(path, hex);
	free(path);
	return rc == 0 ? xstrdup(hex) : NULL;
}

int
lint_store(const char *playbook, const char *sha256, const char *task_id,
    const char *run_id, const char *source, const struct lint_finding *f,
    size_t n, char **errp)
{
	json_object	*list = json_object_new_array();
	const char	*params[6];
	char		*err = NULL;
	size_t		 i;
	int		 rc;

	if (n == 0) {
		json_object_put(list);
		return 0;
	}
	for (i = 0; i < n; i++)
		json_object_array_add(list, lint_finding_json(&f[i], 1));
	params[0] = json_object_to_json_string_ext(list,
	    JSON_C_TO_STRING_PLAIN);
	params[1] = playbook;
	params[2] = task_id;
	params[3] = run_id;
	params[4] = source;
	params[5] = sha256;
	/* Stored once: the unique index of schema 011 (a finding twice in
	   one report too: DO NOTHING sees the statement's own rows). */
	rc = infra_host->db_query(infra_plugin,
	    "INSERT INTO playbook_suggestions (task_id, run_id, playbook, "
	    "source, category, rule, severity, reason, fix, file, line, "
	    "playbook_sha256) "
	    "SELECT $3::bigint, $4::bigint, $2, $5, x.category, x.rule, "
	    "x.severity, x.reason, x.fix, x.file, x.line, $6 "
	    "FROM json_to_recordset($1::json) AS x(category text, rule text, "
	    "severity text, reason text, fix text, file text, line integer) "
	    "ON CONFLICT DO NOTHING",
	    6, params, lint_db_done, &err);
	json_object_put(list);
	if (rc != 0 || err != NULL) {
		set_error(errp, "cannot store suggestions for %s: %s",
		    playbook, err != NULL ? err : "database error");
		free(err);
		return -1;
	}
	return 0;
}

/* --- the cache: playbook_lint (schema 011) ----------------------------- */

/* db_query callback: the findings of a cached hash. */
static void
lint_cache_rows(const struct chiffon_db_result *res, const char *error,
    void *data)
{
	struct {
		struct lint_finding	*f;
		size_t			 n;
		int			 hit;
	}		*c = data;
	const char	*const *v;
	int		 i;

	if (error != NULL || res == NULL || res->ncols != 8)
		return;
	c->f = xcalloc((size_t)res->nrows + 1, sizeof *c->f);
	for (i = 0; i < res->nrows; i++) {
		v = res->values + i * res->ncols;
		if (i == 0 && strcmp(v[0], "0") == 0)
			continue;	/* the playbook_lint row alone */
		c->f[c->n].rule = xstrdup(v[1]);
		c->f[c->n].severity = xstrdup(v[2]);
		c->f[c->n].category = xstrdup(v[3]);
		c->f[c->n].reason = xstrdup(v[4]);
		c->f[c->n].file = *v[5] != '\0' ? xstrdup(v[5]) : NULL;
		c->f[c->n].line = atoi(v[6]);
		c->f[c->n].fix = *v[7] != '\0' ? xstrdup(v[7]) : NULL;
		c->n++;
	}
	c->hit = res->nrows > 0;
}

/*
 * The findings stored for a playbook content already linted: 1 with
 * *out (lint_free) and *nout, 0 when that hash was never linted.
 */
static int
lint_cache_get(const char *playbook, const char *sha256,
    struct lint_finding **out, size_t *nout)
{
	const char	*params[2] = { playbook, sha256 };
	struct {
		struct lint_finding	*f;
		size_t			 n;
		int			 hit;
	}		 c = { NULL, 0, 0 };

	/* The playbook_lint row first (flag 0), then its findings. */
	infra_host->db_query(infra_plugin,
	    "SELECT 0, '', '', '', '', '', 0, '' FROM playbook_lint "
	    "WHERE playbook = $1 AND playbook_sha256 = $2 "
	    "UNION ALL (SELECT 1, s.rule, s.severity, s.category, s.reason, "
	    "coalesce(s.file, ''), coalesce(s.line, 0), coalesce(s.fix, '') "
	    "FROM playbook_suggestions s WHERE s.playbook = $1 "
	    "AND s.playbook_sha256 = $2 AND s.source = 'ansible-lint' "
	    "AND EXISTS (SELECT 1 FROM playbook_lint l WHERE l.playbook = $1 "
	    "AND l.playbook_sha256 = $2) ORDER BY s.id)",
	    2, params, lint_cache_rows, &c);
	if (!c.hit) {
		lint_free(c.f, c.n);
		return 0;
	}
	*out = c.f;
	*nout = c.n;
	return 1;
}

/* Remember that this content was linted.  Errors only cost a relint. */
static void
lint_cache_put(const char *playbook, const char *sha256, size_t n)
{
	const char	*params[3];
	char		 count[32], *err = NULL;

	snprintf(count, sizeof count, "%zu", n);
	params[0] = playbook;
	params[1] = sha256;
	params[2] = count;
	infra_host->db_query(infra_plugin,
	    "INSERT INTO playbook_lint (playbook, playbook_sha256, findings) "
	    "VALUES ($1, $2, $3::integer) ON CONFLICT (playbook, "
	    "playbook_sha256) DO UPDATE SET findings = EXCLUDED.findings, "
	    "linted_at = now()", 3, params, lint_db_done, &err);
	if (err != NULL)
		infra_host->log(infra_plugin, CHIFFON_LOG_WARNING,
		    "lint cache of %s: %s", playbook, err);
	free(err);
}

/* --- running ansible-lint ---------------------------------------------- */

static void
lint_job_free(struct lint_job *job)
{
	LIST_REMOVE(job, entry);
	free(job->playbook);
	free(job->sha256);
	free(job->task_id);
	free(job->run_id);
	strbuf_free(&job->out);
	free(job);
}

static void
lint_on_line(struct chiffon_child *child, int stream, const char *line,
    size_t len, void *data)
{
	struct lint_job	*job = data;

	strbuf_add(&job->out, line, len);
	strbuf_addc(&job->out, '\n');
}

static int
lint_timeout(void *data)
{
	struct lint_job	*job = data;

	job->timer = 0;
	if (job->child != NULL)
		infra_host->child_signal(job->child, SIGKILL);
	return 1;
}

/*
 * Find the JSON list in the merged output: the first line that starts
 * with '[' and parses.  0 with findings, or -1.
 */
static int
lint_find_json(struct lint_job *job, struct lint_finding **f, size_t *n,
    char **errp)
{
	char	*p = job->out.buf, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		if (*p == '[' && lint_parse(p, nl != NULL ? (size_t)(nl - p) :
		    strlen(p), f, n, NULL) == 0)
			return 0;
		p = nl != NULL ? nl + 1 : NULL;
	}
	return set_error(errp, "ansible-lint printed no JSON report");
}

static void
lint_on_exit(struct chiffon_child *child, int wstatus,
    const struct chiffon_rusage *usage, void *data)
{
	struct lint_job		*job = data;
	struct lint_finding	*f = NULL;
	size_t			 n = 0;
	char			*err = NULL, *first, *nl;
	int			 code;

	job->child = NULL;
	if (job->timer > 0)
		infra_host->remove(infra_plugin, job->timer);
	job->timer = 0;
	code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	if ((code == 0 || code == 2) && lint_find_json(job, &f, &n,
	    &err) == 0) {
		/* Findings are reported even when they cannot be stored. */
		if (lint_store(job->playbook, job->sha256, job->task_id,
		    job->run_id, "ansible-lint", f, n, &err) == 0 &&
		    job->sha256 != NULL)
			lint_cache_put(job->playbook, job->sha256, n);
		job->done((int)n, 0, err, f, n, job->data);
		goto out;
	} else if (err == NULL) {
		first = xstrdup(job->out.len > 0 ? job->out.buf : "");
		if ((nl = strchr(first, '\n')) != NULL)
			*nl = '\0';
		err = xasprintf("ansible-lint %s failed (%s %d)%s%s",
		    job->playbook, WIFEXITED(wstatus) ? "exit status" :
		    "signal", WIFEXITED(wstatus) ? code : WTERMSIG(wstatus),
		    *first != '\0' ? ": " : "", first);
		free(first);
	}
	job->done(-1, 0, err, NULL, 0, job->data);
out:
	free(err);
	lint_free(f, n);
	lint_job_free(job);
}

int
lint_start(const char *repo, const char *playbook, const char *task_id,
    const char *run_id, lint_done_fn done, void *data, char **errp)
{
	static const struct chiffon_child_cbs cbs = {
		.on_line = lint_on_line,
		.on_exit = lint_on_exit,
	};
	static const char *const env[] = { "ANSIBLE_LINT_OFFLINE=1",
	    "NO_COLOR=1", NULL };
	const char			*prog, *argv[9];
	struct chiffon_spawn_opts	 opts = { 0 };
	struct chiffon_user_data	 ud;
	struct lint_job			*job;
	struct lint_finding		*f;
	size_t				 n;
	char				*msg, why[512], *sha256;

	prog = infra_host->config_get(infra_plugin, "ansible.lint");
	if (prog == NULL)
		prog = "ansible-lint";
	/* Linted before with this content: the stored findings. */
	sha256 = lint_playbook_sha256(repo, playbook);
	if (sha256 != NULL && lint_cache_get(playbook, sha256, &f, &n)) {
		free(sha256);
		done((int)n, 0, NULL, f, n, data);
		lint_free(f, n);
		return 0;
	}
	job = xcalloc(1, sizeof *job);
	LIST_INSERT_HEAD(&lint_state.jobs, job, entry);
	job->playbook = xstrdup(playbook);
	job->sha256 = sha256;
	job->task_id = task_id != NULL ? xstrdup(task_id) : NULL;
	job->run_id = run_id != NULL ? xstrdup(run_id) : NULL;
	job->done = done;
	job->data = data;
	argv[0] = prog;
	argv[1] = "-f";
	argv[2] = "json";
	argv[3] = "-q";
	argv[4] = "--offline";
	argv[5] = "--nocolor";
	argv[6] = "--";
	argv[7] = playbook;
	argv[8] = NULL;
	opts.argv = argv;
	opts.env_add = env;
	opts.cwd = repo;
	ud.data = job;
	ud.free_func = NULL;
	job->child = infra_host->spawn_err(infra_plugin, &opts, &cbs, &ud,
	    why, sizeof why);
	if (job->child == NULL) {
		/* The host's reason says whether it is missing or broken. */
		lint_job_free(job);
		msg = xasprintf("%s; install it with apt-get install "
		    "ansible-lint or set ansible.lint", why);
		done(-1, 1, msg, NULL, 0, data);
		free(msg);
		return 0;
	}
	job->timer = infra_host->add_timer(infra_plugin, LINT_TIMEOUT_MS,
	    lint_timeout, &ud);
	return 0;
}

/* --- the "ansible.lint" capability ------------------------------------- */

static void
lint_cap_done(int nfindings, int missing, const char *error,
    const struct lint_finding *f, size_t n, void *data)
{
	struct chiffon_task	*task = data;
	json_object		*o = json_object_new_object(), *list;
	char			*result;
	size_t			 i;

	json_object_object_add(o, "findings", json_object_new_int(nfindings));
	json_object_object_add(o, "missing", json_object_new_boolean(missing));
	if (error != NULL)
		json_object_object_add(o, nfindings >= 0 ? "store_error" :
		    "error", json_object_new_string(error));
	list = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(list, lint_finding_json(&f[i], 0));
	json_object_object_add(o, "suggestions", list);
	result = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	infra_host->task_finish(task, nfindings >= 0 ? "successful" :
	    "failed", result);
	free(result);
}

static void
lint_cap_fail(struct chiffon_task *task, const char *msg)
{
	lint_cap_done(-1, 0, msg, NULL, 0, task);
}

/* The "ansible.lint" capability handler. */
static int
lint_handler(struct chiffon_task *task, void *data)
{
	const char	*text = infra_host->task_params(task);
	const char	*pb, *repo, *task_id, *run_id;
	json_object	*params;
	char		*err = NULL, *real;

	params = json_tokener_parse(text != NULL ? text : "{}");
	if (params == NULL || !json_object_is_type(params, json_type_object)) {
		json_object_put(params);
		lint_cap_fail(task, "ansible.lint: parameters are not a JSON "
		    "object");
		return -1;
	}
	pb = json_get_str(params, "playbook");
	if ((repo = json_get_str(params, "repo")) == NULL)
		repo = infra_host->config_get(infra_plugin, "ansible.repo");
	if (pb == NULL || *pb == '\0') {
		json_object_put(params);
		lint_cap_fail(task, "ansible.lint: parameter \"playbook\" is "
		    "missing");
		return -1;
	}
	if (repo == NULL)
		repo = ".";
	if ((real = realpath(repo, NULL)) == NULL) {
		err = xasprintf("ansible.lint: repository %s: %s", repo,
		    strerror(errno));
		json_object_put(params);
		lint_cap_fail(task, err);
		free(err);
		return -1;
	}
	task_id = json_get_str(params, "task_id");
	if (task_id == NULL)
		task_id = infra_host->task_id(task);
	run_id = json_get_str(params, "run_id");
	if (lint_start(real, pb, task_id, run_id, lint_cap_done, task,
	    &err) != 0) {
		lint_cap_fail(task, err);
		free(err);
		free(real);
		json_object_put(params);
		return -1;
	}
	free(real);
	json_object_put(params);
	return 0;
}

int
lint_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, NULL };

	LIST_INIT(&lint_state.jobs);
	return host->register_capability(p, CHIFFON_CAP_ANSIBLE_LINT,
	    lint_handler, &ud);
}

void
lint_end(void)
{
	while (!LIST_EMPTY(&lint_state.jobs))
		lint_job_free(LIST_FIRST(&lint_state.jobs));
}
