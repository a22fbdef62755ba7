/*
 * spawn.h - starting child processes from the event loop.
 *
 * A child runs in its own session and process group (setsid; with
 * use_pty the pty slave is its controlling terminal), in opts->cwd, with
 * environ plus opts->env_add, less the variables named by
 * spawn_hide_env (chiffon's secrets), and execvp(argv[0], argv): never a
 * shell.
 * Its output (pty, or one pipe for stdout and stderr) and its event pipe
 * are read through the loop and split into lines; on_exit comes once,
 * after the child has exited and every line has been delivered (if the
 * child exits while grandchildren keep the streams open, the streams are
 * closed 2 seconds after the exit).
 *
 * The object is the struct chiffon_child of the plugin ABI, so spawn_signal
 * and spawn_pid fit host->child_signal and host->child_pid as they are.
 * It stays valid until on_exit returns; then the module frees it and calls
 * free_func(cbdata).  If the registrations are removed from outside
 * (loop_remove_owner(owner) when a plugin unloads, or loop_free), or
 * spawn_abandon is called, the process group is sent SIGKILL, the child
 * is reaped in the background, on_exit is not called and free_func(cbdata)
 * is.
 */
#ifndef CHIFFON_SPAWN_H
#define CHIFFON_SPAWN_H

#include <sys/types.h>

#include "chiffon/plugin.h"
#include "loop.h"

/*
 * Names of environment variables no child gets (the API keys named by
 * llm.*_api_key_env), NULL-terminated; copied; NULL for none.
 * Process-wide.
 */
void	spawn_hide_env(const char *const *names);

/* Window size of a child's pty when opts->pty_cols is 0. */
#define SPAWN_PTY_COLS	160
#define SPAWN_PTY_ROWS	50
/* How long the streams are read after the child exited (milliseconds). */
#define SPAWN_GRACE_MS	2000
/* A pty's last line without newline that looks like a prompt ("...: ")
 * and stays so this long is delivered as a prompt (spawn_prompt_*). */
#define SPAWN_PROMPT_MS	250

/*
 * Start a child.  Returns NULL and sets *errp if it cannot be started,
 * including when execvp fails in the child (for example
 * "cannot run ansible-playbook: not found in PATH (is it installed?)").
 * cbs members may be NULL.
 */
struct chiffon_child	*spawn_start(struct loop *,
			     const struct chiffon_spawn_opts *,
			     const struct chiffon_child_cbs *, void *cbdata,
			     void (*free_func)(void *), void *owner,
			     char **errp);
/* Send sig to the child's process group.  0, or -1 with errno set. */
int			 spawn_signal(struct chiffon_child *, int sig);
pid_t			 spawn_pid(struct chiffon_child *);
/* SIGKILL the process group and release the child without on_exit. */
void			 spawn_abandon(struct chiffon_child *);
/*
 * A child's pty output stopped at a prompt (ansible-playbook asking for
 * a vars_prompt, become or vault answer: a last line ending in ":" or
 * "?" with nothing after it for SPAWN_PROMPT_MS): that line was
 * delivered without waiting for its newline, and spawn_prompt_waiting is non-zero
 * until spawn_prompt_answer writes an answer (and a carriage return) to
 * its pty, which the child reads as typed on its terminal.  The answer
 * is written nowhere else.  0, or -1 with *errp.
 */
/*
 * The gate on line delivery (process-wide; NULL: always open): while
 * gate() is 0, children's output is read and held (up to 4 MiB a
 * stream, then the child waits) instead of split into lines; call
 * spawn_gate_open when it may say yes again.  The run recorder's, set by
 * the app (runlog_may_take).
 */
void			 spawn_set_gate(int (*gate)(void));
void			 spawn_gate_open(void);
int			 spawn_prompt_waiting(void);
int			 spawn_prompt_answer(const char *text, char **errp);
/* No answer can be given: SIGTERM to the waiting child.  0, or -1. */
int			 spawn_prompt_refuse(void);

/* Private to spawn.c and spawn-child.c. */

/* What a child writes on the status pipe when it cannot exec. */
struct spawn_failure {
	int	step;
	int	err;
};
enum { SPAWN_STEP_SETUP = 1, SPAWN_STEP_CWD, SPAWN_STEP_EXEC };

/*
 * In the child after fork: set up fds, session and directory, exec argv.
 * io is the pty slave or the output pipe's write end; ev_w the event
 * pipe's write end or -1; status_w the close-on-exec status pipe.
 */
void	spawn_child_exec(const struct chiffon_spawn_opts *, char **envp,
	    int status_w, int io, int ev_w) __attribute__((noreturn));

#endif
