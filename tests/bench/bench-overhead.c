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
 * ratio to plain ansible-playbook.  Target: chiffon within 3 % of plain.
 *
 * Usage: bench-overhead [ROUNDS]   (default 5)
 * Needs CHIFFON_SRCDIR and CHIFFON_BUILDDIR (overhead.sh sets them).
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
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

/* A child through the loop; returns when it exited. */
static void
bench_child_exit(struct chiffon_child *c, int wstatus,
    const struct chiffon_rusage *ru, void *data)
{
	int	*status = data;

	*status = wstatus;
}

static double
bench_spawn(const char *const *argv, const char *cwd, int use_pty)
{
	static const struct chiffon_child_cbs cbs = {
		.on_exit = bench_child_exit,
	};
	struct chiffon_spawn_opts	 opts = { 0 };
	struct loop			*loop = app_loop(&bench.app);
	double				 t0 = now_s();
	int				 status = -1;
	char				*err = NULL;

	opts.argv = argv;
	opts.cwd = cwd;
	opts.use_pty = use_pty;
	if (spawn_start(loop, &opts, &cbs, &status, NULL, NULL, &err) == NULL)
		bench_die(argv[0], err);
	while (status == -1)
		loop_run_once(loop, -1);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die(argv[0], "the run failed");
	return now_s() - t0;
}

static double
bench_plain(void)
{
	char		*vars = xasprintf("out_dir=%s", bench.out_dir);
	const char	*argv[] = { "ansible-playbook", "-e", vars, "bench.yml",
			    NULL };
	double		 t = bench_spawn(argv, bench.repo, 1);

	free(vars);
	return t;
}

static double
bench_runner(void)
{
	const char	*argv[] = { "ansible-runner", "run", bench.runner_dir,
			    "-p", "bench.yml", "--rotate-artifacts", "2",
			    NULL };

	return bench_spawn(argv, bench.tmp, 0);
}

static void
bench_done(const char *status, const char *result, void *data)
{
	char	**statusp = data;

	*statusp = xstrdup(status);
}

static double
bench_chiffon(void)
{
	struct loop	*loop = app_loop(&bench.app);
	double		 t0 = now_s();
	char		*params, *status = NULL, *err = NULL;

	params = xasprintf("{\"playbook\": \"bench.yml\", \"extra_vars\": "
	    "{\"out_dir\": \"%s\"}}", bench.out_dir);
	if (host_invoke(&bench.app, "ansible", params, bench_done, &status,
	    &err) != 0)
		bench_die("chiffon", err);
	while (status == NULL)
		loop_run_once(loop, -1);
	if (strcmp(status, "successful") != 0)
		bench_die("chiffon", status);
	free(params);
	free(status);
	return now_s() - t0;
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
	double		*plain, *chiffon, *runner, mp, mc, mr;
	char		*err = NULL;
	int		 rounds = argc > 1 ? atoi(argv[1]) : 5, i;

	if (rounds < 1)
		bench_die("usage", "bench-overhead [ROUNDS]");
	if ((pg = pgtest_start(&err)) == NULL)
		bench_die("test cluster", err);
	bench_setup(pg);
	plain = xcalloc((size_t)rounds, sizeof *plain);
	chiffon = xcalloc((size_t)rounds, sizeof *chiffon);
	runner = xcalloc((size_t)rounds, sizeof *runner);

	printf("overhead: %s/bench.yml, %d rounds (+1 warm-up)\n",
	    bench.repo, rounds);
	fflush(stdout);
	bench_plain();
	bench_chiffon();
	bench_runner();
	for (i = 0; i < rounds; i++) {
		plain[i] = bench_plain();
		chiffon[i] = bench_chiffon();
		runner[i] = bench_runner();
		printf("  round %d: plain %.3f s, chiffon %.3f s, "
		    "ansible-runner %.3f s\n", i + 1, plain[i], chiffon[i],
		    runner[i]);
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

	free(plain);
	free(chiffon);
	free(runner);
	app_free(&bench.app);
	pgtest_stop(pg);
	nftw(bench.tmp, bench_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(bench.repo);
	free(bench.tmp);
	free(bench.out_dir);
	free(bench.runner_dir);
	return 0;
}
