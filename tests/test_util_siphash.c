/* test_util_siphash.c - SipHash-2-4 and SipHash-1-3 against their published reference vectors. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/siphash.h"

/*
 * SipHash-2-4 with key 00 01 .. 0f of the message 00 01 .. (n-1), n = 0..63,
 * as 64-bit integers (the reference vectors.h lists the same values as
 * little-endian bytes). n = 15 is the worked example of the paper's appendix.
 */
static const uint64_t ref_vectors[64] = {
	0x726fdb47dd0e0e31ull, /*  0 */
	0x74f839c593dc67fdull, /*  1 */
	0x0d6c8009d9a94f5aull, /*  2 */
	0x85676696d7fb7e2dull, /*  3 */
	0xcf2794e0277187b7ull, /*  4 */
	0x18765564cd99a68dull, /*  5 */
	0xcbc9466e58fee3ceull, /*  6 */
	0xab0200f58b01d137ull, /*  7 */
	0x93f5f5799a932462ull, /*  8 */
	0x9e0082df0ba9e4b0ull, /*  9 */
	0x7a5dbbc594ddb9f3ull, /* 10 */
	0xf4b32f46226bada7ull, /* 11 */
	0x751e8fbc860ee5fbull, /* 12 */
	0x14ea5627c0843d90ull, /* 13 */
	0xf723ca908e7af2eeull, /* 14 */
	0xa129ca6149be45e5ull, /* 15 */
	0x3f2acc7f57c29bdbull, /* 16 */
	0x699ae9f52cbe4794ull, /* 17 */
	0x4bc1b3f0968dd39cull, /* 18 */
	0xbb6dc91da77961bdull, /* 19 */
	0xbed65cf21aa2ee98ull, /* 20 */
	0xd0f2cbb02e3b67c7ull, /* 21 */
	0x93536795e3a33e88ull, /* 22 */
	0xa80c038ccd5ccec8ull, /* 23 */
	0xb8ad50c6f649af94ull, /* 24 */
	0xbce192de8a85b8eaull, /* 25 */
	0x17d835b85bbb15f3ull, /* 26 */
	0x2f2e6163076bcfadull, /* 27 */
	0xde4daaaca71dc9a5ull, /* 28 */
	0xa6a2506687956571ull, /* 29 */
	0xad87a3535c49ef28ull, /* 30 */
	0x32d892fad841c342ull, /* 31 */
	0x7127512f72f27cceull, /* 32 */
	0xa7f32346f95978e3ull, /* 33 */
	0x12e0b01abb051238ull, /* 34 */
	0x15e034d40fa197aeull, /* 35 */
	0x314dffbe0815a3b4ull, /* 36 */
	0x027990f029623981ull, /* 37 */
	0xcadcd4e59ef40c4dull, /* 38 */
	0x9abfd8766a33735cull, /* 39 */
	0x0e3ea96b5304a7d0ull, /* 40 */
	0xad0c42d6fc585992ull, /* 41 */
	0x187306c89bc215a9ull, /* 42 */
	0xd4a60abcf3792b95ull, /* 43 */
	0xf935451de4f21df2ull, /* 44 */
	0xa9538f0419755787ull, /* 45 */
	0xdb9acddff56ca510ull, /* 46 */
	0xd06c98cd5c0975ebull, /* 47 */
	0xe612a3cb9ecba951ull, /* 48 */
	0xc766e62cfcadaf96ull, /* 49 */
	0xee64435a9752fe72ull, /* 50 */
	0xa192d576b245165aull, /* 51 */
	0x0a8787bf8ecb74b2ull, /* 52 */
	0x81b3e73d20b49b6full, /* 53 */
	0x7fa8220ba3b2eceaull, /* 54 */
	0x245731c13ca42499ull, /* 55 */
	0xb78dbfaf3a8d83bdull, /* 56 */
	0xea1ad565322a1a0bull, /* 57 */
	0x60e61c23a3795013ull, /* 58 */
	0x6606d7e446282b93ull, /* 59 */
	0x6ca4ecb15c5f91e1ull, /* 60 */
	0x9f626da15c9625f3ull, /* 61 */
	0xe51b38608ef25f57ull, /* 62 */
	0x958a324ceb064572ull, /* 63 */
};

/*
 * SipHash-1-3, same key and messages: the vectors published with the common
 * implementations of the variant (Rust's siphasher crate and its ports).
 */
static const uint64_t ref13_vectors[64] = {
	0xabac0158050fc4dcull, /*  0 */
	0xc9f49bf37d57ca93ull, /*  1 */
	0x82cb9b024dc7d44dull, /*  2 */
	0x8bf80ab8e7ddf7fbull, /*  3 */
	0xcf75576088d38328ull, /*  4 */
	0xdef9d52f49533b67ull, /*  5 */
	0xc50d2b50c59f22a7ull, /*  6 */
	0xd3927d989bb11140ull, /*  7 */
	0x369095118d299a8eull, /*  8 */
	0x25a48eb36c063de4ull, /*  9 */
	0x79de85ee92ff097full, /* 10 */
	0x70c118c1f94dc352ull, /* 11 */
	0x78a384b157b4d9a2ull, /* 12 */
	0x306f760c1229ffa7ull, /* 13 */
	0x605aa111c0f95d34ull, /* 14 */
	0xd320d86d2a519956ull, /* 15 */
	0xcc4fdd1a7d908b66ull, /* 16 */
	0x9cf2689063dbd80cull, /* 17 */
	0x8ffc389cb473e63eull, /* 18 */
	0xf21f9de58d297d1cull, /* 19 */
	0xc0dc2f46a6cce040ull, /* 20 */
	0xb992abfe2b45f844ull, /* 21 */
	0x7ffe7b9ba320872eull, /* 22 */
	0x525a0e7fdae6c123ull, /* 23 */
	0xf464aeb267349c8cull, /* 24 */
	0x45cd5928705b0979ull, /* 25 */
	0x3a3e35e3ca9913a5ull, /* 26 */
	0xa91dc74e4ade3b35ull, /* 27 */
	0xfb0bed02ef6cd00dull, /* 28 */
	0x88d93cb44ab1e1f4ull, /* 29 */
	0x540f11d643c5e663ull, /* 30 */
	0x2370dd1f8c21d1bcull, /* 31 */
	0x81157b6c16a7b60dull, /* 32 */
	0x4d54b9e57a8ff9bfull, /* 33 */
	0x759f12781f2a753eull, /* 34 */
	0xcea1a3bebf186b91ull, /* 35 */
	0x2cf508d3ada26206ull, /* 36 */
	0xb6101c2da3c33057ull, /* 37 */
	0xb3f47496ae3a36a1ull, /* 38 */
	0x626b57547b108392ull, /* 39 */
	0xc1d2363299e41531ull, /* 40 */
	0x667cc1923f1ad944ull, /* 41 */
	0x65704ffec8138825ull, /* 42 */
	0x24f280d1c28949a6ull, /* 43 */
	0xc2ca1cedfaf8876bull, /* 44 */
	0xc2164bfc9f042196ull, /* 45 */
	0xa16e9c9368b1d623ull, /* 46 */
	0x49fb169c8b5114fdull, /* 47 */
	0x9f3143f8df074c46ull, /* 48 */
	0xc6fdaf2412cc86b3ull, /* 49 */
	0x7eaf49d10a52098full, /* 50 */
	0x1cf313559d292f9aull, /* 51 */
	0xc44a30dda2f41f12ull, /* 52 */
	0x36fae98943a71ed0ull, /* 53 */
	0x318fb34c73f0bce6ull, /* 54 */
	0xa27abf3670a7e980ull, /* 55 */
	0xb4bcc0db243c6d75ull, /* 56 */
	0x23f8d852fdb71513ull, /* 57 */
	0x8f035f4da67d8a08ull, /* 58 */
	0xd89cd0e5b7e8f148ull, /* 59 */
	0xf6f4e6bcf7a644eeull, /* 60 */
	0xaec59ad80f1837f2ull, /* 61 */
	0xc3b2f6154b6694e0ull, /* 62 */
	0x9d199062b7bbb3a8ull, /* 63 */
};

static void ref_key(uint8_t key[16])
{
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
}

START_TEST(test_paper_example)
{
	uint8_t key[16], msg[15];

	ref_key(key);
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(mt_siphash24(key, msg, sizeof msg), 0xa129ca6149be45e5ull);
}
END_TEST

START_TEST(test_reference_vectors)
{
	uint8_t key[16], msg[64];

	ref_key(key);
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t n = 0; n < 64; n++) {
		uint64_t h = mt_siphash24(key, msg, n);

		ck_assert_msg(h == ref_vectors[n], "n=%zu: got %016llx want %016llx", n,
			      (unsigned long long)h, (unsigned long long)ref_vectors[n]);
	}
}
END_TEST

/* The input may start at any address: words are assembled byte by byte. */
START_TEST(test_unaligned)
{
	uint8_t key[16], *buf = malloc(64 + 8);

	ck_assert_ptr_nonnull(buf);
	ref_key(key);
	for (size_t off = 0; off < 8; off++) {
		for (int i = 0; i < 64; i++)
			buf[off + (size_t)i] = (uint8_t)i;
		for (size_t n = 0; n < 64; n++)
			ck_assert_uint_eq(mt_siphash24(key, buf + off, n), ref_vectors[n]);
	}
	free(buf);
}
END_TEST

/* The key matters: flipping any key bit changes the hash (that is the point of a keyed hash). */
START_TEST(test_key_sensitivity)
{
	uint8_t key[16], msg[40];

	memset(msg, 0x5a, sizeof msg);
	for (int bit = 0; bit < 128; bit++) {
		ref_key(key);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_uint_ne(mt_siphash24(key, msg, sizeof msg), 0ull);
		ref_key(key);
		uint64_t base = mt_siphash24(key, msg, sizeof msg);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_uint_ne(mt_siphash24(key, msg, sizeof msg), base);
	}
}
END_TEST

/* The length is part of the last block: a trailing zero byte changes the hash. */
START_TEST(test_length_matters)
{
	uint8_t key[16], msg[16] = { 0 };

	ref_key(key);
	for (size_t n = 0; n < 15; n++)
		ck_assert_uint_ne(mt_siphash24(key, msg, n), mt_siphash24(key, msg, n + 1));
	ck_assert_uint_eq(mt_siphash24(key, NULL, 0), ref_vectors[0]);
}
END_TEST

START_TEST(test_13_reference_vectors)
{
	uint8_t key[16], msg[64], *buf = malloc(64 + 8);

	ck_assert_ptr_nonnull(buf);
	ref_key(key);
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t n = 0; n < 64; n++) {
		uint64_t h = mt_siphash13(key, msg, n);

		ck_assert_msg(h == ref13_vectors[n], "n=%zu: got %016llx want %016llx", n,
			      (unsigned long long)h, (unsigned long long)ref13_vectors[n]);
		/* not SipHash-2-4 under another name */
		ck_assert_uint_ne(h, ref_vectors[n]);
	}
	/* any alignment */
	for (size_t off = 1; off < 8; off++) {
		memcpy(buf + off, msg, sizeof msg);
		for (size_t n = 0; n < 64; n++)
			ck_assert_uint_eq(mt_siphash13(key, buf + off, n), ref13_vectors[n]);
	}
	free(buf);
}
END_TEST

/* SipHash-1-3 is keyed too: every key bit changes the hash of a flow-key-sized message. */
START_TEST(test_13_key_sensitivity)
{
	uint8_t key[16], msg[16];

	memset(msg, 0xa5, sizeof msg);
	for (int bit = 0; bit < 128; bit++) {
		uint64_t base;

		ref_key(key);
		base = mt_siphash13(key, msg, sizeof msg);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_uint_ne(mt_siphash13(key, msg, sizeof msg), base);
	}
}
END_TEST

static Suite *siphash_suite(void)
{
	Suite *s = suite_create("util_siphash");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_paper_example);
	tcase_add_test(tc, test_reference_vectors);
	tcase_add_test(tc, test_unaligned);
	tcase_add_test(tc, test_key_sensitivity);
	tcase_add_test(tc, test_length_matters);
	tcase_add_test(tc, test_13_reference_vectors);
	tcase_add_test(tc, test_13_key_sensitivity);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(siphash_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
