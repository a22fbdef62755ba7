/*
 * audit-query.h - reading the audit trail back: a task's git entry built
 * from the database, the task list behind `chiffon audit` (filters,
 * keyset pages, index-backed), and a run's output in constant-memory
 * pages for `chiffon show --output`.
 */
#ifndef CHIFFON_AUDIT_QUERY_H
#define CHIFFON_AUDIT_QUERY_H

#include <stddef.h>

#include <libpq-fe.h>

/*
 * The entry of one task as pretty-printed JSON (object keys in a fixed
 * order, times in UTC): task, request, plan with its steps, approval,
 * dispatch and routing, runs with their summaries, resources, services
 * and files touched, suggestions, timestamps and the ids of every row
 * involved.  *statusp is the task's status, *authorp the approving user
 * (else the plan's author); both may be NULL.  Caller frees.  Returns 0,
 * or -1 with *errp (no such task or a database error).
 */
int	audit_query_entry(PGconn *, long long task_id, char **jsonp,
	    char **statusp, char **authorp, char **errp);

/* Filters of `chiffon audit`; zero-initialise and fill what is wanted. */
struct audit_filter {
	int		 failures;	/* only failed and timed_out tasks */
	const char	*service;	/* tasks of this service */
	const char	*status;	/* tasks in this status */
	const char	*user;		/* requested or approved by */
	const char	*intent;	/* action, or words of the request */
	const char	*since;		/* timestamptz text, or NULL */
	const char	*until;		/* timestamptz text, or NULL */
	int		 days;		/* window when since is NULL; 0: 7 */
	long long	 after;		/* keyset: the rows after this task */
	int		 limit;		/* 0: 50 */
};

/* The columns of an audit_query_tasks result, in order. */
enum audit_query_col {
	AUDIT_COL_ID,
	AUDIT_COL_TIME,		/* finished (failures) or created, local */
	AUDIT_COL_TIME_UTC,	/* the same, ISO 8601 UTC */
	AUDIT_COL_STATUS,
	AUDIT_COL_ACTION,
	AUDIT_COL_SERVICE,
	AUDIT_COL_PLAYBOOK,
	AUDIT_COL_TARGETS,	/* the stored --limit, or "all" */
	AUDIT_COL_REQUESTED_BY,
	AUDIT_COL_APPROVED_BY,
	AUDIT_COL_WALL_S,
	AUDIT_COL_REQUEST,
	AUDIT_COL_PLAN,
	AUDIT_COL_REQUEST_ID,
	AUDIT_COL_HOSTS,	/* resolved when planned: a JSON array, or
				   NULL (see audit_query_targets) */
	AUDIT_NCOLS
};

/* A task query ready to run: SQL with bound parameters. */
struct audit_query {
	char		*sql;
	const char	*params[12];
	int		 nparams;
	char		 num[4][32];	/* storage of numeric parameters */
};

/* Build the query of a filter (newest first).  audit_query_free after. */
void		 audit_query_build(const struct audit_filter *,
		    struct audit_query *);
void		 audit_query_free(struct audit_query *);
/*
 * Row row's target hosts for a line, as `chiffon plan` shows them
 * ("docker1,nas", "pve1,... +3 more"), or its stored limit when they
 * were not resolved; with hostsp, the hosts array too (NULL when not
 * known; caller puts).  Caller frees.
 */
struct json_object;
char		*audit_query_targets(const PGresult *, int row,
		    struct json_object **hostsp);
/* Run it.  Caller PQclears; NULL with *errp. */
PGresult	*audit_query_tasks(PGconn *, const struct audit_filter *,
		    char **errp);

/*
 * One page of a run's output: rows (seq, stream, line) with seq > after,
 * in order, at most limit.  started_at is the run's runs.started_at as
 * text (it selects the partition).  Caller PQclears; NULL with *errp.
 */
PGresult	*audit_query_output_page(PGconn *, long long run_id,
		    const char *started_at, long long after, int limit,
		    char **errp);

/*
 * The last run of task task_id: its id (0: none) in *run_idp, its
 * started_at as text in *startedp (caller frees; the output's
 * partition), its line count in *linesp, and the task's git commit id
 * (caller frees; NULL when not committed) in *commitp.  0, or -1 with
 * *errp (no such task or a database error).
 */
int		 audit_query_task_run(PGconn *, long long task_id,
		    long long *run_idp, char **startedp, long long *linesp,
		    char **commitp, char **errp);

/*
 * The first line of run run_id (started_at as for
 * audit_query_output_page) after seq from (forward non-zero), or the
 * last one before it, that contains text (bytes, case-sensitive).  Its
 * seq, 0 when none, or -1 with *errp.
 */
long long	 audit_query_output_find(PGconn *, long long run_id,
		    const char *started_at, long long from, int forward,
		    const char *text, char **errp);

/* Called for every line; a non-zero return stops the replay. */
typedef int	(*audit_query_line_fn)(long long run_id, long long seq,
		    int stream, const char *line, size_t len, void *data);

/*
 * Replay the whole output of one run through fn, page_rows lines per
 * query (0: 5000), so any size takes constant memory.  Returns the number
 * of lines, or -1 with *errp.
 */
long long	 audit_query_output(PGconn *, long long run_id, int page_rows,
		    audit_query_line_fn, void *data, char **errp);

#endif
