/*
 * outchunk.h - a run's output lines as run_output_chunks rows (schema
 * 016): runlog.c buffers and spools one binary COPY row of run_output's
 * columns per line; what goes to the database is this conversion of
 * them, one row per up to OUTCHUNK_MAX consecutive lines.
 */
#ifndef CHIFFON_OUTCHUNK_H
#define CHIFFON_OUTCHUNK_H

#include <stddef.h>

#include "util.h"

#define OUTCHUNK_MAX	1000	/* lines a row (the table's CHECK) */

/* The COPY statement that takes what outchunk_copy makes. */
#define OUTCHUNK_COPY_SQL	"COPY run_output_chunks (run_id, seq, " \
				"run_started_at, n, stream, at, line) FROM " \
				"STDIN (FORMAT binary)"

/*
 * Append to out a whole binary COPY (header, rows, trailer) of
 * run_output_chunks rows holding the lines of in, a whole binary COPY of
 * run_output rows (run_id, seq, run_started_at, stream, at, line; the
 * header and trailer of runlog.c).  A chunk ends at OUTCHUNK_MAX lines
 * and wherever the next line is not the next seq of the same run.  The
 * number of lines converted, or -1 if in is not such a COPY (nothing
 * appended).
 */
long	outchunk_copy(const char *in, size_t len, struct strbuf *out);

#endif
