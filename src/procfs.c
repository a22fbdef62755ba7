/*
 * procfs.c - /proc and /sys below a configurable root (see procfs.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "util.h"

/* The root without a trailing '/' ("" for "/"); a process singleton. */
static char	*procfs_dir;

void
procfs_set_root(const char *dir)
{
	size_t	len;

	free(procfs_dir);
	procfs_dir = NULL;
	if (dir == NULL)
		return;
	len = strlen(dir);
	while (len > 0 && dir[len - 1] == '/')
		len--;
	if (len > 0)
		procfs_dir = xstrndup(dir, len);
}

const char *
procfs_root(void)
{
	return procfs_dir != NULL ? procfs_dir : "";
}

char *
procfs_path(const char *fmt, ...)
{
	va_list	 ap;
	char	*rel, *path;

	va_start(ap, fmt);
	rel = xvasprintf(fmt, ap);
	va_end(ap);
	path = xasprintf("%s%s", procfs_root(), rel);
	free(rel);
	return path;
}
