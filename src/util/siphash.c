/* siphash.c - SipHash-2-4 and SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012). */
#include "util/siphash.h"

/*
 * Words are assembled byte by byte in little-endian order, as the paper
 * specifies, so the result does not depend on the host's byte order or on the
 * alignment of data (compilers turn this into one load on x86 and arm64).
 */
static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                   \
	do {                                                       \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;             \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;             \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
	} while (0)

/*
 * SipHash-c-d: c rounds per message block, d finalisation rounds. Inlined into
 * each exported variant with constant c and d, so the loops unroll.
 */
static inline __attribute__((always_inline)) uint64_t sip(const uint8_t key[16], const void *data,
							  size_t len, int c, int d)
{
	const uint8_t *in = (const uint8_t *)data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	/* Initialisation constants: "somepseudorandomlygeneratedbytes" (paper, section 2). */
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k1 ^ 0x7465646279746573ull;
	size_t left = len;
	uint64_t m;

	for (; left >= 8; left -= 8, in += 8) {
		m = le64(in);
		v3 ^= m;
		for (int r = 0; r < c; r++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}

	/* Last block: the remaining 0..7 bytes, zero padded, length mod 256 in the top byte. */
	m = (uint64_t)(len & 0xff) << 56;
	switch (left) {
	case 7: m |= (uint64_t)in[6] << 48; /* fall through */
	case 6: m |= (uint64_t)in[5] << 40; /* fall through */
	case 5: m |= (uint64_t)in[4] << 32; /* fall through */
	case 4: m |= (uint64_t)in[3] << 24; /* fall through */
	case 3: m |= (uint64_t)in[2] << 16; /* fall through */
	case 2: m |= (uint64_t)in[1] << 8;  /* fall through */
	case 1: m |= (uint64_t)in[0];       /* fall through */
	default: break;
	}
	v3 ^= m;
	for (int r = 0; r < c; r++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= m;

	v2 ^= 0xff;
	for (int r = 0; r < d; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t mt_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	return sip(key, data, len, 2, 4);
}

uint64_t mt_siphash13(const uint8_t key[16], const void *data, size_t len)
{
	return sip(key, data, len, 1, 3);
}
