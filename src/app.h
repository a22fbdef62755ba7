/*
 * app.h - the process-wide state of one chiffon invocation.  One struct
 * app exists, built by main(); commands (cmd.h) receive it.
 */
#ifndef CHIFFON_APP_H
#define CHIFFON_APP_H

struct conf;
struct loop;
struct db;
struct plugins;

/* Exit statuses shared by every command (see chiffon(1)). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the work failed */
#define EXIT_USAGE	2	/* bad usage or configuration */
#define EXIT_ENV	3	/* environment broken: database, ansible... */

struct app {
	struct conf	*conf;
	struct loop	*loop;		/* created on first use */
	struct db	*db;		/* opened by app_db */
	struct plugins	*plugins;	/* loaded by app_plugins */
	const char	*argv0;
};

/* Open (and migrate) the database once; NULL with *errp set. */
struct db	*app_db(struct app *, char **errp);
/* The event loop, created on first use. */
struct loop	*app_loop(struct app *);
/* Release everything app_* opened. */
void		 app_free(struct app *);
/* Load the plugins once (refusals are kept for `chiffon plugins`). */
struct plugins	*app_plugins(struct app *);


#endif
