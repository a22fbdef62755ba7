/*
 * helper-print.c - a child program for tests/check_spawn.
 *
 * Options are carried out in this order:
 *   -d            print "cwd=DIR"
 *   -v NAME       print "NAME=VALUE" (or "NAME unset")
 *   -t            print "tty=0|1 cols=N" for stdout
 *   -m            print "sigchld blocked=0|1 sigpipe ignored=0|1"
 *   -l N          print N lines "line I" (I from 0)
 *   -L LEN        print one line of LEN letters
 *   -w            print "to stderr" on stderr
 *   -W N          write N bytes ("e" lines of 64) on stderr
 *   -F FD -E N    write N lines {"n":I} to fd FD (default 3)
 *   -P TEXT       print TEXT without a newline
 *   -b MS         burn MS milliseconds of CPU
 *   -g            fork a grandchild that sleeps 60 s, print "grandchild=PID"
 *   -k            fork a grandchild that keeps stdout and fd 3 open for
 *                 60 s (ignoring SIGHUP), print "keeper=PID"
 *   -s MS         sleep MS milliseconds
 *   -c CODE       exit with CODE
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static void
helper_sleep(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static void
helper_burn(long ms)
{
	struct timespec	 ts;
	volatile double	 x = 0;
	double		 end;
	long		 i;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + ms / 1e3;
	do {
		for (i = 0; i < 100000; i++)
			x += i * 0.5;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
}

static pid_t
helper_fork(int ignore_hup)
{
	pid_t	pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (ignore_hup)
			signal(SIGHUP, SIG_IGN);
		helper_sleep(60000);
		_exit(0);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	struct winsize	 ws;
	struct sigaction sa;
	sigset_t	 mask;
	const char	*v;
	char		 cwd[4096];
	FILE		*ev;
	long		 i, n;
	int		 ch, code = 0, fd = 3;

	setvbuf(stdout, NULL, _IOFBF, 65536);
	while ((ch = getopt(argc, argv, "dv:tml:L:wW:F:E:P:b:gks:c:")) != -1) {
		switch (ch) {
		case 'd':
			printf("cwd=%s\n", getcwd(cwd, sizeof cwd));
			break;
		case 'v':
			if ((v = getenv(optarg)) != NULL)
				printf("%s=%s\n", optarg, v);
			else
				printf("%s unset\n", optarg);
			break;
		case 't':
			memset(&ws, 0, sizeof ws);
			ioctl(1, TIOCGWINSZ, &ws);
			printf("tty=%d cols=%d\n", isatty(1), ws.ws_col);
			break;
		case 'm':
			sigprocmask(SIG_BLOCK, NULL, &mask);
			sigaction(SIGPIPE, NULL, &sa);
			printf("sigchld blocked=%d sigpipe ignored=%d\n",
			    sigismember(&mask, SIGCHLD),
			    sa.sa_handler == SIG_IGN);
			break;
		case 'l':
			n = atol(optarg);
			for (i = 0; i < n; i++)
				printf("line %ld\n", i);
			break;
		case 'L':
			n = atol(optarg);
			for (i = 0; i < n; i++)
				putchar('a' + i % 26);
			putchar('\n');
			break;
		case 'w':
			fflush(stdout);
			fprintf(stderr, "to stderr\n");
			break;
		case 'W':
			fflush(stdout);
			n = atol(optarg);
			for (i = 0; i < n; i++)
				fputc(i % 64 == 63 ? '\n' : 'e', stderr);
			fflush(stderr);
			break;
		case 'F':
			fd = atoi(optarg);
			break;
		case 'E':
			if ((ev = fdopen(fd, "w")) == NULL) {
				perror("fdopen");
				return 99;
			}
			n = atol(optarg);
			for (i = 0; i < n; i++)
				fprintf(ev, "{\"n\":%ld}\n", i);
			fflush(ev);
			break;
		case 'P':
			fputs(optarg, stdout);
			break;
		case 'b':
			helper_burn(atol(optarg));
			break;
		case 'g':
			printf("grandchild=%ld\n", (long)helper_fork(0));
			break;
		case 'k':
			printf("keeper=%ld\n", (long)helper_fork(1));
			break;
		case 's':
			fflush(stdout);
			helper_sleep(atol(optarg));
			break;
		case 'c':
			code = atoi(optarg);
			break;
		default:
			return 98;
		}
	}
	fflush(NULL);
	return code;
}
