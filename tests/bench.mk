## tests/bench.mk - make bench: the end-to-end figures (issue 15), what
## the admin waits for against a reference in the same run.
check_PROGRAMS += tests/bench/bench-pty
bench_programs += tests/bench/bench-pty$(EXEEXT) src/chiffon$(EXEEXT) \
	plugins/infra/infra.la
bench_scripts += tests/bench/e2e.sh
tests_bench_bench_pty_SOURCES = tests/bench/bench-pty.c
tests_bench_bench_pty_CPPFLAGS = $(TEST_CFLAGS)
EXTRA_DIST += tests/bench/e2e.sh tests/bench/bench-lib.sh
