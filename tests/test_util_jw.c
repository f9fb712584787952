/* test_util_jw.c - the JSON writer: structure, escaping, invalid UTF-8, numbers (against printf), literal names. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* A small deterministic generator (xorshift64*), so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* The double format as it was written with printf before the fast path (the reference). */
static void ref_double(double v, char *b, size_t n)
{
	if (!isfinite(v)) {
		snprintf(b, n, "null");
	} else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(b, n, "%.0f", v);
	} else {
		for (int prec = 6; prec <= 17; prec++) {
			snprintf(b, n, "%.*g", prec, v);
			if (strtod(b, NULL) == v)
				break;
		}
	}
}

static void check_double(mt_jw *w, double v)
{
	char want[64];

	ref_double(v, want, sizeof(want));
	mt_jw_reset(w);
	mt_jw_double(w, v);
	if (strcmp(w->buf, want) != 0)
		ck_abort_msg("double %a: wrote %s, printf %s", v, w->buf, want);
}

START_TEST(test_double_vs_printf)
{
	static const double fixed[] = {
		0.5, 0.6, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.1, 0.2, 0.3, 1.5, 2.5, 0.125,
		1e-4, 1.0001e-4, 9.9999e-5, 0.00012345, 0.0001234567890123, 1e-5, 1.5e-7,
		123456.5, 1234567.5, 99999.99999999999, 999999999999999.9, 999999999999999.5,
		1e15 + 0.5, 1e15 - 0.5, 4503599627370495.5, 9007199254740991.0, 9007199254740992.0,
		9007199254740993.0, 1e16, 1e21, 1e22, 1e23, 1e300, 5e-324, 2.2250738585072014e-308,
		1.7976931348623157e308, 0.0, -0.0, -0.95, -123.456, -1e-4, -5e-324,
		570.1754385964912, 1.0 / 3, 2.0 / 3, 0.1 + 0.2, 3.14159, 2.718281828459045,
		123456789012.345, 12345678901234.5, 0.30000000000000004, 100.0 / 7,
	};
	mt_jw w;
	int k;

	mt_jw_init(&w);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_double(&w, fixed[i]);
	/* decimals m / 10^k of 1 to 17 digits: the fast path's domain and its edges */
	for (int i = 0; i < 100000; i++) {
		uint64_t m = rng() % 100000000000000000ull;
		double v;

		m /= (uint64_t)pow(10, (double)(rng() % 17));
		k = (int)(rng() % 23);
		v = (double)m / pow(10, k);
		check_double(&w, (rng() & 1) ? -v : v);
	}
	/* any finite double (random bits) */
	for (int i = 0; i < 50000; i++) {
		uint64_t bits = rng();
		double v;

		memcpy(&v, &bits, sizeof(v));
		if (isfinite(v))
			check_double(&w, v);
	}
	/* products and quotients like the estimates' (rate * joules, shares * 60 / seconds) */
	for (int i = 0; i < 25000; i++) {
		double a = (double)(rng() % 1000000) / 1000, b = (double)(rng() % 100000 + 1) / 100;

		check_double(&w, a * b);
		check_double(&w, a / b);
	}
	ck_assert_int_eq(w.err, 0);
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_u64_vs_printf)
{
	mt_jw w;
	char want[32];
	uint64_t p = 1;

	mt_jw_init(&w);
	for (int i = 0; i < 20; i++, p *= 10) {
		uint64_t vs[3] = {p - 1, p, p + 1};

		for (int j = 0; j < 3; j++) {
			mt_jw_reset(&w);
			mt_jw_u64(&w, vs[j]);
			snprintf(want, sizeof(want), "%" PRIu64, vs[j]);
			ck_assert_str_eq(w.buf, want);
		}
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t v = rng() >> (rng() % 64);

		mt_jw_reset(&w);
		mt_jw_i64(&w, (int64_t)v);
		snprintf(want, sizeof(want), "%" PRId64, (int64_t)v);
		ck_assert_str_eq(w.buf, want);
		mt_jw_reset(&w);
		mt_jw_u64(&w, v);
		snprintf(want, sizeof(want), "%" PRIu64, v);
		ck_assert_str_eq(w.buf, want);
	}
	mt_jw_free(&w);
}
END_TEST

/* The escaping one byte at a time, as the writer did before the 8-byte path (the reference). */
static size_t ref_escape(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0;

	out[o++] = '"';
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
			i++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			i++;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, 7, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			i++;
		} else if (c < 0x80) {
			out[o++] = (char)c;
			i++;
		} else {
			/* RFC 3629 well-formed sequences are copied, any other byte is U+FFFD */
			size_t need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
				      c >= 0xF0 && c <= 0xF4 ? 4 : 0;
			int ok = need && n - i >= need;

			for (size_t j = 1; ok && j < need; j++)
				ok = (p[i + j] & 0xC0) == 0x80;
			if (ok && need == 3) {
				unsigned cp = (c & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
				ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
			}
			if (ok && need == 4) {
				unsigned cp = (c & 0x07u) << 18 | (p[i + 1] & 0x3Fu) << 12 |
					      (p[i + 2] & 0x3Fu) << 6 | (p[i + 3] & 0x3Fu);
				ok = cp >= 0x10000 && cp <= 0x10FFFF;
			}
			if (ok) {
				memcpy(out + o, p + i, need);
				o += need;
				i += need;
			} else {
				memcpy(out + o, "\xEF\xBF\xBD", 3);
				o += 3;
				i++;
			}
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

START_TEST(test_strings_vs_bytewise)
{
	/* plain runs with a special byte at every place, of every length around the 8-byte steps */
	static const unsigned char specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x7f, 0x80, 0xc3, 0xe7, 0xff, ' ', '~'};
	unsigned char in[64];
	char want[64 * 6 + 4];
	mt_jw w;

	mt_jw_init(&w);
	for (size_t n = 0; n <= 40; n++) {
		for (size_t at = 0; at <= n; at++) {
			for (size_t sp = 0; sp < sizeof(specials); sp++) {
				for (size_t i = 0; i < n; i++)
					in[i] = (unsigned char)('a' + i % 26);
				if (at < n)
					in[at] = specials[sp];
				mt_jw_reset(&w);
				mt_jw_strn(&w, (const char *)in, n);
				ref_escape(in, n, want);
				ck_assert_uint_eq(w.len, strlen(want));
				ck_assert_mem_eq(w.buf, want, w.len);
			}
		}
	}
	/* random bytes, mostly plain, of random lengths */
	for (int r = 0; r < 200000; r++) {
		size_t n = rng() % 48;

		for (size_t i = 0; i < n; i++) {
			uint64_t x = rng();
			in[i] = (x & 7) ? (unsigned char)(0x20 + (x >> 8) % 95) : (unsigned char)(x >> 16);
		}
		mt_jw_reset(&w);
		mt_jw_strn(&w, (const char *)in, n);
		ref_escape(in, n, want);
		ck_assert_uint_eq(w.len, strlen(want));
		ck_assert_mem_eq(w.buf, want, w.len);
	}
	ck_assert_int_eq(w.err, 0);
	mt_jw_free(&w);
}
END_TEST

START_TEST(test_literal_names)
{
	mt_jw w, ref;
	char name[16];

	/* a fresh writer (no buffer) takes the slow path; then many members cross the growth */
	mt_jw_init(&w);
	mt_jw_init(&ref);
	mt_jw_obj_open(&w);
	mt_jw_obj_open(&ref);
	for (int i = 0; i < 300; i++) {
		MT_JW_KEY(&w, "k");
		mt_jw_u64(&w, (uint64_t)i);
		MT_JW_MEMBER(&w, "proto", "\"TCP\"");
		MT_JW_KEY(&w, "obj");
		mt_jw_obj_open(&w);
		MT_JW_MEMBER(&w, "t", "true");
		mt_jw_obj_close(&w);
		mt_jw_ku64(&ref, "k", (uint64_t)i);
		mt_jw_kstr(&ref, "proto", "TCP");
		mt_jw_key(&ref, "obj");
		mt_jw_obj_open(&ref);
		mt_jw_kbool(&ref, "t", 1);
		mt_jw_obj_close(&ref);
		ck_assert_uint_eq(w.len, ref.len);
		ck_assert_str_eq(w.buf, ref.buf);
	}
	mt_jw_obj_close(&w);
	mt_jw_obj_close(&ref);
	ck_assert_int_eq(w.err, 0);
	ck_assert_str_eq(w.buf, ref.buf);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	mt_jw_reset(&w);
	/* the first member of an object takes no comma; the names are copied with their quotes */
	mt_jw_obj_open(&w);
	snprintf(name, sizeof(name), "x");
	mt_jw_kstr(&w, name, "1");
	MT_JW_MEMBER(&w, "a", "[1,2]");
	mt_jw_obj_close(&w);
	ck_assert_str_eq(w.buf, "{\"x\":\"1\",\"a\":[1,2]}");
	mt_jw_reset(&w);
	mt_jw_obj_open(&w);
	MT_JW_MEMBER(&w, "a", "null");
	MT_JW_KEY(&w, "b");
	mt_jw_null(&w);
	mt_jw_obj_close(&w);
	ck_assert_str_eq(w.buf, "{\"a\":null,\"b\":null}");
	mt_jw_free(&w);
	mt_jw_free(&ref);
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
	tcase_add_test(tc, test_double_vs_printf);
	tcase_add_test(tc, test_u64_vs_printf);
	tcase_add_test(tc, test_strings_vs_bytewise);
	tcase_add_test(tc, test_literal_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
