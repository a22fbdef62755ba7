## tests/audit.mk - the audit trail against a real throwaway cluster and
## real git repositories; the audit query benchmark (make bench).
check_PROGRAMS += tests/check_audit
TESTS += tests/check_audit
tests_check_audit_SOURCES = tests/check_audit.c tests/pgtest.h \
	$(TESTUTIL_SOURCES)
tests_check_audit_CPPFLAGS = $(TEST_CFLAGS)
tests_check_audit_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
# Several cases run the chiffon binary (audit, show, db prune).
EXTRA_tests_check_audit_DEPENDENCIES = src/chiffon$(EXEEXT)

check_PROGRAMS += tests/bench/bench-audit
bench_programs += tests/bench/bench-audit$(EXEEXT)
bench_scripts += tests/bench/bench-audit.sh
EXTRA_DIST += tests/bench/bench-audit.sh
tests_bench_bench_audit_SOURCES = tests/bench/bench-audit.c tests/pgtest.h
tests_bench_bench_audit_CPPFLAGS = $(TEST_CFLAGS)
tests_bench_bench_audit_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)

check_PROGRAMS += tests/check_gittrail
TESTS += tests/check_gittrail
tests_check_gittrail_SOURCES = tests/check_gittrail.c $(TESTUTIL_SOURCES)
tests_check_gittrail_CPPFLAGS = $(TEST_CFLAGS)
tests_check_gittrail_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
