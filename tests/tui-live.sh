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
screen dumb | tr -d '\n' | grep -qF "TERM=dumb cannot draw the full-screen shell: use the commands" ||
    fail "TERM=dumb: no message saying to use the commands"
[ ! -e "$tmp/dumbdata" ] || fail "TERM=dumb: the data directory was created"
ok "TERM=dumb: exit 2, a message naming the commands, nothing started"

# --- TERM=vt100: the shell without colours ---------------------------------
# colour_lines SESSION: lines of the screen with a foreground colour set.
colour_lines() {
	tm capture-pane -p -e -t "$1" | grep -c "$(printf '\033')\[3[1-7]m" || :
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
