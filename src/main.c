/*
 * main.c - option parsing and command dispatch.
 *
 * chiffon [global options] [command [args]]
 * With no command, the terminal shell opens.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "log.h"
#include "plugins.h"
#include "util.h"

/* Global flags that set a configuration key. */
static const struct main_flag {
	const char	*name;
	const char	*key;
	const char	*help;
} main_flags[] = {
	{ "repo", "ansible.repo", "Ansible repository to work on" },
	{ "inventory", "ansible.inventory", "Ansible inventory (instead of ansible.cfg's or the one found)" },
	{ "data-dir", "core.data_dir", "data directory (embedded database, audit repo)" },
	{ "db-url", "db.url", "PostgreSQL connection URL (instead of the embedded cluster)" },
	{ "plugin-path", "plugins.path", "colon-separated plugin directories" },
	{ "log-level", "log.level", "error, warning, info or debug" },
};

/* With no command, the shell opens. */
static char	 main_default_cmd[] = "shell";
static char	*main_default_argv[] = { main_default_cmd, NULL };

static void
main_usage(FILE *f)
{
	const struct cmd_entry *const	*c;
	const char			*nl;
	size_t				 i;

	fprintf(f, "usage: chiffon [options] [command [args...]]\n\n");
	fprintf(f, "With no command, opens the terminal shell.\n\n");
	fprintf(f, "options:\n");
	fprintf(f, "  %-22s %s\n", "-c, --config FILE", "read FILE instead of the default chiffon.conf");
	for (i = 0; i < nitems(main_flags); i++) {
		char *opt = xasprintf("--%s VALUE", main_flags[i].name);
		fprintf(f, "  %-22s %s (%s)\n", opt, main_flags[i].help,
		    main_flags[i].key);
		free(opt);
	}
	fprintf(f, "  %-22s %s\n", "-v, --verbose", "log more (repeat for debug)");
	fprintf(f, "  %-22s %s\n", "-V, --version", "print the version and exit");
	fprintf(f, "  %-22s %s\n", "-h, --help", "print this help and exit");
	fprintf(f, "\ncommands:\n");
	for (c = cmd_table; *c != NULL; c++) {
		/* The first form of the usage, on one line. */
		nl = strchr((*c)->usage, '\n');
		char *head = xasprintf("%s %.*s", (*c)->name, nl != NULL ?
		    (int)(nl - (*c)->usage) : (int)strlen((*c)->usage),
		    (*c)->usage);
		if (strlen(head) > 34)
			fprintf(f, "  %s\n  %-34s %s\n", head, "",
			    (*c)->summary);
		else
			fprintf(f, "  %-34s %s\n", head, (*c)->summary);
		free(head);
	}
	fprintf(f, "\nSee chiffon(1) and chiffon.conf(5).\n");
}

int
main(int argc, char **argv)
{
	struct app		 app = { .argv0 = argv[0] };
	struct option		 longopts[nitems(main_flags) + 5];
	const char		*config_path = NULL;
	const struct cmd_entry	*c;
	char			*err = NULL;
	char			*flag_values[nitems(main_flags)] = { 0 };
	int			 ch, verbose = 0, rc;
	size_t			 i;

	setlocale(LC_ALL, "");
	/* Numbers go to SQL and JSON: always with a decimal point. */
	setlocale(LC_NUMERIC, "C");

	for (i = 0; i < nitems(main_flags); i++)
		longopts[i] = (struct option){ main_flags[i].name,
		    required_argument, NULL, 1000 + (int)i };
	longopts[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[i++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };

	while ((ch = getopt_long(argc, argv, "+c:vVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			return cmd_version_entry.exec(&app, 1, argv);
		case 'h':
			main_usage(stdout);
			return EXIT_OK;
		default:
			if (ch >= 1000 && ch < 1000 + (int)nitems(main_flags)) {
				flag_values[ch - 1000] = optarg;
				break;
			}
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	app.conf = conf_new();
	if (conf_load(app.conf, config_path, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		conf_free(app.conf);
		return EXIT_USAGE;
	}
	for (i = 0; i < nitems(main_flags); i++) {
		char *origin;

		if (flag_values[i] == NULL)
			continue;
		origin = xasprintf("--%s", main_flags[i].name);
		rc = conf_set(app.conf, main_flags[i].key, flag_values[i],
		    origin, &err);
		free(origin);
		if (rc != 0) {
			fprintf(stderr, "chiffon: %s\n", err);
			free(err);
			conf_free(app.conf);
			return EXIT_USAGE;
		}
	}
	log_set_level(verbose > 0 ? CHIFFON_LOG_WARNING + verbose :
	    (int)conf_get_int(app.conf, "log.level"));
	/* The plugins' declared keys are checked now, like chiffon's own. */
	if (plugins_check_config(app.conf, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		conf_free(app.conf);
		return EXIT_USAGE;
	}

	if (argc == 0)
		argv = main_default_argv, argc = 1;
	if ((c = cmd_find(argv[0])) == NULL) {
		fprintf(stderr, "chiffon: unknown command '%s' "
		    "(chiffon --help lists them)\n", argv[0]);
		conf_free(app.conf);
		return EXIT_USAGE;
	}
	optind = 0;
	rc = c->exec(&app, argc, argv);
	app_free(&app);
	return rc;
}
