/*
 * cmd-catalog.c - `chiffon catalog [--json] [--refresh]`: the playbooks of
 * the Ansible repository (ansible.repo), refreshed incrementally into the
 * playbooks table, with the inventory's hosts and groups.  The work is
 * the infra plugin's "ansible.catalog" capability, invoked in-process.
 *
 * Exit status: 0 listed, 1 the refresh failed, 2 usage, 3 no repository
 * configured, the database unreachable or the infra plugin not loaded.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "host.h"
#include "json-get.h"
#include "util.h"

static int	cmd_catalog(struct app *, int, char **);

const struct cmd_entry cmd_catalog_entry = {
	.name = "catalog",
	.usage = "[--json] [--refresh]",
	.summary = "list the playbooks, roles and hosts of the Ansible repo",
	.args = { 0, 0 },
	.exec = cmd_catalog,
};

/* ansible-inventory on a big inventory takes a few seconds at most. */
#define CMD_CATALOG_TIMEOUT_MS	(120 * 1000)

static int
cmd_catalog_int(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	return json_object_get_int(v);
}

static size_t
cmd_catalog_len(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return 0;
	return json_object_array_length(v);
}

/* " [become, vars_prompt, vault]" for a playbook, or "". */
static const char *
cmd_catalog_flags(json_object *pb)
{
	static char	 buf[64];
	static const char *names[] = { "become", "vars_prompt", "vault" };
	json_object	*f, *v;
	size_t		 i;

	buf[0] = '\0';
	if (!json_object_object_get_ex(pb, "flags", &f))
		return buf;
	for (i = 0; i < nitems(names); i++) {
		if (json_object_object_get_ex(f, names[i], &v) &&
		    json_object_get_boolean(v))
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
			    "%s%s", buf[0] == '\0' ? " [" : ", ", names[i]);
	}
	if (buf[0] != '\0')
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "]");
	return buf;
}

/* The services inside a playbook, one line each, under it. */
static void
cmd_catalog_services(json_object *pb, int indent)
{
	json_object	*a, *sv, *tags;
	const char	*s;
	size_t		 i, j;

	if (!json_object_object_get_ex(pb, "services", &a))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		sv = json_object_array_get_idx(a, i);
		s = json_get_text(sv, "kind");
		printf("%*s- %s (%s)", indent > 2 ? indent - 2 : 0, "",
		    json_get_text(sv, "name") != NULL ?
		    json_get_text(sv, "name") : "?", s != NULL ? s : "?");
		if (json_object_object_get_ex(sv, "tags", &tags) &&
		    json_object_array_length(tags) > 0) {
			printf(" --tags ");
			for (j = 0; j < json_object_array_length(tags); j++)
				printf("%s%s", j > 0 ? "," : "",
				    json_object_get_string(
				    json_object_array_get_idx(tags, j)));
		}
		if ((s = json_get_text(sv, "toggle")) != NULL)
			printf(" toggle %s", s);
		if ((s = json_get_text(sv, "hosts")) != NULL && *s != '\0')
			printf(" hosts %s", s);
		if ((s = json_get_text(sv, "via")) != NULL)
			printf(" via %s", s);
		if (json_object_object_get_ex(sv, "vars", &tags))
			printf(" -e %s", json_object_to_json_string_ext(tags,
			    JSON_C_TO_STRING_PLAIN));
		printf("\n");
	}
}

/* Print the table: service, path, hosts, description. */
static void
cmd_catalog_print(json_object *res)
{
	static const char	*cols[] = { "service", "path", "hosts" };
	json_object		*list, *pb, *stats, *skipped, *groups;
	size_t			 i, j, n = 0, w[nitems(cols)];
	const char		*s;

	for (j = 0; j < nitems(cols); j++)
		w[j] = strlen(cols[j]);
	if (json_object_object_get_ex(res, "playbooks", &list))
		n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		pb = json_object_array_get_idx(list, i);
		for (j = 0; j < nitems(cols); j++) {
			s = json_get_text(pb, cols[j]);
			if (s != NULL && strlen(s) > w[j])
				w[j] = strlen(s);
		}
	}
	printf("%-*s  %-*s  %-*s  %s\n", (int)w[0], "SERVICE", (int)w[1],
	    "PATH", (int)w[2], "HOSTS", "DESCRIPTION");
	for (i = 0; i < n; i++) {
		pb = json_object_array_get_idx(list, i);
		for (j = 0; j < nitems(cols); j++) {
			s = json_get_text(pb, cols[j]);
			printf("%-*s  ", (int)w[j], s != NULL ? s : "-");
		}
		s = json_get_text(pb, "description");
		printf("%s%s\n", s != NULL ? s : "-", cmd_catalog_flags(pb));
		cmd_catalog_services(pb, (int)w[0]);
	}
	json_object_object_get_ex(res, "stats", &stats);
	printf("\n%zu playbook%s (%d parsed, %d re-stamped, %d unchanged, "
	    "%d removed), %zu role%s", n, n == 1 ? "" : "s",
	    cmd_catalog_int(stats, "parsed"), cmd_catalog_int(stats, "touched"),
	    cmd_catalog_int(stats, "unchanged"),
	    cmd_catalog_int(stats, "removed"), cmd_catalog_len(res, "roles"),
	    cmd_catalog_len(res, "roles") == 1 ? "" : "s");
	if (json_object_object_get_ex(res, "groups", &groups) &&
	    json_object_is_type(groups, json_type_object))
		printf(", %zu host%s in %d group%s",
		    cmd_catalog_len(res, "hosts"),
		    cmd_catalog_len(res, "hosts") == 1 ? "" : "s",
		    json_object_object_length(groups),
		    json_object_object_length(groups) == 1 ? "" : "s");
	printf("\n");
	if ((s = json_get_text(res, "inventory_error")) != NULL)
		printf("inventory: %s\n", s);
	if ((s = json_get_text(res, "inventory_note")) != NULL)
		printf("%s\n", s);
	if ((s = json_get_text(res, "inventory_source")) != NULL)
		printf("inventory: %s (%s)\n", s, json_get_text(res,
		    "inventory_how") != NULL ? json_get_text(res,
		    "inventory_how") : "?");
	if (cmd_catalog_len(res, "requirements") > 0) {
		json_object_object_get_ex(res, "requirements", &list);
		printf("not installed:");
		for (i = 0; i < json_object_array_length(list); i++)
			printf("%s %s", i > 0 ? "," : "",
			    json_object_get_string(json_object_array_get_idx(
			    list, i)));
		s = json_get_text(res, "requirements_file");
		printf(" (run: ansible-galaxy install -r %s)\n",
		    s != NULL ? s : "requirements.yml");
	}
	if (json_object_object_get_ex(res, "skipped", &skipped) &&
	    json_object_array_length(skipped) > 0) {
		n = json_object_array_length(skipped);
		printf("%zu file%s not used (chiffon catalog --json lists them "
		    "with the reasons), first: %s\n", n, n == 1 ? "" : "s",
		    json_get_text(json_object_array_get_idx(skipped, 0),
		    "reason") != NULL ? json_get_text(
		    json_object_array_get_idx(skipped, 0), "reason") : "?");
	}
}

static int
cmd_catalog(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "refresh", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object	*params, *res;
	char		*err = NULL, *status = NULL, *result = NULL;
	const char	*repo, *msg;
	int		 ch, json = 0, full = 0, rc;

	while ((ch = getopt_long(argc, argv, "jrh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'r':
			full = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_catalog_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_catalog_entry);
			return EXIT_USAGE;
		}
	}
	if (cmd_args_check(&cmd_catalog_entry, argc, optind) != 0)
		return EXIT_USAGE;
	repo = conf_get(app->conf, "ansible.repo");
	if (repo == NULL || *repo == '\0') {
		fprintf(stderr, "chiffon catalog: no Ansible repository is "
		    "configured (set ansible.repo in chiffon.conf, "
		    "CHIFFON_REPO or --repo)\n");
		return EXIT_ENV;
	}
	if (app_db(app, &err) == NULL) {
		fprintf(stderr, "chiffon catalog: %s\n", err);
		free(err);
		return EXIT_ENV;
	}

	params = json_object_new_object();
	json_object_object_add(params, "refresh", json_object_new_boolean(1));
	json_object_object_add(params, "full", json_object_new_boolean(full));
	rc = host_invoke_sync(app, CHIFFON_CAP_ANSIBLE_CATALOG,
	    json_object_to_json_string(params), CMD_CATALOG_TIMEOUT_MS,
	    &status, &result, &err);
	json_object_put(params);
	if (rc != 0) {
		fprintf(stderr, "chiffon catalog: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	res = json_tokener_parse(result);
	if (res == NULL)
		res = json_object_new_object();
	if (strcmp(status, "successful") != 0) {
		msg = json_get_text(res, "error");
		fprintf(stderr, "chiffon catalog: %s\n", msg != NULL ? msg :
		    "the catalog refresh failed");
		rc = msg != NULL && strncmp(msg, "database:", 9) == 0 ?
		    EXIT_ENV : EXIT_FAIL;
	} else {
		if (json)
			printf("%s\n", json_object_to_json_string_ext(res,
			    JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			cmd_catalog_print(res);
		rc = EXIT_OK;
	}
	json_object_put(res);
	free(status);
	free(result);
	return rc;
}
