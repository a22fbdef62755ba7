/*
 * intent.h - the deterministic request parser: plain English in, intents
 * out.  Works offline and is always available; the LLM tiers fall back to
 * it.  It never guesses: what it cannot place goes to ambiguities (a
 * question for the user) or out_of_scope.
 *
 * Output (JSON, see intent_parse):
 *   { "intents": [ { "action": "deploy", "service": "uptime-kuma",
 *                    "targets": ["all"], "params": {"version": "1.23"},
 *                    "check": false, "text": "deploy kuma uptime to homelab",
 *                    "service_from": "alias" } ... ],
 *     "ambiguities": [ "..." ], "out_of_scope": [ "..." ] }
 */
#ifndef CHIFFON_INTENT_H
#define CHIFFON_INTENT_H

#include <stddef.h>

struct json_object;

/* One service the catalog knows, with its aliases (lowercase or not). */
struct intent_service {
	const char		 *name;
	const char *const	 *aliases;	/* NULL-terminated or NULL */
};

/* What the parser may recognise: the catalog's services, the inventory. */
struct intent_vocab {
	const struct intent_service	*services;
	size_t				 nservices;
	const char *const		*hosts;		/* NULL-terminated */
	const char *const		*groups;	/* NULL-terminated */
	const char *const		*tags;		/* tags of several
							   playbooks, or NULL */
};

/*
 * Parse text against vocab.  Returns a new JSON object (caller puts it with
 * json_object_put).  Never fails for any input text; an empty or
 * unintelligible request yields no intents and a question.
 */
struct json_object	*intent_parse(const char *text,
			    const struct intent_vocab *vocab);

/* The canonical action names: actions_names (actions.h). */

#endif
