/*
 * infra.h - the infra plugin's parts.  infra.c owns the descriptor and
 * calls each part's init, which registers that part's capabilities.
 */
#ifndef CHIFFON_INFRA_H
#define CHIFFON_INFRA_H

#include "chiffon/plugin.h"

/* The host API, saved by init for the plugin's parts. */
extern const struct chiffon_host *infra_host;
extern struct chiffon_plugin *infra_plugin;

/* infra-catalog.c: "ansible.catalog" and "ansible.match" capabilities
 * (over the host-independent catalog.c, match.c, inventory.c). */
int	infra_catalog_init(struct chiffon_plugin *, const struct chiffon_host *);
void	infra_catalog_end(void);
/* run.c: "ansible" (run a playbook) and "ansible.lint" capabilities. */
int	infra_run_init(struct chiffon_plugin *, const struct chiffon_host *);
void	infra_run_end(void);

#endif
