/*
 * cmd-audit.c - `chiffon audit [filters]`: finished and running tasks,
 * newest first, filtered and paged (keyset: --after ID); `chiffon audit
 * verify`: walk the hash chain of audit_log; `chiffon audit retry`:
 * commit the git entries that failed before.
 *
 * Exit statuses: 0 done, 1 the chain is broken or git entries still fail,
 * 2 bad usage, 3 the database cannot be reached.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "audit.h"
#include "audit-query.h"
#include "cmd.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "gittrail.h"
#include "output.h"
#include "util.h"

static int	cmd_audit(struct app *, int, char **);

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.usage = "[--failures] [--service NAME] [--status S] [--user U]\n"
	    "[--since T] [--until T] [--days N] [--intent TEXT]\n"
	    "[--limit N] [--after ID] [--json]\n"
	    "[--color=auto|always|never]\n"
	    "chiffon audit verify\n"
	    "chiffon audit retry",
	.summary = "query the audit trail; verify its hash chain; retry git "
	    "entries",
	.args = { 0, 0 },	/* verify and retry are taken first */
	.exec = cmd_audit,
};

/* Longest request text shown in the table, in bytes. */
#define CMD_AUDIT_TEXT_MAX	60

/* The database connection, or NULL after printing why. */
static PGconn *
cmd_audit_pg(struct app *app)
{
	struct db	*db;
	char		*err = NULL;

	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return NULL;
	}
	return db_pg(db);
}

/*
 * A time argument: a duration ("2d", "36h": that long ago) becomes an
 * ISO 8601 UTC time; anything else is left for PostgreSQL to read.
 * Caller frees.
 */
static char *
cmd_audit_time(const char *arg)
{
	struct tm	tm;
	double		secs;
	time_t		t;
	char		buf[64];

	if (conf_parse_duration(arg, &secs) != 0)
		return xstrdup(arg);
	t = time(NULL) - (time_t)secs;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/* A positive integer option, or -1 after printing the problem. */
static long long
cmd_audit_number(const char *opt, const char *arg, long long max)
{
	char		*end;
	long long	 v;

	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "chiffon: audit: %s: bad value '%s' (a whole "
		    "number from 1 to %lld)\n", opt, arg, max);
		return -1;
	}
	return v;
}

/* Cut s to at most max bytes on a UTF-8 character boundary. */
static char *
cmd_audit_cut(const char *s, size_t max)
{
	size_t	n = strlen(s);
	char	*c, *safe;

	if (n <= max)
		c = xstrdup(s);
	else {
		while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
			max--;
		c = xasprintf("%.*s...", (int)max, s);
	}
	for (n = 0; c[n] != '\0'; n++)
		if (c[n] == '\n' || c[n] == '\t' || c[n] == '\r')
			c[n] = ' ';
	safe = term_safe(c);
	free(c);
	return safe;
}

static void
cmd_audit_table(PGresult *res, int color)
{
	static const struct {
		const char	*title;
		int		 col;
	} cols[] = {
		{ "ID", AUDIT_COL_ID },
		{ "WHEN", AUDIT_COL_TIME },
		{ "STATUS", AUDIT_COL_STATUS },
		{ "ACTION", AUDIT_COL_ACTION },
		{ "SERVICE", AUDIT_COL_SERVICE },
		{ "TARGETS", AUDIT_COL_TARGETS },
		{ "APPROVED BY", AUDIT_COL_APPROVED_BY },
		{ "WALL", AUDIT_COL_WALL_S },
	};
	int	 w[nitems(cols)], i, n = PQntuples(res), len;
	size_t	 c;
	char	*text, *safe, wall[32], **targets;

	targets = xcalloc((size_t)n + 1, sizeof *targets);
	for (i = 0; i < n; i++)
		targets[i] = audit_query_targets(res, i, NULL);
	for (c = 0; c < nitems(cols); c++) {
		w[c] = (int)strlen(cols[c].title);
		for (i = 0; i < n; i++) {
			len = cols[c].col == AUDIT_COL_TARGETS ?
			    (int)strlen(targets[i]) : PQgetlength(res, i,
			    cols[c].col);
			if (len > w[c])
				w[c] = len;
		}
	}
	w[nitems(cols) - 1] = 8;
	for (c = 0; c < nitems(cols); c++)
		printf("%-*s  ", w[c], cols[c].title);
	printf("REQUEST\n");
	for (i = 0; i < n; i++) {
		for (c = 0; c < nitems(cols); c++) {
			const char *v = PQgetvalue(res, i, cols[c].col);

			if (cols[c].col == AUDIT_COL_WALL_S) {
				if (PQgetisnull(res, i, cols[c].col))
					snprintf(wall, sizeof wall, "-");
				else
					snprintf(wall, sizeof wall, "%.1fs",
					    atof(v));
				v = wall;
			} else if (cols[c].col == AUDIT_COL_TARGETS)
				v = targets[i];
			if (*v == '\0')
				v = "-";
			safe = term_safe(v);
			printf("%-*s  ", w[c], safe);
			free(safe);
		}
		text = cmd_audit_cut(PQgetvalue(res, i, AUDIT_COL_REQUEST),
		    CMD_AUDIT_TEXT_MAX);
		output_line(stdout, text, strlen(text), color);
		free(text);
	}
	for (i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
}

static void
cmd_audit_json(PGresult *res, int more)
{
	json_object	*top, *list, *o, *hosts;
	int		 i, n = PQntuples(res);

	top = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(strtoll(
		    PQgetvalue(res, i, AUDIT_COL_ID), NULL, 10)));
		json_object_object_add(o, "time", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_TIME_UTC)));
		json_object_object_add(o, "status", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_STATUS)));
		json_object_object_add(o, "action", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_ACTION)));
		json_object_object_add(o, "service", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_SERVICE)));
		json_object_object_add(o, "playbook", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_PLAYBOOK)));
		json_object_object_add(o, "targets", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_TARGETS)));
		free(audit_query_targets(res, i, &hosts));
		json_object_object_add(o, "hosts", hosts);
		json_object_object_add(o, "requested_by",
		    json_object_new_string(PQgetvalue(res, i,
		    AUDIT_COL_REQUESTED_BY)));
		json_object_object_add(o, "approved_by",
		    json_object_new_string(PQgetvalue(res, i,
		    AUDIT_COL_APPROVED_BY)));
		json_object_object_add(o, "wall_s",
		    PQgetisnull(res, i, AUDIT_COL_WALL_S) ? NULL :
		    json_object_new_double_s(atof(PQgetvalue(res, i,
		    AUDIT_COL_WALL_S)), PQgetvalue(res, i,
		    AUDIT_COL_WALL_S)));
		json_object_object_add(o, "request", json_object_new_string(
		    PQgetvalue(res, i, AUDIT_COL_REQUEST)));
		json_object_object_add(o, "plan", json_object_new_int64(
		    strtoll(PQgetvalue(res, i, AUDIT_COL_PLAN), NULL, 10)));
		json_object_object_add(o, "request_id", json_object_new_int64(
		    strtoll(PQgetvalue(res, i, AUDIT_COL_REQUEST_ID), NULL,
		    10)));
		json_object_array_add(list, o);
	}
	json_object_object_add(top, "tasks", list);
	json_object_object_add(top, "next_after", more && n > 0 ?
	    json_object_new_int64(strtoll(PQgetvalue(res, n - 1,
	    AUDIT_COL_ID), NULL, 10)) : NULL);
	printf("%s\n", json_object_to_json_string_ext(top,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
}

/*
 * After the chain itself: each run's output against its digest, and the
 * chain and the digests against the git trail (audit.repo).
 */
static int
cmd_audit_verify_more(struct app *app, PGconn *pg)
{
	struct gittrail_verdict	 v;
	const char		*repo = conf_get(app->conf, "audit.repo");
	long long		 nruns;
	char			*problem = NULL, *err = NULL;
	int			 rc;

	if ((rc = audit_verify_output(pg, &nruns, &problem, &err)) == 0) {
		printf("%lld runs' output verified\n", nruns);
		if (repo == NULL) {
			printf("no audit repository (audit.repo): the chain "
			    "is not checked against the git trail\n");
			return EXIT_OK;
		}
		if ((rc = gittrail_verify(pg, repo, &v, &err)) == 0 &&
		    v.missing)
			printf("no git trail in %s yet (nothing was committed "
			    "to it)\n", repo);
		else if (rc == 0)
			printf("%d anchors and %d entries (%d runs) in the git "
			    "trail %s verified\n", v.nanchors, v.nentries,
			    v.nruns, repo);
		problem = v.problem;
	}
	if (rc == -1) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (rc == 1) {
		printf("%s\n", problem);
		free(problem);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int
cmd_audit_verify(struct app *app, int argc, char **argv)
{
	PGconn		*pg;
	long long	 n, bad;
	char		*reason = NULL, *err = NULL;
	int		 rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: chiffon audit verify\n");
		return EXIT_USAGE;
	}
	if ((pg = cmd_audit_pg(app)) == NULL)
		return EXIT_ENV;
	rc = audit_verify(pg, &n, &bad, &reason, &err);
	if (rc == -1) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (rc == 1) {
		printf("audit_log chain broken at row %lld: %s\n", bad, reason);
		printf("%lld rows before it verified\n", n);
		free(reason);
		return EXIT_FAIL;
	}
	printf("%lld rows verified\n", n);
	return cmd_audit_verify_more(app, pg);
}

static int
cmd_audit_retry(struct app *app, int argc, char **argv)
{
	PGconn	*pg;
	char	*err = NULL;
	int	 done, failed;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: chiffon audit retry\n");
		return EXIT_USAGE;
	}
	if ((pg = cmd_audit_pg(app)) == NULL)
		return EXIT_ENV;
	if (gittrail_retry_pending(pg, &done, &failed, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	printf("%d git entries committed, %d still failing%s\n", done, failed,
	    failed > 0 ? " (see audit_git.last_error)" : "");
	return failed > 0 ? EXIT_FAIL : EXIT_OK;
}

static int
cmd_audit(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "failures", no_argument, NULL, 'F' },
		{ "service", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 'b' },
		{ "until", required_argument, NULL, 'e' },
		{ "days", required_argument, NULL, 'd' },
		{ "intent", required_argument, NULL, 'i' },
		{ "limit", required_argument, NULL, 'n' },
		{ "after", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_filter		 f;
	PGconn				*pg;
	PGresult			*res;
	char				*since = NULL, *until = NULL;
	char				*err = NULL;
	long long			 v;
	size_t				 i;
	int				 ch, json = 0, rc = EXIT_USAGE, more;
	int				 color = output_color(NULL);

	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		optind = 0;
		return cmd_audit_verify(app, argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "retry") == 0) {
		optind = 0;
		return cmd_audit_retry(app, argc - 1, argv + 1);
	}
	memset(&f, 0, sizeof f);
	while ((ch = getopt_long(argc, argv, "Fs:S:u:b:e:d:i:n:a:jh",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			f.failures = 1;
			break;
		case 's':
			f.service = optarg;
			break;
		case 'S':
			for (i = 0; i < dispatch_ntask_states; i++)
				if (strcmp(optarg, dispatch_task_states[i]) == 0)
					break;
			if (i == dispatch_ntask_states) {
				fprintf(stderr, "chiffon: audit: --status: bad "
				    "value '%s' (accepted:", optarg);
				for (i = 0; i < dispatch_ntask_states; i++)
					fprintf(stderr, "%s %s", i ? "," : "",
					    dispatch_task_states[i]);
				fprintf(stderr, ")\n");
				goto out;
			}
			f.status = optarg;
			break;
		case 'u':
			f.user = optarg;
			break;
		case 'b':
			free(since);
			since = cmd_audit_time(optarg);
			break;
		case 'e':
			free(until);
			until = cmd_audit_time(optarg);
			break;
		case 'd':
			if ((v = cmd_audit_number("--days", optarg,
			    100000)) < 0)
				goto out;
			f.days = (int)v;
			break;
		case 'i':
			f.intent = optarg;
			break;
		case 'n':
			if ((v = cmd_audit_number("--limit", optarg,
			    100000)) < 0)
				goto out;
			f.limit = (int)v;
			break;
		case 'a':
			if ((v = cmd_audit_number("--after", optarg,
			    (long long)9e18)) < 0)
				goto out;
			f.after = v;
			break;
		case 'j':
			json = 1;
			break;
		case 'C':
			if ((color = output_color(optarg)) < 0) {
				fprintf(stderr, "chiffon audit: --color=%s: "
				    "use auto, always or never\n", optarg);
				goto out;
			}
			break;
		case 'h':
			cmd_usage(stdout, &cmd_audit_entry);
			rc = EXIT_OK;
			goto out;
		default:
			cmd_usage(stderr, &cmd_audit_entry);
			goto out;
		}
	}
	if (cmd_args_check(&cmd_audit_entry, argc, optind) != 0)
		goto out;
	if (since != NULL && f.days > 0) {
		fprintf(stderr, "chiffon: audit: --since and --days both give "
		    "the start; use one\n");
		goto out;
	}
	f.since = since;
	f.until = until;
	if (f.limit == 0)
		f.limit = 50;
	if ((pg = cmd_audit_pg(app)) == NULL) {
		rc = EXIT_ENV;
		goto out;
	}
	if ((res = audit_query_tasks(pg, &f, &err)) == NULL) {
		/*
		 * With the connection fine, the query failed on what the
		 * user gave (a time PostgreSQL cannot read).
		 */
		if (PQstatus(pg) == CONNECTION_OK &&
		    (since != NULL || until != NULL)) {
			fprintf(stderr, "chiffon: audit: --since/--until: not "
			    "a time PostgreSQL can read (use a date such as "
			    "2026-11-01, a date and time, or a duration such "
			    "as 36h or 2d)\n  %s\n", err);
			rc = EXIT_USAGE;
		} else {
			fprintf(stderr, "chiffon: %s\n", err);
			rc = EXIT_ENV;
		}
		free(err);
		goto out;
	}
	more = PQntuples(res) == f.limit;
	if (json)
		cmd_audit_json(res, more);
	else if (PQntuples(res) == 0)
		printf("no matching tasks %s\n", f.since != NULL ||
		    f.until != NULL ? "in that time" : f.days > 0 ?
		    "in that many days" : "in the last 7 days (--days N "
		    "looks further back)");
	else {
		cmd_audit_table(res, color);
		if (more)
			printf("(more: add --after %s)\n", PQgetvalue(res,
			    PQntuples(res) - 1, AUDIT_COL_ID));
	}
	PQclear(res);
	rc = EXIT_OK;
out:
	free(since);
	free(until);
	return rc;
}
