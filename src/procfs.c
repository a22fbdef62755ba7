/*
 * procfs.c - /proc and /sys below a configurable root (see procfs.h).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
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

long long
procfs_proc_start(long pid)
{
	char	*path, buf[1024], *p;
	FILE	*f;
	size_t	 n;
	int	 field;

	path = procfs_path("/proc/%ld/stat", pid);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name ends at the last ')'; field 3 follows ") ". */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	p++;			/* the space before field 3 */
	for (field = 3; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	return p != NULL ? strtoll(p + 1, NULL, 10) : -1;
}

int
procfs_proc_alive(long pid, long long start)
{
	if (pid <= 0)
		return 0;
	if (start >= 0)
		return procfs_proc_start(pid) == start;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}
