#!/bin/sh
# tui-catalog.sh - when the shell reads the repository's catalog (tmux,
# 120x40).  ansible-inventory is a wrapper of this test that notes each
# run in a file and takes 8 s before running the real one, so that the
# catalog refresh is slow and seen:
# - a shell nobody types into runs no ansible-inventory (it holds nothing
#   of the repository: issue 12's idle memory);
# - the first key starts the refresh;
# - a request sent at once waits for the catalog on the loop: the Plan
#   pane says so, C-c cancels it, F1 opens the help meanwhile (the key
#   answers), the plan then comes with its real targets, and the request
#   is stored once;
# - a refresh that fails while a request waits: the request is planned
#   with the hosts read from the inventory file, and says what failed.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

real_pb=$(command -v ansible-playbook) ||
    { echo "ansible-playbook is not installed: run contrib/install-deps" >&2; exit 99; }
real_inv=$(command -v ansible-inventory) ||
    { echo "ansible-inventory is not installed: run contrib/install-deps" >&2; exit 99; }
mkdir "$tmp/bin"
ln -s "$real_pb" "$tmp/bin/ansible-playbook"
cat >"$tmp/bin/ansible-inventory" <<EOF
#!/bin/sh
echo ran >>"$tmp/inventory.runs"
if [ -f "$tmp/inventory.fail" ]; then
	sleep 3
	echo "inventory.ini: the vault password file is missing" >&2
	exit 4
fi
sleep 8
exec "$real_inv" "\$@"
EOF
chmod 755 "$tmp/bin/ansible-inventory"
runs() { if [ -f "$tmp/inventory.runs" ]; then wc -l <"$tmp/inventory.runs"; else echo 0; fi; }

target=s
# shellcheck disable=SC2086
start s $run_env CHIFFON_ANSIBLE_PLAYBOOK="$tmp/bin/ansible-playbook" \
    "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 40 "chiffon>"
sleep 2
[ "$(runs)" = 0 ] ||
    fail "the idle shell ran ansible-inventory $(runs) times before a key"
ok "an idle shell reads no catalog (ansible-inventory not run in 2 s)"

# The request and Enter in one write: the refresh starts with the first
# key and is 8 s long; the request waits for it.  C-c cancels the waiting
# request (nothing was planned or stored); the next one waits for the same
# refresh.
tm send-keys -t s "deploy nothing" Enter
wait_for 5 "Reading the repository's catalog..."
tm send-keys -t s C-c
wait_for 5 "canceled (C-c) before its plan came: nothing was planned"
wait_for 5 "request canceled: deploy nothing"
[ "$(sql "SELECT count(*) FROM requests")" = 0 ] ||
    fail "a request canceled before the catalog came was stored"
ok "C-c cancels a request waiting for the catalog; nothing is stored"

tm send-keys -t s "deploy grafana" Enter
wait_for 5 "Reading the repository's catalog..."
[ "$(runs)" = 1 ] || fail "ansible-inventory ran $(runs) times, expected once"
tm send-keys -t s F1
wait_for 2 "chiffon keys"
[ "$(sql "SELECT count(*) FROM plans")" = 0 ] ||
    fail "the plan came before F1 was tried (cannot tell the key answered)"
tm send-keys -t s x
wait_gone 5 "chiffon keys"
ok "a request sent with the first key waits for the catalog; F1 answers meanwhile"

wait_for 60 "F5: approve and run"
screen s | grep -qE "^ 1\. deploy grafana .*targets: docker1" ||
    fail "the plan's step does not target docker1"
[ "$(runs)" = 1 ] || fail "ansible-inventory ran $(runs) times, expected once"
[ "$(sql "SELECT count(*) FROM requests WHERE text = 'deploy grafana'")" = 1 ] ||
    fail "the request is not stored exactly once"
ok "then the plan comes with its real targets; one catalog read, one request row"

# A refresh that fails while a request waits: the request is planned all
# the same and says what failed.  A copy of the repository, so that no
# cached inventory of it exists.
tm send-keys -t s C-q
wait_gone 10 "chiffon>"
cp -R "$repo" "$tmp/repo2"
: >"$tmp/inventory.fail"
before=$(runs)
# shellcheck disable=SC2086
start s2 $run_env CHIFFON_ANSIBLE_PLAYBOOK="$tmp/bin/ansible-playbook" \
    "$bin" --config "$conf" --data-dir "$data" --repo "$tmp/repo2"
target=s2
wait_line 10 40 "chiffon>"
tm send-keys -t s2 "deploy grafana" Enter
wait_for 5 "Reading the repository's catalog..."
wait_for 60 "F5: approve and run"
screen s2 | grep -qE "^ 1\. deploy grafana .*targets: docker1" ||
    fail "the plan's step does not target docker1 (read from the file)"
# Wrapped lines joined: the note names the failure and ansible-inventory's
# message, which ends the note (its newline does not).
screen s2 | tr -d '\n' | grep -qF "ansible-inventory --list failed (exit 4): inventory.ini: the vault password file is missing)" ||
    fail "the plan does not say the catalog refresh failed and why"
screen s2 | grep -qx ")" &&
    fail "ansible-inventory's last newline breaks the note's line"
[ "$(runs)" -gt "$before" ] || fail "no catalog refresh was tried"
[ "$(sql "SELECT count(*) FROM requests WHERE text = 'deploy grafana'")" = 2 ] ||
    fail "the second shell's request is not stored exactly once"
ok "a failed catalog refresh: the waiting request is planned and says what failed"
