/* test_decode_decode.c - the frame decoder on hand-built frames of every link type and encapsulation, truncated and fuzzed. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

#define TS 1700000000123456ull
#define SPORT 40000
#define DPORT 3333
#define SEQ 0x11223344u
#define ACK 0x55667788u
#define WIN 0xfaf0
#define MAXTAG 12
#define MAXEXT 12

/* Check's ck_assert records a mark point (a write) on every pass: too slow for the fuzz loops. */
#define REQUIRE(c)                                              \
	do {                                                    \
		if (!(c))                                       \
			ck_abort_msg("assertion failed: %s", #c); \
	} while (0)
#define REQUIRE_CMP(a, op, b)                                                          \
	do {                                                                           \
		unsigned long long a_ = (a), b_ = (b);                                 \
		if (!(a_ op b_))                                                       \
			ck_abort_msg("%s %s %s failed: %llu vs %llu", #a, #op, #b, a_, b_); \
	} while (0)
#define REQUIRE_LE(a, b) REQUIRE_CMP(a, <=, b)
#define REQUIRE_GE(a, b) REQUIRE_CMP(a, >=, b)
#define REQUIRE_EQ(a, b) REQUIRE_CMP(a, ==, b)

static const uint8_t src4[4] = { 192, 0, 2, 1 };
static const uint8_t dst4[4] = { 198, 51, 100, 7 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 7 };

/* ---- frame builder ---------------------------------------------------- */

typedef struct fb {
	uint8_t b[4096];
	size_t n;
} fb;

static void put8(fb *f, unsigned v)
{
	ck_assert_uint_lt(f->n, sizeof f->b);
	f->b[f->n++] = (uint8_t)v;
}

static void put16(fb *f, unsigned v)
{
	put8(f, (v >> 8) & 0xff);
	put8(f, v & 0xff);
}

static void put32(fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void putn(fb *f, const void *p, size_t n)
{
	ck_assert_uint_le(n, sizeof f->b - f->n);
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void putfill(fb *f, unsigned byte, size_t n)
{
	while (n--)
		put8(f, byte);
}

static void set16(fb *f, size_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static unsigned get16(const fb *f, size_t at)
{
	return ((unsigned)f->b[at] << 8) | f->b[at + 1];
}

/* What to build. Encapsulation order: link, VLAN tags, then MPLS or PPPoE, then IP. */
typedef struct spec {
	int link;
	uint32_t af;      /* NULL / LOOP address family */
	int null_be;      /* NULL: written by a big-endian host */
	int ntag;
	uint16_t tpid[MAXTAG];
	uint16_t vid[MAXTAG];
	int nmpls;
	uint16_t mpls_et; /* 0 means 0x8847 */
	int pppoe;
	int ipver;
	size_t ipopt;     /* IPv4 option bytes, multiple of 4 */
	uint16_t frag4;   /* IPv4 flags/offset field; 0 means DF */
	int next;
	uint8_t ext[MAXEXT];
	uint8_t extlen[MAXEXT];
	uint16_t fragfield; /* IPv6 fragment header offset/M field */
	int l4;           /* 6, 17 or anything else */
	size_t tcpopt;    /* multiple of 4 */
	uint8_t flags;
	size_t paylen;
	size_t pad;       /* bytes after the IP packet (Ethernet padding, FCS) */
} spec;

typedef struct layout {
	size_t len;
	size_t l3_off, ip_len;
	size_t l4_off, l4_hdr; /* l4_hdr: fixed transport header length */
	size_t pay_off, pay_len;
	size_t pppoe_len_at, ip_len_at, udp_len_at;
} layout;

static spec base(int link, int ipver, int l4)
{
	spec s;

	memset(&s, 0, sizeof s);
	s.link = link;
	s.ipver = ipver;
	s.l4 = l4;
	s.af = ipver == 4 ? 2 : 30;
	s.flags = 0x18;
	s.paylen = 37;
	return s;
}

static unsigned ip_et(const spec *s)
{
	return s->ipver == 4 ? 0x0800 : 0x86dd;
}

static unsigned after_tags(const spec *s)
{
	if (s->nmpls)
		return s->mpls_et ? s->mpls_et : 0x8847;
	if (s->pppoe)
		return 0x8864;
	return ip_et(s);
}

static void build(const spec *s, fb *f, layout *lo)
{
	static const uint8_t mac1[6] = { 0, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t mac2[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
	unsigned first = s->ntag ? s->tpid[0] : after_tags(s);
	size_t ip_at, l4_at, i;

	memset(lo, 0, sizeof *lo);
	f->n = 0;
	switch (s->link) {
	case MT_LINK_ETHERNET:
		putn(f, mac1, 6);
		putn(f, mac2, 6);
		put16(f, first);
		break;
	case MT_LINK_LINUX_SLL:
		put16(f, 0);
		put16(f, 1);
		put16(f, 6);
		putn(f, mac2, 6);
		put16(f, 0);
		put16(f, first);
		break;
	case MT_LINK_LINUX_SLL2:
		put16(f, first);
		put16(f, 0);
		put32(f, 3);
		put16(f, 1);
		put8(f, 0);
		put8(f, 6);
		putn(f, mac2, 6);
		put16(f, 0);
		break;
	case MT_LINK_NULL:
		if (s->null_be)
			put32(f, s->af);
		else
			for (i = 0; i < 4; i++)
				put8(f, (s->af >> (8 * i)) & 0xff);
		break;
	case MT_LINK_LOOP:
		put32(f, s->af);
		break;
	default:
		break;
	}
	for (int t = 0; t < s->ntag; t++) {
		/* PCP 5 and DEI set: the VID must be masked out of them */
		put16(f, (5u << 13) | (1u << 12) | s->vid[t]);
		put16(f, t + 1 < s->ntag ? s->tpid[t + 1] : after_tags(s));
	}
	for (int m = 0; m < s->nmpls; m++) {
		uint32_t bos = m + 1 == s->nmpls;

		put32(f, ((uint32_t)(1000 + m) << 12) | (3u << 9) | (bos << 8) | 64);
	}
	if (s->pppoe) {
		put8(f, 0x11);
		put8(f, 0);
		put16(f, 0xbeef);
		lo->pppoe_len_at = f->n;
		put16(f, 0);
		put16(f, s->ipver == 4 ? 0x0021 : 0x0057);
	}
	ip_at = f->n;
	if (s->ipver == 4) {
		put8(f, 0x40 | (unsigned)(5 + s->ipopt / 4));
		put8(f, 0);
		lo->ip_len_at = f->n;
		put16(f, 0);
		put16(f, 0x1234);
		put16(f, s->frag4 ? s->frag4 : 0x4000);
		put8(f, 64);
		put8(f, (unsigned)s->l4);
		put16(f, 0);
		putn(f, src4, 4);
		putn(f, dst4, 4);
		putfill(f, 1, s->ipopt); /* NOPs */
	} else {
		put32(f, 0x60012345);
		lo->ip_len_at = f->n;
		put16(f, 0);
		put8(f, s->next ? s->ext[0] : (unsigned)s->l4);
		put8(f, 64);
		putn(f, src6, 16);
		putn(f, dst6, 16);
		for (int e = 0; e < s->next; e++) {
			unsigned nx = e + 1 < s->next ? s->ext[e + 1] : (unsigned)s->l4;

			put8(f, nx);
			if (s->ext[e] == 44) {
				put8(f, 0);
				put16(f, s->fragfield);
				put32(f, 0xcafef00d);
			} else if (s->ext[e] == 51) {
				put8(f, s->extlen[e]);
				putfill(f, 0x5a, (s->extlen[e] + 2u) * 4 - 2);
			} else {
				put8(f, s->extlen[e]);
				putfill(f, 0, (s->extlen[e] + 1u) * 8 - 2);
			}
		}
	}
	l4_at = f->n;
	if (s->l4 == 6) {
		put16(f, SPORT);
		put16(f, DPORT);
		put32(f, SEQ);
		put32(f, ACK);
		put8(f, (unsigned)((20 + s->tcpopt) / 4) << 4);
		put8(f, s->flags);
		put16(f, WIN);
		put16(f, 0);
		put16(f, 0);
		putfill(f, 1, s->tcpopt);
		lo->l4_hdr = 20;
	} else if (s->l4 == 17) {
		put16(f, SPORT);
		put16(f, DPORT);
		lo->udp_len_at = f->n;
		put16(f, 0);
		put16(f, 0);
		lo->l4_hdr = 8;
	}
	lo->pay_off = f->n;
	for (i = 0; i < s->paylen; i++)
		put8(f, (unsigned)(i * 7 + 3));
	lo->pay_len = s->paylen;
	if (s->ipver == 4)
		set16(f, lo->ip_len_at, (unsigned)(f->n - ip_at));
	else
		set16(f, lo->ip_len_at, (unsigned)(f->n - ip_at - 40));
	if (s->l4 == 17)
		set16(f, lo->udp_len_at, (unsigned)(f->n - l4_at));
	if (s->pppoe)
		set16(f, lo->pppoe_len_at, (unsigned)(f->n - lo->pppoe_len_at - 2));
	lo->l3_off = ip_at;
	lo->ip_len = f->n - ip_at;
	lo->l4_off = l4_at;
	putfill(f, 0, s->pad);
	lo->len = f->n;
}

/* ---- decoding helpers ------------------------------------------------- */

static int dec(int link, const uint8_t *buf, size_t cap, size_t wire, mt_pkt *p,
	       mt_decode_stats *st)
{
	return mt_decode_frame(link, buf, (uint32_t)cap, (uint32_t)wire, TS, p, st);
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Every field of a decoded packet against what build() laid out. */
static void check_pkt(const spec *s, const layout *lo, const uint8_t *buf, size_t cap,
		      size_t wire, const mt_pkt *p)
{
	static const uint8_t zero[12];

	ck_assert_uint_eq(p->ts_us, TS);
	ck_assert_uint_eq(p->wire_len, wire);
	ck_assert_uint_eq(p->cap_len, cap);
	ck_assert_uint_eq(p->ipver, s->ipver);
	ck_assert_uint_eq(p->l4proto, s->l4);
	ck_assert_uint_eq(p->nvlan, s->ntag);
	for (int i = 0; i < MT_DECODE_MAX_VLAN; i++)
		ck_assert_uint_eq(p->vlan[i], i < s->ntag ? s->vid[i] : 0);
	if (s->ipver == 4) {
		ck_assert_mem_eq(p->src, src4, 4);
		ck_assert_mem_eq(p->dst, dst4, 4);
		ck_assert_mem_eq(p->src + 4, zero, 12);
		ck_assert_mem_eq(p->dst + 4, zero, 12);
	} else {
		ck_assert_mem_eq(p->src, src6, 16);
		ck_assert_mem_eq(p->dst, dst6, 16);
	}
	ck_assert_uint_eq(p->sport, SPORT);
	ck_assert_uint_eq(p->dport, DPORT);
	if (s->l4 == 6) {
		ck_assert_uint_eq(p->tcp_flags, s->flags);
		ck_assert_uint_eq(p->seq, SEQ);
		ck_assert_uint_eq(p->ack, ACK);
		ck_assert_uint_eq(p->win, WIN);
	} else {
		ck_assert_uint_eq(p->tcp_flags, 0);
		ck_assert_uint_eq(p->seq, 0);
		ck_assert_uint_eq(p->ack, 0);
		ck_assert_uint_eq(p->win, 0);
	}
	ck_assert_ptr_eq(p->l3, buf + lo->l3_off);
	ck_assert_uint_eq(p->l3_len, min_sz(lo->ip_len, cap - lo->l3_off));
	if (cap >= lo->pay_off) {
		ck_assert_ptr_eq(p->payload, buf + lo->pay_off);
		ck_assert_uint_eq(p->payload_len, min_sz(lo->pay_len, cap - lo->pay_off));
	} else {
		/* options cut by the snap length: an empty payload at the end of the capture */
		ck_assert_ptr_eq(p->payload, buf + cap);
		ck_assert_uint_eq(p->payload_len, 0);
	}
	ck_assert_uint_eq(p->truncated, cap < lo->pay_off + lo->pay_len);
	if (p->payload_len)
		ck_assert_uint_eq(p->payload[0], 3);
}

static void check_stats_sum(const mt_decode_stats *st)
{
	uint64_t e = 0, o = 0;

	for (int i = 0; i < MT_DEC__COUNT; i++)
		e += st->reason[i];
	for (int i = 0; i < MT_OTHER__COUNT; i++)
		o += st->other[i];
	ck_assert_uint_eq(st->errors, e);
	ck_assert_uint_eq(st->frames, st->decoded + st->errors + o);
}

/* Builds, decodes whole, checks every field and the counters. */
static void roundtrip(const spec *s)
{
	fb f;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	build(s, &f, &lo);
	memset(&p, 0xa5, sizeof p); /* any field left unwritten shows */
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(dec(s->link, f.b, f.n, f.n, &p, &st), MT_DECODE_L4);
	check_pkt(s, &lo, f.b, f.n, f.n, &p);
	ck_assert_uint_eq(st.frames, 1);
	ck_assert_uint_eq(st.decoded, 1);
	ck_assert_uint_eq(st.errors, 0);
	check_stats_sum(&st);
}

static int hit_reason[MT_DEC__COUNT];
static int hit_other[MT_OTHER__COUNT];

/* Decodes and expects exactly one error of the given reason; *out must stay untouched. */
static void expect_err(int link, const uint8_t *buf, size_t cap, size_t wire, int reason)
{
	mt_pkt p, q;
	mt_decode_stats st;

	memset(&p, 0xa5, sizeof p);
	memset(&q, 0xa5, sizeof q);
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(dec(link, buf, cap, wire, &p, &st), MT_DECODE_ERROR);
	ck_assert_msg(st.reason[reason] == 1, "expected reason %s", mt_decode_reason_name(reason));
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.frames, 1);
	ck_assert_uint_eq(st.decoded, 0);
	check_stats_sum(&st);
	ck_assert_mem_eq(&p, &q, sizeof p);
	hit_reason[reason]++;
}

static void expect_other(int link, const uint8_t *buf, size_t cap, size_t wire, int other)
{
	mt_pkt p, q;
	mt_decode_stats st;

	memset(&p, 0x5a, sizeof p);
	memset(&q, 0x5a, sizeof q);
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(dec(link, buf, cap, wire, &p, &st), MT_DECODE_OTHER);
	ck_assert_msg(st.other[other] == 1, "expected other %s", mt_decode_other_name(other));
	ck_assert_uint_eq(st.errors, 0);
	ck_assert_uint_eq(st.frames, 1);
	ck_assert_uint_eq(st.decoded, 0);
	check_stats_sum(&st);
	ck_assert_mem_eq(&p, &q, sizeof p);
	hit_other[other]++;
}

static void spec_err(const spec *s, int reason)
{
	fb f;
	layout lo;

	build(s, &f, &lo);
	expect_err(s->link, f.b, f.n, f.n, reason);
}

static void spec_other(const spec *s, int other)
{
	fb f;
	layout lo;

	build(s, &f, &lo);
	expect_other(s->link, f.b, f.n, f.n, other);
}

static void add_tag(spec *s, unsigned tpid, unsigned vid)
{
	ck_assert_int_lt(s->ntag, MAXTAG);
	s->tpid[s->ntag] = (uint16_t)tpid;
	s->vid[s->ntag] = (uint16_t)vid;
	s->ntag++;
}

static void add_ext(spec *s, unsigned type, unsigned len)
{
	ck_assert_int_lt(s->next, MAXEXT);
	s->ext[s->next] = (uint8_t)type;
	s->extlen[s->next] = (uint8_t)len;
	s->next++;
}

/* A set of valid frames of one link type, for the truncation and mutation loops. */
static int variants(int link, spec *out)
{
	int n = 0;
	spec s;

	if (link == MT_LINK_ETHERNET || link == MT_LINK_LINUX_SLL || link == MT_LINK_LINUX_SLL2) {
		s = base(link, 4, 6);
		s.ipopt = 8;
		s.tcpopt = 12;
		out[n++] = s;
		out[n++] = base(link, 6, 17);
		s = base(link, 4, 17);
		add_tag(&s, 0x8100, 42);
		out[n++] = s;
		s = base(link, 6, 6);
		add_tag(&s, 0x88a8, 100);
		add_tag(&s, 0x8100, 200);
		out[n++] = s;
		s = base(link, 4, 6);
		add_tag(&s, 0x9100, 1);
		add_tag(&s, 0x8100, 2);
		add_tag(&s, 0x8100, 4095);
		out[n++] = s;
		s = base(link, 4, 6);
		s.nmpls = 2;
		out[n++] = s;
		s = base(link, 6, 17);
		s.nmpls = 1;
		s.mpls_et = 0x8848;
		out[n++] = s;
		s = base(link, 4, 6);
		s.pppoe = 1;
		out[n++] = s;
		s = base(link, 6, 17);
		add_tag(&s, 0x8100, 7);
		s.pppoe = 1;
		s.pad = 9;
		out[n++] = s;
		s = base(link, 4, 6);
		s.paylen = 0;
		s.pad = 6;
		out[n++] = s;
		s = base(link, 4, 17);
		s.paylen = 1;
		s.pad = 17;
		out[n++] = s;
	}
	if (link != MT_LINK_IPV6) {
		s = base(link, 4, 6);
		s.tcpopt = 20;
		out[n++] = s;
		s = base(link, 4, 17);
		out[n++] = s;
	}
	if (link != MT_LINK_IPV4) {
		s = base(link, 6, 17);
		s.af = 24;
		out[n++] = s;
		s = base(link, 6, 6);
		s.tcpopt = 4;
		add_ext(&s, 0, 0);
		add_ext(&s, 60, 1);
		add_ext(&s, 43, 2);
		add_ext(&s, 135, 0);
		add_ext(&s, 139, 1);
		add_ext(&s, 140, 0);
		add_ext(&s, 44, 0); /* atomic fragment */
		add_ext(&s, 51, 4);
		out[n++] = s;
	}
	return n;
}

static const int all_links[] = {
	MT_LINK_NULL, MT_LINK_ETHERNET, MT_LINK_RAW, MT_LINK_LOOP,
	MT_LINK_LINUX_SLL, MT_LINK_IPV4, MT_LINK_IPV6, MT_LINK_LINUX_SLL2,
};
#define NLINKS (sizeof all_links / sizeof all_links[0])

/* ---- field checks for each link type and encapsulation ---------------- */

START_TEST(test_ethernet_ipv4_tcp)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);
	fb f;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	s.tcpopt = 12;
	s.flags = 0x12;
	roundtrip(&s);
	/* the literal offsets, not only build()'s own bookkeeping */
	build(&s, &f, &lo);
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_ptr_eq(p.l3, f.b + 14);
	ck_assert_uint_eq(p.l3_len, 20 + 32 + 37);
	ck_assert_ptr_eq(p.payload, f.b + 14 + 20 + 32);
	ck_assert_uint_eq(p.payload_len, 37);
	ck_assert_uint_eq(p.tcp_flags, 0x12);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.dport, 3333);
	ck_assert_uint_eq(p.seq, 0x11223344u);
	ck_assert_uint_eq(p.truncated, 0);
	ck_assert_uint_eq(p.nvlan, 0);
}
END_TEST

START_TEST(test_ethernet_ipv4_options_udp)
{
	spec s = base(MT_LINK_ETHERNET, 4, 17);

	s.ipopt = 40; /* IHL 15 */
	roundtrip(&s);
	s.paylen = 0;
	roundtrip(&s);
}
END_TEST

START_TEST(test_ethernet_ipv6)
{
	spec s = base(MT_LINK_ETHERNET, 6, 6);

	roundtrip(&s);
	s.l4 = 17;
	roundtrip(&s);
	s.paylen = 1400;
	roundtrip(&s);
}
END_TEST

START_TEST(test_vlan_qinq)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);

	add_tag(&s, 0x8100, 42);
	roundtrip(&s);

	s = base(MT_LINK_ETHERNET, 6, 17);
	add_tag(&s, 0x88a8, 100);
	add_tag(&s, 0x8100, 200);
	roundtrip(&s);

	s = base(MT_LINK_ETHERNET, 4, 17);
	add_tag(&s, 0x9100, 4095);
	add_tag(&s, 0x8100, 0);
	roundtrip(&s);

	/* deeper than recorded: counted, outer two kept */
	s = base(MT_LINK_ETHERNET, 4, 6);
	add_tag(&s, 0x88a8, 10);
	add_tag(&s, 0x8100, 20);
	add_tag(&s, 0x8100, 30);
	roundtrip(&s);
}
END_TEST

START_TEST(test_mpls)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);

	s.nmpls = 1;
	roundtrip(&s);
	s.nmpls = 3;
	s.ipver = 6;
	roundtrip(&s);
	s.mpls_et = 0x8848;
	s.l4 = 17;
	roundtrip(&s);
	/* VLAN then MPLS */
	s = base(MT_LINK_ETHERNET, 4, 17);
	add_tag(&s, 0x8100, 5);
	s.nmpls = 2;
	roundtrip(&s);
}
END_TEST

START_TEST(test_pppoe)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);

	s.pppoe = 1;
	roundtrip(&s);
	s.ipver = 6;
	s.l4 = 17;
	roundtrip(&s);
	add_tag(&s, 0x8100, 300);
	s.pad = 20; /* trailing bytes outside the PPPoE length */
	roundtrip(&s);
}
END_TEST

START_TEST(test_sll_sll2)
{
	static const int links[] = { MT_LINK_LINUX_SLL, MT_LINK_LINUX_SLL2 };

	for (int i = 0; i < 2; i++) {
		spec s = base(links[i], 4, 6);
		fb f;
		layout lo;

		roundtrip(&s);
		build(&s, &f, &lo);
		ck_assert_uint_eq(lo.l3_off, links[i] == MT_LINK_LINUX_SLL ? 16 : 20);
		s.ipver = 6;
		s.l4 = 17;
		roundtrip(&s);
		add_tag(&s, 0x8100, 9);
		roundtrip(&s);
		s.pppoe = 1;
		roundtrip(&s);
	}
}
END_TEST

START_TEST(test_null_loop)
{
	static const uint32_t afs6[] = { 10, 24, 28, 30 };

	for (int be = 0; be < 2; be++) {
		spec s = base(MT_LINK_NULL, 4, 6);

		s.null_be = be;
		roundtrip(&s);
		for (size_t i = 0; i < 4; i++) {
			s = base(MT_LINK_NULL, 6, 17);
			s.null_be = be;
			s.af = afs6[i];
			roundtrip(&s);
		}
	}
	{
		spec s = base(MT_LINK_LOOP, 4, 17);

		roundtrip(&s);
		s = base(MT_LINK_LOOP, 6, 6);
		s.af = 24;
		roundtrip(&s);
	}
}
END_TEST

START_TEST(test_raw)
{
	spec s = base(MT_LINK_RAW, 4, 6);

	roundtrip(&s);
	s = base(MT_LINK_RAW, 6, 17);
	roundtrip(&s);
	s = base(MT_LINK_IPV4, 4, 17);
	roundtrip(&s);
	s = base(MT_LINK_IPV6, 6, 6);
	roundtrip(&s);
}
END_TEST

START_TEST(test_ipv6_exthdrs)
{
	spec s = base(MT_LINK_ETHERNET, 6, 6);
	fb f;
	layout lo;

	add_ext(&s, 0, 0);
	add_ext(&s, 43, 1);
	add_ext(&s, 60, 0);
	roundtrip(&s);
	build(&s, &f, &lo);
	ck_assert_uint_eq(lo.l4_off, 14 + 40 + 8 + 16 + 8);

	/* AH: (len + 2) * 4 bytes, so len 4 is 24 bytes, not 40 */
	s = base(MT_LINK_ETHERNET, 6, 17);
	add_ext(&s, 51, 4);
	roundtrip(&s);
	build(&s, &f, &lo);
	ck_assert_uint_eq(lo.l4_off, 14 + 40 + 24);

	/* atomic fragment (offset 0, M 0) is decoded through */
	s = base(MT_LINK_ETHERNET, 6, 6);
	add_ext(&s, 44, 0);
	roundtrip(&s);

	/* mobility, HIP, shim6 walked */
	s = base(MT_LINK_RAW, 6, 17);
	add_ext(&s, 135, 1);
	add_ext(&s, 139, 0);
	add_ext(&s, 140, 2);
	roundtrip(&s);

	/* exactly MT_DECODE_MAX_EXTHDR headers is fine */
	s = base(MT_LINK_ETHERNET, 6, 6);
	for (int i = 0; i < MT_DECODE_MAX_EXTHDR; i++)
		add_ext(&s, 60, 0);
	roundtrip(&s);
}
END_TEST

START_TEST(test_max_encap)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);

	for (int i = 0; i < MT_DECODE_MAX_ENCAP; i++)
		add_tag(&s, 0x8100, (unsigned)(i + 1));
	roundtrip(&s);

	s = base(MT_LINK_ETHERNET, 6, 17);
	s.nmpls = MT_DECODE_MAX_ENCAP;
	roundtrip(&s);

	s = base(MT_LINK_ETHERNET, 4, 17);
	for (int i = 0; i < MT_DECODE_MAX_ENCAP - 1; i++)
		add_tag(&s, 0x88a8, 7);
	s.pppoe = 1;
	roundtrip(&s);
}
END_TEST

START_TEST(test_ethernet_padding)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);
	fb f;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	/* bare ACK: 54 bytes padded to the 60-byte minimum, plus an FCS-like tail */
	s.paylen = 0;
	s.pad = 6;
	roundtrip(&s);
	build(&s, &f, &lo);
	ck_assert_uint_eq(f.n, 60);
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_uint_eq(p.l3_len, 40);
	ck_assert_uint_eq(p.truncated, 0);

	/* padding with non-zero bytes after a UDP datagram */
	s = base(MT_LINK_ETHERNET, 4, 17);
	s.paylen = 4;
	build(&s, &f, &lo);
	putfill(&f, 0xee, 14);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_uint_eq(p.l3_len, 32);

	/* UDP length shorter than the IP payload bounds the payload */
	s = base(MT_LINK_ETHERNET, 6, 17);
	s.paylen = 10;
	build(&s, &f, &lo);
	set16(&f, lo.udp_len_at, 8 + 6);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.payload_len, 6);
	ck_assert_uint_eq(p.l3_len, 40 + 18);

	/* the FCS cut from the capture does not make the packet truncated */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.paylen = 100;
	build(&s, &f, &lo);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n + 4, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.truncated, 0);
	ck_assert_uint_eq(p.payload_len, 100);
}
END_TEST

START_TEST(test_snaplen)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);
	fb f;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	memset(&st, 0, sizeof st);
	s.paylen = 1400;
	build(&s, &f, &lo);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, 96, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.truncated, 1);
	ck_assert_uint_eq(p.payload_len, 96 - 54);
	ck_assert_uint_eq(p.l3_len, 96 - 14);
	check_pkt(&s, &lo, f.b, 96, f.n, &p);

	/* the same cut with cap == wire is a lie about the length */
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, 96, 96, &p, &st), MT_DECODE_ERROR);
	ck_assert_uint_eq(st.reason[MT_DEC_IPV4_LEN_EXCEEDS], 1);

	/* IPv6 UDP under PPPoE and VLAN */
	s = base(MT_LINK_ETHERNET, 6, 17);
	add_tag(&s, 0x8100, 3);
	s.pppoe = 1;
	s.paylen = 900;
	build(&s, &f, &lo);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, 128, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.truncated, 1);
	check_pkt(&s, &lo, f.b, 128, f.n, &p);

	/* TCP options cut by a 64-byte snap length: a SYN still counts */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.tcpopt = 20;
	s.paylen = 0;
	s.flags = 0x02;
	build(&s, &f, &lo);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, 64, f.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.truncated, 1);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_ptr_eq(p.payload, f.b + 64);
	ck_assert_uint_eq(p.tcp_flags, 0x02);
	check_pkt(&s, &lo, f.b, 64, f.n, &p);
}
END_TEST

START_TEST(test_odd_wire_len)
{
	spec s = base(MT_LINK_ETHERNET, 4, 17);
	fb f;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	/* wire_len below cap_len (a broken writer): taken as not truncated */
	memset(&st, 0, sizeof st);
	build(&s, &f, &lo);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, 10, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.truncated, 0);
	ck_assert_uint_eq(p.wire_len, 10);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n - 1, 10, &p, &st), MT_DECODE_ERROR);
	ck_assert_uint_eq(st.reason[MT_DEC_IPV4_LEN_EXCEEDS], 1);

	/* NULL frame pointer with no bytes */
	ck_assert_int_eq(mt_decode_frame(MT_LINK_ETHERNET, NULL, 0, 0, TS, &p, &st),
			 MT_DECODE_ERROR);
	ck_assert_uint_eq(st.reason[MT_DEC_LINK_TRUNC], 1);
	ck_assert_int_eq(mt_decode_frame(MT_LINK_IPV4, NULL, 0, 100, TS, &p, &st),
			 MT_DECODE_ERROR);
	ck_assert_uint_eq(st.reason[MT_DEC_IPV4_TRUNC], 1);
	check_stats_sum(&st);
}
END_TEST

/* ---- every error reason ----------------------------------------------- */

/* ---- tunnels ------------------------------------------------------------ */

/* Outer Ethernet + IPv4 or IPv6 header with protocol proto, then n bytes of pay. */
static void outer_ip(fb *o, int ipver, unsigned proto, const uint8_t *pay, size_t n)
{
	static const uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 }, m2[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t o4a[4] = { 10, 9, 8, 7 }, o4b[4] = { 10, 9, 8, 6 };

	o->n = 0;
	putn(o, m1, 6);
	putn(o, m2, 6);
	put16(o, ipver == 4 ? 0x0800 : 0x86dd);
	if (ipver == 4) {
		put8(o, 0x45);
		put8(o, 0);
		put16(o, (unsigned)(20 + n));
		put32(o, 0x12344000);
		put8(o, 64);
		put8(o, proto);
		put16(o, 0);
		putn(o, o4a, 4);
		putn(o, o4b, 4);
	} else {
		put32(o, 0x60000000);
		put16(o, (unsigned)n);
		put8(o, proto);
		put8(o, 64);
		putn(o, dst6, 16);
		putn(o, src6, 16);
	}
	putn(o, pay, n);
}

/* Outer Ethernet/IPv4/UDP to dport carrying n bytes of pay. */
static void outer_udp(fb *o, unsigned dport, const uint8_t *pay, size_t n)
{
	fb u = { .n = 0 };

	put16(&u, 50000);
	put16(&u, dport);
	put16(&u, (unsigned)(8 + n));
	put16(&u, 0);
	putn(&u, pay, n);
	outer_ip(o, 4, 17, u.b, u.n);
}

/* The inner packet: raw IPv4 (or IPv6) + TCP, or the same behind an Ethernet header. */
static void inner(fb *f, int ether, int ipver, layout *lo)
{
	spec s = base(ether ? MT_LINK_ETHERNET : MT_LINK_RAW, ipver, 6);

	build(&s, f, lo);
}

/* The tunnelled frame decodes to the inner packet, and counts the tunnel kinds in mask. */
static void expect_inner(const fb *o, const fb *in, int in_link, unsigned mask)
{
	mt_pkt p, q;
	mt_decode_stats st, st2;

	memset(&st, 0, sizeof st);
	memset(&st2, 0, sizeof st2);
	ck_assert_int_eq(dec(in_link, in->b, in->n, in->n, &q, &st2), MT_DECODE_L4);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, o->b, o->n, o->n, &p, &st), MT_DECODE_L4);
	ck_assert_mem_eq(p.src, q.src, 16);
	ck_assert_mem_eq(p.dst, q.dst, 16);
	ck_assert_uint_eq(p.ipver, q.ipver);
	ck_assert_uint_eq(p.sport, q.sport);
	ck_assert_uint_eq(p.dport, q.dport);
	ck_assert_uint_eq(p.seq, q.seq);
	ck_assert_uint_eq(p.tcp_flags, q.tcp_flags);
	ck_assert_uint_eq(p.payload_len, q.payload_len);
	ck_assert_mem_eq(p.payload, q.payload, q.payload_len);
	ck_assert_uint_eq(p.l3_len, q.l3_len);
	ck_assert_mem_eq(p.l3, q.l3, q.l3_len);
	ck_assert_uint_eq(p.truncated, 0);
	for (int k = 0; k < MT_TUN__COUNT; k++)
		ck_assert_msg(st.tunnel[k] == ((mask >> k) & 1), "tunnel %s counted %llu", mt_decode_tunnel_name(k),
			      (unsigned long long)st.tunnel[k]);
	/* every shorter capture of it is an error or "other", never a read past the end */
	for (size_t cut = 0; cut < o->n; cut++) {
		mt_pkt r;
		int rc = dec(MT_LINK_ETHERNET, o->b, cut, o->n, &r, NULL);

		if (rc == MT_DECODE_L4)
			ck_assert_uint_le((size_t)(r.payload - o->b) + r.payload_len, cut);
	}
}

START_TEST(test_tunnel_ipip)
{
	fb in, o;
	layout lo;

	inner(&in, 0, 4, &lo);
	outer_ip(&o, 4, 4, in.b, in.n); /* 4in4 */
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_IPIP);
	outer_ip(&o, 6, 4, in.b, in.n); /* 4in6 */
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_IPIP);
	inner(&in, 0, 6, &lo);
	outer_ip(&o, 4, 41, in.b, in.n); /* 6in4 (RFC 4213) */
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_IPIP);
}
END_TEST

START_TEST(test_tunnel_gre)
{
	static const uint8_t flagsets[][2] = { { 0x00, 0 }, { 0x80, 0 }, { 0x20, 0 }, { 0x10, 0 }, { 0xb0, 0 } };
	fb in, ine, t, o;
	layout lo;

	inner(&in, 0, 4, &lo);
	inner(&ine, 1, 4, &lo);
	for (size_t i = 0; i < sizeof flagsets / sizeof flagsets[0]; i++) {
		uint8_t fl = flagsets[i][0];
		size_t opt = (fl & 0x80 ? 4u : 0) + (fl & 0x20 ? 4u : 0) + (fl & 0x10 ? 4u : 0);

		/* IPv4 in GRE (RFC 2784 with the RFC 2890 key and sequence) */
		t.n = 0;
		put8(&t, fl);
		put8(&t, 0);
		put16(&t, 0x0800);
		putfill(&t, 0xee, opt);
		putn(&t, in.b, in.n);
		outer_ip(&o, 4, 47, t.b, t.n);
		expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_GRE);
		/* Ethernet in GRE (transparent bridging), over IPv6 */
		t.n = 0;
		put8(&t, fl);
		put8(&t, 0);
		put16(&t, 0x6558);
		putfill(&t, 0xee, opt);
		putn(&t, ine.b, ine.n);
		outer_ip(&o, 6, 47, t.b, t.n);
		expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_GRE);
	}
}
END_TEST

START_TEST(test_tunnel_erspan)
{
	fb in, ine, t, o;
	layout lo;

	inner(&in, 0, 4, &lo);
	inner(&ine, 1, 4, &lo);
	/* type I: GRE without sequence number, the mirrored frame at once */
	t.n = 0;
	put16(&t, 0x0000);
	put16(&t, 0x88be);
	putn(&t, ine.b, ine.n);
	outer_ip(&o, 4, 47, t.b, t.n);
	expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_GRE | 1u << MT_TUN_ERSPAN);
	/* type II: sequence number, then the 8-byte ERSPAN header (version 1) */
	t.n = 0;
	put16(&t, 0x1000);
	put16(&t, 0x88be);
	put32(&t, 7);
	put32(&t, 0x10640123); /* ver 1, vlan 100, session 0x123 */
	put32(&t, 0x00000005);
	putn(&t, ine.b, ine.n);
	outer_ip(&o, 4, 47, t.b, t.n);
	expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_GRE | 1u << MT_TUN_ERSPAN);
	/* type III, Ethernet, with the optional 8-byte platform subheader (o = 1) */
	t.n = 0;
	put16(&t, 0x1000);
	put16(&t, 0x22eb);
	put32(&t, 8);
	put32(&t, 0x20640123); /* ver 2 */
	put32(&t, 0xdeadbeef); /* timestamp */
	put16(&t, 0);
	put16(&t, 0x0001);     /* ft 0 (Ethernet), o 1 */
	put32(&t, 0x01020304);
	put32(&t, 0x05060708);
	putn(&t, ine.b, ine.n);
	outer_ip(&o, 4, 47, t.b, t.n);
	expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_GRE | 1u << MT_TUN_ERSPAN);
	/* type III carrying an IP packet (ft 2), no subheader */
	t.n = 0;
	put16(&t, 0x1000);
	put16(&t, 0x22eb);
	put32(&t, 9);
	put32(&t, 0x20640123);
	put32(&t, 0);
	put16(&t, 0);
	put16(&t, 2u << 10);
	putn(&t, in.b, in.n);
	outer_ip(&o, 4, 47, t.b, t.n);
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_GRE | 1u << MT_TUN_ERSPAN);
}
END_TEST

START_TEST(test_tunnel_pptp)
{
	fb in, t, o;
	layout lo;

	inner(&in, 0, 4, &lo);
	for (int form = 0; form < 3; form++) {
		/* enhanced GRE: K and S set, version 1, protocol PPP; key = payload length, call id */
		t.n = 0;
		put8(&t, 0x30);
		put8(&t, form == 2 ? 0x81 : 0x01); /* form 2: with an acknowledgement number */
		put16(&t, 0x880b);
		put16(&t, (unsigned)in.n + 4);
		put16(&t, 0x4242);
		put32(&t, 1);
		if (form == 2)
			put32(&t, 0);
		if (form == 0) { /* address and control, two-byte protocol */
			put16(&t, 0xff03);
			put16(&t, 0x0021);
		} else { /* compressed: one-byte protocol */
			put8(&t, 0x21);
		}
		putn(&t, in.b, in.n);
		outer_ip(&o, 4, 47, t.b, t.n);
		expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_PPTP);
	}
}
END_TEST

START_TEST(test_tunnel_udp)
{
	fb in, ine, t, o;
	layout lo;

	inner(&in, 0, 4, &lo);
	inner(&ine, 1, 4, &lo);
	/* VXLAN: I flag, VNI 5000 */
	t.n = 0;
	put32(&t, 0x08000000);
	put32(&t, 5000u << 8);
	putn(&t, ine.b, ine.n);
	outer_udp(&o, MT_DECODE_PORT_VXLAN, t.b, t.n);
	expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_VXLAN);
	/* Geneve with 8 bytes of options, Ethernet; then IPv4 directly */
	t.n = 0;
	put8(&t, 2);
	put8(&t, 0);
	put16(&t, 0x6558);
	put32(&t, 77u << 8);
	putfill(&t, 0x33, 8);
	putn(&t, ine.b, ine.n);
	outer_udp(&o, MT_DECODE_PORT_GENEVE, t.b, t.n);
	expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_GENEVE);
	t.n = 0;
	put8(&t, 0);
	put8(&t, 0);
	put16(&t, 0x0800);
	put32(&t, 77u << 8);
	putn(&t, in.b, in.n);
	outer_udp(&o, MT_DECODE_PORT_GENEVE, t.b, t.n);
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_GENEVE);
	/* GTP-U G-PDU, plain, then with a sequence number and one extension header (PDU session container) */
	t.n = 0;
	put8(&t, 0x30);
	put8(&t, 0xff);
	put16(&t, (unsigned)in.n);
	put32(&t, 0xabcdef01);
	putn(&t, in.b, in.n);
	outer_udp(&o, MT_DECODE_PORT_GTPU, t.b, t.n);
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_GTPU);
	t.n = 0;
	put8(&t, 0x36); /* E and S */
	put8(&t, 0xff);
	put16(&t, (unsigned)in.n + 4 + 4);
	put32(&t, 0xabcdef01);
	put16(&t, 9);
	put8(&t, 0);
	put8(&t, 0x85); /* next: PDU session container */
	put8(&t, 1);    /* 4 bytes */
	put8(&t, 0x10);
	put8(&t, 0x09);
	put8(&t, 0);    /* no more */
	putn(&t, in.b, in.n);
	outer_udp(&o, MT_DECODE_PORT_GTPU, t.b, t.n);
	expect_inner(&o, &in, MT_LINK_RAW, 1u << MT_TUN_GTPU);
}
END_TEST

/* Tunnel headers that are wrong or too many: one error reason each (test_every_reason). */
static void tunnel_errors(void)
{
	fb in, ine, t, v, o;
	layout lo;

	inner(&in, 0, 4, &lo);
	inner(&ine, 1, 4, &lo);
	/* deeper than MT_DECODE_MAX_TUNNEL IP-in-IP layers */
	memcpy(&v, &in, sizeof v);
	for (int i = 0; i <= MT_DECODE_MAX_TUNNEL; i++) {
		outer_ip(&o, 4, 4, v.b, v.n);
		memmove(v.b, o.b + 14, o.n - 14);
		v.n = o.n - 14;
	}
	expect_err(MT_LINK_ETHERNET, o.b, o.n, o.n, MT_DEC_TUNNEL_TOO_DEEP);

	/* GRE: source routing, version 2, PPTP without its key; a cut GRE header */
	t.n = 0;
	put16(&t, 0x4000);
	put16(&t, 0x0800);
	putn(&t, in.b, in.n);
	outer_ip(&o, 4, 47, t.b, t.n);
	expect_err(MT_LINK_ETHERNET, o.b, o.n, o.n, MT_DEC_GRE_BAD);
	set16(&o, 14 + 20, 0x0002);
	expect_err(MT_LINK_ETHERNET, o.b, o.n, o.n, MT_DEC_GRE_BAD);
	set16(&o, 14 + 20, 0x0001);
	expect_err(MT_LINK_ETHERNET, o.b, o.n, o.n, MT_DEC_GRE_BAD);
	t.n = 0;
	put16(&t, 0xb000); /* checksum, key and sequence announced: 16 bytes, 6 there */
	put16(&t, 0x0800);
	put16(&t, 0);
	outer_ip(&o, 4, 47, t.b, t.n);
	expect_err(MT_LINK_ETHERNET, o.b, o.n, o.n, MT_DEC_TUNNEL_TRUNC);

	/* a VXLAN header whose inner Ethernet frame is cut: the inner layer's error */
	t.n = 0;
	put32(&t, 0x08000000);
	put32(&t, 0);
	putfill(&t, 0, 6);
	outer_udp(&o, MT_DECODE_PORT_VXLAN, t.b, t.n);
	expect_err(MT_LINK_ETHERNET, o.b, o.n, o.n, MT_DEC_LINK_TRUNC);
}

START_TEST(test_tunnel_nested_and_bad)
{
	fb in, ine, t, v, o;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	inner(&in, 0, 4, &lo);
	inner(&ine, 1, 4, &lo);
	/* VXLAN inside an IPv4 packet inside GRE inside 6in4... : Ethernet/IPv4/GRE/IPv4/UDP/VXLAN/Ethernet/IPv4 */
	t.n = 0;
	put32(&t, 0x08000000);
	put32(&t, 1u << 8);
	putn(&t, ine.b, ine.n);
	outer_udp(&o, MT_DECODE_PORT_VXLAN, t.b, t.n);
	v.n = 0;
	put16(&v, 0);
	put16(&v, 0x0800);
	putn(&v, o.b + 14, o.n - 14); /* its IPv4 packet */
	outer_ip(&o, 4, 47, v.b, v.n);
	expect_inner(&o, &ine, MT_LINK_ETHERNET, 1u << MT_TUN_GRE | 1u << MT_TUN_VXLAN);

	/* UDP to a tunnel port that is not that tunnel stays plain UDP: VXLAN without I, Geneve version 1,
	 * GTP-U echo request, a payload shorter than the header */
	t.n = 0;
	put32(&t, 0);
	put32(&t, 0);
	putn(&t, ine.b, ine.n);
	outer_udp(&o, MT_DECODE_PORT_VXLAN, t.b, t.n);
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, o.b, o.n, o.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.dport, MT_DECODE_PORT_VXLAN);
	ck_assert_uint_eq(p.payload_len, t.n);
	ck_assert_uint_eq(st.tunnel[MT_TUN_VXLAN], 0);
	t.b[0] = 0x40;
	outer_udp(&o, MT_DECODE_PORT_GENEVE, t.b, t.n);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, o.b, o.n, o.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.dport, MT_DECODE_PORT_GENEVE);
	t.b[0] = 0x32;
	t.b[1] = 0x01;
	outer_udp(&o, MT_DECODE_PORT_GTPU, t.b, t.n);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, o.b, o.n, o.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.dport, MT_DECODE_PORT_GTPU);
	outer_udp(&o, MT_DECODE_PORT_VXLAN, t.b, 5);
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, o.b, o.n, o.n, &p, &st), MT_DECODE_L4);
	ck_assert_uint_eq(p.payload_len, 5);
	for (int k = 0; k < MT_TUN__COUNT; k++)
		ck_assert_uint_eq(st.tunnel[k], 0);
	ck_assert_str_eq(mt_decode_tunnel_name(MT_TUN_ERSPAN), "erspan");
	ck_assert_str_eq(mt_decode_tunnel_name(MT_TUN__COUNT), "unknown");
}
END_TEST

START_TEST(test_every_reason)
{
	spec s;
	fb f;
	layout lo;
	uint8_t raw[64];

	memset(hit_reason, 0, sizeof hit_reason);

	/* link */
	s = base(MT_LINK_ETHERNET, 4, 6);
	build(&s, &f, &lo);
	expect_err(9999, f.b, f.n, f.n, MT_DEC_LINK_UNSUPPORTED);
	expect_err(105, f.b, f.n, f.n, MT_DEC_LINK_UNSUPPORTED);
	expect_err(-1, f.b, f.n, f.n, MT_DEC_LINK_UNSUPPORTED);
	expect_err(MT_LINK_ETHERNET, f.b, 13, 13, MT_DEC_LINK_TRUNC);
	expect_err(MT_LINK_LINUX_SLL, f.b, 15, 15, MT_DEC_LINK_TRUNC);
	expect_err(MT_LINK_LINUX_SLL2, f.b, 19, 100, MT_DEC_LINK_TRUNC);
	expect_err(MT_LINK_NULL, f.b, 3, 3, MT_DEC_LINK_TRUNC);
	expect_err(MT_LINK_LOOP, f.b, 0, 0, MT_DEC_LINK_TRUNC);
	expect_err(MT_LINK_RAW, f.b, 0, 40, MT_DEC_LINK_TRUNC);

	/* VLAN */
	s = base(MT_LINK_ETHERNET, 4, 6);
	add_tag(&s, 0x8100, 1);
	build(&s, &f, &lo);
	expect_err(MT_LINK_ETHERNET, f.b, 17, 17, MT_DEC_VLAN_TRUNC);
	expect_err(MT_LINK_ETHERNET, f.b, 17, 1000, MT_DEC_VLAN_TRUNC);

	/* MPLS: inside a label, after a non-bottom label, after the bottom label */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.nmpls = 2;
	build(&s, &f, &lo);
	expect_err(MT_LINK_ETHERNET, f.b, 17, 17, MT_DEC_MPLS_TRUNC);
	expect_err(MT_LINK_ETHERNET, f.b, 18, 18, MT_DEC_MPLS_TRUNC);
	expect_err(MT_LINK_ETHERNET, f.b, 22, 22, MT_DEC_MPLS_TRUNC);

	/* PPPoE */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.pppoe = 1;
	build(&s, &f, &lo);
	expect_err(MT_LINK_ETHERNET, f.b, 21, 21, MT_DEC_PPPOE_TRUNC);
	f.b[14] = 0x12; /* version/type */
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_PPPOE_BAD);
	f.b[14] = 0x11;
	f.b[15] = 0x09; /* PADI code in a session frame */
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_PPPOE_BAD);
	f.b[15] = 0;
	set16(&f, lo.pppoe_len_at, get16(&f, lo.pppoe_len_at) + 1);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_PPPOE_BAD);
	set16(&f, lo.pppoe_len_at, 1);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_PPPOE_BAD);
	/* shorter than the IP packet it carries: the IP layer sees only the PPPoE length */
	set16(&f, lo.pppoe_len_at, 2 + 30);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_LEN_EXCEEDS);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n + 500, MT_DEC_IPV4_LEN_EXCEEDS);

	/* too deep: VLAN, MPLS and a mix */
	s = base(MT_LINK_ETHERNET, 4, 6);
	for (int i = 0; i <= MT_DECODE_MAX_ENCAP; i++)
		add_tag(&s, 0x8100, 1);
	spec_err(&s, MT_DEC_ENCAP_TOO_DEEP);
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.nmpls = MT_DECODE_MAX_ENCAP + 1;
	spec_err(&s, MT_DEC_ENCAP_TOO_DEEP);
	s = base(MT_LINK_ETHERNET, 4, 6);
	for (int i = 0; i < MT_DECODE_MAX_ENCAP; i++)
		add_tag(&s, 0x8100, 1);
	s.pppoe = 1;
	spec_err(&s, MT_DEC_ENCAP_TOO_DEEP);

	/* IPv4 */
	s = base(MT_LINK_ETHERNET, 4, 6);
	build(&s, &f, &lo);
	expect_err(MT_LINK_ETHERNET, f.b, 14 + 19, 14 + 19, MT_DEC_IPV4_TRUNC);
	expect_err(MT_LINK_ETHERNET, f.b, 14 + 19, f.n, MT_DEC_IPV4_TRUNC);
	f.b[14] = 0x4f; /* IHL 15: 60 bytes, frame has fewer */
	expect_err(MT_LINK_ETHERNET, f.b, 14 + 40, 14 + 40, MT_DEC_IPV4_TRUNC);
	f.b[14] = 0x65;
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_BAD_VERSION);
	expect_err(MT_LINK_IPV4, f.b + 14, f.n - 14, f.n - 14, MT_DEC_IPV4_BAD_VERSION);
	f.b[14] = 0x44;
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_BAD_IHL);
	f.b[14] = 0x40;
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_BAD_IHL);
	f.b[14] = 0x45;
	set16(&f, lo.ip_len_at, 19);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_BAD_LEN);
	f.b[14] = 0x46;
	set16(&f, lo.ip_len_at, 23);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_BAD_LEN);
	f.b[14] = 0x45;
	set16(&f, lo.ip_len_at, (unsigned)lo.ip_len + 1);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV4_LEN_EXCEEDS);
	/* cut by the snap length, but the IP length is past even the wire length */
	set16(&f, lo.ip_len_at, 1500);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n + 10, MT_DEC_IPV4_LEN_EXCEEDS);
	memset(raw, 0, sizeof raw);
	raw[0] = 0x55;
	expect_err(MT_LINK_RAW, raw, sizeof raw, sizeof raw, MT_DEC_IPV4_BAD_VERSION);

	/* IPv6 */
	s = base(MT_LINK_ETHERNET, 6, 17);
	build(&s, &f, &lo);
	expect_err(MT_LINK_ETHERNET, f.b, 14 + 39, 14 + 39, MT_DEC_IPV6_TRUNC);
	set16(&f, lo.ip_len_at, get16(&f, lo.ip_len_at) + 1);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV6_TRUNC);
	set16(&f, lo.ip_len_at, 0);
	f.b[14 + 6] = 0; /* jumbogram: hop-by-hop with payload length 0 */
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV6_TRUNC);
	build(&s, &f, &lo);
	f.b[14] = 0x40;
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV6_BAD_VERSION);
	expect_err(MT_LINK_IPV6, f.b + 14, f.n - 14, f.n - 14, MT_DEC_IPV6_BAD_VERSION);

	s = base(MT_LINK_ETHERNET, 6, 6);
	add_ext(&s, 0, 0);
	build(&s, &f, &lo);
	f.b[14 + 40 + 1] = 200; /* hop-by-hop claims 1608 bytes */
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_IPV6_EXTHDR_TRUNC);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n + 5000, MT_DEC_IPV6_EXTHDR_TRUNC);
	/* only one byte of the extension header inside the IPv6 payload */
	s = base(MT_LINK_RAW, 6, 6);
	add_ext(&s, 60, 0);
	s.l4 = 60;
	s.paylen = 0;
	build(&s, &f, &lo);
	set16(&f, lo.ip_len_at, 1);
	expect_err(MT_LINK_RAW, f.b, 41, 41, MT_DEC_IPV6_EXTHDR_TRUNC);

	s = base(MT_LINK_ETHERNET, 6, 17);
	for (int i = 0; i <= MT_DECODE_MAX_EXTHDR; i++)
		add_ext(&s, 60, 0);
	spec_err(&s, MT_DEC_IPV6_EXTHDR_TOO_MANY);

	/* TCP */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.paylen = 0;
	build(&s, &f, &lo);
	set16(&f, lo.ip_len_at, 20 + 19);
	expect_err(MT_LINK_ETHERNET, f.b, f.n - 1, f.n - 1, MT_DEC_TCP_TRUNC);
	set16(&f, lo.ip_len_at, 20 + 20);
	expect_err(MT_LINK_ETHERNET, f.b, f.n - 1, f.n + 100, MT_DEC_TCP_TRUNC);
	f.b[lo.l4_off + 12] = 0x40; /* data offset 4 */
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_TCP_BAD_OFFSET);
	f.b[lo.l4_off + 12] = 0x00;
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_TCP_BAD_OFFSET);
	f.b[lo.l4_off + 12] = 0xf0; /* 60 bytes of header in a 20-byte segment */
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_TCP_BAD_OFFSET);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n + 100, MT_DEC_TCP_BAD_OFFSET);

	/* UDP */
	s = base(MT_LINK_ETHERNET, 6, 17);
	s.paylen = 0;
	build(&s, &f, &lo);
	set16(&f, lo.ip_len_at, 7);
	expect_err(MT_LINK_ETHERNET, f.b, f.n - 1, f.n - 1, MT_DEC_UDP_TRUNC);
	set16(&f, lo.ip_len_at, 8);
	expect_err(MT_LINK_ETHERNET, f.b, f.n - 1, f.n + 3, MT_DEC_UDP_TRUNC);
	set16(&f, lo.udp_len_at, 7);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_UDP_BAD_LEN);
	set16(&f, lo.udp_len_at, 9);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_UDP_BAD_LEN);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n + 64, MT_DEC_UDP_BAD_LEN);
	s = base(MT_LINK_ETHERNET, 4, 17);
	build(&s, &f, &lo);
	set16(&f, lo.udp_len_at, 0);
	expect_err(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_DEC_UDP_BAD_LEN);

	tunnel_errors();
	for (int r = 0; r < MT_DEC__COUNT; r++)
		ck_assert_msg(hit_reason[r] > 0, "reason %s not reached", mt_decode_reason_name(r));
}
END_TEST

/* ---- valid but not tracked -------------------------------------------- */

START_TEST(test_every_other)
{
	spec s;
	fb f;
	layout lo;

	memset(hit_other, 0, sizeof hit_other);

	/* ARP, 802.3 length field, PPPoE discovery, LLDP */
	s = base(MT_LINK_ETHERNET, 4, 6);
	build(&s, &f, &lo);
	set16(&f, 12, 0x0806);
	expect_other(MT_LINK_ETHERNET, f.b, 42, 42, MT_OTHER_NON_IP);
	set16(&f, 12, 0x0026);
	expect_other(MT_LINK_ETHERNET, f.b, 60, 60, MT_OTHER_NON_IP);
	set16(&f, 12, 0x05ff);
	expect_other(MT_LINK_ETHERNET, f.b, 60, 60, MT_OTHER_NON_IP);
	set16(&f, 12, 0x8863);
	expect_other(MT_LINK_ETHERNET, f.b, 60, 60, MT_OTHER_NON_IP);
	set16(&f, 12, 0x88cc);
	expect_other(MT_LINK_ETHERNET, f.b, 14, 14, MT_OTHER_NON_IP);
	/* ARP inside a VLAN */
	s = base(MT_LINK_ETHERNET, 4, 6);
	add_tag(&s, 0x8100, 1);
	build(&s, &f, &lo);
	set16(&f, 16, 0x0806);
	expect_other(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_OTHER_NON_IP);
	/* PPP LCP */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.pppoe = 1;
	build(&s, &f, &lo);
	set16(&f, lo.pppoe_len_at + 2, 0xc021);
	expect_other(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_OTHER_NON_IP);
	/* MPLS pseudowire control word (first nibble 0) */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.nmpls = 1;
	build(&s, &f, &lo);
	f.b[18] = 0x00;
	expect_other(MT_LINK_ETHERNET, f.b, f.n, f.n, MT_OTHER_NON_IP);
	/* SLL with a non-ethertype protocol (ETH_P_802_2) */
	s = base(MT_LINK_LINUX_SLL, 4, 6);
	build(&s, &f, &lo);
	set16(&f, 14, 0x0004);
	expect_other(MT_LINK_LINUX_SLL, f.b, f.n, f.n, MT_OTHER_NON_IP);
	/* NULL with an unknown family; LOOP written in host order is not AF_INET */
	s = base(MT_LINK_NULL, 4, 6);
	s.af = 7;
	spec_other(&s, MT_OTHER_NON_IP);
	s = base(MT_LINK_LOOP, 4, 6);
	build(&s, &f, &lo);
	f.b[0] = 2;
	f.b[3] = 0;
	expect_other(MT_LINK_LOOP, f.b, f.n, f.n, MT_OTHER_NON_IP);

	/* IPv4 fragments: first (MF), middle, last; DF alone is not one */
	s = base(MT_LINK_ETHERNET, 4, 6);
	s.frag4 = 0x2000;
	spec_other(&s, MT_OTHER_IPV4_FRAGMENT);
	s.frag4 = 0x2000 | 185;
	spec_other(&s, MT_OTHER_IPV4_FRAGMENT);
	s.frag4 = 370;
	s.l4 = 17;
	spec_other(&s, MT_OTHER_IPV4_FRAGMENT);
	s.frag4 = 0x4000;
	roundtrip(&s);

	/* IPv6 fragments: first (M=1), later (offset), after other headers */
	s = base(MT_LINK_ETHERNET, 6, 6);
	add_ext(&s, 44, 0);
	s.fragfield = 0x0001;
	spec_other(&s, MT_OTHER_IPV6_FRAGMENT);
	s.fragfield = 0x0a00;
	spec_other(&s, MT_OTHER_IPV6_FRAGMENT);
	s = base(MT_LINK_RAW, 6, 17);
	add_ext(&s, 0, 0);
	add_ext(&s, 44, 0);
	s.fragfield = 0x0009;
	spec_other(&s, MT_OTHER_IPV6_FRAGMENT);
	/* the two reserved bits are ignored (RFC 8200 4.5): still atomic */
	s.fragfield = 0x0006;
	roundtrip(&s);

	/* other transports: ICMP, SCTP, AH over IPv4; ICMPv6, ESP, no-next-header */
	s = base(MT_LINK_ETHERNET, 4, 1);
	spec_other(&s, MT_OTHER_OTHER_L4);
	s.l4 = 132; /* SCTP */
	spec_other(&s, MT_OTHER_OTHER_L4);
	s.l4 = 51;
	spec_other(&s, MT_OTHER_OTHER_L4);
	s = base(MT_LINK_ETHERNET, 6, 58);
	spec_other(&s, MT_OTHER_OTHER_L4);
	s.l4 = 50;
	spec_other(&s, MT_OTHER_OTHER_L4);
	s.l4 = 59;
	s.paylen = 0;
	spec_other(&s, MT_OTHER_OTHER_L4);
	s = base(MT_LINK_IPV6, 6, 58);
	add_ext(&s, 0, 0);
	add_ext(&s, 51, 1);
	spec_other(&s, MT_OTHER_OTHER_L4);

	for (int o = 0; o < MT_OTHER__COUNT; o++)
		ck_assert_msg(hit_other[o] > 0, "other %s not reached", mt_decode_other_name(o));
}
END_TEST

/* ---- names, link types, counters -------------------------------------- */

START_TEST(test_names)
{
	ck_assert_str_eq(mt_decode_reason_name(MT_DEC_LINK_UNSUPPORTED), "link_unsupported");
	ck_assert_str_eq(mt_decode_reason_name(MT_DEC_IPV4_TRUNC), "ipv4_trunc");
	ck_assert_str_eq(mt_decode_reason_name(MT_DEC_UDP_BAD_LEN), "udp_bad_len");
	ck_assert_str_eq(mt_decode_other_name(MT_OTHER_NON_IP), "non_ip");
	ck_assert_str_eq(mt_decode_other_name(MT_OTHER_IPV4_FRAGMENT), "ipv4_fragment");
	ck_assert_str_eq(mt_decode_other_name(MT_OTHER_OTHER_L4), "other_l4");
	ck_assert_str_eq(mt_decode_reason_name(-1), "unknown");
	ck_assert_str_eq(mt_decode_reason_name(MT_DEC__COUNT), "unknown");
	ck_assert_str_eq(mt_decode_other_name(-5), "unknown");
	ck_assert_str_eq(mt_decode_other_name(MT_OTHER__COUNT), "unknown");

	/* snake_case and unique */
	for (int i = 0; i < MT_DEC__COUNT + MT_OTHER__COUNT; i++) {
		const char *a = i < MT_DEC__COUNT ? mt_decode_reason_name(i)
						  : mt_decode_other_name(i - MT_DEC__COUNT);

		ck_assert_str_ne(a, "unknown");
		ck_assert_uint_gt(strlen(a), 0);
		for (const char *c = a; *c; c++)
			ck_assert_msg((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_',
				      "bad name %s", a);
		for (int j = 0; j < i; j++) {
			const char *b = j < MT_DEC__COUNT ? mt_decode_reason_name(j)
							  : mt_decode_other_name(j - MT_DEC__COUNT);
			ck_assert_str_ne(a, b);
		}
	}
}
END_TEST

START_TEST(test_link_supported)
{
	for (size_t i = 0; i < NLINKS; i++)
		ck_assert_int_eq(mt_decode_link_supported(all_links[i]), 1);
	ck_assert_int_eq(mt_decode_link_supported(105), 0);
	ck_assert_int_eq(mt_decode_link_supported(127), 0);
	ck_assert_int_eq(mt_decode_link_supported(-1), 0);
	ck_assert_int_eq(mt_decode_link_supported(2), 0);
}
END_TEST

START_TEST(test_stats_accumulate)
{
	spec s = base(MT_LINK_ETHERNET, 4, 6);
	fb f;
	layout lo;
	mt_pkt p;
	mt_decode_stats st;

	memset(&st, 0, sizeof st);
	build(&s, &f, &lo);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, &st), MT_DECODE_L4);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, 20, 20, &p, &st), MT_DECODE_ERROR);
	set16(&f, 12, 0x0806);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, &st), MT_DECODE_OTHER);
	ck_assert_uint_eq(st.frames, 10);
	ck_assert_uint_eq(st.decoded, 5);
	ck_assert_uint_eq(st.errors, 3);
	ck_assert_uint_eq(st.reason[MT_DEC_IPV4_TRUNC], 3);
	ck_assert_uint_eq(st.other[MT_OTHER_NON_IP], 2);
	check_stats_sum(&st);
	/* NULL stats is allowed */
	ck_assert_int_eq(dec(MT_LINK_ETHERNET, f.b, f.n, f.n, &p, NULL), MT_DECODE_OTHER);
}
END_TEST

/* ---- every truncation length ------------------------------------------ */

/* The invariants of any L4 answer: everything inside [buf, buf + cap). */
static void check_sane(const uint8_t *buf, size_t cap, size_t wire, const mt_pkt *p)
{
	REQUIRE(p->ipver == 4 || p->ipver == 6);
	REQUIRE(p->l4proto == 6 || p->l4proto == 17);
	REQUIRE_LE(p->nvlan, MT_DECODE_MAX_ENCAP);
	REQUIRE(p->l3 >= buf && p->l3 <= buf + cap);
	REQUIRE_LE(p->l3_len, (size_t)(buf + cap - p->l3));
	REQUIRE_GE(p->l3_len, p->ipver == 4 ? 20 : 40);
	REQUIRE(p->payload >= p->l3 + (p->l4proto == 6 ? 20 : 8));
	REQUIRE(p->payload <= buf + cap);
	REQUIRE_LE(p->payload_len, (size_t)(buf + cap - p->payload));
	REQUIRE(p->payload + p->payload_len <= p->l3 + p->l3_len);
	REQUIRE(p->truncated == 0 || p->truncated == 1);
	if (cap >= wire)
		REQUIRE_EQ(p->truncated, 0);
	REQUIRE_EQ(p->cap_len, cap);
	REQUIRE_EQ(p->wire_len, wire);
	if (p->ipver == 4) {
		static const uint8_t zero[12];

		REQUIRE(memcmp(p->src + 4, zero, 12) == 0);
		REQUIRE(memcmp(p->dst + 4, zero, 12) == 0);
	}
}

static void truncate_all(const spec *s)
{
	fb f;
	layout lo;
	mt_decode_stats st;
	size_t ip_end, hdr_end;

	build(s, &f, &lo);
	ip_end = lo.l3_off + lo.ip_len;
	hdr_end = lo.l4_off + lo.l4_hdr;
	memset(&st, 0, sizeof st);
	for (size_t n = 0; n <= f.n; n++) {
		/* exactly n bytes on the heap: any overread is caught by ASan/valgrind */
		uint8_t *buf = malloc(n ? n : 1);
		mt_pkt p;
		int rc;

		ck_assert_ptr_nonnull(buf);
		memcpy(buf, f.b, n);

		/* a frame that really is n bytes long: only whole IP packets decode */
		memset(&p, 0xa5, sizeof p);
		rc = dec(s->link, buf, n, n, &p, &st);
		if (n >= ip_end) {
			ck_assert_int_eq(rc, MT_DECODE_L4);
			check_sane(buf, n, n, &p);
			check_pkt(s, &lo, buf, n, n, &p);
		} else {
			ck_assert_msg(rc == MT_DECODE_ERROR, "link %d n=%zu rc=%d", s->link, n, rc);
		}

		/* the same bytes cut by a snap length: decodes once the L4 header is in */
		memset(&p, 0xa5, sizeof p);
		rc = dec(s->link, buf, n, f.n, &p, &st);
		if (n >= hdr_end) {
			ck_assert_int_eq(rc, MT_DECODE_L4);
			check_sane(buf, n, f.n, &p);
			check_pkt(s, &lo, buf, n, f.n, &p);
		} else {
			ck_assert_msg(rc == MT_DECODE_ERROR, "link %d n=%zu rc=%d (snap)", s->link, n, rc);
		}
		free(buf);
	}
	ck_assert_uint_eq(st.frames, 2 * (f.n + 1));
	check_stats_sum(&st);
}

START_TEST(test_truncate_every_length)
{
	spec v[32];

	for (size_t l = 0; l < NLINKS; l++) {
		int n = variants(all_links[l], v);

		ck_assert_int_gt(n, 0);
		for (int i = 0; i < n; i++) {
			roundtrip(&v[i]);
			truncate_all(&v[i]);
		}
	}
}
END_TEST

/* A cut non-TCP/UDP frame is an error or "other", never a packet. */
START_TEST(test_truncate_others)
{
	spec s[3];
	fb f;
	layout lo;
	mt_decode_stats st;

	s[0] = base(MT_LINK_ETHERNET, 6, 58);
	add_ext(&s[0], 0, 0);
	s[1] = base(MT_LINK_ETHERNET, 4, 1);
	s[1].nmpls = 2;
	s[2] = base(MT_LINK_ETHERNET, 6, 17);
	add_ext(&s[2], 44, 0);
	s[2].fragfield = 0x0001;
	memset(&st, 0, sizeof st);
	for (int i = 0; i < 3; i++) {
		build(&s[i], &f, &lo);
		for (size_t n = 0; n <= f.n; n++) {
			uint8_t *buf = malloc(n ? n : 1);
			mt_pkt p;
			int rc;

			ck_assert_ptr_nonnull(buf);
			memcpy(buf, f.b, n);
			rc = dec(MT_LINK_ETHERNET, buf, n, n, &p, &st);
			ck_assert(rc == MT_DECODE_ERROR || rc == MT_DECODE_OTHER);
			if (n == f.n)
				ck_assert_int_eq(rc, MT_DECODE_OTHER);
			rc = dec(MT_LINK_ETHERNET, buf, n, f.n, &p, &st);
			ck_assert(rc == MT_DECODE_ERROR || rc == MT_DECODE_OTHER);
			free(buf);
		}
	}
	check_stats_sum(&st);
}
END_TEST

/* ---- random and mutated frames ---------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: fixed seed, the same frames every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

#define RANDOM_FRAMES 200000

START_TEST(test_random_frames)
{
	spec v[32];
	mt_decode_stats st;
	uint64_t l4 = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	memset(&st, 0, sizeof st);
	for (size_t l = 0; l < NLINKS; l++) {
		int link = all_links[l];
		int nv = variants(link, v);
		fb tmpl[32];
		layout lo;

		for (int i = 0; i < nv; i++)
			build(&v[i], &tmpl[i], &lo);
		for (int it = 0; it < RANDOM_FRAMES; it++) {
			size_t n, wire;
			uint8_t *buf;
			mt_pkt p;
			int rc;

			if (it & 1) {
				/* pure noise */
				n = rnd() % 161;
				buf = malloc(n ? n : 1);
				REQUIRE(buf != NULL);
				for (size_t i = 0; i < n; i++)
					buf[i] = (uint8_t)rnd();
			} else {
				/* a valid frame with a few bytes changed and a random cut */
				const fb *t = &tmpl[rnd() % (unsigned)nv];
				unsigned k = 1 + rnd() % 4;
				size_t cut = rnd() % (t->n + 1);

				/* cuts of any length, short ones more often */
				n = t->n - cut / (1 + rnd() % 4);
				buf = malloc(n ? n : 1);
				REQUIRE(buf != NULL);
				memcpy(buf, t->b, n);
				while (n && k--) {
					size_t at = rnd() % n;

					/* small values hit the length and offset edges more often */
					buf[at] = (rnd() & 1) ? (uint8_t)rnd() : (uint8_t)(buf[at] + (rnd() % 5) - 2);
				}
			}
			wire = (rnd() & 1) ? n : n + rnd() % 2000;
			rc = dec(link, buf, n, wire, &p, &st);
			REQUIRE(rc == MT_DECODE_L4 || rc == MT_DECODE_OTHER || rc == MT_DECODE_ERROR);
			if (rc == MT_DECODE_L4) {
				check_sane(buf, n, wire, &p);
				l4++;
			}
			free(buf);
		}
	}
	ck_assert_uint_eq(st.frames, (uint64_t)NLINKS * RANDOM_FRAMES);
	ck_assert_uint_eq(st.decoded, l4);
	check_stats_sum(&st);
	/* the mutated half must reach the transport layer often */
	ck_assert_uint_gt(l4, (uint64_t)NLINKS * RANDOM_FRAMES / 20);
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode_decode");
	TCase *tc = tcase_create("core");
	TCase *heavy = tcase_create("heavy");

	tcase_add_test(tc, test_ethernet_ipv4_tcp);
	tcase_add_test(tc, test_ethernet_ipv4_options_udp);
	tcase_add_test(tc, test_ethernet_ipv6);
	tcase_add_test(tc, test_vlan_qinq);
	tcase_add_test(tc, test_mpls);
	tcase_add_test(tc, test_pppoe);
	tcase_add_test(tc, test_sll_sll2);
	tcase_add_test(tc, test_null_loop);
	tcase_add_test(tc, test_raw);
	tcase_add_test(tc, test_ipv6_exthdrs);
	tcase_add_test(tc, test_max_encap);
	tcase_add_test(tc, test_ethernet_padding);
	tcase_add_test(tc, test_snaplen);
	tcase_add_test(tc, test_odd_wire_len);
	tcase_add_test(tc, test_tunnel_nested_and_bad);
	tcase_add_test(tc, test_every_reason);
	tcase_add_test(tc, test_every_other);
	tcase_add_test(tc, test_tunnel_ipip);
	tcase_add_test(tc, test_tunnel_gre);
	tcase_add_test(tc, test_tunnel_erspan);
	tcase_add_test(tc, test_tunnel_pptp);
	tcase_add_test(tc, test_tunnel_udp);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_link_supported);
	tcase_add_test(tc, test_stats_accumulate);
	suite_add_tcase(s, tc);

	/* slow under valgrind: give them room */
	tcase_set_timeout(heavy, 600);
	tcase_add_test(heavy, test_truncate_every_length);
	tcase_add_test(heavy, test_truncate_others);
	tcase_add_test(heavy, test_random_frames);
	suite_add_tcase(s, heavy);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decode_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
