/*
 * tui-agents.c - the Agents pane: every registered agent (agent_query
 * with the offline ones), online or offline, when it was last heard
 * from, its free CPU, memory and GPU and its pool.  While shown it is
 * refreshed every TUI_AGENTS_MS by a loop timer (the offline sweep runs
 * first, as in `chiffon agents`); this shell's own worker is marked.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agent.h"
#include "app.h"
#include "chiffon/plugin.h"
#include "conf.h"
#include "db.h"
#include "loop.h"
#include "tui.h"
#include "util.h"

#define TUI_AGENTS_MS	2000

/* Metric key of m in units of scale, "-" when unknown, into buf. */
static const char *
tui_agents_metric(char *buf, size_t len, struct json_object *m,
    const char *key, double scale)
{
	struct json_object	*v;

	if (m == NULL || !json_object_object_get_ex(m, key, &v) ||
	    v == NULL || (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)))
		return "-";
	snprintf(buf, len, "%.1f", json_object_get_double(v) / scale);
	return buf;
}

/* Whether name is this process's worker (worker_default_name's form). */
static int
tui_agents_local(struct tui *t, const char *name)
{
	const char	*v = conf_get(t->app->conf, "dispatch.worker_name");
	char		 host[256], *prefix;
	int		 local;

	if (v != NULL && *v != '\0')
		return strcmp(v, name) == 0;
	if (gethostname(host, sizeof host) != 0)
		return 0;
	host[sizeof host - 1] = '\0';
	prefix = xasprintf("%s:%ld:", host, (long)getpid());
	local = strncmp(name, prefix, strlen(prefix)) == 0;
	free(prefix);
	return local;
}

/* Fetch the agents again into t->agents. */
static void
tui_agents_refresh(struct tui *t)
{
	struct agent_filter	 f = { .all = 1 };
	struct json_object	*m, *v;
	struct db		*db;
	PGresult		*res = NULL;
	char			*err = NULL, *row, a[32], b[32], c[32];
	const char		*gpu, *name;
	int			 i, n, local = 0;

	tui_log_clear(&t->agents);
	if ((db = app_db(t->app, &err)) == NULL ||
	    agent_sweep(db_pg(db), &err) < 0 ||
	    (res = agent_query(db_pg(db), &f, &err)) == NULL) {
		tui_log_add(&t->agents, CHIFFON_LOG_ERROR, err);
		free(err);
		return;
	}
	row = xasprintf("%-24s %-8s %-8s %9s %6s %8s %-6s %7s", "AGENT",
	    "POOL", "STATUS", "HEARTBEAT", "CPU", "MEM_GB", "GPU", "GPU_GB");
	tui_log_add(&t->agents, CHIFFON_LOG_INFO, row);
	free(row);
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		name = PQgetvalue(res, i, 0);
		m = json_tokener_parse(PQgetvalue(res, i, 8));
		gpu = "-";
		if (m != NULL && json_object_object_get_ex(m, "gpu_type", &v) &&
		    v != NULL)
			gpu = json_object_get_string(v);
		if (tui_agents_local(t, name))
			local = 1;
		row = xasprintf("%-24s %-8s %-8s %8.0fs %6s %8s %-6s %7s%s",
		    name, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    atof(PQgetvalue(res, i, 6)),
		    tui_agents_metric(a, sizeof a, m, "cpu_free", 1),
		    tui_agents_metric(b, sizeof b, m, "mem_mb_free", 1024), gpu,
		    tui_agents_metric(c, sizeof c, m, "gpu_mem_mb_free", 1024),
		    tui_agents_local(t, name) ? "  (this shell)" : "");
		tui_log_add(&t->agents, strcmp(PQgetvalue(res, i, 2),
		    "online") == 0 ? -1 : CHIFFON_LOG_DEBUG, row);
		free(row);
		json_object_put(m);
	}
	if (n == 0)
		tui_log_add(&t->agents, -1, "no agent registered yet");
	if (!local)
		tui_log_add(&t->agents, -1, "this shell's worker registers "
		    "when it runs an approved plan");
	PQclear(res);
	t->agents.scroll = t->agents.count;	/* from the top */
}

static int
tui_agents_timer(void *data)
{
	struct tui	*t = data;

	tui_agents_refresh(t);
	tui_layout_draw_panes(t);
	return 0;
}

static void
tui_agents_focus(struct tui *t, int on)
{
	if (t->agents_timer > 0)
		loop_remove(t->loop, t->agents_timer);
	t->agents_timer = 0;
	if (!on)
		return;
	tui_agents_refresh(t);
	t->agents_timer = loop_add_timer(t->loop, TUI_AGENTS_MS,
	    tui_agents_timer, t, NULL, NULL);
}

static char *
tui_agents_draw(struct tui *t, WINDOW *w)
{
	char	*where = tui_pane_log_draw(&t->agents, w);
	char	*s;

	s = xasprintf("refreshed every %ds%s%s", TUI_AGENTS_MS / 1000, where != NULL ? ", " : "",
	    where != NULL ? where : "");
	free(where);
	return s;
}

static int
tui_agents_key(struct tui *t, enum tui_request req, size_t rows)
{
	return tui_pane_log_key(&t->agents, req, rows);
}

const struct tui_pane tui_agents_pane = {
	.name = "Agents",
	.draw = tui_agents_draw,
	.key = tui_agents_key,
	.focus = tui_agents_focus,
};
