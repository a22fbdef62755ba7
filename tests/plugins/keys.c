/*
 * keys.c - a test plugin ("keys") that declares one configuration key of
 * each type (ABI minor 2) and reads them back with the typed getters.
 * Capability keys.values finishes with a JSON object of what the getters
 * returned (null for an unset key) and the raw config_get texts.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "chiffon/plugin.h"

static const struct chiffon_host	*keys_host;
static struct chiffon_plugin		*keys_plugin;

static const struct chiffon_config_key keys_config[] = {
	{ .name = "count", .type = CHIFFON_CONFIG_INT, .def = "3", .min = 1,
	  .max = 10, .doc = "how many" },
	{ .name = "flag", .type = CHIFFON_CONFIG_BOOL, .def = "no",
	  .doc = "on or off" },
	{ .name = "wait", .type = CHIFFON_CONFIG_DURATION, .def = "2s",
	  .min = 0, .max = 3600, .doc = "how long" },
	{ .name = "buffer", .type = CHIFFON_CONFIG_SIZE, .def = "64k",
	  .min = 1024, .max = 1073741824, .doc = "how big" },
	{ .name = "mode", .type = CHIFFON_CONFIG_ENUM, .def = "fast",
	  .choices = "fast|safe", .doc = "which way" },
	{ .name = "label", .type = CHIFFON_CONFIG_STRING, .doc = "any text" },
	{ .name = NULL },
};

static int
keys_values(struct chiffon_task *task, void *data)
{
	const char	*mode, *label;
	char		 out[512];
	long long	 count = -1;
	double		 wait = -1;
	uint64_t	 buffer = 0;
	int		 flag = -1;

	(void)data;
	keys_host->config_int(keys_plugin, "plugin.keys.count", &count);
	keys_host->config_bool(keys_plugin, "plugin.keys.flag", &flag);
	keys_host->config_duration(keys_plugin, "plugin.keys.wait", &wait);
	keys_host->config_size(keys_plugin, "plugin.keys.buffer", &buffer);
	mode = keys_host->config_get(keys_plugin, "plugin.keys.mode");
	label = keys_host->config_get(keys_plugin, "plugin.keys.label");
	snprintf(out, sizeof out, "{\"count\": %lld, \"flag\": %d, "
	    "\"wait\": %g, \"buffer\": %" PRIu64 ", \"mode\": \"%s\", "
	    "\"label\": %s%s%s}", count, flag, wait, buffer,
	    mode != NULL ? mode : "", label != NULL ? "\"" : "",
	    label != NULL ? label : "null", label != NULL ? "\"" : "");
	keys_host->task_finish(task, "successful", out);
	return 0;
}

static int
keys_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, NULL };

	keys_host = host;
	keys_plugin = p;
	return host->register_capability(p, "keys.values", keys_values, &ud);
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "keys",
	.version = "1",
	.description = "declares a key of each type",
	.init = keys_init,
	.config_keys = keys_config,
};
