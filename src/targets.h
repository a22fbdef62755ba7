/*
 * targets.h - the inventory hosts a step really runs on: the play's
 * hosts pattern intersected with the step's --limit, both resolved
 * against the inventory of the catalog (vocab.h: {"hosts": [...],
 * "groups": {NAME: {hosts, children}}}).  One resolver for `chiffon
 * plan`, the shell's Plan pane and its Task pane.
 *
 * Patterns as Ansible reads them: terms separated by ':' or ','; a term
 * is a host, a group (its hosts and its children's, recursively), "all"
 * or "*", or a shell wildcard over host names; "&term" intersects, and
 * "!term" excludes.  A pattern with Jinja in it, or a term the inventory
 * does not know, cannot be resolved: then the caller shows the pattern
 * as it is.
 */
#ifndef CHIFFON_TARGETS_H
#define CHIFFON_TARGETS_H

struct json_object;
struct vocab;

/*
 * The inventory hosts that pattern and limit (either may be NULL: no
 * restriction) select together, in inventory order: a new array of
 * strings (caller puts), possibly empty.  NULL with *errp naming what
 * could not be resolved (no inventory, Jinja, an unknown host or group).
 */
struct json_object *targets_hosts(const struct vocab *, const char *pattern,
	    const char *limit, char **errp);

/*
 * hosts (an array of strings) for a line on screen: "docker1",
 * "nas,pve1,pve2,pve3,pve4,pve5 +3 more", "no host".  Caller frees.
 */
char	*targets_text(struct json_object *hosts);

/*
 * targets_hosts as targets_text, or NULL when they cannot be resolved.
 * Caller frees.
 */
char	*targets_show(const struct vocab *, const char *pattern,
	    const char *limit);

#endif
