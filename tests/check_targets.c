/*
 * check_targets.c - the hosts a step really runs on (src/targets.c): a
 * play's pattern and a --limit resolved against a catalog's inventory
 * (groups with children, a loop among groups, "all", ':' and ',',
 * "&" and "!", wildcards, unknown names and Jinja), and what plan_targets
 * shows for a step with and without an inventory.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "plan.h"
#include "targets.h"
#include "testutil.h"
#include "util.h"
#include "vocab.h"

static const char catalog[] = "{\"playbooks\": [{\"path\": "
    "\"kuma-deploy.yml\", \"service\": \"kuma\", \"hosts\": "
    "\"monitoring\"}, {\"path\": \"site.yml\", \"service\": "
    "\"site\", \"hosts\": \"{{ target }}\"}], "
    "\"hosts\": [\"nas\", \"pve1\", \"pve2\", \"desk1\", "
    "\"docker1\", \"h1\", \"h2\", \"h3\", \"h4\"], \"groups\": {"
    "\"all\": {\"hosts\": [], \"children\": [\"proxmox\", "
    "\"docker_hosts\", \"many\"]}, "
    "\"proxmox\": {\"hosts\": [\"pve1\", \"pve2\"], "
    "\"children\": []}, "
    "\"docker_hosts\": {\"hosts\": [\"nas\"], "
    "\"children\": [\"monitoring\"]}, "
    "\"monitoring\": {\"hosts\": [\"docker1\"], \"children\": []}, "
    "\"loopa\": {\"hosts\": [], \"children\": [\"loopb\"]}, "
    "\"loopb\": {\"hosts\": [\"desk1\"], \"children\": "
    "[\"loopa\"]}, "
    "\"many\": {\"hosts\": [\"h1\", \"h2\", \"h3\", \"h4\", "
    "\"nas\", \"pve1\", \"pve2\"], \"children\": []}}}";

static struct vocab	v;

static void
check_targets_setup(void)
{
	char	*err = NULL;

	ck_assert_msg(vocab_from_json(&v, catalog, &err) == 0, "%s", err);
}

static void
check_targets_teardown(void)
{
	vocab_free(&v);
}

/* Pattern and limit, and what is shown (NULL: cannot be resolved). */
static const struct {
	const char	*pattern;
	const char	*limit;
	const char	*want;
} cases[] = {
	{ "monitoring", NULL, "docker1" },
	/* Children, recursively (a loop stops). */
	{ "docker_hosts", NULL, "nas,docker1" },
	{ "loopa", NULL, "desk1" },
	{ "all", "monitoring", "docker1" },
	{ "*", "proxmox", "pve1,pve2" },
	{ "proxmox:monitoring", NULL, "pve1,pve2,docker1" },
	{ "proxmox,desk1", NULL, "pve1,pve2,desk1" },
	{ "docker_hosts:&monitoring", NULL, "docker1" },
	{ "all:!proxmox:!many", NULL, "desk1,docker1" },
	{ "all:!nowhere", NULL, "nas,pve1,pve2,desk1,docker1,h1 +3 more" },
	{ "!proxmox", NULL, "nas,desk1,docker1,h1,h2,h3 +1 more" },
	{ "pve*", NULL, "pve1,pve2" },
	{ "proxmox", "pve2", "pve2" },
	{ "proxmox", "pve1,docker1", "pve1" },
	{ "all", "docker_hosts:!nas", "docker1" },
	{ "proxmox", "desk1", "no host" },
	{ "many", NULL, "nas,pve1,pve2,h1,h2,h3 +1 more" },
	{ "{{ target }}", NULL, NULL },
	{ "nowhere", NULL, NULL },
	{ "proxmox:&nowhere", NULL, NULL },
	{ "all", "nowhere", NULL },
	{ NULL, NULL, "nas,pve1,pve2,desk1,docker1,h1 +3 more" },
};

START_TEST(test_show)
{
	char	*got;

	got = targets_show(&v, cases[_i].pattern, cases[_i].limit);
	if (cases[_i].want == NULL)
		ck_assert_msg(got == NULL, "%s: got '%s'",
		    cases[_i].pattern, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, cases[_i].want) == 0,
		    "%s / %s: got '%s', want '%s'", cases[_i].pattern,
		    cases[_i].limit != NULL ? cases[_i].limit : "-",
		    got != NULL ? got : "NULL", cases[_i].want);
	free(got);
}
END_TEST

/* The whole list, in inventory order; errors name what is unknown. */
START_TEST(test_hosts)
{
	json_object	*h;
	char		*err = NULL;

	h = targets_hosts(&v, "many", NULL, &err);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(json_object_to_json_string_ext(h,
	    JSON_C_TO_STRING_PLAIN), "[\"nas\",\"pve1\",\"pve2\",\"h1\","
	    "\"h2\",\"h3\",\"h4\"]");
	json_object_put(h);
	h = targets_hosts(&v, "proxmox", "desk1", &err);
	ck_assert_int_eq(json_object_array_length(h), 0);
	json_object_put(h);

	ck_assert_ptr_null(targets_hosts(&v, "monitoring", "pve9", &err));
	ck_assert_str_eq(err, "host pattern 'pve9': the inventory has no "
	    "host or group 'pve9'");
	free(err);
	err = NULL;
	ck_assert_ptr_null(targets_hosts(&v, "proxmox:&nowhere", NULL, &err));
	ck_assert_ptr_nonnull(strstr(err, "no host or group 'nowhere'"));
	free(err);
	err = NULL;
	ck_assert_ptr_null(targets_hosts(&v, "{{ target }}", NULL, &err));
	ck_assert_ptr_nonnull(strstr(err, "is a template"));
	free(err);
	err = NULL;
	ck_assert_ptr_null(targets_hosts(NULL, "all", NULL, &err));
	ck_assert_ptr_nonnull(strstr(err, "no inventory"));
	free(err);
	ck_assert_ptr_null(targets_show(NULL, "all", NULL));
}
END_TEST

/*
 * A step's targets: the play's pattern and limit resolved now; without
 * an inventory the hosts resolved at planning; else the limit or the
 * pattern as they are.
 */
START_TEST(test_plan_targets)
{
	struct plan_task	 t = { 0 };
	char			*s;

	t.playbook = "kuma-deploy.yml";
	s = plan_targets(&t, &v);
	ck_assert_str_eq(s, "docker1");
	free(s);
	t.limit = "nas";
	s = plan_targets(&t, &v);
	ck_assert_str_eq(s, "no host (limit nas)");
	free(s);
	s = plan_targets(&t, NULL);
	ck_assert_str_eq(s, "nas");
	free(s);
	t.limit = NULL;
	s = plan_targets(&t, NULL);
	ck_assert_str_eq(s, "all");
	free(s);
	t.hosts = json_tokener_parse("[\"docker1\", \"pve1\"]");
	s = plan_targets(&t, NULL);
	ck_assert_str_eq(s, "docker1,pve1");
	free(s);
	json_object_put(t.hosts);
	t.hosts = NULL;
	/* Jinja in the play: its pattern as it is. */
	t.playbook = "site.yml";
	s = plan_targets(&t, &v);
	ck_assert_str_eq(s, "{{ target }}");
	free(s);
}
END_TEST

static Suite *
check_targets_suite(void)
{
	Suite	*s = suite_create("targets");
	TCase	*tc = tcase_create("resolve");

	tcase_add_checked_fixture(tc, check_targets_setup,
	    check_targets_teardown);
	tcase_add_loop_test(tc, test_show, 0, (int)nitems(cases));
	tcase_add_test(tc, test_hosts);
	tcase_add_test(tc, test_plan_targets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_targets_suite());
}
