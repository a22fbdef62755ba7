## tests/tui.mk - the terminal shell (see tests/local.mk).
## check_tui: unit tests of text, line buffer, layout and key tables.
## tui-screen.sh: the whole screen driven through a private tmux server.
## tui-interrupt.sh: signals, hang-ups and cancels while a plan runs.
## tui-panes.sh: panes, History with the log replayed, Agents.
## tui-live.sh: the shell never blocks: keys while a model call is in
## flight, cancel, two shells on one database, history, TERM, resize.
## tui-mission.sh: the mission's request on contrib/homelab, end to end.
## tui-log.sh: the Log pane: paging from run_output, colours, wrap, jumps.
## tui-pending.sh: the Plan pane's pending plans: pick, amend, reject.
## tui-faults.sh: PostgreSQL restarted and SIGKILL of the shell mid-run.
## tui-watch.sh: another shell's plan and run, wrapped at 80 and 60 columns.
## tui-loghost.sh: the host filter pages 3,001 lines of a replayed run.
## tui-suggest.sh: real ansible-lint suggestions in the summary on screen.
## tui-catalog.sh: the catalog is read at the first key; a request waits.
## tui-lib.sh: what they share.
check_PROGRAMS += tests/check_tui tests/llmsrv-run
TESTS += tests/check_tui tests/tui-screen.sh tests/tui-interrupt.sh \
	tests/tui-panes.sh tests/tui-live.sh tests/tui-mission.sh \
	tests/tui-log.sh tests/tui-pending.sh \
	tests/tui-faults.sh tests/tui-watch.sh tests/tui-loghost.sh \
	tests/tui-suggest.sh tests/tui-catalog.sh
tests_check_tui_SOURCES = tests/check_tui.c
tests_check_tui_CPPFLAGS = $(TEST_CFLAGS)
tests_check_tui_LDADD = $(TEST_LIBS)
tests_llmsrv_run_SOURCES = tests/llmsrv-run.c tests/llmsrv.c tests/llmsrv.h
tests_llmsrv_run_CPPFLAGS = $(TEST_CFLAGS)
tests_llmsrv_run_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/tui-screen.sh tests/tui-interrupt.sh tests/tui-lib.sh \
	tests/tui-panes.sh tests/tui-live.sh tests/tui-mission.sh \
	tests/tui-log.sh tests/tui-pending.sh \
	tests/tui-faults.sh tests/tui-watch.sh tests/tui-loghost.sh \
	tests/tui-suggest.sh tests/tui-catalog.sh
## make bench: the shell's startup, memory and key answer time (tmux).
bench_scripts += tests/bench/bench-tui.sh
bench_programs += src/chiffon$(EXEEXT) plugins/infra/infra.la
EXTRA_DIST += tests/bench/bench-tui.sh
