/*
 * check_infra_catalog.c - the "ansible.catalog" and "ansible.match"
 * capabilities through the real host and the built infra plugin, against
 * a throwaway PostgreSQL cluster: rows in playbooks, the incremental
 * refresh across processes (cache loaded from the database), removed
 * playbooks deleted, the inventory from ansible-inventory, and cached
 * mappings from playbook_mappings.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "host.h"
#include "pgtest.h"
#include "plugins.h"
#include "testutil.h"
#include "util.h"

static struct pgtest	*pg;
static struct app	 app;
static char		*conninfo;

static char *
check_infra_catalog_src(const char *rel)
{
	const char	*s = getenv("CHIFFON_SRCDIR");

	return path_join(s != NULL ? s : "..", rel);
}

static void
check_infra_catalog_set(const char *key, const char *value)
{
	char	*err = NULL;

	ck_assert_msg(conf_set(app.conf, key, value, "test", &err) == 0,
	    "%s", err);
}

/* The app on the test database with the infra plugin and repo rel. */
static void
check_infra_catalog_start(const char *rel)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");
	char		*dir, *repo, *err = NULL;

	memset(&app, 0, sizeof app);
	app.argv0 = "check_infra_catalog";
	app.conf = conf_new();
	check_infra_catalog_set("db.url", conninfo);
	dir = xasprintf("%s/plugins/infra/.libs", b != NULL ? b : ".");
	check_infra_catalog_set("plugins.path", dir);
	free(dir);
	check_infra_catalog_set("plugins.load", "infra");
	if (rel != NULL) {
		repo = check_infra_catalog_src(rel);
		check_infra_catalog_set("ansible.repo", repo);
		free(repo);
	}
	ck_assert_msg(app_db(&app, &err) != NULL, "%s", err);
	ck_assert_msg(plugins_find(app_plugins(&app), "infra") != NULL,
	    "the infra plugin did not load (make plugins/infra/infra.la)");
}

/* Invoke a capability synchronously; the parsed result (caller puts). */
static json_object *
check_infra_catalog_invoke(const char *cap, const char *params,
    const char *want_status)
{
	char		*status = NULL, *result = NULL, *err = NULL;
	json_object	*o;

	ck_assert_msg(host_invoke_sync(&app, cap, params, 120000, &status,
	    &result, &err) == 0, "%s: %s", cap, err);
	ck_assert_msg(strcmp(status, want_status) == 0, "%s: %s: %s", cap,
	    status, result);
	o = json_tokener_parse(result);
	ck_assert_ptr_nonnull(o);
	free(status);
	free(result);
	return o;
}

/* One value of a one-row query. Caller frees. */
static char *
check_infra_catalog_sql(const char *sql, const char *param)
{
	PGresult	*res;
	char		*v;

	res = PQexecParams(db_pg(app.db), sql, param != NULL ? 1 : 0, NULL,
	    param != NULL ? &param : NULL, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_int_eq(PQntuples(res), 1);
	v = xstrdup(PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
check_infra_catalog_sql_eq(const char *sql, const char *param,
    const char *want)
{
	char	*v = check_infra_catalog_sql(sql, param);

	ck_assert_msg(strcmp(v, want) == 0, "%s [%s]: '%s', expected '%s'",
	    sql, param != NULL ? param : "", v, want);
	free(v);
}

static int
check_infra_catalog_stat(json_object *o, const char *key)
{
	return json_object_get_int(json_object_object_get(
	    json_object_object_get(o, "stats"), key));
}

START_TEST(test_catalog_rows)
{
	json_object	*o, *groups;

	check_infra_catalog_start("contrib/homelab");
	o = check_infra_catalog_invoke("ansible.catalog", "{\"refresh\":true}",
	    "successful");
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "playbooks")), 16);
	ck_assert_int_eq(check_infra_catalog_stat(o, "parsed"), 16);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "hosts")), 5);
	groups = json_object_object_get(o, "groups");
	ck_assert_ptr_nonnull(json_object_object_get(groups, "proxmox"));
	ck_assert_ptr_nonnull(json_object_object_get(groups, "docker_hosts"));
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "skipped")), 0);
	json_object_put(o);

	check_infra_catalog_sql_eq("SELECT count(*) FROM playbooks", NULL,
	    "16");
	check_infra_catalog_sql_eq("SELECT service || ' ' || hosts || ' ' || "
	    "aliases::text FROM playbooks WHERE path = $1", "kuma-deploy.yml",
	    "kuma monitoring {uptime-kuma,\"uptime kuma\",\"kuma uptime\"}");
	/* Names of play vars, never their values (issue 9, item 11). */
	check_infra_catalog_sql_eq("SELECT (vars ? 'app_name')::text || ' ' || "
	    "coalesce(vars->>'app_name', 'null') FROM playbooks "
	    "WHERE path = $1", "kuma-deploy.yml", "true null");
	check_infra_catalog_sql_eq("SELECT detail->'services'->0->>'name' || "
	    "' ' || (detail->'variables' ? 'app_name')::text FROM playbooks "
	    "WHERE path = $1", "kuma-deploy.yml", "compose_app true");
	check_infra_catalog_sql_eq("SELECT 'Write the docker compose file' = "
	    "ANY (task_names) AND roles = '{compose_app}' FROM playbooks "
	    "WHERE path = $1", "kuma-deploy.yml", "t");
	check_infra_catalog_sql_eq("SELECT length(sha256) FROM playbooks "
	    "WHERE path = $1", "site.yml", "64");

	/* Nothing changed: nothing parsed. */
	o = check_infra_catalog_invoke("ansible.catalog", NULL, "successful");
	ck_assert_int_eq(check_infra_catalog_stat(o, "parsed"), 0);
	ck_assert_int_eq(check_infra_catalog_stat(o, "unchanged"), 16);
	json_object_put(o);
	app_free(&app);

	/* A new process: the cache comes from the database. */
	check_infra_catalog_start("contrib/homelab");
	o = check_infra_catalog_invoke("ansible.catalog", NULL, "successful");
	ck_assert_int_eq(check_infra_catalog_stat(o, "parsed"), 0);
	ck_assert_int_eq(check_infra_catalog_stat(o, "unchanged"), 16);
	json_object_put(o);
	/* --refresh: everything parsed again, same rows. */
	o = check_infra_catalog_invoke("ansible.catalog", "{\"full\":true}",
	    "successful");
	ck_assert_int_eq(check_infra_catalog_stat(o, "parsed"), 16);
	json_object_put(o);
	check_infra_catalog_sql_eq("SELECT count(*) FROM playbooks", NULL,
	    "16");
	app_free(&app);

	/* Another repository: the homelab's rows go, the fixtures' come. */
	check_infra_catalog_start("tests/catalog");
	o = check_infra_catalog_invoke("ansible.catalog", NULL, "successful");
	ck_assert_int_eq(check_infra_catalog_stat(o, "removed"), 16);
	/* broken.yml (YAML error) and common-handlers.yml (a task file):
	 * every unused file once, with its reason; hosts.yml is the
	 * inventory, used. */
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "skipped")), 2);
	json_object_put(o);
	check_infra_catalog_sql_eq("SELECT count(*) FROM playbooks", NULL,
	    "13");
	app_free(&app);
}
END_TEST

START_TEST(test_match)
{
	json_object	*o, *m;
	char		*id;
	const char	*params[2];
	PGresult	*res;

	check_infra_catalog_start("contrib/homelab");
	o = check_infra_catalog_invoke("ansible.match", "{\"text\":\"Deploy "
	    "Kuma Uptime to homelab\"}", "successful");
	m = json_object_object_get(o, "match");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(m,
	    "path")), "kuma-deploy.yml");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(m,
	    "method")), "exact");
	json_object_put(o);

	o = check_infra_catalog_invoke("ansible.match", "{\"text\":\"deploy "
	    "my cloud drives\"}", "successful");
	ck_assert_ptr_null(json_object_object_get(o, "match"));
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "candidates")), 3);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "phrase")), "deploy: cloud drive");
	json_object_put(o);

	/* The admin confirmed nextcloud once: a cached mapping. */
	id = check_infra_catalog_sql("SELECT id FROM playbooks WHERE path = "
	    "$1", "nextcloud-deploy.yml");
	params[0] = "deploy: cloud drive";
	params[1] = id;
	res = PQexecParams(db_pg(app.db), "INSERT INTO playbook_mappings "
	    "(phrase, playbook_id, confidence) VALUES ($1, $2, 0.9)", 2, NULL,
	    params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(res));
	PQclear(res);
	free(id);
	o = check_infra_catalog_invoke("ansible.match", "{\"text\":\"Deploy "
	    "my cloud drives\"}", "successful");
	m = json_object_object_get(o, "match");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(m,
	    "path")), "nextcloud-deploy.yml");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(m,
	    "method")), "mapping");
	json_object_put(o);
	check_infra_catalog_sql_eq("SELECT use_count || ' ' || (last_used IS "
	    "NOT NULL) FROM playbook_mappings WHERE phrase = $1",
	    "deploy: cloud drive", "1 true");

	/* Bad parameters fail the task with a message. */
	o = check_infra_catalog_invoke("ansible.match", "{}", "failed");
	ck_assert_ptr_nonnull(strstr(json_object_get_string(
	    json_object_object_get(o, "error")), "text"));
	json_object_put(o);
	app_free(&app);
}
END_TEST

START_TEST(test_no_repo)
{
	json_object	*o;

	check_infra_catalog_start(NULL);
	o = check_infra_catalog_invoke("ansible.catalog", NULL, "failed");
	ck_assert_ptr_nonnull(strstr(json_object_get_string(
	    json_object_object_get(o, "error")), "ansible.repo"));
	json_object_put(o);
	app_free(&app);
}
END_TEST

static void
check_infra_catalog_cluster_start(void)
{
	char	*err = NULL;

	testutil_cluster_start();
	if ((pg = testutil_cluster()) != NULL &&
	    (conninfo = pgtest_new_db(pg, "catalog", &err)) == NULL) {
		fprintf(stderr, "check_infra_catalog: %s\n", err);
		free(err);
	}
}

static void
check_infra_catalog_cluster_stop(void)
{
	free(conninfo);
	conninfo = NULL;
	testutil_cluster_stop();
	pg = NULL;
}

static Suite *
infra_catalog_suite(void)
{
	Suite	*s = suite_create("infra_catalog");
	TCase	*tc = tcase_create("capabilities");

	tcase_add_unchecked_fixture(tc, check_infra_catalog_cluster_start,
	    check_infra_catalog_cluster_stop);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_catalog_rows);
	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_no_repo);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(infra_catalog_suite());
}
