/*
 * check_approve.c - the approval gate for real: approvals rows with who,
 * from where and which version; reject with a reason; modify into a new
 * version while the old one is superseded; every attempt to go around
 * the gate refused by the database itself, through the API and through
 * raw SQL; a dry run in check mode that changes nothing; and a real
 * execution of the Kuma plan by this process's own worker, whose runs
 * and output lines end up in PostgreSQL and feed the next estimate.
 *
 * Real throwaway PostgreSQL cluster, real infra plugin, real
 * ansible-playbook on the demo homelab (connection: local, hosts rooted
 * in a private CHIFFON_DEMO_ROOT).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app.h"
#include "approve.h"
#include "conf.h"
#include "orchtest.h"
#include "plan.h"
#include "request.h"
#include "runlog.h"
#include "testutil.h"
#include "util.h"

#define KUMA	"Deploy Kuma Uptime to homelab and add existing portals to config"
#define SSH	"203.0.113.7 50022 192.0.2.1 22"

static struct orchtest	 ot;

static void
setup(void)
{
	setenv("SSH_CONNECTION", SSH, 1);
	orchtest_start(&ot, "approve");
}

static void
teardown(void)
{
	orchtest_stop(&ot);
}

static struct plan *
plan_of(const char *text)
{
	struct plan	*p = orchtest_plan(&ot, text);

	ck_assert_msg(p->row_id > 0, "%s: not runnable: %s", text,
	    json_object_to_json_string(p->questions));
	return p;
}

/* The one value of sql with id as $1.  Caller frees. */
static char *
value_of(const char *sql, long long id)
{
	const char	*params[1];
	char		 v[32];

	snprintf(v, sizeof v, "%lld", id);
	params[0] = v;
	return orchtest_str(orchtest_pg(&ot), sql, 1, params);
}

/* "status status ..." of a plan row's tasks in step order.  Caller frees. */
static char *
task_states(long long row)
{
	return value_of("SELECT string_agg(status, ' ' ORDER BY step) FROM "
	    "tasks WHERE plan_id = $1", row);
}

static char *
plan_state(long long row)
{
	const char	*params[1];
	char		 id[32];

	snprintf(id, sizeof id, "%lld", row);
	params[0] = id;
	return orchtest_str(orchtest_pg(&ot), "SELECT status FROM plans "
	    "WHERE id = $1", 1, params);
}

#define ck_assert_state(s, want) do {					\
	char *s_ = (s);							\
	ck_assert_str_eq(s_, want);					\
	free(s_);							\
} while (0)

/* --- the gate ---------------------------------------------------------- */

START_TEST(test_approve_records_who_and_queues)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*p = plan_of(KUMA);
	PGconn			*pg = orchtest_pg(&ot);
	const char		*params[1];
	char			 row[32], *err = NULL, *s, *want;
	long long		 a;
	int			 nq = -1;

	ck_assert_str_eq(who.ssh_client, "203.0.113.7");
	a = approve_plan(pg, p->row_id, &who, &nq, &err);
	ck_assert_msg(a > 0, "%s", err);
	ck_assert_int_eq(nq, 2);
	snprintf(row, sizeof row, "%lld", p->row_id);
	params[0] = row;
	s = orchtest_str(pg, "SELECT decision || ' ' || approved_by || ' ' || "
	    "ssh_client || ' ' || (reason IS NULL) FROM approvals "
	    "WHERE plan_id = $1", 1, params);
	want = xasprintf("approved %s 203.0.113.7 true", who.user);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ck_assert_state(task_states(p->row_id), "queued queued");
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM work_queue q "
	    "JOIN tasks t ON t.id = q.task_id WHERE t.plan_id = $1", 1,
	    params), 2);
	/* The audit row names the approver and where from. */
	s = orchtest_str(pg, "SELECT actor || ' ' || (data->>'version') FROM "
	    "audit_log WHERE kind = 'plan.approved'", 0, NULL);
	want = xasprintf("%s@203.0.113.7 1", who.user);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);

	/* Twice is refused; so is rejecting what is approved. */
	ck_assert_int_eq(approve_plan(pg, p->row_id, &who, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "only a plan pending approval"));
	free(err);
	ck_assert_int_eq(approve_reject(pg, p->row_id, &who, "late", &err),
	    -1);
	free(err);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM approvals",
	    0, NULL), 1);
	plan_free(p);
}
END_TEST

START_TEST(test_reject_needs_a_reason)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*p = plan_of("deploy grafana on pve1");
	PGconn			*pg = orchtest_pg(&ot);
	char			*err = NULL, *s;

	ck_assert_int_eq(approve_reject(pg, p->row_id, &who, "", &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "reason"));
	free(err);
	ck_assert_int_gt(approve_reject(pg, p->row_id, &who,
	    "not during office hours", &err), 0);
	ck_assert_state(plan_state(p->row_id), "rejected");
	ck_assert_state(task_states(p->row_id), "rejected");
	s = orchtest_str(pg, "SELECT decision || ': ' || reason FROM "
	    "approvals", 0, NULL);
	ck_assert_str_eq(s, "rejected: not during office hours");
	free(s);
	s = orchtest_str(pg, "SELECT data->>'reason' FROM audit_log WHERE "
	    "kind = 'plan.rejected'", 0, NULL);
	ck_assert_str_eq(s, "not during office hours");
	free(s);
	/* A rejected plan stays rejected. */
	ck_assert_int_eq(approve_plan(pg, p->row_id, &who, NULL, &err), -1);
	free(err);
	ck_assert_int_eq(orchtest_try(pg, "UPDATE plans SET status = "
	    "'approved'", 0, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "rejected"));
	free(err);
	plan_free(p);
}
END_TEST

START_TEST(test_modify_supersedes)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*p = plan_of(KUMA), *q, *r;
	PGconn			*pg = orchtest_pg(&ot);
	const char		*params[2];
	char			 row[32], ref[32], *err = NULL, *s;
	int			 env = -1;

	q = approve_modify(ot.app, p->row_id, "deploy uptime kuma on docker1",
	    NULL, NULL, &env, &err);
	ck_assert_msg(q != NULL, "%s", err);
	ck_assert_int_eq(env, 0);
	ck_assert_int_gt(q->row_id, p->row_id);
	ck_assert_int_eq(q->plan_id, p->plan_id);
	ck_assert_int_eq(q->version, 2);
	ck_assert_int_eq(q->request_id, p->request_id);
	ck_assert_uint_eq(q->ntasks, 1);
	ck_assert_str_eq(q->tasks[0].limit, "docker1");
	ck_assert_state(plan_state(p->row_id), "superseded");
	ck_assert_state(task_states(p->row_id), "superseded superseded");
	ck_assert_state(task_states(q->row_id), "pending_approval");
	snprintf(row, sizeof row, "%lld", p->row_id);
	params[0] = row;
	s = orchtest_str(pg, "SELECT (superseded_by = (SELECT max(id) FROM "
	    "plans))::text || ' ' || (SELECT amendment FROM plans ORDER BY id "
	    "DESC LIMIT 1) FROM plans WHERE id = $1", 1, params);
	ck_assert_str_eq(s, "true deploy uptime kuma on docker1");
	free(s);
	s = orchtest_str(pg, "SELECT (data->>'from_version') || '->' || "
	    "(data->>'version') FROM audit_log WHERE kind = 'plan.modified'",
	    0, NULL);
	ck_assert_str_eq(s, "1->2");
	free(s);
	/* "N" now means version 2. */
	snprintf(ref, sizeof ref, "%lld", p->plan_id);
	ck_assert_int_eq(plan_resolve(pg, ref, &err), q->row_id);

	/* Approving the superseded version: the database refuses. */
	ck_assert_int_eq(approve_plan(pg, p->row_id, &who, NULL, &err), -1);
	ck_assert_msg(strstr(err, "superseded") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM approvals",
	    0, NULL), 0);
	/* Modifying it again too; the current one can still change. */
	ck_assert_ptr_null(approve_modify(ot.app, p->row_id, "deploy kuma",
	    NULL, NULL, &env, &err));
	ck_assert_int_eq(env, 0);
	free(err);
	/* Amended text with questions changes nothing. */
	r = approve_modify(ot.app, q->row_id, "deploy mysql", NULL, NULL,
	    &env, &err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(r->row_id, 0);
	ck_assert_int_ge(json_object_array_length(r->questions), 1);
	ck_assert_state(plan_state(q->row_id), "pending_approval");
	plan_free(r);
	ck_assert_int_gt(approve_plan(pg, q->row_id, &who, NULL, &err), 0);
	ck_assert_state(task_states(q->row_id), "queued");
	plan_free(q);
	plan_free(p);
}
END_TEST

/*
 * plan_pending: this user's plans pending approval, newest first; not
 * the approved, rejected or superseded ones, nor another user's.
 */
START_TEST(test_pending_list)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*a = plan_of("deploy grafana on pve1");
	struct plan		*b = plan_of(KUMA);
	struct plan		*c = plan_of("deploy kuma");
	struct plan		*d = plan_of("deploy grafana on pve1");
	struct plan		*q;
	struct plan_pending	*l;
	PGconn			*pg = orchtest_pg(&ot);
	char			*err = NULL;
	int			 n, env = -1;

	n = plan_pending(pg, who.user, 10, &l, &err);
	ck_assert_msg(n == 4, "%d: %s", n, err);
	ck_assert_int_eq(l[0].row_id, d->row_id);
	ck_assert_int_eq(l[1].row_id, c->row_id);
	ck_assert_int_eq(l[2].row_id, b->row_id);
	ck_assert_int_eq(l[3].row_id, a->row_id);
	ck_assert_int_eq(l[2].plan_id, b->plan_id);
	ck_assert_int_eq(l[2].version, 1);
	ck_assert_str_eq(l[2].text, KUMA);
	ck_assert_uint_eq(l[2].nsteps, 2);
	ck_assert_str_eq(l[2].steps, "deploy kuma, configure kuma");
	ck_assert(l[2].age_s >= 0 && l[2].age_s < 600);
	plan_pending_free(l, (size_t)n);
	/* At most max. */
	ck_assert_int_eq(plan_pending(pg, who.user, 1, &l, &err), 1);
	ck_assert_int_eq(l[0].row_id, d->row_id);
	plan_pending_free(l, 1);

	/* Decided or superseded plans leave the list; a new version joins. */
	ck_assert_int_gt(approve_plan(pg, d->row_id, &who, NULL, &err), 0);
	ck_assert_int_gt(approve_reject(pg, c->row_id, &who, "no", &err), 0);
	q = approve_modify(ot.app, b->row_id, "deploy uptime kuma on docker1",
	    NULL, NULL, &env, &err);
	ck_assert_msg(q != NULL && q->row_id > 0, "%s", err);
	n = plan_pending(pg, who.user, 10, &l, &err);
	ck_assert_msg(n == 2, "%d: %s", n, err);
	ck_assert_int_eq(l[0].row_id, q->row_id);
	ck_assert_int_eq(l[0].plan_id, b->plan_id);
	ck_assert_int_eq(l[0].version, 2);
	ck_assert_str_eq(l[0].text, "deploy uptime kuma on docker1");
	ck_assert_uint_eq(l[0].nsteps, 1);
	ck_assert_int_eq(l[1].row_id, a->row_id);
	plan_pending_free(l, (size_t)n);

	/* Another user's plan is not this user's. */
	ck_assert_int_eq(plan_store(pg, a, "someone-else", NULL, 0, &err), 0);
	ck_assert_int_eq(plan_pending(pg, who.user, 10, &l, &err), 2);
	plan_pending_free(l, 2);
	ck_assert_int_eq(plan_pending(pg, "someone-else", 10, &l, &err), 1);
	ck_assert_int_eq(l[0].row_id, a->row_id);
	plan_pending_free(l, 1);
	ck_assert_int_eq(plan_pending(pg, "nobody", 10, &l, &err), 0);
	ck_assert_ptr_null(l);
	plan_free(q);
	plan_free(d);
	plan_free(c);
	plan_free(b);
	plan_free(a);
}
END_TEST

/* Around the gate with raw SQL: every path is refused by the database. */
START_TEST(test_bypass_refused_by_database)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*p = plan_of(KUMA), *q;
	/* The triggers hold even for the owner of the tables. */
	PGconn			*pg = orchtest_owner_pg(&ot);
	const char		*params[2];
	char			 row[32], tid[32], *err = NULL;
	int			 env;

	snprintf(row, sizeof row, "%lld", p->row_id);
	snprintf(tid, sizeof tid, "%lld", p->tasks[0].id);
	params[0] = row;
	/* A task inserted straight into the queue state. */
	ck_assert_int_eq(orchtest_try(pg, "INSERT INTO tasks (plan_id, step, "
	    "action, playbook, status) VALUES ($1, 9, 'deploy', "
	    "'kuma-deploy.yml', 'queued')", 1, params, &err), -1);
	ck_assert_msg(strstr(err, "pending_approval") != NULL, "%s", err);
	free(err);
	/* A pending task put in the work queue. */
	params[0] = tid;
	ck_assert_int_eq(orchtest_try(pg, "INSERT INTO work_queue (task_id, "
	    "capability) VALUES ($1, 'ansible')", 1, params, &err), -1);
	ck_assert_msg(strstr(err, "only approved tasks") != NULL, "%s", err);
	free(err);
	/* Approved without an approvals row; queued straight away. */
	ck_assert_int_eq(orchtest_try(pg, "UPDATE tasks SET status = "
	    "'approved' WHERE id = $1", 1, params, &err), -1);
	ck_assert_msg(strstr(err, "no approval row") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(orchtest_try(pg, "UPDATE tasks SET status = "
	    "'queued' WHERE id = $1", 1, params, &err), -1);
	ck_assert_msg(strstr(err, "illegal transition") != NULL, "%s", err);
	free(err);
	ck_assert_state(task_states(p->row_id),
	    "pending_approval pending_approval");

	/* Approving a superseded version by hand. */
	q = approve_modify(ot.app, p->row_id, "deploy kuma", NULL, NULL, &env,
	    &err);
	ck_assert_msg(q != NULL && q->row_id > 0, "%s", err);
	params[0] = row;
	params[1] = who.user;
	ck_assert_int_eq(orchtest_try(pg, "INSERT INTO approvals (plan_id, "
	    "approved_by) VALUES ($1, $2)", 2, params, &err), -1);
	ck_assert_msg(strstr(err, "superseded") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(orchtest_try(pg, "UPDATE plans SET status = "
	    "'pending_approval', superseded_by = NULL WHERE id = $1", 1,
	    params, &err), -1);
	free(err);
	/* A finished (superseded, rejected) task cannot change. */
	params[0] = tid;
	ck_assert_int_eq(orchtest_try(pg, "UPDATE tasks SET status = "
	    "'pending_approval' WHERE id = $1", 1, params, &err), -1);
	ck_assert_msg(strstr(err, "final state") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(orchtest_try(pg, "UPDATE tasks SET playbook = "
	    "'evil.yml' WHERE id = $1", 1, params, &err), -1);
	free(err);
	ck_assert_int_gt(approve_reject(pg, q->row_id, &who, "no", &err), 0);
	snprintf(tid, sizeof tid, "%lld", q->tasks[0].id);
	ck_assert_int_eq(orchtest_try(pg, "UPDATE tasks SET status = "
	    "'succeeded' WHERE id = $1", 1, params, &err), -1);
	free(err);
	/* Approvals are append-only. */
	ck_assert_int_eq(orchtest_try(pg, "UPDATE approvals SET decision = "
	    "'approved'", 0, NULL, &err), -1);
	free(err);
	ck_assert_int_eq(orchtest_try(pg, "DELETE FROM approvals", 0, NULL,
	    &err), -1);
	free(err);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM work_queue",
	    0, NULL), 0);
	plan_free(q);
	plan_free(p);
}
END_TEST

/* The statement is refused with a message holding want. */
static void
refused(PGconn *pg, const char *sql, const char *param, const char *want)
{
	const char	*params[1] = { param };
	char		*err = NULL;

	ck_assert_msg(orchtest_try(pg, sql, param != NULL ? 1 : 0, params,
	    &err) == -1, "allowed: %s", sql);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", sql, err);
	free(err);
}

/*
 * chiffon runs as chiffon_runtime: not a superuser, owning nothing.  The
 * forgeries of a role with its rights are refused: a hand-made approval
 * by "alice", status updates to approved and queued, a work_queue row,
 * queueing through the function without an approval, changing what an
 * approved task runs, and UPDATE, DELETE and TRUNCATE of audit_log,
 * run_output_chunks and run_events (run_output, the view of the chunks'
 * lines, takes only INSERT).  The legal path still works.
 */
START_TEST(test_runtime_role_forgeries_refused)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*p = plan_of(KUMA);
	PGconn			*pg = orchtest_pg(&ot);
	char			 row[32], tid[32], *s;
	static const char *const	 appendonly[] = {
		"audit_log", "run_output_chunks", "run_events",
	};
	size_t			 i;

	s = orchtest_str(pg, "SELECT current_user || ' ' || r.rolsuper || ' ' "
	    "|| (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) "
	    "FROM pg_roles r WHERE r.rolname = current_user", 0, NULL);
	ck_assert_str_eq(s, "chiffon_runtime false 0");
	free(s);
	snprintf(row, sizeof row, "%lld", p->row_id);
	snprintf(tid, sizeof tid, "%lld", p->tasks[0].id);
	refused(pg, "INSERT INTO approvals (plan_id, approved_by) VALUES "
	    "($1, 'alice')", row, "permission denied for table approvals");
	refused(pg, "UPDATE tasks SET status = 'approved' WHERE plan_id = $1",
	    row, "may not move a task pending_approval -> approved");
	refused(pg, "UPDATE tasks SET status = 'queued' WHERE id = $1", tid,
	    "may not move a task pending_approval -> queued");
	refused(pg, "INSERT INTO work_queue (task_id, capability) VALUES ($1, "
	    "'ansible')", tid, "permission denied for table work_queue");
	refused(pg, "SELECT chiffon_queue_task($1, 'ansible', true)", tid,
	    "its plan has no approval");
	refused(pg, "SELECT chiffon_grant_runtime()", NULL,
	    "permission denied for function");
	refused(pg, "SELECT nextval('audit_log_id_seq')", NULL,
	    "permission denied for sequence");
	refused(pg, "ALTER TABLE audit_log DISABLE TRIGGER USER", NULL,
	    "must be owner");
	for (i = 0; i < nitems(appendonly); i++) {
		char *sql;

		sql = xasprintf("UPDATE %s SET run_id = run_id",
		    appendonly[i]);
		refused(pg, sql, NULL, "permission denied for table");
		free(sql);
		sql = xasprintf("DELETE FROM %s", appendonly[i]);
		refused(pg, sql, NULL, "permission denied for table");
		free(sql);
		sql = xasprintf("TRUNCATE %s", appendonly[i]);
		refused(pg, sql, NULL, "permission denied for table");
		free(sql);
	}
	refused(pg, "UPDATE run_output SET at = now()", NULL,
	    "cannot update view");
	refused(pg, "DELETE FROM run_output", NULL, "cannot delete from view");
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM approvals", 0,
	    NULL), 0);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM work_queue",
	    0, NULL), 0);
	ck_assert_state(task_states(p->row_id),
	    "pending_approval pending_approval");

	/* The gate's own path works, and what it approved stays fixed. */
	ck_assert_int_gt(approve_plan(pg, p->row_id, &who, NULL, NULL), 0);
	ck_assert_state(task_states(p->row_id), "queued queued");
	refused(pg, "UPDATE tasks SET extra_vars = '{\"x\": 1}' WHERE id = $1",
	    tid, "may not change what a task runs");
	refused(pg, "UPDATE tasks SET status = 'running' WHERE id = $1", tid,
	    "may not move a task queued -> running");
	/* A task slipped into the approved plan is not covered by it. */
	snprintf(tid, sizeof tid, "%lld", orchtest_int(pg, "INSERT INTO tasks "
	    "(plan_id, step, action, playbook) VALUES ($1, 9, 'deploy', "
	    "'jellyfin-remove.yml') RETURNING id", 1,
	    (const char *const[]){ row }));
	ck_assert_int_eq(orchtest_try(pg, "UPDATE tasks SET status = 'paused' "
	    "WHERE id = $1", 1, (const char *const[]){ tid }, NULL), 0);
	refused(pg, "SELECT chiffon_queue_task($1, 'ansible', true)", tid,
	    "no approval of its plan covers it");
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM audit_log "
	    "WHERE kind = 'plan.approved' AND actor LIKE $1 || '%'", 1,
	    (const char *const[]){ who.user }), 1);
	plan_free(p);
}
END_TEST

/* --- approvals bound to content ------------------------------------------ */

/* The status and reason of a task, "status: reason".  Caller frees. */
static char *
task_outcome(long long id)
{
	return value_of("SELECT status || ': ' || coalesce(status_reason, '') "
	    "FROM tasks WHERE id = $1", id);
}

/* Rows of kind for task id in the audit log. */
static long long
audit_count(const char *kind, long long id)
{
	const char	*params[2];
	char		 tid[32];

	snprintf(tid, sizeof tid, "%lld", id);
	params[0] = kind;
	params[1] = tid;
	return orchtest_int(orchtest_pg(&ot), "SELECT count(*) FROM audit_log "
	    "WHERE kind = $1 AND task_id = $2", 2, params);
}

/* Runs (check runs included) of a task. */
static long long
run_count(long long id)
{
	char		*s = value_of("SELECT count(*) FROM runs WHERE "
			    "task_id = $1", id);
	long long	 n = strtoll(s, NULL, 10);

	free(s);
	return n;
}

/*
 * The approval records a hash per task; the owner of the database then
 * changes the first queued task's playbook and extra vars.  The claim
 * refuses it: failed with the reason, a task.refused audit row, no run,
 * and the step after it canceled.
 */
START_TEST(test_claim_refuses_changed_task)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct plan		*p = plan_of(KUMA);
	PGconn			*pg = orchtest_pg(&ot);
	const char		*params[1];
	char			 tid[32], *err = NULL, *s;
	int			 bad;

	ck_assert_msg(approve_plan(pg, p->row_id, &who, NULL, &err) > 0, "%s",
	    err);
	snprintf(tid, sizeof tid, "%lld", p->tasks[0].id);
	params[0] = tid;
	/* What the approval recorded for the task. */
	s = orchtest_str(pg, "SELECT length(a.content -> 'tasks' -> $1 ->> "
	    "'sha256') || ' ' || (a.content -> 'tasks' -> $1 ->> "
	    "'playbook_sha256' = (SELECT sha256 FROM playbooks WHERE path = "
	    "'kuma-deploy.yml')) FROM approvals a", 1, params);
	ck_assert_str_eq(s, "64 true");
	free(s);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM audit_log "
	    "WHERE kind = 'plan.approved' AND length(data->>'content_sha256') "
	    "= 64", 0, NULL), 1);
	/* After approval, as the owner of the tables. */
	ck_assert_int_eq(orchtest_try(orchtest_owner_pg(&ot), "UPDATE tasks "
	    "SET playbook = "
	    "'jellyfin-remove.yml', extra_vars = extra_vars || "
	    "'{\"injected\": \"yes\"}' WHERE id = $1", 1, params, &err), 0);
	bad = approve_execute(ot.app, p, NULL, NULL, NULL, NULL, &err);
	ck_assert_msg(bad == 2, "bad=%d err=%s", bad, err);
	s = task_outcome(p->tasks[0].id);
	ck_assert_msg(strstr(s, "failed: approval does not match: playbook, "
	    "playbook file, extra vars changed since plan row") == s, "%s", s);
	free(s);
	ck_assert_int_eq(audit_count("task.refused", p->tasks[0].id), 1);
	ck_assert_int_eq(run_count(p->tasks[0].id), 0);
	s = task_outcome(p->tasks[1].id);
	ck_assert_msg(strncmp(s, "canceled: ", 10) == 0, "%s", s);
	free(s);
	ck_assert_int_eq(run_count(p->tasks[1].id), 0);
	ck_assert_state(plan_state(p->row_id), "failed");
	plan_free(p);
}
END_TEST

/* Copy the tree at src to dst (directories, files and symlinks). */
static void
copy_tree(const char *src, const char *dst)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*a, *b, *text, link[4096];
	size_t		 len;
	ssize_t		 n;
	FILE		*f;

	ck_assert_int_eq(mkdir_p(dst, 0755), 0);
	ck_assert_ptr_nonnull(d = opendir(src));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		a = path_join(src, de->d_name);
		b = path_join(dst, de->d_name);
		ck_assert_int_eq(lstat(a, &st), 0);
		if (S_ISDIR(st.st_mode))
			copy_tree(a, b);
		else if (S_ISLNK(st.st_mode)) {
			n = readlink(a, link, sizeof link - 1);
			ck_assert_int_gt(n, 0);
			link[n] = '\0';
			ck_assert_int_eq(symlink(link, b), 0);
		} else {
			ck_assert_ptr_nonnull(text = read_file(a, &len));
			ck_assert_ptr_nonnull(f = fopen(b, "w"));
			ck_assert_uint_eq(fwrite(text, 1, len, f), len);
			ck_assert_int_eq(fclose(f), 0);
			free(text);
		}
		free(a);
		free(b);
	}
	closedir(d);
}

/*
 * The playbook file is edited after the approval: its hash is part of
 * what was approved, so the claim refuses the step that would run it.
 */
START_TEST(test_claim_refuses_edited_playbook)
{
	struct approve_who	 who;
	struct plan		*p;
	PGconn			*pg = orchtest_pg(&ot);
	char			*repo, *file, *err = NULL, *s;
	FILE			*f;
	int			 bad;

	repo = path_join(ot.tmp, "repo");
	copy_tree(ot.repo, repo);
	ck_assert_msg(conf_set(ot.app->conf, "ansible.repo", repo, "test",
	    &err) == 0, "%s", err);
	who = approve_who_current(ot.app->conf);
	p = plan_of(KUMA);
	ck_assert_msg(approve_plan(pg, p->row_id, &who, NULL, &err) > 0, "%s",
	    err);
	file = path_join(repo, p->tasks[0].playbook);
	ck_assert_ptr_nonnull(f = fopen(file, "a"));
	fputs("- name: Added after the approval\n  hosts: all\n"
	    "  tasks: []\n", f);
	ck_assert_int_eq(fclose(f), 0);
	bad = approve_execute(ot.app, p, NULL, NULL, NULL, NULL, &err);
	ck_assert_msg(bad == 2, "bad=%d err=%s", bad, err);
	s = task_outcome(p->tasks[0].id);
	ck_assert_msg(strstr(s, "failed: approval does not match: playbook "
	    "file changed since plan row") == s, "%s", s);
	free(s);
	ck_assert_int_eq(audit_count("task.refused", p->tasks[0].id), 1);
	ck_assert_int_eq(run_count(p->tasks[0].id), 0);
	ck_assert_int_eq(run_count(p->tasks[1].id), 0);
	free(file);
	free(repo);
	plan_free(p);
}
END_TEST

/* --- dry run and execution --------------------------------------------- */

/* Lines a subscriber received. */
struct lines {
	struct strbuf	 all;
	size_t		 n;
};

static void
lines_add(struct runlog *rl, int stream, const char *line, size_t len,
    void *data)
{
	struct lines	*l = data;

	(void)rl;
	(void)stream;
	strbuf_add(&l->all, line, len);
	strbuf_addc(&l->all, '\n');
	l->n++;
}

START_TEST(test_dry_run_changes_nothing)
{
	struct approve_dry	*dry = NULL;
	struct lines		 l = { 0 };
	struct plan		*p = plan_of(KUMA);
	PGconn			*pg = orchtest_pg(&ot);
	struct stat		 st;
	char			*err = NULL, *dir, *s;
	int			 nbad;

	nbad = approve_dry_run(ot.app, p, lines_add, &l, &dry, &err);
	ck_assert_msg(nbad >= 0, "%s", err);
	ck_assert_ptr_nonnull(dry);
	ck_assert_int_eq(dry[0].step, 1);
	ck_assert_msg(strcmp(dry[0].status, "successful") == 0, "%s",
	    dry[0].result);
	/* Check mode reports what it would change. */
	ck_assert_int_gt(dry[0].changed, 0);
	ck_assert_int_gt(l.n, 0);
	ck_assert_ptr_nonnull(strstr(l.all.buf, "PLAY RECAP"));
	/* ... and changes nothing on the hosts. */
	dir = path_join(ot.demo_root, "docker1/uptime-kuma");
	ck_assert_int_eq(stat(dir, &st), -1);
	free(dir);
	/* The check runs are recorded against the tasks, as check runs. */
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM runs r JOIN "
	    "tasks t ON t.id = r.task_id WHERE (r.meta->>'check')::boolean",
	    0, NULL), 2);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM run_output",
	    0, NULL), (long long)l.n);
	ck_assert_state(task_states(p->row_id),
	    "pending_approval pending_approval");
	s = orchtest_str(pg, "SELECT jsonb_array_length(data->'steps')::text "
	    "FROM audit_log WHERE kind = 'plan.dry_run'", 0, NULL);
	ck_assert_str_eq(s, "2");
	free(s);
	/* A dry run is no history for estimates. */
	ck_assert_double_eq(plan_estimate(pg, "kuma-deploy.yml", "deploy",
	    NULL), plan_default_estimate("deploy"));
	approve_dry_free(dry, p->ntasks);
	strbuf_free(&l.all);
	plan_free(p);
}
END_TEST

static void
steps_add(const struct plan *p, size_t i, const char *status,
    const char *reason, void *data)
{
	struct strbuf	*sb = data;

	strbuf_addf(sb, "%d:%s ", p->tasks[i].step, status);
}

START_TEST(test_execute_for_real)
{
	struct approve_who	 who = approve_who_current(ot.app->conf);
	struct lines		 l = { 0 };
	struct strbuf		 steps = { 0 };
	struct plan		*p = plan_of(KUMA);
	PGconn			*pg = orchtest_pg(&ot);
	long long		 changed, failed;
	char			*err = NULL, *s, *from = NULL, *f;
	int			 bad;
	size_t			 i;

	ck_assert_msg(approve_plan(pg, p->row_id, &who, NULL, &err) > 0, "%s",
	    err);
	bad = approve_execute(ot.app, p, lines_add, &l, steps_add, &steps,
	    &err);
	ck_assert_msg(bad == 0, "bad=%d err=%s steps=%s", bad, err,
	    steps.buf);
	ck_assert_state(task_states(p->row_id), "succeeded succeeded");
	ck_assert_ptr_nonnull(strstr(steps.buf, "1:succeeded"));
	ck_assert_ptr_nonnull(strstr(steps.buf, "2:succeeded"));
	/* Step 2 only ran after step 1 had succeeded. */
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks a JOIN "
	    "tasks b ON b.plan_id = a.plan_id AND b.step = 2 WHERE a.step = 1 "
	    "AND b.started_at >= a.finished_at", 0, NULL), 1);
	/* Every line streamed is in run_output, in order. */
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM runs WHERE "
	    "status = 'successful'", 0, NULL), 2);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM run_output",
	    0, NULL), (long long)l.n);
	s = orchtest_str(pg, "SELECT string_agg(o.line, E'\\n' ORDER BY "
	    "r.id, o.seq) || E'\\n' FROM run_output o JOIN runs r ON r.id = "
	    "o.run_id", 0, NULL);
	ck_assert_str_eq(s, l.all.buf);
	free(s);
	/* The monitors file the second step writes for Kuma. */
	f = path_join(ot.demo_root, "docker1/uptime-kuma/monitors.json");
	ck_assert_msg(access(f, R_OK) == 0, "%s missing", f);
	free(f);
	/* Now there is history for the estimate. */
	ck_assert(plan_estimate(pg, "kuma-deploy.yml", "deploy", &from) <
	    plan_default_estimate("deploy"));
	ck_assert_str_eq(from, "median of 1 run");
	free(from);
	strbuf_free(&l.all);
	strbuf_free(&steps);
	plan_free(p);

	/* The same request again changes nothing. */
	memset(&l, 0, sizeof l);
	p = plan_of(KUMA);
	ck_assert_str_eq(p->tasks[0].estimate_from, "median of 1 run");
	ck_assert_int_gt(approve_plan(pg, p->row_id, &who, NULL, &err), 0);
	bad = approve_execute(ot.app, p, lines_add, &l, NULL, NULL, &err);
	ck_assert_msg(bad == 0, "bad=%d err=%s", bad, err);
	for (i = 0; i < p->ntasks; i++) {
		s = approve_task_summary(pg, p->tasks[i].id);
		ck_assert_ptr_nonnull(s);
		approve_count(s, &changed, &failed);
		ck_assert_msg(changed == 0 && failed == 0, "step %zu: %s",
		    i + 1, s);
		free(s);
	}
	strbuf_free(&l.all);
	plan_free(p);
}
END_TEST

static Suite *
approve_suite(void)
{
	Suite	*s = suite_create("approve");
	TCase	*tc;

	tc = tcase_create("gate");
	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_approve_records_who_and_queues);
	tcase_add_test(tc, test_reject_needs_a_reason);
	tcase_add_test(tc, test_modify_supersedes);
	tcase_add_test(tc, test_pending_list);
	tcase_add_test(tc, test_bypass_refused_by_database);
	tcase_add_test(tc, test_runtime_role_forgeries_refused);
	tcase_add_test(tc, test_claim_refuses_changed_task);
	tcase_add_test(tc, test_claim_refuses_edited_playbook);
	tcase_add_test(tc, test_dry_run_changes_nothing);
	tcase_add_test(tc, test_execute_for_real);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(approve_suite());
}
