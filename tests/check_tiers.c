/*
 * check_tiers.c - the parser tiers end to end: the provider double on
 * loopback, a real PostgreSQL cluster, and the llm_calls rows each path
 * must leave.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "intent.h"
#include "llm.h"
#include "llmsrv.h"
#include "loop.h"
#include "migrate.h"
#include "pgtest.h"
#include "testutil.h"
#include "tiers.h"
#include "util.h"

#define AL(...) (const char *const[]){ __VA_ARGS__, NULL }
static const struct intent_service services[] = {
	{ "grafana", NULL },
	{ "kuma", AL("uptime-kuma", "uptime kuma") },
};
static const struct intent_vocab vocab = {
	.services = services, .nservices = 2,
	.hosts = AL("nas", "pve1"), .groups = AL("proxmox"),
};
static const char *const playbooks[] = {
	"grafana-deploy.yml", "kuma-deploy.yml", NULL
};

static struct llmsrv	 srv;
static char		*conninfo;

static void
setup(void)
{
	char	*err = NULL;
	PGconn	*c;

	ck_assert_int_eq(llmsrv_start(&srv), 0);
	testutil_cluster_need();
	conninfo = pgtest_new_db(testutil_cluster(), "tiers", &err);
	ck_assert_msg(conninfo != NULL, "%s", err);
	c = PQconnectdb(conninfo);
	ck_assert_msg(migrate_apply(c, NULL, &err) == 0, "%s", err);
	PQfinish(c);
}

static void
teardown(void)
{
	llmsrv_stop(&srv);
	testutil_cluster_stop();
	free(conninfo);
}

static struct llm_endpoint
ep_for(enum llm_wire wire, const char *tier, const char *scenario)
{
	char			*url = xasprintf("http://127.0.0.1:%d/%s",
				    srv.port, scenario);
	struct llm_endpoint	 ep = {
		.wire = wire, .tier = tier, .url = url, .model = "test-model",
		.timeout_ms = 1000, .usd_per_mtok_in = 3.0,
		.usd_per_mtok_out = 15.0,
	};

	ep.provider = wire == LLM_WIRE_OLLAMA ? "ollama" :
	    wire == LLM_WIRE_OPENAI ? "openai" : "anthropic";
	return ep;
}

/* The outcome of one tiers job. */
struct outcome {
	int		 done;
	char		*tier;
	json_object	*parsed;
	double		 cost;
	int		 asked;
	int		 answer;
};

static void
on_done(json_object *parsed, const char *tier, double cost, void *data)
{
	struct outcome	*o = data;

	o->done = 1;
	o->tier = xstrdup(tier);
	o->parsed = parsed;
	o->cost = cost;
}

static int
on_ask(const char *question, void *data)
{
	struct outcome	*o = data;

	o->asked++;
	ck_assert_ptr_nonnull(strstr(question, "budget"));
	return o->answer;
}

static PGconn *
db(void)
{
	PGconn	*c = PQconnectdb(conninfo);

	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "TRUNCATE llm_calls"));
	return c;
}

static struct outcome
run(struct tiers_config *cfg, PGconn *c, const char *text, int answer)
{
	struct loop	*loop = loop_new();
	struct llm_http	*http = llm_http_new(loop);
	struct outcome	 o = { .answer = answer };
	int		 spins = 0;

	tiers_start(cfg, http, c, 0, text, &vocab, playbooks, on_ask, &o,
	    on_done, &o);
	while (!o.done && spins++ < 200)
		loop_run_once(loop, 100);
	ck_assert_msg(o.done, "tiers job never finished");
	llm_http_free(http);
	loop_free(loop);
	return o;
}

static void
outcome_free(struct outcome *o)
{
	free(o->tier);
	json_object_put(o->parsed);
}

/* The llm_calls rows as "tier/provider/decision/http" lines. */
static char *
rows(PGconn *c)
{
	PGresult	*r = PQexec(c, "SELECT tier || '/' || provider || '/' || "
			    "decision || '/' || coalesce(http_status::text, '-')"
			    " || '/' || input_tokens || '/' || cost_usd "
			    "FROM llm_calls ORDER BY id");
	struct strbuf	 sb = { 0 };
	int		 i;

	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(r); i++)
		strbuf_addf(&sb, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	return strbuf_detach(&sb);
}

static void
free_eps(struct tiers_config *cfg)
{
	free((char *)cfg->local.url);
	free((char *)cfg->external.url);
}

#define EXPECT_ROWS(c, want) do {					\
	char *got_ = rows(c);						\
	ck_assert_msg(strcmp(got_, want) == 0, "rows:\n%swant:\n%s",	\
	    got_, want);						\
	free(got_);							\
} while (0)

/* Local good answer, for each wire format: the local tier wins. */
START_TEST(test_local_good)
{
	struct tiers_config	cfg = { .has_local = 1, .complex_words = 40,
				    .ask_below = 0.2 };
	PGconn			*c = db();
	struct outcome		 o;
	char			*want;

	cfg.local = ep_for((enum llm_wire)_i, "local", "good");
	o = run(&cfg, c, "deploy grafana on pve1", 1);
	ck_assert_str_eq(o.tier, "local");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	    o.parsed, "parser")), "llm");
	want = xasprintf("local/%s/accepted/200/1200/%s\n",
	    cfg.local.provider, "0.004800");
	EXPECT_ROWS(c, want);
	ck_assert(o.cost > 0.00479 && o.cost < 0.00481);
	free(want);
	outcome_free(&o);
	free_eps(&cfg);
	PQfinish(c);
}
END_TEST

/* Each failure of the local tier ends in the deterministic parser. */
START_TEST(test_local_failures_fall_through)
{
	static const char *const scen[] = { "badjson", "hallucinate", "429",
	    "500", "slow" };
	static const char *const want[] = {
		"local/ollama/rejected/200/1200/0.004800\n",
		"local/ollama/rejected/200/1200/0.004800\n",
		"local/ollama/failed/429/0/0.000000\n",
		"local/ollama/failed/500/0/0.000000\n",
		"local/ollama/failed/-/0/0.000000\n",
	};
	struct tiers_config	cfg = { .has_local = 1, .complex_words = 40,
				    .ask_below = 0.2 };
	PGconn			*c = db();
	struct outcome		 o;

	cfg.local = ep_for(LLM_WIRE_OLLAMA, "local", scen[_i]);
	o = run(&cfg, c, "deploy grafana on pve1", 1);
	ck_assert_str_eq(o.tier, "deterministic");
	ck_assert_int_eq((int)json_object_array_length(json_object_object_get(
	    o.parsed, "intents")), 1);
	EXPECT_ROWS(c, want[_i]);
	outcome_free(&o);
	free_eps(&cfg);
	PQfinish(c);
}
END_TEST

/* A hallucinating local model hands over to the external tier. */
START_TEST(test_local_rejected_external_answers)
{
	struct tiers_config	cfg = { .has_local = 1, .has_external = 1,
				    .budget_daily_usd = 5,
				    .budget_monthly_usd = 50,
				    .complex_words = 40, .ask_below = 0.2 };
	PGconn			*c = db();
	struct outcome		 o;

	cfg.local = ep_for(LLM_WIRE_OPENAI, "local", "hallucinate");
	cfg.external = ep_for(LLM_WIRE_ANTHROPIC, "external", "good");
	o = run(&cfg, c, "deploy grafana on pve1", 1);
	ck_assert_str_eq(o.tier, "external");
	ck_assert_int_eq(o.asked, 0);
	EXPECT_ROWS(c, "local/openai/rejected/200/1200/0.004800\n"
	    "external/anthropic/accepted/200/1200/0.004800\n");
	outcome_free(&o);
	free_eps(&cfg);
	PQfinish(c);
}
END_TEST

/* Spent budget: the external tier is refused, and says so. */
START_TEST(test_budget_exhausted)
{
	struct tiers_config	cfg = { .has_external = 1,
				    .budget_daily_usd = 1,
				    .budget_monthly_usd = 50,
				    .complex_words = 40, .ask_below = 0.2 };
	PGconn			*c = db();
	PGresult		*r;
	struct outcome		 o;
	const char		*note;

	cfg.external = ep_for(LLM_WIRE_ANTHROPIC, "external", "good");
	PQclear(PQexec(c, "INSERT INTO llm_calls (provider, model, tier, "
	    "decision, cost_usd) VALUES ('anthropic', 'm', 'external', "
	    "'accepted', 1.25)"));
	o = run(&cfg, c, "deploy grafana on pve1", 1);
	ck_assert_str_eq(o.tier, "deterministic");
	r = PQexec(c, "SELECT decision, reason FROM llm_calls ORDER BY id");
	ck_assert_int_eq(PQntuples(r), 2);
	ck_assert_str_eq(PQgetvalue(r, 1, 0), "refused_budget");
	ck_assert_ptr_nonnull(strstr(PQgetvalue(r, 1, 1),
	    "spent $1.25 of $1.00 today"));
	PQclear(r);
	note = json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(o.parsed, "notes"), 0));
	ck_assert_ptr_nonnull(strstr(note, "budget exhausted"));
	outcome_free(&o);
	free_eps(&cfg);
	PQfinish(c);
}
END_TEST

/* Under 20% left: asked first; "no" keeps the money, "yes" spends it. */
START_TEST(test_budget_low_asks)
{
	struct tiers_config	cfg = { .has_external = 1,
				    .budget_daily_usd = 1,
				    .budget_monthly_usd = 50,
				    .complex_words = 40, .ask_below = 0.2 };
	PGconn			*c = db();
	struct outcome		 o;

	cfg.external = ep_for(LLM_WIRE_ANTHROPIC, "external", "good");
	PQclear(PQexec(c, "INSERT INTO llm_calls (provider, model, tier, "
	    "decision, cost_usd) VALUES ('anthropic', 'm', 'external', "
	    "'accepted', 0.90)"));
	o = run(&cfg, c, "deploy grafana on pve1", 0);
	ck_assert_int_eq(o.asked, 1);
	ck_assert_str_eq(o.tier, "deterministic");
	EXPECT_ROWS(c, "external/anthropic/accepted/-/0/0.900000\n"
	    "external/anthropic/declined/-/0/0.000000\n");
	outcome_free(&o);

	PQclear(PQexec(c, "DELETE FROM llm_calls WHERE decision = 'declined'"));
	o = run(&cfg, c, "deploy grafana on pve1", 1);
	ck_assert_int_eq(o.asked, 1);
	ck_assert_str_eq(o.tier, "external");
	outcome_free(&o);
	free_eps(&cfg);
	PQfinish(c);
}
END_TEST

/* A complex request goes to the external tier first. */
START_TEST(test_complex_prefers_external)
{
	struct tiers_config	cfg = { .has_local = 1, .has_external = 1,
				    .budget_daily_usd = 5,
				    .budget_monthly_usd = 50,
				    .complex_words = 40, .ask_below = 0.2 };
	PGconn			*c = db();
	struct outcome		 o;

	cfg.local = ep_for(LLM_WIRE_OLLAMA, "local", "good");
	cfg.external = ep_for(LLM_WIRE_ANTHROPIC, "external", "good");
	o = run(&cfg, c, "make the monitoring nicer somehow", 1);
	ck_assert_str_eq(o.tier, "external");
	EXPECT_ROWS(c, "external/anthropic/accepted/200/1200/0.004800\n");
	outcome_free(&o);
	free_eps(&cfg);
	PQfinish(c);
}
END_TEST

/* Nothing configured: the deterministic parser, and no rows. */
START_TEST(test_offline)
{
	struct tiers_config	cfg = { .complex_words = 40, .ask_below = 0.2 };
	PGconn			*c = db();
	struct outcome		 o;

	o = run(&cfg, c, "deploy uptime kuma on the nas", 1);
	ck_assert_str_eq(o.tier, "deterministic");
	EXPECT_ROWS(c, "");
	outcome_free(&o);
	PQfinish(c);
}
END_TEST

static Suite *
tiers_suite(void)
{
	Suite	*s = suite_create("tiers");
	TCase	*tc = tcase_create("tiers");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_local_good, 0, 3);
	tcase_add_loop_test(tc, test_local_failures_fall_through, 0, 5);
	tcase_add_test(tc, test_local_rejected_external_answers);
	tcase_add_test(tc, test_budget_exhausted);
	tcase_add_test(tc, test_budget_low_asks);
	tcase_add_test(tc, test_complex_prefers_external);
	tcase_add_test(tc, test_offline);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(tiers_suite());
}
