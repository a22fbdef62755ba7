/*
 * vocab.c - the parser's vocabulary from the infra plugin's catalog.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "host.h"
#include "json-get.h"
#include "util.h"
#include "vocab.h"

/* ansible-inventory on a big inventory takes a few seconds at most. */
#define VOCAB_CATALOG_TIMEOUT_MS	(120 * 1000)

/* Does any string of the array o[key] contain one of the words? */
static int
vocab_mentions(json_object *o, const char *key, const char *const *words)
{
	json_object	*a, *e;
	const char	*s;
	size_t		 i, j;

	if (!json_object_object_get_ex(o, key, &a))
		return 0;
	if (json_object_is_type(a, json_type_object)) {
		json_object_object_foreach(a, k, val) {
			for (j = 0; words[j] != NULL; j++) {
				if (strcasestr(k, words[j]) != NULL)
					return 1;
			}
			(void)val;
		}
		return 0;
	}
	if (!json_object_is_type(a, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		if ((s = json_object_get_string(e)) == NULL)
			continue;
		for (j = 0; words[j] != NULL; j++) {
			if (strcasestr(s, words[j]) != NULL)
				return 1;
		}
	}
	return 0;
}

/* Index of service name in v->services, or -1. */
static ssize_t
vocab_service_index(const struct vocab *v, const char *name)
{
	size_t	i;

	for (i = 0; i < v->iv.nservices; i++) {
		if (strcmp(v->services[i].name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* Append alias to a NULL-terminated list unless present. */
static const char **
vocab_add_alias(const char **list, const char *alias)
{
	size_t	n = 0;

	for (n = 0; list != NULL && list[n] != NULL; n++) {
		if (strcasecmp(list[n], alias) == 0)
			return list;
	}
	list = xreallocarray(list, n + 2, sizeof *list);
	list[n] = alias;
	list[n + 1] = NULL;
	return list;
}

/* In how many playbooks of list is name a tag service? */
static size_t
vocab_tag_count(json_object *list, const char *name)
{
	json_object	*a, *e, *v;
	size_t		 i, j, n = 0;

	for (i = 0; i < json_object_array_length(list); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(list,
		    i), "services", &a) || !json_object_is_type(a,
		    json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(a); j++) {
			e = json_object_array_get_idx(a, j);
			if (json_object_object_get_ex(e, "name", &v) &&
			    strcmp(json_object_get_string(v), name) == 0 &&
			    json_object_object_get_ex(e, "kind", &v) &&
			    strcmp(json_object_get_string(v), "tag") == 0) {
				n++;
				break;
			}
		}
	}
	return n;
}

/* The services inside a playbook (roles, imports, apps ...) by name. */
static void
vocab_inner_services(struct vocab *v, json_object *o, json_object *list)
{
	json_object	*a, *n, *k;
	const char	*name;
	size_t		 i;

	if (!json_object_object_get_ex(o, "services", &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(a, i),
		    "name", &n) || (name = json_object_get_string(n)) == NULL ||
		    *name == '\0' || vocab_service_index(v, name) >= 0)
			continue;
		/* A tag of several playbooks ("portals") is a word, no name. */
		if (json_object_object_get_ex(json_object_array_get_idx(a, i),
		    "kind", &k) && strcmp(json_object_get_string(k), "tag") ==
		    0 && vocab_tag_count(list, name) > 1) {
			v->tags = vocab_add_alias(v->tags, name);
			continue;
		}
		if (v->iv.nservices == v->cap) {
			v->cap = v->cap * 2 + 16;
			v->services = xreallocarray(v->services, v->cap,
			    sizeof *v->services);
			v->aliases = xreallocarray(v->aliases, v->cap,
			    sizeof *v->aliases);
		}
		v->aliases[v->iv.nservices] = NULL;
		v->services[v->iv.nservices].name = name;
		v->services[v->iv.nservices].aliases = NULL;
		v->iv.nservices++;
	}
}

static void
vocab_playbooks(struct vocab *v, json_object *list)
{
	static const char *const gpu_words[] = { "gpu", "nvidia", "cuda",
	    NULL };
	static const char *const no_check_words[] = { "no-check",
	    "no_check", "nocheck", NULL };
	struct vocab_playbook	*pb;
	json_object		*o, *al, *vars, *res;
	const char		*path, *service, *a;
	ssize_t			 si;
	size_t			 i, j, n;

	n = json_object_array_length(list);
	v->playbooks = xcalloc(n + 1, sizeof *v->playbooks);
	v->paths = xcalloc(n + 1, sizeof *v->paths);
	v->cap = n + 1;
	v->services = xcalloc(v->cap, sizeof *v->services);
	v->aliases = xcalloc(v->cap, sizeof *v->aliases);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(list, i);
		path = json_get_str(o, "path");
		service = json_get_str(o, "service");
		if (path == NULL || service == NULL)
			continue;
		pb = &v->playbooks[v->nplaybooks++];
		pb->path = path;
		pb->service = service;
		pb->action = json_get_str(o, "action");
		pb->hosts = json_get_str(o, "hosts");
		pb->needs = json_get_str(o, "needs");
		pb->gpu = vocab_mentions(o, "tags", gpu_words) ||
		    vocab_mentions(o, "vars", gpu_words);
		pb->no_check = vocab_mentions(o, "tags", no_check_words);
		if (json_object_object_get_ex(o, "vars", &vars) &&
		    json_object_object_get_ex(vars, "chiffon_resources",
		    &res) && json_object_is_type(res, json_type_object))
			pb->resources = res;
		v->paths[v->nplaybooks - 1] = path;
		pb->json = o;
		vocab_inner_services(v, o, list);
		if (json_object_object_get_ex(o, "generic", &res) &&
		    json_object_get_boolean(res))
			continue;	/* "site.yml": no service of its own */

		if ((si = vocab_service_index(v, service)) < 0) {
			if (v->iv.nservices == v->cap) {
				v->cap = v->cap * 2 + 16;
				v->services = xreallocarray(v->services,
				    v->cap, sizeof *v->services);
				v->aliases = xreallocarray(v->aliases,
				    v->cap, sizeof *v->aliases);
			}
			si = (ssize_t)v->iv.nservices++;
			v->services[si].name = service;
			v->services[si].aliases = NULL;
			v->aliases[si] = NULL;
		}
		if (json_object_object_get_ex(o, "aliases", &al) &&
		    json_object_is_type(al, json_type_array)) {
			for (j = 0; j < json_object_array_length(al); j++) {
				a = json_object_get_string(
				    json_object_array_get_idx(al, j));
				if (a != NULL && *a != '\0')
					v->aliases[si] = vocab_add_alias(
					    v->aliases[si], a);
			}
		}
		v->services[si].aliases = v->aliases[si];
	}
}

/* The names of an array of strings, NULL-terminated. */
static const char **
vocab_names_array(json_object *a)
{
	const char	**names;
	size_t		  i, n = 0;

	if (a == NULL || !json_object_is_type(a, json_type_array))
		return xcalloc(1, sizeof *names);
	names = xcalloc(json_object_array_length(a) + 1, sizeof *names);
	for (i = 0; i < json_object_array_length(a); i++) {
		const char *s = json_object_get_string(
		    json_object_array_get_idx(a, i));
		if (s != NULL)
			names[n++] = s;
	}
	return names;
}

/* The keys of an object, NULL-terminated. */
static const char **
vocab_names_object(json_object *o)
{
	const char	**names;
	size_t		  n = 0;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return xcalloc(1, sizeof *names);
	names = xcalloc((size_t)json_object_object_length(o) + 1,
	    sizeof *names);
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "all") != 0 && strcmp(key, "ungrouped") != 0)
			names[n++] = key;
	}
	return names;
}

int
vocab_from_json(struct vocab *v, const char *catalog_json, char **errp)
{
	json_object	*list, *hosts = NULL, *groups = NULL;

	memset(v, 0, sizeof *v);
	v->catalog = catalog_json != NULL ? json_tokener_parse(catalog_json) :
	    NULL;
	if (v->catalog == NULL ||
	    !json_object_object_get_ex(v->catalog, "playbooks", &list) ||
	    !json_object_is_type(list, json_type_array))
		return set_error(errp, "the catalog answer has no "
		    "\"playbooks\" list (is the infra plugin up to date?)");
	vocab_playbooks(v, list);
	v->inventory = json_get_str(v->catalog, "inventory_used");
	json_object_object_get_ex(v->catalog, "hosts", &hosts);
	json_object_object_get_ex(v->catalog, "groups", &groups);
	v->hosts = vocab_names_array(hosts);
	v->groups = vocab_names_object(groups);
	v->iv.services = v->services;
	v->iv.hosts = v->hosts;
	v->iv.groups = v->groups;
	v->iv.tags = v->tags;
	return 0;
}

int
vocab_load(struct vocab *v, struct app *app, char **errp)
{
	char		*status = NULL, *result = NULL, *err = NULL;
	json_object	*o;
	const char	*msg;
	int		 rc;

	memset(v, 0, sizeof *v);
	if (host_invoke_sync(app, CHIFFON_CAP_ANSIBLE_CATALOG, "{\"refresh\": true}",
	    VOCAB_CATALOG_TIMEOUT_MS, &status, &result, &err) != 0) {
		rc = set_error(errp, "catalog: %s", err);
		free(err);
		return rc;
	}
	if (strcmp(status, "successful") != 0) {
		o = json_tokener_parse(result);
		msg = json_get_str(o, "error");
		rc = set_error(errp, "catalog: %s", msg != NULL ? msg :
		    "the catalog refresh failed");
		json_object_put(o);
	} else
		rc = vocab_from_json(v, result, errp);
	free(status);
	free(result);
	return rc;
}

void
vocab_free(struct vocab *v)
{
	size_t	i;

	for (i = 0; v->aliases != NULL && i < v->iv.nservices; i++)
		free((void *)v->aliases[i]);
	free((void *)v->aliases);
	free(v->services);
	free((void *)v->hosts);
	free((void *)v->groups);
	free((void *)v->tags);
	free((void *)v->paths);
	free(v->playbooks);
	json_object_put(v->catalog);
	memset(v, 0, sizeof *v);
}

const struct vocab_playbook *
vocab_playbook(const struct vocab *v, const char *path)
{
	size_t	i;

	if (path == NULL)
		return NULL;
	for (i = 0; i < v->nplaybooks; i++) {
		if (strcmp(v->playbooks[i].path, path) == 0)
			return &v->playbooks[i];
	}
	return NULL;
}

int
vocab_is_group(const struct vocab *v, const char *name)
{
	size_t	i;

	if (strcmp(name, "all") == 0)
		return 1;
	for (i = 0; v->groups != NULL && v->groups[i] != NULL; i++) {
		if (strcmp(v->groups[i], name) == 0)
			return 1;
	}
	return 0;
}
