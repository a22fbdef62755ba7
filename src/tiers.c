/*
 * tiers.c - the parser tiers as a small state machine on the loop.
 *
 * A job walks its tier list (tiers_plan_order); each model tier either
 * answers with a reply that passes llm_check_reply, or records why not and
 * hands over to the next.  The deterministic parser ends every list.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "intent.h"
#include "llm.h"
#include "tiers.h"
#include "util.h"

enum tiers_step {
	TIERS_LOCAL,
	TIERS_EXTERNAL,
	TIERS_DETERMINISTIC,
};

/* One request being understood. */
struct tiers_job {
	const struct tiers_config	*cfg;
	struct llm_http			*http;
	PGconn				*pg;
	long long			 request_id;
	char				*text;
	const struct intent_vocab	*vocab;
	const char *const		*playbooks;
	tiers_ask_fn			 ask;
	void				*ask_data;
	tiers_done_fn			 done;
	void				*data;

	json_object			*deterministic;	/* parsed up front */
	json_object			*notes;		/* why tiers were left */
	enum tiers_step			 order[3];
	int				 at;		/* index into order */
	double				 cost;
	const struct llm_endpoint	*ep;		/* call in flight */
};

static void	tiers_next(struct tiers_job *);

static int
tiers_words(const char *s)
{
	int	n = 0, in = 0;

	for (; *s != '\0'; s++) {
		int w = *s != ' ' && *s != '\t' && *s != '\n';

		n += w && !in;
		in = w;
	}
	return n;
}

/*
 * Record one llm_calls row.  Failing to record is reported in the notes
 * (the answer itself is not lost), never silently dropped.
 */
static void
tiers_record(struct tiers_job *j, const struct llm_endpoint *ep,
    const char *decision, const char *reason, long http_status,
    const struct llm_usage *u, double latency_ms, double cost)
{
	static const struct llm_usage	 none;
	char				 rid[32], st[16], in[24], out[24];
	char				 cr[24], cw[24], lat[24], usd[32];
	const char			*params[13];
	PGresult			*res;

	if (u == NULL)
		u = &none;
	snprintf(rid, sizeof rid, "%lld", j->request_id);
	snprintf(st, sizeof st, "%ld", http_status);
	snprintf(in, sizeof in, "%ld", u->input_tokens);
	snprintf(out, sizeof out, "%ld", u->output_tokens);
	snprintf(cr, sizeof cr, "%ld", u->cache_read_tokens);
	snprintf(cw, sizeof cw, "%ld", u->cache_write_tokens);
	snprintf(lat, sizeof lat, "%ld", lround(latency_ms));
	snprintf(usd, sizeof usd, "%.6f", cost);
	params[0] = j->request_id > 0 ? rid : NULL;
	params[1] = ep->provider;
	params[2] = ep->model != NULL ? ep->model : "";
	params[3] = ep->tier;
	params[4] = decision;
	params[5] = reason;
	params[6] = http_status > 0 ? st : NULL;
	params[7] = in;
	params[8] = out;
	params[9] = cr;
	params[10] = cw;
	params[11] = latency_ms >= 0 ? lat : NULL;
	params[12] = usd;
	res = PQexecParams(j->pg,
	    "INSERT INTO llm_calls (request_id, provider, model, tier, "
	    "decision, reason, http_status, input_tokens, output_tokens, "
	    "cache_read_tokens, cache_write_tokens, latency_ms, cost_usd) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	    13, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		json_object_array_add(j->notes, json_object_new_string(
		    PQresultErrorMessage(res)));
	PQclear(res);
}

static void __attribute__((format(printf, 2, 3)))
tiers_note(struct tiers_job *j, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	json_object_array_add(j->notes, json_object_new_string(s));
	free(s);
}

/* Finish the job with parsed (consumed) from tier. */
static void
tiers_finish(struct tiers_job *j, json_object *parsed, const char *tier)
{
	json_object	*notes;
	size_t		 i;

	json_object_object_add(parsed, "tier", json_object_new_string(tier));
	json_object_object_add(parsed, "cost_usd",
	    json_object_new_double(j->cost));
	if (!json_object_object_get_ex(parsed, "notes", &notes)) {
		notes = json_object_new_array();
		json_object_object_add(parsed, "notes", notes);
	}
	for (i = 0; i < json_object_array_length(j->notes); i++)
		json_object_array_add(notes, json_object_get(
		    json_object_array_get_idx(j->notes, i)));
	j->done(parsed, tier, j->cost, j->data);
	json_object_put(j->deterministic);
	json_object_put(j->notes);
	free(j->text);
	free(j);
}

static void
tiers_http_done(long status, const char *body, size_t len, const char *error,
    double latency_ms, void *data)
{
	struct tiers_job		*j = data;
	const struct llm_endpoint	*ep = j->ep;
	struct llm_usage		 u = { 0 };
	json_object			*parsed;
	char				*content = NULL, *err = NULL, *reason;
	double				 cost;

	j->ep = NULL;
	if (status == 0) {
		tiers_record(j, ep, "failed", error, 0, NULL, latency_ms, 0);
		tiers_note(j, "%s tier failed: %s", ep->tier, error);
		goto next;
	}
	if (llm_wire_reply(ep, body, len, &content, &u, &err) != 0) {
		reason = status != 200 ? xasprintf("HTTP %ld: %s", status,
		    err) : xstrdup(err);
		tiers_record(j, ep, "failed", reason, status, &u, latency_ms,
		    0);
		tiers_note(j, "%s tier failed: %s", ep->tier, reason);
		free(reason);
		free(err);
		goto next;
	}
	cost = llm_cost(ep, &u);
	j->cost += cost;
	if (status != 200) {
		reason = xasprintf("HTTP %ld", status);
		tiers_record(j, ep, "failed", reason, status, &u, latency_ms,
		    cost);
		tiers_note(j, "%s tier failed: %s", ep->tier, reason);
		free(reason);
		free(content);
		goto next;
	}
	parsed = llm_check_reply(content, j->vocab, j->playbooks, &err);
	free(content);
	if (parsed == NULL) {
		tiers_record(j, ep, "rejected", err, status, &u, latency_ms,
		    cost);
		tiers_note(j, "%s tier answer rejected: %s", ep->tier, err);
		free(err);
		goto next;
	}
	tiers_record(j, ep, "accepted", NULL, status, &u, latency_ms, cost);
	tiers_finish(j, parsed, ep->tier);
	return;
next:
	j->at++;
	tiers_next(j);
}

/*
 * Spent external USD today and this month.  -1 when it cannot be read
 * (then the external tier is not used: no spending without accounting).
 */
static int
tiers_spent(struct tiers_job *j, double *day, double *month)
{
	PGresult	*res;
	int		 rc = -1;

	res = PQexecParams(j->pg,
	    "SELECT coalesce(sum(cost_usd) FILTER (WHERE at >= "
	    "date_trunc('day', now())), 0), coalesce(sum(cost_usd), 0) "
	    "FROM llm_calls WHERE tier = $1 AND at >= "
	    "date_trunc('month', now())", 1, NULL,
	    (const char *const[]){ "external" }, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*day = atof(PQgetvalue(res, 0, 0));
		*month = atof(PQgetvalue(res, 0, 1));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

/*
 * May the external tier run?  Records and notes every refusal.
 */
static int
tiers_budget_allows(struct tiers_job *j)
{
	const struct tiers_config	*c = j->cfg;
	const struct llm_endpoint	*ep = &c->external;
	double				 day, month, left_d, left_m, left;
	char				*why;
	int				 ok;

	if (tiers_spent(j, &day, &month) != 0) {
		tiers_note(j, "external tier not used: cannot read the "
		    "spending so far: %s", PQerrorMessage(j->pg));
		return 0;
	}
	left_d = c->budget_daily_usd > 0 ?
	    (c->budget_daily_usd - day) / c->budget_daily_usd : 0;
	left_m = c->budget_monthly_usd > 0 ?
	    (c->budget_monthly_usd - month) / c->budget_monthly_usd : 0;
	left = left_d < left_m ? left_d : left_m;
	if (left <= 0) {
		why = xasprintf("budget exhausted: spent $%.2f of $%.2f today, "
		    "$%.2f of $%.2f this month", day, c->budget_daily_usd,
		    month, c->budget_monthly_usd);
		tiers_record(j, ep, "refused_budget", why, 0, NULL, -1, 0);
		tiers_note(j, "external tier refused: %s", why);
		free(why);
		return 0;
	}
	if (left < c->ask_below) {
		why = xasprintf("Only %.0f%% of the external model budget is "
		    "left ($%.2f of $%.2f today, $%.2f of $%.2f this month). "
		    "Use %s for this request?", left * 100,
		    c->budget_daily_usd - day, c->budget_daily_usd,
		    c->budget_monthly_usd - month, c->budget_monthly_usd,
		    ep->model != NULL ? ep->model : ep->provider);
		ok = j->ask != NULL && j->ask(why, j->ask_data);
		if (!ok) {
			tiers_record(j, ep, "declined", why, 0, NULL, -1, 0);
			tiers_note(j, "external tier declined: %s", why);
		}
		free(why);
		return ok;
	}
	return 1;
}

static void
tiers_next(struct tiers_job *j)
{
	const struct llm_endpoint	*ep;
	char				*body, *system, *err = NULL;

	for (; j->at < (int)nitems(j->order); j->at++) {
		switch (j->order[j->at]) {
		case TIERS_LOCAL:
			if (!j->cfg->has_local)
				continue;
			ep = &j->cfg->local;
			break;
		case TIERS_EXTERNAL:
			if (!j->cfg->has_external ||
			    !tiers_budget_allows(j))
				continue;
			ep = &j->cfg->external;
			break;
		case TIERS_DETERMINISTIC:
		default:
			tiers_finish(j, json_object_get(j->deterministic),
			    "deterministic");
			return;
		}
		system = llm_system_prompt(j->vocab, j->playbooks);
		body = llm_wire_request(ep, system, j->text);
		free(system);
		j->ep = ep;
		if (llm_http_post(j->http, ep, body, tiers_http_done, j,
		    &err) == 0) {
			free(body);
			return;
		}
		free(body);
		tiers_record(j, ep, "failed", err, 0, NULL, -1, 0);
		tiers_note(j, "%s tier failed: %s", ep->tier, err);
		free(err);
		j->ep = NULL;
	}
}

struct tiers_job *
tiers_start(const struct tiers_config *cfg, struct llm_http *http, PGconn *pg,
    long long request_id, const char *text, const struct intent_vocab *vocab,
    const char *const *playbooks, tiers_ask_fn ask, void *ask_data,
    tiers_done_fn done, void *data)
{
	struct tiers_job	*j = xcalloc(1, sizeof *j);
	json_object		*amb, *oos;
	int			 complex;

	j->cfg = cfg;
	j->http = http;
	j->pg = pg;
	j->request_id = request_id;
	j->text = xstrdup(text);
	j->vocab = vocab;
	j->playbooks = playbooks;
	j->ask = ask;
	j->ask_data = ask_data;
	j->done = done;
	j->data = data;
	j->notes = json_object_new_array();
	j->deterministic = intent_parse(text, vocab);

	amb = json_object_object_get(j->deterministic, "ambiguities");
	oos = json_object_object_get(j->deterministic, "out_of_scope");
	complex = json_object_array_length(amb) > 0 ||
	    json_object_array_length(oos) > 0 ||
	    tiers_words(text) > cfg->complex_words;
	j->order[0] = complex ? TIERS_EXTERNAL : TIERS_LOCAL;
	j->order[1] = complex ? TIERS_LOCAL : TIERS_EXTERNAL;
	j->order[2] = TIERS_DETERMINISTIC;
	tiers_next(j);
	return j;
}

void
tiers_cancel(struct tiers_job *j)
{
	if (j == NULL)
		return;
	/* The call in flight was abandoned (llm_http_free): say so. */
	if (j->ep != NULL)
		tiers_record(j, j->ep, "canceled", "the request was canceled",
		    0, NULL, -1, 0);
	json_object_put(j->deterministic);
	json_object_put(j->notes);
	free(j->text);
	free(j);
}

/* Fill one endpoint from "llm.<tier>_*" keys. */
static int
tiers_endpoint(struct llm_endpoint *ep, struct conf *conf, const char *tier,
    char **errp)
{
	char		 key[64];
	const char	*provider, *keyenv;
	int		 wire;

#define K(suffix) (snprintf(key, sizeof key, "llm.%s_%s", tier, suffix), key)
	provider = conf_get(conf, K("provider"));
	if (provider == NULL || strcmp(provider, "none") == 0)
		return 0;
	if ((wire = llm_wire_from_name(provider)) < 0)
		return set_error(errp, "llm.%s_provider: unknown provider "
		    "'%s'", tier, provider);
	memset(ep, 0, sizeof *ep);
	ep->wire = (enum llm_wire)wire;
	ep->provider = provider;
	ep->tier = tier;
	ep->url = conf_get(conf, K("url"));
	ep->model = conf_get(conf, K("model"));
	ep->usd_per_mtok_in = atof(conf_get(conf, K("price_input")));
	ep->usd_per_mtok_out = atof(conf_get(conf, K("price_output")));
	ep->usd_per_mtok_cache_read = atof(conf_get(conf,
	    K("price_cache_read")));
	ep->usd_per_mtok_cache_write = atof(conf_get(conf,
	    K("price_cache_write")));
	ep->timeout_ms = (long)(conf_get_duration(conf, "llm.timeout") * 1000);
	ep->max_tokens = 1024;
	keyenv = conf_get(conf, K("api_key_env"));
#undef K
	if (keyenv != NULL && *keyenv != '\0') {
		ep->api_key = getenv(keyenv);
		if (ep->api_key == NULL && strcmp(tier, "external") == 0)
			return set_error(errp, "llm.%s_api_key_env names %s, "
			    "which is not set: export the API key in %s",
			    tier, keyenv, keyenv);
	}
	if (ep->model == NULL)
		return set_error(errp, "llm.%s_model is not set: name the "
		    "model to use with %s", tier, provider);
	return 1;
}

int
tiers_config_load(struct tiers_config *c, struct conf *conf, char **errp)
{
	int	rc;

	memset(c, 0, sizeof *c);
	if ((rc = tiers_endpoint(&c->local, conf, "local", errp)) < 0)
		return -1;
	c->has_local = rc;
	if ((rc = tiers_endpoint(&c->external, conf, "external", errp)) < 0)
		return -1;
	c->has_external = rc;
	c->budget_daily_usd = atof(conf_get(conf, "llm.budget_daily_usd"));
	c->budget_monthly_usd = atof(conf_get(conf, "llm.budget_monthly_usd"));
	c->ask_below = (double)conf_get_int(conf, "llm.ask_below_percent") /
	    100.0;
	c->complex_words = (int)conf_get_int(conf, "llm.complex_words");
	return 0;
}
