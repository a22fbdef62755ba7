/*
 * yaml-play.h - reading playbooks and task files with libyaml.
 */
#ifndef CHIFFON_INFRA_YAML_PLAY_H
#define CHIFFON_INFRA_YAML_PLAY_H

#include <stddef.h>

struct playbook;
struct catalog_list;

/*
 * Cheap first look: non-zero if the first significant line of text is a
 * sequence item (so the file may be a list of plays).
 */
int	yaml_play_maybe(const char *text, size_t len);

/*
 * Parse text (the file name in name, for messages) as a playbook: the
 * first document must be a non-empty sequence of mappings each having
 * hosts or import_playbook.  Fills pb's hosts, tags, vars_json, roles and
 * tasks (own task names only; the caller adds the roles' ones), and the
 * # chiffon: comments (service override, description, aliases).
 * Returns 1 for a playbook, 0 for another YAML file, -1 on a YAML error
 * with *errp = "NAME:LINE:COLUMN: PROBLEM".
 */
int	yaml_play_parse(const char *text, size_t len, const char *name,
	    struct playbook *pb, char **errp);

/*
 * Task names of a task file (a sequence of tasks, blocks included), for
 * roles/NAME/tasks/main.yml.  0, or -1 with *errp set as above.
 */
int	yaml_play_task_names(const char *text, size_t len, const char *name,
	    struct catalog_list *names, struct catalog_list *roles,
	    char **errp);

#endif
