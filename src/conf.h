/*
 * conf.h - chiffon.conf (INI) and its overrides.
 *
 * Precedence, lowest to highest: built-in defaults, the configuration file
 * (the first found of --config FILE, $CHIFFON_CONFIG,
 * $XDG_CONFIG_HOME/chiffon/chiffon.conf, /etc/chiffon/chiffon.conf),
 * CHIFFON_* environment variables, command-line flags (conf_set).
 *
 * Keys are "section.key".  Every known key is described by one row of the
 * key table in conf-table.c (name, environment variable, default, type,
 * accepted values, help); man/chiffon.conf.5 documents the same table.
 * Keys in sections [plugin.NAME] belong to that plugin: it declares them
 * (type, default, bounds, doc) and conf_declare checks them like the
 * table's.
 */
#ifndef CHIFFON_CONF_H
#define CHIFFON_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conf;
struct chiffon_config_key;

/* New configuration holding only the defaults.  Caller frees. */
struct conf	*conf_new(void);
void		 conf_free(struct conf *);

/*
 * Find and parse the configuration file (explicit_path may be NULL), then
 * apply CHIFFON_* environment overrides.  Unknown keys are logged as
 * warnings naming file:line.  A bad value returns -1 with *errp set to
 * "FILE:LINE: KEY: bad value 'V' (accepted: ...)"; the caller exits 2.
 * A missing explicit file is an error; missing default files are not.
 */
int		 conf_load(struct conf *, const char *explicit_path,
		    char **errp);

/*
 * Parse len bytes of chiffon.conf text (need not end in '\0') as if read
 * from file, which names it in messages and whose directory relative
 * paths are under.  No environment overrides.  0, or -1 with *errp set.
 */
int		 conf_parse_text(struct conf *, const char *file,
		    const char *buf, size_t len, char **errp);

/* Set one key (command-line flags); origin names the flag in errors. */
int		 conf_set(struct conf *, const char *key, const char *value,
		    const char *origin, char **errp);

/* Current value, or NULL when unset and without default. */
const char	*conf_get(const struct conf *, const char *key);
int		 conf_get_bool(const struct conf *, const char *key);
long long	 conf_get_int(const struct conf *, const char *key);
/* Durations ("90s", "5m", "1h", "180d" or plain seconds) in seconds. */
double		 conf_get_duration(const struct conf *, const char *key);
/*
 * Parse a duration: plain seconds ("90") or NUMBER UNIT pairs with units
 * ms, s, m, h, d, w ("90s", "1h30m", "180d").  0 with *secs set, or -1.
 */
int		 conf_parse_duration(const char *, double *secs);
/* Parse a boolean: yes/no, true/false, on/off, 1/0 in any case.  0 with
 * *val set to 1 or 0, or -1. */
int		 conf_parse_bool(const char *, int *val);
/*
 * Parse a size: bytes, with a suffix k, M, G, T (1024-based, any case; B,
 * KB, KiB... too).  0 with *bytes set, or -1.
 */
int		 conf_parse_size(const char *, uint64_t *bytes);

/*
 * Declare the keys of [plugin.PLUGIN] (the ABI's config_keys, ending with
 * a NULL name): each becomes "plugin.PLUGIN.key" with its default, its
 * environment variable CHIFFON_PLUGIN_PLUGIN_KEY (upper case, '.' and '-'
 * as '_') and the value already set in the file or by conf_set, checked
 * with the table's grammar.  Keys of the section that are not declared
 * are warnings.  A second declaration by the same plugin does nothing.
 * 0; -1 with *errp "FILE:LINE: KEY: bad value 'V' (accepted: ...)" for a
 * value; -2 with *errp "plugin 'P' declares ..." for a broken
 * declaration.  Nothing of that plugin is declared after an error.
 */
int		 conf_declare(struct conf *, const char *plugin,
		    const struct chiffon_config_key *keys, char **errp);
/*
 * What a known or declared key accepts ("an integer from 1 to 256"),
 * caller frees; *type ("integer") and *env (may be NULL) when not NULL.
 * NULL for an unknown key.
 */
char		*conf_describe(const struct conf *, const char *key,
		    const char **type, const char **env);
/* The file that was read, or NULL. */
const char	*conf_file(const struct conf *);
/* Where a key's value came from: "default", "FILE:LINE", "CHIFFON_X", flag. */
const char	*conf_origin(const struct conf *, const char *key);

/* Resolved directories (caller must not free; valid while conf lives). */
const char	*conf_data_dir(struct conf *);

/*
 * The default data directory for a user: /var/lib/chiffon for root (uid
 * 0), else $XDG_DATA_HOME/chiffon, else HOME/.local/share/chiffon.  NULL
 * when none can be formed.  Caller frees.
 */
char		*conf_default_data_dir(uid_t uid, const char *xdg_data_home,
		    const char *home);
/* Name of the i-th known key ("section.key"), NULL past the end. */
const char	*conf_key_at(size_t i);

#endif
