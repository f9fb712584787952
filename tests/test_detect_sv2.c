/* test_detect_sv2.c - the Stratum V2 detector fed hand-built SV2 frames (sv2-spec framing and mining messages), every truncation, split frames, look-alikes and the Noise NX handshake shape. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"

typedef struct harness {
	uint8_t buf[2][8192];
	uint32_t len[2];
	mt_flow_view fv;
	void *state;
	mt_evidence ev;
	int ans;
	int calls;
	int prefiltered; /* the prefilter excluded the flow at the first call */
} harness;

static const uint8_t cli_addr[16] = { 10, 0, 0, 2 };
static const uint8_t srv_addr[16] = { 203, 0, 113, 9 };

static harness *h_new(uint16_t port)
{
	harness *h = calloc(1, sizeof *h);
	ck_assert_ptr_nonnull(h);
	h->state = calloc(1, mt_detect_sv2.state_size);
	ck_assert_ptr_nonnull(h->state);
	h->fv.ipver = 4;
	h->fv.l4proto = 6;
	h->fv.dir_certain = 1;
	h->fv.cli_addr = cli_addr;
	h->fv.srv_addr = srv_addr;
	h->fv.cli_port = 50000;
	h->fv.srv_port = port;
	h->ans = MT_UNDECIDED;
	return h;
}

static void h_free(harness *h)
{
	free(h->state);
	free(h);
}

/* One call as the engine makes it: the prefilter first, which may exclude only what on_packet excludes. */
static int h_call(harness *h, const mt_pkt_view *pv)
{
	int pf = h->calls++ == 0 ? mt_detect_sv2.prefilter(NULL, &h->fv, pv) : MT_UNDECIDED;

	h->ans = mt_detect_sv2.on_packet(NULL, h->state, &h->fv, pv, &h->ev);
	if (pf == MT_EXCLUDED) {
		ck_assert_int_eq(h->ans, MT_EXCLUDED);
		h->prefiltered = 1;
	}
	return h->ans;
}

static int h_feed(harness *h, int dir, const uint8_t *p, uint32_t n)
{
	mt_pkt_view pv;
	if (h->ans == MT_EXCLUDED)
		return h->ans;
	ck_assert_uint_le(h->len[dir] + n, sizeof h->buf[dir]);
	memcpy(h->buf[dir] + h->len[dir], p, n);
	h->len[dir] += n;
	h->fv.data[0] = h->buf[0];
	h->fv.data[1] = h->buf[1];
	h->fv.len[0] = h->len[0];
	h->fv.len[1] = h->len[1];
	h->fv.pkts[dir]++;
	h->fv.bytes[dir] += n;
	memset(&pv, 0, sizeof pv);
	pv.dir = dir;
	pv.payload = p;
	pv.payload_len = n;
	return h_call(h, &pv);
}

static int h_end(harness *h)
{
	mt_pkt_view pv;
	if (h->ans == MT_EXCLUDED)
		return h->ans;
	memset(&pv, 0, sizeof pv);
	pv.flow_end = 1;
	return h_call(h, &pv);
}

/* ---- frame builder ---- */
typedef struct fb { uint8_t b[1024]; uint32_t n; } fb;
static void put(fb *f, const void *p, uint32_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void u8(fb *f, uint8_t v) { put(f, &v, 1); }
static void u16(fb *f, uint16_t v) { u8(f, (uint8_t)v); u8(f, (uint8_t)(v >> 8)); }
static void u32(fb *f, uint32_t v) { u16(f, (uint16_t)v); u16(f, (uint16_t)(v >> 16)); }
static void str(fb *f, const char *s) { u8(f, (uint8_t)strlen(s)); put(f, s, (uint32_t)strlen(s)); }

/* Wraps payload pl into a frame (extension_type, msg_type, U24 length). */
static fb frame(uint16_t ext, uint8_t type, const fb *pl)
{
	fb f = { .n = 0 };
	u16(&f, ext);
	u8(&f, type);
	u8(&f, (uint8_t)pl->n); u8(&f, (uint8_t)(pl->n >> 8)); u8(&f, (uint8_t)(pl->n >> 16));
	put(&f, pl->b, pl->n);
	return f;
}

static fb setup_conn(uint8_t proto)
{
	fb p = { .n = 0 };
	u8(&p, proto); u16(&p, 2); u16(&p, 2); u32(&p, 1);
	str(&p, "pool.example.org"); u16(&p, 34254);
	str(&p, "Bitmain"); str(&p, "S19"); str(&p, "braiins-os-2.0"); str(&p, "dev42");
	return frame(0, 0x00, &p);
}

static fb setup_ok(void)
{
	fb p = { .n = 0 };
	u16(&p, 2); u32(&p, 0);
	return frame(0, 0x01, &p);
}

static fb open_std(int ext)
{
	fb p = { .n = 0 };
	float hr = 1.1e14f;
	uint32_t bits;
	uint8_t tgt[32];
	memcpy(&bits, &hr, 4);
	memset(tgt, 0xff, sizeof tgt);
	u32(&p, 7); str(&p, "bc1qwallet.rig1"); u32(&p, bits); put(&p, tgt, 32);
	if (ext)
		u16(&p, 4);
	return frame(0, ext ? 0x13 : 0x10, &p);
}

static fb open_ok(void)
{
	fb p = { .n = 0 };
	uint8_t tgt[32] = { 0 };
	u32(&p, 7); u32(&p, 1); put(&p, tgt, 32); u8(&p, 4); put(&p, "\x01\x02\x03\x04", 4); u32(&p, 0);
	return frame(0, 0x11, &p);
}

static fb new_job(void)
{
	fb p = { .n = 0 };
	uint8_t mr[32] = { 0x5a };
	u32(&p, 1); u32(&p, 99); u8(&p, 0); u32(&p, 0x20000000); put(&p, mr, 32);
	return frame(0x8000, 0x15, &p);
}

static fb prevhash(void)
{
	fb p = { .n = 0 };
	uint8_t ph[32] = { 1 };
	u32(&p, 1); u32(&p, 99); put(&p, ph, 32); u32(&p, 1700000000); u32(&p, 0x1703a30c);
	return frame(0x8000, 0x20, &p);
}

static fb submit(void)
{
	fb p = { .n = 0 };
	u32(&p, 1); u32(&p, 5); u32(&p, 99); u32(&p, 0xdeadbeef); u32(&p, 1700000001); u32(&p, 0x20000000);
	return frame(0x8000, 0x1a, &p);
}

static fb submit_ok(void)
{
	fb p = { .n = 0 };
	u32(&p, 1); u32(&p, 5); u32(&p, 1);
	u32(&p, 0); u32(&p, 0);
	return frame(0x8000, 0x1c, &p);
}

static void session(harness *h)
{
	fb f;
	f = setup_conn(0); h_feed(h, 0, f.b, f.n);
	ck_assert_int_eq(h->ans, MT_UNDECIDED);
	f = setup_ok(); h_feed(h, 1, f.b, f.n);
	ck_assert_int_eq(h->ans, MT_DETECTED);
	f = open_std(0); h_feed(h, 0, f.b, f.n);
	f = open_ok(); h_feed(h, 1, f.b, f.n);
	f = new_job(); h_feed(h, 1, f.b, f.n);
	f = prevhash(); h_feed(h, 1, f.b, f.n);
	f = submit(); h_feed(h, 0, f.b, f.n);
	f = submit(); h_feed(h, 0, f.b, f.n);
	f = submit_ok(); h_feed(h, 1, f.b, f.n);
	f = new_job(); h_feed(h, 1, f.b, f.n);
}

START_TEST(plain_session)
{
	harness *h = h_new(3333);
	session(h);
	ck_assert_int_eq(h->ans, MT_DETECTED);
	ck_assert_str_eq(h->ev.protocol, "stratum-v2");
	ck_assert_int_eq(h->ev.event, MT_EVENT_MINING);
	ck_assert(h->ev.confidence > 0.94);
	ck_assert_str_eq(h->ev.pool_host, "pool.example.org");
	ck_assert_str_eq(h->ev.agent, "Bitmain/braiins-os-2.0");
	ck_assert_str_eq(h->ev.wallet, "bc1qwallet");
	ck_assert_str_eq(h->ev.worker, "rig1");
	ck_assert(h->ev.reported_hashrate_hs > 1.0e14 && h->ev.reported_hashrate_hs < 1.2e14);
	ck_assert_uint_eq(h->ev.shares, 2);
	ck_assert_uint_eq(h->ev.shares_accepted, 1);
	ck_assert_uint_eq(h->ev.jobs, 2);
	h_free(h);
}
END_TEST

START_TEST(plain_extended_no_success)
{
	/* setup + extended channel open, server reply not seen: still the grammar */
	harness *h = h_new(3333);
	fb f = setup_conn(0);
	h_feed(h, 0, f.b, f.n);
	f = open_std(1);
	h_feed(h, 0, f.b, f.n);
	ck_assert_int_eq(h->ans, MT_DETECTED);
	ck_assert_str_eq(h->ev.worker, "rig1");
	h_free(h);
}
END_TEST

START_TEST(plain_split_bytes)
{
	/* every frame delivered one byte at a time */
	harness *h = h_new(3333);
	fb a = setup_conn(0), b = setup_ok();
	uint32_t i;
	for (i = 0; i < a.n; i++)
		ck_assert_int_eq(h_feed(h, 0, a.b + i, 1), MT_UNDECIDED);
	for (i = 0; i + 1 < b.n; i++)
		ck_assert_int_eq(h_feed(h, 1, b.b + i, 1), MT_UNDECIDED);
	ck_assert_int_eq(h_feed(h, 1, b.b + i, 1), MT_DETECTED);
	h_free(h);
}
END_TEST

START_TEST(plain_other_protocol)
{
	/* SetupConnection for the Template Distribution protocol (2) is not mining */
	harness *h = h_new(3333);
	fb f = setup_conn(2);
	h_feed(h, 0, f.b, f.n);
	f = setup_ok();
	h_feed(h, 1, f.b, f.n);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	ck_assert_int_ne(h_end(h), MT_DETECTED);
	h_free(h);
}
END_TEST

START_TEST(truncations)
{
	/* the setup frame cut at every length, and with its length field lying */
	fb f = setup_conn(0), s = setup_ok();
	uint32_t n;
	for (n = 0; n <= f.n; n++) {
		harness *h = h_new(3333);
		fb g = f;
		uint32_t pl = n >= 6 ? n - 6 : 0;
		if (n > 0)
			h_feed(h, 0, f.b, n);
		if (n < f.n && n >= 6) { /* claim the cut payload is whole */
			g.b[3] = (uint8_t)pl; g.b[4] = 0; g.b[5] = 0;
			harness *h2 = h_new(3333);
			h_feed(h2, 0, g.b, n);
			h_feed(h2, 1, s.b, s.n);
			ck_assert_int_ne(h2->ans, MT_DETECTED);
			h_free(h2);
		}
		h_feed(h, 1, s.b, s.n);
		if (n == f.n)
			ck_assert_int_eq(h->ans, MT_DETECTED);
		else
			ck_assert_int_ne(h->ans, MT_DETECTED);
		h_end(h);
		h_free(h);
	}
}
END_TEST

START_TEST(lookalikes)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03 };
	static const char h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	uint8_t rnd[300];
	uint32_t i, seed = 12345;
	harness *h;
	for (i = 0; i < sizeof rnd; i++) {
		seed = seed * 1103515245u + 12345u;
		rnd[i] = (uint8_t)(seed >> 16);
	}
	h = h_new(443);
	h_feed(h, 0, tls, sizeof tls);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_feed(h, 1, tls, sizeof tls);
	ck_assert_int_eq(h->ans, MT_EXCLUDED);
	h_free(h);
	h = h_new(443);
	h_feed(h, 0, (const uint8_t *)h2, sizeof h2 - 1);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_feed(h, 1, (const uint8_t *)"\0\0\0\4\0\0\0\0\0", 9); /* SETTINGS */
	ck_assert_int_eq(h->ans, MT_EXCLUDED);
	h_free(h);
	h = h_new(80);
	h_feed(h, 0, (const uint8_t *)http, sizeof http - 1);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_feed(h, 1, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19);
	ck_assert_int_eq(h->ans, MT_EXCLUDED);
	h_free(h);
	h = h_new(9999);
	h_feed(h, 0, rnd, sizeof rnd);
	h_feed(h, 1, rnd, 100);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	ck_assert_int_ne(h_end(h), MT_DETECTED);
	h_free(h);
}
END_TEST

static void noise_hs(harness *h, uint32_t c, uint32_t s)
{
	uint8_t z[256];
	memset(z, 0xa5, sizeof z);
	h_feed(h, 0, z, c);
	h_feed(h, 1, z, s);
}

START_TEST(noise_shape)
{
	uint8_t z[128];
	int i;
	harness *h = h_new(34254);
	memset(z, 0x3c, sizeof z);
	noise_hs(h, 64, 234);
	ck_assert_int_eq(h->ans, MT_UNDECIDED);
	h_feed(h, 0, z, 100);
	ck_assert_int_eq(h->ans, MT_DETECTED);
	ck_assert_str_eq(h->ev.protocol, "stratum-v2-encrypted");
	ck_assert(h->ev.confidence > 0.55 && h->ev.confidence < 0.65);
	for (i = 0; i < 5; i++) {
		h_feed(h, 1, z, 120);
		h_feed(h, 0, z, 86);
	}
	ck_assert(h->ev.confidence >= 0.79 && h->ev.confidence <= 0.8);
	h_free(h);

	h = h_new(40000); /* older draft sizes, other port */
	noise_hs(h, 32, 170);
	h_feed(h, 0, z, 60);
	ck_assert_int_eq(h->ans, MT_DETECTED);
	ck_assert(h->ev.confidence >= 0.49 && h->ev.confidence < 0.55);
	h_free(h);
}
END_TEST

START_TEST(noise_lookalikes)
{
	uint8_t z[128];
	harness *h;
	memset(z, 0x3c, sizeof z);
	h = h_new(34254); /* wrong reply size */
	noise_hs(h, 64, 233);
	h_feed(h, 0, z, 100);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_free(h);
	h = h_new(34254); /* 64 bytes answered by more than the handshake */
	noise_hs(h, 64, 234);
	h_feed(h, 1, z, 10);
	h_feed(h, 0, z, 100);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_free(h);
	h = h_new(34254); /* handshake sizes but the client never sends a frame */
	noise_hs(h, 64, 234);
	ck_assert_int_ne(h_end(h), MT_DETECTED);
	h_free(h);
	h = h_new(34254); /* 65-byte first message */
	noise_hs(h, 65, 234);
	h_feed(h, 0, z, 100);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_free(h);
	h = h_new(34254); /* midstream */
	h->fv.midstream[0] = h->fv.midstream[1] = 1;
	noise_hs(h, 64, 234);
	h_feed(h, 0, z, 100);
	ck_assert_int_ne(h->ans, MT_DETECTED);
	h_free(h);
}
END_TEST

/* What the prefilter lets go before any state, and what it must leave to on_packet. */
START_TEST(prefiltered)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n";
	uint8_t z[64];
	harness *h;

	memset(z, 0x3c, sizeof z);
	h = h_new(80); /* an HTTP request: no SV2 frame, and no Noise first message (not 32 or 64 bytes) */
	ck_assert_int_eq(h_feed(h, 0, (const uint8_t *)req, sizeof req - 1), MT_EXCLUDED);
	ck_assert_int_eq(h->prefiltered, 1);
	h_free(h);
	h = h_new(80); /* the server first, with a long frame header */
	ck_assert_int_eq(h_feed(h, 1, z, 20), MT_EXCLUDED);
	ck_assert_int_eq(h->prefiltered, 1);
	h_free(h);
	h = h_new(34254); /* mid-connection: never Noise, and no frame */
	h->fv.midstream[0] = h->fv.midstream[1] = 1;
	ck_assert_int_eq(h_feed(h, 0, z, 64), MT_EXCLUDED);
	ck_assert_int_eq(h->prefiltered, 1);
	h_free(h);
	h = h_new(34254); /* a Noise-sized first message stays */
	ck_assert_int_eq(h_feed(h, 0, z, 64), MT_UNDECIDED);
	ck_assert_int_eq(h->prefiltered, 0);
	h_free(h);
	h = h_new(3333); /* a plaintext session stays */
	session(h);
	ck_assert_int_eq(h->prefiltered, 0);
	ck_assert_int_eq(h->ans, MT_DETECTED);
	h_free(h);
}
END_TEST

START_TEST(not_udp)
{
	harness *h = h_new(34254);
	h->fv.l4proto = 17;
	noise_hs(h, 64, 234);
	ck_assert_int_eq(h->ans, MT_EXCLUDED);
	h_free(h);
}
END_TEST

static Suite *sv2_suite(void)
{
	Suite *s = suite_create("detect_sv2");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, plain_session);
	tcase_add_test(tc, plain_extended_no_success);
	tcase_add_test(tc, plain_split_bytes);
	tcase_add_test(tc, plain_other_protocol);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, lookalikes);
	tcase_add_test(tc, noise_shape);
	tcase_add_test(tc, noise_lookalikes);
	tcase_add_test(tc, prefiltered);
	tcase_add_test(tc, not_udp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sv2_suite());
	int nf;
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
