/*
 * conf.c - chiffon.conf (INI, parsed by libinih) and its overrides.
 *
 * Every known key is one row of conf_keys (conf-table.c); its type says
 * how a value is checked and normalised.  Values are applied in order:
 * built-in defaults (conf_new), the configuration file and then CHIFFON_*
 * environment variables (conf_load), and command-line flags (conf_set).
 * Each value remembers where it came from for conf_origin.  Keys under
 * [plugin.NAME] sections are kept as they are until plugin NAME declares
 * its keys (conf_declare, from the plugin's descriptor): they are then
 * checked like the table's keys.  Keys of a plugin that declares none
 * stay free-form.
 *
 * libinih (r55 on Debian 12) is built without INI_HANDLER_LINENO and with a
 * fixed line buffer, so the file is read into memory and handed to
 * ini_parse_stream through conf_ini_reader, which counts lines (for
 * FILE:LINE in messages), strips leading blanks (so indented keys are keys,
 * not continuation lines) and refuses lines longer than the buffer.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <libpq-fe.h>

#include "chiffon/plugin.h"
#include "conf.h"
#include "conf-table.h"
#include "log.h"
#include "util.h"

#ifndef CHIFFON_SYSCONFDIR
#define CHIFFON_SYSCONFDIR "/etc"
#endif

/* The current value of one key and where it came from. */
struct conf_value {
	char	*value;		/* NULL: unset */
	char	*origin;	/* NULL: default */
	int	 line;		/* line in the file, or 0 */
};

/* A key of a [plugin.NAME] section, kept as "plugin.NAME.key". */
struct conf_extra {
	char	*key;
	char	*value;
	char	*origin;
	int	 line;
};

/*
 * A key a plugin declared (conf_declare) and its value.  key.name is
 * "plugin.NAME.key"; the strings of key are owned here.
 */
struct conf_decl {
	struct conf_key		 key;
	struct conf_value	 value;
};

/*
 * A configuration: one conf_value per row of conf_keys, the keys plugins
 * declared, and the [plugin.NAME] keys no declaration claimed (yet).
 */
struct conf {
	struct conf_value	*values;
	struct conf_decl	*decl;
	size_t			 ndecl;
	char			**owners;	/* plugins that declared */
	size_t			 nowners;
	struct conf_extra	*extra;
	size_t			 nextra;
	char			*file;
};

/* State of one file being parsed. */
struct conf_parse {
	struct conf	*conf;
	const char	*file;
	char		*base;		/* directory of the file */
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 lineno;
	char		*error;		/* first handler error */
	int		 error_line;
	char		*stop;		/* what stopped the reader */
	int		 stop_line;
};

#define CONF_NKEYS conf_nkeys

/* Names of the types, for messages. */
static const char *const conf_type_names[] = {
	[CONF_STRING] = "string",
	[CONF_PATH] = "path",
	[CONF_PATHLIST] = "path list",
	[CONF_PROGRAM] = "program",
	[CONF_BOOL] = "boolean",
	[CONF_INT] = "integer",
	[CONF_ENUM] = "enumeration",
	[CONF_DURATION] = "duration",
	[CONF_USD] = "USD amount",
	[CONF_URL] = "URL",
	[CONF_LIST] = "list",
	[CONF_SIZE] = "size",
};

/* Boolean spellings: true ones at even, false ones at odd indexes. */
static const char *const conf_bool_words[] = {
	"yes", "no", "true", "false", "on", "off", "1", "0",
};

/* Size suffixes (1024-based) and their length in bytes. */
static const struct conf_size_unit {
	const char	*name;
	unsigned	 shift;
} conf_size_units[] = {
	{ "", 0 }, { "b", 0 },
	{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
	{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
	{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
	{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
};

/* Duration units and their length in seconds. */
static const struct conf_unit {
	const char	*name;
	double		 seconds;
} conf_units[] = {
	{ "ms", 0.001 },
	{ "s", 1 },
	{ "m", 60 },
	{ "h", 3600 },
	{ "d", 86400 },
	{ "w", 7 * 86400 },
};

const char *
conf_key_at(size_t i)
{
	return i < CONF_NKEYS ? conf_keys[i].name : NULL;
}

/* Index of a known key, or -1. */
static int
conf_find(const char *key)
{
	size_t	i;

	for (i = 0; i < CONF_NKEYS; i++) {
		if (strcmp(conf_keys[i].name, key) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Index of a known key of type want (-1: any type).  Asking for a key that
 * does not exist, or with the wrong type, is a programming error.
 */
static int
conf_find_typed(const char *key, int want)
{
	int	i = conf_find(key);

	if (i < 0) {
		fprintf(stderr, "chiffon: conf: no such key '%s'\n", key);
		abort();
	}
	if (want >= 0 && (int)conf_keys[i].type != want) {
		fprintf(stderr, "chiffon: conf: key '%s' has type %s\n", key,
		    conf_type_names[conf_keys[i].type]);
		abort();
	}
	return i;
}

/* Is key "plugin.NAME.rest" with non-empty NAME and rest? */
static int
conf_is_plugin_key(const char *key)
{
	const char	*name, *dot;

	if (strncmp(key, "plugin.", 7) != 0)
		return 0;
	name = key + 7;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && dot[1] != '\0';
}

static struct conf_extra *
conf_find_extra(const struct conf *conf, const char *key)
{
	size_t	i;

	for (i = 0; i < conf->nextra; i++) {
		if (strcmp(conf->extra[i].key, key) == 0)
			return &conf->extra[i];
	}
	return NULL;
}

/* Free the strings of a declared key (conf_decl_build made them). */
static void
conf_decl_key_free(struct conf_key *k)
{
	free((char *)k->name);
	free((char *)k->env);
	free((char *)k->def);
	free((char *)k->accepted);
	free((char *)k->help);
}

static struct conf_decl *
conf_find_decl(const struct conf *conf, const char *key)
{
	size_t	i;

	for (i = 0; i < conf->ndecl; i++) {
		if (strcmp(conf->decl[i].key.name, key) == 0)
			return &conf->decl[i];
	}
	return NULL;
}

/* Remove the extra key at index i. */
static void
conf_drop_extra(struct conf *conf, size_t i)
{
	free(conf->extra[i].key);
	free(conf->extra[i].value);
	free(conf->extra[i].origin);
	memmove(&conf->extra[i], &conf->extra[i + 1],
	    (conf->nextra - i - 1) * sizeof *conf->extra);
	conf->nextra--;
}

/* Edits an unknown key may be from a known one to be suggested. */
#define CONF_TYPOS	2

/*
 * The known key closest to an unknown one: within two edits, or the same
 * key name in another section.  NULL if none.
 */
static const char *
conf_suggest(const char *key)
{
	const char	*best = NULL, *dot = strrchr(key, '.'), *kdot;
	size_t		 i, d, bestd = CONF_TYPOS + 1;

	for (i = 0; i < CONF_NKEYS; i++) {
		d = str_distance(key, strlen(key), conf_keys[i].name,
		    strlen(conf_keys[i].name), CONF_TYPOS, STR_DISTANCE_FOLD);
		kdot = strrchr(conf_keys[i].name, '.');
		if (d > CONF_TYPOS && dot != NULL && strcasecmp(dot, kdot) == 0)
			d = CONF_TYPOS;
		if (d < bestd) {
			bestd = d;
			best = conf_keys[i].name;
		}
	}
	return best;
}

/* The home directory: $HOME, else the password database.  May be NULL. */
static const char *
conf_home(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;

	if (home != NULL && *home == '/')
		return home;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL &&
	    *pw->pw_dir == '/')
		return pw->pw_dir;
	return NULL;
}

char *
conf_default_data_dir(uid_t uid, const char *xdg_data_home, const char *home)
{
	size_t	len;

	/*
	 * root's home is private (0700), and PostgreSQL refuses to run as
	 * root, so the embedded cluster runs as db.server_user, which could
	 * not reach a data directory under /root.
	 */
	if (uid == 0)
		return xstrdup("/var/lib/chiffon");
	/* The XDG base directory spec ignores relative paths. */
	if (xdg_data_home != NULL && *xdg_data_home == '/')
		return path_join(xdg_data_home, "chiffon");
	if (home != NULL && *home == '/') {
		len = strlen(home);
		while (len > 0 && home[len - 1] == '/')
			len--;
		return xasprintf("%.*s/.local/share/chiffon", (int)len, home);
	}
	return NULL;
}

char *
conf_derive_data_dir(const struct conf *conf)
{
	(void)conf;
	return conf_default_data_dir(geteuid(), getenv("XDG_DATA_HOME"),
	    conf_home());
}

char *
conf_derive_log_file(const struct conf *conf)
{
	const char	*dir = conf_get(conf, "core.data_dir");

	return dir != NULL ? path_join(dir, "chiffon.log") : NULL;
}

char *
conf_derive_audit_repo(const struct conf *conf)
{
	const char	*dir = conf_get(conf, "core.data_dir");

	return dir != NULL ? path_join(dir, "audit") : NULL;
}

/* Recompute the derived defaults of keys that were not set. */
static void
conf_derive(struct conf *conf)
{
	struct conf_value	*v;
	size_t			 i;

	for (i = 0; i < CONF_NKEYS; i++) {
		v = &conf->values[i];
		if (conf_keys[i].derive == NULL || v->origin != NULL)
			continue;
		free(v->value);
		v->value = conf_keys[i].derive(conf);
	}
}

int
conf_parse_duration(const char *s, double *out)
{
	const char	*p = s, *unit;
	double		 total = 0, n, scale;
	size_t		 ulen, i;
	int		 digits, parts = 0;

	if (*s == '\0')
		return -1;
	while (*p != '\0') {
		n = 0;
		digits = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			digits++;
		}
		if (*p == '.') {
			p++;
			for (scale = 0.1; isdigit((unsigned char)*p); p++) {
				n += (*p - '0') * scale;
				scale /= 10;
				digits++;
			}
		}
		if (digits == 0)
			return -1;
		unit = p;
		while (isalpha((unsigned char)*p))
			p++;
		ulen = (size_t)(p - unit);
		parts++;
		if (ulen == 0) {
			/* A bare number is seconds, but only on its own. */
			if (parts > 1 || *p != '\0')
				return -1;
			total += n;
			continue;
		}
		for (i = 0; i < nitems(conf_units); i++) {
			if (strlen(conf_units[i].name) == ulen &&
			    strncmp(conf_units[i].name, unit, ulen) == 0)
				break;
		}
		if (i == nitems(conf_units))
			return -1;
		total += n * conf_units[i].seconds;
	}
	if (!isfinite(total))
		return -1;
	*out = total;
	return 0;
}

int
conf_parse_size(const char *s, uint64_t *out)
{
	const char	*p = s;
	uint64_t	 n = 0;
	size_t		 i;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	for (i = 0; i < nitems(conf_size_units); i++) {
		if (strcasecmp(conf_size_units[i].name, p) == 0)
			break;
	}
	if (i == nitems(conf_size_units))
		return -1;
	if (conf_size_units[i].shift > 0 &&
	    n > (UINT64_MAX >> conf_size_units[i].shift))
		return -1;
	*out = n << conf_size_units[i].shift;
	return 0;
}

/* Format bytes briefly for messages: "512", "64k", "10M", "2G". */
static char *
conf_format_bytes(long long b)
{
	static const char	units[] = "kMGT";
	int			i = -1;

	while (b != 0 && b % 1024 == 0 && i < 3) {
		b /= 1024;
		i++;
	}
	if (i < 0)
		return xasprintf("%lld", b);
	return xasprintf("%lld%c", b, units[i]);
}

/* Format seconds briefly for messages: "90s", "5m", "1h", "2d". */
static char *
conf_format_seconds(long long s)
{
	if (s != 0 && s % 86400 == 0)
		return xasprintf("%lldd", s / 86400);
	if (s != 0 && s % 3600 == 0)
		return xasprintf("%lldh", s / 3600);
	if (s != 0 && s % 60 == 0)
		return xasprintf("%lldm", s / 60);
	return xasprintf("%llds", s);
}

/* What a key accepts, for "bad value" messages.  Caller frees. */
static char *
conf_accepted(const struct conf_key *k)
{
	struct strbuf	 sb = { 0 };
	char		*lo, *hi, *s;
	size_t		 i;

	switch (k->type) {
	case CONF_STRING:
		return xstrdup("any text");
	case CONF_PATH:
		return xstrdup("an absolute path, ~/path, or a path relative "
		    "to the file's directory");
	case CONF_PATHLIST:
		return xstrdup("paths separated by ':', each absolute, ~/path "
		    "or relative to the file's directory");
	case CONF_PROGRAM:
		return xstrdup("a program name found in PATH, or its path");
	case CONF_BOOL:
		for (i = 0; i < nitems(conf_bool_words); i++) {
			strbuf_addf(&sb, "%s%s", i == 0 ? "" : ", ",
			    conf_bool_words[i]);
		}
		return strbuf_detach(&sb);
	case CONF_INT:
		if (k->min == LLONG_MIN && k->max == LLONG_MAX)
			return xstrdup("an integer");
		return xasprintf("an integer from %lld to %lld", k->min,
		    k->max);
	case CONF_ENUM:
		s = xstrdup(k->accepted);
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] == '|')
				strbuf_adds(&sb, ", ");
			else
				strbuf_addc(&sb, s[i]);
		}
		free(s);
		return strbuf_detach(&sb);
	case CONF_DURATION:
		if (k->min == 0 && k->max == LLONG_MAX)
			return xstrdup("a duration such as 90, 90s, 500ms, 5m, "
			    "1h30m, 2d, 1w");
		lo = conf_format_seconds(k->min);
		hi = conf_format_seconds(k->max);
		s = xasprintf("a duration from %s to %s such as 90, 90s, 5m, "
		    "1h30m, 2d", lo, hi);
		free(lo);
		free(hi);
		return s;
	case CONF_USD:
		return xstrdup("an amount of US dollars such as 5, 12.50 or "
		    "$0.25");
	case CONF_URL:
		s = xstrdup(k->accepted);
		for (lo = strtok(s, "|"); lo != NULL; lo = strtok(NULL, "|")) {
			if (sb.len != 0)
				strbuf_adds(&sb, ", ");
			if (strcmp(lo, "conninfo") == 0)
				strbuf_adds(&sb, "a libpq key=value string");
			else
				strbuf_addf(&sb, "%s://...", lo);
		}
		free(s);
		return strbuf_detach(&sb);
	case CONF_LIST:
		return xstrdup("all, or names separated by ','");
	case CONF_SIZE:
		if (k->min == 0 && k->max == LLONG_MAX)
			return xstrdup("a size such as 512, 64k, 10M, 2G");
		lo = conf_format_bytes(k->min);
		hi = conf_format_bytes(k->max);
		s = xasprintf("a size from %s to %s such as 512, 64k, 10M, 2G",
		    lo, hi);
		free(lo);
		free(hi);
		return s;
	}
	return xstrdup("?");
}

/*
 * Make a path absolute: "~" and "~/x" are under the home directory, a
 * relative path is under base.  NULL if it cannot be done.
 */
static char *
conf_make_path(const char *s, const char *base)
{
	const char	*home;

	if (*s == '\0')
		return NULL;
	if (*s == '/')
		return xstrdup(s);
	if (s[0] == '~') {
		if (s[1] != '\0' && s[1] != '/')
			return NULL;	/* ~user is not supported */
		if ((home = conf_home()) == NULL)
			return NULL;
		return s[1] == '\0' ? xstrdup(home) : path_join(home, s + 2);
	}
	if (base == NULL)
		return NULL;
	if (strcmp(s, ".") == 0)
		return xstrdup(base);
	if (strncmp(s, "./", 2) == 0)
		s += 2;
	return path_join(base, s);
}

/* Is s one of the '|'-separated words in list (case-insensitive)? */
static int
conf_word_index(const char *list, const char *s, size_t slen)
{
	const char	*p = list, *end;
	int		 i = 0;

	for (;;) {
		end = strchr(p, '|');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) == slen && strncasecmp(p, s, slen) == 0)
			return i;
		if (*end == '\0')
			return -1;
		p = end + 1;
		i++;
	}
}

/* Check a URL or a libpq connection string; *why may explain. */
static int
conf_check_url(const struct conf_key *k, const char *s, char **why)
{
	PQconninfoOption	*opts;
	const char		*sep = strstr(s, "://");
	char			*pqerr = NULL, *nl;
	int			 pg;

	if (sep != NULL) {
		if (conf_word_index(k->accepted, s, (size_t)(sep - s)) < 0)
			return -1;
		pg = strncasecmp(s, "postgres", 8) == 0;
		if (!pg)
			return sep[3] != '\0' ? 0 : -1;
	} else if (conf_word_index(k->accepted, "conninfo", 8) < 0)
		return -1;
	else if (strchr(s, '=') == NULL)
		return -1;
	if ((opts = PQconninfoParse(s, &pqerr)) == NULL) {
		if (pqerr != NULL) {
			if ((nl = strchr(pqerr, '\n')) != NULL)
				*nl = '\0';
			*why = xasprintf("libpq: %s", pqerr);
			PQfreemem(pqerr);
		}
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}

/* Check a "all" or "a,b,c" list; normalised without blanks into *out. */
static int
conf_check_list(const char *s, char **out)
{
	struct strbuf	 sb = { 0 };
	const char	*p = s, *start;
	size_t		 n;

	if (strcasecmp(s, "all") == 0) {
		*out = xstrdup("all");
		return 0;
	}
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
		    *p == '.')
			p++;
		n = (size_t)(p - start);
		while (*p == ' ' || *p == '\t')
			p++;
		if (n == 0 || (*p != ',' && *p != '\0') ||
		    (n == 3 && strncasecmp(start, "all", 3) == 0)) {
			strbuf_free(&sb);
			return -1;
		}
		if (sb.len != 0)
			strbuf_addc(&sb, ',');
		strbuf_add(&sb, start, n);
		if (*p++ == '\0')
			break;
	}
	*out = strbuf_detach(&sb);
	return 0;
}

/* Check a USD amount: [$]DIGITS[.DIGITS]; normalised without '$'. */
static int
conf_check_usd(const char *s, char **out)
{
	const char	*p = s;
	int		 digits = 0;

	if (*p == '$')
		p++;
	s = p;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, digits++;
	}
	if (digits == 0 || *p != '\0')
		return -1;
	*out = xstrdup(s);
	return 0;
}

/*
 * Check and normalise a value for key k.  base is the directory relative
 * paths start from.  0 with *out set, or -1 with *why possibly set.
 */
int
conf_parse_bool(const char *s, int *val)
{
	int	i;

	if (s == NULL)
		return -1;
	i = conf_word_index("yes|no|true|false|on|off|1|0", s, strlen(s));
	if (i < 0)
		return -1;
	*val = i % 2 == 0;
	return 0;
}

static int
conf_check(const struct conf_key *k, const char *s, const char *base,
    char **out, char **why)
{
	struct strbuf	 sb = { 0 };
	const char	*p, *end;
	char		*one, *path, *endp;
	long long	 n;
	uint64_t	 u;
	double		 d;
	int		 i;

	*out = NULL;
	switch (k->type) {
	case CONF_STRING:
		*out = xstrdup(s);
		return 0;
	case CONF_PATH:
		return (*out = conf_make_path(s, base)) != NULL ? 0 : -1;
	case CONF_PATHLIST:
		for (p = s; ; p = end + 1) {
			end = strchr(p, ':');
			if (end == NULL)
				end = p + strlen(p);
			if (end != p) {
				one = xstrndup(p, (size_t)(end - p));
				path = conf_make_path(one, base);
				free(one);
				if (path == NULL) {
					strbuf_free(&sb);
					return -1;
				}
				if (sb.len != 0)
					strbuf_addc(&sb, ':');
				strbuf_adds(&sb, path);
				free(path);
			}
			if (*end == '\0')
				break;
		}
		if (sb.len == 0)
			return -1;
		*out = strbuf_detach(&sb);
		return 0;
	case CONF_PROGRAM:
		if (strchr(s, '/') == NULL) {
			*out = xstrdup(s);
			return 0;
		}
		return (*out = conf_make_path(s, base)) != NULL ? 0 : -1;
	case CONF_BOOL:
		if (conf_parse_bool(s, &i) != 0)
			return -1;
		*out = xstrdup(i ? "yes" : "no");
		return 0;
	case CONF_INT:
		errno = 0;
		n = strtoll(s, &endp, 10);
		if (errno != 0 || endp == s || *endp != '\0' || isspace(
		    (unsigned char)*s) || n < k->min || n > k->max)
			return -1;
		*out = xasprintf("%lld", n);
		return 0;
	case CONF_ENUM:
		if ((i = conf_word_index(k->accepted, s, strlen(s))) < 0)
			return -1;
		*out = xstrdup(s);
		for (endp = *out; *endp != '\0'; endp++)
			*endp = (char)tolower((unsigned char)*endp);
		return 0;
	case CONF_DURATION:
		if (conf_parse_duration(s, &d) != 0 || d < (double)k->min ||
		    d > (double)k->max)
			return -1;
		*out = xstrdup(s);
		return 0;
	case CONF_USD:
		return conf_check_usd(s, out);
	case CONF_URL:
		if (conf_check_url(k, s, why) != 0)
			return -1;
		*out = xstrdup(s);
		return 0;
	case CONF_LIST:
		return conf_check_list(s, out);
	case CONF_SIZE:
		if (conf_parse_size(s, &u) != 0 || u > (uint64_t)LLONG_MAX ||
		    (long long)u < k->min || (long long)u > k->max)
			return -1;
		*out = xstrdup(s);
		return 0;
	}
	return -1;
}

/*
 * Set key i from origin (a "FILE:LINE", variable or flag name; line is the
 * file line or 0).  An empty value restores the default.
 */
static int
conf_apply_to(struct conf *conf, const struct conf_key *k,
    struct conf_value *v, const char *value, const char *origin, int line,
    const char *base, char **errp)
{
	char			*out, *why = NULL, *acc;
	int			 rc;

	if (*value == '\0') {
		free(v->value);
		free(v->origin);
		v->value = k->def != NULL ? xstrdup(k->def) : NULL;
		v->origin = NULL;
		v->line = 0;
		conf_derive(conf);
		return 0;
	}
	if (conf_check(k, value, base, &out, &why) != 0) {
		acc = conf_accepted(k);
		rc = set_error(errp,
		    "%s: %s: bad value '%s'%s%s (accepted: %s)", origin,
		    k->name, value, why != NULL ? ": " : "",
		    why != NULL ? why : "", acc);
		free(acc);
		free(why);
		return rc;
	}
	free(v->value);
	free(v->origin);
	v->value = out;
	v->origin = xstrdup(origin);
	v->line = line;
	conf_derive(conf);
	return 0;
}

static int
conf_apply(struct conf *conf, int i, const char *value, const char *origin,
    int line, const char *base, char **errp)
{
	return conf_apply_to(conf, &conf_keys[i], &conf->values[i], value,
	    origin, line, base, errp);
}

/* Set a [plugin.NAME] key; values are kept as they are. */
static void
conf_apply_extra(struct conf *conf, const char *key, const char *value,
    const char *origin, int line)
{
	struct conf_extra	*e = conf_find_extra(conf, key);

	if (e == NULL) {
		conf->extra = xreallocarray(conf->extra, conf->nextra + 1,
		    sizeof *conf->extra);
		e = &conf->extra[conf->nextra++];
		e->key = xstrdup(key);
		e->value = e->origin = NULL;
	}
	free(e->value);
	free(e->origin);
	e->value = xstrdup(value);
	e->origin = xstrdup(origin);
	e->line = line;
}

struct conf *
conf_new(void)
{
	struct conf	*conf = xcalloc(1, sizeof *conf);
	size_t		 i;

	conf->values = xcalloc(CONF_NKEYS, sizeof *conf->values);
	for (i = 0; i < CONF_NKEYS; i++) {
		if (conf_keys[i].def != NULL)
			conf->values[i].value = xstrdup(conf_keys[i].def);
	}
	conf_derive(conf);
	return conf;
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < CONF_NKEYS; i++) {
		free(conf->values[i].value);
		free(conf->values[i].origin);
	}
	free(conf->values);
	for (i = 0; i < conf->ndecl; i++) {
		conf_decl_key_free(&conf->decl[i].key);
		free(conf->decl[i].value.value);
		free(conf->decl[i].value.origin);
	}
	free(conf->decl);
	for (i = 0; i < conf->nowners; i++)
		free(conf->owners[i]);
	free(conf->owners);
	for (i = 0; i < conf->nextra; i++) {
		free(conf->extra[i].key);
		free(conf->extra[i].value);
		free(conf->extra[i].origin);
	}
	free(conf->extra);
	free(conf->file);
	free(conf);
}

/* Record the handler's first error. */
static int
conf_parse_fail(struct conf_parse *p, char *msg)
{
	if (p->error == NULL) {
		p->error = msg;
		p->error_line = p->lineno;
	} else
		free(msg);
	return 0;
}

/*
 * libinih's handler: one "name = value" in section.  p->lineno is the line
 * inih is working on, since the reader hands it one line at a time.
 */
/*
 * Where a value holds what looks like an inline comment (a blank, then
 * '#'), or NULL.  Such a value is refused: it would silently become part
 * of a path or name.
 */
static const char *
conf_inline_comment(const char *value)
{
	const char	*p;

	for (p = value; (p = strchr(p, '#')) != NULL; p++) {
		if (p > value && (p[-1] == ' ' || p[-1] == '\t'))
			return p - 1;
	}
	return NULL;
}

static int
conf_ini_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*p = user;
	struct conf_decl	*d;
	const char		*hint;
	char			*key, *origin, *err = NULL;
	int			 i, rc = 1;

	if (*name == '\0') {
		return conf_parse_fail(p, xasprintf("%s:%d: missing key name "
		    "before '='", p->file, p->lineno));
	}
	if (*section == '\0') {
		log_warn("%s:%d: key '%s' is outside any [section]; ignored",
		    p->file, p->lineno, name);
		return 1;
	}
	key = xasprintf("%s.%s", section, name);
	origin = xasprintf("%s:%d", p->file, p->lineno);
	if ((hint = conf_inline_comment(value)) != NULL) {
		rc = conf_parse_fail(p, xasprintf("%s: %s: the value '%s' "
		    "holds '%.*s', which looks like a comment but would be "
		    "part of the value: a '#' after a value is not a comment "
		    "in chiffon.conf; put the comment on a line of its own or "
		    "after ' ;'", origin, key, value, (int)strcspn(hint, "\n"),
		    hint));
		goto out;
	}
	if ((d = conf_find_decl(p->conf, key)) != NULL) {
		if (conf_apply_to(p->conf, &d->key, &d->value, value, origin,
		    p->lineno, p->base, &err) != 0)
			rc = conf_parse_fail(p, err);
		goto out;
	}
	if (conf_is_plugin_key(key)) {
		conf_apply_extra(p->conf, key, value, origin, p->lineno);
		goto out;
	}
	if ((i = conf_find(key)) < 0) {
		if ((hint = conf_suggest(key)) != NULL)
			log_warn("%s: unknown key '%s' (did you mean '%s'?)",
			    origin, key, hint);
		else
			log_warn("%s: unknown key '%s'", origin, key);
		goto out;
	}
	if (p->conf->values[i].line != 0) {
		log_warn("%s: '%s' is set again (earlier at line %d); the "
		    "last value wins", origin, key, p->conf->values[i].line);
	}
	if (conf_apply(p->conf, i, value, origin, p->lineno, p->base,
	    &err) != 0)
		rc = conf_parse_fail(p, err);
out:
	free(origin);
	free(key);
	return rc;
}

/*
 * libinih's reader: the next line of the buffer without its leading
 * blanks.  A line that does not fit in inih's buffer stops the parse.
 */
static char *
conf_ini_reader(char *str, int num, void *stream)
{
	struct conf_parse	*p = stream;
	const char		*line, *nl;
	size_t			 len, max;

	if (p->stop != NULL || p->pos >= p->len)
		return NULL;
	p->lineno++;
	line = p->buf + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	len = nl != NULL ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += len + (nl != NULL);
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	max = num > 2 ? (size_t)num - 2 : 0;
	if (len > max) {
		p->stop = xasprintf("%s:%d: line is longer than %zu "
		    "characters; shorten it", p->file, p->lineno, max);
		p->stop_line = p->lineno;
		return NULL;
	}
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* Explain a line inih could not parse.  Caller frees. */
static char *
conf_syntax_error(const struct conf_parse *p, int lineno)
{
	const char	*line = p->buf, *end;
	int		 n;

	for (n = 1; n < lineno && line != NULL; n++) {
		line = memchr(line, '\n', (size_t)(p->buf + p->len - line));
		if (line != NULL)
			line++;
	}
	if (line != NULL) {
		end = p->buf + p->len;
		while (line < end && (*line == ' ' || *line == '\t'))
			line++;
		if (line < end && *line == '[') {
			return xasprintf("%s:%d: syntax error: a section "
			    "header is '[name]' on a line of its own", p->file,
			    lineno);
		}
	}
	return xasprintf("%s:%d: syntax error: expected 'key = value', "
	    "'[section]' or a comment", p->file, lineno);
}

/* Absolute form of a path (relative ones are under the working dir). */
static char *
conf_absolute(const char *path)
{
	char	*cwd, *abs;

	if (*path == '/')
		return xstrdup(path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);
	abs = path_join(cwd, path);
	free(cwd);
	return abs;
}

/*
 * Parse one file.  why says how it was chosen, for messages when it cannot
 * be read.  Returns 1 if the file does not exist and may be skipped
 * (optional), 0 when read, -1 on error.
 */
static int
conf_parse_file(struct conf *conf, const char *file, int optional,
    const char *why, char **errp)
{
	char	*buf;
	size_t	 len;
	int	 rc;

	if ((buf = read_file(file, &len)) == NULL) {
		if (optional && errno == ENOENT)
			return 1;
		return set_error(errp, "%s: cannot read the configuration "
		    "file%s%s: %s", file, why != NULL ? " " : "",
		    why != NULL ? why : "", strerror(errno));
	}
	rc = conf_parse_text(conf, file, buf, len, errp);
	free(buf);
	return rc;
}

int
conf_parse_text(struct conf *conf, const char *file, const char *buf,
    size_t len, char **errp)
{
	struct conf_parse	 p = { .conf = conf, .file = file };
	char			*abs, *slash;
	int			 rc;

	if (memchr(buf, '\0', len) != NULL) {
		return set_error(errp, "%s: contains a NUL byte; a "
		    "configuration file is text", file);
	}
	free(conf->file);
	conf->file = xstrdup(file);
	abs = conf_absolute(file);
	slash = strrchr(abs, '/');
	p.base = slash == abs ? xstrdup("/") : xstrndup(abs,
	    (size_t)(slash - abs));
	free(abs);
	p.buf = buf;
	p.len = len;

	rc = ini_parse_stream(conf_ini_reader, &p, conf_ini_handler, &p);
	if (rc < 0) {
		rc = set_error(errp, "%s: libinih failed (%d)", file, rc);
	} else if (p.stop != NULL && (rc == 0 || p.stop_line <= rc) &&
	    (p.error == NULL || p.stop_line <= p.error_line)) {
		rc = set_error(errp, "%s", p.stop);
	} else if (p.error != NULL && (rc == 0 || p.error_line <= rc)) {
		if (errp != NULL) {
			*errp = p.error;
			p.error = NULL;
		}
		rc = -1;
	} else if (rc > 0) {
		if (errp != NULL)
			*errp = conf_syntax_error(&p, rc);
		rc = -1;
	}
	free(p.error);
	free(p.stop);
	free(p.base);
	return rc;
}

/* Apply every CHIFFON_* variable that is set and not empty. */
static int
conf_load_env(struct conf *conf, char **errp)
{
	const char	*value;
	char		*cwd;
	size_t		 i;
	int		 rc = 0;

	cwd = getcwd(NULL, 0);
	for (i = 0; i < CONF_NKEYS && rc == 0; i++) {
		if (conf_keys[i].env == NULL)
			continue;
		value = getenv(conf_keys[i].env);
		if (value == NULL || *value == '\0')
			continue;
		rc = conf_apply(conf, (int)i, value, conf_keys[i].env, 0, cwd,
		    errp);
	}
	free(cwd);
	return rc;
}

int
conf_load(struct conf *conf, const char *explicit_path, char **errp)
{
	const char	*env, *xdg, *home;
	char		*path, *sys;
	int		 rc;

	if (explicit_path != NULL) {
		if (conf_parse_file(conf, explicit_path, 0,
		    "given with --config", errp) != 0)
			return -1;
		return conf_load_env(conf, errp);
	}
	if ((env = getenv("CHIFFON_CONFIG")) != NULL && *env != '\0') {
		if (conf_parse_file(conf, env, 0, "named by CHIFFON_CONFIG",
		    errp) != 0)
			return -1;
		return conf_load_env(conf, errp);
	}

	xdg = getenv("XDG_CONFIG_HOME");
	home = conf_home();
	path = NULL;
	if (xdg != NULL && *xdg == '/')
		path = path_join(xdg, "chiffon/chiffon.conf");
	else if (home != NULL)
		path = path_join(home, ".config/chiffon/chiffon.conf");
	rc = 1;
	if (path != NULL)
		rc = conf_parse_file(conf, path, 1, NULL, errp);
	free(path);
	if (rc == 1)
		rc = conf_parse_file(conf, "/etc/chiffon/chiffon.conf", 1,
		    NULL, errp);
	if (rc == 1 && strcmp(CHIFFON_SYSCONFDIR, "/etc") != 0) {
		sys = path_join(CHIFFON_SYSCONFDIR, "chiffon/chiffon.conf");
		rc = conf_parse_file(conf, sys, 1, NULL, errp);
		free(sys);
	}
	if (rc < 0)
		return -1;
	return conf_load_env(conf, errp);
}

int
conf_set(struct conf *conf, const char *key, const char *value,
    const char *origin, char **errp)
{
	struct conf_decl	*d;
	char			*cwd;
	int			 i, rc;

	if ((d = conf_find_decl(conf, key)) != NULL)
		return conf_apply_to(conf, &d->key, &d->value,
		    value != NULL ? value : "", origin, 0, NULL, errp);
	if (conf_is_plugin_key(key)) {
		conf_apply_extra(conf, key, value != NULL ? value : "", origin,
		    0);
		return 0;
	}
	if ((i = conf_find(key)) < 0)
		return set_error(errp, "%s: unknown key '%s'", origin, key);
	cwd = getcwd(NULL, 0);
	rc = conf_apply(conf, i, value != NULL ? value : "", origin, 0, cwd,
	    errp);
	free(cwd);
	return rc;
}

const char *
conf_get(const struct conf *conf, const char *key)
{
	struct conf_decl	*d;
	struct conf_extra	*e;
	int			 i;

	if ((i = conf_find(key)) >= 0)
		return conf->values[i].value;
	if ((d = conf_find_decl(conf, key)) != NULL)
		return d->value.value;
	if ((e = conf_find_extra(conf, key)) != NULL)
		return e->value;
	return NULL;
}

int
conf_get_bool(const struct conf *conf, const char *key)
{
	int	i = conf_find_typed(key, CONF_BOOL);

	return conf->values[i].value != NULL &&
	    strcmp(conf->values[i].value, "yes") == 0;
}

long long
conf_get_int(const struct conf *conf, const char *key)
{
	const char	*v;
	double		 d;
	int		 i = conf_find_typed(key, -1);

	if ((v = conf->values[i].value) == NULL)
		return 0;
	switch (conf_keys[i].type) {
	case CONF_INT:
		return strtoll(v, NULL, 10);
	case CONF_ENUM:
		return conf_word_index(conf_keys[i].accepted, v, strlen(v));
	case CONF_BOOL:
		return strcmp(v, "yes") == 0;
	case CONF_DURATION:
		return conf_parse_duration(v, &d) == 0 ? (long long)d : 0;
	default:
		fprintf(stderr, "chiffon: conf: key '%s' has type %s, not "
		    "a number\n", key, conf_type_names[conf_keys[i].type]);
		abort();
	}
}

double
conf_get_duration(const struct conf *conf, const char *key)
{
	double	d;
	int	i = conf_find_typed(key, CONF_DURATION);

	if (conf->values[i].value == NULL ||
	    conf_parse_duration(conf->values[i].value, &d) != 0)
		return 0;
	return d;
}

const char *
conf_file(const struct conf *conf)
{
	return conf->file;
}

const char *
conf_origin(const struct conf *conf, const char *key)
{
	struct conf_decl	*d;
	struct conf_extra	*e;
	int			 i;

	if ((i = conf_find(key)) >= 0) {
		return conf->values[i].origin != NULL ?
		    conf->values[i].origin : "default";
	}
	if ((d = conf_find_decl(conf, key)) != NULL)
		return d->value.origin != NULL ? d->value.origin : "default";
	if ((e = conf_find_extra(conf, key)) != NULL)
		return e->origin;
	return NULL;
}

const char *
conf_data_dir(struct conf *conf)
{
	return conf_get(conf, "core.data_dir");
}

/* -- keys declared by plugins --------------------------------------------- */

/* The conf type of a declared type; -1 if unknown. */
static int
conf_decl_type(enum chiffon_config_type t)
{
	static const struct {
		enum chiffon_config_type	abi;
		enum conf_type			type;
	} map[] = {
		{ CHIFFON_CONFIG_STRING, CONF_STRING },
		{ CHIFFON_CONFIG_INT, CONF_INT },
		{ CHIFFON_CONFIG_BOOL, CONF_BOOL },
		{ CHIFFON_CONFIG_DURATION, CONF_DURATION },
		{ CHIFFON_CONFIG_SIZE, CONF_SIZE },
		{ CHIFFON_CONFIG_ENUM, CONF_ENUM },
	};
	size_t	i;

	for (i = 0; i < nitems(map); i++) {
		if (map[i].abi == t)
			return (int)map[i].type;
	}
	return -1;
}

/* CHIFFON_PLUGIN_NAME_KEY for plugin.NAME.key.  Caller frees. */
static char *
conf_decl_env(const char *full)
{
	char	*env = xasprintf("CHIFFON_%s", full), *p;

	for (p = env; *p != '\0'; p++) {
		if (*p == '.' || *p == '-')
			*p = '_';
		else
			*p = (char)toupper((unsigned char)*p);
	}
	return env;
}

/* Is name a valid declared key name (letters, digits, '_', '-')? */
static int
conf_decl_name_valid(const char *name)
{
	size_t	n = name != NULL ? strlen(name) : 0;

	return n > 0 && n <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/*
 * Check one declaration and build its key (strings owned by *out).
 * 0, or -1 with *errp naming the plugin and the key.
 */
static int
conf_decl_build(const char *plugin, const struct chiffon_config_key *ck,
    struct conf_key *out, char **errp)
{
	struct conf_key	 k = { 0 };
	char		*def = NULL, *why = NULL;
	int		 type = conf_decl_type(ck->type);

	if (!conf_decl_name_valid(ck->name))
		return set_error(errp, "plugin '%s' declares a configuration "
		    "key with an invalid name '%.80s' (use letters, digits, "
		    "'_' and '-')", plugin, ck->name != NULL ? ck->name : "");
	if (type < 0)
		return set_error(errp, "plugin '%s' declares key '%s' with "
		    "an unknown type %d", plugin, ck->name, (int)ck->type);
	if (type == CONF_ENUM && (ck->choices == NULL ||
	    *ck->choices == '\0'))
		return set_error(errp, "plugin '%s' declares enum key '%s' "
		    "without choices", plugin, ck->name);
	if (ck->min > ck->max)
		return set_error(errp, "plugin '%s' declares key '%s' with "
		    "min %lld above max %lld", plugin, ck->name, ck->min,
		    ck->max);
	k.type = (enum conf_type)type;
	k.min = ck->min;
	k.max = ck->max;
	if (ck->min == 0 && ck->max == 0) {
		k.min = type == CONF_INT ? LLONG_MIN : 0;
		k.max = LLONG_MAX;
	}
	k.accepted = ck->choices;
	if (ck->def != NULL && conf_check(&k, ck->def, NULL, &def,
	    &why) != 0) {
		free(why);
		return set_error(errp, "plugin '%s' declares key '%s' with "
		    "a default '%s' its own type refuses", plugin, ck->name,
		    ck->def);
	}
	k.name = xasprintf("plugin.%s.%s", plugin, ck->name);
	k.env = conf_decl_env(k.name);
	k.def = def;
	k.accepted = ck->choices != NULL ? xstrdup(ck->choices) : NULL;
	k.help = xstrdup(ck->doc != NULL ? ck->doc : "");
	*out = k;
	return 0;
}

/* Warn about the keys of [plugin.NAME] that plugin NAME does not declare. */
static void
conf_decl_unknown(struct conf *conf, const char *plugin)
{
	struct conf_extra	*e;
	char			*prefix = xasprintf("plugin.%s.", plugin);
	const char		*best;
	size_t			 i, j, d, bestd;

	for (i = 0; i < conf->nextra; i++) {
		e = &conf->extra[i];
		if (strncmp(e->key, prefix, strlen(prefix)) != 0)
			continue;
		best = NULL;
		bestd = CONF_TYPOS + 1;
		for (j = 0; j < conf->ndecl; j++) {
			d = str_distance(e->key, strlen(e->key),
			    conf->decl[j].key.name,
			    strlen(conf->decl[j].key.name), CONF_TYPOS,
			    STR_DISTANCE_FOLD);
			if (d < bestd) {
				bestd = d;
				best = conf->decl[j].key.name;
			}
		}
		if (best != NULL)
			log_warn("%s: unknown key '%s' (did you mean '%s'?)",
			    e->origin, e->key, best);
		else
			log_warn("%s: unknown key '%s' (plugin %s declares "
			    "its keys: chiffon plugins lists them)",
			    e->origin, e->key, plugin);
	}
	free(prefix);
}

int
conf_declare(struct conf *conf, const char *plugin,
    const struct chiffon_config_key *keys, char **errp)
{
	const struct chiffon_config_key	*ck;
	struct conf_decl		*d;
	struct conf_extra		*e;
	struct conf_key			 k;
	const char			*env;
	size_t				 i, first = conf->ndecl;
	int				 rc = 0, from_file, broken = 0;

	for (i = 0; i < conf->nowners; i++) {
		if (strcmp(conf->owners[i], plugin) == 0)
			return 0;
	}
	for (ck = keys; ck != NULL && ck->name != NULL && rc == 0; ck++) {
		if (conf_decl_build(plugin, ck, &k, errp) != 0) {
			rc = -1;
			broken = 1;
			break;
		}
		if (conf_find_decl(conf, k.name) != NULL) {
			rc = set_error(errp, "plugin '%s' declares key '%s' "
			    "twice", plugin, ck->name);
			broken = 1;
			conf_decl_key_free(&k);
			break;
		}
		conf->decl = xreallocarray(conf->decl, conf->ndecl + 1,
		    sizeof *conf->decl);
		d = &conf->decl[conf->ndecl++];
		memset(d, 0, sizeof *d);
		d->key = k;
		d->value.value = k.def != NULL ? xstrdup(k.def) : NULL;

		/* The file's or a flag's value, then the environment's. */
		from_file = 1;
		for (i = 0; i < conf->nextra; i++) {
			e = &conf->extra[i];
			if (strcmp(e->key, k.name) != 0)
				continue;
			from_file = e->line > 0;
			rc = conf_apply_to(conf, &d->key, &d->value, e->value,
			    e->origin, e->line, NULL, errp);
			conf_drop_extra(conf, i);
			break;
		}
		if (rc == 0 && from_file && (env = getenv(k.env)) != NULL &&
		    *env != '\0')
			rc = conf_apply_to(conf, &d->key, &d->value, env,
			    k.env, 0, NULL, errp);
	}
	if (rc != 0) {
		/* Forget this plugin's keys: a later load checks again. */
		while (conf->ndecl > first) {
			d = &conf->decl[--conf->ndecl];
			conf_decl_key_free(&d->key);
			free(d->value.value);
			free(d->value.origin);
		}
		return broken ? -2 : -1;
	}
	conf->owners = xreallocarray(conf->owners, conf->nowners + 1,
	    sizeof *conf->owners);
	conf->owners[conf->nowners++] = xstrdup(plugin);
	conf_decl_unknown(conf, plugin);
	return 0;
}

char *
conf_describe(const struct conf *conf, const char *key, const char **type,
    const char **env)
{
	struct conf_decl	*d;
	int			 i;

	if ((i = conf_find(key)) >= 0) {
		if (type != NULL)
			*type = conf_type_names[conf_keys[i].type];
		if (env != NULL)
			*env = conf_keys[i].env;
		return conf_accepted(&conf_keys[i]);
	}
	if ((d = conf_find_decl(conf, key)) == NULL)
		return NULL;
	if (type != NULL)
		*type = conf_type_names[d->key.type];
	if (env != NULL)
		*env = d->key.env;
	return conf_accepted(&d->key);
}
