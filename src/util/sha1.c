/* sha1.c - SHA-1 (FIPS 180-4, section 6.1) and base64 (RFC 4648, section 4), for Community ID. */
#include "util/sha1.h"

#include <limits.h>
#include <string.h>

static inline uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

/* Big-endian words assembled byte by byte (FIPS 180-4 section 3.1: words are big-endian). */
static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * One step of FIPS 180-4 section 6.1.2 (3): T = ROTL5(a) + f(b,c,d) + e + K + W;
 * e = d; d = c; c = ROTL30(b); b = a; a = T. Instead of moving five words per
 * step, the caller renames them: five steps bring the names back where they
 * started. Each round kind has its own loop, so no step tests t (a record's
 * Community ID hashes one block: ~3,200 instructions with a test per step).
 */
#define SHA1_STEP(a, b, c, d, e, f, k, wt) \
	do { \
		(e) += rol32((a), 5) + (f) + (k) + (wt); \
		(b) = rol32((b), 30); \
	} while (0)
#define SHA1_F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d)))) /* Ch(b,c,d), section 4.1.1 */
#define SHA1_F2(b, c, d) ((b) ^ (c) ^ (d))           /* Parity */
#define SHA1_F3(b, c, d) (((b) & (c)) | ((d) & ((b) | (c)))) /* Maj */

/* The message schedule word of step t (t >= 16), kept in a 16-word ring. */
#define SHA1_W(w, t) \
	((w)[(t) & 15] = rol32((w)[((t) + 13) & 15] ^ (w)[((t) + 8) & 15] ^ \
			       (w)[((t) + 2) & 15] ^ (w)[(t) & 15], 1))

#define SHA1_FIVE(F, k, W) \
	do { \
		SHA1_STEP(a, b, c, d, e, F(b, c, d), k, W(t)); \
		SHA1_STEP(e, a, b, c, d, F(a, b, c), k, W(t + 1)); \
		SHA1_STEP(d, e, a, b, c, F(e, a, b), k, W(t + 2)); \
		SHA1_STEP(c, d, e, a, b, F(d, e, a), k, W(t + 3)); \
		SHA1_STEP(b, c, d, e, a, F(c, d, e), k, W(t + 4)); \
	} while (0)

/* One 512-bit block (FIPS 180-4 section 6.1.2), with the 16-word rolling schedule. */
static void sha1_block(uint32_t h[5], const uint8_t *blk)
{
	uint32_t w[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	int t;

#define W_IN(t) (w[t])
#define W_RING(t) SHA1_W(w, t)
	for (t = 0; t < 16; t++)
		w[t] = be32(blk + 4 * t);
	for (t = 0; t < 15; t += 5)
		SHA1_FIVE(SHA1_F1, 0x5a827999u, W_IN);
	/* step 15 reads w[15]; steps 16..19 make theirs: the mixed group is written out */
	SHA1_STEP(a, b, c, d, e, SHA1_F1(b, c, d), 0x5a827999u, w[15]);
	SHA1_STEP(e, a, b, c, d, SHA1_F1(a, b, c), 0x5a827999u, SHA1_W(w, 16));
	SHA1_STEP(d, e, a, b, c, SHA1_F1(e, a, b), 0x5a827999u, SHA1_W(w, 17));
	SHA1_STEP(c, d, e, a, b, SHA1_F1(d, e, a), 0x5a827999u, SHA1_W(w, 18));
	SHA1_STEP(b, c, d, e, a, SHA1_F1(c, d, e), 0x5a827999u, SHA1_W(w, 19));
	for (t = 20; t < 40; t += 5)
		SHA1_FIVE(SHA1_F2, 0x6ed9eba1u, W_RING);
	for (t = 40; t < 60; t += 5)
		SHA1_FIVE(SHA1_F3, 0x8f1bbcdcu, W_RING);
	for (t = 60; t < 80; t += 5)
		SHA1_FIVE(SHA1_F2, 0xca62c1d6u, W_RING);
#undef W_IN
#undef W_RING
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void mt_sha1_init(mt_sha1 *c)
{
	/* FIPS 180-4 section 5.3.1. */
	c->h[0] = 0x67452301u;
	c->h[1] = 0xefcdab89u;
	c->h[2] = 0x98badcfeu;
	c->h[3] = 0x10325476u;
	c->h[4] = 0xc3d2e1f0u;
	c->nbytes = 0;
	c->nbuf = 0;
}

void mt_sha1_update(mt_sha1 *c, const void *data, size_t len)
{
	const uint8_t *in = (const uint8_t *)data;

	if (len == 0)
		return;
	c->nbytes += len;
	if (c->nbuf > 0) {
		size_t n = sizeof c->buf - c->nbuf;

		if (n > len)
			n = len;
		memcpy(c->buf + c->nbuf, in, n);
		c->nbuf += n;
		in += n;
		len -= n;
		if (c->nbuf < sizeof c->buf)
			return;
		sha1_block(c->h, c->buf);
		c->nbuf = 0;
	}
	for (; len >= 64; len -= 64, in += 64)
		sha1_block(c->h, in);
	if (len > 0) {
		memcpy(c->buf, in, len);
		c->nbuf = len;
	}
}

void mt_sha1_final(mt_sha1 *c, uint8_t out[20])
{
	uint64_t bits = c->nbytes * 8;

	/* Padding (FIPS 180-4 section 5.1.1): 0x80, zeros, then the bit length big-endian. */
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > 56) {
		memset(c->buf + c->nbuf, 0, sizeof c->buf - c->nbuf);
		sha1_block(c->h, c->buf);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
	for (int i = 0; i < 8; i++)
		c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_block(c->h, c->buf);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
	/* Leave no message bytes behind in the context. */
	memset(c->buf, 0, sizeof c->buf);
	c->nbuf = 0;
}

int mt_sha1_short(const void *msg, size_t len, uint8_t out[20])
{
	uint8_t blk[64];
	uint32_t h[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
	uint64_t bits = (uint64_t)len * 8;

	if (len > MT_SHA1_SHORT_MAX)
		return -1;
	/* The padded message (FIPS 180-4 section 5.1.1) built in place: one block, one compression. */
	memcpy(blk, msg, len);
	blk[len] = 0x80;
	memset(blk + len + 1, 0, 56 - len - 1);
	for (int i = 0; i < 8; i++)
		blk[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_block(h, blk);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
	return 0;
}

int mt_base64(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t need, o = 0, i = 0;

	/* The length returned must fit an int: 4 * ceil(len / 3) <= INT_MAX. */
	if (len > (size_t)(INT_MAX / 4) * 3)
		return -1;
	need = (len + 2) / 3 * 4; /* without the NUL */
	if (!out || outlen <= need || (len > 0 && !in))
		return -1;
	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}
