/*
 * check_infra_run.c - the infra plugin's playbook runner, summaries,
 * cancel and timeout, and lint suggestions, for real: the infra plugin
 * loaded by the plugin loader from the build tree, the real host API and
 * event loop, a throwaway PostgreSQL cluster (pgtest), and ansible-playbook
 * and ansible-lint on the sample repo tests/playbooks (connection: local;
 * "deadhost" is SSH to a closed port on 127.0.0.1).
 *
 * For each run the test captures every line the live subscriber got and
 * checks that run_output holds exactly those lines in order, that known
 * content appears the known number of times, and that the summary on the
 * runs row matches the PLAY RECAP the process printed.
 *
 * summary.c is also compiled in (it is host-independent) for the parts no
 * sample run reaches (services).
 */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "host.h"
#include "loop.h"
#include "pgtest.h"
#include "plugins.h"
#include "runlog.h"
#include "testutil.h"
#include "util.h"

#include "../plugins/infra/summary.h"

/* The cluster, started once in the parent (tests fork). */

/* Per-test state. */
static struct app	 app;
static char		*tmp;		/* a private directory */

/* One captured output line. */
struct line {
	int	 stream;
	char	*text;
};

/* What one run delivered. */
struct capture {
	char		*run_id;
	struct line	*lines;
	size_t		 n;
	size_t		 cap;
	const char	*cancel_on;	/* cancel when a line contains this */
	int		 cancel_now;
	int		 done;
	char		*status;
	char		*result;
};

/* --- environment ------------------------------------------------------- */

static const char *
srcdir(void)
{
	const char	*s = getenv("CHIFFON_SRCDIR");

	return s != NULL ? s : "..";
}

static char *
repo_dir(void)
{
	return path_join(srcdir(), "tests/playbooks");
}

static void
set_conf(const char *key, const char *value)
{
	char	*err = NULL;

	ck_assert_msg(conf_set(app.conf, key, value, "test", &err) == 0,
	    "%s", err);
}

/* A fresh database and the infra plugin, as chiffon itself loads it. */
static void
app_start(const char *dbname)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");
	const char	*dev = getenv("CHIFFON_TEST_INFRA_DIR");
	struct plugins	*ps;
	char		*conninfo, *err = NULL, *dir, *repo;
	size_t		 i;

	ck_assert_msg(testutil_cluster() != NULL, "no test cluster");
	conninfo = pgtest_new_db(testutil_cluster(), dbname, &err);
	ck_assert_msg(conninfo != NULL, "%s", err);
	memset(&app, 0, sizeof app);
	app.argv0 = "check_infra_run";
	app.conf = conf_new();
	set_conf("db.url", conninfo);
	free(conninfo);
	dir = dev != NULL ? xstrdup(dev) :
	    xasprintf("%s/plugins/infra/.libs", b != NULL ? b : ".");
	set_conf("plugins.path", dir);
	set_conf("plugins.load", "infra");
	repo = repo_dir();
	set_conf("ansible.repo", repo);
	free(repo);
	ck_assert_msg(app_db(&app, &err) != NULL, "%s", err);
	ps = app_plugins(&app);
	if (plugins_find(ps, "infra") == NULL) {
		for (i = 0; i < plugins_nrefused(ps); i++)
			fprintf(stderr, "refused: %s: %s\n",
			    plugins_refusal_at(ps, i)->file,
			    plugins_refusal_at(ps, i)->reason);
		ck_abort_msg("the infra plugin did not load from %s (build "
		    "it: make plugins/infra/infra.la)", dir);
	}
	free(dir);
	tmp = xstrdup("/tmp/chiffon-ckrun-XXXXXX");
	ck_assert(mkdtemp(tmp) != NULL);
	/* Extra-vars files go here, so the test sees them removed. */
	setenv("TMPDIR", tmp, 1);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void
app_stop(void)
{
	app_free(&app);
	if (tmp != NULL)
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp);
	tmp = NULL;
}

/* --- running ----------------------------------------------------------- */

static void
on_line(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	struct capture	*c = data;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->lines = xreallocarray(c->lines, c->cap, sizeof *c->lines);
	}
	c->lines[c->n].stream = stream;
	c->lines[c->n].text = xstrndup(line, len);
	c->n++;
	if (c->cancel_on != NULL && strstr(c->lines[c->n - 1].text,
	    c->cancel_on) != NULL)
		c->cancel_now = 1;
}

static void
on_run(struct runlog *rl, struct chiffon_task *t, void *data)
{
	struct capture	*c = data;

	ck_assert_msg(c->run_id == NULL, "one run expected per task");
	c->run_id = xstrdup(runlog_id(rl));
	runlog_subscribe(rl, on_line, c);
}

static void
on_done(const char *status, const char *result, void *data)
{
	struct capture	*c = data;

	c->done = 1;
	c->status = xstrdup(status);
	c->result = xstrdup(result != NULL ? result : "{}");
}

/* Invoke capability and run the loop until it finishes. */
static void
invoke(struct capture *c, const char *capability, const char *params)
{
	struct chiffon_task	*task = NULL;
	char			*err = NULL;
	int			 canceled = 0;

	host_on_run(on_run, c);
	ck_assert_msg(host_invoke_task(&app, NULL, capability, params, on_done,
	    c, &task, &err) == 0, "%s", err);
	while (!c->done) {
		if (c->cancel_now && !canceled && task != NULL) {
			canceled = 1;
			ck_assert_int_eq(host_cancel(task), 0);
		}
		ck_assert_int_ge(loop_run_once(app_loop(&app), 1000), 0);
	}
	host_on_run(NULL, NULL);
}

static void
capture_free(struct capture *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->lines[i].text);
	free(c->lines);
	free(c->run_id);
	free(c->status);
	free(c->result);
	memset(c, 0, sizeof *c);
}

/* --- database ---------------------------------------------------------- */

static PGresult *
query(const char *sql, int n, const char *const *params)
{
	PGresult	*res;

	res = PQexecParams(db_pg(app.db), sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	return res;
}

/* The one value of a one-row query; caller frees. */
static char *
query_value(const char *sql, const char *param)
{
	const char	*params[1] = { param };
	PGresult	*res = query(sql, param != NULL ? 1 : 0, params);
	char		*v;

	ck_assert_msg(PQntuples(res) == 1, "%s: %d rows", sql, PQntuples(res));
	v = xstrdup(PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static long
query_long(const char *sql, const char *param)
{
	char	*v = query_value(sql, param);
	long	 n = strtol(v, NULL, 10);

	free(v);
	return n;
}

/* --- checks ------------------------------------------------------------ */

/* run_output holds exactly the captured lines, in order. */
static void
check_output_rows(const struct capture *c)
{
	const char	*params[1] = { c->run_id };
	PGresult	*res;
	size_t		 i;

	ck_assert_ptr_nonnull(c->run_id);
	res = query("SELECT stream, line FROM run_output WHERE run_id = $1 "
	    "ORDER BY seq", 1, params);
	ck_assert_msg((size_t)PQntuples(res) == c->n, "run_output has %d "
	    "rows, the process printed %zu lines", PQntuples(res), c->n);
	for (i = 0; i < c->n; i++) {
		ck_assert_int_eq(atoi(PQgetvalue(res, (int)i, 0)),
		    c->lines[i].stream);
		ck_assert_msg(strcmp(PQgetvalue(res, (int)i, 1),
		    c->lines[i].text) == 0, "row %zu: '%s' != printed '%s'",
		    i, PQgetvalue(res, (int)i, 1), c->lines[i].text);
	}
	PQclear(res);
	ck_assert_int_eq(query_long("SELECT lines FROM runs WHERE id = $1",
	    c->run_id), (long)c->n);
}

/* A line without its ANSI escape sequences; caller frees. */
static char *
plain(const char *s)
{
	struct strbuf	sb = { 0 };

	while (*s != '\0') {
		if (*s == '\033' && s[1] == '[') {
			s += 2;
			while (*s != '\0' && !isalpha((unsigned char)*s))
				s++;
			if (*s != '\0')
				s++;
			continue;
		}
		strbuf_addc(&sb, *s++);
	}
	return strbuf_detach(&sb);
}

/* Lines (without colours) containing needle. */
static size_t
count_lines(const struct capture *c, const char *needle)
{
	size_t	 i, n = 0;
	char	*p;

	for (i = 0; i < c->n; i++) {
		p = plain(c->lines[i].text);
		if (strstr(p, needle) != NULL)
			n++;
		free(p);
	}
	return n;
}

/* The run's summary (runs.summary) as JSON; caller puts. */
static json_object *
run_summary(const struct capture *c)
{
	char		*text = query_value("SELECT summary::text FROM runs "
			    "WHERE id = $1", c->run_id);
	json_object	*o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "summary is not JSON: %s", text);
	free(text);
	return o;
}

static int
host_count(json_object *summary, const char *host, const char *key)
{
	json_object	*hosts, *h, *v;

	ck_assert(json_object_object_get_ex(summary, "hosts", &hosts));
	ck_assert_msg(json_object_object_get_ex(hosts, host, &h),
	    "no host %s in the summary", host);
	ck_assert(json_object_object_get_ex(h, key, &v));
	return json_object_get_int(v);
}

/*
 * Parse the PLAY RECAP the process printed and compare every host's
 * counts with the summary.  Returns the number of recap hosts.
 */
static int
check_recap(const struct capture *c)
{
	json_object	*s = run_summary(c), *hosts;
	size_t		 i;
	int		 in_recap = 0, n = 0, ok, ch, un, fa, sk, re, ig;
	char		 host[256], *p;

	for (i = 0; i < c->n; i++) {
		p = plain(c->lines[i].text);
		if (strncmp(p, "PLAY RECAP", 10) == 0)
			in_recap = 1;
		else if (in_recap && sscanf(p, "%255s : ok=%d changed=%d "
		    "unreachable=%d failed=%d skipped=%d rescued=%d "
		    "ignored=%d", host, &ok, &ch, &un, &fa, &sk, &re,
		    &ig) == 8) {
			n++;
			ck_assert_int_eq(host_count(s, host, "ok"), ok);
			ck_assert_int_eq(host_count(s, host, "changed"), ch);
			ck_assert_int_eq(host_count(s, host, "unreachable"),
			    un);
			ck_assert_int_eq(host_count(s, host, "failed"), fa);
			ck_assert_int_eq(host_count(s, host, "skipped"), sk);
			ck_assert_int_eq(host_count(s, host, "rescued"), re);
			ck_assert_int_eq(host_count(s, host, "ignored"), ig);
		}
		free(p);
	}
	ck_assert(json_object_object_get_ex(s, "hosts", &hosts));
	ck_assert_int_eq(json_object_object_length(hosts), n);
	json_object_put(s);
	return n;
}

/* Events: stored count equals the run's count and the summary's. */
static void
check_events(const struct capture *c)
{
	json_object	*s = run_summary(c), *v;
	long		 stored;

	stored = query_long("SELECT count(*) FROM run_events WHERE run_id = "
	    "$1", c->run_id);
	ck_assert_int_gt(stored, 0);
	ck_assert_int_eq(stored, query_long("SELECT events FROM runs WHERE "
	    "id = $1", c->run_id));
	ck_assert(json_object_object_get_ex(s, "events", &v));
	ck_assert_int_eq(json_object_get_int64(v), stored);
	json_object_put(s);
}

static void
check_run_row(const struct capture *c, const char *status, int exit_code)
{
	char	*v;

	ck_assert_str_eq(c->status, status);
	v = query_value("SELECT status FROM runs WHERE id = $1", c->run_id);
	ck_assert_str_eq(v, status);
	free(v);
	ck_assert_int_eq(query_long("SELECT exit_code FROM runs WHERE id = $1",
	    c->run_id), exit_code);
}

/* No extra-vars file is left in TMPDIR. */
static void
check_no_vars_file(void)
{
	DIR		*d = opendir(tmp);
	struct dirent	*e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strncmp(e->d_name, "chiffon-vars-", 13) != 0,
		    "%s/%s was not removed", tmp, e->d_name);
	closedir(d);
}

/* Is a process running with exactly this command line? */
static int
process_running(const char *const *argv)
{
	DIR		*d = opendir("/proc");
	struct dirent	*e;
	char		*file, *data, *p;
	size_t		 len, i;
	int		 found = 0;

	while (d != NULL && !found && (e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		file = xasprintf("/proc/%s/cmdline", e->d_name);
		data = read_file(file, &len);
		free(file);
		if (data == NULL)
			continue;
		found = 1;
		for (i = 0, p = data; argv[i] != NULL; i++) {
			if ((size_t)(p - data) >= len || strcmp(p, argv[i])) {
				found = 0;
				break;
			}
			p += strlen(p) + 1;
		}
		if ((size_t)(p - data) != len)
			found = 0;
		free(data);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* --- tests: runs ------------------------------------------------------- */

START_TEST(test_success)
{
	struct capture	 c = { 0 };
	json_object	*s, *v;
	char		*params, *marker, *hello, *data, *ev;
	size_t		 len;

	app_start("run_success");
	marker = path_join(tmp, "marker");
	setenv("REPO_MARKER_FILE", marker, 1);
	params = xasprintf("{\"playbook\": \"success.yml\", \"extra_vars\": "
	    "{\"out_dir\": \"%s\"}}", tmp);
	invoke(&c, "ansible", params);
	free(params);

	check_run_row(&c, "successful", 0);
	check_output_rows(&c);
	ck_assert_int_eq(check_recap(&c), 1);
	check_events(&c);
	ck_assert_int_eq(count_lines(&c, "\"msg\": \"hello from chiffon\""),
	    1);
	ck_assert_int_eq(count_lines(&c, "PLAY RECAP"), 1);
	ck_assert_int_eq(count_lines(&c, "changed: [localhost]"), 1);

	/* Known counts, not just recap == summary. */
	s = run_summary(&c);
	ck_assert_int_eq(host_count(s, "localhost", "ok"), 3);
	ck_assert_int_eq(host_count(s, "localhost", "changed"), 1);
	ck_assert_int_eq(host_count(s, "localhost", "skipped"), 1);
	ck_assert(json_object_object_get_ex(s, "stats_source", &v));
	ck_assert_str_eq(json_object_get_string(v), "playbook_on_stats");
	/* The file the copy task wrote is listed as touched. */
	hello = path_join(tmp, "hello.txt");
	ck_assert(json_object_object_get_ex(s, "files", &v));
	ck_assert_int_eq(json_object_array_length(v), 1);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v,
	    0)), hello);
	json_object_put(s);
	data = read_file(hello, &len);
	ck_assert_ptr_nonnull(data);
	ck_assert_str_eq(data, "written by chiffon's test\n");
	free(data);
	free(hello);

	/* The repo's own callback ran next to chiffon's. */
	data = read_file(marker, &len);
	ck_assert_msg(data != NULL, "the repo's callback did not run");
	ck_assert_str_eq(data, "success.yml\n");
	free(data);
	free(marker);

	/* no_log: the secret is nowhere. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM run_events WHERE "
	    "run_id = $1 AND data::text LIKE '%s3cr3t%'", c.run_id), 0);
	ck_assert_int_eq(query_long("SELECT count(*) FROM run_output WHERE "
	    "run_id = $1 AND line LIKE '%s3cr3t%'", c.run_id), 0);
	ev = query_value("SELECT data->'res'->>'censored' FROM run_events "
	    "WHERE run_id = $1 AND task = 'Secret' AND event = 'runner_on_ok'",
	    c.run_id);
	ck_assert_msg(strstr(ev, "no_log") != NULL, "%s", ev);
	free(ev);
	/* ansible-runner style events with their fields. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM run_events WHERE "
	    "run_id = $1 AND event = 'runner_on_ok' AND host = 'localhost' "
	    "AND data ? 'uuid' AND data ? 'counter' AND data ? 'duration' "
	    "AND data->>'task_action' IS NOT NULL", c.run_id), 3);
	ck_assert_int_eq(query_long("SELECT count(*) FROM run_events WHERE "
	    "run_id = $1 AND event IN ('playbook_on_start', "
	    "'playbook_on_play_start', 'playbook_on_stats')", c.run_id), 3);
	check_no_vars_file();
	capture_free(&c);
	unsetenv("REPO_MARKER_FILE");
	app_stop();
}
END_TEST

/*
 * The repo's stdout callback prints the output (chiffon_events wraps it,
 * run-cfg.c): with ANSIBLE_STDOUT_CALLBACK=oneline the lines are
 * oneline's, and the events are recorded as with the default one.
 */
START_TEST(test_repo_stdout_callback)
{
	struct capture	 c = { 0 };
	char		*params;

	app_start("run_stdout_cb");
	setenv("ANSIBLE_STDOUT_CALLBACK", "oneline", 1);
	params = xasprintf("{\"playbook\": \"success.yml\", \"extra_vars\": "
	    "{\"out_dir\": \"%s\"}}", tmp);
	invoke(&c, "ansible", params);
	free(params);
	unsetenv("ANSIBLE_STDOUT_CALLBACK");
	check_run_row(&c, "successful", 0);
	check_output_rows(&c);
	check_events(&c);
	ck_assert_int_ge(count_lines(&c, "localhost | SUCCESS"), 1);
	ck_assert_int_eq(count_lines(&c, "PLAY RECAP"), 0);
	ck_assert_int_eq(count_lines(&c, "TASK ["), 0);
	ck_assert_int_eq(query_long("SELECT count(*) FROM run_events WHERE "
	    "run_id = $1 AND event = 'runner_on_ok'", c.run_id), 3);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_failing)
{
	struct capture	 c = { 0 };
	json_object	*s, *v, *t, *r;
	long		 n;

	app_start("run_failing");
	invoke(&c, "ansible", "{\"playbook\": \"failing.yml\"}");
	check_run_row(&c, "failed", 2);
	check_output_rows(&c);
	ck_assert_int_eq(check_recap(&c), 1);
	check_events(&c);
	ck_assert_int_eq(count_lines(&c, "deliberate failure for chiffon's "
	    "test"), 1);
	ck_assert_int_eq(count_lines(&c, "not reached"), 0);

	s = run_summary(&c);
	ck_assert_int_eq(host_count(s, "localhost", "failed"), 1);
	ck_assert_int_eq(host_count(s, "localhost", "ignored"), 1);
	ck_assert(json_object_object_get_ex(s, "failed_tasks", &v));
	ck_assert_int_eq(json_object_array_length(v), 1);
	t = json_object_array_get_idx(v, 0);
	ck_assert(json_object_object_get_ex(t, "task", &r));
	ck_assert_str_eq(json_object_get_string(r), "Break here");
	ck_assert(json_object_object_get_ex(t, "message", &r));
	ck_assert_str_eq(json_object_get_string(r),
	    "deliberate failure for chiffon's test");
	json_object_put(s);

	/* The task result says why, and lint ran after the failure. */
	r = json_tokener_parse(c.result);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_object_object_get_ex(r, "error", &v));
	ck_assert_msg(strstr(json_object_get_string(v), "deliberate") != NULL,
	    "%s", c.result);
	ck_assert_msg(json_object_object_get_ex(r, "suggestions", &v),
	    "no lint after the failed run: %s", c.result);
	n = json_object_get_int(v);
	ck_assert_int_gt(n, 0);
	json_object_put(r);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE run_id = $1 AND playbook = 'failing.yml' AND source = "
	    "'ansible-lint'", c.run_id), n);
	/* failing.yml ignores errors: an error_handling suggestion. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE run_id = $1 AND rule = 'ignore-errors' AND category = "
	    "'error_handling' AND line = 6", c.run_id), 1);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_unreachable)
{
	struct capture	 c = { 0 };
	json_object	*s, *v, *t, *r;

	app_start("run_unreachable");
	set_conf("plugin.infra.lint_on_failure", "no");
	invoke(&c, "ansible", "{\"playbook\": \"unreachable.yml\"}");
	check_run_row(&c, "failed", 4);
	check_output_rows(&c);
	ck_assert_int_eq(check_recap(&c), 2);
	check_events(&c);
	ck_assert_int_eq(count_lines(&c, "UNREACHABLE!"), 1);

	s = run_summary(&c);
	ck_assert_int_eq(host_count(s, "deadhost", "unreachable"), 1);
	ck_assert_int_eq(host_count(s, "localhost", "ok"), 1);
	ck_assert(json_object_object_get_ex(s, "failed_tasks", &v));
	ck_assert_int_eq(json_object_array_length(v), 1);
	t = json_object_array_get_idx(v, 0);
	ck_assert(json_object_object_get_ex(t, "unreachable", &r));
	ck_assert(json_object_get_boolean(r));
	ck_assert(json_object_object_get_ex(t, "host", &r));
	ck_assert_str_eq(json_object_get_string(r), "deadhost");
	ck_assert(json_object_object_get_ex(t, "message", &r));
	ck_assert_msg(strstr(json_object_get_string(r), "Connection refused")
	    != NULL, "%s", json_object_get_string(r));
	json_object_put(s);
	/* lint_on_failure = no: no lint. */
	ck_assert_msg(strstr(c.result, "\"suggestions\"") == NULL, "%s",
	    c.result);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_lines)
{
	struct capture	 c = { 0 };
	size_t		 i, n = 0;
	long		 want = 1;
	char		*p, *q;

	app_start("run_lines");
	invoke(&c, "ansible", "{\"playbook\": \"lines.yml\"}");
	check_run_row(&c, "successful", 0);
	check_output_rows(&c);
	ck_assert_int_eq(check_recap(&c), 1);
	check_events(&c);
	/* The numbers 1..100000, each on its own line, in order. */
	for (i = 0; i < c.n; i++) {
		p = plain(c.lines[i].text);
		q = p;
		while (*q == ' ')
			q++;
		if (*q == '"' && isdigit((unsigned char)q[1])) {
			ck_assert_int_eq(strtol(q + 1, NULL, 10), want);
			want++;
			n++;
		}
		free(p);
	}
	ck_assert_int_eq(n, 100000);
	ck_assert_int_ge(c.n, 100000);
	/* Both results are over 700 KB: bounded, with the marker. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM run_events WHERE "
	    "run_id = $1 AND data->'res'->>'_chiffon_truncated' = 'true'",
	    c.run_id), 2);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_cancel)
{
	static const char *const sleep_argv[] = { "sleep", "600", NULL };
	struct capture	 c = { 0 };
	json_object	*s, *v;
	char		*status;
	long		 code;

	app_start("run_cancel");
	set_conf("plugin.infra.lint_on_failure", "no");
	c.cancel_on = "TASK [Sleep]";
	invoke(&c, "ansible", "{\"playbook\": \"long.yml\"}");
	ck_assert_int_eq(c.cancel_now, 1);
	ck_assert_str_eq(c.status, "canceled");
	check_output_rows(&c);
	ck_assert_int_eq(count_lines(&c, "\"msg\": \"started\""), 1);
	ck_assert_int_eq(count_lines(&c, "not reached"), 0);
	ck_assert_int_eq(count_lines(&c, "PLAY RECAP"), 0);
	/*
	 * ansible-playbook exits 99 after SIGINT ("User interrupted
	 * execution"), or dies by the SIGTERM / SIGKILL that follow when it
	 * takes longer than the grace period.
	 */
	code = query_long("SELECT exit_code FROM runs WHERE id = $1",
	    c.run_id);
	ck_assert_msg(code == 99 || code == 128 + 15 || code == 128 + 9,
	    "exit code %ld", code);
	status = query_value("SELECT status FROM runs WHERE id = $1",
	    c.run_id);
	ck_assert_str_eq(status, "canceled");
	free(status);
	s = run_summary(&c);
	ck_assert(json_object_object_get_ex(s, "stats_source", &v));
	ck_assert_str_eq(json_object_get_string(v), "events");
	ck_assert_int_eq(host_count(s, "localhost", "ok"), 1);
	json_object_put(s);
	/* The whole process group is gone. */
	ck_assert(!process_running(sleep_argv));
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_timeout)
{
	struct capture	 c = { 0 };

	app_start("run_timeout");
	set_conf("plugin.infra.lint_on_failure", "no");
	invoke(&c, "ansible", "{\"playbook\": \"long.yml\", \"timeout_s\": 3}");
	ck_assert_str_eq(c.status, "timeout");
	check_output_rows(&c);
	ck_assert_int_eq(count_lines(&c, "not reached"), 0);
	ck_assert_msg(strstr(c.result, "timed out after 3 s") != NULL, "%s",
	    c.result);
	capture_free(&c);
	app_stop();
}
END_TEST

/*
 * The plugin reads its values with the host's grammar: "1w" and "500ms"
 * are durations for ansible.timeout as chiffon.conf(5) says, and
 * lint_on_failure = No (any case) turns linting off.
 */
START_TEST(test_config_grammar)
{
	struct capture	 c = { 0 };
	char		*params;

	app_start("run_config_grammar");
	set_conf("ansible.timeout", "1w");
	params = xasprintf("{\"playbook\": \"success.yml\", \"extra_vars\": "
	    "{\"out_dir\": \"%s\"}}", tmp);
	invoke(&c, "ansible", params);
	free(params);
	check_run_row(&c, "successful", 0);
	capture_free(&c);

	memset(&c, 0, sizeof c);
	set_conf("ansible.timeout", "500ms");
	set_conf("plugin.infra.lint_on_failure", "No");
	invoke(&c, "ansible", "{\"playbook\": \"long.yml\"}");
	ck_assert_str_eq(c.status, "timeout");
	ck_assert_msg(strstr(c.result, "timed out after") != NULL, "%s",
	    c.result);
	capture_free(&c);

	memset(&c, 0, sizeof c);
	set_conf("ansible.timeout", "");
	invoke(&c, "ansible", "{\"playbook\": \"failing.yml\"}");
	check_run_row(&c, "failed", 2);
	ck_assert_msg(strstr(c.result, "\"suggestions\"") == NULL,
	    "lint ran with lint_on_failure = No: %s", c.result);
	capture_free(&c);
	app_stop();
}
END_TEST

/* The fake ansible-playbook of test_version_cache: logs each --version. */
static void
write_fake_version(const char *fake, const char *log)
{
	FILE	*f = fopen(fake, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nif [ \"$1\" = --version ]; then\n"
	    "\techo run >> '%s'\n\techo 'ansible-playbook 2.9.27'\nfi\n",
	    log);
	fclose(f);
	chmod(fake, 0755);
}

/* How many times the fake said its version. */
static int
version_runs(const char *log)
{
	char	*text = read_file(log, NULL), *p;
	int	 n = 0;

	for (p = text; p != NULL && (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(text);
	return n;
}

/*
 * The version check is kept under core.data_dir across processes: the
 * plugin loaded again does not start `--version` again, until the
 * program changes.
 */
START_TEST(test_version_cache)
{
	static const char *const dbs[] = { "run_vcache1", "run_vcache2",
	    "run_vcache3" };
	static const int	 want[] = { 1, 1, 2 };
	struct capture		 c = { 0 };
	char			 dir[] = "/tmp/chiffon-ckver-XXXXXX";
	char			*fake, *log, *cache;
	size_t			 i;

	ck_assert(mkdtemp(dir) != NULL);
	fake = path_join(dir, "ansible-playbook");
	log = path_join(dir, "version-runs");
	cache = path_join(dir, "ansible-version.json");
	write_fake_version(fake, log);
	for (i = 0; i < nitems(dbs); i++) {
		if (i == 2)	/* a changed program is checked again */
			write_fake_version(fake, log);
		app_start(dbs[i]);
		set_conf("core.data_dir", dir);
		set_conf("ansible.playbook", fake);
		invoke(&c, "ansible", "{\"playbook\": \"success.yml\"}");
		ck_assert_str_eq(c.status, "failed");
		ck_assert_msg(strstr(c.result, "is version 2.9") != NULL,
		    "%s", c.result);
		capture_free(&c);
		app_stop();
		ck_assert_int_eq(version_runs(log), want[i]);
		ck_assert_msg(access(cache, F_OK) == 0, "no %s", cache);
	}
	unlink(fake);
	unlink(log);
	unlink(cache);
	rmdir(dir);
	free(fake);
	free(log);
	free(cache);
}
END_TEST

START_TEST(test_missing_and_old)
{
	struct capture	 c = { 0 };
	char		*fake;
	FILE		*f;

	app_start("run_missing");
	set_conf("ansible.playbook", "chiffon-no-such-ansible-playbook");
	invoke(&c, "ansible", "{\"playbook\": \"success.yml\"}");
	ck_assert_str_eq(c.status, "failed");
	/* The host's spawn says why (no pre-check of PATH in the plugin). */
	ck_assert_msg(strstr(c.result, "cannot run "
	    "chiffon-no-such-ansible-playbook: No such file or directory (not "
	    "found in PATH") != NULL && strstr(c.result, "apt-get install "
	    "ansible-core") != NULL, "%s", c.result);
	ck_assert_ptr_null(c.run_id);
	capture_free(&c);

	/* A program that says it is Ansible 2.9. */
	fake = path_join(tmp, "old-ansible-playbook");
	f = fopen(fake, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho 'ansible-playbook 2.9.27'\n");
	fclose(f);
	chmod(fake, 0755);
	set_conf("ansible.playbook", fake);
	invoke(&c, "ansible", "{\"playbook\": \"success.yml\"}");
	ck_assert_str_eq(c.status, "failed");
	ck_assert_msg(strstr(c.result, "is version 2.9") != NULL &&
	    strstr(c.result, "needs ansible-core 2.12 or newer") != NULL,
	    "%s", c.result);
	ck_assert_ptr_null(c.run_id);
	capture_free(&c);
	free(fake);

	/* Bad parameters. */
	invoke(&c, "ansible", "{\"playbook\": \"no-such-playbook.yml\"}");
	ck_assert_str_eq(c.status, "failed");
	ck_assert_msg(strstr(c.result, "no-such-playbook.yml not found") !=
	    NULL, "%s", c.result);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_idempotency)
{
	struct capture	 c1 = { 0 }, c2 = { 0 }, c3 = { 0 };
	char		*v;

	app_start("run_idempotency");
	invoke(&c1, "ansible", "{\"playbook\": \"changing.yml\"}");
	check_run_row(&c1, "successful", 0);
	ck_assert_int_eq(check_recap(&c1), 1);
	ck_assert_int_eq(query_long("SELECT count(*) FROM "
	    "playbook_suggestions", NULL), 0);

	invoke(&c2, "ansible", "{\"playbook\": \"changing.yml\"}");
	check_run_row(&c2, "successful", 0);
	check_output_rows(&c2);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE run_id = $1 AND rule = 'chiffon-not-idempotent' AND "
	    "category = 'idempotency' AND source = 'idempotency'", c2.run_id),
	    1);
	v = query_value("SELECT reason || ' @' || file || ':' || line FROM "
	    "playbook_suggestions WHERE run_id = $1", c2.run_id);
	ck_assert_msg(strstr(v, "\"Always changed\" on localhost") != NULL &&
	    strstr(v, "@changing.yml:10") != NULL, "%s", v);
	free(v);

	/* Different inputs are not "the same run again". */
	invoke(&c3, "ansible", "{\"playbook\": \"changing.yml\", "
	    "\"extra_vars\": {\"x\": 1}}");
	check_run_row(&c3, "successful", 0);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE run_id = $1", c3.run_id), 0);
	capture_free(&c1);
	capture_free(&c2);
	capture_free(&c3);
	app_stop();
}
END_TEST

/* --- tests: lint ------------------------------------------------------- */

START_TEST(test_lint_flawed)
{
	struct capture	 c = { 0 };
	json_object	*r, *v;
	PGresult	*res;
	char		 count[32];
	long		 n;
	int		 i;

	app_start("lint_flawed");
	invoke(&c, "ansible.lint", "{\"playbook\": \"lint/flawed.yml\"}");
	ck_assert_msg(strcmp(c.status, "successful") == 0, "%s", c.result);
	r = json_tokener_parse(c.result);
	ck_assert(json_object_object_get_ex(r, "findings", &v));
	ck_assert_int_gt(json_object_get_int(v), 5);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE playbook = 'lint/flawed.yml'", NULL), json_object_get_int(v));
	json_object_put(r);
	/* Each finding maps to a category with a reason. */
	res = query("SELECT rule, category FROM playbook_suggestions WHERE "
	    "rule IN ('no-changed-when', 'package-latest', 'ignore-errors', "
	    "'risky-shell-pipe', 'fqcn[action-core]', 'name[missing]') "
	    "GROUP BY rule, category ORDER BY rule", 0, NULL);
	ck_assert_int_eq(PQntuples(res), 6);
	for (i = 0; i < PQntuples(res); i++) {
		const char *rule = PQgetvalue(res, i, 0);
		const char *cat = PQgetvalue(res, i, 1);
		if (strcmp(rule, "no-changed-when") == 0 ||
		    strcmp(rule, "package-latest") == 0)
			ck_assert_str_eq(cat, "idempotency");
		else if (strcmp(rule, "ignore-errors") == 0 ||
		    strcmp(rule, "risky-shell-pipe") == 0)
			ck_assert_str_eq(cat, "error_handling");
		else
			ck_assert_str_eq(cat, "standards");
	}
	PQclear(res);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE reason = '' OR reason LIKE '%\n%' OR file IS NULL OR "
	    "line IS NULL", NULL), 0);
	/* Every finding says what to do about it. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE fix IS NULL OR fix = '' OR playbook_sha256 IS NULL", NULL),
	    0);
	n = query_long("SELECT count(*) FROM playbook_suggestions", NULL);
	capture_free(&c);

	/* Twice: the same findings from the cache, nothing stored twice. */
	invoke(&c, "ansible.lint", "{\"playbook\": \"lint/flawed.yml\"}");
	ck_assert_msg(strcmp(c.status, "successful") == 0, "%s", c.result);
	r = json_tokener_parse(c.result);
	ck_assert(json_object_object_get_ex(r, "findings", &v));
	ck_assert_int_eq(json_object_get_int(v), n);
	json_object_put(r);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions",
	    NULL), n);
	snprintf(count, sizeof count, "%ld", n);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_lint WHERE "
	    "playbook = 'lint/flawed.yml' AND findings = $1::integer", count),
	    1);
	/* A finding stored again by hand is refused by the key. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM (SELECT playbook, "
	    "playbook_sha256, rule, file, line FROM playbook_suggestions GROUP "
	    "BY 1, 2, 3, 4, 5 HAVING count(*) > 1) d", NULL), 0);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_lint_many)
{
	struct capture	 c = { 0 };
	json_object	*r, *v;
	char		*dir, *file, *params;
	FILE		*f;
	int		 i;

	app_start("lint_many");
	/* 60 unnamed free-form short-name tasks: 3 major + 2 lesser each. */
	dir = path_join(tmp, "repo");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	file = path_join(dir, "many.yml");
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "---\n- name: Many\n  hosts: localhost\n  tasks:\n");
	for (i = 0; i < 60; i++)
		fprintf(f, "    - debug: msg=task%d\n      ignore_errors: yes\n",
		    i);
	fclose(f);
	params = xasprintf("{\"playbook\": \"many.yml\", \"repo\": \"%s\"}",
	    dir);
	invoke(&c, "ansible.lint", params);
	free(params);
	ck_assert_msg(strcmp(c.status, "successful") == 0, "%s", c.result);
	r = json_tokener_parse(c.result);
	ck_assert(json_object_object_get_ex(r, "findings", &v));
	ck_assert_int_eq(json_object_get_int(v), 50);
	json_object_put(r);
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE playbook = 'many.yml'", NULL), 50);
	/* The 50 kept are the most severe: no minor or info among them. */
	ck_assert_int_eq(query_long("SELECT count(*) FROM playbook_suggestions "
	    "WHERE playbook = 'many.yml' AND severity IN ('info', 'minor')",
	    NULL), 0);
	free(dir);
	free(file);
	capture_free(&c);
	app_stop();
}
END_TEST

START_TEST(test_lint_missing)
{
	struct capture	 c = { 0 };

	app_start("lint_missing");
	set_conf("ansible.lint", "chiffon-no-such-ansible-lint");
	invoke(&c, "ansible.lint", "{\"playbook\": \"lint/flawed.yml\"}");
	ck_assert_str_eq(c.status, "failed");
	ck_assert_msg(strstr(c.result, "\"missing\":true") != NULL &&
	    strstr(c.result, "apt-get install ansible-lint") != NULL, "%s",
	    c.result);
	capture_free(&c);
	app_stop();
}
END_TEST

/* --- tests: summary.c alone -------------------------------------------- */

START_TEST(test_summary_services)
{
	struct summary	*s = summary_new();
	const char	*ev[] = {
		"{\"event\":\"runner_on_ok\",\"host\":\"nas\",\"task\":\"nginx\","
		"\"task_action\":\"ansible.builtin.service\",\"changed\":true,"
		"\"res\":{\"name\":\"nginx\",\"state\":\"started\","
		"\"changed\":true}}",
		"{\"event\":\"runner_on_ok\",\"host\":\"nas\",\"task\":\"up\","
		"\"task_action\":\"community.docker.docker_compose_v2\","
		"\"changed\":true,\"res\":{\"changed\":true,\"invocation\":"
		"{\"module_args\":{\"project_src\":\"/srv/kuma\"}}}}",
		"{\"event\":\"runner_on_ok\",\"host\":\"nas\",\"task\":\"cfg\","
		"\"task_action\":\"ansible.builtin.template\",\"changed\":false,"
		"\"res\":{\"dest\":\"/etc/unchanged\",\"changed\":false}}",
		"not json",
	};
	json_object	*o, *v;
	char		*text;
	size_t		 i;

	for (i = 0; i < nitems(ev); i++)
		summary_event(s, ev[i], strlen(ev[i]));
	ck_assert_int_eq(summary_nevents(s), 4);
	ck_assert(!summary_has_stats(s));
	text = summary_json(s, "successful", 0, 1.5);
	o = json_tokener_parse(text);
	ck_assert(json_object_object_get_ex(o, "services", &v));
	ck_assert_int_eq(json_object_array_length(v), 2);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v,
	    0)), "nginx");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v,
	    1)), "compose:kuma");
	ck_assert(json_object_object_get_ex(o, "files", &v));
	ck_assert_int_eq(json_object_array_length(v), 0);
	json_object_put(o);
	free(text);
	summary_free(s);
}
END_TEST

START_TEST(test_summary_idempotent)
{
	const char	*earlier_ok = "{\"status\":\"successful\","
			    "\"changed_tasks\":[]}";
	const char	*earlier_failed = "{\"status\":\"failed\","
			    "\"changed_tasks\":[]}";
	const char	*later = "{\"status\":\"successful\",\"changed_tasks\":"
			    "[{\"host\":\"a\",\"task\":\"t\",\"action\":\"x\"}]}";
	char		*r;

	r = summary_not_idempotent(earlier_ok, later);
	ck_assert_str_eq(r, "[{\"host\":\"a\",\"task\":\"t\",\"action\":"
	    "\"x\"}]");
	free(r);
	r = summary_not_idempotent(earlier_failed, later);
	ck_assert_str_eq(r, "[]");
	free(r);
	ck_assert_ptr_null(summary_not_idempotent("nope", later));
}
END_TEST

static Suite *
infra_run_suite(void)
{
	Suite	*s = suite_create("infra_run");
	TCase	*tc;

	tc = tcase_create("summary");
	tcase_add_test(tc, test_summary_services);
	tcase_add_test(tc, test_summary_idempotent);
	suite_add_tcase(s, tc);

	tc = tcase_create("runs");
	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_success);
	tcase_add_test(tc, test_repo_stdout_callback);
	tcase_add_test(tc, test_failing);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_config_grammar);
	tcase_add_test(tc, test_missing_and_old);
	tcase_add_test(tc, test_version_cache);
	tcase_add_test(tc, test_idempotency);
	tcase_add_test(tc, test_lint_flawed);
	tcase_add_test(tc, test_lint_many);
	tcase_add_test(tc, test_lint_missing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(infra_run_suite());
}
