/*
 * run-summary.c - the one reader of a run summary's per-host counters
 * (see run-summary.h and chiffon/capabilities.h), used by the approval
 * views (changed and failed counts) and by dispatch (is a failure only
 * unreachable hosts, so worth a retry?).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <json-c/json.h>

#include "run-summary.h"
#include "util.h"

/* The counters of a host, by name, and where they go. */
static const struct {
	const char	*name;
	size_t		 off;
} run_summary_counters[] = {
	{ "ok", offsetof(struct run_summary, ok) },
	{ "changed", offsetof(struct run_summary, changed) },
	{ "failed", offsetof(struct run_summary, failed) },
	{ "unreachable", offsetof(struct run_summary, unreachable) },
	{ "skipped", offsetof(struct run_summary, skipped) },
	{ "rescued", offsetof(struct run_summary, rescued) },
	{ "ignored", offsetof(struct run_summary, ignored) },
};

void
run_summary_totals(struct json_object *summary, struct run_summary *out)
{
	struct json_object	*hosts, *v;
	size_t			 i;

	memset(out, 0, sizeof *out);
	if (summary == NULL ||
	    !json_object_object_get_ex(summary, "hosts", &hosts) ||
	    !json_object_is_type(hosts, json_type_object))
		return;
	json_object_object_foreach(hosts, name, counts) {
		(void)name;
		out->nhosts++;
		for (i = 0; i < nitems(run_summary_counters); i++) {
			if (json_object_object_get_ex(counts,
			    run_summary_counters[i].name, &v))
				*(long long *)(void *)((char *)out +
				    run_summary_counters[i].off) +=
				    json_object_get_int64(v);
		}
	}
}

int
run_summary_read(const char *json, struct run_summary *out)
{
	struct json_object	*o;

	memset(out, 0, sizeof *out);
	if (json == NULL || (o = json_tokener_parse(json)) == NULL)
		return -1;
	run_summary_totals(o, out);
	json_object_put(o);
	return 0;
}
