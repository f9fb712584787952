/* jw.c - a JSON writer into a growable buffer; output is valid JSON (RFC 8259) for any input bytes. */
#include "util/jw.h"

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

/* Makes room for n more bytes plus a NUL. Returns 0 or -1 (err set). */
static int jw_reserve(mt_jw *w, size_t n)
{
	size_t need, ncap;
	char *nb;

	if (w->err)
		return -1;
	if (w->cap - w->len > n)
		return 0;
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

static void jw_put(mt_jw *w, const char *s, size_t n)
{
	if (jw_reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void jw_putc(mt_jw *w, char c)
{
	jw_put(w, &c, 1);
}

/* Comma between values, nothing after a key. */
static void jw_sep(mt_jw *w)
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
 * One reservation for the worst case, then bytes straight into the buffer:
 * the hit path writes some fifty strings a record, and a reserve and a NUL
 * per run of plain bytes cost more than the copying.
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
		unsigned char c = p[i];

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
	mt_jw_strn(w, s, s ? strlen(s) : 0);
}

void mt_jw_strn(mt_jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_string(w, s ? s : "", s ? n : 0);
}

/* Decimal digits of v at the end of b[24]; returns where they start (no printf on the hit path). */
static char *u64_digits(uint64_t v, char b[24])
{
	char *p = b + 24;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void mt_jw_u64(mt_jw *w, uint64_t v)
{
	char b[24];
	char *p = u64_digits(v, b);

	jw_sep(w);
	jw_put(w, p, (size_t)(b + 24 - p));
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

void mt_jw_double(mt_jw *w, double v)
{
	char b[40];
	int n;

	jw_sep(w);
	if (!isfinite(v)) {
		jw_put(w, "null", 4);
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		n = snprintf(b, sizeof(b), "%.0f", v);
	} else {
		int prec;
		/* The shortest form that reads back to the same double. */
		for (prec = 6; prec <= 17; prec++) {
			n = snprintf(b, sizeof(b), "%.*g", prec, v);
			if (strtod(b, NULL) == v)
				break;
		}
	}
	jw_put(w, b, (size_t)n);
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
