/*
 * catalog.h - the playbook catalog of an Ansible repository, independent
 * of the host: scanning the repository, incremental refresh against a
 * previous catalog, and the JSON form.  infra-catalog.c stores it in the
 * database and serves it as capabilities; match.c ranks it.
 */
#ifndef CHIFFON_INFRA_CATALOG_H
#define CHIFFON_INFRA_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "sha256.h"

/* A growable list of owned strings. */
struct catalog_list {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
void	 catalog_list_add(struct catalog_list *, const char *);
/* Add unless already present (exact comparison).  Returns 1 if added. */
int	 catalog_list_add_unique(struct catalog_list *, const char *);
int	 catalog_list_has(const struct catalog_list *, const char *);
/* Split s at sep, trim blanks, add the non-empty parts (unique). */
void	 catalog_list_split(struct catalog_list *, const char *s, int sep);
json_object *catalog_list_json(const struct catalog_list *);
/* The strings joined by sep ("" for none).  Caller frees. */
char	*catalog_list_join(const struct catalog_list *, const char *sep);
/* Add the strings of a JSON array (other elements are ignored). */
void	 catalog_list_from_json(struct catalog_list *, json_object *);
void	 catalog_list_free(struct catalog_list *);

/* Where a playbook in a refreshed catalog came from. */
enum catalog_state {
	CATALOG_PARSED = 0,	/* new or changed: parsed now */
	CATALOG_TOUCHED,	/* mtime or size changed, same hash */
	CATALOG_UNCHANGED,	/* same mtime and size: taken from the cache */
};

/*
 * A service inside a playbook: a role, an imported playbook, a feature
 * task file, an app of an include loop or a tag, with what selects it.
 */
struct catalog_service {
	char			*name;
	const char		*kind;		/* "role", "import", "feature",
						   "app", "tag" (static) */
	struct catalog_list	 tags;		/* --tags selecting it */
	char			*toggle;	/* variable switching it on */
	char			*hosts;		/* its play's hosts pattern */
	char			*via;		/* imported playbook or task
						   file (relative), or NULL */
	char			*listvar;	/* app: the loop's list */
	const char		*action;	/* import: the file's action */
	char			*when;		/* parsing only: when: var */
	char			*file;		/* parsing only: raw include */
};

/* Flags of a playbook that matter before a run. */
#define CATALOG_BECOME		0x1	/* become: true somewhere */
#define CATALOG_VARS_PROMPT	0x2	/* vars_prompt: asks on the tty */
#define CATALOG_VAULT		0x4	/* vars_files or vars vault-encrypted */

/* One playbook: a YAML file whose top level is a list of plays. */
struct playbook {
	char			*path;		/* relative to the repo */
	char			*service;	/* from the file name or
						   # chiffon:service= */
	const char		*action;	/* canonical action from the
						   file name suffix, or NULL */
	char			*description;	/* # chiffon:description= */
	struct catalog_list	 aliases;	/* # chiffon:aliases=a,b */
	char			*needs;		/* # chiffon:needs=gpu:8GB */
	char			*hosts;		/* hosts patterns, ", " joined */
	struct catalog_list	 tags;		/* play and task tags */
	char			*vars_json;	/* play vars: names (values null)
						   but booleans, lists of
						   names, chiffon_resources */
	struct catalog_service	*services;
	size_t			 nservices;
	struct catalog_list	 variables;	/* names the playbook and its
						   roles declare */
	struct catalog_list	 imports;	/* imported playbooks */
	struct catalog_list	 vars_files;	/* parsing only */
	struct catalog_list	 requires;	/* requirements not installed */
	int			 flags;		/* CATALOG_* */
	int			 generic;	/* the file name is no service */
	int			 nplays;
	struct catalog_list	 roles;		/* roles used */
	struct catalog_list	 tasks;		/* task names, roles' included */
	char			 sha256[SHA256_HEX_LEN + 1];
	int64_t			 size;
	int64_t			 mtime_us;	/* file mtime, microseconds */
	int64_t			 refreshed_us;	/* when last parsed/verified */
	int64_t			 id;		/* database id, 0 if unknown */
	enum catalog_state	 state;
};

/* A role under the roles path and its tasks/main.yml. */
struct catalog_role {
	char			*name;
	char			*dir;		/* absolute */
	char			*tasks_file;	/* absolute, or NULL */
	int64_t			 mtime_us;	/* newest of tasks, defaults */
	int			 loaded;	/* tasks parsed in this scan */
	struct catalog_list	 tasks;
	struct catalog_list	 defaults;	/* defaults/main.yml names */
	struct json_object	*lists;		/* defaults that are lists */
	struct playbook		*parts;		/* tasks/main.yml's tagged
						   import_tasks (services) */
};

/* A YAML file that is not a playbook, remembered to skip it next time. */
struct catalog_file {
	char	*path;			/* relative to the repo */
	int64_t	 mtime_us;
	int64_t	 size;
	char	*reason;		/* why it is not used, or NULL
					   when a playbook includes it */
};

/* A file that looked like a playbook but could not be used. */
struct catalog_skip {
	char	*path;			/* relative to the repo */
	char	*reason;		/* "FILE:LINE:COL: ..." */
};

/* Counters of one scan. */
struct catalog_stats {
	unsigned	files;		/* *.yml / *.yaml files seen */
	unsigned	playbooks;
	unsigned	parsed;		/* playbooks parsed (new or changed) */
	unsigned	touched;	/* hashed, same content */
	unsigned	unchanged;	/* taken from the cache untouched */
	unsigned	removed;	/* in the cache, gone from the repo */
	unsigned	skipped;
	unsigned	other;		/* YAML files that are not playbooks */
};

/* A whole catalog.  Playbooks are sorted by path. */
struct catalog {
	char			 *repo;
	char			 *inventory;	/* ansible.cfg's inventory */
	struct playbook		**playbooks;
	size_t			  nplaybooks;
	size_t			  cap;
	struct catalog_role	 *roles;
	size_t			  nroles;
	struct catalog_skip	 *skipped;
	size_t			  nskipped;
	struct catalog_list	  removed;	/* paths gone since the cache */
	struct catalog_file	 *others;	/* YAML files, not playbooks,
						   sorted by path */
	size_t			  nothers;
	struct catalog_list	  variables;	/* names group_vars/host_vars
						   declare */
	struct catalog_list	  requirements;	/* requirements.yml roles and
						   collections not installed */
	char			 *requirements_file;
	struct catalog_stats	  stats;
};

struct catalog	*catalog_new(const char *repo);
void		 catalog_free(struct catalog *);
struct playbook	*catalog_playbook_new(const char *path);
void		 catalog_playbook_free(struct playbook *);
/* Add a playbook (takes ownership); catalog_sort restores the order. */
void		 catalog_add(struct catalog *, struct playbook *);
void		 catalog_sort(struct catalog *);
/* Binary search by path; NULL (or -1) if absent. */
struct playbook	*catalog_find(const struct catalog *, const char *path);
ssize_t		 catalog_index(const struct catalog *, const char *path);

/*
 * Scan repo.  With a cache (a previous catalog of the same repo, or one
 * loaded from the database), files whose mtime and size are unchanged are
 * not read: their entries are moved out of the cache into the result
 * (so the cache must be freed afterwards, never reused).  Files whose
 * mtime changed but whose hash did not are only re-stamped; others are
 * parsed.  Paths in the cache that are gone are listed in ->removed.
 * Returns 0 with *outp set, or -1 with *errp set when repo is unusable.
 * Per-file problems (YAML errors) do not fail the scan: they are listed
 * in ->skipped.
 */
int		 catalog_scan(const char *repo, struct catalog *cache,
		    struct catalog **outp, char **errp);
/*
 * The same, following symlinks out of the repository into the
 * directories of allow (colon-separated, may be NULL); any other link
 * out is skipped with a reason, and a directory reached twice (a loop)
 * is walked once.
 */
int		 catalog_scan_allowing(const char *repo, struct catalog *cache,
		    const char *allow, struct catalog **outp, char **errp);

/* Service and canonical action from a file name ("kuma-deploy.yml"). */
char		*catalog_service_name(const char *path, const char **actionp);
/* The canonical action for a word ("install" -> "deploy") or NULL. */
const char	*catalog_action_word(const char *word, size_t len);
/* Non-zero if a name ("main", "site", "03_") is no service on its own. */
int		 catalog_generic_name(const char *name);
/* The service of a playbook, or NULL; and of a unit (svc may be -1). */
const struct catalog_service *catalog_playbook_service(
		    const struct playbook *, ssize_t svc);

/* The value of key in [defaults] of repo/ansible.cfg, or NULL.  Frees. */
char		*catalog_cfg_get(const char *repo, const char *key);

/* Largest YAML file read (bigger ones are skipped with a reason). */
#define CATALOG_MAX_FILE	(4 * 1024 * 1024)

/* JSON: one playbook, and {playbooks, roles, skipped, stats}. */
json_object	*catalog_playbook_json(const struct playbook *);
json_object	*catalog_json(const struct catalog *);
/* Fill a playbook from its JSON form (as produced above).  0 or -1. */
int		 catalog_playbook_from_json(struct playbook *, json_object *);
/* Services, variables, imports, requires, flags from the JSON form. */
void		 catalog_playbook_detail_from_json(struct playbook *,
		    json_object *);

/* Microseconds since the epoch (wall clock). */
int64_t		 catalog_now_us(void);

#endif
