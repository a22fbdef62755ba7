## src/dispatch.mk - see src/local.mk
## The work queue, routing and the worker loop; `chiffon worker`.
src_libchiffon_core_la_SOURCES += \
	src/dispatch.c src/dispatch.h \
	src/route.c src/route.h \
	src/worker.c src/worker.h \
	src/agent.c src/agent.h
src_chiffon_SOURCES += src/cmd-worker.c src/cmd-agent.c src/cmd-agents.c
