## tests/dispatch.mk - see tests/local.mk
## The work queue, routing and workers against a real cluster, with real
## worker processes running the test.sleep plugin.
check_LTLIBRARIES += tests/plugins/testsleep.la
tests_plugins_testsleep_la_SOURCES = tests/plugins/testsleep.c
tests_plugins_testsleep_la_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS)
tests_plugins_testsleep_la_LIBADD = $(JSONC_LIBS)
tests_plugins_testsleep_la_LDFLAGS = $(test_plugin_ldflags)

check_PROGRAMS += tests/check_dispatch
TESTS += tests/check_dispatch
tests_check_dispatch_SOURCES = tests/check_dispatch.c tests/pgtest.h \
	src/cmd-worker.c $(TESTUTIL_SOURCES)
tests_check_dispatch_CPPFLAGS = $(TEST_CFLAGS)
tests_check_dispatch_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_dispatch_DEPENDENCIES = tests/plugins/testsleep.la
