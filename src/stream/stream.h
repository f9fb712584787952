/* stream.h - bounded in-order reassembly of the first bytes of each TCP direction. */
#ifndef MT_STREAM_H
#define MT_STREAM_H

#include <stdint.h>

#define MT_STREAM_DEFAULT_MAX_BYTES 65536u   /* per direction, configurable */
#define MT_STREAM_HARD_MAX_BYTES (16u << 20) /* no config may go past this */
#define MT_STREAM_DEFAULT_WINDOW 65536u      /* accept out-of-order data this far ahead */
#define MT_STREAM_DEFAULT_MAX_SEGS 32u       /* out-of-order segments held per direction */
#define MT_STREAM_INITIAL_ALLOC 256u     /* most pool sessions stay under 1 KB a direction */

/*
 * Spare buffers of MT_STREAM_INITIAL_ALLOC bytes (linked through their first
 * bytes), for a caller that makes and frees many directions: one thread's, no
 * lock. Zero-initialise it and set max (0: no buffer is kept).
 */
typedef struct mt_stream_pool {
	void *head;
	uint32_t n;   /* buffers held */
	uint32_t max; /* at most this many */
} mt_stream_pool;

typedef struct mt_stream_cfg {
	uint32_t max_bytes; /* in-order bytes kept per direction; later data is counted, not kept */
	uint32_t window;    /* bytes past next_seq accepted out of order */
	uint32_t max_segs;  /* out-of-order segments held per direction */
} mt_stream_cfg;

void mt_stream_cfg_default(mt_stream_cfg *cfg);

typedef struct mt_stream_stats {
	uint64_t segments;     /* segments with payload offered */
	uint64_t in_order;     /* appended directly */
	uint64_t retransmit;   /* entirely old data, dropped */
	uint64_t overlap;      /* partly old data, trimmed */
	uint64_t ooo_queued;   /* held for later */
	uint64_t ooo_dropped;  /* beyond the window or the segment limit */
	uint64_t gaps;         /* holes skipped (data lost in the capture) */
	uint64_t capped_bytes; /* bytes beyond max_bytes, not kept */
	uint64_t alloc_fail;
} mt_stream_stats;

typedef struct mt_stream_seg mt_stream_seg; /* internal */

/*
 * One direction. Zero-initialise it (memset or = {0}). buf[0, len) is the
 * in-order data; detectors only read it. When a hole had to be skipped, the
 * bytes at gap_off onward do not continue the bytes before it (a line parser
 * resynchronises at the next newline after gap_off).
 */
typedef struct mt_stream_dir {
	uint8_t *buf;
	uint32_t len;        /* in-order bytes kept */
	uint32_t alloc;      /* bytes allocated for buf */
	uint32_t next_seq;   /* next expected sequence number */
	uint32_t gap_off;    /* offset in buf of the latest discontinuity (0: none) */
	uint32_t ngaps;
	uint64_t seen_bytes; /* all payload bytes of this direction, kept or not */
	uint8_t started;     /* next_seq is valid */
	uint8_t midstream;   /* started without a SYN: the first bytes may be mid-message */
	uint8_t fin;         /* FIN or RST seen */
	uint8_t capped;      /* max_bytes reached: no more data is kept */
	uint32_t ooo_bytes;
	uint32_t ooo_count;
	mt_stream_seg *ooo;  /* sorted by sequence number */
} mt_stream_dir;

/*
 * Offers one TCP segment of this direction (seq and flags as on the wire;
 * flags: FIN 0x01 SYN 0x02 RST 0x04). A SYN sets the initial sequence number
 * (data starts at seq+1). Handles wrap-around, retransmissions, overlaps
 * (first copy wins) and out-of-order segments within the window. The change in
 * bytes allocated is added to *mem_delta (may be NULL; the caller zeroes it).
 * Returns the number of bytes newly appended to buf (0 if none), or -ENOMEM
 * (the direction stays consistent; the data is counted as lost).
 */
int mt_stream_segment(mt_stream_dir *d, const mt_stream_cfg *cfg,
		      mt_stream_stats *st, uint32_t seq, uint8_t flags,
		      const uint8_t *data, uint32_t len, int64_t *mem_delta);

/* mt_stream_segment, taking a first buffer from pool (may be NULL) when it has one. Same results. */
int mt_stream_segment_pooled(mt_stream_dir *d, const mt_stream_cfg *cfg,
			     mt_stream_stats *st, mt_stream_pool *pool, uint32_t seq,
			     uint8_t flags, const uint8_t *data, uint32_t len,
			     int64_t *mem_delta);

/*
 * Gives up on any hole: appends the held segments in order, skipping the
 * gaps (counted), e.g. at FIN or flow end. Returns the bytes appended.
 */
int mt_stream_drain(mt_stream_dir *d, const mt_stream_cfg *cfg,
		    mt_stream_stats *st, int64_t *mem_delta);

/* Frees buffers; the direction is zeroed. The (negative) change is added to *mem_delta. */
void mt_stream_dir_free(mt_stream_dir *d, int64_t *mem_delta);

/* mt_stream_dir_free, but a buffer of MT_STREAM_INITIAL_ALLOC bytes goes to pool (may be NULL) if it has room. */
void mt_stream_dir_release(mt_stream_dir *d, mt_stream_pool *pool, int64_t *mem_delta);

/* Frees the pool's buffers. NULL is fine. */
void mt_stream_pool_drain(mt_stream_pool *pool);

#endif
