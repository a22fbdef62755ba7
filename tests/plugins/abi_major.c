/*
 * abi_major.c - a test plugin built for the next ABI major version.
 */
#include "config.h"

#include <stddef.h>

#include "chiffon/plugin.h"

static int
abi_major_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	return 0;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	.abi_major = CHIFFON_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.size = sizeof(struct chiffon_plugin_descriptor),
	.name = "abimajor",
	.init = abi_major_init,
};
