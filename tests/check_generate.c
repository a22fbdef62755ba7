/*
 * check_generate.c - `chiffon generate` end to end: the build tree's
 * binary with the infra and template plugins, a throwaway PostgreSQL
 * database and private git copies of the fixture repositories
 * tests/template/per-service (one SERVICE-deploy.yml per service) and
 * tests/template/site (a site playbook of tagged roles with toggles).
 *
 * For each layout: hostile names are refused (exit 1, a
 * "generate.refused" audit row, nothing written or committed); a real
 * generation writes the files, which pass ansible-playbook --syntax-check
 * and ansible-lint run here again, is committed with the approver as
 * author and a Chiffon-Task trailer naming the task, and deploys for
 * real (connection: local, files under the test root) with changed=0 the
 * second time; generating again without --force refuses and changes
 * nothing.  Then: a template that fails validation is rolled back, and a
 * request in plain English plans a generate step that approve --wait
 * carries out.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <libpq-fe.h>

#include "audit.h"
#include "orchtest.h"
#include "testutil.h"
#include "util.h"

static struct orchtest	 ot;
static PGconn		*pg;	/* the test app's connection: the queries */

static void
setup(void)
{
	orchtest_start(&ot, "gen");
	pg = orchtest_pg(&ot);
}

static void
teardown(void)
{
	orchtest_stop(&ot);
	pg = NULL;
}

/* What one command did. */
struct out {
	int	 status;	/* exit status, or -1 */
	char	*text;		/* stdout */
	char	*err;		/* stderr */
};

static void
out_free(struct out *o)
{
	free(o->text);
	free(o->err);
	memset(o, 0, sizeof *o);
}

/*
 * Run argv (argv[0] looked up in PATH unless it has a '/') in cwd with
 * the environment pointing at the test database and plugins, stdin
 * /dev/null, its output captured through files.
 */
static void
run(struct out *o, const char *cwd, const char *const *argv)
{
	struct testutil_out	 r;
	const char		*env[7];
	char			*e[5];
	size_t			 i;

	memset(o, 0, sizeof *o);
	e[0] = xasprintf("CHIFFON_DB_URL=%s", ot.conninfo);
	e[1] = xasprintf("CHIFFON_PLUGIN_PATH=%s/plugins/infra/.libs:"
	    "%s/plugins/template/.libs", orchtest_builddir(),
	    orchtest_builddir());
	e[2] = xasprintf("CHIFFON_DATA_DIR=%s/data", ot.tmp);
	e[3] = xasprintf("XDG_CONFIG_HOME=%s", ot.tmp);
	e[4] = xasprintf("HOME=%s", ot.tmp);
	for (i = 0; i < nitems(e); i++)
		env[i] = e[i];
	env[i++] = "SSH_CONNECTION";
	env[i] = NULL;
	testutil_run(&r, argv, env, cwd, 0);
	o->status = r.status;
	o->text = r.out;
	o->err = r.err;
	for (i = 0; i < nitems(e); i++)
		free(e[i]);
}

/* Run and insist on exit status 0. */
static void
run_ok(const char *cwd, const char *const *argv)
{
	struct out	o;

	run(&o, cwd, argv);
	if (o.status != 0) {
		fprintf(stderr, "%s: exit %d\n%s\n%s\n", argv[0], o.status,
		    o.text, o.err);
		ck_abort_msg("%s: exit %d (output above)", argv[0], o.status);
	}
	out_free(&o);
}

/* `chiffon ARGS...` with CHIFFON_REPO=repo (and CHIFFON_CONFIG=conf). */
static void
chiffon(struct out *o, const char *repo, const char *conf,
    const char *const *args)
{
	const char	*argv[16];
	char		*bin;
	size_t		 n = 0;

	bin = xasprintf("%s/src/chiffon", orchtest_builddir());
	argv[n++] = bin;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	setenv("CHIFFON_REPO", repo, 1);
	if (conf != NULL)
		setenv("CHIFFON_CONFIG", conf, 1);
	else
		unsetenv("CHIFFON_CONFIG");
	run(o, NULL, argv);
	unsetenv("CHIFFON_REPO");
	unsetenv("CHIFFON_CONFIG");
	free(bin);
}

/*
 * `chiffon ARGS...` on a terminal (a pty on stdin, stdout and stderr)
 * with answer already typed; o->text gets everything it wrote there.
 */
static void
chiffon_tty(struct out *o, const char *repo, const char *const *args,
    const char *answer)
{
	const char	*argv[16];
	struct strbuf	 sb = { 0 };
	char		*bin, *plugins, *data, buf[4096];
	ssize_t		 n;
	size_t		 k = 0;
	int		 m, sl, ws;
	pid_t		 pid;

	memset(o, 0, sizeof *o);
	bin = xasprintf("%s/src/chiffon", orchtest_builddir());
	argv[k++] = bin;
	while (*args != NULL && k < nitems(argv) - 1)
		argv[k++] = *args++;
	argv[k] = NULL;
	plugins = xasprintf("%s/plugins/infra/.libs:%s/plugins/template/.libs",
	    orchtest_builddir(), orchtest_builddir());
	data = path_join(ot.tmp, "data");
	m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		setsid();
		if ((sl = open(ptsname(m), O_RDWR)) < 0)
			_exit(126);
		close(m);
		dup2(sl, 0);
		dup2(sl, 1);
		dup2(sl, 2);
		setenv("CHIFFON_DB_URL", ot.conninfo, 1);
		setenv("CHIFFON_PLUGIN_PATH", plugins, 1);
		setenv("CHIFFON_DATA_DIR", data, 1);
		setenv("CHIFFON_REPO", repo, 1);
		setenv("XDG_CONFIG_HOME", ot.tmp, 1);
		setenv("HOME", ot.tmp, 1);
		unsetenv("CHIFFON_CONFIG");
		unsetenv("SSH_CONNECTION");
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	/* The terminal keeps the line until chiffon asks for it. */
	ck_assert(write(m, answer, strlen(answer)) == (ssize_t)strlen(answer));
	while ((n = read(m, buf, sizeof buf)) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(m);
	ck_assert(waitpid(pid, &ws, 0) == pid);
	o->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	o->text = strbuf_detach(&sb);
	o->err = xstrdup("");
	free(bin);
	free(plugins);
	free(data);
}

/* chiffon() that must exit 0 (the output goes to stderr if not). */
static void
chiffon_ok(struct out *o, const char *repo, const char *conf,
    const char *const *args)
{
	chiffon(o, repo, conf, args);
	if (o->status != 0) {
		fprintf(stderr, "chiffon %s: exit %d\n%s\n%s\n", args[0],
		    o->status, o->text, o->err);
		ck_abort_msg("chiffon %s: exit %d (output above)", args[0],
		    o->status);
	}
}

/* A git copy of the source tree's directory from, as name.  Caller frees. */
static char *
git_copy(const char *from, const char *name)
{
	char	*src, *dst;

	src = path_join(orchtest_srcdir(), from);
	dst = path_join(ot.tmp, name);
	run_ok(NULL, (const char *const[]){ "cp", "-R", src, dst, NULL });
	run_ok(dst, (const char *const[]){ "git", "init", "-q", ".", NULL });
	run_ok(dst, (const char *const[]){ "git", "add", "-A", NULL });
	run_ok(dst, (const char *const[]){ "git", "-c", "user.name=fixture",
	    "-c", "user.email=fixture@example.org", "commit", "-q", "-m",
	    "fixture", NULL });
	free(src);
	return dst;
}

/* A git copy of fixture NAME under the test's directory.  Caller frees. */
static char *
fixture_repo(const char *name)
{
	char	*from = path_join("tests/template", name), *dst;

	dst = git_copy(from, name);
	free(from);
	return dst;
}

static char *
slurp(const char *repo, const char *path)
{
	char	*full = path_join(repo, path), *text;

	text = read_file(full, NULL);
	free(full);
	return text;
}

/* `git status --porcelain` is empty: nothing written, nothing left over. */
static void
assert_clean(const char *repo)
{
	struct out	o;

	run(&o, repo, (const char *const[]){ "git", "status", "--porcelain",
	    "--untracked-files=all", NULL });
	ck_assert_int_eq(o.status, 0);
	ck_assert_msg(*o.text == '\0', "%s is not clean:\n%s", repo, o.text);
	out_free(&o);
}

/* Hostile names: each refused, recorded, nothing written. */
static void
assert_hostile_refused(const char *repo)
{
	static const char *const names[] = { "../etc", "a/b", "-rf", "",
	    "x;rm -rf /", "Ünïcode",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa" };
	struct out	 o;
	long long	 before, after;
	int		 ncommits = testutil_ncommits(repo);
	size_t		 i;

	before = orchtest_int(pg, "SELECT count(*) FROM audit_log WHERE kind "
	    "= 'generate.refused'", 0, NULL);
	for (i = 0; i < nitems(names); i++) {
		chiffon(&o, repo, NULL, (const char *const[]){ "generate",
		    "--yes", "--", names[i], NULL });
		if (*names[i] == '\0')
			ck_assert_msg(o.status == 1 && strstr(o.err, "empty") !=
			    NULL, "'%s': exit %d: %s", names[i], o.status,
			    o.err);
		else
			ck_assert_msg(o.status == 1 && strstr(o.err,
			    "service name") != NULL, "'%s': exit %d: %s",
			    names[i], o.status, o.err);
		out_free(&o);
	}
	after = orchtest_int(pg, "SELECT count(*) FROM audit_log WHERE kind "
	    "= 'generate.refused'", 0, NULL);
	ck_assert_int_eq(after - before, (long long)nitems(names));
	ck_assert_int_eq(testutil_ncommits(repo), ncommits);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks WHERE "
	    "action = 'generate'", 0, NULL), 0);
	assert_clean(repo);
}

/* The newest generate task: succeeded. */
static long long
generate_task(void)
{
	char	*s;

	s = orchtest_str(pg, "SELECT status FROM tasks WHERE action = "
	    "'generate' ORDER BY id DESC LIMIT 1", 0, NULL);
	ck_assert_str_eq(s, "succeeded");
	free(s);
	return orchtest_int(pg, "SELECT id FROM tasks WHERE action = "
	    "'generate' ORDER BY id DESC LIMIT 1", 0, NULL);
}

/* HEAD is the commit of task_id, by the approver, holding path as on disk. */
static void
assert_committed(const char *repo, long long task_id, const char *path)
{
	char	*msg, *author, *blob, *id, *trailer, *disk, *who, tid[32];

	testutil_head(repo, path, &msg, &author, &blob, NULL, &id);
	trailer = xasprintf("\n\nChiffon-Task: %lld\n", task_id);
	ck_assert_msg(strstr(msg, trailer) != NULL, "message: %s", msg);
	who = xasprintf("%s <%s@", audit_user(), audit_user());
	ck_assert_msg(strncmp(author, who, strlen(who)) == 0, "author %s",
	    author);
	disk = slurp(repo, path);
	ck_assert_ptr_nonnull(blob);
	ck_assert_str_eq(blob, disk);
	snprintf(tid, sizeof tid, "%lld", task_id);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM audit_log "
	    "WHERE kind = 'repo.committed' AND task_id = $1::bigint AND "
	    "data->>'commit' = $2", 2, (const char *const[]){ tid, id }), 1);
	assert_clean(repo);
	free(msg);
	free(author);
	free(blob);
	free(id);
	free(trailer);
	free(disk);
	free(who);
}

/* The task's validation output is recorded as a run with that status. */
static void
assert_validation_run(long long task_id, const char *status)
{
	char	tid[32];

	snprintf(tid, sizeof tid, "%lld", task_id);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM runs WHERE "
	    "task_id = $1::bigint AND kind = 'template.validate' AND status = "
	    "$2", 2, (const char *const[]){ tid, status }), 1);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM run_output o"
	    " JOIN runs r ON r.id = o.run_id WHERE r.task_id = $1::bigint AND"
	    " o.line LIKE '$ ansible-playbook --syntax-check %'", 1,
	    (const char *const[]){ tid }), 1);
}

/* ansible-playbook --syntax-check and ansible-lint, for real. */
static void
assert_valid(const char *repo, const char *playbook, const char *role)
{
	run_ok(repo, (const char *const[]){ "ansible-playbook",
	    "--syntax-check", playbook, NULL });
	run_ok(repo, (const char *const[]){ "ansible-lint", "--offline",
	    "--nocolor", playbook, role, NULL });
}

/* Deploy with ansible-playbook; returns the recap's changed= count. */
static int
deploy(const char *repo, const char *const *args)
{
	const char	*argv[16];
	struct out	 o;
	const char	*p;
	size_t		 n = 0;
	int		 changed;

	argv[n++] = "ansible-playbook";
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	run(&o, repo, argv);
	if (o.status != 0) {
		fprintf(stderr, "deploy: exit %d\n%s\n%s\n", o.status, o.text,
		    o.err);
		ck_abort_msg("deploy: exit %d (output above)", o.status);
	}
	p = strstr(o.text, "PLAY RECAP");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "changed=");
	ck_assert_ptr_nonnull(p);
	changed = atoi(p + 8);
	ck_assert_ptr_null(strstr(p + 1, "failed=1"));
	out_free(&o);
	return changed;
}

START_TEST(test_per_service)
{
	struct out	 o;
	char		*repo, *root, *dirvar, *before, *after;
	long long	 task;
	int		 ncommits;

	repo = fixture_repo("per-service");
	assert_hostile_refused(repo);
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "generate", "--port",
	    "8081", "--image", "vaultwarden/server:1.30.5", "--host", "apps",
	    "--yes", "Vault Warden", NULL });
	/* The plan step showed the file it writes, with its diff. */
	ck_assert_ptr_nonnull(strstr(o.text, "  create    "
	    "vault-warden-deploy.yml\n"));
	ck_assert_ptr_nonnull(strstr(o.text, "+++ b/vault-warden-deploy.yml\n"
	    "@@ -0,0 +1,"));
	ck_assert_ptr_nonnull(strstr(o.text, " 1. generate vault-warden  "
	    "vault-warden-deploy.yml"));
	out_free(&o);
	task = generate_task();
	before = slurp(repo, "vault-warden-deploy.yml");
	ck_assert_ptr_nonnull(before);
	ck_assert_int_eq(strncmp(before, "# chiffon:service=vault-warden\n"
	    "# chiffon:description=", 53), 0);
	ck_assert_ptr_nonnull(strstr(before, "  hosts: apps\n"));
	assert_committed(repo, task, "vault-warden-deploy.yml");
	assert_validation_run(task, "successful");
	assert_valid(repo, "vault-warden-deploy.yml", NULL);
	/* It deploys (no container engine: files only), then changes none. */
	root = path_join(ot.tmp, "root/vault-warden");
	dirvar = xasprintf("vault_warden_dir=%s", root);
	ck_assert_int_gt(deploy(repo, (const char *const[]){
	    "vault-warden-deploy.yml", "-e", dirvar, "-e",
	    "vault_warden_compose_up=false", NULL }), 0);
	free(after = slurp(root, "docker-compose.yml"));
	ck_assert_ptr_nonnull(after);
	ck_assert_int_eq(deploy(repo, (const char *const[]){
	    "vault-warden-deploy.yml", "-e", dirvar, "-e",
	    "vault_warden_compose_up=false", NULL }), 0);
	/* Again without --force: refused, nothing changes. */
	ncommits = testutil_ncommits(repo);
	chiffon(&o, repo, NULL, (const char *const[]){ "generate", "--port",
	    "9999", "--yes", "vault_warden", NULL });
	ck_assert_int_eq(o.status, 1);
	ck_assert_ptr_nonnull(strstr(o.err, "vault-warden-deploy.yml already "
	    "exists; nothing was written (use --force to overwrite)"));
	out_free(&o);
	after = slurp(repo, "vault-warden-deploy.yml");
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(testutil_ncommits(repo), ncommits);
	assert_clean(repo);
	free(after);
	/* With --force it is rewritten and committed. */
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "generate",
	    "--port", "9999", "--force", "--yes", "vault_warden", NULL });
	ck_assert_ptr_nonnull(strstr(o.text, "  overwrite vault-warden-deploy"
	    ".yml\n"));
	out_free(&o);
	after = slurp(repo, "vault-warden-deploy.yml");
	ck_assert_ptr_nonnull(strstr(after, "vault_warden_port: 9999\n"));
	ck_assert_int_eq(testutil_ncommits(repo), ncommits + 1);
	assert_committed(repo, generate_task(), "vault-warden-deploy.yml");
	free(after);
	free(before);
	free(dirvar);
	free(root);
	free(repo);
}
END_TEST

START_TEST(test_site)
{
	struct out	 o;
	char		*repo, *orig, *site, *expect, *root, *dirvar, *p;
	char		*defaults;
	struct stat	 sb;
	long long	 task;
	int		 ncommits;

	repo = fixture_repo("site");
	orig = slurp(repo, "site.yml");
	assert_hostile_refused(repo);
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "generate", "--port",
	    "8081", "--image", "vaultwarden/server:1.30.5", "--yes",
	    "Vault Warden", NULL });
	ck_assert_ptr_nonnull(strstr(o.text, "(site layout, hosts apps)"));
	ck_assert_ptr_nonnull(strstr(o.text, "  edit      site.yml\n"));
	ck_assert_ptr_nonnull(strstr(o.text, "  create    "
	    "roles/vault_warden/defaults/main.yml\n"));
	ck_assert_ptr_nonnull(strstr(o.text, "+    - role: vault_warden\n"
	    "+      tags: [vault-warden]\n"));
	out_free(&o);
	task = generate_task();
	/* site.yml: the entry after the apps play's last role; all kept. */
	site = slurp(repo, "site.yml");
	p = strstr(orig, "      when: false\n");
	ck_assert_ptr_nonnull(p);
	p += strlen("      when: false\n");
	expect = xasprintf("%.*s    - role: vault_warden\n      tags: "
	    "[vault-warden]\n%s", (int)(p - orig), orig, p);
	ck_assert_str_eq(site, expect);
	defaults = slurp(repo, "roles/vault_warden/defaults/main.yml");
	ck_assert_ptr_nonnull(strstr(defaults, "vault_warden_enabled: "
	    "false\n"));
	ck_assert_ptr_nonnull(strstr(defaults, "vault_warden_port: 8081\n"));
	ck_assert_ptr_nonnull(strstr(defaults, "vault_warden_image: "
	    "\"vaultwarden/server:1.30.5\"\n"));
	ck_assert_ptr_nonnull(strstr(defaults, "vault_warden_data_dir: "));
	assert_committed(repo, task, "site.yml");
	assert_committed(repo, task, "roles/vault_warden/tasks/main.yml");
	assert_committed(repo, task, "roles/vault_warden/meta/main.yml");
	assert_valid(repo, "site.yml", "roles/vault_warden");
	/* Off by its toggle; on, it deploys, then changes nothing. */
	root = path_join(ot.tmp, "root/vw-site");
	dirvar = xasprintf("vault_warden_dir=%s", root);
	ck_assert_int_eq(deploy(repo, (const char *const[]){ "site.yml",
	    "--tags", "vault-warden", "-e", dirvar, NULL }), 0);
	ck_assert_int_ne(stat(root, &sb), 0);
	ck_assert_int_gt(deploy(repo, (const char *const[]){ "site.yml",
	    "--tags", "vault-warden", "-e", dirvar, "-e",
	    "vault_warden_enabled=true", "-e", "vault_warden_compose_up=false",
	    NULL }), 0);
	ck_assert_int_eq(stat(root, &sb), 0);
	ck_assert_int_eq(deploy(repo, (const char *const[]){ "site.yml",
	    "--tags", "vault-warden", "-e", dirvar, "-e",
	    "vault_warden_enabled=true", "-e", "vault_warden_compose_up=false",
	    NULL }), 0);
	/* Again without --force: refused, nothing changes. */
	ncommits = testutil_ncommits(repo);
	chiffon(&o, repo, NULL, (const char *const[]){ "generate", "--yes",
	    "vault-warden", NULL });
	ck_assert_int_eq(o.status, 1);
	ck_assert_ptr_nonnull(strstr(o.err, "role vault_warden is already "
	    "listed"));
	out_free(&o);
	p = slurp(repo, "site.yml");
	ck_assert_str_eq(p, site);
	free(p);
	ck_assert_int_eq(testutil_ncommits(repo), ncommits);
	assert_clean(repo);
	/* Another host group: the entry goes into that group's play. */
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "generate", "--host",
	    "dns", "--yes", "resolver", NULL });
	out_free(&o);
	free(expect);
	expect = slurp(repo, "site.yml");
	ck_assert_int_eq(strncmp(expect, site, strlen(site)), 0);
	ck_assert_ptr_nonnull(strstr(expect, "    - role: dns\n      tags: "
	    "[dns]\n    - role: resolver\n      tags: [resolver]\n"));
	assert_committed(repo, generate_task(), "site.yml");
	free(defaults);
	free(dirvar);
	free(root);
	free(expect);
	free(site);
	free(orig);
	free(repo);
}
END_TEST

START_TEST(test_demo_homelab)
{
	struct out	 o;
	char		*repo, *dir, *compose;

	/* In the style of the demo homelab: its compose_app role. */
	repo = git_copy("contrib/homelab", "homelab");
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "generate",
	    "--port", "8081", "--image", "vaultwarden/server:1.30.5",
	    "--host", "docker_hosts", "--yes", "vaultwarden", NULL });
	ck_assert_ptr_nonnull(strstr(o.text, "In the repository's style: role "
	    "compose_app, like grafana-deploy.yml\n"));
	out_free(&o);
	assert_committed(repo, generate_task(), "vaultwarden-deploy.yml");
	assert_valid(repo, "vaultwarden-deploy.yml", NULL);
	/* The demo inventory roots every host under CHIFFON_DEMO_ROOT. */
	ck_assert_int_gt(deploy(repo, (const char *const[]){
	    "vaultwarden-deploy.yml", NULL }), 0);
	dir = path_join(ot.demo_root, "docker1/vaultwarden");
	compose = slurp(dir, "docker-compose.yml");
	ck_assert_ptr_nonnull(compose);
	ck_assert_ptr_nonnull(strstr(compose, "image: vaultwarden/server:"
	    "1.30.5\n"));
	ck_assert_ptr_nonnull(strstr(compose, "- \"8081:8081\"\n"));
	ck_assert_int_eq(deploy(repo, (const char *const[]){
	    "vaultwarden-deploy.yml", NULL }), 0);
	free(compose);
	free(dir);
	free(repo);
}
END_TEST

START_TEST(test_existing_lint_findings)
{
	struct out	 o;
	char		*repo, *path;
	FILE		*f;

	/*
	 * The repository's own lint findings are not the new role's: a
	 * site playbook with a task ansible-lint refuses still gets it.
	 */
	repo = fixture_repo("site");
	path = path_join(repo, "site.yml");
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	fputs("- name: Old habits\n  hosts: dns\n  tasks:\n"
	    "    - shell: echo hi\n", f);
	fclose(f);
	run_ok(repo, (const char *const[]){ "git", "-c", "user.name=f", "-c",
	    "user.email=f@example.org", "commit", "-q", "-a", "-m", "old",
	    NULL });
	run(&o, repo, (const char *const[]){ "ansible-lint", "--offline",
	    "--nocolor", "site.yml", NULL });
	ck_assert_int_ne(o.status, 0);
	out_free(&o);
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "generate", "--yes",
	    "paperless", NULL });
	out_free(&o);
	assert_committed(repo, generate_task(),
	    "roles/paperless/tasks/main.yml");
	free(path);
	free(repo);
}
END_TEST

START_TEST(test_validation_rolls_back)
{
	struct out	 o;
	char		*repo, *over, *conf, *text;
	FILE		*f;
	int		 ncommits;

	repo = fixture_repo("per-service");
	ncommits = testutil_ncommits(repo);
	/* An override template that ansible-playbook refuses. */
	over = path_join(ot.tmp, "templates");
	text = path_join(over, "playbook");
	ck_assert_int_eq(mkdir_p(text, 0755), 0);
	free(text);
	text = path_join(over, "playbook/deploy.yml");
	ck_assert_ptr_nonnull(f = fopen(text, "w"));
	fputs("- name: Deploy @@service@@\n  hosts: @@hosts@@\n  tasks:\n"
	    "    - name: Not a module\n      no.such.module_at_all: {}\n", f);
	fclose(f);
	free(text);
	conf = path_join(ot.tmp, "chiffon.conf");
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "[plugin.template]\ndir = %s\n", over);
	fclose(f);
	chiffon(&o, repo, conf, (const char *const[]){ "generate", "--yes",
	    "broken", NULL });
	ck_assert_msg(o.status == 1, "exit %d\n%s\n%s", o.status, o.text,
	    o.err);
	ck_assert_ptr_nonnull(strstr(o.err, "no.such.module_at_all"));
	ck_assert_ptr_nonnull(strstr(o.err, "ansible-playbook --syntax-check "
	    "failed on the generated files; nothing was kept"));
	out_free(&o);
	ck_assert_ptr_null(text = slurp(repo, "broken-deploy.yml"));
	ck_assert_int_eq(testutil_ncommits(repo), ncommits);
	assert_clean(repo);
	ck_assert_int_eq(orchtest_int(pg, "SELECT count(*) FROM tasks WHERE "
	    "action = 'generate' AND status = 'failed'", 0, NULL), 1);
	/* Not a git repository: refused before anything. */
	text = path_join(ot.tmp, "not-git");
	ck_assert_int_eq(mkdir_p(text, 0755), 0);
	chiffon(&o, text, NULL, (const char *const[]){ "generate", "--yes",
	    "x", NULL });
	ck_assert_int_eq(o.status, 2);
	ck_assert_ptr_nonnull(strstr(o.err, "is not the top of a git "
	    "repository"));
	out_free(&o);
	free(text);
	assert_validation_run(orchtest_int(pg, "SELECT id FROM tasks WHERE "
	    "action = 'generate'", 0, NULL), "failed");
	free(conf);
	free(over);
	free(repo);
}
END_TEST

START_TEST(test_plain_english)
{
	struct out	 o;
	char		*repo, *plan, *s;

	repo = fixture_repo("per-service");
	/* A miss offers to generate the service. */
	chiffon(&o, repo, NULL, (const char *const[]){ "plan", "deploy "
	    "vaultwarden", NULL });
	ck_assert_int_eq(o.status, 1);
	ck_assert_ptr_nonnull(strstr(o.text, "no playbook for 'vaultwarden'"));
	ck_assert_ptr_nonnull(strstr(o.text, "Generate one? chiffon generate "
	    "vaultwarden"));
	out_free(&o);
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "plan", "create a "
	    "playbook for vaultwarden on port 8081", NULL });
	ck_assert_ptr_nonnull(strstr(o.text, " 1. generate vaultwarden  "
	    "vaultwarden-deploy.yml"));
	ck_assert_ptr_nonnull(strstr(o.text, "    files: create "
	    "vaultwarden-deploy.yml (per-service layout)\n"));
	out_free(&o);
	s = orchtest_str(pg, "SELECT capability || ' ' || playbook || ' ' ||"
	    " (extra_vars->>'port') FROM tasks WHERE action = 'generate'", 0,
	    NULL);
	ck_assert_str_eq(s, "template.generate vaultwarden-deploy.yml 8081");
	free(s);
	/* Nothing is written before approval; the dry run is the preview. */
	plan = orchtest_str(pg, "SELECT plan_id::text FROM plans ORDER BY id "
	    "DESC LIMIT 1", 0, NULL);
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "dry-run", plan,
	    NULL });
	ck_assert_ptr_nonnull(strstr(o.text, "    would create "
	    "vaultwarden-deploy.yml\n--- /dev/null\n"));
	out_free(&o);
	ck_assert_ptr_null(s = slurp(repo, "vaultwarden-deploy.yml"));
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "approve", "--wait",
	    plan, NULL });
	out_free(&o);
	s = slurp(repo, "vaultwarden-deploy.yml");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "vaultwarden_port: 8081\n"));
	free(s);
	assert_committed(repo, generate_task(), "vaultwarden-deploy.yml");
	/* The catalog sees the new service at once: the deploy is planned. */
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "plan", "deploy "
	    "vaultwarden on apps", NULL });
	ck_assert_ptr_nonnull(strstr(o.text, " 1. deploy vaultwarden  "
	    "vaultwarden-deploy.yml"));
	out_free(&o);
	free(plan);
	free(repo);
}
END_TEST

START_TEST(test_plain_english_and_deploy)
{
	struct out	 o;
	char		*repo, *s;

	/* One request: generate, then deploy what was generated. */
	repo = git_copy("contrib/homelab", "homelab");
	chiffon_ok(&o, repo, NULL, (const char *const[]){ "run", "--yes",
	    "create a playbook for vaultwarden on port 8081 on docker_hosts "
	    "and deploy it", NULL });
	ck_assert_ptr_nonnull(strstr(o.text, " 1. generate vaultwarden  "
	    "vaultwarden-deploy.yml"));
	ck_assert_ptr_nonnull(strstr(o.text, " 2. deploy vaultwarden  "
	    "vaultwarden-deploy.yml"));
	ck_assert_ptr_nonnull(strstr(o.text, "All 2 steps succeeded.\n"));
	out_free(&o);
	s = orchtest_str(pg, "SELECT string_agg(action || ':' || capability ||"
	    " ':' || status || ':' || cardinality(depends_on), ' ' ORDER BY"
	    " step) FROM tasks", 0, NULL);
	ck_assert_str_eq(s, "generate:template.generate:succeeded:0 "
	    "deploy:ansible:succeeded:1");
	free(s);
	assert_committed(repo, generate_task(), "vaultwarden-deploy.yml");
	s = slurp(ot.demo_root, "docker1/vaultwarden/docker-compose.yml");
	ck_assert_ptr_nonnull(s);
	free(s);
	free(repo);
}
END_TEST

START_TEST(test_terminal_approval)
{
	struct out	 o;
	char		*repo, *s;
	int		 ncommits;

	repo = fixture_repo("per-service");
	ncommits = testutil_ncommits(repo);
	/* No: the plan is rejected, nothing is written. */
	chiffon_tty(&o, repo, (const char *const[]){ "generate", "mealie",
	    NULL }, "n\n");
	ck_assert_msg(o.status == 1, "exit %d\n%s", o.status, o.text);
	ck_assert_ptr_nonnull(strstr(o.text, "+++ b/mealie-deploy.yml"));
	ck_assert_ptr_nonnull(strstr(o.text, "Write these files, validate and "
	    "commit them? [y/N]"));
	ck_assert_ptr_nonnull(strstr(o.text, "is rejected; nothing was "
	    "written."));
	out_free(&o);
	s = orchtest_str(pg, "SELECT p.status || ' ' || a.decision || ' ' ||"
	    " a.reason FROM plans p JOIN approvals a ON a.plan_id = p.id", 0,
	    NULL);
	ck_assert_str_eq(s, "rejected rejected declined at the terminal "
	    "prompt");
	free(s);
	ck_assert_ptr_null(s = slurp(repo, "mealie-deploy.yml"));
	ck_assert_int_eq(testutil_ncommits(repo), ncommits);
	assert_clean(repo);
	/* Yes: generated, validated and committed. */
	chiffon_tty(&o, repo, (const char *const[]){ "generate", "mealie",
	    NULL }, "y\n");
	ck_assert_msg(o.status == 0, "exit %d\n%s", o.status, o.text);
	out_free(&o);
	assert_committed(repo, generate_task(), "mealie-deploy.yml");
	ck_assert_int_eq(testutil_ncommits(repo), ncommits + 1);
	free(repo);
}
END_TEST

static Suite *
generate_suite(void)
{
	Suite	*s = suite_create("generate");
	TCase	*tc;

	tc = tcase_create("binary");
	tcase_add_unchecked_fixture(tc, testutil_cluster_start,
	    testutil_cluster_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_per_service);
	tcase_add_test(tc, test_site);
	tcase_add_test(tc, test_demo_homelab);
	tcase_add_test(tc, test_existing_lint_findings);
	tcase_add_test(tc, test_validation_rolls_back);
	tcase_add_test(tc, test_terminal_approval);
	tcase_add_test(tc, test_plain_english);
	tcase_add_test(tc, test_plain_english_and_deploy);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(generate_suite());
}
