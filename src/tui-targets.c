/*
 * tui-targets.c - the hosts a step really runs on, for the Plan pane:
 * the play's hosts pattern intersected with the step's --limit, both
 * resolved against the inventory of the catalog the request was planned
 * with (vocab: {"hosts": [...], "groups": {NAME: {hosts, children}}}).
 *
 * Patterns as Ansible reads them: terms separated by ':' or ','; a term
 * is a host, a group (its hosts and its children's, recursively), "all"
 * or "*", or a shell wildcard over host names; "&term" intersects, and
 * "!term" excludes.  A pattern with Jinja in it, or a term the inventory
 * does not know, cannot be resolved here: then the pattern is shown as
 * it is.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tui.h"
#include "util.h"
#include "vocab.h"

/* Hosts shown by name at most; the rest are counted. */
#define TUI_TARGETS_SHOWN	6
/* Groups nest at most this deep (a loop in the inventory stops here). */
#define TUI_TARGETS_DEPTH	32

/* Mark in sel[] (one per inventory host) the hosts of group name. */
static int
tui_targets_group(json_object *groups, json_object *hosts, const char *name,
    char *sel, int depth)
{
	json_object	*g, *list, *v;
	const char	*h;
	size_t		 i, j, n, nh;

	if (depth > TUI_TARGETS_DEPTH || groups == NULL ||
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
			tui_targets_group(groups, hosts, json_object_get_string(
			    json_object_array_get_idx(list, i)), sel,
			    depth + 1);
	}
	return 0;
}

/* Mark the hosts of one term.  0, or -1 when the inventory lacks it. */
static int
tui_targets_term(json_object *groups, json_object *hosts, const char *term,
    char *sel)
{
	size_t	i, n = json_object_array_length(hosts);
	int	found = 0;

	if (strcmp(term, "all") == 0 || strcmp(term, "*") == 0) {
		memset(sel, 1, n);
		return 0;
	}
	if (tui_targets_group(groups, hosts, term, sel, 0) == 0)
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
tui_targets_pattern(json_object *groups, json_object *hosts,
    const char *pattern, char *sel)
{
	size_t	 i, n = json_object_array_length(hosts);
	char	*copy, *term, *save = NULL, *base, *one;
	int	 rc = 0, any = 0;

	if (strstr(pattern, "{{") != NULL || strstr(pattern, "{%") != NULL)
		return -1;
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
		if (tui_targets_term(groups, hosts, term, base) != 0)
			rc = -1;
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
		if (tui_targets_term(groups, hosts, term + 1, one) != 0 &&
		    *term == '&')
			rc = -1;
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

char *
tui_targets(const struct vocab *v, const char *pattern, const char *limit)
{
	json_object	*hosts = NULL, *groups = NULL;
	struct strbuf	 sb = { 0 };
	size_t		 i, n, k = 0, shown = 0;
	char		*sel;

	if (v == NULL || v->catalog == NULL ||
	    !json_object_object_get_ex(v->catalog, "hosts", &hosts) ||
	    !json_object_is_type(hosts, json_type_array))
		return NULL;
	json_object_object_get_ex(v->catalog, "groups", &groups);
	n = json_object_array_length(hosts);
	sel = xcalloc(n + 1, 1);
	memset(sel, 1, n);
	if ((pattern != NULL && tui_targets_pattern(groups, hosts, pattern,
	    sel) != 0) || (limit != NULL && tui_targets_pattern(groups,
	    hosts, limit, sel) != 0)) {
		free(sel);
		return NULL;
	}
	for (i = 0; i < n; i++)
		k += sel[i] != 0;
	for (i = 0; i < n; i++) {
		if (!sel[i])
			continue;
		if (shown == TUI_TARGETS_SHOWN) {
			strbuf_addf(&sb, " +%zu more", k - shown);
			break;
		}
		strbuf_addf(&sb, "%s%s", shown > 0 ? "," : "",
		    json_object_get_string(json_object_array_get_idx(hosts,
		    i)));
		shown++;
	}
	free(sel);
	if (k == 0)
		strbuf_adds(&sb, "no host");
	return strbuf_detach(&sb);
}
