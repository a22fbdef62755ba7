/*
 * loop.h - the one event loop of the chiffon process.
 *
 * poll(2) over watched fds, millisecond timers and child exits (SIGCHLD
 * through a signalfd; each exited child is reaped with wait4 so its
 * resource usage is known).  No threads.  Every registration may name an
 * owner (a plugin) so that everything it registered can be removed at
 * once; removal calls the registration's free_func.
 */
#ifndef CHIFFON_LOOP_H
#define CHIFFON_LOOP_H

#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "chiffon/plugin.h"

struct loop;

typedef int	(*loop_fd_cb)(int fd, int revents, void *data);
typedef int	(*loop_timer_cb)(void *data);
typedef void	(*loop_child_cb)(pid_t pid, int wstatus,
		    const struct rusage *ru, void *data);

struct loop	*loop_new(void);
/* Frees every remaining registration (calling free_funcs). */
void		 loop_free(struct loop *);

/*
 * events/revents use CHIFFON_FD_READ/WRITE/ERROR.  A callback returning
 * non-zero removes its registration.  Return a registration id > 0.
 */
int		 loop_watch_fd(struct loop *, int fd, int events, loop_fd_cb,
		    void *data, void (*free_func)(void *), void *owner);
/* Change the events a watched fd waits for. */
int		 loop_fd_events(struct loop *, int id, int events);
int		 loop_add_timer(struct loop *, uint64_t interval_ms,
		    loop_timer_cb, void *data, void (*free_func)(void *),
		    void *owner);
/* Called once when pid exits; the loop reaps it with wait4. */
int		 loop_watch_child(struct loop *, pid_t, loop_child_cb,
		    void *data, void (*free_func)(void *), void *owner);
/*
 * cb runs at the start of every round, before the poll: for work that
 * other callbacks leave queued where no fd shows it (notifications libpq
 * took in during a query).  Non-zero from cb removes it.
 */
int		 loop_add_prepare(struct loop *, loop_timer_cb, void *data,
		    void (*free_func)(void *), void *owner);
void		 loop_remove(struct loop *, int id);
void		 loop_remove_owner(struct loop *, void *owner);

/*
 * Wait at most timeout_ms (-1: until something happens) and dispatch.
 * Returns the number of callbacks run, or -1 on a poll error.
 */
int		 loop_run_once(struct loop *, int timeout_ms);
/* Run until loop_stop; returns 0. */
int		 loop_run(struct loop *);
void		 loop_stop(struct loop *);

/*
 * SIGINT and SIGTERM for a command's loop: blocked, then delivered to cb
 * through a signalfd watched on the loop.  The struct belongs to the
 * caller and must live until loop_signals_close, which removes the watch
 * and restores the signal mask.  0, or -1 (signals stay blocked; none
 * will be delivered).
 */
typedef void	(*loop_signal_cb)(int signo, void *data);
struct loop_signals {
	int		 fd;
	int		 id;
	sigset_t	 old;
	loop_signal_cb	 cb;
	void		*data;
};
int		 loop_signals_open(struct loop *, struct loop_signals *,
		    loop_signal_cb, void *data);
void		 loop_signals_close(struct loop *, struct loop_signals *);

#endif
