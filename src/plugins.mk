## src/plugins.mk - see src/local.mk
## The plugin loader and registry, the host API, `chiffon plugins`
## (tasks are in src/orch.mk).
src_libchiffon_core_la_SOURCES += \
	src/plugins.c src/plugins.h \
	src/host.c src/host.h
src_chiffon_SOURCES += src/cmd-plugins.c
