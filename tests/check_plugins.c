/*
 * check_plugins.c - the plugin loader, the registry, the host API and
 * in-process invocation, against real test plugins (tests/plugins/)
 * copied into directories laid out per test: good ones, broken ones, a
 * symlink, a world-writable copy, a FIFO and (as root) a copy owned by
 * another user.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "pgtest.h"
#include "plugins.h"
#include "runlog.h"
#include "task.h"
#include "testutil.h"
#include "util.h"


/* Number of capabilities the good test plugin registers. */
#define GOOD_NCAPS 11

/* Per-test state (each test runs in its own forked process). */
static char		 tmpdir[] = "/tmp/chiffon-ckplug-XXXXXX";
static char		*dir_a, *dir_b, *free_log, *conf_path;
static struct app	 app;
static int		 app_used;

/* What a done callback saw. */
struct done_seen {
	int	 calls;
	char	*status;
	char	*result;
};

/* What the log sink saw. */
static struct {
	int	 calls;
	int	 level;
	char	*who;
	char	*msg;
} logged;

static char *
plugins_lib(const char *name)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");

	return xasprintf("%s/tests/plugins/.libs/%s.so", b ? b : ".", name);
}

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	size_t	 len;
	char	*data = read_file(from, &len);
	int	 fd;

	ck_assert_msg(data != NULL, "cannot read %s: %s (build the test "
	    "plugins: make check)", from, strerror(errno));
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(chmod(to, mode), 0);
	free(data);
}

static void
copy_plugin(const char *name, const char *dir, const char *as, mode_t mode)
{
	char	*from = plugins_lib(name);
	char	*to = xasprintf("%s/%s.so", dir, as != NULL ? as : name);

	copy_file(from, to, mode);
	free(from);
	free(to);
}

static char *
in_a(const char *file)
{
	return path_join(dir_a, file);
}

static void
setup(void)
{
	char	*p, *q;
	FILE	*f;

	strcpy(tmpdir, "/tmp/chiffon-ckplug-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	dir_a = path_join(tmpdir, "a");
	dir_b = path_join(tmpdir, "b");
	free_log = path_join(tmpdir, "free.log");
	conf_path = path_join(tmpdir, "chiffon.conf");
	ck_assert_int_eq(mkdir(dir_a, 0755), 0);
	ck_assert_int_eq(mkdir(dir_b, 0755), 0);

	copy_plugin("good", dir_a, NULL, 0755);
	copy_plugin("no_symbol", dir_a, NULL, 0755);
	copy_plugin("abi_major", dir_a, NULL, 0755);
	copy_plugin("abi_minor_newer", dir_a, NULL, 0755);
	copy_plugin("small_size", dir_a, NULL, 0755);
	copy_plugin("init_fails", dir_a, NULL, 0755);
	copy_plugin("no_init", dir_a, NULL, 0755);
	copy_plugin("good", dir_a, "world", 0666);
	copy_plugin("dup_name", dir_b, NULL, 0755);
	copy_plugin("dup_cap", dir_b, NULL, 0755);
	p = in_a("good.so");
	q = in_a("link.so");
	ck_assert_int_eq(symlink(p, q), 0);
	free(p);
	free(q);
	p = in_a("fifo.so");
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	free(p);
	if (geteuid() == 0) {
		copy_plugin("good", dir_a, "owner", 0755);
		p = in_a("owner.so");
		ck_assert_int_eq(chown(p, 12345, 12345), 0);
		free(p);
	}

	f = fopen(conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[plugins]\npath = %s:%s\n\n[plugin.test]\n"
	    "free_log = %s\ngreeting = hello plugins\n", dir_a, dir_b,
	    free_log);
	fclose(f);

	unsetenv("CHIFFON_PLUGIN_PATH");
	unsetenv("CHIFFON_PLUGINS_LOAD");
	unsetenv("CHIFFON_CONFIG");
	memset(&app, 0, sizeof app);
	app_used = 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
teardown(void)
{
	if (app_used)
		app_free(&app);
	log_set_sink(NULL, NULL);
	log_set_level(CHIFFON_LOG_WARNING);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir_a);
	free(dir_b);
	free(free_log);
	free(conf_path);
}

/*
 * The test plugins' names: tests load only these so that plugins installed
 * in the built-in directory cannot interfere (except where "all" is used).
 */
#define TEST_LOAD "good,dupcap,initfails"

/* Load the plugins with plugins.load = load_value (NULL: TEST_LOAD). */
static struct plugins *
load(const char *load_value)
{
	char	*err = NULL;

	if (load_value == NULL)
		load_value = TEST_LOAD;
	app.conf = conf_new();
	app.argv0 = "check_plugins";
	app_used = 1;
	ck_assert_msg(conf_load(app.conf, conf_path, &err) == 0, "%s", err);
	ck_assert_msg(conf_set(app.conf, "plugins.load", load_value, "test",
	    &err) == 0, "%s", err);
	return app_plugins(&app);
}

static const struct plugins_refusal *
refusal_of(struct plugins *ps, const char *file)
{
	size_t	i;

	for (i = 0; i < plugins_nrefused(ps); i++) {
		if (strcmp(plugins_refusal_at(ps, i)->file, file) == 0)
			return plugins_refusal_at(ps, i);
	}
	return NULL;
}

static char *
free_log_text(void)
{
	char	*s = read_file(free_log, NULL);

	return s != NULL ? s : xstrdup("");
}

static void
done_cb(const char *status, const char *result, void *data)
{
	struct done_seen	*d = data;

	d->calls++;
	free(d->status);
	free(d->result);
	d->status = xstrdup(status);
	d->result = xstrdup(result);
}

static void
done_free(struct done_seen *d)
{
	free(d->status);
	free(d->result);
}

static void
log_capture(int level, const char *who, const char *msg, void *data)
{
	logged.calls++;
	logged.level = level;
	free(logged.who);
	free(logged.msg);
	logged.who = xstrdup(who != NULL ? who : "(null)");
	logged.msg = xstrdup(msg);
}

static struct json_object *
parse(const char *text)
{
	struct json_object	*o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "not JSON: %s", text);
	return o;
}

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object	*v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member %s",
	    key);
	return v;
}

/* ---------------------------------------------------------------- */

START_TEST(test_loads_good)
{
	struct plugins			*ps = load("all");
	struct chiffon_plugin		*p = plugins_find(ps, "good");
	const struct plugins_capability	*c;
	const char *const		*dirs;
	unsigned			 major, minor;
	char				*file = in_a("good.so");
	size_t				 i, ncaps = 0;

	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(plugins_file(p), file);
	ck_assert_str_eq(plugins_version(p), "1.2.3");
	ck_assert_str_eq(plugins_description(p), "test plugin that behaves");
	plugins_abi(p, &major, &minor);
	ck_assert_uint_eq(major, CHIFFON_PLUGIN_ABI_MAJOR);
	ck_assert_uint_eq(minor, CHIFFON_PLUGIN_ABI_MINOR);
	for (i = 0; i < plugins_ncapabilities(ps); i++) {
		c = plugins_capability_at(ps, i);
		if (c->plugin == p)
			ncaps++;
	}
	ck_assert_uint_eq(ncaps, GOOD_NCAPS);
	c = plugins_capability(ps, "test.echo");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(c->plugin, p);
	/* None of the broken ones made it. */
	ck_assert_ptr_null(plugins_find(ps, "nosymbol"));
	ck_assert_ptr_null(plugins_find(ps, "abimajor"));
	ck_assert_ptr_null(plugins_find(ps, "abiminor"));
	ck_assert_ptr_null(plugins_find(ps, "smallsize"));
	ck_assert_ptr_null(plugins_find(ps, "initfails"));
	ck_assert_ptr_null(plugins_find(ps, "dupcap"));
	ck_assert_ptr_null(plugins_find(ps, "noinit"));
	ck_assert_ptr_null(plugins_capability(ps, "test.never"));
	/* Search path: $CHIFFON_PLUGIN_PATH (unset), plugins.path, built-in. */
	ck_assert_uint_ge(plugins_search_path(ps, &dirs), 3);
	ck_assert_str_eq(dirs[0], dir_a);
	ck_assert_str_eq(dirs[1], dir_b);
	ck_assert_str_eq(dirs[2], CHIFFON_PLUGIN_DIR);
	free(file);
}
END_TEST

/* Each refused file is named with its reason. */
static const struct {
	const char	*dir;	/* "a" or "b" */
	const char	*file;
	const char	*reason1;
	const char	*reason2;
	int		 root_only;
} refusals[] = {
	{ "a", "no_symbol.so", "has no symbol", "chiffon_plugin_descriptor",
	  0 },
	{ "a", "abi_major.so", "ABI 2.0", "major version differs", 0 },
	{ "a", "abi_minor_newer.so", "ABI 1.3", "newer than", 0 },
	{ "a", "small_size.so", "descriptor size", "smaller than expected", 0 },
	{ "a", "no_init.so", "no init function", "", 0 },
	{ "a", "init_fails.so", "init() of plugin 'initfails' failed",
	  "returned 7", 0 },
	{ "a", "link.so", "symbolic link", "", 0 },
	{ "a", "world.so", "writable by group or others", "0666", 0 },
	{ "a", "fifo.so", "not a regular file", "", 0 },
	{ "a", "owner.so", "owned by uid 12345", "not by root", 1 },
	{ "b", "dup_name.so", "plugin name 'good' is already taken by",
	  "/a/good.so", 0 },
	{ "b", "dup_cap.so", "capability 'test.echo' is already registered",
	  "plugin 'good'", 0 },
};

START_TEST(test_refusals)
{
	struct plugins			*ps = load("all");
	const struct plugins_refusal	*r;
	char				*file;
	size_t				 i, expected = 0;

	for (i = 0; i < nitems(refusals); i++) {
		if (refusals[i].root_only && geteuid() != 0)
			continue;
		expected++;
		file = path_join(*refusals[i].dir == 'a' ? dir_a : dir_b,
		    refusals[i].file);
		r = refusal_of(ps, file);
		ck_assert_msg(r != NULL, "%s was not refused", file);
		ck_assert_msg(strstr(r->reason, refusals[i].reason1) != NULL &&
		    strstr(r->reason, refusals[i].reason2) != NULL,
		    "%s: unexpected reason: %s", file, r->reason);
		free(file);
	}
	/* good.so is not refused; nothing else in a/ or b/ is missing. */
	file = in_a("good.so");
	ck_assert_ptr_null(refusal_of(ps, file));
	free(file);
	for (i = 0; i < plugins_nrefused(ps); i++) {
		r = plugins_refusal_at(ps, i);
		if (strncmp(r->file, tmpdir, strlen(tmpdir)) == 0)
			expected--;
	}
	ck_assert_uint_eq(expected, 0);
}
END_TEST

START_TEST(test_load_file_error)
{
	struct plugins	*ps = load(NULL);
	char		*file = in_a("abi_major.so"), *err = NULL, *head;
	size_t		 before = plugins_nrefused(ps);

	ck_assert_int_eq(plugins_load_file(ps, file, &err), -1);
	head = xasprintf("%s: was built for plugin ABI 2.0", file);
	ck_assert_msg(strncmp(err, head, strlen(head)) == 0, "%s", err);
	ck_assert_uint_eq(plugins_nrefused(ps), before + 1);
	free(err);
	free(head);
	/* Loading good.so a second time is a duplicate name. */
	free(file);
	file = in_a("good.so");
	ck_assert_int_eq(plugins_load_file(ps, file, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "already taken"));
	free(err);
	free(file);
}
END_TEST

START_TEST(test_refused_plugins_freed)
{
	char	*text;

	load(NULL);
	text = free_log_text();
	/* init() failed: its registrations freed, end() not called. */
	ck_assert_ptr_nonnull(strstr(text, "initfails free cap\n"));
	ck_assert_ptr_nonnull(strstr(text, "initfails free timer\n"));
	/* Refused after a successful init(): end() then the frees. */
	ck_assert_ptr_nonnull(strstr(text, "dupcap end\ndupcap free timer\n"));
	ck_assert_ptr_null(strstr(text, "dupcap free cap"));
	/* Nothing of good freed while it is loaded. */
	ck_assert_ptr_null(strstr(text, "good "));
	free(text);
}
END_TEST

START_TEST(test_load_selection)
{
	struct plugins			*ps = load("good, missing");
	const struct plugins_refusal	*r;
	char				*file, *text;

	ck_assert_ptr_nonnull(plugins_find(ps, "good"));
	/* Not selected: never initialised, not refused either. */
	file = in_a("init_fails.so");
	ck_assert_ptr_null(refusal_of(ps, file));
	free(file);
	text = free_log_text();
	ck_assert_ptr_null(strstr(text, "initfails"));
	ck_assert_ptr_null(strstr(text, "dupcap"));
	free(text);
	/* File checks still apply to every file. */
	file = in_a("abi_major.so");
	ck_assert_ptr_nonnull(refusal_of(ps, file));
	free(file);
	r = refusal_of(ps, "plugins.load");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r->reason, "'missing'"));
}
END_TEST

START_TEST(test_invoke_echo)
{
	struct done_seen	 d = { 0 };
	char			*err = NULL;
	const char		*params = "{\"a\":[1,2],\"b\":\"x\"}";

	load(NULL);
	ck_assert_int_eq(host_invoke(&app, "test.echo", params, done_cb, &d,
	    &err), 0);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_str_eq(d.status, "successful");
	ck_assert_str_eq(d.result, params);
	ck_assert_uint_eq(host_ntasks(), 0);
	done_free(&d);
}
END_TEST

START_TEST(test_invoke_errors)
{
	struct done_seen	 d = { 0 };
	char			*err = NULL;

	load(NULL);
	ck_assert_int_eq(host_invoke(&app, "test.nope", "{}", done_cb, &d,
	    &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "'test.nope'"));
	free(err);
	ck_assert_int_eq(host_invoke(&app, "test.echo", "[1]", done_cb, &d,
	    &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a JSON object"));
	free(err);
	ck_assert_int_eq(host_invoke(&app, "test.echo", "{", done_cb, &d,
	    &err), -1);
	free(err);
	ck_assert_int_eq(d.calls, 0);
	/* A handler failing without a result still completes the task. */
	ck_assert_int_eq(host_invoke(&app, "test.fail", NULL, done_cb, &d,
	    &err), 0);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_str_eq(d.status, "failed");
	ck_assert_ptr_nonnull(strstr(d.result, "failed without a result"));
	ck_assert_uint_eq(host_ntasks(), 0);
	done_free(&d);
}
END_TEST

START_TEST(test_invoke_sync_timer)
{
	struct json_object	*o;
	char			*status, *result, *err = NULL;

	load(NULL);
	ck_assert_msg(host_invoke_sync(&app, "test.async", "{\"n\":5}", 60000,
	    &status, &result, &err) == 0, "%s", err);
	ck_assert_str_eq(status, "successful");
	o = parse(result);
	ck_assert(json_object_get_boolean(member(o, "async")));
	ck_assert_int_eq(json_object_get_int(member(member(o, "params"),
	    "n")), 5);
	json_object_put(o);
	free(status);
	free(result);
}
END_TEST

START_TEST(test_fd_watch)
{
	char	*status, *result, *err = NULL;

	load(NULL);
	ck_assert_msg(host_invoke_sync(&app, "test.poke", NULL, 60000,
	    &status, &result, &err) == 0, "%s", err);
	ck_assert_str_eq(status, "successful");
	ck_assert_str_eq(result, "{\"pokes\":1}");
	free(status);
	free(result);
	ck_assert_msg(host_invoke_sync(&app, "test.poke", NULL, 60000,
	    &status, &result, &err) == 0, "%s", err);
	ck_assert_str_eq(result, "{\"pokes\":2}");
	free(status);
	free(result);
}
END_TEST

START_TEST(test_config_get)
{
	struct json_object	*o;
	char			*status, *result, *err = NULL;

	load(NULL);
	ck_assert_msg(host_invoke_sync(&app, "test.config", NULL, 60000,
	    &status, &result, &err) == 0, "%s", err);
	o = parse(result);
	ck_assert_str_eq(json_object_get_string(member(o, "greeting")),
	    "hello plugins");
	ck_assert(json_object_is_type(member(o, "unset"), json_type_null));
	ck_assert_str_eq(json_object_get_string(member(o, "plugins.load")),
	    TEST_LOAD);
	json_object_put(o);
	free(status);
	free(result);
}
END_TEST

START_TEST(test_log)
{
	struct done_seen	 d = { 0 };
	char			*err = NULL;

	load(NULL);
	log_set_level(CHIFFON_LOG_DEBUG);
	log_set_sink(log_capture, NULL);
	ck_assert_int_eq(host_invoke(&app, "test.log", NULL, done_cb, &d,
	    &err), 0);
	ck_assert_int_eq(logged.calls, 1);
	ck_assert_int_eq(logged.level, CHIFFON_LOG_INFO);
	ck_assert_str_eq(logged.who, "good");
	ck_assert_str_eq(logged.msg, "hello from good");
	done_free(&d);
	free(logged.who);
	free(logged.msg);
}
END_TEST

START_TEST(test_cancel)
{
	struct done_seen	 d = { 0 };
	struct chiffon_task	*t = NULL;
	char			*status, *result, *err = NULL;

	load(NULL);
	ck_assert_int_eq(host_invoke_task(&app, "17", "test.cancel", NULL,
	    done_cb, &d, &t, &err), 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(d.calls, 0);
	ck_assert_uint_eq(host_ntasks(), 1);
	ck_assert_ptr_eq(host_task_find("17"), t);
	ck_assert_str_eq(task_params(t), "{}");
	ck_assert_int_eq(host_cancel(t), 0);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_str_eq(d.status, "canceled");
	ck_assert_ptr_null(host_task_find("17"));
	ck_assert_uint_eq(host_ntasks(), 0);
	done_free(&d);

	/* The synchronous helper cancels when its time is up. */
	ck_assert_msg(host_invoke_sync(&app, "test.cancel", NULL, 1,
	    &status, &result, &err) == 0, "%s", err);
	ck_assert_str_eq(status, "canceled");
	free(status);
	free(result);
}
END_TEST

START_TEST(test_unload)
{
	struct plugins		*ps = load(NULL);
	struct done_seen	 d = { 0 };
	char			*text, *p, *file, *err = NULL;
	int			 rfd = -1, wfd = -1, ncap = 0;

	ck_assert_int_eq(host_invoke_task(&app, "99", "test.unfinished", NULL,
	    done_cb, &d, NULL, &err), 0);
	ck_assert_int_eq(d.calls, 0);

	ck_assert_int_eq(plugins_unload(ps, "good", &err), 0);
	/* The unfinished task was failed. */
	ck_assert_int_eq(d.calls, 1);
	ck_assert_str_eq(d.status, "failed");
	ck_assert_ptr_nonnull(strstr(d.result, "unloaded"));
	ck_assert_uint_eq(host_ntasks(), 0);
	/* end() first, then every free_func. */
	text = free_log_text();
	p = strstr(text, "good end\n");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(strstr(text, "good free"));
	ck_assert(strstr(text, "good free") > p);
	ck_assert_ptr_nonnull(strstr(p, "good free timer\n"));
	for (p = text; (p = strstr(p, "good free cap test.")) != NULL; p++)
		ncap++;
	ck_assert_int_eq(ncap, GOOD_NCAPS);
	p = strstr(text, "good free fd ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "good free fd %d %d", &rfd, &wfd), 2);
	ck_assert_int_ge(rfd, 0);
	/* The plugin closed its pipe in the free_func: fds are gone. */
	ck_assert_int_eq(fcntl(rfd, F_GETFD), -1);
	ck_assert_int_eq(fcntl(wfd, F_GETFD), -1);
	free(text);
	/* Capabilities, loop registrations: nothing left to run. */
	ck_assert_ptr_null(plugins_find(ps, "good"));
	ck_assert_ptr_null(plugins_capability(ps, "test.echo"));
	ck_assert_int_eq(loop_run_once(app_loop(&app), 5), 0);
	ck_assert_int_eq(plugins_unload(ps, "good", &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "good"));
	free(err);
	done_free(&d);

	/* And it loads again, working. */
	file = in_a("good.so");
	ck_assert_msg(plugins_load_file(ps, file, &err) == 0, "%s", err);
	free(file);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(host_invoke(&app, "test.echo", "{\"again\":1}",
	    done_cb, &d, &err), 0);
	ck_assert_str_eq(d.result, "{\"again\":1}");
	done_free(&d);
}
END_TEST

START_TEST(test_free_all)
{
	char	*text;

	load(NULL);
	app_free(&app);
	app_used = 0;
	text = free_log_text();
	ck_assert_ptr_nonnull(strstr(text, "good end\n"));
	ck_assert_ptr_nonnull(strstr(text, "good free timer\n"));
	ck_assert_ptr_nonnull(strstr(text, "good free fd "));
	free(text);
}
END_TEST

/* Run `chiffon plugins` with stdout in a file; return what it printed. */
/* The object of plugin name in `chiffon plugins --json`, or NULL. */
static struct json_object *
plugin_json(struct json_object *top, const char *name)
{
	struct json_object	*list = member(top, "plugins"), *e;
	size_t			 i;

	for (i = 0; i < json_object_array_length(list); i++) {
		e = json_object_array_get_idx(list, i);
		if (strcmp(json_object_get_string(member(e, "name")),
		    name) == 0)
			return e;
	}
	return NULL;
}

static char *
run_cmd(int json, int *rcp)
{
	char	*argv[] = { "plugins", json ? "--json" : NULL, NULL };
	char	*out = path_join(tmpdir, "stdout"), *text;
	int	 saved, fd;

	fflush(stdout);
	saved = dup(1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ne(fd, -1);
	dup2(fd, 1);
	close(fd);
	optind = 0;
	*rcp = cmd_plugins_entry.exec(&app, json ? 2 : 1, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	text = read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	free(out);
	return text;
}

START_TEST(test_cmd_json)
{
	struct json_object	*o, *list, *e, *good = NULL, *link = NULL;
	char			*text, *file;
	size_t			 i;
	int			 rc;

	load(NULL);
	text = run_cmd(1, &rc);
	ck_assert_int_eq(rc, EXIT_OK);
	o = parse(text);
	good = plugin_json(o, "good");
	ck_assert_ptr_nonnull(good);
	ck_assert_str_eq(json_object_get_string(member(good, "version")),
	    "1.2.3");
	ck_assert_str_eq(json_object_get_string(member(good, "abi")), "1.2");
	ck_assert_int_eq(json_object_array_length(member(good,
	    "capabilities")), GOOD_NCAPS);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
	    member(good, "capabilities"), 0)), "test.echo");
	file = in_a("good.so");
	ck_assert_str_eq(json_object_get_string(member(good, "file")), file);
	free(file);
	file = in_a("link.so");
	list = member(o, "refused");
	for (i = 0; i < json_object_array_length(list); i++) {
		e = json_object_array_get_idx(list, i);
		if (strcmp(json_object_get_string(member(e, "file")),
		    file) == 0)
			link = e;
	}
	ck_assert_ptr_nonnull(link);
	ck_assert_ptr_nonnull(strstr(json_object_get_string(member(link,
	    "reason")), "symbolic link"));
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
	    member(o, "search_path"), 0)), dir_a);
	free(file);
	json_object_put(o);
	free(text);
}
END_TEST

START_TEST(test_cmd_table)
{
	char	*text, *line;
	int	 rc;

	load(NULL);
	text = run_cmd(0, &rc);
	ck_assert_int_eq(rc, EXIT_OK);
	ck_assert_ptr_nonnull(strstr(text, "NAME"));
	ck_assert_ptr_nonnull(strstr(text, "CAPABILITIES"));
	line = strstr(text, "\ngood ");
	ck_assert_msg(line != NULL, "%s", text);
	ck_assert_ptr_nonnull(strstr(line, "1.2.3"));
	ck_assert_ptr_nonnull(strstr(line, "test.echo, test.async"));
	ck_assert_ptr_nonnull(strstr(text, "\nrefused:\n"));
	ck_assert_ptr_nonnull(strstr(text, "world.so: is writable by group "
	    "or others"));
	ck_assert_ptr_nonnull(strstr(text, "\nsearch path: "));
	free(text);
}
END_TEST

/* -- with a real database ------------------------------------------------ */


/* Load the plugins and point the app at a fresh database.  Caller frees. */
static char *
load_with_db(const char *dbname)
{
	char	*conninfo, *err = NULL;

	load(NULL);
	conninfo = pgtest_new_db(testutil_cluster(), dbname, &err);
	ck_assert_msg(conninfo != NULL, "pgtest_new_db: %s", err);
	ck_assert_msg(conf_set(app.conf, "db.url", conninfo, "test",
	    &err) == 0, "%s", err);
	return conninfo;
}

/* One-row query through a separate connection; caller clears. */
static PGresult *
db_row(const char *conninfo, const char *sql, const char *arg)
{
	PGconn		*c = PQconnectdb(conninfo);
	PGresult	*r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexecParams(c, sql, arg != NULL ? 1 : 0, NULL, &arg, NULL, NULL,
	    0);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
	    PQresultErrorMessage(r));
	PQfinish(c);
	return r;
}

static void
run_seen(struct runlog *rl, struct chiffon_task *t, void *data)
{
	char	**idp = data;

	free(*idp);
	*idp = xstrdup(runlog_id(rl));
}

START_TEST(test_db_query)
{
	struct json_object	*o;
	char			*conninfo = load_with_db("plugins_query");
	char			*status, *result, *err = NULL;

	ck_assert_msg(host_invoke_sync(&app, "test.db", NULL, 60000, &status,
	    &result, &err) == 0, "%s", err);
	o = parse(result);
	ck_assert_int_eq(json_object_get_int(member(o, "rc1")), 0);
	ck_assert_int_eq(json_object_get_int(member(o, "nrows")), 1);
	ck_assert_int_eq(json_object_get_int(member(o, "ncols")), 3);
	ck_assert_str_eq(json_object_get_string(member(o, "n")), "42");
	ck_assert(json_object_is_type(member(o, "z"), json_type_null));
	ck_assert_str_eq(json_object_get_string(member(o, "s")), "it's");
	ck_assert_int_eq(json_object_get_int(member(o, "rc2")), -1);
	ck_assert_ptr_nonnull(strstr(json_object_get_string(member(o,
	    "error")), "chiffon_no_such_table"));
	json_object_put(o);
	free(status);
	free(result);
	free(conninfo);
}
END_TEST

START_TEST(test_run_record)
{
	PGresult	*r;
	char		*conninfo = load_with_db("plugins_run");
	char		*status, *result, *err = NULL, *run_id = NULL, *want;

	host_on_run(run_seen, &run_id);
	ck_assert_msg(host_invoke_sync(&app, "test.run", NULL, 60000, &status,
	    &result, &err) == 0, "%s", err);
	ck_assert_str_eq(status, "successful");
	ck_assert_ptr_nonnull(run_id);
	/* host->run_id gave the plugin the id of the row it wrote. */
	want = xasprintf("{\"rc\":0,\"run_id\":\"%s\"}", run_id);
	ck_assert_str_eq(result, want);
	free(want);
	r = db_row(conninfo, "SELECT status, exit_code, summary->>'ok', kind, "
	    "meta->>'k', lines, events FROM runs WHERE id = $1", run_id);
	ck_assert_int_eq(PQntuples(r), 1);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "successful");
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "0");
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "true");
	ck_assert_str_eq(PQgetvalue(r, 0, 3), "test");
	ck_assert_str_eq(PQgetvalue(r, 0, 4), "1");
	ck_assert_str_eq(PQgetvalue(r, 0, 5), "3");
	ck_assert_str_eq(PQgetvalue(r, 0, 6), "1");
	PQclear(r);
	r = db_row(conninfo, "SELECT string_agg(line, '|' ORDER BY seq) "
	    "FROM run_output WHERE run_id = $1", run_id);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "line one|line two|");
	PQclear(r);
	r = db_row(conninfo, "SELECT event, host, task FROM run_events "
	    "WHERE run_id = $1", run_id);
	ck_assert_int_eq(PQntuples(r), 1);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "runner_on_ok");
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "h1");
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "t1");
	PQclear(r);
	host_on_run(NULL, NULL);
	free(status);
	free(result);
	free(run_id);
	free(conninfo);
}
END_TEST

START_TEST(test_run_unload)
{
	struct done_seen	 d = { 0 };
	PGresult		*r;
	char			*conninfo = load_with_db("plugins_unload");
	char			*err = NULL, *run_id = NULL;

	host_on_run(run_seen, &run_id);
	ck_assert_msg(host_invoke(&app, "test.runopen", NULL, done_cb, &d,
	    &err) == 0, "%s", err);
	ck_assert_int_eq(d.calls, 0);
	ck_assert_ptr_nonnull(run_id);
	ck_assert_int_eq(plugins_unload(app.plugins, "good", &err), 0);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_str_eq(d.status, "failed");
	r = db_row(conninfo, "SELECT r.status, o.line FROM runs r JOIN "
	    "run_output o ON o.run_id = r.id WHERE r.id = $1", run_id);
	ck_assert_int_eq(PQntuples(r), 1);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "canceled");
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "open");
	PQclear(r);
	host_on_run(NULL, NULL);
	done_free(&d);
	free(run_id);
	free(conninfo);
}
END_TEST

/* --- declared configuration keys (ABI minor 2) -------------------------- */

/* Every warning the log sink saw, one per line. */
static struct strbuf	warned;

static void
warn_capture(int level, const char *who, const char *msg, void *data)
{
	(void)who;
	(void)data;
	if (level == CHIFFON_LOG_WARNING)
		strbuf_addf(&warned, "%s\n", msg);
}

/*
 * Lay out dir c with the keys, bad_keys and old_minor0 test plugins and a
 * configuration file (body after the [plugins] section) selecting load.
 * Returns the file's path (caller frees).
 */
static char *
keys_conf(const char *load_value, const char *body)
{
	char	*dir = path_join(tmpdir, "c");
	char	*file = path_join(tmpdir, "keys.conf");
	FILE	*f;

	if (access(dir, F_OK) != 0) {
		ck_assert_int_eq(mkdir(dir, 0755), 0);
		copy_plugin("keys", dir, NULL, 0755);
		copy_plugin("bad_keys", dir, NULL, 0755);
		copy_plugin("old_minor0", dir, NULL, 0755);
	}
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fprintf(f, "[plugins]\npath = %s\nload = %s\n%s", dir, load_value,
	    body);
	fclose(f);
	free(dir);
	return file;
}

static struct plugins *
keys_load(const char *file)
{
	char	*err = NULL;

	app.conf = conf_new();
	app.argv0 = "check_plugins";
	app_used = 1;
	ck_assert_msg(conf_load(app.conf, file, &err) == 0, "%s", err);
	return app_plugins(&app);
}

/* The result of a capability, parsed. */
static struct json_object *
invoke_json(const char *capability)
{
	struct json_object	*o;
	char			*status, *result, *err = NULL;

	ck_assert_msg(host_invoke_sync(&app, capability, NULL, 60000, &status,
	    &result, &err) == 0, "%s", err);
	ck_assert_str_eq(status, "successful");
	o = parse(result);
	free(status);
	free(result);
	return o;
}

START_TEST(test_declared_keys)
{
	struct json_object	*o, *e, *keys;
	struct plugins		*ps;
	char			*file, *origin, *text;
	int			 rc;

	file = keys_conf("keys,oldminor", "\n[plugin.keys]\ncount = 7\n"
	    "flag = On\nwait = 500ms\nbuffer = 2M\nmode = SAFE\n"
	    "labl = x\n\n[plugin.oldminor]\nanything = goes\n");
	log_set_sink(warn_capture, NULL);
	ps = keys_load(file);
	ck_assert_ptr_nonnull(plugins_find(ps, "keys"));
	/* An old (minor 0) plugin still loads; its keys stay free-form. */
	ck_assert_ptr_nonnull(plugins_find(ps, "oldminor"));
	ck_assert_ptr_null(plugins_config_keys(plugins_find(ps, "oldminor")));
	origin = xasprintf("%s:11: unknown key 'plugin.keys.labl' (did you "
	    "mean 'plugin.keys.label'?)\n", file);
	ck_assert_str_eq(warned.buf, origin);
	free(origin);

	o = invoke_json("keys.values");
	ck_assert_int_eq(json_object_get_int64(member(o, "count")), 7);
	ck_assert_int_eq(json_object_get_int(member(o, "flag")), 1);
	ck_assert(json_object_get_double(member(o, "wait")) == 0.5);
	ck_assert_int_eq(json_object_get_int64(member(o, "buffer")), 2097152);
	ck_assert_str_eq(json_object_get_string(member(o, "mode")), "safe");
	ck_assert(json_object_is_type(member(o, "label"), json_type_null));
	json_object_put(o);
	o = invoke_json("test.old");
	ck_assert_str_eq(json_object_get_string(member(o, "anything")),
	    "goes");
	json_object_put(o);
	origin = xasprintf("%s:6", file);
	ck_assert_str_eq(conf_origin(app.conf, "plugin.keys.count"), origin);
	free(origin);
	ck_assert_str_eq(conf_get(app.conf, "plugin.keys.flag"), "yes");

	/* `chiffon plugins --json` lists them with their values. */
	text = run_cmd(1, &rc);
	ck_assert_int_eq(rc, EXIT_OK);
	o = parse(text);
	ck_assert_ptr_nonnull(e = plugin_json(o, "keys"));
	keys = member(e, "config");
	ck_assert_int_eq(json_object_array_length(keys), 6);
	e = json_object_array_get_idx(keys, 0);
	ck_assert_str_eq(json_object_get_string(member(e, "key")),
	    "plugin.keys.count");
	ck_assert_str_eq(json_object_get_string(member(e, "type")), "integer");
	ck_assert_str_eq(json_object_get_string(member(e, "value")), "7");
	ck_assert_str_eq(json_object_get_string(member(e, "default")), "3");
	ck_assert_str_eq(json_object_get_string(member(e, "accepted")),
	    "an integer from 1 to 10");
	ck_assert_str_eq(json_object_get_string(member(e, "env")),
	    "CHIFFON_PLUGIN_KEYS_COUNT");
	json_object_put(o);
	free(text);
	text = run_cmd(0, &rc);
	ck_assert_msg(strstr(text, "  plugin.keys.buffer = 2M (") != NULL,
	    "%s", text);
	free(text);
	strbuf_free(&warned);
	free(file);
}
END_TEST

START_TEST(test_declared_defaults)
{
	struct json_object	*o;
	char			*file, *err = NULL;

	file = keys_conf("keys", "");
	setenv("CHIFFON_PLUGIN_KEYS_LABEL", "from the environment", 1);
	ck_assert_ptr_nonnull(plugins_find(keys_load(file), "keys"));
	unsetenv("CHIFFON_PLUGIN_KEYS_LABEL");
	o = invoke_json("keys.values");
	ck_assert_int_eq(json_object_get_int64(member(o, "count")), 3);
	ck_assert_int_eq(json_object_get_int(member(o, "flag")), 0);
	ck_assert(json_object_get_double(member(o, "wait")) == 2);
	ck_assert_int_eq(json_object_get_int64(member(o, "buffer")), 65536);
	ck_assert_str_eq(json_object_get_string(member(o, "mode")), "fast");
	ck_assert_str_eq(json_object_get_string(member(o, "label")),
	    "from the environment");
	json_object_put(o);
	ck_assert_str_eq(conf_origin(app.conf, "plugin.keys.count"),
	    "default");
	/* A later conf_set is checked too, and leaves the value alone. */
	ck_assert_int_eq(conf_set(app.conf, "plugin.keys.count", "11", "--set",
	    &err), -1);
	ck_assert_str_eq(err, "--set: plugin.keys.count: bad value '11' "
	    "(accepted: an integer from 1 to 10)");
	free(err);
	ck_assert_str_eq(conf_get(app.conf, "plugin.keys.count"), "3");
	ck_assert_int_eq(conf_set(app.conf, "plugin.keys.count", "9", "--set",
	    &err), 0);
	o = invoke_json("keys.values");
	ck_assert_int_eq(json_object_get_int64(member(o, "count")), 9);
	json_object_put(o);
	free(file);
}
END_TEST

/* A bad value of a declared key: FILE:LINE at start, the plugin refused. */
static const struct {
	const char	*body;
	int		 line;
	const char	*error;
} bad_values[] = {
	{ "count = 11", 6, "plugin.keys.count: bad value '11' (accepted: an "
	  "integer from 1 to 10)" },
	{ "flag = maybe", 6, "plugin.keys.flag: bad value 'maybe' (accepted: "
	  "yes, no, true, false, on, off, 1, 0)" },
	{ "mode = quick", 6, "plugin.keys.mode: bad value 'quick' (accepted: "
	  "fast, safe)" },
	{ "count = 2\nwait = 2h", 7, "plugin.keys.wait: bad value '2h' "
	  "(accepted: a duration from 0s to 1h such as 90, 90s, 5m, 1h30m, "
	  "2d)" },
	{ "buffer = 12X", 6, "plugin.keys.buffer: bad value '12X' (accepted: "
	  "a size from 1k to 1G such as 512, 64k, 10M, 2G)" },
	{ "buffer = 512", 6, "plugin.keys.buffer: bad value '512' (accepted: "
	  "a size from 1k to 1G such as 512, 64k, 10M, 2G)" },
};

START_TEST(test_declared_bad_value)
{
	const struct plugins_refusal	*r;
	struct plugins			*ps;
	struct conf			*conf = conf_new();
	char				*body, *file, *want, *so, *err = NULL;

	body = xasprintf("\n[plugin.keys]\n%s\n", bad_values[_i].body);
	file = keys_conf("keys", body);
	want = xasprintf("%s:%d: %s", file, bad_values[_i].line,
	    bad_values[_i].error);
	/* At start (main): the first bad value, the caller exits 2. */
	ck_assert_msg(conf_load(conf, file, &err) == 0, "%s", err);
	ck_assert_int_eq(plugins_check_config(conf, &err), -1);
	ck_assert_str_eq(err, want);
	free(err);
	conf_free(conf);
	/* Loading anyway refuses the plugin with the same message. */
	ps = keys_load(file);
	ck_assert_ptr_null(plugins_find(ps, "keys"));
	so = path_join(tmpdir, "c/keys.so");
	ck_assert_ptr_nonnull(r = refusal_of(ps, so));
	ck_assert_str_eq(r->reason, want);
	free(so);
	free(want);
	free(file);
	free(body);
}
END_TEST

START_TEST(test_declared_env_bad)
{
	struct conf	*conf = conf_new();
	char		*file, *err = NULL;

	file = keys_conf("keys", "");
	setenv("CHIFFON_PLUGIN_KEYS_WAIT", "forever", 1);
	ck_assert_msg(conf_load(conf, file, &err) == 0, "%s", err);
	ck_assert_int_eq(plugins_check_config(conf, &err), -1);
	unsetenv("CHIFFON_PLUGIN_KEYS_WAIT");
	ck_assert_str_eq(err, "CHIFFON_PLUGIN_KEYS_WAIT: plugin.keys.wait: bad "
	    "value 'forever' (accepted: a duration from 0s to 1h such as 90, "
	    "90s, 5m, 1h30m, 2d)");
	free(err);
	conf_free(conf);
	free(file);
}
END_TEST

START_TEST(test_declared_broken)
{
	const struct plugins_refusal	*r;
	struct plugins			*ps;
	struct conf			*conf = conf_new();
	char				*file, *so, *err = NULL;

	/* A broken declaration refuses the plugin, not chiffon's start. */
	file = keys_conf("badkeys", "");
	ck_assert_msg(conf_load(conf, file, &err) == 0, "%s", err);
	ck_assert_msg(plugins_check_config(conf, &err) == 0, "%s", err);
	conf_free(conf);
	ps = keys_load(file);
	ck_assert_ptr_null(plugins_find(ps, "badkeys"));
	so = path_join(tmpdir, "c/bad_keys.so");
	ck_assert_ptr_nonnull(r = refusal_of(ps, so));
	ck_assert_str_eq(r->reason, "plugin 'badkeys' declares enum key "
	    "'mode' without choices");
	free(so);
	free(file);
}
END_TEST

/*
 * The chiffon binary itself: a bad value of a plugin key stops it at
 * start with FILE:LINE on stderr and exit status 2, before any command.
 */
START_TEST(test_declared_exit_status)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");
	char		*file, *bin, *errfile, *text, *want;
	int		 status, fd;
	pid_t		 pid;

	file = keys_conf("keys", "\n[plugin.keys]\nmode = quick\n");
	bin = xasprintf("%s/src/chiffon", b != NULL ? b : ".");
	errfile = path_join(tmpdir, "stderr");
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		char *const argv[] = { bin, "--config", file, "plugins", NULL };

		fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd == -1)
			_exit(127);
		dup2(fd, 2);
		dup2(fd, 1);
		close(fd);
		execv(bin, argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), EXIT_USAGE);
	ck_assert_ptr_nonnull(text = read_file(errfile, NULL));
	want = xasprintf("chiffon: %s:6: plugin.keys.mode: bad value 'quick' "
	    "(accepted: fast, safe)\n", file);
	ck_assert_str_eq(text, want);
	free(want);
	free(text);
	free(errfile);
	free(bin);
	free(file);
}
END_TEST

/*
 * chiffon.conf(5) documents every key the three plugins of the tree
 * declare, as it documents chiffon's own (check_conf).
 */
START_TEST(test_manual_documents_plugin_keys)
{
	const char			*b = getenv("CHIFFON_BUILDDIR");
	const char			*src = getenv("CHIFFON_SRCDIR");
	const struct chiffon_config_key	*k;
	struct plugins			*ps;
	struct chiffon_plugin		*p;
	char				*path, *text, *needle, *err = NULL;
	size_t				 i, nkeys = 0;

	ck_assert_msg(src != NULL, "CHIFFON_SRCDIR is not set");
	if (b == NULL)
		b = ".";
	app.conf = conf_new();
	app.argv0 = "check_plugins";
	app_used = 1;
	path = xasprintf("%1$s/plugins/infra/.libs:%1$s/plugins/template/.libs:"
	    "%1$s/plugins/desktop-metrics/.libs", b);
	ck_assert_msg(conf_set(app.conf, "plugins.path", path, "test",
	    &err) == 0, "%s", err);
	free(path);
	ck_assert_msg(conf_set(app.conf, "plugins.load",
	    "infra,template,desktop-metrics", "test", &err) == 0, "%s", err);
	ps = app_plugins(&app);
	ck_assert_uint_eq(plugins_count(ps), 3);
	path = xasprintf("%s/man/chiffon.conf.5", src);
	ck_assert_ptr_nonnull(text = read_file(path, NULL));
	for (i = 0; i < plugins_count(ps); i++) {
		p = plugins_at(ps, i);
		k = plugins_config_keys(p);
		ck_assert_msg(k != NULL, "%s declares no keys", plugins_name(p));
		for (; k->name != NULL; k++, nkeys++) {
			needle = xasprintf("\n.B plugin.%s.%s\n",
			    plugins_name(p), k->name);
			ck_assert_msg(strstr(text, needle) != NULL,
			    "%s does not document plugin.%s.%s", path,
			    plugins_name(p), k->name);
			free(needle);
		}
	}
	ck_assert_uint_ge(nkeys, 10);
	free(text);
	free(path);
}
END_TEST

/* The real plugins' keys are checked the same way (issue 11). */
START_TEST(test_real_plugin_key_refused)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");
	struct conf	*conf = conf_new();
	char		*file = path_join(tmpdir, "real.conf"), *err = NULL;
	char		*want;
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fprintf(f, "[plugins]\npath = %1$s/plugins/infra/.libs:"
	    "%1$s/plugins/template/.libs\nload = infra,template\n\n"
	    "[plugin.template]\ntimeout = 5m\n[plugin.infra]\n"
	    "lint_on_failure = No\nlint_on_failure = sometimes\n",
	    b != NULL ? b : ".");
	fclose(f);
	ck_assert_msg(conf_load(conf, file, &err) == 0, "%s", err);
	ck_assert_int_eq(plugins_check_config(conf, &err), -1);
	want = xasprintf("%s:9: plugin.infra.lint_on_failure: bad value "
	    "'sometimes' (accepted: yes, no, true, false, on, off, 1, 0)",
	    file);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	conf_free(conf);
	free(file);
}
END_TEST

static Suite *
plugins_suite(void)
{
	Suite	*s = suite_create("plugins");
	TCase	*tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_loads_good);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_load_file_error);
	tcase_add_test(tc, test_refused_plugins_freed);
	tcase_add_test(tc, test_load_selection);
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_invoke_echo);
	tcase_add_test(tc, test_invoke_errors);
	tcase_add_test(tc, test_invoke_sync_timer);
	tcase_add_test(tc, test_fd_watch);
	tcase_add_test(tc, test_config_get);
	tcase_add_test(tc, test_log);
	tcase_add_test(tc, test_cancel);
	suite_add_tcase(s, tc);

	tc = tcase_create("unload");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unload);
	tcase_add_test(tc, test_free_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("command");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cmd_json);
	tcase_add_test(tc, test_cmd_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("declared keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_declared_keys);
	tcase_add_test(tc, test_declared_defaults);
	tcase_add_loop_test(tc, test_declared_bad_value, 0,
	    (int)nitems(bad_values));
	tcase_add_test(tc, test_declared_env_bad);
	tcase_add_test(tc, test_declared_broken);
	tcase_add_test(tc, test_declared_exit_status);
	tcase_add_test(tc, test_manual_documents_plugin_keys);
	tcase_add_test(tc, test_real_plugin_key_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("database");
	tcase_add_unchecked_fixture(tc, testutil_cluster_need,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_db_query);
	tcase_add_test(tc, test_run_record);
	tcase_add_test(tc, test_run_unload);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(plugins_suite());
}
