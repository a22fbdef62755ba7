/*
 * match.c - matching a task's text to a playbook.
 *
 * Text is split into words (letters and digits), lowercased, and a plural
 * s is stemmed ("portals" -> "portal", "entries" -> "entry").  Action
 * words ("install", "set up", "back up" ...) give the canonical action
 * and are not content; a word naming an inventory target after "on",
 * "to", ... ("on the nas"), after "all" or "every", or before "hosts",
 * "servers", ... ("all proxmox hosts") is neither content nor a service
 * name.
 *
 * 1. Exact: a service name or alias appears as consecutive words (or
 *    joined: "pi-hole" = "pihole").  Hits inside a longer hit are
 *    dropped ("uptime kuma" wins over "kuma").  Of the playbooks hit,
 *    those whose action (from the file name) equals the task's action
 *    are kept, else those without an action; exactly one left is a match
 *    with confidence 1.
 * 2. Mapping: the callback looks the normalized phrase up in
 *    playbook_mappings (confidence >= MATCH_MAPPING_MIN).
 * 3. Lexical: BM25 (k1 = 1.2, b = 0.5) over one weighted bag of words
 *    per playbook: service x3, aliases x2.5, file name x1, description
 *    x1, tags x1, task names x0.3, and a term "@ACTION" x1.5.  The query
 *    is the content words plus "@ACTION".  A query word not in the
 *    vocabulary, of at least 5 letters, stands for the vocabulary words
 *    within edit distance 1 (5-7 letters) or 2 (8 or more), weighted 0.8
 *    and 0.6.  With idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)) (an
 *    unknown word counts as df = 0):
 *
 *      coverage(d) = sum of idf x weight of the query words found in d
 *                    / sum of idf of all query words
 *      margin      = (score(best) - score(second)) / score(best)
 *      confidence  = coverage(best) x (0.3 + 0.7 x min(1, margin / 0.3))
 *
 *    so a playbook must explain the whole request and stand clearly
 *    above the runner-up; two equally good playbooks give at most 0.3,
 *    a full match needs a margin of about 8% to reach MATCH_THRESHOLD
 *    (0.5).  Candidates other than the best get coverage x 0.3.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "match.h"
#include "util.h"

#define MATCH_K1		1.2
#define MATCH_B			0.5
#define MATCH_MAX_WORD		63
/*
 * A query word unknown to the index matches terms one edit away from
 * MATCH_TYPO_MIN bytes, two from MATCH_TYPO_LONG (str_typo_budget).
 */
#define MATCH_TYPO_MIN		5
#define MATCH_TYPO_LONG		8

/* Field weights of the bag of words. */
#define MATCH_W_SERVICE		3.0
#define MATCH_W_ALIAS		2.5
#define MATCH_W_FILE		1.0
#define MATCH_W_DESCRIPTION	1.0
#define MATCH_W_TAG		1.0
#define MATCH_W_TASK		0.3
#define MATCH_W_ACTION		1.5

/* Words carrying no meaning for matching (sorted, for bsearch). */
static const char *match_stop_words[] = {
	"a", "about", "after", "again", "all", "also", "an", "and", "any",
	"are", "as", "at", "be", "before", "between", "box", "but", "by", "can", "could",
	"do", "every", "everything", "everywhere", "for", "from", "get",
	"go", "have",
	"here", "host", "i", "if", "in", "into", "is", "it", "its", "just",
	"let", "like", "machine", "make", "me", "my", "need", "new", "now",
	"of", "on", "onto", "or", "our", "please", "should", "so", "some",
	"that", "the", "their", "them", "then", "there", "these", "this",
	"those", "to", "too", "u", "up", "us", "use", "using", "via", "want",
	"we", "what", "when", "which", "will", "with", "would", "you", "your",
};

/* Words introducing a target ("on the nas"). */
static const char *match_target_preps[] = {
	"across", "at", "between", "from", "in", "into", "on", "onto", "to",
};
static const char *match_target_fillers[] = {
	"all", "each", "every", "my", "our", "the",
};
/* Words before or after a name making it a target ("all nas hosts"). */
static const char *match_target_quantifiers[] = {
	"all", "each", "every",
};
static const char *match_target_nouns[] = {
	"box", "host", "machine", "node", "server", "vm",
};

/* Actions a service inside a playbook of no action can carry out. */
static const char *const match_service_actions[] = {
	"deploy", "update", "configure", NULL
};

/* One posting: a playbook containing a term, with its weighted count. */
struct match_post {
	uint32_t	doc;
	float		tf;
};

/* A term of the vocabulary. */
struct match_term {
	char			*s;
	size_t			 len;
	uint32_t		 hash;
	double			 idf;
	struct match_post	*post;
	uint32_t		 npost;
	uint32_t		 cap;
};

/* A service name or alias, as words, for the exact step. */
struct match_name {
	struct catalog_list	 tok;
	char			*joined;	/* words without separators */
	size_t			 doc;
};

/* A document: a whole playbook, or one service inside it. */
struct match_unit {
	size_t	pb;
	ssize_t	svc;
};

/* The index over one catalog. */
struct match_index {
	const struct catalog	*cat;
	size_t			 ndocs;		/* units */
	struct match_unit	*units;
	size_t			*whole;		/* per playbook: its unit */
	unsigned char		*via_known;	/* per unit: imports a
						   catalogued playbook */
	struct match_term	*terms;
	size_t			 nterms;
	size_t			 tcap;
	uint32_t		*table;		/* term index + 1, 0 = empty */
	size_t			 tsize;		/* power of two */
	double			*dl;		/* weighted document lengths */
	double			 avgdl;
	double			 idf_max;
	struct match_name	*names;
	size_t			 nnames;
};

/* One query word and the terms standing for it. */
struct match_item {
	ssize_t		 term[4];	/* -1 unused */
	double		 w[4];
	size_t		 nterm;
	double		 idf;
};

/* A prepared query. */
struct match_prep {
	struct catalog_list	 words;		/* all words, stemmed */
	unsigned char		*content;	/* per word: a content word */
	unsigned char		*target;	/* per word: names a target */
	const char		*action;
	const char		*alt;		/* second choice of action */
};

static int
match_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
match_is_stop(const char *w)
{
	return bsearch(&w, match_stop_words, nitems(match_stop_words),
	    sizeof *match_stop_words, match_cmp_str) != NULL;
}

static int
match_in(const char *w, const char **list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(w, list[i]) == 0)
			return 1;
	}
	return 0;
}

/* Strip a plural ending in place. */
static void
match_stem(char *w)
{
	size_t	n = strlen(w);

	if (n > 4 && strcmp(w + n - 3, "ies") == 0) {
		w[n - 3] = 'y';
		w[n - 2] = '\0';
	} else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' &&
	    w[n - 2] != 'u' && w[n - 2] != 'i')
		w[n - 1] = '\0';
}

/* Split text into lowercase stemmed words. */
static void
match_words(const char *text, struct catalog_list *out)
{
	char		 w[MATCH_MAX_WORD + 1];
	const char	*p = text;
	size_t		 n;

	if (text == NULL)
		return;
	while (*p != '\0') {
		while (*p != '\0' && !isalnum((unsigned char)*p) &&
		    (unsigned char)*p < 0x80)
			p++;
		n = 0;
		while (*p != '\0' && (isalnum((unsigned char)*p) ||
		    (unsigned char)*p >= 0x80)) {
			if (n < MATCH_MAX_WORD)
				w[n++] = tolower((unsigned char)*p);
			p++;
		}
		if (n == 0)
			continue;
		w[n] = '\0';
		match_stem(w);
		catalog_list_add(out, w);
	}
}

const char *
match_action(const char *word)
{
	return word != NULL ? actions_canonical(word, strlen(word),
	    ACTIONS_REQUEST) : NULL;
}

const char *
match_method_name(enum match_method m)
{
	switch (m) {
	case MATCH_EXACT:
		return "exact";
	case MATCH_MAPPING:
		return "mapping";
	case MATCH_LEXICAL:
		return "lexical";
	default:
		return "none";
	}
}

/* Non-zero if word w names one of the targets (plural-insensitive). */
static int
match_is_target(const char *w, const struct catalog_list *targets)
{
	char	t[MATCH_MAX_WORD + 1];
	size_t	i, n;

	if (targets == NULL)
		return 0;
	for (i = 0; i < targets->n; i++) {
		for (n = 0; targets->v[i][n] != '\0' && n < MATCH_MAX_WORD;
		    n++)
			t[n] = tolower((unsigned char)targets->v[i][n]);
		t[n] = '\0';
		match_stem(t);
		if (strcmp(t, w) == 0)
			return 1;
	}
	return 0;
}

/* The alternative action of an action word or phrase, or NULL. */
static const char *
match_action_alt(const char *word)
{
	const struct actions_word *a = actions_find(word, strlen(word),
	    ACTIONS_REQUEST);

	return a != NULL ? a->alt : NULL;
}

/* Split the query into words, find its action, content and targets. */
static void
match_prepare(const struct match_query *q, struct match_prep *mp)
{
	const char	*a;
	char		*pair;
	size_t		 i, j, k, n;

	memset(mp, 0, sizeof *mp);
	match_words(q->text, &mp->words);
	n = mp->words.n;
	mp->content = xcalloc(n + 1, 1);
	mp->target = xcalloc(n + 1, 1);
	if (q->action != NULL && *q->action != '\0') {
		mp->action = match_action(q->action);
		if (mp->action == NULL)
			mp->action = catalog_action_word(q->action,
			    strlen(q->action));
		if (mp->action == NULL)
			mp->action = q->action;
	}
	for (i = 0; i < n; i++)
		mp->content[i] = !match_is_stop(mp->words.v[i]);
	for (i = 0; i < n; i++) {
		if (i + 1 < n) {
			pair = xasprintf("%s %s", mp->words.v[i],
			    mp->words.v[i + 1]);
			a = match_action(pair);
			if (a != NULL && mp->action == NULL) {
				mp->action = a;
				mp->alt = match_action_alt(pair);
			}
			free(pair);
			if (a != NULL) {
				mp->content[i] = mp->content[i + 1] = 0;
				i++;
				continue;
			}
		}
		if ((a = match_action(mp->words.v[i])) != NULL) {
			if (mp->action == NULL) {
				mp->action = a;
				mp->alt = match_action_alt(mp->words.v[i]);
			}
			mp->content[i] = 0;
		}
	}
	for (i = 0; i < n; i++) {
		/* "all proxmox hosts", "the nas box" */
		if (!match_is_target(mp->words.v[i], q->targets))
			continue;
		if ((i > 0 && match_in(mp->words.v[i - 1],
		    match_target_quantifiers,
		    nitems(match_target_quantifiers))) || (i + 1 < n &&
		    match_in(mp->words.v[i + 1], match_target_nouns,
		    nitems(match_target_nouns)))) {
			mp->target[i] = 1;
			mp->content[i] = 0;
		}
	}
	/* Targets of several words ("db-1", "gh-runner-01") wherever. */
	for (k = 0; q->targets != NULL && k < q->targets->n; k++) {
		struct catalog_list	tok = { 0 };

		match_words(q->targets->v[k], &tok);
		for (i = 0; tok.n > 1 && i + tok.n <= n; i++) {
			for (j = 0; j < tok.n && strcmp(tok.v[j],
			    mp->words.v[i + j]) == 0; j++)
				;
			if (j < tok.n)
				continue;
			for (j = 0; j < tok.n; j++) {
				mp->target[i + j] = 1;
				mp->content[i + j] = 0;
			}
		}
		catalog_list_free(&tok);
	}
	for (i = 0; i < n; i++) {
		if (!match_in(mp->words.v[i], match_target_preps,
		    nitems(match_target_preps)))
			continue;
		for (j = i + 1; j < n && match_in(mp->words.v[j],
		    match_target_fillers, nitems(match_target_fillers)); j++)
			;
		for (; j < n && match_is_target(mp->words.v[j], q->targets);
		    j++) {
			mp->target[j] = 1;
			mp->content[j] = 0;
		}
	}
}

static void
match_prep_free(struct match_prep *mp)
{
	catalog_list_free(&mp->words);
	free(mp->content);
	free(mp->target);
}

static char	*match_strip_paths(const char *);

char *
match_phrase(const struct match_query *q)
{
	struct match_prep	 mp;
	struct match_query	 qq;
	char			*stripped = NULL;
	struct strbuf		 sb = { 0 };
	size_t			 i;
	int			 first = 1;

	qq = *q;
	if (q->text != NULL)
		qq.text = stripped = match_strip_paths(q->text);
	match_prepare(&qq, &mp);
	free(stripped);
	strbuf_addf(&sb, "%s:", mp.action != NULL ? mp.action : "");
	for (i = 0; i < mp.words.n; i++) {
		if (!mp.content[i])
			continue;
		strbuf_addf(&sb, "%s%s", first ? " " : " ", mp.words.v[i]);
		first = 0;
	}
	match_prep_free(&mp);
	return strbuf_detach(&sb);
}

static uint32_t
match_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Index of a term, or -1. */
static ssize_t
match_lookup(const struct match_index *idx, const char *s)
{
	size_t		len = strlen(s), mask = idx->tsize - 1, i;
	uint32_t	h = match_hash(s, len), t;

	if (idx->tsize == 0)
		return -1;
	for (i = h & mask; (t = idx->table[i]) != 0; i = (i + 1) & mask) {
		const struct match_term *term = &idx->terms[t - 1];

		if (term->hash == h && term->len == len &&
		    memcmp(term->s, s, len) == 0)
			return (ssize_t)(t - 1);
	}
	return -1;
}

static void
match_rehash(struct match_index *idx)
{
	size_t	i, j, mask;

	free(idx->table);
	idx->tsize = idx->tsize == 0 ? 256 : idx->tsize * 2;
	idx->table = xcalloc(idx->tsize, sizeof *idx->table);
	mask = idx->tsize - 1;
	for (i = 0; i < idx->nterms; i++) {
		for (j = idx->terms[i].hash & mask; idx->table[j] != 0;
		    j = (j + 1) & mask)
			;
		idx->table[j] = (uint32_t)(i + 1);
	}
}

/* Add weight w of term s to document doc. */
static void
match_add(struct match_index *idx, size_t doc, const char *s, double w)
{
	struct match_term	*t;
	ssize_t			 ti = match_lookup(idx, s);
	size_t			 mask, j;

	if (ti < 0) {
		if ((idx->nterms + 1) * 2 > idx->tsize)
			match_rehash(idx);
		if (idx->nterms == idx->tcap) {
			idx->tcap = idx->tcap == 0 ? 256 : idx->tcap * 2;
			idx->terms = xreallocarray(idx->terms, idx->tcap,
			    sizeof *idx->terms);
		}
		ti = (ssize_t)idx->nterms++;
		t = &idx->terms[ti];
		memset(t, 0, sizeof *t);
		t->s = xstrdup(s);
		t->len = strlen(s);
		t->hash = match_hash(s, t->len);
		mask = idx->tsize - 1;
		for (j = t->hash & mask; idx->table[j] != 0; j = (j + 1) & mask)
			;
		idx->table[j] = (uint32_t)(ti + 1);
	}
	t = &idx->terms[ti];
	if (t->npost > 0 && t->post[t->npost - 1].doc == doc)
		t->post[t->npost - 1].tf += (float)w;
	else {
		if (t->npost == t->cap) {
			t->cap = t->cap == 0 ? 4 : t->cap * 2;
			t->post = xreallocarray(t->post, t->cap,
			    sizeof *t->post);
		}
		t->post[t->npost].doc = (uint32_t)doc;
		t->post[t->npost].tf = (float)w;
		t->npost++;
	}
	idx->dl[doc] += w;
}

/* Add the content words of text to a document. */
static void
match_add_text(struct match_index *idx, size_t doc, const char *text,
    double w)
{
	struct catalog_list	words = { 0 };
	size_t			i;

	match_words(text, &words);
	for (i = 0; i < words.n; i++) {
		if (!match_is_stop(words.v[i]))
			match_add(idx, doc, words.v[i], w);
	}
	catalog_list_free(&words);
}

/* Remember a service name or alias for the exact step. */
static void
match_add_name(struct match_index *idx, size_t doc, const char *name)
{
	struct match_name	*n;
	struct strbuf		 sb = { 0 };
	size_t			 i;

	idx->names = xreallocarray(idx->names, idx->nnames + 1,
	    sizeof *idx->names);
	n = &idx->names[idx->nnames];
	memset(n, 0, sizeof *n);
	match_words(name, &n->tok);
	if (n->tok.n == 0) {
		catalog_list_free(&n->tok);
		return;
	}
	for (i = 0; i < n->tok.n; i++)
		strbuf_adds(&sb, n->tok.v[i]);
	n->joined = strbuf_detach(&sb);
	n->doc = doc;
	idx->nnames++;
}

/* Add a file name's words (without extension) to a document. */
static void
match_add_file(struct match_index *idx, size_t doc, const char *path,
    double w)
{
	char	*file, *dot;

	file = strrchr(path, '/');
	file = xstrdup(file != NULL ? file + 1 : path);
	if ((dot = strrchr(file, '.')) != NULL)
		*dot = '\0';
	match_add_text(idx, doc, file, w);
	free(file);
}

static void
match_add_action(struct match_index *idx, size_t doc, const char *action)
{
	char	*at;

	if (action == NULL)
		return;
	at = xasprintf("@%s", action);
	match_add(idx, doc, at, MATCH_W_ACTION);
	free(at);
}

struct match_index *
match_index_new(const struct catalog *cat)
{
	struct match_index		*idx = xcalloc(1, sizeof *idx);
	const struct playbook		*pb;
	const struct catalog_service	*sv;
	double				 total = 0, df;
	size_t				 d, i, k, n = 0, p;

	idx->cat = cat;
	for (p = 0; p < cat->nplaybooks; p++)
		n += 1 + cat->playbooks[p]->nservices;
	idx->ndocs = n;
	idx->units = xcalloc(n + 1, sizeof *idx->units);
	idx->whole = xcalloc(cat->nplaybooks + 1, sizeof *idx->whole);
	idx->via_known = xcalloc(n + 1, 1);
	idx->dl = xcalloc(n + 1, sizeof *idx->dl);
	match_rehash(idx);
	for (p = 0, d = 0; p < cat->nplaybooks; p++) {
		pb = cat->playbooks[p];
		idx->whole[p] = d;
		idx->units[d].pb = p;
		idx->units[d].svc = -1;
		match_add_text(idx, d, pb->service, MATCH_W_SERVICE);
		if (!pb->generic)
			match_add_name(idx, d, pb->service);
		for (i = 0; i < pb->aliases.n; i++) {
			match_add_text(idx, d, pb->aliases.v[i],
			    MATCH_W_ALIAS);
			match_add_name(idx, d, pb->aliases.v[i]);
		}
		match_add_file(idx, d, pb->path, MATCH_W_FILE);
		match_add_text(idx, d, pb->description, MATCH_W_DESCRIPTION);
		for (i = 0; i < pb->tags.n; i++)
			match_add_text(idx, d, pb->tags.v[i], MATCH_W_TAG);
		for (i = 0; i < pb->tasks.n; i++)
			match_add_text(idx, d, pb->tasks.v[i], MATCH_W_TASK);
		match_add_action(idx, d, pb->action);
		total += idx->dl[d];
		d++;
		for (k = 0; k < pb->nservices; k++, d++) {
			sv = &pb->services[k];
			idx->units[d].pb = p;
			idx->units[d].svc = (ssize_t)k;
			match_add_text(idx, d, sv->name, MATCH_W_SERVICE);
			match_add_name(idx, d, sv->name);
			for (i = 0; i < sv->tags.n; i++)
				match_add_text(idx, d, sv->tags.v[i],
				    MATCH_W_TAG);
			if (sv->via != NULL) {
				match_add_file(idx, d, sv->via, MATCH_W_FILE);
				idx->via_known[d] = strcmp(sv->kind,
				    "import") == 0 && catalog_find(cat,
				    sv->via) != NULL;
			}
			match_add_file(idx, d, pb->path, MATCH_W_TASK);
			match_add_action(idx, d, sv->action != NULL ?
			    sv->action : pb->action);
			total += idx->dl[d];
		}
	}
	idx->avgdl = n > 0 ? total / n : 1;
	if (idx->avgdl <= 0)
		idx->avgdl = 1;
	for (i = 0; i < idx->nterms; i++) {
		df = idx->terms[i].npost;
		idx->terms[i].idf = log(1 + (n - df + 0.5) / (df + 0.5));
	}
	idx->idf_max = log(1 + (n + 0.5) / 0.5);
	return idx;
}

void
match_index_rebind(struct match_index *idx, const struct catalog *cat)
{
	idx->cat = cat;
}

void
match_index_free(struct match_index *idx)
{
	size_t	i;

	if (idx == NULL)
		return;
	for (i = 0; i < idx->nterms; i++) {
		free(idx->terms[i].s);
		free(idx->terms[i].post);
	}
	free(idx->terms);
	free(idx->table);
	free(idx->dl);
	free(idx->units);
	free(idx->whole);
	free(idx->via_known);
	for (i = 0; i < idx->nnames; i++) {
		catalog_list_free(&idx->names[i].tok);
		free(idx->names[i].joined);
	}
	free(idx->names);
	free(idx);
}

/* Resolve a query word to terms: itself, near spellings, or unknown. */
static void
match_item(const struct match_index *idx, const char *w,
    struct match_item *it)
{
	size_t	len = strlen(w), maxd, i, dist, best;
	ssize_t	ti;

	memset(it, 0, sizeof *it);
	it->idf = idx->idf_max;
	if ((ti = match_lookup(idx, w)) >= 0) {
		it->term[0] = ti;
		it->w[0] = 1;
		it->nterm = 1;
		it->idf = idx->terms[ti].idf;
		return;
	}
	maxd = str_typo_budget(len, MATCH_TYPO_MIN, MATCH_TYPO_LONG);
	if (maxd == 0 || w[0] == '@')
		return;
	best = maxd + 1;
	for (i = 0; i < idx->nterms; i++) {
		const struct match_term *t = &idx->terms[i];

		if (t->s[0] == '@' || t->len < 4 ||
		    (t->len > len ? t->len - len : len - t->len) > maxd)
			continue;
		dist = str_distance(w, len, t->s, t->len,
		    best <= maxd ? best : maxd, 0);
		if (dist > maxd || dist > best)
			continue;
		if (dist < best) {
			best = dist;
			it->nterm = 0;
			it->idf = 0;
		}
		if (it->nterm < nitems(it->term)) {
			it->term[it->nterm] = (ssize_t)i;
			it->w[it->nterm] = dist == 1 ? 0.8 : 0.6;
			it->nterm++;
			if (t->idf > it->idf)
				it->idf = t->idf;
		}
	}
	if (it->nterm == 0)
		it->idf = idx->idf_max;
}

static const char *match_unit_action(const struct match_index *, size_t);

/* Insert doc into the top candidates (sorted by score, descending). */
static void
match_top(struct match_candidate *top, size_t *ntop, size_t doc,
    double score)
{
	size_t	i;

	for (i = *ntop; i > 0 && top[i - 1].score < score; i--) {
		if (i < MATCH_NCANDIDATES)
			top[i] = top[i - 1];
	}
	if (i >= MATCH_NCANDIDATES)
		return;
	top[i].index = doc;
	top[i].score = score;
	top[i].confidence = 0;
	if (*ntop < MATCH_NCANDIDATES)
		(*ntop)++;
}

/*
 * BM25 over the content words and the action; fills res->cand and
 * returns the confidence of the best.  prefer (may be NULL) marks
 * documents to list first among the candidates.
 */
static double
match_lexical(const struct match_index *idx, const struct match_prep *mp,
    const unsigned char *prefer, struct match_result *res)
{
	struct match_item	 items[32];
	struct catalog_list	 seen = { 0 };
	double			*score, *cov, *best, total = 0, s, v, margin;
	double			 conf;
	size_t			*stamp, nitems_ = 0, i, j, k, d, ntop = 0;
	char			*at;
	const struct match_term	*t;

	for (i = 0; i < mp->words.n && nitems_ < nitems(items) - 1; i++) {
		if (!mp->content[i] ||
		    !catalog_list_add_unique(&seen, mp->words.v[i]))
			continue;
		match_item(idx, mp->words.v[i], &items[nitems_++]);
	}
	if (mp->action != NULL) {
		at = xasprintf("@%s", mp->action);
		match_item(idx, at, &items[nitems_++]);
		free(at);
	}
	catalog_list_free(&seen);
	res->ncand = 0;
	if (nitems_ == 0 || idx->ndocs == 0)
		return 0;

	score = xcalloc(idx->ndocs, sizeof *score);
	cov = xcalloc(idx->ndocs, sizeof *cov);
	best = xcalloc(idx->ndocs, sizeof *best);
	stamp = xcalloc(idx->ndocs, sizeof *stamp);
	for (i = 0; i < nitems_; i++) {
		total += items[i].idf;
		for (j = 0; j < items[i].nterm; j++) {
			t = &idx->terms[items[i].term[j]];
			for (k = 0; k < t->npost; k++) {
				d = t->post[k].doc;
				s = t->post[k].tf;
				score[d] += items[i].w[j] * t->idf * s *
				    (MATCH_K1 + 1) / (s + MATCH_K1 *
				    (1 - MATCH_B + MATCH_B * idx->dl[d] /
				    idx->avgdl));
				v = items[i].idf * items[i].w[j];
				if (stamp[d] != i + 1) {
					stamp[d] = i + 1;
					best[d] = v;
					cov[d] += v;
				} else if (v > best[d]) {
					cov[d] += v - best[d];
					best[d] = v;
				}
			}
		}
	}
	/* One candidate per playbook: its best unit (named ones first). */
	for (d = 0; d < idx->ndocs; d++) {
		double sd = score[d] + (prefer != NULL && prefer[d] ? 1e6 : 0);

		if (score[d] <= 0 && (prefer == NULL || !prefer[d]))
			continue;
		if (idx->via_known[d] && (prefer == NULL || !prefer[d]))
			continue;	/* the imported playbook stands */
		for (i = 0; i < ntop; i++) {
			if (idx->units[res->cand[i].index].pb ==
			    idx->units[d].pb && (prefer == NULL ||
			    !prefer[d] || !prefer[res->cand[i].index]))
				break;
		}
		if (i < ntop) {
			/* The unit explaining more of the request stands. */
			size_t o = res->cand[i].index;

			if (cov[o] > cov[d] + 1e-9 || (cov[o] > cov[d] - 1e-9 &&
			    res->cand[i].score >= sd))
				continue;
			memmove(&res->cand[i], &res->cand[i + 1],
			    (ntop - i - 1) * sizeof *res->cand);
			ntop--;
		}
		match_top(res->cand, &ntop, d, sd);
	}
	/*
	 * Fewer than three with any word in common: offer the named
	 * services' playbooks, then those of the same action, then any.
	 */
	for (k = 0; k < 3 && ntop < MATCH_NCANDIDATES &&
	    ntop < idx->ndocs; k++) {
		for (d = 0; d < idx->ndocs && ntop < MATCH_NCANDIDATES; d++) {
			const char *pa = match_unit_action(idx, d);

			if (score[d] > 0 || stamp[d] == SIZE_MAX)
				continue;
			if ((k == 0 && (prefer == NULL || !prefer[d])) ||
			    (k == 1 && (mp->action == NULL || pa == NULL ||
			    strcmp(pa, mp->action) != 0)) ||
			    (k == 2 && idx->units[d].svc >= 0))
				continue;
			stamp[d] = SIZE_MAX;
			res->cand[ntop].index = d;
			res->cand[ntop].score = 0;
			ntop++;
		}
	}
	res->ncand = ntop;
	conf = 0;
	for (i = 0; i < ntop; i++) {
		d = res->cand[i].index;
		res->cand[i].score = score[d];
		res->cand[i].confidence = total > 0 ? cov[d] / total * 0.3 : 0;
	}
	if (ntop > 0 && total > 0 && (prefer == NULL || !prefer[
	    res->cand[0].index])) {
		s = ntop > 1 ? res->cand[1].score : 0;
		margin = (res->cand[0].score - s) / res->cand[0].score;
		conf = cov[res->cand[0].index] / total * (0.3 + 0.7 *
		    (margin / 0.3 < 1 ? margin / 0.3 : 1));
		if (conf > 1)
			conf = 1;
		res->cand[0].confidence = conf;
	}
	free(score);
	free(cov);
	free(best);
	free(stamp);
	return conf;
}

/* Does name n occur in the words from position i?  Returns words used. */
static size_t
match_name_at(const struct match_name *n, const struct match_prep *mp,
    size_t i)
{
	const char	*joined = n->joined, *w;
	size_t		 j, len;

	for (j = 0; j < n->tok.n; j++) {
		if (i + j >= mp->words.n || mp->target[i + j] ||
		    strcmp(n->tok.v[j], mp->words.v[i + j]) != 0)
			break;
	}
	if (j == n->tok.n)
		return j;
	/* Joined: "pi hole" for "pihole", "uptimekuma" for "uptime kuma". */
	for (j = i; j < mp->words.n && j < i + 3 && !mp->target[j]; j++) {
		w = mp->words.v[j];
		len = strlen(w);
		if (strncmp(joined, w, len) != 0)
			return 0;
		joined += len;
		if (*joined == '\0')
			return j - i + 1;
	}
	return 0;
}

/* The action of a unit: its own (an import's file), else its playbook's. */
static const char *
match_unit_action(const struct match_index *idx, size_t d)
{
	const struct playbook	*pb = idx->cat->playbooks[idx->units[d].pb];
	const struct catalog_service *sv = catalog_playbook_service(pb,
	    idx->units[d].svc);

	if (sv != NULL && sv->action != NULL)
		return sv->action;
	return pb->action;
}


/*
 * How well a hit unit fits the request's action: 3 its action is the
 * one asked, 2 the second choice or a service that the action applies
 * to, 1 a playbook without an action, 0 not at all.
 */
static int
match_rank(const struct match_index *idx, const struct match_prep *mp,
    size_t d, size_t nhit)
{
	const struct playbook		*pb;
	const struct catalog_service	*sv;
	const char			*a = match_unit_action(idx, d);

	pb = idx->cat->playbooks[idx->units[d].pb];
	sv = catalog_playbook_service(pb, idx->units[d].svc);
	if (a != NULL) {
		if (mp->action == NULL)
			return nhit == 1 ? 1 : 0;
		if (strcmp(a, mp->action) == 0)
			return 3;
		if (mp->alt != NULL && strcmp(a, mp->alt) == 0)
			return 2;
		return 0;
	}
	/*
	 * A playbook named for no action applies its service: it is no
	 * way to remove, restart or back it up.
	 */
	if (sv == NULL)
		return (mp->action == NULL && nhit == 1) ||
		    (mp->action != NULL && str_in_list(mp->action,
		    match_service_actions)) ? 2 : 0;
	if (mp->action == NULL || str_in_list(mp->action,
	    match_service_actions))
		return 2;
	if (strcmp(mp->action, "remove") == 0 && sv->toggle != NULL)
		return 2;
	return 0;
}

static int
match_is_tag_unit(const struct match_index *idx, size_t d)
{
	const struct catalog_service *sv = catalog_playbook_service(
	    idx->cat->playbooks[idx->units[d].pb], idx->units[d].svc);

	return sv != NULL && strcmp(sv->kind, "tag") == 0;
}

static void
match_drop_tags(const struct match_index *idx, unsigned char *hit)
{
	size_t	k, ntag = 0, nother = 0, pb = SIZE_MAX;
	int	several = 0;

	for (k = 0; k < idx->ndocs; k++) {
		if (!hit[k])
			continue;
		if (!match_is_tag_unit(idx, k)) {
			nother++;
			continue;
		}
		ntag++;
		if (pb != SIZE_MAX && pb != idx->units[k].pb)
			several = 1;
		pb = idx->units[k].pb;
	}
	if (ntag == 0 || (nother == 0 && !several))
		return;
	for (k = 0; k < idx->ndocs; k++) {
		if (hit[k] && match_is_tag_unit(idx, k))
			hit[k] = 0;
	}
}

/* Exact step: returns the matched document or -1; marks hits. */
static ssize_t
match_exact(const struct match_index *idx, const struct match_prep *mp,
    const unsigned char *only, unsigned char *hit)
{
	const struct playbook	*pb, *other;
	const struct catalog_service *sv;
	size_t			*from, *to, i, k, used, nhit = 0, nbest = 0;
	ssize_t			 best = -1;
	int			 r, rbest = 0;

	from = xcalloc(idx->nnames + 1, sizeof *from);
	to = xcalloc(idx->nnames + 1, sizeof *to);
	for (k = 0; k < idx->nnames; k++) {
		if (only != NULL && !only[idx->units[idx->names[k].doc].pb])
			continue;
		for (i = 0; i < idx->names[k].tok.n; i++) {
			if (match_action(idx->names[k].tok.v[i]) == NULL)
				break;
		}
		if (i == idx->names[k].tok.n)
			continue;	/* "backups": an action, not a name */
		used = 0;
		for (i = 0; i < mp->words.n; i++) {
			if ((used = match_name_at(&idx->names[k], mp, i)) > 0)
				break;
		}
		if (used > 0) {
			from[k] = i + 1;
			to[k] = i + used;
		}
	}
	/* Drop hits strictly inside a longer hit of another name. */
	for (k = 0; k < idx->nnames; k++) {
		if (from[k] == 0)
			continue;
		for (i = 0; i < idx->nnames; i++) {
			if (from[i] != 0 && from[i] <= from[k] &&
			    to[i] >= to[k] && to[i] - from[i] > to[k] - from[k])
				break;
		}
		if (i == idx->nnames)
			hit[idx->names[k].doc] = 1;
	}
	free(from);
	free(to);
	/*
	 * A service whose own playbook was hit as a whole, or that imports
	 * a playbook that was hit, is that playbook: keep the playbook.
	 */
	for (k = 0; k < idx->ndocs; k++) {
		if (!hit[k] || idx->units[k].svc < 0)
			continue;
		pb = idx->cat->playbooks[idx->units[k].pb];
		sv = catalog_playbook_service(pb, idx->units[k].svc);
		if (hit[idx->whole[idx->units[k].pb]]) {
			hit[k] = 0;
			continue;
		}
		for (i = 0; sv->via != NULL && i < idx->ndocs; i++) {
			if (!hit[i] || i == k)
				continue;
			other = idx->cat->playbooks[idx->units[i].pb];
			if (strcmp(other->path, sv->via) == 0) {
				hit[k] = 0;
				break;
			}
		}
	}
	/*
	 * A tag is a name only when nothing else is named and it is the
	 * tag of one playbook ("portals" of three playbooks is a word).
	 */
	match_drop_tags(idx, hit);
	/* Nothing named inside the playbook given by path: the whole. */
	for (k = 0; only != NULL && k < idx->ndocs; k++) {
		if (hit[k])
			break;
	}
	if (only != NULL && k == idx->ndocs) {
		for (i = 0; i < idx->cat->nplaybooks; i++) {
			if (only[i])
				hit[idx->whole[i]] = 1;
		}
	}
	for (k = 0; k < idx->ndocs; k++)
		nhit += hit[k];
	for (k = 0; k < idx->ndocs; k++) {
		if (!hit[k])
			continue;
		r = match_rank(idx, mp, k, nhit);
		if (r > rbest) {
			rbest = r;
			best = (ssize_t)k;
			nbest = 1;
		} else if (r == rbest && r > 0)
			nbest++;
	}
	if (nbest == 1 && rbest > 0)
		return best;
	return -1;
}

/* Mark the playbooks a word of the text names by path.  Returns count. */
static size_t
match_paths(const struct match_index *idx, const char *text,
    unsigned char *only)
{
	const struct catalog	*cat = idx->cat;
	const char		*p = text, *e, *base;
	size_t			 i, len, n = 0;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'')
			p++;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		len = e - p;
		while (len > 0 && strchr(",;:?!\"'", p[len - 1]) != NULL)
			len--;
		if (len > 4 && (strncmp(p + len - 4, ".yml", 4) == 0 ||
		    (len > 5 && strncmp(p + len - 5, ".yaml", 5) == 0))) {
			for (i = 0; i < cat->nplaybooks; i++) {
				const char *path = cat->playbooks[i]->path;

				base = strrchr(path, '/');
				base = base != NULL ? base + 1 : path;
				if (strlen(path) == len &&
				    strncmp(path, p, len) == 0) {
					only[i] = 2;	/* the whole path */
					n++;
				} else if (strlen(base) == len &&
				    strncmp(base, p, len) == 0) {
					only[i] = 1;
					n++;
				}
			}
		}
		p = e;
	}
	/* "main.yml" is main.yml, not playbooks/backup/main.yml too. */
	for (i = 0; i < cat->nplaybooks; i++) {
		if (only[i] == 2)
			break;
	}
	if (i < cat->nplaybooks) {
		for (i = 0, n = 0; i < cat->nplaybooks; i++) {
			only[i] = only[i] == 2;
			n += only[i];
		}
	}
	return n;
}

/* text without its words naming playbooks by path.  Caller frees. */
static char *
match_strip_paths(const char *text)
{
	struct strbuf	 sb = { 0 };
	const char	*p = text, *e;
	size_t		 len;

	strbuf_adds(&sb, "");
	while (*p != '\0') {
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		len = e - p;
		while (len > 0 && strchr(",;:?!\"'", p[len - 1]) != NULL)
			len--;
		if (!(len > 4 && strncmp(p + len - 4, ".yml", 4) == 0) &&
		    !(len > 5 && strncmp(p + len - 5, ".yaml", 5) == 0))
			strbuf_add(&sb, p, e - p);
		while (*e == ' ' || *e == '\t')
			strbuf_addc(&sb, *e++);
		p = e;
	}
	return strbuf_detach(&sb);
}

/*
 * A request of an action and nothing else ("reboot all nodes"): the
 * playbook named by an action word alone (reboot.yml), if one.
 */
static ssize_t
match_bare_action(const struct match_index *idx, const struct match_prep *mp)
{
	const struct playbook	*pb;
	ssize_t			 found = -1;
	size_t			 i;

	if (mp->action == NULL)
		return -1;
	for (i = 0; i < mp->words.n; i++) {
		if (mp->content[i] && !match_in(mp->words.v[i],
		    match_target_nouns, nitems(match_target_nouns)))
			return -1;
	}
	for (i = 0; i < idx->cat->nplaybooks; i++) {
		pb = idx->cat->playbooks[i];
		if (pb->action == NULL || strcmp(pb->action, mp->action) != 0 ||
		    catalog_action_word(pb->service, strlen(pb->service)) ==
		    NULL)
			continue;
		if (found >= 0)
			return -1;
		found = (ssize_t)idx->whole[i];
	}
	return found;
}

/* Turn unit indices of the result into playbook and service. */
static void
match_units_out(const struct match_index *idx, struct match_result *res,
    ssize_t unit)
{
	size_t	i, u;

	if (unit >= 0) {
		res->index = (ssize_t)idx->units[unit].pb;
		res->service = idx->units[unit].svc;
	}
	for (i = 0; i < res->ncand; i++) {
		u = res->cand[i].index;
		res->cand[i].index = idx->units[u].pb;
		res->cand[i].service = idx->units[u].svc;
	}
}

void
match_run(const struct match_index *idx, const struct match_query *q,
    struct match_result *res)
{
	struct match_prep	 mp;
	struct match_query	 qq;
	unsigned char		*hit, *only;
	char			*stripped = NULL;
	ssize_t			 ex, mapped, unit = -1;
	double			 conf, mconf = 0;
	char			*phrase;
	size_t			 k, nhit = 0, npaths;

	memset(res, 0, sizeof *res);
	res->index = -1;
	res->service = -1;
	only = xcalloc(idx->cat->nplaybooks + 1, 1);
	npaths = q->text != NULL ? match_paths(idx, q->text, only) : 0;
	/* Words of a path name the playbook, not a service in it. */
	qq = *q;
	if (npaths > 0)
		qq.text = stripped = match_strip_paths(q->text);
	match_prepare(&qq, &mp);
	res->action = mp.action;
	res->by_path = npaths > 0;
	hit = xcalloc(idx->ndocs + 1, 1);

	ex = match_exact(idx, &mp, npaths > 0 ? only : NULL, hit);
	if (ex < 0 && npaths == 0 && (ex = match_bare_action(idx, &mp)) >= 0)
		hit[ex] = 1;
	for (k = 0; k < idx->ndocs; k++)
		nhit += hit[k];
	conf = match_lexical(idx, &mp, nhit > 0 && ex < 0 ? hit : NULL, res);
	/* Without an action, one name alone is trusted only if BM25 agrees. */
	if (ex >= 0 && mp.action == NULL && npaths == 0) {
		if (res->ncand > 0 && idx->units[res->cand[0].index].pb ==
		    idx->units[ex].pb)
			ex = (ssize_t)res->cand[0].index;
		else
			ex = -1;
	}
	if (ex >= 0) {
		res->method = MATCH_EXACT;
		unit = ex;
		res->confidence = 1;
		goto out;
	}
	if (q->mapping != NULL) {
		const char *msvc = NULL;

		phrase = match_phrase(&qq);
		mapped = q->mapping(phrase, &mconf, &msvc, q->mapping_data);
		free(phrase);
		if (mapped >= 0 && (size_t)mapped < idx->cat->nplaybooks &&
		    mconf >= MATCH_MAPPING_MIN) {
			res->method = MATCH_MAPPING;
			unit = (ssize_t)idx->whole[mapped];
			for (k = 0; msvc != NULL && k < idx->cat->playbooks[
			    mapped]->nservices; k++) {
				if (strcmp(idx->cat->playbooks[mapped]->
				    services[k].name, msvc) == 0) {
					unit += (ssize_t)k + 1;
					break;
				}
			}
			res->confidence = mconf > 1 ? 1 : mconf;
			goto out;
		}
	}
	if (res->ncand > 0 && conf >= MATCH_THRESHOLD) {
		res->method = MATCH_LEXICAL;
		unit = (ssize_t)res->cand[0].index;
		res->confidence = conf;
	}
out:
	match_units_out(idx, res, unit);
	free(hit);
	free(only);
	free(stripped);
	match_prep_free(&mp);
}

/* Round to three decimals for the JSON form. */
static json_object *
match_conf_json(double c)
{
	return json_object_new_double(round(c * 1000) / 1000);
}

/* What selects a unit: the playbook, service, tags, toggle, limit. */
static void
match_unit_json(json_object *o, const struct playbook *pb, ssize_t svc,
    const char *action)
{
	const struct catalog_service	*sv = catalog_playbook_service(pb,
					    svc);
	json_object			*v;
	char				*words;

	json_object_object_add(o, "path", json_object_new_string(pb->path));
	json_object_object_add(o, "service", json_object_new_string(
	    sv != NULL ? sv->name : pb->service));
	json_object_object_add(o, "kind", json_object_new_string(sv != NULL ?
	    sv->kind : "playbook"));
	json_object_object_add(o, "tags", sv != NULL ?
	    catalog_list_json(&sv->tags) : json_object_new_array());
	json_object_object_add(o, "toggle", sv != NULL && sv->toggle != NULL ?
	    json_object_new_string(sv->toggle) : NULL);
	json_object_object_add(o, "hosts", sv != NULL && sv->hosts != NULL ?
	    json_object_new_string(sv->hosts) : NULL);
	json_object_object_add(o, "via", sv != NULL && sv->via != NULL ?
	    json_object_new_string(sv->via) : NULL);
	if (sv != NULL && sv->listvar != NULL) {
		v = json_object_new_object();
		json_object_object_add(v, sv->listvar, json_object_new_array());
		json_object_array_add(json_object_object_get(v, sv->listvar),
		    json_object_new_string(sv->name));
		json_object_object_add(o, "vars", v);
	}
	json_object_object_add(o, "services",
	    json_object_new_int((int)pb->nservices));
	json_object_object_add(o, "playbook_hosts", pb->hosts != NULL ?
	    json_object_new_string(pb->hosts) : NULL);
	json_object_object_add(o, "requires", catalog_list_json(&pb->requires));
	/* The words that pick it: an action it can carry out. */
	if (sv != NULL && sv->action != NULL)
		action = sv->action;
	else if (pb->action != NULL)
		action = pb->action;
	else if (sv != NULL && (action == NULL || (!str_in_list(action,
	    match_service_actions) && (strcmp(action, "remove") != 0 ||
	    sv->toggle == NULL))))
		action = "deploy";
	words = xasprintf("%s %s in %s", action != NULL ? action : "deploy",
	    sv != NULL ? sv->name : pb->service, pb->path);
	json_object_object_add(o, "words", json_object_new_string(words));
	free(words);
}

json_object *
match_result_json(const struct catalog *cat, const struct match_result *res,
    const char *phrase)
{
	json_object		*o = json_object_new_object(), *m, *a, *c;
	const struct playbook	*pb;
	size_t			 i;

	if (res->method != MATCH_NONE && res->index >= 0 &&
	    (size_t)res->index < cat->nplaybooks) {
		pb = cat->playbooks[res->index];
		m = json_object_new_object();
		match_unit_json(m, pb, res->service, res->action);
		json_object_object_add(m, "confidence",
		    match_conf_json(res->confidence));
		json_object_object_add(m, "method",
		    json_object_new_string(match_method_name(res->method)));
		json_object_object_add(o, "match", m);
	} else
		json_object_object_add(o, "match", NULL);
	a = json_object_new_array();
	for (i = 0; i < res->ncand; i++) {
		pb = cat->playbooks[res->cand[i].index];
		c = json_object_new_object();
		match_unit_json(c, pb, res->cand[i].service, res->action);
		json_object_object_add(c, "confidence",
		    match_conf_json(res->cand[i].confidence));
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "candidates", a);
	json_object_object_add(o, "action", res->action != NULL ?
	    json_object_new_string(res->action) : NULL);
	if (phrase != NULL)
		json_object_object_add(o, "phrase",
		    json_object_new_string(phrase));
	return o;
}
