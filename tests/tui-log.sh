#!/bin/sh
# tui-log.sh - the Log pane on a real terminal (tmux, 100x30), after real
# ansible-playbook runs against contrib/homelab plus two playbooks of
# this test: flaky-deploy.yml (ok, changed, skipping and a fatal on nas,
# a 166-column line, 30 items after the fatal) and bulk-deploy.yml (a 100,000-item list: more than
# 100,000 lines, ten times what the pane keeps in memory).
#
# Asserted: Ansible's colours on TERM=xterm-256color (capture-pane -e),
# none with NO_COLOR=1; Esc E / Esc e jump to the fatal line (live and
# replayed from History); Esc h keeps the lines naming a host; long lines
# wrap, Esc w cuts them and Esc Right shifts; in the 100,000-line run
# Esc g reaches the run's first stored line (read back from run_output),
# / finds a line of it, j/k move one line, Esc G follows again; the
# run_output rows match runs.lines; Esc h docker1 reads its lines above
# the ring back from run_output; rows deleted from run_output show as
# marker lines, live and replayed.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

cp -R "$CHIFFON_SRCDIR/contrib/homelab" "$tmp/repo"
chmod -R u+w "$tmp/repo"
repo=$tmp/repo
cat >"$repo/flaky-deploy.yml" <<'YML'
# chiffon:description=Deploy flaky, a service of the tests that fails on nas
- name: Deploy flaky
  hosts: docker1,nas
  gather_facts: false
  tags: [flaky]
  tasks:
    - name: Hello
      ansible.builtin.debug:
        msg: "hello from {{ inventory_hostname }}"
    - name: Change
      ansible.builtin.debug:
        msg: "changed on {{ inventory_hostname }}"
      changed_when: true
      when: inventory_hostname == 'docker1'
    - name: Skip
      ansible.builtin.debug:
        msg: never
      when: false
    - name: Long
      ansible.builtin.debug:
        msg: "{{ 'W' * 150 }}END"
      when: inventory_hostname == 'docker1'
    - name: Break
      ansible.builtin.fail:
        msg: "nas breaks"
      when: inventory_hostname == 'nas'
    - name: After
      ansible.builtin.debug:
        msg: "still going on {{ inventory_hostname }}"
    - name: Tail
      ansible.builtin.debug:
        msg: "tail {{ item }}"
      loop: "{{ range(1, 31) | list }}"
YML
cat >"$repo/bulk-deploy.yml" <<'YML'
# chiffon:description=Deploy bulk, a service of the tests with a long log
- name: Deploy bulk
  hosts: docker1
  gather_facts: false
  tags: [bulk]
  tasks:
    - name: Print
      ansible.builtin.debug:
        msg: "{{ range(1, 100001) | list }}"
YML

esc=$(printf '\033')
# colour_of TEXT: the SGR colour codes on the screen line showing TEXT
# (capture-pane -e), one per line.
colours_of() {
	n=$(screen "$target" | grep -nF -- "$1" | head -1 | cut -d: -f1)
	# Text not shown, or a failed capture, must not read as "no colour".
	[ -n "$n" ] || { echo "'$1' is not on the screen"; return 0; }
	row=$(tm capture-pane -e -p -t "$target") ||
	    { echo "capture-pane failed"; return 0; }
	row=$(printf '%s\n' "$row" | sed -n "${n}p")
	# grep finding no colour is an answer, the empty one: the
	# pipeline's status is sort's.
	printf '%s\n' "$row" | grep -oE "$esc\\[[0-9;]*m" |
	    grep -oE '(^|;|\[)3[0-7]' | grep -oE '3[0-7]' | sort -u
}
# log_body: the log pane's rows (below its title row, above the request
# line), trailing blanks removed.
log_body() {
	screen "$target" | sed -n "$((logtitle + 1)),29p" | sed 's/ *$//'
}

target=L
# shellcheck disable=SC2086
start_size L 100 30 $run_env TERM=xterm-256color "$bin" --config "$conf" \
    --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 30 "chiffon>"
logtitle=$(screen L | grep -n " 2 Log " | cut -d: -f1)

[ -n "$logtitle" ] || fail "no Log title row"

tm send-keys -t L -l "deploy flaky"
tm send-keys -t L Enter
wait_for 30 "F5: approve and run"
tm send-keys -t L F5
wait_for 120 "1 of 1 step did not succeed."
ftask=$(sql "SELECT id FROM tasks WHERE playbook = 'flaky-deploy.yml'
    ORDER BY id DESC LIMIT 1")
frun=$(sql "SELECT id FROM runs WHERE task_id = $ftask ORDER BY id DESC
    LIMIT 1")
[ "$(sql "SELECT count(*) FROM run_output WHERE run_id = $frun AND
    strpos(line, 'fatal: [nas]') > 0")" = 1 ] ||
    fail "run $frun stored no fatal line for nas"
ok "flaky ran (task $ftask, run $frun) and failed on nas"

# Esc E: back to the fatal line, at the top of the log pane.
cmd
tm send-keys -t L E
title_for 10 "more below (PgDn)"
line $((logtitle + 1)) | grep -qF "fatal: [nas]: FAILED!" ||
    fail "Esc E did not bring the fatal line to the top"
[ "$(colours_of "fatal: [nas]")" = 31 ] ||
    fail "the fatal line is not red: '$(colours_of "fatal: [nas]")'"
tm send-keys -t L e
title_for 10 "more below (PgDn), no failed task below "
line $((logtitle + 1)) | grep -qF "fatal: [nas]: FAILED!" ||
    fail "Esc e moved the view although no failure is below"
ok "Esc E jumps to the fatal line, Esc e finds none after it"

# Colours as Ansible's: ok green, changed yellow, skipping cyan, recap.
tm send-keys -t L g
title_for 10 " lines 1-"
i=0
while ! screen L | grep -qF "changed: [docker1]"; do
	tm send-keys -t L j
	i=$((i + 1))
	[ "$i" -lt 40 ] || fail "j never showed the changed line"
	sleep 0.1
done
[ "$(colours_of "changed: [docker1]")" = 33 ] ||
    fail "changed is not yellow: '$(colours_of "changed: [docker1]")'"
[ "$(colours_of "ok: [docker1]")" = 32 ] ||
    fail "ok is not green: '$(colours_of "ok: [docker1]")'"
screen L | grep -qF "skipping: [" || tm send-keys -t L NPage
sleep 0.3
[ "$(colours_of "skipping: [")" = 36 ] ||
    fail "skipping is not cyan: '$(colours_of "skipping: [")'"
tm send-keys -t L G
title_gone 10 "more below (PgDn)"
[ "$(colours_of "nas                        : ok=")" = 31 ] ||
    fail "nas's recap row is not red: $(colours_of "nas                        : ok=")"
# The request line shows "command>" in command mode, else "chiffon>".
prompt="chiffon>"
screen L | grep -qF "command>" && prompt="command>"
[ "$(colours_of "$prompt")" = "" ] || fail "the request line is coloured: $(colours_of "$prompt")"
ok "TERM=xterm-256color: ok green, changed yellow, skipping cyan, fatal red"

# Long lines wrap; Esc w cuts them, Esc Right shifts by half the width.
typed "WEND"
cmd
tm send-keys -t L g /
title_for 10 "more below (PgDn)"
line $((logtitle + 1)) | grep -qF '"msg": "WWWW' ||
    fail "/ did not bring the long line to the top"
line $((logtitle + 2)) | grep -qF 'WWWEND"' ||
    fail "the long line does not wrap onto the next row"
tm send-keys -t L w
wait_for 10 ", cut (w: wrap)"
screen L | grep -qF 'END"' && fail "a cut line still shows its end"
tm send-keys -t L Right
wait_for 10 ", from column 51 (w: wrap)"
tm send-keys -t L Right
wait_for 10 ", from column 101 (w: wrap)"
line $((logtitle + 1)) | grep -qF 'WWWEND"' ||
    fail "Esc Right did not show the end of the long line"
tm send-keys -t L Left Left
wait_for 10 ", cut (w: wrap)"
tm send-keys -t L w
wait_gone 10 "(w: wrap)"
ok "long lines wrap; Esc w cuts them, Esc Right/Left shift"

# Esc h: only the lines naming nas.
typed "nas"
cmd
tm send-keys -t L h
title_for 10 " host nas: lines "
log_body | grep -v '^$' >"$tmp/hostlines"
[ -s "$tmp/hostlines" ] || fail "the host filter shows nothing"
grep -qF "docker1" "$tmp/hostlines" && fail "the filter shows docker1's lines"
grep -qF "fatal: [nas]" "$tmp/hostlines" ||
    fail "the filter lacks nas's fatal line"
# grep -v selecting nothing (status 1) is the expected answer; an error
# (status 2) fails the test.
rc=0
grep -vE '\[nas\]|^nas +: ok=' "$tmp/hostlines" >"$tmp/other1" || rc=$?
[ "$rc" -le 1 ] || fail "grep failed on the host filter's lines ($rc)"
rc=0
grep -vE '^[0-9]+ +ignored=[0-9]+$' "$tmp/other1" >"$tmp/other" || rc=$?
[ "$rc" -le 1 ] || fail "grep failed on the host filter's lines ($rc)"
[ ! -s "$tmp/other" ] || fail "lines not naming nas: $(cat "$tmp/other")"
typed "bad host"
cmd
tm send-keys -t L h
wait_for 10 "host filter: 'bad host' is not a host name"
tm send-keys -t L C-c
cmd
tm send-keys -t L h
wait_gone 10 " host nas: "
ok "Esc h keeps the lines naming nas; an empty line shows all again"

# A 100,000-line run: the ring keeps 10,000, the rest is paged.
tm send-keys -t L Escape
wait_line 10 30 "chiffon>"
tm send-keys -t L -l "deploy bulk"
tm send-keys -t L Enter
wait_for 30 "F5: approve and run"
tm send-keys -t L F5
wait_for 600 "All 1 step succeeded."
btask=$(sql "SELECT id FROM tasks WHERE playbook = 'bulk-deploy.yml'
    ORDER BY id DESC LIMIT 1")
brun=$(sql "SELECT id FROM runs WHERE task_id = $btask ORDER BY id DESC
    LIMIT 1")
blines=$(sql "SELECT count(*) FROM run_output WHERE run_id = $brun")
[ "$blines" -gt 100000 ] || fail "run $brun stored only $blines lines"
[ "$(sql "SELECT lines FROM runs WHERE id = $brun")" = "$blines" ] ||
    fail "runs.lines differs from the rows of run_output"
ok "bulk ran: run $brun stored $blines lines"

# Esc g: the session's dropped lines are a marker, then the run's first
# line, read back from run_output.
cmd
tm send-keys -t L g
title_for 10 " lines 1-"
line $((logtitle + 1)) | grep -qE "^-- [0-9]+ earlier lines of this session are no longer kept" ||
    fail "no marker line for the dropped lines"
first=$(sql "SELECT line FROM run_output WHERE run_id = $brun AND seq = 1" |
    sed "s/$esc\\[[0-9;]*[A-Za-z]//g" | cut -c1-40)
line $((logtitle + 2)) | grep -qF -- "$first" ||
    fail "Esc g does not show the run's first line '$first'"
total=$(line "$logtitle" | sed -n 's/.* of \([0-9]*\),.*/\1/p')
[ "$total" -gt 100000 ] || fail "the title counts $total lines, not the run's"
ok "Esc g reaches run $brun's first line (line 2 of $total, after a marker)"

# / finds a line of the run far above the ring (in run_output).
seq=$(sql "SELECT seq FROM run_output WHERE run_id = $brun AND
    strpos(line, ' 54321,') > 0")
[ -n "$seq" ] || fail "run $brun has no line 54321"
typed " 54321,"
cmd
tm send-keys -t L /
title_for 10 " lines $((seq + 1))-"
line $((logtitle + 1)) | grep -qF "54321," ||
    fail "/ did not bring line $seq to the top"
tm send-keys -t L j
title_for 10 " lines $((seq + 2))-"
line $((logtitle + 1)) | grep -qF "54322," || fail "j did not move one line"
tm send-keys -t L k k
title_for 10 " lines $seq-"
line $((logtitle + 2)) | grep -qF "54321," || fail "k did not move one line"
ok "/ finds line $seq ('54321,') in run_output; j and k move one line"

# Esc G follows again; N searches back up into run_output, and so does
# Esc ? with the request line's text; Home.
tm send-keys -t L G
title_gone 10 "more below (PgDn)"
tm send-keys -t L N
title_for 10 " lines $((seq + 1))-"
tm send-keys -t L G
title_gone 10 "more below (PgDn)"
typed " 54322,"
cmd
tm send-keys -t L "?"
title_for 10 " lines $((seq + 2))-"
line $((logtitle + 1)) | grep -qF "54322," || fail "Esc ? did not find 54322"
tm send-keys -t L Home
title_for 10 " lines 1-"
line $((logtitle + 2)) | grep -qF -- "$first" || fail "Home is not the first line"
tm send-keys -t L End
title_gone 10 "more below (PgDn)"
ok "Esc G and End follow, N and Esc ? find lines from the end, Home the top"

# Esc h over the lines above the ring: read back from run_output.
tm send-keys -t L Escape
typed "docker1"
cmd
tm send-keys -t L h
title_for 10 " host docker1: lines 1-"
tm send-keys -t L g
title_for 10 " host docker1: lines 1-"
line $((logtitle + 1)) | grep -qF "ok: [docker1] => {" ||
    fail "the host filter lacks the bulk run's first result (seq 4)"
tm send-keys -t L G
title_gone 10 "more below (PgDn)"
screen L | grep -qE "^docker1 +: ok=1 " ||
    fail "the host filter lacks docker1's recap row of the bulk run"
tm send-keys -t L C-c
cmd
tm send-keys -t L h
wait_gone 10 " host docker1: "
ok "Esc h docker1: its result read back from run_output and its recap row"

# Rows missing from run_output (lost): a marker line where they were.
# Lines are stored in chunks (schema 016): the chunk holding them is
# stored again without them.
sql "CREATE TEMP TABLE keep AS SELECT o.* FROM run_output o
    JOIN run_output_chunks c ON c.run_id = o.run_id AND c.seq <= 202 AND
    c.seq + c.n > 200 AND o.seq >= c.seq AND o.seq < c.seq + c.n
    WHERE o.run_id = $brun AND o.seq NOT BETWEEN 200 AND 202;
    DELETE FROM run_output_chunks WHERE run_id = $brun AND seq <= 202 AND
    seq + n > 200;
    SELECT chiffon_output_store('keep')" >/dev/null
before=$(sql "SELECT line FROM run_output WHERE run_id = $brun AND seq = 199" |
    sed "s/$esc\\[[0-9;]*[A-Za-z]//g; s/^ *//")
typed "$before"
cmd
tm send-keys -t L g /
title_for 10 " lines 200-"
wait_for 10 "-- line 200 of run $brun is not in the database"
screen L | grep -qF -- "-- line 202 of run $brun is not in the database" ||
    fail "no marker for line 202"
ok "lines 200-202 deleted from run_output show as markers"

tm send-keys -t L C-q
st=$(wait_dead 20)
[ "$st" = 0 ] || fail "exit status $st"

# NO_COLOR=1: no colour; the flaky task replayed from History.
target=M
# shellcheck disable=SC2086
start_size M 100 30 $run_env TERM=xterm-256color NO_COLOR=1 "$bin" \
    --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 30 "chiffon>"
cmd
tm send-keys -t M 3
wait_for 10 " 3 History "
tm send-keys -t M Down
sleep 0.3
tm send-keys -t M Enter
wait_for 10 "Task $ftask (step 1 of plan"
wait_for 10 "task $ftask, run $frun from the database"
tm send-keys -t M 2
sleep 0.3
tm send-keys -t M E e
wait_for 10 "fatal: [nas]: FAILED!"
line "$logtitle" | grep -q " 2 Log " || logtitle=$(screen M | grep -n " 2 Log " | cut -d: -f1)
[ "$(colours_of "fatal: [nas]")" = "" ] || fail "NO_COLOR=1: the fatal line is coloured"
if tm capture-pane -e -p -t M | grep -qE "$esc\\[([0-9]+;)*3[0-7](;[0-9]+)*m"; then
	fail "NO_COLOR=1: colours on the screen"
fi
ok "NO_COLOR=1: no colour on the screen; Esc e finds the replay's fatal line"

# The bulk run replayed: the missing lines are one marker line.
tm send-keys -t M 3
wait_for 10 " 3 History "
tm send-keys -t M Up
sleep 0.3
tm send-keys -t M Enter
wait_for 10 "Task $btask (step 1 of plan"
tm send-keys -t M 2
sleep 0.3
tm send-keys -t M Escape
typed "$before"
cmd
tm send-keys -t M /
wait_for 10 "task $btask, run $brun from the database: lines 199-"
wait_for 10 "-- lines 200-202 of run $brun are not in the database"
ok "the replay shows one marker for the lines missing from run_output"

tm send-keys -t M C-q
st=$(wait_dead 20)
[ "$st" = 0 ] || fail "exit status $st"
