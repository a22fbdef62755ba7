## src/local.mk - the chiffon binary and the core library it shares with
## the tests.  Components append their sources in src/*.mk fragments.

noinst_LTLIBRARIES += src/libchiffon-core.la
src_libchiffon_core_la_SOURCES = \
	src/util.c src/util.h \
	src/json-get.c src/json-get.h \
	src/procfs.c src/procfs.h \
	src/output.c src/output.h \
	src/log.c src/log.h \
	src/app.c src/app.h \
	src/cmd.c src/cmd.h \
	src/lazylib.c src/lazylib.h \
	src/lazy-curl.c src/lazy-git2.c
nodist_src_libchiffon_core_la_SOURCES =
src_libchiffon_core_la_CPPFLAGS = $(AM_CPPFLAGS) \
	$(NCURSES_CFLAGS) $(READLINE_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) \
	$(PQ_CFLAGS) $(GIT2_CFLAGS) $(INIH_CFLAGS) $(YAML_CFLAGS) \
	$(NETTLE_CFLAGS)
# libcurl and libgit2 are opened on their first call (src/lazylib.h), not
# linked.
src_libchiffon_core_la_LIBADD = \
	$(NCURSES_LIBS) $(READLINE_LIBS) $(JSONC_LIBS) \
	$(PQ_LIBS) $(INIH_LIBS) $(YAML_LIBS) $(NETTLE_LIBS) \
	$(LIBS)

bin_PROGRAMS += src/chiffon
src_chiffon_SOURCES = src/main.c src/cmd-table.c src/cmd-version.c
src_chiffon_CPPFLAGS = $(src_libchiffon_core_la_CPPFLAGS)
src_chiffon_LDADD = src/libchiffon-core.la

include src/conf.mk
include src/loop.mk
include src/db.mk
include src/plugins.mk
include src/run.mk
include src/migrate.mk
include src/llm.mk
include src/tui.mk
include src/audit.mk
include src/orch.mk
include src/generate.mk
