/*
 * cmd.h - the commands of chiffon, the way tmux keeps them: each cmd-*.c
 * file defines one const struct cmd_entry per command it implements, and
 * cmd-table.c lists them in the order --help shows them.  An entry's usage
 * is typed once: --help and every usage error print it (cmd_usage).
 */
#ifndef CHIFFON_CMD_H
#define CHIFFON_CMD_H

#include <stdio.h>

struct app;
struct plan;

/*
 * How many operands a command takes after its options: lower to upper
 * (upper -1: no limit).  cmd_args_check enforces it.
 */
struct cmd_args {
	int	lower;
	int	upper;
};

/* One command. */
struct cmd_entry {
	const char	*name;
	const char	*alias;		/* another name, or NULL */
	/*
	 * The arguments after the name, for --help and usage errors.  A
	 * further line is another form of the command when it starts with
	 * "chiffon ", else the continuation of the line above.
	 */
	const char	*usage;
	const char	*summary;	/* one line, for --help */
	struct cmd_args	 args;
	/* argv[0] is the command name.  Returns an exit status. */
	int		(*exec)(struct app *, int argc, char **argv);
};

/* The commands in --help order, ending with NULL (cmd-table.c). */
extern const struct cmd_entry *const cmd_table[];
/* The command called name (or aliased so), or NULL (cmd-table.c). */
const struct cmd_entry *cmd_find(const char *name);

/* Print "usage: chiffon NAME USAGE" to f.  Returns EXIT_USAGE. */
int	cmd_usage(FILE *f, const struct cmd_entry *);
/*
 * Check the number of operands left after getopt (argc - optind) against
 * the entry's args: 0, or EXIT_USAGE after printing the usage to stderr.
 */
int	cmd_args_check(const struct cmd_entry *, int argc, int optind);

extern const struct cmd_entry	cmd_shell_entry;
extern const struct cmd_entry	cmd_version_entry;
extern const struct cmd_entry	cmd_db_entry;
extern const struct cmd_entry	cmd_plugins_entry;
extern const struct cmd_entry	cmd_catalog_entry;
extern const struct cmd_entry	cmd_lint_entry;
extern const struct cmd_entry	cmd_plan_entry;
extern const struct cmd_entry	cmd_approve_entry;
extern const struct cmd_entry	cmd_reject_entry;
extern const struct cmd_entry	cmd_modify_entry;
extern const struct cmd_entry	cmd_dryrun_entry;
extern const struct cmd_entry	cmd_run_entry;
extern const struct cmd_entry	cmd_generate_entry;
extern const struct cmd_entry	cmd_audit_entry;
extern const struct cmd_entry	cmd_show_entry;
extern const struct cmd_entry	cmd_worker_entry;
extern const struct cmd_entry	cmd_agent_entry;
extern const struct cmd_entry	cmd_agents_entry;

/* cmd-prune.c: `chiffon db prune --older-than AGE` (argv[0] "prune"). */
int	cmd_prune(struct app *, int, char **);

/* cmd-run.c, shared with cmd-approve.c and cmd-generate.c. */
struct plan *cmd_run_plan(struct app *, char *, int, const char *, int *);
int	cmd_run_execute(struct app *, struct plan *, const char *);
int	cmd_run_dry(struct app *, const struct plan *, const char *);
int	cmd_run_confirm_risk(const struct plan *, const char *);
int	cmd_run_no_prompts(struct app *, const struct plan *, const char *);

#endif
