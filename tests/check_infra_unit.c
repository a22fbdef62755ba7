/*
 * check_infra_unit.c - the infra plugin's pure functions, compiled in
 * (the plugin exports only its descriptor): run_parse_version, run_env
 * over a repository's ansible.cfg, lint_parse and lint_category.  No
 * host is needed: none of them calls it.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra.h"
#include "run.h"
#include "testutil.h"
#include "util.h"

/* infra.c is not compiled in: the parts' view of the host stays NULL. */
const struct chiffon_host	*infra_host;
struct chiffon_plugin		*infra_plugin;

START_TEST(test_parse_version)
{
	int	major = -1, minor = -1;

	ck_assert_int_eq(run_parse_version("ansible-playbook [core 2.14.18]\n"
	    "  config file = None\n", &major, &minor), 0);
	ck_assert_int_eq(major, 2);
	ck_assert_int_eq(minor, 14);
	ck_assert_int_eq(run_parse_version("ansible-playbook 2.9.27",
	    &major, &minor), 0);
	ck_assert_int_eq(major, 2);
	ck_assert_int_eq(minor, 9);
	ck_assert_int_eq(run_parse_version("ansible-playbook: not found",
	    &major, &minor), -1);
	ck_assert_int_eq(run_parse_version("", &major, &minor), -1);
	ck_assert_int_eq(run_parse_version(NULL, &major, &minor), -1);
}
END_TEST

static void
check_infra_unit_write(const char *dir, const char *name, const char *text)
{
	char	*path = path_join(dir, name);
	FILE	*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
check_infra_unit_env_free(char **env)
{
	size_t	i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

START_TEST(test_env)
{
	char	*repo = testutil_tmpdir("infra-unit"), *home, **env, *want;

	/* Nothing of the machine's own configuration may count. */
	home = path_join(repo, "home");
	ck_assert_int_eq(mkdir_p(home, 0755), 0);
	setenv("HOME", home, 1);
	unsetenv("ANSIBLE_CONFIG");
	unsetenv("ANSIBLE_STDOUT_CALLBACK");
	unsetenv("ANSIBLE_CALLBACK_PLUGINS");
	setenv("ANSIBLE_HOME", "/opt/ah", 1);
	check_infra_unit_write(repo, "ansible.cfg",
	    "[defaults]\n"
	    "stdout_callback = yaml ; readable\n"
	    "callback_plugins = cb:/abs/cb:~/mine\n"
	    "[other]\n"
	    "stdout_callback = ignored\n");
	env = run_env(repo, "/cbdir", 7);
	ck_assert_str_eq(env[0], "CHIFFON_EVENT_FD=7");
	ck_assert_str_eq(env[1], "ANSIBLE_STDOUT_CALLBACK=chiffon_events");
	ck_assert_str_eq(env[2], "CHIFFON_STDOUT_CALLBACK=yaml");
	want = xasprintf("ANSIBLE_CALLBACK_PLUGINS=/cbdir:%s/cb:/abs/cb:"
	    "~/mine", repo);
	ck_assert_str_eq(env[3], want);
	ck_assert_ptr_null(env[4]);
	free(want);
	check_infra_unit_env_free(env);

	/* The environment beats the file. */
	setenv("ANSIBLE_STDOUT_CALLBACK", "community.general.dense", 1);
	setenv("ANSIBLE_CALLBACK_PLUGINS", "/env/cb", 1);
	env = run_env(repo, "/cbdir", 3);
	ck_assert_str_eq(env[2],
	    "CHIFFON_STDOUT_CALLBACK=community.general.dense");
	ck_assert_str_eq(env[3], "ANSIBLE_CALLBACK_PLUGINS=/cbdir:/env/cb");
	check_infra_unit_env_free(env);
	unsetenv("ANSIBLE_STDOUT_CALLBACK");
	unsetenv("ANSIBLE_CALLBACK_PLUGINS");

	/* No callback settings: Ansible's defaults, below ANSIBLE_HOME. */
	check_infra_unit_write(repo, "ansible.cfg", "[defaults]\n"
	    "inventory = hosts\n");
	env = run_env(repo, "/cbdir", 3);
	ck_assert_str_eq(env[2], "CHIFFON_STDOUT_CALLBACK=default");
	ck_assert_str_eq(env[3], "ANSIBLE_CALLBACK_PLUGINS=/cbdir:"
	    "/opt/ah/plugins/callback:/usr/share/ansible/plugins/callback");
	check_infra_unit_env_free(env);
	unsetenv("ANSIBLE_HOME");
	testutil_rm(repo);
	free(repo);
	free(home);
}
END_TEST

START_TEST(test_lint_parse)
{
	static const char json[] = "["
	    "{\"check_name\": \"no-changed-when\", \"severity\": \"major\","
	    " \"description\": \"Commands should not change things\","
	    " \"location\": {\"path\": \"site.yml\", \"lines\": {\"begin\": 12}}},"
	    "{\"check_name\": \"yaml[truthy]\", \"severity\": \"bogus\","
	    " \"location\": {\"path\": \"roles/x/tasks/main.yml\","
	    " \"positions\": {\"begin\": {\"line\": 3, \"column\": 1}}}},"
	    "{\"severity\": \"major\"},"
	    "{\"check_name\": \"risky-file-permissions\","
	    " \"location\": {\"path\": \"a.yml\", \"lines\": {\"begin\": -4}}}"
	    "]";
	struct lint_finding	*f;
	size_t			 n;
	char			*err = NULL;

	ck_assert_int_eq(lint_parse(json, strlen(json), &f, &n, &err), 0);
	ck_assert_uint_eq(n, 3);	/* the one without a rule is skipped */
	ck_assert_str_eq(f[0].rule, "no-changed-when");
	ck_assert_str_eq(f[0].severity, "major");
	ck_assert_str_eq(f[0].category, "idempotency");
	ck_assert_str_eq(f[0].file, "site.yml");
	ck_assert_int_eq(f[0].line, 12);
	ck_assert_ptr_nonnull(strstr(f[0].reason,
	    "Commands should not change things"));
	ck_assert_str_eq(f[1].severity, "minor");	/* unknown: minor */
	ck_assert_str_eq(f[1].file, "roles/x/tasks/main.yml");
	ck_assert_int_eq(f[1].line, 3);
	ck_assert_int_eq(f[2].line, 0);		/* negative: unknown */
	lint_free(f, n);

	ck_assert_int_eq(lint_parse("{}", 2, &f, &n, &err), -1);
	ck_assert_str_eq(err, "ansible-lint output is not a JSON list");
	free(err);
	err = NULL;
	ck_assert_int_eq(lint_parse("[{\"check_", 10, &f, &n, &err), -1);
	free(err);
}
END_TEST

/* More than LINT_KEEP_ABOVE findings: the LINT_KEEP most severe stay. */
START_TEST(test_lint_keep)
{
	struct strbuf		 sb = { 0 };
	struct lint_finding	*f;
	size_t			 n, i;
	char			*err = NULL;

	strbuf_addc(&sb, '[');
	for (i = 0; i < LINT_KEEP_ABOVE + 1; i++)
		strbuf_addf(&sb, "%s{\"check_name\": \"name[casing]\","
		    " \"severity\": \"%s\"}", i > 0 ? "," : "",
		    i % 10 == 0 ? "blocker" : "info");
	strbuf_addc(&sb, ']');
	ck_assert_int_eq(lint_parse(sb.buf, sb.len, &f, &n, &err), 0);
	ck_assert_uint_eq(n, LINT_KEEP);
	for (i = 0; i < 11; i++)
		ck_assert_str_eq(f[i].severity, "blocker");
	ck_assert_str_eq(f[11].severity, "info");
	lint_free(f, n);
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_lint_category)
{
	const char	*reason = NULL, *fix = NULL;

	ck_assert_str_eq(lint_category("no-changed-when", &reason, &fix),
	    "idempotency");
	ck_assert_ptr_nonnull(reason);
	ck_assert_ptr_nonnull(fix);
	ck_assert_str_eq(lint_category("ignore-errors", &reason, NULL),
	    "error_handling");
	ck_assert_str_eq(lint_category("something-new-9", &reason, &fix),
	    "best_practices");
	ck_assert_ptr_nonnull(fix);
	ck_assert_str_eq(reason, "ansible-lint reports a practice to improve");
}
END_TEST

static Suite *
infra_unit_suite(void)
{
	Suite	*s = suite_create("infra_unit");
	TCase	*tc = tcase_create("pure");

	tcase_add_test(tc, test_parse_version);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_lint_parse);
	tcase_add_test(tc, test_lint_keep);
	tcase_add_test(tc, test_lint_category);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(infra_unit_suite());
}
