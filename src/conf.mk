## src/conf.mk - chiffon.conf parsing (see src/local.mk)
src_libchiffon_core_la_SOURCES += src/conf.c src/conf.h src/conf-table.c \
	src/conf-table.h
