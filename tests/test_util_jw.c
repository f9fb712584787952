/* test_util_jw.c - the JSON writer: structure, escaping, invalid UTF-8, numbers. */
#include <math.h>
#include <stdint.h>

#include "mt_test.h"
#include "util/jw.h"

START_TEST(test_structure)
{
	mt_jw w;

	mt_jw_init(&w);
	mt_jw_obj_open(&w);
	mt_jw_kstr(&w, "a", "x");
	mt_jw_ku64(&w, "b", 18446744073709551615ull);
	mt_jw_key(&w, "c");
	mt_jw_arr_open(&w);
	mt_jw_i64(&w, -5);
	mt_jw_bool(&w, 1);
	mt_jw_null(&w);
	mt_jw_obj_open(&w);
	mt_jw_obj_close(&w);
	mt_jw_arr_close(&w);
	mt_jw_kbool(&w, "d", 0);
	mt_jw_obj_close(&w);
	ck_assert_int_eq(w.err, 0);
	ck_assert_str_eq(w.buf, "{\"a\":\"x\",\"b\":18446744073709551615,\"c\":[-5,true,null,{}],\"d\":false}");
	mt_jw_reset(&w);
	mt_jw_obj_open(&w);
	mt_jw_obj_close(&w);
	ck_assert_str_eq(w.buf, "{}");
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_escaping)
{
	mt_jw w;
	static const char raw[] = "q\"b\\n\n\r\t\x01\x1f/\x7f";

	mt_jw_init(&w);
	mt_jw_strn(&w, raw, sizeof(raw) - 1);
	ck_assert_str_eq(w.buf, "\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u001f/\x7f\"");
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_utf8)
{
	mt_jw w;

	mt_jw_init(&w);
	/* valid: e-acute, CJK (矿), emoji; invalid: lone continuation, overlong, surrogate, truncated */
	mt_jw_str(&w, "\xc3\xa9\xe7\x9f\xbf\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xe7\x9f");
	ck_assert_str_eq(w.buf, "\"\xc3\xa9\xe7\x9f\xbf\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
				"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"");
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_numbers)
{
	mt_jw w;

	mt_jw_init(&w);
	mt_jw_arr_open(&w);
	mt_jw_double(&w, 0.5);
	mt_jw_double(&w, 65536);
	mt_jw_double(&w, 0.1);
	mt_jw_double(&w, 1e300);
	mt_jw_double(&w, NAN);
	mt_jw_double(&w, INFINITY);
	mt_jw_double(&w, 570.1754385964912);
	mt_jw_arr_close(&w);
	ck_assert_str_eq(w.buf, "[0.5,65536,0.1,1e+300,null,null,570.1754385964912]");
	mt_jw_reset(&w);
	mt_jw_arr_open(&w);
	mt_jw_i64(&w, INT64_MIN);
	mt_jw_i64(&w, 0);
	mt_jw_u64(&w, 0);
	mt_jw_i64(&w, INT64_MAX);
	mt_jw_arr_close(&w);
	ck_assert_str_eq(w.buf, "[-9223372036854775808,0,0,9223372036854775807]");
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_large)
{
	mt_jw w;
	char *big = malloc(1 << 20);
	size_t i;

	for (i = 0; i < (1 << 20); i++)
		big[i] = (char)('a' + i % 26);
	mt_jw_init(&w);
	mt_jw_strn(&w, big, 1 << 20);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.len, (1 << 20) + 2);
	mt_jw_free(&w);
	free(big);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("util_jw");
	TCase *tc = tcase_create("jw");

	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_large);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
