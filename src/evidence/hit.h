/* hit.h - the hit record: one JSON object per identified flow (DESIGN.md "The hit record"). */
#ifndef MT_HIT_H
#define MT_HIT_H

#include <stdint.h>

#include "detect/detector.h"
#include "flow/flow.h"
#include "util/jw.h"

/* Why this record was written. */
enum mt_hit_status {
	MT_HIT_NEW = 0,    /* "new": the flow was just identified */
	MT_HIT_UPDATE = 1, /* "update": the evidence grew (same community_id) */
	MT_HIT_END = 2     /* "end": the flow ended and its evidence changed since the last record */
};

typedef struct mt_hit {
	const mt_flow *flow;
	const mt_evidence *ev;
	uint64_t ts_us;        /* packet time of the packet that caused the record */
	int status;            /* enum mt_hit_status */
	uint32_t seq;          /* 1, 2, ... records of this flow */
	const char *app_proto; /* nDPI's label, or NULL */
	/* Attribution of the two ends (the `miner` and `pool` objects, already JSON), or NULL. */
	const char *miner_json, *pool_json;
	size_t miner_len, pool_len;
} mt_hit;

/* Formats ISO 8601 UTC with microseconds ("2024-01-02T03:04:05.123456Z"). out >= 32 bytes. */
void mt_hit_time(uint64_t ts_us, char *out, size_t outlen);

/* Text form of a 16-byte flow address (IPv4 in the first 4 bytes when ipver is 4). */
void mt_hit_addr(uint8_t ipver, const uint8_t *addr, char *out, size_t outlen);

/* Writes the record as one JSON object into w (after mt_jw_reset). Returns 0 or -ENOMEM. */
int mt_hit_json(mt_jw *w, const mt_hit *h);

const char *mt_hit_status_name(int status);

#endif
