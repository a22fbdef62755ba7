/*
 * outchunk.c - run_output rows (one a line) to run_output_chunks rows.
 *
 * Both sides are PostgreSQL's binary COPY format: a 19-byte header, then
 * per row a 16-bit field count and per field a 32-bit length (-1: NULL)
 * and the bytes, then the 16-bit trailer -1.  A line row has six fields,
 * none NULL: run_id (int8), seq (int8), run_started_at (timestamptz),
 * stream (int2), at (timestamptz), line (text).  A chunk row has seven:
 * run_id, seq (the first line's), run_started_at, n (int4) and three
 * one-dimensional arrays of n elements, int2[], timestamptz[] and text[]
 * (array_recv's format: dimensions, no-nulls flag, element type, size and
 * lower bound, then each element as a field).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outchunk.h"
#include "util.h"

#define OUTCHUNK_HEADER		"PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"
#define OUTCHUNK_HEADER_LEN	19
#define OUTCHUNK_FIELDS		6

/* Element type oids (pg_type.h): int2, timestamptz, text. */
#define OUTCHUNK_INT2OID	21
#define OUTCHUNK_TSTZOID	1184
#define OUTCHUNK_TEXTOID	25

/* Where one line row's fields are in the input. */
struct outchunk_row {
	const unsigned char	*field[OUTCHUNK_FIELDS];	/* its data */
	uint32_t		 len[OUTCHUNK_FIELDS];
};

static uint32_t
outchunk_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
outchunk_put(struct strbuf *sb, uint32_t v, int bytes)
{
	unsigned char	b[4];
	int		i;

	for (i = bytes - 1; i >= 0; i--) {
		b[i] = (unsigned char)v;
		v >>= 8;
	}
	strbuf_add(sb, b, (size_t)bytes);
}

/* The 64-bit value of an 8-byte field (seq). */
static uint64_t
outchunk_get64(const unsigned char *p)
{
	return (uint64_t)outchunk_get32(p) << 32 | outchunk_get32(p + 4);
}

/*
 * Parse the line rows of in into *rowsp (*nrowsp of them).  0, or -1
 * when in is not a COPY of line rows.
 */
static int
outchunk_parse(const unsigned char *p, size_t len,
    struct outchunk_row **rowsp, size_t *nrowsp)
{
	struct outchunk_row	*rows = NULL;
	size_t			 at = OUTCHUNK_HEADER_LEN, n = 0, cap = 0;
	uint32_t		 flen;
	int			 f;

	*rowsp = NULL;
	*nrowsp = 0;
	if (len < OUTCHUNK_HEADER_LEN + 2 ||
	    memcmp(p, OUTCHUNK_HEADER, OUTCHUNK_HEADER_LEN) != 0)
		return -1;
	for (;;) {
		if (len - at < 2)
			goto bad;
		if (p[at] == 0xff && p[at + 1] == 0xff) {	/* trailer */
			if (at + 2 != len)
				goto bad;
			break;
		}
		if (p[at] != 0 || p[at + 1] != OUTCHUNK_FIELDS)
			goto bad;
		at += 2;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			rows = xreallocarray(rows, cap, sizeof *rows);
		}
		for (f = 0; f < OUTCHUNK_FIELDS; f++) {
			if (len - at < 4)
				goto bad;
			flen = outchunk_get32(p + at);
			at += 4;
			if (flen > len - at ||
			    (f != 5 && flen != (f == 3 ? 2u : 8u)))
				goto bad;	/* also NULL (-1) */
			rows[n].field[f] = p + at;
			rows[n].len[f] = flen;
			at += flen;
		}
		n++;
	}
	*rowsp = rows;
	*nrowsp = n;
	return 0;
bad:
	free(rows);
	return -1;
}

/* Append a one-dimensional array of field f of rows[0..n). */
static void
outchunk_array(struct strbuf *out, const struct outchunk_row *rows,
    size_t n, int f, uint32_t oid)
{
	size_t	i, bytes = 20;

	for (i = 0; i < n; i++)
		bytes += 4 + rows[i].len[f];
	outchunk_put(out, (uint32_t)bytes, 4);	/* the field's length */
	outchunk_put(out, 1, 4);		/* dimensions */
	outchunk_put(out, 0, 4);		/* no NULLs */
	outchunk_put(out, oid, 4);
	outchunk_put(out, (uint32_t)n, 4);	/* size */
	outchunk_put(out, 1, 4);		/* lower bound */
	for (i = 0; i < n; i++) {
		outchunk_put(out, rows[i].len[f], 4);
		strbuf_add(out, rows[i].field[f], rows[i].len[f]);
	}
}

/* Append the chunk of rows[0..n), consecutive lines of one run. */
static void
outchunk_row(struct strbuf *out, const struct outchunk_row *rows, size_t n)
{
	outchunk_put(out, 7, 2);
	outchunk_put(out, 8, 4);			/* run_id */
	strbuf_add(out, rows[0].field[0], 8);
	outchunk_put(out, 8, 4);			/* seq */
	strbuf_add(out, rows[0].field[1], 8);
	outchunk_put(out, 8, 4);			/* run_started_at */
	strbuf_add(out, rows[0].field[2], 8);
	outchunk_put(out, 4, 4);			/* n */
	outchunk_put(out, (uint32_t)n, 4);
	outchunk_array(out, rows, n, 3, OUTCHUNK_INT2OID);
	outchunk_array(out, rows, n, 4, OUTCHUNK_TSTZOID);
	outchunk_array(out, rows, n, 5, OUTCHUNK_TEXTOID);
}

/* Whether row b continues a's chunk: the same run, the next seq. */
static int
outchunk_follows(const struct outchunk_row *a, const struct outchunk_row *b)
{
	return memcmp(a->field[0], b->field[0], 8) == 0 &&
	    memcmp(a->field[2], b->field[2], 8) == 0 &&
	    outchunk_get64(b->field[1]) == outchunk_get64(a->field[1]) + 1;
}

long
outchunk_copy(const char *in, size_t len, struct strbuf *out)
{
	struct outchunk_row	*rows;
	size_t			 nrows, i, start;

	if (outchunk_parse((const unsigned char *)in, len, &rows,
	    &nrows) != 0)
		return -1;
	strbuf_grow(out, len + nrows / 8 * 12 + 64);
	strbuf_add(out, OUTCHUNK_HEADER, OUTCHUNK_HEADER_LEN);
	for (start = 0, i = 1; i <= nrows; i++) {
		if (i < nrows && i - start < OUTCHUNK_MAX &&
		    outchunk_follows(&rows[i - 1], &rows[i]))
			continue;
		outchunk_row(out, rows + start, i - start);
		start = i;
	}
	outchunk_put(out, 0xffff, 2);
	free(rows);
	return (long)nrows;
}
