/*
 * app.c - lazily opened process-wide resources.
 */
#include "config.h"

#include <stdlib.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "gittrail.h"
#include "log.h"
#include "host.h"
#include "loop.h"
#include "plugins.h"

struct loop *
app_loop(struct app *app)
{
	if (app->loop == NULL)
		app->loop = loop_new();
	return app->loop;
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

struct plugins *
app_plugins(struct app *app)
{
	if (app->plugins == NULL) {
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
	if (app->db != NULL)
		db_close(app->db);
	if (app->loop != NULL)
		loop_free(app->loop);
	conf_free(app->conf);
	app->db = NULL;
	app->loop = NULL;
	app->conf = NULL;
}
