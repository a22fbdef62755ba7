/*
 * dup_name.c - a test plugin named like the good one; it is searched after
 * it, so it is refused as a duplicate.
 */
#include "config.h"

#include <stddef.h>

#include "chiffon/plugin.h"

static int
dup_name_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	return 0;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "good",
	.version = "9.9",
	.init = dup_name_init,
};
