/*
 * tiers.h - understanding a request through the parser tiers.
 *
 * Order: local model, external model, deterministic parser; a complex
 * request (the deterministic parser left questions, or it is long) tries
 * the external tier first.  The external tier runs only within budget:
 * at or over a cap it is refused and says so, under 20% left the user is
 * asked first.  Every model call, and every refusal, is an llm_calls row.
 * The deterministic parser always answers in the end.
 */
#ifndef CHIFFON_TIERS_H
#define CHIFFON_TIERS_H

#include <libpq-fe.h>

#include "llm.h"

struct conf;
struct intent_vocab;
struct json_object;
struct llm_http;

struct tiers_config {
	struct llm_endpoint	local;
	int			has_local;
	struct llm_endpoint	external;
	int			has_external;
	double			budget_daily_usd;
	double			budget_monthly_usd;
	double			ask_below;	/* fraction left; default 0.2 */
	int			complex_words;	/* default 40 */
};

/*
 * Read llm.* keys (see chiffon.conf(5)); API keys come from the
 * environment variables the config names.  -1 with *errp when a
 * configured provider is unusable (for example its key variable is
 * unset).  Strings point into conf and the environment.
 */
int	tiers_config_load(struct tiers_config *, struct conf *, char **errp);

/* Answer to a budget question: non-zero means go ahead. */
typedef int (*tiers_ask_fn)(const char *question, void *data);
/*
 * The result: parsed has intent_parse's shape plus "tier"; tier is
 * "local", "external" or "deterministic"; cost is the USD spent on this
 * request.  parsed is owned by the callee after the call (put it).
 */
typedef void (*tiers_done_fn)(struct json_object *parsed, const char *tier,
    double cost_usd, void *data);

struct tiers_job;

/*
 * Start understanding text.  request_id (<= 0: none) links the
 * llm_calls rows.  vocab and playbooks must live until done runs.
 * done is always called exactly once, possibly before this returns
 * (when no model tier is configured).
 */
struct tiers_job *tiers_start(const struct tiers_config *, struct llm_http *,
	    PGconn *, long long request_id, const char *text,
	    const struct intent_vocab *, const char *const *playbooks,
	    tiers_ask_fn, void *ask_data, tiers_done_fn, void *data);
/*
 * Forget a job whose done has not run yet: its llm_http must have been
 * freed first (which abandons the call in flight; that call is recorded
 * as "canceled").  done never runs.
 */
void	tiers_cancel(struct tiers_job *);

#endif
