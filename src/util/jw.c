/* jw.c - a JSON writer into a growable buffer; output is valid JSON (RFC 8259) for any input bytes. */
#include "util/jw.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mt_jw_init(mt_jw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = 1;
}

void mt_jw_free(mt_jw *w)
{
	if (!w)
		return;
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void mt_jw_reset(mt_jw *w)
{
	w->len = 0;
	w->err = 0;
	w->depth = 0;
	w->first[0] = 1;
	w->after_key = 0;
	if (w->buf)
		w->buf[0] = '\0';
}

/* The slow half of jw_reserve: grows the buffer. Returns 0 or -1 (err set). */
static int jw_grow(mt_jw *w, size_t n)
{
	size_t need, ncap;
	char *nb;

	if (w->err)
		return -1;
	if (n > SIZE_MAX / 2 - w->len) {
		w->err = 1;
		return -1;
	}
	need = w->len + n + 1;
	ncap = w->cap ? w->cap : 512;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(w->buf, ncap);
	if (!nb) {
		w->err = 1;
		return -1;
	}
	w->buf = nb;
	w->cap = ncap;
	return 0;
}

/* Makes room for n more bytes plus a NUL. Returns 0 or -1 (err set). Inline: a record makes ~100 calls. */
static inline int jw_reserve(mt_jw *w, size_t n)
{
	if (__builtin_expect(!w->err && w->cap - w->len > n, 1))
		return 0;
	return jw_grow(w, n);
}

static inline void jw_put(mt_jw *w, const char *s, size_t n)
{
	if (jw_reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static inline void jw_putc(mt_jw *w, char c)
{
	if (jw_reserve(w, 1) < 0)
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* Comma between values, nothing after a key. */
static inline void jw_sep(mt_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		jw_putc(w, ',');
	w->first[w->depth] = 0;
}

static void jw_open(mt_jw *w, char c)
{
	jw_sep(w);
	jw_putc(w, c);
	if (w->depth + 1 >= MT_JW_MAX_DEPTH) {
		w->err = 1; /* a programming error, not a data one */
		return;
	}
	w->depth++;
	w->first[w->depth] = 1;
}

static void jw_close(mt_jw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	jw_putc(w, c);
}

void mt_jw_obj_open(mt_jw *w)
{
	jw_open(w, '{');
}

void mt_jw_obj_close(mt_jw *w)
{
	jw_close(w, '}');
}

void mt_jw_arr_open(mt_jw *w)
{
	jw_open(w, '[');
}

void mt_jw_arr_close(mt_jw *w)
{
	jw_close(w, ']');
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid (RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return need;
}

/* Bytes copied into a JSON string as they are: printable ASCII but the quote and the backslash. */
static const uint8_t jw_plain[256] = {
	[0x20 ... 0x21] = 1, /* '"' is 0x22 */
	[0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
	[0x5d ... 0x7f] = 1,
};

/*
 * Whether 8 bytes (read with memcpy, either byte order) are all plain: none
 * is a control byte, '"', '\\' or >= 0x80. Each test is the classic "some
 * byte is zero / below n" word trick: a borrow can only flag a byte above a
 * byte that really matches, so the answer is exact for the word as a whole.
 */
#define JW_ONES 0x0101010101010101ull
#define JW_HIGH 0x8080808080808080ull
static inline int jw_plain8(uint64_t x)
{
	uint64_t ctl = (x - JW_ONES * 0x20) & ~x;
	uint64_t q = x ^ (JW_ONES * '"'), bs = x ^ (JW_ONES * '\\');

	q = (q - JW_ONES) & ~q;
	bs = (bs - JW_ONES) & ~bs;
	return ((x | ctl | q | bs) & JW_HIGH) == 0;
}

/*
 * One reservation for the worst case, then bytes straight into the buffer:
 * the hit path writes some fifty strings a record, and a reserve and a NUL
 * per run of plain bytes cost more than the copying. Runs of plain ASCII go
 * 8 bytes at a time; anything else takes the byte path below.
 */
static void jw_string(mt_jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	char *o;

	/* At most 6 bytes out per byte in (\u00XX; U+FFFD is 3, UTF-8 is copied), plus the quotes. */
	if (n > (SIZE_MAX / 2 - 2) / 6) {
		w->err = 1;
		return;
	}
	if (jw_reserve(w, 6 * n + 2) < 0)
		return;
	o = w->buf + w->len;
	*o++ = '"';
	while (i < n) {
		unsigned char c;
		uint64_t x;

		if (n - i >= 8) {
			memcpy(&x, p + i, 8);
			if (jw_plain8(x)) {
				memcpy(o, &x, 8);
				o += 8;
				i += 8;
				continue;
			}
		} else if (n >= 8) {
			/*
			 * The last 1..7 bytes: the string's last 8 bytes in one test. If
			 * they are all plain, those already written were copied as they
			 * are and end at o, so the 8 bytes are stored over them.
			 */
			size_t r = n - i;

			memcpy(&x, p + n - 8, 8);
			if (jw_plain8(x)) {
				memcpy(o - (8 - r), &x, 8);
				o += r;
				break;
			}
		}
		c = p[i];
		if (__builtin_expect(jw_plain[c], 1)) {
			*o++ = (char)c;
			i++;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			i++;
		} else if (c < 0x20) {
			*o++ = '\\';
			switch (c) {
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
				break;
			}
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0) {
				memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD */
				o += 3;
				i++;
			} else {
				memcpy(o, p + i, l);
				o += l;
				i += l;
			}
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

void mt_jw_key(mt_jw *w, const char *key)
{
	jw_sep(w);
	jw_string(w, key, strlen(key));
	jw_putc(w, ':');
	w->after_key = 1;
}

void mt_jw_str(mt_jw *w, const char *s)
{
	jw_sep(w);
	jw_string(w, s ? s : "", s ? strlen(s) : 0);
}

void mt_jw_strn(mt_jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_string(w, s ? s : "", s ? n : 0);
}

void mt_jw_key_lit(mt_jw *w, const char *quoted, size_t n)
{
	jw_sep(w);
	jw_put(w, quoted, n);
	w->after_key = 1;
}

void mt_jw_member_lit(mt_jw *w, const char *text, size_t n)
{
	jw_sep(w);
	jw_put(w, text, n);
}

/* "00" .. "99": two digits per division (no printf on the hit path). */
static const char jw_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Writes the decimal digits of v to end at `end`; returns where they start. */
static inline char *u64_back(uint64_t v, char *end)
{
	char *p = end;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, jw_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, jw_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* Decimal digits of v at the end of b[24]; returns where they start. */
static char *u64_digits(uint64_t v, char b[24])
{
	return u64_back(v, b + 24);
}

static inline size_t u64_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

void mt_jw_u64(mt_jw *w, uint64_t v)
{
	size_t n = u64_len(v);

	jw_sep(w);
	if (jw_reserve(w, n) < 0)
		return;
	/* straight into the buffer: no copy of a variable length (ports, counters: eight a record) */
	u64_back(v, w->buf + w->len + n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void mt_jw_i64(mt_jw *w, int64_t v)
{
	char b[24];
	char *p = u64_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, b);

	if (v < 0)
		*--p = '-';
	jw_sep(w);
	jw_put(w, p, (size_t)(b + 24 - p));
}

/* Exact powers of ten: every 10^k up to 10^22 is a double (5^22 < 2^53). */
static const double jw_p10[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * The fast path of jw_fmt_double for a non-integral v that is a decimal of at
 * most 15 significant digits, 1e-4 <= |v| < 1e15 (confidences, most rates):
 * the same text as the "%.*g" loop, without printf. Returns the length, or 0
 * to fall back.
 *
 * Why it is the same: m / 10^k with m < 2^53 and k <= 22 is one correctly
 * rounded division, i.e. what strtod gives for the text "m e-k" (Clinger's
 * fast path), so when it equals v that text reads back to v. With at most 15
 * digits it is the only such decimal of <= 15 digits, and %.Pg (P >= its
 * digits) rounds v to it, since v lies within half an ulp of it and the
 * P-digit grid is far coarser than an ulp. The loop's answer is P = max(digits,
 * 6); in %g's fixed form (exponent -4 <= X < P) trailing zeros are dropped.
 */
static size_t jw_fmt_short(double v, char *b)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
	double a = fabs(v);
	int k;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (k = 1; k <= 22; k++) {
		double t = a * jw_p10[k];
		uint64_t m;

		if (t >= 1e15)
			return 0; /* more than 15 digits */
		m = (uint64_t)(t + 0.5);
		if ((double)m / jw_p10[k] == a) {
			char d[24], *dp = u64_digits(m, d), *o = b;
			int s = (int)(d + 24 - dp), x = s - 1 - k;

			if (m % 10 == 0 || x < -4)
				return 0; /* not the shortest k, or %g's exponent form: leave it to printf */
			if (v < 0)
				*o++ = '-';
			if (x >= 0) {
				memcpy(o, dp, (size_t)x + 1);
				o += x + 1;
				*o++ = '.';
				memcpy(o, dp + x + 1, (size_t)k);
				o += k;
			} else {
				*o++ = '0';
				*o++ = '.';
				for (int z = 0; z < -x - 1; z++)
					*o++ = '0';
				memcpy(o, dp, (size_t)s);
				o += s;
			}
			return (size_t)(o - b);
		}
	}
#else
	(void)v;
	(void)b;
	(void)jw_p10;
#endif
	return 0;
}

/*
 * v (finite) as JSON: an integral value below 2^53 as "%.0f" wrote it, else
 * the shortest "%.*g" with 6 to 17 digits that reads back to v. b >= 40 bytes.
 */
static size_t jw_fmt_double(double v, char *b)
{
	int n, prec;

	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		char d[24], *p = u64_digits((uint64_t)fabs(v), d), *o = b;

		if (signbit(v))
			*o++ = '-'; /* "%.0f" writes -0 as "-0" */
		memcpy(o, p, (size_t)(d + 24 - p));
		return (size_t)(o - b) + (size_t)(d + 24 - p);
	}
	n = (int)jw_fmt_short(v, b);
	if (n > 0)
		return (size_t)n;
	if (fabs(v) < DBL_MIN) {
		/* subnormal: fewer bits than 15 digits, so the argument below fails; the plain loop */
		for (prec = 6; prec <= 17; prec++) {
			n = snprintf(b, 40, "%.*g", prec, v);
			if (strtod(b, NULL) == v)
				break;
		}
		return (size_t)n;
	}
	/*
	 * If some precision <= 15 reads back, so does 15 (a normal v has 53 bits,
	 * so it is within half an ulp of that decimal and %.15g rounds to it): one
	 * try for 6..15, then the digits of the 15-digit text say which precision
	 * the loop would stop at.
	 */
	n = snprintf(b, 40, "%.15g", v);
	if (strtod(b, NULL) == v) {
		int digits = 0, lead = 1;

		for (const char *c = b; *c && *c != 'e'; c++) {
			if (*c < '0' || *c > '9')
				continue;
			if (*c != '0' || !lead) {
				digits++;
				lead = 0;
			}
		}
		prec = digits < 6 ? 6 : digits;
		if (prec != 15)
			n = snprintf(b, 40, "%.*g", prec, v);
		return (size_t)n;
	}
	n = snprintf(b, 40, "%.16g", v);
	if (strtod(b, NULL) != v)
		n = snprintf(b, 40, "%.17g", v);
	return (size_t)n;
}

void mt_jw_double(mt_jw *w, double v)
{
	char b[40];

	jw_sep(w);
	if (!isfinite(v)) {
		jw_put(w, "null", 4);
		return;
	}
	jw_put(w, b, jw_fmt_double(v, b));
}

void mt_jw_bool(mt_jw *w, int v)
{
	jw_sep(w);
	if (v)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
}

void mt_jw_null(mt_jw *w)
{
	jw_sep(w);
	jw_put(w, "null", 4);
}

void mt_jw_raw(mt_jw *w, const char *json, size_t n)
{
	jw_sep(w);
	jw_put(w, json, n);
}

void mt_jw_kstr(mt_jw *w, const char *key, const char *s)
{
	mt_jw_key(w, key);
	mt_jw_str(w, s);
}

void mt_jw_ku64(mt_jw *w, const char *key, uint64_t v)
{
	mt_jw_key(w, key);
	mt_jw_u64(w, v);
}

void mt_jw_kdouble(mt_jw *w, const char *key, double v)
{
	mt_jw_key(w, key);
	mt_jw_double(w, v);
}

void mt_jw_kbool(mt_jw *w, const char *key, int v)
{
	mt_jw_key(w, key);
	mt_jw_bool(w, v);
}
