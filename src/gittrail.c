/*
 * gittrail.c - the git side of the audit trail, through libgit2.
 *
 * A commit is made without touching anything but the named paths: the
 * new tree is HEAD's tree with those entries replaced
 * (git_tree_create_updated), so changes the user staged in the index are
 * neither committed nor lost; the index entries of the named paths are
 * then brought in line with the commit.  Whether anything changed is
 * decided by hashing the new content (git_odb_hash) against HEAD's
 * entries before any object is written, so an unchanged entry writes
 * nothing at all, even to a read-only repository.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "audit-query.h"
#include "gittrail.h"
#include "log.h"
#include "util.h"

/* Attempts when another writer moves HEAD between read and commit. */
#define GITTRAIL_TRIES	5
/* The trailer naming the audit chain's head an entry was committed at. */
#define GITTRAIL_ANCHOR	"Chiffon-Audit-Head:"

/* One path to commit: new content, or removal. */
struct gittrail_file {
	char		*path;		/* relative to the top of the tree */
	char		*buf;		/* content; NULL: remove the path */
	size_t		 len;
	git_filemode_t	 mode;
};

/* A set of changes for one commit. */
struct gittrail_change {
	struct gittrail_file	*files;
	size_t			 nfiles;
	int			 write_workdir;	/* buf goes to the work tree */
};

/*
 * libgit2's first git_libgit2_init loads the library and parses the
 * system's CA bundle for mbedTLS: 30-50 ms at the end of every task
 * (issue 15).  gittrail_warm does it on a thread of its own while a run
 * goes on, and keeps that reference for the life of the process, so the
 * commit afterwards finds libgit2 ready; gittrail_init waits for the
 * thread first (nothing else of libgit2 is called meanwhile).  The
 * thread makes no other call, and the children chiffon forks only exec.
 */
static pthread_t	gittrail_warm_thread;
static int		gittrail_warm_state;	/* 0 none, 1 running, 2 done */

static void *
gittrail_warm_main(void *arg)
{
	(void)arg;
	git_libgit2_init();
	return NULL;
}

void
gittrail_warm(void)
{
	if (gittrail_warm_state != 0)
		return;
	gittrail_warm_state = pthread_create(&gittrail_warm_thread, NULL,
	    gittrail_warm_main, NULL) == 0 ? 1 : 2;
}

/* git_libgit2_init, after the warming thread (if any) is done. */
static void
gittrail_init(void)
{
	if (gittrail_warm_state == 1) {
		pthread_join(gittrail_warm_thread, NULL);
		gittrail_warm_state = 2;
	}
	git_libgit2_init();
}

/* The last libgit2 error as text. */
static const char *
gittrail_git_message(void)
{
	const git_error	*e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

static int
gittrail_error(char **errp, const char *repo, const char *what)
{
	return set_error(errp, "audit repository %s: %s: %s", repo, what,
	    gittrail_git_message());
}

char *
gittrail_task_path(long long task_id)
{
	return xasprintf(".audit/tasks/%lld.json", task_id);
}

/* Non-zero when dir has no entries but . and .. (or cannot be read). */
static int
gittrail_dir_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

/* Open the repository at path, creating it when missing or empty. */
static int
gittrail_open(const char *path, git_repository **repop, char **errp)
{
	struct stat	st;
	int		rc;

	*repop = NULL;
	if (stat(path, &st) == -1) {
		if (errno != ENOENT)
			return set_error(errp, "audit repository %s: %s "
			    "(check audit.repo)", path, strerror(errno));
		if (mkdir_p(path, 0755) != 0)
			return set_error(errp, "audit repository %s: cannot "
			    "create it: %s (check audit.repo)", path,
			    strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return set_error(errp, "audit repository %s: not a directory "
		    "(check audit.repo)", path);
	} else {
		rc = git_repository_open_ext(repop, path,
		    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		if (rc == 0)
			return 0;
		if (rc != GIT_ENOTFOUND)
			return gittrail_error(errp, path, "cannot open it");
		if (!gittrail_dir_empty(path))
			return set_error(errp, "audit repository %s: exists "
			    "and is not a git repository: run `git init` "
			    "there or set audit.repo to another directory",
			    path);
	}
	if (git_repository_init(repop, path, 0) != 0)
		return gittrail_error(errp, path, "cannot create it");
	return 0;
}

/* Copy s with characters git refuses in a signature replaced. */
static char *
gittrail_clean(const char *s)
{
	char	*c = xstrdup(s), *p;

	for (p = c; *p != '\0'; p++)
		if (*p == '<' || *p == '>' || *p == '\n')
			*p = '_';
	return c;
}

/*
 * A signature for name/email: a name holding '@' is also the email, else
 * the email is name@hostname.
 */
static int
gittrail_signature(git_signature **sigp, const char *name, const char *email,
    const char *repo, char **errp)
{
	char	 host[256], *n, *e, *at;
	int	 rc;

	if (name == NULL || *name == '\0')
		name = audit_user();
	if (gethostname(host, sizeof host) != 0 || *host == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	n = gittrail_clean(name);
	if (email != NULL && *email != '\0')
		e = gittrail_clean(email);
	else if (strchr(n, '@') != NULL)
		e = xstrdup(n);
	else
		e = xasprintf("%s@%s", n, host);
	if ((at = strchr(n, '@')) != NULL && at != n)
		*at = '\0';
	rc = git_signature_now(sigp, n, e);
	free(n);
	free(e);
	if (rc != 0)
		return gittrail_error(errp, repo, "bad author");
	return 0;
}

/* Write buf to dir/rel atomically (temporary file and rename). */
static int
gittrail_write_file(const char *workdir, const struct gittrail_file *f,
    const char *repo, char **errp)
{
	char	*path, *tmp, *slash;
	int	 fd, rc = -1;
	ssize_t	 w;
	size_t	 off = 0;

	path = path_join(workdir, f->path);
	tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if (mkdir_p(path, 0755) != 0) {
			set_error(errp, "audit repository %s: cannot create "
			    "%s: %s", repo, path, strerror(errno));
			goto out;
		}
		*slash = '/';
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		set_error(errp, "audit repository %s: cannot write %s: %s",
		    repo, f->path, strerror(errno));
		goto out;
	}
	while (off < f->len) {
		w = write(fd, f->buf + off, f->len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			set_error(errp, "audit repository %s: cannot write "
			    "%s: %s", repo, f->path, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		set_error(errp, "audit repository %s: cannot write %s: %s",
		    repo, f->path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

/* Non-zero when the file's entry in tree (may be NULL) already matches. */
static int
gittrail_unchanged(git_tree *tree, const struct gittrail_file *f)
{
	git_tree_entry	*e = NULL;
	git_oid		 oid;
	int		 same;

	if (tree == NULL || git_tree_entry_bypath(&e, tree, f->path) != 0)
		return f->buf == NULL;
	if (f->buf == NULL) {
		git_tree_entry_free(e);
		return 0;
	}
	same = git_odb_hash(&oid, f->buf, f->len, GIT_OBJECT_BLOB) == 0 &&
	    git_oid_equal(&oid, git_tree_entry_id(e)) &&
	    git_tree_entry_filemode(e) == f->mode;
	git_tree_entry_free(e);
	return same;
}

/* HEAD's commit and tree, or NULLs on an unborn branch. */
static int
gittrail_head(git_repository *repo, git_commit **commitp, git_tree **treep,
    const char *path, char **errp)
{
	git_oid	oid;
	int	rc;

	*commitp = NULL;
	*treep = NULL;
	rc = git_reference_name_to_id(&oid, repo, "HEAD");
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
		return 0;
	if (rc != 0)
		return gittrail_error(errp, path, "cannot read HEAD");
	if (git_commit_lookup(commitp, repo, &oid) != 0 ||
	    git_commit_tree(treep, *commitp) != 0) {
		git_commit_free(*commitp);
		*commitp = NULL;
		return gittrail_error(errp, path, "cannot read HEAD's tree");
	}
	return 0;
}

/* Bring the index entries of the changed paths in line with the commit. */
static int
gittrail_update_index(git_repository *repo, const struct gittrail_change *c,
    const char *path, char **errp)
{
	git_index	*idx;
	size_t		 i;
	int		 rc = 0;

	if (git_repository_index(&idx, repo) != 0)
		return gittrail_error(errp, path, "cannot open the index");
	if (git_index_read(idx, 0) != 0)
		rc = gittrail_error(errp, path, "cannot read the index");
	for (i = 0; rc == 0 && i < c->nfiles; i++) {
		if (c->files[i].buf == NULL)
			(void)git_index_remove_bypath(idx, c->files[i].path);
		else if (git_index_add_bypath(idx, c->files[i].path) != 0)
			rc = gittrail_error(errp, path,
			    "cannot update the index");
	}
	if (rc == 0 && git_index_write(idx) != 0)
		rc = gittrail_error(errp, path, "cannot write the index");
	git_index_free(idx);
	return rc;
}

/*
 * Commit the change on top of HEAD.  Returns 1 committed, 0 unchanged, -1
 * with *errp.  *commitp gets the new commit (or HEAD) id.
 */
static int
gittrail_commit(git_repository *repo, const char *path,
    const struct gittrail_change *c, const char *message,
    const git_signature *author, const git_signature *committer,
    char **commitp, char **errp)
{
	git_tree_update	*up = NULL;
	git_commit	*head = NULL;
	git_tree	*base = NULL, *tree = NULL;
	git_oid		 tree_oid, commit_oid;
	const git_commit *parents[1];
	char		 hex[GIT_OID_HEXSZ + 1];
	const char	*workdir = git_repository_workdir(repo);
	size_t		 i;
	int		 rc = -1, err, tries, changed;

	if (commitp != NULL)
		*commitp = NULL;
	for (tries = 0; tries < GITTRAIL_TRIES; tries++) {
		if (gittrail_head(repo, &head, &base, path, errp) != 0)
			return -1;
		changed = 0;
		for (i = 0; i < c->nfiles; i++)
			if (!gittrail_unchanged(base, &c->files[i]))
				changed = 1;
		if (!changed) {
			if (commitp != NULL && head != NULL)
				*commitp = xstrdup(git_oid_tostr(hex,
				    sizeof hex, git_commit_id(head)));
			rc = 0;
			goto out;
		}
		if (c->write_workdir && workdir != NULL) {
			for (i = 0; i < c->nfiles; i++)
				if (c->files[i].buf != NULL &&
				    gittrail_write_file(workdir, &c->files[i],
				    path, errp) != 0)
					goto out;
		}
		free(up);
		up = xcalloc(c->nfiles, sizeof *up);
		for (i = 0; i < c->nfiles; i++) {
			up[i].path = c->files[i].path;
			if (c->files[i].buf == NULL) {
				up[i].action = GIT_TREE_UPDATE_REMOVE;
				continue;
			}
			up[i].action = GIT_TREE_UPDATE_UPSERT;
			up[i].filemode = c->files[i].mode;
			if (git_blob_create_from_buffer(&up[i].id, repo,
			    c->files[i].buf, c->files[i].len) != 0) {
				gittrail_error(errp, path, "cannot store the "
				    "file");
				goto out;
			}
		}
		if (base == NULL) {
			git_treebuilder	*tb;

			if (git_treebuilder_new(&tb, repo, NULL) != 0 ||
			    git_treebuilder_write(&tree_oid, tb) != 0 ||
			    git_tree_lookup(&base, repo, &tree_oid) != 0) {
				git_treebuilder_free(tb);
				gittrail_error(errp, path,
				    "cannot build a tree");
				goto out;
			}
			git_treebuilder_free(tb);
		}
		if (git_tree_create_updated(&tree_oid, repo, base, c->nfiles,
		    up) != 0 || git_tree_lookup(&tree, repo, &tree_oid) != 0) {
			gittrail_error(errp, path, "cannot build the tree");
			goto out;
		}
		parents[0] = head;
		err = git_commit_create(&commit_oid, repo, "HEAD", author,
		    committer, NULL, message, tree, head != NULL ? 1 : 0,
		    parents);
		git_tree_free(tree);
		tree = NULL;
		if (err == 0)
			break;
		if (err != GIT_EMODIFIED && err != GIT_ELOCKED) {
			gittrail_error(errp, path, "cannot commit");
			goto out;
		}
		/* Someone else committed meanwhile: start over. */
		git_tree_free(base);
		git_commit_free(head);
		base = NULL;
		head = NULL;
		usleep(10000 * (tries + 1));
	}
	if (tries == GITTRAIL_TRIES) {
		gittrail_error(errp, path, "HEAD kept moving; cannot commit");
		goto out;
	}
	if (commitp != NULL)
		*commitp = xstrdup(git_oid_tostr(hex, sizeof hex, &commit_oid));
	if (workdir != NULL && gittrail_update_index(repo, c, path, errp) != 0)
		goto out;
	rc = 1;
out:
	free(up);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(head);
	if (rc == -1 && commitp != NULL) {
		free(*commitp);
		*commitp = NULL;
	}
	return rc;
}

/*
 * gittrail_commit authored by author_name <author_email> (the defaults of
 * gittrail_signature when NULL) and committed by chiffon.
 */
static int
gittrail_commit_as(git_repository *repo, const char *path,
    const struct gittrail_change *c, const char *message,
    const char *author_name, const char *author_email, char **commitp,
    char **errp)
{
	git_signature	*author = NULL, *committer = NULL;
	int		 rc = -1;

	if (gittrail_signature(&author, author_name, author_email, path,
	    errp) == 0 &&
	    gittrail_signature(&committer, "chiffon", NULL, path, errp) == 0)
		rc = gittrail_commit(repo, path, c, message, author, committer,
		    commitp, errp);
	git_signature_free(author);
	git_signature_free(committer);
	return rc;
}

/*
 * gittrail_commit_task with anchor (NULL: none) as a trailer of the
 * message: the audit chain's head when the entry was committed.
 */
static int
gittrail_commit_entry(const char *repo_path, long long task_id,
    const char *status, const char *json_entry, const char *author_name,
    const char *author_email, const char *anchor, char **commitp,
    char **errp)
{
	git_repository		*repo = NULL;
	struct gittrail_file	 f;
	struct gittrail_change	 c = { &f, 1, 1 };
	char			*msg;
	int			 rc = -1;

	if (commitp != NULL)
		*commitp = NULL;
	gittrail_init();
	f.path = gittrail_task_path(task_id);
	f.buf = (char *)json_entry;
	f.len = strlen(json_entry);
	f.mode = GIT_FILEMODE_BLOB;
	msg = xasprintf("audit: task %lld %s\n%s%s%s", task_id,
	    status != NULL ? status : "finished", anchor != NULL ?
	    "\n" GITTRAIL_ANCHOR " " : "", anchor != NULL ? anchor : "",
	    anchor != NULL ? "\n" : "");
	if (gittrail_open(repo_path, &repo, errp) != 0)
		goto out;
	rc = gittrail_commit_as(repo, repo_path, &c, msg, author_name,
	    author_email, commitp, errp);
out:
	git_repository_free(repo);
	free(f.path);
	free(msg);
	git_libgit2_shutdown();
	return rc;
}

int
gittrail_commit_task(const char *repo_path, long long task_id,
    const char *status, const char *json_entry, const char *author_name,
    const char *author_email, char **commitp, char **errp)
{
	return gittrail_commit_entry(repo_path, task_id, status, json_entry,
	    author_name, author_email, NULL, commitp, errp);
}

/* Add top/rel (a file, a directory walked recursively, or missing). */
static int
gittrail_collect(const char *top, const char *rel, struct gittrail_change *c,
    char **errp)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		*full, *sub;
	int		 rc = 0;

	full = path_join(top, rel);
	if (lstat(full, &st) == -1) {
		if (errno != ENOENT) {
			rc = set_error(errp, "%s: %s", full, strerror(errno));
			free(full);
			return rc;
		}
		c->files = xreallocarray(c->files, c->nfiles + 1,
		    sizeof *c->files);
		c->files[c->nfiles++] = (struct gittrail_file){
		    xstrdup(rel), NULL, 0, GIT_FILEMODE_BLOB };
	} else if (S_ISDIR(st.st_mode)) {
		if ((d = opendir(full)) == NULL) {
			rc = set_error(errp, "%s: %s", full, strerror(errno));
		} else {
			while (rc == 0 && (de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0 ||
				    strcmp(de->d_name, ".git") == 0)
					continue;
				sub = path_join(rel, de->d_name);
				rc = gittrail_collect(top, sub, c, errp);
				free(sub);
			}
			closedir(d);
		}
	} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
		struct gittrail_file	f = { xstrdup(rel), NULL, 0, 0 };

		if (S_ISLNK(st.st_mode)) {
			char	buf[4096];
			ssize_t	n = readlink(full, buf, sizeof buf);

			if (n < 0) {
				free(f.path);
				rc = set_error(errp, "%s: %s", full,
				    strerror(errno));
				free(full);
				return rc;
			}
			f.buf = xstrndup(buf, (size_t)n);
			f.len = (size_t)n;
			f.mode = GIT_FILEMODE_LINK;
		} else {
			f.buf = read_file(full, &f.len);
			f.mode = st.st_mode & 0111 ?
			    GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
			if (f.buf == NULL) {
				free(f.path);
				rc = set_error(errp, "%s: %s", full,
				    strerror(errno));
				free(full);
				return rc;
			}
		}
		c->files = xreallocarray(c->files, c->nfiles + 1,
		    sizeof *c->files);
		c->files[c->nfiles++] = f;
	}
	free(full);
	return rc;
}

int
gittrail_commit_repo_change(const char *repo_path, const char *const *paths,
    const char *message, long long task_id, const char *author_name,
    const char *author_email, char **commitp, char **errp)
{
	git_repository		*repo = NULL;
	struct gittrail_change	 c = { NULL, 0, 0 };
	const char		*workdir;
	char			*msg = NULL;
	size_t			 i, len;
	int			 rc = -1;

	if (commitp != NULL)
		*commitp = NULL;
	gittrail_init();
	if (gittrail_open(repo_path, &repo, errp) != 0)
		goto out;
	if ((workdir = git_repository_workdir(repo)) == NULL) {
		set_error(errp, "%s: a bare repository has no working tree "
		    "to commit from", repo_path);
		goto out;
	}
	for (i = 0; paths != NULL && paths[i] != NULL; i++) {
		if (*paths[i] == '/' || strstr(paths[i], "..") != NULL) {
			set_error(errp, "%s: path '%s' must be relative to the "
			    "top of the repository", repo_path, paths[i]);
			goto out;
		}
		if (gittrail_collect(workdir, paths[i], &c, errp) != 0)
			goto out;
	}
	if (c.nfiles == 0) {
		rc = 0;
		goto out;
	}
	/* The message, then one blank line and the trailer. */
	len = strlen(message);
	while (len > 0 && message[len - 1] == '\n')
		len--;
	msg = xasprintf("%.*s\n\nChiffon-Task: %lld\n", (int)len, message,
	    task_id);
	rc = gittrail_commit_as(repo, repo_path, &c, msg, author_name,
	    author_email, commitp, errp);
out:
	for (i = 0; i < c.nfiles; i++) {
		free(c.files[i].path);
		free(c.files[i].buf);
	}
	free(c.files);
	git_repository_free(repo);
	free(msg);
	git_libgit2_shutdown();
	return rc;
}

/* Record the outcome of one attempt in audit_git.  0, or -1. */
static int
gittrail_record(PGconn *pg, long long task_id, const char *repo,
    const char *entry, const char *commit, const char *error)
{
	const char	*params[6];
	char		 idbuf[32], *path;
	PGresult	*res;
	int		 rc;

	snprintf(idbuf, sizeof idbuf, "%lld", task_id);
	path = gittrail_task_path(task_id);
	params[0] = idbuf;
	params[1] = repo;
	params[2] = path;
	params[3] = entry;
	params[4] = commit;
	params[5] = error;
	res = PQexecParams(pg,
	    "INSERT INTO audit_git AS g (task_id, repo, path, content_sha256, "
	    "commit_id, committed_at, attempts, last_error) VALUES "
	    "($1::bigint, $2, $3, CASE WHEN $4::text IS NOT NULL THEN "
	    "encode(sha256(convert_to($4::text, 'UTF8')), 'hex') END, $5, "
	    "CASE WHEN $6::text IS NULL THEN now() END, 1, $6) "
	    "ON CONFLICT (task_id) DO UPDATE SET repo = EXCLUDED.repo, "
	    "path = EXCLUDED.path, "
	    "content_sha256 = coalesce(EXCLUDED.content_sha256, "
	    "g.content_sha256), "
	    "commit_id = coalesce(EXCLUDED.commit_id, g.commit_id), "
	    "committed_at = EXCLUDED.committed_at, "
	    "attempts = g.attempts + 1, last_error = EXCLUDED.last_error, "
	    "updated_at = now()", 6, NULL, params, NULL, NULL, 0);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc != 0)
		log_warn("audit_git: the entry of task %lld is not recorded "
		    "(retried at the next start): %s", task_id,
		    PQresultErrorMessage(res));
	PQclear(res);
	free(path);
	return rc;
}

/* Number of attempts recorded for a task's entry (0 when none). */
static int
gittrail_attempts(PGconn *pg, long long task_id)
{
	const char	*params[1];
	char		 idbuf[32];
	PGresult	*res;
	int		 n = 0;

	snprintf(idbuf, sizeof idbuf, "%lld", task_id);
	params[0] = idbuf;
	res = PQexecParams(pg, "SELECT attempts FROM audit_git WHERE "
	    "task_id = $1::bigint", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* The audit row for a commit made or a first failure. */
static void
gittrail_audit(PGconn *pg, long long task_id, const char *kind,
    const char *actor, const char *repo, const char *commit,
    const char *error)
{
	struct audit_ids	 ids = { 0 };
	const char		*params[3];
	PGresult		*res;
	char			*err = NULL;

	params[0] = repo;
	params[1] = commit;
	params[2] = error;
	res = PQexecParams(pg, "SELECT jsonb_strip_nulls(jsonb_build_object("
	    "'repo', $1::text, 'commit', $2::text, 'error', $3::text))::text",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		ids.task_id = task_id;
		if (audit_record(pg, kind, actor, &ids, NULL,
		    PQgetvalue(res, 0, 0), &err) == -1)
			free(err);
	}
	PQclear(res);
}

/* "ID HASH" of the audit chain's last row, or NULL.  Caller frees. */
static char *
gittrail_head_anchor(PGconn *pg)
{
	PGresult	*res;
	char		*s = NULL;

	res = PQexec(pg, "SELECT id || ' ' || hash FROM audit_log "
	    "ORDER BY id DESC LIMIT 1");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		s = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return s;
}

int
gittrail_task(PGconn *pg, long long task_id, const char *repo_path,
    const char *actor, char **commitp, char **errp)
{
	char	*entry = NULL, *status = NULL, *author = NULL, *commit = NULL;
	char	*err = NULL, *anchor;
	int	 rc;

	if (commitp != NULL)
		*commitp = NULL;
	if (audit_query_entry(pg, task_id, &entry, &status, &author,
	    &err) != 0) {
		gittrail_record(pg, task_id, repo_path, NULL, NULL, err);
		rc = set_error(errp, "%s", err);
		free(err);
		return rc;
	}
	anchor = gittrail_head_anchor(pg);
	rc = gittrail_commit_entry(repo_path, task_id, status, entry, author,
	    NULL, anchor, &commit, &err);
	free(anchor);
	if (rc == -1) {
		if (gittrail_attempts(pg, task_id) == 0)
			gittrail_audit(pg, task_id, "git.failed", actor,
			    repo_path, NULL, err);
		gittrail_record(pg, task_id, repo_path, entry, NULL, err);
		set_error(errp, "%s", err);
		free(err);
	} else {
		gittrail_record(pg, task_id, repo_path, entry, commit, NULL);
		if (rc == 1)
			gittrail_audit(pg, task_id, "git.committed", actor,
			    repo_path, commit, NULL);
	}
	if (commitp != NULL)
		*commitp = commit;
	else
		free(commit);
	free(entry);
	free(status);
	free(author);
	return rc;
}

int
gittrail_retry_pending(PGconn *pg, int *ndone, int *nfailed, char **errp)
{
	PGresult	*res;
	char		*err;
	int		 i, n, done = 0, failed = 0;

	/*
	 * Pending entries, and failures whose audit_git row could not be
	 * written (the git.failed audit row names the repository).
	 */
	res = PQexec(pg, "SELECT task_id, repo FROM audit_git "
	    "WHERE committed_at IS NULL UNION "
	    "SELECT DISTINCT a.task_id, a.data->>'repo' FROM audit_log a "
	    "WHERE a.kind = 'git.failed' AND a.task_id IS NOT NULL "
	    "AND a.data ? 'repo' AND NOT EXISTS (SELECT 1 FROM audit_git g "
	    "WHERE g.task_id = a.task_id) ORDER BY 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "audit_git: cannot read pending entries: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		err = NULL;
		if (gittrail_task(pg, strtoll(PQgetvalue(res, i, 0), NULL, 10),
		    PQgetvalue(res, i, 1), NULL, NULL, &err) == -1) {
			failed++;
			free(err);
		} else
			done++;
	}
	PQclear(res);
	if (ndone != NULL)
		*ndone = done;
	if (nfailed != NULL)
		*nfailed = failed;
	return 0;
}

/* --- verification against the database ---------------------------------- */

/* Pairs "{a,b}" and "{x,y}" for unnest, with the commit or path of each. */
struct gittrail_pairs {
	struct strbuf	 ids;
	struct strbuf	 hashes;
	char		**where;
	size_t		 n;
};

static void
gittrail_pairs_add(struct gittrail_pairs *p, long long id, const char *hash,
    const char *where)
{
	strbuf_addf(&p->ids, "%s%lld", p->n > 0 ? "," : "{", id);
	strbuf_addf(&p->hashes, "%s%s", p->n > 0 ? "," : "{", hash);
	p->where = xreallocarray(p->where, p->n + 1, sizeof *p->where);
	p->where[p->n++] = xstrdup(where);
}

static void
gittrail_pairs_free(struct gittrail_pairs *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		free(p->where[i]);
	free(p->where);
	strbuf_free(&p->ids);
	strbuf_free(&p->hashes);
	memset(p, 0, sizeof *p);
}

/*
 * Run sql over the pairs ($1 ids, $2 hashes; its first column is the
 * pair's ordinality): 1 with *resp (caller clears) and *wherep (the pair's
 * commit or path) when it returns a row, 0 when none or no pairs, -1 with
 * *errp.
 */
static int
gittrail_pairs_check(PGconn *pg, struct gittrail_pairs *p, const char *sql,
    PGresult **resp, const char **wherep, char **errp)
{
	const char	*params[2];
	PGresult	*res;
	size_t		 i;

	if (p->n == 0)
		return 0;
	strbuf_addc(&p->ids, '}');
	strbuf_addc(&p->hashes, '}');
	params[0] = p->ids.buf;
	params[1] = p->hashes.buf;
	res = PQexecParams(pg, sql, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_error(errp, "audit verify: %s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	i = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10) - 1;
	*wherep = i < p->n ? p->where[i] : "?";
	*resp = res;
	return 1;
}

/* The anchors of every commit reachable from HEAD. */
static int
gittrail_read_anchors(git_repository *repo, const char *path,
    struct gittrail_pairs *p, char **errp)
{
	git_revwalk	*walk = NULL;
	git_commit	*commit;
	git_oid		 oid;
	const char	*msg, *line;
	char		 hash[65], hex[GIT_OID_HEXSZ + 1];
	long long	 id;
	int		 rc = -1;

	if (git_repository_head_unborn(repo) == 1)
		return 0;
	if (git_revwalk_new(&walk, repo) != 0 ||
	    git_revwalk_push_head(walk) != 0) {
		gittrail_error(errp, path, "cannot walk its history");
		goto out;
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		if (git_commit_lookup(&commit, repo, &oid) != 0) {
			gittrail_error(errp, path, "cannot read a commit");
			goto out;
		}
		msg = git_commit_message(commit);
		for (line = msg; line != NULL && *line != '\0';
		    line = strchr(line, '\n'), line = line != NULL ?
		    line + 1 : NULL) {
			if (strncmp(line, GITTRAIL_ANCHOR " ",
			    sizeof GITTRAIL_ANCHOR) != 0 ||
			    sscanf(line + sizeof GITTRAIL_ANCHOR, "%lld "
			    "%64[0-9a-f]", &id, hash) != 2 ||
			    strlen(hash) != 64)
				continue;
			gittrail_pairs_add(p, id, hash, git_oid_tostr(hex,
			    sizeof hex, &oid));
		}
		git_commit_free(commit);
	}
	rc = 0;
out:
	git_revwalk_free(walk);
	return rc;
}

/* The output digests of the runs in the entries at HEAD. */
static int
gittrail_read_digests(git_repository *repo, const char *path,
    struct gittrail_pairs *p, int *nentriesp, char **errp)
{
	git_commit		*head = NULL;
	git_tree		*tree = NULL, *dir = NULL;
	git_tree_entry		*te = NULL;
	git_blob		*blob;
	const git_tree_entry	*e;
	json_object		*o, *runs, *run, *id, *sha;
	char			*where, *text;
	size_t			 i, j, n;
	int			 rc = -1;

	*nentriesp = 0;
	if (gittrail_head(repo, &head, &tree, path, errp) != 0)
		return -1;
	if (tree == NULL || git_tree_entry_bypath(&te, tree,
	    ".audit/tasks") != 0 || git_tree_entry_type(te) != GIT_OBJECT_TREE) {
		rc = 0;
		goto out;
	}
	if (git_tree_lookup(&dir, repo, git_tree_entry_id(te)) != 0) {
		gittrail_error(errp, path, "cannot read .audit/tasks");
		goto out;
	}
	n = git_tree_entrycount(dir);
	for (i = 0; i < n; i++) {
		e = git_tree_entry_byindex(dir, i);
		if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
		    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) != 0)
			continue;
		text = xstrndup(git_blob_rawcontent(blob),
		    (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		o = json_tokener_parse(text);
		free(text);
		if (o == NULL)
			continue;
		(*nentriesp)++;
		where = xasprintf(".audit/tasks/%s", git_tree_entry_name(e));
		if (json_object_object_get_ex(o, "runs", &runs) &&
		    json_object_is_type(runs, json_type_array)) {
			for (j = 0; j < json_object_array_length(runs); j++) {
				run = json_object_array_get_idx(runs, j);
				if (json_object_object_get_ex(run, "id", &id) &&
				    json_object_object_get_ex(run,
				    "output_sha256", &sha) &&
				    json_object_is_type(sha, json_type_string) &&
				    strspn(json_object_get_string(sha),
				    "0123456789abcdef") == 64)
					gittrail_pairs_add(p,
					    json_object_get_int64(id),
					    json_object_get_string(sha), where);
			}
		}
		free(where);
		json_object_put(o);
	}
	rc = 0;
out:
	git_tree_entry_free(te);
	git_tree_free(dir);
	git_tree_free(tree);
	git_commit_free(head);
	return rc;
}

/* Compare the anchors with audit_log.  0, 1 with *problemp, -1. */
static int
gittrail_check_anchors(PGconn *pg, struct gittrail_pairs *p,
    char **problemp, char **errp)
{
	PGresult	*res;
	const char	*commit;
	int		 rc;

	/* The newest missing anchor first: a missing tail is a truncation. */
	rc = gittrail_pairs_check(pg, p, "SELECT x.i, x.id, l.hash, "
	    "(SELECT coalesce(max(id), 0) FROM audit_log) FROM unnest("
	    "$1::bigint[], $2::text[]) WITH ORDINALITY AS x(id, hash, i) "
	    "LEFT JOIN audit_log l ON l.id = x.id WHERE l.hash IS DISTINCT "
	    "FROM x.hash ORDER BY (l.id IS NULL) DESC, x.id DESC, "
	    "x.i LIMIT 1", &res, &commit, errp);
	if (rc != 1)
		return rc;
	if (PQgetisnull(res, 0, 2))
		*problemp = xasprintf("the audit log was truncated: the anchor "
		    "in git commit %.12s names row %s, but the log ends at row "
		    "%s", commit, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3));
	else
		*problemp = xasprintf("audit_log row %s was rewritten (or "
		    "removed and written again): its hash %.12s differs from "
		    "the anchor in git commit %.12s", PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2), commit);
	PQclear(res);
	return 1;
}

/* Compare the entries' run digests with runs.  0, 1 with *problemp, -1. */
static int
gittrail_check_digests(PGconn *pg, struct gittrail_pairs *p,
    char **problemp, char **errp)
{
	PGresult	*res;
	const char	*path;
	int		 rc;

	rc = gittrail_pairs_check(pg, p, "SELECT x.i, x.id, "
	    "r.output_sha256, x.hash FROM unnest($1::bigint[], $2::text[]) "
	    "WITH ORDINALITY AS x(id, hash, i) LEFT JOIN runs r ON r.id = "
	    "x.id WHERE r.output_sha256 IS DISTINCT FROM x.hash ORDER BY x.id "
	    "LIMIT 1", &res, &path, errp);
	if (rc != 1)
		return rc;
	*problemp = xasprintf("run %s: the output digest in its git entry %s "
	    "(%.12s) differs from the database's (%.12s)",
	    PQgetvalue(res, 0, 1), path, PQgetvalue(res, 0, 3),
	    PQgetisnull(res, 0, 2) ? "none" : PQgetvalue(res, 0, 2));
	PQclear(res);
	return 1;
}

int
gittrail_verify(PGconn *pg, const char *repo_path,
    struct gittrail_verdict *v, char **errp)
{
	struct gittrail_pairs	 anchors = { 0 }, digests = { 0 };
	git_repository		*repo = NULL;
	const char		*params[1] = { repo_path };
	PGresult		*res;
	int			 rc = -1, err;

	memset(v, 0, sizeof *v);
	gittrail_init();
	err = git_repository_open_ext(&repo, repo_path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (err == GIT_ENOTFOUND) {
		/* No trail: fine only when nothing was ever committed to it. */
		res = PQexecParams(pg, "SELECT count(*) FROM audit_git WHERE "
		    "repo = $1 AND committed_at IS NOT NULL", 1, NULL, params,
		    NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			set_error(errp, "audit verify: %s",
			    PQresultErrorMessage(res));
		else if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
			v->problem = xasprintf("the git trail %s is missing, "
			    "but %s entries were committed to it", repo_path,
			    PQgetvalue(res, 0, 0));
			rc = 1;
		} else {
			v->missing = 1;
			rc = 0;
		}
		PQclear(res);
		goto out;
	}
	if (err != 0) {
		gittrail_error(errp, repo_path, "cannot open it");
		goto out;
	}
	if (gittrail_read_anchors(repo, repo_path, &anchors, errp) != 0 ||
	    gittrail_read_digests(repo, repo_path, &digests, &v->nentries,
	    errp) != 0)
		goto out;
	v->nanchors = (int)anchors.n;
	v->nruns = (int)digests.n;
	if ((rc = gittrail_check_anchors(pg, &anchors, &v->problem,
	    errp)) == 0)
		rc = gittrail_check_digests(pg, &digests, &v->problem, errp);
out:
	gittrail_pairs_free(&anchors);
	gittrail_pairs_free(&digests);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
