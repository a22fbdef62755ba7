/*
 * runlog.h - recording one run: its output lines and structured events go
 * to live subscribers at once and to run_output / run_events in batches
 * (COPY).
 *
 * The bound: a line handed to runlog_line is in the database or in the
 * spool at most 100 ms (of loop time) or 1,000 lines later; a SIGKILL
 * loses at most that.  A batch of 500 rows or 128 KiB goes to the run's
 * flusher, a non-blocking connection of its own watched on the loop,
 * which stores it step by step while the loop goes on (so at most one
 * batch is in flight and the next one fills meanwhile); the next batch,
 * a 100 ms loop timer and finish wait for that batch (polling its socket)
 * and store the rest on the loop's connection; without a flusher (no
 * second connection) the loop stores batches of 1,000 rows or 256 KiB
 * itself.  A batch the database does
 * not take (server away, disk full) goes at once to this run's spool
 * file, DATA_DIR/spool/run-ID.spool (records appended and fsync'd, the
 * file flock'ed by its process); when even that cannot be written the
 * rows stay in memory.  The spool is drained (through a temporary table,
 * rows already stored are skipped) at the next flush that reaches the
 * database, and by runlog_recover at the next start.  Rows of a run that
 * was closed by another process (its task taken over) are refused: the
 * run row is locked and checked in the transaction that stores them.
 *
 * A run that ends while rows are still missing is closed 'incomplete'
 * with its status pending (schema/004): it stays on a pending list,
 * retried every second, and becomes its pending status once every row is
 * stored; then the completed hook hears of its task.
 */
#ifndef CHIFFON_RUNLOG_H
#define CHIFFON_RUNLOG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "chiffon/plugin.h"

struct db;
struct loop;
struct runlog;

typedef void (*runlog_sub_fn)(struct runlog *, int stream, const char *line,
    size_t len, void *data);

/*
 * Create a runs row (status 'running') for task_id (may be NULL) and start
 * the flush timer on loop (may be NULL: flush when the batch fills and on
 * finish).  kind is for example "ansible-playbook".  Caller finishes it.
 */
struct runlog	*runlog_begin(struct db *, struct loop *, const char *task_id,
		    const char *kind, const char *meta_json, char **errp);
/* The runs.id of this run (decimal text). */
const char	*runlog_id(struct runlog *);
/*
 * The run_output.seq of the next line (inside a subscriber: of the line
 * being handed to it).
 */
long long	 runlog_next_seq(const struct runlog *);
int		 runlog_line(struct runlog *, int stream, const char *line,
		    size_t len);
int		 runlog_event(struct runlog *, const char *json, size_t len);
/*
 * Record the claim the run belongs to (runs.agent, attempt, claim_token;
 * token <= 0, attempt < 1: NULL).  0 or -1 with *errp.
 */
int		 runlog_set_claim(struct runlog *, const char *agent,
		    int attempt, long long token, char **errp);
/*
 * Write everything buffered (and spooled) now.  0, or -1 with *errp: the
 * rows are kept in the spool or in memory for a retry, or were dropped
 * (fenced, refused) as *errp says.
 */
int		 runlog_flush(struct runlog *, char **errp);
/* Live subscriber for every line (the TUI's log window, `chiffon run`). */
void		 runlog_subscribe(struct runlog *, runlog_sub_fn, void *data);
/*
 * Final flush, then store status, exit code, summary and usage on the runs
 * row.  0 when everything is stored (the runlog is freed).  -1 with *errp
 * when rows are still missing: the run is 'incomplete' (or its end is in
 * the spool when the row could not be written) and the runlog stays on
 * the pending list until they are stored; or when the run was closed by
 * another process (freed).  Either way the caller must not use it again.
 */
int		 runlog_finish(struct runlog *, const char *status,
		    int exit_code, const char *summary_json,
		    const struct chiffon_rusage *usage, char **errp);

/* Spool directory (DATA_DIR/spool), or NULL for memory only. */
void		 runlog_set_spool_dir(const char *dir);
const char	*runlog_spool_path(void);

/* Who hears of tasks whose runs ended (process-wide). */
struct runlog_hooks {
	/* An incomplete run of task_id became complete. */
	void	(*completed)(PGconn *, long long task_id, void *data);
	/* A run of task_id left running by a process that is gone was
	   closed as interrupted, or that process died after closing the
	   run and before ending the task (still running); token and agent
	   name its claim, why says which. */
	void	(*interrupted)(PGconn *, long long task_id, long long token,
		    const char *agent, const char *why, void *data);
	/* A run of task_id lost rows for good (the database lost rows it
	   had acknowledged): 0 while the task still runs (asked again),
	   else non-zero. */
	int	(*lost)(PGconn *, long long task_id, void *data);
	/* A run of task_id left incomplete by a process that is gone, its
	   missing rows in no spool, was closed as interrupted with
	   lines_lost lines never stored; token and agent name its claim. */
	void	(*abandoned)(PGconn *, long long task_id, long long token,
		    const char *agent, long long lines_lost, void *data);
	/* A batch in flight ended: runlog_may_take may say yes again. */
	void	(*ready)(void *data);
	void	 *data;
};
void		 runlog_set_hooks(const struct runlog_hooks *);
/*
 * Whether every run can take lines without waiting: 0 while a run's
 * flusher stores a batch and the next one is full (handing it more would
 * wait for that batch).  The gate of spawn_set_gate.
 */
int		 runlog_may_take(void);

/* Finished runs still waiting for rows; retry them all now. */
size_t		 runlog_npending(void);
int		 runlog_retry_pending(char **errp);
/* Forget the pending runs (exit): what is spooled stays for next time. */
void		 runlog_shutdown(void);

/*
 * At start: store the spools of processes that are gone, then close runs
 * of this host left 'running' by a process that is gone as
 * 'interrupted', with the lines and events really stored (the
 * interrupted hook hears of each task), and those it left 'incomplete'
 * with no spool left the same way, counting the rows that never arrived
 * in runs.lines_lost / events_lost (the abandoned hook hears of each),
 * and tasks still running whose last run such a process closed (the
 * interrupted hook hears of each).  *ninterruptedp (may be NULL)
 * gets how many.  0, or -1 with *errp.
 */
int		 runlog_recover(struct db *, int *ninterruptedp, char **errp);

#endif
