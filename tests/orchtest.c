/*
 * orchtest.c - shared set-up of the orchestrator suites (see orchtest.h).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "orchtest.h"
#include "pgembed.h"
#include "pgtest.h"
#include "plugins.h"
#include "request.h"
#include "testutil.h"
#include "util.h"

const char *
orchtest_srcdir(void)
{
	const char	*s = getenv("CHIFFON_SRCDIR");

	return s != NULL && *s != '\0' ? s : "..";
}

const char *
orchtest_builddir(void)
{
	const char	*s = getenv("CHIFFON_BUILDDIR");

	return s != NULL && *s != '\0' ? s : ".";
}

static void
orchtest_set(struct app *app, const char *key, const char *value)
{
	char	*err = NULL;

	ck_assert_msg(conf_set(app->conf, key, value, "test", &err) == 0,
	    "%s = %s: %s", key, value, err);
}

void
orchtest_start(struct orchtest *t, const char *prefix)
{
	orchtest_start_repo(t, prefix, "contrib/homelab");
}

void
orchtest_start_repo(struct orchtest *t, const char *prefix,
    const char *repo)
{
	struct pgtest	*pg = testutil_cluster();
	struct plugins	*ps;
	char		 dbname[32], *err = NULL;
	size_t		 i;

	memset(t, 0, sizeof *t);
	ck_assert_msg(pg != NULL, "no test cluster");
	snprintf(dbname, sizeof dbname, "%s%ld", prefix, (long)getpid());
	t->owner_conninfo = pgtest_new_db(pg, dbname, &err);
	ck_assert_msg(t->owner_conninfo != NULL, "%s", err);
	t->conninfo = pgtest_conninfo_user(pg, dbname, PGEMBED_RUNTIME_USER);
	t->tmp = testutil_tmpdir("orch");
	t->demo_root = path_join(t->tmp, "demo");
	ck_assert(mkdir_p(t->demo_root, 0755) == 0);
	setenv("CHIFFON_DEMO_ROOT", t->demo_root, 1);
	t->repo = path_join(orchtest_srcdir(), repo);
	t->plugin_dir = xasprintf("%s/plugins/infra/.libs",
	    orchtest_builddir());

	t->app = xcalloc(1, sizeof *t->app);
	t->app->argv0 = "orchtest";
	t->app->conf = conf_new();
	orchtest_set(t->app, "db.url", t->conninfo);
	orchtest_set(t->app, "db.owner_url", t->owner_conninfo);
	orchtest_set(t->app, "plugins.path", t->plugin_dir);
	orchtest_set(t->app, "plugins.load", "infra");
	orchtest_set(t->app, "ansible.repo", t->repo);
	orchtest_set(t->app, "core.data_dir", t->tmp);
	ck_assert_msg(app_db(t->app, &err) != NULL, "%s", err);
	t->owner = PQconnectdb(t->owner_conninfo);
	ck_assert_msg(PQstatus(t->owner) == CONNECTION_OK, "%s",
	    PQerrorMessage(t->owner));
	ps = app_plugins(t->app);
	if (plugins_find(ps, "infra") == NULL) {
		for (i = 0; i < plugins_nrefused(ps); i++)
			fprintf(stderr, "refused: %s: %s\n",
			    plugins_refusal_at(ps, i)->file,
			    plugins_refusal_at(ps, i)->reason);
		ck_abort_msg("the infra plugin did not load from %s (build "
		    "it: make plugins/infra/infra.la)", t->plugin_dir);
	}
}

void
orchtest_stop(struct orchtest *t)
{
	if (t->app != NULL) {
		app_free(t->app);
		free(t->app);
	}
	if (t->tmp != NULL)
		testutil_rm(t->tmp);
	if (t->owner != NULL)
		PQfinish(t->owner);
	free(t->owner_conninfo);
	free(t->conninfo);
	free(t->tmp);
	free(t->demo_root);
	free(t->repo);
	free(t->plugin_dir);
	memset(t, 0, sizeof *t);
}

PGconn *
orchtest_pg(struct orchtest *t)
{
	return db_pg(t->app->db);
}

PGconn *
orchtest_owner_pg(struct orchtest *t)
{
	return t->owner;
}

struct plan *
orchtest_plan(struct orchtest *t, const char *text)
{
	enum request_error	 why;
	struct plan		*p;
	char			*err = NULL;

	p = request_plan(t->app, text, REQUEST_SOURCE_CLI, NULL, NULL, NULL,
	    &why, &err);
	ck_assert_msg(p != NULL, "%s: %s", text, err);
	return p;
}

char *
orchtest_str(PGconn *pg, const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	char		*s;

	res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_msg(PQntuples(res) == 1, "%s: %d rows, not 1", sql,
	    PQntuples(res));
	s = PQgetisnull(res, 0, 0) ? NULL : xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return s;
}

long long
orchtest_int(PGconn *pg, const char *sql, int n, const char *const *params)
{
	char		*s = orchtest_str(pg, sql, n, params);
	long long	 v;

	ck_assert_msg(s != NULL, "%s: NULL", sql);
	v = strtoll(s, NULL, 10);
	free(s);
	return v;
}

int
orchtest_try(PGconn *pg, const char *sql, int n, const char *const *params,
    char **errp)
{
	PGresult	*res;
	ExecStatusType	 st;

	res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	if (errp != NULL)
		*errp = xstrdup(PQresultErrorMessage(res));
	PQclear(res);
	return -1;
}
