/*
 * check_loop.c - tests for src/loop.c: timers, fds, children, owners and
 * removal from inside callbacks.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "testutil.h"
#include "util.h"

/* Run the loop until *flag is set; fail after a generous bound. */
static void
loop_test_until(struct loop *l, const int *flag)
{
	int	i;

	for (i = 0; i < 600 && !*flag; i++)
		ck_assert_int_ge(loop_run_once(l, 100), 0);
	ck_assert_msg(*flag, "the loop never got there");
}

/* Shared record of what callbacks did. */
struct loop_test_rec {
	struct loop	*l;
	int		 order[16];
	int		 n;
	int		 freed;
	int		 ids[4];
	int		 count;
};

/* A timer / fd callback's data: the record and a tag. */
struct loop_test_item {
	struct loop_test_rec	*rec;
	int			 tag;
	int			 repeat;	/* fire this many times */
};

static void
loop_test_free_item(void *data)
{
	struct loop_test_item	*it = data;

	it->rec->freed++;
	free(it);
}

static struct loop_test_item *
loop_test_item(struct loop_test_rec *rec, int tag, int repeat)
{
	struct loop_test_item	*it = xcalloc(1, sizeof *it);

	it->rec = rec;
	it->tag = tag;
	it->repeat = repeat;
	return it;
}

static int
loop_test_timer(void *data)
{
	struct loop_test_item	*it = data;

	it->rec->order[it->rec->n++] = it->tag;
	return --it->repeat <= 0;
}

START_TEST(test_timer_order)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	int			 done = 0;

	ck_assert_ptr_nonnull(l);
	ck_assert_int_gt(loop_add_timer(l, 30, loop_test_timer,
	    loop_test_item(&rec, 3, 1), loop_test_free_item, NULL), 0);
	ck_assert_int_gt(loop_add_timer(l, 10, loop_test_timer,
	    loop_test_item(&rec, 1, 1), loop_test_free_item, NULL), 0);
	ck_assert_int_gt(loop_add_timer(l, 20, loop_test_timer,
	    loop_test_item(&rec, 2, 1), loop_test_free_item, NULL), 0);
	while (!done) {
		ck_assert_int_ge(loop_run_once(l, 1000), 0);
		done = rec.n == 3;
	}
	ck_assert_int_eq(rec.order[0], 1);
	ck_assert_int_eq(rec.order[1], 2);
	ck_assert_int_eq(rec.order[2], 3);
	/* Each returned non-zero: removed, free_func called. */
	ck_assert_int_eq(rec.freed, 3);
	ck_assert_int_eq(loop_run_once(l, 50), 0);
	loop_free(l);
}
END_TEST

/*
 * A prepare callback runs at the start of every round, before what the
 * round's poll finds (a timer due); non-zero from it removes it.
 */
START_TEST(test_prepare)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();

	ck_assert_int_gt(loop_add_prepare(l, loop_test_timer,
	    loop_test_item(&rec, 5, 3), loop_test_free_item, NULL), 0);
	ck_assert_int_gt(loop_add_timer(l, 1, loop_test_timer,
	    loop_test_item(&rec, 9, 1), loop_test_free_item, NULL), 0);
	usleep(5000);
	ck_assert_int_ge(loop_run_once(l, 0), 0);
	ck_assert_int_eq(rec.n, 2);
	ck_assert_int_eq(rec.order[0], 5);
	ck_assert_int_eq(rec.order[1], 9);
	ck_assert_int_ge(loop_run_once(l, 0), 0);
	ck_assert_int_ge(loop_run_once(l, 0), 0);
	ck_assert_int_eq(rec.n, 4);
	ck_assert_int_eq(rec.order[3], 5);
	ck_assert_int_eq(rec.freed, 2);
	ck_assert_int_ge(loop_run_once(l, 0), 0);
	ck_assert_int_eq(rec.n, 4);
	loop_free(l);
}
END_TEST

START_TEST(test_timer_repeat)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	int			 i;

	loop_add_timer(l, 1, loop_test_timer, loop_test_item(&rec, 7, 4),
	    loop_test_free_item, NULL);
	for (i = 0; i < 1000 && rec.freed == 0; i++)
		loop_run_once(l, 100);
	ck_assert_int_eq(rec.n, 4);
	ck_assert_int_eq(rec.freed, 1);
	loop_free(l);
}
END_TEST

/* Timer that removes the registrations listed in rec->ids, then itself. */
static int
loop_test_remover(void *data)
{
	struct loop_test_item	*it = data;
	struct loop_test_rec	*rec = it->rec;
	size_t			 i;

	rec->order[rec->n++] = it->tag;
	for (i = 0; i < nitems(rec->ids); i++) {
		if (rec->ids[i] > 0)
			loop_remove(rec->l, rec->ids[i]);
	}
	return 0;
}

START_TEST(test_remove_inside)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	int			 a, b;

	rec.l = l;
	/* Same interval: both are due in the same round, a first. */
	a = loop_add_timer(l, 5, loop_test_remover, loop_test_item(&rec, 1, 1),
	    loop_test_free_item, NULL);
	b = loop_add_timer(l, 5, loop_test_timer, loop_test_item(&rec, 2, 1),
	    loop_test_free_item, NULL);
	rec.ids[0] = b;
	rec.ids[1] = a;		/* itself, after b */
	while (rec.freed < 2)
		ck_assert_int_ge(loop_run_once(l, 1000), 0);
	ck_assert_int_eq(rec.n, 1);
	ck_assert_int_eq(rec.order[0], 1);
	ck_assert_int_eq(loop_run_once(l, 30), 0);
	ck_assert_int_eq(rec.n, 1);
	loop_free(l);
}
END_TEST

/* fd callback: read a byte, count, remove the other watch. */
static int
loop_test_fd(int fd, int revents, void *data)
{
	struct loop_test_item	*it = data;
	char			 c;

	ck_assert(revents & CHIFFON_FD_READ);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	it->rec->order[it->rec->n++] = it->tag;
	loop_remove(it->rec->l, it->rec->ids[it->tag == 0 ? 1 : 0]);
	return 0;
}

START_TEST(test_fd_remove_other)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	int			 p[2], q[2];

	rec.l = l;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(write(q[1], "y", 1), 1);
	rec.ids[0] = loop_watch_fd(l, p[0], CHIFFON_FD_READ, loop_test_fd,
	    loop_test_item(&rec, 0, 0), loop_test_free_item, NULL);
	rec.ids[1] = loop_watch_fd(l, q[0], CHIFFON_FD_READ, loop_test_fd,
	    loop_test_item(&rec, 1, 0), loop_test_free_item, NULL);
	/* Both are readable in the same round; only one callback runs. */
	ck_assert_int_eq(loop_run_once(l, 1000), 1);
	ck_assert_int_eq(rec.n, 1);
	ck_assert_int_eq(rec.freed, 1);
	loop_free(l);
	ck_assert_int_eq(rec.freed, 2);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
END_TEST

/* Reads what is there; returns 1 (removes itself) at EOF. */
static int
loop_test_reader(int fd, int revents, void *data)
{
	struct loop_test_rec	*rec = data;
	char			 buf[64];
	ssize_t			 n;

	n = read(fd, buf, sizeof buf);
	ck_assert_int_ge(n, 0);
	rec->count += n;
	if (n == 0)
		rec->freed = 1;
	return n == 0;
}

static int
loop_test_writer(int fd, int revents, void *data)
{
	struct loop_test_rec	*rec = data;

	ck_assert(revents & CHIFFON_FD_WRITE);
	ck_assert_int_eq(write(fd, "hello", 5), 5);
	if (++rec->n == 3) {
		close(fd);
		return 1;
	}
	return 0;
}

START_TEST(test_fd_pipe)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	int			 p[2], id;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_gt(loop_watch_fd(l, p[0], CHIFFON_FD_READ,
	    loop_test_reader, &rec, NULL, NULL), 0);
	id = loop_watch_fd(l, p[1], 0, loop_test_writer, &rec, NULL, NULL);
	/* Not polled while it waits for nothing. */
	ck_assert_int_eq(loop_run_once(l, 20), 0);
	ck_assert_int_eq(loop_fd_events(l, id, CHIFFON_FD_WRITE), 0);
	loop_test_until(l, &rec.freed);
	ck_assert_int_eq(rec.n, 3);
	ck_assert_int_eq(rec.count, 15);
	ck_assert_int_eq(loop_fd_events(l, id, CHIFFON_FD_READ), -1);
	close(p[0]);
	loop_free(l);
}
END_TEST

static int
loop_test_owner_cb(void *data)
{
	struct loop_test_item	*it = data;

	/* Unload "the plugin" from inside one of its callbacks. */
	it->rec->n++;
	loop_remove_owner(it->rec->l, &it->rec->order[0]);
	return 0;
}

static int
loop_test_noop_fd(int fd, int revents, void *data)
{
	return 0;
}

static void
loop_test_noop_child(pid_t pid, int wstatus, const struct rusage *ru,
    void *data)
{
}

START_TEST(test_owner)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	void			*x = &rec.order[0], *y = &rec.order[1];
	int			 p[2];
	pid_t			 pid;

	rec.l = l;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	loop_watch_fd(l, p[0], CHIFFON_FD_READ, loop_test_noop_fd,
	    loop_test_item(&rec, 1, 0), loop_test_free_item, x);
	loop_watch_child(l, pid, loop_test_noop_child,
	    loop_test_item(&rec, 2, 0), loop_test_free_item, x);
	loop_add_timer(l, 100000, loop_test_timer, loop_test_item(&rec, 3, 1),
	    loop_test_free_item, x);
	loop_add_timer(l, 1, loop_test_owner_cb, loop_test_item(&rec, 4, 1),
	    loop_test_free_item, x);
	loop_add_timer(l, 100000, loop_test_timer, loop_test_item(&rec, 5, 1),
	    loop_test_free_item, y);
	while (rec.n == 0)
		ck_assert_int_ge(loop_run_once(l, 1000), 0);
	ck_assert_int_eq(rec.n, 1);
	ck_assert_int_eq(rec.freed, 4);
	loop_remove_owner(l, y);
	ck_assert_int_eq(rec.freed, 5);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}
END_TEST

static void
loop_test_child(pid_t pid, int wstatus, const struct rusage *ru, void *data)
{
	struct loop_test_rec	*rec = data;

	ck_assert(WIFEXITED(wstatus));
	rec->order[rec->n++] = WEXITSTATUS(wstatus);
	rec->count = (int)pid;
}

START_TEST(test_child)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();
	siginfo_t		 si;
	pid_t			 a, b;

	if ((a = fork()) == 0)
		_exit(7);
	loop_watch_child(l, a, loop_test_child, &rec, NULL, NULL);
	while (rec.n == 0)
		ck_assert_int_ge(loop_run_once(l, 1000), 0);
	ck_assert_int_eq(rec.order[0], 7);
	ck_assert_int_eq(rec.count, a);

	/* A child that exited before it was watched is not missed. */
	if ((b = fork()) == 0)
		_exit(9);
	ck_assert_int_eq(waitid(P_PID, b, &si, WEXITED | WNOWAIT), 0);
	/* Consume the SIGCHLD while nobody watches b. */
	ck_assert_int_eq(loop_run_once(l, 0), 0);
	loop_watch_child(l, b, loop_test_child, &rec, NULL, NULL);
	while (rec.n == 1)
		ck_assert_int_ge(loop_run_once(l, 1000), 0);
	ck_assert_int_eq(rec.order[1], 9);
	ck_assert_int_eq(rec.count, b);
	loop_free(l);
}
END_TEST

static int
loop_test_stop(void *data)
{
	struct loop_test_rec	*rec = data;

	if (++rec->n == 3)
		loop_stop(rec->l);
	return 0;
}

START_TEST(test_stop)
{
	struct loop_test_rec	 rec = { 0 };
	struct loop		*l = loop_new();

	rec.l = l;
	loop_add_timer(l, 1, loop_test_stop, &rec, NULL, NULL);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(rec.n, 3);
	loop_free(l);
}
END_TEST

static Suite *
loop_suite(void)
{
	Suite	*s = suite_create("loop");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_timer_order);
	tcase_add_test(tc, test_timer_repeat);
	tcase_add_test(tc, test_prepare);
	tcase_add_test(tc, test_remove_inside);
	tcase_add_test(tc, test_fd_remove_other);
	tcase_add_test(tc, test_fd_pipe);
	tcase_add_test(tc, test_owner);
	tcase_add_test(tc, test_child);
	tcase_add_test(tc, test_stop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_main(loop_suite());
}
