# bench-lib.sh - what the end-to-end benchmarks share (sourced by
# tests/bench/e2e.sh): clocks, pairs of samples, and the one format every
# figure is printed in, with the machine's core count and load average.
#
# A figure is measured as PAIRS pairs (chiffon, reference), alternating
# which of the two runs first, so that a change of load hits both.  It is
# printed as the median and the spread (min-max) of both series and of the
# per-pair ratio (or difference), against its target; a figure that
# misses its target says MISSED.  Missing a target does not fail the
# bench; a wrong result (lines lost) does (bench_fail).

bench_failed=0

# Nanoseconds since the epoch.
bench_ns() {
	date +%s%N
}

# bench_ms NS: nanoseconds as milliseconds (integer).
bench_ms() {
	echo $(($1 / 1000000))
}

# The machine: cores and the load average, as every figure prints it.
bench_machine() {
	printf '%s cores, load %s' "$(nproc)" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_stats FILE: "median min max" of the numbers in FILE, one a line.
bench_stats() {
	sort -g "$1" | awk '{ a[NR] = $1 }
	    END { if (NR == 0) { print "nan nan nan"; exit }
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.6g %.6g %.6g\n", m, a[1], a[NR] }'
}

# bench_pairs A B RATIOS DIFFS: per pair (line by line) A/B into RATIOS
# and A-B into DIFFS.
bench_pairs() {
	paste "$1" "$2" | awk -v r="$3" -v d="$4" \
	    '{ printf "%.6f\n", $1 / $2 > r; printf "%.6f\n", $1 - $2 > d }'
}

# bench_report NAME A_LABEL A_FILE B_LABEL B_FILE KIND TARGET
# A and B hold milliseconds, one sample a line, pairs line by line.
# KIND ratio: target is the highest ratio A/B ("1.03");
# KIND overhead: target is the most milliseconds A-B ("150").
bench_report() {
	name=$1 alabel=$2 a=$3 blabel=$4 b=$5 kind=$6 target=$7
	bench_pairs "$a" "$b" "$a.ratio" "$a.diff"
	set -- $(bench_stats "$a") $(bench_stats "$b") \
	    $(bench_stats "$a.ratio") $(bench_stats "$a.diff")
	n=$(wc -l < "$a")
	awk -v name="$name" -v al="$alabel" -v bl="$blabel" -v n="$n" \
	    -v kind="$kind" -v target="$target" -v machine="$(bench_machine)" \
	    -v am="$1" -v a0="$2" -v a1="$3" -v bm="$4" -v b0="$5" -v b1="$6" \
	    -v rm="$7" -v r0="$8" -v r1="$9" -v dm="${10}" -v d0="${11}" \
	    -v d1="${12}" 'BEGIN {
		if (kind == "ratio") {
			met = rm <= target
			goal = sprintf("target <= %sx", target)
		} else {
			met = dm <= target
			goal = sprintf("target overhead <= %s ms", target)
		}
		printf "%s (%d pairs; %s):\n", name, n, machine
		printf "  %-28s %8.0f ms (%.0f-%.0f)\n", al, am, a0, a1
		printf "  %-28s %8.0f ms (%.0f-%.0f)\n", bl, bm, b0, b1
		printf "  ratio %.3fx (%.3f-%.3f), overhead %+.0f ms " \
		    "(%+.0f..%+.0f): %s: %s\n", rm, r0, r1, dm, d0, d1, goal,
		    met ? "met" : "MISSED"
	}'
}

# bench_fail MESSAGE: a wrong result; the bench exits 1 at the end.
bench_fail() {
	echo "FAIL: $*"
	bench_failed=1
}

# bench_first I: 0 when pair I runs chiffon first (even pairs), else 1.
bench_first() {
	return $(($1 % 2))
}
