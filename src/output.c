/*
 * output.c - coloured or plain text for stdout (see output.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "util.h"

int
output_color(const char *when)
{
	const char	*nc = getenv("NO_COLOR");

	if (when == NULL || strcmp(when, "auto") == 0)
		return isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
	if (strcmp(when, "always") == 0)
		return 1;
	if (strcmp(when, "never") == 0)
		return 0;
	return -1;
}

/* Skip the escape sequence at line[i] (an ESC); the index after it. */
static size_t
output_skip_escape(const char *line, size_t len, size_t i)
{
	i++;
	if (i >= len)
		return i;
	if (line[i] == '[') {
		/* CSI: parameters, then one final byte. */
		for (i++; i < len && (line[i] < '@' || line[i] > '~'); i++)
			/* nothing */;
		return i < len ? i + 1 : i;
	}
	if (line[i] == ']') {
		/* OSC: up to BEL or ESC \ */
		for (i++; i < len && line[i] != '\a' && line[i] != '\033'; i++)
			/* nothing */;
		if (i < len && line[i] == '\033')
			i++;
		return i < len ? i + 1 : i;
	}
	return i + 1;
}

char *
output_plain(const char *line, size_t len)
{
	char	*s = xmalloc(len + 1), *o = s;
	size_t	 i = 0;

	while (i < len) {
		if (line[i] == '\033') {
			i = output_skip_escape(line, len, i);
			continue;
		}
		if ((unsigned char)line[i] < ' ' && line[i] != '\t') {
			i++;
			continue;
		}
		*o++ = line[i++];
	}
	*o = '\0';
	return s;
}

/*
 * An ansible banner ("PLAY [x] *****...") drawn for a wider terminal: cut
 * its run of stars so that it fits cols (at least three stay).
 */
static void
output_fit_banner(char *s, size_t cols)
{
	size_t	len = strlen(s), stars = 0;

	while (stars < len && s[len - 1 - stars] == '*')
		stars++;
	if (len <= cols || stars < 3 || stars == len ||
	    s[len - 1 - stars] != ' ')
		return;
	if (len - stars + 3 > cols)
		s[len - stars + 3] = '\0';
	else
		s[cols] = '\0';
}

void
output_line(FILE *f, const char *line, size_t len, int color)
{
	char	*s;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (color) {
		fwrite(line, 1, len, f);
		fputc('\n', f);
		return;
	}
	s = output_plain(line, len);
	output_fit_banner(s, OUTPUT_PLAIN_COLS);
	fputs(s, f);
	fputc('\n', f);
	free(s);
}
