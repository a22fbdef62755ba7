/*
 * agent.c - agent rows, metrics history, the offline sweep, the capacity
 * query and resource needs.  See agent.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "agent.h"
#include "db.h"
#include "dispatch.h"
#include "util.h"

/* A need's name, the resources key it sets, and whether it is a size. */
static const struct {
	const char	*name;
	const char	*key;
	int		 size;		/* MB/GB/TB; else a plain count */
} agent_needs[] = {
	{ "gpu", "gpu_mem_mb", 1 },
	{ "cores", "cpu", 0 },
	{ "cpu", "cpu", 0 },
	{ "mem", "mem_mb", 1 },
	{ "memory", "mem_mb", 1 },
	{ "disk", "disk_mb", 1 },
};

/* Size units in MB. */
static const struct {
	const char	*unit;
	double		 mb;
} agent_units[] = {
	{ "", 1024 }, { "m", 1 }, { "mb", 1 }, { "mib", 1 },
	{ "g", 1024 }, { "gb", 1024 }, { "gib", 1024 },
	{ "t", 1024 * 1024 }, { "tb", 1024 * 1024 }, { "tib", 1024 * 1024 },
};

int
agent_describe(PGconn *pg, const struct agent_info *ai, char **errp)
{
	const char	*params[5];
	char		*labels, hb[32];
	PGresult	*res;
	int		 n;

	labels = dispatch_text_array(ai->labels, ai->nlabels);
	snprintf(hb, sizeof hb, "%.3f", ai->heartbeat_s);
	params[0] = ai->name;
	params[1] = ai->pool != NULL && *ai->pool != '\0' ? ai->pool :
	    "default";
	params[2] = labels;
	params[3] = ai->machine_id;
	params[4] = hb;
	res = db_exec(pg, "UPDATE agents SET pool = $2,"
	    " labels = $3::text[], machine_id = $4, kind = 'agent',"
	    " heartbeat_s = $5::float8 WHERE name = $1", 5, params, errp);
	free(labels);
	if (res == NULL)
		return -1;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1)
		return set_error(errp, "agent '%s' is not registered",
		    ai->name);
	return 0;
}

int
agent_record_metrics(PGconn *pg, const char *name, const char *metrics_json,
    char **errp)
{
	const char	*params[2] = { name, metrics_json };
	PGresult	*res;
	int		 n;

	/*
	 * A heartbeat need not wait for the disk: one lost in a server
	 * crash is replaced by the next.  Only this transaction is so.
	 */
	if (db_run(pg, "BEGIN", 0, NULL, errp) != 0)
		return -1;
	if (db_run(pg, "SET LOCAL synchronous_commit TO off", 0, NULL, errp) != 0)
		goto fail;
	res = db_exec(pg, "WITH a AS (UPDATE agents SET"
	    " resource_metrics = $2::jsonb,"
	    " metrics_at = now(), last_heartbeat = now(), status = CASE"
	    " WHEN status = 'offline' THEN 'online' ELSE status END"
	    " WHERE name = $1 RETURNING name)"
	    " INSERT INTO agent_metrics (agent, metrics)"
	    " SELECT name, $2::jsonb FROM a", 2, params, errp);
	if (res == NULL)
		goto fail;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1) {
		set_error(errp, "agent '%s' is not registered", name);
		goto fail;
	}
	return db_run(pg, "COMMIT", 0, NULL, errp);

fail:
	db_rollback(pg);
	return -1;
}

int
agent_sweep(PGconn *pg, char **errp)
{
	PGresult	*res;
	int		 n;

	res = db_exec(pg, "SELECT chiffon_agents_sweep()", 0, NULL,
	    errp);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n;
}

long long
agent_prune_metrics(PGconn *pg, double secs, char **errp)
{
	const char	*params[1];
	char		 s[32];
	PGresult	*res;
	long long	 n;

	snprintf(s, sizeof s, "%.3f", secs);
	params[0] = s;
	res = db_exec(pg, "DELETE FROM agent_metrics WHERE at <"
	    " now() - make_interval(secs => $1::float8)", 1, params, errp);
	if (res == NULL)
		return -1;
	n = atoll(PQcmdTuples(res));
	PQclear(res);
	return n;
}

/* Free now of metric key K of agent alias a, as float8 or NULL. */
#define AGENT_NUM(K)							\
	"CASE WHEN jsonb_typeof(a.resource_metrics -> '" K "') = 'number'" \
	" THEN (a.resource_metrics ->> '" K "')::float8 END"

PGresult *
agent_query(PGconn *pg, const struct agent_filter *f, char **errp)
{
	const char	*params[4];
	char		 gpu[32], cores[32], mem[32];

	snprintf(gpu, sizeof gpu, "%.3f", f->gpu_gb * 1024);
	snprintf(cores, sizeof cores, "%.3f", f->cores);
	snprintf(mem, sizeof mem, "%.3f", f->mem_gb * 1024);
	params[0] = gpu;
	params[1] = cores;
	params[2] = mem;
	params[3] = f->all ? "t" : "f";
	return db_exec(pg, "SELECT a.name, a.pool, a.status, a.kind,"
	    " a.host, to_jsonb(a.labels),"
	    " extract(epoch FROM now() - a.last_heartbeat)::float8,"
	    " to_jsonb(a.capabilities), a.resource_metrics FROM agents a"
	    " WHERE $4::boolean OR (a.status = 'online'"
	    " AND ($1::float8 <= 0 OR " AGENT_NUM("gpu_mem_mb_free")
	    "  >= $1::float8)"
	    " AND ($2::float8 <= 0 OR " AGENT_NUM("cpu_free") " >= $2::float8)"
	    " AND ($3::float8 <= 0 OR " AGENT_NUM("mem_mb_free")
	    "  >= $3::float8))"
	    " ORDER BY a.status = 'online' DESC, "
	    AGENT_NUM("gpu_mem_mb_free") " DESC NULLS LAST, a.name", 4,
	    params, errp);
}

/* "8GB" as MB in *mbp.  0, or -1. */
static int
agent_parse_size(const char *s, double *mbp)
{
	char	*end;
	double	 v;
	size_t	 i;

	v = strtod(s, &end);
	if (end == s || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	for (i = 0; i < nitems(agent_units); i++) {
		if (strcasecmp(end, agent_units[i].unit) == 0) {
			*mbp = v * agent_units[i].mb;
			return 0;
		}
	}
	return -1;
}

char *
agent_needs_json(const char *needs, char **errp)
{
	struct json_object	*o = json_object_new_object();
	char			*copy, *item, *save = NULL, *colon, *out;
	char			*end;
	double			 v;
	size_t			 i;

	copy = xstrdup(needs);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*item))
			item++;
		end = item + strlen(item);
		while (end > item && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*item == '\0')
			continue;
		if ((colon = strchr(item, ':')) == NULL)
			goto bad;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		for (i = 0; i < nitems(agent_needs); i++) {
			if (strcasecmp(item, agent_needs[i].name) == 0)
				break;
		}
		if (i == nitems(agent_needs))
			goto unknown;
		if (agent_needs[i].size) {
			if (agent_parse_size(colon, &v) != 0)
				goto bad_value;
		} else {
			v = strtod(colon, &end);
			if (end == colon || *end != '\0' || v < 0)
				goto bad_value;
		}
		json_object_object_add(o, agent_needs[i].key, v ==
		    (double)(long long)v ? json_object_new_int64((long long)v) :
		    json_object_new_double(v));
	}
	free(copy);
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;

unknown:
	set_error(errp, "unknown resource '%s' in '%s' (known: gpu, cores, "
	    "mem, disk)", item, needs);
	goto fail;
bad_value:
	set_error(errp, "bad amount '%s' for %s in '%s' (%s)", colon, item,
	    needs, agent_needs[i].size ? "a size such as 8GB or 512MB" :
	    "a number");
	goto fail;
bad:
	set_error(errp, "'%s' in '%s' is not NAME:AMOUNT", item, needs);
fail:
	free(copy);
	json_object_put(o);
	return NULL;
}
