/*
 * inventory.c - the inventory as ansible-inventory --list describes it.
 *
 * The JSON has one object per group ({"hosts": [...], "children": [...]})
 * and "_meta": {"hostvars": {HOST: {...}}}.  Hosts are the union of
 * every group's hosts and the hostvars keys.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "util.h"

/* Deepest group nesting followed by inventory_resolve. */
#define INVENTORY_MAX_DEPTH	32

static void
inventory_strings(struct catalog_list *l, json_object *o, const char *key)
{
	json_object	*a, *e;
	size_t		 i, n;

	if (!json_object_object_get_ex(o, key, &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string))
			catalog_list_add_unique(l, json_object_get_string(e));
	}
}

struct inventory *
inventory_parse(const char *json, char **errp)
{
	struct inventory	*inv;
	struct inventory_group	*g;
	json_object		*root, *meta, *hostvars;
	enum json_tokener_error	 jerr;
	size_t			 i;

	root = json_tokener_parse_verbose(json, &jerr);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		set_error(errp, "ansible-inventory --list printed no JSON "
		    "object (%s)", root == NULL ?
		    json_tokener_error_desc(jerr) : "not an object");
		return NULL;
	}
	inv = xcalloc(1, sizeof *inv);
	json_object_object_foreach(root, key, val) {
		if (strcmp(key, "_meta") == 0 ||
		    !json_object_is_type(val, json_type_object))
			continue;
		inv->groups = xreallocarray(inv->groups, inv->ngroups + 1,
		    sizeof *inv->groups);
		g = &inv->groups[inv->ngroups++];
		memset(g, 0, sizeof *g);
		g->name = xstrdup(key);
		inventory_strings(&g->hosts, val, "hosts");
		inventory_strings(&g->children, val, "children");
	}
	for (i = 0; i < inv->ngroups; i++) {
		size_t j;

		for (j = 0; j < inv->groups[i].hosts.n; j++)
			catalog_list_add_unique(&inv->hosts,
			    inv->groups[i].hosts.v[j]);
	}
	if (json_object_object_get_ex(root, "_meta", &meta) &&
	    json_object_object_get_ex(meta, "hostvars", &hostvars) &&
	    json_object_is_type(hostvars, json_type_object)) {
		json_object_object_foreach(hostvars, host, hv) {
			(void)hv;
			catalog_list_add_unique(&inv->hosts, host);
		}
	}
	json_object_put(root);
	return inv;
}

void
inventory_free(struct inventory *inv)
{
	size_t	i;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->ngroups; i++) {
		free(inv->groups[i].name);
		catalog_list_free(&inv->groups[i].hosts);
		catalog_list_free(&inv->groups[i].children);
	}
	free(inv->groups);
	catalog_list_free(&inv->hosts);
	free(inv);
}

struct inventory_group *
inventory_group(const struct inventory *inv, const char *name)
{
	size_t	i;

	for (i = 0; i < inv->ngroups; i++) {
		if (strcmp(inv->groups[i].name, name) == 0)
			return &inv->groups[i];
	}
	return NULL;
}

static int
inventory_resolve_group(const struct inventory *inv,
    const struct inventory_group *g, struct catalog_list *out, int depth)
{
	const struct inventory_group	*c;
	size_t				 i;
	int				 n = 0;

	if (depth > INVENTORY_MAX_DEPTH)
		return 0;
	for (i = 0; i < g->hosts.n; i++)
		n += catalog_list_add_unique(out, g->hosts.v[i]);
	for (i = 0; i < g->children.n; i++) {
		if ((c = inventory_group(inv, g->children.v[i])) != NULL)
			n += inventory_resolve_group(inv, c, out, depth + 1);
	}
	return n;
}

int
inventory_resolve(const struct inventory *inv, const char *name,
    struct catalog_list *out)
{
	const struct inventory_group	*g;
	size_t				 i;
	int				 n = 0;

	if (strcmp(name, "all") == 0) {
		for (i = 0; i < inv->hosts.n; i++)
			n += catalog_list_add_unique(out, inv->hosts.v[i]);
		return n;
	}
	if ((g = inventory_group(inv, name)) != NULL)
		return inventory_resolve_group(inv, g, out, 0);
	if (catalog_list_has(&inv->hosts, name))
		return catalog_list_add_unique(out, name);
	return -1;
}

/* Non-zero if word (len bytes) names s, ignoring case and a plural s. */
static int
inventory_word_is(const char *word, size_t len, const char *s)
{
	size_t	slen = strlen(s);

	if (len == slen && strncasecmp(word, s, len) == 0)
		return 1;
	if (len == slen + 1 && tolower((unsigned char)word[len - 1]) == 's' &&
	    strncasecmp(word, s, slen) == 0)
		return 1;
	if (len + 1 == slen && tolower((unsigned char)s[slen - 1]) == 's' &&
	    strncasecmp(word, s, len) == 0)
		return 1;
	return 0;
}

int
inventory_mentions(const struct inventory *inv, const char *text,
    struct catalog_list *out)
{
	const char	*p = text, *w;
	size_t		 i, len;
	int		 n = 0;

	while (*p != '\0') {
		while (*p != '\0' && !isalnum((unsigned char)*p))
			p++;
		w = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' ||
		    (*p == '.' && isalnum((unsigned char)p[1])))
			p++;
		if ((len = p - w) == 0)
			break;
		for (i = 0; i < inv->ngroups; i++) {
			if (strcmp(inv->groups[i].name, "all") != 0 &&
			    strcmp(inv->groups[i].name, "ungrouped") != 0 &&
			    inventory_word_is(w, len, inv->groups[i].name))
				n += catalog_list_add_unique(out,
				    inv->groups[i].name);
		}
		for (i = 0; i < inv->hosts.n; i++) {
			if (inventory_word_is(w, len, inv->hosts.v[i]))
				n += catalog_list_add_unique(out,
				    inv->hosts.v[i]);
		}
	}
	return n;
}

json_object *
inventory_json(const struct inventory *inv)
{
	json_object	*o = json_object_new_object(), *groups, *g;
	size_t		 i;

	json_object_object_add(o, "hosts", catalog_list_json(&inv->hosts));
	groups = json_object_new_object();
	for (i = 0; i < inv->ngroups; i++) {
		g = json_object_new_object();
		json_object_object_add(g, "hosts",
		    catalog_list_json(&inv->groups[i].hosts));
		json_object_object_add(g, "children",
		    catalog_list_json(&inv->groups[i].children));
		json_object_object_add(groups, inv->groups[i].name, g);
	}
	json_object_object_add(o, "groups", groups);
	return o;
}
