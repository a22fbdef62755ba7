/*
 * llm.h - language-model providers for request parsing.
 *
 * Three wire formats: Ollama's /api/chat (with a JSON-schema "format"),
 * OpenAI-compatible /v1/chat/completions (llama.cpp server, vLLM, LM
 * Studio) and Anthropic's /v1/messages.  A call goes over libcurl's multi
 * interface driven by the host loop, so the screen never waits on it.
 *
 * llm-wire.c   builds request bodies and reads replies (pure functions)
 * llm-http.c   moves them over HTTP inside the loop
 * llm-check.c  validates a reply's intents against the catalog
 */
#ifndef CHIFFON_LLM_H
#define CHIFFON_LLM_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct loop;
struct intent_vocab;

enum llm_wire {
	LLM_WIRE_OLLAMA,
	LLM_WIRE_OPENAI,
	LLM_WIRE_ANTHROPIC,
};

/* One configured model endpoint (a tier). */
struct llm_endpoint {
	enum llm_wire	 wire;
	const char	*provider;	/* "ollama", "openai", "anthropic" */
	const char	*tier;		/* "local" or "external" */
	const char	*url;		/* base URL, e.g. http://127.0.0.1:11434 */
	const char	*model;
	const char	*api_key;	/* read from the named env var; never logged */
	double		 usd_per_mtok_in;	/* prices per million tokens */
	double		 usd_per_mtok_out;
	double		 usd_per_mtok_cache_read;
	double		 usd_per_mtok_cache_write;
	long		 timeout_ms;
	long		 max_tokens;
};

/* Token counts of one call. */
struct llm_usage {
	long	input_tokens;
	long	output_tokens;
	long	cache_read_tokens;
	long	cache_write_tokens;
};

/* Parse a wire name ("ollama", "openai", "anthropic"); -1 if unknown. */
int	 llm_wire_from_name(const char *);

/* The URL path the wire format posts to ("/api/chat", ...). */
const char *llm_wire_path(enum llm_wire);

/*
 * The JSON request body asking for intents.  system carries the compact
 * catalog summary; user is the request text.  Caller frees.
 */
char	*llm_wire_request(const struct llm_endpoint *, const char *system,
	    const char *user);

/*
 * Read a reply body: the assistant's text (caller frees) and the token
 * usage.  -1 with *errp for a body that is not the provider's format or
 * that reports an error.
 */
int	 llm_wire_reply(const struct llm_endpoint *, const char *body,
	    size_t len, char **content, struct llm_usage *, char **errp);

/* Cost in USD of a call's usage at the endpoint's prices. */
double	 llm_cost(const struct llm_endpoint *, const struct llm_usage *);

/* The JSON schema a reply must follow (shared, do not free). */
struct json_object *llm_intent_schema(void);

/* The system prompt for a vocabulary (catalog summary).  Caller frees. */
char	*llm_system_prompt(const struct intent_vocab *,
	    const char *const *playbooks);

/*
 * Validate reply text: JSON, the schema's shape, and every action,
 * service, playbook and target known to the vocabulary/catalog.  On
 * success returns the parsed object (caller puts) in the same shape as
 * intent_parse's output; NULL with *errp naming the first bad value.
 */
struct json_object *llm_check_reply(const char *content,
	    const struct intent_vocab *, const char *const *playbooks,
	    char **errp);

/*
 * One HTTP call over curl multi inside the loop.  done() gets the HTTP
 * status (0 when there was no response: connection refused, timeout),
 * the body, a curl error text or NULL, and the latency in ms.
 */
struct llm_http;
typedef void (*llm_http_done)(long status, const char *body, size_t len,
    const char *error, double latency_ms, void *data);

struct llm_http	*llm_http_new(struct loop *);
void		 llm_http_free(struct llm_http *);
/* Start a POST; 0 or -1 with *errp.  done is always called once later. */
int		 llm_http_post(struct llm_http *, const struct llm_endpoint *,
		    const char *body, llm_http_done, void *data, char **errp);
/* Transfers in flight. */
int		 llm_http_running(struct llm_http *);

#endif
