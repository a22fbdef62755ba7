/*
 * sha256.h - SHA-256 as lowercase hex, through Nettle, for the catalog's
 * file hashes (the infra and template plugins compile this file in too)
 * and the approval gate's content hashes (approve-hash.c).  Nettle hashes
 * a buffer with no global state; libcrypto's EVP_Digest first loads its
 * configuration and providers, about 2 MB of the idle shell's resident
 * memory (issue 12).  libpq's own dependencies map libnettle already.
 */
#ifndef CHIFFON_SHA256_H
#define CHIFFON_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN		64

/* Hash a buffer into lowercase hex (hex has room for 65 bytes). */
void	sha256_hex(const void *, size_t, char hex[SHA256_HEX_LEN + 1]);
/*
 * Hash the whole file at path into hex (read_file).  0, or -1 with errno
 * set (ENOENT, EISDIR, ...).
 */
int	sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1]);

#endif
