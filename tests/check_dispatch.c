/*
 * check_dispatch.c - the work queue, routing and workers against a real
 * throwaway PostgreSQL cluster.  Workers are real processes (fork), each
 * with its own connection, loop and plugin loader, running the test
 * plugin's "test.sleep" capability (tests/plugins/testsleep.c), which
 * appends "start"/"done" lines to a file so the test can count runs.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "app.h"
#include "cmd.h"
#include "approve.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "log.h"
#include "loop.h"
#include "pgtest.h"
#include "plugins.h"
#include "route.h"
#include "testutil.h"
#include "util.h"
#include "worker.h"


#define WAIT_S		60	/* deadline for what workers should do */
#define MAX_WORKERS	4

static char		*conninfo;
static char		 tmpdir[] = "/tmp/chiffon-ckdisp-XXXXXX";
static char		*runlog;
static struct app	 app;
static PGconn		*pg;
static pid_t		 workers[MAX_WORKERS];

/* -- fixtures ------------------------------------------------------------ */

static void
set_conf(struct conf *conf, const char *key, const char *value)
{
	char	*err = NULL;

	ck_assert_msg(conf_set(conf, key, value, "test", &err) == 0, "%s",
	    err);
}

/* A configuration for one process: the test database and plugin. */
static struct conf *
test_conf(const char *lease, int capacity)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");
	struct conf	*conf = conf_new();
	char		*dir, cap[16];

	set_conf(conf, "db.url", conninfo);
	set_conf(conf, "core.data_dir", tmpdir);
	dir = xasprintf("%s/tests/plugins/.libs", b != NULL ? b : ".");
	set_conf(conf, "plugins.path", dir);
	free(dir);
	set_conf(conf, "plugins.load", "testsleep");
	set_conf(conf, "dispatch.lease", lease != NULL ? lease : "10s");
	set_conf(conf, "dispatch.poll", "1s");
	set_conf(conf, "dispatch.retry_backoff", "0");
	set_conf(conf, "dispatch.agent_timeout", "3s");
	snprintf(cap, sizeof cap, "%d", capacity);
	set_conf(conf, "dispatch.capacity", cap);
	return conf;
}

static void
setup(void)
{
	static int	 n;
	char		*name, *err = NULL;

	ck_assert_msg(testutil_cluster() != NULL, "no test cluster");
	strcpy(tmpdir, "/tmp/chiffon-ckdisp-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	runlog = path_join(tmpdir, "runs.log");
	unsetenv("CHIFFON_PLUGIN_PATH");
	unsetenv("CHIFFON_PLUGINS_LOAD");
	unsetenv("CHIFFON_CONFIG");
	name = xasprintf("disp%d_%ld", ++n, (long)getpid());
	conninfo = pgtest_new_db(testutil_cluster(), name, &err);
	free(name);
	ck_assert_msg(conninfo != NULL, "%s", err);
	memset(&app, 0, sizeof app);
	app.argv0 = "check_dispatch";
	app.conf = test_conf(NULL, 1);
	ck_assert_msg(app_db(&app, &err) != NULL, "%s", err);
	pg = db_pg(app.db);
	memset(workers, 0, sizeof workers);
}

static void
teardown(void)
{
	size_t	i;

	for (i = 0; i < MAX_WORKERS; i++) {
		if (workers[i] > 0) {
			kill(workers[i], SIGKILL);
			waitpid(workers[i], NULL, 0);
		}
	}
	app_free(&app);
	free(conninfo);
	free(runlog);
}

/* -- SQL helpers --------------------------------------------------------- */

/* The single value of a query (caller frees), NULL for SQL NULL. */
static char *
q1(const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	char		*v;

	res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_int_eq(PQntuples(res), 1);
	v = PQgetisnull(res, 0, 0) ? NULL : xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static long long
qn(const char *sql, int n, const char *const *params)
{
	char		*v = q1(sql, n, params);
	long long	 r = v != NULL ? atoll(v) : -1;

	free(v);
	return r;
}

static void
qexec(const char *sql, int n, const char *const *params)
{
	PGresult	*res;

	res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	PQclear(res);
}

/* Poll a count until it equals want or the deadline passes; return it. */
static long long
wait_count(const char *sql, int n, const char *const *params,
    long long want)
{
	uint64_t	deadline = now_ms() + WAIT_S * 1000;
	long long	got;

	for (;;) {
		got = qn(sql, n, params);
		if (got == want || now_ms() > deadline)
			return got;
		usleep(100 * 1000);
	}
}

/* A plan row with a request; returns its id. */
static long long
new_plan(void)
{
	const char	*params[1];
	char		*rid;
	long long	 id;

	rid = q1("INSERT INTO requests (actor, text) VALUES ('test',"
	    " 'dispatch test') RETURNING id", 0, NULL);
	params[0] = rid;
	id = qn("INSERT INTO plans (request_id, created_by, summary)"
	    " VALUES ($1::bigint, 'test', 'dispatch test') RETURNING id", 1,
	    params);
	free(rid);
	return id;
}

/*
 * A pending test.sleep task of plan: extra_vars JSON (the runs log is
 * added), depends_on ("{}" or "{1,2}"), resources JSON.  Returns its id.
 */
static long long
new_task(long long plan, int step, const char *vars, const char *deps,
    const char *resources)
{
	const char	*params[6];
	char		 p[32], s[16], *v;
	long long	 id;

	snprintf(p, sizeof p, "%lld", plan);
	snprintf(s, sizeof s, "%d", step);
	v = xasprintf("{\"log\":\"%s\"%s%s}", runlog, *vars != '\0' ? "," :
	    "", vars);
	params[0] = p;
	params[1] = s;
	params[2] = v;
	params[3] = deps != NULL ? deps : "{}";
	params[4] = resources != NULL ? resources : "{}";
	params[5] = "sleep";
	id = qn("INSERT INTO tasks (plan_id, step, action, capability,"
	    " extra_vars, depends_on, resources) VALUES ($1::bigint,"
	    " $2::integer, $6, 'test.sleep', $3::jsonb, $4::bigint[],"
	    " $5::jsonb) RETURNING id", 6, params);
	free(v);
	return id;
}

/*
 * Approve the plan through the gate (approval row with its content
 * hashes, tasks approved) and queue it.
 */
static int
approve_and_queue(long long plan)
{
	struct approve_who	 who = { "tester", NULL, { NULL, NULL } };
	char			*err = NULL;
	int			 n = -1;

	ck_assert_msg(approve_plan(pg, plan, &who, &n, &err) > 0, "%s", err);
	return n;
}

static char *
task_field(long long task, const char *col)
{
	const char	*params[1];
	char		 t[32], *sql, *v;

	snprintf(t, sizeof t, "%lld", task);
	params[0] = t;
	sql = xasprintf("SELECT %s::text FROM tasks WHERE id = $1::bigint",
	    col);
	v = q1(sql, 1, params);
	free(sql);
	return v;
}

static void
assert_status(long long task, const char *want)
{
	char	*s = task_field(task, "status");

	ck_assert_msg(s != NULL && strcmp(s, want) == 0, "task %lld is %s, "
	    "expected %s", task, s != NULL ? s : "NULL", want);
	free(s);
}

/* Wait until the task is in status want (asserting it gets there). */
static void
wait_status(long long task, const char *want)
{
	const char	*params[2];
	char		 t[32];

	snprintf(t, sizeof t, "%lld", task);
	params[0] = t;
	params[1] = want;
	wait_count("SELECT count(*) FROM tasks WHERE id = $1::bigint AND"
	    " status = $2", 2, params, 1);
	assert_status(task, want);
}

/* Lines of the runs log "WHAT TASK ..." for one task. */
static int
log_count(const char *what, long long task)
{
	char	*data, *line, *save = NULL, w[16];
	long long t;
	int	 n = 0, a;
	long	 pid;

	data = read_file(runlog, NULL);
	if (data == NULL)
		return 0;
	for (line = strtok_r(data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%15s %lld %d %ld", w, &t, &a, &pid) == 4 &&
		    strcmp(w, what) == 0 && t == task)
			n++;
	}
	free(data);
	return n;
}

/* -- worker processes ---------------------------------------------------- */

/* Fork a worker process named name; it runs until killed. */
static pid_t
spawn_worker(int slot, const char *name, const char *lease, int capacity)
{
	struct app	 wapp;
	struct worker	*w;
	char		*err = NULL;
	pid_t		 pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid > 0) {
		workers[slot] = pid;
		return pid;
	}
	setpgid(0, 0);
	/* Die with the test (a failed test skips its teardown). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&wapp, 0, sizeof wapp);
	wapp.argv0 = name;
	wapp.conf = test_conf(lease, capacity);
	if ((w = worker_new(&wapp, name, &err)) == NULL ||
	    worker_start(w, &err) != 0) {
		fprintf(stderr, "worker %s: %s\n", name, err);
		_exit(3);
	}
	loop_run(app_loop(&wapp));
	_exit(0);
}

static void
stop_worker(int slot)
{
	kill(workers[slot], SIGKILL);
	waitpid(workers[slot], NULL, 0);
	workers[slot] = 0;
}

/* -- tests --------------------------------------------------------------- */

START_TEST(test_enqueue_needs_approval)
{
	const char	*params[1];
	char		 t[32], *err = NULL;
	long long	 plan, a, b;
	int		 n = -1;
	PGresult	*res;

	plan = new_plan();
	a = new_task(plan, 1, "", NULL, NULL);
	b = new_task(plan, 2, "", NULL, NULL);
	/* Nothing approved: nothing queued. */
	ck_assert_msg(dispatch_enqueue(pg, plan, &n, &err) == 0, "%s", err);
	ck_assert_int_eq(n, 0);
	assert_status(a, "pending_approval");
	/* The database refuses a queue row for an unapproved task. */
	snprintf(t, sizeof t, "%lld", a);
	params[0] = t;
	res = PQexecParams(pg, "INSERT INTO work_queue (task_id, capability)"
	    " VALUES ($1::bigint, 'test.sleep')", 1, NULL, params, NULL, NULL,
	    0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_ptr_nonnull(strstr(PQresultErrorMessage(res),
	    "only approved tasks can be queued"));
	PQclear(res);

	ck_assert_int_eq(approve_and_queue(plan), 2);
	assert_status(a, "queued");
	assert_status(b, "queued");
	ck_assert_int_eq(qn("SELECT count(*) FROM work_queue WHERE"
	    " max_attempts = 3 AND capability = 'test.sleep'", 0, NULL), 2);
	ck_assert_int_eq(qn("SELECT count(*) FROM audit_log WHERE kind ="
	    " 'task.dispatched'", 0, NULL), 2);
	ck_assert_int_eq(qn("SELECT count(*) FROM plans WHERE status ="
	    " 'running'", 0, NULL), 1);
	/* Queueing again changes nothing. */
	ck_assert_msg(dispatch_enqueue(pg, plan, &n, &err) == 0, "%s", err);
	ck_assert_int_eq(n, 0);
}
END_TEST

/*
 * A non-zero dispatch.retry_backoff (every other case runs with 0): a
 * retryable failure goes back to the queue available backoff_s later,
 * not claimable before, twice as long after the next attempt; the
 * attempts come in order and the last one ends the task.  The delays
 * are read from the queue row, not waited for: the test makes the row
 * available itself.
 */
START_TEST(test_retry_backoff)
{
	static const char *const	 caps[] = { "test.sleep" };
	struct dispatch_params		 dp = {
		.agent = "solo", .caps = caps, .ncaps = 1, .lease_s = 30,
		.backoff_s = 40, .agent_timeout_s = 30, .grace_s = 2,
		.min_capacity_percent = 20,
	};
	static const long long		 delays[] = { 40, 80 };
	struct dispatch_claim		 c;
	enum dispatch_outcome		 outcome;
	const char			*final, *params[1];
	char				*err = NULL, t[32];
	long long			 plan, a, d;
	int				 attempt;

	ck_assert_msg(dispatch_heartbeat(pg, &dp, 1, 0, "{}", 1, &err) == 0,
	    "%s", err);
	plan = new_plan();
	a = new_task(plan, 1, "\"ms\":10", NULL, NULL);
	ck_assert_int_eq(approve_and_queue(plan), 1);
	snprintf(t, sizeof t, "%lld", a);
	params[0] = t;
	for (attempt = 1; attempt <= 3; attempt++) {
		ck_assert_int_eq(dispatch_claim(pg, &dp, &c, &err), 1);
		ck_assert_int_eq(c.task_id, a);
		ck_assert_int_eq(c.attempt, attempt);
		ck_assert_msg(dispatch_finish(pg, &dp, &c, "failed",
		    "{\"retryable\":true}", &outcome, &final, &err) == 0,
		    "%s", err);
		dispatch_claim_free(&c);
		if (attempt == 3)
			break;
		ck_assert_int_eq(outcome, DISPATCH_REQUEUED);
		assert_status(a, "queued");
		d = qn("SELECT round(extract(epoch FROM available_at - now()))"
		    "::bigint FROM work_queue WHERE task_id = $1::bigint", 1,
		    params);
		ck_assert_msg(d >= delays[attempt - 1] - 1 &&
		    d <= delays[attempt - 1], "attempt %d: available in %lld s,"
		    " want %lld", attempt, d, delays[attempt - 1]);
		/* Not before its time. */
		ck_assert_int_eq(dispatch_claim(pg, &dp, &c, &err), 0);
		ck_assert_int_eq(qn("UPDATE work_queue SET available_at ="
		    " now() WHERE task_id = $1::bigint RETURNING 1", 1,
		    params), 1);
	}
	ck_assert_int_eq(outcome, DISPATCH_FINISHED);
	ck_assert_str_eq(final, "failed");
	assert_status(a, "failed");
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " task_id = $1::bigint AND decision = 'requeued'", 1, params), 2);
}
END_TEST

/* In-process: claim, routing row, manual pause and resume, finish. */
START_TEST(test_claim_pause_resume_finish)
{
	static const char *const	 caps[] = { "test.sleep" };
	struct dispatch_params		 dp = {
		.agent = "solo", .caps = caps, .ncaps = 1, .lease_s = 30,
		.backoff_s = 0, .agent_timeout_s = 30, .grace_s = 2,
		.min_capacity_percent = 20,
	};
	struct dispatch_claim		 c, c2;
	enum dispatch_outcome		 outcome;
	const char			*final;
	char				*err = NULL, *v;
	long long			 plan, a;

	ck_assert_msg(dispatch_heartbeat(pg, &dp, 1, 0, "{}", 1, &err) == 0,
	    "%s", err);
	plan = new_plan();
	a = new_task(plan, 1, "\"ms\":10", NULL, NULL);
	ck_assert_int_eq(approve_and_queue(plan), 1);

	/* Paused: not claimable; resumed: claimable. */
	ck_assert_msg(dispatch_pause(pg, a, "maintenance window", &err) == 0,
	    "%s", err);
	assert_status(a, "paused");
	v = task_field(a, "status_reason");
	ck_assert_ptr_nonnull(strstr(v, "maintenance window"));
	free(v);
	ck_assert_int_eq(dispatch_claim(pg, &dp, &c, &err), 0);
	ck_assert_int_eq(dispatch_pause(pg, a, "again", &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "paused"));
	free(err);
	err = NULL;
	ck_assert_msg(dispatch_resume(pg, a, &err) == 0, "%s", err);
	assert_status(a, "queued");
	ck_assert_int_eq(dispatch_resume(pg, a, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not paused"));
	free(err);
	err = NULL;
	ck_assert_int_eq(qn("SELECT count(*) FROM audit_log WHERE kind IN"
	    " ('task.paused', 'task.resumed')", 0, NULL), 2);

	ck_assert_int_eq(dispatch_claim(pg, &dp, &c, &err), 1);
	ck_assert_int_eq(c.task_id, a);
	ck_assert_int_eq(c.attempt, 1);
	ck_assert_ptr_nonnull(strstr(c.params_json, "\"ms\":10"));
	assert_status(a, "running");
	ck_assert_int_eq(qn("SELECT count(*) FROM work_queue WHERE claimed_by"
	    " = 'solo' AND lease_until > now()", 0, NULL), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " decision = 'dispatched' AND chosen_agent = 'solo' AND"
	    " jsonb_array_length(scores) = 1 AND scores -> 0 ->> 'agent' ="
	    " 'solo' AND (scores -> 0 ->> 'score')::float8 > 0", 0, NULL), 1);
	/* Nothing else to claim. */
	ck_assert_int_eq(dispatch_claim(pg, &dp, &c2, &err), 0);

	ck_assert_msg(dispatch_finish(pg, &dp, &c, "successful",
	    "{\"usage\":{\"wall_s\":1.5,\"user_s\":0.25,\"maxrss_kb\":2048}}",
	    &outcome, &final, &err) == 0, "%s", err);
	ck_assert_int_eq(outcome, DISPATCH_FINISHED);
	ck_assert_str_eq(final, "succeeded");
	assert_status(a, "succeeded");
	v = task_field(a, "wall_s");
	ck_assert_str_eq(v, "1.5");
	free(v);
	v = task_field(a, "maxrss_kb");
	ck_assert_str_eq(v, "2048");
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM work_queue", 0, NULL), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM plans WHERE status ="
	    " 'succeeded'", 0, NULL), 1);
	/* The decisions are in the audit trail. */
	ck_assert_int_eq(qn("SELECT count(DISTINCT kind) FROM audit_log"
	    " WHERE kind IN ('task.dispatched', 'task.routed', 'run.started',"
	    " 'run.finished')", 0, NULL), 4);
	/* A finished task cannot be paused. */
	ck_assert_int_eq(dispatch_pause(pg, a, "late", &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "succeeded"));
	free(err);
	dispatch_claim_free(&c);
}
END_TEST

/* Routing: the best-scoring candidate, the busy rule and the grace. */
START_TEST(test_route_rule)
{
	struct route_candidate	 c[2] = {
		{ .agent = "fast", .capacity = 1, .running = 0, .score = 0.9 },
		{ .agent = "slow", .capacity = 1, .running = 0, .score = 0.5 },
	};
	struct route_result	 r = { c, 2 };
	char			*why, *json;

	ck_assert_int_eq(route_should_claim(&r, "fast", 0, 4, &why), 1);
	ck_assert_ptr_nonnull(strstr(why, "best candidate"));
	free(why);
	ck_assert_int_eq(route_should_claim(&r, "slow", 0, 4, &why), 0);
	ck_assert_ptr_nonnull(strstr(why, "fast"));
	free(why);
	ck_assert_int_eq(route_should_claim(&r, "slow", 5, 4, &why), 1);
	ck_assert_ptr_nonnull(strstr(why, "did not claim"));
	free(why);
	c[0].running = 1;
	ck_assert_int_eq(route_should_claim(&r, "slow", 0, 4, &why), 1);
	ck_assert_ptr_nonnull(strstr(why, "busy"));
	free(why);
	ck_assert_int_eq(route_should_claim(&r, "other", 0, 4, &why), 1);
	free(why);
	json = route_scores_json(&r);
	ck_assert_ptr_nonnull(strstr(json, "\"agent\":\"fast\""));
	ck_assert_ptr_nonnull(strstr(json, "\"load\""));
	free(json);
}
END_TEST

START_TEST(test_two_workers_run_each_task_once)
{
	long long	 plan, ids[50];
	size_t		 i;

	plan = new_plan();
	for (i = 0; i < nitems(ids); i++)
		ids[i] = new_task(plan, (int)i + 1, "\"ms\":60", NULL, NULL);
	spawn_worker(0, "w1", NULL, 1);
	spawn_worker(1, "w2", NULL, 1);
	ck_assert_int_eq(approve_and_queue(plan), 50);
	ck_assert_int_eq(wait_count("SELECT count(*) FROM tasks WHERE status ="
	    " 'succeeded'", 0, NULL, 50), 50);
	for (i = 0; i < nitems(ids); i++) {
		ck_assert_int_eq(log_count("start", ids[i]), 1);
		ck_assert_int_eq(log_count("done", ids[i]), 1);
	}
	/* Both workers took part; every claim recorded both candidates. */
	ck_assert_int_eq(qn("SELECT count(DISTINCT chosen_agent) FROM"
	    " routing_decisions WHERE decision = 'dispatched'", 0, NULL), 2);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " decision = 'dispatched'", 0, NULL), 50);
	ck_assert_int_ge(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " jsonb_array_length(scores) = 2", 0, NULL), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM work_queue", 0, NULL), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM tasks WHERE attempts <> 1",
	    0, NULL), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE status ="
	    " 'online' AND 'test.sleep' = ANY (capabilities)", 0, NULL), 2);
	ck_assert_int_eq(qn("SELECT count(*) FROM plans WHERE status ="
	    " 'succeeded'", 0, NULL), 1);
}
END_TEST

/*
 * A worker killed mid-task: its lease expires; the deploy becomes
 * interrupted (never run again by itself), the check-mode step (retry
 * safe) is run again by the rescuer.
 */
START_TEST(test_killed_worker_task_recovered)
{
	const char	*params[1];
	char		 t[32], *v;
	long long	 plan, a, b;

	plan = new_plan();
	a = new_task(plan, 1, "\"ms\":3000", NULL, NULL);
	b = new_task(plan, 2, "\"ms\":3000", NULL, NULL);
	snprintf(t, sizeof t, "%lld", b);
	params[0] = t;
	qexec("UPDATE tasks SET check_mode = true WHERE id = $1::bigint", 1,
	    params);
	spawn_worker(0, "doomed", "2s", 2);
	ck_assert_int_eq(approve_and_queue(plan), 2);
	ck_assert_int_eq(wait_count("SELECT count(*) FROM work_queue WHERE"
	    " claimed_by = 'doomed'", 0, NULL, 2), 2);
	assert_status(a, "running");
	assert_status(b, "running");
	stop_worker(0);		/* SIGKILL mid-task */
	spawn_worker(1, "rescuer", "2s", 1);
	wait_status(b, "succeeded");
	wait_status(a, "interrupted");
	ck_assert_int_eq(log_count("start", a), 1);
	ck_assert_int_eq(log_count("start", b), 2);
	ck_assert_int_eq(log_count("done", b), 1);
	v = task_field(a, "status_reason");
	ck_assert_msg(strstr(v, "not run again by itself") != NULL, "%s", v);
	free(v);
	v = task_field(b, "attempts");
	ck_assert_str_eq(v, "2");
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " task_id = $1::bigint AND decision = 'requeued' AND reason LIKE"
	    " '%worker lost%'", 1, params), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " task_id = $1::bigint AND decision = 'dispatched' AND"
	    " chosen_agent = 'rescuer' AND attempt = 2", 1, params), 1);
	/* started_at is the first move to running, not the last claim. */
	ck_assert_int_eq(qn("SELECT count(*) FROM tasks t WHERE id ="
	    " $1::bigint AND started_at < (SELECT min(d.at) FROM"
	    " routing_decisions d WHERE d.task_id = t.id AND attempt = 2)",
	    1, params), 1);
}
END_TEST

/*
 * A check-mode step whose open run was recorded by a process of another
 * host: chiffon cannot see whether that process (and its playbook) still
 * runs, so the step is interrupted, not run a second time alongside.
 */
START_TEST(test_lost_check_mode_other_host)
{
	const char	*params[1];
	char		 t[32], *v;
	long long	 plan, a;

	plan = new_plan();
	a = new_task(plan, 1, "\"ms\":3000", NULL, NULL);
	snprintf(t, sizeof t, "%lld", a);
	params[0] = t;
	qexec("UPDATE tasks SET check_mode = true WHERE id = $1::bigint", 1,
	    params);
	spawn_worker(0, "doomed", "2s", 1);
	ck_assert_int_eq(approve_and_queue(plan), 1);
	ck_assert_int_eq(wait_count("SELECT count(*) FROM work_queue WHERE"
	    " claimed_by = 'doomed'", 0, NULL, 1), 1);
	assert_status(a, "running");
	qexec("INSERT INTO runs (task_id, kind, owner_host, owner_pid,"
	    " owner_start) VALUES ($1::bigint, 'ansible-playbook',"
	    " 'elsewhere.invalid', 4242, 1)", 1, params);
	stop_worker(0);		/* SIGKILL mid-task */
	spawn_worker(1, "rescuer", "2s", 1);
	wait_status(a, "interrupted");
	ck_assert_int_eq(log_count("start", a), 1);
	v = task_field(a, "status_reason");
	ck_assert_msg(strstr(v, "another host") != NULL &&
	    strstr(v, "not run a second time alongside") != NULL, "%s", v);
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM runs WHERE task_id ="
	    " $1::bigint AND status = 'interrupted'", 1, params), 1);
}
END_TEST

START_TEST(test_retry_limit)
{
	long long	 plan, unreach, fails, slow;
	char		*v;

	plan = new_plan();
	unreach = new_task(plan, 1, "\"ms\":10,\"unreachable\":true", NULL,
	    NULL);
	fails = new_task(plan, 2, "\"ms\":10,\"status\":\"failed\"", NULL,
	    NULL);
	slow = new_task(plan, 3, "\"ms\":10,\"status\":\"timeout\"", NULL,
	    NULL);
	spawn_worker(0, "w1", NULL, 2);
	ck_assert_int_eq(approve_and_queue(plan), 3);
	wait_status(unreach, "failed");
	wait_status(fails, "failed");
	wait_status(slow, "timed_out");
	/* Retryable: three attempts; a playbook failure: one. */
	ck_assert_int_eq(log_count("done", unreach), 3);
	ck_assert_int_eq(log_count("done", fails), 1);
	ck_assert_int_eq(log_count("done", slow), 3);
	v = task_field(unreach, "attempts");
	ck_assert_str_eq(v, "3");
	free(v);
	v = task_field(unreach, "status_reason");
	ck_assert_ptr_nonnull(strstr(v, "unreachable"));
	free(v);
	v = task_field(fails, "attempts");
	ck_assert_str_eq(v, "1");
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " decision = 'requeued'", 0, NULL), 4);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " decision = 'failed'", 0, NULL), 2);
	ck_assert_int_eq(qn("SELECT count(*) FROM work_queue", 0, NULL), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM plans WHERE status ="
	    " 'failed'", 0, NULL), 1);
}
END_TEST

START_TEST(test_dependencies_in_order)
{
	long long	 plan, a, b, c, plan2, x, y;
	char		 deps[64];
	const char	*params[2];
	char		 s1[32], s2[32], *v;

	plan = new_plan();
	/* Step 3 is inserted first so that id order is not step order. */
	c = new_task(plan, 3, "\"ms\":100", NULL, NULL);
	a = new_task(plan, 1, "\"ms\":300", NULL, NULL);
	snprintf(deps, sizeof deps, "{%lld}", a);
	b = new_task(plan, 2, "\"ms\":100", deps, NULL);
	snprintf(deps, sizeof deps, "{%lld}", b);
	snprintf(s1, sizeof s1, "%lld", c);
	params[0] = deps;
	params[1] = s1;
	qexec("UPDATE tasks SET depends_on = $1::bigint[] WHERE id ="
	    " $2::bigint", 2, params);
	plan2 = new_plan();
	x = new_task(plan2, 1, "\"ms\":10,\"status\":\"failed\"", NULL, NULL);
	snprintf(deps, sizeof deps, "{%lld}", x);
	y = new_task(plan2, 2, "\"ms\":10", deps, NULL);

	spawn_worker(0, "w1", NULL, 2);
	spawn_worker(1, "w2", NULL, 2);
	ck_assert_int_eq(approve_and_queue(plan), 3);
	ck_assert_int_eq(approve_and_queue(plan2), 2);
	wait_status(c, "succeeded");
	assert_status(a, "succeeded");
	assert_status(b, "succeeded");
	snprintf(s1, sizeof s1, "%lld", a);
	snprintf(s2, sizeof s2, "%lld", b);
	params[0] = s1;
	params[1] = s2;
	ck_assert_int_eq(qn("SELECT count(*) FROM tasks t1, tasks t2 WHERE"
	    " t1.id = $1::bigint AND t2.id = $2::bigint AND t2.started_at >="
	    " t1.finished_at", 2, params), 1);
	snprintf(s1, sizeof s1, "%lld", b);
	snprintf(s2, sizeof s2, "%lld", c);
	ck_assert_int_eq(qn("SELECT count(*) FROM tasks t1, tasks t2 WHERE"
	    " t1.id = $1::bigint AND t2.id = $2::bigint AND t2.started_at >="
	    " t1.finished_at", 2, params), 1);
	/* A failed dependency cancels what depends on it. */
	wait_status(y, "canceled");
	assert_status(x, "failed");
	v = task_field(y, "status_reason");
	ck_assert_ptr_nonnull(strstr(v, "depends on"));
	free(v);
	ck_assert_int_eq(log_count("start", y), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM plans WHERE status ="
	    " 'failed'", 0, NULL), 1);
}
END_TEST

START_TEST(test_pause_until_resources_return)
{
	const char	*params[1];
	char		 t[32], *v;
	long long	 plan, a;

	spawn_worker(0, "gpubox", NULL, 1);
	ck_assert_int_eq(wait_count("SELECT count(*) FROM agents WHERE name ="
	    " 'gpubox'", 0, NULL, 1), 1);
	/* What a metrics plugin would report: 500 MB of 8000 free. */
	qexec("UPDATE agents SET resource_metrics = resource_metrics ||"
	    " '{\"gpu_mem_mb\": 8000, \"gpu_mem_mb_free\": 500}'"
	    " WHERE name = 'gpubox'", 0, NULL);
	plan = new_plan();
	a = new_task(plan, 1, "\"ms\":10", NULL, "{\"gpu_mem_mb\": 1000}");
	snprintf(t, sizeof t, "%lld", a);
	params[0] = t;
	ck_assert_int_eq(approve_and_queue(plan), 1);
	wait_status(a, "paused");
	v = task_field(a, "status_reason");
	ck_assert_msg(strstr(v, "gpu_mem_mb") != NULL, "reason: %s", v);
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " task_id = $1::bigint AND decision = 'paused' AND"
	    " jsonb_array_length(scores) = 1", 1, params), 1);
	ck_assert_int_eq(log_count("start", a), 0);

	/* 6000 of 8000 free: it resumes by itself and runs. */
	qexec("UPDATE agents SET resource_metrics = resource_metrics ||"
	    " '{\"gpu_mem_mb_free\": 6000}' WHERE name = 'gpubox'", 0, NULL);
	wait_status(a, "succeeded");
	ck_assert_int_eq(log_count("done", a), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM audit_log WHERE task_id ="
	    " $1::bigint AND kind = 'task.paused'", 1, params), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM audit_log WHERE task_id ="
	    " $1::bigint AND kind = 'task.resumed'", 1, params), 1);
}
END_TEST

/* `chiffon worker --once` runs one task and exits. */
START_TEST(test_cmd_worker_once)
{
	char		*argv[] = { "worker", "--name", "oneshot", "--once",
			    NULL };
	struct app	 wapp;
	long long	 plan, a, b;
	pid_t		 pid;
	int		 st;

	plan = new_plan();
	a = new_task(plan, 1, "\"ms\":10", NULL, NULL);
	b = new_task(plan, 2, "\"ms\":10", NULL, NULL);
	ck_assert_int_eq(approve_and_queue(plan), 2);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		memset(&wapp, 0, sizeof wapp);
		wapp.argv0 = "chiffon";
		wapp.conf = test_conf(NULL, 1);
		st = cmd_worker_entry.exec(&wapp, 4, argv);
		app_free(&wapp);
		_exit(st);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	assert_status(a, "succeeded");
	assert_status(b, "queued");
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name ="
	    " 'oneshot' AND status = 'offline'", 0, NULL), 1);
}
END_TEST

/* -- suite --------------------------------------------------------------- */

static Suite *
dispatch_suite(void)
{
	Suite	*s = suite_create("dispatch");
	TCase	*tc = tcase_create("queue");

	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_enqueue_needs_approval);
	tcase_add_test(tc, test_claim_pause_resume_finish);
	tcase_add_test(tc, test_retry_backoff);
	tcase_add_test(tc, test_route_rule);
	tcase_add_test(tc, test_two_workers_run_each_task_once);
	tcase_add_test(tc, test_killed_worker_task_recovered);
	tcase_add_test(tc, test_lost_check_mode_other_host);
	tcase_add_test(tc, test_retry_limit);
	tcase_add_test(tc, test_dependencies_in_order);
	tcase_add_test(tc, test_pause_until_resources_return);
	tcase_add_test(tc, test_cmd_worker_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_set_level(CHIFFON_LOG_WARNING);
	return testutil_main(dispatch_suite());
}
