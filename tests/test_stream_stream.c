/* test_stream_stream.c - bounded TCP stream reassembly: order, overlaps, wrap-around, limits, gaps, memory. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04

/* ---- allocation seam (weak in stream.c) ---- */

int mt_stream_fail_alloc(size_t size);

static unsigned g_alloc_calls;   /* allocations asked for */
static int g_fail_skip = 0;      /* let this many through ... */
static int g_fail_count = 0;     /* ... then refuse this many */

int mt_stream_fail_alloc(size_t size)
{
	(void)size;
	g_alloc_calls++;
	if (g_fail_skip > 0) {
		g_fail_skip--;
		return 0;
	}
	if (g_fail_count > 0) {
		g_fail_count--;
		return 1;
	}
	return 0;
}

static void fail_allocs(int skip, int count)
{
	g_fail_skip = skip;
	g_fail_count = count;
}

/* ---- helpers ---- */

static int64_t g_mem; /* sum of every *mem_delta */

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rng_next(s) % n) : 0;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(&seed);
}

static mt_stream_cfg mkcfg(uint32_t maxb, uint32_t win, uint32_t segs)
{
	mt_stream_cfg c;

	c.max_bytes = maxb;
	c.window = win;
	c.max_segs = segs;
	return c;
}

static int seg(mt_stream_dir *d, const mt_stream_cfg *c, mt_stream_stats *st,
	       uint32_t seq, uint8_t fl, const void *p, uint32_t n)
{
	return mt_stream_segment(d, c, st, seq, fl, (const uint8_t *)p, n, &g_mem);
}

/* Frees d and checks that the memory accounting came back to zero. */
static void free_check(mt_stream_dir *d)
{
	mt_stream_dir_free(d, &g_mem);
	ck_assert_int_eq(g_mem, 0);
	ck_assert_ptr_null(d->buf);
	ck_assert_ptr_null(d->ooo);
	ck_assert_uint_eq(d->len, 0);
	ck_assert_uint_eq(d->alloc, 0);
	ck_assert_uint_eq(d->ooo_count, 0);
}

static void setup(void)
{
	g_mem = 0;
	g_alloc_calls = 0;
	fail_allocs(0, 0);
}

/* A message of n bytes: 'a'..'z' repeated, easy to read in a failure. */
static void fill_text(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)('a' + i % 26);
}

/* ---- basic ordering ---- */

START_TEST(test_cfg_default)
{
	mt_stream_cfg c;

	memset(&c, 0xff, sizeof(c));
	mt_stream_cfg_default(&c);
	ck_assert_uint_eq(c.max_bytes, MT_STREAM_DEFAULT_MAX_BYTES);
	ck_assert_uint_eq(c.window, MT_STREAM_DEFAULT_WINDOW);
	ck_assert_uint_eq(c.max_segs, MT_STREAM_DEFAULT_MAX_SEGS);
}
END_TEST

START_TEST(test_in_order)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};

	mt_stream_cfg_default(&c);
	ck_assert_int_eq(seg(&d, &c, &st, 100, F_SYN, NULL, 0), 0);
	ck_assert_uint_eq(d.started, 1);
	ck_assert_uint_eq(d.midstream, 0);
	ck_assert_uint_eq(d.next_seq, 101);
	ck_assert_uint_eq(st.segments, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 101, 0, "GET ", 4), 4);
	ck_assert_int_eq(seg(&d, &c, &st, 105, 0, "/ HTTP", 6), 6);
	ck_assert_int_eq(seg(&d, &c, &st, 111, 0, "/1.1\r\n", 6), 6);
	ck_assert_uint_eq(d.len, 16);
	ck_assert_mem_eq(d.buf, "GET / HTTP/1.1\r\n", 16);
	ck_assert_uint_eq(d.next_seq, 117);
	ck_assert_uint_eq(d.seen_bytes, 16);
	ck_assert_uint_eq(st.segments, 3);
	ck_assert_uint_eq(st.in_order, 3);
	ck_assert_uint_eq(st.retransmit + st.overlap + st.ooo_queued + st.ooo_dropped, 0);
	ck_assert_uint_eq(d.ngaps, 0);
	ck_assert_uint_eq(d.gap_off, 0);
	ck_assert_uint_eq(d.capped, 0);
	ck_assert_uint_eq(d.fin, 0);
	ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	free_check(&d);
}
END_TEST

START_TEST(test_syn_relative)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};

	mt_stream_cfg_default(&c);
	/* data on the SYN starts at ISN + 1 (RFC 793 3.3) */
	ck_assert_int_eq(seg(&d, &c, &st, 1000, F_SYN, "abc", 3), 3);
	ck_assert_uint_eq(d.next_seq, 1004);
	ck_assert_int_eq(seg(&d, &c, &st, 1004, 0, "def", 3), 3);
	/* a retransmitted SYN does not reset anything; its data is old */
	ck_assert_int_eq(seg(&d, &c, &st, 1000, F_SYN, "abc", 3), 0);
	ck_assert_uint_eq(st.retransmit, 1);
	ck_assert_uint_eq(d.next_seq, 1007);
	ck_assert_mem_eq(d.buf, "abcdef", 6);
	ck_assert_uint_eq(d.midstream, 0);
	free_check(&d);

	/* a plain SYN, then data; data claiming the SYN's own number is trimmed by one */
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(seg(&d, &c, &st, 0x7fffffff, F_SYN, NULL, 0), 0);
	ck_assert_uint_eq(d.next_seq, 0x80000000u);
	ck_assert_int_eq(seg(&d, &c, &st, 0x7fffffff, 0, "Xhello", 6), 5);
	ck_assert_uint_eq(st.overlap, 1);
	ck_assert_mem_eq(d.buf, "hello", 5);
	free_check(&d);
}
END_TEST

START_TEST(test_midstream)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};

	mt_stream_cfg_default(&c);
	/* pure ACKs do not start a direction */
	ck_assert_int_eq(seg(&d, &c, &st, 5000, 0, NULL, 0), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 5000, 0, "", 0), 0);
	ck_assert_uint_eq(d.started, 0);
	ck_assert_uint_eq(st.segments, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 5000, 0, "mid", 3), 3);
	ck_assert_uint_eq(d.started, 1);
	ck_assert_uint_eq(d.midstream, 1);
	ck_assert_uint_eq(d.next_seq, 5003);
	/* a SYN seen late does not move a started direction */
	ck_assert_int_eq(seg(&d, &c, &st, 4000, F_SYN, NULL, 0), 0);
	ck_assert_uint_eq(d.next_seq, 5003);
	ck_assert_int_eq(seg(&d, &c, &st, 5003, 0, "dle", 3), 3);
	ck_assert_mem_eq(d.buf, "middle", 6);
	ck_assert_uint_eq(d.ngaps, 0);
	/* older data than the first segment seen is treated as old */
	ck_assert_int_eq(seg(&d, &c, &st, 4990, 0, "0123456789", 10), 0);
	ck_assert_uint_eq(st.retransmit, 1);
	free_check(&d);
}
END_TEST

START_TEST(test_retransmission)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};

	mt_stream_cfg_default(&c);
	seg(&d, &c, &st, 10, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, "0123456789", 10), 10);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, "XXXXXXXXXX", 10), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 15, 0, "XXXXX", 5), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, "X", 1), 0);
	ck_assert_uint_eq(st.retransmit, 3);
	ck_assert_uint_eq(st.in_order, 1);
	ck_assert_uint_eq(d.len, 10);
	ck_assert_mem_eq(d.buf, "0123456789", 10);
	ck_assert_uint_eq(d.seen_bytes, 26);
	ck_assert_uint_eq(d.next_seq, 21);
	free_check(&d);
}
END_TEST

START_TEST(test_overlap_both_ends)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t a[64], b[64];

	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	mt_stream_cfg_default(&c);
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	/* start overlaps kept data: the old copy wins, the new tail is kept */
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, "0123456789", 10), 10);
	ck_assert_int_eq(seg(&d, &c, &st, 6, 0, "XXXXXabcde", 10), 5);
	ck_assert_uint_eq(st.overlap, 1);
	ck_assert_mem_eq(d.buf, "0123456789abcde", 15);
	free_check(&d);

	/* end overlaps held data: the held copy wins */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, b, 10), 0); /* [10,20) held */
	ck_assert_uint_eq(st.ooo_queued, 1);
	ck_assert_uint_eq(d.ooo_count, 1);
	ck_assert_uint_eq(d.ooo_bytes, 10);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, a, 30), 30); /* [0,30) */
	ck_assert_uint_eq(d.len, 30);
	ck_assert_mem_eq(d.buf, "AAAAAAAAAABBBBBBBBBBAAAAAAAAAA", 30);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(d.ooo_bytes, 0);
	free_check(&d);

	/* a held segment overlapping both ends of an earlier held one, and one around two */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 21, 0, b, 10), 0); /* [20,30) */
	ck_assert_int_eq(seg(&d, &c, &st, 41, 0, b, 10), 0); /* [40,50) */
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, a, 50), 0); /* [10,60): fills [10,20) [30,40) [50,60) */
	ck_assert_uint_eq(d.ooo_count, 5);
	ck_assert_uint_eq(d.ooo_bytes, 50);
	ck_assert_int_eq(seg(&d, &c, &st, 26, 0, a, 10), 0); /* [25,35): only duplicates */
	ck_assert_uint_eq(st.retransmit, 1);
	ck_assert_uint_eq(d.ooo_bytes, 50);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, "0123456789", 10), 60);
	ck_assert_mem_eq(d.buf, "0123456789AAAAAAAAAABBBBBBBBBBAAAAAAAAAABBBBBBBBBBAAAAAAAAAA", 60);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(st.ooo_queued, 3);
	free_check(&d);

	/* an in-order segment reaching over two held ones with a hole between */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, b, 5), 0);  /* [10,15) */
	ck_assert_int_eq(seg(&d, &c, &st, 21, 0, b, 5), 0);  /* [20,25) */
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, a, 30), 30); /* [0,30) */
	ck_assert_mem_eq(d.buf, "AAAAAAAAAABBBBBAAAAABBBBBAAAAA", 30);
	ck_assert_uint_eq(d.next_seq, 31);
	free_check(&d);
}
END_TEST

/* ---- reordering ---- */

/* Sends msg (SYN at isn) cut at cuts[0..n-2] in the order perm; checks the result. */
static void send_pieces(const uint8_t *msg, uint32_t len, const uint32_t *bounds,
			const unsigned *perm, unsigned n, uint32_t isn, const mt_stream_cfg *c)
{
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	int64_t total = 0;

	ck_assert_int_eq(seg(&d, c, &st, isn, F_SYN, NULL, 0), 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = perm[i];
		int r = seg(&d, c, &st, isn + 1 + bounds[k], 0, msg + bounds[k],
			    bounds[k + 1] - bounds[k]);

		ck_assert_int_ge(r, 0);
		total += r;
		ck_assert_uint_le(d.ooo_count, c->max_segs);
	}
	ck_assert_int_eq(total, len);
	ck_assert_uint_eq(d.len, len);
	ck_assert_mem_eq(d.buf, msg, len);
	ck_assert_uint_eq(d.ngaps, 0);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(d.ooo_bytes, 0);
	ck_assert_uint_eq(d.next_seq, isn + 1 + len);
	ck_assert_uint_eq(st.in_order + st.ooo_queued, n);
	free_check(&d);
}

/* Next permutation in lexicographic order; 0 after the last. */
static int next_perm(unsigned *a, unsigned n)
{
	unsigned i, j, t;

	if (n < 2)
		return 0;
	i = n - 1;
	while (i > 0 && a[i - 1] >= a[i])
		i--;
	if (i == 0)
		return 0;
	j = n - 1;
	while (a[j] <= a[i - 1])
		j--;
	t = a[i - 1];
	a[i - 1] = a[j];
	a[j] = t;
	for (j = n - 1; i < j; i++, j--) {
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
	return 1;
}

/* Random distinct cut points: bounds[0] = 0 < ... < bounds[n] = len. */
static void make_bounds(uint32_t *bounds, unsigned n, uint32_t len, uint64_t *rs)
{
	bounds[0] = 0;
	bounds[n] = len;
	for (unsigned i = 1; i < n; i++)
		bounds[i] = (uint32_t)((uint64_t)len * i / n);
	/* jitter inside each slice keeps every piece non-empty */
	for (unsigned i = 1; i < n; i++) {
		uint32_t lo = bounds[i - 1] + 1, hi = (uint32_t)((uint64_t)len * (i + 1) / n) - 1;

		if (hi > lo)
			bounds[i] = lo + rng_below(rs, hi - lo);
	}
}

static const uint32_t isns[] = {0, 1000, 0xfffffe00u, 0xffffff00u, 0xffffffffu, 0x7ffffff0u};

START_TEST(test_all_permutations)
{
	uint8_t msg[700];
	uint32_t bounds[6];
	unsigned perm[5];
	mt_stream_cfg c;
	uint64_t rs = 42;
	unsigned count = 0;

	fill_text(msg, sizeof(msg));
	mt_stream_cfg_default(&c);
	for (unsigned n = 1; n <= 5; n++) {
		for (size_t ii = 0; ii < sizeof(isns) / sizeof(isns[0]); ii++) {
			make_bounds(bounds, n, sizeof(msg), &rs);
			for (unsigned i = 0; i < n; i++)
				perm[i] = i;
			do {
				send_pieces(msg, sizeof(msg), bounds, perm, n, isns[ii], &c);
				count++;
			} while (next_perm(perm, n));
		}
	}
	/* 1 + 2 + 6 + 24 + 120 permutations per ISN */
	ck_assert_uint_eq(count, 153 * (sizeof(isns) / sizeof(isns[0])));
}
END_TEST

static void shuffle(unsigned *a, unsigned n, uint64_t *rs)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = rng_below(rs, i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

START_TEST(test_random_shuffles)
{
	static const unsigned ns[] = {6, 8, 16, 31, 50, 200};
	uint8_t msg[6000];
	uint32_t bounds[201];
	unsigned perm[200];
	uint64_t rs = 7;

	fill_random(msg, sizeof(msg), 99);
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		unsigned n = ns[k];
		mt_stream_cfg c = mkcfg(MT_STREAM_DEFAULT_MAX_BYTES, sizeof(msg), n);

		for (unsigned trial = 0; trial < 200; trial++) {
			make_bounds(bounds, n, sizeof(msg), &rs);
			for (unsigned i = 0; i < n; i++)
				perm[i] = i;
			shuffle(perm, n, &rs);
			send_pieces(msg, sizeof(msg), bounds, perm, n,
				    isns[trial % (sizeof(isns) / sizeof(isns[0]))], &c);
		}
	}
}
END_TEST

START_TEST(test_shuffles_with_duplicates)
{
	uint8_t msg[4000];
	uint32_t bounds[41];
	unsigned perm[40];
	uint64_t rs = 1234;
	mt_stream_cfg c = mkcfg(MT_STREAM_DEFAULT_MAX_BYTES, 8000, 200);

	fill_random(msg, sizeof(msg), 5);
	for (unsigned trial = 0; trial < 300; trial++) {
		unsigned n = 2 + rng_below(&rs, 39);
		uint32_t isn = trial % 3 ? (uint32_t)rng_next(&rs) : 0xffffffffu - rng_below(&rs, 3000);
		mt_stream_stats st = {0};
		mt_stream_dir d = {0};

		make_bounds(bounds, n, sizeof(msg), &rs);
		for (unsigned i = 0; i < n; i++)
			perm[i] = i;
		shuffle(perm, n, &rs);
		seg(&d, &c, &st, isn, F_SYN, NULL, 0);
		for (unsigned i = 0; i < n; i++) {
			unsigned k = perm[i];

			/* before each piece maybe an exact duplicate of any piece, or any sub-range */
			if (rng_below(&rs, 3) == 0) {
				unsigned j = rng_below(&rs, n);

				ck_assert_int_ge(seg(&d, &c, &st, isn + 1 + bounds[j], 0, msg + bounds[j],
						     bounds[j + 1] - bounds[j]), 0);
			}
			if (rng_below(&rs, 3) == 0) {
				uint32_t a = rng_below(&rs, sizeof(msg) - 1);
				uint32_t l = 1 + rng_below(&rs, (uint32_t)sizeof(msg) - a);

				ck_assert_int_ge(seg(&d, &c, &st, isn + 1 + a, 0, msg + a, l), 0);
			}
			ck_assert_int_ge(seg(&d, &c, &st, isn + 1 + bounds[k], 0, msg + bounds[k],
					     bounds[k + 1] - bounds[k]), 0);
			/* and the same piece again */
			if (rng_below(&rs, 4) == 0)
				ck_assert_int_ge(seg(&d, &c, &st, isn + 1 + bounds[k], 0, msg + bounds[k],
						     bounds[k + 1] - bounds[k]), 0);
		}
		ck_assert_uint_eq(d.len, sizeof(msg));
		ck_assert_mem_eq(d.buf, msg, sizeof(msg));
		ck_assert_uint_eq(d.ngaps, 0);
		ck_assert_uint_eq(d.ooo_count, 0);
		ck_assert_uint_eq(d.next_seq, isn + 1 + (uint32_t)sizeof(msg));
		free_check(&d);
	}
}
END_TEST

START_TEST(test_wraparound)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[100];

	fill_text(msg, sizeof(msg));
	mt_stream_cfg_default(&c);
	/* in order across the wrap */
	seg(&d, &c, &st, 0xfffffff0u, F_SYN, NULL, 0);
	for (uint32_t off = 0; off < 100; off += 10)
		ck_assert_int_eq(seg(&d, &c, &st, 0xfffffff1u + off, 0, msg + off, 10), 10);
	ck_assert_uint_eq(d.next_seq, 0xfffffff1u + 100u);
	ck_assert_uint_eq(d.next_seq, 0x55u);
	ck_assert_mem_eq(d.buf, msg, 100);
	/* old data from before the wrap is still old */
	ck_assert_int_eq(seg(&d, &c, &st, 0xfffffff1u, 0, msg, 30), 0);
	ck_assert_uint_eq(st.retransmit, 1);
	free_check(&d);

	/* out of order across the wrap: the piece after the wrap first */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0xfffffff7u, F_SYN, NULL, 0); /* data at ...f8 */
	ck_assert_int_eq(seg(&d, &c, &st, 0x10u, 0, msg + 24, 76), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 0xfffffffcu, 0, msg + 4, 20), 0); /* crosses 0 */
	ck_assert_uint_eq(d.ooo_count, 2);
	ck_assert_int_eq(seg(&d, &c, &st, 0xfffffff8u, 0, msg, 4), 100);
	ck_assert_mem_eq(d.buf, msg, 100);
	ck_assert_uint_eq(d.next_seq, 0xfffffff8u + 100u);
	free_check(&d);

	/* SYN at 0xffffffff: data at 0 */
	seg(&d, &c, &st, 0xffffffffu, F_SYN, NULL, 0);
	ck_assert_uint_eq(d.next_seq, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 0, 0, "x", 1), 1);
	free_check(&d);

	/* midstream start right before the wrap, overlap over the wrap */
	seg(&d, &c, &st, 0xfffffffeu, 0, msg, 4);
	ck_assert_int_eq(seg(&d, &c, &st, 0x0u, 0, msg + 2, 8), 6);
	ck_assert_mem_eq(d.buf, msg, 10);
	free_check(&d);
}
END_TEST

/* ---- the cap ---- */

START_TEST(test_cap_exact)
{
	mt_stream_cfg c = mkcfg(100, 1000, 8);
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[300];

	fill_text(msg, sizeof(msg));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 60), 60);
	ck_assert_uint_eq(d.capped, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 61, 0, msg + 60, 40), 40);
	ck_assert_uint_eq(d.len, 100);
	ck_assert_uint_eq(d.capped, 1);
	ck_assert_uint_eq(st.capped_bytes, 0);
	ck_assert_uint_le(d.alloc, 100);
	ck_assert_mem_eq(d.buf, msg, 100);
	/* after the cap bytes are only counted, once */
	ck_assert_int_eq(seg(&d, &c, &st, 101, 0, msg + 100, 50), 0);
	ck_assert_uint_eq(st.capped_bytes, 50);
	ck_assert_int_eq(seg(&d, &c, &st, 101, 0, msg + 100, 50), 0);
	ck_assert_uint_eq(st.capped_bytes, 50);
	ck_assert_int_eq(seg(&d, &c, &st, 141, 0, msg + 140, 20), 0);
	ck_assert_uint_eq(st.capped_bytes, 60);
	ck_assert_uint_eq(d.seen_bytes, 220);
	ck_assert_uint_eq(d.len, 100);
	ck_assert_mem_eq(d.buf, msg, 100);
	/* held data is not taken any more */
	ck_assert_int_eq(seg(&d, &c, &st, 500, 0, msg, 10), 0);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	free_check(&d);
}
END_TEST

START_TEST(test_cap_exceeded)
{
	mt_stream_cfg c = mkcfg(100, 1000, 8);
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[400];

	fill_text(msg, sizeof(msg));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 90), 90);
	ck_assert_int_eq(seg(&d, &c, &st, 91, 0, msg + 90, 30), 10);
	ck_assert_uint_eq(d.capped, 1);
	ck_assert_uint_eq(st.capped_bytes, 20);
	ck_assert_mem_eq(d.buf, msg, 100);
	free_check(&d);

	/* one big segment; held data freed when the cap is reached */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 301, 0, msg + 300, 50), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 201, 0, msg + 200, 10), 0);
	ck_assert_uint_eq(d.ooo_count, 2);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 150), 100);
	ck_assert_uint_eq(d.capped, 1);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(d.ooo_bytes, 0);
	ck_assert_uint_eq(st.capped_bytes, 50 + 60);
	ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	ck_assert_int_eq(mt_stream_drain(&d, &c, &st, &g_mem), 0);
	free_check(&d);

	/* max_bytes 0 keeps nothing */
	c = mkcfg(0, 1000, 8);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(seg(&d, &c, &st, 7, 0, msg, 10), 0);
	ck_assert_uint_eq(d.capped, 1);
	ck_assert_uint_eq(d.alloc, 0);
	ck_assert_uint_eq(st.capped_bytes, 10);
	free_check(&d);
}
END_TEST

/* The cap is held in one segment that gets pulled from the held list. */
START_TEST(test_cap_in_pull)
{
	mt_stream_cfg c = mkcfg(100, 1000, 8);
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[400];

	fill_text(msg, sizeof(msg));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 51, 0, msg + 50, 100), 0);  /* [50,150) */
	ck_assert_int_eq(seg(&d, &c, &st, 161, 0, msg + 160, 10), 0); /* [160,170) */
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 50), 100);
	ck_assert_uint_eq(d.capped, 1);
	ck_assert_mem_eq(d.buf, msg, 100);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(st.capped_bytes, 50 + 10);
	free_check(&d);
}
END_TEST

START_TEST(test_hard_max)
{
	mt_stream_cfg c = mkcfg(0xffffffffu, 0xffffffffu, 4);
	mt_stream_dir d = {0};
	uint8_t *chunk = calloc(1, 65536);
	uint32_t seq = 1;

	ck_assert_ptr_nonnull(chunk);
	seg(&d, &c, NULL, 0, F_SYN, NULL, 0);
	while (!d.capped) {
		ck_assert_int_ge(seg(&d, &c, NULL, seq, 0, chunk, 65536), 0);
		seq += 65536;
		ck_assert_uint_le(seq, MT_STREAM_HARD_MAX_BYTES + 65537u);
	}
	ck_assert_uint_eq(d.len, MT_STREAM_HARD_MAX_BYTES);
	ck_assert_uint_eq(d.alloc, MT_STREAM_HARD_MAX_BYTES);
	/* the window is clamped as well: far ahead is not held */
	free_check(&d);
	seg(&d, &c, NULL, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, NULL, 1 + MT_STREAM_HARD_MAX_BYTES, 0, chunk, 10), 0);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_int_eq(seg(&d, &c, NULL, MT_STREAM_HARD_MAX_BYTES, 0, chunk, 10), 0);
	ck_assert_uint_eq(d.ooo_count, 1);
	ck_assert_uint_eq(d.ooo_bytes, 1);
	free_check(&d);
	free(chunk);
}
END_TEST

/* ---- limits and gaps ---- */

START_TEST(test_window)
{
	mt_stream_cfg c = mkcfg(65536, 1000, 32);
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[3000];

	fill_random(msg, sizeof(msg), 3);
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	/* exactly at the window's end: dropped, nothing held to skip to */
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 1000, 0, msg + 1000, 10), 0);
	ck_assert_uint_eq(st.ooo_dropped, 1);
	ck_assert_uint_eq(d.ooo_count, 0);
	/* straddling the window's end: the part inside is held */
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 999, 0, msg + 999, 10), 0);
	ck_assert_uint_eq(st.ooo_queued, 1);
	ck_assert_uint_eq(d.ooo_bytes, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 999), 1000);
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 1000, 0, msg + 1000, 9), 9);
	ck_assert_mem_eq(d.buf, msg, 1009);
	ck_assert_uint_eq(d.ngaps, 0);

	/* hole at [1009,1100), held [1100,1200); a segment past the window that
	 * draining would bring inside skips the hole */
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 1100, 0, msg + 1100, 100), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 2100, 0, msg + 2100, 50), 100);
	ck_assert_uint_eq(d.ngaps, 1);
	ck_assert_uint_eq(st.gaps, 1);
	ck_assert_uint_eq(d.gap_off, 1009);
	ck_assert_uint_eq(d.len, 1109);
	ck_assert_mem_eq(d.buf + 1009, msg + 1100, 100);
	ck_assert_uint_eq(d.ooo_count, 1); /* [2100,2150) now held */
	ck_assert_uint_eq(d.next_seq, 1 + 1200);

	/* a bogus far-ahead segment is dropped without skipping anything */
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 1200 + 0x10000000u, 0, msg, 50), 0);
	ck_assert_uint_eq(d.ngaps, 1);
	ck_assert_uint_eq(d.ooo_count, 1);
	ck_assert_uint_eq(st.ooo_dropped, 2);
	/* far behind is old */
	ck_assert_int_eq(seg(&d, &c, &st, 1 + 1200 - 0x70000000u, 0, msg, 50), 0);
	ck_assert_uint_eq(st.retransmit, 1);
	ck_assert_uint_le(d.ooo_bytes, c.window);
	free_check(&d);
}
END_TEST

START_TEST(test_max_segs_and_gaps)
{
	mt_stream_cfg c = mkcfg(65536, 65536, 4);
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[200], want[200];
	size_t w = 0;

	fill_random(msg, sizeof(msg), 11);
#define SEND(a, b) seg(&d, &c, &st, 1 + (a), 0, msg + (a), (b) - (a))
#define WANT(a, b) (memcpy(want + w, msg + (a), (b) - (a)), w += (b) - (a))
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(SEND(0, 10), 10);
	WANT(0, 10);
	ck_assert_int_eq(SEND(20, 30), 0);
	ck_assert_int_eq(SEND(40, 50), 0);
	ck_assert_int_eq(SEND(60, 70), 0);
	ck_assert_int_eq(SEND(80, 90), 0);
	ck_assert_uint_eq(d.ooo_count, 4);
	/* no room: the hole [10,20) is skipped, [20,30) appended, then [100,110) held */
	ck_assert_int_eq(SEND(100, 110), 10);
	WANT(20, 30);
	ck_assert_uint_eq(d.ngaps, 1);
	ck_assert_uint_eq(d.gap_off, 10);
	ck_assert_uint_eq(d.ooo_count, 4);
	ck_assert_uint_eq(st.ooo_queued, 5);
	/* no room, and the new segment lies inside the oldest hole: skip up to it */
	ck_assert_int_eq(SEND(35, 38), 3);
	WANT(35, 38);
	ck_assert_uint_eq(d.ngaps, 2);
	ck_assert_uint_eq(d.gap_off, 20);
	ck_assert_uint_eq(d.ooo_count, 4);
	/* a segment that only duplicates held data needs no room */
	ck_assert_int_eq(SEND(60, 70), 0);
	ck_assert_uint_eq(d.ngaps, 2);
	ck_assert_uint_eq(d.len, 23);
	ck_assert_uint_le(d.ooo_count, c.max_segs);

	/* drain gives up on every hole */
	ck_assert_uint_eq(d.ooo_bytes, 40);
	ck_assert_int_eq(mt_stream_drain(&d, &c, &st, &g_mem), 40);
	WANT(40, 50);
	WANT(60, 70);
	WANT(80, 90);
	WANT(100, 110);
	ck_assert_uint_eq(d.len, w);
	ck_assert_mem_eq(d.buf, want, w);
	ck_assert_uint_eq(d.ngaps, 6);
	ck_assert_uint_eq(st.gaps, 6);
	ck_assert_uint_eq(d.gap_off, 53);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(d.ooo_bytes, 0);
	ck_assert_uint_eq(d.next_seq, 1 + 110);
	ck_assert_uint_eq(d.midstream, 0);
	/* the stream goes on in order after a drain */
	ck_assert_int_eq(SEND(110, 120), 10);
	ck_assert_int_eq(mt_stream_drain(&d, &c, &st, &g_mem), 0);
	ck_assert_uint_eq(d.ngaps, 6);
	ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	free_check(&d);

	/* max_segs 0: a hole is skipped as soon as later data comes */
	c = mkcfg(65536, 65536, 0);
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(SEND(0, 10), 10);
	ck_assert_int_eq(SEND(20, 30), 10);
	ck_assert_uint_eq(d.gap_off, 10);
	ck_assert_uint_eq(d.ngaps, 1);
	ck_assert_int_eq(SEND(10, 20), 0); /* late: old now */
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_mem_eq(d.buf + 10, msg + 20, 10);
	free_check(&d);

	/* window 0: nothing ahead is taken, nothing is skipped */
	c = mkcfg(65536, 0, 32);
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(SEND(20, 30), 0);
	ck_assert_uint_eq(st.ooo_dropped, 1);
	ck_assert_int_eq(SEND(0, 10), 10);
	free_check(&d);
#undef SEND
#undef WANT
}
END_TEST

START_TEST(test_gap_at_start)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};

	mt_stream_cfg_default(&c);
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, "later", 5), 0);
	ck_assert_int_eq(seg(&d, &c, &st, 0, F_FIN, NULL, 0), 0);
	ck_assert_uint_eq(d.fin, 1);
	ck_assert_int_eq(mt_stream_drain(&d, &c, &st, &g_mem), 5);
	ck_assert_uint_eq(d.ngaps, 1);
	ck_assert_uint_eq(d.gap_off, 0);
	ck_assert_uint_eq(d.midstream, 1); /* starts mid-message now */
	ck_assert_mem_eq(d.buf, "later", 5);
	free_check(&d);
}
END_TEST

/* A capture that lost one segment must not blind the rest of the flow. */
START_TEST(test_lost_segment_recovers)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t *msg = malloc(200 * 1000);
	uint32_t isn = 0xffff0000u;
	unsigned i, stalled = 0;

	ck_assert_ptr_nonnull(msg);
	fill_random(msg, 200 * 1000, 17);
	mt_stream_cfg_default(&c);
	seg(&d, &c, &st, isn, F_SYN, NULL, 0);
	for (i = 0; i < 200; i++) {
		if (i == 3)
			continue; /* lost */
		ck_assert_int_ge(seg(&d, &c, &st, isn + 1 + i * 1000, 0, msg + i * 1000, 1000), 0);
		if (d.ngaps == 0 && i > 3)
			stalled++;
	}
	ck_assert_uint_eq(stalled, MT_STREAM_DEFAULT_MAX_SEGS);
	ck_assert_uint_eq(d.ngaps, 1);
	ck_assert_uint_eq(d.gap_off, 3000);
	ck_assert_uint_eq(d.capped, 1);
	ck_assert_uint_eq(d.len, MT_STREAM_DEFAULT_MAX_BYTES);
	ck_assert_mem_eq(d.buf, msg, 3000);
	ck_assert_mem_eq(d.buf + 3000, msg + 4000, d.len - 3000);
	free_check(&d);
	free(msg);
}
END_TEST

START_TEST(test_fin_rst)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};

	mt_stream_cfg_default(&c);
	ck_assert_int_eq(seg(&d, &c, &st, 9, F_FIN, NULL, 0), 0);
	ck_assert_uint_eq(d.fin, 1);
	ck_assert_uint_eq(d.started, 0);
	free_check(&d);
	ck_assert_int_eq(seg(&d, &c, &st, 9, F_RST, NULL, 0), 0);
	ck_assert_uint_eq(d.fin, 1);
	free_check(&d);
	/* data on a FIN is taken, and data after it too (reordered capture) */
	ck_assert_int_eq(seg(&d, &c, &st, 1, F_SYN, NULL, 0), 0);
	ck_assert_uint_eq(d.fin, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 5, F_FIN, "end", 3), 0);
	ck_assert_uint_eq(d.fin, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 2, 0, "the", 3), 6);
	ck_assert_mem_eq(d.buf, "theend", 6);
	/* a pure ACK changes nothing */
	ck_assert_int_eq(seg(&d, &c, &st, 12345, 0x10, NULL, 0), 0);
	ck_assert_uint_eq(d.next_seq, 8);
	ck_assert_uint_eq(st.segments, 2);
	free_check(&d);
}
END_TEST

START_TEST(test_args)
{
	mt_stream_dir d = {0};
	uint8_t b[4] = {1, 2, 3, 4};
	int64_t md = 0;

	ck_assert_int_eq(mt_stream_segment(NULL, NULL, NULL, 0, 0, b, 4, NULL), -EINVAL);
	ck_assert_int_eq(mt_stream_segment(&d, NULL, NULL, 0, 0, NULL, 4, NULL), -EINVAL);
	ck_assert_int_eq(mt_stream_segment(&d, NULL, NULL, 0, 0, b, 0x80000000u, NULL), -EINVAL);
	ck_assert_uint_eq(d.started, 0);
	ck_assert_int_eq(mt_stream_drain(NULL, NULL, NULL, NULL), -EINVAL);
	/* NULL cfg means the defaults, NULL stats and mem_delta are fine */
	ck_assert_int_eq(mt_stream_segment(&d, NULL, NULL, 0, 0, b, 4, NULL), 4);
	ck_assert_int_eq(mt_stream_segment(&d, NULL, NULL, 0x10004, 0, b, 4, NULL), 0);
	ck_assert_uint_eq(d.ooo_count, 0); /* past the default window */
	ck_assert_int_eq(mt_stream_segment(&d, NULL, NULL, 0xfff0, 0, b, 4, NULL), 0);
	ck_assert_uint_eq(d.ooo_count, 1);
	ck_assert_int_eq(mt_stream_drain(&d, NULL, NULL, NULL), 4);
	mt_stream_dir_free(&d, &md);
	ck_assert_int_lt(md, 0);
	mt_stream_dir_free(NULL, NULL);
	mt_stream_dir_free(&d, NULL);
}
END_TEST

/* ---- memory ---- */

START_TEST(test_mem_delta)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[5000];
	int64_t hdr, md;

	fill_random(msg, sizeof(msg), 21);
	mt_stream_cfg_default(&c);
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(g_mem, 0);
	seg(&d, &c, &st, 1 + 1000, 0, msg + 1000, 100);
	ck_assert_uint_eq(d.alloc, 0);
	hdr = g_mem - 100;
	ck_assert_int_gt(hdr, 0);
	ck_assert_int_le(hdr, 64);
	seg(&d, &c, &st, 1 + 2000, 0, msg + 2000, 300);
	seg(&d, &c, &st, 1 + 1500, 0, msg + 1500, 600); /* [1500,2100): one new piece */
	ck_assert_uint_eq(d.ooo_count, 3);
	ck_assert_int_eq(g_mem, 3 * hdr + (int64_t)d.ooo_bytes);
	seg(&d, &c, &st, 1, 0, msg, 1000);
	ck_assert_int_eq(g_mem, (int64_t)d.alloc + (int64_t)d.ooo_count * hdr + (int64_t)d.ooo_bytes);
	ck_assert_uint_eq(d.ooo_count, 2);
	/* the delta is added to, so both frees of a flow may share one variable */
	md = 5;
	mt_stream_drain(&d, &c, &st, &md);
	ck_assert_int_eq(md, 5 + (int64_t)d.alloc - g_mem);
	g_mem += md - 5;
	ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	free_check(&d);
}
END_TEST

START_TEST(test_alloc_growth)
{
	mt_stream_cfg c;
	mt_stream_dir d = {0};
	uint8_t b[4096];
	uint32_t seq = 1, expect = MT_STREAM_INITIAL_ALLOC;
	unsigned calls;

	memset(b, 'x', sizeof(b));
	mt_stream_cfg_default(&c);
	seg(&d, &c, NULL, 0, F_SYN, NULL, 0);
	ck_assert_uint_eq(g_alloc_calls, 0);
	ck_assert_int_eq(seg(&d, &c, NULL, seq++, 0, b, 1), 1);
	ck_assert_uint_eq(d.alloc, MT_STREAM_INITIAL_ALLOC);
	ck_assert_uint_eq(g_alloc_calls, 1);
	/* in-order bytes grow it geometrically, and no allocation otherwise */
	calls = 1;
	while (d.len < c.max_bytes) {
		uint32_t before = d.alloc;

		ck_assert_int_eq(seg(&d, &c, NULL, seq++, 0, b, 1), 1);
		if (d.alloc != before) {
			expect *= 2;
			calls++;
			ck_assert_uint_eq(d.len, before + 1);
			ck_assert_uint_eq(d.alloc, expect);
		}
		ck_assert_uint_eq(g_alloc_calls, calls);
		ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	}
	ck_assert_uint_eq(d.alloc, c.max_bytes);
	/* one allocation per doubling from the initial size to 64 KiB (0.25, 0.5, 1 ... 64 KiB) */
	ck_assert_uint_eq(calls, 1u + (unsigned)__builtin_ctz(c.max_bytes / MT_STREAM_INITIAL_ALLOC));
	free_check(&d);

	/* clamped to max_bytes, not a power of two */
	c = mkcfg(5000, 5000, 4);
	g_alloc_calls = 0;
	seg(&d, &c, NULL, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, NULL, 1, 0, b, 2049), 2049);
	ck_assert_uint_eq(d.alloc, 4096);
	ck_assert_int_eq(seg(&d, &c, NULL, 2050, 0, b, 4000), 5000 - 2049);
	ck_assert_uint_eq(d.alloc, 5000);
	ck_assert_uint_eq(g_alloc_calls, 2);
	free_check(&d);

	/* smaller than the first allocation */
	c = mkcfg(100, 100, 4);
	seg(&d, &c, NULL, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, NULL, 1, 0, b, 10), 10);
	ck_assert_uint_eq(d.alloc, 100);
	free_check(&d);

	/* a large first segment gets a power of two that holds it */
	c = mkcfg(65536, 65536, 4);
	seg(&d, &c, NULL, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, NULL, 1, 0, b, 4095), 4095);
	ck_assert_uint_eq(d.alloc, 4096);
	free_check(&d);
}
END_TEST

START_TEST(test_enomem)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_dir d = {0};
	uint8_t msg[3000];

	fill_random(msg, sizeof(msg), 8);
	mt_stream_cfg_default(&c);

	/* first buffer allocation fails: nothing changes, a resend works */
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	fail_allocs(0, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 100), -ENOMEM);
	ck_assert_uint_eq(st.alloc_fail, 1);
	ck_assert_uint_eq(d.len, 0);
	ck_assert_uint_eq(d.alloc, 0);
	ck_assert_ptr_null(d.buf);
	ck_assert_uint_eq(d.next_seq, 1);
	ck_assert_int_eq(g_mem, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 100), 100);
	ck_assert_mem_eq(d.buf, msg, 100);

	/* growth fails */
	ck_assert_int_eq(seg(&d, &c, &st, 101, 0, msg + 100, 1948), 1948);
	ck_assert_uint_eq(d.alloc, 2048);
	fail_allocs(0, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 2049, 0, msg + 2048, 10), -ENOMEM);
	ck_assert_uint_eq(d.len, 2048);
	ck_assert_uint_eq(d.alloc, 2048);
	ck_assert_uint_eq(d.next_seq, 2049);
	ck_assert_int_eq(g_mem, 2048);
	ck_assert_int_eq(seg(&d, &c, &st, 2049, 0, msg + 2048, 10), 10);
	ck_assert_mem_eq(d.buf, msg, 2058);
	free_check(&d);

	/* a held segment cannot be allocated: dropped, the stream goes on */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	fail_allocs(0, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, msg + 10, 10), -ENOMEM);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(d.ooo_bytes, 0);
	ck_assert_int_eq(g_mem, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 10), 10);
	ck_assert_int_eq(seg(&d, &c, &st, 11, 0, msg + 10, 10), 10);
	ck_assert_mem_eq(d.buf, msg, 20);
	free_check(&d);

	/* a segment needing two held pieces gets only the first */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 101, 0, msg + 100, 100), 0); /* [100,200) */
	fail_allocs(1, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 51, 0, msg + 50, 200), -ENOMEM); /* [50,100) ok, [200,250) not */
	ck_assert_uint_eq(d.ooo_count, 2);
	ck_assert_uint_eq(d.ooo_bytes, 150);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 50), 200);
	ck_assert_int_eq(seg(&d, &c, &st, 201, 0, msg + 200, 50), 50);
	ck_assert_mem_eq(d.buf, msg, 250);
	free_check(&d);

	/* the buffer cannot grow for a held segment being pulled: that one is lost */
	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 2000), 2000);
	ck_assert_int_eq(seg(&d, &c, &st, 2041, 0, msg + 2040, 60), 0); /* [2040,2100) */
	ck_assert_int_eq(seg(&d, &c, &st, 2201, 0, msg + 2200, 60), 0); /* [2200,2260) */
	fail_allocs(0, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 2001, 0, msg + 2000, 40), -ENOMEM);
	ck_assert_uint_eq(d.len, 2040);
	ck_assert_uint_eq(d.next_seq, 2041);
	ck_assert_uint_eq(d.ooo_count, 1);
	ck_assert_uint_eq(d.ooo_bytes, 60);
	ck_assert_uint_eq(st.alloc_fail, 1);
	ck_assert_int_eq(seg(&d, &c, &st, 2041, 0, msg + 2040, 60), 60);
	ck_assert_mem_eq(d.buf, msg, 2100);
	ck_assert_int_eq(seg(&d, &c, &st, 2201, 0, msg + 2200, 60), 0); /* a duplicate of held data */
	ck_assert_uint_eq(st.retransmit, 1);
	ck_assert_uint_eq(d.alloc, 4096);
	free_check(&d);

	memset(&st, 0, sizeof(st));
	seg(&d, &c, &st, 0, F_SYN, NULL, 0);
	ck_assert_int_eq(seg(&d, &c, &st, 1, 0, msg, 2048), 2048);
	ck_assert_int_eq(seg(&d, &c, &st, 2101, 0, msg + 2100, 60), 0);
	fail_allocs(0, 1);
	ck_assert_int_eq(mt_stream_drain(&d, &c, &st, &g_mem), -ENOMEM);
	ck_assert_uint_eq(d.ooo_count, 0);
	ck_assert_uint_eq(d.len, 2048);
	ck_assert_int_eq(g_mem, (int64_t)d.alloc);
	free_check(&d);
}
END_TEST

/* ---- fuzz ---- */

#define FZ_MARGIN 4096
#define FZ_LEN 40000
#define FZ_TOTAL (FZ_MARGIN + FZ_LEN + FZ_MARGIN)

typedef struct fz {
	const uint8_t *ref;    /* stream offset i is ref[FZ_MARGIN + i] */
	uint32_t base;         /* sequence number of stream offset 0 */
	int64_t hdr;           /* bytes accounted per held segment besides its data */
	uint32_t maxb, win, maxsegs;
} fz;

static int32_t fz_off(const fz *z, uint32_t seq)
{
	return (int32_t)(seq - z->base);
}

/* buf[from, from+n) must be the stream bytes at offset so. */
static void fz_check_run(const fz *z, const mt_stream_dir *d, uint32_t from, uint32_t n, int32_t so)
{
	if (!n)
		return;
	ck_assert_int_ge(so, -FZ_MARGIN);
	ck_assert_int_le((int64_t)so + n, FZ_LEN + FZ_MARGIN);
	ck_assert_mem_eq(d->buf + from, z->ref + FZ_MARGIN + so, n);
}

static void fz_invariants(const fz *z, const mt_stream_dir *d, int64_t mem)
{
	ck_assert_uint_le(d->len, z->maxb);
	ck_assert_uint_le(d->len, d->alloc);
	ck_assert_uint_le(d->alloc, z->maxb);
	ck_assert(d->alloc == 0 || d->alloc == z->maxb ||
		  (d->alloc >= MT_STREAM_INITIAL_ALLOC && (d->alloc & (d->alloc - 1)) == 0));
	ck_assert_uint_le(d->ooo_count, z->maxsegs);
	ck_assert_uint_le(d->ooo_bytes, z->win);
	ck_assert_uint_ge(d->ooo_bytes, d->ooo_count);
	ck_assert_int_eq(d->ooo_count == 0, d->ooo_bytes == 0);
	ck_assert_int_eq(d->ooo_count == 0, d->ooo == NULL);
	ck_assert_uint_le(d->gap_off, d->len);
	if (d->capped) {
		ck_assert_uint_eq(d->len, z->maxb);
		ck_assert_uint_eq(d->ooo_count, 0);
	} else if (z->maxb) {
		ck_assert_uint_lt(d->len, z->maxb);
	}
	ck_assert_int_eq(mem, (int64_t)d->alloc + (int64_t)d->ooo_bytes + z->hdr * d->ooo_count);
}

/* Checks the bytes a call added: runs end at next_seq unless a gap or the cap intervened. */
static void fz_check_new(const fz *z, const mt_stream_dir *d, const mt_stream_dir *before)
{
	uint32_t gaps = d->ngaps - before->ngaps;
	uint32_t p = before->len, n = d->len;

	ck_assert_uint_ge(d->ngaps, before->ngaps);
	if (n == p || before->capped)
		return;
	if (gaps == 0) {
		if (before->started)
			fz_check_run(z, d, p, n - p, fz_off(z, before->next_seq));
		if (!d->capped)
			fz_check_run(z, d, p, n - p, fz_off(z, d->next_seq) - (int32_t)(n - p));
		return;
	}
	ck_assert_uint_ge(d->gap_off, p);
	if (gaps == 1 && before->started)
		fz_check_run(z, d, p, d->gap_off - p, fz_off(z, before->next_seq));
	if (!d->capped)
		fz_check_run(z, d, d->gap_off, n - d->gap_off,
			     fz_off(z, d->next_seq) - (int32_t)(n - d->gap_off));
}

START_TEST(test_fuzz)
{
	uint8_t *ref = malloc(FZ_TOTAL), *junk = malloc(1500);
	uint64_t rs = 0x5eed;
	unsigned total = 0, streams = 0, with_gaps = 0, capped = 0;
	fz z;

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(junk);
	fill_random(ref, FZ_TOTAL, 77);
	fill_random(junk, 1500, 78);
	z.ref = ref;
	z.hdr = -1;

	while (total < 100000) {
		mt_stream_stats st = {0};
		mt_stream_dir d = {0}, before;
		mt_stream_cfg c;
		uint32_t budget = 50 + rng_below(&rs, 3000), after_cap = 0;
		uint64_t seen = 0, nseg = 0;
		int32_t first_off = 0;
		int syn = rng_below(&rs, 4) != 0;

		c.max_bytes = rng_below(&rs, 8) == 0 ? rng_below(&rs, 300) : 1000 + rng_below(&rs, 40000);
		c.window = rng_below(&rs, 6) == 0 ? rng_below(&rs, 100) : 500 + rng_below(&rs, 20000);
		c.max_segs = rng_below(&rs, 6) == 0 ? rng_below(&rs, 3) : 1 + rng_below(&rs, 40);
		z.maxb = c.max_bytes;
		z.win = c.window;
		z.maxsegs = c.max_segs;
		z.base = rng_below(&rs, 3) == 0 ? 0xffffffffu - rng_below(&rs, 20000) : (uint32_t)rng_next(&rs);
		g_mem = 0;
		if (syn) {
			ck_assert_int_eq(seg(&d, &c, &st, z.base - 1, F_SYN, NULL, 0), 0);
			ck_assert_uint_eq(d.next_seq, z.base);
		}
		for (uint32_t i = 0; i < budget && total < 100000 && after_cap < 20; i++, total++) {
			uint32_t k = rng_below(&rs, 100), len, seq;
			const uint8_t *p;
			uint8_t fl = 0;
			int32_t pos = d.started ? fz_off(&z, d.next_seq) : 0, off;
			int r;

			before = d;
			if (k < 3 && d.started) {
				/* nonsense sequence number far away, junk bytes */
				len = 1 + rng_below(&rs, 1500);
				seq = z.base + (uint32_t)pos +
				      (rng_below(&rs, 2) ? 1u : (uint32_t)-1) * ((1u << 30) + rng_below(&rs, 1u << 29));
				p = junk;
			} else if (k < 8) {
				len = 0;
				seq = (uint32_t)rng_next(&rs);
				p = NULL;
				fl = (uint8_t)(rng_below(&rs, 2) ? 0x10 : F_FIN);
			} else {
				len = 1 + rng_below(&rs, k < 60 ? 1460 : 200);
				int64_t o = (int64_t)pos + rng_below(&rs, 6000) - 2000;

				if (k >= 95)
					o = (int64_t)pos + rng_below(&rs, 30000);
				if (o < -FZ_MARGIN)
					o = -FZ_MARGIN;
				if (o > FZ_LEN + FZ_MARGIN - (int64_t)len)
					o = FZ_LEN + FZ_MARGIN - (int64_t)len;
				off = (int32_t)o;
				seq = z.base + (uint32_t)off;
				p = ref + FZ_MARGIN + off;
			}
			if (len && !d.started)
				first_off = fz_off(&z, seq);
			r = seg(&d, &c, &st, seq, fl, p, len);
			ck_assert_int_ge(r, 0);
			ck_assert_int_eq(r, (int)(d.len - before.len));
			if (len) {
				nseg++;
				seen += len;
			}
			if (z.hdr < 0 && d.ooo_count)
				z.hdr = (g_mem - (int64_t)d.alloc - (int64_t)d.ooo_bytes) / d.ooo_count;
			fz_invariants(&z, &d, g_mem);
			fz_check_new(&z, &d, &before);
			if (d.capped)
				after_cap++;
			if (rng_below(&rs, 200) == 0) {
				uint32_t held = d.ooo_bytes;

				before = d;
				r = mt_stream_drain(&d, &c, &st, &g_mem);
				ck_assert_int_ge(r, 0);
				ck_assert_int_eq(r, (int)(d.len - before.len));
				if (!d.capped)
					ck_assert_int_eq(r, (int)held);
				ck_assert_uint_eq(d.ooo_count, 0);
				fz_invariants(&z, &d, g_mem);
				fz_check_new(&z, &d, &before);
			}
		}
		before = d;
		ck_assert_int_ge(mt_stream_drain(&d, &c, &st, &g_mem), 0);
		fz_invariants(&z, &d, g_mem);
		fz_check_new(&z, &d, &before);
		ck_assert_uint_eq(st.segments, nseg);
		ck_assert_uint_eq(d.seen_bytes, seen);
		ck_assert_uint_eq(st.gaps, d.ngaps);
		/* without a gap the whole buffer is the stream from its start */
		if (d.ngaps == 0 && d.len)
			fz_check_run(&z, &d, 0, d.len, syn ? 0 : first_off);
		with_gaps += d.ngaps != 0;
		capped += d.capped;
		streams++;
		free_check(&d);
	}
	/* the loop covered what it is meant to */
	ck_assert_int_gt(z.hdr, 0);
	ck_assert_uint_gt(streams, 50);
	ck_assert_uint_gt(with_gaps, 10);
	ck_assert_uint_gt(capped, 10);
	ck_assert_uint_gt(streams - with_gaps, 5);
	free(ref);
	free(junk);
}
END_TEST

/* ---- buffer pool ---- */

/* A released first buffer serves the next direction; the results and the accounting are those without a pool. */
START_TEST(test_pool)
{
	mt_stream_cfg c;
	mt_stream_stats st = {0};
	mt_stream_pool pool = {0};
	mt_stream_dir a = {0}, b = {0}, x = {0}, y = {0};
	uint8_t msg[1000];
	int64_t mem_pool = 0;
	void *first;

	mt_stream_cfg_default(&c);
	fill_text(msg, sizeof msg);
	pool.max = 1;
	ck_assert_int_eq(mt_stream_segment_pooled(&a, &c, &st, &pool, 1, 0, msg, 100, &mem_pool), 100);
	ck_assert_uint_eq(a.alloc, MT_STREAM_INITIAL_ALLOC);
	ck_assert_uint_eq(pool.n, 0); /* empty pool: from malloc */
	first = a.buf;
	mt_stream_dir_release(&a, &pool, &mem_pool);
	ck_assert_int_eq(mem_pool, 0);
	ck_assert_ptr_null(a.buf);
	ck_assert_uint_eq(pool.n, 1);
	ck_assert_ptr_eq(pool.head, first);

	/* the next direction takes it */
	ck_assert_int_eq(mt_stream_segment_pooled(&b, &c, &st, &pool, 1, 0, msg, 50, &mem_pool), 50);
	ck_assert_ptr_eq(b.buf, first);
	ck_assert_uint_eq(pool.n, 0);
	ck_assert_ptr_null(pool.head);
	ck_assert_mem_eq(b.buf, msg, 50);
	/* growing past it: the data moves, the first buffer goes back to the pool */
	ck_assert_int_eq(mt_stream_segment_pooled(&b, &c, &st, &pool, 51, 0, msg + 50, 950, &mem_pool), 950);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_mem_eq(b.buf, msg, 1000);
	ck_assert_uint_eq(pool.n, 1);
	ck_assert_ptr_eq(pool.head, first);

	/* the same segments without a pool: same buffer size, same accounting */
	ck_assert_int_eq(seg(&x, &c, &st, 1, 0, msg, 50), 50);
	ck_assert_int_eq(seg(&x, &c, &st, 51, 0, msg + 50, 950), 950);
	ck_assert_uint_eq(x.alloc, b.alloc);
	ck_assert_int_eq(g_mem, mem_pool);

	/* a full pool frees what it cannot keep; a bigger buffer is never kept */
	ck_assert_int_eq(mt_stream_segment_pooled(&y, &c, &st, NULL, 1, 0, msg, 10, &mem_pool), 10);
	mt_stream_dir_release(&y, &pool, &mem_pool);
	mt_stream_dir_release(&b, &pool, &mem_pool);
	ck_assert_uint_eq(pool.n, 1);
	ck_assert_ptr_eq(pool.head, first);
	ck_assert_int_eq(mem_pool, 0);
	free_check(&x);
	mt_stream_pool_drain(&pool);
	ck_assert_uint_eq(pool.n, 0);
	ck_assert_ptr_null(pool.head);
	mt_stream_pool_drain(NULL);
}
END_TEST

static Suite *stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cfg_default);
	tcase_add_test(tc, test_in_order);
	tcase_add_test(tc, test_syn_relative);
	tcase_add_test(tc, test_midstream);
	tcase_add_test(tc, test_retransmission);
	tcase_add_test(tc, test_overlap_both_ends);
	tcase_add_test(tc, test_all_permutations);
	tcase_add_test(tc, test_random_shuffles);
	tcase_add_test(tc, test_shuffles_with_duplicates);
	tcase_add_test(tc, test_wraparound);
	tcase_add_test(tc, test_cap_exact);
	tcase_add_test(tc, test_cap_exceeded);
	tcase_add_test(tc, test_cap_in_pull);
	tcase_add_test(tc, test_hard_max);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_max_segs_and_gaps);
	tcase_add_test(tc, test_gap_at_start);
	tcase_add_test(tc, test_lost_segment_recovers);
	tcase_add_test(tc, test_fin_rst);
	tcase_add_test(tc, test_args);
	tcase_add_test(tc, test_mem_delta);
	tcase_add_test(tc, test_alloc_growth);
	tcase_add_test(tc, test_enomem);
	tcase_add_test(tc, test_fuzz);
	tcase_add_test(tc, test_pool);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stream_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
