## tests/db.mk - the PostgreSQL test harness and the embedded-cluster
## integration suite (see tests/local.mk).
##
## tests/libpgtest.la is the throwaway-cluster harness (tests/pgtest.h).
## A suite that needs a real database links it before the core library:
##	tests_check_x_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
check_LTLIBRARIES += tests/libpgtest.la
tests_libpgtest_la_SOURCES = tests/pgtest.c tests/pgtest.h
tests_libpgtest_la_CPPFLAGS = $(TEST_CFLAGS)
PGTEST_LIBS = tests/libpgtest.la

check_PROGRAMS += tests/check_pgembed
TESTS += tests/check_pgembed
tests_check_pgembed_SOURCES = tests/check_pgembed.c $(TESTUTIL_SOURCES)
tests_check_pgembed_CPPFLAGS = $(TEST_CFLAGS)
tests_check_pgembed_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
# test_cmd_db runs the chiffon binary of the build tree.
EXTRA_tests_check_pgembed_DEPENDENCIES = src/chiffon$(EXEEXT)
