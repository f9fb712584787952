/* jw.h - a JSON writer into a growable buffer (hit records, statistics). */
#ifndef MT_JW_H
#define MT_JW_H

#include <stddef.h>
#include <stdint.h>

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
void mt_jw_str(mt_jw *w, const char *s);
void mt_jw_strn(mt_jw *w, const char *s, size_t n);
void mt_jw_u64(mt_jw *w, uint64_t v);
void mt_jw_i64(mt_jw *w, int64_t v);
/* Non-finite values are written as null. */
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

#endif
