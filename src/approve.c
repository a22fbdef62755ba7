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

#include "chiffon/capabilities.h"
#include "app.h"
#include "approve.h"
#include "approve-hash.h"
#include "audit.h"
#include "db.h"
#include "dispatch.h"
#include "run-summary.h"
#include "exec.h"
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

/* BEGIN and lock plans row id.  0, or -1 with *errp (rolled back). */
static int
approve_lock(PGconn *pg, const char *id, struct approve_row *r,
    char **errp)
{
	PGresult	*res;
	const char	*params[1] = { id };

	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	if ((res = db_exec(pg, approve_sql_lock, 1, params, errp)) ==
	    NULL) {
		db_rollback(pg);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(pg);
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
		db_rollback(pg);
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
	if (db_run(pg, "COMMIT", 0, NULL, errp) != 0)
		goto fail;
	return approval;

fail:
	db_rollback(pg);
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
		db_rollback(pg);
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

/* A modification being planned: what approve_modify_built needs. */
struct approve_modify_job {
	struct app		*data_app;
	struct plan		*old;
	char			*amended;
	approve_modify_fn	 done;
	void			*data;
};

static void
approve_modify_job_free(void *data)
{
	struct approve_modify_job	*m = data;

	plan_free(m->old);
	free(m->amended);
	free(m);
}

/*
 * Store a runnable new version (plan.modified).  Returns plan, or NULL
 * with *errp (plan freed).
 */
static struct plan *
approve_modify_store(struct app *app, const struct plan *old,
    struct plan *plan, const char *amended, char **errp)
{
	struct approve_who	 who = approve_who_current(app->conf);
	struct audit_ids	 ids;
	json_object		*data;
	struct db		*db;
	PGconn			*pg;
	char			*err = NULL, *s;

	if ((db = app_db(app, errp)) == NULL) {
		plan_free(plan);
		return NULL;
	}
	pg = db_pg(db);
	if (plan_store(pg, plan, who.user, amended, old->row_id, errp) != 0) {
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
		plan_free(plan);
		return NULL;
	}
	json_object_put(data);
	return plan;
}

static void
approve_modify_built(struct request_job *job, struct plan *plan,
    json_object *parsed, enum request_error why, char *err, void *data)
{
	struct approve_modify_job	*m = data;
	struct app			*app = m->data_app;

	(void)job;
	(void)parsed;
	if (plan == NULL) {
		m->done(NULL, why == REQUEST_ERR_ENV, err, m->data);
		return;
	}
	/* One with questions is returned unstored: nothing changes. */
	if (plan_runnable(plan))
		plan = approve_modify_store(app, m->old, plan, m->amended,
		    &err);
	m->done(plan, plan == NULL, err, m->data);
}

struct request_job *
approve_modify_start(struct app *app, long long plan_row, const char *amended,
    tiers_ask_fn ask, void *ask_data, approve_modify_fn done, void *data,
    char **errp, int *envp)
{
	struct approve_modify_job	*m;
	struct plan			*old;
	struct db			*db;

	*envp = 1;
	if ((db = app_db(app, errp)) == NULL)
		return NULL;
	if ((old = plan_load(db_pg(db), plan_row, errp)) == NULL)
		return NULL;
	if (strcmp(old->status, "pending_approval") != 0) {
		*envp = 0;
		set_error(errp, "plan %lld version %d is %s: only a plan "
		    "pending approval can be modified", old->plan_id,
		    old->version, old->status);
		plan_free(old);
		return NULL;
	}
	m = xcalloc(1, sizeof *m);
	m->old = old;
	m->amended = xstrdup(amended);
	m->done = done;
	m->data = data;
	m->data_app = app;
	return request_build_start(app, old->request_id, amended, NULL, ask,
	    ask_data, approve_modify_built, m, approve_modify_job_free);
}

/* What approve_modify waits for. */
struct approve_modify_wait {
	int		 done;
	struct plan	*plan;
	int		 env;
	char		*err;
};

static void
approve_modify_wait_done(struct plan *plan, int env, char *err, void *data)
{
	struct approve_modify_wait	*w = data;

	w->done = 1;
	w->plan = plan;
	w->env = env;
	w->err = err;
}

struct plan *
approve_modify(struct app *app, long long plan_row, const char *amended,
    tiers_ask_fn ask, void *ask_data, int *envp, char **errp)
{
	struct approve_modify_wait	 w = { 0 };

	if (approve_modify_start(app, plan_row, amended, ask, ask_data,
	    approve_modify_wait_done, &w, errp, envp) == NULL)
		return NULL;
	request_wait(app, &w.done);
	*envp = w.env;
	if (w.plan == NULL)
		*errp = w.err;
	else
		free(w.err);
	return w.plan;
}

/* --- dry run ------------------------------------------------------------- */

void
approve_count(const char *summary_json, long long *changedp,
    long long *failedp)
{
	struct run_summary	rs;

	run_summary_read(summary_json, &rs);
	*changedp = rs.changed;
	*failedp = rs.failed + rs.unreachable;
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

/* A dry run going through the plan's steps, one check run at a time. */
struct approve_dry_job {
	struct app		*app;
	const struct plan	*plan;
	runlog_sub_fn		 line;
	void			*line_data;
	approve_dry_fn		 done;
	void			*data;
	struct approve_dry	*dry;		/* plan->ntasks results */
	size_t			 at;		/* the step checked now */
	int			 nbad;
	struct chiffon_task	*task;		/* its check run, or NULL */
	int			 timer;		/* the next step, or 0 */
	int			 canceled;	/* freed when task ends */
};

static void	approve_dry_schedule(struct approve_dry_job *);

static void
approve_dry_job_free(struct approve_dry_job *j)
{
	if (j->timer > 0)
		loop_remove(app_loop(j->app), j->timer);
	approve_dry_free(j->dry, j->plan->ntasks);
	free(j);
}

/* An output line of the check run: to the caller's line, unless canceled. */
static void
approve_dry_line(struct runlog *rl, int stream, const char *line,
    size_t len, void *data)
{
	struct approve_dry_job	*j = data;

	if (!j->canceled && j->line != NULL)
		j->line(rl, stream, line, len, j->line_data);
}

static void
approve_dry_on_run(struct runlog *rl, struct chiffon_task *t, void *data)
{
	(void)t;
	runlog_subscribe(rl, approve_dry_line, data);
}

/* A step's check run ended. */
static void
approve_dry_step_done(const char *status, const char *result, void *data)
{
	struct approve_dry_job	*j = data;
	struct approve_dry	*d = &j->dry[j->at];

	host_on_run(NULL, NULL);
	j->task = NULL;
	if (j->canceled) {
		approve_dry_job_free(j);
		return;
	}
	d->status = xstrdup(status);
	d->result = xstrdup(result != NULL ? result : "{}");
	approve_count(d->result, &d->changed, &d->failed);
	if (strcmp(d->status, "successful") != 0)
		j->nbad++;
	j->at++;
	approve_dry_schedule(j);
}

/* Start the next step's check run, or end the job.  From a timer. */
static int
approve_dry_next(void *data)
{
	struct approve_dry_job	*j = data;
	const struct plan_task	*t;
	struct approve_dry	*dry;
	struct chiffon_task	*task = NULL;
	char			 id[32], *params, *err = NULL;
	size_t			 at;
	int			 rc;

	j->timer = 0;
	for (; j->at < j->plan->ntasks; j->at++) {
		t = &j->plan->tasks[j->at];
		j->dry[j->at].step = t->step;
		j->dry[j->at].task_id = t->id;
		if (t->playbook != NULL)
			break;
		j->dry[j->at].status = xstrdup("failed");
		j->dry[j->at].result = xstrdup("{\"error\": \"no playbook\"}");
		j->nbad++;
	}
	if (j->at == j->plan->ntasks) {
		approve_dry_audit(j->app, j->plan, j->dry);
		dry = j->dry;
		j->dry = NULL;
		j->done(j->nbad, dry, NULL, j->data);
		approve_dry_job_free(j);
		return 1;
	}
	t = &j->plan->tasks[j->at];
	snprintf(id, sizeof id, "%lld", t->id);
	params = approve_dry_params(t);
	host_on_run(approve_dry_on_run, j);
	at = j->at;
	/* A generate step's dry run is its preview (the diffs). */
	rc = host_invoke_task(j->app, t->id > 0 ? id : NULL,
	    strcmp(t->capability, CHIFFON_CAP_TEMPLATE_GENERATE) == 0 ?
	    CHIFFON_CAP_TEMPLATE_PREVIEW : CHIFFON_CAP_ANSIBLE, params,
	    approve_dry_step_done, j, &task, &err);
	free(params);
	/* Unless it ended already (then the next step is scheduled). */
	if (rc == 0 && j->at == at)
		j->task = task;
	if (rc != 0) {
		host_on_run(NULL, NULL);
		j->done(-1, NULL, err, j->data);
		approve_dry_job_free(j);
	}
	return 1;
}

static void
approve_dry_schedule(struct approve_dry_job *j)
{
	j->timer = loop_add_timer(app_loop(j->app), 0, approve_dry_next, j,
	    NULL, NULL);
}

struct approve_dry_job *
approve_dry_start(struct app *app, const struct plan *plan,
    runlog_sub_fn line, void *line_data, approve_dry_fn done, void *data)
{
	struct approve_dry_job	*j = xcalloc(1, sizeof *j);

	j->app = app;
	j->plan = plan;
	j->line = line;
	j->line_data = line_data;
	j->done = done;
	j->data = data;
	j->dry = xcalloc(plan->ntasks + 1, sizeof *j->dry);
	approve_dry_schedule(j);
	return j;
}

void
approve_dry_cancel(struct approve_dry_job *j)
{
	if (j == NULL)
		return;
	if (j->task == NULL) {
		approve_dry_job_free(j);
		return;
	}
	/* Its check run stops; the job goes when the run has ended. */
	j->canceled = 1;
	if (j->timer > 0)
		loop_remove(app_loop(j->app), j->timer);
	j->timer = 0;
	host_cancel(j->task);
}

/* What approve_dry_run waits for. */
struct approve_dry_wait {
	int			 done;
	int			 nbad;
	struct approve_dry	*dry;
	char			*err;
};

static void
approve_dry_wait_done(int nbad, struct approve_dry *dry, char *err,
    void *data)
{
	struct approve_dry_wait	*w = data;

	w->done = 1;
	w->nbad = nbad;
	w->dry = dry;
	w->err = err;
}

int
approve_dry_run(struct app *app, const struct plan *plan, runlog_sub_fn line,
    void *line_data, struct approve_dry **dryp, char **errp)
{
	struct approve_dry_wait	 w = { 0 };

	approve_dry_start(app, plan, line, line_data, approve_dry_wait_done,
	    &w);
	request_wait(app, &w.done);
	*dryp = w.dry;
	if (w.nbad < 0)
		*errp = w.err;
	else
		free(w.err);
	return w.nbad;
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

static const char approve_sql_last_run[] =
	"SELECT summary FROM runs WHERE task_id = $1 AND status <> 'running' "
	"AND NOT coalesce((meta->>'check')::boolean, false) "
	"ORDER BY id DESC LIMIT 1";

/* A plan being executed (exec.h) and waited for. */
struct approve_running {
	struct plan	*plan;
	runlog_sub_fn	 line;
	void		*line_data;
	approve_step_fn	 step;
	void		*step_data;
	int		 signaled;
	int		 done;
	int		 nbad;
	char		*err;
};

static void
approve_exec_line(struct runlog *rl, int stream, const char *line,
    size_t len, void *data)
{
	struct approve_running	*r = data;

	if (r->line != NULL)
		r->line(rl, stream, line, len, r->line_data);
}

/* A task changed: the plan's copy, and the caller when its state did. */
static void
approve_exec_step(struct exec *x, size_t index, long long task_id,
    const char *status, const char *reason, long long changed, void *data)
{
	struct approve_running	*r = data;
	struct plan_task	*t;
	size_t			 k;

	(void)x;
	(void)index;
	(void)changed;
	for (k = 0; k < r->plan->ntasks; k++) {
		t = &r->plan->tasks[k];
		if (t->id != task_id || (t->status != NULL &&
		    strcmp(t->status, status) == 0))
			continue;
		free(t->status);
		t->status = xstrdup(status);
		if (r->step != NULL)
			r->step(r->plan, k, status, reason, r->step_data);
	}
}

static void
approve_exec_done(struct exec *x, int nbad, char *err, void *data)
{
	struct approve_running	*r = data;

	(void)x;
	r->done = 1;
	r->nbad = nbad;
	r->err = err;
}

static void
approve_exec_signal(int signo, void *data)
{
	struct approve_running	*r = data;

	r->signaled = signo;
}

static const struct exec_ops approve_exec_ops = {
	.line = approve_exec_line,
	.step = approve_exec_step,
	.done = approve_exec_done,
};

int
approve_execute(struct app *app, struct plan *plan, runlog_sub_fn line,
    void *line_data, approve_step_fn step, void *step_data, char **errp)
{
	struct approve_running	 r = { .plan = plan, .line = line,
				    .line_data = line_data, .step = step,
				    .step_data = step_data };
	struct loop_signals	 sigs;
	struct loop		*loop = app_loop(app);
	struct exec		*x;
	char			*err = NULL;
	size_t			 ok, end;

	/* Without a signalfd the signals stay blocked: none stops it. */
	(void)loop_signals_open(loop, &sigs, approve_exec_signal, &r);
	if ((x = exec_start(app, plan->row_id, 0, &approve_exec_ops, &r,
	    errp)) == NULL) {
		loop_signals_close(loop, &sigs);
		return -1;
	}
	/* The CLI waits on the executor; SIGINT or SIGTERM stops it. */
	while (!r.done && !r.signaled)
		loop_run_once(loop, EXEC_POLL_MS);
	if (r.signaled) {
		/* Stop ours, then cancel whatever of the plan is left. */
		exec_cancel(x, r.signaled == SIGINT ? "interrupted (SIGINT)" :
		    "interrupted (SIGTERM)");
		if (exec_poll(x, &err) != 0)
			free(err);
		exec_count(x, &ok, &end);
		r.nbad = (int)(exec_ntasks(x) - ok);
	}
	exec_free(x);
	loop_signals_close(loop, &sigs);
	if (r.nbad < 0) {
		*errp = r.err;
		return -1;
	}
	return r.nbad;
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
