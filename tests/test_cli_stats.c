/* test_cli_stats.c - the statistics object: sums over workers, engine counters, valid JSON. */
#include "cli/stats.h"
#include "detect/detect.h"
#include "engine/engine.h"
#include "mt_test.h"
#include "util/json.h"

/* The value of key in the JSON object text as an unsigned number (fails the test if absent). */
static uint64_t get_u64(const mt_jw *jw, const char *key)
{
	mt_json_tok toks[128];
	uint64_t v = 0;
	int n = mt_json_parse((const uint8_t *)jw->buf, jw->len, toks, 128, 4), i;

	ck_assert_int_gt(n, 0);
	i = mt_json_get((const uint8_t *)jw->buf, toks, n, 0, key);
	ck_assert_msg(i > 0, "key %s missing", key);
	ck_assert_int_eq(mt_json_u64((const uint8_t *)jw->buf, &toks[i], &v), 0);
	return v;
}

START_TEST(test_sum_and_json)
{
	mt_stats a, b;
	mt_jw jw;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.workers = 1;
	a.packets = 10;
	a.kernel_drops = 3;
	a.uptime_s = 2.5;
	b.workers = 1;
	b.packets = (uint64_t)1 << 40; /* past 32 bits: the kernel's counters wrap, ours do not */
	b.kernel_drops = 4;
	b.kernel_freezes = 1;
	b.truncated = 7; /* the last field: the sum covers every counter */
	b.uptime_s = 1.0;
	mt_stats_sum(&a, &b);
	ck_assert_uint_eq(a.workers, 2);
	ck_assert_uint_eq(a.packets, ((uint64_t)1 << 40) + 10);
	ck_assert_uint_eq(a.kernel_drops, 7);
	ck_assert_uint_eq(a.truncated, 7);
	ck_assert(a.uptime_s == 2.5); /* the longest, not a sum */
	mt_jw_init(&jw);
	mt_stats_json(&a, &jw);
	ck_assert_int_eq(jw.err, 0);
	ck_assert_uint_eq(get_u64(&jw, "packets"), ((uint64_t)1 << 40) + 10);
	ck_assert_uint_eq(get_u64(&jw, "kernel_drops"), 7);
	ck_assert_uint_eq(get_u64(&jw, "kernel_freezes"), 1);
	ck_assert_uint_eq(get_u64(&jw, "workers"), 2);
	ck_assert_uint_eq(get_u64(&jw, "sink_queue"), 0);
	mt_jw_free(&jw);
}
END_TEST

START_TEST(test_engine_counters)
{
	/* Ethernet + IPv4 + UDP, 4 bytes of payload. */
	static const uint8_t frame[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0, 'a', 'b', 'c', 'd'};
	mt_engine_cfg cfg;
	mt_detect_reg reg;
	mt_engine *e;
	mt_stats s;
	mt_jw jw;

	mt_engine_cfg_default(&cfg);
	cfg.ndpi = 0;
	ck_assert_int_eq(mt_detect_reg_init(&reg, 1, NULL, NULL), 0);
	e = mt_engine_new(&cfg, &reg);
	ck_assert_ptr_nonnull(e);
	mt_engine_frame(e, 1, 1000000, frame, sizeof(frame), sizeof(frame));
	mt_engine_frame(e, 1, 1000001, frame, 20, sizeof(frame)); /* cut inside IPv4: a decode error */
	memset(&s, 0, sizeof(s));
	mt_stats_add_engine(&s, e);
	ck_assert_uint_eq(s.packets, 2);
	ck_assert_uint_eq(s.bytes, 2 * sizeof(frame));
	ck_assert_uint_eq(s.decoded, 1);
	ck_assert_uint_eq(s.decode_errors, 1);
	ck_assert_uint_eq(s.flows, 1);
	ck_assert_uint_eq(s.flows_active, 1);
	mt_engine_flush(e);
	memset(&s, 0, sizeof(s));
	mt_stats_add_engine(&s, e);
	ck_assert_uint_eq(s.flows_active, 0);
	mt_jw_init(&jw);
	mt_stats_json(&s, &jw);
	ck_assert_uint_eq(get_u64(&jw, "flows"), 1);
	mt_jw_free(&jw);
	mt_engine_free(e);
	mt_detect_reg_fini(&reg);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_stats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sum_and_json);
	tcase_add_test(tc, test_engine_counters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
