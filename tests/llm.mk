## tests/llm.mk - language-model providers against a loopback double
check_PROGRAMS += tests/check_llm
TESTS += tests/check_llm
tests_check_llm_SOURCES = tests/check_llm.c tests/llmsrv.c tests/llmsrv.h
tests_check_llm_CPPFLAGS = $(TEST_CFLAGS)
tests_check_llm_LDADD = $(TEST_LIBS)
