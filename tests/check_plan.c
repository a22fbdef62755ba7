/*
 * check_plan.c - the planner: vocabulary from the catalog, matching
 * through the real infra plugin on the demo homelab, order and
 * dependencies, targets and extra vars, estimates, risk, questions
 * instead of guesses, and the plans/tasks/requests/audit rows in a real
 * throwaway PostgreSQL cluster.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "orchtest.h"
#include "plan.h"
#include "request.h"
#include "testutil.h"
#include "util.h"
#include "vocab.h"

#define KUMA	"Deploy Kuma Uptime to homelab and add existing portals to config"

static struct orchtest	 ot;

static void
setup(void)
{
	orchtest_start(&ot, "plan");
}

static void
teardown(void)
{
	orchtest_stop(&ot);
}

/* request_plan for text; fails the test on an error. */
static struct plan *
plan_of(const char *text)
{
	return orchtest_plan(&ot, text);
}

static struct vocab *
vocab_of_app(void)
{
	struct vocab	*v = xcalloc(1, sizeof *v);
	char		*err = NULL;

	ck_assert_msg(vocab_load(v, ot.app, &err) == 0, "%s", err);
	return v;
}

/* --- pure parts -------------------------------------------------------- */

static const char vocab_catalog[] =
	"{\"playbooks\": ["
	"{\"path\": \"kuma-deploy.yml\", \"service\": \"kuma\", "
	"\"action\": \"deploy\", \"aliases\": [\"uptime-kuma\", "
	"\"uptime kuma\"], \"tags\": [\"kuma\"], \"vars\": {}},"
	"{\"path\": \"kuma-monitors.yml\", \"service\": \"kuma\", "
	"\"action\": \"configure\", \"aliases\": [\"Uptime Kuma\", "
	"\"kuma uptime\"], \"tags\": [], \"vars\": {}},"
	"{\"path\": \"ollama-deploy.yml\", \"service\": \"ollama\", "
	"\"aliases\": [], \"tags\": [\"gpu\", \"no-check\"], \"vars\": "
	"{\"chiffon_resources\": {\"gpu_mem_mb\": 8192}}},"
	"{\"service\": \"broken-no-path\"}],"
	"\"hosts\": [\"nas\", \"pve1\"],"
	"\"groups\": {\"all\": {}, \"ungrouped\": {}, \"proxmox\": "
	"{\"hosts\": [\"pve1\"]}}}";

START_TEST(test_vocab_from_catalog)
{
	struct vocab			 v;
	const struct vocab_playbook	*pb;
	char				*err = NULL;
	size_t				 n;

	ck_assert_msg(vocab_from_json(&v, vocab_catalog, &err) == 0, "%s",
	    err);
	ck_assert_uint_eq(v.nplaybooks, 3);
	ck_assert_uint_eq(v.iv.nservices, 2);
	ck_assert_str_eq(v.iv.services[0].name, "kuma");
	ck_assert_str_eq(v.iv.services[1].name, "ollama");
	/* Aliases of both kuma playbooks, once each (case-insensitive). */
	for (n = 0; v.iv.services[0].aliases[n] != NULL; n++)
		;
	ck_assert_uint_eq(n, 3);
	ck_assert_ptr_null(v.iv.services[1].aliases);
	ck_assert_str_eq(v.iv.hosts[0], "nas");
	ck_assert_str_eq(v.iv.hosts[1], "pve1");
	ck_assert_ptr_null(v.iv.hosts[2]);
	ck_assert_str_eq(v.iv.groups[0], "proxmox");
	ck_assert_ptr_null(v.iv.groups[1]);
	ck_assert(vocab_is_group(&v, "proxmox"));
	ck_assert(vocab_is_group(&v, "all"));
	ck_assert(!vocab_is_group(&v, "nas"));
	ck_assert_str_eq(v.paths[2], "ollama-deploy.yml");
	ck_assert_ptr_null(v.paths[3]);
	pb = vocab_playbook(&v, "ollama-deploy.yml");
	ck_assert_ptr_nonnull(pb);
	ck_assert(pb->gpu);
	ck_assert(pb->no_check);
	ck_assert_ptr_nonnull(pb->resources);
	pb = vocab_playbook(&v, "kuma-deploy.yml");
	ck_assert(!pb->gpu && !pb->no_check && pb->resources == NULL);
	ck_assert_str_eq(pb->action, "deploy");
	ck_assert_ptr_null(vocab_playbook(&v, "nope.yml"));
	vocab_free(&v);

	ck_assert_int_eq(vocab_from_json(&v, "[1, 2]", &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "playbooks"));
	free(err);
	vocab_free(&v);
}
END_TEST

/* action, broad targets, check mode possible -> risk */
static const struct {
	const char	*action;
	int		 broad;
	int		 checkable;
	int		 risk;
} risk_rows[] = {
	{ "deploy", 1, 1, PLAN_RISK_MEDIUM },
	{ "deploy", 0, 1, PLAN_RISK_MEDIUM },
	{ "deploy", 1, 0, PLAN_RISK_HIGH },
	{ "deploy", 0, 0, PLAN_RISK_MEDIUM },
	{ "update", 1, 0, PLAN_RISK_HIGH },
	{ "restart", 0, 1, PLAN_RISK_MEDIUM },
	{ "remove", 0, 1, PLAN_RISK_HIGH },
	{ "remove", 1, 1, PLAN_RISK_HIGH },
	{ "restore", 0, 1, PLAN_RISK_HIGH },
	{ "check", 1, 1, PLAN_RISK_LOW },
	{ "check", 0, 1, PLAN_RISK_LOW },
	{ "check", 1, 0, PLAN_RISK_MEDIUM },
	{ "backup", 0, 0, PLAN_RISK_LOW },
	{ "backup", 1, 0, PLAN_RISK_MEDIUM },
	{ "frobnicate", 0, 1, PLAN_RISK_MEDIUM },
};

START_TEST(test_risk_table)
{
	size_t	i;
	char	*why;
	int	 r;

	for (i = 0; i < nitems(risk_rows); i++) {
		r = plan_risk(risk_rows[i].action, risk_rows[i].broad,
		    risk_rows[i].checkable, &why);
		ck_assert_msg(r == risk_rows[i].risk, "%s broad=%d check=%d: "
		    "%s, not %s (%s)", risk_rows[i].action, risk_rows[i].broad,
		    risk_rows[i].checkable, plan_risk_name(r),
		    plan_risk_name(risk_rows[i].risk), why);
		ck_assert_ptr_nonnull(strstr(why, risk_rows[i].action));
		free(why);
	}
	ck_assert_str_eq(plan_risk_name(PLAN_RISK_HIGH), "high");
}
END_TEST

/* Which plans need a typed confirmation, and what confirms. */
START_TEST(test_confirm)
{
	struct plan_task	tasks[2];
	struct plan		p;
	char			*q;

	memset(&p, 0, sizeof p);
	memset(tasks, 0, sizeof tasks);
	p.tasks = tasks;
	p.ntasks = 2;
	tasks[0].step = 1;
	tasks[0].action = "deploy";
	tasks[0].service = "kuma";
	tasks[0].text = "deploy kuma";
	tasks[0].risk = PLAN_RISK_MEDIUM;
	tasks[1].step = 2;
	tasks[1].action = "configure";
	tasks[1].service = "kuma";
	tasks[1].text = "add the portals";
	tasks[1].risk = PLAN_RISK_MEDIUM;
	ck_assert_uint_eq(plan_confirm_needed(&p), 0);
	ck_assert_ptr_null(plan_confirm_question(&p));
	/* Risk high, a destructive action or destructive words. */
	tasks[1].risk = PLAN_RISK_HIGH;
	ck_assert_uint_eq(plan_confirm_needed(&p), 2);
	tasks[1].risk = PLAN_RISK_MEDIUM;
	tasks[1].text = "then nuke it";
	ck_assert_uint_eq(plan_confirm_needed(&p), 2);
	tasks[1].text = "Reboot the box";
	ck_assert_uint_eq(plan_confirm_needed(&p), 2);
	tasks[1].text = "resetting nothing";	/* not the word */
	ck_assert_uint_eq(plan_confirm_needed(&p), 0);
	tasks[0].action = "remove";
	tasks[0].service = "jellyfin";
	ck_assert_uint_eq(plan_confirm_needed(&p), 1);
	q = plan_confirm_question(&p);
	ck_assert_str_eq(q, "step 1 (remove jellyfin) is medium risk: type "
	    "yes or jellyfin to approve");
	free(q);
	ck_assert_int_eq(plan_confirm_ok(&p, "yes\n"), 1);
	ck_assert_int_eq(plan_confirm_ok(&p, "  YES "), 1);
	ck_assert_int_eq(plan_confirm_ok(&p, "jellyfin\n"), 1);
	ck_assert_int_eq(plan_confirm_ok(&p, "y"), 0);
	ck_assert_int_eq(plan_confirm_ok(&p, ""), 0);
	ck_assert_int_eq(plan_confirm_ok(&p, "jelly"), 0);
	/* Only the service of a risky step confirms. */
	ck_assert_int_eq(plan_confirm_ok(&p, "kuma"), 0);
}
END_TEST

/* Which steps' playbooks ask for input when run. */
START_TEST(test_prompts)
{
	struct plan_task	tasks[3];
	struct plan		p;
	char			dir[] = "/tmp/chiffon-ckplan-XXXXXX", *path, *s;
	FILE			*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = path_join(dir, "ask.yml");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("- name: Ask\n  hosts: all\n  vars_prompt :\n    - name: "
	    "who\n      prompt: Who?\n", f);
	fclose(f);
	free(path);
	path = path_join(dir, "plain.yml");
	f = fopen(path, "w");
	fputs("- name: Plain\n  hosts: all\n  vars:\n    note: no "
	    "vars_prompt: here\n", f);
	fclose(f);
	free(path);
	memset(&p, 0, sizeof p);
	memset(tasks, 0, sizeof tasks);
	p.tasks = tasks;
	p.ntasks = 3;
	tasks[0].step = 1;
	tasks[0].playbook = "plain.yml";
	tasks[1].step = 2;
	tasks[1].playbook = "ask.yml";
	tasks[2].step = 3;
	tasks[2].playbook = "missing.yml";
	s = plan_prompts(&p, dir);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "step 2 (ask.yml)");
	free(s);
	tasks[1].playbook = "plain.yml";
	ck_assert_ptr_null(plan_prompts(&p, dir));
	ck_assert_ptr_null(plan_prompts(&p, NULL));
	/* ansible.cfg asking for the become password: every step asks. */
	path = path_join(dir, "ansible.cfg");
	f = fopen(path, "w");
	fputs("[defaults]\nask_vault_pass = False\n[privilege_escalation]\n"
	    "become_ask_pass = True\n", f);
	fclose(f);
	s = plan_prompts(&p, dir);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "every step (ansible.cfg: become password)");
	free(s);
	unlink(path);
	free(path);
	path = path_join(dir, "ask.yml");
	unlink(path);
	free(path);
	path = path_join(dir, "plain.yml");
	unlink(path);
	free(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_durations)
{
	static const struct {
		double		 s;
		const char	*text;
	} rows[] = {
		{ 0, "0s" }, { 40, "40s" }, { 59.6, "1m" }, { 60, "1m" },
		{ 150, "2m30s" }, { 3600, "1h00m" }, { 3900, "1h05m" },
	};
	size_t	i;
	char	*d;

	for (i = 0; i < nitems(rows); i++) {
		d = plan_duration(rows[i].s);
		ck_assert_str_eq(d, rows[i].text);
		free(d);
	}
	ck_assert(plan_default_estimate("deploy") > 0);
	ck_assert(plan_default_estimate("backup") >
	    plan_default_estimate("check"));
}
END_TEST

/* --- with the catalog and the database --------------------------------- */

START_TEST(test_kuma_plan_stored)
{
	struct plan	*p;
	PGconn		*pg;
	const char	*params[2];
	char		 row[32], rid[32], *s, *text;

	pg = orchtest_pg(&ot);
	p = plan_of(KUMA);
	ck_assert_msg(plan_runnable(p), "questions: %s",
	    json_object_to_json_string(p->questions));
	ck_assert_int_gt(p->row_id, 0);
	ck_assert_int_eq(p->plan_id, p->row_id);
	ck_assert_int_eq(p->version, 1);
	ck_assert_str_eq(p->tier, "deterministic");
	ck_assert_uint_eq(p->ntasks, 2);
	ck_assert_str_eq(p->tasks[0].action, "deploy");
	ck_assert_str_eq(p->tasks[0].service, "kuma");
	ck_assert_str_eq(p->tasks[0].playbook, "kuma-deploy.yml");
	ck_assert_str_eq(p->tasks[0].method, "exact");
	ck_assert(p->tasks[0].confidence >= 0.99);
	ck_assert_ptr_null(p->tasks[0].limit);
	ck_assert_uint_eq(p->tasks[0].ndepends, 0);
	ck_assert_str_eq(p->tasks[1].action, "configure");
	ck_assert_str_eq(p->tasks[1].playbook, "kuma-monitors.yml");
	ck_assert_uint_eq(p->tasks[1].ndepends, 1);
	ck_assert_int_eq(p->tasks[1].depends[0], 1);
	ck_assert_str_eq(p->tasks[0].capability, "ansible");
	ck_assert_int_eq(p->tasks[0].risk, PLAN_RISK_MEDIUM);
	ck_assert_double_eq(p->tasks[0].estimated_s,
	    plan_default_estimate("deploy"));

	/* The rows. */
	snprintf(row, sizeof row, "%lld", p->row_id);
	snprintf(rid, sizeof rid, "%lld", p->request_id);
	params[0] = row;
	s = orchtest_str(pg, "SELECT status || ' ' || request_id || ' ' || "
	    "parser_tier FROM plans WHERE id = $1", 1, params);
	text = xasprintf("pending_approval %s deterministic", rid);
	ck_assert_str_eq(s, text);
	free(s);
	free(text);
	s = orchtest_str(pg, "SELECT string_agg(step || ':' || action || ':' "
	    "|| playbook || ':' || status || ':' || match_method || ':' || "
	    "targets || ':' || risk, ' ' ORDER BY step) FROM tasks "
	    "WHERE plan_id = $1", 1, params);
	ck_assert_str_eq(s, "1:deploy:kuma-deploy.yml:pending_approval:exact:"
	    "all:medium 2:configure:kuma-monitors.yml:pending_approval:exact:"
	    "all:medium");
	free(s);
	/* depends_on holds the id of step 1; playbook_id the catalog row. */
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks t2 "
	    "JOIN tasks t1 ON t1.plan_id = t2.plan_id AND t1.step = 1 "
	    "WHERE t2.plan_id = $1 AND t2.step = 2 AND t2.depends_on = "
	    "ARRAY[t1.id]", 1, params), 1);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks t "
	    "JOIN playbooks b ON b.id = t.playbook_id AND b.path = t.playbook "
	    "WHERE t.plan_id = $1", 1, params), 2);
	/* The request: who, what, understood how. */
	params[0] = rid;
	s = orchtest_str(pg, "SELECT source || ' ' || parser_tier || ' ' || "
	    "jsonb_array_length(intents) || ' ' || "
	    "jsonb_array_length(ambiguities) || ' ' || (actor <> '') "
	    "FROM requests WHERE id = $1", 1, params);
	ck_assert_str_eq(s, "cli deterministic 2 0 true");
	free(s);
	/* The audit trail. */
	s = orchtest_str(pg, "SELECT string_agg(kind, ' ' ORDER BY id) FROM "
	    "audit_log WHERE request_id = $1", 1, params);
	ck_assert_str_eq(s, "request.received request.parsed plan.generated");
	free(s);
	/* plan_load gives the same plan back. */
	{
		struct plan	*q;
		char		*err = NULL, *a, *b;

		q = plan_load(pg, p->row_id, &err);
		ck_assert_msg(q != NULL, "%s", err);
		ck_assert_uint_eq(q->ntasks, 2);
		ck_assert_int_eq(q->tasks[1].depends[0], 1);
		ck_assert_str_eq(q->tasks[1].note, "existing portals config");
		a = plan_summary(p);
		b = plan_summary(q);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
		a = plan_format(q);
		ck_assert_ptr_nonnull(strstr(a, " 1. deploy kuma  "
		    "kuma-deploy.yml (exact, 1.00)  targets: docker1  risk: "
		    "medium  est. 2m"));
		ck_assert_ptr_nonnull(strstr(a, " 2. configure kuma  "
		    "kuma-monitors.yml (exact, 1.00)  targets: docker1  "));
		ck_assert_ptr_null(strstr(a, "targets: all"));
		ck_assert_ptr_nonnull(strstr(a, "after step 1"));
		free(a);
		plan_free(q);
	}
	plan_free(p);
}
END_TEST

START_TEST(test_unknown_service_is_a_question)
{
	struct plan	*p;
	PGconn		*pg;
	const char	*params[1];
	char		 rid[32], *s, *q;

	pg = orchtest_pg(&ot);
	p = plan_of("deploy mysql on the nas");
	ck_assert(!plan_runnable(p));
	ck_assert_int_eq(p->row_id, 0);
	ck_assert_int_gt(p->request_id, 0);
	ck_assert_uint_eq(p->ntasks, 1);
	ck_assert_ptr_null(p->tasks[0].playbook);
	ck_assert_int_ge(json_object_array_length(p->questions), 1);
	/* Candidates are offered, never silently taken. */
	ck_assert_int_gt(json_object_array_length(p->tasks[0].candidates), 0);
	q = plan_format(p);
	ck_assert_ptr_nonnull(strstr(q, "mysql"));
	ck_assert_ptr_nonnull(strstr(q, "Closest"));
	ck_assert_ptr_nonnull(strstr(q, "Questions"));
	free(q);

	snprintf(rid, sizeof rid, "%lld", p->request_id);
	params[0] = rid;
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM plans WHERE "
	    "request_id = $1", 1, params), 0);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks", 0,
	    NULL), 0);
	s = orchtest_str(pg, "SELECT ambiguities::text FROM requests "
	    "WHERE id = $1", 1, params);
	ck_assert_ptr_nonnull(strstr(s, "mysql"));
	ck_assert_ptr_nonnull(strstr(s, "Closest"));
	free(s);
	s = orchtest_str(pg, "SELECT string_agg(kind, ' ' ORDER BY id) FROM "
	    "audit_log WHERE request_id = $1", 1, params);
	ck_assert_str_eq(s, "request.received request.parsed "
	    "request.question");
	free(s);
	{
		char *err = NULL;

		ck_assert_int_eq(plan_store(pg, p, "test", NULL, 0, &err), -1);
		ck_assert_ptr_nonnull(strstr(err, "questions"));
		free(err);
	}
	plan_free(p);

	/* An empty request, and words with no action or service. */
	p = plan_of("please and thank you");
	ck_assert(!plan_runnable(p));
	ck_assert_int_eq(p->row_id, 0);
	ck_assert_int_ge(json_object_array_length(p->questions), 1);
	plan_free(p);
}
END_TEST

/* One request -> "step:action:service:playbook:limit:risk|...". */
static const struct {
	const char	*text;
	const char	*steps;
	const char	*vars;		/* extra vars of step 1, or NULL */
} plan_rows[] = {
	{ "deploy grafana on pve1", "1:deploy:grafana:grafana-deploy.yml:"
	  "pve1:medium", NULL },
	{ "install grafana version 10.2.3 on pve1 and pve2",
	  "1:deploy:grafana:grafana-deploy.yml:pve1,pve2:medium",
	  "{\"grafana_version\":\"10.2.3\"}" },
	{ "remove jellyfin", "1:remove:jellyfin:jellyfin-remove.yml:"
	  "all:high", NULL },
	{ "back up nextcloud on the nas", "1:backup:nextcloud:"
	  "nextcloud-backup.yml:nas:low", NULL },
	{ "deploy pihole on docker_hosts", "1:deploy:pihole:pihole-deploy.yml:"
	  "docker_hosts:medium", NULL },
	{ "configure pihole and deploy grafana", "1:configure:pihole:"
	  "pihole-config.yml:all:medium|2:deploy:grafana:grafana-deploy.yml:"
	  "all:medium", NULL },
};

START_TEST(test_plan_table)
{
	struct strbuf	 sb = { 0 };
	struct plan	*p;
	size_t		 i;

	for (i = 0; i < nitems(plan_rows); i++) {
		p = plan_of(plan_rows[i].text);
		ck_assert_msg(plan_runnable(p), "%s: %s", plan_rows[i].text,
		    json_object_to_json_string(p->questions));
		strbuf_reset(&sb);
		for (size_t k = 0; k < p->ntasks; k++) {
			const struct plan_task *t = &p->tasks[k];

			strbuf_addf(&sb, "%s%d:%s:%s:%s:%s:%s", k > 0 ? "|" :
			    "", t->step, t->action, t->service, t->playbook,
			    t->limit != NULL ? t->limit : "all",
			    plan_risk_name(t->risk));
		}
		ck_assert_msg(strcmp(sb.buf, plan_rows[i].steps) == 0,
		    "%s: %s, not %s", plan_rows[i].text, sb.buf,
		    plan_rows[i].steps);
		if (plan_rows[i].vars != NULL)
			ck_assert_str_eq(json_object_to_json_string_ext(
			    p->tasks[0].extra_vars, JSON_C_TO_STRING_PLAIN),
			    plan_rows[i].vars);
		plan_free(p);
	}
	strbuf_free(&sb);
}
END_TEST

/* A tag of several playbooks is no unknown service: it asks which. */
START_TEST(test_tag_of_several)
{
	struct plan	*p;
	const char	*q;

	p = plan_of("deploy portals");
	ck_assert(!plan_runnable(p));
	q = json_object_get_string(json_object_array_get_idx(p->questions, 0));
	ck_assert_msg(strstr(q, "'portals' is a tag of several playbooks") !=
	    NULL, "%s", json_object_to_json_string(p->questions));
	ck_assert_ptr_null(strstr(json_object_to_json_string(p->questions),
	    "no service 'portals'"));
	plan_free(p);
}
END_TEST

/*
 * A configure that comes before the deploy of the same service waits for
 * it: the deploy moves up, everything else keeps its order.
 */
START_TEST(test_deploy_moves_before_configure)
{
	struct vocab	*v;
	struct plan	*p;
	json_object	*parsed;
	char		*err = NULL;

	v = vocab_of_app();
	parsed = json_tokener_parse("{\"intents\": ["
	    "{\"action\": \"backup\", \"service\": \"grafana\", \"targets\": "
	    "[], \"params\": {}, \"check\": false, \"text\": \"back up "
	    "grafana\"},"
	    "{\"action\": \"configure\", \"service\": \"kuma\", \"targets\": "
	    "[\"all\"], \"params\": {\"detail\": \"portals\"}, \"check\": "
	    "false, \"text\": \"add the portals to kuma\"},"
	    "{\"action\": \"deploy\", \"service\": \"kuma\", \"targets\": "
	    "[\"all\"], \"params\": {}, \"check\": false, \"text\": \"deploy "
	    "uptime kuma\"}], \"ambiguities\": [], \"out_of_scope\": [], "
	    "\"notes\": [], \"tier\": \"deterministic\"}");
	ck_assert_ptr_nonnull(parsed);
	p = plan_build(orchtest_pg(&ot), "test", parsed, v, plan_match_host,
	    ot.app, &err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(p->ntasks, 3);
	ck_assert_str_eq(p->tasks[0].playbook, "grafana-backup.yml");
	ck_assert_str_eq(p->tasks[1].playbook, "kuma-deploy.yml");
	ck_assert_str_eq(p->tasks[2].playbook, "kuma-monitors.yml");
	ck_assert_int_eq(p->tasks[1].step, 2);
	ck_assert_uint_eq(p->tasks[0].ndepends, 0);
	ck_assert_uint_eq(p->tasks[1].ndepends, 0);
	ck_assert_uint_eq(p->tasks[2].ndepends, 1);
	ck_assert_int_eq(p->tasks[2].depends[0], 2);
	ck_assert_str_eq(p->tasks[2].note, "portals");
	ck_assert(plan_runnable(p));
	plan_free(p);
	json_object_put(parsed);
	vocab_free(v);
	free(v);
}
END_TEST

/* A matcher that always answers the playbook named by data. */
static int
match_fixed(const char *text, const char *action, json_object *targets,
    json_object **resultp, void *data, char **errp)
{
	const char	*path = data;
	char		*json;

	(void)text;
	(void)action;
	(void)targets;
	(void)errp;
	json = xasprintf("{\"match\": {\"path\": \"%s\", \"service\": "
	    "\"ollama\", \"confidence\": 1.0, \"method\": \"exact\"}, "
	    "\"candidates\": []}", path);
	*resultp = json_tokener_parse(json);
	free(json);
	return 0;
}

/* "# chiffon:needs=" becomes the step's resources; a bad one a question. */
START_TEST(test_needs_header)
{
	static const char catalog[] = "{\"playbooks\": ["
	    "{\"path\": \"ollama-deploy.yml\", \"service\": \"ollama\", "
	    "\"action\": \"deploy\", \"needs\": \"gpu:8GB, cores:4\", "
	    "\"vars\": {\"chiffon_resources\": {\"gpu_mem_mb\": 4096, "
	    "\"disk_mb\": 100}}},"
	    "{\"path\": \"bad-deploy.yml\", \"service\": \"ollama\", "
	    "\"action\": \"deploy\", \"needs\": \"gpu:plenty\"}]}";
	struct vocab	 v;
	struct plan	*p;
	json_object	*parsed, *r;
	char		*err = NULL;

	ck_assert_msg(vocab_from_json(&v, catalog, &err) == 0, "%s", err);
	ck_assert_str_eq(vocab_playbook(&v, "ollama-deploy.yml")->needs,
	    "gpu:8GB, cores:4");
	parsed = json_tokener_parse("{\"intents\": [{\"action\": "
	    "\"deploy\", \"service\": \"ollama\", \"targets\": [], "
	    "\"params\": {}, \"check\": false, \"text\": \"deploy "
	    "ollama\"}], \"ambiguities\": [], \"out_of_scope\": [], "
	    "\"notes\": [], \"tier\": \"deterministic\"}");
	p = plan_build(NULL, "deploy ollama", parsed, &v, match_fixed,
	    "ollama-deploy.yml", &err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(p->ntasks, 1);
	ck_assert(plan_runnable(p));
	r = p->tasks[0].resources;
	ck_assert_str_eq(json_object_to_json_string_ext(r,
	    JSON_C_TO_STRING_PLAIN),
	    "{\"gpu_mem_mb\":8192,\"disk_mb\":100,\"cpu\":4}");
	plan_free(p);
	p = plan_build(NULL, "deploy ollama", parsed, &v, match_fixed,
	    "bad-deploy.yml", &err);
	ck_assert_msg(p != NULL, "%s", err);
	ck_assert(!plan_runnable(p));
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(p->questions),
	    "bad-deploy.yml: its '# chiffon:needs=' line is wrong"));
	plan_free(p);
	json_object_put(parsed);
	vocab_free(&v);
}
END_TEST

START_TEST(test_resolve_and_json)
{
	struct plan	*p;
	PGconn		*pg;
	json_object	*o, *t;
	long long	 row;
	char		 ref[64], *err = NULL;

	pg = orchtest_pg(&ot);
	p = plan_of("deploy grafana on pve1");
	ck_assert_int_gt(p->row_id, 0);
	snprintf(ref, sizeof ref, "%lld", p->plan_id);
	ck_assert_int_eq(plan_resolve(pg, ref, &err), p->row_id);
	snprintf(ref, sizeof ref, "%lld.1", p->plan_id);
	ck_assert_int_eq(plan_resolve(pg, ref, &err), p->row_id);
	snprintf(ref, sizeof ref, "%lldv1", p->plan_id);
	ck_assert_int_eq(plan_resolve(pg, ref, &err), p->row_id);
	snprintf(ref, sizeof ref, "%lld.2", p->plan_id);
	ck_assert_int_eq(plan_resolve(pg, ref, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no version 2"));
	free(err);
	row = plan_resolve(pg, "999999", &err);
	ck_assert_int_eq(row, -1);
	ck_assert_ptr_nonnull(strstr(err, "no plan 999999"));
	free(err);
	ck_assert_int_eq(plan_resolve(pg, "kuma", &err), -1);
	free(err);
	ck_assert_int_eq(plan_resolve(pg, "3.", &err), -1);
	free(err);

	o = plan_json(p);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(o,
	    "id")), p->plan_id);
	ck_assert(json_object_get_boolean(json_object_object_get(o,
	    "runnable")));
	t = json_object_array_get_idx(json_object_object_get(o, "tasks"), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(t,
	    "playbook")), "grafana-deploy.yml");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(t,
	    "targets")), "pve1");
	/* grafana-deploy.yml plays on monitoring (docker1): pve1 is not. */
	ck_assert_str_eq(json_object_to_json_string(json_object_object_get(t,
	    "hosts")), "[ ]");
	{
		char *s = plan_format(p);

		ck_assert_msg(strstr(s, "targets: no host (limit pve1)  ") !=
		    NULL, "%s", s);
		free(s);
	}
	ck_assert_str_eq(json_object_get_string(json_object_object_get(t,
	    "estimate_from")), "default for the action");
	json_object_put(o);
	plan_free(p);
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite	*s = suite_create("plan");
	TCase	*tc;

	tc = tcase_create("pure");
	tcase_add_test(tc, test_vocab_from_catalog);
	tcase_add_test(tc, test_risk_table);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_needs_header);
	tcase_add_test(tc, test_confirm);
	tcase_add_test(tc, test_prompts);
	suite_add_tcase(s, tc);

	tc = tcase_create("planning");
	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_kuma_plan_stored);
	tcase_add_test(tc, test_unknown_service_is_a_question);
	tcase_add_test(tc, test_plan_table);
	tcase_add_test(tc, test_tag_of_several);
	tcase_add_test(tc, test_deploy_moves_before_configure);
	tcase_add_test(tc, test_resolve_and_json);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(plan_suite());
}
