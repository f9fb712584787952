/* stats.h - the probe's statistics summed over workers, as one JSON object (log, Redis mt:probe:ID). */
#ifndef MT_CLI_STATS_H
#define MT_CLI_STATS_H

#include <stdint.h>

#include "engine/engine.h"
#include "util/jw.h"

/* Every counter is 64-bit and counts since the start. */
typedef struct mt_stats {
	uint32_t workers;
	double uptime_s;
	uint64_t packets, bytes;            /* frames the engines saw, wire bytes */
	uint64_t decoded, decode_errors;
	uint64_t kernel_packets;            /* frames the kernel queued or dropped (live) */
	uint64_t kernel_drops;              /* lost: ring full */
	uint64_t kernel_freezes;            /* times a ring was full (tp_freeze_q_cnt) */
	uint64_t flows, flows_active, flows_peak_active, evictions, flow_alloc_fail, flow_mem;
	uint64_t flows_inspected, flows_detected;
	uint64_t hits, hits_new, hits_mining, hits_p2p, hit_updates;
	uint64_t alloc_fail, engine_sink_errors;
	uint64_t sink_written, sink_errors; /* records the shared output took or refused */
	uint64_t sink_queue, sink_spool;    /* records waiting in a queued sink / its spool (0 without) */
	uint64_t reloads, files, truncated;
} mt_stats;

/* Adds one engine's counters into s. */
void mt_stats_add_engine(mt_stats *s, const mt_engine *e);

/* Adds b's counters into a (workers, uptime and sink figures included). */
void mt_stats_sum(mt_stats *a, const mt_stats *b);

/* Writes s as one JSON object (keys as the field names) into jw (not reset). */
void mt_stats_json(const mt_stats *s, mt_jw *jw);

#endif
