/*
 * check_intent.c - the deterministic parser against a table of phrasings.
 *
 * Each row: the request, the intents expected (action:service:targets,
 * '|' between intents, '-' for no service, targets comma-separated and
 * sorted as found), and whether a question must be asked.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "intent.h"
#include "testutil.h"
#include "util.h"

#define AL(...) (const char *const[]){ __VA_ARGS__, NULL }
static const struct intent_service services[] = {
	{ "kuma", AL("uptime-kuma", "uptime kuma", "kuma uptime") },
	{ "pihole", AL("pi-hole", "pi hole") },
	{ "grafana", NULL },
	{ "jellyfin", NULL },
	{ "nextcloud", AL("next cloud") },
	{ "homepage", AL("dashboard") },
	{ "prometheus", NULL },
	{ "nginx-proxy-manager", AL("proxy manager", "npm") },
	{ "home-assistant", AL("home assistant", "hass") },
	{ "vaultwarden", AL("bitwarden") },
	{ "portainer", NULL },
	{ "syncthing", NULL },
};
static const struct intent_vocab vocab = {
	.services = services,
	.nservices = sizeof services / sizeof services[0],
	.hosts = AL("nas", "pve1", "pve2", "desk1", "docker1"),
	.groups = AL("unraid", "proxmox", "desktops", "docker_hosts"),
};

struct row {
	const char	*text;
	const char	*want;		/* intents */
	int		 question;	/* 1: ambiguities must not be empty */
};

static const struct row rows[] = {
	/* The Kuma scenario and its variants. */
	{ "Deploy Kuma Uptime to homelab and add existing portals to config",
	  "deploy:kuma:all|configure:kuma:all", 0 },
	{ "deploy uptime kuma", "deploy:kuma:", 0 },
	{ "Install Uptime-Kuma on the nas", "deploy:kuma:nas", 0 },
	{ "set up kuma on docker hosts", "deploy:kuma:docker_hosts", 0 },
	{ "deploy kuma then add the existing portals as monitors",
	  "deploy:kuma:|configure:kuma:", 0 },
	{ "add existing portals to config", "configure:-:", 1 },
	/* Single actions. */
	{ "restart grafana", "restart:grafana:", 0 },
	{ "Reboot jellyfin on pve1", "restart:jellyfin:pve1", 0 },
	{ "remove nextcloud", "remove:nextcloud:", 0 },
	{ "uninstall pi-hole from the nas", "remove:pihole:nas", 0 },
	{ "tear down portainer", "remove:portainer:", 0 },
	{ "update grafana to version 10.2.3", "update:grafana:", 0 },
	{ "upgrade jellyfin", "update:jellyfin:", 0 },
	{ "patch home assistant", "update:home-assistant:", 0 },
	{ "configure pihole", "configure:pihole:", 0 },
	{ "set grafana port 3001", "configure:grafana:", 0 },
	{ "enable the dashboard", "deploy:homepage:", 0 },
	{ "check grafana", "check:grafana:", 0 },
	{ "status of nextcloud", "check:nextcloud:", 0 },
	{ "is jellyfin running?", "check:jellyfin:", 0 },
	{ "verify vaultwarden on all proxmox hosts",
	  "check:vaultwarden:proxmox", 0 },
	{ "backup nextcloud", "backup:nextcloud:", 0 },
	{ "back up home assistant on pve2", "backup:home-assistant:pve2", 0 },
	{ "snapshot vaultwarden", "backup:vaultwarden:", 0 },
	{ "restore nextcloud", "restore:nextcloud:", 0 },
	{ "stop syncthing", "stop:syncthing:", 0 },
	{ "start syncthing on desk1", "start:syncthing:desk1", 0 },
	{ "shut down portainer", "stop:portainer:", 0 },
	{ "spin up prometheus", "deploy:prometheus:", 0 },
	{ "roll out the proxy manager", "update:nginx-proxy-manager:", 0 },
	{ "provision bitwarden", "deploy:vaultwarden:", 0 },
	/* Generate / scaffold. */
	{ "generate a role for mealie", "generate:-:", 0 },
	{ "scaffold paperless", "generate:-:", 0 },
	/* Compound requests. */
	{ "deploy grafana and prometheus", "deploy:grafana:|deploy:prometheus:",
	  0 },
	{ "install grafana and then restart prometheus",
	  "deploy:grafana:|restart:prometheus:", 0 },
	{ "backup nextcloud, then upgrade it",
	  "backup:nextcloud:|update:nextcloud:", 0 },
	{ "deploy pihole on the nas; deploy grafana on pve1",
	  "deploy:pihole:nas|deploy:grafana:pve1", 0 },
	{ "restart jellyfin on pve1 and pve2", "restart:jellyfin:pve1,pve2", 0 },
	{ "stop portainer & start syncthing",
	  "stop:portainer:|start:syncthing:", 0 },
	{ "deploy homepage and add all portals",
	  "deploy:homepage:|configure:homepage:", 0 },
	/* Targets. */
	{ "deploy grafana everywhere", "deploy:grafana:all", 0 },
	{ "deploy grafana on all desktops", "deploy:grafana:desktops", 0 },
	{ "restart pihole on unraid", "restart:pihole:unraid", 0 },
	{ "update syncthing on the desktops", "update:syncthing:desktops", 0 },
	{ "deploy portainer on docker1", "deploy:portainer:docker1", 0 },
	{ "deploy grafana on the moon", "deploy:grafana:", 1 },
	/* Typos of service names. */
	{ "deploy grafanna", "deploy:grafana:", 0 },
	{ "restart jellyfn", "restart:jellyfin:", 0 },
	{ "install nextclod on the nas", "deploy:nextcloud:nas", 0 },
	{ "upgrade promethues", "update:prometheus:", 0 },
	{ "deploy uptime kumma", "deploy:kuma:", 0 },
	{ "backup vaultwardn", "backup:vaultwarden:", 0 },
	/*
	 * The typo budget (INTENT_TYPO_MIN 4, INTENT_TYPO_LONG 8): none on
	 * a three-letter name, one below eight letters, two from eight.
	 */
	{ "restart nmp", "restart:-:", 1 },
	{ "restart jelyfinn", "restart:jellyfin:", 0 },
	{ "deploy grfanna", "deploy:-:", 1 },
	/* Parameters and check mode (checked separately below too). */
	{ "deploy kuma version 1.23", "deploy:kuma:", 0 },
	{ "dry run deploy of jellyfin", "deploy:jellyfin:", 0 },
	/* Questions: never a silent guess. */
	{ "deploy mysql", "deploy:-:", 1 },
	{ "restart", "", 1 },
	{ "grafana", "", 1 },
	{ "what's the weather like", "", 1 },
	{ "", "", 1 },
	{ "please make me a sandwich", "", 1 },
	{ "deploy", "", 1 },
	{ "install wordpress on the nas", "deploy:-:nas", 1 },
	{ "restart grafana on pve9", "restart:grafana:", 1 },
};

/* Render the parse as the table's compact form.  Caller frees. */
static char *
render(json_object *out)
{
	json_object	*intents = json_object_object_get(out, "intents");
	struct strbuf	 sb = { 0 };
	size_t		 i, j;

	for (i = 0; i < json_object_array_length(intents); i++) {
		json_object *in = json_object_array_get_idx(intents, i);
		json_object *svc = json_object_object_get(in, "service");
		json_object *t = json_object_object_get(in, "targets");

		strbuf_addf(&sb, "%s%s:%s:", i ? "|" : "",
		    json_object_get_string(json_object_object_get(in,
		    "action")), svc != NULL ? json_object_get_string(svc) :
		    "-");
		for (j = 0; j < json_object_array_length(t); j++)
			strbuf_addf(&sb, "%s%s", j ? "," : "",
			    json_object_get_string(
			    json_object_array_get_idx(t, j)));
	}
	return strbuf_detach(&sb);
}

START_TEST(test_table)
{
	const struct row	*r = &rows[_i];
	json_object		*out = intent_parse(r->text, &vocab);
	char			*got = render(out);
	size_t			 nq = json_object_array_length(
				    json_object_object_get(out, "ambiguities"));

	ck_assert_msg(strcmp(got, r->want) == 0,
	    "'%s': got '%s', want '%s' (%s)", r->text, got, r->want,
	    json_object_to_json_string(out));
	ck_assert_msg((nq > 0) == r->question,
	    "'%s': %zu question(s), expected %s: %s", r->text, nq,
	    r->question ? "some" : "none", json_object_to_json_string(out));
	free(got);
	json_object_put(out);
}
END_TEST

static json_object *
first_intent(json_object *out)
{
	return json_object_array_get_idx(json_object_object_get(out,
	    "intents"), 0);
}

START_TEST(test_params)
{
	json_object	*out, *p;

	out = intent_parse("deploy kuma version 1.23 port 3001", &vocab);
	p = json_object_object_get(first_intent(out), "params");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(p,
	    "version")), "1.23");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(p,
	    "port")), 3001);
	json_object_put(out);

	out = intent_parse("upgrade grafana to v10.4.1", &vocab);
	p = json_object_object_get(first_intent(out), "params");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(p,
	    "version")), "10.4.1");
	json_object_put(out);

	out = intent_parse("dry run: deploy jellyfin on pve1", &vocab);
	ck_assert(json_object_get_boolean(json_object_object_get(
	    first_intent(out), "check")));
	json_object_put(out);

	out = intent_parse("deploy jellyfin on pve1", &vocab);
	ck_assert(!json_object_get_boolean(json_object_object_get(
	    first_intent(out), "check")));
	json_object_put(out);

	out = intent_parse("generate a role for mealie", &vocab);
	p = json_object_object_get(first_intent(out), "params");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(p,
	    "name")), "mealie");
	json_object_put(out);

	/* The second Kuma step keeps what it was asked to add. */
	out = intent_parse("Deploy Kuma Uptime to homelab and add existing "
	    "portals to config", &vocab);
	p = json_object_object_get(json_object_array_get_idx(
	    json_object_object_get(out, "intents"), 1), "params");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(p,
	    "detail")), "existing portals config");
	json_object_put(out);
}
END_TEST

START_TEST(test_unknown_service_question_names_it)
{
	json_object	*out = intent_parse("deploy mysql", &vocab);
	const char	*q = json_object_get_string(json_object_array_get_idx(
			    json_object_object_get(out, "ambiguities"), 0));

	ck_assert_ptr_nonnull(strstr(q, "'mysql'"));
	ck_assert_ptr_nonnull(strstr(q, "grafana"));
	json_object_put(out);
}
END_TEST

START_TEST(test_typo_is_noted)
{
	json_object	*out = intent_parse("deploy grafanna", &vocab);

	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(
	    out, "notes")), 1);
	json_object_put(out);
}
END_TEST

static Suite *
intent_suite(void)
{
	Suite	*s = suite_create("intent");
	TCase	*tc = tcase_create("parser");

	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof rows / sizeof rows[0]));
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_unknown_service_question_names_it);
	tcase_add_test(tc, test_typo_is_noted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(intent_suite());
}
