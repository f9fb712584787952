/* test_flow_community_id.c - Community ID v1 against the spec's baseline vectors (corelight/community-id-spec). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

/*
 * Rows of baseline/baseline_deflt.json (seed 0) and baseline/baseline_seed1.json
 * (seed 1) of corelight/community-id-spec at commit b1fe530f, copied as
 * literals: TCP (6), UDP (17), SCTP (132), and the port-less RSVP (46).
 */
static const struct cid_vec {
	uint16_t seed;
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport;
	const char *cid;
} spec_vectors[] = {
	{ 0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 0, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 0, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 0, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ 0, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ 1, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 1, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 1, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 1, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 1, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 1, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 1, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 1, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 1, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
	{ 1, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
};

/*
 * Not from the spec's files: computed with a separate Python version of the
 * algorithm (hashlib), for paths the baseline does not reach: equal addresses
 * ordered by port, the loopback IPv6 address, the largest seed, and the same
 * tuple as the spec's UDP row but as TCP (the protocol is hashed).
 */
static const struct cid_vec extra_vectors[] = {
	{ 0, 6, "10.0.0.1", "10.0.0.1", 5000, 80, "1:LD76GfTIBU2lu/ZefEgEGuuBPew=" },
	{ 0, 6, "10.0.0.1", "10.0.0.1", 80, 5000, "1:LD76GfTIBU2lu/ZefEgEGuuBPew=" },
	{ 0, 17, "::1", "::1", 3333, 40000, "1:sb+4CyvhCt/kr+EwZMNVYjK3IaI=" },
	{ 0, 6, "192.168.1.52", "8.8.8.8", 54585, 53, "1:rZALqeri5Ym4zh0jEPq2V2QvfrU=" },
	{ 65535, 6, "1.2.3.4", "5.6.7.8", 1, 65535, "1:AzSUL4JLlpolsrNiXON5yCj6z5w=" },
};

/* Parses an address literal of the table into 16 bytes; returns its ipver. */
static uint8_t parse_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	ck_assert_int_eq(inet_pton(AF_INET6, s, out), 1);
	return 6;
}

static void check_vectors(const struct cid_vec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t s[16], d[16];
		uint8_t ver = parse_addr(v[i].saddr, s);
		char out[64];

		ck_assert_int_eq(parse_addr(v[i].daddr, d), ver);
		memset(out, 'X', sizeof out);
		ck_assert_int_eq(mt_community_id(ver, v[i].proto, s, d, v[i].sport, v[i].dport,
						 v[i].seed, out, sizeof out), 0);
		ck_assert_msg(strcmp(out, v[i].cid) == 0, "row %zu: got %s want %s", i, out, v[i].cid);
		ck_assert_uint_eq(strlen(out), 30);
	}
}

START_TEST(test_spec_baseline)
{
	check_vectors(spec_vectors, sizeof spec_vectors / sizeof spec_vectors[0]);
}
END_TEST

START_TEST(test_extra_vectors)
{
	check_vectors(extra_vectors, sizeof extra_vectors / sizeof extra_vectors[0]);
}
END_TEST

/* Both directions of any tuple give one ID; different tuples give different IDs. */
START_TEST(test_symmetric)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	char x[32], y[32], prev[32] = "";
	uint32_t r = 12345;

	for (int i = 0; i < 2000; i++) {
		uint8_t ver = (i & 1) ? 6 : 4;
		uint16_t sp, dp;

		for (int k = 0; k < (ver == 4 ? 4 : 16); k++) {
			r = r * 1103515245u + 12345u;
			a[k] = (uint8_t)(r >> 16);
			b[k] = (i % 7 == 0) ? a[k] : (uint8_t)(r >> 24); /* some equal addresses */
		}
		r = r * 1103515245u + 12345u;
		sp = (uint16_t)(r >> 8);
		dp = (uint16_t)(r >> 16);
		ck_assert_int_eq(mt_community_id(ver, (i & 2) ? 6 : 17, a, b, sp, dp, 0, x, sizeof x), 0);
		ck_assert_int_eq(mt_community_id(ver, (i & 2) ? 6 : 17, b, a, dp, sp, 0, y, sizeof y), 0);
		ck_assert_str_eq(x, y);
		ck_assert_str_ne(x, prev);
		memcpy(prev, x, sizeof prev);
	}
}
END_TEST

START_TEST(test_invalid)
{
	uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
	char out[64];

	/* 31 bytes needed: 30 characters and the NUL */
	for (size_t len = 0; len < 31; len++) {
		memset(out, 'X', sizeof out);
		ck_assert_int_eq(mt_community_id(4, 6, a, b, 1, 2, 0, out, len), -EINVAL);
		ck_assert_int_eq(out[30], 'X');
	}
	ck_assert_int_eq(mt_community_id(4, 6, a, b, 1, 2, 0, out, 31), 0);
	ck_assert_uint_eq(strlen(out), 30);
	ck_assert_int_eq(mt_community_id(5, 6, a, b, 1, 2, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(mt_community_id(0, 6, a, b, 1, 2, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(mt_community_id(4, 6, NULL, b, 1, 2, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(mt_community_id(4, 6, a, NULL, 1, 2, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(mt_community_id(4, 6, a, b, 1, 2, 0, NULL, 64), -EINVAL);
	/* ICMP needs the spec's type/code mapping, which this interface cannot express */
	ck_assert_int_eq(mt_community_id(4, 1, a, b, 8, 0, 0, out, sizeof out), -EINVAL);
	ck_assert_int_eq(mt_community_id(6, 58, a, b, 128, 0, 0, out, sizeof out), -EINVAL);
}
END_TEST

static Suite *community_id_suite(void)
{
	Suite *s = suite_create("flow_community_id");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_spec_baseline);
	tcase_add_test(tc, test_extra_vectors);
	tcase_add_test(tc, test_symmetric);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(community_id_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
