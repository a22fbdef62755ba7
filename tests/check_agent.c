/*
 * check_agent.c - `chiffon agent` and `chiffon agents` against a real
 * throwaway PostgreSQL cluster.  Agents are real processes (fork, then
 * cmd_agent) with the built desktop-metrics plugin reading the fake trees
 * of tests/metrics and the NVML double, and the test plugin's
 * "test.sleep" capability for work.  Heartbeats land in agents and
 * agent_metrics; SIGTERM marks an agent offline, SIGKILL leaves it to
 * the others to notice; a step that needs 8 GB of GPU memory waits,
 * paused, until an agent with 16 GB free appears, and runs there.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "agent.h"
#include "app.h"
#include "cmd.h"
#include "approve.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "log.h"
#include "orchtest.h"
#include "pgtest.h"
#include "testutil.h"
#include "util.h"
#include "worker.h"
#include "loop.h"

#define WAIT_S		60
#define MAX_PROCS	4

static char		*conninfo;
static char		*tmpdir;
static char		*runlog;
static struct app	 app;
static PGconn		*pg;
static pid_t		 procs[MAX_PROCS];

/* -- fixtures ------------------------------------------------------------ */

/*
 * A configuration for one process: the test database, plugins (a
 * comma-separated plugins.load), the fake tree root (below
 * tests/metrics) and a heartbeat interval.
 */
static struct conf *
test_conf(const char *plugins, const char *root, const char *heartbeat)
{
	struct conf	*conf = conf_new();
	char		*v;

	testutil_conf_set(conf, "db.url", conninfo);
	testutil_conf_set(conf, "core.data_dir", tmpdir);
	v = xasprintf("%s/tests/plugins/.libs:%s/plugins/desktop-metrics/.libs",
	    orchtest_builddir(), orchtest_builddir());
	testutil_conf_set(conf, "plugins.path", v);
	free(v);
	testutil_conf_set(conf, "plugins.load", plugins);
	testutil_conf_set(conf, "dispatch.lease", "10s");
	testutil_conf_set(conf, "dispatch.poll", "1s");
	testutil_conf_set(conf, "dispatch.retry_backoff", "0");
	testutil_conf_set(conf, "dispatch.agent_timeout", "5s");
	testutil_conf_set(conf, "agent.heartbeat", heartbeat != NULL ? heartbeat :
	    "1s");
	v = xasprintf("%s/tests/metrics/.libs/nvml-double.so", orchtest_builddir());
	testutil_conf_set(conf, "plugin.desktop-metrics.nvml_library", v);
	free(v);
	testutil_conf_set(conf, "plugin.desktop-metrics.nvidia_smi", "none");
	if (root != NULL) {
		v = xasprintf("%s/tests/metrics/%s", orchtest_srcdir(), root);
		testutil_conf_set(conf, "plugin.desktop-metrics.root", v);
		free(v);
	}
	return conf;
}

static void
setup(void)
{
	static int	 n;
	char		*name, *err = NULL;

	ck_assert_msg(testutil_cluster() != NULL, "no test cluster");
	tmpdir = testutil_tmpdir("ckagent");
	runlog = path_join(tmpdir, "runs.log");
	unsetenv("CHIFFON_PLUGIN_PATH");
	unsetenv("CHIFFON_PLUGINS_LOAD");
	unsetenv("CHIFFON_CONFIG");
	unsetenv("NVML_DOUBLE_GPUS");
	name = xasprintf("agent%d_%ld", ++n, (long)getpid());
	conninfo = pgtest_new_db(testutil_cluster(), name, &err);
	free(name);
	ck_assert_msg(conninfo != NULL, "%s", err);
	memset(&app, 0, sizeof app);
	app.argv0 = "check_agent";
	app.conf = test_conf("testsleep", NULL, NULL);
	ck_assert_msg(app_db(&app, &err) != NULL, "%s", err);
	pg = db_pg(app.db);
	memset(procs, 0, sizeof procs);
}

static void
teardown(void)
{
	testutil_reap(procs, MAX_PROCS);
	app_free(&app);
	testutil_rm(tmpdir);
	free(tmpdir);
	free(conninfo);
	free(runlog);
}

/* -- SQL helpers --------------------------------------------------------- */

static char *
q1(const char *sql, int n, const char *const *params)
{
	return orchtest_str(pg, sql, n, params);
}

static long long
qn(const char *sql, int n, const char *const *params)
{
	return orchtest_int(pg, sql, n, params);
}

static void
qexec(const char *sql, int n, const char *const *params)
{
	char	*err = NULL;

	ck_assert_msg(orchtest_try(pg, sql, n, params, &err) == 0, "%s: %s",
	    sql, err);
}

/* Poll a count until it is at least want or the deadline passes. */
static long long
wait_atleast(const char *sql, int n, const char *const *params,
    long long want)
{
	uint64_t	deadline = now_ms() + WAIT_S * 1000;
	long long	got;

	for (;;) {
		got = qn(sql, n, params);
		if (got >= want || now_ms() > deadline)
			return got;
		usleep(100 * 1000);
	}
}

/* -- processes ----------------------------------------------------------- */

/* The commands under test, through their entries (cmd.h). */
static int
cmd_agent(struct app *a, int argc, char **argv)
{
	return cmd_agent_entry.exec(a, argc, argv);
}

static int
cmd_agents(struct app *a, int argc, char **argv)
{
	return cmd_agents_entry.exec(a, argc, argv);
}

/*
 * Fork a process running cmd (cmd_agent, cmd_agents ...) with argv on
 * conf, stdout and stderr into tmpdir/out.SLOT and err.SLOT.
 */
static pid_t
spawn_cmd(int slot, int (*cmd)(struct app *, int, char **),
    struct conf *conf, char **argv)
{
	struct app	 a;
	char		*path;
	int		 argc, fd, rc;
	pid_t		 pid;

	for (argc = 0; argv[argc] != NULL; argc++)
		continue;
	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid > 0) {
		procs[slot] = pid;
		conf_free(conf);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	path = xasprintf("%s/out.%d", tmpdir, slot);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	free(path);
	path = xasprintf("%s/err.%d", tmpdir, slot);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	free(path);
	memset(&a, 0, sizeof a);
	a.argv0 = "chiffon";
	a.conf = conf;
	rc = cmd(&a, argc, argv);
	app_free(&a);
	fflush(NULL);
	_exit(rc);
}

/* Wait for the process in slot; its exit status. */
static int
wait_cmd(int slot)
{
	int	st;

	ck_assert_int_eq(waitpid(procs[slot], &st, 0), procs[slot]);
	procs[slot] = 0;
	ck_assert_msg(WIFEXITED(st), "killed by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

/* What the process in slot wrote on fd 1 ("out") or 2 ("err"). */
static char *
cmd_output(int slot, const char *which)
{
	char	*path = xasprintf("%s/%s.%d", tmpdir, which, slot), *text;

	text = read_file(path, NULL);
	free(path);
	return text != NULL ? text : xstrdup("");
}

/* A plan with one test.sleep step needing resources; its task id. */
static long long
new_gpu_task(const char *resources)
{
	const char	*params[3];
	char		*rid, *plan, *v;
	long long	 id;

	rid = q1("INSERT INTO requests (actor, text) VALUES ('test',"
	    " 'train the model') RETURNING id", 0, NULL);
	params[0] = rid;
	plan = q1("INSERT INTO plans (request_id, created_by, summary)"
	    " VALUES ($1::bigint, 'test', 'gpu test') RETURNING id", 1,
	    params);
	v = xasprintf("{\"log\":\"%s\",\"ms\":10}", runlog);
	params[0] = plan;
	params[1] = v;
	params[2] = resources;
	id = qn("INSERT INTO tasks (plan_id, step, action, capability,"
	    " extra_vars, resources) VALUES ($1::bigint, 1, 'train',"
	    " 'test.sleep', $2::jsonb, $3::jsonb) RETURNING id", 3, params);
	{
		/* Through the gate: the approval row with its content. */
		struct approve_who	 who = { "tester", NULL, { NULL, NULL } };
		char			*err = NULL;
		int			 n = -1;

		ck_assert_msg(approve_plan(pg, atoll(plan), &who, &n, &err) >
		    0, "%s", err);
		ck_assert_int_eq(n, 1);
	}
	free(v);
	free(plan);
	free(rid);
	return id;
}

/* -- tests --------------------------------------------------------------- */

/* --once: one heartbeat with the plugin's metrics; the row stays online. */
START_TEST(test_once)
{
	char		*argv[] = { "agent", "--once", NULL };
	struct conf	*conf;
	char		 host[256], *want, *v, *out;
	const char	*params[1];

	setenv("NVML_DOUBLE_GPUS", "NVIDIA RTX A4000:16376:16000:3:41", 1);
	conf = test_conf("desktop-metrics", "amd", "30s");
	testutil_conf_set(conf, "agent.pool", "gpu");
	testutil_conf_set(conf, "agent.labels", "rack=2, fast");
	spawn_cmd(0, cmd_agent, conf, argv);
	ck_assert_int_eq(wait_cmd(0), 0);
	/* The id: host name and the fake tree's machine id. */
	ck_assert_int_eq(gethostname(host, sizeof host), 0);
	want = xasprintf("%s-01234567", host);
	params[0] = want;
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name = $1"
	    " AND pool = 'gpu' AND labels = '{rack=2,fast}' AND kind = 'agent'"
	    " AND status = 'online' AND heartbeat_s = 30"
	    " AND machine_id = '0123456789abcdef0123456789abcdef'"
	    " AND capabilities = '{metrics}' AND metrics_at IS NOT NULL", 1,
	    params), 1);
	v = q1("SELECT (resource_metrics ->> 'gpu_mem_mb_free') || ' ' ||"
	    " (resource_metrics ->> 'cpu_free') || ' ' ||"
	    " (resource_metrics ->> 'gpu_type') FROM agents WHERE name = $1",
	    1, params);
	ck_assert_str_eq(v, "16000 6.5 nvidia");
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM agent_metrics WHERE agent ="
	    " $1 AND metrics ->> 'gpu_source' = 'nvml'", 1, params), 1);
	out = cmd_output(0, "out");
	ck_assert_msg(strstr(out, "heartbeat recorded (pool gpu") != NULL &&
	    strstr(out, "GPU nvidia with 16000 MB free") != NULL, "%s", out);
	free(out);
	free(want);
}
END_TEST

/* Heartbeats keep coming; SIGTERM marks the agent offline. */
START_TEST(test_heartbeats_and_sigterm)
{
	char		*argv[] = { "agent", "--name", "desk1", NULL };
	const char	*params[1] = { "desk1" };

	spawn_cmd(0, cmd_agent, test_conf("desktop-metrics", "amd", "1s"),
	    argv);
	ck_assert_int_ge(wait_atleast("SELECT count(*) FROM agent_metrics"
	    " WHERE agent = $1", 1, params, 3), 3);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name = $1 AND"
	    " status = 'online' AND metrics_at > now() - interval '3 s'", 1,
	    params), 1);
	ck_assert_int_eq(qn("SELECT count(DISTINCT metrics ->> 'load1') FROM"
	    " agent_metrics WHERE agent = $1 AND metrics ->> 'load1' = '1.5'",
	    1, params), 1);
	kill(procs[0], SIGTERM);
	ck_assert_int_eq(wait_cmd(0), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name = $1 AND"
	    " status = 'offline'", 1, params), 1);
}
END_TEST

/* Two agents at once; one killed is marked offline by the other. */
START_TEST(test_two_agents_offline_detection)
{
	char		*a1[] = { "agent", "--name", "alpha", NULL };
	char		*a2[] = { "agent", "--name", "beta", "--pool", "lab",
			    NULL };
	double		 t0;
	long long	 n;

	spawn_cmd(0, cmd_agent, test_conf("desktop-metrics", "amd", "1s"),
	    a1);
	spawn_cmd(1, cmd_agent, test_conf("desktop-metrics", "broken", "1s"),
	    a2);
	ck_assert_int_eq(wait_atleast("SELECT count(DISTINCT agent) FROM"
	    " agent_metrics", 0, NULL, 2), 2);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE status ="
	    " 'online' AND kind = 'agent'", 0, NULL), 2);
	/* The broken tree reports unknowns as null, not zero. */
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name = 'beta'"
	    " AND pool = 'lab' AND jsonb_typeof(resource_metrics -> 'mem_mb')"
	    " = 'null' AND jsonb_typeof(resource_metrics -> 'load1') = 'null'",
	    0, NULL), 1);
	kill(procs[0], SIGKILL);
	waitpid(procs[0], NULL, 0);
	procs[0] = 0;
	t0 = now_s();
	n = wait_atleast("SELECT count(*) FROM agents WHERE name = 'alpha'"
	    " AND status = 'offline'", 0, NULL, 1);
	ck_assert_int_eq(n, 1);
	/* Three 1 s intervals, noticed by beta's next heartbeat. */
	ck_assert_msg(now_s() - t0 < 10, "took %.1f s", now_s() - t0);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name = 'beta'"
	    " AND status = 'online'", 0, NULL), 1);
}
END_TEST

/* No database yet: retries after 1 s, 2 s, ... until stopped. */
START_TEST(test_backoff_while_unreachable)
{
	char		*argv[] = { "agent", "--name", "lonely", NULL };
	struct conf	*conf = test_conf("desktop-metrics", "amd", "1s");
	char		*err;

	testutil_conf_set(conf, "db.url", "postgresql://127.0.0.1:1/nothing"
	    "?connect_timeout=2");
	spawn_cmd(0, cmd_agent, conf, argv);
	usleep(3500 * 1000);
	kill(procs[0], SIGTERM);
	ck_assert_int_eq(wait_cmd(0), 0);
	err = cmd_output(0, "err");
	/* Attempts at 0, 1 and 3 s; the next would be at 7 s. */
	ck_assert_msg(strstr(err, "retrying in 1 s") != NULL &&
	    strstr(err, "retrying in 2 s") != NULL &&
	    strstr(err, "retrying in 4 s") != NULL &&
	    strstr(err, "retrying in 8 s") == NULL, "%s", err);
	free(err);
}
END_TEST

/* The step needing 8 GB of GPU waits until an agent with 16 GB free. */
START_TEST(test_gpu_step_waits_for_capacity)
{
	char		*worker[] = { "agent", "--name", "cpubox", NULL };
	char		*gpu[] = { "agent", "--name", "gpubox", NULL };
	const char	*params[1];
	char		 t[32], *v;
	long long	 task;

	/* An agent with a small GPU: 2 GB free (its AMD card unreadable). */
	setenv("NVML_DOUBLE_GPUS", "NVIDIA T400:4096:2048:0:35", 1);
	spawn_cmd(0, cmd_agent, test_conf("testsleep,desktop-metrics",
	    "broken", "1s"), worker);
	ck_assert_int_eq(wait_atleast("SELECT count(*) FROM agent_metrics"
	    " WHERE agent = 'cpubox'", 0, NULL, 1), 1);
	task = new_gpu_task("{\"gpu_mem_mb\": 8192}");
	snprintf(t, sizeof t, "%lld", task);
	params[0] = t;
	ck_assert_int_eq(wait_atleast("SELECT count(*) FROM tasks WHERE id ="
	    " $1::bigint AND status = 'paused'", 1, params, 1), 1);
	v = q1("SELECT status_reason FROM tasks WHERE id = $1::bigint", 1,
	    params);
	ck_assert_msg(strstr(v, "waiting for resources") != NULL &&
	    strstr(v, "gpu_mem_mb 8192") != NULL, "%s", v);
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE name ="
	    " 'cpubox' AND resource_metrics ->> 'gpu_mem_mb_free' = '2048'", 0,
	    NULL), 1);
	sleep(2);
	ck_assert_int_eq(qn("SELECT count(*) FROM tasks WHERE id = $1::bigint"
	    " AND status = 'paused'", 1, params), 1);

	/* An agent whose NVIDIA GPU (the NVML double) has 16 GB free. */
	setenv("NVML_DOUBLE_GPUS", "NVIDIA RTX A4000:16384:16384:0:40", 1);
	spawn_cmd(1, cmd_agent, test_conf("testsleep,desktop-metrics",
	    "broken", "1s"), gpu);
	unsetenv("NVML_DOUBLE_GPUS");
	ck_assert_int_eq(wait_atleast("SELECT count(*) FROM tasks WHERE id ="
	    " $1::bigint AND status = 'succeeded'", 1, params, 1), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " task_id = $1::bigint AND decision = 'dispatched' AND"
	    " chosen_agent = 'gpubox'", 1, params), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM routing_decisions WHERE"
	    " task_id = $1::bigint AND decision = 'dispatched' AND"
	    " chosen_agent <> 'gpubox'", 1, params), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM audit_log WHERE task_id ="
	    " $1::bigint AND kind = 'task.resumed'", 1, params), 1);
}
END_TEST

/* Run `chiffon agents` with argv; what it wrote on "out" or "err". */
static char *
run_agents(char **argv, int want_status, const char *which)
{
	spawn_cmd(0, cmd_agents, test_conf("testsleep", NULL, NULL), argv);
	ck_assert_int_eq(wait_cmd(0), want_status);
	return cmd_output(0, which);
}

/* `chiffon agents` answers the capacity question. */
START_TEST(test_agents_query)
{
	char		*gpu[] = { "agent", "--once", "--name", "big", NULL };
	char		*small[] = { "agent", "--once", "--name", "small",
			    NULL };
	char		*q8[] = { "agents", "--json", "--gpu-min", "8", NULL };
	char		*q32[] = { "agents", "--gpu-min", "32", NULL };
	char		*qc[] = { "agents", "--cores-min", "6", "--mem-min",
			    "20", NULL };
	char		*bad[] = { "agents", "--gpu-min", "lots", NULL };
	char		*out;

	setenv("NVML_DOUBLE_GPUS", "NVIDIA RTX A4000:16384:16384:0:40", 1);
	spawn_cmd(0, cmd_agent, test_conf("desktop-metrics", "broken", "30s"),
	    gpu);
	ck_assert_int_eq(wait_cmd(0), 0);
	unsetenv("NVML_DOUBLE_GPUS");
	spawn_cmd(0, cmd_agent, test_conf("desktop-metrics", "amd", "30s"),
	    small);
	ck_assert_int_eq(wait_cmd(0), 0);

	out = run_agents(q8, 0, "out");
	ck_assert_msg(strstr(out, "\"name\": \"big\"") != NULL &&
	    strstr(out, "\"small\"") != NULL, "%s", out);
	/* Best GPU first: 16384 MB before the AMD card's 15360. */
	ck_assert(strstr(out, "\"big\"") < strstr(out, "\"small\""));
	free(out);
	out = run_agents(q32, 1, "err");
	ck_assert_ptr_nonnull(strstr(out, "no online agent"));
	free(out);
	/* 6.5 cores and 23.4 GB free: only the AMD tree's machine. */
	out = run_agents(qc, 0, "out");
	ck_assert_msg(strstr(out, "small") != NULL &&
	    strstr(out, "big ") == NULL, "%s", out);
	free(out);
	out = run_agents(bad, 2, "err");
	ck_assert_ptr_nonnull(strstr(out, "--gpu-min: bad value 'lots'"));
	free(out);
}
END_TEST

/* `chiffon db prune` keeps agent_metrics to agent.metrics_retention. */
START_TEST(test_prune_history)
{
	char		*once[] = { "agent", "--once", "--name", "old", NULL };
	char		*prune[] = { "prune", "--older-than", "180d", NULL };
	struct conf	*conf;

	spawn_cmd(0, cmd_agent, test_conf("desktop-metrics", "amd", NULL),
	    once);
	ck_assert_int_eq(wait_cmd(0), 0);
	qexec("INSERT INTO agent_metrics (agent, at, metrics) SELECT 'old',"
	    " now() - make_interval(hours => g), '{}' FROM"
	    " generate_series(1, 48) g", 0, NULL);
	conf = test_conf("testsleep", NULL, NULL);
	testutil_conf_set(conf, "agent.metrics_retention", "1d");
	spawn_cmd(0, cmd_prune, conf, prune);
	ck_assert_int_eq(wait_cmd(0), 0);
	/* The fresh row and hours 1..23 (24 is the boundary, gone or not). */
	ck_assert_int_ge(qn("SELECT count(*) FROM agent_metrics", 0, NULL),
	    24);
	ck_assert_int_le(qn("SELECT count(*) FROM agent_metrics", 0, NULL),
	    25);
	ck_assert_int_eq(qn("SELECT count(*) FROM agent_metrics WHERE at <"
	    " now() - interval '25 hours'", 0, NULL), 0);
}
END_TEST

START_TEST(test_needs)
{
	char	*j, *err = NULL;

	j = agent_needs_json("gpu:8GB, cores:4", &err);
	ck_assert_msg(j != NULL, "%s", err);
	ck_assert_str_eq(j, "{\"gpu_mem_mb\":8192,\"cpu\":4}");
	free(j);
	j = agent_needs_json("mem:512MB,disk:1TB,gpu:6", &err);
	ck_assert_str_eq(j, "{\"mem_mb\":512,\"disk_mb\":1048576,"
	    "\"gpu_mem_mb\":6144}");
	free(j);
	ck_assert_ptr_null(agent_needs_json("gpu:lots", &err));
	ck_assert_ptr_nonnull(strstr(err, "bad amount 'lots' for gpu"));
	free(err);
	ck_assert_ptr_null(agent_needs_json("tpu:1", &err));
	ck_assert_ptr_nonnull(strstr(err, "unknown resource 'tpu'"));
	free(err);
	ck_assert_ptr_null(agent_needs_json("cores", &err));
	ck_assert_ptr_nonnull(strstr(err, "NAME:AMOUNT"));
	free(err);
}
END_TEST

static Suite *
agent_suite(void)
{
	Suite	*s = suite_create("agent");
	TCase	*tc = tcase_create("agents");
	TCase	*tu = tcase_create("needs");

	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_once);
	tcase_add_test(tc, test_heartbeats_and_sigterm);
	tcase_add_test(tc, test_two_agents_offline_detection);
	tcase_add_test(tc, test_backoff_while_unreachable);
	tcase_add_test(tc, test_gpu_step_waits_for_capacity);
	tcase_add_test(tc, test_agents_query);
	tcase_add_test(tc, test_prune_history);
	suite_add_tcase(s, tc);
	tcase_add_test(tu, test_needs);
	suite_add_tcase(s, tu);
	return s;
}

int
main(void)
{
	log_set_level(CHIFFON_LOG_WARNING);
	return testutil_main(agent_suite());
}
