## src/tui.mk - the terminal shell (see src/local.mk).
## The TUI's files are in the core library so that tests/check_tui can
## link its parts; cmd-shell.c is the `shell` command of the binary.
src_libchiffon_core_la_SOURCES += \
	src/tui.c src/tui.h src/tui-keys.h \
	src/tui-exec.c src/tui-term.c src/tui-watch.c src/tui-input.c src/tui-layout.c src/tui-log.c \
	src/tui-plan.c src/tui-text.c src/tui-pane.c src/tui-history.c \
	src/tui-agents.c src/tui-search.c src/tui-summary.c \
	src/tui-status.c src/tui-pending.c src/tui-loghost.c
src_chiffon_SOURCES += src/cmd-shell.c
