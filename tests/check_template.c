/*
 * check_template.c - the template plugin's host-independent part
 * (plugins/template/scaffold.c): service names (hostile ones refused),
 * the @@name@@ substitution, layout detection and the in-place edit of
 * a site playbook on the fixture repositories tests/template/per-service
 * and tests/template/site, and writing (atomic, never over an existing
 * file without force, rolled back on request).
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "scaffold.h"
#include "testutil.h"
#include "util.h"

static const char *
srcdir(void)
{
	const char	*s = getenv("CHIFFON_SRCDIR");

	return s != NULL ? s : "..";
}

static char *
fixture(const char *name)
{
	return xasprintf("%s/tests/template/%s", srcdir(), name);
}

static char *
builtin(void)
{
	return xasprintf("%s/plugins/template/templates", srcdir());
}

/* Run a shell command built from fmt; fails the test unless it exits 0. */
static void
sh(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	free(cmd);
}

/* A private copy of a fixture repository.  Caller frees and removes. */
static char *
copy_fixture(const char *name, char **tmpp)
{
	char	*tmp = testutil_tmpdir("template"), *src = fixture(name);
	char	*dst = path_join(tmp, name);

	sh("cp -R '%s' '%s'", src, dst);
	free(src);
	*tmpp = tmp;
	return dst;
}

START_TEST(test_names)
{
	static const struct { const char *in, *out; } good[] = {
		{ "vaultwarden", "vaultwarden" },
		{ "Vault Warden", "vault-warden" },
		{ "Uptime_Kuma", "uptime-kuma" },
		{ "home-assistant2", "home-assistant2" },
	};
	static const struct { const char *in, *why; } bad[] = {
		{ "", "empty" },
		{ "../etc", "'..'" },
		{ "a/b", "path separators" },
		{ "a\\b", "path separators" },
		{ "-rf", "start with a letter or digit" },
		{ " x", "start with a letter or digit" },
		{ "foo;rm", "character ';'" },
		{ "a$(id)", "character '$'" },
		{ "x{{ y }}", "character '{'" },
		{ "na\xc3\xafve", "not allowed" },
	};
	char	*s, *err = NULL, big[SCAFFOLD_NAME_MAX + 2];
	size_t	 i;

	for (i = 0; i < nitems(good); i++) {
		s = scaffold_name(good[i].in, &err);
		ck_assert_msg(s != NULL, "%s: %s", good[i].in, err);
		ck_assert_str_eq(s, good[i].out);
		free(s);
	}
	for (i = 0; i < nitems(bad); i++) {
		ck_assert_ptr_null(scaffold_name(bad[i].in, &err));
		ck_assert_msg(strstr(err, bad[i].why) != NULL, "%s: %s",
		    bad[i].in, err);
		free(err);
		err = NULL;
	}
	ck_assert_ptr_null(scaffold_name(NULL, &err));
	free(err);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_ptr_null(scaffold_name(big, &err));
	ck_assert_ptr_nonnull(strstr(err, "longer than 64"));
	free(err);
	big[SCAFFOLD_NAME_MAX] = '\0';
	s = scaffold_name(big, &err);
	ck_assert_ptr_nonnull(s);
	free(s);
}
END_TEST

START_TEST(test_render)
{
	static const struct scaffold_var vars[] = {
		{ "service", "vault-warden" },
		{ "port", "8081" },
		{ "image", "{{ lookup('pipe', 'id') }}" },
	};
	char	*s, *err = NULL;

	s = scaffold_render("name: @@service@@\nport: @@port@@ {{ x }}\n"
	    "mail: a@@@@b @ c\n", "t", vars, nitems(vars), &err);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "name: vault-warden\nport: 8081 {{ x }}\n"
	    "mail: a@@b @ c\n");
	free(s);
	/* Values are inserted, never rendered again. */
	s = scaffold_render("@@image@@@@port@@", "t", vars, nitems(vars),
	    &err);
	ck_assert_str_eq(s, "{{ lookup('pipe', 'id') }}8081");
	free(s);
	ck_assert_ptr_null(scaffold_render("a\nb @@nope@@\n", "f.yml", vars,
	    nitems(vars), &err));
	ck_assert_str_eq(err, "f.yml:2: unknown placeholder @@nope@@");
	free(err);
	ck_assert_ptr_null(scaffold_render("\n\n@@ x", "f.yml", vars,
	    nitems(vars), &err));
	ck_assert_ptr_nonnull(strstr(err, "f.yml:3: '@@' starts no "
	    "placeholder"));
	free(err);
	ck_assert_ptr_null(scaffold_render("@@Port@@", "f", vars,
	    nitems(vars), &err));
	free(err);
}
END_TEST

START_TEST(test_layouts)
{
	char		*repo, *site, *dir, *err = NULL;
	const char	*l;

	repo = fixture("per-service");
	l = scaffold_layout(repo, &site, &dir, &err);
	ck_assert_str_eq(l, "per-service");
	ck_assert_ptr_null(site);
	ck_assert_str_eq(dir, "");
	free(dir);
	free(repo);
	repo = fixture("site");
	l = scaffold_layout(repo, &site, &dir, &err);
	ck_assert_str_eq(l, "site");
	ck_assert_str_eq(site, "site.yml");
	free(site);
	free(dir);
	free(repo);
	/* The demo homelab: import_playbook only, per-service playbooks. */
	repo = xasprintf("%s/contrib/homelab", srcdir());
	l = scaffold_layout(repo, &site, &dir, &err);
	ck_assert_str_eq(l, "per-service");
	free(dir);
	free(repo);
	ck_assert_ptr_null(scaffold_layout("/nonexistent", &site, &dir,
	    &err));
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));
	free(err);
}
END_TEST

/* A site playbook: the apps play, then the dns play. */
#define SITE_APPS \
    "# head comment\n" \
    "- name: Apps\n" \
    "  hosts: apps\n" \
    "  roles:\n" \
    "    # first\n" \
    "    - role: web\n" \
    "      tags: [web]\n" \
    "\n" \
    "    - role: db   # trailing\n" \
    "      tags: [db]\n" \
    "      vars:\n" \
    "        db_port: 5432\n"
#define SITE_DNS \
    "# between plays\n" \
    "- name: DNS\n" \
    "  hosts: dns\n" \
    "  roles:\n" \
    "  - dns\n"
static const char site_text[] = SITE_APPS SITE_DNS;

START_TEST(test_site_insert)
{
	const char	*entry = "- role: vault_warden\n"
			    "  tags: [vault-warden]\n";
	const char	*play = "- name: Deploy vault-warden\n  hosts: media\n"
			    "  roles:\n";
	char		*out, *hosts, *err = NULL;

	/* No group: the first play with tagged roles, after its last. */
	out = scaffold_site_insert(site_text, "s.yml", "vault_warden", entry,
	    play, NULL, 0, &hosts, &err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(hosts, "apps");
	ck_assert_str_eq(out, SITE_APPS
	    "    - role: vault_warden\n"
	    "      tags: [vault-warden]\n"
	    SITE_DNS);
	free(out);
	free(hosts);
	/* The dns play: its list sits at the key's indentation. */
	out = scaffold_site_insert(site_text, "s.yml", "vault_warden", entry,
	    play, "dns", 0, &hosts, &err);
	ck_assert_msg(out != NULL, "%s", err);
	ck_assert_str_eq(hosts, "dns");
	ck_assert_ptr_nonnull(strstr(out, "  - dns\n  - role: vault_warden\n"
	    "    tags: [vault-warden]\n"));
	ck_assert_int_eq(strncmp(out, site_text, sizeof site_text - 1), 0);
	free(out);
	free(hosts);
	/* A group no play targets: a new play at the end. */
	out = scaffold_site_insert(site_text, "s.yml", "vault_warden", entry,
	    play, "media", 0, &hosts, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(strncmp(out, site_text, sizeof site_text - 1), 0);
	ck_assert_str_eq(out + sizeof site_text - 1, "- name: Deploy "
	    "vault-warden\n  hosts: media\n  roles:\n    - role: vault_warden\n"
	    "      tags: [vault-warden]\n");
	free(out);
	free(hosts);
	/* Already listed. */
	ck_assert_ptr_null(scaffold_site_insert(site_text, "s.yml", "db",
	    entry, play, NULL, 0, &hosts, &err));
	ck_assert_str_eq(err, "s.yml:9: role db is already listed");
	free(err);
	out = scaffold_site_insert(site_text, "s.yml", "dns", entry, play,
	    NULL, 1, &hosts, &err);
	ck_assert_str_eq(out, site_text);
	ck_assert_str_eq(hosts, "dns");
	free(out);
	free(hosts);
	/* Flow lists and broken YAML are refused. */
	ck_assert_ptr_null(scaffold_site_insert("- hosts: apps\n  roles: "
	    "[{role: a, tags: [a]}]\n", "f.yml", "b", entry, play, NULL, 0,
	    &hosts, &err));
	ck_assert_ptr_nonnull(strstr(err, "f.yml:2: the roles of this play "
	    "are a flow list"));
	free(err);
	ck_assert_ptr_null(scaffold_site_insert("- hosts: [\n", "f.yml", "b",
	    entry, play, NULL, 0, &hosts, &err));
	ck_assert_ptr_nonnull(strstr(err, "f.yml:"));
	free(err);
}
END_TEST

/* Plan for repo; fails the test on error. */
static struct scaffold *
plan(const char *repo, const char *name, const char *hosts, int force)
{
	struct scaffold_params	 sp = { 0 };
	struct scaffold		*s;
	char			*b = builtin(), *err = NULL;

	sp.service = name;
	sp.port = 8081;
	sp.image = "vaultwarden/server:1.30.5";
	sp.hosts = hosts;
	sp.repo = repo;
	sp.builtin_dir = b;
	sp.force = force;
	s = scaffold_plan(&sp, &err);
	ck_assert_msg(s != NULL, "%s", err);
	free(b);
	return s;
}

static int
exists(const char *repo, const char *path)
{
	struct stat	 sb;
	char		*full = path_join(repo, path);
	int		 rc = stat(full, &sb) == 0;

	free(full);
	return rc;
}

START_TEST(test_per_service_write)
{
	struct scaffold_params	 sp = { 0 };
	struct scaffold		*s;
	char			*tmp, *repo, *err = NULL, *text, *path, *b;

	repo = copy_fixture("per-service", &tmp);
	s = plan(repo, "Vault Warden", "apps", 0);
	ck_assert_str_eq(s->layout, "per-service");
	ck_assert_str_eq(s->playbook, "vault-warden-deploy.yml");
	ck_assert_uint_eq(s->nfiles, 1);
	ck_assert_ptr_nonnull(strstr(s->files[0].content,
	    "# chiffon:service=vault-warden\n# chiffon:description="));
	ck_assert_ptr_nonnull(strstr(s->files[0].content, "  hosts: apps\n"));
	ck_assert_ptr_nonnull(strstr(s->files[0].content,
	    "vault_warden_port: 8081\n"));
	ck_assert_ptr_nonnull(strstr(s->files[0].diff,
	    "--- /dev/null\n+++ b/vault-warden-deploy.yml\n@@ -0,0 +1,"));
	/* Planning writes nothing. */
	ck_assert(!exists(repo, "vault-warden-deploy.yml"));
	ck_assert_int_eq(scaffold_write(s, repo, 0, &err), 0);
	path = path_join(repo, "vault-warden-deploy.yml");
	text = read_file(path, NULL);
	ck_assert_str_eq(text, s->files[0].content);
	free(text);
	scaffold_free(s);
	/* A second plan refuses the existing file; with force it may. */
	b = builtin();
	sp.service = "vault_warden";
	sp.repo = repo;
	sp.builtin_dir = b;
	ck_assert_ptr_null(scaffold_plan(&sp, &err));
	ck_assert_str_eq(err, "vault-warden-deploy.yml already exists; "
	    "nothing was written (use --force to overwrite)");
	free(err);
	s = plan(repo, "vault-warden", NULL, 1);
	ck_assert_ptr_nonnull(strstr(s->files[0].content, "  hosts: all\n"));
	ck_assert_int_eq(scaffold_write(s, repo, 1, &err), 0);
	scaffold_rollback(s, repo);
	/* Rolled back to the first version. */
	text = read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "  hosts: apps\n"));
	free(text);
	scaffold_free(s);
	/* A file that appears between plan and write is never replaced. */
	s = plan(repo, "late", NULL, 0);
	free(path);
	path = path_join(repo, "late-deploy.yml");
	sh("echo '# mine' > '%s'", path);
	ck_assert_int_eq(scaffold_write(s, repo, 0, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "late-deploy.yml changed"));
	free(err);
	text = read_file(path, NULL);
	ck_assert_str_eq(text, "# mine\n");
	free(text);
	scaffold_free(s);
	/* Bad values are refused with the value named. */
	sp.service = "ok";
	sp.force = 0;
	sp.image = "nginx; rm -rf /";
	ck_assert_ptr_null(scaffold_plan(&sp, &err));
	ck_assert_ptr_nonnull(strstr(err, "image 'nginx; rm -rf /'"));
	free(err);
	sp.image = NULL;
	sp.hosts = "apps\n  become: true";
	ck_assert_ptr_null(scaffold_plan(&sp, &err));
	ck_assert_ptr_nonnull(strstr(err, "host group"));
	free(err);
	sp.hosts = NULL;
	sp.port = 70000;
	ck_assert_ptr_null(scaffold_plan(&sp, &err));
	ck_assert_ptr_nonnull(strstr(err, "port 70000"));
	free(err);
	sp.port = 0;
	sp.service = "9lives";
	ck_assert_ptr_null(scaffold_plan(&sp, &err));
	ck_assert_ptr_nonnull(strstr(err, "start with a letter"));
	free(err);
	free(b);
	free(path);
	free(repo);
	testutil_rm(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_site_write_and_override)
{
	static const char *const role_files[] = {
		"roles/vault_warden/tasks/main.yml",
		"roles/vault_warden/handlers/main.yml",
		"roles/vault_warden/defaults/main.yml",
		"roles/vault_warden/meta/main.yml",
		"roles/vault_warden/templates/docker-compose.yml.j2",
		"roles/vault_warden/README.md",
	};
	struct scaffold_params	 sp = { 0 };
	struct scaffold		*s;
	char			*tmp, *repo, *err = NULL, *orig, *text, *path;
	char			*over, *b;
	size_t			 i;

	repo = copy_fixture("site", &tmp);
	path = path_join(repo, "site.yml");
	orig = read_file(path, NULL);
	s = plan(repo, "vault-warden", NULL, 0);
	ck_assert_str_eq(s->layout, "site");
	ck_assert_str_eq(s->playbook, "site.yml");
	ck_assert_str_eq(s->hosts, "apps");
	ck_assert_uint_eq(s->nfiles, 1 + nitems(role_files));
	ck_assert_str_eq(s->files[0].path, "site.yml");
	ck_assert(s->files[0].edit);
	ck_assert_ptr_nonnull(strstr(s->files[0].diff,
	    "+    - role: vault_warden\n+      tags: [vault-warden]\n"));
	for (i = 0; i < nitems(role_files); i++)
		ck_assert_str_eq(s->files[i + 1].path, role_files[i]);
	ck_assert_ptr_nonnull(strstr(s->files[3].content,
	    "vault_warden_enabled: false\n"));
	ck_assert_ptr_nonnull(strstr(s->files[3].content,
	    "vault_warden_port: 8081\n"));
	ck_assert_int_eq(scaffold_write(s, repo, 0, &err), 0);
	for (i = 0; i < nitems(role_files); i++)
		ck_assert(exists(repo, role_files[i]));
	text = read_file(path, NULL);
	ck_assert_str_eq(text, s->files[0].content);
	free(text);
	/* Rollback restores site.yml and removes the role entirely. */
	scaffold_rollback(s, repo);
	text = read_file(path, NULL);
	ck_assert_str_eq(text, orig);
	free(text);
	ck_assert(!exists(repo, "roles/vault_warden"));
	scaffold_free(s);
	/* An override directory replaces templates file by file. */
	over = path_join(tmp, "over");
	ck_assert_int_eq(mkdir_p(over, 0755), 0);
	sh("mkdir -p '%s/role/defaults' && printf '@@role@@_enabled: "
	    "false\\nmine: @@port@@\\n' > '%s/role/defaults/main.yml'", over,
	    over);
	b = builtin();
	sp.service = "vault-warden";
	sp.port = 9000;
	sp.repo = repo;
	sp.builtin_dir = b;
	sp.template_dir = over;
	s = scaffold_plan(&sp, &err);
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_str_eq(s->files[3].content,
	    "vault_warden_enabled: false\nmine: 9000\n");
	ck_assert_ptr_nonnull(strstr(s->files[1].content, "vault_warden_"));
	scaffold_free(s);
	/* A broken override names its file and line. */
	sh("printf 'a\\n@@oops@@\\n' > '%s/role/defaults/main.yml'", over);
	ck_assert_ptr_null(scaffold_plan(&sp, &err));
	ck_assert_ptr_nonnull(strstr(err, "role/defaults/main.yml:2: unknown "
	    "placeholder @@oops@@"));
	free(err);
	free(b);
	free(over);
	free(orig);
	free(path);
	free(repo);
	testutil_rm(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_playbooks_dir)
{
	struct scaffold	*s;
	char		*tmp, *repo;

	/* Per-service playbooks under playbooks/: the new one goes there. */
	repo = copy_fixture("per-service", &tmp);
	sh("cd '%s' && mkdir playbooks && mv web-deploy.yml dns-deploy.yml "
	    "playbooks/", repo);
	s = plan(repo, "mealie", NULL, 0);
	ck_assert_str_eq(s->layout, "per-service");
	ck_assert_str_eq(s->playbook, "playbooks/mealie-deploy.yml");
	ck_assert_str_eq(s->files[0].path, "playbooks/mealie-deploy.yml");
	scaffold_free(s);
	free(repo);
	testutil_rm(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_container_role_style)
{
	struct scaffold_params	 sp = { 0 };
	struct scaffold		*s;
	char			*repo, *b = builtin(), *err = NULL;

	/* The demo homelab deploys containers through roles/compose_app. */
	repo = xasprintf("%s/contrib/homelab", srcdir());
	sp.service = "vaultwarden";
	sp.port = 8081;
	sp.hosts = "docker_hosts";
	sp.repo = repo;
	sp.builtin_dir = b;
	s = scaffold_plan(&sp, &err);
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_str_eq(s->style, "role compose_app, like grafana-deploy.yml");
	ck_assert_ptr_nonnull(strstr(s->files[0].content, "  vars:\n"
	    "    app_name: vaultwarden\n"
	    "    app_image: \"vaultwarden:latest\"\n"
	    "    app_ports: [\"8081:8081\"]\n"
	    "    app_volumes: [\"data:/data\"]\n"
	    "  roles:\n    - role: compose_app\n"));
	scaffold_free(s);
	/* style builtin: the plugin's own compose tasks. */
	sp.style = "builtin";
	s = scaffold_plan(&sp, &err);
	ck_assert_str_eq(s->style, "builtin");
	ck_assert_ptr_null(strstr(s->files[0].content, "compose_app"));
	ck_assert_ptr_nonnull(strstr(s->files[0].content,
	    "vaultwarden_compose_up: true\n"));
	scaffold_free(s);
	/* The per-service fixture has no container role. */
	free(repo);
	repo = fixture("per-service");
	sp.repo = repo;
	sp.style = NULL;
	s = scaffold_plan(&sp, &err);
	ck_assert_str_eq(s->style, "builtin");
	scaffold_free(s);
	free(repo);
	free(b);
}
END_TEST

static Suite *
template_suite(void)
{
	Suite	*s = suite_create("template");
	TCase	*tc = tcase_create("scaffold");

	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_layouts);
	tcase_add_test(tc, test_site_insert);
	tcase_add_test(tc, test_per_service_write);
	tcase_add_test(tc, test_site_write_and_override);
	tcase_add_test(tc, test_playbooks_dir);
	tcase_add_test(tc, test_container_role_style);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(template_suite());
}
