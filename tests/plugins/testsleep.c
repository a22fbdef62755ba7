/*
 * testsleep.c - the work test plugin ("testsleep") for the dispatch
 * suite.  Capability "test.sleep" waits on a loop timer, then finishes.
 * Its parameters are those the worker builds from a tasks row; the
 * behaviour comes from extra_vars:
 *   ms           how long to sleep (default 50)
 *   status       "successful" (default), "failed", "timeout"
 *   unreachable  true: fail as an unreachable host (a retryable failure)
 *   log          file that gets "start TASK ATTEMPT PID" when the task
 *                starts and "done TASK ATTEMPT PID" when it finishes
 * A canceled task finishes "canceled" at once.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chiffon/plugin.h"

static const struct chiffon_host	*sleep_host;
static struct chiffon_plugin		*sleep_plugin;

/* One sleeping task. */
struct sleep_job {
	struct chiffon_task	*task;
	int			 timer;
	long long		 task_id;
	int			 attempt;
	int			 ms;
	int			 unreachable;
	char			 status[32];
	char			*log;
};

static void
sleep_job_free(void *data)
{
	struct sleep_job	*job = data;

	free(job->log);
	free(job);
}

static void
sleep_note(struct sleep_job *job, const char *what)
{
	char	line[128];
	int	fd, n;

	if (job->log == NULL)
		return;
	n = snprintf(line, sizeof line, "%s %lld %d %ld\n", what, job->task_id,
	    job->attempt, (long)getpid());
	fd = open(job->log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd == -1)
		return;
	if (write(fd, line, (size_t)n) != n)
		fprintf(stderr, "testsleep: cannot write %s\n", job->log);
	close(fd);
}

static int
sleep_fire(void *data)
{
	struct sleep_job	*job = data;
	char			 buf[256];

	sleep_note(job, "done");
	sleep_host->task_on_cancel(job->task, NULL, NULL);
	if (job->unreachable)
		sleep_host->task_finish(job->task, "failed", "{\"hosts\":"
		    "{\"h1\":{\"ok\":0,\"failed\":0,\"unreachable\":1}},"
		    "\"error\":\"h1: host unreachable\"}");
	else {
		snprintf(buf, sizeof buf, "{\"slept_ms\":%d,\"pid\":%ld,"
		    "\"usage\":{\"wall_s\":%.3f,\"maxrss_kb\":1234}%s}",
		    job->ms, (long)getpid(), job->ms / 1000.0,
		    strcmp(job->status, "successful") != 0 ?
		    ",\"error\":\"the test asked to fail\"" : "");
		sleep_host->task_finish(job->task, job->status, buf);
	}
	return 1;	/* one shot: the host frees job */
}

static void
sleep_cancel(struct chiffon_task *t, void *data)
{
	struct sleep_job	*job = data;

	sleep_host->task_on_cancel(t, NULL, NULL);
	sleep_host->task_finish(t, "canceled", "{\"canceled\":true}");
	sleep_host->remove(sleep_plugin, job->timer);	/* frees job */
}

static int
sleep_handler(struct chiffon_task *t, void *data)
{
	struct chiffon_user_data	 ud = { NULL, sleep_job_free };
	struct sleep_job		*job;
	json_object			*params, *ev, *v;

	(void)data;
	job = calloc(1, sizeof *job);
	if (job == NULL)
		return -1;
	job->task = t;
	job->ms = 50;
	strcpy(job->status, "successful");
	params = json_tokener_parse(sleep_host->task_params(t));
	if (json_object_object_get_ex(params, "task_id", &v))
		job->task_id = json_object_get_int64(v);
	if (json_object_object_get_ex(params, "attempt", &v))
		job->attempt = json_object_get_int(v);
	if (json_object_object_get_ex(params, "extra_vars", &ev)) {
		if (json_object_object_get_ex(ev, "ms", &v))
			job->ms = json_object_get_int(v);
		if (json_object_object_get_ex(ev, "status", &v))
			snprintf(job->status, sizeof job->status, "%s",
			    json_object_get_string(v));
		if (json_object_object_get_ex(ev, "unreachable", &v))
			job->unreachable = json_object_get_boolean(v);
		if (json_object_object_get_ex(ev, "log", &v))
			job->log = strdup(json_object_get_string(v));
	}
	json_object_put(params);
	sleep_note(job, "start");
	ud.data = job;
	job->timer = sleep_host->add_timer(sleep_plugin,
	    (uint64_t)(job->ms > 0 ? job->ms : 1), sleep_fire, &ud);
	if (job->timer <= 0) {
		sleep_job_free(job);
		sleep_host->task_finish(t, "failed", "{\"error\":\"no timer\"}");
		return -1;
	}
	sleep_host->task_on_cancel(t, sleep_cancel, job);
	return 0;
}

static int
sleep_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, NULL };

	sleep_host = host;
	sleep_plugin = p;
	return host->register_capability(p, "test.sleep", sleep_handler, &ud);
}

static void
sleep_end(struct chiffon_plugin *p)
{
	(void)p;
}

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.name = "testsleep",
	.version = "1.0",
	.description = "test.sleep: sleeps on a timer, for the dispatch tests",
	.init = sleep_init,
	.end = sleep_end,
};
