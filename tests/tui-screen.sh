#!/bin/sh
# tui-screen.sh - the terminal shell on a real terminal: chiffon runs in a
# detached session of a private tmux server (120x40); keys are sent with
# send-keys and the screen is read back with capture-pane.
#
# chiffon runs with its embedded database in a throwaway data directory
# (the first start creates the cluster, as the README's quick start does)
# and the build tree's plugins; the cluster is stopped at the end.
set -eu

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
    XDG_CONFIG_HOME=$tmp/config CHIFFON_PLUGIN_PATH=$plugin_path"

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
line 1 | grep -qF "repo: $real_repo" || fail "status bar lacks the repo"
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

# Submitting shows the request in the plan pane and in the log.
tm send-keys -t main -l "deploy uptime kuma"
tm send-keys -t main Enter
wait_for 20 "Request: deploy uptime kuma"
wait_for 20 "request: deploy uptime kuma"
wait_line 10 40 "chiffon>"
line 1 | grep -qE "plugins: [1-9][0-9]* loaded" ||
    fail "the build tree's plugins did not load"
wait_for 30 "Matching playbook:"
screen main | sed -n '3,14p' | grep -qE "^  kuma-deploy.yml +service kuma" ||
    fail "the plan pane does not show kuma-deploy.yml as the match"
ok "submitted; the plan pane shows the matching playbook"

# A request the demo homelab has no playbook for: candidates, no match.
tm send-keys -t main -l "install wordpress blog"
tm send-keys -t main Enter
wait_for 20 "Request: install wordpress blog"
wait_for 20 "No playbook matches this request well enough."
wait_for 10 "Candidates:"
ok "a request without a playbook shows candidates, not a guess"

# F1 shows the help (generated from the key table); any key closes it.
tm send-keys -t main F1
wait_for 10 "chiffon keys"
screen main | grep -qE "F10, C-q +quit chiffon" || fail "help lacks quit"
screen main | grep -qE "PgUp +scroll the focused pane up" ||
    fail "help lacks PgUp"
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
i=1
while [ "$i" -le 40 ]; do
	tm send-keys -t main -l "r$i"
	tm send-keys -t main Enter
	i=$((i + 1))
done
wait_for 30 "request: r40"
tm send-keys -t main PPage
wait_for 10 "more below (PgDn)"
wait_gone 10 "request: r40"
tm send-keys -t main NPage
wait_for 10 "request: r40"
wait_gone 10 "more below (PgDn)"
# Tab moves the focus to the plan pane: PgUp no longer scrolls the log.
tm send-keys -t main Tab
tm send-keys -t main PPage
sleep 0.3
screen main | grep -qF "request: r40" || fail "PgUp scrolled the log after Tab"
tm send-keys -t main Tab
ok "PgUp/PgDn scroll the focused pane; Tab moves the focus"

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

# --- without a planner: the plan pane says so ---------------------------------
target=noplug
# shellcheck disable=SC2086
start noplug $run_env CHIFFON_PLUGINS_LOAD=no-such-plugin \
    "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 60 "db: embedded, connected"
line 1 | grep -qF "plugins: 0 loaded" || fail "plugins were loaded"
tm send-keys -t noplug -l "deploy uptime kuma"
tm send-keys -t noplug Enter
wait_for 20 "No planner yet"
screen noplug | grep -q "Matching playbook" && fail "a match without a planner"
tm send-keys -t noplug F10
st=$(wait_dead 10)
[ "$st" = 0 ] || fail "F10: exit status $st, expected 0"
ok "without a plugin for ansible.match: 'No planner yet'; F10 quits"

# --- a repository that does not exist: the matcher's failure is shown -------
target=norepo
# shellcheck disable=SC2086
start norepo $run_env "$bin" --config "$conf" --data-dir "$data" \
    --repo "$tmp/no-such-repo"
wait_for 60 "repo: $tmp/no-such-repo (not found)"
tm send-keys -t norepo -l "deploy uptime kuma"
tm send-keys -t norepo Enter
wait_for 20 "Matching failed (failed):"
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
