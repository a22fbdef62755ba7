/*
 * abi_minor_newer.c - a test plugin built against a newer ABI minor than the
 * host provides.
 */
#include "config.h"

#include <stddef.h>

#include "chiffon/plugin.h"

static int
abi_minor_newer_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	return 0;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	.abi_major = CHIFFON_PLUGIN_ABI_MAJOR,
	.abi_minor = CHIFFON_PLUGIN_ABI_MINOR + 1,
	.size = sizeof(struct chiffon_plugin_descriptor),
	.name = "abiminor",
	.init = abi_minor_newer_init,
};
