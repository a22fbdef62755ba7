/*
 * template.c - the template plugin: scaffold a new service in the
 * repository's own layout (scaffold.c does the work).
 *
 * Capabilities (parameters: a JSON object with "service", "port",
 * "image", "host", "force", "repo" and "layout", each also read from
 * "extra_vars", so a plan's generate step carries them there):
 *
 *   template.preview   compute the files and their diffs; write nothing.
 *                      Result: scaffold_json with contents.
 *   template.generate  compute, write (atomically, never over an existing
 *                      file without force), then validate the output with
 *                      `ansible-playbook --syntax-check PLAYBOOK` and
 *                      `ansible-lint --offline --nocolor` on what was
 *                      generated (the role; or the playbook, excluding
 *                      the repository's container role), run in the
 *                      repository; a failure rolls everything back.
 *                      Result: scaffold_json, "repo", "validation" and
 *                      "repo_commit": {paths, message}, which the host
 *                      commits to the repository as the approver.
 *
 * Configuration: plugin.template.dir (a directory of templates that
 * replace the built-in ones file by file), plugin.template.layout (auto,
 * per-service or site), plugin.template.style (auto: a per-service
 * playbook uses the repository's container role when its playbooks do;
 * builtin), plugin.template.timeout (per validation step).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "chiffon/plugin.h"
#include "scaffold.h"
#include "util.h"

#ifndef CHIFFON_DATA_ROOT
#define CHIFFON_DATA_ROOT "/usr/local/share/chiffon"
#endif
#ifndef CHIFFON_SRC_TEMPLATE_DIR
#define CHIFFON_SRC_TEMPLATE_DIR "templates"
#endif

/* Default limit for each validation step, in seconds. */
#define TEMPLATE_TIMEOUT_S	300
/* Output kept from a failing validation step, in bytes. */
#define TEMPLATE_OUTPUT_MAX	8192

static const struct chiffon_host	*template_host;
static struct chiffon_plugin		*template_plugin;

/* One generation: from the handler call to task_finish. */
struct template_job {
	struct chiffon_task	*task;
	struct scaffold		*s;
	char			*repo;
	int			 step;		/* index in template_steps */
	struct chiffon_child	*child;
	struct chiffon_run	*run;		/* the validation's output */
	struct strbuf		 out;
	int			 timer;
	int			 canceled;
	int			 timed_out;
	double			 timeout_s;
};

/* The validation steps, in order. */
static const struct template_step {
	const char	*name;		/* in the result's "validation" */
	const char	*what;		/* in messages */
} template_steps[] = {
	{ "syntax_check", "ansible-playbook --syntax-check" },
	{ "lint", "ansible-lint" },
};

static void	template_step_start(struct template_job *);

static const char *
template_config(const char *key)
{
	return template_host->config_get(template_plugin, key);
}

/* The built-in templates: installed, else the source tree's.  Caller frees. */
static char *
template_builtin_dir(void)
{
	struct stat	 sb;
	char		*dir;

	dir = path_join(CHIFFON_DATA_ROOT, "templates");
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		free(dir);
		dir = xstrdup(CHIFFON_SRC_TEMPLATE_DIR);
	}
	return dir;
}

/* A parameter: params.key, else params.extra_vars.key. */
static json_object *
template_param(json_object *params, const char *key)
{
	json_object	*v, *ev;

	if (json_object_object_get_ex(params, key, &v) && v != NULL)
		return v;
	if (json_object_object_get_ex(params, "extra_vars", &ev) &&
	    json_object_object_get_ex(ev, key, &v) && v != NULL)
		return v;
	return NULL;
}

static const char *
template_param_str(json_object *params, const char *key)
{
	json_object	*v = template_param(params, key);

	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* Compute the scaffold for a task's parameters.  NULL with *errp. */
static struct scaffold *
template_plan(struct chiffon_task *task, char **repop, char **errp)
{
	struct scaffold_params	 sp = { 0 };
	struct scaffold		*s;
	json_object		*params, *v;
	const char		*repo, *lim;
	char			*end, *builtin;
	long			 port;

	params = json_tokener_parse(template_host->task_params(task));
	if (params == NULL || !json_object_is_type(params, json_type_object)) {
		json_object_put(params);
		set_error(errp, "template: the parameters are not a JSON "
		    "object");
		return NULL;
	}
	sp.service = template_param_str(params, "service");
	if (sp.service == NULL)
		sp.service = template_param_str(params, "name");
	if ((v = template_param(params, "port")) != NULL) {
		errno = 0;
		port = strtol(json_object_get_string(v), &end, 10);
		if (errno != 0 || *end != '\0' || port < 1 || port > 65535) {
			set_error(errp, "port '%s': not a number between 1 and "
			    "65535", json_object_get_string(v));
			json_object_put(params);
			return NULL;
		}
		sp.port = (int)port;
	}
	sp.image = template_param_str(params, "image");
	sp.hosts = template_param_str(params, "host");
	/* A plan step's targets name the group, unless they are all hosts. */
	if (sp.hosts == NULL && (lim = template_param_str(params,
	    "limit")) != NULL && strcmp(lim, "all") != 0)
		sp.hosts = lim;
	if ((v = template_param(params, "force")) != NULL)
		sp.force = json_object_get_boolean(v);
	if ((repo = template_param_str(params, "repo")) == NULL)
		repo = template_config("ansible.repo");
	if (repo == NULL) {
		set_error(errp, "template: no Ansible repository: set "
		    "ansible.repo (or --repo, CHIFFON_REPO)");
		json_object_put(params);
		return NULL;
	}
	sp.repo = repo;
	sp.layout = template_param_str(params, "layout");
	if (sp.layout == NULL)
		sp.layout = template_config("plugin.template.layout");
	sp.style = template_config("plugin.template.style");
	sp.template_dir = template_config("plugin.template.dir");
	sp.builtin_dir = builtin = template_builtin_dir();
	s = scaffold_plan(&sp, errp);
	if (s != NULL)
		*repop = xstrdup(repo);
	json_object_put(params);
	free(builtin);
	return s;
}

/* Finish with {"error": msg}. */
static int
template_fail(struct chiffon_task *task, const char *status, const char *msg)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	template_host->task_finish(task, status,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return -1;
}

/* The "template.preview" capability. */
static int
template_preview(struct chiffon_task *task, void *data)
{
	struct scaffold	*s;
	json_object	*o;
	char		*repo = NULL, *err = NULL;

	(void)data;
	if ((s = template_plan(task, &repo, &err)) == NULL) {
		template_fail(task, "failed", err);
		free(err);
		return -1;
	}
	o = scaffold_json(s, 1);
	json_object_object_add(o, "repo", json_object_new_string(repo));
	template_host->task_finish(task, "successful",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	scaffold_free(s);
	free(repo);
	return 0;
}

static void
template_job_free(struct template_job *job)
{
	if (job->timer > 0)
		template_host->remove(template_plugin, job->timer);
	scaffold_free(job->s);
	free(job->repo);
	strbuf_free(&job->out);
	free(job);
}

/* Close the validation's run (status as for run_finish). */
static void
template_job_run_end(struct template_job *job, const char *status, int code)
{
	if (job->run == NULL)
		return;
	template_host->run_finish(job->run, status, code, "{}", NULL);
	job->run = NULL;
}

/* A validation step failed or was stopped: roll back and finish. */
static void
template_job_abort(struct template_job *job, const char *status,
    const char *msg, int code)
{
	template_job_run_end(job, status, code);
	scaffold_rollback(job->s, job->repo);
	template_fail(job->task, status, msg);
	template_job_free(job);
}

/* Everything passed: the result asks the host to commit the files. */
static void
template_job_success(struct template_job *job)
{
	json_object	*o, *val, *rc, *paths;
	char		*msg;
	size_t		 i;

	o = scaffold_json(job->s, 0);
	json_object_object_add(o, "repo", json_object_new_string(job->repo));
	val = json_object_new_object();
	for (i = 0; i < nitems(template_steps); i++)
		json_object_object_add(val, template_steps[i].name,
		    json_object_new_string("passed"));
	json_object_object_add(o, "validation", val);
	rc = json_object_new_object();
	paths = json_object_new_array();
	for (i = 0; job->s->commit[i] != NULL; i++)
		json_object_array_add(paths,
		    json_object_new_string(job->s->commit[i]));
	json_object_object_add(rc, "paths", paths);
	if (strcmp(job->s->layout, "site") == 0)
		msg = xasprintf("Generate %s: role %s in %s\n\nchiffon "
		    "generate wrote %zu files.  The role is off until "
		    "%s_enabled is true; then: ansible-playbook %s --tags %s",
		    job->s->service, job->s->role, job->s->playbook,
		    job->s->nfiles, job->s->role, job->s->playbook,
		    job->s->service);
	else
		msg = xasprintf("Generate %s: %s\n\nchiffon generate wrote "
		    "%zu file%s.  Deploy with: ansible-playbook %s",
		    job->s->service, job->s->playbook, job->s->nfiles,
		    job->s->nfiles == 1 ? "" : "s", job->s->playbook);
	json_object_object_add(rc, "message", json_object_new_string(msg));
	free(msg);
	json_object_object_add(o, "repo_commit", rc);
	template_job_run_end(job, "successful", 0);
	template_host->task_finish(job->task, "successful",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	template_job_free(job);
}

static void
template_on_line(struct chiffon_child *child, int stream, const char *line,
    size_t len, void *data)
{
	struct template_job	*job = data;

	(void)child;
	if (job->run != NULL)
		template_host->run_line(job->run, stream, line, len);
	if (job->out.len + len + 1 > TEMPLATE_OUTPUT_MAX)
		return;
	strbuf_add(&job->out, line, len);
	strbuf_addc(&job->out, '\n');
}

static void
template_on_exit(struct chiffon_child *child, int wstatus,
    const struct chiffon_rusage *usage, void *data)
{
	struct template_job	*job = data;
	const struct template_step *st = &template_steps[job->step];
	char			*msg;

	(void)child;
	(void)usage;
	job->child = NULL;
	if (job->timer > 0) {
		template_host->remove(template_plugin, job->timer);
		job->timer = 0;
	}
	if (job->canceled) {
		template_job_abort(job, "canceled", "template: canceled; "
		    "nothing was kept", -1);
		return;
	}
	if (job->timed_out || !WIFEXITED(wstatus) ||
	    WEXITSTATUS(wstatus) != 0) {
		msg = xasprintf("%s %s on the generated files%s; nothing was "
		    "kept:\n%s", st->what, job->timed_out ? "timed out" :
		    "failed", WIFEXITED(wstatus) &&
		    WEXITSTATUS(wstatus) == 127 ? " (not installed?)" : "",
		    job->out.len > 0 ? job->out.buf : "");
		template_job_abort(job, job->timed_out ? "timeout" : "failed",
		    msg, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
		free(msg);
		return;
	}
	job->step++;
	if ((size_t)job->step == nitems(template_steps)) {
		template_job_success(job);
		return;
	}
	template_step_start(job);
}

static int
template_on_timeout(void *data)
{
	struct template_job	*job = data;

	job->timer = 0;
	job->timed_out = 1;
	if (job->child != NULL)
		template_host->child_signal(job->child, SIGKILL);
	return 1;
}

static void
template_on_cancel(struct chiffon_task *task, void *data)
{
	struct template_job	*job = data;

	(void)task;
	job->canceled = 1;
	if (job->child != NULL)
		template_host->child_signal(job->child, SIGTERM);
}

/* Start validation step job->step in the repository. */
static void
template_step_start(struct template_job *job)
{
	static const struct chiffon_child_cbs cbs = {
		.on_line = template_on_line,
		.on_exit = template_on_exit,
	};
	struct chiffon_spawn_opts	 opts = { 0 };
	struct chiffon_user_data	 ud = { job, NULL };
	struct strbuf			 cmd = { 0 };
	const char			*argv[8];
	char				*role = NULL, *msg, err[512];
	size_t				 i, n = 0;

	strbuf_reset(&job->out);
	if (job->step == 0) {
		argv[n++] = "ansible-playbook";
		argv[n++] = "--syntax-check";
		argv[n++] = job->s->playbook;
	} else {
		/* Only what was generated: not the repository's own files. */
		argv[n++] = "ansible-lint";
		argv[n++] = "--offline";
		argv[n++] = "--nocolor";
		if (strcmp(job->s->layout, "site") == 0)
			argv[n++] = role = xasprintf("roles/%s", job->s->role);
		else {
			if (job->s->container_role != NULL) {
				argv[n++] = "--exclude";
				argv[n++] = role = xasprintf("roles/%s",
				    job->s->container_role);
			}
			argv[n++] = job->s->playbook;
		}
	}
	argv[n] = NULL;
	if (job->run != NULL) {
		strbuf_adds(&cmd, "$");
		for (i = 0; i < n; i++)
			strbuf_addf(&cmd, " %s", argv[i]);
		template_host->run_line(job->run, CHIFFON_STREAM_HOST,
		    cmd.buf, cmd.len);
		strbuf_free(&cmd);
	}
	opts.argv = argv;
	opts.cwd = job->repo;
	opts.use_pty = 0;
	opts.event_fd = -1;
	job->child = template_host->spawn_err(template_plugin, &opts, &cbs,
	    &ud, err, sizeof err);
	free(role);
	if (job->child == NULL) {
		msg = xasprintf("%s could not be started: %s; nothing was "
		    "kept", template_steps[job->step].what, err);
		template_job_abort(job, "failed", msg, -1);
		free(msg);
		return;
	}
	if (job->timeout_s > 0)
		job->timer = template_host->add_timer(template_plugin,
		    (uint64_t)(job->timeout_s * 1000), template_on_timeout,
		    &ud);
}

/* The "template.generate" capability. */
static int
template_generate(struct chiffon_task *task, void *data)
{
	struct template_job	*job;
	char			*repo = NULL, *err = NULL;
	struct scaffold		*s;
	json_object		*params, *v;
	int			 force = 0;

	(void)data;
	if ((s = template_plan(task, &repo, &err)) == NULL) {
		template_fail(task, "failed", err);
		free(err);
		return -1;
	}
	params = json_tokener_parse(template_host->task_params(task));
	if ((v = template_param(params, "force")) != NULL)
		force = json_object_get_boolean(v);
	json_object_put(params);
	if (scaffold_write(s, repo, force, &err) != 0) {
		template_fail(task, "failed", err);
		free(err);
		scaffold_free(s);
		free(repo);
		return -1;
	}
	job = xcalloc(1, sizeof *job);
	job->task = task;
	job->s = s;
	job->repo = repo;
	/* Declared: the host checked the value at start. */
	job->timeout_s = TEMPLATE_TIMEOUT_S;
	template_host->config_duration(template_plugin,
	    "plugin.template.timeout", &job->timeout_s);
	template_host->task_on_cancel(task, template_on_cancel, job);
	/* Recorded like any run, when the task has a row. */
	if (template_host->task_id(task) != NULL)
		job->run = template_host->run_begin(task,
		    CHIFFON_RUN_KIND_TEMPLATE, "{}");
	template_step_start(job);
	return 0;
}

static int
template_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	static const struct {
		const char		*name;
		chiffon_capability_fn	 fn;
	} caps[] = {
		{ CHIFFON_CAP_TEMPLATE_PREVIEW, template_preview },
		{ CHIFFON_CAP_TEMPLATE_GENERATE, template_generate },
	};
	struct chiffon_user_data	ud = { NULL, NULL };
	size_t				i;

	template_host = host;
	template_plugin = p;
	for (i = 0; i < nitems(caps); i++) {
		if (host->register_capability(p, caps[i].name, caps[i].fn,
		    &ud) != 0)
			return -1;
	}
	return 0;
}

static void
template_end(struct chiffon_plugin *p)
{
	(void)p;
	template_host = NULL;
	template_plugin = NULL;
}

/* The keys of [plugin.template] (chiffon.conf(5)). */
static const struct chiffon_config_key template_config_keys[] = {
	{ .name = "dir", .type = CHIFFON_CONFIG_STRING,
	  .doc = "a directory of templates that replace the built-in ones "
	  "file by file" },
	{ .name = "layout", .type = CHIFFON_CONFIG_ENUM, .def = "auto",
	  .choices = "auto|per-service|site",
	  .doc = "the repository layout new services are written in" },
	{ .name = "style", .type = CHIFFON_CONFIG_ENUM, .def = "auto",
	  .choices = "auto|builtin",
	  .doc = "auto: deploy through the repository's own container role "
	  "when its playbooks do; builtin: the plugin's compose tasks" },
	{ .name = "timeout", .type = CHIFFON_CONFIG_DURATION, .def = "5m",
	  .min = 1, .max = 86400,
	  .doc = "the limit of each validation step" },
	{ .name = NULL },
};

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.config_keys = template_config_keys,
	.name = "template",
	.version = PACKAGE_VERSION,
	.description = "Scaffold a new service in the repository's layout",
	.init = template_init,
	.end = template_end,
};
