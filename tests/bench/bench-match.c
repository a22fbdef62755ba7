/*
 * bench-match.c - matching against a synthetic 1,000-playbook catalog:
 * mean time per match over a mix of exact, lexical, misspelled and
 * unmatched queries, against the 2 ms target of issue 3.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "match.h"
#include "util.h"

#define BENCH_MATCH_PLAYBOOKS	1000
#define BENCH_MATCH_ROUNDS	200
#define BENCH_MATCH_TARGET_MS	2.0

static const char *bench_match_words[] = {
	"proxy", "media", "backup", "monitor", "dns", "mail", "vpn", "git",
	"wiki", "photo", "music", "book", "note", "chat", "cloud", "cache",
	"queue", "search", "metrics", "logs", "auth", "ldap", "print", "scan",
	"camera", "sensor", "garden", "energy", "solar", "printer", "game",
	"torrent", "feed", "news", "budget", "recipe", "task", "calendar",
	"contact", "password", "home", "light", "door", "weather", "radio",
};
static const char *bench_match_actions[] = {
	"deploy", "config", "backup", "remove", "update",
};

static struct catalog *
bench_match_catalog(void)
{
	struct catalog	*cat = catalog_new("bench");
	struct playbook	*pb;
	size_t		 nw = nitems(bench_match_words), i, j;
	char		*s;

	for (i = 0; i < BENCH_MATCH_PLAYBOOKS; i++) {
		const char *a = bench_match_words[i % nw];
		const char *b = bench_match_words[(i / nw + 3 * i) % nw];
		const char *act = bench_match_actions[i %
		    nitems(bench_match_actions)];

		s = xasprintf("svc%04zu-%s.yml", i, act);
		pb = catalog_playbook_new(s);
		free(s);
		pb->service = catalog_service_name(pb->path, &pb->action);
		pb->description = xasprintf("Manage the %s %s service number "
		    "%zu for the homelab", a, b, i);
		s = xasprintf("%s %s %zu", a, b, i);
		catalog_list_add(&pb->aliases, s);
		free(s);
		catalog_list_add(&pb->tags, a);
		catalog_list_add(&pb->tags, b);
		for (j = 0; j < 12; j++) {
			s = xasprintf("Write the %s configuration file %zu",
			    bench_match_words[(i + j) % nw], j);
			catalog_list_add(&pb->tasks, s);
			free(s);
		}
		pb->vars_json = xstrdup("{}");
		catalog_add(cat, pb);
	}
	catalog_sort(cat);
	return cat;
}

int
main(void)
{
	static const char	*queries[] = {
		"deploy svc0042", "install the media proxy 17",
		"back up the photo cloud", "deploy the pasword manager",
		"configure the wether radio", "deploy paperless on the nas",
		"remove svc0999", "update the solar energy 300 dashboard",
		"set up the calendar and contact sync",
		"deploy kubernetes on all proxmox hosts",
	};
	struct catalog		*cat = bench_match_catalog();
	struct match_index	*idx;
	struct match_result	 r;
	struct match_query	 q = { 0 };
	double			 t0, build, per;
	size_t			 i, n = 0, matched = 0;
	int			 round;

	t0 = now_s();
	idx = match_index_new(cat);
	build = now_s() - t0;
	t0 = now_s();
	for (round = 0; round < BENCH_MATCH_ROUNDS; round++) {
		for (i = 0; i < nitems(queries); i++) {
			q.text = queries[i];
			match_run(idx, &q, &r);
			matched += r.method != MATCH_NONE;
			n++;
		}
	}
	per = (now_s() - t0) / n * 1e3;
	printf("matcher on %d playbooks: %zu matches (%zu found)\n",
	    BENCH_MATCH_PLAYBOOKS, n, matched);
	printf("  index build:        %8.3f ms\n", build * 1e3);
	printf("  per match (mean):   %8.3f ms\n", per);
	printf("  target %.1f ms / per match: %.1fx (%s)\n",
	    BENCH_MATCH_TARGET_MS, BENCH_MATCH_TARGET_MS / per,
	    per < BENCH_MATCH_TARGET_MS ? "met" : "MISSED");
	match_index_free(idx);
	catalog_free(cat);
	return 0;
}
