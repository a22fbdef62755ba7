## tests/core.mk - see tests/local.mk
## The event loop and child processes.  tests/helper-print is the child
## program check_spawn starts.
check_PROGRAMS += tests/check_loop tests/check_spawn tests/helper-print
TESTS += tests/check_loop tests/check_spawn
tests_check_loop_CPPFLAGS = $(TEST_CFLAGS)
tests_check_loop_LDADD = $(TEST_LIBS)
tests_check_spawn_CPPFLAGS = $(TEST_CFLAGS)
tests_check_spawn_LDADD = $(TEST_LIBS)
tests_helper_print_SOURCES = tests/helper-print.c
EXTRA_tests_check_spawn_DEPENDENCIES = tests/helper-print$(EXEEXT)
## check_util: the shared helpers (src/util.c, src/json-get.c).
check_PROGRAMS += tests/check_util
TESTS += tests/check_util
tests_check_util_SOURCES = tests/check_util.c $(TESTUTIL_SOURCES)
tests_check_util_CPPFLAGS = $(TEST_CFLAGS)
tests_check_util_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
# test_run_large_stderr runs tests/helper-print.
EXTRA_tests_check_util_DEPENDENCIES = tests/helper-print$(EXEEXT)
## check_procfs: /proc read through the configurable root (src/procfs.h)
## on a fake tree.
check_PROGRAMS += tests/check_procfs
TESTS += tests/check_procfs
tests_check_procfs_SOURCES = tests/check_procfs.c $(TESTUTIL_SOURCES)
tests_check_procfs_CPPFLAGS = $(TEST_CFLAGS)
tests_check_procfs_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
