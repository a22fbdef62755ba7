/*
 * tui.h - the terminal shell: a curses screen driven by the one event loop.
 *
 * The screen, top to bottom: a status bar (repository, database state,
 * plugins), the plan/review pane, the log pane, and the request line, which
 * is readline running through its callback interface.  Nothing here blocks:
 * stdin, SIGWINCH (a signalfd) and a status timer are watched by the loop.
 *
 * One header for the TUI's files, with a section per file.
 */
#ifndef CHIFFON_TUI_H
#define CHIFFON_TUI_H

#include <stddef.h>
#include <stdio.h>

#include <curses.h>
#include <libpq-fe.h>

#include "tui-keys.h"

struct app;
struct plan;
struct tui;
struct tui_exec;

/* tui-text.c: measuring and drawing UTF-8 text by screen columns. */

/* Columns taken by len bytes of s (invalid bytes count one column each). */
int	 tui_text_width(const char *s, size_t len);
/*
 * Draw s into w at the cursor, at most maxcols columns, skipping the first
 * skipcols columns.  Control characters are drawn as '?'.  Returns the
 * columns drawn.
 */
int	 tui_text_put(WINDOW *w, const char *s, int skipcols, int maxcols);

/* tui-log.c: a bounded, scrollable buffer of lines (log and plan panes). */

/* One line of a pane. */
struct tui_line {
	int		 level;	/* CHIFFON_LOG_*, or -1 for plain text */
	char		*text;	/* one line, no newline */
	long long	 run;	/* runs.id of an output line, else 0 */
	long long	 seq;	/* its run_output.seq, else 0 */
};

/*
 * A ring of at most cap lines; the oldest are dropped.  scroll counts the
 * lines the view is moved back from the newest (0: follow new lines).
 */
struct tui_log {
	struct tui_line	*lines;
	size_t		 cap;
	size_t		 alloc;		/* lines allocated, up to cap: a
					   ring grows until it first wraps */
	size_t		 start;		/* index of the oldest line */
	size_t		 count;
	size_t		 scroll;
	size_t		 dropped;	/* lines dropped off the ring */
	size_t		 above;		/* lines before the ring the view
					   reaches (the Log pane's lines
					   paged from run_output), else 0 */
};

void	 tui_log_init(struct tui_log *, size_t cap);
void	 tui_log_free(struct tui_log *);
void	 tui_log_clear(struct tui_log *);
/* Add text, split at newlines (one tui_line per line).  Copies it. */
void	 tui_log_add(struct tui_log *, int level, const char *text);
/* Add output line seq of run run (one line, terminal sequences removed). */
void	 tui_log_add_run(struct tui_log *, long long run, long long seq,
	    const char *text);
/* Line i, 0 being the oldest kept; NULL when out of range. */
const struct tui_line *tui_log_get(const struct tui_log *, size_t i);
/*
 * Move the view by delta lines (positive: back, towards older lines) for a
 * window of rows lines; clamped so that the view never leaves the buffer.
 */
void	 tui_log_scroll(struct tui_log *, long delta, size_t rows);
/*
 * Index of the first line shown in a window of rows lines, counting the
 * above lines first (an index below above is not in the ring).
 */
size_t	 tui_log_first(const struct tui_log *, size_t rows);
/* Draw the visible lines into w (its whole size). */
void	 tui_log_draw(const struct tui_log *, WINDOW *w);

/* How Ansible colours a line of its output. */
enum tui_class {
	TUI_CLASS_NONE,
	TUI_CLASS_OK,		/* ok: green */
	TUI_CLASS_CHANGED,	/* changed: yellow */
	TUI_CLASS_FAILED,	/* failed, fatal, unreachable: red */
	TUI_CLASS_SKIPPED,	/* skipping, ...ignoring: cyan */
};

/* The class of a line of output as stored (terminal sequences ignored). */
enum tui_class tui_log_class(const char *text);
/* Non-zero when line (plain text) names host ("ok: [host]", its recap). */
int	 tui_log_names_host(const char *line, const char *host);

/* tui-loghost.c: the lines of a run naming a host, paged. */

/*
 * The matches (lines naming host) of run run, seq 1..last: n of them;
 * a window of them in memory, and the seq of every 64th to start from.
 */
struct tui_hostdb {
	long long	 run;
	char		*started;	/* runs.started_at (the partition) */
	long long	 last;		/* the last seq it covers */
	char		*host;
	size_t		 n;		/* matches (so far, while counting) */
	long long	 counted;	/* seqs 1..counted are counted; the
					   count is done at last */
	long long	*noted;		/* seq of match k * 256 */
	size_t		 nnoted, nalloc;
	struct tui_line	*win;		/* matches first.. (cap of them) */
	size_t		 first, nwin, cap;
	char		*error;		/* why the window could not be read */
};

/*
 * The matches of run (started at started) up to seq last naming host,
 * none counted yet (tui_hostdb_count_step counts them).  Free with
 * tui_hostdb_free.
 */
void	 tui_hostdb_open(struct tui_hostdb *h, long long run,
	    const char *started, long long last, const char *host);
/*
 * Count the matches of the next TUI_HOSTDB_SPAN seqs (one query, within
 * a frame): 1 while more are to count, 0 when the count is done, -1 with
 * *errp (the count stops where it is).
 */
int	 tui_hostdb_count_step(struct tui_hostdb *h, PGconn *pg,
	    char **errp);
/*
 * Match i (0-based), read with the screenfuls (rows lines each) around
 * it when not in the window; a marker line (in tmp, which the caller
 * owns) when it cannot be read; NULL past the end.  Owned by h or tmp.
 */
const struct tui_line *tui_hostdb_line(struct tui_hostdb *h, PGconn *pg,
	    size_t i, size_t rows, struct tui_line *tmp);
/*
 * The first match after index from (forward) or the last before it for
 * which match(plain text, text) is non-zero: 1 with its index in
 * *indexp, 0 for none, -1 with *errp.
 */
int	 tui_hostdb_find(struct tui_hostdb *h, PGconn *pg, size_t from,
	    int forward, int (*match)(const char *, const char *),
	    const char *text, size_t *indexp, char **errp);
void	 tui_hostdb_free(struct tui_hostdb *h);
/* Non-zero when line (plain text) is a failed task's ("fatal: [h]"). */
int	 tui_log_is_failure(const char *line);
/*
 * Start curses' colours, unless the terminal has none or NO_COLOR is
 * set (not empty): then lines are drawn in bold and normal only.
 */
void	 tui_log_colors_start(void);
/* Non-zero when colours are in use. */
int	 tui_log_colors(void);
/*
 * Draw line into w from row *y on (cols wide), coloured by its level and
 * class: wrapped over as many rows as it takes (at most up to row rows),
 * or, when shift >= 0, cut at the right edge after skipping shift
 * columns.  *y moves past the rows drawn.
 */
void	 tui_log_put(WINDOW *w, int *y, int rows, const struct tui_line *,
	    int shift);
/* Rows line takes in cols columns (1 when not wrapped: shift >= 0). */
int	 tui_log_height(const struct tui_line *, int cols, int shift);

/*
 * The Log pane's live view: the ring of t->log, and above it the lines
 * of the ring's oldest run that it no longer holds, paged from
 * run_output a screenful at a time (never the whole run), a marker line
 * when output was dropped; wrapping or sideways scrolling, a host
 * filter, jumps to failed tasks.
 */
struct tui_logpane;
/* Draw the live view; where it is, for the title.  Caller frees. */
char	*tui_logpane_draw(struct tui *, WINDOW *w);
/* A request for the live view (rows: its height).  Non-zero: redraw. */
int	 tui_logpane_key(struct tui *, enum tui_request, size_t rows);
/*
 * Search the live view for text after (dir 1) or before (dir -1) its
 * top line, in the ring and in run_output above it.  1 found (the line
 * is the top), 0 not, -1 with *errp.
 */
int	 tui_logpane_search(struct tui *, const char *text, int dir,
	    char **errp);
/*
 * Show only the lines naming host (NULL or empty: every line), in the
 * live view or the replayed log.  0, or -1 with *errp.
 */
int	 tui_logpane_host(struct tui *, const char *host, char **errp);
/* -1: long lines wrap; else they are cut, this many columns skipped. */
int	 tui_logpane_shift(struct tui *);
/* Say note in the Log pane's title until its next key (NULL: none). */
void	 tui_logpane_note(struct tui *, const char *note);
/* A replay ends: a host filter made on it goes too. */
void	 tui_logpane_replay_end(struct tui *);
/* The host filtered for, or NULL. */
const char *tui_logpane_host_name(const struct tui *);
/* A new line arrived in t->log (keeps a host filter's lines current). */
void	 tui_logpane_added(struct tui *, const struct tui_line *);
/* Free it (the shell is ending). */
void	 tui_logpane_free(struct tui *);

/* tui-layout.c: where each part of the screen goes, and drawing it. */

/* Rows of each part for a screen of rows x cols. */
struct tui_geom {
	int	 rows;
	int	 cols;
	int	 too_small;	/* below TUI_MIN_ROWS x TUI_MIN_COLS */
	int	 status_y;	/* status bar: one row */
	int	 plan_title_y;	/* plan pane: title row + plan_h rows */
	int	 plan_y;
	int	 plan_h;
	int	 log_title_y;	/* log pane: title row + log_h rows */
	int	 log_y;
	int	 log_h;
	int	 request_y;	/* request line: one row */
};

#define TUI_MIN_ROWS	8
#define TUI_MIN_COLS	30

void	 tui_layout_compute(int rows, int cols, struct tui_geom *);

/* What a y/N question on the request line is about. */
enum tui_ask {
	TUI_ASK_NONE,
	TUI_ASK_CANCEL,		/* cancel the running step? */
	TUI_ASK_QUIT,		/* quit (canceling the running plan)? */
	TUI_ASK_PROMPT,		/* ansible-playbook waits at a prompt: the
				   answer, typed hidden */
	TUI_ASK_REJECT,		/* reject the pending plan selected? */
};

/*
 * The panes, in the order of Tab and of 1..5 in command mode; the one
 * focused gets PgUp/PgDn and the other pane keys (tui-pane.c).
 */
enum tui_focus {
	TUI_FOCUS_PLAN,
	TUI_FOCUS_LOG,
	TUI_FOCUS_HISTORY,
	TUI_FOCUS_AGENTS,
	TUI_FOCUS_TASK,
	TUI_FOCUS__COUNT
};

/*
 * The shell's state: one per process (readline and curses are process-wide
 * themselves), owned by tui_run.
 */
struct vocab;
struct tui_vocab_job;
struct tui_history;
struct tui_replay;
struct request_job;
struct tui_watch;
struct tui_facts;
struct approve_dry_job;
struct tui_pending;

struct tui {
	struct app	*app;
	struct loop	*loop;

	struct tui_geom	 geom;
	WINDOW		*w_status;
	WINDOW		*w_plan_title;
	WINDOW		*w_plan;
	WINDOW		*w_log_title;
	WINDOW		*w_log;
	WINDOW		*w_request;

	struct tui_log	 log;		/* the log pane */
	struct tui_log	 plan;		/* the plan/review pane */
	struct tui_log	 summary;	/* after a run: its summary block
					   (tui-summary.c), shown at the end
					   of the plan pane */
	char		*plan_request;	/* the request the pane is about */
	char		*plan_error;	/* why it has no plan, or NULL */
	struct plan	*plan_cur;	/* its plan, or NULL */
	long long	*plan_changed;	/* per step: changed count, or -1 */
	char		**plan_reasons;	/* per step: tasks.status_reason
					   (why paused...), or NULL */
	size_t		 plan_nreasons;	/* entries of plan_reasons */
	char		*plan_prompts;	/* steps that ask for input, or NULL */
	int		 planning;	/* a request job or a dry run is in
					   progress */
	struct request_job *req;	/* the request (or modification) being
					   planned on the loop, or NULL */
	char		*plan_amended;	/* the modification's text, while its
					   job runs */
	int		 spin_timer;	/* its spinner, or 0 */
	struct tui_watch *watch;	/* other sessions, live (tui-watch.c) */
	struct approve_dry_job *dry;	/* the dry run in progress, or NULL */
	unsigned	 spin;		/* the spinner's frame */
	struct vocab	*vocab;		/* catalog of the last refresh, or NULL */
	struct tui_vocab_job *vocab_job; /* refresh in flight, or NULL */
	int		 vocab_asked;	/* the first refresh was started */
	int		 vocab_wait;	/* plan_request waits for the catalog */
	struct tui_exec	*exec;		/* the approved plan executing */
	enum tui_ask	 ask;		/* a y/N question on the request line */
	long long	 ask_task;	/* TUI_ASK_CANCEL: the task */
	long long	 ask_row;	/* TUI_ASK_REJECT: the plan row */
	char		*ask_reason;	/* TUI_ASK_REJECT: the reason typed,
					   or NULL */
	long long	 amend_row;	/* plan row whose request text is
					   being amended on the request line
					   (F7), or 0 */
	int		 plan_elsewhere; /* the plan shown was decided in
					   another session meanwhile */
	long long	 plan_rejected;	/* plans row this shell rejected last
					   (its tasks' NOTIFYs are its own) */
	struct tui_pending *pending;	/* the Plan pane's list of pending
					   plans (tui-pending.c), or NULL */
	int		 plan_seen_top;	/* the pane's first line was shown */
	int		 plan_seen_end;	/* and its last one */
	long long	 confirm_row;	/* plan row whose approval is being
					   confirmed on the request line, or 0 */
	char		*confirm_word;	/* the service name accepted too */
	int		 cmd_mode;	/* command mode (tui-keys.h) */
	int		 signo;		/* SIGTERM, SIGHUP... that ends it */
	char		*rerun_text;	/* request of an interrupted task */
	enum tui_focus	 focus;		/* the pane with the focus */
	enum tui_focus	 top;		/* the pane in the upper area: Plan,
					   History, Agents or Task */
	struct tui_history *hist;	/* History pane (tui-history.c) */
	struct tui_replay *replay;	/* a task's log replayed in the Log
					   pane from run_output, or NULL */
	struct tui_log	 task;		/* Task pane: the task opened */
	struct tui_log	 agents;	/* Agents pane: its rows */
	int		 agents_timer;	/* its refresh while shown, or 0 */
	char		*search;	/* the Log pane's search text, or NULL */
	struct tui_logpane *logpane;	/* the Log pane's view (tui-log.c) */
	int		 help;		/* help overlay shown */
	int		 quit;		/* leave the loop */

	char		*status;	/* status bar text, set by tui.c */
	struct tui_facts *facts;	/* what the status bar shows from the
					   database (tui-status.c), or NULL */
	char		*status_keys;	/* the key bar it was drawn with */
	FILE		*logfile;	/* data_dir/chiffon.log, or NULL */

	int		 sigfd;		/* signalfd for SIGWINCH */
	int		 watch_stdin;	/* loop registration ids */
	int		 watch_sig;
	int		 status_timer;
	int		 redraw_timer;	/* pending batched redraw, or 0 */
	int		 start_timer;	/* work after the first frame, or 0 */

	/* Bytes read from the terminal, handed to readline one by one. */
	unsigned char	 in[512];
	size_t		 in_len;
	size_t		 in_pos;
};

/* Create the windows for the current screen size (again after a resize). */
void	 tui_layout_apply(struct tui *);
void	 tui_layout_free(struct tui *);
/* Redraw everything into curses' virtual screen and update the terminal. */
void	 tui_layout_draw(struct tui *);
/* Only the status bar. */
void	 tui_layout_draw_status(struct tui *);
/* Only the panes (after new lines or scrolling). */
void	 tui_layout_draw_panes(struct tui *);
/* Lines of the help overlay, generated from tui-keys.h.  NULL-terminated;
 * caller frees each and the array. */
char	**tui_layout_help_lines(void);
/*
 * The key bar at the right of the status bar for the shell's state (a
 * plan pending, command mode), generated from tui-keys.h.  Caller frees.
 */
char	*tui_layout_key_bar(const struct tui *);

/* tui-pane.c: the panes behind one vtable, as tig's views are. */

/*
 * What a pane does; tui_panes[] has one per enum tui_focus.  Every
 * member may be NULL except draw.
 */
struct tui_pane {
	/* The word of its title row ("History"); its number is index + 1. */
	const char	*name;
	/*
	 * Draw the body into w (the whole window, already erased) and
	 * return where the view is, for the title row ("lines 1-38 of
	 * 100, 62 more below (PgDn)"), or NULL.  Caller frees.
	 */
	char		*(*draw)(struct tui *, WINDOW *w);
	/*
	 * A request while the pane has the focus (PAGE_UP, PAGE_DOWN,
	 * LINE_UP, LINE_DOWN, OPEN) for a body of rows rows.  Non-zero
	 * when the pane acted on it (the panes are drawn again).
	 */
	int		 (*key)(struct tui *, enum tui_request, size_t rows);
	/* The body became rows x cols (a resize): clamp views, refetch. */
	void		 (*resize)(struct tui *, int rows, int cols);
	/*
	 * The pane is shown (on non-zero) or no longer shown: load its
	 * rows, start or stop its refresh timer.
	 */
	void		 (*focus)(struct tui *, int on);
};

extern const struct tui_pane *const tui_panes[TUI_FOCUS__COUNT];

/*
 * Show upper pane p in the upper area; the focus moves with it unless
 * the log has it.
 */
void	 tui_pane_show(struct tui *, enum tui_focus p);
/* Give pane p the focus; an upper pane also takes the upper area. */
void	 tui_pane_focus(struct tui *, enum tui_focus p);
/* The next (dir 1) or previous (dir -1) pane gets the focus. */
void	 tui_pane_cycle(struct tui *, int dir);
/* Hand a request to the focused pane; non-zero when it acted. */
int	 tui_pane_key(struct tui *, enum tui_request);
/*
 * A request no handler of tui.c takes: the Log pane's own ones (wrap,
 * sideways, failures) go to the Log pane whatever has the focus, the
 * others (top, end) to the focused pane; the panes are drawn again.
 */
int	 tui_pane_request(struct tui *, enum tui_request);
/* Tell every pane the body sizes after a resize. */
void	 tui_pane_resize(struct tui *);
/* Draw pane p's title row into title and its body into body. */
void	 tui_pane_draw(struct tui *, enum tui_focus p, WINDOW *title,
	    WINDOW *body);
/*
 * For panes whose body is a tui_log: draw it, and where the view is
 * (caller frees); move it for a request (non-zero when moved).
 */
char	*tui_pane_log_draw(const struct tui_log *, WINDOW *w);
int	 tui_pane_log_key(struct tui_log *, enum tui_request, size_t rows);

/* tui-history.c: the History and Task panes and the log replay. */

extern const struct tui_pane tui_history_pane;
extern const struct tui_pane tui_task_pane;
/* Log pane while a task's log is replayed (NULL: live output). */
char	*tui_replay_draw(struct tui *, WINDOW *w);
int	 tui_replay_key(struct tui *, enum tui_request, size_t rows);
/* Back to the live output. */
void	 tui_replay_end(struct tui *);
/* The replayed run: its id, runs.started_at and line count. */
void	 tui_replay_run(const struct tui *, long long *runp,
	    const char **startedp, long long *linesp);
/*
 * Go to the replayed log's next (dir 1) or previous (dir -1) failed
 * task's line (fatal: or failed:).  1 found, 0 not, -1 with *errp.
 */
int	 tui_replay_failure(struct tui *, int dir, char **errp);
/*
 * Search the replayed log for text after (dir 1) or before (dir -1) the
 * first line shown; the view moves to the line found.  1 found, 0 not,
 * -1 with *errp.
 */
int	 tui_replay_search(struct tui *, const char *text, int dir,
	    char **errp);

/* tui-search.c: searching the Log pane (live or replayed). */

/*
 * Search for text (NULL: the last text searched for) after (dir 1) or
 * before (dir -1) the top of the view; the line found becomes the top.
 * Says on the log what was found.
 */
void	 tui_search(struct tui *, const char *text, int dir);
/*
 * Filter History by words of text (NULL or empty: no filter):
 * "failures", "service=S", "user=U", "status=S", "since=TIME".  Shows
 * the first page.  0, or -1 with *errp naming the word (nothing
 * changed).
 */
int	 tui_history_filter(struct tui *, const char *text, char **errp);
/* Free the History pane's state (the shell is ending). */
void	 tui_history_free(struct tui *);

/* tui-agents.c: the Agents pane. */

extern const struct tui_pane tui_agents_pane;

/* tui-input.c: readline on the request line. */

/* Set readline up for callback use inside curses (before curses starts). */
void	 tui_input_init(struct tui *);
/* Bind the keys of tui-keys.h and show the prompt (curses running). */
void	 tui_input_start(struct tui *);
/*
 * Read the request history file (tui_input_history_path; created 0600).
 * 0, or -1 with *errp: the history lives in memory only.
 */
int	 tui_input_history_start(char **errp);
/* The history file's path, or NULL without HOME.  Caller frees. */
char	*tui_input_history_path(void);
/* Add a request line to the history (and its file). */
void	 tui_input_history_add(const char *line);
/* Remove the handler (before endwin). */
void	 tui_input_end(struct tui *);
/* Hand bytes read from the terminal to readline. */
void	 tui_input_feed(struct tui *, const unsigned char *buf, size_t len);
/* Draw prompt and line into the request window, cursor included. */
void	 tui_input_redisplay(void);
/* Enter (cmd non-zero) or leave command mode: its keymap and prompt. */
void	 tui_input_mode(struct tui *, int cmd);
/* Ask question as the request line's prompt (NULL: the usual prompt). */
void	 tui_input_ask(struct tui *, const char *question);

/* tui-plan.c: the plan/review pane. */

/* Plan the request text (request_plan) and show the plan or questions. */
void	 tui_plan_request(struct tui *, const char *text);
/* Non-zero when the pane shows a stored plan pending approval. */
int	 tui_plan_pending(const struct tui *);
/*
 * C-c while a request is being planned: cancel it (the LLM call in flight
 * is abandoned).  1 when there was one, else 0.
 */
int	 tui_plan_cancel_request(struct tui *);
/*
 * Approve the plan shown and start executing it.  A plan that needs a
 * typed confirmation (plan_confirm_needed) is approved only when its
 * whole step list was shown; then the request line asks for the word
 * and tui_plan_confirm approves.  0, or -1 (logged).
 */
int	 tui_plan_approve(struct tui *);
/* The admin typed text at the confirmation prompt.  0, or -1 (logged). */
int	 tui_plan_confirm(struct tui *, const char *text);
/* Stop asking for a confirmation (nothing approved). */
void	 tui_plan_confirm_cancel(struct tui *, const char *why);
/* A new version of the pending plan from amended text.  0, or -1. */
int	 tui_plan_modify(struct tui *, const char *amended);
/* Dry run of the pending plan (check mode).  0, or -1 (logged). */
int	 tui_plan_dry_run(struct tui *);
/* Reject the plan shown with reason.  0, or -1 (logged). */
int	 tui_plan_reject(struct tui *, const char *reason);
/*
 * Reject plans row row (pending approval; shown or not) with reason
 * (NULL or empty: "rejected in the shell"), as `chiffon reject` does.
 * 0, or -1 (logged).
 */
int	 tui_plan_reject_row(struct tui *, long long row, const char *reason);
/*
 * Show plans row row (loaded from the database) as the pane's current
 * plan, the pending list hidden; F5 then approves it as any other.  A
 * plan no longer pending approval is refused.  0, or -1 (logged).
 */
int	 tui_plan_pick(struct tui *, long long row);
/*
 * A task of plans row plan_row changed to status (chiffon_task, heard
 * by the watch): when it is the plan shown and that still looks pending
 * here, another session decided it - it is shown so and can no longer
 * be approved here.  The pending list is loaded again.
 */
void	 tui_plan_changed(struct tui *, long long plan_row,
	    const char *status);
/* Fill the pane again from the plan and its steps' states. */
void	 tui_plan_render(struct tui *);
/*
 * A step of plan row plan_row changed: its status, the reason of that
 * status (tasks.status_reason: "waiting for resources: ..." of a paused
 * step; NULL or "" for none) and changed count (or -1); index (size_t)-1
 * with status NULL: every step ended.
 */
void	 tui_plan_step(struct tui *, long long plan_row, size_t index,
	    const char *status, const char *reason, long long changed);
/* Free the pane's plan (the shell is ending). */
void	 tui_plan_end(struct tui *);
/*
 * The shell goes away (signal or hang-up, why says which): a plan still
 * executing is interrupted (tui_exec_interrupt).  The tasks interrupted.
 */
int	 tui_plan_interrupt(struct tui *, const char *why);
/*
 * At start: the last interrupted task since the last approval, offered
 * to be run again (t->rerun_text; "task N was interrupted at HH:MM").
 */
void	 tui_plan_interrupted_notice(struct tui *);
/* "cancel step N (x.yml)? y/N " for step index i running.  Caller frees. */
char	*tui_plan_cancel_question(const struct tui *, size_t i);
/* F9: plan the interrupted request again.  0, or -1 (logged). */
int	 tui_plan_rerun(struct tui *);
/*
 * Refresh the catalog in the background (host_invoke, never blocking);
 * requests are planned against the last refreshed catalog.
 */
void	 tui_plan_vocab_refresh(struct tui *);

/* tui-pending.c: the Plan pane's list of this user's pending plans. */

struct plan_pending;
/* Show the list in the Plan pane (on: loaded, the focus there) or not. */
void	 tui_pending_show(struct tui *, int on);
/* Non-zero while the list is shown instead of the plan. */
int	 tui_pending_shown(const struct tui *);
/* Load the rows again (the selection stays on its plan). */
void	 tui_pending_load(struct tui *);
/* A plan may have changed (a NOTIFY): load again soon when shown. */
void	 tui_pending_changed(struct tui *);
/* The plans row selected, or 0 (no rows). */
long long tui_pending_selected(const struct tui *);
/* The listed row of plans row row, or NULL. */
const struct plan_pending *tui_pending_row(const struct tui *, long long row);
/* The Plan pane's draw and key while the list is shown. */
char	*tui_pending_draw(struct tui *, WINDOW *w);
int	 tui_pending_key(struct tui *, enum tui_request, size_t rows);
/* Free it (the shell is ending). */
void	 tui_pending_free(struct tui *);

/* tui-status.c: the status bar's text. */

/*
 * Read what the status bar shows from the database: agents online, the
 * LLM spend today, the running plan's hosts by state.  Nothing while
 * planning uses the connection.
 */
void	 tui_status_facts(struct tui *);
/* The status bar's text for the current state, shortened to fit.
 * Caller frees. */
char	*tui_status_text(struct tui *);
void	 tui_status_free(struct tui *);

/* tui-summary.c: the summary block after a plan's run. */

/*
 * Fill out (cleared first) with the summary of plan row plan_row: per
 * step its state, run duration, CPU and peak memory, per host the recap
 * counts and the span of its events, the suggestions of its playbook
 * (content hashed under repo, which may be NULL), the audit git commit,
 * and whether a rerun changed nothing (idempotent) or something.  0, or
 * -1 with *errp.
 */
int	 tui_summary_build(PGconn *, const char *repo, long long plan_row,
	    struct tui_log *out, char **errp);
/*
 * Every step of plan row plan_row ended: build its summary into
 * t->summary (the plan pane shows it) and write it into the log pane.
 */
void	 tui_summary_show(struct tui *, long long plan_row);

/* tui-exec.c: an approved plan executing on the shell's own loop. */

/*
 * Start executing plans row plan_row (plan plan_id, approved and
 * queued) with this process's worker (worker.h): output lines go to the
 * log pane as they come, step states to tui_plan_step, and the worker
 * stops once every task of the plan reached a final state.  Nothing
 * waits: it all runs from loop callbacks.  NULL with *errp (the tasks
 * stay queued for another worker).
 */
struct tui_exec *tui_exec_start(struct tui *, long long plan_row,
	    long long plan_id, char **errp);
/*
 * The index of the plan's step running now (-1: none), its task id in
 * *task_idp.
 */
int	 tui_exec_running_step(const struct tui_exec *, long long *task_idp);
/*
 * Cancel the running task task_id: a "task.cancel" audit row says who
 * and when, then its run is stopped (SIGINT, then SIGTERM and SIGKILL to
 * the process group after grace periods) and the task ends canceled.
 * 0, or -1 with *errp.
 */
int	 tui_exec_cancel_task(struct tui_exec *, long long task_id,
	    char **errp);
/* The plan row being executed. */
long long tui_exec_plan(const struct tui_exec *);
/* Its plan id (what the admin sees). */
long long tui_exec_plan_id(const struct tui_exec *);
/* Non-zero once every task of the plan ended. */
int	 tui_exec_done(const struct tui_exec *);
/* A short state for the status bar ("plan 3: step 1/2 running").
 * Caller frees. */
char	*tui_exec_status(const struct tui_exec *);
/*
 * Stop and free.  While the plan is still executing, the worker gives
 * its running tasks back and cancels them, the plan's unfinished tasks
 * are canceled with reason why, and the canceled runs are waited for (at
 * most HOST_CANCEL_GRACE_MS) so that no line arrives afterwards.
 */
void	 tui_exec_free(struct tui_exec *, const char *why);
/*
 * Stop and free as the shell goes away (SIGTERM, SIGHUP, the terminal
 * gone): the plan's unfinished tasks become interrupted with reason why
 * (dispatch_interrupt_plan), its runs are stopped (SIGINT, SIGTERM,
 * SIGKILL to their process groups) and recorded interrupted with every
 * line read.  Returns the number of tasks interrupted.
 */
int	 tui_exec_interrupt(struct tui_exec *, const char *why);

/* tui.c: the main loop glue. */

/* Run the shell on the terminal until the user quits.  Exit status. */
int	 tui_run(struct app *);
/* Carry out one request of tui-keys.h; count and key as from readline. */
int	 tui_request(struct tui *, enum tui_request, int count, int key);
/* A line was accepted on the request line (NULL: end of input). */
void	 tui_submit(struct tui *, const char *line);
/* Recompute the status bar and redraw it if it changed. */
void	 tui_status_refresh(struct tui *);
/* Read the terminal (on) or leave its bytes waiting (off). */
void	 tui_watch_stdin(struct tui *, int on);
/*
 * Can the terminal (TERM) draw the full-screen shell?  Not "dumb", known
 * to terminfo, with cursor addressing.  0, or -1 with *errp saying to use
 * the commands instead.  Call before curses starts.
 */
int	 tui_term_usable(char **errp);

/*
 * tui-watch.c: other sessions' plans and runs on the same database, live
 * in the Log pane (LISTEN chiffon_task, chiffon_run on the live
 * connection, db_listen); read-only.
 */
void	 tui_watch_start(struct tui *);
void	 tui_watch_end(struct tui *);
/*
 * The running playbook stopped at a prompt (text, spawn_prompt_waiting):
 * ask for the answer on the request line, typed hidden, and hand it to
 * the playbook's terminal (spawn_prompt_answer) - never to the log, the
 * database or the history.
 */
void	 tui_prompt(struct tui *, const char *text);
/* Add a line to the log pane (and the log file) and show it. */
void	 tui_log_line(struct tui *, int level, const char *who,
	    const char *msg);
/*
 * Add output line seq of run run (plain text) to the log pane alone and
 * show it: output is recorded in run_output, the log file keeps chiffon's
 * own events.
 */
void	 tui_log_output(struct tui *, long long run, long long seq,
	    const char *text);

#endif
