/*
 * log.c - level-filtered logging with a replaceable sink.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

static int		 log_level = CHIFFON_LOG_WARNING;
static log_sink_fn	 log_sink;
static void		*log_sink_data;

static const char *const log_level_names[] = {
	[CHIFFON_LOG_ERROR] = "error",
	[CHIFFON_LOG_WARNING] = "warning",
	[CHIFFON_LOG_INFO] = "info",
	[CHIFFON_LOG_DEBUG] = "debug",
};

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_set_sink(log_sink_fn fn, void *data)
{
	log_sink = fn;
	log_sink_data = data;
}

void
log_vmsg(int level, const char *who, const char *fmt, va_list ap)
{
	char	*msg;

	if (level > log_level)
		return;
	msg = xvasprintf(fmt, ap);
	if (log_sink != NULL)
		log_sink(level, who, msg, log_sink_data);
	else if (who != NULL)
		fprintf(stderr, "chiffon: %s: %s: %s\n", who,
		    log_level_names[level], msg);
	else
		fprintf(stderr, "chiffon: %s: %s\n", log_level_names[level],
		    msg);
	free(msg);
}

void
log_msg(int level, const char *who, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, who, fmt, ap);
	va_end(ap);
}
