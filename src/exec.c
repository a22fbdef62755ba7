/*
 * exec.c - the one plan executor (see exec.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "app.h"
#include "approve.h"
#include "db.h"
#include "dispatch.h"
#include "exec.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "task.h"
#include "util.h"
#include "worker.h"

static const char exec_sql_progress[] =
	"SELECT id, status, coalesce(status_reason, '') FROM tasks "
	"WHERE plan_id = $1 ORDER BY step";
static const char exec_sql_cancel[] =
	"UPDATE tasks SET status = 'canceled', status_reason = $2 "
	"WHERE plan_id = $1 AND status IN ('approved', 'queued', 'paused')";

/* One task of the plan as last seen. */
struct exec_task {
	long long	 id;
	char		*status;
	char		*reason;	/* its status_reason ("" for none) */
};

/* The execution of one approved plan. */
struct exec {
	struct app		*app;
	struct loop		*loop;
	long long		 plan_row;
	const struct exec_ops	*ops;
	void			*data;
	struct worker		*worker;	/* NULL once stopped */
	int			 poll_id;	/* poll timer, or 0 */
	int			 poke_id;	/* look now (a task ended), or 0 */
	struct exec_task	*tasks;
	size_t			 ntasks;
	int			 done;		/* every task ended */
};

/* A plugin began a run: follow it when it is one of the plan's tasks. */
static void
exec_on_run(struct runlog *rl, struct chiffon_task *task, void *data)
{
	struct exec	*x = data;
	const char	*id = task_id(task);
	long long	 n;
	size_t		 i;

	if (id == NULL || x->ops->line == NULL)
		return;
	n = strtoll(id, NULL, 10);
	for (i = 0; i < x->ntasks; i++) {
		if (x->tasks[i].id == n) {
			runlog_subscribe(rl, x->ops->line, x->data);
			return;
		}
	}
}

/* Stop the worker and stop following runs. */
static void
exec_stop_worker(struct exec *x)
{
	host_on_run(NULL, NULL);
	if (x->worker != NULL) {
		worker_stop(x->worker);
		worker_free(x->worker);
		x->worker = NULL;
	}
}

/*
 * Look at the tasks; with report, tell ops->step what changed.  0, or -1
 * with *errp.
 */
static int
exec_look(struct exec *x, int report, char **errp)
{
	struct db	*db = app_db(x->app, errp);
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
	if ((res = db_exec(pg, exec_sql_progress, 1, params,
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
		struct exec_task	*et = &x->tasks[i];
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
		if (report && x->ops->step != NULL)
			x->ops->step(x, (size_t)i, et->id, st, why, changed,
			    x->data);
	}
	PQclear(res);
	if (open == 0 && (x->worker == NULL || worker_running(x->worker) == 0))
		x->done = 1;
	return 0;
}

int
exec_poll(struct exec *x, char **errp)
{
	return exec_look(x, 1, errp);
}

/* The number of tasks that did not succeed. */
static int
exec_nbad(const struct exec *x)
{
	size_t	ok, end;

	exec_count(x, &ok, &end);
	return (int)(x->ntasks - ok);
}

static int
exec_timer(void *data)
{
	struct exec	*x = data;
	struct db	*db;
	char		*err = NULL;

	if ((db = app_db(x->app, NULL)) == NULL ||
	    PQstatus(db_pg(db)) != CONNECTION_OK)
		return 0;	/* the loop reconnects: wait for it */
	if (exec_poll(x, &err) != 0) {
		if (PQstatus(db_pg(db)) != CONNECTION_OK) {
			/* Lost while asking: wait for the reconnection. */
			log_warn("%s; waiting for the database", err);
			free(err);
			return 0;
		}
		/* Answered, and refused: give up. */
		x->poll_id = 0;
		exec_stop_worker(x);
		if (x->ops->done != NULL)
			x->ops->done(x, -1, err, x->data);
		else
			free(err);
		return 1;
	}
	if (!x->done)
		return 0;
	x->poll_id = 0;
	exec_stop_worker(x);
	if (x->ops->done != NULL)
		x->ops->done(x, exec_nbad(x), NULL, x->data);
	return 1;
}

/* A task of the worker ended: look at the tasks now, not at the poll. */
static int
exec_poke(void *data)
{
	struct exec	*x = data;
	struct loop	*loop = x->loop;
	int		 id = x->poll_id;

	x->poke_id = 0;
	/* exec_timer may end the execution (and its owner free x). */
	if (id > 0 && exec_timer(x) != 0)
		loop_remove(loop, id);
	return 1;
}

static void
exec_finished(struct worker *w, long long task_id, int attempt,
    const char *status, void *data)
{
	struct exec	*x = data;

	(void)w;
	(void)task_id;
	(void)attempt;
	(void)status;
	/* Not from inside the worker: the poll may stop and free it. */
	if (x->poke_id == 0 && x->poll_id > 0)
		x->poke_id = loop_add_timer(x->loop, 1, exec_poke, x, NULL,
		    NULL);
}

struct exec *
exec_start(struct app *app, long long plan_row, int owned_only,
    const struct exec_ops *ops, void *data, char **errp)
{
	struct exec	*x;
	struct db	*db;

	if ((db = app_db(app, errp)) == NULL)
		return NULL;
	x = xcalloc(1, sizeof *x);
	x->app = app;
	x->loop = app_loop(app);
	x->plan_row = plan_row;
	x->ops = ops;
	x->data = data;
	/* The loop reconnects: the run rides out a database restart. */
	db_attach_loop(db, x->loop);
	/* The tasks as approved (queued): what changes from here is told. */
	if (exec_look(x, 0, errp) != 0) {
		exec_free(x);
		return NULL;
	}
	/* Without a worker the tasks stay queued for another one. */
	x->done = 1;
	if ((x->worker = worker_new(app, NULL, errp)) == NULL) {
		exec_free(x);
		return NULL;
	}
	/* The shell runs what it approved, never another's plan. */
	worker_set_owned_only(x->worker, owned_only);
	worker_on_finish(x->worker, exec_finished, x);
	host_on_run(exec_on_run, x);
	if (worker_start(x->worker, errp) != 0) {
		exec_free(x);
		return NULL;
	}
	x->done = 0;
	x->poll_id = loop_add_timer(x->loop, EXEC_POLL_MS, exec_timer, x,
	    NULL, NULL);
	return x;
}

int
exec_done(const struct exec *x)
{
	return x->done;
}

size_t
exec_ntasks(const struct exec *x)
{
	return x->ntasks;
}

long long
exec_task_id(const struct exec *x, size_t i)
{
	return i < x->ntasks ? x->tasks[i].id : -1;
}

const char *
exec_task_status(const struct exec *x, size_t i)
{
	return i < x->ntasks ? x->tasks[i].status : NULL;
}

int
exec_running_step(const struct exec *x, long long *task_idp)
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

void
exec_count(const struct exec *x, size_t *okp, size_t *endp)
{
	const char	*st;
	size_t		 i;

	*okp = *endp = 0;
	for (i = 0; i < x->ntasks; i++) {
		st = x->tasks[i].status != NULL ? x->tasks[i].status : "?";
		if (strcmp(st, "succeeded") == 0)
			(*okp)++;
		if (dispatch_task_final(st))
			(*endp)++;
	}
}

/* No more polling: the owner decides from here. */
static void
exec_halt(struct exec *x)
{
	if (x->poll_id > 0)
		loop_remove(x->loop, x->poll_id);
	if (x->poke_id > 0)
		loop_remove(x->loop, x->poke_id);
	x->poll_id = x->poke_id = 0;
}

void
exec_cancel(struct exec *x, const char *why)
{
	struct db	*db;
	PGresult	*res;
	const char	*params[2];
	char		 row[32], *err = NULL;

	exec_halt(x);
	if (x->done)
		return;
	/* Stop ours, then cancel what of the plan is left. */
	if (x->worker != NULL)
		worker_stop(x->worker);
	db = app_db(x->app, NULL);
	snprintf(row, sizeof row, "%lld", x->plan_row);
	params[0] = row;
	params[1] = why;
	res = db != NULL ? db_exec(db_pg(db), exec_sql_cancel, 2,
	    params, &err) : NULL;
	PQclear(res);
	free(err);
}

int
exec_interrupt(struct exec *x, const char *why, char **errp)
{
	struct db	*db;
	int		 n = 0, rc = 0;

	exec_halt(x);
	if (x->done)
		return 0;
	/* The states first: nothing of the plan runs again by itself. */
	if ((db = app_db(x->app, errp)) == NULL ||
	    dispatch_interrupt_plan(db_pg(db), x->plan_row, why, &n,
	    errp) != 0)
		rc = -1;
	host_interrupt();
	if (x->worker != NULL)
		worker_interrupt(x->worker);
	return rc == 0 ? n : -1;
}

void
exec_free(struct exec *x)
{
	size_t	i;

	if (x == NULL)
		return;
	exec_halt(x);
	exec_stop_worker(x);
	for (i = 0; i < x->ntasks; i++) {
		free(x->tasks[i].status);
		free(x->tasks[i].reason);
	}
	free(x->tasks);
	free(x);
}

void
exec_drain(struct app *app, uint64_t ms)
{
	uint64_t	until = now_ms() + ms;

	while (host_ntasks() > 0 && now_ms() < until)
		loop_run_once(app_loop(app), 100);
}
