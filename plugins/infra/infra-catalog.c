/*
 * infra-catalog.c - the catalog capabilities of the infra plugin.
 *
 * "ansible.catalog" ({"refresh": true, "full": false}) refreshes the
 * catalog of the repository named by ansible.repo (with "full", every
 * file is parsed again; with "refresh": false the catalog already in
 * memory is served), stores it in the playbooks table and
 * finishes with {"playbooks": [...], "roles": [...], "skipped": [...],
 * "hosts": [...], "groups": {...}, "stats": {...}}, the inventory coming
 * from `ansible-inventory --list` run in the repository (with -i
 * ansible.inventory when set; the program next to ansible.playbook when
 * that is a path).
 *
 * "ansible.match" ({"text": "...", "action": "...", "targets": [...]})
 * finishes with match_result_json's object: the exact, mapping or
 * lexical match, or null and three candidates.
 *
 * The catalog of the last refresh stays in memory (one per plugin) and is
 * the cache of the next; the first refresh of a process loads the cache
 * from the database with one query, so an unchanged repository is neither
 * parsed nor written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "catalog.h"
#include "infra.h"
#include "inventory.h"
#include "match.h"
#include "util.h"

/* A catalog older than this is refreshed before matching. */
#define INFRA_CATALOG_STALE_US	2000000

/* Arrays of a JSON row as text[], in order. */
#define INFRA_CATALOG_ARRAY(f) \
	"ARRAY(SELECT e FROM jsonb_array_elements_text(r->'" f "') " \
	"WITH ORDINALITY AS a(e, n) ORDER BY n)"
#define INFRA_CATALOG_TIME(f) \
	"(timestamptz 'epoch' + (r->>'" f "')::bigint * " \
	"interval '1 microsecond')"

static const char infra_catalog_sql_load[] =
	"SELECT id, path, service, description, array_to_json(aliases), "
	"hosts, array_to_json(tags), vars, array_to_json(roles), "
	"array_to_json(task_names), sha256, size, "
	"(extract(epoch FROM mtime) * 1000000)::bigint, "
	"(extract(epoch FROM refreshed_at) * 1000000)::bigint, needs, detail "
	"FROM playbooks";

static const char infra_catalog_sql_upsert[] =
	"INSERT INTO playbooks AS p (path, service, description, aliases, "
	"hosts, tags, vars, roles, task_names, sha256, size, mtime, "
	"refreshed_at, needs, detail) "
	"SELECT r->>'path', r->>'service', r->>'description', "
	INFRA_CATALOG_ARRAY("aliases") ", r->>'hosts', "
	INFRA_CATALOG_ARRAY("tags") ", r->'vars', "
	INFRA_CATALOG_ARRAY("roles") ", " INFRA_CATALOG_ARRAY("tasks") ", "
	"r->>'sha256', (r->>'size')::bigint, "
	INFRA_CATALOG_TIME("mtime_us") ", " INFRA_CATALOG_TIME("refreshed_us")
	", r->>'needs', r->'detail' FROM jsonb_array_elements($1::jsonb) AS r "
	"ON CONFLICT (path) DO UPDATE SET service = EXCLUDED.service, "
	"description = EXCLUDED.description, aliases = EXCLUDED.aliases, "
	"hosts = EXCLUDED.hosts, tags = EXCLUDED.tags, vars = EXCLUDED.vars, "
	"roles = EXCLUDED.roles, task_names = EXCLUDED.task_names, "
	"sha256 = EXCLUDED.sha256, size = EXCLUDED.size, "
	"mtime = EXCLUDED.mtime, refreshed_at = EXCLUDED.refreshed_at, "
	"needs = EXCLUDED.needs, detail = EXCLUDED.detail "
	"RETURNING id, path";

static const char infra_catalog_sql_touch[] =
	"UPDATE playbooks AS p SET size = (r->>'size')::bigint, "
	"mtime = " INFRA_CATALOG_TIME("mtime_us") ", "
	"refreshed_at = " INFRA_CATALOG_TIME("refreshed_us") " "
	"FROM jsonb_array_elements($1::jsonb) AS r "
	"WHERE p.path = r->>'path'";

static const char infra_catalog_sql_delete[] =
	"DELETE FROM playbooks "
	"WHERE path IN (SELECT jsonb_array_elements_text($1::jsonb))";

static const char infra_catalog_sql_mapping[] =
	"SELECT m.id, p.path, m.confidence, m.service FROM playbook_mappings m "
	"JOIN playbooks p ON p.id = m.playbook_id "
	"WHERE m.phrase = $1 AND m.confidence >= $2 "
	"ORDER BY m.confidence DESC, m.use_count DESC LIMIT 1";

/* A choice the admin made by naming the playbook: remembered. */
static const char infra_catalog_sql_mapping_forget[] =
	"DELETE FROM playbook_mappings WHERE phrase = $1 AND playbook_id <> "
	"(SELECT id FROM playbooks WHERE path = $2)";
static const char infra_catalog_sql_mapping_learn[] =
	"INSERT INTO playbook_mappings (phrase, playbook_id, confidence, "
	"service, last_used) SELECT $1, id, 1, $3, now() FROM playbooks "
	"WHERE path = $2 ON CONFLICT (phrase, playbook_id) DO UPDATE SET "
	"confidence = 1, service = EXCLUDED.service, last_used = now()";

static const char infra_catalog_sql_mapping_used[] =
	"UPDATE playbook_mappings SET use_count = use_count + 1, "
	"last_used = now() WHERE id = $1";

/* The plugin's catalog: one per loaded plugin. */
static struct infra_catalog_state {
	struct catalog		*cat;		/* last refresh, or NULL */
	struct match_index	*index;		/* over cat */
	struct inventory	*inv;		/* last inventory, or NULL */
	char			*inv_sig;	/* its inventory_signature */
	char			*inv_note;	/* what to say about it */
	struct inventory_source	 src;		/* where it came from */
	int64_t			 refreshed_us;
} infra_catalog;

/* One ansible.catalog task waiting for ansible-inventory. */
struct infra_catalog_job {
	struct chiffon_task	*task;
	struct chiffon_child	*child;
	struct strbuf		 out;		/* its stdout and stderr */
	char			*outfile;	/* --output file */
	char			*program;	/* ansible-inventory */
	int			 canceled;
	int			 finished;
};

/* A failed query's message for the caller. */
struct infra_catalog_q {
	char		*error;
	void		(*rows)(const struct chiffon_db_result *, void *);
	void		*data;
};

static void
infra_catalog_q_cb(const struct chiffon_db_result *res, const char *error,
    void *data)
{
	struct infra_catalog_q	*q = data;

	if (error != NULL) {
		free(q->error);
		q->error = xstrdup(error);
		return;
	}
	if (q->rows != NULL)
		q->rows(res, q->data);
}

/* Run one statement; rows (may be NULL) sees the result.  0 or -1. */
static int
infra_catalog_query(const char *sql, int nparams, const char *const *params,
    void (*rows)(const struct chiffon_db_result *, void *), void *data,
    char **errp)
{
	struct infra_catalog_q	q = { .rows = rows, .data = data };
	int			rc;

	rc = infra_host->db_query(infra_plugin, sql, nparams, params,
	    infra_catalog_q_cb, &q);
	if (rc != 0 || q.error != NULL) {
		rc = set_error(errp, "database: %s", q.error != NULL ?
		    q.error : "query failed");
		free(q.error);
		return rc;
	}
	return 0;
}

static const char *
infra_catalog_value(const struct chiffon_db_result *res, int row, int col)
{
	return res->values[(size_t)row * (size_t)res->ncols + (size_t)col];
}

static void
infra_catalog_list(struct catalog_list *l, const char *json)
{
	json_object	*a;

	if (json == NULL)
		return;
	a = json_tokener_parse(json);
	catalog_list_from_json(l, a);
	json_object_put(a);
}

/* Rows of infra_catalog_sql_load into the cache catalog. */
static void
infra_catalog_load_rows(const struct chiffon_db_result *res, void *data)
{
	struct catalog	*cache = data;
	struct playbook	*pb;
	const char	*v;
	int		 i;

	if (res->ncols < 15)
		return;
	for (i = 0; i < res->nrows; i++) {
		v = infra_catalog_value(res, i, 1);
		if (v == NULL)
			continue;
		pb = catalog_playbook_new(v);
		pb->id = strtoll(infra_catalog_value(res, i, 0), NULL, 10);
		v = infra_catalog_value(res, i, 2);
		pb->service = xstrdup(v != NULL ? v : "");
		free(catalog_service_name(pb->path, &pb->action));
		if ((v = infra_catalog_value(res, i, 3)) != NULL)
			pb->description = xstrdup(v);
		if ((v = infra_catalog_value(res, i, 14)) != NULL)
			pb->needs = xstrdup(v);
		infra_catalog_list(&pb->aliases, infra_catalog_value(res, i, 4));
		if ((v = infra_catalog_value(res, i, 5)) != NULL)
			pb->hosts = xstrdup(v);
		infra_catalog_list(&pb->tags, infra_catalog_value(res, i, 6));
		v = infra_catalog_value(res, i, 7);
		pb->vars_json = xstrdup(v != NULL ? v : "{}");
		infra_catalog_list(&pb->roles, infra_catalog_value(res, i, 8));
		infra_catalog_list(&pb->tasks, infra_catalog_value(res, i, 9));
		v = infra_catalog_value(res, i, 10);
		if (v != NULL && strlen(v) == SHA256_HEX_LEN)
			memcpy(pb->sha256, v, SHA256_HEX_LEN + 1);
		v = infra_catalog_value(res, i, 11);
		pb->size = v != NULL ? strtoll(v, NULL, 10) : -1;
		v = infra_catalog_value(res, i, 12);
		pb->mtime_us = v != NULL ? strtoll(v, NULL, 10) : 0;
		v = infra_catalog_value(res, i, 13);
		pb->refreshed_us = v != NULL ? strtoll(v, NULL, 10) : 0;
		if ((v = infra_catalog_value(res, i, 15)) != NULL) {
			json_object *d = json_tokener_parse(v);

			catalog_playbook_detail_from_json(pb, d);
			json_object_put(d);
		}
		catalog_add(cache, pb);
	}
}

/* RETURNING id, path of the upsert. */
static void
infra_catalog_id_rows(const struct chiffon_db_result *res, void *data)
{
	struct catalog	*cat = data;
	struct playbook	*pb;
	int		 i;

	for (i = 0; i < res->nrows; i++) {
		pb = catalog_find(cat, infra_catalog_value(res, i, 1));
		if (pb != NULL)
			pb->id = strtoll(infra_catalog_value(res, i, 0), NULL,
			    10);
	}
}

/* A playbook as a row for the upsert and touch statements. */
static json_object *
infra_catalog_row(const struct playbook *pb)
{
	json_object	*o = catalog_playbook_json(pb), *d, *v;
	static const char *const detail[] = { "services", "variables",
	    "imports", "requires", "generic", "plays", "flags" };
	size_t		 i;

	d = json_object_new_object();
	for (i = 0; i < nitems(detail); i++) {
		if (json_object_object_get_ex(o, detail[i], &v))
			json_object_object_add(d, detail[i],
			    json_object_get(v));
	}
	json_object_object_add(o, "detail", d);
	json_object_object_add(o, "mtime_us",
	    json_object_new_int64(pb->mtime_us));
	json_object_object_add(o, "refreshed_us",
	    json_object_new_int64(pb->refreshed_us));
	return o;
}

/* Write what a scan changed: parsed, touched and removed playbooks. */
static int
infra_catalog_store(struct catalog *cat, char **errp)
{
	json_object	*parsed, *touched, *removed;
	const char	*param;
	size_t		 i;
	int		 rc = 0;

	parsed = json_object_new_array();
	touched = json_object_new_array();
	for (i = 0; i < cat->nplaybooks; i++) {
		if (cat->playbooks[i]->state == CATALOG_PARSED)
			json_object_array_add(parsed,
			    infra_catalog_row(cat->playbooks[i]));
		else if (cat->playbooks[i]->state == CATALOG_TOUCHED)
			json_object_array_add(touched,
			    infra_catalog_row(cat->playbooks[i]));
	}
	removed = catalog_list_json(&cat->removed);
	if (json_object_array_length(removed) > 0) {
		param = json_object_to_json_string_ext(removed,
		    JSON_C_TO_STRING_PLAIN);
		rc = infra_catalog_query(infra_catalog_sql_delete, 1, &param,
		    NULL, NULL, errp);
	}
	if (rc == 0 && json_object_array_length(parsed) > 0) {
		param = json_object_to_json_string_ext(parsed,
		    JSON_C_TO_STRING_PLAIN);
		rc = infra_catalog_query(infra_catalog_sql_upsert, 1, &param,
		    infra_catalog_id_rows, cat, errp);
	}
	if (rc == 0 && json_object_array_length(touched) > 0) {
		param = json_object_to_json_string_ext(touched,
		    JSON_C_TO_STRING_PLAIN);
		rc = infra_catalog_query(infra_catalog_sql_touch, 1, &param,
		    NULL, NULL, errp);
	}
	json_object_put(parsed);
	json_object_put(touched);
	json_object_put(removed);
	return rc;
}

/*
 * Refresh the in-memory catalog from the repository and store the
 * changes.  0, or -1 with *errp set (no repository, database down).
 */
static int
infra_catalog_refresh(int full, char **errp)
{
	const char	*repo;
	struct catalog	*cache, *out;
	size_t		 i;
	int		 changed;

	repo = infra_host->config_get(infra_plugin, "ansible.repo");
	if (repo == NULL || *repo == '\0')
		return set_error(errp, "no Ansible repository is configured "
		    "(set ansible.repo in chiffon.conf, CHIFFON_REPO or "
		    "--repo)");
	cache = infra_catalog.cat;
	if (cache != NULL && strcmp(cache->repo, repo) != 0)
		cache = NULL;
	if (cache == NULL) {
		cache = catalog_new(repo);
		if (infra_catalog_query(infra_catalog_sql_load, 0, NULL,
		    infra_catalog_load_rows, cache, errp) != 0) {
			catalog_free(cache);
			return -1;
		}
		catalog_sort(cache);
	}
	if (full) {
		/* Parse everything again; removed files are still found. */
		for (i = 0; i < cache->nplaybooks; i++) {
			cache->playbooks[i]->mtime_us = -1;
			cache->playbooks[i]->sha256[0] = '\0';
		}
		for (i = 0; i < cache->nothers; i++)
			cache->others[i].mtime_us = -1;
	}
	if (catalog_scan_allowing(repo, cache, infra_host->config_get(
	    infra_plugin, "plugin.infra.allow_paths"), &out, errp) != 0) {
		if (cache != infra_catalog.cat)
			catalog_free(cache);
		return -1;
	}
	if (infra_catalog_store(out, errp) != 0) {
		if (cache != infra_catalog.cat)
			catalog_free(cache);
		catalog_free(out);
		return -1;
	}
	changed = cache != infra_catalog.cat || out->stats.parsed > 0 ||
	    out->stats.touched > 0 || out->stats.removed > 0;
	if (changed || infra_catalog.index == NULL) {
		match_index_free(infra_catalog.index);
		infra_catalog.index = match_index_new(out);
	} else	/* the same playbooks in the same order */
		match_index_rebind(infra_catalog.index, out);
	if (cache != infra_catalog.cat)
		catalog_free(cache);
	catalog_free(infra_catalog.cat);
	infra_catalog.cat = out;
	infra_catalog.refreshed_us = catalog_now_us();
	if (out->nskipped > 0)
		infra_host->log(infra_plugin, CHIFFON_LOG_INFO, "catalog: "
		    "%zu file(s) skipped, first: %s", out->nskipped,
		    out->skipped[0].reason);
	infra_host->log(infra_plugin, CHIFFON_LOG_DEBUG, "catalog: %u "
	    "playbooks, %u parsed, %u touched, %u unchanged, %u removed",
	    out->stats.playbooks, out->stats.parsed, out->stats.touched,
	    out->stats.unchanged, out->stats.removed);
	return 0;
}

/* A failed task's result: {"error": msg}. */
static void
infra_catalog_fail(struct chiffon_task *task, const char *msg)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	infra_host->task_finish(task, "failed",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* Parse the task's parameters (an object, or NULL for none). */
static json_object *
infra_catalog_params(struct chiffon_task *task)
{
	const char	*text = infra_host->task_params(task);
	json_object	*o;

	if (text == NULL)
		return NULL;
	o = json_tokener_parse(text);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int
infra_catalog_param_bool(json_object *params, const char *key, int def)
{
	json_object	*v;

	if (params == NULL || !json_object_object_get_ex(params, key, &v) ||
	    v == NULL)
		return def;
	return json_object_get_boolean(v);
}

/* Finish an ansible.catalog task with the catalog and the inventory. */
static void
infra_catalog_finish(struct infra_catalog_job *job, const char *inv_error)
{
	json_object	*o, *inv;

	if (job->finished)
		return;
	job->finished = 1;
	o = catalog_json(infra_catalog.cat);
	if (infra_catalog.inv != NULL) {
		inv = inventory_json(infra_catalog.inv);
		json_object_object_add(o, "hosts", json_object_get(
		    json_object_object_get(inv, "hosts")));
		json_object_object_add(o, "groups", json_object_get(
		    json_object_object_get(inv, "groups")));
		json_object_put(inv);
	} else {
		json_object_object_add(o, "hosts", json_object_new_array());
		json_object_object_add(o, "groups", json_object_new_object());
	}
	if (inv_error != NULL)
		json_object_object_add(o, "inventory_error",
		    json_object_new_string(inv_error));
	json_object_object_add(o, "inventory_used",
	    infra_catalog.src.pass && infra_catalog.src.path != NULL ?
	    json_object_new_string(infra_catalog.src.path) : NULL);
	json_object_object_add(o, "inventory_source",
	    infra_catalog.src.path != NULL ? json_object_new_string(
	    infra_catalog.src.path) : NULL);
	json_object_object_add(o, "inventory_how", infra_catalog.src.how !=
	    NULL ? json_object_new_string(infra_catalog.src.how) : NULL);
	if (infra_catalog.inv_note != NULL)
		json_object_object_add(o, "inventory_note",
		    json_object_new_string(infra_catalog.inv_note));
	infra_host->task_finish(job->task, job->canceled ? "canceled" :
	    "successful", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void
infra_catalog_job_free(void *data)
{
	struct infra_catalog_job	*job = data;

	if (job->outfile != NULL) {
		unlink(job->outfile);
		free(job->outfile);
	}
	strbuf_free(&job->out);
	free(job->program);
	free(job);
}

static void
infra_catalog_inv_line(struct chiffon_child *c, int stream, const char *line,
    size_t len, void *data)
{
	struct infra_catalog_job	*job = data;

	if (job->out.len < 65536) {
		strbuf_add(&job->out, line, len);
		strbuf_addc(&job->out, '\n');
	}
}

/* The inventory is current: remember its signature; warn of no hosts. */
static void
infra_catalog_inv_done(void)
{
	char	*note;

	free(infra_catalog.inv_sig);
	infra_catalog.inv_sig = inventory_signature(infra_catalog.cat->repo,
	    &infra_catalog.src);
	if (infra_catalog.inv != NULL && infra_catalog.inv->hosts.n == 0) {
		note = xasprintf("inventory: no hosts in %s (%s)%s%s",
		    infra_catalog.src.path != NULL ? infra_catalog.src.path :
		    "the default inventory", infra_catalog.src.how != NULL ?
		    infra_catalog.src.how : "ansible's default",
		    infra_catalog.inv_note != NULL ? "; " : "",
		    infra_catalog.inv_note != NULL ? infra_catalog.inv_note :
		    "");
		free(infra_catalog.inv_note);
		infra_catalog.inv_note = note;
	}
}

/* The inventory cache file under the data dir, or NULL.  Caller frees. */
static char *
infra_catalog_cache_path(void)
{
	const char	*dir = infra_host->config_get(infra_plugin,
			    "core.data_dir");

	if (dir == NULL || *dir == '\0')
		return NULL;
	return path_join(dir, "inventory-cache.json");
}

/*
 * Keep ansible-inventory's answer with the signature it was made for,
 * so that the next process need not run it (mode 0600: host variables
 * may be in it).
 */
static void
infra_catalog_cache_save(const char *list)
{
	json_object	*o;
	char		*path;
	const char	*text;

	if ((path = infra_catalog_cache_path()) == NULL ||
	    infra_catalog.inv_sig == NULL) {
		free(path);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "repo",
	    json_object_new_string(infra_catalog.cat->repo));
	json_object_object_add(o, "signature",
	    json_object_new_string(infra_catalog.inv_sig));
	json_object_object_add(o, "list", json_object_new_string(list));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	(void)write_file_atomic(path, text, strlen(text), 0600);
	json_object_put(o);
	free(path);
}

/* The cached inventory if it was made for sig; else NULL. */
static struct inventory *
infra_catalog_cache_load(const char *sig)
{
	struct inventory	*inv = NULL;
	json_object		*o, *v;
	char			*path, *text, *err = NULL;

	if ((path = infra_catalog_cache_path()) == NULL)
		return NULL;
	text = read_file(path, NULL);
	free(path);
	if (text == NULL)
		return NULL;
	o = json_tokener_parse(text);
	free(text);
	if (o != NULL && json_object_object_get_ex(o, "repo", &v) &&
	    strcmp(json_object_get_string(v), infra_catalog.cat->repo) == 0 &&
	    json_object_object_get_ex(o, "signature", &v) &&
	    strcmp(json_object_get_string(v), sig) == 0 &&
	    json_object_object_get_ex(o, "list", &v))
		inv = inventory_parse(json_object_get_string(v), &err);
	free(err);
	json_object_put(o);
	return inv;
}

/*
 * ansible-inventory failed: read host and group names from the
 * inventory files themselves, and say so.
 */
static void
infra_catalog_fallback(const char *why)
{
	struct inventory	*inv;
	char			*err = NULL, *note;

	if (infra_catalog.src.path == NULL)
		return;
	inv = inventory_read_files(infra_catalog.cat->repo,
	    infra_catalog.src.path, &err);
	free(err);
	if (inv == NULL)
		return;
	inventory_free(infra_catalog.inv);
	infra_catalog.inv = inv;
	note = xasprintf("inventory: ansible-inventory failed, so host and "
	    "group names were read from %s itself (%.200s)",
	    infra_catalog.src.path, why);
	free(infra_catalog.inv_note);
	infra_catalog.inv_note = note;
	infra_catalog_inv_done();
	/* A failed run is not a current inventory: try again next time. */
	free(infra_catalog.inv_sig);
	infra_catalog.inv_sig = NULL;
}

static void
infra_catalog_inv_exit(struct chiffon_child *c, int wstatus,
    const struct chiffon_rusage *usage, void *data)
{
	struct infra_catalog_job	*job = data;
	struct inventory		*inv;
	char				*text, *err = NULL, *last;
	int				 n;

	job->child = NULL;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		last = job->out.len > 0 ? job->out.buf : "no output";
		/* Its last newline would end the note's line early. */
		for (n = (int)strlen(last); n > 0 && strchr(" \t\r\n",
		    last[n - 1]) != NULL; n--)
			;
		err = xasprintf("ansible-inventory --list failed (%s %d): %.*s",
		    WIFEXITED(wstatus) ? "exit" : "signal",
		    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
		    WTERMSIG(wstatus), n < 500 ? n : 500, last);
		infra_catalog_fallback(err);
		infra_catalog_finish(job, err);
		free(err);
		return;
	}
	if ((text = read_file(job->outfile, NULL)) == NULL) {
		err = xasprintf("ansible-inventory wrote no %s: %s",
		    job->outfile, strerror(errno));
		infra_catalog_fallback(err);
		infra_catalog_finish(job, err);
		free(err);
		return;
	}
	inv = inventory_parse(text, &err);
	if (inv != NULL) {
		inventory_free(infra_catalog.inv);
		infra_catalog.inv = inv;
		infra_catalog_inv_done();
		infra_catalog_cache_save(text);
	}
	free(text);
	infra_catalog_finish(job, err);
	free(err);
}

static void
infra_catalog_cancel(struct chiffon_task *task, void *data)
{
	struct infra_catalog_job	*job = data;

	job->canceled = 1;
	if (job->child != NULL)
		infra_host->child_signal(job->child, SIGTERM);
}

/* Start ansible-inventory --list --output FILE in the repository. */
static int
infra_catalog_inventory(struct infra_catalog_job *job, char **errp)
{
	static const struct chiffon_child_cbs	 cbs = {
		.on_line = infra_catalog_inv_line,
		.on_exit = infra_catalog_inv_exit,
	};
	static const char *const		 env[] = {
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", NULL,
	};
	struct chiffon_user_data		 ud = {
		.data = job, .free_func = infra_catalog_job_free,
	};
	struct chiffon_spawn_opts		 opts = { 0 };
	const char				*argv[8], *inv, *tmp, *pb;
	const char				*slash;
	int					 fd, argc = 0;

	tmp = getenv("TMPDIR");
	job->outfile = xasprintf("%s/chiffon-inventory-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((fd = mkstemp(job->outfile)) == -1)
		return set_error(errp, "cannot create %s: %s", job->outfile,
		    strerror(errno));
	close(fd);
	/* Next to a configured ansible-playbook, else from PATH. */
	pb = infra_host->config_get(infra_plugin, "ansible.playbook");
	if (pb != NULL && (slash = strrchr(pb, '/')) != NULL)
		job->program = xasprintf("%.*s/ansible-inventory",
		    (int)(slash - pb), pb);
	else
		job->program = xstrdup("ansible-inventory");
	argv[argc++] = job->program;
	argv[argc++] = "--list";
	argv[argc++] = "--output";
	argv[argc++] = job->outfile;
	if (infra_catalog.src.pass && infra_catalog.src.path != NULL) {
		argv[argc++] = "-i";
		argv[argc++] = infra_catalog.src.path;
	}
	(void)inv;
	argv[argc] = NULL;
	opts.argv = argv;
	opts.env_add = env;
	opts.cwd = infra_catalog.cat->repo;
	job->child = infra_host->spawn(infra_plugin, &opts, &cbs, &ud);
	if (job->child == NULL)
		return set_error(errp, "cannot run ansible-inventory (is "
		    "ansible-core installed?)");
	return 0;
}

/*
 * Find the inventory again; non-zero when the one in memory is still
 * current (same source, same file mtimes and sizes).
 */
static int
infra_catalog_inventory_current(void)
{
	const char	*conf;
	char		*sig;
	int		 same;

	conf = infra_host->config_get(infra_plugin, "ansible.inventory");
	inventory_source_free(&infra_catalog.src);
	inventory_find(infra_catalog.cat->repo, conf, &infra_catalog.src);
	free(infra_catalog.inv_note);
	infra_catalog.inv_note = infra_catalog.src.note != NULL ?
	    xstrdup(infra_catalog.src.note) : NULL;
	sig = inventory_signature(infra_catalog.cat->repo, &infra_catalog.src);
	if (infra_catalog.inv == NULL || infra_catalog.inv_sig == NULL) {
		/* A new process: the answer an earlier one kept. */
		struct inventory *inv = infra_catalog_cache_load(sig);

		if (inv == NULL) {
			free(sig);
			return 0;
		}
		inventory_free(infra_catalog.inv);
		infra_catalog.inv = inv;
		free(infra_catalog.inv_sig);
		infra_catalog.inv_sig = xstrdup(sig);
	}
	same = strcmp(sig, infra_catalog.inv_sig) == 0;
	free(sig);
	if (same && infra_catalog.inv->hosts.n == 0)
		infra_catalog_inv_done();
	return same;
}

/* Capability "ansible.catalog". */
static int
infra_catalog_cap_catalog(struct chiffon_task *task, void *data)
{
	struct infra_catalog_job	*job;
	json_object			*params;
	char				*err = NULL;
	int				 refresh, full;

	params = infra_catalog_params(task);
	refresh = infra_catalog_param_bool(params, "refresh", 1);
	full = infra_catalog_param_bool(params, "full", 0);
	json_object_put(params);
	if ((refresh || full || infra_catalog.cat == NULL) &&
	    infra_catalog_refresh(full, &err) != 0) {
		infra_catalog_fail(task, err);
		free(err);
		return -1;
	}
	job = xcalloc(1, sizeof *job);
	job->task = task;
	if (infra_catalog_inventory_current()) {
		/* Nothing the inventory depends on changed: no new run. */
		infra_catalog_finish(job, NULL);
		infra_catalog_job_free(job);
		return 0;
	}
	if (infra_catalog_inventory(job, &err) != 0) {
		/* The catalog is still worth having without hosts. */
		infra_catalog_finish(job, err);
		free(err);
		infra_catalog_job_free(job);
		return 0;
	}
	infra_host->task_on_cancel(task, infra_catalog_cancel, job);
	return 0;
}

/* playbook_mappings lookup for match_run. */
struct infra_catalog_mapping {
	char	*id;
	char	*path;
	double	 confidence;
	char	*service;
};

/* The service of the last mapping found (match_run reads it). */
static char	*infra_catalog_mapped_service;

static void
infra_catalog_mapping_rows(const struct chiffon_db_result *res, void *data)
{
	struct infra_catalog_mapping	*m = data;

	if (res->nrows < 1 || res->ncols < 4)
		return;
	m->id = xstrdup(infra_catalog_value(res, 0, 0));
	m->path = xstrdup(infra_catalog_value(res, 0, 1));
	m->confidence = strtod(infra_catalog_value(res, 0, 2), NULL);
	if (infra_catalog_value(res, 0, 3) != NULL)
		m->service = xstrdup(infra_catalog_value(res, 0, 3));
}

static ssize_t
infra_catalog_mapping(const char *phrase, double *confidencep,
    const char **servicep, void *data)
{
	struct infra_catalog_mapping	 m = { 0 };
	char				 min[16], *err = NULL;
	const char			*params[2];
	ssize_t				 index = -1;

	snprintf(min, sizeof min, "%.2f", MATCH_MAPPING_MIN);
	params[0] = phrase;
	params[1] = min;
	if (infra_catalog_query(infra_catalog_sql_mapping, 2, params,
	    infra_catalog_mapping_rows, &m, &err) != 0) {
		infra_host->log(infra_plugin, CHIFFON_LOG_WARNING,
		    "playbook mappings: %s", err);
		free(err);
		return -1;
	}
	if (m.path != NULL &&
	    (index = catalog_index(infra_catalog.cat, m.path)) >= 0) {
		*confidencep = m.confidence;
		free(infra_catalog_mapped_service);
		infra_catalog_mapped_service = m.service;
		m.service = NULL;
		*servicep = infra_catalog_mapped_service;
		params[0] = m.id;
		if (infra_catalog_query(infra_catalog_sql_mapping_used, 1,
		    params, NULL, NULL, &err) != 0) {
			infra_host->log(infra_plugin, CHIFFON_LOG_WARNING,
			    "playbook mappings: %s", err);
			free(err);
		}
	}
	free(m.id);
	free(m.path);
	free(m.service);
	return index;
}

/*
 * The admin named the playbook ("deploy jellyfin in nas.yml"): the same
 * words without it mean that service of that playbook from now on.
 */
static void
infra_catalog_learn(const struct match_query *q, const struct match_result *r)
{
	const struct playbook		*pb;
	const struct catalog_service	*sv;
	const char			*params[3];
	char				*phrase, *err = NULL;

	if (!r->by_path || r->method != MATCH_EXACT || r->index < 0)
		return;
	pb = infra_catalog.cat->playbooks[r->index];
	sv = catalog_playbook_service(pb, r->service);
	phrase = match_phrase(q);
	params[0] = phrase;
	params[1] = pb->path;
	params[2] = sv != NULL ? sv->name : NULL;
	if (strchr(phrase, ' ') != NULL &&
	    (infra_catalog_query(infra_catalog_sql_mapping_forget, 2, params,
	    NULL, NULL, &err) != 0 ||
	    infra_catalog_query(infra_catalog_sql_mapping_learn, 3, params,
	    NULL, NULL, &err) != 0)) {
		infra_host->log(infra_plugin, CHIFFON_LOG_WARNING,
		    "playbook mappings: %s", err);
		free(err);
	}
	free(phrase);
}

/* Capability "ansible.match". */
static int
infra_catalog_cap_match(struct chiffon_task *task, void *data)
{
	struct match_query	 q = { 0 };
	struct match_result	 res;
	struct catalog_list	 targets = { 0 };
	json_object		*params, *v, *o;
	char			*err = NULL, *phrase;
	size_t			 i;

	params = infra_catalog_params(task);
	if (params == NULL || !json_object_object_get_ex(params, "text", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(params);
		infra_catalog_fail(task, "ansible.match needs {\"text\": "
		    "\"...\"} (and optionally \"action\" and \"targets\")");
		return -1;
	}
	q.text = json_object_get_string(v);
	if (json_object_object_get_ex(params, "action", &v) &&
	    json_object_is_type(v, json_type_string))
		q.action = json_object_get_string(v);
	if (json_object_object_get_ex(params, "targets", &v))
		catalog_list_from_json(&targets, v);
	if (infra_catalog.inv != NULL) {
		for (i = 0; i < infra_catalog.inv->hosts.n; i++)
			catalog_list_add_unique(&targets,
			    infra_catalog.inv->hosts.v[i]);
		for (i = 0; i < infra_catalog.inv->ngroups; i++)
			catalog_list_add_unique(&targets,
			    infra_catalog.inv->groups[i].name);
	}
	q.targets = &targets;
	q.mapping = infra_catalog_mapping;

	if ((infra_catalog.cat == NULL ||
	    infra_catalog_param_bool(params, "refresh", 0) ||
	    catalog_now_us() - infra_catalog.refreshed_us >
	    INFRA_CATALOG_STALE_US) && infra_catalog_refresh(0, &err) != 0) {
		infra_catalog_fail(task, err);
		free(err);
		catalog_list_free(&targets);
		json_object_put(params);
		return -1;
	}
	match_run(infra_catalog.index, &q, &res);
	infra_catalog_learn(&q, &res);
	phrase = match_phrase(&q);
	o = match_result_json(infra_catalog.cat, &res, phrase);
	infra_host->task_finish(task, "successful",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(phrase);
	catalog_list_free(&targets);
	json_object_put(params);
	return 0;
}

int
infra_catalog_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	memset(&infra_catalog, 0, sizeof infra_catalog);
	if (host->register_capability(p, CHIFFON_CAP_ANSIBLE_CATALOG,
	    infra_catalog_cap_catalog, NULL) != 0)
		return -1;
	if (host->register_capability(p, CHIFFON_CAP_ANSIBLE_MATCH,
	    infra_catalog_cap_match, NULL) != 0)
		return -1;
	return 0;
}

void
infra_catalog_end(void)
{
	match_index_free(infra_catalog.index);
	catalog_free(infra_catalog.cat);
	inventory_free(infra_catalog.inv);
	free(infra_catalog.inv_sig);
	free(infra_catalog.inv_note);
	inventory_source_free(&infra_catalog.src);
	memset(&infra_catalog, 0, sizeof infra_catalog);
	free(infra_catalog_mapped_service);
	infra_catalog_mapped_service = NULL;
}
