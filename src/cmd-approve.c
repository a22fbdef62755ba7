/*
 * cmd-approve.c - the approval gate on the command line:
 *
 *   chiffon approve [--wait] [--yes] PLAN	approve and queue its tasks
 *					(--yes: a high-risk plan without
 *					the typed confirmation)
 *   chiffon reject PLAN --reason TEXT	reject, with the reason recorded
 *   chiffon modify PLAN "AMENDED TEXT"	a new version; the old one is
 *					superseded
 *   chiffon dry-run PLAN			check-mode run of every step
 *
 * PLAN is the plan id chiffon plan printed (its newest version) or
 * ID.VERSION for one version.  With --wait, approve runs the tasks with
 * this process's own worker too (another worker or agent may take some)
 * and waits until all of them ended, streaming the output of its runs.
 *
 * Exit status: 0 done (with --wait: every task succeeded; dry-run: every
 * check run succeeded); 1 refused (the plan is not pending approval, the
 * database refused, the amended text leaves questions) or a task failed;
 * 2 usage; 3 environment broken.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "approve.h"
#include "cmd.h"
#include "db.h"
#include "plan.h"
#include "request.h"
#include "runlog.h"
#include "util.h"

static int	cmd_approve(struct app *, int, char **);
static int	cmd_reject(struct app *, int, char **);
static int	cmd_modify(struct app *, int, char **);
static int	cmd_dryrun(struct app *, int, char **);

const struct cmd_entry cmd_approve_entry = {
	.name = "approve",
	.usage = "[--wait] [--yes] PLAN",
	.summary = "approve a plan and queue its tasks (--wait: run them and "
	    "wait)",
	.args = { 1, 1 },
	.exec = cmd_approve,
};

const struct cmd_entry cmd_reject_entry = {
	.name = "reject",
	.usage = "PLAN --reason TEXT",
	.summary = "reject a plan, recording the reason",
	.args = { 1, 1 },
	.exec = cmd_reject,
};

const struct cmd_entry cmd_modify_entry = {
	.name = "modify",
	.usage = "PLAN \"AMENDED TEXT\"",
	.summary = "plan amended text as a new version; the old one is "
	    "superseded",
	.args = { 2, 2 },
	.exec = cmd_modify,
};

const struct cmd_entry cmd_dryrun_entry = {
	.name = "dry-run",
	.usage = "PLAN",
	.summary = "run every step of a plan in check mode with diffs, "
	    "before approval",
	.args = { 1, 1 },
	.exec = cmd_dryrun,
};

/*
 * Open the database (and check the plugins when asked) and resolve PLAN.
 * The plans row id, or -1 after printing why (*rcp is the exit status).
 */
static long long
cmd_approve_resolve(struct app *app, const char *cmd, const char *ref,
    int need_plugins, int need_ansible, int *rcp)
{
	struct db	*db;
	long long	 row;
	char		*err = NULL;

	*rcp = EXIT_ENV;
	if (need_plugins) {
		if (request_check_env(app, need_ansible, &err) != 0) {
			fprintf(stderr, "chiffon %s: %s\n", cmd, err);
			free(err);
			return -1;
		}
	}
	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon %s: %s\n", cmd, err);
		free(err);
		return -1;
	}
	if ((row = plan_resolve(db_pg(db), ref, &err)) < 0) {
		fprintf(stderr, "chiffon %s: %s\n", cmd, err);
		free(err);
		*rcp = EXIT_FAIL;
		return -1;
	}
	*rcp = EXIT_OK;
	return row;
}

static int
cmd_approve(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct approve_who	 who = approve_who_current(app->conf);
	struct plan		*plan;
	long long		 row, approval;
	char			*err = NULL, *s;
	int			 ch, wait = 0, yes = 0, rc, nq = 0;

	while ((ch = getopt_long(argc, argv, "wyh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			wait = 1;
			break;
		case 'y':
			yes = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_approve_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_approve_entry);
			return EXIT_USAGE;
		}
	}
	if (cmd_args_check(&cmd_approve_entry, argc, optind) != 0)
		return EXIT_USAGE;
	if ((row = cmd_approve_resolve(app, "approve", argv[optind], wait,
	    wait, &rc)) < 0)
		return rc;
	if ((plan = plan_load(db_pg(app->db), row, &err)) == NULL) {
		fprintf(stderr, "chiffon approve: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (wait && !isatty(STDIN_FILENO) &&
	    cmd_run_no_prompts(app, plan, "approve") != 0) {
		plan_free(plan);
		return EXIT_USAGE;
	}
	if (wait && (strcmp(plan->status, "approved") == 0 ||
	    strcmp(plan->status, "running") == 0)) {
		/* Approved before: only wait for it (and help run it). */
		printf("Plan %lld version %d is already %s; waiting for its "
		    "tasks.\n", plan->plan_id, plan->version, plan->status);
		fflush(stdout);
		goto wait;
	}
	/* A high-risk plan: --yes, or the word typed on the terminal. */
	if (!yes && strcmp(plan->status, "pending_approval") == 0 &&
	    (rc = cmd_run_confirm_risk(plan, "approve")) != 1) {
		plan_free(plan);
		return rc < 0 ? EXIT_USAGE : EXIT_FAIL;
	}
	approval = approve_plan(db_pg(app->db), row, &who, &nq, &err);
	if (approval < 0) {
		fprintf(stderr, "chiffon approve: %s\n", err);
		free(err);
		plan_free(plan);
		return EXIT_FAIL;
	}
	s = plan_summary(plan);
	printf("Plan %lld version %d approved by %s%s%s (approval %lld); "
	    "%d task%s queued.\n  %s\n", plan->plan_id, plan->version,
	    who.user, who.ssh_client != NULL ? " from " : "",
	    who.ssh_client != NULL ? who.ssh_client : "", approval, nq,
	    nq == 1 ? "" : "s", s);
	free(s);
	fflush(stdout);
	if (!wait) {
		plan_free(plan);
		return EXIT_OK;
	}
wait:
	return cmd_run_execute(app, plan, "approve");
}

static int
cmd_reject(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct approve_who	 who = approve_who_current(app->conf);
	const char		*reason = NULL;
	long long		 row;
	char			*err = NULL;
	int			 ch, rc;

	while ((ch = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			reason = optarg;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_reject_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_reject_entry);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || reason == NULL || *reason == '\0') {
		cmd_usage(stderr, &cmd_reject_entry);
		return EXIT_USAGE;
	}
	if ((row = cmd_approve_resolve(app, "reject", argv[optind], 0, 0,
	    &rc)) < 0)
		return rc;
	if (approve_reject(db_pg(app->db), row, &who, reason, &err) < 0) {
		fprintf(stderr, "chiffon reject: %s\n", err);
		free(err);
		return EXIT_FAIL;
	}
	printf("Plan %s rejected by %s: %s\n", argv[optind], who.user,
	    reason);
	return EXIT_OK;
}

static int
cmd_modify(struct app *app, int argc, char **argv)
{
	struct plan	*plan;
	long long	 row;
	char		*err = NULL, *s;
	int		 rc, env = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		cmd_usage(stdout, &cmd_modify_entry);
		return EXIT_OK;
	}
	if (argc != 3 || *argv[2] == '\0') {
		cmd_usage(stderr, &cmd_modify_entry);
		return EXIT_USAGE;
	}
	if ((row = cmd_approve_resolve(app, "modify", argv[1], 1, 0, &rc)) < 0)
		return rc;
	plan = approve_modify(app, row, argv[2], request_ask_tty, NULL, &env,
	    &err);
	if (plan == NULL) {
		fprintf(stderr, "chiffon modify: %s\n", err);
		free(err);
		return env ? EXIT_ENV : EXIT_FAIL;
	}
	s = plan_format(plan);
	fputs(s, stdout);
	free(s);
	if (plan->row_id > 0) {
		printf("\nThe previous version is superseded.  Approve: "
		    "chiffon approve %lld\n", plan->plan_id);
		rc = EXIT_OK;
	} else {
		printf("\nThe amended request leaves questions: plan %s is "
		    "unchanged.\n", argv[1]);
		rc = EXIT_FAIL;
	}
	plan_free(plan);
	return rc;
}

static int
cmd_dryrun(struct app *app, int argc, char **argv)
{
	struct plan	*plan;
	long long	 row;
	char		*err = NULL, *s;
	int		 rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		cmd_usage(stdout, &cmd_dryrun_entry);
		return EXIT_OK;
	}
	if (argc != 2) {
		cmd_usage(stderr, &cmd_dryrun_entry);
		return EXIT_USAGE;
	}
	if ((row = cmd_approve_resolve(app, "dry-run", argv[1], 1, 1,
	    &rc)) < 0)
		return rc;
	if ((plan = plan_load(db_pg(app->db), row, &err)) == NULL) {
		fprintf(stderr, "chiffon dry-run: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	s = plan_format(plan);
	fputs(s, stdout);
	free(s);
	fflush(stdout);
	rc = cmd_run_dry(app, plan, "dry-run");
	plan_free(plan);
	return rc;
}
