/*
 * tui-search.c - searching the Log pane: "/" takes the request line's
 * text, n and N go to the next and previous line containing it.  The
 * live output is searched in its ring of lines; a replayed log in the
 * database (audit_query_output_find), so a run of any length is searched
 * without being loaded.  The line found becomes the top of the view.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chiffon/plugin.h"
#include "tui.h"
#include "util.h"

/* In the ring: the view's top moves to the line found.  1 or 0. */
static int
tui_search_ring(struct tui_log *l, const char *text, int dir, size_t rows)
{
	const struct tui_line	*line;
	size_t			 first = tui_log_first(l, rows), i, max;

	max = l->count > rows ? l->count - rows : 0;
	for (i = first;;) {
		if (dir > 0) {
			if (i + 1 >= l->count)
				return 0;
			i++;
		} else {
			if (i == 0)
				return 0;
			i--;
		}
		line = tui_log_get(l, i);
		if (line != NULL && strstr(line->text, text) != NULL)
			break;
	}
	/* scroll counts the lines back from the newest page. */
	l->scroll = i >= max ? 0 : max - i;
	return 1;
}

void
tui_search(struct tui *t, const char *text, int dir)
{
	char	*err = NULL, *msg;
	int	 found;

	if (text != NULL) {
		free(t->search);
		t->search = xstrdup(text);
	}
	if (t->search == NULL) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "nothing to search "
		    "for: type the text on the request line, then Esc /");
		return;
	}
	if (t->geom.too_small)
		return;
	if (t->replay != NULL)
		found = tui_replay_search(t, t->search, dir, &err);
	else
		found = tui_search_ring(&t->log, t->search, dir,
		    (size_t)t->geom.log_h);
	if (found < 0) {
		tui_log_line(t, CHIFFON_LOG_ERROR, NULL, err);
		free(err);
		return;
	}
	if (found == 0) {
		msg = xasprintf("'%s' not found %s the top line (n: next, N: "
		    "previous)", t->search, dir > 0 ? "below" : "above");
		/* Into the ring only: a replay keeps its view. */
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
	}
	tui_layout_draw_panes(t);
}
