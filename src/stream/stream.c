/* stream.c - bounded in-order reassembly of the first bytes of each TCP direction (RFC 793 sequence space). */
#include "stream/stream.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * Policy, in the words of the contract (stream.h) plus what it leaves open:
 *
 * - Sequence numbers compare by signed 32-bit difference (RFC 793 section
 *   3.3 arithmetic modulo 2^32). The window is clamped to
 *   MT_STREAM_HARD_MAX_BYTES so that every held byte lies less than 2^31
 *   ahead of next_seq and the comparisons stay exact. Payloads longer than
 *   MT_STREAM_MAX_SEG_LEN (the largest scaled TCP window, RFC 7323) are
 *   refused with -EINVAL: no real segment is that long.
 * - A zero field of the config is taken literally: max_bytes 0 keeps
 *   nothing; max_segs 0 holds nothing out of order, so a hole is skipped
 *   as soon as later data arrives; window 0 accepts nothing ahead of
 *   next_seq at all, so a hole stops the stream (as any loss larger than
 *   the window does). A NULL cfg means the defaults.
 * - Held (out-of-order) data is a sorted list of non-overlapping segments,
 *   all strictly ahead of next_seq and inside [next_seq, next_seq + window).
 *   A new segment only fills what is not held yet (first copy wins), as
 *   one new held piece per uncovered stretch; its tail past the window is
 *   cut off. The list's head keeps a pointer to its tail in `prev`, so the
 *   common case, data arriving in order behind one lost segment, is placed
 *   in O(1).
 * - When a segment ahead cannot be held, the stream does not wait forever
 *   for data a lossy capture will never deliver:
 *     - within the window, but held pieces would exceed max_segs: skip the
 *       oldest hole, i.e. jump next_seq to the lowest-sequence data we have
 *       (the first held segment, or the new segment if it lies before
 *       that), append what now continues the stream, and try again;
 *     - past the window: if draining everything held would bring it inside
 *       the window, skip the oldest hole and try again; otherwise drop it
 *       (ooo_dropped) and keep what is held, so that one bogus far-ahead
 *       sequence number cannot wipe out the reassembly. With nothing held
 *       the stream never jumps on such a segment.
 *   Every skipped hole counts one gap (ngaps, stats->gaps) and sets gap_off
 *   to the buffer offset where the unrelated bytes begin. A hole skipped
 *   before the first kept byte also sets midstream: the buffer then starts
 *   mid-message just like a capture that started late (gap_off stays 0).
 * - Allocation failure: nothing half-done is left. A failed buffer growth
 *   leaves next_seq where it was (the segment may come again, else the hole
 *   is skipped later); a held segment that could not be appended is freed.
 *   Both count stats->alloc_fail and return -ENOMEM; bytes appended earlier
 *   in the same call stay in buf (len tells).
 * - capped is set as soon as len reaches max_bytes; all held data is freed
 *   then (its bytes count as capped_bytes). After that next_seq follows the
 *   highest sequence number seen and capped_bytes grows by the bytes of
 *   each segment past it, so plain retransmissions are not counted twice.
 * - seen_bytes counts every payload byte offered, retransmissions included.
 * - *mem_delta is added to (not overwritten): the caller sets it to 0 and
 *   may sum several calls, e.g. the frees of both directions of a flow.
 *   Held segments are accounted as sizeof(header) + payload bytes.
 */

#define MT_STREAM_FIN 0x01u
#define MT_STREAM_SYN 0x02u
#define MT_STREAM_RST 0x04u
#define MT_STREAM_MAX_SEG_LEN (1u << 30)

struct mt_stream_seg {
	mt_stream_seg *next; /* NULL at the tail */
	mt_stream_seg *prev; /* the head's prev is the tail */
	uint32_t seq;
	uint32_t len;        /* > 0 */
	uint8_t data[];
};

/*
 * Test seam: tests may define this to make allocations fail (non-zero
 * return). Weak and undefined in the program, so it costs one branch on
 * the allocation path only.
 */
int mt_stream_fail_alloc(size_t size) __attribute__((weak));

/* Everything one call works with. */
typedef struct sctx {
	mt_stream_dir *d;
	mt_stream_stats *st;
	uint32_t maxb;
	uint32_t win;
	uint32_t maxsegs;
	mt_stream_pool *pool;
	int64_t md;
} sctx;

/* The outcomes of ooo_insert besides -ENOMEM. */
enum { OOO_DUP = 0, OOO_QUEUED = 1, OOO_NOROOM = 2 };

void mt_stream_cfg_default(mt_stream_cfg *cfg)
{
	cfg->max_bytes = MT_STREAM_DEFAULT_MAX_BYTES;
	cfg->window = MT_STREAM_DEFAULT_WINDOW;
	cfg->max_segs = MT_STREAM_DEFAULT_MAX_SEGS;
}

static void ctx_init(sctx *c, mt_stream_dir *d, const mt_stream_cfg *cfg,
		     mt_stream_stats *st, mt_stream_stats *scratch)
{
	mt_stream_cfg def;

	if (!cfg) {
		mt_stream_cfg_default(&def);
		cfg = &def;
	}
	if (!st) {
		memset(scratch, 0, sizeof(*scratch));
		st = scratch;
	}
	c->d = d;
	c->st = st;
	c->maxb = cfg->max_bytes < MT_STREAM_HARD_MAX_BYTES ? cfg->max_bytes : MT_STREAM_HARD_MAX_BYTES;
	c->win = cfg->window < MT_STREAM_HARD_MAX_BYTES ? cfg->window : MT_STREAM_HARD_MAX_BYTES;
	c->maxsegs = cfg->max_segs;
	c->pool = NULL;
	c->md = 0;
}

static int alloc_refused(size_t size)
{
	return mt_stream_fail_alloc && mt_stream_fail_alloc(size);
}

/* Distance of x ahead of next_seq, valid for held data (0 < result < window). */
static uint32_t rel(const mt_stream_dir *d, uint32_t x)
{
	return x - d->next_seq;
}

static mt_stream_seg *seg_prev(const mt_stream_dir *d, const mt_stream_seg *s)
{
	return s == d->ooo ? NULL : s->prev;
}

/* Links n after `after` (NULL: as the new head). */
static void seg_link(mt_stream_dir *d, mt_stream_seg *after, mt_stream_seg *n)
{
	if (!after) {
		n->next = d->ooo;
		if (d->ooo) {
			n->prev = d->ooo->prev;
			d->ooo->prev = n;
		} else {
			n->prev = n;
		}
		d->ooo = n;
		return;
	}
	n->prev = after;
	n->next = after->next;
	if (after->next)
		after->next->prev = n;
	else
		d->ooo->prev = n;
	after->next = n;
}

static void seg_unlink(mt_stream_dir *d, mt_stream_seg *n)
{
	if (n == d->ooo)
		d->ooo = n->next;
	else
		n->prev->next = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else if (d->ooo)
		d->ooo->prev = n->prev;
	d->ooo_count--;
	d->ooo_bytes -= n->len;
}

static void seg_free(sctx *c, mt_stream_seg *n)
{
	c->md -= (int64_t)(sizeof(*n) + n->len);
	free(n);
}

static void ooo_free_all(sctx *c)
{
	mt_stream_dir *d = c->d;
	mt_stream_seg *n = d->ooo, *next;

	for (; n; n = next) {
		next = n->next;
		seg_free(c, n);
	}
	d->ooo = NULL;
	d->ooo_count = 0;
	d->ooo_bytes = 0;
}

static void set_capped(sctx *c)
{
	c->d->capped = 1;
	c->st->capped_bytes += c->d->ooo_bytes;
	ooo_free_all(c);
}

/* Grows buf geometrically so that it holds `need` (<= maxb) bytes. */
static int buf_reserve(sctx *c, uint32_t need)
{
	mt_stream_dir *d = c->d;
	uint32_t nc;
	uint8_t *p;

	if (need <= d->alloc)
		return 0;
	nc = d->alloc ? d->alloc : MT_STREAM_INITIAL_ALLOC;
	while (nc < need)
		nc *= 2; /* need <= MT_STREAM_HARD_MAX_BYTES: no overflow */
	if (nc > c->maxb)
		nc = c->maxb;
	if (nc < need)
		nc = need;
	if (alloc_refused(nc)) {
		c->st->alloc_fail++;
		return -ENOMEM;
	}
	if (c->pool && d->alloc == 0 && nc == MT_STREAM_INITIAL_ALLOC && c->pool->head) {
		/* A spare first buffer: most directions never need another. */
		p = c->pool->head;
		memcpy(&c->pool->head, p, sizeof(void *));
		c->pool->n--;
	} else if (c->pool && d->alloc == MT_STREAM_INITIAL_ALLOC && c->pool->n < c->pool->max) {
		/* Growing out of a first buffer: it goes back to the pool, not to free. */
		if (!(p = malloc(nc))) {
			c->st->alloc_fail++;
			return -ENOMEM;
		}
		memcpy(p, d->buf, d->len);
		memcpy(d->buf, &c->pool->head, sizeof(void *));
		c->pool->head = d->buf;
		c->pool->n++;
	} else if (!(p = realloc(d->buf, nc))) {
		c->st->alloc_fail++;
		return -ENOMEM;
	}
	c->md += (int64_t)nc - (int64_t)d->alloc;
	d->buf = p;
	d->alloc = nc;
	return 0;
}

/*
 * Appends the m bytes at next_seq: keeps what fits under max_bytes and
 * counts the rest. Returns the bytes kept or -ENOMEM (nothing changed).
 */
static int append(sctx *c, const uint8_t *p, uint32_t m)
{
	mt_stream_dir *d = c->d;
	uint32_t room = c->maxb > d->len ? c->maxb - d->len : 0;
	uint32_t k = m < room ? m : room;

	if (k) {
		if (buf_reserve(c, d->len + k) < 0)
			return -ENOMEM;
		memcpy(d->buf + d->len, p, k);
		d->len += k;
	}
	d->next_seq += m;
	c->st->capped_bytes += m - k;
	if (d->len >= c->maxb)
		set_capped(c);
	return (int)k;
}

/* Appends the held segments that now continue the stream. */
static int pull(sctx *c)
{
	mt_stream_dir *d = c->d;
	int total = 0;

	while (d->ooo && !d->capped) {
		mt_stream_seg *h = d->ooo;
		int32_t off = (int32_t)(h->seq - d->next_seq);
		uint32_t skip;
		int r = 0;

		if (off > 0)
			break;
		seg_unlink(d, h);
		skip = (uint32_t)-(int64_t)off;
		if (skip < h->len)
			r = append(c, h->data + skip, h->len - skip);
		seg_free(c, h);
		if (r < 0)
			return r;
		total += r;
	}
	return total;
}

/* Gives up on the hole before `target` (strictly ahead of next_seq). */
static int skip_hole(sctx *c, uint32_t target)
{
	mt_stream_dir *d = c->d;

	d->gap_off = d->len;
	d->ngaps++;
	c->st->gaps++;
	if (d->len == 0)
		d->midstream = 1;
	d->next_seq = target;
	return pull(c);
}

/* After the cap: count bytes past the highest sequence number seen. */
static void count_capped(sctx *c, uint32_t s, uint32_t n)
{
	mt_stream_dir *d = c->d;
	int64_t e = (int64_t)(int32_t)(s - d->next_seq) + n;

	if (e <= 0)
		return;
	c->st->capped_bytes += (uint64_t)(e < (int64_t)n ? e : (int64_t)n);
	d->next_seq = s + n;
}

/*
 * Appends segment [s, s+n) that starts at or before next_seq and ends after
 * it, clipped at held data (which was there first), pulling held segments
 * in between.
 */
static int feed(sctx *c, uint32_t s, const uint8_t *p, uint32_t n)
{
	mt_stream_dir *d = c->d;
	int total = 0;

	for (;;) {
		uint32_t skip = d->next_seq - s;
		uint32_t m;
		int r;

		if (skip >= n)
			break;
		m = n - skip;
		if (d->ooo && rel(d, d->ooo->seq) < m)
			m = rel(d, d->ooo->seq);
		r = append(c, p + skip, m);
		if (r < 0)
			return r;
		total += r;
		if (!d->capped) {
			r = pull(c);
			if (r < 0)
				return r;
			total += r;
		}
		if (d->capped) {
			count_capped(c, s, n);
			break;
		}
	}
	return total;
}

static int add_piece(sctx *c, mt_stream_seg *after, uint32_t from, uint32_t to,
		     const uint8_t *src)
{
	mt_stream_dir *d = c->d;
	uint32_t len = to - from;
	mt_stream_seg *n;

	if (alloc_refused(sizeof(*n) + len) || !(n = malloc(sizeof(*n) + len))) {
		c->st->alloc_fail++;
		return -ENOMEM;
	}
	n->seq = d->next_seq + from;
	n->len = len;
	memcpy(n->data, src, len);
	seg_link(d, after, n);
	d->ooo_count++;
	d->ooo_bytes += len;
	c->md += (int64_t)(sizeof(*n) + len);
	return 0;
}

/*
 * Holds the bytes at offsets [a, b) past next_seq (0 < a < b <= window);
 * p is the byte at offset a. Only stretches not held yet are copied.
 */
static int ooo_insert(sctx *c, uint32_t a, uint32_t b, const uint8_t *p)
{
	mt_stream_dir *d = c->d;
	mt_stream_seg *hi = d->ooo ? d->ooo->prev : NULL;
	mt_stream_seg *lo, *first = NULL, *h;
	uint32_t cur, pieces = 0;

	/* hi: last held segment starting before b; first..hi: those overlapping [a, b) */
	while (hi && rel(d, hi->seq) >= b)
		hi = seg_prev(d, hi);
	lo = hi;
	while (lo && rel(d, lo->seq) + lo->len > a) {
		first = lo;
		lo = seg_prev(d, lo);
	}

	cur = a;
	for (h = first; h; h = h->next) {
		uint32_t ha = rel(d, h->seq);

		if (ha > cur)
			pieces++;
		if (ha + h->len > cur)
			cur = ha + h->len;
		if (h == hi)
			break;
	}
	if (cur < b)
		pieces++;
	if (!pieces)
		return OOO_DUP;
	if (pieces > c->maxsegs || d->ooo_count > c->maxsegs - pieces)
		return OOO_NOROOM;

	cur = a;
	for (h = first; h; h = h->next) {
		uint32_t ha = rel(d, h->seq);

		if (ha > cur && add_piece(c, lo, cur, ha, p + (cur - a)) < 0)
			return -ENOMEM;
		if (ha + h->len > cur)
			cur = ha + h->len;
		lo = h;
		if (h == hi)
			break;
	}
	if (cur < b && add_piece(c, lo, cur, b, p + (cur - a)) < 0)
		return -ENOMEM;
	return OOO_QUEUED;
}

/* One payload segment [s, s+n) of a started direction. */
static int payload(sctx *c, uint32_t s, const uint8_t *p, uint32_t n)
{
	mt_stream_dir *d = c->d;
	mt_stream_stats *st = c->st;
	int total = 0;

	if (d->capped) {
		if ((int64_t)(int32_t)(s - d->next_seq) + n <= 0)
			st->retransmit++;
		count_capped(c, s, n);
		return 0;
	}
	for (;;) {
		int32_t off = (int32_t)(s - d->next_seq);
		int r;

		if (off <= 0) {
			if ((int64_t)off + n <= 0) {
				st->retransmit++;
				return total;
			}
			if (off < 0)
				st->overlap++;
			else
				st->in_order++;
			r = feed(c, s, p, n);
			return r < 0 ? r : total + r;
		}
		if ((uint32_t)off >= c->win) {
			mt_stream_seg *tail = d->ooo ? d->ooo->prev : NULL;

			if (!tail || (int64_t)(int32_t)(s - (tail->seq + tail->len)) >= (int64_t)c->win) {
				st->ooo_dropped++;
				return total;
			}
			r = skip_hole(c, d->ooo->seq);
		} else {
			uint32_t b = (uint64_t)(uint32_t)off + n < c->win ? (uint32_t)off + n : c->win;

			r = ooo_insert(c, (uint32_t)off, b, p);
			if (r == OOO_QUEUED) {
				st->ooo_queued++;
				return total;
			}
			if (r == OOO_DUP) {
				st->retransmit++;
				return total;
			}
			if (r < 0)
				return r;
			/* no room: skip to the lowest-sequence data we have */
			if (d->ooo && (int32_t)(d->ooo->seq - s) < 0)
				r = skip_hole(c, d->ooo->seq);
			else
				r = skip_hole(c, s);
		}
		if (r < 0)
			return r;
		total += r;
		if (d->capped) {
			count_capped(c, s, n);
			return total;
		}
	}
}

int mt_stream_segment(mt_stream_dir *d, const mt_stream_cfg *cfg,
		      mt_stream_stats *st, uint32_t seq, uint8_t flags,
		      const uint8_t *data, uint32_t len, int64_t *mem_delta)
{
	return mt_stream_segment_pooled(d, cfg, st, NULL, seq, flags, data, len, mem_delta);
}

int mt_stream_segment_pooled(mt_stream_dir *d, const mt_stream_cfg *cfg,
			     mt_stream_stats *st, mt_stream_pool *pool, uint32_t seq,
			     uint8_t flags, const uint8_t *data, uint32_t len,
			     int64_t *mem_delta)
{
	mt_stream_stats scratch;
	sctx c;
	int r = 0;

	if (!d || (!data && len) || len > MT_STREAM_MAX_SEG_LEN)
		return -EINVAL;
	ctx_init(&c, d, cfg, st, &scratch);
	c.pool = pool;
	if (flags & MT_STREAM_SYN) {
		/* the SYN occupies one sequence number; its data starts after it */
		if (!d->started) {
			d->next_seq = seq + 1;
			d->started = 1;
		}
		seq++;
	}
	if (len) {
		c.st->segments++;
		d->seen_bytes += len;
		if (!d->started) {
			d->next_seq = seq;
			d->started = 1;
			d->midstream = 1;
		}
		r = payload(&c, seq, data, len);
	}
	if (flags & (MT_STREAM_FIN | MT_STREAM_RST))
		d->fin = 1;
	if (mem_delta)
		*mem_delta += c.md;
	return r;
}

int mt_stream_drain(mt_stream_dir *d, const mt_stream_cfg *cfg,
		    mt_stream_stats *st, int64_t *mem_delta)
{
	mt_stream_stats scratch;
	sctx c;
	int total = 0, err = 0;

	if (!d)
		return -EINVAL;
	ctx_init(&c, d, cfg, st, &scratch);
	/* a failed append frees its segment, so this always empties the list */
	while (d->ooo && !d->capped) {
		int r = skip_hole(&c, d->ooo->seq);

		if (r < 0)
			err = r;
		else
			total += r;
	}
	if (mem_delta)
		*mem_delta += c.md;
	return err ? err : total;
}

void mt_stream_dir_free(mt_stream_dir *d, int64_t *mem_delta)
{
	mt_stream_dir_release(d, NULL, mem_delta);
}

void mt_stream_pool_drain(mt_stream_pool *pool)
{
	if (!pool)
		return;
	while (pool->head) {
		void *next;

		memcpy(&next, pool->head, sizeof(void *));
		free(pool->head);
		pool->head = next;
	}
	pool->n = 0;
}

void mt_stream_dir_release(mt_stream_dir *d, mt_stream_pool *pool, int64_t *mem_delta)
{
	mt_stream_stats scratch;
	sctx c;

	if (!d)
		return;
	ctx_init(&c, d, NULL, NULL, &scratch);
	ooo_free_all(&c);
	c.md -= d->alloc;
	if (pool && d->alloc == MT_STREAM_INITIAL_ALLOC && pool->n < pool->max) {
		memcpy(d->buf, &pool->head, sizeof(void *));
		pool->head = d->buf;
		pool->n++;
	} else {
		free(d->buf);
	}
	memset(d, 0, sizeof(*d));
	if (mem_delta)
		*mem_delta += c.md;
}
