/*
 * tui-log.c - the scrolling line buffers behind the panes, and the Log
 * pane's live view.
 *
 * A ring of at most cap lines: adding past it drops the oldest.  The view
 * follows new lines until the user scrolls back (scroll > 0); while
 * scrolled back it stays on the same lines as new ones arrive, as in tmux's
 * copy mode, until it is scrolled to the bottom again.
 *
 * Lines are drawn in Ansible's colours (a table of line prefixes and the
 * PLAY RECAP counts), wrapped or cut.  The Log pane's live view puts,
 * above the ring of t->log, the lines of the ring's oldest run that it no
 * longer holds: they are read from run_output by (run id, seq) a few
 * screenfuls at a time when the view reaches them, so a run of any length
 * costs the same memory; a marker line stands for the other lines dropped
 * and for rows missing from the database.  Searches and the jumps to
 * failed tasks look in the ring and, above it, in run_output; a host
 * filter pages the lines naming the host from run_output the same way
 * (tui-loghost.c) and keeps a ring of its own for those in memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit-query.h"
#include "chiffon/plugin.h"
#include "db.h"
#include "loop.h"
#include "output.h"
#include "tui.h"
#include "util.h"

/* Lines a ring starts with; it doubles up to its cap as lines come. */
#define TUI_LOG_FIRST_ALLOC	64

void
tui_log_init(struct tui_log *l, size_t cap)
{
	memset(l, 0, sizeof *l);
	l->cap = cap > 0 ? cap : 1;
	l->alloc = l->cap < TUI_LOG_FIRST_ALLOC ? l->cap : TUI_LOG_FIRST_ALLOC;
	l->lines = xcalloc(l->alloc, sizeof *l->lines);
}

void
tui_log_clear(struct tui_log *l)
{
	size_t	i;

	for (i = 0; i < l->count; i++)
		free(l->lines[(l->start + i) % l->cap].text);
	l->start = l->count = l->scroll = l->dropped = l->above = 0;
}

void
tui_log_free(struct tui_log *l)
{
	tui_log_clear(l);
	free(l->lines);
	memset(l, 0, sizeof *l);
}

/* Append one line (len bytes of text), of run run (0: none). */
static void
tui_log_push(struct tui_log *l, int level, const char *text, size_t len,
    long long run, long long seq)
{
	struct tui_line	*line;
	size_t		 n;

	/* Not wrapped yet (start is 0): room for one more line. */
	if (l->count == l->alloc && l->alloc < l->cap) {
		n = l->alloc * 2 < l->cap ? l->alloc * 2 : l->cap;
		l->lines = xreallocarray(l->lines, n, sizeof *l->lines);
		memset(l->lines + l->alloc, 0, (n - l->alloc) *
		    sizeof *l->lines);
		l->alloc = n;
	}
	if (l->count == l->cap) {
		line = &l->lines[l->start];
		free(line->text);
		l->start = (l->start + 1) % l->cap;
		l->count--;
		l->dropped++;
	}
	/* Keep a scrolled-back view on the same lines. */
	if (l->scroll > 0)
		l->scroll++;
	line = &l->lines[(l->start + l->count) % l->cap];
	line->level = level;
	line->text = xstrndup(text, len);
	line->run = run;
	line->seq = seq;
	l->count++;
	if (l->scroll >= l->count + l->above)
		l->scroll = l->count + l->above - 1;
}

void
tui_log_add_run(struct tui_log *l, long long run, long long seq,
    const char *text)
{
	tui_log_push(l, CHIFFON_LOG_INFO, text, strcspn(text, "\n"), run,
	    seq);
}

void
tui_log_add(struct tui_log *l, int level, const char *text)
{
	const char	*nl;

	for (;;) {
		nl = strchr(text, '\n');
		if (nl == NULL) {
			tui_log_push(l, level, text, strlen(text), 0, 0);
			return;
		}
		tui_log_push(l, level, text, nl - text, 0, 0);
		text = nl + 1;
		if (*text == '\0')
			return;
	}
}

const struct tui_line *
tui_log_get(const struct tui_log *l, size_t i)
{
	if (i >= l->count)
		return NULL;
	return &l->lines[(l->start + i) % l->cap];
}

/* Largest useful scroll for a window of rows lines. */
static size_t
tui_log_max_scroll(const struct tui_log *l, size_t rows)
{
	size_t	total = l->count + l->above;

	return total > rows ? total - rows : 0;
}

void
tui_log_scroll(struct tui_log *l, long delta, size_t rows)
{
	size_t	max = tui_log_max_scroll(l, rows);

	if (delta < 0 && (size_t)-delta >= l->scroll)
		l->scroll = 0;
	else if (delta < 0)
		l->scroll -= (size_t)-delta;
	else
		l->scroll += (size_t)delta;
	if (l->scroll > max)
		l->scroll = max;
}

size_t
tui_log_first(const struct tui_log *l, size_t rows)
{
	size_t	scroll = l->scroll, max = tui_log_max_scroll(l, rows);

	if (scroll > max)
		scroll = max;
	return tui_log_max_scroll(l, rows) - scroll;
}

/* -- colours and classes ------------------------------------------------ */

/* Colour pairs (tui_log_colors_start). */
enum {
	TUI_PAIR_RED = 1,
	TUI_PAIR_YELLOW,
	TUI_PAIR_GREEN,
	TUI_PAIR_CYAN,
};

/* Curses' colours are started (the one screen of the process). */
static int	tui_log_colored;

void
tui_log_colors_start(void)
{
	const char	*no = getenv("NO_COLOR");
	short		 bg = -1;

	tui_log_colored = 0;
	if (!has_colors() || (no != NULL && *no != '\0') ||
	    start_color() == ERR)
		return;
	if (use_default_colors() == ERR)
		bg = COLOR_BLACK;
	init_pair(TUI_PAIR_RED, COLOR_RED, bg);
	init_pair(TUI_PAIR_YELLOW, COLOR_YELLOW, bg);
	init_pair(TUI_PAIR_GREEN, COLOR_GREEN, bg);
	init_pair(TUI_PAIR_CYAN, COLOR_CYAN, bg);
	tui_log_colored = 1;
}

int
tui_log_colors(void)
{
	return tui_log_colored;
}

/* How a line that begins with prefix is coloured (Ansible's own). */
static const struct {
	const char	*prefix;
	enum tui_class	 cls;
} tui_log_classes[] = {
	{ "ok: [",		TUI_CLASS_OK },
	{ "changed: [",		TUI_CLASS_CHANGED },
	{ "fatal: [",		TUI_CLASS_FAILED },
	{ "failed: [",		TUI_CLASS_FAILED },
	{ "unreachable: [",	TUI_CLASS_FAILED },
	{ "ERROR!",		TUI_CLASS_FAILED },
	{ "skipping: [",	TUI_CLASS_SKIPPED },
	{ "...ignoring",	TUI_CLASS_SKIPPED },
};

/* A PLAY RECAP counter of line ("failed=1"), 0 when absent. */
static long
tui_log_counter(const char *line, const char *name)
{
	const char	*p = strstr(line, name);

	return p != NULL ? strtol(p + strlen(name), NULL, 10) : 0;
}

/* The class of plain text. */
static enum tui_class
tui_log_class_plain(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(tui_log_classes); i++)
		if (strncmp(s, tui_log_classes[i].prefix,
		    strlen(tui_log_classes[i].prefix)) == 0)
			return tui_log_classes[i].cls;
	/* A recap row: "docker1   : ok=2 changed=1 unreachable=0 ...". */
	if (*s != ' ' && *s != '\0' && strstr(s, " : ok=") != NULL &&
	    strstr(s, " failed=") != NULL) {
		if (tui_log_counter(s, " failed=") > 0 ||
		    tui_log_counter(s, " unreachable=") > 0)
			return TUI_CLASS_FAILED;
		if (tui_log_counter(s, " changed=") > 0)
			return TUI_CLASS_CHANGED;
		return TUI_CLASS_OK;
	}
	return TUI_CLASS_NONE;
}

enum tui_class
tui_log_class(const char *text)
{
	enum tui_class	 cls;
	char		*plain;

	if (strchr(text, '\033') == NULL)
		return tui_log_class_plain(text);
	plain = output_plain(text, strlen(text));
	cls = tui_log_class_plain(plain);
	free(plain);
	return cls;
}

int
tui_log_is_failure(const char *line)
{
	return strncmp(line, "fatal: [", 8) == 0 ||
	    strncmp(line, "failed: [", 9) == 0;
}

int
tui_log_names_host(const char *line, const char *host)
{
	size_t		 hl = strlen(host);
	const char	*p;

	if (hl == 0)
		return 1;
	/* "[host]", "[host -> other]", "[other -> host]" */
	for (p = strstr(line, host); p != NULL; p = strstr(p + 1, host)) {
		if (p > line && (p[-1] == '[' || (p - line >= 3 &&
		    strncmp(p - 3, "-> ", 3) == 0)) && (p[hl] == ']' ||
		    strncmp(p + hl, " -> ", 4) == 0))
			return 1;
	}
	/* Its PLAY RECAP row. */
	if (strncmp(line, host, hl) == 0 && line[hl] == ' ') {
		for (p = line + hl; *p == ' '; p++)
			/* nothing */;
		return *p == ':' && strstr(p, " ok=") != NULL;
	}
	return 0;
}

/* Attributes for a line: by level, then (output) by its class. */
static attr_t
tui_log_attr(const struct tui_line *line)
{
	int	c = tui_log_colored;

	switch (line->level) {
	case CHIFFON_LOG_ERROR:
		return A_BOLD | (c ? COLOR_PAIR(TUI_PAIR_RED) : 0);
	case CHIFFON_LOG_WARNING:
		return c ? COLOR_PAIR(TUI_PAIR_YELLOW) : A_BOLD;
	case CHIFFON_LOG_DEBUG:
		return A_DIM;
	default:
		break;
	}
	switch (tui_log_class_plain(line->text)) {
	case TUI_CLASS_OK:
		return c ? COLOR_PAIR(TUI_PAIR_GREEN) : A_NORMAL;
	case TUI_CLASS_CHANGED:
		return c ? COLOR_PAIR(TUI_PAIR_YELLOW) : A_NORMAL;
	case TUI_CLASS_FAILED:
		return c ? COLOR_PAIR(TUI_PAIR_RED) : A_BOLD;
	case TUI_CLASS_SKIPPED:
		return c ? COLOR_PAIR(TUI_PAIR_CYAN) : A_NORMAL;
	default:
		return A_NORMAL;
	}
}

/*
 * Non-zero for an Ansible banner ("TASK [x] *****..."), drawn as wide
 * as the pty it ran on: cut at the right edge, never wrapped.
 */
static int
tui_log_banner(const char *s)
{
	size_t	len = strlen(s);

	return len > 4 && strcmp(s + len - 3, "***") == 0 &&
	    strstr(s, " ***") != NULL;
}

int
tui_log_height(const struct tui_line *line, int cols, int shift)
{
	int	width;

	if (shift >= 0 || cols <= 0 || tui_log_banner(line->text))
		return 1;
	width = tui_text_width(line->text, strlen(line->text));
	return width > cols ? (width + cols - 1) / cols : 1;
}

void
tui_log_put(WINDOW *w, int *y, int rows, const struct tui_line *line,
    int shift)
{
	int	cols = getmaxx(w), skip = 0, n;

	wattrset(w, tui_log_attr(line));
	if (shift >= 0 || tui_log_banner(line->text)) {
		wmove(w, *y, 0);
		tui_text_put(w, line->text, shift > 0 ? shift : 0, cols);
		(*y)++;
	} else {
		n = tui_log_height(line, cols, shift);
		while (n-- > 0 && *y < rows) {
			wmove(w, *y, 0);
			tui_text_put(w, line->text, skip, cols);
			skip += cols;
			(*y)++;
		}
	}
	wattrset(w, A_NORMAL);
}

void
tui_log_draw(const struct tui_log *l, WINDOW *w)
{
	const struct tui_line	*line;
	int			 rows, cols, y;
	size_t			 first;

	getmaxyx(w, rows, cols);
	werase(w);
	first = tui_log_first(l, (size_t)rows);
	for (y = 0; y < rows; y++) {
		line = tui_log_get(l, first + (size_t)y);
		if (line == NULL)
			break;
		wmove(w, y, 0);
		wattrset(w, tui_log_attr(line));
		tui_text_put(w, line->text, 0, cols);
		wattrset(w, A_NORMAL);
	}
	wnoutrefresh(w);
}

/* -- the Log pane's live view -------------------------------------------- */

#define TUI_LOGPANE_FIND_TRIES	100	/* candidates a failure search checks */
#define TUI_LOGPANE_HOST_LINES	10000	/* lines a host filter keeps */

/*
 * Lines of one run read back from run_output around the view: a cache
 * of a few screenfuls, by seq.
 */
struct tui_logdb {
	long long	 run;		/* runs.id, 0: none */
	char		*started;	/* its runs.started_at (the partition),
					   NULL until read */
	char		*status;	/* its runs.status */
	long long	 first;		/* seq of lines[0] */
	struct tui_line	*lines;		/* text NULL: not stored */
	size_t		 n;
	char		*error;		/* why nothing could be read */
};

/* The live view's state (t->logpane, made on first use). */
struct tui_logpane {
	int		 shift;		/* -1: long lines wrap; else cut, the
					   columns skipped at the left */
	size_t		 above_run;	/* lines of the ring's oldest run
					   above the ring (paged) */
	int		 marker;	/* a first line: output dropped */
	char		*marker_text;
	char		*host;		/* the host filter, or NULL */
	int		 host_replay;	/* on the replayed log, not the live
					   one */
	struct tui_log	 hostlog;	/* the lines naming it in memory,
					   hostdb's above them */
	struct tui_hostdb hostdb;	/* those in run_output, paged */
	int		 count_timer;	/* counting hostdb's, or 0 */
	uint64_t	 count_drawn;	/* when counting last drew (ms) */
	struct tui_line	 htmp;		/* a line made for the host view */
	struct tui_logdb db;		/* the ring's oldest run */
	struct tui_line	 tmp;		/* a line made for the view */
	char		*note;		/* said in the title until the next
					   key ("no failed task below") */
	size_t		 drawn;		/* lines the last draw showed */
};

static struct tui_logpane *
tui_logpane_get(struct tui *t)
{
	if (t->logpane == NULL) {
		t->logpane = xcalloc(1, sizeof *t->logpane);
		t->logpane->shift = -1;
	}
	return t->logpane;
}

/* Forget the cached lines (and, with all, the run). */
static void
tui_logdb_reset(struct tui_logdb *db, int all)
{
	size_t	i;

	for (i = 0; i < db->n; i++)
		free(db->lines[i].text);
	free(db->lines);
	db->lines = NULL;
	db->n = 0;
	free(db->error);
	db->error = NULL;
	if (all) {
		free(db->started);
		free(db->status);
		db->started = db->status = NULL;
		db->run = 0;
	}
}

static PGconn *
tui_logpane_pg(struct tui *t, char **errp)
{
	struct db	*db = app_db(t->app, errp);

	return db != NULL ? db_pg(db) : NULL;
}

/* The run's partition and status, once.  0, or -1 with *errp. */
static int
tui_logdb_open(struct tui *t, struct tui_logdb *db, char **errp)
{
	const char	*params[1];
	char		 id[32];
	PGresult	*res;
	PGconn		*pg;

	if (db->started != NULL)
		return 0;
	if ((pg = tui_logpane_pg(t, errp)) == NULL)
		return -1;
	snprintf(id, sizeof id, "%lld", db->run);
	params[0] = id;
	res = PQexecParams(pg, "SELECT started_at::text, status FROM runs "
	    "WHERE id = $1::bigint", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		set_error(errp, "run %lld: %s", db->run,
		    PQresultStatus(res) == PGRES_TUPLES_OK ? "no such run" :
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	db->started = xstrdup(PQgetvalue(res, 0, 0));
	db->status = xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/*
 * Read the lines from seq from on (at most limit, none after last) into
 * the cache, by keyset (run id, seq).  A seq with no row is kept as not
 * stored.
 */
static void
tui_logdb_fetch(struct tui *t, struct tui_logdb *db, long long from,
    size_t limit, long long last)
{
	PGresult	*res;
	PGconn		*pg;
	char		*err = NULL, *line;
	long long	 seq;
	size_t		 i, n;

	tui_logdb_reset(db, 0);
	if (from < 1)
		from = 1;
	if (last - from + 1 < (long long)limit)
		limit = last >= from ? (size_t)(last - from + 1) : 0;
	db->first = from;
	if (limit == 0)
		return;
	if (tui_logdb_open(t, db, &err) != 0 ||
	    (pg = tui_logpane_pg(t, &err)) == NULL ||
	    (res = audit_query_output_page(pg, db->run, db->started,
	    from - 1, (int)limit, &err)) == NULL) {
		db->error = err;
		return;
	}
	db->lines = xcalloc(limit, sizeof *db->lines);
	db->n = limit;
	n = (size_t)PQntuples(res);
	for (i = 0; i < n; i++) {
		seq = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
		if (seq < from || seq - from >= (long long)limit)
			continue;
		/* As the live pane shows it: no terminal sequences. */
		line = output_plain(PQgetvalue(res, (int)i, 2),
		    (size_t)PQgetlength(res, (int)i, 2));
		db->lines[seq - from].text = line;
		db->lines[seq - from].level = atoi(PQgetvalue(res, (int)i,
		    1)) == 2 ? CHIFFON_LOG_WARNING : -1;
		db->lines[seq - from].run = db->run;
		db->lines[seq - from].seq = seq;
	}
	PQclear(res);
}

/*
 * Line seq of the run (at most last), read with the screenfuls around
 * it when not cached; a marker line (in tmp) when it is not stored.
 */
static const struct tui_line *
tui_logdb_line(struct tui *t, struct tui_logdb *db, long long seq,
    long long last, size_t rows, struct tui_line *tmp)
{
	struct tui_line	*line;

	if (db->error == NULL && (seq < db->first ||
	    seq >= db->first + (long long)db->n))
		tui_logdb_fetch(t, db, seq - (long long)rows, 3 * rows,
		    last);
	free(tmp->text);
	tmp->text = NULL;
	tmp->run = db->run;
	tmp->seq = seq;
	tmp->level = CHIFFON_LOG_WARNING;
	if (db->error != NULL) {
		tmp->text = xasprintf("-- line %lld: %s --", seq, db->error);
		return tmp;
	}
	line = &db->lines[seq - db->first];
	if (line->text != NULL)
		return line;
	tmp->text = xasprintf("-- line %lld of run %lld is not in the "
	    "database (%s) --", seq, db->run, db->status != NULL &&
	    strcmp(db->status, "running") == 0 ? "not stored yet, or "
	    "spooled" : "lost, or still in the spool");
	return tmp;
}

/*
 * Bring the view's idea of what is above the ring up to date: the lines
 * of the ring's oldest run before its oldest line, and a marker when
 * other lines were dropped.
 */
static void
tui_logpane_sync(struct tui *t)
{
	struct tui_logpane	*lp = tui_logpane_get(t);
	struct tui_log		*l = &t->log;
	const struct tui_line	*o = tui_log_get(l, 0);
	long long		 run = o != NULL ? o->run : 0;
	size_t			 above = 0, other;

	if (run != lp->db.run) {
		tui_logdb_reset(&lp->db, 1);
		lp->db.run = run;
	}
	if (run > 0 && o->seq > 1)
		above = (size_t)(o->seq - 1);
	lp->above_run = above;
	lp->marker = l->dropped > above;
	if (lp->marker) {
		other = l->dropped - above;
		free(lp->marker_text);
		lp->marker_text = xasprintf("-- %zu earlier line%s of this "
		    "session %s no longer kept here (the log file has them; "
		    "History replays every run) --", other, other == 1 ? "" :
		    "s", other == 1 ? "is" : "are");
	}
	l->above = (size_t)lp->marker + above;
}

/* Line v of the live view (marker, run_output, ring). */
static const struct tui_line *
tui_logpane_line(struct tui *t, size_t v, size_t rows)
{
	struct tui_logpane	*lp = t->logpane;

	if (lp->marker && v == 0) {
		free(lp->tmp.text);
		lp->tmp.text = xstrdup(lp->marker_text);
		lp->tmp.level = CHIFFON_LOG_WARNING;
		lp->tmp.run = lp->tmp.seq = 0;
		return &lp->tmp;
	}
	if (v < t->log.above)
		return tui_logdb_line(t, &lp->db, (long long)(v -
		    (size_t)lp->marker) + 1, (long long)lp->above_run, rows,
		    &lp->tmp);
	return tui_log_get(&t->log, v - t->log.above);
}

/*
 * Line v of the view of l: the live view's (live), or the host filter's
 * (the lines paged from run_output, then its ring).
 */
static const struct tui_line *
tui_logpane_vline(struct tui *t, struct tui_log *l, size_t v, size_t rows,
    int live)
{
	struct tui_logpane	*lp = t->logpane;

	if (live)
		return tui_logpane_line(t, v, rows);
	if (l == &lp->hostlog && v < l->above)
		return tui_hostdb_line(&lp->hostdb, tui_logpane_pg(t, NULL),
		    v, rows, &lp->htmp);
	return tui_log_get(l, v - l->above);
}

/* Where a view of total lines is ("lines 1-38 of 100"), or NULL. */
static char *
tui_logpane_where(size_t first, size_t last, size_t total, int shift)
{
	char	*s, *cut;

	if (total == 0)
		return NULL;
	s = xasprintf("lines %zu-%zu of %zu", first + 1, last, total);
	if (first > 0) {
		cut = xasprintf("%s, %zu more above (PgUp)", s, first);
		free(s);
		s = cut;
	}
	if (last < total) {
		cut = xasprintf("%s, %zu more below (PgDn)", s, total - last);
		free(s);
		s = cut;
	}
	if (shift > 0) {
		cut = xasprintf("%s, from column %d (w: wrap)", s, shift + 1);
		free(s);
		s = cut;
	} else if (shift == 0) {
		cut = xasprintf("%s, cut (w: wrap)", s);
		free(s);
		s = cut;
	}
	return s;
}

/*
 * The first line of the view of l in rows x cols (live: its above lines
 * through tui_logpane_line): following and wrapping, as many of the last
 * lines as fit.
 */
static size_t
tui_logpane_first(struct tui *t, struct tui_log *l, size_t rows, int cols,
    int live)
{
	const struct tui_line	*line;
	size_t			 total = l->count + l->above, v;
	int			 y, h;

	if (l->scroll != 0 || t->logpane->shift >= 0)
		return tui_log_first(l, rows);
	for (y = 0, v = total; v > 0; v--) {
		line = tui_logpane_vline(t, l, v - 1, rows, live);
		if (line == NULL)
			break;
		h = tui_log_height(line, cols, t->logpane->shift);
		if (y + h > (int)rows && v < total)
			break;
		y += h;
	}
	return v;
}

/* Draw the view of l (its above lines through tui_logpane_line). */
static char *
tui_logpane_draw_view(struct tui *t, struct tui_log *l, WINDOW *w,
    int live)
{
	struct tui_logpane	*lp = t->logpane;
	const struct tui_line	*line;
	size_t			 rows = (size_t)getmaxy(w), total, first, v;
	int			 y, cols = getmaxx(w);

	total = l->count + l->above;
	first = tui_logpane_first(t, l, rows, cols, live);
	werase(w);
	for (y = 0, v = first; y < (int)rows && v < total; v++) {
		line = tui_logpane_vline(t, l, v, rows, live);
		if (line == NULL)
			break;
		tui_log_put(w, &y, (int)rows, line, lp->shift);
	}
	lp->drawn = v - first;
	wnoutrefresh(w);
	return tui_logpane_where(first, v, total, lp->shift);
}

/* The title's text with the note after it.  Frees where. */
static char *
tui_logpane_title(struct tui_logpane *lp, char *where)
{
	char	*s;

	if (lp->note == NULL)
		return where;
	s = where != NULL ? xasprintf("%s, %s", where, lp->note) :
	    xstrdup(lp->note);
	free(where);
	return s;
}

char *
tui_logpane_draw(struct tui *t, WINDOW *w)
{
	struct tui_logpane	*lp = tui_logpane_get(t);
	char			*where, *s;

	if (lp->host != NULL) {
		where = tui_logpane_draw_view(t, &lp->hostlog, w, 0);
		s = xasprintf("host %s: %s%s", lp->host, lp->count_timer != 0 ?
		    "counting the lines above, " : "", where != NULL ? where :
		    "no line names it (Esc h on an empty line: all lines)");
		free(where);
		return tui_logpane_title(lp, s);
	}
	tui_logpane_sync(t);
	return tui_logpane_title(lp, tui_logpane_draw_view(t, &t->log, w,
	    1));
}

void
tui_logpane_note(struct tui *t, const char *note)
{
	struct tui_logpane	*lp = tui_logpane_get(t);

	free(lp->note);
	lp->note = note != NULL ? xstrdup(note) : NULL;
}

/* Make line v the top of the view of l (the end: follow). */
static void
tui_logpane_show(struct tui_log *l, size_t v, size_t rows)
{
	size_t	total = l->count + l->above;
	size_t	max = total > rows ? total - rows : 0;

	l->scroll = v >= max ? 0 : max - v;
}

/* What a search looks for in plain text: text, or (NULL) a failure. */
static int
tui_logpane_match(const char *line, const char *text)
{
	return text != NULL ? strstr(line, text) != NULL :
	    tui_log_is_failure(line);
}

/*
 * In run_output: the first line of db's run after seq from (forward)
 * or the last before it, at most seq last, with text (NULL: a failed
 * task's line).  Its seq, 0 for none, -1 with *errp.
 */
static long long
tui_logdb_find(struct tui *t, struct tui_logdb *db, long long from,
    long long last, int forward, const char *text, char **errp)
{
	const char	*params[7];
	char		 b[3][32], *plain;
	PGresult	*res;
	PGconn		*pg;
	long long	 seq;
	int		 tries, ok;

	if (tui_logdb_open(t, db, errp) != 0 ||
	    (pg = tui_logpane_pg(t, errp)) == NULL)
		return -1;
	for (tries = 0; tries < TUI_LOGPANE_FIND_TRIES; tries++) {
		snprintf(b[0], sizeof b[0], "%lld", db->run);
		snprintf(b[1], sizeof b[1], "%lld", from);
		snprintf(b[2], sizeof b[2], "%lld", last);
		params[0] = b[0];
		params[1] = db->started;
		params[2] = b[1];
		params[3] = b[2];
		params[4] = text != NULL ? text : "fatal: [";
		params[5] = text != NULL ? text : "failed: [";
		params[6] = forward ? "f" : "t";
		/* By the chunks' index (schema 016). */
		res = PQexecParams(pg, "SELECT seq, line FROM "
		    "chiffon_run_lines($1::bigint, $2::timestamptz, "
		    "$3::bigint, $4::bigint, 1, ARRAY[$5, $6], $7::boolean)",
		    7, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			set_error(errp, "run %lld: cannot search its output: "
			    "%s", db->run, PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		if (PQntuples(res) == 0) {
			PQclear(res);
			return 0;
		}
		seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		/* As shown: without terminal sequences. */
		plain = output_plain(PQgetvalue(res, 0, 1),
		    (size_t)PQgetlength(res, 0, 1));
		ok = tui_logpane_match(plain, text);
		free(plain);
		PQclear(res);
		if (ok)
			return seq;
		from = seq;
	}
	return 0;
}

/* Search the view (live or host filter); see tui_logpane_search. */
static int
tui_logpane_find(struct tui *t, const char *text, int dir, char **errp)
{
	struct tui_logpane	*lp = tui_logpane_get(t);
	struct tui_log		*l = lp->host != NULL ? &lp->hostlog : &t->log;
	const struct tui_line	*line;
	size_t			 rows = (size_t)t->geom.log_h, v0, i, above;
	long long		 seq = 0, from;
	int			 db, hdb, rc;
	PGconn			*pg;

	if (lp->host == NULL)
		tui_logpane_sync(t);
	db = lp->host == NULL && lp->above_run > 0;
	hdb = lp->host != NULL && l->above > 0;
	above = l->above;
	v0 = tui_logpane_first(t, l, rows, t->geom.cols, lp->host == NULL);
	/*
	 * Following, the previous failure is the last one of all, even
	 * when on screen (a text is searched above the top line: the
	 * "not found" message below it holds the text too).
	 */
	if (dir < 0 && l->scroll == 0 && text == NULL)
		v0 = l->count + above;
	if (dir > 0 && hdb && v0 < above) {
		/* The host filter's lines in run_output. */
		if ((pg = tui_logpane_pg(t, errp)) == NULL ||
		    (rc = tui_hostdb_find(&lp->hostdb, pg, v0, 1,
		    tui_logpane_match, text, &i, errp)) < 0)
			return -1;
		if (rc > 0) {
			tui_logpane_show(l, i, rows);
			return 1;
		}
	}
	if (dir > 0) {
		if (db && v0 < above) {
			from = v0 < (size_t)lp->marker ? 0 :
			    (long long)(v0 - (size_t)lp->marker) + 1;
			seq = tui_logdb_find(t, &lp->db, from,
			    (long long)lp->above_run, 1, text, errp);
			if (seq < 0)
				return -1;
		}
		if (seq > 0) {
			tui_logpane_show(l, (size_t)lp->marker +
			    (size_t)seq - 1, rows);
			return 1;
		}
		for (i = v0 < above ? 0 : v0 - above + 1; i < l->count; i++) {
			line = tui_log_get(l, i);
			if (tui_logpane_match(line->text, text)) {
				tui_logpane_show(l, above + i, rows);
				return 1;
			}
		}
		return 0;
	}
	for (i = v0 > above ? v0 - above : 0; i-- > 0;) {
		line = tui_log_get(l, i);
		if (tui_logpane_match(line->text, text)) {
			tui_logpane_show(l, above + i, rows);
			return 1;
		}
	}
	if (hdb) {
		if ((pg = tui_logpane_pg(t, errp)) == NULL ||
		    (rc = tui_hostdb_find(&lp->hostdb, pg, v0 < above ? v0 :
		    above, 0, tui_logpane_match, text, &i, errp)) < 0)
			return -1;
		if (rc > 0)
			tui_logpane_show(l, i, rows);
		return rc;
	}
	if (!db)
		return 0;
	from = v0 >= above ? (long long)lp->above_run + 1 :
	    v0 < (size_t)lp->marker ? 0 :
	    (long long)(v0 - (size_t)lp->marker) + 1;
	if (from <= 1)
		return 0;
	seq = tui_logdb_find(t, &lp->db, from, (long long)lp->above_run, 0,
	    text, errp);
	if (seq <= 0)
		return (int)seq;
	tui_logpane_show(l, (size_t)lp->marker + (size_t)seq - 1, rows);
	return 1;
}

int
tui_logpane_search(struct tui *t, const char *text, int dir, char **errp)
{
	return tui_logpane_find(t, text, dir, errp);
}

int
tui_logpane_shift(struct tui *t)
{
	return tui_logpane_get(t)->shift;
}

/* Failed tasks: jump, or say there is none. */
static void
tui_logpane_failure(struct tui *t, int dir)
{
	const char	*msg;
	char		*err = NULL;
	int		 found;

	if (t->replay != NULL && t->logpane->host == NULL)
		found = tui_replay_failure(t, dir, &err);
	else
		found = tui_logpane_find(t, NULL, dir, &err);
	if (found < 0) {
		tui_log_line(t, CHIFFON_LOG_ERROR, NULL, err);
		free(err);
	} else if (found == 0) {
		msg = dir > 0 ? "no failed task (fatal: or failed:) below the "
		    "top line" : "no failed task (fatal: or failed:) above "
		    "the top line";
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
		tui_logpane_note(t, dir > 0 ? "no failed task below" :
		    "no failed task above");
	}
}

int
tui_logpane_key(struct tui *t, enum tui_request req, size_t rows)
{
	struct tui_logpane	*lp = tui_logpane_get(t);
	struct tui_log		*l;
	size_t			 v, page, total, max;
	int			 step = t->geom.cols / 2 > 0 ?
	    t->geom.cols / 2 : 1;

	tui_logpane_note(t, NULL);
	switch (req) {
	case TUI_REQ_WRAP:
		lp->shift = lp->shift < 0 ? 0 : -1;
		return 1;
	case TUI_REQ_LEFT:
		if (lp->shift <= 0)
			return 0;
		lp->shift = lp->shift > step ? lp->shift - step : 0;
		return 1;
	case TUI_REQ_RIGHT:
		if (lp->shift < 0)
			return 0;
		lp->shift += step;
		return 1;
	case TUI_REQ_FAIL_NEXT:
	case TUI_REQ_FAIL_PREV:
		tui_logpane_failure(t, req == TUI_REQ_FAIL_NEXT ? 1 : -1);
		return 1;
	default:
		break;
	}
	if (t->replay != NULL && lp->host == NULL)
		return tui_replay_key(t, req, rows);
	l = lp->host != NULL ? &lp->hostlog : &t->log;
	if (lp->host == NULL)
		tui_logpane_sync(t);
	if (l->scroll == 0 && (req == TUI_REQ_PAGE_UP ||
	    req == TUI_REQ_LINE_UP)) {
		/* Leaving the end: from the first line shown (wrapped). */
		v = tui_logpane_first(t, l, rows, t->geom.cols,
		    lp->host == NULL);
		page = req == TUI_REQ_PAGE_UP ? (rows > 1 ? rows - 1 : 1) : 1;
		v = v > page ? v - page : 0;
		total = l->count + l->above;
		max = total > rows ? total - rows : 0;
		if (max > 0)
			l->scroll = v >= max ? 1 : max - v;
		return 1;
	}
	if (req == TUI_REQ_PAGE_DOWN && lp->drawn > 1 && lp->drawn < rows) {
		/*
		 * From the line after the last one shown (wrapped lines take
		 * rows: none is skipped); the end when following would
		 * start there.
		 */
		v = tui_logpane_first(t, l, rows, t->geom.cols,
		    lp->host == NULL) + lp->drawn;
		page = l->scroll;
		l->scroll = 0;
		if (v < tui_logpane_first(t, l, rows, t->geom.cols,
		    lp->host == NULL)) {
			l->scroll = page;
			tui_log_scroll(l, -(long)lp->drawn, rows);
		}
		return 1;
	}
	return tui_pane_log_key(l, req, rows);
}

/* A copy of line at the end of l. */
static void
tui_log_copy(struct tui_log *l, const struct tui_line *line)
{
	tui_log_push(l, line->level, line->text, strlen(line->text),
	    line->run, line->seq);
}

/* Stop counting the host filter's lines in run_output. */
static void
tui_logpane_count_stop(struct tui *t, struct tui_logpane *lp)
{
	if (lp->count_timer != 0)
		loop_remove(t->loop, lp->count_timer);
	lp->count_timer = 0;
}

/* While the host filter counts, the view is drawn this often. */
#define TUI_LOGPANE_COUNT_DRAW_MS	200

/* The count stopped (err, freed here): said in the title. */
static void
tui_logpane_count_failed(struct tui *t, char *err)
{
	char	*note = xasprintf("counting stopped: %s", err);

	tui_logpane_note(t, note);
	free(note);
	free(err);
}

/*
 * The host filter's count of its lines in run_output, a step (one
 * bounded query) per loop round, so that keys are answered in between;
 * the view grows as they are counted.
 */
static int
tui_logpane_count_cb(void *data)
{
	struct tui		*t = data;
	struct tui_logpane	*lp = t->logpane;
	PGconn			*pg;
	char			*err = NULL;
	int			 rc;

	if ((pg = tui_logpane_pg(t, &err)) == NULL)
		rc = -1;
	else
		rc = tui_hostdb_count_step(&lp->hostdb, pg, &err);
	lp->hostlog.above = lp->hostdb.n;
	if (rc < 0)
		tui_logpane_count_failed(t, err);
	if (rc != 1)
		lp->count_timer = 0;
	/* Drawn every TUI_LOGPANE_COUNT_DRAW_MS and at the end: a draw may
	   read a window of the view from the database. */
	if (rc != 1 || now_ms() - lp->count_drawn >= TUI_LOGPANE_COUNT_DRAW_MS) {
		tui_layout_draw_panes(t);
		lp->count_drawn = now_ms();
	}
	return rc != 1;
}

int
tui_logpane_host(struct tui *t, const char *host, char **errp)
{
	struct tui_logpane	*lp = tui_logpane_get(t);
	struct tui_hostdb	 hdb;
	struct tui_log		 nl;
	const struct tui_line	*line;
	const char		*started = NULL;
	long long		 run = 0, total = 0;
	PGconn			*pg = NULL;
	char			*err = NULL;
	size_t			 i;
	int			 replay = t->replay != NULL, rc = 0;

	if (host != NULL && *host != '\0' && strpbrk(host, " \t[]:") !=
	    NULL)
		return set_error(errp, "host filter: '%s' is not a host name "
		    "(type one host, for example docker1)", host);
	/* A note of the view before ("not found") is no longer true. */
	tui_logpane_note(t, NULL);
	tui_logpane_count_stop(t, lp);
	if (host == NULL || *host == '\0') {
		free(lp->host);
		lp->host = NULL;
		tui_log_free(&lp->hostlog);
		tui_hostdb_free(&lp->hostdb);
		return 0;
	}
	if (replay) {
		/* The replayed run, all from the database. */
		tui_replay_run(t, &run, &started, &total);
	} else {
		/* The lines of the ring's oldest run above the ring. */
		tui_logpane_sync(t);
		if (lp->above_run > 0) {
			if (tui_logdb_open(t, &lp->db, errp) != 0)
				return -1;
			run = lp->db.run;
			started = lp->db.started;
			total = (long long)lp->above_run;
		}
	}
	if (total > 0 && (pg = tui_logpane_pg(t, errp)) == NULL)
		return -1;
	tui_hostdb_open(&hdb, run, started != NULL ? started : "", total,
	    host);
	tui_log_init(&nl, TUI_LOGPANE_HOST_LINES);
	for (i = 0; !replay && i < t->log.count; i++) {
		line = tui_log_get(&t->log, i);
		if (tui_log_names_host(line->text, host))
			tui_log_copy(&nl, line);
	}
	lp->host_replay = replay;
	tui_log_free(&lp->hostlog);
	lp->hostlog = nl;
	tui_hostdb_free(&lp->hostdb);
	lp->hostdb = hdb;
	free(lp->host);
	lp->host = xstrdup(host);
	if (total > 0 && t->loop != NULL) {
		lp->count_timer = loop_add_timer(t->loop, 1,
		    tui_logpane_count_cb, t, NULL, NULL);
		if (lp->count_timer < 0)
			lp->count_timer = 0;
	}
	/* Without a loop (or a timer), counted now. */
	while (total > 0 && lp->count_timer == 0 &&
	    (rc = tui_hostdb_count_step(&lp->hostdb, pg, &err)) == 1)
		;
	if (rc < 0)
		tui_logpane_count_failed(t, err);
	lp->hostlog.above = lp->hostdb.n;
	return 0;
}

void
tui_logpane_replay_end(struct tui *t)
{
	if (t->logpane != NULL && t->logpane->host_replay)
		tui_logpane_host(t, NULL, NULL);
}

const char *
tui_logpane_host_name(const struct tui *t)
{
	return t->logpane != NULL ? t->logpane->host : NULL;
}

void
tui_logpane_added(struct tui *t, const struct tui_line *line)
{
	struct tui_logpane	*lp = t->logpane;

	if (lp != NULL && lp->host != NULL && !lp->host_replay &&
	    line != NULL && tui_log_names_host(line->text, lp->host))
		tui_log_copy(&lp->hostlog, line);
}

void
tui_logpane_free(struct tui *t)
{
	struct tui_logpane	*lp = t->logpane;

	if (lp == NULL)
		return;
	tui_logpane_count_stop(t, lp);
	tui_logdb_reset(&lp->db, 1);
	if (lp->hostlog.lines != NULL)
		tui_log_free(&lp->hostlog);
	tui_hostdb_free(&lp->hostdb);
	free(lp->htmp.text);
	free(lp->host);
	free(lp->marker_text);
	free(lp->tmp.text);
	free(lp->note);
	free(lp);
	t->logpane = NULL;
}
