/*
 * match.h - matching a task ("deploy uptime kuma") to a playbook of the
 * catalog.  Pure functions over an in-memory catalog: no host, no
 * database (the cached-mapping step is a callback).
 *
 * Order: exact (a service name or alias appears as words in the text,
 * the action picks among the service's playbooks), then a cached mapping
 * (callback), then lexical similarity (BM25 over service, aliases, file
 * name, description, tags and task names, with typo tolerance).  Below
 * MATCH_THRESHOLD there is no match; the three best candidates are
 * offered instead.  See match.c for the confidence formula.
 */
#ifndef CHIFFON_INFRA_MATCH_H
#define CHIFFON_INFRA_MATCH_H

#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "catalog.h"

#define MATCH_THRESHOLD		0.5
#define MATCH_MAPPING_MIN	0.85
#define MATCH_NCANDIDATES	3

enum match_method {
	MATCH_NONE = 0,
	MATCH_EXACT,
	MATCH_MAPPING,
	MATCH_LEXICAL,
};

struct match_index;

/* One ranked playbook. */
struct match_candidate {
	size_t	index;		/* into the catalog's playbooks */
	ssize_t	service;	/* into its services, -1: the whole */
	double	confidence;	/* [0,1] */
	double	score;		/* raw BM25 score */
};

/* The answer to one query. */
struct match_result {
	enum match_method	method;		/* MATCH_NONE: no match */
	ssize_t			index;		/* matched playbook or -1 */
	ssize_t			service;	/* its service, -1: whole */
	double			confidence;
	const char		*action;	/* canonical action used */
	int			 by_path;	/* a playbook named by path */
	struct match_candidate	cand[MATCH_NCANDIDATES];
	size_t			ncand;
};

/*
 * The cached-mapping step: given the normalized phrase (match_phrase),
 * return the index of the mapped playbook with *confidencep set, or -1;
 * *servicep (owned by the callee until the next call) may name the
 * service inside it, else NULL for the whole playbook.
 */
typedef ssize_t	(*match_mapping_fn)(const char *phrase, double *confidencep,
		    const char **servicep, void *data);

/* A query. */
struct match_query {
	const char			*text;
	const char			*action;	/* or NULL: from text */
	/*
	 * Inventory host and group names: a word naming one right after
	 * "on", "to", "at", "from" or "across" (optionally followed by
	 * "all", "the", "every", "my") is a target, not a service.
	 */
	const struct catalog_list	*targets;
	match_mapping_fn		 mapping;
	void				*mapping_data;
};

/*
 * Index the catalog's playbooks.  The catalog must outlive the index and
 * not change while it exists.  Caller frees.
 */
struct match_index	*match_index_new(const struct catalog *);
void			 match_index_free(struct match_index *);
/*
 * Point the index at another catalog holding the same playbooks in the
 * same order (a refresh that changed nothing).
 */
void			 match_index_rebind(struct match_index *,
			    const struct catalog *);
/* Run a query.  Always fills *res (method MATCH_NONE when no match). */
void			 match_run(const struct match_index *,
			    const struct match_query *, struct match_result *);
/* The canonical action a word or two-word phrase stands for, or NULL. */
const char		*match_action(const char *word);
/*
 * The normalized phrase of a query, the key of playbook_mappings:
 * "ACTION: token token ..." (lowercase, stemmed, stop words and
 * targets dropped).  Caller frees.
 */
char			*match_phrase(const struct match_query *);
const char		*match_method_name(enum match_method);
/* The result as {"match": {...} | null, "candidates": [...], ...}. */
json_object		*match_result_json(const struct catalog *,
			    const struct match_result *, const char *phrase);

#endif
