/*
 * log.h - the host's log.  Messages go to stderr until a sink is set (the
 * TUI sets one that writes to its log pane and a file), with a level filter.
 * Library code returns errors instead of logging them; the log is for
 * events and for what plugins report through the host API.
 */
#ifndef CHIFFON_LOG_H
#define CHIFFON_LOG_H

#include <stdarg.h>

#include "chiffon/plugin.h"

typedef void (*log_sink_fn)(int level, const char *who, const char *msg,
    void *data);

void	log_set_level(int level);
int	log_get_level(void);
/* Replace the sink (NULL restores stderr). */
void	log_set_sink(log_sink_fn, void *data);
void	log_msg(int level, const char *who, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_vmsg(int level, const char *who, const char *fmt, va_list);

#define log_error(...)	log_msg(CHIFFON_LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...)	log_msg(CHIFFON_LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)	log_msg(CHIFFON_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	log_msg(CHIFFON_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
