/*
 * request.h - one request from its text to a stored plan: the engine
 * behind `chiffon plan`, `chiffon run` and the shell's request line.
 *
 * request_plan stores the requests row (actor = OS user, ssh_client
 * from SSH_CONNECTION, source), runs the parser tiers (tiers.h) on the
 * loop until they answer, stores the intents, ambiguities, tier and cost
 * on the row, builds the plan (plan.h) against the catalog (vocab.h),
 * and stores it when it is runnable.  Every step leaves an audit_log
 * row: request.received, request.parsed, then plan.generated or
 * request.question.
 */
#ifndef CHIFFON_REQUEST_H
#define CHIFFON_REQUEST_H

#include <libpq-fe.h>

#include "tiers.h"

struct app;
struct json_object;
struct plan;
struct vocab;

/* Where a request came from: requests.source. */
#define REQUEST_SOURCE_CLI	"cli"
#define REQUEST_SOURCE_TUI	"tui"

/* Why request_plan failed: decides the exit status of a command. */
enum request_error {
	REQUEST_OK = 0,
	REQUEST_ERR_ENV,	/* database, plugin, catalog unusable */
	REQUEST_ERR_CONFIG,	/* the llm.* configuration is unusable */
	REQUEST_ERR_INPUT,	/* the request text itself (not UTF-8) */
};

/* Store a requests row and its request.received audit row.  Id or -1. */
long long	 request_insert(PGconn *, const char *text, const char *source,
		    char **errp);

/*
 * Store what the tiers understood on the requests row (questions, if
 * not NULL, replace the parser's ambiguities: they include the
 * planner's) and append request.parsed.  0 or -1 with *errp.
 */
int		 request_store_parse(PGconn *, long long request_id,
		    struct json_object *parsed, const char *tier, double cost,
		    struct json_object *questions, char **errp);

/*
 * The request job: the one engine from text to a plan, asynchronous on
 * the app's loop.  The shell starts one from a key and goes on answering
 * keys; the CLI starts one and waits (request_wait).  A job ends exactly
 * once, always from the loop (never inside the call that started it):
 * its callback runs, then the job is gone.  request_cancel ends it
 * without the callback (an LLM call in flight is abandoned and recorded
 * as "canceled").
 */
struct request_job;

/*
 * A plan built from text: plan (caller frees) or NULL with why and err
 * (caller frees); parsed is what the tiers understood (intent_parse's
 * shape; borrowed for the call).
 */
typedef void	(*request_built_fn)(struct request_job *, struct plan *,
		    struct json_object *parsed, enum request_error,
		    char *err, void *data);
/* A request's end: plan (caller frees) or NULL with why and err (freed by
 * the callee). */
typedef void	(*request_done_fn)(struct plan *, enum request_error,
		    char *err, void *data);

/*
 * Understand text (linked to requests row request_id) and build its plan
 * against vocab (NULL: load the catalog; a given one must live until the
 * job ends) with the "ansible.match" matcher; the plan carries the tier
 * and cost.  built gets it; free_data (may be NULL) frees data once the
 * job ends, canceled or not.
 */
struct request_job *request_build_start(struct app *, long long request_id,
		    const char *text, const struct vocab *, tiers_ask_fn,
		    void *ask_data, request_built_fn built, void *data,
		    void (*free_data)(void *));

/*
 * The whole way from text to a plan: records the request, understands
 * it and builds the plan; a runnable plan is stored (plan.generated),
 * one with questions is not (request.question; the questions are on
 * the requests row).  done gets the plan (plan->row_id > 0 when stored).
 */
struct request_job *request_start(struct app *, const char *text,
		    const char *source, const struct vocab *, tiers_ask_fn,
		    void *ask_data, request_done_fn done, void *data);

/* End a job without its callback (audit row request.canceled). */
void		 request_cancel(struct request_job *);

/* Is a model call of the job in flight (rather than planning)? */
int		 request_job_in_flight(const struct request_job *);

/* The CLI's wait: turn the loop until *donep (set by a callback). */
void		 request_wait(struct app *, const int *donep);

/*
 * request_start, waited for: the plan (caller frees), or NULL with
 * *errp and *whyp set.
 */
struct plan	*request_plan(struct app *, const char *text,
		    const char *source, const struct vocab *v,
		    tiers_ask_fn, void *ask_data, enum request_error *whyp,
		    char **errp);

/*
 * Is the environment fit for the orchestrator?  The database opens, the
 * plugins load and provide "ansible.catalog", "ansible.match" and
 * "ansible", and (with need_ansible) ansible-playbook (ansible.playbook)
 * is an executable on PATH.  0, or -1 with *errp saying what to do.
 */
int		 request_check_env(struct app *, int need_ansible,
		    char **errp);

/*
 * The end of the way for a plan built from what was understood of
 * request id (parsed: intent_parse's shape): store the parse on the
 * requests row, then store a runnable plan ("plan.generated") or keep
 * one with questions unstored ("request.question").  Returns plan, or
 * NULL with *errp after freeing it.
 */
struct plan	*request_store_plan(PGconn *, long long request_id,
		    struct plan *plan, struct json_object *parsed,
		    char **errp);

/* A tiers_ask_fn for a terminal: asks y/N on stdin when it is one. */
int		 request_ask_tty(const char *question, void *data);

/* The words of argv[from..argc) joined by spaces.  Caller frees. */
char		*request_text_argv(int argc, char **argv, int from);

#endif
