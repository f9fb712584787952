/* test_util_json.c - the strict JSON tokenizer against RFC 8259 valid/invalid cases, limits, truncation and a differential fuzz loop. */
#include <check.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

#define NTOK 512

/* Parses a C string through an exact-size heap copy, so ASan sees any overread. */
static int parse_exact(const char *doc, size_t len, mt_json_tok *toks, uint32_t cap,
		       uint32_t depth)
{
	uint8_t *p = malloc(len ? len : 1);
	int r;

	ck_assert_ptr_nonnull(p);
	memcpy(p, doc, len);
	r = mt_json_parse(p, len, toks, cap, depth);
	free(p);
	return r;
}

static int parse_str(const char *doc)
{
	static mt_json_tok toks[NTOK];

	return parse_exact(doc, strlen(doc), toks, NTOK, 0);
}

static const char *const valid_docs[] = {
	"{}",
	"[]",
	"0",
	"-0",
	"1",
	"-1",
	"123456789",
	"0.5",
	"-0.0e-0",
	"1e10",
	"1E+10",
	"1e-10",
	"12.34E56",
	"\"\"",
	"\"abc\"",
	"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	"\"\\u0041\\u00e9\\u20AC\"",
	"\"\\ud83d\\ude00\"",
	"\"\\ud800\"", /* lone surrogate: valid for the tokenizer, refused by mt_json_str */
	"\"\xc3\xa9 raw utf-8 \xe2\x82\xac\"",
	"\"\x7f\"",
	"true",
	"false",
	"null",
	" \t\r\n{} \t\r\n",
	"{\"a\":1}",
	"{ \"a\" : 1 , \"b\" : [ true , false , null ] }",
	"[1,[2,[3,[4]]]]",
	"[{},[],{\"\":\"\"}]",
	"{\"a\":{\"b\":{\"c\":{}}}}",
	"[\"x\",1,-2.5e3,true,false,null,{},[]]",
	"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/3.7.2\"]}",
	"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1\",\"00\",[],true]}",
	"{\"a\":1,\"a\":2}", /* duplicate keys are legal JSON */
};

struct bad {
	const char *doc;
	int err;
};

static const struct bad invalid_docs[] = {
	{ "", MT_JSON_E_SYNTAX },
	{ " ", MT_JSON_E_SYNTAX },
	{ "{", MT_JSON_E_SYNTAX },
	{ "}", MT_JSON_E_SYNTAX },
	{ "[", MT_JSON_E_SYNTAX },
	{ "]", MT_JSON_E_SYNTAX },
	{ "[1,]", MT_JSON_E_SYNTAX },
	{ "[,1]", MT_JSON_E_SYNTAX },
	{ "[1,,2]", MT_JSON_E_SYNTAX },
	{ "[1 2]", MT_JSON_E_SYNTAX },
	{ "{\"a\":1,}", MT_JSON_E_SYNTAX },
	{ "{,}", MT_JSON_E_SYNTAX },
	{ "{\"a\"}", MT_JSON_E_SYNTAX },
	{ "{\"a\":}", MT_JSON_E_SYNTAX },
	{ "{\"a\" 1}", MT_JSON_E_SYNTAX },
	{ "{a:1}", MT_JSON_E_SYNTAX },
	{ "{'a':1}", MT_JSON_E_SYNTAX },
	{ "{1:1}", MT_JSON_E_SYNTAX },
	{ "{\"a\":1 \"b\":2}", MT_JSON_E_SYNTAX },
	{ "[}", MT_JSON_E_SYNTAX },
	{ "{]", MT_JSON_E_SYNTAX },
	{ "[1}", MT_JSON_E_SYNTAX },
	{ "{\"a\":1]", MT_JSON_E_SYNTAX },
	{ "01", MT_JSON_E_SYNTAX },
	{ "-01", MT_JSON_E_SYNTAX },
	{ "[01]", MT_JSON_E_SYNTAX },
	{ "00", MT_JSON_E_SYNTAX },
	{ "+1", MT_JSON_E_SYNTAX },
	{ "-", MT_JSON_E_SYNTAX },
	{ "1.", MT_JSON_E_SYNTAX },
	{ ".1", MT_JSON_E_SYNTAX },
	{ "1.e5", MT_JSON_E_SYNTAX },
	{ "1e", MT_JSON_E_SYNTAX },
	{ "1e+", MT_JSON_E_SYNTAX },
	{ "1.2.3", MT_JSON_E_SYNTAX },
	{ "1e5e5", MT_JSON_E_SYNTAX },
	{ "0x10", MT_JSON_E_TRAILING },
	{ "[0x10]", MT_JSON_E_SYNTAX },
	{ "NaN", MT_JSON_E_SYNTAX },
	{ "-NaN", MT_JSON_E_SYNTAX },
	{ "Infinity", MT_JSON_E_SYNTAX },
	{ "-Infinity", MT_JSON_E_SYNTAX },
	{ "[NaN]", MT_JSON_E_SYNTAX },
	{ "True", MT_JSON_E_SYNTAX },
	{ "nul", MT_JSON_E_SYNTAX },
	{ "nulll", MT_JSON_E_SYNTAX },
	{ "truex", MT_JSON_E_SYNTAX },
	{ "[true1]", MT_JSON_E_SYNTAX },
	{ "\"abc", MT_JSON_E_SYNTAX },
	{ "\"a\nb\"", MT_JSON_E_SYNTAX },
	{ "\"a\tb\"", MT_JSON_E_SYNTAX },
	{ "\"\x01\"", MT_JSON_E_SYNTAX },
	{ "\"\\x41\"", MT_JSON_E_SYNTAX },
	{ "\"\\a\"", MT_JSON_E_SYNTAX },
	{ "\"\\u12\"", MT_JSON_E_SYNTAX },
	{ "\"\\u12g4\"", MT_JSON_E_SYNTAX },
	{ "\"\\\"", MT_JSON_E_SYNTAX },
	{ "'abc'", MT_JSON_E_SYNTAX },
	{ "/* c */ {}", MT_JSON_E_SYNTAX },
	{ "{} // c", MT_JSON_E_TRAILING },
	{ "// c\n{}", MT_JSON_E_SYNTAX },
	{ "{} {}", MT_JSON_E_TRAILING },
	{ "1 2", MT_JSON_E_TRAILING },
	{ "{}x", MT_JSON_E_TRAILING },
	{ "[]]", MT_JSON_E_TRAILING },
	{ "\xef\xbb\xbf{}", MT_JSON_E_SYNTAX }, /* a BOM is not white space */
	{ "\v{}", MT_JSON_E_SYNTAX },
	{ "\f{}", MT_JSON_E_SYNTAX },
	{ "{}\v", MT_JSON_E_TRAILING },
	{ "\xa0{}", MT_JSON_E_SYNTAX },
};

START_TEST(test_tok_hash_and_hexval)
{
	/* [1,"1",1,"1 "]: an id's hash follows its type and exact text */
	const char *d = "[1,\"1\",1,\"1 \"]";
	mt_json_tok t[8];
	int n = mt_json_parse((const uint8_t *)d, strlen(d), t, 8, 4);
	const uint8_t *s = (const uint8_t *)d;

	ck_assert_int_eq(n, 5);
	ck_assert_uint_eq(mt_json_tok_hash(s, &t[1]), mt_json_tok_hash(s, &t[3]));
	ck_assert_uint_ne(mt_json_tok_hash(s, &t[1]), mt_json_tok_hash(s, &t[2]));
	ck_assert_uint_ne(mt_json_tok_hash(s, &t[2]), mt_json_tok_hash(s, &t[4]));
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			   c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		ck_assert_int_eq(mt_json_hexval((uint8_t)c), want);
	}
}
END_TEST

START_TEST(test_valid)
{
	for (size_t i = 0; i < sizeof valid_docs / sizeof valid_docs[0]; i++) {
		int r = parse_str(valid_docs[i]);

		if (r <= 0)
			ck_abort_msg("valid doc %zu <%s> refused: %d", i, valid_docs[i], r);
	}
}
END_TEST

START_TEST(test_invalid)
{
	for (size_t i = 0; i < sizeof invalid_docs / sizeof invalid_docs[0]; i++) {
		int r = parse_str(invalid_docs[i].doc);

		if (r != invalid_docs[i].err)
			ck_abort_msg("invalid doc %zu <%s>: got %d want %d", i,
				     invalid_docs[i].doc, r, invalid_docs[i].err);
	}
}
END_TEST

START_TEST(test_embedded_nul_and_null_args)
{
	mt_json_tok t[4];
	static const uint8_t nul_in_string[] = { '"', 'a', 0, 'b', '"' };
	static const uint8_t nul_after[] = { '{', '}', 0 };

	ck_assert_int_eq(mt_json_parse(nul_in_string, sizeof nul_in_string, t, 4, 0),
			 MT_JSON_E_SYNTAX);
	ck_assert_int_eq(mt_json_parse(nul_after, sizeof nul_after, t, 4, 0), MT_JSON_E_TRAILING);
	ck_assert_int_eq(mt_json_parse(NULL, 0, t, 4, 0), MT_JSON_E_SYNTAX);
	ck_assert_int_eq(mt_json_parse(NULL, 5, t, 4, 0), MT_JSON_E_SYNTAX);
	ck_assert_int_eq(mt_json_parse((const uint8_t *)"{}", 2, NULL, 4, 0), MT_JSON_E_TOKENS);
	ck_assert_int_eq(mt_json_parse((const uint8_t *)"{}", 2, t, 0, 0), MT_JSON_E_TOKENS);
	ck_assert_int_eq(mt_json_get(NULL, t, 1, 0, "a"), -1);
	ck_assert_int_eq(mt_json_at(NULL, 1, 0, 0), -1);
	ck_assert_int_eq(mt_json_str_eq(NULL, t, "a"), 0);
}
END_TEST

START_TEST(test_token_structure)
{
	static const char doc[] = "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\ny\",\"d\":{}}";
	mt_json_tok t[32];
	int n = parse_exact(doc, strlen(doc), t, 32, 0);
	int a, b, c, d, e;

	/* {  a [ 1 2 { b null } ] c "x\ny" d {} } */
	ck_assert_int_eq(n, 12);
	ck_assert_int_eq(t[0].type, MT_JSON_OBJECT);
	ck_assert_uint_eq(t[0].size, 3);
	ck_assert_uint_eq(t[0].next, 12);
	ck_assert_uint_eq(t[0].start, 0);
	ck_assert_uint_eq(t[0].len, strlen(doc));
	ck_assert_uint_eq(t[0].depth, 0);
	ck_assert_int_eq(t[1].type, MT_JSON_STRING);
	ck_assert_uint_eq(t[1].next, 2);
	ck_assert_int_eq(t[2].type, MT_JSON_ARRAY);
	ck_assert_uint_eq(t[2].size, 3);
	ck_assert_uint_eq(t[2].next, 8); /* skips 1, 2, {b:null} in one step */
	ck_assert_uint_eq(t[2].depth, 1);
	ck_assert_int_eq(t[5].type, MT_JSON_OBJECT);
	ck_assert_uint_eq(t[5].depth, 2);
	ck_assert_uint_eq(t[5].size, 1);
	ck_assert_uint_eq(t[5].next, 8);
	ck_assert_uint_eq(t[6].depth, 3);
	ck_assert_int_eq(t[7].type, MT_JSON_NULL);
	ck_assert_int_eq(t[9].type, MT_JSON_STRING);
	ck_assert_uint_eq(t[9].escaped, 1);
	ck_assert_uint_eq(t[9].len, 4);
	ck_assert_int_eq(memcmp(doc + t[9].start, "x\\ny", 4), 0);
	ck_assert_int_eq(t[11].type, MT_JSON_OBJECT);
	ck_assert_uint_eq(t[11].size, 0);
	ck_assert_uint_eq(t[11].len, 2);

	a = mt_json_get((const uint8_t *)doc, t, n, 0, "a");
	c = mt_json_get((const uint8_t *)doc, t, n, 0, "c");
	d = mt_json_get((const uint8_t *)doc, t, n, 0, "d");
	ck_assert_int_eq(a, 2);
	ck_assert_int_eq(c, 9);
	ck_assert_int_eq(d, 11);
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, 0, "b"), -1); /* not a member of the root */
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, 2, "a"), -1); /* not an object */
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, -1, "a"), -1);
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, n, "a"), -1);
	ck_assert_int_eq(mt_json_at(t, n, a, 0), 3);
	ck_assert_int_eq(mt_json_at(t, n, a, 1), 4);
	e = mt_json_at(t, n, a, 2);
	ck_assert_int_eq(e, 5);
	ck_assert_int_eq(mt_json_at(t, n, a, 3), -1);
	ck_assert_int_eq(mt_json_at(t, n, 0, 0), -1); /* not an array */
	b = mt_json_get((const uint8_t *)doc, t, n, e, "b");
	ck_assert_int_eq(b, 7);
	ck_assert_int_eq(mt_json_at(t, n, d, 0), -1);
}
END_TEST

START_TEST(test_escaped_keys_and_str_eq)
{
	static const char doc[] = "{\"m\\u0065thod\":\"mining\\u002esubscribe\",\"\\/k\":1,\"caf\\u00e9\":2}";
	mt_json_tok t[16];
	int n = parse_exact(doc, strlen(doc), t, 16, 0);
	int m;

	ck_assert_int_eq(n, 7);
	m = mt_json_get((const uint8_t *)doc, t, n, 0, "method");
	ck_assert_int_eq(m, 2);
	ck_assert(mt_json_str_eq((const uint8_t *)doc, &t[m], "mining.subscribe"));
	ck_assert(!mt_json_str_eq((const uint8_t *)doc, &t[m], "mining.subscrib"));
	ck_assert(!mt_json_str_eq((const uint8_t *)doc, &t[m], "mining.subscribe2"));
	ck_assert(!mt_json_str_eq((const uint8_t *)doc, &t[0], "x")); /* not a string */
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, 0, "/k"), 4);
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, 0, "caf\xc3\xa9"), 6);
	ck_assert_int_eq(mt_json_get((const uint8_t *)doc, t, n, 0, "cafe"), -1);
}
END_TEST

static int str_of(const char *doc, char *out, size_t cap)
{
	mt_json_tok t[4];
	int n = parse_exact(doc, strlen(doc), t, 4, 0);

	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(t[0].type, MT_JSON_STRING);
	return mt_json_str((const uint8_t *)doc, &t[0], out, cap);
}

START_TEST(test_unescape)
{
	char out[64];

	ck_assert_int_eq(str_of("\"abc\"", out, sizeof out), 3);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(str_of("\"\"", out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(str_of("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", out, sizeof out), 12);
	ck_assert_str_eq(out, "a\"b\\c/d\b\f\n\r\t");
	ck_assert_int_eq(str_of("\"\\u0041\\u00e9\\u20ac\"", out, sizeof out), 6);
	ck_assert_str_eq(out, "A\xc3\xa9\xe2\x82\xac");
	ck_assert_int_eq(str_of("\"\\uD83D\\uDE00!\"", out, sizeof out), 5);
	ck_assert_str_eq(out, "\xf0\x9f\x98\x80!");
	ck_assert_int_eq(str_of("\"\\udbff\\udfff\"", out, sizeof out), 4);
	ck_assert_str_eq(out, "\xf4\x8f\xbf\xbf");
	ck_assert_int_eq(str_of("\"\\u07ff\\u0800\\uffff\"", out, sizeof out), 8);
	ck_assert_str_eq(out, "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
	/* bad escapes never produce output */
	memcpy(out, "junk", 5);
	ck_assert_int_eq(str_of("\"x\\ud800\"", out, sizeof out), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(str_of("\"\\ud800x\"", out, sizeof out), -1);
	ck_assert_int_eq(str_of("\"\\ud800\\u0041\"", out, sizeof out), -1);
	ck_assert_int_eq(str_of("\"\\ud800\\ud800\"", out, sizeof out), -1);
	ck_assert_int_eq(str_of("\"\\udc00\\ud800\"", out, sizeof out), -1);
	ck_assert_int_eq(str_of("\"\\udfff\"", out, sizeof out), -1);
	ck_assert_int_eq(str_of("\"\\ud800\\n\"", out, sizeof out), -1);
	ck_assert_int_eq(str_of("\"a\\u0000b\"", out, sizeof out), -1);
	/* size limits: exact fit, one short */
	ck_assert_int_eq(str_of("\"abcd\"", out, 5), 4);
	ck_assert_str_eq(out, "abcd");
	ck_assert_int_eq(str_of("\"abcd\"", out, 4), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(str_of("\"ab\\u20ac\"", out, 6), 5);
	ck_assert_int_eq(str_of("\"ab\\u20ac\"", out, 5), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(str_of("\"abc\"", out, 0), -1);
	{
		mt_json_tok t[2];
		static const char num[] = "12";

		ck_assert_int_eq(parse_exact(num, 2, t, 2, 0), 1);
		ck_assert_int_eq(mt_json_str((const uint8_t *)num, &t[0], out, sizeof out), -1);
		ck_assert_str_eq(out, "");
	}
}
END_TEST

static mt_json_tok num_tok[4];
static char num_doc[256];

static const mt_json_tok *num(const char *lit)
{
	size_t n = strlen(lit);

	ck_assert_uint_lt(n, sizeof num_doc);
	memcpy(num_doc, lit, n + 1);
	ck_assert_int_eq(mt_json_parse((const uint8_t *)num_doc, n, num_tok, 4, 0), 1);
	return &num_tok[0];
}

START_TEST(test_integers)
{
	uint64_t u;
	int64_t i;
	const uint8_t *s = (const uint8_t *)num_doc;

	ck_assert_int_eq(mt_json_u64(s, num("0"), &u), 0);
	ck_assert_uint_eq(u, 0);
	ck_assert_int_eq(mt_json_u64(s, num("42"), &u), 0);
	ck_assert_uint_eq(u, 42);
	ck_assert_int_eq(mt_json_u64(s, num("18446744073709551615"), &u), 0);
	ck_assert(u == UINT64_MAX);
	ck_assert_int_eq(mt_json_u64(s, num("18446744073709551616"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("99999999999999999999"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("100000000000000000000000000000"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("-1"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("-0"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("1e3"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("1.0"), &u), -1);
	ck_assert_int_eq(mt_json_u64(s, num("1E0"), &u), -1);

	ck_assert_int_eq(mt_json_i64(s, num("-1"), &i), 0);
	ck_assert_int_eq(i, -1);
	ck_assert_int_eq(mt_json_i64(s, num("-0"), &i), 0);
	ck_assert_int_eq(i, 0);
	ck_assert_int_eq(mt_json_i64(s, num("9223372036854775807"), &i), 0);
	ck_assert(i == INT64_MAX);
	ck_assert_int_eq(mt_json_i64(s, num("9223372036854775808"), &i), -1);
	ck_assert_int_eq(mt_json_i64(s, num("-9223372036854775808"), &i), 0);
	ck_assert(i == INT64_MIN);
	ck_assert_int_eq(mt_json_i64(s, num("-9223372036854775809"), &i), -1);
	ck_assert_int_eq(mt_json_i64(s, num("-18446744073709551617"), &i), -1);
	ck_assert_int_eq(mt_json_i64(s, num("1e3"), &i), -1);
	ck_assert_int_eq(mt_json_i64(s, num("-2.5"), &i), -1);

	/* not a number token */
	{
		mt_json_tok t[2];
		static const char str[] = "\"12\"";

		ck_assert_int_eq(parse_exact(str, 4, t, 2, 0), 1);
		ck_assert_int_eq(mt_json_u64((const uint8_t *)str, &t[0], &u), -1);
		ck_assert_int_eq(mt_json_i64((const uint8_t *)str, &t[0], &i), -1);
	}
}
END_TEST

START_TEST(test_doubles)
{
	double d;
	const uint8_t *s = (const uint8_t *)num_doc;

	ck_assert_int_eq(mt_json_double(s, num("1.5"), &d), 0);
	ck_assert(d == 1.5);
	ck_assert_int_eq(mt_json_double(s, num("-2e-3"), &d), 0);
	ck_assert(d == -0.002);
	ck_assert_int_eq(mt_json_double(s, num("0.05"), &d), 0);
	ck_assert(d > 0.0499 && d < 0.0501);
	ck_assert_int_eq(mt_json_double(s, num("16384"), &d), 0);
	ck_assert(d == 16384.0);
	ck_assert_int_eq(mt_json_double(s, num("1E+2"), &d), 0);
	ck_assert(d == 100.0);
	ck_assert_int_eq(mt_json_double(s, num("1e999"), &d), -1);
	ck_assert_int_eq(mt_json_double(s, num("-1e400"), &d), -1);
	ck_assert_int_eq(mt_json_double(s, num("1e-400"), &d), 0); /* underflow: ~0 */
	ck_assert(d >= 0.0 && d < 1e-300);
	/* 64 characters is the longest literal accepted */
	ck_assert_int_eq(mt_json_double(s, num("1234567890123456789012345678901234567890123456789012345678901234"), &d), 0);
	ck_assert(d > 1.2e63 && d < 1.3e63);
	{
		mt_json_tok t[2];
		static const char str[] = "\"1.5\"";

		ck_assert_int_eq(parse_exact(str, 5, t, 2, 0), 1);
		ck_assert_int_eq(mt_json_double((const uint8_t *)str, &t[0], &d), -1);
	}
}
END_TEST

START_TEST(test_double_comma_locale)
{
	double d;
	const uint8_t *s = (const uint8_t *)num_doc;
	static const char *const locs[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE" };
	int have = 0;

	for (size_t i = 0; i < sizeof locs / sizeof locs[0] && !have; i++)
		have = setlocale(LC_NUMERIC, locs[i]) != NULL;
	ck_assert_int_eq(mt_json_double(s, num("2.25"), &d), 0);
	ck_assert(d == 2.25);
	setlocale(LC_NUMERIC, "C");
	if (!have)
		fprintf(stderr, "note: no comma locale installed; ran in the C locale only\n");
}
END_TEST

START_TEST(test_number_length)
{
	char buf[20001];
	mt_json_tok t[4];

	memset(buf, '1', 64);
	ck_assert_int_eq(parse_exact(buf, 64, t, 4, 0), 1);
	memset(buf, '1', 65);
	ck_assert_int_eq(parse_exact(buf, 65, t, 4, 0), MT_JSON_E_NUMBER);
	buf[0] = '-';
	ck_assert_int_eq(parse_exact(buf, 64, t, 4, 0), 1);
	ck_assert_int_eq(parse_exact(buf, 65, t, 4, 0), MT_JSON_E_NUMBER);
	memcpy(buf, "0.", 2);
	memset(buf + 2, '5', 70);
	ck_assert_int_eq(parse_exact(buf, 72, t, 4, 0), MT_JSON_E_NUMBER);
	memcpy(buf, "1e", 2);
	memset(buf + 2, '9', 70);
	ck_assert_int_eq(parse_exact(buf, 72, t, 4, 0), MT_JSON_E_NUMBER);
	/* a huge literal inside an array */
	buf[0] = '[';
	memset(buf + 1, '7', 19998);
	buf[19999] = ']';
	ck_assert_int_eq(parse_exact(buf, 20000, t, 4, 0), MT_JSON_E_NUMBER);
	/* a huge number is refused even where a string would pass */
	ck_assert_int_eq(parse_exact("[\"7777777777777777777777777777777777777777777777777777777777777777777777\"]",
				     74, t, 4, 0), 2);
}
END_TEST

START_TEST(test_depth)
{
	enum { DEEP = 100000 };
	char *buf = malloc(2 * DEEP);
	mt_json_tok *t = malloc(sizeof(*t) * DEEP);
	char d17[40];

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(t);
	memset(buf, '[', DEEP);
	/* 100000 '[' with the default depth: refused without deep recursion */
	ck_assert_int_eq(parse_exact(buf, DEEP, t, DEEP, MT_JSON_DEFAULT_MAX_DEPTH), MT_JSON_E_DEPTH);
	ck_assert_int_eq(parse_exact(buf, DEEP, t, 256, 0), MT_JSON_E_DEPTH);
	/* even with no practical depth limit the parser uses no C stack per level */
	ck_assert_int_eq(parse_exact(buf, DEEP, t, DEEP, UINT32_MAX), MT_JSON_E_SYNTAX);
	memset(buf + DEEP, ']', DEEP);
	ck_assert_int_eq(parse_exact(buf, 2 * DEEP, t, DEEP, UINT32_MAX), DEEP);
	ck_assert_uint_eq(t[0].next, DEEP);
	ck_assert_uint_eq(t[DEEP - 1].depth, UINT16_MAX); /* clamped */
	ck_assert_int_eq(parse_exact(buf, 2 * DEEP, t, DEEP - 1, UINT32_MAX), MT_JSON_E_TOKENS);
	/* the limit is exact: 16 levels pass, 17 do not */
	memset(d17, '[', 17);
	memset(d17 + 17, ']', 17);
	ck_assert_int_eq(parse_exact(d17 + 1, 32, t, 64, 16), 16);
	ck_assert_int_eq(parse_exact(d17, 34, t, 64, 16), MT_JSON_E_DEPTH);
	ck_assert_int_eq(parse_exact(d17, 34, t, 64, 17), 17);
	ck_assert_int_eq(parse_exact("{\"a\":{\"b\":[1]}}", 15, t, 64, 2), MT_JSON_E_DEPTH);
	ck_assert_int_eq(parse_exact("{\"a\":{\"b\":[1]}}", 15, t, 64, 3), 6);
	ck_assert_int_eq(parse_exact("1", 1, t, 64, 1), 1);
	free(buf);
	free(t);
}
END_TEST

START_TEST(test_token_cap)
{
	mt_json_tok t[8];
	static const char doc[] = "[1,2,3,4,5,6,7]"; /* 8 tokens */

	ck_assert_int_eq(parse_exact(doc, strlen(doc), t, 8, 0), 8);
	ck_assert_int_eq(parse_exact(doc, strlen(doc), t, 7, 0), MT_JSON_E_TOKENS);
	ck_assert_int_eq(parse_exact(doc, strlen(doc), t, 1, 0), MT_JSON_E_TOKENS);
	ck_assert_int_eq(parse_exact("{\"a\":1}", 7, t, 2, 0), MT_JSON_E_TOKENS);
	ck_assert_int_eq(parse_exact("{\"a\":1}", 7, t, 3, 0), 3);
}
END_TEST

static const char *const trunc_docs[] = {
	"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"bfgminer/5.2.0\",null,\"pool.example.com\",3333]}",
	"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"274a-1\",\"fbba9401ee005faba18d7bcd8444d9a2a3ec320d002ac0380000000000000000\",\"01000000\",\"ffffffff\",[\"bc688ddc1c1d698f83d20b66172b5442d7414f5f4b1acbf8818c79e4823b72a6\"],\"20000000\",\"172f4f7b\",\"5b646476\",true]}",
	"{\"error\":[-9,\"Cannot call \\\"mining.subscribe\\\" - invalid signature\",null],\"id\":4,\"result\":null}",
	"[1,-2.5e+3,true,false,null,{},[],\"\\u00e9\\ud83d\\ude00\",{\"a\":{\"b\":[0.0]}}]",
	"\"string with \\\" escapes \\\\ and \\u20ac\"",
	"{ \"spaced\" : [ 1 , 2 ] , \"x\" : { } }",
};

START_TEST(test_every_truncation)
{
	mt_json_tok t[NTOK];

	for (size_t d = 0; d < sizeof trunc_docs / sizeof trunc_docs[0]; d++) {
		size_t len = strlen(trunc_docs[d]);
		int full = parse_exact(trunc_docs[d], len, t, NTOK, 0);

		ck_assert_int_gt(full, 0);
		for (size_t k = 0; k < len; k++) {
			int r = parse_exact(trunc_docs[d], k, t, NTOK, 0);

			if (r >= 0)
				ck_abort_msg("doc %zu cut at %zu parsed (%d)", d, k, r);
		}
	}
}
END_TEST

/*
 * An independent, recursive reference validator (bounded depth, test only),
 * to compare accept/reject decisions with the tokenizer under mutation.
 */
struct ref {
	const uint8_t *s;
	size_t len, i;
	int depth, max_depth, deep;
};

static void ref_ws(struct ref *r)
{
	while (r->i < r->len && (r->s[r->i] == ' ' || r->s[r->i] == '\t' ||
				 r->s[r->i] == '\n' || r->s[r->i] == '\r'))
		r->i++;
}

static int ref_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int ref_value(struct ref *r);

static int ref_string(struct ref *r)
{
	if (r->i >= r->len || r->s[r->i] != '"')
		return 0;
	r->i++;
	while (r->i < r->len) {
		uint8_t c = r->s[r->i++];

		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (r->i >= r->len)
				return 0;
			c = r->s[r->i++];
			if (c == 'u') {
				for (int k = 0; k < 4; k++)
					if (r->i >= r->len || !ref_hex(r->s[r->i++]))
						return 0;
			} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
				return 0;
			}
		}
	}
	return 0;
}

static int ref_digits(struct ref *r)
{
	size_t b = r->i;

	while (r->i < r->len && r->s[r->i] >= '0' && r->s[r->i] <= '9')
		r->i++;
	return r->i > b;
}

static int ref_number(struct ref *r)
{
	size_t b = r->i;

	if (r->i < r->len && r->s[r->i] == '-')
		r->i++;
	if (r->i >= r->len)
		return 0;
	if (r->s[r->i] == '0')
		r->i++;
	else if (!ref_digits(r))
		return 0;
	if (r->i < r->len && r->s[r->i] == '.') {
		r->i++;
		if (!ref_digits(r))
			return 0;
	}
	if (r->i < r->len && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		r->i++;
		if (r->i < r->len && (r->s[r->i] == '+' || r->s[r->i] == '-'))
			r->i++;
		if (!ref_digits(r))
			return 0;
	}
	return r->i - b <= MT_JSON_MAX_NUMBER_LEN;
}

static int ref_container(struct ref *r, uint8_t open)
{
	uint8_t close = open == '{' ? '}' : ']';

	if (++r->depth > r->max_depth) {
		r->deep = 1;
		return 0;
	}
	r->i++;
	ref_ws(r);
	if (r->i < r->len && r->s[r->i] == close) {
		r->i++;
		r->depth--;
		return 1;
	}
	for (;;) {
		ref_ws(r);
		if (open == '{') {
			if (!ref_string(r))
				return 0;
			ref_ws(r);
			if (r->i >= r->len || r->s[r->i] != ':')
				return 0;
			r->i++;
		}
		if (!ref_value(r))
			return 0;
		ref_ws(r);
		if (r->i >= r->len)
			return 0;
		if (r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->s[r->i] != close)
			return 0;
		r->i++;
		r->depth--;
		return 1;
	}
}

static int ref_lit(struct ref *r, const char *lit)
{
	size_t n = strlen(lit);

	if (r->len - r->i < n || memcmp(r->s + r->i, lit, n) != 0)
		return 0;
	r->i += n;
	return 1;
}

static int ref_value(struct ref *r)
{
	uint8_t c;

	ref_ws(r);
	if (r->i >= r->len)
		return 0;
	c = r->s[r->i];
	if (c == '{' || c == '[')
		return ref_container(r, c);
	if (c == '"')
		return ref_string(r);
	if (c == 't')
		return ref_lit(r, "true");
	if (c == 'f')
		return ref_lit(r, "false");
	if (c == 'n')
		return ref_lit(r, "null");
	return ref_number(r);
}

/* 1 valid, 0 invalid, -1 too deep for the reference */
static int ref_valid(const uint8_t *s, size_t len, int max_depth)
{
	struct ref r = { s, len, 0, 0, max_depth, 0 };

	if (!ref_value(&r))
		return r.deep ? -1 : 0;
	ref_ws(&r);
	return r.i == len;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Checks the token invariants a caller relies on, and exercises every accessor. */
static void check_tokens(const uint8_t *s, size_t len, const mt_json_tok *t, int n)
{
	for (int i = 0; i < n; i++) {
		char out[128];
		uint64_t u;
		int64_t v;
		double d;

		ck_assert_uint_le((size_t)t[i].start + t[i].len, len);
		ck_assert_uint_gt(t[i].next, (uint32_t)i);
		ck_assert_uint_le(t[i].next, (uint32_t)n);
		if (t[i].type == MT_JSON_ARRAY || t[i].type == MT_JSON_OBJECT) {
			uint32_t j = (uint32_t)i + 1, cnt = 0;

			while (j < t[i].next) {
				ck_assert_uint_eq(t[j].depth, t[i].depth + 1);
				j = t[j].next;
				cnt++;
			}
			ck_assert_uint_eq(j, t[i].next);
			ck_assert_uint_eq(cnt, t[i].type == MT_JSON_OBJECT ? 2 * t[i].size : t[i].size);
			if (t[i].type == MT_JSON_ARRAY && t[i].size)
				ck_assert_int_ge(mt_json_at(t, n, i, t[i].size - 1), 0);
			(void)mt_json_get(s, t, n, i, "id");
		} else {
			ck_assert_uint_eq(t[i].next, (uint32_t)i + 1);
		}
		(void)mt_json_str(s, &t[i], out, sizeof out);
		(void)mt_json_str_eq(s, &t[i], "mining.notify");
		(void)mt_json_u64(s, &t[i], &u);
		(void)mt_json_i64(s, &t[i], &v);
		(void)mt_json_double(s, &t[i], &d);
	}
}

START_TEST(test_fuzz_mutations)
{
	static const char *const seeds[] = {
		"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/3.7.2\",null]}",
		"{\"id\":2,\"result\":true,\"error\":null}",
		"{\"params\":[\"2861\",\"4e0c\",[\"aa\",\"bb\"],\"20000000\",true],\"id\":null,\"method\":\"mining.notify\"}",
		"[1,-2.5e+3,true,false,null,{},[],\"\\u00e9\\ud83d\\ude00\",{\"a\":{\"b\":[0.0]}}]",
		"{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"b\":[[[[]]]],\"c\":-0.0e-0}",
	};
	static const uint8_t alphabet[] = "{}[]\",:0123456789-+.eE \t\r\ntrufalsn\\u/abcdef\x01\x7f\xc3\xff";
	uint8_t buf[512];
	mt_json_tok t[64];
	long agree = 0, valid = 0;

	for (int it = 0; it < 200000; it++) {
		const char *seed = seeds[rnd() % (sizeof seeds / sizeof seeds[0])];
		size_t len = strlen(seed);
		int muts = 1 + (int)(rnd() % 4);
		uint8_t *copy;
		int r, ref;

		memcpy(buf, seed, len);
		for (int m = 0; m < muts; m++) {
			uint32_t op = rnd() % 4;
			size_t pos = len ? rnd() % len : 0;
			uint8_t c = alphabet[rnd() % (sizeof alphabet - 1)];

			if (op == 0 && len) {
				buf[pos] = c;
			} else if (op == 1 && len + 1 < sizeof buf) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = c;
				len++;
			} else if (op == 2 && len) {
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
			} else if (len) {
				len = pos; /* truncate */
			}
		}
		copy = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf, len);
		r = mt_json_parse(copy, len, t, 64, 8);
		ref = ref_valid(copy, len, 8);
		if (r > 0) {
			check_tokens(copy, len, t, r);
			if (ref != 1)
				ck_abort_msg("accepted what the reference refuses: %.*s", (int)len, (const char *)buf);
			valid++;
		} else if (r == MT_JSON_E_DEPTH) {
			ck_assert_int_eq(ref, -1);
		} else if (r != MT_JSON_E_TOKENS) {
			if (ref == 1)
				ck_abort_msg("refused (%d) what the reference accepts: %.*s", r, (int)len, (const char *)buf);
		}
		agree++;
		free(copy);
	}
	ck_assert_int_eq(agree, 200000);
	ck_assert_int_gt(valid, 1000); /* the loop really exercised valid documents */
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("util_json");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_embedded_nul_and_null_args);
	tcase_add_test(tc, test_token_structure);
	tcase_add_test(tc, test_escaped_keys_and_str_eq);
	tcase_add_test(tc, test_unescape);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_doubles);
	tcase_add_test(tc, test_double_comma_locale);
	tcase_add_test(tc, test_number_length);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_token_cap);
	tcase_add_test(tc, test_tok_hash_and_hexval);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_fuzz_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
