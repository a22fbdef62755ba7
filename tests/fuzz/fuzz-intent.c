/*
 * fuzz-intent.c - libFuzzer target: the deterministic request parser
 * (intent_parse) on any bytes as a request line.  It must return an
 * object for every input and leak nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz-vocab.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*text = xstrndup((const char *)data, size);
	json_object	*o;

	o = intent_parse(text, &fuzz_vocab);
	if (o == NULL)
		abort();	/* documented never to fail */
	(void)json_object_to_json_string(o);
	json_object_put(o);
	free(text);
	return 0;
}
