## tests/agent.mk - see tests/local.mk
## check_agent: `chiffon agent` and `chiffon agents` as real processes
## against a throwaway cluster, with the desktop-metrics plugin on the
## fake trees of tests/metrics and the NVML double.
check_PROGRAMS += tests/check_agent
TESTS += tests/check_agent
tests_check_agent_SOURCES = tests/check_agent.c src/cmd-agent.c \
	src/cmd-agents.c src/cmd-prune.c $(ORCH_TEST_SOURCES)
tests_check_agent_CPPFLAGS = $(TEST_CFLAGS)
tests_check_agent_LDADD = $(PGTEST_LIBS) $(TEST_LIBS) -lm
EXTRA_tests_check_agent_DEPENDENCIES = tests/plugins/testsleep.la \
	tests/metrics/nvml-double.la \
	plugins/desktop-metrics/desktop-metrics.la
