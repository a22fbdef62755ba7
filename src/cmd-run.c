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
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "approve.h"
#include "db.h"
#include "loop.h"
#include "output.h"
#include "plan.h"
#include "request.h"
#include "runlog.h"
#include "spawn.h"
#include "util.h"

static int	cmd_run(struct app *, int, char **);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[--yes] [--check] [--color=auto|always|never] "
	    "\"REQUEST\"",
	.summary = "plan, ask, approve and run a request, streaming the "
	    "output",
	.args = { 1, 1 },
	.exec = cmd_run,
};

/* Colour in the output lines: -1 until decided (output_color). */
static int	cmd_run_color = -1;

/*
 * The playbook waits at a prompt (spawn_prompt_waiting) whose line was
 * just printed: read the answer on the terminal without echo and hand
 * it to the playbook's terminal alone; without a terminal, stop the
 * playbook (it would wait until its timeout).
 */
static void
cmd_run_prompt(void)
{
	struct termios	 old, quiet;
	char		 answer[1024], *err = NULL;
	int		 got;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) != 0) {
		fprintf(stderr, "chiffon: the playbook asks for input and there "
		    "is no terminal to answer on; stopping it\n");
		spawn_prompt_refuse();
		return;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	got = fgets(answer, sizeof answer, stdin) != NULL;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stdout);
	answer[strcspn(answer, "\r\n")] = '\0';
	if (!got)
		spawn_prompt_refuse();
	else if (spawn_prompt_answer(answer, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
	}
	explicit_bzero(answer, sizeof answer);
}

/*
 * Output lines are flushed to stdout once per burst, CMD_RUN_FLUSH_MS
 * after the first line of it, not one write per line (100,000 lines were
 * 100,000 writes).
 */
#define CMD_RUN_FLUSH_MS	10
static int		 cmd_run_flush_id;
static struct loop	*cmd_run_flush_loop;

static int
cmd_run_flush(void *data)
{
	(void)data;
	cmd_run_flush_id = 0;
	fflush(stdout);
	return 1;
}

/* Flush what is left now and stop the timer. */
static void
cmd_run_flush_now(void)
{
	if (cmd_run_flush_id > 0)
		loop_remove(cmd_run_flush_loop, cmd_run_flush_id);
	cmd_run_flush_id = 0;
	fflush(stdout);
}

/* An output line of a run, as it comes: plain off a terminal.  data: app. */
static void
cmd_run_line(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	struct app	*app = data;

	(void)rl;
	(void)stream;
	if (cmd_run_color < 0)
		cmd_run_color = output_color(NULL);
	output_line(stdout, line, len, cmd_run_color);
	if (spawn_prompt_waiting()) {
		cmd_run_flush_now();
		cmd_run_prompt();
		return;
	}
	if (cmd_run_flush_id == 0) {
		cmd_run_flush_loop = app_loop(app);
		cmd_run_flush_id = loop_add_timer(cmd_run_flush_loop,
		    CMD_RUN_FLUSH_MS, cmd_run_flush, NULL, NULL, NULL);
		if (cmd_run_flush_id <= 0) {
			cmd_run_flush_id = 0;
			fflush(stdout);
		}
	}
}

/* A step changed state. */
static void
cmd_run_step(const struct plan *plan, size_t i, const char *status,
    const char *reason, void *data)
{
	const struct plan_task	*t = &plan->tasks[i];

	(void)data;
	cmd_run_flush_now();
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

/* A generate step's preview: the files it would write, with diffs. */
static void
cmd_run_dry_files(const char *result)
{
	json_object	*o, *files, *f;
	size_t		 i, n;

	if (result == NULL || (o = json_tokener_parse(result)) == NULL)
		return;
	if (json_object_object_get_ex(o, "files", &files) &&
	    json_object_is_type(files, json_type_array)) {
		n = json_object_array_length(files);
		for (i = 0; i < n; i++) {
			f = json_object_array_get_idx(files, i);
			printf("    would %s %s\n%s", json_object_get_string(
			    json_object_object_get(f, "action")),
			    json_object_get_string(json_object_object_get(f,
			    "path")), json_object_get_string(
			    json_object_object_get(f, "diff")));
		}
	}
	json_object_put(o);
}

/* Per step: what its check-mode run said. */
static void
cmd_run_dry_report(const struct plan *plan, const struct approve_dry *dry)
{
	size_t	i;

	printf("\nDry run of plan %lld version %d (check mode, nothing "
	    "changed):\n", plan->plan_id, plan->version);
	for (i = 0; i < plan->ntasks; i++) {
		printf("%2d. %s %s  %s: %s  would change=%lld failed=%lld\n",
		    dry[i].step, plan->tasks[i].action,
		    plan->tasks[i].service != NULL ? plan->tasks[i].service :
		    "?", plan->tasks[i].playbook != NULL ?
		    plan->tasks[i].playbook : "-", dry[i].status,
		    dry[i].changed, dry[i].failed);
		cmd_run_dry_files(dry[i].result);
	}
}

/*
 * Without a terminal, a plan whose playbooks ask for input (vars_prompt)
 * cannot run: say so before anything is approved.  0, or -1 after
 * saying why as "chiffon cmd: ...".
 */
int
cmd_run_no_prompts(struct app *app, const struct plan *plan, const char *cmd)
{
	char	*steps = plan_prompts(plan, conf_get(app->conf,
		    "ansible.repo"));

	if (steps == NULL)
		return 0;
	fprintf(stderr, "chiffon %s: %s of plan %lld ask%s for input when "
	    "run (vars_prompt) and there is no terminal to answer on; run it "
	    "from a terminal or the shell\n", cmd, steps, plan->plan_id,
	    strchr(steps, ',') != NULL ? "" : "s");
	free(steps);
	return -1;
}

/*
 * A plan with a high-risk step (plan_confirm_needed) is approved only
 * with the typed word: asked on the terminal.  1 confirmed, 0 not (said
 * why), -1 no terminal to ask on (said so as "chiffon cmd: ...").
 */
int
cmd_run_confirm_risk(const struct plan *plan, const char *cmd)
{
	char	line[256], *q = plan_confirm_question(plan);
	int	ok;

	if (q == NULL)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "chiffon %s: plan %lld needs a typed "
		    "confirmation (%s) and there is no terminal to ask on; "
		    "pass --yes to approve it anyway\n", cmd, plan->plan_id,
		    q);
		free(q);
		return -1;
	}
	printf("\nPlan %lld: %s: ", plan->plan_id, q);
	fflush(stdout);
	free(q);
	ok = fgets(line, sizeof line, stdin) != NULL &&
	    plan_confirm_ok(plan, line);
	if (!ok)
		printf("Not confirmed (the answer was not yes or the service "
		    "name).\n");
	return ok;
}

/* y/N on the terminal (the typed word for a risky plan).  Non-zero: yes. */
static int
cmd_run_confirm(const struct plan *plan)
{
	char	line[64];

	if (plan_confirm_needed(plan))
		return cmd_run_confirm_risk(plan, "run") == 1;
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

	nbad = approve_dry_run(app, plan, cmd_run_line, app, &dry, &err);
	cmd_run_flush_now();
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

	rc = approve_execute(app, plan, cmd_run_line, app, cmd_run_step,
	    NULL, &err);
	cmd_run_flush_now();
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

static int
cmd_run(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "check", no_argument, NULL, 'c' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct approve_who	 who = approve_who_current(app->conf);
	struct plan		*plan;
	char			*text, *err = NULL, *s;
	int			 ch, yes = 0, check = 0, rc, nq = 0;

	while ((ch = getopt_long(argc, argv, "ych", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			if ((cmd_run_color = output_color(optarg)) < 0) {
				fprintf(stderr, "chiffon run: --color=%s: "
				    "use auto, always or never\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'y':
			yes = 1;
			break;
		case 'c':
			check = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_run_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_run_entry);
			return EXIT_USAGE;
		}
	}
	text = request_text_argv(argc, argv, optind);
	if (*text == '\0') {
		free(text);
		cmd_usage(stderr, &cmd_run_entry);
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
	if (!isatty(STDIN_FILENO) && cmd_run_no_prompts(app, plan, "run") != 0) {
		plan_free(plan);
		return EXIT_USAGE;
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
