/*
 * inventory.h - hosts and groups of the Ansible inventory, as printed by
 * `ansible-inventory --list` (JSON), and finding them in request text.
 */
#ifndef CHIFFON_INFRA_INVENTORY_H
#define CHIFFON_INFRA_INVENTORY_H

#include <json-c/json.h>

#include "catalog.h"

/* One group: its own hosts and its child groups. */
struct inventory_group {
	char			*name;
	struct catalog_list	 hosts;
	struct catalog_list	 children;
};

/* The inventory: every host, every group (except "_meta"). */
struct inventory {
	struct catalog_list	 hosts;
	struct inventory_group	*groups;
	size_t			 ngroups;
};

/*
 * Parse the output of ansible-inventory --list.  Returns the inventory
 * or NULL with *errp set.  Caller frees.
 */
struct inventory	*inventory_parse(const char *json, char **errp);
void			 inventory_free(struct inventory *);
struct inventory_group	*inventory_group(const struct inventory *,
			    const char *name);
/*
 * Add to out the hosts a pattern names: a host, a group (with its
 * children, recursively) or "all".  Returns the number added, -1 if the
 * name is neither a host nor a group.
 */
int			 inventory_resolve(const struct inventory *,
			    const char *name, struct catalog_list *out);
/*
 * Add to out the hosts and groups named as words in text ("on the nas",
 * "on all proxmox hosts", "the desktops" for group "desktops" or
 * "desktop").  Returns the number of names found.
 */
int			 inventory_mentions(const struct inventory *,
			    const char *text, struct catalog_list *out);
/* {"hosts": [...], "groups": {"NAME": {"hosts": [...], "children": [...]}}} */
json_object		*inventory_json(const struct inventory *);

/* Where the inventory comes from. */
struct inventory_source {
	char			*path;		/* relative to the repo, or
						   absolute; NULL: none */
	const char		*how;		/* "ansible.inventory",
						   "ANSIBLE_INVENTORY",
						   "ansible.cfg", "discovered" */
	int			 pass;		/* chiffon passes -i path */
	char			*note;		/* several candidates, or none
						   found (what was looked at) */
	struct catalog_list	 looked;
};

/*
 * Find the inventory as Ansible does: configured (ansible.inventory),
 * ANSIBLE_INVENTORY, inventory in ansible.cfg; else discovered:
 * inventories/NAME/, inventory/NAME/, then the files inventory, hosts,
 * hosts.ini, hosts.yml, hosts.yaml (the first wins, ->note says which
 * others there were).  0, or -1 when none was found (->note says where
 * chiffon looked).  Free with inventory_source_free.
 */
int		 inventory_find(const char *repo, const char *configured,
		    struct inventory_source *);
void		 inventory_source_free(struct inventory_source *);
/*
 * What the inventory's contents depend on: its files' paths, mtimes and
 * sizes (a directory's files too), group_vars and ansible.cfg.  Equal
 * signatures: ansible-inventory need not run again.  Caller frees.
 */
char		*inventory_signature(const char *repo,
		    const struct inventory_source *);
/*
 * Host and group names read from the inventory files themselves (INI or
 * YAML; a directory's files), for when ansible-inventory fails.  NULL
 * with *errp.
 */
struct inventory *inventory_read_files(const char *repo, const char *path,
		    char **errp);

#endif
