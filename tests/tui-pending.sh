#!/bin/sh
# tui-pending.sh - the Plan pane's list of this user's plans pending
# approval on a real terminal (tmux, 120x40) and a real database: two
# plans made with `chiffon plan` in other processes are listed newest
# first (the second one appears while the list is shown, through
# chiffon_task); Esc Down Enter picks the older one, which becomes the
# plan shown; F7 puts its request on the request line, the amended text
# makes version 2 (the old version superseded, `chiffon show plan`
# shows it); F6 in the list asks, n keeps the plan, y rejects it with an
# approvals row and a plan.rejected audit row; a plan shown in the shell
# and rejected by `chiffon reject` in a second process is marked so and
# F5 approves nothing; a plan made and rejected elsewhere comes and goes
# in the list while it is shown; with 201 pending the newest 200 are
# listed and the title names chiffon audit for all.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

target=q
cli() {
	# shellcheck disable=SC2086
	$run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo" "$@"
}

# The database first (the shell starts the embedded cluster too).
cli db start >/dev/null
cli plan "deploy grafana on pve1" >"$tmp/plan-a.out" ||
    fail "chiffon plan failed: $(cat "$tmp/plan-a.out")"
a=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
[ -n "$a" ] || fail "chiffon plan stored no plan"

# shellcheck disable=SC2086
start q $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 40 "chiffon>"

# Esc p: the list, in the Plan pane, the one plan so far.
tm send-keys -t q Escape
wait_line 10 40 "command>"
tm send-keys -t q p
wait_for 10 "pending plans: row 1 of 1"
screen q | grep -E "^> +$a +v1 .*1: deploy grafana +deploy grafana on pve1" \
    >/dev/null || fail "the list does not show plan $a v1 selected"
ok "Esc p lists plan $a, made by chiffon plan in another process"

# A plan made elsewhere while the list is shown joins it, at the top.
cli plan "deploy kuma" >"$tmp/plan-b.out" ||
    fail "chiffon plan failed: $(cat "$tmp/plan-b.out")"
b=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
[ "$b" != "$a" ] || fail "the second plan has the first one's id"
wait_for 10 "pending plans: row 2 of 2"
screen q | grep -nE "^[> ] +($a|$b) +v1 " >"$tmp/rows"
first=$(sed -n 1p "$tmp/rows" | sed 's/^[0-9]*:[> ]* //' | cut -d' ' -f1)
second=$(sed -n 2p "$tmp/rows" | sed 's/^[0-9]*:[> ]* //' | cut -d' ' -f1)
[ "$first" = "$b" ] && [ "$second" = "$a" ] ||
    fail "the list is not newest first ($first, $second; want $b, $a)"
screen q | grep -qE "^> +$a +v1 " ||
    fail "the selection did not stay on plan $a"
ok "plan $b made meanwhile appears at the top, live; the selection stays"

# Esc Up Esc Down select; Enter picks the older plan: shown, approvable.
tm send-keys -t q Up
wait_for 10 "pending plans: row 1 of 2"
tm send-keys -t q Down
wait_for 10 "pending plans: row 2 of 2"
tm send-keys -t q Enter
wait_for 10 "Plan $a v1 (pending_approval)"
wait_for 10 "F5: approve and run"
screen q | grep -qF "Request: deploy grafana on pve1" ||
    fail "the picked plan's request is not shown"
wait_for 10 "plan $a v1 picked from the pending plans"
[ "$(sql "SELECT count(*) FROM approvals")" = 0 ] ||
    fail "picking a plan wrote an approvals row"
ok "Enter shows plan $a v1 as the plan, pending approval; nothing approved"

# F7 on an empty line: the request to amend, Enter makes version 2.
tm send-keys -t q F7
wait_line 10 40 "amend plan $a v1> deploy grafana on pve1"
screen q | grep -qF "Enter new version  C-c keep" ||
    fail "the key bar does not say how to amend"
tm send-keys -t q BSpace 2
wait_line 10 40 "amend plan $a v1> deploy grafana on pve2"
tm send-keys -t q Enter
wait_for 60 "Plan $a v2 (pending_approval)"
wait_for 10 "Request: deploy grafana on pve2"
[ "$(sql "SELECT string_agg(version || ':' || status, ' ' ORDER BY version)
    FROM plans WHERE plan_id = $a")" = "1:superseded 2:pending_approval" ] ||
    fail "plan $a: $(sql "SELECT string_agg(version || ':' || status, ' ')
    FROM plans WHERE plan_id = $a")"
[ "$(sql "SELECT amendment FROM plans WHERE plan_id = $a AND
    version = 2")" = "deploy grafana on pve2" ] ||
    fail "version 2 does not record the amended text"
cli show plan "$a" >"$tmp/show" || fail "chiffon show plan $a failed"
grep -qF "deploy grafana on pve2" "$tmp/show" ||
    fail "chiffon show plan $a does not show the amendment: $(cat "$tmp/show")"
grep -qE "v2|version 2" "$tmp/show" ||
    fail "chiffon show plan $a does not show version 2: $(cat "$tmp/show")"
grep -qF "pve2" "$tmp/show" || fail "version 2 does not target pve2"
ok "F7 amends plan $a: version 2 shown, v1 superseded, chiffon show agrees"

# C-c while amending keeps the plan.
tm send-keys -t q F7
wait_line 10 40 "amend plan $a v2> deploy grafana on pve2"
tm send-keys -t q C-c
wait_for 10 "not amended: the plan is unchanged"
wait_line 10 40 "chiffon>"
[ "$(sql "SELECT count(*) FROM plans WHERE plan_id = $a")" = 2 ] ||
    fail "C-c while amending made a version"

# The list again: plan a v2 (newest) and plan b; F6 on b asks first.
tm send-keys -t q Escape
wait_line 10 40 "command>"
tm send-keys -t q p
wait_for 10 "pending plans: row 1 of 2"
screen q | grep -qE "^> +$a +v2 .*deploy grafana on pve2" ||
    fail "the list does not show plan $a v2 first"
screen q | grep -qE "^  +$a +v1 " && fail "the superseded v1 is listed"
tm send-keys -t q Down
wait_for 10 "pending plans: row 2 of 2"
tm send-keys -t q F6
wait_line 10 40 "reject plan $b v1 (deploy kuma)? y/N"
tm send-keys -t q n Enter
wait_for 10 "not rejected: the plan stays pending approval"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $b")" = pending_approval ] ||
    fail "n rejected plan $b"
tm send-keys -t q F6
wait_line 10 40 "reject plan $b v1 (deploy kuma)? y/N"
tm send-keys -t q y Enter
wait_for 10 "Plan $b v1 rejected by"
wait_for 10 "pending plans: row 1 of 1"
# Its tasks' NOTIFYs are this shell's own doing, not another session's.
sleep 0.5
screen q | grep -qF "[other session] plan $b.1" &&
    fail "the shell's own rejection is reported as another session's"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $b")" = rejected ] ||
    fail "plan $b is not rejected"
[ "$(sql "SELECT decision || ': ' || reason FROM approvals a JOIN plans p
    ON p.id = a.plan_id WHERE p.plan_id = $b")" = \
    "rejected: rejected in the shell" ] ||
    fail "no approvals row for the rejection of plan $b"
[ "$(sql "SELECT count(*) FROM audit_log WHERE kind = 'plan.rejected' AND
    data->>'reason' = 'rejected in the shell'")" = 1 ] ||
    fail "no plan.rejected audit row for plan $b"
ok "F6 in the list asks; n keeps plan $b, y rejects it (approvals, audit)"

# A plan shown here, rejected from a second process: not approvable.
wait_line 10 40 "chiffon>"
tm send-keys -t q -l "deploy grafana"
tm send-keys -t q Enter
wait_for 30 "F5: approve and run"
c=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
[ "$c" != "$a" ] && [ "$c" != "$b" ] || fail "no new plan for the request"
cli reject "$c" --reason "not today" >"$tmp/reject.out" ||
    fail "chiffon reject $c failed: $(cat "$tmp/reject.out")"
wait_for 10 "Plan $c v1 was rejected in another session"
tm send-keys -t q F5
wait_for 10 "nothing to approve"
sleep 0.5
[ "$(sql "SELECT count(*) FROM approvals WHERE decision = 'approved'")" = 0 ] ||
    fail "an approval was recorded"
[ "$(sql "SELECT string_agg(DISTINCT t.status, ',') FROM tasks t JOIN plans p
    ON p.id = t.plan_id WHERE p.plan_id = $c")" = rejected ] ||
    fail "plan $c's tasks are not rejected"
screen q | grep -qF "F5: approve and run" &&
    fail "the rejected plan still offers F5"
ok "plan $c rejected by chiffon reject elsewhere: marked, F5 approves nothing"

# The list follows decisions made elsewhere too, live.
tm send-keys -t q Escape
wait_line 10 40 "command>"
tm send-keys -t q p
wait_for 10 "pending plans: row 1 of 1"
cli plan "deploy kuma" >"$tmp/plan-d.out" ||
    fail "chiffon plan failed: $(cat "$tmp/plan-d.out")"
d=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
wait_for 10 "pending plans: row 2 of 2"
cli reject "$d" --reason "changed my mind" >"$tmp/reject-d.out" ||
    fail "chiffon reject $d failed: $(cat "$tmp/reject-d.out")"
wait_for 10 "pending plans: row 1 of 1"
screen q | grep -qE "^> +$a +v2 " || fail "plan $a v2 is not the one left"
ok "plan $d made and rejected elsewhere comes and goes in the list, live"

# More than 200 pending: the newest 200 are listed, and the title says
# where all of them are.
sql "INSERT INTO plans (request_id, created_by, summary) SELECT
    p.request_id, p.created_by, 'filler' FROM plans p,
    generate_series(1, 200) WHERE p.plan_id = $a AND p.version = 2" \
    >/dev/null
# What `chiffon plan` would send for them (the shown list reloads).
sql "SELECT pg_notify('chiffon_task', (SELECT t.id || ' pending_approval'
    FROM tasks t JOIN plans p ON p.id = t.plan_id WHERE p.plan_id = $a
    AND p.version = 2 LIMIT 1))" >/dev/null
wait_for 10 "pending plans: row 1 of the newest 200 (all: chiffon audit --status pending_approval)"
screen q | grep -qE "^  +$a +v2 " && fail "plan $a v2 (the 201st) is listed"
cli audit --status pending_approval >"$tmp/audit.out" ||
    fail "chiffon audit --status pending_approval failed"
av2=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $a AND p.version = 2 LIMIT 1")
grep -qE "^$av2 .*pending_approval" "$tmp/audit.out" ||
    fail "the audit list lacks plan $a v2's task $av2"
sql "DELETE FROM plans WHERE summary = 'filler'" >/dev/null
ok "201 pending: the newest 200 listed, the title names chiffon audit for all"

# Quit: no run, plan a v2 still pending.
tm send-keys -t q F10
[ "$(wait_dead 20)" = 0 ] || fail "chiffon did not exit with status 0"
[ "$(sql "SELECT status FROM plans WHERE plan_id = $a AND version = 2")" = \
    pending_approval ] || fail "plan $a v2 changed"
ok "the shell quits; plan $a v2 stays pending approval"
