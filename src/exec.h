/*
 * exec.h - the one plan executor: an approved (queued) plan executing on
 * the app's loop.
 *
 * This process's own worker (worker.h) claims the plan's queued tasks
 * and runs them through their capabilities; another worker (`chiffon
 * worker`, an agent) may run some of them unless owned_only, which is
 * waited for the same way.  host_on_run subscribes ops->line to the
 * output of every run of one of the plan's tasks; a timer looks at the
 * plan's tasks every EXEC_POLL_MS and reports each change of a task's
 * state or status_reason (ops->step), with the changed count of a
 * finished step from its run summary.  Once every task ended the worker
 * stops and ops->done runs.  Nothing here waits: `chiffon run` and
 * `chiffon approve --wait` wait on it (approve_execute), the shell does
 * not (tui-exec.c).
 */
#ifndef CHIFFON_EXEC_H
#define CHIFFON_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "runlog.h"

struct app;
struct exec;

/* How often the plan's tasks are looked at while it executes. */
#define EXEC_POLL_MS	250

/* What an executor tells its owner; every member may be NULL. */
struct exec_ops {
	/* An output line of one of the plan's runs, as it comes. */
	runlog_sub_fn	 line;
	/*
	 * Task index (in step order), id task_id, changed state or reason
	 * ("" for none); changed is its run's changed count once the state
	 * is final, else -1.
	 */
	void		(*step)(struct exec *, size_t index, long long task_id,
			    const char *status, const char *reason,
			    long long changed, void *data);
	/*
	 * Every task ended and the worker stopped: nbad tasks did not
	 * succeed.  Or the database refused to say how the tasks are:
	 * nbad -1 and err (the callee frees).  Runs once, from the loop.
	 */
	void		(*done)(struct exec *, int nbad, char *err,
			    void *data);
};

/*
 * Start executing plans row plan_row (its tasks queued).  owned_only:
 * the worker claims only tasks queued for this process's agent name
 * (dispatch_set_owner), and nothing else.  NULL with *errp.
 */
struct exec	*exec_start(struct app *, long long plan_row, int owned_only,
		    const struct exec_ops *, void *data, char **errp);

/* Look at the tasks now (reports changes).  0, or -1 with *errp. */
int		 exec_poll(struct exec *, char **errp);

/* Every task ended (done ran or is about to). */
int		 exec_done(const struct exec *);
/* The plan's tasks as last seen, in step order. */
size_t		 exec_ntasks(const struct exec *);
long long	 exec_task_id(const struct exec *, size_t i);
const char	*exec_task_status(const struct exec *, size_t i);
/* The first task running (index), its id in *task_idp; or -1. */
int		 exec_running_step(const struct exec *, long long *task_idp);
/* Tasks that succeeded, and tasks in a final state. */
void		 exec_count(const struct exec *, size_t *okp, size_t *endp);

/*
 * Stop: the worker stops its runs, and what of the plan has not
 * finished is canceled with reason why.  done does not run.  The runs
 * being stopped end through the loop (exec_drain).
 */
void		 exec_cancel(struct exec *, const char *why);
/*
 * The process goes away (a signal): the plan's unfinished tasks become
 * interrupted (dispatch_interrupt_plan) and its runs are stopped.
 * Returns the number of tasks interrupted, or -1 with *errp (the runs
 * are stopped all the same).
 */
int		 exec_interrupt(struct exec *, const char *why, char **errp);
void		 exec_free(struct exec *);

/*
 * Let runs being stopped end through the loop, at most ms.  For a
 * process on its way out (after its main loop), never inside a key
 * handler.
 */
void		 exec_drain(struct app *, uint64_t ms);

#endif
