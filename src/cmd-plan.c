/*
 * cmd-plan.c - `chiffon plan [--json] REQUEST`: understand a request, plan
 * it against the Ansible repository, store the plan (pending approval)
 * and print it with its id.
 *
 * Exit status: 0 a runnable plan was stored; 1 the request leaves
 * questions (printed; the request and the questions are recorded, no plan
 * is stored); 2 usage or configuration; 3 environment broken (database,
 * infra plugin, catalog).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "cmd.h"
#include "plan.h"
#include "request.h"
#include "util.h"

static int	cmd_plan(struct app *, int, char **);

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.usage = "[--json] \"REQUEST\"",
	.summary = "understand a request and store its plan, pending "
	    "approval",
	.args = { 1, 1 },
	.exec = cmd_plan,
};

static int
cmd_plan(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plan	*plan;
	json_object	*o;
	char		*text, *s;
	int		 ch, json = 0, rc;

	while ((ch = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_plan_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_plan_entry);
			return EXIT_USAGE;
		}
	}
	text = request_text_argv(argc, argv, optind);
	if (*text == '\0') {
		free(text);
		cmd_usage(stderr, &cmd_plan_entry);
		return EXIT_USAGE;
	}
	if ((plan = cmd_run_plan(app, text, 0, "plan", &rc)) == NULL)
		return rc;
	rc = plan->row_id > 0 ? EXIT_OK : EXIT_FAIL;
	if (json) {
		o = plan_json(plan);
		printf("%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		s = plan_format(plan);
		fputs(s, stdout);
		free(s);
		if (plan->row_id > 0)
			printf("\nApprove: chiffon approve %lld   dry run: "
			    "chiffon dry-run %lld\nReject:  chiffon reject "
			    "%lld --reason TEXT   change: chiffon modify %lld "
			    "\"TEXT\"\n", plan->plan_id, plan->plan_id,
			    plan->plan_id, plan->plan_id);
		else
			printf("\nRequest %lld is recorded with its "
			    "questions; nothing was planned to run.\n",
			    plan->request_id);
	}
	plan_free(plan);
	return rc;
}
