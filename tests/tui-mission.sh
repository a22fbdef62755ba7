#!/bin/sh
# tui-mission.sh - the mission on a real terminal (tmux, 120x40), from an
# empty data directory on contrib/homelab: "Deploy Kuma Uptime to homelab
# and add existing portals to config" plans two ordered steps (deploy,
# then the existing portals as monitors) with their real targets, command
# line, estimate and risk; F5 approves; the output streams, the Plan pane
# ticks the steps and the status bar counts the hosts; the summary shows
# per step and host the counts, duration and resources, the suggestions
# of the playbooks used (ansible-lint, cached by content hash) and the
# audit commit; History shows the request's tasks and Enter replays a log
# from the database; the same request again says the playbooks made no
# changes.  Checked against the rows (tasks, runs, run_output lines equal
# to what ansible-playbook prints for the same command, chiffon audit
# verify), the git commit and the files written for each host.  Then the
# failing variant: a copy of the homelab with one more host in the
# monitoring group that cannot be reached ends with the task failed on
# the screen, in History and in chiffon audit --failures, with its
# suggestions shown.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

kuma="Deploy Kuma Uptime to homelab and add existing portals to config"
# Linting after a success (cached by content hash): the summary shows the
# suggestions of every playbook used.
printf '[plugin.infra]\nlint_on_success = yes\n' >"$conf"
cli() {
	# shellcheck disable=SC2086
	$run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo" "$@"
}
[ ! -e "$data" ] || fail "the data directory exists before the start"

target=m
# shellcheck disable=SC2086
start m $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 40 "chiffon>"
# No model configured: the deterministic parser; the agents online as the
# agents table has them (read once a second).
n=50
until line 1 | grep -qE "llm: parser( only)?  agents:? $(sql "SELECT count(*)
    FROM agents WHERE status = 'online'")( online)?  plugins: [0-9]+ loaded"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the status bar lacks the LLM tier, agents, plugins"
	sleep 0.1
done
ok "the status bar: database, LLM tier, agents online, plugins"

# --- the plan ----------------------------------------------------------------
tm send-keys -t m -l "$kuma"
tm send-keys -t m Enter
wait_for 30 "F5: approve and run"
plan=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
screen m | sed -n '3,14p' >"$tmp/plan"
grep -qF "Plan $plan v1 (pending_approval), 2 steps" "$tmp/plan" ||
    fail "the Plan pane does not label plan $plan v1"
s1=$(grep -n "^ 1\. deploy kuma  kuma-deploy.yml " "$tmp/plan" | cut -d: -f1)
s2=$(grep -n "^ 2\. configure kuma  kuma-monitors.yml " "$tmp/plan" |
    cut -d: -f1)
[ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" -lt "$s2" ] ||
    fail "the steps are not deploy then the portals as monitors"
# The real targets: the plays' hosts (monitoring) resolved in the
# inventory, not "all".
grep -E "^ [12]\. " "$tmp/plan" | grep -vqF "targets: docker1 " &&
    fail "a step does not target docker1 (the monitoring group)"
grep -qF "targets: all" "$tmp/plan" && fail "the Plan pane says targets: all"
grep -qE "^ 1\. .*risk: medium  est\. [0-9]+m" "$tmp/plan" ||
    fail "step 1 lacks its risk and estimate"
grep -qE "^    task [0-9]+  command: ansible-playbook kuma-deploy.yml$" "$tmp/plan" ||
    fail "step 1 lacks its command line"
grep -qF "    risk: deploy is medium risk;" "$tmp/plan" ||
    fail "step 1 lacks the reasons of its risk"
ok "plan $plan: deploy then monitors on docker1, command, estimate, risk"

# --- approve and run -----------------------------------------------------------
tm send-keys -t m F5
wait_for 20 "Plan $plan approved by"
wait_for 60 "[running]"
n=300
until line 1 | grep -qE "step [12]/2 running, hosts: [0-9]+ (ok|changed)"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "the status bar never counted the hosts"
	sleep 0.1
done
ok "the status bar shows the step and counts hosts while it runs"
wait_for 300 "All 2 steps succeeded."
screen m | sed -n '3,14p' | grep -qE "^ 1\. deploy kuma .*\[succeeded, changed [1-9][0-9]*\]$" ||
    fail "step 1 is not ticked succeeded with its changes"
screen m | sed -n '3,14p' | grep -qE "^ 2\. configure kuma .*\[succeeded, changed [1-9][0-9]*\]$" ||
    fail "step 2 is not ticked succeeded with its changes"
wait_match 10 1 "all 2 steps succeeded, hosts: ([0-9]+ ok, )?1 changed"

# The summary, in the Log pane (the end of it is shown).
wait_for 30 "Summary of plan $plan v1 (2 steps):"
t1=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $plan AND t.step = 1")
t2=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $plan AND t.step = 2")
screen m >"$tmp/sum"
for t in $t1 $t2; do
	r=$(sql "SELECT id FROM runs WHERE task_id = $t")
	c=$(sql "SELECT commit_id FROM audit_git WHERE task_id = $t")
	[ -n "$c" ] || fail "task $t has no audit commit"
	grep -qE "^ step [12], task $t: .*: succeeded$" "$tmp/sum" ||
	    fail "the summary lacks task $t"
	grep -qE "^     run $r: [0-9]+s, CPU [0-9]+\.[0-9] s, peak memory [0-9.]+ MB$" \
	    "$tmp/sum" || fail "the summary lacks run $r's duration and resources"
	ch=$(sql "SELECT summary->'hosts'->'docker1'->>'changed' FROM runs
	    WHERE id = $r")
	ok_=$(sql "SELECT summary->'hosts'->'docker1'->>'ok' FROM runs
	    WHERE id = $r")
	grep -qE "^     docker1: ok=$ok_ changed=$ch failed=0 unreachable=0  [0-9.]+ s$" \
	    "$tmp/sum" || fail "the summary lacks docker1's counts of run $r"
	grep -qF "     audit: git commit $c" "$tmp/sum" ||
	    fail "the summary lacks task $t's commit $c"
	git -C "$data/audit" cat-file -e "$c^{commit}" ||
	    fail "commit $c is not in the audit repository"
	git -C "$data/audit" show --stat --format=%B "$c" |
	    grep -qF "tasks/$t.json" || fail "commit $c does not hold task $t"
done
[ "$(grep -c "     suggestions: none (ansible-lint found nothing in this content)" \
    "$tmp/sum")" = 2 ] || fail "the summary lacks the lint result of both playbooks"
[ "$(sql "SELECT string_agg(playbook || ':' || findings, ' ' ORDER BY
    playbook) FROM playbook_lint")" = "kuma-deploy.yml:0 kuma-monitors.yml:0" ] ||
    fail "playbook_lint does not cache both playbooks"
ok "the summary: per step and host counts, duration, CPU, memory, lint, commits"

# The rows: tasks, runs, output lines, the chain.
[ "$(sql "SELECT string_agg(t.step || ':' || t.playbook || ':' || t.status,
    ' ' ORDER BY t.step) FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $plan")" = \
    "1:kuma-deploy.yml:succeeded 2:kuma-monitors.yml:succeeded" ] ||
    fail "the tasks did not succeed in the database"
for t in $t1 $t2; do
	r=$(sql "SELECT id FROM runs WHERE task_id = $t AND status =
	    'successful'")
	[ -n "$r" ] || fail "task $t has no successful run"
	[ "$(sql "SELECT count(*) FROM run_output WHERE run_id = $r")" = \
	    "$(sql "SELECT lines FROM runs WHERE id = $r")" ] ||
	    fail "run $r: run_output rows differ from runs.lines"
done
cli audit verify >"$tmp/verify" 2>&1 ||
    { cat "$tmp/verify" >&2; fail "chiffon audit verify failed"; }
ok "tasks, runs and run_output rows agree; chiffon audit verify passes"

# The files the playbooks wrote, for the one host of the group.
[ -s "$tmp/demo/docker1/uptime-kuma/docker-compose.yml" ] ||
    fail "kuma-deploy.yml did not write docker1's compose file"
grep -qF "louislam/uptime-kuma:1.23.16" \
    "$tmp/demo/docker1/uptime-kuma/docker-compose.yml" ||
    fail "the compose file lacks the image"
[ -s "$tmp/demo/docker1/uptime-kuma/monitors.json" ] ||
    fail "kuma-monitors.yml did not write docker1's monitors"
for p in "Proxmox VE" Unraid Pi-hole "Home Assistant" Jellyfin Grafana; do
	grep -qF "\"$p\"" "$tmp/demo/docker1/uptime-kuma/monitors.json" ||
	    fail "monitors.json lacks the portal $p"
done
for h in nas pve1 pve2 desk1; do
	[ ! -e "$tmp/demo/$h/uptime-kuma" ] ||
	    fail "host $h, not in the monitoring group, got uptime-kuma"
done
ok "docker1 has the compose file and the 6 portals as monitors; no other host"

# run_output holds what ansible-playbook prints: the same command run by
# hand now (nothing left to change, as the rerun below) prints as many
# lines as the rerun stores.
(cd "$repo" && env CHIFFON_DEMO_ROOT="$tmp/demo" ANSIBLE_NOCOLOR=1 \
    HOME="$tmp" ansible-playbook kuma-monitors.yml) >"$tmp/by-hand" 2>&1 ||
    { cat "$tmp/by-hand" >&2; fail "ansible-playbook by hand failed"; }
hand=$(wc -l <"$tmp/by-hand")

# --- History: the request, its tasks, the log replayed -----------------------
tm send-keys -t m Escape
wait_line 10 40 "command>"
tm send-keys -t m 3
wait_for 10 " 3 History "
screen m | grep -E "^ *$t2  succeeded " | grep -qF "kuma-monitors.yml" ||
    fail "History lacks task $t2"
screen m | grep -E "^ *$t1  succeeded " | grep -qF "kuma-deploy.yml" ||
    fail "History lacks task $t1"
tm send-keys -t m Enter
wait_for 10 "Task $t2 (step 2 of plan $plan)"
screen m | grep -qF "Request " || fail "the Task pane lacks the request"
screen m | grep -qF "$kuma" || fail "the Task pane lacks the request's text"
r2=$(sql "SELECT id FROM runs WHERE task_id = $t2")
n2=$(sql "SELECT count(*) FROM run_output WHERE run_id = $r2")
wait_for 10 "task $t2, run $r2 from the database: lines 1-"
screen m | grep -qF "of $n2," || fail "the replay does not count $n2 lines"
# Esc 2 focuses the Log pane, 2 again goes back to the live output.
tm send-keys -t m 2
wait_for 10 "Esc 2 2: live output"
tm send-keys -t m 2
wait_gone 10 "from the database"
tm send-keys -t m Escape
wait_line 10 40 "chiffon>"
ok "History lists tasks $t1 and $t2; Enter replays run $r2 ($n2 lines)"

# --- the same request again: no changes --------------------------------------
tm send-keys -t m -l "$kuma"
tm send-keys -t m Enter
wait_for 30 "F5: approve and run"
plan2=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
[ "$plan2" != "$plan" ] || fail "the rerun reused plan $plan"
tm send-keys -t m F5
wait_for 20 "Plan $plan2 approved by"
wait_for 300 "Summary of plan $plan2 v1 (2 steps):"
wait_for 10 "No changes: the playbooks are idempotent"
screen m | grep -qF "not idempotent" && fail "the rerun is called not idempotent"
[ "$(sql "SELECT sum((r.summary->'hosts'->'docker1'->>'changed')::int)
    FROM runs r JOIN tasks t ON t.id = r.task_id JOIN plans p
    ON p.id = t.plan_id WHERE p.plan_id = $plan2")" = 0 ] ||
    fail "the rerun changed something in the database's runs"
rr=$(sql "SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id JOIN
    plans p ON p.id = t.plan_id WHERE p.plan_id = $plan2 AND t.step = 2")
stored=$(sql "SELECT count(*) FROM run_output WHERE run_id = $rr")
[ "$stored" = "$hand" ] ||
    fail "run $rr stored $stored lines; ansible-playbook printed $hand"
ok "the same request again: no changes, idempotent; $stored lines as printed"
[ "$(sql "SELECT count(*) FROM playbook_lint")" = 2 ] ||
    fail "the rerun linted again"

# The ids the screen shows are the ids chiffon show takes.
cli show task "$t2" >"$tmp/show" 2>&1 || fail "chiffon show task $t2 failed"
grep -qF "task $t2: configure kuma - succeeded" "$tmp/show" ||
    fail "chiffon show task $t2 does not show the task"
cli show plan "$plan" >"$tmp/show" 2>&1 || fail "chiffon show plan $plan failed"
grep -qF "Plan $plan (version 1, succeeded)" "$tmp/show" ||
    { cat "$tmp/show" >&2; fail "chiffon show plan $plan does not show the plan"; }
grep -qE "^  task $t1  step 1  succeeded$" "$tmp/show" ||
    fail "chiffon show plan $plan does not list task $t1"
cli show plan "$plan" v1 >"$tmp/show2" 2>&1 ||
    fail "chiffon show plan $plan v1 failed"
cmp -s "$tmp/show" "$tmp/show2" || fail "plan $plan v1 is not plan $plan"
rc=0
cli show plan "$plan" v9 >"$tmp/show" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -qF "plan $plan has no version 9" "$tmp/show" ||
    fail "chiffon show plan $plan v9: exit $rc: $(cat "$tmp/show")"
ok "chiffon show task $t2, show plan $plan (v1) take the screen's ids"

tm send-keys -t m C-q
st=$(wait_dead 20)
[ "$st" = 0 ] || fail "exit status $st after quitting"

# --- the failing variant: one more monitoring host, unreachable -------------
broken=$tmp/homelab
cp -R "$repo" "$broken"
cat >>"$broken/inventory/demo.yml" <<'EOF2'
            portal2:
              ansible_connection: ssh
              ansible_host: 127.0.0.1
              ansible_port: 9
              ansible_ssh_common_args: -o ConnectTimeout=5 -o BatchMode=yes
              demo_root: "{{ demo_base }}/portal2"
EOF2
target=f
# shellcheck disable=SC2086
start f $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$broken"
wait_for 120 "db: embedded, connected"
wait_line 10 40 "chiffon>"
tm send-keys -t f -l "$kuma"
tm send-keys -t f Enter
wait_for 30 "F5: approve and run"
planf=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
screen f | sed -n '3,14p' | grep -E "^ 1\. deploy kuma " |
    grep -qF "targets: docker1,portal2 " ||
    fail "the failing plan does not target docker1 and portal2"
tm send-keys -t f F5
wait_for 20 "Plan $planf approved by"
wait_for 300 "of 2 steps did not succeed."
tf=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
    WHERE p.plan_id = $planf AND t.step = 1")
[ "$(sql "SELECT status FROM tasks WHERE id = $tf")" = failed ] ||
    fail "task $tf is not failed in the database"
screen f | sed -n '3,14p' | grep -qE "^ 1\. deploy kuma .*\[failed" ||
    fail "step 1 is not failed on the screen"
wait_for 30 "Summary of plan $planf v1 (2 steps):"
screen f >"$tmp/sum"
grep -qE "^ step 1, task $tf: .*: failed" "$tmp/sum" ||
    fail "the summary does not say task $tf failed"
grep -qE "^     portal2: ok=0 changed=0 failed=0 unreachable=1" "$tmp/sum" ||
    fail "the summary does not show portal2 unreachable"
grep -qE "^     docker1: ok=[1-9][0-9]* changed=0 failed=0 unreachable=0" \
    "$tmp/sum" || fail "the summary does not show docker1 ok"
grep -qE "^     suggestions(: none \(ansible-lint found nothing| for kuma-deploy.yml)" \
    "$tmp/sum" || fail "the summary shows no suggestions for kuma-deploy.yml"
[ "$(sql "SELECT findings FROM playbook_lint WHERE playbook =
    'kuma-deploy.yml'")" = "$(sql "SELECT count(*) FROM playbook_suggestions
    WHERE playbook = 'kuma-deploy.yml' AND source = 'ansible-lint'")" ] ||
    fail "the lint cache and the stored suggestions disagree"
ok "the failing variant: task $tf failed, portal2 unreachable, suggestions shown"

# At 80 columns the status bar keeps the database, the plan and its hosts.
line 1 | grep -qE "plan $planf: [12] of 2 steps (did not succeed|failed), hosts: 1 ok, (0 changed, 0 failed, )?1 unreachable" ||
    fail "the status bar does not count docker1 ok and portal2 unreachable"
tm resize-window -t f -x 80 -y 24
n=50
until line 1 | grep -qE "db: embedded(, connected)?  plan $planf: [12] of 2 steps failed, hosts: 1 ok, 1 unreachable"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "at 80 columns the status bar lost the run"
	sleep 0.1
done
tm resize-window -t f -x 120 -y 40
ok "at 80 columns the status bar shortens to the database, plan and hosts"

cli audit --failures >"$tmp/failures" 2>&1 ||
    { cat "$tmp/failures" >&2; fail "chiffon audit --failures failed"; }
grep -E "^ *$tf " "$tmp/failures" | grep -qF "failed" ||
    { cat "$tmp/failures" >&2; fail "audit --failures lacks task $tf"; }
tm send-keys -t f Escape
wait_line 10 40 "command>"
tm send-keys -t f 3
wait_for 10 " 3 History "
screen f | grep -E "^ *$tf  failed " | grep -qF "kuma-deploy.yml" ||
    fail "History lacks the failed task $tf"
cli audit verify >"$tmp/verify" 2>&1 ||
    { cat "$tmp/verify" >&2; fail "chiffon audit verify failed after the failure"; }
ok "task $tf failed: in History, in chiffon audit --failures; audit verify passes"

tm send-keys -t f C-q
st=$(wait_dead 20)
[ "$st" = 0 ] || fail "exit status $st after quitting the failing shell"
