/* test_util_sha1.c - SHA-1 against the FIPS 180 example vectors, and base64 against RFC 4648 section 10. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha1.h"

static void to_hex(const uint8_t d[20], char out[41])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < 20; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[40] = '\0';
}

static void sha1_hex(const void *data, size_t len, char out[41])
{
	mt_sha1 c;
	uint8_t d[20];

	mt_sha1_init(&c);
	mt_sha1_update(&c, data, len);
	mt_sha1_final(&c, d);
	to_hex(d, out);
}

/* FIPS 180-2 appendix A and the NIST "SHA1.pdf" example values. */
static const struct {
	const char *msg;
	const char *hex;
} fips[] = {
	{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	/* 448 bits: two blocks, the padding does not fit in the first */
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	/* 896 bits */
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "a49b2446a02c645bf419f995b67091253a04a259" },
};

START_TEST(test_fips_vectors)
{
	char hex[41];

	for (size_t i = 0; i < sizeof fips / sizeof fips[0]; i++) {
		sha1_hex(fips[i].msg, strlen(fips[i].msg), hex);
		ck_assert_str_eq(hex, fips[i].hex);
	}
}
END_TEST

START_TEST(test_million_a)
{
	mt_sha1 c;
	uint8_t d[20], chunk[1000];
	char hex[41];

	memset(chunk, 'a', sizeof chunk);
	mt_sha1_init(&c);
	for (int i = 0; i < 1000; i++)
		mt_sha1_update(&c, chunk, sizeof chunk);
	mt_sha1_final(&c, d);
	to_hex(d, hex);
	ck_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

/* The same million 'a' fed in odd-sized pieces that straddle block boundaries. */
START_TEST(test_odd_pieces)
{
	static const size_t sizes[] = { 1, 3, 7, 13, 55, 56, 57, 63, 64, 65, 127, 129, 0, 200, 1021 };
	mt_sha1 c;
	uint8_t d[20], *buf = malloc(1000000);
	char hex[41];
	size_t off = 0, k = 0;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'a', 1000000);
	mt_sha1_init(&c);
	while (off < 1000000) {
		size_t n = sizes[k++ % (sizeof sizes / sizeof sizes[0])];

		if (n > 1000000 - off)
			n = 1000000 - off;
		mt_sha1_update(&c, buf + off, n);
		off += n;
	}
	mt_sha1_final(&c, d);
	to_hex(d, hex);
	ck_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(buf);
}
END_TEST

/*
 * Every length 0..299 of a byte pattern (covers the padding edges at 55, 56,
 * 63, 64 and their multiples): the digests, concatenated, hashed once more.
 * The expected value was computed with Python's hashlib:
 *   pat = bytes((i * 7 + 3) & 0xff for i in range(300))
 *   sha1(b"".join(sha1(pat[:n]).digest() for n in range(300)))
 * Each prefix is also hashed byte by byte and must give the same digest.
 */
START_TEST(test_all_lengths)
{
	uint8_t pat[300], d[20], d2[20], outer_d[20];
	mt_sha1 outer, c;
	char hex[41];

	for (int i = 0; i < 300; i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	mt_sha1_init(&outer);
	for (size_t n = 0; n < 300; n++) {
		mt_sha1_init(&c);
		mt_sha1_update(&c, pat, n);
		mt_sha1_final(&c, d);
		mt_sha1_init(&c);
		for (size_t i = 0; i < n; i++)
			mt_sha1_update(&c, pat + i, 1);
		mt_sha1_final(&c, d2);
		ck_assert_mem_eq(d, d2, 20);
		mt_sha1_update(&outer, d, 20);
	}
	mt_sha1_final(&outer, outer_d);
	to_hex(outer_d, hex);
	ck_assert_str_eq(hex, "ca9349a03c700fe25e6c2cde997aa96ac2227d8a");
}
END_TEST

/* The one-block form (Community ID) against the streaming one at every length it takes. */
START_TEST(test_short)
{
	uint8_t msg[64], d[20], d2[20];
	mt_sha1 c;
	uint64_t x = 0x243f6a8885a308d3ull;

	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 64; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			msg[i] = (uint8_t)(x >> 56);
		}
		for (size_t n = 0; n <= MT_SHA1_SHORT_MAX; n++) {
			ck_assert_int_eq(mt_sha1_short(msg, n, d), 0);
			mt_sha1_init(&c);
			mt_sha1_update(&c, msg, n);
			mt_sha1_final(&c, d2);
			ck_assert_mem_eq(d, d2, 20);
		}
		ck_assert_int_eq(mt_sha1_short(msg, MT_SHA1_SHORT_MAX + 1, d), -1);
	}
	/* and a FIPS vector that fits one block */
	{
		char hex[41];

		ck_assert_int_eq(mt_sha1_short("abc", 3, d), 0);
		to_hex(d, hex);
		ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	}
}
END_TEST

/* RFC 4648 section 10. */
START_TEST(test_base64_rfc4648)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },
		{ "foo", "Zm9v" },    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char out[16];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int n = mt_base64((const uint8_t *)v[i].in, strlen(v[i].in), out, sizeof out);

		ck_assert_int_eq(n, (int)strlen(v[i].out));
		ck_assert_str_eq(out, v[i].out);
	}
}
END_TEST

/* The last two alphabet characters are '+' and '/' (standard, not URL-safe, alphabet). */
START_TEST(test_base64_alphabet_ends)
{
	static const uint8_t in[] = { 0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00 };
	char out[16];

	ck_assert_int_eq(mt_base64(in, sizeof in, out, sizeof out), 12);
	ck_assert_str_eq(out, "++++////AAAA");
}
END_TEST

/* outlen must hold the text and its NUL; one byte less is refused, nothing is overrun. */
START_TEST(test_base64_outlen)
{
	static const uint8_t in[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	char out[40];

	for (size_t len = 0; len <= sizeof in; len++) {
		size_t need = (len + 2) / 3 * 4;

		for (size_t ol = 0; ol < need + 1; ol++) {
			memset(out, 'X', sizeof out);
			ck_assert_int_eq(mt_base64(in, len, out, ol), -1);
			ck_assert_int_eq(out[0], 'X');
		}
		memset(out, 'X', sizeof out);
		ck_assert_int_eq(mt_base64(in, len, out, need + 1), (int)need);
		ck_assert_int_eq(out[need], '\0');
		ck_assert_int_eq(out[need + 1], 'X');
	}
	ck_assert_int_eq(mt_base64(in, 3, NULL, 100), -1);
	ck_assert_int_eq(mt_base64(NULL, 3, out, sizeof out), -1);
	ck_assert_int_eq(mt_base64(NULL, 0, out, sizeof out), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/*
 * All lengths 0..299 of the same pattern, the encodings concatenated and
 * hashed (Python: sha1(b"".join(b64encode(pat[:n]) for n in range(300)))).
 */
START_TEST(test_base64_all_lengths)
{
	uint8_t pat[300], d[20];
	char out[404], hex[41];
	mt_sha1 c;

	for (int i = 0; i < 300; i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	mt_sha1_init(&c);
	for (size_t n = 0; n < 300; n++) {
		int k = mt_base64(pat, n, out, sizeof out);

		ck_assert_int_eq(k, (int)((n + 2) / 3 * 4));
		ck_assert_uint_eq(strlen(out), (size_t)k);
		mt_sha1_update(&c, out, (size_t)k);
	}
	mt_sha1_final(&c, d);
	to_hex(d, hex);
	ck_assert_str_eq(hex, "eabdbe99c3d6b51b92bb8bca643f6ffc7f17f0a5");
}
END_TEST

static Suite *sha1_suite(void)
{
	Suite *s = suite_create("util_sha1");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fips_vectors);
	tcase_add_test(tc, test_million_a);
	tcase_add_test(tc, test_odd_pieces);
	tcase_add_test(tc, test_all_lengths);
	tcase_add_test(tc, test_short);
	tcase_add_test(tc, test_base64_rfc4648);
	tcase_add_test(tc, test_base64_alphabet_ends);
	tcase_add_test(tc, test_base64_outlen);
	tcase_add_test(tc, test_base64_all_lengths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sha1_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
