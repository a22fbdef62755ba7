/*
 * app.c - lazily opened process-wide resources.
 */
#include "config.h"

#include <stdlib.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "loop.h"

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
	if (app->db == NULL)
		app->db = db_open(app->conf, 0, errp);
	return app->db;
}

void
app_free(struct app *app)
{
	if (app->db != NULL)
		db_close(app->db);
	if (app->loop != NULL)
		loop_free(app->loop);
	conf_free(app->conf);
	app->db = NULL;
	app->loop = NULL;
	app->conf = NULL;
}
