/*
 * sha256.c - SHA-256 through libcrypto's EVP_Digest (see sha256.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "sha256.h"
#include "util.h"

void
sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 d[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0, i;

	if (EVP_Digest(data, len, d, &n, EVP_sha256(), NULL) != 1 ||
	    n * 2 != SHA256_HEX_LEN) {
		/* Only a broken libcrypto fails SHA-256 of a buffer. */
		fprintf(stderr, "chiffon: SHA-256 failed in libcrypto\n");
		abort();
	}
	for (i = 0; i < n; i++) {
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
