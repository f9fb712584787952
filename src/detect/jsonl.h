/* jsonl.h - newline-delimited JSON framing over a reassembled TCP stream, shared by the JSON-lines detectors (Stratum v1, CryptoNote, EthProxy). */
#ifndef MT_DETECT_JSONL_H
#define MT_DETECT_JSONL_H

#include "detect/detector.h"
#include "util/json.h"

#include <stddef.h>
#include <stdint.h>

/* Most tokens a line may have in any JSON-lines grammar (each detector sets its own limit below). */
#define MT_JSONL_MAX_TOKENS 256

/* Where one direction's line reader stands. */
typedef struct mt_jsonl_dir {
	uint32_t off;      /* start of the next unparsed line */
	uint32_t scan;     /* bytes before this hold no '\n' after off */
	uint32_t gap_seen; /* last gap_off acted on */
	uint16_t bad;      /* non-JSON lines */
	uint8_t seen;      /* first bytes of this direction looked at */
	uint8_t started;   /* first line judged */
	uint8_t resync;    /* next line may begin mid-message */
	uint8_t done;      /* parse no more of this direction */
	uint8_t tail_done; /* unterminated last line tried at FIN */
	uint8_t msgs;      /* JSON objects seen (saturating) */
} mt_jsonl_dir;

/* A detector's grammar limits and its answers to what the framing finds. */
typedef struct mt_jsonl_ops {
	uint32_t max_line;     /* longer lines are not this protocol's */
	int max_tokens;        /* per line, at most MT_JSONL_MAX_TOKENS */
	int max_depth;         /* deepest nesting of a message */
	uint16_t max_bad;      /* non-JSON lines tolerated per direction after the first */
	uint8_t long_foreign;  /* an over-long complete line counts as a foreign message */
	/* A JSON object line: p/n its text, off its stream offset, t/nt its tokens. */
	void (*object)(void *ctx, int dir, const uint8_t *p, uint32_t off, uint32_t n,
		       const mt_json_tok *t, int nt, int first_msg);
	void (*foreign)(void *ctx);  /* JSON outside the grammar (too big): not proof of another protocol */
	void (*not_mine)(void *ctx); /* this direction does not speak JSON lines */
} mt_jsonl_ops;

static inline int mt_jsonl_is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline int mt_jsonl_blank(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!mt_jsonl_is_ws(p[i]))
			return 0;
	return 1;
}

/*
 * Reads the complete lines that arrived since the last call, the client's first then the
 * server's (requests before the replies to them): ds[2] each direction's reader, fv the flow
 * (its streams, holes, mid-connection starts and FINs: an unterminated last line is tried at
 * FIN). Stops as soon as *excluded, the detector's own flag, is set by a callback. Lines are
 * bounds-checked against the stream lengths; nothing is copied.
 */
void mt_jsonl_process(const mt_jsonl_ops *ops, void *ctx, mt_jsonl_dir ds[2], const mt_flow_view *fv,
		      const uint8_t *excluded);

#endif
