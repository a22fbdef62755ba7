#!/bin/sh
# tui-interrupt.sh - a shell whose run is cut short: SIGTERM, SIGHUP and
# tmux kill-session (the terminal going away) while ansible-playbook runs
# leave the task and its run interrupted, every line ansible printed up
# to then in run_output, no ansible-playbook process alive, and nothing
# run again until a new approval; the next start offers it (F9).  Then
# C-c cancelling a running step, and C-d/C-q asking before quitting
# during a run.
#
# The repository is contrib/homelab plus ticker-deploy.yml, a playbook
# that prints one "tick N" item a second for ten minutes.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

cp -R "$CHIFFON_SRCDIR/contrib/homelab" "$tmp/repo"
chmod -R u+w "$tmp/repo"
repo=$tmp/repo
cat >"$repo/ticker-deploy.yml" <<'YML'
# chiffon:description=Deploy the ticker, a slow service of the tests
- name: Deploy ticker
  hosts: docker1
  gather_facts: false
  tags: [ticker]
  tasks:
    - name: Tick
      ansible.builtin.debug:
        msg: "tick {{ item }}"
      loop: "{{ range(1, 601) | list }}"
      loop_control:
        pause: 1
YML

cat >"$repo/greeter-deploy.yml" <<'YML'
# chiffon:description=Deploy the greeter, which asks who you are
- name: Deploy greeter
  hosts: docker1
  gather_facts: false
  tags: [greeter]
  vars_prompt:
    - name: who
      prompt: Who are you?
      private: true
  tasks:
    - name: Greet
      ansible.builtin.debug:
        msg: "greeted someone of {{ who | length }} letters"
YML

# ticker_procs: ansible-playbook processes of the ticker still alive.
ticker_procs() {
	playbook_procs ticker-deploy.yml
}

# last_tick: the highest "tick N" on the screen of $target.
last_tick() {
	screen "$target" | sed -n 's/.*"msg": "tick \([0-9]*\)".*/\1/p' |
	    sort -n | tail -1
}

# start_ticker SESSION: a shell in SESSION whose ticker plan is running
# (at least tick 3 shown); sets $plan, $task.
start_ticker() {
	start_approved "$1" "deploy ticker"
	wait_for 60 '"msg": "tick 3"'
}

# check_interrupted HOW: task $task and its one run are interrupted, every
# tick shown was stored (no gap), no ansible-playbook is left.
check_interrupted() {
	n=150
	while [ "$(sql "SELECT status FROM tasks WHERE id = $task")" != interrupted ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$1: task $task is $(sql "SELECT status FROM tasks WHERE id = $task"), not interrupted"
		sleep 0.1
	done
	n=150
	while [ "$(sql "SELECT string_agg(status, ',') FROM runs WHERE task_id = $task")" != interrupted ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$1: the runs of task $task are '$(sql "SELECT string_agg(status, ',') FROM runs WHERE task_id = $task")', not one interrupted"
		sleep 0.1
	done
	stored=$(sql "SELECT count(*) FROM run_output o JOIN runs r ON r.id = o.run_id
	    WHERE r.task_id = $task AND o.line LIKE '%\"msg\": \"tick %'")
	highest=$(sql "SELECT coalesce(max(substring(o.line from '\"msg\": \"tick ([0-9]+)\"')::int), 0)
	    FROM run_output o JOIN runs r ON r.id = o.run_id WHERE r.task_id = $task")
	[ "$stored" -ge "$seen" ] ||
	    fail "$1: $stored tick lines stored, but tick $seen was on the screen"
	[ "$stored" = "$highest" ] ||
	    fail "$1: ticks 1..$highest stored with gaps ($stored lines)"
	[ "$(sql "SELECT lines FROM runs WHERE task_id = $task")" -ge "$stored" ] ||
	    fail "$1: runs.lines is below the rows stored"
	[ "$(sql "SELECT count(*) FROM audit_log WHERE kind = 'task.interrupted'
	    AND task_id = $task")" = 1 ] || fail "$1: no task.interrupted audit row"
	[ "$(sql "SELECT status FROM plans WHERE plan_id = $plan")" = interrupted ] ||
	    fail "$1: plan $plan is not interrupted"
	[ "$(ticker_procs)" = 0 ] || fail "$1: ansible-playbook is still running"
}

# --- SIGTERM ---------------------------------------------------------------
start_ticker term
seen=$(last_tick)
kill -TERM "$(shell_pid term)"
st=$(wait_dead 30)
[ "$st" = 143 ] || fail "SIGTERM: exit status $st, expected 143"
check_interrupted SIGTERM
ok "SIGTERM mid-run: task $task and its run interrupted, $stored tick lines stored (tick $seen shown), no ansible left"

# The next start offers it again; F9 plans it anew, nothing runs by itself.
# It also removes the extra-vars files a killed chiffon left in the data
# directory (not those of a live process).
mkdir -p "$data/run"
echo '{"x": 1}' >"$data/run/chiffon-vars-99999999-dead01"
sleep 300 &
live=$!
echo '{"x": 2}' >"$data/run/chiffon-vars-$live-live01"
target=again
# shellcheck disable=SC2086
start again $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "task $task (ticker-deploy.yml) was interrupted at"
[ ! -e "$data/run/chiffon-vars-99999999-dead01" ] ||
    fail "a leftover extra-vars file survived the start"
[ -e "$data/run/chiffon-vars-$live-live01" ] ||
    fail "the extra-vars file of a live process was removed"
kill "$live"
rm -f "$data/run/chiffon-vars-$live-live01"
sleep 3
[ "$(sql "SELECT count(*) FROM runs WHERE task_id = $task")" = 1 ] ||
    fail "the interrupted task ran again"
tm send-keys -t again F9
wait_for 30 "F5: approve and run"
[ "$(sql "SELECT status FROM plans ORDER BY id DESC LIMIT 1")" = pending_approval ] ||
    fail "F9 did not make a plan pending approval"
[ "$(sql "SELECT count(*) FROM tasks WHERE status IN ('queued', 'running')")" = 0 ] ||
    fail "F9 queued or ran something without an approval"
tm send-keys -t again F6
wait_for 10 "? y/N"
tm send-keys -t again y Enter
wait_for 10 "Rejected: nothing ran."
tm send-keys -t again C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q: exit status $st, expected 0"
ok "the next start says task $task was interrupted (F9 makes a new plan to approve, nothing re-ran) and removes leftover extra-vars files"

# --- SIGHUP ----------------------------------------------------------------
start_ticker hup
seen=$(last_tick)
kill -HUP "$(shell_pid hup)"
st=$(wait_dead 30)
[ "$st" = 129 ] || fail "SIGHUP: exit status $st, expected 129"
check_interrupted SIGHUP
ok "SIGHUP mid-run: task $task interrupted, $stored tick lines stored, no ansible left"

# --- tmux kill-session (the terminal goes away) ----------------------------
start_ticker gone
seen=$(last_tick)
pid=$(shell_pid gone)
tm kill-session -t gone
n=300
while kill -0 "$pid" 2>/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "chiffon did not exit after kill-session"
	sleep 0.1
done
target=none
check_interrupted kill-session
ok "tmux kill-session mid-run: task $task interrupted, $stored tick lines stored, no ansible left"

# --- SIGKILL: nothing can be done then; the next start finds the task -----
start_ticker kill9
pid=$(shell_pid kill9)
kill -KILL "$pid"
# The playbook loses its terminal with chiffon (SIGHUP): gone at once.
n=150
while [ "$(ticker_procs)" != 0 ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "SIGKILL: ansible-playbook outlived chiffon by 15 s"
	sleep 0.1
done
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = running ] ||
    fail "SIGKILL: the task is already $(sql "SELECT status FROM tasks WHERE id = $task")"
target=after9
# shellcheck disable=SC2086
start after9 $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "task $task (ticker-deploy.yml) was interrupted at"
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = interrupted ] ||
    fail "SIGKILL: the next start left the task $(sql "SELECT status FROM tasks WHERE id = $task")"
[ "$(sql "SELECT count(*) FROM work_queue WHERE task_id = $task")" = 0 ] ||
    fail "SIGKILL: the task is still in the queue"
sleep 3
[ "$(sql "SELECT count(*) FROM runs WHERE task_id = $task")" = 1 ] ||
    fail "SIGKILL: the task ran again"
tm send-keys -t after9 C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q: exit status $st, expected 0"
ok "SIGKILL mid-run: ansible gone with chiffon, the next start reports task $task interrupted (not requeued, not re-run)"

# --- C-c cancels the running step, after asking ---------------------------
start_ticker cancel
line 1 | grep -qF "C-c cancel" || fail "the key bar does not say C-c cancels the running step"
tm send-keys -t cancel C-c
wait_for 10 "cancel step 1 (ticker-deploy.yml)? y/N"
line 1 | grep -qF "y Enter yes  C-c no" || fail "the key bar does not say how to answer"
tm send-keys -t cancel -l "n"
tm send-keys -t cancel Enter
wait_for 10 "not canceled: the step goes on"
wait_line 10 40 "chiffon>"
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = running ] ||
    fail "answering n stopped the step"
tm send-keys -t cancel C-c
wait_for 10 "cancel step 1 (ticker-deploy.yml)? y/N"
tm send-keys -t cancel -l "y"
tm send-keys -t cancel Enter
wait_for 30 "1 of 1 step did not succeed."
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = canceled ] ||
    fail "the step is $(sql "SELECT status FROM tasks WHERE id = $task"), not canceled"
[ "$(sql "SELECT string_agg(status, ',') FROM runs WHERE task_id = $task")" = canceled ] ||
    fail "the run is not canceled"
[ "$(sql "SELECT actor || ' ' || (data->>'by') FROM audit_log
    WHERE kind = 'task.cancel' AND task_id = $task")" = "$(id -un) $(id -un)" ] ||
    fail "no task.cancel audit row naming who canceled"
[ "$(ticker_procs)" = 0 ] || fail "ansible-playbook survived the cancel"
tm send-keys -t cancel C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q after the cancel: exit status $st, expected 0"
ok "C-c asks 'cancel step 1 (ticker-deploy.yml)? y/N'; n goes on, y cancels (audit row, no ansible left)"

# --- C-d and C-q during a run ask; quitting cancels and exits 1 ------------
start_ticker quit
tm send-keys -t quit C-d
wait_for 10 "is running: quit and cancel it? y/N"
tm send-keys -t quit -l "n"
tm send-keys -t quit Enter
wait_for 10 "not quitting"
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = running ] ||
    fail "answering n to C-d stopped the step"
tm send-keys -t quit C-q
wait_for 10 "is running: quit and cancel it? y/N"
tm send-keys -t quit -l "y"
tm send-keys -t quit Enter
st=$(wait_dead 30)
[ "$st" = 1 ] || fail "quitting during a run: exit status $st, expected 1"
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = canceled ] ||
    fail "quitting left the step $(sql "SELECT status FROM tasks WHERE id = $task")"
sql "SELECT status_reason FROM tasks WHERE id = $task" |
    grep -qF "$(id -un) quit the shell" || fail "the reason does not say who quit"
[ "$(ticker_procs)" = 0 ] || fail "ansible-playbook survived quitting"
ok "C-d and C-q during a run ask; n goes on, y cancels the run and exits 1"

# --- chiffon run: a prompt is answered on the terminal, or stops the run ---
target=none
rc=0
# shellcheck disable=SC2086
timeout 300 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo" run --yes "deploy greeter" </dev/null >"$tmp/out" 2>&1 ||
    rc=$?
[ "$rc" = 2 ] || { cat "$tmp/out" >&2; fail "run --yes without a terminal, vars_prompt: exit $rc, expected 2"; }
grep -qF "step 1 (greeter-deploy.yml) of plan" "$tmp/out" &&
grep -qF "asks for input when run (vars_prompt) and there is no terminal to answer on" "$tmp/out" ||
    { cat "$tmp/out" >&2; fail "run without a terminal does not say which step asks"; }
[ "$(sql "SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id
    WHERE t.playbook = 'greeter-deploy.yml'")" = 0 ] ||
    fail "the playbook ran although nobody could answer it"
[ "$(sql "SELECT count(*) FROM approvals a JOIN plans p ON p.id = a.plan_id
    JOIN tasks t ON t.plan_id = p.id WHERE t.playbook = 'greeter-deploy.yml'")" = 0 ] ||
    fail "the plan was approved although it cannot run"
[ "$(ticker_procs)" = 0 ] || fail "a playbook is left"
target=cliprompt
# shellcheck disable=SC2086
start cliprompt $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo" run --yes "deploy greeter"
wait_for 120 "Who are you?:"
tm send-keys -t cliprompt -l "clisecret-bob"
tm send-keys -t cliprompt Enter
st=$(wait_dead 120)
[ "$st" = 0 ] || fail "run --yes answered on the terminal: exit $st, expected 0"
screen cliprompt | grep -qF "greeted someone of 13 letters" ||
    fail "the playbook did not get the answer typed on the terminal"
screen cliprompt | grep -qF "clisecret-bob" && fail "the answer was echoed"
ok "chiffon run: a vars_prompt is refused up front without a terminal, answered on one without echo"

# --- a vars_prompt answered through the shell, typed hidden ---------------
target=prompt
# shellcheck disable=SC2086
start prompt env -u XDG_STATE_HOME $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "db: embedded, connected"
tm send-keys -t prompt -l "deploy greeter"
tm send-keys -t prompt Enter
wait_for 30 "F5: approve and run"
wait_for 10 "Input: step 1 (greeter-deploy.yml) asks for input when run"
plan=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
tm send-keys -t prompt F5
wait_for 60 "ansible asks: Who are you?:"
line 1 | grep -qF "Enter send" || fail "the key bar does not say Enter sends the answer"
secret=s3cr3t-alice
tm send-keys -t prompt -l "$secret"
wait_for 10 "ansible asks: Who are you?: (typed hidden; Enter sends it) ************"
screen prompt | grep -qF "$secret" && fail "the answer is shown on the screen"
tm send-keys -t prompt Enter
wait_for 60 "All 1 step succeeded."
[ "$(sql "SELECT count(*) FROM run_output o JOIN runs r ON r.id = o.run_id
    JOIN tasks t ON t.id = r.task_id JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $plan AND o.line LIKE '%greeted someone of 12 letters%'")" = 1 ] ||
    fail "the playbook did not get the answer"
screen prompt | grep -qF "$secret" && fail "the answer is on the screen"
tm send-keys -t prompt C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q: exit status $st, expected 0"
# Nowhere on disk: not in the database files (WAL included), the log,
# the repository or the audit trail.
sync
grep -rqaF "clisecret-bob" "$tmp" && fail "the CLI answer was written to disk"
grep -rqaF "$secret" "$tmp" && fail "the answer was written to disk: $(grep -rlaF "$secret" "$tmp" | head -3)"
# The request history is on disk, with the request and without the answer.
grep -qxF "deploy greeter" "$tmp/.local/state/chiffon/history" ||
    fail "the request is not in the history file"
ok "a vars_prompt is asked on the request line (hidden), answered, and the playbook runs; the answer is on no disk"

echo "all passed"
