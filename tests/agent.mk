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
## make bench: 1,000 simulated agents heartbeating into the embedded
## cluster, and the capacity query.
check_PROGRAMS += tests/bench/bench-agents
bench_programs += tests/bench/bench-agents$(EXEEXT) src/chiffon$(EXEEXT)
bench_scripts += tests/bench/bench-agents.sh
tests_bench_bench_agents_SOURCES = tests/bench/bench-agents.c
tests_bench_bench_agents_CPPFLAGS = $(TEST_CFLAGS)
tests_bench_bench_agents_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/bench/bench-agents.sh
