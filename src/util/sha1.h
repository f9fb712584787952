/* sha1.h - SHA-1 (FIPS 180-4), for Community ID only; not used for security. */
#ifndef MT_SHA1_H
#define MT_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_sha1 {
	uint32_t h[5];
	uint64_t nbytes;
	uint8_t buf[64];
	size_t nbuf;
} mt_sha1;

void mt_sha1_init(mt_sha1 *c);
void mt_sha1_update(mt_sha1 *c, const void *data, size_t len);
void mt_sha1_final(mt_sha1 *c, uint8_t out[20]);

/* Longest message mt_sha1_short takes: it and its padding fill one 64-byte block. */
#define MT_SHA1_SHORT_MAX 55

/*
 * SHA-1 of a message of at most MT_SHA1_SHORT_MAX bytes (a Community ID tuple
 * is 18 to 42) in one block, without a context. Returns 0, or -1 if too long.
 */
int mt_sha1_short(const void *msg, size_t len, uint8_t out[20]);

/* Standard base64 with padding; returns the length written (excluding NUL) or -1 if out is too small. */
int mt_base64(const uint8_t *in, size_t len, char *out, size_t outlen);

#endif
