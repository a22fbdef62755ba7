/*
 * tui-status.c - the status bar's text: the repository, the database
 * (embedded or a server; connected or reconnecting), the LLM tier and
 * its spend against the budget, the agents online, the plugins, and
 * while a plan runs the step (k of n) and its hosts by state (ok,
 * changed, failed, unreachable, as a recap counts a host).
 *
 * What comes from the database (spend, agents, the hosts of the running
 * plan) is read by tui_status_facts from the status timer, never while
 * request_plan uses the connection, and kept in struct tui_facts; the
 * text itself is made from the kept facts at every redraw.
 *
 * The bar shortens in steps until it fits beside the key bar: the
 * repository path is cut from the left ("...homelab") first; then the
 * forms of tui_status_forms are tried in order, each shorter than the
 * one before (plugins go, then the words, then the LLM and agents), so
 * that at 80 columns the database, the step and the host counts stay.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "plugins.h"
#include "tui.h"
#include "util.h"

/* What the status bar shows from the database, as last read. */
struct tui_facts {
	int		 read;		/* read at least once */
	double		 spent_day;	/* external LLM USD today */
	int		 agents;	/* agents online */
	long long	 plan_row;	/* hosts below are of this plan */
	long long	 hosts[4];	/* ok, changed, failed, unreachable */
	int		 nhosts;	/* hosts that reported */
};

/*
 * Per host of the plan's runs, its worst state: unreachable, failed,
 * changed or ok (as the recap counts a host), from the events stored so
 * far; the newest run of each step only.
 */
static const char tui_status_sql_hosts[] =
	"SELECT coalesce(sum((h.s = 0)::int), 0), coalesce(sum((h.s = 1)"
	"::int), 0), coalesce(sum((h.s = 2)::int), 0), coalesce(sum((h.s = 3)"
	"::int), 0), count(*) FROM (SELECT e.host, max(CASE"
	" WHEN e.event = 'runner_on_unreachable' THEN 3"
	" WHEN e.event = 'runner_on_failed' AND NOT coalesce((e.data ->>"
	" 'ignore_errors')::boolean, false) THEN 2"
	" WHEN coalesce((e.data ->> 'changed')::boolean, false) THEN 1"
	" ELSE 0 END) AS s FROM tasks t JOIN LATERAL (SELECT u.id,"
	" u.started_at FROM runs u WHERE u.task_id = t.id ORDER BY u.id DESC"
	" LIMIT 1) r ON true JOIN run_events e ON e.run_id = r.id"
	" AND e.run_started_at = r.started_at"
	" WHERE t.plan_id = $1 AND e.host IS NOT NULL AND e.event IN"
	" ('runner_on_ok', 'runner_on_failed', 'runner_on_unreachable')"
	" GROUP BY e.host) h";

static const char tui_status_sql_other[] =
	"SELECT (SELECT count(*) FROM agents WHERE status = 'online'),"
	" (SELECT coalesce(sum(cost_usd), 0) FROM llm_calls WHERE tier ="
	" 'external' AND at >= date_trunc('day', now()))";

void
tui_status_facts(struct tui *t)
{
	struct tui_facts	*f;
	struct db		*db;
	PGresult		*res;
	const char		*params[1];
	char			 row[32];
	int			 i;

	if (t->planning || t->app->db == NULL ||
	    (db = app_db(t->app, NULL)) == NULL ||
	    PQstatus(db_pg(db)) != CONNECTION_OK)
		return;
	if (t->facts == NULL)
		t->facts = xcalloc(1, sizeof *t->facts);
	f = t->facts;
	if ((res = db_exec(db_pg(db), tui_status_sql_other, 0, NULL,
	    NULL)) != NULL) {
		f->agents = atoi(PQgetvalue(res, 0, 0));
		f->spent_day = strtod(PQgetvalue(res, 0, 1), NULL);
		f->read = 1;
		PQclear(res);
	}
	if (t->exec == NULL) {
		f->plan_row = 0;
		return;
	}
	snprintf(row, sizeof row, "%lld", tui_exec_plan(t->exec));
	params[0] = row;
	if ((res = db_exec(db_pg(db), tui_status_sql_hosts, 1, params,
	    NULL)) == NULL)
		return;
	for (i = 0; i < 4; i++)
		f->hosts[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
	f->nhosts = atoi(PQgetvalue(res, 0, 4));
	f->plan_row = tui_exec_plan(t->exec);
	PQclear(res);
}

void
tui_status_free(struct tui *t)
{
	free(t->facts);
	t->facts = NULL;
}

/* The LLM tier configured and its spend against the daily budget. */
static char *
tui_status_llm(const struct tui *t, int brief)
{
	struct conf	*conf = t->app->conf;
	const char	*ext = conf_get(conf, "llm.external_provider");
	const char	*loc = conf_get(conf, "llm.local_provider");
	const char	*budget = conf_get(conf, "llm.budget_daily_usd");
	double		 spent = t->facts != NULL ? t->facts->spent_day : 0;
	int		 has_ext = ext != NULL && strcmp(ext, "none") != 0;
	int		 has_loc = loc != NULL && strcmp(loc, "none") != 0;

	if (!has_ext && !has_loc)
		return xstrdup(brief ? "parser" : "parser only");
	if (!has_ext)
		return xstrdup("local");
	return xasprintf("%s%s $%.2f/$%.2f%s", has_loc ? "local+" : "",
	    brief ? "ext" : "external", spent, budget != NULL ?
	    strtod(budget, NULL) : 0.0, brief ? "" : " today");
}

/*
 * The running plan's hosts by state, or "" before any reported: all four
 * counts, or (brief) the states that have hosts.  Caller frees.
 */
static char *
tui_status_hosts(const struct tui *t, int brief)
{
	static const char *const names[] = {
		"ok", "changed", "failed", "unreachable",
	};
	const struct tui_facts	*f = t->facts;
	struct strbuf		 sb = { 0 };
	size_t			 i;

	if (f == NULL || t->exec == NULL || f->plan_row !=
	    tui_exec_plan(t->exec) || f->nhosts == 0)
		return xstrdup("");
	strbuf_adds(&sb, ", hosts:");
	for (i = 0; i < nitems(names); i++) {
		if (!brief || f->hosts[i] > 0)
			strbuf_addf(&sb, "%s %lld %s", sb.buf[sb.len - 1] ==
			    ':' ? "" : ",", f->hosts[i], names[i]);
	}
	return strbuf_detach(&sb);
}

/* How much each form says; the first that fits is shown. */
static const struct tui_status_form {
	int	 repo;		/* " chiffon  repo: PATH" first */
	int	 plugins;	/* "plugins: N loaded" */
	int	 llm;		/* 2 full, 1 brief, 0 none */
	int	 agents;	/* 2 "agents: N online", 1 "agents N", 0 none */
	int	 hosts;		/* 2 every state, 1 those with hosts and
				   shorter run words, 0 none */
	int	 db_brief;	/* "db: embedded" while connected */
} tui_status_forms[] = {
	{ .repo = 1, .plugins = 1, .llm = 2, .agents = 2, .hosts = 2 },
	{ .repo = 1, .plugins = 1, .llm = 1, .agents = 1, .hosts = 2 },
	{ .repo = 1, .plugins = 0, .llm = 1, .agents = 1, .hosts = 1 },
	{ .repo = 1, .plugins = 0, .llm = 0, .agents = 0, .hosts = 1 },
	{ .repo = 0, .plugins = 0, .llm = 0, .agents = 0, .hosts = 1 },
	/* The last resort: the database and the run only, shortest. */
	{ .repo = 0, .plugins = 0, .llm = 0, .agents = 0, .hosts = 1,
	  .db_brief = 1 },
};

/* The run state's words, shorter (brief forms). */
static const struct {
	const char	*from;
	const char	*to;
} tui_status_shorter[] = {
	{ " steps did not succeed", " steps failed" },
	{ " steps ended", " ended" },
};

/* s with the first of tui_status_shorter's words replaced.  Caller frees. */
static char *
tui_status_shorten(const char *s)
{
	const char	*at;
	size_t		 i;

	for (i = 0; i < nitems(tui_status_shorter); i++) {
		if ((at = strstr(s, tui_status_shorter[i].from)) != NULL)
			return xasprintf("%.*s%s%s", (int)(at - s), s,
			    tui_status_shorter[i].to, at +
			    strlen(tui_status_shorter[i].from));
	}
	return xstrdup(s);
}

/* The part after the repository in one form.  Caller frees. */
static char *
tui_status_tail(struct tui *t, const struct tui_status_form *form,
    int repo_missing)
{
	struct app	*app = t->app;
	struct strbuf	 sb = { 0 };
	const char	*db;
	char		*s, *run = NULL;
	int		 nplugins = 0;

	if (app->plugins != NULL)
		nplugins = (int)plugins_count(app->plugins);
	db = app->db == NULL ? "not open" : db_state(app->db);
	if (repo_missing)
		strbuf_adds(&sb, " (not found)");
	if (form->db_brief && app->db != NULL && strcmp(db, "connected") == 0)
		strbuf_addf(&sb, "  db: %s", db_is_embedded(app->db) ?
		    "embedded" : "server");
	else
		strbuf_addf(&sb, "  db: %s%s", app->db == NULL ? "" :
		    db_is_embedded(app->db) ? "embedded, " : "server, ", db);
	if (form->llm > 0) {
		s = tui_status_llm(t, form->llm == 1);
		strbuf_addf(&sb, "  llm: %s", s);
		free(s);
	}
	if (form->agents > 0 && t->facts != NULL && t->facts->read)
		strbuf_addf(&sb, form->agents == 2 ? "  agents: %d online" :
		    "  agents %d", t->facts->agents);
	if (form->plugins)
		strbuf_addf(&sb, "  plugins: %d loaded", nplugins);
	if (t->exec != NULL)
		run = tui_exec_status(t->exec);
	if (run != NULL && form->hosts < 2) {
		s = tui_status_shorten(run);
		free(run);
		run = s;
	}
	if (run != NULL) {
		s = form->hosts > 0 ? tui_status_hosts(t, form->hosts == 1) :
		    xstrdup("");
		strbuf_addf(&sb, "  %s%s", run, s);
		free(s);
		free(run);
	}
	return strbuf_detach(&sb);
}

char *
tui_status_text(struct tui *t)
{
	static const char	 head[] = " chiffon  repo: ";
	const char		*repo = conf_get(t->app->conf, "ansible.repo");
	const char		*shown;
	char			*real = NULL, *s, *tail = NULL, *keys;
	long			 avail = 0, keep, plen;
	size_t			 i;

	if (repo != NULL)
		real = realpath(repo, NULL);
	shown = real != NULL ? real : repo != NULL ? repo :
	    "(none: use --repo)";
	/* Leave room for the key bar as well. */
	keys = tui_layout_key_bar(t);
	for (i = 0; i < nitems(tui_status_forms); i++) {
		free(tail);
		tail = tui_status_tail(t, &tui_status_forms[i],
		    repo != NULL && real == NULL);
		if (!tui_status_forms[i].repo) {
			/* " db: ..." first; the key bar where it fits. */
			if ((long)strlen(tail) + (long)strlen(keys) <
			    (long)t->geom.cols || i + 1 ==
			    nitems(tui_status_forms)) {
				free(keys);
				free(real);
				s = xstrdup(tail + 1);
				free(tail);
				return s;
			}
			continue;
		}
		avail = (long)t->geom.cols - (long)(sizeof head - 1) -
		    (long)strlen(tail) - (long)strlen(keys) - 1;
		if (avail >= 11)
			break;
	}
	free(keys);
	plen = (long)strlen(shown);
	keep = avail - 3 > 8 ? avail - 3 : 8;
	if (t->geom.cols > 0 && plen > avail && keep < plen)
		s = xasprintf("%s...%s%s", head, shown + (plen - keep), tail);
	else
		s = xasprintf("%s%s%s", head, shown, tail);
	free(tail);
	free(real);
	return s;
}
