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
#include "orchtest.h"
#include "plan.h"
#include "testutil.h"
#include "util.h"

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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(repos_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
