/*
 * chiffon/plugin.h - the one header a chiffon capability plugin includes.
 *
 * A plugin is a shared object exporting exactly one symbol,
 * `chiffon_plugin_descriptor`, of type struct chiffon_plugin_descriptor.
 * The host dlopen()s it, checks the ABI numbers and the struct size, then
 * calls init() with a pointer to struct chiffon_host: the plugin's only way
 * into the host.  Everything a plugin registers through the host (capability
 * handlers, watched fds, timers, children) is released by the host when the
 * plugin is unloaded; the free_func of each user_data is called then.
 *
 * Versioning:
 *   CHIFFON_PLUGIN_ABI_MAJOR changes on any incompatible change; the loader
 *   refuses a plugin whose major differs from its own.
 *   CHIFFON_PLUGIN_ABI_MINOR grows when members are appended to
 *   struct chiffon_host or struct chiffon_plugin_descriptor; the loader
 *   refuses a plugin built against a newer minor than the host provides,
 *   and reads a descriptor member only when the plugin's minor and size
 *   include it.  A plugin may test host->abi_minor before using a member
 *   added after minor 0.
 *
 *   Minor 1: config_duration, config_bool.
 *   Minor 2: declared configuration keys (descriptor config_keys, checked
 *   by the host at start like its own keys), config_int, config_size,
 *   run_id, spawn_err (spawn that returns its reason).
 *
 * Ownership: strings passed to callbacks belong to the host and are valid
 * only for the duration of the call unless stated otherwise.  Strings the
 * plugin passes in are copied by the host.
 */
#ifndef CHIFFON_PLUGIN_H
#define CHIFFON_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHIFFON_PLUGIN_ABI_MAJOR 1
#define CHIFFON_PLUGIN_ABI_MINOR 2

/* The exported symbol the loader looks for. */
#define CHIFFON_PLUGIN_SYMBOL "chiffon_plugin_descriptor"

/* Opaque host-owned objects. */
struct chiffon_plugin;	/* one loaded plugin */
struct chiffon_task;	/* a task the host asks a capability to carry out */
struct chiffon_run;	/* one recorded execution (output lines + events) */
struct chiffon_child;	/* a child process started through host->spawn */

enum chiffon_log_level {
	CHIFFON_LOG_ERROR = 0,
	CHIFFON_LOG_WARNING = 1,
	CHIFFON_LOG_INFO = 2,
	CHIFFON_LOG_DEBUG = 3,
};

/* poll(2)-style event bits for watch_fd. */
#define CHIFFON_FD_READ  0x1
#define CHIFFON_FD_WRITE 0x2
#define CHIFFON_FD_ERROR 0x4

/* Streams of a run's output. */
enum chiffon_stream {
	CHIFFON_STREAM_STDOUT = 1,	/* a pty merges stdout and stderr */
	CHIFFON_STREAM_STDERR = 2,
	CHIFFON_STREAM_HOST = 3,	/* lines chiffon itself adds */
};

/*
 * Opaque data handed back to a callback.  When the registration is removed
 * (explicitly or because the plugin unloads) the host calls
 * free_func(data) if free_func is not NULL.
 */
struct chiffon_user_data {
	void	*data;
	void	(*free_func)(void *);
};

/* Callback types.  Returning non-zero from fd/timer callbacks removes them. */
typedef int (*chiffon_fd_cb)(int fd, int revents, void *data);
typedef int (*chiffon_timer_cb)(void *data);

/*
 * A capability handler.  Called by the host's worker when it has claimed a
 * task needing this capability.  The handler starts the work and returns
 * 0, or returns -1 after calling host->task_finish(task, "failed", ...).
 * The work completes later
 * with exactly one host->task_finish (asynchronous work stays in the event
 * loop: watch_fd, add_timer, spawn).
 */
typedef int (*chiffon_capability_fn)(struct chiffon_task *task, void *data);

/* Resources used by a finished child process tree (wait4). */
struct chiffon_rusage {
	double	wall_s;
	double	user_s;
	double	sys_s;
	long	maxrss_kb;
};

/* Child process callbacks (see spawn). */
struct chiffon_child_cbs {
	/* One output line (without the newline) of the pty / stdout. */
	void	(*on_line)(struct chiffon_child *, int stream,
		    const char *line, size_t len, void *data);
	/* One line from the extra event pipe (event_fd), without newline. */
	void	(*on_event_line)(struct chiffon_child *, const char *line,
		    size_t len, void *data);
	/*
	 * Exit: wait status as from waitpid(2), and the child tree's usage
	 * from wait4(2).  Called once, after every line has been delivered.
	 */
	void	(*on_exit)(struct chiffon_child *, int wstatus,
		    const struct chiffon_rusage *usage, void *data);
};

/* How to start a child.  argv[0] is looked up in PATH unless it has '/'. */
struct chiffon_spawn_opts {
	const char *const *argv;	/* NULL-terminated */
	const char *const *env_add;	/* "K=V" strings added to environ, or NULL */
	const char	*cwd;		/* working directory or NULL */
	int		 use_pty;	/* stdout+stderr through a pty */
	int		 event_fd;	/* if > 2: child gets a pipe write end on
					   this fd number; lines arrive through
					   on_event_line */
	unsigned	 pty_cols;	/* 0 = 160 */
};

/*
 * Declared configuration keys (MINOR >= 2).  A plugin lists the keys of
 * its [plugin.NAME] section in its descriptor; the host checks every
 * value set in the file, the environment or by conf_set with the grammar
 * and the messages of its own keys ("FILE:LINE: KEY: bad value 'V'
 * (accepted: ...)", exit status 2 at start), fills in the defaults,
 * warns about keys of the section the plugin does not declare, and lists
 * the keys in `chiffon plugins`.  config_get then returns the value in
 * its normal form (booleans "yes"/"no", enums in lower case).
 */
enum chiffon_config_type {
	CHIFFON_CONFIG_STRING = 1,	/* any text */
	CHIFFON_CONFIG_INT,		/* an integer in [min, max] */
	CHIFFON_CONFIG_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	CHIFFON_CONFIG_DURATION,	/* "90", "500ms", "1h30m", "1w"; seconds
					   in [min, max] */
	CHIFFON_CONFIG_SIZE,		/* "512", "64k", "10M", "2G" (1024-based);
					   bytes in [min, max] */
	CHIFFON_CONFIG_ENUM,		/* one of choices, in any case */
};

/*
 * One declared key.  An array of them ends with a row whose name is
 * NULL.  min == max == 0 means no bound (durations and sizes are never
 * negative).
 */
struct chiffon_config_key {
	const char		*name;		/* the key in [plugin.NAME]:
						   "lint_on_failure" */
	enum chiffon_config_type type;
	const char		*def;		/* default, in the type's
						   grammar; NULL: unset */
	long long		 min;
	long long		 max;
	const char		*choices;	/* ENUM: "a|b|c" */
	const char		*doc;		/* one line, for the listing */
};

/* Result rows of a host database query, row-major, NULL for SQL NULL. */
struct chiffon_db_result {
	int		  nrows;
	int		  ncols;
	const char	**values;	/* nrows * ncols */
	const char	**names;	/* ncols */
};
typedef void (*chiffon_db_cb)(const struct chiffon_db_result *res,
    const char *error, void *data);

/*
 * The host API.  Passed to init(); valid until end() returns.
 */
struct chiffon_host {
	uint32_t	abi_major;
	uint32_t	abi_minor;
	size_t		size;		/* sizeof(struct chiffon_host) */

	/* Log through the host (never to the terminal directly). */
	void	(*log)(struct chiffon_plugin *, int level, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

	/*
	 * Configuration lookup: "section.key".  Plugin keys live in section
	 * "plugin.NAME" and are passed as "plugin.NAME.key"; global keys
	 * (for example "ansible.repo") are readable too.  NULL if unset.
	 */
	const char *(*config_get)(struct chiffon_plugin *, const char *key);

	/* Register the handler for a capability name (for example "ansible"). */
	int	(*register_capability)(struct chiffon_plugin *, const char *name,
		    chiffon_capability_fn handler,
		    const struct chiffon_user_data *ud);

	/* Event loop.  Return an id > 0, or -1. */
	int	(*watch_fd)(struct chiffon_plugin *, int fd, int events,
		    chiffon_fd_cb cb, const struct chiffon_user_data *ud);
	int	(*add_timer)(struct chiffon_plugin *, uint64_t interval_ms,
		    chiffon_timer_cb cb, const struct chiffon_user_data *ud);
	void	(*remove)(struct chiffon_plugin *, int id);

	/*
	 * Start a child in its own process group (execve, never a shell).
	 * Returns NULL and logs the reason on failure.
	 */
	struct chiffon_child *(*spawn)(struct chiffon_plugin *,
		    const struct chiffon_spawn_opts *opts,
		    const struct chiffon_child_cbs *cbs,
		    const struct chiffon_user_data *ud);
	/* Send a signal to the child's process group. */
	int	(*child_signal)(struct chiffon_child *, int sig);
	pid_t	(*child_pid)(struct chiffon_child *);

	/* Task accessors and completion. */
	const char *(*task_id)(struct chiffon_task *);
	/* The task's parameters as a JSON object text (owned by the host). */
	const char *(*task_params)(struct chiffon_task *);
	/* Open a run for the task; its lines/events are recorded. */
	struct chiffon_run *(*run_begin)(struct chiffon_task *,
		    const char *kind, const char *meta_json);
	int	(*run_line)(struct chiffon_run *, int stream,
		    const char *line, size_t len);
	int	(*run_event)(struct chiffon_run *, const char *json, size_t len);
	/*
	 * status: "successful", "failed", "timeout" or "canceled".
	 * summary_json: a JSON object stored on the run.  Flushes everything.
	 */
	int	(*run_finish)(struct chiffon_run *, const char *status,
		    int exit_code, const char *summary_json,
		    const struct chiffon_rusage *usage);
	void	(*task_finish)(struct chiffon_task *, const char *status,
		    const char *result_json);
	/* Called when the user cancels: the handler must stop the work. */
	void	(*task_on_cancel)(struct chiffon_task *,
		    void (*cb)(struct chiffon_task *, void *), void *data);

	/*
	 * Database access through the host: parameters are always bound
	 * (PQexecParams), never interpolated.  Synchronous; keep it short.
	 * Returns 0 and calls cb with the rows, or -1 and calls cb with an
	 * error message.
	 */
	int	(*db_query)(struct chiffon_plugin *, const char *sql,
		    int nparams, const char *const *params,
		    chiffon_db_cb cb, void *data);

	/* MINOR >= 1: append only below this line. */

	/*
	 * Typed configuration values, read with the host's own grammar
	 * (chiffon.conf(5)), so a value means the same to the host and to
	 * every plugin.  config_duration: plain seconds or NUMBER UNIT pairs
	 * with units ms, s, m, h, d, w ("90s", "1h30m", "500ms", "1w").
	 * config_bool: yes/no, true/false, on/off, 1/0, in any case.
	 * Return 0 with *out set, 1 when the key is unset (*out untouched),
	 * -1 when the value does not parse (*out untouched).
	 */
	int	(*config_duration)(struct chiffon_plugin *, const char *key,
		    double *out);
	int	(*config_bool)(struct chiffon_plugin *, const char *key,
		    int *out);

	/* MINOR >= 2: append only below this line. */

	/*
	 * config_int: a decimal integer.  config_size: bytes, with the
	 * suffixes k, M, G, T (1024-based; "B", "KB", "KiB"... also read).
	 * Same return values as config_duration.
	 */
	int	(*config_int)(struct chiffon_plugin *, const char *key,
		    long long *out);
	int	(*config_size)(struct chiffon_plugin *, const char *key,
		    uint64_t *out);
	/*
	 * The runs.id (decimal text) of a run opened with run_begin, owned
	 * by the host and valid until run_finish; NULL when unknown.
	 */
	const char *(*run_id)(struct chiffon_run *);
	/*
	 * As spawn, but on failure the reason ("cannot run ansible-playbook:
	 * No such file or directory (not found in PATH; is it installed?)")
	 * is written to err (errlen bytes, always NUL-terminated when errlen
	 * > 0) and nothing is logged: the caller reports it.
	 */
	struct chiffon_child *(*spawn_err)(struct chiffon_plugin *,
		    const struct chiffon_spawn_opts *opts,
		    const struct chiffon_child_cbs *cbs,
		    const struct chiffon_user_data *ud, char *err,
		    size_t errlen);
};

/* The exported descriptor. */
struct chiffon_plugin_descriptor {
	uint32_t	 abi_major;
	uint32_t	 abi_minor;
	size_t		 size;		/* sizeof(struct chiffon_plugin_descriptor) */
	const char	*name;
	const char	*version;
	const char	*description;
	/* Return 0 on success; non-zero refuses the load (host frees all). */
	int	(*init)(struct chiffon_plugin *, const struct chiffon_host *);
	/* Called before unload; the host then frees all registrations. */
	void	(*end)(struct chiffon_plugin *);

	/* MINOR >= 2: append only below this line. */

	/* The keys of [plugin.NAME], or NULL (free-form, unchecked). */
	const struct chiffon_config_key *config_keys;
};

/* The size of a descriptor of minor 0 and 1, the least the loader takes. */
#define CHIFFON_PLUGIN_DESCRIPTOR_SIZE_0 \
	offsetof(struct chiffon_plugin_descriptor, config_keys)

/* Convenience for plugins: fill the descriptor's version fields. */
#define CHIFFON_PLUGIN_DESCRIPTOR_INIT \
	.abi_major = CHIFFON_PLUGIN_ABI_MAJOR, \
	.abi_minor = CHIFFON_PLUGIN_ABI_MINOR, \
	.size = sizeof(struct chiffon_plugin_descriptor)

#ifdef __cplusplus
}
#endif

#endif /* CHIFFON_PLUGIN_H */
