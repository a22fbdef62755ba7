/*
 * tui-keys.h - the requests of the terminal shell and the keys bound to
 * them, as X-macro tables.
 *
 * The help overlay, the key bar, the readline bindings and chiffon(1)'s
 * Keys section (checked by tests/check_tui.c) all come from these two
 * tables, so what F1 shows and what the keys do cannot drift apart.
 *
 * TUI_REQUESTS(R): R(ID, name, help text) - one row per thing the user
 * can ask for; name is the word the key bar shows.  tui-input.c
 * generates one readline command per row.
 *
 * TUI_KEYS(K): K(ID, label, terminfo capability, sequence, map) - one row
 * per key.  map says where the key is bound: TUI_MAP_BOTH on the request
 * line and in command mode, TUI_MAP_EDIT only on the request line,
 * TUI_MAP_CMD only in command mode.  Plain letters are bound in command
 * mode only: on the request line every letter is text.  The sequence is
 * bound in readline's keymap; when the capability is not NULL the
 * terminal's own sequence for it (tigetstr) is bound as well, so the key
 * works on terminals whose sequence differs from the xterm one written
 * here.  A row whose label is NULL is bound but not listed in the help
 * (an alternative sequence of a key listed above it).
 */
#ifndef CHIFFON_TUI_KEYS_H
#define CHIFFON_TUI_KEYS_H

#define TUI_REQUESTS(R)							\
	R(HELP,		"help",		"show or hide this help (? "	\
			"only on an empty request line)")		\
	R(QUIT,		"quit",		"quit chiffon (asks first "	\
			"while a run is in progress; C-d only on an "	\
			"empty request line)")				\
	R(SUBMIT,	"submit",	"submit the request line (an "	\
			"empty line does nothing)")			\
	R(CLEAR,	"clear",	"clear the request line; while "\
			"a request is planned or a dry run goes on, "	\
			"stop it; with a run in progress, ask to "	\
			"cancel it")					\
	R(FOCUS,	"next",		"move the focus to the next "	\
			"pane (Plan, Log, History, Agents, Task)")	\
	R(FOCUS_BACK,	"previous",	"move the focus to the "	\
			"previous pane")				\
	R(PANE_1,	"plan",		"show the Plan pane: the plan "	\
			"of the last request and its steps' states")	\
	R(PANE_2,	"log",		"focus the Log pane; again while "\
			"a task's log is replayed: back to live output")	\
	R(PANE_3,	"history",	"show the History pane: the "	\
			"tasks, newest first, paged from the database")	\
	R(PANE_4,	"agents",	"show the Agents pane: the "	\
			"registered agents, refreshed every 2 seconds")	\
	R(PANE_5,	"task",		"show the Task pane: the task "	\
			"last opened from History")			\
	R(LINE_UP,	"line up",	"move the focused pane up one "	\
			"line (History: the row above)")		\
	R(LINE_DOWN,	"line down",	"move the focused pane down "	\
			"one line (History: the row below)")		\
	R(TOP,		"top",		"go to the focused pane's "	\
			"first line (the Log: the run's first line, "	\
			"paged from the database)")			\
	R(BOTTOM,	"end",		"go to the focused pane's "	\
			"last line (the Log: and follow new output)")	\
	R(WRAP,		"wrap",		"Log: wrap long lines, or cut "	\
			"them at the right edge and scroll sideways")	\
	R(LEFT,		"left",		"Log, lines cut: show the "	\
			"columns to the left")				\
	R(RIGHT,	"right",	"Log, lines cut: show the "	\
			"columns to the right")				\
	R(FAIL_NEXT,	"next failure",	"Log: the next failed task's "	\
			"line (fatal: or failed:)")			\
	R(FAIL_PREV,	"previous failure", "Log: the previous failed "	\
			"task's line")					\
	R(HOST,		"host",		"Log: show only the lines "	\
			"naming the host on the request line (an "	\
			"empty line: every line)")			\
	R(SEARCH,	"search",	"search the Log pane forward "	\
			"for the request line's text, from the top "	\
			"of the view (a replayed log: in the database)")	\
	R(SEARCH_BACK,	"search back",	"search the Log pane backward "	\
			"for the request line's text, from the top of "	\
			"the view")					\
	R(SEARCH_NEXT,	"next match",	"the next line with the text "	\
			"searched for")					\
	R(SEARCH_PREV,	"previous match", "the previous line with "	\
			"the text searched for")			\
	R(FILTER,	"filter",	"History: keep the tasks the "	\
			"request line's words select (failures, "	\
			"service=S, user=U, status=S, since=TIME; an "	\
			"empty line: all)")				\
	R(OPEN,		"open",		"History: open the selected "	\
			"task in the Task pane and replay its log from "	\
			"the database in the Log pane; the pending "	\
			"plans: show the selected plan (F5 approves it)")	\
	R(PENDING,	"pending",	"Plan: list your plans pending "\
			"approval, newest first, or back to the plan "	\
			"shown (Up/Down select, Enter shows one)")	\
	R(PAGE_UP,	"up",		"scroll the focused pane up "	\
			"one page")					\
	R(PAGE_DOWN,	"down",		"scroll the focused pane down "	\
			"one page")					\
	R(REDRAW,	"redraw",	"redraw the screen")		\
	R(APPROVE,	"approve",	"approve the pending plan "	\
			"shown and run it (a high-risk plan asks for "	\
			"a typed confirmation)")			\
	R(REJECT,	"reject",	"reject the pending plan "	\
			"shown, or the one selected in the pending "	\
			"list, after asking y/N (the request line's "	\
			"text is the reason)")				\
	R(MODIFY,	"modify",	"make a new version of the "	\
			"pending plan from the request line's text; on "\
			"an empty line (or in the pending list) its "	\
			"request is put on the line to amend, Enter "	\
			"makes the new version")			\
	R(DRY_RUN,	"dry run",	"run every step of the pending "\
			"plan in check mode (nothing changes)")		\
	R(RERUN,	"again",	"plan an interrupted request "	\
			"again (F5 then approves the new plan)")		\
	R(COMMAND,	"commands",	"enter or leave command mode, "	\
			"where letters are commands (: only on an "	\
			"empty request line)")

/* Where a key is bound. */
#define TUI_MAP_EDIT	1	/* the request line (readline's keymap) */
#define TUI_MAP_CMD	2	/* command mode */
#define TUI_MAP_BOTH	(TUI_MAP_EDIT | TUI_MAP_CMD)

#define TUI_KEYS(K)							\
	K(HELP,		"F1",	"kf1",	"\033OP",	TUI_MAP_BOTH)	\
	K(HELP,		NULL,	NULL,	"\033[11~",	TUI_MAP_BOTH)	\
	K(HELP,		"?",	NULL,	"?",		TUI_MAP_EDIT)	\
	K(QUIT,		"F10",	"kf10",	"\033[21~",	TUI_MAP_BOTH)	\
	K(QUIT,		"C-q",	NULL,	"\021",		TUI_MAP_BOTH)	\
	K(QUIT,		"C-d",	NULL,	"\004",		TUI_MAP_EDIT)	\
	K(QUIT,		"q",	NULL,	"q",		TUI_MAP_CMD)	\
	K(SUBMIT,	"Enter", NULL,	"\r",		TUI_MAP_EDIT)	\
	K(SUBMIT,	NULL,	NULL,	"\n",		TUI_MAP_EDIT)	\
	K(CLEAR,	"C-c",	NULL,	"\003",		TUI_MAP_BOTH)	\
	K(FOCUS,	"Tab",	NULL,	"\t",		TUI_MAP_BOTH)	\
	K(FOCUS_BACK,	"S-Tab", "kcbt", "\033[Z",	TUI_MAP_BOTH)	\
	K(PANE_1,	"1",	NULL,	"1",		TUI_MAP_CMD)	\
	K(PANE_2,	"2",	NULL,	"2",		TUI_MAP_CMD)	\
	K(PANE_3,	"3",	NULL,	"3",		TUI_MAP_CMD)	\
	K(PANE_4,	"4",	NULL,	"4",		TUI_MAP_CMD)	\
	K(PANE_5,	"5",	NULL,	"5",		TUI_MAP_CMD)	\
	K(LINE_UP,	"Up",	"kcuu1", "\033[A",	TUI_MAP_CMD)	\
	K(LINE_DOWN,	"Down",	"kcud1", "\033[B",	TUI_MAP_CMD)	\
	K(LINE_UP,	"k",	NULL,	"k",		TUI_MAP_CMD)	\
	K(LINE_DOWN,	"j",	NULL,	"j",		TUI_MAP_CMD)	\
	K(TOP,		"Home",	"khome", "\033[H",	TUI_MAP_CMD)	\
	K(TOP,		NULL,	NULL,	"\033[1~",	TUI_MAP_CMD)	\
	K(TOP,		NULL,	NULL,	"\033OH",	TUI_MAP_CMD)	\
	K(TOP,		"g",	NULL,	"g",		TUI_MAP_CMD)	\
	K(BOTTOM,	"End",	"kend",	"\033[F",	TUI_MAP_CMD)	\
	K(BOTTOM,	NULL,	NULL,	"\033[4~",	TUI_MAP_CMD)	\
	K(BOTTOM,	NULL,	NULL,	"\033OF",	TUI_MAP_CMD)	\
	K(BOTTOM,	"G",	NULL,	"G",		TUI_MAP_CMD)	\
	K(WRAP,		"w",	NULL,	"w",		TUI_MAP_CMD)	\
	K(LEFT,		"Left",	"kcub1", "\033[D",	TUI_MAP_CMD)	\
	K(RIGHT,	"Right", "kcuf1", "\033[C",	TUI_MAP_CMD)	\
	K(FAIL_NEXT,	"e",	NULL,	"e",		TUI_MAP_CMD)	\
	K(FAIL_PREV,	"E",	NULL,	"E",		TUI_MAP_CMD)	\
	K(HOST,		"h",	NULL,	"h",		TUI_MAP_CMD)	\
	K(OPEN,		"Enter", NULL,	"\r",		TUI_MAP_CMD)	\
	K(FILTER,	"f",	NULL,	"f",		TUI_MAP_CMD)	\
	K(PENDING,	"p",	NULL,	"p",		TUI_MAP_CMD)	\
	K(SEARCH,	"/",	NULL,	"/",		TUI_MAP_CMD)	\
	K(SEARCH_BACK,	"?",	NULL,	"?",		TUI_MAP_CMD)	\
	K(SEARCH_NEXT,	"n",	NULL,	"n",		TUI_MAP_CMD)	\
	K(SEARCH_PREV,	"N",	NULL,	"N",		TUI_MAP_CMD)	\
	K(PAGE_UP,	"PgUp",	"kpp",	"\033[5~",	TUI_MAP_BOTH)	\
	K(PAGE_DOWN,	"PgDn",	"knp",	"\033[6~",	TUI_MAP_BOTH)	\
	K(REDRAW,	"C-l",	NULL,	"\014",		TUI_MAP_BOTH)	\
	K(APPROVE,	"F5",	"kf5",	"\033[15~",	TUI_MAP_BOTH)	\
	K(APPROVE,	"a",	NULL,	"a",		TUI_MAP_CMD)	\
	K(REJECT,	"F6",	"kf6",	"\033[17~",	TUI_MAP_BOTH)	\
	K(REJECT,	"r",	NULL,	"r",		TUI_MAP_CMD)	\
	K(MODIFY,	"F7",	"kf7",	"\033[18~",	TUI_MAP_BOTH)	\
	K(MODIFY,	"m",	NULL,	"m",		TUI_MAP_CMD)	\
	K(DRY_RUN,	"F8",	"kf8",	"\033[19~",	TUI_MAP_BOTH)	\
	K(DRY_RUN,	"d",	NULL,	"d",		TUI_MAP_CMD)	\
	K(RERUN,	"F9",	"kf9",	"\033[20~",	TUI_MAP_BOTH)	\
	K(COMMAND,	"Esc",	NULL,	"\033",		TUI_MAP_BOTH)	\
	K(COMMAND,	":",	NULL,	":",		TUI_MAP_BOTH)

/* TUI_REQ_HELP, TUI_REQ_QUIT, ... */
enum tui_request {
#define TUI_REQUEST_ENUM(id, name, help) TUI_REQ_##id,
	TUI_REQUESTS(TUI_REQUEST_ENUM)
#undef TUI_REQUEST_ENUM
	TUI_REQ__COUNT
};

#endif
