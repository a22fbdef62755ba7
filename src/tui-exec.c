/*
 * tui-exec.c - an approved plan executing on the shell's own loop.
 *
 * This is what approve_execute (approve.h) does for `chiffon run` and
 * `chiffon approve --wait`, taken apart into loop callbacks so that the
 * screen keeps answering keys while a playbook runs: the process's own
 * worker (worker.h) claims the plan's queued tasks and runs them through
 * the "ansible" capability; host_on_run subscribes the log pane to the
 * output of every run of one of the plan's tasks; a timer looks at the
 * plan's tasks every TUI_EXEC_POLL_MS, and at once when the worker
 * finished one of them, and reports each change of state to the plan
 * pane (tui_plan_step), with the changed count of a finished
 * step from its run summary (approve_task_summary).  The plan's tasks
 * were queued for this shell's agent (dispatch_set_owner): no other
 * worker claims them, and this worker claims nothing else
 * (worker_set_owned_only).  Once every task ended the worker stops.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "audit.h"
#include "approve.h"
#include "db.h"
#include "dispatch.h"
#include "host.h"
#include "loop.h"
#include "output.h"
#include "runlog.h"
#include "spawn.h"
#include "task.h"
#include "tui.h"
#include "util.h"
#include "worker.h"

/* How often the plan's tasks are looked at while it executes. */
#define TUI_EXEC_POLL_MS	250

static const char tui_exec_sql_progress[] =
	"SELECT id, status, coalesce(status_reason, '') FROM tasks "
	"WHERE plan_id = $1 ORDER BY step";
static const char tui_exec_sql_cancel[] =
	"UPDATE tasks SET status = 'canceled', status_reason = $2 "
	"WHERE plan_id = $1 AND status IN ('approved', 'queued', 'paused')";

/* One task of the plan as last seen. */
struct tui_exec_task {
	long long	 id;
	char		*status;
	char		*reason;	/* its status_reason ("" for none) */
};

/* The execution of one approved plan. */
struct tui_exec {
	struct tui		*t;
	long long		 plan_row;
	long long		 plan_id;	/* what the admin sees */
	struct worker		*worker;	/* NULL once stopped */
	int			 poll_id;	/* poll timer, or 0 */
	int			 poke_id;	/* look now (a task ended), or 0 */
	struct tui_exec_task	*tasks;
	size_t			 ntasks;
	int			 done;		/* every task ended */
};


/* An output line of one of the plan's runs: into the log pane. */
static void
tui_exec_line(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	struct tui_exec	*x = data;
	char		*s;

	(void)rl;
	(void)stream;
	s = output_plain(line, len);
	tui_log_output(x->t, s);
	/* A prompt: the playbook waits for the admin's answer. */
	if (spawn_prompt_waiting())
		tui_prompt(x->t, s);
	free(s);
}

/* A plugin began a run: follow it when it is one of the plan's tasks. */
static void
tui_exec_on_run(struct runlog *rl, struct chiffon_task *task, void *data)
{
	struct tui_exec	*x = data;
	const char	*id = task_id(task);
	long long	 n;
	size_t		 i;

	if (id == NULL)
		return;
	n = strtoll(id, NULL, 10);
	for (i = 0; i < x->ntasks; i++) {
		if (x->tasks[i].id == n) {
			runlog_subscribe(rl, tui_exec_line, x);
			return;
		}
	}
}

/* Stop the worker and stop following runs. */
static void
tui_exec_stop_worker(struct tui_exec *x)
{
	host_on_run(NULL, NULL);
	if (x->worker != NULL) {
		worker_stop(x->worker);
		worker_free(x->worker);
		x->worker = NULL;
	}
}

/* Look at the plan's tasks; report changes.  0, or -1 with *errp. */
static int
tui_exec_progress(struct tui_exec *x, char **errp)
{
	struct db	*db = app_db(x->t->app, errp);
	PGresult	*res;
	PGconn		*pg;
	const char	*params[1];
	char		 row[32], *summary;
	long long	 changed, failed;
	int		 i, n, open = 0;

	if (db == NULL)
		return -1;
	pg = db_pg(db);
	snprintf(row, sizeof row, "%lld", x->plan_row);
	params[0] = row;
	if ((res = dispatch_query(pg, tui_exec_sql_progress, 1, params,
	    errp)) == NULL)
		return -1;
	n = PQntuples(res);
	if (x->tasks == NULL) {
		x->tasks = xcalloc((size_t)n + 1, sizeof *x->tasks);
		x->ntasks = (size_t)n;
		for (i = 0; i < n; i++)
			x->tasks[i].id = strtoll(PQgetvalue(res, i, 0), NULL,
			    10);
	}
	for (i = 0; i < n && (size_t)i < x->ntasks; i++) {
		struct tui_exec_task	*et = &x->tasks[i];
		const char		*st = PQgetvalue(res, i, 1);
		const char		*why = PQgetvalue(res, i, 2);

		if (!dispatch_task_final(st))
			open++;
		if (et->status != NULL && strcmp(et->status, st) == 0 &&
		    et->reason != NULL && strcmp(et->reason, why) == 0)
			continue;
		free(et->status);
		free(et->reason);
		et->status = xstrdup(st);
		et->reason = xstrdup(why);
		changed = -1;
		if (dispatch_task_final(st)) {
			summary = approve_task_summary(pg, et->id);
			if (summary != NULL)
				approve_count(summary, &changed, &failed);
			free(summary);
		}
		tui_plan_step(x->t, x->plan_row, (size_t)i, st, why,
		    changed);
	}
	PQclear(res);
	if (open == 0 && (x->worker == NULL || worker_running(x->worker) == 0))
		x->done = 1;
	return 0;
}

/* Stop looking at the tasks. */
static void
tui_exec_unpoll(struct tui_exec *x)
{
	if (x->poll_id > 0)
		loop_remove(x->t->loop, x->poll_id);
	if (x->poke_id > 0)
		loop_remove(x->t->loop, x->poke_id);
	x->poll_id = x->poke_id = 0;
}

static int
tui_exec_poll(void *data)
{
	struct tui_exec	*x = data;
	char		*err = NULL, *msg;

	/* request_plan runs its own statements on the connection. */
	if (x->t->planning)
		return 0;
	if (tui_exec_progress(x, &err) != 0) {
		msg = xasprintf("plan %lld: cannot read its tasks' "
		    "states: %s", x->plan_id, err);
		tui_log_line(x->t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
		free(err);
		return 0;
	}
	if (!x->done)
		return 0;
	x->poll_id = 0;
	tui_exec_stop_worker(x);
	tui_plan_step(x->t, x->plan_row, (size_t)-1, NULL, NULL, -1);
	return 1;
}

/* A task of the worker ended: look at the tasks now, not at the poll. */
static int
tui_exec_poke(void *data)
{
	struct tui_exec	*x = data;
	int		 id = x->poll_id;

	x->poke_id = 0;
	if (id > 0 && tui_exec_poll(x) != 0)
		loop_remove(x->t->loop, id);
	return 1;
}

static void
tui_exec_finished(struct worker *w, long long task_id, int attempt,
    const char *status, void *data)
{
	struct tui_exec	*x = data;

	(void)w;
	(void)task_id;
	(void)attempt;
	(void)status;
	/* Not from inside the worker: the poll may stop and free it. */
	if (x->poke_id == 0)
		x->poke_id = loop_add_timer(x->t->loop, 1, tui_exec_poke, x,
		    NULL, NULL);
}

struct tui_exec *
tui_exec_start(struct tui *t, long long plan_row, long long plan_id,
    char **errp)
{
	struct tui_exec	*x;

	x = xcalloc(1, sizeof *x);
	x->t = t;
	x->plan_row = plan_row;
	x->plan_id = plan_id;
	if (tui_exec_progress(x, errp) != 0) {
		free(x->tasks);
		free(x);
		return NULL;
	}
	/* Without a worker the tasks stay queued for another one. */
	x->done = 1;
	if ((x->worker = worker_new(t->app, NULL, errp)) == NULL) {
		tui_exec_free(x, NULL);
		return NULL;
	}
	/* The shell runs what it approved, never another's plan. */
	worker_set_owned_only(x->worker, 1);
	worker_on_finish(x->worker, tui_exec_finished, x);
	host_on_run(tui_exec_on_run, x);
	if (worker_start(x->worker, errp) != 0) {
		tui_exec_free(x, NULL);
		return NULL;
	}
	x->done = 0;
	x->poll_id = loop_add_timer(t->loop, TUI_EXEC_POLL_MS, tui_exec_poll,
	    x, NULL, NULL);
	return x;
}

int
tui_exec_running_step(const struct tui_exec *x, long long *task_idp)
{
	size_t	i;

	for (i = 0; x != NULL && !x->done && i < x->ntasks; i++) {
		if (x->tasks[i].status != NULL &&
		    strcmp(x->tasks[i].status, "running") == 0) {
			*task_idp = x->tasks[i].id;
			return (int)i;
		}
	}
	return -1;
}

int
tui_exec_cancel_task(struct tui_exec *x, long long task_id, char **errp)
{
	struct chiffon_task	*task;
	struct audit_ids	 ids = { 0 };
	struct json_object	*o;
	struct db		*db;
	char			 id[32];
	long long		 rc;

	snprintf(id, sizeof id, "%lld", task_id);
	if ((task = host_task_find(id)) == NULL)
		return set_error(errp, "task %lld is not running in this "
		    "shell", task_id);
	/* Who canceled it and when: the audit row before the stop. */
	if ((db = app_db(x->t->app, errp)) == NULL)
		return -1;
	ids.plan_id = x->plan_row;
	ids.task_id = task_id;
	o = json_object_new_object();
	json_object_object_add(o, "by", json_object_new_string(audit_actor()));
	json_object_object_add(o, "from", json_object_new_string("shell"));
	rc = audit_record(db_pg(db), "task.cancel", NULL, &ids, NULL,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), errp);
	json_object_put(o);
	if (rc < 0)
		return -1;
	return host_cancel(task) == 0 ? 0 : set_error(errp, "task %lld "
	    "cannot be canceled", task_id);
}

long long
tui_exec_plan(const struct tui_exec *x)
{
	return x->plan_row;
}

long long
tui_exec_plan_id(const struct tui_exec *x)
{
	return x->plan_id;
}

int
tui_exec_done(const struct tui_exec *x)
{
	return x->done;
}

char *
tui_exec_status(const struct tui_exec *x)
{
	size_t		 i, nok = 0, nend = 0;
	const char	*st;

	for (i = 0; i < x->ntasks; i++) {
		st = x->tasks[i].status != NULL ? x->tasks[i].status : "?";
		if (strcmp(st, "succeeded") == 0)
			nok++;
		if (dispatch_task_final(st))
			nend++;
		else if (!x->done && strcmp(st, "running") == 0)
			return xasprintf("plan %lld: step %zu/%zu running",
			    x->plan_id, i + 1, x->ntasks);
	}
	if (!x->done)
		return xasprintf("plan %lld: %zu/%zu steps ended",
		    x->plan_id, nend, x->ntasks);
	if (nok == x->ntasks)
		return xasprintf("plan %lld: all %zu steps succeeded",
		    x->plan_id, x->ntasks);
	return xasprintf("plan %lld: %zu of %zu steps did not succeed",
	    x->plan_id, x->ntasks - nok, x->ntasks);
}

/* Let the runs being stopped end through the loop, at most ms. */
static void
tui_exec_wait_runs(struct tui_exec *x, uint64_t ms)
{
	uint64_t	until = now_ms() + ms;

	while (host_ntasks() > 0 && now_ms() < until)
		loop_run_once(x->t->loop, 100);
}

/* Free what is left once the worker stopped. */
static void
tui_exec_release(struct tui_exec *x)
{
	size_t	i;

	tui_exec_stop_worker(x);
	/* A task that ended while stopping may have asked for a look. */
	tui_exec_unpoll(x);
	for (i = 0; i < x->ntasks; i++) {
		free(x->tasks[i].status);
		free(x->tasks[i].reason);
	}
	free(x->tasks);
	free(x);
}

void
tui_exec_free(struct tui_exec *x, const char *why)
{
	struct db	*db;
	PGresult	*res;
	const char	*params[2];
	char		 row[32], *err = NULL;

	if (x == NULL)
		return;
	tui_exec_unpoll(x);
	if (!x->done) {
		/* Stop ours, then cancel what of the plan is left. */
		if (x->worker != NULL)
			worker_stop(x->worker);
		db = app_db(x->t->app, NULL);
		snprintf(row, sizeof row, "%lld", x->plan_row);
		params[0] = row;
		params[1] = why;
		res = db != NULL ? dispatch_query(db_pg(db),
		    tui_exec_sql_cancel, 2, params, &err) : NULL;
		PQclear(res);
		free(err);
		/* The canceled runs end through the loop: wait for them. */
		tui_exec_wait_runs(x, HOST_CANCEL_GRACE_MS);
	}
	tui_exec_release(x);
}

int
tui_exec_interrupt(struct tui_exec *x, const char *why)
{
	struct db	*db;
	char		*err = NULL, *msg;
	int		 n = 0;

	if (x == NULL)
		return 0;
	tui_exec_unpoll(x);
	if (!x->done) {
		/* The states first: nothing of the plan runs again by itself. */
		db = app_db(x->t->app, &err);
		if (db == NULL || dispatch_interrupt_plan(db_pg(db),
		    x->plan_row, why, &n, &err) != 0) {
			msg = xasprintf("plan %lld: marking it interrupted "
			    "failed: %s", x->plan_id, err);
			tui_log_line(x->t, CHIFFON_LOG_ERROR, NULL, msg);
			free(msg);
			free(err);
		}
		host_interrupt();
		if (x->worker != NULL)
			worker_interrupt(x->worker);
		/* SIGINT, SIGTERM, SIGKILL: the last one comes in time. */
		tui_exec_wait_runs(x, HOST_CANCEL_GRACE_MS + 2000);
	}
	tui_exec_release(x);
	return n;
}
