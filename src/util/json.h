/* json.h - a strict, bounded, non-allocating JSON (RFC 8259) tokenizer for untrusted lines. */
#ifndef MT_JSON_H
#define MT_JSON_H

#include <stddef.h>
#include <stdint.h>

#define MT_JSON_DEFAULT_MAX_DEPTH 16
#define MT_JSON_MAX_NUMBER_LEN 64 /* longer number literals are refused */

enum mt_json_type {
	MT_JSON_NONE = 0,
	MT_JSON_OBJECT,
	MT_JSON_ARRAY,
	MT_JSON_STRING,
	MT_JSON_NUMBER,
	MT_JSON_TRUE,
	MT_JSON_FALSE,
	MT_JSON_NULL
};

/* Errors (negative returns of mt_json_parse). */
#define MT_JSON_E_SYNTAX (-1)   /* not JSON */
#define MT_JSON_E_DEPTH (-2)    /* nested deeper than max_depth */
#define MT_JSON_E_TOKENS (-3)   /* more tokens than the caller's array holds */
#define MT_JSON_E_NUMBER (-4)   /* number literal too long */
#define MT_JSON_E_TRAILING (-5) /* bytes other than white space after the value */

/*
 * One value. For strings, [start, start+len) is the raw text between the
 * quotes (still escaped); for numbers and literals, the literal; for objects
 * and arrays, the whole text including brackets. Object members are a key
 * token (a string) followed by its value token.
 */
typedef struct mt_json_tok {
	uint8_t type;    /* enum mt_json_type */
	uint8_t escaped; /* string contains a backslash */
	uint16_t depth;
	uint32_t start;
	uint32_t len;
	uint32_t size;   /* object: members; array: elements */
	uint32_t next;   /* index of the token after this value and all its children */
} mt_json_tok;

/*
 * Parses exactly one JSON value in s[0, len) (surrounding white space allowed)
 * into toks[0 .. cap). Returns the number of tokens (toks[0] is the root) or a
 * negative MT_JSON_E_*. Never reads outside s; no allocation.
 */
int mt_json_parse(const uint8_t *s, size_t len, mt_json_tok *toks, uint32_t cap,
		  uint32_t max_depth);

/* Index of the value of member `key` of object obj, or -1. Keys compare after unescaping. */
int mt_json_get(const uint8_t *s, const mt_json_tok *toks, int ntoks, int obj,
		const char *key);

/* Index of element i of array arr, or -1. */
int mt_json_at(const mt_json_tok *toks, int ntoks, int arr, uint32_t i);

/* 1 if token t is a string equal (after unescaping) to lit. */
int mt_json_str_eq(const uint8_t *s, const mt_json_tok *t, const char *lit);

/*
 * Unescapes string token t into out (cap bytes, always NUL-terminated,
 * \uXXXX and surrogate pairs to UTF-8). Returns the length, or -1 if t is not
 * a string, has a bad escape, or does not fit.
 */
int mt_json_str(const uint8_t *s, const mt_json_tok *t, char *out, size_t cap);

/* Strict numbers: 0 and the value, or -1 (not a number, not integral, out of range). */
int mt_json_i64(const uint8_t *s, const mt_json_tok *t, int64_t *v);
int mt_json_u64(const uint8_t *s, const mt_json_tok *t, uint64_t *v);
int mt_json_double(const uint8_t *s, const mt_json_tok *t, double *v);

/* FNV-1a of a token's type and raw text: equal for equal JSON-RPC ids (1 and "1" differ). */
uint64_t mt_json_tok_hash(const uint8_t *s, const mt_json_tok *t);

/* A hex digit's value (either case), or -1: \u escapes and the hex strings of the protocols. */
static inline int mt_json_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
