/*
 * util.h - allocation that cannot fail silently, growable strings, and
 * small helpers shared by every part of chiffon.
 */
#ifndef CHIFFON_UTIL_H
#define CHIFFON_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort with a message on out-of-memory.  Caller frees. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list);

/*
 * A growable byte buffer, always NUL-terminated.  Zero-initialise
 * (struct strbuf sb = { 0 };) before use; strbuf_free releases it.
 */
struct strbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};
void	 strbuf_grow(struct strbuf *, size_t extra);
void	 strbuf_add(struct strbuf *, const void *, size_t);
void	 strbuf_adds(struct strbuf *, const char *);
void	 strbuf_addc(struct strbuf *, char);
void	 strbuf_addf(struct strbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 strbuf_reset(struct strbuf *);
/* Give up ownership of the buffer; caller frees.  Never NULL. */
char	*strbuf_detach(struct strbuf *);
void	 strbuf_free(struct strbuf *);

/*
 * Set *errp to a newly allocated formatted message (if errp is not NULL)
 * and return -1, so that error paths read: return set_error(errp, ...).
 */
int	 set_error(char **errp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Monotonic clock in milliseconds / seconds. */
uint64_t now_ms(void);
double	 now_s(void);

/* mkdir -p with mode for each created component.  0 or -1 (errno set). */
int	 mkdir_p(const char *path, unsigned mode);

/* Read a whole file; caller frees.  NULL with errno set on failure. */
char	*read_file(const char *path, size_t *lenp);
/*
 * Write len bytes of text to path through a temporary file in its
 * directory renamed over it, so that a reader sees the old content or the
 * new, never a part.  0, or -1 with errno set.
 */
int	 write_file_atomic(const char *path, const char *text, size_t len,
	    unsigned mode);

/* Is s (may be NULL: no) one of the strings of the NULL-terminated list
 * (may be NULL: empty)? */
int	 str_in_list(const char *s, const char *const *list);

/*
 * Length of the valid UTF-8 sequence of a non-ASCII lead byte at p (n
 * bytes available), or 0 when the bytes there are not valid UTF-8.
 */
size_t	 utf8_seq_len(const unsigned char *p, size_t n);
/* Offset of the first byte of s[0..n) that is not valid UTF-8, or -1. */
long	 utf8_invalid_at(const char *s, size_t n);

/*
 * s made safe to print on a terminal: control characters (C0 but tab and
 * newline, DEL, C1) shown as ^X / ^? / \u0080-style text, so that a
 * stored string cannot move the cursor, hide text or retitle the
 * window.  Caller frees.
 */
char	*term_safe(const char *s);

/* Join two path components with exactly one '/'.  Caller frees. */
char	*path_join(const char *, const char *);

/*
 * The executable name would run as: itself when it holds a '/', else the
 * first entry of $PATH (unset or empty: /usr/local/bin:/usr/bin:/bin;
 * an empty entry: the current directory) where it is executable.  NULL
 * when there is none.  Caller frees.
 */
char	*path_which(const char *name);

/*
 * Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions) between a[0..la) and b[0..lb), or max + 1 as soon as it
 * must exceed max.  STR_DISTANCE_FOLD compares ASCII letters without
 * regard to case.
 */
#define STR_DISTANCE_FOLD	0x1
size_t	 str_distance(const char *a, size_t la, const char *b, size_t lb,
	    size_t max, int flags);
/*
 * How many typos a word of len bytes may carry for a did-you-mean: none
 * below min_len, one from min_len, two from long_len.  Each caller picks
 * its own lengths (see its header).
 */
size_t	 str_typo_budget(size_t len, size_t min_len, size_t long_len);

#endif
