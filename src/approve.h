/*
 * approve.h - the approval gate: nothing runs without an approvals row.
 *
 * approve_plan writes who approved (the OS user), from where (the SSH
 * client address from SSH_CONNECTION) and which plan version, moves the
 * plan and its tasks pending_approval -> approved in the same
 * transaction, then hands the tasks to the work queue (dispatch.h).
 * approve_reject records the reason and rejects the plan and its tasks.
 * approve_modify makes a new version from amended text; the old one stays
 * as superseded.  approve_dry_run runs every step's playbook in check
 * mode with diffs through the "ansible" capability, before approval.
 *
 * The database enforces the gate on its own (triggers on approvals,
 * plans and tasks): approving a superseded version, queueing a task that
 * was not approved or changing a finished task is refused whatever the
 * client does.  chiffon's runtime role may not write approvals at all:
 * an approval is made only by chiffon_approve (schema 005), which also
 * writes its audit row and records the content hashes of approve-hash.h
 * that a worker checks before it runs a task.  These functions only make
 * the legal path easy.
 */
#ifndef CHIFFON_APPROVE_H
#define CHIFFON_APPROVE_H

#include <stddef.h>

#include <libpq-fe.h>

#include "approve-hash.h"
#include "runlog.h"
#include "tiers.h"

struct app;
struct conf;
struct plan;
struct request_job;

/*
 * Who decides: the OS user and the SSH client (NULL when local), and
 * where the playbooks whose content the approval hashes are read.
 */
struct approve_who {
	const char		*user;
	const char		*ssh_client;
	struct approve_scope	 scope;
};

/*
 * The current OS user and SSH client (audit_user, audit_ssh_client), with
 * the scope configured in conf (may be NULL: no repository).
 */
struct approve_who approve_who_current(const struct conf *);

/*
 * Approve plans row plan_row and queue its tasks.  *nqueuedp (may be
 * NULL) gets the number queued.  Returns the approvals row id, or -1
 * with *errp (the database's reason when it refused).
 */
long long	 approve_plan(PGconn *, long long plan_row,
		    const struct approve_who *, int *nqueuedp, char **errp);
/* Reject with a reason (required).  The approvals row id, or -1. */
long long	 approve_reject(PGconn *, long long plan_row,
		    const struct approve_who *, const char *reason,
		    char **errp);

/*
 * A new version of plans row plan_row from amended text (the request as
 * it should now read), understood and planned like a new request and
 * linked to the same request.  A runnable result is stored as the next
 * version and the old one becomes superseded ("plan.modified"); one with
 * questions is returned unstored (row_id 0) and nothing changes.  NULL
 * with *errp when the plan cannot be modified or the environment fails
 * (*envp set non-zero for the latter).
 */
struct plan	*approve_modify(struct app *, long long plan_row,
		    const char *amended, tiers_ask_fn, void *ask_data,
		    int *envp, char **errp);

/*
 * approve_modify without the wait: a request job (request.h) whose end
 * calls done with the plan (caller frees; row_id 0 when it leaves
 * questions) or NULL with err (caller frees) and env non-zero when the
 * environment failed.  NULL with *errp and *envp when the plan cannot be
 * modified at all (done never runs).
 */
typedef void	(*approve_modify_fn)(struct plan *, int env, char *err,
		    void *data);
struct request_job *approve_modify_start(struct app *, long long plan_row,
		    const char *amended, tiers_ask_fn, void *ask_data,
		    approve_modify_fn done, void *data, char **errp,
		    int *envp);

/* One step's dry run. */
struct approve_dry {
	int		 step;
	long long	 task_id;
	char		*status;	/* "successful", "failed", ... */
	char		*result;	/* the capability's result JSON */
	long long	 changed;	/* sum of the hosts' changed counts */
	long long	 failed;	/* failed + unreachable */
};

/*
 * Run every step of plan (stored, pending approval) in check mode with
 * diffs, one after the other, with each run's output lines passed to
 * line (may be NULL) as they come.  *dryp gets plan->ntasks results
 * (free with approve_dry_free).  Returns the number of steps whose check
 * run did not succeed, or -1 with *errp (no "ansible" capability, ...).
 */
int		 approve_dry_run(struct app *, const struct plan *,
		    runlog_sub_fn line, void *line_data,
		    struct approve_dry **dryp, char **errp);
void		 approve_dry_free(struct approve_dry *, size_t n);

/*
 * approve_dry_run without the wait, on the loop: done gets the number of
 * steps whose check run did not succeed and the results (caller frees
 * them with approve_dry_free), or -1, NULL and err (caller frees).  plan
 * must live until done ran or the job was canceled; done runs from the
 * loop, never inside approve_dry_start.
 */
struct approve_dry_job;
typedef void	(*approve_dry_fn)(int nbad, struct approve_dry *,
		    char *err, void *data);
struct approve_dry_job *approve_dry_start(struct app *, const struct plan *,
		    runlog_sub_fn line, void *line_data, approve_dry_fn done,
		    void *data);
/*
 * Stop a dry run: done never runs, the check run in flight is canceled
 * (and the job freed once it has ended).
 */
void		 approve_dry_cancel(struct approve_dry_job *);

/* A step changed state while the plan executes. */
typedef void	(*approve_step_fn)(const struct plan *, size_t index,
		    const char *status, const char *reason, void *data);

/*
 * Execute an approved (queued) plan with this process's own worker
 * (worker.h) and wait until every one of its tasks reached a final
 * state; another worker (`chiffon worker`, an agent) may run some of
 * them, which is waited for the same way.  Output lines of this
 * process's runs of the plan go to line (may be NULL) as they come;
 * step (may be NULL) hears every change of a task's status.  SIGINT or
 * SIGTERM stops the worker and cancels what has not finished.  Returns
 * the number of tasks that did not succeed, or -1 with *errp.
 */
int		 approve_execute(struct app *, struct plan *,
		    runlog_sub_fn line, void *line_data, approve_step_fn step,
		    void *step_data, char **errp);

/*
 * The summary JSON of the last real (not check-mode) run of a task, or
 * NULL.  Caller frees.
 */
char		*approve_task_summary(PGconn *, long long task_id);

/* Sum of "changed" (and failed+unreachable) over a run summary's hosts. */
void		 approve_count(const char *summary_json, long long *changedp,
		    long long *failedp);

#endif
