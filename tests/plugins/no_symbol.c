/*
 * no_symbol.c - a test plugin without the descriptor symbol: it exports a
 * descriptor under a near-miss name only.  The loader must refuse it.
 */
#include "config.h"

#include <stddef.h>

#include "chiffon/plugin.h"

static int
no_symbol_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	return 0;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor_v0 = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "nosymbol",
	.init = no_symbol_init,
};
