/*
 * approve-hash.c - approvals bound to what they approve (approve-hash.h).
 *
 * The inputs of a task are one JSON array built by PostgreSQL from the
 * tasks row plus two values only the client knows: the SHA-256 of the
 * playbook file as it is now in the repository and the inventory in the
 * configuration.  Its SHA-256 (src/sha256.c, the same code the catalog
 * uses) is what an approval records and what a claim compares.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "approve-hash.h"
#include "conf.h"
#include "db.h"
#include "sha256.h"
#include "util.h"

/*
 * Columns that may not exist in every schema (inventory, skip_tags) are
 * read through to_jsonb(t), which is NULL for a missing key.
 */
static const char approve_hash_sql_inputs[] =
	"SELECT jsonb_build_array('chiffon-approval/1', t.capability, "
	"t.action, t.playbook, $2::text, "
	"coalesce(to_jsonb(t) ->> 'inventory', $3::text), t.targets, "
	"to_jsonb(t.tags), to_jsonb(t) -> 'skip_tags', t.extra_vars, "
	"t.check_mode)::text FROM tasks t WHERE t.id = $1::bigint";
static const char approve_hash_sql_pending[] =
	"SELECT id, playbook FROM tasks WHERE plan_id = $1::bigint "
	"AND status = 'pending_approval' ORDER BY step";
static const char approve_hash_sql_task[] =
	"SELECT t.playbook, t.plan_id, (SELECT a.content -> 'tasks' -> "
	"t.id::text FROM approvals a WHERE a.plan_id = t.plan_id AND "
	"a.decision = 'approved' ORDER BY a.id DESC LIMIT 1)::text "
	"FROM tasks t WHERE t.id = $1::bigint";

/*
 * Did a succeeded template.generate step of plans row $1 write playbook
 * $2 with exactly the content whose SHA-256 is $3 (scaffold_json's
 * "files" in the step's result)?
 */
static const char approve_hash_sql_generated[] =
	"SELECT EXISTS (SELECT 1 FROM tasks g, jsonb_array_elements("
	"CASE WHEN jsonb_typeof(g.result -> 'files') = 'array' THEN "
	"g.result -> 'files' ELSE '[]'::jsonb END) f "
	"WHERE g.plan_id = $1::bigint AND g.capability = 'template.generate' "
	"AND g.status = 'succeeded' AND f ->> 'path' = $2 "
	"AND f ->> 'sha256' = $3)";

/* What each element of the inputs array is, for "what differs". */
static const char *const approve_hash_names[] = {
	"format", "capability", "action", "playbook", "playbook file",
	"inventory", "limit", "tags", "skip-tags", "extra vars", "check mode",
};

struct approve_scope
approve_scope_conf(const struct conf *conf)
{
	struct approve_scope	s = {
		.repo = conf_get(conf, "ansible.repo"),
		.inventory = conf_get(conf, "ansible.inventory"),
	};

	return s;
}

/*
 * The SHA-256 of playbook (relative to scope->repo) into hex; 0, or -1
 * when there is none or it cannot be read (hex untouched).
 */
static int
approve_hash_file(const struct approve_scope *scope, const char *playbook,
    char hex[SHA256_HEX_LEN + 1])
{
	char	*path;
	int	 rc;

	if (playbook == NULL || *playbook == '\0')
		return -1;
	if (*playbook == '/')
		path = xstrdup(playbook);
	else if (scope->repo != NULL && *scope->repo != '\0')
		path = path_join(scope->repo, playbook);
	else
		return -1;
	rc = sha256_file(path, hex);
	free(path);
	return rc;
}

/*
 * 1 when the playbook of a task, absent when its plan was approved
 * (approved is its approval record), is now the file a template.generate
 * step of the same plan wrote: the approval covered "what step N
 * generates", and the step's result binds that to one content.  0 when
 * not, -1 with *errp.
 */
static int
approve_hash_generated(PGconn *pg, const char *plan_row,
    const char *playbook, json_object *approved,
    const struct approve_scope *scope, char **errp)
{
	char		 file[SHA256_HEX_LEN + 1];
	const char	*params[3];
	json_object	*v;
	PGresult	*res;
	int		 rc;

	if (!json_object_object_get_ex(approved, "playbook_sha256", &v) ||
	    v != NULL || approve_hash_file(scope, playbook, file) != 0)
		return 0;
	params[0] = plan_row;
	params[1] = playbook;
	params[2] = file;
	if ((res = db_exec(pg, approve_hash_sql_generated, 3, params,
	    errp)) == NULL)
		return -1;
	rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

/* approve_hash_inputs with the playbook file's hash given (NULL: none). */
static char *
approve_hash_inputs_file(PGconn *pg, const char *id, const char *file,
    const struct approve_scope *scope, char hex[SHA256_HEX_LEN + 1],
    char **errp)
{
	const char	*params[3];
	PGresult	*res;
	char		*text;

	params[0] = id;
	params[1] = file;
	params[2] = scope->inventory;
	if ((res = db_exec(pg, approve_hash_sql_inputs, 3, params, errp)) ==
	    NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		set_error(errp, "task %s does not exist", id);
		return NULL;
	}
	text = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	sha256_hex(text, strlen(text), hex);
	return text;
}

/*
 * The inputs text of task id (caller frees) and its SHA-256 into hex.
 * NULL with *errp on a database error.
 */
static char *
approve_hash_inputs(PGconn *pg, const char *id, const char *playbook,
    const struct approve_scope *scope, char hex[SHA256_HEX_LEN + 1],
    char **errp)
{
	char		 file[SHA256_HEX_LEN + 1];

	return approve_hash_inputs_file(pg, id,
	    approve_hash_file(scope, playbook, file) == 0 ? file : NULL,
	    scope, hex, errp);
}

char *
approve_hash_plan(PGconn *pg, const char *plan_row,
    const struct approve_scope *scope, char sha256p[65], char **errp)
{
	const char	*params[1] = { plan_row };
	json_object	*o, *tasks, *t;
	struct strbuf	 plan = { 0 };
	PGresult	*res;
	char		 hex[SHA256_HEX_LEN + 1], file[SHA256_HEX_LEN + 1];
	char		*text, *out = NULL;
	const char	*id, *pb;
	int		 i, n;

	if ((res = db_exec(pg, approve_hash_sql_pending, 1, params, errp)) ==
	    NULL)
		return NULL;
	o = json_object_new_object();
	tasks = json_object_new_object();
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		id = PQgetvalue(res, i, 0);
		pb = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		if ((text = approve_hash_inputs(pg, id, pb, scope, hex,
		    errp)) == NULL)
			goto out;
		t = json_object_new_object();
		json_object_object_add(t, "sha256",
		    json_object_new_string(hex));
		json_object_object_add(t, "playbook_sha256",
		    approve_hash_file(scope, pb, file) == 0 ?
		    json_object_new_string(file) : NULL);
		json_object_object_add(t, "inputs", json_tokener_parse(text));
		json_object_object_add(tasks, id, t);
		free(text);
		strbuf_add(&plan, hex, SHA256_HEX_LEN);
	}
	sha256_hex(plan.buf != NULL ? plan.buf : "", plan.len, hex);
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "sha256", json_object_new_string(hex));
	if (scope->repo != NULL)
		json_object_object_add(o, "repo",
		    json_object_new_string(scope->repo));
	json_object_object_add(o, "tasks", json_object_get(tasks));
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (sha256p != NULL)
		memcpy(sha256p, hex, sizeof hex);
out:
	strbuf_free(&plan);
	json_object_put(tasks);
	json_object_put(o);
	PQclear(res);
	return out;
}

/* "playbook, extra vars": the elements of two inputs arrays that differ. */
static char *
approve_hash_diff(json_object *was, const char *now_text)
{
	struct strbuf	 sb = { 0 };
	json_object	*now = json_tokener_parse(now_text), *a, *b;
	size_t		 i, n;

	n = nitems(approve_hash_names);
	for (i = 0; i < n; i++) {
		a = json_object_is_type(was, json_type_array) ?
		    json_object_array_get_idx(was, i) : NULL;
		b = json_object_is_type(now, json_type_array) ?
		    json_object_array_get_idx(now, i) : NULL;
		if (a == NULL && b == NULL)
			continue;
		if (a != NULL && b != NULL && json_object_equal(a, b))
			continue;
		strbuf_addf(&sb, "%s%s", sb.len > 0 ? ", " : "",
		    approve_hash_names[i]);
	}
	json_object_put(now);
	if (sb.len == 0)
		strbuf_adds(&sb, "the inputs");
	return strbuf_detach(&sb);
}

int
approve_hash_check(PGconn *pg, long long task_id,
    const struct approve_scope *scope, char **whyp, char **errp)
{
	const char	*params[1];
	json_object	*rec = NULL, *v, *inputs;
	PGresult	*res;
	char		 id[32], hex[SHA256_HEX_LEN + 1], *text, *what;
	const char	*pb, *want = NULL, *plan;
	int		 rc = -1;

	*whyp = NULL;
	snprintf(id, sizeof id, "%lld", task_id);
	params[0] = id;
	if ((res = db_exec(pg, approve_hash_sql_task, 1, params, errp)) ==
	    NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return set_error(errp, "task %s does not exist", id);
	}
	pb = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
	plan = PQgetvalue(res, 0, 1);
	if (!PQgetisnull(res, 0, 2) &&
	    (rec = json_tokener_parse(PQgetvalue(res, 0, 2))) != NULL &&
	    json_object_object_get_ex(rec, "sha256", &v))
		want = json_object_get_string(v);
	if (want == NULL) {
		*whyp = xasprintf("approval does not match: the approval of "
		    "plan row %s records no content hash for task %s (approve "
		    "a new plan for it)", plan, id);
		rc = 1;
		goto out;
	}
	if ((text = approve_hash_inputs(pg, id, pb, scope, hex, errp)) ==
	    NULL)
		goto out;
	if (strcmp(hex, want) != 0) {
		/* A playbook generated by an earlier step of the plan. */
		switch (approve_hash_generated(pg, plan, pb, rec, scope,
		    errp)) {
		case -1:
			free(text);
			goto out;
		case 1:
			free(text);
			if ((text = approve_hash_inputs_file(pg, id, NULL, scope,
			    hex, errp)) == NULL)
				goto out;
			break;
		}
	}
	if (strcmp(hex, want) == 0)
		rc = 0;
	else {
		inputs = json_object_object_get_ex(rec, "inputs", &v) ? v :
		    NULL;
		what = approve_hash_diff(inputs, text);
		*whyp = xasprintf("approval does not match: %s changed since "
		    "plan row %s was approved (approved %.12s, now %.12s)",
		    what, plan, want, hex);
		free(what);
		rc = 1;
	}
	free(text);
out:
	json_object_put(rec);
	PQclear(res);
	return rc;
}
