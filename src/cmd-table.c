/*
 * cmd-table.c - the commands of chiffon, in the order --help lists them.
 * Add one row per command; the help text is generated from this table so
 * the two cannot drift apart.
 */
#include "config.h"

#include <stddef.h>

#include "app.h"

int	cmd_shell(struct app *, int, char **);
int	cmd_version(struct app *, int, char **);
int	cmd_db(struct app *, int, char **);
int	cmd_plugins(struct app *, int, char **);
int	cmd_lint(struct app *, int, char **);
int	cmd_catalog(struct app *, int, char **);

const struct cmd cmd_table[] = {
	{ "shell", "", "open the terminal shell (the default)", cmd_shell },
	{ "version", "", "print the version and exit", cmd_version },
	{ "db", "start|stop|status|url|migrate", "manage the database (embedded PostgreSQL cluster)", cmd_db },
	{ "plugins", "[--json]", "list loaded plugins and refused files", cmd_plugins },
	{ "catalog", "[--json] [--refresh]", "list the playbooks, roles and hosts of the Ansible repo", cmd_catalog },
	{ "lint", "[--json] PLAYBOOK", "ansible-lint suggestions for a playbook, by category", cmd_lint },
	{ NULL, NULL, NULL, NULL },
};
