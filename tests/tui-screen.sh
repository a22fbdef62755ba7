#!/bin/sh
# tui-screen.sh - the terminal shell on a real terminal: chiffon runs in a
# detached session of a private tmux server (120x40); keys are sent with
# send-keys and the screen is read back with capture-pane.
#
# chiffon runs with its embedded database in a throwaway data directory
# (the first start creates the cluster, as the README's quick start does)
# and the build tree's plugins; the cluster is stopped at the end.  An
# approved plan runs the real ansible-playbook against contrib/homelab,
# whose demo hosts live under CHIFFON_DEMO_ROOT (a directory of the test).
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

# --- not a terminal: exit 2 without touching the database ------------------
target=none
rc=0
"$bin" --config "$conf" --data-dir "$data" </dev/null >"$tmp/out" 2>&1 ||
    rc=$?
[ "$rc" = 2 ] || { cat "$tmp/out" >&2; fail "exit status $rc, expected 2"; }
grep -q "needs a terminal" "$tmp/out" ||
    { cat "$tmp/out" >&2; fail "no message about the terminal"; }
[ ! -e "$data" ] || fail "the data directory was created"
ok "without a terminal: exit 2 and a message"

# --- the shell ---------------------------------------------------------------
target=main
# shellcheck disable=SC2086
start main $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
real_repo=$(cd "$repo" && pwd -P)
# The path is shown whole, or cut from the left ("...") to fit the bar.
shown_repo=$(line 1 | sed -n 's/.* repo: \([^ ]*\) .*/\1/p')
case $shown_repo in
"$real_repo") ;;
...*contrib/homelab)
	case $real_repo in
	*"${shown_repo#...}") ;;
	*) fail "status bar shows '$shown_repo', not a tail of $real_repo" ;;
	esac ;;
*) fail "status bar lacks the repo" ;;
esac
line 1 | grep -qE "plugins: [0-9]+ loaded" || fail "status bar lacks plugins"
line 1 | grep -qF "F1 help" || fail "status bar lacks F1 help"
wait_line 10 40 "chiffon>"
ok "status bar shows repo, database and plugins; prompt at the bottom"

# Typing echoes on the request line; the cursor follows by display width.
tm send-keys -t main -l "deploy uptime kuma 日本"
wait_line 10 40 "chiffon> deploy uptime kuma 日本"
[ "$(tm display -p -t main '#{cursor_y} #{cursor_x}')" = "39 32" ] ||
    fail "cursor at $(tm display -p -t main '#{cursor_y} #{cursor_x}')," \
    "expected 39 32"
tm send-keys -t main C-a
sleep 0.2
[ "$(tm display -p -t main '#{cursor_x}')" = 9 ] ||
    fail "C-a left the cursor at $(tm display -p -t main '#{cursor_x}')"
tm send-keys -t main C-c
wait_line 10 40 "chiffon>"
ok "the request line echoes and edits (readline), C-c clears it"

# A request naming a service the homelab does not have: the plan pane
# shows the questions and the candidates; nothing can be approved.
tm send-keys -t main -l "install wordpress blog"
tm send-keys -t main Enter
wait_for 20 "Request: install wordpress blog"
wait_for 20 "request: install wordpress blog"
line 1 | grep -qE "plugins: [1-9][0-9]* loaded" ||
    fail "the build tree's plugins did not load"
wait_for 30 "Questions (nothing runs until they are answered):"
wait_for 10 "No plan: request"
screen main | sed -n '3,14p' | grep -qF "The catalog has no service" ||
    fail "the plan pane does not ask which service was meant"
screen main | sed -n '3,14p' | grep -qE "^    candidates: [a-z]+-deploy.yml" ||
    fail "the plan pane does not show the candidates"
wait_line 10 40 "chiffon>"
tm send-keys -t main F5
wait_for 10 "nothing to approve: the request leaves questions"
# a is typed like any letter.
tm send-keys -t main -l "a"
wait_line 10 40 "chiffon> a"
tm send-keys -t main C-c
wait_line 10 40 "chiffon>"
[ "$(sql "SELECT count(*) FROM approvals")" = 0 ] ||
    fail "an approvals row exists after F5 and a on a question"
[ "$(sql "SELECT count(*) FROM plans")" = 0 ] ||
    fail "a plan was stored for a request with questions"
[ "$(sql "SELECT source || ':' || (ambiguities::text <> '[]') FROM
    requests ORDER BY id DESC LIMIT 1")" = "tui:true" ] ||
    fail "the request is not recorded (source tui) with its questions"
ok "a request for a missing service shows questions; F5 approves nothing"

# The Kuma request: the plan pane shows the real plan, two steps in order.
kuma="Deploy Kuma Uptime to homelab and add existing portals to config"
tm send-keys -t main -l "$kuma"
tm send-keys -t main Enter
wait_for 20 "Request: $kuma"
wait_for 30 "F5: approve and run"
screen main | sed -n '3,14p' | grep -n "^ [12]\. " >"$tmp/steps"
grep -qE "^3: 1\. deploy kuma  kuma-deploy.yml \(exact, 1.00\).*\[pending approval\]$" \
    "$tmp/steps" || { cat "$tmp/steps" >&2; fail "step 1 is not kuma-deploy.yml"; }
# Step 1's task and command line, and the reasons of its risk, come first.
grep -qE "^[6-9]: 2\. configure kuma  kuma-monitors.yml \(exact, 1.00\).*\[pending approval\]$" \
    "$tmp/steps" || { cat "$tmp/steps" >&2; fail "step 2 is not kuma-monitors.yml"; }
[ "$(sql "SELECT string_agg(t.step || ':' || t.playbook || ':' || t.status,
    ' ' ORDER BY t.step) FROM tasks t JOIN plans p ON p.id = t.plan_id
    JOIN requests r ON r.id = p.request_id WHERE r.source = 'tui'")" = \
    "1:kuma-deploy.yml:pending_approval 2:kuma-monitors.yml:pending_approval" ] ||
    fail "the plan shown is not the plan stored"
line 1 | grep -qF "F5 approve  F6 reject  F7 modify  F8 dry run" ||
    fail "the key bar does not show the plan keys"
ok "the Kuma request: the plan pane shows kuma-deploy.yml then kuma-monitors.yml"

# With the plan pending, letters are text: typing a request that begins
# with a (approve) or r (reject), or d, m, q, changes nothing.
db_state() {
	sql "SELECT (SELECT count(*) FROM approvals) || ' ' ||
	    (SELECT string_agg(status, ',' ORDER BY id) FROM tasks) || ' ' ||
	    (SELECT count(*) FROM work_queue) || ' ' ||
	    (SELECT count(*) FROM runs)"
}
before=$(db_state)
for text in "actually, just restart kuma" "remove jellyfin" "reject it" \
    "do not run" "modify" "quit"; do
	tm send-keys -t main -l "$text"
	wait_line 10 40 "chiffon> $text"
	sleep 0.3
	[ "$(db_state)" = "$before" ] ||
	    fail "typing '$text' changed the database: $(db_state)"
	tm send-keys -t main C-c
	wait_line 10 40 "chiffon>"
done
screen main | grep -qF "Plan 1 approved" && fail "typing approved the plan"
# Enter on an empty line is not an approval.
tm send-keys -t main Enter
wait_for 10 "an empty line approves nothing"
sleep 0.3
[ "$(db_state)" = "$before" ] || fail "Enter on an empty line changed the database"
ok "typed letters and an empty Enter change nothing in the database"

# Esc enters command mode (the key bar says so); Esc leaves it; there a
# approves and the steps run while the keys keep answering.
tm send-keys -t main Escape
wait_line 10 40 "command>"
line 1 | grep -qF "a approve  r reject  m modify  d dry run" ||
    fail "the key bar does not show command mode's letters"
tm send-keys -t main Escape
wait_line 10 40 "chiffon>"
[ "$(db_state)" = "$before" ] || fail "Esc Esc changed the database"
# Command mode decodes its keys itself: a key that is no command is
# passed over whole (Insert: an escape sequence; a UTF-8 letter) and the
# mode stays; a letter that is no command says so, once.
tm send-keys -t main Escape
wait_line 10 40 "command>"
tm send-keys -t main IC
tm send-keys -t main -l "é"
tm send-keys -t main x
wait_for 10 "not a command key in command mode"
sleep 0.3
[ "$(screen main | grep -c "not a command key")" = 1 ] ||
    fail "Insert, é and x in command mode did not give one warning (for x)"
line 40 | grep -q '^command> *$' || fail "command mode was left or got text"
tm send-keys -t main Escape
wait_line 10 40 "chiffon>"
[ "$(db_state)" = "$before" ] || fail "keys in command mode changed the database"
tm send-keys -t main Escape
wait_line 10 40 "command>"
tm send-keys -t main -l "a"
wait_for 20 "Plan 1 approved by"
wait_line 10 40 "chiffon>"
wait_for 30 "[running]"
line 1 | grep -qE "plan 1: (step [12]/2 running|2/2 steps ended|all 2 steps succeeded)" ||
    fail "the status bar does not show the run"
tm send-keys -t main F1
wait_for 5 "chiffon keys"
tm send-keys -t main x
wait_gone 5 "chiffon keys"
screen main | grep -qF "All 2 steps succeeded." &&
    fail "the run ended before the keys were tried (cannot tell they answered)"
ok "approved with Esc a: a step is running and F1 still answers"

wait_for 300 "All 2 steps succeeded."
screen main | sed -n '3,14p' | grep -qE "^ 1\. deploy kuma .*\[succeeded, changed [0-9]+\]$" ||
    fail "step 1 does not show succeeded with its changed count"
screen main | sed -n '3,14p' | grep -qE "^ 2\. configure kuma .*\[succeeded, changed [0-9]+\]$" ||
    fail "step 2 does not show succeeded with its changed count"
wait_match 10 1 "plan 1: all 2 steps succeeded"
[ "$(screen main | grep -c "^PLAY RECAP")" -ge 1 ] ||
    fail "no PLAY RECAP line in the log pane"
screen main | grep -qE "^==> step 2 configure kuma \(kuma-monitors.yml\): succeeded" ||
    fail "the log pane lacks the end of step 2"
# Both recaps went through the log pane.  The
# Plan pane shows its steps from the top, the run's summary below them:
# its title says more is below, so only the log pane's title (row 15)
# is looked at.
screen main | sed -n 15p | grep -qF "more below (PgDn)" &&
    fail "the log pane does not follow the output"
screen main | sed -n 2p | grep -qF "more below (PgDn)" ||
    fail "the Plan pane does not show the summary below the steps"
screen main | grep -qF "Summary of plan 1 v1 (2 steps):" ||
    fail "no summary of the run"
# log.file has chiffon's own
# events and none of the output lines (those are in run_output).
grep -qF "Plan 1 approved by" "$data/chiffon.log" ||
    fail "log.file lacks the approval"
if grep -qF "PLAY RECAP" "$data/chiffon.log"; then
	fail "log.file repeats the runs' output lines"
fi
tm send-keys -t main PPage
n=100
until screen main | sed -n 15p | grep -qF "more below (PgDn)"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "PgUp does not scroll the log pane back"
	sleep 0.1
done
tm send-keys -t main NPage
n=100
while screen main | sed -n 15p | grep -qF "more below (PgDn)"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "PgDn does not bring the log pane to its end"
	sleep 0.1
done
[ "$(sql "SELECT string_agg(t.step || ':' || t.playbook || ':' || t.status,
    ' ' ORDER BY t.step) FROM tasks t JOIN plans p ON p.id = t.plan_id
    JOIN requests r ON r.id = p.request_id WHERE r.source = 'tui'")" = \
    "1:kuma-deploy.yml:succeeded 2:kuma-monitors.yml:succeeded" ] ||
    fail "the tasks did not succeed in the database"
[ "$(sql "SELECT count(*) FROM runs WHERE status = 'successful'
    AND task_id IS NOT NULL")" = 2 ] || fail "not two successful runs"
[ "$(sql "SELECT count(*) FROM approvals WHERE decision = 'approved'")" = 1 ] ||
    fail "not one approvals row"
[ -s "$tmp/demo/docker1/uptime-kuma/monitors.json" ] ||
    fail "kuma-monitors.yml did not write the monitors"
ok "both steps succeeded: pane, status bar, PLAY RECAP in the log, tasks in the database"

# Off a terminal, show --output writes plain text: no escapes, banners cut
# to 80 columns; --color=always keeps ansible's colours as recorded.
esc=$(printf '\033')
kt=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = 1 AND t.step = 1")
"$bin" --config "$conf" --data-dir "$data" show --output "$kt" \
    >"$tmp/plain" 2>&1 || fail "show --output failed"
grep -q "^PLAY RECAP" "$tmp/plain" || fail "show --output lacks PLAY RECAP"
grep -q "$esc" "$tmp/plain" && fail "show --output wrote escapes into a file"
awk 'length > 80' "$tmp/plain" | grep -q '\*\*\*$' &&
    fail "show --output wrote a banner wider than 80 columns"
"$bin" --config "$conf" --data-dir "$data" show --output --color=always \
    "$kt" >"$tmp/color" 2>&1 || fail "show --output --color=always failed"
grep -q "$esc" "$tmp/color" || fail "--color=always dropped the recorded colours"
rc=0
"$bin" --config "$conf" --data-dir "$data" show --output --color=maybe \
    "$kt" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--color=maybe: exit $rc, expected 2"
ok "show --output: plain into a file (no escapes, 80-column banners), colour with --color=always"

# F6 asks first: n keeps the plan.  Then on an empty line it rejects with
# the fixed reason, with text on the line it takes the text as the reason.
tm send-keys -t main -l "deploy grafana"
tm send-keys -t main Enter
wait_for 30 "F5: approve and run"
tm send-keys -t main F6
wait_for 10 "(deploy grafana)? y/N"
tm send-keys -t main n Enter
wait_for 10 "not rejected: the plan stays pending approval"
[ "$(sql "SELECT status FROM plans ORDER BY id DESC LIMIT 1")" = \
    pending_approval ] || fail "n at F6's question rejected the plan"
tm send-keys -t main F6
wait_for 10 "? y/N"
tm send-keys -t main y Enter
wait_for 10 "Rejected: nothing ran."
tm send-keys -t main -l "deploy grafana"
tm send-keys -t main Enter
wait_for 30 "F5: approve and run"
tm send-keys -t main -l "wrong host"
tm send-keys -t main F6
wait_for 10 "? y/N"
tm send-keys -t main y Enter
wait_for 10 "Rejected: nothing ran."
wait_line 10 40 "chiffon>"
[ "$(sql "SELECT string_agg(reason, '|' ORDER BY id) FROM approvals
    WHERE decision = 'rejected'")" = "rejected in the shell|wrong host" ] ||
    fail "the rejections are not recorded with their reasons"
ok "F6 asks (n keeps the plan), then rejects with 'rejected in the shell', or with the typed reason"

# C-c and Esc read together (one write: typed fast, or a loaded
# terminal): the line is cleared and Esc still enters command mode.
tm send-keys -t main -l "half typed"
wait_for 10 "chiffon> half typed"
tm send-keys -t main C-c Escape
n=100
until line 40 | grep -q '^command>'; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "Esc read right after C-c was lost: $(line 40)"
	sleep 0.1
done
tm send-keys -t main Escape
wait_line 10 40 "chiffon>"
ok "C-c Esc in one read: the line is cleared, Esc enters command mode"

# A second approval in the same session (the first execution is freed).
tm send-keys -t main -l "deploy grafana"
tm send-keys -t main Enter
wait_for 30 "F5: approve and run"
grafana_plan=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
tm send-keys -t main F5
wait_for 20 "Plan $grafana_plan approved by"
wait_for 300 "All 1 step succeeded."
wait_match 10 1 "plan $grafana_plan: all 1 steps succeeded"
[ "$(sql "SELECT count(*) FROM approvals WHERE decision = 'approved'")" = 2 ] ||
    fail "not two approvals rows"
[ "$(sql "SELECT string_agg(t.status, ',') FROM tasks t JOIN plans p
    ON p.id = t.plan_id WHERE p.plan_id = $grafana_plan AND
    p.status <> 'rejected'")" = succeeded ] ||
    fail "the second approved plan did not succeed"
ok "a second approval in one session runs (plan $grafana_plan succeeded)"

# A high-risk plan: F5 asks for the typed confirmation; a wrong answer
# approves nothing, the service name approves.
tm send-keys -t main -l "remove jellyfin"
tm send-keys -t main Enter
wait_for 30 "F5 asks for a typed confirmation"
risky=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
tm send-keys -t main F5
wait_for 10 "type yes or jellyfin to approve:"
line 1 | grep -qF "Enter confirm" || fail "the key bar does not say Enter confirms"
tm send-keys -t main -l "sure"
tm send-keys -t main Enter
wait_for 10 "not confirmed (the answer was not yes or the service name)"
wait_line 10 40 "chiffon>"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $risky")" = pending_approval ] ||
    fail "a wrong confirmation approved the plan"
tm send-keys -t main F5
wait_for 10 "type yes or jellyfin to approve:"
tm send-keys -t main C-c
wait_line 10 40 "chiffon>"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $risky")" = pending_approval ] ||
    fail "C-c at the confirmation approved the plan"
tm send-keys -t main F5
wait_for 10 "type yes or jellyfin to approve:"
tm send-keys -t main -l "jellyfin"
tm send-keys -t main Enter
wait_for 20 "Plan $risky approved by"
wait_for 300 "All 1 step succeeded."
[ "$(sql "SELECT count(*) FROM approvals WHERE decision = 'approved'")" = 3 ] ||
    fail "not three approvals rows"
ok "a high-risk plan is approved only with the typed service name"

# F1 shows the help (generated from the key table); any key closes it.
tm send-keys -t main F1
wait_for 10 "chiffon keys"
screen main | grep -qE "F10, C-q, C-d, Esc q +quit chiffon" || fail "help lacks quit"
screen main | grep -qE "PgUp +scroll the focused pane up" ||
    fail "help lacks PgUp"
screen main | grep -qE "Esc Up, Esc k +move the focused pane up one line" ||
    fail "help lacks Esc k (one line up)"
tm send-keys -t main x
wait_gone 10 "chiffon keys"
wait_line 10 40 "chiffon>"
# ? on an empty line is help too, on a non-empty one it is a character.
tm send-keys -t main -l "?"
wait_for 10 "chiffon keys"
tm send-keys -t main Escape
wait_gone 10 "chiffon keys"
tm send-keys -t main -l "is kuma up?"
wait_line 10 40 "chiffon> is kuma up?"
tm send-keys -t main C-c
ok "F1 and ? show the help, a key closes it; ? is typed on a non-empty line"

# PgUp/PgDn scroll the log pane (focused at start).
# Each request adds its plan (about ten lines) to the log.
i=1
while [ "$i" -le 6 ]; do
	tm send-keys -t main -l "q$i"
	tm send-keys -t main Enter
	i=$((i + 1))
done
wait_for 60 "request: q6"
tm send-keys -t main PPage
wait_for 10 "more below (PgDn)"
wait_gone 10 "request: q6"
tm send-keys -t main NPage
wait_for 10 "request: q6"
wait_gone 10 "more below (PgDn)"
# Tab moves the focus to the next pane (History): PgUp no longer scrolls
# the log; Shift-Tab brings it back.
tm send-keys -t main Tab
wait_for 10 " 3 History "
tm send-keys -t main PPage
sleep 0.3
screen main | grep -qF "request: q6" || fail "PgUp scrolled the log after Tab"
tm send-keys -t main BTab
tm send-keys -t main PPage
wait_gone 10 "request: q6"
tm send-keys -t main NPage
wait_for 10 "request: q6"
ok "PgUp/PgDn scroll the focused pane; Tab and Shift-Tab move the focus"

# The status bar follows the database: stopped under chiffon's feet it
# shows the reconnection, started again it shows the connection.
"$bin" --config "$conf" --data-dir "$data" db stop >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "chiffon db stop failed"; }
wait_for 30 "db: embedded, reconnecting"
"$bin" --config "$conf" --data-dir "$data" db start >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "chiffon db start failed"; }
wait_for 90 "db: embedded, connected"
ok "the status bar shows the database reconnecting and connected again"

# A resize (SIGWINCH through the loop) lays the screen out again.
tm resize-window -t main -x 100 -y 30
wait_line 10 30 "chiffon>"
# 30 rows: status, plan title, 8 plan rows, then the log title on row 11.
line 11 | grep -qF " Log " || fail "the log pane did not move on resize"
line 1 | grep -qF "db: embedded, connected" ||
    fail "the status bar was not redrawn"
ok "resizing redraws the layout"

# C-q quits with status 0.
tm send-keys -t main C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q: exit status $st, expected 0"
ok "C-q quits with exit status 0"

# --- two shells on one database, and a worker of its own ---------------------
# Each shell runs exactly the plan it approved, on its own worker; the
# outside worker (which would claim anything unowned) runs neither.
target=outsider
# shellcheck disable=SC2086
start outsider $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo" worker --name outsider
target=shA
# shellcheck disable=SC2086
start shA $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
target=shB
# shellcheck disable=SC2086
start shB $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
target=shA
wait_for 60 "db: embedded, connected"
target=shB
wait_for 60 "db: embedded, connected"
n=100
until [ "$(sql "SELECT count(*) FROM agents WHERE name = 'outsider' AND
    status = 'online'")" = 1 ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the outside worker did not register"
	sleep 0.1
done
target=shA
tm send-keys -t shA -l "$kuma"
tm send-keys -t shA Enter
wait_for 30 "F5: approve and run"
planA=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
target=shB
tm send-keys -t shB -l "deploy grafana"
tm send-keys -t shB Enter
wait_for 30 "F5: approve and run"
planB=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
tm send-keys -t shA F5
tm send-keys -t shB F5
target=shA
wait_for 20 "Plan $planA approved by"
target=shB
wait_for 20 "Plan $planB approved by"
wait_for 300 "All 1 step succeeded."
target=shA
wait_for 300 "All 2 steps succeeded."
screen shA | grep -qF "Plan $planB approved" && fail "shell A shows B's approval"
# The agent of each shell is the chiffon process in its pane.
agent_of() {
	sql "SELECT name FROM agents WHERE pid = $(pgrep -P "$(tm display -p -t "$1" '#{pane_pid}')")"
}
agentA=$(agent_of shA)
agentB=$(agent_of shB)
[ -n "$agentA" ] && [ -n "$agentB" ] && [ "$agentA" != "$agentB" ] ||
    fail "the shells do not have agents of their own ('$agentA', '$agentB')"
case $agentA in
"$(hostname):"*) ;;
*) fail "agent id '$agentA' does not start with the host name" ;;
esac
runs_of() {
	sql "SELECT string_agg(t.step || ':' || (SELECT count(*) FROM runs r
	    WHERE r.task_id = t.id) || ':' || coalesce((SELECT string_agg(
	    DISTINCT r.agent, ',') FROM runs r WHERE r.task_id = t.id), '-'),
	    ' ' ORDER BY t.step) FROM tasks t JOIN plans p ON p.id = t.plan_id
	    WHERE p.plan_id = $1"
}
[ "$(runs_of "$planA")" = "1:1:$agentA 2:1:$agentA" ] ||
    fail "plan $planA ran as '$(runs_of "$planA")', expected once each on $agentA"
[ "$(runs_of "$planB")" = "1:1:$agentB" ] ||
    fail "plan $planB ran as '$(runs_of "$planB")', expected once on $agentB"
[ "$(sql "SELECT count(*) FROM runs WHERE agent = 'outsider'")" = 0 ] ||
    fail "the outside worker ran a shell's plan"
[ "$(sql "SELECT count(DISTINCT owner_agent) FROM work_queue")" -le 2 ] ||
    fail "unexpected owners in the queue"
tm send-keys -t shA C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "shell A: exit status $st"
target=shB
tm send-keys -t shB C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "shell B: exit status $st"
tm kill-session -t outsider
ok "two shells: each plan ran once on its own shell's worker ($agentA, $agentB), none on the outside worker"

# --- 80x24 ---------------------------------------------------------------------
# At 80x24 a six-step plan does not fit the plan pane: the title counts
# the lines out of view, and F5 approves nothing until all were shown,
# then asks for the confirmation.
target=small
# shellcheck disable=SC2086
start_size small 80 24 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo"
wait_for 60 "db: embedded, connected"
wait_line 10 24 "chiffon>"
tm send-keys -t small -l "remove jellyfin, then deploy grafana, deploy kuma, deploy pihole, deploy homepage and deploy nextcloud"
tm send-keys -t small Enter
wait_for 30 "F5 asks for a typed confirmation"
six=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
[ "$(sql "SELECT count(*) FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $six")" = 6 ] || fail "the plan does not have six steps"
line 2 | grep -qE "Plan .* [0-9]+ more above \(PgUp\)" ||
    fail "the plan pane's title does not count the lines above"
screen small | sed -n '3,8p' | grep -q "^ 1\. remove jellyfin" &&
    fail "step 1 is shown: the test does not test the hidden step"
tm send-keys -t small F5
wait_for 10 "not approved: read the whole plan first"
screen small | grep -qF "type yes or jellyfin" && fail "asked before all was shown"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $six")" = pending_approval ] ||
    fail "F5 approved a plan whose first step was not shown"
# F5 moved the focus to the plan pane: PgUp (a page of 6 rows; a step
# has its command and risk lines, and they wrap at 80 columns) reaches
# its top.
n=0
while line 2 | grep -qF "more above (PgUp)"; do
	n=$((n + 1))
	[ "$n" -le 15 ] || fail "PgUp does not reach the plan's first line"
	tm send-keys -t small PPage
	sleep 0.3
done
wait_for 10 " 1. remove jellyfin"
line 2 | grep -qE "[0-9]+ more below \(PgDn\)" ||
    fail "the plan pane's title does not count the lines below"
tm send-keys -t small F5
wait_for 10 "type yes or jellyfin to approve:"
tm send-keys -t small Escape
wait_line 10 24 "chiffon>"
tm send-keys -t small F6
wait_for 10 "? y/N"
tm send-keys -t small y Enter
wait_for 10 "Rejected: nothing ran."
[ "$(sql "SELECT status FROM plans WHERE plan_id = $six")" = rejected ] ||
    fail "the six-step plan is not rejected"
tm send-keys -t small C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q: exit status $st, expected 0"
ok "80x24: a hidden high-risk step is counted in the title; F5 asks only once all was shown"

# --- chiffon approve: a high-risk plan takes --yes or the typed word --------
target=none
cli() {
	# shellcheck disable=SC2086
	$run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo" "$@"
}
cli plan "remove jellyfin" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "chiffon plan failed"; }
rp=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
rc=0
cli approve "$rp" </dev/null >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$tmp/out" >&2; fail "approve without a terminal: exit $rc, expected 2"; }
grep -qF "needs a typed confirmation" "$tmp/out" ||
    { cat "$tmp/out" >&2; fail "approve without a terminal: no reason given"; }
target=approve1
# shellcheck disable=SC2086
start approve1 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo" approve "$rp"
wait_for 30 "type yes or jellyfin to approve:"
tm send-keys -t approve1 -l "y"
tm send-keys -t approve1 Enter
st=$(wait_dead 10)
[ "$st" = 1 ] || fail "approve answered y: exit status $st, expected 1"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $rp")" = pending_approval ] ||
    fail "approve answered y approved the plan"
target=approve2
# shellcheck disable=SC2086
start approve2 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo" approve "$rp"
wait_for 30 "type yes or jellyfin to approve:"
tm send-keys -t approve2 -l "yes"
tm send-keys -t approve2 Enter
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "approve answered yes: exit status $st, expected 0"
[ "$(sql "SELECT count(*) FROM approvals a JOIN plans p ON p.id = a.plan_id
    WHERE p.plan_id = $rp AND a.decision = 'approved'")" = 1 ] ||
    fail "approve answered yes did not approve the plan"
cli plan "remove jellyfin" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "chiffon plan failed"; }
rp=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
cli approve --yes "$rp" </dev/null >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "approve --yes failed"; }
# chiffon run into a pipe: plain text, even with ANSIBLE_FORCE_COLOR.
ANSIBLE_FORCE_COLOR=1 cli run --yes "deploy grafana" </dev/null 2>&1 |
    cat >"$tmp/runout"
grep -q "^PLAY RECAP" "$tmp/runout" || { cat "$tmp/runout" >&2; fail "run --yes did not run"; }
grep -q "$esc" "$tmp/runout" && fail "chiffon run wrote escapes into a pipe"
rc=0
cli run "remove jellyfin" </dev/null >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$tmp/out" >&2; fail "run without a terminal: exit $rc, expected 2"; }
target=run1
# shellcheck disable=SC2086
start run1 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo" run "remove jellyfin"
wait_for 30 "type yes or jellyfin to approve:"
tm send-keys -t run1 -l "y"
tm send-keys -t run1 Enter
st=$(wait_dead 10)
[ "$st" = 1 ] || fail "run answered y to a high-risk plan: exit status $st, expected 1"
[ "$(sql "SELECT status FROM plans ORDER BY id DESC LIMIT 1")" = rejected ] ||
    fail "run answered y: the high-risk plan is not declined"
sql "UPDATE tasks SET status = 'canceled' WHERE status = 'queued'" >/dev/null
ok "chiffon approve: a high-risk plan needs yes/the service typed on a terminal or --yes"

# --- without the infra plugin: the plan pane says why nothing is planned -----
target=noplug
# shellcheck disable=SC2086
start noplug $run_env CHIFFON_PLUGINS_LOAD=no-such-plugin \
    "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "db: embedded, connected"
line 1 | grep -qF "plugins: 0 loaded" || fail "plugins were loaded"
tm send-keys -t noplug -l "deploy uptime kuma"
tm send-keys -t noplug Enter
wait_for 20 "Cannot plan this request:"
screen noplug | sed -n '3,12p' | grep -qF "the infra plugin is not loaded" ||
    fail "the plan pane does not say that the infra plugin is missing"
screen noplug | grep -q "^ 1\. " && fail "a plan without a planner"
tm send-keys -t noplug F5
wait_for 10 "nothing to approve: no plan pending approval is shown"
tm send-keys -t noplug F10
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "F10: exit status $st, expected 0"
ok "without the infra plugin: 'Cannot plan this request', F5 approves nothing; F10 quits"

# --- a repository that does not exist: the planner's failure is shown -------
target=norepo
# shellcheck disable=SC2086
start norepo $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$tmp/no-such-repo"
wait_for 60 "/no-such-repo (not found)"
tm send-keys -t norepo -l "deploy uptime kuma"
tm send-keys -t norepo Enter
wait_for 20 "Cannot plan this request:"
screen norepo | sed -n '3,12p' | grep -qF "no-such-repo" ||
    fail "the plan pane does not say which repository is missing"
tm send-keys -t norepo C-q
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "C-q: exit status $st, expected 0"
ok "a missing repository: the status bar and the plan pane say so"

# --- a database that cannot be reached: message, exit 3, no screen ---------
target=nodb
# shellcheck disable=SC2086
start nodb $run_env CHIFFON_DB_URL="postgresql:///chiffon?host=$tmp/no-such-dir" \
    "$bin" --config "$conf" --repo "$repo"
st=$(wait_dead 30)
[ "$st" = 3 ] || fail "unreachable database: exit status $st, expected 3"
tm capture-pane -p -S - -t nodb | grep -q "^chiffon: .*db.url" ||
    fail "no error message printed"
ok "an unreachable database: printed message and exit status 3"

echo "all passed"
