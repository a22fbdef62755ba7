/*
 * procfs.h - /proc and /sys read below a root directory, as htop does,
 * so that the resource checks (worker.c's metrics, pgembed.c's "is that
 * pid our server", runlog.c's process start times) can be tested on a
 * fake tree.  The root is "/" unless procfs_set_root moved it; the
 * desktop-metrics plugin takes its own root the same way (dm.h).
 */
#ifndef CHIFFON_PROCFS_H
#define CHIFFON_PROCFS_H

/*
 * The directory holding proc/ and sys/ for every later read; NULL (or
 * "/") for the real ones.  The text is copied.  Tests only: one process,
 * one root.
 */
void		 procfs_set_root(const char *dir);
/* The root set ("" for "/"), never NULL. */
const char	*procfs_root(void);
/*
 * The root followed by the formatted path, which starts with "/proc/" or
 * "/sys/" ("/proc/%ld/stat").  Caller frees.
 */
char		*procfs_path(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/*
 * The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat, counted after the parenthesised command name, which
 * may hold spaces and parentheses), or -1 when there is no such process.
 * With the pid it names one process for good: a pid is reused, a
 * (pid, start) pair is not.
 */
long long	 procfs_proc_start(long pid);
/*
 * Whether process pid, started at start (procfs_proc_start's figure;
 * negative: not known, then any live process of that pid counts), still
 * lives on this host.
 */
int		 procfs_proc_alive(long pid, long long start);

#endif
