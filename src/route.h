/*
 * route.h - routing: which agent should run a task.
 *
 * Every online agent (status 'online', heartbeat within
 * dispatch.agent_timeout) that has the task's capability is a candidate,
 * scored in [0, 1]:
 *
 *   0.4 * success    success rate for the work type (capability plus
 *                    playbook, else action) on that agent over 30 days,
 *                    (succeeded + 1) / (finished + 2)
 *   0.2 * recent     1 if it ran the same work type within the hour
 *   0.1 * special    specialization: 1 / number of its capabilities
 *   0.3 * (1 - load) load: leased tasks / capacity
 *
 * Work is pulled, not pushed, so routing is a rule each worker applies
 * before claiming (route_should_claim): it claims a task when it is the
 * best candidate (or ties with it), when the best candidate is busy
 * (running at capacity), or when the task has waited longer than the
 * grace period (twice dispatch.poll) so a silent best candidate cannot
 * stall it.  The choice and every candidate's scores are recorded in
 * routing_decisions when the task is claimed.
 */
#ifndef CHIFFON_ROUTE_H
#define CHIFFON_ROUTE_H

#include <stddef.h>

#include <libpq-fe.h>

/* One scored candidate. */
struct route_candidate {
	char		*agent;
	int		 capacity;
	int		 running;
	int		 ncaps;
	long long	 succeeded;	/* of this work type, 30 days */
	long long	 finished;
	long long	 recent;	/* dispatched within the hour */
	double		 success;
	double		 special;
	double		 load;
	double		 score;
};

/* The candidates of one task, best first (ties by name). */
struct route_result {
	struct route_candidate	*c;
	size_t			 n;
};

/*
 * Score the candidates for capability and work_type (playbook, else
 * action; may be NULL).  0 with *r filled (route_result_free), or -1
 * with *errp.
 */
int		 route_score(PGconn *, const char *capability,
		    const char *work_type, double agent_timeout_s,
		    struct route_result *r, char **errp);
void		 route_result_free(struct route_result *);
/* The scores as a JSON array text.  Caller frees. */
char		*route_scores_json(const struct route_result *);

/*
 * The claiming rule for agent self, for a task available for waited_s.
 * Returns non-zero to claim; *reasonp (caller frees) says why either way.
 */
int		 route_should_claim(const struct route_result *,
		    const char *self, double waited_s, double grace_s,
		    char **reasonp);

/*
 * Append a routing_decisions row (decision: dispatched, paused, requeued,
 * failed).  chosen and scores_json may be NULL.  0, or -1 with *errp.
 */
int		 route_record(PGconn *, long long task_id, int attempt,
		    const char *capability, const char *chosen,
		    const char *decision, const char *reason,
		    const char *scores_json, char **errp);

#endif
