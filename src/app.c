/*
 * app.c - lazily opened process-wide resources.
 */
#include "config.h"

#include <stdlib.h>

#include <libpq-fe.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "gittrail.h"
#include "log.h"
#include "host.h"
#include "loop.h"
#include "plugins.h"
#include "runlog.h"
#include "spawn.h"
#include "util.h"

struct loop *
app_loop(struct app *app)
{
	if (app->loop == NULL)
		app->loop = loop_new();
	return app->loop;
}

/* An incomplete run became complete: its task may end now. */
static void
app_run_completed(PGconn *pg, long long task_id, void *data)
{
	struct app	*app = data;
	char		*err = NULL;

	if (dispatch_complete(pg, task_id, conf_get(app->conf, "audit.repo"),
	    &err) < 0) {
		log_warn("task %lld: %s", task_id, err);
		free(err);
	}
}

/* A run was left open by a process that is gone: so is its task. */
static void
app_run_interrupted(PGconn *pg, long long task_id, long long token,
    const char *agent, const char *why, void *data)
{
	struct app	*app = data;
	char		*err = NULL;

	if (dispatch_interrupt(pg, task_id, token, agent, why,
	    conf_get(app->conf, "audit.repo"), &err) < 0) {
		log_warn("task %lld: %s", task_id, err);
		free(err);
	}
}

/* A run of the task lost rows for good: the task cannot succeed. */
static int
app_run_lost(PGconn *pg, long long task_id, void *data)
{
	struct app	*app = data;
	char		*err = NULL;
	int		 rc;

	rc = dispatch_output_lost(pg, task_id, "failed", "output lost: the "
	    "database lost rows it had taken; the run stays incomplete",
	    conf_get(app->conf, "audit.repo"), &err);
	if (rc < 0) {
		log_warn("task %lld: %s", task_id, err);
		free(err);
	}
	return rc;
}

/*
 * A run was left incomplete by a process that is gone, its missing rows
 * nowhere: the task cannot be called successful, and is interrupted.
 */
static void
app_run_abandoned(PGconn *pg, long long task_id, long long token,
    const char *agent, long long lines_lost, void *data)
{
	struct app	*app = data;
	const char	*repo = conf_get(app->conf, "audit.repo");
	char		*why, *err = NULL;
	int		 rc;

	why = xasprintf("output lost: the process that ran it is gone and "
	    "%lld line%s of its output %s never stored", lines_lost,
	    lines_lost == 1 ? "" : "s", lines_lost == 1 ? "was" : "were");
	rc = dispatch_output_lost(pg, task_id, "interrupted", why, repo, &err);
	if (rc == 0)		/* its claim is still open */
		rc = dispatch_interrupt(pg, task_id, token, agent, why, repo,
		    &err);
	if (rc < 0) {
		log_warn("task %lld: %s", task_id, err);
		free(err);
	}
	free(why);
}

/*
 * What a process that is gone left behind: spooled output, runs left
 * running, agent rows left online.  Logged, never fatal.
 */
/* The run recorder may take lines again: children holding output go on. */
static void
app_run_ready(void *data)
{
	spawn_gate_open();
}

static void
app_recover(struct app *app)
{
	struct runlog_hooks	 hooks = {
		.completed = app_run_completed,
		.interrupted = app_run_interrupted,
		.lost = app_run_lost,
		.abandoned = app_run_abandoned,
		.ready = app_run_ready,
		.data = app,
	};
	const char		*dir = conf_data_dir(app->conf);
	char			*spool, *err = NULL;
	int			 n = 0;

	spool = dir != NULL ? path_join(dir, "spool") : NULL;
	runlog_set_spool_dir(spool);
	free(spool);
	runlog_set_hooks(&hooks);
	spawn_set_gate(runlog_may_take);
	if (runlog_recover(app->db, &n, &err) != 0) {
		log_warn("recovering runs of processes that are gone: %s", err);
		free(err);
		err = NULL;
	}
	if (n > 0)
		log_warn("%d run%s left open by a process that is gone %s "
		    "closed as interrupted", n, n == 1 ? "" : "s",
		    n == 1 ? "was" : "were");
	if (dispatch_agents_reap(db_pg(app->db), &err) < 0) {
		log_warn("agents of processes that are gone: %s", err);
		free(err);
	}
}

struct db *
app_db(struct app *app, char **errp)
{
	char	*err = NULL;
	int	 done = 0, failed = 0;

	if (app->db != NULL)
		return app->db;
	if ((app->db = db_open(app->conf, 0, errp)) == NULL)
		return NULL;
	app_recover(app);
	/* Git entries that failed before are retried at every start. */
	if (gittrail_retry_pending(db_pg(app->db), &done, &failed, &err) != 0) {
		log_warn("audit git trail: %s", err);
		free(err);
	} else if (failed > 0)
		log_warn("audit git trail: %d entr%s still failing "
		    "(chiffon audit retry shows why)", failed,
		    failed == 1 ? "y" : "ies");
	return app->db;
}

/* Children (ansible-playbook...) never see the API keys chiffon reads. */
static void
app_hide_secrets(struct app *app)
{
	static const char *const keys[] = { "llm.local_api_key_env",
	    "llm.external_api_key_env" };
	const char	*names[nitems(keys) + 1];
	const char	*v;
	size_t		 i, n = 0;

	for (i = 0; i < nitems(keys); i++) {
		if ((v = conf_get(app->conf, keys[i])) != NULL && *v != '\0')
			names[n++] = v;
	}
	names[n] = NULL;
	spawn_hide_env(names);
}

struct plugins *
app_plugins(struct app *app)
{
	if (app->plugins == NULL) {
		app_hide_secrets(app);
		host_init(app);
		app->plugins = plugins_new(host_api(), app_loop(app));
		plugins_load(app->plugins, app->conf);
	}
	return app->plugins;
}

void
app_free(struct app *app)
{
	/* Plugins first: unloading them uses the loop and the database. */
	if (app->plugins != NULL) {
		plugins_free(app->plugins);
		app->plugins = NULL;
		host_init(NULL);
	}
	runlog_shutdown();
	runlog_set_hooks(NULL);
	spawn_set_gate(NULL);
	spawn_hide_env(NULL);
	runlog_set_spool_dir(NULL);
	if (app->db != NULL)
		db_close(app->db);
	if (app->loop != NULL)
		loop_free(app->loop);
	conf_free(app->conf);
	app->db = NULL;
	app->loop = NULL;
	app->conf = NULL;
}
