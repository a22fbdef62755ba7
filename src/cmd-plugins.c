/*
 * cmd-plugins.c - `chiffon plugins [--json]`: what loaded (name, version,
 * ABI, capabilities, file, declared configuration keys with their values),
 * what was refused and why, and where plugins were looked for.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "plugins.h"
#include "util.h"

static int	cmd_plugins(struct app *, int, char **);

const struct cmd_entry cmd_plugins_entry = {
	.name = "plugins",
	.usage = "[--json]",
	.summary = "list loaded plugins with their configuration keys, and "
	    "refused files",
	.args = { 0, 0 },
	.exec = cmd_plugins,
};

/* The capabilities of p, joined with ", ".  Caller frees. */
static char *
cmd_plugins_caps(struct plugins *ps, struct chiffon_plugin *p)
{
	const struct plugins_capability	*c;
	struct strbuf			 sb = { 0 };
	size_t				 i;

	for (i = 0; i < plugins_ncapabilities(ps); i++) {
		c = plugins_capability_at(ps, i);
		if (c->plugin != p)
			continue;
		if (sb.len > 0)
			strbuf_adds(&sb, ", ");
		strbuf_adds(&sb, c->name);
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb);
}

/* The declared keys of p with their values (an array). */
static struct json_object *
cmd_plugins_keys_json(struct app *app, struct chiffon_plugin *p)
{
	const struct chiffon_config_key	*k = plugins_config_keys(p);
	struct json_object		*list = json_object_new_array(), *o;
	const char			*type, *env, *v;
	char				*full, *acc;

	for (; k != NULL && k->name != NULL; k++) {
		full = xasprintf("plugin.%s.%s", plugins_name(p), k->name);
		if ((acc = conf_describe(app->conf, full, &type, &env)) ==
		    NULL) {
			free(full);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "key", json_object_new_string(full));
		json_object_object_add(o, "type", json_object_new_string(type));
		json_object_object_add(o, "default", k->def != NULL ?
		    json_object_new_string(k->def) : NULL);
		json_object_object_add(o, "accepted",
		    json_object_new_string(acc));
		json_object_object_add(o, "env", env != NULL ?
		    json_object_new_string(env) : NULL);
		v = conf_get(app->conf, full);
		json_object_object_add(o, "value", v != NULL ?
		    json_object_new_string(v) : NULL);
		json_object_object_add(o, "origin",
		    json_object_new_string(conf_origin(app->conf, full)));
		json_object_object_add(o, "doc", json_object_new_string(
		    k->doc != NULL ? k->doc : ""));
		json_object_array_add(list, o);
		free(acc);
		free(full);
	}
	return list;
}

/* The declared keys of every loaded plugin, for the table. */
static void
cmd_plugins_keys_table(struct app *app, struct plugins *ps)
{
	const struct chiffon_config_key	*k;
	struct chiffon_plugin		*p;
	const char			*type, *v;
	char				*full, *acc;
	size_t				 i;
	int				 header = 0;

	for (i = 0; i < plugins_count(ps); i++) {
		p = plugins_at(ps, i);
		for (k = plugins_config_keys(p); k != NULL && k->name != NULL;
		    k++) {
			full = xasprintf("plugin.%s.%s", plugins_name(p),
			    k->name);
			acc = conf_describe(app->conf, full, &type, NULL);
			if (acc == NULL) {
				free(full);
				continue;
			}
			if (!header)
				printf("\nconfiguration keys:\n");
			header = 1;
			v = conf_get(app->conf, full);
			printf("  %s = %s (%s; %s)\n      %s; accepted: %s\n",
			    full, v != NULL ? v : "(unset)",
			    conf_origin(app->conf, full), type,
			    k->doc != NULL ? k->doc : "", acc);
			free(acc);
			free(full);
		}
	}
}

static struct json_object *
cmd_plugins_json(struct app *app, struct plugins *ps)
{
	const struct plugins_capability	*c;
	const struct plugins_refusal	*r;
	struct chiffon_plugin		*p;
	struct json_object		*top, *list, *o, *caps;
	const char *const		*dirs;
	char				*abi;
	unsigned			 major, minor;
	size_t				 i, j, n;

	top = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < plugins_count(ps); i++) {
		p = plugins_at(ps, i);
		plugins_abi(p, &major, &minor);
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(plugins_name(p)));
		json_object_object_add(o, "version",
		    json_object_new_string(plugins_version(p)));
		json_object_object_add(o, "description",
		    json_object_new_string(plugins_description(p)));
		abi = xasprintf("%u.%u", major, minor);
		json_object_object_add(o, "abi", json_object_new_string(abi));
		free(abi);
		caps = json_object_new_array();
		for (j = 0; j < plugins_ncapabilities(ps); j++) {
			c = plugins_capability_at(ps, j);
			if (c->plugin == p)
				json_object_array_add(caps,
				    json_object_new_string(c->name));
		}
		json_object_object_add(o, "capabilities", caps);
		json_object_object_add(o, "file",
		    json_object_new_string(plugins_file(p)));
		json_object_object_add(o, "config",
		    cmd_plugins_keys_json(app, p));
		json_object_array_add(list, o);
	}
	json_object_object_add(top, "plugins", list);

	list = json_object_new_array();
	for (i = 0; i < plugins_nrefused(ps); i++) {
		r = plugins_refusal_at(ps, i);
		o = json_object_new_object();
		json_object_object_add(o, "file",
		    json_object_new_string(r->file));
		json_object_object_add(o, "reason",
		    json_object_new_string(r->reason));
		json_object_array_add(list, o);
	}
	json_object_object_add(top, "refused", list);

	list = json_object_new_array();
	n = plugins_search_path(ps, &dirs);
	for (i = 0; i < n; i++)
		json_object_array_add(list, json_object_new_string(dirs[i]));
	json_object_object_add(top, "search_path", list);
	return top;
}

static void
cmd_plugins_table(struct app *app, struct plugins *ps)
{
	const struct plugins_refusal	 *r;
	struct chiffon_plugin		 *p;
	const char *const		 *dirs;
	char				**caps;
	unsigned			  major, minor;
	int				  wname = 4, wver = 7, wcap = 12;
	int				  len;
	size_t				  i, n = plugins_count(ps);

	caps = xcalloc(n + 1, sizeof *caps);
	for (i = 0; i < n; i++) {
		p = plugins_at(ps, i);
		caps[i] = cmd_plugins_caps(ps, p);
		if ((len = (int)strlen(plugins_name(p))) > wname)
			wname = len;
		if ((len = (int)strlen(plugins_version(p))) > wver)
			wver = len;
		if ((len = (int)strlen(caps[i])) > wcap)
			wcap = len;
	}
	if (n == 0)
		printf("no plugins loaded\n");
	else {
		printf("%-*s  %-*s  %-5s  %-*s  %s\n", wname, "NAME", wver,
		    "VERSION", "ABI", wcap, "CAPABILITIES", "FILE");
	}
	for (i = 0; i < n; i++) {
		char	abi[32];

		p = plugins_at(ps, i);
		plugins_abi(p, &major, &minor);
		snprintf(abi, sizeof abi, "%u.%u", major, minor);
		printf("%-*s  %-*s  %-5s  %-*s  %s\n", wname, plugins_name(p),
		    wver, plugins_version(p), abi, wcap, caps[i],
		    plugins_file(p));
		free(caps[i]);
	}
	free(caps);
	cmd_plugins_keys_table(app, ps);

	if (plugins_nrefused(ps) > 0) {
		printf("\nrefused:\n");
		for (i = 0; i < plugins_nrefused(ps); i++) {
			r = plugins_refusal_at(ps, i);
			printf("  %s: %s\n", r->file, r->reason);
		}
	}
	n = plugins_search_path(ps, &dirs);
	printf("\nsearch path:");
	for (i = 0; i < n; i++)
		printf("%s%s", i == 0 ? " " : ":", dirs[i]);
	printf("\n");
}

static int
cmd_plugins(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plugins			*ps;
	struct json_object		*top;
	int				 ch, json = 0;

	while ((ch = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_plugins_entry);
			return EXIT_OK;
		default:
			return cmd_usage(stderr, &cmd_plugins_entry);
		}
	}
	if (cmd_args_check(&cmd_plugins_entry, argc, optind) != 0)
		return EXIT_USAGE;

	ps = app_plugins(app);
	if (json) {
		top = cmd_plugins_json(app, ps);
		printf("%s\n", json_object_to_json_string_ext(top,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	} else
		cmd_plugins_table(app, ps);
	return EXIT_OK;
}
