/*
 * sha256.h - SHA-256 as lowercase hex, through OpenSSL's libcrypto
 * (EVP_Digest), for the catalog's file hashes (the infra and template
 * plugins compile this file in too) and the approval gate's content
 * hashes (approve-hash.c).
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
