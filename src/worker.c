/*
 * worker.c - the worker loop: claim, run through the host, renew leases,
 * finish.  See worker.h; the database side is dispatch.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "agent.h"
#include "app.h"
#include "approve-hash.h"
#include "conf.h"
#include "db.h"
#include "dispatch.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"
#include "procfs.h"
#include "repochange.h"
#include "util.h"
#include "worker.h"

#define WORKER_WHO		"worker"
#define WORKER_BEAT_MIN_MS	200
#define WORKER_BEAT_MAX_MS	10000
/*
 * How long a canceled run may take to die: the infra plugin sends SIGINT,
 * SIGTERM 5 s later and SIGKILL 5 s after that (plugins/infra/run.h).
 */
#define WORKER_KILL_GRACE_MS	10000

/* One claimed task while it runs. */
struct worker_job {
	struct worker		*w;		/* NULL once orphaned */
	struct dispatch_claim	 c;
	struct chiffon_task	*task;		/* while the handler runs */
	int			 invoking;	/* inside host_invoke_task */
	int			 finished;	/* done already called */
	int			 lost;		/* claim taken away */
	int			 releasing;	/* given back (stopping) */
	int			 fenced;	/* stopped: renewals failed */
	uint64_t		 renewed_at;	/* now_ms() before the last
						   renewal that worked */
	char			*end_status;	/* ended, not yet recorded */
	char			*end_result;
	TAILQ_ENTRY(worker_job)	 entry;
};
TAILQ_HEAD(worker_jobs, worker_job);

/* A worker: its identity, settings, loop registrations and jobs. */
struct worker {
	struct app		*app;
	struct db		*db;
	struct loop		*loop;
	char			*name;
	char			**caps;
	size_t			 ncaps;
	struct dispatch_params	 dp;
	int			 capacity;
	uint64_t		 poll_ms;
	uint64_t		 beat_ms;
	uint64_t		 fence_ms;	/* stop a run not renewed for */

	int			 limit;		/* claims allowed; 0: any */
	int			 claimed;
	unsigned		 failures;
	int			 started;
	int			 stopping;
	int			 in_tick;
	uint64_t		 claim_at;	/* now_ms() before the claim */

	int			 poll_id;
	int			 beat_id;
	int			 kick_id;

	worker_finish_fn	 finish_cb;
	void			*finish_data;
	worker_idle_fn		 idle_cb;
	void			*idle_data;

	struct worker_jobs	 jobs;
	unsigned		 njobs;

	char			*metrics;	/* worker_set_metrics, or NULL */
};

static void	worker_tick(struct worker *);

/* -- settings ------------------------------------------------------------ */

const char *
worker_agent_id(void)
{
	static char	 id[300];
	char		 host[256];

	if (id[0] != '\0')
		return id;
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(id, sizeof id, "%s:%ld:%lld", host, (long)getpid(),
	    (long long)time(NULL));
	return id;
}

char *
worker_default_name(const struct conf *conf)
{
	const char	*v = conf_get(conf, "dispatch.worker_name");

	if (v != NULL && *v != '\0')
		return xstrdup(v);
	return xstrdup(worker_agent_id());
}

static double
worker_duration(const struct conf *conf, const char *key, double def)
{
	if (conf_get(conf, key) == NULL)
		return def;
	return conf_get_duration(conf, key);
}

struct worker *
worker_new(struct app *app, const char *name, char **errp)
{
	const struct plugins_capability	*cap;
	struct plugins			*ps;
	struct worker			*w;
	struct db			*db;
	size_t				 i, n;
	double				 lease;

	if ((db = app_db(app, errp)) == NULL)
		return NULL;
	ps = app_plugins(app);
	w = xcalloc(1, sizeof *w);
	TAILQ_INIT(&w->jobs);
	w->app = app;
	w->db = db;
	w->loop = app_loop(app);
	w->name = name != NULL ? xstrdup(name) :
	    worker_default_name(app->conf);
	n = ps != NULL ? plugins_ncapabilities(ps) : 0;
	w->caps = xcalloc(n + 1, sizeof *w->caps);
	for (i = 0; i < n; i++) {
		cap = plugins_capability_at(ps, i);
		w->caps[w->ncaps++] = xstrdup(cap->name);
	}
	w->capacity = (int)conf_get_int(app->conf, "dispatch.capacity");
	if (w->capacity < 1)
		w->capacity = 1;
	lease = worker_duration(app->conf, "dispatch.lease", 60);
	w->poll_ms = (uint64_t)(worker_duration(app->conf, "dispatch.poll",
	    2) * 1000);
	w->beat_ms = (uint64_t)(lease * 1000 / 3);
	if (w->beat_ms < WORKER_BEAT_MIN_MS)
		w->beat_ms = WORKER_BEAT_MIN_MS;
	if (w->beat_ms > WORKER_BEAT_MAX_MS)
		w->beat_ms = WORKER_BEAT_MAX_MS;
	/*
	 * Fencing: a run whose lease was not renewed for fence_ms is stopped;
	 * noticed within a beat and dead within the kill grace, it is gone
	 * before the lease (counted from before that renewal) runs out.
	 */
	if (lease * 1000 > WORKER_KILL_GRACE_MS + 2.5 * (double)w->beat_ms)
		w->fence_ms = (uint64_t)(lease * 1000) - WORKER_KILL_GRACE_MS -
		    w->beat_ms;
	else {
		w->fence_ms = 3 * w->beat_ms / 2;
		log_msg(CHIFFON_LOG_WARNING, WORKER_WHO, "dispatch.lease %.0f s "
		    "is too short to stop a run before its lease can be taken "
		    "over (it needs more than %.0f s)", lease,
		    (WORKER_KILL_GRACE_MS + 2.5 * (double)w->beat_ms) / 1000);
	}
	w->dp.agent = w->name;
	w->dp.caps = (const char *const *)w->caps;
	w->dp.ncaps = w->ncaps;
	w->dp.lease_s = lease;
	w->dp.backoff_s = worker_duration(app->conf, "dispatch.retry_backoff",
	    10);
	w->dp.agent_timeout_s = worker_duration(app->conf,
	    "dispatch.agent_timeout", 30);
	w->dp.grace_s = 2.0 * (double)w->poll_ms / 1000;
	w->dp.min_capacity_percent = (int)conf_get_int(app->conf,
	    "dispatch.min_capacity_percent");
	w->dp.audit_repo = conf_get(app->conf, "audit.repo");
	w->dp.scope = approve_scope_conf(app->conf);
	return w;
}

void
worker_set_owned_only(struct worker *w, int on)
{
	w->dp.owned_only = on != 0;
}

void
worker_set_limit(struct worker *w, int n)
{
	w->limit = n > 0 ? n : 0;
}

void
worker_on_finish(struct worker *w, worker_finish_fn cb, void *data)
{
	w->finish_cb = cb;
	w->finish_data = data;
}

void
worker_on_idle(struct worker *w, worker_idle_fn cb, void *data)
{
	w->idle_cb = cb;
	w->idle_data = data;
}

const char *
worker_name(const struct worker *w)
{
	return w->name;
}

unsigned
worker_running(const struct worker *w)
{
	return w->njobs;
}

unsigned
worker_failures(const struct worker *w)
{
	return w->failures;
}

unsigned
worker_ncapabilities(const struct worker *w)
{
	return (unsigned)w->ncaps;
}

/* -- resource metrics ---------------------------------------------------- */

char *
worker_metrics(void)
{
	struct json_object	*o = json_object_new_object();
	double			 load[1];
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	long long		 total = -1, avail = -1;
	char			 line[256], *out, *path;
	FILE			*f;

	if (ncpu < 1)
		ncpu = 1;
	json_object_object_add(o, "cpu", json_object_new_int64(ncpu));
	if (getloadavg(load, 1) == 1) {
		json_object_object_add(o, "load1",
		    json_object_new_double(load[0]));
		json_object_object_add(o, "cpu_free", json_object_new_double(
		    load[0] < (double)ncpu ? (double)ncpu - load[0] : 0));
	}
	path = procfs_path("/proc/meminfo");
	f = fopen(path, "r");
	free(path);
	if (f != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "MemTotal: %lld kB", &total) == 1)
				continue;
			sscanf(line, "MemAvailable: %lld kB", &avail);
		}
		fclose(f);
	}
	if (total > 0)
		json_object_object_add(o, "mem_mb",
		    json_object_new_int64(total / 1024));
	if (avail >= 0)
		json_object_object_add(o, "mem_mb_free",
		    json_object_new_int64(avail / 1024));
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

char *
worker_metrics_json(const struct worker *w)
{
	return w->metrics != NULL ? xstrdup(w->metrics) : worker_metrics();
}

void
worker_set_metrics(struct worker *w, const char *json)
{
	free(w->metrics);
	w->metrics = json != NULL ? xstrdup(json) : NULL;
}

/* -- jobs ---------------------------------------------------------------- */

static void
worker_job_free(struct worker_job *job)
{
	dispatch_claim_free(&job->c);
	free(job->end_status);
	free(job->end_result);
	free(job);
}

static int
worker_kick_cb(void *data)
{
	struct worker	*w = data;

	w->kick_id = 0;
	worker_tick(w);
	return 1;
}

/* Run a tick soon, from the loop rather than from inside a callback. */
static void
worker_kick(struct worker *w)
{
	if (w->kick_id == 0 && !w->stopping && w->started)
		w->kick_id = loop_add_timer(w->loop, 1, worker_kick_cb, w,
		    NULL, NULL);
}

static PGconn *
worker_pg(struct worker *w)
{
	PGconn	*pg = db_pg(w->db);

	return pg != NULL && PQstatus(pg) == CONNECTION_OK ? pg : NULL;
}

/*
 * Record how a job ended: 1 when done with it (recorded, or not ours to
 * record), 0 when the database is away (kept, retried at each beat).
 */
static int
worker_record(struct worker *w, struct worker_job *job)
{
	enum dispatch_outcome	 outcome;
	const char		*final = NULL;
	char			*err = NULL;
	PGconn			*pg;

	if (job->lost || job->releasing) {
		log_msg(CHIFFON_LOG_INFO, WORKER_WHO, "%s: task %lld ended %s "
		    "after it was %s; result not recorded", w->name,
		    job->c.task_id, job->end_status, job->lost ? "taken away" :
		    "given back");
		return 1;
	}
	if ((pg = worker_pg(w)) == NULL ||
	    dispatch_finish(pg, &w->dp, &job->c, job->end_status,
	    job->end_result, &outcome, &final, &err) != 0) {
		if ((pg = worker_pg(w)) != NULL) {
			/* The database answered and refused: not retried. */
			log_msg(CHIFFON_LOG_ERROR, WORKER_WHO, "%s: task %lld "
			    "ended %s but could not be recorded: %s", w->name,
			    job->c.task_id, job->end_status, err);
			free(err);
			return 1;
		}
		log_msg(CHIFFON_LOG_WARNING, WORKER_WHO, "%s: task %lld ended "
		    "%s; recorded once the database is back (%s)", w->name,
		    job->c.task_id, job->end_status,
		    err != NULL ? err : "disconnected");
		free(err);
		return 0;
	}
	if (outcome == DISPATCH_FINISHED && strcmp(final, "succeeded") != 0)
		w->failures++;
	if (w->finish_cb != NULL && outcome != DISPATCH_LOST)
		w->finish_cb(w, job->c.task_id, job->c.attempt,
		    outcome == DISPATCH_FINISHED ? final : "requeued",
		    w->finish_data);
	return 1;
}

/* Done with a job that ended: off the list, freed unless still invoking. */
static void
worker_job_end(struct worker *w, struct worker_job *job)
{
	TAILQ_REMOVE(&w->jobs, job, entry);
	w->njobs--;
	if (!job->invoking)
		worker_job_free(job);
	worker_kick(w);
}

/* The capability finished the task (possibly inside host_invoke_task). */
static void
worker_done(const char *status, const char *result_json, void *data)
{
	struct worker_job	*job = data;
	struct worker		*w = job->w;
	char			*cstatus = NULL, *cresult = NULL;
	PGconn			*pg;

	job->finished = 1;
	job->task = NULL;
	if (w == NULL) {
		if (!job->invoking)
			worker_job_free(job);
		return;
	}
	/* Files the capability wrote into the repository: committed first. */
	if (!job->lost && !job->releasing && !job->fenced &&
	    (pg = worker_pg(w)) != NULL && repochange_commit(pg,
	    job->c.task_id, status, result_json, &cstatus, &cresult) == 1) {
		status = cstatus;
		result_json = cresult;
	}
	/* A run this worker stopped itself (fenced) was interrupted. */
	job->end_status = xstrdup(job->fenced ? "interrupted" : status);
	job->end_result = result_json != NULL ? xstrdup(result_json) : NULL;
	free(cstatus);
	free(cresult);
	if (worker_record(w, job))
		worker_job_end(w, job);
}

/* Is job still on w's list (ended, its end not yet recorded)? */
static int
worker_job_pending(struct worker *w, struct worker_job *job)
{
	struct worker_job	*j;

	TAILQ_FOREACH(j, &w->jobs, entry) {
		if (j == job)
			return 1;
	}
	return 0;
}

/* Start the handler for a fresh claim (takes c over). */
static void
worker_launch(struct worker *w, struct dispatch_claim *c)
{
	struct worker_job	*job;
	struct chiffon_task	*t = NULL;
	struct json_object	*o;
	char			 tid[32], *err = NULL;
	int			 rc;

	job = xcalloc(1, sizeof *job);
	job->w = w;
	job->c = *c;
	job->renewed_at = w->claim_at;
	memset(c, 0, sizeof *c);
	TAILQ_INSERT_TAIL(&w->jobs, job, entry);
	w->njobs++;
	snprintf(tid, sizeof tid, "%lld", job->c.task_id);
	log_msg(CHIFFON_LOG_INFO, WORKER_WHO, "%s: running task %s (%s, "
	    "attempt %d of %d)", w->name, tid, job->c.capability,
	    job->c.attempt, job->c.max_attempts);
	job->invoking = 1;
	rc = host_invoke_task(w->app, tid, job->c.capability,
	    job->c.params_json, worker_done, job, &t, &err);
	job->invoking = 0;
	if (rc != 0) {
		/* No handler was called: fail it here (frees job). */
		o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(err));
		worker_done("failed", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN), job);
		json_object_put(o);
		free(err);
		return;
	}
	if (job->finished) {
		if (job->end_status == NULL || job->w == NULL ||
		    !worker_job_pending(w, job))
			worker_job_free(job);
		return;
	}
	job->task = t;
}

/* -- LISTEN, timers ------------------------------------------------------ */

/* NOTIFY chiffon_work on the live connection (db_listen). */
static void
worker_notified(const char *channel, const char *extra, void *data)
{
	(void)channel;
	(void)extra;
	worker_kick(data);
}

static void
worker_warn(struct worker *w, const char *what, char *err)
{
	log_msg(CHIFFON_LOG_WARNING, WORKER_WHO, "%s: %s: %s", w->name, what,
	    err != NULL ? err : "unknown error");
	free(err);
}

/* Mark agents that went silent offline (whoever notices first). */
static void
worker_sweep(struct worker *w, PGconn *pg)
{
	char	*err = NULL;
	int	 n;

	if ((n = agent_sweep(pg, &err)) < 0)
		worker_warn(w, "marking silent agents offline failed", err);
	else if (n > 0)
		log_msg(CHIFFON_LOG_INFO, WORKER_WHO, "%s: %d silent agent%s "
		    "marked offline", w->name, n, n == 1 ? "" : "s");
}

/* Recover, pause/resume, claim up to capacity. */
static void
worker_tick(struct worker *w)
{
	struct dispatch_claim	 c;
	PGconn			*pg;
	char			*err = NULL;
	int			 rc = 0;

	if (w->stopping || !w->started || w->in_tick)
		return;
	if ((pg = worker_pg(w)) == NULL)
		return;
	w->in_tick = 1;
	if (dispatch_recover(pg, &w->dp, &err) < 0) {
		worker_warn(w, "recovering expired leases failed", err);
		err = NULL;
	}
	worker_sweep(w, pg);
	if (dispatch_check_resources(pg, &w->dp, NULL, NULL, &err) != 0) {
		worker_warn(w, "checking resources failed", err);
		err = NULL;
	}
	while (!w->stopping && w->njobs < (unsigned)w->capacity &&
	    (w->limit == 0 || w->claimed < w->limit)) {
		w->claim_at = now_ms();
		rc = dispatch_claim(pg, &w->dp, &c, &err);
		if (rc < 0) {
			worker_warn(w, "claiming failed", err);
			err = NULL;
		}
		if (rc <= 0)
			break;
		w->claimed++;
		worker_launch(w, &c);
	}
	w->in_tick = 0;
	/* Idle: nothing runs, and nothing was found or the limit is hit. */
	if (w->njobs == 0 && w->idle_cb != NULL && rc == 0)
		w->idle_cb(w, w->idle_data);
}

static int
worker_poll_cb(void *data)
{
	worker_tick(data);
	return 0;
}

/*
 * Fencing: stop every run whose lease was not renewed for fence_ms (the
 * database is away, or this process was stopped), before the lease can
 * be taken over.
 */
static void
worker_fence(struct worker *w)
{
	struct worker_job	*job;
	uint64_t		 now = now_ms();

	TAILQ_FOREACH(job, &w->jobs, entry) {
		if (job->lost || job->releasing || job->fenced ||
		    job->end_status != NULL || now - job->renewed_at <
		    w->fence_ms)
			continue;
		log_msg(CHIFFON_LOG_WARNING, WORKER_WHO, "%s: task %lld: its "
		    "lease was not renewed for %.1f s; stopping its run before "
		    "the lease can be taken over", w->name, job->c.task_id,
		    (double)(now - job->renewed_at) / 1000);
		job->fenced = 1;
		if (job->task != NULL)
			host_cancel(job->task);
	}
}

/* Heartbeat: renew leases, stop lost tasks, refresh the agent row. */
static int
worker_beat_cb(void *data)
{
	struct worker		*w = data;
	struct worker_job	*job, *next;
	long long		*ids, *toks, *kept = NULL;
	char			*err = NULL, *metrics;
	size_t			 n = 0, i;
	int			 nkept, found;
	uint64_t		 t0 = now_ms();
	PGconn			*pg;

	if (w->stopping)
		return 0;
	worker_fence(w);
	if ((pg = worker_pg(w)) == NULL)
		return 0;
	/* Ends that could not be recorded while the database was away. */
	for (job = TAILQ_FIRST(&w->jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->end_status != NULL && worker_record(w, job))
			worker_job_end(w, job);
	}
	ids = xcalloc(w->njobs + 1, sizeof *ids);
	toks = xcalloc(w->njobs + 1, sizeof *toks);
	TAILQ_FOREACH(job, &w->jobs, entry) {
		if (!job->lost && !job->releasing && !job->fenced) {
			ids[n] = job->c.task_id;
			toks[n++] = job->c.token;
		}
	}
	nkept = dispatch_renew(pg, &w->dp, ids, toks, n, &kept, &err);
	if (nkept < 0)
		worker_warn(w, "renewing leases failed", err);
	else {
		for (job = TAILQ_FIRST(&w->jobs); job != NULL; job = next) {
			next = TAILQ_NEXT(job, entry);
			if (job->lost || job->releasing || job->fenced)
				continue;
			for (found = 0, i = 0; i < (size_t)nkept; i++)
				found |= kept[i] == job->c.task_id;
			if (found) {
				job->renewed_at = t0;
				continue;
			}
			if (job->end_status != NULL)
				continue;
			log_msg(CHIFFON_LOG_INFO, WORKER_WHO, "%s: task %lld "
			    "was paused, canceled or taken over; stopping it",
			    w->name, job->c.task_id);
			job->lost = 1;
			if (job->task != NULL)
				host_cancel(job->task);
		}
	}
	free(kept);
	free(ids);
	free(toks);
	err = NULL;
	metrics = worker_metrics_json(w);
	if (dispatch_heartbeat(pg, &w->dp, w->capacity, (int)w->njobs,
	    metrics, 0, &err) != 0)
		worker_warn(w, "heartbeat failed", err);
	free(metrics);
	return 0;
}

int
worker_register(struct worker *w, char **errp)
{
	PGconn	*pg;
	char	*metrics;
	int	 rc;

	if ((pg = worker_pg(w)) == NULL)
		return set_error(errp, "the database is not connected");
	metrics = worker_metrics_json(w);
	rc = dispatch_heartbeat(pg, &w->dp, w->capacity, (int)w->njobs,
	    metrics, 1, errp);
	free(metrics);
	return rc;
}

void
worker_set_report_only(struct worker *w)
{
	w->dp.report_only = 1;
}

int
worker_start(struct worker *w, char **errp)
{
	if (w->started)
		return 0;
	if (worker_register(w, errp) != 0)
		return -1;
	/* The db module LISTENs again on every new connection. */
	if (db_listen(w->db, "chiffon_work", worker_notified, w, errp) != 0) {
		db_unlisten(w->db, w);
		return -1;
	}
	w->poll_id = loop_add_timer(w->loop, w->poll_ms, worker_poll_cb, w,
	    NULL, NULL);
	w->beat_id = loop_add_timer(w->loop, w->beat_ms, worker_beat_cb, w,
	    NULL, NULL);
	w->started = 1;
	log_msg(CHIFFON_LOG_INFO, WORKER_WHO, "%s: serving %zu "
	    "capabilities, capacity %d", w->name, w->ncaps, w->capacity);
	worker_tick(w);
	return 0;
}

void
worker_stop(struct worker *w)
{
	struct worker_job	*job, *next;
	char			*err = NULL;
	PGconn			*pg;

	if (w->stopping)
		return;
	w->stopping = 1;
	if (w->poll_id > 0)
		loop_remove(w->loop, w->poll_id);
	if (w->beat_id > 0)
		loop_remove(w->loop, w->beat_id);
	if (w->kick_id > 0)
		loop_remove(w->loop, w->kick_id);
	if (w->started)
		db_unlisten(w->db, w);
	w->poll_id = w->beat_id = w->kick_id = 0;
	pg = worker_pg(w);
	TAILQ_FOREACH(job, &w->jobs, entry) {
		if (job->lost || job->end_status != NULL)
			continue;	/* ended ones: their lease expires */
		job->releasing = 1;
		if (pg != NULL && dispatch_release(pg, &w->dp, &job->c,
		    "worker stopped", &err) != 0) {
			worker_warn(w, "giving a task back failed", err);
			err = NULL;
		}
	}
	for (job = TAILQ_FIRST(&w->jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->task != NULL)
			host_cancel(job->task);
	}
	if (w->started && pg != NULL &&
	    dispatch_agent_offline(pg, w->name, &err) != 0)
		worker_warn(w, "marking the agent offline failed", err);
}

void
worker_interrupt(struct worker *w)
{
	struct worker_job	*job;

	/* Their tasks were marked interrupted: nothing is given back. */
	TAILQ_FOREACH(job, &w->jobs, entry)
		job->lost = 1;
	worker_stop(w);
}

int
worker_sweep_orphans(struct worker *w, char **errp)
{
	long long	*rows;
	PGconn		*pg;
	int		 i, n, nt, total = 0;

	if ((pg = worker_pg(w)) == NULL)
		return set_error(errp, "the database is not connected");
	if ((n = dispatch_orphaned_plans(pg, &w->dp, &rows, errp)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (dispatch_interrupt_plan(pg, rows[i], "interrupted: the "
		    "process that approved and ran it is gone", &nt,
		    errp) != 0) {
			free(rows);
			return -1;
		}
		total += nt;
	}
	free(rows);
	return total;
}

void
worker_free(struct worker *w)
{
	struct worker_job	*job;
	size_t			 i;

	if (w == NULL)
		return;
	worker_stop(w);
	/* Tasks still running finish into nothing (freed then). */
	while ((job = TAILQ_FIRST(&w->jobs)) != NULL) {
		TAILQ_REMOVE(&w->jobs, job, entry);
		job->w = NULL;
		if (job->finished && !job->invoking)
			worker_job_free(job);	/* its end was not recorded */
	}
	for (i = 0; i < w->ncaps; i++)
		free(w->caps[i]);
	free(w->caps);
	free(w->metrics);
	free(w->name);
	free(w);
}
