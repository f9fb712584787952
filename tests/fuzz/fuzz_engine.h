/* fuzz_engine.h - shared by the engine and capture-file targets: the detector registry, a checking sink, engine set-up and the end-of-input checks. */
#ifndef MT_FUZZ_ENGINE_H
#define MT_FUZZ_ENGINE_H

#include "fuzz.h"

#include "detect/detect.h"
#include "engine/engine.h"
#include "sink/sink.h"
#include "util/json.h"
#include "util/log.h"

#define MT_FUZZ_REC_TOKENS 1024

#ifdef MT_FUZZ_SIGS_DIR
#include "detect/sigs.h"
#define MT_FUZZ_SIGS MT_FUZZ_SIGS_DIR
#else
#define MT_FUZZ_SIGS NULL
#endif

static mt_detect_reg mt_fuzz_reg;
static int mt_fuzz_reg_ready;
static struct mt_sigs *mt_fuzz_sigs; /* MT_FUZZ_SIGS_DIR loaded once, when built with it */

/*
 * The built-in detectors (and the signatures), once per process: they are
 * shared read-only, as in minetrace.
 */
static inline void mt_fuzz_engine_setup(void)
{
	if (mt_fuzz_reg_ready)
		return;
	mt_log_set_level(getenv("MT_FUZZ_LOG") ? MT_LOG_DEBUG : -1);
	if (mt_detect_reg_init(&mt_fuzz_reg, 1, NULL, MT_FUZZ_SIGS) < 0) {
		fprintf(stderr, "fuzz: cannot register the built-in detectors\n");
		abort();
	}
#ifdef MT_FUZZ_SIGS_DIR
	{
		char err[512];
		mt_fuzz_sigs = mt_sigs_load(MT_FUZZ_SIGS_DIR, err, sizeof(err));
		if (!mt_fuzz_sigs) {
			fprintf(stderr, "fuzz: %s\n", err);
			abort();
		}
	}
#endif
	mt_fuzz_reg_ready = 1;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. */
static inline int mt_fuzz_utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			k = 1; cp = c & 0x1F; min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2; cp = c & 0x0F; min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/*
 * A sink that checks every hit record: one line of valid UTF-8 that is a
 * JSON object (mt_json agrees with the fuzz_json reference) with the keys
 * every record has (DESIGN.md "The hit record").
 */
typedef struct mt_fuzz_sink {
	mt_sink base;
	uint64_t records;
} mt_fuzz_sink;

static inline int mt_fuzz_sink_write(mt_sink *s, const char *json, size_t len)
{
	static mt_json_tok toks[MT_FUZZ_REC_TOKENS];
	static const char *const keys[] = {"timestamp", "event_type", "src_ip", "src_port",
					   "dest_ip", "dest_port", "proto", "community_id",
					   "flow", "hit"};
	const uint8_t *u = (const uint8_t *)json;
	int n, v;
	size_t i;

	((mt_fuzz_sink *)s)->records++;
	MT_FUZZ_CHECK(json != NULL && len > 0);
	MT_FUZZ_CHECK(memchr(json, '\n', len) == NULL);
	MT_FUZZ_CHECK(memchr(json, '\0', len) == NULL);
	MT_FUZZ_CHECK(mt_fuzz_utf8_ok(u, len));
	n = mt_json_parse(u, len, toks, MT_FUZZ_REC_TOKENS, 32);
	if (n < 0)
		fprintf(stderr, "record is not JSON (%d): %.*s\n", n, (int)len, json);
	MT_FUZZ_CHECK(n > 0 && toks[0].type == MT_JSON_OBJECT);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (mt_json_get(u, toks, n, 0, keys[i]) < 0)
			fprintf(stderr, "record without \"%s\": %.*s\n", keys[i], (int)len, json);
		MT_FUZZ_CHECK(mt_json_get(u, toks, n, 0, keys[i]) >= 0);
	}
	v = mt_json_get(u, toks, n, 0, "event_type");
	MT_FUZZ_CHECK(mt_json_str_eq(u, &toks[v], "mining") ||
		      mt_json_str_eq(u, &toks[v], "crypto_p2p"));
	return 0;
}

static inline int mt_fuzz_sink_flush(mt_sink *s)
{
	(void)s;
	return 0;
}

static inline int mt_fuzz_sink_close(mt_sink *s)
{
	(void)s;
	return 0;
}

static inline void mt_fuzz_sink_init(mt_fuzz_sink *k)
{
	memset(k, 0, sizeof(*k));
	k->base.name = "fuzz";
	k->base.write = mt_fuzz_sink_write;
	k->base.flush = mt_fuzz_sink_flush;
	k->base.close = mt_fuzz_sink_close;
}

/*
 * Limits that keep one input cheap (a 500 000-flow table would be 4 MB of
 * buckets per input) or, with small set, that make every cap, eviction and
 * timeout path reachable with a few packets.
 */
static inline void mt_fuzz_engine_cfg(mt_engine_cfg *cfg, int ndpi, int small)
{
	mt_engine_cfg_default(cfg);
	cfg->ndpi = ndpi;
	cfg->flow.max_flows = 1024;
	if (small) {
		cfg->flow.max_flows = 16;
		cfg->flow.memcap = 1u << 20;
		cfg->flow.tcp_new_timeout = 1;
		cfg->flow.tcp_est_timeout = 2;
		cfg->flow.tcp_closed_timeout = 0;
		cfg->flow.udp_timeout = 1;
		cfg->stream.max_bytes = 256;
		cfg->stream.window = 1024;
		cfg->stream.max_segs = 1;
		cfg->update_interval = 0;
	}
}

static inline mt_engine *mt_fuzz_engine_new(const mt_engine_cfg *cfg, mt_fuzz_sink *sink)
{
	mt_engine *e;

	mt_fuzz_engine_setup();
	e = mt_engine_new(cfg, &mt_fuzz_reg);
	if (!e) {
		fprintf(stderr, "fuzz: mt_engine_new failed\n");
		abort();
	}
	mt_fuzz_sink_init(sink);
	MT_FUZZ_CHECK(mt_engine_add_sink(e, &sink->base) == 0);
	mt_engine_set_sigs(e, mt_fuzz_sigs);
	return e;
}

static inline uint64_t mt_fuzz_sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Flushes and checks that the counters add up and that every flow gave its memory back. */
static inline void mt_fuzz_engine_finish(mt_engine *e, const mt_fuzz_sink *sink, uint64_t frames)
{
	const mt_engine_stats *st;
	const mt_decode_stats *ds;
	const mt_flow_stats *fs;

	mt_engine_flush(e);
	st = mt_engine_stats_get(e);
	ds = mt_engine_decode_stats(e);
	fs = mt_engine_flow_stats(e);
	if (getenv("MT_FUZZ_SHOW"))
		fprintf(stderr, "engine: %llu frames, %llu decoded, %llu flows, %llu detected, %llu records, nDPI %llu flows %llu packets\n",
			(unsigned long long)frames, (unsigned long long)ds->decoded,
			(unsigned long long)fs->created, (unsigned long long)st->flows_detected,
			(unsigned long long)st->hits, (unsigned long long)st->ndpi_flows,
			(unsigned long long)st->ndpi_packets);
	MT_FUZZ_CHECK(st->packets == frames && ds->frames == frames);
	MT_FUZZ_CHECK(ds->errors == mt_fuzz_sum(ds->reason, MT_DEC__COUNT));
	MT_FUZZ_CHECK(ds->decoded + ds->errors + mt_fuzz_sum(ds->other, MT_OTHER__COUNT) == frames);
	MT_FUZZ_CHECK(st->flows_detected <= st->flows_inspected);
	MT_FUZZ_CHECK(st->hits == st->hits_new + st->hit_updates);
	MT_FUZZ_CHECK(st->hits_new == st->hits_mining + st->hits_p2p);
	MT_FUZZ_CHECK(sink->records == st->hits);
	if (st->alloc_fail == 0)
		MT_FUZZ_CHECK(st->hits_new == st->flows_detected);
	MT_FUZZ_CHECK(fs->active == 0);
	MT_FUZZ_CHECK(mt_fuzz_sum(fs->ended, MT_FLOW_END__COUNT) == fs->created);
	MT_FUZZ_CHECK(fs->evicted == fs->ended[MT_FLOW_END_EVICT_FLOWS] + fs->ended[MT_FLOW_END_EVICT_MEM]);
	/* Every byte the engine accounted to a flow was given back when the flow went. */
	MT_FUZZ_CHECK(fs->mem == 0);
	mt_engine_free(e);
}

#endif
