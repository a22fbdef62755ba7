/*
 * tui-text.c - UTF-8 text measured and drawn by screen columns.
 *
 * Everything on the screen passes through here so that wide characters,
 * combining marks, invalid bytes and control characters (a playbook's
 * output may hold any of them) never move the cursor somewhere curses does
 * not expect.
 */
#include "config.h"

#include <string.h>
#include <wchar.h>

#include "tui.h"

/*
 * Decode one character at s (at most len bytes).  Sets *wc and returns the
 * bytes used; an invalid or truncated sequence yields one byte and L'?'.
 */
static size_t
tui_text_next(const char *s, size_t len, wchar_t *wc)
{
	mbstate_t	 ps;
	size_t		 n;

	memset(&ps, 0, sizeof ps);
	n = mbrtowc(wc, s, len, &ps);
	if (n == (size_t)-1 || n == (size_t)-2) {
		*wc = L'?';
		return 1;
	}
	if (n == 0) {		/* an embedded NUL */
		*wc = L'?';
		return 1;
	}
	return n;
}

/* Columns of one character as drawn (control characters become '?'). */
static int
tui_text_cols(wchar_t *wc)
{
	int	w;

	if (*wc == L'\t')
		*wc = L' ';
	w = wcwidth(*wc);
	if (w < 0) {
		*wc = L'?';
		w = 1;
	}
	return w;
}

int
tui_text_width(const char *s, size_t len)
{
	wchar_t	wc;
	size_t	i = 0, n;
	int	cols = 0;

	while (i < len) {
		n = tui_text_next(s + i, len - i, &wc);
		cols += tui_text_cols(&wc);
		i += n;
	}
	return cols;
}

int
tui_text_put(WINDOW *w, const char *s, int skipcols, int maxcols)
{
	wchar_t	wc;
	size_t	len = strlen(s), i = 0, n;
	int	col = 0, drawn = 0, cw;

	while (i < len && drawn < maxcols) {
		n = tui_text_next(s + i, len - i, &wc);
		i += n;
		cw = tui_text_cols(&wc);
		if (col < skipcols) {
			col += cw;
			/* A wide character cut by the left edge: pad. */
			for (; col > skipcols && drawn < maxcols; skipcols++) {
				waddch(w, ' ');
				drawn++;
			}
			continue;
		}
		if (cw == 0) {
			/* Combining mark: attach to what was drawn. */
			if (drawn > 0)
				waddnwstr(w, &wc, 1);
			continue;
		}
		if (drawn + cw > maxcols)
			break;
		waddnwstr(w, &wc, 1);
		col += cw;
		drawn += cw;
	}
	return drawn;
}
