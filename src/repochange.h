/*
 * repochange.h - commit what a capability changed in the Ansible
 * repository (the template plugin's generated files), as the approver.
 *
 * Plugins never reach libgit2: a capability that wrote files into the
 * repository says so in its result with
 *   "repo": "/abs/repo", "repo_commit": {"paths": [...], "message": "..."}
 * and the host's worker commits exactly those paths (gittrail.h) before
 * the task is recorded, with the approver of the task's plan as the
 * author and a "Chiffon-Task: ID" trailer, and appends a "repo.committed"
 * audit row.
 */
#ifndef CHIFFON_REPOCHANGE_H
#define CHIFFON_REPOCHANGE_H

#include <libpq-fe.h>

/*
 * If the task succeeded and its result asks for a commit, make it.
 * Returns 0 when there was nothing to commit (*statusp and *resultp
 * untouched), 1 when *statusp and *resultp (caller frees both) replace
 * the task's: the result without "repo_commit" and with "commit" (the
 * commit id) on success, or status "failed" with "error" saying the
 * files are written but not committed.
 */
int	repochange_commit(PGconn *, long long task_id, const char *status,
	    const char *result_json, char **statusp, char **resultp);

#endif
