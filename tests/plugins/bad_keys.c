/*
 * bad_keys.c - a test plugin ("badkeys") whose declaration is broken: an
 * enum key without choices.  The loader refuses it.
 */
#include "config.h"

#include "chiffon/plugin.h"

static const struct chiffon_config_key bad_keys_config[] = {
	{ .name = "mode", .type = CHIFFON_CONFIG_ENUM, .doc = "no choices" },
	{ .name = NULL },
};

static int
bad_keys_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	(void)p;
	(void)host;
	return 0;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "badkeys",
	.init = bad_keys_init,
	.config_keys = bad_keys_config,
};
