/*
 * cmd-prune.c - `chiffon db prune --older-than AGE`: retention of run
 * output and events.  run_output and run_events are partitioned by month;
 * whole months that ended more than AGE ago are dropped (audit_prune).
 * The audit log, runs and tasks are never pruned.  The agent_metrics
 * history older than agent.metrics_retention is deleted too.  cmd-db.c dispatches
 * its "prune" subcommand here.
 *
 * Exit statuses: 0 done, 2 bad usage, 3 the database failed.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "app.h"
#include "audit.h"
#include "cmd.h"
#include "conf.h"
#include "db.h"
#include "util.h"

#define CMD_PRUNE_USAGE "usage: chiffon db prune --older-than AGE " \
	"(for example 180d)\n"

/* The agent_metrics history beyond agent.metrics_retention. */
static int
cmd_prune_agent_metrics(struct app *app, struct db *db)
{
	const char	*keep = conf_get(app->conf, "agent.metrics_retention");
	char		*err = NULL;
	long long	 n;

	n = agent_prune_metrics(db_pg(db), conf_get_duration(app->conf,
	    "agent.metrics_retention"), &err);
	if (n < 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	printf("%lld agent metrics row%s dropped (older than %s, "
	    "agent.metrics_retention)\n", n, n == 1 ? "" : "s",
	    keep != NULL ? keep : "7d");
	return EXIT_OK;
}

/* argv[0] is "prune". */
int
cmd_prune(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db			*db;
	PGconn				*owner;
	const char			*age = NULL;
	char				*err = NULL, *names = NULL, *p, *nl;
	double				 secs;
	int				 ch, n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			age = optarg;
			break;
		case 'h':
			printf(CMD_PRUNE_USAGE);
			return EXIT_OK;
		default:
			fprintf(stderr, CMD_PRUNE_USAGE);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || age == NULL) {
		fprintf(stderr, CMD_PRUNE_USAGE);
		return EXIT_USAGE;
	}
	if (conf_parse_duration(age, &secs) != 0 || secs < 86400) {
		fprintf(stderr, "chiffon: db prune: --older-than: bad value "
		    "'%s' (a duration of at least one day, such as 180d or "
		    "26w)\n", age);
		return EXIT_USAGE;
	}
	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	/* Dropping partitions of run_output is the owner's (schema 005). */
	if ((owner = db_owner_connect(db, &err)) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	n = audit_prune(owner, secs, &names, &err);
	PQfinish(owner);
	if (n < 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	for (p = names; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		printf("dropped %.*s\n", (int)(nl - p), p);
	}
	printf("%d partition%s of run output and events dropped (older "
	    "than %s); the audit log is kept\n", n, n == 1 ? "" : "s", age);
	free(names);
	return cmd_prune_agent_metrics(app, db);
}
