/*
 * check_tui.c - unit tests of the terminal shell's parts that do not need a
 * terminal: text measuring and clipping (drawn into a real curses window on
 * /dev/null), the scrolling line buffer, the layout and the key tables.
 * The whole screen is tested through tmux by tests/tui-screen.sh.
 */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "chiffon/plugin.h"
#include "output.h"
#include "testutil.h"
#include "tui.h"
#include "util.h"
#include "vocab.h"

/* -- text ------------------------------------------------------------------ */

static SCREEN	*check_screen;
static FILE	*check_out, *check_in;

static void
check_text_setup(void)
{
	ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
	check_out = fopen("/dev/null", "w");
	check_in = fopen("/dev/null", "r");
	ck_assert_ptr_nonnull(check_out);
	ck_assert_ptr_nonnull(check_in);
	check_screen = newterm("xterm", check_out, check_in);
	ck_assert_msg(check_screen != NULL, "no terminfo entry for xterm");
}

static void
check_text_teardown(void)
{
	endwin();
	delscreen(check_screen);
	fclose(check_out);
	fclose(check_in);
}

/* The text of row 0 of w as UTF-8, trailing blanks removed.  Caller frees. */
static char *
check_row(WINDOW *w)
{
	wchar_t	 wbuf[256];
	char	 out[1024];
	size_t	 n;

	memset(wbuf, 0, sizeof wbuf);
	mvwinnwstr(w, 0, 0, wbuf, 255);
	n = wcstombs(out, wbuf, sizeof out - 1);
	ck_assert_uint_ne(n, (size_t)-1);
	out[n] = '\0';
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	return xstrdup(out);
}

START_TEST(test_text_width)
{
	ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
	ck_assert_int_eq(tui_text_width("", 0), 0);
	ck_assert_int_eq(tui_text_width("kuma", 4), 4);
	/* Wide CJK characters take two columns each. */
	ck_assert_int_eq(tui_text_width("日本", strlen("日本")), 4);
	/* A combining accent takes none. */
	ck_assert_int_eq(tui_text_width("e\xcc\x81", 3), 1);
	/* An invalid byte, a tab and a control character: one each. */
	ck_assert_int_eq(tui_text_width("\xff", 1), 1);
	ck_assert_int_eq(tui_text_width("\t\x01", 2), 2);
	/* Only len bytes count: the cursor column of a prefix. */
	ck_assert_int_eq(tui_text_width("ab日本", 5), 4);
}
END_TEST

START_TEST(test_text_put_clips)
{
	WINDOW	*w = newwin(1, 20, 0, 0);
	char	*row;
	int	 n;

	ck_assert_ptr_nonnull(w);
	/* 日本 fits in 5 columns, 語 would end at column 6. */
	n = tui_text_put(w, "日本語abc", 0, 5);
	ck_assert_int_eq(n, 4);
	row = check_row(w);
	ck_assert_str_eq(row, "日本");
	free(row);

	/* Skipping one column cuts 日 in half: a blank stands for it. */
	werase(w);
	wmove(w, 0, 0);
	n = tui_text_put(w, "日本語abc", 1, 20);
	ck_assert_int_eq(n, 8);
	row = check_row(w);
	ck_assert_str_eq(row, " 本語abc");
	free(row);

	/* Control characters never reach the terminal. */
	werase(w);
	wmove(w, 0, 0);
	n = tui_text_put(w, "a\x1b[31mb", 0, 20);
	ck_assert_int_eq(n, 7);
	row = check_row(w);
	ck_assert_str_eq(row, "a?[31mb");
	free(row);
	delwin(w);
}
END_TEST

/* -- plain output off a terminal ----------------------------------------- */

START_TEST(test_output_plain)
{
	static const char	 banner[] = "\033[0;32mTASK [Tick] "
	    "*************************************************************"
	    "*************************************************************"
	    "****************\033[0m\r\n";
	char			*s;
	FILE			*f;
	char			 buf[512];
	size_t			 n;

	s = output_plain("\033[0;33mchanged: [nas]\033[0m\r", 26);
	ck_assert_str_eq(s, "changed: [nas]");
	free(s);
	/* OSC (a window title), a bell and a tab. */
	s = output_plain("\033]0;title\007a\tb\007", 15);
	ck_assert_str_eq(s, "a\tb");
	free(s);
	ck_assert_int_eq(output_color("always"), 1);
	ck_assert_int_eq(output_color("never"), 0);
	ck_assert_int_eq(output_color("sometimes"), -1);
	/* stdout of the test is not a terminal. */
	ck_assert_int_eq(output_color("auto"), isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL);
	setenv("NO_COLOR", "1", 1);
	ck_assert_int_eq(output_color(NULL), 0);
	unsetenv("NO_COLOR");

	/* Plain: no escape, the banner cut to 80 columns. */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	output_line(f, banner, strlen(banner), 0);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	ck_assert_ptr_null(strchr(buf, '\033'));
	ck_assert_uint_eq(strlen(buf), OUTPUT_PLAIN_COLS + 1);
	ck_assert(strncmp(buf, "TASK [Tick] ***", 15) == 0);
	fclose(f);
	/* Colour: as written, one newline. */
	f = tmpfile();
	output_line(f, banner, strlen(banner), 1);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	ck_assert_uint_eq(n, strlen(banner) - 1);
	ck_assert_ptr_nonnull(strchr(buf, '\033'));
	fclose(f);
}
END_TEST

/* -- line buffer ----------------------------------------------------------- */

START_TEST(test_log_ring)
{
	struct tui_log	 l;
	char		 buf[32];
	int		 i;

	tui_log_init(&l, 3);
	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof buf, "line %d", i);
		tui_log_add(&l, CHIFFON_LOG_INFO, buf);
	}
	ck_assert_uint_eq(l.count, 3);
	ck_assert_str_eq(tui_log_get(&l, 0)->text, "line 2");
	ck_assert_str_eq(tui_log_get(&l, 2)->text, "line 4");
	ck_assert_ptr_null(tui_log_get(&l, 3));
	ck_assert_int_eq(tui_log_get(&l, 2)->level, CHIFFON_LOG_INFO);
	tui_log_free(&l);
}
END_TEST

START_TEST(test_log_split)
{
	struct tui_log	l;

	tui_log_init(&l, 10);
	tui_log_add(&l, -1, "one\ntwo\n");
	tui_log_add(&l, -1, "three\n\nfive");
	tui_log_add(&l, -1, "");
	ck_assert_uint_eq(l.count, 6);
	ck_assert_str_eq(tui_log_get(&l, 0)->text, "one");
	ck_assert_str_eq(tui_log_get(&l, 1)->text, "two");
	ck_assert_str_eq(tui_log_get(&l, 2)->text, "three");
	ck_assert_str_eq(tui_log_get(&l, 3)->text, "");
	ck_assert_str_eq(tui_log_get(&l, 4)->text, "five");
	ck_assert_str_eq(tui_log_get(&l, 5)->text, "");
	tui_log_clear(&l);
	ck_assert_uint_eq(l.count, 0);
	tui_log_free(&l);
}
END_TEST

START_TEST(test_log_scroll)
{
	struct tui_log	 l;
	char		 buf[32];
	int		 i;

	tui_log_init(&l, 100);
	for (i = 0; i < 50; i++) {
		snprintf(buf, sizeof buf, "%d", i);
		tui_log_add(&l, -1, buf);
	}
	/* Following: the last 10 of 50 lines. */
	ck_assert_uint_eq(tui_log_first(&l, 10), 40);
	tui_log_scroll(&l, 9, 10);
	ck_assert_uint_eq(tui_log_first(&l, 10), 31);
	/* Never past the oldest line... */
	tui_log_scroll(&l, 1000, 10);
	ck_assert_uint_eq(l.scroll, 40);
	ck_assert_uint_eq(tui_log_first(&l, 10), 0);
	/* ...nor past the newest. */
	tui_log_scroll(&l, -1000, 10);
	ck_assert_uint_eq(l.scroll, 0);
	ck_assert_uint_eq(tui_log_first(&l, 10), 40);

	/* Scrolled back, the view stays on its lines as new ones come. */
	tui_log_scroll(&l, 5, 10);
	ck_assert_uint_eq(tui_log_first(&l, 10), 35);
	tui_log_add(&l, -1, "new");
	ck_assert_uint_eq(tui_log_first(&l, 10), 35);
	/* Following, it moves with them. */
	tui_log_scroll(&l, -1000, 10);
	tui_log_add(&l, -1, "newer");
	ck_assert_uint_eq(tui_log_first(&l, 10), 42);
	ck_assert_str_eq(tui_log_get(&l, 51)->text, "newer");

	/* Fewer lines than rows: no scrolling at all. */
	tui_log_clear(&l);
	tui_log_add(&l, -1, "only");
	tui_log_scroll(&l, 3, 10);
	ck_assert_uint_eq(l.scroll, 0);
	ck_assert_uint_eq(tui_log_first(&l, 10), 0);
	tui_log_free(&l);
}
END_TEST

START_TEST(test_log_scroll_full_ring)
{
	struct tui_log	 l;
	char		 buf[32];
	int		 i;

	/* A full ring drops the oldest line; the view keeps its lines. */
	tui_log_init(&l, 20);
	for (i = 0; i < 20; i++) {
		snprintf(buf, sizeof buf, "%d", i);
		tui_log_add(&l, -1, buf);
	}
	tui_log_scroll(&l, 4, 5);
	ck_assert_str_eq(tui_log_get(&l, tui_log_first(&l, 5))->text, "11");
	tui_log_add(&l, -1, "20");
	ck_assert_uint_eq(l.count, 20);
	ck_assert_str_eq(tui_log_get(&l, tui_log_first(&l, 5))->text, "11");
	tui_log_free(&l);
}
END_TEST

START_TEST(test_log_class)
{
	static const struct {
		const char	*line;
		enum tui_class	 cls;
	} cases[] = {
		{ "ok: [docker1] => {", TUI_CLASS_OK },
		{ "\033[0;32mok: [docker1]\033[0m", TUI_CLASS_OK },
		{ "changed: [docker1]", TUI_CLASS_CHANGED },
		{ "fatal: [nas]: FAILED! => {}", TUI_CLASS_FAILED },
		{ "fatal: [nas]: UNREACHABLE! => {}", TUI_CLASS_FAILED },
		{ "failed: [nas] (item=1) => {}", TUI_CLASS_FAILED },
		{ "skipping: [docker1]", TUI_CLASS_SKIPPED },
		{ "...ignoring", TUI_CLASS_SKIPPED },
		{ "docker1                    : ok=4    changed=1    "
		    "unreachable=0    failed=0    skipped=2", TUI_CLASS_CHANGED },
		{ "nas                        : ok=1    changed=0    "
		    "unreachable=0    failed=1    skipped=3", TUI_CLASS_FAILED },
		{ "pve1 : ok=1    changed=0    unreachable=1    failed=0",
		    TUI_CLASS_FAILED },
		{ "desk1 : ok=3    changed=0    unreachable=0    failed=0",
		    TUI_CLASS_OK },
		{ "TASK [ok: [x]] ****", TUI_CLASS_NONE },
		{ "    \"msg\": \"ok: [x]\"", TUI_CLASS_NONE },
		{ "", TUI_CLASS_NONE },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		ck_assert_msg(tui_log_class(cases[i].line) == cases[i].cls,
		    "'%s': class %d, not %d", cases[i].line,
		    (int)tui_log_class(cases[i].line), (int)cases[i].cls);
	ck_assert(tui_log_is_failure("fatal: [nas]: FAILED! => {}"));
	ck_assert(tui_log_is_failure("failed: [nas] (item=2)"));
	ck_assert(!tui_log_is_failure("    \"msg\": \"fatal: [nas]\""));
}
END_TEST

START_TEST(test_log_names_host)
{
	ck_assert(tui_log_names_host("ok: [nas] => {", "nas"));
	ck_assert(tui_log_names_host("fatal: [nas]: UNREACHABLE!", "nas"));
	ck_assert(tui_log_names_host("ok: [nas -> localhost]", "nas"));
	ck_assert(tui_log_names_host("ok: [docker1 -> nas]", "nas"));
	ck_assert(tui_log_names_host("nas       : ok=1  changed=0", "nas"));
	ck_assert(!tui_log_names_host("ok: [nas2]", "nas"));
	ck_assert(!tui_log_names_host("ok: [docker1]", "nas"));
	ck_assert(!tui_log_names_host("    \"msg\": \"hello nas\"", "nas"));
	ck_assert(!tui_log_names_host("nas2      : ok=1", "nas"));
	ck_assert(!tui_log_names_host("TASK [nas] ****", "docker1"));
}
END_TEST

START_TEST(test_log_run_lines)
{
	struct tui_log	 l;
	char		 buf[32];
	int		 i;

	/* Output lines keep their run and seq; the ring counts drops. */
	tui_log_init(&l, 10);
	tui_log_add(&l, CHIFFON_LOG_INFO, "message");
	for (i = 1; i <= 20; i++) {
		snprintf(buf, sizeof buf, "line %d", i);
		tui_log_add_run(&l, 7, i, buf);
	}
	ck_assert_uint_eq(l.count, 10);
	ck_assert_uint_eq(l.dropped, 11);
	ck_assert_int_eq(tui_log_get(&l, 0)->run, 7);
	ck_assert_int_eq(tui_log_get(&l, 0)->seq, 11);
	ck_assert_str_eq(tui_log_get(&l, 0)->text, "line 11");
	/* Lines above the ring: the view reaches them. */
	l.above = 11;
	tui_log_scroll(&l, 1000, 5);
	ck_assert_uint_eq(tui_log_first(&l, 5), 0);
	ck_assert_uint_eq(l.scroll, 16);
	/* Scrolled back, new lines keep the view where it is. */
	tui_log_add_run(&l, 7, 21, "line 21");
	ck_assert_uint_eq(tui_log_first(&l, 5), 0);
	tui_log_scroll(&l, -1000, 5);
	ck_assert_uint_eq(tui_log_first(&l, 5), 16);
	tui_log_free(&l);
}
END_TEST

/* The Log pane's view on a screen: wrapping, paging back and forth. */
START_TEST(test_logpane_pages)
{
	struct tui	 t;
	WINDOW		*w;
	char		 buf[256], *where;
	int		 i, rows = 25, cols = 120;

	memset(&t, 0, sizeof t);
	t.geom.cols = cols;
	t.geom.log_h = rows;
	tui_log_init(&t.log, 100);
	for (i = 1; i <= 79; i++) {
		snprintf(buf, sizeof buf, "line %d%s", i, i % 20 == 0 ?
		    " which is long enough to wrap onto a second row of the "
		    "pane, being well over one hundred and twenty columns "
		    "wide, as this line is, and more" : "");
		tui_log_add_run(&t.log, 1, i, buf);
	}
	w = newwin(rows, cols, 0, 0);
	ck_assert_ptr_nonnull(w);
	/* Following: the last lines that fit (line 60 wraps). */
	where = tui_logpane_draw(&t, w);
	ck_assert_str_eq(where, "lines 56-79 of 79, 55 more above (PgUp)");
	free(where);
	/* PgUp, then PgDn: back at the end, following again. */
	ck_assert(tui_logpane_key(&t, TUI_REQ_PAGE_UP, (size_t)rows));
	free(tui_logpane_draw(&t, w));
	ck_assert_uint_ne(t.log.scroll, 0);
	ck_assert(tui_logpane_key(&t, TUI_REQ_PAGE_DOWN, (size_t)rows));
	where = tui_logpane_draw(&t, w);
	ck_assert_str_eq(where, "lines 56-79 of 79, 55 more above (PgUp)");
	ck_assert_uint_eq(t.log.scroll, 0);
	free(where);
	/* Top and end; cut lines take one row each. */
	ck_assert(tui_logpane_key(&t, TUI_REQ_TOP, (size_t)rows));
	where = tui_logpane_draw(&t, w);
	ck_assert_str_eq(where, "lines 1-24 of 79, 55 more below (PgDn)");
	free(where);
	ck_assert(tui_logpane_key(&t, TUI_REQ_WRAP, (size_t)rows));
	where = tui_logpane_draw(&t, w);
	ck_assert_str_eq(where, "lines 1-25 of 79, 54 more below (PgDn), "
	    "cut (w: wrap)");
	free(where);
	ck_assert(tui_logpane_key(&t, TUI_REQ_RIGHT, (size_t)rows));
	ck_assert(tui_logpane_key(&t, TUI_REQ_BOTTOM, (size_t)rows));
	where = tui_logpane_draw(&t, w);
	ck_assert_str_eq(where, "lines 55-79 of 79, 54 more above (PgUp), "
	    "from column 61 (w: wrap)");
	free(where);
	delwin(w);
	tui_logpane_free(&t);
	tui_log_free(&t.log);
}
END_TEST

/* -- layout ---------------------------------------------------------------- */

START_TEST(test_layout)
{
	struct tui_geom	g;
	int		rows, cols;

	for (rows = TUI_MIN_ROWS; rows <= 200; rows++) {
		for (cols = TUI_MIN_COLS; cols <= 300; cols += 45) {
			tui_layout_compute(rows, cols, &g);
			ck_assert_int_eq(g.too_small, 0);
			ck_assert_int_eq(g.status_y, 0);
			ck_assert_int_eq(g.plan_title_y, 1);
			ck_assert_int_eq(g.plan_y, 2);
			ck_assert_int_ge(g.plan_h, 1);
			ck_assert_int_ge(g.log_h, g.plan_h);
			/* Contiguous, and the request line at the bottom. */
			ck_assert_int_eq(g.log_title_y, g.plan_y + g.plan_h);
			ck_assert_int_eq(g.log_y, g.log_title_y + 1);
			ck_assert_int_eq(g.log_y + g.log_h, g.request_y);
			ck_assert_int_eq(g.request_y, rows - 1);
		}
	}
	tui_layout_compute(40, 120, &g);
	ck_assert_int_eq(g.plan_h, 12);
	ck_assert_int_eq(g.log_h, 24);
	tui_layout_compute(TUI_MIN_ROWS - 1, 80, &g);
	ck_assert_int_eq(g.too_small, 1);
	tui_layout_compute(24, TUI_MIN_COLS - 1, &g);
	ck_assert_int_eq(g.too_small, 1);
}
END_TEST

/* -- keys ------------------------------------------------------------------ */

static const char *const check_helps[] = {
#define CHECK_HELP(id, name, help) help,
	TUI_REQUESTS(CHECK_HELP)
#undef CHECK_HELP
};

static const struct {
	enum tui_request	 req;
	const char		*label;
	const char		*seq;
	int			 map;
} check_keys[] = {
#define CHECK_KEY(id, label, cap, seq, map) { TUI_REQ_##id, label, seq, map },
	TUI_KEYS(CHECK_KEY)
#undef CHECK_KEY
};

START_TEST(test_keys_table)
{
	size_t	r, k, j;
	int	labelled;

	/* Every request has a key the help shows. */
	for (r = 0; r < TUI_REQ__COUNT; r++) {
		labelled = 0;
		for (k = 0; k < nitems(check_keys); k++)
			if (check_keys[k].req == r && check_keys[k].label)
				labelled = 1;
		ck_assert_msg(labelled, "request '%s' has no key",
		    check_helps[r]);
	}
	/*
	 * No sequence is bound twice in one keymap (the second would win
	 * silently), and no letter or digit is a command on the request
	 * line: there every letter is text.
	 */
	for (k = 0; k < nitems(check_keys); k++) {
		ck_assert_str_ne(check_keys[k].seq, "");
		ck_assert_msg(check_keys[k].map != 0, "key %zu is bound "
		    "nowhere", k);
		if (check_keys[k].map & TUI_MAP_EDIT)
			ck_assert_msg(strlen(check_keys[k].seq) > 1 ||
			    !isalnum((unsigned char)check_keys[k].seq[0]),
			    "the letter '%s' is a command on the request line",
			    check_keys[k].seq);
		for (j = k + 1; j < nitems(check_keys); j++)
			ck_assert_msg(strcmp(check_keys[k].seq,
			    check_keys[j].seq) != 0 ||
			    (check_keys[k].map & check_keys[j].map) == 0,
			    "sequence of key %zu bound twice", k);
	}
}
END_TEST

START_TEST(test_keys_help)
{
	char	**lines = tui_layout_help_lines();
	size_t	  n, r, k;
	int	  found;

	for (n = 0; lines[n] != NULL; n++)
		/* count */;
	ck_assert_uint_eq(n, TUI_REQ__COUNT + 5);
	/* Each request's line names every labelled key bound to it. */
	for (r = 0; r < TUI_REQ__COUNT; r++) {
		found = 0;
		for (n = 0; lines[n] != NULL; n++) {
			if (strstr(lines[n], check_helps[r]) == NULL)
				continue;
			found = 1;
			for (k = 0; k < nitems(check_keys); k++) {
				if (check_keys[k].req != r ||
				    check_keys[k].label == NULL)
					continue;
				ck_assert_msg(strstr(lines[n],
				    check_keys[k].label) != NULL,
				    "help line '%s' lacks key %s", lines[n],
				    check_keys[k].label);
			}
		}
		ck_assert_msg(found, "help lacks '%s'", check_helps[r]);
	}
	ck_assert_ptr_nonnull(strstr(lines[2], "F1, ?"));
	/* Command mode's letters are shown after the key that enters it. */
	for (n = 0; lines[n] != NULL; n++)
		if (strstr(lines[n], check_helps[TUI_REQ_APPROVE]) != NULL)
			ck_assert_ptr_nonnull(strstr(lines[n], "F5, Esc a"));
	for (n = 0; lines[n] != NULL; n++)
		free(lines[n]);
	free(lines);
}
END_TEST

/* The label as written in roff: "C-q" is "C\-q".  Caller frees. */
static char *
check_roff(const char *label)
{
	struct strbuf	sb = { 0 };

	for (; *label != '\0'; label++) {
		if (*label == '-')
			strbuf_addc(&sb, '\\');
		strbuf_addc(&sb, *label);
	}
	return strbuf_detach(&sb);
}

START_TEST(test_keys_manual)
{
	const char	*srcdir = getenv("CHIFFON_SRCDIR");
	char		*path, *man, *start, *end, *roff, *label;
	size_t		 k;

	ck_assert_msg(srcdir != NULL, "CHIFFON_SRCDIR is not set");
	path = path_join(srcdir, "man/chiffon.1");
	man = read_file(path, NULL);
	ck_assert_msg(man != NULL, "cannot read %s", path);
	/* The Keys subsection of THE SHELL documents every labelled key. */
	start = strstr(man, "\n.SS Keys\n");
	ck_assert_msg(start != NULL, "%s has no Keys subsection", path);
	end = strstr(start, "\n.SH ");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	for (k = 0; k < nitems(check_keys); k++) {
		if (check_keys[k].label == NULL)
			continue;
		roff = check_roff(check_keys[k].label);
		if (check_keys[k].map == TUI_MAP_CMD) {
			/* Written as in the help: "Esc a". */
			label = xasprintf("Esc %s", roff);
			free(roff);
			roff = label;
		}
		ck_assert_msg(strstr(start, roff) != NULL,
		    "chiffon(1) does not document the key %s", roff);
		free(roff);
	}
	free(man);
	free(path);
}
END_TEST

static Suite *
check_tui_suite(void)
{
	Suite	*s = suite_create("tui");
	TCase	*tc;

	tc = tcase_create("text");
	tcase_add_test(tc, test_text_width);
	suite_add_tcase(s, tc);

	tc = tcase_create("text_put");
	tcase_add_checked_fixture(tc, check_text_setup, check_text_teardown);
	tcase_add_test(tc, test_text_put_clips);
	tcase_add_test(tc, test_logpane_pages);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_output_plain);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, test_log_ring);
	tcase_add_test(tc, test_log_split);
	tcase_add_test(tc, test_log_scroll);
	tcase_add_test(tc, test_log_scroll_full_ring);
	tcase_add_test(tc, test_log_class);
	tcase_add_test(tc, test_log_names_host);
	tcase_add_test(tc, test_log_run_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("layout");
	tcase_add_test(tc, test_layout);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, test_keys_table);
	tcase_add_test(tc, test_keys_help);
	tcase_add_test(tc, test_keys_manual);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(check_tui_suite());
}
