/* test_detect_behaviour.c - the behaviour detector fed synthetic packet sequences: share-like (detected only after the minimum time), bulk, chat-like, idle keep-alive, known other protocols. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"

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
