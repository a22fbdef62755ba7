/*
 * bench-audit.c - issue 5's query benchmark.  A synthetic history is
 * generated in SQL (generate_series): 1,000,000 tasks over a year and 40
 * services (4 per plan, about 3.5% failing), 10,000,000 output lines (one
 * run of 1,000,000 lines and 9,000 runs of 1,000).  Then the queries
 * chiffon itself runs (audit_query_tasks, audit_query_output_page) are
 * repeated and their median latency printed against the 10 ms target:
 * the first page of failures in the last 7 days, the first page of one
 * service's tasks, and arbitrary pages of the 1,000,000-line run (a
 * screen of 100 lines and a 5,000-line page of `chiffon show --output`).
 * Reference measured in the same run: a `SELECT 1` round trip.
 *
 * Usage: bench-audit [TASKS [LINES [ROUNDS]]]  (defaults 1000000,
 * 10000000 and 51)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "audit-query.h"
#include "migrate.h"
#include "../pgtest.h"
#include "util.h"

#define BENCH_TARGET_MS	10.0

static void
bench_die(const char *what, const char *err)
{
	fprintf(stderr, "bench-audit: %s: %s\n", what, err);
	exit(1);
}

/* Run a statement with up to 2 text parameters; it must succeed. */
static void
bench_sql(PGconn *pg, const char *label, const char *sql, const char *p1,
    const char *p2)
{
	const char	*params[2] = { p1, p2 };
	PGresult	*res;
	double		 t0 = now_s();

	res = PQexecParams(pg, sql, p2 != NULL ? 2 : p1 != NULL ? 1 : 0,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_die(label, PQresultErrorMessage(res));
	PQclear(res);
	if (label != NULL)
		printf("  %-34s %7.1f s\n", label, now_s() - t0);
	fflush(stdout);
}

static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp);
	return v[n / 2];
}

static void
bench_report(const char *what, double *v, int n, int rows)
{
	double	m = bench_median(v, n);

	printf("  %-44s median %6.3f ms (%d rows)  ratio to the 10 ms "
	    "target %.3f %s\n", what, m, rows, m / BENCH_TARGET_MS,
	    m < BENCH_TARGET_MS ? "ok" : "SLOW");
}

/* Median time of one task query over rounds. */
static void
bench_tasks(PGconn *pg, const char *what, const struct audit_filter *f,
    double *v, int rounds)
{
	PGresult	*res;
	char		*err = NULL;
	double		 t0;
	int		 i, rows = 0;

	for (i = 0; i < rounds; i++) {
		t0 = now_s();
		if ((res = audit_query_tasks(pg, f, &err)) == NULL)
			bench_die(what, err);
		v[i] = (now_s() - t0) * 1000;
		rows = PQntuples(res);
		PQclear(res);
	}
	bench_report(what, v, rounds, rows);
}

static void
bench_pages(PGconn *pg, const char *what, const char *started, long lines,
    int limit, double *v, int rounds)
{
	PGresult	*res;
	char		*err = NULL;
	double		 t0;
	long long	 after;
	int		 i, rows = 0;

	srand(42);
	for (i = 0; i < rounds; i++) {
		after = (long long)((double)rand() / RAND_MAX *
		    (double)(lines - limit));
		t0 = now_s();
		res = audit_query_output_page(pg, 1, started, after, limit,
		    &err);
		if (res == NULL)
			bench_die(what, err);
		v[i] = (now_s() - t0) * 1000;
		rows = PQntuples(res);
		if (rows != limit)
			bench_die(what, "short page");
		PQclear(res);
	}
	bench_report(what, v, rounds, rows);
}

int
main(int argc, char **argv)
{
	struct pgtest		*t;
	struct audit_filter	 f;
	PGconn			*pg;
	PGresult		*res;
	char			*err = NULL, *ci, *started, tasks[32], big[32];
	char			 small[32];
	double			*v, t0;
	long			 ntasks = 1000000, nlines = 10000000;
	long			 bigrun, per;
	int			 rounds = 51, i, n;

	if (argc > 1)
		ntasks = atol(argv[1]);
	if (argc > 2)
		nlines = atol(argv[2]);
	if (argc > 3)
		rounds = atoi(argv[3]);
	if (ntasks < 1000 || nlines < 10000 || rounds < 1) {
		fprintf(stderr, "usage: bench-audit [TASKS>=1000 "
		    "[LINES>=10000 [ROUNDS]]]\n");
		return 2;
	}
	bigrun = nlines / 10;		/* one run holds a tenth */
	per = 1000;			/* the others hold 1,000 each */
	v = xcalloc((size_t)rounds, sizeof *v);

	if ((t = pgtest_start(&err)) == NULL)
		bench_die("cluster", err);
	if ((ci = pgtest_new_db(t, "bench", &err)) == NULL)
		bench_die("database", err);
	pg = PQconnectdb(ci);
	if (PQstatus(pg) != CONNECTION_OK)
		bench_die("connect", PQerrorMessage(pg));
	if (migrate_apply(pg, &n, &err) != 0)
		bench_die("migrate", err);

	printf("bench-audit: generating %ld tasks and %ld output lines\n",
	    ntasks, nlines);
	t0 = now_s();
	snprintf(tasks, sizeof tasks, "%ld", ntasks / 4);
	snprintf(big, sizeof big, "%ld", bigrun);
	snprintf(small, sizeof small, "%ld", (nlines - bigrun) / per);
	/* Synthetic rows go around the state machine's triggers. */
	bench_sql(pg, NULL, "SET session_replication_role = replica", NULL,
	    NULL);
	bench_sql(pg, NULL, "SET maintenance_work_mem = '256MB'", NULL, NULL);
	bench_sql(pg, "requests", "INSERT INTO requests (actor, text, "
	    "created_at) SELECT 'user' || (g % 9), 'deploy svc' || (g % 40) || "
	    "' on the homelab', now() - (g * interval '1 year') / $1::int "
	    "FROM generate_series(1, $1::int) g", tasks, NULL);
	bench_sql(pg, "plans", "INSERT INTO plans (id, plan_id, request_id, "
	    "created_by, summary, status, created_at) OVERRIDING SYSTEM VALUE "
	    "SELECT id, id, id, actor, 'four steps', 'succeeded', created_at "
	    "FROM requests", NULL, NULL);
	bench_sql(pg, "approvals", "INSERT INTO approvals (plan_id, "
	    "approved_by, at) SELECT id, created_by, created_at FROM plans",
	    NULL, NULL);
	bench_sql(pg, "tasks", "INSERT INTO tasks (plan_id, step, action, "
	    "service, playbook, targets, status, created_at, started_at, "
	    "finished_at, wall_s, user_s, sys_s, maxrss_kb) "
	    "SELECT p.id, s, (ARRAY['deploy','configure','restart',"
	    "'update'])[s], 'svc' || ((p.id * 4 + s) % 40), 'svc' || "
	    "((p.id * 4 + s) % 40) || '.yml', 'homelab', CASE WHEN "
	    "(p.id * 4 + s) % 29 = 0 THEN 'failed' WHEN (p.id * 4 + s) % 199 "
	    "= 0 THEN 'timed_out' ELSE 'succeeded' END, p.created_at, "
	    "p.created_at + interval '5 seconds', p.created_at + "
	    "interval '65 seconds', 60, 12.5, 2.5, 81920 "
	    "FROM plans p, generate_series(1, 4) s", NULL, NULL);
	bench_sql(pg, "runs", "INSERT INTO runs (task_id, kind, status, "
	    "exit_code, started_at, finished_at, lines) SELECT g, "
	    "'ansible-playbook', 'successful', 0, date_trunc('month', now()) "
	    "+ interval '1 hour', date_trunc('month', now()) + "
	    "interval '2 hours', CASE WHEN g = 1 THEN $1::bigint ELSE 1000 "
	    "END FROM generate_series(1, $2::int + 1) g", big, small);
	/* In chunks of 500 lines, as runlog.c stores them (schema 016). */
	bench_sql(pg, "run output (large run)", "INSERT INTO run_output_chunks "
	    "SELECT 1, k * 500 + 1, date_trunc('month', now()) + "
	    "interval '1 hour', 500, array_fill(1::smallint, ARRAY[500]), "
	    "array_fill(now(), ARRAY[500]), ARRAY(SELECT 'ok: [host-' || "
	    "(s % 250) || '] => (item=' || s || ') {\"changed\": false, "
	    "\"msg\": \"line of the audit benchmark\"}' FROM "
	    "generate_series(k * 500 + 1, k * 500 + 500) s ORDER BY s) FROM "
	    "generate_series(0, $1::bigint / 500 - 1) k", big, NULL);
	bench_sql(pg, "run output (other runs)", "INSERT INTO run_output_chunks "
	    "SELECT r, k * 500 + 1, date_trunc('month', now()) + "
	    "interval '1 hour', 500, array_fill(1::smallint, ARRAY[500]), "
	    "array_fill(now(), ARRAY[500]), ARRAY(SELECT 'ok: [host-' || "
	    "(s % 250) || '] => (item=' || s || ') {\"changed\": false, "
	    "\"msg\": \"line of the audit benchmark\"}' FROM "
	    "generate_series(k * 500 + 1, k * 500 + 500) s ORDER BY s) FROM "
	    "generate_series(2, $1::int + 1) r, generate_series(0, 1) k",
	    small, NULL);
	bench_sql(pg, NULL, "RESET session_replication_role", NULL, NULL);
	bench_sql(pg, "analyze", "ANALYZE", NULL, NULL);
	printf("  %-34s %7.1f s\n", "total", now_s() - t0);

	res = PQexec(pg, "SELECT (SELECT count(*) FROM tasks), (SELECT "
	    "count(*) FROM run_output), (SELECT count(*) FROM tasks WHERE "
	    "status IN ('failed', 'timed_out') AND finished_at >= now() - "
	    "interval '7 days'), (SELECT started_at::text FROM runs WHERE "
	    "id = 1)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_die("count", PQresultErrorMessage(res));
	printf("bench-audit: %s tasks, %s output lines, %s failures in the "
	    "last 7 days\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
	    PQgetvalue(res, 0, 2));
	started = xstrdup(PQgetvalue(res, 0, 3));
	PQclear(res);

	printf("bench-audit: median of %d rounds\n", rounds);
	for (i = 0; i < rounds; i++) {
		t0 = now_s();
		bench_sql(pg, NULL, "SELECT 1", NULL, NULL);
		v[i] = (now_s() - t0) * 1000;
	}
	printf("  %-44s median %6.3f ms (reference)\n",
	    "SELECT 1 round trip", bench_median(v, rounds));

	memset(&f, 0, sizeof f);
	f.failures = 1;
	bench_tasks(pg, "failures, last 7 days, first page", &f, v, rounds);
	/* A deep keyset page: 1,000 failures back. */
	res = PQexec(pg, "SELECT id FROM tasks WHERE status IN ('failed', "
	    "'timed_out') ORDER BY finished_at DESC, id DESC OFFSET 1000 "
	    "LIMIT 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		bench_die("keyset", PQresultErrorMessage(res));
	f.after = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	f.days = 365;
	bench_tasks(pg, "failures, page after 1,000 (--after)", &f, v,
	    rounds);
	memset(&f, 0, sizeof f);
	f.service = "svc17";
	bench_tasks(pg, "service svc17, last 7 days, first page", &f, v,
	    rounds);
	f.days = 365;
	bench_tasks(pg, "service svc17, last year, first page", &f, v,
	    rounds);
	bench_pages(pg, "1,000,000-line run, any page of 100 lines", started,
	    bigrun, 100, v, rounds);
	bench_pages(pg, "1,000,000-line run, any page of 5,000 lines",
	    started, bigrun, 5000, v, rounds);

	free(started);
	free(v);
	free(ci);
	PQfinish(pg);
	pgtest_stop(t);
	return 0;
}
