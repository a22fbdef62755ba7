/*
 * fuzz-conf.c - libFuzzer target: the configuration loader (conf_load,
 * libinih underneath, then every key's value check) on any bytes as a
 * chiffon.conf.  Either it loads or it names the problem.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static char	*fuzz_conf_path;

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
	char	 tmpl[] = "/tmp/chiffon-fuzz-conf-XXXXXX";
	int	 fd;

	(void)argc;
	(void)argv;
	if ((fd = mkstemp(tmpl)) == -1)
		abort();
	close(fd);
	fuzz_conf_path = xstrdup(tmpl);
	log_set_sink(fuzz_conf_quiet, NULL);	/* unknown-key warnings */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*conf;
	FILE		*f;
	char		*err = NULL;
	int		 rc;

	if ((f = fopen(fuzz_conf_path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	conf = conf_new();
	rc = conf_load(conf, fuzz_conf_path, &err);
	if ((rc != 0) != (err != NULL))
		abort();
	free(err);
	conf_free(conf);
	return 0;
}
