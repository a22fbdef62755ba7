/*
 * tui-summary.c - the summary block after a plan's run, shown at the end
 * of the Plan pane and written into the Log pane.
 *
 * Everything comes from the database, as `chiffon show` and History have
 * it: per step (task) its state, the last run's duration, CPU (user +
 * system of ansible-playbook and its children) and peak memory (maxrss);
 * per host of that run the recap counts (runs.summary.hosts) and the
 * span of its task events (run_events); the improvement suggestions of
 * the playbook (playbook_suggestions of the task, or stored for the
 * playbook's current content, schema 011) with category, rule,
 * file:line and the fix; and the audit git commit (audit_git).  A step
 * whose run had an earlier successful run with the same inputs
 * (runs.meta.inputs, the idempotency key of the infra plugin) is a
 * rerun: a rerun that changed nothing makes "no changes: the playbooks
 * are idempotent", one that changed something a warning.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "log.h"
#include "plan.h"
#include "sha256.h"
#include "tui.h"
#include "util.h"

/* Suggestions shown per step at most (the rest are counted). */
#define TUI_SUMMARY_SUGGESTIONS	8

static const char tui_summary_sql_steps[] =
	"SELECT t.id, t.step, t.action, coalesce(t.service, ''),"
	" coalesce(t.playbook, ''), t.status, coalesce(r.id, 0),"
	" coalesce(r.wall_s, t.wall_s, 0),"
	" coalesce(r.user_s, t.user_s, 0) + coalesce(r.sys_s, t.sys_s, 0),"
	" coalesce(r.maxrss_kb, t.maxrss_kb, 0),"
	" coalesce(r.summary -> 'hosts', '{}')::text,"
	" coalesce((SELECT jsonb_object_agg(h.host, h.d) FROM (SELECT e.host,"
	"  extract(epoch FROM max(e.at) - min(e.at)) AS d FROM run_events e"
	"  WHERE e.run_id = r.id AND e.run_started_at = r.started_at"
	"  AND e.host IS NOT NULL GROUP BY e.host) h), '{}')::text,"
	" CASE WHEN g.task_id IS NULL THEN '-' ELSE coalesce(g.commit_id,"
	" '') END,"
	" EXISTS (SELECT 1 FROM runs e WHERE e.id < r.id"
	"  AND e.kind = r.kind AND e.status = 'successful'"
	"  AND e.meta -> 'inputs' = r.meta -> 'inputs'),"
	" coalesce(t.status_reason, t.result ->> 'error', ''),"
	" p.plan_id, p.version,"
	" coalesce(r.summary -> 'failed_tasks', '[]')::text"
	" FROM tasks t JOIN plans p ON p.id = t.plan_id"
	" LEFT JOIN LATERAL (SELECT * FROM runs u WHERE u.task_id = t.id"
	"  ORDER BY u.id DESC LIMIT 1) r ON true"
	" LEFT JOIN audit_git g ON g.task_id = t.id"
	" WHERE t.plan_id = $1 ORDER BY t.step";

/* Most severe first, then as stored. */
static const char tui_summary_sql_suggestions[] =
	"SELECT s.category, s.rule, coalesce(s.file, s.playbook),"
	" coalesce(s.line, 0), s.reason, coalesce(s.fix, '')"
	" FROM playbook_suggestions s WHERE s.playbook = $1"
	" AND (s.task_id = $2::bigint OR s.playbook_sha256 = $3)"
	" ORDER BY array_position(ARRAY['blocker', 'critical', 'major',"
	" 'minor', 'info'], s.severity), s.id";

static const char tui_summary_sql_linted[] =
	"SELECT findings FROM playbook_lint WHERE playbook = $1"
	" AND playbook_sha256 = $2";

/* The columns of tui_summary_sql_steps. */
enum {
	TS_ID, TS_STEP, TS_ACTION, TS_SERVICE, TS_PLAYBOOK, TS_STATUS, TS_RUN,
	TS_WALL, TS_CPU, TS_RSS, TS_HOSTS, TS_SPANS, TS_COMMIT, TS_RERUN,
	TS_WHY, TS_PLAN, TS_VERSION, TS_FAILS
};

/* Failures shown per step at most, and their messages cut to this. */
#define TUI_SUMMARY_FAILURES	3
#define TUI_SUMMARY_MSG		160

/* The recap counts shown per host, in this order. */
static const char *const tui_summary_counts[] = {
	"ok", "changed", "failed", "unreachable",
};

static long long
tui_summary_count(struct json_object *host, const char *key)
{
	struct json_object	*v;

	if (host == NULL || !json_object_object_get_ex(host, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/* "62.1 MB" for a maxrss in KiB.  Caller frees. */
static char *
tui_summary_memory(long long kb)
{
	if (kb <= 0)
		return xstrdup("unknown");
	if (kb < 1024)
		return xasprintf("%lld KB", kb);
	return xasprintf("%.1f MB", (double)kb / 1024.0);
}

/*
 * One row per host: counts and the span of its events.  *changedp gets
 * the step's changed total.
 */
static void
tui_summary_hosts(struct tui_log *out, const char *hosts_json,
    const char *spans_json, long long *changedp)
{
	struct json_object	*hosts, *spans, *v;
	struct strbuf		 sb = { 0 };
	size_t			 i;
	long long		 n;

	*changedp = 0;
	hosts = json_tokener_parse(hosts_json);
	spans = json_tokener_parse(spans_json);
	if (hosts == NULL || !json_object_is_type(hosts, json_type_object) ||
	    json_object_object_length(hosts) == 0) {
		tui_log_add(out, -1, "     hosts: none recorded (the run "
		    "ended before its recap)");
		goto out;
	}
	json_object_object_foreach(hosts, host, counts) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "     %s:", host);
		for (i = 0; i < nitems(tui_summary_counts); i++) {
			n = tui_summary_count(counts, tui_summary_counts[i]);
			strbuf_addf(&sb, " %s=%lld", tui_summary_counts[i], n);
		}
		*changedp += tui_summary_count(counts, "changed");
		if (spans != NULL && json_object_object_get_ex(spans, host,
		    &v))
			strbuf_addf(&sb, "  %.1f s", json_object_get_double(v));
		tui_log_add(out, tui_summary_count(counts, "failed") > 0 ||
		    tui_summary_count(counts, "unreachable") > 0 ?
		    CHIFFON_LOG_ERROR : -1, sb.buf);
	}
out:
	json_object_put(hosts);
	json_object_put(spans);
	strbuf_free(&sb);
}

/* The first failures of a run (summary.failed_tasks), with what to try. */
static void
tui_summary_failures(struct tui_log *out, const char *fails_json)
{
	struct json_object	*list, *f, *v;
	const char		*task, *host, *msg;
	size_t			 i, n;
	char			*s, *one, *p;

	list = json_tokener_parse(fails_json);
	n = list != NULL && json_object_is_type(list, json_type_array) ?
	    json_object_array_length(list) : 0;
	for (i = 0; i < n && i < TUI_SUMMARY_FAILURES; i++) {
		f = json_object_array_get_idx(list, i);
		task = json_object_object_get_ex(f, "task", &v) ?
		    json_object_get_string(v) : "?";
		host = json_object_object_get_ex(f, "host", &v) ?
		    json_object_get_string(v) : "?";
		msg = json_object_object_get_ex(f, "message", &v) ?
		    json_object_get_string(v) : "";
		/* One line: Ansible's messages have newlines. */
		one = xstrndup(msg != NULL ? msg : "", TUI_SUMMARY_MSG);
		for (p = one; *p != '\0'; p++) {
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		}
		if (json_object_object_get_ex(f, "unreachable", &v) &&
		    json_object_get_boolean(v))
			s = xasprintf("     unreachable: %s (task \"%s\"): "
			    "%s; fix: check that %s is up and answers "
			    "(ansible %s -m ping)", host, task, one, host,
			    host);
		else
			s = xasprintf("     failed: \"%s\" on %s: %s", task,
			    host, one);
		free(one);
		tui_log_add(out, CHIFFON_LOG_ERROR, s);
		free(s);
	}
	if (n > TUI_SUMMARY_FAILURES) {
		s = xasprintf("     ... %zu more failures", n -
		    TUI_SUMMARY_FAILURES);
		tui_log_add(out, CHIFFON_LOG_ERROR, s);
		free(s);
	}
	json_object_put(list);
}

/* The suggestions of the step's playbook.  0, or -1 with *errp. */
static int
tui_summary_suggestions(struct tui_log *out, PGconn *pg, const char *repo,
    const char *task_id, const char *playbook, char **errp)
{
	char		 hex[SHA256_HEX_LEN + 1], *path, *line, *where;
	const char	*params[3];
	PGresult	*res;
	int		 i, n;

	if (*playbook == '\0')
		return 0;
	path = *playbook == '/' || repo == NULL ? xstrdup(playbook) :
	    path_join(repo, playbook);
	if (sha256_file(path, hex) != 0)
		hex[0] = '\0';
	free(path);
	params[0] = playbook;
	params[1] = task_id;
	params[2] = hex[0] != '\0' ? hex : NULL;
	if ((res = db_exec(pg, tui_summary_sql_suggestions, 3, params,
	    errp)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		params[1] = hex;
		if (hex[0] == '\0')
			res = NULL;
		else if ((res = db_exec(pg, tui_summary_sql_linted, 2,
		    params, errp)) == NULL)
			return -1;
		tui_log_add(out, -1, PQntuples(res) > 0 ? "     suggestions: "
		    "none (ansible-lint found nothing in this content)" :
		    "     suggestions: none stored (not linted: ansible-lint "
		    "runs after a failure, or with "
		    "plugin.infra.lint_on_success)");
		PQclear(res);
		return 0;
	}
	line = xasprintf("     suggestions for %s (%d):", playbook, n);
	tui_log_add(out, CHIFFON_LOG_WARNING, line);
	free(line);
	for (i = 0; i < n && i < TUI_SUMMARY_SUGGESTIONS; i++) {
		where = strcmp(PQgetvalue(res, i, 3), "0") != 0 ?
		    xasprintf("%s:%s", PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3)) : xstrdup(PQgetvalue(res, i, 2));
		line = xasprintf("       %s %s %s: %s%s%s",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), where,
		    PQgetvalue(res, i, 4), *PQgetvalue(res, i, 5) != '\0' ?
		    "; fix: " : "", PQgetvalue(res, i, 5));
		tui_log_add(out, -1, line);
		free(line);
		free(where);
	}
	if (n > TUI_SUMMARY_SUGGESTIONS) {
		line = xasprintf("       ... %d more: chiffon show task %s",
		    n - TUI_SUMMARY_SUGGESTIONS, task_id);
		tui_log_add(out, -1, line);
		free(line);
	}
	PQclear(res);
	return 0;
}

int
tui_summary_build(PGconn *pg, const char *repo, long long plan_row,
    struct tui_log *out, char **errp)
{
	const char	*params[1];
	PGresult	*res;
	char		 row[32], *s, *d, *mem;
	long long	 changed, total = 0;
	int		 i, n, nrerun = 0, nbad = 0;

	tui_log_clear(out);
	snprintf(row, sizeof row, "%lld", plan_row);
	params[0] = row;
	if ((res = db_exec(pg, tui_summary_sql_steps, 1, params,
	    errp)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return set_error(errp, "plan row %lld has no tasks", plan_row);
	}
	s = xasprintf("Summary of plan %s v%s (%d step%s):",
	    PQgetvalue(res, 0, TS_PLAN), PQgetvalue(res, 0, TS_VERSION), n,
	    n == 1 ? "" : "s");
	tui_log_add(out, CHIFFON_LOG_INFO, s);
	free(s);
	for (i = 0; i < n; i++) {
		const char *st = PQgetvalue(res, i, TS_STATUS);
		int	    ok = strcmp(st, "succeeded") == 0;

		d = plan_duration(strtod(PQgetvalue(res, i, TS_WALL), NULL));
		mem = tui_summary_memory(strtoll(PQgetvalue(res, i, TS_RSS),
		    NULL, 10));
		s = xasprintf(" step %s, task %s: %s %s (%s): %s%s%s",
		    PQgetvalue(res, i, TS_STEP), PQgetvalue(res, i, TS_ID),
		    PQgetvalue(res, i, TS_ACTION),
		    PQgetvalue(res, i, TS_SERVICE),
		    PQgetvalue(res, i, TS_PLAYBOOK), st,
		    !ok && *PQgetvalue(res, i, TS_WHY) != '\0' ? " - " : "",
		    !ok ? PQgetvalue(res, i, TS_WHY) : "");
		tui_log_add(out, ok ? -1 : CHIFFON_LOG_ERROR, s);
		free(s);
		if (strcmp(PQgetvalue(res, i, TS_RUN), "0") == 0) {
			tui_log_add(out, -1, "     no run");
		} else {
			s = xasprintf("     run %s: %s, CPU %.1f s, peak "
			    "memory %s", PQgetvalue(res, i, TS_RUN), d,
			    strtod(PQgetvalue(res, i, TS_CPU), NULL), mem);
			tui_log_add(out, -1, s);
			free(s);
			tui_summary_hosts(out, PQgetvalue(res, i, TS_HOSTS),
			    PQgetvalue(res, i, TS_SPANS), &changed);
			tui_summary_failures(out, PQgetvalue(res, i,
			    TS_FAILS));
			total += changed;
			if (*PQgetvalue(res, i, TS_RERUN) == 't') {
				nrerun++;
				if (changed > 0) {
					s = xasprintf("     warning: not "
					    "idempotent: %s changed %lld again "
					    "on a rerun with the same inputs",
					    PQgetvalue(res, i, TS_PLAYBOOK),
					    changed);
					tui_log_add(out, CHIFFON_LOG_WARNING,
					    s);
					free(s);
				}
			}
		}
		free(d);
		free(mem);
		if (!ok)
			nbad++;
		if (tui_summary_suggestions(out, pg, repo,
		    PQgetvalue(res, i, TS_ID), PQgetvalue(res, i,
		    TS_PLAYBOOK), errp) != 0) {
			PQclear(res);
			return -1;
		}
		/* "-": no git entry at all (a task that never ran). */
		if (strcmp(PQgetvalue(res, i, TS_COMMIT), "-") == 0)
			s = xstrdup("     audit: no git entry (the task did not "
			    "run)");
		else if (*PQgetvalue(res, i, TS_COMMIT) != '\0')
			s = xasprintf("     audit: git commit %s",
			    PQgetvalue(res, i, TS_COMMIT));
		else
			s = xstrdup("     audit: git entry not committed yet "
			    "(chiffon audit retry)");
		tui_log_add(out, -1, s);
		free(s);
	}
	PQclear(res);
	if (nbad == 0 && nrerun == n && total == 0)
		tui_log_add(out, CHIFFON_LOG_INFO, "No changes: the playbooks "
		    "are idempotent (a rerun with the same inputs changed "
		    "nothing).");
	else if (nbad == 0 && nrerun > 0 && total > 0)
		tui_log_add(out, CHIFFON_LOG_WARNING, "Warning: a rerun with "
		    "the same inputs changed things: the playbooks are not "
		    "idempotent (see the suggestions).");
	return 0;
}

void
tui_summary_show(struct tui *t, long long plan_row)
{
	const struct tui_line	*l;
	struct db		*db;
	char			*err = NULL, *msg;
	size_t			 i;

	if ((db = app_db(t->app, &err)) == NULL ||
	    tui_summary_build(db_pg(db), conf_get(t->app->conf,
	    "ansible.repo"), plan_row, &t->summary, &err) != 0) {
		msg = xasprintf("no summary of the run: %s", err);
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
		free(err);
		tui_log_clear(&t->summary);
		return;
	}
	/* As plain lines: no "error: " before a failed host's row. */
	for (i = 0; (l = tui_log_get(&t->summary, i)) != NULL; i++)
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, l->text);
}
