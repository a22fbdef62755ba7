#!/bin/sh
# tui-faults.sh - nothing lost under faults in the shell: a 100,000-line
# run approved with F5 while
#   - PostgreSQL is stopped (pg_ctl stop -m fast) and restarted,
#   - the postmaster is SIGKILLed and the server restarted,
# rides it out: the playbook is not killed nor started twice, every line
# ansible printed is a row of run_output (as many as an undisturbed run
# of the same playbook prints), task and run end succeeded/successful and
# `chiffon audit verify` passes.  And SIGKILL of the shell at several
# points of the output: the playbook goes with it, the next start closes
# the run as interrupted with the count of the rows really stored (at
# most the documented bound, 1,000 lines, short of what the screen
# showed), never runs it again, and audit verify passes.
#
# The repository is contrib/homelab plus bigout-deploy.yml, which prints
# 100,000 numbered lines once a marker file exists.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

target=none
# The documented bound (runlog.h): lines a SIGKILL may lose.
bound=1000

cp -R "$CHIFFON_SRCDIR/contrib/homelab" "$tmp/repo"
chmod -R u+w "$tmp/repo"
repo=$tmp/repo
marker=$tmp/marker
cat >"$repo/bigout-deploy.yml" <<YML
# chiffon:description=Deploy bigout: 100,000 numbered lines once the marker exists
- name: Deploy bigout
  hosts: docker1
  gather_facts: false
  tags: [bigout]
  tasks:
    - name: Count
      ansible.builtin.command: seq 1 100000
      register: count
      changed_when: false
    - name: Wait for the marker
      ansible.builtin.wait_for:
        path: $marker
        timeout: 300
    - name: Print
      ansible.builtin.debug:
        var: count.stdout_lines
YML

# wait_sql SECONDS QUERY WANT: until QUERY (one value) says WANT; the
# server may be away meanwhile.
wait_sql() {
	n=$(($1 * 10))
	while [ "$(sql "$2" 2>/dev/null || :)" != "$3" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$2: '$(sql "$2" 2>&1 || :)', expected '$3'"
		sleep 0.1
	done
}

# audit_ok WHAT: chiffon audit verify passes.
audit_ok() {
	# shellcheck disable=SC2086
	$run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo" \
	    audit verify >"$tmp/verify" 2>&1 ||
	    { cat "$tmp/verify" >&2; fail "$1: audit verify failed"; }
}

# stored_ok RUN: the rows of run RUN are its line count, numbered 1..N
# by seq without a gap, and hold the numbers 1..max each once, in order,
# with no gap: sets $rows, $highest.
stored_ok() {
	rows=$(sql "SELECT count(*) FROM run_output WHERE run_id = $1")
	[ "$(sql "SELECT lines FROM runs WHERE id = $1")" = "$rows" ] ||
	    fail "run $1: runs.lines $(sql "SELECT lines FROM runs WHERE id = $1"), rows $rows"
	[ "$(sql "SELECT count(DISTINCT seq) = count(*) AND min(seq) = 1
	    AND max(seq) = count(*) FROM run_output WHERE run_id = $1")" = t ] ||
	    fail "run $1: the stored rows are not numbered 1..$rows"
	highest=$(sql "SELECT coalesce(max(substring(line from '^[^\"]*\"([0-9]+)\",?[^\"]*\$')::int), 0)
	    FROM run_output WHERE run_id = $1")
	[ "$(sql "WITH n AS (SELECT substring(line from '^[^\"]*\"([0-9]+)\",?[^\"]*\$')::int AS v,
	    seq FROM run_output WHERE run_id = $1)
	    SELECT count(*) = count(DISTINCT v) AND count(*) = $highest
	    AND bool_and(v = seq - (SELECT min(seq) FROM n WHERE v IS NOT NULL) + 1)
	    FROM n WHERE v IS NOT NULL")" = t ] ||
	    fail "run $1: the numbered lines 1..$highest are not all stored once, in order"
}

# screen_highest: the highest "N" line of bigout on the screen of $target.
screen_highest() {
	screen "$target" | sed -n 's/^[^"]*"\([0-9][0-9]*\)"[^"]*$/\1/p' |
	    sort -n | tail -1
}

# --- a reference: the lines an undisturbed run prints ----------------------
touch "$marker"
# shellcheck disable=SC2086
$run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo" \
    run --yes "deploy bigout" >"$tmp/ref.out" 2>&1 ||
    { tail -20 "$tmp/ref.out" >&2; fail "the reference run failed"; }
ref_run=$(sql "SELECT max(id) FROM runs")
stored_ok "$ref_run"
[ "$highest" = 100000 ] || fail "the reference run stored up to $highest"
ref_rows=$rows
ok "reference: an undisturbed run prints $ref_rows lines, all stored"

# --- PostgreSQL away mid-run --------------------------------------------
# restart_fault SESSION HOW: HOW is "stop" (pg_ctl stop -m fast) or
# "kill" (SIGKILL of the postmaster), while the playbook waits for the
# marker; the lines come while the server is away.
restart_fault() {
	rm -f "$marker"
	start_approved "$1" "deploy bigout"
	wait_sql 120 "SELECT count(*) FROM run_output o JOIN runs r ON r.id = o.run_id
	    WHERE r.task_id = $task AND o.line LIKE '%Wait for the marker%'" 1
	run=$(sql "SELECT id FROM runs WHERE task_id = $task")
	# The server writes its last commits out (fsync is off for tests).
	sleep 1
	case $2 in
	stop)
		"$bin" --config "$conf" --data-dir "$data" db stop \
		    >"$tmp/dbstop" 2>&1 ||
		    { cat "$tmp/dbstop" >&2; fail "chiffon db stop failed"; }
		;;
	kill)
		pm=$(head -1 "$data/pg/data/postmaster.pid")
		kill -KILL "$pm"
		while kill -0 "$pm" 2>/dev/null; do sleep 0.05; done
		;;
	esac
	touch "$marker"
	most=0
	# The lines come while it is away (or being started again by the
	# shell); then it is started again, if the shell has not.
	n=100
	while [ "$n" -gt 0 ]; do
		c=$(playbook_procs bigout-deploy.yml)
		[ "$c" -gt "$most" ] && most=$c
		n=$((n - 1))
		sleep 0.1
	done
	[ -s "$tmp/$1.status" ] && fail "$2: the shell exited $(cat "$tmp/$1.status")"
	n=0
	until "$bin" --config "$conf" --data-dir "$data" db start \
	    >"$tmp/dbstart" 2>&1; do
		n=$((n + 1))
		[ "$n" -lt 60 ] || { cat "$tmp/dbstart" >&2; fail "$2: the server does not start again"; }
		sleep 0.5
	done
	n=1800
	while ! screen "$1" | grep -qF "All 1 step succeeded."; do
		c=$(playbook_procs bigout-deploy.yml)
		[ "$c" -gt "$most" ] && most=$c
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$2: the step did not succeed"
		[ -s "$tmp/$1.status" ] && fail "$2: the shell exited $(cat "$tmp/$1.status")"
		sleep 0.1
	done
	[ "$most" -le 1 ] || fail "$2: $most ansible-playbook processes at once"
	wait_sql 60 "SELECT status FROM runs WHERE id = $run" successful
	wait_sql 10 "SELECT status FROM tasks WHERE id = $task" succeeded
	[ "$(sql "SELECT count(*) FROM runs WHERE task_id = $task")" = 1 ] ||
	    fail "$2: the playbook was started again"
	stored_ok "$run"
	[ "$rows" = "$ref_rows" ] ||
	    fail "$2: $rows rows stored, an undisturbed run prints $ref_rows"
	[ "$highest" = 100000 ] || fail "$2: lines up to $highest stored"
	[ "$(playbook_procs bigout-deploy.yml)" = 0 ] || fail "$2: ansible-playbook is left"
	for f in "$data"/spool/run-*; do
		[ ! -e "$f" ] || fail "$2: a spool file is left: $f"
	done
	tm send-keys -t "$1" C-q
	st=$(wait_dead 10)
	[ "$st" = 0 ] || fail "$2: C-q exit status $st, expected 0"
	audit_ok "$2"
}

restart_fault pgstop stop
ok "pg_ctl stop -m fast mid-run: the shell rode it out, $rows of $ref_rows lines stored, one run, task $task succeeded, audit verify passes"

restart_fault pgkill kill
ok "postmaster SIGKILL mid-run: the shell rode it out, $rows of $ref_rows lines stored, one run, task $task succeeded, audit verify passes"

# --- SIGKILL of the shell at several points of the output ------------------
# kill_at SESSION N: SIGKILL the shell once its screen shows line N.
kill_at() {
	touch "$marker"
	start_approved "$1" "deploy bigout"
	wait_sql 120 "SELECT count(*) FROM runs WHERE task_id = $task" 1
	run=$(sql "SELECT id FROM runs WHERE task_id = $task")
	pid=$(shell_pid "$1")
	# The output comes in one burst: the run may end before the screen
	# shows line N (under ASan it does); then the kill finds it ended.
	while shown=$(screen_highest); [ "${shown:-0}" -lt "$2" ]; do
		screen "$1" | grep -qF "All 1 step succeeded." && break
	done
	kill -KILL "$pid"
	# The playbook loses its terminal with the shell (SIGHUP).
	n=150
	while [ "$(playbook_procs bigout-deploy.yml)" != 0 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "SIGKILL at $2: ansible-playbook outlived the shell by 15 s"
		sleep 0.1
	done
	rs=$(sql "SELECT status FROM runs WHERE id = $run")
	[ "$rs" = running ] || [ "$rs" = successful ] ||
	    fail "SIGKILL at $2: the run is already $rs"
	if [ "$rs" = successful ]; then
		# The shell had closed the run before the kill (the screen
		# lags behind).  Then it must be whole, not run again.
		[ "$(sql "SELECT lines FROM runs WHERE id = $run")" = "$ref_rows" ] ||
		    fail "SIGKILL at $2: the run ended with $(sql "SELECT lines FROM runs WHERE id = $run") of $ref_rows lines"
		echo "# SIGKILL at $2: the run had ended before the kill (line $shown on the screen)"
		sleep 3
		[ "$(sql "SELECT count(*) FROM runs WHERE task_id = $task")" = 1 ] ||
		    fail "SIGKILL at $2: the task ran again"
		audit_ok "SIGKILL at $2"
		verdict="the run had ended before the kill (line $shown on the screen): all $ref_rows lines stored, not run again, audit verify passes"
		return 0
	fi
	target=$1-next
	# shellcheck disable=SC2086
	start "$target" $run_env "$bin" --config "$conf" --data-dir "$data" \
	    --repo "$repo"
	wait_for 60 "task $task (bigout-deploy.yml) was interrupted at"
	# Interrupted; or, killed while closing a run whose every line was
	# in, the server finished the close the shell had sent (the row was
	# still running when it died): then it is complete.
	rs=$(sql "SELECT status FROM runs WHERE id = $run")
	case $rs in
	interrupted) ;;
	successful)
		[ "$(sql "SELECT lines FROM runs WHERE id = $run")" = "$ref_rows" ] ||
		    fail "SIGKILL at $2: the run is successful with $(sql "SELECT lines FROM runs WHERE id = $run") of $ref_rows lines"
		echo "# SIGKILL at $2: the shell's close of the complete run reached the server first"
		;;
	*) fail "SIGKILL at $2: the next start left the run $rs" ;;
	esac
	[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = interrupted ] ||
	    fail "SIGKILL at $2: the next start left the task $(sql "SELECT status FROM tasks WHERE id = $task")"
	stored_ok "$run"
	[ "$highest" -ge $((${shown:-0} - bound)) ] ||
	    fail "SIGKILL at $2: line $shown was on the screen, only up to $highest stored"
	[ "$(sql "SELECT count(*) FROM work_queue WHERE task_id = $task")" = 0 ] ||
	    fail "SIGKILL at $2: the task is still in the queue"
	sleep 3
	[ "$(sql "SELECT count(*) FROM runs WHERE task_id = $task")" = 1 ] ||
	    fail "SIGKILL at $2: the task ran again"
	[ "$(playbook_procs bigout-deploy.yml)" = 0 ] || fail "SIGKILL at $2: ansible-playbook runs again"
	tm send-keys -t "$target" C-q
	st=$(wait_dead 10)
	[ "$st" = 0 ] || fail "SIGKILL at $2: C-q exit status $st, expected 0"
	audit_ok "SIGKILL at $2"
	verdict="line $shown on the screen, $rows rows (up to line $highest) stored = runs.lines, run $rs and task $task interrupted at the next start, not run again, audit verify passes"
}

for at in 500 20000 60000 90000; do
	kill_at "kill$at" "$at"
	ok "SIGKILL of the shell at line $at: $verdict"
done

echo "all passed"
