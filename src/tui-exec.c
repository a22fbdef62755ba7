/*
 * tui-exec.c - an approved plan executing on the shell's own loop.
 *
 * The executor is the one of `chiffon run` and `chiffon approve --wait`
 * (exec.h); this file only connects it to the screen: output lines go to
 * the log pane, every change of a step's state to the plan pane
 * (tui_plan_step).  The plan's tasks were queued for this shell's agent
 * (dispatch_set_owner): no other worker claims them, and this worker
 * claims nothing else (owned_only).
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
#include "db.h"
#include "exec.h"
#include "host.h"
#include "output.h"
#include "runlog.h"
#include "spawn.h"
#include "task.h"
#include "tui.h"
#include "util.h"

/* The execution of one approved plan, as the shell sees it. */
struct tui_exec {
	struct tui	*t;
	long long	 plan_row;
	long long	 plan_id;	/* what the admin sees */
	struct exec	*x;
	int		 done;		/* every task ended */
};

/* An output line of one of the plan's runs: into the log pane. */
static void
tui_exec_line(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	struct tui_exec	*x = data;
	char		*s;

	(void)stream;
	s = output_plain(line, len);
	tui_log_output(x->t, strtoll(runlog_id(rl), NULL, 10),
	    runlog_next_seq(rl), s);
	/* A prompt: the playbook waits for the admin's answer. */
	if (spawn_prompt_waiting())
		tui_prompt(x->t, s);
	free(s);
}

static void
tui_exec_step(struct exec *e, size_t index, long long task_id,
    const char *status, const char *reason, long long changed, void *data)
{
	struct tui_exec	*x = data;

	(void)e;
	(void)task_id;
	tui_plan_step(x->t, x->plan_row, index, status, reason, changed);
}

static void
tui_exec_done_cb(struct exec *e, int nbad, char *err, void *data)
{
	struct tui_exec	*x = data;
	char		*msg;

	(void)e;
	x->done = 1;
	if (nbad < 0) {
		msg = xasprintf("plan %lld: cannot read its tasks' states: %s",
		    x->plan_id, err);
		tui_log_line(x->t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
		free(err);
	}
	tui_plan_step(x->t, x->plan_row, (size_t)-1, NULL, NULL, -1);
}

static const struct exec_ops tui_exec_ops = {
	.line = tui_exec_line,
	.step = tui_exec_step,
	.done = tui_exec_done_cb,
};

struct tui_exec *
tui_exec_start(struct tui *t, long long plan_row, long long plan_id,
    char **errp)
{
	struct tui_exec	*x;

	x = xcalloc(1, sizeof *x);
	x->t = t;
	x->plan_row = plan_row;
	x->plan_id = plan_id;
	if ((x->x = exec_start(t->app, plan_row, 1, &tui_exec_ops, x,
	    errp)) == NULL) {
		free(x);
		return NULL;
	}
	return x;
}

int
tui_exec_running_step(const struct tui_exec *x, long long *task_idp)
{
	return x != NULL && !x->done ? exec_running_step(x->x, task_idp) : -1;
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
	size_t		 i, nok, nend, n = exec_ntasks(x->x);
	const char	*st;

	exec_count(x->x, &nok, &nend);
	for (i = 0; !x->done && i < n; i++) {
		st = exec_task_status(x->x, i);
		if (st != NULL && strcmp(st, "running") == 0)
			return xasprintf("plan %lld: step %zu/%zu running",
			    x->plan_id, i + 1, n);
	}
	/* Once every step has ended the bar says how, as the Plan pane
	 * does in the same frame, while the summary is still recorded. */
	if (!x->done && nend < n)
		return xasprintf("plan %lld: %zu/%zu steps ended",
		    x->plan_id, nend, n);
	if (nok == n)
		return xasprintf("plan %lld: all %zu steps succeeded",
		    x->plan_id, n);
	return xasprintf("plan %lld: %zu of %zu steps did not succeed",
	    x->plan_id, n - nok, n);
}

void
tui_exec_free(struct tui_exec *x, const char *why)
{
	if (x == NULL)
		return;
	if (!x->done) {
		exec_cancel(x->x, why);
		/* The canceled runs end through the loop: the shell is
		 * on its way out (tui_plan_end) or the plan had ended. */
		exec_drain(x->t->app, HOST_CANCEL_GRACE_MS);
	}
	exec_free(x->x);
	free(x);
}

int
tui_exec_interrupt(struct tui_exec *x, const char *why)
{
	char	*err = NULL, *msg;
	int	 n = 0;

	if (x == NULL)
		return 0;
	if (!x->done) {
		if ((n = exec_interrupt(x->x, why, &err)) < 0) {
			msg = xasprintf("plan %lld: marking it interrupted "
			    "failed: %s", x->plan_id, err);
			tui_log_line(x->t, CHIFFON_LOG_ERROR, NULL, msg);
			free(msg);
			free(err);
			n = 0;
		}
		/* SIGINT, SIGTERM, SIGKILL: the last one comes in time. */
		exec_drain(x->t->app, HOST_CANCEL_GRACE_MS + 2000);
	}
	exec_free(x->x);
	free(x);
	return n;
}
