#!/bin/sh
# tui-suggest.sh - the improvement suggestions on screen (tmux, 120x40):
# a playbook of this test, lintbad-deploy.yml, fails on purpose and has
# two real ansible-lint findings (no-changed-when and
# command-instead-of-shell on its shell task, line 7); after the failed
# run the summary block of the Log pane shows "suggestions for
# lintbad-deploy.yml (2):" and one line per finding with its category,
# rule, file:line, reason and fix, as the playbook_suggestions rows of
# the task have them.
set -eu

# shellcheck source=tests/tui-lib.sh
. "$CHIFFON_SRCDIR/tests/tui-lib.sh"

command -v ansible-lint >/dev/null 2>&1 ||
    { echo "ansible-lint is not installed: run contrib/install-deps" >&2; exit 99; }
cp -R "$CHIFFON_SRCDIR/contrib/homelab" "$tmp/repo"
chmod -R u+w "$tmp/repo"
repo=$tmp/repo
cat >"$repo/lintbad-deploy.yml" <<'YML'
# chiffon:description=Deploy lintbad, a service of the tests that fails
- name: Deploy lintbad
  hosts: docker1
  gather_facts: false
  tags: [lintbad]
  tasks:
    - name: Say hello
      ansible.builtin.shell: echo hello
    - name: Fail on purpose
      ansible.builtin.fail:
        msg: lintbad fails on purpose
YML

# log_text: the Log pane's rows (below its title) joined, so that a
# wrapped line reads whole.
log_text() {
	screen "$target" | awk '/^── 2 Log / { on = 1; next }
	    on && /^(chiffon|command)>/ { exit } on { printf "%s", $0 }'
}

target=s
# shellcheck disable=SC2086
start s $run_env "$bin" --config "$conf" --data-dir "$data" --repo "$repo"
wait_for 120 "db: embedded, connected"
wait_line 10 40 "chiffon>"
tm send-keys -t s -l "deploy lintbad"
tm send-keys -t s Enter
wait_for 30 "F5: approve and run"
tm send-keys -t s F5
wait_for 120 "1 of 1 step did not succeed."
task=$(sql "SELECT id FROM tasks WHERE playbook = 'lintbad-deploy.yml'
    ORDER BY id DESC LIMIT 1")
[ "$(sql "SELECT status FROM tasks WHERE id = $task")" = failed ] ||
    fail "task $task did not fail"
n=$(sql "SELECT count(*) FROM playbook_suggestions WHERE task_id = $task
    AND source = 'ansible-lint'")
[ "$n" = 2 ] || fail "task $task has $n ansible-lint suggestions, not 2"
wait_for 30 "suggestions for lintbad-deploy.yml (2):"
for rule in no-changed-when command-instead-of-shell; do
	row=$(sql "SELECT category || ' ' || rule || ' ' || file || ':' ||
	    line || ': ' || reason || '; fix: ' || fix FROM
	    playbook_suggestions WHERE task_id = $task AND rule = '$rule'")
	case $row in
	*" $rule lintbad-deploy.yml:7: "*"; fix: "?*) ;;
	*) fail "the $rule row is not at lintbad-deploy.yml:7 with a fix: $row" ;;
	esac
	log_text | grep -qF -- "$row" ||
	    fail "the summary lacks the suggestion '$row'"
done
ok "the summary shows task $task's 2 ansible-lint suggestions: rule, file:line, fix"
tm send-keys -t s C-q
st=$(wait_dead 20)
[ "$st" = 0 ] || fail "exit status $st"
