/*
 * conf-table.h - the key table of chiffon.conf (conf-table.c), shared by
 * conf.c, which checks and stores values.  Internal to the configuration.
 */
#ifndef CHIFFON_CONF_TABLE_H
#define CHIFFON_CONF_TABLE_H

#include <stddef.h>

struct conf;

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
	CONF_SIZE,	/* bytes: "512", "64k", "10M", "2G"; [min, max] */
};

/*
 * One known key.  def is the built-in default (NULL: unset), or derive
 * computes it from other values (def_doc then says what it is, for the
 * manual).  min and max bound CONF_INT, CONF_DURATION (in seconds) and
 * CONF_SIZE (in bytes).
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

/* The known keys, in the order of the manual; conf_nkeys of them. */
extern const struct conf_key	conf_keys[];
extern const size_t		conf_nkeys;

/* Defaults computed from other values (conf.c). */
char	*conf_derive_data_dir(const struct conf *);
char	*conf_derive_log_file(const struct conf *);
char	*conf_derive_audit_repo(const struct conf *);

#endif
