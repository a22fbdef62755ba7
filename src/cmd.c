/*
 * cmd.c - what every command shares: its usage text and the check of its
 * operands (see cmd.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cmd.h"

int
cmd_usage(FILE *f, const struct cmd_entry *e)
{
	const char	*line = e->usage, *nl;
	int		 indent, first = 1;

	indent = (int)strlen("usage: chiffon ") + (int)strlen(e->name) + 1;
	do {
		nl = strchr(line, '\n');
		if (first)
			fprintf(f, "usage: chiffon %s%s", e->name,
			    *line != '\0' && *line != '\n' ? " " : "");
		else if (strncmp(line, "chiffon ", 8) == 0)
			fprintf(f, "       ");
		else
			fprintf(f, "%*s", indent, "");
		if (nl != NULL)
			fprintf(f, "%.*s\n", (int)(nl - line), line);
		else
			fprintf(f, "%s\n", line);
		first = 0;
		line = nl != NULL ? nl + 1 : NULL;
	} while (line != NULL && *line != '\0');
	return EXIT_USAGE;
}

int
cmd_args_check(const struct cmd_entry *e, int argc, int optind)
{
	int	n = argc - optind;

	if (n < e->args.lower || (e->args.upper >= 0 && n > e->args.upper))
		return cmd_usage(stderr, e);
	return 0;
}
