#!/bin/sh
# tui-loghost.sh - the Log pane's host filter (Esc h) pages the whole run
# from run_output (tmux, 100x30): a real run of many-deploy.yml prints
# 3,000 results for docker1 interleaved with 3,000 for nas; replayed
# from History, Esc h docker1 counts every line naming docker1 (more
# than 1,000, the old limit) in its title, g shows the first (item=1),
# PgDn pages through consecutive results, G the last (item=3000 and the
# recap row), and no line of nas is shown; Esc ? and Esc / find a
# result in the database; live, Esc h docker1 after
# the run shows the same count.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

cp -R "$CHIFFON_SRCDIR/contrib/homelab" "$tmp/repo"
chmod -R u+w "$tmp/repo"
repo=$tmp/repo
items=3000
cat >"$repo/many-deploy.yml" <<YML
# chiffon:description=Deploy many, a service of the tests with many results
- name: Deploy many
  hosts: docker1,nas
  gather_facts: false
  tags: [many]
  tasks:
    - name: Count
      ansible.builtin.set_fact:
        many_item: "{{ item }}"
      loop: "{{ range(1, $((items + 1))) | list }}"
YML

# log_body: the Log pane's rows below its title.
log_body() {
	screen "$target" | sed -n "$((logtitle + 1)),29p"
}

target=H
# shellcheck disable=SC2086
start_size H 100 30 $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 30 "chiffon>"
tm send-keys -t H -l "deploy many"
tm send-keys -t H Enter
wait_for 30 "F5: approve and run"
tm send-keys -t H F5
wait_for 300 "All 1 step succeeded."
task=$(sql "SELECT id FROM tasks WHERE playbook = 'many-deploy.yml'
    ORDER BY id DESC LIMIT 1")
run=$(sql "SELECT id FROM runs WHERE task_id = $task ORDER BY id DESC
    LIMIT 1")
# The lines naming docker1: its results, and its recap row.
want=$(sql "SELECT count(*) FROM run_output WHERE run_id = $run AND
    (strpos(line, '[docker1]') > 0 OR line ~ '^(\\x1b\\[[0-9;]*m)*docker1(\\x1b\\[[0-9;]*m)* +: .*ok=')")
nas=$(sql "SELECT count(*) FROM run_output WHERE run_id = $run AND
    strpos(line, '[nas]') > 0")
[ "$want" -gt 1000 ] && [ "$want" -eq $((items + 1)) ] ||
    fail "run $run has $want lines naming docker1, not $((items + 1))"
[ "$nas" -ge "$items" ] || fail "run $run has only $nas lines of nas"
ok "many ran (run $run): $want lines name docker1, $nas name nas"

# Replayed from History: all from the database.
cmd
tm send-keys -t H 3
wait_for 10 " 3 History "
tm send-keys -t H Enter
wait_for 10 "Task $task (step 1 of plan"
wait_for 10 "task $task, run $run from the database: lines 1-"
logtitle=$(screen H | grep -n "task $task, run $run from the database" |
    cut -d: -f1)
typed "docker1"
cmd
tm send-keys -t H h
title_for 20 " host docker1: lines "
title_for 5 " of $want"
log_body | grep -qF "[nas]" && fail "the host filter shows a line of nas"
tm send-keys -t H g
title_for 10 " host docker1: lines 1-"
line $((logtitle + 1)) | grep -qF "ok: [docker1] => (item=1)" ||
    fail "g does not show docker1's first result"
# PgDn: the next results in order, none skipped.
tm send-keys -t H PageDown
title_gone 10 " host docker1: lines 1-"
top=$(line $((logtitle + 1)) | sed -n 's/.*(item=\([0-9]*\)).*/\1/p')
[ -n "$top" ] && [ "$top" -gt 1 ] && [ "$top" -lt 40 ] ||
    fail "PgDn shows item '$top' at the top"
n=$top
log_body | sed -n 's/^ok: \[docker1\] => (item=\([0-9]*\)).*/\1/p' |
while read -r i; do
	[ "$i" = "$n" ] || { echo "item $i where $n belongs"; exit 1; }
	n=$((n + 1))
done || fail "PgDn skipped or repeated a result"
log_body | grep -qF "[nas]" && fail "a page shows a line of nas"
tm send-keys -t H G
title_gone 10 "more below"
title_for 5 "-$want of $want"
log_body | grep -qF "ok: [docker1] => (item=$items)" ||
    fail "G does not show docker1's last result"
log_body | grep -qE "^docker1 +: ok=" || fail "G does not show docker1's recap"
ok "Esc h docker1 on the replay: $want lines, g the first, PgDn in order, G the last"

# Searching the filtered replay (in run_output): Esc ? back from the end,
# Esc / forward; a line of nas is not found.
typed "(item=2500)"
cmd
tm send-keys -t H "?"
title_for 10 " host docker1: lines 2500-"
line $((logtitle + 1)) | grep -qF "ok: [docker1] => (item=2500)" ||
    fail "Esc ? does not bring item 2500 to the top"
tm send-keys -t H g
title_for 10 " host docker1: lines 1-"
typed "(item=2900)"
cmd
tm send-keys -t H /
title_for 10 " host docker1: lines 2900-"
typed "ok: [nas]"
cmd
tm send-keys -t H /
title_for 10 "'ok: [nas]' not found below"
# The view stays (the note cuts the title's start).
title_for 5 " 2899 more above (PgUp), 84 more below"
ok "Esc ? and Esc / find docker1's items 2500 and 2900 in the filtered replay"

# Back to the live output, the same filter.  Esc h on an empty line
# first (C-c empties it, once out of command mode).
tm send-keys -t H Escape
sleep 0.2
tm send-keys -t H C-c
wait_line 10 30 "chiffon>"
cmd
tm send-keys -t H h
title_for 10 "task $task, run $run from the database"
cmd
tm send-keys -t H 2
sleep 0.3
logtitle=$(screen H | grep -n " 2 Log " | cut -d: -f1)
typed "docker1"
cmd
tm send-keys -t H h
title_for 20 " host docker1: "
title_for 5 " of $want"
tm send-keys -t H g
title_for 10 " host docker1: lines 1-"
line $((logtitle + 1)) | grep -qF "ok: [docker1] => (item=1)" ||
    fail "g does not show docker1's first result live"
ok "Esc h docker1 live: $want lines, g the first"

tm send-keys -t H C-q
st=$(wait_dead 20)
[ "$st" = 0 ] || fail "exit status $st"
