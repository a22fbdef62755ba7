/*
 * inventory.c - the inventory as ansible-inventory --list describes it.
 *
 * The JSON has one object per group ({"hosts": [...], "children": [...]})
 * and "_meta": {"hostvars": {HOST: {...}}}.  Hosts are the union of
 * every group's hosts and the hostvars keys.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inventory.h"
#include "util.h"
#include "yaml-play.h"

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

/* --- finding the inventory ------------------------------------------------ */

/* Files of an inventory that may be read by hand, in discovery order. */
static const char *const inventory_candidates[] = {
	"inventory", "hosts", "hosts.ini", "hosts.yml", "hosts.yaml",
};

static int
inventory_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Subdirectories of repo/dir (sorted) as "dir/NAME" into out. */
static void
inventory_subdirs(const char *repo, const char *dir, struct catalog_list *out)
{
	struct catalog_list	 names = { 0 };
	struct dirent		*de;
	struct stat		 st;
	char			*path, *sub;
	DIR			*d;
	size_t			 i;

	path = path_join(repo, dir);
	if ((d = opendir(path)) == NULL) {
		free(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "group_vars") ==
		    0 || strcmp(de->d_name, "host_vars") == 0)
			continue;
		sub = path_join(path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			catalog_list_add(&names, de->d_name);
		free(sub);
	}
	closedir(d);
	free(path);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof *names.v, inventory_cmp_str);
	for (i = 0; i < names.n; i++) {
		sub = xasprintf("%s/%s", dir, names.v[i]);
		catalog_list_add(out, sub);
		free(sub);
	}
	catalog_list_free(&names);
}

void
inventory_source_free(struct inventory_source *src)
{
	free(src->path);
	free(src->note);
	catalog_list_free(&src->looked);
	memset(src, 0, sizeof *src);
}

int
inventory_find(const char *repo, const char *configured,
    struct inventory_source *src)
{
	struct catalog_list	 found = { 0 };
	struct stat		 st;
	const char		*env = getenv("ANSIBLE_INVENTORY");
	char			*cfg, *p, *list;
	size_t			 i;

	memset(src, 0, sizeof *src);
	if (configured != NULL && *configured != '\0') {
		src->path = xstrdup(configured);
		src->how = "ansible.inventory";
		src->pass = 1;
		return 0;
	}
	if (env != NULL && *env != '\0') {
		src->path = xstrdup(env);
		src->how = "ANSIBLE_INVENTORY";
		return 0;
	}
	if ((cfg = catalog_cfg_get(repo, "inventory")) != NULL) {
		src->path = cfg;
		src->how = "ansible.cfg";
		return 0;
	}
	inventory_subdirs(repo, "inventories", &found);
	inventory_subdirs(repo, "inventory", &found);
	for (i = 0; i < nitems(inventory_candidates); i++) {
		p = path_join(repo, inventory_candidates[i]);
		if (stat(p, &st) == 0 && (S_ISREG(st.st_mode) ||
		    (S_ISDIR(st.st_mode) && found.n == 0)))
			catalog_list_add_unique(&found, inventory_candidates[i]);
		free(p);
	}
	catalog_list_add(&src->looked, "ansible.cfg [defaults] inventory");
	catalog_list_add(&src->looked, "inventories/*/");
	catalog_list_add(&src->looked, "inventory/*/");
	for (i = 0; i < nitems(inventory_candidates); i++)
		catalog_list_add(&src->looked, inventory_candidates[i]);
	if (found.n == 0) {
		list = catalog_list_join(&src->looked, ", ");
		src->note = xasprintf("inventory: none found in %s (looked at "
		    "%s); set ansible.inventory in chiffon.conf or inventory "
		    "in ansible.cfg", repo, list);
		free(list);
		catalog_list_free(&found);
		return -1;
	}
	src->path = xstrdup(found.v[0]);
	src->how = "discovered";
	src->pass = 1;
	if (found.n > 1) {
		list = catalog_list_join(&found, ", ");
		src->note = xasprintf("inventory: %zu candidates (%s); using "
		    "%s. Choose another with --inventory or ansible.inventory "
		    "in chiffon.conf (or inventory = in ansible.cfg).", found.n,
		    list, found.v[0]);
		free(list);
	}
	catalog_list_free(&found);
	return 0;
}

/* Add "path:mtime:size;" of one file, or of every file of a directory. */
static void
inventory_sig_add(struct strbuf *sb, const char *path, int depth)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		*sub;

	if (stat(path, &st) != 0) {
		strbuf_addf(sb, "%s:-;", path);
		return;
	}
	strbuf_addf(sb, "%s:%lld.%09ld:%lld;", path,
	    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	    (long long)st.st_size);
	if (!S_ISDIR(st.st_mode) || depth > 3 || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		sub = path_join(path, de->d_name);
		inventory_sig_add(sb, sub, depth + 1);
		free(sub);
	}
	closedir(d);
}

char *
inventory_signature(const char *repo, const struct inventory_source *src)
{
	struct strbuf	 sb = { 0 };
	char		*p, *gv;

	p = src->path == NULL ? NULL : src->path[0] == '/' ?
	    xstrdup(src->path) : path_join(repo, src->path);
	strbuf_addf(&sb, "%s|", src->how != NULL ? src->how : "");
	if (p != NULL)
		inventory_sig_add(&sb, p, 0);
	p = p != NULL ? p : xstrdup("");
	free(p);
	gv = path_join(repo, "group_vars");
	inventory_sig_add(&sb, gv, 1);
	free(gv);
	gv = path_join(repo, "ansible.cfg");
	inventory_sig_add(&sb, gv, 3);
	free(gv);
	return strbuf_detach(&sb);
}

/* The group g of o, created as {"hosts": [], "children": []}. */
static json_object *
inventory_json_group(json_object *o, const char *g)
{
	json_object	*grp;

	if (json_object_object_get_ex(o, g, &grp))
		return grp;
	grp = json_object_new_object();
	json_object_object_add(grp, "hosts", json_object_new_array());
	json_object_object_add(grp, "children", json_object_new_array());
	json_object_object_add(o, g, grp);
	return grp;
}

static void
inventory_json_add(json_object *grp, const char *key, const char *name)
{
	json_object	*a = json_object_object_get(grp, key);
	size_t		 i;

	for (i = 0; i < json_object_array_length(a); i++) {
		if (strcmp(json_object_get_string(json_object_array_get_idx(a,
		    i)), name) == 0)
			return;
	}
	json_object_array_add(a, json_object_new_string(name));
}

/* An INI inventory's groups and hosts into o. */
static void
inventory_read_ini(const char *text, json_object *o)
{
	const char	*p = text, *eol, *s, *e;
	char		*group = xstrdup("ungrouped"), *name;
	int		 children = 0, vars = 0;

	for (; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		for (s = p; s < eol && isspace((unsigned char)*s); s++)
			;
		if (s == eol || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			for (e = s + 1; e < eol && *e != ']'; e++)
				;
			free(group);
			group = xstrndup(s + 1, e - s - 1);
			children = vars = 0;
			if ((name = strchr(group, ':')) != NULL) {
				children = strcmp(name, ":children") == 0;
				vars = !children;
				*name = '\0';
			}
			inventory_json_group(o, group);
			continue;
		}
		if (vars)
			continue;
		for (e = s; e < eol && !isspace((unsigned char)*e); e++)
			;
		name = xstrndup(s, e - s);
		inventory_json_add(inventory_json_group(o, group), children ?
		    "children" : "hosts", name);
		if (children)
			inventory_json_group(o, name);
		free(name);
	}
	free(group);
}

/* A YAML inventory group {hosts: {...}, children: {...}} into o. */
static void
inventory_read_yaml_group(json_object *o, const char *g, json_object *y,
    int depth)
{
	json_object	*grp = inventory_json_group(o, g), *h, *c;

	if (depth > 32 || !json_object_is_type(y, json_type_object))
		return;
	if (json_object_object_get_ex(y, "hosts", &h) &&
	    json_object_is_type(h, json_type_object)) {
		json_object_object_foreach(h, host, hv) {
			(void)hv;
			inventory_json_add(grp, "hosts", host);
		}
	}
	if (json_object_object_get_ex(y, "children", &c) &&
	    json_object_is_type(c, json_type_object)) {
		json_object_object_foreach(c, child, cv) {
			inventory_json_add(grp, "children", child);
			inventory_read_yaml_group(o, child, cv, depth + 1);
		}
	}
}

struct inventory *
inventory_read_files(const char *repo, const char *path, char **errp)
{
	struct inventory	*inv;
	struct catalog_list	 files = { 0 };
	struct dirent		*de;
	struct stat		 st;
	json_object		*o = json_object_new_object(), *y;
	char			*full, *text, *sub, *err = NULL;
	size_t			 i, len;
	DIR			*d;

	full = path[0] == '/' ? xstrdup(path) : path_join(repo, path);
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (d = opendir(full)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			sub = path_join(full, de->d_name);
			if (de->d_name[0] != '.' && stat(sub, &st) == 0 &&
			    S_ISREG(st.st_mode))
				catalog_list_add(&files, sub);
			free(sub);
		}
		closedir(d);
	} else
		catalog_list_add(&files, full);
	for (i = 0; i < files.n; i++) {
		if (stat(files.v[i], &st) != 0 || st.st_size > CATALOG_MAX_FILE ||
		    (text = read_file(files.v[i], &len)) == NULL)
			continue;
		len = strlen(text);
		if (len > 3 && (strstr(files.v[i], ".yml") != NULL ||
		    strstr(files.v[i], ".yaml") != NULL)) {
			y = yaml_play_json_text(text, len, files.v[i], &err);
			free(err);
			err = NULL;
			if (y != NULL && json_object_is_type(y,
			    json_type_object)) {
				json_object_object_foreach(y, g, gv)
					inventory_read_yaml_group(o, g, gv, 0);
			}
			json_object_put(y);
		} else
			inventory_read_ini(text, o);
		free(text);
	}
	catalog_list_free(&files);
	free(full);
	inv = inventory_parse(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), errp);
	json_object_put(o);
	return inv;
}
