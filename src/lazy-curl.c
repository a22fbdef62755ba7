/*
 * lazy-curl.c - the libcurl functions chiffon calls, opening libcurl on
 * the first of them (see lazylib.h).  llm-http.c makes the calls (and
 * pgembed.c escapes a URL); a function they start to use is added below.
 */
#include "config.h"

#include <stdarg.h>

/* The wrappers below are the functions, not the type-checking macros. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "lazylib.h"

static struct lazylib lazy_curl = {
	.soname = CHIFFON_CURL_SONAME,
	.needed_for = "LLM calls over HTTP",
};

/*
 * X(return type, name, (parameters), (arguments)) for a function with a
 * value, V(name, (parameters), (arguments)) for a void one; the
 * prototypes are libcurl's (curl.h declares them too, so the compiler
 * checks each).  The variadic setopt and getinfo follow the table.
 */
#define LAZY_CURL_FUNCTIONS(X, V) \
	V(curl_easy_cleanup, (CURL *curl), (curl)) \
	X(char *, curl_easy_escape, (CURL *handle, const char *string, \
	    int length), (handle, string, length)) \
	X(CURL *, curl_easy_init, (void), ()) \
	X(const char *, curl_easy_strerror, (CURLcode code), (code)) \
	V(curl_free, (void *p), (p)) \
	V(curl_global_cleanup, (void), ()) \
	X(CURLcode, curl_global_init, (long flags), (flags)) \
	X(CURLMcode, curl_multi_add_handle, (CURLM *multi_handle, \
	    CURL *curl_handle), (multi_handle, curl_handle)) \
	X(CURLMcode, curl_multi_assign, (CURLM *multi_handle, \
	    curl_socket_t sockfd, void *sockp), (multi_handle, sockfd, sockp)) \
	X(CURLMcode, curl_multi_cleanup, (CURLM *multi_handle), \
	    (multi_handle)) \
	X(CURLMsg *, curl_multi_info_read, (CURLM *multi_handle, \
	    int *msgs_in_queue), (multi_handle, msgs_in_queue)) \
	X(CURLM *, curl_multi_init, (void), ()) \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *multi_handle, \
	    CURL *curl_handle), (multi_handle, curl_handle)) \
	X(CURLMcode, curl_multi_socket_action, (CURLM *multi_handle, \
	    curl_socket_t s, int ev_bitmask, int *running_handles), \
	    (multi_handle, s, ev_bitmask, running_handles)) \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *list, \
	    const char *data), (list, data)) \
	V(curl_slist_free_all, (struct curl_slist *list), (list))

#define LAZY_CURL_X(ret, name, params, args)				\
ret									\
(name) params								\
{									\
	LAZYLIB_CALL(&lazy_curl, ret, name, params, args);		\
}
#define LAZY_CURL_V(name, params, args)					\
void									\
(name) params								\
{									\
	LAZYLIB_CALL_VOID(&lazy_curl, name, params, args);	\
}
LAZY_CURL_FUNCTIONS(LAZY_CURL_X, LAZY_CURL_V)

/*
 * curl_easy_setopt and curl_multi_setopt: an option's argument is passed
 * on as the type its number says, as libcurl reads it (CURLOPTTYPE_*:
 * long, pointer, curl_off_t, blob pointer; the multi options are numbered
 * the same way).
 */
#define LAZY_CURL_SETOPT(ret, name, htype, otype)			\
ret									\
(name)(htype *handle, otype option, ...)				\
{									\
	static ret	(*fn)(htype *, otype, ...);			\
	va_list		 ap;						\
	ret		 rc;						\
									\
	if (fn == NULL)							\
		fn = (ret (*)(htype *, otype, ...))lazylib_sym(&lazy_curl, \
		    #name);						\
	va_start(ap, option);						\
	if (option < CURLOPTTYPE_OBJECTPOINT)				\
		rc = fn(handle, option, va_arg(ap, long));		\
	else if (option < CURLOPTTYPE_OFF_T)				\
		rc = fn(handle, option, va_arg(ap, void *));		\
	else if (option < CURLOPTTYPE_BLOB)				\
		rc = fn(handle, option, va_arg(ap, curl_off_t));	\
	else								\
		rc = fn(handle, option, va_arg(ap, void *));		\
	va_end(ap);							\
	return rc;							\
}
LAZY_CURL_SETOPT(CURLcode, curl_easy_setopt, CURL, CURLoption)
LAZY_CURL_SETOPT(CURLMcode, curl_multi_setopt, CURLM, CURLMoption)

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode
(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	static CURLcode	(*fn)(CURL *, CURLINFO, ...);
	va_list		 ap;
	CURLcode	 rc;

	if (fn == NULL)
		fn = (CURLcode (*)(CURL *, CURLINFO, ...))lazylib_sym(
		    &lazy_curl, "curl_easy_getinfo");
	va_start(ap, info);
	rc = fn(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
