## tests/orchestrate.mk - the orchestrator (see tests/local.mk):
## check_plan     planning against the demo homelab with the real infra
##                plugin and a throwaway cluster;
## check_approve  the approval gate, bypass attempts refused by the
##                database, dry runs and real execution through the API;
## check_e2e      the chiffon binary end to end: `chiffon run --yes` on
##                the Kuma request, twice, and `chiffon plan` on a
##                missing service.
ORCH_TEST_SOURCES = tests/orchtest.c tests/orchtest.h $(TESTUTIL_SOURCES)
check_PROGRAMS += tests/check_plan tests/check_approve tests/check_e2e \
	tests/check_repos
TESTS += tests/check_plan tests/check_approve tests/check_e2e \
	tests/check_repos
tests_check_plan_SOURCES = tests/check_plan.c $(ORCH_TEST_SOURCES)
tests_check_plan_CPPFLAGS = $(TEST_CFLAGS)
tests_check_plan_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_plan_DEPENDENCIES = plugins/infra/infra.la
tests_check_approve_SOURCES = tests/check_approve.c $(ORCH_TEST_SOURCES)
tests_check_approve_CPPFLAGS = $(TEST_CFLAGS)
tests_check_approve_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_approve_DEPENDENCIES = plugins/infra/infra.la
tests_check_repos_SOURCES = tests/check_repos.c $(ORCH_TEST_SOURCES)
tests_check_repos_CPPFLAGS = $(TEST_CFLAGS)
tests_check_repos_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_repos_DEPENDENCIES = plugins/infra/infra.la \
	src/chiffon$(EXEEXT)
tests_check_e2e_SOURCES = tests/check_e2e.c $(ORCH_TEST_SOURCES)
tests_check_e2e_CPPFLAGS = $(TEST_CFLAGS)
tests_check_e2e_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_e2e_DEPENDENCIES = plugins/infra/infra.la \
	src/chiffon$(EXEEXT)

## make bench: request -> stored plan with the deterministic parser and
## the real matcher on a generated 1,000-playbook catalog.
check_PROGRAMS += tests/bench/bench-plan
bench_programs += tests/bench/bench-plan$(EXEEXT) plugins/infra/infra.la
bench_scripts += tests/bench/plan.sh
bench_programs += src/chiffon$(EXEEXT)
EXTRA_DIST += tests/bench/plan.sh
tests_bench_bench_plan_SOURCES = tests/bench/bench-plan.c
tests_bench_bench_plan_CPPFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/tests
tests_bench_bench_plan_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)

## check_faults   nothing lost under faults: a full disk (tmpfs holding
##                the cluster), PostgreSQL stopped and killed mid-run,
##                SIGKILL of `chiffon run`, SIGSTOP of a worker past its
##                lease (see the file's comment).
check_PROGRAMS += tests/check_faults
TESTS += tests/check_faults
tests_check_faults_SOURCES = tests/check_faults.c $(TESTUTIL_SOURCES) \
	tests/pgtest.h
tests_check_faults_CPPFLAGS = $(TEST_CFLAGS)
tests_check_faults_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_faults_DEPENDENCIES = plugins/infra/infra.la \
	src/chiffon$(EXEEXT)
