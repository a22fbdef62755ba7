## src/run.mk - recording runs (output lines and events) in PostgreSQL.
src_libchiffon_core_la_SOURCES += src/runlog.c src/runlog.h \
	src/outchunk.c src/outchunk.h \
	src/run-summary.c src/run-summary.h
