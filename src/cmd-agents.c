/*
 * cmd-agents.c - `chiffon agents [--json] [--all] [--gpu-min GB]
 * [--cores-min N] [--mem-min GB]`: the capacity question.  Lists the
 * online agents (with --all the offline ones too) and what they have
 * free now, best GPU first; the filters keep those with at least that
 * much free GPU memory (on one GPU), available cores and memory.  Agents
 * silent for three heartbeat intervals are marked offline first.
 *
 * Exit statuses: 0 listed (something matched when a filter was given),
 * 1 no agent meets the filter, 2 bad usage, 3 the database failed.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent.h"
#include "app.h"
#include "cmd.h"
#include "db.h"
#include "util.h"

static int	cmd_agents(struct app *, int, char **);

const struct cmd_entry cmd_agents_entry = {
	.name = "agents",
	.usage = "[--json] [--all] [--gpu-min GB] [--cores-min N] "
	    "[--mem-min GB]",
	.summary = "the agents online and what they have free",
	.args = { 0, 0 },
	.exec = cmd_agents,
};

/* A number option: >= 0.  0, or -1 (said why). */
static int
cmd_agents_number(const char *opt, const char *s, double *out)
{
	char	*end;
	double	 v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || v < 0 || !isfinite(v)) {
		fprintf(stderr, "chiffon agents: --%s: bad value '%s' (a "
		    "number, 0 or more)\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Metric key of metrics o as a number, NAN when unknown. */
static double
cmd_agents_metric(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    v == NULL || (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)))
		return NAN;
	return json_object_get_double(v);
}

/* "12.5" or "-" for unknown, into buf. */
static const char *
cmd_agents_fmt(char *buf, size_t len, double v, double scale, int prec)
{
	if (isnan(v))
		return "-";
	snprintf(buf, len, "%.*f", prec, v / scale);
	return buf;
}

/* A JSON array of strings as "a,b" (caller frees). */
static char *
cmd_agents_list(struct json_object *arr)
{
	struct strbuf	sb = { 0 };
	size_t		i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		strbuf_adds(&sb, json_object_get_string(
		    json_object_array_get_idx(arr, i)));
	}
	if (n == 0)
		strbuf_addc(&sb, '-');
	return strbuf_detach(&sb);
}

static void
cmd_agents_table(PGresult *res)
{
	struct json_object	*m, *labels;
	struct json_object	*v;
	char			 a[32], b[32], c[32], *l;
	const char		*gpu;
	int			 i, n = PQntuples(res);

	printf("%-24s %-10s %-8s %6s %6s %9s %-7s %9s  %s\n", "AGENT",
	    "POOL", "STATUS", "SEEN", "CORES", "MEM_GB", "GPU", "GPU_GB",
	    "LABELS");
	for (i = 0; i < n; i++) {
		m = json_tokener_parse(PQgetvalue(res, i, 8));
		labels = json_tokener_parse(PQgetvalue(res, i, 5));
		l = cmd_agents_list(labels);
		gpu = "-";
		if (m != NULL && json_object_object_get_ex(m, "gpu_type",
		    &v) && v != NULL)
			gpu = json_object_get_string(v);
		printf("%-24s %-10s %-8s %5.0fs %6s %9s %-7s %9s  %s\n",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), atof(PQgetvalue(res, i, 6)),
		    cmd_agents_fmt(a, sizeof a, cmd_agents_metric(m,
		    "cpu_free"), 1, 1),
		    cmd_agents_fmt(b, sizeof b, cmd_agents_metric(m,
		    "mem_mb_free"), 1024, 1), gpu,
		    cmd_agents_fmt(c, sizeof c, cmd_agents_metric(m,
		    "gpu_mem_mb_free"), 1024, 1), l);
		free(l);
		json_object_put(labels);
		json_object_put(m);
	}
}

/* The members of --json, in agent_query's column order. */
static const struct {
	const char	*key;
	enum { CMD_AGENTS_TEXT, CMD_AGENTS_JSON, CMD_AGENTS_NUMBER } type;
} cmd_agents_members[] = {
	{ "name", CMD_AGENTS_TEXT },
	{ "pool", CMD_AGENTS_TEXT },
	{ "status", CMD_AGENTS_TEXT },
	{ "kind", CMD_AGENTS_TEXT },
	{ "host", CMD_AGENTS_TEXT },
	{ "labels", CMD_AGENTS_JSON },
	{ "seen_s_ago", CMD_AGENTS_NUMBER },
	{ "capabilities", CMD_AGENTS_JSON },
	{ "metrics", CMD_AGENTS_JSON },
};

static void
cmd_agents_json(PGresult *res)
{
	struct json_object	*arr, *o, *v;
	const char		*s;
	size_t			 c;
	int			 i, n = PQntuples(res);

	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		for (c = 0; c < nitems(cmd_agents_members); c++) {
			s = PQgetvalue(res, i, (int)c);
			switch (cmd_agents_members[c].type) {
			case CMD_AGENTS_TEXT:
				v = json_object_new_string(s);
				break;
			case CMD_AGENTS_JSON:
				v = json_tokener_parse(s);
				break;
			default:
				v = json_object_new_double(atof(s));
				break;
			}
			json_object_object_add(o, cmd_agents_members[c].key, v);
		}
		json_object_array_add(arr, o);
	}
	printf("%s\n", json_object_to_json_string_ext(arr,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(arr);
}

static int
cmd_agents(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "gpu-min", required_argument, NULL, 'g' },
		{ "cores-min", required_argument, NULL, 'c' },
		{ "mem-min", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_filter	 f = { 0 };
	struct db		*db;
	PGresult		*res;
	char			*err = NULL;
	int			 ch, json = 0, n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'a':
			f.all = 1;
			break;
		case 'g':
			if (cmd_agents_number("gpu-min", optarg, &f.gpu_gb) != 0)
				return EXIT_USAGE;
			break;
		case 'c':
			if (cmd_agents_number("cores-min", optarg,
			    &f.cores) != 0)
				return EXIT_USAGE;
			break;
		case 'm':
			if (cmd_agents_number("mem-min", optarg, &f.mem_gb) != 0)
				return EXIT_USAGE;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_agents_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_agents_entry);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (f.all && (f.gpu_gb > 0 || f.cores > 0 ||
	    f.mem_gb > 0))) {
		cmd_usage(stderr, &cmd_agents_entry);
		return EXIT_USAGE;
	}
	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon agents: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (agent_sweep(db_pg(db), &err) < 0 ||
	    (res = agent_query(db_pg(db), &f, &err)) == NULL) {
		fprintf(stderr, "chiffon agents: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (json)
		cmd_agents_json(res);
	else
		cmd_agents_table(res);
	n = PQntuples(res);
	PQclear(res);
	if (n == 0 && (f.gpu_gb > 0 || f.cores > 0 || f.mem_gb > 0)) {
		if (!json)
			fprintf(stderr, "chiffon agents: no online agent has "
			    "that much free\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
