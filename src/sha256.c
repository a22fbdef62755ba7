/*
 * sha256.c - SHA-256 through Nettle (see sha256.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <nettle/sha2.h>

#include "sha256.h"
#include "util.h"

void
sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	static const char	 digits[] = "0123456789abcdef";
	struct sha256_ctx	 ctx;
	uint8_t			 d[SHA256_DIGEST_SIZE];
	size_t			 i;

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof d, d);
	for (i = 0; i < sizeof d; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 0xf];
	}
	hex[SHA256_HEX_LEN] = '\0';
}

int
sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	size_t	 len;
	char	*text;

	if ((text = read_file(path, &len)) == NULL)
		return -1;
	sha256_hex(text, len, hex);
	free(text);
	return 0;
}
