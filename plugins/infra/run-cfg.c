/*
 * run-cfg.c - the Ansible configuration a run of the infra plugin starts
 * under: which configuration file ansible-playbook will read in the
 * repository ($ANSIBLE_CONFIG, REPO/ansible.cfg, ~/.ansible.cfg,
 * /etc/ansible/ansible.cfg), the values of its [defaults] section, and the
 * environment that makes chiffon's callback plugin the stdout callback,
 * wrapping the one the repository uses (see run.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

/* --- the repo's Ansible configuration ---------------------------------- */

/* Trim spaces at both ends in place. */
static char *
run_trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * The value of key in the [defaults] section of the INI file path, as
 * Python's configparser reads Ansible's files (key = value or key: value,
 * # and ; comment lines, " ;" inline comments, quotes removed).  Caller
 * frees; NULL when absent.  Continuation lines are not supported.
 */
static char *
run_cfg_get(const char *path, const char *key)
{
	FILE	*f;
	char	*line = NULL, *s, *sep, *v, *found = NULL;
	size_t	 cap = 0;
	int	 in_defaults = 0;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (getline(&line, &cap, f) != -1) {
		s = run_trim(line);
		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			in_defaults = strncmp(s, "[defaults]", 10) == 0;
			continue;
		}
		if (!in_defaults || (sep = strpbrk(s, "=:")) == NULL)
			continue;
		*sep = '\0';
		if (strcmp(run_trim(s), key) != 0)
			continue;
		v = sep + 1;
		if ((s = strstr(v, " ;")) != NULL)
			*s = '\0';
		v = run_trim(v);
		if (strlen(v) >= 2 && (*v == '"' || *v == '\'') &&
		    v[strlen(v) - 1] == *v) {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		free(found);
		found = xstrdup(v);
	}
	free(line);
	fclose(f);
	return found;
}

/* The configuration file Ansible uses when started in repo.  Caller frees. */
static char *
run_cfg_file(const char *repo)
{
	struct stat	 sb;
	const char	*env, *home;
	char		*f;

	if ((env = getenv("ANSIBLE_CONFIG")) != NULL && *env != '\0') {
		f = *env == '/' ? xstrdup(env) : path_join(repo, env);
		if (stat(f, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			char *g = path_join(f, "ansible.cfg");
			free(f);
			f = g;
		}
		if (access(f, R_OK) == 0)
			return f;
		free(f);
	}
	/* Ansible ignores ansible.cfg in a world-writable directory. */
	if (stat(repo, &sb) == 0 && (sb.st_mode & S_IWOTH) == 0 &&
	    run_file_exists(repo, "ansible.cfg"))
		return path_join(repo, "ansible.cfg");
	if ((home = getenv("HOME")) != NULL) {
		f = path_join(home, ".ansible.cfg");
		if (access(f, R_OK) == 0)
			return f;
		free(f);
	}
	if (access("/etc/ansible/ansible.cfg", R_OK) == 0)
		return xstrdup("/etc/ansible/ansible.cfg");
	return NULL;
}

/* Make each relative entry of a colon list absolute against base. */
static char *
run_abs_pathlist(const char *list, const char *base)
{
	struct strbuf	 sb = { 0 };
	char		*copy = xstrdup(list), *p, *save = NULL, *j;

	for (p = strtok_r(copy, ":", &save); p != NULL;
	    p = strtok_r(NULL, ":", &save)) {
		p = run_trim(p);
		if (*p == '\0')
			continue;
		if (sb.len > 0)
			strbuf_addc(&sb, ':');
		if (*p == '/' || *p == '~' || *p == '$' || *p == '{') {
			strbuf_adds(&sb, p);
		} else {
			j = path_join(base, p);
			strbuf_adds(&sb, j);
			free(j);
		}
	}
	free(copy);
	return strbuf_detach(&sb);
}

char **
run_env(const char *repo, const char *callback_dir, int event_fd)
{
	char		**env = xcalloc(5, sizeof *env);
	const char	 *e;
	char		 *cfg, *stdout_cb = NULL, *paths = NULL, *base, *slash;

	cfg = run_cfg_file(repo);
	if ((e = getenv("ANSIBLE_STDOUT_CALLBACK")) != NULL && *e != '\0')
		stdout_cb = xstrdup(e);
	else if (cfg != NULL)
		stdout_cb = run_cfg_get(cfg, "stdout_callback");
	if (stdout_cb != NULL && *run_trim(stdout_cb) == '\0') {
		free(stdout_cb);
		stdout_cb = NULL;
	}

	if ((e = getenv("ANSIBLE_CALLBACK_PLUGINS")) != NULL)
		paths = xstrdup(e);
	else if (cfg != NULL && (paths = run_cfg_get(cfg,
	    "callback_plugins")) != NULL) {
		base = xstrdup(cfg);
		if ((slash = strrchr(base, '/')) != NULL)
			*slash = '\0';
		e = paths;
		paths = run_abs_pathlist(e, base);
		free((char *)e);
		free(base);
	}
	if (paths == NULL) {
		/* Ansible's default: ANSIBLE_HOME/plugins/callback:... */
		if ((e = getenv("ANSIBLE_HOME")) != NULL)
			paths = xasprintf("%s/plugins/callback:"
			    "/usr/share/ansible/plugins/callback", e);
		else
			paths = xstrdup("~/.ansible/plugins/callback:"
			    "/usr/share/ansible/plugins/callback");
	}

	env[0] = xasprintf("CHIFFON_EVENT_FD=%d", event_fd);
	env[1] = xstrdup("ANSIBLE_STDOUT_CALLBACK=chiffon_events");
	env[2] = xasprintf("CHIFFON_STDOUT_CALLBACK=%s", stdout_cb != NULL ?
	    run_trim(stdout_cb) : "default");
	env[3] = xasprintf("ANSIBLE_CALLBACK_PLUGINS=%s%s%s", callback_dir,
	    *paths != '\0' ? ":" : "", paths);
	env[4] = NULL;
	free(stdout_cb);
	free(paths);
	free(cfg);
	return env;
}

void
run_env_free(char **env)
{
	size_t	i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}
