/*
 * repochange.c - commit what a capability changed in the Ansible
 * repository, as the approver (see repochange.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "db.h"
#include "gittrail.h"
#include "log.h"
#include "repochange.h"
#include "util.h"

/* Who approved the task's plan (caller frees), or NULL. */
static char *
repochange_approver(PGconn *pg, long long task_id, long long *request_id,
    long long *plan_id)
{
	const char	*params[1];
	char		 tid[32], *who = NULL;
	PGresult	*res;

	snprintf(tid, sizeof tid, "%lld", task_id);
	params[0] = tid;
	res = db_exec(pg, "SELECT a.approved_by, p.request_id, p.id"
	    " FROM tasks t JOIN plans p ON p.id = t.plan_id"
	    " JOIN approvals a ON a.plan_id = p.id"
	    " WHERE t.id = $1::bigint AND a.decision = 'approved'"
	    " ORDER BY a.id DESC LIMIT 1", 1, params, NULL);
	if (res != NULL && PQntuples(res) == 1) {
		who = xstrdup(PQgetvalue(res, 0, 0));
		*request_id = atoll(PQgetvalue(res, 0, 1));
		*plan_id = atoll(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return who;
}

int
repochange_commit(PGconn *pg, long long task_id, const char *status,
    const char *result_json, char **statusp, char **resultp)
{
	struct audit_ids	 ids = { 0 };
	json_object		*res, *rc, *paths, *audit;
	const char		**pv = NULL, *repo, *msg, *svc;
	char			*who, *commit = NULL, *err = NULL, *why;
	size_t			 i, n;
	int			 made;

	if (status == NULL || strcmp(status, "successful") != 0 ||
	    result_json == NULL || strstr(result_json, "repo_commit") == NULL)
		return 0;
	res = json_tokener_parse(result_json);
	if (res == NULL || !json_object_object_get_ex(res, "repo_commit",
	    &rc) || !json_object_object_get_ex(rc, "paths", &paths) ||
	    !json_object_is_type(paths, json_type_array)) {
		json_object_put(res);
		return 0;
	}
	repo = json_object_get_string(json_object_object_get(res, "repo"));
	msg = json_object_get_string(json_object_object_get(rc, "message"));
	n = json_object_array_length(paths);
	pv = xcalloc(n + 1, sizeof *pv);
	for (i = 0; i < n; i++)
		pv[i] = json_object_get_string(json_object_array_get_idx(paths,
		    i));
	ids.task_id = task_id;
	who = repochange_approver(pg, task_id, &ids.request_id, &ids.plan_id);
	made = repo == NULL ? set_error(&err, "the result names no "
	    "repository") : gittrail_commit_repo_change(repo, pv, msg != NULL ?
	    msg : "chiffon: generated files", task_id, who, NULL, &commit,
	    &err);
	audit = json_object_new_object();
	json_object_object_add(audit, "repo", json_object_new_string(repo));
	json_object_object_add(audit, "paths", json_object_get(paths));
	if (made < 0) {
		*statusp = xstrdup("failed");
		why = xasprintf("the files are written and validated but not "
		    "committed: %s", err != NULL ? err : "git failed");
		json_object_object_add(res, "error",
		    json_object_new_string(why));
		free(why);
		json_object_object_add(res, "committed",
		    json_object_new_boolean(0));
		json_object_object_add(audit, "error", json_object_new_string(
		    err != NULL ? err : "git failed"));
	} else {
		*statusp = xstrdup(status);
		json_object_object_del(res, "repo_commit");
		json_object_object_add(res, "commit", commit != NULL ?
		    json_object_new_string(commit) : NULL);
		json_object_object_add(res, "committed",
		    json_object_new_boolean(made == 1));
		json_object_object_add(audit, "commit", commit != NULL ?
		    json_object_new_string(commit) : NULL);
		json_object_object_add(audit, "author", json_object_new_string(
		    who != NULL ? who : audit_user()));
	}
	svc = json_object_get_string(json_object_object_get(res, "service"));
	free(err);
	err = NULL;
	if (audit_record(pg, made < 0 ? "repo.commit_failed" :
	    "repo.committed", who, &ids, svc, json_object_to_json_string_ext(
	    audit, JSON_C_TO_STRING_PLAIN), &err) < 0) {
		log_msg(CHIFFON_LOG_WARNING, "repochange", "task %lld: the "
		    "audit row of its commit is missing: %s", task_id, err);
		free(err);
	}
	*resultp = xstrdup(json_object_to_json_string_ext(res,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(audit);
	json_object_put(res);
	free(commit);
	free(who);
	free(pv);
	return 1;
}
