/*
 * tui-log.c - the scrolling line buffers behind the log and plan panes.
 *
 * A ring of at most cap lines: adding past it drops the oldest.  The view
 * follows new lines until the user scrolls back (scroll > 0); while
 * scrolled back it stays on the same lines as new ones arrive, as in tmux's
 * copy mode, until it is scrolled to the bottom again.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chiffon/plugin.h"
#include "tui.h"
#include "util.h"

void
tui_log_init(struct tui_log *l, size_t cap)
{
	memset(l, 0, sizeof *l);
	l->cap = cap > 0 ? cap : 1;
	l->lines = xcalloc(l->cap, sizeof *l->lines);
}

void
tui_log_clear(struct tui_log *l)
{
	size_t	i;

	for (i = 0; i < l->count; i++)
		free(l->lines[(l->start + i) % l->cap].text);
	l->start = l->count = l->scroll = 0;
}

void
tui_log_free(struct tui_log *l)
{
	tui_log_clear(l);
	free(l->lines);
	memset(l, 0, sizeof *l);
}

/* Append one line (len bytes of text). */
static void
tui_log_push(struct tui_log *l, int level, const char *text, size_t len)
{
	struct tui_line	*line;

	if (l->count == l->cap) {
		line = &l->lines[l->start];
		free(line->text);
		l->start = (l->start + 1) % l->cap;
		l->count--;
	}
	/* Keep a scrolled-back view on the same lines. */
	if (l->scroll > 0)
		l->scroll++;
	line = &l->lines[(l->start + l->count) % l->cap];
	line->level = level;
	line->text = xstrndup(text, len);
	l->count++;
	if (l->scroll >= l->count)
		l->scroll = l->count - 1;
}

void
tui_log_add(struct tui_log *l, int level, const char *text)
{
	const char	*nl;

	for (;;) {
		nl = strchr(text, '\n');
		if (nl == NULL) {
			tui_log_push(l, level, text, strlen(text));
			return;
		}
		tui_log_push(l, level, text, nl - text);
		text = nl + 1;
		if (*text == '\0')
			return;
	}
}

const struct tui_line *
tui_log_get(const struct tui_log *l, size_t i)
{
	if (i >= l->count)
		return NULL;
	return &l->lines[(l->start + i) % l->cap];
}

/* Largest useful scroll for a window of rows lines. */
static size_t
tui_log_max_scroll(const struct tui_log *l, size_t rows)
{
	return l->count > rows ? l->count - rows : 0;
}

void
tui_log_scroll(struct tui_log *l, long delta, size_t rows)
{
	size_t	max = tui_log_max_scroll(l, rows);

	if (delta < 0 && (size_t)-delta >= l->scroll)
		l->scroll = 0;
	else if (delta < 0)
		l->scroll -= (size_t)-delta;
	else
		l->scroll += (size_t)delta;
	if (l->scroll > max)
		l->scroll = max;
}

size_t
tui_log_first(const struct tui_log *l, size_t rows)
{
	size_t	scroll = l->scroll, max = tui_log_max_scroll(l, rows);

	if (scroll > max)
		scroll = max;
	return tui_log_max_scroll(l, rows) - scroll;
}

/* Attributes for a line of the given level. */
static attr_t
tui_log_attr(int level)
{
	switch (level) {
	case CHIFFON_LOG_ERROR:
		return A_BOLD | (has_colors() ? COLOR_PAIR(1) : 0);
	case CHIFFON_LOG_WARNING:
		return has_colors() ? COLOR_PAIR(2) : A_BOLD;
	case CHIFFON_LOG_DEBUG:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

void
tui_log_draw(const struct tui_log *l, WINDOW *w)
{
	const struct tui_line	*line;
	int			 rows, cols, y;
	size_t			 first;

	getmaxyx(w, rows, cols);
	werase(w);
	first = tui_log_first(l, (size_t)rows);
	for (y = 0; y < rows; y++) {
		line = tui_log_get(l, first + (size_t)y);
		if (line == NULL)
			break;
		wmove(w, y, 0);
		wattrset(w, tui_log_attr(line->level));
		tui_text_put(w, line->text, 0, cols);
		wattrset(w, A_NORMAL);
	}
	wnoutrefresh(w);
}
