/*
 * run-summary.h - the one reader of a run summary, the JSON object the
 * "ansible" capability stores in runs.summary and returns as its result
 * (its shape is documented in chiffon/capabilities.h).
 */
#ifndef CHIFFON_RUN_SUMMARY_H
#define CHIFFON_RUN_SUMMARY_H

#include <stddef.h>

struct json_object;

/* The per-host counters of a summary, added over its hosts. */
struct run_summary {
	long long	ok;
	long long	changed;
	long long	failed;
	long long	unreachable;
	long long	skipped;
	long long	rescued;
	long long	ignored;
	size_t		nhosts;
};

/*
 * Add up the "hosts" object of summary (may be NULL) into *out, which is
 * zeroed first; a summary without hosts gives zeros.
 */
void	run_summary_totals(struct json_object *summary,
	    struct run_summary *out);
/* The same from text.  0, or -1 (zeros) when the text is not JSON. */
int	run_summary_read(const char *json, struct run_summary *out);

#endif
