/*
 * check_llm.c - provider wire formats, reply validation, and real HTTP
 * calls through the loop to the loopback provider double (llmsrv.c).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "intent.h"
#include "llm.h"
#include "llmsrv.h"
#include "loop.h"
#include "testutil.h"
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
	"grafana-deploy.yml", "kuma-deploy.yml", "kuma-monitors.yml", NULL
};

static struct llmsrv srv;

static void
srv_up(void)
{
	ck_assert_int_eq(llmsrv_start(&srv), 0);
}

static void
srv_down(void)
{
	llmsrv_stop(&srv);
}

static struct llm_endpoint
endpoint(enum llm_wire wire, const char *scenario)
{
	static char		 url[128];
	struct llm_endpoint	 ep = {
		.wire = wire, .tier = "local", .model = "test-model",
		.timeout_ms = 2000, .usd_per_mtok_in = 3.0,
		.usd_per_mtok_out = 15.0, .usd_per_mtok_cache_read = 0.3,
		.usd_per_mtok_cache_write = 3.75,
	};

	ep.provider = wire == LLM_WIRE_OLLAMA ? "ollama" :
	    wire == LLM_WIRE_OPENAI ? "openai" : "anthropic";
	snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", srv.port,
	    scenario);
	ep.url = url;
	return ep;
}

START_TEST(test_request_bodies)
{
	struct llm_endpoint	 ep = { .model = "m", .max_tokens = 512 };
	json_object		*o, *v;
	char			*body;

	ep.wire = LLM_WIRE_OLLAMA;
	body = llm_wire_request(&ep, "SYS", "deploy grafana");
	o = json_tokener_parse(body);
	ck_assert(json_object_object_get_ex(o, "format", &v));
	ck_assert(json_object_object_get_ex(v, "properties", NULL));
	ck_assert(json_object_object_get_ex(o, "stream", &v));
	ck_assert(!json_object_get_boolean(v));
	v = json_object_array_get_idx(json_object_object_get(o, "messages"),
	    0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "role")), "system");
	json_object_put(o);
	free(body);

	ep.wire = LLM_WIRE_OPENAI;
	body = llm_wire_request(&ep, "SYS", "deploy grafana");
	o = json_tokener_parse(body);
	v = json_object_object_get(o, "response_format");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "type")), "json_schema");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o,
	    "max_tokens")), 512);
	json_object_put(o);
	free(body);

	ep.wire = LLM_WIRE_ANTHROPIC;
	body = llm_wire_request(&ep, "SYS", "deploy grafana");
	o = json_tokener_parse(body);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "system")), "SYS");
	v = json_object_object_get(o, "messages");
	ck_assert_int_eq((int)json_object_array_length(v), 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	    json_object_array_get_idx(v, 0), "content")), "deploy grafana");
	json_object_put(o);
	free(body);
}
END_TEST

START_TEST(test_reply_parsing_and_cost)
{
	static const char anth[] = "{\"content\":[{\"type\":\"text\","
	    "\"text\":\"{}\"}],\"usage\":{\"input_tokens\":1000000,"
	    "\"output_tokens\":100000,\"cache_read_input_tokens\":10,"
	    "\"cache_creation_input_tokens\":20}}";
	struct llm_endpoint	ep = { .wire = LLM_WIRE_ANTHROPIC,
				    .provider = "anthropic",
				    .usd_per_mtok_in = 3.0,
				    .usd_per_mtok_out = 15.0 };
	struct llm_usage	u;
	char			*content = NULL, *err = NULL;

	ck_assert_int_eq(llm_wire_reply(&ep, anth, strlen(anth), &content,
	    &u, &err), 0);
	ck_assert_str_eq(content, "{}");
	ck_assert_int_eq(u.input_tokens, 1000000);
	ck_assert_int_eq(u.output_tokens, 100000);
	ck_assert_int_eq(u.cache_read_tokens, 10);
	ck_assert_int_eq(u.cache_write_tokens, 20);
	ck_assert(llm_cost(&ep, &u) > 4.499 && llm_cost(&ep, &u) < 4.501);
	free(content);

	ck_assert_int_eq(llm_wire_reply(&ep, "<html>", 6, &content, &u,
	    &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not JSON"));
	free(err);
	ep.wire = LLM_WIRE_OLLAMA;
	ck_assert_int_eq(llm_wire_reply(&ep, "{\"error\":\"model 'x' not "
	    "found\"}", 31, &content, &u, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "model 'x' not found"));
	free(err);
}
END_TEST

START_TEST(test_check_reply)
{
	json_object	*o;
	char		*err = NULL;

	o = llm_check_reply("{\"intents\":[{\"action\":\"deploy\","
	    "\"service\":\"uptime kuma\",\"playbook\":\"kuma-deploy.yml\","
	    "\"targets\":[\"all\"],\"params\":{},\"check\":false}],"
	    "\"ambiguities\":[],\"out_of_scope\":[]}", &vocab, playbooks,
	    &err);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	    json_object_array_get_idx(json_object_object_get(o, "intents"),
	    0), "service")), "kuma");
	json_object_put(o);

#define REFUSED(text, needle) do {					\
	err = NULL;							\
	o = llm_check_reply(text, &vocab, playbooks, &err);		\
	ck_assert_ptr_null(o);						\
	ck_assert_msg(strstr(err, needle) != NULL, "%s", err);		\
	free(err);							\
} while (0)
	REFUSED("not json", "not a JSON object");
	REFUSED("{\"ambiguities\":[],\"out_of_scope\":[]}", "'intents'");
	REFUSED("{\"intents\":[{\"action\":\"nuke\",\"service\":null,"
	    "\"playbook\":null,\"targets\":[],\"params\":{},\"check\":false}],"
	    "\"ambiguities\":[],\"out_of_scope\":[]}", "'nuke'");
	REFUSED("{\"intents\":[{\"action\":\"deploy\",\"service\":\"mysql\","
	    "\"playbook\":null,\"targets\":[],\"params\":{},\"check\":false}],"
	    "\"ambiguities\":[],\"out_of_scope\":[]}", "'mysql'");
	REFUSED("{\"intents\":[{\"action\":\"deploy\",\"service\":\"grafana\","
	    "\"playbook\":\"x.yml\",\"targets\":[],\"params\":{},"
	    "\"check\":false}],\"ambiguities\":[],\"out_of_scope\":[]}",
	    "'x.yml'");
	REFUSED("{\"intents\":[{\"action\":\"deploy\",\"service\":\"grafana\","
	    "\"playbook\":null,\"targets\":[\"mars\"],\"params\":{},"
	    "\"check\":false}],\"ambiguities\":[],\"out_of_scope\":[]}",
	    "'mars'");
	REFUSED("{\"intents\":[],\"ambiguities\":[1],\"out_of_scope\":[]}",
	    "ambiguities[0]");
#undef REFUSED
}
END_TEST

START_TEST(test_system_prompt)
{
	char	*p = llm_system_prompt(&vocab, playbooks);

	ck_assert_ptr_nonnull(strstr(p, "kuma (uptime-kuma, uptime kuma)"));
	ck_assert_ptr_nonnull(strstr(p, "kuma-monitors.yml"));
	ck_assert_ptr_nonnull(strstr(p, "groups: proxmox"));
	free(p);
}
END_TEST

/* Result of one HTTP call. */
struct got {
	int	 done;
	long	 status;
	char	*body;
	char	*error;
};

static void
got_done(long status, const char *body, size_t len, const char *error,
    double latency_ms, void *data)
{
	struct got	*g = data;

	g->done = 1;
	g->status = status;
	g->body = xstrndup(body, len);
	g->error = error != NULL ? xstrdup(error) : NULL;
}

static struct got
post(enum llm_wire wire, const char *scenario, long timeout_ms)
{
	struct loop		*loop = loop_new();
	struct llm_http		*h = llm_http_new(loop);
	struct llm_endpoint	 ep = endpoint(wire, scenario);
	struct got		 g = { 0 };
	char			*body, *err = NULL;
	int			 spins = 0;

	ep.timeout_ms = timeout_ms;
	ep.api_key = "sk-test-secret";
	body = llm_wire_request(&ep, "SYS", "deploy grafana on pve1");
	ck_assert_int_eq(llm_http_post(h, &ep, body, got_done, &g, &err), 0);
	while (!g.done && spins++ < 1000)
		loop_run_once(loop, 100);
	ck_assert_msg(g.done, "no answer from the provider double");
	free(body);
	llm_http_free(h);
	loop_free(loop);
	return g;
}

static void
got_free(struct got *g)
{
	free(g->body);
	free(g->error);
}

START_TEST(test_http_good_each_wire)
{
	enum llm_wire	 wire = (enum llm_wire)_i;
	struct llm_endpoint ep = endpoint(wire, "good");
	struct got	 g = post(wire, "good", 2000);
	struct llm_usage u;
	json_object	*o;
	char		*content, *err = NULL, *log;

	ck_assert_int_eq(g.status, 200);
	ck_assert_int_eq(llm_wire_reply(&ep, g.body, strlen(g.body), &content,
	    &u, &err), 0);
	ck_assert_int_eq(u.input_tokens, 1200);
	ck_assert_int_eq(u.output_tokens, 80);
	o = llm_check_reply(content, &vocab, playbooks, &err);
	ck_assert_ptr_nonnull(o);
	json_object_put(o);
	free(content);
	got_free(&g);

	/* What went over the wire: the right path and credentials. */
	log = read_file(srv.log, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(strstr(log, llm_wire_path(wire)));
	if (wire == LLM_WIRE_ANTHROPIC) {
		ck_assert_ptr_nonnull(strstr(log, "x-api-key: sk-test-secret"));
		ck_assert_ptr_nonnull(strstr(log, "anthropic-version: "));
	} else
		ck_assert_ptr_nonnull(strstr(log,
		    "Authorization: Bearer sk-test-secret"));
	free(log);
}
END_TEST

START_TEST(test_http_failures)
{
	enum llm_wire	 wire = (enum llm_wire)_i;
	struct llm_endpoint ep = endpoint(wire, "badjson");
	struct llm_usage u;
	struct got	 g;
	char		*content, *err = NULL;
	json_object	*o;

	g = post(wire, "badjson", 2000);
	ck_assert_int_eq(g.status, 200);
	ck_assert_int_eq(llm_wire_reply(&ep, g.body, strlen(g.body), &content,
	    &u, &err), 0);
	o = llm_check_reply(content, &vocab, playbooks, &err);
	ck_assert_ptr_null(o);
	ck_assert_ptr_nonnull(strstr(err, "not a JSON object"));
	free(err);
	free(content);
	got_free(&g);

	g = post(wire, "hallucinate", 2000);
	ck_assert_int_eq(llm_wire_reply(&ep, g.body, strlen(g.body), &content,
	    &u, &err), 0);
	err = NULL;
	o = llm_check_reply(content, &vocab, playbooks, &err);
	ck_assert_ptr_null(o);
	ck_assert_ptr_nonnull(strstr(err, "deploy-grafana-cloud.yml"));
	free(err);
	free(content);
	got_free(&g);

	g = post(wire, "429", 2000);
	ck_assert_int_eq(g.status, 429);
	got_free(&g);
	g = post(wire, "500", 2000);
	ck_assert_int_eq(g.status, 500);
	got_free(&g);

	g = post(wire, "slow", 300);
	ck_assert_int_eq(g.status, 0);
	ck_assert_ptr_nonnull(g.error);
	ck_assert_msg(strcasestr(g.error, "timed out") != NULL ||
	    strcasestr(g.error, "timeout") != NULL, "%s", g.error);
	got_free(&g);
}
END_TEST

START_TEST(test_http_refused)
{
	struct loop		*loop = loop_new();
	struct llm_http		*h = llm_http_new(loop);
	struct llm_endpoint	 ep = endpoint(LLM_WIRE_OLLAMA, "good");
	struct got		 g = { 0 };
	char			*err = NULL;

	ep.url = "http://127.0.0.1:1";
	ck_assert_int_eq(llm_http_post(h, &ep, "{}", got_done, &g, &err), 0);
	while (!g.done)
		loop_run_once(loop, 100);
	ck_assert_int_eq(g.status, 0);
	ck_assert_ptr_nonnull(g.error);
	got_free(&g);
	llm_http_free(h);
	loop_free(loop);
}
END_TEST

static Suite *
llm_suite(void)
{
	Suite	*s = suite_create("llm");
	TCase	*wire = tcase_create("wire");
	TCase	*http = tcase_create("http");

	tcase_add_test(wire, test_request_bodies);
	tcase_add_test(wire, test_reply_parsing_and_cost);
	tcase_add_test(wire, test_check_reply);
	tcase_add_test(wire, test_system_prompt);
	suite_add_tcase(s, wire);

	tcase_add_unchecked_fixture(http, srv_up, srv_down);
	tcase_set_timeout(http, 60);
	tcase_add_loop_test(http, test_http_good_each_wire, 0, 3);
	tcase_add_loop_test(http, test_http_failures, 0, 3);
	tcase_add_test(http, test_http_refused);
	suite_add_tcase(s, http);
	return s;
}

int
main(void)
{
	return testutil_main(llm_suite());
}
