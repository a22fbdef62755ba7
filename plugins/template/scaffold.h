/*
 * scaffold.h - the template plugin's host-independent part: service
 * names, the @@name@@ template substitution, the repository's layout,
 * the files a new service needs in that layout, and writing them.
 *
 * Nothing here touches the host API, so tests/check_template.c drives
 * it directly.  template.c is the glue that turns it into capabilities
 * and validates the result with ansible-playbook and ansible-lint.
 *
 * Layouts (detected by scaffold_layout, overridable by params->layout):
 *   "site"         a top-level playbook (site.yml first) whose plays list
 *                  roles: entries carrying tags.  A new service is a role
 *                  roles/ROLE/{tasks,handlers,defaults,meta}/main.yml,
 *                  templates/, README.md, and its entry (with its tag)
 *                  inserted as text after the last role entry of the play
 *                  for the host group, so comments and order stay.
 *   "per-service"  everything else: one SERVICE-deploy.yml per service,
 *                  beside the existing *-deploy.yml playbooks (the top of
 *                  the repository, else playbooks/), with
 *                  "# chiffon:service=" / "# chiffon:description=" header.
 *                  When one of those deploys a container through one role
 *                  of the repository with an *_image variable (the demo
 *                  homelab's compose_app), the new playbook does the same
 *                  with that role and variable names (style "role R, like
 *                  P"); otherwise it carries the built-in compose tasks.
 */
#ifndef CHIFFON_SCAFFOLD_H
#define CHIFFON_SCAFFOLD_H

#include <stddef.h>

struct json_object;

/* Longest accepted service name (after normalisation). */
#define SCAFFOLD_NAME_MAX	64
/* Default container port when none is given. */
#define SCAFFOLD_DEFAULT_PORT	8080

/*
 * What to generate.  builtin_dir is the plugin's own template directory;
 * template_dir (may be NULL) is the admin's override directory, looked up
 * first, file by file.  layout NULL or "auto": detect.
 */
struct scaffold_params {
	const char	*service;	/* as typed; normalised */
	int		 port;		/* 0: SCAFFOLD_DEFAULT_PORT */
	const char	*image;		/* NULL: SERVICE:latest */
	const char	*hosts;		/* host group; NULL: see layouts */
	const char	*repo;		/* the Ansible repository */
	const char	*builtin_dir;
	const char	*template_dir;
	const char	*layout;
	const char	*style;		/* NULL or "auto": the repo's
					   container role if any; "builtin" */
	int		 force;		/* overwrite existing files */
};

/* One file to write, relative to the repository. */
struct scaffold_file {
	char	*path;
	char	*content;	/* the new content */
	char	*old;		/* the existing content, NULL if new */
	char	*diff;		/* unified diff old -> content */
	int	 edit;		/* an edit of an existing file (the site
				   playbook), not a new file */
};

/* A computed scaffold: nothing is written until scaffold_write. */
struct scaffold {
	char			*service;	/* normalised name */
	char			*role;		/* ROLE: '-' as '_' */
	char			*layout;	/* "site" or "per-service" */
	char			*style;		/* "builtin", "role R, like P" */
	char			*container_role; /* R, or NULL */
	char			*playbook;	/* the playbook that runs it */
	char			*hosts;		/* host group used */
	struct scaffold_file	*files;
	size_t			 nfiles;
	char			**commit;	/* to commit, NULL-ended */
	/* Rollback state, filled by scaffold_write. */
	char			**made_dirs;	/* directories created */
	size_t			 nmade_dirs;
	size_t			 nwritten;	/* files[0..nwritten) written */
};

/* A named value for scaffold_render. */
struct scaffold_var {
	const char	*name;
	const char	*value;
};

/*
 * Normalise a service name: lowercase, spaces and underscores to dashes,
 * then only [a-z0-9-].  Empty names, path separators, "..", a leading
 * dash and names over SCAFFOLD_NAME_MAX characters are refused.  Returns
 * the name (caller frees) or NULL with *errp saying why.
 */
char		*scaffold_name(const char *in, char **errp);

/*
 * Render tmpl: each @@NAME@@ (NAME of [a-z_]) becomes the value of the
 * var called NAME, "@@@@" a literal "@@"; anything else between @@ is
 * refused, as is an unknown NAME, with origin:LINE in *errp.  Values are
 * inserted as they are, never interpreted.  Returns the text (caller
 * frees) or NULL.
 */
char		*scaffold_render(const char *tmpl, const char *origin,
		    const struct scaffold_var *vars, size_t nvars,
		    char **errp);

/*
 * The layout of repo: "site" (with *sitep the site playbook, relative) or
 * "per-service" (with *dirp the directory of the playbooks, "" for the
 * top).  Returns the layout (static) or NULL with *errp.
 */
const char	*scaffold_layout(const char *repo, char **sitep, char **dirp,
		    char **errp);

/*
 * Insert entry (the rendered role entry: lines starting at column 0,
 * "- role: ..." first) for role into the site playbook text (origin
 * names it in errors), indented like its neighbours, after the last role
 * entry of the play for hosts (NULL: the first play with tagged roles;
 * *hostsp, caller frees, gets the play's hosts).  A group no play
 * targets gets play (the rendered new-play head, ending in "roles:") and
 * the entry at the end.  Returns the new text, or NULL with *errp (a
 * flow-style roles list, the role already listed unless listed_ok,
 * YAML that does not parse, no play with tagged roles).  With listed_ok
 * a role already listed returns text unchanged.
 */
char		*scaffold_site_insert(const char *text, const char *origin,
		    const char *role, const char *entry, const char *play,
		    const char *hosts, int listed_ok, char **hostsp,
		    char **errp);

/* Compute the files for params.  NULL with *errp.  Free with scaffold_free. */
struct scaffold	*scaffold_plan(const struct scaffold_params *, char **errp);
void		 scaffold_free(struct scaffold *);

/*
 * Write the files under repo, each atomically (a temporary file in the
 * same directory, fsync, rename).  A file that appeared since the plan
 * (or that existed, without force) is refused before anything is
 * written.  On failure what was written is rolled back.  0 or -1.
 */
int		 scaffold_write(struct scaffold *, const char *repo, int force,
		    char **errp);
/* Undo scaffold_write: restore old contents, remove new files and dirs. */
void		 scaffold_rollback(struct scaffold *, const char *repo);

/* {service, role, layout, playbook, hosts, files:[{path, action, diff}]}.
 * Caller puts. */
struct json_object *scaffold_json(const struct scaffold *, int contents);

#endif
