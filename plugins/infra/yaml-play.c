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
/* Most nodes a document may expand to through its aliases. */
#define YAML_PLAY_MAX_EXPANDED	1000000

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

/* Non-zero if a node is a plain YAML 1.1 true. */
static int
yaml_play_plain_true(yaml_node_t *n)
{
	json_object	*o;
	int		 t;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return 0;
	o = yaml_play_plain((const char *)n->data.scalar.value);
	t = o != NULL && json_object_is_type(o, json_type_boolean) &&
	    json_object_get_boolean(o);
	json_object_put(o);
	return t;
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

/*
 * The variable a when: condition tests, if it is a plain toggle
 * ("jellyfin_enabled", "x_enable | bool", "x == true"), else NULL.
 * Caller frees.
 */
static char *
yaml_play_when_var(yaml_document_t *doc, yaml_node_t *n)
{
	const char	*s, *e, *p;

	if (n != NULL && n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top - n->data.sequence.items.start == 1)
		n = yaml_document_get_node(doc, *n->data.sequence.items.start);
	if ((s = yaml_play_scalar(n)) == NULL)
		return NULL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isalpha((unsigned char)*s) && *s != '_')
		return NULL;
	for (e = s; isalnum((unsigned char)*e) || *e == '_'; e++)
		;
	for (p = e; isspace((unsigned char)*p); p++)
		;
	if (*p != '\0' && strncmp(p, "| bool", 6) != 0 &&
	    strncmp(p, "|bool", 5) != 0 && strncmp(p, "== true", 7) != 0 &&
	    strncmp(p, "is true", 7) != 0 && strncmp(p, "is truthy", 9) != 0)
		return NULL;
	if ((e - s == 3 && strncmp(s, "not", 3) == 0) ||
	    (e - s == 4 && strncmp(s, "true", 4) == 0))
		return NULL;
	return xstrndup(s, e - s);
}

/* A new service of pb (zeroed but for kind and name); pointer into pb. */
static struct catalog_service *
yaml_play_service(struct playbook *pb, const char *kind, const char *name,
    const char *hosts)
{
	struct catalog_service	*sv;

	pb->services = xreallocarray(pb->services, pb->nservices + 1,
	    sizeof *pb->services);
	sv = &pb->services[pb->nservices++];
	memset(sv, 0, sizeof *sv);
	sv->kind = kind;
	sv->name = xstrdup(name != NULL ? name : "");
	if (hosts != NULL)
		sv->hosts = xstrdup(hosts);
	return sv;
}

/* What a walk over plays and tasks fills, and where it is. */
struct yaml_play_walk {
	yaml_document_t	*doc;
	struct playbook	*pb;
	const char	*hosts;		/* current play's hosts */
};

/* The role named by a roles: entry or an include_role: argument. */
static void
yaml_play_role(struct yaml_play_walk *w, yaml_node_t *n, yaml_node_t *task)
{
	yaml_document_t		*doc = w->doc;
	struct catalog_service	*sv;
	const char		*s;

	if ((s = yaml_play_scalar(n)) == NULL) {
		s = yaml_play_scalar(yaml_play_get(doc, n, "role"));
		if (s == NULL)
			s = yaml_play_scalar(yaml_play_get(doc, n, "name"));
	}
	if (s == NULL || *s == '\0')
		return;
	catalog_list_add_unique(&w->pb->roles, s);
	if (task == NULL)
		task = n;
	sv = yaml_play_service(w->pb, "role", s, w->hosts);
	yaml_play_tags(doc, yaml_play_get(doc, task, "tags"), &sv->tags);
	sv->when = yaml_play_when_var(doc, yaml_play_get(doc, task, "when"));
	yaml_play_tags(doc, yaml_play_get(doc, task, "tags"), &w->pb->tags);
}

/* The file of an import_tasks/include_tasks/import_playbook value. */
static const char *
yaml_play_include_file(yaml_document_t *doc, yaml_node_t *n)
{
	const char	*s = yaml_play_scalar(n);

	if (s == NULL)
		s = yaml_play_scalar(yaml_play_get(doc, n, "file"));
	return s != NULL && *s != '\0' ? s : NULL;
}

/* "{{ apps }}" -> "apps", or NULL.  Caller frees. */
static char *
yaml_play_loop_var(const char *s)
{
	const char	*e;

	if (s == NULL || strncmp(s, "{{", 2) != 0)
		return NULL;
	for (s += 2; isspace((unsigned char)*s); s++)
		;
	for (e = s; isalnum((unsigned char)*e) || *e == '_'; e++)
		;
	if (e == s)
		return NULL;
	return xstrndup(s, e - s);
}

/* An import_tasks / include_tasks line: a feature, or apps of a loop. */
static void
yaml_play_feature(struct yaml_play_walk *w, yaml_node_t *task,
    const char *file)
{
	static const char	*loops[] = { "loop", "with_items", "with_list" };
	yaml_document_t		*doc = w->doc;
	struct catalog_service	*sv;
	yaml_node_t		*loop = NULL;
	yaml_node_item_t	*item;
	const char		*s;
	size_t			 i;

	for (i = 0; i < nitems(loops) && loop == NULL; i++)
		loop = yaml_play_get(doc, task, loops[i]);
	if (loop != NULL && strstr(file, "{{") != NULL) {
		if (loop->type == YAML_SEQUENCE_NODE) {
			for (item = loop->data.sequence.items.start;
			    item < loop->data.sequence.items.top; item++) {
				s = yaml_play_scalar(yaml_document_get_node(
				    doc, *item));
				if (s == NULL || *s == '\0')
					continue;
				sv = yaml_play_service(w->pb, "app", s,
				    w->hosts);
				sv->file = xstrdup(file);
				yaml_play_tags(doc, yaml_play_get(doc, task,
				    "tags"), &sv->tags);
			}
			return;
		}
		sv = yaml_play_service(w->pb, "app", NULL, w->hosts);
		sv->listvar = yaml_play_loop_var(yaml_play_scalar(loop));
		sv->file = xstrdup(file);
		yaml_play_tags(doc, yaml_play_get(doc, task, "tags"),
		    &sv->tags);
		return;
	}
	sv = yaml_play_service(w->pb, "feature", NULL, w->hosts);
	sv->file = xstrdup(file);
	yaml_play_tags(doc, yaml_play_get(doc, task, "tags"), &sv->tags);
	sv->when = yaml_play_when_var(doc, yaml_play_get(doc, task, "when"));
}

/* Walk a list of tasks (blocks included). */
static void
yaml_play_tasks(struct yaml_play_walk *w, yaml_node_t *seq, int depth)
{
	static const char	*blocks[] = { "block", "rescue", "always" };
	static const char	*includes[] = { "import_tasks",
				    "include_tasks", "include" };
	yaml_document_t		*doc = w->doc;
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
			catalog_list_add(&w->pb->tasks, s);
		yaml_play_tags(doc, yaml_play_get(doc, task, "tags"),
		    &w->pb->tags);
		if (yaml_play_get(doc, task, "become") != NULL &&
		    yaml_play_plain_true(yaml_play_get(doc, task, "become")))
			w->pb->flags |= CATALOG_BECOME;
		if ((n = yaml_play_get_module(doc, task, "include_role")) ==
		    NULL)
			n = yaml_play_get_module(doc, task, "import_role");
		if (n != NULL)
			yaml_play_role(w, n, task);
		for (i = 0; i < nitems(includes); i++) {
			n = yaml_play_get_module(doc, task, includes[i]);
			if ((s = yaml_play_include_file(doc, n)) != NULL) {
				yaml_play_feature(w, task, s);
				break;
			}
		}
		for (i = 0; i < nitems(blocks); i++) {
			yaml_play_tasks(w, yaml_play_get(doc, task,
			    blocks[i]), depth + 1);
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

/*
 * Why the root is not a list of plays, or NULL if it is one.  Static
 * strings or one that *bufp owns.
 */
static const char *
yaml_play_not_playbook(yaml_document_t *doc, yaml_node_t *root, char **bufp)
{
	yaml_node_item_t	*item;
	yaml_node_t		*play;

	if (root == NULL)
		return "empty YAML document";
	if (root->type == YAML_MAPPING_NODE)
		return "top level is a mapping, not a list of plays (a vars "
		    "file?)";
	if (root->type == YAML_SCALAR_NODE)
		return "top level is a scalar, not a list of plays";
	if (root->data.sequence.items.start == root->data.sequence.items.top)
		return "an empty list, no plays";
	for (item = root->data.sequence.items.start;
	    item < root->data.sequence.items.top; item++) {
		play = yaml_document_get_node(doc, *item);
		if (play == NULL || play->type != YAML_MAPPING_NODE ||
		    (yaml_play_get(doc, play, "hosts") == NULL &&
		    yaml_play_get_module(doc, play, "import_playbook") ==
		    NULL)) {
			*bufp = xasprintf("item %d of the list is not a play "
			    "(no hosts: or import_playbook:): a task file?",
			    (int)(item - root->data.sequence.items.start) + 1);
			return *bufp;
		}
	}
	return NULL;
}

/*
 * Expanded size of node i (aliases counted as often as they are used),
 * memoised in size[] (0: not yet, SIZE_MAX: being counted).  Stops
 * counting above max.
 */
static size_t
yaml_play_expanded(yaml_document_t *doc, int i, size_t *size, size_t max,
    int depth)
{
	yaml_node_t		*n = yaml_document_get_node(doc, i);
	yaml_node_item_t	*item;
	yaml_node_pair_t	*pair;
	size_t			 total = 1;

	if (n == NULL)
		return 0;
	if (size[i] == SIZE_MAX || depth > 512)
		return max + 1;		/* a loop, or absurdly deep */
	if (size[i] != 0)
		return size[i];
	size[i] = SIZE_MAX;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (item = n->data.sequence.items.start; total <= max &&
		    item < n->data.sequence.items.top; item++)
			total += yaml_play_expanded(doc, *item, size, max,
			    depth + 1);
	} else if (n->type == YAML_MAPPING_NODE) {
		for (pair = n->data.mapping.pairs.start; total <= max &&
		    pair < n->data.mapping.pairs.top; pair++) {
			total += yaml_play_expanded(doc, pair->key, size, max,
			    depth + 1);
			total += yaml_play_expanded(doc, pair->value, size,
			    max, depth + 1);
		}
	}
	if (total > max)
		total = max + 1;
	size[i] = total;
	return total;
}

/* Refuse documents whose aliases expand beyond reason.  0 or -1. */
static int
yaml_play_bounded(yaml_document_t *doc, const char *name, char **errp)
{
	size_t	 nodes = doc->nodes.top - doc->nodes.start, *size, total;
	size_t	 max = YAML_PLAY_MAX_EXPANDED;

	if (nodes == 0)
		return 0;
	size = xcalloc(nodes + 2, sizeof *size);
	total = yaml_play_expanded(doc, 1, size, max, 0);
	free(size);
	if (total > max)
		return set_error(errp, "%s: YAML aliases expand to more than "
		    "%zu nodes (%zu written): refused, as Ansible would run "
		    "out of memory", name, max, nodes);
	return 0;
}

/* Load and bound a document.  0 (doc to delete) or -1 with *errp. */
static int
yaml_play_load_bounded(const char *text, size_t len, const char *name,
    yaml_document_t *doc, char **errp)
{
	if (yaml_play_load(text, len, name, doc, errp) != 0)
		return -1;
	if (yaml_play_bounded(doc, name, errp) != 0) {
		yaml_document_delete(doc);
		return -1;
	}
	return 0;
}

/* Play-level keys: vars (names, toggles, lists), vars_prompt, become. */
static void	yaml_play_vars_map(yaml_document_t *, yaml_node_t *,
		    struct playbook *, json_object *);

static void
yaml_play_vars(yaml_document_t *doc, yaml_node_t *play, struct playbook *pb,
    json_object *vars)
{
	yaml_node_t		*n;
	yaml_node_item_t	*item;
	const char		*s;

	if (yaml_play_get(doc, play, "vars_prompt") != NULL)
		pb->flags |= CATALOG_VARS_PROMPT;
	if (yaml_play_plain_true(yaml_play_get(doc, play, "become")))
		pb->flags |= CATALOG_BECOME;
	n = yaml_play_get(doc, play, "vars_files");
	if ((s = yaml_play_scalar(n)) != NULL)
		catalog_list_add_unique(&pb->vars_files, s);
	else if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
		for (item = n->data.sequence.items.start;
		    item < n->data.sequence.items.top; item++) {
			s = yaml_play_scalar(yaml_document_get_node(doc,
			    *item));
			if (s != NULL)
				catalog_list_add_unique(&pb->vars_files, s);
		}
	}
	n = yaml_play_get(doc, play, "vars");
	if (n != NULL && n->type == YAML_MAPPING_NODE)
		yaml_play_vars_map(doc, n, pb, vars);
}

/* A vars mapping: names, and the values safe to keep (see above). */
static void
yaml_play_vars_map(yaml_document_t *doc, yaml_node_t *n, struct playbook *pb,
    json_object *vars)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*v;
	yaml_node_item_t	*item;
	json_object		*o, *a;
	const char		*k, *s;
	int			 names_only;

	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		k = yaml_play_scalar(yaml_document_get_node(doc, pair->key));
		if (k == NULL || *k == '\0')
			continue;
		catalog_list_add_unique(&pb->variables, k);
		v = yaml_document_get_node(doc, pair->value);
		if (v != NULL && v->type == YAML_SCALAR_NODE &&
		    v->tag != NULL && strcmp((const char *)
		    v->tag, "!vault") == 0)
			pb->flags |= CATALOG_VAULT;
		/* Values are not kept (secrets): booleans, name lists and
		 * chiffon's own key are. */
		o = NULL;
		if (strcmp(k, "chiffon_resources") == 0)
			o = yaml_play_json(doc, v, 0);
		else if (v != NULL && v->type == YAML_SCALAR_NODE &&
		    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			o = yaml_play_plain(yaml_play_scalar(v));
			if (o != NULL && !json_object_is_type(o,
			    json_type_boolean)) {
				json_object_put(o);
				o = NULL;
			}
		} else if (v != NULL && v->type == YAML_SEQUENCE_NODE) {
			a = json_object_new_array();
			names_only = 1;
			for (item = v->data.sequence.items.start; names_only &&
			    item < v->data.sequence.items.top; item++) {
				s = yaml_play_scalar(yaml_document_get_node(
				    doc, *item));
				if (s == NULL || strlen(s) > 64 ||
				    strpbrk(s, " \t:/{}") != NULL)
					names_only = 0;
				else
					json_object_array_add(a,
					    json_object_new_string(s));
			}
			if (names_only)
				o = a;
			else
				json_object_put(a);
		}
		json_object_object_add(vars, k, o);
	}
}

int
yaml_play_parse(const char *text, size_t len, const char *name,
    struct playbook *pb, char **errp)
{
	static const char	*sections[] = { "pre_tasks", "roles", "tasks",
				    "post_tasks" };
	struct yaml_play_walk	 w = { 0 };
	yaml_document_t		 doc;
	yaml_node_t		*root, *play, *n;
	yaml_node_item_t	*item, *r;
	struct catalog_list	 hosts = { 0 }, phosts = { 0 };
	struct catalog_service	*sv;
	json_object		*vars;
	struct strbuf		 sb = { 0 };
	const char		*s, *why;
	char			*buf = NULL, *ph;
	size_t			 i;

	if (yaml_play_load_bounded(text, len, name, &doc, errp) != 0)
		return -1;
	root = yaml_document_get_root_node(&doc);
	if ((why = yaml_play_not_playbook(&doc, root, &buf)) != NULL) {
		if (errp != NULL)
			*errp = xstrdup(why);
		free(buf);
		yaml_document_delete(&doc);
		return 0;
	}
	w.doc = &doc;
	w.pb = pb;
	vars = json_object_new_object();
	for (item = root->data.sequence.items.start;
	    item < root->data.sequence.items.top; item++) {
		play = yaml_document_get_node(&doc, *item);
		pb->nplays++;
		n = yaml_play_get_module(&doc, play, "import_playbook");
		if ((s = yaml_play_include_file(&doc, n)) != NULL) {
			sv = yaml_play_service(pb, "import", NULL, NULL);
			sv->file = xstrdup(s);
			yaml_play_tags(&doc, yaml_play_get(&doc, play, "tags"),
			    &sv->tags);
			sv->when = yaml_play_when_var(&doc, yaml_play_get(&doc,
			    play, "when"));
			yaml_play_tags(&doc, yaml_play_get(&doc, play, "tags"),
			    &pb->tags);
			continue;
		}
		n = yaml_play_get(&doc, play, "hosts");
		catalog_list_free(&phosts);
		if ((s = yaml_play_scalar(n)) != NULL)
			catalog_list_add_unique(&phosts, s);
		else if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
			for (r = n->data.sequence.items.start;
			    r < n->data.sequence.items.top; r++) {
				s = yaml_play_scalar(yaml_document_get_node(
				    &doc, *r));
				if (s != NULL)
					catalog_list_add_unique(&phosts, s);
			}
		}
		strbuf_reset(&sb);
		for (i = 0; i < phosts.n; i++) {
			strbuf_addf(&sb, "%s%s", i > 0 ? ":" : "",
			    phosts.v[i]);
			catalog_list_add_unique(&hosts, phosts.v[i]);
		}
		ph = xstrdup(sb.len > 0 ? sb.buf : "");
		w.hosts = ph;
		yaml_play_tags(&doc, yaml_play_get(&doc, play, "tags"),
		    &pb->tags);
		yaml_play_vars(&doc, play, pb, vars);
		for (i = 0; i < nitems(sections); i++) {
			n = yaml_play_get(&doc, play, sections[i]);
			if (n == NULL || n->type != YAML_SEQUENCE_NODE)
				continue;
			if (strcmp(sections[i], "roles") != 0) {
				yaml_play_tasks(&w, n, 0);
				continue;
			}
			for (r = n->data.sequence.items.start;
			    r < n->data.sequence.items.top; r++)
				yaml_play_role(&w, yaml_document_get_node(
				    &doc, *r), NULL);
		}
		w.hosts = NULL;
		free(ph);
	}
	yaml_document_delete(&doc);
	catalog_list_free(&phosts);

	strbuf_reset(&sb);
	for (i = 0; i < hosts.n; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", hosts.v[i]);
	free(pb->hosts);
	pb->hosts = hosts.n > 0 ? strbuf_detach(&sb) : NULL;
	strbuf_free(&sb);
	catalog_list_free(&hosts);
	free(pb->vars_json);
	pb->vars_json = xstrdup(json_object_to_json_string_ext(vars,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(vars);
	yaml_play_comments(text, len, pb);
	return 1;
}

int
yaml_play_task_file(const char *text, size_t len, const char *name,
    struct playbook *pb, char **errp)
{
	struct yaml_play_walk	w = { 0 };
	yaml_document_t		doc;

	if (yaml_play_load_bounded(text, len, name, &doc, errp) != 0)
		return -1;
	w.doc = &doc;
	w.pb = pb;
	yaml_play_tasks(&w, yaml_document_get_root_node(&doc), 0);
	yaml_document_delete(&doc);
	return 0;
}

int
yaml_play_var_names(const char *text, size_t len, const char *name,
    struct catalog_list *names, json_object *lists, char **errp)
{
	struct playbook		 pb = { 0 };
	yaml_document_t		 doc;
	yaml_node_t		*root;
	yaml_node_pair_t	*pair;
	json_object		*vars;
	const char		*k;
	int			 rc = 0;

	if (yaml_play_load_bounded(text, len, name, &doc, errp) != 0)
		return -1;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type == YAML_MAPPING_NODE) {
		/* Read the file as the vars: of a play. */
		vars = json_object_new_object();
		for (pair = root->data.mapping.pairs.start;
		    pair < root->data.mapping.pairs.top; pair++) {
			k = yaml_play_scalar(yaml_document_get_node(&doc,
			    pair->key));
			if (k != NULL && *k != '\0')
				catalog_list_add_unique(names, k);
		}
		yaml_play_vars_map(&doc, root, &pb, vars);
		json_object_object_foreach(vars, key, val) {
			if (lists != NULL && val != NULL &&
			    json_object_is_type(val, json_type_array))
				json_object_object_add(lists, key,
				    json_object_get(val));
		}
		json_object_put(vars);
	}
	catalog_list_free(&pb.variables);
	catalog_list_free(&pb.vars_files);
	yaml_document_delete(&doc);
	return rc;
}

json_object *
yaml_play_json_text(const char *text, size_t len, const char *name,
    char **errp)
{
	yaml_document_t	 doc;
	json_object	*o;

	if (yaml_play_load_bounded(text, len, name, &doc, errp) != 0)
		return NULL;
	o = yaml_play_json(&doc, yaml_document_get_root_node(&doc), 0);
	yaml_document_delete(&doc);
	return o;
}
