/*
 * spawn-child.c - what a child started by spawn_start does between fork
 * and exec.
 *
 * It resets every signal disposition and the signal mask (the loop blocks
 * SIGCHLD), becomes a session leader (login_tty on the pty slave, or setsid
 * with stdout and stderr on one pipe and stdin on /dev/null), puts the
 * event pipe on opts->event_fd, closes every other fd, changes directory
 * and calls execvp with environ = envp.  On failure it writes a struct
 * spawn_failure to the status pipe and exits 127.  Only async-signal-safe
 * calls: no allocation, no stdio, _exit.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>

#include "spawn.h"

extern char **environ;

static void __attribute__((noreturn))
spawn_child_fail(int fd, int step)
{
	struct spawn_failure	f = { step, errno };

	if (write(fd, &f, sizeof f) != sizeof f)
		_exit(126);
	_exit(127);
}

/* Close every fd >= 3 except those in keep (ascending). */
static void
spawn_child_close(const int *keep, int nkeep)
{
	unsigned	first = 3, last, i;
	int		k;

	for (k = 0; k <= nkeep; k++) {
		last = k < nkeep ? (unsigned)keep[k] - 1 : ~0U;
		/* close_range needs Linux 5.9; else up to a sane bound. */
		if (first <= last && close_range(first, last, 0) == -1) {
			for (i = first; i <= last && i < 65536; i++)
				close((int)i);
		}
		if (k < nkeep)
			first = (unsigned)keep[k] + 1;
	}
}

void
spawn_child_exec(const struct chiffon_spawn_opts *opts, char **envp,
    int status_w, int io, int ev_w)
{
	struct sigaction	 sa;
	sigset_t		 none;
	int			 sig, lo, st, null, keep[2], nkeep = 0;

	/* Undo what the loop and the host did to signals. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move our fds above 0-2 and event_fd so the dup2s cannot hit them. */
	lo = (ev_w != -1 ? opts->event_fd : 2) + 1;
	if ((st = fcntl(status_w, F_DUPFD_CLOEXEC, lo)) == -1)
		_exit(127);
	if ((io = fcntl(io, F_DUPFD_CLOEXEC, lo)) == -1)
		spawn_child_fail(st, SPAWN_STEP_SETUP);
	if (ev_w != -1 && (ev_w = fcntl(ev_w, F_DUPFD_CLOEXEC, lo)) == -1)
		spawn_child_fail(st, SPAWN_STEP_SETUP);

	if (opts->use_pty) {
		/* setsid, controlling terminal, dup2 to 0, 1 and 2. */
		if (login_tty(io) == -1)
			spawn_child_fail(st, SPAWN_STEP_SETUP);
	} else {
		if (setsid() == -1)
			spawn_child_fail(st, SPAWN_STEP_SETUP);
		if ((null = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(null, 0) == -1 || dup2(io, 1) == -1 ||
		    dup2(io, 2) == -1)
			spawn_child_fail(st, SPAWN_STEP_SETUP);
	}
	if (ev_w != -1) {
		if (dup2(ev_w, opts->event_fd) == -1)
			spawn_child_fail(st, SPAWN_STEP_SETUP);
		keep[nkeep++] = opts->event_fd;
	}
	keep[nkeep++] = st;	/* st > event_fd */
	spawn_child_close(keep, nkeep);

	if (opts->cwd != NULL && chdir(opts->cwd) == -1)
		spawn_child_fail(st, SPAWN_STEP_CWD);
	environ = envp;
	execvp(opts->argv[0], (char *const *)opts->argv);
	spawn_child_fail(st, SPAWN_STEP_EXEC);
}
