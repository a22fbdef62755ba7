/*
 * cmd-shell.c - `chiffon shell`, what `chiffon` runs with no command: the
 * full-screen terminal shell.
 *
 * Everything that may fail slowly or loudly happens before curses starts,
 * so that its messages are printed normally: the database is opened (the
 * embedded cluster started and migrated if needed) and the plugins are
 * loaded, then the screen takes over.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "tui.h"

static int	cmd_shell(struct app *, int, char **);

const struct cmd_entry cmd_shell_entry = {
	.name = "shell",
	.usage = "",
	.summary = "open the terminal shell (the default)",
	.args = { 0, 0 },
	.exec = cmd_shell,
};

static int
cmd_shell(struct app *app, int argc, char **argv)
{
	char	*err = NULL;

	if (argc > 1) {
		fprintf(stderr, "chiffon: shell takes no arguments "
		    "(chiffon --help lists the commands)\n");
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "chiffon: the shell needs a terminal on its "
		    "standard input and output; give a command instead "
		    "(chiffon --help lists them)\n");
		return EXIT_USAGE;
	}
	/* Before the database: nothing is started for a shell not drawn. */
	if (tui_term_usable(&err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (app_db(app, &err) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	app_plugins(app);
	return tui_run(app);
}
