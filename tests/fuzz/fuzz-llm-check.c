/*
 * fuzz-llm-check.c - libFuzzer target: the check of a model's reply
 * (llm_check_reply) on any bytes as the reply's content.  Either an
 * object or an error, never both, never neither.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz-vocab.h"
#include "llm.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*text = xstrndup((const char *)data, size), *err = NULL;
	json_object	*o;

	o = llm_check_reply(text, &fuzz_vocab, fuzz_playbooks, &err);
	if ((o == NULL) == (err == NULL))
		abort();
	json_object_put(o);
	free(err);
	free(text);
	return 0;
}
