/*
 * tui-layout.c - where each part of the screen goes, and drawing it.
 *
 * Top to bottom: the status bar, the upper pane (Plan, History, Agents or
 * Task: a title row and a third of the rest), the log pane (a title row and the remainder) and the request
 * line.  Drawing goes through wnoutrefresh and a single doupdate, with the
 * request window last so that the terminal's cursor ends up on the line
 * being edited.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "util.h"

void
tui_layout_compute(int rows, int cols, struct tui_geom *g)
{
	int	avail;

	memset(g, 0, sizeof *g);
	g->rows = rows;
	g->cols = cols;
	g->too_small = rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS;
	if (g->too_small)
		return;
	avail = rows - 4;	/* status, two titles, request line */
	g->status_y = 0;
	g->plan_title_y = 1;
	g->plan_y = 2;
	g->plan_h = avail / 3;
	g->log_title_y = g->plan_y + g->plan_h;
	g->log_y = g->log_title_y + 1;
	g->log_h = avail - g->plan_h;
	g->request_y = rows - 1;
}

/* Delete a window if it exists and clear the pointer. */
static void
tui_layout_delwin(WINDOW **w)
{
	if (*w != NULL)
		delwin(*w);
	*w = NULL;
}

void
tui_layout_free(struct tui *t)
{
	tui_layout_delwin(&t->w_status);
	tui_layout_delwin(&t->w_plan_title);
	tui_layout_delwin(&t->w_plan);
	tui_layout_delwin(&t->w_log_title);
	tui_layout_delwin(&t->w_log);
	tui_layout_delwin(&t->w_request);
}

void
tui_layout_apply(struct tui *t)
{
	struct tui_geom	*g = &t->geom;

	tui_layout_free(t);
	tui_layout_compute(LINES, COLS, g);
	if (g->too_small)
		return;
	/*
	 * The rows tile the screen, so each is a window derived from
	 * stdscr: it draws into stdscr's cells instead of a copy of its own
	 * (curses keeps stdscr, curscr and newscr anyway; separate windows
	 * were a fourth screen's worth, 72 kB at 100x30).
	 */
	t->w_status = derwin(stdscr, 1, g->cols, g->status_y, 0);
	t->w_plan_title = derwin(stdscr, 1, g->cols, g->plan_title_y, 0);
	t->w_plan = derwin(stdscr, g->plan_h, g->cols, g->plan_y, 0);
	t->w_log_title = derwin(stdscr, 1, g->cols, g->log_title_y, 0);
	t->w_log = derwin(stdscr, g->log_h, g->cols, g->log_y, 0);
	t->w_request = derwin(stdscr, 1, g->cols, g->request_y, 0);
	if (t->w_status == NULL || t->w_plan_title == NULL ||
	    t->w_plan == NULL || t->w_log_title == NULL || t->w_log == NULL ||
	    t->w_request == NULL) {
		/* Only when curses is out of memory: show nothing. */
		tui_layout_free(t);
		g->too_small = 1;
		return;
	}
	leaveok(t->w_status, TRUE);
	leaveok(t->w_plan_title, TRUE);
	leaveok(t->w_plan, TRUE);
	leaveok(t->w_log_title, TRUE);
	leaveok(t->w_log, TRUE);
}

void
tui_layout_draw_status(struct tui *t)
{
	WINDOW			*w = t->w_status;
	char			*keys;
	int			 cols, right, used;

	if (w == NULL)
		return;
	keys = tui_layout_key_bar(t);
	cols = getmaxx(w);
	wbkgdset(w, ' ' | A_REVERSE);
	werase(w);
	wattrset(w, A_REVERSE);
	/* The state first; the key hint only where it fits as well. */
	right = (int)strlen(keys);
	wmove(w, 0, 0);
	used = tui_text_put(w, t->status != NULL ? t->status : " chiffon", 0,
	    cols);
	if (used + right < cols)
		mvwaddstr(w, 0, cols - right, keys);
	free(keys);
	wnoutrefresh(w);
}

/*
 * The help overlay, centred over the panes.  tui_layout_help_lines gives
 * a title and a blank line, one line per request, then a blank line and
 * two closing lines.  The request lines go in as many columns as the
 * height needs and the width allows; the title and the closing lines are
 * always shown, and request lines that still do not fit are counted.
 */
static void
tui_layout_draw_help(struct tui *t)
{
	WINDOW	 *w;
	char	**lines = tui_layout_help_lines();
	int	  n, nkeys, keyw = 0, width, h, y, x, i, rows, maxrows;
	int	  ncol, colw, shown, cw;

	for (n = 0; lines[n] != NULL; n++)
		;
	nkeys = n - 5;			/* the request lines: 2 .. n - 4 */
	for (i = 0; i < nkeys; i++) {
		cw = tui_text_width(lines[2 + i], strlen(lines[2 + i]));
		if (cw > keyw)
			keyw = cw;
	}
	/* Box (2), title (1), the two closing lines (2). */
	maxrows = t->geom.rows - 2 - 5;
	if (maxrows < 1)
		maxrows = 1;
	colw = keyw + 2;
	ncol = (nkeys + maxrows - 1) / maxrows;
	while (ncol > 1 && ncol * colw + 2 > t->geom.cols - 2)
		ncol--;
	rows = (nkeys + ncol - 1) / ncol;
	if (rows > maxrows)
		rows = maxrows;
	shown = rows * ncol < nkeys ? rows * ncol - 1 : nkeys;
	h = rows + 5;
	width = ncol * colw + 2;
	for (i = n - 2; i < n; i++) {
		cw = tui_text_width(lines[i], strlen(lines[i])) + 4;
		if (cw > width)
			width = cw;
	}
	if (width > t->geom.cols - 2)
		width = t->geom.cols - 2;
	y = (t->geom.rows - h) / 2;
	x = (t->geom.cols - width) / 2;
	w = newwin(h, width, y < 0 ? 0 : y, x < 0 ? 0 : x);
	if (w != NULL) {
		werase(w);
		box(w, 0, 0);
		wmove(w, 1, 2);
		wattrset(w, A_BOLD);
		tui_text_put(w, lines[0], 0, width - 4);
		wattrset(w, A_NORMAL);
		for (i = 0; i <= shown && i < rows * ncol; i++) {
			int	c = i / rows, room = width - 4 - c * colw;
			char	*more;

			if (room <= 0)
				continue;
			if (room > colw - 2)
				room = colw - 2;
			wmove(w, 2 + i % rows, 2 + c * colw);
			if (i < shown) {
				tui_text_put(w, lines[2 + i], 0, room);
				continue;
			}
			if (shown == nkeys)
				break;
			more = xasprintf("... %d more (a larger terminal, "
			    "or man chiffon)", nkeys - shown);
			tui_text_put(w, more, 0, room);
			free(more);
		}
		for (i = 0; i < 2; i++) {
			wmove(w, h - 3 + i, 2);
			tui_text_put(w, lines[n - 2 + i], 0, width - 4);
		}
		wnoutrefresh(w);
		delwin(w);
	}
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

void
tui_layout_draw_panes(struct tui *t)
{
	if (t->geom.too_small)
		return;
	tui_pane_draw(t, t->top, t->w_plan_title, t->w_plan);
	tui_pane_draw(t, TUI_FOCUS_LOG, t->w_log_title, t->w_log);
	if (t->help)
		tui_layout_draw_help(t);
	/* The request window last: it holds the cursor. */
	tui_input_redisplay();
}

void
tui_layout_draw(struct tui *t)
{
	char	*msg;

	if (t->geom.too_small) {
		erase();
		msg = xasprintf("chiffon: the terminal is too small (%dx%d); "
		    "it needs at least %dx%d.", COLS, LINES, TUI_MIN_COLS,
		    TUI_MIN_ROWS);
		move(0, 0);
		tui_text_put(stdscr, msg, 0, COLS * LINES);
		free(msg);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	tui_layout_draw_status(t);
	tui_layout_draw_panes(t);
}

char **
tui_layout_help_lines(void)
{
	static const char *const helps[] = {
#define TUI_LAYOUT_HELP(id, name, help) help,
		TUI_REQUESTS(TUI_LAYOUT_HELP)
#undef TUI_LAYOUT_HELP
	};
	static const struct {
		enum tui_request	 req;
		const char		*label;
		int			 map;
	} keys[] = {
#define TUI_LAYOUT_KEY(id, label, cap, seq, map) { TUI_REQ_##id, label, map },
		TUI_KEYS(TUI_LAYOUT_KEY)
#undef TUI_LAYOUT_KEY
	};
	struct strbuf	  sb = { 0 };
	char		**lines;
	size_t		  n = 0, r, k;

	lines = xcalloc(TUI_REQ__COUNT + 6, sizeof *lines);
	lines[n++] = xstrdup("chiffon keys");
	lines[n++] = xstrdup("");
	for (r = 0; r < TUI_REQ__COUNT; r++) {
		strbuf_reset(&sb);
		for (k = 0; k < nitems(keys); k++) {
			if (keys[k].req != r || keys[k].label == NULL)
				continue;
			if (sb.len > 0)
				strbuf_adds(&sb, ", ");
			/* Command mode's keys are written "Esc a". */
			if (keys[k].map == TUI_MAP_CMD)
				strbuf_adds(&sb, "Esc ");
			strbuf_adds(&sb, keys[k].label);
		}
		lines[n++] = xasprintf("%-20s %s",
		    sb.buf != NULL ? sb.buf : "", helps[r]);
	}
	strbuf_free(&sb);
	lines[n++] = xstrdup("");
	lines[n++] = xstrdup("Other keys edit the request line as in bash "
	    "(readline); letters are always text there.");
	lines[n++] = xstrdup("Press any key to close this help.");
	lines[n] = NULL;
	return lines;
}

/* The key bar's requests for each state of the shell. */
static const enum tui_request tui_layout_bar_idle[] = {
	TUI_REQ_HELP, TUI_REQ_QUIT,
};
static const enum tui_request tui_layout_bar_pending[] = {
	TUI_REQ_APPROVE, TUI_REQ_REJECT, TUI_REQ_MODIFY, TUI_REQ_DRY_RUN,
	TUI_REQ_PENDING,
};
/* The Plan pane lists the pending plans. */
static const enum tui_request tui_layout_bar_list[] = {
	TUI_REQ_OPEN, TUI_REQ_REJECT, TUI_REQ_MODIFY, TUI_REQ_PENDING,
};

/* The first labelled key of req bound in map (TUI_MAP_*), or NULL. */
static const char *
tui_layout_key_label(enum tui_request req, int map)
{
	static const struct {
		enum tui_request	 req;
		const char		*label;
		int			 map;
	} keys[] = {
#define TUI_LAYOUT_BAR_KEY(id, label, cap, seq, map) \
		{ TUI_REQ_##id, label, map },
		TUI_KEYS(TUI_LAYOUT_BAR_KEY)
#undef TUI_LAYOUT_BAR_KEY
	};
	size_t	k;

	for (k = 0; k < nitems(keys); k++)
		if (keys[k].req == req && keys[k].label != NULL &&
		    (keys[k].map & map) != 0 &&
		    (map != TUI_MAP_CMD || keys[k].map == TUI_MAP_CMD))
			return keys[k].label;
	return NULL;
}

char *
tui_layout_key_bar(const struct tui *t)
{
	static const char *const names[] = {
#define TUI_LAYOUT_NAME(id, name, help) name,
		TUI_REQUESTS(TUI_LAYOUT_NAME)
#undef TUI_LAYOUT_NAME
	};
	const enum tui_request	*reqs = tui_layout_bar_idle;
	size_t			 n = nitems(tui_layout_bar_idle), i;
	struct strbuf		 sb = { 0 };
	const char		*label;
	long long		 task_id;
	int			 map = TUI_MAP_EDIT;

	if (t->confirm_row != 0)
		return xstrdup(" Enter confirm  C-c no ");
	if (t->ask == TUI_ASK_PROMPT)
		return xstrdup(" Enter send  C-c no answer ");
	if (t->ask != TUI_ASK_NONE)
		return xstrdup(" y Enter yes  C-c no ");
	if (t->amend_row != 0)
		return xstrdup(" Enter new version  C-c keep ");
	if (t->cmd_mode)
		map = TUI_MAP_CMD;
	if (tui_pending_shown(t)) {
		reqs = tui_layout_bar_list;
		n = nitems(tui_layout_bar_list);
	} else if (t->cmd_mode) {
		reqs = tui_layout_bar_pending;
		n = nitems(tui_layout_bar_pending);
	} else if (tui_plan_pending(t)) {
		reqs = tui_layout_bar_pending;
		n = nitems(tui_layout_bar_pending);
	}
	strbuf_adds(&sb, " ");
	/* A step running: the key that cancels it comes first. */
	if (!t->cmd_mode && tui_exec_running_step(t->exec, &task_id) >= 0 &&
	    (label = tui_layout_key_label(TUI_REQ_CLEAR, map)) != NULL)
		strbuf_addf(&sb, "%s cancel  ", label);
	for (i = 0; i < n; i++) {
		if ((label = tui_layout_key_label(reqs[i], map)) == NULL)
			continue;
		strbuf_addf(&sb, "%s %s  ", label, names[reqs[i]]);
	}
	sb.buf[--sb.len] = '\0';
	return strbuf_detach(&sb);
}
