/*
 * check_match.c - the playbook matcher (plugins/infra/match.c) on a real
 * catalog: the demo homelab (contrib/homelab) plus the fixture repository
 * tests/catalog, both parsed with libyaml, 29 playbooks in all.
 *
 * A table of phrasings, each with the playbook it must match (and how)
 * or NULL for a miss, which must offer three candidates, the expected
 * one among them when given.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "catalog.h"
#include "intent.h"
#include "match.h"
#include "testutil.h"
#include "util.h"

/* One phrasing and what the matcher must answer. */
struct check_match_case {
	const char	*text;
	const char	*action;	/* as the orchestrator passes it */
	const char	*expect;	/* playbook path, NULL for a miss */
	enum match_method method;	/* for a match */
	const char	*candidate;	/* for a miss: must be offered */
};

static const struct check_match_case check_match_cases[] = {
	/* Exact: service names and aliases, with the action choosing. */
	{ "Deploy Kuma Uptime to homelab", NULL, "kuma-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "deploy uptime kuma on docker1", "deploy", "kuma-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "install Uptime-Kuma", NULL, "kuma-deploy.yml", MATCH_EXACT, NULL },
	{ "add the existing portals to uptime kuma as monitors", NULL,
	    "kuma-monitors.yml", MATCH_EXACT, NULL },
	{ "add existing portals to kuma config", "configure",
	    "kuma-monitors.yml", MATCH_EXACT, NULL },
	{ "install the media server on the nas", NULL, "jellyfin-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "remove jellyfin", NULL, "jellyfin-remove.yml", MATCH_EXACT, NULL },
	{ "set up pi-hole dns records", NULL, "pihole-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "deploy pihole", NULL, "pihole-deploy.yml", MATCH_EXACT, NULL },
	{ "back up nextcloud", NULL, "nextcloud-backup.yml", MATCH_EXACT,
	    NULL },
	{ "backup grafana dashboards", NULL, "grafana-backup.yml",
	    MATCH_EXACT, NULL },
	{ "install grafana", NULL, "grafana-deploy.yml", MATCH_EXACT, NULL },
	{ "back up the proxmox virtual machines", NULL, "proxmox-backup.yml",
	    MATCH_EXACT, NULL },
	{ "configure nas shares", NULL, "unraid-shares.yml", MATCH_EXACT,
	    NULL },
	{ "write the ssh config on the workstations", NULL,
	    "desktop-setup.yml", MATCH_EXACT, NULL },
	{ "add portal tiles to the start page", NULL, "homepage-config.yml",
	    MATCH_EXACT, NULL },
	{ "deploy homepage dashboard", NULL, "homepage-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "set up the vpn", NULL, "wireguard-setup.yml", MATCH_EXACT, NULL },
	{ "set up a git server", NULL, "gitea-deploy.yml", MATCH_EXACT,
	    NULL },
	{ "install hass", NULL, "home-assistant-install.yml", MATCH_EXACT,
	    NULL },
	{ "deploy a reverse proxy", NULL, "nginx-proxy-manager-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "deploy a password manager", "deploy", "vaultwarden-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "renew the ssl certificates", NULL, "playbooks/certs-renew.yml",
	    MATCH_EXACT, NULL },
	{ "upgrade os packages", NULL, "playbooks/system-upgrade.yml",
	    MATCH_EXACT, NULL },
	{ "run the nightly backups", NULL, "backup-all.yml", MATCH_EXACT,
	    NULL },
	/* Lexical, typos included. */
	{ "deploy jellyfn", NULL, "jellyfin-deploy.yml", MATCH_LEXICAL,
	    NULL },
	{ "deploy grafna", "deploy", "grafana-deploy.yml", MATCH_LEXICAL,
	    NULL },
	{ "deploy homepgae", NULL, "homepage-deploy.yml", MATCH_LEXICAL,
	    NULL },
	{ "install nextclod", NULL, "nextcloud-deploy.yml", MATCH_LEXICAL,
	    NULL },
	{ "monitor portals", NULL, "kuma-monitors.yml", MATCH_LEXICAL, NULL },
	/*
	 * The typo budget (MATCH_TYPO_MIN 5, MATCH_TYPO_LONG 8): two edits
	 * from eight letters, one from five, none below.
	 */
	{ "install nxetclod", NULL, "nextcloud-deploy.yml", MATCH_LEXICAL,
	    NULL },
	{ "deploy gitae", NULL, "gitea-deploy.yml", MATCH_LEXICAL, NULL },
	{ "deploy grxfanx", NULL, NULL, MATCH_NONE, NULL },
	{ "deploy kmua", NULL, NULL, MATCH_NONE, NULL },
	{ "sync folders between desktops", NULL, "syncthing-install.yaml",
	    MATCH_EXACT, NULL },	/* "sync" is the playbook's tag */
	{ "upgrade all proxmox hosts", "update",
	    "playbooks/system-upgrade.yml", MATCH_LEXICAL, NULL },
	{ "scrape time series metrics", NULL, "prometheus-deploy.yml",
	    MATCH_LEXICAL, NULL },
	/* "on proxmox" names the hosts: the words carry the match. */
	{ "schedule vm backups on proxmox", NULL, "proxmox-backup.yml",
	    MATCH_LEXICAL, NULL },
	/* Misses: nothing fits, or two fit equally. */
	{ "deploy paperless", NULL, NULL, MATCH_NONE, NULL },
	{ "install plex on the nas", NULL, NULL, MATCH_NONE, NULL },
	{ "configure traefik", NULL, NULL, MATCH_NONE, NULL },
	{ "restart kuma", NULL, NULL, MATCH_NONE, "kuma-deploy.yml" },
	{ "check kuma status", NULL, NULL, MATCH_NONE, "kuma-monitors.yml" },
	{ "kuma", NULL, NULL, MATCH_NONE, "kuma-deploy.yml" },
	{ "remove nextcloud", NULL, NULL, MATCH_NONE, "nextcloud-deploy.yml" },
	{ "upgrade jellyfin", NULL, NULL, MATCH_NONE, "jellyfin-deploy.yml" },
	/* The role wireguard of the proxy playbook (--tags vpn). */
	{ "install wireguard", NULL, "nginx-proxy-manager-deploy.yml",
	    MATCH_EXACT, NULL },
	{ "deploy monitoring", NULL, NULL, MATCH_NONE,
	    "prometheus-deploy.yml" },
	{ "add existing portals to config", NULL, NULL, MATCH_NONE,
	    "kuma-monitors.yml" },
	{ "backup the nas", NULL, NULL, MATCH_NONE, NULL },
};

/* Hosts and groups of contrib/homelab/inventory/demo.yml. */
static const char *check_match_targets[] = {
	"nas", "pve1", "pve2", "desk1", "docker1", "unraid", "proxmox",
	"desktops", "docker_hosts", "monitoring", "all",
};

static struct catalog		*check_match_cat;
static struct match_index	*check_match_idx;
static struct catalog_list	 check_match_tl;

/* Scan a repository under the source tree into the shared catalog. */
static void
check_match_scan(const char *rel)
{
	struct catalog	*c;
	char		*repo, *err = NULL;
	size_t		 i;

	repo = path_join(getenv("CHIFFON_SRCDIR") != NULL ?
	    getenv("CHIFFON_SRCDIR") : ".", rel);
	if (catalog_scan(repo, NULL, &c, &err) != 0)
		ck_abort_msg("scan %s: %s", repo, err);
	for (i = 0; i < c->nplaybooks; i++) {
		ck_assert_ptr_null(catalog_find(check_match_cat,
		    c->playbooks[i]->path));
		catalog_add(check_match_cat, c->playbooks[i]);
		c->playbooks[i] = NULL;
	}
	catalog_sort(check_match_cat);
	catalog_free(c);
	free(repo);
}

static void
check_match_setup(void)
{
	size_t	i;

	check_match_cat = catalog_new("test");
	check_match_scan("contrib/homelab");
	check_match_scan("tests/catalog");
	check_match_idx = match_index_new(check_match_cat);
	for (i = 0; i < nitems(check_match_targets); i++)
		catalog_list_add(&check_match_tl, check_match_targets[i]);
}

static void
check_match_teardown(void)
{
	match_index_free(check_match_idx);
	catalog_free(check_match_cat);
	catalog_list_free(&check_match_tl);
}

static const char *
check_match_path(size_t i)
{
	return check_match_cat->playbooks[i]->path;
}

START_TEST(test_catalog_size)
{
	ck_assert_uint_ge(check_match_cat->nplaybooks, 20);
	ck_assert_uint_ge(nitems(check_match_cases), 30);
}
END_TEST

START_TEST(test_table)
{
	const struct check_match_case	*c = &check_match_cases[_i];
	struct match_query		 q = { 0 };
	struct match_result		 r;
	size_t				 i;
	int				 found = 0;

	q.text = c->text;
	q.action = c->action;
	q.targets = &check_match_tl;
	match_run(check_match_idx, &q, &r);
	ck_assert_double_ge(r.confidence, 0);
	ck_assert_double_le(r.confidence, 1);
	if (c->expect != NULL) {
		ck_assert_msg(r.method != MATCH_NONE && r.index >= 0,
		    "'%s': no match (best candidate %s, %.3f)", c->text,
		    r.ncand > 0 ? check_match_path(r.cand[0].index) : "-",
		    r.ncand > 0 ? r.cand[0].confidence : 0.0);
		ck_assert_msg(strcmp(check_match_path(r.index), c->expect) == 0,
		    "'%s': matched %s (%s, %.3f), expected %s", c->text,
		    check_match_path(r.index), match_method_name(r.method),
		    r.confidence, c->expect);
		ck_assert_msg(r.method == c->method, "'%s': method %s, "
		    "expected %s", c->text, match_method_name(r.method),
		    match_method_name(c->method));
		ck_assert_double_ge(r.confidence, MATCH_THRESHOLD);
		return;
	}
	ck_assert_msg(r.method == MATCH_NONE && r.index == -1,
	    "'%s': expected a miss, matched %s (%s, %.3f)", c->text,
	    r.index >= 0 ? check_match_path(r.index) : "-",
	    match_method_name(r.method), r.confidence);
	ck_assert_uint_eq(r.ncand, 3);
	for (i = 0; i < r.ncand; i++) {
		ck_assert_double_lt(r.cand[i].confidence, MATCH_THRESHOLD);
		if (c->candidate != NULL &&
		    strcmp(check_match_path(r.cand[i].index), c->candidate) ==
		    0)
			found = 1;
	}
	ck_assert_msg(c->candidate == NULL || found, "'%s': %s not among "
	    "the candidates %s, %s, %s", c->text, c->candidate,
	    check_match_path(r.cand[0].index),
	    check_match_path(r.cand[1].index),
	    check_match_path(r.cand[2].index));
}
END_TEST

/* A mapping callback: "deploy: cloud drive" is nextcloud-deploy.yml. */
static ssize_t
check_match_mapping(const char *phrase, double *confp, const char **svcp,
    void *data)
{
	double	*conf = data;

	if (strcmp(phrase, "deploy: cloud drive") != 0)
		return -1;
	*confp = *conf;
	return catalog_index(check_match_cat, "nextcloud-deploy.yml");
}

START_TEST(test_mapping)
{
	struct match_query	q = { 0 };
	struct match_result	r;
	double			conf = 0.9;
	char			*phrase;

	q.text = "Deploy my cloud drives";
	q.targets = &check_match_tl;
	phrase = match_phrase(&q);
	ck_assert_str_eq(phrase, "deploy: cloud drive");
	free(phrase);

	/* Without the mapping: a miss. */
	match_run(check_match_idx, &q, &r);
	ck_assert_int_eq(r.method, MATCH_NONE);

	q.mapping = check_match_mapping;
	q.mapping_data = &conf;
	match_run(check_match_idx, &q, &r);
	ck_assert_int_eq(r.method, MATCH_MAPPING);
	ck_assert_str_eq(check_match_path(r.index), "nextcloud-deploy.yml");
	ck_assert_double_eq_tol(r.confidence, 0.9, 1e-9);

	/* A mapping below MATCH_MAPPING_MIN is not used. */
	conf = 0.8;
	match_run(check_match_idx, &q, &r);
	ck_assert_int_eq(r.method, MATCH_NONE);

	/* An exact match comes before any mapping. */
	conf = 0.99;
	q.text = "deploy grafana";
	match_run(check_match_idx, &q, &r);
	ck_assert_int_eq(r.method, MATCH_EXACT);
	ck_assert_str_eq(check_match_path(r.index), "grafana-deploy.yml");
}
END_TEST

/*
 * One table of action words: a request word means the same action to
 * the parser and the matcher, and a file-name word the same to the
 * catalog ("k3s-nuke.yml" is remove like "nuke k3s").
 */
START_TEST(test_one_action_table)
{
	static const struct intent_service svc[] = { { "jellyfin", NULL } };
	static const struct intent_vocab v = { svc, 1, NULL, NULL, NULL };
	const struct actions_word	*a;
	json_object			*o, *in;
	const char			*got;
	char				*text, *path, *name;
	size_t				 i, n = 0;

	for (i = 0; i < actions_ntable; i++) {
		a = &actions_table[i];
		if (a->where & ACTIONS_REQUEST) {
			ck_assert_str_eq(match_action(a->phrase), a->action);
			text = xasprintf("%s jellyfin", a->phrase);
			o = intent_parse(text, &v);
			in = json_object_array_get_idx(json_object_object_get(o,
			    "intents"), 0);
			got = json_object_get_string(json_object_object_get(in,
			    "action"));
			ck_assert_msg(got != NULL && strcmp(got, a->action) == 0,
			    "'%s': %s, not %s", text, got, a->action);
			json_object_put(o);
			free(text);
			n++;
		}
		if ((a->where & ACTIONS_FILE) && strchr(a->phrase, ' ') ==
		    NULL) {
			const char *fa;

			path = xasprintf("k3s-%s.yml", a->phrase);
			name = catalog_service_name(path, &fa);
			ck_assert_str_eq(name, "k3s");
			ck_assert_msg(fa != NULL && strcmp(fa, a->action) == 0,
			    "%s: %s", path, fa);
			free(name);
			free(path);
		}
	}
	ck_assert_uint_ge(n, 60);
}
END_TEST

START_TEST(test_phrase_targets)
{
	struct match_query	q = { 0 };
	char			*phrase;

	/* "proxmox" names the target here, not the proxmox service. */
	q.text = "Back up Nextcloud on all Proxmox hosts";
	q.targets = &check_match_tl;
	phrase = match_phrase(&q);
	ck_assert_str_eq(phrase, "backup: nextcloud");
	free(phrase);
	q.action = "install";
	q.text = "the Pi-hole";
	phrase = match_phrase(&q);
	ck_assert_str_eq(phrase, "deploy: pi hole");
	free(phrase);
	ck_assert_str_eq(match_action("set up"), "deploy");
	ck_assert_str_eq(match_action("Uninstall"), "remove");
	ck_assert_ptr_null(match_action("kuma"));
}
END_TEST

START_TEST(test_json)
{
	struct match_query	 q = { .text = "deploy paperless" };
	struct match_result	 r;
	json_object		*o, *v;

	match_run(check_match_idx, &q, &r);
	o = match_result_json(check_match_cat, &r, "deploy: paperless");
	ck_assert(json_object_object_get_ex(o, "match", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(o, "candidates", &v));
	ck_assert_uint_eq(json_object_array_length(v), 3);
	json_object_put(o);

	q.text = "deploy kuma";
	match_run(check_match_idx, &q, &r);
	o = match_result_json(check_match_cat, &r, NULL);
	ck_assert(json_object_object_get_ex(o, "match", &v));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "path")), "kuma-deploy.yml");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "method")), "exact");
	ck_assert_double_eq(json_object_get_double(json_object_object_get(v,
	    "confidence")), 1.0);
	json_object_put(o);
}
END_TEST

static Suite *
match_suite(void)
{
	Suite	*s = suite_create("match");
	TCase	*tc = tcase_create("match");

	tcase_add_unchecked_fixture(tc, check_match_setup,
	    check_match_teardown);
	tcase_add_test(tc, test_catalog_size);
	tcase_add_loop_test(tc, test_table, 0, (int)nitems(check_match_cases));
	tcase_add_test(tc, test_mapping);
	tcase_add_test(tc, test_one_action_table);
	tcase_add_test(tc, test_phrase_targets);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(match_suite());
}
