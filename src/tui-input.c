/*
 * tui-input.c - readline on the request line, inside curses.
 *
 * readline runs through its callback interface and never touches the
 * terminal itself: it gets no signal handlers, no terminal preparation and
 * no environment changes; its input is the bytes the event loop read from
 * the terminal (rl_getc_function) and its output is drawn by
 * tui_input_redisplay into the request window.  Its own output stream is
 * /dev/null, so that nothing it prints (a bell, a completion list) can
 * disturb the curses screen.
 *
 * The request line's keys of tui-keys.h are bound in readline's editing
 * keymaps: readline decodes the escape sequences (F1, PgUp...) and calls
 * one generated command per request, which hands it to tui_request; every
 * letter stays text.  Command mode never reaches readline: its keys are
 * decoded here from the same table (tui_input_cmd_key), letters are
 * commands and any other printable key only says so.  A readline keymap
 * with command mode's keys would cost a 4 kB keymap per sequence prefix,
 * 62 kB of the idle shell (issue 12).  readline's keymap in command mode
 * is one catch-all (tui_input_cmd_unread): the key readline read after
 * Esc, to see whether Esc began a sequence, and dispatches once Esc's
 * command switched modes goes back to the input, to be decoded here.
 *
 * readline is process-wide state, so its callbacks reach the shell through
 * the one pointer tui_input_tui, set while the shell runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "log.h"
#include "tui.h"
#include "util.h"

#define TUI_INPUT_PROMPT	"chiffon> "
#define TUI_INPUT_CMD_PROMPT	"command> "

static struct tui	*tui_input_tui;
static FILE		*tui_input_null;
static Keymap		 tui_input_cmd_map;	/* command mode: the catch-all */
static Keymap		 tui_input_edit_map;	/* the request line's */
static char		*tui_input_prompt;	/* a question asked, or NULL */

/*
 * The next input byte for readline: from the bytes the loop read, or, when
 * readline asks for the rest of a sequence that has not arrived yet, from
 * the terminal (the rest of a sequence follows at once).
 */
static int
tui_input_getc(FILE *f)
{
	struct tui	*t = tui_input_tui;
	unsigned char	 c;
	ssize_t		 n;

	if (t->in_pos < t->in_len)
		return t->in[t->in_pos++];
	do
		n = read(STDIN_FILENO, &c, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? c : EOF;
}

/* Whether more input is already there (readline's key sequence timeout). */
static int
tui_input_available(void)
{
	struct tui	*t = tui_input_tui;

	return t != NULL && t->in_pos < t->in_len;
}

void
tui_input_redisplay(void)
{
	struct tui	*t = tui_input_tui;
	WINDOW		*w;
	const char	*prompt;
	char		*all;
	int		 cols, pw, cur, skip = 0;

	if (t == NULL || (w = t->w_request) == NULL)
		return;
	prompt = rl_display_prompt != NULL ? rl_display_prompt : "";
	cols = getmaxx(w);
	pw = tui_text_width(prompt, strlen(prompt));
	if (t->ask == TUI_ASK_PROMPT) {
		/* An answer to a playbook's prompt is never shown. */
		cur = pw + rl_point;
		all = xmalloc(strlen(prompt) + (size_t)rl_end + 1);
		memcpy(all, prompt, strlen(prompt));
		memset(all + strlen(prompt), '*', (size_t)rl_end);
		all[strlen(prompt) + (size_t)rl_end] = '\0';
	} else {
		cur = pw + tui_text_width(rl_line_buffer, (size_t)rl_point);
		all = xasprintf("%s%s", prompt, rl_line_buffer);
	}
	/* Scroll sideways to keep the cursor on the screen. */
	if (cur > cols - 1)
		skip = cur - (cols - 1);
	werase(w);
	wmove(w, 0, 0);
	wattrset(w, A_BOLD);
	tui_text_put(w, prompt, skip, cols);
	wattrset(w, A_NORMAL);
	wmove(w, 0, pw > skip ? pw - skip : 0);
	tui_text_put(w, all + strlen(prompt), skip > pw ? skip - pw : 0,
	    cols - (pw > skip ? pw - skip : 0));
	free(all);
	wmove(w, 0, cur - skip);
	curs_set(t->help ? 0 : 1);
	wnoutrefresh(w);
	doupdate();
}

/* A line was accepted (Enter), or input ended (NULL). */
static void
tui_input_line(char *line)
{
	tui_submit(tui_input_tui, line);
	free(line);
}

/* One readline command per request of tui-keys.h. */
#define TUI_INPUT_COMMAND(id, name, help)				\
static int								\
tui_input_cmd_##id(int count, int key)					\
{									\
	return tui_request(tui_input_tui, TUI_REQ_##id, count, key);	\
}
TUI_REQUESTS(TUI_INPUT_COMMAND)
#undef TUI_INPUT_COMMAND

static rl_command_func_t *const tui_input_commands[] = {
#define TUI_INPUT_COMMAND_PTR(id, name, help) \
	[TUI_REQ_##id] = tui_input_cmd_##id,
	TUI_REQUESTS(TUI_INPUT_COMMAND_PTR)
#undef TUI_INPUT_COMMAND_PTR
};

/* A printable key that is no command in command mode. */
static int
tui_input_cmd_other(int count, int key)
{
	(void)count;
	tui_log_line(tui_input_tui, CHIFFON_LOG_WARNING, NULL, key > ' ' &&
	    key < 127 ? "not a command key in command mode (F1 lists "
	    "them; Esc goes back to the request line)" : "not a command "
	    "key in command mode (Esc goes back to the request line)");
	return 0;
}

/* The keys of tui-keys.h, as they are bound. */
static const struct {
	enum tui_request	 req;
	const char		*cap;
	const char		*seq;
	int			 map;
} tui_input_keys[] = {
#define TUI_INPUT_KEY(id, label, cap, seq, map) \
	{ TUI_REQ_##id, cap, seq, map },
	TUI_KEYS(TUI_INPUT_KEY)
#undef TUI_INPUT_KEY
};

/* vi_insertion_keymap has the keys (tui_input_vi). */
static int	tui_input_vi_bound;

/*
 * Sequence pass of key row i (0: the table's, 1: the terminal's for its
 * capability), or NULL when it has none (no capability, or not this
 * terminal's).
 */
static const char *
tui_input_key_seq(size_t i, int pass)
{
	const char	*seq;

	if (pass == 0)
		seq = tui_input_keys[i].seq;
	else
		seq = tui_input_keys[i].cap != NULL ?
		    tigetstr(tui_input_keys[i].cap) : NULL;
	return seq == NULL || seq == (const char *)-1 || *seq == '\0' ?
	    NULL : seq;
}

/* Bind the keys of map (TUI_MAP_EDIT or TUI_MAP_CMD) in km. */
static void
tui_input_bind_keys(int map, Keymap km)
{
	const char	*seq;
	size_t		 i;
	int		 pass;

	for (i = 0; i < nitems(tui_input_keys); i++) {
		if (!(tui_input_keys[i].map & map))
			continue;
		for (pass = 0; pass < 2; pass++)
			if ((seq = tui_input_key_seq(i, pass)) != NULL)
				rl_bind_keyseq_in_map(seq, tui_input_commands[
				    tui_input_keys[i].req], km);
	}
}

/*
 * The request line's keys in vi's insertion keymap, once readline uses it
 * (editing-mode vi in the inputrc, or switched to): each key sequence's
 * prefixes cost a keymap of 4 kB each, 33 kB in all, that emacs users
 * (readline's default) never need.
 */
static void
tui_input_vi(void)
{
	if (tui_input_vi_bound || rl_get_keymap() != vi_insertion_keymap)
		return;
	tui_input_vi_bound = 1;
	tui_input_bind_keys(TUI_MAP_EDIT, vi_insertion_keymap);
}

/* Show the prompt for the current mode (or the question asked). */
static void
tui_input_set_prompt(struct tui *t)
{
	if (tui_input_prompt != NULL)
		rl_set_prompt(tui_input_prompt);
	else
		rl_set_prompt(t->cmd_mode ? TUI_INPUT_CMD_PROMPT :
		    TUI_INPUT_PROMPT);
	tui_input_redisplay();
}

void
tui_input_mode(struct tui *t, int cmd)
{
	if (tui_input_cmd_map == NULL || (cmd != 0) == (t->cmd_mode != 0))
		return;
	if (cmd) {
		tui_input_edit_map = rl_get_keymap();
		rl_set_keymap(tui_input_cmd_map);
	} else if (rl_get_keymap() == tui_input_cmd_map)
		rl_set_keymap(tui_input_edit_map);
	t->cmd_mode = cmd != 0;
	tui_input_set_prompt(t);
}

void
tui_input_ask(struct tui *t, const char *question)
{
	free(tui_input_prompt);
	tui_input_prompt = question != NULL ? xstrdup(question) : NULL;
	tui_input_set_prompt(t);
}

/*
 * The request history: $XDG_STATE_HOME/chiffon/history (default
 * ~/.local/state/chiffon/history), mode 0600, read at the start and each
 * line appended as it is added, so that several shells keep all their
 * lines.  Only request-line text is added (tui_input_history_add), never
 * the answer to a question or a hidden prompt.
 */
#define TUI_INPUT_HISTORY_MAX	1000

static char	*tui_input_history_file;

char *
tui_input_history_path(void)
{
	const char	*state = getenv("XDG_STATE_HOME");
	const char	*home = getenv("HOME");
	char		*dir, *p;

	if (state != NULL && *state == '/')
		dir = path_join(state, "chiffon");
	else if (home != NULL && *home != '\0')
		dir = xasprintf("%s/.local/state/chiffon", home);
	else
		return NULL;
	p = path_join(dir, "history");
	free(dir);
	return p;
}

/* Read the history file (created 0600 with its directory).  0 or -1. */
static int
tui_input_history_open(char **errp)
{
	char	*dir, *slash;
	int	 fd;

	if ((tui_input_history_file = tui_input_history_path()) == NULL)
		return set_error(errp, "no history: neither XDG_STATE_HOME nor "
		    "HOME is set");
	dir = xstrdup(tui_input_history_file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (mkdir_p(dir, 0700) != 0) {
		set_error(errp, "%s: %s (the request history is not kept)",
		    dir, strerror(errno));
		free(dir);
		goto fail;
	}
	free(dir);
	fd = open(tui_input_history_file, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		set_error(errp, "%s: %s (the request history is not kept)",
		    tui_input_history_file, strerror(errno));
		goto fail;
	}
	/* Requests may name hosts and paths: for this user alone. */
	(void)fchmod(fd, 0600);
	close(fd);
	stifle_history(TUI_INPUT_HISTORY_MAX);
	(void)read_history(tui_input_history_file);
	using_history();	/* C-p starts from the newest line read */
	return 0;
fail:
	free(tui_input_history_file);
	tui_input_history_file = NULL;
	return -1;
}

void
tui_input_history_add(const char *line)
{
	add_history(line);
	if (tui_input_history_file != NULL)
		(void)append_history(1, tui_input_history_file);
}

void
tui_input_init(struct tui *t)
{
	tui_input_tui = t;
	tui_input_null = fopen("/dev/null", "we");

	rl_readline_name = "chiffon";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = tui_input_getc;
	rl_input_available_hook = tui_input_available;
	rl_redisplay_function = tui_input_redisplay;
	rl_instream = stdin;
	if (tui_input_null != NULL)
		rl_outstream = tui_input_null;
	rl_inhibit_completion = 1;
	using_history();
	/*
	 * Initialise now, before curses: readline's terminal set-up calls
	 * tgetent, which must not replace curses' terminal afterwards.
	 */
	rl_initialize();
	rl_variable_bind("bell-style", "none");
	rl_variable_bind("enable-bracketed-paste", "off");
}

int
tui_input_history_start(char **errp)
{
	return tui_input_history_open(errp);
}

/*
 * A key readline dispatches in command mode (see the top): back into the
 * input at the position it was read from, and readline back to the
 * request line's keymap.
 */
static int
tui_input_cmd_unread(int count, int key)
{
	struct tui	*t = tui_input_tui;

	(void)count;
	rl_set_keymap(tui_input_edit_map);
	if (t->in_pos > 0 && t->in[t->in_pos - 1] == (unsigned char)key)
		t->in_pos--;
	else if (t->in_len < sizeof t->in) {
		memmove(t->in + t->in_pos + 1, t->in + t->in_pos,
		    t->in_len - t->in_pos);
		t->in[t->in_pos] = (unsigned char)key;
		t->in_len++;
	}
	return 0;
}

void
tui_input_start(struct tui *t)
{
	int	c;

	(void)t;
	tui_input_cmd_map = rl_make_bare_keymap();
	for (c = 0; c < KEYMAP_SIZE; c++) {
		tui_input_cmd_map[c].type = ISFUNC;
		tui_input_cmd_map[c].function = tui_input_cmd_unread;
	}
	tui_input_edit_map = emacs_standard_keymap;
	tui_input_bind_keys(TUI_MAP_EDIT, emacs_standard_keymap);
	tui_input_vi();
	rl_callback_handler_install(TUI_INPUT_PROMPT, tui_input_line);
}

#define TUI_INPUT_ESC_MS	25

/*
 * More of a key sequence cut short: the rest follows at once, so wait
 * TUI_INPUT_ESC_MS at most.  Whether bytes were added to t->in.
 */
static int
tui_input_more(struct tui *t)
{
	struct pollfd	pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	ssize_t		n;

	if (t->in_len == sizeof t->in || poll(&pfd, 1, TUI_INPUT_ESC_MS) <= 0)
		return 0;
	n = read(STDIN_FILENO, t->in + t->in_len, sizeof t->in - t->in_len);
	if (n <= 0)
		return 0;
	t->in_len += (size_t)n;
	return 1;
}

/*
 * Whether a lone ESC byte read is the Esc key: readline in callback mode
 * waits for the byte after an ESC forever (it may start F5's sequence),
 * so a lone ESC with nothing following within TUI_INPUT_ESC_MS is handed
 * to the COMMAND request directly.  A sequence's bytes arrive together;
 * the rest of one that was cut short is added to in.
 */
static int
tui_input_lone_esc(struct tui *t)
{
	if (t->in_len != 1 || t->in[0] != '\033' ||
	    RL_ISSTATE(RL_STATE_MULTIKEY | RL_STATE_ISEARCH))
		return 0;
	return !tui_input_more(t);
}

/*
 * The longest command-mode key at in[0..len) (its sequence, or the
 * terminal's for its capability): its row in tui_input_keys to *rowp and
 * its length (0: none) returned; *longerp says whether in[0..len) starts
 * a longer one, so that more bytes may make another key.
 */
static size_t
tui_input_cmd_match(const unsigned char *in, size_t len, size_t *rowp,
    int *longerp)
{
	const char	*seq;
	size_t		 i, n, best = 0;
	int		 pass;

	*longerp = 0;
	for (i = 0; i < nitems(tui_input_keys); i++) {
		if (!(tui_input_keys[i].map & TUI_MAP_CMD))
			continue;
		for (pass = 0; pass < 2; pass++) {
			if ((seq = tui_input_key_seq(i, pass)) == NULL)
				continue;
			n = strlen(seq);
			if (n <= len && memcmp(in, seq, n) == 0) {
				if (n > best) {
					best = n;
					*rowp = i;
				}
			} else if (n > len && memcmp(in, seq, len) == 0)
				*longerp = 1;
		}
	}
	return best;
}

/*
 * The length of the key at in[0..len) that is no command: a whole
 * escape sequence (CSI: ESC [ parameters and a final byte; SS3: ESC O and
 * one byte; ESC and one byte), a whole UTF-8 character, or one byte.
 */
static size_t
tui_input_unit(const unsigned char *in, size_t len)
{
	size_t	n = 1;

	if (in[0] == '\033' && len > 1) {
		if (in[1] == '[') {
			for (n = 2; n < len; n++)
				if (in[n] >= 0x40 && in[n] <= 0x7e)
					return n + 1;
			return len;
		}
		return in[1] == 'O' && len > 2 ? 3 : 2;
	}
	if (in[0] >= 0xc0)
		while (n < len && (in[n] & 0xc0) == 0x80)
			n++;
	return n;
}

/* Decode and do the command-mode key at t->in + t->in_pos. */
static void
tui_input_cmd_key(struct tui *t)
{
	const unsigned char	*in;
	size_t			 n, row = 0;
	int			 longer;
	unsigned char		 key;

	if (t->in_pos > 0 && t->in_len - t->in_pos < 16) {
		/* Room for the rest of a sequence cut short. */
		memmove(t->in, t->in + t->in_pos, t->in_len - t->in_pos);
		t->in_len -= t->in_pos;
		t->in_pos = 0;
	}
	do {
		in = t->in + t->in_pos;
		n = tui_input_cmd_match(in, t->in_len - t->in_pos, &row,
		    &longer);
	} while (longer && tui_input_more(t));
	in = t->in + t->in_pos;
	/* Esc that begins a sequence no key has is not the Esc key. */
	if (n == 1 && in[0] == '\033' && tui_input_unit(in, t->in_len -
	    t->in_pos) > 2)
		n = 0;
	if (n > 0) {
		t->in_pos += n;
		tui_request(t, tui_input_keys[row].req, 1, in[n - 1]);
		return;
	}
	key = in[0];
	t->in_pos += tui_input_unit(in, t->in_len - t->in_pos);
	if (key >= ' ' && key < 127)
		tui_input_cmd_other(1, key);
}

/* Hand buf[0..len) to readline, a lone ESC to the COMMAND request. */
static void
tui_input_run(struct tui *t, const unsigned char *buf, size_t len)
{
	memcpy(t->in, buf, len);
	t->in_len = len;
	t->in_pos = 0;
	if (tui_input_lone_esc(t)) {
		t->in_len = 0;
		tui_request(t, TUI_REQ_COMMAND, 1, '\033');
		return;
	}
	while (t->in_pos < t->in_len && !t->quit) {
		if (t->cmd_mode) {
			tui_input_cmd_key(t);
			continue;
		}
		tui_input_vi();
		rl_callback_read_char();
	}
	t->in_len = t->in_pos = 0;
}

/*
 * An ESC that ends a read after other keys (typed fast, or read together
 * from a loaded terminal or an ssh connection) is looked at alone, after
 * them: fed with them, readline would wait for the rest of a sequence
 * that never comes, and the Esc key would be lost.
 */
void
tui_input_feed(struct tui *t, const unsigned char *buf, size_t len)
{
	size_t	last = 0;

	if (len > sizeof t->in)
		len = sizeof t->in;
	if (len > 1 && buf[len - 1] == '\033')
		last = 1;
	tui_input_run(t, buf, len - last);
	if (last && !t->quit)
		tui_input_run(t, buf + len - 1, 1);
}

void
tui_input_end(struct tui *t)
{
	tui_input_mode(t, 0);
	free(tui_input_prompt);
	tui_input_prompt = NULL;
	rl_callback_handler_remove();
	if (tui_input_cmd_map != NULL)
		rl_free_keymap(tui_input_cmd_map);
	tui_input_cmd_map = NULL;
	if (tui_input_history_file != NULL)
		(void)history_truncate_file(tui_input_history_file,
		    TUI_INPUT_HISTORY_MAX);
	free(tui_input_history_file);
	tui_input_history_file = NULL;
	clear_history();
	rl_outstream = NULL;
	if (tui_input_null != NULL)
		fclose(tui_input_null);
	tui_input_null = NULL;
	tui_input_tui = NULL;
}
