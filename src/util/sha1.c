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

/* One 512-bit block (FIPS 180-4 section 6.1.2), with the 16-word rolling schedule. */
static void sha1_block(uint32_t h[5], const uint8_t *blk)
{
	uint32_t w[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = be32(blk + 4 * t);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k, tmp;

		if (t >= 16) {
			w[t & 15] = rol32(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^
					  w[(t + 2) & 15] ^ w[t & 15], 1);
		}
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999u;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1u;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdcu;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6u;
		}
		tmp = rol32(a, 5) + f + e + k + w[t & 15];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = tmp;
	}
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
