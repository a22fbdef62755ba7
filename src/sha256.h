/*
 * sha256.h - SHA-256 (FIPS 180-4), small and dependency-free, for the
 * catalog's file hashes (the infra plugin compiles this file in too) and
 * the approval gate's content hashes (approve-hash.c).
 */
#ifndef CHIFFON_SHA256_H
#define CHIFFON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32
#define SHA256_HEX_LEN		64

/* Running state of one hash. */
struct sha256 {
	uint32_t	h[8];
	uint64_t	nbytes;		/* message length so far */
	uint8_t		block[64];	/* pending partial block */
	size_t		fill;		/* bytes used in block */
};

void	sha256_init(struct sha256 *);
void	sha256_update(struct sha256 *, const void *, size_t);
void	sha256_final(struct sha256 *, uint8_t digest[SHA256_DIGEST_LEN]);
/* Hash a buffer into lowercase hex (hex has room for 65 bytes). */
void	sha256_hex(const void *, size_t, char hex[SHA256_HEX_LEN + 1]);
/* The digest so far as lowercase hex (finalises s). */
void	sha256_final_hex(struct sha256 *, char hex[SHA256_HEX_LEN + 1]);
/*
 * Hash the whole file at path into hex (read_file).  0, or -1 with errno
 * set (ENOENT, EISDIR, ...).
 */
int	sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1]);

#endif
