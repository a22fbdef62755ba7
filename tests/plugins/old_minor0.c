/*
 * old_minor0.c - a test plugin ("oldminor") as built against ABI 1.0: its
 * descriptor has the size of minor 0 (no config_keys member), and it uses
 * only minor-0 members of the host.  It must still load; its
 * [plugin.oldminor] keys stay free-form.  Capability test.old finishes
 * with config_get of plugin.oldminor.anything.
 */
#include "config.h"

#include <stdio.h>

#include "chiffon/plugin.h"

static const struct chiffon_host	*old_host;
static struct chiffon_plugin		*old_plugin;

static int
old_minor0_cap(struct chiffon_task *task, void *data)
{
	const char	*v;
	char		 out[256];

	(void)data;
	v = old_host->config_get(old_plugin, "plugin.oldminor.anything");
	snprintf(out, sizeof out, "{\"anything\": \"%s\"}", v != NULL ? v :
	    "");
	old_host->task_finish(task, "successful", out);
	return 0;
}

static int
old_minor0_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, NULL };

	old_host = host;
	old_plugin = p;
	return host->register_capability(p, "test.old", old_minor0_cap, &ud);
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	.abi_major = 1,
	.abi_minor = 0,
	.size = CHIFFON_PLUGIN_DESCRIPTOR_SIZE_0,
	.name = "oldminor",
	.version = "0.9",
	.init = old_minor0_init,
	.end = NULL,
};
