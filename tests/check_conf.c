/*
 * check_conf.c - chiffon.conf: parsing good and bad files (tests/conf/),
 * the lookup order, environment and flag overrides, warnings, durations
 * and the default data directory.
 *
 * Every test runs in its own process (Check's fork mode) with a private
 * HOME, XDG_CONFIG_HOME and XDG_DATA_HOME under a mkdtemp directory and no
 * CHIFFON_* variables, so the real user's configuration is never read.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "testutil.h"
#include "util.h"

extern char **environ;

/* The scratch directory of the running test and the captured log. */
static char		 check_conf_tmp[64];
static struct strbuf	 check_conf_log;

/* Log sink: one "LEVEL MESSAGE\n" line per message. */
static void
check_conf_sink(int level, const char *who, const char *msg, void *data)
{
	(void)who;
	(void)data;
	strbuf_addf(&check_conf_log, "%d %s\n", level, msg);
}

/* Remove every CHIFFON_* variable except the harness's own. */
static void
check_conf_clean_env(void)
{
	char	**e, *name;
	int	  again = 1;

	while (again) {
		again = 0;
		for (e = environ; *e != NULL; e++) {
			if (strncmp(*e, "CHIFFON_", 8) != 0 ||
			    strncmp(*e, "CHIFFON_SRCDIR=", 15) == 0 ||
			    strncmp(*e, "CHIFFON_BUILDDIR=", 17) == 0)
				continue;
			name = xstrndup(*e, strcspn(*e, "="));
			unsetenv(name);
			free(name);
			again = 1;
			break;
		}
	}
}

static void
check_conf_setup(void)
{
	char	*p;

	snprintf(check_conf_tmp, sizeof check_conf_tmp, "%s",
	    "/tmp/check_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(check_conf_tmp));
	check_conf_clean_env();
	p = path_join(check_conf_tmp, "home");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	setenv("HOME", p, 1);
	free(p);
	p = path_join(check_conf_tmp, "xdg-config");
	setenv("XDG_CONFIG_HOME", p, 1);
	free(p);
	p = path_join(check_conf_tmp, "xdg-data");
	setenv("XDG_DATA_HOME", p, 1);
	free(p);
	strbuf_reset(&check_conf_log);
	log_set_level(CHIFFON_LOG_DEBUG);
	log_set_sink(check_conf_sink, NULL);
}

/* nftw callback: remove one entry (children come first, FTW_DEPTH). */
static int
check_conf_rm(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
check_conf_teardown(void)
{
	log_set_sink(NULL, NULL);
	if (nftw(check_conf_tmp, check_conf_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "check_conf: cannot remove %s: %s\n",
		    check_conf_tmp, strerror(errno));
	strbuf_free(&check_conf_log);
}

/* Path of a fixture under $CHIFFON_SRCDIR/tests/conf.  Caller frees. */
static char *
check_conf_fixture(const char *name)
{
	const char	*src = getenv("CHIFFON_SRCDIR");

	return xasprintf("%s/tests/conf/%s", src != NULL ? src : ".", name);
}

/* Write text to a file under the scratch directory.  Caller frees. */
static char *
check_conf_write(const char *rel, const char *text)
{
	char	*path = path_join(check_conf_tmp, rel), *dir, *slash;
	FILE	*f;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	ck_assert_int_eq(mkdir_p(dir, 0755), 0);
	free(dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Load a fixture that must fail; check the whole message. */
static void
check_conf_fails(const char *name, const char *expected_after_path)
{
	struct conf	*conf = conf_new();
	char		*path = check_conf_fixture(name), *err = NULL;
	char		*want;

	ck_assert_int_eq(conf_load(conf, path, &err), -1);
	ck_assert_ptr_nonnull(err);
	want = xasprintf("%s%s", path, expected_after_path);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	free(path);
	conf_free(conf);
}

START_TEST(test_defaults)
{
	struct conf	*conf = conf_new();
	char		*err = NULL, *want;

	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_str_eq(conf_get(conf, "ansible.playbook"),
	    "ansible-playbook");
	ck_assert_str_eq(conf_get(conf, "ansible.lint"), "ansible-lint");
	ck_assert_str_eq(conf_get(conf, "db.server_user"), "postgres");
	ck_assert_str_eq(conf_get(conf, "plugins.load"), "all");
	ck_assert_ptr_null(conf_get(conf, "db.url"));
	ck_assert_ptr_null(conf_get(conf, "ansible.repo"));
	ck_assert_ptr_null(conf_get(conf, "ansible.inventory"));
	ck_assert_ptr_null(conf_get(conf, "plugins.path"));
	ck_assert_ptr_null(conf_get(conf, "no.such_key"));
	ck_assert_ptr_null(conf_origin(conf, "no.such_key"));
	ck_assert_int_eq(conf_get_int(conf, "log.level"), CHIFFON_LOG_WARNING);
	ck_assert(conf_get_duration(conf, "db.reconnect_max") == 30);
	ck_assert(conf_get_duration(conf, "ansible.timeout") == 3600);
	ck_assert_str_eq(conf_origin(conf, "ansible.timeout"), "default");
	ck_assert_str_eq(conf_origin(conf, "core.data_dir"), "default");

	if (geteuid() == 0)
		want = xstrdup("/var/lib/chiffon");
	else
		want = xasprintf("%s/xdg-data/chiffon", check_conf_tmp);
	ck_assert_str_eq(conf_data_dir(conf), want);
	free(want);
	want = path_join(conf_data_dir(conf), "chiffon.log");
	ck_assert_str_eq(conf_get(conf, "log.file"), want);
	free(want);
	want = path_join(conf_data_dir(conf), "audit");
	ck_assert_str_eq(conf_get(conf, "audit.repo"), want);
	free(want);
	ck_assert_str_eq(check_conf_log.buf != NULL ? check_conf_log.buf : "",
	    "");
	conf_free(conf);
}
END_TEST

START_TEST(test_good_file)
{
	struct conf	*conf = conf_new();
	char		*path = check_conf_fixture("good.conf");
	char		*err = NULL, *s, *dir, *cwd;

	ck_assert_msg(conf_load(conf, path, &err) == 0, "%s", err);
	ck_assert_str_eq(conf_file(conf), path);
	ck_assert_str_eq(conf_data_dir(conf), "/srv/chiffon-test");
	ck_assert_str_eq(conf_get(conf, "db.url"), "postgresql://chiffon@"
	    "db.example.net:5432/chiffon?sslmode=require");
	ck_assert_str_eq(conf_get(conf, "db.server_user"), "pgrunner");
	ck_assert(conf_get_duration(conf, "db.reconnect_max") == 120);

	/* Relative paths are under the file's directory, ~ is HOME. */
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if (*dir != '/') {
		cwd = getcwd(NULL, 0);
		s = path_join(cwd, dir);
		free(cwd);
		free(dir);
		dir = s;
	}
	s = path_join(dir, "homelab");
	ck_assert_str_eq(conf_get(conf, "ansible.repo"), s);
	free(s);
	s = xasprintf("%s/home/inventory/hosts.yml", check_conf_tmp);
	ck_assert_str_eq(conf_get(conf, "ansible.inventory"), s);
	free(s);
	ck_assert_str_eq(conf_get(conf, "ansible.playbook"),
	    "/usr/bin/ansible-playbook");
	ck_assert(conf_get_duration(conf, "ansible.timeout") == 5400);
	ck_assert_str_eq(conf_get(conf, "ansible.lint"), "ansible-lint");
	s = xasprintf("/opt/chiffon/plugins:%s/plugins", dir);
	ck_assert_str_eq(conf_get(conf, "plugins.path"), s);
	free(s);
	ck_assert_str_eq(conf_get(conf, "plugins.load"),
	    "infra,desktop-metrics");
	ck_assert_str_eq(conf_get(conf, "log.level"), "info");
	ck_assert_int_eq(conf_get_int(conf, "log.level"), CHIFFON_LOG_INFO);
	ck_assert_str_eq(conf_get(conf, "log.file"), "/var/log/chiffon.log");
	ck_assert_str_eq(conf_get(conf, "audit.repo"), "/srv/audit.git");
	ck_assert_str_eq(conf_get(conf, "llm.budget_daily_usd"), "2.50");
	ck_assert_str_eq(conf_get(conf, "llm.budget_monthly_usd"), "40");
	ck_assert_str_eq(conf_get(conf, "plugin.infra.catalog_refresh"),
	    "10m");
	ck_assert_str_eq(conf_get(conf, "plugin.infra.note"),
	    "anything, even = signs");

	/* Provenance: FILE:LINE. */
	s = xasprintf("%s:4", path);
	ck_assert_str_eq(conf_origin(conf, "core.data_dir"), s);
	free(s);
	s = xasprintf("%s:12", path);
	ck_assert_str_eq(conf_origin(conf, "ansible.repo"), s);
	free(s);
	s = xasprintf("%s:35", path);
	ck_assert_str_eq(conf_origin(conf, "plugin.infra.note"), s);
	free(s);

	/* Nothing to warn about, even for the [plugin.infra] keys. */
	ck_assert_ptr_null(check_conf_log.buf);
	free(dir);
	free(path);
	conf_free(conf);
}
END_TEST

START_TEST(test_lookup_explicit_missing)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	ck_assert_int_eq(conf_load(conf, "/nonexistent/chiffon.conf", &err),
	    -1);
	ck_assert_str_eq(err, "/nonexistent/chiffon.conf: cannot read the "
	    "configuration file given with --config: No such file or "
	    "directory");
	ck_assert_ptr_null(conf_file(conf));
	free(err);
	conf_free(conf);
}
END_TEST

START_TEST(test_lookup_explicit_beats_env_and_xdg)
{
	struct conf	*conf = conf_new();
	char		*a, *b, *c, *err = NULL;

	a = check_conf_write("a.conf", "[db]\nserver_user = from-a\n");
	b = check_conf_write("b.conf", "[db]\nserver_user = from-b\n");
	c = check_conf_write("xdg-config/chiffon/chiffon.conf",
	    "[db]\nserver_user = from-xdg\n");
	setenv("CHIFFON_CONFIG", b, 1);
	ck_assert_int_eq(conf_load(conf, a, &err), 0);
	ck_assert_str_eq(conf_file(conf), a);
	ck_assert_str_eq(conf_get(conf, "db.server_user"), "from-a");
	conf_free(conf);

	/* Without --config, CHIFFON_CONFIG wins over XDG. */
	conf = conf_new();
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_str_eq(conf_file(conf), b);
	ck_assert_str_eq(conf_get(conf, "db.server_user"), "from-b");
	conf_free(conf);

	/* Without either, the XDG file. */
	unsetenv("CHIFFON_CONFIG");
	conf = conf_new();
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_str_eq(conf_file(conf), c);
	ck_assert_str_eq(conf_get(conf, "db.server_user"), "from-xdg");
	conf_free(conf);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_lookup_env_missing)
{
	struct conf	*conf = conf_new();
	char		*err = NULL, *want, *p;

	/* A missing $CHIFFON_CONFIG is an error, not a fall-through. */
	free(check_conf_write("xdg-config/chiffon/chiffon.conf", "[db]\n"));
	p = path_join(check_conf_tmp, "missing.conf");
	setenv("CHIFFON_CONFIG", p, 1);
	ck_assert_int_eq(conf_load(conf, NULL, &err), -1);
	want = xasprintf("%s: cannot read the configuration file named by "
	    "CHIFFON_CONFIG: No such file or directory", p);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	free(p);
	conf_free(conf);
}
END_TEST

START_TEST(test_lookup_home_config)
{
	struct conf	*conf = conf_new();
	char		*p, *err = NULL;

	/* No (or a relative) XDG_CONFIG_HOME: ~/.config. */
	p = check_conf_write("home/.config/chiffon/chiffon.conf",
	    "[log]\nlevel = debug\n");
	setenv("XDG_CONFIG_HOME", "relative/is/ignored", 1);
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_str_eq(conf_file(conf), p);
	ck_assert_int_eq(conf_get_int(conf, "log.level"), CHIFFON_LOG_DEBUG);
	conf_free(conf);

	unsetenv("XDG_CONFIG_HOME");
	conf = conf_new();
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_str_eq(conf_file(conf), p);
	conf_free(conf);
	free(p);
}
END_TEST

START_TEST(test_lookup_system)
{
	struct conf	*conf = conf_new();
	struct stat	 sb;
	char		*err = NULL;

	/*
	 * Nothing in the private XDG and HOME directories: the system file
	 * is next.  This machine's /etc is not ours to write, so whether it
	 * is found depends on whether it exists.
	 */
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	if (stat("/etc/chiffon/chiffon.conf", &sb) == 0)
		ck_assert_str_eq(conf_file(conf), "/etc/chiffon/chiffon.conf");
	else if (stat(CHIFFON_SYSCONFDIR "/chiffon/chiffon.conf", &sb) == 0)
		ck_assert_str_eq(conf_file(conf),
		    CHIFFON_SYSCONFDIR "/chiffon/chiffon.conf");
	else
		ck_assert_ptr_null(conf_file(conf));
	conf_free(conf);
}
END_TEST

START_TEST(test_env_overrides_file)
{
	struct conf	*conf = conf_new();
	char		*p, *err = NULL, *s;

	p = check_conf_write("c.conf", "[ansible]\nrepo = /srv/file-repo\n"
	    "[log]\nlevel = info\n");
	setenv("CHIFFON_REPO", "/srv/env-repo", 1);
	setenv("CHIFFON_LOG_LEVEL", "", 1);	/* empty: ignored */
	ck_assert_int_eq(conf_load(conf, p, &err), 0);
	ck_assert_str_eq(conf_get(conf, "ansible.repo"), "/srv/env-repo");
	ck_assert_str_eq(conf_origin(conf, "ansible.repo"), "CHIFFON_REPO");
	ck_assert_str_eq(conf_get(conf, "log.level"), "info");
	s = xasprintf("%s:4", p);
	ck_assert_str_eq(conf_origin(conf, "log.level"), s);
	free(s);
	conf_free(conf);
	free(p);
}
END_TEST

START_TEST(test_env_all_keys)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	setenv("CHIFFON_DATA_DIR", "/srv/d", 1);
	setenv("CHIFFON_DB_URL", "host=/run/pg dbname=chiffon", 1);
	setenv("CHIFFON_DB_SERVER_USER", "pgrun", 1);
	setenv("CHIFFON_INVENTORY", "/srv/inv", 1);
	setenv("CHIFFON_ANSIBLE_PLAYBOOK", "/opt/ap", 1);
	setenv("CHIFFON_PLUGIN_PATH", "/a:/b", 1);
	setenv("CHIFFON_AUDIT_REPO", "/srv/audit", 1);
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_str_eq(conf_data_dir(conf), "/srv/d");
	ck_assert_str_eq(conf_origin(conf, "core.data_dir"),
	    "CHIFFON_DATA_DIR");
	/* Derived defaults follow the data dir. */
	ck_assert_str_eq(conf_get(conf, "log.file"), "/srv/d/chiffon.log");
	ck_assert_str_eq(conf_get(conf, "db.url"),
	    "host=/run/pg dbname=chiffon");
	ck_assert_str_eq(conf_get(conf, "db.server_user"), "pgrun");
	ck_assert_str_eq(conf_get(conf, "ansible.inventory"), "/srv/inv");
	ck_assert_str_eq(conf_get(conf, "ansible.playbook"), "/opt/ap");
	ck_assert_str_eq(conf_get(conf, "plugins.path"), "/a:/b");
	ck_assert_str_eq(conf_get(conf, "audit.repo"), "/srv/audit");
	conf_free(conf);
}
END_TEST

START_TEST(test_set_overrides_env)
{
	struct conf	*conf = conf_new();
	char		*err = NULL, *cwd, *want;

	setenv("CHIFFON_REPO", "/srv/env-repo", 1);
	ck_assert_int_eq(conf_load(conf, NULL, &err), 0);
	ck_assert_int_eq(conf_set(conf, "ansible.repo", "homelab", "--repo",
	    &err), 0);
	cwd = getcwd(NULL, 0);
	want = path_join(cwd, "homelab");
	ck_assert_str_eq(conf_get(conf, "ansible.repo"), want);
	ck_assert_str_eq(conf_origin(conf, "ansible.repo"), "--repo");
	free(want);
	free(cwd);

	/* An empty value restores the default. */
	ck_assert_int_eq(conf_set(conf, "log.level", "debug", "--log-level",
	    &err), 0);
	ck_assert_int_eq(conf_get_int(conf, "log.level"), CHIFFON_LOG_DEBUG);
	ck_assert_int_eq(conf_set(conf, "log.level", "", "--log-level", &err),
	    0);
	ck_assert_str_eq(conf_get(conf, "log.level"), "warning");
	ck_assert_str_eq(conf_origin(conf, "log.level"), "default");

	/* Flags may set plugin keys too. */
	ck_assert_int_eq(conf_set(conf, "plugin.infra.x", "1", "--set", &err),
	    0);
	ck_assert_str_eq(conf_get(conf, "plugin.infra.x"), "1");
	ck_assert_str_eq(conf_origin(conf, "plugin.infra.x"), "--set");
	conf_free(conf);
}
END_TEST

START_TEST(test_env_bad_value)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	setenv("CHIFFON_LOG_LEVEL", "loud", 1);
	ck_assert_int_eq(conf_load(conf, NULL, &err), -1);
	ck_assert_str_eq(err, "CHIFFON_LOG_LEVEL: log.level: bad value 'loud' "
	    "(accepted: error, warning, info, debug)");
	free(err);
	conf_free(conf);
}
END_TEST

START_TEST(test_set_bad_value)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	ck_assert_int_eq(conf_set(conf, "log.level", "loud", "--log-level",
	    &err), -1);
	ck_assert_str_eq(err, "--log-level: log.level: bad value 'loud' "
	    "(accepted: error, warning, info, debug)");
	free(err);
	ck_assert_str_eq(conf_get(conf, "log.level"), "warning");
	ck_assert_int_eq(conf_set(conf, "db.uri", "x", "--set", &err), -1);
	ck_assert_str_eq(err, "--set: unknown key 'db.uri'");
	free(err);
	conf_free(conf);
}
END_TEST

START_TEST(test_unknown_keys)
{
	struct conf	*conf = conf_new();
	char		*path = check_conf_fixture("unknown.conf");
	char		*err = NULL, *want;

	ck_assert_int_eq(conf_load(conf, path, &err), 0);
	want = xasprintf(
	    "1 %1$s:1: key 'orphan' is outside any [section]; ignored\n"
	    "1 %1$s:3: unknown key 'core.repo' (did you mean 'ansible.repo'?)\n"
	    "1 %1$s:5: unknown key 'db.ulr' (did you mean 'db.url'?)\n"
	    "1 %1$s:7: unknown key 'frobnicate.widget'\n"
	    "1 %1$s:11: unknown key 'plugin.name'\n"
	    /* Two edits away is a typo (CONF_TYPOS), three is not. */
	    "1 %1$s:13: unknown key 'log.lvl' (did you mean 'log.level'?)\n"
	    "1 %1$s:14: unknown key 'log.lv'\n", path);
	ck_assert_str_eq(check_conf_log.buf, want);
	/* The known key among them still applies. */
	ck_assert_str_eq(conf_get(conf, "ansible.repo"), "/srv/repo");
	free(want);
	free(path);
	conf_free(conf);
}
END_TEST

START_TEST(test_duplicate_key)
{
	struct conf	*conf = conf_new();
	char		*path = check_conf_fixture("duplicate.conf");
	char		*err = NULL, *want;

	ck_assert_int_eq(conf_load(conf, path, &err), 0);
	want = xasprintf("1 %s:3: 'log.level' is set again (earlier at line "
	    "2); the last value wins\n", path);
	ck_assert_str_eq(check_conf_log.buf, want);
	ck_assert_str_eq(conf_get(conf, "log.level"), "debug");
	free(want);
	free(path);
	conf_free(conf);
}
END_TEST

#define DURATION_ACCEPTED "such as 90, 90s, 5m, 1h30m, 2d"
#define URL_ACCEPTED \
	"postgresql://..., postgres://..., a libpq key=value string"
#define PATH_ACCEPTED "an absolute path, ~/path, or a path relative to " \
	"the file's directory"

/* A bad value of each type: fixture and message after "FILE". */
static const struct {
	const char	*file;
	const char	*message;
} check_conf_bad[] = {
	{ "bad-enum.conf", ":3: log.level: bad value 'loud' (accepted: "
	  "error, warning, info, debug)" },
	{ "bad-duration.conf", ":3: ansible.timeout: bad value '5 parsecs' "
	  "(accepted: a duration from 0s to 7d " DURATION_ACCEPTED ")" },
	{ "bad-duration-range.conf", ":2: db.reconnect_max: bad value '0' "
	  "(accepted: a duration from 1s to 1h " DURATION_ACCEPTED ")" },
	{ "bad-usd.conf", ":2: llm.budget_daily_usd: bad value '-5' "
	  "(accepted: an amount of US dollars such as 5, 12.50 or $0.25)" },
	{ "bad-url.conf", ":2: db.url: bad value 'http://db.example.net/' "
	  "(accepted: " URL_ACCEPTED ")" },
	{ "bad-conninfo.conf", ":3: db.url: bad value 'host=db port': "
	  "libpq: missing \"=\" after \"port\" in connection info string "
	  "(accepted: " URL_ACCEPTED ")" },
	{ "bad-list.conf", ":2: plugins.load: bad value 'all, infra' "
	  "(accepted: all, or names separated by ',')" },
	{ "bad-path.conf", ":2: ansible.repo: bad value '~ansible/repo' "
	  "(accepted: " PATH_ACCEPTED ")" },
	{ "bad-pathlist.conf", ":2: plugins.path: bad value '/opt/p:~other/p' "
	  "(accepted: paths separated by ':', each absolute, ~/path or "
	  "relative to the file's directory)" },
	{ "bad-program.conf", ":2: ansible.lint: bad value "
	  "'~bob/bin/ansible-lint' (accepted: a program name found in PATH, "
	  "or its path)" },
	{ "syntax.conf", ":4: syntax error: expected 'key = value', "
	  "'[section]' or a comment" },
	{ "syntax-section.conf", ":1: syntax error: a section header is "
	  "'[name]' on a line of its own" },
	{ "syntax-noname.conf", ":2: missing key name before '='" },
	{ "bad-then-syntax.conf", ":2: log.level: bad value 'loud' "
	  "(accepted: error, warning, info, debug)" },
	{ "long-line.conf", ":2: line is longer than 198 characters; "
	  "shorten it" },
	{ "inline-comment.conf", ":3: core.data_dir: the value '/srv/chiffon"
	  "   # --data-dir, CHIFFON_DATA_DIR' holds ' # --data-dir, "
	  "CHIFFON_DATA_DIR', which looks like a comment but would be part "
	  "of the value: a '#' after a value is not a comment in "
	  "chiffon.conf; put the comment on a line of its own or after "
	  "' ;'" },
};

START_TEST(test_bad_file)
{
	check_conf_fails(check_conf_bad[_i].file, check_conf_bad[_i].message);
}
END_TEST

START_TEST(test_long_line_limit)
{
	struct conf	*conf = conf_new();
	char		*path = check_conf_fixture("long-line-ok.conf");
	char		*err = NULL;

	/* 198 characters is the longest line libinih's buffer holds. */
	ck_assert_msg(conf_load(conf, path, &err) == 0, "%s", err);
	ck_assert_uint_eq(strlen(conf_get(conf, "ansible.repo")), 191);
	free(path);
	conf_free(conf);
}
END_TEST

START_TEST(test_plugin_sections)
{
	struct conf	*conf = conf_new();
	char		*p, *err = NULL, *want;

	p = check_conf_write("p.conf", "[plugin.desktop-metrics]\n"
	    "interval = 5s\nGPU = nvidia\n[plugin.infra]\ninterval = 1m\n");
	ck_assert_int_eq(conf_load(conf, p, &err), 0);
	ck_assert_ptr_null(check_conf_log.buf);
	ck_assert_str_eq(conf_get(conf, "plugin.desktop-metrics.interval"),
	    "5s");
	ck_assert_str_eq(conf_get(conf, "plugin.desktop-metrics.GPU"),
	    "nvidia");
	ck_assert_str_eq(conf_get(conf, "plugin.infra.interval"), "1m");
	ck_assert_ptr_null(conf_get(conf, "plugin.infra.GPU"));
	want = xasprintf("%s:3", p);
	ck_assert_str_eq(conf_origin(conf, "plugin.desktop-metrics.GPU"), want);
	free(want);
	free(p);
	conf_free(conf);
}
END_TEST

/* Durations: text and seconds (-1: must be refused). */
static const struct {
	const char	*text;
	double		 seconds;
} check_conf_durations[] = {
	{ "90", 90 }, { "90s", 90 }, { "5m", 300 }, { "1h", 3600 },
	{ "2d", 172800 }, { "180d", 15552000 }, { "1w", 604800 },
	{ "1h30m", 5400 }, { "1.5h", 5400 }, { "500ms", 0.5 }, { "0", 0 },
	{ "", -1 }, { "5x", -1 }, { "h", -1 }, { "-5s", -1 }, { "1h30", -1 },
	{ "5 m", -1 }, { " 5m", -1 }, { "5m ", -1 }, { "1e3", -1 },
	{ "inf", -1 }, { "nan", -1 }, { "5M", -1 }, { ".", -1 },
};

START_TEST(test_duration)
{
	double	d = -42;
	int	rc = conf_parse_duration(check_conf_durations[_i].text, &d);

	if (check_conf_durations[_i].seconds < 0) {
		ck_assert_msg(rc == -1, "'%s' accepted as %g",
		    check_conf_durations[_i].text, d);
	} else {
		ck_assert_msg(rc == 0, "'%s' refused",
		    check_conf_durations[_i].text);
		ck_assert_msg(d == check_conf_durations[_i].seconds,
		    "'%s' is %g", check_conf_durations[_i].text, d);
	}
}
END_TEST

/* Sizes: text and bytes (ok 0: must be refused). */
static const struct {
	const char	*text;
	uint64_t	 bytes;
	int		 ok;
} check_conf_sizes[] = {
	{ "0", 0, 1 }, { "512", 512, 1 }, { "64k", 65536, 1 },
	{ "64K", 65536, 1 }, { "10M", 10485760, 1 },
	{ "2G", 2147483648ULL, 1 }, { "1T", 1099511627776ULL, 1 },
	{ "1KiB", 1024, 1 }, { "3mb", 3145728, 1 }, { "7B", 7, 1 },
	{ "16777215T", 18446742974197923840ULL, 1 },
	{ "", 0, 0 }, { "k", 0, 0 }, { "1.5M", 0, 0 }, { "12X", 0, 0 },
	{ "-1", 0, 0 }, { " 5k", 0, 0 }, { "5 k", 0, 0 }, { "5k ", 0, 0 },
	{ "16777216T", 0, 0 }, { "18446744073709551616", 0, 0 },
	{ "1kk", 0, 0 },
};

START_TEST(test_size)
{
	uint64_t	b = 42;
	int		rc = conf_parse_size(check_conf_sizes[_i].text, &b);

	if (!check_conf_sizes[_i].ok) {
		ck_assert_msg(rc == -1, "'%s' accepted as %llu",
		    check_conf_sizes[_i].text, (unsigned long long)b);
		ck_assert_uint_eq(b, 42);
	} else {
		ck_assert_msg(rc == 0, "'%s' refused",
		    check_conf_sizes[_i].text);
		ck_assert_msg(b == check_conf_sizes[_i].bytes, "'%s' is %llu",
		    check_conf_sizes[_i].text, (unsigned long long)b);
	}
}
END_TEST

START_TEST(test_duration_key)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	ck_assert_int_eq(conf_set(conf, "ansible.timeout", "2d", "--timeout",
	    &err), 0);
	ck_assert(conf_get_duration(conf, "ansible.timeout") == 172800);
	ck_assert_int_eq(conf_get_int(conf, "ansible.timeout"), 172800);
	ck_assert_int_eq(conf_set(conf, "ansible.timeout", "180d",
	    "--timeout", &err), -1);
	ck_assert_str_eq(err, "--timeout: ansible.timeout: bad value '180d' "
	    "(accepted: a duration from 0s to 7d " DURATION_ACCEPTED ")");
	free(err);
	ck_assert(conf_get_duration(conf, "ansible.timeout") == 172800);
	conf_free(conf);
}
END_TEST

START_TEST(test_log_levels)
{
	static const char *const names[] = { "error", "warning", "info",
	    "debug" };
	struct conf	*conf = conf_new();
	char		*err = NULL;
	int		 i;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(conf_set(conf, "log.level", names[i], "--l",
		    &err), 0);
		ck_assert_int_eq(conf_get_int(conf, "log.level"), i);
	}
	ck_assert_int_eq(CHIFFON_LOG_ERROR, 0);
	ck_assert_int_eq(CHIFFON_LOG_DEBUG, 3);
	conf_free(conf);
}
END_TEST

START_TEST(test_conninfo_and_usd)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	ck_assert_int_eq(conf_set(conf, "db.url", "postgres:///chiffon?host="
	    "/var/lib/chiffon", "--db-url", &err), 0);
	ck_assert_int_eq(conf_set(conf, "db.url", "dbname=chiffon user=me",
	    "--db-url", &err), 0);
	ck_assert_int_eq(conf_set(conf, "db.url", "chiffon", "--db-url",
	    &err), -1);
	free(err);
	ck_assert_int_eq(conf_set(conf, "llm.budget_daily_usd", "$0.25",
	    "--x", &err), 0);
	ck_assert_str_eq(conf_get(conf, "llm.budget_daily_usd"), "0.25");
	ck_assert_int_eq(conf_set(conf, "llm.budget_daily_usd", "1e3",
	    "--x", &err), -1);
	free(err);
	ck_assert_int_eq(conf_set(conf, "llm.budget_daily_usd", "$", "--x",
	    &err), -1);
	free(err);
	conf_free(conf);
}
END_TEST

START_TEST(test_default_data_dir)
{
	char	*s;

	/* root: a directory the unprivileged server account can reach. */
	s = conf_default_data_dir(0, "/x/data", "/root");
	ck_assert_str_eq(s, "/var/lib/chiffon");
	free(s);
	s = conf_default_data_dir(1000, "/x/data", "/home/u");
	ck_assert_str_eq(s, "/x/data/chiffon");
	free(s);
	/* A relative XDG_DATA_HOME is ignored, as the XDG spec says. */
	s = conf_default_data_dir(1000, "data", "/home/u");
	ck_assert_str_eq(s, "/home/u/.local/share/chiffon");
	free(s);
	s = conf_default_data_dir(1000, NULL, "/home/u/");
	ck_assert_str_eq(s, "/home/u/.local/share/chiffon");
	free(s);
	s = conf_default_data_dir(1000, "", "/");
	ck_assert_str_eq(s, "/.local/share/chiffon");
	free(s);
	ck_assert_ptr_null(conf_default_data_dir(1000, NULL, NULL));
	ck_assert_ptr_null(conf_default_data_dir(1000, NULL, "relative"));
}
END_TEST

START_TEST(test_derived_defaults)
{
	struct conf	*conf = conf_new();
	char		*err = NULL;

	ck_assert_int_eq(conf_set(conf, "core.data_dir", "/srv/a", "--data-dir",
	    &err), 0);
	ck_assert_str_eq(conf_get(conf, "log.file"), "/srv/a/chiffon.log");
	ck_assert_str_eq(conf_origin(conf, "log.file"), "default");
	ck_assert_int_eq(conf_set(conf, "log.file", "/var/log/c.log", "--x",
	    &err), 0);
	ck_assert_int_eq(conf_set(conf, "core.data_dir", "/srv/b", "--data-dir",
	    &err), 0);
	/* An explicit log.file stays; audit.repo follows the data dir. */
	ck_assert_str_eq(conf_get(conf, "log.file"), "/var/log/c.log");
	ck_assert_str_eq(conf_get(conf, "audit.repo"), "/srv/b/audit");
	conf_free(conf);
}
END_TEST

START_TEST(test_wrong_type_aborts)
{
	struct conf	*conf = conf_new();

	/* A typed getter on a key of another type is a programming error. */
	(void)conf_get_duration(conf, "log.level");
}
END_TEST

START_TEST(test_manual_documents_every_key)
{
	const char	*src = getenv("CHIFFON_SRCDIR"), *key;
	char		*path, *text, *needle;
	size_t		 i;

	ck_assert_msg(src != NULL, "CHIFFON_SRCDIR is not set");
	path = xasprintf("%s/man/chiffon.conf.5", src);
	ck_assert_msg((text = read_file(path, NULL)) != NULL, "%s: %s", path,
	    strerror(errno));
	for (i = 0; (key = conf_key_at(i)) != NULL; i++) {
		needle = xasprintf("\n.B %s\n", key);
		ck_assert_msg(strstr(text, needle) != NULL,
		    "%s does not document %s", path, key);
		free(needle);
	}
	ck_assert_uint_gt(i, 10);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_manual_example)
{
	const char	*src = getenv("CHIFFON_SRCDIR"), *start, *end, *q;
	struct strbuf	 ex = { 0 };
	struct conf	*conf = conf_new();
	char		*path, *text, *file, *err = NULL;

	/* The example file in EXAMPLES must load without a warning. */
	ck_assert_msg(src != NULL, "CHIFFON_SRCDIR is not set");
	path = xasprintf("%s/man/chiffon.conf.5", src);
	ck_assert_ptr_nonnull(text = read_file(path, NULL));
	start = strstr(text, ".EX\n; ~/.config/chiffon/chiffon.conf\n");
	ck_assert_msg(start != NULL, "%s: no example file", path);
	start += 4;
	ck_assert_ptr_nonnull(end = strstr(start, ".EE\n"));
	for (q = start; q < end; q++) {
		if (q[0] == '\\' && q[1] == '-')
			continue;	/* roff's \- is a plain '-' */
		strbuf_addc(&ex, *q);
	}
	file = check_conf_write("example.conf", ex.buf);
	ck_assert_msg(conf_load(conf, file, &err) == 0, "%s", err);
	ck_assert_ptr_null(check_conf_log.buf);
	ck_assert_str_eq(conf_get(conf, "ansible.repo"), "/srv/ansible");
	ck_assert(conf_get_duration(conf, "ansible.timeout") == 7200);
	free(file);
	strbuf_free(&ex);
	free(text);
	free(path);
	conf_free(conf);
}
END_TEST

static Suite *
check_conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, check_conf_setup, check_conf_teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_loop_test(tc, test_bad_file, 0, nitems(check_conf_bad));
	tcase_add_test(tc, test_long_line_limit);
	tcase_add_test(tc, test_plugin_sections);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, check_conf_setup, check_conf_teardown);
	tcase_add_test(tc, test_lookup_explicit_missing);
	tcase_add_test(tc, test_lookup_explicit_beats_env_and_xdg);
	tcase_add_test(tc, test_lookup_env_missing);
	tcase_add_test(tc, test_lookup_home_config);
	tcase_add_test(tc, test_lookup_system);
	suite_add_tcase(s, tc);

	tc = tcase_create("override");
	tcase_add_checked_fixture(tc, check_conf_setup, check_conf_teardown);
	tcase_add_test(tc, test_env_overrides_file);
	tcase_add_test(tc, test_env_all_keys);
	tcase_add_test(tc, test_set_overrides_env);
	tcase_add_test(tc, test_env_bad_value);
	tcase_add_test(tc, test_set_bad_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, check_conf_setup, check_conf_teardown);
	tcase_add_loop_test(tc, test_duration, 0, nitems(check_conf_durations));
	tcase_add_loop_test(tc, test_size, 0, nitems(check_conf_sizes));
	tcase_add_test(tc, test_duration_key);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_conninfo_and_usd);
	tcase_add_test(tc, test_default_data_dir);
	tcase_add_test(tc, test_derived_defaults);
	tcase_add_test_raise_signal(tc, test_wrong_type_aborts, SIGABRT);
	tcase_add_test(tc, test_manual_documents_every_key);
	tcase_add_test(tc, test_manual_example);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_conf_suite());
}
