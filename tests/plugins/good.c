/*
 * good.c - a well-behaved test plugin ("good").  Capabilities:
 *   test.echo        finishes at once with its parameters
 *   test.async       finishes from a one-shot timer
 *   test.poke        writes a byte to its pipe, finishes when the fd watch
 *                    reads it
 *   test.config      finishes with config_get of plugin.test.greeting and
 *                    of an unset key
 *   test.log         logs "hello from good" at info level
 *   test.cancel      finishes only when canceled ("canceled")
 *   test.fail        returns -1 without finishing
 *   test.unfinished  never finishes, sets no cancel hook
 *   test.db          two db_query calls (rows with a NULL; an error)
 *   test.run         records a run: three lines, one event, finish;
 *                    finishes with {"rc": 0, "run_id": host->run_id}
 *   test.runopen     opens a run, writes a line, never finishes
 * It also keeps a periodic timer and a pipe fd watch.  Every free_func,
 * and end(), append a line to the file named by plugin.test.free_log so
 * the test can observe that the host released everything.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chiffon/plugin.h"

static const struct chiffon_host	*good_host;
static struct chiffon_plugin		*good_plugin;
static char				*good_log_path;
static int				 good_pipe[2] = { -1, -1 };
static struct chiffon_task		*good_poked;
static int				 good_pokes;

static void
good_note(const char *what)
{
	int	fd;

	if (good_log_path == NULL)
		return;
	fd = open(good_log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd == -1)
		return;
	if (write(fd, what, strlen(what)) < 0 || write(fd, "\n", 1) < 0)
		fprintf(stderr, "good: cannot write %s\n", good_log_path);
	close(fd);
}

/* free_func for every registration: data is the line to note. */
static void
good_free(void *data)
{
	good_note(data);
	free(data);
}

static void
good_free_fd(void *data)
{
	char	line[64];

	snprintf(line, sizeof line, "good free fd %d %d", good_pipe[0],
	    good_pipe[1]);
	good_note(line);
	close(good_pipe[0]);
	close(good_pipe[1]);
	good_pipe[0] = good_pipe[1] = -1;
	free(data);
}

static struct chiffon_user_data
good_ud(const char *line)
{
	struct chiffon_user_data	ud = { strdup(line), good_free };

	return ud;
}

static int
good_echo(struct chiffon_task *t, void *data)
{
	good_host->task_finish(t, "successful", good_host->task_params(t));
	return 0;
}

static int
good_async_fire(void *data)
{
	struct chiffon_task	*t = data;
	char			 buf[4096];

	snprintf(buf, sizeof buf, "{\"async\":true,\"params\":%s}",
	    good_host->task_params(t));
	good_host->task_finish(t, "successful", buf);
	return 1;	/* one shot */
}

static int
good_async(struct chiffon_task *t, void *data)
{
	struct chiffon_user_data	ud = { t, NULL };

	return good_host->add_timer(good_plugin, 1, good_async_fire, &ud) > 0 ?
	    0 : -1;
}

static int
good_readable(int fd, int revents, void *data)
{
	char	c, buf[64];

	if (read(fd, &c, 1) == 1)
		good_pokes++;
	if (good_poked != NULL) {
		snprintf(buf, sizeof buf, "{\"pokes\":%d}", good_pokes);
		good_host->task_finish(good_poked, "successful", buf);
		good_poked = NULL;
	}
	return 0;
}

static int
good_poke(struct chiffon_task *t, void *data)
{
	if (good_poked != NULL || write(good_pipe[1], "x", 1) != 1) {
		good_host->task_finish(t, "failed", "{\"error\":\"busy\"}");
		return -1;
	}
	good_poked = t;
	return 0;
}

static int
good_config(struct chiffon_task *t, void *data)
{
	const char	*greeting, *unset, *level;
	char		 buf[1024];

	greeting = good_host->config_get(good_plugin, "plugin.test.greeting");
	unset = good_host->config_get(good_plugin, "plugin.test.unset");
	level = good_host->config_get(good_plugin, "plugins.load");
	snprintf(buf, sizeof buf, "{\"greeting\":\"%s\",\"unset\":%s,"
	    "\"plugins.load\":\"%s\"}", greeting ? greeting : "(null)",
	    unset ? "\"set\"" : "null", level ? level : "(null)");
	good_host->task_finish(t, "successful", buf);
	return 0;
}

static int
good_log(struct chiffon_task *t, void *data)
{
	good_host->log(good_plugin, CHIFFON_LOG_INFO, "hello from %s", "good");
	good_host->task_finish(t, "successful", "{}");
	return 0;
}

static void
good_on_cancel(struct chiffon_task *t, void *data)
{
	good_host->task_finish(t, "canceled", "{\"canceled\":true}");
}

static int
good_cancel(struct chiffon_task *t, void *data)
{
	good_host->task_on_cancel(t, good_on_cancel, NULL);
	return 0;
}

static int
good_fail(struct chiffon_task *t, void *data)
{
	return -1;
}

static int
good_unfinished(struct chiffon_task *t, void *data)
{
	return 0;
}

/* Append s to buf as a JSON string (enough escaping for test text). */
static void
good_json_str(char *buf, size_t size, const char *s)
{
	size_t	n = strlen(buf);

	if (n + 2 >= size)
		return;
	buf[n++] = '"';
	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = (*s == '\n' || *s == '\t') ? ' ' : *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

static void
good_db_rows(const struct chiffon_db_result *r, const char *error,
    void *data)
{
	char	*buf = data;
	int	 j;

	if (error != NULL) {
		strcat(buf, "\"rows_error\":");
		good_json_str(buf, 4096, error);
		strcat(buf, ",");
		return;
	}
	snprintf(buf + strlen(buf), 4096 - strlen(buf),
	    "\"nrows\":%d,\"ncols\":%d,", r->nrows, r->ncols);
	for (j = 0; j < r->ncols && r->nrows == 1; j++) {
		good_json_str(buf, 4096, r->names[j]);
		strcat(buf, ":");
		if (r->values[j] == NULL)
			strcat(buf, "null");
		else
			good_json_str(buf, 4096, r->values[j]);
		strcat(buf, ",");
	}
}

static void
good_db_error(const struct chiffon_db_result *r, const char *error,
    void *data)
{
	char	*buf = data;

	strcat(buf, "\"error\":");
	good_json_str(buf, 4096, error != NULL ? error : "(none)");
	strcat(buf, ",");
}

static int
good_db(struct chiffon_task *t, void *data)
{
	const char	*params[] = { "41", "it's" };
	char		 buf[4096] = "{";
	int		 rc1, rc2;

	rc1 = good_host->db_query(good_plugin, "SELECT $1::int + 1 AS n, "
	    "NULL::text AS z, $2::text AS s", 2, params, good_db_rows, buf);
	rc2 = good_host->db_query(good_plugin, "SELECT * FROM "
	    "chiffon_no_such_table", 0, NULL, good_db_error, buf);
	snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
	    "\"rc1\":%d,\"rc2\":%d}", rc1, rc2);
	good_host->task_finish(t, "successful", buf);
	return 0;
}

static int
good_run(struct chiffon_task *t, void *data)
{
	static const char	*lines[] = { "line one", "line two", "" };
	const char		*ev = "{\"event\":\"runner_on_ok\","
				    "\"host\":\"h1\",\"task\":\"t1\"}";
	struct chiffon_run	*run;
	const char		*id;
	char			 buf[128];
	int			 rc = 0;
	size_t			 i;

	run = good_host->run_begin(t, "test", "{\"k\":1}");
	if (run == NULL) {
		good_host->task_finish(t, "failed",
		    "{\"error\":\"run_begin\"}");
		return -1;
	}
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		rc |= good_host->run_line(run, CHIFFON_STREAM_STDOUT, lines[i],
		    strlen(lines[i]));
	rc |= good_host->run_event(run, ev, strlen(ev));
	/* The run's own id, read before run_finish (minor 2). */
	id = good_host->run_id(run);
	snprintf(buf, sizeof buf, "{\"rc\":%d,\"run_id\":\"%s\"}", rc,
	    id != NULL ? id : "");
	rc |= good_host->run_finish(run, "successful", 0, "{\"ok\":true}",
	    NULL);
	if (rc != 0)
		snprintf(buf, sizeof buf, "{\"rc\":%d}", rc);
	good_host->task_finish(t, "successful", buf);
	return 0;
}

static int
good_runopen(struct chiffon_task *t, void *data)
{
	struct chiffon_run	*run;

	run = good_host->run_begin(t, "test", NULL);
	if (run == NULL)
		return -1;
	return good_host->run_line(run, CHIFFON_STREAM_STDOUT, "open", 4);
}

static int
good_tick(void *data)
{
	return 0;
}

static const struct {
	const char		*name;
	chiffon_capability_fn	 fn;
} good_caps[] = {
	{ "test.echo", good_echo },
	{ "test.async", good_async },
	{ "test.poke", good_poke },
	{ "test.config", good_config },
	{ "test.log", good_log },
	{ "test.cancel", good_cancel },
	{ "test.fail", good_fail },
	{ "test.unfinished", good_unfinished },
	{ "test.db", good_db },
	{ "test.run", good_run },
	{ "test.runopen", good_runopen },
};

static int
good_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud;
	const char			*path;
	char				 line[128];
	size_t				 i;

	good_host = host;
	good_plugin = p;
	path = host->config_get(p, "plugin.test.free_log");
	good_log_path = path != NULL ? strdup(path) : NULL;

	for (i = 0; i < sizeof good_caps / sizeof good_caps[0]; i++) {
		snprintf(line, sizeof line, "good free cap %s",
		    good_caps[i].name);
		ud = good_ud(line);
		if (host->register_capability(p, good_caps[i].name,
		    good_caps[i].fn, &ud) != 0) {
			good_free(ud.data);
			return -1;
		}
	}
	ud = good_ud("good free timer");
	if (host->add_timer(p, 1, good_tick, &ud) <= 0)
		return -1;
	if (pipe2(good_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	ud.data = strdup("fd");
	ud.free_func = good_free_fd;
	if (host->watch_fd(p, good_pipe[0], CHIFFON_FD_READ, good_readable,
	    &ud) <= 0)
		return -1;
	return 0;
}

static void
good_end(struct chiffon_plugin *p)
{
	good_note("good end");
	/* The host frees the rest; good_log_path is needed until then. */
}

/* Runs at dlclose, after every free_func. */
static void __attribute__((destructor))
good_fini(void)
{
	free(good_log_path);
	good_log_path = NULL;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "good",
	.version = "1.2.3",
	.description = "test plugin that behaves",
	.init = good_init,
	.end = good_end,
};
