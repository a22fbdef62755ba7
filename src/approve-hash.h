/*
 * approve-hash.h - approvals bound to what they approve.
 *
 * An approval stores, for each task it covers, a SHA-256 of exactly what
 * will run: the canonical text of the task's inputs (capability, action,
 * playbook path, the playbook file's own SHA-256, inventory, limit, tags,
 * skip-tags, extra vars, check mode) as built by the database
 * (jsonb_build_array(...)::text, so its form does not depend on the
 * client).  approve_hash_plan computes them when the plan is approved;
 * approve_hash_check computes them again when a worker claims the task
 * and names what differs.  See chiffon-schema(7), approvals.content.
 */
#ifndef CHIFFON_APPROVE_HASH_H
#define CHIFFON_APPROVE_HASH_H

#include <libpq-fe.h>

struct conf;

/* Where the playbooks are read and which inventory is passed. */
struct approve_scope {
	const char	*repo;		/* ansible.repo, or NULL */
	const char	*inventory;	/* ansible.inventory, or NULL */
};

/* The scope configured in conf (the strings belong to conf). */
struct approve_scope approve_scope_conf(const struct conf *);

/*
 * The approvals.content JSON for the tasks of plans row plan_row that are
 * pending approval: {"version": 1, "sha256": plan hash, "repo": ...,
 * "tasks": {"ID": {"sha256", "playbook_sha256", "inputs"}}}.  *sha256p
 * (may be NULL) gets the plan hash (65 bytes).  Caller frees; NULL with
 * *errp on a database error.
 */
char	*approve_hash_plan(PGconn *, const char *plan_row,
	    const struct approve_scope *, char sha256p[65], char **errp);

/*
 * Task task_id against the latest approval of its plan row: 0 when what
 * would run now is what was approved, 1 when not (*whyp says what
 * differs, "approval does not match: ..."; caller frees), -1 with *errp
 * on a database error.
 */
int	 approve_hash_check(PGconn *, long long task_id,
	    const struct approve_scope *, char **whyp, char **errp);

#endif
