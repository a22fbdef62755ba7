/*
 * cmd-generate.c - `chiffon generate [--port N] [--image IMAGE]
 * [--host GROUP] [--force] [--yes] SERVICE`: scaffold a new service in
 * the Ansible repository's own layout, as a plan step like every action.
 *
 * The template plugin's template.preview computes the files and their
 * diffs, which are shown; a refusal (a hostile name, a file that exists
 * without --force) is printed, recorded as a "generate.refused" audit
 * row, and nothing is stored.  Then the request and its one-step plan
 * (action generate, capability template.generate; plan-build.c) are stored,
 * shown and approved (y/N on the terminal, or --yes), and this process's
 * worker runs the step: the plugin writes the files, validates them with
 * ansible-playbook --syntax-check and ansible-lint (rolling back on
 * failure), and the worker commits them to the repository as the
 * approver with a Chiffon-Task trailer (repochange.h).
 *
 * Exit status: 0 generated and committed; 1 refused, declined or the
 * validation failed; 2 usage, no terminal to ask on and no --yes, or
 * ansible.repo not the top of a git repository; 3 environment broken
 * (database, template plugin).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "app.h"
#include "approve.h"
#include "audit.h"
#include "cmd.h"
#include "conf.h"
#include "db.h"
#include "host.h"
#include "json-get.h"
#include "plan.h"
#include "request.h"
#include "util.h"
#include "vocab.h"

static int	cmd_generate(struct app *, int, char **);

const struct cmd_entry cmd_generate_entry = {
	.name = "generate",
	.usage = "[--port N] [--image IMAGE] [--host GROUP] [--force] "
	    "[--yes] SERVICE",
	.summary = "scaffold a new service in the repository's layout: "
	    "shown, approved, validated, committed",
	.args = { 1, -1 },
	.exec = cmd_generate,
};

/* Computing the files reads a few files: quick. */
#define CMD_GENERATE_PREVIEW_MS	(60 * 1000)

/* What was asked for. */
struct cmd_generate_args {
	char		*service;
	int		 port;
	const char	*image;
	const char	*host;
	int		 force;
	int		 yes;
};

/* The parameters of the preview and the step ({name: ...} for the step). */
static json_object *
cmd_generate_params(const struct cmd_generate_args *a, const char *namekey)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, namekey, json_object_new_string(a->service));
	if (a->port > 0)
		json_object_object_add(o, "port", json_object_new_int(a->port));
	if (a->image != NULL)
		json_object_object_add(o, "image",
		    json_object_new_string(a->image));
	if (a->host != NULL)
		json_object_object_add(o, "host",
		    json_object_new_string(a->host));
	json_object_object_add(o, "force", json_object_new_boolean(a->force));
	return o;
}

/* Print the files of a preview with their diffs. */
static void
cmd_generate_show(json_object *res)
{
	json_object	*files, *f;
	size_t		 i, n;

	files = json_object_object_get(res, "files");
	n = files != NULL ? json_object_array_length(files) : 0;
	printf("Generate %s in %s (%s layout, hosts %s): %zu file%s\n",
	    json_get_text(res, "service"), json_get_text(res, "repo"),
	    json_get_text(res, "layout"), json_get_text(res, "hosts"),
	    n, n == 1 ? "" : "s");
	if (strcmp(json_get_text(res, "style") != NULL ?
	    json_get_text(res, "style") : "builtin", "builtin") != 0)
		printf("In the repository's style: %s\n",
		    json_get_text(res, "style"));
	for (i = 0; i < n; i++) {
		f = json_object_array_get_idx(files, i);
		printf("  %-9s %s\n", json_get_text(f, "action"),
		    json_get_text(f, "path"));
	}
	for (i = 0; i < n; i++) {
		f = json_object_array_get_idx(files, i);
		printf("\n%s", json_get_text(f, "diff"));
	}
	fflush(stdout);
}

/* A refusal: printed and recorded ("generate.refused"). */
static void
cmd_generate_refused(struct app *app, const struct cmd_generate_args *a,
    const char *why)
{
	struct audit_ids	 ids = { 0 };
	struct db		*db;
	json_object		*o;
	char			*err = NULL;

	fprintf(stderr, "chiffon generate: %s\n", why);
	if ((db = app_db(app, NULL)) == NULL)
		return;
	o = cmd_generate_params(a, "service");
	json_object_object_add(o, "error", json_object_new_string(why));
	if (audit_record(db_pg(db), "generate.refused", NULL, &ids, NULL,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    &err) < 0) {
		fprintf(stderr, "chiffon generate: warning: the refusal is "
		    "not in the audit log: %s\n", err);
		free(err);
	}
	json_object_put(o);
}

/*
 * Preview: 0 with the files shown, EXIT_FAIL when refused, EXIT_ENV when
 * the template plugin is missing.
 */
static int
cmd_generate_preview(struct app *app, const struct cmd_generate_args *a)
{
	json_object	*params, *res;
	char		*status = NULL, *result = NULL, *err = NULL;
	const char	*msg;
	int		 rc;

	params = cmd_generate_params(a, "service");
	rc = host_invoke_sync(app, CHIFFON_CAP_TEMPLATE_PREVIEW,
	    json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
	    CMD_GENERATE_PREVIEW_MS, &status, &result, &err);
	json_object_put(params);
	if (rc != 0) {
		fprintf(stderr, "chiffon generate: %s: the template plugin is "
		    "not loaded (`chiffon plugins` lists what loaded)\n", err);
		free(err);
		return EXIT_ENV;
	}
	res = json_tokener_parse(result);
	if (strcmp(status, "successful") != 0 || res == NULL) {
		msg = json_get_text(res, "error");
		cmd_generate_refused(app, a, msg != NULL ? msg :
		    "template.preview failed");
		rc = EXIT_FAIL;
	} else {
		cmd_generate_show(res);
		rc = EXIT_OK;
	}
	json_object_put(res);
	free(status);
	free(result);
	return rc;
}

/* The request text recorded for the command line. */
static char *
cmd_generate_text(const struct cmd_generate_args *a)
{
	struct strbuf	sb = { 0 };

	strbuf_addf(&sb, "generate %s", a->service);
	if (a->port > 0)
		strbuf_addf(&sb, " --port %d", a->port);
	if (a->image != NULL)
		strbuf_addf(&sb, " --image %s", a->image);
	if (a->host != NULL)
		strbuf_addf(&sb, " --host %s", a->host);
	if (a->force)
		strbuf_adds(&sb, " --force");
	return strbuf_detach(&sb);
}

/*
 * Store the request and its one-step plan.  The plan (stored when
 * runnable), or NULL with *errp.
 */
static struct plan *
cmd_generate_plan(struct app *app, PGconn *pg,
    const struct cmd_generate_args *a, char **errp)
{
	struct vocab	 none = { 0 };	/* a new service is in no catalog */
	json_object	*parsed, *intent, *targets;
	struct plan	*plan;
	long long	 id;
	char		*text;

	text = cmd_generate_text(a);
	if ((id = request_insert(pg, text, REQUEST_SOURCE_CLI, errp)) < 0) {
		free(text);
		return NULL;
	}
	intent = json_object_new_object();
	json_object_object_add(intent, "action",
	    json_object_new_string("generate"));
	json_object_object_add(intent, "service", NULL);
	targets = json_object_new_array();
	if (a->host != NULL)
		json_object_array_add(targets, json_object_new_string(a->host));
	json_object_object_add(intent, "targets", targets);
	json_object_object_add(intent, "params", cmd_generate_params(a,
	    "name"));
	json_object_object_add(intent, "check", json_object_new_boolean(0));
	json_object_object_add(intent, "text", json_object_new_string(text));
	parsed = json_object_new_object();
	json_object_object_add(parsed, "intents", json_object_new_array());
	json_object_array_add(json_object_object_get(parsed, "intents"),
	    intent);
	json_object_object_add(parsed, "tier",
	    json_object_new_string("deterministic"));
	plan = plan_build(pg, text, parsed, &none, plan_match_host, app,
	    errp);
	if (plan != NULL) {
		plan->request_id = id;
		plan = request_store_plan(pg, id, plan, parsed, errp);
	}
	json_object_put(parsed);
	free(text);
	return plan;
}

/* What the step did: the commit, or why not. */
static void
cmd_generate_result(PGconn *pg, long long task_id)
{
	const char	*params[1];
	char		 tid[32];
	PGresult	*res;
	json_object	*o;
	const char	*s;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	res = db_exec(pg, "SELECT result::text FROM tasks WHERE id = "
	    "$1::bigint", 1, params, NULL);
	if (res == NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return;
	}
	o = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((s = json_get_text(o, "commit")) != NULL)
		printf("Committed %s to %s (Chiffon-Task: %lld).\n", s,
		    json_get_text(o, "repo"), task_id);
	else if ((s = json_get_text(o, "error")) != NULL)
		fprintf(stderr, "chiffon generate: %s\n", s);
	json_object_put(o);
}

static int
cmd_generate_confirm(void)
{
	char	line[64];

	printf("\nWrite these files, validate and commit them? [y/N] ");
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

/*
 * The Ansible repository must be the top of a git working tree: what is
 * generated is committed there.  EXIT_OK or EXIT_USAGE.
 */
static int
cmd_generate_check_repo(struct app *app)
{
	const char	*repo = conf_get(app->conf, "ansible.repo");
	struct stat	 sb;
	char		*git;
	int		 ok;

	if (repo == NULL) {
		fprintf(stderr, "chiffon generate: no Ansible repository: set "
		    "ansible.repo (or --repo, CHIFFON_REPO)\n");
		return EXIT_USAGE;
	}
	git = path_join(repo, ".git");
	ok = stat(git, &sb) == 0;
	free(git);
	if (!ok) {
		fprintf(stderr, "chiffon generate: %s is not the top of a git "
		    "repository: chiffon commits what it generates there "
		    "(run `git init` in it)\n", repo);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Parse argv into a.  0, or an exit status. */
static int
cmd_generate_args(int argc, char **argv, struct cmd_generate_args *a)
{
	static const struct option	 longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "image", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "force", no_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char	*end;
	long	 port;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "p:i:H:fyh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || port < 1 ||
			    port > 65535) {
				fprintf(stderr, "chiffon generate: --port "
				    "'%s': not a port number (1-65535)\n",
				    optarg);
				return EXIT_USAGE;
			}
			a->port = (int)port;
			break;
		case 'i':
			a->image = optarg;
			break;
		case 'H':
			a->host = optarg;
			break;
		case 'f':
			a->force = 1;
			break;
		case 'y':
			a->yes = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_generate_entry);
			return -1;
		default:
			cmd_usage(stderr, &cmd_generate_entry);
			return EXIT_USAGE;
		}
	}
	a->service = request_text_argv(argc, argv, optind);
	if (cmd_args_check(&cmd_generate_entry, argc, optind) != 0)
		return EXIT_USAGE;
	return 0;
}

static int
cmd_generate(struct app *app, int argc, char **argv)
{
	struct cmd_generate_args a = { 0 };
	struct approve_who	 who = approve_who_current(app->conf);
	struct plan		*plan;
	struct db		*db;
	long long		 task_id;
	char			*err = NULL, *s;
	int			 rc, nq = 0;

	if ((rc = cmd_generate_args(argc, argv, &a)) != 0) {
		free(a.service);
		return rc < 0 ? EXIT_OK : rc;
	}
	if (!a.yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "chiffon generate: no terminal to ask for "
		    "approval on; pass --yes to approve without asking\n");
		free(a.service);
		return EXIT_USAGE;
	}
	if ((rc = cmd_generate_check_repo(app)) != EXIT_OK) {
		free(a.service);
		return rc;
	}
	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon generate: %s\n", err);
		free(err);
		free(a.service);
		return EXIT_ENV;
	}
	if ((rc = cmd_generate_preview(app, &a)) != EXIT_OK) {
		free(a.service);
		return rc;
	}
	plan = cmd_generate_plan(app, db_pg(db), &a, &err);
	if (plan == NULL) {
		fprintf(stderr, "chiffon generate: %s\n", err);
		free(err);
		free(a.service);
		return EXIT_ENV;
	}
	printf("\n");
	s = plan_format(plan);
	fputs(s, stdout);
	free(s);
	if (plan->row_id <= 0) {
		printf("\nRequest %lld is recorded with its questions; "
		    "nothing was written.\n", plan->request_id);
		plan_free(plan);
		free(a.service);
		return EXIT_FAIL;
	}
	if (!a.yes && !cmd_generate_confirm()) {
		if (approve_reject(db_pg(db), plan->row_id, &who,
		    "declined at the terminal prompt", &err) < 0) {
			fprintf(stderr, "chiffon generate: %s\n", err);
			free(err);
		}
		printf("Declined: plan %lld is rejected; nothing was "
		    "written.\n", plan->plan_id);
		plan_free(plan);
		free(a.service);
		return EXIT_FAIL;
	}
	if (approve_plan(db_pg(db), plan->row_id, &who, &nq, &err) < 0) {
		fprintf(stderr, "chiffon generate: %s\n", err);
		free(err);
		plan_free(plan);
		free(a.service);
		return EXIT_ENV;
	}
	printf("\nApproved by %s%s%s.\n", who.user, who.ssh_client != NULL ?
	    " from " : "", who.ssh_client != NULL ? who.ssh_client : "");
	fflush(stdout);
	task_id = plan->tasks[0].id;
	rc = cmd_run_execute(app, plan, "generate");
	cmd_generate_result(db_pg(db), task_id);
	free(a.service);
	return rc;
}
