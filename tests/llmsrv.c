/*
 * llmsrv.c - the provider double for tests (see llmsrv.h).  One process,
 * one connection at a time, HTTP/1.1 with Content-Length, Connection:
 * close.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "llmsrv.h"
#include "util.h"

/* The intents the "good" scenario answers with (a JSON text). */
static const char llmsrv_good[] =
	"{\"intents\":[{\"action\":\"deploy\",\"service\":\"grafana\","
	"\"playbook\":\"grafana-deploy.yml\",\"targets\":[\"pve1\"],"
	"\"params\":{},\"check\":false}],\"ambiguities\":[],"
	"\"out_of_scope\":[]}";
static const char llmsrv_hallucinated[] =
	"{\"intents\":[{\"action\":\"deploy\",\"service\":\"grafana\","
	"\"playbook\":\"deploy-grafana-cloud.yml\",\"targets\":[\"pve1\"],"
	"\"params\":{},\"check\":false}],\"ambiguities\":[],"
	"\"out_of_scope\":[]}";

/* JSON-escape s into sb. */
static void
llmsrv_escape(struct strbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, *s);
	}
}

/* A provider body carrying text as the assistant's answer. */
static char *
llmsrv_body(const char *path, const char *text)
{
	struct strbuf	sb = { 0 };

	if (strstr(path, "/api/chat") != NULL) {
		strbuf_adds(&sb, "{\"model\":\"test\",\"created_at\":"
		    "\"2026-11-23T00:00:00Z\",\"message\":{\"role\":"
		    "\"assistant\",\"content\":\"");
		llmsrv_escape(&sb, text);
		strbuf_adds(&sb, "\"},\"done\":true,\"done_reason\":\"stop\","
		    "\"prompt_eval_count\":1200,\"eval_count\":80}");
	} else if (strstr(path, "/v1/chat/completions") != NULL) {
		strbuf_adds(&sb, "{\"id\":\"chatcmpl-1\",\"object\":"
		    "\"chat.completion\",\"model\":\"test\",\"choices\":[{"
		    "\"index\":0,\"message\":{\"role\":\"assistant\","
		    "\"content\":\"");
		llmsrv_escape(&sb, text);
		strbuf_adds(&sb, "\"},\"finish_reason\":\"stop\"}],\"usage\":"
		    "{\"prompt_tokens\":1200,\"completion_tokens\":80,"
		    "\"total_tokens\":1280,\"prompt_tokens_details\":"
		    "{\"cached_tokens\":200}}}");
	} else {
		strbuf_adds(&sb, "{\"id\":\"msg_01\",\"type\":\"message\","
		    "\"role\":\"assistant\",\"model\":\"test\",\"content\":[{"
		    "\"type\":\"text\",\"text\":\"");
		llmsrv_escape(&sb, text);
		strbuf_adds(&sb, "\"}],\"stop_reason\":\"end_turn\",\"usage\":"
		    "{\"input_tokens\":1200,\"output_tokens\":80,"
		    "\"cache_read_input_tokens\":200,"
		    "\"cache_creation_input_tokens\":100}}");
	}
	return strbuf_detach(&sb);
}

static void
llmsrv_reply(int fd, int status, const char *reason, const char *body)
{
	char	*head = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\nConnection: "
		    "close\r\n\r\n", status, reason, strlen(body));
	ssize_t	 n;

	n = write(fd, head, strlen(head));
	if (n >= 0)
		n = write(fd, body, strlen(body));
	free(head);
}

static void
llmsrv_serve(int cfd, const char *log)
{
	struct strbuf	 req = { 0 };
	char		 buf[8192], *hend, *cl, *path, *body;
	size_t		 want = 0;
	ssize_t		 n;
	FILE		*f;

	while ((n = read(cfd, buf, sizeof buf)) > 0) {
		strbuf_add(&req, buf, (size_t)n);
		if ((hend = strstr(req.buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(req.buf, "Content-Length:");
		want = (size_t)(hend - req.buf) + 4 +
		    (cl != NULL && cl < hend ? strtoul(cl + 15, NULL, 10) : 0);
		if (req.len >= want)
			break;
	}
	if (req.len == 0) {
		strbuf_free(&req);
		return;
	}
	if ((f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s\n--end--\n", req.buf);
		fclose(f);
	}
	path = req.buf + strcspn(req.buf, " ") + 1;
	path[strcspn(path, " ")] = '\0';

	if (strncmp(path, "/good/", 6) == 0) {
		body = llmsrv_body(path, llmsrv_good);
		llmsrv_reply(cfd, 200, "OK", body);
	} else if (strncmp(path, "/badjson/", 9) == 0) {
		body = llmsrv_body(path, "Sure! Here are the intents: {deploy");
		llmsrv_reply(cfd, 200, "OK", body);
	} else if (strncmp(path, "/hallucinate/", 13) == 0) {
		body = llmsrv_body(path, llmsrv_hallucinated);
		llmsrv_reply(cfd, 200, "OK", body);
	} else if (strncmp(path, "/slow/", 6) == 0) {
		sleep(3);
		body = llmsrv_body(path, llmsrv_good);
		llmsrv_reply(cfd, 200, "OK", body);
	} else if (strncmp(path, "/429/", 5) == 0) {
		body = xstrdup("{\"type\":\"error\",\"error\":{\"type\":"
		    "\"rate_limit_error\",\"message\":\"Number of request "
		    "tokens has exceeded your per-minute rate limit\"}}");
		llmsrv_reply(cfd, 429, "Too Many Requests", body);
	} else if (strncmp(path, "/500/", 5) == 0) {
		body = xstrdup("{\"error\":\"internal server error\"}");
		llmsrv_reply(cfd, 500, "Internal Server Error", body);
	} else {
		body = xstrdup("{\"error\":\"not found\"}");
		llmsrv_reply(cfd, 404, "Not Found", body);
	}
	free(body);
	strbuf_free(&req);
}

int
llmsrv_start(struct llmsrv *s)
{
	struct sockaddr_in	sa = { .sin_family = AF_INET };
	socklen_t		len = sizeof sa;
	int			lfd, one = 1;

	snprintf(s->log, sizeof s->log, "%s/llmsrv-%d.log",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (int)getpid());
	unlink(s->log);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) != 0) {
		close(lfd);
		return -1;
	}
	s->port = ntohs(sa.sin_port);
	if ((s->pid = fork()) < 0) {
		close(lfd);
		return -1;
	}
	if (s->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int cfd = accept(lfd, NULL, NULL);

			if (cfd < 0)
				continue;
			/* Slow answers must not hold up the next client. */
			if (fork() == 0) {
				llmsrv_serve(cfd, s->log);
				_exit(0);
			}
			close(cfd);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
	}
	close(lfd);
	return 0;
}

void
llmsrv_stop(struct llmsrv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	unlink(s->log);
}
