#!/bin/sh
# tui-live.sh - the shell never blocks (tmux, 100x30).  A local model tier
# is configured to the provider double (tests/llmsrv-run), whose /slow/
# scenario answers after 3 s: while that call is in flight the Plan pane
# shows a spinner and keys answer (Tab switches the upper pane at once);
# C-c cancels a request whose model call is in flight (its llm_calls row
# says "canceled", the audit trail request.canceled) and the plan of a
# request left alone comes once the model answered.
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
start_size a 100 30 $run_env $llm_env "$bin" --config "$conf" \
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
