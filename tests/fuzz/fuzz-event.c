/*
 * fuzz-event.c - libFuzzer target: the infra plugin's event-line parser
 * (summary_event, the JSON lines of chiffon's callback) on any bytes,
 * split into lines, then the run summary built from what was fed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct summary	*s = summary_new();
	const char	*p = (const char *)data, *end = p + size, *nl;
	char		*json;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		(void)summary_event(s, p, (size_t)(nl - p));
		p = nl + 1;
	}
	json = summary_json(s, "failed", 2, 1.5);
	free(json);
	summary_free(s);
	return 0;
}
