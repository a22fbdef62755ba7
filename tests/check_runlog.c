/*
 * check_runlog.c - recording runs into a real throwaway PostgreSQL: lines
 * round-trip byte for byte and in order, events are stored with their
 * names, oversized events are truncated with a marker, the loop timer
 * flushes and notifies, and runlog_finish stores the outcome.
 */
#include "config.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "conf.h"
#include "db.h"
#include "loop.h"
#include "pgtest.h"
#include "outchunk.h"
#include "runlog.h"
#include "testutil.h"
#include "util.h"

/* One test's database: the chiffon connection and a plain one. */
struct check_env {
	struct conf	*conf;
	struct db	*db;
	PGconn		*pg;
};

static void
check_env_open(struct check_env *env, const char *name)
{
	char	*err = NULL, *conninfo;

	conninfo = pgtest_new_db(testutil_cluster(), name, &err);
	ck_assert_msg(conninfo != NULL, "pgtest_new_db: %s", err);
	env->conf = conf_new();
	ck_assert_msg(conf_set(env->conf, "db.url", conninfo, "test",
	    &err) == 0, "conf_set: %s", err);
	env->db = db_open(env->conf, DB_OPEN_NO_START, &err);
	ck_assert_msg(env->db != NULL, "db_open: %s", err);
	env->pg = PQconnectdb(conninfo);
	ck_assert_int_eq(PQstatus(env->pg), CONNECTION_OK);
	free(conninfo);
}

static void
check_env_close(struct check_env *env)
{
	PQfinish(env->pg);
	db_close(env->db);
	conf_free(env->conf);
}

/* One value of a one-parameter query (caller frees; NULL for SQL NULL). */
static char *
check_value(PGconn *pg, const char *sql, const char *param)
{
	PGresult	*res;
	char		*v = NULL;

	res = PQexecParams(pg, sql, param != NULL ? 1 : 0, NULL, &param,
	    NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(pg));
	ck_assert_msg(PQntuples(res) == 1, "%s: %d rows", sql,
	    PQntuples(res));
	if (!PQgetisnull(res, 0, 0))
		v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
check_value_is(PGconn *pg, const char *sql, const char *param,
    const char *want)
{
	char	*v = check_value(pg, sql, param);

	ck_assert_msg(v != NULL && strcmp(v, want) == 0,
	    "%s: got '%s', want '%s'", sql, v != NULL ? v : "NULL", want);
	free(v);
}

/* The test lines: tabs, backslashes, escapes, UTF-8, empty lines, CR. */
static char *
check_line(int i, size_t *lenp)
{
	static const char *const shapes[] = {
		"",
		"plain ASCII line %d",
		"\ttab\tseparated\t%d\t",
		"back\\slash \\N \\. \\\\ %d \\",
		"\\.",
		"ünïcødé ✓ 日本語 🚀 %d",
		"carriage\rreturn %d\r",
		"TASK [deploy : start container] ***** %d",
		"'quotes' \"double\" $dollar %%d %d",
		"   ",
	};
	char	*s;

	s = xasprintf(shapes[i % nitems(shapes)], i);
	*lenp = strlen(s);
	return s;
}

/* Subscriber: collect lines as "stream:text\n". */
static void
check_sub(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	struct strbuf	*sb = data;

	strbuf_addf(sb, "%d:", stream);
	strbuf_add(sb, line, len);
	strbuf_addc(sb, '\n');
}

START_TEST(test_lines_round_trip)
{
	struct check_env	 env;
	struct runlog		*rl;
	struct strbuf		 want = { 0 }, got = { 0 };
	PGresult		*res;
	const char		*params[1];
	char			*err = NULL, *line, *id;
	size_t			 len;
	int			 i;

	check_env_open(&env, "lines");
	rl = runlog_begin(env.db, NULL, NULL, "test", "{\"playbook\": "
	    "\"site.yml\"}", &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	runlog_subscribe(rl, check_sub, &got);
	for (i = 0; i < 1000; i++) {
		line = check_line(i, &len);
		ck_assert_int_eq(runlog_line(rl, 1 + i % 2, line, len), 0);
		strbuf_addf(&want, "%d:", 1 + i % 2);
		strbuf_add(&want, line, len);
		strbuf_addc(&want, '\n');
		free(line);
		if (i == 499)
			ck_assert_msg(runlog_flush(rl, &err) == 0,
			    "flush: %s", err);
	}
	/* Subscribers saw every line at once, before any flush. */
	ck_assert_str_eq(got.buf, want.buf);
	ck_assert_msg(runlog_finish(rl, "successful", 0, "{\"ok\": 1}", NULL,
	    &err) == 0, "finish: %s", err);

	params[0] = id;
	res = PQexecParams(env.pg, "SELECT seq, stream, line, at <= now(), "
	    "run_started_at = (SELECT started_at FROM runs WHERE id = $1) "
	    "FROM run_output WHERE run_id = $1 ORDER BY seq", 1, NULL,
	    params, NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_int_eq(PQntuples(res), 1000);
	strbuf_reset(&got);
	for (i = 0; i < PQntuples(res); i++) {
		ck_assert_int_eq(atoi(PQgetvalue(res, i, 0)), i + 1);
		ck_assert_str_eq(PQgetvalue(res, i, 3), "t");
		ck_assert_str_eq(PQgetvalue(res, i, 4), "t");
		strbuf_addf(&got, "%s:", PQgetvalue(res, i, 1));
		strbuf_add(&got, PQgetvalue(res, i, 2),
		    (size_t)PQgetlength(res, i, 2));
		strbuf_addc(&got, '\n');
	}
	PQclear(res);
	ck_assert_str_eq(got.buf, want.buf);
	check_value_is(env.pg, "SELECT lines FROM runs WHERE id = $1", id,
	    "1000");
	check_value_is(env.pg, "SELECT meta->>'playbook' FROM runs "
	    "WHERE id = $1", id, "site.yml");

	strbuf_free(&want);
	strbuf_free(&got);
	free(id);
	check_env_close(&env);
}
END_TEST

/*
 * The digest the writer takes as it numbers the lines (three chunks of
 * 10000, both streams, text made valid UTF-8) is the one the server takes
 * from the stored rows, and the runs row keeps it.
 */
START_TEST(test_writer_digest)
{
	struct check_env	 env;
	struct runlog		*rl;
	char			*err = NULL, *line, *id;
	size_t			 len;
	int			 i;

	check_env_open(&env, "writerdigest");
	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	for (i = 0; i < 25001; i++) {
		line = check_line(i, &len);
		ck_assert_int_eq(runlog_line(rl, 1 + i % 2, line, len), 0);
		free(line);
	}
	ck_assert_int_eq(runlog_line(rl, 1, "a\xff" "b\0c", 5), 0);
	ck_assert_msg(runlog_finish(rl, "successful", 0, NULL, NULL,
	    &err) == 0, "finish: %s", err);
	check_value_is(env.pg, "SELECT (output_sha256 = "
	    "chiffon_run_output_digest(id)) || ' ' || output_rows FROM runs "
	    "WHERE id = $1", id, "true 25002");
	/* Stored in chunks of consecutive lines, each at most 1,000. */
	check_value_is(env.pg, "SELECT (sum(n) = 25002 AND max(n) <= 1000 AND "
	    "count(*) < 100 AND bool_and(seq + n = next))::text FROM (SELECT "
	    "seq, n, coalesce(lead(seq) OVER (ORDER BY seq), seq + n) AS next "
	    "FROM run_output_chunks WHERE run_id = $1) c", id, "true");
	free(id);
	check_env_close(&env);
}
END_TEST

/* What is not a COPY of line rows is refused whole. */
START_TEST(test_outchunk_refuses)
{
	struct strbuf	 out = { 0 };
	static const char	 header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	char		 buf[64];

	ck_assert_int_eq(outchunk_copy("garbage", 7, &out), -1);
	memcpy(buf, header, 19);
	buf[19] = (char)0xff;
	buf[20] = (char)0xff;
	ck_assert_int_eq(outchunk_copy(buf, 21, &out), 0);
	ck_assert_uint_eq(out.len, 21);
	strbuf_reset(&out);
	/* A row of 6 fields cut short. */
	buf[19] = 0;
	buf[20] = 6;
	memset(buf + 21, 0, 4);
	ck_assert_int_eq(outchunk_copy(buf, 25, &out), -1);
	ck_assert_uint_eq(out.len, 0);
	strbuf_free(&out);
}
END_TEST

START_TEST(test_invalid_bytes)
{
	struct check_env	 env;
	struct runlog		*rl;
	char			*err = NULL, *id;
	static const char	 bad[] = "a\xff" "b\0c\xe2\x82 \xf0\x9f\x9a\x80"
				    " \xe0\x80\xaf \xc0\xaf";	/* overlong */

	check_env_open(&env, "bytes");
	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	ck_assert_int_eq(runlog_line(rl, 1, bad, sizeof bad - 1), 0);
	ck_assert_msg(runlog_finish(rl, "successful", 0, NULL, NULL,
	    &err) == 0, "finish: %s", err);
	/* Invalid UTF-8 and NUL become U+FFFD; valid sequences stay. */
	check_value_is(env.pg, "SELECT line FROM run_output WHERE "
	    "run_id = $1", id, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c"
	    "\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x9a\x80 "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
	    "\xef\xbf\xbd\xef\xbf\xbd");
	free(id);
	check_env_close(&env);
}
END_TEST

START_TEST(test_events)
{
	struct check_env	 env;
	struct runlog		*rl;
	char			*err = NULL, *id;
	static const char	*events[] = {
		"{\"event\": \"playbook_on_start\", \"uuid\": "
		    "\"0b5e4a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b\", \"counter\": 1}",
		"{\"event\": \"runner_on_ok\", \"counter\": 2, \"event_data\": "
		    "{\"host\": \"nas\", \"task\": \"start kuma\", "
		    "\"res\": {\"changed\": true, \"msg\": \"tab\\there \\\\ "
		    "\\u00e9\"}}}",
		"{\"event\": \"runner_on_failed\", \"host\": \"pve1\", "
		    "\"task\": \"fail\", \"uuid\": \"not-a-uuid\", "
		    "\"nul\": \"a\\u0000b\", "
		    "\"sur\": \"a\\udcffb\\ud83d\\ude80\"}",
		"this is { not json",
		"{\"event\": \"x\", \"n\": NaN}",
	};
	size_t			 i;

	check_env_open(&env, "events");
	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	for (i = 0; i < nitems(events); i++)
		ck_assert_int_eq(runlog_event(rl, events[i],
		    strlen(events[i])), 0);
	ck_assert_msg(runlog_finish(rl, "failed", 2, NULL, NULL, &err) == 0,
	    "finish: %s", err);

	check_value_is(env.pg, "SELECT string_agg(event, ',' ORDER BY seq) "
	    "FROM run_events WHERE run_id = $1", id, "playbook_on_start,"
	    "runner_on_ok,runner_on_failed,invalid,x");
	check_value_is(env.pg, "SELECT uuid FROM run_events WHERE "
	    "run_id = $1 AND seq = 1", id,
	    "0b5e4a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b");
	check_value_is(env.pg, "SELECT host || '/' || task || '/' || "
	    "(data->'event_data'->'res'->>'msg') FROM run_events "
	    "WHERE run_id = $1 AND seq = 2", id, "nas/start kuma/tab\there "
	    "\\ \xc3\xa9");
	check_value_is(env.pg, "SELECT host || '/' || task || '/' || "
	    "coalesce(uuid::text, 'no uuid') || '/' || (data->>'nul') "
	    "FROM run_events WHERE run_id = $1 AND seq = 3", id,
	    "pve1/fail/no uuid/a\xef\xbf\xbd" "b");
	check_value_is(env.pg, "SELECT data->>'sur' FROM run_events "
	    "WHERE run_id = $1 AND seq = 3", id,
	    "a\xef\xbf\xbd" "b\xf0\x9f\x9a\x80");
	check_value_is(env.pg, "SELECT data->>'_head' FROM run_events "
	    "WHERE run_id = $1 AND seq = 4", id, "this is { not json");
	/* NaN, which jsonb refuses, is stored as null. */
	check_value_is(env.pg, "SELECT jsonb_typeof(data->'n') FROM "
	    "run_events WHERE run_id = $1 AND seq = 5", id, "null");
	check_value_is(env.pg, "SELECT events FROM runs WHERE id = $1", id,
	    "5");
	free(id);
	check_env_close(&env);
}
END_TEST

START_TEST(test_event_truncated)
{
	struct check_env	 env;
	struct runlog		*rl;
	struct strbuf		 ev = { 0 };
	char			*err = NULL, *id, *want;
	size_t			 i;

	check_env_open(&env, "truncate");
	strbuf_adds(&ev, "{\"event\": \"runner_on_ok\", \"uuid\": "
	    "\"0b5e4a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b\", \"host\": \"nas\", "
	    "\"res\": {\"rc\": 0, \"stdout\": \"");
	for (i = 0; i < 800 * 1024 / 16; i++)
		strbuf_adds(&ev, "0123456789abcdef");
	strbuf_adds(&ev, "\"}}");
	ck_assert_uint_gt(ev.len, 800 * 1024);

	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	ck_assert_int_eq(runlog_event(rl, ev.buf, ev.len), 0);
	ck_assert_msg(runlog_finish(rl, "successful", 0, NULL, NULL,
	    &err) == 0, "finish: %s", err);

	check_value_is(env.pg, "SELECT octet_length(data::text) <= 700 * 1024 "
	    "FROM run_events WHERE run_id = $1", id, "t");
	/* The big member became a marker; the rest is intact. */
	want = xasprintf("runner_on_ok,nas,true,%zu,0,true,%d,"
	    "\"0123456789abcdef", ev.len, 800 * 1024 + 2);
	check_value_is(env.pg, "SELECT concat_ws(',', event, host, "
	    "data->>'_truncated', data->>'_original_bytes', "
	    "data->'res'->>'rc', data->'res'->'stdout'->>'_truncated', "
	    "data->'res'->'stdout'->>'_bytes', "
	    "left(data->'res'->'stdout'->>'_head', 17)) "
	    "FROM run_events WHERE run_id = $1", id, want);
	free(want);
	free(id);
	strbuf_free(&ev);
	check_env_close(&env);
}
END_TEST

/*
 * The marker of a truncated member keeps a head of whole UTF-8
 * characters: RUNLOG_HEAD_BYTES (1024) of '"' followed by two-byte
 * characters would end in the middle of one, so the head stops a byte
 * earlier (1023 bytes, no U+FFFD).
 */
START_TEST(test_event_truncated_utf8)
{
	struct check_env	 env;
	struct runlog		*rl;
	struct strbuf		 ev = { 0 };
	char			*err = NULL, *id;
	size_t			 i;

	check_env_open(&env, "truncutf8");
	strbuf_adds(&ev, "{\"event\": \"runner_on_ok\", \"host\": \"nas\", "
	    "\"res\": {\"stdout\": \"");
	for (i = 0; i < 400 * 1024; i++)
		strbuf_adds(&ev, "\xc3\xa9");		/* U+00E9 */
	strbuf_adds(&ev, "\"}}");
	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	ck_assert_int_eq(runlog_event(rl, ev.buf, ev.len), 0);
	ck_assert_msg(runlog_finish(rl, "successful", 0, NULL, NULL,
	    &err) == 0, "finish: %s", err);
	check_value_is(env.pg, "SELECT concat_ws(',',"
	    " data->'res'->'stdout'->>'_truncated',"
	    " octet_length(data->'res'->'stdout'->>'_head'),"
	    " strpos(data->'res'->'stdout'->>'_head', U&'\\FFFD'),"
	    " right(data->'res'->'stdout'->>'_head', 1) = U&'\\00E9')"
	    " FROM run_events WHERE run_id = $1", id, "true,1023,0,t");
	free(id);
	strbuf_free(&ev);
	check_env_close(&env);
}
END_TEST

/*
 * The bound with the flusher storing batches on its own connection
 * (no loop: only waiting for a batch moves it on): whenever
 * runlog_line returns, all but at most the last 1,000 lines are stored
 * (committed, seen from another session).
 */
START_TEST(test_bound_flusher)
{
	struct check_env	 env;
	struct runlog		*rl;
	char			*err = NULL, *id, *v;
	int			 i, bad = 0;

	check_env_open(&env, "bound");
	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	for (i = 1; i <= 5000; i++) {
		ck_assert_int_eq(runlog_line(rl, 1, "bounded", 7), 0);
		if (i % 250 != 0)
			continue;
		v = check_value(env.pg, "SELECT count(*) FROM run_output "
		    "WHERE run_id = $1", id);
		if (atoi(v) < i - 1000 && bad++ == 0)
			ck_assert_msg(0, "%d lines handed, %s stored", i, v);
		free(v);
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_msg(runlog_finish(rl, "successful", 0, NULL, NULL, &err) ==
	    0, "finish: %s", err);
	check_value_is(env.pg, "SELECT status || ',' || lines || ',' || "
	    "(SELECT count(*) FROM run_output o WHERE o.run_id = r.id) FROM "
	    "runs r WHERE id = $1", id, "successful,5000,5000");
	free(id);
	check_env_close(&env);
}
END_TEST

/*
 * A run closed by another process (its task taken over) while its rows
 * go through the flusher on a loop: the batch that meets the fence is
 * rolled back (none of it stored), later lines are dropped too, and
 * finish says why; what was stored before stays.
 */
START_TEST(test_fenced_flusher)
{
	struct check_env	 env;
	struct runlog		*rl;
	struct loop		*loop;
	char			*err = NULL, *id, *v;
	int			 i;

	check_env_open(&env, "fenced");
	loop = loop_new();
	rl = runlog_begin(env.db, loop, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(runlog_line(rl, 1, "before", 6), 0);
	ck_assert_msg(runlog_flush(rl, &err) == 0, "flush: %s", err);
	v = check_value(env.pg, "UPDATE runs SET status = 'interrupted', "
	    "finished_at = now() WHERE id = $1::bigint RETURNING status", id);
	free(v);
	/* 500 lines make a batch for the flusher; the loop takes it on. */
	for (i = 0; i < 1200; i++)
		runlog_line(rl, 1, "after", 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_ge(loop_run_once(loop, 20), 0);
	ck_assert_int_ne(runlog_finish(rl, "successful", 0, NULL, NULL,
	    &err), 0);
	ck_assert_msg(err != NULL && strstr(err, "closed by another "
	    "process") != NULL, "%s", err != NULL ? err : "no error");
	free(err);
	check_value_is(env.pg, "SELECT count(*) FROM run_output WHERE "
	    "run_id = $1::bigint", id, "100");
	check_value_is(env.pg, "SELECT count(*) FROM run_output WHERE "
	    "run_id = $1::bigint AND line = 'after'", id, "0");
	check_value_is(env.pg, "SELECT status FROM runs WHERE id = $1::bigint",
	    id, "interrupted");
	free(id);
	loop_free(loop);
	check_env_close(&env);
}
END_TEST

static int
check_stop(void *data)
{
	*(int *)data = 1;
	return 1;
}

START_TEST(test_timer_flush_notify_finish)
{
	struct check_env	 env;
	struct runlog		*rl;
	struct loop		*loop;
	struct chiffon_rusage	 usage = { 12.5, 3.25, 1.5, 65536 };
	PGnotify		*n;
	char			*err = NULL, *id, *v;
	int			 i, rounds, stop = 0, notified = 0;

	check_env_open(&env, "timer");
	PQclear(PQexec(env.pg, "LISTEN chiffon_run"));
	loop = loop_new();
	rl = runlog_begin(env.db, loop, NULL, "ansible-playbook", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	/* Its owner is this process: pid and start time (field 22). */
	{
		char			*stat, *p, want[64];
		unsigned long long	 start = 0;
		int			 k;

		stat = read_file("/proc/self/stat", NULL);
		ck_assert_ptr_nonnull(stat);
		p = strrchr(stat, ')') + 1;
		for (k = 3; k < 22; k++)
			p = strchr(p + 1, ' ');
		ck_assert_int_eq(sscanf(p, " %llu", &start), 1);
		snprintf(want, sizeof want, "%ld,%llu", (long)getpid(), start);
		check_value_is(env.pg, "SELECT owner_pid || ',' || owner_start "
		    "FROM runs WHERE id = $1", id, want);
		free(stat);
	}
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(runlog_line(rl, 1, "x", 1), 0);

	/* Nothing is stored until the loop has run the flush timer. */
	check_value_is(env.pg, "SELECT count(*) FROM run_output "
	    "WHERE run_id = $1", id, "0");
	loop_add_timer(loop, 300, check_stop, &stop, NULL, NULL);
	for (rounds = 0; !stop && rounds < 1000; rounds++)
		loop_run_once(loop, 1000);
	check_value_is(env.pg, "SELECT count(*) FROM run_output "
	    "WHERE run_id = $1", id, "10");

	/* Another session was told. */
	for (rounds = 0; !notified && rounds < 50; rounds++) {
		struct pollfd pfd = { PQsocket(env.pg), POLLIN, 0 };

		PQconsumeInput(env.pg);
		while ((n = PQnotifies(env.pg)) != NULL) {
			if (strcmp(n->relname, "chiffon_run") == 0 &&
			    strcmp(n->extra, id) == 0)
				notified = 1;
			PQfreemem(n);
		}
		if (!notified)
			poll(&pfd, 1, 100);
	}
	ck_assert_msg(notified, "no NOTIFY chiffon_run '%s'", id);

	ck_assert_msg(runlog_finish(rl, "timeout", -1, "{\"hosts\": {\"nas\": "
	    "{\"ok\": 3, \"failed\": 0}}}", &usage, &err) == 0, "finish: %s",
	    err);
	v = check_value(env.pg, "SELECT concat_ws(',', status, "
	    "coalesce(exit_code::text, 'null'), summary->'hosts'->'nas'->>'ok', "
	    "wall_s, user_s, sys_s, maxrss_kb, lines, finished_at >= "
	    "started_at, duration >= interval '0') FROM runs WHERE id = $1",
	    id);
	ck_assert_str_eq(v, "timeout,null,3,12.5,3.25,1.5,65536,10,t,t");
	free(v);
	/* A bad status is refused by the database and reported. */
	rl = runlog_begin(env.db, loop, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	ck_assert_int_eq(runlog_finish(rl, "exploded", 1, NULL, NULL, &err),
	    -1);
	ck_assert_msg(strstr(err, "storing status exploded") != NULL, "%s",
	    err);
	free(err);
	loop_free(loop);
	free(id);
	check_env_close(&env);
}
END_TEST

/*
 * Rows the database does not take go to the spool; a run that ends then
 * is 'incomplete', and becomes its status once the spool is drained.  A
 * lock held by another session makes the COPY fail for real (lock
 * timeout) while the runs row can still be written.
 */
START_TEST(test_spool_incomplete)
{
	struct check_env	 env;
	struct runlog		*rl;
	PGresult		*res;
	char			*err = NULL, *id, *dir, *path, *v;
	struct stat		 st;
	int			 i;

	check_env_open(&env, "spool");
	dir = testutil_tmpdir("spool");
	runlog_set_spool_dir(dir);
	rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
	ck_assert_msg(rl != NULL, "runlog_begin: %s", err);
	id = xstrdup(runlog_id(rl));
	/* On this connection and on the run's flusher connection. */
	res = PQexec(db_pg(env.db), "SET lock_timeout = '200ms'");
	PQclear(res);
	setenv("PGOPTIONS", "-c lock_timeout=200ms", 1);
	res = PQexec(env.pg, "BEGIN; LOCK TABLE run_output IN EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	for (i = 0; i < 2500; i++)
		runlog_line(rl, CHIFFON_STREAM_STDOUT, "spooled", 7);
	ck_assert_int_eq(runlog_flush(rl, &err), -1);
	ck_assert_msg(strstr(err, "spool") != NULL, "%s", err);
	free(err);
	err = NULL;
	path = xasprintf("%s/run-%s.spool", dir, id);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_gt(st.st_size, 2500 * 7);
	/* It ends while the rows wait: incomplete, not successful. */
	ck_assert_int_eq(runlog_finish(rl, "successful", 0, NULL, NULL, &err),
	    -1);
	ck_assert_msg(strstr(err, "not completely stored") != NULL, "%s", err);
	free(err);
	err = NULL;
	ck_assert_int_eq(runlog_npending(), 1);
	check_value_is(env.pg, "SELECT status || ',' || pending_status || ','"
	    " || lines FROM runs WHERE id = $1", id, "incomplete,successful,"
	    "2500");
	/* Nobody can call it complete while rows are missing. */
	v = xasprintf("UPDATE runs SET status = 'successful', pending_status "
	    "= NULL WHERE id = %s", id);
	res = PQexec(db_pg(env.db), v);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_msg(strstr(PQresultErrorMessage(res), "0 of 2500 lines") !=
	    NULL, "%s", PQresultErrorMessage(res));
	PQclear(res);
	free(v);
	/* The database takes rows again: drained, complete, spool gone. */
	unsetenv("PGOPTIONS");
	res = PQexec(env.pg, "COMMIT");
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(res));
	PQclear(res);
	ck_assert_msg(runlog_retry_pending(&err) == 0, "%s", err);
	ck_assert_int_eq(runlog_npending(), 0);
	check_value_is(env.pg, "SELECT status || ',' || coalesce("
	    "pending_status, '-') || ',' || (SELECT count(*) FROM run_output "
	    "o WHERE o.run_id = r.id) FROM runs r WHERE id = $1", id,
	    "successful,-,2500");
	ck_assert_int_eq(stat(path, &st), -1);
	runlog_set_spool_dir(NULL);
	testutil_rm(dir);
	free(dir);
	free(path);
	free(id);
	check_env_close(&env);
}
END_TEST

/*
 * The next start: a spool left by a process that is gone is stored, and
 * its run (left running) is closed as interrupted with the rows stored.
 */
START_TEST(test_recover_dead_run)
{
	struct check_env	 env;
	char			*err = NULL, *dir, *id = NULL, *sql;
	pid_t			 pid;
	int			 ws, n = -1, fds[2];

	check_env_open(&env, "recover");
	dir = testutil_tmpdir("recover");
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A process that records 1500 lines, spools them, dies. */
		struct runlog	*rl;
		PGresult	*r;
		int		 i;

		runlog_set_spool_dir(dir);
		rl = runlog_begin(env.db, NULL, NULL, "test", NULL, &err);
		if (rl == NULL)
			_exit(2);
		if (write(fds[1], runlog_id(rl), strlen(runlog_id(rl))) < 0)
			_exit(2);
		r = PQexec(db_pg(env.db), "SET lock_timeout = '200ms'");
		PQclear(r);
		setenv("PGOPTIONS", "-c lock_timeout=200ms", 1);
		r = PQexec(env.pg, "BEGIN; LOCK TABLE run_output IN "
		    "EXCLUSIVE MODE");
		PQclear(r);
		for (i = 0; i < 1500; i++)
			runlog_line(rl, CHIFFON_STREAM_STDOUT, "line", 4);
		runlog_flush(rl, &err);
		/* 200 more that are only in memory: lost with the process. */
		r = PQexec(env.pg, "COMMIT");
		PQclear(r);
		for (i = 0; i < 200; i++)
			runlog_line(rl, CHIFFON_STREAM_STDOUT, "lost", 4);
		kill(getpid(), SIGKILL);
	}
	close(fds[1]);
	{
		char	buf[32] = { 0 };

		ck_assert_int_gt(read(fds[0], buf, sizeof buf - 1), 0);
		id = xstrdup(buf);
	}
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert(WIFSIGNALED(ws));
	check_value_is(env.pg, "SELECT status FROM runs WHERE id = $1", id,
	    "running");
	runlog_set_spool_dir(dir);
	ck_assert_msg(runlog_recover(env.db, &n, &err) == 0, "%s", err);
	ck_assert_int_eq(n, 1);
	check_value_is(env.pg, "SELECT status || ',' || lines || ',' || "
	    "(SELECT count(*) FROM run_output o WHERE o.run_id = r.id) FROM "
	    "runs r WHERE id = $1", id, "interrupted,1500,1500");
	sql = xasprintf("%s/run-%s.spool", dir, id);
	ck_assert_int_eq(access(sql, F_OK), -1);
	free(sql);
	/* Again: nothing left to do. */
	ck_assert_int_eq(runlog_recover(env.db, &n, &err), 0);
	ck_assert_int_eq(n, 0);
	runlog_set_spool_dir(NULL);
	testutil_rm(dir);
	free(dir);
	free(id);
	check_env_close(&env);
}
END_TEST

static Suite *
check_suite(void)
{
	Suite	*s = suite_create("runlog");
	TCase	*tc = tcase_create("runlog");

	tcase_add_unchecked_fixture(tc, testutil_cluster_need,
	    testutil_cluster_stop);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_lines_round_trip);
	tcase_add_test(tc, test_invalid_bytes);
	tcase_add_test(tc, test_writer_digest);
	tcase_add_test(tc, test_outchunk_refuses);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_event_truncated);
	tcase_add_test(tc, test_event_truncated_utf8);
	tcase_add_test(tc, test_timer_flush_notify_finish);
	tcase_add_test(tc, test_bound_flusher);
	tcase_add_test(tc, test_fenced_flusher);
	tcase_add_test(tc, test_spool_incomplete);
	tcase_add_test(tc, test_recover_dead_run);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_suite());
}
