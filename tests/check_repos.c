/*
 * check_repos.c - real repository layouts (tests/repos/NAME): the catalog
 * below the playbook (roles, plays per group, imports, features and app
 * loops, tags inside roles, one playbook per operation) and the planner
 * on it, through the real infra plugin and a throwaway PostgreSQL:
 *
 *   - a table of requests, each with the exact playbook, --tags,
 *     --skip-tags, --limit and extra vars it must plan, or the refusal
 *     and what the question must say;
 *   - the wrong plan that must never happen: an app that is only a tag
 *     of the site playbook, with the tag gone, is refused, not planned
 *     as the whole playbook;
 *   - per layout, `chiffon run --yes` runs the planned ansible-playbook
 *     command for real (connection: local) and the files the roles
 *     write are there (or gone, for a removal).
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "conf.h"
#include "orchtest.h"
#include "plan.h"
#include "testutil.h"
#include "util.h"
#include "vocab.h"

/* One request on one fixture and the step it must plan. */
struct repos_row {
	const char	*repo;		/* under tests/repos */
	const char	*text;
	const char	*playbook;	/* NULL: refused */
	const char	*tags;		/* "a,b", "" for none */
	const char	*skip;		/* --skip-tags, "" for none */
	const char	*limit;		/* NULL: none */
	const char	*vars;		/* extra vars (plain JSON) */
	const char	*question;	/* refused: in a question */
};

static const struct repos_row repos_rows[] = {
	/* 1. One site playbook, tagged roles, <role>_enabled toggles. */
	{ "nas", "deploy jellyfin", "nas.yml", "jellyfin", "", NULL,
	  "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "remove jellyfin", "nas.yml", "jellyfin", "", NULL,
	  "{\"jellyfin_enabled\":false}", NULL },
	{ "nas", "install sonarr", "nas.yml", "sonarr", "", NULL,
	  "{\"sonarr_enabled\":true}", NULL },
	{ "nas", "uninstall radarr", "nas.yml", "radarr", "", NULL,
	  "{\"radarr_enabled\":false}", NULL },
	{ "nas", "disable heimdall", "nas.yml", "heimdall", "", NULL,
	  "{\"heimdall_enabled\":false}", NULL },
	{ "nas", "enable radarr", "nas.yml", "radarr", "", NULL,
	  "{\"radarr_enabled\":true}", NULL },
	{ "nas", "set up jellyfin", "nas.yml", "jellyfin", "", NULL,
	  "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "turn off sonarr", "nas.yml", "sonarr", "", NULL,
	  "{\"sonarr_enabled\":false}", NULL },
	{ "nas", "turn on sonarr", "nas.yml", "sonarr", "", NULL,
	  "{\"sonarr_enabled\":true}", NULL },
	{ "nas", "reinstall jellyfin", "nas.yml", "jellyfin", "", NULL,
	  "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "redeploy heimdall", "nas.yml", "heimdall", "", NULL,
	  "{\"heimdall_enabled\":true}", NULL },
	{ "nas", "tear down radarr", "nas.yml", "radarr", "", NULL,
	  "{\"radarr_enabled\":false}", NULL },
	{ "nas", "update jellyfin", "nas.yml", "jellyfin", "", NULL,
	  "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "deploy jellyfin version 10.9.1", "nas.yml", "jellyfin", "",
	  NULL, "{\"jellyfin_enabled\":true,\"jellyfin_version\":\"10.9.1\"}",
	  NULL },
	{ "nas", "deploy jellyfin without restarting", "nas.yml", "jellyfin",
	  "restart", NULL, "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "deploy jellyfin on nas1", "nas.yml", "jellyfin", "", "nas1",
	  "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "deploy jellyfin everywhere", "nas.yml", "jellyfin", "",
	  NULL, "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "deploy jellyfin in nas.yml", "nas.yml", "jellyfin", "",
	  NULL, "{\"jellyfin_enabled\":true}", NULL },
	{ "nas", "deploy jellyfin jellyfin_version=2.0", "nas.yml",
	  "jellyfin", "", NULL, "{\"jellyfin_enabled\":true,"
	  "\"jellyfin_version\":\"2.0\"}", NULL },
	/* 5. Tags inside a role: parts of the monitoring role. */
	{ "nas", "deploy grafana", "nas.yml", "grafana", "", NULL, "{}",
	  NULL },
	{ "nas", "install prometheus", "nas.yml", "prometheus", "", NULL, "{}",
	  NULL },
	{ "nas", "deploy grafana version 11.0", "nas.yml", "grafana", "", NULL,
	  "{\"grafana_version\":\"11.0\"}", NULL },
	{ "nas", "deploy plex", "nas.yml", "plex", "", NULL, "{}", NULL },
	{ "nas", "deploy nas.yml", "nas.yml", "", "", NULL, "{}", NULL },
	/* Refused: what cannot be run as asked. */
	{ "nas", "deploy jellyfin tag nosuchtag", NULL, NULL, NULL, NULL, NULL,
	  "has no tag 'nosuchtag'" },
	{ "nas", "deploy docker", NULL, NULL, NULL, NULL, NULL,
	  "ansible-galaxy install -r requirements.yml" },
	{ "nas", "restart jellyfin", NULL, NULL, NULL, NULL, NULL,
	  "\"deploy jellyfin in nas.yml\"" },
	{ "nas", "deploy mysql", NULL, NULL, NULL, NULL, NULL,
	  "no service 'mysql'" },
	{ "nas", "back up jellyfin", NULL, NULL, NULL, NULL, NULL,
	  "no playbook matches backup jellyfin" },

	/* 2. Plays per host group: the limit from the play's hosts. */
	{ "groups", "deploy pihole", "site.yml", "pihole", "", "pis",
	  "{\"pihole_enabled\":true}", NULL },
	{ "groups", "deploy unbound", "site.yml", "unbound", "", "pis",
	  "{\"unbound_enabled\":true}", NULL },
	{ "groups", "install samba", "site.yml", "samba", "", "nas",
	  "{\"samba_enabled\":true}", NULL },
	{ "groups", "deploy minecraft", "site.yml", "minecraft", "", "games",
	  "{\"minecraft_enabled\":true}", NULL },
	{ "groups", "deploy github runner", "site.yml", "runner", "",
	  "runners", "{\"github_runner_enabled\":true}", NULL },
	{ "groups", "deploy pihole on core-pi5", "site.yml", "pihole", "",
	  "core-pi5", "{\"pihole_enabled\":true}", NULL },
	{ "groups", "install samba on nas-01", "site.yml", "samba", "",
	  "nas-01", "{\"samba_enabled\":true}", NULL },
	{ "groups", "deploy minecraft on vm-games", "site.yml", "minecraft",
	  "", "vm-games", "{\"minecraft_enabled\":true}", NULL },
	{ "groups", "deploy github runner on gh-runner-01", "site.yml",
	  "runner", "", "gh-runner-01", "{\"github_runner_enabled\":true}",
	  NULL },
	{ "groups", "deploy pihole on all pis", "site.yml", "pihole", "",
	  "pis", "{\"pihole_enabled\":true}", NULL },
	{ "groups", "deploy pihole on pi-zero2 and core-pi5", "site.yml",
	  "pihole", "", "pi-zero2,core-pi5", "{\"pihole_enabled\":true}",
	  NULL },
	{ "groups", "remove minecraft from vm-games", "site.yml", "minecraft",
	  "", "vm-games", "{\"minecraft_enabled\":false}", NULL },
	{ "groups", "remove samba", "site.yml", "samba", "", "nas",
	  "{\"samba_enabled\":false}", NULL },
	{ "groups", "deploy pihole on lab", "site.yml", "pihole", "", "lab",
	  "{\"pihole_enabled\":true}", NULL },
	{ "groups", "deploy unbound on all nodes", "site.yml", "unbound", "",
	  "pis", "{\"unbound_enabled\":true}", NULL },
	{ "groups", "deploy dns", "site.yml", "dns", "", NULL, "{}", NULL },
	{ "groups", "deploy site.yml", "site.yml", "", "", NULL, "{}", NULL },
	{ "groups", "deploy pihole on staging", NULL, NULL, NULL, NULL, NULL,
	  "a host or group named 'staging'" },
	{ "groups", "deploy nextcloud", NULL, NULL, NULL, NULL, NULL,
	  "no service 'nextcloud'" },

	/* 3. A playbook that imports others. */
	{ "imports", "deploy k3s", "tasks/k3s.yml", "", "", NULL, "{}", NULL },
	{ "imports", "deploy jellyfin", "playbooks/media/jellyfin.yml", "", "",
	  NULL, "{}", NULL },
	{ "imports", "deploy uptime kuma",
	  "playbooks/monitoring/uptime-kuma.yml", "", "", NULL, "{}", NULL },
	{ "imports", "deploy k3s in main.yml", "main.yml", "k3s", "", NULL,
	  "{}", NULL },
	{ "imports", "deploy jellyfin in main.yml", "main.yml", "jellyfin", "",
	  NULL, "{}", NULL },
	{ "imports", "deploy uptime kuma in main.yml",
	  "playbooks/monitoring/uptime-kuma.yml", "", "", NULL, "{}", NULL },
	{ "imports", "deploy k3s on k3s-1", "tasks/k3s.yml", "", "", "k3s-1",
	  "{}", NULL },
	{ "imports", "deploy main.yml", "main.yml", "", "", NULL, "{}", NULL },
	{ "imports", "deploy tasks/k3s.yml", "tasks/k3s.yml", "", "", NULL,
	  "{}", NULL },
	{ "imports", "deploy grafana", NULL, NULL, NULL, NULL, NULL,
	  "no service 'grafana'" },

	/* 4. Feature task files with toggles, an include loop over apps. */
	{ "features", "deploy gitea", "homelab.yml", "", "", NULL,
	  "{\"apps\":[\"gitea\"]}", NULL },
	{ "features", "install vaultwarden", "homelab.yml", "", "", NULL,
	  "{\"apps\":[\"vaultwarden\"]}", NULL },
	{ "features", "deploy freshrss", "homelab.yml", "", "", NULL,
	  "{\"apps\":[\"freshrss\"]}", NULL },
	{ "features", "enable tailscale", "homelab.yml", "tailscale", "", NULL,
	  "{\"tailscale_enable\":true}", NULL },
	{ "features", "disable tailscale", "homelab.yml", "tailscale", "",
	  NULL, "{\"tailscale_enable\":false}", NULL },
	{ "features", "deploy docker", "homelab.yml", "docker", "", NULL,
	  "{\"docker_enable\":true}", NULL },
	{ "features", "remove docker", "homelab.yml", "docker", "", NULL,
	  "{\"docker_enable\":false}", NULL },
	{ "features", "deploy gitea on box", "homelab.yml", "", "", "box",
	  "{\"apps\":[\"gitea\"]}", NULL },
	{ "features", "deploy homelab.yml", "homelab.yml", "", "", NULL, "{}",
	  NULL },
	{ "features", "remove gitea", NULL, NULL, NULL, NULL, NULL,
	  "no playbook matches remove gitea" },
	{ "features", "deploy gitea ansible_become_password=x", "homelab.yml",
	  "", "", NULL, "{\"apps\":[\"gitea\"],"
	  "\"ansible_become_password\":\"x\"}", NULL },

	/* 6. One playbook per operation. */
	{ "ops", "install k3s", "k3s-install.yml", "", "", NULL, "{}", NULL },
	{ "ops", "stop k3s", "k3s-stop.yml", "", "", NULL, "{}", NULL },
	{ "ops", "nuke k3s", "k3s-nuke.yml", "", "", NULL, "{}", NULL },
	{ "ops", "tear down k3s", "k3s-nuke.yml", "", "", NULL, "{}", NULL },
	{ "ops", "reset k3s", "k3s-nuke.yml", "", "", NULL, "{}", NULL },
	{ "ops", "reboot all nodes", "reboot.yml", "", "", NULL, "{}", NULL },
	{ "ops", "reboot everything", "reboot.yml", "", "", NULL, "{}", NULL },
	{ "ops", "reboot db-1", "reboot.yml", "", "", "db-1", "{}", NULL },
	{ "ops", "upgrade everything", "upgrade.yml", "", "", NULL, "{}",
	  NULL },
	{ "ops", "apply updates everywhere", "upgrade.yml", "", "", NULL, "{}",
	  NULL },
	{ "ops", "update apt", "apt-update.yml", "", "", NULL, "{}", NULL },
	{ "ops", "backup db", "db_backup.yaml", "", "", NULL, "{}", NULL },
	{ "ops", "restore db", "db_restore.yaml", "", "", NULL, "{}", NULL },
	{ "ops", "deploy sonarr", "playbooks/individual/media/arr/sonarr.yaml",
	  "", "", NULL, "{}", NULL },
	{ "ops", "install adguard",
	  "playbooks/individual/infra/dns/adguard.yaml", "", "", NULL, "{}",
	  NULL },
	{ "ops", "deploy docker", "03_docker.yml", "", "", NULL, "{}", NULL },
	{ "ops", "install k3s version 1.30.1", "k3s-install.yml", "", "", NULL,
	  "{\"k3s_version\":\"1.30.1\"}", NULL },
	{ "ops", "install k3s on k3s-node-1", "k3s-install.yml", "", "",
	  "k3s-node-1", "{}", NULL },
	{ "ops", "stop k3s on k3s_cluster", "k3s-stop.yml", "", "",
	  "k3s_cluster", "{}", NULL },
	{ "ops", "install k3s ansible_python_interpreter", "k3s-install.yml",
	  "", "", NULL, "{}", NULL },
	{ "ops", "start k3s", NULL, NULL, NULL, NULL, NULL,
	  "no playbook matches start k3s" },
	/* A playbook named for no action only applies its service. */
	{ "ops", "remove sonarr", NULL, NULL, NULL, NULL, NULL,
	  "no playbook matches remove sonarr" },
	{ "ops", "back up adguard", NULL, NULL, NULL, NULL, NULL,
	  "no playbook matches backup adguard" },
	{ "imports", "remove k3s", NULL, NULL, NULL, NULL, NULL,
	  "no playbook matches remove k3s" },
	{ "ops", "update sonarr", "playbooks/individual/media/arr/sonarr.yaml",
	  "", "", NULL, "{}", NULL },
};

static struct orchtest	 ot;
static const char	*ot_repo;

/* An app on the fixture repository (one database per fixture). */
static void
repos_use(const char *repo)
{
	char	*rel, prefix[32];
	size_t	 i;

	if (ot_repo != NULL && strcmp(ot_repo, repo) == 0)
		return;
	if (ot_repo != NULL)
		orchtest_stop(&ot);
	rel = xasprintf("tests/repos/%s", repo);
	snprintf(prefix, sizeof prefix, "repos");
	for (i = 0; i < nitems(prefix) - 6 && repo[i] != '\0'; i++)
		prefix[5 + i] = repo[i] == '-' ? '_' : repo[i];
	prefix[5 + i] = '\0';
	orchtest_start_repo(&ot, prefix, rel);
	ot_repo = repo;
	free(rel);
}

static void
teardown(void)
{
	if (ot_repo != NULL)
		orchtest_stop(&ot);
	ot_repo = NULL;
}

/* The strings of a JSON array joined by ",". Caller frees. */
static char *
repos_join(json_object *a)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	strbuf_adds(&sb, "");
	for (i = 0; a != NULL && i < json_object_array_length(a); i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? "," : "",
		    json_object_get_string(json_object_array_get_idx(a, i)));
	return strbuf_detach(&sb);
}

/* Does some question of p contain s? */
static int
repos_asks(const struct plan *p, const char *s)
{
	size_t	i;

	for (i = 0; i < json_object_array_length(p->questions); i++) {
		if (strstr(json_object_get_string(json_object_array_get_idx(
		    p->questions, i)), s) != NULL)
			return 1;
	}
	return 0;
}

/* Check one row; the plan is freed.  Returns a message or NULL. */
static char *
repos_check(const struct repos_row *r, struct plan *p)
{
	const struct plan_task	*t;
	char			*tags, *skip, *msg = NULL;
	const char		*vars, *q;

	q = json_object_to_json_string(p->questions);
	if (r->playbook == NULL) {
		if (plan_runnable(p))
			return xasprintf("%s: planned %s, expected a refusal",
			    r->text, p->ntasks > 0 && p->tasks[0].playbook ?
			    p->tasks[0].playbook : "?");
		if (!repos_asks(p, r->question))
			return xasprintf("%s: no question says '%s': %s",
			    r->text, r->question, q);
		return NULL;
	}
	if (!plan_runnable(p))
		return xasprintf("%s: not runnable: %s", r->text, q);
	if (p->ntasks != 1)
		return xasprintf("%s: %zu steps, not 1", r->text, p->ntasks);
	t = &p->tasks[0];
	tags = repos_join(t->tags);
	skip = repos_join(t->skip_tags);
	vars = json_object_to_json_string_ext(t->extra_vars,
	    JSON_C_TO_STRING_PLAIN);
	if (strcmp(t->playbook, r->playbook) != 0 ||
	    strcmp(tags, r->tags) != 0 || strcmp(skip, r->skip) != 0 ||
	    (t->limit == NULL) != (r->limit == NULL) ||
	    (t->limit != NULL && strcmp(t->limit, r->limit) != 0) ||
	    strcmp(vars, r->vars) != 0)
		msg = xasprintf("%s: planned %s tags=[%s] skip=[%s] limit=%s "
		    "vars=%s; expected %s tags=[%s] skip=[%s] limit=%s vars=%s "
		    "(command: %s)", r->text, t->playbook, tags, skip,
		    t->limit != NULL ? t->limit : "-", vars, r->playbook,
		    r->tags, r->skip, r->limit != NULL ? r->limit : "-",
		    r->vars, t->command != NULL ? t->command : "-");
	free(tags);
	free(skip);
	return msg;
}

START_TEST(test_request_table)
{
	struct strbuf	 fails = { 0 };
	struct plan	*p;
	char		*msg;
	size_t		 i, nfail = 0;

	ck_assert_uint_ge(nitems(repos_rows), 80);
	for (i = 0; i < nitems(repos_rows); i++) {
		repos_use(repos_rows[i].repo);
		p = orchtest_plan(&ot, repos_rows[i].text);
		if ((msg = repos_check(&repos_rows[i], p)) != NULL) {
			strbuf_addf(&fails, "  [%s] %s\n", repos_rows[i].repo,
			    msg);
			nfail++;
			free(msg);
		}
		plan_free(p);
	}
	if (nfail > 0)
		fprintf(stderr, "%s", fails.buf);
	ck_assert_msg(nfail == 0, "%zu of %zu rows failed (listed above)",
	    nfail, nitems(repos_rows));
	strbuf_free(&fails);
}
END_TEST

/* --- running the planned command for real -------------------------------- */

/* What one run of the binary did. */
struct repos_out {
	int		 status;
	struct strbuf	 text;		/* stdout and stderr */
};

/*
 * Run argv (NULL-terminated) with the NAME, VALUE pairs of env (NULL-
 * ended, may be NULL) set in the child, and wait; the exit status or -1.
 */
static int
repos_exec(const char *const *argv, const char *const *env,
    struct strbuf *out)
{
	struct testutil_out	 r;
	const char		*e[16];
	char			*set[8];
	size_t			 n = 0, k = 0, i;
	int			 status;

	for (; env != NULL && env[0] != NULL && k < nitems(set); env += 2)
		e[n++] = set[k++] = xasprintf("%s=%s", env[0], env[1]);
	e[n++] = "CHIFFON_CONFIG";
	e[n++] = "SSH_CONNECTION";
	e[n] = NULL;
	testutil_run(&r, argv, e, NULL, TESTUTIL_MERGE);
	if (out != NULL)
		strbuf_add(out, r.out, r.outlen);
	status = r.status;
	testutil_out_free(&r);
	for (i = 0; i < k; i++)
		free(set[i]);
	return status;
}

/* A private copy of a fixture repository and a root for its files. */
struct repos_copy {
	char	*dir;		/* removed at the end */
	char	*repo;
	char	*root;		/* CHIFFON_FIXTURE_ROOT */
};

static void
repos_copy(struct repos_copy *c, const char *name)
{
	const char	*argv[5];
	char		*src;

	c->dir = testutil_tmpdir("repos");
	c->repo = path_join(c->dir, name);
	c->root = path_join(c->dir, "root");
	src = xasprintf("%s/tests/repos/%s", orchtest_srcdir(), name);
	argv[0] = "cp";
	argv[1] = "-R";
	argv[2] = src;
	argv[3] = c->repo;
	argv[4] = NULL;
	ck_assert_int_eq(repos_exec(argv, NULL, NULL), 0);
	free(src);
}

static void
repos_copy_free(struct repos_copy *c)
{
	testutil_rm(c->dir);
	free(c->dir);
	free(c->repo);
	free(c->root);
}

/* src/chiffon ARGS on the copy, with the test's database and plugin. */
static void
repos_chiffon(struct repos_out *o, const struct repos_copy *c,
    const char *const *args)
{
	const char	*argv[12], *env[15];
	char		*bin;
	size_t		 n = 0;

	memset(o, 0, sizeof *o);
	env[0] = "CHIFFON_DB_URL";
	env[1] = ot.conninfo;
	env[2] = "CHIFFON_PLUGIN_PATH";
	env[3] = ot.plugin_dir;
	env[4] = "CHIFFON_REPO";
	env[5] = c->repo;
	env[6] = "CHIFFON_DATA_DIR";
	env[7] = c->dir;
	env[8] = "CHIFFON_FIXTURE_ROOT";
	env[9] = c->root;
	env[10] = "XDG_CONFIG_HOME";
	env[11] = c->dir;
	env[12] = NULL;
	bin = xasprintf("%s/src/chiffon", orchtest_builddir());
	argv[n++] = bin;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	o->status = repos_exec(argv, env, &o->text);
	free(bin);
}

/* `chiffon run --yes TEXT` on the copy must succeed. */
static void
repos_run(const struct repos_copy *c, const char *text)
{
	const char	*args[] = { "run", "--yes", text, NULL };
	struct repos_out o;

	repos_chiffon(&o, c, args);
	ck_assert_msg(o.status == 0, "chiffon run --yes '%s': exit %d\n%s",
	    text, o.status, o.text.buf);
	strbuf_free(&o.text);
}

/* The contents of root/HOST/FILE, or NULL when it does not exist. */
static char *
repos_file(const struct repos_copy *c, const char *host, const char *file)
{
	char	*path = xasprintf("%s/%s/%s", c->root, host, file), *text;

	text = read_file(path, NULL);
	free(path);
	return text;
}

static void
repos_file_is(const struct repos_copy *c, const char *host, const char *file,
    const char *want)
{
	char	*text = repos_file(c, host, file);

	if (want == NULL)
		ck_assert_msg(text == NULL, "%s/%s exists: %s", host, file,
		    text);
	else {
		ck_assert_msg(text != NULL, "%s/%s was not written", host,
		    file);
		ck_assert_str_eq(text, want);
	}
	free(text);
}

/*
 * Layout 1: "deploy jellyfin" runs nas.yml --tags jellyfin -e
 * jellyfin_enabled=true: jellyfin is written (and restarted), nothing
 * else is; "without restarting" skips the restart tag; "remove" takes
 * it away again.
 */
START_TEST(test_run_site_playbook)
{
	struct repos_copy	c;
	char			*path;

	repos_use("nas");
	repos_copy(&c, "nas");
	repos_run(&c, "deploy jellyfin");
	repos_file_is(&c, "nas1", "jellyfin", "jellyfin 1.0.0\n");
	repos_file_is(&c, "nas1", "jellyfin.restarted", "restarted\n");
	repos_file_is(&c, "nas1", "sonarr", NULL);
	repos_file_is(&c, "nas1", "heimdall", NULL);	/* on in group_vars */
	repos_file_is(&c, "nas1", "grafana", NULL);
	path = xasprintf("%s/nas1/jellyfin.restarted", c.root);
	ck_assert_int_eq(unlink(path), 0);
	repos_run(&c, "deploy jellyfin version 10.9.1 without restarting");
	repos_file_is(&c, "nas1", "jellyfin", "jellyfin 10.9.1\n");
	repos_file_is(&c, "nas1", "jellyfin.restarted", NULL);
	repos_run(&c, "deploy grafana");
	repos_file_is(&c, "nas1", "grafana", "grafana 10.2.3\n");
	repos_file_is(&c, "nas1", "prometheus", NULL);
	repos_run(&c, "remove jellyfin");
	repos_file_is(&c, "nas1", "jellyfin", NULL);
	free(path);
	repos_copy_free(&c);
}
END_TEST

/* Layout 2: the inventory is discovered and passed; the limit holds. */
START_TEST(test_run_group_plays)
{
	struct repos_copy	c;
	char			*s;

	repos_use("groups");
	repos_copy(&c, "groups");
	repos_run(&c, "deploy pihole on core-pi5");
	repos_file_is(&c, "core-pi5", "pihole", "pihole 1.0.0\n");
	/* It ran exactly the command the plan showed. */
	s = orchtest_str(orchtest_pg(&ot), "SELECT string_agg(a, ' ' ORDER "
	    "BY n) FROM (SELECT meta FROM runs ORDER BY id DESC LIMIT 1) r, "
	    "jsonb_array_elements_text(r.meta->'argv') WITH ORDINALITY AS "
	    "x(a, n) WHERE n > 1 AND a NOT LIKE '--extra-vars=@%'", 0, NULL);
	ck_assert_str_eq(s, "--inventory=inventories/production "
	    "--limit=core-pi5 --tags=pihole site.yml");
	free(s);
	s = orchtest_str(orchtest_pg(&ot), "SELECT (meta->'inputs'->"
	    "'extra_vars')::text FROM runs ORDER BY id DESC LIMIT 1", 0, NULL);
	ck_assert_str_eq(s, "{\"pihole_enabled\": true}");
	free(s);
	s = orchtest_str(orchtest_pg(&ot), "SELECT detail->'tasks'->0->>"
	    "'command' FROM plans ORDER BY id DESC LIMIT 1", 0, NULL);
	ck_assert_str_eq(s, "ansible-playbook site.yml -i inventories/production "
	    "--limit core-pi5 --tags pihole -e pihole_enabled=true");
	free(s);
	repos_file_is(&c, "pi-zero2", "pihole", NULL);
	repos_file_is(&c, "core-pi5", "unbound", NULL);
	repos_run(&c, "deploy minecraft");
	repos_file_is(&c, "vm-games", "minecraft", "minecraft 1.0.0\n");
	repos_file_is(&c, "nas-01", "samba", NULL);
	repos_copy_free(&c);
}
END_TEST

/* Layout 3: an import through the importing playbook with its tags. */
START_TEST(test_run_imports)
{
	struct repos_copy	c;

	repos_use("imports");
	repos_copy(&c, "imports");
	repos_run(&c, "deploy k3s in main.yml");
	repos_file_is(&c, "k3s-1", "k3s", "k3s\n");
	repos_file_is(&c, "media-1", "jellyfin", NULL);
	repos_file_is(&c, "k3s-1", "uptime-kuma", NULL);
	repos_run(&c, "deploy jellyfin");
	repos_file_is(&c, "media-1", "jellyfin", "jellyfin\n");
	repos_copy_free(&c);
}
END_TEST

/* Layout 4: one app of the include loop, one toggled feature. */
START_TEST(test_run_features)
{
	struct repos_copy	c;

	repos_use("features");
	repos_copy(&c, "features");
	repos_run(&c, "deploy gitea");
	repos_file_is(&c, "box", "gitea", "gitea\n");
	repos_file_is(&c, "box", "vaultwarden", NULL);
	repos_file_is(&c, "box", "tailscale", NULL);
	repos_run(&c, "enable tailscale");
	repos_file_is(&c, "box", "tailscale", "tailscale\n");
	repos_file_is(&c, "box", "freshrss", NULL);
	repos_copy_free(&c);
}
END_TEST

/*
 * Layout 6, and issue 9 item 9: a playbook that has run is renamed;
 * catalog and plan go on, and the history keeps the path and hash it
 * ran.
 */
START_TEST(test_run_ops_and_rename)
{
	const char *const	 catalog[] = { "catalog", NULL };
	const char *const	 plan[] = { "plan", "stop k3s", NULL };
	struct repos_copy	 c;
	struct repos_out	 o;
	char			*from, *to, *s;

	repos_use("ops");
	repos_copy(&c, "ops");
	repos_run(&c, "install k3s version 1.30.1 on k3s-node-1");
	repos_file_is(&c, "k3s-node-1", "k3s-installed", "k3s 1.30.1\n");
	repos_file_is(&c, "k3s-node-2", "k3s-installed", NULL);
	repos_run(&c, "reboot db-1");
	repos_file_is(&c, "db-1", "rebooted", "rebooted\n");
	repos_file_is(&c, "k3s-node-1", "rebooted", NULL);

	from = path_join(c.repo, "k3s-install.yml");
	to = path_join(c.repo, "k3s-setup-renamed.yml");
	ck_assert_int_eq(rename(from, to), 0);
	repos_chiffon(&o, &c, catalog);
	ck_assert_msg(o.status == 0, "catalog after a rename: exit %d\n%s",
	    o.status, o.text.buf);
	ck_assert_ptr_null(strstr(o.text.buf, "k3s-install.yml"));
	strbuf_free(&o.text);
	repos_chiffon(&o, &c, plan);
	ck_assert_msg(o.status == 0, "plan after a rename: exit %d\n%s",
	    o.status, o.text.buf);
	strbuf_free(&o.text);
	s = orchtest_str(orchtest_pg(&ot), "SELECT count(*) || ' ' || "
	    "bool_and(playbook_sha256 ~ '^[0-9a-f]{64}$') FROM tasks WHERE "
	    "playbook = 'k3s-install.yml' AND status = 'succeeded'", 0, NULL);
	ck_assert_str_eq(s, "1 true");
	free(s);
	free(from);
	free(to);
	repos_copy_free(&c);
}
END_TEST

/*
 * The wrong plan that must never happen: "remove plex" when plex was a
 * tag of the site playbook and the tag is gone is refused, never the
 * whole nas.yml.
 */
START_TEST(test_never_whole_playbook)
{
	struct repos_copy	 c;
	struct plan		*p;
	char			*path, *text, *cut;
	size_t			 i;
	FILE			*f;

	repos_use("nas");
	p = orchtest_plan(&ot, "deploy plex");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
	    p->tasks[0].tags, 0)), "plex");
	plan_free(p);

	repos_copy(&c, "nas");
	path = path_join(c.repo, "nas.yml");
	text = read_file(path, NULL);
	ck_assert_ptr_nonnull(cut = strstr(text, "      tags: [plex]\n"));
	memmove(cut, cut + strlen("      tags: [plex]\n"), strlen(cut) -
	    strlen("      tags: [plex]\n") + 1);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	orchtest_stop(&ot);
	ot_repo = NULL;
	orchtest_start_repo(&ot, "reposnoplex", "tests/repos/nas");
	ck_assert(conf_set(ot.app->conf, "ansible.repo", c.repo, "test",
	    NULL) == 0);
	ot_repo = "nas-without-plex";
	p = orchtest_plan(&ot, "remove plex");
	ck_assert(!plan_runnable(p));
	for (i = 0; i < p->ntasks; i++)
		ck_assert_ptr_null(p->tasks[i].playbook);
	ck_assert_int_eq(p->row_id, 0);
	plan_free(p);
	p = orchtest_plan(&ot, "deploy plex");
	ck_assert(!plan_runnable(p));
	for (i = 0; i < p->ntasks; i++)
		ck_assert_ptr_null(p->tasks[i].playbook);
	plan_free(p);
	p = orchtest_plan(&ot, "remove the plex app from the nas");
	ck_assert(!plan_runnable(p));
	for (i = 0; i < p->ntasks; i++)
		ck_assert_ptr_null(p->tasks[i].playbook);
	plan_free(p);
	free(text);
	free(path);
	repos_copy_free(&c);
}
END_TEST

/*
 * Issue 9, item 8: parameters from a parser tier become extra vars only
 * for names the repository declares; ansible_* only when typed.
 */
START_TEST(test_tier_params_limited)
{
	struct vocab	 v;
	struct plan	*p;
	json_object	*parsed;
	char		*err = NULL, *notes;

	repos_use("nas");
	ck_assert_msg(vocab_load(&v, ot.app, &err) == 0, "%s", err);
	parsed = json_tokener_parse("{\"tier\": \"external\", \"intents\": "
	    "[{\"action\": \"deploy\", \"service\": \"jellyfin\", \"targets\": "
	    "[], \"check\": false, \"text\": \"deploy jellyfin\", \"params\": "
	    "{\"ansible_python_interpreter\": \"touch /tmp/x; python3\", "
	    "\"jellyfin_version\": \"10.9.2\", \"evil\": \"1\"}}]}");
	p = plan_build(NULL, "deploy jellyfin", parsed, &v, plan_match_host,
	    ot.app, &err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert(plan_runnable(p));
	ck_assert_str_eq(json_object_to_json_string_ext(p->tasks[0].extra_vars,
	    JSON_C_TO_STRING_PLAIN), "{\"jellyfin_enabled\":true,"
	    "\"jellyfin_version\":\"10.9.2\"}");
	notes = xstrdup(json_object_to_json_string(p->notes));
	ck_assert_msg(strstr(notes, "not used: ansible_python_interpreter") !=
	    NULL, "%s", notes);
	ck_assert_msg(strstr(notes, "not used: evil=1") != NULL, "%s", notes);
	ck_assert_msg(strstr(p->tasks[0].command, "ansible-playbook nas.yml "
	    "--tags jellyfin -e jellyfin_enabled=true -e "
	    "jellyfin_version=10.9.2") == p->tasks[0].command, "%s",
	    p->tasks[0].command);
	free(notes);
	plan_free(p);
	json_object_put(parsed);
	vocab_free(&v);

	/* Words of the request nobody placed are shown, not dropped. */
	p = orchtest_plan(&ot, "deploy jellyfin quickly version 10.1 port 8096");
	ck_assert(plan_runnable(p));
	notes = xstrdup(json_object_to_json_string(p->notes));
	ck_assert_msg(strstr(notes, "not used: 'quickly'") != NULL, "%s",
	    notes);
	ck_assert_msg(strstr(notes, "not used: port=8096") != NULL, "%s",
	    notes);
	ck_assert_msg(strstr(notes, "to make it permanent, set "
	    "\\\"jellyfin_enabled: true\\\" in group_vars\\/nas.yml") !=
	    NULL, "%s", notes);
	free(notes);
	plan_free(p);
}
END_TEST

/* Write text to dir/name (mode). */
static void
repos_write(const char *dir, const char *name, const char *text, int mode)
{
	char	*path = path_join(dir, name);
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s", path);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	free(path);
}

/* Lines of a file (0 when it does not exist). */
static int
repos_lines(const char *path)
{
	char	*text = read_file(path, NULL), *p;
	int	 n = 0;

	for (p = text; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	free(text);
	return n;
}

/* A fresh app on repo with ansible-inventory counted by a wrapper. */
static void
repos_counted(const char *repo, const char *dir)
{
	char	*pb;

	if (ot_repo != NULL)
		orchtest_stop(&ot);
	orchtest_start_repo(&ot, "reposcache", "tests/repos/nas");
	pb = xasprintf("%s/bin/ansible-playbook", dir);
	ck_assert(conf_set(ot.app->conf, "ansible.playbook", pb, "test",
	    NULL) == 0);
	ck_assert(conf_set(ot.app->conf, "core.data_dir", dir, "test",
	    NULL) == 0);
	ck_assert(conf_set(ot.app->conf, "ansible.repo", repo, "test",
	    NULL) == 0);
	ot_repo = "counted";
	free(pb);
}

/*
 * The inventory is cached by its files' mtimes: planning again, even in
 * a new process, runs no ansible-inventory until a file changes.
 */
START_TEST(test_inventory_cache)
{
	struct repos_copy	 c;
	struct plan		*p;
	char			*bin, *script, *count, *inv;

	repos_copy(&c, "nas");
	bin = path_join(c.dir, "bin");
	ck_assert_int_eq(mkdir(bin, 0755), 0);
	count = path_join(c.dir, "count");
	script = xasprintf("#!/bin/sh\necho run >> '%s'\n"
	    "exec ansible-inventory \"$@\"\n", count);
	repos_write(bin, "ansible-inventory", script, 0755);
	repos_counted(c.repo, c.dir);
	p = orchtest_plan(&ot, "deploy jellyfin");
	ck_assert(plan_runnable(p));
	plan_free(p);
	ck_assert_int_eq(repos_lines(count), 1);
	p = orchtest_plan(&ot, "deploy sonarr on nas1");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	plan_free(p);
	ck_assert_int_eq(repos_lines(count), 1);
	/* A new process: the cache under the data dir. */
	repos_counted(c.repo, c.dir);
	p = orchtest_plan(&ot, "deploy radarr on nas1");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	plan_free(p);
	ck_assert_int_eq(repos_lines(count), 1);
	/* The inventory changed: ansible-inventory runs again. */
	inv = path_join(c.repo, "inventory");
	sleep(1);
	repos_write(c.repo, "inventory", "[nas]\nnas1 ansible_connection="
	    "local\nnas2 ansible_connection=local\n", 0644);
	p = orchtest_plan(&ot, "deploy radarr on nas2");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	plan_free(p);
	ck_assert_int_eq(repos_lines(count), 2);
	free(inv);
	free(bin);
	free(script);
	free(count);
	repos_copy_free(&c);
}
END_TEST

/*
 * ansible-inventory fails (an inventory it refuses): host and group
 * names are read from the file itself, and the catalog says so.
 */
START_TEST(test_inventory_fallback)
{
	const char *const	 args[] = { "catalog", NULL };
	struct repos_copy	 c;
	struct repos_out	 o;
	struct plan		*p;

	repos_use("nas");
	repos_copy(&c, "nas");
	repos_write(c.repo, "ansible.cfg", "[defaults]\ninventory = hosts "
	    "; comment\nroles_path = roles\n[inventory]\n"
	    "unparsed_is_failed = True\n", 0644);
	repos_write(c.repo, "hosts", "[nas]\nnas7 ansible_connection=local\n"
	    "[media:children]\nnas\n[broken:vars]\nthis line is no "
	    "variable\n", 0644);
	repos_chiffon(&o, &c, args);
	ck_assert_msg(o.status == 0, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "inventory: ansible-inventory "
	    "failed, so host and group names were read from hosts itself") !=
	    NULL, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "1 host in") != NULL, "%s",
	    o.text.buf);
	strbuf_free(&o.text);
	ck_assert(conf_set(ot.app->conf, "ansible.repo", c.repo, "test",
	    NULL) == 0);
	ot_repo = "fallback";
	p = orchtest_plan(&ot, "deploy jellyfin on nas7");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	ck_assert_str_eq(p->tasks[0].limit, "nas7");
	plan_free(p);
	repos_copy_free(&c);
}
END_TEST

/*
 * chiffon catalog: the services inside each playbook with tags and
 * toggles, the requirements not installed with the command, which
 * inventory is used when there are several.
 */
START_TEST(test_catalog_text)
{
	const char *const	 args[] = { "catalog", NULL };
	const char *const	 jargs[] = { "catalog", "--json", NULL };
	struct repos_copy	 c, g;
	struct repos_out	 o;
	char			*staging, *want;

	repos_use("nas");
	repos_copy(&c, "nas");
	repos_chiffon(&o, &c, args);
	ck_assert_msg(o.status == 0, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "- jellyfin (role) --tags jellyfin "
	    "toggle jellyfin_enabled hosts nas\n") != NULL, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "- grafana (tag) --tags grafana hosts "
	    "nas via roles/monitoring/tasks/grafana.yml\n") != NULL, "%s",
	    o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "not installed: role "
	    "geerlingguy.docker, collection chiffonfixture.absent (run: "
	    "ansible-galaxy install -r requirements.yml)") != NULL, "%s",
	    o.text.buf);
	strbuf_free(&o.text);
	repos_chiffon(&o, &c, jargs);
	ck_assert_int_eq(o.status, 0);
	ck_assert(strstr(o.text.buf, "\"toggle\":\"jellyfin_enabled\"") !=
	    NULL || strstr(o.text.buf, "\"toggle\": \"jellyfin_enabled\"") !=
	    NULL);
	strbuf_free(&o.text);
	repos_copy(&g, "groups");
	repos_chiffon(&o, &g, args);
	ck_assert_msg(o.status == 0, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "inventory: 2 candidates "
	    "(inventories/production, inventories/staging); using "
	    "inventories/production. Choose another with --inventory") != NULL, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "5 hosts in") != NULL, "%s",
	    o.text.buf);
	strbuf_free(&o.text);
	/* --inventory chooses; the note about candidates goes. */
	staging = path_join(g.repo, "inventories/staging");
	repos_chiffon(&o, &g, (const char *const[]){ "--inventory", staging,
	    "catalog", NULL });
	ck_assert_msg(o.status == 0, "%s", o.text.buf);
	want = xasprintf("inventory: %s (ansible.inventory)\n", staging);
	ck_assert_msg(strstr(o.text.buf, want) != NULL, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "5 hosts in") != NULL, "%s",
	    o.text.buf);
	free(want);
	free(staging);
	ck_assert_ptr_null(strstr(o.text.buf, "candidates"));
	strbuf_free(&o.text);
	repos_copy_free(&g);
	/* No inventory at all: a warning naming what was looked at. */
	repos_copy(&g, "features");
	staging = path_join(g.repo, "hosts");
	ck_assert_int_eq(unlink(staging), 0);
	free(staging);
	repos_chiffon(&o, &g, args);
	ck_assert_msg(o.status == 0, "%s", o.text.buf);
	ck_assert_msg(strstr(o.text.buf, "inventory: none found in") != NULL &&
	    strstr(o.text.buf, "(looked at ansible.cfg [defaults] inventory, "
	    "inventories/*/, inventory/*/, inventory, hosts, hosts.ini, "
	    "hosts.yml, hosts.yaml)") != NULL, "%s", o.text.buf);
	strbuf_free(&o.text);
	repos_copy_free(&g);
	repos_copy_free(&c);
}
END_TEST

/*
 * Two playbooks with a jellyfin role: "deploy jellyfin" asks, with the
 * exact words for each; the words the admin types are remembered
 * (playbook_mappings) and the next "deploy jellyfin" takes that choice.
 */
START_TEST(test_choice_remembered)
{
	struct repos_copy	 c;
	struct plan		*p;
	char			*s;

	repos_copy(&c, "nas");
	repos_write(c.repo, "media.yml", "- name: Media box\n  hosts: nas\n"
	    "  roles:\n    - role: jellyfin\n      tags: [jellyfin]\n", 0644);
	if (ot_repo != NULL)
		orchtest_stop(&ot);
	orchtest_start_repo(&ot, "reposchoice", "tests/repos/nas");
	ck_assert(conf_set(ot.app->conf, "ansible.repo", c.repo, "test",
	    NULL) == 0);
	ot_repo = "choice";
	p = orchtest_plan(&ot, "deploy jellyfin");
	ck_assert(!plan_runnable(p));
	ck_assert_msg(repos_asks(p, "\"deploy jellyfin in media.yml\"") &&
	    repos_asks(p, "\"deploy jellyfin in nas.yml\""), "%s",
	    json_object_to_json_string(p->questions));
	plan_free(p);
	p = orchtest_plan(&ot, "deploy jellyfin in media.yml");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	ck_assert_str_eq(p->tasks[0].playbook, "media.yml");
	plan_free(p);
	s = orchtest_str(orchtest_pg(&ot), "SELECT m.phrase || ' ' || p.path "
	    "|| ' ' || m.service FROM playbook_mappings m JOIN playbooks p ON "
	    "p.id = m.playbook_id", 0, NULL);
	ck_assert_str_eq(s, "deploy: jellyfin media.yml jellyfin");
	free(s);
	p = orchtest_plan(&ot, "deploy jellyfin");
	ck_assert_msg(plan_runnable(p), "%s",
	    json_object_to_json_string(p->questions));
	ck_assert_str_eq(p->tasks[0].playbook, "media.yml");
	ck_assert_str_eq(p->tasks[0].method, "mapping");
	ck_assert_str_eq(json_object_to_json_string_ext(p->tasks[0].extra_vars,
	    JSON_C_TO_STRING_PLAIN), "{\"jellyfin_enabled\":true}");
	plan_free(p);
	repos_copy_free(&c);
}
END_TEST

static Suite *
repos_suite(void)
{
	Suite	*s = suite_create("repos");
	TCase	*tc = tcase_create("plans");

	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_request_table);
	tcase_add_test(tc, test_never_whole_playbook);
	tcase_add_test(tc, test_tier_params_limited);
	tcase_add_test(tc, test_choice_remembered);
	suite_add_tcase(s, tc);

	tc = tcase_create("runs");
	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_run_site_playbook);
	tcase_add_test(tc, test_run_group_plays);
	tcase_add_test(tc, test_run_imports);
	tcase_add_test(tc, test_run_features);
	tcase_add_test(tc, test_run_ops_and_rename);
	tcase_add_test(tc, test_inventory_cache);
	tcase_add_test(tc, test_inventory_fallback);
	tcase_add_test(tc, test_catalog_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(repos_suite());
}
