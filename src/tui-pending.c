/*
 * tui-pending.c - the Plan pane's list of this user's plans pending
 * approval, so that one can be picked, amended or rejected.
 *
 * Esc p shows the list in the Plan pane instead of the plan (again: back
 * to the plan).  The rows are plan_pending's (plan.h): the plans the OS
 * user made that are neither approved nor rejected nor superseded,
 * newest first, whichever shell or `chiffon plan` made them.  Up and
 * Down select, Enter shows the selected plan in the pane as the current
 * plan (tui_plan_pick), where F5 approves it as any other; F6 asks
 * before rejecting the selected plan and F7 amends it (tui.c).  While
 * the list is shown, every change of a task's state that the shell's
 * watch hears (chiffon_task: a new plan, an approval, a rejection, a
 * new version) loads it again, so plans another shell made or decided
 * come and go.  Nothing here approves: picking a plan only shows it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "loop.h"
#include "plan.h"
#include "tui.h"
#include "util.h"

/* Rows listed at most (the newest). */
#define TUI_PENDING_MAX		200
/* A burst of NOTIFYs (a plan's tasks) loads the list once. */
#define TUI_PENDING_RELOAD_MS	100

/* The list: one per shell, made when first shown. */
struct tui_pending {
	struct plan_pending	*rows;
	size_t			 n;
	size_t			 sel;		/* the selected row */
	size_t			 top;		/* the first row shown */
	char			*error;		/* why there are no rows */
	int			 more;		/* older ones than the MAX */
	int			 shown;		/* in the Plan pane */
	int			 timer;		/* reload soon, or 0 */
};

static struct tui_pending *
tui_pending_get(struct tui *t)
{
	if (t->pending == NULL)
		t->pending = xcalloc(1, sizeof *t->pending);
	return t->pending;
}

int
tui_pending_shown(const struct tui *t)
{
	return t->pending != NULL && t->pending->shown;
}

/* Keep the selection on the plan it was on (else the same place). */
static void
tui_pending_reselect(struct tui_pending *l, long long row)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->rows[i].row_id == row) {
			l->sel = i;
			return;
		}
	if (l->sel >= l->n)
		l->sel = l->n > 0 ? l->n - 1 : 0;
}

void
tui_pending_load(struct tui *t)
{
	struct tui_pending	*l = tui_pending_get(t);
	struct db		*db;
	long long		 was = tui_pending_selected(t);
	char			*err = NULL;
	int			 n;

	/* The connection is the request job's meanwhile: later. */
	if (t->planning) {
		tui_pending_changed(t);
		return;
	}
	plan_pending_free(l->rows, l->n);
	l->rows = NULL;
	l->n = 0;
	free(l->error);
	l->error = NULL;
	if ((db = app_db(t->app, &err)) == NULL ||
	    (n = plan_pending(db_pg(db), audit_user(), TUI_PENDING_MAX + 1,
	    &l->rows, &err)) < 0) {
		l->error = err;
		return;
	}
	/* One more than shown says whether there are older ones. */
	l->more = n > TUI_PENDING_MAX;
	if (l->more) {
		plan_pending_free_row(&l->rows[TUI_PENDING_MAX]);
		n = TUI_PENDING_MAX;
	}
	l->n = (size_t)n;
	tui_pending_reselect(l, was);
}

long long
tui_pending_selected(const struct tui *t)
{
	const struct tui_pending *l = t->pending;

	return l != NULL && l->sel < l->n ? l->rows[l->sel].row_id : 0;
}

const struct plan_pending *
tui_pending_row(const struct tui *t, long long row)
{
	const struct tui_pending *l = t->pending;
	size_t			 i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (l->rows[i].row_id == row)
			return &l->rows[i];
	return NULL;
}

void
tui_pending_show(struct tui *t, int on)
{
	struct tui_pending	*l = tui_pending_get(t);

	l->shown = on;
	if (on) {
		/* From the top, the newest plan selected. */
		plan_pending_free(l->rows, l->n);
		l->rows = NULL;
		l->n = l->sel = l->top = 0;
		tui_pending_load(t);
		tui_pane_focus(t, TUI_FOCUS_PLAN);
	} else if (t->plan_request != NULL)
		tui_plan_render(t);	/* its keys act again */
}

/* The reload after a NOTIFY; the connection is the request job's while
 * a request is planned: then later. */
static int
tui_pending_timer(void *data)
{
	struct tui		*t = data;
	struct tui_pending	*l = t->pending;

	if (t->planning)
		return 0;
	l->timer = 0;
	if (l->shown) {
		tui_pending_load(t);
		tui_layout_draw_panes(t);
	}
	return 1;
}

void
tui_pending_changed(struct tui *t)
{
	struct tui_pending	*l = t->pending;

	if (l == NULL || !l->shown || l->timer != 0 || t->loop == NULL)
		return;
	l->timer = loop_add_timer(t->loop, TUI_PENDING_RELOAD_MS,
	    tui_pending_timer, t, NULL, NULL);
}

/* "3m05s ago". */
static char *
tui_pending_age(double s)
{
	char	*d = plan_duration(s < 0 ? 0 : s), *r;

	r = xasprintf("%s ago", d);
	free(d);
	return r;
}

char *
tui_pending_draw(struct tui *t, WINDOW *w)
{
	struct tui_pending	*l = tui_pending_get(t);
	const struct plan_pending *r;
	int			 rows = getmaxy(w), cols = getmaxx(w), y;
	size_t			 i, body;
	char			*s, *age;

	wmove(w, 0, 0);
	if (l->error != NULL) {
		tui_text_put(w, l->error, 0, cols);
		return xstrdup("pending plans: the database failed");
	}
	s = xasprintf("Plans of %s pending approval, newest first: Enter "
	    "shows one (then F5 approves), F6 rejects, F7 amends, Esc p "
	    "back", audit_user());
	tui_text_put(w, s, 0, cols);
	free(s);
	if (l->n == 0) {
		wmove(w, 1, 0);
		tui_text_put(w, "none: every plan of yours is approved, "
		    "rejected or superseded", 0, cols);
		return xstrdup("pending plans: none");
	}
	wmove(w, 1, 0);
	wattrset(w, A_BOLD);
	s = xasprintf("  %6s %4s %12s  %-24s  %s", "PLAN", "VER", "AGE",
	    "STEPS", "REQUEST");
	tui_text_put(w, s, 0, cols);
	free(s);
	wattrset(w, A_NORMAL);
	body = rows > 2 ? (size_t)rows - 2 : 1;
	/* The selection stays in view. */
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + body)
		l->top = l->sel - body + 1;
	for (i = l->top, y = 2; i < l->n && y < rows; i++, y++) {
		r = &l->rows[i];
		age = tui_pending_age(r->age_s);
		s = xasprintf("%c %6lld %3s%d %12s  %zu: %-21s  %s",
		    i == l->sel ? '>' : ' ', r->plan_id, "v", r->version, age,
		    r->nsteps, r->steps, r->text);
		wmove(w, y, 0);
		if (i == l->sel && t->focus == TUI_FOCUS_PLAN)
			wattrset(w, A_REVERSE);
		tui_text_put(w, s, 0, cols);
		wattrset(w, A_NORMAL);
		free(s);
		free(age);
	}
	if (l->more)
		return xasprintf("pending plans: row %zu of the newest %zu "
		    "(all: chiffon audit --status pending_approval)",
		    l->sel + 1, l->n);
	return xasprintf("pending plans: row %zu of %zu", l->sel + 1, l->n);
}

int
tui_pending_key(struct tui *t, enum tui_request req, size_t rows)
{
	struct tui_pending	*l = tui_pending_get(t);
	size_t			 page = rows > 3 ? rows - 3 : 1;

	switch (req) {
	case TUI_REQ_LINE_UP:
		if (l->sel == 0)
			return 0;
		l->sel--;
		return 1;
	case TUI_REQ_LINE_DOWN:
		if (l->sel + 1 >= l->n)
			return 0;
		l->sel++;
		return 1;
	case TUI_REQ_PAGE_UP:
		l->sel = l->sel > page ? l->sel - page : 0;
		return 1;
	case TUI_REQ_PAGE_DOWN:
		l->sel = l->sel + page < l->n ? l->sel + page :
		    l->n > 0 ? l->n - 1 : 0;
		return 1;
	case TUI_REQ_TOP:
		l->sel = 0;
		return 1;
	case TUI_REQ_BOTTOM:
		l->sel = l->n > 0 ? l->n - 1 : 0;
		return 1;
	case TUI_REQ_OPEN:
		if (l->sel >= l->n)
			return 0;
		tui_plan_pick(t, l->rows[l->sel].row_id);
		return 1;
	default:
		return 0;
	}
}

void
tui_pending_free(struct tui *t)
{
	struct tui_pending	*l = t->pending;

	if (l == NULL)
		return;
	if (l->timer > 0 && t->loop != NULL)
		loop_remove(t->loop, l->timer);
	plan_pending_free(l->rows, l->n);
	free(l->error);
	free(l);
	t->pending = NULL;
}
