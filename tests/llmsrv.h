/*
 * llmsrv.h - a loopback HTTP server that answers like a language-model
 * provider, for tests.  It speaks each provider's real wire format; the
 * first path component picks the scenario:
 *   /good/...        a valid answer (intents for "deploy grafana")
 *   /badjson/...     an answer whose text is not JSON
 *   /hallucinate/... an answer naming a playbook the catalog lacks
 *   /slow/...        answers after 3 s (for client timeouts)
 *   /429/..., /500/... the provider's error status and body
 * The rest of the path ("/api/chat", "/v1/chat/completions",
 * "/v1/messages") picks the wire format.  Each request's headers and body
 * are appended to a log file so tests can check what was sent.
 */
#ifndef CHIFFON_LLMSRV_H
#define CHIFFON_LLMSRV_H

#include <sys/types.h>

struct llmsrv {
	pid_t	pid;
	int	port;
	char	log[256];
};

/* Fork the server on 127.0.0.1 (port chosen by the kernel).  0 or -1. */
int	llmsrv_start(struct llmsrv *);
void	llmsrv_stop(struct llmsrv *);

#endif
