/*
 * pgembed.c - chiffon's private PostgreSQL cluster: find the server
 * binaries, initdb on first use, start and stop it with pg_ctl, and say
 * clearly what is wrong when it cannot (see pgembed.h for the layout).
 *
 * Child processes are started with fork + execvpe and an argv, in their own
 * process group; as root they first drop to the server account.  pg_ctl
 * gets no -o options: the settings chiffon needs (socket only, its
 * directory and permissions) are in PGDATA/chiffon-embedded.conf, which
 * postgresql.conf includes and which is rewritten at every start so a moved
 * data directory keeps working.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "log.h"
#include "pgembed.h"
#include "procfs.h"
#include "util.h"

#define PGEMBED_CONF_FILE	"chiffon-embedded.conf"
#define PGEMBED_DEFAULT_SERVER_USER "postgres"
#define PGEMBED_MIN_FREE	(64ULL * 1024 * 1024)
#define PGEMBED_LOG_TAIL	15
#define PGEMBED_INSTALL_HINT \
	"install the Debian package 'postgresql' (apt-get install postgresql)"

/*
 * One cluster.  Paths are computed by pgembed_new; the binaries and the
 * server account are resolved on first use.
 */
struct pgembed {
	char		*data_dir;	/* chiffon's data directory */
	char		*dir;		/* data_dir/pg */
	char		*pgdata;	/* data_dir/pg/data */
	char		*run_dir;	/* data_dir/pg/run */
	char		*log_path;	/* data_dir/pg/server.log */
	char		*server_user;	/* account the server runs as (root) */

	char		*bindir_opt;	/* only look here, if set */
	const char	*bindir_origin;	/* what set bindir_opt */
	char		*bindir;	/* where initdb, pg_ctl, postgres are */
	char		*version;	/* "15.4" */
	char		*major;		/* "15" */

	int		 fast;		/* no fsync: test clusters */
	uint64_t	 min_free;	/* bytes needed before initdb/start */

	int		 as_other;	/* root: children drop to uid/gid */
	uid_t		 uid;
	gid_t		 gid;
	gid_t		*groups;	/* the account's supplementary groups */
	int		 ngroups;
	int		 lock_fd;	/* flock on dir during start/stop */
};

struct pgembed *
pgembed_new(const char *data_dir, const char *server_user)
{
	struct pgembed	*pg = xcalloc(1, sizeof *pg);
	const char	*env;

	pg->data_dir = xstrdup(data_dir);
	pg->dir = path_join(data_dir, "pg");
	pg->pgdata = path_join(pg->dir, "data");
	pg->run_dir = path_join(pg->dir, "run");
	pg->log_path = path_join(pg->dir, "server.log");
	pg->server_user = xstrdup(server_user != NULL && *server_user != '\0' ?
	    server_user : PGEMBED_DEFAULT_SERVER_USER);
	pg->min_free = PGEMBED_MIN_FREE;
	pg->lock_fd = -1;
	if ((env = getenv("CHIFFON_PG_BINDIR")) != NULL && *env != '\0') {
		pg->bindir_opt = xstrdup(env);
		pg->bindir_origin = "CHIFFON_PG_BINDIR";
	}
	return pg;
}

void
pgembed_free(struct pgembed *pg)
{
	if (pg == NULL)
		return;
	if (pg->lock_fd != -1)
		close(pg->lock_fd);
	free(pg->data_dir);
	free(pg->dir);
	free(pg->pgdata);
	free(pg->run_dir);
	free(pg->log_path);
	free(pg->server_user);
	free(pg->bindir_opt);
	free(pg->bindir);
	free(pg->version);
	free(pg->major);
	free(pg->groups);
	free(pg);
}

void
pgembed_set_bindir(struct pgembed *pg, const char *dir)
{
	free(pg->bindir_opt);
	pg->bindir_opt = dir != NULL ? xstrdup(dir) : NULL;
	pg->bindir_origin = "the configured server binary directory";
	free(pg->bindir);
	pg->bindir = NULL;
}

void
pgembed_set_fast(struct pgembed *pg, int fast)
{
	pg->fast = fast;
}

void
pgembed_set_min_free(struct pgembed *pg, uint64_t bytes)
{
	pg->min_free = bytes;
}

const char *
pgembed_dir(struct pgembed *pg)
{
	return pg->dir;
}

const char *
pgembed_pgdata(struct pgembed *pg)
{
	return pg->pgdata;
}

const char *
pgembed_socket_dir(struct pgembed *pg)
{
	return pg->run_dir;
}

const char *
pgembed_log_path(struct pgembed *pg)
{
	return pg->log_path;
}

/*
 * In a child: become the server account (everything was looked up before
 * the fork, so only system calls happen here).  0 or -1.
 */
static int
pgembed_drop(const struct pgembed *pg)
{
	if (setgroups((size_t)pg->ngroups, pg->groups) != 0 ||
	    setgid(pg->gid) != 0 || setuid(pg->uid) != 0)
		return -1;
	if (setuid(0) == 0)
		return -1;
	return 0;
}

/*
 * The environment of the server's tools: chiffon's, with messages in
 * English (so "No space left on device" can be recognised) and no
 * PGDATA.  Free the array only (the strings are environ's).
 */
static char **
pgembed_env(void)
{
	char		**env;
	size_t		  n = 0, i, j = 0;

	while (environ[n] != NULL)
		n++;
	env = xreallocarray(NULL, n + 2, sizeof *env);
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "LC_ALL=", 7) == 0 ||
		    strncmp(environ[i], "PGDATA=", 7) == 0)
			continue;
		env[j++] = environ[i];
	}
	env[j++] = (char *)"LC_ALL=C";
	env[j] = NULL;
	return env;
}

/*
 * Child side of pgembed_run: own process group, default signals, drop to
 * the server account when root, output to outfd, then exec.
 */
static void __attribute__((noreturn))
pgembed_child(const struct pgembed *pg, int drop, int outfd,
    char *const argv[], char *const envp[])
{
	static const int	 sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGQUIT,
				     SIGHUP, SIGCHLD, SIGTSTP, SIGTTIN,
				     SIGTTOU };
	sigset_t		 empty;
	size_t			 i;
	int			 nullfd, fd;

	setpgid(0, 0);
	for (i = 0; i < nitems(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);

	if (drop && pg->as_other && pgembed_drop(pg) != 0) {
		dprintf(outfd, "cannot switch to the account '%s': %s\n",
		    pg->server_user, strerror(errno));
		_exit(126);
	}
	if (chdir(pg->dir) != 0 && chdir("/") != 0)
		_exit(126);

	if ((nullfd = open("/dev/null", O_RDONLY)) == -1)
		_exit(126);
	if (dup2(nullfd, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(outfd, 2) == -1)
		_exit(126);
	/* Nothing else of chiffon's may leak into a long-lived server. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		for (fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	execvpe(argv[0], argv, envp);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * Run argv and collect its stdout and stderr into out (may be NULL).
 * drop: as root, run as the server account.  Returns the wait status, or
 * -1 with *errp set when it could not be started at all.
 */
static int
pgembed_run(struct pgembed *pg, int drop, char *const argv[],
    struct strbuf *out, char **errp)
{
	char	 buf[4096], **env;
	ssize_t	 n;
	pid_t	 pid;
	int	 pfd[2], status;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return set_error(errp, "pipe: %s", strerror(errno));
	env = pgembed_env();
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		free(env);
		return set_error(errp, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		pgembed_child(pg, drop, pfd[1], argv, env);
	free(env);
	setpgid(pid, pid);
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out != NULL)
			strbuf_add(out, buf, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return set_error(errp, "waitpid %s: %s", argv[0],
			    strerror(errno));
	}
	return status;
}

/* "exited with status N" / "was killed by signal N".  Caller frees. */
static char *
pgembed_status_text(int status)
{
	if (WIFEXITED(status))
		return xasprintf("exited with status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return xasprintf("was killed by signal %d", WTERMSIG(status));
	return xasprintf("ended with wait status %d", status);
}

/* Strip trailing whitespace in place. */
static char *
pgembed_chomp(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The last lines of path, indented, or a note why not.  Caller frees. */
static char *
pgembed_tail(const char *path, int lines)
{
	char	*text, *p;
	size_t	 len;
	int	 seen = 0;

	if ((text = read_file(path, &len)) == NULL)
		return xasprintf("(%s cannot be read: %s)", path,
		    strerror(errno));
	pgembed_chomp(text);
	len = strlen(text);
	if (len == 0) {
		free(text);
		return xasprintf("(%s is empty)", path);
	}
	for (p = text + len; p > text; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	p = xstrdup(p);
	free(text);
	return p;
}

/*
 * The error for a failed initdb/pg_ctl: what failed, its own output, the
 * tail of server.log (when with_log), and a plain statement when the disk
 * is full.
 */
static int
pgembed_fail(struct pgembed *pg, const char *what, int status,
    struct strbuf *out, int with_log, char **errp)
{
	struct strbuf	 sb = { 0 };
	char		*st = pgembed_status_text(status), *tail = NULL;
	const char	*o = out != NULL && out->buf != NULL ? out->buf : "";

	if (with_log)
		tail = pgembed_tail(pg->log_path, PGEMBED_LOG_TAIL);
	if (strstr(o, "No space left on device") != NULL ||
	    (tail != NULL && strstr(tail, "No space left on device") != NULL))
		strbuf_addf(&sb, "the disk holding %s is full (No space left "
		    "on device): free some space or set core.data_dir "
		    "elsewhere, then retry; ", pg->dir);
	strbuf_addf(&sb, "%s %s", what, st);
	if (*o != '\0') {
		char	*copy = pgembed_chomp(xstrdup(o));
		char	*p = copy + strlen(copy);
		int	 seen = 0;

		/* Its last lines say what went wrong. */
		for (; p > copy; p--) {
			if (p[-1] == '\n' && ++seen == PGEMBED_LOG_TAIL)
				break;
		}
		strbuf_addf(&sb, ":\n%s", p);
		free(copy);
	}
	if (tail != NULL)
		strbuf_addf(&sb, "\nlast lines of %s:\n%s", pg->log_path, tail);
	free(st);
	free(tail);
	set_error(errp, "%s", sb.buf);
	strbuf_free(&sb);
	return -1;
}

/*
 * Refuse data directories pg_ctl (which runs the server through a shell)
 * or postgresql.conf cannot quote, and socket paths too long for a unix
 * socket address.
 */
static int
pgembed_check_path(struct pgembed *pg, char **errp)
{
	struct sockaddr_un	 sun;
	const char		*p;
	size_t			 len;

	for (p = pg->dir; *p != '\0'; p++) {
		if (strchr("\"'\\$`,", *p) != NULL ||
		    iscntrl((unsigned char)*p))
			return set_error(errp, "the data directory %s contains "
			    "the character '%c', which PostgreSQL's tools "
			    "cannot quote: set core.data_dir (or "
			    "CHIFFON_DATA_DIR) to a plainer path",
			    pg->data_dir,
			    iscntrl((unsigned char)*p) ? '?' : *p);
	}
	if (pg->dir[0] != '/')
		return set_error(errp, "the data directory %s is not an "
		    "absolute path: set core.data_dir (or CHIFFON_DATA_DIR) "
		    "to one", pg->data_dir);
	len = strlen(pg->run_dir) + strlen("/.s.PGSQL.NNNNN");
	if (len >= sizeof sun.sun_path)
		return set_error(errp, "the socket path %s/.s.PGSQL.%d would "
		    "be %zu bytes, more than the %zu a unix socket allows: "
		    "set core.data_dir (or CHIFFON_DATA_DIR) to a shorter "
		    "path", pg->run_dir, PGEMBED_PORT, len,
		    sizeof sun.sun_path - 1);
	return 0;
}

/* Who the server runs as: ourselves, or (root) db.server_user. */
static int
pgembed_account(struct pgembed *pg, char **errp)
{
	struct passwd	*pw;
	int		 n;

	if (geteuid() != 0) {
		pg->as_other = 0;
		pg->uid = geteuid();
		pg->gid = getegid();
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(pg->server_user)) == NULL)
		return set_error(errp, "chiffon runs as root, so PostgreSQL "
		    "must run as an unprivileged account, but the account "
		    "'%s' (db.server_user) does not exist: %s, which "
		    "creates 'postgres', or set db.server_user",
		    pg->server_user, PGEMBED_INSTALL_HINT);
	if (pw->pw_uid == 0)
		return set_error(errp, "db.server_user is '%s', which is root; "
		    "PostgreSQL refuses to run as root: set db.server_user to "
		    "an unprivileged account such as postgres",
		    pg->server_user);
	pg->as_other = 1;
	pg->uid = pw->pw_uid;
	pg->gid = pw->pw_gid;
	free(pg->groups);
	n = 16;
	pg->groups = xreallocarray(NULL, (size_t)n, sizeof *pg->groups);
	if (getgrouplist(pg->server_user, pg->gid, pg->groups, &n) == -1) {
		pg->groups = xreallocarray(pg->groups, (size_t)n,
		    sizeof *pg->groups);
		if (getgrouplist(pg->server_user, pg->gid, pg->groups,
		    &n) == -1) {
			pg->groups[0] = pg->gid;
			n = 1;
		}
	}
	pg->ngroups = n;
	return 0;
}

/* Non-zero when dir holds executable initdb, pg_ctl and postgres. */
static int
pgembed_has_server(const char *dir, const char **missing)
{
	static const char *const names[] = { "initdb", "pg_ctl", "postgres" };
	struct stat		 st;
	size_t			 i;
	char			*path;
	int			 ok;

	for (i = 0; i < nitems(names); i++) {
		path = path_join(dir, names[i]);
		ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(path, X_OK) == 0;
		free(path);
		if (!ok) {
			if (missing != NULL)
				*missing = names[i];
			return 0;
		}
	}
	return 1;
}

/* `pg_config --bindir` when it names a directory with the server. */
static char *
pgembed_pg_config(struct pgembed *pg)
{
	char * const	 argv[] = { "pg_config", "--bindir", NULL };
	struct strbuf	 out = { 0 };
	char		*dir = NULL;
	int		 status;

	status = pgembed_run(pg, 0, argv, &out, NULL);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    out.buf != NULL) {
		pgembed_chomp(out.buf);
		if (out.buf[0] == '/' && strchr(out.buf, '\n') == NULL &&
		    pgembed_has_server(out.buf, NULL))
			dir = xstrdup(out.buf);
	}
	strbuf_free(&out);
	return dir;
}

/* The highest /usr/lib/postgresql/N/bin with the server, or NULL. */
static char *
pgembed_highest(void)
{
	glob_t	 g;
	size_t	 i;
	char	*best = NULL;

	if (glob("/usr/lib/postgresql/*/bin", GLOB_NOSORT, NULL, &g) != 0)
		return NULL;
	for (i = 0; i < g.gl_pathc; i++) {
		if (!pgembed_has_server(g.gl_pathv[i], NULL))
			continue;
		if (best == NULL || strverscmp(g.gl_pathv[i], best) > 0) {
			free(best);
			best = xstrdup(g.gl_pathv[i]);
		}
	}
	globfree(&g);
	return best;
}

/* Read PGDATA/PG_VERSION: "15", or NULL (errno set) when absent. */
static char *
pgembed_cluster_major(struct pgembed *pg)
{
	char	*path = path_join(pg->pgdata, "PG_VERSION"), *text;

	text = read_file(path, NULL);
	free(path);
	if (text != NULL)
		pgembed_chomp(text);
	return text;
}

/* Version of the binaries in pg->bindir from `postgres -V`. */
static int
pgembed_probe_version(struct pgembed *pg, char **errp)
{
	char		*path = path_join(pg->bindir, "postgres"), *p, *end;
	char * const	 argv[] = { path, "-V", NULL };
	struct strbuf	 out = { 0 };
	int		 status;
	long		 first;

	status = pgembed_run(pg, 0, argv, &out, errp);
	if (status == -1) {
		free(path);
		return -1;
	}
	p = out.buf != NULL ? strstr(out.buf, "(PostgreSQL) ") : NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || p == NULL) {
		set_error(errp, "%s -V did not say which PostgreSQL it is: %s",
		    path, out.buf != NULL ? pgembed_chomp(out.buf) : "");
		strbuf_free(&out);
		free(path);
		return -1;
	}
	p += strlen("(PostgreSQL) ");
	end = p + strcspn(p, " \n(");
	free(pg->version);
	pg->version = xstrndup(p, (size_t)(end - p));
	first = strtol(pg->version, &end, 10);
	free(pg->major);
	if (first >= 10 || *end != '.')
		pg->major = xasprintf("%ld", first);
	else
		pg->major = xasprintf("%ld.%ld", first, strtol(end + 1, NULL,
		    10));
	strbuf_free(&out);
	free(path);
	return 0;
}

/*
 * Find the server binaries (see pgembed.h for the order) and their
 * version.  cluster_major (may be NULL) prefers a matching installation.
 */
static int
pgembed_find_bindir(struct pgembed *pg, const char *cluster_major,
    char **errp)
{
	const char	*missing = NULL;
	char		*dir = NULL;

	if (pg->bindir != NULL)
		return 0;
	if (pg->bindir_opt != NULL) {
		if (!pgembed_has_server(pg->bindir_opt, &missing))
			return set_error(errp, "PostgreSQL server binaries not "
			    "found: %s (from %s) has no %s; %s, or point %s "
			    "at the directory holding initdb, pg_ctl and "
			    "postgres", pg->bindir_opt, pg->bindir_origin,
			    missing, PGEMBED_INSTALL_HINT,
			    "CHIFFON_PG_BINDIR");
		dir = xstrdup(pg->bindir_opt);
	}
	if (dir == NULL && cluster_major != NULL &&
	    strchr(cluster_major, '/') == NULL) {
		dir = xasprintf("/usr/lib/postgresql/%s/bin", cluster_major);
		if (!pgembed_has_server(dir, NULL)) {
			free(dir);
			dir = NULL;
		}
	}
	if (dir == NULL)
		dir = pgembed_pg_config(pg);
	if (dir == NULL)
		dir = pgembed_highest();
	if (dir == NULL)
		return set_error(errp, "PostgreSQL server binaries not found: "
		    "%s", PGEMBED_INSTALL_HINT);
	pg->bindir = dir;
	if (pgembed_probe_version(pg, errp) != 0) {
		free(pg->bindir);
		pg->bindir = NULL;
		return -1;
	}
	return 0;
}

/* Non-zero when pid is alive. */
static int
pgembed_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/*
 * Non-zero when pid is the postmaster of this cluster: postgres makes its
 * data directory its working directory.
 */
static int
pgembed_is_ours(struct pgembed *pg, pid_t pid)
{
	char	*link = procfs_path("/proc/%ld/cwd", (long)pid);
	char	 cwd[PATH_MAX], real[PATH_MAX];
	ssize_t	 n;

	n = readlink(link, cwd, sizeof cwd - 1);
	free(link);
	if (n < 0 || realpath(pg->pgdata, real) == NULL)
		return 0;
	cwd[n] = '\0';
	return strcmp(cwd, real) == 0;
}

/* The pid in PGDATA/postmaster.pid: 0 when there is none, -1 if garbled. */
static pid_t
pgembed_read_pid(struct pgembed *pg)
{
	char	*path = path_join(pg->pgdata, "postmaster.pid"), *text, *end;
	long	 pid;

	text = read_file(path, NULL);
	free(path);
	if (text == NULL)
		return 0;
	pid = strtol(text, &end, 10);
	free(text);
	if (end == text || pid <= 0 || pid > INT_MAX)
		return -1;
	return (pid_t)pid;
}

/* Append a line to server.log (owned by the server account). */
static void
pgembed_log_note(struct pgembed *pg, const char *msg)
{
	struct stat	 st;
	char		 when[64];
	time_t		 t = time(NULL);
	struct tm	 tm;
	int		 fd, created;

	created = stat(pg->log_path, &st) != 0;
	fd = open(pg->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return;
	if (created && pg->as_other && fchown(fd, pg->uid, pg->gid) != 0) {
		/* The server will say so when it cannot open its log. */
	}
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
	dprintf(fd, "%s chiffon: %s\n", when, msg);
	close(fd);
}

/*
 * Look at postmaster.pid: *pidp gets the running postmaster of this
 * cluster or 0.  A file naming a dead process is removed (and noted in
 * the log) when fix is set; one naming a live process that is not this
 * cluster's server is an error.
 */
static int
pgembed_check_pid(struct pgembed *pg, int fix, pid_t *pidp, char **errp)
{
	char	*path, *msg, comm[64] = "?", *cpath, *text;
	pid_t	 pid;

	*pidp = 0;
	pid = pgembed_read_pid(pg);
	if (pid == 0)
		return 0;
	path = path_join(pg->pgdata, "postmaster.pid");
	if (pid > 0 && pgembed_alive(pid)) {
		if (pgembed_is_ours(pg, pid)) {
			*pidp = pid;
			free(path);
			return 0;
		}
		cpath = procfs_path("/proc/%ld/comm", (long)pid);
		if ((text = read_file(cpath, NULL)) != NULL) {
			snprintf(comm, sizeof comm, "%s", pgembed_chomp(text));
			free(text);
		}
		free(cpath);
		set_error(errp, "%s names process %ld (%s), which is running "
		    "but is not the server of this cluster: if no PostgreSQL "
		    "server uses %s, remove %s and retry", path, (long)pid,
		    comm, pg->pgdata, path);
		free(path);
		return -1;
	}
	if (!fix) {
		free(path);
		return 0;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		set_error(errp, "stale %s (process %ld is not running) cannot "
		    "be removed: %s", path, (long)pid, strerror(errno));
		free(path);
		return -1;
	}
	if (pid > 0)
		msg = xasprintf("removed stale %s (process %ld is not "
		    "running)", path, (long)pid);
	else
		msg = xasprintf("removed unreadable %s", path);
	log_warn("%s", msg);
	pgembed_log_note(pg, msg);
	free(msg);
	free(path);
	return 0;
}

/* Refuse when less than need bytes are free where the cluster lives. */
static int
pgembed_check_space(struct pgembed *pg, uint64_t need, const char *what,
    char **errp)
{
	struct statvfs	sv;
	uint64_t	avail;

	if (statvfs(pg->dir, &sv) != 0)
		return set_error(errp, "statvfs %s: %s", pg->dir,
		    strerror(errno));
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (avail < need)
		return set_error(errp, "only %llu MiB free on the filesystem "
		    "holding %s; PostgreSQL needs at least %llu MiB to %s: "
		    "free some space or set core.data_dir (or "
		    "CHIFFON_DATA_DIR) elsewhere",
		    (unsigned long long)(avail >> 20), pg->dir,
		    (unsigned long long)(need >> 20), what);
	return 0;
}

/* mkdir mode (EEXIST is fine), then make it the server account's. */
static int
pgembed_mkdir_owned(struct pgembed *pg, const char *path, mode_t mode,
    char **errp)
{
	struct stat	st;

	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return set_error(errp, "cannot create %s: %s", path,
		    strerror(errno));
	if (stat(path, &st) != 0)
		return set_error(errp, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return set_error(errp, "%s is not a directory: move it away",
		    path);
	if (pg->as_other && (st.st_uid != pg->uid || st.st_gid != pg->gid) &&
	    chown(path, pg->uid, pg->gid) != 0)
		return set_error(errp, "cannot give %s to the account '%s': "
		    "%s", path, pg->server_user, strerror(errno));
	if (!pg->as_other && st.st_uid != pg->uid)
		return set_error(errp, "%s belongs to uid %ld, not to you: "
		    "the cluster there is someone else's; set core.data_dir "
		    "(or CHIFFON_DATA_DIR) to a directory of your own", path,
		    (long)st.st_uid);
	if ((st.st_mode & 07777) != mode && chmod(path, mode) != 0)
		return set_error(errp, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/*
 * As root: check, as the server account itself, that it can pass through
 * every directory down to DATA/pg (whole: and into DATA/pg itself), and
 * name the first one that blocks.  Directories not created yet pass.
 */
static int
pgembed_check_reach(struct pgembed *pg, int whole, char **errp)
{
	struct strbuf	 out = { 0 };
	struct stat	 st;
	struct passwd	*pw;
	char		*blocked, *copy, owner[64];
	int		 pfd[2], status;
	pid_t		 pid;
	char		 buf[PATH_MAX];
	ssize_t		 n;

	if (!pg->as_other)
		return 0;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return set_error(errp, "pipe: %s", strerror(errno));
	copy = xstrdup(pg->dir);
	if ((pid = fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		free(copy);
		return set_error(errp, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char	*p;

		close(pfd[0]);
		if (pgembed_drop(pg) != 0)
			_exit(2);
		if (access("/", X_OK) != 0) {
			dprintf(pfd[1], "/");
			_exit(1);
		}
		for (p = copy + 1;; p++) {
			char	saved = *p;

			if (saved != '/' && saved != '\0')
				continue;
			*p = '\0';
			/* What does not exist yet, chiffon creates. */
			if ((access(copy, F_OK) != 0 && errno == ENOENT) ||
			    (saved == '\0' && !whole))
				_exit(0);
			if (access(copy, X_OK) != 0 || (saved == '\0' &&
			    access(copy, R_OK | W_OK) != 0)) {
				dprintf(pfd[1], "%s", copy);
				_exit(1);
			}
			if (saved == '\0')
				break;
			*p = saved;
		}
		_exit(0);
	}
	free(copy);
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		strbuf_add(&out, buf, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		strbuf_free(&out);
		return 0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || out.len == 0) {
		strbuf_free(&out);
		return set_error(errp, "cannot switch to the account '%s' to "
		    "check that it can reach %s", pg->server_user, pg->dir);
	}
	blocked = strbuf_detach(&out);
	if (stat(blocked, &st) == 0) {
		if ((pw = getpwuid(st.st_uid)) != NULL)
			snprintf(owner, sizeof owner, "%s", pw->pw_name);
		else
			snprintf(owner, sizeof owner, "%ld", (long)st.st_uid);
		set_error(errp, "%s is mode %04o (owner %s): %s cannot reach "
		    "the cluster in %s; set core.data_dir (or "
		    "CHIFFON_DATA_DIR) to a directory it can reach, e.g. "
		    "/var/lib/chiffon", blocked, (unsigned)(st.st_mode & 07777),
		    owner, pg->server_user, pg->dir);
	} else
		set_error(errp, "%s blocks %s from reaching the cluster in "
		    "%s; set core.data_dir (or CHIFFON_DATA_DIR) to a "
		    "directory it can reach, e.g. /var/lib/chiffon", blocked,
		    pg->server_user, pg->dir);
	free(blocked);
	return -1;
}

/* Write a file the server account owns, atomically. */
static int
pgembed_write_owned(struct pgembed *pg, const char *path, const char *text,
    char **errp)
{
	char	*tmp = xasprintf("%s.tmp", path);
	size_t	 len = strlen(text);
	int	 fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		set_error(errp, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len ||
	    (pg->as_other && fchown(fd, pg->uid, pg->gid) != 0) ||
	    close(fd) != 0) {
		set_error(errp, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		set_error(errp, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Append text to an existing file (keeps its owner). */
static int
pgembed_append(const char *path, const char *text, char **errp)
{
	size_t	len = strlen(text);
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1)
		return set_error(errp, "cannot open %s: %s", path,
		    strerror(errno));
	if (write(fd, text, len) != (ssize_t)len) {
		set_error(errp, "cannot append to %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0)
		return set_error(errp, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * Make sure postgresql.conf includes chiffon-embedded.conf and rewrite
 * that file with the current socket directory.
 */
static int
pgembed_configure(struct pgembed *pg, char **errp)
{
	char	*conf = path_join(pg->pgdata, "postgresql.conf");
	char	*ours = path_join(pg->pgdata, PGEMBED_CONF_FILE);
	char	*text, *settings;
	int	 rc = -1;

	if ((text = read_file(conf, NULL)) == NULL) {
		set_error(errp, "cannot read %s: %s: the cluster in %s is "
		    "damaged; move it away to start afresh", conf,
		    strerror(errno), pg->pgdata);
		goto out;
	}
	if (strstr(text, "include_if_exists = '" PGEMBED_CONF_FILE "'") ==
	    NULL && pgembed_append(conf, "\n# chiffon's settings "
	    "(socket only, private directory)\ninclude_if_exists = '"
	    PGEMBED_CONF_FILE "'\n", errp) != 0) {
		free(text);
		goto out;
	}
	free(text);
	settings = xasprintf("# Written by chiffon at every start of the "
	    "embedded cluster; changes are lost.\n"
	    "listen_addresses = ''\n"
	    "port = %d\n"
	    "unix_socket_directories = '%s'\n"
	    "unix_socket_permissions = 0700\n",
	    PGEMBED_PORT, pg->run_dir);
	rc = pgembed_write_owned(pg, ours, settings, errp);
	free(settings);
out:
	free(conf);
	free(ours);
	return rc;
}

/* initdb a new cluster in PGDATA. */
static int
pgembed_initdb(struct pgembed *pg, char **errp)
{
	char		*initdb = path_join(pg->bindir, "initdb");
	char		*conf = path_join(pg->pgdata, "postgresql.conf");
	const char	*ctype = "C";
	struct strbuf	 out = { 0 };
	locale_t	 loc;
	int		 status, rc = -1;

	if (pgembed_check_space(pg, pg->min_free, "create a cluster",
	    errp) != 0)
		goto out;
	if ((loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0)) != 0) {
		ctype = "C.UTF-8";
		freelocale(loc);
	}
	{
		char	*lc_ctype = xasprintf("--lc-ctype=%s", ctype);
		char	*argv[] = { initdb, "-D", pg->pgdata, "-U",
			    PGEMBED_USER, "-E", "UTF8", "--locale=C",
			    lc_ctype, "--auth-local=trust",
			    "--auth-host=reject", "--no-instructions",
			    pg->fast ? "--no-sync" : NULL, NULL };

		status = pgembed_run(pg, 1, argv, &out, errp);
		free(lc_ctype);
	}
	if (status == -1)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pgembed_fail(pg, "initdb", status, &out, 0, errp);
		goto out;
	}
	if (pg->fast && pgembed_append(conf, "\n# chiffon: a throwaway test "
	    "cluster\nfsync = off\nsynchronous_commit = off\n"
	    "full_page_writes = off\n", errp) != 0)
		goto out;
	rc = 0;
out:
	strbuf_free(&out);
	free(initdb);
	free(conf);
	return rc;
}

/* "host=... port=... dbname=... user=..." quoting each value. */
static void
pgembed_kv(struct strbuf *sb, const char *key, const char *value)
{
	const char	*p;

	if (sb->len > 0)
		strbuf_addc(sb, ' ');
	strbuf_addf(sb, "%s='", key);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, *p);
	}
	strbuf_addc(sb, '\'');
}

char *
pgembed_conninfo_user(struct pgembed *pg, const char *dbname,
    const char *user)
{
	struct strbuf	 sb = { 0 };
	char		 port[16];

	snprintf(port, sizeof port, "%d", PGEMBED_PORT);
	pgembed_kv(&sb, "host", pg->run_dir);
	pgembed_kv(&sb, "port", port);
	pgembed_kv(&sb, "dbname", dbname);
	pgembed_kv(&sb, "user", user);
	return strbuf_detach(&sb);
}

char *
pgembed_conninfo(struct pgembed *pg, const char *dbname)
{
	return pgembed_conninfo_user(pg, dbname, PGEMBED_USER);
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
static void
pgembed_urlenc(struct strbuf *sb, const char *s)
{
	char	*e;

	/* The handle argument is unused (curl_easy_escape(3)). */
	if ((e = curl_easy_escape(NULL, s, 0)) == NULL) {
		fprintf(stderr, "chiffon: out of memory escaping a URL\n");
		abort();
	}
	strbuf_adds(sb, e);
	curl_free(e);
}
char *
pgembed_url(struct pgembed *pg, const char *dbname)
{
	struct strbuf	sb = { 0 };

	strbuf_adds(&sb, "postgresql:///");
	pgembed_urlenc(&sb, dbname);
	strbuf_adds(&sb, "?host=");
	pgembed_urlenc(&sb, pg->run_dir);
	strbuf_addf(&sb, "&port=%d&user=", PGEMBED_PORT);
	pgembed_urlenc(&sb, PGEMBED_USER);
	return strbuf_detach(&sb);
}

/* Non-zero when the server answers on its socket. */
static int
pgembed_ping(struct pgembed *pg)
{
	char	*ci = pgembed_conninfo(pg, "postgres");
	int	 ok;

	ok = PQping(ci) == PQPING_OK;
	free(ci);
	return ok;
}

/* Take (or wait for) the lock that serialises start and stop. */
static int
pgembed_lock(struct pgembed *pg, char **errp)
{
	if (pg->lock_fd != -1)
		return 0;
	pg->lock_fd = open(pg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pg->lock_fd == -1)
		return set_error(errp, "cannot open %s: %s", pg->dir,
		    strerror(errno));
	while (flock(pg->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			set_error(errp, "cannot lock %s: %s", pg->dir,
			    strerror(errno));
			close(pg->lock_fd);
			pg->lock_fd = -1;
			return -1;
		}
	}
	return 0;
}

static void
pgembed_unlock(struct pgembed *pg)
{
	if (pg->lock_fd != -1) {
		close(pg->lock_fd);
		pg->lock_fd = -1;
	}
}

/* The superuser on the "postgres" database.  Caller PQfinish()es. */
static PGconn *
pgembed_connect_admin(struct pgembed *pg, char **errp)
{
	PGconn	*conn;
	char	*ci;

	ci = pgembed_conninfo(pg, "postgres");
	conn = PQconnectdb(ci);
	free(ci);
	if (PQstatus(conn) == CONNECTION_OK)
		return conn;
	set_error(errp, "cannot connect to the embedded cluster in %s: %s",
	    pg->pgdata, pgembed_chomp(PQerrorMessage(conn)));
	PQfinish(conn);
	return NULL;
}

/* The checks of pgembed_create_db on a database name. */
static int
pgembed_check_dbname(const char *dbname, char **errp)
{
	const char	*p;

	if (*dbname == '\0' || strlen(dbname) > 63 ||
	    isdigit((unsigned char)*dbname))
		return set_error(errp, "bad database name '%s': use 1 to 63 "
		    "of a-z, 0-9 and _, not starting with a digit", dbname);
	for (p = dbname; *p != '\0'; p++) {
		if (!(islower((unsigned char)*p) ||
		    isdigit((unsigned char)*p) || *p == '_'))
			return set_error(errp, "bad database name '%s': use 1 "
			    "to 63 of a-z, 0-9 and _, not starting with a "
			    "digit", dbname);
	}
	return 0;
}

/* pgembed_create_db on the superuser's connection conn. */
static int
pgembed_create_db_conn(struct pgembed *pg, PGconn *conn, const char *dbname,
    char **errp)
{
	const char	*values[1] = { dbname };
	const char	*state;
	char		*ident, *sql;
	PGresult	*res;
	int		 rc = -1;

	res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = "
	    "$1", 1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "cannot list databases in %s: %s", pg->pgdata,
		    pgembed_chomp(PQresultErrorMessage(res)));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	/* CREATE DATABASE takes no parameters: a quoted, checked name. */
	ident = PQescapeIdentifier(conn, dbname, strlen(dbname));
	if (ident == NULL)
		return set_error(errp, "cannot quote '%s': %s", dbname,
		    pgembed_chomp(PQerrorMessage(conn)));
	sql = xasprintf("CREATE DATABASE %s", ident);
	PQfreemem(ident);
	res = PQexec(conn, sql);
	free(sql);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    (state != NULL && strcmp(state, "42P04") == 0))
		rc = 0;
	else
		set_error(errp, "cannot create database %s in %s: %s", dbname,
		    pg->pgdata, pgembed_chomp(PQresultErrorMessage(res)));
	PQclear(res);
	return rc;
}

int
pgembed_create_db(struct pgembed *pg, const char *dbname, char **errp)
{
	PGconn	*conn;
	int	 rc;

	if (pgembed_check_dbname(dbname, errp) != 0)
		return -1;
	if ((conn = pgembed_connect_admin(pg, errp)) == NULL)
		return -1;
	rc = pgembed_create_db_conn(pg, conn, dbname, errp);
	PQfinish(conn);
	return rc;
}

/*
 * The runtime login role: created when missing, given LOGIN when a
 * migration created it NOLOGIN.  Never a superuser; it owns nothing.
 * Authentication on the private socket is trust, as for the owner.
 */
static int
pgembed_create_role(struct pgembed *pg, PGconn *conn, char **errp)
{
	static const char sql[] =
		"DO $$ BEGIN "
		"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '"
		PGEMBED_RUNTIME_USER "') THEN "
		"CREATE ROLE " PGEMBED_RUNTIME_USER " LOGIN NOSUPERUSER "
		"NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; "
		"ELSE ALTER ROLE " PGEMBED_RUNTIME_USER " LOGIN NOSUPERUSER "
		"NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; "
		"END IF; "
		"EXCEPTION WHEN duplicate_object OR unique_violation THEN "
		"NULL; END $$";
	PGresult	*res;
	int		 rc = -1;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		rc = 0;
	else
		set_error(errp, "cannot create the role %s in %s: %s",
		    PGEMBED_RUNTIME_USER, pg->pgdata,
		    pgembed_chomp(PQresultErrorMessage(res)));
	PQclear(res);
	return rc;
}

/*
 * The chiffon database and the runtime role, on one superuser
 * connection: 0, or -1 with *errp.
 */
static int
pgembed_ensure_db_role(struct pgembed *pg, char **errp)
{
	PGconn	*conn;
	int	 rc;

	if ((conn = pgembed_connect_admin(pg, errp)) == NULL)
		return -1;
	rc = pgembed_create_db_conn(pg, conn, PGEMBED_DBNAME, errp);
	if (rc == 0)
		rc = pgembed_create_role(pg, conn, errp);
	PQfinish(conn);
	return rc;
}

/* See pgembed.h: postmaster.pid names this cluster's live server. */
int
pgembed_running(struct pgembed *pg)
{
	char	*err = NULL;
	pid_t	 pid;

	if (pgembed_check_path(pg, &err) != 0 ||
	    pgembed_check_pid(pg, 0, &pid, &err) != 0 || pid == 0) {
		free(err);
		return 0;
	}
	return 1;
}

/*
 * The common start: postmaster.pid names this cluster's live server and
 * it answers.  Then nothing needs preparing (no binaries looked up, no
 * account checked, no settings rewritten: the running server found its
 * socket) and one connection makes sure of the database and the role.
 * 1 done, 0 when the full start must run (not running, not answering,
 * anything odd: the full start finds and explains it).
 */
static int
pgembed_start_running(struct pgembed *pg)
{
	char	*err = NULL;

	if (!pgembed_running(pg))
		return 0;
	if (pgembed_ensure_db_role(pg, &err) != 0) {
		/* Stopping, or not ready yet: the full start waits for it. */
		free(err);
		return 0;
	}
	return 1;
}

/*
 * Everything pgembed_start does before pg_ctl: directories, ownership,
 * binaries, version and an initialised, configured cluster.  Leaves the
 * lock held.
 */
static int
pgembed_prepare(struct pgembed *pg, char **errp)
{
	struct stat	 st;
	char		*major;
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	/* Check before creating anything, and again once it exists. */
	if (pgembed_check_path(pg, errp) != 0 ||
	    pgembed_account(pg, errp) != 0 ||
	    pgembed_check_reach(pg, 0, errp) != 0)
		return -1;
	if (mkdir_p(pg->data_dir, pg->as_other ? 0711 : 0700) != 0)
		return set_error(errp, "cannot create the data directory %s: "
		    "%s; set core.data_dir (or CHIFFON_DATA_DIR) to a "
		    "writable place", pg->data_dir, strerror(errno));
	if (pgembed_mkdir_owned(pg, pg->dir, 0700, errp) != 0 ||
	    pgembed_lock(pg, errp) != 0 ||
	    pgembed_mkdir_owned(pg, pg->run_dir, 0700, errp) != 0 ||
	    pgembed_check_reach(pg, 1, errp) != 0)
		return -1;

	major = pgembed_cluster_major(pg);
	if (pgembed_find_bindir(pg, major, errp) != 0) {
		free(major);
		return -1;
	}
	if (major != NULL) {
		if (strcmp(major, pg->major) != 0) {
			set_error(errp, "cluster in %s was created by "
			    "PostgreSQL %s, server binaries are %s (%s): run "
			    "pg_upgrade or move it away (or install "
			    "PostgreSQL %s's server)", pg->pgdata, major,
			    pg->major, pg->bindir, major);
			free(major);
			return -1;
		}
		free(major);
		if (stat(pg->pgdata, &st) == 0 && st.st_uid != pg->uid)
			return set_error(errp, "%s belongs to uid %ld but the "
			    "server runs as uid %ld: chown -R it to that "
			    "account, or set db.server_user", pg->pgdata,
			    (long)st.st_uid, (long)pg->uid);
		return pgembed_configure(pg, errp);
	}

	if ((d = opendir(pg->pgdata)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				empty = 0;
		}
		closedir(d);
		if (!empty)
			return set_error(errp, "%s is not empty but holds no "
			    "PostgreSQL cluster (no PG_VERSION): move it away "
			    "so chiffon can create one", pg->pgdata);
		if (rmdir(pg->pgdata) != 0)
			return set_error(errp, "cannot remove the empty %s: "
			    "%s", pg->pgdata, strerror(errno));
	} else if (errno != ENOENT)
		return set_error(errp, "cannot read %s: %s", pg->pgdata,
		    strerror(errno));
	if (pgembed_initdb(pg, errp) != 0)
		return -1;
	return pgembed_configure(pg, errp);
}

int
pgembed_start(struct pgembed *pg, int *started, char **errp)
{
	struct strbuf	 out = { 0 };
	char		*pg_ctl = NULL;
	pid_t		 pid;
	int		 status, rc = -1, i;

	if (started != NULL)
		*started = 0;
	if (pgembed_start_running(pg))
		return 0;
	if (pgembed_prepare(pg, errp) != 0)
		goto out;
	if (pgembed_check_pid(pg, 1, &pid, errp) != 0)
		goto out;
	if (pid > 0) {
		/* Running (perhaps still starting): wait for it to answer. */
		for (i = 0; i < 300 && !pgembed_ping(pg); i++)
			usleep(100 * 1000);
		if (i == 300) {
			char *tail = pgembed_tail(pg->log_path,
			    PGEMBED_LOG_TAIL);

			set_error(errp, "the server of %s (pid %ld) is running "
			    "but does not answer on %s: stop it with 'chiffon "
			    "db stop'; last lines of %s:\n%s", pg->pgdata,
			    (long)pid, pg->run_dir, pg->log_path, tail);
			free(tail);
			goto out;
		}
	} else {
		if (pgembed_check_space(pg, pg->min_free / 4,
		    "start the server", errp) != 0)
			goto out;
		pg_ctl = path_join(pg->bindir, "pg_ctl");
		{
			char *argv[] = { pg_ctl, "start", "-w", "-t", "120",
			    "-D", pg->pgdata, "-l", pg->log_path, NULL };

			status = pgembed_run(pg, 1, argv, &out, errp);
		}
		if (status == -1)
			goto out;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			pgembed_fail(pg, "PostgreSQL did not start: pg_ctl",
			    status, &out, 1, errp);
			goto out;
		}
		if (started != NULL)
			*started = 1;
	}
	rc = pgembed_ensure_db_role(pg, errp);
out:
	pgembed_unlock(pg);
	strbuf_free(&out);
	free(pg_ctl);
	return rc;
}

int
pgembed_stop(struct pgembed *pg, int *was_running, char **errp)
{
	struct strbuf	 out = { 0 };
	struct stat	 st;
	char		*pg_ctl = NULL, *major = NULL;
	pid_t		 pid;
	int		 status, rc = -1;

	if (was_running != NULL)
		*was_running = 0;
	if (stat(pg->pgdata, &st) != 0)
		return 0;
	if (pgembed_account(pg, errp) != 0 || pgembed_lock(pg, errp) != 0)
		goto out;
	if (pgembed_check_pid(pg, 1, &pid, errp) != 0)
		goto out;
	if (pid == 0) {
		rc = 0;
		goto out;
	}
	major = pgembed_cluster_major(pg);
	if (pgembed_find_bindir(pg, major, errp) != 0)
		goto out;
	pg_ctl = path_join(pg->bindir, "pg_ctl");
	{
		char *argv[] = { pg_ctl, "stop", "-w", "-t", "120", "-m",
		    "fast", "-D", pg->pgdata, NULL };

		status = pgembed_run(pg, 1, argv, &out, errp);
	}
	if (status == -1)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pgembed_fail(pg, "pg_ctl stop", status, &out, 1, errp);
		goto out;
	}
	if (was_running != NULL)
		*was_running = 1;
	rc = 0;
out:
	pgembed_unlock(pg);
	strbuf_free(&out);
	free(pg_ctl);
	free(major);
	return rc;
}

/* Bytes used on disk under the directory open as fd (closed here). */
static uint64_t
pgembed_du(int fd)
{
	struct dirent	*de;
	struct stat	 st;
	uint64_t	 total = 0;
	DIR		*d;
	int		 sub;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		total += (uint64_t)st.st_blocks * 512;
		if (!S_ISDIR(st.st_mode))
			continue;
		sub = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub != -1)
			total += pgembed_du(sub);
	}
	closedir(d);
	return total;
}

int
pgembed_status(struct pgembed *pg, struct pgembed_status *st, char **errp)
{
	char	*err = NULL;
	pid_t	 pid = 0;
	int	 fd;

	memset(st, 0, sizeof *st);
	st->cluster_major = pgembed_cluster_major(pg);
	st->initialized = st->cluster_major != NULL;
	if (pgembed_find_bindir(pg, st->cluster_major, &err) == 0) {
		st->version = xstrdup(pg->version);
		st->bindir = xstrdup(pg->bindir);
	}
	free(err);
	err = NULL;
	if (st->initialized) {
		if (pgembed_check_pid(pg, 0, &pid, errp) != 0) {
			pgembed_status_free(st);
			return -1;
		}
		st->pid = pid;
		st->running = pid > 0;
		fd = open(pg->pgdata, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd != -1)
			st->size = pgembed_du(fd);
	}
	return 0;
}

void
pgembed_status_free(struct pgembed_status *st)
{
	free(st->version);
	free(st->cluster_major);
	free(st->bindir);
	memset(st, 0, sizeof *st);
}
