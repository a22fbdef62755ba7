/*
 * check_pgembed.c - integration tests for the embedded PostgreSQL cluster
 * (src/pgembed.c), the connection (src/db.c) and the test harness
 * (tests/pgtest.c), against real clusters: initdb, start, stop, restart,
 * stale and foreign pid files, wrong major versions, missing binaries,
 * too little disk, unreachable directories (as root), db.url, and
 * reconnection after the connection is lost.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "migrate.h"
#include "pgembed.h"
#include "pgtest.h"
#include "testutil.h"
#include "util.h"


/* A pgembed handle on the shared cluster. */
static struct pgembed *
check_pgembed(void)
{
	return pgembed_new(pgtest_dir(testutil_cluster()),
	    getenv("CHIFFON_DB_SERVER_USER"));
}

/* Connect or fail the test. */
static PGconn *
check_connect(const char *conninfo)
{
	PGconn	*conn = PQconnectdb(conninfo);

	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "connect %s: %s",
	    conninfo, PQerrorMessage(conn));
	return conn;
}

/* The single value of a query without parameters.  Caller frees. */
static char *
check_value(PGconn *conn, const char *sql)
{
	PGresult	*res = PQexec(conn, sql);
	char		*v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_int_eq(PQntuples(res), 1);
	v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
check_exec(PGconn *conn, const char *sql)
{
	PGresult	*res = PQexec(conn, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	PQclear(res);
}

/* A scratch directory, removed and freed by check_rm. */
static char *
check_tmpdir(void)
{
	return testutil_tmpdir("check");
}

static void
check_rm(char *dir)
{
	testutil_rm(dir);
	free(dir);
}

static void
check_write(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A pid that is certainly not running: a reaped child's. */
static pid_t
check_dead_pid(void)
{
	pid_t	pid = fork();
	int	status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return pid;
}

/* Messages logged while a test runs. */
static struct strbuf	check_log;

static void
check_log_sink(int level, const char *who, const char *msg, void *data)
{
	(void)level;
	(void)who;
	(void)data;
	strbuf_addf(&check_log, "%s\n", msg);
}

/* The server major version, from a status of the shared cluster. */
static char *
check_major(void)
{
	struct pgembed		*pg = check_pgembed();
	struct pgembed_status	 st;
	char			*major;

	ck_assert_int_eq(pgembed_status(pg, &st, NULL), 0);
	ck_assert_ptr_nonnull(st.cluster_major);
	major = xstrdup(st.cluster_major);
	pgembed_status_free(&st);
	pgembed_free(pg);
	return major;
}

START_TEST(test_select_one)
{
	PGconn		*conn = check_connect(pgtest_conninfo(testutil_cluster()));
	struct pgembed	*pg = check_pgembed();
	struct stat	 st;
	char		*v;

	v = check_value(conn, "select 1");
	ck_assert_str_eq(v, "1");
	free(v);
	/* Socket only, in a private directory. */
	v = check_value(conn, "show listen_addresses");
	ck_assert_str_eq(v, "");
	free(v);
	v = check_value(conn, "show unix_socket_directories");
	ck_assert_str_eq(v, pgembed_socket_dir(pg));
	free(v);
	v = check_value(conn, "select current_user");
	ck_assert_str_eq(v, PGEMBED_USER);
	free(v);
	v = check_value(conn, "show fsync");
	ck_assert_str_eq(v, "off");
	free(v);
	ck_assert_int_eq(stat(pgembed_socket_dir(pg), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(pgembed_dir(pg), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		ck_assert_ptr_nonnull(pw);
		ck_assert_int_eq(st.st_uid, pw->pw_uid);
		v = check_value(conn, "select pg_backend_pid()");
		/* The backend is not root. */
		{
			char	*path = xasprintf("/proc/%s", v);
			struct stat	pst;

			ck_assert_int_eq(stat(path, &pst), 0);
			ck_assert_int_eq(pst.st_uid, pw->pw_uid);
			free(path);
		}
		free(v);
	} else
		ck_assert_int_eq(st.st_uid, geteuid());
	PQfinish(conn);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_status_running)
{
	struct pgembed		*pg = check_pgembed();
	struct pgembed_status	 st;
	char			*err = NULL, *major;

	ck_assert_msg(pgembed_status(pg, &st, &err) == 0, "%s", err);
	ck_assert_int_eq(st.initialized, 1);
	ck_assert_int_eq(st.running, 1);
	ck_assert_int_gt(st.pid, 0);
	ck_assert_int_eq(kill(st.pid, 0), 0);
	ck_assert_ptr_nonnull(st.version);
	ck_assert_ptr_nonnull(st.bindir);
	/* The cluster was made by these binaries: same major. */
	major = xstrndup(st.version, strcspn(st.version, "."));
	ck_assert_str_eq(st.cluster_major, major);
	ck_assert_uint_gt(st.size, 1024 * 1024);
	free(major);
	pgembed_status_free(&st);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_restart_keeps_data)
{
	struct pgembed		*pg = check_pgembed();
	struct pgembed_status	 st;
	char			*ci, *err = NULL, *v;
	PGconn			*conn;
	int			 was, started;

	ci = pgtest_new_db(testutil_cluster(), "keep", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	conn = check_connect(ci);
	check_exec(conn, "create table kept (v text)");
	check_exec(conn, "insert into kept values ('still here')");
	PQfinish(conn);

	ck_assert_msg(pgembed_stop(pg, &was, &err) == 0, "%s", err);
	ck_assert_int_eq(was, 1);
	ck_assert_int_eq(pgembed_status(pg, &st, NULL), 0);
	ck_assert_int_eq(st.running, 0);
	ck_assert_int_eq(st.initialized, 1);
	pgembed_status_free(&st);
	ck_assert_int_ne(PQping(ci), PQPING_OK);
	/* Stopping a stopped cluster is fine. */
	ck_assert_msg(pgembed_stop(pg, &was, &err) == 0, "%s", err);
	ck_assert_int_eq(was, 0);

	ck_assert_msg(pgembed_start(pg, &started, &err) == 0, "%s", err);
	ck_assert_int_eq(started, 1);
	/* Starting a running cluster does nothing. */
	ck_assert_msg(pgembed_start(pg, &started, &err) == 0, "%s", err);
	ck_assert_int_eq(started, 0);
	conn = check_connect(ci);
	v = check_value(conn, "select v from kept");
	ck_assert_str_eq(v, "still here");
	free(v);
	PQfinish(conn);
	free(ci);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_stale_pid)
{
	struct pgembed	*pg = check_pgembed();
	char		*path, *text, *log, *err = NULL;
	pid_t		 dead;
	int		 started;

	ck_assert_msg(pgembed_stop(pg, NULL, &err) == 0, "%s", err);
	dead = check_dead_pid();
	path = path_join(pgembed_pgdata(pg), "postmaster.pid");
	text = xasprintf("%ld\n%s\n0\n%d\n", (long)dead, pgembed_pgdata(pg),
	    PGEMBED_PORT);
	check_write(path, text);
	free(text);

	log_set_sink(check_log_sink, NULL);
	ck_assert_msg(pgembed_start(pg, &started, &err) == 0, "%s", err);
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(started, 1);
	/* Said so in chiffon's log and in the server log. */
	ck_assert_ptr_nonnull(check_log.buf);
	ck_assert_ptr_nonnull(strstr(check_log.buf, "removed stale"));
	log = read_file(pgembed_log_path(pg), NULL);
	ck_assert_ptr_nonnull(log);
	text = xasprintf("removed stale %s (process %ld is not running)", path,
	    (long)dead);
	ck_assert_msg(strstr(log, text) != NULL, "server.log lacks '%s'", text);
	free(text);
	free(log);
	ck_assert_int_eq(PQping(pgtest_conninfo(testutil_cluster())), PQPING_OK);
	strbuf_free(&check_log);
	free(path);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_foreign_pid)
{
	struct pgembed	*pg = check_pgembed();
	char		*path, *text, *err = NULL;

	ck_assert_msg(pgembed_stop(pg, NULL, &err) == 0, "%s", err);
	path = path_join(pgembed_pgdata(pg), "postmaster.pid");
	/* This test process: alive, and not a postgres of this cluster. */
	text = xasprintf("%ld\n%s\n", (long)getpid(), pgembed_pgdata(pg));
	check_write(path, text);
	free(text);

	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_ptr_nonnull(err);
	text = xasprintf("%s names process %ld", path, (long)getpid());
	ck_assert_msg(strstr(err, text) != NULL, "unexpected: %s", err);
	ck_assert_msg(strstr(err, "is not the server of this cluster") !=
	    NULL, "unexpected: %s", err);
	free(text);
	free(err);
	err = NULL;
	/* The file is left alone; once removed, the cluster starts. */
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_msg(pgembed_start(pg, NULL, &err) == 0, "%s", err);
	ck_assert_int_eq(PQping(pgtest_conninfo(testutil_cluster())), PQPING_OK);
	free(path);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_db_open_url)
{
	struct conf	*conf = conf_new();
	struct db	*db;
	struct pgembed	*pg = check_pgembed();
	char		*ci, *url, *err = NULL, *v;

	ci = pgtest_new_db(testutil_cluster(), "openurl", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	free(ci);
	/* A password in the URL (trust ignores it) must never be shown. */
	url = xasprintf("postgresql://%s:s3cret-pw@/openurl?host=%s",
	    PGEMBED_USER, pgembed_socket_dir(pg));
	ck_assert_msg(conf_set(conf, "db.url", url, "test", &err) == 0, "%s",
	    err);
	db = db_open(conf, 0, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err);
	ck_assert_int_eq(db_is_embedded(db), 0);
	ck_assert_ptr_null(strstr(db_conninfo(db), "s3cret"));
	ck_assert_ptr_nonnull(strstr(db_conninfo(db), "dbname=openurl"));
	ck_assert_str_eq(db_state(db), "connected");
	v = check_value(db_pg(db), "select current_database()");
	ck_assert_str_eq(v, "openurl");
	free(v);
	/* Migrated on open. */
	ck_assert_int_gt(migrate_latest(), 0);
	ck_assert_int_eq(migrate_db_version(db_pg(db), NULL), migrate_latest());
	ck_assert_int_eq(db_ensure(db, &err), 0);
	db_close(db);
	/* Opening again is a no-op for the schema. */
	db = db_open(conf, 0, &err);
	ck_assert_msg(db != NULL, "db_open again: %s", err);
	db_close(db);
	free(url);
	conf_free(conf);
	pgembed_free(pg);
}
END_TEST

/*
 * A shared server's two roles: db.owner_url migrates (and owns the
 * tables), db.url is the runtime role.  Without db.owner_url a runtime
 * role cannot create the schema.
 */
START_TEST(test_db_open_owner_url)
{
	struct conf	*conf = conf_new();
	struct db	*db;
	char		*owner, *runtime, *err = NULL, *v;

	owner = pgtest_new_db(testutil_cluster(), "ownerurl", &err);
	ck_assert_msg(owner != NULL, "%s", err);
	runtime = pgtest_conninfo_user(testutil_cluster(), "ownerurl",
	    PGEMBED_RUNTIME_USER);
	ck_assert_int_eq(conf_set(conf, "db.url", runtime, "test", &err), 0);
	ck_assert_ptr_null(db_open(conf, 0, &err));
	ck_assert_msg(strstr(err, "permission denied") != NULL, "%s", err);
	free(err);
	err = NULL;
	ck_assert_int_eq(conf_set(conf, "db.owner_url", owner, "test", &err),
	    0);
	db = db_open(conf, 0, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err);
	ck_assert_int_eq(migrate_db_version(db_pg(db), NULL), migrate_latest());
	v = check_value(db_pg(db), "select current_user || ' ' || (select "
	    "tableowner from pg_tables where tablename = 'tasks')");
	ck_assert_str_eq(v, PGEMBED_RUNTIME_USER " " PGEMBED_USER);
	free(v);
	db_close(db);
	free(runtime);
	free(owner);
	conf_free(conf);
}
END_TEST

START_TEST(test_db_open_embedded)
{
	struct conf	*conf = conf_new();
	struct db	*db;
	char		*err = NULL, *v;

	ck_assert_msg(conf_set(conf, "core.data_dir", pgtest_dir(testutil_cluster()),
	    "test", &err) == 0, "%s", err);
	db = db_open(conf, DB_OPEN_NO_MIGRATE, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err);
	ck_assert_int_eq(db_is_embedded(db), 1);
	ck_assert_ptr_nonnull(strstr(db_conninfo(db), "dbname=chiffon"));
	v = check_value(db_pg(db), "select current_database()");
	ck_assert_str_eq(v, PGEMBED_DBNAME);
	free(v);
	/* chiffon runs as the runtime role, not as the superuser. */
	v = check_value(db_pg(db), "select current_user || ' ' || rolsuper "
	    "from pg_roles where rolname = current_user");
	ck_assert_str_eq(v, PGEMBED_RUNTIME_USER " false");
	free(v);
	db_close(db);
	conf_free(conf);
}
END_TEST

START_TEST(test_db_open_unreachable)
{
	struct conf	*conf = conf_new();
	struct db	*db;
	char		*err = NULL, *dir = check_tmpdir(), *url;

	url = xasprintf("postgresql://someone:hunter2@/nodb?host=%s", dir);
	ck_assert_msg(conf_set(conf, "db.url", url, "test", &err) == 0, "%s",
	    err);
	db = db_open(conf, 0, &err);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "cannot connect to PostgreSQL at") != NULL,
	    "unexpected: %s", err);
	ck_assert_msg(strstr(err, dir) != NULL, "target not named: %s", err);
	ck_assert_msg(strstr(err, "db.url") != NULL, "unexpected: %s", err);
	ck_assert_msg(strstr(err, "hunter2") == NULL, "password shown: %s",
	    err);
	free(err);
	free(url);
	conf_free(conf);
	check_rm(dir);
}
END_TEST

/* The backend pid of a connection. */
static long
check_backend(PGconn *conn)
{
	char	*v = check_value(conn, "select pg_backend_pid()");
	long	 pid = atol(v);

	free(v);
	return pid;
}

/* Terminate a backend from another connection. */
static void
check_terminate(long pid)
{
	PGconn		*admin = check_connect(pgtest_conninfo(testutil_cluster()));
	char		*param = xasprintf("%ld", pid);
	const char	*values[1] = { param };
	PGresult	*res;

	res = PQexecParams(admin, "select pg_terminate_backend($1::int)", 1,
	    NULL, values, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	free(param);
	PQfinish(admin);
}

/* Run the loop until db_state starts with prefix (bounded). */
static void
check_until_state(struct loop *loop, struct db *db, const char *prefix)
{
	int	i;

	for (i = 0; i < 600; i++) {
		if (strncmp(db_state(db), prefix, strlen(prefix)) == 0)
			return;
		ck_assert_int_ge(loop_run_once(loop, 100), 0);
	}
	ck_abort_msg("db_state never became '%s...' (it is '%s')", prefix,
	    db_state(db));
}

START_TEST(test_reconnect)
{
	struct conf	*conf = conf_new();
	struct loop	*loop = loop_new();
	struct pgembed	*pg = check_pgembed();
	struct db	*db;
	char		*ci, *err = NULL, *v;
	long		 before, after;

	ci = pgtest_new_db(testutil_cluster(), "reconnect", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	ck_assert_int_eq(conf_set(conf, "db.url", ci, "test", &err), 0);
	db = db_open(conf, DB_OPEN_NO_MIGRATE, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err);
	ck_assert_int_eq(db_attach_loop(db, loop), 0);
	before = check_backend(db_pg(db));

	/* Lose it while the server stays up: back after the first wait. */
	check_terminate(before);
	check_until_state(loop, db, "reconnecting (attempt 1");
	ck_assert_int_ne(PQstatus(db_pg(db)), CONNECTION_OK);
	check_until_state(loop, db, "connected");
	after = check_backend(db_pg(db));
	ck_assert_int_ne(before, after);

	/* Lose it with the server down: attempts fail and back off. */
	ck_assert_msg(pgembed_stop(pg, NULL, &err) == 0, "%s", err);
	check_until_state(loop, db, "reconnecting (attempt 2, next in");
	ck_assert_msg(strstr(db_state(db), ": ") != NULL,
	    "no reason in '%s'", db_state(db));
	ck_assert_msg(pgembed_start(pg, NULL, &err) == 0, "%s", err);
	check_until_state(loop, db, "connected");
	v = check_value(db_pg(db), "select 41 + 1");
	ck_assert_str_eq(v, "42");
	free(v);

	db_close(db);
	loop_free(loop);
	conf_free(conf);
	pgembed_free(pg);
	free(ci);
}
END_TEST

/* db_listen's callback: counts into *data, keeps the last extra. */
static char	check_extra[64];

static void
check_listen_cb(const char *channel, const char *extra, void *data)
{
	ck_assert_str_eq(channel, "chiffon_test");
	(*(int *)data)++;
	snprintf(check_extra, sizeof check_extra, "%s", extra);
}

/* NOTIFY chiffon_test extra from another session. */
static void
check_notify(struct db *db, const char *extra)
{
	const char	*params[1] = { extra };
	PGconn		*c;
	PGresult	*res;
	char		*err = NULL;

	c = db_connect_more(db, &err);
	ck_assert_msg(c != NULL, "%s", err);
	res = PQexecParams(c, "SELECT pg_notify('chiffon_test', $1)", 1, NULL,
	    params, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	PQfinish(c);
}

/* Run the loop until *n reaches want (bounded). */
static void
check_until_count(struct loop *loop, const int *n, int want)
{
	int	i;

	for (i = 0; i < 100 && *n < want; i++)
		ck_assert_int_ge(loop_run_once(loop, 100), 0);
	ck_assert_int_eq(*n, want);
}

/*
 * db_listen: another session's NOTIFY arrives over the socket; one that
 * libpq took in during a query of this session is handed over at the
 * start of the next loop round, not from inside the query; two listeners
 * of a channel both get it; after a reconnection the new connection
 * LISTENs again; db_unlisten stops one listener, the other still gets it.
 */
START_TEST(test_listen)
{
	struct conf	*conf = conf_new();
	struct loop	*loop = loop_new();
	struct db	*db;
	char		*ci, *err = NULL, *v;
	int		 a = 0, b = 0;

	ci = pgtest_new_db(testutil_cluster(), "listen", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	ck_assert_int_eq(conf_set(conf, "db.url", ci, "test", &err), 0);
	db = db_open(conf, DB_OPEN_NO_MIGRATE, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err);
	ck_assert_int_eq(db_attach_loop(db, loop), 0);
	ck_assert_msg(db_listen(db, "chiffon_test", check_listen_cb, &a,
	    &err) == 0, "%s", err);

	check_notify(db, "one");
	check_until_count(loop, &a, 1);
	ck_assert_str_eq(check_extra, "one");

	v = check_value(db_pg(db), "SELECT pg_notify('chiffon_test', 'two')");
	free(v);
	ck_assert_int_eq(a, 1);
	ck_assert_int_ge(loop_run_once(loop, 0), 0);
	ck_assert_int_eq(a, 2);
	ck_assert_str_eq(check_extra, "two");

	ck_assert_msg(db_listen(db, "chiffon_test", check_listen_cb, &b,
	    &err) == 0, "%s", err);
	check_terminate(check_backend(db_pg(db)));
	check_until_state(loop, db, "reconnecting (attempt 1");
	check_until_state(loop, db, "connected");
	check_notify(db, "three");
	check_until_count(loop, &a, 3);
	check_until_count(loop, &b, 1);
	ck_assert_str_eq(check_extra, "three");

	db_unlisten(db, &a);
	check_notify(db, "four");
	check_until_count(loop, &b, 2);
	ck_assert_int_eq(a, 3);

	db_close(db);
	loop_free(loop);
	conf_free(conf);
	free(ci);
}
END_TEST

START_TEST(test_db_ensure)
{
	struct conf	*conf = conf_new();
	struct db	*db;
	char		*ci, *err = NULL;
	long		 before;
	PGresult	*res;

	ci = pgtest_new_db(testutil_cluster(), "ensure", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	ck_assert_int_eq(conf_set(conf, "db.url", ci, "test", &err), 0);
	db = db_open(conf, DB_OPEN_NO_MIGRATE, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err);
	before = check_backend(db_pg(db));
	check_terminate(before);
	/* The first query notices the loss... */
	res = PQexec(db_pg(db), "select 1");
	ck_assert_int_ne(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	/* ...and db_ensure reconnects at once. */
	ck_assert_msg(db_ensure(db, &err) == 0, "db_ensure: %s", err);
	ck_assert_int_ne(check_backend(db_pg(db)), before);
	ck_assert_str_eq(db_state(db), "connected");
	db_close(db);
	conf_free(conf);
	free(ci);
}
END_TEST

START_TEST(test_new_db_names)
{
	char	*err = NULL, *ci;

	ci = pgtest_new_db(testutil_cluster(), "x; drop database chiffon", &err);
	ck_assert_ptr_null(ci);
	ck_assert_ptr_nonnull(strstr(err, "bad database name"));
	free(err);
	err = NULL;
	ci = pgtest_new_db(testutil_cluster(), "Upper", &err);
	ck_assert_ptr_null(ci);
	free(err);
	err = NULL;
	ci = pgtest_new_db(testutil_cluster(), "1abc", &err);
	ck_assert_ptr_null(ci);
	free(err);
	err = NULL;
	/* Creating an existing database is fine (idempotent). */
	ci = pgtest_new_db(testutil_cluster(), "twice", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	free(ci);
	ci = pgtest_new_db(testutil_cluster(), "twice", &err);
	ck_assert_msg(ci != NULL, "%s", err);
	free(ci);
}
END_TEST

START_TEST(test_conninfo_url)
{
	struct pgembed		*pg = pgembed_new("/srv/chif fon", NULL);
	PQconninfoOption	*opts, *o;
	char			*ci, *url, *err = NULL;
	int			 seen = 0;

	ci = pgembed_conninfo(pg, "chiffon");
	url = pgembed_url(pg, "chiffon");
	ck_assert_str_eq(url, "postgresql:///chiffon?host=%2Fsrv%2Fchif%20fon"
	    "%2Fpg%2Frun&port=5432&user=chiffon");
	opts = PQconninfoParse(ci, &err);
	ck_assert_msg(opts != NULL, "%s", err);
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0) {
			ck_assert_str_eq(o->val, "/srv/chif fon/pg/run");
			seen++;
		} else if (strcmp(o->keyword, "dbname") == 0) {
			ck_assert_str_eq(o->val, "chiffon");
			seen++;
		}
	}
	ck_assert_int_eq(seen, 2);
	PQconninfoFree(opts);
	free(ci);
	free(url);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_missing_binaries)
{
	char		*data = check_tmpdir(), *empty = check_tmpdir();
	struct pgembed	*pg;
	char		*err = NULL;

	pg = pgembed_new(data, NULL);
	pgembed_set_bindir(pg, empty);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_msg(strstr(err, "PostgreSQL server binaries not found") !=
	    NULL, "unexpected: %s", err);
	ck_assert_msg(strstr(err, "apt-get install postgresql") != NULL,
	    "unexpected: %s", err);
	ck_assert_msg(strstr(err, empty) != NULL, "unexpected: %s", err);
	free(err);
	err = NULL;
	pgembed_free(pg);

	/* The same through the environment. */
	setenv("CHIFFON_PG_BINDIR", empty, 1);
	pg = pgembed_new(data, NULL);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_msg(strstr(err, "PostgreSQL server binaries not found") !=
	    NULL, "unexpected: %s", err);
	ck_assert_msg(strstr(err, "CHIFFON_PG_BINDIR") != NULL,
	    "unexpected: %s", err);
	free(err);
	unsetenv("CHIFFON_PG_BINDIR");
	pgembed_free(pg);
	check_rm(data);
	check_rm(empty);
}
END_TEST

START_TEST(test_wrong_major)
{
	char			*data = check_tmpdir(), *pgdir, *pgdata, *path;
	char			*err = NULL, *want;
	struct pgembed		*pg;
	struct pgembed_status	 st;

	pgdir = path_join(data, "pg");
	pgdata = path_join(pgdir, "data");
	ck_assert_int_eq(mkdir(pgdir, 0700), 0);
	ck_assert_int_eq(mkdir(pgdata, 0700), 0);
	path = path_join(pgdata, "PG_VERSION");
	/* A major nobody installs next to a current server. */
	check_write(path, "9.4\n");

	pg = pgembed_new(data, NULL);
	ck_assert_int_eq(pgembed_status(pg, &st, NULL), 0);
	ck_assert_ptr_nonnull(st.version);
	want = xasprintf("cluster in %s was created by PostgreSQL 9.4, server "
	    "binaries are %.*s", pgdata, (int)strcspn(st.version, "."),
	    st.version);
	pgembed_status_free(&st);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	ck_assert_msg(strstr(err, "pg_upgrade or move it away") != NULL,
	    "unexpected: %s", err);
	/* Nothing was touched. */
	ck_assert_int_eq(access(path, F_OK), 0);
	free(err);
	free(want);
	free(path);
	free(pgdata);
	free(pgdir);
	pgembed_free(pg);
	check_rm(data);
}
END_TEST

START_TEST(test_disk_full)
{
	char		*data = check_tmpdir(), *pgdata;
	struct pgembed	*pg = pgembed_new(data, NULL);
	char		*err = NULL;

	/* More than any disk has: the real statvfs check must refuse. */
	pgembed_set_min_free(pg, UINT64_C(1) << 62);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_msg(strstr(err, "MiB free on the filesystem holding") !=
	    NULL, "unexpected: %s", err);
	ck_assert_msg(strstr(err, "free some space") != NULL, "unexpected: %s",
	    err);
	pgdata = path_join(data, "pg/data");
	ck_assert_int_ne(access(pgdata, F_OK), 0);
	free(pgdata);
	free(err);
	pgembed_free(pg);
	check_rm(data);
}
END_TEST

START_TEST(test_bad_path)
{
	char		*data = check_tmpdir(), *bad;
	struct pgembed	*pg;
	char		*err = NULL;

	bad = path_join(data, "it's");
	pg = pgembed_new(bad, NULL);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_msg(strstr(err, "cannot quote") != NULL, "unexpected: %s",
	    err);
	ck_assert_int_ne(access(bad, F_OK), 0);
	free(err);
	free(bad);
	pgembed_free(pg);
	check_rm(data);
}
END_TEST

START_TEST(test_unreachable_dir)
{
	char		*data = check_tmpdir(), *private, *inner, *want;
	struct pgembed	*pg;
	char		*err = NULL;

	/* Root: a 0700 root directory keeps the server account out. */
	private = path_join(data, "private");
	ck_assert_int_eq(mkdir(private, 0700), 0);
	inner = path_join(private, "chiffon");
	pg = pgembed_new(inner, NULL);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	want = xasprintf("%s is mode 0700", private);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	/* Refused before anything was created. */
	ck_assert_int_ne(access(inner, F_OK), 0);
	ck_assert_msg(strstr(err, "postgres cannot reach the cluster") != NULL,
	    "unexpected: %s", err);
	ck_assert_msg(strstr(err, "core.data_dir") != NULL, "unexpected: %s",
	    err);
	free(want);
	free(err);
	free(inner);
	free(private);
	pgembed_free(pg);
	check_rm(data);
}
END_TEST

START_TEST(test_db_open_not_started)
{
	struct conf	*conf = conf_new();
	char		*dir = check_tmpdir(), *err = NULL;

	ck_assert_int_eq(conf_set(conf, "core.data_dir", dir, "test", &err),
	    0);
	ck_assert_ptr_null(db_open(conf, DB_OPEN_NO_START, &err));
	ck_assert_msg(strstr(err, "embedded PostgreSQL cluster") != NULL &&
	    strstr(err, "'chiffon db start'") != NULL, "unexpected: %s", err);
	free(err);
	conf_free(conf);
	check_rm(dir);
}
END_TEST

/*
 * Run the chiffon binary of the build tree with args (and an empty
 * configuration file); *out gets stdout, *errout stderr.  Returns the
 * exit status.
 */
static int
check_chiffon(const char *const *args, const char *env, char **out,
    char **errout)
{
	const char		*build = getenv("CHIFFON_BUILDDIR");
	const char		*argv[32], *envv[3];
	char			*bin, *conf_dir = check_tmpdir(), *conf;
	struct testutil_out	 r;
	int			 i = 0, n = 0;

	bin = path_join(build != NULL ? build : ".", "src/chiffon");
	ck_assert_msg(access(bin, X_OK) == 0, "%s: %s", bin, strerror(errno));
	conf = path_join(conf_dir, "chiffon.conf");
	check_write(conf, "");
	argv[i++] = bin;
	argv[i++] = "--config";
	argv[i++] = conf;
	for (; *args != NULL && i < 31; args++)
		argv[i++] = *args;
	argv[i] = NULL;
	envv[n++] = "CHIFFON_DB_URL";
	if (env != NULL)
		envv[n++] = env;
	envv[n] = NULL;
	testutil_run(&r, argv, envv, NULL, 0);
	*out = r.out;
	*errout = r.err;
	free(bin);
	free(conf);
	check_rm(conf_dir);
	ck_assert_int_ge(r.status, 0);
	return r.status;
}

START_TEST(test_cmd_db)
{
	struct pgembed	*pg = check_pgembed();
	const char	*dir = pgtest_dir(testutil_cluster());
	char		*out, *err, *url, *ci, *e = NULL, *want, *bad;

	/* status of the running embedded cluster */
	ck_assert_int_eq(check_chiffon((const char *[]){ "--data-dir", dir,
	    "db", "status", NULL }, NULL, &out, &err), 0);
	ck_assert_msg(strstr(out, "state:     running (pid ") != NULL, "%s",
	    out);
	ck_assert_msg(strstr(out, pgembed_socket_dir(pg)) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "schema:    version ") != NULL, "%s", out);
	free(out);
	free(err);

	/* url: the URI of the socket, usable by libpq */
	ck_assert_int_eq(check_chiffon((const char *[]){ "--data-dir", dir,
	    "db", "url", NULL }, NULL, &out, &err), 0);
	url = pgembed_url(pg, PGEMBED_DBNAME);
	want = xasprintf("%s\n", url);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(PQping(url), PQPING_OK);
	free(want);
	free(url);
	free(out);
	free(err);

	/* start on a running cluster: nothing to do */
	ck_assert_int_eq(check_chiffon((const char *[]){ "--data-dir", dir,
	    "db", "start", NULL }, NULL, &out, &err), 0);
	ck_assert_msg(strncmp(out, "already running", 15) == 0, "%s", out);
	free(out);
	free(err);

	/* usage errors */
	ck_assert_int_eq(check_chiffon((const char *[]){ "db", NULL }, NULL,
	    &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "usage: chiffon db"));
	free(out);
	free(err);
	ck_assert_int_eq(check_chiffon((const char *[]){ "db", "bogus",
	    NULL }, NULL, &out, &err), 2);
	free(out);
	free(err);

	/* migrate through db.url: applies, then is up to date */
	ci = pgtest_new_db(testutil_cluster(), "cmddb", &e);
	ck_assert_msg(ci != NULL, "%s", e);
	ck_assert_int_eq(check_chiffon((const char *[]){ "--db-url", ci,
	    "db", "migrate", NULL }, NULL, &out, &err), 0);
	want = xasprintf("applied %zu migration(s), schema version %d\n",
	    migrate_nmigrations, migrate_latest());
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(err);
	ck_assert_int_eq(check_chiffon((const char *[]){ "--db-url", ci,
	    "db", "migrate", NULL }, NULL, &out, &err), 0);
	want = xasprintf("schema is up to date (version %d)\n",
	    migrate_latest());
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(err);

	/* start/stop with db.url: the embedded cluster is not in use */
	ck_assert_int_eq(check_chiffon((const char *[]){ "--db-url", ci,
	    "db", "stop", NULL }, NULL, &out, &err), 2);
	ck_assert_msg(strstr(err, "embedded cluster is not in use") != NULL,
	    "%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(PQping(pgtest_conninfo(testutil_cluster())), PQPING_OK);
	free(ci);

	/* an unreachable server is an environment failure (3) */
	bad = xasprintf("host=%s/nowhere dbname=x", dir);
	ck_assert_int_eq(check_chiffon((const char *[]){ "--db-url", bad,
	    "db", "status", NULL }, NULL, &out, &err), 3);
	ck_assert_msg(strstr(err, "cannot connect to PostgreSQL at") != NULL,
	    "%s", err);
	free(bad);
	free(out);
	free(err);
	pgembed_free(pg);
}
END_TEST

START_TEST(test_cmd_db_no_binaries)
{
	char	*data = check_tmpdir(), *empty = check_tmpdir(), *env;
	char	*out, *err;

	env = xasprintf("CHIFFON_PG_BINDIR=%s", empty);
	ck_assert_int_eq(check_chiffon((const char *[]){ "--data-dir", data,
	    "db", "start", NULL }, env, &out, &err), 3);
	ck_assert_msg(strstr(err, "PostgreSQL server binaries not found") !=
	    NULL, "%s", err);
	free(out);
	free(err);
	free(env);
	check_rm(data);
	check_rm(empty);
}
END_TEST

/* Root only: mount a small tmpfs on a fresh directory, or NULL. */
static char *
check_small_fs(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	dir = path_join(tmp, "chiffon-check-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return NULL;
	}
	if (mount("tmpfs", dir, "tmpfs", 0, "size=24m,mode=0755") != 0) {
		check_rm(dir);
		return NULL;
	}
	return dir;
}

START_TEST(test_disk_really_full)
{
	char		*dir, *data;
	struct pgembed	*pg;
	char		*err = NULL;

	/*
	 * A private mount namespace: the tmpfs goes away with this test's
	 * process, whatever happens.
	 */
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL),
	    0);
	dir = check_small_fs();
	ck_assert_ptr_nonnull(dir);
	data = path_join(dir, "chiffon");
	pg = pgembed_new(data, NULL);
	/* Let initdb run out of space for real on a 24 MiB filesystem. */
	pgembed_set_min_free(pg, 0);
	pgembed_set_fast(pg, 1);
	ck_assert_int_eq(pgembed_start(pg, NULL, &err), -1);
	ck_assert_msg(strstr(err, "is full (No space left on device)") != NULL,
	    "unexpected: %s", err);
	ck_assert_msg(strstr(err, "initdb exited with status") != NULL,
	    "unexpected: %s", err);
	/* The end of initdb's own output is shown. */
	ck_assert_msg(strstr(err, "FATAL:  could not ") != NULL,
	    "unexpected: %s", err);
	ck_assert_msg(strstr(err, "initdb: removing data directory") != NULL,
	    "unexpected: %s", err);
	free(err);
	pgembed_free(pg);
	free(data);
	ck_assert_int_eq(umount(dir), 0);
	check_rm(dir);
}
END_TEST

START_TEST(test_major_helper)
{
	char	*major = check_major();

	/* PG_VERSION of a cluster made by current binaries: "NN". */
	ck_assert_int_ge(atoi(major), 10);
	free(major);
}
END_TEST

static Suite *
check_pgembed_suite(void)
{
	Suite	*s = suite_create("pgembed");
	TCase	*tc;

	tc = tcase_create("cluster");
	tcase_add_unchecked_fixture(tc, testutil_cluster_need,
	    testutil_cluster_stop);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_select_one);
	tcase_add_test(tc, test_status_running);
	tcase_add_test(tc, test_major_helper);
	tcase_add_test(tc, test_restart_keeps_data);
	tcase_add_test(tc, test_stale_pid);
	tcase_add_test(tc, test_foreign_pid);
	tcase_add_test(tc, test_db_open_url);
	tcase_add_test(tc, test_db_open_embedded);
	tcase_add_test(tc, test_db_open_owner_url);
	tcase_add_test(tc, test_db_open_unreachable);
	tcase_add_test(tc, test_reconnect);
	tcase_add_test(tc, test_listen);
	tcase_add_test(tc, test_db_ensure);
	tcase_add_test(tc, test_new_db_names);
	tcase_add_test(tc, test_cmd_db);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_conninfo_url);
	tcase_add_test(tc, test_missing_binaries);
	tcase_add_test(tc, test_wrong_major);
	tcase_add_test(tc, test_disk_full);
	tcase_add_test(tc, test_bad_path);
	tcase_add_test(tc, test_db_open_not_started);
	tcase_add_test(tc, test_cmd_db_no_binaries);
	if (geteuid() == 0)
		tcase_add_test(tc, test_unreachable_dir);
	if (geteuid() == 0) {
		char *probe = check_small_fs();

		/* Containers may forbid mount(2): then this one cannot run. */
		if (probe != NULL) {
			umount(probe);
			check_rm(probe);
			tcase_add_test(tc, test_disk_really_full);
		} else
			fprintf(stderr, "check_pgembed: mount(2) not "
			    "permitted: test_disk_really_full not run\n");
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_pgembed_suite());
}
