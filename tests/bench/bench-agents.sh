#!/bin/sh
# bench-agents.sh - issue 13's agent benchmark: 1,000 simulated agents
# heartbeating once a second into the embedded PostgreSQL, and the
# capacity query.  Run by `make bench` from the build tree; SECONDS
# (default 60) and WRITERS (default 10) as the arguments.
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
CHIFFON_SRCDIR=${CHIFFON_SRCDIR:-$srcdir}
CHIFFON_BUILDDIR=${CHIFFON_BUILDDIR:-$(pwd)}
export CHIFFON_SRCDIR CHIFFON_BUILDDIR
exec ./tests/bench/bench-agents "$@"
