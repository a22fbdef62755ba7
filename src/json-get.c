/*
 * json-get.c - reading members of json-c objects (see json-get.h).
 */
#include "config.h"

#include <json-c/json.h>

#include "json-get.h"

const char *
json_get_str(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *
json_get_text(json_object *o, const char *key)
{
	json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}
