#!/bin/sh
# bench-overhead.sh - issue 3's overhead benchmark: one playbook through
# chiffon's runner, plain ansible-playbook and ansible-runner.  Run by
# `make bench` from the build tree; ROUNDS (default 5) as the argument,
# else BENCH_PAIRS.
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
CHIFFON_SRCDIR=${CHIFFON_SRCDIR:-$srcdir}
CHIFFON_BUILDDIR=${CHIFFON_BUILDDIR:-$(pwd)}
export CHIFFON_SRCDIR CHIFFON_BUILDDIR
[ $# -gt 0 ] || set -- "${BENCH_PAIRS:-5}"
exec ./tests/bench/bench-overhead "$@"
