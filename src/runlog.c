/*
 * runlog.c - record one run: output lines and structured events.
 *
 * Lines and events are handed to live subscribers at once and appended to
 * two buffers already in COPY format (each row: run id, sequence number,
 * the run's start time - the partition key, see chiffon-schema(7) -
 * stream, wall-clock time and the line).  Lines use COPY's binary format,
 * so the server parses no numbers or times (the heaviest part of its
 * work); events use the text format.  A buffer is written with
 * COPY ... FROM STDIN (in one transaction that first locks and checks the
 * runs row: the fence), by a 100 ms loop timer, by runlog_finish and when
 * it is full; after each write a NOTIFY chiffon_run '<run id>' tells
 * other sessions.
 *
 * The flusher.  A buffer of RUNLOG_BATCH_LINES rows or RUNLOG_BATCH_BYTES
 * bytes (half the bound) is handed to the run's flusher: a connection of
 * its own (db_connect_more, made by its first batch), non-blocking and
 * watched on the loop, on which the batch goes through the steps of
 * runlog_store (BEGIN, the fence, the COPYs, COMMIT, then the NOTIFY),
 * each sent when the one before answered, while the loop reads and
 * buffers the next lines; no step ever waits on the loop.  The next
 * hand-off, the timer, runlog_flush and runlog_finish first wait for
 * that batch (runlog_collect: poll on its socket, nothing else runs).
 * So a line is stored at most 1,000 lines or 100 ms after it came, as
 * before, while the database's work overlaps with the loop's.  The
 * flusher only stores the plain case: while a spool waits to be drained,
 * an error is being retried, the run is fenced or the loop's connection
 * is down, batches are stored (or spooled) by the loop as before, and a
 * batch the flusher could not store comes back to the loop
 * (runlog_collect), which spools it, keeps it, or drops it (fenced,
 * refused) exactly as a failed flush of its own.
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

#include <sys/file.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <nettle/sha2.h>

#include "db.h"
#include "json-get.h"
#include "log.h"
#include "loop.h"
#include "outchunk.h"
#include "procfs.h"
#include "runlog.h"
#include "sha256.h"
#include "util.h"

#define RUNLOG_FLUSH_LINES	1000	/* the bound, with RUNLOG_FLUSH_MS */
#define RUNLOG_FLUSH_BYTES	(256 * 1024)
#define RUNLOG_FLUSH_MS		100
/* A full batch goes to the flusher at half the bound (see the top). */
#define RUNLOG_BATCH_LINES	(RUNLOG_FLUSH_LINES / 2)
#define RUNLOG_BATCH_BYTES	(RUNLOG_FLUSH_BYTES / 2)
/* Binary COPY header: signature, flags, extension length. */
#define RUNLOG_HEADER		"PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"
#define RUNLOG_HEADER_LEN	19
#define RUNLOG_RETRY_MS		1000
#define RUNLOG_EVENT_MAX	(700 * 1024)
#define RUNLOG_HEAD_BYTES	1024

/* The statements of a batch (runlog_store, and the flusher's steps). */
#define RUNLOG_FENCE_SQL	"SELECT status FROM runs WHERE id = $1::bigint " \
				"FOR SHARE"
#define RUNLOG_COPY_EVENTS_SQL	"COPY run_events (run_id, seq, " \
				"run_started_at, at, event, uuid, host, task, " \
				"data) FROM STDIN"
#define RUNLOG_NOTIFY_SQL	"SELECT pg_notify('chiffon_run', $1)"
/* The same two on the flusher's connection, whose chiffon.run_id is set. */
#define RUNLOG_FENCE_GUC_SQL	"SELECT status FROM runs WHERE id = " \
				"current_setting('chiffon.run_id')::bigint " \
				"FOR SHARE"
#define RUNLOG_NOTIFY_GUC_SQL	"SELECT pg_notify('chiffon_run', " \
				"current_setting('chiffon.run_id'))"

/* One live subscriber. */
struct runlog_sub {
	runlog_sub_fn	 fn;
	void		*data;
};

/*
 * What the flusher's connection is doing: the batch (one query string:
 * BEGIN, the fence, the COPYs, the NOTIFY, COMMIT), then a ROLLBACK when
 * a part of it failed.
 */
enum runlog_step {
	RUNLOG_STEP_BATCH,
	RUNLOG_STEP_ROLLBACK,
	RUNLOG_STEP_DONE
};

/*
 * The flusher of a run: a non-blocking connection of its own, watched on
 * the loop, that stores one batch (the steps above) while the loop goes
 * on.  The batch buffers are the flusher's while busy, the loop's
 * otherwise.
 */
struct runlog_flusher {
	struct db		*db;		/* for db_connect_more only */
	struct runlog		*rl;		/* whose */
	struct loop		*loop;		/* the run's, or NULL */
	const char		*id;		/* the run's (rl->id) */
	PGconn			*pg;		/* its own, or NULL */
	int			 watch;		/* loop registration, or 0 */
	int			 want;		/* what watch waits for */
	struct strbuf		 lines;		/* the batch: a whole binary
						   COPY, or empty */
	size_t			 nlines;
	struct strbuf		 chunks;	/* lines as sent (outchunk) */
	struct strbuf		 events;
	size_t			 nevents;
	enum runlog_step	 step;
	int			 sent;		/* step's query sent */
	int			 failed;	/* a part failed: roll back */
	int			 fence_seen;	/* the fence answered */
	int			 ncopies;	/* COPYs begun */
	int			 busy;		/* a batch is handed over and
						   not done */
	int			 done;		/* a result waits */
	int			 rc;		/* runlog_store's; -3: no
						   connection, not tried */
	char			*error;		/* with rc, or a NOTIFY's */
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
	struct sha256_ctx	 digest_chunk;	/* the output digest: the */
	struct strbuf		 digest_raw;	/* chunk open, those done */

	struct strbuf		 lines;		/* binary COPY rows for
						   run_output */
	size_t			 nlines;
	int			 lines_ended;	/* trailer appended (a retry
						   is pending) */
	struct strbuf		 events;	/* COPY rows for run_events */
	size_t			 nevents;

	struct runlog_sub	*subs;
	size_t			 nsubs;

	struct runlog_flusher	*flusher;	/* started at the first full
						   batch, or NULL */
	int			 no_flusher;	/* it cannot be used: store
						   batches in the loop */

	uint64_t		 retry_at;	/* no automatic flush before */
	char			*error;		/* first write error */

	time_t			 clock_sec;	/* second the cache is for */
	char			 clock_buf[32];	/* "YYYY-MM-DD HH:MM:SS." */

	char			*spool_path;	/* this run's spool, or NULL */
	int			 spool_fd;	/* open and locked, or -1 */
	size_t			 spooled;	/* rows in it, not stored */
	long long		 task_num;	/* runs.task_id, 0 if none */
	int			 fenced;	/* closed by another process */
	int			 lost;		/* rows lost for good: the task
						   is told (hooks.lost) */
	int			 refused;	/* rows refused: never complete */

	char			*fin;		/* finish record, once ended */
	int			 fin_stored;	/* the runs row is closed */
	int			 fin_incomplete; /* ... as incomplete */
	int			 fin_spooled;	/* the record is in the spool */
	int			 is_pending;	/* on runlog_pending */
	TAILQ_ENTRY(runlog)	 pending;
	TAILQ_ENTRY(runlog)	 active;	/* on runlog_active, always */
};

/*
 * Process-wide (the few top-level singletons): where spool files go, the
 * finished runs still waiting for rows to be stored, and who hears of
 * their tasks.
 */
static char			*runlog_spool_dir;
static TAILQ_HEAD(, runlog)	 runlog_pending =
    TAILQ_HEAD_INITIALIZER(runlog_pending);
static TAILQ_HEAD(, runlog)	 runlog_active =
    TAILQ_HEAD_INITIALIZER(runlog_active);
static struct runlog_hooks	 runlog_hooks;

static void	runlog_collect(struct runlog *);

/*
 * Byte classes for the COPY text escaper: 0 plain, 1 needs a backslash
 * escape, 2 NUL, 3 start of a non-ASCII UTF-8 sequence.
 */
static const unsigned char runlog_class[256] = {
	[0] = 2,
	['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\\'] = 1,
	[0x80 ... 0xff] = 3,		/* GNU C range designator */
};

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
			if ((len = utf8_seq_len(p + i, n - i)) == 0) {
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
		if (p[i] != 0 && (len = utf8_seq_len(p + i, n - i)) != 0) {
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
 * later (connection trouble, disk full), or -2 with *errp when retrying
 * cannot help: the server refused the data itself (SQLSTATE class 22),
 * or the rows are already there (class 23).
 */
static int
runlog_copy(PGconn *pg, const char *sql, const char *buf, size_t len,
    char **errp)
{
	PGresult	*res;
	const char	*state;
	int		 rc = 0;

	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		set_error(errp, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (PQputCopyData(pg, buf, (int)len) != 1) {
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

/* COPY lines (a whole binary COPY of line rows) into run_output_chunks. */
static int
runlog_copy_lines(PGconn *pg, const struct strbuf *lines, char **errp)
{
	struct strbuf	chunks = { 0 };
	int		rc;

	if (outchunk_copy(lines->buf, lines->len, &chunks) < 0) {
		set_error(errp, "a bad line row");
		return -2;	/* refused, as the database would */
	}
	rc = runlog_copy(pg, OUTCHUNK_COPY_SQL, chunks.buf, chunks.len,
	    errp);
	strbuf_free(&chunks);
	return rc;
}

static int
runlog_notify_id(PGconn *pg, const char *id, char **errp)
{
	PGresult	*res;
	const char	*params[1] = { id };

	res = PQexecParams(pg, RUNLOG_NOTIFY_SQL, 1,
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

static int
runlog_notify(struct runlog *rl, PGconn *pg, char **errp)
{
	return runlog_notify_id(pg, rl->id, errp);
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

/* The fence's answer: rows may still be added (running, incomplete). */
static int
runlog_fence_ok(const PGresult *res)
{
	return PQntuples(res) == 1 &&
	    (strcmp(PQgetvalue(res, 0, 0), "running") == 0 ||
	    strcmp(PQgetvalue(res, 0, 0), "incomplete") == 0);
}

/*
 * Inside a transaction: lock run id's row and check that rows may still
 * be added to it (running, or incomplete).  1 when they may, 0 when the
 * run was closed by someone else (fenced), -1 with *errp.
 */
static int
runlog_fence(PGconn *pg, const char *id, char **errp)
{
	PGresult	*res;
	const char	*params[1] = { id };
	int		 ok;

	res = PQexecParams(pg, RUNLOG_FENCE_SQL, 1, NULL, params, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	ok = runlog_fence_ok(res);
	PQclear(res);
	return ok;
}

/*
 * Store lines (a whole binary COPY, or empty) and events (text COPY
 * rows, or empty) of run id in one transaction.  With via_temp the rows
 * go through a temporary table and rows already stored are skipped (a
 * spool may hold rows whose commit was not acknowledged).  0; 1 when the
 * run is fenced (nothing stored); -1 with *errp to retry later; -2 with
 * *errp when the database refused the rows themselves.
 */
static int
runlog_store(PGconn *pg, const char *id, const struct strbuf *lines,
    const struct strbuf *events, int via_temp, char **errp)
{
	int	rc;

	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	if ((rc = runlog_fence(pg, id, errp)) <= 0) {
		db_rollback(pg);
		return rc == 0 ? 1 : -1;
	}
	rc = 0;
	if (lines->len > 0 && via_temp)
		rc = db_run(pg, "CREATE TEMP TABLE chiffon_spool_output "
		    "(LIKE run_output) ON COMMIT DROP", 0, NULL, errp);
	if (rc == 0 && lines->len > 0 && via_temp)
		rc = runlog_copy(pg, "COPY chiffon_spool_output FROM STDIN "
		    "(FORMAT binary)", lines->buf, lines->len, errp);
	if (rc == 0 && lines->len > 0 && via_temp)
		rc = db_run(pg, "SELECT chiffon_output_store("
		    "'chiffon_spool_output')", 0, NULL, errp);
	if (rc == 0 && lines->len > 0 && !via_temp)
		rc = runlog_copy_lines(pg, lines, errp);
	if (rc == 0 && events->len > 0 && via_temp)
		rc = db_run(pg, "CREATE TEMP TABLE chiffon_spool_events "
		    "(LIKE run_events) ON COMMIT DROP", 0, NULL, errp);
	if (rc == 0 && events->len > 0)
		rc = runlog_copy(pg, via_temp ? "COPY chiffon_spool_events "
		    "FROM STDIN" : RUNLOG_COPY_EVENTS_SQL, events->buf,
		    events->len, errp);
	if (rc == 0 && events->len > 0 && via_temp)
		rc = db_run(pg, "INSERT INTO run_events SELECT * FROM "
		    "chiffon_spool_events ON CONFLICT DO NOTHING", 0, NULL, errp);
	if (rc == 0)
		rc = db_run(pg, "COMMIT", 0, NULL, errp);
	else
		db_rollback(pg);
	return rc;
}

/* -- the spool ----------------------------------------------------------- */

/* Store 4 bytes big-endian. */
static void
runlog_be32(unsigned char *b, size_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

void
runlog_set_spool_dir(const char *dir)
{
	free(runlog_spool_dir);
	runlog_spool_dir = dir != NULL ? xstrdup(dir) : NULL;
}

const char *
runlog_spool_path(void)
{
	return runlog_spool_dir;
}

void
runlog_set_hooks(const struct runlog_hooks *hooks)
{
	if (hooks != NULL)
		runlog_hooks = *hooks;
	else
		memset(&runlog_hooks, 0, sizeof runlog_hooks);
}

/* Write all of buf.  0 or -1 (errno set). */
static int
runlog_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Open (create) this run's spool file and lock it.  0 or -1 with *errp. */
static int
runlog_spool_open(struct runlog *rl, char **errp)
{
	int	fd, dfd;

	if (rl->spool_fd >= 0)
		return 0;
	if (runlog_spool_dir == NULL)
		return set_error(errp, "no spool directory (no data dir)");
	if (mkdir_p(runlog_spool_dir, 0700) != 0)
		return set_error(errp, "spool %s: %s", runlog_spool_dir,
		    strerror(errno));
	if (rl->spool_path == NULL)
		rl->spool_path = xasprintf("%s/run-%s.spool", runlog_spool_dir,
		    rl->id);
	fd = open(rl->spool_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return set_error(errp, "spool %s: %s", rl->spool_path,
		    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return set_error(errp, "spool %s: locked by another process",
		    rl->spool_path);
	}
	/* The new name must survive a crash too. */
	if ((dfd = open(runlog_spool_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rl->spool_fd = fd;
	return 0;
}

/*
 * Append one record (type, 4-byte length, payload) and fsync; all or
 * nothing.  0 or -1 with *errp.
 */
static int
runlog_spool_write(struct runlog *rl, char type, const void *buf,
    size_t len, char **errp)
{
	unsigned char	 hdr[5];
	off_t		 at;
	int		 saved;

	if (runlog_spool_open(rl, errp) != 0)
		return -1;
	at = lseek(rl->spool_fd, 0, SEEK_END);
	hdr[0] = (unsigned char)type;
	runlog_be32(hdr + 1, len);
	if (runlog_write_all(rl->spool_fd, hdr, sizeof hdr) != 0 ||
	    runlog_write_all(rl->spool_fd, buf, len) != 0 ||
	    fsync(rl->spool_fd) != 0) {
		saved = errno;
		if (at >= 0 && ftruncate(rl->spool_fd, at) == 0)
			fsync(rl->spool_fd);
		return set_error(errp, "spool %s: %s", rl->spool_path,
		    strerror(saved));
	}
	return 0;
}

static void
runlog_clear_lines(struct runlog *rl)
{
	strbuf_reset(&rl->lines);
	rl->nlines = 0;
	rl->lines_ended = 0;
}

static void
runlog_clear_events(struct runlog *rl)
{
	strbuf_reset(&rl->events);
	rl->nevents = 0;
}

/*
 * Move the rows held in memory to the spool file.  0, or -1 with *errp
 * (what could not be written stays in memory).
 */
static int
runlog_spill(struct runlog *rl, char **errp)
{
	size_t	len;

	if (rl->nlines > 0) {
		len = rl->lines.len - RUNLOG_HEADER_LEN -
		    (rl->lines_ended ? 2 : 0);
		if (runlog_spool_write(rl, 'L', rl->lines.buf +
		    RUNLOG_HEADER_LEN, len, errp) != 0)
			return -1;
		rl->spooled += rl->nlines;
		runlog_clear_lines(rl);
	}
	if (rl->nevents > 0) {
		if (runlog_spool_write(rl, 'E', rl->events.buf,
		    rl->events.len, errp) != 0)
			return -1;
		rl->spooled += rl->nevents;
		runlog_clear_events(rl);
	}
	return 0;
}

/* What a spool file holds. */
struct runlog_spool {
	struct strbuf	 lines;		/* a whole binary COPY, or empty */
	struct strbuf	 events;	/* text COPY rows */
	char		*fin;		/* the last finish record, or NULL */
};

static void
runlog_spool_free(struct runlog_spool *sp)
{
	strbuf_free(&sp->lines);
	strbuf_free(&sp->events);
	free(sp->fin);
}

/*
 * Read the records of the spool file open on fd; a record cut short (a
 * crash while writing it) ends the file.  0 or -1 with *errp.
 */
static int
runlog_spool_read(int fd, const char *path, struct runlog_spool *sp,
    char **errp)
{
	struct strbuf	 all = { 0 };
	unsigned char	*p;
	char		 buf[65536];
	size_t		 at = 0, len;
	ssize_t		 n;
	off_t		 off = 0;

	memset(sp, 0, sizeof *sp);
	while ((n = pread(fd, buf, sizeof buf, off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			strbuf_free(&all);
			return set_error(errp, "spool %s: %s", path,
			    strerror(errno));
		}
		strbuf_add(&all, buf, (size_t)n);
		off += n;
	}
	p = (unsigned char *)all.buf;
	while (all.len - at >= 5) {
		len = (size_t)p[at + 1] << 24 | (size_t)p[at + 2] << 16 |
		    (size_t)p[at + 3] << 8 | p[at + 4];
		if (all.len - at - 5 < len)
			break;
		switch (p[at]) {
		case 'L':
			if (sp->lines.len == 0)
				strbuf_add(&sp->lines, RUNLOG_HEADER,
				    RUNLOG_HEADER_LEN);
			strbuf_add(&sp->lines, p + at + 5, len);
			break;
		case 'E':
			strbuf_add(&sp->events, p + at + 5, len);
			break;
		case 'F':
			free(sp->fin);
			sp->fin = xstrndup((const char *)p + at + 5, len);
			break;
		default:
			break;
		}
		at += 5 + len;
	}
	if (sp->lines.len > 0)
		runlog_add_be(&sp->lines, 0xffff, 2);
	strbuf_free(&all);
	return 0;
}

/*
 * Store what this run's spool holds and remove it.  0, or -1 with
 * *errp (kept for a retry).
 */
static int
runlog_drain(struct runlog *rl, PGconn *pg, char **errp)
{
	struct runlog_spool	 sp;
	int			 rc;

	if (rl->spool_fd < 0)
		return 0;
	if (runlog_spool_read(rl->spool_fd, rl->spool_path, &sp, errp) != 0)
		return -1;
	rc = runlog_store(pg, rl->id, &sp.lines, &sp.events, 1, errp);
	runlog_spool_free(&sp);
	if (rc == -1)
		return -1;
	if (rc == 1)
		rl->fenced = 1;
	else if (rc == -2)
		rl->refused = 1;
	/* Stored (or never storable): the spool's job is done. */
	unlink(rl->spool_path);
	close(rl->spool_fd);
	rl->spool_fd = -1;
	rl->spooled = 0;
	return rc == 0 ? 0 : set_error(errp, "run %s: %s", rl->id, rc == 1 ?
	    "closed by another process; spooled rows dropped" :
	    "spooled rows refused by the database");
}

/* -- flushing ------------------------------------------------------------ */

int
runlog_flush(struct runlog *rl, char **errp)
{
	PGconn	*pg = db_pg(rl->db);
	char	*error = NULL;
	int	 rc;

	runlog_collect(rl);	/* the flusher's batch first */
	if (rl->fenced) {
		runlog_clear_lines(rl);
		runlog_clear_events(rl);
		return set_error(errp, "run %s was closed by another process "
		    "(its task was taken over): rows dropped", rl->id);
	}
	if (rl->nlines == 0 && rl->nevents == 0 && rl->spool_fd < 0)
		return 0;
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		rc = runlog_spill(rl, &error);
		set_error(errp, "run %s: not connected to the database "
		    "(%zu rows kept in the spool, %zu in memory%s%s)", rl->id,
		    rl->spooled, rl->nlines + rl->nevents, rc != 0 ? ": " : "",
		    rc != 0 ? error : "");
		free(error);
		return -1;
	}
	if (runlog_drain(rl, pg, &error) != 0) {
		rc = rl->fenced || rl->refused ? 0 : runlog_spill(rl, NULL);
		set_error(errp, "run %s: storing the spool: %s", rl->id, error);
		free(error);
		(void)rc;
		return -1;
	}
	if (rl->nlines > 0 && !rl->lines_ended) {
		runlog_add_be(&rl->lines, 0xffff, 2);	/* binary trailer */
		rl->lines_ended = 1;
	}
	rc = rl->nlines + rl->nevents > 0 ? runlog_store(pg, rl->id,
	    &rl->lines, &rl->events, 0, &error) : 0;
	if (rc == -1) {
		/* Kept: in the spool when it can be written, else here. */
		if (runlog_spill(rl, NULL) == 0)
			set_error(errp, "run %s: storing rows (kept in the "
			    "spool %s for a retry): %s", rl->id,
			    rl->spool_path, error);
		else
			set_error(errp, "run %s: storing %zu rows (kept in "
			    "memory for a retry): %s", rl->id,
			    rl->nlines + rl->nevents, error);
		free(error);
		return -1;
	}
	if (rc == -2 || rc == 1) {
		if (rc == 1)
			rl->fenced = 1;
		else
			rl->refused = 1;
		set_error(errp, "run %s: %zu rows %s: %s", rl->id,
		    rl->nlines + rl->nevents, rc == 1 ? "dropped: the run was "
		    "closed by another process" : "refused by the database "
		    "and dropped", rc == 1 ? "fenced" : error);
		free(error);
		runlog_clear_lines(rl);
		runlog_clear_events(rl);
		return -1;
	}
	runlog_clear_lines(rl);
	runlog_clear_events(rl);
	rl->retry_at = 0;
	free(rl->error);	/* everything kept is stored now */
	rl->error = NULL;
	return runlog_notify(rl, pg, errp);
}

/* -- the flusher --------------------------------------------------------- */

static int	runlog_flusher_ready(int, int, void *);
static int	runlog_batch_full(const struct runlog *);
static int	runlog_handoff(struct runlog *);

/* Notices of the flusher's connection are not logged (the loop's are). */
static void
runlog_flusher_notice(void *arg, const char *msg)
{
}

/* Watch the flusher's socket for want (CHIFFON_FD_*), if on a loop. */
static void
runlog_flusher_want(struct runlog_flusher *f, int want)
{
	if (f->watch == 0 || want == f->want)
		return;
	loop_fd_events(f->loop, f->watch, want);
	f->want = want;
}

/* Close the flusher's connection (its watch goes with it). */
static void
runlog_flusher_close(struct runlog_flusher *f)
{
	if (f->watch != 0)
		loop_remove(f->loop, f->watch);
	f->watch = 0;
	if (f->pg != NULL)
		PQfinish(f->pg);
	f->pg = NULL;
}

/* Make the flusher's connection, non-blocking and watched.  0/-1. */
static int
runlog_flusher_connect(struct runlog_flusher *f, char **errp)
{
	const char	*params[1] = { f->id };

	if ((f->pg = db_connect_more(f->db, errp)) == NULL)
		return -1;
	PQsetNoticeProcessor(f->pg, runlog_flusher_notice, NULL);
	if (PQsetClientEncoding(f->pg, "UTF8") != 0 ||
	    db_run(f->pg, "SELECT set_config('chiffon.run_id', $1, false)", 1,
	    params, errp) != 0 || PQsetnonblocking(f->pg, 1) != 0) {
		if (errp != NULL && *errp == NULL)
			set_error(errp, "preparing the run's second "
			    "connection: %s", PQerrorMessage(f->pg));
		runlog_flusher_close(f);
		return -1;
	}
	if (f->loop != NULL) {
		f->want = CHIFFON_FD_READ;
		f->watch = loop_watch_fd(f->loop, PQsocket(f->pg), f->want,
		    runlog_flusher_ready, f->rl, NULL, NULL);
		if (f->watch < 0)
			f->watch = 0;
	}
	return 0;
}

/* The batch is over: its result waits for runlog_collect. */
static void
runlog_flusher_end(struct runlog_flusher *f)
{
	f->busy = 0;
	f->done = 1;
	runlog_flusher_want(f, CHIFFON_FD_READ);
	if (runlog_hooks.ready != NULL)
		runlog_hooks.ready(runlog_hooks.data);
}

/* The connection failed: the batch is to be retried (-1); reconnect. */
static void
runlog_flusher_lost(struct runlog_flusher *f)
{
	f->rc = -1;
	free(f->error);
	f->error = xasprintf("the run's second connection: %s",
	    f->pg != NULL ? PQerrorMessage(f->pg) : "");
	runlog_flusher_close(f);
	f->step = RUNLOG_STEP_DONE;
}

/*
 * Send the query of f->step.  The batch is one query string of constant
 * statements (the run's id is the connection's chiffon.run_id, set when
 * it was made), so that it costs one round trip plus the COPY data.  0,
 * or -1 (connection trouble).
 */
static int
runlog_flusher_send(struct runlog_flusher *f)
{
	struct strbuf	q = { 0 };
	int		rc;

	if (f->step == RUNLOG_STEP_ROLLBACK)
		return PQsendQuery(f->pg, "ROLLBACK") == 1 ? 0 : -1;
	strbuf_adds(&q, "BEGIN; " RUNLOG_FENCE_GUC_SQL "; ");
	if (f->lines.len > 0)
		strbuf_adds(&q, OUTCHUNK_COPY_SQL "; ");
	if (f->events.len > 0)
		strbuf_adds(&q, RUNLOG_COPY_EVENTS_SQL "; ");
	strbuf_adds(&q, RUNLOG_NOTIFY_GUC_SQL "; COMMIT");
	rc = PQsendQuery(f->pg, q.buf) == 1 ? 0 : -1;
	strbuf_free(&q);
	return rc;
}

/* A part of the batch failed: keep the first error, roll back. */
static void
runlog_flusher_fail(struct runlog_flusher *f, int rc, const char *msg)
{
	if (!f->failed) {
		f->rc = rc;
		free(f->error);
		f->error = xstrdup(msg);
	}
	f->failed = 1;
}

/*
 * One result of the batch, in the order of its statements: the fence's
 * rows are checked before any COPY data goes out (a fenced run's COPY is
 * ended with an error, and the batch rolled back); the COPY data is
 * queued here (the connection is non-blocking and its buffer grows).
 * 0, or -1 (connection trouble).
 */
static int
runlog_flusher_take(struct runlog_flusher *f, PGresult *res)
{
	const struct strbuf	*data;
	const char		*state;
	ExecStatusType		 st = PQresultStatus(res);

	if (f->step == RUNLOG_STEP_ROLLBACK)
		return 0;
	switch (st) {
	case PGRES_COPY_IN:
		data = &f->events;
		if (f->ncopies++ == 0 && f->lines.len > 0) {
			strbuf_reset(&f->chunks);
			if (outchunk_copy(f->lines.buf, f->lines.len,
			    &f->chunks) < 0)
				runlog_flusher_fail(f, -2, "chiffon: a bad "
				    "line row");
			data = &f->chunks;
		}
		if (f->failed || !f->fence_seen)
			return PQputCopyEnd(f->pg, "chiffon: the batch is "
			    "not stored") == 1 ? 0 : -1;
		if (PQputCopyData(f->pg, data->buf, (int)data->len) != 1) {
			PQputCopyEnd(f->pg, "chiffon: sending failed");
			return -1;
		}
		return PQputCopyEnd(f->pg, NULL) == 1 ? 0 : -1;
	case PGRES_TUPLES_OK:
		if (!f->fence_seen) {
			f->fence_seen = 1;
			if (!runlog_fence_ok(res))
				runlog_flusher_fail(f, 1, "fenced");
		}
		return 0;
	case PGRES_COMMAND_OK:
		return 0;
	default:
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		runlog_flusher_fail(f, state != NULL &&
		    (strncmp(state, "22", 2) == 0 ||
		    strncmp(state, "23", 2) == 0) ? -2 : -1,
		    PQresultErrorMessage(res));
		return 0;
	}
}

/* The step after f->step (every result of it taken). */
static enum runlog_step
runlog_flusher_next(const struct runlog_flusher *f)
{
	return f->step == RUNLOG_STEP_BATCH && f->failed ?
	    RUNLOG_STEP_ROLLBACK : RUNLOG_STEP_DONE;
}

/*
 * Take the batch as far as it goes without waiting: send each step once
 * the one before answered, queue COPY data, flush what the socket takes.
 * Returns with the watch set to what it waits for, or the batch ended.
 */
static void
runlog_flusher_pump(struct runlog_flusher *f)
{
	PGresult	*res;
	int		 r, answered;

	while (f->busy) {
		if (f->step == RUNLOG_STEP_DONE) {
			runlog_flusher_end(f);
			return;
		}
		if (!f->sent) {
			if (runlog_flusher_send(f) != 0) {
				runlog_flusher_lost(f);
				continue;
			}
			f->sent = 1;
		}
		if (PQconsumeInput(f->pg) != 1) {
			runlog_flusher_lost(f);
			continue;
		}
		r = answered = 0;
		while (r == 0 && !answered && !PQisBusy(f->pg)) {
			if ((res = PQgetResult(f->pg)) == NULL)
				answered = 1;
			else {
				r = runlog_flusher_take(f, res);
				PQclear(res);
			}
		}
		if (r != 0) {
			runlog_flusher_lost(f);
			continue;
		}
		if (answered) {
			f->step = runlog_flusher_next(f);
			f->sent = 0;
			continue;
		}
		if ((r = PQflush(f->pg)) < 0) {
			runlog_flusher_lost(f);
			continue;
		}
		runlog_flusher_want(f, CHIFFON_FD_READ |
		    (r == 1 ? CHIFFON_FD_WRITE : 0));
		return;
	}
}

/*
 * The flusher's socket is ready: the batch goes on, and once it ended a
 * full batch buffered meanwhile goes next; while idle, input (the server
 * going away) is read, and a closed connection dropped.
 */
static int
runlog_flusher_ready(int fd, int revents, void *data)
{
	struct runlog		*rl = data;
	struct runlog_flusher	*f = rl->flusher;

	if (f->busy) {
		runlog_flusher_pump(f);
		if (!f->busy && runlog_batch_full(rl)) {
			runlog_collect(rl);
			runlog_handoff(rl);
		}
		return 0;
	}
	if (PQconsumeInput(f->pg) != 1 || PQstatus(f->pg) != CONNECTION_OK) {
		f->watch = 0;		/* removed by returning 1 */
		PQfinish(f->pg);
		f->pg = NULL;
		return 1;
	}
	return 0;
}

/* Until the batch in flight (if any) ended: poll its socket alone. */
static void
runlog_flusher_wait(struct runlog_flusher *f)
{
	struct pollfd	pfd;

	while (f->busy) {
		runlog_flusher_pump(f);
		if (!f->busy)
			break;
		pfd.fd = PQsocket(f->pg);
		pfd.events = POLLIN;
		if (PQflush(f->pg) == 1)
			pfd.events |= POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			runlog_flusher_lost(f);
			runlog_flusher_end(f);
		}
	}
}

/*
 * Start storing the batch in f->lines / f->events.  0, or -3 with *errp
 * when there is no connection for it (nothing was tried).
 */
static int
runlog_flusher_begin(struct runlog_flusher *f, char **errp)
{
	if (f->pg != NULL && PQstatus(f->pg) != CONNECTION_OK)
		runlog_flusher_close(f);
	if (f->pg == NULL && runlog_flusher_connect(f, errp) != 0)
		return -3;
	f->step = RUNLOG_STEP_BATCH;
	f->sent = f->failed = f->fence_seen = f->ncopies = 0;
	f->rc = 0;
	f->busy = 1;
	runlog_flusher_pump(f);
	return 0;
}

/* rl's flusher (its connection is made by its first batch). */
static void
runlog_flusher_start(struct runlog *rl)
{
	struct runlog_flusher	*f = xcalloc(1, sizeof *f);

	f->rl = rl;
	f->db = rl->db;
	f->loop = rl->loop;
	f->id = rl->id;
	rl->flusher = f;
}

/* Let the flusher finish its batch and close its connection. */
static void
runlog_flusher_stop(struct runlog *rl)
{
	struct runlog_flusher	*f = rl->flusher;

	if (f == NULL)
		return;
	runlog_flusher_wait(f);
	runlog_flusher_close(f);
	strbuf_free(&f->lines);
	strbuf_free(&f->chunks);
	strbuf_free(&f->events);
	free(f->error);
	free(f);
	rl->flusher = NULL;
}

/* The flusher's batch was not stored: its rows are the loop's again. */
static void
runlog_take_back(struct runlog *rl, struct runlog_flusher *f)
{
	struct strbuf	tmp;

	if (f->nlines > 0 && rl->lines.len == 0) {
		tmp = rl->lines;	/* a whole COPY, trailer included */
		rl->lines = f->lines;
		f->lines = tmp;
		rl->lines_ended = 1;
	} else if (f->nlines > 0) {
		if (rl->lines_ended)
			rl->lines.len -= 2;
		strbuf_add(&rl->lines, f->lines.buf + RUNLOG_HEADER_LEN,
		    f->lines.len - RUNLOG_HEADER_LEN - 2);
		rl->lines_ended = 0;
	}
	rl->nlines += f->nlines;
	if (f->nevents > 0)
		strbuf_add(&rl->events, f->events.buf, f->events.len);
	rl->nevents += f->nevents;
}

/*
 * Wait for the batch the flusher stores, if any, and take in its result
 * as runlog_flush would have: a batch not stored goes to the spool (or
 * stays in memory) and its error is kept; fenced or refused rows are
 * dropped; without a connection the batch is the loop's again and the
 * loop stores batches itself from now on.
 */
static void
runlog_collect(struct runlog *rl)
{
	struct runlog_flusher	*f = rl->flusher;
	size_t			 n;
	char			*error;

	if (f == NULL)
		return;
	runlog_flusher_wait(f);
	if (!f->done)
		return;
	f->done = 0;
	error = f->error;
	f->error = NULL;
	n = f->nlines + f->nevents;
	switch (f->rc) {
	case 0:
		if (error != NULL)	/* stored; the NOTIFY failed */
			runlog_keep_error(rl, error);
		break;
	case -3:
		log_debug("run %s: storing rows in the loop: %s", rl->id,
		    error);
		free(error);
		runlog_take_back(rl, f);
		rl->no_flusher = 1;
		break;
	case -1:
		runlog_take_back(rl, f);
		if (runlog_spill(rl, NULL) == 0)
			runlog_keep_error(rl, xasprintf("run %s: storing rows "
			    "(kept in the spool %s for a retry): %s", rl->id,
			    rl->spool_path, error));
		else
			runlog_keep_error(rl, xasprintf("run %s: storing %zu "
			    "rows (kept in memory for a retry): %s", rl->id,
			    rl->nlines + rl->nevents, error));
		free(error);
		break;
	default:
		if (f->rc == 1)
			rl->fenced = 1;
		else
			rl->refused = 1;
		runlog_keep_error(rl, xasprintf("run %s: %zu rows %s: %s",
		    rl->id, n, f->rc == 1 ? "dropped: the run was closed by "
		    "another process" : "refused by the database and dropped",
		    f->rc == 1 ? "fenced" : error));
		free(error);
		break;
	}
	strbuf_reset(&f->lines);
	strbuf_reset(&f->events);
	f->nlines = f->nevents = 0;
}

/*
 * Hand the rows buffered to the flusher (which must be idle) and go on.
 * 0, or -1 when the loop must store them itself: the flusher cannot be
 * used, or this is not the plain case (a spool to drain, an error being
 * retried, a fenced run, no connection to the database).
 */
static int
runlog_handoff(struct runlog *rl)
{
	struct runlog_flusher	*f;
	struct strbuf		 tmp;
	PGconn			*pg = db_pg(rl->db);
	char			*error = NULL;

	if (rl->no_flusher || rl->fenced || rl->spool_fd >= 0 ||
	    rl->retry_at != 0 || pg == NULL || PQstatus(pg) != CONNECTION_OK)
		return -1;
	if (rl->nlines + rl->nevents == 0)
		return 0;
	if (rl->flusher == NULL)
		runlog_flusher_start(rl);
	f = rl->flusher;
	if (rl->nlines > 0 && !rl->lines_ended)
		runlog_add_be(&rl->lines, 0xffff, 2);	/* binary trailer */
	tmp = f->lines;
	f->lines = rl->lines;
	rl->lines = tmp;
	tmp = f->events;
	f->events = rl->events;
	rl->events = tmp;
	f->nlines = rl->nlines;
	f->nevents = rl->nevents;
	runlog_clear_lines(rl);
	runlog_clear_events(rl);
	if (runlog_flusher_begin(f, &error) == 0)
		return 0;
	/* No connection for it: the rows are the loop's again. */
	f->rc = -3;
	f->error = error;
	f->done = 1;
	runlog_collect(rl);
	return -1;
}

/*
 * Flush from the loop timer or a full buffer; errors are kept.  While
 * the database is retried later, rows go to the spool at once, so that
 * the bound (RUNLOG_FLUSH_MS) holds whatever the database does.
 */
static void
runlog_flush_quietly(struct runlog *rl)
{
	char	*error = NULL;

	if (rl->retry_at != 0 && now_ms() < rl->retry_at) {
		if (runlog_spill(rl, &error) != 0)
			free(error);
		return;
	}
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
	char		 host[256], pid[24], start[24];
	const char	*params[6] = { task_id, kind, meta_json, host, pid,
			    start };

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
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	snprintf(start, sizeof start, "%lld", procfs_proc_start(getpid()));
	res = PQexecParams(pg, "INSERT INTO runs (task_id, kind, meta, "
	    "owner_host, owner_pid, owner_start) "
	    "VALUES ($1::bigint, $2, coalesce($3::jsonb, '{}'), $4, "
	    "$5::integer, $6::bigint) "
	    "RETURNING id, to_char(started_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD HH24:MI:SS.US') || '+00', "
	    "(extract(epoch FROM started_at) * 1000000)::bigint "
	    "- 946684800000000", 6, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		set_error(errp, "starting a run (kind %s, task %s): %s", kind,
		    task_id != NULL ? task_id : "none",
		    PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	rl = xcalloc(1, sizeof *rl);
	sha256_init(&rl->digest_chunk);
	rl->db = db;
	rl->loop = loop;
	rl->spool_fd = -1;
	rl->id = xstrdup(PQgetvalue(res, 0, 0));
	rl->prefix = xasprintf("%s\t", rl->id);
	rl->started = xasprintf("\t%s\t", PQgetvalue(res, 0, 1));
	rl->id_num = strtoll(rl->id, NULL, 10);
	rl->task_num = task_id != NULL ? strtoll(task_id, NULL, 10) : 0;
	rl->started_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	TAILQ_INSERT_TAIL(&runlog_active, rl, active);
	if (loop != NULL) {
		rl->timer = loop_add_timer(loop, RUNLOG_FLUSH_MS, runlog_timer,
		    rl, NULL, rl);
		if (rl->timer < 0)
			rl->timer = 0;
	}
	return rl;
}

int
runlog_set_claim(struct runlog *rl, const char *agent, int attempt,
    long long token, char **errp)
{
	PGresult	*res;
	char		 att[16], tok[24];
	const char	*params[4] = { rl->id, agent, att, tok };

	snprintf(att, sizeof att, "%d", attempt);
	snprintf(tok, sizeof tok, "%lld", token);
	if (attempt < 1)
		params[2] = NULL;
	if (token <= 0)
		params[3] = NULL;
	res = PQexecParams(db_pg(rl->db), "UPDATE runs SET agent = $2, "
	    "attempt = $3::integer, claim_token = $4::bigint "
	    "WHERE id = $1::bigint AND status = 'running'", 4, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_error(errp, "run %s: recording its agent: %s", rl->id,
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
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

/* A batch (half the bound) is buffered. */
static int
runlog_batch_full(const struct runlog *rl)
{
	return rl->nlines + rl->nevents >= RUNLOG_BATCH_LINES ||
	    rl->lines.len + rl->events.len >= RUNLOG_BATCH_BYTES;
}

int
runlog_may_take(void)
{
	struct runlog	*rl;

	TAILQ_FOREACH(rl, &runlog_active, active)
		if (rl->loop != NULL && rl->flusher != NULL &&
		    rl->flusher->busy &&
		    runlog_batch_full(rl))
			return 0;
	return 1;
}

/*
 * A batch of half the bound goes to the flusher once the one before is
 * stored: while that one is in flight the full batch waits (it goes from
 * runlog_flusher_ready; runlog_may_take holds the children meanwhile)
 * as long as both together are within the bound; beyond it, the batch in
 * flight is waited for.  A full buffer that cannot go to the flusher is
 * stored now.
 */
static int
runlog_maybe_flush(struct runlog *rl)
{
	struct runlog_flusher	*f = rl->flusher;

	if (!runlog_batch_full(rl))
		return 0;
	if (f != NULL && f->busy &&
	    rl->nlines + rl->nevents + f->nlines + f->nevents <=
	    RUNLOG_FLUSH_LINES && rl->lines.len + rl->events.len +
	    f->lines.len + f->events.len <= RUNLOG_FLUSH_BYTES)
		return 0;
	runlog_collect(rl);
	if (runlog_handoff(rl) != 0 &&
	    (rl->nlines + rl->nevents >= RUNLOG_FLUSH_LINES ||
	    rl->lines.len + rl->events.len >= RUNLOG_FLUSH_BYTES))
		runlog_flush_quietly(rl);
	return rl->error != NULL ? -1 : 0;
}

/*
 * The output digest of chiffon-schema(7), taken as the lines are
 * numbered: chunks of 10000 by seq, each chunk's SHA-256 over
 * "seq<TAB>stream<TAB>line" and a newline per line, the digest the
 * SHA-256 of the chunks' digests.  The finish record carries it; the
 * runs row keeps it when as many rows as lines are stored (schema 15),
 * else the server takes it from the rows: for 100,000 lines that was
 * 0.17 s between the run's end and the command's (issue 15).
 */
static void
runlog_digest_chunk(struct runlog *rl)
{
	uint8_t	d[SHA256_DIGEST_SIZE];

	sha256_digest(&rl->digest_chunk, sizeof d, d);	/* and starts anew */
	strbuf_add(&rl->digest_raw, d, sizeof d);
}

static void
runlog_digest_line(struct runlog *rl, int stream, const char *text,
    size_t n)
{
	char	head[48];
	int	len;

	len = snprintf(head, sizeof head, "%llu\t%d\t",
	    (unsigned long long)rl->line_seq, stream);
	sha256_update(&rl->digest_chunk, (size_t)len, (const uint8_t *)head);
	sha256_update(&rl->digest_chunk, n, (const uint8_t *)text);
	sha256_update(&rl->digest_chunk, 1, (const uint8_t *)"\n");
	if (rl->line_seq % 10000 == 0)
		runlog_digest_chunk(rl);
}

/* The digest of every line numbered (its last chunk closed). */
static void
runlog_digest_hex(struct runlog *rl, char hex[SHA256_HEX_LEN + 1])
{
	if (rl->line_seq % 10000 != 0)
		runlog_digest_chunk(rl);
	sha256_hex(rl->digest_raw.buf, rl->digest_raw.len, hex);
}

long long
runlog_next_seq(const struct runlog *rl)
{
	return (long long)rl->line_seq + 1;
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
		strbuf_add(sb, RUNLOG_HEADER, RUNLOG_HEADER_LEN);
	if (stream <= 0 || stream >= 10)
		stream = CHIFFON_STREAM_HOST;
	strbuf_grow(sb, 58 + len);
	runlog_add_be(sb, 6, 2);			/* fields */
	runlog_add_field8(sb, rl->id_num);		/* run_id */
	runlog_add_field8(sb, (int64_t)++rl->line_seq);	/* seq */
	runlog_add_field8(sb, rl->started_us);		/* run_started_at */
	runlog_add_be(sb, 2, 4);			/* stream */
	runlog_add_be(sb, (uint64_t)stream, 2);
	runlog_add_field8(sb, runlog_now_us());		/* at */
	at = sb->len;					/* line */
	runlog_add_be(sb, 0, 4);
	runlog_add_utf8(sb, line, len);
	runlog_add_be_at(sb, at, sb->len - at - 4);
	runlog_digest_line(rl, stream, sb->buf + at + 4, sb->len - at - 4);
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
	struct json_object	*ed;
	const char		*s;

	if ((s = json_get_str(obj, key)) != NULL || obj == NULL ||
	    !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "event_data", &ed))
		return s;
	return json_get_str(ed, key);
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
	runlog_flusher_stop(rl);
	TAILQ_REMOVE(&runlog_active, rl, active);
	if (rl->timer != 0)
		loop_remove(rl->loop, rl->timer);
	if (rl->is_pending)
		TAILQ_REMOVE(&runlog_pending, rl, pending);
	if (rl->spool_fd >= 0)
		close(rl->spool_fd);	/* the spool stays for a drain */
	strbuf_free(&rl->lines);
	strbuf_free(&rl->events);
	free(rl->subs);
	free(rl->error);
	strbuf_free(&rl->digest_raw);
	free(rl->id);
	free(rl->prefix);
	free(rl->started);
	free(rl->spool_path);
	free(rl->fin);
	free(rl);
}

/* The finish record of a run: what runlog_finish was told.  Caller frees. */
static char *
runlog_fin_json(struct runlog *rl, const char *status, int exit_code,
    const char *summary_json, const struct chiffon_rusage *usage)
{
	struct json_object	*o = json_object_new_object();
	char			*s, hex[SHA256_HEX_LEN + 1];

	json_object_object_add(o, "status", json_object_new_string(status));
	if (exit_code >= 0)
		json_object_object_add(o, "exit_code",
		    json_object_new_int(exit_code));
	if (summary_json != NULL)
		json_object_object_add(o, "summary",
		    json_object_new_string(summary_json));
	if (usage != NULL) {
		json_object_object_add(o, "wall_s",
		    json_object_new_double(usage->wall_s));
		json_object_object_add(o, "user_s",
		    json_object_new_double(usage->user_s));
		json_object_object_add(o, "sys_s",
		    json_object_new_double(usage->sys_s));
		json_object_object_add(o, "maxrss_kb",
		    json_object_new_int64(usage->maxrss_kb));
	}
	json_object_object_add(o, "lines",
	    json_object_new_int64((int64_t)rl->line_seq));
	json_object_object_add(o, "events",
	    json_object_new_int64((int64_t)rl->event_seq));
	runlog_digest_hex(rl, hex);
	json_object_object_add(o, "output_sha256",
	    json_object_new_string(hex));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Member key of o as text (numbers printed exactly), or NULL. */
static char *
runlog_fin_get(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_double))
		return xasprintf("%.6f", json_object_get_double(v));
	return xstrdup(json_object_get_string(v));
}

/*
 * Close run id (still running) as its finish record fin says: with that
 * status when every line and event it counted is stored, else
 * 'incomplete' with the status pending.  *statusp (may be NULL) gets the
 * status stored (caller frees).  1 when stored, 0 when the run was not
 * running any more (fenced), -1 with *errp to retry later, -2 with *errp
 * when the database refused the values themselves (SQLSTATE 22, 23).
 */
static int
runlog_close(PGconn *pg, const char *id, const char *fin, char **statusp,
    long long *taskp, char **errp)
{
	static const char *const keys[] = { "status", "exit_code", "summary",
	    "wall_s", "user_s", "sys_s", "maxrss_kb", "lines", "events",
	    "output_sha256" };
	struct json_object	*o;
	const char		*params[11];
	char			*vals[nitems(keys)];
	PGresult		*res;
	size_t			 i;
	int			 rc;

	if ((o = json_tokener_parse(fin)) == NULL)
		return set_error(errp, "run %s: bad finish record", id);
	params[0] = id;
	for (i = 0; i < nitems(keys); i++)
		params[i + 1] = vals[i] = runlog_fin_get(o, keys[i]);
	json_object_put(o);
	res = PQexecParams(pg, "UPDATE runs r SET "
	    "status = CASE WHEN c.ok THEN $2 ELSE 'incomplete' END, "
	    "pending_status = CASE WHEN c.ok THEN NULL ELSE $2 END, "
	    "exit_code = $3::integer, finished_at = clock_timestamp(), "
	    "duration = clock_timestamp() - r.started_at, "
	    "summary = $4::jsonb, wall_s = $5::float8, user_s = $6::float8, "
	    "sys_s = $7::float8, maxrss_kb = $8::bigint, "
	    "lines = coalesce($9::bigint, 0), events = coalesce($10::bigint, 0), "
	    "output_sha256 = $11 "
	    "FROM (SELECT chiffon_run_lines_stored(x.id, x.started_at) = "
	    "  coalesce($9::bigint, 0) AND (SELECT count(*) FROM run_events e "
	    "  WHERE e.run_id = x.id AND e.run_started_at = x.started_at) = "
	    "  coalesce($10::bigint, 0) AS ok FROM runs x "
	    "  WHERE x.id = $1::bigint) c "
	    "WHERE r.id = $1::bigint AND r.status = 'running' "
	    "RETURNING r.status, coalesce(r.task_id, 0)", 11, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		rc = state != NULL && (strncmp(state, "22", 2) == 0 ||
		    strncmp(state, "23", 2) == 0) ? -2 : -1;
		set_error(errp, "run %s: storing status %s: %s", id,
		    params[1] != NULL ? params[1] : "?",
		    PQresultErrorMessage(res));
		for (i = 0; i < nitems(keys); i++)
			free(vals[i]);
		PQclear(res);
		return rc;
	}
	for (i = 0; i < nitems(keys); i++)
		free(vals[i]);
	rc = PQntuples(res) == 1;
	if (rc && statusp != NULL)
		*statusp = xstrdup(PQgetvalue(res, 0, 0));
	if (rc && taskp != NULL)
		*taskp = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return rc;
}

/*
 * An incomplete run whose rows are all stored now takes its pending
 * status (the guard counts the rows); the hook hears of its task.  1 when
 * completed, 0 when it was not incomplete, -1 with *errp.
 */
static int
runlog_complete(PGconn *pg, const char *id, char **errp)
{
	PGresult	*res;
	const char	*params[1] = { id };
	long long	 task = 0;
	int		 n;

	res = PQexecParams(pg, "UPDATE runs SET status = pending_status, "
	    "pending_status = NULL WHERE id = $1::bigint "
	    "AND status = 'incomplete' RETURNING coalesce(task_id, 0)", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "run %s: completing it: %s", id,
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if ((n = PQntuples(res)) == 1)
		task = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (n == 1) {
		runlog_notify_id(pg, id, NULL);
		if (task > 0 && runlog_hooks.completed != NULL)
			runlog_hooks.completed(pg, task, runlog_hooks.data);
	}
	return n == 1;
}

static int	runlog_retry_cb(void *);

/*
 * Store what is left of a finished run.  0 when it is completely stored
 * (rl freed); -1 with *errp when something is still missing (rl kept on
 * the pending list and retried every RUNLOG_RETRY_MS) or can never be
 * stored (rl freed).
 */
static int
runlog_settle(struct runlog *rl, char **errp)
{
	PGconn	*pg = db_pg(rl->db);
	char	*error = NULL, *err2 = NULL, *status = NULL;
	int	 rc, complete;

	if (rl->lost)
		goto lost_task;
	if (runlog_flush(rl, &error) != 0 && (rl->fenced || rl->refused))
		goto lost;
	complete = rl->nlines == 0 && rl->nevents == 0 && rl->spool_fd < 0;
	if (!rl->fin_stored && pg != NULL && PQstatus(pg) == CONNECTION_OK) {
		rc = runlog_close(pg, rl->id, rl->fin, &status, NULL, &err2);
		if (rc == -2)
			rl->refused = 1;
		if (rc == 0) {
			rl->fenced = 1;
			set_error(&err2, "run %s was closed by another "
			    "process; its end is not recorded", rl->id);
		}
		if (rc == 1) {
			rl->fin_stored = 1;
			rl->fin_incomplete = strcmp(status, "incomplete") == 0;
			free(status);
			if (rl->fin_incomplete && complete) {
				/*
				 * Everything was stored, yet rows are missing:
				 * the database lost rows it had acknowledged.
				 */
				log_warn("run %s: rows the database had taken "
				    "are missing; it stays incomplete", rl->id);
				rl->lost = 1;
				free(error);
				goto lost_task;
			}
		}
		if (err2 != NULL) {
			free(error);
			error = err2;
			err2 = NULL;
		}
		if (rl->fenced || rl->refused)
			goto lost;
	}
	if (!rl->fin_stored && !rl->fin_spooled) {
		/* The end goes to the spool too, for the next start. */
		if (runlog_spool_write(rl, 'F', rl->fin, strlen(rl->fin),
		    &err2) == 0)
			rl->fin_spooled = 1;
		free(err2);
		err2 = NULL;
	}
	if (rl->fin_stored && complete) {
		if (rl->fin_incomplete &&
		    runlog_complete(pg, rl->id, &err2) < 0) {
			free(error);
			error = err2;
			goto pending;
		}
		if (!rl->fin_incomplete) {
			runlog_notify(rl, pg, NULL);
			/* Its task may have ended meanwhile, as incomplete. */
			if (rl->is_pending && rl->task_num > 0 &&
			    runlog_hooks.completed != NULL)
				runlog_hooks.completed(pg, rl->task_num,
				    runlog_hooks.data);
		}
		free(error);
		runlog_free(rl);
		return 0;
	}
pending:
	if (!rl->is_pending) {
		TAILQ_INSERT_TAIL(&runlog_pending, rl, pending);
		rl->is_pending = 1;
	}
	if (rl->loop != NULL && rl->timer == 0) {
		rl->timer = loop_add_timer(rl->loop, RUNLOG_RETRY_MS,
		    runlog_retry_cb, rl, NULL, rl);
		if (rl->timer < 0)
			rl->timer = 0;
	}
	set_error(errp, "run %s: output not completely stored yet (%zu rows "
	    "in the spool%s%s, %zu in memory); recorded as incomplete until "
	    "they are%s%s", rl->id, rl->spooled, rl->spool_path != NULL ?
	    " " : "", rl->spool_path != NULL ? rl->spool_path : "",
	    rl->nlines + rl->nevents, error != NULL ? ": " : "",
	    error != NULL ? error : "");
	free(error);
	return -1;

lost_task:
	/* The task must not end as if its output were all there. */
	if (rl->task_num > 0 && runlog_hooks.lost != NULL && (pg == NULL ||
	    PQstatus(pg) != CONNECTION_OK || runlog_hooks.lost(pg,
	    rl->task_num, runlog_hooks.data) <= 0)) {
		error = NULL;
		goto pending;	/* told once it ended and can be told */
	}
	set_error(errp, "run %s: rows are missing for good; it stays "
	    "incomplete", rl->id);
	runlog_free(rl);
	return -1;

lost:
	set_error(errp, "%s", error != NULL ? error : "rows lost");
	free(error);
	if (rl->spool_fd >= 0) {
		unlink(rl->spool_path);
		close(rl->spool_fd);
		rl->spool_fd = -1;
	}
	runlog_free(rl);
	return -1;
}

static int
runlog_retry_cb(void *data)
{
	struct runlog	*rl = data;
	char		*err = NULL;

	rl->timer = 0;	/* settle frees rl or re-arms */
	if (runlog_settle(rl, &err) != 0 && err != NULL) {
		log_debug("%s", err);
		free(err);
	}
	return 1;
}

int
runlog_finish(struct runlog *rl, const char *status, int exit_code,
    const char *summary_json, const struct chiffon_rusage *usage,
    char **errp)
{
	if (rl->timer != 0) {
		loop_remove(rl->loop, rl->timer);
		rl->timer = 0;
	}
	rl->fin = runlog_fin_json(rl, status, exit_code, summary_json, usage);
	return runlog_settle(rl, errp);
}

size_t
runlog_npending(void)
{
	struct runlog	*rl;
	size_t		 n = 0;

	TAILQ_FOREACH(rl, &runlog_pending, pending)
		n++;
	return n;
}

int
runlog_retry_pending(char **errp)
{
	struct runlog	*rl, *next;
	char		*err = NULL;
	int		 rc = 0;

	for (rl = TAILQ_FIRST(&runlog_pending); rl != NULL; rl = next) {
		next = TAILQ_NEXT(rl, pending);
		if (rl->timer != 0) {
			loop_remove(rl->loop, rl->timer);
			rl->timer = 0;
		}
		TAILQ_REMOVE(&runlog_pending, rl, pending);
		rl->is_pending = 0;
		if (runlog_settle(rl, &err) != 0) {
			rc = -1;
			if (errp != NULL && *errp == NULL)
				*errp = err;
			else
				free(err);
			err = NULL;
		}
	}
	return rc;
}

void
runlog_shutdown(void)
{
	struct runlog	*rl;

	while ((rl = TAILQ_FIRST(&runlog_pending)) != NULL) {
		if (rl->nlines + rl->nevents > 0)
			log_warn("run %s: %zu rows could not be stored nor "
			    "spooled and are lost", rl->id,
			    rl->nlines + rl->nevents);
		else
			log_warn("run %s: its spooled rows are stored at the "
			    "next start", rl->id);
		runlog_free(rl);
	}
}

/* -- the next start ------------------------------------------------------ */

/*
 * Store one spool file left by a process that is gone (its lock is
 * free) and remove it.  0, or -1 with *errp (kept).
 */
static int
runlog_recover_spool(PGconn *pg, const char *path, const char *id,
    char **errp)
{
	struct runlog_spool	 sp;
	long long		 task = 0;
	char			*status = NULL;
	int			 fd, rc;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return set_error(errp, "spool %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return 0;	/* its process is still at work */
	}
	if (runlog_spool_read(fd, path, &sp, errp) != 0) {
		close(fd);
		return -1;
	}
	rc = runlog_store(pg, id, &sp.lines, &sp.events, 1, errp);
	if (rc == 0 && sp.fin != NULL &&
	    runlog_close(pg, id, sp.fin, &status, &task, errp) < 0)
		rc = -1;
	if (rc != -1) {
		if (rc != 0)
			log_warn("spool %s: %s", path, rc == 1 ? "its run was "
			    "closed by another process; dropped" : *errp);
		unlink(path);
		/* Complete now: its task (incomplete, or ended) moves on. */
		if (runlog_complete(pg, id, NULL) == 0 && status != NULL &&
		    strcmp(status, "incomplete") != 0 && task > 0 &&
		    runlog_hooks.completed != NULL)
			runlog_hooks.completed(pg, task, runlog_hooks.data);
		rc = 0;
	}
	free(status);
	runlog_spool_free(&sp);
	close(fd);
	return rc;
}

/*
 * Row i of res (id, owner pid/start, task, token, agent, status) is an
 * incomplete run of a process that is gone: unless a spool of it is left
 * (its rows may still come), close it as interrupted with the rows
 * stored and the rest counted as lost, and tell the abandoned hook.  0,
 * or -1 with *errp (the first error only).
 */
static int
runlog_abandon(PGconn *pg, PGresult *res, int i, long pid, char **errp)
{
	const char	*rid = PQgetvalue(res, i, 0);
	const char	*params[1] = { rid };
	long long	 task = strtoll(PQgetvalue(res, i, 3), NULL, 10);
	long long	 lost;
	PGresult	*r2;
	struct stat	 st;
	char		*path;
	int		 left = 0;

	if (runlog_spool_dir != NULL) {
		path = xasprintf("%s/run-%s.spool", runlog_spool_dir, rid);
		left = stat(path, &st) == 0;
		free(path);
	}
	if (left)
		return 0;
	r2 = PQexecParams(pg, "SELECT chiffon_run_abandon($1::bigint)", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r2) != PGRES_TUPLES_OK) {
		if (errp != NULL && *errp == NULL)
			set_error(errp, "closing incomplete run %s: %s", rid,
			    PQresultErrorMessage(r2));
		PQclear(r2);
		return -1;
	}
	if (!PQgetisnull(r2, 0, 0)) {
		lost = strtoll(PQgetvalue(r2, 0, 0), NULL, 10);
		log_warn("run %s of process %ld, which is gone, was incomplete "
		    "and no spool of it is left: closed as interrupted, %lld "
		    "line%s never stored", rid, pid, lost, lost == 1 ? "" :
		    "s");
		if (task > 0 && runlog_hooks.abandoned != NULL)
			runlog_hooks.abandoned(pg, task, strtoll(PQgetvalue(res,
			    i, 4), NULL, 10), PQgetvalue(res, i, 5), lost,
			    runlog_hooks.data);
	}
	PQclear(r2);
	return 0;
}

/*
 * 3. Tasks still running whose last run a process of this host that is
 * gone had closed: it died between ending the run and ending the task.
 */
static int
runlog_recover_tasks(PGconn *pg, const char *host, char **errp)
{
	PGresult	*res;
	const char	*params[1] = { host };
	int		 i, n;

	if (runlog_hooks.interrupted == NULL)
		return 0;
	res = PQexecParams(pg, "SELECT t.id, coalesce(r.claim_token, 0), "
	    "coalesce(r.agent, ''), coalesce(r.owner_pid, 0), "
	    "coalesce(r.owner_start, -1) FROM tasks t CROSS JOIN LATERAL "
	    "(SELECT * FROM runs WHERE task_id = t.id ORDER BY id DESC "
	    "LIMIT 1) r WHERE t.status = 'running' AND r.owner_host = $1 AND "
	    "r.status NOT IN ('running', 'incomplete')", 1, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "finding tasks left running: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if (procfs_proc_alive(strtol(PQgetvalue(res, i, 3), NULL, 10),
		    strtoll(PQgetvalue(res, i, 4), NULL, 10)))
			continue;
		log_info("task %s: the process that ran it is gone after its "
		    "run ended", PQgetvalue(res, i, 0));
		runlog_hooks.interrupted(pg, strtoll(PQgetvalue(res, i, 0),
		    NULL, 10), strtoll(PQgetvalue(res, i, 1), NULL, 10),
		    PQgetvalue(res, i, 2), "the process that ran it is gone "
		    "(it died after its run ended, before the task did)",
		    runlog_hooks.data);
	}
	PQclear(res);
	return 0;
}

int
runlog_recover(struct db *db, int *ninterruptedp, char **errp)
{
	PGconn		*pg = db_pg(db);
	PGresult	*res;
	DIR		*d;
	struct dirent	*de;
	char		 host[256], *path, *id, *err = NULL;
	const char	*params[1] = { host };
	size_t		 len;
	long long	 start;
	int		 i, n, rc = 0;

	if (ninterruptedp != NULL)
		*ninterruptedp = 0;
	/* 1. Spools of processes that are gone. */
	if (runlog_spool_dir != NULL && (d = opendir(runlog_spool_dir)) !=
	    NULL) {
		while ((de = readdir(d)) != NULL) {
			len = strlen(de->d_name);
			if (strncmp(de->d_name, "run-", 4) != 0 || len < 11 ||
			    strcmp(de->d_name + len - 6, ".spool") != 0)
				continue;
			id = xstrndup(de->d_name + 4, len - 10);
			path = path_join(runlog_spool_dir, de->d_name);
			if (runlog_recover_spool(pg, path, id, &err) != 0) {
				if (rc == 0)
					set_error(errp, "%s", err);
				rc = -1;
			}
			free(err);
			err = NULL;
			free(path);
			free(id);
		}
		closedir(d);
	}

	/*
	 * 2. Runs left running by a process of this host that is gone, and
	 * runs it left incomplete with no spool of theirs left (step 1
	 * stored those it could): their missing rows are nowhere.
	 */
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	res = PQexecParams(pg, "SELECT id, coalesce(owner_pid, 0), "
	    "coalesce(owner_start, -1), coalesce(task_id, 0), "
	    "coalesce(claim_token, 0), coalesce(agent, ''), status FROM runs "
	    "WHERE status IN ('running', 'incomplete') AND owner_host = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "finding runs left open: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		const char	*rid = PQgetvalue(res, i, 0);
		long		 pid = strtol(PQgetvalue(res, i, 1), NULL, 10);
		long long	 task = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		PGresult	*r2;
		const char	*p2[1] = { rid };

		start = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		if (pid > 0 && procfs_proc_alive(pid, start))
			continue;	/* alive (or this very process) */
		if (strcmp(PQgetvalue(res, i, 6), "incomplete") == 0) {
			if (runlog_abandon(pg, res, i, pid, errp) != 0)
				rc = -1;
			continue;
		}
		r2 = PQexecParams(pg, "SELECT chiffon_run_interrupt($1::bigint)",
		    1, NULL, p2, NULL, NULL, 0);
		if (PQresultStatus(r2) != PGRES_TUPLES_OK) {
			if (rc == 0)
				set_error(errp, "closing run %s: %s", rid,
				    PQresultErrorMessage(r2));
			rc = -1;
		} else if (*PQgetvalue(r2, 0, 0) == 't') {
			log_info("run %s of process %ld, which is gone, is "
			    "closed as interrupted", rid, pid);
			if (ninterruptedp != NULL)
				(*ninterruptedp)++;
			if (task > 0 && runlog_hooks.interrupted != NULL)
				runlog_hooks.interrupted(pg, task,
				    strtoll(PQgetvalue(res, i, 4), NULL, 10),
				    PQgetvalue(res, i, 5), "the process that ran "
				    "it is gone (its run was left open)",
				    runlog_hooks.data);
		}
		PQclear(r2);
	}
	PQclear(res);
	if (runlog_recover_tasks(pg, host, errp) != 0)
		rc = -1;
	return rc;
}
