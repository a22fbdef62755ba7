/*
 * cmd-show.c - `chiffon show [--json] [--output] TASK`: one task with its
 * request, plan, approval, runs, resources, decisions (audit_log) and git
 * entry; --json prints the git entry itself; --output replays the task's
 * output from run_output, page by page, in constant memory.
 *
 * The ids are named as the shell shows them: `show task 12` is `show 12`;
 * `show plan 4`, `show plan 4 v2` (or 4v2, 4.2) print a plan as `chiffon
 * plan` does, with the ids and states of its tasks.
 *
 * Exit statuses: 0 done, 1 no such task, 2 bad usage, 3 the database
 * cannot be reached or failed mid-way.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "audit-query.h"
#include "cmd.h"
#include "db.h"
#include "output.h"
#include "plan.h"
#include "util.h"

static int	cmd_show(struct app *, int, char **);

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.usage = "[--json] [--output] [--color=auto|always|never] [task] TASK\n"
	    "chiffon show [--json] plan PLAN [vVERSION]",
	.summary = "one task: request, plan, approval, runs, resources, "
	    "decisions; --output replays its output",
	.args = { 1, 3 },
	.exec = cmd_show,
};

/* `show plan REF`: the plan as `chiffon plan` prints it, its tasks. */
static int
cmd_show_plan(struct app *app, const char *ref, int json)
{
	struct db	*db;
	struct plan	*plan;
	json_object	*o;
	long long	 row;
	char		*err = NULL, *s;
	size_t		 i;

	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if ((row = plan_resolve(db_pg(db), ref, &err)) < 0 ||
	    (plan = plan_load(db_pg(db), row, &err)) == NULL) {
		fprintf(stderr, "chiffon: show: %s\n", err);
		free(err);
		return PQstatus(db_pg(db)) == CONNECTION_OK ? EXIT_FAIL :
		    EXIT_ENV;
	}
	if (json) {
		o = plan_json(plan);
		printf("%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		plan_free(plan);
		return EXIT_OK;
	}
	s = plan_format(plan);
	fputs(s, stdout);
	free(s);
	printf("\nTasks (chiffon show task ID):\n");
	for (i = 0; i < plan->ntasks; i++)
		printf("  task %lld  step %d  %s\n", plan->tasks[i].id,
		    plan->tasks[i].step, plan->tasks[i].status != NULL ?
		    plan->tasks[i].status : "-");
	plan_free(plan);
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAIL;
}

/* The value at a dotted path ("plan.summary"), or NULL. */
static json_object *
cmd_show_get(json_object *o, const char *path)
{
	char	*copy = xstrdup(path), *p, *dot;

	for (p = copy; o != NULL && p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (!json_object_object_get_ex(o, p, &o))
			o = NULL;
	}
	free(copy);
	return o;
}

/*
 * Make every string of o safe for the terminal (term_safe): what was
 * typed or stored can contain escape sequences.
 */
static void
cmd_show_safe(json_object *o)
{
	json_object	*v;
	char		*safe;
	size_t		 i, n;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			if (json_object_is_type(val, json_type_string)) {
				safe = term_safe(json_object_get_string(val));
				json_object_object_add(o, key,
				    json_object_new_string(safe));
				free(safe);
			} else if (val != NULL)
				cmd_show_safe(val);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(o, i);
			if (json_object_is_type(v, json_type_string)) {
				safe = term_safe(json_object_get_string(v));
				json_object_array_put_idx(o, i,
				    json_object_new_string(safe));
				free(safe);
			} else if (v != NULL)
				cmd_show_safe(v);
		}
	}
}

/* A value as text ("-" when missing or null). */
static const char *
cmd_show_str(json_object *o, const char *path)
{
	json_object	*v = cmd_show_get(o, path);

	if (v == NULL || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static double
cmd_show_num(json_object *o, const char *path, int *present)
{
	json_object	*v = cmd_show_get(o, path);

	*present = v != NULL && !json_object_is_type(v, json_type_null);
	return *present ? json_object_get_double(v) : 0;
}

/* "a, b, c" of a JSON array of strings, or "-".  Caller frees. */
static char *
cmd_show_list(json_object *o, const char *path)
{
	json_object	*a = cmd_show_get(o, path);
	struct strbuf	 sb = { 0 };
	size_t		 i, n;

	n = a != NULL && json_object_is_type(a, json_type_array) ?
	    json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_adds(&sb, ", ");
		strbuf_adds(&sb, json_object_get_string(
		    json_object_array_get_idx(a, i)));
	}
	if (n == 0)
		strbuf_adds(&sb, "-");
	return strbuf_detach(&sb);
}

static void
cmd_show_resources(json_object *e)
{
	static const struct {
		const char	*path;
		const char	*label;
		const char	*unit;
	} res[] = {
		{ "resources.wall_s", "wall", "s" },
		{ "resources.user_s", "user", "s" },
		{ "resources.sys_s", "sys", "s" },
		{ "resources.maxrss_kb", "peak RSS", "kB" },
		{ "resources.gpu_mem_mb", "GPU memory", "MB" },
	};
	size_t	i;
	double	v;
	int	present, any = 0;

	printf("  resources  ");
	for (i = 0; i < nitems(res); i++) {
		v = cmd_show_num(e, res[i].path, &present);
		if (!present)
			continue;
		printf("%s%s %.*f %s", any ? ", " : "", res[i].label,
		    strcmp(res[i].unit, "s") == 0 ? 2 : 0, v, res[i].unit);
		any = 1;
	}
	printf("%s\n", any ? "" : "not recorded");
}

static void
cmd_show_runs(json_object *e)
{
	json_object	*runs = cmd_show_get(e, "runs"), *r;
	size_t		 i, n;
	double		 d;
	int		 present;

	n = runs != NULL ? json_object_array_length(runs) : 0;
	if (n == 0) {
		printf("  runs       none\n");
		return;
	}
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(runs, i);
		d = cmd_show_num(r, "duration_s", &present);
		printf("  %-10s run %s: %s, exit %s, ", i == 0 ? "runs" : "",
		    cmd_show_str(r, "id"),
		    cmd_show_str(r, "status"), cmd_show_str(r, "exit_code"));
		if (strcmp(cmd_show_str(r, "status"), "incomplete") == 0)
			printf("output not completely stored (%s of %s lines; "
			    "it ends %s once the spool is drained), ",
			    cmd_show_str(r, "stored_lines"),
			    cmd_show_str(r, "lines"),
			    cmd_show_str(r, "pending_status"));
		if (present)
			printf("%.1f s, ", d);
		printf("%s lines, %s events%s%s\n", cmd_show_str(r, "lines"),
		    cmd_show_str(r, "events"),
		    cmd_show_get(r, "agent") != NULL &&
		    strcmp(cmd_show_str(r, "agent"), "-") != 0 ?
		    ", agent " : "",
		    strcmp(cmd_show_str(r, "agent"), "-") != 0 ?
		    cmd_show_str(r, "agent") : "");
	}
}

static void
cmd_show_steps(json_object *e, long long task_id)
{
	json_object	*steps = cmd_show_get(e, "plan.steps"), *s;
	size_t		 i, n;

	n = steps != NULL ? json_object_array_length(steps) : 0;
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(steps, i);
		printf("    %s %s. %s %s  %s  (task %s)\n",
		    strtoll(cmd_show_str(s, "task_id"), NULL, 10) == task_id ?
		    ">" : " ", cmd_show_str(s, "step"),
		    cmd_show_str(s, "action"), cmd_show_str(s, "service"),
		    cmd_show_str(s, "playbook"), cmd_show_str(s, "task_id"));
	}
}

/* The decisions about this task, its plan and its request. */
static int
cmd_show_decisions(PGconn *pg, json_object *e)
{
	const char	*params[3];
	PGresult	*res;
	char		*actor;
	int		 i, n;

	params[0] = cmd_show_str(e, "task.id");
	params[1] = cmd_show_str(e, "ids.request");
	params[2] = cmd_show_str(e, "ids.plan");
	/*
	 * Rows about the task come through audit_log_task_idx; rows about
	 * its request or plan only are looked for between the request and
	 * an hour after the task (audit_log_at_idx).
	 */
	res = PQexecParams(pg,
	    "SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI:SS'), actor, kind, "
	    "data::text FROM audit_log WHERE task_id = $1::bigint "
	    "UNION SELECT a.id, to_char(a.at, 'YYYY-MM-DD HH24:MI:SS'), "
	    "a.actor, a.kind, a.data::text FROM audit_log a, requests r, "
	    "tasks t WHERE r.id = $2::bigint AND t.id = $1::bigint "
	    "AND a.at >= r.created_at - interval '1 minute' "
	    "AND a.at <= coalesce(t.finished_at, now()) + interval '1 hour' "
	    "AND a.task_id IS NULL AND (a.request_id = $2::bigint "
	    "OR a.plan_id = $3::bigint) ORDER BY 1", 3, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "chiffon: audit_log: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	printf("decisions:\n");
	if (n == 0)
		printf("  none recorded\n");
	for (i = 0; i < n; i++) {
		/* The data is JSON (escaped); the actor is not. */
		actor = term_safe(PQgetvalue(res, i, 2));
		printf("  %s  #%s  %-22s %-12s %s\n", PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 3), actor,
		    strcmp(PQgetvalue(res, i, 4), "{}") == 0 ? "" :
		    PQgetvalue(res, i, 4));
		free(actor);
	}
	PQclear(res);
	return 0;
}

static void
cmd_show_git(PGconn *pg, const char *task_id)
{
	const char	*params[1] = { task_id };
	PGresult	*res;

	res = PQexecParams(pg, "SELECT repo, path, commit_id, "
	    "committed_at IS NOT NULL, attempts, last_error FROM audit_git "
	    "WHERE task_id = $1::bigint", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		printf("  git        no entry\n");
	else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0)
		printf("  git        %.12s in %s (%s)\n", PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	else
		printf("  git        pending after %s attempts: %s\n",
		    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
	PQclear(res);
}

static void
cmd_show_print(PGconn *pg, json_object *e, long long task_id)
{
	char	*s;
	double	 v;
	int	 present;

	printf("task %s: %s %s - %s\n", cmd_show_str(e, "task.id"),
	    cmd_show_str(e, "task.action"), cmd_show_str(e, "task.service"),
	    cmd_show_str(e, "task.status"));
	if (strcmp(cmd_show_str(e, "task.status_reason"), "-") != 0)
		printf("  reason     %s\n", cmd_show_str(e,
		    "task.status_reason"));
	v = cmd_show_num(e, "task.match_confidence", &present);
	printf("  playbook   %s", cmd_show_str(e, "task.playbook"));
	if (present)
		printf(" (%s, %.2f)", cmd_show_str(e, "task.match_method"), v);
	printf("\n  targets    %s%s\n", cmd_show_str(e, "task.targets"),
	    cmd_show_get(e, "task.check_mode") != NULL &&
	    json_object_get_boolean(cmd_show_get(e, "task.check_mode")) ?
	    " (check mode)" : "");
	printf("  risk       %s\n", cmd_show_str(e, "task.risk"));
	printf("  request    #%s by %s%s%s at %s (parser %s, LLM cost $%s)\n",
	    cmd_show_str(e, "request.id"), cmd_show_str(e, "request.actor"),
	    strcmp(cmd_show_str(e, "request.ssh_client"), "-") != 0 ?
	    " from " : "", strcmp(cmd_show_str(e, "request.ssh_client"),
	    "-") != 0 ? cmd_show_str(e, "request.ssh_client") : "",
	    cmd_show_str(e, "request.created_at"),
	    cmd_show_str(e, "request.parser_tier"),
	    cmd_show_str(e, "request.cost_usd"));
	printf("             \"%s\"\n", cmd_show_str(e, "request.text"));
	printf("  plan       #%s (plan %s version %s) by %s: %s\n",
	    cmd_show_str(e, "plan.id"), cmd_show_str(e, "plan.plan_id"),
	    cmd_show_str(e, "plan.version"), cmd_show_str(e,
	    "plan.created_by"), cmd_show_str(e, "plan.summary"));
	cmd_show_steps(e, task_id);
	if (cmd_show_get(e, "approval") != NULL &&
	    !json_object_is_type(cmd_show_get(e, "approval"),
	    json_type_null))
		printf("  %-10s by %s at %s%s%s\n", cmd_show_str(e,
		    "approval.decision"), cmd_show_str(e,
		    "approval.approved_by"), cmd_show_str(e, "approval.at"),
		    strcmp(cmd_show_str(e, "approval.reason"), "-") != 0 ?
		    ": " : "", strcmp(cmd_show_str(e, "approval.reason"),
		    "-") != 0 ? cmd_show_str(e, "approval.reason") : "");
	else
		printf("  approval   none\n");
	printf("  times      created %s, started %s, finished %s\n",
	    cmd_show_str(e, "timestamps.created_at"),
	    cmd_show_str(e, "timestamps.started_at"),
	    cmd_show_str(e, "timestamps.finished_at"));
	cmd_show_runs(e);
	cmd_show_resources(e);
	s = cmd_show_list(e, "services_touched");
	printf("  services   %s\n", s);
	free(s);
	s = cmd_show_list(e, "files_touched");
	printf("  files      %s\n", s);
	free(s);
	cmd_show_git(pg, cmd_show_str(e, "task.id"));
	(void)cmd_show_decisions(pg, e);
}

/* Write one output line to stdout; stop when stdout fails. */
static int
cmd_show_line(long long run_id, long long seq, int stream, const char *line,
    size_t len, void *data)
{
	(void)run_id;
	(void)seq;
	(void)stream;
	output_line(stdout, line, len, *(const int *)data);
	return ferror(stdout) ? 1 : 0;
}

static int
cmd_show_output(PGconn *pg, json_object *e, int color)
{
	json_object	*runs = cmd_show_get(e, "ids.runs");
	size_t		 i, n;
	long long	 id;
	char		*err = NULL;

	n = runs != NULL ? json_object_array_length(runs) : 0;
	if (n == 0) {
		fprintf(stderr, "chiffon: task %s has no runs: no output\n",
		    cmd_show_str(e, "task.id"));
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		id = json_object_get_int64(json_object_array_get_idx(runs, i));
		if (n > 1)
			printf("%s==> run %lld <==\n", i > 0 ? "\n" : "", id);
		if (audit_query_output(pg, id, 0, cmd_show_line, &color,
		    &err) == -1) {
			fflush(stdout);
			fprintf(stderr, "chiffon: %s\n", err);
			free(err);
			return EXIT_ENV;
		}
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAIL;
}

static int
cmd_show(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "output", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db			*db;
	json_object			*e;
	char				*entry = NULL, *err = NULL, *end;
	long long			 task_id;
	int				 ch, output = 0, json = 0, rc;
	int				 color = output_color(NULL);

	while ((ch = getopt_long(argc, argv, "ojh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			if ((color = output_color(optarg)) < 0) {
				fprintf(stderr, "chiffon show: --color=%s: use "
				    "auto, always or never\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			output = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_show_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_show_entry);
			return EXIT_USAGE;
		}
	}
	/* The words the screen labels ids with. */
	if (optind < argc && strcmp(argv[optind], "plan") == 0) {
		char	*ref;

		if (output || argc - optind < 2 || argc - optind > 3) {
			if (output)
				fprintf(stderr, "chiffon: show: --output "
				    "takes a task (chiffon show plan N lists "
				    "its tasks)\n");
			return cmd_usage(stderr, &cmd_show_entry);
		}
		/* "4 v2" as the screen shows it is "4v2". */
		ref = argc - optind == 3 ? xasprintf("%s%s%s",
		    argv[optind + 1], argv[optind + 2][0] == 'v' ? "" : "v",
		    argv[optind + 2]) : xstrdup(argv[optind + 1]);
		rc = cmd_show_plan(app, ref, json);
		free(ref);
		return rc;
	}
	if (optind < argc - 1 && strcmp(argv[optind], "task") == 0)
		optind++;
	if (optind != argc - 1 || (output && json)) {
		cmd_usage(stderr, &cmd_show_entry);
		return EXIT_USAGE;
	}
	task_id = strtoll(argv[optind], &end, 10);
	if (*argv[optind] == '\0' || *end != '\0' || task_id < 1) {
		fprintf(stderr, "chiffon: show: '%s' is not a task id (a "
		    "number, as `chiffon audit` lists them)\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (audit_query_entry(db_pg(db), task_id, &entry, NULL, NULL,
	    &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return PQstatus(db_pg(db)) == CONNECTION_OK ? EXIT_FAIL :
		    EXIT_ENV;
	}
	if (json) {
		fputs(entry, stdout);
		free(entry);
		return EXIT_OK;
	}
	e = json_tokener_parse(entry);
	free(entry);
	if (e == NULL) {
		fprintf(stderr, "chiffon: task %lld: unreadable entry\n",
		    task_id);
		return EXIT_ENV;
	}
	cmd_show_safe(e);
	if (output)
		rc = cmd_show_output(db_pg(db), e, color);
	else {
		cmd_show_print(db_pg(db), e, task_id);
		rc = EXIT_OK;
	}
	json_object_put(e);
	return rc;
}
