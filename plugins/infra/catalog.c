/*
 * catalog.c - scanning an Ansible repository into a playbook catalog,
 * incrementally.
 *
 * A scan walks the repository (hidden directories, roles and the usual
 * variable, file and template directories excluded) for *.yml and *.yaml
 * files.  A file whose mtime and size match the cache is taken from it
 * without being opened; a file whose mtime changed is hashed and, if the
 * hash matches, only re-stamped; anything else is parsed with libyaml.  A
 * playbook using a role whose tasks/main.yml changed after the playbook
 * was last parsed is parsed again, since its task names include the
 * role's.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>

#include "actions.h"
#include "catalog.h"
#include "inventory.h"
#include "util.h"
#include "yaml-play.h"

/* Deepest directory level walked below the repository. */
#define CATALOG_MAX_DEPTH	8

/* Directories never holding playbooks. */
static const char *catalog_skip_dirs[] = {
	"roles", "group_vars", "host_vars", "collections", "files",
	"templates", "vars", "defaults", "handlers", "meta", "tasks",
	"library", "module_utils", "filter_plugins", "lookup_plugins",
	"callback_plugins", "inventory", "inventories", "molecule",
	"node_modules", "venv", "__pycache__",
};

/*
 * File names that are no service on their own ("site.yml", "main.yml");
 * a leading number ("03_docker.yml") is dropped before the check.
 */
static const char *const catalog_generic_names[] = {
	"main", "site", "run", "playbook", "playbooks", "all", "common",
	"default", "defaults", "base", "init", "index", "local", "tasks",
	"handlers", "vars", "setup", "deploy", "install", "play", NULL
};

/* Tags that select nothing of their own. */
static const char *const catalog_generic_tags[] = {
	"always", "never", "all", "tagged", "untagged", NULL
};

void
catalog_list_add(struct catalog_list *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(s);
}

int
catalog_list_has(const struct catalog_list *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0)
			return 1;
	}
	return 0;
}

int
catalog_list_add_unique(struct catalog_list *l, const char *s)
{
	if (catalog_list_has(l, s))
		return 0;
	catalog_list_add(l, s);
	return 1;
}

void
catalog_list_split(struct catalog_list *l, const char *s, int sep)
{
	const char	*p, *e, *next;
	char		*part;

	for (p = s; p != NULL; p = next) {
		e = strchr(p, sep);
		next = e != NULL ? e + 1 : NULL;
		if (e == NULL)
			e = p + strlen(p);
		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if (e == p)
			continue;
		part = xstrndup(p, e - p);
		catalog_list_add_unique(l, part);
		free(part);
	}
}

json_object *
catalog_list_json(const struct catalog_list *l)
{
	json_object	*a = json_object_new_array();
	size_t		 i;

	for (i = 0; i < l->n; i++)
		json_object_array_add(a, json_object_new_string(l->v[i]));
	return a;
}

char *
catalog_list_join(const struct catalog_list *l, const char *sep)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	strbuf_adds(&sb, "");
	for (i = 0; i < l->n; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? sep : "", l->v[i]);
	return strbuf_detach(&sb);
}

void
catalog_list_free(struct catalog_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int64_t
catalog_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Free a playbook's services. */
static void
catalog_service_clear(struct catalog_service *sv)
{
	free(sv->name);
	catalog_list_free(&sv->tags);
	free(sv->toggle);
	free(sv->hosts);
	free(sv->via);
	free(sv->listvar);
	free(sv->when);
	free(sv->file);
	memset(sv, 0, sizeof *sv);
}

static void
catalog_services_free(struct playbook *pb)
{
	size_t	i;

	for (i = 0; i < pb->nservices; i++)
		catalog_service_clear(&pb->services[i]);
	free(pb->services);
	pb->services = NULL;
	pb->nservices = 0;
}

const struct catalog_service *
catalog_playbook_service(const struct playbook *pb, ssize_t svc)
{
	if (pb == NULL || svc < 0 || (size_t)svc >= pb->nservices)
		return NULL;
	return &pb->services[svc];
}

struct playbook *
catalog_playbook_new(const char *path)
{
	struct playbook	*pb = xcalloc(1, sizeof *pb);

	pb->path = xstrdup(path);
	return pb;
}

void
catalog_playbook_free(struct playbook *pb)
{
	if (pb == NULL)
		return;
	free(pb->path);
	free(pb->service);
	free(pb->description);
	free(pb->needs);
	catalog_list_free(&pb->aliases);
	free(pb->hosts);
	catalog_list_free(&pb->tags);
	free(pb->vars_json);
	catalog_list_free(&pb->roles);
	catalog_list_free(&pb->tasks);
	catalog_services_free(pb);
	catalog_list_free(&pb->variables);
	catalog_list_free(&pb->imports);
	catalog_list_free(&pb->vars_files);
	catalog_list_free(&pb->requires);
	free(pb);
}

struct catalog *
catalog_new(const char *repo)
{
	struct catalog	*cat = xcalloc(1, sizeof *cat);

	cat->repo = xstrdup(repo != NULL ? repo : "");
	return cat;
}

void
catalog_free(struct catalog *cat)
{
	size_t	i;

	if (cat == NULL)
		return;
	for (i = 0; i < cat->nplaybooks; i++)
		catalog_playbook_free(cat->playbooks[i]);
	free(cat->playbooks);
	for (i = 0; i < cat->nroles; i++) {
		free(cat->roles[i].name);
		free(cat->roles[i].dir);
		free(cat->roles[i].tasks_file);
		catalog_list_free(&cat->roles[i].tasks);
		catalog_list_free(&cat->roles[i].defaults);
		json_object_put(cat->roles[i].lists);
		catalog_playbook_free(cat->roles[i].parts);
	}
	free(cat->roles);
	for (i = 0; i < cat->nskipped; i++) {
		free(cat->skipped[i].path);
		free(cat->skipped[i].reason);
	}
	free(cat->skipped);
	for (i = 0; i < cat->nothers; i++) {
		free(cat->others[i].path);
		free(cat->others[i].reason);
	}
	free(cat->others);
	catalog_list_free(&cat->removed);
	catalog_list_free(&cat->requirements);
	catalog_list_free(&cat->variables);
	free(cat->requirements_file);
	free(cat->inventory);
	free(cat->repo);
	free(cat);
}

void
catalog_add(struct catalog *cat, struct playbook *pb)
{
	if (cat->nplaybooks == cat->cap) {
		cat->cap = cat->cap == 0 ? 64 : cat->cap * 2;
		cat->playbooks = xreallocarray(cat->playbooks, cat->cap,
		    sizeof *cat->playbooks);
	}
	cat->playbooks[cat->nplaybooks++] = pb;
}

static int
catalog_cmp_playbook(const void *a, const void *b)
{
	const struct playbook	*pa = *(struct playbook *const *)a;
	const struct playbook	*pb = *(struct playbook *const *)b;

	return strcmp(pa->path, pb->path);
}

void
catalog_sort(struct catalog *cat)
{
	if (cat->nplaybooks > 1)
		qsort(cat->playbooks, cat->nplaybooks, sizeof *cat->playbooks,
		    catalog_cmp_playbook);
}

/* Index of path in the sorted playbooks, or -1. */
static ssize_t
catalog_find_index(const struct catalog *cat, const char *path)
{
	size_t	lo = 0, hi = cat->nplaybooks, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(path, cat->playbooks[mid]->path);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

ssize_t
catalog_index(const struct catalog *cat, const char *path)
{
	return catalog_find_index(cat, path);
}

struct playbook *
catalog_find(const struct catalog *cat, const char *path)
{
	ssize_t	i = catalog_find_index(cat, path);

	return i < 0 ? NULL : cat->playbooks[i];
}

const char *
catalog_action_word(const char *word, size_t len)
{
	return actions_canonical(word, len, ACTIONS_FILE);
}

/* Length of a leading "03_", "10-", "2." numbering, or 0. */
static size_t
catalog_number_prefix(const char *s, size_t len)
{
	size_t	i = 0;

	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	if (i == 0 || i + 1 >= len || (s[i] != '_' && s[i] != '-' &&
	    s[i] != '.'))
		return 0;
	return i + 1;
}

int
catalog_generic_name(const char *name)
{
	size_t	len = strlen(name), skip;

	skip = catalog_number_prefix(name, len);
	if (len == 0 || skip == len)
		return 1;
	return str_in_list(name + skip, catalog_generic_names);
}

char *
catalog_service_name(const char *path, const char **actionp)
{
	const char	*base, *dot, *sep;
	const char	*action = NULL;
	size_t		 len, skip;

	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	skip = catalog_number_prefix(base, len);
	base += skip;
	len -= skip;
	for (sep = base + len; sep > base; sep--) {
		if (sep[-1] == '-' || sep[-1] == '_')
			break;
	}
	if (sep > base + 1) {
		action = catalog_action_word(sep, base + len - sep);
		if (action != NULL)
			len = sep - 1 - base;
	} else	/* "upgrade.yml", "reboot.yml": an action of its own */
		action = catalog_action_word(base, len);
	if (actionp != NULL)
		*actionp = action;
	return xstrndup(base, len);
}

/* What catalog_cfg_handler looks for and finds. */
struct catalog_cfg {
	const char	*key;
	char		*value;
};

static int
catalog_cfg_handler(void *data, const char *section, const char *key,
    const char *value)
{
	struct catalog_cfg	*c = data;
	char			*v, *p;

	if (strcmp(section, "defaults") != 0 || strcmp(key, c->key) != 0)
		return 1;
	/* An inline comment (" # ..." or " ; ...") is not the value. */
	v = xstrdup(value);
	for (p = v; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && p > v &&
		    isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	while (p > v && isspace((unsigned char)p[-1]))
		*--p = '\0';
	free(c->value);
	c->value = v;
	return 1;
}

char *
catalog_cfg_get(const char *repo, const char *key)
{
	struct catalog_cfg	 c = { .key = key };
	char			*path;

	path = path_join(repo, "ansible.cfg");
	(void)ini_parse(path, catalog_cfg_handler, &c);
	free(path);
	if (c.value != NULL && *c.value == '\0') {
		free(c.value);
		c.value = NULL;
	}
	return c.value;
}

static int
catalog_cmp_role(const void *a, const void *b)
{
	return strcmp(((const struct catalog_role *)a)->name,
	    ((const struct catalog_role *)b)->name);
}

/* mtime of path in microseconds, or -1. */
static int64_t
catalog_mtime(const char *path)
{
	struct stat	st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000000 +
	    st.st_mtim.tv_nsec / 1000;
}

/* The first of dir/main.yml, dir/main.yaml that exists, or NULL. */
static char *
catalog_main_file(const char *dir, const char *sub, int64_t *mtimep)
{
	static const char	*mains[] = { "main.yml", "main.yaml" };
	char			*d = path_join(dir, sub), *f;
	size_t			 i;
	int64_t			 m;

	for (i = 0; i < nitems(mains); i++) {
		f = path_join(d, mains[i]);
		if ((m = catalog_mtime(f)) >= 0) {
			if (mtimep != NULL && m > *mtimep)
				*mtimep = m;
			free(d);
			return f;
		}
		free(f);
	}
	free(d);
	return NULL;
}

/* Record the roles under one roles directory. */
static void
catalog_scan_roles_dir(struct catalog *cat, const char *dir)
{
	DIR			*d;
	struct dirent		*de;
	struct stat		 st;
	struct catalog_role	*r;
	char			*rdir;
	size_t			 i;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		rdir = path_join(dir, de->d_name);
		if (stat(rdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			free(rdir);
			continue;
		}
		for (i = 0; i < cat->nroles; i++) {
			if (strcmp(cat->roles[i].name, de->d_name) == 0)
				break;
		}
		if (i < cat->nroles) {	/* earlier roles path wins */
			free(rdir);
			continue;
		}
		cat->roles = xreallocarray(cat->roles, cat->nroles + 1,
		    sizeof *cat->roles);
		r = &cat->roles[cat->nroles++];
		memset(r, 0, sizeof *r);
		r->name = xstrdup(de->d_name);
		r->dir = rdir;
		r->tasks_file = catalog_main_file(rdir, "tasks", &r->mtime_us);
		free(catalog_main_file(rdir, "defaults", &r->mtime_us));
	}
	closedir(d);
}

/* Find the roles: roles_path from ansible.cfg, then repo/roles. */
static void
catalog_scan_roles(struct catalog *cat)
{
	struct catalog_list	 dirs = { 0 };
	char			*roles_path, *dir;
	size_t			 i;

	roles_path = catalog_cfg_get(cat->repo, "roles_path");
	if (roles_path != NULL)
		catalog_list_split(&dirs, roles_path, ':');
	free(roles_path);
	catalog_list_add_unique(&dirs, "roles");
	for (i = 0; i < dirs.n; i++) {
		dir = dirs.v[i][0] == '/' ? xstrdup(dirs.v[i]) :
		    path_join(cat->repo, dirs.v[i]);
		catalog_scan_roles_dir(cat, dir);
		free(dir);
	}
	catalog_list_free(&dirs);
	if (cat->nroles > 1)
		qsort(cat->roles, cat->nroles, sizeof *cat->roles,
		    catalog_cmp_role);
}

static struct catalog_role *
catalog_role(struct catalog *cat, const char *name)
{
	struct catalog_role	key = { .name = (char *)name };

	if (cat->nroles == 0)
		return NULL;
	return bsearch(&key, cat->roles, cat->nroles, sizeof *cat->roles,
	    catalog_cmp_role);
}

/* Read a whole small file; NULL if it cannot be read or is too big. */
static char *
catalog_read_small(const char *path, size_t *lenp)
{
	struct stat	st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CATALOG_MAX_FILE)
		return NULL;
	return read_file(path, lenp);
}

/*
 * Load a role once per scan: task names, the tagged import_tasks of its
 * tasks/main.yml and the names of its defaults (errors leave it empty).
 */
static void
catalog_role_load(struct catalog *cat, struct catalog_role *r)
{
	char	*text, *err = NULL, *f;
	size_t	 len, i;

	if (r->loaded)
		return;
	r->loaded = 1;
	r->parts = catalog_playbook_new(r->name);
	r->lists = json_object_new_object();
	if (r->tasks_file != NULL &&
	    (text = catalog_read_small(r->tasks_file, &len)) != NULL) {
		if (yaml_play_task_file(text, len, r->tasks_file, r->parts,
		    &err) != 0)
			free(err);
		free(text);
	}
	for (i = 0; i < r->parts->tasks.n; i++)
		catalog_list_add(&r->tasks, r->parts->tasks.v[i]);
	if ((f = catalog_main_file(r->dir, "defaults", NULL)) != NULL &&
	    (text = catalog_read_small(f, &len)) != NULL) {
		err = NULL;
		if (yaml_play_var_names(text, len, f, &r->defaults, r->lists,
		    &err) != 0)
			free(err);
		free(text);
	}
	free(f);
	(void)cat;
}

static ssize_t	catalog_service_index_before(const struct playbook *,
		    const struct catalog_service *, size_t);

/* Add a skipped file with its reason (reason is taken). */
static void
catalog_skip(struct catalog *cat, const char *path, char *reason)
{
	cat->skipped = xreallocarray(cat->skipped, cat->nskipped + 1,
	    sizeof *cat->skipped);
	cat->skipped[cat->nskipped].path = xstrdup(path);
	cat->skipped[cat->nskipped].reason = reason;
	cat->nskipped++;
	cat->stats.skipped++;
}

static int
catalog_cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct catalog_file *)a)->path,
	    ((const struct catalog_file *)b)->path);
}

/* Remember a YAML file that is not a playbook, and why (reason taken). */
static void
catalog_other(struct catalog *cat, const char *path, int64_t mtime_us,
    int64_t size, char *reason)
{
	cat->others = xreallocarray(cat->others, cat->nothers + 1,
	    sizeof *cat->others);
	cat->others[cat->nothers].path = xstrdup(path);
	cat->others[cat->nothers].mtime_us = mtime_us;
	cat->others[cat->nothers].size = size;
	cat->others[cat->nothers].reason = reason != NULL ? reason :
	    xstrdup("not a playbook");
	cat->nothers++;
	cat->stats.other++;
}

/* The directory name of a role reference ("roles/x", "ns.coll.x"). */
static const char *
catalog_role_base(const char *name)
{
	const char	*slash = strrchr(name, '/');

	return slash != NULL ? slash + 1 : name;
}

/* Non-zero if a playbook uses a role changed since it was parsed. */
static int
catalog_roles_changed(struct catalog *cat, const struct playbook *pb)
{
	struct catalog_role	*r;
	size_t			 i;

	for (i = 0; i < pb->roles.n; i++) {
		r = catalog_role(cat, catalog_role_base(pb->roles.v[i]));
		if (r != NULL && r->mtime_us > pb->refreshed_us)
			return 1;
	}
	return 0;
}

/* A directory walked (symlink loops are found by device and inode). */
struct catalog_seen {
	dev_t	dev;
	ino_t	ino;
};

/* State of one scan: the result, the cache and what was taken from it. */
struct catalog_walk {
	struct catalog		*out;
	struct catalog		*cache;
	unsigned char		*taken;		/* per cache playbook */
	struct strbuf		 rel;		/* current path relative to repo */
	int64_t			 now_us;
	char			*real;		/* realpath of the repository */
	struct catalog_list	 allow;		/* realpaths links may reach */
	struct catalog_seen	*seen;
	size_t			 nseen;
};

/*
 * file relative to the directory dir (both relative to the repository),
 * normalised; NULL when it is templated or leaves the repository.
 * Caller frees.
 */
static char *
catalog_rel_resolve(const char *dir, const char *file)
{
	struct catalog_list	 parts = { 0 };
	struct strbuf		 sb = { 0 };
	char			*joined, *p, *save = NULL;
	size_t			 i;

	if (strstr(file, "{{") != NULL || *file == '/' || *file == '~')
		return NULL;
	joined = *dir != '\0' ? xasprintf("%s/%s", dir, file) : xstrdup(file);
	for (p = strtok_r(joined, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0) {
			if (parts.n == 0) {
				free(joined);
				catalog_list_free(&parts);
				return NULL;
			}
			free(parts.v[--parts.n]);
			continue;
		}
		catalog_list_add(&parts, p);
	}
	free(joined);
	for (i = 0; i < parts.n; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? "/" : "", parts.v[i]);
	catalog_list_free(&parts);
	return strbuf_detach(&sb);
}

/* The directory part of a relative path ("" at the top).  Caller frees. */
static char *
catalog_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return slash != NULL ? xstrndup(path, slash - path) : xstrdup("");
}

/*
 * A service name for a file: its stem without the action and numbering;
 * for a generic stem ("main.yml") the directory's name, else NULL.
 * Caller frees.
 */
static char *
catalog_file_service(const char *rel, const char **actionp)
{
	char	*name = catalog_service_name(rel, actionp), *dir, *base;

	if (!catalog_generic_name(name) && *name != '\0')
		return name;
	free(name);
	dir = catalog_dirname(rel);
	base = strrchr(dir, '/');
	base = base != NULL ? base + 1 : dir;
	name = *base != '\0' && !catalog_generic_name(base) &&
	    strcmp(base, "playbooks") != 0 && strcmp(base, "tasks") != 0 ?
	    xstrdup(base) : NULL;
	free(dir);
	return name;
}

/* "jellyfin_enabled" -> "jellyfin"; NULL if it is no toggle.  Frees. */
static char *
catalog_toggle_subject(const char *var)
{
	static const char	*suffixes[] = { "_enabled", "_enable",
				    "_install", "_installed", "_active" };
	size_t			 len = strlen(var), i, l;

	for (i = 0; i < nitems(suffixes); i++) {
		l = strlen(suffixes[i]);
		if (len > l && strcmp(var + len - l, suffixes[i]) == 0)
			return xstrndup(var, len - l);
	}
	if (strncmp(var, "enable_", 7) == 0 && var[7] != '\0')
		return xstrdup(var + 7);
	if (strncmp(var, "install_", 8) == 0 && var[8] != '\0')
		return xstrdup(var + 8);
	return NULL;
}

/* The toggle of service name among declared names, or NULL. */
static char *
catalog_find_toggle(const char *name, const struct catalog_list *a,
    const struct catalog_list *b)
{
	static const char	*forms[] = { "%s_enabled", "%s_enable",
				    "enable_%s", "%s_install", "install_%s" };
	char			*n = xstrdup(name), *p, *v;
	size_t			 i;

	for (p = n; *p != '\0'; p++) {
		if (*p == '-' || *p == '.')
			*p = '_';
	}
	for (i = 0; i < nitems(forms); i++) {
		v = xasprintf(forms[i], n);
		if ((a != NULL && catalog_list_has(a, v)) ||
		    (b != NULL && catalog_list_has(b, v))) {
			free(n);
			return v;
		}
		free(v);
	}
	free(n);
	return NULL;
}

/* Index of the service called name in pb, or -1. */
static ssize_t
catalog_service_index(const struct playbook *pb, const char *name)
{
	size_t	i;

	for (i = 0; i < pb->nservices; i++) {
		if (strcmp(pb->services[i].name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* Add a copy of a service of a role's task file to pb. */
static void
catalog_add_part(struct playbook *pb, const struct catalog_service *ps,
    const char *hosts, const char *role_dir_rel)
{
	struct catalog_service	*sv;
	char			*name = NULL, *file;
	size_t			 i;

	if (ps->when != NULL && (name = catalog_toggle_subject(ps->when)) ==
	    NULL)
		name = NULL;
	if (name == NULL && ps->file != NULL)
		name = catalog_file_service(ps->file, NULL);
	for (i = 0; name == NULL && i < ps->tags.n; i++) {
		if (!str_in_list(ps->tags.v[i], catalog_generic_tags))
			name = xstrdup(ps->tags.v[i]);
	}
	if (name == NULL || catalog_service_index(pb, name) >= 0 ||
	    (ps->tags.n == 0 && ps->when == NULL)) {
		free(name);
		return;
	}
	pb->services = xreallocarray(pb->services, pb->nservices + 1,
	    sizeof *pb->services);
	sv = &pb->services[pb->nservices++];
	memset(sv, 0, sizeof *sv);
	sv->kind = ps->tags.n > 0 && ps->when == NULL ? "tag" : "feature";
	sv->name = name;
	for (i = 0; i < ps->tags.n; i++)
		catalog_list_add(&sv->tags, ps->tags.v[i]);
	if (ps->when != NULL)
		sv->toggle = xstrdup(ps->when);
	if (hosts != NULL)
		sv->hosts = xstrdup(hosts);
	if (ps->file != NULL && role_dir_rel != NULL) {
		file = xasprintf("%s/tasks", role_dir_rel);
		sv->via = catalog_rel_resolve(file, ps->file);
		free(file);
	}
}

/* "apps/{{ item }}.yml" for item: the file it includes, or NULL. */
static char *
catalog_item_file(const char *dir, const char *file, const char *item)
{
	static const char	*forms[] = { "{{ item }}", "{{item}}" };
	const char		*p = NULL;
	char			*f, *rel;
	size_t			 i;

	if (file == NULL)
		return NULL;
	for (i = 0; i < nitems(forms) && p == NULL; i++)
		p = strstr(file, forms[i]);
	if (p == NULL)
		return NULL;
	i--;
	f = xasprintf("%.*s%s%s", (int)(p - file), file, item,
	    p + strlen(forms[i]));
	rel = catalog_rel_resolve(dir, f);
	free(f);
	return rel;
}

/* The list value of variable var in pb's vars or its roles' defaults. */
static json_object *
catalog_list_value(struct catalog *cat, const struct playbook *pb,
    const char *var, json_object *vars)
{
	struct catalog_role	*r;
	json_object		*v;
	size_t			 i;

	if (vars != NULL && json_object_object_get_ex(vars, var, &v) &&
	    json_object_is_type(v, json_type_array))
		return v;
	for (i = 0; i < pb->roles.n; i++) {
		r = catalog_role(cat, catalog_role_base(pb->roles.v[i]));
		if (r != NULL && r->lists != NULL &&
		    json_object_object_get_ex(r->lists, var, &v) &&
		    json_object_is_type(v, json_type_array))
			return v;
	}
	return NULL;
}

/*
 * Turn the raw services of a parsed playbook into what selects each:
 * role names and toggles from the roles' defaults, tagged parts of the
 * roles' tasks, feature and import files resolved, loop apps expanded,
 * and the playbook's remaining tags.
 */
static void
catalog_resolve(struct catalog *cat, struct playbook *pb)
{
	struct catalog_service	*sv, *nsv;
	struct catalog_role	*r;
	json_object		*vars, *list;
	const char		*base, *dot, *item;
	char			*dir, *name, *rel, *rdir, *rhosts;
	size_t			 i, j, k, n0 = pb->nservices;

	dir = catalog_dirname(pb->path);
	vars = pb->vars_json != NULL ? json_tokener_parse(pb->vars_json) :
	    NULL;
	for (i = 0; i < n0; i++) {
		sv = &pb->services[i];
		if (strcmp(sv->kind, "role") == 0) {
			base = catalog_role_base(sv->name);
			r = catalog_role(cat, base);
			dot = strrchr(base, '.');
			name = xstrdup(dot != NULL && dot[1] != '\0' ?
			    dot + 1 : base);
			free(sv->name);
			sv->name = name;
			if (r != NULL) {
				catalog_role_load(cat, r);
				for (j = 0; j < r->defaults.n; j++)
					catalog_list_add_unique(&pb->variables,
					    r->defaults.v[j]);
			}
			if (sv->when != NULL &&
			    (name = catalog_toggle_subject(sv->when)) != NULL) {
				sv->toggle = xstrdup(sv->when);
				free(name);
			} else
				sv->toggle = catalog_find_toggle(sv->name,
				    r != NULL ? &r->defaults : NULL,
				    &pb->variables);
			if (r == NULL || r->parts == NULL)
				continue;
			/* Tags inside the role select parts of it too. */
			for (k = 0; k < r->parts->tags.n; k++)
				catalog_list_add_unique(&pb->tags,
				    r->parts->tags.v[k]);
			rdir = r->dir != NULL && strncmp(r->dir, cat->repo,
			    strlen(cat->repo)) == 0 && r->dir[strlen(
			    cat->repo)] == '/' ? r->dir + strlen(cat->repo) + 1 :
			    NULL;
			/* pb->services grows: no pointer into it is kept. */
			rhosts = sv->hosts != NULL ? xstrdup(sv->hosts) : NULL;
			for (k = 0; k < r->parts->nservices; k++) {
				if (strcmp(r->parts->services[k].kind,
				    "feature") == 0)
					catalog_add_part(pb,
					    &r->parts->services[k], rhosts,
					    rdir);
			}
			free(rhosts);
		} else if (strcmp(sv->kind, "import") == 0 && sv->file != NULL) {
			rel = catalog_rel_resolve(dir, sv->file);
			if (rel == NULL)
				continue;
			catalog_list_add_unique(&pb->imports, rel);
			name = catalog_file_service(rel, &sv->action);
			for (j = 0; name == NULL && j < sv->tags.n; j++)
				name = xstrdup(sv->tags.v[j]);
			free(sv->name);
			sv->name = name != NULL ? name : xstrdup("");
			sv->via = rel;
			if (sv->when != NULL)
				sv->toggle = xstrdup(sv->when);
		} else if (strcmp(sv->kind, "feature") == 0 && sv->file != NULL) {
			sv->via = catalog_rel_resolve(dir, sv->file);
			name = sv->when != NULL ?
			    catalog_toggle_subject(sv->when) : NULL;
			if (name == NULL && sv->via != NULL)
				name = catalog_file_service(sv->via, NULL);
			for (j = 0; name == NULL && j < sv->tags.n; j++) {
				if (!str_in_list(sv->tags.v[j],
				    catalog_generic_tags))
					name = xstrdup(sv->tags.v[j]);
			}
			free(sv->name);
			sv->name = name != NULL ? name : xstrdup("");
			if (sv->when != NULL)
				sv->toggle = xstrdup(sv->when);
		} else if (strcmp(sv->kind, "app") == 0 && *sv->name != '\0') {
			sv->via = catalog_item_file(dir, sv->file, sv->name);
		} else if (strcmp(sv->kind, "app") == 0 &&
		    *sv->name == '\0' && sv->listvar != NULL) {
			list = catalog_list_value(cat, pb, sv->listvar, vars);
			for (j = 0; list != NULL &&
			    j < json_object_array_length(list); j++) {
				item = json_object_get_string(
				    json_object_array_get_idx(list, j));
				if (item == NULL || *item == '\0' ||
				    catalog_service_index(pb, item) >= 0)
					continue;
				pb->services = xreallocarray(pb->services,
				    pb->nservices + 1, sizeof *pb->services);
				sv = &pb->services[i];
				nsv = &pb->services[pb->nservices++];
				memset(nsv, 0, sizeof *nsv);
				nsv->kind = "app";
				nsv->name = xstrdup(item);
				for (k = 0; k < sv->tags.n; k++)
					catalog_list_add(&nsv->tags,
					    sv->tags.v[k]);
				nsv->listvar = xstrdup(sv->listvar);
				if (sv->hosts != NULL)
					nsv->hosts = xstrdup(sv->hosts);
				nsv->via = catalog_item_file(dir, sv->file,
				    item);
			}
		}
	}
	json_object_put(vars);
	/* Tags that name nothing yet select a part of their own. */
	for (i = 0; i < pb->tags.n; i++) {
		if (str_in_list(pb->tags.v[i], catalog_generic_tags) ||
		    catalog_service_index(pb, pb->tags.v[i]) >= 0)
			continue;
		for (j = 0; j < pb->nservices; j++) {
			if (catalog_list_has(&pb->services[j].tags,
			    pb->tags.v[i]) && pb->services[j].tags.n == 1)
				break;
		}
		if (j < pb->nservices)
			continue;
		nsv = NULL;
		pb->services = xreallocarray(pb->services, pb->nservices + 1,
		    sizeof *pb->services);
		nsv = &pb->services[pb->nservices++];
		memset(nsv, 0, sizeof *nsv);
		nsv->kind = "tag";
		nsv->name = xstrdup(pb->tags.v[i]);
		catalog_list_add(&nsv->tags, pb->tags.v[i]);
	}
	/* Drop what found no name; toggles are declared variables. */
	for (i = j = 0; i < pb->nservices; i++) {
		sv = &pb->services[i];
		if (*sv->name == '\0' || (i > 0 && catalog_service_index_before(
		    pb, sv, j) >= 0)) {
			catalog_service_clear(sv);
			continue;
		}
		free(sv->when);
		free(sv->file);
		sv->when = sv->file = NULL;
		if (sv->toggle != NULL)
			catalog_list_add_unique(&pb->variables, sv->toggle);
		if (sv->listvar != NULL)
			catalog_list_add_unique(&pb->variables, sv->listvar);
		pb->services[j++] = *sv;
	}
	pb->nservices = j;
	free(dir);
}

/* Index below n of a service like sv (same name, kind and tags), or -1. */
static ssize_t
catalog_service_index_before(const struct playbook *pb,
    const struct catalog_service *sv, size_t n)
{
	size_t	i, k;

	for (i = 0; i < n; i++) {
		const struct catalog_service *o = &pb->services[i];

		if (strcmp(o->name, sv->name) != 0 ||
		    strcmp(o->kind, sv->kind) != 0 || o->tags.n != sv->tags.n)
			continue;
		for (k = 0; k < o->tags.n && strcmp(o->tags.v[k],
		    sv->tags.v[k]) == 0; k++)
			;
		if (k == o->tags.n && ((o->hosts == NULL) ==
		    (sv->hosts == NULL)) && (o->hosts == NULL ||
		    strcmp(o->hosts, sv->hosts) == 0))
			return (ssize_t)i;
	}
	return -1;
}

/* Vault-encrypted vars_files of a playbook set CATALOG_VAULT. */
static void
catalog_vault(struct catalog *cat, struct playbook *pb)
{
	char	*dir = catalog_dirname(pb->path), *rel, *path, *text;
	size_t	 i, len;

	for (i = 0; i < pb->vars_files.n && !(pb->flags & CATALOG_VAULT);
	    i++) {
		if ((rel = catalog_rel_resolve(dir, pb->vars_files.v[i])) ==
		    NULL)
			continue;
		path = path_join(cat->repo, rel);
		text = catalog_read_small(path, &len);
		if (text != NULL && strncmp(text, "$ANSIBLE_VAULT", 14) == 0)
			pb->flags |= CATALOG_VAULT;
		free(text);
		free(path);
		free(rel);
	}
	free(dir);
}

/* The playbook's own service: generic names are none. */
static void
catalog_own_service(struct playbook *pb)
{
	char	*name;

	if (pb->service != NULL && !catalog_generic_name(pb->service))
		return;
	name = catalog_file_service(pb->path, NULL);
	if (name != NULL) {
		free(pb->service);
		pb->service = name;
		return;
	}
	pb->generic = 1;
}

/* Parse a changed or new file; text and hash are the file's. */
static void
catalog_parse(struct catalog_walk *w, const char *text, size_t len,
    const char *hash, int64_t mtime_us, int64_t size)
{
	struct catalog		*out = w->out;
	struct playbook		*pb;
	struct catalog_role	*r;
	char			*err = NULL;
	size_t			 i, j;
	int			 rc;

	pb = catalog_playbook_new(w->rel.buf);
	pb->service = catalog_service_name(w->rel.buf, &pb->action);
	rc = yaml_play_parse(text, len, w->rel.buf, pb, &err);
	if (rc <= 0) {
		if (rc < 0)
			catalog_skip(out, w->rel.buf, err);
		else
			catalog_other(out, w->rel.buf, mtime_us, size, err);
		catalog_playbook_free(pb);
		return;
	}
	catalog_own_service(pb);
	catalog_resolve(out, pb);
	catalog_vault(out, pb);
	for (i = 0; i < pb->roles.n; i++) {
		if ((r = catalog_role(out, catalog_role_base(
		    pb->roles.v[i]))) == NULL)
			continue;
		catalog_role_load(out, r);
		for (j = 0; j < r->tasks.n; j++)
			catalog_list_add(&pb->tasks, r->tasks.v[j]);
	}
	memcpy(pb->sha256, hash, sizeof pb->sha256);
	pb->mtime_us = mtime_us;
	pb->size = size;
	pb->refreshed_us = w->now_us;
	pb->state = CATALOG_PARSED;
	catalog_add(out, pb);
	out->stats.parsed++;
}

/* One *.yml / *.yaml file (path relative to the repo in w->rel). */
static void
catalog_file(struct catalog_walk *w, int dirfd, const char *name,
    const struct stat *st)
{
	struct catalog		*out = w->out, *cache = w->cache;
	struct playbook		*pb = NULL;
	struct catalog_file	 key, *other;
	char			 hash[SHA256_HEX_LEN + 1], *text;
	int64_t			 mtime_us, size = st->st_size;
	ssize_t			 ci = -1;
	size_t			 len;
	int			 fd;

	mtime_us = (int64_t)st->st_mtim.tv_sec * 1000000 +
	    st->st_mtim.tv_nsec / 1000;
	out->stats.files++;
	if (cache != NULL) {
		ci = catalog_find_index(cache, w->rel.buf);
		if (ci >= 0 && !w->taken[ci])
			pb = cache->playbooks[ci];
		key.path = w->rel.buf;
		other = cache->nothers == 0 ? NULL : bsearch(&key,
		    cache->others, cache->nothers, sizeof *cache->others,
		    catalog_cmp_file);
		if (pb == NULL && other != NULL &&
		    other->mtime_us == mtime_us && other->size == size) {
			catalog_other(out, w->rel.buf, mtime_us, size,
			    other->reason != NULL ? xstrdup(other->reason) :
			    NULL);
			return;
		}
	}
	if (pb != NULL && catalog_roles_changed(out, pb))
		pb = NULL;	/* parse again, keeping the cache entry */
	if (pb != NULL && pb->mtime_us == mtime_us && pb->size == size) {
		w->taken[ci] = 1;
		pb->state = CATALOG_UNCHANGED;
		catalog_add(out, pb);
		out->stats.unchanged++;
		return;
	}

	if (size > CATALOG_MAX_FILE) {
		catalog_skip(out, w->rel.buf, xasprintf("%s: %lld bytes, more "
		    "than the %d MiB a playbook may have: not read",
		    w->rel.buf, (long long)size, CATALOG_MAX_FILE >> 20));
		return;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1) {
		catalog_skip(out, w->rel.buf, xasprintf("%s: %s", w->rel.buf,
		    strerror(errno)));
		return;
	}
	text = xmalloc(size + 1);
	len = 0;
	while (len < (size_t)size) {
		ssize_t n = read(fd, text + len, size - len);

		if (n <= 0)
			break;
		len += n;
	}
	text[len] = '\0';
	close(fd);
	sha256_hex(text, len, hash);
	if (pb != NULL && strcmp(pb->sha256, hash) == 0) {
		w->taken[ci] = 1;
		pb->mtime_us = mtime_us;
		pb->size = size;
		pb->refreshed_us = w->now_us;
		pb->state = CATALOG_TOUCHED;
		catalog_add(out, pb);
		out->stats.touched++;
	} else if (memchr(text, '\0', len) != NULL)
		catalog_other(out, w->rel.buf, mtime_us, size,
		    xstrdup("not a text file (NUL bytes)"));
	else if (!yaml_play_maybe(text, len))
		catalog_other(out, w->rel.buf, mtime_us, size, xstrdup(
		    "does not start with a list item: not a list of plays"));
	else
		catalog_parse(w, text, len, hash, mtime_us, size);
	free(text);
}

static int
catalog_skip_dir(const char *name)
{
	size_t	i;

	if (name[0] == '.')
		return 1;
	for (i = 0; i < nitems(catalog_skip_dirs); i++) {
		if (strcmp(name, catalog_skip_dirs[i]) == 0)
			return 1;
	}
	return 0;
}

static int
catalog_is_yaml(const char *name)
{
	size_t	len = strlen(name);

	return (len > 4 && strcmp(name + len - 4, ".yml") == 0) ||
	    (len > 5 && strcmp(name + len - 5, ".yaml") == 0);
}

/* Non-zero if a directory was walked already; else remember it. */
static int
catalog_seen(struct catalog_walk *w, const struct stat *st)
{
	size_t	i;

	for (i = 0; i < w->nseen; i++) {
		if (w->seen[i].dev == st->st_dev &&
		    w->seen[i].ino == st->st_ino)
			return 1;
	}
	w->seen = xreallocarray(w->seen, w->nseen + 1, sizeof *w->seen);
	w->seen[w->nseen].dev = st->st_dev;
	w->seen[w->nseen].ino = st->st_ino;
	w->nseen++;
	return 0;
}

/* Is path dir or below it? */
static int
catalog_path_under(const char *path, const char *dir)
{
	size_t	n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' ||
	    path[n] == '\0');
}

/*
 * A symlink at w->rel: NULL if it stays inside the repository, else why
 * it is skipped.  Caller frees.
 */
static char *
catalog_link_out(struct catalog_walk *w)
{
	char	*path = path_join(w->real, w->rel.buf), *to, *why = NULL;
	size_t	 i;

	if ((to = realpath(path, NULL)) == NULL)
		why = xasprintf("%s: a symlink that leads nowhere (%s)",
		    w->rel.buf, strerror(errno));
	else if (!catalog_path_under(to, w->real)) {
		for (i = 0; i < w->allow.n; i++) {
			if (catalog_path_under(to, w->allow.v[i]))
				break;
		}
		if (i == w->allow.n)
			why = xasprintf("%s: a symlink to %s, outside the "
			    "repository: not followed (plugin.infra."
			    "allow_paths may allow it)", w->rel.buf, to);
	}
	free(to);
	free(path);
	return why;
}

/* Walk one directory (dirfd is consumed). */
static void
catalog_walk_dir(struct catalog_walk *w, int dirfd, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st, lst;
	size_t		 base = w->rel.len;
	char		*why;
	int		 fd;

	if ((d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN &&
		    de->d_type != DT_LNK && de->d_type != DT_REG)
			continue;
		if (de->d_type == DT_REG && !catalog_is_yaml(de->d_name))
			continue;
		if (fstatat(dirfd, de->d_name, &lst, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		w->rel.len = base;
		w->rel.buf[base] = '\0';
		if (base > 0)
			strbuf_addc(&w->rel, '/');
		strbuf_adds(&w->rel, de->d_name);
		if (S_ISLNK(lst.st_mode)) {
			if (fstatat(dirfd, de->d_name, &st, 0) != 0 ||
			    (!S_ISDIR(st.st_mode) &&
			    !catalog_is_yaml(de->d_name)))
				continue;
			if (S_ISDIR(st.st_mode) &&
			    catalog_skip_dir(de->d_name))
				continue;
			if ((why = catalog_link_out(w)) != NULL) {
				catalog_skip(w->out, w->rel.buf, why);
				continue;
			}
		} else
			st = lst;
		if (S_ISDIR(st.st_mode)) {
			if (depth >= CATALOG_MAX_DEPTH ||
			    catalog_skip_dir(de->d_name))
				continue;
			if (catalog_seen(w, &st)) {
				catalog_skip(w->out, w->rel.buf, xasprintf(
				    "%s: a directory walked already (a "
				    "symlink loop or a second link to it): "
				    "not walked again", w->rel.buf));
				continue;
			}
			fd = openat(dirfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd != -1)
				catalog_walk_dir(w, fd, depth + 1);
		} else if (S_ISREG(st.st_mode) && catalog_is_yaml(de->d_name))
			catalog_file(w, dirfd, de->d_name, &st);
	}
	w->rel.len = base;
	if (w->rel.buf != NULL)
		w->rel.buf[base] = '\0';
	closedir(d);
}

/*
 * Playbooks imported from directories the walk skips (tasks/, ...):
 * catalogued too, so that each is reachable by its own name.
 */
static void
catalog_follow_imports(struct catalog_walk *w, int repofd)
{
	struct catalog		*out = w->out;
	struct stat		 st;
	struct catalog_list	 todo = { 0 };
	char			*why;
	size_t			 i, j, k, done = 0;

	for (k = 0; k < 4; k++) {	/* imports of imports, bounded */
		catalog_list_free(&todo);
		catalog_sort(out);
		for (i = 0; i < out->nplaybooks; i++) {
			for (j = 0; j < out->playbooks[i]->imports.n; j++) {
				const char *rel =
				    out->playbooks[i]->imports.v[j];

				if (catalog_find(out, rel) == NULL)
					catalog_list_add_unique(&todo, rel);
			}
		}
		for (i = 0; i < todo.n; i++) {
			if (fstatat(repofd, todo.v[i], &st, 0) != 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			strbuf_reset(&w->rel);
			strbuf_adds(&w->rel, todo.v[i]);
			if ((why = catalog_link_out(w)) != NULL) {
				catalog_skip(out, todo.v[i], why);
				continue;
			}
			catalog_file(w, repofd, todo.v[i], &st);
			done++;
		}
		if (todo.n == 0)
			break;
	}
	catalog_list_free(&todo);
	strbuf_reset(&w->rel);
	(void)done;
}

/* YAML files of a repository that are no playbooks, and used so. */
static const char *const catalog_used_files[] = {
	"requirements.yml", "requirements.yaml", "galaxy.yml",
	"collections/requirements.yml", "roles/requirements.yml",
	"hosts.yml", "hosts.yaml", "inventory.yml", "inventory.yaml",
	".ansible-lint", ".yamllint", "docker-compose.yml", "compose.yml",
};

/* An other at path is used: no reason to report it. */
static void
catalog_used(struct catalog *cat, const char *path)
{
	struct catalog_file	key, *o;

	if (cat->nothers == 0)
		return;
	key.path = (char *)path;
	o = bsearch(&key, cat->others, cat->nothers, sizeof *cat->others,
	    catalog_cmp_file);
	if (o != NULL) {
		free(o->reason);
		o->reason = NULL;
	}
}

/* Others a playbook includes (task files next to it) are used. */
static void
catalog_mark_used(struct catalog *cat)
{
	struct inventory_source	 src;
	struct catalog_file	 key, *o = NULL;
	size_t			 i, j;

	key.path = NULL;
	if (cat->nothers > 1)
		qsort(cat->others, cat->nothers, sizeof *cat->others,
		    catalog_cmp_file);
	for (i = 0; i < cat->nplaybooks; i++) {
		const struct playbook *pb = cat->playbooks[i];

		for (j = 0; j < pb->nservices; j++) {
			if (pb->services[j].via != NULL)
				catalog_used(cat, pb->services[j].via);
		}
	}
	for (i = 0; i < nitems(catalog_used_files); i++)
		catalog_used(cat, catalog_used_files[i]);
	if (inventory_find(cat->repo, NULL, &src) == 0 && src.path != NULL)
		catalog_used(cat, src.path);
	inventory_source_free(&src);
	(void)key;
	(void)o;
}

/* Is the collection "ns.name" installed in one of the usual places? */
static int
catalog_collection_installed(const struct catalog *cat, const char *fqcn)
{
	static const char	*roots[] = {
		"/usr/share/ansible/collections",
		"/usr/lib/python3/dist-packages",
		"/usr/local/lib/python3*/*-packages",
		"/usr/lib/python3*/site-packages",
	};
	struct catalog_list	 dirs = { 0 };
	const char		*dot = strchr(fqcn, '.'), *home = getenv("HOME");
	const char		*env;
	char			*ns, *pat;
	glob_t			 g;
	size_t			 i;
	int			 found = 0;

	if (dot == NULL)
		return 1;
	ns = xstrndup(fqcn, dot - fqcn);
	catalog_list_add(&dirs, cat->repo);
	pat = xasprintf("%s/collections", cat->repo);
	catalog_list_add(&dirs, pat);
	free(pat);
	if (home != NULL) {
		pat = xasprintf("%s/.ansible/collections", home);
		catalog_list_add(&dirs, pat);
		free(pat);
	}
	if ((env = getenv("ANSIBLE_COLLECTIONS_PATH")) != NULL ||
	    (env = getenv("ANSIBLE_COLLECTIONS_PATHS")) != NULL)
		catalog_list_split(&dirs, env, ':');
	for (i = 0; i < nitems(roots); i++)
		catalog_list_add(&dirs, roots[i]);
	for (i = 0; i < dirs.n && !found; i++) {
		pat = xasprintf("%s/ansible_collections/%s/%s", dirs.v[i], ns,
		    dot + 1);
		if (glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
			found = g.gl_pathc > 0;
			globfree(&g);
		}
		free(pat);
	}
	catalog_list_free(&dirs);
	free(ns);
	return found;
}

/* Is the role installed (roles path of the repo, or the user's)? */
static int
catalog_role_installed(struct catalog *cat, const char *name)
{
	static const char	*dirs[] = { "/etc/ansible/roles",
				    "/usr/share/ansible/roles" };
	const char		*home = getenv("HOME");
	char			*p;
	size_t			 i;
	int			 found;

	if (catalog_role(cat, name) != NULL)
		return 1;
	p = xasprintf("%s/.ansible/roles/%s", home != NULL ? home : "", name);
	found = access(p, F_OK) == 0;
	free(p);
	for (i = 0; i < nitems(dirs) && !found; i++) {
		p = xasprintf("%s/%s", dirs[i], name);
		found = access(p, F_OK) == 0;
		free(p);
	}
	return found;
}

/* The name of a requirements entry (scalar, or {name:} / {src:}). */
static char *
catalog_req_name(json_object *e)
{
	json_object	*v;
	const char	*s = NULL, *slash;
	char		*n;
	size_t		 len;

	if (json_object_is_type(e, json_type_string))
		s = json_object_get_string(e);
	else if (json_object_object_get_ex(e, "name", &v) &&
	    json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	else if (json_object_object_get_ex(e, "src", &v) &&
	    json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	if (s == NULL || *s == '\0')
		return NULL;
	if ((slash = strrchr(s, '/')) != NULL && slash[1] != '\0')
		s = slash + 1;
	n = xstrdup(s);
	len = strlen(n);
	if (len > 4 && strcmp(n + len - 4, ".git") == 0)
		n[len - 4] = '\0';
	if ((slash = strchr(n, ',')) != NULL)
		n[slash - n] = '\0';
	return n;
}

/*
 * requirements.yml (the repository's, or roles/ or collections/): the
 * roles and collections it names that are not installed go to
 * cat->requirements ("role NAME", "collection NS.NAME"), and to the
 * requires of every playbook using such a role.
 */
static void
catalog_requirements(struct catalog *cat)
{
	static const char	*files[] = { "requirements.yml",
				    "requirements.yaml", "roles/requirements.yml",
				    "collections/requirements.yml" };
	struct catalog_list	 missing_roles = { 0 };
	json_object		*doc = NULL, *roles = NULL, *colls = NULL, *e;
	char			*path, *text = NULL, *name, *err = NULL;
	const char		*rn;
	size_t			 i, j, len;

	for (i = 0; i < nitems(files) && text == NULL; i++) {
		path = path_join(cat->repo, files[i]);
		if ((text = catalog_read_small(path, &len)) != NULL) {
			free(cat->requirements_file);
			cat->requirements_file = xstrdup(files[i]);
		}
		free(path);
	}
	if (text == NULL)
		return;
	doc = yaml_play_json_text(text, len, cat->requirements_file, &err);
	free(err);
	free(text);
	if (doc == NULL)
		return;
	if (json_object_is_type(doc, json_type_array))
		roles = doc;
	else if (json_object_is_type(doc, json_type_object)) {
		json_object_object_get_ex(doc, "roles", &roles);
		json_object_object_get_ex(doc, "collections", &colls);
	}
	for (i = 0; roles != NULL && json_object_is_type(roles,
	    json_type_array) && i < json_object_array_length(roles); i++) {
		e = json_object_array_get_idx(roles, i);
		if ((name = catalog_req_name(e)) == NULL)
			continue;
		if (!catalog_role_installed(cat, name)) {
			catalog_list_add_unique(&missing_roles, name);
			path = xasprintf("role %s", name);
			catalog_list_add_unique(&cat->requirements, path);
			free(path);
		}
		free(name);
	}
	for (i = 0; colls != NULL && json_object_is_type(colls,
	    json_type_array) && i < json_object_array_length(colls); i++) {
		e = json_object_array_get_idx(colls, i);
		if ((name = catalog_req_name(e)) == NULL)
			continue;
		if (!catalog_collection_installed(cat, name)) {
			path = xasprintf("collection %s", name);
			catalog_list_add_unique(&cat->requirements, path);
			free(path);
		}
		free(name);
	}
	json_object_put(doc);
	for (i = 0; i < cat->nplaybooks; i++) {
		struct playbook *pb = cat->playbooks[i];

		catalog_list_free(&pb->requires);
		for (j = 0; j < pb->roles.n; j++) {
			rn = pb->roles.v[j];
			if (catalog_list_has(&missing_roles, rn)) {
				path = xasprintf("role %s", rn);
				catalog_list_add_unique(&pb->requires, path);
				free(path);
			} else if (strchr(rn, '.') != NULL &&
			    strchr(strchr(rn, '.') + 1, '.') != NULL) {
				/* ns.coll.role: the collection */
				name = xstrndup(rn, strrchr(rn, '.') - rn);
				path = xasprintf("collection %s", name);
				if (catalog_list_has(&cat->requirements, path))
					catalog_list_add_unique(&pb->requires,
					    path);
				free(path);
				free(name);
			}
		}
	}
	catalog_list_free(&missing_roles);
}

/* Variable names of one vars file or directory of them (bounded). */
static void
catalog_vars_path(struct catalog *cat, const char *path, int depth)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		*sub, *text, *err = NULL;
	size_t		 len;

	if (depth > 2 || stat(path, &st) != 0)
		return;
	if (S_ISREG(st.st_mode)) {
		if ((text = catalog_read_small(path, &len)) == NULL)
			return;
		if (strncmp(text, "$ANSIBLE_VAULT", 14) != 0 &&
		    yaml_play_var_names(text, len, path, &cat->variables, NULL,
		    &err) != 0)
			free(err);
		free(text);
		return;
	}
	if (!S_ISDIR(st.st_mode) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		sub = path_join(path, de->d_name);
		catalog_vars_path(cat, sub, depth + 1);
		free(sub);
	}
	closedir(d);
}

/*
 * The variable names group_vars and host_vars declare, next to the
 * playbooks and next to the inventory: names an extra var may set.
 */
static void
catalog_group_vars(struct catalog *cat)
{
	static const char	*dirs[] = { "group_vars", "host_vars" };
	struct inventory_source	 src;
	struct stat		 st;
	char			*p, *base, *invdir;
	size_t			 i;

	for (i = 0; i < nitems(dirs); i++) {
		p = path_join(cat->repo, dirs[i]);
		catalog_vars_path(cat, p, 0);
		free(p);
	}
	if (inventory_find(cat->repo, NULL, &src) == 0 && src.path != NULL) {
		base = src.path[0] == '/' ? xstrdup(src.path) :
		    path_join(cat->repo, src.path);
		if (stat(base, &st) == 0 && S_ISDIR(st.st_mode))
			invdir = xstrdup(base);
		else
			invdir = catalog_dirname(base);
		for (i = 0; i < nitems(dirs); i++) {
			p = path_join(invdir, dirs[i]);
			if (strcmp(invdir, cat->repo) != 0)
				catalog_vars_path(cat, p, 0);
			free(p);
		}
		free(invdir);
		free(base);
	}
	inventory_source_free(&src);
}

int
catalog_scan(const char *repo, struct catalog *cache, struct catalog **outp,
    char **errp)
{
	return catalog_scan_allowing(repo, cache, NULL, outp, errp);
}

int
catalog_scan_allowing(const char *repo, struct catalog *cache,
    const char *allow, struct catalog **outp, char **errp)
{
	struct catalog_walk	 w = { 0 };
	struct catalog		*out;
	struct stat		 st;
	size_t			 i;
	int			 fd, repofd;

	*outp = NULL;
	if (repo == NULL || *repo == '\0')
		return set_error(errp, "no Ansible repository configured "
		    "(set ansible.repo in chiffon.conf, CHIFFON_REPO or "
		    "--repo)");
	if (stat(repo, &st) != 0)
		return set_error(errp, "Ansible repository %s: %s", repo,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return set_error(errp, "Ansible repository %s is not a "
		    "directory", repo);
	fd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return set_error(errp, "Ansible repository %s: %s", repo,
		    strerror(errno));

	out = catalog_new(repo);
	out->inventory = catalog_cfg_get(repo, "inventory");
	catalog_scan_roles(out);
	w.out = out;
	w.cache = cache;
	w.now_us = catalog_now_us();
	if ((w.real = realpath(repo, NULL)) == NULL)
		w.real = xstrdup(repo);
	if (allow != NULL) {
		struct catalog_list	dirs = { 0 };
		char			*r;

		catalog_list_split(&dirs, allow, ':');
		for (i = 0; i < dirs.n; i++) {
			if ((r = realpath(dirs.v[i], NULL)) != NULL) {
				catalog_list_add(&w.allow, r);
				free(r);
			}
		}
		catalog_list_free(&dirs);
	}
	if (cache != NULL)
		w.taken = xcalloc(cache->nplaybooks + 1, 1);
	strbuf_grow(&w.rel, 256);
	catalog_seen(&w, &st);
	if ((repofd = dup(fd)) == -1)
		repofd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	catalog_walk_dir(&w, fd, 0);
	if (repofd != -1) {
		catalog_follow_imports(&w, repofd);
		close(repofd);
	}
	strbuf_free(&w.rel);
	free(w.real);
	free(w.seen);
	catalog_list_free(&w.allow);
	catalog_sort(out);
	catalog_mark_used(out);
	catalog_requirements(out);
	catalog_group_vars(out);

	if (cache != NULL) {
		for (i = 0; i < cache->nplaybooks; i++) {
			if (w.taken[i])
				cache->playbooks[i] = NULL;
			else if (catalog_find(out, cache->playbooks[i]->path)
			    == NULL) {
				catalog_list_add(&out->removed,
				    cache->playbooks[i]->path);
				out->stats.removed++;
			}
		}
		free(w.taken);
	}
	out->stats.playbooks = out->nplaybooks;
	*outp = out;
	return 0;
}

/* "2024-05-01T10:00:00.123456Z" for microseconds since the epoch. */
static char *
catalog_time_iso(int64_t us)
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;
	char		buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%06dZ", buf, (int)(us % 1000000));
}

/* The services of a playbook as a JSON array. */
static json_object *
catalog_services_json(const struct playbook *pb)
{
	json_object	*a = json_object_new_array(), *o, *v;
	size_t		 i;

	for (i = 0; i < pb->nservices; i++) {
		const struct catalog_service *sv = &pb->services[i];

		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(sv->name));
		json_object_object_add(o, "kind",
		    json_object_new_string(sv->kind));
		json_object_object_add(o, "tags", catalog_list_json(&sv->tags));
		json_object_object_add(o, "toggle", sv->toggle != NULL ?
		    json_object_new_string(sv->toggle) : NULL);
		json_object_object_add(o, "hosts", sv->hosts != NULL ?
		    json_object_new_string(sv->hosts) : NULL);
		json_object_object_add(o, "via", sv->via != NULL ?
		    json_object_new_string(sv->via) : NULL);
		json_object_object_add(o, "action", sv->action != NULL ?
		    json_object_new_string(sv->action) : NULL);
		if (sv->listvar != NULL) {
			v = json_object_new_object();
			json_object_object_add(v, sv->listvar,
			    json_object_new_array());
			json_object_array_add(json_object_object_get(v,
			    sv->listvar), json_object_new_string(sv->name));
			json_object_object_add(o, "vars", v);
		}
		json_object_array_add(a, o);
	}
	return a;
}

/* Services from their JSON form (as written above). */
static void
catalog_services_from_json(struct playbook *pb, json_object *a)
{
	struct catalog_service	*sv;
	json_object		*e, *v;
	const char		*kind;
	size_t			 i, n;

	catalog_services_free(pb);
	if (a == NULL || !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	pb->services = xcalloc(n + 1, sizeof *pb->services);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_object_get_ex(e, "name", &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		sv = &pb->services[pb->nservices++];
		sv->name = xstrdup(json_object_get_string(v));
		kind = json_object_object_get_ex(e, "kind", &v) ?
		    json_object_get_string(v) : NULL;
		sv->kind = kind == NULL ? "role" : strcmp(kind, "import") == 0 ?
		    "import" : strcmp(kind, "feature") == 0 ? "feature" :
		    strcmp(kind, "app") == 0 ? "app" : strcmp(kind, "tag") ==
		    0 ? "tag" : "role";
		if (json_object_object_get_ex(e, "tags", &v))
			catalog_list_from_json(&sv->tags, v);
		if (json_object_object_get_ex(e, "toggle", &v) && v != NULL)
			sv->toggle = xstrdup(json_object_get_string(v));
		if (json_object_object_get_ex(e, "hosts", &v) && v != NULL)
			sv->hosts = xstrdup(json_object_get_string(v));
		if (json_object_object_get_ex(e, "via", &v) && v != NULL)
			sv->via = xstrdup(json_object_get_string(v));
		if (json_object_object_get_ex(e, "action", &v) && v != NULL)
			sv->action = catalog_action_word(
			    json_object_get_string(v),
			    strlen(json_object_get_string(v)));
		if (json_object_object_get_ex(e, "vars", &v) &&
		    json_object_is_type(v, json_type_object)) {
			json_object_object_foreach(v, key, val) {
				(void)val;
				free(sv->listvar);
				sv->listvar = xstrdup(key);
			}
		}
	}
}

json_object *
catalog_playbook_json(const struct playbook *pb)
{
	json_object	*o = json_object_new_object(), *vars = NULL, *f;
	char		*t;

	json_object_object_add(o, "path", json_object_new_string(pb->path));
	json_object_object_add(o, "service",
	    json_object_new_string(pb->service));
	json_object_object_add(o, "action", pb->action != NULL ?
	    json_object_new_string(pb->action) : NULL);
	json_object_object_add(o, "description", pb->description != NULL ?
	    json_object_new_string(pb->description) : NULL);
	json_object_object_add(o, "aliases", catalog_list_json(&pb->aliases));
	json_object_object_add(o, "needs", pb->needs != NULL ?
	    json_object_new_string(pb->needs) : NULL);
	json_object_object_add(o, "hosts", pb->hosts != NULL ?
	    json_object_new_string(pb->hosts) : NULL);
	json_object_object_add(o, "tags", catalog_list_json(&pb->tags));
	if (pb->vars_json != NULL)
		vars = json_tokener_parse(pb->vars_json);
	json_object_object_add(o, "vars", vars != NULL ? vars :
	    json_object_new_object());
	json_object_object_add(o, "roles", catalog_list_json(&pb->roles));
	json_object_object_add(o, "tasks", catalog_list_json(&pb->tasks));
	json_object_object_add(o, "services", catalog_services_json(pb));
	json_object_object_add(o, "variables",
	    catalog_list_json(&pb->variables));
	json_object_object_add(o, "imports", catalog_list_json(&pb->imports));
	json_object_object_add(o, "requires", catalog_list_json(&pb->requires));
	json_object_object_add(o, "generic",
	    json_object_new_boolean(pb->generic));
	json_object_object_add(o, "plays", json_object_new_int(pb->nplays));
	f = json_object_new_object();
	json_object_object_add(f, "become",
	    json_object_new_boolean(pb->flags & CATALOG_BECOME));
	json_object_object_add(f, "vars_prompt",
	    json_object_new_boolean(pb->flags & CATALOG_VARS_PROMPT));
	json_object_object_add(f, "vault",
	    json_object_new_boolean(pb->flags & CATALOG_VAULT));
	json_object_object_add(o, "flags", f);
	json_object_object_add(o, "sha256", json_object_new_string(pb->sha256));
	json_object_object_add(o, "size", json_object_new_int64(pb->size));
	t = catalog_time_iso(pb->mtime_us);
	json_object_object_add(o, "mtime", json_object_new_string(t));
	free(t);
	return o;
}

void
catalog_list_from_json(struct catalog_list *l, json_object *a)
{
	size_t	i, n;

	if (a == NULL || !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (json_object_is_type(e, json_type_string))
			catalog_list_add(l, json_object_get_string(e));
	}
}

void
catalog_playbook_detail_from_json(struct playbook *pb, json_object *o)
{
	json_object	*v, *f;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return;
	if (json_object_object_get_ex(o, "services", &v))
		catalog_services_from_json(pb, v);
	if (json_object_object_get_ex(o, "variables", &v)) {
		catalog_list_free(&pb->variables);
		catalog_list_from_json(&pb->variables, v);
	}
	if (json_object_object_get_ex(o, "imports", &v)) {
		catalog_list_free(&pb->imports);
		catalog_list_from_json(&pb->imports, v);
	}
	if (json_object_object_get_ex(o, "requires", &v)) {
		catalog_list_free(&pb->requires);
		catalog_list_from_json(&pb->requires, v);
	}
	if (json_object_object_get_ex(o, "generic", &v))
		pb->generic = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "plays", &v))
		pb->nplays = json_object_get_int(v);
	if (json_object_object_get_ex(o, "flags", &f)) {
		pb->flags = 0;
		if (json_object_object_get_ex(f, "become", &v) &&
		    json_object_get_boolean(v))
			pb->flags |= CATALOG_BECOME;
		if (json_object_object_get_ex(f, "vars_prompt", &v) &&
		    json_object_get_boolean(v))
			pb->flags |= CATALOG_VARS_PROMPT;
		if (json_object_object_get_ex(f, "vault", &v) &&
		    json_object_get_boolean(v))
			pb->flags |= CATALOG_VAULT;
	}
}

int
catalog_playbook_from_json(struct playbook *pb, json_object *o)
{
	json_object	*v;
	const char	*s;

	if (!json_object_is_type(o, json_type_object))
		return -1;
	if (json_object_object_get_ex(o, "service", &v) &&
	    json_object_is_type(v, json_type_string)) {
		free(pb->service);
		pb->service = xstrdup(json_object_get_string(v));
	}
	free(catalog_service_name(pb->path, &pb->action));
	if (pb->service == NULL)
		pb->service = catalog_service_name(pb->path, NULL);
	if (json_object_object_get_ex(o, "description", &v) &&
	    json_object_is_type(v, json_type_string)) {
		free(pb->description);
		pb->description = xstrdup(json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "needs", &v) &&
	    json_object_is_type(v, json_type_string)) {
		free(pb->needs);
		pb->needs = xstrdup(json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "hosts", &v) &&
	    json_object_is_type(v, json_type_string)) {
		free(pb->hosts);
		pb->hosts = xstrdup(json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "vars", &v) && v != NULL) {
		free(pb->vars_json);
		pb->vars_json = xstrdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	}
	if (json_object_object_get_ex(o, "aliases", &v))
		catalog_list_from_json(&pb->aliases, v);
	if (json_object_object_get_ex(o, "tags", &v))
		catalog_list_from_json(&pb->tags, v);
	if (json_object_object_get_ex(o, "roles", &v))
		catalog_list_from_json(&pb->roles, v);
	if (json_object_object_get_ex(o, "tasks", &v))
		catalog_list_from_json(&pb->tasks, v);
	catalog_playbook_detail_from_json(pb, o);
	if (json_object_object_get_ex(o, "sha256", &v) &&
	    (s = json_object_get_string(v)) != NULL &&
	    strlen(s) == SHA256_HEX_LEN)
		memcpy(pb->sha256, s, SHA256_HEX_LEN + 1);
	if (json_object_object_get_ex(o, "size", &v))
		pb->size = json_object_get_int64(v);
	if (pb->vars_json == NULL)
		pb->vars_json = xstrdup("{}");
	return 0;
}

json_object *
catalog_json(const struct catalog *cat)
{
	json_object	*o = json_object_new_object(), *a, *e;
	char		*r;
	size_t		 i;

	json_object_object_add(o, "repo", json_object_new_string(cat->repo));
	json_object_object_add(o, "inventory", cat->inventory != NULL ?
	    json_object_new_string(cat->inventory) : NULL);
	a = json_object_new_array();
	for (i = 0; i < cat->nplaybooks; i++) {
		if (cat->playbooks[i] != NULL)
			json_object_array_add(a,
			    catalog_playbook_json(cat->playbooks[i]));
	}
	json_object_object_add(o, "playbooks", a);
	a = json_object_new_array();
	for (i = 0; i < cat->nroles; i++)
		json_object_array_add(a,
		    json_object_new_string(cat->roles[i].name));
	json_object_object_add(o, "roles", a);
	a = json_object_new_array();
	for (i = 0; i < cat->nskipped; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "path",
		    json_object_new_string(cat->skipped[i].path));
		json_object_object_add(e, "reason",
		    json_object_new_string(cat->skipped[i].reason));
		json_object_array_add(a, e);
	}
	for (i = 0; i < cat->nothers; i++) {
		if (cat->others[i].reason == NULL)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "path",
		    json_object_new_string(cat->others[i].path));
		r = xasprintf("%s: %s", cat->others[i].path,
		    cat->others[i].reason);
		json_object_object_add(e, "reason", json_object_new_string(r));
		free(r);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "skipped", a);
	json_object_object_add(o, "requirements",
	    catalog_list_json(&cat->requirements));
	json_object_object_add(o, "variables",
	    catalog_list_json(&cat->variables));
	json_object_object_add(o, "requirements_file",
	    cat->requirements_file != NULL ?
	    json_object_new_string(cat->requirements_file) : NULL);
	e = json_object_new_object();
	json_object_object_add(e, "files",
	    json_object_new_int(cat->stats.files));
	json_object_object_add(e, "parsed",
	    json_object_new_int(cat->stats.parsed));
	json_object_object_add(e, "touched",
	    json_object_new_int(cat->stats.touched));
	json_object_object_add(e, "unchanged",
	    json_object_new_int(cat->stats.unchanged));
	json_object_object_add(e, "removed",
	    json_object_new_int(cat->stats.removed));
	json_object_object_add(o, "stats", e);
	return o;
}
