## tests/intent.mk - the deterministic request parser
check_PROGRAMS += tests/check_intent
TESTS += tests/check_intent
tests_check_intent_CPPFLAGS = $(TEST_CFLAGS)
tests_check_intent_LDADD = $(TEST_LIBS)
## check_targets: the hosts a step runs on (src/targets.c).
check_PROGRAMS += tests/check_targets
TESTS += tests/check_targets
tests_check_targets_CPPFLAGS = $(TEST_CFLAGS)
tests_check_targets_LDADD = $(TEST_LIBS)
