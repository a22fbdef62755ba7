# tui-lib.sh - what the tmux-driven tests of the shell share (sourced by
# tests/tui-screen.sh, tui-interrupt.sh, tui-panes.sh and tui-faults.sh):
# a private tmux server, a throwaway data directory with the embedded
# cluster (stopped at the end), screen reading and waiting helpers, sql,
# and starting a shell with a plan approved.

: "${CHIFFON_SRCDIR:?run through make check}"
: "${CHIFFON_BUILDDIR:?run through make check}"

bin=$CHIFFON_BUILDDIR/src/chiffon
repo=$CHIFFON_SRCDIR/contrib/homelab
TMUX_BIN=${TMUX_BIN:-tmux}
unset TMUX TMUX_PANE

if ! command -v "$TMUX_BIN" >/dev/null 2>&1; then
	echo "tmux is not installed: run contrib/install-deps" >&2
	exit 99		# a hard error, not a skip
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chiffon-tui.XXXXXX")
# As root the cluster's server runs as an unprivileged user: it must be
# able to reach the data directory.
chmod 755 "$tmp"
data=$tmp/data
conf=$tmp/chiffon.conf
: >"$conf"
sock=chiffon-tui-$$
cat >"$tmp/tmux.conf" <<'EOF'
set -g remain-on-exit on
set -g status off
set -g default-terminal screen
set -g history-limit 100
EOF

cleanup() {
	"$TMUX_BIN" -L "$sock" kill-server >/dev/null 2>&1 || :
	if [ -d "$data" ]; then
		"$bin" --config "$conf" --data-dir "$data" db stop \
		    >/dev/null 2>&1 || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

tm() {
	"$TMUX_BIN" -L "$sock" -f "$tmp/tmux.conf" "$@"
}

screen() {
	tm capture-pane -p -t "$1"
}

fail() {
	echo "FAIL: $*" >&2
	echo "---- screen of $target:" >&2
	screen "$target" >&2 || :
	echo "----" >&2
	exit 1
}

ok() {
	echo "ok - $*"
}

# wait_for SECONDS TEXT: until the screen shows TEXT (fixed string).
wait_for() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		if screen "$target" | grep -qF -- "$2"; then
			return 0
		fi
		if [ -s "$tmp/$target.status" ]; then
			fail "chiffon exited (status" \
			    "$(cat "$tmp/$target.status")) while waiting for '$2'"
		fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "timed out waiting for '$2'"
}

# wait_gone SECONDS TEXT: until the screen no longer shows TEXT.
wait_gone() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		if ! screen "$target" | grep -qF -- "$2"; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "'$2' is still on the screen"
}

# wait_match SECONDS N ERE: until line N matches the extended regular
# expression ERE (a bar drawn a frame after the pane that was waited on).
wait_match() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		if line "$2" | grep -qE -- "$3"; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "line $2 is '$(line "$2")', expected a match for '$3'"
}

# line N: line N (1-based) of the screen.
line() {
	screen "$target" | sed -n "$1p"
}

# wait_line SECONDS N TEXT: until line N is exactly TEXT (trailing blanks
# removed).
wait_line() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		if [ "$(line "$2" | sed 's/ *$//')" = "$3" ]; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "line $2 is '$(line "$2")', expected '$3'"
}

# start SESSION ARGS...: run ARGS in a new 120x40 session; its exit status
# is written to $tmp/SESSION.status (tmux's own pane_dead_status can be lost
# when a command exits at once).
start() {
	s=$1
	shift
	# shellcheck disable=SC2016
	tm new-session -d -x 120 -y 40 -s "$s" -- sh -c \
	    '"$@"; echo $? >"$0"' "$tmp/$s.status" "$@"
}

# start_size SESSION COLS ROWS ARGS...: the same at another size.
start_size() {
	s=$1
	x=$2
	y=$3
	shift 3
	# shellcheck disable=SC2016
	tm new-session -d -x "$x" -y "$y" -s "$s" -- sh -c \
	    '"$@"; echo $? >"$0"' "$tmp/$s.status" "$@"
}

# wait_dead SECONDS: until chiffon exited; prints its exit status.
wait_dead() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		if [ -s "$tmp/$target.status" ]; then
			cat "$tmp/$target.status"
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "chiffon did not exit"
}

plugin_path=
for d in "$CHIFFON_BUILDDIR"/plugins/*/.libs; do
	[ -d "$d" ] && plugin_path=$plugin_path${plugin_path:+:}$d
done

# The environment chiffon runs in: nothing from the user's own setup.
run_env="env LC_ALL=C.UTF-8 TERM=screen INPUTRC=/dev/null HOME=$tmp
    XDG_CONFIG_HOME=$tmp/config CHIFFON_PLUGIN_PATH=$plugin_path
    CHIFFON_DEMO_ROOT=$tmp/demo"
mkdir "$tmp/demo"

# sql QUERY: one value from chiffon's database (the embedded cluster).
sql() {
	psql "$("$bin" --config "$conf" --data-dir "$data" db url)" -XAtqc "$1"
}


# shell_pid SESSION: the chiffon process in the session's pane.
shell_pid() {
	pgrep -P "$(tm display -p -t "$1" '#{pane_pid}')"
}

# start_approved SESSION REQUEST: a shell in SESSION (on $repo) that
# planned REQUEST (one step) and approved it with F5; sets $plan, $task.
start_approved() {
	target=$1
	# shellcheck disable=SC2086
	start "$1" $run_env "$bin" --config "$conf" --data-dir "$data" \
	    --repo "$repo"
	wait_for 120 "db: embedded, connected"
	wait_line 10 40 "chiffon>"
	tm send-keys -t "$1" -l "$2"
	tm send-keys -t "$1" Enter
	wait_for 30 "F5: approve and run"
	plan=$(sql "SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1")
	# shellcheck disable=SC2034	# used by the tests that source this
	task=$(sql "SELECT t.id FROM tasks t JOIN plans p ON p.id = t.plan_id
	    WHERE p.plan_id = $plan")
	tm send-keys -t "$1" F5
	wait_for 20 "Plan $plan approved by"
}

# playbook_procs FILE: top ansible-playbook processes of playbook FILE
# running in $repo (not the forks of one, nor those of other tests).
playbook_procs() {
	pb_n=0
	for pb_p in $(pgrep -f "ansible-playbook.*$1" || :); do
		[ "$(readlink "/proc/$pb_p/cwd" 2>/dev/null || :)" = "$repo" ] ||
		    continue
		pb_pp=$(ps -o ppid= -p "$pb_p" 2>/dev/null | tr -d ' ') || continue
		[ -n "$pb_pp" ] || continue
		if ! ps -o args= -p "$pb_pp" 2>/dev/null |
		    grep -q "ansible-playbook.*$1"; then
			pb_n=$((pb_n + 1))
		fi
	done
	echo "$pb_n"
}

# On a 30-row screen (the request line is row 30): cmd enters command
# mode; typed TEXT leaves it, clears the request line and types TEXT.
cmd() {
	tm send-keys -t "$target" Escape
	n=100
	until line 30 | grep -q '^command>'; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "Esc does not enter command mode"
		sleep 0.1
	done
}
typed() {
	tm send-keys -t "$target" Escape
	sleep 0.2
	tm send-keys -t "$target" C-c
	wait_line 10 30 "chiffon>"
	tm send-keys -t "$target" -l "$1"
	wait_for 10 "chiffon> $1"
}

# title_for / title_gone SECONDS TEXT: wait_for / wait_gone on the Log
# pane's title row alone, row $logtitle (set by the test; the Plan
# pane's title counts its own lines).
title_for() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		line "$logtitle" | grep -qF -- "$2" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	fail "the Log pane's title never showed '$2': $(line "$logtitle")"
}
title_gone() {
	n=$(($1 * 10))
	while [ "$n" -gt 0 ]; do
		line "$logtitle" | grep -qF -- "$2" || return 0
		sleep 0.1
		n=$((n - 1))
	done
	fail "the Log pane's title still shows '$2': $(line "$logtitle")"
}
