/* jw.h - a JSON writer into a growable buffer (hit records, statistics). */
#ifndef MT_JW_H
#define MT_JW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MT_JW_MAX_DEPTH 16

/*
 * Writes one JSON document. Commas and nesting are tracked by the writer;
 * strings are escaped (RFC 8259) and invalid UTF-8 bytes become U+FFFD, so
 * the output is always valid JSON whatever bytes the packets held. On
 * allocation failure `err` is set and stays set.
 */
typedef struct mt_jw {
	char *buf;
	size_t len;
	size_t cap;
	int err;
	int depth;
	uint8_t first[MT_JW_MAX_DEPTH]; /* no member written yet at this depth */
	uint8_t after_key;
} mt_jw;

void mt_jw_init(mt_jw *w);
void mt_jw_free(mt_jw *w);
/* Empties the buffer for the next document (keeps the allocation). */
void mt_jw_reset(mt_jw *w);

void mt_jw_obj_open(mt_jw *w);
void mt_jw_obj_close(mt_jw *w);
void mt_jw_arr_open(mt_jw *w);
void mt_jw_arr_close(mt_jw *w);
/* A member name inside an object (the next value call writes its value). */
void mt_jw_key(mt_jw *w, const char *key);
/*
 * A member name known when compiling: MT_JW_KEY(w, "name") with a string
 * literal of plain ASCII (no '"', '\\' or control bytes), copied as it is
 * ("\"name\":" is made by the compiler), where mt_jw_key measures and escapes
 * it at every call. The hit record writes some thirty names per record.
 */
#define MT_JW_KEY(w, lit) mt_jw_key_inl((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)
void mt_jw_key_lit(mt_jw *w, const char *quoted, size_t n);
/*
 * A whole member known when compiling: MT_JW_MEMBER(w, "proto", "\"TCP\"")
 * with a plain name and a literal JSON value (under the same rule as MT_JW_KEY).
 */
#define MT_JW_MEMBER(w, name, json) \
	mt_jw_member_inl((w), "\"" name "\":" json, sizeof("\"" name "\":" json) - 1)
void mt_jw_member_lit(mt_jw *w, const char *text, size_t n);
void mt_jw_str(mt_jw *w, const char *s);
void mt_jw_strn(mt_jw *w, const char *s, size_t n);
void mt_jw_u64(mt_jw *w, uint64_t v);
void mt_jw_i64(mt_jw *w, int64_t v);
/*
 * Non-finite values are written as null; an integral value below 2^53 as
 * "%.0f" writes it; others in the shortest "%.*g" of 6 to 17 digits that
 * reads back to the same double (decimals of up to 15 digits without printf).
 */
void mt_jw_double(mt_jw *w, double v);
void mt_jw_bool(mt_jw *w, int v);
void mt_jw_null(mt_jw *w);
/* A value that is already JSON (written by another mt_jw), copied as it is. */
void mt_jw_raw(mt_jw *w, const char *json, size_t n);

/* key + value shorthands */
void mt_jw_kstr(mt_jw *w, const char *key, const char *s);
void mt_jw_ku64(mt_jw *w, const char *key, uint64_t v);
void mt_jw_kdouble(mt_jw *w, const char *key, double v);
void mt_jw_kbool(mt_jw *w, const char *key, int v);

/*
 * The common case of MT_JW_KEY and MT_JW_MEMBER inline (room in the buffer, a
 * member expected): n is a constant there, so the copy is a few moves.
 */
static inline void mt_jw_key_inl(mt_jw *w, const char *quoted, size_t n)
{
	if (__builtin_expect(!w->err && !w->after_key && w->cap - w->len > n + 1, 1)) {
		char *o = w->buf + w->len;

		if (!w->first[w->depth])
			*o++ = ',';
		w->first[w->depth] = 0;
		memcpy(o, quoted, n);
		o[n] = '\0';
		w->len = (size_t)(o + n - w->buf);
		w->after_key = 1;
		return;
	}
	mt_jw_key_lit(w, quoted, n);
}

static inline void mt_jw_member_inl(mt_jw *w, const char *text, size_t n)
{
	if (__builtin_expect(!w->err && !w->after_key && w->cap - w->len > n + 1, 1)) {
		char *o = w->buf + w->len;

		if (!w->first[w->depth])
			*o++ = ',';
		w->first[w->depth] = 0;
		memcpy(o, text, n);
		o[n] = '\0';
		w->len = (size_t)(o + n - w->buf);
		return;
	}
	mt_jw_member_lit(w, text, n);
}

#endif
