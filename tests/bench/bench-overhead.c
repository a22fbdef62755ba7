/*
 * bench-overhead.c - issue 3's overhead benchmark: the same playbook
 * (tests/bench/overhead/bench.yml on localhost) run
 *   - plain: ansible-playbook on a pty, its output read and dropped (what
 *     an admin running it in a terminal gets),
 *   - chiffon: the infra plugin's "ansible" capability through the real
 *     host, recording every line and event in a throwaway PostgreSQL,
 *   - ansible-runner: `ansible-runner run DIR -p bench.yml` with the same
 *     playbook, inventory, configuration and extra vars.
 * Rounds alternate the three so that drift hits all alike; one warm-up run
 * of each is not counted.  Prints the median wall time of each and the
 * ratio to plain ansible-playbook (target: chiffon within 3 % of plain),
 * and the median CPU time (user + system) of the process tree started,
 * plus for chiffon the CPU its own process spent recording (the
 * PostgreSQL server's share is not counted): on a busy machine CPU time
 * is the steadier measure.
 *
 * Usage: bench-overhead [ROUNDS]   (default 5)
 * Needs CHIFFON_SRCDIR and CHIFFON_BUILDDIR (overhead.sh sets them).
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "host.h"
#include "loop.h"
#include "../pgtest.h"
#include "plugins.h"
#include "spawn.h"
#include "util.h"

/* What the benchmark works with. */
static struct {
	struct app	 app;
	char		*repo;		/* tests/bench/overhead */
	char		*tmp;		/* private directory */
	char		*out_dir;	/* the playbook's out_dir */
	char		*runner_dir;	/* ansible-runner's private data dir */
	double		 self_cpu;	/* chiffon's own CPU in the last run */
} bench;

static void __attribute__((noreturn))
bench_die(const char *what, const char *err)
{
	fprintf(stderr, "bench-overhead: %s: %s\n", what, err);
	exit(1);
}

static void
bench_write(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		bench_die(path, strerror(errno));
}

static void
bench_copy(const char *from, const char *to)
{
	size_t	 len;
	char	*data = read_file(from, &len);

	if (data == NULL)
		bench_die(from, strerror(errno));
	bench_write(to, data);
	free(data);
}

/* How a child ended. */
struct bench_exit {
	int	status;
	double	cpu;
};

/* A child through the loop; returns when it exited. */
static void
bench_child_exit(struct chiffon_child *c, int wstatus,
    const struct chiffon_rusage *ru, void *data)
{
	struct bench_exit	*e = data;

	e->status = wstatus;
	e->cpu = ru != NULL ? ru->user_s + ru->sys_s : 0;
}

static double
bench_self_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
bench_spawn(const char *const *argv, const char *cwd, int use_pty,
    double *cpu)
{
	static const struct chiffon_child_cbs cbs = {
		.on_exit = bench_child_exit,
	};
	struct chiffon_spawn_opts	 opts = { 0 };
	struct loop			*loop = app_loop(&bench.app);
	double				 t0 = now_s();
	struct bench_exit		 e = { -1, 0 };
	char				*err = NULL;

	opts.argv = argv;
	opts.cwd = cwd;
	opts.use_pty = use_pty;
	if (spawn_start(loop, &opts, &cbs, &e, NULL, NULL, &err) == NULL)
		bench_die(argv[0], err);
	while (e.status == -1)
		loop_run_once(loop, -1);
	if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0)
		bench_die(argv[0], "the run failed");
	*cpu = e.cpu;
	return now_s() - t0;
}

static double
bench_plain(double *cpu)
{
	char		*vars = xasprintf("out_dir=%s", bench.out_dir);
	const char	*argv[] = { "ansible-playbook", "-e", vars, "bench.yml",
			    NULL };
	double		 t = bench_spawn(argv, bench.repo, 1, cpu);

	free(vars);
	return t;
}

static double
bench_runner(double *cpu)
{
	const char	*argv[] = { "ansible-runner", "run", bench.runner_dir,
			    "-p", "bench.yml", "--rotate-artifacts", "2",
			    NULL };

	return bench_spawn(argv, bench.tmp, 0, cpu);
}

static void
bench_done(const char *status, const char *result, void *data)
{
	char	**statusp = data;

	*statusp = xstrdup(status);
}

static double
bench_chiffon(double *cpu)
{
	struct loop	*loop = app_loop(&bench.app);
	double		 t0 = now_s(), c0 = bench_self_cpu(), t;
	char		*params, *status = NULL, *err = NULL;
	PGresult	*res;

	params = xasprintf("{\"playbook\": \"bench.yml\", \"extra_vars\": "
	    "{\"out_dir\": \"%s\"}}", bench.out_dir);
	if (host_invoke(&bench.app, "ansible", params, bench_done, &status,
	    &err) != 0)
		bench_die("chiffon", err);
	while (status == NULL)
		loop_run_once(loop, -1);
	t = now_s() - t0;
	*cpu = bench.self_cpu = bench_self_cpu() - c0;
	if (strcmp(status, "successful") != 0)
		bench_die("chiffon", status);
	res = PQexec(db_pg(bench.app.db), "SELECT user_s + sys_s FROM runs "
	    "ORDER BY id DESC LIMIT 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		bench_die("runs", PQerrorMessage(db_pg(bench.app.db)));
	*cpu += atof(PQgetvalue(res, 0, 0));
	PQclear(res);
	free(params);
	free(status);
	return t;
}

static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
bench_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	remove(path);
	return 0;
}

static void
bench_setup(struct pgtest *pg)
{
	const char	*src = getenv("CHIFFON_SRCDIR");
	const char	*build = getenv("CHIFFON_BUILDDIR");
	char		*conninfo, *err = NULL, *p, *q;

	if (src == NULL || build == NULL)
		bench_die("environment", "CHIFFON_SRCDIR and CHIFFON_BUILDDIR "
		    "must be set (run it through make bench)");
	bench.repo = path_join(src, "tests/bench/overhead");
	bench.tmp = xstrdup("/tmp/chiffon-bench-XXXXXX");
	if (mkdtemp(bench.tmp) == NULL)
		bench_die("mkdtemp", strerror(errno));
	bench.out_dir = path_join(bench.tmp, "out");

	/* ansible-runner's private data dir, the same repo inside. */
	bench.runner_dir = path_join(bench.tmp, "runner");
	p = path_join(bench.runner_dir, "project");
	q = path_join(bench.runner_dir, "inventory");
	if (mkdir_p(p, 0755) != 0 || mkdir_p(q, 0755) != 0)
		bench_die(p, strerror(errno));
	free(q);
	q = xasprintf("%s/bench.yml", p);
	free(p);
	p = path_join(bench.repo, "bench.yml");
	bench_copy(p, q);
	free(p);
	free(q);
	p = path_join(bench.repo, "ansible.cfg");
	q = path_join(bench.runner_dir, "project/ansible.cfg");
	bench_copy(p, q);
	free(p);
	free(q);
	p = path_join(bench.repo, "inventory.ini");
	q = path_join(bench.runner_dir, "inventory/hosts");
	bench_copy(p, q);
	free(p);
	free(q);
	p = path_join(bench.runner_dir, "env");
	mkdir_p(p, 0755);
	free(p);
	p = path_join(bench.runner_dir, "env/extravars");
	q = xasprintf("{\"out_dir\": \"%s\"}\n", bench.out_dir);
	bench_write(p, q);
	free(p);
	free(q);

	if ((conninfo = pgtest_new_db(pg, "bench_overhead", &err)) == NULL)
		bench_die("database", err);
	bench.app.argv0 = "bench-overhead";
	bench.app.conf = conf_new();
	p = xasprintf("%s/plugins/infra/.libs", build);
	if (conf_set(bench.app.conf, "db.url", conninfo, "bench", &err) ||
	    conf_set(bench.app.conf, "plugins.path", p, "bench", &err) ||
	    conf_set(bench.app.conf, "plugins.load", "infra", "bench", &err) ||
	    conf_set(bench.app.conf, "ansible.repo", bench.repo, "bench",
	    &err))
		bench_die("configuration", err);
	free(p);
	free(conninfo);
	if (app_db(&bench.app, &err) == NULL)
		bench_die("database", err);
	if (plugins_find(app_plugins(&bench.app), "infra") == NULL)
		bench_die("plugins", "the infra plugin did not load");
}

int
main(int argc, char **argv)
{
	struct pgtest	*pg;
	double		*plain, *chiffon, *runner, mp, mc, mr, cp;
	double		*cplain, *cchiffon, *crunner;
	char		*err = NULL;
	int		 rounds = argc > 1 ? atoi(argv[1]) : 5, i;

	if (rounds < 1)
		bench_die("usage", "bench-overhead [ROUNDS]");
	if ((pg = pgtest_start(&err)) == NULL)
		bench_die("test cluster", err);
	bench_setup(pg);
	plain = xcalloc((size_t)rounds * 6, sizeof *plain);
	chiffon = plain + rounds;
	runner = chiffon + rounds;
	cplain = runner + rounds;
	cchiffon = cplain + rounds;
	crunner = cchiffon + rounds;

	printf("overhead: %s/bench.yml, %d rounds (+1 warm-up)\n",
	    bench.repo, rounds);
	fflush(stdout);
	bench_plain(&cp);
	bench_chiffon(&cp);
	bench_runner(&cp);
	for (i = 0; i < rounds; i++) {
		plain[i] = bench_plain(&cplain[i]);
		chiffon[i] = bench_chiffon(&cchiffon[i]);
		runner[i] = bench_runner(&crunner[i]);
		printf("  round %d: plain %.3f s (cpu %.3f), chiffon %.3f s "
		    "(cpu %.3f, recording %.3f), ansible-runner %.3f s "
		    "(cpu %.3f)\n", i + 1, plain[i], cplain[i], chiffon[i],
		    cchiffon[i], bench.self_cpu, runner[i], crunner[i]);
		fflush(stdout);
	}
	mp = bench_median(plain, rounds);
	mc = bench_median(chiffon, rounds);
	mr = bench_median(runner, rounds);
	printf("median wall time (ratio to plain ansible-playbook):\n");
	printf("  %-18s %8.3f s  %.3f\n", "ansible-playbook", mp, 1.0);
	printf("  %-18s %8.3f s  %.3f  (target <= 1.030: %s)\n", "chiffon",
	    mc, mc / mp, mc / mp <= 1.03 ? "met" : "MISSED");
	printf("  %-18s %8.3f s  %.3f\n", "ansible-runner", mr, mr / mp);
	mp = bench_median(cplain, rounds);
	mc = bench_median(cchiffon, rounds);
	mr = bench_median(crunner, rounds);
	printf("median CPU time, user + system (ratio to plain):\n");
	printf("  %-18s %8.3f s  %.3f\n", "ansible-playbook", mp, 1.0);
	printf("  %-18s %8.3f s  %.3f\n", "chiffon", mc, mc / mp);
	printf("  %-18s %8.3f s  %.3f\n", "ansible-runner", mr, mr / mp);

	free(plain);
	app_free(&bench.app);
	pgtest_stop(pg);
	nftw(bench.tmp, bench_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(bench.repo);
	free(bench.tmp);
	free(bench.out_dir);
	free(bench.runner_dir);
	return 0;
}
