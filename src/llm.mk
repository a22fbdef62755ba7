## src/llm.mk - language-model providers
src_libchiffon_core_la_SOURCES += src/llm.h src/llm-wire.c src/llm-check.c \
	src/llm-http.c
src_libchiffon_core_la_SOURCES += src/tiers.c src/tiers.h
