## src/orchestrate.mk - the orchestrator: request -> intents -> plan ->
## approval gate (see src/local.mk).  The engine is in the core library
## (the TUI and the tests use it); the commands are in the binary.
src_libchiffon_core_la_SOURCES += \
	src/vocab.c src/vocab.h \
	src/plan-build.c src/plan-show.c src/plan-store.c src/plan.h \
	src/request.c src/request.h \
	src/approve.c src/approve.h \
	src/exec.c src/exec.h \
	src/approve-hash.c src/approve-hash.h \
	src/sha256.c src/sha256.h
src_chiffon_SOURCES += src/cmd-plan.c src/cmd-approve.c src/cmd-run.c
# plan-build.c, plan-show.c (and tiers.c) round durations and costs.
src_libchiffon_core_la_LIBADD += -lm
