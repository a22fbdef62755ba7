/*
 * run.h - the infra plugin's playbook runner (run.c, its Ansible
 * configuration in run-cfg.c) and ansible-lint suggestions (lint.c).
 *
 * run.c registers the "ansible" capability: params
 *   {"playbook": PATH (relative to repo, or absolute),
 *    "repo": DIR (default: the ansible.repo configuration key),
 *    "inventory": PATH, "limit": TEXT|[...], "tags": TEXT|[...],
 *    "skip_tags": TEXT|[...], "extra_vars": {...}, "check": BOOL,
 *    "timeout_s": SECONDS}
 * and lint.c the "ansible.lint" capability: params
 *   {"playbook": PATH, "repo": DIR, "task_id": ID, "run_id": ID}.
 */
#ifndef CHIFFON_INFRA_RUN_H
#define CHIFFON_INFRA_RUN_H

#include <stddef.h>

#include "chiffon/plugin.h"

/* Oldest ansible-core whose callback plugin API chiffon relies on. */
#define RUN_MIN_MAJOR	2
#define RUN_MIN_MINOR	12
/* Grace periods between SIGINT, SIGTERM and SIGKILL (milliseconds). */
#define RUN_GRACE_MS	5000
/* Extra-vars files: RUN_VARS_PREFIX PID-XXXXXX (run.c). */
#define RUN_VARS_PREFIX	"chiffon-vars-"
/* Default timeout of a run when ansible.timeout is unset (seconds). */
#define RUN_DEFAULT_TIMEOUT_S 3600

/* run.c */
/* Is dir/name a regular file? */
int	 run_file_exists(const char *dir, const char *name);
/*
 * The directory holding chiffon_events.py: $CHIFFON_CALLBACK_DIR, else
 * $CHIFFON_SRCDIR/plugins/infra/callback, else the installed
 * CHIFFON_DATA_ROOT/ansible/callback_plugins, else the source tree the
 * plugin was built from.  The first that holds the file wins.  Caller
 * frees; NULL if none does.
 */
char	*run_callback_dir(void);
/*
 * Parse "ansible-playbook [core 2.14.18]" (or "ansible-playbook 2.9.27")
 * into major and minor.  0, or -1 if the text carries no version.
 */
int	 run_parse_version(const char *text, int *major, int *minor);

/* run-cfg.c */
/*
 * The environment additions for a run in repo: CHIFFON_EVENT_FD and the
 * callback settings (see run-cfg.c).  A NULL-terminated array; caller
 * frees it with run_env_free.
 */
char	**run_env(const char *repo, const char *callback_dir, int event_fd);
/* Free what run_env returned (NULL is fine). */
void	 run_env_free(char **env);

/* lint.c */
/* One ansible-lint finding, mapped to a chiffon category. */
struct lint_finding {
	char	*rule;		/* check_name, e.g. "no-changed-when" */
	char	*severity;	/* info, minor, major, critical, blocker */
	char	*category;	/* idempotency, error_handling, ... */
	char	*reason;	/* one line */
	char	*fix;		/* what to do about it, or NULL */
	char	*file;
	int	 line;		/* 0 when unknown */
};

/*
 * Category and one-line reason for a rule id; *fix (fix may be NULL)
 * what to do about it.  Static strings.
 */
const char *lint_category(const char *rule, const char **reason,
	    const char **fix);
/*
 * Parse ansible-lint's JSON (codeclimate) output.  When there are more
 * than LINT_KEEP_ABOVE findings, keep the LINT_KEEP most severe.  0 with
 * *out (caller frees with lint_free) and *nout, or -1 with *errp.
 */
#define LINT_KEEP_ABOVE	100
#define LINT_KEEP	50
int	 lint_parse(const char *json, size_t len, struct lint_finding **out,
	    size_t *nout, char **errp);
void	 lint_free(struct lint_finding *, size_t);
/*
 * Store findings in playbook_suggestions through the host (task_id,
 * run_id and sha256, the playbook's content hash, may be NULL).  source
 * is "ansible-lint" or "idempotency".  A finding already stored for the
 * same playbook, hash, rule and location is not stored again.
 * 0, or -1 with *errp.
 */
int	 lint_store(const char *playbook, const char *sha256,
	    const char *task_id, const char *run_id, const char *source,
	    const struct lint_finding *, size_t, char **errp);
/*
 * The SHA-256 (hex) of playbook's content (relative to repo), the key
 * of stored findings; NULL when it cannot be read.  Caller frees.
 */
char	*lint_playbook_sha256(const char *repo, const char *playbook);
/*
 * Turn summary_not_idempotent's JSON array into findings (rule
 * "chiffon-not-idempotent", category idempotency; files relative to
 * repo).  0 with *out (lint_free) and *nout, or -1.
 */
int	 lint_idempotency(const char *changed_json, const char *repo,
	    const char *playbook, struct lint_finding **out, size_t *nout);

/*
 * Run ansible-lint on playbook (relative to repo) through the host and
 * store its findings.  done is called once with the number of findings
 * kept (error then says why they could not be stored, or is NULL), or -1
 * and an error message (missing is set when ansible-lint is not
 * installed).  A playbook whose content hash was linted before
 * (playbook_lint) is not linted again: done is called at once with the
 * findings stored for that hash.  0, or -1 with *errp (done not
 * called).
 */
typedef void (*lint_done_fn)(int nfindings, int missing, const char *error,
    const struct lint_finding *, size_t, void *data);
int	 lint_start(const char *repo, const char *playbook,
	    const char *task_id, const char *run_id, lint_done_fn done,
	    void *data, char **errp);

int	 lint_init(struct chiffon_plugin *, const struct chiffon_host *);
void	 lint_end(void);

#endif
