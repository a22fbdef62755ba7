/*
 * llm-wire.c - request bodies and reply parsing for each provider's wire
 * format.  Pure functions over JSON text: no I/O, so every format is
 * tested byte for byte.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "intent.h"
#include "llm.h"
#include "util.h"

/* What differs between the wire formats. */
struct llm_wire_ops {
	const char	*name;
	const char	*path;
	/* Add model-specific fields to the request body object. */
	void		(*request)(json_object *body,
			    const struct llm_endpoint *, const char *system,
			    const char *user);
	/* Extract the text and usage; -1 with *errp. */
	int		(*reply)(json_object *body, char **content,
			    struct llm_usage *, char **errp);
};

static json_object *
llm_wire_message(const char *role, const char *content)
{
	json_object	*m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", json_object_new_string(content));
	return m;
}

static json_object *
llm_wire_messages(const char *system, const char *user)
{
	json_object	*msgs = json_object_new_array();

	if (system != NULL)
		json_object_array_add(msgs, llm_wire_message("system",
		    system));
	json_object_array_add(msgs, llm_wire_message("user", user));
	return msgs;
}

/* Fetch a nested member by a path of keys; NULL if any step is missing. */
static json_object *
llm_wire_get(json_object *o, const char *const *path)
{
	for (; *path != NULL && o != NULL; path++) {
		if (json_object_is_type(o, json_type_array)) {
			o = json_object_array_get_idx(o,
			    (size_t)atoi(*path));
			continue;
		}
		if (!json_object_object_get_ex(o, *path, &o))
			return NULL;
	}
	return o;
}
#define GET(o, ...) llm_wire_get((o), (const char *const[]){ __VA_ARGS__, NULL })

static long
llm_wire_long(json_object *o)
{
	return o != NULL ? (long)json_object_get_int64(o) : 0;
}

/* A provider's error object becomes the message. */
static int
llm_wire_error(json_object *body, char **errp)
{
	json_object	*e = GET(body, "error");
	json_object	*m;

	if (e == NULL)
		return 0;
	if (json_object_is_type(e, json_type_string))
		return set_error(errp, "provider error: %s",
		    json_object_get_string(e));
	m = GET(e, "message");
	return set_error(errp, "provider error: %s",
	    m != NULL ? json_object_get_string(m) :
	    json_object_to_json_string(e));
}

static void
llm_wire_ollama_request(json_object *body, const struct llm_endpoint *ep,
    const char *system, const char *user)
{
	json_object	*opts = json_object_new_object();

	json_object_object_add(body, "messages",
	    llm_wire_messages(system, user));
	json_object_object_add(body, "stream", json_object_new_boolean(0));
	json_object_object_add(body, "format",
	    json_object_get(llm_intent_schema()));
	json_object_object_add(opts, "temperature",
	    json_object_new_double(0));
	json_object_object_add(body, "options", opts);
}

static int
llm_wire_ollama_reply(json_object *body, char **content,
    struct llm_usage *u, char **errp)
{
	json_object	*c = GET(body, "message", "content");

	if (llm_wire_error(body, errp) != 0)
		return -1;
	if (c == NULL || !json_object_is_type(c, json_type_string))
		return set_error(errp, "Ollama reply has no message.content");
	*content = xstrdup(json_object_get_string(c));
	u->input_tokens = llm_wire_long(GET(body, "prompt_eval_count"));
	u->output_tokens = llm_wire_long(GET(body, "eval_count"));
	return 0;
}

static void
llm_wire_openai_request(json_object *body, const struct llm_endpoint *ep,
    const char *system, const char *user)
{
	json_object	*rf = json_object_new_object();
	json_object	*js = json_object_new_object();

	json_object_object_add(body, "messages",
	    llm_wire_messages(system, user));
	json_object_object_add(body, "temperature", json_object_new_double(0));
	if (ep->max_tokens > 0)
		json_object_object_add(body, "max_tokens",
		    json_object_new_int64(ep->max_tokens));
	json_object_object_add(js, "name", json_object_new_string("intents"));
	json_object_object_add(js, "strict", json_object_new_boolean(1));
	json_object_object_add(js, "schema",
	    json_object_get(llm_intent_schema()));
	json_object_object_add(rf, "type", json_object_new_string(
	    "json_schema"));
	json_object_object_add(rf, "json_schema", js);
	json_object_object_add(body, "response_format", rf);
}

static int
llm_wire_openai_reply(json_object *body, char **content,
    struct llm_usage *u, char **errp)
{
	json_object	*c = GET(body, "choices", "0", "message", "content");

	if (llm_wire_error(body, errp) != 0)
		return -1;
	if (c == NULL || !json_object_is_type(c, json_type_string))
		return set_error(errp, "OpenAI-compatible reply has no "
		    "choices[0].message.content");
	*content = xstrdup(json_object_get_string(c));
	u->input_tokens = llm_wire_long(GET(body, "usage", "prompt_tokens"));
	u->output_tokens = llm_wire_long(GET(body, "usage",
	    "completion_tokens"));
	u->cache_read_tokens = llm_wire_long(GET(body, "usage",
	    "prompt_tokens_details", "cached_tokens"));
	return 0;
}

static void
llm_wire_anthropic_request(json_object *body, const struct llm_endpoint *ep,
    const char *system, const char *user)
{
	json_object	*msgs = json_object_new_array();

	json_object_object_add(body, "max_tokens",
	    json_object_new_int64(ep->max_tokens > 0 ? ep->max_tokens : 1024));
	if (system != NULL)
		json_object_object_add(body, "system",
		    json_object_new_string(system));
	json_object_array_add(msgs, llm_wire_message("user", user));
	json_object_object_add(body, "messages", msgs);
	json_object_object_add(body, "temperature", json_object_new_double(0));
}

static int
llm_wire_anthropic_reply(json_object *body, char **content,
    struct llm_usage *u, char **errp)
{
	json_object	*blocks = GET(body, "content");
	struct strbuf	 sb = { 0 };
	size_t		 i;

	if (llm_wire_error(body, errp) != 0)
		return -1;
	if (blocks == NULL || !json_object_is_type(blocks, json_type_array))
		return set_error(errp, "Anthropic reply has no content array");
	for (i = 0; i < json_object_array_length(blocks); i++) {
		json_object *b = json_object_array_get_idx(blocks, i);
		json_object *t = GET(b, "type");

		if (t != NULL && strcmp(json_object_get_string(t), "text") == 0)
			strbuf_adds(&sb, json_object_get_string(GET(b,
			    "text")));
	}
	if (sb.len == 0) {
		strbuf_free(&sb);
		return set_error(errp, "Anthropic reply has no text block");
	}
	*content = strbuf_detach(&sb);
	u->input_tokens = llm_wire_long(GET(body, "usage", "input_tokens"));
	u->output_tokens = llm_wire_long(GET(body, "usage", "output_tokens"));
	u->cache_read_tokens = llm_wire_long(GET(body, "usage",
	    "cache_read_input_tokens"));
	u->cache_write_tokens = llm_wire_long(GET(body, "usage",
	    "cache_creation_input_tokens"));
	return 0;
}

static const struct llm_wire_ops llm_wire_table[] = {
	[LLM_WIRE_OLLAMA] = { "ollama", "/api/chat",
	    llm_wire_ollama_request, llm_wire_ollama_reply },
	[LLM_WIRE_OPENAI] = { "openai", "/v1/chat/completions",
	    llm_wire_openai_request, llm_wire_openai_reply },
	[LLM_WIRE_ANTHROPIC] = { "anthropic", "/v1/messages",
	    llm_wire_anthropic_request, llm_wire_anthropic_reply },
};

int
llm_wire_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(llm_wire_table); i++) {
		if (strcmp(llm_wire_table[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

const char *
llm_wire_path(enum llm_wire w)
{
	return llm_wire_table[w].path;
}

char *
llm_wire_request(const struct llm_endpoint *ep, const char *system,
    const char *user)
{
	json_object	*body = json_object_new_object();
	char		*s;

	json_object_object_add(body, "model", json_object_new_string(
	    ep->model != NULL ? ep->model : ""));
	llm_wire_table[ep->wire].request(body, ep, system, user);
	s = xstrdup(json_object_to_json_string_ext(body,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return s;
}

int
llm_wire_reply(const struct llm_endpoint *ep, const char *text, size_t len,
    char **content, struct llm_usage *u, char **errp)
{
	struct json_tokener	*tok = json_tokener_new();
	json_object		*body;
	int			 rc;

	memset(u, 0, sizeof *u);
	*content = NULL;
	body = json_tokener_parse_ex(tok, text, (int)len);
	if (body == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		rc = set_error(errp, "%s reply is not JSON: %s",
		    llm_wire_table[ep->wire].name, json_tokener_error_desc(
		    json_tokener_get_error(tok)));
		json_object_put(body);
		json_tokener_free(tok);
		return rc;
	}
	json_tokener_free(tok);
	rc = llm_wire_table[ep->wire].reply(body, content, u, errp);
	json_object_put(body);
	return rc;
}

double
llm_cost(const struct llm_endpoint *ep, const struct llm_usage *u)
{
	return ((double)u->input_tokens * ep->usd_per_mtok_in +
	    (double)u->output_tokens * ep->usd_per_mtok_out +
	    (double)u->cache_read_tokens * ep->usd_per_mtok_cache_read +
	    (double)u->cache_write_tokens * ep->usd_per_mtok_cache_write) / 1e6;
}
