/*
 * runlog.h - recording one run: its output lines and structured events go
 * to live subscribers at once and to run_output / run_events in batches
 * (COPY), flushed at least every 100 ms by a loop timer and on finish.
 * A run is complete only when runlog_finish has flushed everything.
 */
#ifndef CHIFFON_RUNLOG_H
#define CHIFFON_RUNLOG_H

#include <stddef.h>

#include "chiffon/plugin.h"

struct db;
struct loop;
struct runlog;

typedef void (*runlog_sub_fn)(struct runlog *, int stream, const char *line,
    size_t len, void *data);

/*
 * Create a runs row (status 'running') for task_id (may be NULL) and start
 * the flush timer on loop (may be NULL: flush when the batch fills and on
 * finish).  kind is for example "ansible-playbook".  Caller finishes it.
 */
struct runlog	*runlog_begin(struct db *, struct loop *, const char *task_id,
		    const char *kind, const char *meta_json, char **errp);
/* The runs.id of this run (decimal text). */
const char	*runlog_id(struct runlog *);
int		 runlog_line(struct runlog *, int stream, const char *line,
		    size_t len);
int		 runlog_event(struct runlog *, const char *json, size_t len);
/* Write everything buffered now.  0 or -1 with *errp. */
int		 runlog_flush(struct runlog *, char **errp);
/* Live subscriber for every line (the TUI's log window, `chiffon run`). */
void		 runlog_subscribe(struct runlog *, runlog_sub_fn, void *data);
/*
 * Final flush, then store status, exit code, summary and usage on the runs
 * row, and free the runlog.  Returns -1 with *errp if anything could not be
 * stored (the run is still freed).
 */
int		 runlog_finish(struct runlog *, const char *status,
		    int exit_code, const char *summary_json,
		    const struct chiffon_rusage *usage, char **errp);

#endif
