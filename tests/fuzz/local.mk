## tests/fuzz/local.mk - libFuzzer targets (./configure --enable-fuzz
## CC=clang; `make fuzz`).  Each target runs FUZZ_RUNS executions
## (default 1,000,000) from its committed seed corpus in
## tests/fuzz/corpus/NAME; new inputs go to a scratch directory, so the
## committed corpus only changes by hand.  A crash, a leak or an abort()
## of a target's own invariant fails `make fuzz`.
FUZZ_RUNS = 1000000
FUZZ_TARGETS = intent llm-check yaml-play conf event
EXTRA_DIST += tests/fuzz/fuzz-vocab.h tests/fuzz/corpus
.PHONY: fuzz
if FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz-intent tests/fuzz/fuzz-llm-check \
	tests/fuzz/fuzz-yaml-play tests/fuzz/fuzz-conf tests/fuzz/fuzz-event
FUZZ_INCLUDES = $(src_libchiffon_core_la_CPPFLAGS) -I$(top_srcdir)/src \
	-I$(top_srcdir)/tests/fuzz -I$(top_srcdir)/plugins/infra
FUZZ_LINK = -fsanitize=fuzzer
tests_fuzz_fuzz_intent_SOURCES = tests/fuzz/fuzz-intent.c
tests_fuzz_fuzz_intent_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_intent_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_intent_LDADD = src/libchiffon-core.la
tests_fuzz_fuzz_llm_check_SOURCES = tests/fuzz/fuzz-llm-check.c
tests_fuzz_fuzz_llm_check_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_llm_check_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_llm_check_LDADD = src/libchiffon-core.la
tests_fuzz_fuzz_yaml_play_SOURCES = tests/fuzz/fuzz-yaml-play.c \
	$(CATALOG_CORE_SOURCES)
tests_fuzz_fuzz_yaml_play_CPPFLAGS = $(FUZZ_INCLUDES) $(INIH_CFLAGS)
tests_fuzz_fuzz_yaml_play_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_yaml_play_LDADD = src/libchiffon-core.la $(INIH_LIBS) -lm
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz-conf.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = src/libchiffon-core.la
tests_fuzz_fuzz_event_SOURCES = tests/fuzz/fuzz-event.c \
	plugins/infra/summary.c plugins/infra/summary.h
tests_fuzz_fuzz_event_CPPFLAGS = $(FUZZ_INCLUDES)
tests_fuzz_fuzz_event_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_event_LDADD = src/libchiffon-core.la

fuzz: $(noinst_PROGRAMS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		scratch=$$(mktemp -d); \
		echo "== fuzz-$$t: $(FUZZ_RUNS) runs"; \
		ASAN_OPTIONS=detect_leaks=1 tests/fuzz/fuzz-$$t \
		    -runs=$(FUZZ_RUNS) -max_len=65536 -timeout=10 \
		    -rss_limit_mb=2048 -print_final_stats=1 \
		    "$$scratch" $(srcdir)/tests/fuzz/corpus/$$t \
		    2>tests/fuzz/fuzz-$$t.log || { \
			tail -40 tests/fuzz/fuzz-$$t.log; rm -rf "$$scratch"; \
			exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' \
		    tests/fuzz/fuzz-$$t.log; \
		rm -rf "$$scratch"; \
	done
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzz CC=clang first" >&2; \
	exit 2
endif
