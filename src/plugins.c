/*
 * plugins.c - loading, checking and unloading plugins; the capability
 * registry.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "host.h"
#include "loop.h"
#include "plugins.h"
#include "util.h"

#ifndef CHIFFON_PLUGIN_DIR
#define CHIFFON_PLUGIN_DIR "/usr/local/lib/chiffon/plugins"
#endif

/* Longest plugin name accepted (it becomes a config section). */
#define PLUGINS_NAME_MAX 64

/*
 * One loaded plugin.  The descriptor lives in the shared object; name is
 * copied so that messages can name the plugin after dlclose.
 */
struct chiffon_plugin {
	struct plugins		*plugins;
	char			*file;
	char			*name;
	void			*handle;
	const struct chiffon_plugin_descriptor *desc;
	int			 loading;	/* in init() */
	char			*init_error;	/* first refused
						   registration */
};

/*
 * The registry: loaded plugins in load order, capabilities in
 * registration order, refusals, and the directories searched.
 */
struct plugins {
	const struct chiffon_host	 *host;
	struct loop			 *loop;
	struct conf			 *conf;		/* declared keys go
							   here (may be NULL) */
	int				  probe;	/* only declare keys */
	char				 *conf_error;	/* first bad value */

	struct chiffon_plugin		**list;
	size_t				  nlist;
	struct plugins_capability	**caps;
	size_t				  ncaps;
	struct plugins_refusal		 *refused;
	size_t				  nrefused;
	char				**dirs;
	size_t				  ndirs;
};

/* The plugins.load selection: NULL names means all. */
struct plugins_select {
	char	**names;
	int	 *found;
	size_t	  n;
};

struct plugins *
plugins_new(const struct chiffon_host *host, struct loop *loop)
{
	struct plugins	*ps = xcalloc(1, sizeof *ps);

	ps->host = host;
	ps->loop = loop;
	return ps;
}

static void
plugins_refuse(struct plugins *ps, const char *file, const char *reason)
{
	struct plugins_refusal	*r;

	ps->refused = xreallocarray(ps->refused, ps->nrefused + 1,
	    sizeof *ps->refused);
	r = &ps->refused[ps->nrefused++];
	r->file = xstrdup(file);
	r->reason = xstrdup(reason);
}

/* Record a refusal and return -1 with *errp = "FILE: reason". */
static int
plugins_refuse_err(struct plugins *ps, const char *file, char **errp,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int
plugins_refuse_err(struct plugins *ps, const char *file, char **errp,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*reason;

	va_start(ap, fmt);
	reason = xvasprintf(fmt, ap);
	va_end(ap);
	plugins_refuse(ps, file, reason);
	set_error(errp, "%s: %s", file, reason);
	free(reason);
	return -1;
}

/* Remove the capabilities of p (all of them when p is NULL). */
static void
plugins_remove_capabilities(struct plugins *ps, struct chiffon_plugin *p)
{
	struct plugins_capability	*c;
	size_t				 i = 0;

	while (i < ps->ncaps) {
		c = ps->caps[i];
		if (p != NULL && c->plugin != p) {
			i++;
			continue;
		}
		memmove(&ps->caps[i], &ps->caps[i + 1],
		    (ps->ncaps - i - 1) * sizeof *ps->caps);
		ps->ncaps--;
		if (c->ud.free_func != NULL)
			c->ud.free_func(c->ud.data);
		free(c->name);
		free(c);
	}
}

/*
 * Release everything p registered, then the plugin itself.  end() is
 * called first when call_end is set (the plugin's init succeeded).
 */
static void
plugins_release(struct plugins *ps, struct chiffon_plugin *p, int call_end)
{
	if (call_end && p->desc->end != NULL)
		p->desc->end(p);
	host_plugin_gone(p);
	if (ps->loop != NULL)
		loop_remove_owner(ps->loop, p);
	plugins_remove_capabilities(ps, p);
	if (p->handle != NULL)
		dlclose(p->handle);
	free(p->init_error);
	free(p->name);
	free(p->file);
	free(p);
}

void
plugins_free(struct plugins *ps)
{
	size_t	i;

	if (ps == NULL)
		return;
	while (ps->nlist > 0) {
		struct chiffon_plugin *p = ps->list[--ps->nlist];

		plugins_release(ps, p, 1);
	}
	plugins_remove_capabilities(ps, NULL);
	free(ps->list);
	free(ps->caps);
	for (i = 0; i < ps->nrefused; i++) {
		free(ps->refused[i].file);
		free(ps->refused[i].reason);
	}
	free(ps->refused);
	for (i = 0; i < ps->ndirs; i++)
		free(ps->dirs[i]);
	free(ps->dirs);
	free(ps->conf_error);
	free(ps);
}

static int
plugins_name_valid(const char *name)
{
	size_t	n = strlen(name);

	if (n == 0 || n > PLUGINS_NAME_MAX)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* The file checks done before dlopen; 0 or -1 with the refusal made. */
static int
plugins_check_file(struct plugins *ps, const char *path, char **errp)
{
	struct stat	st;
	uid_t		euid = geteuid();

	if (lstat(path, &st) != 0)
		return plugins_refuse_err(ps, path, errp, "cannot stat: %s",
		    strerror(errno));
	if (S_ISLNK(st.st_mode))
		return plugins_refuse_err(ps, path, errp, "is a symbolic "
		    "link; plugins must be regular files (copy or install "
		    "the file itself)");
	if (!S_ISREG(st.st_mode))
		return plugins_refuse_err(ps, path, errp, "is not a regular "
		    "file");
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return plugins_refuse_err(ps, path, errp, "is writable by "
		    "group or others (mode %04o); run chmod go-w on it",
		    (unsigned)(st.st_mode & 07777));
	if (st.st_uid != 0 && st.st_uid != euid)
		return plugins_refuse_err(ps, path, errp, "is owned by uid "
		    "%u, not by root or the current user (uid %u)",
		    (unsigned)st.st_uid, (unsigned)euid);
	return 0;
}

/* The descriptor checks; 0 or -1 with the refusal made. */
static int
plugins_check_descriptor(struct plugins *ps, const char *path,
    const struct chiffon_plugin_descriptor *d, char **errp)
{
	if (d->abi_major != CHIFFON_PLUGIN_ABI_MAJOR)
		return plugins_refuse_err(ps, path, errp, "was built for "
		    "plugin ABI %u.%u but this chiffon provides ABI %d.%d "
		    "(major version differs; rebuild the plugin)",
		    (unsigned)d->abi_major, (unsigned)d->abi_minor,
		    CHIFFON_PLUGIN_ABI_MAJOR, CHIFFON_PLUGIN_ABI_MINOR);
	if (d->abi_minor > CHIFFON_PLUGIN_ABI_MINOR)
		return plugins_refuse_err(ps, path, errp, "was built for "
		    "plugin ABI %u.%u, newer than this chiffon's ABI %d.%d "
		    "(upgrade chiffon or rebuild the plugin)",
		    (unsigned)d->abi_major, (unsigned)d->abi_minor,
		    CHIFFON_PLUGIN_ABI_MAJOR, CHIFFON_PLUGIN_ABI_MINOR);
	if (d->size < CHIFFON_PLUGIN_DESCRIPTOR_SIZE_0)
		return plugins_refuse_err(ps, path, errp, "descriptor size "
		    "%zu is smaller than expected %zu (built against a "
		    "broken plugin.h?)", d->size,
		    (size_t)CHIFFON_PLUGIN_DESCRIPTOR_SIZE_0);
	if (d->name == NULL || *d->name == '\0')
		return plugins_refuse_err(ps, path, errp, "descriptor has "
		    "no name");
	if (!plugins_name_valid(d->name))
		return plugins_refuse_err(ps, path, errp, "descriptor name "
		    "'%.80s' is invalid (use up to %d letters, digits, '_' "
		    "and '-')", d->name, PLUGINS_NAME_MAX);
	if (d->init == NULL)
		return plugins_refuse_err(ps, path, errp, "descriptor has "
		    "no init function");
	return 0;
}

const struct chiffon_config_key *
plugins_descriptor_keys(const struct chiffon_plugin_descriptor *d)
{
	if (d->abi_minor < 2 || d->size < offsetof(struct
	    chiffon_plugin_descriptor, config_keys) + sizeof d->config_keys)
		return NULL;
	return d->config_keys;
}

/*
 * Declare the keys of descriptor d in the registry's configuration.  0,
 * or -1 with the refusal made (a bad value is also kept as conf_error).
 */
static int
plugins_declare(struct plugins *ps, const char *path,
    const struct chiffon_plugin_descriptor *d, char **errp)
{
	const struct chiffon_config_key	*keys = plugins_descriptor_keys(d);
	char				*err = NULL;
	int				 rc;

	if (ps->conf == NULL || keys == NULL)
		return 0;
	if ((rc = conf_declare(ps->conf, d->name, keys, &err)) == 0)
		return 0;
	if (rc == -1 && ps->conf_error == NULL)
		ps->conf_error = xstrdup(err);
	rc = plugins_refuse_err(ps, path, errp, "%s", err);
	free(err);
	return rc;
}

static int
plugins_selected(struct plugins_select *sel, const char *name)
{
	size_t	i;

	if (sel == NULL || sel->names == NULL)
		return 1;
	for (i = 0; i < sel->n; i++) {
		if (strcmp(sel->names[i], name) == 0) {
			sel->found[i] = 1;
			return 1;
		}
	}
	return 0;
}

/*
 * Load one file: checks, dlopen, descriptor, selection, uniqueness,
 * init.  Returns 1 if loaded, 0 if skipped by the selection, -1 if
 * refused.
 */
static int
plugins_load_one(struct plugins *ps, const char *path,
    struct plugins_select *sel, char **errp)
{
	const struct chiffon_plugin_descriptor	*d;
	struct chiffon_plugin			*p, *other;
	void					*handle;
	const char				*dlerr;
	int					 rc;

	if (plugins_check_file(ps, path, errp) != 0)
		return -1;

	dlerror();
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		dlerr = dlerror();
		if (dlerr == NULL)
			dlerr = "unknown dlopen error";
		/* dlerror() usually repeats the path: say it once. */
		if (strncmp(dlerr, path, strlen(path)) == 0 &&
		    strncmp(dlerr + strlen(path), ": ", 2) == 0)
			dlerr += strlen(path) + 2;
		return plugins_refuse_err(ps, path, errp, "cannot be loaded: "
		    "%s", dlerr);
	}
	d = dlsym(handle, CHIFFON_PLUGIN_SYMBOL);
	if (d == NULL) {
		dlclose(handle);
		return plugins_refuse_err(ps, path, errp, "has no symbol %s "
		    "(not a chiffon plugin?)", CHIFFON_PLUGIN_SYMBOL);
	}
	if (plugins_check_descriptor(ps, path, d, errp) != 0) {
		dlclose(handle);
		return -1;
	}
	if (!plugins_selected(sel, d->name)) {
		dlclose(handle);
		return 0;
	}
	if ((other = plugins_find(ps, d->name)) != NULL) {
		rc = plugins_refuse_err(ps, path, errp, "plugin name '%s' is "
		    "already taken by %s", d->name, other->file);
		dlclose(handle);
		return rc;
	}
	if (plugins_declare(ps, path, d, errp) != 0) {
		dlclose(handle);
		return -1;
	}
	if (ps->probe) {
		dlclose(handle);
		return 0;
	}

	p = xcalloc(1, sizeof *p);
	p->plugins = ps;
	p->file = xstrdup(path);
	p->name = xstrdup(d->name);
	p->handle = handle;
	p->desc = d;
	p->loading = 1;
	rc = d->init(p, ps->host);
	p->loading = 0;
	if (rc != 0 || p->init_error != NULL) {
		if (rc != 0 && p->init_error != NULL)
			plugins_refuse_err(ps, path, errp, "init() of plugin "
			    "'%s' failed (returned %d): %s", p->name, rc,
			    p->init_error);
		else if (rc != 0)
			plugins_refuse_err(ps, path, errp, "init() of plugin "
			    "'%s' failed (returned %d)", p->name, rc);
		else
			plugins_refuse_err(ps, path, errp, "plugin '%s' "
			    "refused during init: %s", p->name,
			    p->init_error);
		/* A failed init gets no end(); a refused one does. */
		plugins_release(ps, p, rc == 0);
		return -1;
	}
	ps->list = xreallocarray(ps->list, ps->nlist + 1, sizeof *ps->list);
	ps->list[ps->nlist++] = p;
	return 1;
}

int
plugins_load_file(struct plugins *ps, const char *path, char **errp)
{
	return plugins_load_one(ps, path, NULL, errp) == 1 ? 0 : -1;
}

static int
plugins_so_filter(const struct dirent *de)
{
	return de->d_name[0] != '.' &&
	    fnmatch("*.so", de->d_name, 0) == 0;
}

/*
 * Load every *.so of dir, in name order.  A missing directory is only a
 * refusal when quiet_missing is not set.
 */
static int
plugins_load_dir(struct plugins *ps, const char *dir,
    struct plugins_select *sel, int quiet_missing)
{
	struct dirent	**names;
	char		 *path, *err;
	int		  n, i, loaded = 0;

	n = scandir(dir, &names, plugins_so_filter, alphasort);
	if (n < 0) {
		if (!(quiet_missing && errno == ENOENT)) {
			err = xasprintf("cannot read plugin directory: %s",
			    strerror(errno));
			plugins_refuse(ps, dir, err);
			free(err);
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		path = path_join(dir, names[i]->d_name);
		err = NULL;
		if (plugins_load_one(ps, path, sel, &err) == 1)
			loaded++;
		free(err);
		free(path);
		free(names[i]);
	}
	free(names);
	return loaded;
}

/* Append the components of a colon list, skipping empty and seen ones. */
static void
plugins_add_dirs(struct plugins *ps, const char *list)
{
	const char	*s, *e;
	char		*dir;
	size_t		 len, i;

	if (list == NULL)
		return;
	for (s = list; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchr(s, ':');
		if (e == NULL)
			e = s + strlen(s);
		len = (size_t)(e - s);
		while (len > 1 && s[len - 1] == '/')
			len--;
		if (len == 0)
			continue;
		dir = xstrndup(s, len);
		for (i = 0; i < ps->ndirs; i++) {
			if (strcmp(ps->dirs[i], dir) == 0)
				break;
		}
		if (i < ps->ndirs) {
			free(dir);
			continue;
		}
		ps->dirs = xreallocarray(ps->dirs, ps->ndirs + 1,
		    sizeof *ps->dirs);
		ps->dirs[ps->ndirs++] = dir;
	}
}

/* Parse plugins.load: NULL, "" or "all" select everything. */
static void
plugins_select_parse(struct plugins_select *sel, const char *value)
{
	const char	*s, *e, *end;

	memset(sel, 0, sizeof *sel);
	if (value == NULL)
		return;
	s = value + strspn(value, " \t");
	if (*s == '\0' || strcmp(s, "all") == 0)
		return;
	sel->names = xcalloc(1, sizeof *sel->names);
	for (; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchr(s, ',');
		if (e == NULL)
			e = s + strlen(s);
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		end = e;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == s)
			continue;
		sel->names = xreallocarray(sel->names, sel->n + 1,
		    sizeof *sel->names);
		sel->names[sel->n++] = xstrndup(s, (size_t)(end - s));
	}
	sel->found = xcalloc(sel->n + 1, sizeof *sel->found);
}

static void
plugins_select_free(struct plugins_select *sel)
{
	size_t	i;

	for (i = 0; i < sel->n; i++)
		free(sel->names[i]);
	free(sel->names);
	free(sel->found);
}

int
plugins_load(struct plugins *ps, struct conf *conf)
{
	struct plugins_select	 sel;
	size_t			 i, first_builtin;
	char			*reason;
	int			 loaded = 0;

	ps->conf = conf;
	plugins_add_dirs(ps, getenv("CHIFFON_PLUGIN_PATH"));
	if (conf != NULL)
		plugins_add_dirs(ps, conf_get(conf, "plugins.path"));
	first_builtin = ps->ndirs;
	plugins_add_dirs(ps, CHIFFON_PLUGIN_DIR);

	plugins_select_parse(&sel, conf != NULL ?
	    conf_get(conf, "plugins.load") : NULL);
	for (i = 0; i < ps->ndirs; i++) {
		loaded += plugins_load_dir(ps, ps->dirs[i], &sel,
		    i >= first_builtin);
	}
	for (i = 0; i < sel.n; i++) {
		if (sel.found[i])
			continue;
		reason = xasprintf("plugin '%s' named in plugins.load was "
		    "not found in the search path", sel.names[i]);
		plugins_refuse(ps, "plugins.load", reason);
		free(reason);
	}
	plugins_select_free(&sel);
	return loaded;
}

int
plugins_check_config(struct conf *conf, char **errp)
{
	struct plugins	*ps = plugins_new(NULL, NULL);
	int		 rc = 0;

	ps->probe = 1;
	plugins_load(ps, conf);
	if (ps->conf_error != NULL)
		rc = set_error(errp, "%s", ps->conf_error);
	plugins_free(ps);
	return rc;
}

const struct chiffon_config_key *
plugins_config_keys(const struct chiffon_plugin *p)
{
	return plugins_descriptor_keys(p->desc);
}

int
plugins_unload(struct plugins *ps, const char *name, char **errp)
{
	size_t	i;

	for (i = 0; i < ps->nlist; i++) {
		if (strcmp(ps->list[i]->name, name) == 0)
			break;
	}
	if (i == ps->nlist)
		return set_error(errp, "no plugin called '%s' is loaded",
		    name);
	plugins_release(ps, ps->list[i], 1);
	memmove(&ps->list[i], &ps->list[i + 1],
	    (ps->nlist - i - 1) * sizeof *ps->list);
	ps->nlist--;
	return 0;
}

size_t
plugins_search_path(const struct plugins *ps, const char *const **dirsp)
{
	*dirsp = (const char *const *)ps->dirs;
	return ps->ndirs;
}

size_t
plugins_count(const struct plugins *ps)
{
	return ps->nlist;
}

struct chiffon_plugin *
plugins_at(const struct plugins *ps, size_t i)
{
	return i < ps->nlist ? ps->list[i] : NULL;
}

struct chiffon_plugin *
plugins_find(const struct plugins *ps, const char *name)
{
	size_t	i;

	for (i = 0; i < ps->nlist; i++) {
		if (strcmp(ps->list[i]->name, name) == 0)
			return ps->list[i];
	}
	return NULL;
}

const char *
plugins_name(const struct chiffon_plugin *p)
{
	return p->name;
}

const char *
plugins_version(const struct chiffon_plugin *p)
{
	return p->desc->version != NULL ? p->desc->version : "";
}

const char *
plugins_description(const struct chiffon_plugin *p)
{
	return p->desc->description != NULL ? p->desc->description : "";
}

const char *
plugins_file(const struct chiffon_plugin *p)
{
	return p->file;
}

void
plugins_abi(const struct chiffon_plugin *p, unsigned *major,
    unsigned *minor)
{
	*major = p->desc->abi_major;
	*minor = p->desc->abi_minor;
}

int
plugins_loading(const struct chiffon_plugin *p)
{
	return p->loading;
}

size_t
plugins_nrefused(const struct plugins *ps)
{
	return ps->nrefused;
}

const struct plugins_refusal *
plugins_refusal_at(const struct plugins *ps, size_t i)
{
	return i < ps->nrefused ? &ps->refused[i] : NULL;
}

int
plugins_register_capability(struct chiffon_plugin *p, const char *name,
    chiffon_capability_fn handler, const struct chiffon_user_data *ud,
    char **errp)
{
	struct plugins			*ps = p->plugins;
	const struct plugins_capability	*other;
	struct plugins_capability	*c;
	char				*err = NULL;

	if (name == NULL || *name == '\0' || handler == NULL)
		set_error(&err, "capability registered without a name or "
		    "handler");
	else if ((other = plugins_capability(ps, name)) != NULL)
		set_error(&err, "capability '%s' is already registered by "
		    "plugin '%s' (%s)", name, other->plugin->name,
		    other->plugin->file);
	if (err != NULL) {
		if (p->loading && p->init_error == NULL)
			p->init_error = xstrdup(err);
		if (errp != NULL)
			*errp = err;
		else
			free(err);
		return -1;
	}

	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(name);
	c->plugin = p;
	c->handler = handler;
	if (ud != NULL)
		c->ud = *ud;
	ps->caps = xreallocarray(ps->caps, ps->ncaps + 1, sizeof *ps->caps);
	ps->caps[ps->ncaps++] = c;
	return 0;
}

const struct plugins_capability *
plugins_capability(const struct plugins *ps, const char *name)
{
	size_t	i;

	for (i = 0; i < ps->ncaps; i++) {
		if (strcmp(ps->caps[i]->name, name) == 0)
			return ps->caps[i];
	}
	return NULL;
}

size_t
plugins_ncapabilities(const struct plugins *ps)
{
	return ps->ncaps;
}

const struct plugins_capability *
plugins_capability_at(const struct plugins *ps, size_t i)
{
	return i < ps->ncaps ? ps->caps[i] : NULL;
}
