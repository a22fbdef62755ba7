/*
 * tui-pane.c - the panes behind one vtable (struct tui_pane), the way
 * tig's views are: Plan, Log, History, Agents and Task.
 *
 * The screen has two areas: the upper one shows one of Plan, History,
 * Agents and Task (t->top), the lower one always the Log.  Tab and
 * Shift-Tab move the focus through the panes in enum tui_focus order,
 * 1..5 in command mode go to one; an upper pane that gets the focus takes
 * the upper area.  Each title row names the pane with its number and
 * says where the view is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "util.h"

/* -- panes whose body is a tui_log ---------------------------------------- */

char *
tui_pane_log_draw(const struct tui_log *l, WINDOW *w)
{
	size_t	rows = (size_t)getmaxy(w), first, below, last;

	tui_log_draw(l, w);
	first = tui_log_first(l, rows);
	last = first + rows < l->count ? first + rows : l->count;
	below = l->count > last ? l->count - last : 0;
	if (l->count == 0)
		return NULL;
	if (first > 0 && below > 0)
		return xasprintf("lines %zu-%zu of %zu, %zu more above "
		    "(PgUp), %zu more below (PgDn)", first + 1, last,
		    l->count, first, below);
	if (first > 0)
		return xasprintf("lines %zu-%zu of %zu, %zu more above "
		    "(PgUp)", first + 1, last, l->count, first);
	if (below > 0)
		return xasprintf("lines %zu-%zu of %zu, %zu more below "
		    "(PgDn)", first + 1, last, l->count, below);
	return xasprintf("lines %zu-%zu of %zu", first + 1, last, l->count);
}

int
tui_pane_log_key(struct tui_log *l, enum tui_request req, size_t rows)
{
	long	page = (long)(rows > 1 ? rows - 1 : 1);

	switch (req) {
	case TUI_REQ_PAGE_UP:
		tui_log_scroll(l, page, rows);
		return 1;
	case TUI_REQ_PAGE_DOWN:
		tui_log_scroll(l, -page, rows);
		return 1;
	case TUI_REQ_LINE_UP:
		tui_log_scroll(l, 1, rows);
		return 1;
	case TUI_REQ_LINE_DOWN:
		tui_log_scroll(l, -1, rows);
		return 1;
	case TUI_REQ_TOP:
		tui_log_scroll(l, (long)(l->count + l->above), rows);
		return 1;
	case TUI_REQ_BOTTOM:
		l->scroll = 0;
		return 1;
	default:
		return 0;
	}
}

/* -- Plan ------------------------------------------------------------------ */

static char *
tui_pane_plan_draw(struct tui *t, WINDOW *w)
{
	size_t	rows = (size_t)getmaxy(w), first;

	/* The list of pending plans, in place of the plan. */
	if (tui_pending_shown(t))
		return tui_pending_draw(t, w);
	/* What of the plan the admin has seen (risky plans need all). */
	first = tui_log_first(&t->plan, rows);
	if (first == 0)
		t->plan_seen_top = 1;
	if (first + rows >= t->plan.count)
		t->plan_seen_end = 1;
	return tui_pane_log_draw(&t->plan, w);
}

static int
tui_pane_plan_key(struct tui *t, enum tui_request req, size_t rows)
{
	if (tui_pending_shown(t))
		return tui_pending_key(t, req, rows);
	return tui_pane_log_key(&t->plan, req, rows);
}

/* Step rows wrap at the width: render them again for the new one. */
static void
tui_pane_plan_resize(struct tui *t, int rows, int cols)
{
	(void)rows;
	(void)cols;
	if (t->plan_request != NULL)
		tui_plan_render(t);
}

static const struct tui_pane tui_plan_pane = {
	.name = "Plan",
	.draw = tui_pane_plan_draw,
	.key = tui_pane_plan_key,
	.resize = tui_pane_plan_resize,
};

/* -- Log ------------------------------------------------------------------- */

/*
 * The live view, or a task's log replayed from History; a host filter
 * shows the lines of either that name the host.
 */
static char *
tui_pane_log_pane_draw(struct tui *t, WINDOW *w)
{
	if (t->replay != NULL && tui_logpane_host_name(t) == NULL)
		return tui_replay_draw(t, w);
	return tui_logpane_draw(t, w);
}

static int
tui_pane_log_pane_key(struct tui *t, enum tui_request req, size_t rows)
{
	return tui_logpane_key(t, req, rows);
}

static const struct tui_pane tui_log_pane = {
	.name = "Log",
	.draw = tui_pane_log_pane_draw,
	.key = tui_pane_log_pane_key,
};

/* -- the table and switching ---------------------------------------------- */

const struct tui_pane *const tui_panes[TUI_FOCUS__COUNT] = {
	[TUI_FOCUS_PLAN] = &tui_plan_pane,
	[TUI_FOCUS_LOG] = &tui_log_pane,
	[TUI_FOCUS_HISTORY] = &tui_history_pane,
	[TUI_FOCUS_AGENTS] = &tui_agents_pane,
	[TUI_FOCUS_TASK] = &tui_task_pane,
};

void
tui_pane_show(struct tui *t, enum tui_focus p)
{
	enum tui_focus	old = t->top;

	if (p == TUI_FOCUS_LOG || p == old)
		return;
	t->top = p;
	if (tui_panes[old]->focus != NULL)
		tui_panes[old]->focus(t, 0);
	if (tui_panes[p]->focus != NULL)
		tui_panes[p]->focus(t, 1);
	/* The focus follows into the upper area, never out of the log. */
	if (t->focus != TUI_FOCUS_LOG)
		t->focus = p;
}

void
tui_pane_focus(struct tui *t, enum tui_focus p)
{
	tui_pane_show(t, p);
	t->focus = p;
}

void
tui_pane_cycle(struct tui *t, int dir)
{
	tui_pane_focus(t, (enum tui_focus)(((int)t->focus + dir +
	    TUI_FOCUS__COUNT) % TUI_FOCUS__COUNT));
}

int
tui_pane_key(struct tui *t, enum tui_request req)
{
	const struct tui_pane	*p = tui_panes[t->focus];
	size_t			 rows;

	if (t->geom.too_small || p->key == NULL)
		return 0;
	rows = (size_t)(t->focus == TUI_FOCUS_LOG ? t->geom.log_h :
	    t->geom.plan_h);
	return p->key(t, req, rows);
}

int
tui_pane_request(struct tui *t, enum tui_request req)
{
	int	acted;

	switch (req) {
	case TUI_REQ_WRAP:
	case TUI_REQ_LEFT:
	case TUI_REQ_RIGHT:
	case TUI_REQ_FAIL_NEXT:
	case TUI_REQ_FAIL_PREV:
		/* The Log pane's own: whatever has the focus. */
		acted = !t->geom.too_small && tui_panes[TUI_FOCUS_LOG]->key(t,
		    req, (size_t)t->geom.log_h);
		break;
	default:
		acted = tui_pane_key(t, req);
		break;
	}
	if (acted)
		tui_layout_draw_panes(t);
	return 0;
}

void
tui_pane_resize(struct tui *t)
{
	size_t	i;

	if (t->geom.too_small)
		return;
	for (i = 0; i < TUI_FOCUS__COUNT; i++)
		if (tui_panes[i]->resize != NULL)
			tui_panes[i]->resize(t, i == TUI_FOCUS_LOG ?
			    t->geom.log_h : t->geom.plan_h, t->geom.cols);
}

void
tui_pane_draw(struct tui *t, enum tui_focus p, WINDOW *title, WINDOW *body)
{
	char	*where, *name, *cut;
	int	 cols = getmaxx(title), wl, nl;

	werase(body);
	where = tui_panes[p]->draw(t, body);
	wnoutrefresh(body);
	name = xasprintf(" %d %s ", (int)p + 1, tui_panes[p]->name);
	werase(title);
	wattrset(title, A_NORMAL);
	mvwhline(title, 0, 0, ACS_HLINE, cols);
	wattrset(title, t->focus == p ? A_REVERSE | A_BOLD : A_BOLD);
	wmove(title, 0, 2);
	tui_text_put(title, name, 0, cols - 4);
	wattrset(title, A_NORMAL);
	/* Too wide: without its first part ("lines 1-6 of 40, "). */
	nl = tui_text_width(name, strlen(name));
	while (where != NULL) {
		wl = tui_text_width(where, strlen(where)) + 2;
		if (nl + wl + 4 < cols) {
			wmove(title, 0, cols - 2 - wl);
			waddch(title, ' ');
			tui_text_put(title, where, 0, wl - 2);
			waddch(title, ' ');
			break;
		}
		if ((cut = strstr(where, ", ")) == NULL)
			break;
		memmove(where, cut + 2, strlen(cut + 2) + 1);
	}
	free(where);
	free(name);
	wnoutrefresh(title);
}
