/*
 * cmd-agent.c - `chiffon agent [--name ID] [--pool POOL] [--label L]...
 * [--once [--json]]`: this machine as an agent.  In the foreground it
 * registers (the worker's heartbeat upsert plus pool, labels, machine id
 * and interval), claims work for its plugins' capabilities like `chiffon
 * worker`, and every agent.heartbeat collects the "metrics" capability
 * (the desktop-metrics plugin) into agents.resource_metrics and one
 * agent_metrics row.  While the database is unreachable at start it
 * retries after 1 s, doubling up to db.reconnect_max; later losses are
 * the db module's reconnection.  SIGTERM or SIGINT: running tasks are
 * given back and the agent is marked offline.  --once: one heartbeat
 * (registration and metrics), nothing claimed, then exit.
 *
 * Exit statuses: 0 done, 2 bad usage, 3 the database or plugins failed.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "agent.h"
#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "db.h"
#include "host.h"
#include "loop.h"
#include "plugins.h"
#include "util.h"
#include "worker.h"

static int	cmd_agent(struct app *, int, char **);

const struct cmd_entry cmd_agent_entry = {
	.name = "agent",
	.usage = "[--name ID] [--pool POOL] [--label LABEL]... "
	    "[--once [--json]]",
	.summary = "run this machine as an agent: heartbeat with its "
	    "metrics, claim work",
	.args = { 0, 0 },
	.exec = cmd_agent,
};

#define CMD_AGENT_METRICS_MS	30000	/* one collection at most */
#define CMD_AGENT_ID_CHARS	8	/* of the machine id in the agent id */

/* The agent process: settings, loop registrations, the worker. */
struct cmd_agent {
	struct app		*app;
	struct loop		*loop;
	struct worker		*w;
	struct agent_info	 ai;
	char			*name;
	char			*machine_id;
	char			**labels;
	size_t			 nlabels;
	int			 has_metrics;	/* "metrics" is loaded */
	int			 collecting;
	int			 signaled;
	int			 woke;
};

static void
cmd_agent_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
cmd_agent_warn(const char *fmt, ...)
{
	va_list	ap;

	fputs("chiffon agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void
cmd_agent_signal(int signo, void *data)
{
	struct cmd_agent	*st = data;

	st->signaled = signo;
	if (st->w != NULL)
		worker_stop(st->w);
	loop_stop(st->loop);
}

static int
cmd_agent_wake(void *data)
{
	struct cmd_agent	*st = data;

	st->woke = 1;
	return 1;
}

/*
 * Connect, retrying while the database is unreachable (1 s, doubling up
 * to db.reconnect_max) unless once.  NULL when it gave up or was stopped.
 */
static struct db *
cmd_agent_connect(struct cmd_agent *st, int once)
{
	struct db	*db;
	char		*err = NULL;
	double		 delay = 1, max = 30;
	int		 id;

	if (conf_get(st->app->conf, "db.reconnect_max") != NULL)
		max = conf_get_duration(st->app->conf, "db.reconnect_max");
	for (;;) {
		if ((db = app_db(st->app, &err)) != NULL)
			return db;
		if (once) {
			cmd_agent_warn("%s", err);
			free(err);
			return NULL;
		}
		cmd_agent_warn("database unreachable: %s; retrying in %g s",
		    err, delay);
		free(err);
		err = NULL;
		st->woke = 0;
		id = loop_add_timer(st->loop, (uint64_t)(delay * 1000),
		    cmd_agent_wake, st, NULL, NULL);
		while (!st->woke && !st->signaled)
			loop_run_once(st->loop, -1);
		if (st->signaled) {
			if (!st->woke)
				loop_remove(st->loop, id);
			return NULL;
		}
		delay = delay * 2 < max ? delay * 2 : max;
	}
}

/* -- identity ------------------------------------------------------------ */

/* The machine id: the metrics' (read below their root), else /etc's. */
static char *
cmd_agent_machine_id(const char *metrics_json)
{
	struct json_object	*o, *v;
	char			*id = NULL, *text;
	size_t			 n;

	if (metrics_json != NULL &&
	    (o = json_tokener_parse(metrics_json)) != NULL) {
		if (json_object_object_get_ex(o, "machine_id", &v) &&
		    json_object_is_type(v, json_type_string))
			id = xstrdup(json_object_get_string(v));
		json_object_put(o);
	}
	if (id == NULL && (text = read_file("/etc/machine-id", NULL)) != NULL) {
		if ((n = strspn(text, "0123456789abcdef")) >= 16)
			id = xstrndup(text, n);
		free(text);
	}
	return id;
}

/* --name, agent.id, else HOST-MACHINEID (first 8), else HOST. */
static char *
cmd_agent_name(const char *opt, const struct conf *conf, const char *mid)
{
	const char	*v = conf_get(conf, "agent.id");
	char		 host[256];

	if (opt != NULL)
		return xstrdup(opt);
	if (v != NULL && *v != '\0')
		return xstrdup(v);
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	if (mid == NULL)
		return xstrdup(host);
	return xasprintf("%s-%.*s", host, CMD_AGENT_ID_CHARS, mid);
}

static void
cmd_agent_add_labels(struct cmd_agent *st, const char *list)
{
	char	*copy, *p, *save = NULL, *end;

	copy = xstrdup(list);
	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0')
			continue;
		st->labels = xreallocarray(st->labels, st->nlabels + 1,
		    sizeof *st->labels);
		st->labels[st->nlabels++] = xstrdup(p);
	}
	free(copy);
}

/* -- metrics ------------------------------------------------------------- */

/* Metrics now, synchronously (the start and --once).  Caller frees. */
static char *
cmd_agent_collect_sync(struct cmd_agent *st)
{
	char	*status = NULL, *result = NULL, *err = NULL;

	if (!st->has_metrics)
		return NULL;
	if (host_invoke_sync(st->app, CHIFFON_CAP_METRICS, NULL,
	    CMD_AGENT_METRICS_MS, &status, &result, &err) != 0) {
		cmd_agent_warn("collecting metrics failed: %s", err);
		free(err);
		return NULL;
	}
	if (strcmp(status, "successful") != 0) {
		cmd_agent_warn("collecting metrics ended %s: %s", status,
		    result);
		free(result);
		result = NULL;
	}
	free(status);
	return result;
}

/* The agent's heartbeat: metrics into its row and the history. */
static int
cmd_agent_report(struct cmd_agent *st, const char *metrics_json)
{
	struct db	*db = st->app->db;
	PGconn		*pg = db != NULL ? db_pg(db) : NULL;
	char		*json, *err = NULL;
	int		 rc = 0;

	if (metrics_json != NULL)
		worker_set_metrics(st->w, metrics_json);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		cmd_agent_warn("heartbeat skipped: the database is %s",
		    db != NULL ? db_state(db) : "not connected");
		return -1;
	}
	json = worker_metrics_json(st->w);
	if (agent_record_metrics(pg, st->name, json, &err) != 0 ||
	    agent_sweep(pg, &err) < 0) {
		cmd_agent_warn("heartbeat failed: %s", err);
		free(err);
		rc = -1;
	}
	free(json);
	return rc;
}

static void
cmd_agent_collected(const char *status, const char *result, void *data)
{
	struct cmd_agent	*st = data;

	st->collecting = 0;
	if (st->w == NULL || st->signaled)
		return;
	if (strcmp(status, "successful") != 0) {
		cmd_agent_warn("collecting metrics ended %s: %s", status,
		    result);
		result = NULL;
	}
	cmd_agent_report(st, result);
}

static int
cmd_agent_beat(void *data)
{
	struct cmd_agent	*st = data;
	char			*err = NULL;

	if (st->signaled)
		return 1;
	if (!st->has_metrics) {
		cmd_agent_report(st, NULL);
		return 0;
	}
	if (st->collecting)
		return 0;	/* the last one is still going */
	st->collecting = 1;
	if (host_invoke(st->app, CHIFFON_CAP_METRICS, NULL, cmd_agent_collected, st,
	    &err) != 0) {
		st->collecting = 0;
		cmd_agent_warn("collecting metrics failed: %s", err);
		free(err);
		cmd_agent_report(st, NULL);
	}
	return 0;
}

/* -- the command --------------------------------------------------------- */

/* One line about the heartbeat just recorded (--once). */
static void
cmd_agent_print(const struct cmd_agent *st, const char *metrics_json)
{
	struct json_object	*o, *v;
	const char		*gpu = "none";
	double			 gfree = 0, cfree = -1, mfree = -1;

	if ((o = json_tokener_parse(metrics_json)) == NULL)
		o = json_object_new_object();
	if (json_object_object_get_ex(o, "gpu_type", &v) && v != NULL)
		gpu = json_object_get_string(v);
	if (json_object_object_get_ex(o, "gpu_mem_mb_free", &v) && v != NULL)
		gfree = json_object_get_double(v);
	if (json_object_object_get_ex(o, "cpu_free", &v) && v != NULL)
		cfree = json_object_get_double(v);
	if (json_object_object_get_ex(o, "mem_mb_free", &v) && v != NULL)
		mfree = json_object_get_double(v);
	printf("%s: heartbeat recorded (pool %s, %u capabilit%s): ",
	    st->name, st->ai.pool, worker_ncapabilities(st->w),
	    worker_ncapabilities(st->w) == 1 ? "y" : "ies");
	if (cfree >= 0)
		printf("%.1f cores free, ", cfree);
	else
		printf("cores unknown, ");
	if (mfree >= 0)
		printf("%.0f MB memory free, ", mfree);
	else
		printf("memory unknown, ");
	printf("GPU %s with %.0f MB free\n", gpu, gfree);
	json_object_put(o);
}

/* Register, describe, first heartbeat.  0, or -1 (said why). */
static int
cmd_agent_register(struct cmd_agent *st, int once, const char *metrics)
{
	char	*err = NULL;
	PGconn	*pg;

	if (once)
		worker_set_report_only(st->w);
	if ((once ? worker_register(st->w, &err) :
	    worker_start(st->w, &err)) != 0)
		goto fail;
	pg = db_pg(st->app->db);
	if (agent_describe(pg, &st->ai, &err) != 0)
		goto fail;
	if (cmd_agent_report(st, metrics) != 0)
		return -1;
	return 0;
fail:
	cmd_agent_warn("%s", err);
	free(err);
	return -1;
}

static int
cmd_agent(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "pool", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "once", no_argument, NULL, '1' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_agent	 st = { 0 };
	struct loop_signals	 sigs;
	const char		*name = NULL, *pool = NULL, *v;
	char			*err = NULL, *metrics = NULL;
	size_t			 i;
	int			 ch, once = 0, json = 0, beat_id = 0;
	int			 status = EXIT_OK, cli_labels = 0;

	st.app = app;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "n:p:l:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'p':
			pool = optarg;
			break;
		case 'l':
			cmd_agent_add_labels(&st, optarg);
			cli_labels = 1;
			break;
		case '1':
			once = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_agent_entry);
			return EXIT_OK;
		default:
			cmd_usage(stderr, &cmd_agent_entry);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (name != NULL && *name == '\0') ||
	    (pool != NULL && *pool == '\0') || (json && !once)) {
		cmd_usage(stderr, &cmd_agent_entry);
		status = EXIT_USAGE;
		goto out;
	}
	if (!cli_labels && (v = conf_get(app->conf, "agent.labels")) != NULL)
		cmd_agent_add_labels(&st, v);
	st.loop = app_loop(app);
	loop_signals_open(st.loop, &sigs, cmd_agent_signal, &st);
	if (cmd_agent_connect(&st, once) == NULL) {
		status = st.signaled ? EXIT_OK : EXIT_ENV;
		goto out_sig;
	}
	db_attach_loop(app->db, st.loop);
	st.has_metrics = plugins_capability(app_plugins(app),
	    CHIFFON_CAP_METRICS) != NULL;
	if (!st.has_metrics)
		cmd_agent_warn("no loaded plugin provides \"metrics\" (is "
		    "desktop-metrics installed?); reporting the worker's own "
		    "CPU and memory figures");
	metrics = cmd_agent_collect_sync(&st);
	st.machine_id = cmd_agent_machine_id(metrics);
	st.name = cmd_agent_name(name, app->conf, st.machine_id);
	if ((st.w = worker_new(app, st.name, &err)) == NULL) {
		cmd_agent_warn("%s", err);
		free(err);
		status = EXIT_ENV;
		goto out_sig;
	}
	st.ai.name = st.name;
	st.ai.pool = pool != NULL ? pool : conf_get(app->conf, "agent.pool");
	if (st.ai.pool == NULL || *st.ai.pool == '\0')
		st.ai.pool = "default";
	st.ai.labels = (const char *const *)st.labels;
	st.ai.nlabels = st.nlabels;
	st.ai.machine_id = st.machine_id;
	st.ai.heartbeat_s = conf_get_duration(app->conf, "agent.heartbeat");
	if (metrics != NULL)
		worker_set_metrics(st.w, metrics);
	if (cmd_agent_register(&st, once, metrics) != 0)
		status = EXIT_ENV;
	else if (once) {
		free(metrics);
		metrics = worker_metrics_json(st.w);
		if (json)
			printf("%s\n", metrics);
		else
			cmd_agent_print(&st, metrics);
	} else {
		printf("%s: agent online in pool %s, heartbeat every %g s, "
		    "serving %u capabilit%s\n", st.name, st.ai.pool,
		    st.ai.heartbeat_s, worker_ncapabilities(st.w),
		    worker_ncapabilities(st.w) == 1 ? "y" : "ies");
		fflush(stdout);
		beat_id = loop_add_timer(st.loop,
		    (uint64_t)(st.ai.heartbeat_s * 1000), cmd_agent_beat, &st,
		    NULL, NULL);
		if (!st.signaled)
			loop_run(st.loop);
		if (beat_id > 0)
			loop_remove(st.loop, beat_id);
	}
	if (once) {
		/* Leave the row online: it goes offline when it falls silent. */
		worker_free(st.w);
	} else {
		worker_stop(st.w);
		worker_free(st.w);
	}
	st.w = NULL;

out_sig:
	loop_signals_close(st.loop, &sigs);
out:
	free(metrics);
	for (i = 0; i < st.nlabels; i++)
		free(st.labels[i]);
	free(st.labels);
	free(st.machine_id);
	free(st.name);
	return status;
}
