#!/bin/sh
# plan-cli.sh - issue 10's planning latency: the whole `chiffon plan`
# command (a new process: configuration, database connection, catalog
# refresh with the cache, inventory from its cache, parse, match, store)
# on a repository of one site playbook of 150 tagged roles and 300
# standalone playbooks, against `psql -c 'select 1'` on the same embedded
# server in the same run.  Target: at most 5x.  Run by `make bench` from
# the build tree.
set -e
rounds=${ROUNDS:-15}
top=$(pwd)
tmp=$(mktemp -d /tmp/bench-plan-cli-XXXXXX)
chmod 755 "$tmp"
trap '"$top/src/chiffon" db stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
export CHIFFON_DATA_DIR="$tmp/data" CHIFFON_REPO="$tmp/repo"
export CHIFFON_PLUGIN_PATH="$top/plugins/infra/.libs" XDG_CONFIG_HOME="$tmp"
unset CHIFFON_CONFIG CHIFFON_DB_URL
repo=$tmp/repo
mkdir -p "$repo/roles" "$repo/playbooks"
printf '[all]\nbox ansible_connection=local\n' > "$repo/hosts"
{
	echo "- name: Everything"
	echo "  hosts: all"
	echo "  roles:"
	i=0
	while [ $i -lt 150 ]; do
		n=$(printf 'app%03d' $i)
		mkdir -p "$repo/roles/$n/tasks" "$repo/roles/$n/defaults"
		printf '%s_enabled: false\n' "$n" > "$repo/roles/$n/defaults/main.yml"
		printf -- '- name: Install %s\n  ansible.builtin.debug:\n    msg: x\n' \
		    "$n" > "$repo/roles/$n/tasks/main.yml"
		printf '    - role: %s\n      tags: [%s]\n' "$n" "$n"
		i=$((i + 1))
	done
} > "$repo/site.yml"
i=0
while [ $i -lt 300 ]; do
	printf -- '- name: Tool %d\n  hosts: all\n  tasks: []\n' $i \
	    > "$repo/playbooks/$(printf 'tool%03d' $i)-install.yml"
	i=$((i + 1))
done
chiffon="$top/src/chiffon"
"$chiffon" db start >/dev/null
url=$("$chiffon" db url)
"$chiffon" plan "deploy app050" >/dev/null	# first: catalog, inventory
ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: > "$tmp/plan" ; : > "$tmp/psql"
i=0
while [ $i -lt "$rounds" ]; do
	t0=$(ns); "$chiffon" plan "deploy app$(printf '%03d' $((i % 150)))" \
	    >/dev/null; t1=$(ns)
	echo $(((t1 - t0) / 1000)) >> "$tmp/plan"
	t0=$(ns); psql "$url" -Atqc 'select 1' >/dev/null; t1=$(ns)
	echo $(((t1 - t0) / 1000)) >> "$tmp/psql"
	i=$((i + 1))
done
p=$(median < "$tmp/plan")
q=$(median < "$tmp/psql")
echo "chiffon plan on 1 site playbook x 150 roles + 300 playbooks ($rounds runs):"
echo "  chiffon plan (median):       $((p / 1000)) ms"
echo "  psql -c 'select 1' (median): $((q / 1000)) ms"
awk -v p="$p" -v q="$q" 'BEGIN { r = p / q; printf "  ratio plan / psql: %.1fx (target 5x: %s)\n", r, r <= 5 ? "met" : "MISSED" }'
