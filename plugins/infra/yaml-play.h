/*
 * yaml-play.h - reading playbooks and task files with libyaml.
 */
#ifndef CHIFFON_INFRA_YAML_PLAY_H
#define CHIFFON_INFRA_YAML_PLAY_H

#include <stddef.h>

struct playbook;
struct catalog_list;
struct json_object;

/*
 * Cheap first look: non-zero if the first significant line of text is a
 * sequence item (so the file may be a list of plays).
 */
int	yaml_play_maybe(const char *text, size_t len);

/*
 * Parse text (the file name in name, for messages) as a playbook: the
 * first document must be a non-empty sequence of mappings each having
 * hosts or import_playbook.  Fills pb's hosts, tags, vars_json (names,
 * safe values only), variables, roles, tasks (own task names only),
 * services (roles, imports, include_tasks features and loop apps, with
 * their tags, when: toggle variable and play hosts; raw file names in
 * ->file for the caller to resolve), flags and the # chiffon: comments.
 * Returns 1 for a playbook; 0 for another YAML file with *errp = why it
 * is not a playbook; -1 on a YAML error with *errp = "NAME:LINE:COLUMN:
 * PROBLEM", or when aliases expand past a bound (billion laughs).
 */
int	yaml_play_parse(const char *text, size_t len, const char *name,
	    struct playbook *pb, char **errp);

/*
 * A task file (roles/NAME/tasks/main.yml, a feature file): task names,
 * roles and include services into pb, as for a play's tasks.  0, or -1
 * with *errp set as above.
 */
int	yaml_play_task_file(const char *text, size_t len, const char *name,
	    struct playbook *pb, char **errp);

/*
 * The top-level keys of a vars file (defaults/main.yml, group_vars) into
 * names, and those whose value is a list of names into lists (may be
 * NULL) as arrays.  0, or -1 with *errp.
 */
int	yaml_play_var_names(const char *text, size_t len, const char *name,
	    struct catalog_list *names, struct json_object *lists,
	    char **errp);

/* The first document as JSON (bounded as above); NULL with *errp on an
 * error, NULL without for a null or empty document. */
struct json_object *yaml_play_json_text(const char *text, size_t len,
	    const char *name, char **errp);

#endif
