/*
 * bench-pty.c - run a command on a pseudo-terminal and copy what it
 * prints to stdout: the reference of the end-to-end benchmark (e2e.sh),
 * plain ansible-playbook as the admin runs it in a terminal, without a
 * shell in between (script(1) -c runs one).
 *
 *   bench-pty COMMAND [ARG...]
 *
 * The terminal is 160x50, the size chiffon gives its own children
 * (SPAWN_PTY_COLS, SPAWN_PTY_ROWS), so both print the same lines.  The
 * exit status is the command's (128 + signal when killed), 127 when it
 * cannot be started, 126 for another error.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "spawn.h"

/* Write all of buf; -1 on an error. */
static int
bench_pty_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The child: the pty's slave as its terminal, then the command. */
static void
bench_pty_child(int fd, char **argv)
{
	setsid();
	if (ioctl(fd, TIOCSCTTY, 0) != 0)
		_exit(126);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	execvp(argv[0], argv);
	fprintf(stderr, "bench-pty: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
main(int argc, char **argv)
{
	struct winsize	 ws = { .ws_col = SPAWN_PTY_COLS,
			    .ws_row = SPAWN_PTY_ROWS };
	char		 buf[65536];
	const char	*slave;
	ssize_t		 n;
	pid_t		 pid;
	int		 master, slave_fd, status;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-pty COMMAND [ARG...]\n");
		return 2;
	}
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(master) != 0 || unlockpt(master) != 0 ||
	    (slave = ptsname(master)) == NULL) {
		fprintf(stderr, "bench-pty: no pseudo-terminal: %s\n",
		    strerror(errno));
		return 126;
	}
	/*
	 * The slave stays open here until the child has it: a master whose
	 * slave was never opened reads EIO at once.
	 */
	if ((slave_fd = open(slave, O_RDWR | O_NOCTTY)) == -1 ||
	    ioctl(slave_fd, TIOCSWINSZ, &ws) != 0) {
		fprintf(stderr, "bench-pty: %s: %s\n", slave, strerror(errno));
		return 126;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "bench-pty: fork: %s\n", strerror(errno));
		return 126;
	}
	if (pid == 0)
		bench_pty_child(slave_fd, argv + 1);
	close(slave_fd);
	for (;;) {
		n = read(master, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)	/* EIO: every slave descriptor closed */
			break;
		if (bench_pty_write(STDOUT_FILENO, buf, (size_t)n) != 0) {
			fprintf(stderr, "bench-pty: write: %s\n",
			    strerror(errno));
			kill(pid, SIGTERM);
			break;
		}
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 126;
	close(master);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
