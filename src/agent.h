/*
 * agent.h - agents in the database beyond the worker's heartbeat
 * (dispatch_heartbeat): what `chiffon agent` adds to its row (pool,
 * labels, machine id, heartbeat interval), its metrics and their bounded
 * history (agent_metrics), marking silent agents offline, the capacity
 * query of `chiffon agents`, and the resource needs of a plan step.
 *
 * Resource names: a step's needs ("gpu:8GB,cores:4,mem:16GB,disk:20GB",
 * from a playbook's `# chiffon:needs=` header) become tasks.resources
 * keys compared with the flat keys of the desktop-metrics plugin's
 * metrics (see dispatch.h for the rule): gpu -> gpu_mem_mb, cores -> cpu,
 * mem -> mem_mb, disk -> disk_mb.
 */
#ifndef CHIFFON_AGENT_H
#define CHIFFON_AGENT_H

#include <stddef.h>

#include <libpq-fe.h>

/* What an agent adds to its row; strings belong to the caller. */
struct agent_info {
	const char		*name;
	const char		*pool;		/* "default" when NULL */
	const char *const	*labels;
	size_t			 nlabels;
	const char		*machine_id;	/* may be NULL */
	double			 heartbeat_s;
};

/* Set pool, labels, machine id and interval (kind 'agent').  0 or -1. */
int		 agent_describe(PGconn *, const struct agent_info *,
		    char **errp);
/*
 * One heartbeat's metrics: they replace agents.resource_metrics (keys
 * no longer reported, such as a GPU that went away, go), the row is
 * online again with its heartbeat now, and one agent_metrics row, in a
 * transaction with synchronous_commit off (a heartbeat lost in a server
 * crash is replaced by the next; nothing else is written so).
 * 0, or -1 with *errp (also when the agent has no row).
 */
int		 agent_record_metrics(PGconn *, const char *name,
		    const char *metrics_json, char **errp);
/*
 * Mark agents silent for three of their heartbeat intervals offline.
 * Returns how many, or -1 with *errp.
 */
int		 agent_sweep(PGconn *, char **errp);
/* Drop agent_metrics rows older than secs.  Returns how many, or -1. */
long long	 agent_prune_metrics(PGconn *, double secs, char **errp);

/* The capacity question: online agents with at least this much free. */
struct agent_filter {
	double	gpu_gb;		/* 0: any */
	double	cores;
	double	mem_gb;
	int	all;		/* offline agents too (no capacity filter) */
};
/*
 * The agents matching f, best GPU first: columns name, pool, status,
 * kind, host, labels (a JSON array), heartbeat age in seconds,
 * capabilities (a JSON array), resource_metrics (JSON).  NULL with *errp.
 */
PGresult	*agent_query(PGconn *, const struct agent_filter *, char **errp);

/*
 * Parse needs text ("gpu:8GB,cores:4") into a tasks.resources JSON
 * object text (caller frees).  Sizes take MB, GB, TB (binary: 1GB =
 * 1024 MB) or a bare number of GB.  NULL with *errp naming the bad item.
 */
char		*agent_needs_json(const char *needs, char **errp);

#endif
