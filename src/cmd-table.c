/*
 * cmd-table.c - the commands of chiffon, in the order --help lists them.
 * Add one row per command; the help text is generated from this table so
 * the two cannot drift apart.
 */
#include "config.h"

#include <stddef.h>

#include "app.h"

int	cmd_version(struct app *, int, char **);

const struct cmd cmd_table[] = {
	{ "version", "", "print the version and exit", cmd_version },
	{ NULL, NULL, NULL, NULL },
};
