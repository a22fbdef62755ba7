/*
 * dispatch.h - approved tasks through the work queue: queueing, claiming
 * (FOR UPDATE SKIP LOCKED), finishing, retries, lease expiry, and pause
 * and resume.  These are the database halves of the worker (worker.c);
 * every function runs its own transaction on the connection it is given
 * and never blocks on anything but that connection.
 *
 * Dependencies: every approved task of a plan is queued at once; the
 * claim skips a task while any task named in its depends_on has not
 * succeeded, and a task that ends in any other final state cancels the
 * tasks that depend on it (transitively).
 *
 * Retries: a finish whose status is "timeout", or "failed" with every
 * failure an unreachable host (or the result saying "retryable": true)
 * puts the task back in the queue (running -> queued) until
 * work_queue.max_attempts (3) attempts were made, each later by
 * dispatch.retry_backoff doubled per attempt.  A playbook's own failure
 * is final.  A lease that expired (the worker was lost) makes the task
 * 'interrupted' (final), and closes its open runs as interrupted; only a
 * retry-safe step (check mode: it changes nothing) is queued again.
 *
 * Fencing: every claim gets a new work_queue.claim_token; renewals,
 * finish and release name it, so once a claim was taken over (lease
 * expiry) the old holder's writes change nothing.  The worker stops its
 * own run when it could not renew for dispatch.lease minus the kill
 * grace and a renewal period (worker.c), before anyone may take it.
 *
 * A task whose run is 'incomplete' (output not completely stored,
 * runlog.h) becomes 'incomplete' with its final status pending;
 * dispatch_complete moves it on once the run is complete.
 *
 * Resources: a queued task whose tasks.resources ({"gpu_mem_mb": 4096,
 * "cpu": 2, ...}) no online agent with its capability can provide is
 * paused with a status_reason starting "waiting for resources:"; it goes
 * back to queued by itself once an agent can.  An agent provides a
 * numeric resource K when its resource_metrics hold K (the total) and
 * K_free (free now; K when absent) with K_free >= the need and K_free at
 * least min_capacity_percent of K; a non-numeric need only requires the
 * key.
 */
#ifndef CHIFFON_DISPATCH_H
#define CHIFFON_DISPATCH_H

#include <stddef.h>

#include <libpq-fe.h>

#include "approve-hash.h"

/* How one worker (agent) takes part; strings belong to the caller. */
struct dispatch_params {
	const char		 *agent;	/* agents.name */
	const char *const	 *caps;		/* capabilities it can run */
	size_t			  ncaps;
	double			  lease_s;	/* dispatch.lease */
	double			  backoff_s;	/* dispatch.retry_backoff */
	double			  agent_timeout_s; /* dispatch.agent_timeout */
	double			  grace_s;	/* routing: claim anyway after */
	int			  min_capacity_percent;
	const char		 *audit_repo;	/* audit.repo, or NULL */
	struct approve_scope	  scope;	/* what approvals hash */
	int			  report_only;	/* a one-shot report (agent
						   --once): the agents row
						   names no process, so it is
						   offline by silence only */
	int			  owned_only;	/* claim only tasks queued
						   for this agent */
};

/* A claimed task (dispatch_claim fills it; dispatch_claim_free). */
struct dispatch_claim {
	long long	 task_id;
	long long	 plan_id;
	long long	 request_id;
	int		 attempt;	/* 1 for the first */
	long long	 token;		/* work_queue.claim_token (fencing) */
	int		 max_attempts;
	char		*capability;
	char		*service;	/* may be NULL */
	char		*params_json;	/* for the capability handler */
};

/* What became of a finished attempt. */
enum dispatch_outcome {
	DISPATCH_FINISHED,	/* the task reached a final state */
	DISPATCH_REQUEUED,	/* retryable: back in the queue */
	DISPATCH_LOST,		/* the claim was no longer ours: ignored */
};

/* A PostgreSQL text[] literal of n strings.  Caller frees. */
char		*dispatch_text_array(const char *const *, size_t n);

/*
 * The task states (tasks.status, schema/001 and 002), in the order the
 * state machine is documented, and whether one is final (nothing moves
 * a task out of it; mirrors chiffon_task_terminal() in the schema).
 */
extern const char *const dispatch_task_states[];
extern const size_t dispatch_ntask_states;
int		 dispatch_task_final(const char *status);

/*
 * After approval: every approved task of plan row plan_row_id goes
 * approved -> queued with a work_queue row (NOTIFY chiffon_work), one
 * "task.dispatched" audit row each.  *nqueuedp (may be NULL) is how many.
 * 0, or -1 with *errp (nothing changed).
 */
int		 dispatch_enqueue(PGconn *, long long plan_row_id,
		    int *nqueuedp, char **errp);

/*
 * Ownership: tasks queued while the session setting chiffon.owner_agent
 * names an agent (schema/003, work_queue.owner_agent) are claimed by
 * that agent only.  dispatch_set_owner sets it on pg for the approvals
 * that follow (NULL: none).  0, or -1 with *errp.
 */
int		 dispatch_set_owner(PGconn *, const char *agent, char **errp);
/* Let any worker claim plan row plan_row_id's tasks.  0, or -1. */
int		 dispatch_disown(PGconn *, long long plan_row_id, char **errp);

/*
 * Claim the best task this agent may run now (see route.h for the rule;
 * a task owned by the agent is taken without it, one owned by another
 * never, and with dp->owned_only nothing but owned tasks):
 * 1 with *c filled (task running, lease held, routing decision and audit
 * rows written), 0 when there is none, -1 with *errp.
 */
int		 dispatch_claim(PGconn *, const struct dispatch_params *,
		    struct dispatch_claim *c, char **errp);
void		 dispatch_claim_free(struct dispatch_claim *);

/*
 * Record the end of a claimed attempt: status as from the capability
 * ("successful", "failed", "timeout", "canceled"), result_json the
 * handler's result.  Sets *outcomep and *final_statusp (tasks.status
 * when finished, else NULL; static storage).  0, or -1 with *errp.
 */
int		 dispatch_finish(PGconn *, const struct dispatch_params *,
		    const struct dispatch_claim *, const char *status,
		    const char *result_json, enum dispatch_outcome *outcomep,
		    const char **final_statusp, char **errp);

/*
 * Give a claimed task back without counting the attempt (the worker is
 * stopping): running -> queued.  0, or -1 with *errp.
 */
int		 dispatch_release(PGconn *, const struct dispatch_params *,
		    const struct dispatch_claim *, const char *why,
		    char **errp);

/*
 * Renew the leases of the n tasks this agent runs.  *keptp (caller
 * frees, may be NULL when none) receives the ids still ours and running;
 * any other was lost (paused, canceled, or recovered by another worker)
 * and must be stopped.  Returns the number kept, or -1 with *errp.
 */
int		 dispatch_renew(PGconn *, const struct dispatch_params *,
		    const long long *ids, const long long *tokens, size_t n,
		    long long **keptp, char **errp);

/*
 * A task left 'incomplete' whose runs are all complete now takes its
 * pending final status (dependents, plan, audit row and git entry as for
 * any finish).  1 when it moved, 0 when there was nothing to do, -1 with
 * *errp.  audit_repo may be NULL.
 */
int		 dispatch_complete(PGconn *, long long task_id,
		    const char *audit_repo, char **errp);

/*
 * A run of task_id lost output rows for good: an 'incomplete' task
 * becomes final (a final state of dispatch_task_states: 'failed' when
 * the database lost rows it had taken, 'interrupted' when the process
 * holding them died), with reason.  It is never called successful.  1
 * when the task is not running (done, or nothing to do), 0 while it still
 * runs, -1 with *errp.
 */
int		 dispatch_output_lost(PGconn *, long long task_id,
		    const char *final, const char *reason,
		    const char *audit_repo, char **errp);

/*
 * The process running task_id under claim token (0: any claim of agent)
 * is gone: the task becomes 'interrupted' (final).  1 when it did, 0 when
 * the claim is not that one any more, -1 with *errp.
 */
int		 dispatch_interrupt(PGconn *, long long task_id,
		    long long token, const char *agent, const char *reason,
		    const char *audit_repo, char **errp);

/*
 * Recover tasks whose lease expired (their worker died or stalled): the
 * task becomes 'interrupted' and its open runs are closed as interrupted
 * with the rows they stored; a retry-safe (check-mode) step is requeued
 * with last_error "worker lost" while attempts remain.  Also drops queue
 * rows of tasks that ended.  Returns how many were
 * recovered, or -1 with *errp.
 */
int		 dispatch_recover(PGconn *, const struct dispatch_params *,
		    char **errp);

/*
 * The process running plan row plan_row_id goes away (SIGTERM, SIGHUP,
 * the terminal closed): its running, queued and paused tasks become
 * interrupted (final: never re-run by themselves) with reason why, one
 * "task.interrupted" audit row each, their queue rows go and the plan
 * settles.  *ntasksp (may be NULL) gets how many.  0, or -1 with *errp.
 */
int		 dispatch_interrupt_plan(PGconn *, long long plan_row_id,
		    const char *why, int *ntasksp, char **errp);
/*
 * The plan rows with unfinished tasks queued for an owner agent other
 * than dp->agent that is gone (no agents row, not online within
 * dp->agent_timeout_s, or a dead process of this host): nobody may run
 * them, so the caller interrupts them (dispatch_interrupt_plan).
 * *rowsp (caller frees) gets them; returns how many, or -1 with *errp.
 */
int		 dispatch_orphaned_plans(PGconn *, const struct dispatch_params *,
		    long long **rowsp, char **errp);

/*
 * Pause queued tasks no online agent can provide resources for, resume
 * those paused so that can now.  *npausedp / *nresumedp may be NULL.
 * 0, or -1 with *errp.
 */
int		 dispatch_check_resources(PGconn *,
		    const struct dispatch_params *, int *npausedp,
		    int *nresumedp, char **errp);

/*
 * Manual pause (an approved, queued or running task; a running one is
 * taken from its worker, which stops it) and resume (paused -> queued).
 * 0, or -1 with *errp naming the task and its state.
 */
int		 dispatch_pause(PGconn *, long long task_id, const char *reason,
		    char **errp);
int		 dispatch_resume(PGconn *, long long task_id, char **errp);

/*
 * Register or refresh an agent (heartbeat upsert).  metrics_json is
 * merged into resource_metrics (keys reported by others stay).  With
 * starting set, a different live process holding the name is an error.
 * 0, or -1 with *errp.
 */
int		 dispatch_heartbeat(PGconn *, const struct dispatch_params *,
		    int capacity, int running, const char *metrics_json,
		    int starting, char **errp);
/* Mark the agent offline (stopping).  0, or -1 with *errp. */
int		 dispatch_agent_offline(PGconn *, const char *agent,
		    char **errp);
/*
 * Mark offline the agents of this host whose process is gone (killed
 * without a chance to say so).  How many, or -1 with *errp.
 */
int		 dispatch_agents_reap(PGconn *, char **errp);

#endif
