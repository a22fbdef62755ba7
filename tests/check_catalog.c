/*
 * check_catalog.c - the catalog core of the infra plugin: SHA-256
 * vectors, parsing the demo homelab and the fixture repository with
 * libyaml (services, aliases, descriptions, hosts, tags, vars, roles,
 * task names), YAML errors with file:line:column, the incremental
 * refresh on a repository written by the test, and the inventory from a
 * real `ansible-inventory --list`.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "inventory.h"
#include "sha256.h"
#include "testutil.h"
#include "util.h"

/* Run argv in cwd (NULL: here) and wait; the exit status or -1. */
static int
check_catalog_run(char *const argv[], const char *cwd)
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == 0) {
		setpgid(0, 0);
		if (cwd != NULL && chdir(cwd) != 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static char *
check_catalog_src(const char *rel)
{
	const char	*src = getenv("CHIFFON_SRCDIR");

	return path_join(src != NULL ? src : ".", rel);
}

/* Scan a repository under the source tree; caller frees. */
static struct catalog *
check_catalog_scan_src(const char *rel)
{
	struct catalog	*cat;
	char		*repo = check_catalog_src(rel), *err = NULL;

	if (catalog_scan(repo, NULL, &cat, &err) != 0)
		ck_abort_msg("scan %s: %s", repo, err);
	free(repo);
	return cat;
}

static struct playbook *
check_catalog_get(struct catalog *cat, const char *path)
{
	struct playbook	*pb = catalog_find(cat, path);

	ck_assert_msg(pb != NULL, "%s not in the catalog", path);
	return pb;
}

/* The value of key in the playbook's vars, as JSON text. */
static char *
check_catalog_var(const struct playbook *pb, const char *key)
{
	json_object	*o = json_tokener_parse(pb->vars_json), *v;
	char		*s = NULL;

	ck_assert_ptr_nonnull(o);
	if (json_object_object_get_ex(o, key, &v))
		s = xstrdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/*
 * SHA-256 itself is Nettle's; this checks the wrapper's hex (against
 * known digests) and its file reading.
 */
START_TEST(test_sha256)
{
	char	hex[SHA256_HEX_LEN + 1], fhex[SHA256_HEX_LEN + 1];
	char	 tmpl[] = "/tmp/chiffon-sha-XXXXXX", *dir, *path;
	FILE	*f;

	ck_assert_ptr_nonnull(dir = mkdtemp(tmpl));
	path = path_join(dir, "f");

	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, fhex);	/* two blocks: the padding does not fit the first */
	ck_assert_str_eq(fhex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("abc", f);
	fclose(f);
	ck_assert_int_eq(sha256_file(path, fhex), 0);
	ck_assert_str_eq(fhex, hex);
	ck_assert_int_eq(sha256_file(dir, fhex), -1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
}
END_TEST

START_TEST(test_service_name)
{
	const char	*action;
	char		*s;

	s = catalog_service_name("kuma-deploy.yml", &action);
	ck_assert_str_eq(s, "kuma");
	ck_assert_str_eq(action, "deploy");
	free(s);
	s = catalog_service_name("sub/dir/nginx-proxy-manager-install.yaml",
	    &action);
	ck_assert_str_eq(s, "nginx-proxy-manager");
	ck_assert_str_eq(action, "deploy");
	free(s);
	s = catalog_service_name("kuma_monitors.yml", &action);
	ck_assert_str_eq(s, "kuma");
	ck_assert_str_eq(action, "configure");
	free(s);
	s = catalog_service_name("site.yml", &action);
	ck_assert_str_eq(s, "site");
	ck_assert_ptr_null(action);
	free(s);
	s = catalog_service_name("deploy.yml", &action);
	ck_assert_str_eq(s, "deploy");
	ck_assert_str_eq(action, "deploy");	/* an action of its own */
	free(s);
	s = catalog_service_name("grafana-backup.yml", &action);
	ck_assert_str_eq(s, "grafana");
	ck_assert_str_eq(action, "backup");
	free(s);
}
END_TEST

START_TEST(test_homelab)
{
	struct catalog	*cat = check_catalog_scan_src("contrib/homelab");
	struct playbook	*pb;
	char		*v;
	size_t		 i;

	ck_assert_uint_ge(cat->nplaybooks, 12);
	ck_assert_uint_le(cat->nplaybooks, 20);
	ck_assert_uint_eq(cat->nskipped, 0);
	ck_assert_uint_eq(cat->stats.parsed, cat->nplaybooks);
	ck_assert_str_eq(cat->inventory, "inventory/demo.yml");
	for (i = 0; i < cat->nplaybooks; i++) {
		pb = cat->playbooks[i];
		ck_assert_msg(pb->description != NULL, "%s has no "
		    "chiffon:description", pb->path);
		ck_assert_uint_eq(strlen(pb->sha256), SHA256_HEX_LEN);
		ck_assert_int_gt(pb->mtime_us, 0);
		ck_assert_int_eq(pb->state, CATALOG_PARSED);
		ck_assert_ptr_null(strstr(pb->path, "roles/"));
		if (i > 0)
			ck_assert_str_lt(cat->playbooks[i - 1]->path,
			    pb->path);
	}

	pb = check_catalog_get(cat, "kuma-deploy.yml");
	ck_assert_str_eq(pb->service, "kuma");
	ck_assert_str_eq(pb->action, "deploy");
	ck_assert_str_eq(pb->description, "Deploy Uptime Kuma, the "
	    "self-hosted status monitor, with docker compose");
	ck_assert_uint_eq(pb->aliases.n, 3);
	ck_assert_str_eq(pb->aliases.v[0], "uptime-kuma");
	ck_assert_str_eq(pb->aliases.v[1], "uptime kuma");
	ck_assert_str_eq(pb->aliases.v[2], "kuma uptime");
	ck_assert_str_eq(pb->hosts, "monitoring");
	ck_assert(catalog_list_has(&pb->tags, "kuma"));
	ck_assert(catalog_list_has(&pb->tags, "monitoring"));
	ck_assert_uint_eq(pb->roles.n, 1);
	ck_assert_str_eq(pb->roles.v[0], "compose_app");
	/* Task names come from the role's tasks/main.yml. */
	ck_assert(catalog_list_has(&pb->tasks, "Write the docker compose "
	    "file"));
	ck_assert(catalog_list_has(&pb->tasks, "Check whether a container "
	    "engine is usable"));
	/* Play vars: names only, never values (they may be secrets). */
	v = check_catalog_var(pb, "app_name");
	ck_assert_str_eq(v, "null");
	free(v);
	v = check_catalog_var(pb, "app_ports");
	ck_assert_str_eq(v, "null");
	free(v);
	ck_assert(catalog_list_has(&pb->variables, "app_ports"));

	pb = check_catalog_get(cat, "kuma-monitors.yml");
	ck_assert_str_eq(pb->service, "kuma");
	ck_assert_str_eq(pb->action, "configure");
	ck_assert(catalog_list_has(&pb->tags, "portals"));
	ck_assert(catalog_list_has(&pb->tasks, "Write the desired monitor "
	    "list for every portal"));
	v = check_catalog_var(pb, "kuma_interval");
	ck_assert_str_eq(v, "null");
	free(v);

	pb = check_catalog_get(cat, "unraid-shares.yml");
	ck_assert_str_eq(pb->service, "unraid-shares");
	ck_assert_str_eq(pb->hosts, "unraid");
	ck_assert_uint_eq(pb->tasks.n, 3);
	ck_assert_str_eq(pb->tasks.v[0], "Create the share directories");

	pb = check_catalog_get(cat, "site.yml");
	ck_assert_str_eq(pb->service, "site");
	ck_assert_ptr_null(pb->hosts);
	ck_assert_str_eq(pb->vars_json, "{}");

	for (i = 0; i < cat->nroles; i++)
		ck_assert_ptr_nonnull(cat->roles[i].tasks_file);
	ck_assert_uint_eq(cat->nroles, 4);
	ck_assert_str_eq(cat->roles[0].name, "app_backup");
	catalog_free(cat);
}
END_TEST

START_TEST(test_fixtures)
{
	struct catalog	*cat = check_catalog_scan_src("tests/catalog");
	struct playbook	*pb;
	char		*v;
	size_t		 i;

	ck_assert_uint_eq(cat->nplaybooks, 13);
	/* The YAML error names file:line:column and the file is skipped. */
	ck_assert_uint_eq(cat->nskipped, 1);
	ck_assert_str_eq(cat->skipped[0].path, "broken.yml");
	ck_assert_msg(strncmp(cat->skipped[0].reason, "broken.yml:5:13: YAML "
	    "error", 22) == 0, "reason: %s", cat->skipped[0].reason);
	ck_assert_ptr_nonnull(strstr(cat->skipped[0].reason, "quoted "
	    "scalar"));
	ck_assert_ptr_null(catalog_find(cat, "broken.yml"));
	/* Task lists and variable files are not playbooks. */
	ck_assert_ptr_null(catalog_find(cat, "common-handlers.yml"));
	ck_assert_ptr_null(catalog_find(cat, "tasks/common.yml"));
	ck_assert_ptr_null(catalog_find(cat, "hosts.yml"));
	ck_assert_uint_eq(cat->stats.other, 2);	/* hosts.yml, handlers */
	for (i = 0; i < cat->nplaybooks; i++)
		ck_assert_ptr_null(strstr(cat->playbooks[i]->path, "roles/"));

	pb = check_catalog_get(cat, "nginx-proxy-manager-deploy.yml");
	ck_assert_str_eq(pb->service, "nginx-proxy-manager");
	ck_assert_uint_eq(pb->roles.n, 2);
	ck_assert_str_eq(pb->roles.v[0], "nginx");
	ck_assert_str_eq(pb->roles.v[1], "wireguard");
	/* "proxy, web" as a string, and the role's own tags. */
	ck_assert_uint_eq(pb->tags.n, 3);
	ck_assert_str_eq(pb->tags.v[0], "proxy");
	ck_assert_str_eq(pb->tags.v[1], "web");
	ck_assert_str_eq(pb->tags.v[2], "vpn");
	/* Blocks and rescue sections of the role's tasks. */
	ck_assert(catalog_list_has(&pb->tasks, "Write the proxy host "
	    "definitions"));
	ck_assert(catalog_list_has(&pb->tasks, "Report a broken proxy "
	    "configuration"));
	ck_assert(catalog_list_has(&pb->tasks, "Generate the WireGuard keys"));
	v = check_catalog_var(pb, "npm_port");
	ck_assert_str_eq(v, "null");
	free(v);
	v = check_catalog_var(pb, "npm_enabled");
	ck_assert_str_eq(v, "true");
	free(v);

	pb = check_catalog_get(cat, "wireguard-setup.yml");
	ck_assert_uint_eq(pb->roles.n, 1);	/* include_role */
	ck_assert(catalog_list_has(&pb->tasks, "Write the wg0 interface "
	    "configuration"));

	pb = check_catalog_get(cat, "playbooks/system-upgrade.yml");
	ck_assert_str_eq(pb->service, "system");
	ck_assert_str_eq(pb->action, "update");
	ck_assert_str_eq(pb->hosts, "debian, proxmox, pbs");
	ck_assert_uint_eq(pb->tasks.n, 2);

	pb = check_catalog_get(cat, "playbooks/certs-renew.yml");
	ck_assert_str_eq(pb->service, "certificates");
	ck_assert_uint_eq(pb->aliases.n, 3);

	pb = check_catalog_get(cat, "home-assistant-install.yml");
	ck_assert(catalog_list_has(&pb->tags, "config"));	/* task tag */

	check_catalog_get(cat, "syncthing-install.yaml");
	catalog_free(cat);
}
END_TEST

/* Write a file under dir (mkdir -p its directory). */
static void
check_catalog_write(const char *dir, const char *rel, const char *text)
{
	char	*path = path_join(dir, rel), *slash;
	FILE	*f;

	slash = strrchr(path, '/');
	*slash = '\0';
	ck_assert_int_eq(mkdir_p(path, 0755), 0);
	*slash = '/';
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Set a file's mtime to sec seconds after the epoch. */
static void
check_catalog_mtime(const char *dir, const char *rel, time_t sec)
{
	struct timespec	ts[2] = { { sec, 0 }, { sec, 0 } };
	char		*path = path_join(dir, rel);

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	free(path);
}

/* Scan dir with the previous catalog as cache; frees the cache. */
static struct catalog *
check_catalog_rescan(const char *dir, struct catalog *cache)
{
	struct catalog	*cat;
	char		*err = NULL;

	if (catalog_scan(dir, cache, &cat, &err) != 0)
		ck_abort_msg("scan %s: %s", dir, err);
	catalog_free(cache);
	return cat;
}

START_TEST(test_incremental)
{
	char		 tmpl[] = "/tmp/check-catalog-XXXXXX", *dir, *path;
	struct catalog	*cat;
	struct playbook	*pb, *same;
	char		 hash[SHA256_HEX_LEN + 1];
	int		 i;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	check_catalog_write(dir, "roles/web/tasks/main.yml",
	    "- name: Install the web server\n  ansible.builtin.debug:\n");
	for (i = 0; i < 5; i++) {
		char *rel = xasprintf("app%d-deploy.yml", i);
		char *text = xasprintf("# chiffon:description=App %d\n"
		    "- hosts: all\n  roles: [web]\n  tasks:\n"
		    "    - name: Task of app %d\n      ansible.builtin.debug:\n",
		    i, i);

		check_catalog_write(dir, rel, text);
		check_catalog_mtime(dir, rel, 1700000000 + i);
		free(rel);
		free(text);
	}
	check_catalog_mtime(dir, "roles/web/tasks/main.yml", 1600000000);

	cat = check_catalog_rescan(dir, NULL);
	ck_assert_uint_eq(cat->nplaybooks, 5);
	ck_assert_uint_eq(cat->stats.parsed, 5);
	pb = check_catalog_get(cat, "app0-deploy.yml");
	ck_assert(catalog_list_has(&pb->tasks, "Install the web server"));
	path = path_join(dir, "app0-deploy.yml");
	{
		size_t	 len;
		char	*text = read_file(path, &len);

		sha256_hex(text, len, hash);
		free(text);
		free(path);
	}
	ck_assert_str_eq(pb->sha256, hash);

	/* Nothing changed: nothing parsed, the entries are the cache's. */
	same = pb;
	cat = check_catalog_rescan(dir, cat);
	ck_assert_uint_eq(cat->nplaybooks, 5);
	ck_assert_uint_eq(cat->stats.parsed, 0);
	ck_assert_uint_eq(cat->stats.touched, 0);
	ck_assert_uint_eq(cat->stats.unchanged, 5);
	ck_assert_ptr_eq(check_catalog_get(cat, "app0-deploy.yml"), same);

	/* Touched, same content: re-stamped, not parsed. */
	check_catalog_mtime(dir, "app1-deploy.yml", 1750000000);
	cat = check_catalog_rescan(dir, cat);
	ck_assert_uint_eq(cat->stats.parsed, 0);
	ck_assert_uint_eq(cat->stats.touched, 1);
	pb = check_catalog_get(cat, "app1-deploy.yml");
	ck_assert_int_eq(pb->state, CATALOG_TOUCHED);
	ck_assert_int_eq(pb->mtime_us, (int64_t)1750000000 * 1000000);

	/* Changed content: only that file is parsed. */
	check_catalog_write(dir, "app2-deploy.yml", "# chiffon:aliases=two\n"
	    "- hosts: web\n  tasks:\n    - name: New task\n"
	    "      ansible.builtin.debug:\n");
	cat = check_catalog_rescan(dir, cat);
	ck_assert_uint_eq(cat->stats.parsed, 1);
	ck_assert_uint_eq(cat->stats.unchanged, 4);
	pb = check_catalog_get(cat, "app2-deploy.yml");
	ck_assert_int_eq(pb->state, CATALOG_PARSED);
	ck_assert_str_eq(pb->hosts, "web");
	ck_assert_str_eq(pb->aliases.v[0], "two");
	ck_assert_ptr_null(pb->description);

	/* A YAML error: skipped with its place, and gone from the list. */
	check_catalog_write(dir, "app3-deploy.yml", "- hosts: all\n"
	    "  tasks: [\n");
	/* Removed: listed as removed. */
	path = path_join(dir, "app4-deploy.yml");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	cat = check_catalog_rescan(dir, cat);
	ck_assert_uint_eq(cat->nplaybooks, 3);
	ck_assert_uint_eq(cat->stats.parsed, 0);
	ck_assert_uint_eq(cat->nskipped, 1);
	ck_assert_msg(strncmp(cat->skipped[0].reason, "app3-deploy.yml:", 16)
	    == 0, "%s", cat->skipped[0].reason);
	ck_assert_uint_eq(cat->removed.n, 2);
	ck_assert(catalog_list_has(&cat->removed, "app3-deploy.yml"));
	ck_assert(catalog_list_has(&cat->removed, "app4-deploy.yml"));

	/* A role changed after its playbooks were parsed: they are again. */
	check_catalog_write(dir, "roles/web/tasks/main.yml",
	    "- name: Install the new web server\n  ansible.builtin.debug:\n");
	check_catalog_mtime(dir, "roles/web/tasks/main.yml",
	    (time_t)(catalog_now_us() / 1000000) + 100);
	cat = check_catalog_rescan(dir, cat);
	ck_assert_uint_eq(cat->stats.parsed, 2);	/* app0, app1 */
	pb = check_catalog_get(cat, "app0-deploy.yml");
	ck_assert(catalog_list_has(&pb->tasks, "Install the new web server"));
	ck_assert(!catalog_list_has(&pb->tasks, "Install the web server"));

	catalog_free(cat);
	{
		char	*argv[] = { "rm", "-rf", dir, NULL };

		ck_assert_int_eq(check_catalog_run(argv, NULL), 0);
	}
}
END_TEST

START_TEST(test_json_roundtrip)
{
	struct catalog	*cat = check_catalog_scan_src("contrib/homelab");
	struct playbook	*pb = check_catalog_get(cat, "kuma-deploy.yml");
	struct playbook	*back = catalog_playbook_new(pb->path);
	json_object	*o = catalog_playbook_json(pb), *all;

	ck_assert_int_eq(catalog_playbook_from_json(back, o), 0);
	ck_assert_str_eq(back->service, pb->service);
	ck_assert_str_eq(back->action, "deploy");
	ck_assert_str_eq(back->description, pb->description);
	ck_assert_str_eq(back->sha256, pb->sha256);
	ck_assert_uint_eq(back->tasks.n, pb->tasks.n);
	ck_assert_uint_eq(back->aliases.n, 3);
	json_object_put(o);
	catalog_playbook_free(back);
	all = catalog_json(cat);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(all,
	    "playbooks")), cat->nplaybooks);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(all,
	    "roles")), 4);
	json_object_put(all);
	catalog_free(cat);
}
END_TEST

/* "# chiffon:needs=" is kept as written, through JSON too. */
START_TEST(test_needs_comment)
{
	char		 tmpl[] = "/tmp/check-catalog-XXXXXX", *dir;
	struct catalog	*cat;
	struct playbook	*pb, *back;
	json_object	*o;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	check_catalog_write(dir, "ollama-deploy.yml",
	    "# chiffon:description=Ollama with a GPU\n"
	    "#   chiffon:needs= gpu:8GB,cores:4  \n"
	    "- hosts: all\n  tasks:\n"
	    "    - name: Pull the model\n      ansible.builtin.debug:\n");
	check_catalog_write(dir, "plain-deploy.yml",
	    "- hosts: all\n  tasks:\n"
	    "    - name: Nothing\n      ansible.builtin.debug:\n");
	cat = check_catalog_rescan(dir, NULL);
	pb = catalog_find(cat, "ollama-deploy.yml");
	ck_assert_ptr_nonnull(pb);
	ck_assert_str_eq(pb->needs, "gpu:8GB,cores:4");
	ck_assert_ptr_null(catalog_find(cat, "plain-deploy.yml")->needs);
	o = catalog_playbook_json(pb);
	back = catalog_playbook_new(pb->path);
	ck_assert_int_eq(catalog_playbook_from_json(back, o), 0);
	ck_assert_str_eq(back->needs, "gpu:8GB,cores:4");
	catalog_playbook_free(back);
	json_object_put(o);
	catalog_free(cat);
	for (size_t i = 0; i < 2; i++) {
		char *f = path_join(dir, i == 0 ? "ollama-deploy.yml" :
		    "plain-deploy.yml");

		unlink(f);
		free(f);
	}
	rmdir(dir);
}
END_TEST

/* Run ansible-inventory --list in repo; caller frees its JSON. */
static char *
check_catalog_inventory_json(const char *repo)
{
	char	 out[] = "/tmp/check-catalog-inv-XXXXXX", *text;
	char	*argv[] = { "ansible-inventory", "--list", "--output", out,
		    NULL };
	int	 fd;

	fd = mkstemp(out);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_msg(check_catalog_run(argv, repo) == 0,
	    "ansible-inventory --list failed in %s", repo);
	text = read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	unlink(out);
	return text;
}

START_TEST(test_inventory)
{
	char			*repo = check_catalog_src("contrib/homelab");
	char			*json = check_catalog_inventory_json(repo);
	char			*err = NULL;
	struct inventory	*inv = inventory_parse(json, &err);
	struct catalog_list	 l = { 0 };
	json_object		*o;

	ck_assert_msg(inv != NULL, "%s", err);
	ck_assert_uint_eq(inv->hosts.n, 5);
	ck_assert(catalog_list_has(&inv->hosts, "nas"));
	ck_assert_ptr_nonnull(inventory_group(inv, "unraid"));
	ck_assert_ptr_nonnull(inventory_group(inv, "desktops"));
	ck_assert(catalog_list_has(&inventory_group(inv,
	    "docker_hosts")->children, "monitoring"));

	ck_assert_int_eq(inventory_resolve(inv, "proxmox", &l), 2);
	ck_assert(catalog_list_has(&l, "pve1"));
	ck_assert(catalog_list_has(&l, "pve2"));
	catalog_list_free(&l);
	ck_assert_int_eq(inventory_resolve(inv, "docker_hosts", &l), 2);
	ck_assert(catalog_list_has(&l, "docker1"));
	ck_assert(catalog_list_has(&l, "nas"));
	catalog_list_free(&l);
	ck_assert_int_eq(inventory_resolve(inv, "all", &l), 5);
	catalog_list_free(&l);
	ck_assert_int_eq(inventory_resolve(inv, "desk1", &l), 1);
	catalog_list_free(&l);
	ck_assert_int_eq(inventory_resolve(inv, "nope", &l), -1);

	ck_assert_int_eq(inventory_mentions(inv, "update all Proxmox hosts",
	    &l), 1);
	ck_assert_str_eq(l.v[0], "proxmox");
	catalog_list_free(&l);
	ck_assert_int_eq(inventory_mentions(inv, "deploy kuma on the nas",
	    &l), 1);
	ck_assert_str_eq(l.v[0], "nas");
	catalog_list_free(&l);
	ck_assert_int_eq(inventory_mentions(inv, "set up the desktop", &l),
	    1);
	ck_assert_str_eq(l.v[0], "desktops");
	catalog_list_free(&l);

	o = inventory_json(inv);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o,
	    "hosts")), 5);
	ck_assert_ptr_nonnull(json_object_object_get(json_object_object_get(o,
	    "groups"), "proxmox"));
	json_object_put(o);
	inventory_free(inv);
	free(json);
	free(repo);

	ck_assert_ptr_null(inventory_parse("[WARNING]: not json", &err));
	ck_assert_ptr_nonnull(strstr(err, "no JSON object"));
	free(err);
}
END_TEST

START_TEST(test_bad_repo)
{
	struct catalog	*cat;
	char		*err = NULL;

	ck_assert_int_eq(catalog_scan(NULL, NULL, &cat, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "ansible.repo"));
	free(err);
	err = NULL;
	ck_assert_int_eq(catalog_scan("/nonexistent/repo", NULL, &cat, &err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/repo"));
	free(err);
}
END_TEST

/* The reason the scan gives for path, or NULL if it is not skipped. */
static const char *
check_catalog_reason(json_object *cj, const char *path)
{
	json_object	*a, *e, *v;
	size_t		 i, n = 0;
	const char	*r = NULL;

	json_object_object_get_ex(cj, "skipped", &a);
	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(e, "path", &v) &&
		    strcmp(json_object_get_string(v), path) == 0) {
			json_object_object_get_ex(e, "reason", &v);
			r = json_object_get_string(v);
			n++;
		}
	}
	ck_assert_msg(n <= 1, "%s reported %zu times", path, n);
	return r;
}

/*
 * A hostile repository (issue 9, items 10-13): billion laughs, a file
 * too big, secrets in play vars, symlinks out of the repository and in
 * loops, junk: the scan is bounded, keeps names not values, follows no
 * link out, and reports every unused file once with its reason.
 */
START_TEST(test_hostile)
{
	char		 tmpl[] = "/tmp/check-catalog-XXXXXX", *dir, *out;
	char		*cmd[5], *src, *big, *path, *link, *text;
	const char	*r;
	struct catalog	*cat;
	json_object	*cj;
	char		*err = NULL;
	size_t		 i;
	int		 fd;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	src = check_catalog_src("tests/repos/hostile");
	cmd[0] = "cp";
	cmd[1] = "-R";
	cmd[2] = xasprintf("%s/.", src);
	cmd[3] = dir;
	cmd[4] = NULL;
	ck_assert_int_eq(check_catalog_run(cmd, NULL), 0);
	free(cmd[2]);
	/* 5 MB of YAML. */
	big = xmalloc(5 * 1024 * 1024 + 64);
	strcpy(big, "- hosts: all\n  vars:\n");
	for (i = strlen(big); i + 32 < 5 * 1024 * 1024; i += 16)
		memcpy(big + i, "    v: 123456789\n", 16);
	big[i] = '\0';
	check_catalog_write(dir, "big.yml", big);
	free(big);
	/* Random bytes. */
	path = path_join(dir, "random.yml");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 4096; i++) {
		unsigned char b = (unsigned char)(i * 7919 % 251);
		ck_assert_int_eq(write(fd, &b, 1), 1);
	}
	close(fd);
	free(path);
	/* Links out of the repository, and loops. */
	out = xasprintf("%s-outside", dir);
	ck_assert_int_eq(mkdir(out, 0755), 0);
	check_catalog_write(out, "evil-deploy.yml", "- hosts: all\n  tasks: []\n");
	link = path_join(dir, "outdir");
	ck_assert_int_eq(symlink(out, link), 0);
	free(link);
	link = path_join(dir, "evil-link.yml");
	path = path_join(out, "evil-deploy.yml");
	ck_assert_int_eq(symlink(path, link), 0);
	free(path);
	free(link);
	for (i = 0; i < 4; i++) {
		link = xasprintf("%s/s%zu", dir, i);
		ck_assert_int_eq(symlink(".", link), 0);
		free(link);
	}
	link = path_join(dir, "ok-again.yml");
	ck_assert_int_eq(symlink("ok.yml", link), 0);	/* inside: fine */
	free(link);

	ck_assert_msg(catalog_scan(dir, NULL, &cat, &err) == 0, "%s", err);
	cj = catalog_json(cat);
	/* Only the two good entries: ok.yml and its link inside. */
	ck_assert_uint_eq(cat->nplaybooks, 2);
	ck_assert_ptr_nonnull(catalog_find(cat, "ok.yml"));
	ck_assert_ptr_nonnull(catalog_find(cat, "ok-again.yml"));
	r = check_catalog_reason(cj, "bomb.yml");
	ck_assert_msg(r != NULL && strstr(r, "aliases expand") != NULL, "%s",
	    r);
	r = check_catalog_reason(cj, "big.yml");
	ck_assert_msg(r != NULL && strstr(r, "more than the 4 MiB") != NULL,
	    "%s", r);
	r = check_catalog_reason(cj, "random.yml");
	ck_assert_ptr_nonnull(r);
	r = check_catalog_reason(cj, "vars-only.yml");
	ck_assert_msg(r != NULL && strstr(r, "not a list of plays") != NULL,
	    "%s", r);
	r = check_catalog_reason(cj, "task-list.yml");
	ck_assert_msg(r != NULL && strstr(r, "a task file?") != NULL, "%s", r);
	r = check_catalog_reason(cj, "not-yaml.yml");
	ck_assert_ptr_nonnull(r);
	r = check_catalog_reason(cj, "outdir");
	ck_assert_msg(r != NULL && strstr(r, "outside the repository") !=
	    NULL, "%s", r);
	r = check_catalog_reason(cj, "evil-link.yml");
	ck_assert_msg(r != NULL && strstr(r, "outside the repository") !=
	    NULL, "%s", r);
	for (i = 0; i < 4; i++) {
		link = xasprintf("s%zu", i);
		r = check_catalog_reason(cj, link);
		ck_assert_msg(r != NULL && strstr(r, "walked already") != NULL,
		    "%s: %s", link, r);
		free(link);
	}
	/* Names of play vars, never their values. */
	text = xstrdup(json_object_to_json_string(cj));
	ck_assert_ptr_null(strstr(text, "hunter2"));
	ck_assert_ptr_null(strstr(text, "8080"));
	ck_assert(catalog_list_has(&catalog_find(cat, "ok.yml")->variables,
	    "db_password"));
	free(text);
	json_object_put(cj);
	catalog_free(cat);
	/* plugin.infra.allow_paths: the admin allows the outside dir. */
	ck_assert_msg(catalog_scan_allowing(dir, NULL, out, &cat, &err) == 0,
	    "%s", err);
	ck_assert_ptr_nonnull(catalog_find(cat, "evil-link.yml"));
	ck_assert_ptr_nonnull(catalog_find(cat, "outdir/evil-deploy.yml"));
	catalog_free(cat);
	cmd[0] = "rm";
	cmd[1] = "-rf";
	cmd[2] = dir;
	cmd[3] = out;
	cmd[4] = NULL;
	ck_assert_int_eq(check_catalog_run(cmd, NULL), 0);
	free(out);
	free(src);
}
END_TEST

/* Flags the run side needs: become, vars_prompt, vault-encrypted files. */
START_TEST(test_flags)
{
	char		 tmpl[] = "/tmp/check-catalog-XXXXXX", *dir;
	char		*argv[] = { "rm", "-rf", NULL, NULL };
	struct catalog	*cat;
	char		*err = NULL;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	check_catalog_write(dir, "plain.yml", "- hosts: all\n  tasks: []\n");
	check_catalog_write(dir, "sudo.yml", "- hosts: all\n  become: true\n"
	    "  tasks: []\n");
	check_catalog_write(dir, "ask.yml", "- hosts: all\n  vars_prompt:\n"
	    "    - name: pw\n      prompt: Password\n  tasks:\n"
	    "    - name: As root\n      become: yes\n"
	    "      ansible.builtin.debug:\n");
	check_catalog_write(dir, "secret.yml", "- hosts: all\n  vars_files:\n"
	    "    - vault/secrets.yml\n  tasks: []\n");
	check_catalog_write(dir, "vault/secrets.yml", "$ANSIBLE_VAULT;1.1;"
	    "AES256\n6162636465\n");
	ck_assert_msg(catalog_scan(dir, NULL, &cat, &err) == 0, "%s", err);
	ck_assert_int_eq(catalog_find(cat, "plain.yml")->flags, 0);
	ck_assert_int_eq(catalog_find(cat, "sudo.yml")->flags, CATALOG_BECOME);
	ck_assert_int_eq(catalog_find(cat, "ask.yml")->flags,
	    CATALOG_BECOME | CATALOG_VARS_PROMPT);
	ck_assert_int_eq(catalog_find(cat, "secret.yml")->flags, CATALOG_VAULT);
	catalog_free(cat);
	argv[2] = dir;
	ck_assert_int_eq(check_catalog_run(argv, NULL), 0);
}
END_TEST

static Suite *
catalog_suite(void)
{
	Suite	*s = suite_create("catalog");
	TCase	*tc = tcase_create("catalog");

	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_service_name);
	tcase_add_test(tc, test_homelab);
	tcase_add_test(tc, test_fixtures);
	tcase_add_test(tc, test_incremental);
	tcase_add_test(tc, test_json_roundtrip);
	tcase_add_test(tc, test_inventory);
	tcase_add_test(tc, test_bad_repo);
	tcase_add_test(tc, test_needs_comment);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_flags);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(catalog_suite());
}
