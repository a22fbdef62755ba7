/*
 * targets.c - the hosts a step really runs on (see targets.h): one
 * selection flag per inventory host, set by the play's pattern and the
 * limit in turn.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "targets.h"
#include "util.h"
#include "vocab.h"

/* Hosts shown by name at most; the rest are counted. */
#define TARGETS_SHOWN	6
/* Groups nest at most this deep (a loop in the inventory stops here). */
#define TARGETS_DEPTH	32

/* Mark in sel[] (one per inventory host) the hosts of group name. */
static int
targets_group(json_object *groups, json_object *hosts, const char *name,
    char *sel, int depth)
{
	json_object	*g, *list, *v;
	const char	*h;
	size_t		 i, j, n, nh;

	if (depth > TARGETS_DEPTH || groups == NULL ||
	    !json_object_object_get_ex(groups, name, &g))
		return -1;
	nh = json_object_array_length(hosts);
	if (json_object_object_get_ex(g, "hosts", &list)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++) {
			h = json_object_get_string(json_object_array_get_idx(
			    list, i));
			for (j = 0; j < nh; j++) {
				v = json_object_array_get_idx(hosts, j);
				if (strcmp(json_object_get_string(v), h) == 0)
					sel[j] = 1;
			}
		}
	}
	if (json_object_object_get_ex(g, "children", &list)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++)
			targets_group(groups, hosts, json_object_get_string(
			    json_object_array_get_idx(list, i)), sel,
			    depth + 1);
	}
	return 0;
}

/* Mark the hosts of one term.  0, or -1 when the inventory lacks it. */
static int
targets_term(json_object *groups, json_object *hosts, const char *term,
    char *sel)
{
	size_t	i, n = json_object_array_length(hosts);
	int	found = 0;

	if (strcmp(term, "all") == 0 || strcmp(term, "*") == 0) {
		memset(sel, 1, n);
		return 0;
	}
	if (targets_group(groups, hosts, term, sel, 0) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (fnmatch(term, json_object_get_string(
		    json_object_array_get_idx(hosts, i)), 0) == 0) {
			sel[i] = 1;
			found = 1;
		}
	}
	return found ? 0 : -1;
}

/*
 * Apply pattern to sel (one per host; all set on entry for "no
 * pattern").  0, or -1 when it cannot be resolved.
 */
static int
targets_pattern(json_object *groups, json_object *hosts,
    const char *pattern, char *sel, char **errp)
{
	size_t	 i, n = json_object_array_length(hosts);
	char	*copy, *term, *save = NULL, *base, *one;
	int	 rc = 0, any = 0;

	if (strstr(pattern, "{{") != NULL || strstr(pattern, "{%") != NULL) {
		set_error(errp, "host pattern '%s' is a template", pattern);
		return -1;
	}
	base = xcalloc(n + 1, 1);
	one = xcalloc(n + 1, 1);
	copy = xstrdup(pattern);
	/* The plain terms first: their union is the base. */
	for (term = strtok_r(copy, ":,", &save); term != NULL;
	    term = strtok_r(NULL, ":,", &save)) {
		term += strspn(term, " ");
		if (*term == '&' || *term == '!' || *term == '\0')
			continue;
		any = 1;
		if (rc == 0 && targets_term(groups, hosts, term, base) != 0) {
			set_error(errp, "host pattern '%s': the inventory has "
			    "no host or group '%s'", pattern, term);
			rc = -1;
		}
	}
	if (!any)
		memset(base, 1, n);
	free(copy);
	copy = xstrdup(pattern);
	for (term = strtok_r(copy, ":,", &save); rc == 0 && term != NULL;
	    term = strtok_r(NULL, ":,", &save)) {
		term += strspn(term, " ");
		if (*term != '&' && *term != '!')
			continue;
		memset(one, 0, n);
		/* "!unknown" excludes nothing, as in Ansible. */
		if (targets_term(groups, hosts, term + 1, one) != 0 &&
		    *term == '&') {
			set_error(errp, "host pattern '%s': the inventory has "
			    "no host or group '%s'", pattern, term + 1);
			rc = -1;
		}
		for (i = 0; i < n; i++)
			base[i] = *term == '&' ? base[i] && one[i] :
			    base[i] && !one[i];
	}
	for (i = 0; i < n; i++)
		sel[i] = sel[i] && base[i];
	free(copy);
	free(base);
	free(one);
	return rc;
}

json_object *
targets_hosts(const struct vocab *v, const char *pattern, const char *limit,
    char **errp)
{
	json_object	*hosts = NULL, *groups = NULL, *out;
	size_t		 i, n;
	char		*sel;

	if (v == NULL || v->catalog == NULL ||
	    !json_object_object_get_ex(v->catalog, "hosts", &hosts) ||
	    !json_object_is_type(hosts, json_type_array)) {
		set_error(errp, "no inventory to resolve hosts against");
		return NULL;
	}
	json_object_object_get_ex(v->catalog, "groups", &groups);
	n = json_object_array_length(hosts);
	sel = xcalloc(n + 1, 1);
	memset(sel, 1, n);
	if ((pattern != NULL && targets_pattern(groups, hosts, pattern,
	    sel, errp) != 0) || (limit != NULL && targets_pattern(groups,
	    hosts, limit, sel, errp) != 0)) {
		free(sel);
		return NULL;
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++) {
		if (sel[i])
			json_object_array_add(out, json_object_get(
			    json_object_array_get_idx(hosts, i)));
	}
	free(sel);
	return out;
}

char *
targets_text(json_object *hosts)
{
	struct strbuf	sb = { 0 };
	size_t		i, n = json_object_array_length(hosts);

	for (i = 0; i < n && i < TARGETS_SHOWN; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? "," : "",
		    json_object_get_string(json_object_array_get_idx(hosts,
		    i)));
	if (n > TARGETS_SHOWN)
		strbuf_addf(&sb, " +%zu more", n - TARGETS_SHOWN);
	if (n == 0)
		strbuf_adds(&sb, "no host");
	return strbuf_detach(&sb);
}

char *
targets_show(const struct vocab *v, const char *pattern, const char *limit)
{
	json_object	*hosts;
	char		*err = NULL, *s;

	if ((hosts = targets_hosts(v, pattern, limit, &err)) == NULL) {
		free(err);
		return NULL;
	}
	s = targets_text(hosts);
	json_object_put(hosts);
	return s;
}
