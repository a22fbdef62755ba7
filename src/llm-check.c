/*
 * llm-check.c - what a model is told and what it may answer.
 *
 * The schema is the contract; the system prompt carries a compact summary
 * of the catalog; llm_check_reply refuses any reply that does not follow
 * the schema or names an action, service, playbook or target the catalog
 * and inventory do not have.  A refused reply sends the request on to the
 * next tier.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "actions.h"
#include "intent.h"
#include "llm.h"
#include "util.h"

static const char llm_check_schema_text[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"intents\",\"ambiguities\",\"out_of_scope\"],"
	"\"properties\":{"
	"\"intents\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"additionalProperties\":false,\"required\":[\"action\",\"service\","
	"\"playbook\",\"targets\",\"params\",\"check\"],\"properties\":{"
	"\"action\":{\"type\":\"string\",\"enum\":[\"deploy\",\"remove\","
	"\"restart\",\"update\",\"configure\",\"check\",\"generate\","
	"\"backup\",\"restore\",\"stop\",\"start\"]},"
	"\"service\":{\"type\":[\"string\",\"null\"]},"
	"\"playbook\":{\"type\":[\"string\",\"null\"]},"
	"\"targets\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"params\":{\"type\":\"object\"},"
	"\"check\":{\"type\":\"boolean\"}}}},"
	"\"ambiguities\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"out_of_scope\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"
	"}}";

json_object *
llm_intent_schema(void)
{
	static json_object	*schema;

	if (schema == NULL)
		schema = json_tokener_parse(llm_check_schema_text);
	return schema;
}

char *
llm_system_prompt(const struct intent_vocab *v, const char *const *playbooks)
{
	struct strbuf		 sb = { 0 };
	const char *const	*p;
	size_t			 i;

	strbuf_adds(&sb,
	    "You turn a homelab administrator's request into intents for "
	    "Ansible playbooks. Answer with JSON only, following the schema. "
	    "Use only the actions, services, playbooks and targets listed "
	    "below; use \"all\" for every host. If something cannot be "
	    "placed, add a question to ambiguities or the text to "
	    "out_of_scope instead of guessing.\nactions:");
	for (p = actions_names; *p != NULL; p++)
		strbuf_addf(&sb, " %s", *p);
	strbuf_adds(&sb, "\nservices:");
	for (i = 0; i < v->nservices; i++) {
		strbuf_addf(&sb, " %s", v->services[i].name);
		for (p = v->services[i].aliases; p != NULL && *p != NULL; p++)
			strbuf_addf(&sb, "%s%s", p == v->services[i].aliases ?
			    " (" : ", ", *p);
		if (v->services[i].aliases != NULL &&
		    v->services[i].aliases[0] != NULL)
			strbuf_addc(&sb, ')');
		strbuf_addc(&sb, ';');
	}
	strbuf_adds(&sb, "\nplaybooks:");
	for (p = playbooks; p != NULL && *p != NULL; p++)
		strbuf_addf(&sb, " %s", *p);
	strbuf_adds(&sb, "\nhosts:");
	for (p = v->hosts; p != NULL && *p != NULL; p++)
		strbuf_addf(&sb, " %s", *p);
	strbuf_adds(&sb, "\ngroups:");
	for (p = v->groups; p != NULL && *p != NULL; p++)
		strbuf_addf(&sb, " %s", *p);
	strbuf_addc(&sb, '\n');
	return strbuf_detach(&sb);
}

/* The catalog name of a service named by name or alias, or NULL. */
static const char *
llm_check_service(const struct intent_vocab *v, const char *s)
{
	size_t	i;

	for (i = 0; i < v->nservices; i++) {
		if (strcasecmp(v->services[i].name, s) == 0 ||
		    str_in_list(s, v->services[i].aliases))
			return v->services[i].name;
	}
	return NULL;
}

static json_object *
llm_check_strings(json_object *reply, const char *key, char **errp)
{
	json_object	*a;
	size_t		 i;

	if (!json_object_object_get_ex(reply, key, &a) ||
	    !json_object_is_type(a, json_type_array)) {
		set_error(errp, "reply has no '%s' array", key);
		return NULL;
	}
	for (i = 0; i < json_object_array_length(a); i++) {
		if (!json_object_is_type(json_object_array_get_idx(a, i),
		    json_type_string)) {
			set_error(errp, "%s[%zu] is not a string", key, i);
			return NULL;
		}
	}
	return a;
}

/* Validate one intent; return the normalised copy or NULL with *errp. */
static json_object *
llm_check_intent(json_object *in, size_t idx, const struct intent_vocab *v,
    const char *const *playbooks, char **errp)
{
	json_object	*o, *out, *targets;
	const char	*action, *service = NULL, *playbook = NULL;
	size_t		 i;

	if (!json_object_is_type(in, json_type_object)) {
		set_error(errp, "intents[%zu] is not an object", idx);
		return NULL;
	}
	if (!json_object_object_get_ex(in, "action", &o) ||
	    !json_object_is_type(o, json_type_string) ||
	    !str_in_list(action = json_object_get_string(o),
	    (const char *const *)actions_names)) {
		set_error(errp, "intents[%zu].action '%s' is not a known "
		    "action", idx, o != NULL ? json_object_get_string(o) :
		    "(missing)");
		return NULL;
	}
	if (json_object_object_get_ex(in, "service", &o) && o != NULL) {
		service = llm_check_service(v, json_object_get_string(o));
		if (service == NULL) {
			set_error(errp, "intents[%zu].service '%s' is not in "
			    "the catalog", idx, json_object_get_string(o));
			return NULL;
		}
	}
	if (json_object_object_get_ex(in, "playbook", &o) && o != NULL) {
		playbook = json_object_get_string(o);
		if (!str_in_list(playbook, playbooks)) {
			set_error(errp, "intents[%zu].playbook '%s' is not in "
			    "the catalog", idx, playbook);
			return NULL;
		}
	}
	if (!json_object_object_get_ex(in, "targets", &targets) ||
	    !json_object_is_type(targets, json_type_array)) {
		set_error(errp, "intents[%zu].targets is not an array", idx);
		return NULL;
	}
	for (i = 0; i < json_object_array_length(targets); i++) {
		const char *t = json_object_get_string(
		    json_object_array_get_idx(targets, i));

		if (t == NULL || (strcmp(t, "all") != 0 &&
		    !str_in_list(t, v->hosts) && !str_in_list(t, v->groups))) {
			set_error(errp, "intents[%zu].targets: '%s' is not a "
			    "host or group of the inventory", idx,
			    t != NULL ? t : "(null)");
			return NULL;
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "action", json_object_new_string(action));
	json_object_object_add(out, "service", service != NULL ?
	    json_object_new_string(service) : NULL);
	json_object_object_add(out, "service_from",
	    json_object_new_string("llm"));
	if (playbook != NULL)
		json_object_object_add(out, "playbook",
		    json_object_new_string(playbook));
	json_object_object_add(out, "targets", json_object_get(targets));
	if (json_object_object_get_ex(in, "params", &o) &&
	    json_object_is_type(o, json_type_object))
		json_object_object_add(out, "params", json_object_get(o));
	else
		json_object_object_add(out, "params", json_object_new_object());
	json_object_object_add(out, "check", json_object_new_boolean(
	    json_object_object_get_ex(in, "check", &o) &&
	    json_object_get_boolean(o)));
	json_object_object_add(out, "text", json_object_new_string(""));
	return out;
}

json_object *
llm_check_reply(const char *content, const struct intent_vocab *v,
    const char *const *playbooks, char **errp)
{
	struct json_tokener	*tok = json_tokener_new();
	json_object		*reply, *intents, *amb, *oos, *out, *list;
	size_t			 i;

	reply = json_tokener_parse_ex(tok, content, (int)strlen(content));
	if (reply == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(reply, json_type_object)) {
		set_error(errp, "the model's answer is not a JSON object: %s",
		    reply == NULL ? json_tokener_error_desc(
		    json_tokener_get_error(tok)) : "wrong type");
		json_object_put(reply);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	if (!json_object_object_get_ex(reply, "intents", &intents) ||
	    !json_object_is_type(intents, json_type_array)) {
		set_error(errp, "reply has no 'intents' array");
		json_object_put(reply);
		return NULL;
	}
	if ((amb = llm_check_strings(reply, "ambiguities", errp)) == NULL ||
	    (oos = llm_check_strings(reply, "out_of_scope", errp)) == NULL) {
		json_object_put(reply);
		return NULL;
	}
	list = json_object_new_array();
	for (i = 0; i < json_object_array_length(intents); i++) {
		json_object *in = llm_check_intent(
		    json_object_array_get_idx(intents, i), i, v, playbooks,
		    errp);

		if (in == NULL) {
			json_object_put(list);
			json_object_put(reply);
			return NULL;
		}
		json_object_array_add(list, in);
	}
	out = json_object_new_object();
	json_object_object_add(out, "intents", list);
	json_object_object_add(out, "ambiguities", json_object_get(amb));
	json_object_object_add(out, "out_of_scope", json_object_get(oos));
	json_object_object_add(out, "notes", json_object_new_array());
	json_object_object_add(out, "parser", json_object_new_string("llm"));
	json_object_put(reply);
	return out;
}
