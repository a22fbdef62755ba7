/*
 * json-get.h - reading members of json-c objects, for the host and the
 * plugins alike (each links its own copy of json-get.c).
 */
#ifndef CHIFFON_JSON_GET_H
#define CHIFFON_JSON_GET_H

#include <json-c/json.h>

/*
 * The string member key of o; NULL when o is NULL or not an object, or
 * key is absent or not a string.  The text belongs to o.
 */
const char	*json_get_str(json_object *o, const char *key);
/*
 * Member key of o as text, whatever its type (a number as its digits);
 * NULL when o is NULL, or key is absent or null.  The text belongs to o.
 */
const char	*json_get_text(json_object *o, const char *key);

#endif
