#!/bin/sh
# e2e.sh - what the admin waits for, end to end, against a reference
# measured in the same run (issue 15).  Run by `make bench` from the
# build tree.  Every figure: BENCH_PAIRS (default 5) pairs alternated,
# medians and spread, as a ratio to the reference, with the core count
# and load (bench-lib.sh).
#
#   run, one task:     `chiffon run --yes` of a one-task playbook against
#                      plain ansible-playbook of it on a pty (bench-pty);
#                      target: at most 150 ms more.
#   run, many lines:   the same for a playbook printing BENCH_LINES
#                      (default 100,000) lines; target: at most 1.03x.
#                      run_output must hold exactly the lines ansible
#                      printed in the same pair (else the bench fails).
#   shell:             F5 in the shell (tmux) to the step shown
#                      succeeded, against ansible-playbook in a tmux pane
#                      from its start to its exit; same targets.
#   plan:              the whole `chiffon plan` command against
#                      `psql -c 'select 1'` on the demo homelab
#                      (contrib/homelab) and on a generated repository of
#                      300 playbooks plus a site playbook of 150 tagged
#                      roles; BENCH_PLAN_PAIRS (default 15) pairs; target
#                      at most 5x.
#
# BENCH_ONLY (default "run shell plan") picks the parts.  The embedded
# cluster of a fixture data directory is started once before anything is
# measured: the figures are of the commands, not of initdb.
set -eu
top=$(pwd)
srcdir=${CHIFFON_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/bench/bench-lib.sh"

pairs=${BENCH_PAIRS:-5}
nlines=${BENCH_LINES:-100000}
plan_pairs=${BENCH_PLAN_PAIRS:-15}
only=" ${BENCH_ONLY:-run shell plan} "
chiffon=$top/src/chiffon
pty=$top/tests/bench/bench-pty
TMUX_BIN=${TMUX_BIN:-tmux}
unset TMUX TMUX_PANE CHIFFON_CONFIG CHIFFON_DB_URL
# Without its reference a ratio means nothing: stop before measuring.
for p in "$chiffon" "$pty"; do
	[ -x "$p" ] || { echo "e2e: $p is not built (make bench builds it)" >&2
		exit 1; }
done

tmp=$(mktemp -d /tmp/bench-e2e-XXXXXX)
chmod 755 "$tmp"	# the cluster's server may run as another user
sock=chiffon-bench-$$
cleanup() {
	"$TMUX_BIN" -L "$sock" kill-server >/dev/null 2>&1 || :
	"$chiffon" db stop >/dev/null 2>&1 || :
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

plugin_path=
for d in "$top"/plugins/*/.libs; do
	[ -d "$d" ] && plugin_path=$plugin_path${plugin_path:+:}$d
done
repo=$tmp/repo
export CHIFFON_DATA_DIR="$tmp/data" CHIFFON_REPO="$repo"
export CHIFFON_PLUGIN_PATH="$plugin_path" XDG_CONFIG_HOME="$tmp/config"
export CHIFFON_DEMO_ROOT="$tmp/demo"
mkdir -p "$tmp/config" "$tmp/demo" "$repo"

# -- the fixture: a repository of two playbooks, the cluster running ----------
cat > "$repo/ansible.cfg" <<'EOF'
[defaults]
inventory = inventory.ini
retry_files_enabled = False
interpreter_python = /usr/bin/python3
EOF
echo 'localhost ansible_connection=local' > "$repo/inventory.ini"
cat > "$repo/tiny-deploy.yml" <<'EOF'
- name: Tiny
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Hello
      ansible.builtin.debug:
        msg: hello
EOF
cat > "$repo/lines-deploy.yml" <<EOF
- name: Lines
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Count
      ansible.builtin.command: seq 1 $nlines
      register: count
      changed_when: false

    - name: Print
      ansible.builtin.debug:
        var: count.stdout_lines
EOF
"$chiffon" db start >/dev/null
url=$("$chiffon" db url)
sql() {
	psql "$url" -XAtqc "$1"
}
# First plans fill the catalog and inventory caches.
(cd "$repo" && "$chiffon" plan "deploy tiny" >/dev/null &&
    "$chiffon" plan "deploy lines" >/dev/null)

# -- run: chiffon run --yes against ansible-playbook on a pty -----------------

# time_cmd OUT FILE CMD...: run CMD in the repo, stdout to FILE; the
# milliseconds it took are appended to OUT.
time_cmd() {
	out=$1 file=$2
	shift 2
	t0=$(bench_ns)
	if ! (cd "$repo" && "$@" > "$file" 2>&1); then
		bench_fail "$* exited non-zero:"
		tail -20 "$file"
	fi
	t1=$(bench_ns)
	bench_ms $((t1 - t0)) >> "$out"
}

# The lines the newest run stored, in order.
stored_lines() {
	sql "SELECT line FROM run_output WHERE run_id = (SELECT max(id)
	    FROM runs) ORDER BY seq"
}

# run_pairs NAME PLAYBOOK REQUEST CHECK
run_pairs() {
	: > "$tmp/$1.chiffon"
	: > "$tmp/$1.plain"
	: > "$tmp/$1.stored"
	i=0
	while [ $i -lt "$pairs" ]; do
		if bench_first $i; then
			time_cmd "$tmp/$1.chiffon" "$tmp/c.out" \
			    "$chiffon" run --yes "$3"
			[ "$4" = 0 ] || stored_lines > "$tmp/stored.keep"
			time_cmd "$tmp/$1.plain" "$tmp/p.out" \
			    "$pty" ansible-playbook "$2"
		else
			time_cmd "$tmp/$1.plain" "$tmp/p.out" \
			    "$pty" ansible-playbook "$2"
			time_cmd "$tmp/$1.chiffon" "$tmp/c.out" \
			    "$chiffon" run --yes "$3"
			[ "$4" = 0 ] || stored_lines > "$tmp/stored.keep"
		fi
		if [ "$4" != 0 ]; then
			# The stored lines of this pair's chiffon run against
			# the plain run of the same pair.
			tr -d '\r' < "$tmp/p.out" > "$tmp/plain.lines"
			p=$(wc -l < "$tmp/plain.lines")
			s=$(wc -l < "$tmp/stored.keep")
			echo "$s/$p" >> "$tmp/$1.stored"
			if [ "$p" != "$s" ]; then
				bench_fail "pair $i: run_output holds $s lines," \
				    "ansible-playbook printed $p"
			elif ! cmp -s "$tmp/plain.lines" "$tmp/stored.keep"
			then
				bench_fail "pair $i: run_output's lines differ" \
				    "from what ansible-playbook printed"
				diff "$tmp/plain.lines" "$tmp/stored.keep" |
				    head -5
			fi
		fi
		i=$((i + 1))
	done
}

case $only in
*" run "*)
	run_pairs tiny tiny-deploy.yml "deploy tiny" 0
	bench_report "chiffon run --yes, one-task playbook" \
	    "chiffon run --yes" "$tmp/tiny.chiffon" \
	    "ansible-playbook (pty)" "$tmp/tiny.plain" overhead 150
	run_pairs lines lines-deploy.yml "deploy lines" 1
	bench_report "chiffon run --yes, $nlines-line playbook" \
	    "chiffon run --yes" "$tmp/lines.chiffon" \
	    "ansible-playbook (pty)" "$tmp/lines.plain" ratio 1.03
	echo "  run_output lines stored/printed per pair:" \
	    "$(tr '\n' ' ' < "$tmp/lines.stored")"
	;;
esac

# -- shell: F5 to the step succeeded, against ansible-playbook in tmux --------
cat > "$tmp/tmux.conf" <<'EOF'
set -g status off
set -g default-terminal screen
set -g history-limit 100
EOF
tm() {
	"$TMUX_BIN" -L "$sock" -f "$tmp/tmux.conf" "$@"
}

# A session that stays: the server must not exit (and race the next
# new-session) each time a measured session ends.
tm_keep() {
	tm has-session -t keep 2>/dev/null ||
	    tm new-session -d -s keep -- sleep 100000
}

# wait_screen SESSION SECONDS TEXT: until the screen shows TEXT; polled
# every 20 ms.  1 if it did not (or the screen shows [failed).
wait_screen() {
	n=$(($2 * 50))
	while [ "$n" -gt 0 ]; do
		s=$(tm capture-pane -p -t "$1" 2>/dev/null) || return 1
		case $s in
		*"$3"*) return 0 ;;
		*"[failed"*) return 1 ;;
		esac
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}

# shell_once OUT REQUEST LINES: F5 to succeeded in a fresh shell; LINES
# (or 0) the rows run_output must then hold.
shell_once() {
	tm_keep
	tm new-session -d -x 160 -y 50 -s shell -c "$repo" -- env \
	    LC_ALL=C.UTF-8 TERM=screen INPUTRC=/dev/null HOME="$tmp" \
	    XDG_CONFIG_HOME="$tmp/config" CHIFFON_DEMO_ROOT="$tmp/demo" \
	    CHIFFON_PLUGIN_PATH="$plugin_path" CHIFFON_DATA_DIR="$tmp/data" \
	    CHIFFON_REPO="$repo" "$chiffon"
	if ! wait_screen shell 60 "chiffon>"; then
		bench_fail "the shell did not start"
		tm capture-pane -p -t shell || :
		tm kill-session -t shell 2>/dev/null || :
		return 0
	fi
	tm send-keys -t shell -l "$2"
	tm send-keys -t shell Enter
	if ! wait_screen shell 60 "F5: approve and run"; then
		bench_fail "the shell did not show the plan of '$2'"
		tm capture-pane -p -t shell || :
		tm kill-session -t shell 2>/dev/null || :
		return 0
	fi
	t0=$(bench_ns)
	tm send-keys -t shell F5
	if ! wait_screen shell 600 "[succeeded"; then
		bench_fail "the shell's step did not succeed"
		tm capture-pane -p -t shell || :
	fi
	t1=$(bench_ns)
	bench_ms $((t1 - t0)) >> "$1"
	tm kill-session -t shell 2>/dev/null || :
	if [ "$3" != 0 ]; then
		s=$(sql "SELECT count(*) FROM run_output WHERE run_id =
		    (SELECT max(id) FROM runs)")
		[ "$s" = "$3" ] || bench_fail "the shell's run stored $s" \
		    "lines, ansible-playbook printed $3"
	fi
}

# plain_once OUT PLAYBOOK: ansible-playbook in a fresh tmux pane, from
# the start of the session to the playbook's exit.
plain_once() {
	rm -f "$tmp/plain.status"
	tm_keep
	t0=$(bench_ns)
	# shellcheck disable=SC2016
	tm new-session -d -x 160 -y 50 -s plain -c "$repo" -- sh -c \
	    'ansible-playbook "$1"; echo $? > "$0"' "$tmp/plain.status" "$2"
	n=30000
	while [ ! -s "$tmp/plain.status" ] && [ $n -gt 0 ]; do
		sleep 0.02
		n=$((n - 1))
	done
	t1=$(bench_ns)
	bench_ms $((t1 - t0)) >> "$1"
	[ "$(cat "$tmp/plain.status" 2>/dev/null)" = 0 ] ||
	    bench_fail "ansible-playbook $2 in tmux did not succeed"
	tm kill-session -t plain 2>/dev/null || :
}

# shell_pairs NAME PLAYBOOK REQUEST LINES
shell_pairs() {
	: > "$tmp/$1.shell"
	: > "$tmp/$1.tmux"
	i=0
	while [ $i -lt "$pairs" ]; do
		if bench_first $i; then
			shell_once "$tmp/$1.shell" "$3" "$4"
			plain_once "$tmp/$1.tmux" "$2"
		else
			plain_once "$tmp/$1.tmux" "$2"
			shell_once "$tmp/$1.shell" "$3" "$4"
		fi
		i=$((i + 1))
	done
}

# The lines a plain run prints (the shell's run must store as many).
printed_lines() {
	(cd "$repo" && "$pty" ansible-playbook lines-deploy.yml) |
	    wc -l | tr -d ' '
}

case $only in
*" shell "*) want_shell=1 ;;
*) want_shell=0 ;;
esac
if [ $want_shell = 0 ]; then
	:
elif command -v "$TMUX_BIN" >/dev/null 2>&1; then
	shell_pairs tiny tiny-deploy.yml "deploy tiny" 0
	bench_report "shell: F5 to step succeeded, one-task playbook" \
	    "chiffon shell (F5)" "$tmp/tiny.shell" \
	    "ansible-playbook (tmux)" "$tmp/tiny.tmux" overhead 150
	shell_pairs lines lines-deploy.yml "deploy lines" "$(printed_lines)"
	bench_report "shell: F5 to step succeeded, $nlines-line playbook" \
	    "chiffon shell (F5)" "$tmp/lines.shell" \
	    "ansible-playbook (tmux)" "$tmp/lines.tmux" ratio 1.03
	echo "  chiffon.log after the shell's $((2 * pairs)) runs:" \
	    "$(wc -c < "$tmp/data/chiffon.log" 2>/dev/null || echo 0) bytes"
else
	bench_fail "tmux is not installed (contrib/install-deps): no shell figures"
fi

# -- plan: the whole chiffon plan command against psql -c 'select 1' ----------

# A repository of one site playbook of 150 tagged roles and 300
# standalone playbooks.
big=$tmp/big
mkdir -p "$big/roles" "$big/playbooks"
printf '[all]\nbox ansible_connection=local\n' > "$big/hosts"
{
	echo "- name: Everything"
	echo "  hosts: all"
	echo "  roles:"
	i=0
	while [ $i -lt 150 ]; do
		n=$(printf 'app%03d' $i)
		mkdir -p "$big/roles/$n/tasks" "$big/roles/$n/defaults"
		printf '%s_enabled: false\n' "$n" > "$big/roles/$n/defaults/main.yml"
		printf -- '- name: Install %s\n  ansible.builtin.debug:\n    msg: x\n' \
		    "$n" > "$big/roles/$n/tasks/main.yml"
		printf '    - role: %s\n      tags: [%s]\n' "$n" "$n"
		i=$((i + 1))
	done
} > "$big/site.yml"
i=0
while [ $i -lt 300 ]; do
	printf -- '- name: Tool %d\n  hosts: all\n  tasks: []\n' $i \
	    > "$big/playbooks/$(printf 'tool%03d' $i)-install.yml"
	i=$((i + 1))
done

# plan_pairs NAME REPO REQUEST
plan_pairs() {
	: > "$tmp/$1.plan"
	: > "$tmp/$1.psql"
	CHIFFON_REPO=$2 "$chiffon" plan "$3" > "$tmp/plan.out" 2>&1 ||
	    { bench_fail "chiffon plan '$3' in $2:"; cat "$tmp/plan.out"; }
	i=0
	while [ $i -lt "$plan_pairs" ]; do
		if bench_first $i; then
			time_cmd "$tmp/$1.plan" "$tmp/plan.out" env \
			    CHIFFON_REPO="$2" "$chiffon" plan "$3"
			time_cmd "$tmp/$1.psql" "$tmp/psql.out" \
			    psql "$url" -XAtqc 'select 1'
		else
			time_cmd "$tmp/$1.psql" "$tmp/psql.out" \
			    psql "$url" -XAtqc 'select 1'
			time_cmd "$tmp/$1.plan" "$tmp/plan.out" env \
			    CHIFFON_REPO="$2" "$chiffon" plan "$3"
		fi
		i=$((i + 1))
	done
}

case $only in
*" plan "*) ;;
*) exit $bench_failed ;;
esac
plan_pairs homelab "$srcdir/contrib/homelab" "deploy uptime kuma"
bench_report "chiffon plan, demo homelab (contrib/homelab)" \
    "chiffon plan" "$tmp/homelab.plan" \
    "psql -c 'select 1'" "$tmp/homelab.psql" ratio 5
plan_pairs big "$big" "deploy app050"
bench_report "chiffon plan, 300 playbooks + site playbook of 150 roles" \
    "chiffon plan" "$tmp/big.plan" \
    "psql -c 'select 1'" "$tmp/big.psql" ratio 5

exit $bench_failed
