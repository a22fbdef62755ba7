#!/bin/sh
# ingest.sh - issue 3's ingest benchmark: chiffon's run recorder against
# psql \copy into the same table.  Run by `make bench` from the build tree;
# without arguments BENCH_INGEST_LINES (default 1,000,000) lines, best of
# BENCH_INGEST_ROUNDS (default 3).
[ $# -gt 0 ] || set -- "${BENCH_INGEST_LINES:-1000000}" \
    "${BENCH_INGEST_ROUNDS:-3}"
exec ./tests/bench/bench-ingest "$@"
