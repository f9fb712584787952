/* fuzz_json.c - fuzz target: mt_json_parse and its accessors, checked against a small reference parser. */
/*
 * The whole input is one JSON text. The reference below is a plain
 * recursive-descent reading of RFC 8259 (sections 2-7) with the same two
 * limits mt_json documents (nesting depth, MT_JSON_MAX_NUMBER_LEN); it
 * does not validate UTF-8 either (mt_json passes bytes >= 0x80 through).
 * mt_json_parse must accept exactly what it accepts and produce the same
 * tokens. Then every accessor is run over every token and cross-checked.
 */
#include "fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "util/json.h"

#define CAP 512        /* tokens for the main parse */
#define DEPTH 16       /* MT_JSON_DEFAULT_MAX_DEPTH, what most callers use */

/* ---- reference parser ---- */

typedef struct ref {
	const uint8_t *s;
	size_t len, i;
	uint32_t max_depth;
	uint32_t n;         /* tokens produced (may exceed cap: only counted) */
	uint32_t cap;
	mt_json_tok *t;
} ref;

static int r_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void r_skip(ref *r)
{
	while (r->i < r->len && r_ws(r->s[r->i]))
		r->i++;
}

static int r_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int r_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static mt_json_tok *r_tok(ref *r, uint8_t type, uint32_t depth)
{
	mt_json_tok *t = r->n < r->cap ? &r->t[r->n] : NULL;

	if (t) {
		memset(t, 0, sizeof(*t));
		t->type = type;
		t->depth = (uint16_t)depth;
	}
	r->n++;
	return t;
}

/* string at r->i (the opening quote) */
static int r_string(ref *r, uint32_t depth)
{
	size_t b = r->i + 1, i = b;
	int esc = 0;
	mt_json_tok *t;

	for (;;) {
		uint8_t c;

		if (i >= r->len)
			return -1;
		c = r->s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			esc = 1;
			if (i + 1 >= r->len)
				return -1;
			c = r->s[i + 1];
			if (c == 'u') {
				int k;
				if (r->len - i < 6)
					return -1;
				for (k = 2; k < 6; k++)
					if (!r_hex(r->s[i + (size_t)k]))
						return -1;
				i += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || c == 0)
				return -1;
			i += 2;
			continue;
		}
		i++;
	}
	t = r_tok(r, MT_JSON_STRING, depth);
	if (t) {
		t->escaped = (uint8_t)esc;
		t->start = (uint32_t)b;
		t->len = (uint32_t)(i - b);
		t->next = r->n;
	}
	r->i = i + 1;
	return 0;
}

static int r_number(ref *r, uint32_t depth)
{
	size_t b = r->i, i = b;
	mt_json_tok *t;

	if (i < r->len && r->s[i] == '-')
		i++;
	if (i >= r->len || !r_digit(r->s[i]))
		return -1;
	if (r->s[i] == '0')
		i++;
	else
		while (i < r->len && r_digit(r->s[i]))
			i++;
	if (i < r->len && r->s[i] == '.') {
		i++;
		if (i >= r->len || !r_digit(r->s[i]))
			return -1;
		while (i < r->len && r_digit(r->s[i]))
			i++;
	}
	if (i < r->len && (r->s[i] == 'e' || r->s[i] == 'E')) {
		i++;
		if (i < r->len && (r->s[i] == '+' || r->s[i] == '-'))
			i++;
		if (i >= r->len || !r_digit(r->s[i]))
			return -1;
		while (i < r->len && r_digit(r->s[i]))
			i++;
	}
	if (i - b > MT_JSON_MAX_NUMBER_LEN)
		return -1;
	t = r_tok(r, MT_JSON_NUMBER, depth);
	if (t) {
		t->start = (uint32_t)b;
		t->len = (uint32_t)(i - b);
		t->next = r->n;
	}
	r->i = i;
	return 0;
}

static int r_value(ref *r, uint32_t depth);

static int r_container(ref *r, uint32_t depth)
{
	int obj = r->s[r->i] == '{';
	uint32_t me = r->n;
	size_t b = r->i;
	uint32_t count = 0;
	mt_json_tok *t;

	if (depth >= r->max_depth)
		return -1;
	r_tok(r, obj ? MT_JSON_OBJECT : MT_JSON_ARRAY, depth);
	r->i++;
	r_skip(r);
	if (r->i < r->len && r->s[r->i] == (obj ? '}' : ']')) {
		r->i++;
		goto closed;
	}
	for (;;) {
		if (obj) {
			r_skip(r);
			if (r->i >= r->len || r->s[r->i] != '"' || r_string(r, depth + 1) < 0)
				return -1;
			r_skip(r);
			if (r->i >= r->len || r->s[r->i] != ':')
				return -1;
			r->i++;
		}
		if (r_value(r, depth + 1) < 0)
			return -1;
		count++;
		r_skip(r);
		if (r->i >= r->len)
			return -1;
		if (r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->s[r->i] != (obj ? '}' : ']'))
			return -1;
		r->i++;
		break;
	}
closed:
	t = me < r->cap ? &r->t[me] : NULL;
	if (t) {
		t->start = (uint32_t)b;
		t->len = (uint32_t)(r->i - b);
		t->size = count;
		t->next = r->n;
	}
	return 0;
}

static int r_literal(ref *r, const char *lit, uint8_t type, uint32_t depth)
{
	size_t n = strlen(lit);
	mt_json_tok *t;

	if (r->len - r->i < n || memcmp(r->s + r->i, lit, n) != 0)
		return -1;
	t = r_tok(r, type, depth);
	if (t) {
		t->start = (uint32_t)r->i;
		t->len = (uint32_t)n;
		t->next = r->n;
	}
	r->i += n;
	return 0;
}

static int r_value(ref *r, uint32_t depth)
{
	uint8_t c;

	r_skip(r);
	if (r->i >= r->len)
		return -1;
	c = r->s[r->i];
	switch (c) {
	case '{':
	case '[':
		return r_container(r, depth);
	case '"':
		return r_string(r, depth);
	case 't':
		return r_literal(r, "true", MT_JSON_TRUE, depth);
	case 'f':
		return r_literal(r, "false", MT_JSON_FALSE, depth);
	case 'n':
		return r_literal(r, "null", MT_JSON_NULL, depth);
	default:
		return (c == '-' || r_digit(c)) ? r_number(r, depth) : -1;
	}
}

/* Number of tokens of the one JSON value in s, or -1 if s is not exactly that. */
static int ref_parse(const uint8_t *s, size_t len, mt_json_tok *toks, uint32_t cap,
		     uint32_t max_depth)
{
	ref r = {s, len, 0, max_depth, 0, cap, toks};

	if (r_value(&r, 0) < 0)
		return -1;
	r_skip(&r);
	return r.i == len ? (int)r.n : -1;
}

/* ---- accessor checks ---- */

/* A NUL-terminated copy of a number literal, for libc's converters. */
static void lit(const uint8_t *s, const mt_json_tok *t, char *out, size_t cap)
{
	size_t n = t->len < cap - 1 ? t->len : cap - 1;

	memcpy(out, s + t->start, n);
	out[n] = '\0';
}

static int is_int_literal(const char *p)
{
	if (*p == '-')
		p++;
	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static void check_number(const uint8_t *s, const mt_json_tok *t)
{
	char buf[MT_JSON_MAX_NUMBER_LEN + 8];
	int64_t i64;
	uint64_t u64;
	double d;
	int ri, ru, rd;

	lit(s, t, buf, sizeof(buf));
	ri = mt_json_i64(s, t, &i64);
	ru = mt_json_u64(s, t, &u64);
	rd = mt_json_double(s, t, &d);
	if (is_int_literal(buf)) {
		char *e;
		errno = 0;
		long long want = strtoll(buf, &e, 10);
		int fits = errno == 0 && *e == '\0';
		MT_FUZZ_CHECK((ri == 0) == fits);
		if (ri == 0)
			MT_FUZZ_CHECK(i64 == want);
		if (buf[0] != '-') {
			unsigned long long uw;
			errno = 0;
			uw = strtoull(buf, &e, 10);
			fits = errno == 0 && *e == '\0';
			MT_FUZZ_CHECK((ru == 0) == fits);
			if (ru == 0)
				MT_FUZZ_CHECK(u64 == uw);
		} else {
			MT_FUZZ_CHECK(ru < 0);
		}
	} else {
		/* "1.0", "1e3": documented as not integral */
		MT_FUZZ_CHECK(ri < 0 && ru < 0);
	}
	if (rd == 0) {
		char *e;
		double want = strtod(buf, &e);
		MT_FUZZ_CHECK(isfinite(d));
		MT_FUZZ_CHECK(d == want);
	} else {
		/* only overflow is refused: the literal is valid JSON */
		MT_FUZZ_CHECK(!isfinite(strtod(buf, NULL)));
	}
}

static void check_string(const uint8_t *s, const mt_json_tok *t)
{
	char out[256], small[8];
	int n, m;

	n = mt_json_str(s, t, out, sizeof(out));
	MT_FUZZ_CHECK(n < (int)sizeof(out));
	if (n >= 0) {
		MT_FUZZ_CHECK(out[n] == '\0');
		/* \u0000 is refused, so the result is a C string of exactly n bytes */
		MT_FUZZ_CHECK(strlen(out) == (size_t)n);
		if (!t->escaped)
			MT_FUZZ_CHECK((size_t)n == t->len && memcmp(out, s + t->start, t->len) == 0);
		/* str_eq and str agree */
		MT_FUZZ_CHECK(mt_json_str_eq(s, t, out) == 1);
		/* a smaller buffer: the same string or a clean refusal */
		m = mt_json_str(s, t, small, sizeof(small));
		if (n < (int)sizeof(small))
			MT_FUZZ_CHECK(m == n && memcmp(small, out, (size_t)n + 1) == 0);
		else
			MT_FUZZ_CHECK(m == -1 && small[0] == '\0');
	} else {
		MT_FUZZ_CHECK(out[0] == '\0');
		if (!t->escaped)
			MT_FUZZ_CHECK(t->len >= sizeof(out));
	}
	MT_FUZZ_CHECK(mt_json_str(s, t, out, 0) == -1);
}

static void check_tokens(const uint8_t *s, size_t len, const mt_json_tok *toks, int n)
{
	char key[256];
	int i;

	for (i = 0; i < n; i++) {
		const mt_json_tok *t = &toks[i];

		MT_FUZZ_CHECK(t->start <= len && t->len <= len - t->start);
		MT_FUZZ_CHECK(t->next > (uint32_t)i && t->next <= (uint32_t)n);
		switch (t->type) {
		case MT_JSON_STRING:
			check_string(s, t);
			break;
		case MT_JSON_NUMBER:
			check_number(s, t);
			break;
		case MT_JSON_OBJECT: {
			uint32_t m, k = (uint32_t)i + 1;
			for (m = 0; m < t->size; m++) {
				int v, kl;
				MT_FUZZ_CHECK(k + 1 < (uint32_t)n && toks[k].type == MT_JSON_STRING);
				kl = mt_json_str(s, &toks[k], key, sizeof(key));
				if (kl >= 0) {
					/* the first member of that name; it may be an earlier duplicate */
					v = mt_json_get(s, toks, n, i, key);
					MT_FUZZ_CHECK(v > i && (uint32_t)v <= k + 1);
					MT_FUZZ_CHECK(mt_json_str_eq(s, &toks[v - 1], key) == 1);
				}
				k = toks[k + 1].next;
			}
			MT_FUZZ_CHECK(k == t->next);
			MT_FUZZ_CHECK(mt_json_at(toks, n, i, 0) == -1);
			break;
		}
		case MT_JSON_ARRAY: {
			uint32_t m, k = (uint32_t)i + 1;
			for (m = 0; m < t->size; m++) {
				MT_FUZZ_CHECK(mt_json_at(toks, n, i, m) == (int)k);
				k = toks[k].next;
			}
			MT_FUZZ_CHECK(k == t->next);
			MT_FUZZ_CHECK(mt_json_at(toks, n, i, t->size) == -1);
			MT_FUZZ_CHECK(mt_json_get(s, toks, n, i, "id") == -1);
			break;
		}
		case MT_JSON_TRUE:
		case MT_JSON_FALSE:
		case MT_JSON_NULL:
			break;
		default:
			MT_FUZZ_CHECK(!"token of no known type");
		}
	}
}

static void same_tokens(const mt_json_tok *a, const mt_json_tok *b, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		MT_FUZZ_CHECK(a[i].type == b[i].type);
		MT_FUZZ_CHECK(a[i].start == b[i].start && a[i].len == b[i].len);
		MT_FUZZ_CHECK(a[i].depth == b[i].depth);
		MT_FUZZ_CHECK(a[i].size == b[i].size && a[i].next == b[i].next);
		if (a[i].type == MT_JSON_STRING)
			MT_FUZZ_CHECK(a[i].escaped == b[i].escaped);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mt_json_tok toks[CAP], ref_toks[CAP], small[CAP];
	uint32_t scap, sdepth;
	int n, want, m;

	if (size > 1u << 20)
		return 0;
	n = mt_json_parse(data, size, toks, CAP, DEPTH);
	want = size ? ref_parse(data, size, ref_toks, CAP, DEPTH) : -1;
	if (want < 0) {
		MT_FUZZ_CHECK(n < 0);
	} else if (want > CAP) {
		MT_FUZZ_CHECK(n == MT_JSON_E_TOKENS);
	} else {
		MT_FUZZ_CHECK(n == want);
		same_tokens(toks, ref_toks, n);
		check_tokens(data, size, toks, n);
	}
	MT_FUZZ_CHECK(n >= 0 || n == MT_JSON_E_SYNTAX || n == MT_JSON_E_DEPTH ||
		      n == MT_JSON_E_TOKENS || n == MT_JSON_E_NUMBER || n == MT_JSON_E_TRAILING);

	/* Tight limits (as the stratum detector sets them): same tokens, or a refusal. */
	scap = (uint32_t)(size % 19);
	sdepth = 1 + (uint32_t)(size % 9);
	m = mt_json_parse(data, size, small, scap, sdepth);
	want = size ? ref_parse(data, size, ref_toks, CAP, sdepth) : -1;
	if (want < 0 || (uint32_t)want > scap) {
		MT_FUZZ_CHECK(m < 0);
	} else {
		MT_FUZZ_CHECK(m == want);
		same_tokens(small, ref_toks, m);
	}
	/* No token array at all: nothing written, never a success with tokens. */
	m = mt_json_parse(data, size, NULL, 0, 0);
	MT_FUZZ_CHECK(m <= 0);
	return 0;
}
