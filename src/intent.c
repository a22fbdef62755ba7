/*
 * intent.c - the deterministic request parser.
 *
 * The request is lowercased and cut into words; separators ("and", "then",
 * ",", ";") cut it into clauses.  In each clause the parser looks for an
 * action (a phrase from intent_action_table), services (catalog names and
 * aliases, multi-word aliases in any order, single words with a small
 * edit distance for typos), targets (inventory hosts and groups, "homelab"
 * and "everywhere" for all), parameters ("version 1.23", "port 3001",
 * "tag X") and check mode ("dry run").  A clause without an action takes
 * the previous clause's action; one without a service takes the previous
 * service ("deploy kuma and add existing portals to config").  Whatever
 * stays unplaced becomes a question in "ambiguities" or goes to
 * "out_of_scope": nothing is guessed silently.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "actions.h"
#include "intent.h"
#include "util.h"

/* Words that join clauses. */
static const char *const intent_separators[] = {
	"and", "then", "also", "plus", "afterwards", "after", ",", ";", "&",
	NULL
};

/* Words naming the whole inventory. */
static const char *const intent_all_words[] = {
	"homelab", "home-lab", "everywhere", "everything", "all", "lab",
	"cluster", NULL
};

/* Words that carry no content of their own. */
static const char *const intent_stop_words[] = {
	"the", "a", "an", "to", "on", "onto", "in", "into", "for", "my",
	"our", "of", "with", "please", "hosts", "host", "servers", "server",
	"machines", "machine", "boxes", "box", "nodes", "node", "it", "this",
	"that", "me", "can", "you", "i", "we", "want", "would", "like",
	"could", "should", "make", "sure", "up", "is", "are", "be", "at",
	"across", "from", "now", "again", "its", "their", "service",
	"services", "app", "container", "containers", "stack", "run",
	"running", "do", "go", "ahead", "kindly", "just", "via", "using",
	"instance", "version", "port", "tag", "tags", "dry", "mode", "by",
	"latest", "current", "role", "roles", "playbook", "playbooks",
	"called", "named", NULL
};

/* Words that make "all" mean every host. */
static const char *const intent_host_words[] = {
	"hosts", "host", "machines", "servers", "nodes", "boxes", "of",
	"the", NULL
};

/* Prepositions after which a word names a target. */
static const char *const intent_target_preps[] = {
	"on", "to", "onto", "at", "across", "in", NULL
};

/* A word of the request and what the parser made of it. */
struct intent_word {
	char	*text;
	int	 used;		/* consumed by an action/service/target/param */
};

/* One clause: a range of words. */
struct intent_clause {
	struct intent_word	*w;
	size_t			 n;
};

/* State across clauses. */
struct intent_state {
	const struct intent_vocab	*vocab;
	json_object			*intents;
	json_object			*ambiguities;
	json_object			*out_of_scope;
	json_object			*notes;
	const char			*last_action;
	const char			*last_service;
	json_object			*last_intent;
};

/* A new JSON string from a format. */
static json_object * __attribute__((format(printf, 1, 2)))
intent_strf(const char *fmt, ...)
{
	json_object	*o;
	va_list		 ap;
	char		*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	o = json_object_new_string(s);
	free(s);
	return o;
}

/*
 * A word of the request matches a name with one typo from
 * INTENT_TYPO_MIN bytes, two from INTENT_TYPO_LONG (str_typo_budget).
 */
#define INTENT_TYPO_MIN		4
#define INTENT_TYPO_LONG	8

/*
 * Append word (taking ownership); "uptime-kuma" and "docker_hosts" become
 * two words each so they match names however the user joins them.
 */
static struct intent_word *
intent_push_word(struct intent_word *w, size_t *np, char *word)
{
	char	*p;

	if (isalpha((unsigned char)word[0]) && strchr(word, '=') == NULL &&
	    (p = strpbrk(word, "-_")) != NULL && p[1] != '\0') {
		*p = '\0';
		w = intent_push_word(w, np, xstrdup(word));
		w = intent_push_word(w, np, xstrdup(p + 1));
		free(word);
		return w;
	}
	w = xreallocarray(w, *np + 1, sizeof *w);
	w[(*np)++] = (struct intent_word){ word, 0 };
	return w;
}

/*
 * Cut text into lowercase words.  Letters, digits and ".-_/:" stay inside
 * words; "," ";" "&" are words of their own; everything else separates.
 */
static struct intent_word *
intent_split(const char *text, size_t *np)
{
	struct intent_word	*w = NULL;
	struct strbuf		 cur = { 0 };
	size_t			 n = 0;
	const unsigned char	*p;

	for (p = (const unsigned char *)text; ; p++) {
		int c = *p;
		int inword = c != '\0' && (isalnum(c) || c >= 0x80 ||
		    (cur.len > 0 && strchr(".-_/:'=", c) != NULL));

		if (inword) {
			strbuf_addc(&cur, (char)tolower(c));
			continue;
		}
		if (cur.len > 0) {
			/* Trailing punctuation is not part of a word. */
			while (cur.len > 0 &&
			    strchr(".-_/:'", cur.buf[cur.len - 1]) != NULL)
				cur.buf[--cur.len] = '\0';
			/* "kuma's" -> "kuma" */
			if (cur.len > 2 && cur.buf[cur.len - 2] == '\'' &&
			    cur.buf[cur.len - 1] == 's')
				cur.buf[cur.len -= 2] = '\0';
			w = intent_push_word(w, &n, strbuf_detach(&cur));
		}
		if (c == ',' || c == ';' || c == '&') {
			char sep[2] = { (char)c, '\0' };
			w = intent_push_word(w, &n, xstrdup(sep));
		}
		if (c == '\0')
			break;
	}
	strbuf_free(&cur);
	*np = n;
	return w;
}

/* Lowercase copy with '-' and '_' turned into spaces.  Caller frees. */
static char *
intent_normalise(const char *s)
{
	char	*copy = xstrdup(s), *p;

	for (p = copy; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (*p == '-' || *p == '_')
			*p = ' ';
	}
	return copy;
}

/*
 * Does the clause contain every word of phrase (any order)?  Marks them
 * used when mark is set.  typos allows a small edit distance on long words.
 * Returns the number of words matched, 0 when not all were found.
 */
static size_t
intent_match_phrase(struct intent_clause *cl, const char *phrase, int typos,
    int mark, int *fuzzy)
{
	char	*norm = intent_normalise(phrase), *tok, *save = NULL;
	size_t	 idx[8], nidx = 0, i, count = 0, budget;
	int	 ok = 1;

	*fuzzy = 0;
	for (tok = strtok_r(norm, " ", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, " ", &save)) {
		size_t found = cl->n;

		for (i = 0; i < cl->n && found == cl->n; i++) {
			if (cl->w[i].used)
				continue;
			if (strcmp(cl->w[i].text, tok) == 0)
				found = i;
		}
		for (i = 0; typos && i < cl->n && found == cl->n; i++) {
			const char *t = cl->w[i].text;

			if (cl->w[i].used || str_in_list(t,
			    intent_stop_words))
				continue;
			budget = str_typo_budget(strlen(tok),
			    INTENT_TYPO_MIN, INTENT_TYPO_LONG);
			if (budget > 0 && str_distance(t, strlen(t), tok,
			    strlen(tok), budget, 0) <= budget) {
				found = i;
				*fuzzy = 1;
			}
		}
		if (found == cl->n || nidx == nitems(idx))
			ok = 0;
		else
			idx[nidx++] = found;
		count++;
	}
	free(norm);
	if (!ok || count == 0)
		return 0;
	if (mark) {
		for (i = 0; i < nidx; i++)
			cl->w[idx[i]].used = 1;
	}
	return count;
}

/*
 * Find the first action phrase in the clause (two-word phrases win; the
 * weak words "run", "apply" only when no other action is there).
 */
static const char *
intent_find_action(struct intent_clause *cl)
{
	const struct actions_word	*a;
	char				*pair;
	size_t				 i;
	int				 weak;

	for (weak = 0; weak < 2; weak++) {
		for (i = 0; i < cl->n; i++) {
			if (i + 1 < cl->n) {
				pair = xasprintf("%s %s", cl->w[i].text,
				    cl->w[i + 1].text);
				a = actions_find(pair, strlen(pair),
				    ACTIONS_REQUEST);
				free(pair);
				if (a != NULL && a->weak == weak) {
					cl->w[i].used = cl->w[i + 1].used = 1;
					return a->action;
				}
			}
			a = actions_find(cl->w[i].text, strlen(cl->w[i].text),
			    ACTIONS_REQUEST);
			if (a != NULL && a->weak == weak) {
				cl->w[i].used = 1;
				return a->action;
			}
		}
	}
	/* "is grafana running?" asks for a status check. */
	if (cl->n > 0 && (strcmp(cl->w[0].text, "is") == 0 ||
	    strcmp(cl->w[0].text, "are") == 0)) {
		cl->w[0].used = 1;
		return "check";
	}
	return NULL;
}

/* Add every service the clause names to out (array of names). */
static size_t
intent_find_services(struct intent_state *st, struct intent_clause *cl,
    const char **out, size_t max)
{
	const struct intent_vocab	*v = st->vocab;
	size_t				 s, best_len, n_out = 0;
	int				 pass, fuzzy;

	/* Pass 0: exact words; pass 1: allow typos. */
	for (pass = 0; pass < 2; pass++) {
		while (n_out < max) {
			const struct intent_service *best = NULL;
			const char *best_phrase = NULL;
			const char *const *al;

			best_len = 0;
			for (s = 0; s < v->nservices; s++) {
				const struct intent_service *sv =
				    &v->services[s];
				size_t n = intent_match_phrase(cl, sv->name,
				    pass, 0, &fuzzy);

				if (n > best_len)
					best = sv, best_len = n,
					best_phrase = sv->name;
				for (al = sv->aliases; al != NULL &&
				    *al != NULL; al++) {
					n = intent_match_phrase(cl, *al, pass,
					    0, &fuzzy);
					if (n > best_len)
						best = sv, best_len = n,
						best_phrase = *al;
				}
			}
			if (best == NULL)
				break;
			intent_match_phrase(cl, best_phrase, pass, 1, &fuzzy);
			out[n_out++] = best->name;
			if (fuzzy)
				json_object_array_add(st->notes,
				    intent_strf(
				    "read a misspelt word as '%s'",
				    best_phrase));
		}
		if (n_out > 0)
			break;
	}
	return n_out;
}

/* Singular/plural and '-'/'_' tolerant equality of a word and a name. */
static int
intent_name_eq(const char *word, const char *name)
{
	char	*a = intent_normalise(word), *b = intent_normalise(name);
	size_t	 la = strlen(a), lb = strlen(b);
	int	 eq = strcmp(a, b) == 0 ||
		    (la == lb + 1 && a[la - 1] == 's' &&
		    strncmp(a, b, lb) == 0) ||
		    (lb == la + 1 && b[lb - 1] == 's' &&
		    strncmp(a, b, la) == 0);

	free(a);
	free(b);
	return eq;
}

/* Is w exactly a host or group of the inventory ("lab", "cluster")? */
static int
intent_is_name(struct intent_state *st, const char *w)
{
	return str_in_list(w, st->vocab->groups) ||
	    str_in_list(w, st->vocab->hosts);
}

/* A playbook named by its path ("nas.yml", "playbooks/x/y.yaml")? */
static int
intent_is_path(const char *w)
{
	size_t	n = strlen(w);

	return (n > 4 && strcmp(w + n - 4, ".yml") == 0) ||
	    (n > 5 && strcmp(w + n - 5, ".yaml") == 0);
}

/*
 * A host or group name split into words at i ("vm games" for vm-games,
 * "docker hosts" for docker_hosts): 4 words down to 2, '-' and '_'.
 * Returns the words consumed, 0 for none.
 */
static size_t
intent_target_joined(struct intent_state *st, struct intent_clause *cl,
    size_t i, json_object *targets)
{
	static const char	 seps[] = "-_";
	const char *const	*lists[2] = { st->vocab->groups,
				    st->vocab->hosts };
	const char *const	*g;
	struct strbuf		 sb = { 0 };
	size_t			 k, j, l, s;

	for (k = 4; k >= 2; k--) {
		if (i + k > cl->n)
			continue;
		for (s = 0; s < 2; s++) {
			strbuf_reset(&sb);
			for (j = 0; j < k; j++) {
				if (j > 0)
					strbuf_addc(&sb, seps[s]);
				strbuf_adds(&sb, cl->w[i + j].text);
			}
			for (l = 0; l < 2; l++) {
				for (g = lists[l]; g != NULL && *g != NULL;
				    g++) {
					if (strcasecmp(sb.buf, *g) != 0)
						continue;
					json_object_array_add(targets,
					    json_object_new_string(*g));
					for (j = 0; j < k; j++)
						cl->w[i + j].used = 1;
					strbuf_free(&sb);
					return k;
				}
			}
		}
	}
	strbuf_free(&sb);
	return 0;
}

/* Try to read a target at word i; returns words consumed (0: none). */
static size_t
intent_target_at(struct intent_state *st, struct intent_clause *cl, size_t i,
    json_object *targets)
{
	const char *const	*g;
	const char		*w = cl->w[i].text;
	size_t			 n;

	if (str_in_list(w, intent_all_words) && !intent_is_name(st, w)) {
		/* "all proxmox hosts": "all" qualifies the next word. */
		if (strcmp(w, "all") == 0 && i + 1 < cl->n) {
			if (intent_target_at(st, cl, i + 1, targets) > 0) {
				cl->w[i].used = 1;
				return 2;
			}
			/* "all portals" is not about hosts. */
			if (!str_in_list(cl->w[i + 1].text,
			    intent_host_words))
				return 0;
		}
		json_object_array_add(targets, json_object_new_string("all"));
		cl->w[i].used = 1;
		return 1;
	}
	/*
	 * Names split at '-' or '_' ("vm-games", "gh-runner-01",
	 * "docker hosts" for docker_hosts): the longest join first.
	 */
	if ((n = intent_target_joined(st, cl, i, targets)) > 0)
		return n;
	/* Whole names first: a plural never stems onto another name. */
	for (g = st->vocab->groups; g != NULL && *g != NULL; g++) {
		if (strcmp(w, *g) == 0) {
			json_object_array_add(targets,
			    json_object_new_string(*g));
			cl->w[i].used = 1;
			return 1;
		}
	}
	for (g = st->vocab->hosts; g != NULL && *g != NULL; g++) {
		if (strcmp(w, *g) == 0) {
			json_object_array_add(targets,
			    json_object_new_string(*g));
			cl->w[i].used = 1;
			return 1;
		}
	}
	for (g = st->vocab->groups; g != NULL && *g != NULL; g++) {
		if (intent_name_eq(w, *g)) {
			json_object_array_add(targets,
			    json_object_new_string(*g));
			cl->w[i].used = 1;
			return 1;
		}
	}
	return 0;
}

static size_t	intent_target_joined(struct intent_state *,
		    struct intent_clause *, size_t, json_object *);

/* Is w one of the words of name ("github_runner": github, runner)? */
static int
intent_name_has_word(const char *name, const char *w)
{
	char	*norm = intent_normalise(name), *tok, *save = NULL;
	int	 found = 0;

	for (tok = strtok_r(norm, " ", &save); tok != NULL && !found;
	    tok = strtok_r(NULL, " ", &save))
		found = strcmp(tok, w) == 0;
	free(norm);
	return found;
}

/* Is w a word of some service's name or alias ("runner" of github_runner)? */
static int
intent_service_word(struct intent_state *st, const char *w)
{
	const struct intent_vocab	*v = st->vocab;
	const char *const		*al;
	size_t				 i;
	int				 found = 0;

	for (i = 0; i < v->nservices && !found; i++) {
		found = intent_name_has_word(v->services[i].name, w);
		for (al = v->services[i].aliases; al != NULL && *al != NULL &&
		    !found; al++)
			found = intent_name_has_word(*al, w);
	}
	return found;
}

/*
 * Targets: hosts and groups anywhere; after "on" an unknown word is a
 * question, not a guess.
 */
static void
intent_find_targets(struct intent_state *st, struct intent_clause *cl,
    json_object *targets)
{
	size_t	i, j, n;

	for (i = 0; i < cl->n; i++) {
		if (cl->w[i].used)
			continue;
		if (str_in_list(cl->w[i].text, intent_target_preps)) {
			/* Skip articles and "all" after the preposition. */
			for (j = i + 1; j < cl->n && (strcmp(cl->w[j].text,
			    "the") == 0 || strcmp(cl->w[j].text, "my") == 0 ||
			    strcmp(cl->w[j].text, "our") == 0); j++)
				;
			if (j >= cl->n || cl->w[j].used)
				continue;
			n = intent_target_at(st, cl, j, targets);
			if (n == 0 && strcmp(cl->w[i].text, "on") == 0 &&
			    !str_in_list(cl->w[j].text,
			    intent_stop_words)) {
				json_object_array_add(st->ambiguities,
				    intent_strf("I don't know "
				    "a host or group named '%s': which hosts "
				    "did you mean?", cl->w[j].text));
				cl->w[j].used = 1;
			}
			if (n > 0)
				i = j + n - 1;
			continue;
		}
		/* "db-1" is a host even where "db" is a service. */
		if ((n = intent_target_joined(st, cl, i, targets)) > 0) {
			i += n - 1;
			continue;
		}
		/* A bare word of a service's name is the service. */
		if (intent_service_word(st, cl->w[i].text))
			continue;
		n = intent_target_at(st, cl, i, targets);
		if (n > 0)
			i += n - 1;
	}
}

static int
intent_looks_like_version(const char *w)
{
	if (*w == 'v' && isdigit((unsigned char)w[1]))
		w++;
	if (!isdigit((unsigned char)*w))
		return 0;
	for (; *w != '\0'; w++) {
		if (!isdigit((unsigned char)*w) && *w != '.' && *w != '-' &&
		    !isalpha((unsigned char)*w))
			return 0;
	}
	return 1;
}

static int
intent_is_number(const char *w)
{
	if (*w == '\0')
		return 0;
	for (; *w != '\0'; w++) {
		if (!isdigit((unsigned char)*w))
			return 0;
	}
	return 1;
}

/*
 * "key=value" typed by the admin: an extra var (the planner keeps only
 * names the repository declares, and ansible_* only when typed so).
 */
static int
intent_key_value(const char *w, json_object *params)
{
	const char	*eq = strchr(w, '='), *p;
	char		*key;

	if (eq == NULL || eq == w || eq[1] == '\0')
		return 0;
	for (p = w; p < eq; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	}
	if (isdigit((unsigned char)*w))
		return 0;
	key = xstrndup(w, eq - w);
	json_object_object_add(params, key, json_object_new_string(eq + 1));
	free(key);
	return 1;
}

/* Parameters and check mode. */
static void
intent_find_params(struct intent_clause *cl, json_object *params,
    int *check)
{
	size_t	i;

	for (i = 0; i < cl->n; i++) {
		const char *w = cl->w[i].text, *next;

		next = i + 1 < cl->n ? cl->w[i + 1].text : NULL;
		if ((strcmp(w, "version") == 0 || strcmp(w, "release") == 0) &&
		    next != NULL && intent_looks_like_version(next)) {
			json_object_object_add(params, "version",
			    json_object_new_string(next[0] == 'v' ?
			    next + 1 : next));
			cl->w[i].used = cl->w[i + 1].used = 1;
			i++;
		} else if (w[0] == 'v' && isdigit((unsigned char)w[1]) &&
		    strchr(w, '.') != NULL && intent_looks_like_version(w)) {
			json_object_object_add(params, "version",
			    json_object_new_string(w + 1));
			cl->w[i].used = 1;
		} else if (strcmp(w, "port") == 0 && next != NULL &&
		    intent_is_number(next) && atoi(next) > 0 &&
		    atoi(next) < 65536) {
			json_object_object_add(params, "port",
			    json_object_new_int(atoi(next)));
			cl->w[i].used = cl->w[i + 1].used = 1;
			i++;
		} else if ((strcmp(w, "tag") == 0 || strcmp(w, "tags") == 0) &&
		    next != NULL) {
			json_object_object_add(params, "tags",
			    json_object_new_string(next));
			cl->w[i].used = cl->w[i + 1].used = 1;
			i++;
		} else if (intent_key_value(w, params)) {
			cl->w[i].used = 1;
		} else if ((strcmp(w, "without") == 0 || strcmp(w, "no") == 0 ||
		    strcmp(w, "skip") == 0 || strcmp(w, "skipping") == 0) &&
		    next != NULL && strncmp(next, "restart", 7) == 0) {
			json_object_object_add(params, "skip_tags",
			    json_object_new_string("restart"));
			cl->w[i].used = cl->w[i + 1].used = 1;
			i++;
		} else if ((strcmp(w, "dry") == 0 && next != NULL &&
		    strcmp(next, "run") == 0)) {
			*check = 1;
			cl->w[i].used = cl->w[i + 1].used = 1;
			i++;
		} else if (strcmp(w, "dry-run") == 0 ||
		    strcmp(w, "--check") == 0 || (strcmp(w, "check") == 0 &&
		    next != NULL && strcmp(next, "mode") == 0)) {
			*check = 1;
			cl->w[i].used = 1;
			if (strcmp(w, "check") == 0)
				cl->w[++i].used = 1;
		}
	}
}

/* The clause's words nobody placed, joined by spaces.  Caller frees. */
static char *
intent_leftover(struct intent_clause *cl)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	for (i = 0; i < cl->n; i++) {
		if (cl->w[i].used || str_in_list(cl->w[i].text,
		    intent_stop_words))
			continue;
		if (sb.len > 0)
			strbuf_addc(&sb, ' ');
		strbuf_adds(&sb, cl->w[i].text);
	}
	return strbuf_detach(&sb);
}

static char *
intent_clause_text(struct intent_clause *cl)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	for (i = 0; i < cl->n; i++) {
		if (i > 0)
			strbuf_addc(&sb, ' ');
		strbuf_adds(&sb, cl->w[i].text);
	}
	return strbuf_detach(&sb);
}

/* Append (references to) every element of src to the array dst. */
static void
intent_append(json_object *dst, json_object *src)
{
	size_t	i;

	for (i = 0; i < json_object_array_length(src); i++)
		json_object_array_add(dst,
		    json_object_get(json_object_array_get_idx(src, i)));
}

static json_object *
intent_new(const char *action, const char *service, const char *from,
    json_object *targets, json_object *params, int check, const char *text)
{
	json_object	*in = json_object_new_object();

	json_object_object_add(in, "action", json_object_new_string(action));
	json_object_object_add(in, "service", service != NULL ?
	    json_object_new_string(service) : NULL);
	json_object_object_add(in, "service_from",
	    json_object_new_string(from));
	json_object_object_add(in, "targets", json_object_get(targets));
	json_object_object_add(in, "params", json_object_get(params));
	json_object_object_add(in, "check", json_object_new_boolean(check));
	json_object_object_add(in, "text", json_object_new_string(text));
	return in;
}

/* A list of the catalog's service names for questions.  Caller frees. */
static char *
intent_known_services(const struct intent_vocab *v)
{
	struct strbuf	sb = { 0 };
	size_t		i;

	for (i = 0; i < v->nservices && i < 12; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", v->services[i].name);
	if (v->nservices > 12)
		strbuf_adds(&sb, ", ...");
	if (sb.len == 0)
		strbuf_adds(&sb, "none: the catalog is empty");
	return strbuf_detach(&sb);
}

/*
 * The one service named by an action word that stands for action
 * (reboot.yml, upgrade.yml), or NULL.
 */
static const char *
intent_bare_action(const struct intent_vocab *v, const char *action)
{
	const char	*found = NULL, *a;
	size_t		 i;

	for (i = 0; i < v->nservices; i++) {
		a = actions_canonical(v->services[i].name,
		    strlen(v->services[i].name), ACTIONS_FILE);
		if (a == NULL || strcmp(a, action) != 0)
			continue;
		if (found != NULL)
			return NULL;
		found = v->services[i].name;
	}
	return found;
}

static void
intent_clause(struct intent_state *st, struct intent_clause *cl)
{
	const char	*services[16], *bare;
	json_object	*targets = json_object_new_array();
	json_object	*params = json_object_new_object();
	const char	*action;
	char		*leftover, *text;
	int		 check = 0;
	size_t		 i, ns;

	action = intent_find_action(cl);
	for (i = 0; i < cl->n; i++) {
		/* A playbook by its path: the matcher places it. */
		if (!cl->w[i].used && intent_is_path(cl->w[i].text)) {
			json_object_object_add(params, "playbook",
			    json_object_new_string(cl->w[i].text));
			cl->w[i].used = 1;
		}
	}
	intent_find_params(cl, params, &check);
	intent_find_targets(st, cl, targets);
	ns = intent_find_services(st, cl, services, nitems(services));
	leftover = intent_leftover(cl);
	text = intent_clause_text(cl);

	if (action == NULL && ns == 0) {
		if (json_object_array_length(targets) > 0 &&
		    st->last_intent != NULL && *leftover == '\0') {
			/* "... on pve1 and pve2": more targets. */
			intent_append(json_object_object_get(st->last_intent,
			    "targets"), targets);
		} else if (*leftover != '\0' || *text != '\0') {
			json_object_array_add(st->out_of_scope,
			    json_object_new_string(text));
			json_object_array_add(st->ambiguities,
			    intent_strf("I could not find an "
			    "action or a known service in '%s': what should "
			    "I do, and to which service?", text));
		}
		goto out;
	}
	if (action == NULL) {
		if (st->last_action == NULL) {
			json_object_array_add(st->ambiguities,
			    intent_strf("What should I do with "
			    "%s? (deploy, remove, restart, update, configure, "
			    "check, backup, ...)", services[0]));
			goto out;
		}
		action = st->last_action;
	}
	if (ns == 0 && json_object_object_get_ex(params, "playbook", NULL)) {
		/* "deploy nas.yml": the playbook itself. */
		st->last_intent = intent_new(action, NULL, "path", targets,
		    params, check, text);
		json_object_array_add(st->intents, st->last_intent);
		st->last_action = action;
		goto out;
	}
	if (ns == 0) {
		if (strcmp(action, "generate") == 0 && *leftover != '\0') {
			/* A new role need not exist in the catalog. */
			json_object_object_add(params, "name",
			    json_object_new_string(leftover));
			st->last_intent = intent_new(action, NULL, "none",
			    targets, params, check, text);
			json_object_array_add(st->intents, st->last_intent);
			/* "... and deploy it": the new service. */
			st->last_service = json_object_get_string(
			    json_object_object_get(params, "name"));
		} else if (st->last_service != NULL && (*leftover == '\0' ||
		    strcmp(action, "deploy") != 0)) {
			/* "and add existing portals to config" */
			if (*leftover != '\0')
				json_object_object_add(params, "detail",
				    json_object_new_string(leftover));
			if (json_object_array_length(targets) == 0 &&
			    st->last_intent != NULL)
				intent_append(targets, json_object_object_get(
				    st->last_intent, "targets"));
			st->last_intent = intent_new(action, st->last_service,
			    "previous", targets, params, check, text);
			json_object_array_add(st->intents, st->last_intent);
		} else if (*leftover != '\0') {
			char *known = intent_known_services(st->vocab);
			json_object_object_add(params, "unknown_service",
			    json_object_new_string(leftover));
			st->last_intent = intent_new(action, NULL, "none",
			    targets, params, check, text);
			json_object_array_add(st->intents, st->last_intent);
			if (st->vocab->tags != NULL &&
			    str_in_list(leftover, st->vocab->tags))
				json_object_array_add(st->ambiguities,
				    intent_strf("'%s' is a tag of several "
				    "playbooks, not one service: which "
				    "playbook? (say \"%s %s in PLAYBOOK\"; "
				    "chiffon catalog lists them)", leftover,
				    action, leftover));
			else
				json_object_array_add(st->ambiguities,
				    intent_strf("The catalog has no "
				    "service '%s': which one did you mean? "
				    "(known: %s)", leftover, known));
			free(known);
		} else if ((bare = intent_bare_action(st->vocab, action)) !=
		    NULL) {
			/* "reboot all nodes": reboot.yml's own action. */
			st->last_intent = intent_new(action, bare, "action",
			    targets, params, check, text);
			json_object_array_add(st->intents, st->last_intent);
			st->last_service = bare;
		} else {
			char *known = intent_known_services(st->vocab);
			json_object_array_add(st->ambiguities,
			    intent_strf("Which service should I "
			    "%s? (known: %s)", action, known));
			free(known);
		}
		st->last_action = action;
		goto out;
	}
	for (i = 0; i < ns; i++) {
		st->last_intent = intent_new(action, services[i], "catalog", targets,
		    params, check, text);
		json_object_array_add(st->intents, st->last_intent);
		st->last_service = services[i];
	}
	/* Nothing the user said is dropped silently. */
	if (*leftover != '\0')
		json_object_array_add(st->notes, intent_strf("not used: '%s'",
		    leftover));
	st->last_action = action;
out:
	json_object_put(targets);
	json_object_put(params);
	free(leftover);
	free(text);
}

json_object *
intent_parse(const char *text, const struct intent_vocab *vocab)
{
	struct intent_state	 st = { .vocab = vocab };
	struct intent_word	*w;
	struct intent_clause	 cl;
	json_object		*out = json_object_new_object();
	size_t			 n, i, start;

	st.intents = json_object_new_array();
	st.ambiguities = json_object_new_array();
	st.out_of_scope = json_object_new_array();
	st.notes = json_object_new_array();

	w = intent_split(text != NULL ? text : "", &n);
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && !str_in_list(w[i].text, intent_separators))
			continue;
		/* "set up" keeps "up"; "back up" etc. never hit separators. */
		cl.n = i - start;
		if (cl.n > 0) {
			cl.w = w + start;	/* w is NULL for no words */
			intent_clause(&st, &cl);
		}
		start = i + 1;
	}
	if (json_object_array_length(st.intents) == 0 &&
	    json_object_array_length(st.ambiguities) == 0)
		json_object_array_add(st.ambiguities, json_object_new_string(
		    "The request is empty: what should I do?"));

	json_object_object_add(out, "intents", st.intents);
	json_object_object_add(out, "ambiguities", st.ambiguities);
	json_object_object_add(out, "out_of_scope", st.out_of_scope);
	json_object_object_add(out, "notes", st.notes);
	json_object_object_add(out, "parser",
	    json_object_new_string("deterministic"));
	for (i = 0; i < n; i++)
		free(w[i].text);
	free(w);
	return out;
}
