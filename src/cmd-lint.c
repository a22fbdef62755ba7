/*
 * cmd-lint.c - `chiffon lint [--json] PLAYBOOK`: ansible-lint findings for
 * a playbook of the repo, each mapped to a category (idempotency,
 * error_handling, performance, best_practices, standards) with a one-line
 * reason, stored in playbook_suggestions and printed.  The work is the
 * infra plugin's "ansible.lint" capability, invoked in-process.
 *
 * Exit status: 0 no findings, 1 findings, 2 usage, 3 ansible-lint missing
 * or the infra plugin not loaded.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "host.h"
#include "json-get.h"
#include "util.h"

static int	cmd_lint(struct app *, int, char **);

const struct cmd_entry cmd_lint_entry = {
	.name = "lint",
	.usage = "[--json] PLAYBOOK",
	.summary = "ansible-lint suggestions for a playbook, by category",
	.args = { 1, 1 },
	.exec = cmd_lint,
};

/* ansible-lint is slow on big repos, but not this slow. */
#define CMD_LINT_TIMEOUT_MS	(600 * 1000)

static int
cmd_lint_is_file(const char *path)
{
	struct stat	sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/*
 * Where to lint: the playbook relative to the repo when it lies inside
 * ansible.repo, else its own directory.  Looked up under the repo first,
 * then from the current directory.  0, or -1 with *errp.
 */
static int
cmd_lint_locate(const char *repo, const char *arg, char **repop,
    char **playbookp, char **errp)
{
	char	*file = NULL, *real = NULL, *rrepo = NULL, *slash;
	size_t	 len;

	if (repo != NULL && *arg != '/') {
		file = path_join(repo, arg);
		if (!cmd_lint_is_file(file)) {
			free(file);
			file = NULL;
		}
	}
	if (file == NULL) {
		if (!cmd_lint_is_file(arg))
			return set_error(errp, "%s: no such playbook%s%s%s",
			    arg, repo != NULL ? " (nor under ansible.repo " :
			    "", repo != NULL ? repo : "", repo != NULL ? ")" :
			    "");
		file = xstrdup(arg);
	}
	real = realpath(file, NULL);
	free(file);
	if (real == NULL)
		return set_error(errp, "%s: cannot resolve the path", arg);
	if (repo != NULL && (rrepo = realpath(repo, NULL)) != NULL) {
		len = strlen(rrepo);
		if (strncmp(real, rrepo, len) == 0 && real[len] == '/') {
			*repop = rrepo;
			*playbookp = xstrdup(real + len + 1);
			free(real);
			return 0;
		}
		free(rrepo);
	}
	slash = strrchr(real, '/');
	*playbookp = xstrdup(slash + 1);
	*slash = '\0';
	*repop = *real != '\0' ? real : xstrdup("/");
	if (*real == '\0')
		free(real);
	return 0;
}

/* Print the findings as a list with a count per category. */
static void
cmd_lint_print(json_object *res, const char *playbook)
{
	static const char *const cats[] = { "idempotency", "error_handling",
	    "performance", "best_practices", "standards" };
	json_object	*list, *s;
	size_t		 i, j, n = 0, count[nitems(cats)] = { 0 };
	const char	*cat, *file, *line;

	if (json_object_object_get_ex(res, "suggestions", &list))
		n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(list, i);
		cat = json_get_text(s, "category");
		file = json_get_text(s, "file");
		line = json_get_text(s, "line");
		printf("%s:%s: [%s] %s %s: %s\n", file != NULL ? file :
		    playbook, line != NULL ? line : "0",
		    json_get_text(s, "severity"), cat, json_get_text(s, "rule"),
		    json_get_text(s, "reason"));
		if (json_get_text(s, "fix") != NULL)
			printf("    fix: %s\n", json_get_text(s, "fix"));
		for (j = 0; j < nitems(cats); j++) {
			if (cat != NULL && strcmp(cat, cats[j]) == 0)
				count[j]++;
		}
	}
	if (n == 0) {
		printf("%s: no suggestions\n", playbook);
		return;
	}
	printf("%zu suggestion%s:", n, n == 1 ? "" : "s");
	for (j = 0; j < nitems(cats); j++) {
		if (count[j] > 0)
			printf(" %s %zu", cats[j], count[j]);
	}
	printf("\n");
}

static int
cmd_lint(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object	*params, *res, *v;
	char		*repo = NULL, *playbook = NULL, *err = NULL;
	char		*status = NULL, *result = NULL;
	const char	*msg;
	int		 ch, json = 0, rc, missing;

	while ((ch = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_lint_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_lint_entry);
			return EXIT_USAGE;
		}
	}
	if (cmd_args_check(&cmd_lint_entry, argc, optind) != 0)
		return EXIT_USAGE;
	if (cmd_lint_locate(conf_get(app->conf, "ansible.repo"), argv[optind],
	    &repo, &playbook, &err) != 0) {
		fprintf(stderr, "chiffon lint: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	params = json_object_new_object();
	json_object_object_add(params, "playbook",
	    json_object_new_string(playbook));
	json_object_object_add(params, "repo", json_object_new_string(repo));
	rc = host_invoke_sync(app, CHIFFON_CAP_ANSIBLE_LINT,
	    json_object_to_json_string(params), CMD_LINT_TIMEOUT_MS, &status,
	    &result, &err);
	json_object_put(params);
	free(repo);
	if (rc != 0) {
		fprintf(stderr, "chiffon lint: %s\n", err);
		free(err);
		free(playbook);
		return EXIT_ENV;
	}
	res = json_tokener_parse(result);
	if (res == NULL)
		res = json_object_new_object();
	missing = json_object_object_get_ex(res, "missing", &v) &&
	    json_object_get_boolean(v);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(res,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (strcmp(status, "successful") != 0) {
		msg = json_get_text(res, "error");
		fprintf(stderr, "chiffon lint: %s\n", msg != NULL ? msg :
		    "ansible-lint failed");
		rc = missing ? EXIT_ENV : EXIT_FAIL;
	} else {
		if (!json)
			cmd_lint_print(res, playbook);
		if ((msg = json_get_text(res, "store_error")) != NULL)
			fprintf(stderr, "chiffon lint: warning: %s\n", msg);
		rc = json_object_object_get_ex(res, "findings", &v) &&
		    json_object_get_int(v) > 0 ? EXIT_FAIL : EXIT_OK;
	}
	json_object_put(res);
	free(status);
	free(result);
	free(playbook);
	return rc;
}
