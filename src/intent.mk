## src/intent.mk - the deterministic request parser
src_libchiffon_core_la_SOURCES += src/intent.c src/intent.h \
	src/actions.c src/actions.h
