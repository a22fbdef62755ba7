/*
 * conf.c - chiffon.conf (INI, parsed by libinih) and its overrides.
 *
 * Every known key is one row of conf_keys below; its type says how a value
 * is checked and normalised.  Values are applied in order: built-in
 * defaults (conf_new), the configuration file and then CHIFFON_*
 * environment variables (conf_load), and command-line flags (conf_set).
 * Each value remembers where it came from for conf_origin.  Keys under
 * [plugin.NAME] sections are not checked and are kept as they are.
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

#include "conf.h"
#include "log.h"
#include "util.h"

#ifndef CHIFFON_SYSCONFDIR
#define CHIFFON_SYSCONFDIR "/etc"
#endif

/* How a key's value is checked and normalised. */
enum conf_type {
	CONF_STRING,	/* any text */
	CONF_PATH,	/* a file or directory, made absolute */
	CONF_PATHLIST,	/* colon-separated CONF_PATHs */
	CONF_PROGRAM,	/* a command name looked up in PATH, or a path */
	CONF_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CONF_INT,	/* integer within [min, max] */
	CONF_ENUM,	/* one of accepted ("a|b|c"); conf_get_int = index */
	CONF_DURATION,	/* "90", "90s", "1h30m", "2d"; [min, max] s */
	CONF_USD,	/* non-negative amount of US dollars */
	CONF_URL,	/* URL (scheme in accepted) or libpq conninfo */
	CONF_LIST,	/* "all" or a comma-separated list of names */
};

struct conf;

/*
 * One known key.  def is the built-in default (NULL: unset), or derive
 * computes it from other values (def_doc then says what it is, for the
 * manual).  min and max bound CONF_INT and CONF_DURATION (in seconds).
 * accepted lists CONF_ENUM values or CONF_URL schemes ("conninfo" allows a
 * libpq key=value string), separated by '|'.
 */
struct conf_key {
	const char	*name;
	const char	*env;
	const char	*def;
	char		*(*derive)(const struct conf *);
	enum conf_type	 type;
	long long	 min;
	long long	 max;
	const char	*accepted;
	const char	*help;
};

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

/* A configuration: one conf_value per row of conf_keys, plugin keys. */
struct conf {
	struct conf_value	*values;
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

static char	*conf_derive_data_dir(const struct conf *);
static char	*conf_derive_log_file(const struct conf *);
static char	*conf_derive_audit_repo(const struct conf *);

/*
 * The keys.  Add a key with one row here and one entry in
 * man/chiffon.conf.5.  core.data_dir must stay before the keys whose
 * defaults derive from it.
 */
static const struct conf_key conf_keys[] = {
	{ .name = "core.data_dir", .env = "CHIFFON_DATA_DIR",
	  .derive = conf_derive_data_dir, .type = CONF_PATH,
	  .help = "data directory: embedded database, log, audit repository" },

	{ .name = "db.url", .env = "CHIFFON_DB_URL", .type = CONF_URL,
	  .accepted = "postgresql|postgres|conninfo",
	  .help = "PostgreSQL server to use instead of the embedded cluster" },
	{ .name = "db.owner_url", .env = "CHIFFON_DB_OWNER_URL",
	  .type = CONF_URL, .accepted = "postgresql|postgres|conninfo",
	  .help = "the same server as the role that owns the schema and "
	  "runs migrations (db.url is then the runtime role)" },
	{ .name = "db.server_user", .env = "CHIFFON_DB_SERVER_USER",
	  .def = "postgres", .type = CONF_STRING,
	  .help = "account the embedded cluster runs as when chiffon is root" },
	{ .name = "db.reconnect_max", .env = "CHIFFON_DB_RECONNECT_MAX",
	  .def = "30s", .type = CONF_DURATION, .min = 1, .max = 3600,
	  .help = "longest wait between attempts to reconnect" },

	{ .name = "ansible.repo", .env = "CHIFFON_REPO", .type = CONF_PATH,
	  .help = "the Ansible repository (playbooks, roles, ansible.cfg)" },
	{ .name = "ansible.inventory", .env = "CHIFFON_INVENTORY",
	  .type = CONF_PATH,
	  .help = "inventory passed with -i (default: ansible.cfg decides)" },
	{ .name = "ansible.playbook", .env = "CHIFFON_ANSIBLE_PLAYBOOK",
	  .def = "ansible-playbook", .type = CONF_PROGRAM,
	  .help = "the ansible-playbook program" },
	{ .name = "ansible.timeout", .env = "CHIFFON_ANSIBLE_TIMEOUT",
	  .def = "1h", .type = CONF_DURATION, .min = 0, .max = 7 * 86400,
	  .help = "a run still going after this is stopped (0: never)" },
	{ .name = "ansible.lint", .env = "CHIFFON_ANSIBLE_LINT",
	  .def = "ansible-lint", .type = CONF_PROGRAM,
	  .help = "the ansible-lint program" },

	{ .name = "plugins.path", .env = "CHIFFON_PLUGIN_PATH",
	  .type = CONF_PATHLIST,
	  .help = "colon-separated directories searched for plugins" },
	{ .name = "plugins.load", .env = "CHIFFON_PLUGINS_LOAD", .def = "all",
	  .type = CONF_LIST,
	  .help = "plugins to load: all, or a comma-separated list of names" },

	{ .name = "log.level", .env = "CHIFFON_LOG_LEVEL", .def = "warning",
	  .type = CONF_ENUM, .accepted = "error|warning|info|debug",
	  .help = "least severe message logged" },
	{ .name = "log.file", .env = "CHIFFON_LOG_FILE",
	  .derive = conf_derive_log_file, .type = CONF_PATH,
	  .help = "file the log is appended to" },

	{ .name = "audit.repo", .env = "CHIFFON_AUDIT_REPO",
	  .derive = conf_derive_audit_repo, .type = CONF_PATH,
	  .help = "git repository of the audit trail" },

	{ .name = "dispatch.worker_name", .env = "CHIFFON_WORKER_NAME",
	  .type = CONF_STRING,
	  .help = "agent name of this process's worker (default: host name)" },
	{ .name = "dispatch.capacity", .env = "CHIFFON_DISPATCH_CAPACITY",
	  .def = "1", .type = CONF_INT, .min = 1, .max = 256,
	  .help = "tasks one worker runs at the same time" },
	{ .name = "dispatch.lease", .env = "CHIFFON_DISPATCH_LEASE",
	  .def = "60s", .type = CONF_DURATION, .min = 1, .max = 86400,
	  .help = "lease on a claimed task, renewed every third of it" },
	{ .name = "dispatch.poll", .env = "CHIFFON_DISPATCH_POLL",
	  .def = "2s", .type = CONF_DURATION, .min = 1, .max = 3600,
	  .help = "how often a worker looks at the queue without a NOTIFY" },
	{ .name = "dispatch.retry_backoff",
	  .env = "CHIFFON_DISPATCH_RETRY_BACKOFF", .def = "10s",
	  .type = CONF_DURATION, .min = 0, .max = 3600,
	  .help = "wait before a retry, doubled per attempt" },
	{ .name = "dispatch.agent_timeout",
	  .env = "CHIFFON_DISPATCH_AGENT_TIMEOUT", .def = "30s",
	  .type = CONF_DURATION, .min = 1, .max = 86400,
	  .help = "an agent without a heartbeat for this long is offline" },
	{ .name = "dispatch.min_capacity_percent",
	  .env = "CHIFFON_DISPATCH_MIN_CAPACITY_PERCENT", .def = "20",
	  .type = CONF_INT, .min = 0, .max = 100,
	  .help = "least free share of a resource an agent must have" },

	{ .name = "agent.id", .env = "CHIFFON_AGENT_ID",
	  .type = CONF_STRING,
	  .help = "agent id of `chiffon agent` (default: host name and "
	  "machine id)" },
	{ .name = "agent.pool", .env = "CHIFFON_AGENT_POOL", .def = "default",
	  .type = CONF_STRING,
	  .help = "pool the agent belongs to" },
	{ .name = "agent.labels", .env = "CHIFFON_AGENT_LABELS",
	  .type = CONF_STRING,
	  .help = "comma-separated labels of the agent" },
	{ .name = "agent.heartbeat", .env = "CHIFFON_AGENT_HEARTBEAT",
	  .def = "30s", .type = CONF_DURATION, .min = 1, .max = 3600,
	  .help = "how often the agent reports its metrics; silent for three "
	  "of these, it is offline" },
	{ .name = "agent.metrics_retention",
	  .env = "CHIFFON_AGENT_METRICS_RETENTION", .def = "7d",
	  .type = CONF_DURATION, .min = 3600, .max = 366 * 86400,
	  .help = "agent_metrics history kept by `chiffon db prune`" },

	{ .name = "llm.budget_daily_usd", .env = "CHIFFON_LLM_BUDGET_DAILY_USD",
	  .def = "0", .type = CONF_USD,
	  .help = "spending cap per day for the external LLM tier" },
	{ .name = "llm.budget_monthly_usd",
	  .env = "CHIFFON_LLM_BUDGET_MONTHLY_USD", .def = "0", .type = CONF_USD,
	  .help = "spending cap per month for the external LLM tier" },
	{ .name = "llm.local_provider", .env = "CHIFFON_LLM_LOCAL_PROVIDER",
	  .def = "none", .type = CONF_ENUM, .accepted = "none|ollama|openai",
	  .help = "wire format of the local model tier (none: no local tier)" },
	{ .name = "llm.local_url", .env = "CHIFFON_LLM_LOCAL_URL",
	  .def = "http://127.0.0.1:11434", .type = CONF_URL, .accepted = "http|https",
	  .help = "base URL of the local model server" },
	{ .name = "llm.local_model", .env = "CHIFFON_LLM_LOCAL_MODEL",
	  .type = CONF_STRING,
	  .help = "model name sent to the local tier" },
	{ .name = "llm.local_api_key_env", .env = "CHIFFON_LLM_LOCAL_API_KEY_ENV",
	  .type = CONF_STRING,
	  .help = "environment variable holding the local tier API key" },
	{ .name = "llm.local_price_input", .env = "CHIFFON_LLM_LOCAL_PRICE_INPUT",
	  .def = "0", .type = CONF_USD,
	  .help = "USD per million input tokens of the local tier" },
	{ .name = "llm.local_price_output", .env = "CHIFFON_LLM_LOCAL_PRICE_OUTPUT",
	  .def = "0", .type = CONF_USD,
	  .help = "USD per million output tokens of the local tier" },
	{ .name = "llm.local_price_cache_read", .env = "CHIFFON_LLM_LOCAL_PRICE_CACHE_READ",
	  .def = "0", .type = CONF_USD,
	  .help = "USD per million cache read tokens of the local tier" },
	{ .name = "llm.local_price_cache_write", .env = "CHIFFON_LLM_LOCAL_PRICE_CACHE_WRITE",
	  .def = "0", .type = CONF_USD,
	  .help = "USD per million cache write tokens of the local tier" },
	{ .name = "llm.external_provider", .env = "CHIFFON_LLM_EXTERNAL_PROVIDER",
	  .def = "none", .type = CONF_ENUM, .accepted = "none|anthropic|openai",
	  .help = "wire format of the external model tier (none: no external tier)" },
	{ .name = "llm.external_url", .env = "CHIFFON_LLM_EXTERNAL_URL",
	  .def = "https://api.anthropic.com", .type = CONF_URL, .accepted = "http|https",
	  .help = "base URL of the external model server" },
	{ .name = "llm.external_model", .env = "CHIFFON_LLM_EXTERNAL_MODEL",
	  .type = CONF_STRING,
	  .help = "model name sent to the external tier" },
	{ .name = "llm.external_api_key_env", .env = "CHIFFON_LLM_EXTERNAL_API_KEY_ENV",
	  .def = "ANTHROPIC_API_KEY", .type = CONF_STRING,
	  .help = "environment variable holding the external tier API key" },
	{ .name = "llm.external_price_input", .env = "CHIFFON_LLM_EXTERNAL_PRICE_INPUT",
	  .def = "3", .type = CONF_USD,
	  .help = "USD per million input tokens of the external tier" },
	{ .name = "llm.external_price_output", .env = "CHIFFON_LLM_EXTERNAL_PRICE_OUTPUT",
	  .def = "15", .type = CONF_USD,
	  .help = "USD per million output tokens of the external tier" },
	{ .name = "llm.external_price_cache_read", .env = "CHIFFON_LLM_EXTERNAL_PRICE_CACHE_READ",
	  .def = "0.30", .type = CONF_USD,
	  .help = "USD per million cache read tokens of the external tier" },
	{ .name = "llm.external_price_cache_write", .env = "CHIFFON_LLM_EXTERNAL_PRICE_CACHE_WRITE",
	  .def = "3.75", .type = CONF_USD,
	  .help = "USD per million cache write tokens of the external tier" },
	{ .name = "llm.timeout", .env = "CHIFFON_LLM_TIMEOUT",
	  .def = "30s", .type = CONF_DURATION, .min = 1, .max = 600,
	  .help = "longest wait for one model answer" },
	{ .name = "llm.ask_below_percent", .env = "CHIFFON_LLM_ASK_BELOW_PERCENT",
	  .def = "20", .type = CONF_INT, .min = 0, .max = 100,
	  .help = "ask before using the external tier when less budget is left" },
	{ .name = "llm.complex_words", .env = "CHIFFON_LLM_COMPLEX_WORDS",
	  .def = "40", .type = CONF_INT, .min = 1, .max = 10000,
	  .help = "requests longer than this many words count as complex" },
};
#define CONF_NKEYS nitems(conf_keys)

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
};

/* Boolean spellings: true ones at even, false ones at odd indexes. */
static const char *const conf_bool_words[] = {
	"yes", "no", "true", "false", "on", "off", "1", "0",
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

/*
 * Levenshtein distance, for did-you-mean; case-insensitive.  Above max it
 * stops counting and says max + 1: every edit path crosses each row, so
 * once a whole row exceeds max the distance does.
 */
static size_t
conf_distance(const char *a, const char *b, size_t max)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, d, low, *row;

	if (la > lb + max || lb > la + max)
		return max + 1;		/* at least the length difference */
	row = xreallocarray(NULL, lb + 1, sizeof *row);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t	diag = row[0];

		row[0] = low = i;
		for (j = 1; j <= lb; j++) {
			size_t	up = row[j], best;

			best = diag + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			if (best < low)
				low = best;
			diag = up;
		}
		if (low > max) {
			free(row);
			return max + 1;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

/*
 * The known key closest to an unknown one: within two edits, or the same
 * key name in another section.  NULL if none.
 */
static const char *
conf_suggest(const char *key)
{
	const char	*best = NULL, *dot = strrchr(key, '.'), *kdot;
	size_t		 i, d, bestd = 3;

	for (i = 0; i < CONF_NKEYS; i++) {
		d = conf_distance(key, conf_keys[i].name, 2);
		kdot = strrchr(conf_keys[i].name, '.');
		if (d > 2 && dot != NULL && strcasecmp(dot, kdot) == 0)
			d = 2;
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

static char *
conf_derive_data_dir(const struct conf *conf)
{
	(void)conf;
	return conf_default_data_dir(geteuid(), getenv("XDG_DATA_HOME"),
	    conf_home());
}

static char *
conf_derive_log_file(const struct conf *conf)
{
	const char	*dir = conf_get(conf, "core.data_dir");

	return dir != NULL ? path_join(dir, "chiffon.log") : NULL;
}

static char *
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
	}
	return -1;
}

/*
 * Set key i from origin (a "FILE:LINE", variable or flag name; line is the
 * file line or 0).  An empty value restores the default.
 */
static int
conf_apply(struct conf *conf, int i, const char *value, const char *origin,
    int line, const char *base, char **errp)
{
	const struct conf_key	*k = &conf_keys[i];
	struct conf_value	*v = &conf->values[i];
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
	char	*cwd;
	int	 i, rc;

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
	struct conf_extra	*e;
	int			 i;

	if ((i = conf_find(key)) >= 0)
		return conf->values[i].value;
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
	struct conf_extra	*e;
	int			 i;

	if ((i = conf_find(key)) >= 0) {
		return conf->values[i].origin != NULL ?
		    conf->values[i].origin : "default";
	}
	if ((e = conf_find_extra(conf, key)) != NULL)
		return e->origin;
	return NULL;
}

const char *
conf_data_dir(struct conf *conf)
{
	return conf_get(conf, "core.data_dir");
}
