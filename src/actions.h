/*
 * actions.h - the one table of action words, shared by the request
 * parser (intent.c), the matcher and the file-name reader of the
 * catalog (plugins/infra).  A word or two-word phrase stands for one
 * canonical action; some are only read in file names ("monitors" in
 * kuma-monitors.yml) or only in requests ("add", "show").
 */
#ifndef CHIFFON_ACTIONS_H
#define CHIFFON_ACTIONS_H

#include <stddef.h>

#define ACTIONS_FILE	0x1	/* read in playbook file names */
#define ACTIONS_REQUEST	0x2	/* read in requests */
#define ACTIONS_BOTH	(ACTIONS_FILE | ACTIONS_REQUEST)

/* One action word or phrase. */
struct actions_word {
	const char	*phrase;	/* lowercase, one or two words */
	const char	*action;	/* canonical */
	const char	*alt;		/* accepted when no playbook has action */
	int		 where;		/* ACTIONS_* */
	int		 weak;		/* "run", "apply": only when no other */
};

extern const struct actions_word	actions_table[];
extern const size_t			actions_ntable;
/* The canonical actions, NULL-terminated. */
extern const char *const		actions_names[];

/*
 * The entry for a word or phrase of len bytes (case-insensitive) read
 * where (ACTIONS_FILE or ACTIONS_REQUEST), or NULL.
 */
const struct actions_word *actions_find(const char *phrase, size_t len,
	    int where);
/* The canonical action of a phrase, or NULL.  Same rules. */
const char	*actions_canonical(const char *phrase, size_t len, int where);

#endif
