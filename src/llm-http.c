/*
 * llm-http.c - HTTP POSTs to model endpoints over libcurl's multi
 * interface, driven by the host loop: curl tells us which sockets to watch
 * and when to wake it (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION); the loop
 * calls curl_multi_socket_action when they are ready.  Nothing here blocks.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "llm.h"
#include "loop.h"
#include "util.h"

/* The multi handle and its loop registrations. */
struct llm_http {
	struct loop	*loop;
	CURLM		*multi;
	int		 timer_id;	/* loop timer for curl's timeout, 0 none */
	int		 running;
	TAILQ_HEAD(, llm_http_xfer) xfers;
};

/* One transfer in flight. */
struct llm_http_xfer {
	struct llm_http		*http;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;		/* request body (kept alive) */
	struct strbuf		 reply;
	char			 error[CURL_ERROR_SIZE];
	uint64_t		 started_ms;
	llm_http_done		 done;
	void			*data;
	TAILQ_ENTRY(llm_http_xfer) entry;
};

/* Per-socket state assigned with curl_multi_assign: the loop id. */
struct llm_http_sock {
	int	id;
};

static void	llm_http_check_done(struct llm_http *);

static int
llm_http_fd_ready(int fd, int revents, void *data)
{
	struct llm_http	*h = data;
	int		 ev = 0;

	if (revents & CHIFFON_FD_READ)
		ev |= CURL_CSELECT_IN;
	if (revents & CHIFFON_FD_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (revents & CHIFFON_FD_ERROR)
		ev |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, ev, &h->running);
	llm_http_check_done(h);
	return 0;
}

static int
llm_http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct llm_http		*h = userp;
	struct llm_http_sock	*sk = socketp;
	int			 events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			loop_remove(h->loop, sk->id);
			free(sk);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= CHIFFON_FD_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= CHIFFON_FD_WRITE;
	if (sk == NULL) {
		sk = xcalloc(1, sizeof *sk);
		sk->id = loop_watch_fd(h->loop, s, events, llm_http_fd_ready,
		    h, NULL, h);
		curl_multi_assign(h->multi, s, sk);
	} else
		loop_fd_events(h->loop, sk->id, events);
	return 0;
}

static int
llm_http_timer_fired(void *data)
{
	struct llm_http	*h = data;

	h->timer_id = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
	    &h->running);
	llm_http_check_done(h);
	return 1;	/* one-shot */
}

static int
llm_http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct llm_http	*h = userp;

	if (h->timer_id != 0) {
		loop_remove(h->loop, h->timer_id);
		h->timer_id = 0;
	}
	if (timeout_ms >= 0)
		h->timer_id = loop_add_timer(h->loop, (uint64_t)timeout_ms,
		    llm_http_timer_fired, h, NULL, h);
	return 0;
}

static size_t
llm_http_write(char *p, size_t size, size_t n, void *data)
{
	struct llm_http_xfer	*x = data;

	strbuf_add(&x->reply, p, size * n);
	return size * n;
}

static void
llm_http_xfer_free(struct llm_http_xfer *x)
{
	TAILQ_REMOVE(&x->http->xfers, x, entry);
	curl_slist_free_all(x->headers);
	free(x->body);
	strbuf_free(&x->reply);
	free(x);
}

/* Hand every finished transfer to its callback. */
static void
llm_http_check_done(struct llm_http *h)
{
	struct llm_http_xfer	*x;
	CURLMsg			*msg;
	CURL			*easy;
	CURLcode		 result;
	long			 status = 0;
	int			 left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg belongs to the handle: read it before the cleanup. */
		result = msg->data.result;
		easy = msg->easy_handle;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &x);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(h->multi, easy);
		curl_easy_cleanup(easy);
		x->done(result == CURLE_OK ? status : 0,
		    x->reply.buf != NULL ? x->reply.buf : "", x->reply.len,
		    result == CURLE_OK ? NULL : (x->error[0] != '\0' ?
		    x->error : curl_easy_strerror(result)),
		    (double)(now_ms() - x->started_ms), x->data);
		llm_http_xfer_free(x);
	}
}

/*
 * libcurl (loaded, and OpenSSL initialised: 20-30 ms) only at the first
 * call: a request the deterministic tier answers never makes one.
 */
struct llm_http *
llm_http_new(struct loop *loop)
{
	struct llm_http	*h = xcalloc(1, sizeof *h);

	h->loop = loop;
	TAILQ_INIT(&h->xfers);
	return h;
}

static void
llm_http_init(struct llm_http *h)
{
	if (h->multi != NULL)
		return;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h->multi = curl_multi_init();
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION,
	    llm_http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, llm_http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
}

void
llm_http_free(struct llm_http *h)
{
	struct llm_http_xfer	*x;

	if (h == NULL)
		return;
	/* Abandon transfers still in flight (their callbacks never run). */
	while ((x = TAILQ_FIRST(&h->xfers)) != NULL) {
		curl_multi_remove_handle(h->multi, x->easy);
		curl_easy_cleanup(x->easy);
		llm_http_xfer_free(x);
	}
	loop_remove_owner(h->loop, h);
	if (h->multi != NULL) {
		curl_multi_cleanup(h->multi);
		curl_global_cleanup();
	}
	free(h);
}

int
llm_http_running(struct llm_http *h)
{
	return h->running;
}

int
llm_http_post(struct llm_http *h, const struct llm_endpoint *ep,
    const char *body, llm_http_done done, void *data, char **errp)
{
	struct llm_http_xfer	*x;
	char			*url, *hdr;
	size_t			 ul;

	if (ep->url == NULL || *ep->url == '\0')
		return set_error(errp, "%s: no URL configured", ep->provider);
	llm_http_init(h);
	x = xcalloc(1, sizeof *x);
	x->http = h;
	x->done = done;
	x->data = data;
	x->body = xstrdup(body);
	x->started_ms = now_ms();
	x->easy = curl_easy_init();
	TAILQ_INSERT_TAIL(&h->xfers, x, entry);
	ul = strlen(ep->url);
	while (ul > 0 && ep->url[ul - 1] == '/')
		ul--;
	url = xasprintf("%.*s%s", (int)ul, ep->url, llm_wire_path(ep->wire));

	x->headers = curl_slist_append(x->headers,
	    "Content-Type: application/json");
	if (ep->api_key != NULL && *ep->api_key != '\0') {
		if (ep->wire == LLM_WIRE_ANTHROPIC)
			hdr = xasprintf("x-api-key: %s", ep->api_key);
		else
			hdr = xasprintf("Authorization: Bearer %s",
			    ep->api_key);
		x->headers = curl_slist_append(x->headers, hdr);
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
	}
	if (ep->wire == LLM_WIRE_ANTHROPIC)
		x->headers = curl_slist_append(x->headers,
		    "anthropic-version: 2023-06-01");

	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, llm_http_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
	    ep->timeout_ms > 0 ? ep->timeout_ms : 30000L);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "chiffon/" PACKAGE_VERSION);
	free(url);
	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		curl_easy_cleanup(x->easy);
		llm_http_xfer_free(x);
		return set_error(errp, "%s: cannot start the HTTP request",
		    ep->provider);
	}
	return 0;
}
