/*
 * check_spawn.c - tests for src/spawn.c with tests/helper-print as the
 * child: line splitting, event pipe, exit status, exec failures, process
 * group signals, rusage, pty, owner removal and the delivery gate.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "spawn.h"
#include "testutil.h"
#include "util.h"

/* What the callbacks saw. */
struct spawn_test {
	struct loop		*l;
	struct chiffon_child	*c;
	char			**lines;
	size_t			 nlines;
	char			**events;
	size_t			 nevents;
	int			 nexit;
	int			 wstatus;
	struct chiffon_rusage	 ru;
	int			 freed;
	int			 bad;		/* rules broken by lines */
	int			 signal_at_grandchild;
	int			 unload_on_line;
	int			 answer_prompt;	/* answer "bob" at a prompt */
	int			 nprompts;
	void			*owner;
	pid_t			 grandchild;
};

static char *spawn_test_helper;

/*
 * Per-line checks count into t->bad instead of calling ck_assert: Check
 * records every passing assertion, which is far too slow per line.
 */
static void
spawn_test_on_line(struct chiffon_child *c, int stream, const char *line,
    size_t len, void *data)
{
	struct spawn_test	*t = data;

	if (c != t->c || t->nexit != 0 || stream != CHIFFON_STREAM_STDOUT ||
	    line[len] != '\0')
		t->bad++;
	if ((t->nlines & (t->nlines - 1)) == 0)	/* 0, 1, 2, 4, 8... */
		t->lines = xreallocarray(t->lines, t->nlines * 2 + 1,
		    sizeof *t->lines);
	t->lines[t->nlines++] = xstrndup(line, len);
	if (t->signal_at_grandchild && strncmp(line, "grandchild=", 11) == 0) {
		t->grandchild = atoi(line + 11);
		if (spawn_signal(c, SIGTERM) != 0)
			t->bad++;
	}
	if (t->unload_on_line)
		loop_remove_owner(t->l, t->owner);
	if (t->answer_prompt && spawn_prompt_waiting()) {
		t->nprompts++;
		if (spawn_prompt_answer("bob", NULL) != 0)
			t->bad++;
	}
}

static void
spawn_test_on_event(struct chiffon_child *c, const char *line, size_t len,
    void *data)
{
	struct spawn_test	*t = data;

	if (t->nexit != 0 || line[len] != '\0')
		t->bad++;
	if ((t->nevents & (t->nevents - 1)) == 0)
		t->events = xreallocarray(t->events, t->nevents * 2 + 1,
		    sizeof *t->events);
	t->events[t->nevents++] = xstrndup(line, len);
}

static void
spawn_test_on_exit(struct chiffon_child *c, int wstatus,
    const struct chiffon_rusage *ru, void *data)
{
	struct spawn_test	*t = data;

	ck_assert_ptr_eq(c, t->c);
	ck_assert_int_eq(t->freed, 0);
	t->nexit++;
	t->wstatus = wstatus;
	t->ru = *ru;
}

static void
spawn_test_free(void *data)
{
	struct spawn_test	*t = data;

	t->freed++;
}

static const struct chiffon_child_cbs spawn_test_cbs = {
	spawn_test_on_line, spawn_test_on_event, spawn_test_on_exit
};

static void
spawn_test_clear(struct spawn_test *t)
{
	size_t	i;

	for (i = 0; i < t->nlines; i++)
		free(t->lines[i]);
	for (i = 0; i < t->nevents; i++)
		free(t->events[i]);
	free(t->lines);
	free(t->events);
	loop_free(t->l);
	memset(t, 0, sizeof *t);
}

/* Start the helper with args (NULL-terminated) and run until on_exit. */
static void
spawn_test_run(struct spawn_test *t, struct chiffon_spawn_opts *o,
    const char **args)
{
	const char	*argv[32];
	char		*err = NULL;
	size_t		 n = 0;
	uint64_t	 deadline;

	argv[n++] = spawn_test_helper;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	o->argv = argv;
	t->c = spawn_start(t->l, o, &spawn_test_cbs, t, spawn_test_free,
	    t->owner, &err);
	ck_assert_msg(t->c != NULL, "spawn_start: %s", err);
	ck_assert_int_gt(spawn_pid(t->c), 0);
	/* A bound against hanging, not a timing assertion. */
	deadline = now_ms() + 60000;
	while (t->nexit == 0 && now_ms() < deadline)
		ck_assert_int_ge(loop_run_once(t->l, 100), 0);
	ck_assert_int_eq(t->nexit, 1);
	ck_assert_int_eq(t->freed, 1);
	ck_assert_int_eq(t->bad, 0);
}

static void
spawn_test_lines(int use_pty)
{
	struct chiffon_spawn_opts	 o = { .use_pty = use_pty };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-l", "100000", "-P",
					    "tail without newline", NULL };
	char				 want[32];
	size_t				 i, bad = 0;

	spawn_test_run(&t, &o, args);
	ck_assert(WIFEXITED(t.wstatus));
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 0);
	ck_assert_uint_eq(t.nlines, 100001);
	for (i = 0; i < 100000; i++) {
		snprintf(want, sizeof want, "line %zu", i);
		if (strcmp(t.lines[i], want) != 0 && bad++ == 0)
			ck_assert_str_eq(t.lines[i], want);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_str_eq(t.lines[100000], "tail without newline");
	ck_assert_uint_eq(t.nevents, 0);
	spawn_test_clear(&t);
}

/*
 * A pty's last line that looks like a prompt and stays so is delivered
 * without its newline and can be answered; one that goes on within
 * SPAWN_PROMPT_MS is an ordinary line.
 */
START_TEST(test_prompt)
{
	static const char *const argv[] = { "sh", "-c", "printf 'Name: '; "
	    "read x; echo \"got $x\"; printf 'half: '; sleep 0.05; "
	    "echo rest", NULL };
	struct chiffon_spawn_opts	 o = { .use_pty = 1, .argv = argv };
	struct spawn_test		 t = { .l = loop_new() };
	char				*err = NULL;
	uint64_t			 deadline;

	t.answer_prompt = 1;
	ck_assert_int_eq(spawn_prompt_waiting(), 0);
	ck_assert_int_eq(spawn_prompt_answer("x", &err), -1);
	free(err);
	t.c = spawn_start(t.l, &o, &spawn_test_cbs, &t, spawn_test_free,
	    NULL, &err);
	ck_assert_msg(t.c != NULL, "spawn_start: %s", err);
	deadline = now_ms() + 30000;
	while (t.nexit == 0 && now_ms() < deadline)
		ck_assert_int_ge(loop_run_once(t.l, 100), 0);
	ck_assert_int_eq(t.nexit, 1);
	ck_assert_int_eq(t.bad, 0);
	ck_assert_int_eq(t.nprompts, 1);
	/* The prompt, the terminal's echo of the answer, the rest. */
	ck_assert_uint_eq(t.nlines, 4);
	ck_assert_str_eq(t.lines[0], "Name: ");
	ck_assert_str_eq(t.lines[1], "bob");
	ck_assert_str_eq(t.lines[2], "got bob");
	ck_assert_str_eq(t.lines[3], "half: rest");
	ck_assert_int_eq(spawn_prompt_waiting(), 0);
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_lines_pipe)
{
	spawn_test_lines(0);
}
END_TEST

START_TEST(test_lines_pty)
{
	spawn_test_lines(1);
}
END_TEST

START_TEST(test_long_line)
{
	struct chiffon_spawn_opts	 o = { .use_pty = 1 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-L", "1000000", NULL };
	size_t				 i, bad = 0;

	spawn_test_run(&t, &o, args);
	ck_assert_uint_eq(t.nlines, 1);
	ck_assert_uint_eq(strlen(t.lines[0]), 1000000);
	for (i = 0; i < 1000000; i++)
		bad += t.lines[0][i] != (char)('a' + i % 26);
	ck_assert_uint_eq(bad, 0);
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_stderr_and_exit_code)
{
	struct chiffon_spawn_opts	 o = { 0 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-l", "1", "-w", "-c", "42",
					    NULL };

	spawn_test_run(&t, &o, args);
	ck_assert(WIFEXITED(t.wstatus));
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 42);
	ck_assert_uint_eq(t.nlines, 2);
	ck_assert_str_eq(t.lines[0], "line 0");
	ck_assert_str_eq(t.lines[1], "to stderr");
	spawn_test_clear(&t);

	/* The same through a pty. */
	t.l = loop_new();
	o.use_pty = 1;
	spawn_test_run(&t, &o, args);
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 42);
	ck_assert_uint_eq(t.nlines, 2);
	ck_assert_str_eq(t.lines[1], "to stderr");
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_events)
{
	struct chiffon_spawn_opts	 o = { .use_pty = 1, .event_fd = 3 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-l", "2", "-E", "1000",
					    NULL };
	const char			*args7[] = { "-F", "7", "-E", "2",
					    NULL };
	char				 want[32];
	size_t				 i, bad = 0;

	spawn_test_run(&t, &o, args);
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 0);
	ck_assert_uint_eq(t.nlines, 2);
	ck_assert_uint_eq(t.nevents, 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(want, sizeof want, "{\"n\":%zu}", i);
		bad += strcmp(t.events[i], want) != 0;
	}
	ck_assert_uint_eq(bad, 0);
	spawn_test_clear(&t);

	t.l = loop_new();
	o.event_fd = 7;
	spawn_test_run(&t, &o, args7);
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 0);
	ck_assert_uint_eq(t.nevents, 2);
	ck_assert_str_eq(t.events[1], "{\"n\":1}");
	spawn_test_clear(&t);

	/* Without an event fd, fd 3 is closed in the child. */
	t.l = loop_new();
	o.event_fd = 0;
	spawn_test_run(&t, &o, args7 + 2);
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 99);
	spawn_test_clear(&t);
}
END_TEST

static void
spawn_test_fail(const char *prog, const char *cwd, const char *env,
    const char *want1, const char *want2)
{
	const char			*argv[] = { prog, NULL };
	const char			*env_add[] = { env, NULL };
	struct chiffon_spawn_opts	 o = { .argv = argv, .cwd = cwd,
					    .env_add = env_add };
	struct spawn_test		 t = { .l = loop_new() };
	char				*err = NULL;

	ck_assert_ptr_null(spawn_start(t.l, &o, &spawn_test_cbs, &t,
	    spawn_test_free, NULL, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, want1) != NULL, "%s", err);
	ck_assert_msg(strstr(err, want2) != NULL, "%s", err);
	ck_assert_int_eq(t.freed, 0);
	free(err);
	spawn_test_clear(&t);
}

START_TEST(test_exec_failure)
{
	spawn_test_fail("chiffon-no-such-program", NULL, NULL,
	    "cannot run chiffon-no-such-program: No such file or directory",
	    "not found in PATH");
	spawn_test_fail("/nonexistent/prog", NULL, NULL,
	    "/nonexistent/prog", strerror(ENOENT));
	spawn_test_fail("/dev/null", NULL, NULL, "/dev/null",
	    strerror(EACCES));
	spawn_test_fail(spawn_test_helper, "/nonexistent-dir", NULL,
	    "/nonexistent-dir", strerror(ENOENT));
	spawn_test_fail(spawn_test_helper, NULL, "NOEQUALS", "NOEQUALS",
	    "NAME=VALUE");
}
END_TEST

/* State letter of /proc/PID/stat, or 0 if the process is gone. */
static char
spawn_test_state(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	return p[2];
}

START_TEST(test_signal_group)
{
	struct chiffon_spawn_opts	 o = { 0 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-g", "-s", "600000",
					    NULL };
	char				 st;
	int				 i;

	t.signal_at_grandchild = 1;
	spawn_test_run(&t, &o, args);
	ck_assert(WIFSIGNALED(t.wstatus));
	ck_assert_int_eq(WTERMSIG(t.wstatus), SIGTERM);
	ck_assert_int_gt(t.grandchild, 0);
	/* The grandchild got the signal too: it is dying, a zombie or gone. */
	for (i = 0; i < 100; i++) {
		st = spawn_test_state(t.grandchild);
		if (st == 0 || st == 'Z' || st == 'X')
			break;
		usleep(50000);
	}
	ck_assert_msg(st == 0 || st == 'Z' || st == 'X', "grandchild %ld "
	    "state %c", (long)t.grandchild, st);
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_rusage)
{
	struct chiffon_spawn_opts	 o = { 0 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-b", "300", NULL };

	spawn_test_run(&t, &o, args);
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 0);
	ck_assert_double_gt(t.ru.user_s, 0.0);
	ck_assert_double_gt(t.ru.wall_s, 0.0);
	ck_assert_int_gt(t.ru.maxrss_kb, 0);
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_pty)
{
	struct chiffon_spawn_opts	 o = { .use_pty = 1 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-t", NULL };

	spawn_test_run(&t, &o, args);
	ck_assert_uint_eq(t.nlines, 1);
	ck_assert_str_eq(t.lines[0], "tty=1 cols=160");
	spawn_test_clear(&t);

	t.l = loop_new();
	o.pty_cols = 100;
	spawn_test_run(&t, &o, args);
	ck_assert_str_eq(t.lines[0], "tty=1 cols=100");
	spawn_test_clear(&t);

	t.l = loop_new();
	o.use_pty = 0;
	spawn_test_run(&t, &o, args);
	ck_assert_str_eq(t.lines[0], "tty=0 cols=0");
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_env_cwd)
{
	const char			*env_add[] = { "CHIFFON_T1=one",
					    "HOME=/elsewhere", NULL };
	struct chiffon_spawn_opts	 o = { .env_add = env_add,
					    .cwd = "/tmp" };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-d", "-v", "CHIFFON_T1",
					    "-v", "HOME", "-v", "CHIFFON_T2",
					    "-m", NULL };

	/* The loop blocks SIGCHLD, the host ignores SIGPIPE: not the child. */
	signal(SIGPIPE, SIG_IGN);
	setenv("HOME", "/root", 1);
	spawn_test_run(&t, &o, args);
	ck_assert_uint_eq(t.nlines, 5);
	ck_assert_str_eq(t.lines[4], "sigchld blocked=0 sigpipe ignored=0");
	ck_assert_str_eq(t.lines[0], "cwd=/tmp");
	ck_assert_str_eq(t.lines[1], "CHIFFON_T1=one");
	ck_assert_str_eq(t.lines[2], "HOME=/elsewhere");
	ck_assert_str_eq(t.lines[3], "CHIFFON_T2 unset");
	ck_assert_str_eq(getenv("HOME"), "/root");
	spawn_test_clear(&t);
}
END_TEST

START_TEST(test_grace)
{
	struct chiffon_spawn_opts	 o = { .event_fd = 3 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*args[] = { "-l", "1", "-E", "1", "-k",
					    "-P", "partial", "-c", "5", NULL };
	pid_t				 keeper;

	/* The keeper holds both streams open after the child exited. */
	spawn_test_run(&t, &o, args);
	ck_assert_int_eq(WEXITSTATUS(t.wstatus), 5);
	ck_assert_uint_eq(t.nlines, 3);
	ck_assert_str_eq(t.lines[0], "line 0");
	ck_assert_str_eq(t.lines[2], "partial");
	ck_assert_uint_eq(t.nevents, 1);
	keeper = atoi(t.lines[1] + strlen("keeper="));
	ck_assert_int_gt(keeper, 0);
	ck_assert_int_eq(spawn_test_state(keeper) != 0, 1);
	kill(keeper, SIGKILL);
	spawn_test_clear(&t);
}
END_TEST

/* Run the loop until pid is reaped (kill says it is gone). */
static void
spawn_test_reaped(struct loop *l, pid_t pid)
{
	int	i;

	for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
		loop_run_once(l, 100);
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
}

START_TEST(test_owner_removal)
{
	struct chiffon_spawn_opts	 o = { .use_pty = 1, .event_fd = 3 };
	struct spawn_test		 t = { .l = loop_new() };
	const char			*argv[] = { spawn_test_helper,
					    "-l", "5", "-s", "600000", NULL };
	char				*err = NULL;
	pid_t				 pid;
	int				 i, st;

	o.argv = argv;
	t.owner = &t;
	t.c = spawn_start(t.l, &o, &spawn_test_cbs, &t, spawn_test_free,
	    t.owner, &err);
	ck_assert_msg(t.c != NULL, "%s", err);
	pid = spawn_pid(t.c);
	loop_remove_owner(t.l, t.owner);
	ck_assert_int_eq(t.freed, 1);
	spawn_test_reaped(t.l, pid);
	ck_assert_int_eq(t.nexit, 0);

	/* From inside on_line: no more lines, no on_exit. */
	t.unload_on_line = 1;
	t.freed = 0;
	t.c = spawn_start(t.l, &o, &spawn_test_cbs, &t, spawn_test_free,
	    t.owner, &err);
	ck_assert_msg(t.c != NULL, "%s", err);
	pid = spawn_pid(t.c);
	for (i = 0; i < 600 && t.freed == 0; i++)
		loop_run_once(t.l, 100);
	ck_assert_int_eq(t.freed, 1);
	ck_assert_uint_eq(t.nlines, 1);
	spawn_test_reaped(t.l, pid);

	/* loop_free abandons a running child. */
	t.unload_on_line = 0;
	t.freed = 0;
	t.c = spawn_start(t.l, &o, &spawn_test_cbs, &t, spawn_test_free,
	    NULL, &err);
	ck_assert_msg(t.c != NULL, "%s", err);
	pid = spawn_pid(t.c);
	loop_free(t.l);
	t.l = NULL;
	ck_assert_int_eq(t.freed, 1);
	ck_assert_int_eq(t.nexit, 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	spawn_test_clear(&t);
}
END_TEST

/* The gate of the tests below: open or shut. */
static int spawn_test_gate_is_open;

static int
spawn_test_gate(void)
{
	return spawn_test_gate_is_open;
}

/* Start the helper with args (NULL-terminated), gated; run nothing. */
static pid_t
spawn_test_gated(struct spawn_test *t, const char **args)
{
	static struct chiffon_spawn_opts	 o = { .use_pty = 1 };
	const char				*argv[16];
	char					*err = NULL;
	size_t					 n = 0;

	argv[n++] = spawn_test_helper;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	o.argv = argv;
	spawn_test_gate_is_open = 0;
	spawn_set_gate(spawn_test_gate);
	t->c = spawn_start(t->l, &o, &spawn_test_cbs, t, spawn_test_free,
	    NULL, &err);
	ck_assert_msg(t->c != NULL, "spawn_start: %s", err);
	return spawn_pid(t->c);
}

/*
 * With the gate as it is (open it first, or not), run until on_exit and
 * remove the gate; the lines are "line 0".. "line want-1", in order.
 */
static void
spawn_test_gated_end(struct spawn_test *t, size_t want)
{
	char		 line[32];
	size_t		 i, bad = 0;
	uint64_t	 deadline = now_ms() + 60000;

	while (t->nexit == 0 && now_ms() < deadline)
		ck_assert_int_ge(loop_run_once(t->l, 100), 0);
	spawn_set_gate(NULL);
	ck_assert_int_eq(t->nexit, 1);
	ck_assert_int_eq(t->bad, 0);
	ck_assert_uint_eq(t->nlines, want);
	for (i = 0; i < want; i++) {
		snprintf(line, sizeof line, "line %zu", i);
		if (strcmp(t->lines[i], line) != 0 && bad++ == 0)
			ck_assert_str_eq(t->lines[i], line);
	}
	ck_assert_uint_eq(bad, 0);
}

/* Open the gate, then as spawn_test_gated_end. */
static void
spawn_test_ungate(struct spawn_test *t, size_t want)
{
	spawn_test_gate_is_open = 1;
	spawn_gate_open();
	spawn_test_gated_end(t, want);
}

/*
 * While the gate is shut the child's output is read and held, not
 * delivered: a child printing 200,000 lines (2.2 MB) runs to its end
 * with nothing delivered (it never waits on the loop's consumer); once
 * the gate opens, every line comes, in order, then on_exit.
 */
START_TEST(test_gate_holds)
{
	struct spawn_test	 t = { .l = loop_new() };
	const char		*args[] = { "-l", "200000", NULL };
	pid_t			 pid;
	uint64_t		 deadline;

	pid = spawn_test_gated(&t, args);
	/* A bound against hanging, not a timing assertion. */
	deadline = now_ms() + 60000;
	while (kill(pid, 0) == 0 && now_ms() < deadline)
		ck_assert_int_ge(loop_run_once(t.l, 100), 0);
	ck_assert_msg(kill(pid, 0) == -1 && errno == ESRCH, "the child did "
	    "not end behind the shut gate");
	ck_assert_uint_eq(t.nlines, 0);
	ck_assert_int_eq(t.nexit, 0);
	spawn_test_ungate(&t, 200000);
	spawn_test_clear(&t);
}
END_TEST

/*
 * What a stream holds is bounded (4 MiB): a child printing 1,000,000
 * lines (6.9 MB) behind a shut gate is made to wait, not read into
 * memory without end; opening the gate lets it finish, every line in
 * order.
 */
START_TEST(test_gate_bound)
{
	struct spawn_test	 t = { .l = loop_new() };
	const char		*args[] = { "-l", "1000000", NULL };
	pid_t			 pid;
	uint64_t		 until;
	int			 st;

	pid = spawn_test_gated(&t, args);
	until = now_ms() + 2000;
	while (now_ms() < until)
		ck_assert_int_ge(loop_run_once(t.l, 100), 0);
	st = spawn_test_state(pid);
	ck_assert_msg(st != 0 && st != 'Z' && st != 'X', "the child ended "
	    "(state %c) with the gate shut", st != 0 ? st : '-');
	ck_assert_uint_eq(t.nlines, 0);
	spawn_test_ungate(&t, 1000000);
	spawn_test_clear(&t);
}
END_TEST

/*
 * A gate that never opens again does not lose the end of a child: the
 * grace period after its exit delivers what it held, then on_exit.
 */
START_TEST(test_gate_grace)
{
	struct spawn_test	 t = { .l = loop_new() };
	const char		*args[] = { "-l", "1000", NULL };

	spawn_test_gated(&t, args);
	spawn_test_gated_end(&t, 1000);
	ck_assert_int_eq(spawn_test_gate_is_open, 0);
	spawn_test_clear(&t);
}
END_TEST

static Suite *
spawn_suite(void)
{
	Suite	*s = suite_create("spawn");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_lines_pipe);
	tcase_add_test(tc, test_lines_pty);
	tcase_add_test(tc, test_prompt);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_stderr_and_exit_code);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_exec_failure);
	tcase_add_test(tc, test_signal_group);
	tcase_add_test(tc, test_rusage);
	tcase_add_test(tc, test_pty);
	tcase_add_test(tc, test_env_cwd);
	tcase_add_test(tc, test_grace);
	tcase_add_test(tc, test_owner_removal);
	tcase_add_test(tc, test_gate_holds);
	tcase_add_test(tc, test_gate_bound);
	tcase_add_test(tc, test_gate_grace);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char	*b = getenv("CHIFFON_BUILDDIR");
	int		 failed;

	spawn_test_helper = xasprintf("%s/tests/helper-print",
	    b != NULL ? b : ".");
	failed = testutil_main(spawn_suite());
	free(spawn_test_helper);
	return failed;
}
