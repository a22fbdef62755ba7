/*
 * cmd-table.c - the commands of chiffon, in the order --help lists them.
 * Each entry lives in its cmd-*.c file (cmd.h); add one line here per
 * command.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "cmd.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_shell_entry,
	&cmd_version_entry,
	&cmd_db_entry,
	&cmd_plugins_entry,
	&cmd_catalog_entry,
	&cmd_lint_entry,
	&cmd_plan_entry,
	&cmd_approve_entry,
	&cmd_reject_entry,
	&cmd_modify_entry,
	&cmd_dryrun_entry,
	&cmd_run_entry,
	&cmd_generate_entry,
	&cmd_audit_entry,
	&cmd_show_entry,
	&cmd_worker_entry,
	&cmd_agent_entry,
	&cmd_agents_entry,
	NULL,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry *const	*e;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0 ||
		    ((*e)->alias != NULL && strcmp((*e)->alias, name) == 0))
			return *e;
	}
	return NULL;
}
