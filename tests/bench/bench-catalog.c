/*
 * bench-catalog.c - the catalog refresh on a 1,000-playbook repository
 * written to a temporary directory: a full parse (no cache) against a
 * refresh in which nothing changed (the previous catalog as cache).
 * Issue 3: "refreshes in well under a second when nothing changed".
 * Issue 10: the same, cold and warm, on a repository of one site
 * playbook of 150 tagged roles (each with its defaults and toggle) and
 * 300 standalone playbooks.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "util.h"

#define BENCH_CATALOG_PLAYBOOKS	1000
#define BENCH_CATALOG_ROLES	20
#define BENCH_CATALOG_ROUNDS	5
#define BENCH_SITE_ROLES	150
#define BENCH_SITE_STANDALONE	300


static void
bench_catalog_write(const char *dir, const char *rel, const char *text)
{
	char	*path = path_join(dir, rel), *slash;
	FILE	*f;

	slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdir_p(path, 0755) != 0) {
		perror(path);
		exit(1);
	}
	*slash = '/';
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
bench_catalog_repo(const char *dir)
{
	struct strbuf	sb = { 0 };
	char		*rel;
	int		 i, j;

	for (i = 0; i < BENCH_CATALOG_ROLES; i++) {
		rel = xasprintf("roles/role%02d/tasks/main.yml", i);
		strbuf_reset(&sb);
		for (j = 0; j < 8; j++)
			strbuf_addf(&sb, "- name: Role %d step %d\n"
			    "  ansible.builtin.debug:\n    msg: x\n", i, j);
		bench_catalog_write(dir, rel, sb.buf);
		free(rel);
	}
	for (i = 0; i < BENCH_CATALOG_PLAYBOOKS; i++) {
		rel = xasprintf("%s/service%04d-%s.yml", i % 2 ? "playbooks" :
		    "stacks", i, i % 3 ? "deploy" : "config");
		strbuf_reset(&sb);
		strbuf_addf(&sb, "# chiffon:description=Service %d of the "
		    "benchmark\n# chiffon:aliases=svc %d,bench %d\n"
		    "- name: Play %d\n  hosts: group%d\n  tags: [t%d, bench]\n"
		    "  vars:\n    port: %d\n    name: service%04d\n"
		    "  roles:\n    - role%02d\n  tasks:\n", i, i, i, i, i % 7,
		    i % 13, 8000 + i, i, i % BENCH_CATALOG_ROLES);
		for (j = 0; j < 10; j++)
			strbuf_addf(&sb, "    - name: Step %d of service %d\n"
			    "      ansible.builtin.copy:\n"
			    "        dest: /tmp/x%d\n        content: y\n",
			    j, i, j);
		bench_catalog_write(dir, rel, sb.buf);
		free(rel);
	}
	strbuf_free(&sb);
}

/* One site playbook of tagged roles, and standalone playbooks. */
static void
bench_catalog_site(const char *dir)
{
	struct strbuf	sb = { 0 }, site = { 0 };
	char		*rel;
	int		 i;

	strbuf_adds(&site, "- name: Everything\n  hosts: homelab\n  roles:\n");
	for (i = 0; i < BENCH_SITE_ROLES; i++) {
		rel = xasprintf("roles/app%03d/defaults/main.yml", i);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "app%03d_enabled: false\napp%03d_version: "
		    "\"1.%d\"\n", i, i, i);
		bench_catalog_write(dir, rel, sb.buf);
		free(rel);
		rel = xasprintf("roles/app%03d/tasks/main.yml", i);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "- name: Install app %d\n  when: app%03d_enabled"
		    "\n  ansible.builtin.debug:\n    msg: x\n- name: Config\n"
		    "  ansible.builtin.import_tasks: config.yml\n  tags: "
		    "[app%03d_config]\n", i, i, i);
		bench_catalog_write(dir, rel, sb.buf);
		free(rel);
		strbuf_addf(&site, "    - role: app%03d\n      tags: [app%03d]\n",
		    i, i);
	}
	bench_catalog_write(dir, "site.yml", site.buf);
	for (i = 0; i < BENCH_SITE_STANDALONE; i++) {
		rel = xasprintf("playbooks/tool%03d-%s.yml", i, i % 2 ?
		    "install" : "backup");
		strbuf_reset(&sb);
		strbuf_addf(&sb, "- name: Tool %d\n  hosts: all\n  tasks:\n"
		    "    - name: Step\n      ansible.builtin.debug:\n", i);
		bench_catalog_write(dir, rel, sb.buf);
		free(rel);
	}
	strbuf_free(&sb);
	strbuf_free(&site);
}

/* rm -rf dir. */
static void
bench_catalog_rm(char *dir)
{
	char	*argv[] = { "rm", "-rf", dir, NULL };
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

static struct catalog *
bench_catalog_scan(const char *dir, struct catalog *cache, double *secs)
{
	struct catalog	*cat;
	char		*err = NULL;
	double		 t0 = now_s();

	if (catalog_scan(dir, cache, &cat, &err) != 0) {
		fprintf(stderr, "bench-catalog: %s\n", err);
		exit(1);
	}
	*secs = now_s() - t0;
	catalog_free(cache);
	return cat;
}

/* Issue 10's repository: cold and warm refresh. */
static double	bench_site_cold = 1e9, bench_site_warm = 1e9;
static size_t	bench_site_services;

static void
bench_catalog_site_run(void)
{
	char		 tmpl[] = "/tmp/bench-catalog-XXXXXX", *dir;
	struct catalog	*cat = NULL;
	struct playbook	*pb;
	double		 t;
	int		 i;

	if ((dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	bench_catalog_site(dir);
	for (i = 0; i < BENCH_CATALOG_ROUNDS; i++) {
		catalog_free(cat);
		cat = bench_catalog_scan(dir, NULL, &t);
		if (t < bench_site_cold)
			bench_site_cold = t;
	}
	pb = catalog_find(cat, "site.yml");
	if (pb == NULL || pb->nservices < 2 * BENCH_SITE_ROLES ||
	    cat->nplaybooks != BENCH_SITE_STANDALONE + 1) {
		fprintf(stderr, "bench-catalog: site.yml has %zu services, "
		    "%zu playbooks\n", pb != NULL ? pb->nservices : 0,
		    cat->nplaybooks);
		exit(1);
	}
	bench_site_services = pb->nservices;
	for (i = 0; i < BENCH_CATALOG_ROUNDS * 4; i++) {
		cat = bench_catalog_scan(dir, cat, &t);
		if (cat->stats.parsed != 0) {
			fprintf(stderr, "bench-catalog: warm refresh parsed\n");
			exit(1);
		}
		if (t < bench_site_warm)
			bench_site_warm = t;
	}
	catalog_free(cat);
	bench_catalog_rm(dir);
	printf("site playbook of %d tagged roles (%zu services) and %d "
	    "standalone playbooks (best of %d):\n", BENCH_SITE_ROLES,
	    bench_site_services, BENCH_SITE_STANDALONE, BENCH_CATALOG_ROUNDS);
	printf("  cold refresh:        %8.2f ms\n", bench_site_cold * 1e3);
	printf("  warm refresh:        %8.2f ms\n", bench_site_warm * 1e3);
	printf("  ratio cold / warm:   %.1fx\n", bench_site_cold /
	    bench_site_warm);
}

int
main(void)
{
	char		 tmpl[] = "/tmp/bench-catalog-XXXXXX", *dir;
	struct catalog	*cat = NULL;
	double		 t, full = 1e9, nochange = 1e9;
	int		 i;

	if ((dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	bench_catalog_repo(dir);
	for (i = 0; i < BENCH_CATALOG_ROUNDS; i++) {
		catalog_free(cat);
		cat = bench_catalog_scan(dir, NULL, &t);
		if (cat->stats.parsed != BENCH_CATALOG_PLAYBOOKS) {
			fprintf(stderr, "bench-catalog: parsed %u\n",
			    cat->stats.parsed);
			return 1;
		}
		if (t < full)
			full = t;
	}
	for (i = 0; i < BENCH_CATALOG_ROUNDS * 4; i++) {
		cat = bench_catalog_scan(dir, cat, &t);
		if (cat->stats.parsed != 0 ||
		    cat->stats.unchanged != BENCH_CATALOG_PLAYBOOKS) {
			fprintf(stderr, "bench-catalog: not a no-change "
			    "refresh\n");
			return 1;
		}
		if (t < nochange)
			nochange = t;
	}
	catalog_free(cat);
	cat = NULL;
	bench_catalog_rm(dir);

	bench_catalog_site_run();
	printf("catalog of %d playbooks (best of %d):\n",
	    BENCH_CATALOG_PLAYBOOKS, BENCH_CATALOG_ROUNDS);
	printf("  full parse:          %8.2f ms\n", full * 1e3);
	printf("  no-change refresh:   %8.2f ms\n", nochange * 1e3);
	printf("  ratio full / no-change: %.1fx\n", full / nochange);
	printf("  target 1000 ms / no-change: %.1fx (%s)\n", 1.0 / nochange,
	    nochange < 1.0 ? "met" : "MISSED");
	return 0;
}
