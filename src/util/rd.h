/* rd.h - the one bounds-checked reader for every parser of untrusted bytes. */
#ifndef MT_RD_H
#define MT_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A reader over [p, p+len). Every fetch checks `len - off >= n` (never
 * `off + n <= len`, which can overflow). The error is sticky: after the
 * first short read every later fetch fails too and returns zeroes, so a
 * parser may read a whole header and test `r->err` once.
 * Payload pointers are never cast to wider integers: multi-byte values are
 * assembled byte by byte.
 */
typedef struct mt_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err; /* 0, or 1 once any read ran past the end */
} mt_rd;

static inline void mt_rd_init(mt_rd *r, const void *p, size_t len)
{
	r->p = (const uint8_t *)p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = 0;
}

static inline size_t mt_rd_left(const mt_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* Returns 1 if n more bytes can be read, else sets the sticky error and returns 0. */
static inline int mt_rd_need(mt_rd *r, size_t n)
{
	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return 0;
	}
	return 1;
}

/* Returns a pointer to the next n bytes and advances, or NULL (sticky error). */
static inline const uint8_t *mt_rd_ptr(mt_rd *r, size_t n)
{
	const uint8_t *q;
	if (!mt_rd_need(r, n))
		return NULL;
	q = r->p + r->off;
	r->off += n;
	return q;
}

static inline int mt_rd_skip(mt_rd *r, size_t n)
{
	if (!mt_rd_need(r, n))
		return -1;
	r->off += n;
	return 0;
}

static inline uint8_t mt_rd_u8(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 1);
	return q ? q[0] : 0;
}

static inline uint16_t mt_rd_be16(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 2);
	return q ? (uint16_t)((q[0] << 8) | q[1]) : 0;
}

static inline uint32_t mt_rd_be24(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 3);
	return q ? ((uint32_t)q[0] << 16) | ((uint32_t)q[1] << 8) | q[2] : 0;
}

static inline uint32_t mt_rd_be32(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 4);
	return q ? ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
			   ((uint32_t)q[2] << 8) | q[3]
		 : 0;
}

static inline uint16_t mt_rd_le16(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 2);
	return q ? (uint16_t)(q[0] | (q[1] << 8)) : 0;
}

static inline uint32_t mt_rd_le24(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 3);
	return q ? (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) : 0;
}

static inline uint32_t mt_rd_le32(mt_rd *r)
{
	const uint8_t *q = mt_rd_ptr(r, 4);
	return q ? (uint32_t)q[0] | ((uint32_t)q[1] << 8) |
			   ((uint32_t)q[2] << 16) | ((uint32_t)q[3] << 24)
		 : 0;
}

static inline uint64_t mt_rd_le64(mt_rd *r)
{
	uint64_t lo, hi;
	if (!mt_rd_need(r, 8))
		return 0;
	lo = mt_rd_le32(r);
	hi = mt_rd_le32(r);
	return lo | (hi << 32);
}

/* Copies n bytes out; on a short read the destination is zeroed. Returns 0 or -1. */
static inline int mt_rd_copy(mt_rd *r, void *dst, size_t n)
{
	const uint8_t *q = mt_rd_ptr(r, n);
	if (!q) {
		memset(dst, 0, n);
		return -1;
	}
	memcpy(dst, q, n);
	return 0;
}

/* A sub-reader over the next n bytes (an inner layer sees only its declared length). */
static inline mt_rd mt_rd_sub(mt_rd *r, size_t n)
{
	mt_rd s;
	const uint8_t *q = mt_rd_ptr(r, n);
	mt_rd_init(&s, q, q ? n : 0);
	if (!q)
		s.err = 1;
	return s;
}

#endif
