/* p2p_crypto.c - SHA-256 (FIPS 180-4), Keccak-f[1600] sponge (FIPS 202 / Keccak team), secp256k1 field check (SEC 2). */
#include "p2p_crypto.h"

#include <string.h>

/* ---- SHA-256 (FIPS 180-4 section 6.2) ------------------------------------ */

static const uint32_t sha_k[64] = {
	0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
	0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
	0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
	0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
	0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
	0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
	0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
	0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32u - n));
}

static void sha_block(uint32_t h[8], const uint8_t *b)
{
	uint32_t w[64], a, bb, c, d, e, f, g, hh;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = ((uint32_t)b[4 * i] << 24) | ((uint32_t)b[4 * i + 1] << 16) |
		       ((uint32_t)b[4 * i + 2] << 8) | b[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; bb = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
			      ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
			      ((a & bb) ^ (a & c) ^ (bb & c));

		hh = g; g = f; f = e; e = d + t1;
		d = c; c = bb; bb = a; a = t1 + t2;
	}
	h[0] += a; h[1] += bb; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void mt_p2p_sha256(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN])
{
	uint32_t h[8] = { 0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
			  0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u };
	uint8_t last[128];
	uint64_t bits = (uint64_t)n * 8u;
	size_t full = n - n % 64, rest = n % 64, tail;
	int i;

	for (size_t o = 0; o < full; o += 64)
		sha_block(h, p + o);
	memset(last, 0, sizeof last);
	if (rest)
		memcpy(last, p + full, rest);
	last[rest] = 0x80;
	tail = rest + 1 + 8 <= 64 ? 64 : 128; /* the length must fit after the 0x80 */
	for (i = 0; i < 8; i++)
		last[tail - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha_block(h, last);
	if (tail == 128)
		sha_block(h, last + 64);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

void mt_p2p_sha256d(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN])
{
	uint8_t once[MT_P2P_HASH_LEN];

	mt_p2p_sha256(p, n, once);
	mt_p2p_sha256(once, sizeof once, out);
}

/* ---- Keccak-f[1600] (FIPS 202 section 3; The Keccak reference 3.0) ------- */

static const uint64_t keccak_rc[24] = {
	0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
	0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
	0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
	0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
	0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
	0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* rho offsets, lane index x + 5y */
static const uint8_t keccak_rho[25] = {
	0, 1, 62, 28, 27,
	36, 44, 6, 55, 20,
	3, 10, 43, 25, 39,
	41, 45, 15, 21, 8,
	18, 2, 61, 56, 14,
};

static uint64_t rol64(uint64_t x, unsigned n)
{
	return n ? (x << n) | (x >> (64u - n)) : x;
}

static void keccak_f1600(uint64_t a[25])
{
	uint64_t c[5], d[5], b[25];
	int r, x, y;

	for (r = 0; r < 24; r++) {
		for (x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
		for (x = 0; x < 5; x++)
			d[x] = c[(x + 4) % 5] ^ rol64(c[(x + 1) % 5], 1);
		for (x = 0; x < 25; x++)
			a[x] ^= d[x % 5];
		/* rho and pi: lane (x, y) moves to (y, 2x + 3y) */
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] = rol64(a[x + 5 * y], keccak_rho[x + 5 * y]);
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
		a[0] ^= keccak_rc[r];
	}
}

/* Absorbs one rate-sized block; lanes are little-endian (FIPS 202 section B.1). */
static void keccak_absorb(uint64_t a[25], const uint8_t *blk, size_t rate)
{
	for (size_t i = 0; i < rate / 8; i++) {
		uint64_t v = 0;

		for (int k = 7; k >= 0; k--)
			v = (v << 8) | blk[8 * i + (size_t)k];
		a[i] ^= v;
	}
	keccak_f1600(a);
}

static void keccak_256_pad(const uint8_t *p, size_t n, uint8_t pad, uint8_t out[MT_P2P_HASH_LEN])
{
	enum { RATE = 136 }; /* 1600 - 2 * 256 bits */
	uint64_t a[25];
	uint8_t last[RATE];
	size_t o = 0, rest;

	memset(a, 0, sizeof a);
	while (n - o >= RATE) {
		keccak_absorb(a, p + o, RATE);
		o += RATE;
	}
	rest = n - o;
	memset(last, 0, sizeof last);
	if (rest)
		memcpy(last, p + o, rest);
	last[rest] ^= pad;
	last[RATE - 1] ^= 0x80;
	keccak_absorb(a, last, RATE);
	for (int i = 0; i < MT_P2P_HASH_LEN; i++)
		out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

void mt_p2p_keccak256(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN])
{
	keccak_256_pad(p, n, 0x01, out);
}

void mt_p2p_sha3_256(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN])
{
	keccak_256_pad(p, n, 0x06, out);
}

/* ---- secp256k1 field arithmetic (SEC 2 section 2.4.1) --------------------- */

/* An element of GF(p) as eight 32-bit limbs, least significant first. */
typedef struct fe {
	uint32_t v[8];
} fe;

/* p = 2^256 - 2^32 - 977 */
static const fe fe_p = { { 0xfffffc2fu, 0xfffffffeu, 0xffffffffu, 0xffffffffu,
			   0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu } };

static void fe_from_be(fe *r, const uint8_t *b)
{
	for (int i = 0; i < 8; i++) {
		const uint8_t *q = b + 4 * (7 - i);

		r->v[i] = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
	}
}

/* -1, 0, 1 as a <, =, > b */
static int fe_cmp(const fe *a, const fe *b)
{
	for (int i = 7; i >= 0; i--) {
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	}
	return 0;
}

/* a -= b, with b <= a */
static void fe_sub_in(fe *a, const fe *b)
{
	uint64_t borrow = 0;

	for (int i = 0; i < 8; i++) {
		uint64_t d = (uint64_t)a->v[i] - b->v[i] - borrow;

		a->v[i] = (uint32_t)d;
		borrow = (d >> 32) & 1u;
	}
}

/*
 * Reduces a 256-bit value plus `top` * 2^256 modulo p, using 2^256 = 2^32 +
 * 977 (mod p). top stays below 2^34 at every caller, so two folds and one
 * subtraction bring the value under p.
 */
static void fe_fold(fe *r, uint64_t top)
{
	while (top) {
		uint64_t acc = (uint64_t)r->v[0] + top * 977u;

		r->v[0] = (uint32_t)acc;
		acc = (acc >> 32) + r->v[1] + top;
		r->v[1] = (uint32_t)acc;
		acc >>= 32;
		for (int i = 2; i < 8; i++) {
			acc += r->v[i];
			r->v[i] = (uint32_t)acc;
			acc >>= 32;
		}
		top = acc;
	}
	if (fe_cmp(r, &fe_p) >= 0)
		fe_sub_in(r, &fe_p);
}

/* r = a * b mod p; a and b are below p. */
static void fe_mul(fe *r, const fe *a, const fe *b)
{
	uint32_t t[16];
	uint64_t acc, top;
	fe lo;
	int i, j;

	memset(t, 0, sizeof t);
	for (i = 0; i < 8; i++) {
		uint64_t carry = 0;

		for (j = 0; j < 8; j++) {
			uint64_t m = (uint64_t)a->v[i] * b->v[j] + t[i + j] + carry;

			t[i + j] = (uint32_t)m;
			carry = m >> 32;
		}
		t[i + 8] = (uint32_t)carry;
	}
	/* t = H * 2^256 + L = L + H * 977 + (H << 32) (mod p) */
	acc = 0;
	for (i = 0; i < 8; i++) {
		acc += (uint64_t)t[i] + (uint64_t)t[8 + i] * 977u;
		if (i > 0)
			acc += t[8 + i - 1];
		lo.v[i] = (uint32_t)acc;
		acc >>= 32;
	}
	top = acc + t[15];
	fe_fold(&lo, top);
	*r = lo;
}

int mt_p2p_secp256k1_on_curve(const uint8_t xy[64])
{
	fe x, y, lhs, rhs;

	fe_from_be(&x, xy);
	fe_from_be(&y, xy + 32);
	if (fe_cmp(&x, &fe_p) >= 0 || fe_cmp(&y, &fe_p) >= 0)
		return 0;
	fe_mul(&lhs, &y, &y);
	fe_mul(&rhs, &x, &x);
	fe_mul(&rhs, &rhs, &x);
	/* + 7: rhs < p, so the sum is below 2^256 + 7 and one fold suffices */
	{
		uint64_t acc = (uint64_t)rhs.v[0] + 7u;

		rhs.v[0] = (uint32_t)acc;
		acc >>= 32;
		for (int i = 1; i < 8; i++) {
			acc += rhs.v[i];
			rhs.v[i] = (uint32_t)acc;
			acc >>= 32;
		}
		fe_fold(&rhs, acc);
	}
	return fe_cmp(&lhs, &rhs) == 0;
}
