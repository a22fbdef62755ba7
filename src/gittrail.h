/*
 * gittrail.h - the git side of the audit trail, through libgit2.
 *
 * Every finished task gets .audit/tasks/<task_id>.json committed to the
 * audit repository (audit.repo; created on first use; it may be the
 * Ansible repository itself).  Commits only ever add or replace the
 * named paths on top of HEAD: whatever else is staged in the index stays
 * staged and is not committed.  An entry whose content is already at HEAD
 * makes no commit.  Git failures are recorded in audit_git and retried
 * later (gittrail_retry_pending); they never fail a task.  Each commit's
 * message ends with the trailer "Chiffon-Audit-Head: ID HASH", the audit
 * chain's last row when it was made, so that `chiffon audit verify`
 * finds a rewritten or truncated chain (gittrail_verify).
 */
#ifndef CHIFFON_GITTRAIL_H
#define CHIFFON_GITTRAIL_H

#include <libpq-fe.h>

/*
 * Load and initialise libgit2 on a thread of its own (once per process),
 * so that the commit at a task's end does not wait for it: called when a
 * run starts.
 */
void	gittrail_warm(void);

/*
 * Write .audit/tasks/<task_id>.json (json_entry) in repo_path, opening the
 * repository or creating it (a missing or empty directory), and commit it
 * with the message "audit: task <id> <status>", author author_name
 * <author_email> (NULL email: name@hostname; a name holding '@' is used as
 * the email too), committer chiffon.  Returns 1 when a commit was made, 0
 * when the entry was already committed unchanged (no commit), -1 with
 * *errp.  *commitp (may be NULL) gets the new commit's id, or HEAD's when
 * unchanged (caller frees).
 */
int	gittrail_commit_task(const char *repo_path, long long task_id,
	    const char *status, const char *json_entry,
	    const char *author_name, const char *author_email,
	    char **commitp, char **errp);

/*
 * Commit changes chiffon made in the working tree of repo_path (the
 * Ansible repository): paths (NULL-terminated, relative to the top of the
 * working tree; a directory means every file under it; a missing path is
 * removed, so name deleted files themselves) are committed as they are on
 * disk, with message followed by a
 * "Chiffon-Task: <task_id>" trailer.  author as for
 * gittrail_commit_task (NULL name: the user running chiffon).  Returns 1
 * committed, 0 nothing changed, -1 with *errp.  *commitp as above.
 */
int	gittrail_commit_repo_change(const char *repo_path,
	    const char *const *paths, const char *message, long long task_id,
	    const char *author_name, const char *author_email,
	    char **commitp, char **errp);

/*
 * The whole git step for one finished task: build the entry from the
 * database (audit_query_entry), commit it to repo_path as the approving
 * user, and record the outcome in audit_git (and a "git.committed" audit
 * row, or "git.failed" on the first failure).  Returns 1 committed, 0
 * unchanged, -1 with *errp (already recorded in audit_git when the
 * database could be reached).  actor NULL: audit_actor().
 */
int	gittrail_task(PGconn *, long long task_id, const char *repo_path,
	    const char *actor, char **commitp, char **errp);

/*
 * Retry every audit_git row not yet committed (call at start).  *ndone
 * and *nfailed (may be NULL) get the counts.  Returns 0, or -1 with *errp
 * when the pending rows could not be read.
 */
int	gittrail_retry_pending(PGconn *, int *ndone, int *nfailed,
	    char **errp);

/* What gittrail_verify found. */
struct gittrail_verdict {
	int	 nanchors;	/* chain heads named by commits */
	int	 nentries;	/* entries at HEAD */
	int	 nruns;		/* runs whose output digests they hold */
	int	 missing;	/* no repository (nothing committed to it) */
	char	*problem;	/* the first mismatch, or NULL; caller frees */
};

/*
 * Check the database against the git trail in repo_path: every commit's
 * "Chiffon-Audit-Head: ID HASH" trailer (the chain head it saw) must name
 * a row of audit_log with that hash, or the tail was rewritten or
 * truncated; every run's output_sha256 in the entries at HEAD must be
 * runs.output_sha256.  A missing repository is fine only when audit_git
 * records no commit to it.  0 when all match, 1 with v->problem, -1
 * with *errp.
 */
int	gittrail_verify(PGconn *, const char *repo_path,
	    struct gittrail_verdict *v, char **errp);

/* The path of a task's entry inside the repository.  Caller frees. */
char	*gittrail_task_path(long long task_id);

#endif
