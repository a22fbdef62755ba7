/*
 * bench-agents.c - issue 13's agent benchmark.  1,000 simulated agents
 * heartbeat once a second for SECONDS (default 60) into an embedded
 * PostgreSQL cluster with chiffon's own settings (pgembed, fsync on);
 * each heartbeat is what `chiffon agent` writes (agent_record_metrics:
 * the agents row and one agent_metrics row).  WRITERS processes (default
 * 10) with one connection each carry 100 agents apiece on a fixed
 * schedule.  It reports whether every heartbeat was written, the write
 * latency (p50, p99, max; the target is p99 under 20 ms), the CPU the
 * database's processes used, and the capacity query `chiffon agents
 * --gpu-min 8` over the 1,000 agents against `psql -c 'select 1'`.
 *
 * Usage: bench-agents [SECONDS [WRITERS]]; exit 1 when a heartbeat is
 * missing, 2 on bad usage, 3 when the environment fails.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "agent.h"
#include "dispatch.h"
#include "migrate.h"
#include "pgembed.h"
#include "util.h"

#define BENCH_AGENTS	1000
#define BENCH_RUNS	20	/* of each capacity query */

extern char	**environ;

static void
bench_die(const char *what, const char *why)
{
	fprintf(stderr, "bench-agents: %s: %s\n", what, why);
	exit(3);
}

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PGconn *
bench_connect(const char *conninfo)
{
	PGconn	*pg = PQconnectdb(conninfo);

	if (PQstatus(pg) != CONNECTION_OK)
		bench_die("connect", PQerrorMessage(pg));
	return pg;
}

static char *
bench_name(int i)
{
	return xasprintf("sim-%04d", i);
}

/* The metrics of agent i: a tenth of them have 16 GB of GPU free. */
static char *
bench_metrics(int i, int beat)
{
	int	gpu = i % 10 == 0 ? 16384 : 4096;

	return xasprintf("{\"load1\": %.2f, \"load5\": 0.5, \"load15\": 0.4,"
	    " \"cores_physical\": 4, \"cores_logical\": 8,"
	    " \"cores_available\": 7.5, \"mem_total_mb\": 32000,"
	    " \"mem_available_mb\": %d, \"mem_used_percent\": 25.0,"
	    " \"cpu\": 8, \"cpu_free\": 7.5, \"mem_mb\": 32000,"
	    " \"mem_mb_free\": %d, \"disk_mb\": 900000, \"disk_mb_free\":"
	    " 500000, \"disks\": [{\"path\": \"/var/lib/chiffon\", \"total_mb\":"
	    " 900000, \"free_mb\": 500000}], \"gpu_type\": \"nvidia\","
	    " \"gpu\": \"nvidia\", \"gpu_count\": 1, \"gpu_source\": \"nvml\","
	    " \"gpu_mem_mb\": %d, \"gpu_mem_mb_free\": %d, \"gpus\": [{\"vendor\":"
	    " \"nvidia\", \"index\": 0, \"name\": \"Simulated GPU\","
	    " \"mem_total_mb\": %d, \"mem_free_mb\": %d, \"mem_used_mb\": 0,"
	    " \"util_percent\": %d, \"temp_c\": 40}], \"machine_id\":"
	    " \"%032x\"}", 0.5 + (beat % 10) / 10.0, 24000 - beat,
	    24000 - beat, gpu, gpu, gpu, gpu, beat % 100, i);
}

/* Register the agents as `chiffon agent` does. */
static void
bench_register(const char *conninfo)
{
	static const char *const	 caps[] = { "metrics", "ansible" };
	struct dispatch_params		 dp = { .caps = caps, .ncaps = 2,
					    .agent_timeout_s = 30 };
	struct agent_info		 ai = { .pool = "bench",
					    .heartbeat_s = 1 };
	PGconn				*pg = bench_connect(conninfo);
	char				*name, *m, *err = NULL;
	int				 i;

	for (i = 0; i < BENCH_AGENTS; i++) {
		name = bench_name(i);
		m = bench_metrics(i, 0);
		dp.agent = ai.name = name;
		if (dispatch_heartbeat(pg, &dp, 1, 0, m, 0, &err) != 0 ||
		    agent_describe(pg, &ai, &err) != 0)
			bench_die(name, err);
		free(m);
		free(name);
	}
	PQfinish(pg);
}

/*
 * One writer: agents first..first+n-1, agent i beats at
 * start + i/1000 + k seconds.  Latencies (seconds) go to fd.
 */
static void
bench_writer(const char *conninfo, int first, int n, int seconds,
    double start, int fd)
{
	PGconn	*pg = bench_connect(conninfo);
	double	 at, t0, lat;
	char	*name, *m, *err = NULL;
	int	 k, i, failed = 0;

	for (k = 0; k < seconds; k++) {
		for (i = first; i < first + n; i++) {
			at = start + k + (double)i / BENCH_AGENTS;
			while ((t0 = bench_now()) < at)
				usleep((useconds_t)((at - t0) * 1e6));
			name = bench_name(i);
			m = bench_metrics(i, k + 1);
			if (agent_record_metrics(pg, name, m, &err) != 0) {
				fprintf(stderr, "bench-agents: %s: %s\n", name,
				    err);
				free(err);
				err = NULL;
				failed++;
				lat = -1;
			} else
				lat = bench_now() - t0;
			if (write(fd, &lat, sizeof lat) != sizeof lat)
				_exit(3);
			free(m);
			free(name);
		}
	}
	PQfinish(pg);
	_exit(failed > 0 ? 1 : 0);
}

/* CPU seconds of the postmaster and its children (/proc). */
static double
bench_db_cpu(pid_t postmaster)
{
	struct dirent	*de;
	char		 path[300], *text, *p;
	unsigned long	 ut, st;
	double		 sum = 0;
	long		 tick = sysconf(_SC_CLK_TCK);
	int		 ppid, pid;
	DIR		*d;

	/* /proc/PID/stat: field 4 is the parent, 14 and 15 the CPU ticks. */
	if ((d = opendir("/proc")) == NULL)
		bench_die("/proc", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if ((pid = atoi(de->d_name)) <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((text = read_file(path, NULL)) == NULL)
			continue;
		if ((p = strrchr(text, ')')) != NULL && sscanf(p + 2,
		    "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		    &ppid, &ut, &st) == 3 && (pid == postmaster ||
		    ppid == postmaster))
			sum += (double)(ut + st) / (double)tick;
		free(text);
	}
	closedir(d);
	return sum;
}

/* Run argv BENCH_RUNS times (stdout to /dev/null); mean seconds. */
static double
bench_command(char *const argv[], char *const envp[])
{
	double	t0 = bench_now();
	pid_t	pid;
	int	i, st, fd;

	for (i = 0; i < BENCH_RUNS; i++) {
		if ((pid = fork()) == -1)
			bench_die("fork", strerror(errno));
		if (pid == 0) {
			setpgid(0, 0);
			fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bench_die(argv[0], "failed");
	}
	return (bench_now() - t0) / BENCH_RUNS;
}

static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct pgembed_status	 status;
	struct pgembed		*pg;
	const char		*build = getenv("CHIFFON_BUILDDIR");
	char			 dir[] = "/tmp/chiffon-bench-agents-XXXXXX";
	char			*conninfo, *err = NULL, *bin, *url, *envp[4];
	char			*lpath, *rm[4];
	double			*lat = NULL, t0, wall, cpu0, cpu1, q1, q2;
	size_t			 nlat = 0, nfail = 0, cap = 0, i;
	long long		 rows;
	PGresult		*res;
	PGconn			*c;
	pid_t			*pids;
	int			 seconds = argc > 1 ? atoi(argv[1]) : 60;
	int			 writers = argc > 2 ? atoi(argv[2]) : 10;
	int			 fd, w, st, n, bad = 0;
	double			 v;

	if (seconds < 1 || writers < 1 || BENCH_AGENTS % writers != 0)
		bench_die("usage", "bench-agents [SECONDS [WRITERS dividing "
		    "1000]]");
	if (build == NULL)
		build = ".";
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		bench_die("mkdtemp", strerror(errno));
	pg = pgembed_new(dir, getenv("CHIFFON_DB_SERVER_USER"));
	if (pgembed_start(pg, NULL, &err) != 0)
		bench_die("embedded cluster", err);
	conninfo = pgembed_conninfo(pg, PGEMBED_DBNAME);
	c = bench_connect(conninfo);
	if (migrate_apply(c, &n, &err) != 0)
		bench_die("migrate", err);
	PQfinish(c);
	bench_register(conninfo);
	if (pgembed_status(pg, &status, &err) != 0 || !status.running)
		bench_die("embedded cluster", err != NULL ? err : "not running");
	printf("bench-agents: %d agents, one heartbeat a second each, for "
	    "%d s, %d writer connections; PostgreSQL %s (fsync on)\n",
	    BENCH_AGENTS, seconds, writers, status.version != NULL ?
	    status.version : "?");
	fflush(stdout);

	/* The writers. */
	lpath = path_join(dir, "latencies");
	if ((fd = open(lpath, O_RDWR | O_CREAT | O_TRUNC | O_APPEND,
	    0600)) == -1)
		bench_die(lpath, strerror(errno));
	pids = xcalloc((size_t)writers, sizeof *pids);
	t0 = bench_now() + 1;
	for (w = 0; w < writers; w++) {
		if ((pids[w] = fork()) == -1)
			bench_die("fork", strerror(errno));
		if (pids[w] == 0)
			bench_writer(conninfo, w * (BENCH_AGENTS / writers),
			    BENCH_AGENTS / writers, seconds, t0, fd);
	}
	/* Sampled while every writer's backend is still there. */
	while ((v = bench_now()) < t0)
		usleep((useconds_t)((t0 - v) * 1e6));
	cpu0 = bench_db_cpu(status.pid);
	while ((v = bench_now()) < t0 + seconds - 0.3)
		usleep((useconds_t)((t0 + seconds - 0.3 - v) * 1e6));
	cpu1 = bench_db_cpu(status.pid);
	wall = bench_now() - t0;
	for (w = 0; w < writers; w++) {
		if (waitpid(pids[w], &st, 0) != pids[w] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad = 1;
	}
	lseek(fd, 0, SEEK_SET);
	while (read(fd, &v, sizeof v) == sizeof v) {
		if (v < 0) {
			nfail++;
			continue;
		}
		if (nlat == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			lat = xreallocarray(lat, cap, sizeof *lat);
		}
		lat[nlat++] = v;
	}
	close(fd);
	qsort(lat, nlat, sizeof *lat, bench_cmp);

	c = bench_connect(conninfo);
	res = PQexec(c, "SELECT count(*) FROM agent_metrics");
	rows = PQresultStatus(res) == PGRES_TUPLES_OK ?
	    atoll(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	PQfinish(c);
	printf("heartbeats: %lld of %d written (%zu failed)%s\n", rows,
	    BENCH_AGENTS * seconds, nfail, rows == (long long)BENCH_AGENTS *
	    seconds ? "" : "  MISSING");
	if (nlat > 0)
		printf("write latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms "
		    "(target p99 < 20 ms: %s)\n", lat[nlat / 2] * 1e3,
		    lat[(size_t)((double)nlat * 0.99)] * 1e3,
		    lat[nlat - 1] * 1e3, lat[(size_t)((double)nlat * 0.99)] <
		    0.020 ? "met" : "NOT met");
	printf("database CPU: %.1f s over %.1f s = %.0f%% of one core "
	    "(%ld cores here)\n", cpu1 - cpu0, wall, 100 * (cpu1 - cpu0) /
	    wall, sysconf(_SC_NPROCESSORS_ONLN));

	/* The capacity query against the cheapest round trip. */
	url = pgembed_url(pg, PGEMBED_DBNAME);
	envp[0] = xasprintf("CHIFFON_DB_URL=%s", url);
	envp[1] = xasprintf("HOME=%s", dir);
	envp[2] = xasprintf("CHIFFON_DATA_DIR=%s/data", dir);
	envp[3] = NULL;
	bin = path_join(build, "src/chiffon");
	{
		char	*a1[] = { bin, "agents", "--json", "--gpu-min", "8",
			    NULL };
		char	*a2[] = { "/usr/bin/psql", "-X", "-q", "-d", url, "-c",
			    "select 1", NULL };

		q1 = bench_command(a1, envp);
		q2 = bench_command(a2, envp);
	}
	printf("capacity query: chiffon agents --gpu-min 8 over %d agents "
	    "%.1f ms, psql -c 'select 1' %.1f ms: ratio %.2f\n",
	    BENCH_AGENTS, q1 * 1e3, q2 * 1e3, q1 / q2);

	pgembed_stop(pg, NULL, &err);
	pgembed_status_free(&status);
	pgembed_free(pg);
	rm[0] = "/bin/rm";
	rm[1] = "-rf";
	rm[2] = dir;
	rm[3] = NULL;
	if (fork() == 0) {
		execve(rm[0], rm, environ);
		_exit(127);
	}
	wait(NULL);
	for (i = 0; i < 3; i++)
		free(envp[i]);
	free(bin);
	free(url);
	free(lpath);
	free(pids);
	free(lat);
	free(conninfo);
	return bad || rows != (long long)BENCH_AGENTS * seconds ? 1 : 0;
}
