/*
 * tui-term.c - whether the terminal can draw the shell at all (see
 * tui.h), asked of terminfo before curses starts.  Apart from the other
 * TUI files because <term.h> defines macros (lines, columns) that clash
 * with their members' names.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "util.h"

/* After tui.h: its members are not term.h's macros. */
#include <term.h>

int
tui_term_usable(char **errp)
{
	const char	*term = getenv("TERM");
	char		*cup;
	int		 err = 0;

	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return set_error(errp, "TERM=%s cannot draw the full-screen "
		    "shell: use the commands instead (chiffon plan, chiffon "
		    "run, chiffon show, chiffon audit; chiffon --help lists "
		    "them)", term != NULL ? term : "");
	if (setupterm(term, STDOUT_FILENO, &err) != OK)
		return set_error(errp, "cannot use the terminal type '%s' "
		    "(terminfo does not know it): set TERM to a type it "
		    "knows (for example xterm-256color), or use the commands "
		    "(chiffon --help lists them)", term);
	cup = tigetstr("cup");
	del_curterm(cur_term);
	if (cup == NULL || cup == (char *)-1)
		return set_error(errp, "TERM=%s cannot move the cursor, which "
		    "the full-screen shell needs: use the commands instead "
		    "(chiffon --help lists them)", term);
	return 0;
}
