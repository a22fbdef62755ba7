## tests/llm.mk - language-model providers against a loopback double
check_PROGRAMS += tests/check_llm
TESTS += tests/check_llm
tests_check_llm_SOURCES = tests/check_llm.c tests/llmsrv.c tests/llmsrv.h
tests_check_llm_CPPFLAGS = $(TEST_CFLAGS)
tests_check_llm_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/check_tiers
TESTS += tests/check_tiers
tests_check_tiers_SOURCES = tests/check_tiers.c tests/llmsrv.c \
	tests/llmsrv.h $(TESTUTIL_SOURCES)
tests_check_tiers_CPPFLAGS = $(TEST_CFLAGS)
tests_check_tiers_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
