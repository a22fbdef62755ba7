#!/bin/sh
# catalog.sh - issue 3's catalog benchmark: a no-change refresh of a
# 1,000-playbook repository against a full parse of it.  Run by
# `make bench` from the build tree.
exec ./tests/bench/bench-catalog "$@"
