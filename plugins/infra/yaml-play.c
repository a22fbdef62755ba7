/*
 * yaml-play.c - reading playbooks and task files with libyaml's document
 * API.  Only the first document of a file is looked at; comments (which
 * libyaml drops) are read from the raw text for the # chiffon: keys.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#include "catalog.h"
#include "util.h"
#include "yaml-play.h"

/* Deepest nesting converted to JSON or walked for tasks. */
#define YAML_PLAY_MAX_DEPTH	64

int
yaml_play_maybe(const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *eol;

	while (p < end) {
		eol = memchr(p, '\n', end - p);
		if (eol == NULL)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == eol || *p == '#' || *p == '%' ||
		    (eol - p >= 3 && strncmp(p, "---", 3) == 0 &&
		    (eol - p == 3 || isspace((unsigned char)p[3])))) {
			p = eol + 1;
			continue;
		}
		return *p == '-' && (p + 1 == eol || p[1] == ' ' ||
		    p[1] == '\t' || p[1] == '\r');
	}
	return 0;
}

/* Fail with the parser's problem as NAME:LINE:COLUMN: PROBLEM. */
static int
yaml_play_error(const yaml_parser_t *parser, const char *name, char **errp)
{
	const char	*problem = parser->problem != NULL ? parser->problem :
			    "cannot parse";

	if (parser->context != NULL) {
		return set_error(errp, "%s:%zu:%zu: YAML error %s: %s at "
		    "line %zu column %zu", name, parser->context_mark.line + 1,
		    parser->context_mark.column + 1, parser->context, problem,
		    parser->problem_mark.line + 1,
		    parser->problem_mark.column + 1);
	}
	return set_error(errp, "%s:%zu:%zu: YAML error: %s", name,
	    parser->problem_mark.line + 1, parser->problem_mark.column + 1,
	    problem);
}

/* Load the first document of text.  0 (doc to delete) or -1. */
static int
yaml_play_load(const char *text, size_t len, const char *name,
    yaml_document_t *doc, char **errp)
{
	yaml_parser_t	parser;
	int		rc = 0;

	if (!yaml_parser_initialize(&parser))
		return set_error(errp, "%s: cannot initialise libyaml", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	if (!yaml_parser_load(&parser, doc))
		rc = yaml_play_error(&parser, name, errp);
	yaml_parser_delete(&parser);
	return rc;
}

/* The scalar text of a node, or NULL if it is not a scalar. */
static const char *
yaml_play_scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The value of key in a mapping node, or NULL. */
static yaml_node_t *
yaml_play_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*pair;
	const char		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		k = yaml_play_scalar(yaml_document_get_node(doc, pair->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

/* Look up a module-like key with or without its FQCN prefixes. */
static yaml_node_t *
yaml_play_get_module(yaml_document_t *doc, yaml_node_t *map,
    const char *key)
{
	static const char	*prefixes[] = { "", "ansible.builtin.",
				    "ansible.legacy." };
	yaml_node_t		*n;
	char			*k;
	size_t			 i;

	for (i = 0; i < nitems(prefixes); i++) {
		k = xasprintf("%s%s", prefixes[i], key);
		n = yaml_play_get(doc, map, k);
		free(k);
		if (n != NULL)
			return n;
	}
	return NULL;
}

/* A plain scalar as the JSON value YAML 1.1 (PyYAML) would give it. */
static json_object *
yaml_play_plain(const char *s)
{
	static const char	*trues[] = { "true", "True", "TRUE", "yes",
				    "Yes", "YES", "on", "On", "ON" };
	static const char	*falses[] = { "false", "False", "FALSE", "no",
				    "No", "NO", "off", "Off", "OFF" };
	char			*end;
	size_t			 i;
	long long		 ll;
	double			 d;

	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return NULL;
	for (i = 0; i < nitems(trues); i++) {
		if (strcmp(s, trues[i]) == 0)
			return json_object_new_boolean(1);
		if (strcmp(s, falses[i]) == 0)
			return json_object_new_boolean(0);
	}
	if (isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') &&
	    isdigit((unsigned char)s[1]))) {
		ll = strtoll(s, &end, 10);
		if (*end == '\0')
			return json_object_new_int64(ll);
		d = strtod(s, &end);
		if (*end == '\0' && strchr(s, 'x') == NULL &&
		    strchr(s, 'X') == NULL)
			return json_object_new_double(d);
	}
	return json_object_new_string(s);
}

/* Convert a node to JSON.  Caller owns the result (NULL is JSON null). */
static json_object *
yaml_play_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
	json_object		*o;
	yaml_node_item_t	*item;
	yaml_node_pair_t	*pair;
	const char		*k;

	if (n == NULL || depth > YAML_PLAY_MAX_DEPTH)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return yaml_play_plain(yaml_play_scalar(n));
		return json_object_new_string(yaml_play_scalar(n));
	case YAML_SEQUENCE_NODE:
		o = json_object_new_array();
		for (item = n->data.sequence.items.start;
		    item < n->data.sequence.items.top; item++) {
			json_object_array_add(o, yaml_play_json(doc,
			    yaml_document_get_node(doc, *item), depth + 1));
		}
		return o;
	case YAML_MAPPING_NODE:
		o = json_object_new_object();
		for (pair = n->data.mapping.pairs.start;
		    pair < n->data.mapping.pairs.top; pair++) {
			k = yaml_play_scalar(yaml_document_get_node(doc,
			    pair->key));
			if (k == NULL)
				continue;
			json_object_object_add(o, k, yaml_play_json(doc,
			    yaml_document_get_node(doc, pair->value),
			    depth + 1));
		}
		return o;
	default:
		return NULL;
	}
}

/* Add tags given as "a,b" or as a list. */
static void
yaml_play_tags(yaml_document_t *doc, yaml_node_t *n,
    struct catalog_list *tags)
{
	yaml_node_item_t	*item;
	const char		*s;

	if (n == NULL)
		return;
	if ((s = yaml_play_scalar(n)) != NULL) {
		catalog_list_split(tags, s, ',');
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return;
	for (item = n->data.sequence.items.start;
	    item < n->data.sequence.items.top; item++) {
		s = yaml_play_scalar(yaml_document_get_node(doc, *item));
		if (s != NULL)
			catalog_list_split(tags, s, ',');
	}
}

/* The role named by a roles: entry or an include_role: argument. */
static void
yaml_play_role(yaml_document_t *doc, yaml_node_t *n,
    struct catalog_list *roles, struct catalog_list *tags)
{
	const char	*s;

	if ((s = yaml_play_scalar(n)) != NULL) {
		if (*s != '\0')
			catalog_list_add_unique(roles, s);
		return;
	}
	s = yaml_play_scalar(yaml_play_get(doc, n, "role"));
	if (s == NULL)
		s = yaml_play_scalar(yaml_play_get(doc, n, "name"));
	if (s != NULL && *s != '\0')
		catalog_list_add_unique(roles, s);
	if (tags != NULL)
		yaml_play_tags(doc, yaml_play_get(doc, n, "tags"), tags);
}

/* Walk a list of tasks (blocks included). */
static void
yaml_play_tasks(yaml_document_t *doc, yaml_node_t *seq,
    struct catalog_list *names, struct catalog_list *tags,
    struct catalog_list *roles, int depth)
{
	static const char	*blocks[] = { "block", "rescue", "always" };
	yaml_node_item_t	*item;
	yaml_node_t		*task, *n;
	const char		*s;
	size_t			 i;

	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE ||
	    depth > YAML_PLAY_MAX_DEPTH)
		return;
	for (item = seq->data.sequence.items.start;
	    item < seq->data.sequence.items.top; item++) {
		task = yaml_document_get_node(doc, *item);
		if (task == NULL || task->type != YAML_MAPPING_NODE)
			continue;
		s = yaml_play_scalar(yaml_play_get(doc, task, "name"));
		if (s != NULL && *s != '\0')
			catalog_list_add(names, s);
		if (tags != NULL)
			yaml_play_tags(doc, yaml_play_get(doc, task, "tags"),
			    tags);
		if ((n = yaml_play_get_module(doc, task, "include_role")) ==
		    NULL)
			n = yaml_play_get_module(doc, task, "import_role");
		if (n != NULL && roles != NULL)
			yaml_play_role(doc, n, roles, NULL);
		for (i = 0; i < nitems(blocks); i++) {
			yaml_play_tasks(doc, yaml_play_get(doc, task,
			    blocks[i]), names, tags, roles, depth + 1);
		}
	}
}

/* Read the "# chiffon:KEY=VALUE" comments of a file. */
static void
yaml_play_comments(const char *text, size_t len, struct playbook *pb)
{
	const char	*p = text, *end = text + len, *eol, *key, *eq;
	char		*value;
	size_t		 klen;

	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', end - p);
		if (eol == NULL)
			eol = end;
		while (p < eol && isspace((unsigned char)*p))
			p++;
		if (p == eol || *p != '#')
			continue;
		p++;
		while (p < eol && isspace((unsigned char)*p))
			p++;
		if (eol - p < 8 || strncmp(p, "chiffon:", 8) != 0)
			continue;
		key = p + 8;
		eq = memchr(key, '=', eol - key);
		if (eq == NULL)
			continue;
		klen = eq - key;
		p = eq + 1;
		while (p < eol && isspace((unsigned char)*p))
			p++;
		while (eol > p && isspace((unsigned char)eol[-1]))
			eol--;
		value = xstrndup(p, eol - p);
		eol = memchr(p, '\n', end - p);
		if (eol == NULL)
			eol = end;
		if (klen == 7 && strncmp(key, "service", 7) == 0 &&
		    *value != '\0') {
			free(pb->service);
			pb->service = value;
		} else if (klen == 11 && strncmp(key, "description", 11) == 0) {
			free(pb->description);
			pb->description = value;
		} else if (klen == 5 && strncmp(key, "needs", 5) == 0) {
			free(pb->needs);
			pb->needs = value;
		} else if (klen == 7 && strncmp(key, "aliases", 7) == 0) {
			catalog_list_split(&pb->aliases, value, ',');
			free(value);
		} else
			free(value);
	}
}

/* Non-zero if every item of the top sequence is a play or an import. */
static int
yaml_play_is_playbook(yaml_document_t *doc, yaml_node_t *root)
{
	yaml_node_item_t	*item;
	yaml_node_t		*play;

	if (root == NULL || root->type != YAML_SEQUENCE_NODE ||
	    root->data.sequence.items.start == root->data.sequence.items.top)
		return 0;
	for (item = root->data.sequence.items.start;
	    item < root->data.sequence.items.top; item++) {
		play = yaml_document_get_node(doc, *item);
		if (play == NULL || play->type != YAML_MAPPING_NODE)
			return 0;
		if (yaml_play_get(doc, play, "hosts") == NULL &&
		    yaml_play_get_module(doc, play, "import_playbook") == NULL)
			return 0;
	}
	return 1;
}

int
yaml_play_parse(const char *text, size_t len, const char *name,
    struct playbook *pb, char **errp)
{
	static const char	*sections[] = { "pre_tasks", "roles", "tasks",
				    "post_tasks" };
	yaml_document_t		 doc;
	yaml_node_t		*root, *play, *n;
	yaml_node_item_t	*item, *r;
	struct catalog_list	 hosts = { 0 };
	json_object		*vars;
	struct strbuf		 sb = { 0 };
	const char		*s;
	size_t			 i;
	int			 first = 1;

	if (yaml_play_load(text, len, name, &doc, errp) != 0)
		return -1;
	root = yaml_document_get_root_node(&doc);
	if (!yaml_play_is_playbook(&doc, root)) {
		yaml_document_delete(&doc);
		return 0;
	}
	for (item = root->data.sequence.items.start;
	    item < root->data.sequence.items.top; item++) {
		play = yaml_document_get_node(&doc, *item);
		n = yaml_play_get(&doc, play, "hosts");
		if ((s = yaml_play_scalar(n)) != NULL)
			catalog_list_add_unique(&hosts, s);
		else if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
			for (r = n->data.sequence.items.start;
			    r < n->data.sequence.items.top; r++) {
				s = yaml_play_scalar(yaml_document_get_node(
				    &doc, *r));
				if (s != NULL)
					catalog_list_add_unique(&hosts, s);
			}
		}
		yaml_play_tags(&doc, yaml_play_get(&doc, play, "tags"),
		    &pb->tags);
		if (first) {
			n = yaml_play_get(&doc, play, "vars");
			if (n != NULL && n->type == YAML_MAPPING_NODE) {
				vars = yaml_play_json(&doc, n, 0);
				free(pb->vars_json);
				pb->vars_json = xstrdup(
				    json_object_to_json_string_ext(vars,
				    JSON_C_TO_STRING_PLAIN));
				json_object_put(vars);
			}
			first = 0;
		}
		for (i = 0; i < nitems(sections); i++) {
			n = yaml_play_get(&doc, play, sections[i]);
			if (n == NULL || n->type != YAML_SEQUENCE_NODE)
				continue;
			if (strcmp(sections[i], "roles") != 0) {
				yaml_play_tasks(&doc, n, &pb->tasks,
				    &pb->tags, &pb->roles, 0);
				continue;
			}
			for (r = n->data.sequence.items.start;
			    r < n->data.sequence.items.top; r++) {
				yaml_play_role(&doc, yaml_document_get_node(
				    &doc, *r), &pb->roles, &pb->tags);
			}
		}
	}
	yaml_document_delete(&doc);

	for (i = 0; i < hosts.n; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", hosts.v[i]);
	free(pb->hosts);
	pb->hosts = hosts.n > 0 ? strbuf_detach(&sb) : NULL;
	strbuf_free(&sb);
	catalog_list_free(&hosts);
	if (pb->vars_json == NULL)
		pb->vars_json = xstrdup("{}");
	yaml_play_comments(text, len, pb);
	return 1;
}

int
yaml_play_task_names(const char *text, size_t len, const char *name,
    struct catalog_list *names, struct catalog_list *roles, char **errp)
{
	yaml_document_t	doc;

	if (yaml_play_load(text, len, name, &doc, errp) != 0)
		return -1;
	yaml_play_tasks(&doc, yaml_document_get_root_node(&doc), names, NULL,
	    roles, 0);
	yaml_document_delete(&doc);
	return 0;
}
