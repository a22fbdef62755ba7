/*
 * db.h - the connection to PostgreSQL.
 *
 * db_open resolves where the database is (db.url / CHIFFON_DB_URL, else the
 * embedded cluster under the data dir, started on demand), applies pending
 * migrations unless told not to, as the owner role (db.owner_url, the
 * embedded cluster's superuser), and connects as the runtime role (db.url,
 * the embedded cluster's chiffon_runtime).  Connection loss is
 * detected; db_attach_loop makes the loop reconnect with backoff
 * (1 s doubling to 30 s) and db_state says where that stands.
 */
#ifndef CHIFFON_DB_H
#define CHIFFON_DB_H

#include <libpq-fe.h>

struct conf;
struct loop;
struct db;

#define DB_OPEN_NO_MIGRATE	0x1	/* do not apply migrations */
#define DB_OPEN_NO_START	0x2	/* do not start the embedded cluster */

/* NULL with *errp set (naming what to do) on failure.  Caller closes. */
struct db	*db_open(struct conf *, int flags, char **errp);
void		 db_close(struct db *);
/*
 * Apply pending migrations as the owner role (db.owner_url, or the
 * embedded cluster's superuser; without either, db.url's role is the
 * owner and its live connection migrates).  *napplied may be NULL.
 * 0, or -1 with *errp.
 */
int		 db_migrate(struct db *, int *napplied, char **errp);
/*
 * A new blocking connection as the owner role (the same as db.url's when
 * no owner is configured), for migrations and retention.  Caller
 * PQfinish()es; NULL with *errp.
 */
PGconn		*db_owner_connect(struct db *, char **errp);
/*
 * Another connection with the same settings (a run's output flusher).
 * Caller PQfinish()es; NULL with *errp.
 */
PGconn		*db_connect_more(struct db *, char **errp);
/* The live connection (may be CONNECTION_BAD while reconnecting). */
PGconn		*db_pg(struct db *);
/* The conninfo in use, with any password removed. */
const char	*db_conninfo(struct db *);
/* Non-zero when using the embedded cluster. */
int		 db_is_embedded(struct db *);
/* Watch the socket, detect loss, reconnect with backoff. */
int		 db_attach_loop(struct db *, struct loop *);
/*
 * NOTIFY on channel, on the live connection (LISTEN now and on every new
 * connection); cb gets each notification at the start of a loop round
 * once db_attach_loop ran.  Registered even when -1 (not connected now:
 * it LISTENs once reconnected).  db_unlisten removes every callback of
 * data.
 */
typedef void	(*db_notify_cb)(const char *channel, const char *extra,
		    void *data);
int		 db_listen(struct db *, const char *channel, db_notify_cb,
		    void *data, char **errp);
void		 db_unlisten(struct db *, void *data);
/* "connected", "reconnecting (attempt N, next in S s)", ... */
const char	*db_state(struct db *);
/* Check and, if lost, reconnect once now.  0 when connected. */
int		 db_ensure(struct db *, char **errp);

/*
 * PQexecParams: the result (caller clears) when the statement succeeds,
 * else NULL with *errp "database: " and the server's primary message.
 */
PGresult	*db_exec(PGconn *, const char *sql, int nparams,
		    const char *const *params, char **errp);
/* db_exec for a statement whose rows do not matter: 0, or -1 with *errp. */
int		 db_run(PGconn *, const char *sql, int nparams,
		    const char *const *params, char **errp);
/* End the open transaction with ROLLBACK (nothing when not connected). */
void		 db_rollback(PGconn *);
/*
 * The error of a failed statement (res may be NULL) without trailing
 * newlines and blanks; the status name when there is no text.  Caller
 * frees.
 */
char		*db_result_error(PGconn *, PGresult *);

#endif
