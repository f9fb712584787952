/* test_detect_jsonl.c - the JSON-lines framing shared by the Stratum, CryptoNote and EthProxy detectors: lines across calls, holes, capture starting mid-connection, the unterminated last line at FIN, and what makes a direction not JSON lines. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/jsonl.h"

/* What the framing reported, in order. */
typedef struct rec {
	char objs[16][128]; /* object lines' text */
	uint32_t offs[16];
	int first[16];
	int nobj;
	int foreign;
	int not_mine;
	uint8_t excluded;  /* the detector's flag the framing watches */
	int exclude_on_nm; /* not_mine excludes (a detector that has not detected) */
} rec;

static void on_obj(void *ctx, int dir, const uint8_t *p, uint32_t off, uint32_t n, const mt_json_tok *t,
		   int nt, int first_msg)
{
	rec *r = ctx;

	(void)dir;
	ck_assert_int_gt(nt, 0);
	ck_assert_int_eq(t[0].type, MT_JSON_OBJECT);
	ck_assert_int_lt(r->nobj, 16);
	ck_assert_uint_lt(n, sizeof r->objs[0]);
	memcpy(r->objs[r->nobj], p, n);
	r->objs[r->nobj][n] = 0;
	r->offs[r->nobj] = off;
	r->first[r->nobj] = first_msg;
	r->nobj++;
}

static void on_foreign(void *ctx)
{
	((rec *)ctx)->foreign++;
}

static void on_not_mine(void *ctx)
{
	rec *r = ctx;

	r->not_mine++;
	if (r->exclude_on_nm)
		r->excluded = 1;
}

static const mt_jsonl_ops ops = {
	.max_line = 64, .max_tokens = 16, .max_depth = 4, .max_bad = 2, .long_foreign = 1,
	.object = on_obj, .foreign = on_foreign, .not_mine = on_not_mine,
};

/* The client's stream as s[0, len) (the server's empty), with a hole at gap (0: none). */
static void proc(rec *r, mt_jsonl_dir *d, const uint8_t *s, uint32_t len, uint32_t gap, int midstream,
		 int fin)
{
	mt_flow_view fv;
	mt_jsonl_dir ds[2] = { *d, { 0 } };

	memset(&fv, 0, sizeof fv);
	fv.data[0] = s;
	fv.len[0] = len;
	fv.gap_off[0] = gap;
	fv.midstream[0] = (uint8_t)midstream;
	fv.fin[0] = (uint8_t)fin;
	mt_jsonl_process(&ops, r, ds, &fv, &r->excluded);
	*d = ds[0];
}

/* Feeds s as one direction's stream growing by step bytes per call. */
static void feed(rec *r, mt_jsonl_dir *d, const char *s, size_t step, int midstream, int fin)
{
	size_t n = strlen(s);

	for (size_t len = step < n ? step : n;; len = len + step < n ? len + step : n) {
		proc(r, d, (const uint8_t *)s, (uint32_t)len, 0, midstream,
				 fin && len == n);
		if (len == n)
			break;
	}
}

START_TEST(lines_any_split)
{
	const char *s = "{\"id\":1,\"method\":\"a\"}\n\r\n  \n{\"id\":2}\r\n{\"x\":[1,2]}\n";

	for (size_t step = 1; step <= strlen(s); step++) {
		rec r = { 0 };
		mt_jsonl_dir d = { 0 };

		feed(&r, &d, s, step, 0, 0);
		ck_assert_int_eq(r.nobj, 3);
		ck_assert_str_eq(r.objs[0], "{\"id\":1,\"method\":\"a\"}");
		ck_assert_str_eq(r.objs[1], "{\"id\":2}\r");
		ck_assert_str_eq(r.objs[2], "{\"x\":[1,2]}");
		ck_assert_uint_eq(r.offs[1], 27);
		ck_assert_int_eq(r.first[0], 1);
		ck_assert_int_eq(r.first[1], 0);
		ck_assert_int_eq(r.not_mine + r.foreign, 0);
		ck_assert_uint_eq(d.msgs, 3);
	}
}
END_TEST

START_TEST(not_json_first)
{
	static const char *const starts[] = { "GET / HTTP/1.1\r\n", "\x16\x03\x01\x00\x10", "  [1,2]\n" };

	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		rec r = { .exclude_on_nm = 1 };
		mt_jsonl_dir d = { 0 };

		feed(&r, &d, starts[i], 1, 0, 0);
		ck_assert_int_eq(r.nobj, 0);
		ck_assert_int_ge(r.not_mine, 1);
		ck_assert_int_eq(r.excluded, 1);
	}
}
END_TEST

START_TEST(bad_lines_counted)
{
	/* after a good first line, max_bad non-JSON lines are forgiven, the next one ends the direction */
	rec r = { 0 };
	mt_jsonl_dir d = { 0 };

	feed(&r, &d, "{\"a\":1}\nnope\nnope\nnope\n{\"b\":2}\n", 3, 0, 0);
	ck_assert_int_eq(r.nobj, 1);
	ck_assert_int_eq(r.not_mine, 1);
	ck_assert_uint_eq(d.done, 1);
}
END_TEST

START_TEST(too_big)
{
	rec r = { 0 };
	mt_jsonl_dir d = { 0 };
	char s[256];

	/* too many tokens: foreign, not a verdict */
	snprintf(s, sizeof s, "{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}\n{\"b\":1}\n");
	feed(&r, &d, s, 7, 0, 0);
	ck_assert_int_eq(r.foreign, 1);
	ck_assert_int_eq(r.nobj, 1);
	ck_assert_int_eq(r.not_mine, 0);

	/* an over-long complete line: foreign (long_foreign); an over-long unterminated one: not mine */
	memset(&r, 0, sizeof r);
	memset(&d, 0, sizeof d);
	memset(s, ' ', sizeof s);
	s[0] = '{';
	s[100] = '}';
	s[101] = '\n';
	s[102] = 0;
	feed(&r, &d, s, 200, 0, 0);
	ck_assert_int_eq(r.foreign, 1);
	ck_assert_int_eq(r.nobj, 0);
	memset(&r, 0, sizeof r);
	memset(&d, 0, sizeof d);
	s[101] = ' ';
	feed(&r, &d, s, 200, 0, 0);
	ck_assert_int_eq(r.not_mine, 1);
	ck_assert_uint_eq(d.done, 1);
}
END_TEST

START_TEST(midstream_fragment)
{
	/* the capture began inside a message: the fragment is forgiven, the next line counts */
	rec r = { 0 };
	mt_jsonl_dir d = { 0 };

	feed(&r, &d, "rams\":[1]}\n{\"id\":3}\n", 4, 1, 0);
	ck_assert_int_eq(r.nobj, 1);
	ck_assert_str_eq(r.objs[0], "{\"id\":3}");
	ck_assert_int_eq(r.not_mine, 0);

	/* but binary bytes before the first newline are not JSON lines */
	memset(&r, 0, sizeof r);
	memset(&d, 0, sizeof d);
	feed(&r, &d, "ab\x01\x02\n{\"id\":3}\n", 100, 1, 0);
	ck_assert_int_ge(r.not_mine, 1);
}
END_TEST

START_TEST(hole_resyncs)
{
	const char *s = "{\"id\":1}\n{\"id\":2,\"pa";
	const char *t = "{\"id\":1}\n{\"id\":2,\"paXXXXXX\"}\n{\"id\":4}\n";
	rec r = { 0 };
	mt_jsonl_dir d = { 0 };

	proc(&r, &d, (const uint8_t *)s, (uint32_t)strlen(s), 0, 0, 0);
	ck_assert_int_eq(r.nobj, 1);
	/* a hole at offset 18 (inside the second line): that line is lost, the next one counts */
	proc(&r, &d, (const uint8_t *)t, (uint32_t)strlen(t), 18, 0, 0);
	ck_assert_int_eq(r.nobj, 2);
	ck_assert_str_eq(r.objs[1], "{\"id\":4}");
	ck_assert_int_eq(r.not_mine, 0);
}
END_TEST

START_TEST(fin_tail)
{
	rec r = { 0 };
	mt_jsonl_dir d = { 0 };

	feed(&r, &d, "{\"id\":1}\n{\"id\":2}", 5, 0, 1);
	ck_assert_int_eq(r.nobj, 2);
	ck_assert_str_eq(r.objs[1], "{\"id\":2}");
	ck_assert_uint_eq(d.tail_done, 1);
	/* a tail that does not parse costs nothing */
	memset(&r, 0, sizeof r);
	memset(&d, 0, sizeof d);
	feed(&r, &d, "{\"id\":1}\n{\"id\":", 5, 0, 1);
	ck_assert_int_eq(r.nobj, 1);
	ck_assert_int_eq(r.not_mine + r.foreign, 0);
}
END_TEST

START_TEST(shrink_and_truncations)
{
	const char *s = "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n{\"id\":2}\n";
	size_t n = strlen(s);
	rec r = { 0 };
	mt_jsonl_dir d = { 0 };

	/* every prefix, on its own, alone at FIN: never a read past it, never more than the whole */
	for (size_t k = 0; k <= n; k++) {
		char *b = malloc(k ? k : 1);

		ck_assert_ptr_nonnull(b);
		memcpy(b, s, k);
		memset(&r, 0, sizeof r);
		memset(&d, 0, sizeof d);
		proc(&r, &d, (const uint8_t *)b, (uint32_t)k, 0, 0, 1);
		ck_assert_int_le(r.nobj, 2);
		free(b);
	}
	/* a stream that shrinks is refused */
	memset(&r, 0, sizeof r);
	memset(&d, 0, sizeof d);
	proc(&r, &d, (const uint8_t *)s, (uint32_t)n, 0, 0, 0);
	ck_assert_int_eq(r.nobj, 2);
	proc(&r, &d, (const uint8_t *)s, 3, 0, 0, 0);
	ck_assert_uint_eq(d.done, 1);
	ck_assert_int_eq(r.nobj, 2);
}
END_TEST

static Suite *jsonl_suite(void)
{
	Suite *s = suite_create("detect_jsonl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, lines_any_split);
	tcase_add_test(tc, not_json_first);
	tcase_add_test(tc, bad_lines_counted);
	tcase_add_test(tc, too_big);
	tcase_add_test(tc, midstream_fragment);
	tcase_add_test(tc, hole_resyncs);
	tcase_add_test(tc, fin_tail);
	tcase_add_test(tc, shrink_and_truncations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonl_suite());
	int nf;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
