/*
 * llmsrv-run.c - the provider double (llmsrv.h) as a program, for the
 * shell's tmux tests: prints its port on stdout, then serves until
 * SIGTERM or SIGINT, when it stops its server and exits.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "llmsrv.h"

int
main(void)
{
	struct llmsrv	srv = { 0 };
	sigset_t	set;
	int		sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (llmsrv_start(&srv) != 0) {
		perror("llmsrv-run: cannot listen on 127.0.0.1");
		return 1;
	}
	printf("%d\n", srv.port);
	fflush(stdout);
	sigwait(&set, &sig);
	llmsrv_stop(&srv);
	return 0;
}
