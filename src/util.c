/*
 * util.c - allocation wrappers, growable strings and small helpers.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void __attribute__((noreturn))
util_oom(size_t n)
{
	fprintf(stderr, "chiffon: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		util_oom(nmemb * size);
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void	*p = realloc(old, n ? n : 1);

	if (p == NULL)
		util_oom(n);
	return p;
}

void *
xreallocarray(void *old, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		util_oom(SIZE_MAX);
	return xrealloc(old, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	/* As strndup(3): at most n bytes, fewer if s ends before. */
	n = strnlen(s, n);
	p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) < 0)
		util_oom(strlen(fmt));
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t	need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap == 0)
		sb->cap = 64;
	while (sb->cap < need)
		sb->cap *= 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void
strbuf_add(struct strbuf *sb, const void *p, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addc(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list	ap, ap2;
	int	n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		strbuf_grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
		sb->len += (size_t)n;
	}
	va_end(ap2);
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf != NULL)
		sb->buf[0] = '\0';
}

char *
strbuf_detach(struct strbuf *sb)
{
	char	*p = sb->buf != NULL ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

int
set_error(char **errp, const char *fmt, ...)
{
	va_list	ap;

	if (errp != NULL) {
		va_start(ap, fmt);
		*errp = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
mkdir_p(const char *path, unsigned mode)
{
	char	*copy = xstrdup(path), *p;
	int	 rc = 0;

	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

char *
read_file(const char *path, size_t *lenp)
{
	struct strbuf	sb = { 0 };
	char		buf[65536];
	ssize_t		n;
	int		fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			strbuf_free(&sb);
			errno = saved;
			return NULL;
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (lenp != NULL)
		*lenp = sb.len;
	return strbuf_detach(&sb);
}

int
write_file_atomic(const char *path, const char *text, size_t len,
    unsigned mode)
{
	char	*tmp = xasprintf("%s.%ld", path, (long)getpid());
	int	 fd, rc = -1, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd != -1) {
		if (write(fd, text, len) == (ssize_t)len && close(fd) == 0 &&
		    rename(tmp, path) == 0)
			rc = 0;
		else {
			saved = errno;
			unlink(tmp);
			errno = saved;
		}
	}
	free(tmp);
	return rc;
}

char *
path_join(const char *a, const char *b)
{
	size_t	la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	return xasprintf("%.*s/%s", (int)la, a, b);
}

char *
path_which(const char *name)
{
	const char	*path = getenv("PATH"), *p, *colon;
	char		*file;

	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		if ((colon = strchr(p, ':')) == NULL)
			colon = p + strlen(p);
		if (colon == p)
			file = xasprintf("./%s", name);
		else
			file = xasprintf("%.*s/%s", (int)(colon - p), p, name);
		if (access(file, X_OK) == 0)
			return file;
		free(file);
		if (*colon == '\0')
			return NULL;
	}
}

/* Are a and b the same character under flags (see str_distance)? */
static int
str_same(char a, char b, int flags)
{
	if (flags & STR_DISTANCE_FOLD)
		return tolower((unsigned char)a) == tolower((unsigned char)b);
	return a == b;
}

size_t
str_distance(const char *a, size_t la, const char *b, size_t lb, size_t max,
    int flags)
{
	size_t	*rows, *r0, *r1, *r2, *t, i, j, v, best;

	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	/* Three rolling rows: i - 2 (r0), i - 1 (r1) and i (r2). */
	rows = xreallocarray(NULL, 3 * (lb + 1), sizeof *rows);
	r0 = rows;
	r1 = rows + lb + 1;
	r2 = rows + 2 * (lb + 1);
	for (j = 0; j <= lb; j++)
		r1[j] = j;
	for (i = 1; i <= la; i++) {
		r2[0] = best = i;
		for (j = 1; j <= lb; j++) {
			v = r1[j - 1] + !str_same(a[i - 1], b[j - 1], flags);
			if (r1[j] + 1 < v)
				v = r1[j] + 1;
			if (r2[j - 1] + 1 < v)
				v = r2[j - 1] + 1;
			if (i > 1 && j > 1 && str_same(a[i - 1], b[j - 2],
			    flags) && str_same(a[i - 2], b[j - 1], flags) &&
			    r0[j - 2] + 1 < v)
				v = r0[j - 2] + 1;
			r2[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max) {
			free(rows);
			return max + 1;
		}
		t = r0;
		r0 = r1;
		r1 = r2;
		r2 = t;
	}
	v = r1[lb];
	free(rows);
	return v > max ? max + 1 : v;
}

size_t
str_typo_budget(size_t len, size_t min_len, size_t long_len)
{
	if (len >= long_len)
		return 2;
	if (len >= min_len)
		return 1;
	return 0;
}

int
str_in_list(const char *s, const char *const *list)
{
	for (; s != NULL && list != NULL && *list != NULL; list++) {
		if (strcmp(s, *list) == 0)
			return 1;
	}
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at p (at most n bytes available), or
 * 0 if the bytes there are not valid UTF-8 (see util.h).
 */
size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t	len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	if (len == 3) {
		if (p[0] == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (p[0] == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
	}
	if (len == 4) {
		if (p[0] == 0xf0 && p[1] < 0x90)
			return 0;	/* overlong */
		if (p[0] == 0xf4 && p[1] >= 0x90)
			return 0;	/* above U+10FFFF */
	}
	return len;
}

long
utf8_invalid_at(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, len;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((len = utf8_seq_len(p + i, n - i)) == 0)
			return (long)i;
		i += len;
	}
	return -1;
}

char *
term_safe(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct strbuf		 sb = { 0 };

	strbuf_grow(&sb, strlen(s) + 1);
	for (; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\t' || (*p >= 0x20 && *p != 0x7f &&
		    !(*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)))
			strbuf_addc(&sb, (char)*p);
		else if (*p == 0x7f)
			strbuf_adds(&sb, "^?");
		else if (*p == 0xc2)
			strbuf_addf(&sb, "\\u%04x", (unsigned)*++p);
		else {
			strbuf_addc(&sb, '^');
			strbuf_addc(&sb, (char)(*p + '@'));
		}
	}
	return strbuf_detach(&sb);
}
