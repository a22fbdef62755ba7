/*
 * actions.c - the one table of action words (see actions.h).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "actions.h"
#include "util.h"

const char *const actions_names[] = {
	"deploy", "remove", "restart", "stop", "start", "update", "configure",
	"backup", "restore", "prepare", "check", "generate", NULL
};

const struct actions_word actions_table[] = {
	/* deploy */
	{ "deploy", "deploy", NULL, ACTIONS_BOTH, 0 },
	{ "install", "deploy", NULL, ACTIONS_BOTH, 0 },
	{ "set up", "deploy", "configure", ACTIONS_REQUEST, 0 },
	{ "setup", "deploy", "configure", ACTIONS_REQUEST, 0 },
	/* x-setup.yml sets x up once it is there: configure */
	{ "setup", "configure", "deploy", ACTIONS_FILE, 0 },
	{ "enable", "deploy", "configure", ACTIONS_BOTH, 0 },
	{ "provision", "deploy", NULL, ACTIONS_BOTH, 0 },
	{ "spin up", "deploy", NULL, ACTIONS_REQUEST, 0 },
	{ "bring up", "deploy", NULL, ACTIONS_REQUEST, 0 },
	{ "turn on", "deploy", NULL, ACTIONS_REQUEST, 0 },
	{ "launch", "deploy", NULL, ACTIONS_REQUEST, 0 },
	{ "run", "deploy", NULL, ACTIONS_REQUEST, 1 },
	{ "apply", "deploy", NULL, ACTIONS_REQUEST, 1 },
	{ "redeploy", "deploy", NULL, ACTIONS_BOTH, 0 },
	{ "reinstall", "deploy", NULL, ACTIONS_BOTH, 0 },
	{ "put", "deploy", NULL, ACTIONS_REQUEST, 1 },
	/* remove */
	{ "remove", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "uninstall", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "disable", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "nuke", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "tear down", "remove", NULL, ACTIONS_REQUEST, 0 },
	{ "teardown", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "reset", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "delete", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "destroy", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "purge", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "decommission", "remove", NULL, ACTIONS_BOTH, 0 },
	{ "take down", "remove", NULL, ACTIONS_REQUEST, 0 },
	{ "turn off", "remove", NULL, ACTIONS_REQUEST, 0 },
	{ "get rid", "remove", NULL, ACTIONS_REQUEST, 0 },
	/* restart, stop, start */
	{ "restart", "restart", NULL, ACTIONS_BOTH, 0 },
	{ "reboot", "restart", NULL, ACTIONS_BOTH, 0 },
	{ "bounce", "restart", NULL, ACTIONS_REQUEST, 0 },
	{ "reload", "restart", NULL, ACTIONS_BOTH, 0 },
	{ "stop", "stop", NULL, ACTIONS_BOTH, 0 },
	{ "shutdown", "stop", NULL, ACTIONS_BOTH, 0 },
	{ "shut down", "stop", NULL, ACTIONS_REQUEST, 0 },
	{ "halt", "stop", NULL, ACTIONS_BOTH, 0 },
	{ "bring down", "stop", NULL, ACTIONS_REQUEST, 0 },
	{ "start", "start", NULL, ACTIONS_BOTH, 0 },
	{ "resume", "start", NULL, ACTIONS_REQUEST, 0 },
	/* update */
	{ "update", "update", NULL, ACTIONS_BOTH, 0 },
	{ "updates", "update", NULL, ACTIONS_BOTH, 0 },
	{ "upgrade", "update", NULL, ACTIONS_BOTH, 0 },
	{ "apply updates", "update", NULL, ACTIONS_REQUEST, 0 },
	{ "apply update", "update", NULL, ACTIONS_REQUEST, 0 },
	{ "patch", "update", NULL, ACTIONS_BOTH, 0 },
	{ "rollout", "update", NULL, ACTIONS_BOTH, 0 },
	{ "roll out", "update", NULL, ACTIONS_REQUEST, 0 },
	{ "bump", "update", NULL, ACTIONS_REQUEST, 0 },
	/* configure */
	{ "configure", "configure", NULL, ACTIONS_BOTH, 0 },
	{ "reconfigure", "configure", NULL, ACTIONS_BOTH, 0 },
	{ "config", "configure", NULL, ACTIONS_BOTH, 0 },
	{ "settings", "configure", NULL, ACTIONS_FILE, 0 },
	{ "monitors", "configure", NULL, ACTIONS_FILE, 0 },
	{ "monitor", "configure", NULL, ACTIONS_FILE, 0 },
	{ "add", "configure", NULL, ACTIONS_REQUEST, 0 },
	{ "set", "configure", NULL, ACTIONS_REQUEST, 0 },
	{ "register", "configure", NULL, ACTIONS_REQUEST, 0 },
	{ "tune", "configure", NULL, ACTIONS_REQUEST, 0 },
	{ "change", "configure", NULL, ACTIONS_REQUEST, 0 },
	/* backup, restore */
	{ "backup", "backup", NULL, ACTIONS_BOTH, 0 },
	{ "backups", "backup", NULL, ACTIONS_BOTH, 0 },
	{ "back up", "backup", NULL, ACTIONS_REQUEST, 0 },
	{ "snapshot", "backup", NULL, ACTIONS_BOTH, 0 },
	{ "archive", "backup", NULL, ACTIONS_REQUEST, 0 },
	{ "restore", "restore", NULL, ACTIONS_BOTH, 0 },
	{ "recover", "restore", NULL, ACTIONS_REQUEST, 0 },
	{ "roll back", "restore", NULL, ACTIONS_REQUEST, 0 },
	{ "rollback", "restore", NULL, ACTIONS_BOTH, 0 },
	/* prepare */
	{ "prepare", "prepare", NULL, ACTIONS_BOTH, 0 },
	{ "prep", "prepare", NULL, ACTIONS_BOTH, 0 },
	{ "bootstrap", "prepare", NULL, ACTIONS_BOTH, 0 },
	/* check */
	{ "check", "check", NULL, ACTIONS_BOTH, 0 },
	{ "status", "check", NULL, ACTIONS_BOTH, 0 },
	{ "verify", "check", NULL, ACTIONS_BOTH, 0 },
	{ "test", "check", NULL, ACTIONS_REQUEST, 0 },
	{ "health", "check", NULL, ACTIONS_REQUEST, 0 },
	{ "healthcheck", "check", NULL, ACTIONS_BOTH, 0 },
	{ "ping", "check", NULL, ACTIONS_REQUEST, 0 },
	{ "inspect", "check", NULL, ACTIONS_REQUEST, 0 },
	{ "show", "check", NULL, ACTIONS_REQUEST, 0 },
	/* generate: requests only, chiffon cannot do it yet */
	{ "generate", "generate", NULL, ACTIONS_REQUEST, 0 },
	{ "scaffold", "generate", NULL, ACTIONS_REQUEST, 0 },
	{ "create", "generate", NULL, ACTIONS_REQUEST, 0 },
};
const size_t actions_ntable = nitems(actions_table);

const struct actions_word *
actions_find(const char *phrase, size_t len, int where)
{
	size_t	i;

	if (phrase == NULL)
		return NULL;
	for (i = 0; i < nitems(actions_table); i++) {
		if ((actions_table[i].where & where) != 0 &&
		    strlen(actions_table[i].phrase) == len &&
		    strncasecmp(actions_table[i].phrase, phrase, len) == 0)
			return &actions_table[i];
	}
	return NULL;
}

const char *
actions_canonical(const char *phrase, size_t len, int where)
{
	const struct actions_word	*a = actions_find(phrase, len, where);

	return a != NULL ? a->action : NULL;
}
