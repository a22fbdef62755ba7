/*
 * cmd-worker.c - `chiffon worker [--name N] [--once]`: a standalone worker
 * that claims and runs queued tasks for the capabilities of its loaded
 * plugins until SIGINT or SIGTERM (or, with --once, after one task).
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "db.h"
#include "loop.h"
#include "util.h"
#include "worker.h"

static int	cmd_worker(struct app *, int, char **);

const struct cmd_entry cmd_worker_entry = {
	.name = "worker",
	.usage = "[--name NAME] [--once]",
	.summary = "claim and run queued tasks for the loaded plugins' "
	    "capabilities",
	.args = { 0, 0 },
	.exec = cmd_worker,
};

/* What the signal and idle callbacks act on. */
struct cmd_worker_state {
	struct worker	*w;
	struct loop	*loop;
	int		 signaled;
};

static void
cmd_worker_signal(int signo, void *data)
{
	struct cmd_worker_state		*st = data;

	st->signaled = signo;
	worker_stop(st->w);
	loop_stop(st->loop);
}

static void
cmd_worker_idle(struct worker *w, void *data)
{
	struct cmd_worker_state	*st = data;

	(void)w;
	loop_stop(st->loop);
}

static void
cmd_worker_finished(struct worker *w, long long task_id, int attempt,
    const char *status, void *data)
{
	(void)data;
	printf("%s: task %lld attempt %d %s\n", worker_name(w), task_id,
	    attempt, status);
	fflush(stdout);
}

static int
cmd_worker(struct app *app, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_worker_state	 st = { 0 };
	struct loop_signals	 sigs;
	const char		*name = NULL;
	struct db		*db;
	char			*err = NULL;
	int			 ch, once = 0, status = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case '1':
			once = 1;
			break;
		case 'h':
			cmd_usage(stdout, &cmd_worker_entry);
			return EXIT_OK;
		default:
			return cmd_usage(stderr, &cmd_worker_entry);
		}
	}
	if (cmd_args_check(&cmd_worker_entry, argc, optind) != 0)
		return EXIT_USAGE;
	if (name != NULL && *name == '\0')
		return cmd_usage(stderr, &cmd_worker_entry);
	if ((db = app_db(app, &err)) == NULL) {
		fprintf(stderr, "chiffon worker: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	st.loop = app_loop(app);
	db_attach_loop(db, st.loop);
	if ((st.w = worker_new(app, name, &err)) == NULL) {
		fprintf(stderr, "chiffon worker: %s\n", err);
		free(err);
		return EXIT_ENV;
	}
	if (worker_ncapabilities(st.w) == 0) {
		fprintf(stderr, "chiffon worker: no loaded plugin provides a "
		    "capability, so there is nothing to claim (`chiffon "
		    "plugins` lists what loaded and what was refused)\n");
		worker_free(st.w);
		return EXIT_ENV;
	}
	loop_signals_open(st.loop, &sigs, cmd_worker_signal, &st);
	worker_on_finish(st.w, cmd_worker_finished, &st);
	if (once) {
		worker_set_limit(st.w, 1);
		worker_on_idle(st.w, cmd_worker_idle, &st);
	}
	if (worker_start(st.w, &err) != 0) {
		fprintf(stderr, "chiffon worker: %s\n", err);
		free(err);
		status = EXIT_ENV;
	} else {
		loop_run(st.loop);
		if (once && worker_failures(st.w) > 0)
			status = EXIT_FAIL;
	}
	worker_free(st.w);
	loop_signals_close(st.loop, &sigs);
	return status;
}
