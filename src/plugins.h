/*
 * plugins.h - the plugin loader and the capability registry.
 *
 * plugins_load() walks the search path ($CHIFFON_PLUGIN_PATH, then the
 * plugins.path configuration key, then CHIFFON_PLUGIN_DIR), and for every
 * *.so file checks it (regular file, not a symlink, not writable by group
 * or others, owned by root or the effective user) before dlopen(RTLD_NOW |
 * RTLD_LOCAL), then checks the exported descriptor (ABI major equal, minor
 * not newer, size, name, init, unique name), declares the plugin's
 * configuration keys (a bad value refuses it) and calls init().  A file that
 * fails any step is refused: the refusal (file and reason) is kept for
 * `chiffon plugins`, and nothing it registered survives.
 *
 * Search path order: the directories of $CHIFFON_PLUGIN_PATH, then those
 * of plugins.path as configured (file, environment or --plugin-path), then
 * the built-in directory; duplicates are searched once.  Within a
 * directory files load in name order; the first plugin of a name wins.
 *
 * The registry maps a capability name to the plugin, handler and
 * user_data that registered it.  Unloading a plugin calls its end(), then
 * releases everything it owns: its unfinished tasks are failed, its open
 * runs finished as "canceled", its children's process groups killed
 * (SIGKILL), its loop registrations and capabilities removed (each
 * free_func called), and finally the object is dlclose()d.
 */
#ifndef CHIFFON_PLUGINS_H
#define CHIFFON_PLUGINS_H

#include <stddef.h>

#include "chiffon/plugin.h"

struct conf;
struct loop;
struct plugins;

/* One registered capability. */
struct plugins_capability {
	char				*name;
	struct chiffon_plugin		*plugin;
	chiffon_capability_fn		 handler;
	struct chiffon_user_data	 ud;
};

/* A file (or directory) that was not loaded, and why. */
struct plugins_refusal {
	char	*file;
	char	*reason;
};

/*
 * New, empty registry.  host is passed to each plugin's init(); loop (may
 * be NULL) is where plugins register fds and timers, used to remove them
 * on unload.  Caller frees with plugins_free.
 */
struct plugins	*plugins_new(const struct chiffon_host *host,
		    struct loop *);
/* Unload every plugin (last loaded first) and free the registry. */
void		 plugins_free(struct plugins *);

/*
 * Load every plugin of the search path that plugins.load selects ("all"
 * or a comma-separated list of names; unset means all).  Refusals are
 * recorded, never fatal.  Returns the number of plugins loaded.
 */
int		 plugins_load(struct plugins *, struct conf *);
/*
 * The start-up check of the plugins' configuration: every plugin that
 * plugins_load would load is opened (dlopen, descriptor checks, no
 * init()) and its declared keys are declared in conf (conf_declare), then
 * it is closed again.  0, or -1 with *errp set to the first bad value
 * ("FILE:LINE: plugin.NAME.KEY: bad value ..."); the caller exits 2.
 * Files that would be refused are skipped here (`chiffon plugins` says
 * why).
 */
int		 plugins_check_config(struct conf *, char **errp);
/*
 * Load one file regardless of plugins.load.  0, or -1 with *errp set to
 * "FILE: reason" (the refusal is recorded too).
 */
int		 plugins_load_file(struct plugins *, const char *path,
		    char **errp);
/*
 * Unload the plugin called name.  0, or -1 with *errp set.  Not from
 * inside one of that plugin's own callbacks (its code goes away).
 */
int		 plugins_unload(struct plugins *, const char *name,
		    char **errp);

/* The directories plugins_load searched, in order. */
size_t		 plugins_search_path(const struct plugins *,
		    const char *const **dirsp);

/* Loaded plugins, in load order. */
size_t		 plugins_count(const struct plugins *);
struct chiffon_plugin *plugins_at(const struct plugins *, size_t);
struct chiffon_plugin *plugins_find(const struct plugins *,
		    const char *name);
const char	*plugins_name(const struct chiffon_plugin *);
const char	*plugins_version(const struct chiffon_plugin *);
const char	*plugins_description(const struct chiffon_plugin *);
const char	*plugins_file(const struct chiffon_plugin *);
void		 plugins_abi(const struct chiffon_plugin *, unsigned *major,
		    unsigned *minor);
/* The keys the plugin declares (ending with a NULL name), or NULL. */
const struct chiffon_config_key *plugins_config_keys(
		    const struct chiffon_plugin *);
/* The same for a descriptor: NULL unless its minor and size have them. */
const struct chiffon_config_key *plugins_descriptor_keys(
		    const struct chiffon_plugin_descriptor *);
/* Non-zero while the plugin's init() runs. */
int		 plugins_loading(const struct chiffon_plugin *);

/* Refusals, in the order they happened. */
size_t		 plugins_nrefused(const struct plugins *);
const struct plugins_refusal *plugins_refusal_at(const struct plugins *,
		    size_t);

/*
 * Register a capability for plugin p (host->register_capability).  A
 * duplicate name is refused; during init() that refuses the whole plugin.
 * On failure the host does not take ownership of ud.  0 or -1, *errp.
 */
int		 plugins_register_capability(struct chiffon_plugin *p,
		    const char *name, chiffon_capability_fn,
		    const struct chiffon_user_data *ud, char **errp);
/* The capability called name, or NULL.  Valid until the registry changes. */
const struct plugins_capability *plugins_capability(const struct plugins *,
		    const char *name);
/* All capabilities, in registration order. */
size_t		 plugins_ncapabilities(const struct plugins *);
const struct plugins_capability *plugins_capability_at(
		    const struct plugins *, size_t);

#endif
