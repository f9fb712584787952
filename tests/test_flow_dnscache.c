/* test_flow_dnscache.c - DNS response parsing (CNAME chains, compression, loops, truncation at every length) and the address cache (TTL, eviction, counters). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/dnscache.h"
#include "mt_test.h"

/* A response builder: header, one question, answers (RFC 1035 4.1). */
typedef struct msg {
	uint8_t b[1024];
	size_t n;
} msg;

static void put(msg *m, const void *p, size_t n)
{
	ck_assert_uint_le(m->n + n, sizeof m->b);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void u16(msg *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(m, b, 2);
}

static void u32(msg *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v & 0xffff);
}

static void name(msg *m, const char *n)
{
	while (*n) {
		const char *dot = strchr(n, '.');
		size_t l = dot ? (size_t)(dot - n) : strlen(n);
		uint8_t lb = (uint8_t)l;
		put(m, &lb, 1);
		put(m, n, l);
		n += l + (dot ? 1 : 0);
	}
	put(m, "", 1);
}

static void header(msg *m, unsigned an, const char *q)
{
	m->n = 0;
	u16(m, 0x1234);
	u16(m, 0x8180);
	u16(m, 1);
	u16(m, an);
	u16(m, 0);
	u16(m, 0);
	name(m, q);
	u16(m, 1);
	u16(m, 1);
}

static void rr_hdr(msg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
	u16(m, type);
	u16(m, 1);
	u32(m, ttl);
	u16(m, rdlen);
}

/* Question "Pool.Example.COM" -> CNAME edge.cdn.example.net (pointer owner) -> A and AAAA. */
static void sample(msg *m)
{
	static const uint8_t a4[4] = {203, 0, 113, 7};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
	size_t tgt;

	header(m, 3, "Pool.Example.COM");
	put(m, "\xc0\x0c", 2);
	tgt = m->n + 10;
	rr_hdr(m, 5, 300, 22);
	name(m, "edge.cdn.example.net");
	ck_assert_uint_eq(m->n - tgt, 22);
	u16(m, 0xc000 | (unsigned)tgt);
	rr_hdr(m, 1, 60, 4);
	put(m, a4, 4);
	u16(m, 0xc000 | (unsigned)tgt);
	rr_hdr(m, 28, 60, 16);
	put(m, a6, 16);
}

struct got {
	int n;
	char name[4][256];
	int ver[4];
	uint32_t ttl[4];
};

static void on_ans(void *ctx, const char *n, int ipver, const uint8_t *addr, uint32_t ttl)
{
	struct got *g = ctx;
	(void)addr;
	if (g->n < 4) {
		snprintf(g->name[g->n], sizeof g->name[0], "%s", n);
		g->ver[g->n] = ipver;
		g->ttl[g->n] = ttl;
		g->n++;
	}
}

START_TEST(test_parse_cname_chain)
{
	msg m;
	struct got g;

	sample(&m);
	memset(&g, 0, sizeof g);
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), 2);
	ck_assert_int_eq(g.n, 2);
	/* both addresses belong to the name the client asked for, lower-cased */
	ck_assert_str_eq(g.name[0], "pool.example.com");
	ck_assert_str_eq(g.name[1], "pool.example.com");
	ck_assert_int_eq(g.ver[0], 4);
	ck_assert_int_eq(g.ver[1], 6);
	ck_assert_uint_eq(g.ttl[0], 60);
}
END_TEST

START_TEST(test_parse_refuses)
{
	msg m;
	struct got g;

	memset(&g, 0, sizeof g);
	/* a query (QR clear) */
	sample(&m);
	m.b[2] &= 0x7f;
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), -1);
	/* NXDOMAIN: nothing */
	sample(&m);
	m.b[3] = (uint8_t)((m.b[3] & 0xf0) | 3);
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), 0);
	/* a pointer to itself: a loop */
	header(&m, 1, "a.example");
	u16(&m, 0xc000 | (unsigned)m.n);
	rr_hdr(&m, 1, 60, 4);
	put(&m, "\1\2\3\4", 4);
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), -1);
	/* a forward pointer */
	header(&m, 1, "a.example");
	u16(&m, 0xc000 | (unsigned)(m.n + 4));
	rr_hdr(&m, 1, 60, 4);
	put(&m, "\1\2\3\4", 4);
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), -1);
	/* two names pointing at each other (each backwards from where the other is read) */
	m.n = 0;
	u16(&m, 1); u16(&m, 0x8180); u16(&m, 1); u16(&m, 0); u16(&m, 0); u16(&m, 0);
	u16(&m, 0xc00e); /* offset 12 -> 14 */
	u16(&m, 0xc00c); /* offset 14 -> 12 */
	u16(&m, 1); u16(&m, 1);
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), -1);
	/* a wrong-size A record is skipped, not read */
	header(&m, 1, "b.example");
	put(&m, "\xc0\x0c", 2);
	rr_hdr(&m, 1, 60, 3);
	put(&m, "\1\2\3", 3);
	ck_assert_int_eq(mt_dnscache_parse(m.b, m.n, on_ans, &g), 0);
	ck_assert_int_eq(g.n, 0);
}
END_TEST

START_TEST(test_parse_truncated_every_length)
{
	msg m;
	struct got g;

	sample(&m);
	for (size_t l = 0; l < m.n; l++) {
		uint8_t *cp = malloc(l ? l : 1);
		int r;
		memcpy(cp, m.b, l);
		memset(&g, 0, sizeof g);
		r = mt_dnscache_parse(cp, l, on_ans, &g);
		ck_assert_int_lt(r, 2); /* never both answers from a cut message */
		ck_assert_int_le(g.n, 1);
		free(cp);
	}
}
END_TEST

START_TEST(test_cache_ttl)
{
	mt_dnscache *c = mt_dnscache_new(64);
	static const uint8_t a4[4] = {203, 0, 113, 7}, other[4] = {203, 0, 113, 8};
	uint64_t t0 = 1000000000ull * 1000000ull;
	msg m;

	ck_assert_ptr_nonnull(c);
	sample(&m);
	ck_assert_int_eq(mt_dnscache_feed(c, m.b, m.n, t0), 2);
	ck_assert_str_eq(mt_dnscache_lookup(c, 4, a4, t0 + 1000000), "pool.example.com");
	ck_assert_ptr_null(mt_dnscache_lookup(c, 4, other, t0 + 1000000));
	/* TTL 60 s plus the grace: alive just before, gone after */
	ck_assert_ptr_nonnull(mt_dnscache_lookup(c, 4, a4, t0 + (60 + MT_DNSCACHE_GRACE_S) * 1000000ull));
	ck_assert_ptr_null(mt_dnscache_lookup(c, 4, a4, t0 + (60 + MT_DNSCACHE_GRACE_S) * 1000000ull + 1));
	ck_assert_uint_eq(mt_dnscache_stats_get(c)->expired, 1);
	ck_assert_uint_eq(mt_dnscache_stats_get(c)->inserted, 2);
	/* the same answer again refreshes */
	ck_assert_int_eq(mt_dnscache_feed(c, m.b, m.n, t0 + 100000000ull), 2);
	ck_assert_uint_eq(mt_dnscache_stats_get(c)->refreshed, 2);
	ck_assert_ptr_nonnull(mt_dnscache_lookup(c, 4, a4, t0 + 150000000ull));
	mt_dnscache_free(c);
	mt_dnscache_free(NULL);
}
END_TEST

START_TEST(test_cache_bounded)
{
	mt_dnscache *c = mt_dnscache_new(16);
	uint64_t t0 = 1000000000ull * 1000000ull;
	uint8_t addr[4] = {10, 0, 0, 0};
	unsigned found = 0;
	msg m;

	ck_assert_ptr_nonnull(c);
	for (unsigned i = 0; i < 1000; i++) {
		char q[64];
		snprintf(q, sizeof q, "h%u.example", i);
		header(&m, 1, q);
		put(&m, "\xc0\x0c", 2);
		rr_hdr(&m, 1, 3600, 4);
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		put(&m, addr, 4);
		ck_assert_int_eq(mt_dnscache_feed(c, m.b, m.n, t0 + i), 1);
	}
	ck_assert_uint_eq(mt_dnscache_stats_get(c)->inserted, 1000);
	ck_assert_uint_ge(mt_dnscache_stats_get(c)->evicted, 1000 - 16);
	for (unsigned i = 0; i < 1000; i++) {
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		if (mt_dnscache_lookup(c, 4, addr, t0 + 2000))
			found++;
	}
	ck_assert_uint_le(found, 16);
	ck_assert_uint_ge(found, 1);
	/* the newest address is always there */
	addr[2] = 999 >> 8;
	addr[3] = 999 & 0xff;
	ck_assert_str_eq(mt_dnscache_lookup(c, 4, addr, t0 + 2000), "h999.example");
	mt_dnscache_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("flow_dnscache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_cname_chain);
	tcase_add_test(tc, test_parse_refuses);
	tcase_add_test(tc, test_parse_truncated_every_length);
	tcase_add_test(tc, test_cache_ttl);
	tcase_add_test(tc, test_cache_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
