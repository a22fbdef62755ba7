/*
 * cmd-run.c - `chiffon run [--yes] [--check] REQUEST`: plan a request,
 * show the plan, ask y/N on the terminal (or take --yes), approve it and
 * execute it with this process's own worker, streaming every output line
 * to stdout as it comes.
 *
 * With --check it is a dry run instead: every step's playbook runs in
 * check mode with diffs; nothing is approved and nothing changes (the
 * plan stays pending approval).
 *
 * Exit status: 0 every task succeeded; 1 a task did not, the request
 * left questions, or the plan was declined; 2 usage, or no terminal to
 * ask on and no --yes; 3 environment broken (database unreachable,
 * ansible-playbook missing, infra plugin not loaded).
 *
 * cmd_run_plan is shared with `chiffon plan` (cmd-plan.c), cmd_run_execute
 * and cmd_run_dry with `chiffon approve --wait` and `chiffon dry-run`
 * (cmd-approve.c).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "approve.h"
#include "db.h"
#include "plan.h"
#include "request.h"
#include "runlog.h"
#include "util.h"

int	cmd_run(struct app *, int, char **);
struct plan *cmd_run_plan(struct app *, char *, int, const char *, int *);
int	cmd_run_execute(struct app *, struct plan *, const char *);
int	cmd_run_dry(struct app *, const struct plan *, const char *);

#define CMD_RUN_USAGE	"usage: chiffon run [--yes] [--check] \"REQUEST\"\n"

/* An output line of a run, as it comes. */
static void
cmd_run_line(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	(void)rl;
	(void)stream;
	(void)data;
	fwrite(line, 1, len, stdout);
	if (len == 0 || line[len - 1] != '\n')
		fputc('\n', stdout);
	fflush(stdout);
}

/* A step changed state. */
static void
cmd_run_step(const struct plan *plan, size_t i, const char *status,
    const char *reason, void *data)
{
	const struct plan_task	*t = &plan->tasks[i];

	(void)data;
	printf("==> step %d %s %s (%s): %s%s%s\n", t->step, t->action,
	    t->service != NULL ? t->service : "?", t->playbook != NULL ?
	    t->playbook : "-", status, reason != NULL && *reason != '\0' ?
	    ": " : "", reason != NULL ? reason : "");
	fflush(stdout);
}

/* Per step: final status and the counts of its last run. */
static void
cmd_run_report(struct app *app, const struct plan *plan)
{
	struct db	*db = app_db(app, NULL);
	long long	 changed, failed;
	size_t		 i, nok = 0;
	char		*summary;

	printf("\nPlan %lld version %d:\n", plan->plan_id, plan->version);
	for (i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];

		summary = db != NULL ? approve_task_summary(db_pg(db), t->id) :
		    NULL;
		approve_count(summary, &changed, &failed);
		printf("%2d. %s %s  %s: %s", t->step, t->action,
		    t->service != NULL ? t->service : "?", t->playbook,
		    t->status != NULL ? t->status : "?");
		if (summary != NULL)
			printf("  changed=%lld failed=%lld", changed, failed);
		printf("\n");
		free(summary);
		if (t->status != NULL && strcmp(t->status, "succeeded") == 0)
			nok++;
	}
	if (nok == plan->ntasks)
		printf("All %zu step%s succeeded.\n", plan->ntasks,
		    plan->ntasks == 1 ? "" : "s");
	else
		printf("%zu of %zu step%s did not succeed.\n",
		    plan->ntasks - nok, plan->ntasks,
		    plan->ntasks == 1 ? "" : "s");
}

/* Per step: what its check-mode run said. */
static void
cmd_run_dry_report(const struct plan *plan, const struct approve_dry *dry)
{
	size_t	i;

	printf("\nDry run of plan %lld version %d (check mode, nothing "
	    "changed):\n", plan->plan_id, plan->version);
	for (i = 0; i < plan->ntasks; i++)
		printf("%2d. %s %s  %s: %s  would change=%lld failed=%lld\n",
		    dry[i].step, plan->tasks[i].action,
		    plan->tasks[i].service != NULL ? plan->tasks[i].service :
		    "?", plan->tasks[i].playbook != NULL ?
		    plan->tasks[i].playbook : "-", dry[i].status,
		    dry[i].changed, dry[i].failed);
}

/* y/N on the terminal.  Non-zero for yes. */
static int
cmd_run_confirm(const struct plan *plan)
{
	char	line[64];

	printf("\nRun plan %lld (%zu step%s)? [y/N] ", plan->plan_id,
	    plan->ntasks, plan->ntasks == 1 ? "" : "s");
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

/*
 * Check the environment (need_ansible: ansible-playbook too) and plan
 * text, asking on the terminal; frees text.  The plan, or NULL with *rcp
 * the exit status once it said why as "chiffon cmd: ...".
 */
struct plan *
cmd_run_plan(struct app *app, char *text, int need_ansible, const char *cmd,
    int *rcp)
{
	enum request_error	 why;
	struct plan		*plan;
	char			*err = NULL;

	if (request_check_env(app, need_ansible, &err) != 0) {
		fprintf(stderr, "chiffon %s: %s\n", cmd, err);
		free(err);
		free(text);
		*rcp = EXIT_ENV;
		return NULL;
	}
	plan = request_plan(app, text, REQUEST_SOURCE_CLI, NULL,
	    request_ask_tty, NULL, &why, &err);
	free(text);
	if (plan == NULL) {
		fprintf(stderr, "chiffon %s: %s\n", cmd, err);
		free(err);
		*rcp = why == REQUEST_ERR_CONFIG || why == REQUEST_ERR_INPUT ?
		    EXIT_USAGE : EXIT_ENV;
	}
	return plan;
}

/*
 * Run plan in check mode, streaming its lines, and report each step.
 * The exit status; errors are "chiffon cmd: ...".
 */
int
cmd_run_dry(struct app *app, const struct plan *plan, const char *cmd)
{
	struct approve_dry	*dry;
	char			*err = NULL;
	int			 nbad;

	nbad = approve_dry_run(app, plan, cmd_run_line, NULL, &dry, &err);
	if (nbad < 0) {
		fprintf(stderr, "chiffon %s: %s\n", cmd, err);
		free(err);
		return EXIT_ENV;
	}
	cmd_run_dry_report(plan, dry);
	approve_dry_free(dry, plan->ntasks);
	return nbad == 0 ? EXIT_OK : EXIT_FAIL;
}

/*
 * Execute the approved plan with this process's worker, streaming its
 * lines, then report; frees plan.  The exit status; errors are
 * "chiffon cmd: ...".
 */
int
cmd_run_execute(struct app *app, struct plan *plan, const char *cmd)
{
	char	*err = NULL;
	int	 rc;

	rc = approve_execute(app, plan, cmd_run_line, NULL, cmd_run_step,
	    NULL, &err);
	if (rc < 0) {
		fprintf(stderr, "chiffon %s: %s\n", cmd, err);
		free(err);
		plan_free(plan);
		return EXIT_ENV;
	}
	cmd_run_report(app, plan);
	plan_free(plan);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

int
cmd_run(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct approve_who	 who = approve_who_current();
	struct plan		*plan;
	char			*text, *err = NULL, *s;
	int			 ch, yes = 0, check = 0, rc, nq = 0;

	while ((ch = getopt_long(argc, argv, "ych", longopts, NULL)) != -1) {
		switch (ch) {
		case 'y':
			yes = 1;
			break;
		case 'c':
			check = 1;
			break;
		case 'h':
			printf(CMD_RUN_USAGE);
			return EXIT_OK;
		default:
			fprintf(stderr, CMD_RUN_USAGE);
			return EXIT_USAGE;
		}
	}
	text = request_text_argv(argc, argv, optind);
	if (*text == '\0') {
		free(text);
		fprintf(stderr, CMD_RUN_USAGE);
		return EXIT_USAGE;
	}
	if (!yes && !check && !isatty(STDIN_FILENO)) {
		free(text);
		fprintf(stderr, "chiffon run: no terminal to ask for approval "
		    "on; pass --yes to approve the plan without asking, or "
		    "use chiffon plan and chiffon approve\n");
		return EXIT_USAGE;
	}
	if ((plan = cmd_run_plan(app, text, 1, "run", &rc)) == NULL)
		return rc;
	s = plan_format(plan);
	fputs(s, stdout);
	free(s);
	fflush(stdout);
	if (plan->row_id <= 0) {
		printf("\nRequest %lld is recorded with its questions; "
		    "nothing runs.\n", plan->request_id);
		plan_free(plan);
		return EXIT_FAIL;
	}
	if (check) {
		rc = cmd_run_dry(app, plan, "run");
		if (rc != EXIT_ENV)
			printf("The plan stays pending approval: chiffon "
			    "approve %lld\n", plan->plan_id);
		plan_free(plan);
		return rc;
	}
	if (!yes && !cmd_run_confirm(plan)) {
		if (approve_reject(db_pg(app->db), plan->row_id, &who,
		    "declined at the terminal prompt", &err) < 0) {
			fprintf(stderr, "chiffon run: %s\n", err);
			free(err);
		}
		printf("Declined: plan %lld is rejected; nothing ran.\n",
		    plan->plan_id);
		plan_free(plan);
		return EXIT_FAIL;
	}
	if (approve_plan(db_pg(app->db), plan->row_id, &who, &nq, &err) < 0) {
		fprintf(stderr, "chiffon run: %s\n", err);
		free(err);
		plan_free(plan);
		return EXIT_ENV;
	}
	printf("\nApproved by %s%s%s; %d task%s queued.\n", who.user,
	    who.ssh_client != NULL ? " from " : "", who.ssh_client != NULL ?
	    who.ssh_client : "", nq, nq == 1 ? "" : "s");
	fflush(stdout);
	return cmd_run_execute(app, plan, "run");
}
