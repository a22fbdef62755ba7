/*
 * loop.c - the one event loop of the chiffon process.
 *
 * Every watched fd, timer and child is a registration (struct loop_reg)
 * in one array, identified by an id > 0.  loop_run_once builds a pollfd
 * array from the fd registrations plus a signalfd for SIGCHLD, waits until
 * the nearest timer is due and dispatches:
 *
 *   1. fd callbacks, in registration order;
 *   2. child callbacks: for each watched pid, wait4(pid, WNOHANG) so the
 *      child's rusage (which includes the children it waited for) is
 *      known; exactly one callback per child, then the watch is removed;
 *   3. due timers, earliest deadline first (ties by id).  A timer repeats
 *      every interval_ms until its callback returns non-zero.
 *
 * Removal.  loop_remove (and loop_remove_owner, and a callback returning
 * non-zero) marks the registration dead and calls its free_func at once;
 * the loop never calls a dead registration again, so a callback may
 * remove itself or any other registration, including ones that were
 * already found ready in the same round.  The memory of dead registrations
 * is reclaimed only when no dispatch is running (l->busy == 0), so that
 * pointers held by the dispatcher stay valid.  Registrations added from a
 * callback are considered from the next round on.
 *
 * SIGCHLD is set to SIG_DFL and blocked in loop_new (loop_free restores
 * both) and read through a signalfd; a new child watch forces one wait4 sweep
 * in the next round, so a child that exited before it was watched is not
 * missed.  Watch each pid once; if wait4 fails for it (ECHILD: not our
 * child, or reaped elsewhere) the callback gets wstatus -1 and a zeroed
 * rusage.
 *
 * CHIFFON_FD_ERROR (POLLERR, POLLHUP, POLLNVAL) is always reported to an fd
 * callback, even if it asked only for READ; an fd watched with events 0
 * is not polled at all.  loop_run returns -1 if poll fails.  No threads.
 *
 * Children inherit the blocked SIGCHLD: code that forks outside spawn.c
 * must reset the signal mask in the child before exec.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

enum loop_kind {
	LOOP_FD,
	LOOP_TIMER,
	LOOP_CHILD,
	LOOP_PREPARE,
};

/* One registration: a watched fd, a timer or a watched child. */
struct loop_reg {
	int		 id;
	enum loop_kind	 kind;
	int		 dead;
	void		*data;
	void		(*free_func)(void *);
	void		*owner;

	int		 fd;		/* LOOP_FD */
	int		 events;
	loop_fd_cb	 fd_cb;

	uint64_t	 interval;	/* LOOP_TIMER */
	uint64_t	 deadline;
	loop_timer_cb	 timer_cb;	/* LOOP_TIMER, LOOP_PREPARE */

	pid_t		 pid;		/* LOOP_CHILD */
	loop_child_cb	 child_cb;
};

/* The loop: registrations, the SIGCHLD signalfd and the poll buffer. */
struct loop {
	struct loop_reg	**regs;
	size_t		  nregs;
	size_t		  capregs;
	int		  next_id;
	int		  busy;		/* dispatching or removing */
	int		  ndead;
	int		  stopped;
	int		  check_children;

	int		  sigfd;
	sigset_t	  oldmask;
	struct sigaction  oldchld;
};

struct loop *
loop_new(void)
{
	struct loop		*l;
	struct sigaction	 sa;
	sigset_t		 set;

	l = xcalloc(1, sizeof *l);
	l->next_id = 1;
	/* SIG_IGN (or SA_NOCLDWAIT) would make the kernel reap children. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, &l->oldchld);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &l->oldmask);
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd == -1) {
		sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
		sigaction(SIGCHLD, &l->oldchld, NULL);
		free(l);
		return NULL;
	}
	return l;
}

/* Free dead registrations unless a dispatch still holds pointers. */
static void
loop_sweep(struct loop *l)
{
	size_t	i, j;

	if (l->busy > 0 || l->ndead == 0)
		return;
	for (i = j = 0; i < l->nregs; i++) {
		if (l->regs[i]->dead)
			free(l->regs[i]);
		else
			l->regs[j++] = l->regs[i];
	}
	l->nregs = j;
	l->ndead = 0;
}

static void
loop_kill(struct loop *l, struct loop_reg *r)
{
	if (r->dead)
		return;
	r->dead = 1;
	l->ndead++;
	if (r->free_func != NULL)
		r->free_func(r->data);
}

void
loop_free(struct loop *l)
{
	size_t	i;
	int	again;

	if (l == NULL)
		return;
	/* free_funcs may add registrations; repeat until none is left. */
	l->busy++;
	do {
		again = 0;
		for (i = 0; i < l->nregs; i++) {
			if (!l->regs[i]->dead) {
				loop_kill(l, l->regs[i]);
				again = 1;
			}
		}
	} while (again);
	l->busy--;
	loop_sweep(l);
	free(l->regs);
	close(l->sigfd);
	sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	sigaction(SIGCHLD, &l->oldchld, NULL);
	free(l);
}

static struct loop_reg *
loop_add(struct loop *l, enum loop_kind kind, void *data,
    void (*free_func)(void *), void *owner)
{
	struct loop_reg	*r;

	if (l->nregs == l->capregs) {
		l->capregs = l->capregs ? l->capregs * 2 : 16;
		l->regs = xreallocarray(l->regs, l->capregs, sizeof *l->regs);
	}
	r = xcalloc(1, sizeof *r);
	r->id = l->next_id++;
	if (l->next_id <= 0)
		l->next_id = 1;
	r->kind = kind;
	r->data = data;
	r->free_func = free_func;
	r->owner = owner;
	r->fd = -1;
	l->regs[l->nregs++] = r;
	return r;
}

static struct loop_reg *
loop_find(struct loop *l, int id)
{
	size_t	i;

	for (i = 0; i < l->nregs; i++) {
		if (l->regs[i]->id == id && !l->regs[i]->dead)
			return l->regs[i];
	}
	return NULL;
}

int
loop_watch_fd(struct loop *l, int fd, int events, loop_fd_cb cb, void *data,
    void (*free_func)(void *), void *owner)
{
	struct loop_reg	*r;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	r = loop_add(l, LOOP_FD, data, free_func, owner);
	r->fd = fd;
	r->events = events;
	r->fd_cb = cb;
	return r->id;
}

int
loop_fd_events(struct loop *l, int id, int events)
{
	struct loop_reg	*r = loop_find(l, id);

	if (r == NULL || r->kind != LOOP_FD) {
		errno = ENOENT;
		return -1;
	}
	r->events = events;
	return 0;
}

int
loop_add_timer(struct loop *l, uint64_t interval_ms, loop_timer_cb cb,
    void *data, void (*free_func)(void *), void *owner)
{
	struct loop_reg	*r;

	if (cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	r = loop_add(l, LOOP_TIMER, data, free_func, owner);
	r->interval = interval_ms;
	r->deadline = now_ms() + interval_ms;
	r->timer_cb = cb;
	return r->id;
}

int
loop_watch_child(struct loop *l, pid_t pid, loop_child_cb cb, void *data,
    void (*free_func)(void *), void *owner)
{
	struct loop_reg	*r;

	if (pid <= 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	r = loop_add(l, LOOP_CHILD, data, free_func, owner);
	r->pid = pid;
	r->child_cb = cb;
	l->check_children = 1;
	return r->id;
}

int
loop_add_prepare(struct loop *l, loop_timer_cb cb, void *data,
    void (*free_func)(void *), void *owner)
{
	struct loop_reg	*r;

	r = loop_add(l, LOOP_PREPARE, data, free_func, owner);
	r->timer_cb = cb;
	return r->id;
}

/* The prepare callbacks, at the start of a round (loop_add_prepare). */
static void
loop_prepare(struct loop *l)
{
	struct loop_reg	*r;
	size_t		 i, n = l->nregs;

	l->busy++;
	for (i = 0; i < n; i++) {
		r = l->regs[i];
		if (!r->dead && r->kind == LOOP_PREPARE &&
		    r->timer_cb(r->data) != 0)
			loop_kill(l, r);
	}
	l->busy--;
	loop_sweep(l);
}

void
loop_remove(struct loop *l, int id)
{
	struct loop_reg	*r = loop_find(l, id);

	if (r == NULL)
		return;
	l->busy++;
	loop_kill(l, r);
	l->busy--;
	loop_sweep(l);
}

void
loop_remove_owner(struct loop *l, void *owner)
{
	size_t	i;

	if (owner == NULL)
		return;
	/* Index loop: free_funcs may add (not reorder) registrations. */
	l->busy++;
	for (i = 0; i < l->nregs; i++) {
		if (l->regs[i]->owner == owner)
			loop_kill(l, l->regs[i]);
	}
	l->busy--;
	loop_sweep(l);
}

void
loop_stop(struct loop *l)
{
	l->stopped = 1;
}

/* Milliseconds until the nearest timer, or -1 if there is none. */
static int
loop_timeout(struct loop *l, uint64_t now)
{
	uint64_t	 best = UINT64_MAX;
	size_t		 i;

	for (i = 0; i < l->nregs; i++) {
		struct loop_reg	*r = l->regs[i];

		if (!r->dead && r->kind == LOOP_TIMER && r->deadline < best)
			best = r->deadline;
	}
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	if (best - now > 86400000)
		return 86400000;
	return (int)(best - now);
}

/*
 * Fill pfds: slot 0 is the signalfd, then every live fd registration;
 * pregs[i] is the registration of pfds[i].  Both are allocated per round
 * (pfds and pregs are local to one loop_run_once), so a callback that runs
 * the loop again does not pull them from under the outer round.
 */
static size_t
loop_build_pollfds(struct loop *l, struct pollfd **pfdsp,
    struct loop_reg ***pregsp)
{
	struct pollfd	 *pfds;
	struct loop_reg	**pregs;
	size_t		  i, n = 1;

	pfds = xreallocarray(NULL, l->nregs + 1, sizeof *pfds);
	pregs = xreallocarray(NULL, l->nregs + 1, sizeof *pregs);
	pfds[0].fd = l->sigfd;
	pfds[0].events = POLLIN;
	pregs[0] = NULL;
	for (i = 0; i < l->nregs; i++) {
		struct loop_reg	*r = l->regs[i];

		if (r->dead || r->kind != LOOP_FD)
			continue;
		/* A negative fd is ignored by poll: nothing is wanted. */
		pfds[n].fd = r->events ? r->fd : -1;
		pfds[n].events = 0;
		if (r->events & CHIFFON_FD_READ)
			pfds[n].events |= POLLIN;
		if (r->events & CHIFFON_FD_WRITE)
			pfds[n].events |= POLLOUT;
		pregs[n++] = r;
	}
	*pfdsp = pfds;
	*pregsp = pregs;
	return n;
}

static int
loop_revents(short re)
{
	int	ev = 0;

	if (re & (POLLIN | POLLPRI))
		ev |= CHIFFON_FD_READ;
	if (re & POLLOUT)
		ev |= CHIFFON_FD_WRITE;
	if (re & (POLLERR | POLLHUP | POLLNVAL))
		ev |= CHIFFON_FD_ERROR;
	return ev;
}

/* wait4 every watched child once; run the callbacks of exited ones. */
static int
loop_reap(struct loop *l)
{
	struct rusage	 ru;
	size_t		 i, n = l->nregs;
	int		 status, ran = 0;
	pid_t		 got;

	for (i = 0; i < n; i++) {
		struct loop_reg	*r = l->regs[i];

		if (r->dead || r->kind != LOOP_CHILD)
			continue;
		memset(&ru, 0, sizeof ru);
		do
			got = wait4(r->pid, &status, WNOHANG, &ru);
		while (got == -1 && errno == EINTR);
		if (got == 0)
			continue;
		if (got == -1)
			status = -1;	/* not ours, or reaped elsewhere */
		r->child_cb(r->pid, status, &ru, r->data);
		loop_kill(l, r);
		ran++;
	}
	return ran;
}

static int
loop_timer_cmp(const void *a, const void *b)
{
	const struct loop_reg	*ra = *(struct loop_reg *const *)a;
	const struct loop_reg	*rb = *(struct loop_reg *const *)b;

	if (ra->deadline != rb->deadline)
		return ra->deadline < rb->deadline ? -1 : 1;
	return ra->id < rb->id ? -1 : (ra->id > rb->id);
}

/* Run the timers that are due, earliest first. */
static int
loop_timers(struct loop *l)
{
	struct loop_reg	**due;
	uint64_t	  now = now_ms();
	size_t		  i, n = 0;
	int		  ran = 0;

	due = xreallocarray(NULL, l->nregs + 1, sizeof *due);
	for (i = 0; i < l->nregs; i++) {
		struct loop_reg	*r = l->regs[i];

		if (!r->dead && r->kind == LOOP_TIMER && r->deadline <= now)
			due[n++] = r;
	}
	qsort(due, n, sizeof *due, loop_timer_cmp);
	for (i = 0; i < n; i++) {
		struct loop_reg	*r = due[i];

		if (r->dead)
			continue;
		r->deadline += r->interval;
		if (r->deadline <= now)
			r->deadline = now + r->interval;
		ran++;
		if (r->timer_cb(r->data) != 0)
			loop_kill(l, r);
	}
	free(due);
	return ran;
}

int
loop_run_once(struct loop *l, int timeout_ms)
{
	struct signalfd_siginfo	  si;
	struct pollfd		 *pfds;
	struct loop_reg		**pregs;
	size_t			  i, n;
	int			  t, nready, ran = 0, sig = 0;

	loop_prepare(l);
	n = loop_build_pollfds(l, &pfds, &pregs);
	t = loop_timeout(l, now_ms());
	if (t == -1 || (timeout_ms >= 0 && timeout_ms < t))
		t = timeout_ms;
	if (l->check_children)
		t = 0;
	nready = poll(pfds, n, t);
	if (nready == -1 && errno != EINTR) {
		free(pfds);
		free(pregs);
		return -1;
	}

	l->busy++;
	for (i = 1; nready > 0 && i < n; i++) {
		struct loop_reg	*r = pregs[i];
		int		 ev = loop_revents(pfds[i].revents);

		if (r->dead || (ev & (r->events | CHIFFON_FD_ERROR)) == 0)
			continue;
		ran++;
		if (r->fd_cb(r->fd, ev, r->data) != 0)
			loop_kill(l, r);
	}
	if (nready > 0 && (pfds[0].revents & POLLIN)) {
		while (read(l->sigfd, &si, sizeof si) == sizeof si)
			sig = 1;
	}
	free(pfds);
	free(pregs);
	if (sig || l->check_children) {
		l->check_children = 0;
		ran += loop_reap(l);
	}
	ran += loop_timers(l);
	l->busy--;
	loop_sweep(l);
	return ran;
}

int
loop_run(struct loop *l)
{
	int	rc = 0;

	while (!l->stopped) {
		if (loop_run_once(l, -1) == -1) {
			rc = -1;
			break;
		}
	}
	l->stopped = 0;
	return rc;
}

/* -- signals of a command -------------------------------------------------- */

static int
loop_signals_cb(int fd, int revents, void *data)
{
	struct loop_signals		*ls = data;
	struct signalfd_siginfo		 si;

	(void)revents;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
		ls->cb((int)si.ssi_signo, ls->data);
	return 0;
}

int
loop_signals_open(struct loop *l, struct loop_signals *ls, loop_signal_cb cb,
    void *data)
{
	sigset_t	set;

	ls->cb = cb;
	ls->data = data;
	ls->id = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &ls->old);
	if ((ls->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	ls->id = loop_watch_fd(l, ls->fd, CHIFFON_FD_READ, loop_signals_cb,
	    ls, NULL, NULL);
	return ls->id > 0 ? 0 : -1;
}

void
loop_signals_close(struct loop *l, struct loop_signals *ls)
{
	if (ls->id > 0)
		loop_remove(l, ls->id);
	if (ls->fd != -1)
		close(ls->fd);
	ls->id = 0;
	ls->fd = -1;
	sigprocmask(SIG_SETMASK, &ls->old, NULL);
}
