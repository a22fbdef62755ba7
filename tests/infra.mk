## tests/infra.mk - see tests/local.mk
## check_infra_run: ansible-playbook runs, summaries, cancel/timeout and
## lint through the real infra plugin, host and a throwaway PostgreSQL.
check_PROGRAMS += tests/check_infra_run
TESTS += tests/check_infra_run
tests_check_infra_run_SOURCES = tests/check_infra_run.c \
	plugins/infra/summary.c plugins/infra/summary.h $(TESTUTIL_SOURCES)
tests_check_infra_run_CPPFLAGS = $(TEST_CFLAGS)
tests_check_infra_run_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_infra_run_DEPENDENCIES = plugins/infra/infra.la
EXTRA_DIST += tests/playbooks/ansible.cfg tests/playbooks/inventory.ini \
	tests/playbooks/repo_callbacks/repo_marker.py \
	tests/playbooks/success.yml tests/playbooks/failing.yml \
	tests/playbooks/unreachable.yml tests/playbooks/lines.yml \
	tests/playbooks/long.yml tests/playbooks/changing.yml \
	tests/playbooks/lint/flawed.yml
## make bench: the overhead of chiffon's runner against plain
## ansible-playbook and ansible-runner.
check_PROGRAMS += tests/bench/bench-overhead
bench_programs += tests/bench/bench-overhead$(EXEEXT) plugins/infra/infra.la
bench_scripts += tests/bench/bench-overhead.sh
tests_bench_bench_overhead_SOURCES = tests/bench/bench-overhead.c
tests_bench_bench_overhead_CPPFLAGS = $(TEST_CFLAGS)
tests_bench_bench_overhead_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_DIST += tests/bench/bench-overhead.sh tests/bench/overhead/bench.yml \
	tests/bench/overhead/ansible.cfg tests/bench/overhead/inventory.ini

## check_catalog, check_match: the catalog (libyaml parsing, incremental
## refresh, SHA-256, inventory) and the matcher, host-independent, on
## contrib/homelab and the fixture repository tests/catalog.
CATALOG_CORE_SOURCES = plugins/infra/catalog.c plugins/infra/catalog.h \
	plugins/infra/yaml-play.c plugins/infra/yaml-play.h \
	plugins/infra/inventory.c plugins/infra/inventory.h \
	plugins/infra/match.c plugins/infra/match.h \
	src/sha256.c src/sha256.h
CATALOG_TEST_CFLAGS = $(TEST_CFLAGS) $(INIH_CFLAGS) \
	-I$(top_srcdir)/plugins/infra
check_PROGRAMS += tests/check_catalog tests/check_match
TESTS += tests/check_catalog tests/check_match
tests_check_catalog_SOURCES = tests/check_catalog.c $(CATALOG_CORE_SOURCES)
tests_check_catalog_CPPFLAGS = $(CATALOG_TEST_CFLAGS)
tests_check_catalog_LDADD = $(TEST_LIBS) $(INIH_LIBS) -lm
tests_check_match_SOURCES = tests/check_match.c $(CATALOG_CORE_SOURCES)
tests_check_match_CPPFLAGS = $(CATALOG_TEST_CFLAGS)
tests_check_match_LDADD = $(TEST_LIBS) $(INIH_LIBS) -lm
check_PROGRAMS += tests/bench/bench-catalog tests/bench/bench-match
bench_programs += tests/bench/bench-catalog$(EXEEXT) \
	tests/bench/bench-match$(EXEEXT)
bench_scripts += tests/bench/catalog.sh tests/bench/match.sh
tests_bench_bench_catalog_SOURCES = tests/bench/bench-catalog.c \
	$(CATALOG_CORE_SOURCES)
tests_bench_bench_catalog_CPPFLAGS = $(CATALOG_TEST_CFLAGS)
tests_bench_bench_catalog_LDADD = $(TEST_LIBS) $(INIH_LIBS) -lm
tests_bench_bench_match_SOURCES = tests/bench/bench-match.c \
	$(CATALOG_CORE_SOURCES)
tests_bench_bench_match_CPPFLAGS = $(CATALOG_TEST_CFLAGS)
tests_bench_bench_match_LDADD = $(TEST_LIBS) $(INIH_LIBS) -lm
EXTRA_DIST += tests/bench/catalog.sh tests/bench/match.sh \
	tests/catalog/ansible.cfg tests/catalog/hosts.yml \
	tests/catalog/group_vars/all.yml tests/catalog/tasks/common.yml \
	tests/catalog/roles/nginx/tasks/main.yml \
	tests/catalog/roles/wireguard/tasks/main.yml \
	tests/catalog/broken.yml tests/catalog/common-handlers.yml \
	tests/catalog/backup-all.yml tests/catalog/docker-install.yml \
	tests/catalog/gitea-deploy.yml tests/catalog/home-assistant-install.yml \
	tests/catalog/nginx-proxy-manager-deploy.yml \
	tests/catalog/node-exporter-install.yml \
	tests/catalog/prometheus-deploy.yml \
	tests/catalog/syncthing-install.yaml tests/catalog/ups-monitor.yml \
	tests/catalog/vaultwarden-deploy.yml tests/catalog/wireguard-setup.yml \
	tests/catalog/playbooks/certs-renew.yml \
	tests/catalog/playbooks/system-upgrade.yml
## check_infra_catalog: the catalog and match capabilities through the
## host and the built plugin, against a throwaway PostgreSQL.
check_PROGRAMS += tests/check_infra_catalog
TESTS += tests/check_infra_catalog
tests_check_infra_catalog_SOURCES = tests/check_infra_catalog.c \
	$(TESTUTIL_SOURCES)
tests_check_infra_catalog_CPPFLAGS = $(TEST_CFLAGS)
tests_check_infra_catalog_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_infra_catalog_DEPENDENCIES = plugins/infra/infra.la

## check_infra_unit: the infra plugin's pure functions (run_env,
## run_parse_version, lint_parse, lint_category), compiled in.
check_PROGRAMS += tests/check_infra_unit
TESTS += tests/check_infra_unit
tests_check_infra_unit_SOURCES = tests/check_infra_unit.c \
	plugins/infra/run.c plugins/infra/run-cfg.c plugins/infra/run.h \
	plugins/infra/lint.c plugins/infra/summary.c plugins/infra/summary.h \
	$(CATALOG_CORE_SOURCES) $(TESTUTIL_SOURCES)
tests_check_infra_unit_CPPFLAGS = $(CATALOG_TEST_CFLAGS) \
	-DCHIFFON_SRC_CALLBACK_DIR='"$(abs_top_srcdir)/plugins/infra/callback"'
tests_check_infra_unit_LDADD = $(PGTEST_LIBS) $(TEST_LIBS) $(INIH_LIBS) -lm
