#!/bin/sh
# tui-watch.sh - what another shell on the same database does, on an
# 80-column terminal (tmux, 80x24): shell B shows shell A's plan and run
# as "[other session]" lines that wrap at the pane's width like every
# other log line - each whole, its end ("; read-only here", "its output
# follows, read-only here") on the row below, no row wider than the pane
# - then the run's own output and its recap; at 60 columns they wrap
# again.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

# log_text SESSION: the Log pane's rows (below its title) joined, so that
# a wrapped line reads whole.
log_text() {
	screen "$1" | awk '/^── 2 Log / { on = 1; next } on && /^chiffon>/ { exit }
	    on { printf "%s", $0 }'
}
# log_wait SESSION TEXT MESSAGE: until log_text shows TEXT (5 s), else fail.
log_wait() {
	n=50
	until log_text "$1" | grep -qF -- "$2"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$3"
		sleep 0.1
	done
}
# widest SESSION: the widest row of the screen, in columns.
widest() {
	screen "$1" | LC_ALL=C.UTF-8 wc -L
}

target=b
# shellcheck disable=SC2086
start_size b 80 24 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 24 "chiffon>"
target=a
# shellcheck disable=SC2086
start_size a 80 24 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo"
wait_for 60 "db: embedded, connected"
wait_line 10 24 "chiffon>"
tm send-keys -t a -l "deploy grafana"
tm send-keys -t a Enter
wait_for 30 "F5: approve and run"
plan=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
task=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $plan")
who=$(sql "SELECT created_by FROM plans WHERE plan_id = $plan")
full="[other session] plan $plan.1 step 1 (task $task): pending_approval - deploy grafana (grafana-deploy.yml), planned by $who; read-only here"
[ "${#full}" -gt 80 ] || fail "the line fits 80 columns: nothing to wrap"
target=b
wait_for 10 "[other session] plan $plan.1 step 1 (task $task): pending_app"
log_wait b "$full" "the [other session] line is not whole: '$full'"
screen b | grep -q "^\[other session\] .*(gr$" &&
    fail "the [other session] line is cut at a word it should wrap"
screen b | grep -qF "; read-only here" ||
    fail "the end of the [other session] line is not on the screen"
[ "$(widest b)" -le 80 ] || fail "a row is wider than 80 columns"
ok "the [other session] line of plan $plan wraps whole at 80 columns"

target=a
tm send-keys -t a F5
wait_for 20 "Plan $plan approved by"
run=
n=300
while [ -z "$run" ]; do
	run=$(sql "SELECT r.id FROM runs r WHERE r.task_id = $task")
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "no run of task $task"
	sleep 0.1
done
approver=$(sql "SELECT approved_by FROM approvals WHERE decision =
    'approved' ORDER BY id DESC LIMIT 1")
target=b
wait_for 60 "PLAY RECAP"
runline="[other session] run $run of plan $plan.1 step 1 (task $task): deploy grafana (grafana-deploy.yml), approved by $approver"
# The run's header is above the recap now: from the top of the log.
tm send-keys -t b Escape
tm send-keys -t b g
log_wait b "$runline" "the run's [other session] line is not whole"
log_text b | grep -qF "its output follows, read-only here" ||
    fail "the run's [other session] line lacks its end"
[ "$(widest b)" -le 80 ] || fail "a row is wider than 80 columns"
ok "the [other session] line of run $run wraps whole at 80 columns"

tm resize-window -t b -x 60 -y 24
n=50
until [ "$(widest b)" -le 60 ] && log_text b | grep -qF -- "$runline"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "at 60 columns the run's line is not whole"
	sleep 0.1
done
ok "at 60 columns the line wraps again"
tm send-keys -t a F10
tm send-keys -t b F10
