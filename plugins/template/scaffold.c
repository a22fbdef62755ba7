/*
 * scaffold.c - service names, @@name@@ templates, the repository's
 * layout, the files of a new service, and writing them atomically.  See
 * scaffold.h.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <yaml.h>

#include "scaffold.h"
#include "sha256.h"
#include "util.h"

/* Lines of context around a change in a diff. */
#define SCAFFOLD_DIFF_CONTEXT	3
/* Longest image reference and host group accepted. */
#define SCAFFOLD_IMAGE_MAX	255
#define SCAFFOLD_HOSTS_MAX	128

/* One template file of a layout and where its rendering goes. */
struct scaffold_tmpl {
	const char	*tmpl;		/* under the template directory */
	const char	*dest;		/* pattern: %s is the role */
};

/* The role of the "site" layout (roles/ROLE/...). */
static const struct scaffold_tmpl scaffold_role_files[] = {
	{ "role/tasks/main.yml",	"roles/%s/tasks/main.yml" },
	{ "role/handlers/main.yml",	"roles/%s/handlers/main.yml" },
	{ "role/defaults/main.yml",	"roles/%s/defaults/main.yml" },
	{ "role/meta/main.yml",		"roles/%s/meta/main.yml" },
	{ "role/templates/docker-compose.yml.j2",
	    "roles/%s/templates/docker-compose.yml.j2" },
	{ "role/README.md",		"roles/%s/README.md" },
};
/* The site playbook's entry for the role, and a new play's head. */
#define SCAFFOLD_SITE_ENTRY	"site/entry.yml"
#define SCAFFOLD_SITE_PLAY	"site/play.yml"
/* The playbook of the "per-service" layout. */
#define SCAFFOLD_PLAYBOOK	"playbook/deploy.yml"
/* The same through the repository's own container role. */
#define SCAFFOLD_PLAYBOOK_ROLE	"playbook/deploy-role.yml"

/* Site playbooks looked at first, in this order. */
static const char *const scaffold_site_names[] = { "site.yml", "site.yaml",
    NULL };

/* --- names -------------------------------------------------------------- */

char *
scaffold_name(const char *in, char **errp)
{
	struct strbuf	 sb = { 0 };
	const char	*p;
	unsigned char	 c;

	if (in == NULL || *in == '\0') {
		set_error(errp, "the service name is empty");
		return NULL;
	}
	if (strstr(in, "..") != NULL) {
		set_error(errp, "service name '%s': '..' is not allowed", in);
		return NULL;
	}
	if (strchr(in, '/') != NULL || strchr(in, '\\') != NULL) {
		set_error(errp, "service name '%s': path separators are not "
		    "allowed", in);
		return NULL;
	}
	for (p = in; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (c == ' ' || c == '_' || c == '\t')
			strbuf_addc(&sb, '-');
		else if (isalnum(c) && c < 0x80)
			strbuf_addc(&sb, (char)tolower(c));
		else if (c == '-')
			strbuf_addc(&sb, '-');
		else {
			strbuf_free(&sb);
			set_error(errp, "service name '%s': character '%c' is "
			    "not allowed (only letters, digits, '-', '_' and "
			    "spaces)", in, isprint(c) ? c : '?');
			return NULL;
		}
	}
	if (sb.len == 0 || sb.buf[0] == '-') {
		set_error(errp, "service name '%s': it must start with a "
		    "letter or digit", in);
		strbuf_free(&sb);
		return NULL;
	}
	if (sb.len > SCAFFOLD_NAME_MAX) {
		set_error(errp, "service name '%s': longer than %d characters",
		    in, SCAFFOLD_NAME_MAX);
		strbuf_free(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* --- rendering ---------------------------------------------------------- */

char *
scaffold_render(const char *tmpl, const char *origin,
    const struct scaffold_var *vars, size_t nvars, char **errp)
{
	struct strbuf	 sb = { 0 };
	const char	*p = tmpl, *start, *end;
	size_t		 i, len;
	int		 line = 1;

	while (*p != '\0') {
		if (p[0] != '@' || p[1] != '@') {
			if (*p == '\n')
				line++;
			strbuf_addc(&sb, *p++);
			continue;
		}
		start = p + 2;
		if (start[0] == '@' && start[1] == '@') {
			strbuf_add(&sb, "@@", 2);
			p = start + 2;
			continue;
		}
		for (end = start; (*end >= 'a' && *end <= 'z') || *end == '_';
		    end++)
			;
		len = (size_t)(end - start);
		if (len == 0 || end[0] != '@' || end[1] != '@') {
			set_error(errp, "%s:%d: '@@' starts no placeholder "
			    "(write @@NAME@@ with NAME of a-z and _, or @@@@ "
			    "for a literal @@)", origin, line);
			strbuf_free(&sb);
			return NULL;
		}
		for (i = 0; i < nvars; i++) {
			if (strlen(vars[i].name) == len &&
			    strncmp(vars[i].name, start, len) == 0)
				break;
		}
		if (i == nvars) {
			set_error(errp, "%s:%d: unknown placeholder @@%.*s@@",
			    origin, line, (int)len, start);
			strbuf_free(&sb);
			return NULL;
		}
		strbuf_adds(&sb, vars[i].value);
		p = end + 2;
	}
	return strbuf_detach(&sb);
}

/* --- YAML --------------------------------------------------------------- */

/* Load the first document of text.  0 or -1 with *errp. */
static int
scaffold_yaml_load(const char *text, const char *origin, yaml_document_t *doc,
    char **errp)
{
	yaml_parser_t	parser;
	int		rc = 0;

	if (!yaml_parser_initialize(&parser))
		return set_error(errp, "%s: out of memory", origin);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    strlen(text));
	if (!yaml_parser_load(&parser, doc)) {
		rc = set_error(errp, "%s:%lu: %s", origin,
		    (unsigned long)parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "YAML error");
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* The value node of key in mapping map, or NULL. */
static yaml_node_t *
scaffold_yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(doc, pair->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

static const char *
scaffold_yaml_str(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* Item i of sequence seq. */
static yaml_node_t *
scaffold_yaml_item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

static size_t
scaffold_yaml_len(yaml_node_t *seq)
{
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start);
}

/* The role name of a roles: entry (a scalar, or role:/name: of a map). */
static const char *
scaffold_role_name(yaml_document_t *doc, yaml_node_t *entry)
{
	const char	*s;

	if ((s = scaffold_yaml_str(entry)) != NULL)
		return s;
	if ((s = scaffold_yaml_str(scaffold_yaml_get(doc, entry, "role")))
	    != NULL)
		return s;
	return scaffold_yaml_str(scaffold_yaml_get(doc, entry, "name"));
}

/* Does this play list at least one role entry with tags? */
static int
scaffold_play_tagged(yaml_document_t *doc, yaml_node_t *play)
{
	yaml_node_t	*roles = scaffold_yaml_get(doc, play, "roles");
	size_t		 i, n = scaffold_yaml_len(roles);

	for (i = 0; i < n; i++) {
		if (scaffold_yaml_get(doc, scaffold_yaml_item(doc, roles, i),
		    "tags") != NULL)
			return 1;
	}
	return 0;
}

/* Is text a playbook with a play listing tagged roles? */
static int
scaffold_is_site(const char *text)
{
	yaml_document_t	 doc;
	yaml_node_t	*root;
	size_t		 i, n;
	int		 site = 0;

	if (scaffold_yaml_load(text, "", &doc, NULL) != 0)
		return 0;
	root = yaml_document_get_root_node(&doc);
	n = scaffold_yaml_len(root);
	for (i = 0; i < n && !site; i++)
		site = scaffold_play_tagged(&doc, scaffold_yaml_item(&doc,
		    root, i));
	yaml_document_delete(&doc);
	return site;
}

/* --- layout ------------------------------------------------------------- */

static int
scaffold_is_yaml_name(const char *name)
{
	size_t	len = strlen(name);

	return name[0] != '.' && ((len > 4 && strcmp(name + len - 4,
	    ".yml") == 0) || (len > 5 && strcmp(name + len - 5, ".yaml") == 0));
}

static int
scaffold_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The YAML files directly in dir, sorted (NULL-terminated; caller frees). */
static char **
scaffold_list_yaml(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL;
	size_t		 n = 0;

	v = xcalloc(1, sizeof *v);
	if ((d = opendir(dir)) == NULL)
		return v;
	while ((de = readdir(d)) != NULL) {
		if (!scaffold_is_yaml_name(de->d_name))
			continue;
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof *v, scaffold_cmp);
	return v;
}

static void
scaffold_strv_free(char **v)
{
	size_t	i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Does dir hold a *-deploy.yml or a playbook with a chiffon:service header? */
static int
scaffold_has_per_service(const char *dir)
{
	char	**v = scaffold_list_yaml(dir), *path, *text;
	size_t	 i, len;
	int	 found = 0;

	for (i = 0; v[i] != NULL && !found; i++) {
		len = strlen(v[i]);
		if ((len > 11 && strcmp(v[i] + len - 11, "-deploy.yml") ==
		    0) || (len > 12 && strcmp(v[i] + len - 12,
		    "-deploy.yaml") == 0)) {
			found = 1;
			break;
		}
		path = path_join(dir, v[i]);
		if ((text = read_file(path, NULL)) != NULL) {
			found = strncmp(text, "# chiffon:service=", 18) == 0 ||
			    strstr(text, "\n# chiffon:service=") != NULL;
			free(text);
		}
		free(path);
	}
	scaffold_strv_free(v);
	return found;
}

/* The first of names (NULL-ended) in repo that is a site playbook. */
static char *
scaffold_find_site(const char *repo, const char *const *names)
{
	char	*path, *text, *site = NULL;
	size_t	 i;

	for (i = 0; names[i] != NULL && site == NULL; i++) {
		path = path_join(repo, names[i]);
		if ((text = read_file(path, NULL)) != NULL &&
		    scaffold_is_site(text))
			site = xstrdup(names[i]);
		free(text);
		free(path);
	}
	return site;
}

const char *
scaffold_layout(const char *repo, char **sitep, char **dirp, char **errp)
{
	struct stat	 sb;
	char		**v, *path, *site;

	*sitep = NULL;
	*dirp = NULL;
	if (stat(repo, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		set_error(errp, "%s: the Ansible repository is not a directory",
		    repo);
		return NULL;
	}
	/* site.yml first, then any other top-level playbook. */
	site = scaffold_find_site(repo, scaffold_site_names);
	if (site == NULL) {
		v = scaffold_list_yaml(repo);
		site = scaffold_find_site(repo, (const char *const *)v);
		scaffold_strv_free(v);
	}
	if (site != NULL) {
		*sitep = site;
		return "site";
	}
	path = path_join(repo, "playbooks");
	if (!scaffold_has_per_service(repo) && scaffold_has_per_service(path))
		*dirp = xstrdup("playbooks");
	else
		*dirp = xstrdup("");
	free(path);
	return "per-service";
}

/* --- the repository's container role ------------------------------ */

/*
 * How an existing playbook deploys a container through a role: the
 * role and the names of its variables (NULL: the playbook sets none).
 */
struct scaffold_style {
	char	*exemplar;	/* the playbook, relative to the repo */
	char	*role;
	char	*name_var;	/* *_name */
	char	*image_var;	/* *_image (required) */
	char	*ports_var;	/* *_ports, a list */
	char	*port_var;	/* *_port, a number */
	char	*volumes_var;	/* *_volumes, a list */
};

static void
scaffold_style_clear(struct scaffold_style *st)
{
	free(st->exemplar);
	free(st->role);
	free(st->name_var);
	free(st->image_var);
	free(st->ports_var);
	free(st->port_var);
	free(st->volumes_var);
	memset(st, 0, sizeof *st);
}

/* Is name a plain Ansible variable name ([a-z_][a-z0-9_]*)? */
static int
scaffold_is_var(const char *name)
{
	const char	*p;

	if (*name == '\0' || isdigit((unsigned char)*name))
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p)
		    && *p != '_')
			return 0;
	}
	return 1;
}

static int
scaffold_ends(const char *s, const char *suffix)
{
	size_t	ls = strlen(s), lx = strlen(suffix);

	return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * Does the playbook text deploy through one role of the repository with
 * a *_image variable?  Fills st (role and variable names) if so.
 */
static int
scaffold_style_of(const char *repo, const char *text, struct scaffold_style *st)
{
	static const struct {
		const char	*suffix;
		int		 type;
		size_t		 offset;
	} keys[] = {
		{ "_name", YAML_SCALAR_NODE,
		    offsetof(struct scaffold_style, name_var) },
		{ "_image", YAML_SCALAR_NODE,
		    offsetof(struct scaffold_style, image_var) },
		{ "_ports", YAML_SEQUENCE_NODE,
		    offsetof(struct scaffold_style, ports_var) },
		{ "_port", YAML_SCALAR_NODE,
		    offsetof(struct scaffold_style, port_var) },
		{ "_volumes", YAML_SEQUENCE_NODE,
		    offsetof(struct scaffold_style, volumes_var) },
	};
	yaml_document_t		 doc;
	yaml_node_t		*play, *roles, *vars, *k, *v;
	yaml_node_pair_t	*pair;
	struct stat		 sb;
	const char		*role, *key;
	char			*dir, **slot;
	size_t			 i;
	int			 ok = 0;

	if (scaffold_yaml_load(text, "", &doc, NULL) != 0)
		return 0;
	play = yaml_document_get_root_node(&doc);
	if (scaffold_yaml_len(play) != 1)
		goto out;
	play = scaffold_yaml_item(&doc, play, 0);
	roles = scaffold_yaml_get(&doc, play, "roles");
	vars = scaffold_yaml_get(&doc, play, "vars");
	if (scaffold_yaml_len(roles) != 1 || vars == NULL ||
	    vars->type != YAML_MAPPING_NODE)
		goto out;
	role = scaffold_role_name(&doc, scaffold_yaml_item(&doc, roles, 0));
	if (role == NULL || !scaffold_is_var(role))
		goto out;
	dir = xasprintf("%s/roles/%s", repo, role);
	ok = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(dir);
	if (!ok)
		goto out;
	for (pair = vars->data.mapping.pairs.start;
	    pair < vars->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(&doc, pair->key);
		v = yaml_document_get_node(&doc, pair->value);
		if ((key = scaffold_yaml_str(k)) == NULL || v == NULL ||
		    !scaffold_is_var(key))
			continue;
		for (i = 0; i < nitems(keys); i++) {
			slot = (char **)((char *)st + keys[i].offset);
			if (scaffold_ends(key, keys[i].suffix) &&
			    (int)v->type == keys[i].type && *slot == NULL)
				*slot = xstrdup(key);
		}
	}
	ok = st->image_var != NULL;
	if (ok)
		st->role = xstrdup(role);
out:
	yaml_document_delete(&doc);
	if (!ok)
		scaffold_style_clear(st);
	return ok;
}

/*
 * The first *-deploy.yml in dir (relative to repo) that deploys a
 * container through a role of the repository.  0 found, -1 none.
 */
static int
scaffold_find_style(const char *repo, const char *dir,
    struct scaffold_style *st)
{
	char	*full, **v, *path, *text;
	size_t	 i;
	int	 found = 0;

	memset(st, 0, sizeof *st);
	full = *dir != '\0' ? path_join(repo, dir) : xstrdup(repo);
	v = scaffold_list_yaml(full);
	for (i = 0; v[i] != NULL && !found; i++) {
		if (!scaffold_ends(v[i], "-deploy.yml") &&
		    !scaffold_ends(v[i], "-deploy.yaml"))
			continue;
		path = path_join(full, v[i]);
		if ((text = read_file(path, NULL)) != NULL &&
		    scaffold_style_of(repo, text, st)) {
			found = 1;
			st->exemplar = *dir != '\0' ? path_join(dir, v[i]) :
			    xstrdup(v[i]);
		}
		free(text);
		free(path);
	}
	scaffold_strv_free(v);
	free(full);
	return found ? 0 : -1;
}

/* The vars: lines of a playbook in style st.  Caller frees. */
static char *
scaffold_style_vars(const struct scaffold_style *st, const char *service,
    const char *image, const char *port)
{
	struct strbuf	sb = { 0 };

	if (st->name_var != NULL)
		strbuf_addf(&sb, "    %s: %s\n", st->name_var, service);
	strbuf_addf(&sb, "    %s: \"%s\"\n", st->image_var, image);
	if (st->ports_var != NULL)
		strbuf_addf(&sb, "    %s: [\"%s:%s\"]\n", st->ports_var, port,
		    port);
	else if (st->port_var != NULL)
		strbuf_addf(&sb, "    %s: %s\n", st->port_var, port);
	if (st->volumes_var != NULL)
		strbuf_addf(&sb, "    %s: [\"data:/data\"]\n", st->volumes_var);
	return strbuf_detach(&sb);
}

/* --- the site playbook -------------------------------------------------- */

/* Offsets of the starts of text's lines; *np lines.  Caller frees. */
static size_t *
scaffold_lines(const char *text, size_t *np)
{
	size_t	*off = NULL, n = 0, i;

	off = xmalloc(sizeof *off);
	off[n++] = 0;
	for (i = 0; text[i] != '\0'; i++) {
		if (text[i] == '\n' && text[i + 1] != '\0') {
			off = xreallocarray(off, n + 1, sizeof *off);
			off[n++] = i + 1;
		}
	}
	*np = n;
	return off;
}

/* Indentation of the line at p; -1 for a blank or comment-only line. */
static int
scaffold_indent(const char *p)
{
	int	n = 0;

	while (p[n] == ' ')
		n++;
	if (p[n] == '\n' || p[n] == '\0' || p[n] == '#' || p[n] == '\r')
		return -1;
	return n;
}

/* Append text's lines to sb, each prefixed with indent spaces. */
static void
scaffold_add_indented(struct strbuf *sb, const char *text, int indent)
{
	const char	*p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p)
			strbuf_addf(sb, "%*s", indent, "");
		strbuf_add(sb, p, (size_t)(nl - p));
		strbuf_addc(sb, '\n');
		p = *nl == '\n' ? nl + 1 : nl;
	}
}

char *
scaffold_site_insert(const char *text, const char *origin, const char *role,
    const char *entry, const char *play, const char *hosts, int listed_ok,
    char **hostsp, char **errp)
{
	yaml_document_t	 doc;
	yaml_node_t	*root, *p, *roles, *chosen = NULL, *last;
	struct strbuf	 sb = { 0 };
	const char	*h, *name;
	size_t		*off = NULL, nlines, i, j, n, line, end, at;
	int		 dash, ind;
	char		*out = NULL;

	*hostsp = NULL;
	if (scaffold_yaml_load(text, origin, &doc, errp) != 0)
		return NULL;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_SEQUENCE_NODE) {
		set_error(errp, "%s: not a playbook (a list of plays)", origin);
		goto out;
	}
	n = scaffold_yaml_len(root);
	for (i = 0; i < n; i++) {
		p = scaffold_yaml_item(&doc, root, i);
		roles = scaffold_yaml_get(&doc, p, "roles");
		for (j = 0; j < scaffold_yaml_len(roles); j++) {
			last = scaffold_yaml_item(&doc, roles, j);
			name = scaffold_role_name(&doc, last);
			if (name != NULL && strcmp(name, role) == 0 &&
			    listed_ok) {
				h = scaffold_yaml_str(scaffold_yaml_get(&doc,
				    p, "hosts"));
				*hostsp = xstrdup(h != NULL ? h : "all");
				out = xstrdup(text);
				goto out;
			}
			if (name != NULL && strcmp(name, role) == 0) {
				set_error(errp, "%s:%lu: role %s is already "
				    "listed", origin,
				    (unsigned long)last->start_mark.line + 1,
				    role);
				goto out;
			}
		}
		if (chosen != NULL || roles == NULL ||
		    roles->type != YAML_SEQUENCE_NODE)
			continue;
		h = scaffold_yaml_str(scaffold_yaml_get(&doc, p, "hosts"));
		if (hosts != NULL ? h != NULL && strcmp(h, hosts) == 0 :
		    scaffold_play_tagged(&doc, p))
			chosen = p;
	}
	if (chosen == NULL && hosts == NULL) {
		set_error(errp, "%s: no play lists tagged roles", origin);
		goto out;
	}
	if (chosen == NULL) {
		/* A group no play targets: a new play at the end. */
		strbuf_adds(&sb, text);
		if (sb.len > 0 && sb.buf[sb.len - 1] != '\n')
			strbuf_addc(&sb, '\n');
		strbuf_adds(&sb, play);
		if (sb.buf[sb.len - 1] != '\n')
			strbuf_addc(&sb, '\n');
		scaffold_add_indented(&sb, entry, 4);
		*hostsp = xstrdup(hosts);
		out = strbuf_detach(&sb);
		goto out;
	}
	roles = scaffold_yaml_get(&doc, chosen, "roles");
	if (roles->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE ||
	    scaffold_yaml_len(roles) == 0) {
		set_error(errp, "%s:%lu: the roles of this play are a flow "
		    "list ([...]); write them one per line to add a role",
		    origin, (unsigned long)roles->start_mark.line + 1);
		goto out;
	}
	*hostsp = xstrdup(scaffold_yaml_str(scaffold_yaml_get(&doc, chosen,
	    "hosts")) != NULL ? scaffold_yaml_str(scaffold_yaml_get(&doc,
	    chosen, "hosts")) : "all");
	last = scaffold_yaml_item(&doc, roles, scaffold_yaml_len(roles) - 1);
	off = scaffold_lines(text, &nlines);
	line = last->start_mark.line;
	if (line >= nlines || (dash = scaffold_indent(text + off[line])) < 0 ||
	    text[off[line] + (size_t)dash] != '-') {
		set_error(errp, "%s:%lu: cannot tell the indentation of the "
		    "last role entry", origin, (unsigned long)line + 1);
		goto out;
	}
	/* The entry's last line: more indented than its dash. */
	end = line;
	for (i = line + 1; i < nlines; i++) {
		ind = scaffold_indent(text + off[i]);
		if (ind < 0)
			continue;
		if (ind <= dash)
			break;
		end = i;
	}
	at = end + 1 < nlines ? off[end + 1] : strlen(text);
	strbuf_add(&sb, text, at);
	if (at > 0 && text[at - 1] != '\n')
		strbuf_addc(&sb, '\n');
	scaffold_add_indented(&sb, entry, dash);
	strbuf_adds(&sb, text + at);
	out = strbuf_detach(&sb);
out:
	free(off);
	strbuf_free(&sb);
	yaml_document_delete(&doc);
	if (out == NULL) {
		free(*hostsp);
		*hostsp = NULL;
	}
	return out;
}

/* --- diffs -------------------------------------------------------------- */

/* Split text into lines (without newlines).  Caller frees each. */
static char **
scaffold_split(const char *text, size_t *np)
{
	char		**v = NULL;
	size_t		 n = 0;
	const char	*p = text, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		v = xreallocarray(v, n + 1, sizeof *v);
		if (nl == NULL) {
			v[n++] = xstrdup(p);
			break;
		}
		v[n++] = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	*np = n;
	return v;
}

/*
 * A unified diff of old (NULL: a new file) to new with one hunk around
 * the changed region (the common prefix and suffix are context).
 */
static char *
scaffold_diff(const char *path, const char *old, const char *new)
{
	struct strbuf	 sb = { 0 };
	char		**a, **b;
	size_t		 na, nb, pre = 0, suf = 0, from, i, ea, eb;

	a = scaffold_split(old != NULL ? old : "", &na);
	b = scaffold_split(new, &nb);
	while (pre < na && pre < nb && strcmp(a[pre], b[pre]) == 0)
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	    strcmp(a[na - 1 - suf], b[nb - 1 - suf]) == 0)
		suf++;
	strbuf_addf(&sb, "--- %s%s\n+++ b/%s\n", old != NULL ? "a/" :
	    "/dev/null", old != NULL ? path : "", path);
	if (pre == na && pre == nb)
		goto out;
	from = pre > SCAFFOLD_DIFF_CONTEXT ? pre - SCAFFOLD_DIFF_CONTEXT : 0;
	ea = na - suf + (suf > SCAFFOLD_DIFF_CONTEXT ? SCAFFOLD_DIFF_CONTEXT :
	    suf);
	eb = nb - suf + (suf > SCAFFOLD_DIFF_CONTEXT ? SCAFFOLD_DIFF_CONTEXT :
	    suf);
	strbuf_addf(&sb, "@@ -%zu,%zu +%zu,%zu @@\n", ea > from ? from + 1 :
	    from, ea - from, eb > from ? from + 1 : from, eb - from);
	for (i = from; i < pre; i++)
		strbuf_addf(&sb, " %s\n", a[i]);
	for (i = pre; i < na - suf; i++)
		strbuf_addf(&sb, "-%s\n", a[i]);
	for (i = pre; i < nb - suf; i++)
		strbuf_addf(&sb, "+%s\n", b[i]);
	for (i = na - suf; i < ea; i++)
		strbuf_addf(&sb, " %s\n", a[i]);
out:
	for (i = 0; i < na; i++)
		free(a[i]);
	for (i = 0; i < nb; i++)
		free(b[i]);
	free(a);
	free(b);
	return strbuf_detach(&sb);
}

/* --- planning ----------------------------------------------------------- */

/* Read template name from the override directory, else the built-in one. */
static char *
scaffold_template(const struct scaffold_params *sp, const char *name,
    char **originp, char **errp)
{
	char	*path, *text;

	if (sp->template_dir != NULL) {
		path = path_join(sp->template_dir, name);
		if ((text = read_file(path, NULL)) != NULL) {
			*originp = path;
			return text;
		}
		if (errno != ENOENT) {
			set_error(errp, "%s: %s", path, strerror(errno));
			free(path);
			return NULL;
		}
		free(path);
	}
	path = path_join(sp->builtin_dir, name);
	if ((text = read_file(path, NULL)) == NULL) {
		set_error(errp, "template %s: %s: %s", name, path,
		    strerror(errno));
		free(path);
		return NULL;
	}
	*originp = path;
	return text;
}

/* Render template name with vars.  NULL with *errp. */
static char *
scaffold_render_file(const struct scaffold_params *sp, const char *name,
    const struct scaffold_var *vars, size_t nvars, char **errp)
{
	char	*text, *origin = NULL, *out;

	if ((text = scaffold_template(sp, name, &origin, errp)) == NULL)
		return NULL;
	out = scaffold_render(text, origin, vars, nvars, errp);
	free(text);
	free(origin);
	return out;
}

/* Check image and host group: only characters that need no quoting. */
static int
scaffold_check_value(const char *what, const char *v, const char *extra,
    size_t max, char **errp)
{
	const char	*p;

	if (*v == '\0')
		return set_error(errp, "the %s is empty", what);
	if (strlen(v) > max)
		return set_error(errp, "%s '%s': longer than %zu characters",
		    what, v, max);
	for (p = v; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr(extra, *p) == NULL)
			return set_error(errp, "%s '%s': character '%c' is "
			    "not allowed", what, v, isprint((unsigned char)*p) ?
			    *p : '?');
	}
	if (*v == '-')
		return set_error(errp, "%s '%s': it must not start with '-'",
		    what, v);
	return 0;
}

static void
scaffold_add_file(struct scaffold *s, const char *repo, char *path,
    char *content, int edit)
{
	struct scaffold_file	*f;
	char			*full;

	s->files = xreallocarray(s->files, s->nfiles + 1, sizeof *s->files);
	f = &s->files[s->nfiles++];
	memset(f, 0, sizeof *f);
	f->path = path;
	f->content = content;
	f->edit = edit;
	full = path_join(repo, path);
	f->old = read_file(full, NULL);
	free(full);
	f->diff = scaffold_diff(path, f->old, content);
}

/* Refuse files that exist (unless force) before anything is written. */
static int
scaffold_check_existing(const struct scaffold *s, int force, char **errp)
{
	struct strbuf	 sb = { 0 };
	size_t		 i, n = 0;

	for (i = 0; i < s->nfiles; i++) {
		if (s->files[i].edit || s->files[i].old == NULL)
			continue;
		strbuf_addf(&sb, "%s%s", n++ > 0 ? ", " : "",
		    s->files[i].path);
	}
	if (n > 0 && !force) {
		set_error(errp, "%s already exist%s; nothing was written (use "
		    "--force to overwrite)", sb.buf, n == 1 ? "s" : "");
		strbuf_free(&sb);
		return -1;
	}
	strbuf_free(&sb);
	return 0;
}

struct scaffold *
scaffold_plan(const struct scaffold_params *sp, char **errp)
{
	struct scaffold		*s, *done = NULL;
	struct scaffold_var	 vars[11];
	struct scaffold_style	 st = { 0 };
	const char		*layout;
	char			*site = NULL, *dir = NULL, *image = NULL;
	char			*path, *text, *entry = NULL, *play = NULL, *p;
	char			 port[16], *desc = NULL, *pbname = NULL;
	char			*rvars = NULL;
	size_t			 i, nvars = 0;

	s = xcalloc(1, sizeof *s);
	if ((s->service = scaffold_name(sp->service, errp)) == NULL)
		goto out;
	s->role = xstrdup(s->service);
	for (p = s->role; *p != '\0'; p++) {
		if (*p == '-')
			*p = '_';
	}
	if (!isalpha((unsigned char)s->role[0])) {
		set_error(errp, "service name '%s': Ansible role and variable "
		    "names must start with a letter", s->service);
		goto out;
	}
	if (sp->port < 0 || sp->port > 65535) {
		set_error(errp, "port %d: not between 1 and 65535", sp->port);
		goto out;
	}
	snprintf(port, sizeof port, "%d", sp->port > 0 ? sp->port :
	    SCAFFOLD_DEFAULT_PORT);
	image = sp->image != NULL ? xstrdup(sp->image) :
	    xasprintf("%s:latest", s->service);
	if (scaffold_check_value("image", image, "._/:@-", SCAFFOLD_IMAGE_MAX,
	    errp) != 0)
		goto out;
	if (sp->hosts != NULL && scaffold_check_value("host group",
	    sp->hosts, "_.-", SCAFFOLD_HOSTS_MAX, errp) != 0)
		goto out;
	if (sp->layout == NULL || strcmp(sp->layout, "auto") == 0) {
		if ((layout = scaffold_layout(sp->repo, &site, &dir,
		    errp)) == NULL)
			goto out;
	} else if (strcmp(sp->layout, "per-service") == 0) {
		layout = "per-service";
		dir = xstrdup("");
	} else if (strcmp(sp->layout, "site") == 0) {
		layout = scaffold_layout(sp->repo, &site, &dir, errp);
		if (layout == NULL)
			goto out;
		if (site == NULL) {
			set_error(errp, "%s: layout \"site\" asked for, but no "
			    "playbook lists tagged roles", sp->repo);
			goto out;
		}
		layout = "site";
	} else {
		set_error(errp, "layout '%s': not one of auto, per-service, "
		    "site", sp->layout);
		goto out;
	}
	s->layout = xstrdup(layout);
	desc = xasprintf("Deploy %s as a container (generated by chiffon)",
	    s->service);
	pbname = xasprintf("%s-deploy.yml", s->service);
	vars[nvars++] = (struct scaffold_var){ "service", s->service };
	vars[nvars++] = (struct scaffold_var){ "role", s->role };
	vars[nvars++] = (struct scaffold_var){ "port", port };
	vars[nvars++] = (struct scaffold_var){ "image", image };
	vars[nvars++] = (struct scaffold_var){ "description", desc };
	vars[nvars++] = (struct scaffold_var){ "playbook", pbname };
	if (strcmp(layout, "per-service") == 0) {
		s->hosts = xstrdup(sp->hosts != NULL ? sp->hosts : "all");
		vars[nvars++] = (struct scaffold_var){ "hosts", s->hosts };
		s->playbook = *dir != '\0' ? path_join(dir, pbname) :
		    xstrdup(pbname);
		if ((sp->style == NULL || strcmp(sp->style, "auto") == 0) &&
		    scaffold_find_style(sp->repo, dir, &st) == 0) {
			/* Like the repository's own container playbooks. */
			s->style = xasprintf("role %s, like %s", st.role,
			    st.exemplar);
			s->container_role = xstrdup(st.role);
			rvars = scaffold_style_vars(&st, s->service, image,
			    port);
			vars[nvars++] = (struct scaffold_var){ "container_role",
			    st.role };
			vars[nvars++] = (struct scaffold_var){ "role_vars",
			    rvars };
			vars[nvars++] = (struct scaffold_var){ "exemplar",
			    st.exemplar };
			text = scaffold_render_file(sp, SCAFFOLD_PLAYBOOK_ROLE,
			    vars, nvars, errp);
		} else {
			s->style = xstrdup("builtin");
			text = scaffold_render_file(sp, SCAFFOLD_PLAYBOOK, vars,
			    nvars, errp);
		}
		if (text == NULL)
			goto out;
		scaffold_add_file(s, sp->repo, xstrdup(s->playbook), text, 0);
	} else {
		s->playbook = xstrdup(site);
		vars[nvars++] = (struct scaffold_var){ "hosts",
		    sp->hosts != NULL ? sp->hosts : "all" };
		if ((entry = scaffold_render_file(sp, SCAFFOLD_SITE_ENTRY,
		    vars, nvars, errp)) == NULL ||
		    (play = scaffold_render_file(sp, SCAFFOLD_SITE_PLAY, vars,
		    nvars, errp)) == NULL)
			goto out;
		path = path_join(sp->repo, site);
		if ((text = read_file(path, NULL)) == NULL) {
			set_error(errp, "%s: %s", path, strerror(errno));
			free(path);
			goto out;
		}
		p = scaffold_site_insert(text, path, s->role, entry, play,
		    sp->hosts, sp->force, &s->hosts, errp);
		free(path);
		if (p == NULL) {
			free(text);
			goto out;
		}
		/* With --force a role already listed keeps its entry. */
		if (strcmp(p, text) != 0)
			scaffold_add_file(s, sp->repo, xstrdup(site), p, 1);
		else
			free(p);
		free(text);
		vars[nvars - 1].value = s->hosts;
		for (i = 0; i < nitems(scaffold_role_files); i++) {
			if ((text = scaffold_render_file(sp,
			    scaffold_role_files[i].tmpl, vars, nvars,
			    errp)) == NULL)
				goto out;
			scaffold_add_file(s, sp->repo, xasprintf(
			    scaffold_role_files[i].dest, s->role), text, 0);
		}
	}
	if (scaffold_check_existing(s, sp->force, errp) != 0)
		goto out;
	s->commit = xcalloc(s->nfiles + 1, sizeof *s->commit);
	for (i = 0; i < s->nfiles; i++)
		s->commit[i] = xstrdup(s->files[i].path);
	done = s;
	s = NULL;
out:
	free(site);
	free(dir);
	free(image);
	free(entry);
	free(play);
	free(desc);
	free(pbname);
	free(rvars);
	scaffold_style_clear(&st);
	scaffold_free(s);
	return done;
}

void
scaffold_free(struct scaffold *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].content);
		free(s->files[i].old);
		free(s->files[i].diff);
	}
	free(s->files);
	scaffold_strv_free(s->commit);
	for (i = 0; i < s->nmade_dirs; i++)
		free(s->made_dirs[i]);
	free(s->made_dirs);
	free(s->service);
	free(s->role);
	free(s->layout);
	free(s->style);
	free(s->container_role);
	free(s->playbook);
	free(s->hosts);
	free(s);
}

/* --- writing ------------------------------------------------------------ */

/* Write content to path atomically (temporary file + rename).  0 or -1. */
static int
scaffold_write_file(const char *path, const char *content, char **errp)
{
	char	*tmp, *slash;
	size_t	 len = strlen(content), done = 0;
	ssize_t	 w;
	int	 fd, e;

	slash = strrchr(path, '/');
	tmp = xasprintf("%.*s/.%s.chiffon-XXXXXX", (int)(slash - path), path,
	    slash + 1);
	if ((fd = mkstemp(tmp)) < 0) {
		e = errno;
		set_error(errp, "%s: %s", tmp, strerror(e));
		free(tmp);
		return -1;
	}
	while (done < len) {
		if ((w = write(fd, content + done, len - done)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)w;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	set_error(errp, "%s: %s", path, strerror(e));
	free(tmp);
	return -1;
}

/* Create the missing parents of path, remembering them for rollback. */
static int
scaffold_parents(struct scaffold *s, const char *path, char **errp)
{
	struct stat	 sb;
	char		*dir, *p;

	dir = xstrdup(path);
	for (p = strchr(dir + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (stat(dir, &sb) != 0) {
			if (mkdir(dir, 0755) != 0) {
				set_error(errp, "%s: %s", dir,
				    strerror(errno));
				free(dir);
				return -1;
			}
			s->made_dirs = xreallocarray(s->made_dirs,
			    s->nmade_dirs + 1, sizeof *s->made_dirs);
			s->made_dirs[s->nmade_dirs++] = xstrdup(dir);
		} else if (!S_ISDIR(sb.st_mode)) {
			set_error(errp, "%s: not a directory", dir);
			free(dir);
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

int
scaffold_write(struct scaffold *s, const char *repo, int force, char **errp)
{
	struct scaffold_file	*f;
	char			*full, *now;
	size_t			 i;
	int			 same;

	/* Everything is checked again, then written. */
	for (i = 0; i < s->nfiles; i++) {
		f = &s->files[i];
		full = path_join(repo, f->path);
		now = read_file(full, NULL);
		free(full);
		same = (now == NULL && f->old == NULL) || (now != NULL &&
		    f->old != NULL && strcmp(now, f->old) == 0);
		free(now);
		if (!same)
			return set_error(errp, "%s changed since the files "
			    "were computed; nothing was written", f->path);
		if (f->old != NULL && !f->edit && !force)
			return set_error(errp, "%s already exists; nothing was "
			    "written (use --force to overwrite)", f->path);
	}
	s->nwritten = 0;
	for (i = 0; i < s->nfiles; i++) {
		f = &s->files[i];
		full = path_join(repo, f->path);
		if (scaffold_parents(s, full, errp) != 0 ||
		    scaffold_write_file(full, f->content, errp) != 0) {
			free(full);
			scaffold_rollback(s, repo);
			return -1;
		}
		free(full);
		s->nwritten = i + 1;
	}
	return 0;
}

void
scaffold_rollback(struct scaffold *s, const char *repo)
{
	struct scaffold_file	*f;
	char			*full;
	size_t			 i;

	for (i = s->nwritten; i > 0; i--) {
		f = &s->files[i - 1];
		full = path_join(repo, f->path);
		if (f->old != NULL)
			(void)scaffold_write_file(full, f->old, NULL);
		else
			(void)unlink(full);
		free(full);
	}
	s->nwritten = 0;
	for (i = s->nmade_dirs; i > 0; i--) {
		(void)rmdir(s->made_dirs[i - 1]);
		free(s->made_dirs[i - 1]);
	}
	s->nmade_dirs = 0;
}

json_object *
scaffold_json(const struct scaffold *s, int contents)
{
	json_object	*o, *files, *f;
	char		 hex[SHA256_HEX_LEN + 1];
	size_t		 i;

	o = json_object_new_object();
	json_object_object_add(o, "service",
	    json_object_new_string(s->service));
	json_object_object_add(o, "role", json_object_new_string(s->role));
	json_object_object_add(o, "layout", json_object_new_string(s->layout));
	json_object_object_add(o, "style", json_object_new_string(
	    s->style != NULL ? s->style : "builtin"));
	json_object_object_add(o, "playbook",
	    json_object_new_string(s->playbook));
	json_object_object_add(o, "hosts", json_object_new_string(s->hosts));
	files = json_object_new_array();
	for (i = 0; i < s->nfiles; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "path",
		    json_object_new_string(s->files[i].path));
		json_object_object_add(f, "action", json_object_new_string(
		    s->files[i].edit ? "edit" : s->files[i].old != NULL ?
		    "overwrite" : "create"));
		json_object_object_add(f, "diff",
		    json_object_new_string(s->files[i].diff));
		/* What the file holds once written: a plan step that runs
		 * the generated playbook is bound to it (approve-hash.c). */
		sha256_hex(s->files[i].content, strlen(s->files[i].content),
		    hex);
		json_object_object_add(f, "sha256",
		    json_object_new_string(hex));
		if (contents)
			json_object_object_add(f, "content",
			    json_object_new_string(s->files[i].content));
		json_object_array_add(files, f);
	}
	json_object_object_add(o, "files", files);
	return o;
}
