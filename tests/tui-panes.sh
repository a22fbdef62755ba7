#!/bin/sh
# tui-panes.sh - the shell's panes on a real terminal (tmux, 100x30):
# Tab/Shift-Tab and Esc 1..5 switch panes and each title names its pane;
# after a real run of grafana-deploy.yml against contrib/homelab the
# History pane lists the finished task (checked against the tasks row),
# Enter opens it in the Task pane (with the host it ran on) and replays its log from run_output in
# the Log pane (18 rows: first and last stored lines reached by paging, the count
# equal to the rows stored); the Agents pane shows the shell's worker as
# the agents table has it; a step waiting for resources shows its
# tasks.status_reason in the Plan pane.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

target=p
# shellcheck disable=SC2086
start_size p 100 30 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 30 "chiffon>"
line 2 | grep -qF " 1 Plan " || fail "the upper title does not name 1 Plan"
screen p | grep -qF " 2 Log " || fail "the log title does not name 2 Log"

# Tab from the log (focused at start) goes to History, Shift-Tab back.
tm send-keys -t p Tab
wait_for 10 " 3 History "
wait_for 10 "no tasks yet"
tm send-keys -t p BTab
sleep 0.3
line 2 | grep -qF " 3 History " || fail "Shift-Tab changed the upper pane"
tm send-keys -t p Escape
wait_line 10 30 "command>"
tm send-keys -t p 1
wait_for 10 " 1 Plan "
tm send-keys -t p 5
wait_for 10 "No task opened"
line 2 | grep -qF " 5 Task " || fail "Esc 5 does not show the Task pane"
tm send-keys -t p Escape
wait_line 10 30 "chiffon>"
ok "Tab, Shift-Tab and Esc 1..5 switch panes; titles name them"

# A real run.
tm send-keys -t p -l "deploy grafana"
tm send-keys -t p Enter
wait_for 30 "F5: approve and run"
tm send-keys -t p F5
wait_for 300 "All 1 step succeeded."
task=$(sql "SELECT id FROM tasks WHERE status = 'succeeded' ORDER BY id
    DESC LIMIT 1")
[ -n "$task" ] || fail "no succeeded task in the database"
run=$(sql "SELECT id FROM runs WHERE task_id = $task ORDER BY id DESC
    LIMIT 1")
nlines=$(sql "SELECT count(*) FROM run_output WHERE run_id = $run")
[ "$nlines" -gt 18 ] || fail "run $run stored only $nlines lines"
[ "$(sql "SELECT lines FROM runs WHERE id = $run")" = "$nlines" ] ||
    fail "runs.lines differs from the rows of run_output"
approver=$(sql "SELECT approved_by FROM approvals WHERE decision =
    'approved' ORDER BY id DESC LIMIT 1")
ok "task $task ran (run $run, $nlines lines stored)"

# History lists it: id, status, approver, playbook on one row.
tm send-keys -t p Escape
wait_line 10 30 "command>"
tm send-keys -t p 3
wait_for 10 " 3 History "
screen p | grep -E "^ *$task  succeeded +${approver%%@*}" >"$tmp/row" ||
    fail "History has no row for task $task succeeded by $approver"
grep -qF "grafana-deploy.yml" "$tmp/row" ||
    fail "the History row lacks the playbook: $(cat "$tmp/row")"
screen p | grep -qF "page 1, row 1 of 1" || fail "History's title is wrong"
ok "History lists task $task: succeeded, approver, playbook"

# Enter opens it: the Task pane and the log replayed from the database.
tm send-keys -t p Enter
wait_for 10 "Task $task (step 1 of plan"
screen p | grep -qF "Request " || fail "the Task pane lacks the request"
screen p | grep -qF "Git commit: " || fail "the Task pane lacks the commit"
# The real hosts: grafana-deploy.yml's play (monitoring) in the
# inventory, not the stored "all".
screen p | grep -qF "Playbook: grafana-deploy.yml on docker1 (approved by" ||
    fail "the Task pane does not name the host docker1"
screen p | grep -qF "Playbook: grafana-deploy.yml on all" &&
    fail "the Task pane says the playbook ran on all"
wait_for 10 "task $task, run $run from the database: lines 1-"
screen p | grep -qF "of $nlines," ||
    fail "the replay's title does not count $nlines lines"
# plain LINE: as the pane shows it, without terminal sequences.
plain() {
	printf '%s\n' "$1" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | cut -c1-90
}
first=$(sql "SELECT line FROM run_output WHERE run_id = $run AND seq = 1")
last=$(sql "SELECT line FROM run_output WHERE run_id = $run AND seq =
    $nlines")
screen p | sed -n '12,29p' | grep -qF -- "$(plain "$first")" ||
    fail "the replay does not start with the run's first line '$first'"
screen p | grep -qF "?[0;" &&
    fail "the replay shows the stored lines' terminal sequences"
ok "Enter opens task $task in the Task pane and replays its log"

# Searching the replay (in the database): Esc / takes the request line's
# text, n and N go to the next and previous line with it; the line found
# is the top of the view (18 rows) where the run is long enough.
tm send-keys -t p 2
sleep 0.3	# a lone Esc, not one read with the 2
tm send-keys -t p Escape
wait_line 10 30 "chiffon>"
tm send-keys -t p -l "TASK ["
wait_for 10 "chiffon> TASK ["
tm send-keys -t p Escape
wait_for 10 "command> TASK ["
tm send-keys -t p /
max=$((nlines - 18))
# top_for SEQ: the first line shown when line SEQ is looked for.
top_for() {
	if [ "$1" -gt $((max + 1)) ]; then echo $((max + 1)); else echo "$1"; fi
}
find_after() {
	sql "SELECT min(seq) FROM run_output WHERE run_id = $run AND
	    seq > $1 AND strpos(line, 'TASK [') > 0"
}
s1=$(find_after 1)
[ -n "$s1" ] || fail "run $run has no 'TASK [' line after its first"
t1=$(top_for "$s1")
wait_for 10 "from the database: lines $t1-"
line 12 | grep -qF "TASK [" || [ "$t1" != "$s1" ] ||
    fail "the line found is not at the top of the log pane"
s2=$(find_after "$t1")
[ -n "$s2" ] || fail "run $run has one 'TASK [' line only"
tm send-keys -t p n
t2=$(top_for "$s2")
wait_for 10 "from the database: lines $t2-"
tm send-keys -t p N
back=$(sql "SELECT max(seq) FROM run_output WHERE run_id = $run AND
    seq < $t2 AND strpos(line, 'TASK [') > 0")
wait_for 10 "from the database: lines $back-"
ok "Esc / finds 'TASK [' at line $s1 of the replay, n at $s2, N back at $back"

# Paging the replay: each PgDn fetches the next stored lines, to the end.
i=0
while [ "$i" -lt 20 ]; do
	tm send-keys -t p NPage
	i=$((i + 1))
done
wait_for 10 "of $nlines, Esc 2 2"
screen p | grep -qE "lines [0-9]+-$nlines of $nlines" ||
    fail "PgDn does not reach line $nlines"
screen p | sed -n '12,29p' | grep -qF -- "$(plain "$last")" ||
    fail "the last stored line '$last' is not shown"
tm send-keys -t p 2
wait_gone 10 "from the database"
ok "PgDn pages the replay to line $nlines; Esc 2 2 returns to live output"

# Searching the live output: the first line is above the view, so / says
# it is not found below and N goes back up to it.
tm send-keys -t p Escape
wait_line 10 30 "chiffon>"
tm send-keys -t p -l "F1 for help, C-q to quit"
wait_for 10 "chiffon> F1 for help, C-q to quit"
tm send-keys -t p Escape
tm send-keys -t p /
wait_for 10 "'F1 for help, C-q to quit' not found below the top line"
tm send-keys -t p N
wait_for 10 " lines 1-18 of "
line 12 | grep -qF "F1 for help, C-q to quit" ||
    fail "N did not bring the first line to the top"
tm send-keys -t p NPage NPage NPage
n=50
while line 11 | grep -qF "more below (PgDn)"; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "PgDn does not bring the log back to its end"
	sleep 0.1
done
ok "/ and N search the live output"

# Keyset pages: 100 more tasks; each PgDn shows the next rows in the
# order of the database (created_at, id newest first), PgUp goes back.
sql "INSERT INTO tasks (plan_id, step, action, service, playbook)
    SELECT plan_id, step + g, action, service, 'page-' || g || '.yml'
    FROM tasks, generate_series(1, 100) g WHERE id = $task" >/dev/null
sql "UPDATE tasks SET status = 'superseded' WHERE playbook LIKE 'page-%'" \
    >/dev/null
tm send-keys -t p 3
wait_for 10 "page 1, row 1 of 7, PgDn older"
ids() {
	screen p | sed -n '4,9p' | awk '{ print $1 }' | tr '\n' ' '
}
want=$(sql "SELECT string_agg(id::text, ' ' ORDER BY created_at DESC,
    id DESC) FROM (SELECT id, created_at FROM tasks ORDER BY created_at
    DESC, id DESC LIMIT 6) x")
[ "$(ids)" = "$want " ] || fail "page 1 shows '$(ids)', not '$want '"
tm send-keys -t p NPage
wait_for 10 "page 2, row 1 of 7"
want=$(sql "SELECT string_agg(id::text, ' ' ORDER BY created_at DESC,
    id DESC) FROM (SELECT id, created_at FROM tasks ORDER BY created_at
    DESC, id DESC OFFSET 7 LIMIT 6) x")
[ "$(ids)" = "$want " ] || fail "page 2 shows '$(ids)', not '$want '"
i=0
while [ "$i" -lt 14 ]; do
	tm send-keys -t p NPage
	i=$((i + 1))
done
wait_for 10 "page 15, row 1 of 3"
screen p | grep -qE "^ *$task  succeeded" ||
    fail "the last page does not end with task $task"
tm send-keys -t p PPage
wait_for 10 "page 14, row 1 of 7"
ok "History pages 101 tasks by keyset, 7 rows a page, in the database's order"

# A resize fetches the page again for the new height (80x24: 5 rows).
tm resize-window -t p -x 80 -y 24
wait_for 10 "page 14, row 1 of 5"
line 2 | grep -qF " 3 History " || fail "History's title moved on resize"
[ "$(line 24 | sed 's/ *$//')" = "command>" ] ||
    fail "the request line is not at the bottom after the resize"
tm resize-window -t p -x 100 -y 30
wait_for 10 "page 14, row 1 of 7"
ok "History follows a resize to 80x24 and back"

# Filters typed on the request line, Esc f: as chiffon audit has them.
# filter WORDS: type them, then Esc f (stays in command mode).
# A refused filter stays on the request line: C-c clears it first.
filter() {
	tm send-keys -t p Escape
	wait_for 10 "chiffon>"
	tm send-keys -t p C-c
	wait_line 10 30 "chiffon>"
	if [ -n "$1" ]; then
		tm send-keys -t p -l "$1"
		wait_for 10 "chiffon> $1"
	fi
	tm send-keys -t p Escape
	wait_for 10 "command>"
	tm send-keys -t p f
}
[ "$(sql "SELECT count(*) FROM tasks WHERE status = 'succeeded'")" = 1 ] ||
    fail "not one succeeded task"
filter "status=succeeded"
wait_for 10 "filter: status=succeeded, page 1, row 1 of 1,"
screen p | grep -qE "^ *$task  succeeded" || fail "the filter lost task $task"
filter "failures service=grafana"
wait_for 10 "no task matches the filter"
filter "bogus=1"
wait_for 10 "History filter: 'bogus=1' is not a filter word"
filter "status=finished"
wait_for 10 "History filter: status=finished: not a task state"
filter ""
wait_for 10 " page 1, row 1 of 7, PgDn older"
line 2 | grep -qF "filter: " && fail "the filter is still shown"
ok "Esc f filters History (status=, failures, service=), refuses bad words"

# Agents: the shell's worker, as the agents table has it.
tm send-keys -t p 4
wait_for 10 " 4 Agents "
worker=$(sql "SELECT name FROM agents ORDER BY last_heartbeat DESC LIMIT 1")
[ -n "$worker" ] || fail "no agent registered"
wait_for 10 "$worker"
screen p | grep -F "$worker" | grep -qF "(this shell)" ||
    fail "the shell's worker is not marked"
screen p | grep -F "$worker" | grep -qE " $(sql "SELECT status FROM agents
    WHERE name = '$worker'") " || fail "the agent's status is not shown"
ok "the Agents pane shows the shell's worker $worker"

# A step no agent can run: the Plan pane says why it waits, as
# tasks.status_reason has it.
tm send-keys -t p Escape
wait_line 10 30 "chiffon>"
tm send-keys -t p -l "deploy grafana"
tm send-keys -t p Enter
wait_for 30 "F5: approve and run"
sql "UPDATE tasks SET resources = '{\"gpu_mem_mb\": 99999999}'
    WHERE status = 'pending_approval'" >/dev/null
tm send-keys -t p F5
wait_for 60 "    paused: waiting for resources: "
ptask=$(sql "SELECT id FROM tasks WHERE status = 'paused'")
[ -n "$ptask" ] || fail "no paused task in the database"
reason=$(sql "SELECT status_reason FROM tasks WHERE id = $ptask")
case $reason in
"waiting for resources: "*) ;;
*) fail "task $ptask's reason is '$reason'" ;;
esac
screen p | sed -n '3,9p' | grep -qF -- "    paused: ${reason%"${reason#??????????????????????????????????????????????????????}"}" ||
    fail "the Plan pane does not show '$reason'"
ok "the Plan pane shows why step 1 is paused: $reason"

tm send-keys -t p C-q
wait_for 10 "quit and cancel it? y/N"
tm send-keys -t p y Enter
st=$(wait_dead 20)
[ "$st" = 1 ] || fail "exit status $st after quitting a paused plan"
[ "$(sql "SELECT status FROM tasks WHERE id = $ptask")" = canceled ] ||
    fail "the paused task was not canceled on quit"
ok "quitting cancels the paused plan"
