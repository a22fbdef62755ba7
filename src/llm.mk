## src/llm.mk - language-model providers (the tiers that use them are in
## src/orch.mk)
src_libchiffon_core_la_SOURCES += src/llm.h src/llm-wire.c src/llm-check.c \
	src/llm-http.c
