/*
 * run.c - the "ansible" capability: run one playbook with ansible-playbook
 * and record it.
 *
 * ansible-playbook is started through host->spawn (execvp with an argv, its
 * own process group) in the repo directory, so the repo's ansible.cfg and
 * inventory apply, with its output on a pty (Ansible formats and colours as
 * on a terminal) and a pipe on fd 3 for the chiffon_events callback plugin.
 * Every output line goes to host->run_line, every event line to
 * host->run_event and to the summary (summary.c).  On exit the summary is
 * stored with host->run_finish; a failed run is then linted (lint.c,
 * unless plugin.infra.lint_on_failure is false; a successful one too
 * with plugin.infra.lint_on_success), a successful one is
 * compared with the previous successful run of the same playbook and
 * inputs (idempotency), and the task finishes.
 *
 * Enabling the callback: chiffon_events is the stdout callback
 * (ANSIBLE_STDOUT_CALLBACK) and passes every call on to the stdout
 * callback the repo uses (CHIFFON_STDOUT_CALLBACK: the environment's
 * ANSIBLE_STDOUT_CALLBACK, else the [defaults] stdout_callback of the
 * configuration file Ansible would use: $ANSIBLE_CONFIG, REPO/ansible.cfg,
 * ~/.ansible.cfg, /etc/ansible/ansible.cfg; else "default"), so the
 * output is the repo's own.  As one more (aggregate) callback it cost
 * Ansible a deep copy of every result for it: 0.3 s for a task printing
 * 100,000 lines (issue 15).  ANSIBLE_CALLBACK_PLUGINS replaces, not
 * extends, the repo's value, so run_env prepends chiffon's directory to
 * the value in effect (the environment, else the file, else Ansible's
 * default).  The callbacks the repo enables stay as they are.
 *
 * Cancel (host->task_on_cancel) and timeout (params.timeout_s, else
 * ansible.timeout, default one hour; 0 means none) send SIGINT to the process group,
 * SIGTERM RUN_GRACE_MS later and SIGKILL RUN_GRACE_MS after that.
 *
 * The first run checks `ansible-playbook --version` once (asynchronously)
 * and refuses versions older than RUN_MIN_MAJOR.RUN_MIN_MINOR.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "infra.h"
#include "inventory.h"
#include "json-get.h"
#include "run.h"
#include "summary.h"
#include "util.h"

#define RUN_EVENT_FD	3
#define RUN_CALLBACK_FILE "chiffon_events.py"

/* One ansible-playbook run, from the handler call to task_finish. */
struct run_job {
	LIST_ENTRY(run_job)	 entry;		/* run_state.jobs */
	struct chiffon_task	*task;
	struct chiffon_run	*run;
	struct chiffon_child	*child;
	struct summary		*summary;
	json_object		*params;
	char			*repo;		/* absolute */
	char			*playbook;	/* as given */
	char			*inputs;	/* canonical JSON of the inputs */
	char			*extra_file;	/* -e @FILE, removed at exit */
	char			*error;		/* why the run could not start */
	int			 check;
	double			 timeout_s;
	double			 started;
	int			 timeout_timer;
	int			 kill_timer;
	int			 kill_stage;	/* signals sent: 1 INT, 2 TERM, 3 KILL */
	const char		*end_status;	/* "timeout" or "canceled" */
	int			 checking;	/* version check running */
	struct strbuf		 version_out;
	char			*status;	/* final, for lint's done */
	char			*result;
};

/* The plugin-wide state of the runner (one per loaded plugin). */
static struct {
	char		*version_prog;	/* the program checked */
	int		 version_known;
	int		 major;
	int		 minor;
	char		*version_error;	/* cached refusal */
	LIST_HEAD(, run_job) jobs;
} run_state;

static void	run_job_start(struct run_job *);
static void	run_job_done(struct run_job *, const char *status,
		    const char *result_json);

/* --- helpers ----------------------------------------------------------- */

static const char *
run_config(const char *key)
{
	return infra_host->config_get(infra_plugin, key);
}

int
run_parse_version(const char *text, int *major, int *minor)
{
	const char	*p;

	for (p = text; p != NULL && *p != '\0'; p++) {
		if (isdigit((unsigned char)*p) &&
		    sscanf(p, "%d.%d", major, minor) == 2)
			return 0;
	}
	return -1;
}

int
run_file_exists(const char *dir, const char *name)
{
	struct stat	 sb;
	char		*file = path_join(dir, name);
	int		 ok = stat(file, &sb) == 0 && S_ISREG(sb.st_mode);

	free(file);
	return ok;
}

char *
run_callback_dir(void)
{
	const char	*env, *src;
	char		*dir;

	if ((env = getenv("CHIFFON_CALLBACK_DIR")) != NULL && *env != '\0')
		return run_file_exists(env, RUN_CALLBACK_FILE) ?
		    xstrdup(env) : NULL;
	if ((src = getenv("CHIFFON_SRCDIR")) != NULL && *src != '\0') {
		dir = path_join(src, "plugins/infra/callback");
		if (run_file_exists(dir, RUN_CALLBACK_FILE))
			return dir;
		free(dir);
	}
	if (run_file_exists(CHIFFON_DATA_ROOT "/ansible/callback_plugins",
	    RUN_CALLBACK_FILE))
		return xstrdup(CHIFFON_DATA_ROOT "/ansible/callback_plugins");
#ifdef CHIFFON_SRC_CALLBACK_DIR
	if (run_file_exists(CHIFFON_SRC_CALLBACK_DIR, RUN_CALLBACK_FILE))
		return xstrdup(CHIFFON_SRC_CALLBACK_DIR);
#endif
	return NULL;
}

/* --- parameters -------------------------------------------------------- */

/* A string or an array of strings, joined with commas.  Caller frees. */
static char *
run_param_list(json_object *params, const char *key)
{
	struct strbuf	 sb = { 0 };
	json_object	*v, *item;
	size_t		 i;

	if (!json_object_object_get_ex(params, key, &v) || v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return *json_object_get_string(v) != '\0' ?
		    xstrdup(json_object_get_string(v)) : NULL;
	if (!json_object_is_type(v, json_type_array))
		return NULL;
	for (i = 0; i < json_object_array_length(v); i++) {
		item = json_object_array_get_idx(v, i);
		if (!json_object_is_type(item, json_type_string))
			continue;
		if (sb.len > 0)
			strbuf_addc(&sb, ',');
		strbuf_adds(&sb, json_object_get_string(item));
	}
	if (sb.len == 0) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* Validate params into job; 0 or -1 with *errp. */
static int
run_job_params(struct run_job *job, char **errp)
{
	const char	*text = infra_host->task_params(job->task);
	const char	*pb, *repo;
	json_object	*v;
	struct stat	 sb;
	char		*file, *real;

	job->params = json_tokener_parse(text != NULL ? text : "{}");
	if (job->params == NULL ||
	    !json_object_is_type(job->params, json_type_object))
		return set_error(errp, "ansible: task parameters are not a "
		    "JSON object: %s", text != NULL ? text : "(null)");
	if ((pb = json_get_str(job->params, "playbook")) == NULL ||
	    *pb == '\0')
		return set_error(errp, "ansible: parameter \"playbook\" is "
		    "missing (a path relative to the repo)");
	if ((repo = json_get_str(job->params, "repo")) == NULL &&
	    (repo = run_config("ansible.repo")) == NULL)
		return set_error(errp, "ansible: no repository: set "
		    "ansible.repo (or --repo, CHIFFON_REPO) or pass \"repo\"");
	if ((real = realpath(repo, NULL)) == NULL ||
	    stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		free(real);
		return set_error(errp, "ansible: repository %s: %s", repo,
		    errno != 0 ? strerror(errno) : "not a directory");
	}
	job->repo = real;
	job->playbook = xstrdup(pb);
	file = *pb == '/' ? xstrdup(pb) : path_join(job->repo, pb);
	if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		set_error(errp, "ansible: playbook %s not found in %s", pb,
		    job->repo);
		free(file);
		return -1;
	}
	free(file);
	if (json_object_object_get_ex(job->params, "extra_vars", &v) &&
	    v != NULL && !json_object_is_type(v, json_type_object))
		return set_error(errp, "ansible: \"extra_vars\" must be a JSON "
		    "object");
	if (json_object_object_get_ex(job->params, "check", &v))
		job->check = json_object_get_boolean(v);

	job->timeout_s = RUN_DEFAULT_TIMEOUT_S;
	if (infra_host->config_duration(infra_plugin, "ansible.timeout",
	    &job->timeout_s) < 0)
		return set_error(errp, "ansible.timeout: bad value '%s' "
		    "(seconds, or a number with ms, s, m, h, d or w)",
		    run_config("ansible.timeout"));
	if (json_object_object_get_ex(job->params, "timeout_s", &v) &&
	    v != NULL) {
		job->timeout_s = json_object_get_double(v);
		if (job->timeout_s < 0)
			return set_error(errp, "ansible: \"timeout_s\" must be "
			    "a number of seconds (0: no timeout)");
	}
	return 0;
}

/* The inputs that make two runs "the same" (idempotency).  Caller frees. */
static char *
run_job_inputs(struct run_job *job)
{
	static const char *const keys[] = {
		"inventory", "limit", "tags", "skip_tags", "extra_vars",
	};
	json_object	*o = json_object_new_object(), *v;
	char		*text;
	size_t		 i;

	json_object_object_add(o, "repo", json_object_new_string(job->repo));
	json_object_object_add(o, "playbook",
	    json_object_new_string(job->playbook));
	for (i = 0; i < nitems(keys); i++) {
		if (json_object_object_get_ex(job->params, keys[i], &v) &&
		    v != NULL)
			json_object_object_add(o, keys[i], json_object_get(v));
	}
	json_object_object_add(o, "check", json_object_new_boolean(job->check));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/*
 * Where extra-vars files go: core.data_dir/run (made 0700), else
 * $TMPDIR or /tmp.  Caller frees.
 */
static char *
run_vars_dir(void)
{
	const char	*data = infra_host->config_get(infra_plugin,
			    "core.data_dir");
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (data != NULL && *data != '\0') {
		dir = xasprintf("%s/run", data);
		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			return dir;
		free(dir);
	}
	return xstrdup(tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
}

/*
 * Remove the extra-vars files left by processes that are gone (killed
 * mid-run): RUN_VARS_PREFIX PID-XXXXXX with no process PID.
 */
static void
run_vars_clean(void)
{
	char		*dir = run_vars_dir(), *path;
	struct dirent	*e;
	DIR		*d;
	long		 pid;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, RUN_VARS_PREFIX,
			    strlen(RUN_VARS_PREFIX)) != 0)
				continue;
			pid = strtol(e->d_name + strlen(RUN_VARS_PREFIX), NULL,
			    10);
			if (pid <= 0 || (kill((pid_t)pid, 0) == -1 &&
			    errno == ESRCH)) {
				path = xasprintf("%s/%s", dir, e->d_name);
				unlink(path);
				free(path);
			}
		}
		closedir(d);
	}
	free(dir);
}

/*
 * Write extra_vars to a private file (run_vars_dir, named after this
 * process so that run_vars_clean can tell a leftover), removed when the
 * run ends.  0 or -1 with *errp.
 */
static int
run_job_extra_vars(struct run_job *job, char **errp)
{
	json_object	*v;
	const char	*text;
	char		*file, *dir;
	size_t		 len;
	ssize_t		 n;
	int		 fd;

	if (!json_object_object_get_ex(job->params, "extra_vars", &v) ||
	    v == NULL)
		return 0;
	dir = run_vars_dir();
	file = xasprintf("%s/" RUN_VARS_PREFIX "%ld-XXXXXX", dir,
	    (long)getpid());
	free(dir);
	if ((fd = mkostemp(file, O_CLOEXEC)) == -1) {
		set_error(errp, "ansible: cannot create %s: %s", file,
		    strerror(errno));
		free(file);
		return -1;
	}
	fchmod(fd, 0600);
	text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	while (len > 0) {
		if ((n = write(fd, text, len)) < 0) {
			if (errno == EINTR)
				continue;
			set_error(errp, "ansible: cannot write %s: %s", file,
			    strerror(errno));
			close(fd);
			unlink(file);
			free(file);
			return -1;
		}
		text += n;
		len -= (size_t)n;
	}
	close(fd);
	job->extra_file = file;
	return 0;
}

/* Remove the extra-vars file. */
static void
run_job_extra_close(struct run_job *job)
{
	if (job->extra_file != NULL)
		unlink(job->extra_file);
	free(job->extra_file);
	job->extra_file = NULL;
}

/* --- job life ---------------------------------------------------------- */

static void
run_job_free(struct run_job *job)
{
	LIST_REMOVE(job, entry);
	run_job_extra_close(job);
	summary_free(job->summary);
	json_object_put(job->params);
	free(job->repo);
	free(job->playbook);
	free(job->inputs);
	free(job->error);
	free(job->status);
	free(job->result);
	strbuf_free(&job->version_out);
	free(job);
}

static void
run_job_timers_off(struct run_job *job)
{
	if (job->timeout_timer > 0)
		infra_host->remove(infra_plugin, job->timeout_timer);
	if (job->kill_timer > 0)
		infra_host->remove(infra_plugin, job->kill_timer);
	job->timeout_timer = job->kill_timer = 0;
}

/* Finish the task and free the job. */
static void
run_job_done(struct run_job *job, const char *status, const char *result)
{
	struct chiffon_task	*task = job->task;
	char			*st = xstrdup(status);
	char			*res = result != NULL ? xstrdup(result) : NULL;

	/* status and result may belong to job. */
	run_job_timers_off(job);
	infra_host->task_on_cancel(task, NULL, NULL);
	run_job_free(job);
	infra_host->task_finish(task, st, res);
	free(st);
	free(res);
}

/* Fail before a run was opened: task result {"error": msg}. */
static void
run_job_fail(struct run_job *job, const char *status, const char *msg)
{
	json_object	*o = json_object_new_object();
	char		*result;

	infra_host->log(infra_plugin, CHIFFON_LOG_ERROR, "%s", msg);
	json_object_object_add(o, "error", json_object_new_string(msg));
	result = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	run_job_done(job, status, result);
	free(result);
}

static int
run_kill_tick(void *data)
{
	struct run_job	*job = data;

	if (job->child == NULL) {
		job->kill_timer = 0;
		return 1;
	}
	if (job->kill_stage == 1) {
		infra_host->child_signal(job->child, SIGTERM);
		job->kill_stage = 2;
		return 0;
	}
	infra_host->child_signal(job->child, SIGKILL);
	job->kill_stage = 3;
	job->kill_timer = 0;
	return 1;
}

/* Stop the run: SIGINT now, SIGTERM and SIGKILL after grace periods. */
static void
run_job_stop(struct run_job *job, const char *why)
{
	struct chiffon_user_data	ud = { job, NULL };

	if (job->end_status == NULL)
		job->end_status = why;
	if (job->child == NULL || job->kill_stage > 0)
		return;
	infra_host->log(infra_plugin, CHIFFON_LOG_INFO, "ansible-playbook %s: "
	    "%s, sending SIGINT", job->playbook, why);
	infra_host->child_signal(job->child, SIGINT);
	job->kill_stage = 1;
	job->kill_timer = infra_host->add_timer(infra_plugin, RUN_GRACE_MS,
	    run_kill_tick, &ud);
}

static void
run_job_cancel(struct chiffon_task *task, void *data)
{
	run_job_stop(data, "canceled");
}

static int
run_job_timeout(void *data)
{
	struct run_job	*job = data;

	job->timeout_timer = 0;
	run_job_stop(job, "timeout");
	return 1;
}

static void
run_on_line(struct chiffon_child *child, int stream, const char *line,
    size_t len, void *data)
{
	struct run_job	*job = data;

	if (job->run != NULL)
		infra_host->run_line(job->run, stream, line, len);
}

static void
run_on_event(struct chiffon_child *child, const char *line, size_t len,
    void *data)
{
	struct run_job	*job = data;

	if (job->run != NULL)
		infra_host->run_event(job->run, line, len);
	summary_event(job->summary, line, len);
}

/* db_query callback: keep the first value of the first row. */
static void
run_db_first(const struct chiffon_db_result *res, const char *error,
    void *data)
{
	char	**out = data;

	if (error == NULL && res != NULL && res->nrows > 0 &&
	    res->ncols > 0 && res->values[0] != NULL)
		*out = xstrdup(res->values[0]);
}

/*
 * After a successful real (not check-mode) run: flag every task that
 * reported changed when the previous successful run with the same inputs
 * exists.  Errors are logged: suggestions never fail a run.
 */
static void
run_job_idempotency(struct run_job *job, const char *summary,
    const char *run_id)
{
	const char		*params[2] = { job->inputs, run_id };
	struct lint_finding	*f = NULL;
	size_t			 n = 0;
	char			*earlier = NULL, *changed, *err = NULL, *sha;

	infra_host->db_query(infra_plugin,
	    "SELECT summary::text FROM runs WHERE kind = 'ansible-playbook' "
	    "AND status = 'successful' AND meta->'inputs' = $1::jsonb "
	    "AND id <> coalesce($2::bigint, -1) ORDER BY id DESC LIMIT 1",
	    2, params, run_db_first, &earlier);
	if (earlier == NULL)
		return;
	changed = summary_not_idempotent(earlier, summary);
	free(earlier);
	if (changed == NULL)
		return;
	sha = lint_playbook_sha256(job->repo, job->playbook);
	if (lint_idempotency(changed, job->repo, job->playbook, &f,
	    &n) == 0 && n > 0 && lint_store(job->playbook, sha,
	    infra_host->task_id(job->task), run_id, "idempotency", f, n,
	    &err) != 0) {
		infra_host->log(infra_plugin, CHIFFON_LOG_WARNING,
		    "idempotency suggestions for %s: %s", job->playbook, err);
		free(err);
	}
	lint_free(f, n);
	free(changed);
	free(sha);
}

/* The task result: the summary plus "error" for a run that did not succeed. */
static char *
run_job_result(struct run_job *job, const char *summary, const char *status)
{
	json_object	*o = json_tokener_parse(summary);
	const char	*first = summary_first_failure(job->summary);
	char		*text, *msg = NULL;

	if (o == NULL)
		o = json_object_new_object();
	if (strcmp(status, "timeout") == 0)
		msg = xasprintf("ansible-playbook %s timed out after %.0f s",
		    job->playbook, job->timeout_s);
	else if (strcmp(status, "canceled") == 0)
		msg = xasprintf("ansible-playbook %s was canceled",
		    job->playbook);
	else if (strcmp(status, "failed") == 0)
		msg = first != NULL ? xstrdup(first) :
		    xasprintf("ansible-playbook %s failed", job->playbook);
	if (msg != NULL)
		json_object_object_add(o, "error", json_object_new_string(msg));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(msg);
	return text;
}

static void
run_job_lint_done(int n, int missing, const char *error,
    const struct lint_finding *f, size_t nf, void *data)
{
	struct run_job	*job = data;
	json_object	*o;
	char		*result;

	o = json_tokener_parse(job->result);
	if (o == NULL)
		o = json_object_new_object();
	if (n >= 0) {
		json_object_object_add(o, "suggestions",
		    json_object_new_int(n));
		if (error != NULL)
			json_object_object_add(o, "lint_error",
			    json_object_new_string(error));
	} else
		json_object_object_add(o, "lint_error",
		    json_object_new_string(error != NULL ? error : "failed"));
	result = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	job->checking = 0;
	run_job_done(job, job->status, result);
	free(result);
}

static void
run_on_exit(struct chiffon_child *child, int wstatus,
    const struct chiffon_rusage *usage, void *data)
{
	struct run_job	*job = data;
	const char	*status;
	int		 lint, lint_ok;
	char		*summary, *run_id, *err = NULL;
	const char	*id;
	int		 code;

	job->child = NULL;
	run_job_timers_off(job);
	run_job_extra_close(job);
	if (WIFEXITED(wstatus))
		code = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		code = 128 + WTERMSIG(wstatus);
	else
		code = -1;
	if (job->end_status != NULL)
		status = job->end_status;
	else
		status = code == 0 ? "successful" : "failed";
	summary = summary_json(job->summary, status, code,
	    now_s() - job->started);
	/* The host's text lives until run_finish: keep a copy. */
	id = infra_host->run_id(job->run);
	run_id = id != NULL ? xstrdup(id) : NULL;
	if (strcmp(status, "successful") == 0 && !job->check)
		run_job_idempotency(job, summary, run_id);
	infra_host->run_finish(job->run, status, code, summary, usage);
	job->run = NULL;
	job->status = xstrdup(status);
	job->result = run_job_result(job, summary, status);
	free(summary);

	/* Declared (infra.c): the host checked the value at start. */
	lint = 1;
	infra_host->config_bool(infra_plugin, "plugin.infra.lint_on_failure",
	    &lint);
	lint_ok = 0;
	infra_host->config_bool(infra_plugin, "plugin.infra.lint_on_success",
	    &lint_ok);
	/* After a success the cache (by content hash) makes it cheap. */
	if ((strcmp(status, "failed") == 0 && lint) ||
	    (strcmp(status, "successful") == 0 && !job->check && lint_ok)) {
		if (lint_start(job->repo, job->playbook,
		    infra_host->task_id(job->task), run_id, run_job_lint_done,
		    job, &err) == 0) {
			free(run_id);
			return;
		}
		infra_host->log(infra_plugin, CHIFFON_LOG_WARNING,
		    "lint after failed run: %s", err);
		free(err);
	}
	free(run_id);
	run_job_done(job, job->status, job->result);
}

/* Build the argv (strings owned by the returned array). */
static char **
run_job_argv(struct run_job *job)
{
	const char	*prog = run_config("ansible.playbook");
	const char	*inv;
	char		**argv = xcalloc(12, sizeof *argv), *v;
	size_t		 n = 0;

	argv[n++] = xstrdup(prog != NULL ? prog : "ansible-playbook");
	if ((inv = json_get_str(job->params, "inventory")) != NULL ||
	    (inv = run_config("ansible.inventory")) != NULL)
		argv[n++] = xasprintf("--inventory=%s", inv);
	else {
		/* The inventory the planner found (inventory_find). */
		struct inventory_source src;

		if (inventory_find(job->repo, NULL, &src) == 0 && src.pass)
			argv[n++] = xasprintf("--inventory=%s", src.path);
		inventory_source_free(&src);
	}
	if ((v = run_param_list(job->params, "limit")) != NULL) {
		argv[n++] = xasprintf("--limit=%s", v);
		free(v);
	}
	if ((v = run_param_list(job->params, "tags")) != NULL) {
		argv[n++] = xasprintf("--tags=%s", v);
		free(v);
	}
	if ((v = run_param_list(job->params, "skip_tags")) != NULL) {
		argv[n++] = xasprintf("--skip-tags=%s", v);
		free(v);
	}
	if (job->extra_file != NULL)
		argv[n++] = xasprintf("--extra-vars=@%s", job->extra_file);
	if (job->check) {
		argv[n++] = xstrdup("--check");
		argv[n++] = xstrdup("--diff");
	}
	/* A playbook named "-x" must not be read as an option. */
	argv[n++] = *job->playbook == '-' ? xasprintf("./%s", job->playbook) :
	    xstrdup(job->playbook);
	argv[n] = NULL;
	return argv;
}

static char *
run_job_meta(struct run_job *job, char **argv)
{
	json_object	*o = json_object_new_object(), *a;
	char		*text;
	size_t		 i;

	a = json_object_new_array();
	for (i = 0; argv[i] != NULL; i++)
		json_object_array_add(a, json_object_new_string(argv[i]));
	json_object_object_add(o, "playbook",
	    json_object_new_string(job->playbook));
	json_object_object_add(o, "repo", json_object_new_string(job->repo));
	json_object_object_add(o, "argv", a);
	json_object_object_add(o, "check", json_object_new_boolean(job->check));
	json_object_object_add(o, "timeout_s",
	    json_object_new_double(job->timeout_s));
	json_object_object_add(o, "inputs", json_tokener_parse(job->inputs));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

/* Start ansible-playbook for real (the version is known to be good). */
static void
run_job_start(struct run_job *job)
{
	static const struct chiffon_child_cbs cbs = {
		.on_line = run_on_line,
		.on_event_line = run_on_event,
		.on_exit = run_on_exit,
	};
	struct chiffon_spawn_opts	opts = { 0 };
	struct chiffon_user_data	ud = { job, NULL };
	char				**argv, **env, *meta, *cbdir, *err = NULL;
	char				 why[512];

	if (job->end_status != NULL) {
		run_job_fail(job, job->end_status, "ansible-playbook was "
		    "canceled before it started");
		return;
	}
	if ((cbdir = run_callback_dir()) == NULL) {
		run_job_fail(job, "failed", "ansible: chiffon_events.py not "
		    "found (looked in $CHIFFON_CALLBACK_DIR, "
		    CHIFFON_DATA_ROOT "/ansible/callback_plugins); "
		    "reinstall chiffon or set CHIFFON_CALLBACK_DIR");
		return;
	}
	if (run_job_extra_vars(job, &err) != 0) {
		free(cbdir);
		run_job_fail(job, "failed", err);
		free(err);
		return;
	}
	argv = run_job_argv(job);
	env = run_env(job->repo, cbdir, RUN_EVENT_FD);
	free(cbdir);
	meta = run_job_meta(job, argv);
	job->run = infra_host->run_begin(job->task, CHIFFON_RUN_KIND_PLAYBOOK,
	    meta);
	free(meta);
	if (job->run == NULL) {
		run_env_free(env);
		run_env_free(argv);
		run_job_fail(job, "failed", "ansible: the run could not be "
		    "recorded (database unavailable?)");
		return;
	}
	opts.argv = (const char *const *)argv;
	opts.env_add = (const char *const *)env;
	opts.cwd = job->repo;
	opts.use_pty = 1;
	opts.event_fd = RUN_EVENT_FD;
	job->started = now_s();
	job->child = infra_host->spawn_err(infra_plugin, &opts, &cbs, &ud,
	    why, sizeof why);
	if (job->child == NULL) {
		char *msg = xasprintf("ansible: %s", why);
		char *summary = summary_json(job->summary, "failed", -1, 0);
		infra_host->run_line(job->run, CHIFFON_STREAM_HOST, msg,
		    strlen(msg));
		infra_host->run_finish(job->run, "failed", -1, summary, NULL);
		job->run = NULL;
		free(summary);
		run_env_free(env);
		run_env_free(argv);
		run_job_fail(job, "failed", msg);
		free(msg);
		return;
	}
	run_env_free(env);
	run_env_free(argv);
	if (job->timeout_s > 0)
		job->timeout_timer = infra_host->add_timer(infra_plugin,
		    (uint64_t)(job->timeout_s * 1000), run_job_timeout, &ud);
}

/* --- the version check ------------------------------------------------- */

/*
 * The version check's cache: `ansible-playbook --version` starts all of
 * Ansible (half a second and more), so its first line is kept under the
 * data dir with the signature of the program it came from (real path,
 * inode, size, mtime and ctime: an upgrade replaces or rewrites the
 * script), and the next process reads it instead.  NULL without a data
 * dir.  Caller frees.
 */
static char *
run_version_cache_path(void)
{
	const char	*dir = infra_host->config_get(infra_plugin,
			    "core.data_dir");

	if (dir == NULL || *dir == '\0')
		return NULL;
	return path_join(dir, "ansible-version.json");
}

/* The signature of the program prog, or NULL.  Caller frees. */
static char *
run_version_sig(const char *prog)
{
	struct stat	 sb;
	char		*path, *real, *sig;

	if ((path = path_which(prog)) == NULL)
		return NULL;
	real = realpath(path, NULL);
	free(path);
	if (real == NULL)
		return NULL;
	if (stat(real, &sb) != 0) {
		free(real);
		return NULL;
	}
	sig = xasprintf("%s:%llu:%lld:%lld.%09ld:%lld.%09ld", real,
	    (unsigned long long)sb.st_ino, (long long)sb.st_size,
	    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
	    (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
	free(real);
	return sig;
}

/* Keep the first line of a `prog --version` that worked. */
static void
run_version_cache_save(const char *prog, const char *first)
{
	json_object	*o;
	const char	*text;
	char		*path, *sig;

	if ((path = run_version_cache_path()) == NULL)
		return;
	if ((sig = run_version_sig(prog)) == NULL) {
		free(path);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "signature", json_object_new_string(sig));
	json_object_object_add(o, "version", json_object_new_string(first));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	(void)write_file_atomic(path, text, strlen(text), 0600);
	json_object_put(o);
	free(sig);
	free(path);
}

/* The cached first line of `prog --version` if prog is unchanged. */
static char *
run_version_cache_load(const char *prog)
{
	json_object	*o, *v;
	char		*path, *text, *sig, *first = NULL;

	if ((path = run_version_cache_path()) == NULL)
		return NULL;
	text = read_file(path, NULL);
	free(path);
	if (text == NULL)
		return NULL;
	o = json_tokener_parse(text);
	free(text);
	sig = run_version_sig(prog);
	if (o != NULL && sig != NULL &&
	    json_object_object_get_ex(o, "signature", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), sig) == 0 &&
	    json_object_object_get_ex(o, "version", &v) &&
	    json_object_is_type(v, json_type_string))
		first = xstrdup(json_object_get_string(v));
	json_object_put(o);
	free(sig);
	return first;
}

/* prog is version major.minor (its --version said first): go or refuse. */
static void
run_version_known(struct run_job *job, const char *prog, const char *first,
    int major, int minor)
{
	free(run_state.version_prog);
	free(run_state.version_error);
	run_state.version_error = NULL;
	run_state.version_prog = xstrdup(prog);
	run_state.version_known = 1;
	run_state.major = major;
	run_state.minor = minor;
	if (major < RUN_MIN_MAJOR || (major == RUN_MIN_MAJOR &&
	    minor < RUN_MIN_MINOR))
		run_state.version_error = xasprintf("ansible: %s is version "
		    "%d.%d (\"%s\"); chiffon needs ansible-core %d.%d or "
		    "newer (apt-get install ansible-core)", prog, major,
		    minor, first, RUN_MIN_MAJOR, RUN_MIN_MINOR);
	if (run_state.version_error != NULL)
		run_job_fail(job, "failed", run_state.version_error);
	else
		run_job_start(job);
}

static void
run_version_line(struct chiffon_child *child, int stream, const char *line,
    size_t len, void *data)
{
	struct run_job	*job = data;

	if (job->version_out.len < 4096) {
		strbuf_add(&job->version_out, line, len);
		strbuf_addc(&job->version_out, '\n');
	}
}

static void
run_version_exit(struct chiffon_child *child, int wstatus,
    const struct chiffon_rusage *usage, void *data)
{
	struct run_job	*job = data;
	const char	*prog = run_config("ansible.playbook");
	char		*first, *nl;
	int		 major, minor;

	job->child = NULL;
	job->checking = 0;
	if (prog == NULL)
		prog = "ansible-playbook";
	first = xstrdup(job->version_out.len > 0 ? job->version_out.buf : "");
	if ((nl = strchr(first, '\n')) != NULL)
		*nl = '\0';
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 ||
	    run_parse_version(first, &major, &minor) != 0) {
		/* Not cached: the next run tries again. */
		char *msg = xasprintf("ansible: `%s --version` failed "
		    "(status %d): %s", prog, WIFEXITED(wstatus) ?
		    WEXITSTATUS(wstatus) : -1, *first != '\0' ? first :
		    "no output");
		free(first);
		run_job_fail(job, job->end_status != NULL ? job->end_status :
		    "failed", msg);
		free(msg);
		return;
	}
	run_version_cache_save(prog, first);
	run_version_known(job, prog, first, major, minor);
	free(first);
}

/* Check the version once, then start; or start at once when known. */
static void
run_job_check_version(struct run_job *job)
{
	static const struct chiffon_child_cbs cbs = {
		.on_line = run_version_line,
		.on_exit = run_version_exit,
	};
	const char			*prog = run_config("ansible.playbook");
	const char			*argv[3];
	struct chiffon_spawn_opts	 opts = { 0 };
	struct chiffon_user_data	 ud = { job, NULL };
	char				*msg, why[512], *first;
	int				 major, minor;

	if (prog == NULL)
		prog = "ansible-playbook";
	if (run_state.version_prog != NULL &&
	    strcmp(run_state.version_prog, prog) != 0) {
		/* ansible.playbook changed: check the new program. */
		free(run_state.version_prog);
		free(run_state.version_error);
		run_state.version_prog = run_state.version_error = NULL;
		run_state.version_known = 0;
	}
	if (run_state.version_error != NULL) {
		run_job_fail(job, "failed", run_state.version_error);
		return;
	}
	if (run_state.version_known) {
		run_job_start(job);
		return;
	}
	if ((first = run_version_cache_load(prog)) != NULL) {
		if (run_parse_version(first, &major, &minor) == 0) {
			run_version_known(job, prog, first, major, minor);
			free(first);
			return;
		}
		free(first);
	}
	argv[0] = prog;
	argv[1] = "--version";
	argv[2] = NULL;
	opts.argv = argv;
	opts.cwd = job->repo;
	job->checking = 1;
	job->child = infra_host->spawn_err(infra_plugin, &opts, &cbs, &ud,
	    why, sizeof why);
	if (job->child == NULL) {
		job->checking = 0;
		msg = xasprintf("ansible: %s; install ansible-core (apt-get "
		    "install ansible-core) or set ansible.playbook", why);
		run_job_fail(job, "failed", msg);
		free(msg);
	}
}

/* The "ansible" capability handler. */
static int
run_handler(struct chiffon_task *task, void *data)
{
	struct run_job	*job = xcalloc(1, sizeof *job);
	char		*err = NULL;

	job->task = task;
	job->summary = summary_new();
	LIST_INSERT_HEAD(&run_state.jobs, job, entry);
	if (run_job_params(job, &err) != 0) {
		run_job_fail(job, "failed", err);
		free(err);
		return -1;
	}
	job->inputs = run_job_inputs(job);
	infra_host->task_on_cancel(task, run_job_cancel, job);
	run_job_check_version(job);
	return 0;
}

int
infra_run_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, NULL };

	memset(&run_state, 0, sizeof run_state);
	run_vars_clean();
	if (host->register_capability(p, CHIFFON_CAP_ANSIBLE, run_handler,
	    &ud) != 0)
		return -1;
	return lint_init(p, host);
}

void
infra_run_end(void)
{
	/*
	 * The host kills our children and removes our timers after end()
	 * without calling on_exit; only our own memory is left to free.
	 */
	while (!LIST_EMPTY(&run_state.jobs))
		run_job_free(LIST_FIRST(&run_state.jobs));
	lint_end();
	free(run_state.version_error);
	free(run_state.version_prog);
	memset(&run_state, 0, sizeof run_state);
}
