/*
 * small_size.c - a test plugin whose descriptor claims a size smaller than
 * the smallest descriptor the host takes (that of ABI minor 0).
 */
#include "config.h"

#include <stddef.h>

#include "chiffon/plugin.h"

static int
small_size_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	return 0;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	.abi_major = CHIFFON_PLUGIN_ABI_MAJOR,
	.abi_minor = CHIFFON_PLUGIN_ABI_MINOR,
	.size = CHIFFON_PLUGIN_DESCRIPTOR_SIZE_0 - sizeof(void *),
	.name = "smallsize",
	.init = small_size_init,
};
