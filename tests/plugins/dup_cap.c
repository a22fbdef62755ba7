/*
 * dup_cap.c - a test plugin ("dupcap") registering a capability that the
 * good plugin already provides.  It ignores the error and returns 0; the
 * host must still refuse it, call end() and free its timer.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chiffon/plugin.h"

static const char	*dupcap_log;

static void
dupcap_note(const char *what)
{
	int	fd;

	if (dupcap_log == NULL ||
	    (fd = open(dupcap_log, O_WRONLY | O_APPEND | O_CREAT, 0644)) == -1)
		return;
	if (write(fd, what, strlen(what)) < 0 || write(fd, "\n", 1) < 0)
		abort();
	close(fd);
}

static void
dupcap_free(void *data)
{
	dupcap_note(data);
	free(data);
}

static int
dupcap_echo(struct chiffon_task *t, void *data)
{
	return -1;
}

static int
dupcap_tick(void *data)
{
	return 0;
}

static int
dupcap_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, dupcap_free };

	dupcap_log = host->config_get(p, "plugin.test.free_log");
	ud.data = strdup("dupcap free timer");
	host->add_timer(p, 1000, dupcap_tick, &ud);
	ud.data = strdup("dupcap free cap");
	if (host->register_capability(p, "test.echo", dupcap_echo, &ud) != 0)
		free(ud.data);	/* refused: still ours */
	return 0;
}

static void
dupcap_end(struct chiffon_plugin *p)
{
	dupcap_note("dupcap end");
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "dupcap",
	.version = "0",
	.description = "test plugin with a duplicate capability",
	.init = dupcap_init,
	.end = dupcap_end,
};
