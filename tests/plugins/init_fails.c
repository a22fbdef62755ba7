/*
 * init_fails.c - a test plugin whose init() registers things and then
 * returns -1: the host must refuse it and free what it registered.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chiffon/plugin.h"

static const char	*initfails_log;

static void
initfails_free(void *data)
{
	int	fd;

	if (initfails_log != NULL &&
	    (fd = open(initfails_log, O_WRONLY | O_APPEND | O_CREAT,
	    0644)) != -1) {
		if (write(fd, data, strlen(data)) < 0 ||
		    write(fd, "\n", 1) < 0)
			abort();
		close(fd);
	}
	free(data);
}

static int
initfails_never(struct chiffon_task *t, void *data)
{
	return -1;
}

static int
initfails_tick(void *data)
{
	return 0;
}

static int
initfails_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud;

	/* Valid while the host configuration lives (past the free_funcs). */
	initfails_log = host->config_get(p, "plugin.test.free_log");
	ud.free_func = initfails_free;
	ud.data = strdup("initfails free cap");
	host->register_capability(p, "test.never", initfails_never, &ud);
	ud.data = strdup("initfails free timer");
	host->add_timer(p, 1000, initfails_tick, &ud);
	return 7;
}

static void
initfails_end(struct chiffon_plugin *p)
{
	abort();	/* never called: init failed */
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "initfails",
	.version = "0",
	.description = "test plugin whose init fails",
	.init = initfails_init,
	.end = initfails_end,
};
