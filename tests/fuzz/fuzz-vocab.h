/*
 * fuzz-vocab.h - the vocabulary the request-parser and LLM-reply fuzz
 * targets parse against: a small homelab, as a catalog would give it.
 */
#ifndef CHIFFON_FUZZ_VOCAB_H
#define CHIFFON_FUZZ_VOCAB_H

#include "intent.h"

#define FUZZ_AL(...) (const char *const[]){ __VA_ARGS__, NULL }

static const struct intent_service fuzz_services[] = {
	{ "kuma", FUZZ_AL("uptime-kuma", "uptime kuma", "kuma uptime") },
	{ "pihole", FUZZ_AL("pi-hole", "pi hole") },
	{ "jellyfin", NULL },
	{ "nextcloud", FUZZ_AL("next cloud") },
	{ "home-assistant", FUZZ_AL("home assistant", "hass") },
	{ "k3s", NULL },
};
static const struct intent_vocab fuzz_vocab = {
	.services = fuzz_services,
	.nservices = sizeof fuzz_services / sizeof fuzz_services[0],
	.hosts = FUZZ_AL("nas", "pve1", "core-pi5", "gh-runner-01"),
	.groups = FUZZ_AL("homelab", "docker_hosts", "pis"),
	.tags = FUZZ_AL("jellyfin", "dns"),
};
static const char *const fuzz_playbooks[] = { "kuma-deploy.yml",
    "nas.yml", "playbooks/k3s/k3s-install.yml", NULL };

#endif
