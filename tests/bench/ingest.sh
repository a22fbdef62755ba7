#!/bin/sh
# ingest.sh - issue 3's ingest benchmark: chiffon's run recorder against
# psql \copy into the same table.  Run by `make bench` from the build tree.
exec ./tests/bench/bench-ingest "$@"
