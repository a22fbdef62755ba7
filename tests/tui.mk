## tests/tui.mk - the terminal shell (see tests/local.mk).
## check_tui: unit tests of text, line buffer, layout and key tables.
## tui-screen.sh: the whole screen driven through a private tmux server.
## tui-interrupt.sh: signals, hang-ups and cancels while a plan runs.
## tui-panes.sh: panes, History with the log replayed, Agents.
## tui-faults.sh: PostgreSQL restarted and SIGKILL of the shell mid-run.
## tui-lib.sh: what they share.
check_PROGRAMS += tests/check_tui
TESTS += tests/check_tui tests/tui-screen.sh tests/tui-interrupt.sh \
	tests/tui-panes.sh tests/tui-faults.sh
tests_check_tui_SOURCES = tests/check_tui.c
tests_check_tui_CPPFLAGS = $(TEST_CFLAGS)
tests_check_tui_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/tui-screen.sh tests/tui-interrupt.sh tests/tui-lib.sh \
	tests/tui-panes.sh tests/tui-faults.sh
