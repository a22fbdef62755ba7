/*
 * tui-watch.c - the plans and runs of other sessions on the same
 * database, live and read-only.
 *
 * The shell's live connection LISTENs (db_listen) on chiffon_task (a
 * trigger's "<task id> <status>" on every change of a task's state) and
 * chiffon_run (runlog.c's "<run id>" after each batch of output is
 * stored); the db module hands each notification over on the shell's
 * loop and LISTENs again after a reconnection.  A task of a plan this shell did
 * not make or approve gets a line in the Log pane when its state
 * changes; a run of such a task has its new run_output lines copied into
 * the Log pane as they are stored, under a header naming the plan, the
 * step and who approved it.  Nothing here can approve or cancel: those
 * keys act only on this shell's own plan (tui-plan.c).  Every change
 * of a task's state also goes to tui_plan_changed: the plan shown that
 * another session approved or rejected can no longer be approved here,
 * and the list of pending plans follows (tui-pending.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "plan.h"
#include "tui.h"
#include "util.h"

/* Lines copied per query; a run that printed more is read in turns. */
#define TUI_WATCH_BATCH		"2000"
#define TUI_WATCH_BATCHES	10
/* Runs followed at once (the oldest is forgotten). */
#define TUI_WATCH_RUNS		16

static const char tui_watch_sql_task[] =
	"SELECT t.plan_id, p.plan_id, p.version, t.step, coalesce(t.action, ''),"
	" coalesce(t.service, ''), coalesce(t.playbook, '-'),"
	" coalesce(a.approved_by, ''), coalesce(a.ssh_client, ''),"
	" p.created_by"
	" FROM tasks t JOIN plans p ON p.id = t.plan_id"
	" LEFT JOIN LATERAL (SELECT approved_by, ssh_client FROM approvals"
	" WHERE plan_id = t.plan_id AND decision = 'approved'"
	" ORDER BY id DESC LIMIT 1) a ON true WHERE t.id = $1";
static const char tui_watch_sql_run[] =
	"SELECT r.task_id FROM runs r WHERE r.id = $1";
static const char tui_watch_sql_lines[] =
	"SELECT seq, line FROM chiffon_run_lines($1::bigint, NULL, "
	"$2::bigint, NULL, " TUI_WATCH_BATCH ", NULL, false)";

/* A run of another session being followed. */
struct tui_watch_run {
	long long	 run_id;
	long long	 seq;		/* the last line copied */
	int		 ours;		/* this shell's own: not copied */
};

/* The watch: one per shell. */
struct tui_watch {
	struct tui		*t;
	struct db		*db;		/* LISTENing (db_listen) */
	struct tui_watch_run	 runs[TUI_WATCH_RUNS];
	size_t			 nruns;
	size_t			 next;		/* slot reused next when full */
};

/*
 * Is plans row plan_row this shell's own (shown, executing, or rejected
 * here from the pending list)?
 */
static int
tui_watch_ours(const struct tui *t, long long plan_row)
{
	return (t->exec != NULL && tui_exec_plan(t->exec) == plan_row) ||
	    (t->plan_cur != NULL && t->plan_cur->row_id == plan_row) ||
	    t->plan_rejected == plan_row;
}

static PGresult *
tui_watch_query(struct tui_watch *w, const char *sql, int n,
    const char *const *params)
{
	PGresult	*res;

	res = PQexecParams(db_pg(w->db), sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_debug("watch: %s", PQerrorMessage(db_pg(w->db)));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* "plan 3.1 step 1 (task 7)" and "deploy ticker (ticker-deploy.yml)". */
static char *
tui_watch_where(PGresult *res, const char *task_id)
{
	return xasprintf("plan %s.%s step %s (task %s)", PQgetvalue(res, 0, 1),
	    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), task_id);
}

static char *
tui_watch_what(PGresult *res)
{
	return xasprintf("%s %s (%s)", PQgetvalue(res, 0, 4),
	    PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6));
}

/* Who approved it: "approved by bob from 10.0.0.5", or who planned it. */
static char *
tui_watch_who(PGresult *res)
{
	const char	*by = PQgetvalue(res, 0, 7), *from = PQgetvalue(res, 0, 8);

	if (*by == '\0')
		return xasprintf("planned by %s", PQgetvalue(res, 0, 9));
	return xasprintf("approved by %s%s%s", by, *from != '\0' ? " from " :
	    "", from);
}

/*
 * The task's row: NULL when it is gone or is this shell's own.  Its plans
 * row goes to *plan_rowp (may be NULL) whoever's it is.
 */
static PGresult *
tui_watch_task_row(struct tui_watch *w, const char *task_id,
    long long *plan_rowp)
{
	const char	*params[1] = { task_id };
	PGresult	*res;

	if ((res = tui_watch_query(w, tui_watch_sql_task, 1, params)) ==
	    NULL)
		return NULL;
	if (PQntuples(res) == 1 && plan_rowp != NULL)
		*plan_rowp = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	/* Another version of the plan shown is this shell's too. */
	if (PQntuples(res) != 1 || tui_watch_ours(w->t,
	    strtoll(PQgetvalue(res, 0, 0), NULL, 10)) ||
	    (w->t->plan_cur != NULL && w->t->plan_cur->plan_id ==
	    strtoll(PQgetvalue(res, 0, 1), NULL, 10))) {
		PQclear(res);
		return NULL;
	}
	return res;
}

/* chiffon_task "<id> <status>": a line for another session's task. */
static void
tui_watch_task(struct tui_watch *w, const char *extra)
{
	PGresult	*res;
	char		 id[32], *where, *what, *who, *s;
	const char	*st;
	size_t		 n;
	long long	 plan_row = 0;

	n = strcspn(extra, " ");
	if (n == 0 || n >= sizeof id)
		return;
	memcpy(id, extra, n);
	id[n] = '\0';
	st = extra[n] == ' ' ? extra + n + 1 : "?";
	res = tui_watch_task_row(w, id, &plan_row);
	/* The plan shown may have been decided elsewhere; the pending list
	 * may change. */
	if (plan_row > 0)
		tui_plan_changed(w->t, plan_row, st);
	if (res == NULL)
		return;
	where = tui_watch_where(res, id);
	what = tui_watch_what(res);
	who = tui_watch_who(res);
	s = xasprintf("[other session] %s: %s - %s, %s; read-only here",
	    where, st, what, who);
	tui_log_line(w->t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	free(who);
	free(what);
	free(where);
	PQclear(res);
	tui_layout_draw_panes(w->t);
}

/* The followed run run_id, added (with its header) when new. */
static struct tui_watch_run *
tui_watch_run_find(struct tui_watch *w, long long run_id, const char *rid)
{
	struct tui_watch_run	*r;
	PGresult		*res, *task;
	const char		*params[1] = { rid };
	char			*where, *what, *who, *s;
	size_t			 i;

	for (i = 0; i < w->nruns; i++)
		if (w->runs[i].run_id == run_id)
			return &w->runs[i];
	if (w->nruns < TUI_WATCH_RUNS)
		r = &w->runs[w->nruns++];
	else {
		r = &w->runs[w->next];
		w->next = (w->next + 1) % TUI_WATCH_RUNS;
	}
	memset(r, 0, sizeof *r);
	r->run_id = run_id;
	r->ours = 1;
	if ((res = tui_watch_query(w, tui_watch_sql_run, 1, params)) == NULL)
		return r;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    (task = tui_watch_task_row(w, PQgetvalue(res, 0, 0), NULL)) != NULL) {
		r->ours = 0;
		where = tui_watch_where(task, PQgetvalue(res, 0, 0));
		what = tui_watch_what(task);
		who = tui_watch_who(task);
		s = xasprintf("[other session] run %s of %s: %s, %s; its "
		    "output follows, read-only here", rid, where, what, who);
		tui_log_line(w->t, CHIFFON_LOG_INFO, NULL, s);
		free(s);
		free(who);
		free(what);
		free(where);
		PQclear(task);
	}
	PQclear(res);
	return r;
}

/* chiffon_run "<run id>": copy the lines stored since the last ones. */
static void
tui_watch_run(struct tui_watch *w, const char *rid)
{
	struct tui_watch_run	*r;
	PGresult		*res;
	const char		*params[2];
	char			 seq[32], *line;
	long long		 run_id = strtoll(rid, NULL, 10);
	int			 i, n, batches = 0;

	if (run_id <= 0 || (r = tui_watch_run_find(w, run_id, rid)) == NULL ||
	    r->ours)
		return;
	do {
		snprintf(seq, sizeof seq, "%lld", r->seq);
		params[0] = rid;
		params[1] = seq;
		if ((res = tui_watch_query(w, tui_watch_sql_lines, 2,
		    params)) == NULL)
			return;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			/*
			 * A run's line, as the shell's own runs add theirs:
			 * its run and seq, never into chiffon's log file
			 * (run_output has it; one write and flush per line
			 * kept the loop from keys at 10,000 lines/s).
			 */
			r->seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			line = output_plain(PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1));
			tui_log_output(w->t, run_id, r->seq, line);
			free(line);
		}
		PQclear(res);
	} while (n == atoi(TUI_WATCH_BATCH) && ++batches < TUI_WATCH_BATCHES);
	/* Drawn by the log's batched redraw (TUI_REDRAW_MS), not here too. */
}

/* A notification on the live connection (db_listen). */
static void
tui_watch_notified(const char *channel, const char *extra, void *data)
{
	if (strcmp(channel, "chiffon_run") == 0)
		tui_watch_run(data, extra);
	else
		tui_watch_task(data, extra);
}

void
tui_watch_start(struct tui *t)
{
	struct tui_watch	*w;
	char			*err = NULL, *s;

	w = xcalloc(1, sizeof *w);
	w->t = t;
	t->watch = w;
	/* Both are registered even when not connected now (see db.h). */
	if ((w->db = app_db(t->app, &err)) != NULL &&
	    db_listen(w->db, "chiffon_task", tui_watch_notified, w, &err) == 0)
		db_listen(w->db, "chiffon_run", tui_watch_notified, w, &err);
	else if (w->db != NULL)
		db_listen(w->db, "chiffon_run", tui_watch_notified, w, NULL);
	if (err != NULL) {
		s = xasprintf("other sessions' plans and runs are not shown "
		    "until the database is back: %s", err);
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, s);
		free(s);
		free(err);
	}
}

void
tui_watch_end(struct tui *t)
{
	struct tui_watch	*w = t->watch;

	if (w == NULL)
		return;
	if (w->db != NULL)
		db_unlisten(w->db, w);
	free(w);
	t->watch = NULL;
}
