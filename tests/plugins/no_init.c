/*
 * no_init.c - a test plugin whose descriptor has no init function.
 */
#include "config.h"

#include <stddef.h>

#include "chiffon/plugin.h"

static void
no_init_end(struct chiffon_plugin *p)
{
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "noinit",
	.init = NULL,
	.end = no_init_end,
};
