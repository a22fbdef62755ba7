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

#include "chiffon/capabilities.h"
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

/* --- the request job: text to plan, asynchronously on the loop ---------- */

/* One request being understood and planned on the loop. */
struct request_job {
	struct app		*app;
	struct loop		*loop;
	char			*text;
	long long		 id;		/* the requests row */
	struct vocab		 own;		/* loaded here unless given */
	const struct vocab	*v;		/* own or the caller's */
	struct tiers_config	 cfg;		/* lives as long as tiers */
	struct llm_http		*http;
	struct tiers_job	*tiers;		/* in flight, or NULL */
	int			 tiers_ended;	/* request_job_tiers_done ran */
	json_object		*parsed;	/* what the tiers understood */
	char			*tier;
	double			 cost;
	int			 timer;		/* the finishing step, or 0 */
	enum request_error	 why;		/* failed before planning ... */
	char			*err;		/* ... with this, or NULL */
	request_built_fn	 built;
	request_done_fn		 done;		/* request_start's caller */
	void			*data_done;
	void			*data;
	void			(*free_data)(void *);
};

/* Free the job; its callbacks do not run any more. */
static void
request_job_free(struct request_job *j)
{
	if (j->timer > 0)
		loop_remove(j->loop, j->timer);
	/* First the transfers (abandoned), then the job they report to. */
	llm_http_free(j->http);
	tiers_cancel(j->tiers);
	json_object_put(j->parsed);
	vocab_free(&j->own);
	free(j->tier);
	free(j->err);
	free(j->text);
	free(j);
}

/*
 * The last step, from a timer (never inside request_build_start nor a
 * curl callback): build the plan from what was understood and hand it
 * to built.
 */
static int
request_job_finish(void *data)
{
	struct request_job	*j = data;
	struct plan		*plan = NULL;
	struct db		*db;
	char			*err = j->err;
	enum request_error	 why = j->why;

	j->timer = 0;
	j->err = NULL;
	if (err == NULL && (db = app_db(j->app, &err)) != NULL) {
		plan = plan_build(db_pg(db), j->text, j->parsed, j->v,
		    plan_match_host, j->app, &err);
		why = plan != NULL ? REQUEST_OK : REQUEST_ERR_ENV;
	} else if (err != NULL && why == REQUEST_OK)
		why = REQUEST_ERR_ENV;
	if (plan != NULL) {
		plan->request_id = j->id;
		free(plan->tier);
		plan->tier = j->tier;
		j->tier = NULL;
		plan->cost_usd = j->cost;
	}
	j->built(j, plan, j->parsed, why, err, j->data);
	if (j->free_data != NULL)
		j->free_data(j->data);
	request_job_free(j);
	return 1;
}

/* Finish from the loop: once, soon. */
static void
request_job_schedule(struct request_job *j)
{
	if (j->timer == 0)
		j->timer = loop_add_timer(j->loop, 0, request_job_finish, j,
		    NULL, NULL);
}

static void
request_job_tiers_done(json_object *parsed, const char *tier, double cost,
    void *data)
{
	struct request_job	*j = data;

	j->tiers = NULL;
	j->tiers_ended = 1;
	j->parsed = parsed;
	j->tier = xstrdup(tier != NULL ? tier : "deterministic");
	j->cost = cost;
	request_job_schedule(j);
}

/* Fail the job before planning: built hears it from the loop. */
static struct request_job *
request_job_fail(struct request_job *j, enum request_error why, char *err)
{
	j->why = why;
	j->err = err != NULL ? err : xstrdup("unknown error");
	request_job_schedule(j);
	return j;
}

/* A job that has not started yet. */
static struct request_job *
request_job_new(struct app *app, const char *text, request_built_fn built,
    void *data, void (*free_data)(void *))
{
	struct request_job	*j = xcalloc(1, sizeof *j);

	j->app = app;
	j->loop = app_loop(app);
	j->text = xstrdup(text);
	j->built = built;
	j->data = data;
	j->free_data = free_data;
	memset(&j->own, 0, sizeof j->own);
	return j;
}

/* Load the catalog unless given and start the tiers. */
static struct request_job *
request_job_begin(struct request_job *j, const struct vocab *given,
    tiers_ask_fn ask, void *ask_data)
{
	struct tiers_job	*tj;
	struct db		*db;
	char			*err = NULL;

	if ((db = app_db(j->app, &err)) == NULL)
		return request_job_fail(j, REQUEST_ERR_ENV, err);
	if (given == NULL && vocab_load(&j->own, j->app, &err) != 0)
		return request_job_fail(j, REQUEST_ERR_ENV, err);
	j->v = given != NULL ? given : &j->own;
	if (tiers_config_load(&j->cfg, j->app->conf, &err) != 0)
		return request_job_fail(j, REQUEST_ERR_CONFIG, err);
	j->http = llm_http_new(j->loop);
	tj = tiers_start(&j->cfg, j->http, db_pg(db), j->id, j->text,
	    &j->v->iv, (const char *const *)j->v->paths, ask, ask_data,
	    request_job_tiers_done, j);
	/* The deterministic answer may have come already (then tj is gone). */
	if (!j->tiers_ended)
		j->tiers = tj;
	return j;
}

struct request_job *
request_build_start(struct app *app, long long request_id, const char *text,
    const struct vocab *given, tiers_ask_fn ask, void *ask_data,
    request_built_fn built, void *data, void (*free_data)(void *))
{
	struct request_job	*j;

	j = request_job_new(app, text, built, data, free_data);
	j->id = request_id;
	return request_job_begin(j, given, ask, ask_data);
}

void
request_cancel(struct request_job *j)
{
	struct audit_ids	 ids;
	struct db		*db;
	json_object		*data;
	char			*err = NULL;

	if (j == NULL)
		return;
	if (j->id > 0 && (db = app_db(j->app, &err)) != NULL) {
		ids = (struct audit_ids){ .request_id = j->id };
		data = json_object_new_object();
		json_object_object_add(data, "by",
		    json_object_new_string(audit_actor()));
		json_object_object_add(data, "while", json_object_new_string(
		    j->tiers != NULL ? "understanding" : "planning"));
		if (audit_record(db_pg(db), "request.canceled", NULL, &ids,
		    NULL, json_object_to_json_string_ext(data,
		    JSON_C_TO_STRING_PLAIN), &err) < 0)
			log_msg(CHIFFON_LOG_WARNING, "request", "audit "
			    "request.canceled: %s", err);
		json_object_put(data);
	}
	free(err);
	if (j->free_data != NULL)
		j->free_data(j->data);
	request_job_free(j);
}

int
request_job_in_flight(const struct request_job *j)
{
	return j != NULL && j->tiers != NULL;
}

/* request_start's end: store what was built, then tell the caller. */
static void
request_job_store(struct request_job *j, struct plan *plan,
    json_object *parsed, enum request_error why, char *err, void *data)
{
	struct db	*db;

	(void)data;
	if (plan != NULL) {
		if ((db = app_db(j->app, &err)) == NULL) {
			plan_free(plan);
			plan = NULL;
		} else
			plan = request_store_plan(db_pg(db), j->id, plan,
			    parsed, &err);
		if (plan == NULL)
			why = REQUEST_ERR_ENV;
	}
	j->done(plan, why, err, j->data_done);
}

struct request_job *
request_start(struct app *app, const char *text, const char *source,
    const struct vocab *given, tiers_ask_fn ask, void *ask_data,
    request_done_fn done, void *data)
{
	struct request_job	*j;
	struct db		*db;
	char			*err = NULL;
	long long		 id;
	long			 bad;

	j = request_job_new(app, text, request_job_store, NULL, NULL);
	j->done = done;
	j->data_done = data;
	if ((bad = utf8_invalid_at(text, strlen(text))) >= 0)
		return request_job_fail(j, REQUEST_ERR_INPUT, xasprintf("the "
		    "request is not valid UTF-8: byte 0x%02x at offset %ld",
		    (unsigned)(unsigned char)text[bad], bad));
	if ((db = app_db(app, &err)) == NULL ||
	    (id = request_insert(db_pg(db), text, source, &err)) < 0)
		return request_job_fail(j, REQUEST_ERR_ENV, err);
	j->id = id;
	return request_job_begin(j, given, ask, ask_data);
}

/* What request_wait_plan waits for. */
struct request_wait {
	int			 done;
	struct plan		*plan;
	enum request_error	 why;
	char			*err;
};

static void
request_wait_done(struct plan *plan, enum request_error why, char *err,
    void *data)
{
	struct request_wait	*w = data;

	w->done = 1;
	w->plan = plan;
	w->why = why;
	w->err = err;
}

void
request_wait(struct app *app, const int *donep)
{
	struct loop	*loop = app_loop(app);

	while (!*donep)
		loop_run_once(loop, 100);
}

struct plan *
request_plan(struct app *app, const char *text, const char *source,
    const struct vocab *given, tiers_ask_fn ask, void *ask_data,
    enum request_error *whyp, char **errp)
{
	struct request_wait	 w = { 0 };

	request_start(app, text, source, given, ask, ask_data,
	    request_wait_done, &w);
	request_wait(app, &w.done);
	*whyp = w.why;
	if (w.plan == NULL) {
		if (errp != NULL)
			*errp = w.err;
		else
			free(w.err);
	} else
		free(w.err);
	return w.plan;
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
	static const char *const caps[] = { CHIFFON_CAP_ANSIBLE_CATALOG,
	    CHIFFON_CAP_ANSIBLE_MATCH, CHIFFON_CAP_ANSIBLE };
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
