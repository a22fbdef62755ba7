/*
 * tui-keys.h - the requests of the terminal shell and the keys bound to
 * them, as X-macro tables.
 *
 * The help overlay and the readline bindings are both generated from these
 * two tables, so what F1 shows and what the keys do cannot drift apart.
 *
 * TUI_REQUESTS(R): R(ID, help text) - one row per thing the user can ask
 * for.  tui-input.c generates one readline command per row.
 *
 * TUI_KEYS(K): K(ID, label, terminfo capability, sequence) - one row per
 * key.  The sequence is bound in readline's keymap; when the capability is
 * not NULL the terminal's own sequence for it (tigetstr) is bound as well,
 * so the key works on terminals whose sequence differs from the xterm one
 * written here.  A row whose label is NULL is bound but not listed in the
 * help (an alternative sequence of a key listed above it).
 */
#ifndef CHIFFON_TUI_KEYS_H
#define CHIFFON_TUI_KEYS_H

#define TUI_REQUESTS(R)							\
	R(HELP,		"show or hide this help (? only on an empty "	\
			"request line)")				\
	R(QUIT,		"quit chiffon")					\
	R(SUBMIT,	"submit the request line")			\
	R(CLEAR,	"clear the request line")			\
	R(FOCUS,	"move the focus between the plan and log panes")\
	R(PAGE_UP,	"scroll the focused pane up one page")		\
	R(PAGE_DOWN,	"scroll the focused pane down one page")	\
	R(REDRAW,	"redraw the screen")				\
	R(APPROVE,	"approve the pending plan shown and run it (a "	\
			"only on an empty request line)")		\
	R(REJECT,	"reject the pending plan shown (F6: reason from "\
			"the request line; r: empty line only)")

#define TUI_KEYS(K)							\
	K(HELP,		"F1",		"kf1",	"\033OP")		\
	K(HELP,		NULL,		NULL,	"\033[11~")		\
	K(HELP,		"?",		NULL,	"?")			\
	K(QUIT,		"F10",		"kf10",	"\033[21~")		\
	K(QUIT,		"C-q",		NULL,	"\021")			\
	K(SUBMIT,	"Enter",	NULL,	"\r")			\
	K(SUBMIT,	NULL,		NULL,	"\n")			\
	K(CLEAR,	"C-c",		NULL,	"\003")			\
	K(FOCUS,	"Tab",		NULL,	"\t")			\
	K(PAGE_UP,	"PgUp",		"kpp",	"\033[5~")		\
	K(PAGE_DOWN,	"PgDn",		"knp",	"\033[6~")		\
	K(REDRAW,	"C-l",		NULL,	"\014")			\
	K(APPROVE,	"F5",		"kf5",	"\033[15~")		\
	K(APPROVE,	"a",		NULL,	"a")			\
	K(REJECT,	"F6",		"kf6",	"\033[17~")		\
	K(REJECT,	"r",		NULL,	"r")

/* TUI_REQ_HELP, TUI_REQ_QUIT, ... */
enum tui_request {
#define TUI_REQUEST_ENUM(id, help) TUI_REQ_##id,
	TUI_REQUESTS(TUI_REQUEST_ENUM)
#undef TUI_REQUEST_ENUM
	TUI_REQ__COUNT
};

#endif
