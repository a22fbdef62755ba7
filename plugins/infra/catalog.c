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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
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
 * Words that may end a playbook's file name, and the canonical action each
 * stands for.  "kuma-deploy.yml" is service "kuma", action "deploy".
 */
static const struct catalog_action {
	const char	*word;
	const char	*action;
} catalog_actions[] = {
	{ "deploy", "deploy" },
	{ "install", "deploy" },
	{ "provision", "deploy" },
	{ "config", "configure" },
	{ "configure", "configure" },
	{ "setup", "configure" },
	{ "monitors", "configure" },
	{ "monitor", "configure" },
	{ "settings", "configure" },
	{ "remove", "remove" },
	{ "uninstall", "remove" },
	{ "delete", "remove" },
	{ "backup", "backup" },
	{ "backups", "backup" },
	{ "restore", "restore" },
	{ "update", "update" },
	{ "upgrade", "update" },
	{ "restart", "restart" },
	{ "check", "check" },
	{ "status", "check" },
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
		free(cat->roles[i].tasks_file);
		catalog_list_free(&cat->roles[i].tasks);
	}
	free(cat->roles);
	for (i = 0; i < cat->nskipped; i++) {
		free(cat->skipped[i].path);
		free(cat->skipped[i].reason);
	}
	free(cat->skipped);
	for (i = 0; i < cat->nothers; i++)
		free(cat->others[i].path);
	free(cat->others);
	catalog_list_free(&cat->removed);
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
	size_t	i;

	for (i = 0; i < nitems(catalog_actions); i++) {
		if (strlen(catalog_actions[i].word) == len &&
		    strncasecmp(catalog_actions[i].word, word, len) == 0)
			return catalog_actions[i].action;
	}
	return NULL;
}

char *
catalog_service_name(const char *path, const char **actionp)
{
	const char	*base, *dot, *sep;
	const char	*action = NULL;
	size_t		 len;

	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	for (sep = base + len; sep > base; sep--) {
		if (sep[-1] == '-' || sep[-1] == '_')
			break;
	}
	if (sep > base + 1) {
		action = catalog_action_word(sep, base + len - sep);
		if (action != NULL)
			len = sep - 1 - base;
	}
	if (actionp != NULL)
		*actionp = action;
	return xstrndup(base, len);
}

/* The value of key in [defaults] of repo/ansible.cfg, or NULL. */
static char *
catalog_cfg_get(const char *repo, const char *key)
{
	char	*path, *text, *line, *next, *eq, *k, *v, *value = NULL;
	int	 in_defaults = 0;

	path = path_join(repo, "ansible.cfg");
	text = read_file(path, NULL);
	free(path);
	if (text == NULL)
		return NULL;
	for (line = text; line != NULL && value == NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		while (isspace((unsigned char)*line))
			line++;
		if (*line == '[') {
			in_defaults = strncmp(line, "[defaults]", 10) == 0;
			continue;
		}
		if (!in_defaults || *line == '#' || *line == ';' ||
		    (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = line;
		v = eq + 1;
		for (eq--; eq >= k && isspace((unsigned char)*eq); eq--)
			*eq = '\0';
		while (isspace((unsigned char)*v))
			v++;
		for (eq = v + strlen(v); eq > v &&
		    isspace((unsigned char)eq[-1]); eq--)
			eq[-1] = '\0';
		if (strcmp(k, key) == 0)
			value = xstrdup(v);
	}
	free(text);
	return value;
}

static int
catalog_cmp_role(const void *a, const void *b)
{
	return strcmp(((const struct catalog_role *)a)->name,
	    ((const struct catalog_role *)b)->name);
}

/* Record the roles under one roles directory. */
static void
catalog_scan_roles_dir(struct catalog *cat, const char *dir)
{
	static const char	*mains[] = { "tasks/main.yml",
				    "tasks/main.yaml" };
	DIR			*d;
	struct dirent		*de;
	struct stat		 st;
	struct catalog_role	*r;
	char			*rdir, *f;
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
		for (i = 0; i < nitems(mains); i++) {
			f = path_join(rdir, mains[i]);
			if (stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
				r->tasks_file = f;
				r->mtime_us = (int64_t)st.st_mtim.tv_sec *
				    1000000 + st.st_mtim.tv_nsec / 1000;
				break;
			}
			free(f);
		}
		free(rdir);
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

/* Load a role's task names once per scan (errors leave it empty). */
static void
catalog_role_load(struct catalog *cat, struct catalog_role *r)
{
	struct catalog_list	 nested = { 0 };
	char			*text, *err = NULL;
	size_t			 len;

	if (r->loaded)
		return;
	r->loaded = 1;
	if (r->tasks_file == NULL ||
	    (text = read_file(r->tasks_file, &len)) == NULL)
		return;
	if (yaml_play_task_names(text, len, r->tasks_file, &r->tasks,
	    &nested, &err) != 0)
		free(err);
	free(text);
	catalog_list_free(&nested);
}

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

/* Remember a YAML file that is not a playbook. */
static void
catalog_other(struct catalog *cat, const char *path, int64_t mtime_us,
    int64_t size)
{
	cat->others = xreallocarray(cat->others, cat->nothers + 1,
	    sizeof *cat->others);
	cat->others[cat->nothers].path = xstrdup(path);
	cat->others[cat->nothers].mtime_us = mtime_us;
	cat->others[cat->nothers].size = size;
	cat->nothers++;
	cat->stats.other++;
}

/* Non-zero if a playbook uses a role changed since it was parsed. */
static int
catalog_roles_changed(struct catalog *cat, const struct playbook *pb)
{
	struct catalog_role	*r;
	size_t			 i;

	for (i = 0; i < pb->roles.n; i++) {
		r = catalog_role(cat, pb->roles.v[i]);
		if (r != NULL && r->mtime_us > pb->refreshed_us)
			return 1;
	}
	return 0;
}

/* State of one scan: the result, the cache and what was taken from it. */
struct catalog_walk {
	struct catalog	*out;
	struct catalog	*cache;
	unsigned char	*taken;		/* per cache playbook */
	struct strbuf	 rel;		/* current path relative to repo */
	int64_t		 now_us;
};

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
			catalog_other(out, w->rel.buf, mtime_us, size);
		catalog_playbook_free(pb);
		return;
	}
	for (i = 0; i < pb->roles.n; i++) {
		if ((r = catalog_role(out, pb->roles.v[i])) == NULL)
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
			catalog_other(out, w->rel.buf, mtime_us, size);
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
	} else if (!yaml_play_maybe(text, len))
		catalog_other(out, w->rel.buf, mtime_us, size);
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

/* Walk one directory (dirfd is consumed). */
static void
catalog_walk_dir(struct catalog_walk *w, int dirfd, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	size_t		 base = w->rel.len;
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
		if (fstatat(dirfd, de->d_name, &st, 0) != 0)
			continue;
		w->rel.len = base;
		w->rel.buf[base] = '\0';
		if (base > 0)
			strbuf_addc(&w->rel, '/');
		strbuf_adds(&w->rel, de->d_name);
		if (S_ISDIR(st.st_mode)) {
			if (depth >= CATALOG_MAX_DEPTH ||
			    catalog_skip_dir(de->d_name))
				continue;
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

int
catalog_scan(const char *repo, struct catalog *cache, struct catalog **outp,
    char **errp)
{
	struct catalog_walk	 w = { 0 };
	struct catalog		*out;
	struct stat		 st;
	size_t			 i;
	int			 fd;

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
	if (cache != NULL)
		w.taken = xcalloc(cache->nplaybooks + 1, 1);
	strbuf_grow(&w.rel, 256);
	catalog_walk_dir(&w, fd, 0);
	strbuf_free(&w.rel);
	catalog_sort(out);

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
	if (out->nothers > 1)
		qsort(out->others, out->nothers, sizeof *out->others,
		    catalog_cmp_file);
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

json_object *
catalog_playbook_json(const struct playbook *pb)
{
	json_object	*o = json_object_new_object(), *vars = NULL;
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
	json_object_object_add(o, "skipped", a);
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
