/*
 * plan.h - from understood intents to a plan an admin can judge in under
 * a minute, and its rows in plans / tasks.
 *
 * plan_build turns the parser's intents (intent.h's JSON shape) into an
 * ordered list of tasks: each intent is matched to a playbook by a
 * matcher (normally the infra plugin's "ansible.match" capability,
 * plan_match_host), gets its targets (--limit), extra vars, dependencies
 * (configure/check after a deploy of the same service), an estimated
 * duration (median of past successful runs of the playbook, else a
 * per-action default), resources and a risk level.  What cannot be
 * placed - the parser's ambiguities, an intent without a playbook (with
 * the matcher's candidates), an action chiffon cannot carry out - becomes
 * a question, and a plan with questions is not runnable: nothing is
 * guessed.
 *
 * plan_store writes the plan and its tasks (pending_approval) in one
 * transaction, optionally as the next version of an earlier plan, which
 * it supersedes.  The database itself refuses every shortcut (see
 * chiffon-schema(7)).
 */
#ifndef CHIFFON_PLAN_H
#define CHIFFON_PLAN_H

#include <stddef.h>

#include <libpq-fe.h>

struct json_object;
struct vocab;

/* Risk of a step. */
#define PLAN_RISK_LOW		0
#define PLAN_RISK_MEDIUM	1
#define PLAN_RISK_HIGH		2

/* One step of a plan. */
struct plan_task {
	int			 step;		/* 1-based, execution order */
	char			*action;	/* canonical (intent.h) */
	char			*service;	/* NULL: none recognised */
	char			*text;		/* the words of the request */
	char			*playbook;	/* NULL: nothing matched */
	char			*method;	/* exact, mapping, lexical */
	double			 confidence;	/* of the match, [0,1] */
	struct json_object	*candidates;	/* [{path, service, ...}] */
	char			*limit;		/* --limit; NULL: no limit */
	struct json_object	*hosts;		/* the inventory hosts it runs
						   on (targets.h), array;
						   NULL: not resolved */
	struct json_object	*tags;		/* array of strings */
	struct json_object	*skip_tags;	/* --skip-tags, array */
	char			*command;	/* the ansible-playbook line */
	struct json_object	*extra_vars;	/* object */
	int			 check;		/* run in check mode */
	int			*depends;	/* steps this one waits for */
	size_t			 ndepends;
	char			*capability;	/* "ansible" */
	double			 estimated_s;
	char			*estimate_from;	/* "median of N runs"... */
	struct json_object	*resources;	/* needs: {"gpu": true, ...} */
	int			 risk;		/* PLAN_RISK_* */
	char			*risk_why;
	char			*note;		/* what the step is for */
	char			*gen_layout;	/* generate: "site", ... */
	char			*gen_role;	/* generate: the role */
	int			 refused;	/* a question says why not */
	long long		 id;		/* tasks.id once stored */
	char			*status;	/* tasks.status once stored */
};

/* A plan: its steps, the questions it leaves, and where it is stored. */
struct plan {
	long long		 request_id;
	long long		 row_id;	/* plans.id once stored */
	long long		 plan_id;	/* the same for every version */
	int			 version;
	char			*text;		/* the request (or amendment) */
	char			*tier;		/* parser tier */
	double			 cost_usd;	/* of understanding the text */
	char			*status;	/* plans.status once stored */
	struct plan_task	*tasks;
	size_t			 ntasks;
	struct json_object	*questions;	/* array of strings */
	struct json_object	*notes;		/* array of strings */
};

/*
 * A matcher: the playbook for one intent.  *resultp gets ansible.match's
 * answer ({"match": {path, service, confidence, method} | null,
 * "candidates": [...]}; caller puts).  0, or -1 with *errp.
 */
typedef int (*plan_match_fn)(const char *text, const char *action,
    struct json_object *targets, struct json_object **resultp, void *data,
    char **errp);

/* The matcher through the "ansible.match" capability; data is the app. */
int		 plan_match_host(const char *text, const char *action,
		    struct json_object *targets, struct json_object **resultp,
		    void *data, char **errp);

/*
 * Build a plan from parsed (intent_parse's shape) for the request text.
 * pg (may be NULL) gives the history for estimates.  Returns the plan
 * (caller frees), or NULL with *errp when matching failed outright (the
 * matcher's error; a mere miss is a question, not an error).
 */
struct plan	*plan_build(PGconn *pg, const char *text,
		    struct json_object *parsed, const struct vocab *,
		    plan_match_fn, void *match_data, char **errp);
void		 plan_free(struct plan *);

/* Non-zero when the plan has steps and no open questions. */
int		 plan_runnable(const struct plan *);

/* Estimated seconds for one step (history, else the action's default). */
double		 plan_estimate(PGconn *, const char *playbook,
		    const char *action, char **fromp);
/* The default estimate of an action in seconds. */
double		 plan_default_estimate(const char *action);
/*
 * Risk of an action on targets: the action's base (remove/restore high;
 * deploy/update/restart/configure/stop/start medium; check/backup/generate
 * low), one level more for all hosts or a group, one less (never below
 * the base) when a check-mode dry run is possible.  *whyp (caller frees)
 * explains it.
 */
int		 plan_risk(const char *action, int broad, int checkable,
		    char **whyp);
const char	*plan_risk_name(int);

/*
 * Approving a plan with a high-risk or destructive step (risk high, the
 * action remove or restore, or a step whose words say remove, nuke,
 * reset, reboot, wipe, destroy, purge, uninstall or delete) takes a
 * typed confirmation: the word yes or the service name of such a step.
 * plan_confirm_needed returns the 1-based index of the first such step,
 * or 0; plan_confirm_ok whether typed confirms; plan_confirm_question
 * the question to ask (NULL when none is needed; caller frees).
 */
size_t		 plan_confirm_needed(const struct plan *);
/*
 * The steps whose playbook (under repo) asks for input when it runs (a
 * play with vars_prompt): "step 1 (x.yml), step 3 (y.yml)"; "every step
 * (ansible.cfg: become password)" when repo/ansible.cfg sets
 * become_ask_pass or ask_vault_pass; or NULL.  Caller frees.
 */
char		*plan_prompts(const struct plan *, const char *repo);
int		 plan_confirm_ok(const struct plan *, const char *typed);
char		*plan_confirm_question(const struct plan *);

/*
 * Store a runnable plan and its tasks (pending_approval) for its
 * request_id.  supersedes > 0 makes it the next version of that plans
 * row, which must be pending approval and becomes superseded (its tasks
 * too); amendment is then the amended text.  Sets row_id, plan_id,
 * version and the tasks' ids.  0, or -1 with *errp (nothing stored).
 */
int		 plan_store(PGconn *, struct plan *, const char *created_by,
		    const char *amendment, long long supersedes, char **errp);

/*
 * Resolve a plan argument: "ID" is the newest version of plan ID,
 * "ID.V" (or "IDvV") that version.  Returns the plans row id, or -1 with
 * *errp.
 */
long long	 plan_resolve(PGconn *, const char *ref, char **errp);
/* Load a stored plan with its tasks.  NULL with *errp. */
struct plan	*plan_load(PGconn *, long long row_id, char **errp);

/* A plan pending approval, as plan_pending lists it. */
struct plan_pending {
	long long		 row_id;	/* plans.id */
	long long		 plan_id;	/* what the admin names */
	int			 version;
	char			*text;		/* the request (or amendment) */
	size_t			 nsteps;
	char			*steps;		/* "deploy kuma, configure kuma" */
	double			 age_s;		/* since the version was made */
};

/*
 * The plans made by user (plans.created_by) that are pending approval:
 * neither approved nor rejected nor superseded, newest first, at most
 * max.  *listp gets them (free with plan_pending_free; NULL when none).
 * Returns how many, or -1 with *errp.
 */
int		 plan_pending(PGconn *, const char *user, size_t max,
		    struct plan_pending **listp, char **errp);
void		 plan_pending_free(struct plan_pending *, size_t n);
/* Free one row's strings (the array stays the caller's). */
void		 plan_pending_free_row(struct plan_pending *);

/* The one-line summary stored in plans.summary.  Caller frees. */
char		*plan_summary(const struct plan *);
/* The plan as text for a terminal (steps, questions, notes).  Caller frees. */
char		*plan_format(const struct plan *);
/*
 * The hosts step t runs on, for a line: resolved against v's inventory
 * when v is not NULL, else the hosts resolved when it was planned, else
 * its --limit or the play's pattern as they are ("all" when neither is
 * known).  Caller frees.
 */
char		*plan_targets(const struct plan_task *t, const struct vocab *v);
/* The plan as JSON (also plans.detail).  Caller puts. */
struct json_object *plan_json(const struct plan *);
/*
 * The ansible-playbook command line step t runs (playbook, -i inventory
 * when not NULL, --limit, --tags, --skip-tags, -e, --check), quoted for
 * a shell; NULL without a playbook.  Caller frees.
 */
char		*plan_command(const struct plan_task *t, const char *inventory);
/* "40s", "2m30s", "1h05m".  Caller frees. */
char		*plan_duration(double seconds);

/*
 * Shared by plan-build.c, plan-show.c and plan-store.c only.
 */
/* The string member key of o, or NULL. */
const char	*plan_jstr(struct json_object *o, const char *key);
/* A JSON string, or NULL (JSON null) for NULL. */
struct json_object *plan_jstr_new(const char *);
/* Append the non-empty strings of array from to array to, once each. */
void		 plan_add_all(struct json_object *to,
		    struct json_object *from);

#endif
