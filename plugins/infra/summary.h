/*
 * summary.h - the summary of one ansible-playbook run, built from the
 * events the chiffon_events callback writes (one JSON object per line).
 * Host-independent: fed event lines, it produces a JSON object for
 * runs.summary.  See summary.c for the fields.
 */
#ifndef CHIFFON_INFRA_SUMMARY_H
#define CHIFFON_INFRA_SUMMARY_H

#include <stddef.h>

struct summary;

/* A new, empty summary.  Caller frees with summary_free. */
struct summary	*summary_new(void);
void		 summary_free(struct summary *);

/*
 * Feed one event line (a JSON object, no newline).  Lines that are not
 * JSON objects are counted and otherwise ignored.  Returns 0, or -1 for a
 * line that could not be parsed.
 */
int		 summary_event(struct summary *, const char *line, size_t len);

/* Number of events fed and whether playbook_on_stats was seen. */
size_t		 summary_nevents(const struct summary *);
int		 summary_has_stats(const struct summary *);
/* The first failure message seen (task: message), or NULL. */
const char	*summary_first_failure(const struct summary *);

/*
 * The summary as a JSON object text.  status is "successful", "failed",
 * "timeout" or "canceled".  Caller frees.
 */
char		*summary_json(const struct summary *, const char *status,
		    int exit_code, double duration_s);

/*
 * Idempotency: given the summary JSON of an earlier successful run and of
 * a later one of the same playbook with the same inputs, return a JSON
 * array of {"task", "host", "action", "task_path"} for every task that
 * reported changed in the later run.  Caller frees.  NULL if either text
 * is not a summary.
 */
char		*summary_not_idempotent(const char *earlier_json,
		    const char *later_json);

#endif
