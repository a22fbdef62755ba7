## src/loop.mk - see src/local.mk
## The event loop and child processes started through it.
src_libchiffon_core_la_SOURCES += \
	src/loop.c src/loop.h \
	src/spawn.c src/spawn-child.c src/spawn.h
