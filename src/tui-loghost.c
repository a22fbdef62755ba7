/*
 * tui-loghost.c - the lines of one run naming a host, paged from
 * run_output for the Log pane's host filter (Esc h), the way the
 * unfiltered view pages the run: a window of a few screenfuls in
 * memory, never the whole run.
 *
 * Which stored lines name the host is decided by tui_log_names_host on
 * the plain text, as for the lines on screen, so the database can only
 * narrow the candidates (strpos on the host name) by keyset (run id,
 * seq).  The candidates are read once, TUI_HOSTDB_SPAN seqs a step (a
 * step of the loop each, so that keys are answered meanwhile: a run of a
 * million lines is 500 steps of at most TUI_HOSTDB_BATCH candidates), to
 * count the matches and to note the seq of every TUI_HOSTDB_STEP'th match
 * (8 bytes per that many lines); match i is then read from the noted
 * seq before it, so any line - the first (g), the last (G), a page
 * anywhere - costs at most TUI_HOSTDB_STEP lines and the window.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit-query.h"
#include "chiffon/plugin.h"
#include "output.h"
#include "tui.h"
#include "util.h"

/* Every this many matches a seq is noted. */
#define TUI_HOSTDB_STEP		64
/* Candidate rows read per counting query. */
#define TUI_HOSTDB_BATCH	2000
/*
 * ... and per query of a walk (a window drawn, a search): a window needs
 * at most STEP + its size matches from a noted seq, and each candidate
 * read costs the scan up to it (2,000 were 45,000 lines of a run where
 * one line in 250 names the host, read at every draw while counting).
 */
#define TUI_HOSTDB_WALK_BATCH	256
/* Seqs a counting step covers (at most that many rows scanned). */
#define TUI_HOSTDB_SPAN		2000

static const char tui_hostdb_sql[] =
	"SELECT seq, stream, line FROM chiffon_run_lines($1::bigint, "
	"$2::timestamptz, $3::bigint - 1, $4::bigint, $6::int, ARRAY[$5], "
	"false)";

/* At most limit candidates of h's run from seq from to upto; NULL with
 * *errp. */
static PGresult *
tui_hostdb_read(struct tui_hostdb *h, PGconn *pg, long long from,
    long long upto, int limit, char **errp)
{
	const char	*params[6];
	char		 b[4][32];
	PGresult	*res;

	snprintf(b[0], sizeof b[0], "%lld", h->run);
	snprintf(b[1], sizeof b[1], "%lld", from);
	snprintf(b[2], sizeof b[2], "%lld", upto);
	snprintf(b[3], sizeof b[3], "%d", limit);
	params[0] = b[0];
	params[1] = h->started;
	params[2] = b[1];
	params[3] = b[2];
	params[4] = h->host;
	params[5] = b[3];
	res = PQexecParams(pg, tui_hostdb_sql, 6, NULL, params, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "run %lld: cannot read its output: %s",
		    h->run, PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Walk the matches from the noted seq of match k * STEP on: call fn for
 * each with its index until it returns non-zero or the run ends.
 */
typedef int (*tui_hostdb_fn)(struct tui_hostdb *, void *, size_t,
    PGresult *, int, const char *);

static int
tui_hostdb_walk(struct tui_hostdb *h, PGconn *pg, size_t k,
    tui_hostdb_fn fn, void *arg, char **errp)
{
	PGresult	*res;
	long long	 from = k < h->nnoted ? h->noted[k] : 1;
	size_t		 i = k * TUI_HOSTDB_STEP;
	char		*plain;
	int		 r, n, stop = 0;

	do {
		if ((res = tui_hostdb_read(h, pg, from, h->last,
		    TUI_HOSTDB_WALK_BATCH, errp)) == NULL)
			return -1;
		n = PQntuples(res);
		for (r = 0; r < n && !stop; r++) {
			plain = output_plain(PQgetvalue(res, r, 2),
			    (size_t)PQgetlength(res, r, 2));
			if (tui_log_names_host(plain, h->host))
				stop = fn(h, arg, i++, res, r, plain);
			free(plain);
		}
		if (n > 0)
			from = strtoll(PQgetvalue(res, n - 1, 0), NULL, 10) +
			    1;
		PQclear(res);
	} while (!stop && n == TUI_HOSTDB_WALK_BATCH);
	return 0;
}

/* Counting: note every STEP'th match's seq. */
static int
tui_hostdb_count(struct tui_hostdb *h, void *arg, size_t i, PGresult *res,
    int r, const char *plain)
{
	(void)arg;
	(void)plain;
	if (i % TUI_HOSTDB_STEP == 0) {
		if (h->nnoted == h->nalloc) {
			h->nalloc = h->nalloc > 0 ? 2 * h->nalloc : 16;
			h->noted = xreallocarray(h->noted, h->nalloc,
			    sizeof *h->noted);
		}
		h->noted[h->nnoted++] = strtoll(PQgetvalue(res, r, 0), NULL,
		    10);
	}
	h->n = i + 1;
	return 0;
}

void
tui_hostdb_open(struct tui_hostdb *h, long long run, const char *started,
    long long last, const char *host)
{
	memset(h, 0, sizeof *h);
	h->run = run;
	h->started = xstrdup(started);
	h->last = last > 0 ? last : 0;
	h->host = xstrdup(host);
}

int
tui_hostdb_count_step(struct tui_hostdb *h, PGconn *pg, char **errp)
{
	PGresult	*res;
	long long	 upto;
	char		*plain;
	int		 r, n;

	if (h->counted >= h->last)
		return 0;
	upto = h->last - h->counted > TUI_HOSTDB_SPAN ?
	    h->counted + TUI_HOSTDB_SPAN : h->last;
	if ((res = tui_hostdb_read(h, pg, h->counted + 1, upto,
	    TUI_HOSTDB_BATCH, errp)) == NULL)
		return -1;
	n = PQntuples(res);
	for (r = 0; r < n; r++) {
		plain = output_plain(PQgetvalue(res, r, 2),
		    (size_t)PQgetlength(res, r, 2));
		if (tui_log_names_host(plain, h->host))
			tui_hostdb_count(h, NULL, h->n, res, r, plain);
		free(plain);
	}
	/* A full batch may stop short of upto: go on after its last row. */
	h->counted = n == TUI_HOSTDB_BATCH ? strtoll(PQgetvalue(res, n - 1,
	    0), NULL, 10) : upto;
	PQclear(res);
	return h->counted < h->last;
}

/* Filling the window [first, first + cap). */
static int
tui_hostdb_keep(struct tui_hostdb *h, void *arg, size_t i, PGresult *res,
    int r, const char *plain)
{
	struct tui_line	*line;

	(void)arg;
	if (i < h->first)
		return 0;
	if (i >= h->first + h->cap)
		return 1;
	line = &h->win[i - h->first];
	line->text = xstrdup(plain);
	line->level = atoi(PQgetvalue(res, r, 1)) == 2 ?
	    CHIFFON_LOG_WARNING : -1;
	line->run = h->run;
	line->seq = strtoll(PQgetvalue(res, r, 0), NULL, 10);
	h->nwin = i - h->first + 1;
	return i + 1 == h->first + h->cap;
}

/* Forget the window. */
static void
tui_hostdb_drop(struct tui_hostdb *h)
{
	size_t	i;

	for (i = 0; i < h->nwin; i++)
		free(h->win[i].text);
	free(h->win);
	h->win = NULL;
	h->nwin = h->cap = 0;
	free(h->error);
	h->error = NULL;
}

const struct tui_line *
tui_hostdb_line(struct tui_hostdb *h, PGconn *pg, size_t i, size_t rows,
    struct tui_line *tmp)
{
	char	*err = NULL;

	if (i >= h->n)
		return NULL;
	if (h->error == NULL && (h->win == NULL || i < h->first ||
	    i >= h->first + h->nwin)) {
		tui_hostdb_drop(h);
		h->first = i > rows ? i - rows : 0;
		h->cap = 3 * (rows > 0 ? rows : 1);
		h->win = xcalloc(h->cap, sizeof *h->win);
		if (pg == NULL)
			h->error = xstrdup("no database connection");
		else if (tui_hostdb_walk(h, pg, h->first / TUI_HOSTDB_STEP,
		    tui_hostdb_keep, NULL, &err) != 0)
			h->error = err;
	}
	if (h->error == NULL && i >= h->first && i < h->first + h->nwin)
		return &h->win[i - h->first];
	free(tmp->text);
	tmp->level = CHIFFON_LOG_WARNING;
	tmp->run = h->run;
	tmp->seq = 0;
	tmp->text = xasprintf("-- line %zu naming %s: %s --", i + 1, h->host,
	    h->error != NULL ? h->error : "no longer in the database");
	return tmp;
}

/* A search: matches from..below (exclusive) that match(plain, text). */
struct tui_hostdb_find {
	size_t		  from, below;
	int		  forward;
	int		(*match)(const char *, const char *);
	const char	 *text;
	size_t		  found;	/* index + 1, 0: none */
};

static int
tui_hostdb_look(struct tui_hostdb *h, void *arg, size_t i, PGresult *res,
    int r, const char *plain)
{
	struct tui_hostdb_find	*f = arg;

	(void)h;
	(void)res;
	(void)r;
	if (i >= f->below)
		return 1;
	if (i < f->from || !f->match(plain, f->text))
		return 0;
	f->found = i + 1;
	return f->forward;
}

int
tui_hostdb_find(struct tui_hostdb *h, PGconn *pg, size_t from, int forward,
    int (*match)(const char *, const char *), const char *text,
    size_t *indexp, char **errp)
{
	struct tui_hostdb_find	 f = { 0 };
	size_t			 k;

	f.match = match;
	f.text = text;
	f.forward = forward;
	if (forward) {
		if (from + 1 >= h->n)
			return 0;
		f.from = from + 1;
		f.below = h->n;
		if (tui_hostdb_walk(h, pg, f.from / TUI_HOSTDB_STEP,
		    tui_hostdb_look, &f, errp) != 0)
			return -1;
	} else {
		/* Segment by segment from the one holding from - 1. */
		for (k = from > 0 ? (from - 1) / TUI_HOSTDB_STEP + 1 : 0;
		    k-- > 0 && f.found == 0;) {
			f.from = k * TUI_HOSTDB_STEP;
			f.below = (k + 1) * TUI_HOSTDB_STEP < from ?
			    (k + 1) * TUI_HOSTDB_STEP : from;
			if (tui_hostdb_walk(h, pg, k, tui_hostdb_look, &f,
			    errp) != 0)
				return -1;
		}
	}
	if (f.found == 0)
		return 0;
	*indexp = f.found - 1;
	return 1;
}

void
tui_hostdb_free(struct tui_hostdb *h)
{
	tui_hostdb_drop(h);
	free(h->noted);
	free(h->started);
	free(h->host);
	memset(h, 0, sizeof *h);
}
