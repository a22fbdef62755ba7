/*
 * fuzz-yaml-play.c - libFuzzer target: the YAML play parser of the infra
 * plugin's catalog (yaml_play_parse, then yaml_play_task_file and
 * yaml_play_var_names on the same bytes), with its bounds on aliases and
 * size.  A result of -1 must come with a reason.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "catalog.h"
#include "yaml-play.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The same bytes as a vars file and as one JSON document. */
static void
names_err(const uint8_t *data, size_t size)
{
	struct catalog_list	 names = { 0 };
	json_object		*lists = json_object_new_object(), *o;
	char			*err = NULL;

	if (yaml_play_var_names((const char *)data, size, "defaults.yml",
	    &names, lists, &err) < 0 && err == NULL)
		abort();
	free(err);
	err = NULL;
	catalog_list_free(&names);
	json_object_put(lists);
	o = yaml_play_json_text((const char *)data, size, "doc.yml", &err);
	if (o != NULL && err != NULL)	/* NULL alone: a null document */
		abort();
	json_object_put(o);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct playbook	*pb;
	char		*err = NULL;
	int		 rc;

	pb = catalog_playbook_new("fuzz.yml");
	rc = yaml_play_parse((const char *)data, size, "fuzz.yml", pb, &err);
	if (rc < 0 && err == NULL)
		abort();
	free(err);
	err = NULL;
	if (yaml_play_task_file((const char *)data, size, "tasks.yml", pb,
	    &err) < 0 && err == NULL)
		abort();
	free(err);
	catalog_playbook_free(pb);

	names_err(data, size);
	return 0;
}
