## tests/local.mk - make check.  Check suites and integration tests;
## fragments per component.
bench_programs =
bench_scripts =
TEST_CFLAGS = $(src_libchiffon_core_la_CPPFLAGS) $(CHECK_CFLAGS)
# Every suite's main() (testutil_main, tests/testutil.h).
check_LTLIBRARIES += tests/libtestmain.la
tests_libtestmain_la_SOURCES = tests/testmain.c tests/testutil.h
tests_libtestmain_la_CPPFLAGS = $(TEST_CFLAGS)
# The suites call libgit2 (and may call libcurl) themselves: linked here,
# while the binary opens them on first use (src/lazylib.h).
TEST_LIBS = tests/libtestmain.la src/libchiffon-core.la $(CHECK_LIBS) \
	$(GIT2_LIBS) $(CURL_LIBS)
# Helpers several suites share (tests/testutil.h); they need $(PGTEST_LIBS).
TESTUTIL_SOURCES = tests/testutil.c tests/testutil.h
include tests/core.mk
include tests/conf.mk
include tests/run.mk
include tests/intent.mk
include tests/llm.mk
include tests/db.mk
include tests/plugins.mk
include tests/infra.mk
include tests/repos.mk
include tests/tui.mk
include tests/dispatch.mk
include tests/audit.mk
include tests/orchestrate.mk
include tests/metrics.mk
include tests/agent.mk
include tests/template.mk
include tests/bench.mk
include tests/fuzz/local.mk
