/* test_util_rd.c - the checked reader: bounds, sticky errors, byte order, sub-readers. */
#include <stdint.h>

#include "mt_test.h"
#include "util/rd.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

START_TEST(test_byte_order)
{
	mt_rd r;

	mt_rd_init(&r, bytes, sizeof(bytes));
	ck_assert_uint_eq(mt_rd_u8(&r), 0x01);
	ck_assert_uint_eq(mt_rd_be16(&r), 0x0203);
	ck_assert_uint_eq(mt_rd_le16(&r), 0x0504);
	ck_assert_uint_eq(mt_rd_be32(&r), 0x06070809);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(mt_rd_left(&r), 0);
	mt_rd_init(&r, bytes, sizeof(bytes));
	ck_assert_uint_eq(mt_rd_be24(&r), 0x010203);
	ck_assert_uint_eq(mt_rd_le24(&r), 0x060504);
	mt_rd_init(&r, bytes, sizeof(bytes));
	ck_assert_uint_eq(mt_rd_le32(&r), 0x04030201);
	ck_assert(mt_rd_le64(&r) == 0);
	ck_assert_int_eq(r.err, 1); /* only 5 bytes were left */
}
END_TEST

START_TEST(test_sticky_error)
{
	mt_rd r;

	mt_rd_init(&r, bytes, 3);
	ck_assert_uint_eq(mt_rd_be32(&r), 0);
	ck_assert_int_eq(r.err, 1);
	/* Once failed, even a read that would fit fails. */
	ck_assert_uint_eq(mt_rd_u8(&r), 0);
	ck_assert_ptr_null(mt_rd_ptr(&r, 0 + 1));
	ck_assert_uint_eq(mt_rd_left(&r), 0);
	ck_assert_int_eq(mt_rd_skip(&r, 0), -1);
}
END_TEST

START_TEST(test_huge_lengths)
{
	mt_rd r;

	mt_rd_init(&r, bytes, sizeof(bytes));
	mt_rd_skip(&r, 4);
	/* off + n would wrap: must be refused, not accepted. */
	ck_assert_ptr_null(mt_rd_ptr(&r, SIZE_MAX - 2));
	ck_assert_int_eq(r.err, 1);
	mt_rd_init(&r, NULL, 100);
	ck_assert_uint_eq(mt_rd_left(&r), 0);
	ck_assert_uint_eq(mt_rd_u8(&r), 0);
	ck_assert_int_eq(r.err, 1);
}
END_TEST

START_TEST(test_sub_and_copy)
{
	mt_rd r, s;
	uint8_t out[4];

	mt_rd_init(&r, bytes, sizeof(bytes));
	mt_rd_skip(&r, 1);
	s = mt_rd_sub(&r, 4);
	ck_assert_uint_eq(mt_rd_left(&s), 4);
	ck_assert_uint_eq(mt_rd_be32(&s), 0x02030405);
	ck_assert_uint_eq(mt_rd_u8(&s), 0); /* an inner layer sees only its declared length */
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(mt_rd_u8(&r), 0x06);
	s = mt_rd_sub(&r, 10);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(r.err, 1);
	mt_rd_init(&r, bytes, 2);
	memset(out, 0xAA, sizeof(out));
	ck_assert_int_eq(mt_rd_copy(&r, out, 4), -1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(out[3], 0);
}
END_TEST

START_TEST(test_every_truncation)
{
	size_t n;

	for (n = 0; n <= sizeof(bytes); n++) {
		uint8_t *copy = malloc(n ? n : 1);
		mt_rd r;
		memcpy(copy, bytes, n);
		mt_rd_init(&r, copy, n);
		(void)mt_rd_u8(&r);
		(void)mt_rd_be16(&r);
		(void)mt_rd_be32(&r);
		(void)mt_rd_le16(&r);
		ck_assert_int_eq(r.err, n < 9 ? 1 : 0);
		free(copy);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("util_rd");
	TCase *tc = tcase_create("rd");

	tcase_add_test(tc, test_byte_order);
	tcase_add_test(tc, test_sticky_error);
	tcase_add_test(tc, test_huge_lengths);
	tcase_add_test(tc, test_sub_and_copy);
	tcase_add_test(tc, test_every_truncation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
