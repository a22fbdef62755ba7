#!/bin/sh
# bench-audit.sh - issue 5's query benchmark: audit queries and output
# pages on a synthetic history of 1,000,000 tasks and 10,000,000 output
# lines.  Run by `make bench` from the build tree.
exec ./tests/bench/bench-audit "$@"
