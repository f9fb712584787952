/* json.c - strict, bounded, non-allocating JSON tokenizer (RFC 8259) for untrusted lines. */
#include "util/json.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The parser is a loop over an explicit state, never a recursion: the chain
 * of open containers is kept in the tokens themselves (an open container's
 * `next` holds its parent's index + 1 until it closes), so nesting costs no C
 * stack and no memory beyond the caller's token array.
 */

enum pstate {
	P_VALUE,         /* a value is required */
	P_VALUE_OR_END,  /* just after '[' */
	P_KEY,           /* after ',' in an object */
	P_KEY_OR_END,    /* just after '{' */
	P_COLON,         /* after a key */
	P_COMMA_OR_END   /* after a value inside a container */
};

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*
 * Scans a string whose opening quote is at s[i]. On success *end is the
 * index of the closing quote and *esc tells whether a backslash occurred.
 * RFC 8259 section 7: control characters must be escaped; only the listed
 * escapes exist; \u takes exactly four hex digits.
 */
static int scan_string(const uint8_t *s, size_t len, size_t i, size_t *end, int *esc)
{
	*esc = 0;
	i++;
	while (i < len) {
		uint8_t c = s[i];

		if (c == '"') {
			*end = i;
			return 0;
		}
		if (c < 0x20)
			return MT_JSON_E_SYNTAX;
		if (c == '\\') {
			*esc = 1;
			if (len - i < 2)
				return MT_JSON_E_SYNTAX;
			c = s[i + 1];
			if (c == 'u') {
				if (len - i < 6)
					return MT_JSON_E_SYNTAX;
				for (size_t k = 2; k < 6; k++)
					if (mt_json_hexval(s[i + k]) < 0)
						return MT_JSON_E_SYNTAX;
				i += 6;
				continue;
			}
			if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' &&
			    c != 'n' && c != 'r' && c != 't')
				return MT_JSON_E_SYNTAX;
			i += 2;
			continue;
		}
		i++;
	}
	return MT_JSON_E_SYNTAX; /* unterminated */
}

/*
 * Scans a number starting at s[i] (RFC 8259 section 6 grammar: no leading
 * zeros, no '+', digits required around '.' and after 'e'). *end is one past
 * its last byte.
 */
static int scan_number(const uint8_t *s, size_t len, size_t i, size_t *end)
{
	size_t b = i;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len)
		return MT_JSON_E_SYNTAX;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < len && is_digit(s[i]) && i - b <= MT_JSON_MAX_NUMBER_LEN)
			i++;
	} else {
		return MT_JSON_E_SYNTAX;
	}
	if (i < len && s[i] == '.') {
		i++;
		if (i >= len || !is_digit(s[i]))
			return MT_JSON_E_SYNTAX;
		while (i < len && is_digit(s[i]) && i - b <= MT_JSON_MAX_NUMBER_LEN)
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return MT_JSON_E_SYNTAX;
		while (i < len && is_digit(s[i]) && i - b <= MT_JSON_MAX_NUMBER_LEN)
			i++;
	}
	if (i - b > MT_JSON_MAX_NUMBER_LEN)
		return MT_JSON_E_NUMBER;
	/* "01", "1.2.3", "1e5e5", "-0-": a number glued to more number text */
	if (i < len && (is_digit(s[i]) || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
			s[i] == '+' || s[i] == '-'))
		return MT_JSON_E_SYNTAX;
	*end = i;
	return 0;
}

static int scan_literal(const uint8_t *s, size_t len, size_t i, const char *lit,
			size_t *end)
{
	size_t n = strlen(lit);

	if (len - i < n || memcmp(s + i, lit, n) != 0)
		return MT_JSON_E_SYNTAX;
	i += n;
	if (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			is_digit(s[i]) || s[i] == '_'))
		return MT_JSON_E_SYNTAX;
	*end = i;
	return 0;
}

int mt_json_parse(const uint8_t *s, size_t len, mt_json_tok *toks, uint32_t cap,
		  uint32_t max_depth)
{
	enum pstate st = P_VALUE;
	uint32_t n = 0;       /* tokens used */
	uint32_t level = 0;   /* open containers */
	uint32_t cur = 0;     /* index + 1 of the innermost open container (0: none) */
	size_t i = 0;

	if (!s || len == 0 || len > UINT32_MAX)
		return MT_JSON_E_SYNTAX;
	if (!toks)
		cap = 0;
	if (cap > INT_MAX)
		cap = INT_MAX;
	if (max_depth == 0) /* 0 asks for the default, never "scalars only" */
		max_depth = MT_JSON_DEFAULT_MAX_DEPTH;

	for (;;) {
		uint8_t c;
		mt_json_tok *t;
		size_t end;
		int r, esc;

		while (i < len && is_ws(s[i]))
			i++;
		if (i >= len)
			return MT_JSON_E_SYNTAX; /* truncated */
		c = s[i];

		switch (st) {
		case P_COLON:
			if (c != ':')
				return MT_JSON_E_SYNTAX;
			i++;
			st = P_VALUE;
			continue;
		case P_COMMA_OR_END:
			if (c == ',') {
				i++;
				st = toks[cur - 1].type == MT_JSON_OBJECT ? P_KEY : P_VALUE;
				continue;
			}
			break; /* a closing bracket, checked below */
		case P_KEY:
		case P_KEY_OR_END:
			if (c == '"') {
				r = scan_string(s, len, i, &end, &esc);
				if (r)
					return r;
				if (n >= cap)
					return MT_JSON_E_TOKENS;
				t = &toks[n];
				t->type = MT_JSON_STRING;
				t->escaped = (uint8_t)esc;
				t->depth = (uint16_t)(level > UINT16_MAX ? UINT16_MAX : level);
				t->start = (uint32_t)(i + 1);
				t->len = (uint32_t)(end - i - 1);
				t->size = 0;
				t->next = n + 1;
				n++;
				toks[cur - 1].size++;
				i = end + 1;
				st = P_COLON;
				continue;
			}
			if (st == P_KEY || c != '}')
				return MT_JSON_E_SYNTAX;
			break; /* "{}" */
		case P_VALUE:
		case P_VALUE_OR_END:
			if (c == ']' && st == P_VALUE_OR_END)
				break; /* "[]" */
			if (c == '{' || c == '[') {
				if (level >= max_depth)
					return MT_JSON_E_DEPTH;
				if (n >= cap)
					return MT_JSON_E_TOKENS;
				t = &toks[n];
				t->type = c == '{' ? MT_JSON_OBJECT : MT_JSON_ARRAY;
				t->escaped = 0;
				t->depth = (uint16_t)(level > UINT16_MAX ? UINT16_MAX : level);
				t->start = (uint32_t)i;
				t->len = 0;
				t->size = 0;
				t->next = cur; /* parent link until closed */
				if (cur && toks[cur - 1].type == MT_JSON_ARRAY)
					toks[cur - 1].size++;
				n++;
				cur = n;
				level++;
				i++;
				st = c == '{' ? P_KEY_OR_END : P_VALUE_OR_END;
				continue;
			}
			if (c == '"') {
				r = scan_string(s, len, i, &end, &esc);
				if (r)
					return r;
				if (n >= cap)
					return MT_JSON_E_TOKENS;
				t = &toks[n];
				t->type = MT_JSON_STRING;
				t->escaped = (uint8_t)esc;
				t->start = (uint32_t)(i + 1);
				t->len = (uint32_t)(end - i - 1);
				end++;
			} else {
				uint8_t type;

				if (c == '-' || is_digit(c)) {
					r = scan_number(s, len, i, &end);
					type = MT_JSON_NUMBER;
				} else if (c == 't') {
					r = scan_literal(s, len, i, "true", &end);
					type = MT_JSON_TRUE;
				} else if (c == 'f') {
					r = scan_literal(s, len, i, "false", &end);
					type = MT_JSON_FALSE;
				} else if (c == 'n') {
					r = scan_literal(s, len, i, "null", &end);
					type = MT_JSON_NULL;
				} else {
					return MT_JSON_E_SYNTAX;
				}
				if (r)
					return r;
				if (n >= cap)
					return MT_JSON_E_TOKENS;
				t = &toks[n];
				t->type = type;
				t->escaped = 0;
				t->start = (uint32_t)i;
				t->len = (uint32_t)(end - i);
			}
			t->depth = (uint16_t)(level > UINT16_MAX ? UINT16_MAX : level);
			t->size = 0;
			t->next = n + 1;
			if (cur && toks[cur - 1].type == MT_JSON_ARRAY)
				toks[cur - 1].size++;
			n++;
			i = end;
			if (!cur)
				goto done;
			st = P_COMMA_OR_END;
			continue;
		}

		/* Here c must close the innermost container. */
		{
			mt_json_tok *o = &toks[cur - 1];
			uint32_t parent;

			if (c != (o->type == MT_JSON_OBJECT ? '}' : ']'))
				return MT_JSON_E_SYNTAX;
			parent = o->next;
			o->next = n;
			o->len = (uint32_t)(i + 1 - o->start);
			cur = parent;
			level--;
			i++;
			if (!cur)
				goto done;
			st = P_COMMA_OR_END;
		}
	}
done:
	while (i < len && is_ws(s[i]))
		i++;
	if (i != len)
		return MT_JSON_E_TRAILING;
	return (int)n;
}

/*
 * Decodes the escape or raw byte at s[*i] (i < end) into UTF-8 in out[4].
 * Returns the number of bytes written, or -1 for a bad escape: a lone or
 * reversed surrogate, or U+0000 (our outputs are C strings).
 */
static int unescape_one(const uint8_t *s, size_t end, size_t *i, uint8_t out[4])
{
	uint32_t cp;
	size_t p = *i;

	if (s[p] != '\\') {
		out[0] = s[p];
		*i = p + 1;
		return 1;
	}
	if (end - p < 2)
		return -1;
	switch (s[p + 1]) {
	case '"': out[0] = '"'; break;
	case '\\': out[0] = '\\'; break;
	case '/': out[0] = '/'; break;
	case 'b': out[0] = '\b'; break;
	case 'f': out[0] = '\f'; break;
	case 'n': out[0] = '\n'; break;
	case 'r': out[0] = '\r'; break;
	case 't': out[0] = '\t'; break;
	case 'u':
		goto unicode;
	default:
		return -1;
	}
	*i = p + 2;
	return 1;

unicode:
	if (end - p < 6)
		return -1;
	cp = 0;
	for (size_t k = 2; k < 6; k++) {
		int h = mt_json_hexval(s[p + k]);

		if (h < 0)
			return -1;
		cp = (cp << 4) | (uint32_t)h;
	}
	p += 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return -1; /* low surrogate without a high one */
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		uint32_t lo = 0;

		if (end - p < 6 || s[p] != '\\' || s[p + 1] != 'u')
			return -1;
		for (size_t k = 2; k < 6; k++) {
			int h = mt_json_hexval(s[p + k]);

			if (h < 0)
				return -1;
			lo = (lo << 4) | (uint32_t)h;
		}
		if (lo < 0xDC00 || lo > 0xDFFF)
			return -1;
		p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp == 0)
		return -1;
	*i = p;
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

int mt_json_str_eq(const uint8_t *s, const mt_json_tok *t, const char *lit)
{
	size_t n, i, end, li = 0;

	if (!s || !t || !lit || t->type != MT_JSON_STRING)
		return 0;
	n = strlen(lit);
	if (!t->escaped)
		return t->len == n && memcmp(s + t->start, lit, n) == 0;
	i = t->start;
	end = (size_t)t->start + t->len;
	while (i < end) {
		uint8_t u[4];
		int k = unescape_one(s, end, &i, u);

		if (k < 0 || n - li < (size_t)k || memcmp(lit + li, u, (size_t)k) != 0)
			return 0;
		li += (size_t)k;
	}
	return li == n;
}

int mt_json_str(const uint8_t *s, const mt_json_tok *t, char *out, size_t cap)
{
	size_t i, end, o = 0;

	if (!out || cap == 0)
		return -1;
	out[0] = '\0';
	if (!s || !t || t->type != MT_JSON_STRING)
		return -1;
	i = t->start;
	end = (size_t)t->start + t->len;
	if (!t->escaped) {
		if (t->len >= cap || t->len > INT_MAX)
			return -1;
		memcpy(out, s + i, t->len);
		out[t->len] = '\0';
		return (int)t->len;
	}
	while (i < end) {
		uint8_t u[4];
		int k = unescape_one(s, end, &i, u);

		if (k < 0 || cap - 1 - o < (size_t)k || o + (size_t)k > INT_MAX) {
			out[0] = '\0';
			return -1;
		}
		memcpy(out + o, u, (size_t)k);
		o += (size_t)k;
	}
	out[o] = '\0';
	return (int)o;
}

int mt_json_get(const uint8_t *s, const mt_json_tok *toks, int ntoks, int obj,
		const char *key)
{
	uint32_t i, m;

	if (!s || !toks || !key || obj < 0 || obj >= ntoks ||
	    toks[obj].type != MT_JSON_OBJECT)
		return -1;
	i = (uint32_t)obj + 1;
	for (m = 0; m < toks[obj].size; m++) {
		if (i + 1 >= (uint32_t)ntoks)
			return -1;
		if (mt_json_str_eq(s, &toks[i], key))
			return (int)(i + 1);
		i = toks[i + 1].next;
		if (i <= (uint32_t)obj) /* defensive: tokens not from mt_json_parse */
			return -1;
	}
	return -1;
}

int mt_json_at(const mt_json_tok *toks, int ntoks, int arr, uint32_t i)
{
	uint32_t j;

	if (!toks || arr < 0 || arr >= ntoks || toks[arr].type != MT_JSON_ARRAY ||
	    i >= toks[arr].size)
		return -1;
	j = (uint32_t)arr + 1;
	while (i-- > 0) {
		if (j >= (uint32_t)ntoks)
			return -1;
		j = toks[j].next;
	}
	return j < (uint32_t)ntoks ? (int)j : -1;
}

/* Splits an integer literal: sign and digits; -1 for fractions and exponents. */
static int int_digits(const uint8_t *s, const mt_json_tok *t, int *neg, size_t *b, size_t *e)
{
	size_t i, end;

	if (!s || !t || t->type != MT_JSON_NUMBER || t->len == 0 ||
	    t->len > MT_JSON_MAX_NUMBER_LEN)
		return -1;
	i = t->start;
	end = (size_t)t->start + t->len;
	*neg = 0;
	if (s[i] == '-') {
		*neg = 1;
		i++;
	}
	if (i >= end)
		return -1;
	for (size_t k = i; k < end; k++)
		if (!is_digit(s[k]))
			return -1; /* "1.0", "1e3": not an integer literal */
	if (s[i] == '0' && end - i > 1)
		return -1;
	*b = i;
	*e = end;
	return 0;
}

int mt_json_u64(const uint8_t *s, const mt_json_tok *t, uint64_t *v)
{
	size_t b, e;
	int neg;
	uint64_t x = 0;

	if (int_digits(s, t, &neg, &b, &e) || neg)
		return -1;
	for (size_t k = b; k < e; k++) {
		uint64_t d = (uint64_t)(s[k] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	if (v)
		*v = x;
	return 0;
}

int mt_json_i64(const uint8_t *s, const mt_json_tok *t, int64_t *v)
{
	size_t b, e;
	int neg;
	uint64_t x = 0, lim;

	if (int_digits(s, t, &neg, &b, &e))
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t k = b; k < e; k++) {
		uint64_t d = (uint64_t)(s[k] - '0');

		if (x > (lim - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	if (v) {
		if (!neg)
			*v = (int64_t)x;
		else if (x == (uint64_t)INT64_MAX + 1)
			*v = INT64_MIN;
		else
			*v = -(int64_t)x;
	}
	return 0;
}

int mt_json_double(const uint8_t *s, const mt_json_tok *t, double *v)
{
	char buf[MT_JSON_MAX_NUMBER_LEN + 1];
	char *endp;
	double d;

	if (!s || !t || t->type != MT_JSON_NUMBER || t->len == 0 ||
	    t->len > MT_JSON_MAX_NUMBER_LEN)
		return -1;
	memcpy(buf, s + t->start, t->len);
	buf[t->len] = '\0';
	errno = 0;
	d = strtod(buf, &endp);
	if (*endp != '\0') {
		/* strtod follows LC_NUMERIC; JSON's decimal point is always '.' */
		const struct lconv *lc = localeconv();
		char *dot = memchr(buf, '.', t->len);

		if (!dot || !lc || !lc->decimal_point || strlen(lc->decimal_point) != 1)
			return -1;
		*dot = lc->decimal_point[0];
		errno = 0;
		d = strtod(buf, &endp);
		if (*endp != '\0')
			return -1;
	}
	if (!isfinite(d))
		return -1; /* overflow: "1e999" */
	/* ERANGE with a finite result is underflow to (nearly) zero: keep it */
	if (v)
		*v = d;
	return 0;
}

uint64_t mt_json_tok_hash(const uint8_t *s, const mt_json_tok *t)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	const uint8_t *p = s + t->start;

	h ^= t->type;
	h *= 0x100000001b3ULL;
	for (uint32_t k = 0; k < t->len; k++) {
		h ^= p[k];
		h *= 0x100000001b3ULL;
	}
	return h;
}
