/*
 * worker.h - a worker on the event loop: registers itself as an agent
 * (heartbeat upsert), claims tasks for the capabilities of the loaded
 * plugins from the work queue, runs them through host_invoke_task, renews
 * their leases while they run, and records how they ended.
 *
 * It is woken by LISTEN chiffon_work (db_listen: the live connection,
 * the loop) and polls every dispatch.poll as a safety net; each wake-up
 * also recovers tasks whose lease expired and pauses or resumes tasks by
 * resources (see dispatch.h).  The chiffon process's own worker and
 * `chiffon worker` (later `chiffon agent`) are this same code.
 *
 * Settings (chiffon.conf(5)): dispatch.worker_name, dispatch.capacity,
 * dispatch.lease (renewed every third of it), dispatch.poll,
 * dispatch.retry_backoff, dispatch.agent_timeout,
 * dispatch.min_capacity_percent.
 */
#ifndef CHIFFON_WORKER_H
#define CHIFFON_WORKER_H

struct app;
struct conf;
struct worker;

/* A task this worker ran reached an end (final or requeued). */
typedef void	(*worker_finish_fn)(struct worker *, long long task_id,
		    int attempt, const char *status, void *data);
/* Nothing runs and the claim limit is reached or nothing was found. */
typedef void	(*worker_idle_fn)(struct worker *, void *data);

/*
 * This process's agent id: "HOST:PID:START" (start: seconds since the
 * epoch when first asked), the same for every call; unique, where the
 * host name alone is shared by every chiffon on the host (agents.host
 * keeps the host name as a label).  Static storage.
 */
const char	*worker_agent_id(void);
/* The name worker_new gives a worker without one.  Caller frees. */
char		*worker_default_name(const struct conf *);

/*
 * New worker named name (NULL: dispatch.worker_name, else
 * worker_agent_id())
 * for the capabilities of app's loaded plugins.  Opens the database.
 * NULL with *errp set.  Caller frees.
 */
struct worker	*worker_new(struct app *, const char *name, char **errp);
/*
 * Register (the heartbeat upsert with starting set) without claiming
 * anything: `chiffon agent --once`.  worker_start does it too.
 */
int		 worker_register(struct worker *, char **errp);
/*
 * The resource_metrics JSON later heartbeats carry (a copy is kept);
 * NULL goes back to the worker's own CPU and memory figures.
 */
void		 worker_set_metrics(struct worker *, const char *json);
/* The metrics the next heartbeat carries.  Caller frees. */
char		*worker_metrics_json(const struct worker *);
/*
 * This host's CPU count, load and memory (procfs.h: MemTotal and
 * MemAvailable of /proc/meminfo) as resource_metrics JSON: cpu, load1,
 * cpu_free, mem_mb, mem_mb_free; what cannot be read is left out.
 * Caller frees.
 */
char		*worker_metrics(void);
/* Register, LISTEN, start the timers and claim what is there. */
int		 worker_start(struct worker *, char **errp);
/*
 * A one-shot report (`chiffon agent --once`): the agents row it writes
 * names no process, so that it is not taken for a dead process's row
 * and goes offline only when it falls silent.
 */
void		 worker_set_report_only(struct worker *);
/*
 * Stop: claim nothing more, give running tasks back to the queue (the
 * attempt is not counted), cancel them, and mark the agent offline.
 */
void		 worker_stop(struct worker *);
/*
 * Stop as the process goes away, once the running tasks were marked
 * interrupted (dispatch_interrupt_plan): they are not given back, only
 * their handlers canceled (the claims count as lost).
 */
void		 worker_interrupt(struct worker *);
/*
 * Interrupt the plans queued for an agent that is gone (a shell killed
 * mid-run: dispatch_orphaned_plans).  The number of tasks interrupted,
 * or -1 with *errp.
 */
int		 worker_sweep_orphans(struct worker *, char **errp);
void		 worker_free(struct worker *);

/*
 * Claim only tasks queued for this worker's agent (dispatch_set_owner):
 * the shell runs what it approved, nothing else.
 */
void		 worker_set_owned_only(struct worker *, int on);
/* Claim at most n tasks in all (0: no limit; `chiffon worker --once`). */
void		 worker_set_limit(struct worker *, int n);
void		 worker_on_finish(struct worker *, worker_finish_fn, void *);
void		 worker_on_idle(struct worker *, worker_idle_fn, void *);

const char	*worker_name(const struct worker *);
/* Tasks running now. */
unsigned	 worker_running(const struct worker *);
/* Tasks that ended in a final state other than succeeded. */
unsigned	 worker_failures(const struct worker *);
/* Number of capabilities served. */
unsigned	 worker_ncapabilities(const struct worker *);

#endif
