/*
 * cmd-version.c - `chiffon version` (and -V, --version): the version and
 * the plugin ABI this chiffon provides.
 */
#include "config.h"

#include <stdio.h>

#include "chiffon/plugin.h"
#include "app.h"
#include "cmd.h"

static int	cmd_version(struct app *, int, char **);

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.usage = "",
	.summary = "print the version and exit",
	.args = { 0, 0 },
	.exec = cmd_version,
};

static int
cmd_version(struct app *app, int argc, char **argv)
{
	(void)app;
	if (argc > 1)
		return cmd_usage(stderr, &cmd_version_entry);
	printf("chiffon %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
	    CHIFFON_PLUGIN_ABI_MAJOR, CHIFFON_PLUGIN_ABI_MINOR);
	return EXIT_OK;
}
