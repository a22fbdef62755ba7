/*
 * tui-history.c - the History pane (the audit browser), the Task pane
 * (the task opened from it) and the replay of a task's log in the Log
 * pane.
 *
 * History shows one keyset page of the tasks of `chiffon audit`
 * (audit_query_tasks, newest first, no time window), as many rows as the
 * pane has: PgDn fetches the page after the last row shown, PgUp goes
 * back to the page before (the first ids of the pages visited are kept),
 * so the table is never loaded whole.  Enter renders the task's audit
 * entry (audit_query_entry) into the Task pane and replays its last run's
 * output from run_output into the Log pane: only the lines on screen are
 * in memory, fetched by sequence number (audit_query_output_page) when
 * the view moves.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "audit-query.h"
#include "chiffon/plugin.h"
#include "db.h"
#include "dispatch.h"
#include "json-get.h"
#include "output.h"
#include "targets.h"
#include "tui.h"
#include "util.h"
#include "vocab.h"

/* The History pane's state. */
struct tui_history {
	PGresult	*res;		/* the page shown, or NULL */
	long long	*after;		/* keyset: the page start of each page
					   visited, the last one shown */
	size_t		 npages;
	int		 limit;		/* rows asked for the page shown */
	int		 sel;		/* the row selected */
	char		*error;		/* why nothing is shown, or NULL */
	char		*filter;	/* the filter's words, or NULL */
	int		 failures;	/* the filter (tui_history_filter) */
	char		*service;
	char		*user;
	char		*status;
	char		*since;
};

/* A task's log replayed from the database. */
struct tui_replay {
	long long	 task_id;
	long long	 run_id;
	char		*started;	/* runs.started_at (its partition) */
	long long	 total;		/* runs.lines */
	long long	 top;		/* lines above the view */
	struct tui_log	 window;	/* the lines on screen */
	long long	 fetched_top;	/* what window holds, -1: nothing */
	size_t		 fetched_rows;
	size_t		 drawn;		/* lines the last draw showed (long
					   lines wrap) */
	char		*error;
};

static PGconn *
tui_history_pg(struct tui *t, char **errp)
{
	struct db	*db = app_db(t->app, errp);

	return db != NULL ? db_pg(db) : NULL;
}

static struct tui_history *
tui_history_get(struct tui *t)
{
	if (t->hist == NULL) {
		t->hist = xcalloc(1, sizeof *t->hist);
		t->hist->after = xcalloc(1, sizeof *t->hist->after);
		t->hist->npages = 1;
	}
	return t->hist;
}

/* Fetch the page after h->after[npages - 1] for a body of rows rows. */
static void
tui_history_load(struct tui *t, size_t rows)
{
	struct tui_history	*h = tui_history_get(t);
	struct audit_filter	 f = { 0 };
	PGconn			*pg;
	char			*err = NULL;

	if (h->res != NULL)
		PQclear(h->res);
	h->res = NULL;
	free(h->error);
	h->error = NULL;
	f.since = h->since != NULL ? h->since : "-infinity";
	f.failures = h->failures;
	f.service = h->service;
	f.user = h->user;
	f.status = h->status;
	f.after = h->after[h->npages - 1];
	f.limit = h->limit = rows > 2 ? (int)rows - 1 : 1;
	if ((pg = tui_history_pg(t, &err)) == NULL ||
	    (h->res = audit_query_tasks(pg, &f, &err)) == NULL) {
		h->error = err;
		return;
	}
	if (h->sel >= PQntuples(h->res))
		h->sel = PQntuples(h->res) > 0 ? PQntuples(h->res) - 1 : 0;
}

static char *
tui_history_draw(struct tui *t, WINDOW *w)
{
	struct tui_history	*h = tui_history_get(t);
	const char		*wall;
	char			*row, dur[32];
	int			 i, n, cols = getmaxx(w);

	if (h->res == NULL && h->error == NULL)
		tui_history_load(t, (size_t)getmaxy(w));
	if (h->error != NULL) {
		wmove(w, 0, 0);
		tui_text_put(w, h->error, 0, cols);
		return xstrdup("the database failed");
	}
	n = PQntuples(h->res);
	wmove(w, 0, 0);
	wattrset(w, A_BOLD);
	row = xasprintf("%7s  %-11s %-14s %-19s %8s  %s", "TASK", "STATUS",
	    "APPROVER", "START", "DURATION", "PLAYBOOK");
	tui_text_put(w, row, 0, cols);
	free(row);
	wattrset(w, A_NORMAL);
	if (n == 0) {
		wmove(w, 1, 0);
		tui_text_put(w, h->npages > 1 ? "no older tasks (PgUp: "
		    "newer)" : h->filter != NULL ? "no task matches the "
		    "filter (Esc f on an empty line: all tasks)" : "no tasks "
		    "yet: approved plans are listed here", 0, cols);
		return xasprintf("%s%s%spage %zu",
		    h->filter != NULL ? "filter: " : "",
		    h->filter != NULL ? h->filter : "",
		    h->filter != NULL ? ", " : "", h->npages);
	}
	for (i = 0; i < n && i + 1 < getmaxy(w); i++) {
		wall = PQgetvalue(h->res, i, AUDIT_COL_WALL_S);
		if (*wall != '\0')
			snprintf(dur, sizeof dur, "%.1fs", atof(wall));
		else
			snprintf(dur, sizeof dur, "-");
		row = xasprintf("%7s  %-11s %-14s %-19s %8s  %s",
		    PQgetvalue(h->res, i, AUDIT_COL_ID),
		    PQgetvalue(h->res, i, AUDIT_COL_STATUS),
		    PQgetvalue(h->res, i, AUDIT_COL_APPROVED_BY),
		    PQgetvalue(h->res, i, AUDIT_COL_TIME), dur,
		    PQgetvalue(h->res, i, AUDIT_COL_PLAYBOOK));
		wmove(w, i + 1, 0);
		if (i == h->sel && t->focus == TUI_FOCUS_HISTORY)
			wattrset(w, A_REVERSE);
		tui_text_put(w, row, 0, cols);
		wattrset(w, A_NORMAL);
		free(row);
	}
	return xasprintf("%s%s%spage %zu, row %d of %d%s%s, Esc Enter opens",
	    h->filter != NULL ? "filter: " : "",
	    h->filter != NULL ? h->filter : "", h->filter != NULL ? ", " : "",
	    h->npages, h->sel + 1, n, h->npages > 1 ? ", PgUp newer" : "",
	    n == h->limit ? ", PgDn older" : "");
}

static void tui_history_open(struct tui *, long long task_id);

static int
tui_history_key(struct tui *t, enum tui_request req, size_t rows)
{
	struct tui_history	*h = tui_history_get(t);
	int			 n = h->res != NULL ? PQntuples(h->res) : 0;

	switch (req) {
	case TUI_REQ_LINE_UP:
		if (h->sel > 0) {
			h->sel--;
			return 1;
		}
		if (h->npages == 1)
			return 0;
		h->npages--;
		tui_history_load(t, rows);
		h->sel = h->res != NULL && PQntuples(h->res) > 0 ?
		    PQntuples(h->res) - 1 : 0;
		return 1;
	case TUI_REQ_LINE_DOWN:
		if (h->sel + 1 < n) {
			h->sel++;
			return 1;
		}
		/* FALLTHROUGH */
	case TUI_REQ_PAGE_DOWN:
		if (n == 0 || n < h->limit)
			return 0;
		h->after = xreallocarray(h->after, h->npages + 1,
		    sizeof *h->after);
		h->after[h->npages++] = strtoll(PQgetvalue(h->res, n - 1,
		    AUDIT_COL_ID), NULL, 10);
		h->sel = 0;
		tui_history_load(t, rows);
		return 1;
	case TUI_REQ_PAGE_UP:
		if (h->npages == 1) {
			h->sel = 0;
			return 1;
		}
		h->npages--;
		h->sel = 0;
		tui_history_load(t, rows);
		return 1;
	case TUI_REQ_OPEN:
		if (n == 0)
			return 0;
		tui_history_open(t, strtoll(PQgetvalue(h->res, h->sel,
		    AUDIT_COL_ID), NULL, 10));
		return 1;
	default:
		return 0;
	}
}

static void
tui_history_resize(struct tui *t, int rows, int cols)
{
	(void)cols;
	if (t->hist != NULL && t->top == TUI_FOCUS_HISTORY)
		tui_history_load(t, (size_t)rows);
}

/* Shown: fetch the page again (new tasks appear at the top). */
static void
tui_history_focus(struct tui *t, int on)
{
	if (on && !t->geom.too_small)
		tui_history_load(t, (size_t)t->geom.plan_h);
}

/* The filter's values, freed. */
static void
tui_history_filter_free(struct tui_history *h)
{
	free(h->filter);
	free(h->service);
	free(h->user);
	free(h->status);
	free(h->since);
	h->filter = h->service = h->user = h->status = h->since = NULL;
	h->failures = 0;
}

int
tui_history_filter(struct tui *t, const char *text, char **errp)
{
	static const char *const keys[] = {
		"service", "user", "status", "since",
	};
	struct tui_history	*h = tui_history_get(t), nf = { 0 };
	char			*copy, *word, *save = NULL, *eq, **slot;
	size_t			 k;

	copy = xstrdup(text != NULL ? text : "");
	for (word = strtok_r(copy, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save)) {
		if (strcmp(word, "failures") == 0) {
			nf.failures = 1;
			continue;
		}
		eq = strchr(word, '=');
		for (k = 0; eq != NULL && k < nitems(keys); k++)
			if ((size_t)(eq - word) == strlen(keys[k]) &&
			    strncmp(word, keys[k], strlen(keys[k])) == 0)
				break;
		if (eq == NULL || k == nitems(keys) || eq[1] == '\0') {
			set_error(errp, "History filter: '%s' is not a filter "
			    "word (failures, service=S, user=U, status=S, "
			    "since=TIME)", word);
			goto fail;
		}
		slot = k == 0 ? &nf.service : k == 1 ? &nf.user : k == 2 ?
		    &nf.status : &nf.since;
		free(*slot);
		*slot = xstrdup(eq + 1);
	}
	if (nf.status != NULL) {
		for (k = 0; k < dispatch_ntask_states; k++)
			if (strcmp(nf.status, dispatch_task_states[k]) == 0)
				break;
		if (k == dispatch_ntask_states) {
			set_error(errp, "History filter: status=%s: not a "
			    "task state", nf.status);
			goto fail;
		}
	}
	free(copy);
	tui_history_filter_free(h);
	nf.filter = text != NULL && *text != '\0' ? xstrdup(text) : NULL;
	h->filter = nf.filter;
	h->failures = nf.failures;
	h->service = nf.service;
	h->user = nf.user;
	h->status = nf.status;
	h->since = nf.since;
	h->npages = 1;
	h->sel = 0;
	if (!t->geom.too_small)
		tui_history_load(t, (size_t)t->geom.plan_h);
	return 0;
fail:
	free(copy);
	tui_history_filter_free(&nf);
	return -1;
}

void
tui_history_free(struct tui *t)
{
	struct tui_history	*h = t->hist;

	tui_replay_end(t);
	if (h == NULL)
		return;
	if (h->res != NULL)
		PQclear(h->res);
	free(h->after);
	free(h->error);
	tui_history_filter_free(h);
	free(h);
	t->hist = NULL;
}

const struct tui_pane tui_history_pane = {
	.name = "History",
	.draw = tui_history_draw,
	.key = tui_history_key,
	.resize = tui_history_resize,
	.focus = tui_history_focus,
};

/* -- the Task pane ------------------------------------------------------- */

/* Member key of o as text ("" when absent or null). */
static const char *
tui_history_str(struct json_object *o, const char *key)
{
	const char	*s = json_get_text(o, key);

	return s != NULL ? s : "";
}

/* A heading, then entry's member key as indented JSON. */
static void
tui_history_section(struct tui_log *l, struct json_object *entry,
    const char *key, const char *label)
{
	struct json_object	*v;

	tui_log_add(l, CHIFFON_LOG_INFO, label);
	if (!json_object_object_get_ex(entry, key, &v) || v == NULL) {
		tui_log_add(l, -1, "  none");
		return;
	}
	tui_log_add(l, -1, json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
}

/*
 * The real hosts of a task or plan step o ({playbook, targets: the
 * stored --limit or "all"}) in the catalog's inventory: "targets"
 * becomes them and "limit" keeps what was stored.  Left as it is when
 * they cannot be resolved.
 */
static void
tui_history_hosts(const struct vocab *v, struct json_object *o)
{
	const struct vocab_playbook	*vp;
	const char			*pb, *limit;
	char				*s;

	if (v == NULL || o == NULL ||
	    (pb = json_get_str(o, "playbook")) == NULL ||
	    (vp = vocab_playbook(v, pb)) == NULL)
		return;
	limit = json_get_str(o, "targets");
	if (limit != NULL && (*limit == '\0' || strcmp(limit, "all") == 0))
		limit = NULL;
	if ((s = targets_show(v, vp->hosts, limit)) == NULL)
		return;
	json_object_object_add(o, "limit", limit != NULL ?
	    json_object_new_string(limit) : NULL);
	json_object_object_add(o, "targets", json_object_new_string(s));
	free(s);
}

/* Render task_id's audit entry into the Task pane. */
static void
tui_history_render(struct tui *t, PGconn *pg, long long task_id,
    const char *commit)
{
	struct json_object	*e, *task, *req, *plan, *steps;
	char			*json = NULL, *status = NULL, *author = NULL;
	char			*err = NULL, *s;
	size_t			 i;

	tui_log_clear(&t->task);
	if (audit_query_entry(pg, task_id, &json, &status, &author,
	    &err) != 0) {
		tui_log_add(&t->task, CHIFFON_LOG_ERROR, err);
		free(err);
		return;
	}
	e = json_tokener_parse(json);
	task = req = plan = NULL;
	json_object_object_get_ex(e, "task", &task);
	json_object_object_get_ex(e, "request", &req);
	json_object_object_get_ex(e, "plan", &plan);
	tui_history_hosts(t->vocab, task);
	if (json_object_object_get_ex(plan, "steps", &steps) &&
	    json_object_is_type(steps, json_type_array)) {
		for (i = 0; i < json_object_array_length(steps); i++)
			tui_history_hosts(t->vocab,
			    json_object_array_get_idx(steps, i));
	}
	s = xasprintf("Task %lld (step %s of plan %s): %s%s%s", task_id,
	    tui_history_str(task, "step"), tui_history_str(plan, "plan_id"),
	    status, *tui_history_str(task, "status_reason") != '\0' ?
	    " - " : "", tui_history_str(task, "status_reason"));
	tui_log_add(&t->task, CHIFFON_LOG_INFO, s);
	free(s);
	s = xasprintf("Request %s by %s: %s", tui_history_str(req, "id"),
	    tui_history_str(req, "actor"), tui_history_str(req, "text"));
	tui_log_add(&t->task, -1, s);
	free(s);
	s = xasprintf("Playbook: %s on %s (approved by %s)",
	    tui_history_str(task, "playbook"),
	    tui_history_str(task, "targets"), author != NULL ? author : "");
	tui_log_add(&t->task, -1, s);
	free(s);
	s = xasprintf("Git commit: %s", commit != NULL && *commit != '\0' ?
	    commit : "none yet (the audit entry is not committed)");
	tui_log_add(&t->task, -1, s);
	free(s);
	tui_history_section(&t->task, e, "plan", "Plan:");
	tui_history_section(&t->task, e, "runs", "Run summary:");
	tui_history_section(&t->task, e, "suggestions", "Suggestions:");
	t->task.scroll = t->task.count;		/* from the top */
	json_object_put(e);
	free(json);
	free(status);
	free(author);
}

static void
tui_history_open(struct tui *t, long long task_id)
{
	struct tui_replay	*r;
	PGconn			*pg;
	char			*err = NULL, *commit = NULL, *started = NULL;
	long long		 run_id = 0, lines = 0;

	if ((pg = tui_history_pg(t, &err)) == NULL) {
		tui_log_line(t, CHIFFON_LOG_ERROR, NULL, err);
		free(err);
		return;
	}
	if (audit_query_task_run(pg, task_id, &run_id, &started, &lines,
	    &commit, &err) != 0) {
		tui_log_line(t, CHIFFON_LOG_ERROR, NULL, err);
		free(err);
		return;
	}
	tui_history_render(t, pg, task_id, commit);
	free(commit);
	tui_replay_end(t);
	if (run_id > 0) {
		r = xcalloc(1, sizeof *r);
		r->task_id = task_id;
		r->run_id = run_id;
		r->started = started;
		r->total = lines;
		r->fetched_top = -1;
		tui_log_init(&r->window, 1);
		t->replay = r;
	} else {
		free(started);
		tui_log_add(&t->task, CHIFFON_LOG_WARNING, "no run: the task "
		    "has no output to replay");
	}
	tui_pane_focus(t, TUI_FOCUS_TASK);
}

static char *
tui_task_draw(struct tui *t, WINDOW *w)
{
	if (t->task.count == 0) {
		wmove(w, 0, 0);
		tui_text_put(w, "No task opened: in History (Esc 3), select "
		    "a task with Up/Down and press Enter.", 0, getmaxx(w));
		return NULL;
	}
	return tui_pane_log_draw(&t->task, w);
}

static int
tui_task_key(struct tui *t, enum tui_request req, size_t rows)
{
	return tui_pane_log_key(&t->task, req, rows);
}

const struct tui_pane tui_task_pane = {
	.name = "Task",
	.draw = tui_task_draw,
	.key = tui_task_key,
};

/* -- the replay ---------------------------------------------------------- */

void
tui_replay_end(struct tui *t)
{
	struct tui_replay	*r = t->replay;

	if (r == NULL)
		return;
	tui_logpane_replay_end(t);
	tui_log_free(&r->window);
	free(r->started);
	free(r->error);
	free(r);
	t->replay = NULL;
}

/* A marker line in the window: lines from..to are not stored. */
static void
tui_replay_gap(struct tui_replay *r, long long from, long long to)
{
	char	*msg;

	msg = from == to ? xasprintf("-- line %lld of run %lld is not in the "
	    "database (lost, or still in the spool) --", from, r->run_id) :
	    xasprintf("-- lines %lld-%lld of run %lld are not in the "
	    "database (lost, or still in the spool) --", from, to,
	    r->run_id);
	tui_log_add(&r->window, CHIFFON_LOG_WARNING, msg);
	free(msg);
}

/*
 * Lines [top, top + rows) into the window, unless they are there; a
 * marker line where stored lines are missing.
 */
static void
tui_replay_fetch(struct tui *t, size_t rows)
{
	struct tui_replay	*r = t->replay;
	PGresult		*res;
	PGconn			*pg;
	char			*err = NULL, *line;
	long long		 seq, expect;
	int			 i, n;

	if (r->fetched_top == r->top && r->fetched_rows == rows)
		return;
	tui_log_free(&r->window);
	/* Room for the markers too: the top line is never dropped. */
	tui_log_init(&r->window, 2 * rows + 1);
	free(r->error);
	r->error = NULL;
	r->fetched_top = r->top;
	r->fetched_rows = rows;
	if ((pg = tui_history_pg(t, &err)) == NULL ||
	    (res = audit_query_output_page(pg, r->run_id, r->started, r->top,
	    (int)rows, &err)) == NULL) {
		r->error = err;
		return;
	}
	n = PQntuples(res);
	for (i = 0, expect = r->top + 1; i < n; i++) {
		seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		if (seq > expect)
			tui_replay_gap(r, expect, seq - 1);
		expect = seq + 1;
		/* As the live pane shows it: no terminal sequences. */
		line = output_plain(PQgetvalue(res, i, 2),
		    (size_t)PQgetlength(res, i, 2));
		tui_log_add(&r->window, atoi(PQgetvalue(res, i, 1)) == 2 ?
		    CHIFFON_LOG_WARNING : -1, line);
		free(line);
	}
	/* The run counts more lines than are stored after these. */
	if (n < (int)rows && expect <= r->total)
		tui_replay_gap(r, expect, r->total);
	PQclear(res);
}

char *
tui_replay_draw(struct tui *t, WINDOW *w)
{
	struct tui_replay	*r = t->replay;
	size_t			 rows = (size_t)getmaxy(w), i, first;
	long long		 last = r->top, shown = r->top;
	int			 y;

	tui_replay_fetch(t, rows);
	if (r->error != NULL) {
		wmove(w, 0, 0);
		tui_text_put(w, r->error, 0, getmaxx(w));
	} else {
		/*
		 * Wrapped or cut as the live view is, in its colours; at
		 * the end, as many of the last lines as fit.
		 */
		first = 0;
		if (r->top + (long long)r->window.count >= r->total) {
			for (y = 0, first = r->window.count; first > 0;
			    first--) {
				y += tui_log_height(tui_log_get(&r->window,
				    first - 1), getmaxx(w),
				    tui_logpane_shift(t));
				if (y > (int)rows)
					break;
			}
		}
		for (y = 0, i = first; y < (int)rows && i < r->window.count;
		    i++)
			tui_log_put(w, &y, (int)rows,
			    tui_log_get(&r->window, i), tui_logpane_shift(t));
		last = r->top + (long long)i;
		shown = r->top + (long long)first;
		r->drawn = i - first;
	}
	return xasprintf("task %lld, run %lld from the database: lines "
	    "%lld-%lld of %lld, Esc 2 2: live output", r->task_id, r->run_id,
	    r->total > 0 ? shown + 1 : 0, last, r->total);
}

int
tui_replay_key(struct tui *t, enum tui_request req, size_t rows)
{
	struct tui_replay	*r = t->replay;
	long long		 page = rows > 1 ? (long long)rows - 1 : 1;
	long long		 max = r->total > (long long)rows ?
	    r->total - (long long)rows : 0;

	switch (req) {
	case TUI_REQ_PAGE_UP:
		r->top -= page;
		break;
	case TUI_REQ_PAGE_DOWN:
		/* From the line after the last one shown (long lines
		   wrap): none is skipped. */
		r->top += r->drawn > 0 && (long long)r->drawn < page ?
		    (long long)r->drawn : page;
		break;
	case TUI_REQ_LINE_UP:
		r->top--;
		break;
	case TUI_REQ_LINE_DOWN:
		r->top++;
		break;
	case TUI_REQ_TOP:
		r->top = 0;
		break;
	case TUI_REQ_BOTTOM:
		r->top = max;
		break;
	default:
		return 0;
	}
	if (r->top > max)
		r->top = max;
	if (r->top < 0)
		r->top = 0;
	return 1;
}

int
tui_replay_search(struct tui *t, const char *text, int dir, char **errp)
{
	struct tui_replay	*r = t->replay;
	PGconn			*pg;
	long long		 seq, max;
	size_t			 rows = (size_t)t->geom.log_h;

	if ((pg = tui_history_pg(t, errp)) == NULL)
		return -1;
	/* The top line is seq top + 1: search from the one after it. */
	seq = audit_query_output_find(pg, r->run_id, r->started, r->top + 1,
	    dir > 0, text, errp);
	if (seq <= 0)
		return (int)seq;
	max = r->total > (long long)rows ? r->total - (long long)rows : 0;
	r->top = seq - 1 > max ? max : seq - 1;
	return 1;
}

void
tui_replay_run(const struct tui *t, long long *runp, const char **startedp,
    long long *linesp)
{
	const struct tui_replay	*r = t->replay;

	*runp = r->run_id;
	*startedp = r->started;
	*linesp = r->total;
}

int
tui_replay_failure(struct tui *t, int dir, char **errp)
{
	static const char *const marks[] = { "fatal: [", "failed: [" };
	struct tui_replay	*r = t->replay;
	PGconn			*pg;
	long long		 seq, best = 0, max;
	size_t			 i, rows = (size_t)t->geom.log_h;

	if ((pg = tui_history_pg(t, errp)) == NULL)
		return -1;
	/* The nearest of either mark after (before) the top line. */
	for (i = 0; i < nitems(marks); i++) {
		seq = audit_query_output_find(pg, r->run_id, r->started,
		    r->top + 1, dir > 0, marks[i], errp);
		if (seq < 0)
			return -1;
		if (seq > 0 && (best == 0 || (dir > 0 ? seq < best :
		    seq > best)))
			best = seq;
	}
	if (best == 0)
		return 0;
	max = r->total > (long long)rows ? r->total - (long long)rows : 0;
	r->top = best - 1 > max ? max : best - 1;
	return 1;
}
