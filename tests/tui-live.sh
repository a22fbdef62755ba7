#!/bin/sh
# tui-live.sh - the shell never blocks (tmux, 100x30).  A local model tier
# is configured to the provider double (tests/llmsrv-run), whose /slow/
# scenario answers after 3 s: while that call is in flight the Plan pane
# shows a spinner and keys answer (Tab switches the upper pane at once);
# C-c cancels a request whose model call is in flight (its llm_calls row
# says "canceled", the audit trail request.canceled) and the plan of a
# request left alone comes once the model answered.  The request history
# persists in ~/.local/state/chiffon/history (0600), or under
# $XDG_STATE_HOME, and is recalled by the next shell; UTF-8 requests are
# shown and kept as typed.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

llmsrv_pid=
llmsrv_stop() {
	if [ -n "$llmsrv_pid" ]; then
		kill "$llmsrv_pid" 2>/dev/null || :
		wait "$llmsrv_pid" 2>/dev/null || :
		llmsrv_pid=
	fi
}
trap 'llmsrv_stop; cleanup' EXIT

TMPDIR=$tmp "$CHIFFON_BUILDDIR/tests/llmsrv-run" >"$tmp/llmsrv.port" &
llmsrv_pid=$!
n=50
while [ ! -s "$tmp/llmsrv.port" ] && [ "$n" -gt 0 ]; do
	sleep 0.1
	n=$((n - 1))
done
port=$(cat "$tmp/llmsrv.port")
[ -n "$port" ] || { target=none; fail "the provider double did not start"; }

# now_ms: milliseconds since the epoch.
now_ms() {
	date +%s%3N
}

llm_env="CHIFFON_LLM_LOCAL_PROVIDER=ollama
    CHIFFON_LLM_LOCAL_URL=http://127.0.0.1:$port/slow
    CHIFFON_LLM_LOCAL_MODEL=test-model"

# --- keys answer while the model call is in flight ------------------------
target=a
# shellcheck disable=SC2086
start_size a 100 30 env -u XDG_STATE_HOME $run_env $llm_env "$bin" --config "$conf" \
    --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t a -l "deploy uptime kuma"
tm send-keys -t a Enter
wait_for 10 "Asking the model..."
line 2 | grep -qF " 1 Plan " || fail "the request does not show the Plan pane"
t0=$(now_ms)
tm send-keys -t a Tab
until line 2 | grep -qF " 3 History "; do
	[ $(($(now_ms) - t0)) -lt 2000 ] ||
	    fail "Tab did not switch panes while the model call was in flight"
	sleep 0.02
done
dt=$(($(now_ms) - t0))
echo "# Tab answered in $dt ms while the model call was in flight"
[ "$dt" -lt 200 ] || fail "Tab answered in $dt ms (more than 200 ms)"
# Back to the Plan pane: its spinner still turns, the model has not answered.
tm send-keys -t a Escape
wait_line 10 30 "command>"
tm send-keys -t a 1
wait_for 10 " 1 Plan "
tm send-keys -t a Escape
wait_line 10 30 "chiffon>"
s1=$(screen a | grep -F "Asking the model..." || :)
[ -n "$s1" ] || fail "the model answered before the keys were checked"
sleep 0.25
s2=$(screen a | grep -F "Asking the model..." || :)
[ -n "$s2" ] && [ "$s1" != "$s2" ] || fail "the spinner does not turn"
wait_for 15 "understood by the local parser"
wait_for 5 "F5: approve and run"
[ "$(sql "SELECT decision FROM llm_calls ORDER BY id DESC LIMIT 1")" = \
    accepted ] || fail "the model's answer is not recorded as accepted"
ok "keys answer while the model call is in flight; the plan comes after"

# --- C-c cancels a request whose model call is in flight -------------------
tm send-keys -t a -l "deploy grafana"
tm send-keys -t a Enter
wait_for 10 "Asking the model..."
tm send-keys -t a C-c
wait_for 5 "request canceled: deploy grafana"
wait_for 5 "canceled (C-c) before its plan came"
rid=$(sql "SELECT id FROM requests WHERE text = 'deploy grafana'")
[ -n "$rid" ] || fail "the canceled request has no requests row"
[ "$(sql "SELECT count(*) FROM audit_log WHERE kind = 'request.canceled'
    AND request_id = $rid")" = 1 ] || fail "no request.canceled audit row"
[ "$(sql "SELECT decision FROM llm_calls WHERE request_id = $rid")" = \
    canceled ] || fail "the abandoned model call is not recorded as canceled"
sleep 3.5
screen a | grep -qF "Plan 2 " &&
    fail "the canceled request's plan was shown after all"
[ "$(sql "SELECT count(*) FROM plans WHERE request_id = $rid")" = 0 ] ||
    fail "the canceled request got a plan"
ok "C-c cancels the request while its model call is in flight"

tm send-keys -t a C-q
[ "$(wait_dead 20)" = 0 ] || fail "chiffon did not exit 0"

# --- the request history persists ---------------------------------------
hist=$tmp/.local/state/chiffon/history
[ -f "$hist" ] || fail "no history file $hist"
[ "$(stat -c %a "$hist")" = 600 ] || fail "history mode $(stat -c %a "$hist")"
[ "$(stat -c %a "$(dirname "$hist")")" = 700 ] ||
    fail "history directory mode $(stat -c %a "$(dirname "$hist")")"
[ "$(cat "$hist")" = "deploy uptime kuma
deploy grafana" ] || fail "history file holds: $(cat "$hist")"
target=h
# shellcheck disable=SC2086
start_size h 100 30 env -u XDG_STATE_HOME $run_env "$bin" --config "$conf" \
    --data-dir "$data" --repo "$repo"
wait_for 60 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t h C-p
wait_line 10 30 "chiffon> deploy grafana"
tm send-keys -t h C-p
wait_line 10 30 "chiffon> deploy uptime kuma"
tm send-keys -t h C-c
tm send-keys -t h C-q
[ "$(wait_dead 20)" = 0 ] || fail "chiffon did not exit 0"
ok "the request history is kept (0600) and recalled by the next shell"

target=x
# shellcheck disable=SC2086
start_size x 100 30 $run_env XDG_STATE_HOME="$tmp/xdg" "$bin" \
    --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t x -l "deploy uptime kuma für 日本"
tm send-keys -t x Enter
wait_for 20 "Request: deploy uptime kuma für 日本"
wait_for 20 "F5: approve and run"
[ "$(sql "SELECT text FROM requests ORDER BY id DESC LIMIT 1")" = \
    "deploy uptime kuma für 日本" ] || fail "the UTF-8 request is not stored as typed"
tm send-keys -t x C-q
[ "$(wait_dead 20)" = 0 ] || fail "chiffon did not exit 0"
[ "$(cat "$tmp/xdg/chiffon/history")" = "deploy uptime kuma für 日本" ] ||
    fail "XDG_STATE_HOME's history holds: $(cat "$tmp/xdg/chiffon/history")"
[ "$(wc -l <"$hist")" = 2 ] || fail "the default history file changed"
ok "XDG_STATE_HOME is honoured; a UTF-8 request is shown, stored and kept"

# --- TERM=dumb: refused with exit 2 before anything starts -----------------
target=dumb
# shellcheck disable=SC2086
start_size dumb 100 30 $run_env TERM=dumb "$bin" --config "$conf" \
    --data-dir "$tmp/dumbdata" --repo "$repo"
[ "$(wait_dead 20)" = 2 ] || fail "TERM=dumb: exit status not 2"
n=20
until tm capture-pane -p -J -S - -t dumb |
    grep -qF "TERM=dumb cannot draw the full-screen shell: use the commands"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "TERM=dumb: no message saying to use the commands"
	sleep 0.1
done
[ ! -e "$tmp/dumbdata" ] || fail "TERM=dumb: the data directory was created"
ok "TERM=dumb: exit 2, a message naming the commands, nothing started"

# --- TERM=vt100: the shell without colours ---------------------------------
# colour_lines SESSION: lines of the screen with a foreground colour set.
colour_lines() {
	# A failed capture must not read as "0 lines with colour".
	cl_screen=$(tm capture-pane -p -e -t "$1") ||
	    { echo "capture-pane failed"; return 0; }
	# awk counts (0 too) and fails only on an error of its own.
	printf '%s\n' "$cl_screen" | awk '/\033\[3[1-7]m/ { n++ } END { print n + 0 }'
}
for term in screen vt100; do
	target=$term
	# shellcheck disable=SC2086
	start_size "$term" 100 30 $run_env TERM=$term "$bin" --config "$conf" \
	    --data-dir "$data" --repo "$repo"
	wait_for 60 "db: embedded, connected"
	wait_line 10 30 "chiffon>"
	tm send-keys -t "$term" F5
	wait_for 10 "nothing to approve: no plan pending approval is shown"
	n=$(colour_lines "$term")
	case $term in
	screen)	[ "$n" -gt 0 ] || fail "TERM=screen: the warning has no colour" ;;
	vt100)	[ "$n" = 0 ] || fail "TERM=vt100: $n lines with colour"
		wait_for 5 "TERM=vt100 has no colours: errors and warnings are shown bold" ;;
	esac
	tm send-keys -t "$term" C-q
	[ "$(wait_dead 20)" = 0 ] || fail "TERM=$term: chiffon did not exit 0"
done
ok "TERM=vt100: no colours (and says so); TERM=screen: colours"

# --- editing-mode vi: the keys are bound in vi's insertion keymap too -------
target=vi
printf 'set editing-mode vi\n' >"$tmp/inputrc.vi"
# shellcheck disable=SC2086
start_size vi 100 30 $run_env INPUTRC="$tmp/inputrc.vi" "$bin" \
    --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t vi -l "deploy"
wait_line 10 30 "chiffon> deploy"
tm send-keys -t vi F5
wait_for 10 "nothing to approve: no plan pending approval is shown"
tm send-keys -t vi F1
wait_for 5 "chiffon keys"
tm send-keys -t vi x
wait_gone 5 "chiffon keys"
tm send-keys -t vi C-q
[ "$(wait_dead 20)" = 0 ] || fail "editing-mode vi: chiffon did not exit 0"
ok "editing-mode vi: text is typed, F5 and F1 answer, C-q quits"

# Switched to vi while running (readline's M-C-j, ESC and C-j in one
# write): the keys are bound in vi's keymap then.
target=em
# shellcheck disable=SC2086
start_size em 100 30 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo"
wait_for 60 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t em -H 1b 0a
tm send-keys -t em -l "deploy"
wait_line 10 30 "chiffon> deploy"
tm send-keys -t em F5
wait_for 10 "nothing to approve: no plan pending approval is shown"
line 30 | grep -qF "chiffon> deploy" ||
    fail "M-C-j then F5: the request line changed: $(line 30)"
tm send-keys -t em C-q
[ "$(wait_dead 20)" = 0 ] || fail "switched to vi: chiffon did not exit 0"
ok "switched to vi with M-C-j: F5 still answers and types nothing"

# --- two shells on one database: B watches A's run live, read-only ---------
cp -R "$CHIFFON_SRCDIR/contrib/homelab" "$tmp/repo"
chmod -R u+w "$tmp/repo"
cat >"$tmp/repo/ticker-deploy.yml" <<'YML'
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

# last_tick: the highest "tick N" on the screen of $target.
last_tick() {
	screen "$target" | sed -n 's/.*"msg": "tick \([0-9]*\)".*/\1/p' |
	    sort -n | tail -1
}

target=b
# shellcheck disable=SC2086
start_size b 100 30 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$tmp/repo"
wait_for 60 "db: embedded, connected"
target=a2
# shellcheck disable=SC2086
start_size a2 100 30 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$tmp/repo"
wait_for 60 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t a2 -l "deploy ticker"
tm send-keys -t a2 Enter
wait_for 30 "F5: approve and run"
plan=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
target=b
wait_for 10 "[other session] plan $plan.1 step 1 (task "
wait_for 5 "): pending_approval - deploy ticker (ticker-deploy.yml)"
# A dry run does not stop the screen either; C-c stops it.
target=a2
tm send-keys -t a2 F8
wait_for 60 '"msg": "tick 2"'
line 2 | grep -qF " 1 Plan " || fail "the dry run moved the upper pane"
tm send-keys -t a2 Tab
wait_for 2 " 3 History "
tm send-keys -t a2 Escape
wait_line 10 30 "command>"
tm send-keys -t a2 1
wait_for 5 " 1 Plan "
tm send-keys -t a2 Escape
wait_line 10 30 "chiffon>"
tm send-keys -t a2 C-c
wait_for 10 "dry run stopped (C-c): the plan is still pending approval"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $plan")" = \
    pending_approval ] || fail "the stopped dry run changed the plan"
n=50
while pgrep -f "ansible-playbook.*ticker-deploy.yml" >/dev/null; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the dry run's ansible-playbook is still running"
	sleep 0.2
done
ok "keys answer during a dry run; C-c stops it, the plan stays pending"
tm send-keys -t a2 F5
wait_for 30 "==> step 1 deploy ticker (ticker-deploy.yml): running"
# tick 2 of the real run: after the step's "running" line.
n=600
until screen a2 | awk '/: running$/ { r = 1 } r && /"msg": "tick 2"/ { f = 1 }
    END { exit !f }'; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the approved run does not print tick 2"
	sleep 0.1
done
run=$(sql "SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
    JOIN plans p ON p.id = t.plan_id WHERE p.plan_id = $plan")
target=b
wait_for 10 "[other session] run $run of plan $plan.1 step 1 (task "
wait_for 10 '"msg": "tick 2"'
ta=$(target=a2; last_tick)
t0=$(now_ms)
until [ "$(last_tick)" -ge "$ta" ] 2>/dev/null; do
	[ $(($(now_ms) - t0)) -lt 3000 ] ||
	    fail "tick $ta of shell A did not reach shell B within 3 s"
	sleep 0.1
done
echo "# tick $ta of shell A shown in shell B after $(($(now_ms) - t0)) ms"
# Read-only in B: nothing to approve, and C-c does not offer a cancel.
tm send-keys -t b F5
wait_for 10 "nothing to approve: no plan pending approval is shown"
tm send-keys -t b C-c
sleep 0.3
screen b | grep -qF "cancel step" && fail "shell B offers to cancel A's step"
st=$(sql "SELECT t.status FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $plan")
[ "$st" = running ] || fail "A's task is $st, not running"
ok "a second shell shows the first one's plan and run live, read-only"

# --- resize to 80x24 and back while the run goes on ------------------------
target=a2
tm resize-window -t a2 -x 80 -y 24
wait_line 10 24 "chiffon>"
line 1 | grep -qF "db: embedded" || fail "80x24: the status bar lost the database"
screen a2 | grep -qF "[running]" || fail "80x24: the step's state is cut"
t1=$(last_tick)
sleep 2
t2=$(last_tick)
[ "$t2" -gt "$t1" ] || fail "80x24: the output stopped (tick $t1, then $t2)"
tm resize-window -t a2 -x 100 -y 30
wait_line 10 30 "chiffon>"
sleep 2
[ "$(last_tick)" -gt "$t2" ] || fail "100x30 again: the output stopped"
ok "resize to 80x24 and back mid-run: status, step state and output stay"

tm send-keys -t a2 C-q
wait_for 10 "quit and cancel it? y/N"
tm send-keys -t a2 -l y
tm send-keys -t a2 Enter
wait_dead 30 >/dev/null
target=b
wait_for 10 "): canceled - deploy ticker"
tm send-keys -t b C-q
[ "$(wait_dead 20)" = 0 ] || fail "shell B did not exit 0"
