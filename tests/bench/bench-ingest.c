/*
 * bench-ingest.c - issue 3's ingest benchmark: a child process prints
 * 1,000,000 lines into a pipe; chiffon reads them, records them through
 * runlog (COPY batches) and finishes the run.  Measured: lines per second
 * from the start of the run until everything is committed.  Reference,
 * measured in the same run against the same table: psql's \copy of the
 * same lines (already in COPY format in a file), the ceiling.
 *
 * Usage: bench-ingest [LINES [ROUNDS]]   (defaults 1000000 and 3; the
 * best round of each side is reported)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "conf.h"
#include "db.h"
#include "../pgtest.h"
#include "runlog.h"
#include "util.h"

/* One line of the child's output (no newline). */
static int
bench_line(char *buf, size_t size, long i)
{
	return snprintf(buf, size, "ok: [host-%03ld] => (item=%ld) "
	    "{\"changed\": false, \"msg\": \"line %ld of the ingest "
	    "benchmark\"}", i % 250, i, i);
}

static void
bench_die(const char *what, const char *err)
{
	fprintf(stderr, "bench-ingest: %s: %s\n", what, err);
	exit(1);
}

/* The child: print n lines to fd and exit. */
static void __attribute__((noreturn))
bench_child(int fd, long n)
{
	FILE	*f = fdopen(fd, "w");
	char	 line[256];
	long	 i;

	for (i = 1; i <= n; i++) {
		bench_line(line, sizeof line, i);
		fputs(line, f);
		fputc('\n', f);
	}
	fclose(f);
	_exit(0);
}

static void
bench_exec(PGconn *pg, const char *sql)
{
	PGresult	*res = PQexec(pg, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_die(sql, PQerrorMessage(pg));
	PQclear(res);
}

/* Empty the table and settle the server before a measurement. */
static void
bench_reset(PGconn *pg)
{
	bench_exec(pg, "TRUNCATE run_output");
	bench_exec(pg, "CHECKPOINT");
}

/* chiffon: child -> pipe -> runlog -> COPY.  Returns seconds. */
static double
bench_chiffon(struct db *db, long n)
{
	struct runlog	*rl;
	char		 buf[65536], *err = NULL, *nl;
	size_t		 have = 0, off;
	ssize_t		 got;
	double		 t0, t1;
	pid_t		 pid;
	int		 fds[2], status;
	long		 lines = 0;

	if (pipe(fds) != 0)
		bench_die("pipe", strerror(errno));
	t0 = now_s();
	if ((pid = fork()) < 0)
		bench_die("fork", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		bench_child(fds[1], n);
	}
	close(fds[1]);
	if ((rl = runlog_begin(db, NULL, NULL, "bench", NULL, &err)) == NULL)
		bench_die("runlog_begin", err);
	for (;;) {
		got = read(fds[0], buf + have, sizeof buf - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			bench_die("read", strerror(errno));
		if (got == 0)
			break;
		have += (size_t)got;
		off = 0;
		while ((nl = memchr(buf + off, '\n', have - off)) != NULL) {
			runlog_line(rl, 1, buf + off,
			    (size_t)(nl - (buf + off)));
			lines++;
			off = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	close(fds[0]);
	if (runlog_finish(rl, "successful", 0, NULL, NULL, &err) != 0)
		bench_die("runlog_finish", err);
	t1 = now_s();
	waitpid(pid, &status, 0);
	if (lines != n)
		bench_die("chiffon", "lost lines");
	return t1 - t0;
}

/* Write the same lines as COPY rows of a new run; returns the path. */
static char *
bench_copy_file(PGconn *pg, const char *dir, long n)
{
	PGresult	*res;
	char		*path, line[256];
	FILE		*f;
	long		 i;

	res = PQexec(pg, "INSERT INTO runs (kind) VALUES ('bench-psql') "
	    "RETURNING id, started_at");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bench_die("runs", PQerrorMessage(pg));
	path = xasprintf("%s/ingest.copy", dir);
	if ((f = fopen(path, "w")) == NULL)
		bench_die(path, strerror(errno));
	for (i = 1; i <= n; i++) {
		bench_line(line, sizeof line, i);
		fprintf(f, "%s\t%ld\t%s\t1\t%s\t%s\n", PQgetvalue(res, 0, 0),
		    i, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 1), line);
	}
	if (fclose(f) != 0)
		bench_die(path, strerror(errno));
	PQclear(res);
	return path;
}

/* psql \copy of the file.  Returns seconds. */
static double
bench_psql(const char *conninfo, const char *path)
{
	char	*cmd;
	double	 t0, t1;
	pid_t	 pid;
	int	 status;

	cmd = xasprintf("\\copy run_output (run_id, seq, run_started_at, "
	    "stream, at, line) FROM '%s'", path);
	t0 = now_s();
	if ((pid = fork()) < 0)
		bench_die("fork", strerror(errno));
	if (pid == 0) {
		const char *argv[] = { "psql", "-X", "-q", "-v",
		    "ON_ERROR_STOP=1", "-d", conninfo, "-c", cmd, NULL };

		setpgid(0, 0);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "bench-ingest: psql: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		bench_die("psql \\copy", "failed");
	t1 = now_s();
	free(cmd);
	return t1 - t0;
}

int
main(int argc, char **argv)
{
	struct pgtest	*pt;
	struct conf	*conf;
	struct db	*db;
	PGconn		*pg;
	char		*err = NULL, *conninfo, *path;
	long		 n = argc > 1 ? atol(argv[1]) : 1000000;
	int		 rounds = argc > 2 ? atoi(argv[2]) : 3, r;
	double		 t, best_c = 0, best_p = 0, rate_c, rate_p;

	if (n <= 0 || rounds <= 0)
		bench_die("usage", "bench-ingest [LINES [ROUNDS]]");
	if ((pt = pgtest_start(&err)) == NULL)
		bench_die("starting PostgreSQL", err);
	if ((conninfo = pgtest_new_db(pt, "bench", &err)) == NULL)
		bench_die("creating the database", err);
	conf = conf_new();
	if (conf_set(conf, "db.url", conninfo, "bench", &err) != 0)
		bench_die("db.url", err);
	if ((db = db_open(conf, DB_OPEN_NO_START, &err)) == NULL)
		bench_die("db_open", err);
	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK)
		bench_die("connect", PQerrorMessage(pg));
	path = bench_copy_file(pg, pgtest_dir(pt), n);

	for (r = 0; r < rounds; r++) {
		bench_reset(pg);
		t = bench_chiffon(db, n);
		if (best_c == 0 || t < best_c)
			best_c = t;
		bench_reset(pg);
		t = bench_psql(conninfo, path);
		if (best_p == 0 || t < best_p)
			best_p = t;
	}
	rate_c = (double)n / best_c;
	rate_p = (double)n / best_p;
	printf("ingest: %ld lines, best of %d rounds each\n", n, rounds);
	printf("  chiffon (child -> pipe -> runlog -> COPY, committed): "
	    "%10.0f lines/s (%.3f s)\n", rate_c, best_c);
	printf("  psql \\copy of the same lines (ceiling):               "
	    "%10.0f lines/s (%.3f s)\n", rate_p, best_p);
	printf("  ratio chiffon/psql: %.2f (target >= 0.50; "
	    "absolute target >= 200000 lines/s: %s)\n", rate_c / rate_p,
	    rate_c >= 200000 ? "met" : "MISSED");

	unlink(path);
	free(path);
	PQfinish(pg);
	db_close(db);
	conf_free(conf);
	free(conninfo);
	pgtest_stop(pt);
	return 0;
}
