/*
 * tui-plan.c - the plan/review pane: a request's plan, its approval and
 * its steps' states while it executes.
 *
 * A submitted request goes through request_plan (request.h), exactly as
 * `chiffon plan` and `chiffon run` do: it is recorded, understood by the
 * parser tiers and planned against the catalog, and a runnable plan is
 * stored pending approval.  The log pane gets the plan as those commands
 * print it (plan_format); this pane shows it compactly, one line per
 * step with its state, or the questions (and the matcher's candidates)
 * when the request cannot be placed - nothing is guessed and such a plan
 * cannot be approved.
 *
 * Approving (approve_plan, the same gate as `chiffon approve`) hands the
 * plan to tui-exec.c, which reports every change of a step's state back
 * here (tui_plan_step).  Rejecting records the reason (approve_reject).
 *
 * Planning is a request job (request.h) on the shell's one loop: the
 * key handler starts it and returns, the pane shows a spinner while the
 * tiers (an LLM call, perhaps) and the matcher work, every key goes on
 * answering, and C-c cancels the request.  The job's callback shows the
 * plan.  A modification (F7) is the same kind of job.
 *
 * A plan picked from the pending list (tui-pending.c) is loaded from
 * the database (plan_load) and shown as if just planned; one that
 * another session approves or rejects meanwhile (tui_plan_changed, from
 * the watch) is marked so and can no longer be approved here - and the
 * database would refuse it anyway.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chiffon/capabilities.h"
#include "app.h"
#include "dispatch.h"
#include "exec.h"
#include "approve.h"
#include "audit.h"
#include "conf.h"
#include "db.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "plan.h"
#include "request.h"
#include "runlog.h"
#include "tui.h"
#include "util.h"
#include "vocab.h"
#include "worker.h"

static void	tui_plan_show(struct tui *, struct plan *);
static int	tui_plan_refuse(struct tui *, const char *, char *);

/* The reason recorded when F6 rejects a plan on an empty request line. */
#define TUI_PLAN_REJECT_REASON	"rejected in the shell"

/* Free the steps' status reasons. */
static void
tui_plan_free_reasons(struct tui *t)
{
	size_t	i;

	for (i = 0; i < t->plan_nreasons; i++)
		free(t->plan_reasons[i]);
	free(t->plan_reasons);
	t->plan_reasons = NULL;
	t->plan_nreasons = 0;
}

/* Forget the pane's request and plan. */
static void
tui_plan_clear(struct tui *t)
{
	if (t->confirm_row != 0)
		tui_plan_confirm_cancel(t, NULL);
	t->plan_seen_top = t->plan_seen_end = 0;
	t->plan_elsewhere = 0;
	free(t->plan_request);
	free(t->plan_error);
	free(t->plan_changed);
	free(t->plan_prompts);
	t->plan_prompts = NULL;
	tui_plan_free_reasons(t);
	tui_log_clear(&t->summary);
	plan_free(t->plan_cur);
	t->plan_request = t->plan_error = NULL;
	t->plan_changed = NULL;
	t->plan_cur = NULL;
}

/* A human word for a step's state, with its changed count. */
static char *
tui_plan_state(const struct tui *t, size_t i)
{
	const char	*st = t->plan_cur->tasks[i].status;

	if (st == NULL || strcmp(st, "pending_approval") == 0)
		return xstrdup("pending approval");
	if (t->plan_changed != NULL && t->plan_changed[i] >= 0)
		return xasprintf("%s, changed %lld", st, t->plan_changed[i]);
	return xstrdup(st);
}

/*
 * Add text to the pane as rows of at most the screen's width, broken at
 * spaces; the rows after the first are indented by indent columns (a
 * step row at 80 columns keeps its state in sight).
 */
static void
tui_plan_add_wrapped(struct tui *t, int level, const char *text, int indent)
{
	struct strbuf	 sb = { 0 };
	const char	*p = text, *q;
	int		 cols = t->geom.cols > 20 ? t->geom.cols : 80, room, w;
	size_t		 n, fit;

	room = cols;
	while (*p != '\0') {
		/* The longest run of words that fits in room columns. */
		for (fit = 0; *(q = p + fit) != '\0'; ) {
			n = strspn(q, " ");
			n += strcspn(q + n, " ");
			w = tui_text_width(p, fit + n);
			if (w > room && fit > 0)
				break;
			fit += n;
			if (w > room)
				break;	/* one word wider than the row */
		}
		strbuf_reset(&sb);
		if (p != text)
			strbuf_addf(&sb, "%*s", indent, "");
		strbuf_add(&sb, p, fit);
		tui_log_add(&t->plan, level, sb.buf);
		p += fit;
		while (*p == ' ')
			p++;
		room = cols - indent;
	}
	strbuf_free(&sb);
}

/* One line per step. */
static void
tui_plan_render_steps(struct tui *t)
{
	const struct plan	*p = t->plan_cur;
	struct json_object	*c;
	struct strbuf		 sb = { 0 };
	size_t			 i, j, n;
	char			*d, *state, *targets;

	for (i = 0; i < p->ntasks; i++) {
		const struct plan_task *pt = &p->tasks[i];

		strbuf_reset(&sb);
		strbuf_addf(&sb, "%2d. %s %s  ", pt->step, pt->action,
		    pt->service != NULL ? pt->service : "?");
		if (pt->playbook != NULL)
			strbuf_addf(&sb, "%s (%s, %.2f)", pt->playbook,
			    pt->method != NULL ? pt->method : "?",
			    pt->confidence);
		else
			strbuf_adds(&sb, "NO PLAYBOOK");
		d = plan_duration(pt->estimated_s);
		state = tui_plan_state(t, i);
		/* The hosts it runs on: the play's hosts and the limit. */
		targets = plan_targets(pt, t->vocab);
		strbuf_addf(&sb, "  targets: %s  risk: %s  est. %s  [%s]",
		    targets, plan_risk_name(pt->risk), d, state);
		free(targets);
		free(state);
		free(d);
		tui_plan_add_wrapped(t, -1, sb.buf, 4);
		/* Its task, exact command line and why the risk. */
		strbuf_reset(&sb);
		if (pt->id > 0)
			strbuf_addf(&sb, "    task %lld  ", pt->id);
		else
			strbuf_adds(&sb, "    ");
		strbuf_addf(&sb, "command: %s", pt->command != NULL ?
		    pt->command : "(none: nothing to run)");
		tui_plan_add_wrapped(t, -1, sb.buf, 8);
		if (pt->risk_why != NULL) {
			strbuf_reset(&sb);
			strbuf_addf(&sb, "    risk: %s", pt->risk_why);
			tui_plan_add_wrapped(t, -1, sb.buf, 8);
		}
		/* Why it waits (paused: "waiting for resources: ..."). */
		if (i < t->plan_nreasons && t->plan_reasons[i] != NULL) {
			strbuf_reset(&sb);
			strbuf_addf(&sb, "    %s: %s", pt->status != NULL ?
			    pt->status : "", t->plan_reasons[i]);
			tui_log_add(&t->plan, CHIFFON_LOG_WARNING, sb.buf);
		}
		n = pt->candidates != NULL ?
		    json_object_array_length(pt->candidates) : 0;
		if (pt->playbook != NULL || n == 0)
			continue;
		strbuf_reset(&sb);
		strbuf_adds(&sb, "    candidates:");
		for (j = 0; j < n && j < 5; j++) {
			struct json_object	*v;
			const char		*path = NULL;

			c = json_object_array_get_idx(pt->candidates, j);
			if (json_object_object_get_ex(c, "path", &v))
				path = json_object_get_string(v);
			strbuf_addf(&sb, "%s %s", j > 0 ? "," : "",
			    path != NULL ? path : "?");
			if (json_object_object_get_ex(c, "confidence", &v))
				strbuf_addf(&sb, " (%.2f)",
				    json_object_get_double(v));
		}
		tui_log_add(&t->plan, -1, sb.buf);
	}
	strbuf_free(&sb);
}

/* The last line: what can be done with the plan now. */
static void
tui_plan_render_hint(struct tui *t)
{
	const struct plan	*p = t->plan_cur;
	size_t			 i, nok = 0, nend = 0;
	const char		*st;
	char			*s;

	if (!plan_runnable(p) || p->row_id <= 0) {
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING, "Nothing to approve: "
		    "answer the questions by rephrasing the request.");
		return;
	}
	if (t->plan_elsewhere) {
		s = xasprintf("Plan %lld v%d was %s in another session "
		    "meanwhile: it cannot be approved here (read-only).",
		    p->plan_id, p->version, p->status);
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING, s);
		free(s);
		return;
	}
	if (tui_plan_pending(t)) {
		if (t->plan_prompts != NULL) {
			s = xasprintf("Input: %s ask%s for input when run; the "
			    "request line will ask (typed hidden).",
			    t->plan_prompts, strchr(t->plan_prompts, ',') !=
			    NULL ? "" : "s");
			tui_log_add(&t->plan, CHIFFON_LOG_WARNING, s);
			free(s);
		}
		if (t->exec != NULL && !tui_exec_done(t->exec))
			tui_log_add(&t->plan, -1, "Another plan is still "
			    "running: approve this one once it ended (F5).");
		else if (t->confirm_row != 0)
			tui_log_add(&t->plan, CHIFFON_LOG_WARNING, "High risk: "
			    "type the confirmation on the request line and "
			    "press Enter (C-c or Esc: do not approve).");
		else if (plan_confirm_needed(p))
			tui_log_add(&t->plan, CHIFFON_LOG_WARNING, "High risk: "
			    "F5 asks for a typed confirmation once every step "
			    "was shown.  F6 rejects, F7 modifies, F8 dry run.");
		else
			tui_log_add(&t->plan, -1, "F5: approve and run  F6: "
			    "reject  F7: modify  F8: dry run  (or Esc, then a, "
			    "r, m, d)");
		return;
	}
	if (p->status != NULL && strcmp(p->status, "rejected") == 0) {
		tui_log_add(&t->plan, -1, "Rejected: nothing ran.");
		return;
	}
	for (i = 0; i < p->ntasks; i++) {
		st = p->tasks[i].status != NULL ? p->tasks[i].status : "";
		if (strcmp(st, "succeeded") == 0)
			nok++;
		if (dispatch_task_final(st))
			nend++;
	}
	if (nend < p->ntasks) {
		tui_log_add(&t->plan, -1, "Running: the output streams into "
		    "the log pane; the keys keep working.");
		return;
	}
	if (nok == p->ntasks)
		s = xasprintf("All %zu step%s succeeded.", p->ntasks,
		    p->ntasks == 1 ? "" : "s");
	else
		s = xasprintf("%zu of %zu step%s did not succeed.",
		    p->ntasks - nok, p->ntasks, p->ntasks == 1 ? "" : "s");
	tui_log_add(&t->plan, nok == p->ntasks ? -1 : CHIFFON_LOG_ERROR, s);
	free(s);
}

void
tui_plan_render(struct tui *t)
{
	const struct plan	*p = t->plan_cur;
	struct json_object	*q;
	size_t			 i, nq;
	char			*s;

	tui_log_clear(&t->plan);
	if (t->plan_request == NULL)
		return;
	s = xasprintf("Request: %s", t->plan_request);
	tui_log_add(&t->plan, -1, s);
	free(s);
	if (t->plan_error != NULL) {
		tui_log_add(&t->plan, CHIFFON_LOG_ERROR, "Cannot plan this "
		    "request:");
		tui_log_add(&t->plan, -1, t->plan_error);
		return;
	}
	if (p == NULL) {
		s = xasprintf("%s %c  (C-c cancels the request)",
		    t->req != NULL && request_job_in_flight(t->req) ?
		    "Asking the model..." : t->vocab_wait ? "Reading the "
		    "repository's catalog..." : "Planning...",
		    "|/-\\"[t->spin % 4]);
		tui_log_add(&t->plan, -1, s);
		free(s);
		return;
	}
	if (p->row_id > 0)
		s = xasprintf("Plan %lld v%d (%s), %zu step%s, understood "
		    "by the %s parser ($%.4f):", p->plan_id, p->version,
		    p->status != NULL ? p->status : "pending_approval",
		    p->ntasks, p->ntasks == 1 ? "" : "s",
		    p->tier != NULL ? p->tier : "deterministic", p->cost_usd);
	else
		s = xasprintf("No plan: request %lld leaves questions "
		    "(recorded; nothing is stored to run).", p->request_id);
	tui_log_add(&t->plan, -1, s);
	free(s);
	/* Once the run ended its verdict comes first, where it is seen. */
	if (t->summary.count > 0)
		tui_plan_render_hint(t);
	tui_plan_render_steps(t);
	q = p->questions;
	nq = q != NULL ? json_object_array_length(q) : 0;
	if (nq > 0)
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING, "Questions (nothing "
		    "runs until they are answered):");
	for (i = 0; i < nq; i++) {
		s = xasprintf("  ? %s", json_object_get_string(
		    json_object_array_get_idx(q, i)));
		tui_log_add(&t->plan, -1, s);
		free(s);
	}
	/* What of the request was not used (the parser's notes). */
	nq = p->notes != NULL ? json_object_array_length(p->notes) : 0;
	if (nq == 0 && p->row_id > 0)
		tui_log_add(&t->plan, -1, "Left out of the request: nothing "
		    "(the parser placed every part of it).");
	for (i = 0; i < nq; i++) {
		s = xasprintf("Note: %s", json_object_get_string(
		    json_object_array_get_idx(p->notes, i)));
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING, s);
		free(s);
	}
	if (t->summary.count == 0)
		tui_plan_render_hint(t);
	/* After the run: its summary, the view from the top (the steps). */
	for (i = 0; tui_log_get(&t->summary, i) != NULL; i++)
		tui_log_add(&t->plan, tui_log_get(&t->summary, i)->level,
		    tui_log_get(&t->summary, i)->text);
	if (t->summary.count > 0)
		t->plan.scroll = t->plan.count;
}

/* A background catalog refresh; t is NULL once the shell has ended. */
struct tui_vocab_job {
	struct tui	*t;
};

/* How often the spinner turns while a request is planned. */
#define TUI_PLAN_SPIN_MS	100

static int
tui_plan_spin(void *data)
{
	struct tui	*t = data;

	t->spin++;
	if (t->plan_cur == NULL)
		tui_plan_render(t);
	tui_layout_draw_panes(t);
	return 0;
}

/* A request job began: the spinner turns until it ends. */
static void
tui_plan_job_begin(struct tui *t, struct request_job *job)
{
	t->req = job;
	t->planning = 1;
	t->spin = 0;
	if (t->spin_timer == 0)
		t->spin_timer = loop_add_timer(t->loop, TUI_PLAN_SPIN_MS,
		    tui_plan_spin, t, NULL, NULL);
}

/* The request job ended (or was canceled). */
static void
tui_plan_job_end(struct tui *t)
{
	t->req = NULL;
	t->planning = 0;
	if (t->spin_timer > 0)
		loop_remove(t->loop, t->spin_timer);
	t->spin_timer = 0;
}

/* A request is under way: planned, or waiting for the first catalog. */
static int
tui_plan_busy(const struct tui *t)
{
	return t->req != NULL || t->vocab_wait;
}

/* Stop the request under way (the catalog still lands, for the next). */
static void
tui_plan_stop_request(struct tui *t)
{
	if (t->req != NULL)
		request_cancel(t->req);
	t->vocab_wait = 0;
	tui_plan_job_end(t);
}

/* The request's plan came (or why not). */
static void
tui_plan_request_done(struct plan *p, enum request_error why, char *err,
    void *data)
{
	struct tui	*t = data;

	(void)why;
	tui_plan_job_end(t);
	if (p == NULL) {
		t->plan_error = err;
		tui_log_line(t, CHIFFON_LOG_ERROR, NULL, err);
		tui_plan_render(t);
	} else {
		free(err);
		/* The next request sees changes made to the repository. */
		tui_plan_vocab_refresh(t);
		tui_plan_show(t, p);
	}
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

/* Plan t->plan_request with the catalog there is (request_start). */
static void
tui_plan_request_go(struct tui *t)
{
	tui_plan_job_begin(t, request_start(t->app, t->plan_request,
	    REQUEST_SOURCE_TUI, t->vocab, NULL, NULL, tui_plan_request_done,
	    t));
	tui_plan_render(t);
	tui_layout_draw_panes(t);
}

void
tui_plan_request(struct tui *t, const char *text)
{
	char	*err = NULL;

	if (tui_plan_busy(t) || t->dry != NULL) {
		tui_plan_refuse(t, t->dry != NULL ? "a dry run is in progress: "
		    "wait for it, or C-c stops it" : "a request is being "
		    "planned: wait for its plan, or C-c cancels it", NULL);
		return;
	}
	tui_plan_clear(t);
	t->plan_request = xstrdup(text);
	if (tui_pending_shown(t))
		tui_pending_show(t, 0);
	tui_pane_show(t, TUI_FOCUS_PLAN);	/* the focus stays */
	if (request_check_env(t->app, 0, &err) != 0) {
		t->plan_error = err;
		tui_plan_render(t);
		return;
	}
	/*
	 * Before the first catalog came, the request waits for it on the
	 * loop (tui_plan_vocab_done starts it), keys still answering: the
	 * Plan pane needs it to show the hosts each step targets, and the
	 * request would otherwise load its own inside this key's handler.
	 */
	if (t->vocab == NULL) {
		tui_plan_vocab_refresh(t);
		if (t->vocab_job != NULL) {
			t->vocab_wait = 1;
			tui_plan_job_begin(t, NULL);
			tui_plan_render(t);
			tui_layout_draw_panes(t);
			return;
		}
	}
	tui_plan_request_go(t);
}

int
tui_plan_cancel_request(struct tui *t)
{
	char	*s;

	if (t->dry != NULL) {
		approve_dry_cancel(t->dry);
		t->dry = NULL;
		tui_plan_job_end(t);
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, "dry run stopped (C-c): "
		    "the plan is still pending approval");
		tui_plan_render(t);
		tui_layout_draw_panes(t);
		return 1;
	}
	if (!tui_plan_busy(t))
		return 0;
	tui_plan_stop_request(t);
	s = xasprintf("request canceled: %s", t->plan_amended != NULL ?
	    t->plan_amended : t->plan_request != NULL ? t->plan_request : "");
	free(t->plan_amended);
	t->plan_amended = NULL;
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	if (t->plan_cur == NULL) {
		free(t->plan_error);
		t->plan_error = xstrdup("canceled (C-c) before its plan "
		    "came: nothing was planned");
	}
	tui_plan_render(t);
	tui_layout_draw_panes(t);
	return 1;
}

int
tui_plan_pending(const struct tui *t)
{
	const struct plan	*p = t->plan_cur;

	return p != NULL && !t->planning && !tui_pending_shown(t) &&
	    p->row_id > 0 && plan_runnable(p) && (p->status == NULL ||
	    strcmp(p->status, "pending_approval") == 0);
}

/* Set the state of the plan and of all its steps. */
static void
tui_plan_set_status(struct plan *p, const char *plan_st, const char *task_st)
{
	size_t	i;

	free(p->status);
	p->status = xstrdup(plan_st);
	for (i = 0; i < p->ntasks; i++) {
		free(p->tasks[i].status);
		p->tasks[i].status = xstrdup(task_st);
	}
}

/* Log a refusal of a key: why nothing happened. */
static int
tui_plan_refuse(struct tui *t, const char *msg, char *err)
{
	char	*s;

	s = err != NULL ? xasprintf("%s: %s", msg, err) : xstrdup(msg);
	tui_log_line(t, CHIFFON_LOG_WARNING, NULL, s);
	free(s);
	free(err);
	return -1;
}

/* Approve the pending plan and start executing it.  0, or -1 (logged). */
static int
tui_plan_approve_now(struct tui *t)
{
	struct approve_who	 who = approve_who_current(t->app->conf);
	struct plan		*p = t->plan_cur;
	struct db		*db;
	char			*err = NULL, *s, *agent;
	long long		 approval;
	int			 nq = 0;

	if (request_check_env(t->app, 1, &err) != 0 ||
	    (db = app_db(t->app, &err)) == NULL)
		return tui_plan_refuse(t, "cannot run plans", err);
	/* Its tasks are queued for this shell's worker alone. */
	agent = worker_default_name(t->app->conf);
	if (dispatch_set_owner(db_pg(db), agent, &err) != 0) {
		free(agent);
		return tui_plan_refuse(t, "cannot run plans", err);
	}
	free(agent);
	approval = approve_plan(db_pg(db), p->row_id, &who, &nq, &err);
	dispatch_set_owner(db_pg(db), NULL, NULL);
	if (approval < 0)
		return tui_plan_refuse(t, "approval refused", err);
	tui_plan_set_status(p, "approved", "queued");
	s = xasprintf("Plan %lld approved by %s%s%s; %d task%s queued.",
	    p->plan_id, who.user, who.ssh_client != NULL ? " from " : "",
	    who.ssh_client != NULL ? who.ssh_client : "", nq,
	    nq == 1 ? "" : "s");
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	/* The status bar reads t->exec: never leave it dangling. */
	if (t->exec != NULL) {
		tui_exec_free(t->exec, NULL);
		t->exec = NULL;
	}
	t->exec = tui_exec_start(t, p->row_id, p->plan_id, &err);
	if (t->exec == NULL) {
		dispatch_disown(db_pg(db), p->row_id, NULL);
		tui_plan_refuse(t, "this shell cannot run the tasks (they "
		    "stay queued for `chiffon worker`)", err);
	}
	tui_plan_render(t);
	tui_status_refresh(t);
	return 0;
}

int
tui_plan_approve(struct tui *t)
{
	struct plan	*p = t->plan_cur;
	char		*q, *s;

	if (tui_pending_shown(t))
		return tui_plan_refuse(t, "not approved: the pending list is "
		    "shown; Enter shows the selected plan, then F5 approves it",
		    NULL);
	if (!tui_plan_pending(t))
		return tui_plan_refuse(t, p != NULL && p->row_id <= 0 ?
		    "nothing to approve: the request leaves questions" :
		    "nothing to approve: no plan pending approval is shown",
		    NULL);
	if (t->exec != NULL && !tui_exec_done(t->exec))
		return tui_plan_refuse(t, "another plan is still running; "
		    "approve this one once it ended", NULL);
	if ((q = plan_confirm_question(p)) == NULL)
		return tui_plan_approve_now(t);
	/* High risk: the whole step list first, then a typed word. */
	tui_layout_draw_panes(t);
	if (!t->plan_seen_top || !t->plan_seen_end) {
		free(q);
		tui_pane_focus(t, TUI_FOCUS_PLAN);
		tui_layout_draw_panes(t);
		return tui_plan_refuse(t, "not approved: read the whole plan "
		    "first (it has a high-risk step; PgUp/PgDn scroll the plan "
		    "pane, focused now), then F5 again", NULL);
	}
	t->confirm_row = p->row_id;
	s = xasprintf("%s: ", q);
	tui_input_ask(t, s);
	free(s);
	s = xasprintf("plan %lld: %s (C-c or Esc: do not approve)",
	    p->plan_id, q);
	tui_log_line(t, CHIFFON_LOG_WARNING, NULL, s);
	free(s);
	free(q);
	tui_plan_render(t);
	return 0;
}

int
tui_plan_confirm(struct tui *t, const char *text)
{
	struct plan	*p = t->plan_cur;
	int		 ok;

	if (t->confirm_row == 0)
		return -1;
	ok = p != NULL && p->row_id == t->confirm_row &&
	    tui_plan_pending(t) && plan_confirm_ok(p, text);
	if (!ok) {
		tui_plan_confirm_cancel(t, NULL);
		tui_plan_render(t);
		return tui_plan_refuse(t, "not confirmed (the answer was not "
		    "yes or the service name): nothing was approved", NULL);
	}
	tui_plan_confirm_cancel(t, NULL);
	return tui_plan_approve_now(t);
}

void
tui_plan_confirm_cancel(struct tui *t, const char *why)
{
	if (t->confirm_row == 0)
		return;
	t->confirm_row = 0;
	tui_input_ask(t, NULL);
	if (why != NULL)
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, why);
	if (t->plan_cur != NULL)
		tui_plan_render(t);
}

/* Show a plan made in the shell: the pane, and the log as `plan` prints. */
static void
tui_plan_show(struct tui *t, struct plan *p)
{
	size_t	 i;
	char	*s;

	t->plan_cur = p;
	t->plan_prompts = plan_prompts(p, conf_get(t->app->conf,
	    "ansible.repo"));
	/* Drawing it tells what of it was seen. */
	t->plan_seen_top = t->plan_seen_end = 0;
	t->plan_changed = xcalloc(p->ntasks + 1, sizeof *t->plan_changed);
	for (i = 0; i < p->ntasks; i++)
		t->plan_changed[i] = -1;
	tui_plan_free_reasons(t);
	t->plan_reasons = xcalloc(p->ntasks + 1, sizeof *t->plan_reasons);
	t->plan_nreasons = p->ntasks;
	s = plan_format(p);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	tui_plan_render(t);
}

/* The modification's plan came (or why not). */
static void
tui_plan_modify_done(struct plan *p, int env, char *err, void *data)
{
	struct tui	*t = data;
	char		*s, *amended = t->plan_amended;

	(void)env;
	t->plan_amended = NULL;
	tui_plan_job_end(t);
	if (p == NULL)
		tui_plan_refuse(t, "modify refused", err);
	else if (p->row_id <= 0) {
		plan_free(p);
		free(err);
		tui_plan_refuse(t, "the amended request leaves questions: "
		    "the plan is unchanged", NULL);
	} else {
		free(err);
		s = xasprintf("modified: %s", amended);
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
		free(s);
		tui_plan_clear(t);
		t->plan_request = xstrdup(amended);
		tui_plan_show(t, p);
	}
	free(amended);
	tui_plan_render(t);
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

int
tui_plan_modify(struct tui *t, const char *amended)
{
	struct request_job	*job;
	char			*err = NULL;
	int			 env = 0;

	if (!tui_plan_pending(t))
		return tui_plan_refuse(t, "nothing to modify: no plan pending "
		    "approval is shown", NULL);
	job = approve_modify_start(t->app, t->plan_cur->row_id, amended, NULL,
	    NULL, tui_plan_modify_done, t, &err, &env);
	if (job == NULL)
		return tui_plan_refuse(t, "modify refused", err);
	t->plan_amended = xstrdup(amended);
	tui_plan_job_begin(t, job);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, "planning the modification "
	    "(C-c cancels it)...");
	tui_plan_render(t);
	return 0;
}

/* An output line of a dry run: into the log pane. */
static void
tui_plan_dry_line(struct runlog *rl, int stream, const char *line,
    size_t len, void *data)
{
	char	*s = output_plain(line, len);

	(void)rl;
	(void)stream;
	s[strcspn(s, "\r\n")] = '\0';
	tui_log_line(data, CHIFFON_LOG_INFO, NULL, s);
	free(s);
}

/* The dry run ended: one line per step, the plan still pending. */
static void
tui_plan_dry_done(int nbad, struct approve_dry *dry, char *err, void *data)
{
	struct tui		*t = data;
	const struct plan	*p = t->plan_cur;
	char			*s;
	size_t			 i;

	t->dry = NULL;
	tui_plan_job_end(t);
	if (nbad < 0) {
		tui_plan_refuse(t, "dry run failed", err);
		tui_plan_render(t);
		tui_layout_draw_panes(t);
		return;
	}
	free(err);
	for (i = 0; i < p->ntasks; i++) {
		s = xasprintf("==> dry run step %d %s: %s  would change=%lld "
		    "failed=%lld", dry[i].step, p->tasks[i].playbook != NULL ?
		    p->tasks[i].playbook : "-", dry[i].status, dry[i].changed,
		    dry[i].failed);
		tui_log_line(t, nbad > 0 ? CHIFFON_LOG_WARNING :
		    CHIFFON_LOG_INFO, NULL, s);
		free(s);
	}
	approve_dry_free(dry, p->ntasks);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, "dry run done: the plan is "
	    "still pending approval");
	tui_plan_render(t);
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

int
tui_plan_dry_run(struct tui *t)
{
	if (!tui_plan_pending(t))
		return tui_plan_refuse(t, "nothing to dry-run: no plan pending "
		    "approval is shown", NULL);
	if (t->exec != NULL && !tui_exec_done(t->exec))
		return tui_plan_refuse(t, "a plan is running; dry-run this "
		    "one once it ended", NULL);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, "dry run (check mode, "
	    "nothing changes; C-c stops it)...");
	/* The plan pane keeps the plan; nothing can be approved meanwhile. */
	t->planning = 1;
	t->dry = approve_dry_start(t->app, t->plan_cur, tui_plan_dry_line, t,
	    tui_plan_dry_done, t);
	tui_layout_draw_panes(t);
	return 0;
}

int
tui_plan_reject_row(struct tui *t, long long row, const char *reason)
{
	struct approve_who	 who = approve_who_current(t->app->conf);
	struct plan		*p = t->plan_cur;
	struct db		*db;
	char			*err = NULL, *s;
	long long		 plan_id = 0;
	int			 version = 0;

	if (t->planning)
		return tui_plan_refuse(t, "not rejected: wait for the request "
		    "or dry run in progress (C-c stops it)", NULL);
	if (reason == NULL || *reason == '\0')
		reason = TUI_PLAN_REJECT_REASON;
	if ((db = app_db(t->app, &err)) == NULL)
		return tui_plan_refuse(t, "cannot reject", err);
	if (approve_reject(db_pg(db), row, &who, reason, &err) < 0) {
		tui_pending_load(t);
		return tui_plan_refuse(t, "rejection refused", err);
	}
	t->plan_rejected = row;
	if (p != NULL && p->row_id == row) {
		tui_plan_set_status(p, "rejected", "rejected");
		plan_id = p->plan_id;
		version = p->version;
	} else if (tui_pending_row(t, row) != NULL) {
		plan_id = tui_pending_row(t, row)->plan_id;
		version = tui_pending_row(t, row)->version;
	}
	s = xasprintf("Plan %lld v%d rejected by %s: %s", plan_id, version,
	    who.user, reason);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	if (tui_pending_shown(t))
		tui_pending_load(t);
	tui_plan_render(t);
	return 0;
}

int
tui_plan_reject(struct tui *t, const char *reason)
{
	if (!tui_plan_pending(t))
		return tui_plan_refuse(t, "nothing to reject: no plan pending "
		    "approval is shown", NULL);
	return tui_plan_reject_row(t, t->plan_cur->row_id, reason);
}

int
tui_plan_pick(struct tui *t, long long row)
{
	struct plan	*p;
	struct db	*db;
	char		*err = NULL, *s;

	if (tui_plan_busy(t) || t->dry != NULL)
		return tui_plan_refuse(t, "not shown: a request or dry run is "
		    "in progress (wait for it, or C-c stops it)", NULL);
	if ((db = app_db(t->app, &err)) == NULL ||
	    (p = plan_load(db_pg(db), row, &err)) == NULL)
		return tui_plan_refuse(t, "cannot show the plan", err);
	if (strcmp(p->status, "pending_approval") != 0) {
		s = xasprintf("plan %lld v%d is %s meanwhile: nothing to "
		    "approve", p->plan_id, p->version, p->status);
		plan_free(p);
		tui_pending_load(t);
		tui_plan_refuse(t, s, NULL);
		free(s);
		return -1;
	}
	tui_plan_clear(t);
	if (t->pending != NULL)
		tui_pending_show(t, 0);
	t->plan_request = xstrdup(p->text);
	s = xasprintf("plan %lld v%d picked from the pending plans: F5 "
	    "approves it, F6 rejects, F7 amends", p->plan_id, p->version);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	tui_plan_show(t, p);
	tui_pane_focus(t, TUI_FOCUS_PLAN);
	return 0;
}

void
tui_plan_changed(struct tui *t, long long plan_row, const char *st)
{
	struct plan	*p = t->plan_cur;
	const char	*plan_st;
	char		*s;
	size_t		 i;

	tui_pending_changed(t);
	if (p == NULL || p->row_id != plan_row || st == NULL ||
	    strcmp(st, "pending_approval") == 0 || (p->status != NULL &&
	    strcmp(p->status, "pending_approval") != 0))
		return;
	/* This shell's own decisions set p->status before they commit. */
	plan_st = strcmp(st, "rejected") == 0 || strcmp(st, "superseded") ==
	    0 || strcmp(st, "canceled") == 0 ? st : "approved";
	free(p->status);
	p->status = xstrdup(plan_st);
	for (i = 0; i < p->ntasks; i++) {
		free(p->tasks[i].status);
		p->tasks[i].status = xstrdup(st);
	}
	t->plan_elsewhere = 1;
	if (t->confirm_row == plan_row)
		tui_plan_confirm_cancel(t, NULL);
	s = xasprintf("plan %lld v%d was %s in another session: it can no "
	    "longer be approved here", p->plan_id, p->version, plan_st);
	tui_log_line(t, CHIFFON_LOG_WARNING, NULL, s);
	free(s);
	tui_plan_render(t);
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

void
tui_plan_step(struct tui *t, long long plan_row, size_t i, const char *st,
    const char *reason, long long changed)
{
	struct plan	*p = t->plan_cur;
	char		*s, *state;

	if (p == NULL || p->row_id != plan_row) {
		/* A plan no longer shown: the log pane only. */
		if (st != NULL) {
			s = xasprintf("==> plan row %lld step %zu: %s",
			    plan_row, i + 1, st);
			tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
			free(s);
		}
		tui_status_refresh(t);
		return;
	}
	/* st NULL: every step ended (the states are already shown). */
	if (st == NULL)
		tui_summary_show(t, plan_row);
	if (st != NULL && i < p->ntasks) {
		free(p->tasks[i].status);
		p->tasks[i].status = xstrdup(st);
		t->plan_changed[i] = changed;
		if (i < t->plan_nreasons) {
			free(t->plan_reasons[i]);
			t->plan_reasons[i] = reason != NULL && *reason != '\0' ?
			    xstrdup(reason) : NULL;
		}
		state = tui_plan_state(t, i);
		s = xasprintf("==> step %d %s %s (%s): %s%s%s",
		    p->tasks[i].step, p->tasks[i].action,
		    p->tasks[i].service != NULL ? p->tasks[i].service : "?",
		    p->tasks[i].playbook != NULL ? p->tasks[i].playbook : "-",
		    state, reason != NULL && *reason != '\0' ? " - " : "",
		    reason != NULL ? reason : "");
		tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
		free(s);
		free(state);
	}
	tui_plan_render(t);
	tui_layout_draw_panes(t);
	tui_status_refresh(t);
}

int
tui_plan_interrupt(struct tui *t, const char *why)
{
	int	n;

	if (t->exec == NULL)
		return 0;
	n = tui_exec_interrupt(t->exec, why);
	t->exec = NULL;
	return n;
}

static const char tui_plan_sql_interrupted[] =
	"SELECT t.id, to_char(t.status_changed_at, 'HH24:MI'),"
	" coalesce(p.amendment, r.text), t.playbook"
	" FROM tasks t JOIN plans p ON p.id = t.plan_id"
	" JOIN requests r ON r.id = p.request_id"
	" WHERE t.status = 'interrupted' AND NOT EXISTS (SELECT 1 FROM"
	" approvals a WHERE a.at > t.status_changed_at)"
	" ORDER BY t.status_changed_at DESC, t.step LIMIT 1";

void
tui_plan_interrupted_notice(struct tui *t)
{
	struct db	*db = app_db(t->app, NULL);
	struct worker	*w;
	PGresult	*res;
	char		*s, *err = NULL;

	/* What a shell killed mid-run left queued for itself. */
	if (db != NULL && (w = worker_new(t->app, NULL, &err)) != NULL) {
		if (worker_sweep_orphans(w, &err) < 0) {
			s = xasprintf("looking for plans of vanished shells: %s",
			    err);
			tui_log_line(t, CHIFFON_LOG_WARNING, NULL, s);
			free(s);
			free(err);
		}
		worker_free(w);
	} else
		free(err);
	if (db == NULL || (res = db_exec(db_pg(db),
	    tui_plan_sql_interrupted, 0, NULL, NULL)) == NULL)
		return;
	if (PQntuples(res) == 1) {
		free(t->rerun_text);
		t->rerun_text = xstrdup(PQgetvalue(res, 0, 2));
		s = xasprintf("task %s (%s) was interrupted at %s; F9 to run "
		    "it again (a new plan, approved with F5)",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 3),
		    PQgetvalue(res, 0, 1));
		tui_log_line(t, CHIFFON_LOG_WARNING, NULL, s);
		tui_log_add(&t->plan, CHIFFON_LOG_WARNING, s);
		free(s);
	}
	PQclear(res);
}

char *
tui_plan_cancel_question(const struct tui *t, size_t i)
{
	const struct plan	*p = t->plan_cur;

	if (p != NULL && t->exec != NULL && p->row_id ==
	    tui_exec_plan(t->exec) && i < p->ntasks)
		return xasprintf("cancel step %d (%s)? y/N ", p->tasks[i].step,
		    p->tasks[i].playbook != NULL ? p->tasks[i].playbook : "-");
	return xasprintf("cancel step %zu of plan %lld? y/N ", i + 1,
	    t->exec != NULL ? tui_exec_plan_id(t->exec) : 0LL);
}

int
tui_plan_rerun(struct tui *t)
{
	char	*text = t->rerun_text, *s;

	if (text == NULL)
		return tui_plan_refuse(t, "no interrupted task to run again",
		    NULL);
	t->rerun_text = NULL;
	s = xasprintf("request (again): %s", text);
	tui_log_line(t, CHIFFON_LOG_INFO, NULL, s);
	free(s);
	tui_plan_request(t, text);
	free(text);
	return 0;
}

void
tui_plan_end(struct tui *t)
{
	char	*why;

	free(t->rerun_text);
	t->rerun_text = NULL;
	if (tui_plan_busy(t)) {
		tui_plan_stop_request(t);
		free(t->plan_amended);
		t->plan_amended = NULL;
	}
	if (t->dry != NULL) {
		/* Its check run stops; let it end before the plan goes. */
		approve_dry_cancel(t->dry);
		t->dry = NULL;
		tui_plan_job_end(t);
		exec_drain(t->app, HOST_CANCEL_GRACE_MS);
	}
	if (t->exec != NULL) {
		why = xasprintf("canceled: %s quit the shell while the plan "
		    "ran", audit_actor());
		tui_exec_free(t->exec, why);
		free(why);
	}
	t->exec = NULL;
	tui_plan_clear(t);
	/* A refresh still in flight finishes without the shell. */
	if (t->vocab_job != NULL)
		t->vocab_job->t = NULL;
	t->vocab_job = NULL;
	if (t->vocab != NULL) {
		vocab_free(t->vocab);
		free(t->vocab);
	}
	t->vocab = NULL;
}

/*
 * The loop's turn after a catalog arrived: the refresh's transient heap
 * (the plugin's parse, the answer's text, the vocabulary replaced) is
 * free now but still resident; hand its pages back (issue 12: about
 * 250 kB of the idle shell).
 */
static int
tui_plan_trim(void *data)
{
	(void)data;
	malloc_trim(0);
	return 1;	/* once */
}

static void
tui_plan_vocab_done(const char *status, const char *result_json, void *data)
{
	struct tui_vocab_job	*job = data;
	struct tui		*t = job->t;
	struct vocab		*v;
	char			*err = NULL;

	free(job);
	if (t == NULL)
		return;
	t->vocab_job = NULL;
	/*
	 * A request being planned uses t->vocab: the next refresh replaces
	 * it.  A request started before the first catalog came plans with
	 * its own, so this one can be kept.
	 */
	if (t->req != NULL && t->vocab != NULL)
		return;
	v = xcalloc(1, sizeof *v);
	if (strcmp(status, "successful") != 0 ||
	    vocab_from_json(v, result_json, &err) != 0) {
		log_debug("catalog refresh: %s", err != NULL ? err : status);
		free(err);
		vocab_free(v);
		free(v);
		v = NULL;
	} else {
		if (t->vocab != NULL) {
			vocab_free(t->vocab);
			free(t->vocab);
		}
		t->vocab = v;
		loop_add_timer(t->loop, 0, tui_plan_trim, NULL, NULL, t);
	}
	if (t->vocab_wait) {
		/*
		 * The request waiting for it is planned now; without a
		 * catalog it refreshes one itself and says what failed.
		 */
		t->vocab_wait = 0;
		tui_plan_job_end(t);
		tui_plan_request_go(t);
	} else if (v != NULL && t->plan_cur != NULL) {
		/* A plan shown before the catalog came gets its targets. */
		tui_plan_render(t);
		tui_layout_draw_panes(t);
	}
}

void
tui_plan_vocab_refresh(struct tui *t)
{
	struct tui_vocab_job	*job;
	char			*err = NULL;

	if (t->vocab_job != NULL)
		return;
	job = xcalloc(1, sizeof *job);
	job->t = t;
	t->vocab_job = job;
	if (host_invoke(t->app, CHIFFON_CAP_ANSIBLE_CATALOG, "{\"refresh\": true}",
	    tui_plan_vocab_done, job, &err) != 0) {
		log_debug("catalog refresh: %s", err);
		free(err);
		t->vocab_job = NULL;
		free(job);
	}
}
