/*
 * cmd-db.c - `chiffon db start|stop|status|url|migrate`: manage the
 * embedded PostgreSQL cluster and the schema.
 *
 * Exit statuses: 0 done (status: also when the cluster is stopped), 1 the
 * work failed (a migration), 2 bad usage (or start/stop with db.url set),
 * 3 the environment is broken (no server binaries, cannot connect...).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "db.h"
#include "migrate.h"
#include "pgembed.h"
#include "util.h"

static int	cmd_db(struct app *, int, char **);

const struct cmd_entry cmd_db_entry = {
	.name = "db",
	.usage = "start|stop|status|url|migrate\n"
	    "chiffon db prune --older-than AGE",
	.summary = "manage the database (embedded PostgreSQL cluster)",
	.args = { 1, -1 },
	.exec = cmd_db,
};

/* One subcommand. */
struct cmd_db_sub {
	const char	*name;
	const char	*summary;
	int		(*fn)(struct app *);
};

/* The configured db.url, or NULL when the embedded cluster is used. */
static const char *
cmd_db_url_conf(struct app *app)
{
	const char	*url = conf_get(app->conf, "db.url");

	return url != NULL && *url != '\0' ? url : NULL;
}

/* Refuse start/stop when a server is configured. */
static int
cmd_db_not_embedded(struct app *app, const char *what)
{
	const char	*origin = conf_origin(app->conf, "db.url");

	fprintf(stderr, "chiffon: db.url is set (%s), so the embedded "
	    "cluster is not in use: nothing to %s; unset db.url to use it\n",
	    origin != NULL ? origin : "configuration", what);
	return EXIT_USAGE;
}

/* The embedded cluster of this configuration.  Caller frees. */
static struct pgembed *
cmd_db_pgembed(struct app *app)
{
	const char	*dir = conf_data_dir(app->conf);

	if (dir == NULL)
		return NULL;
	return pgembed_new(dir, conf_get(app->conf, "db.server_user"));
}

static int
cmd_db_no_data_dir(void)
{
	fprintf(stderr, "chiffon: no data directory: set core.data_dir (or "
	    "CHIFFON_DATA_DIR)\n");
	return EXIT_USAGE;
}

static int
cmd_db_start(struct app *app)
{
	struct pgembed		*pg;
	struct pgembed_status	 st;
	char			*err = NULL;
	int			 started;

	if (cmd_db_url_conf(app) != NULL)
		return cmd_db_not_embedded(app, "start");
	if ((pg = cmd_db_pgembed(app)) == NULL)
		return cmd_db_no_data_dir();
	if (pgembed_start(pg, &started, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		pgembed_free(pg);
		return EXIT_ENV;
	}
	if (pgembed_status(pg, &st, NULL) == 0) {
		printf("%s PostgreSQL %s in %s (pid %ld, socket in %s)\n",
		    started ? "started" : "already running:",
		    st.version != NULL ? st.version : "?", pgembed_pgdata(pg),
		    (long)st.pid, pgembed_socket_dir(pg));
		pgembed_status_free(&st);
	}
	pgembed_free(pg);
	return EXIT_OK;
}

static int
cmd_db_stop(struct app *app)
{
	struct pgembed	*pg;
	char		*err = NULL;
	int		 was_running;

	if (cmd_db_url_conf(app) != NULL)
		return cmd_db_not_embedded(app, "stop");
	if ((pg = cmd_db_pgembed(app)) == NULL)
		return cmd_db_no_data_dir();
	if (pgembed_stop(pg, &was_running, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		pgembed_free(pg);
		return EXIT_ENV;
	}
	if (was_running)
		printf("stopped the embedded cluster in %s\n",
		    pgembed_pgdata(pg));
	else
		printf("the embedded cluster in %s is not running\n",
		    pgembed_pgdata(pg));
	pgembed_free(pg);
	return EXIT_OK;
}

/* "39.5 MiB".  Caller frees. */
static char *
cmd_db_size(uint64_t bytes)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB",
					     "TiB" };
	double	v = (double)bytes;
	size_t	u = 0;

	while (v >= 1024 && u + 1 < nitems(units)) {
		v /= 1024;
		u++;
	}
	return u == 0 ? xasprintf("%llu bytes", (unsigned long long)bytes) :
	    xasprintf("%.1f %s", v, units[u]);
}

/* The schema line of a status, from a live connection. */
static void
cmd_db_schema(PGconn *conn)
{
	char	*err = NULL;
	int	 v;

	if ((v = migrate_db_version(conn, &err)) < 0) {
		printf("%-10s unknown: %s\n", "schema:", err);
		free(err);
		return;
	}
	printf("%-10s version %d (this chiffon knows %d)%s\n", "schema:", v,
	    migrate_latest(), v < migrate_latest() ? "; 'chiffon db migrate' "
	    "applies the rest" : v > migrate_latest() ? "; newer than this "
	    "chiffon: upgrade chiffon" : "");
}

/* status with db.url: connect and report. */
static int
cmd_db_status_url(struct app *app)
{
	struct db	*db;
	const char	*origin = conf_origin(app->conf, "db.url");
	const char	*ver;
	char		*err = NULL;

	printf("%-10s PostgreSQL server from db.url (%s)\n", "database:",
	    origin != NULL ? origin : "configuration");
	db = db_open(app->conf, DB_OPEN_NO_MIGRATE, &err);
	if (db == NULL) {
		printf("%-10s unreachable\n", "state:");
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	printf("%-10s %s\n", "target:", db_conninfo(db));
	printf("%-10s connected\n", "state:");
	ver = PQparameterStatus(db_pg(db), "server_version");
	printf("%-10s PostgreSQL %s\n", "server:", ver != NULL ? ver : "?");
	cmd_db_schema(db_pg(db));
	db_close(db);
	return EXIT_OK;
}

static int
cmd_db_status(struct app *app)
{
	struct pgembed		*pg;
	struct pgembed_status	 st;
	struct db		*db;
	char			*err = NULL, *size;
	int			 rc = EXIT_OK;

	if (cmd_db_url_conf(app) != NULL)
		return cmd_db_status_url(app);
	if ((pg = cmd_db_pgembed(app)) == NULL)
		return cmd_db_no_data_dir();
	if (pgembed_status(pg, &st, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		pgembed_free(pg);
		return EXIT_ENV;
	}
	printf("%-10s embedded PostgreSQL cluster\n", "database:");
	if (st.running)
		printf("%-10s running (pid %ld)\n", "state:", (long)st.pid);
	else if (st.initialized)
		printf("%-10s stopped ('chiffon db start' starts it)\n",
		    "state:");
	else
		printf("%-10s not created yet (created on first use or by "
		    "'chiffon db start')\n", "state:");
	printf("%-10s %s\n", "data dir:", pgembed_pgdata(pg));
	if (st.version != NULL)
		printf("%-10s PostgreSQL %s (%s)\n", "server:", st.version,
		    st.bindir);
	else {
		printf("%-10s not found: install the Debian package "
		    "'postgresql' (apt-get install postgresql)\n", "server:");
		rc = EXIT_ENV;
	}
	if (st.initialized) {
		size = cmd_db_size(st.size);
		printf("%-10s PostgreSQL %s, %s\n", "cluster:",
		    st.cluster_major, size);
		free(size);
	}
	printf("%-10s %s\n", "socket:", pgembed_socket_dir(pg));
	printf("%-10s %s\n", "log:", pgembed_log_path(pg));
	if (st.running) {
		db = db_open(app->conf, DB_OPEN_NO_START | DB_OPEN_NO_MIGRATE,
		    &err);
		if (db != NULL) {
			cmd_db_schema(db_pg(db));
			db_close(db);
		} else {
			printf("%-10s unknown: %s\n", "schema:", err);
			free(err);
		}
	}
	pgembed_status_free(&st);
	pgembed_free(pg);
	return rc;
}

static int
cmd_db_url(struct app *app)
{
	struct pgembed	*pg;
	char		*url;

	if (cmd_db_url_conf(app) != NULL) {
		printf("%s\n", cmd_db_url_conf(app));
		return EXIT_OK;
	}
	if ((pg = cmd_db_pgembed(app)) == NULL)
		return cmd_db_no_data_dir();
	url = pgembed_url(pg, PGEMBED_DBNAME);
	printf("%s\n", url);
	free(url);
	pgembed_free(pg);
	return EXIT_OK;
}

static int
cmd_db_migrate(struct app *app)
{
	struct db	*db;
	char		*err = NULL;
	int		 n = 0, v;

	if ((db = db_open(app->conf, DB_OPEN_NO_MIGRATE, &err)) == NULL) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (db_migrate(db, &n, &err) != 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		if (n > 0)
			fprintf(stderr, "chiffon: %d migration(s) were applied "
			    "before the failure\n", n);
		db_close(db);
		return EXIT_FAIL;
	}
	if ((v = migrate_db_version(db_pg(db), &err)) < 0) {
		fprintf(stderr, "chiffon: %s\n", err);
		free(err);
		db_close(db);
		return EXIT_FAIL;
	}
	if (n > 0)
		printf("applied %d migration(s), schema version %d\n", n, v);
	else
		printf("schema is up to date (version %d)\n", v);
	db_close(db);
	return EXIT_OK;
}

static const struct cmd_db_sub cmd_db_subs[] = {
	{ "start", "start the embedded cluster (initdb on first use)",
	  cmd_db_start },
	{ "stop", "stop the embedded cluster", cmd_db_stop },
	{ "status", "where the database is and its state", cmd_db_status },
	{ "url", "print the connection URL (for psql)", cmd_db_url },
	{ "migrate", "apply pending schema migrations", cmd_db_migrate },
};

static int
cmd_db_usage(FILE *f)
{
	size_t	i;

	cmd_usage(f, &cmd_db_entry);
	for (i = 0; i < nitems(cmd_db_subs); i++)
		fprintf(f, "  %-8s %s\n", cmd_db_subs[i].name,
		    cmd_db_subs[i].summary);
	fprintf(f, "  %-8s %s\n", "prune", "drop months of run output and "
	    "events older than AGE (180d...)");
	return EXIT_USAGE;
}

static int
cmd_db(struct app *app, int argc, char **argv)
{
	size_t	i;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		cmd_db_usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return cmd_prune(app, argc - 1, argv + 1);
	if (argc != 2)
		return cmd_db_usage(stderr);
	for (i = 0; i < nitems(cmd_db_subs); i++) {
		if (strcmp(argv[1], cmd_db_subs[i].name) == 0)
			return cmd_db_subs[i].fn(app);
	}
	fprintf(stderr, "chiffon: db: unknown subcommand '%s'\n", argv[1]);
	return cmd_db_usage(stderr);
}
