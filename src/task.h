/*
 * task.h - the host side of struct chiffon_task: one piece of work the
 * host hands to a capability handler.
 *
 * A task carries an id (the tasks.id of its database row, or NULL for an
 * in-process request such as the catalog), the capability name, its
 * parameters as JSON object text, a completion callback and the cancel
 * hook the handler may set.  It is reference counted: task_new returns
 * one reference, the "work" reference, which task_finish drops after the
 * completion callback ran; whoever calls into the handler holds a second
 * one (task_ref/task_unref) so that a handler finishing synchronously does
 * not free the task under its caller.
 */
#ifndef CHIFFON_TASK_H
#define CHIFFON_TASK_H

#include "chiffon/plugin.h"

/* Completion: status is "successful", "failed", "timeout" or "canceled". */
typedef void	(*task_done_fn)(struct chiffon_task *, const char *status,
		    const char *result_json, void *data);
typedef void	(*task_cancel_fn)(struct chiffon_task *, void *data);

/*
 * New task; id may be NULL, params_json NULL means "{}".  All strings are
 * copied.  done (may be NULL) is called once, from task_finish.
 */
struct chiffon_task	*task_new(const char *id, const char *capability,
			    const char *params_json, task_done_fn done,
			    void *data);
void			 task_ref(struct chiffon_task *);
void			 task_unref(struct chiffon_task *);

const char	*task_id(const struct chiffon_task *);
const char	*task_capability(const struct chiffon_task *);
const char	*task_params(const struct chiffon_task *);
/* The plugin carrying the task out (opaque to task.c). */
void		 task_set_owner(struct chiffon_task *, void *owner);
void		*task_owner(const struct chiffon_task *);

/* The handler's cancel hook (replaces an earlier one; cb NULL clears). */
void		 task_on_cancel(struct chiffon_task *, task_cancel_fn,
		    void *data);
/*
 * Ask the handler to stop: marks the task canceled and calls the hook once.
 * Returns 0 if the hook was called, 1 if the handler set none (the task
 * then finishes when its work does), -1 if the task already finished.
 */
int		 task_cancel(struct chiffon_task *);
int		 task_canceled(const struct chiffon_task *);

/*
 * Finish: normalises status (anything but the four known values becomes
 * "failed"), stores status and result (NULL means "{}"), calls the
 * completion callback, then drops the work reference.  Returns -1 without
 * doing anything when the task already finished.
 */
int		 task_finish(struct chiffon_task *, const char *status,
		    const char *result_json);
int		 task_finished(const struct chiffon_task *);
/* After task_finish: the stored status and result, else NULL. */
const char	*task_status(const struct chiffon_task *);
const char	*task_result(const struct chiffon_task *);
/* Non-zero if status is one of the four known task statuses. */
int		 task_status_valid(const char *status);

#endif
