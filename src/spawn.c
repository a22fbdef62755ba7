/*
 * spawn.c - child processes started by the host, read through the loop.
 *
 * spawn_start opens the pipes (and pty), forks and runs spawn_child_exec
 * (spawn-child.c) in the child.  A close-on-exec status pipe tells the
 * parent whether exec worked: EOF means it did, otherwise the child wrote
 * the failing step and errno, and spawn_start returns NULL with a message.
 *
 * Holding.  A stream is read whenever it is readable, but its lines are
 * split and delivered only while the gate (spawn_set_gate: the run
 * recorder, which must not be handed more than it can keep within its
 * bound) says so.  What is read while the gate is shut is held, up to
 * SPAWN_HOLD_MAX bytes a stream (then the stream is not read and the
 * child waits); spawn_gate_open resumes the children holding output, each
 * from a timer of its own.  So the child is never made to wait on the
 * database while it writes a burst, and the loop never waits inside a
 * line callback.  At a stream's end, and at the grace period's, what is
 * held is delivered whatever the gate says.
 *
 * Lifetime.  The child object is the data of up to four loop
 * registrations (output fd, event fd, child watch, grace timer); nregs
 * counts the live ones.  The module removes its own registrations with
 * `internal' set; a removal without it comes from outside (owner removal,
 * loop_free) and abandons the child.  `hold' is non-zero while one of
 * this module's callbacks runs, so the object is freed only when it is
 * finished, has no registration and is not on the stack (spawn_release).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

extern char **environ;

/* One stream read from the child: its output or its event pipe. */
struct spawn_stream {
	int			 fd;
	int			 id;		/* registration or 0 */
	int			 eof;
	int			 is_pty;	/* strip a trailing \r */
	int			 is_event;
	struct strbuf		 partial;	/* incomplete last line */
	struct strbuf		 held;		/* read while the gate was
						   shut, not split yet */
	size_t			 held_off;	/* of held: split already */
	int			 ended;		/* its end was read; what is
						   held comes first */
};

/* What a stream holds before it is no longer read (the child waits). */
#define SPAWN_HOLD_MAX	(4 * 1024 * 1024)

/* A started child (the ABI's opaque struct chiffon_child). */
struct chiffon_child {
	struct loop		*loop;
	void			*owner;
	struct chiffon_child_cbs cbs;
	void			*cbdata;
	void			(*free_func)(void *);

	pid_t			 pid;
	uint64_t		 start_ms;
	uint64_t		 end_ms;
	struct spawn_stream	 out;
	struct spawn_stream	 ev;
	int			 child_id;
	int			 grace_id;
	int			 prompt_id;	/* prompt timer, or 0 */
	int			 resume_id;	/* resume timer, or 0 */
	int			 forced;	/* deliver whatever the gate
						   says (the end) */
	int			 on_held;	/* on spawn_held */
	TAILQ_ENTRY(chiffon_child) held_entry;
	size_t			 prompt_len;	/* partial line it saw */

	int			 exited;
	int			 wstatus;
	struct rusage		 ru;

	int			 nregs;
	int			 internal;
	int			 hold;
	int			 finished;	/* on_exit ran, or abandoned */
};

static void	spawn_abandon_held(struct chiffon_child *);

/*
 * The child whose pty output stopped at a prompt (a last line ending in
 * ": " or "? " with nothing after it), or NULL: ansible-playbook asking
 * for a vars_prompt, become or vault answer.  spawn_prompt_answer writes
 * the answer to its pty.  Cleared when the child is freed.
 */
static struct chiffon_child	*spawn_prompt_child;

/* The gate (NULL: always open) and the children holding output. */
static int			(*spawn_gate)(void);
static TAILQ_HEAD(, chiffon_child) spawn_held =
    TAILQ_HEAD_INITIALIZER(spawn_held);

/* Variables no child gets ("NAME="), NULL-terminated; process-wide. */
static char	**spawn_hidden;

void
spawn_hide_env(const char *const *names)
{
	size_t	i, n = 0;

	for (i = 0; spawn_hidden != NULL && spawn_hidden[i] != NULL; i++)
		free(spawn_hidden[i]);
	free(spawn_hidden);
	spawn_hidden = NULL;
	while (names != NULL && names[n] != NULL)
		n++;
	if (n == 0)
		return;
	spawn_hidden = xcalloc(n + 1, sizeof *spawn_hidden);
	for (i = 0; i < n; i++)
		spawn_hidden[i] = xasprintf("%s=", names[i]);
}

/* Is environment entry e one of the hidden variables? */
static int
spawn_is_hidden(const char *e)
{
	size_t	i;

	for (i = 0; spawn_hidden != NULL && spawn_hidden[i] != NULL; i++) {
		if (strncmp(e, spawn_hidden[i], strlen(spawn_hidden[i])) == 0)
			return 1;
	}
	return 0;
}

/*
 * environ less the hidden variables, with env_add applied (same NAME
 * replaced).  Free the array only.
 */
static char **
spawn_env(const char *const *add, char **errp)
{
	char	**env;
	size_t	  n = 0, m = 0, i, k, all = 0;

	while (environ != NULL && environ[all] != NULL)
		all++;
	while (add != NULL && add[m] != NULL)
		m++;
	env = xcalloc(all + m + 1, sizeof *env);
	for (i = 0; i < all; i++) {
		if (!spawn_is_hidden(environ[i]))
			env[n++] = environ[i];
	}
	for (k = 0; k < m; k++) {
		const char	*eq = strchr(add[k], '=');
		size_t		 klen;

		if (eq == NULL || eq == add[k]) {
			free(env);
			set_error(errp, "environment entry \"%s\" for the "
			    "child is not NAME=VALUE", add[k]);
			return NULL;
		}
		klen = eq - add[k] + 1;
		for (i = 0; i < n; i++) {
			if (strncmp(env[i], add[k], klen) == 0)
				break;
		}
		env[i] = (char *)add[k];
		if (i == n)
			n++;
	}
	return env;
}

static void
spawn_close(int *fdp)
{
	if (*fdp != -1) {
		close(*fdp);
		*fdp = -1;
	}
}

/* Free the child once finished, unregistered and off the stack. */
static void
spawn_release(struct chiffon_child *c)
{
	if (!c->finished || c->nregs > 0 || c->hold > 0)
		return;
	if (spawn_prompt_child == c)
		spawn_prompt_child = NULL;
	if (c->on_held)
		TAILQ_REMOVE(&spawn_held, c, held_entry);
	strbuf_free(&c->out.partial);
	strbuf_free(&c->ev.partial);
	strbuf_free(&c->out.held);
	strbuf_free(&c->ev.held);
	if (c->free_func != NULL)
		c->free_func(c->cbdata);
	free(c);
}

/* free_func of every registration whose data is the child. */
static void
spawn_reg_gone(void *data)
{
	struct chiffon_child	*c = data;

	c->nregs--;
	if (!c->internal && !c->finished) {
		c->hold++;
		spawn_abandon_held(c);
		c->hold--;
	}
	spawn_release(c);
}

/* Remove one of the child's own registrations (called with hold > 0). */
static void
spawn_unwatch(struct chiffon_child *c, int *idp)
{
	int	id = *idp;

	if (id <= 0)
		return;
	*idp = 0;
	c->internal++;
	loop_remove(c->loop, id);
	c->internal--;
}

static void
spawn_stream_close(struct chiffon_child *c, struct spawn_stream *st)
{
	spawn_unwatch(c, &st->id);
	spawn_close(&st->fd);
	st->eof = 1;
}

/* Deliver one line; line[len] is writable and becomes the NUL. */
static void
spawn_deliver(struct chiffon_child *c, struct spawn_stream *st, char *line,
    size_t len)
{
	if (st->is_pty && len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	if (st->is_event) {
		if (c->cbs.on_event_line != NULL)
			c->cbs.on_event_line(c, line, len, c->cbdata);
	} else if (c->cbs.on_line != NULL)
		c->cbs.on_line(c, CHIFFON_STREAM_STDOUT, line, len, c->cbdata);
}

/* Bytes a stream holds, not split yet. */
static size_t
spawn_held_len(const struct spawn_stream *st)
{
	return st->held.len - st->held_off;
}

/*
 * Split buf into lines while the gate is open.  The bytes taken (n, or
 * fewer at a line boundary when the gate shut), or -1 if a callback
 * finished the child.
 */
static ssize_t
spawn_feed(struct chiffon_child *c, struct spawn_stream *st, char *buf,
    size_t n)
{
	char	*p = buf, *end = buf + n, *nl;

	while ((nl = memchr(p, '\n', end - p)) != NULL) {
		if (!c->forced && spawn_gate != NULL && !spawn_gate())
			return p - buf;
		if (st->partial.len > 0) {
			strbuf_add(&st->partial, p, nl - p);
			spawn_deliver(c, st, st->partial.buf, st->partial.len);
			strbuf_reset(&st->partial);
		} else
			spawn_deliver(c, st, p, nl - p);
		if (c->finished)
			return -1;
		p = nl + 1;
	}
	if (p < end)
		strbuf_add(&st->partial, p, end - p);
	return (ssize_t)n;
}

/* Keep buf[0..n) (read, not split) until the gate opens. */
static void
spawn_hold(struct chiffon_child *c, struct spawn_stream *st,
    const char *buf, size_t n)
{
	if (st->held_off > 0 && st->held_off >= st->held.len / 2) {
		memmove(st->held.buf, st->held.buf + st->held_off,
		    spawn_held_len(st));
		st->held.len -= st->held_off;
		st->held_off = 0;
	}
	strbuf_add(&st->held, buf, n);
	if (!c->on_held) {
		TAILQ_INSERT_TAIL(&spawn_held, c, held_entry);
		c->on_held = 1;
	}
	if (spawn_held_len(st) >= SPAWN_HOLD_MAX && st->id > 0)
		loop_fd_events(c->loop, st->id, 0);	/* the child waits */
}

static void
spawn_check_done(struct chiffon_child *c)
{
	struct chiffon_rusage	u;

	if (c->finished || !c->exited || !c->out.eof || !c->ev.eof)
		return;
	c->finished = 1;
	spawn_unwatch(c, &c->grace_id);
	spawn_unwatch(c, &c->prompt_id);
	spawn_unwatch(c, &c->resume_id);
	u.wall_s = (double)(c->end_ms - c->start_ms) / 1000.0;
	u.user_s = c->ru.ru_utime.tv_sec + c->ru.ru_utime.tv_usec / 1e6;
	u.sys_s = c->ru.ru_stime.tv_sec + c->ru.ru_stime.tv_usec / 1e6;
	u.maxrss_kb = c->ru.ru_maxrss;
	if (c->cbs.on_exit != NULL)
		c->cbs.on_exit(c, c->wstatus, &u, c->cbdata);
}

/* End of a stream: deliver the partial last line and close it. */
static void
spawn_stream_eof(struct chiffon_child *c, struct spawn_stream *st)
{
	if (c->finished || st->eof)
		return;
	if (st->partial.len > 0) {
		spawn_deliver(c, st, st->partial.buf, st->partial.len);
		strbuf_reset(&st->partial);
		if (c->finished)
			return;
	}
	spawn_stream_close(c, st);
	spawn_check_done(c);
}

/* Whether the partial line s (len bytes) ends like a prompt. */
static int
spawn_prompt_like(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == ' ')
		len--;
	return len > 0 && (s[len - 1] == ':' || s[len - 1] == '?');
}

/*
 * The prompt timer: the pty's last line still is the prompt-like partial
 * line it saw SPAWN_PROMPT_MS ago, with nothing after it: deliver it now
 * (it would otherwise wait for a newline that only comes after an
 * answer) and remember the child as waiting.  A line that went on is
 * looked at again.
 */
static int
spawn_prompt_cb(void *data)
{
	struct chiffon_child	*c = data;
	struct spawn_stream	*st = &c->out;

	c->hold++;
	if (!c->finished && st->partial.len > 0 &&
	    spawn_prompt_like(st->partial.buf, st->partial.len) &&
	    st->partial.len != c->prompt_len)
		c->prompt_len = st->partial.len;	/* again later */
	else {
		spawn_unwatch(c, &c->prompt_id);
		if (!c->finished && st->partial.len > 0 &&
		    spawn_prompt_like(st->partial.buf, st->partial.len)) {
			spawn_prompt_child = c;
			spawn_deliver(c, st, st->partial.buf, st->partial.len);
			strbuf_reset(&st->partial);
		}
	}
	c->hold--;
	spawn_release(c);
	return 0;
}

/* All output read: a prompt-like last line arms the prompt timer. */
static void
spawn_prompt_check(struct chiffon_child *c, struct spawn_stream *st)
{
	int	id;

	if (!st->is_pty || st->partial.len == 0 || c->finished ||
	    c->prompt_id > 0 ||
	    !spawn_prompt_like(st->partial.buf, st->partial.len))
		return;
	c->prompt_len = st->partial.len;
	id = loop_add_timer(c->loop, SPAWN_PROMPT_MS, spawn_prompt_cb, c,
	    spawn_reg_gone, c->owner);
	if (id > 0) {
		c->prompt_id = id;
		c->nregs++;
	}
}

int
spawn_prompt_waiting(void)
{
	return spawn_prompt_child != NULL && !spawn_prompt_child->finished;
}

int
spawn_prompt_answer(const char *text, char **errp)
{
	struct chiffon_child	*c = spawn_prompt_child;
	size_t			 len = strlen(text);
	ssize_t			 n;
	char			*line;

	if (c == NULL || c->finished || c->out.fd == -1)
		return set_error(errp, "no process is waiting for an answer");
	spawn_prompt_child = NULL;
	line = xasprintf("%s\r", text);
	len++;
	n = write(c->out.fd, line, len);
	explicit_bzero(line, len);
	free(line);
	if (n != (ssize_t)len)
		return set_error(errp, "cannot answer the prompt: %s",
		    n == -1 ? strerror(errno) : "short write");
	return 0;
}

int
spawn_prompt_refuse(void)
{
	struct chiffon_child	*c = spawn_prompt_child;

	spawn_prompt_child = NULL;
	if (c == NULL || c->finished)
		return -1;
	return spawn_signal(c, SIGTERM);
}

/*
 * Read at most maxreads chunks.  0 (pipe), EIO (pty whose slave side is
 * closed everywhere) or another error is the end of the stream.
 */
static void
spawn_stream_read(struct chiffon_child *c, struct spawn_stream *st,
    int maxreads)
{
	char	buf[65536 + 1];
	ssize_t	n, took;

	while (maxreads-- > 0 && !c->finished && !st->eof && !st->ended &&
	    spawn_held_len(st) < SPAWN_HOLD_MAX) {
		n = read(st->fd, buf, sizeof buf - 1);
		if (n > 0) {
			took = spawn_held_len(st) > 0 ? 0 :
			    spawn_feed(c, st, buf, n);
			if (took == -1)
				return;
			if (took < n)
				spawn_hold(c, st, buf + took, n - took);
			continue;
		}
		if (n == -1 && errno == EINTR) {
			maxreads++;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (spawn_held_len(st) == 0)
				spawn_prompt_check(c, st);
			return;
		}
		if (spawn_held_len(st) == 0) {
			spawn_stream_eof(c, st);
			continue;
		}
		st->ended = 1;		/* the end after what is held */
		if (st->id > 0)
			loop_fd_events(c->loop, st->id, 0);
	}
}

/*
 * Split what st holds while the gate is open; at its end, the stream's
 * end.  -1 if a callback finished the child.
 */
static int
spawn_unhold(struct chiffon_child *c, struct spawn_stream *st)
{
	ssize_t	took;

	if (spawn_held_len(st) == 0)
		return 0;
	took = spawn_feed(c, st, st->held.buf + st->held_off,
	    spawn_held_len(st));
	if (took == -1)
		return -1;
	st->held_off += (size_t)took;
	if (spawn_held_len(st) > 0) {
		if (spawn_held_len(st) < SPAWN_HOLD_MAX && !st->ended &&
		    st->id > 0)
			loop_fd_events(c->loop, st->id, CHIFFON_FD_READ);
		return 0;
	}
	strbuf_reset(&st->held);
	st->held_off = 0;
	if (st->ended)
		spawn_stream_eof(c, st);
	else {
		if (st->id > 0)
			loop_fd_events(c->loop, st->id, CHIFFON_FD_READ);
		spawn_prompt_check(c, st);
	}
	return c->finished ? -1 : 0;
}

/* Off the holding list once both streams are split. */
static void
spawn_held_check(struct chiffon_child *c)
{
	if (c->on_held && spawn_held_len(&c->out) == 0 &&
	    spawn_held_len(&c->ev) == 0) {
		TAILQ_REMOVE(&spawn_held, c, held_entry);
		c->on_held = 0;
	}
}

/* The resume timer: split what the child holds, as far as the gate lets. */
static int
spawn_resume_cb(void *data)
{
	struct chiffon_child	*c = data;

	c->hold++;
	spawn_unwatch(c, &c->resume_id);
	if (!c->finished && spawn_unhold(c, &c->out) == 0)
		spawn_unhold(c, &c->ev);
	spawn_held_check(c);
	c->hold--;
	spawn_release(c);
	return 0;
}

void
spawn_set_gate(int (*gate)(void))
{
	spawn_gate = gate;
}

void
spawn_gate_open(void)
{
	struct chiffon_child	*c;
	int			 id;

	TAILQ_FOREACH(c, &spawn_held, held_entry) {
		if (c->resume_id > 0 || c->finished)
			continue;
		id = loop_add_timer(c->loop, 0, spawn_resume_cb, c,
		    spawn_reg_gone, c->owner);
		if (id > 0) {
			c->resume_id = id;
			c->nregs++;
		}
	}
}

static int
spawn_read_cb(int fd, int revents, void *data)
{
	struct chiffon_child	*c = data;

	c->hold++;
	spawn_stream_read(c, fd == c->out.fd ? &c->out : &c->ev, 16);
	c->hold--;
	spawn_release(c);
	return 0;
}

/* The child exited SPAWN_GRACE_MS ago and a stream is still open. */
static int
spawn_grace_cb(void *data)
{
	struct chiffon_child	*c = data;

	c->hold++;
	spawn_unwatch(c, &c->grace_id);
	c->forced = 1;
	if (spawn_unhold(c, &c->out) == 0)
		spawn_unhold(c, &c->ev);
	spawn_stream_read(c, &c->out, 64);
	spawn_stream_read(c, &c->ev, 64);
	spawn_stream_eof(c, &c->out);
	spawn_stream_eof(c, &c->ev);
	spawn_held_check(c);
	c->hold--;
	spawn_release(c);
	return 0;
}

static void
spawn_exited_cb(pid_t pid, int wstatus, const struct rusage *ru, void *data)
{
	struct chiffon_child	*c = data;
	int			 id;

	c->hold++;
	spawn_unwatch(c, &c->child_id);
	c->exited = 1;
	c->wstatus = wstatus;
	c->ru = *ru;
	c->end_ms = now_ms();
	if (!c->out.eof || !c->ev.eof) {
		id = loop_add_timer(c->loop, SPAWN_GRACE_MS, spawn_grace_cb, c,
		    spawn_reg_gone, c->owner);
		if (id > 0) {
			c->grace_id = id;
			c->nregs++;
		}
	}
	spawn_check_done(c);
	c->hold--;
	spawn_release(c);
}

static void
spawn_reap_cb(pid_t pid, int wstatus, const struct rusage *ru, void *data)
{
	/* An abandoned child: nothing to report. */
}

static void
spawn_abandon_held(struct chiffon_child *c)
{
	if (c->finished)
		return;
	c->finished = 1;
	if (!c->exited)
		kill(-c->pid, SIGKILL);
	spawn_stream_close(c, &c->out);
	spawn_stream_close(c, &c->ev);
	spawn_unwatch(c, &c->grace_id);
	spawn_unwatch(c, &c->prompt_id);
	spawn_unwatch(c, &c->resume_id);
	strbuf_reset(&c->out.held);
	strbuf_reset(&c->ev.held);
	c->out.held_off = c->ev.held_off = 0;
	spawn_held_check(c);
	if (c->child_id > 0) {
		spawn_unwatch(c, &c->child_id);
		loop_watch_child(c->loop, c->pid, spawn_reap_cb, NULL, NULL,
		    NULL);
	}
}

void
spawn_abandon(struct chiffon_child *c)
{
	c->hold++;
	spawn_abandon_held(c);
	c->hold--;
	spawn_release(c);
}

int
spawn_signal(struct chiffon_child *c, int sig)
{
	if (c == NULL || c->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return kill(-c->pid, sig);
}

pid_t
spawn_pid(struct chiffon_child *c)
{
	return c != NULL ? c->pid : -1;
}

static void
spawn_watch_stream(struct chiffon_child *c, struct spawn_stream *st)
{
	if (st->fd == -1) {
		st->eof = 1;
		return;
	}
	fcntl(st->fd, F_SETFL, fcntl(st->fd, F_GETFL) | O_NONBLOCK);
	fcntl(st->fd, F_SETFD, FD_CLOEXEC);
	st->id = loop_watch_fd(c->loop, st->fd, CHIFFON_FD_READ,
	    spawn_read_cb, c, spawn_reg_gone, c->owner);
	if (st->id > 0)
		c->nregs++;
}

/* Turn what the child wrote on the status pipe into a message. */
static void
spawn_failed(const struct chiffon_spawn_opts *opts,
    const struct spawn_failure *f, char **errp)
{
	const char	*prog = opts->argv[0], *e = strerror(f->err);
	int		 in_path = strchr(prog, '/') == NULL;

	if (f->step == SPAWN_STEP_CWD)
		set_error(errp, "cannot run %s: cannot change to directory "
		    "%s: %s", prog, opts->cwd, e);
	else
		set_error(errp, "cannot run %s: %s%s%s", prog,
		    f->step == SPAWN_STEP_EXEC ? "" : "child set-up failed: ",
		    e, f->step == SPAWN_STEP_EXEC && f->err == ENOENT &&
		    in_path ? " (not found in PATH; is it installed?)" : "");
}

/*
 * The parent's (index 0) and the child's (1) ends of the status pipe, the
 * event pipe and the output (pty master and slave, or a pipe).
 */
struct spawn_fds {
	int	status[2];
	int	ev[2];
	int	out[2];
};

static void
spawn_fds_close(struct spawn_fds *f, int side)
{
	spawn_close(&f->status[side]);
	spawn_close(&f->ev[side]);
	spawn_close(&f->out[side]);
}

static int
spawn_fds_open(struct spawn_fds *f, const struct chiffon_spawn_opts *opts)
{
	struct winsize	ws;

	memset(&ws, 0, sizeof ws);
	ws.ws_col = opts->pty_cols ? opts->pty_cols : SPAWN_PTY_COLS;
	ws.ws_row = SPAWN_PTY_ROWS;
	if (pipe2(f->status, O_CLOEXEC) == -1)
		return -1;
	if (opts->event_fd > 2 && pipe2(f->ev, O_CLOEXEC) == -1)
		return -1;
	if (opts->use_pty)
		return openpty(&f->out[0], &f->out[1], NULL, NULL, &ws);
	return pipe2(f->out, O_CLOEXEC);
}

/* Wait for exec: 0, or -1 with *f filled (the child is reaped). */
static int
spawn_wait_exec(pid_t pid, int fd, struct spawn_failure *f)
{
	ssize_t	n;

	do
		n = read(fd, f, sizeof *f);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != sizeof *f) {
		f->step = SPAWN_STEP_SETUP;
		f->err = n == -1 ? errno : EPROTO;
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}

struct chiffon_child *
spawn_start(struct loop *loop, const struct chiffon_spawn_opts *opts,
    const struct chiffon_child_cbs *cbs, void *cbdata,
    void (*free_func)(void *), void *owner, char **errp)
{
	struct spawn_fds	 fds = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct chiffon_child	*c;
	struct spawn_failure	 f;
	char			**envp;
	uint64_t		 start = now_ms();
	pid_t			 pid = -1;

	if (opts == NULL || opts->argv == NULL || opts->argv[0] == NULL) {
		set_error(errp, "cannot start a child: no program given");
		return NULL;
	}
	if ((envp = spawn_env(opts->env_add, errp)) == NULL)
		return NULL;
	if (spawn_fds_open(&fds, opts) == -1 || (pid = fork()) == -1) {
		set_error(errp, "cannot run %s: %s", opts->argv[0],
		    strerror(errno));
		free(envp);
		spawn_fds_close(&fds, 0);
		spawn_fds_close(&fds, 1);
		return NULL;
	}
	if (pid == 0)
		spawn_child_exec(opts, envp, fds.status[1], fds.out[1],
		    fds.ev[1]);
	free(envp);
	spawn_fds_close(&fds, 1);
	if (spawn_wait_exec(pid, fds.status[0], &f) == -1) {
		spawn_fds_close(&fds, 0);
		spawn_failed(opts, &f, errp);
		return NULL;
	}
	spawn_close(&fds.status[0]);

	c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->owner = owner;
	if (cbs != NULL)
		c->cbs = *cbs;
	c->cbdata = cbdata;
	c->free_func = free_func;
	c->pid = pid;
	c->start_ms = start;
	c->out.fd = fds.out[0];
	c->out.is_pty = opts->use_pty;
	c->ev.fd = fds.ev[0];
	c->ev.is_event = 1;
	spawn_watch_stream(c, &c->out);
	spawn_watch_stream(c, &c->ev);
	c->child_id = loop_watch_child(loop, pid, spawn_exited_cb, c,
	    spawn_reg_gone, owner);
	if (c->child_id > 0)
		c->nregs++;
	return c;
}
