/*
 * host.c - struct chiffon_host: what plugins may do, implemented on top of
 * the log, the configuration, the loop, spawn, the run recorder and the
 * database; and in-process invocation of capabilities.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <json-c/json.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "gittrail.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"
#include "runlog.h"
#include "spawn.h"
#include "task.h"
#include "util.h"

/*
 * One invocation in flight: the caller's completion callback, kept apart
 * from the task so that host_invoke_sync can detach itself.
 */
struct host_job {
	struct chiffon_task	*task;
	host_done_fn		 done;
	void			*data;
	TAILQ_ENTRY(host_job)	 entry;
};

/* A run opened by a plugin (struct chiffon_run of the ABI). */
struct chiffon_run {
	struct runlog		*rl;
	struct chiffon_plugin	*owner;
	TAILQ_ENTRY(chiffon_run) entry;
};

/* The host's state: a top-level singleton set by host_init. */
static struct host_state {
	struct app			*app;
	int				 ready;
	TAILQ_HEAD(, host_job)		 jobs;
	TAILQ_HEAD(, chiffon_run)	 runs;
	host_run_fn			 run_hook;
	void				*run_hook_data;
	int				 interrupted;	/* host_interrupt */
} host_state;

static void
host_lists_init(void)
{
	if (!host_state.ready) {
		TAILQ_INIT(&host_state.jobs);
		TAILQ_INIT(&host_state.runs);
		host_state.ready = 1;
	}
}

void
host_init(struct app *app)
{
	host_lists_init();
	host_state.app = app;
	if (app == NULL) {
		host_state.run_hook = NULL;
		host_state.run_hook_data = NULL;
	}
}

static const char *
host_who(struct chiffon_plugin *p)
{
	return p != NULL ? plugins_name(p) : "plugin";
}

static struct loop *
host_loop(void)
{
	if (host_state.app == NULL)
		return NULL;
	return app_loop(host_state.app);
}

/* {"error": "..."} for a formatted message.  Caller frees. */
static char *host_error_json(const char *, ...)
    __attribute__((format(printf, 1, 2)));
static char *
host_error_json(const char *fmt, ...)
{
	struct json_object	*obj;
	va_list			 ap;
	char			*msg, *out;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	obj = json_object_new_object();
	json_object_object_add(obj, "error", json_object_new_string(msg));
	out = xstrdup(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	free(msg);
	return out;
}

/* -- log, configuration -------------------------------------------------- */

static void host_log(struct chiffon_plugin *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void
host_log(struct chiffon_plugin *p, int level, const char *fmt, ...)
{
	va_list	ap;

	if (level < CHIFFON_LOG_ERROR)
		level = CHIFFON_LOG_ERROR;
	if (level > CHIFFON_LOG_DEBUG)
		level = CHIFFON_LOG_DEBUG;
	va_start(ap, fmt);
	log_vmsg(level, host_who(p), fmt, ap);
	va_end(ap);
}

static const char *
host_config_get(struct chiffon_plugin *p, const char *key)
{
	if (host_state.app == NULL || host_state.app->conf == NULL ||
	    key == NULL)
		return NULL;
	return conf_get(host_state.app->conf, key);
}

static int
host_config_duration(struct chiffon_plugin *p, const char *key, double *out)
{
	const char	*v = host_config_get(p, key);
	double		 d;

	if (v == NULL)
		return 1;
	if (conf_parse_duration(v, &d) != 0)
		return -1;
	*out = d;
	return 0;
}

static int
host_config_bool(struct chiffon_plugin *p, const char *key, int *out)
{
	const char	*v = host_config_get(p, key);
	int		 b;

	if (v == NULL)
		return 1;
	if (conf_parse_bool(v, &b) != 0)
		return -1;
	*out = b;
	return 0;
}

static int
host_config_int(struct chiffon_plugin *p, const char *key, long long *out)
{
	const char	*v = host_config_get(p, key);
	char		*end;
	long long	 n;

	if (v == NULL)
		return 1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

static int
host_config_size(struct chiffon_plugin *p, const char *key, uint64_t *out)
{
	const char	*v = host_config_get(p, key);
	uint64_t	 n;

	if (v == NULL)
		return 1;
	if (conf_parse_size(v, &n) != 0)
		return -1;
	*out = n;
	return 0;
}

/* -- capabilities, loop ---------------------------------------------------- */

static int
host_register_capability(struct chiffon_plugin *p, const char *name,
    chiffon_capability_fn handler, const struct chiffon_user_data *ud)
{
	char	*err = NULL;

	if (plugins_register_capability(p, name, handler, ud, &err) != 0) {
		/* During init() the error becomes the plugin's refusal. */
		log_msg(plugins_loading(p) ? CHIFFON_LOG_DEBUG :
		    CHIFFON_LOG_ERROR, host_who(p), "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

static int
host_watch_fd(struct chiffon_plugin *p, int fd, int events, chiffon_fd_cb cb,
    const struct chiffon_user_data *ud)
{
	struct loop	*loop = host_loop();

	if (loop == NULL || fd < 0 || cb == NULL)
		return -1;
	return loop_watch_fd(loop, fd, events, cb, ud ? ud->data : NULL,
	    ud ? ud->free_func : NULL, p);
}

static int
host_add_timer(struct chiffon_plugin *p, uint64_t interval_ms,
    chiffon_timer_cb cb, const struct chiffon_user_data *ud)
{
	struct loop	*loop = host_loop();

	if (loop == NULL || cb == NULL)
		return -1;
	return loop_add_timer(loop, interval_ms, cb, ud ? ud->data : NULL,
	    ud ? ud->free_func : NULL, p);
}

static void
host_remove(struct chiffon_plugin *p, int id)
{
	struct loop	*loop = host_loop();

	if (loop != NULL && id > 0)
		loop_remove(loop, id);
}

/* -- children -------------------------------------------------------------- */

static struct chiffon_child *
host_spawn_err(struct chiffon_plugin *p, const struct chiffon_spawn_opts *opts,
    const struct chiffon_child_cbs *cbs, const struct chiffon_user_data *ud,
    char *errbuf, size_t errlen)
{
	struct loop		*loop = host_loop();
	struct chiffon_child	*c;
	char			*err = NULL;

	if (errlen > 0)
		*errbuf = '\0';
	if (loop == NULL) {
		if (errlen > 0)
			snprintf(errbuf, errlen, "cannot start a child: the "
			    "host has no event loop");
		return NULL;
	}
	c = spawn_start(loop, opts, cbs, ud ? ud->data : NULL,
	    ud ? ud->free_func : NULL, p, &err);
	if (c == NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", err != NULL ? err :
		    "cannot start a child");
	free(err);
	return c;
}

static struct chiffon_child *
host_spawn(struct chiffon_plugin *p, const struct chiffon_spawn_opts *opts,
    const struct chiffon_child_cbs *cbs, const struct chiffon_user_data *ud)
{
	struct chiffon_child	*c;
	char			 err[1024];

	if ((c = host_spawn_err(p, opts, cbs, ud, err, sizeof err)) == NULL)
		log_msg(CHIFFON_LOG_ERROR, host_who(p), "%s", err);
	return c;
}

static int
host_child_signal(struct chiffon_child *c, int sig)
{
	return c != NULL ? spawn_signal(c, sig) : -1;
}

static pid_t
host_child_pid(struct chiffon_child *c)
{
	return c != NULL ? spawn_pid(c) : -1;
}

/* -- tasks ----------------------------------------------------------------- */

static const char *
host_task_id(struct chiffon_task *t)
{
	return task_id(t);
}

static const char *
host_task_params(struct chiffon_task *t)
{
	return task_params(t);
}

static void
host_task_finish(struct chiffon_task *t, const char *status,
    const char *result_json)
{
	struct chiffon_plugin	*p = task_owner(t);
	struct json_object	*obj;
	char			*fixed = NULL;

	if (task_finished(t)) {
		log_msg(CHIFFON_LOG_WARNING, host_who(p), "task for '%s' "
		    "finished twice; the second result is ignored",
		    task_capability(t));
		return;
	}
	if (!task_status_valid(status)) {
		log_msg(CHIFFON_LOG_WARNING, host_who(p), "task for '%s' "
		    "finished with unknown status '%s'; recorded as failed",
		    task_capability(t), status != NULL ? status : "(null)");
	}
	if (result_json != NULL) {
		obj = json_tokener_parse(result_json);
		if (obj == NULL) {
			log_msg(CHIFFON_LOG_WARNING, host_who(p), "task for "
			    "'%s' finished with a result that is not JSON",
			    task_capability(t));
			fixed = host_error_json("the plugin returned a "
			    "result that is not JSON");
			status = "failed";
			result_json = fixed;
		}
		json_object_put(obj);
	}
	task_finish(t, status, result_json);
	free(fixed);
}

static void
host_task_on_cancel(struct chiffon_task *t,
    void (*cb)(struct chiffon_task *, void *), void *data)
{
	task_on_cancel(t, cb, data);
}

/* -- runs ------------------------------------------------------------------ */

/* The claim a task's parameters name (dispatch.c): runs.agent etc. */
static void
host_run_claim(struct runlog *rl, struct chiffon_task *t)
{
	struct json_object	*o, *v;
	const char		*agent = NULL;
	long long		 token = 0;
	int			 attempt = 0;
	char			*err = NULL;

	if (task_params(t) == NULL ||
	    (o = json_tokener_parse(task_params(t))) == NULL)
		return;
	if (json_object_object_get_ex(o, "agent", &v))
		agent = json_object_get_string(v);
	if (json_object_object_get_ex(o, "attempt", &v))
		attempt = json_object_get_int(v);
	if (json_object_object_get_ex(o, "claim_token", &v))
		token = json_object_get_int64(v);
	if ((agent != NULL || attempt > 0) &&
	    runlog_set_claim(rl, agent, attempt, token, &err) != 0) {
		log_msg(CHIFFON_LOG_WARNING, "host", "%s", err);
		free(err);
	}
	json_object_put(o);
}

static struct chiffon_run *
host_run_begin(struct chiffon_task *t, const char *kind, const char *meta)
{
	struct chiffon_plugin	*p = task_owner(t);
	struct chiffon_run	*run;
	struct runlog		*rl;
	struct db		*db;
	char			*err = NULL;

	if (host_state.app == NULL) {
		log_msg(CHIFFON_LOG_ERROR, host_who(p), "cannot record a run: "
		    "the host is not initialised");
		return NULL;
	}
	db = app_db(host_state.app, &err);
	if (db == NULL) {
		log_msg(CHIFFON_LOG_ERROR, host_who(p), "cannot record a run: "
		    "%s", err);
		free(err);
		return NULL;
	}
	rl = runlog_begin(db, host_loop(), task_id(t),
	    kind != NULL ? kind : "run", meta, &err);
	if (rl == NULL) {
		log_msg(CHIFFON_LOG_ERROR, host_who(p), "cannot record a run: "
		    "%s", err);
		free(err);
		return NULL;
	}
	host_run_claim(rl, t);
	gittrail_warm();	/* the task's commit comes after the run */
	run = xcalloc(1, sizeof *run);
	run->rl = rl;
	run->owner = p;
	TAILQ_INSERT_TAIL(&host_state.runs, run, entry);
	if (host_state.run_hook != NULL)
		host_state.run_hook(rl, t, host_state.run_hook_data);
	return run;
}

static const char *
host_run_id(struct chiffon_run *run)
{
	return run != NULL ? runlog_id(run->rl) : NULL;
}

static int
host_run_line(struct chiffon_run *run, int stream, const char *line,
    size_t len)
{
	if (run == NULL || line == NULL)
		return -1;
	return runlog_line(run->rl, stream, line, len);
}

static int
host_run_event(struct chiffon_run *run, const char *json, size_t len)
{
	if (run == NULL || json == NULL)
		return -1;
	return runlog_event(run->rl, json, len);
}

static int
host_run_finish(struct chiffon_run *run, const char *status, int exit_code,
    const char *summary_json, const struct chiffon_rusage *usage)
{
	char	*err = NULL;
	int	 rc;

	if (run == NULL)
		return -1;
	TAILQ_REMOVE(&host_state.runs, run, entry);
	/* Stopped because the process goes away: not a cancel by anyone. */
	if (host_state.interrupted && status != NULL &&
	    strcmp(status, "canceled") == 0)
		status = "interrupted";
	rc = runlog_finish(run->rl, status, exit_code, summary_json, usage,
	    &err);
	if (rc != 0) {
		log_msg(CHIFFON_LOG_ERROR, host_who(run->owner), "run not "
		    "completely recorded: %s", err);
		free(err);
	}
	free(run);
	return rc;
}

void
host_interrupt(void)
{
	host_state.interrupted = 1;
}

void
host_on_run(host_run_fn fn, void *data)
{
	host_state.run_hook = fn;
	host_state.run_hook_data = data;
}

/* -- database -------------------------------------------------------------- */

static int
host_db_fail(struct chiffon_plugin *p, chiffon_db_cb cb, void *data,
    const char *msg)
{
	if (cb != NULL)
		cb(NULL, msg, data);
	else
		log_msg(CHIFFON_LOG_ERROR, host_who(p), "query failed: %s",
		    msg);
	return -1;
}

static int
host_db_query(struct chiffon_plugin *p, const char *sql, int nparams,
    const char *const *params, chiffon_db_cb cb, void *data)
{
	struct chiffon_db_result	 r = { 0 };
	struct db			*db;
	PGresult			*res;
	ExecStatusType			 st;
	char				*err = NULL, *msg;
	int				 i, j, rc;

	if (sql == NULL || nparams < 0 || (nparams > 0 && params == NULL))
		return host_db_fail(p, cb, data, "bad db_query arguments");
	if (host_state.app == NULL)
		return host_db_fail(p, cb, data, "the host is not initialised");
	if ((db = app_db(host_state.app, &err)) == NULL ||
	    db_ensure(db, &err) != 0) {
		rc = host_db_fail(p, cb, data, err);
		free(err);
		return rc;
	}
	res = PQexecParams(db_pg(db), sql, nparams, NULL, params, NULL, NULL,
	    0);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		msg = db_result_error(db_pg(db), res);
		PQclear(res);
		rc = host_db_fail(p, cb, data, msg);
		free(msg);
		return rc;
	}
	r.nrows = PQntuples(res);
	r.ncols = PQnfields(res);
	r.names = xcalloc((size_t)r.ncols + 1, sizeof *r.names);
	r.values = xcalloc((size_t)r.nrows * (size_t)r.ncols + 1,
	    sizeof *r.values);
	for (j = 0; j < r.ncols; j++)
		r.names[j] = PQfname(res, j);
	for (i = 0; i < r.nrows; i++) {
		for (j = 0; j < r.ncols; j++) {
			r.values[(size_t)i * (size_t)r.ncols + (size_t)j] =
			    PQgetisnull(res, i, j) ? NULL :
			    PQgetvalue(res, i, j);
		}
	}
	if (cb != NULL)
		cb(&r, NULL, data);
	free(r.names);
	free(r.values);
	PQclear(res);
	return 0;
}

/* -- the API struct -------------------------------------------------------- */

static const struct chiffon_host host_api_struct = {
	.abi_major = CHIFFON_PLUGIN_ABI_MAJOR,
	.abi_minor = CHIFFON_PLUGIN_ABI_MINOR,
	.size = sizeof(struct chiffon_host),
	.log = host_log,
	.config_get = host_config_get,
	.register_capability = host_register_capability,
	.watch_fd = host_watch_fd,
	.add_timer = host_add_timer,
	.remove = host_remove,
	.spawn = host_spawn,
	.child_signal = host_child_signal,
	.child_pid = host_child_pid,
	.task_id = host_task_id,
	.task_params = host_task_params,
	.run_begin = host_run_begin,
	.run_line = host_run_line,
	.run_event = host_run_event,
	.run_finish = host_run_finish,
	.task_finish = host_task_finish,
	.task_on_cancel = host_task_on_cancel,
	.db_query = host_db_query,
	.config_duration = host_config_duration,
	.config_bool = host_config_bool,
	.config_int = host_config_int,
	.config_size = host_config_size,
	.run_id = host_run_id,
	.spawn_err = host_spawn_err,
};

const struct chiffon_host *
host_api(void)
{
	return &host_api_struct;
}

/* -- invocation ------------------------------------------------------------ */

static void
host_job_done(struct chiffon_task *t, const char *status,
    const char *result_json, void *data)
{
	struct host_job	*job = data;

	TAILQ_REMOVE(&host_state.jobs, job, entry);
	if (job->done != NULL)
		job->done(status, result_json, job->data);
	free(job);
}

int
host_invoke_task(struct app *app, const char *id, const char *capability,
    const char *params_json, host_done_fn done, void *data,
    struct chiffon_task **taskp, char **errp)
{
	const struct plugins_capability	*cap;
	struct plugins			*ps;
	struct json_object		*obj;
	struct chiffon_task		*t;
	struct host_job			*job;
	int				 is_object, rc;
	char				*msg;

	if (taskp != NULL)
		*taskp = NULL;
	host_lists_init();
	if (host_state.app == NULL)
		host_init(app);
	if (capability == NULL)
		return set_error(errp, "no capability named");
	ps = app_plugins(app);
	if (ps == NULL || (cap = plugins_capability(ps, capability)) == NULL)
		return set_error(errp, "no loaded plugin provides the "
		    "capability '%s' (`chiffon plugins` lists what loaded "
		    "and what was refused)", capability);
	if (params_json == NULL)
		params_json = "{}";
	obj = json_tokener_parse(params_json);
	is_object = obj != NULL && json_object_is_type(obj, json_type_object);
	json_object_put(obj);
	if (!is_object)
		return set_error(errp, "parameters for '%s' are not a JSON "
		    "object: %.200s", capability, params_json);

	job = xcalloc(1, sizeof *job);
	job->done = done;
	job->data = data;
	t = task_new(id, capability, params_json, host_job_done, job);
	job->task = t;
	task_set_owner(t, cap->plugin);
	TAILQ_INSERT_TAIL(&host_state.jobs, job, entry);

	task_ref(t);
	rc = cap->handler(t, cap->ud.data);
	if (!task_finished(t)) {
		if (rc != 0) {
			msg = host_error_json("the handler of '%s' failed "
			    "without a result", capability);
			task_finish(t, "failed", msg);
			free(msg);
		} else if (taskp != NULL)
			*taskp = t;
	}
	task_unref(t);
	return 0;
}

int
host_invoke(struct app *app, const char *capability, const char *params_json,
    host_done_fn done, void *data, char **errp)
{
	return host_invoke_task(app, NULL, capability, params_json, done,
	    data, NULL, errp);
}

/* What host_invoke_sync waits for. */
struct host_sync {
	int	 done;
	char	*status;
	char	*result;
};

static void
host_sync_done(const char *status, const char *result_json, void *data)
{
	struct host_sync	*s = data;

	s->done = 1;
	s->status = xstrdup(status);
	s->result = xstrdup(result_json);
}

static struct host_job *
host_job_of(struct chiffon_task *t)
{
	struct host_job	*job;

	TAILQ_FOREACH(job, &host_state.jobs, entry) {
		if (job->task == t)
			return job;
	}
	return NULL;
}

int
host_invoke_sync(struct app *app, const char *capability,
    const char *params_json, int timeout_ms, char **statusp,
    char **resultp, char **errp)
{
	struct host_sync	 s = { 0 };
	struct chiffon_task	*t;
	struct host_job		*job;
	struct loop		*loop;
	uint64_t		 deadline = 0, now;
	int			 canceled = 0, wait;

	*statusp = *resultp = NULL;
	if (host_invoke_task(app, NULL, capability, params_json,
	    host_sync_done, &s, &t, errp) != 0)
		return -1;
	loop = app_loop(app);
	if (timeout_ms > 0)
		deadline = now_ms() + (uint64_t)timeout_ms;
	while (!s.done) {
		wait = -1;
		if (deadline != 0) {
			now = now_ms();
			if (now >= deadline) {
				if (canceled)
					break;
				canceled = 1;
				deadline = now + HOST_CANCEL_GRACE_MS;
				host_cancel(t);
				continue;
			}
			wait = (int)(deadline - now);
		}
		if (loop == NULL || loop_run_once(loop, wait) == -1) {
			if (loop == NULL || errno != EINTR)
				break;
		}
	}
	if (!s.done) {
		/* Detach: the task may still finish later, into nothing. */
		if ((job = host_job_of(t)) != NULL)
			job->done = NULL;
		return set_error(errp, "'%s' did not finish%s", capability,
		    canceled ? " within the time allowed, nor after being "
		    "canceled" : " (the event loop failed)");
	}
	*statusp = s.status;
	*resultp = s.result;
	return 0;
}

int
host_cancel(struct chiffon_task *t)
{
	if (t == NULL)
		return -1;
	return task_cancel(t);
}

struct chiffon_task *
host_task_find(const char *id)
{
	struct host_job	*job;
	const char	*tid;

	host_lists_init();
	if (id == NULL)
		return NULL;
	TAILQ_FOREACH(job, &host_state.jobs, entry) {
		tid = task_id(job->task);
		if (tid != NULL && strcmp(tid, id) == 0)
			return job->task;
	}
	return NULL;
}

unsigned
host_ntasks(void)
{
	struct host_job	*job;
	unsigned	 n = 0;

	host_lists_init();
	TAILQ_FOREACH(job, &host_state.jobs, entry)
		n++;
	return n;
}

void
host_plugin_gone(struct chiffon_plugin *p)
{
	struct host_job		*job;
	struct chiffon_run	*run, *rnext;
	char			*msg, *err = NULL;

	host_lists_init();
	msg = host_error_json("plugin '%s' was unloaded before the task "
	    "finished", host_who(p));
	/* Restart each time: a done callback may change the list. */
	do {
		TAILQ_FOREACH(job, &host_state.jobs, entry) {
			if (task_owner(job->task) == p)
				break;
		}
		if (job != NULL)
			task_finish(job->task, "failed", msg);
	} while (job != NULL);
	free(msg);
	for (run = TAILQ_FIRST(&host_state.runs); run != NULL; run = rnext) {
		rnext = TAILQ_NEXT(run, entry);
		if (run->owner != p)
			continue;
		TAILQ_REMOVE(&host_state.runs, run, entry);
		if (runlog_finish(run->rl, "canceled", -1, "{\"error\":"
		    "\"plugin unloaded before the run finished\"}", NULL,
		    &err) != 0) {
			log_msg(CHIFFON_LOG_ERROR, host_who(p), "run not "
			    "completely recorded: %s", err);
			free(err);
			err = NULL;
		}
		free(run);
	}
}
