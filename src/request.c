/*
 * request.c - a request from its text to a stored plan (see request.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "conf.h"
#include "audit.h"
#include "db.h"
#include "intent.h"
#include "llm.h"
#include "log.h"
#include "loop.h"
#include "plan.h"
#include "plugins.h"
#include "request.h"
#include "tiers.h"
#include "util.h"
#include "vocab.h"

static const char request_sql_insert[] =
	"INSERT INTO requests (actor, ssh_client, source, text) "
	"VALUES ($1, $2, $3, $4) RETURNING id";
static const char request_sql_parsed[] =
	"UPDATE requests SET intents = $2, ambiguities = $3, "
	"out_of_scope = $4, parser_tier = $5, cost_usd = $6 WHERE id = $1";

/* The tiers' answer, waited for on the loop. */
struct request_wait {
	int		 done;
	json_object	*parsed;
	char		*tier;
	double		 cost;
};

/* Audit rows never make a request fail; a miss is logged. */
static void
request_audit(PGconn *pg, const char *kind, long long request_id,
    long long plan_id, const char *service, json_object *data)
{
	struct audit_ids	 ids = { .request_id = request_id,
				    .plan_id = plan_id };
	char			*err = NULL;

	if (audit_record(pg, kind, NULL, &ids, service, data != NULL ?
	    json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) :
	    NULL, &err) < 0) {
		log_msg(CHIFFON_LOG_WARNING, "request", "audit %s: %s", kind,
		    err);
		free(err);
	}
	json_object_put(data);
}

long long
request_insert(PGconn *pg, const char *text, const char *source,
    char **errp)
{
	PGresult	*res;
	const char	*params[4];
	json_object	*data;
	long long	 id;

	params[0] = audit_user();
	params[1] = audit_ssh_client();
	params[2] = source != NULL ? source : REQUEST_SOURCE_CLI;
	params[3] = text;
	if ((res = db_exec(pg, request_sql_insert, 4, params, errp)) == NULL)
		return -1;
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	data = json_object_new_object();
	json_object_object_add(data, "text", json_object_new_string(text));
	json_object_object_add(data, "source", json_object_new_string(
	    params[2]));
	if (params[1] != NULL)
		json_object_object_add(data, "ssh_client",
		    json_object_new_string(params[1]));
	request_audit(pg, "request.received", id, 0, NULL, data);
	return id;
}

static void
request_tiers_done(json_object *parsed, const char *tier, double cost,
    void *data)
{
	struct request_wait	*w = data;

	w->parsed = parsed;
	w->tier = xstrdup(tier != NULL ? tier : "deterministic");
	w->cost = cost;
	w->done = 1;
}

int
request_parse(struct app *app, PGconn *pg, long long request_id,
    const char *text, const struct vocab *v, tiers_ask_fn ask,
    void *ask_data, json_object **parsedp, char **tierp, double *costp,
    char **errp)
{
	struct tiers_config	 cfg;
	struct request_wait	 w = { 0 };
	struct llm_http		*http;
	struct loop		*loop = app_loop(app);
	char			*err = NULL;

	memset(&cfg, 0, sizeof cfg);
	if (tiers_config_load(&cfg, app->conf, &err) != 0) {
		set_error(errp, "%s", err);
		free(err);
		return -1;
	}
	http = llm_http_new(loop);
	tiers_start(&cfg, http, pg, request_id, text, &v->iv,
	    (const char *const *)v->paths, ask, ask_data, request_tiers_done,
	    &w);
	while (!w.done)
		loop_run_once(loop, 100);
	/* Let curl finish what it started before its handle goes. */
	llm_http_free(http);
	*parsedp = w.parsed;
	*tierp = w.tier;
	*costp = w.cost;
	return 0;
}

static const char *
request_json_text(json_object *o, const char *key, const char *def)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return def;
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

int
request_store_parse(PGconn *pg, long long request_id, json_object *parsed,
    const char *tier, double cost, json_object *questions, char **errp)
{
	PGresult	*res;
	const char	*params[6];
	char		 id[32], usd[32];
	json_object	*data, *v;
	long long	 micro;

	snprintf(id, sizeof id, "%lld", request_id);
	/* Not %f: the locale may want a decimal comma; SQL does not. */
	micro = llround(cost > 0 ? cost * 1e6 : 0);
	snprintf(usd, sizeof usd, "%lld.%06lld", micro / 1000000,
	    micro % 1000000);
	params[0] = id;
	params[1] = request_json_text(parsed, "intents", "[]");
	params[2] = questions != NULL ? json_object_to_json_string_ext(
	    questions, JSON_C_TO_STRING_PLAIN) :
	    request_json_text(parsed, "ambiguities", "[]");
	params[3] = request_json_text(parsed, "out_of_scope", "[]");
	params[4] = tier;
	params[5] = usd;
	if ((res = db_exec(pg, request_sql_parsed, 6, params, errp)) == NULL)
		return -1;
	PQclear(res);
	data = json_object_new_object();
	json_object_object_add(data, "tier", json_object_new_string(tier));
	json_object_object_add(data, "cost_usd", json_object_new_double(cost));
	if (json_object_object_get_ex(parsed, "intents", &v))
		json_object_object_add(data, "intents",
		    json_object_new_int((int)json_object_array_length(v)));
	if (questions != NULL && json_object_array_length(questions) > 0)
		json_object_object_add(data, "questions",
		    json_object_get(questions));
	request_audit(pg, "request.parsed", request_id, 0, NULL, data);
	return 0;
}

struct plan *
request_build(struct app *app, PGconn *pg, long long request_id,
    const char *text, const struct vocab *v, tiers_ask_fn ask,
    void *ask_data, json_object **parsedp, enum request_error *whyp,
    char **errp)
{
	struct plan	*plan;
	json_object	*parsed = NULL;
	char		*tier = NULL;
	double		 cost = 0;

	if (request_parse(app, pg, request_id, text, v, ask, ask_data,
	    &parsed, &tier, &cost, errp) != 0) {
		*whyp = REQUEST_ERR_CONFIG;
		return NULL;
	}
	plan = plan_build(pg, text, parsed, v, plan_match_host, app, errp);
	if (plan == NULL) {
		*whyp = REQUEST_ERR_ENV;
		json_object_put(parsed);
		free(tier);
		return NULL;
	}
	plan->request_id = request_id;
	free(plan->tier);
	plan->tier = tier;
	plan->cost_usd = cost;
	if (parsedp != NULL)
		*parsedp = parsed;
	else
		json_object_put(parsed);
	*whyp = REQUEST_OK;
	return plan;
}

/* The services of a plan's steps, for the audit row ("a,b"). */
static char *
request_services(const struct plan *plan)
{
	struct strbuf	 sb = { 0 };
	size_t		 i;

	for (i = 0; i < plan->ntasks; i++) {
		const char *s = plan->tasks[i].service;

		if (s == NULL || (sb.len > 0 && strstr(sb.buf, s) != NULL))
			continue;
		strbuf_addf(&sb, "%s%s", sb.len > 0 ? "," : "", s);
	}
	if (sb.len == 0) {
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

struct plan *
request_store_plan(PGconn *pg, long long id, struct plan *plan,
    json_object *parsed, char **errp)
{
	json_object	*data;
	char		*svc, *summary;

	if (request_store_parse(pg, id, parsed, plan->tier, plan->cost_usd,
	    plan->questions, errp) != 0) {
		plan_free(plan);
		return NULL;
	}
	svc = request_services(plan);
	if (!plan_runnable(plan)) {
		data = json_object_new_object();
		json_object_object_add(data, "questions",
		    json_object_get(plan->questions));
		json_object_object_add(data, "plan", plan_json(plan));
		request_audit(pg, "request.question", id, 0, svc, data);
		free(svc);
		return plan;
	}
	if (plan_store(pg, plan, audit_user(), NULL, 0, errp) != 0) {
		free(svc);
		plan_free(plan);
		return NULL;
	}
	data = json_object_new_object();
	json_object_object_add(data, "version",
	    json_object_new_int(plan->version));
	json_object_object_add(data, "row_id",
	    json_object_new_int64(plan->row_id));
	json_object_object_add(data, "tier", json_object_new_string(
	    plan->tier));
	json_object_object_add(data, "cost_usd",
	    json_object_new_double(plan->cost_usd));
	json_object_object_add(data, "steps",
	    json_object_new_int((int)plan->ntasks));
	summary = plan_summary(plan);
	json_object_object_add(data, "summary",
	    json_object_new_string(summary));
	free(summary);
	request_audit(pg, "plan.generated", id, plan->plan_id, svc, data);
	free(svc);
	return plan;
}

struct plan *
request_plan(struct app *app, const char *text, const char *source,
    const struct vocab *given, tiers_ask_fn ask, void *ask_data,
    enum request_error *whyp, char **errp)
{
	struct vocab	 v;
	struct db	*db;
	struct plan	*plan;
	PGconn		*pg;
	json_object	*parsed = NULL;
	long long	 id;
	long		 bad;

	if ((bad = utf8_invalid_at(text, strlen(text))) >= 0) {
		*whyp = REQUEST_ERR_INPUT;
		set_error(errp, "the request is not valid UTF-8: byte 0x%02x "
		    "at offset %ld", (unsigned)(unsigned char)text[bad], bad);
		return NULL;
	}
	*whyp = REQUEST_ERR_ENV;
	if ((db = app_db(app, errp)) == NULL)
		return NULL;
	pg = db_pg(db);
	memset(&v, 0, sizeof v);
	if (given == NULL && vocab_load(&v, app, errp) != 0) {
		vocab_free(&v);
		return NULL;
	}
	if ((id = request_insert(pg, text, source, errp)) < 0) {
		vocab_free(&v);
		return NULL;
	}
	plan = request_build(app, pg, id, text, given != NULL ? given : &v,
	    ask, ask_data, &parsed, whyp, errp);
	vocab_free(&v);
	if (plan == NULL)
		return NULL;
	plan = request_store_plan(pg, id, plan, parsed, errp);
	json_object_put(parsed);
	if (plan == NULL)
		*whyp = REQUEST_ERR_ENV;
	return plan;
}

int
request_ask_tty(const char *question, void *data)
{
	char	line[64];

	if (!isatty(STDIN_FILENO))
		return 0;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

/* Is prog (a name looked up on PATH, or a path) executable? */
static int
request_find_program(const char *prog)
{
	char	*f = path_which(prog);

	free(f);
	return f != NULL;
}

int
request_check_env(struct app *app, int need_ansible, char **errp)
{
	static const char *const caps[] = { "ansible.catalog",
	    "ansible.match", "ansible" };
	struct plugins	*plugins;
	const char	*prog;
	size_t		 i;

	if (app_db(app, errp) == NULL)
		return -1;
	plugins = app_plugins(app);
	for (i = 0; i < nitems(caps); i++) {
		if (plugins_capability(plugins, caps[i]) == NULL)
			return set_error(errp, "no loaded plugin provides "
			    "the \"%s\" capability: the infra plugin is not "
			    "loaded (`chiffon plugins` lists what loaded and "
			    "what was refused, and where it looked)", caps[i]);
	}
	prog = conf_get(app->conf, "ansible.playbook");
	if (prog == NULL || *prog == '\0')
		prog = "ansible-playbook";
	if (need_ansible && !request_find_program(prog))
		return set_error(errp, "%s not found on PATH: install "
		    "ansible-core (apt-get install ansible-core) or set "
		    "ansible.playbook in chiffon.conf", prog);
	return 0;
}

char *
request_text_argv(int argc, char **argv, int from)
{
	struct strbuf	sb = { 0 };
	int		i;

	for (i = from; i < argc; i++)
		strbuf_addf(&sb, "%s%s", i > from ? " " : "", argv[i]);
	return strbuf_detach(&sb);
}
