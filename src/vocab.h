/*
 * vocab.h - what the request parser may recognise, built from the infra
 * plugin's catalog.
 *
 * The "ansible.catalog" capability answers with the playbooks of the
 * Ansible repository and the inventory ({"playbooks": [{path, service,
 * aliases, action, hosts, tags, ...}], "hosts": [...], "groups": {...}}).
 * vocab turns that into the struct intent_vocab of intent.h (one service
 * per distinct service name, the union of its playbooks' aliases; the
 * inventory's hosts and group names) and keeps the playbook list the
 * planner and the LLM tiers need.  Every string points into the parsed
 * catalog, which the vocab owns.
 */
#ifndef CHIFFON_VOCAB_H
#define CHIFFON_VOCAB_H

#include <stddef.h>

#include "intent.h"

struct app;
struct json_object;

/* One playbook of the catalog, as the planner sees it. */
struct vocab_playbook {
	const char	*path;		/* relative to the repository */
	const char	*service;
	const char	*action;	/* from the file name, or NULL */
	const char	*hosts;		/* the first play's hosts pattern */
	int		 gpu;		/* tags or vars mention a GPU */
	struct json_object *resources;	/* vars.chiffon_resources, or NULL */
	const char	*needs;		/* # chiffon:needs= text, or NULL */
	int		 no_check;	/* tagged no-check: no dry run */
	struct json_object *json;	/* the catalog entry: tags, services,
					   variables, requires, flags ... */
};

/* The parser's vocabulary and the catalog behind it. */
struct vocab {
	struct intent_vocab	 iv;		/* for intent_parse, tiers */
	struct intent_service	*services;
	const char		***aliases;	/* per service, NULL-ended */
	const char		**hosts;	/* NULL-terminated */
	const char		**groups;	/* NULL-terminated */
	const char		**tags;		/* tags of several playbooks */
	const char		**paths;	/* playbook paths, NULL-ended */
	struct vocab_playbook	*playbooks;
	size_t			 nplaybooks;
	size_t			 cap;		/* of services and aliases */
	struct json_object	*catalog;	/* owns every string */
	const char		*inventory;	/* the inventory planning used */
};

/*
 * Build from the catalog's JSON text.  0, or -1 with *errp when the text
 * is not a catalog.  Free with vocab_free even after a failure.
 */
int	 vocab_from_json(struct vocab *, const char *catalog_json,
	    char **errp);
/*
 * Refresh the catalog through "ansible.catalog" (incremental) and build
 * from it.  -1 with *errp when no plugin provides the capability or the
 * refresh failed.
 */
int	 vocab_load(struct vocab *, struct app *, char **errp);
void	 vocab_free(struct vocab *);

/* The playbook with this path, or NULL. */
const struct vocab_playbook *vocab_playbook(const struct vocab *,
	    const char *path);
/* Non-zero when name is an inventory group. */
int	 vocab_is_group(const struct vocab *, const char *name);

#endif
