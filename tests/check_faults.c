/*
 * check_faults.c - nothing lost under faults, against the real thing: the
 * chiffon binary of the build tree, a PostgreSQL cluster on a small tmpfs
 * (mounted here; as root), real ansible-playbook runs of a playbook that
 * prints 100,000 numbered lines once a marker file exists.
 *
 *   disk full: the tmpfs holding the cluster is filled before the lines
 *   come; `chiffon run --yes` keeps them (spool), does not report success
 *   while they are missing, and once space is freed every line it printed
 *   is a row of run_output, the run is successful and it exits 0.
 *
 *   PostgreSQL restarted (pg_ctl stop -m fast, and a postmaster SIGKILL)
 *   while `chiffon run --yes` runs: it rides it out, the playbook is not
 *   killed, every line is stored.
 *
 *   SIGKILL of `chiffon run --yes` at several points of the output: the
 *   next start closes the run as interrupted with the line count of the
 *   rows really stored, the task too, and at most the documented bound
 *   (1,000 lines) of what it printed is missing.
 *
 *   SIGSTOP of a `chiffon worker` past its lease with a second worker
 *   present: the deploy becomes interrupted, is never started twice (one
 *   ansible-playbook at most at any time, one run row), and the stopped
 *   worker, once continued, stops its own run.
 *
 * When tmpfs cannot be mounted the disk-full test says SKIP and passes;
 * the others use the same cluster on the ordinary disk.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgembed.h"
#include "pgtest.h"
#include "testutil.h"
#include "output.h"
#include "util.h"

/* The documented bound (runlog.h): lines a SIGKILL may lose. */
#define FAULT_BOUND	1000
#define FAULT_WAIT_S	120

static char		*fault_mount;	/* tmpfs holding the cluster, or NULL */
static char		*fault_skip;	/* why there is none */
static char		*fault_tmp;	/* data dir, repo, config (real disk) */
static char		*fault_repo;
static char		*fault_marker;
static char		*fault_data;
static char		*conninfo;	/* this test's database */
static const char	*fault_env;	/* "K=V" the next chiffon gets too */
static PGconn		*pg;

/* A chiffon process of the test. */
struct proc {
	pid_t		 pid;
	int		 out;		/* its stdout, or -1 at EOF */
	struct strbuf	 text;
	int		 status;	/* exit status once reaped, else -1 */
};

/* Outside the tests (main): say why and exit 1. */
static void
fault_die(const char *what, const char *path)
{
	fprintf(stderr, "check_faults: %s %s: %s\n", what, path,
	    strerror(errno));
	exit(1);
}

static void
write_text(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		fault_die("writing", path);
}

/* A fresh directory $TMPDIR/chiffon-TAG-XXXXXX, mode 0755 (main only). */
static char *
fault_tmpdir(const char *tag)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	dir = xasprintf("%s/chiffon-%s-XXXXXX", tmp, tag);
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		fault_die("creating", dir);
	return dir;
}

/* The playbook repository and the configuration, once. */
static void
fault_make_repo(void)
{
	char	*p;

	fault_tmp = fault_tmpdir("faults");
	fault_repo = path_join(fault_tmp, "repo");
	fault_data = path_join(fault_tmp, "data");
	fault_marker = path_join(fault_tmp, "marker");
	if (mkdir(fault_repo, 0755) != 0)
		fault_die("creating", fault_repo);
	p = path_join(fault_repo, "ansible.cfg");
	write_text(p, "[defaults]\ninventory = inventory.ini\n"
	    "retry_files_enabled = False\n"
	    "interpreter_python = /usr/bin/python3\n");
	free(p);
	p = path_join(fault_repo, "inventory.ini");
	write_text(p, "[local]\nlocalhost ansible_connection=local\n");
	free(p);
	p = path_join(fault_repo, "bigout-deploy.yml");
	write_text(p, "# Deploys bigout: 100,000 numbered lines once the\n"
	    "# marker exists.\n"
	    "- name: Deploy bigout\n  hosts: localhost\n"
	    "  gather_facts: false\n  tasks:\n"
	    "    - name: Count\n      ansible.builtin.command: seq 1 100000\n"
	    "      register: count\n      changed_when: false\n"
	    "    - name: Wait for the marker\n"
	    "      ansible.builtin.wait_for:\n"
	    "        path: \"{{ lookup('env', 'FAULT_MARKER') }}\"\n"
	    "        timeout: 300\n"
	    "    - name: Print\n      ansible.builtin.debug:\n"
	    "        var: count.stdout_lines\n");
	free(p);
	p = path_join(fault_repo, "sleeper-deploy.yml");
	write_text(p, "# Deploys sleeper: a long step.\n"
	    "- name: Deploy sleeper\n  hosts: localhost\n"
	    "  gather_facts: false\n  tasks:\n"
	    "    - name: Started\n      ansible.builtin.debug:\n"
	    "        msg: sleeper started\n"
	    "    - name: Sleep\n      ansible.builtin.command: sleep 300\n"
	    "      changed_when: false\n      check_mode: false\n");
	free(p);
	p = path_join(fault_repo, "envprint-deploy.yml");
	write_text(p, "# Deploys envprint: shows what a secret looks like.\n"
	    "- name: Deploy envprint\n  hosts: localhost\n"
	    "  gather_facts: false\n  tasks:\n"
	    "    - name: Show\n      ansible.builtin.debug:\n"
	    "        msg: \"key=[{{ lookup('env', 'FAULT_API_KEY') }}]\"\n");
	free(p);
	p = path_join(fault_tmp, "chiffon");
	if (mkdir(p, 0755) != 0)
		fault_die("creating", p);
	free(p);
	p = path_join(fault_tmp, "chiffon/chiffon.conf");
	write_text(p, "[db]\nreconnect_max = 1s\n[dispatch]\nlease = 36s\n"
	    "poll = 1s\n[llm]\nexternal_api_key_env = FAULT_API_KEY\n");
	free(p);
}

static void
setup(void)
{
	static int	 n;
	char		*name, *err = NULL;

	/* A test that failed while the server was away left it stopped. */
	ck_assert_msg(pgembed_start(pgtest_pgembed(testutil_cluster()), NULL,
	    &err) == 0, "starting the server: %s", err);
	name = xasprintf("faults%ld_%d", (long)getpid(), n++);
	conninfo = pgtest_new_db(testutil_cluster(), name, &err);
	ck_assert_msg(conninfo != NULL, "%s", err);
	free(name);
	pg = PQconnectdb(conninfo);
	ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
	unlink(fault_marker);
	testutil_rm(fault_data);
}

static void
teardown(void)
{
	PQfinish(pg);
	free(conninfo);
}

/* Start src/chiffon with args (NULL-terminated) on this test's database. */
static void
proc_start(struct proc *p, const char *const *args)
{
	const char	*argv[16];
	char		*bin, *errpath;
	int		 po[2], fd;
	size_t		 n = 0;

	memset(p, 0, sizeof *p);
	p->status = -1;
	bin = xasprintf("%s/src/chiffon", getenv("CHIFFON_BUILDDIR") != NULL ?
	    getenv("CHIFFON_BUILDDIR") : ".");
	argv[n++] = bin;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	errpath = path_join(fault_tmp, "stderr");
	ck_assert(pipe(po) == 0);
	fflush(NULL);
	p->pid = fork();
	ck_assert(p->pid >= 0);
	if (p->pid == 0) {
		setpgid(0, 0);
		/* Die with the test (a failed test skips its teardown). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		dup2(po[1], 1);
		fd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		close(po[0]);
		setenv("CHIFFON_DB_URL", conninfo, 1);
		setenv("CHIFFON_PLUGIN_PATH", getenv("FAULT_PLUGIN_DIR"), 1);
		setenv("CHIFFON_REPO", fault_repo, 1);
		setenv("CHIFFON_DATA_DIR", fault_data, 1);
		setenv("XDG_CONFIG_HOME", fault_tmp, 1);
		setenv("FAULT_MARKER", fault_marker, 1);
		unsetenv("CHIFFON_CONFIG");
		unsetenv("SSH_CONNECTION");
		if (fault_env != NULL)
			putenv((char *)fault_env);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	p->out = po[0];
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	free(bin);
	free(errpath);
}

/* Read what the process wrote, for up to ms milliseconds. */
static void
proc_read(struct proc *p, int ms)
{
	struct pollfd	 pfd;
	char		 buf[65536];
	ssize_t		 n;
	uint64_t	 end = now_ms() + (uint64_t)ms;

	while (p->out >= 0) {
		pfd.fd = p->out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end > now_ms() ? end - now_ms() : 0))
		    <= 0)
			break;
		while ((n = read(p->out, buf, sizeof buf)) > 0)
			strbuf_add(&p->text, buf, (size_t)n);
		if (n == 0) {
			close(p->out);
			p->out = -1;
		}
		if (now_ms() >= end)
			break;
	}
	strbuf_addc(&p->text, '\0');
	p->text.len--;
}

/* Non-zero while the process runs (reaps it once it exited). */
static int
proc_alive(struct proc *p)
{
	int	ws;

	if (p->status != -1 || p->pid <= 0)
		return 0;
	if (waitpid(p->pid, &ws, WNOHANG) == p->pid) {
		p->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 +
		    WTERMSIG(ws);
		return 0;
	}
	return 1;
}

/* Read to the end and reap; the exit status. */
static int
proc_wait(struct proc *p, int timeout_s)
{
	uint64_t	end = now_ms() + (uint64_t)timeout_s * 1000;

	while (proc_alive(p) && now_ms() < end)
		proc_read(p, 200);
	if (proc_alive(p)) {
		char	*path = path_join(fault_tmp, "stderr");
		char	*err = read_file(path, NULL);

		ck_abort_msg("chiffon did not exit in %d s; it printed, at the "
		    "end:\n%s\nstderr:\n%s", timeout_s, p->text.buf +
		    (p->text.len > 1500 ? p->text.len - 1500 : 0),
		    err == NULL ? "" : strlen(err) > 3000 ?
		    err + strlen(err) - 3000 : err);
	}
	proc_read(p, 100);
	if (p->out >= 0)
		close(p->out);
	p->out = -1;
	return p->status;
}

static void
proc_free(struct proc *p)
{
	if (proc_alive(p)) {
		kill(-p->pid, SIGKILL);
		proc_wait(p, 10);
	}
	strbuf_free(&p->text);
}

/* Read until text holds needle (asserted within timeout_s). */
static void
proc_expect(struct proc *p, const char *needle, int timeout_s)
{
	uint64_t	end = now_ms() + (uint64_t)timeout_s * 1000;

	while ((p->text.buf == NULL || strstr(p->text.buf, needle) == NULL) &&
	    now_ms() < end && (p->out >= 0))
		proc_read(p, 100);
	ck_assert_msg(p->text.buf != NULL && strstr(p->text.buf, needle) !=
	    NULL, "no '%s' in the output:\n%.3000s", needle,
	    p->text.buf != NULL ? p->text.buf : "");
}

/* Lines of s after the first line starting with after. */
static long
lines_after(const char *s, const char *after)
{
	const char	*p = strstr(s, after);
	long		 n = 0;

	if (p == NULL)
		return 0;
	p = strchr(p, '\n');
	while (p != NULL && (p = strchr(p + 1, '\n')) != NULL)
		n++;
	return n;
}

/*
 * A one-value query (reconnecting when the test's connection broke); an
 * error is "ERROR: ..." when tolerated, else fails the test.
 */
static char *
q1_try(const char *sql, int tolerate)
{
	PGresult	*res;
	char		*v = NULL;

	if (PQstatus(pg) != CONNECTION_OK) {
		PQfinish(pg);
		pg = PQconnectdb(conninfo);
	}
	res = PQexec(pg, sql);
	if (tolerate && PQresultStatus(res) != PGRES_TUPLES_OK) {
		v = xasprintf("ERROR: %s", PQerrorMessage(pg));
		PQclear(res);
		return v;
	}
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(pg));
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static char *
q1(const char *sql)
{
	return q1_try(sql, 0);
}

static long long
qn(const char *sql)
{
	char		*v = q1(sql);
	long long	 n = v != NULL ? atoll(v) : -1;

	free(v);
	return n;
}

/* Wait until sql (one value) says want. */
static void
wait_sql(const char *sql, const char *want, int timeout_s)
{
	uint64_t	 end = now_ms() + (uint64_t)timeout_s * 1000;
	char		*v = NULL;

	for (;;) {
		free(v);
		v = q1_try(sql, 1);
		if ((v != NULL && strcmp(v, want) == 0) || now_ms() > end)
			break;
		usleep(100000);
	}
	ck_assert_msg(v != NULL && strcmp(v, want) == 0, "%s: '%s', want "
	    "'%s'", sql, v != NULL ? v : "NULL", want);
	free(v);
}

static void
touch(const char *path)
{
	int	fd = open(path, O_WRONLY | O_CREAT, 0644);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

/*
 * Every line the newest run stored, in order, is what chiffon printed,
 * and their number is the run's line count.
 */
static void
assert_all_stored(const struct proc *p, const char *status)
{
	PGresult	*res;
	FILE		*f;
	char		*want, *plain = NULL;
	size_t		 plainlen = 0;
	long long	 lines, rows;
	int		 i;

	lines = qn("SELECT lines FROM runs ORDER BY id DESC LIMIT 1");
	rows = qn("SELECT count(*) FROM run_output WHERE run_id = (SELECT "
	    "max(id) FROM runs)");
	ck_assert_msg(lines > 100000 && rows == lines, "run lines %lld, rows "
	    "%lld", lines, rows);
	/* As chiffon prints them into a pipe: plain text (output.h). */
	res = PQexec(pg, "SELECT line FROM run_output WHERE run_id = (SELECT "
	    "max(id) FROM runs) ORDER BY seq");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	f = open_memstream(&plain, &plainlen);
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < PQntuples(res); i++)
		output_line(f, PQgetvalue(res, i, 0),
		    strlen(PQgetvalue(res, i, 0)), 0);
	fclose(f);
	ck_assert_msg(strstr(p->text.buf, plain) != NULL,
	    "the stored lines are not what chiffon printed");
	free(plain);
	PQclear(res);
	want = xasprintf("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
	wait_sql(want, status, 10);
	free(want);
	/* The run names its claim. */
	wait_sql("SELECT agent IS NOT NULL AND attempt = 1 AND claim_token = "
	    "(SELECT max(claim_token) FROM runs) FROM runs ORDER BY id DESC "
	    "LIMIT 1", "t", 1);
	/* The spool is gone once drained. */
	want = path_join(fault_data, "spool");
	{
		DIR		*d = opendir(want);
		struct dirent	*de;
		int		 left = 0;

		while (d != NULL && (de = readdir(d)) != NULL)
			left += strncmp(de->d_name, "run-", 4) == 0;
		if (d != NULL)
			closedir(d);
		ck_assert_int_eq(left, 0);
	}
	free(want);
}

/* Fill the file system of dir; returns the filler's path. */
static char *
fill_disk(const char *dir)
{
	char	*path = path_join(dir, "filler");
	char	*buf = xcalloc(1, 1 << 20);
	int	 fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	while (write(fd, buf, 1 << 20) > 0)
		;
	ck_assert_int_eq(errno, ENOSPC);
	/* The last bytes too: pages the server freed meanwhile. */
	while (write(fd, buf, 4096) > 0)
		;
	close(fd);
	free(buf);
	return path;
}

/*
 * Start `chiffon run --yes "deploy bigout"`; once its playbook waits for
 * the marker fill the disk, then let the lines come.  Returns the
 * filler's path.
 */
static char *
fault_run_disk_full(struct proc *p)
{
	static const char *const args[] = { "run", "--yes", "deploy bigout",
	    NULL };
	char	*filler;

	proc_start(p, args);
	wait_sql("SELECT count(*) FROM run_output WHERE line LIKE "
	    "'%Wait for the marker%'", "1", FAULT_WAIT_S);
	filler = fill_disk(fault_mount);
	touch(fault_marker);
	proc_expect(p, "\"100000\"", FAULT_WAIT_S);
	return filler;
}

START_TEST(test_disk_full)
{
	struct proc	 p;
	char		*filler, *st, *err = NULL;

	if (fault_mount == NULL) {
		printf("SKIP: test_disk_full: %s\n", fault_skip);
		return;
	}
	filler = fault_run_disk_full(&p);
	proc_read(&p, 3000);
	/* Lines are missing: neither the run nor the task is successful. */
	ck_assert_msg(proc_alive(&p), "chiffon exited %d while rows were "
	    "missing:\n%s", p.status, p.text.buf + (p.text.len > 2000 ?
	    p.text.len - 2000 : 0));
	PQfinish(pg);
	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) == CONNECTION_OK) {
		st = q1("SELECT status FROM tasks ORDER BY id DESC LIMIT 1");
		ck_assert_msg(strcmp(st, "running") == 0 ||
		    strcmp(st, "incomplete") == 0, "task is %s", st);
		free(st);
		st = q1("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
		ck_assert_msg(strcmp(st, "running") == 0 ||
		    strcmp(st, "incomplete") == 0, "run is %s", st);
		free(st);
	}
	ck_assert_int_eq(unlink(filler), 0);
	free(filler);
	/* A server that crashed on the full disk is started again. */
	if (pgembed_start(pgtest_pgembed(testutil_cluster()), NULL, &err) != 0)
		ck_abort_msg("restarting the server: %s", err);
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	PQfinish(pg);
	pg = PQconnectdb(conninfo);
	assert_all_stored(&p, "successful");
	wait_sql("SELECT status FROM tasks ORDER BY id DESC LIMIT 1",
	    "succeeded", 10);
	proc_free(&p);
}
END_TEST

/*
 * A run left incomplete by a process that is gone, its missing rows in no
 * spool: the disk is full (COPY refused, the status update still fits)
 * and the spool cannot be made (a file stands where its directory would
 * be), so the rows wait in memory; then chiffon is SIGKILLed.  The next
 * start closes the run as interrupted with the rows really stored, counts
 * the rest in lines_lost, interrupts the task with that reason, and
 * audit verify passes.
 */
START_TEST(test_incomplete_abandoned)
{
	static const char *const next[] = { "audit", "verify", NULL };
	struct proc	 p, q;
	char		*filler, *path, *st, *err = NULL;
	long long	 lines, rows, lost;

	if (fault_mount == NULL) {
		printf("SKIP: test_incomplete_abandoned: %s\n", fault_skip);
		return;
	}
	ck_assert_int_eq(mkdir(fault_data, 0700), 0);
	path = path_join(fault_data, "spool");
	write_text(path, "not a directory\n");
	filler = fault_run_disk_full(&p);
	wait_sql("SELECT status FROM runs ORDER BY id DESC LIMIT 1",
	    "incomplete", FAULT_WAIT_S);
	ck_assert_msg(proc_alive(&p), "chiffon exited %d while rows were "
	    "missing", p.status);
	ck_assert_int_eq(kill(p.pid, SIGKILL), 0);
	proc_wait(&p, 30);
	lines = qn("SELECT lines FROM runs ORDER BY id DESC LIMIT 1");
	ck_assert_int_eq(unlink(filler), 0);
	free(filler);
	ck_assert_int_eq(unlink(path), 0);
	if (pgembed_start(pgtest_pgembed(testutil_cluster()), NULL, &err) != 0)
		ck_abort_msg("restarting the server: %s", err);
	PQfinish(pg);
	pg = PQconnectdb(conninfo);
	rows = qn("SELECT count(*) FROM run_output WHERE run_id = (SELECT "
	    "max(id) FROM runs)");
	ck_assert_msg(rows < lines, "all %lld rows are stored", lines);
	/* The next start closes it; audit verify's own verdict passes. */
	proc_start(&q, next);
	ck_assert_int_eq(proc_wait(&q, FAULT_WAIT_S), 0);
	proc_free(&q);
	st = q1("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
	ck_assert_str_eq(st, "interrupted");
	free(st);
	ck_assert_int_eq(qn("SELECT lines FROM runs ORDER BY id DESC LIMIT 1"),
	    rows);
	lost = qn("SELECT lines_lost FROM runs ORDER BY id DESC LIMIT 1");
	ck_assert_int_eq(lost, lines - rows);
	ck_assert_int_eq(qn("SELECT (events_lost >= 0)::int FROM runs "
	    "ORDER BY id DESC LIMIT 1"), 1);
	st = q1("SELECT status || ': ' || status_reason FROM tasks ORDER BY id "
	    "DESC LIMIT 1");
	ck_assert_msg(strstr(st, "interrupted: output lost: the process "
	    "that ran it is gone") == st, "task: %s", st);
	ck_assert_msg(strstr(st, "line") != NULL, "task: %s", st);
	fprintf(stderr, "incomplete run of a dead process: %lld lines, %lld "
	    "stored, %lld lost; task %s\n", lines, rows, lost, st);
	free(st);
	ck_assert_int_eq(qn("SELECT count(*) FROM runs"), 1);
	/* Closed once: a later start changes nothing. */
	proc_start(&q, next);
	ck_assert_int_eq(proc_wait(&q, FAULT_WAIT_S), 0);
	proc_free(&q);
	ck_assert_int_eq(qn("SELECT lines_lost FROM runs"), lost);
	free(path);
	proc_free(&p);
}
END_TEST

/* The postmaster's pid (DATA/pg/data/postmaster.pid, first line). */
static pid_t
postmaster_pid(void)
{
	char	*path, *s;
	pid_t	 pid;

	path = path_join(pgembed_pgdata(pgtest_pgembed(testutil_cluster())),
	    "postmaster.pid");
	s = read_file(path, NULL);
	ck_assert_msg(s != NULL, "%s", path);
	pid = (pid_t)atol(s);
	free(s);
	free(path);
	return pid;
}

/* The server goes away mid-run: stopped (fast) or its postmaster killed. */
static void
fault_restart(int kill_it)
{
	static const char *const args[] = { "run", "--yes", "deploy bigout",
	    NULL };
	struct pgembed	*pe = pgtest_pgembed(testutil_cluster());
	struct proc	 p;
	char		*err = NULL;
	pid_t		 pm;

	fault_env = getenv("FAULT_DEBUG") != NULL ? "CHIFFON_LOG_LEVEL=debug" :
	    NULL;
	proc_start(&p, args);
	fault_env = NULL;
	wait_sql("SELECT count(*) FROM run_output WHERE line LIKE "
	    "'%Wait for the marker%'", "1", FAULT_WAIT_S);
	PQfinish(pg);
	/*
	 * The test cluster runs with fsync and synchronous_commit off: give
	 * its WAL writer time to hand the last commits to the kernel, or a
	 * killed postmaster takes them with it.
	 */
	usleep(1000 * 1000);
	if (kill_it) {
		pm = postmaster_pid();
		ck_assert_int_eq(kill(pm, SIGKILL), 0);
		while (kill(pm, 0) == 0)
			usleep(10000);
	} else
		ck_assert_msg(pgembed_stop(pe, NULL, &err) == 0, "%s", err);
	/* The lines come while the server is away. */
	touch(fault_marker);
	proc_expect(&p, "\"100000\"", FAULT_WAIT_S);
	proc_read(&p, 1000);
	ck_assert_msg(proc_alive(&p), "chiffon exited %d without the "
	    "database:\n%s", p.status, p.text.buf);
	ck_assert_msg(pgembed_start(pe, NULL, &err) == 0, "%s", err);
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	pg = PQconnectdb(conninfo);
	ck_assert_msg(strstr(p.text.buf, "All 1 step succeeded.") != NULL,
	    "%s", p.text.buf);
	assert_all_stored(&p, "successful");
	wait_sql("SELECT status FROM tasks ORDER BY id DESC LIMIT 1",
	    "succeeded", 10);
	/* One run: the playbook was not killed and started again. */
	ck_assert_int_eq(qn("SELECT count(*) FROM runs"), 1);
	proc_free(&p);
}

START_TEST(test_pg_stop_fast)
{
	fault_restart(0);
}
END_TEST

START_TEST(test_postmaster_sigkill)
{
	fault_restart(1);
}
END_TEST

/* Is pid an ansible-playbook whose parent is not one (a top process)? */
static int
is_top_ansible(long pid, const char *playbook)
{
	char	 path[64], buf[4096], *s;
	FILE	*f;
	size_t	 n;
	long	 ppid = 0;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (s = buf; s < buf + n; s += strlen(s) + 1) {
		if (strstr(s, "ansible-playbook") != NULL)
			break;
	}
	if (s >= buf + n)
		return 0;
	for (s = buf; s < buf + n; s += strlen(s) + 1) {
		if (strstr(s, playbook) != NULL)
			break;
	}
	if (s >= buf + n)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((s = strrchr(buf, ')')) != NULL)
		sscanf(s + 2, "%*c %ld", &ppid);
	return ppid > 0 ? !is_top_ansible(ppid, playbook) : 1;
}

/* The top ansible-playbook processes running playbook; pids to kill. */
static int
count_ansible(const char *playbook, pid_t *first)
{
	DIR		*d = opendir("/proc");
	struct dirent	*de;
	char		 path[64], cwd[4096];
	ssize_t		 len;
	int		 n = 0;
	long		 pid;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if ((pid = atol(de->d_name)) <= 0)
			continue;
		/* Ours only: it runs in this test's repository. */
		snprintf(path, sizeof path, "/proc/%ld/cwd", pid);
		if ((len = readlink(path, cwd, sizeof cwd - 1)) < 0)
			continue;
		cwd[len] = '\0';
		if (strcmp(cwd, fault_repo) != 0)
			continue;
		if (is_top_ansible(pid, playbook)) {
			if (n == 0 && first != NULL)
				*first = (pid_t)pid;
			n++;
		}
	}
	closedir(d);
	return n;
}

/* SIGKILL the ansible-playbooks of playbook that a dead chiffon left. */
static void
kill_orphans(const char *playbook)
{
	pid_t	orphan;

	while (count_ansible(playbook, &orphan) > 0) {
		kill(orphan, SIGKILL);
		usleep(50000);
	}
}

/*
 * The CLI dies after its run was closed and before its task was ended
 * (stopped while its playbook sleeps; the run is closed under it with the
 * triggers off, as the server would have finished the close it sent):
 * the next start ends the task as interrupted, not left running.
 */
START_TEST(test_task_left_running)
{
	static const char *const args[] = { "run", "--yes", "deploy sleeper",
	    NULL };
	static const char *const next[] = { "audit", NULL };
	struct proc	 p, q;
	char		*st, *v;

	proc_start(&p, args);
	wait_sql("SELECT count(*) FROM run_output WHERE line LIKE "
	    "'%TASK [Sleep]%'", "1", FAULT_WAIT_S);
	ck_assert_int_eq(kill(p.pid, SIGSTOP), 0);
	v = q1("SET session_replication_role = replica; UPDATE runs SET "
	    "status = 'successful', finished_at = now(), exit_code = 0; "
	    "RESET session_replication_role; SELECT count(*) FROM runs WHERE "
	    "status = 'successful'");
	ck_assert_str_eq(v, "1");
	free(v);
	ck_assert_int_eq(kill(p.pid, SIGKILL), 0);
	proc_wait(&p, 30);
	kill_orphans("sleeper-deploy.yml");
	st = q1("SELECT status FROM tasks ORDER BY id DESC LIMIT 1");
	ck_assert_str_eq(st, "running");
	free(st);
	proc_start(&q, next);
	proc_wait(&q, FAULT_WAIT_S);
	proc_free(&q);
	st = q1("SELECT status || ': ' || coalesce(status_reason, '') FROM "
	    "tasks ORDER BY id DESC LIMIT 1");
	ck_assert_msg(strstr(st, "interrupted: ") == st && strstr(st,
	    "died after its run ended") != NULL, "task: %s", st);
	free(st);
	ck_assert_int_eq(qn("SELECT count(*) FROM runs"), 1);
	proc_free(&p);
}
END_TEST

/* SIGKILL `chiffon run --yes` once it printed at least n run lines. */
static void
fault_kill_cli(long n)
{
	static const char *const args[] = { "run", "--yes", "deploy bigout",
	    NULL };
	static const char *const next[] = { "audit", "verify", NULL };
	struct proc	 p, q;
	long long	 rows, lines;
	long		 printed;
	char		*st;
	int		 done;

	touch(fault_marker);
	proc_start(&p, args);
	while (lines_after(p.text.buf != NULL ? p.text.buf : "",
	    "Approved by") < n && proc_alive(&p))
		proc_read(&p, 5);
	ck_assert_msg(proc_alive(&p), "chiffon ended before %ld lines", n);
	ck_assert_int_eq(kill(p.pid, SIGKILL), 0);
	proc_wait(&p, 30);
	/* What it printed: every line after the approval but the step's. */
	printed = lines_after(p.text.buf, "Approved by") - 1;
	/* Its playbook is orphaned: end it (the pty hangs up anyway). */
	kill_orphans("bigout-deploy.yml");
	/*
	 * Running; or, at the last point, already closed: the lines are
	 * stored as fast as they are printed (schema 016), so the run may
	 * have ended before the kill (checked below as a successful run).
	 */
	st = q1("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
	ck_assert_msg(strcmp(st, "running") == 0 || (n >= 99000 &&
	    strcmp(st, "successful") == 0), "run %s after SIGKILL at %ld "
	    "lines", st, n);
	free(st);
	/* The next start closes what the dead process left open. */
	proc_start(&q, next);
	proc_wait(&q, FAULT_WAIT_S);
	proc_free(&q);
	st = q1("SELECT status FROM runs ORDER BY id DESC LIMIT 1");
	lines = qn("SELECT lines FROM runs ORDER BY id DESC LIMIT 1");
	rows = qn("SELECT count(*) FROM run_output WHERE run_id = (SELECT "
	    "max(id) FROM runs)");
	ck_assert_msg(lines == rows, "run lines %lld, rows %lld", lines,
	    rows);
	/*
	 * Interrupted; or, killed while closing a run whose every line was
	 * in, the server finished the close it had been sent (the row was
	 * still running when the process died): then nothing is missing.
	 */
	done = strcmp(st, "successful") == 0;
	if (done)
		ck_assert_msg(rows >= printed, "a successful run of %lld rows,"
		    " %ld printed", rows, printed);
	else
		ck_assert_str_eq(st, "interrupted");
	ck_assert_msg(rows >= printed - FAULT_BOUND, "printed %ld lines, "
	    "stored %lld: more than %d lost", printed, rows, FAULT_BOUND);
	fprintf(stderr, "SIGKILL after %ld lines: printed %ld, stored %lld, "
	    "run %s\n", n, printed, rows, st);
	free(st);
	st = q1("SELECT status FROM tasks ORDER BY id DESC LIMIT 1");
	ck_assert_msg(strcmp(st, "interrupted") == 0 || (done &&
	    strcmp(st, "succeeded") == 0), "task %s after run %s", st,
	    done ? "successful" : "interrupted");
	free(st);
	/* The dead process's agent row is not left online. */
	ck_assert_int_eq(qn("SELECT count(*) FROM agents WHERE status = "
	    "'online'"), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM agents"), 1);
	proc_free(&p);
}

START_TEST(test_sigkill_cli)
{
	static const long points[] = { 500, 20000, 60000, 99000 };

	fault_kill_cli(points[_i]);
}
END_TEST

/*
 * SIGSTOP of worker wa past its lease, worker wb present, while it runs
 * request (a deploy, or a dry run: check mode, which is safe to retry):
 * the task is interrupted, never run twice alongside.
 */
static void
fault_sigstop(const char *request, int check)
{
	const char *const plan[] = { "plan", request, NULL };
	static const char *const wa[] = { "worker", "--name", "wa", NULL };
	static const char *const wb[] = { "worker", "--name", "wb", NULL };
	struct proc	 p, a, b;
	char		*v, *sql;
	int		 n, most = 0;
	uint64_t	 end;

	proc_start(&p, plan);
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	v = q1("SELECT plan_id FROM plans ORDER BY id DESC LIMIT 1");
	{
		const char *const approve[] = { "approve", v, NULL };

		proc_free(&p);
		proc_start(&p, approve);
		ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	}
	free(v);
	ck_assert_int_eq(qn("SELECT check_mode::int FROM tasks ORDER BY id "
	    "DESC LIMIT 1"), check);
	proc_start(&a, wa);
	wait_sql("SELECT count(*) FROM run_output WHERE line LIKE "
	    "'%TASK [Sleep]%'", "1", FAULT_WAIT_S);
	ck_assert_int_eq(count_ansible("sleeper-deploy.yml", NULL), 1);
	proc_start(&b, wb);
	wait_sql("SELECT count(*) FROM agents WHERE name = 'wb' AND status = "
	    "'online'", "1", FAULT_WAIT_S);
	ck_assert_int_eq(kill(a.pid, SIGSTOP), 0);
	/* Past its lease: the deploy is interrupted, never run twice. */
	sql = xstrdup("SELECT status FROM tasks ORDER BY id DESC LIMIT 1");
	end = now_ms() + 60 * 1000;
	while ((v = q1(sql)) != NULL && strcmp(v, "interrupted") != 0 &&
	    now_ms() < end) {
		free(v);
		n = count_ansible("sleeper-deploy.yml", NULL);
		most = n > most ? n : most;
		proc_read(&b, 200);
	}
	ck_assert_str_eq(v, "interrupted");
	free(v);
	ck_assert_int_eq(kill(a.pid, SIGCONT), 0);
	/* The stopped worker stops its own run once it runs again. */
	end = now_ms() + 30 * 1000;
	while ((n = count_ansible("sleeper-deploy.yml", NULL)) > 0 &&
	    now_ms() < end) {
		most = n > most ? n : most;
		proc_read(&a, 200);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_int_le(most, 1);
	proc_read(&b, 3000);
	ck_assert_int_eq(count_ansible("sleeper-deploy.yml", NULL), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM runs"), 1);
	wait_sql("SELECT status FROM runs", "interrupted", 10);
	v = q1(sql);
	ck_assert_str_eq(v, "interrupted");
	free(v);
	ck_assert_int_eq(qn("SELECT count(*) FROM work_queue"), 0);
	free(sql);
	if (check) {
		v = q1("SELECT status_reason FROM tasks ORDER BY id DESC "
		    "LIMIT 1");
		ck_assert_msg(strstr(v, "not run a second time alongside") !=
		    NULL, "%s", v);
		free(v);
	}
	kill(a.pid, SIGTERM);
	kill(b.pid, SIGTERM);
	proc_wait(&a, 30);
	proc_wait(&b, 30);
	proc_free(&a);
	proc_free(&b);
	proc_free(&p);
}

START_TEST(test_sigstop_worker)
{
	fault_sigstop("deploy sleeper", 0);
}
END_TEST

/* A dry run is fenced the same way: not retried next to its live copy. */
START_TEST(test_sigstop_worker_check)
{
	fault_sigstop("deploy sleeper dry run", 1);
}
END_TEST

/* What the last chiffon wrote to stderr.  Caller frees. */
static char *
fault_stderr(void)
{
	char	*path = path_join(fault_tmp, "stderr"), *s;

	s = read_file(path, NULL);
	free(path);
	return s != NULL ? s : xstrdup("");
}

/* A playbook run by chiffon does not see the API key chiffon reads. */
START_TEST(test_child_env)
{
	static const char *const args[] = { "run", "--yes", "deploy envprint",
	    NULL };
	struct proc	 p;

	fault_env = "FAULT_API_KEY=sk-fault-secret-4711";
	proc_start(&p, args);
	fault_env = NULL;
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	ck_assert_int_eq(qn("SELECT count(*) FROM run_output WHERE line LIKE "
	    "'%key=[]%'"), 1);
	ck_assert_int_eq(qn("SELECT count(*) FROM run_output WHERE line LIKE "
	    "'%4711%'"), 0);
	ck_assert_ptr_null(strstr(p.text.buf, "4711"));
	proc_free(&p);
}
END_TEST

/* Escapes in a request are shown, not obeyed; bad UTF-8 is exit 2. */
START_TEST(test_request_text)
{
	static const char *const plan[] = { "plan",
	    "deploy bigout \033[8mhidden\033[0m\007", NULL };
	static const char *const audit[] = { "audit", NULL };
	static const char *const bad[] = { "plan", "deploy \xff bigout",
	    NULL };
	struct proc	 p;
	char		*task, *err, *path;

	proc_start(&p, plan);
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	ck_assert_ptr_null(strchr(p.text.buf, '\033'));
	ck_assert_ptr_null(strchr(p.text.buf, '\007'));
	ck_assert_msg(strstr(p.text.buf, "bigout ^[[8mhidden^[[0m^G") !=
	    NULL, "%s", p.text.buf);
	proc_free(&p);
	task = q1("SELECT max(id)::text FROM tasks");
	{
		const char *const show[] = { "show", task, NULL };

		proc_start(&p, show);
		ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
		ck_assert_msg(strstr(p.text.buf, "^[[8mhidden") != NULL, "%s",
		    p.text.buf);
		ck_assert_ptr_null(strchr(p.text.buf, '\033'));
		proc_free(&p);
	}
	free(task);
	proc_start(&p, audit);
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 0);
	ck_assert_msg(strstr(p.text.buf, "^[[8mhidden") != NULL, "%s",
	    p.text.buf);
	ck_assert_ptr_null(strchr(p.text.buf, '\033'));
	proc_free(&p);

	path = path_join(fault_tmp, "stderr");
	unlink(path);
	free(path);
	proc_start(&p, bad);
	ck_assert_int_eq(proc_wait(&p, FAULT_WAIT_S), 2);
	err = fault_stderr();
	ck_assert_msg(strstr(err, "chiffon plan: the request is not valid "
	    "UTF-8: byte 0xff at offset 7") != NULL, "%s", err);
	free(err);
	ck_assert_int_eq(qn("SELECT count(*) FROM requests WHERE text LIKE "
	    "'deploy %bigout'"), 0);
	proc_free(&p);
}
END_TEST

/* Mount a small tmpfs for the cluster; NULL with fault_skip on failure. */
static void
fault_mount_tmpfs(void)
{
	char	*dir = fault_tmpdir("faults-tmpfs");

	if (mount("chiffon-faults", dir, "tmpfs", 0, "size=320m,mode=0755")
	    != 0) {
		fault_skip = xasprintf("cannot mount a tmpfs on %s: %s", dir,
		    strerror(errno));
		rmdir(dir);
		free(dir);
		return;
	}
	fault_mount = dir;
}

/* One case per test, so that CK_RUN_CASE=NAME runs one. */
static void
faults_case(Suite *s, const char *name, const TTest *t, int loops)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	if (loops > 0)
		tcase_add_loop_test(tc, t, 0, loops);
	else
		tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *
faults_suite(void)
{
	Suite	*s = suite_create("faults");

	faults_case(s, "disk_full", test_disk_full, 0);
	faults_case(s, "incomplete_abandoned", test_incomplete_abandoned, 0);
	faults_case(s, "pg_stop_fast", test_pg_stop_fast, 0);
	faults_case(s, "postmaster_sigkill", test_postmaster_sigkill, 0);
	faults_case(s, "sigkill_cli", test_sigkill_cli, 4);
	faults_case(s, "sigstop_worker", test_sigstop_worker, 0);
	faults_case(s, "sigstop_worker_check", test_sigstop_worker_check, 0);
	faults_case(s, "task_left_running", test_task_left_running, 0);
	faults_case(s, "child_env", test_child_env, 0);
	faults_case(s, "request_text", test_request_text, 0);
	return s;
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		*saved = tmp != NULL ? xstrdup(tmp) : NULL;
	char		*plugins;
	int		 failed;

	plugins = xasprintf("%s/plugins/infra/.libs",
	    getenv("CHIFFON_BUILDDIR") != NULL ? getenv("CHIFFON_BUILDDIR") :
	    ".");
	setenv("FAULT_PLUGIN_DIR", plugins, 1);
	free(plugins);
	fault_make_repo();
	fault_mount_tmpfs();
	/* The cluster lives on the tmpfs; everything else does not. */
	if (fault_mount != NULL)
		setenv("TMPDIR", fault_mount, 1);
	testutil_cluster_need();
	if (saved != NULL)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	failed = testutil_main(faults_suite());
	testutil_cluster_stop();
	if (fault_mount != NULL) {
		umount2(fault_mount, MNT_DETACH);
		rmdir(fault_mount);
	}
	if (getenv("FAULT_KEEP") == NULL)
		testutil_rm(fault_tmp);
	else
		fprintf(stderr, "kept %s\n", fault_tmp);
	free(saved);
	return failed;
}
