/*
 * audit.h - the audit trail: append-only, hash-chained audit_log rows for
 * every decision, and one git commit per finished task.
 *
 * audit_log is append-only and chained by the database itself (triggers in
 * schema/001_init.sql); this module writes rows, verifies the chain, and
 * keeps the git trail.
 */
#ifndef CHIFFON_AUDIT_H
#define CHIFFON_AUDIT_H

#include <libpq-fe.h>

/* The ids a row is about; 0 means none (stored as NULL). */
struct audit_ids {
	long long	request_id;
	long long	plan_id;
	long long	task_id;
	long long	run_id;
};

/*
 * Append one row.  kind names the decision ("request.received",
 * "plan.generated", "plan.approved", "plan.rejected", "plan.modified",
 * "task.dispatched", "task.routed", "run.started", "run.finished",
 * "suggestions.recorded", "git.committed", "llm.budget_refused",
 * "task.paused", "task.resumed", ...).  actor NULL means audit_actor().
 * data_json is a JSON object text or NULL.  Returns the row id, or -1
 * with *errp.
 */
long long	 audit_record(PGconn *, const char *kind, const char *actor,
		    const struct audit_ids *, const char *service,
		    const char *data_json, char **errp);

/* "user" or "user@client-address" (from SSH_CONNECTION).  Static storage. */
const char	*audit_actor(void);
/* The OS user name alone.  Static storage. */
const char	*audit_user(void);
/* The SSH client address, or NULL when not over SSH.  Static storage. */
const char	*audit_ssh_client(void);

/*
 * Walk the whole chain in id order, in pages: every row's hash must equal
 * chiffon_audit_hash() of its content and its prev_hash the hash of the
 * row before it (NULL for the first).  Returns 0 when intact (*nrows rows
 * checked), 1 when broken (*bad_id is the first broken row and *reasonp,
 * caller frees, says how), -1 with *errp on a database error.
 */
int		 audit_verify(PGconn *, long long *nrows, long long *bad_id,
		    char **reasonp, char **errp);

/*
 * Recompute the output digest of every run that has one (runs.output_sha256,
 * set by the database when the run finished; schema 005) from its
 * run_output rows.  *nruns gets the number checked.  0 when all match, 1
 * with *problemp (the first run that differs; caller frees), -1 with
 * *errp.
 */
int		 audit_verify_output(PGconn *, long long *nruns,
		    char **problemp, char **errp);

/*
 * A task reached its final status.  The dispatcher calls this after the
 * UPDATE that set the final status and the resource usage on the tasks
 * row (a finished task cannot change afterwards).  It appends the
 * "run.finished" audit row (status, run summary counts, resources), then
 * builds the task's git entry from the database (audit_query_entry) and
 * commits it to repo_path (NULL: the entry is only recorded as pending in
 * audit_git).  A git failure is recorded in audit_git (and a "git.failed"
 * audit row) and retried by gittrail_retry_pending; it never makes this
 * call fail.  actor NULL means audit_actor().  Returns the "run.finished"
 * row id, or -1 with *errp when the audit row could not be written.
 */
long long	 audit_task_finished(PGconn *, long long task_id,
		    const char *repo_path, const char *actor, char **errp);

/*
 * Retention: drop the monthly partitions of run_output and run_events
 * that ended more than older_than_s seconds ago (chiffon_drop_partitions)
 * and append a "db.pruned" audit row.  The audit log is never pruned.
 * *names (may be NULL) gets the dropped partitions, one per line (caller
 * frees).  Returns the number dropped, or -1 with *errp.
 */
int		 audit_prune(PGconn *, double older_than_s, char **names,
		    char **errp);

#endif
