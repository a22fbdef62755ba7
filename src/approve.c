/*
 * approve.c - the approval gate (see approve.h).
 *
 * Each decision is one transaction: lock the plans row, then one call of
 * chiffon_approve (schema/005_gate.sql) writes the approvals row with its
 * content hashes, moves the plan and its tasks and appends the audit row.
 * The triggers check every step again, so a refusal here is the
 * database's own message.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "approve.h"
#include "approve-hash.h"
#include "audit.h"
#include "db.h"
#include "dispatch.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plan.h"
#include "request.h"
#include "task.h"
#include "util.h"
#include "vocab.h"
#include "worker.h"

/* A check run of one playbook; ansible's own timeout applies too. */
#define APPROVE_DRY_TIMEOUT_S	3600

static const char approve_sql_lock[] =
	"SELECT plan_id, version, status, request_id, superseded_by, "
	"(SELECT count(*) FROM tasks t WHERE t.plan_id = p.id "
	"AND t.status = 'approved') FROM plans p WHERE id = $1 FOR UPDATE";
static const char approve_sql_decide[] =
	"SELECT chiffon_approve($1::bigint, $2, $3, $4, $5, $6::jsonb, $7, "
	"$8::jsonb)";

/* The plans row as locked for a decision. */
struct approve_row {
	long long	 plan_id;
	int		 version;
	char		 status[32];
	long long	 request_id;
	long long	 superseded_by;
	long long	 napproved;	/* tasks approved, not yet queued */
};

struct approve_who
approve_who_current(const struct conf *conf)
{
	struct approve_who	who = { audit_user(), audit_ssh_client(),
				    { NULL, NULL } };

	if (conf != NULL)
		who.scope = approve_scope_conf(conf);
	return who;
}

static int
approve_do(PGconn *pg, const char *sql, int n, const char *const *params,
    char **errp)
{
	PGresult	*res = db_exec(pg, sql, n, params, errp);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

static void
approve_rollback(PGconn *pg)
{
	PQclear(PQexec(pg, "ROLLBACK"));
}

/* BEGIN and lock plans row id.  0, or -1 with *errp (rolled back). */
static int
approve_lock(PGconn *pg, const char *id, struct approve_row *r,
    char **errp)
{
	PGresult	*res;
	const char	*params[1] = { id };

	if (approve_do(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	if ((res = db_exec(pg, approve_sql_lock, 1, params, errp)) ==
	    NULL) {
		approve_rollback(pg);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		approve_rollback(pg);
		return set_error(errp, "plan row %s does not exist", id);
	}
	r->plan_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	r->version = atoi(PQgetvalue(res, 0, 1));
	snprintf(r->status, sizeof r->status, "%s", PQgetvalue(res, 0, 2));
	r->request_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	r->superseded_by = PQgetisnull(res, 0, 4) ? 0 :
	    strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	r->napproved = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * Record decision ("approved" or "rejected", with reason) on the locked
 * plans row id, pending approval (or superseded, for the database to
 * refuse), then COMMIT.  chiffon_approve (schema 005, SECURITY DEFINER)
 * writes the approvals row with what it approves (approve-hash.h), the
 * plan's and its pending tasks' new status and the audit row (an approval
 * names the client it came from, a rejection its reason) in one call: the
 * only way an approval is made.  The approvals row id, or -1 with *errp
 * (rolled back).
 */
static long long
approve_decide(PGconn *pg, const char *id, const struct approve_row *r,
    const struct approve_who *who, const char *decision, const char *reason,
    char **errp)
{
	PGresult	*res;
	json_object	*data;
	const char	*params[8];
	char		*content = NULL, *actor, hash[65];
	long long	 approval;

	/*
	 * A superseded version goes on to the INSERT: the database refuses
	 * it and names the current version.
	 */
	if (strcmp(r->status, "pending_approval") != 0 &&
	    strcmp(r->status, "superseded") != 0) {
		approve_rollback(pg);
		return set_error(errp, "plan %lld version %d is %s: only a "
		    "plan pending approval can be %s", r->plan_id,
		    r->version, r->status, decision);
	}
	/* An approval records exactly what it approves (approve-hash.h). */
	if (strcmp(decision, "approved") == 0 && (content =
	    approve_hash_plan(pg, id, &who->scope, hash, errp)) == NULL)
		goto fail;
	data = json_object_new_object();
	if (reason != NULL)
		json_object_object_add(data, "reason",
		    json_object_new_string(reason));
	else if (who->ssh_client != NULL)
		json_object_object_add(data, "ssh_client",
		    json_object_new_string(who->ssh_client));
	if (content != NULL)
		json_object_object_add(data, "content_sha256",
		    json_object_new_string(hash));
	actor = who->ssh_client != NULL ? xasprintf("%s@%s", who->user,
	    who->ssh_client) : xstrdup(who->user);
	params[0] = id;
	params[1] = decision;
	params[2] = who->user;
	params[3] = who->ssh_client;
	params[4] = reason;
	params[5] = content;
	params[6] = actor;
	params[7] = json_object_to_json_string_ext(data,
	    JSON_C_TO_STRING_PLAIN);
	res = db_exec(pg, approve_sql_decide, 8, params, errp);
	json_object_put(data);
	free(actor);
	free(content);
	if (res == NULL)
		goto fail;
	approval = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (approve_do(pg, "COMMIT", 0, NULL, errp) != 0)
		goto fail;
	return approval;

fail:
	approve_rollback(pg);
	return -1;
}

long long
approve_plan(PGconn *pg, long long plan_row, const struct approve_who *who,
    int *nqueuedp, char **errp)
{
	struct approve_row	 r;
	char			 id[32];
	long long		 approval;

	if (nqueuedp != NULL)
		*nqueuedp = 0;
	snprintf(id, sizeof id, "%lld", plan_row);
	if (approve_lock(pg, id, &r, errp) != 0)
		return -1;
	if (strcmp(r.status, "approved") == 0 && r.napproved > 0) {
		/* Approved earlier but not queued: queue it now. */
		approve_rollback(pg);
		if (dispatch_enqueue(pg, plan_row, nqueuedp, errp) != 0)
			return -1;
		return 0;
	}
	if ((approval = approve_decide(pg, id, &r, who, "approved", NULL,
	    errp)) < 0)
		return -1;
	if (dispatch_enqueue(pg, plan_row, nqueuedp, errp) != 0)
		return -1;
	return approval;
}

long long
approve_reject(PGconn *pg, long long plan_row, const struct approve_who *who,
    const char *reason, char **errp)
{
	struct approve_row	 r;
	char			 id[32];

	if (reason == NULL || *reason == '\0')
		return set_error(errp, "a rejection needs a reason "
		    "(--reason TEXT)");
	snprintf(id, sizeof id, "%lld", plan_row);
	if (approve_lock(pg, id, &r, errp) != 0)
		return -1;
	return approve_decide(pg, id, &r, who, "rejected", reason, errp);
}

struct plan *
approve_modify(struct app *app, long long plan_row, const char *amended,
    tiers_ask_fn ask, void *ask_data, int *envp, char **errp)
{
	struct approve_who	 who = approve_who_current(app->conf);
	struct vocab		 v;
	struct plan		*old, *plan;
	enum request_error	 why;
	json_object		*data;
	struct audit_ids	 ids;
	struct db		*db;
	PGconn			*pg;
	char			*err = NULL, *s;

	*envp = 1;
	if ((db = app_db(app, errp)) == NULL)
		return NULL;
	pg = db_pg(db);
	if ((old = plan_load(pg, plan_row, errp)) == NULL)
		return NULL;
	if (strcmp(old->status, "pending_approval") != 0) {
		*envp = 0;
		set_error(errp, "plan %lld version %d is %s: only a plan "
		    "pending approval can be modified", old->plan_id,
		    old->version, old->status);
		plan_free(old);
		return NULL;
	}
	if (vocab_load(&v, app, errp) != 0) {
		vocab_free(&v);
		plan_free(old);
		return NULL;
	}
	plan = request_build(app, pg, old->request_id, amended, &v, ask,
	    ask_data, NULL, &why, errp);
	vocab_free(&v);
	if (plan == NULL) {
		*envp = why == REQUEST_ERR_ENV;
		plan_free(old);
		return NULL;
	}
	*envp = 0;
	if (!plan_runnable(plan)) {
		plan_free(old);
		return plan;
	}
	if (plan_store(pg, plan, who.user, amended, plan_row, errp) != 0) {
		plan_free(old);
		plan_free(plan);
		return NULL;
	}
	ids = (struct audit_ids){ .request_id = plan->request_id,
	    .plan_id = plan->plan_id };
	data = json_object_new_object();
	json_object_object_add(data, "from_version",
	    json_object_new_int(old->version));
	json_object_object_add(data, "from_row",
	    json_object_new_int64(old->row_id));
	json_object_object_add(data, "version",
	    json_object_new_int(plan->version));
	json_object_object_add(data, "row_id",
	    json_object_new_int64(plan->row_id));
	json_object_object_add(data, "amendment",
	    json_object_new_string(amended));
	s = plan_summary(plan);
	json_object_object_add(data, "summary", json_object_new_string(s));
	free(s);
	if (audit_record(pg, "plan.modified", NULL, &ids, plan->ntasks > 0 ?
	    plan->tasks[0].service : NULL, json_object_to_json_string_ext(
	    data, JSON_C_TO_STRING_PLAIN), &err) < 0) {
		/* The new version stands; the trail says what is missing. */
		set_error(errp, "plan %lld version %d stored, but its audit "
		    "row failed: %s", plan->plan_id, plan->version, err);
		free(err);
		json_object_put(data);
		plan_free(old);
		plan_free(plan);
		return NULL;
	}
	json_object_put(data);
	plan_free(old);
	return plan;
}

/* --- dry run ------------------------------------------------------------- */

/* One check run being waited for. */
struct approve_dry_wait {
	int		 done;
	char		*status;
	char		*result;
	runlog_sub_fn	 line;
	void		*line_data;
};

static void
approve_dry_done(const char *status, const char *result, void *data)
{
	struct approve_dry_wait	*w = data;

	w->status = xstrdup(status);
	w->result = xstrdup(result != NULL ? result : "{}");
	w->done = 1;
}

static void
approve_dry_on_run(struct runlog *rl, struct chiffon_task *t, void *data)
{
	struct approve_dry_wait	*w = data;

	if (w->line != NULL)
		runlog_subscribe(rl, w->line, w->line_data);
}

void
approve_count(const char *summary_json, long long *changedp,
    long long *failedp)
{
	json_object	*o, *hosts, *v;

	*changedp = *failedp = 0;
	if (summary_json == NULL ||
	    (o = json_tokener_parse(summary_json)) == NULL)
		return;
	if (json_object_object_get_ex(o, "hosts", &hosts) &&
	    json_object_is_type(hosts, json_type_object)) {
		json_object_object_foreach(hosts, host, counts) {
			(void)host;
			if (json_object_object_get_ex(counts, "changed", &v))
				*changedp += json_object_get_int64(v);
			if (json_object_object_get_ex(counts, "failed", &v))
				*failedp += json_object_get_int64(v);
			if (json_object_object_get_ex(counts, "unreachable",
			    &v))
				*failedp += json_object_get_int64(v);
		}
	}
	json_object_put(o);
}

/* The "ansible" parameters of a step in check mode.  Caller frees. */
static char *
approve_dry_params(const struct plan_task *t)
{
	json_object	*o = json_object_new_object();
	char		*s;

	json_object_object_add(o, "playbook",
	    json_object_new_string(t->playbook));
	if (t->service != NULL)
		json_object_object_add(o, "service",
		    json_object_new_string(t->service));
	if (t->limit != NULL)
		json_object_object_add(o, "limit",
		    json_object_new_string(t->limit));
	if (t->tags != NULL && json_object_array_length(t->tags) > 0)
		json_object_object_add(o, "tags", json_object_get(t->tags));
	if (t->skip_tags != NULL && json_object_array_length(t->skip_tags) > 0)
		json_object_object_add(o, "skip_tags",
		    json_object_get(t->skip_tags));
	if (t->extra_vars != NULL)
		json_object_object_add(o, "extra_vars",
		    json_object_get(t->extra_vars));
	json_object_object_add(o, "check", json_object_new_boolean(1));
	json_object_object_add(o, "timeout_s",
	    json_object_new_int(APPROVE_DRY_TIMEOUT_S));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* "plan.dry_run": what each step's check run said.  Best effort. */
static void
approve_dry_audit(struct app *app, const struct plan *plan,
    const struct approve_dry *dry)
{
	struct audit_ids	 ids = { .request_id = plan->request_id,
				    .plan_id = plan->plan_id };
	json_object		*data, *a, *o;
	struct db		*db;
	char			*err = NULL;
	size_t			 i;

	if (plan->row_id <= 0 || (db = app_db(app, &err)) == NULL) {
		free(err);
		return;
	}
	a = json_object_new_array();
	for (i = 0; i < plan->ntasks; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "step",
		    json_object_new_int(dry[i].step));
		json_object_object_add(o, "task_id",
		    json_object_new_int64(dry[i].task_id));
		json_object_object_add(o, "status",
		    json_object_new_string(dry[i].status));
		json_object_object_add(o, "changed",
		    json_object_new_int64(dry[i].changed));
		json_object_array_add(a, o);
	}
	data = json_object_new_object();
	json_object_object_add(data, "version",
	    json_object_new_int(plan->version));
	json_object_object_add(data, "steps", a);
	if (audit_record(db_pg(db), "plan.dry_run", NULL, &ids, NULL,
	    json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN),
	    &err) < 0)
		free(err);
	json_object_put(data);
}

int
approve_dry_run(struct app *app, const struct plan *plan, runlog_sub_fn line,
    void *line_data, struct approve_dry **dryp, char **errp)
{
	struct approve_dry	*dry;
	struct loop		*loop = app_loop(app);
	char			 id[32], *params;
	int			 nbad = 0, rc;
	size_t			 i;

	*dryp = dry = xcalloc(plan->ntasks + 1, sizeof *dry);
	for (i = 0; i < plan->ntasks; i++) {
		const struct plan_task	*t = &plan->tasks[i];
		struct approve_dry_wait	 w = { .line = line,
					    .line_data = line_data };

		dry[i].step = t->step;
		dry[i].task_id = t->id;
		if (t->playbook == NULL) {
			dry[i].status = xstrdup("failed");
			dry[i].result = xstrdup("{\"error\": \"no playbook\"}");
			nbad++;
			continue;
		}
		snprintf(id, sizeof id, "%lld", t->id);
		params = approve_dry_params(t);
		host_on_run(approve_dry_on_run, &w);
		/* A generate step's dry run is its preview (the diffs). */
		rc = host_invoke_task(app, t->id > 0 ? id : NULL,
		    strcmp(t->capability, "template.generate") == 0 ?
		    "template.preview" : "ansible", params, approve_dry_done,
		    &w, NULL, errp);
		free(params);
		if (rc != 0) {
			host_on_run(NULL, NULL);
			approve_dry_free(dry, plan->ntasks);
			*dryp = NULL;
			return -1;
		}
		while (!w.done)
			loop_run_once(loop, 100);
		host_on_run(NULL, NULL);
		dry[i].status = w.status;
		dry[i].result = w.result;
		approve_count(w.result, &dry[i].changed, &dry[i].failed);
		if (strcmp(w.status, "successful") != 0)
			nbad++;
	}
	approve_dry_audit(app, plan, dry);
	return nbad;
}

void
approve_dry_free(struct approve_dry *dry, size_t n)
{
	size_t	i;

	if (dry == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(dry[i].status);
		free(dry[i].result);
	}
	free(dry);
}

/* --- execution ------------------------------------------------------------ */

static const char approve_sql_progress[] =
	"SELECT id, status, coalesce(status_reason, '') FROM tasks "
	"WHERE plan_id = $1 ORDER BY step";
static const char approve_sql_cancel_rest[] =
	"UPDATE tasks SET status = 'canceled', status_reason = $2 "
	"WHERE plan_id = $1 AND status IN ('approved', 'queued', 'paused')";
static const char approve_sql_last_run[] =
	"SELECT summary FROM runs WHERE task_id = $1 AND status <> 'running' "
	"AND NOT coalesce((meta->>'check')::boolean, false) "
	"ORDER BY id DESC LIMIT 1";

/* How often the plan's tasks are looked at while it executes. */
#define APPROVE_POLL_MS		250

/* A plan being executed. */
struct approve_running {
	struct plan	*plan;
	struct loop	*loop;
	struct worker	*worker;
	runlog_sub_fn	 line;
	void		*line_data;
	int		 signaled;
	int		 ended;		/* a task of the worker ended */
};

/* Look at the tasks as soon as one ended, not at the next poll. */
static void
approve_exec_finished(struct worker *w, long long task_id, int attempt,
    const char *status, void *data)
{
	struct approve_running	*x = data;

	(void)w;
	(void)task_id;
	(void)attempt;
	(void)status;
	x->ended = 1;
}

static void
approve_exec_on_run(struct runlog *rl, struct chiffon_task *t, void *data)
{
	struct approve_running	*x = data;
	const char		*id = task_id(t);
	size_t			 i;

	if (x->line == NULL || id == NULL)
		return;
	for (i = 0; i < x->plan->ntasks; i++) {
		if (x->plan->tasks[i].id == strtoll(id, NULL, 10)) {
			runlog_subscribe(rl, x->line, x->line_data);
			return;
		}
	}
}

static int
approve_exec_signal(int fd, int revents, void *data)
{
	struct approve_running		*x = data;
	struct signalfd_siginfo		 si;

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
		x->signaled = (int)si.ssi_signo;
	return 0;
}

/*
 * Look at the plan's tasks: report changes, count the unfinished and the
 * unsuccessful.  0, or -1 with *errp.
 */
static int
approve_exec_progress(PGconn *pg, struct plan *plan, approve_step_fn step,
    void *step_data, int *openp, int *badp, char **errp)
{
	PGresult	*res;
	const char	*params[1];
	char		 id[32];
	int		 i, n;
	size_t		 k;

	snprintf(id, sizeof id, "%lld", plan->row_id);
	params[0] = id;
	if ((res = db_exec(pg, approve_sql_progress, 1, params, errp)) ==
	    NULL)
		return -1;
	*openp = *badp = 0;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		long long	 tid = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		const char	*st = PQgetvalue(res, i, 1);

		if (strcmp(st, "succeeded") != 0)
			(*badp)++;
		if (!dispatch_task_final(st))
			(*openp)++;
		for (k = 0; k < plan->ntasks; k++) {
			struct plan_task *t = &plan->tasks[k];

			if (t->id != tid || (t->status != NULL &&
			    strcmp(t->status, st) == 0))
				continue;
			free(t->status);
			t->status = xstrdup(st);
			if (step != NULL)
				step(plan, k, st, PQgetvalue(res, i, 2),
				    step_data);
		}
	}
	PQclear(res);
	return 0;
}

int
approve_execute(struct app *app, struct plan *plan, runlog_sub_fn line,
    void *line_data, approve_step_fn step, void *step_data, char **errp)
{
	struct approve_running	 x = { .plan = plan, .line = line,
				    .line_data = line_data };
	struct db		*db;
	PGconn			*pg;
	sigset_t		 set, old;
	const char		*params[2];
	char			 id[32], *err = NULL;
	int			 sigfd, sigid = 0, open = 1, bad = 0, rc = 0;
	uint64_t		 last = 0;

	if ((db = app_db(app, errp)) == NULL)
		return -1;
	x.loop = app_loop(app);
	/* The loop reconnects: the run rides out a database restart. */
	db_attach_loop(db, x.loop);
	if ((x.worker = worker_new(app, NULL, errp)) == NULL)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd != -1)
		sigid = loop_watch_fd(x.loop, sigfd, CHIFFON_FD_READ,
		    approve_exec_signal, &x, NULL, NULL);
	worker_on_finish(x.worker, approve_exec_finished, &x);
	host_on_run(approve_exec_on_run, &x);
	if (worker_start(x.worker, errp) != 0) {
		rc = -1;
		goto out;
	}
	while (!x.signaled) {
		pg = db_pg(db);
		if ((x.ended || now_ms() - last >= APPROVE_POLL_MS) &&
		    PQstatus(pg) == CONNECTION_OK) {
			last = now_ms();
			x.ended = 0;
			if (approve_exec_progress(pg, plan, step, step_data,
			    &open, &bad, &err) != 0) {
				if (PQstatus(db_pg(db)) == CONNECTION_OK) {
					/* Answered, and refused: give up. */
					*errp = err;
					rc = -1;
					goto out;
				}
				/* Lost: the loop reconnects; wait for it. */
				log_warn("%s; waiting for the database", err);
				free(err);
				err = NULL;
			} else if (open == 0)
				break;
		}
		loop_run_once(x.loop, APPROVE_POLL_MS);
	}
	pg = db_pg(db);
	if (x.signaled) {
		/* Stop ours, then cancel whatever of the plan is left. */
		worker_stop(x.worker);
		snprintf(id, sizeof id, "%lld", plan->row_id);
		params[0] = id;
		params[1] = x.signaled == SIGINT ? "interrupted (SIGINT)" :
		    "interrupted (SIGTERM)";
		if (approve_do(pg, approve_sql_cancel_rest, 2, params,
		    &err) != 0) {
			free(err);
			err = NULL;
		}
		if (approve_exec_progress(pg, plan, step, step_data, &open,
		    &bad, &err) != 0)
			free(err);
	} else
		worker_stop(x.worker);
	rc = bad;

out:
	host_on_run(NULL, NULL);
	worker_free(x.worker);
	if (sigid > 0)
		loop_remove(x.loop, sigid);
	if (sigfd != -1)
		close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

char *
approve_task_summary(PGconn *pg, long long task_id)
{
	PGresult	*res;
	const char	*params[1];
	char		 id[32], *s = NULL;

	snprintf(id, sizeof id, "%lld", task_id);
	params[0] = id;
	res = db_exec(pg, approve_sql_last_run, 1, params, NULL);
	if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		s = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return s;
}
