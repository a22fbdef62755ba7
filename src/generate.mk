## src/generate.mk - `chiffon generate` (the template plugin's capabilities
## as a plan step) and the commit of what a capability wrote into the
## Ansible repository (repochange.c, used by the worker).
src_libchiffon_core_la_SOURCES += src/repochange.c src/repochange.h
src_chiffon_SOURCES += src/cmd-generate.c
