#!/bin/sh
# match.sh - issue 3's matcher benchmark: time per match against a
# 1,000-playbook catalog, against the 2 ms target.  Run by `make bench`
# from the build tree.
exec ./tests/bench/bench-match "$@"
