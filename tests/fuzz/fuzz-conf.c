/*
 * fuzz-conf.c - libFuzzer target: the configuration loader (conf_parse_text,
 * the same parser conf_load runs on a file's bytes: libinih underneath,
 * then every key's value check) on any bytes as a chiffon.conf, parsed
 * from memory.  Either it loads or it names the problem.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static void
fuzz_conf_quiet(int level, const char *who, const char *msg, void *data)
{
	(void)level;
	(void)who;
	(void)msg;
	(void)data;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_sink(fuzz_conf_quiet, NULL);	/* unknown-key warnings */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*conf;
	char		*err = NULL;
	int		 rc;

	conf = conf_new();
	rc = conf_parse_text(conf, "/tmp/fuzz/chiffon.conf",
	    (const char *)data, size, &err);
	if ((rc != 0) != (err != NULL) || (rc != 0 && rc != -1))
		abort();
	free(err);
	conf_free(conf);
	return 0;
}
