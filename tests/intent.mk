## tests/intent.mk - the deterministic request parser
check_PROGRAMS += tests/check_intent
TESTS += tests/check_intent
tests_check_intent_CPPFLAGS = $(TEST_CFLAGS)
tests_check_intent_LDADD = $(TEST_LIBS)
