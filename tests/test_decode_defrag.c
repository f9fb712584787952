/* test_decode_defrag.c - IP fragment reassembly: any order, duplicates, overlaps (first copy wins), IPv6, and every bound (time, datagrams, memory, fragments, 65535 bytes). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/defrag.h"

static const uint8_t KEY[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
#define T0 1700000000000000ull

/* An IPv4 or IPv6 + UDP datagram of n payload bytes (pattern from seed) in buf; returns its length. */
static size_t datagram(uint8_t *buf, int ipver, size_t n, unsigned seed)
{
	size_t hl = ipver == 4 ? 20 : 40, len = hl + 8 + n;

	memset(buf, 0, hl);
	if (ipver == 4) {
		buf[0] = 0x45;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		buf[4] = 0x12;
		buf[5] = 0x34;
		buf[8] = 64;
		buf[9] = 17;
		memcpy(buf + 12, (const uint8_t[]){ 192, 0, 2, 9 }, 4);
		memcpy(buf + 16, (const uint8_t[]){ 203, 0, 113, 9 }, 4);
	} else {
		buf[0] = 0x60;
		buf[4] = (uint8_t)((len - 40) >> 8);
		buf[5] = (uint8_t)(len - 40);
		buf[6] = 17;
		buf[7] = 64;
		buf[8] = 0x20;
		buf[9] = 0x01;
		buf[23] = 9;
		buf[24] = 0x20;
		buf[25] = 0x01;
		buf[39] = 7;
	}
	buf[hl] = 0xc3;
	buf[hl + 1] = 0x50;
	buf[hl + 2] = 0x0d;
	buf[hl + 3] = 0x05;
	buf[hl + 4] = (uint8_t)((8 + n) >> 8);
	buf[hl + 5] = (uint8_t)(8 + n);
	for (size_t i = 0; i < n; i++)
		buf[hl + 8 + i] = (uint8_t)(i * 31 + seed);
	return len;
}

/* The fragment of datagram dg (its payload bytes [off, off + n)) as the decoder describes it. */
static mt_frag piece(const uint8_t *dg, size_t dglen, int ipver, uint32_t id, size_t off, size_t n)
{
	mt_frag f;
	size_t hl = ipver == 4 ? 20 : 40;

	memset(&f, 0, sizeof f);
	f.ipver = (uint8_t)ipver;
	f.proto = 17;
	f.id = id;
	f.offset = (uint32_t)off;
	f.more = hl + off + n < dglen;
	if (ipver == 4) {
		memcpy(f.src, dg + 12, 4);
		memcpy(f.dst, dg + 16, 4);
	} else {
		memcpy(f.src, dg + 8, 16);
		memcpy(f.dst, dg + 24, 16);
	}
	f.hdr = dg;
	f.hdr_len = (uint32_t)hl;
	f.data = dg + hl + off;
	f.data_len = (uint32_t)n;
	return f;
}

/* The reassembled datagram decodes to the same UDP packet as the original. */
static void same_packet(const mt_defrag_dgram *out, const uint8_t *dg, size_t len)
{
	mt_pkt a, b;

	ck_assert_uint_eq(out->len, len);
	ck_assert_int_eq(mt_decode_datagram(out->ip, out->len, 0, NULL, T0, &a, NULL), MT_DECODE_L4);
	ck_assert_int_eq(mt_decode_frame(MT_LINK_RAW, dg, (uint32_t)len, (uint32_t)len, T0, &b, NULL), MT_DECODE_L4);
	ck_assert_uint_eq(a.payload_len, b.payload_len);
	ck_assert_mem_eq(a.payload, b.payload, b.payload_len);
	ck_assert_mem_eq(a.src, b.src, 16);
	ck_assert_uint_eq(a.dport, 3333);
}

START_TEST(orders)
{
	static uint8_t dg[3000];

	for (int v = 4; v <= 6; v += 2) {
		size_t len = datagram(dg, v, 2000, 7), hl = v == 4 ? 20 : 40, pay = len - hl;
		/* 5 fragments of 408 bytes (the last shorter) fed in every rotation and reversed */
		size_t offs[5] = { 0, 408, 816, 1224, 1632 };

		for (int order = 0; order < 10; order++) {
			mt_defrag *d = mt_defrag_new(NULL, KEY);
			mt_defrag_dgram out;
			int done = 0;

			ck_assert_ptr_nonnull(d);
			for (int i = 0; i < 5; i++) {
				int k = order < 5 ? (i + order) % 5 : 4 - (i + order) % 5;
				size_t n = offs[k] + 408 < pay ? 408 : pay - offs[k];
				mt_frag f = piece(dg, len, v, 99, offs[k], n);
				int r = mt_defrag_add(d, &f, T0 + (uint64_t)i, &out);

				ck_assert_int_eq(r, i == 4);
				done += r;
			}
			ck_assert_int_eq(done, 1);
			same_packet(&out, dg, len);
			ck_assert_uint_eq(mt_defrag_stats_get(d)->reassembled, 1);
			ck_assert_uint_eq(mt_defrag_stats_get(d)->active, 0);
			ck_assert_uint_eq(mt_defrag_stats_get(d)->mem, 0);
			mt_defrag_free(d);
		}
	}
}
END_TEST

START_TEST(duplicates_and_overlaps)
{
	static uint8_t dg[2000], evil[2000];
	size_t len = datagram(dg, 4, 1000, 3), pay = len - 20;
	mt_defrag *d = mt_defrag_new(NULL, KEY);
	mt_defrag_dgram out;
	mt_frag f;

	/* the same first fragment twice, then an overlapping middle with other bytes, then the rest */
	f = piece(dg, len, 4, 5, 0, 512);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->overlaps, 1);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->overlap_diff, 0);
	memcpy(evil, dg, len);
	memset(evil + 20 + 256, 'X', 512);
	f = piece(evil, len, 4, 5, 256, 512);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->overlap_diff, 1);
	f = piece(dg, len, 4, 5, 768, pay - 768);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 1);
	/* first copy wins where they overlapped (256..511); the other bytes filled what was missing (512..767) */
	ck_assert_uint_eq(out.len, len);
	ck_assert_mem_eq(out.ip + 20, dg + 20, 512);
	ck_assert_mem_eq(out.ip + 20 + 512, evil + 20 + 512, 256);
	ck_assert_mem_eq(out.ip + 20 + 768, dg + 20 + 768, pay - 768);
	mt_defrag_free(d);
}
END_TEST

START_TEST(separate_datagrams)
{
	static uint8_t a[2000], b[2000];
	size_t la = datagram(a, 4, 800, 1), lb = datagram(b, 4, 800, 2);
	mt_defrag *d = mt_defrag_new(NULL, KEY);
	mt_defrag_dgram out;
	mt_frag f;

	/* two datagrams with the same addresses, other ids, interleaved */
	f = piece(a, la, 4, 1, 0, 400);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	f = piece(b, lb, 4, 2, 0, 400);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	f = piece(b, lb, 4, 2, 400, lb - 20 - 400);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 1);
	same_packet(&out, b, lb);
	f = piece(a, la, 4, 1, 400, la - 20 - 400);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 1);
	same_packet(&out, a, la);
	/* another VLAN is another datagram */
	f = piece(a, la, 4, 1, 0, 400);
	f.nvlan = 1;
	f.vlan[0] = 100;
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	f = piece(a, la, 4, 1, 400, la - 20 - 400);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->active, 2);
	mt_defrag_free(d);
}
END_TEST

START_TEST(bounds)
{
	static uint8_t dg[70000];
	size_t len = datagram(dg, 4, 1000, 9);
	mt_defrag_cfg cfg;
	mt_defrag *d;
	mt_defrag_dgram out;
	mt_frag f;

	/* time: the rest arrives after the timeout */
	mt_defrag_cfg_default(&cfg);
	d = mt_defrag_new(&cfg, KEY);
	f = piece(dg, len, 4, 1, 0, 512);
	mt_defrag_add(d, &f, T0, &out);
	f = piece(dg, len, 4, 1, 512, len - 20 - 512);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0 + 31000000ull, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->timeouts, 1);
	mt_defrag_free(d);

	/* datagrams: 8 at most, the oldest goes */
	cfg.max_datagrams = 8;
	d = mt_defrag_new(&cfg, KEY);
	for (uint32_t id = 0; id < 20; id++) {
		f = piece(dg, len, 4, id, 0, 512);
		ck_assert_int_eq(mt_defrag_add(d, &f, T0 + id, &out), 0);
	}
	ck_assert_uint_eq(mt_defrag_stats_get(d)->active, 8);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->evicted, 12);
	f = piece(dg, len, 4, 19, 512, len - 20 - 512);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0 + 30, &out), 1);
	f = piece(dg, len, 4, 0, 512, len - 20 - 512);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0 + 31, &out), 0); /* its start was evicted */
	mt_defrag_free(d);

	/* memory: 64 KiB of buffers at most */
	mt_defrag_cfg_default(&cfg);
	cfg.memcap = 64 * 1024;
	d = mt_defrag_new(&cfg, KEY);
	for (uint32_t id = 0; id < 100; id++) {
		f = piece(dg, len, 4, id, 0, 512);
		mt_defrag_add(d, &f, T0, &out);
		ck_assert_uint_le(mt_defrag_stats_get(d)->mem, cfg.memcap);
	}
	ck_assert_uint_gt(mt_defrag_stats_get(d)->evicted, 0);
	ck_assert_uint_le(mt_defrag_stats_get(d)->mem_peak, cfg.memcap);
	mt_defrag_free(d);

	/* fragments: a tiny-fragment flood gives the datagram up */
	mt_defrag_cfg_default(&cfg);
	cfg.max_frags = 16;
	d = mt_defrag_new(&cfg, KEY);
	for (size_t off = 0; off < 8 * 40; off += 8) {
		f = piece(dg, len, 4, 7, off, 8);
		mt_defrag_add(d, &f, T0, &out);
	}
	ck_assert_uint_ge(mt_defrag_stats_get(d)->too_many, 1);
	mt_defrag_free(d);

	/* refused: past 65535 bytes, a middle length not a multiple of 8, two ends, data past the end, cut */
	d = mt_defrag_new(NULL, KEY);
	f = piece(dg, sizeof dg, 4, 3, 65528, 16);
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	f = piece(dg, len, 4, 3, 0, 100);
	f.more = 1;
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->bad, 2);
	f = piece(dg, len, 4, 4, 512, 100);
	f.more = 0;
	mt_defrag_add(d, &f, T0, &out);
	f = piece(dg, len, 4, 4, 512, 200);
	f.more = 0;
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->bad, 3);
	f = piece(dg, len, 4, 5, 0, 1024);
	f.more = 1;
	mt_defrag_add(d, &f, T0, &out);
	f = piece(dg, len, 4, 5, 512, 8);
	f.more = 0; /* ends before data already received */
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->bad, 4);
	f = piece(dg, len, 4, 6, 0, 512);
	f.truncated = 1;
	ck_assert_int_eq(mt_defrag_add(d, &f, T0, &out), 0);
	ck_assert_uint_eq(mt_defrag_stats_get(d)->truncated, 1);
	mt_defrag_free(d);
	mt_defrag_free(NULL);
}
END_TEST

/* The decoder describes real fragments of a frame (IPv4 and IPv6 fragment header) as piece() does. */
START_TEST(decoder_frag_info)
{
	static uint8_t dg[3000], fr[3000];
	size_t len = datagram(dg, 4, 1000, 4);
	mt_frag f;
	mt_pkt p;
	mt_decode_stats st;

	/* IPv4: the second half, offset 512 */
	memcpy(fr, dg, 20);
	memcpy(fr + 20, dg + 20 + 512, len - 20 - 512);
	fr[2] = (uint8_t)((len - 512) >> 8);
	fr[3] = (uint8_t)(len - 512);
	fr[6] = 0;
	fr[7] = 512 / 8;
	memset(&st, 0, sizeof st);
	ck_assert_int_eq(mt_decode_frame_frag(MT_LINK_RAW, fr, (uint32_t)(len - 512), (uint32_t)(len - 512), T0, &p,
					      &st, &f), MT_DECODE_OTHER);
	ck_assert_uint_eq(st.other[MT_OTHER_IPV4_FRAGMENT], 1);
	ck_assert_uint_eq(f.ipver, 4);
	ck_assert_uint_eq(f.offset, 512);
	ck_assert_uint_eq(f.more, 0);
	ck_assert_uint_eq(f.id, 0x1234);
	ck_assert_uint_eq(f.data_len, len - 20 - 512);
	ck_assert_mem_eq(f.data, dg + 20 + 512, f.data_len);
	/* the same cut by the snap length */
	ck_assert_int_eq(mt_decode_frame_frag(MT_LINK_RAW, fr, 100, (uint32_t)(len - 512), T0, &p, NULL, &f),
			 MT_DECODE_OTHER);
	ck_assert_uint_eq(f.truncated, 1);
	/* a whole packet is no fragment */
	ck_assert_int_eq(mt_decode_frame_frag(MT_LINK_RAW, dg, (uint32_t)len, (uint32_t)len, T0, &p, NULL, &f),
			 MT_DECODE_L4);
	ck_assert_uint_eq(f.ipver, 0);

	/* IPv6: fixed header (next header 44), fragment header (UDP, offset 0, M), 512 bytes */
	len = datagram(dg, 6, 1000, 4);
	memcpy(fr, dg, 40);
	fr[6] = 44;
	fr[4] = 0;
	fr[5] = 8 + 512 % 256;
	fr[4] = (8 + 512) >> 8;
	fr[40] = 17;
	fr[41] = 0;
	fr[42] = 0;
	fr[43] = 1; /* offset 0, M */
	memcpy(fr + 44, (const uint8_t[]){ 0xde, 0xad, 0xbe, 0xef }, 4);
	memcpy(fr + 48, dg + 40, 512);
	ck_assert_int_eq(mt_decode_frame_frag(MT_LINK_RAW, fr, 40 + 8 + 512, 40 + 8 + 512, T0, &p, NULL, &f),
			 MT_DECODE_OTHER);
	ck_assert_uint_eq(f.ipver, 6);
	ck_assert_uint_eq(f.proto, 17);
	ck_assert_uint_eq(f.more, 1);
	ck_assert_uint_eq(f.id, 0xdeadbeef);
	ck_assert_uint_eq(f.data_len, 512);
	ck_assert_mem_eq(f.data, dg + 40, 512);
}
END_TEST

static Suite *defrag_suite(void)
{
	Suite *s = suite_create("decode_defrag");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, orders);
	tcase_add_test(tc, duplicates_and_overlaps);
	tcase_add_test(tc, separate_datagrams);
	tcase_add_test(tc, bounds);
	tcase_add_test(tc, decoder_frag_info);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(defrag_suite());
	int nf;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
