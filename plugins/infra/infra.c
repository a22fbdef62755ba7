/*
 * infra.c - the infra plugin: chiffon's hands on the admin's Ansible repo.
 * Capabilities: ansible.catalog, ansible.match (catalog.c), ansible and
 * ansible.lint (run.c).
 */
#include "config.h"

#include "infra.h"

const struct chiffon_host	*infra_host;
struct chiffon_plugin		*infra_plugin;

static int
infra_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	infra_host = host;
	infra_plugin = p;
	if (infra_catalog_init(p, host) != 0)
		return -1;
	if (infra_run_init(p, host) != 0) {
		infra_catalog_end();
		return -1;
	}
	return 0;
}

static void
infra_end(struct chiffon_plugin *p)
{
	infra_run_end();
	infra_catalog_end();
	infra_host = NULL;
	infra_plugin = NULL;
}

/* The keys of [plugin.infra], checked by the host (chiffon.conf(5)). */
static const struct chiffon_config_key infra_config_keys[] = {
	{ .name = "lint_on_failure", .type = CHIFFON_CONFIG_BOOL,
	  .def = "yes",
	  .doc = "run ansible-lint on the playbook after a failed run and "
	  "store its findings as suggestions" },
	{ .name = "lint_on_success", .type = CHIFFON_CONFIG_BOOL,
	  .def = "no",
	  .doc = "run ansible-lint after a successful (not check-mode) run "
	  "too; a playbook content linted before answers from the stored "
	  "findings" },
	{ .name = "allow_paths", .type = CHIFFON_CONFIG_STRING,
	  .doc = "colon-separated directories outside the repository that "
	  "its symlinks may lead into" },
	{ .name = NULL },
};

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "infra",
	.version = PACKAGE_VERSION,
	.description = "Ansible: playbook catalog, matching, runs, lint",
	.init = infra_init,
	.end = infra_end,
	.config_keys = infra_config_keys,
};
