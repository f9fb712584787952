/* test_detect_behaviour.c - the behaviour detector fed synthetic packet sequences: share-like (detected only after the minimum time), bulk, chat-like, idle keep-alive, known other protocols, and those its first bytes name (prefilter). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "mt_tls_hello.h"

typedef struct harness {
	mt_flow_view fv;
	void *state;
	mt_evidence ev;
	int ans;
} harness;

static const uint8_t cli_addr[16] = { 10, 0, 0, 2 };
static const uint8_t srv_addr[16] = { 203, 0, 113, 9 };
static uint8_t zeros[1500];

static void h_init(harness *h)
{
	memset(h, 0, sizeof *h);
	h->state = calloc(1, mt_detect_behaviour.state_size);
	ck_assert_ptr_nonnull(h->state);
	h->fv.ipver = 4;
	h->fv.l4proto = 6;
	h->fv.cli_addr = cli_addr;
	h->fv.srv_addr = srv_addr;
	h->fv.cli_port = 50000;
	h->fv.srv_port = 443;
	h->fv.ndpi_proto = "TLS";
}

static int pkt(harness *h, int dir, uint64_t ts_us, uint32_t len)
{
	mt_pkt_view pv;
	if (h->ans == MT_EXCLUDED)
		return h->ans;
	memset(&pv, 0, sizeof pv);
	pv.dir = dir;
	pv.ts_us = ts_us;
	pv.payload = zeros;
	pv.payload_len = len;
	h->ans = mt_detect_behaviour.on_packet(NULL, h->state, &h->fv, &pv, &h->ev);
	return h->ans;
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Shares every ~28 s (jittered), jobs pushed every ~30 s; returns when first detected (us) or 0. */
static uint64_t miner(harness *h, uint64_t t_end_us)
{
	uint32_t seed = 7;
	uint64_t t = 1000000, next_job = t;
	uint64_t when = 0;
	pkt(h, 0, t, 300); /* login-ish */
	pkt(h, 1, t + 50000, 900);
	while (t < t_end_us) {
		t += (uint64_t)(10 + lcg(&seed) % 36) * 1000000u;
		while (next_job < t) {
			pkt(h, 1, next_job, 250 + lcg(&seed) % 40);
			next_job += 30000000u;
		}
		if (pkt(h, 0, t, 100 + lcg(&seed) % 30) == MT_DETECTED && !when)
			when = t;
		pkt(h, 1, t + 80000, 60);
	}
	return when;
}

START_TEST(share_like_detected_after_min_time)
{
	harness h;
	uint64_t when;
	h_init(&h);
	when = miner(&h, 40ull * 60 * 1000000);
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert_uint_ge(when, 600ull * 1000000);
	ck_assert_str_eq(h.ev.protocol, "behaviour");
	ck_assert_int_eq(h.ev.event, MT_EVENT_MINING);
	ck_assert(h.ev.confidence > 0.5 && h.ev.confidence < 0.8);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "upstream msgs"));
	ck_assert_uint_ge(h.ev.shares, 20);
	free(h.state);
}
END_TEST

START_TEST(share_like_too_short)
{
	harness h;
	mt_pkt_view pv;
	h_init(&h);
	miner(&h, 8ull * 60 * 1000000);
	ck_assert_int_ne(h.ans, MT_DETECTED);
	memset(&pv, 0, sizeof pv);
	pv.flow_end = 1;
	ck_assert_int_eq(mt_detect_behaviour.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_EXCLUDED);
	free(h.state);
}
END_TEST

START_TEST(known_protocol_excluded)
{
	harness h;
	h_init(&h);
	h.fv.ndpi_proto = "SSH";
	ck_assert_int_eq(pkt(&h, 0, 1, 100), MT_EXCLUDED);
	free(h.state);
}
END_TEST

START_TEST(bulk_excluded_early)
{
	harness h;
	uint64_t t = 1;
	int i;
	h_init(&h);
	pkt(&h, 0, t, 500);
	for (i = 0; i < 4000 && h.ans != MT_EXCLUDED; i++)
		pkt(&h, 1, t += 1000, 1448);
	ck_assert_int_eq(h.ans, MT_EXCLUDED);
	ck_assert_int_lt(i, 3000);
	free(h.state);
}
END_TEST

START_TEST(chat_like_not)
{
	/* bursts of typing, then long silences; varied sizes */
	harness h;
	uint32_t seed = 99;
	uint64_t t = 1;
	int i;
	h_init(&h);
	for (i = 0; i < 400; i++) {
		uint32_t r = lcg(&seed) % 100;
		t += r < 70 ? (uint64_t)(1 + lcg(&seed) % 5) * 1000000u : (uint64_t)(300 + lcg(&seed) % 900) * 1000000u;
		pkt(&h, (int)(lcg(&seed) & 1), t, 40 + lcg(&seed) % 1200);
	}
	ck_assert_int_ne(h.ans, MT_DETECTED);
	free(h.state);
}
END_TEST

START_TEST(idle_keepalive_not)
{
	/* exact 60 s heartbeats both ways for two hours */
	harness h;
	uint64_t t = 1;
	int i;
	h_init(&h);
	for (i = 0; i < 120; i++) {
		t += 60000000u;
		pkt(&h, 0, t, 53);
		pkt(&h, 1, t + 40000, 53);
	}
	ck_assert_int_ne(h.ans, MT_DETECTED);
	free(h.state);
}
END_TEST

/*
 * One first call as the engine makes it, on a fresh state: the stream of each
 * direction in an exact-size buffer (ASan sees reads past len), the prefilter
 * first; it may exclude only what on_packet excludes. Returns on_packet's answer.
 */
static int first_call(const char *c2s, size_t nc, const char *s2c, size_t ns, int midstream, int *pf)
{
	harness h;
	mt_pkt_view pv;
	uint8_t *b0 = nc ? malloc(nc) : NULL, *b1 = ns ? malloc(ns) : NULL;
	int ans;

	h_init(&h);
	h.fv.ndpi_proto = NULL;
	h.fv.midstream[0] = h.fv.midstream[1] = (uint8_t)midstream;
	if (nc) {
		ck_assert_ptr_nonnull(b0);
		memcpy(b0, c2s, nc);
	}
	if (ns) {
		ck_assert_ptr_nonnull(b1);
		memcpy(b1, s2c, ns);
	}
	h.fv.data[0] = b0;
	h.fv.len[0] = (uint32_t)nc;
	h.fv.bytes[0] = nc;
	h.fv.data[1] = b1;
	h.fv.len[1] = (uint32_t)ns;
	h.fv.bytes[1] = ns;
	memset(&pv, 0, sizeof pv);
	pv.dir = ns && !nc ? 1 : 0;
	pv.payload = pv.dir ? b1 : b0;
	pv.payload_len = (uint32_t)(pv.dir ? ns : nc);
	pv.ts_us = 1;
	*pf = mt_detect_behaviour.prefilter(NULL, &h.fv, &pv);
	ans = mt_detect_behaviour.on_packet(NULL, h.state, &h.fv, &pv, &h.ev);
	if (*pf == MT_EXCLUDED)
		ck_assert_int_eq(ans, MT_EXCLUDED);
	free(b0);
	free(b1);
	free(h.state);
	return ans;
}

#define CLI(s, ms, pf) first_call((s), sizeof(s) - 1, NULL, 0, (ms), (pf))
#define SRV(s, ms, pf) first_call(NULL, 0, (s), sizeof(s) - 1, (ms), (pf))

/* Protocols named by their first bytes go before nDPI is asked (prefilter and on_packet alike). */
START_TEST(first_bytes_other_protocols)
{
	static const char tls_hello[] = "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03";
	int pf;

	ck_assert_int_eq(CLI("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 0, &pf), MT_EXCLUDED);
	ck_assert_int_eq(pf, MT_EXCLUDED);
	ck_assert_int_eq(CLI("CONNECT pool.example:443 HTTP/1.1\r\n", 0, &pf), MT_EXCLUDED);
	ck_assert_int_eq(CLI("SSH-2.0-OpenSSH_9.2\r\n", 0, &pf), MT_EXCLUDED);
	ck_assert_int_eq(SRV("SSH-2.0-OpenSSH_9.2\r\n", 0, &pf), MT_EXCLUDED);
	ck_assert_int_eq(CLI("\x13" "BitTorrent protocol\0\0\0\0\0\x10\0\x05", 1, &pf), MT_EXCLUDED);
	/* a capture that began mid-connection: a request line only with its HTTP version */
	ck_assert_int_eq(CLI("GET /video HTTP/1.1\r\nHost: a\r\n", 1, &pf), MT_EXCLUDED);
	ck_assert_int_eq(CLI("GET ready, here comes a line\n{\"id\":1}\n", 1, &pf), MT_UNDECIDED);
	ck_assert_int_eq(pf, MT_UNDECIDED);
	ck_assert_int_eq(CLI("SSH-2.0-OpenSSH_9.2\r\n", 1, &pf), MT_UNDECIDED);
	ck_assert_int_eq(SRV("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1, &pf), MT_EXCLUDED);
	ck_assert_int_eq(SRV("HTTP/1.1 2x0 OK\r\n", 1, &pf), MT_UNDECIDED);
	/* what behaviour watches: TLS, JSON lines, anything unknown */
	ck_assert_int_eq(CLI(tls_hello, 0, &pf), MT_UNDECIDED);
	ck_assert_int_eq(pf, MT_UNDECIDED);
	ck_assert_int_eq(CLI("{\"id\":1,\"method\":\"login\"}\n", 0, &pf), MT_UNDECIDED);
	ck_assert_int_eq(CLI("GETX /", 0, &pf), MT_UNDECIDED);
}
END_TEST

/* Every prefix of each input: never read past it, never exclude on a prefix that could still be something else. */
START_TEST(first_bytes_truncated)
{
	static const char *const in[] = {
		"GET /index.html HTTP/1.1\r\n", "OPTIONS * HTTP/1.1\r\n", "SSH-2.0-x\r\n",
		"\023BitTorrent protocol", "HTTP/1.0 404 Not Found\r\n",
	};
	/* bytes from which the pattern is all there: connection seen from its start, mid-connection */
	static const size_t need[][2] = {{4, 26}, {8, 20}, {4, SIZE_MAX}, {20, 20}, {13, 13}};
	int pf;

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		size_t n = strlen(in[i]);

		for (size_t k = 1; k <= n; k++) {
			for (int ms = 0; ms < 2; ms++) {
				int a = i == 4 ? first_call(NULL, 0, in[i], k, ms, &pf)
					       : first_call(in[i], k, NULL, 0, ms, &pf);

				ck_assert_msg(a == (k < need[i][ms] ? MT_UNDECIDED : MT_EXCLUDED),
					      "input %zu cut at %zu (midstream %d): %d", i, k, ms, a);
			}
		}
	}
}
END_TEST

/* The engine drops stream buffers once no stream detector is asked: the first packet then stands for the start. */
START_TEST(first_bytes_without_stream)
{
	static const char req[] = "POST /rpc HTTP/1.1\r\n";
	harness h;
	mt_pkt_view pv;

	h_init(&h);
	h.fv.ndpi_proto = NULL;
	memset(&pv, 0, sizeof pv);
	pv.dir = 0;
	pv.ts_us = 1;
	pv.payload = (const uint8_t *)req;
	pv.payload_len = sizeof req - 1;
	h.fv.bytes[0] = sizeof req - 1;
	ck_assert_int_eq(mt_detect_behaviour.prefilter(NULL, &h.fv, &pv), MT_EXCLUDED);
	ck_assert_int_eq(mt_detect_behaviour.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_EXCLUDED);
	free(h.state);
	/* a later packet is not the start: not judged */
	h_init(&h);
	h.fv.ndpi_proto = NULL;
	h.fv.bytes[0] = 2 * (sizeof req - 1);
	ck_assert_int_eq(mt_detect_behaviour.prefilter(NULL, &h.fv, &pv), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_behaviour.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	free(h.state);
}
END_TEST

/*
 * TLS, from its first record, needs no nDPI labels (wants_labels 0), and the
 * ClientHello's name becomes pool_host; another protocol keeps them wanted.
 */
START_TEST(tls_without_labels)
{
	uint8_t hello[300];
	size_t n = tls_hello(hello, "pool.example.net");
	harness h;

	h_init(&h);
	h.fv.ndpi_proto = NULL;
	h.fv.data[0] = hello;
	h.fv.len[0] = (uint32_t)n;
	h.fv.bytes[0] = n;
	miner(&h, 40ull * 60 * 1000000);
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert_int_eq(mt_detect_behaviour.wants_labels(NULL, h.state, &h.fv), 0);
	ck_assert_str_eq(h.ev.pool_host, "pool.example.net");
	mt_detect_behaviour.flow_free(NULL, h.state);
	free(h.state);

	/* every cut of the hello: no name read from a part, no read past it */
	for (size_t k = 1; k < n; k++) {
		uint8_t *cut = malloc(k);

		ck_assert_ptr_nonnull(cut);
		memcpy(cut, hello, k);
		h_init(&h);
		h.fv.ndpi_proto = NULL;
		h.fv.data[0] = cut;
		h.fv.len[0] = (uint32_t)k;
		h.fv.bytes[0] = k;
		h.fv.fin[0] = 1; /* nothing more will come */
		pkt(&h, 0, 1, (uint32_t)k);
		ck_assert_int_eq(h.ans, MT_UNDECIDED);
		ck_assert_int_eq(mt_detect_behaviour.wants_labels(NULL, h.state, &h.fv), k < 5);
		mt_detect_behaviour.flow_free(NULL, h.state);
		free(h.state);
		free(cut);
	}

	h_init(&h);
	h.fv.ndpi_proto = NULL;
	h.fv.data[0] = (const uint8_t *)"\x01\x02\x03\x04\x05\x06";
	h.fv.len[0] = 6;
	h.fv.bytes[0] = 6;
	pkt(&h, 0, 1, 6);
	ck_assert_int_eq(mt_detect_behaviour.wants_labels(NULL, h.state, &h.fv), 1);
	free(h.state);
}
END_TEST

static Suite *beh_suite(void)
{
	Suite *s = suite_create("detect_behaviour");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, share_like_detected_after_min_time);
	tcase_add_test(tc, share_like_too_short);
	tcase_add_test(tc, known_protocol_excluded);
	tcase_add_test(tc, bulk_excluded_early);
	tcase_add_test(tc, chat_like_not);
	tcase_add_test(tc, idle_keepalive_not);
	tcase_add_test(tc, first_bytes_other_protocols);
	tcase_add_test(tc, first_bytes_truncated);
	tcase_add_test(tc, first_bytes_without_stream);
	tcase_add_test(tc, tls_without_labels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(beh_suite());
	int nf;
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
