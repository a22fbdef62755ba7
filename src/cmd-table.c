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
int	cmd_worker(struct app *, int, char **);
int	cmd_agent(struct app *, int, char **);
int	cmd_agents(struct app *, int, char **);
int	cmd_audit(struct app *, int, char **);
int	cmd_show(struct app *, int, char **);
int	cmd_plan(struct app *, int, char **);
int	cmd_run(struct app *, int, char **);
int	cmd_approve(struct app *, int, char **);
int	cmd_reject(struct app *, int, char **);
int	cmd_modify(struct app *, int, char **);
int	cmd_dryrun(struct app *, int, char **);
int	cmd_generate(struct app *, int, char **);

const struct cmd cmd_table[] = {
	{ "shell", "", "open the terminal shell (the default)", cmd_shell },
	{ "version", "", "print the version and exit", cmd_version },
	{ "db", "start|stop|status|url|migrate|prune", "manage the database (embedded PostgreSQL cluster)", cmd_db },
	{ "plugins", "[--json]", "list loaded plugins and refused files", cmd_plugins },
	{ "catalog", "[--json] [--refresh]", "list the playbooks, roles and hosts of the Ansible repo", cmd_catalog },
	{ "lint", "[--json] PLAYBOOK", "ansible-lint suggestions for a playbook, by category", cmd_lint },
	{ "plan", "[--json] \"REQUEST\"", "understand a request and store its plan, pending approval", cmd_plan },
	{ "approve", "[--wait] PLAN", "approve a plan and queue its tasks (--wait: run them and wait)", cmd_approve },
	{ "reject", "PLAN --reason TEXT", "reject a plan, recording the reason", cmd_reject },
	{ "modify", "PLAN \"AMENDED TEXT\"", "plan amended text as a new version; the old one is superseded", cmd_modify },
	{ "dry-run", "PLAN", "run every step of a plan in check mode with diffs, before approval", cmd_dryrun },
	{ "run", "[--yes] [--check] \"REQUEST\"", "plan, ask, approve and run a request, streaming the output", cmd_run },
	{ "generate", "[--port N] [--image IMAGE] [--host GROUP] [--force] [--yes] SERVICE", "scaffold a new service in the repository's layout: shown, approved, validated, committed", cmd_generate },
	{ "audit", "[FILTERS] [--json] | verify | retry", "query the audit trail; verify its hash chain; retry git entries", cmd_audit },
	{ "show", "[--json] [--output] TASK", "one task: request, plan, approval, runs, resources, decisions; --output replays its output", cmd_show },
	{ "worker", "[--name NAME] [--once]", "claim and run queued tasks for the loaded plugins' capabilities", cmd_worker },
	{ "agent", "[OPTIONS] [--once [--json]]", "run this machine as an agent: heartbeat with its metrics, claim work", cmd_agent },
	{ "agents", "[--json] [--all] [FILTERS]", "the agents online and what they have free", cmd_agents },
	{ NULL, NULL, NULL, NULL },
};
