/*
 * host.h - the host API handed to plugins (struct chiffon_host) and
 * in-process invocation of capabilities.
 *
 * The host API reaches the process state through one top-level singleton
 * set by host_init(app): the conf for config_get, the loop for fds,
 * timers and children, the database (app_db) for db_query and runs.  It
 * also keeps the list of unfinished tasks and open runs so that a plugin
 * that unloads leaves nothing behind.
 *
 * host_invoke is how the host asks a plugin for something ("ansible.catalog",
 * "ansible.match", "ansible" ...): it creates a task, calls the
 * capability's handler, and calls done exactly once when the plugin calls
 * host->task_finish (possibly before host_invoke returns).
 */
#ifndef CHIFFON_HOST_H
#define CHIFFON_HOST_H

#include "chiffon/plugin.h"

struct app;
struct runlog;

/* Completion of an invoked capability; strings valid during the call. */
typedef void	(*host_done_fn)(const char *status, const char *result_json,
		    void *data);
/* Called for every run a plugin begins (to subscribe to its lines). */
typedef void	(*host_run_fn)(struct runlog *, struct chiffon_task *,
		    void *data);

/* Set (or with NULL, clear) the app the host API works on. */
void		 host_init(struct app *);
/* The host API struct passed to plugins' init(). */
const struct chiffon_host *host_api(void);

/*
 * Invoke capability with params_json (a JSON object text; NULL means {}).
 * Returns -1 with *errp set if no loaded plugin provides the capability
 * or the parameters are not a JSON object; done is then never called.
 * Otherwise returns 0 and done is called exactly once.
 */
int		 host_invoke(struct app *, const char *capability,
		    const char *params_json, host_done_fn done, void *data,
		    char **errp);
/*
 * The same for a task with an id (the tasks.id of its row; may be NULL).
 * *taskp (if taskp is not NULL) is the task while it runs, for
 * host_cancel; it is set to NULL when the task finished before return.
 */
int		 host_invoke_task(struct app *, const char *task_id,
		    const char *capability, const char *params_json,
		    host_done_fn done, void *data, struct chiffon_task **taskp,
		    char **errp);
/*
 * Invoke and run the loop until the task finishes.  timeout_ms > 0 cancels
 * the task after that long and gives up HOST_CANCEL_GRACE_MS later.
 * Returns 0 with *statusp and *resultp (caller frees) set, or -1 with
 * *errp set.
 */
#define HOST_CANCEL_GRACE_MS	10000
int		 host_invoke_sync(struct app *, const char *capability,
		    const char *params_json, int timeout_ms, char **statusp,
		    char **resultp, char **errp);

/* Ask a running task's handler to stop (see task_cancel). */
int		 host_cancel(struct chiffon_task *);
/* The unfinished task with this id, or NULL. */
struct chiffon_task *host_task_find(const char *task_id);
/* Number of unfinished tasks. */
unsigned	 host_ntasks(void);

/* Hook called for every run a plugin begins (one hook; NULL removes). */
void		 host_on_run(host_run_fn, void *data);
/*
 * The process is going away (SIGTERM, SIGHUP): from now on a run that a
 * plugin ends as canceled is recorded as interrupted.
 */
void		 host_interrupt(void);

/*
 * A plugin is going away (called by the loader after end()): its
 * unfinished tasks are finished as "failed" and its open runs as
 * "canceled".
 */
void		 host_plugin_gone(struct chiffon_plugin *);

#endif
