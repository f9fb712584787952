/* engine.h - one worker's pipeline: decode -> flow -> stream -> detect -> evidence -> sinks. */
#ifndef MT_ENGINE_H
#define MT_ENGINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "decode/defrag.h"
#include "detect/detect.h"
#include "flow/dnscache.h"
#include "flow/flow.h"
#include "sink/sink.h"
#include "stream/stream.h"

#define MT_ENGINE_DEFAULT_UPDATE_INTERVAL 60 /* s between "update" records of one flow */
#define MT_ENGINE_MAX_SINKS 4

/*
 * Stages of the per-stage clock (cfg.stage_clock): one packet in
 * MT_ENGINE_STAGE_SAMPLE is timed mark to mark, so that the clock costs
 * about 1/64 of a few clock reads per packet. Reading the capture is not
 * an engine stage: the caller's total time minus the sum is that.
 */
enum mt_engine_stage {
	MT_STAGE_DECODE, MT_STAGE_FLOW, MT_STAGE_NDPI, MT_STAGE_STREAM, MT_STAGE_DETECT,
	MT_STAGE_OUTPUT, MT_ENGINE_STAGES
};
#define MT_ENGINE_STAGE_SAMPLE 64u

/* "decode", "flow" ... for a stage; "?" otherwise. */
const char *mt_engine_stage_name(int stage);

typedef struct mt_engine_cfg {
	mt_flow_cfg flow;
	mt_stream_cfg stream;
	int ndpi;                 /* run nDPI (1) or not (0) */
	int stage_clock;          /* time the stages on sampled packets (stats.stage_ns); off by default */
	uint32_t update_interval; /* seconds of packet time between "update" records */
	uint32_t dns_cache_entries; /* addresses the DNS answer cache holds (0: no cache) */
	uint32_t ndpi_max_packets; /* packets of a flow given to nDPI before it gives up */
	int defrag;               /* reassemble IP fragments (1) or count and skip them (0) */
	mt_defrag_cfg defrag_cfg;
} mt_engine_cfg;

void mt_engine_cfg_default(mt_engine_cfg *cfg);

typedef struct mt_engine_stats {
	uint64_t packets;
	uint64_t bytes;          /* wire bytes */
	uint64_t payload_pkts;   /* TCP/UDP packets with payload */
	uint64_t detector_calls;
	uint64_t flows_inspected;/* flows that got per-flow state */
	uint64_t flows_detected;
	uint64_t hits;           /* records written (all statuses) */
	uint64_t hits_new;
	uint64_t hits_mining;    /* flows identified as mining */
	uint64_t hits_p2p;       /* flows identified as crypto_p2p */
	uint64_t hit_updates;
	uint64_t sink_errors;
	uint64_t alloc_fail;
	uint64_t ndpi_flows;     /* flows nDPI looked at */
	uint64_t ndpi_packets;
	uint64_t first_ts_us, last_ts_us;
	uint64_t det_calls[MT_DETECT_MAX];    /* per registry index */
	uint64_t det_detected[MT_DETECT_MAX]; /* flows each detector identified */
	uint64_t det_excluded[MT_DETECT_MAX]; /* flows each detector let go */
	uint64_t det_prefiltered[MT_DETECT_MAX]; /* of which by its prefilter, without state */
	uint64_t stage_ns[MT_ENGINE_STAGES]; /* estimated ns per stage (sampled x MT_ENGINE_STAGE_SAMPLE) */
	uint64_t stage_samples;  /* packets timed */
	uint64_t ndpi_dropped;   /* flows whose nDPI state went early: no detector left to use its labels */
	uint64_t app_vetoed;     /* identifications refused: the server name is a known application (see veto_known_app) */
	uint64_t enrich_lookups; /* flows whose two ends were looked up in the attribution databases */
} mt_engine_stats;

typedef struct mt_engine mt_engine;

/*
 * A worker. reg must outlive the engine (detectors are shared read-only;
 * per-flow state is the engine's). Returns NULL on failure (logged).
 */
mt_engine *mt_engine_new(const mt_engine_cfg *cfg, const mt_detect_reg *reg);

/* Adds a sink (not owned). Returns 0 or -ENOSPC. */
int mt_engine_add_sink(mt_engine *e, mt_sink *s);

/*
 * The signature set detectors see from the next packet on (may be NULL; not
 * owned: the caller frees the old set after this returns, as no detector keeps it).
 */
void mt_engine_set_sigs(mt_engine *e, const struct mt_sigs *sigs);

struct mt_enrich;
/*
 * The attribution databases (enrich/enrich.h) both ends of every hit are
 * looked up in from the next record on; NULL: records carry no miner/pool
 * objects. Not owned: the caller closes the old set after this returns (no
 * flow keeps a pointer into it; per-flow results are redone after a swap).
 */
void mt_engine_set_enrich(mt_engine *e, const struct mt_enrich *en);

/* One captured frame. */
void mt_engine_frame(mt_engine *e, int linktype, uint64_t ts_us,
		     const uint8_t *data, uint32_t cap_len, uint32_t wire_len);

/*
 * Frames in capture order, at most MT_ENGINE_BATCH at a time (more are cut
 * into batches): the same as mt_engine_frame on each in turn, but all are
 * decoded and their flow buckets and flows asked into the cache first, so
 * that the table's cache misses overlap instead of following each other.
 */
#define MT_ENGINE_BATCH 16u
void mt_engine_frames(mt_engine *e, int linktype, const mt_frame *fr, uint32_t n);

/* Ends every flow (end of input): final detector calls, final records. */
void mt_engine_flush(mt_engine *e);

/*
 * Ends every flow as mt_engine_flush does, then forgets packet time and the
 * nodes learnt, so the next input is read as by a new engine (statistics go
 * on). Used when workers read several files in parallel, each on its own.
 */
void mt_engine_restart(mt_engine *e);

/*
 * Live workers share one DNS answer cache (not owned; mu guards it), so an
 * answer one worker sees names the flows of every worker. Taken once per DNS
 * answer and once per flow's first payload, never per ordinary packet.
 */
void mt_engine_share_dns(mt_engine *e, mt_dnscache *c, pthread_mutex_t *mu);

/*
 * Live workers share the table of blockchain nodes seen (a node's payload-less
 * attempts to its peer port are P2P): made by mt_engine_nodes_new (free() it
 * after the engines), guarded by mu; locked per P2P identification and per
 * flow that ends without a byte once nodes are known.
 */
void *mt_engine_nodes_new(void);
void mt_engine_share_nodes(mt_engine *e, void *nodes, pthread_mutex_t *mu);

const mt_engine_stats *mt_engine_stats_get(const mt_engine *e);
const mt_decode_stats *mt_engine_decode_stats(const mt_engine *e);
/* NULL until the first fragment (or with defrag off). */
const mt_defrag_stats *mt_engine_defrag_stats(const mt_engine *e);
const mt_flow_stats *mt_engine_flow_stats(const mt_engine *e);
const mt_stream_stats *mt_engine_stream_stats(const mt_engine *e);
const mt_dnscache_stats *mt_engine_dns_stats(const mt_engine *e);

/* Frees without flushing (call mt_engine_flush first to get the final records). NULL is fine. */
void mt_engine_free(mt_engine *e);

#endif
