/*
 * runlog.c - record one run: output lines and structured events.
 *
 * Lines and events are handed to live subscribers at once and appended to
 * two buffers already in COPY format (each row: run id, sequence number,
 * the run's start time - the partition key, see chiffon-schema(7) -
 * stream, wall-clock time and the line).  Lines use COPY's binary format,
 * so the server parses no numbers or times (the heaviest part of its
 * work); events use the text format.  A buffer is written with
 * COPY ... FROM STDIN when it holds RUNLOG_FLUSH_LINES rows or
 * RUNLOG_FLUSH_BYTES bytes, by a 100 ms loop timer, and by runlog_finish;
 * after each write a NOTIFY chiffon_run '<run id>' tells other sessions.
 *
 * Text is stored as valid UTF-8: invalid bytes and NULs become U+FFFD (the
 * database refuses them otherwise).  An event whose JSON exceeds
 * RUNLOG_EVENT_MAX bytes is truncated: its largest members are replaced
 * with {"_truncated": true, "_bytes": N, "_head": "..."} until it fits,
 * and the event gets "_truncated": true and "_original_bytes": N.
 *
 * A failed write keeps the buffered rows and retries them at the next
 * flush; the first error is returned by runlog_finish.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "db.h"
#include "loop.h"
#include "runlog.h"
#include "util.h"

#define RUNLOG_FLUSH_LINES	10000
#define RUNLOG_FLUSH_BYTES	(1024 * 1024)
#define RUNLOG_FLUSH_MS		100
#define RUNLOG_RETRY_MS		1000
#define RUNLOG_EVENT_MAX	(700 * 1024)
#define RUNLOG_HEAD_BYTES	1024

/* One live subscriber. */
struct runlog_sub {
	runlog_sub_fn	 fn;
	void		*data;
};

/* One run being recorded. */
struct runlog {
	struct db		*db;
	struct loop		*loop;
	int			 timer;		/* loop timer id, 0 if none */

	char			*id;		/* runs.id, decimal */
	char			*prefix;	/* "<id>\t" */
	char			*started;	/* "\t<run_started_at>\t" */
	int64_t			 id_num;	/* runs.id */
	int64_t			 started_us;	/* run_started_at, us since
						   2000-01-01 UTC */

	uint64_t		 line_seq;	/* last line number used */
	uint64_t		 event_seq;	/* last event number used */

	struct strbuf		 lines;		/* binary COPY rows for
						   run_output */
	size_t			 nlines;
	int			 lines_ended;	/* trailer appended (a retry
						   is pending) */
	struct strbuf		 events;	/* COPY rows for run_events */
	size_t			 nevents;

	struct runlog_sub	*subs;
	size_t			 nsubs;

	uint64_t		 retry_at;	/* no automatic flush before */
	char			*error;		/* first write error */

	time_t			 clock_sec;	/* second the cache is for */
	char			 clock_buf[32];	/* "YYYY-MM-DD HH:MM:SS." */
};

/*
 * Byte classes for the COPY text escaper: 0 plain, 1 needs a backslash
 * escape, 2 NUL, 3 start of a non-ASCII UTF-8 sequence.
 */
static const unsigned char runlog_class[256] = {
	[0] = 2,
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\\'] = 1,
	[0x80 ... 0xff] = 3,		/* GNU C range designator */
};

/*
 * Length of the valid UTF-8 sequence at p (at most n bytes available), or
 * 0 if the bytes there are not valid UTF-8.
 */
static size_t
runlog_utf8_len(const unsigned char *p, size_t n)
{
	size_t	len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	if (len == 3) {
		if (p[0] == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (p[0] == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
	}
	if (len == 4) {
		if (p[0] == 0xf0 && p[1] < 0x90)
			return 0;	/* overlong */
		if (p[0] == 0xf4 && p[1] >= 0x90)
			return 0;	/* above U+10FFFF */
	}
	return len;
}

/* Append s[0..n) as one COPY text field, as valid UTF-8. */
static void
runlog_escape(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, start, len;
	char			*out;

	strbuf_grow(sb, n + 16);
	while (i < n) {
		start = i;
		while (i < n && runlog_class[p[i]] == 0)
			i++;
		if (i > start) {
			strbuf_grow(sb, i - start);
			out = sb->buf + sb->len;
			memcpy(out, p + start, i - start);
			sb->len += i - start;
		}
		if (i == n)
			break;
		switch (runlog_class[p[i]]) {
		case 1:
			strbuf_grow(sb, 2);
			sb->buf[sb->len++] = '\\';
			sb->buf[sb->len++] = p[i] == '\\' ? '\\' :
			    p[i] == '\t' ? 't' : p[i] == '\n' ? 'n' : 'r';
			i++;
			break;
		case 2:
			strbuf_add(sb, "\xef\xbf\xbd", 3);
			i++;
			break;
		default:
			if ((len = runlog_utf8_len(p + i, n - i)) == 0) {
				strbuf_add(sb, "\xef\xbf\xbd", 3);
				i++;
			} else {
				strbuf_add(sb, p + i, len);
				i += len;
			}
			break;
		}
	}
	sb->buf[sb->len] = '\0';
}

/* Append s[0..n) as valid UTF-8 without escaping (binary COPY). */
static void
runlog_add_utf8(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, start, len;

	strbuf_grow(sb, n);
	while (i < n) {
		start = i;
		while (i < n && p[i] != 0 && p[i] < 0x80)
			i++;
		if (i > start) {
			memcpy(sb->buf + sb->len, p + start, i - start);
			sb->len += i - start;
		}
		if (i == n)
			break;
		if (p[i] != 0 && (len = runlog_utf8_len(p + i, n - i)) != 0) {
			strbuf_add(sb, p + i, len);
			i += len;
		} else {
			strbuf_add(sb, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	sb->buf[sb->len] = '\0';
}

/* Append big-endian integers (binary COPY). */
static void
runlog_add_be(struct strbuf *sb, uint64_t v, int bytes)
{
	unsigned char	b[8];
	int		i;

	for (i = bytes - 1; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	strbuf_add(sb, b, (size_t)bytes);
}

/* Overwrite 4 bytes at offset at with v, big-endian. */
static void
runlog_add_be_at(struct strbuf *sb, size_t at, size_t v)
{
	unsigned char	*b = (unsigned char *)sb->buf + at;

	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

/* Append one int8 / timestamptz field (length 8, then the value). */
static void
runlog_add_field8(struct strbuf *sb, int64_t v)
{
	runlog_add_be(sb, 8, 4);
	runlog_add_be(sb, (uint64_t)v, 8);
}

/* Now, in microseconds since 2000-01-01 00:00 UTC (PostgreSQL's epoch). */
static int64_t
runlog_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec - 946684800) * 1000000 +
	    ts.tv_nsec / 1000;
}

/* Append a decimal number. */
static void
runlog_add_u64(struct strbuf *sb, uint64_t v)
{
	char	tmp[24];
	int	n = 0;

	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	strbuf_add(sb, tmp + sizeof tmp - n, (size_t)n);
}

/* Append the wall-clock time now, in UTC, as a timestamptz literal. */
static void
runlog_add_now(struct runlog *rl, struct strbuf *sb)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 frac[16];
	long		 us;
	int		 i;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != rl->clock_sec || rl->clock_buf[0] == '\0') {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(rl->clock_buf, sizeof rl->clock_buf,
		    "%Y-%m-%d %H:%M:%S.", &tm);
		rl->clock_sec = ts.tv_sec;
	}
	strbuf_adds(sb, rl->clock_buf);
	us = ts.tv_nsec / 1000;
	for (i = 5; i >= 0; i--) {
		frac[i] = (char)('0' + us % 10);
		us /= 10;
	}
	memcpy(frac + 6, "+00", 3);
	strbuf_add(sb, frac, 9);
}

/*
 * Send one COPY.  0, or -1 with *errp when the rows should be retried
 * later (connection trouble), or -2 with *errp when retrying cannot help:
 * the server refused the data itself (SQLSTATE class 22), or the rows are
 * already there (class 23: a retry after a commit whose reply was lost).
 */
static int
runlog_copy(PGconn *pg, const char *sql, const struct strbuf *sb,
    char **errp)
{
	PGresult	*res;
	const char	*state;
	int		 rc = 0;

	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		set_error(errp, "%s", PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (PQputCopyData(pg, sb->buf, (int)sb->len) != 1) {
		PQputCopyEnd(pg, "chiffon: sending failed");
		rc = set_error(errp, "%s", PQerrorMessage(pg));
	} else if (PQputCopyEnd(pg, NULL) != 1)
		rc = set_error(errp, "%s", PQerrorMessage(pg));
	while ((res = PQgetResult(pg)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = set_error(errp, "%s", PQresultErrorMessage(res));
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			if (state != NULL && (strncmp(state, "22", 2) == 0 ||
			    strncmp(state, "23", 2) == 0))
				rc = -2;
		}
		PQclear(res);
	}
	return rc;
}

static int
runlog_notify(struct runlog *rl, PGconn *pg, char **errp)
{
	PGresult	*res;
	const char	*params[1] = { rl->id };

	res = PQexecParams(pg, "SELECT pg_notify('chiffon_run', $1)", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "notifying chiffon_run: %s",
		    PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Remember the first error of a flush nobody waits for. */
static void
runlog_keep_error(struct runlog *rl, char *error)
{
	if (rl->error == NULL)
		rl->error = error;
	else
		free(error);
	rl->retry_at = now_ms() + RUNLOG_RETRY_MS;
}

/*
 * COPY one buffer.  On success or on a refusal retrying cannot fix, the
 * buffer is emptied; otherwise it is kept for the next flush.
 */
static int
runlog_flush_one(struct runlog *rl, PGconn *pg, const char *what,
    const char *sql, struct strbuf *sb, size_t *nrows, char **errp)
{
	char	*error = NULL;
	int	 rc;

	if (*nrows == 0)
		return 0;
	rc = runlog_copy(pg, sql, sb, &error);
	if (rc != -1) {
		if (rc == -2)
			set_error(errp, "run %s: %zu %s refused by the "
			    "database and dropped: %s", rl->id, *nrows, what,
			    error);
		strbuf_reset(sb);
		*nrows = 0;
	} else
		set_error(errp, "run %s: storing %zu %s (kept for a retry): "
		    "%s", rl->id, *nrows, what, error);
	free(error);
	return rc == 0 ? 0 : -1;
}

int
runlog_flush(struct runlog *rl, char **errp)
{
	PGconn	*pg = db_pg(rl->db);

	if (rl->nlines == 0 && rl->nevents == 0)
		return 0;
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK)
		return set_error(errp, "run %s: not connected to the database "
		    "(kept %zu lines, %zu events for a retry)", rl->id,
		    rl->nlines, rl->nevents);
	if (rl->nlines > 0 && !rl->lines_ended) {
		runlog_add_be(&rl->lines, 0xffff, 2);	/* binary trailer */
		rl->lines_ended = 1;
	}
	if (runlog_flush_one(rl, pg, "output lines", "COPY run_output "
	    "(run_id, seq, run_started_at, stream, at, line) FROM STDIN "
	    "(FORMAT binary)", &rl->lines, &rl->nlines, errp) != 0)
		return -1;
	rl->lines_ended = 0;
	if (runlog_flush_one(rl, pg, "events", "COPY run_events (run_id, "
	    "seq, run_started_at, at, event, uuid, host, task, data) "
	    "FROM STDIN", &rl->events, &rl->nevents, errp) != 0)
		return -1;
	rl->retry_at = 0;
	free(rl->error);	/* everything kept is stored now */
	rl->error = NULL;
	return runlog_notify(rl, pg, errp);
}

/* Flush from the loop timer or a full buffer; errors are kept. */
static void
runlog_flush_quietly(struct runlog *rl)
{
	char	*error = NULL;

	if (rl->retry_at != 0 && now_ms() < rl->retry_at)
		return;
	if (runlog_flush(rl, &error) != 0)
		runlog_keep_error(rl, error);
}

static int
runlog_timer(void *data)
{
	runlog_flush_quietly(data);
	return 0;
}

struct runlog *
runlog_begin(struct db *db, struct loop *loop, const char *task_id,
    const char *kind, const char *meta_json, char **errp)
{
	struct runlog	*rl;
	PGconn		*pg = db_pg(db);
	PGresult	*res;
	const char	*params[3] = { task_id, kind, meta_json };

	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		set_error(errp, "starting a run: not connected to the "
		    "database");
		return NULL;
	}
	if (PQclientEncoding(pg) != pg_char_to_encoding("UTF8") &&
	    PQsetClientEncoding(pg, "UTF8") != 0) {
		set_error(errp, "starting a run: cannot set client encoding "
		    "UTF8: %s", PQerrorMessage(pg));
		return NULL;
	}
	res = PQexecParams(pg, "INSERT INTO runs (task_id, kind, meta) "
	    "VALUES ($1::bigint, $2, coalesce($3::jsonb, '{}')) "
	    "RETURNING id, to_char(started_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD HH24:MI:SS.US') || '+00', "
	    "(extract(epoch FROM started_at) * 1000000)::bigint "
	    "- 946684800000000", 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		set_error(errp, "starting a run (kind %s, task %s): %s", kind,
		    task_id != NULL ? task_id : "none",
		    PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	rl = xcalloc(1, sizeof *rl);
	rl->db = db;
	rl->loop = loop;
	rl->id = xstrdup(PQgetvalue(res, 0, 0));
	rl->prefix = xasprintf("%s\t", rl->id);
	rl->started = xasprintf("\t%s\t", PQgetvalue(res, 0, 1));
	rl->id_num = strtoll(rl->id, NULL, 10);
	rl->started_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	if (loop != NULL) {
		rl->timer = loop_add_timer(loop, RUNLOG_FLUSH_MS, runlog_timer,
		    rl, NULL, rl);
		if (rl->timer < 0)
			rl->timer = 0;
	}
	return rl;
}

const char *
runlog_id(struct runlog *rl)
{
	return rl->id;
}

void
runlog_subscribe(struct runlog *rl, runlog_sub_fn fn, void *data)
{
	rl->subs = xreallocarray(rl->subs, rl->nsubs + 1, sizeof *rl->subs);
	rl->subs[rl->nsubs].fn = fn;
	rl->subs[rl->nsubs].data = data;
	rl->nsubs++;
}

/* Flush now if a buffer is full. */
static int
runlog_maybe_flush(struct runlog *rl)
{
	if (rl->nlines + rl->nevents < RUNLOG_FLUSH_LINES &&
	    rl->lines.len + rl->events.len < RUNLOG_FLUSH_BYTES)
		return 0;
	runlog_flush_quietly(rl);
	return rl->error != NULL ? -1 : 0;
}

int
runlog_line(struct runlog *rl, int stream, const char *line, size_t len)
{
	struct strbuf	*sb = &rl->lines;
	size_t		 i, at;

	for (i = 0; i < rl->nsubs; i++)
		rl->subs[i].fn(rl, stream, line, len, rl->subs[i].data);

	if (rl->lines_ended) {	/* a failed flush left the trailer: drop it */
		sb->len -= 2;
		rl->lines_ended = 0;
	}
	if (sb->len == 0)	/* binary COPY header: signature, flags, ext */
		strbuf_add(sb, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
	strbuf_grow(sb, 58 + len);
	runlog_add_be(sb, 6, 2);			/* fields */
	runlog_add_field8(sb, rl->id_num);		/* run_id */
	runlog_add_field8(sb, (int64_t)++rl->line_seq);	/* seq */
	runlog_add_field8(sb, rl->started_us);		/* run_started_at */
	runlog_add_be(sb, 2, 4);			/* stream */
	runlog_add_be(sb, (uint64_t)(stream > 0 && stream < 10 ? stream :
	    CHIFFON_STREAM_HOST), 2);
	runlog_add_field8(sb, runlog_now_us());		/* at */
	at = sb->len;					/* line */
	runlog_add_be(sb, 0, 4);
	runlog_add_utf8(sb, line, len);
	runlog_add_be_at(sb, at, sb->len - at - 4);
	rl->nlines++;
	return runlog_maybe_flush(rl);
}

/* Append a text field or \N (SQL NULL) for NULL. */
static void
runlog_add_field(struct strbuf *sb, const char *s)
{
	if (s == NULL)
		strbuf_add(sb, "\\N", 2);
	else
		runlog_escape(sb, s, strlen(s));
}

/* A string member of obj (or of obj.event_data), else NULL. */
static const char *
runlog_json_str(struct json_object *obj, const char *key)
{
	struct json_object	*v, *ed;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (json_object_object_get_ex(obj, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_object_get_ex(obj, "event_data", &ed) &&
	    json_object_is_type(ed, json_type_object) &&
	    json_object_object_get_ex(ed, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* Non-zero if s is a UUID in its canonical 8-4-4-4-12 text form. */
static int
runlog_is_uuid(const char *s)
{
	int	i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return 1;
}

static size_t
runlog_json_len(struct json_object *obj)
{
	size_t	len;

	json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	return len;
}

/* The marker replacing a member too large to keep. */
static struct json_object *
runlog_marker(struct json_object *v, size_t len)
{
	struct json_object	*m = json_object_new_object();
	const char		*text;
	size_t			 head = RUNLOG_HEAD_BYTES;

	text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	if (head > len)
		head = len;
	while (head > 0 && head < len &&
	    ((unsigned char)text[head] & 0xc0) == 0x80)
		head--;		/* do not split a UTF-8 sequence */
	json_object_object_add(m, "_truncated", json_object_new_boolean(1));
	json_object_object_add(m, "_bytes", json_object_new_int64(
	    (int64_t)len));
	json_object_object_add(m, "_head", json_object_new_string_len(text,
	    (int)head));
	return m;
}

/*
 * Remove at least need bytes from obj's serialisation by replacing its
 * largest members with markers, descending into a large object member
 * when that alone can give enough.  Returns the bytes removed.
 */
static size_t
runlog_shrink(struct json_object *obj, size_t need, int depth)
{
	struct json_object	*big, *m;
	const char		*bigkey;
	size_t			 removed = 0, len, biglen, mlen, got;

	while (removed < need) {
		big = NULL;
		bigkey = NULL;
		biglen = 0;
		json_object_object_foreach(obj, key, val) {
			if (val == NULL || strncmp(key, "_truncated", 10) == 0)
				continue;
			if (json_object_is_type(val, json_type_object) &&
			    json_object_object_get_ex(val, "_truncated",
			    NULL))
				continue;	/* already a marker */
			len = runlog_json_len(val);
			if (len > biglen) {
				big = val;
				bigkey = key;
				biglen = len;
			}
		}
		if (big == NULL || biglen <= 2 * RUNLOG_HEAD_BYTES)
			break;
		if (depth < 4 && json_object_is_type(big, json_type_object) &&
		    biglen > need - removed + 2 * RUNLOG_HEAD_BYTES) {
			got = runlog_shrink(big, need - removed, depth + 1);
			removed += got;
			if (got > 0)
				continue;
		}
		m = runlog_marker(big, biglen);
		mlen = runlog_json_len(m);
		removed += biglen > mlen ? biglen - mlen : 0;
		json_object_object_add(obj, bigkey, m);
	}
	return removed;
}

/*
 * Bound an event to RUNLOG_EVENT_MAX bytes.  Returns the JSON text to
 * store (caller frees).
 */
static char *
runlog_bound_event(struct json_object *obj, const char *json, size_t len)
{
	struct json_object	*small, *v;
	const char		*keep[] = { "event", "uuid", "counter", "host",
				    "task", "play", "action" };
	const char		*text;
	size_t			 i, cur;
	char			*out;

	cur = runlog_json_len(obj);
	if (cur <= RUNLOG_EVENT_MAX)	/* fixed numbers, or whitespace */
		return xstrdup(json_object_to_json_string_ext(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (json_object_is_type(obj, json_type_object)) {
		runlog_shrink(obj, cur - RUNLOG_EVENT_MAX + 256, 0);
		json_object_object_add(obj, "_truncated",
		    json_object_new_boolean(1));
		json_object_object_add(obj, "_original_bytes",
		    json_object_new_int64((int64_t)len));
		text = json_object_to_json_string_ext(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if ((cur = strlen(text)) <= RUNLOG_EVENT_MAX)
			return xstrndup(text, cur);
	}

	/* Not an object, or too many small members: keep the essentials. */
	small = json_object_new_object();
	for (i = 0; i < nitems(keep); i++) {
		if (json_object_is_type(obj, json_type_object) &&
		    json_object_object_get_ex(obj, keep[i], &v) &&
		    runlog_json_len(v) < RUNLOG_HEAD_BYTES)
			json_object_object_add(small, keep[i],
			    json_object_get(v));
	}
	json_object_object_add(small, "_truncated",
	    json_object_new_boolean(1));
	json_object_object_add(small, "_original_bytes",
	    json_object_new_int64((int64_t)len));
	cur = len < 64 * 1024 ? len : 64 * 1024;
	while (cur > 0 && cur < len && ((unsigned char)json[cur] & 0xc0) == 0x80)
		cur--;
	json_object_object_add(small, "_head", json_object_new_string_len(
	    json, (int)cur));
	out = xstrdup(json_object_to_json_string_ext(small,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(small);
	return out;
}

/* The value of 4 hex digits at p, or -1. */
static long
runlog_hex4(const char *p)
{
	long	v = 0;
	int	i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Append a JSON text as a COPY field for jsonb.  Escapes jsonb refuses
 * become "\ufffd": "\u0000", and UTF-16 surrogates that are not a proper
 * high-low pair (Python writes those for undecodable bytes).
 */
static void
runlog_add_json(struct strbuf *sb, const char *json, size_t len)
{
	const char	*p = json, *end = json + len, *q;
	long		 v, w;
	int		 bad;

	for (q = p; q < end; q++) {
		if (*q != '\\' || q + 1 >= end)
			continue;
		if (q[1] != 'u' || end - q < 6 || (v = runlog_hex4(q + 2)) < 0) {
			q++;	/* skip the escaped character */
			continue;
		}
		bad = v == 0 || (v >= 0xdc00 && v <= 0xdfff);
		if (v >= 0xd800 && v <= 0xdbff) {
			if (end - q >= 12 && q[6] == '\\' && q[7] == 'u' &&
			    (w = runlog_hex4(q + 8)) >= 0xdc00 && w <= 0xdfff) {
				q += 11;	/* a proper pair */
				continue;
			}
			bad = 1;
		}
		if (bad) {
			runlog_escape(sb, p, (size_t)(q - p));
			strbuf_add(sb, "\\\\ufffd", 7);
			p = q + 6;
		}
		q += 5;
	}
	runlog_escape(sb, p, (size_t)(end - p));
}

/*
 * Replace NaN and infinite numbers (json-c accepts them; JSON and jsonb do
 * not) with null.  Returns how many were replaced.
 */
static int
runlog_json_finite(struct json_object *obj)
{
	struct json_object	*v;
	double			 d;
	size_t			 i, n;
	int			 fixed = 0;

	if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val) {
			if (json_object_is_type(val, json_type_double)) {
				d = json_object_get_double(val);
				if (d != d || d - d != 0) {
					json_object_object_add(obj, key, NULL);
					fixed++;
				}
			} else if (val != NULL)
				fixed += runlog_json_finite(val);
		}
	} else if (json_object_is_type(obj, json_type_array)) {
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(obj, i);
			if (json_object_is_type(v, json_type_double)) {
				d = json_object_get_double(v);
				if (d != d || d - d != 0) {
					json_object_array_put_idx(obj, i, NULL);
					fixed++;
				}
			} else if (v != NULL)
				fixed += runlog_json_finite(v);
		}
	}
	return fixed;
}

int
runlog_event(struct runlog *rl, const char *json, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*obj;
	struct strbuf		*sb = &rl->events;
	const char		*event, *uuid;
	char			*bounded = NULL, *invalid = NULL;
	struct json_object	*wrap;

	/* Strict: no NaN or other extensions jsonb would refuse. */
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	if (obj != NULL && json_tokener_get_parse_end(tok) < len) {
		/* Trailing bytes: only whitespace is allowed. */
		size_t	i;

		for (i = json_tokener_get_parse_end(tok); i < len; i++) {
			if (strchr(" \t\r\n", json[i]) == NULL) {
				json_object_put(obj);
				obj = NULL;
				break;
			}
		}
	}
	json_tokener_free(tok);

	if (obj == NULL) {
		size_t	head = len < 64 * 1024 ? len : 64 * 1024;

		wrap = json_object_new_object();
		json_object_object_add(wrap, "_invalid_json",
		    json_object_new_boolean(1));
		json_object_object_add(wrap, "_bytes",
		    json_object_new_int64((int64_t)len));
		json_object_object_add(wrap, "_head",
		    json_object_new_string_len(json, (int)head));
		invalid = xstrdup(json_object_to_json_string_ext(wrap,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(wrap);
		event = "invalid";
		uuid = NULL;
	} else {
		event = runlog_json_str(obj, "event");
		if (event == NULL)
			event = "unknown";
		uuid = runlog_json_str(obj, "uuid");
		if (!runlog_is_uuid(uuid))
			uuid = NULL;
	}

	strbuf_adds(sb, rl->prefix);
	runlog_add_u64(sb, ++rl->event_seq);
	strbuf_adds(sb, rl->started);
	runlog_add_now(rl, sb);
	strbuf_addc(sb, '\t');
	runlog_add_field(sb, event);
	strbuf_addc(sb, '\t');
	runlog_add_field(sb, uuid);
	strbuf_addc(sb, '\t');
	runlog_add_field(sb, runlog_json_str(obj, "host"));
	strbuf_addc(sb, '\t');
	runlog_add_field(sb, runlog_json_str(obj, "task"));
	strbuf_addc(sb, '\t');
	if (invalid != NULL)
		runlog_add_json(sb, invalid, strlen(invalid));
	else if (len > RUNLOG_EVENT_MAX || runlog_json_finite(obj) > 0) {
		bounded = runlog_bound_event(obj, json, len);
		runlog_add_json(sb, bounded, strlen(bounded));
	} else
		runlog_add_json(sb, json, len);
	strbuf_addc(sb, '\n');
	rl->nevents++;

	free(bounded);
	free(invalid);
	if (obj != NULL)
		json_object_put(obj);
	return runlog_maybe_flush(rl);
}

static void
runlog_free(struct runlog *rl)
{
	if (rl->timer != 0)
		loop_remove(rl->loop, rl->timer);
	strbuf_free(&rl->lines);
	strbuf_free(&rl->events);
	free(rl->subs);
	free(rl->error);
	free(rl->id);
	free(rl->prefix);
	free(rl->started);
	free(rl);
}

int
runlog_finish(struct runlog *rl, const char *status, int exit_code,
    const char *summary_json, const struct chiffon_rusage *usage,
    char **errp)
{
	PGconn		*pg = db_pg(rl->db);
	PGresult	*res;
	char		 code[16], wall[32], user[32], sys[32], rss[32];
	char		 lines[24], events[24];
	const char	*params[11];
	char		*error = NULL;
	int		 rc = 0;

	if (rl->timer != 0) {
		loop_remove(rl->loop, rl->timer);
		rl->timer = 0;
	}
	/* Store the status even when the last rows could not be stored. */
	if (runlog_flush(rl, &error) != 0)
		rc = -1;

	snprintf(code, sizeof code, "%d", exit_code);
	snprintf(lines, sizeof lines, "%llu",
	    (unsigned long long)rl->line_seq);
	snprintf(events, sizeof events, "%llu",
	    (unsigned long long)rl->event_seq);
	params[0] = rl->id;
	params[1] = status;
	params[2] = exit_code >= 0 ? code : NULL;
	params[3] = summary_json;
	if (usage != NULL) {
		snprintf(wall, sizeof wall, "%.6f", usage->wall_s);
		snprintf(user, sizeof user, "%.6f", usage->user_s);
		snprintf(sys, sizeof sys, "%.6f", usage->sys_s);
		snprintf(rss, sizeof rss, "%ld", usage->maxrss_kb);
		params[4] = wall;
		params[5] = user;
		params[6] = sys;
		params[7] = rss;
	} else
		params[4] = params[5] = params[6] = params[7] = NULL;
	params[8] = lines;
	params[9] = events;
	res = PQexecParams(pg, "UPDATE runs SET status = $2, "
	    "exit_code = $3::integer, finished_at = clock_timestamp(), "
	    "duration = clock_timestamp() - started_at, "
	    "summary = $4::jsonb, wall_s = $5::float8, user_s = $6::float8, "
	    "sys_s = $7::float8, maxrss_kb = $8::bigint, "
	    "lines = $9::bigint, events = $10::bigint "
	    "WHERE id = $1::bigint", 10, NULL, params, NULL, NULL, 0);
	if (error == NULL && PQresultStatus(res) != PGRES_COMMAND_OK)
		set_error(&error, "run %s: storing status %s: %s", rl->id,
		    status, PQresultErrorMessage(res));
	else if (error == NULL && strcmp(PQcmdTuples(res), "1") != 0)
		set_error(&error, "run %s: the runs row is missing or "
		    "already finished", rl->id);
	PQclear(res);
	if (error == NULL)
		runlog_notify(rl, pg, &error);
	runlog_free(rl);
	if (error != NULL) {
		if (errp != NULL)
			*errp = error;
		else
			free(error);
		return -1;
	}
	return rc;
}
