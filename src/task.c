/*
 * task.c - host-side tasks handed to capability handlers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "task.h"
#include "util.h"

/*
 * One task.  refs counts the work reference (dropped by task_finish) and
 * any temporary references held around handler calls.
 */
struct chiffon_task {
	char		*id;		/* NULL: no tasks row */
	char		*capability;
	char		*params;	/* JSON object text */

	task_done_fn	 done;
	void		*done_data;
	task_cancel_fn	 cancel_cb;
	void		*cancel_data;
	void		*owner;		/* the plugin at work */

	int		 refs;
	int		 canceled;
	int		 finished;
	char		*status;	/* set by task_finish */
	char		*result;
};

static const char *const task_statuses[] = {
	"successful", "failed", "timeout", "canceled",
};

struct chiffon_task *
task_new(const char *id, const char *capability, const char *params_json,
    task_done_fn done, void *data)
{
	struct chiffon_task	*t = xcalloc(1, sizeof *t);

	t->id = id != NULL ? xstrdup(id) : NULL;
	t->capability = xstrdup(capability != NULL ? capability : "");
	t->params = xstrdup(params_json != NULL ? params_json : "{}");
	t->done = done;
	t->done_data = data;
	t->refs = 1;
	return t;
}

void
task_ref(struct chiffon_task *t)
{
	t->refs++;
}

void
task_unref(struct chiffon_task *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	free(t->id);
	free(t->capability);
	free(t->params);
	free(t->status);
	free(t->result);
	free(t);
}

const char *
task_id(const struct chiffon_task *t)
{
	return t->id;
}

const char *
task_capability(const struct chiffon_task *t)
{
	return t->capability;
}

const char *
task_params(const struct chiffon_task *t)
{
	return t->params;
}

void
task_set_owner(struct chiffon_task *t, void *owner)
{
	t->owner = owner;
}

void *
task_owner(const struct chiffon_task *t)
{
	return t->owner;
}

void
task_on_cancel(struct chiffon_task *t, task_cancel_fn cb, void *data)
{
	t->cancel_cb = cb;
	t->cancel_data = data;
}

int
task_cancel(struct chiffon_task *t)
{
	task_cancel_fn	 cb = t->cancel_cb;
	void		*data = t->cancel_data;

	if (t->finished)
		return -1;
	t->canceled = 1;
	if (cb == NULL)
		return 1;
	/* Once only: the hook may finish (and free) the task. */
	t->cancel_cb = NULL;
	t->cancel_data = NULL;
	cb(t, data);
	return 0;
}

int
task_canceled(const struct chiffon_task *t)
{
	return t->canceled;
}

int
task_status_valid(const char *status)
{
	size_t	i;

	if (status == NULL)
		return 0;
	for (i = 0; i < nitems(task_statuses); i++) {
		if (strcmp(status, task_statuses[i]) == 0)
			return 1;
	}
	return 0;
}

int
task_finish(struct chiffon_task *t, const char *status,
    const char *result_json)
{
	if (t->finished)
		return -1;
	t->finished = 1;
	t->status = xstrdup(task_status_valid(status) ? status : "failed");
	t->result = xstrdup(result_json != NULL ? result_json : "{}");
	t->cancel_cb = NULL;
	if (t->done != NULL)
		t->done(t, t->status, t->result, t->done_data);
	task_unref(t);
	return 0;
}

int
task_finished(const struct chiffon_task *t)
{
	return t->finished;
}

const char *
task_status(const struct chiffon_task *t)
{
	return t->status;
}

const char *
task_result(const struct chiffon_task *t)
{
	return t->result;
}
