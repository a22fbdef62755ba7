/*
 * tui.c - the terminal shell's main loop glue.
 *
 * tui_run sets up readline, curses and the watches on the event loop
 * (the terminal, a signalfd for SIGWINCH, a status timer), routes the log
 * into the log pane, and runs the loop until the user quits.  Every
 * request of tui-keys.h arrives in tui_request through a table of
 * handlers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "app.h"
#include "audit.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "plan.h"
#include "plugins.h"
#include "spawn.h"
#include "tui.h"
#include "util.h"

#define TUI_LOG_LINES		10000	/* kept in the log pane */
#define TUI_PLAN_LINES		2000
#define TUI_STATUS_MS		1000	/* status bar refresh */
#define TUI_REDRAW_MS		30	/* batching of log pane redraws */

/* -- status bar ----------------------------------------------------------- */

/* Recompute the status; redraw it when it changed. */
static void
tui_status_update(struct tui *t, int draw)
{
	char	*s = tui_status_text(t), *keys = tui_layout_key_bar(t);

	if (t->status != NULL && strcmp(s, t->status) == 0 &&
	    t->status_keys != NULL && strcmp(keys, t->status_keys) == 0) {
		free(s);
		free(keys);
		return;
	}
	free(t->status);
	t->status = s;
	free(t->status_keys);
	t->status_keys = keys;
	if (draw && !t->geom.too_small) {
		tui_layout_draw_status(t);
		tui_input_redisplay();
	}
}

void
tui_status_refresh(struct tui *t)
{
	tui_status_update(t, 1);
}

static int
tui_status_timer(void *data)
{
	tui_status_facts(data);
	tui_status_update(data, 1);
	return 0;
}

/* -- log pane ------------------------------------------------------------- */

static const char *const tui_level_names[] = {
	[CHIFFON_LOG_ERROR] = "error",
	[CHIFFON_LOG_WARNING] = "warning",
	[CHIFFON_LOG_INFO] = "info",
	[CHIFFON_LOG_DEBUG] = "debug",
};

/* One-shot timer: draw the panes after a burst of log lines. */
static int
tui_redraw_timer(void *data)
{
	struct tui	*t = data;

	t->redraw_timer = 0;
	tui_layout_draw_panes(t);
	return 1;
}

/* A line of chiffon's own to the log file (run output is in run_output). */
static void
tui_log_to_file(struct tui *t, const char *text)
{
	char		 stamp[32];
	struct tm	 tm;
	time_t		 now;

	if (t->logfile == NULL)
		return;
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", &tm);
	fprintf(t->logfile, "%s %s\n", stamp, text);
	fflush(t->logfile);
}

/* After lines were added to the log pane: draw the panes soon, once for a
 * burst of lines. */
static void
tui_log_added(struct tui *t, size_t before)
{
	size_t	i;

	for (i = before; i < t->log.count; i++)
		tui_logpane_added(t, tui_log_get(&t->log, i));
	if (t->redraw_timer == 0 && t->loop != NULL)
		t->redraw_timer = loop_add_timer(t->loop, TUI_REDRAW_MS,
		    tui_redraw_timer, t, NULL, NULL);
}

void
tui_log_line(struct tui *t, int level, const char *who, const char *msg)
{
	char	*text;
	size_t	 before;

	if (level < CHIFFON_LOG_ERROR || level > CHIFFON_LOG_DEBUG)
		level = CHIFFON_LOG_INFO;
	if (level == CHIFFON_LOG_INFO)
		text = xasprintf("%s%s%s", who != NULL ? who : "",
		    who != NULL ? ": " : "", msg);
	else
		text = xasprintf("%s%s%s: %s", who != NULL ? who : "",
		    who != NULL ? ": " : "", tui_level_names[level], msg);
	/* A full ring keeps its count: count the lines it was given. */
	before = t->log.count;
	tui_log_add(&t->log, level, text);
	tui_log_added(t, before < t->log.count ? before : t->log.count - 1);
	tui_log_to_file(t, text);
	free(text);
}

void
tui_log_output(struct tui *t, long long run, long long seq, const char *text)
{
	tui_log_add_run(&t->log, run, seq, text);
	tui_log_added(t, t->log.count - 1);
}

/* The log sink while the shell runs. */
static void
tui_log_sink(int level, const char *who, const char *msg, void *data)
{
	tui_log_line(data, level, who, msg);
}

/* Open log.file for appending; NULL (and a line in the pane) if not. */
static FILE *
tui_log_open(struct tui *t)
{
	const char	*path = conf_get(t->app->conf, "log.file");
	char		*dir, *slash, *msg;
	FILE		*f;
	int		 fd;

	if (path == NULL)
		return NULL;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir_p(dir, 0700);
	}
	free(dir);
	/* The log may name hosts and paths: readable by the user only. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	f = fd != -1 ? fdopen(fd, "a") : NULL;
	if (f == NULL && fd != -1)
		close(fd);
	if (f == NULL) {
		msg = xasprintf("cannot append to %s: %s (log.file; the log "
		    "is only shown here)", path, strerror(errno));
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
	}
	return f;
}

/* -- requests ------------------------------------------------------------- */

static int
tui_do_help(struct tui *t, int count, int key)
{
	if (key == '?' && rl_end > 0 && !t->cmd_mode)
		return rl_insert(count, key);
	t->help = !t->help;
	tui_layout_draw(t);
	return 0;
}

/*
 * Ask a y/N question on the request line (what was typed is kept in the
 * history); the answer comes through tui_submit.
 */
static void
tui_ask(struct tui *t, enum tui_ask ask, const char *question)
{
	tui_input_mode(t, 0);
	if (rl_end > 0)
		tui_input_history_add(rl_line_buffer);
	rl_replace_line("", 0);
	rl_point = rl_mark = 0;
	t->ask = ask;
	tui_input_ask(t, question);
	tui_status_refresh(t);
}

static void
tui_ask_end(struct tui *t)
{
	t->ask = TUI_ASK_NONE;
	tui_input_ask(t, NULL);
	tui_status_refresh(t);
}

/*
 * Stop amending a plan's request on the request line (the line is
 * emptied); why (may be NULL) goes to the log.
 */
static void
tui_amend_end(struct tui *t, const char *why)
{
	if (t->amend_row == 0)
		return;
	t->amend_row = 0;
	tui_input_ask(t, NULL);
	rl_replace_line("", 0);
	rl_point = rl_mark = 0;
	if (why != NULL)
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, why);
	tui_status_refresh(t);
}

/* Whether a plan is executing now. */
static int
tui_running(const struct tui *t)
{
	return t->exec != NULL && !tui_exec_done(t->exec);
}

/* Cancel the step asked about. */
static void
tui_cancel_step(struct tui *t)
{
	char	*err = NULL, *msg;

	if (!tui_running(t) || tui_exec_cancel_task(t->exec, t->ask_task,
	    &err) != 0) {
		msg = xasprintf("nothing canceled: %s", err != NULL ? err :
		    "the step is no longer running");
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
		free(msg);
		free(err);
		return;
	}
	msg = xasprintf("task %lld: canceled by %s; stopping its "
	    "ansible-playbook (SIGINT, then SIGTERM and SIGKILL)",
	    t->ask_task, audit_actor());
	tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
	free(msg);
}

/* The number of bytes at the end of s that are in set. */
static size_t
strspn_end(const char *s, const char *set)
{
	size_t	n = strlen(s), k = 0;

	while (k < n && strchr(set, s[n - 1 - k]) != NULL)
		k++;
	return k;
}

void
tui_prompt(struct tui *t, const char *text)
{
	char	*q;

	tui_amend_end(t, "not amended: the running playbook asks for input");
	if (t->ask != TUI_ASK_NONE || t->confirm_row != 0) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "the playbook waits "
		    "for an answer: answer the question asked first");
		return;
	}
	q = xasprintf("ansible asks: %.*s (typed hidden; Enter sends it) ",
	    (int)(strlen(text) - strspn_end(text, " ")), text);
	tui_ask(t, TUI_ASK_PROMPT, q);
	free(q);
	tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "the playbook waits for "
	    "an answer: type it on the request line (C-c: no answer)");
}

/* The answer to the question asked (tui_ask). */
static void
tui_ask_answer(struct tui *t, const char *line)
{
	enum tui_ask	 ask = t->ask;
	char		*err = NULL, *msg;
	int		 yes;

	if (ask == TUI_ASK_PROMPT) {
		/* As typed, to the playbook's terminal alone. */
		tui_ask_end(t);
		if (spawn_prompt_answer(line, &err) != 0) {
			msg = xasprintf("answer not sent: %s", err);
			tui_log_line(t, CHIFFON_LOG_WARNING, NULL, msg);
			free(msg);
			free(err);
		} else
			tui_log_line(t, CHIFFON_LOG_INFO, NULL, "answer sent "
			    "to the playbook");
		return;
	}
	while (*line == ' ' || *line == '\t')
		line++;
	yes = *line == 'y' || *line == 'Y';
	tui_ask_end(t);
	if (ask == TUI_ASK_REJECT) {
		if (yes)
			tui_plan_reject_row(t, t->ask_row, t->ask_reason);
		else
			tui_log_line(t, CHIFFON_LOG_INFO, NULL, "not rejected: "
			    "the plan stays pending approval");
		free(t->ask_reason);
		t->ask_reason = NULL;
		t->ask_row = 0;
		tui_layout_draw_panes(t);
		return;
	}
	if (!yes) {
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, ask == TUI_ASK_QUIT ?
		    "not quitting" : "not canceled: the step goes on");
		return;
	}
	if (ask == TUI_ASK_CANCEL)
		tui_cancel_step(t);
	else if (ask == TUI_ASK_QUIT)
		t->quit = 1;
}

static int
tui_do_quit(struct tui *t, int count, int key)
{
	char	*q;

	/* C-d deletes a character, and quits only an empty line. */
	if (key == '\004' && rl_end > 0)
		return rl_delete(count, key);
	tui_input_mode(t, 0);
	if (t->ask != TUI_ASK_NONE || t->confirm_row != 0)
		return 0;
	tui_amend_end(t, NULL);
	if (tui_running(t)) {
		/* Quitting cancels the plan: ask first. */
		q = xasprintf("plan %lld is running: quit and cancel it? y/N ",
		    tui_exec_plan_id(t->exec));
		tui_ask(t, TUI_ASK_QUIT, q);
		free(q);
		return 0;
	}
	t->quit = 1;
	return 0;
}

static int
tui_do_submit(struct tui *t, int count, int key)
{
	return rl_newline(count, key);
}

/* Empty the request line (and leave command mode). */
static void
tui_clear_line(struct tui *t)
{
	tui_input_mode(t, 0);
	rl_replace_line("", 0);
	rl_point = rl_mark = 0;
	tui_input_redisplay();
}

static int
tui_do_clear(struct tui *t, int count, int key)
{
	long long	 task_id;
	char		*q;
	int		 step;

	if (t->ask == TUI_ASK_PROMPT) {
		tui_ask_end(t);
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "not answered: the "
		    "playbook still waits (C-c again asks to cancel the step)");
		return 0;
	}
	if (t->ask != TUI_ASK_NONE) {
		tui_ask_answer(t, "n");
		return 0;
	}
	if (t->amend_row != 0) {
		tui_amend_end(t, "not amended: the plan is unchanged");
		tui_input_redisplay();
		return 0;
	}
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, "approval not confirmed: nothing "
		    "was approved");
	else if (tui_plan_cancel_request(t))
		return 0;
	else if ((step = tui_exec_running_step(t->exec, &task_id)) >= 0) {
		/* A run in progress: C-c asks to cancel it. */
		t->ask_task = task_id;
		q = tui_plan_cancel_question(t, (size_t)step);
		tui_ask(t, TUI_ASK_CANCEL, q);
		free(q);
		return 0;
	}
	tui_clear_line(t);
	return 0;
}

static int
tui_do_focus(struct tui *t, int count, int key)
{
	tui_pane_cycle(t, 1);
	tui_layout_draw_panes(t);
	return 0;
}

static int
tui_do_focus_back(struct tui *t, int count, int key)
{
	tui_pane_cycle(t, -1);
	tui_layout_draw_panes(t);
	return 0;
}

/* 1..5 in command mode; 2 again in a replayed log: live output. */
static int
tui_do_pane(struct tui *t, enum tui_focus p)
{
	if (p == TUI_FOCUS_LOG && t->focus == TUI_FOCUS_LOG &&
	    t->replay != NULL)
		tui_replay_end(t);
	tui_pane_focus(t, p);
	tui_layout_draw_panes(t);
	return 0;
}

#define TUI_DO_PANE(n, id)						\
static int								\
tui_do_pane_##n(struct tui *t, int count, int key)			\
{									\
	return tui_do_pane(t, id);					\
}
TUI_DO_PANE(1, TUI_FOCUS_PLAN)
TUI_DO_PANE(2, TUI_FOCUS_LOG)
TUI_DO_PANE(3, TUI_FOCUS_HISTORY)
TUI_DO_PANE(4, TUI_FOCUS_AGENTS)
TUI_DO_PANE(5, TUI_FOCUS_TASK)
#undef TUI_DO_PANE

/* PgUp, PgDn, Up, Down, Enter: whatever the focused pane makes of it. */
static int
tui_do_pane_key(struct tui *t, enum tui_request req)
{
	if (tui_pane_key(t, req))
		tui_layout_draw_panes(t);
	return 0;
}

static int
tui_do_page_up(struct tui *t, int count, int key)
{
	return tui_do_pane_key(t, TUI_REQ_PAGE_UP);
}

static int
tui_do_page_down(struct tui *t, int count, int key)
{
	return tui_do_pane_key(t, TUI_REQ_PAGE_DOWN);
}

static int
tui_do_line_up(struct tui *t, int count, int key)
{
	return tui_do_pane_key(t, TUI_REQ_LINE_UP);
}

static int
tui_do_line_down(struct tui *t, int count, int key)
{
	return tui_do_pane_key(t, TUI_REQ_LINE_DOWN);
}

static int
tui_do_open(struct tui *t, int count, int key)
{
	return tui_do_pane_key(t, TUI_REQ_OPEN);
}

static int
tui_do_redraw(struct tui *t, int count, int key)
{
	clearok(curscr, TRUE);
	tui_layout_draw(t);
	return 0;
}

/*
 * After a plan command: back to the request line (a command letter acts
 * once), the panes and the key bar drawn again.
 */
static int
tui_done_command(struct tui *t)
{
	tui_input_mode(t, 0);
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
	return 0;
}

static int
tui_do_approve(struct tui *t, int count, int key)
{
	tui_input_mode(t, 0);
	if (t->amend_row != 0) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "not approved: the "
		    "request is being amended (Enter makes the new version, "
		    "C-c keeps the plan; then F5)");
		return 0;
	}
	if (t->confirm_row != 0) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "type the "
		    "confirmation on the request line and press Enter (C-c "
		    "or Esc: do not approve)");
		return 0;
	}
	if (tui_plan_approve(t) == 0 && t->confirm_row != 0) {
		/* Asking: the line is the answer, what was typed is kept. */
		if (rl_end > 0)
			tui_input_history_add(rl_line_buffer);
		rl_replace_line("", 0);
		rl_point = rl_mark = 0;
	}
	return tui_done_command(t);
}

/* The request line's text (NULL when empty).  Caller frees. */
static char *
tui_line_text(void)
{
	const char	*p = rl_line_buffer;

	while (*p == ' ' || *p == '\t')
		p++;
	return rl_end > 0 && *p != '\0' ? xstrdup(p) : NULL;
}

/*
 * / and ? take the request line's text (and clear it) and search forward
 * or backward; n and N repeat.
 */
static int
tui_do_search_dir(struct tui *t, int dir)
{
	char	*text = tui_line_text();

	if (text != NULL) {
		tui_input_history_add(text);
		rl_replace_line("", 0);
		rl_point = rl_mark = 0;
	}
	tui_search(t, text, dir);
	free(text);
	return 0;
}

static int
tui_do_search(struct tui *t, int count, int key)
{
	return tui_do_search_dir(t, 1);
}

static int
tui_do_search_back(struct tui *t, int count, int key)
{
	return tui_do_search_dir(t, -1);
}

/* f: the request line's words filter History (and show it). */
static int
tui_do_filter(struct tui *t, int count, int key)
{
	char	*text = tui_line_text(), *err = NULL;

	if (tui_history_filter(t, text, &err) != 0) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, err);
		free(err);
	} else if (text != NULL) {
		tui_input_history_add(text);
		rl_replace_line("", 0);
		rl_point = rl_mark = 0;
	}
	free(text);
	tui_pane_focus(t, TUI_FOCUS_HISTORY);
	tui_layout_draw_panes(t);
	return 0;
}

/* h: only the Log lines naming the request line's host (empty: all). */
static int
tui_do_host(struct tui *t, int count, int key)
{
	char	*text = tui_line_text(), *err = NULL;

	if (tui_logpane_host(t, text, &err) != 0) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, err);
		tui_logpane_note(t, err);
		free(err);
	} else if (text != NULL) {
		add_history(text);
		rl_replace_line("", 0);
		rl_point = rl_mark = 0;
	}
	free(text);
	tui_pane_focus(t, TUI_FOCUS_LOG);
	tui_layout_draw_panes(t);
	return 0;
}

static int
tui_do_search_next(struct tui *t, int count, int key)
{
	tui_search(t, NULL, 1);
	return 0;
}

static int
tui_do_search_prev(struct tui *t, int count, int key)
{
	tui_search(t, NULL, -1);
	return 0;
}

/*
 * F6: ask before rejecting plan row (plan_id vversion, its request
 * text), the one shown or the one selected in the pending list; the
 * reason (owned) is kept for the answer.
 */
static void
tui_reject_ask(struct tui *t, char *reason, long long row,
    long long plan_id, int version, const char *text)
{
	char	*q;

	q = xasprintf("reject plan %lld v%d (%.40s)? y/N ", plan_id,
	    version, text != NULL ? text : "");
	free(t->ask_reason);
	t->ask_reason = reason;
	t->ask_row = row;
	tui_ask(t, TUI_ASK_REJECT, q);
	free(q);
}

static int
tui_do_reject(struct tui *t, int count, int key)
{
	const struct plan_pending	*r;
	const struct plan		*p;
	char				*reason = tui_line_text();
	long long			 row;

	if (t->amend_row != 0) {
		/* The line is the amendment, not a reason: reject nothing. */
		free(reason);
		tui_amend_end(t, "not amended: the plan is unchanged (F6 "
		    "again rejects it)");
		return tui_done_command(t);
	}
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, "approval not confirmed");
	else if (tui_pending_shown(t)) {
		row = tui_pending_selected(t);
		if (row != 0 && (r = tui_pending_row(t, row)) != NULL) {
			/* The line is emptied; the reason kept for y. */
			tui_reject_ask(t, reason, row, r->plan_id,
			    r->version, r->text);
			return 0;
		}
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "nothing to "
		    "reject: no pending plan is selected");
	} else if ((p = t->plan_cur) != NULL && tui_plan_pending(t)) {
		tui_reject_ask(t, reason, p->row_id, p->plan_id, p->version,
		    p->text);
		return 0;
	} else
		tui_plan_reject(t, reason);	/* says why it cannot */
	free(reason);
	return tui_done_command(t);
}

/*
 * Amend the plan shown: its request text on the request line, where
 * Enter makes the new version (tui_submit) and C-c keeps the plan.
 */
static void
tui_amend_start(struct tui *t)
{
	const struct plan	*p = t->plan_cur;
	char			*q;

	if (!tui_plan_pending(t)) {
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "nothing to modify: "
		    "no plan pending approval is shown");
		return;
	}
	tui_input_mode(t, 0);
	t->amend_row = p->row_id;
	q = xasprintf("amend plan %lld v%d> ", p->plan_id, p->version);
	tui_input_ask(t, q);
	free(q);
	rl_replace_line(t->plan_request != NULL ? t->plan_request : p->text,
	    0);
	rl_point = rl_end;
	rl_mark = 0;
	tui_input_redisplay();
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, "amend the request on the "
	    "request line: Enter makes a new version of the plan, C-c keeps "
	    "it as it is");
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

static int
tui_do_modify(struct tui *t, int count, int key)
{
	char		*text = tui_line_text();
	long long	 row;

	if (t->amend_row != 0) {
		free(text);
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "amending: Enter "
		    "makes the new version, C-c keeps the plan");
		return 0;
	}
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, "approval not confirmed");
	if (tui_pending_shown(t)) {
		/* The selected plan becomes the one shown, then amended. */
		row = tui_pending_selected(t);
		if (row == 0 || tui_plan_pick(t, row) != 0) {
			if (row == 0)
				tui_log_line(t, CHIFFON_LOG_WARNING, NULL,
				    "nothing to modify: no pending plan is "
				    "selected");
			free(text);
			return tui_done_command(t);
		}
	}
	if (text == NULL) {
		tui_done_command(t);
		tui_amend_start(t);
		return 0;
	}
	if (tui_plan_modify(t, text) == 0)
		tui_clear_line(t);
	free(text);
	return tui_done_command(t);
}

/* Esc p: the list of pending plans in the Plan pane, or back. */
static int
tui_do_pending(struct tui *t, int count, int key)
{
	tui_amend_end(t, NULL);
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, "approval not confirmed");
	tui_pending_show(t, !tui_pending_shown(t));
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
	return 0;
}

static int
tui_do_dry_run(struct tui *t, int count, int key)
{
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, "approval not confirmed");
	tui_input_mode(t, 0);
	tui_plan_dry_run(t);
	return tui_done_command(t);
}

static int
tui_do_rerun(struct tui *t, int count, int key)
{
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, "approval not confirmed");
	tui_input_mode(t, 0);
	tui_plan_rerun(t);
	return tui_done_command(t);
}

/* Esc, or : on an empty request line: enter or leave command mode. */
static int
tui_do_command(struct tui *t, int count, int key)
{
	if (key == ':' && !t->cmd_mode && rl_end > 0)
		return rl_insert(count, key);
	if (t->amend_row != 0) {
		tui_amend_end(t, "not amended: the plan is unchanged");
		return tui_done_command(t);
	}
	if (t->confirm_row != 0) {
		tui_plan_confirm_cancel(t, "approval not confirmed: nothing "
		    "was approved");
		return tui_done_command(t);
	}
	tui_input_mode(t, !t->cmd_mode);
	tui_status_refresh(t);
	return 0;
}

/* What each request does (the keys are in tui-keys.h). */
static int (*const tui_handlers[])(struct tui *, int, int) = {
	[TUI_REQ_HELP] = tui_do_help,
	[TUI_REQ_QUIT] = tui_do_quit,
	[TUI_REQ_SUBMIT] = tui_do_submit,
	[TUI_REQ_CLEAR] = tui_do_clear,
	[TUI_REQ_FOCUS] = tui_do_focus,
	[TUI_REQ_FOCUS_BACK] = tui_do_focus_back,
	[TUI_REQ_PANE_1] = tui_do_pane_1,
	[TUI_REQ_PANE_2] = tui_do_pane_2,
	[TUI_REQ_PANE_3] = tui_do_pane_3,
	[TUI_REQ_PANE_4] = tui_do_pane_4,
	[TUI_REQ_PANE_5] = tui_do_pane_5,
	[TUI_REQ_LINE_UP] = tui_do_line_up,
	[TUI_REQ_LINE_DOWN] = tui_do_line_down,
	[TUI_REQ_OPEN] = tui_do_open,
	[TUI_REQ_PENDING] = tui_do_pending,
	[TUI_REQ_SEARCH] = tui_do_search,
	[TUI_REQ_SEARCH_BACK] = tui_do_search_back,
	[TUI_REQ_FILTER] = tui_do_filter,
	[TUI_REQ_HOST] = tui_do_host,
	[TUI_REQ_SEARCH_NEXT] = tui_do_search_next,
	[TUI_REQ_SEARCH_PREV] = tui_do_search_prev,
	[TUI_REQ_PAGE_UP] = tui_do_page_up,
	[TUI_REQ_PAGE_DOWN] = tui_do_page_down,
	[TUI_REQ_REDRAW] = tui_do_redraw,
	[TUI_REQ_APPROVE] = tui_do_approve,
	[TUI_REQ_REJECT] = tui_do_reject,
	[TUI_REQ_MODIFY] = tui_do_modify,
	[TUI_REQ_DRY_RUN] = tui_do_dry_run,
	[TUI_REQ_RERUN] = tui_do_rerun,
	[TUI_REQ_COMMAND] = tui_do_command,
};

int
tui_request(struct tui *t, enum tui_request req, int count, int key)
{
	if ((size_t)req >= nitems(tui_handlers))
		return 0;
	if (tui_handlers[req] == NULL)
		return tui_pane_request(t, req);
	return tui_handlers[req](t, count, key);
}

void
tui_submit(struct tui *t, const char *line)
{
	const char	*p;
	char		*msg;

	if (line == NULL) {		/* end of input */
		tui_do_quit(t, 1, 0);
		return;
	}
	if (t->ask != TUI_ASK_NONE) {
		tui_ask_answer(t, line);
		return;
	}
	if (t->amend_row != 0) {
		/* The amended request: a new version of that plan. */
		long long	 row = t->amend_row;

		tui_amend_end(t, NULL);
		for (p = line; *p == ' ' || *p == '\t'; p++)
			/* nothing */;
		if (*p == '\0')
			tui_log_line(t, CHIFFON_LOG_INFO, NULL, "not amended: "
			    "the request line was empty");
		else if (t->plan_cur == NULL || t->plan_cur->row_id != row)
			tui_log_line(t, CHIFFON_LOG_WARNING, NULL, "not "
			    "amended: the plan is no longer shown");
		else {
			tui_input_history_add(line);
			tui_plan_modify(t, p);
		}
		tui_layout_draw_panes(t);
		tui_status_refresh(t);
		return;
	}
	if (t->confirm_row != 0) {
		/* The answer to the confirmation: never a request. */
		tui_plan_confirm(t, line);
		tui_layout_draw_panes(t);
		tui_status_refresh(t);
		return;
	}
	for (p = line; *p == ' ' || *p == '\t'; p++)
		/* nothing */;
	if (*p == '\0') {
		/* Never an approval: say which key is. */
		if (tui_plan_pending(t))
			tui_log_line(t, CHIFFON_LOG_INFO, NULL, "an empty line "
			    "approves nothing: F5 approves the plan shown, "
			    "F6 rejects it");
		return;
	}
	tui_input_history_add(line);
	msg = xasprintf("request: %s", p);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, msg);
	free(msg);
	tui_plan_request(t, p);
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

/* -- terminal and signals ------------------------------------------------- */

static int	tui_stdin_cb(int, int, void *);

void
tui_watch_stdin(struct tui *t, int on)
{
	if (!on && t->watch_stdin > 0) {
		loop_remove(t->loop, t->watch_stdin);
		t->watch_stdin = 0;
	} else if (on && t->watch_stdin == 0 && !t->quit)
		t->watch_stdin = loop_watch_fd(t->loop, STDIN_FILENO,
		    CHIFFON_FD_READ, tui_stdin_cb, t, NULL, NULL);
}

static int
tui_stdin_cb(int fd, int revents, void *data)
{
	struct tui	*t = data;
	unsigned char	 buf[sizeof t->in];
	ssize_t		 n;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		/* The terminal went away: a hang-up. */
		if (t->signo == 0)
			t->signo = SIGHUP;
		t->quit = 1;
		t->watch_stdin = 0;
		return 1;
	}
	/*
	 * The first key starts the catalog refresh (the infra plugin reads
	 * the repository and runs ansible-inventory): typing a request takes
	 * longer, and a request sent before it lands loads the catalog
	 * itself.  A shell nobody types into holds nothing of the repository
	 * (issue 12: 1.1 MB of the idle shell's resident memory).
	 */
	if (!t->vocab_asked) {
		t->vocab_asked = 1;
		tui_plan_vocab_refresh(t);
	}
	if (t->help) {
		/* Any key closes the help. */
		t->help = 0;
		tui_layout_draw(t);
		return 0;
	}
	tui_input_feed(t, buf, (size_t)n);
	return 0;
}

/* Follow the terminal's new size. */
static void
tui_resize(struct tui *t)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		resizeterm(ws.ws_row, ws.ws_col);
		rl_set_screen_size(ws.ws_row, ws.ws_col);
	}
	tui_layout_apply(t);
	tui_pane_resize(t);
	clearok(curscr, TRUE);
	tui_layout_draw(t);
}

static int
tui_signal_cb(int fd, int revents, void *data)
{
	struct tui		*t = data;
	struct signalfd_siginfo	 si;
	int			 winch = 0;

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGWINCH)
			winch = 1;
		else if (t->signo == 0) {
			/* SIGTERM, SIGHUP (the SSH session gone), SIGINT. */
			t->signo = (int)si.ssi_signo;
			t->quit = 1;
		}
	}
	if (winch)
		tui_resize(t);
	return 0;
}

/* -- running -------------------------------------------------------------- */

/* The name of a signal that ends the shell. */
static const char *
sigabbrev(int signo)
{
	static const struct {
		int		 signo;
		const char	*name;
	} names[] = {
		{ SIGTERM, "SIGTERM" },
		{ SIGHUP, "SIGHUP" },
		{ SIGINT, "SIGINT" },
	};
	size_t	i;

	for (i = 0; i < nitems(names); i++)
		if (names[i].signo == signo)
			return names[i].name;
	return "a signal";
}


/* Say what the plan pane is for until the first request. */
static void
tui_plan_intro(struct tui *t)
{
	tui_log_add(&t->plan, -1, "Type a request below and press Enter, "
	    "for example: deploy uptime kuma");
	tui_log_add(&t->plan, -1, "Its plan is shown here; F5 approves and "
	    "runs it, F6 rejects it (or Esc, then a or r).  F1 shows the "
	    "keys.");
}

/*
 * What the first frame does not need runs right after it is drawn: the
 * notice of plans left interrupted (two queries) and the LISTEN that
 * shows other sessions' plans and runs.  The catalog
 * waits for the admin's first key (tui_stdin_cb).
 */
static int
tui_start_timer(void *data)
{
	struct tui	*t = data;

	t->start_timer = 0;
	tui_plan_interrupted_notice(t);
	tui_watch_start(t);
	tui_layout_draw_panes(t);
	return 1;
}

int
tui_run(struct app *app)
{
	struct tui	 t;
	SCREEN		*screen;
	sigset_t	 winch, oldmask;
	char		*why, *err = NULL;
	int		 rc = EXIT_OK, loop_errno = 0, interrupted = 0;

	memset(&t, 0, sizeof t);
	t.app = app;
	t.loop = app_loop(app);
	t.focus = TUI_FOCUS_LOG;
	t.top = TUI_FOCUS_PLAN;
	t.sigfd = -1;
	tui_log_init(&t.log, TUI_LOG_LINES);
	tui_log_init(&t.plan, TUI_PLAN_LINES);
	tui_log_init(&t.summary, TUI_PLAN_LINES);
	tui_log_init(&t.task, TUI_PLAN_LINES);
	tui_log_init(&t.agents, TUI_PLAN_LINES);

	/*
	 * SIGWINCH, and the signals that end the shell (which first stops
	 * and records a running plan as interrupted), arrive through a
	 * signalfd, never as a handler.
	 */
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigaddset(&winch, SIGTERM);
	sigaddset(&winch, SIGHUP);
	sigaddset(&winch, SIGINT);
	sigprocmask(SIG_BLOCK, &winch, &oldmask);
	t.sigfd = signalfd(-1, &winch, SFD_NONBLOCK | SFD_CLOEXEC);

	tui_input_init(&t);
	screen = newterm(NULL, stdout, stdin);
	if (screen == NULL) {
		fprintf(stderr, "chiffon: cannot use the terminal type '%s'; "
		    "set TERM to a type terminfo knows (for example "
		    "xterm-256color)\n", getenv("TERM") != NULL ?
		    getenv("TERM") : "");
		tui_input_end(&t);
		rc = EXIT_USAGE;
		goto out;
	}
	set_term(screen);
	raw();			/* C-q and C-c reach us, not the tty driver */
	noecho();
	nonl();
	typeahead(-1);		/* stdin is read by the loop, not curses */
	tui_log_colors_start();
	tui_layout_apply(&t);

	t.logfile = tui_log_open(&t);
	log_set_sink(tui_log_sink, &t);
	tui_log_line(&t, CHIFFON_LOG_INFO, NULL, "chiffon " PACKAGE_VERSION
	    " - F1 for help, C-q to quit");
	if (!has_colors()) {
		why = xasprintf("TERM=%s has no colours: errors and warnings "
		    "are shown bold", getenv("TERM") != NULL ? getenv("TERM") :
		    "");
		tui_log_line(&t, CHIFFON_LOG_INFO, NULL, why);
		free(why);
	}
	if (t.sigfd == -1)
		tui_log_line(&t, CHIFFON_LOG_WARNING, NULL, "signalfd failed: "
		    "the screen will not follow size changes");
	tui_plan_intro(&t);
	tui_status_update(&t, 0);
	if (app->db != NULL)
		db_attach_loop(app->db, t.loop);

	tui_input_start(&t);
	if (tui_input_history_start(&err) != 0) {
		tui_log_line(&t, CHIFFON_LOG_WARNING, NULL, err);
		free(err);
	}
	tui_watch_stdin(&t, 1);
	if (t.sigfd != -1)
		t.watch_sig = loop_watch_fd(t.loop, t.sigfd, CHIFFON_FD_READ,
		    tui_signal_cb, &t, NULL, NULL);
	t.status_timer = loop_add_timer(t.loop, TUI_STATUS_MS,
	    tui_status_timer, &t, NULL, NULL);
	tui_layout_draw(&t);
	t.start_timer = loop_add_timer(t.loop, 0, tui_start_timer, &t, NULL,
	    NULL);

	while (!t.quit) {
		if (loop_run_once(t.loop, -1) == -1 && errno != EINTR) {
			loop_errno = errno;
			rc = EXIT_FAIL;
			break;
		}
	}

	/* A plan still running is stopped while the screen is there. */
	tui_watch_stdin(&t, 0);
	if (t.signo != 0) {
		why = xasprintf("the shell got %s%s", sigabbrev(t.signo),
		    t.signo == SIGHUP ? " (the terminal or SSH session went "
		    "away)" : "");
		if (tui_plan_interrupt(&t, why) > 0)
			interrupted = 1;
		free(why);
		rc = 128 + t.signo;
	} else if (t.exec != NULL && !tui_exec_done(t.exec))
		rc = EXIT_FAIL;		/* quit canceled a running plan */
	tui_watch_end(&t);
	tui_plan_end(&t);
	tui_pane_focus(&t, TUI_FOCUS_PLAN);	/* stops the Agents timer */
	tui_history_free(&t);
	tui_pending_free(&t);
	free(t.ask_reason);
	tui_logpane_free(&t);
	log_set_sink(NULL, NULL);
	if (t.watch_stdin > 0)
		loop_remove(t.loop, t.watch_stdin);
	if (t.watch_sig > 0)
		loop_remove(t.loop, t.watch_sig);
	if (t.status_timer > 0)
		loop_remove(t.loop, t.status_timer);
	if (t.redraw_timer > 0)
		loop_remove(t.loop, t.redraw_timer);
	if (t.start_timer > 0)
		loop_remove(t.loop, t.start_timer);
	tui_input_end(&t);
	tui_layout_free(&t);
	endwin();
	delscreen(screen);
	if (loop_errno != 0)
		fprintf(stderr, "chiffon: the event loop failed: %s\n",
		    strerror(loop_errno));
	if (interrupted)
		fprintf(stderr, "chiffon: %s: the running plan was stopped "
		    "and recorded as interrupted\n", sigabbrev(t.signo));
out:
	if (t.logfile != NULL)
		fclose(t.logfile);
	if (t.sigfd != -1)
		close(t.sigfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	tui_log_free(&t.log);
	tui_log_free(&t.plan);
	tui_log_free(&t.summary);
	tui_status_free(&t);
	tui_log_free(&t.task);
	tui_log_free(&t.agents);
	free(t.status);
	free(t.status_keys);
	free(t.search);
	return rc;
}
