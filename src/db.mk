## src/db.mk - the database connection, the embedded PostgreSQL cluster
## and `chiffon db` (see src/local.mk).
src_libchiffon_core_la_SOURCES += \
	src/db.c src/db.h \
	src/pgembed.c src/pgembed.h
src_chiffon_SOURCES += src/cmd-db.c
