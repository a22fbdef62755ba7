/*
 * tui-search.c - searching the Log pane: "/" takes the request line's
 * text, n and N go to the next and previous line containing it.  The
 * live output is searched in its ring of lines and, above it, in
 * run_output (tui_logpane_search); a replayed log in the database
 * (audit_query_output_find), so a run of any length is searched without
 * being loaded.  A host filter's lines are searched as shown.  The line
 * found becomes the top of the view.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chiffon/plugin.h"
#include "tui.h"
#include "util.h"

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
	if (t->replay != NULL && tui_logpane_host_name(t) == NULL)
		found = tui_replay_search(t, t->search, dir, &err);
	else
		found = tui_logpane_search(t, t->search, dir, &err);
	if (found < 0) {
		tui_log_line(t, CHIFFON_LOG_ERROR, NULL, err);
		free(err);
		return;
	}
	tui_logpane_note(t, NULL);
	if (found == 0) {
		msg = xasprintf("'%s' not found %s", t->search, dir > 0 ?
		    "below" : "above");
		tui_logpane_note(t, msg);
		free(msg);
		msg = xasprintf("'%s' not found %s the top line (n: next, N: "
		    "previous)", t->search, dir > 0 ? "below" : "above");
		/* Into the ring only: a replay keeps its view. */
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
	}
	tui_layout_draw_panes(t);
}
