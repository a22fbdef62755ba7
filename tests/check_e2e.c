/*
 * check_e2e.c - the chiffon binary of the build tree, end to end, against
 * the demo homelab (contrib/homelab), a throwaway PostgreSQL cluster
 * (CHIFFON_DB_URL) and the build tree's infra plugin
 * (CHIFFON_PLUGIN_PATH), with real ansible-playbook runs:
 *
 *   chiffon run --yes "Deploy Kuma Uptime to homelab and add existing
 *   portals to config" plans two steps in order (deploy Uptime Kuma, then
 *   add the existing portals as monitors with kuma-monitors.yml), runs
 *   both, exits 0, and leaves the plan, the approval, the tasks, the runs
 *   and every output line (all of which it printed) in PostgreSQL; the
 *   second time the run summaries report no changes.
 *
 *   chiffon plan on a service the repository lacks answers with
 *   candidates and a question, exit 1, and stores no plan.
 *
 * Plus the exit statuses: 2 for usage and for no terminal without --yes,
 * 3 for a missing plugin or an unreachable database.
 */
#include "config.h"

#include <check.h>

#include <json-c/json.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "orchtest.h"
#include "output.h"
#include "testutil.h"
#include "util.h"

#define KUMA	"Deploy Kuma Uptime to homelab and add existing portals to config"

static struct orchtest	 ot;
static PGconn		*pg;

static void
setup(void)
{
	orchtest_start(&ot, "e2e");
	pg = PQconnectdb(ot.conninfo);
	ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s",
	    PQerrorMessage(pg));
}

static void
teardown(void)
{
	PQfinish(pg);
	orchtest_stop(&ot);
}

/* What one run of the binary did. */
struct out {
	int		 status;	/* exit status, or -1 */
	struct strbuf	 text;		/* stdout */
	struct strbuf	 err;		/* stderr */
};

static void
out_free(struct out *o)
{
	strbuf_free(&o->text);
	strbuf_free(&o->err);
}

/*
 * Run src/chiffon with args (NULL-terminated), its environment pointing
 * at the test database, plugin and repository, stdin /dev/null.
 * plugin_path/db_url NULL mean the test's own.
 */
static void
chiffon(struct out *o, const char *plugin_path, const char *db_url,
    const char *const *args)
{
	const char		*argv[16], *env[10];
	struct testutil_out	 r;
	char			*bin, *e[6];
	size_t			 n = 0, i;

	memset(o, 0, sizeof *o);
	bin = xasprintf("%s/src/chiffon", orchtest_builddir());
	argv[n++] = bin;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	e[0] = xasprintf("CHIFFON_DB_URL=%s", db_url != NULL ? db_url :
	    ot.conninfo);
	e[1] = xasprintf("CHIFFON_PLUGIN_PATH=%s", plugin_path != NULL ?
	    plugin_path : ot.plugin_dir);
	e[2] = xasprintf("CHIFFON_REPO=%s", ot.repo);
	e[3] = xasprintf("CHIFFON_DATA_DIR=%s", ot.tmp);
	e[4] = xasprintf("CHIFFON_DEMO_ROOT=%s", ot.demo_root);
	e[5] = xasprintf("XDG_CONFIG_HOME=%s", ot.tmp);
	for (i = 0; i < nitems(e); i++)
		env[i] = e[i];
	env[i++] = "CHIFFON_CONFIG";
	env[i++] = "SSH_CONNECTION";
	env[i] = NULL;
	testutil_run(&r, argv, env, NULL, 0);
	o->status = r.status;
	o->text.buf = r.out;
	o->text.len = r.outlen;
	o->text.cap = r.outlen + 1;
	o->err.buf = r.err;
	o->err.len = r.errlen;
	o->err.cap = r.errlen + 1;
	for (i = 0; i < nitems(e); i++)
		free(e[i]);
	free(bin);
}

/* Does text hold line as one whole line? */
static int
has_line(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p++;
	}
	return 0;
}

/* The runs of the newest plan, and their "changed" total. */
static long long
changed_of_newest_plan(void)
{
	return orchtest_int(pg, "SELECT coalesce(sum((h.value->>'changed')::"
	    "int), -1) FROM runs r JOIN tasks t ON t.id = r.task_id, "
	    "jsonb_each(r.summary->'hosts') h WHERE t.plan_id = (SELECT "
	    "max(id) FROM plans)", 0, NULL);
}

/* A stored line as chiffon prints it into a pipe.  Caller frees. */
static char *
plain_line(const char *line)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	output_line(f, line, strlen(line), 0);
	fclose(f);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

START_TEST(test_run_kuma_twice)
{
	static const char *const args[] = { "run", "--yes", KUMA, NULL };
	struct out	 o;
	PGresult	*res;
	char		*s;
	int		 i, n;

	chiffon(&o, NULL, NULL, args);
	ck_assert_msg(o.status == 0, "exit %d\nstdout:\n%s\nstderr:\n%s",
	    o.status, o.text.buf, o.err.buf);
	/* The plan was shown, in order, before it ran. */
	ck_assert_ptr_nonnull(strstr(o.text.buf, " 1. deploy kuma  "
	    "kuma-deploy.yml (exact"));
	ck_assert_ptr_nonnull(strstr(o.text.buf, " 2. configure kuma  "
	    "kuma-monitors.yml (exact"));
	ck_assert_ptr_nonnull(strstr(o.text.buf, "All 2 steps succeeded."));

	/* Plan, approval, tasks, runs. */
	s = orchtest_str(pg, "SELECT string_agg(t.step || ':' || t.action || "
	    "':' || t.service || ':' || t.playbook || ':' || t.status, ' ' "
	    "ORDER BY t.step) FROM tasks t", 0, NULL);
	ck_assert_str_eq(s, "1:deploy:kuma:kuma-deploy.yml:succeeded "
	    "2:configure:kuma:kuma-monitors.yml:succeeded");
	free(s);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM plans p JOIN "
	    "requests r ON r.id = p.request_id WHERE r.text = '" KUMA "' AND "
	    "r.source = 'cli' AND r.parser_tier = 'deterministic'", 0, NULL),
	    1);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM approvals a "
	    "JOIN plans p ON p.id = a.plan_id WHERE a.decision = 'approved' "
	    "AND a.ssh_client IS NULL AND a.approved_by <> ''", 0, NULL), 1);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM runs r JOIN "
	    "tasks t ON t.id = r.task_id WHERE r.status = 'successful' AND "
	    "r.exit_code = 0 AND r.lines > 0", 0, NULL), 2);
	/* Every output line is stored, and was printed. */
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM runs r WHERE "
	    "r.lines <> (SELECT count(*) FROM run_output o WHERE o.run_id = "
	    "r.id)", 0, NULL), 0);
	/* Into a pipe, as plain text (output.h): no escape at all. */
	ck_assert_ptr_null(strchr(o.text.buf, '\033'));
	res = PQexec(pg, "SELECT line FROM run_output ORDER BY run_id, seq");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	n = PQntuples(res);
	ck_assert_int_gt(n, 10);
	for (i = 0; i < n; i++) {
		s = plain_line(PQgetvalue(res, i, 0));
		ck_assert_msg(*s == '\0' || has_line(o.text.buf, s),
		    "stored line not printed: '%s' (plain: '%s')",
		    PQgetvalue(res, i, 0), s);
		free(s);
	}
	PQclear(res);
	ck_assert_int_gt(changed_of_newest_plan(), 0);
	/* The audit trail from request to dispatch. */
	s = orchtest_str(pg, "SELECT string_agg(DISTINCT kind, ' ' ORDER BY "
	    "kind) FROM audit_log WHERE kind IN ('request.received', "
	    "'plan.generated', 'plan.approved', 'task.dispatched')", 0, NULL);
	ck_assert_str_eq(s, "plan.approved plan.generated request.received "
	    "task.dispatched");
	free(s);
	out_free(&o);

	/* Again: nothing changes. */
	chiffon(&o, NULL, NULL, args);
	ck_assert_msg(o.status == 0, "exit %d\nstdout:\n%s\nstderr:\n%s",
	    o.status, o.text.buf, o.err.buf);
	ck_assert_int_eq(changed_of_newest_plan(), 0);
	ck_assert_ptr_nonnull(strstr(o.text.buf, "changed=0"));
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks WHERE "
	    "status = 'succeeded'", 0, NULL), 4);
	out_free(&o);
}
END_TEST

START_TEST(test_plan_missing_service)
{
	static const char *const args[] = { "plan", "deploy mysql to the nas",
	    NULL };
	static const char *const json[] = { "plan", "--json", "install "
	    "gitea", NULL };
	struct out	 o;

	chiffon(&o, NULL, NULL, args);
	ck_assert_msg(o.status == 1, "exit %d\n%s\n%s", o.status, o.text.buf,
	    o.err.buf);
	ck_assert_ptr_nonnull(strstr(o.text.buf, "mysql"));
	ck_assert_ptr_nonnull(strstr(o.text.buf, "Questions"));
	ck_assert_ptr_nonnull(strstr(o.text.buf, "Closest"));
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM plans", 0,
	    NULL), 0);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM requests "
	    "WHERE text = 'deploy mysql to the nas' AND ambiguities::text "
	    "LIKE '%mysql%'", 0, NULL), 1);
	out_free(&o);

	chiffon(&o, NULL, NULL, json);
	ck_assert_int_eq(o.status, 1);
	ck_assert_ptr_nonnull(strstr(o.text.buf, "\"runnable\":false"));
	ck_assert_ptr_nonnull(strstr(o.text.buf, "\"candidates\""));
	out_free(&o);
}
END_TEST

/*
 * chiffon plan shows the hosts each step really runs on: the plays'
 * hosts (monitoring) resolved in the demo inventory, not "all"; --json
 * lists them.
 */
/* The first of j's tasks, whose targets and hosts (JSON) are checked. */
static json_object *
e2e_first_targets(json_object *j, const char *targets, const char *hosts)
{
	json_object	*t;

	t = json_object_array_get_idx(json_object_object_get(j, "tasks"), 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(t,
	    "targets")), targets);
	ck_assert_str_eq(json_object_to_json_string_ext(json_object_object_get(
	    t, "hosts"), JSON_C_TO_STRING_PLAIN), hosts);
	return t;
}

START_TEST(test_plan_real_targets)
{
	static const char *const args[] = { "plan", KUMA, NULL };
	static const char *const json[] = { "plan", "--json",
	    "backup proxmox", NULL };
	static const char *const audit[] = { "audit", NULL };
	static const char *const audit_json[] = { "audit", "--json", NULL };
	struct out	 o;
	json_object	*j, *t;

	chiffon(&o, NULL, NULL, args);
	ck_assert_msg(o.status == 0, "exit %d\n%s\n%s", o.status, o.text.buf,
	    o.err.buf);
	ck_assert_msg(strstr(o.text.buf, " 1. deploy kuma  kuma-deploy.yml "
	    "(exact, 1.00)  targets: docker1  risk: ") != NULL, "%s",
	    o.text.buf);
	ck_assert_msg(strstr(o.text.buf, " 2. configure kuma  "
	    "kuma-monitors.yml (exact, 1.00)  targets: docker1  risk: ") !=
	    NULL, "%s", o.text.buf);
	ck_assert_ptr_null(strstr(o.text.buf, "targets: all"));
	out_free(&o);

	chiffon(&o, NULL, NULL, json);
	ck_assert_msg(o.status == 0, "exit %d\n%s\n%s", o.status, o.text.buf,
	    o.err.buf);
	j = json_tokener_parse(o.text.buf);
	ck_assert_msg(j != NULL, "%s", o.text.buf);
	e2e_first_targets(j, "all", "[\"pve1\",\"pve2\"]");
	json_object_put(j);
	out_free(&o);

	/* chiffon audit: the same hosts, not the stored "all". */
	chiffon(&o, NULL, NULL, audit_json);
	ck_assert_msg(o.status == 0, "exit %d\n%s", o.status, o.err.buf);
	j = json_tokener_parse(o.text.buf);
	ck_assert_msg(j != NULL, "%s", o.text.buf);
	t = e2e_first_targets(j, "all", "[\"pve1\",\"pve2\"]");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(t,
	    "service")), "proxmox");
	json_object_put(j);
	out_free(&o);
	chiffon(&o, NULL, NULL, audit);
	ck_assert_msg(o.status == 0, "exit %d\n%s", o.status, o.err.buf);
	ck_assert_msg(strstr(o.text.buf, "  pve1,pve2  ") != NULL &&
	    strstr(o.text.buf, "  docker1  ") != NULL, "%s", o.text.buf);
	out_free(&o);
}
END_TEST

START_TEST(test_exit_statuses)
{
	static const char *const noyes[] = { "run", "deploy kuma", NULL };
	static const char *const empty[] = { "plan", NULL };
	static const char *const plan[] = { "plan", "deploy kuma", NULL };
	static const char *const reject[] = { "reject", "1", NULL };
	static const char *const nothing[] = { "approve", "4242", NULL };
	struct out	 o;
	char		*dir;

	chiffon(&o, NULL, NULL, noyes);
	ck_assert_msg(o.status == 2, "exit %d: %s", o.status, o.err.buf);
	ck_assert_ptr_nonnull(strstr(o.err.buf, "--yes"));
	out_free(&o);
	chiffon(&o, NULL, NULL, empty);
	ck_assert_int_eq(o.status, 2);
	out_free(&o);
	chiffon(&o, NULL, NULL, reject);
	ck_assert_int_eq(o.status, 2);
	out_free(&o);
	chiffon(&o, NULL, NULL, nothing);
	ck_assert_int_eq(o.status, 1);
	out_free(&o);
	/* No infra plugin: the environment is broken. */
	dir = path_join(ot.tmp, "no-plugins");
	ck_assert(mkdir_p(dir, 0755) == 0);
	chiffon(&o, dir, NULL, plan);
	ck_assert_msg(o.status == 3, "exit %d: %s", o.status, o.err.buf);
	ck_assert_ptr_nonnull(strstr(o.err.buf, "infra plugin"));
	out_free(&o);
	free(dir);
	/* No database. */
	chiffon(&o, NULL, "postgresql:///nowhere?host=/nonexistent", plan);
	ck_assert_msg(o.status == 3, "exit %d: %s", o.status, o.err.buf);
	out_free(&o);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM plans", 0,
	    NULL), 0);
}
END_TEST

static Suite *
e2e_suite(void)
{
	Suite	*s = suite_create("e2e");
	TCase	*tc;

	tc = tcase_create("binary");
	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_run_kuma_twice);
	tcase_add_test(tc, test_plan_missing_service);
	tcase_add_test(tc, test_plan_real_targets);
	tcase_add_test(tc, test_exit_statuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(e2e_suite());
}
