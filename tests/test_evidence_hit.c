/* test_evidence_hit.c - the hit record: required fields, direction, Community ID, escaping. */
#include <arpa/inet.h>
#include <time.h>

#include "evidence/hit.h"
#include "mt_test.h"

static void flow4(mt_flow *f, int cli_is_lo)
{
	memset(f, 0, sizeof(*f));
	f->key.ipver = 4;
	f->key.l4proto = 6;
	/* 66.35.250.204:80 and 128.232.110.120:34855 (a Community ID spec row) */
	f->key.lo[0] = 66, f->key.lo[1] = 35, f->key.lo[2] = 250, f->key.lo[3] = 204;
	f->key.hi[0] = 128, f->key.hi[1] = 232, f->key.hi[2] = 110, f->key.hi[3] = 120;
	f->key.lo_port = 80;
	f->key.hi_port = 34855;
	f->cli_is_lo = (uint8_t)cli_is_lo;
	f->dir_certain = 1;
	f->first_us = 1700000000000001ull;
	f->pkts[0] = 3, f->pkts[1] = 4;
	f->bytes[0] = 100, f->bytes[1] = 2000;
}

START_TEST(test_time)
{
	char b[40];

	mt_hit_time(0, b, sizeof(b));
	ck_assert_str_eq(b, "1970-01-01T00:00:00.000000Z");
	mt_hit_time(1700000000123456ull, b, sizeof(b));
	ck_assert_str_eq(b, "2023-11-14T22:13:20.123456Z");
	/* The date part is kept between calls: same second, next second, back again. */
	mt_hit_time(1700000000000007ull, b, sizeof(b));
	ck_assert_str_eq(b, "2023-11-14T22:13:20.000007Z");
	mt_hit_time(1700000001999999ull, b, sizeof(b));
	ck_assert_str_eq(b, "2023-11-14T22:13:21.999999Z");
	mt_hit_time(1700000000000000ull, b, sizeof(b));
	ck_assert_str_eq(b, "2023-11-14T22:13:20.000000Z");
	/* Cut to the buffer, as snprintf did. */
	mt_hit_time(1700000000123456ull, b, 10);
	ck_assert_str_eq(b, "2023-11-1");
	mt_hit_time(1700000000123456ull, b, 23);
	ck_assert_str_eq(b, "2023-11-14T22:13:20.12");
}
END_TEST

/*
 * The date of a second is kept in two slots: records alternate between their
 * own time and the flow's start. Cycling through three and more seconds, in
 * both orders and with repeats, must never give a stale date (each text
 * checked against gmtime_r + strftime).
 */
START_TEST(test_time_cache)
{
	static const uint64_t secs[] = {1700000000, 1700000001, 1700000060, 1700003600,
					1700086400, 0, 4102444800ull, 1700000000};
	char b[40], want[64], date[32];
	uint32_t x = 12345;

	for (int i = 0; i < 5000; i++) {
		uint64_t s = secs[(i % 3 == 2) ? (i / 3) % 8 : (i * 7 + i / 5) % 8];
		uint64_t us;
		time_t t;
		struct tm tm;

		x = x * 1103515245u + 12345u;
		us = x % 1000000u;
		if (i % 11 == 0)
			s = secs[i % 8] + (x >> 8) % 5; /* neighbours of the kept seconds */
		t = (time_t)s;
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want, sizeof(want), "%s.%06uZ", date, (unsigned)us);
		mt_hit_time(s * 1000000u + us, b, sizeof(b));
		ck_assert_str_eq(b, want);
	}
}
END_TEST

/* IPv4 text is written by hand: the same as inet_ntop's for every octet value, in every position. */
START_TEST(test_addr_v4)
{
	char got[64], want[64];
	uint8_t a[16] = {0};

	for (unsigned v = 0; v < 256; v++) {
		for (int pos = 0; pos < 4; pos++) {
			for (int i = 0; i < 4; i++)
				a[i] = (uint8_t)(i == pos ? v : (v * 7 + (unsigned)i * 50) & 0xff);
			mt_hit_addr(4, a, got, sizeof(got));
			ck_assert_ptr_nonnull(inet_ntop(AF_INET, a, want, sizeof(want)));
			ck_assert_str_eq(got, want);
		}
	}
	/* Too small a buffer for the longest address: inet_ntop's answer ("?"), nothing past it. */
	memset(got, 'x', sizeof(got));
	a[0] = a[1] = a[2] = a[3] = 255;
	mt_hit_addr(4, a, got, 15);
	ck_assert_str_eq(got, "?");
	ck_assert_int_eq(got[15], 'x');
}
END_TEST

START_TEST(test_record)
{
	mt_flow f;
	mt_evidence ev;
	mt_hit h;
	mt_jw w;

	flow4(&f, 0);
	memset(&ev, 0, sizeof(ev));
	ev.event = MT_EVENT_MINING;
	MT_EV_SET(&ev, protocol, "stratum", 7);
	MT_EV_SET(&ev, evidence, "rule \"x\"\n", 9);
	MT_EV_SET(&ev, worker, "rig\xff", 4);
	ev.confidence = 0.9;
	ev.shares = 3;
	ev.difficulty = 65536;
	ev.has_difficulty = 1;
	memset(&h, 0, sizeof(h));
	h.flow = &f;
	h.ev = &ev;
	h.ts_us = 1700000000500000ull;
	h.status = MT_HIT_NEW;
	h.seq = 1;
	h.app_proto = "HTTP";
	mt_jw_init(&w);
	ck_assert_int_eq(mt_hit_json(&w, &h), 0);
	ck_assert_msg(strstr(w.buf, "\"timestamp\":\"2023-11-14T22:13:20.500000Z\",\"event_type\":\"mining\","
				     "\"src_ip\":\"128.232.110.120\",\"src_port\":34855,"
				     "\"dest_ip\":\"66.35.250.204\",\"dest_port\":80,\"proto\":\"TCP\","
				     "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\"") == w.buf + 1,
		      "%s", w.buf);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"mining\":{\"protocol\":\"stratum\",\"confidence\":0.9,"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"evidence\":\"rule \\\"x\\\"?\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"worker\":\"rig\xef\xbf\xbd\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"difficulty\":65536,"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"shares\":3"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"app_proto\":\"HTTP\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"hit\":{\"status\":\"new\",\"seq\":1}}"));
	ck_assert_ptr_null(strchr(w.buf, '\n'));
	/* The same flow with the client on the other side. */
	flow4(&f, 1);
	mt_jw_reset(&w);
	mt_hit_json(&w, &h);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"src_ip\":\"66.35.250.204\",\"src_port\":80,"));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"bytes_toserver\":100,"));
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_p2p_and_v6)
{
	mt_flow f;
	mt_evidence ev;
	mt_hit h;
	mt_jw w;

	memset(&f, 0, sizeof(f));
	f.key.ipver = 6;
	f.key.l4proto = 17;
	f.key.lo[0] = 0x20, f.key.lo[1] = 0x01, f.key.lo[2] = 0x0d, f.key.lo[3] = 0xb8, f.key.lo[15] = 1;
	f.key.hi[0] = 0x20, f.key.hi[1] = 0x01, f.key.hi[2] = 0x0d, f.key.hi[3] = 0xb8, f.key.hi[15] = 2;
	f.key.lo_port = 30303;
	f.key.hi_port = 30303;
	f.key.vlan = 42;
	f.cli_is_lo = 1;
	memset(&ev, 0, sizeof(ev));
	ev.event = MT_EVENT_CRYPTO_P2P;
	MT_EV_SET(&ev, protocol, "ethereum-discv4", 15);
	memset(&h, 0, sizeof(h));
	h.flow = &f;
	h.ev = &ev;
	h.status = MT_HIT_END;
	h.seq = 2;
	mt_jw_init(&w);
	mt_hit_json(&w, &h);
	ck_assert_ptr_nonnull(strstr(w.buf, "\"event_type\":\"crypto_p2p\",\"src_ip\":\"2001:db8::1\",\"src_port\":30303,"
					    "\"dest_ip\":\"2001:db8::2\",\"dest_port\":30303,\"proto\":\"UDP\",\"vlan\":[42],"));
	ck_assert_ptr_null(strstr(w.buf, "\"shares\""));
	ck_assert_ptr_nonnull(strstr(w.buf, "\"status\":\"end\",\"seq\":2"));
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_ev_set)
{
	mt_evidence ev;
	char big[600];

	memset(&ev, 0, sizeof(ev));
	MT_EV_SET(&ev, worker, "a", 1);
	ck_assert_uint_eq(ev.version, 1);
	MT_EV_SET(&ev, worker, "a", 1);
	ck_assert_uint_eq(ev.version, 1); /* unchanged: no bump */
	MT_EV_SET(&ev, worker, "ab", 2);
	ck_assert_uint_eq(ev.version, 2);
	MT_EV_SET(&ev, worker, "a", 1);
	ck_assert_uint_eq(ev.version, 3);
	ck_assert_str_eq(ev.worker, "a");
	/* Cut to fit, never inside a UTF-8 sequence. */
	memset(big, 'x', sizeof(big));
	big[MT_EV_WORKER_LEN - 2] = (char)0xe7;
	big[MT_EV_WORKER_LEN - 1] = (char)0x9f;
	big[MT_EV_WORKER_LEN] = (char)0xbf;
	MT_EV_SET(&ev, worker, big, sizeof(big));
	ck_assert_uint_eq(strlen(ev.worker), MT_EV_WORKER_LEN - 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("evidence_hit");
	TCase *tc = tcase_create("hit");

	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_time_cache);
	tcase_add_test(tc, test_record);
	tcase_add_test(tc, test_addr_v4);
	tcase_add_test(tc, test_p2p_and_v6);
	tcase_add_test(tc, test_ev_set);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
