/*
 * db.c - the connection to PostgreSQL: where it is (db.url or the embedded
 * cluster), connecting, migrating, and reconnecting after a loss.
 *
 * Reconnection never blocks the loop: after a loss a timer waits the
 * backoff (1 s, doubling up to db.reconnect_max), then PQconnectStartParams
 * begins an attempt that PQconnectPoll drives from fd callbacks, with its
 * own timeout.  The live connection is swapped in only once the new one is
 * established, so db_pg always returns a PGconn (bad while reconnecting).
 * db_ensure is the blocking variant for synchronous callers.
 *
 * Notifications.  The live connection LISTENs for everyone of the process
 * (db_listen: the worker's chiffon_work, the shell's chiffon_task and
 * chiffon_run), again on every new connection, so that no session needs
 * a connection, and a server backend, of its own to be told.  What libpq
 * took in (the socket's watch, or any query's result) is handed to the
 * channel's callbacks at the start of the loop's next round
 * (loop_add_prepare), never from inside a query.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "migrate.h"
#include "pgembed.h"
#include "util.h"

#define DB_ATTEMPT_TIMEOUT_MS	10000	/* one non-blocking attempt */
#define DB_DEFAULT_RECONNECT_MAX 30

/*
 * One database connection and its reconnection state.  While waiting
 * between attempts timer_id is the backoff timer; while an attempt runs it
 * is that attempt's timeout.
 */
struct db {
	struct conf	*conf;
	struct pgembed	*pgembed;	/* NULL when db.url is used */
	char		*conninfo;	/* as configured (may hold secrets) */
	char		*display;	/* the same without the password */
	char		*owner_conninfo; /* the owner role (migrations), or
					   NULL: db.url's role is the owner */
	char		*owner_display;
	PGconn		*pg;		/* the live connection */

	struct loop	*loop;		/* set by db_attach_loop */
	int		 watch_id;	/* pg's socket */
	PGconn		*connecting;	/* attempt in progress, or NULL */
	int		 conn_watch_id;	/* its socket */
	int		 conn_fd;
	int		 timer_id;
	int		 attempt;	/* attempts since the loss */
	unsigned	 delay_s;	/* the next backoff */
	unsigned	 max_s;		/* db.reconnect_max */
	uint64_t	 next_at;	/* now_ms() of the next attempt */
	char		*last_error;	/* why the last attempt failed */
	char		*fatal;		/* FATAL notice on the live one */
	char		*state;		/* db_state's text */

	struct db_listener *listeners;	/* db_listen */
	size_t		 nlisteners;
	int		 delivering;	/* in db_deliver: no compaction */
	int		 prepare_id;	/* db_deliver on the loop */
};

/* A callback for NOTIFY on one channel (db_listen). */
struct db_listener {
	char		*channel;	/* NULL: removed while delivering */
	db_notify_cb	 cb;
	void		*data;
};

static int	db_watch_cb(int, int, void *);
static int	db_migrate_flags(struct db *, int flags, int *napplied,
		    char **errp);

/* Strip trailing whitespace in place. */
static char *
db_chomp(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' ||
	    s[n - 1] == '\r' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* A connection's error as one line.  Caller frees. */
static char *
db_pq_error(PGconn *conn)
{
	char	*s, *p, *q;

	s = db_chomp(xstrdup(conn != NULL ? PQerrorMessage(conn) :
	    "out of memory"));
	for (p = q = s; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
		if (*p == ' ' && q > s && q[-1] == ' ')
			continue;
		*q++ = *p;
	}
	*q = '\0';
	return s;
}

/*
 * The conninfo as keyword=value pairs without the password, for messages
 * and db_conninfo.  Caller frees.
 */
static char *
db_strip_password(const char *conninfo)
{
	PQconninfoOption	*opts, *o;
	struct strbuf		 sb = { 0 };
	const char		*p;
	char			*err = NULL;

	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		if (err != NULL)
			PQfreemem(err);
		return xstrdup("(a connection string libpq cannot parse)");
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0' ||
		    strcmp(o->keyword, "password") == 0)
			continue;
		if (sb.len > 0)
			strbuf_addc(&sb, ' ');
		strbuf_addf(&sb, "%s=", o->keyword);
		if (strpbrk(o->val, " '\\") == NULL) {
			strbuf_adds(&sb, o->val);
			continue;
		}
		strbuf_addc(&sb, '\'');
		for (p = o->val; *p != '\0'; p++) {
			if (*p == '\'' || *p == '\\')
				strbuf_addc(&sb, '\\');
			strbuf_addc(&sb, *p);
		}
		strbuf_addc(&sb, '\'');
	}
	PQconninfoFree(opts);
	return strbuf_detach(&sb);
}

/*
 * libpq NOTICEs are for debugging only.  A FATAL message arriving while
 * idle (the server is shutting down, or an administrator terminated the
 * backend) is kept as the reason for the loss that follows.
 */
static void
db_notice(void *arg, const char *message)
{
	struct db	*db = arg;
	char		*copy = db_chomp(xstrdup(message)), *p;

	log_debug("postgres: %s", copy);
	if (db != NULL && strncmp(copy, "FATAL:", 6) == 0) {
		for (p = copy + 6; *p == ' '; p++)
			;
		free(db->fatal);
		db->fatal = xstrdup(p);
	}
	free(copy);
}

static const char *const db_keywords[] = {
	"dbname", "fallback_application_name", NULL
};

/* Blocking connect to conninfo; always returns a PGconn (check PQstatus). */
static PGconn *
db_connect_to(struct db *db, const char *conninfo)
{
	const char	*values[] = { conninfo, "chiffon", NULL };
	PGconn		*conn;

	conn = PQconnectdbParams(db_keywords, values, 1);
	if (conn != NULL)
		PQsetNoticeProcessor(conn, db_notice, db);
	return conn;
}

static PGconn *
db_connect(struct db *db)
{
	return db_connect_to(db, db->conninfo);
}

PGconn *
db_connect_more(struct db *db, char **errp)
{
	PGconn	*conn = db_connect(db);
	char	*why;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		why = conn != NULL ? db_pq_error(conn) : xstrdup("out of "
		    "memory");
		set_error(errp, "%s: %s", db->display, why);
		free(why);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* The error for a failed connection: the target and what to do. */
static int
db_connect_error(struct db *db, PGconn *conn, int flags, char **errp)
{
	char	*why = db_pq_error(conn);

	if (db->pgembed != NULL && (flags & DB_OPEN_NO_START))
		set_error(errp, "cannot connect to the embedded PostgreSQL "
		    "cluster (%s): %s: it is probably not running; start it "
		    "with 'chiffon db start'", db->display, why);
	else if (db->pgembed != NULL)
		set_error(errp, "cannot connect to the embedded PostgreSQL "
		    "cluster (%s): %s: see 'chiffon db status' and %s",
		    db->display, why, pgembed_log_path(db->pgembed));
	else
		set_error(errp, "cannot connect to PostgreSQL at %s (db.url "
		    "from %s): %s: check that the server runs and lets this "
		    "user in, or fix db.url / CHIFFON_DB_URL", db->display,
		    conf_origin(db->conf, "db.url") != NULL ?
		    conf_origin(db->conf, "db.url") : "the configuration",
		    why);
	free(why);
	return -1;
}

/*
 * The common start: the server is up (the embedded one's pid is live),
 * the runtime role connects and the schema is current.  Then nothing is
 * created, migrated or partitioned, and neither the superuser's nor the
 * owner's connection is made (two connections and a dozen queries: 25-30
 * ms of every command, issue 15).  Non-zero with db->pg connected; else
 * nothing is kept and db_open takes the full path, which explains what
 * it finds.
 */
static int
db_open_current(struct db *db, int flags)
{
	if ((flags & DB_OPEN_NO_MIGRATE) || db->owner_conninfo == NULL ||
	    (db->pgembed != NULL && ((flags & DB_OPEN_NO_START) ||
	    !pgembed_running(db->pgembed))))
		return 0;
	db->pg = db_connect(db);
	if (PQstatus(db->pg) == CONNECTION_OK && migrate_current(db->pg))
		return 1;
	PQfinish(db->pg);
	db->pg = NULL;
	return 0;
}

struct db *
db_open(struct conf *conf, int flags, char **errp)
{
	struct db	*db = xcalloc(1, sizeof *db);
	const char	*url = conf_get(conf, "db.url");
	const char	*data_dir, *owner;

	db->conf = conf;
	db->delay_s = 1;
	db->max_s = DB_DEFAULT_RECONNECT_MAX;
	if (conf_get(conf, "db.reconnect_max") != NULL &&
	    conf_get_duration(conf, "db.reconnect_max") >= 1)
		db->max_s = (unsigned)conf_get_duration(conf,
		    "db.reconnect_max");

	if (url != NULL && *url != '\0') {
		db->conninfo = xstrdup(url);
		if ((owner = conf_get(conf, "db.owner_url")) != NULL &&
		    *owner != '\0')
			db->owner_conninfo = xstrdup(owner);
	} else {
		if ((data_dir = conf_data_dir(conf)) == NULL) {
			set_error(errp, "no data directory for the embedded "
			    "PostgreSQL cluster: set core.data_dir (or "
			    "CHIFFON_DATA_DIR), or db.url to use a server");
			goto fail;
		}
		db->pgembed = pgembed_new(data_dir,
		    conf_get(conf, "db.server_user"));
		/* The owner migrates; chiffon runs as the runtime role. */
		db->conninfo = pgembed_conninfo_user(db->pgembed,
		    PGEMBED_DBNAME, PGEMBED_RUNTIME_USER);
		db->owner_conninfo = pgembed_conninfo(db->pgembed,
		    PGEMBED_DBNAME);
	}
	db->display = db_strip_password(db->conninfo);
	if (db->owner_conninfo != NULL)
		db->owner_display = db_strip_password(db->owner_conninfo);
	if (db_open_current(db, flags))
		return db;
	if (db->pgembed != NULL && !(flags & DB_OPEN_NO_START) &&
	    pgembed_start(db->pgembed, NULL, errp) != 0)
		goto fail;

	/* First migrate as the owner: it may create the runtime role. */
	if (!(flags & DB_OPEN_NO_MIGRATE) && db->owner_conninfo != NULL &&
	    db_migrate_flags(db, flags, NULL, errp) != 0)
		goto fail;
	db->pg = db_connect(db);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		db_connect_error(db, db->pg, flags, errp);
		goto fail;
	}
	if (!(flags & DB_OPEN_NO_MIGRATE) && db->owner_conninfo == NULL &&
	    db_migrate_flags(db, flags, NULL, errp) != 0)
		goto fail;
	return db;

fail:
	db_close(db);
	return NULL;
}

/* db_owner_connect with db_open's flags (for its messages). */
static PGconn *
db_owner_connect_flags(struct db *db, int flags, char **errp)
{
	PGconn	*conn;
	char	*why;

	conn = db_connect_to(db, db->owner_conninfo != NULL ?
	    db->owner_conninfo : db->conninfo);
	if (PQstatus(conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn, db_notice, NULL);
		return conn;
	}
	if (db->owner_conninfo == NULL || db->pgembed != NULL) {
		/* Not running, unreachable: as for the live connection. */
		db_connect_error(db, conn, flags, errp);
		PQfinish(conn);
		return NULL;
	}
	why = db_pq_error(conn);
	set_error(errp, "cannot connect to PostgreSQL as the owner role (%s, "
	    "db.owner_url): %s", db->owner_display, why);
	free(why);
	PQfinish(conn);
	return NULL;
}

PGconn *
db_owner_connect(struct db *db, char **errp)
{
	return db_owner_connect_flags(db, 0, errp);
}

/* db_migrate with db_open's flags. */
static int
db_migrate_flags(struct db *db, int flags, int *napplied, char **errp)
{
	PGconn		*conn;
	const char	*where;
	char		*err = NULL;
	int		 n = 0, rc;

	if (napplied != NULL)
		*napplied = 0;
	if (db->owner_conninfo == NULL && db->pg != NULL) {
		conn = db->pg;
		where = db->display;
	} else if ((conn = db_owner_connect_flags(db, flags, errp)) == NULL)
		return -1;
	else
		where = db->owner_conninfo != NULL ? db->owner_display :
		    db->display;
	rc = migrate_apply(conn, &n, &err);
	if (rc != 0) {
		set_error(errp, "database %s: %s", where, err);
		free(err);
	} else if (n > 0)
		log_info("applied %d migration(s) to %s", n, where);
	if (conn != db->pg)
		PQfinish(conn);
	if (napplied != NULL)
		*napplied = n;
	return rc;
}

int
db_migrate(struct db *db, int *napplied, char **errp)
{
	return db_migrate_flags(db, 0, napplied, errp);
}

/* Stop watching and waiting: no registrations left on the loop. */
static void
db_detach(struct db *db)
{
	if (db->loop == NULL)
		return;
	if (db->watch_id > 0)
		loop_remove(db->loop, db->watch_id);
	if (db->conn_watch_id > 0)
		loop_remove(db->loop, db->conn_watch_id);
	if (db->timer_id > 0)
		loop_remove(db->loop, db->timer_id);
	db->watch_id = db->conn_watch_id = db->timer_id = 0;
}

void
db_close(struct db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	db_detach(db);
	if (db->loop != NULL && db->prepare_id > 0)
		loop_remove(db->loop, db->prepare_id);
	for (i = 0; i < db->nlisteners; i++)
		free(db->listeners[i].channel);
	free(db->listeners);
	if (db->connecting != NULL)
		PQfinish(db->connecting);
	if (db->pg != NULL)
		PQfinish(db->pg);
	pgembed_free(db->pgembed);
	free(db->conninfo);
	free(db->display);
	free(db->owner_conninfo);
	free(db->owner_display);
	free(db->last_error);
	free(db->fatal);
	free(db->state);
	free(db);
}

PGconn *
db_pg(struct db *db)
{
	return db->pg;
}

const char *
db_conninfo(struct db *db)
{
	return db->display;
}

int
db_is_embedded(struct db *db)
{
	return db->pgembed != NULL;
}

static void
db_set_error(struct db *db, char *why)
{
	free(db->last_error);
	db->last_error = why;
}

/* Watch the live connection's socket. */
static void
db_watch(struct db *db)
{
	int	fd = PQsocket(db->pg);

	if (db->loop == NULL || fd < 0)
		return;
	db->watch_id = loop_watch_fd(db->loop, fd, CHIFFON_FD_READ,
	    db_watch_cb, db, NULL, NULL);
	if (db->watch_id < 0)
		db->watch_id = 0;
}

/* LISTEN on the live connection: 0, or -1 with *errp. */
static int
db_send_listen(struct db *db, const char *cmd, const char *channel,
    char **errp)
{
	char	*id, *sql;
	int	 rc;

	if ((id = PQescapeIdentifier(db->pg, channel, strlen(channel))) ==
	    NULL) {
		sql = db_pq_error(db->pg);
		set_error(errp, "%s %s: %s", cmd, channel, sql);
		free(sql);
		return -1;
	}
	sql = xasprintf("%s %s", cmd, id);
	PQfreemem(id);
	rc = db_run(db->pg, sql, 0, NULL, errp);
	free(sql);
	return rc;
}

/* Whether a listener before index n has channel (LISTEN sent once). */
static int
db_listened(struct db *db, size_t n, const char *channel)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (db->listeners[i].channel != NULL &&
		    strcmp(db->listeners[i].channel, channel) == 0)
			return 1;
	return 0;
}

/* LISTEN for every channel on a new live connection. */
static void
db_relisten(struct db *db)
{
	char	*err = NULL;
	size_t	 i;

	for (i = 0; i < db->nlisteners; i++) {
		if (db->listeners[i].channel == NULL ||
		    db_listened(db, i, db->listeners[i].channel))
			continue;
		if (db_send_listen(db, "LISTEN", db->listeners[i].channel,
		    &err) != 0) {
			log_warn("%s: %s", db->display, err);
			free(err);
			err = NULL;
		}
	}
}

int
db_listen(struct db *db, const char *channel, db_notify_cb cb, void *data,
    char **errp)
{
	struct db_listener	*l;
	int			 sent;

	sent = db_listened(db, db->nlisteners, channel);
	db->listeners = xreallocarray(db->listeners, db->nlisteners + 1,
	    sizeof *db->listeners);
	l = &db->listeners[db->nlisteners++];
	l->channel = xstrdup(channel);
	l->cb = cb;
	l->data = data;
	if (sent)
		return 0;
	if (PQstatus(db->pg) != CONNECTION_OK)
		return set_error(errp, "not connected to %s (it LISTENs "
		    "once reconnected)", db->display);
	return db_send_listen(db, "LISTEN", channel, errp);
}

/* Drop the listeners removed (not while delivering: indexes held). */
static void
db_listeners_compact(struct db *db)
{
	size_t	i, j;

	if (db->delivering)
		return;
	for (i = j = 0; i < db->nlisteners; i++)
		if (db->listeners[i].channel != NULL)
			db->listeners[j++] = db->listeners[i];
	db->nlisteners = j;
}

void
db_unlisten(struct db *db, void *data)
{
	char	*channel;
	size_t	 i;

	for (i = 0; i < db->nlisteners; i++) {
		if (db->listeners[i].channel == NULL ||
		    db->listeners[i].data != data)
			continue;
		channel = db->listeners[i].channel;
		db->listeners[i].channel = NULL;
		if (!db_listened(db, db->nlisteners, channel) &&
		    PQstatus(db->pg) == CONNECTION_OK)
			(void)db_send_listen(db, "UNLISTEN", channel, NULL);
		free(channel);
	}
	db_listeners_compact(db);
}

/*
 * Hand what libpq took in to the callbacks (a loop prepare callback).
 * Callbacks may query (taking in more, handed on in the same turn),
 * listen and unlisten.
 */
static int
db_deliver(void *data)
{
	struct db	*db = data;
	PGnotify	*n;
	size_t		 i;

	if (db->pg == NULL || db->delivering)
		return 0;
	db->delivering = 1;
	while ((n = PQnotifies(db->pg)) != NULL) {
		for (i = 0; i < db->nlisteners; i++)
			if (db->listeners[i].channel != NULL &&
			    strcmp(db->listeners[i].channel, n->relname) == 0)
				db->listeners[i].cb(n->relname, n->extra,
				    db->listeners[i].data);
		PQfreemem(n);
	}
	db->delivering = 0;
	db_listeners_compact(db);
	return 0;
}

/* A new connection is up: make it the live one. */
static void
db_connected(struct db *db, PGconn *conn)
{
	PQsetNoticeProcessor(conn, db_notice, db);
	free(db->fatal);
	db->fatal = NULL;
	if (db->pg != NULL)
		PQfinish(db->pg);
	db->pg = conn;
	if (db->attempt > 0)
		log_info("reconnected to %s after %d attempt(s)", db->display,
		    db->attempt);
	db->attempt = 0;
	db->delay_s = 1;
	db_set_error(db, NULL);
	db_watch(db);
	db_relisten(db);
}

static int	db_timer_cb(void *);

/* Wait the current backoff, then try again; double the next backoff. */
static void
db_schedule(struct db *db)
{
	if (db->loop == NULL)
		return;
	db->next_at = now_ms() + (uint64_t)db->delay_s * 1000;
	db->timer_id = loop_add_timer(db->loop, (uint64_t)db->delay_s * 1000,
	    db_timer_cb, db, NULL, NULL);
	if (db->timer_id < 0)
		db->timer_id = 0;
	db->delay_s = db->delay_s * 2 > db->max_s ? db->max_s :
	    db->delay_s * 2;
}

/* The attempt in progress failed: forget it and schedule the next. */
static void
db_attempt_failed(struct db *db, char *why)
{
	log_debug("reconnecting to %s: attempt %d failed: %s", db->display,
	    db->attempt, why);
	db_set_error(db, why);
	if (db->conn_watch_id > 0)
		loop_remove(db->loop, db->conn_watch_id);
	db->conn_watch_id = 0;
	if (db->timer_id > 0)
		loop_remove(db->loop, db->timer_id);
	db->timer_id = 0;
	if (db->connecting != NULL)
		PQfinish(db->connecting);
	db->connecting = NULL;
	db_schedule(db);
}

/* The attempt's timeout. */
static int
db_attempt_timeout_cb(void *data)
{
	struct db	*db = data;

	db->timer_id = 0;
	db_attempt_failed(db, xstrdup("timed out"));
	return 1;
}

/* Drive PQconnectPoll when the attempt's socket is ready. */
static int
db_connect_cb(int fd, int revents, void *data)
{
	struct db		*db = data;
	PostgresPollingStatusType st;
	int			 nfd;

	(void)fd;
	(void)revents;
	st = PQconnectPoll(db->connecting);
	switch (st) {
	case PGRES_POLLING_OK:
		db->conn_watch_id = 0;
		if (db->timer_id > 0)
			loop_remove(db->loop, db->timer_id);
		db->timer_id = 0;
		db_connected(db, db->connecting);
		db->connecting = NULL;
		return 1;
	case PGRES_POLLING_FAILED:
		db_attempt_failed(db, db_pq_error(db->connecting));
		return 0;	/* already removed */
	default:
		break;
	}
	nfd = PQsocket(db->connecting);
	if (nfd != db->conn_fd) {
		/* libpq moved on to another address: watch the new socket. */
		db->conn_fd = nfd;
		db->conn_watch_id = loop_watch_fd(db->loop, nfd,
		    st == PGRES_POLLING_READING ? CHIFFON_FD_READ :
		    CHIFFON_FD_WRITE, db_connect_cb, db, NULL, NULL);
		return 1;
	}
	loop_fd_events(db->loop, db->conn_watch_id,
	    st == PGRES_POLLING_READING ? CHIFFON_FD_READ : CHIFFON_FD_WRITE);
	return 0;
}

/* Start one non-blocking attempt. */
static void
db_attempt(struct db *db)
{
	const char	*values[] = { db->conninfo, "chiffon", NULL };

	db->attempt++;
	db->connecting = PQconnectStartParams(db_keywords, values, 1);
	if (db->connecting == NULL) {
		db_attempt_failed(db, xstrdup("out of memory"));
		return;
	}
	if (PQstatus(db->connecting) == CONNECTION_BAD ||
	    PQsocket(db->connecting) < 0) {
		db_attempt_failed(db, db_pq_error(db->connecting));
		return;
	}
	/* libpq: begin as if PQconnectPoll had said POLLING_WRITING. */
	db->conn_fd = PQsocket(db->connecting);
	db->conn_watch_id = loop_watch_fd(db->loop, db->conn_fd,
	    CHIFFON_FD_WRITE, db_connect_cb, db, NULL, NULL);
	db->timer_id = loop_add_timer(db->loop, DB_ATTEMPT_TIMEOUT_MS,
	    db_attempt_timeout_cb, db, NULL, NULL);
}

/* The backoff is over. */
static int
db_timer_cb(void *data)
{
	struct db	*db = data;

	db->timer_id = 0;
	db_attempt(db);
	return 1;
}

/* The live connection is gone: start the backoff. */
static void
db_lost(struct db *db)
{
	char	*why;

	if (db->fatal != NULL)
		why = xstrdup(db->fatal);
	else
		why = db_pq_error(db->pg);
	if (*why == '\0') {
		free(why);
		why = xstrdup("the connection was closed");
	}
	log_warn("lost the connection to %s: %s; reconnecting", db->display,
	    why);
	db_set_error(db, why);
	db->attempt = 0;
	db->delay_s = 1;
	db_schedule(db);
}

/*
 * The live socket is readable: take in what arrived (notifications stay
 * queued in libpq for whoever LISTENs) and notice a closed connection.
 */
static int
db_watch_cb(int fd, int revents, void *data)
{
	struct db	*db = data;

	(void)fd;
	/* PQisBusy parses what arrived: notices, notifications. */
	if (PQconsumeInput(db->pg) != 0 && PQstatus(db->pg) == CONNECTION_OK) {
		PQisBusy(db->pg);
		if (!(revents & CHIFFON_FD_ERROR))
			return 0;
		/* Hung up: the next read sees the end and marks it bad. */
		PQconsumeInput(db->pg);
	}
	db->watch_id = 0;
	db_lost(db);
	return 1;
}

int
db_attach_loop(struct db *db, struct loop *loop)
{
	if (db->loop != NULL)
		return db->loop == loop ? 0 : -1;
	db->loop = loop;
	db->prepare_id = loop_add_prepare(loop, db_deliver, db, NULL, NULL);
	if (PQstatus(db->pg) == CONNECTION_OK)
		db_watch(db);
	else
		db_lost(db);
	return 0;
}

const char *
db_state(struct db *db)
{
	uint64_t	now = now_ms();
	unsigned	left;

	free(db->state);
	if (db->connecting != NULL)
		db->state = xasprintf("reconnecting (attempt %d)",
		    db->attempt);
	else if (PQstatus(db->pg) == CONNECTION_OK)
		db->state = xstrdup("connected");
	else if (db->timer_id > 0) {
		left = db->next_at > now ?
		    (unsigned)((db->next_at - now + 999) / 1000) : 0;
		db->state = xasprintf("reconnecting (attempt %d, next in "
		    "%u s)%s%s", db->attempt + 1, left,
		    db->last_error != NULL ? ": " : "",
		    db->last_error != NULL ? db->last_error : "");
	} else
		db->state = xasprintf("disconnected%s%s",
		    db->last_error != NULL ? ": " : "",
		    db->last_error != NULL ? db->last_error : "");
	return db->state;
}

int
db_ensure(struct db *db, char **errp)
{
	PGconn	*conn;
	char	*err = NULL;
	int	 tried_start = 0;

	if (PQstatus(db->pg) == CONNECTION_OK && PQconsumeInput(db->pg) != 0 &&
	    PQstatus(db->pg) == CONNECTION_OK)
		return 0;

	/* Lost: abandon any attempt in progress and try once, now. */
	db_detach(db);
	if (db->connecting != NULL)
		PQfinish(db->connecting);
	db->connecting = NULL;
	for (;;) {
		db->attempt++;
		conn = db_connect(db);
		if (PQstatus(conn) == CONNECTION_OK) {
			db_connected(db, conn);
			return 0;
		}
		if (db->pgembed == NULL || tried_start)
			break;
		/* The embedded server may have been stopped: start it. */
		tried_start = 1;
		PQfinish(conn);
		if (pgembed_start(db->pgembed, NULL, &err) != 0) {
			db_set_error(db, xstrdup(err));
			set_error(errp, "%s", err);
			free(err);
			db_schedule(db);
			return -1;
		}
	}
	db_set_error(db, db_pq_error(conn));
	db_connect_error(db, conn, 0, errp);
	PQfinish(conn);
	db_schedule(db);
	return -1;
}

PGresult *
db_exec(PGconn *pg, const char *sql, int nparams, const char *const *params,
    char **errp)
{
	PGresult	*res;
	ExecStatusType	 st;
	const char	*msg;

	res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL;
	set_error(errp, "database: %s", msg != NULL ? msg :
	    PQerrorMessage(pg));
	PQclear(res);
	return NULL;
}

int
db_run(PGconn *pg, const char *sql, int nparams, const char *const *params,
    char **errp)
{
	PGresult	*res = db_exec(pg, sql, nparams, params, errp);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

void
db_rollback(PGconn *pg)
{
	if (PQstatus(pg) == CONNECTION_OK)
		PQclear(PQexec(pg, "ROLLBACK"));
}

char *
db_result_error(PGconn *pg, PGresult *res)
{
	char	*msg;
	size_t	 len;

	msg = xstrdup(res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(pg));
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	if (*msg == '\0') {
		free(msg);
		msg = xstrdup(PQresStatus(PQresultStatus(res)));
	}
	return msg;
}
