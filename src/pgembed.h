/*
 * pgembed.h - chiffon's private PostgreSQL cluster.
 *
 * Layout under the chiffon data directory DATA:
 *
 *	DATA/pg/		0700, owned by the account the server runs as
 *	DATA/pg/data/		the cluster (PGDATA), created by initdb
 *	DATA/pg/run/		0700, the server's unix socket (no TCP)
 *	DATA/pg/server.log	the server's log (pg_ctl -l)
 *
 * The server binaries are found in $CHIFFON_PG_BINDIR (or the directory
 * given to pgembed_set_bindir) when set, else through `pg_config --bindir`,
 * else in the highest /usr/lib/postgresql/N/bin holding initdb, pg_ctl
 * and postgres.  An existing cluster prefers the binaries of its own major
 * version when they are installed.
 *
 * When chiffon runs as root, initdb, pg_ctl and postgres run as the
 * unprivileged server account (db.server_user, default "postgres"): DATA/pg
 * is owned by it, and every directory above it must let it through.  The
 * socket directory and socket are 0700, so only that account and root can
 * connect; authentication on the socket is "trust", TCP is off.
 *
 * Every function returns errors (naming the file and what to do) instead of
 * printing them; the only log output is the note about a removed stale
 * postmaster.pid.
 */
#ifndef CHIFFON_PGEMBED_H
#define CHIFFON_PGEMBED_H

#include <stdint.h>
#include <sys/types.h>

struct pgembed;

/*
 * The database chiffon uses and the superuser initdb creates: the owner
 * role, which runs the migrations and owns every object.  chiffon itself
 * connects as the runtime role (not a superuser, owns nothing; its rights
 * are set by schema/005_gate.sql), created by pgembed_start.
 */
#define PGEMBED_DBNAME	"chiffon"
#define PGEMBED_USER	"chiffon"
#define PGEMBED_RUNTIME_USER "chiffon_runtime"
/* The port only names the socket file; the socket directory is private. */
#define PGEMBED_PORT	5432

/*
 * What pgembed_status found.  Strings are owned by the struct and freed by
 * pgembed_status_free.
 */
struct pgembed_status {
	int		 initialized;	/* PGDATA holds a cluster */
	int		 running;	/* its server is up */
	pid_t		 pid;		/* the postmaster, when running */
	char		*version;	/* of the binaries ("15.4"), or NULL */
	char		*cluster_major;	/* PG_VERSION of the cluster, "15" */
	char		*bindir;	/* where the binaries are, or NULL */
	uint64_t	 size;		/* bytes PGDATA uses on disk */
};

/*
 * A handle on the cluster under data_dir (DATA above).  server_user may be
 * NULL for "postgres"; it only matters when running as root.  Nothing is
 * touched until a function below needs it.  Caller frees.
 */
struct pgembed	*pgembed_new(const char *data_dir, const char *server_user);
void		 pgembed_free(struct pgembed *);

/* Look for the server binaries only in dir (overrides CHIFFON_PG_BINDIR). */
void		 pgembed_set_bindir(struct pgembed *, const char *dir);
/*
 * Throwaway clusters for tests: initdb --no-sync and fsync, full page
 * writes and synchronous commit off.  Only affects a new cluster.
 */
void		 pgembed_set_fast(struct pgembed *, int);
/* Refuse initdb/start with less than this many bytes free (default 64 MiB). */
void		 pgembed_set_min_free(struct pgembed *, uint64_t);

/* DATA/pg, DATA/pg/data, DATA/pg/run, DATA/pg/server.log. */
const char	*pgembed_dir(struct pgembed *);
const char	*pgembed_pgdata(struct pgembed *);
const char	*pgembed_socket_dir(struct pgembed *);
const char	*pgembed_log_path(struct pgembed *);

/*
 * Make sure the cluster exists (initdb on first use), runs, and has the
 * chiffon database and the runtime login role (PGEMBED_RUNTIME_USER).  Does nothing more when it is already running.  *started
 * (may be NULL) is set to 1 when this call started the server.
 */
int		 pgembed_start(struct pgembed *, int *started, char **errp);
/*
 * Non-zero when postmaster.pid names this cluster's live server (no
 * connection made: whether it answers, and has the database and the
 * runtime role, is for the caller's connection or pgembed_start).
 */
int		 pgembed_running(struct pgembed *);
/* pg_ctl stop -m fast.  *was_running (may be NULL) says if it ran. */
int		 pgembed_stop(struct pgembed *, int *was_running, char **errp);
/*
 * Inspect without changing anything (except removing a stale
 * postmaster.pid is NOT done here).  -1 only when even that fails.
 */
int		 pgembed_status(struct pgembed *, struct pgembed_status *,
		    char **errp);
void		 pgembed_status_free(struct pgembed_status *);

/*
 * libpq keyword/value connection string for dbname on the running
 * cluster ("host=DATA/pg/run port=5432 dbname=... user=chiffon").
 * Caller frees.
 */
char		*pgembed_conninfo(struct pgembed *, const char *dbname);
/* The same for another role (PGEMBED_RUNTIME_USER).  Caller frees. */
char		*pgembed_conninfo_user(struct pgembed *, const char *dbname,
		    const char *user);
/* The same as a postgresql:// URI (for `chiffon db url`).  Caller frees. */
char		*pgembed_url(struct pgembed *, const char *dbname);
/*
 * CREATE DATABASE dbname unless it exists.  dbname must be 1 to 63 of
 * [a-z0-9_], not starting with a digit.
 */
int		 pgembed_create_db(struct pgembed *, const char *dbname,
		    char **errp);

#endif
