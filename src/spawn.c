/*
 * spawn.c - child processes started by the host, read through the loop.
 *
 * spawn_start opens the pipes (and pty), forks and runs spawn_child_exec
 * (spawn-child.c) in the child.  A close-on-exec status pipe tells the
 * parent whether exec worked: EOF means it did, otherwise the child wrote
 * the failing step and errno, and spawn_start returns NULL with a message.
 *
 * Lifetime.  The child object is the data of up to four loop
 * registrations (output fd, event fd, child watch, grace timer); nregs
 * counts the live ones.  The module removes its own registrations with
 * `internal' set; a removal without it comes from outside (owner removal,
 * loop_free) and abandons the child.  `hold' is non-zero while one of
 * this module's callbacks runs, so the object is freed only when it is
 * finished, has no registration and is not on the stack (spawn_release).
 *
 * Pumps.  Each stream is read by a pump thread of its own (struct
 * spawn_pump), so that the child never waits on the loop: a child that
 * writes megabytes at once (ansible-playbook's debug of a long list
 * does so in one write(2)) would otherwise block in that write for as
 * long as the loop's line callbacks (and the database flushes behind
 * them) take.  The pump polls the stream and its stop pipe, reads into
 * a buffer shared under a mutex, at most SPAWN_PUMP_MAX bytes (then it
 * waits: back-pressure on the child), and writes one byte on its wake
 * pipe per batch.  The loop watches the wake pipe, takes the whole
 * buffer at once (swapping it with its own) and splits it into lines
 * as before, at most SPAWN_FEED_MAX bytes per callback so that keys and
 * timers are served between pieces.  The pump's end (EOF, EIO of a pty
 * whose slave is closed, an error) is handed over with the last batch;
 * the loop then delivers the partial line and closes the stream.  The
 * pump only reads the stream and touches the shared buffer: every
 * callback, the prompt detection (once all that was read is fed and
 * the pump has nothing more) and the grace period run on the loop's
 * thread as before.  Closing a stream stops its pump and joins it.  When
 * a thread cannot be started the loop reads the stream itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

extern char **environ;

/* What a pump holds before it waits for the loop (back-pressure). */
#define SPAWN_PUMP_MAX		(4 * 1024 * 1024)
/* What the loop splits into lines per callback. */
#define SPAWN_FEED_MAX		(1024 * 1024)

/*
 * The thread reading one stream (see the top of the file).  Members
 * marked "locked" are shared and read or written under lock only; the
 * rest belong to the loop's thread (fd and the pipes are set before the
 * thread starts and closed after it is joined).
 */
struct spawn_pump {
	pthread_t		 thread;
	int			 fd;		/* the stream */
	int			 wake[2];	/* pump -> loop */
	int			 stop[2];	/* loop -> pump */
	pthread_mutex_t		 lock;
	pthread_cond_t		 room;		/* the loop took the buffer */
	struct strbuf		 buf;		/* locked: read, not taken */
	int			 woken;		/* locked: a byte is on wake */
	int			 end;		/* locked: the stream ended */
	int			 stopping;	/* locked: stop was asked */
	int			 joined;	/* the thread is gone */
};

/* One stream read from the child: its output or its event pipe. */
struct spawn_stream {
	int			 fd;
	int			 id;		/* registration or 0 */
	int			 eof;
	int			 is_pty;	/* strip a trailing \r */
	int			 is_event;
	struct strbuf		 partial;	/* incomplete last line */
	struct spawn_pump	*pump;		/* its reader, or NULL */
	struct strbuf		 taken;		/* taken from the pump */
	size_t			 taken_off;	/* ... fed up to here */
	int			 taken_end;	/* ... and it was the last */
};

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
static void	spawn_pump_stop(struct spawn_stream *);

/*
 * The child whose pty output stopped at a prompt (a last line ending in
 * ": " or "? " with nothing after it), or NULL: ansible-playbook asking
 * for a vars_prompt, become or vault answer.  spawn_prompt_answer writes
 * the answer to its pty.  Cleared when the child is freed.
 */
static struct chiffon_child	*spawn_prompt_child;

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
	spawn_pump_stop(&c->out);
	spawn_pump_stop(&c->ev);
	strbuf_free(&c->out.partial);
	strbuf_free(&c->ev.partial);
	strbuf_free(&c->out.taken);
	strbuf_free(&c->ev.taken);
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

/* Free a pump whose thread is not running (never started, or joined). */
static void
spawn_pump_free(struct spawn_pump *p)
{
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->room);
	spawn_close(&p->wake[0]);
	spawn_close(&p->wake[1]);
	spawn_close(&p->stop[0]);
	spawn_close(&p->stop[1]);
	strbuf_free(&p->buf);
	free(p);
}

/* Ask a pump's thread to stop and join it; what it read stays in p->buf. */
static void
spawn_pump_join(struct spawn_pump *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->room);
	pthread_mutex_unlock(&p->lock);
	while (write(p->stop[1], "", 1) == -1 && errno == EINTR)
		;
	pthread_join(p->thread, NULL);
	p->joined = 1;
}

/* Stop a stream's pump and free it; what it read and was not fed is lost. */
static void
spawn_pump_stop(struct spawn_stream *st)
{
	if (st->pump == NULL)
		return;
	if (!st->pump->joined)
		spawn_pump_join(st->pump);
	spawn_pump_free(st->pump);
	st->pump = NULL;
}

static void
spawn_stream_close(struct chiffon_child *c, struct spawn_stream *st)
{
	spawn_unwatch(c, &st->id);
	spawn_pump_stop(st);
	strbuf_free(&st->taken);
	st->taken_off = 0;
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

/* Split buf into lines.  -1 if a callback finished the child. */
static int
spawn_feed(struct chiffon_child *c, struct spawn_stream *st, char *buf,
    size_t n)
{
	char	*p = buf, *end = buf + n, *nl;

	while ((nl = memchr(p, '\n', end - p)) != NULL) {
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
	return 0;
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
	ssize_t	n;

	while (maxreads-- > 0 && !c->finished && !st->eof) {
		n = read(st->fd, buf, sizeof buf - 1);
		if (n > 0) {
			if (spawn_feed(c, st, buf, n) == -1)
				return;
			continue;
		}
		if (n == -1 && errno == EINTR) {
			maxreads++;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			spawn_prompt_check(c, st);
			return;
		}
		spawn_stream_eof(c, st);
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

/*
 * The pump thread: read the stream into p->buf until it ends or stop is
 * asked.  Touches nothing but p.
 */
static void *
spawn_pump_main(void *arg)
{
	struct spawn_pump	*p = arg;
	struct pollfd		 pfd[2];
	char			 buf[65536];
	ssize_t			 n;
	int			 end;

	pfd[0].fd = p->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = p->stop[0];
	pfd[1].events = POLLIN;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->buf.len >= SPAWN_PUMP_MAX && !p->stopping)
			pthread_cond_wait(&p->room, &p->lock);
		end = p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (end)
			break;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			n = -1;		/* cannot wait: the end */
		} else if (pfd[1].revents != 0)
			break;
		else if ((n = read(p->fd, buf, sizeof buf)) == -1 &&
		    (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			continue;
		pthread_mutex_lock(&p->lock);
		if (n > 0)
			strbuf_add(&p->buf, buf, (size_t)n);
		else
			p->end = 1;
		if (!p->woken) {
			p->woken = 1;
			while (write(p->wake[1], "", 1) == -1 &&
			    errno == EINTR)
				;
		}
		pthread_mutex_unlock(&p->lock);
		if (n <= 0)
			break;
	}
	return NULL;
}

/*
 * Take what the pump read (when all taken before is fed) and feed at most
 * max bytes of it.  1 when everything the pump had is fed and it has
 * nothing more for now, 0 when more is waiting (taken, or in the pump),
 * -1 when the stream ended (all fed: the caller delivers the partial line
 * and closes it) or a callback finished the child.
 */
static int
spawn_pump_feed(struct chiffon_child *c, struct spawn_stream *st,
    size_t max)
{
	struct spawn_pump	*p = st->pump;
	struct strbuf		 tmp;
	char			*nl;
	size_t			 n;
	int			 more;

	if (st->taken_off == st->taken.len) {
		pthread_mutex_lock(&p->lock);
		tmp = st->taken;
		st->taken = p->buf;
		p->buf = tmp;
		strbuf_reset(&p->buf);
		st->taken_off = 0;
		st->taken_end = p->end;
		p->woken = 0;
		pthread_cond_signal(&p->room);
		pthread_mutex_unlock(&p->lock);
	}
	n = st->taken.len - st->taken_off;
	if (n > max) {
		/* Up to a line's end, so that no line is copied. */
		nl = memrchr(st->taken.buf + st->taken_off, '\n', max);
		n = nl != NULL ? (size_t)(nl + 1 - st->taken.buf) -
		    st->taken_off : max;
	}
	if (n > 0 && spawn_feed(c, st, st->taken.buf + st->taken_off, n) == -1)
		return -1;
	st->taken_off += n;
	if (st->taken_off < st->taken.len)
		return 0;
	if (st->taken_end)
		return -1;
	pthread_mutex_lock(&p->lock);
	more = p->buf.len > 0 || p->end;
	pthread_mutex_unlock(&p->lock);
	return more ? 0 : 1;
}

/* The wake pipe of a stream's pump is readable. */
static int
spawn_pump_cb(int fd, int revents, void *data)
{
	struct chiffon_child	*c = data;
	struct spawn_stream	*st;
	char			 drain[64];
	int			 rc;

	st = c->out.pump != NULL && fd == c->out.pump->wake[0] ? &c->out :
	    &c->ev;
	c->hold++;
	while (read(fd, drain, sizeof drain) > 0)
		;
	if (!c->finished && !st->eof && st->pump != NULL) {
		rc = spawn_pump_feed(c, st, SPAWN_FEED_MAX);
		if (rc == 1)
			spawn_prompt_check(c, st);
		else if (rc == 0)	/* more: come back after the others */
			while (write(st->pump->wake[1], "", 1) == -1 &&
			    errno == EINTR)
				;
		else if (!c->finished && st->taken_end)
			spawn_stream_eof(c, st);
	}
	c->hold--;
	spawn_release(c);
	return 0;
}

/*
 * Start a pump for st (wake pipe registered on the loop).  0, or -1
 * (nothing is left behind; the loop reads the stream itself).
 */
static int
spawn_pump_start(struct chiffon_child *c, struct spawn_stream *st)
{
	struct spawn_pump	*p = xcalloc(1, sizeof *p);
	sigset_t		 all, old;
	int			 rc;

	p->fd = st->fd;
	p->wake[0] = p->wake[1] = p->stop[0] = p->stop[1] = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->room, NULL);
	if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(p->stop, O_CLOEXEC | O_NONBLOCK) == -1) {
		spawn_pump_free(p);
		return -1;
	}
	/* Signals stay with the loop's thread (SIGCHLD's signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->thread, NULL, spawn_pump_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		spawn_pump_free(p);
		return -1;
	}
	st->pump = p;
	st->id = loop_watch_fd(c->loop, p->wake[0], CHIFFON_FD_READ,
	    spawn_pump_cb, c, spawn_reg_gone, c->owner);
	if (st->id <= 0) {
		st->id = 0;
		spawn_pump_stop(st);
		return -1;
	}
	return 0;
}

/*
 * End of the grace period: stop st's pump and feed all it read; the
 * stream is read directly from then on.
 */
static void
spawn_grace_drain(struct chiffon_child *c, struct spawn_stream *st)
{
	struct spawn_pump	*p = st->pump;

	if (p == NULL || c->finished || st->eof)
		return;
	spawn_unwatch(c, &st->id);
	spawn_pump_join(p);
	/* Joined: nothing more comes; feed all it had. */
	while (spawn_pump_feed(c, st, SIZE_MAX) == 0)
		;
	spawn_pump_stop(st);	/* unless a callback closed the stream */
}

/* The child exited SPAWN_GRACE_MS ago and a stream is still open. */
static int
spawn_grace_cb(void *data)
{
	struct chiffon_child	*c = data;

	c->hold++;
	spawn_unwatch(c, &c->grace_id);
	spawn_grace_drain(c, &c->out);
	spawn_grace_drain(c, &c->ev);
	spawn_stream_read(c, &c->out, 64);
	spawn_stream_read(c, &c->ev, 64);
	spawn_stream_eof(c, &c->out);
	spawn_stream_eof(c, &c->ev);
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
	if (spawn_pump_start(c, st) == 0) {
		c->nregs++;
		return;
	}
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
