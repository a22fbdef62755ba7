## tests/run.mk - the migration runner, the schema's rules and the run
## recorder, against a real throwaway cluster (tests/pgtest.c); the ingest
## benchmark (make bench).
check_PROGRAMS += tests/check_migrate tests/check_runlog
TESTS += tests/check_migrate tests/check_runlog
tests_check_migrate_SOURCES = tests/check_migrate.c tests/pgtest.h \
	$(TESTUTIL_SOURCES)
tests_check_migrate_CPPFLAGS = $(TEST_CFLAGS)
tests_check_migrate_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
tests_check_runlog_SOURCES = tests/check_runlog.c tests/pgtest.h \
	$(TESTUTIL_SOURCES)
tests_check_runlog_CPPFLAGS = $(TEST_CFLAGS)
tests_check_runlog_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)

check_PROGRAMS += tests/bench/bench-ingest
bench_programs += tests/bench/bench-ingest$(EXEEXT)
bench_scripts += tests/bench/ingest.sh
EXTRA_DIST += tests/bench/ingest.sh
tests_bench_bench_ingest_SOURCES = tests/bench/bench-ingest.c tests/pgtest.h
tests_bench_bench_ingest_CPPFLAGS = $(TEST_CFLAGS)
tests_bench_bench_ingest_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
