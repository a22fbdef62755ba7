#!/bin/sh
# plan.sh - issue 4's plan latency benchmark: request -> stored plan with
# the deterministic parser and the infra plugin's matcher on a generated
# 1,000-playbook repository, median against the 5 ms target.  Run by
# `make bench` from the build tree.
CHIFFON_BUILDDIR=${CHIFFON_BUILDDIR:-.}
export CHIFFON_BUILDDIR
exec ./tests/bench/bench-plan "$@"
