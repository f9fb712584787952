/* stats.c - the probe's statistics summed over workers, as one JSON object (log, Redis mt:probe:ID). */
#include "cli/stats.h"

#include <stddef.h>

void mt_stats_add_engine(mt_stats *s, const mt_engine *e)
{
	const mt_engine_stats *st = mt_engine_stats_get(e);
	const mt_decode_stats *ds = mt_engine_decode_stats(e);
	const mt_flow_stats *fs = mt_engine_flow_stats(e);

	s->packets += st->packets;
	s->bytes += st->bytes;
	s->decoded += ds->decoded;
	s->decode_errors += ds->errors;
	s->flows += fs->created;
	s->flows_active += fs->active;
	s->flows_peak_active += fs->peak_active;
	s->evictions += fs->evicted;
	s->flow_alloc_fail += fs->alloc_fail;
	s->flow_mem += fs->mem;
	s->flows_inspected += st->flows_inspected;
	s->flows_detected += st->flows_detected;
	s->hits += st->hits;
	s->hits_new += st->hits_new;
	s->hits_mining += st->hits_mining;
	s->hits_p2p += st->hits_p2p;
	s->hit_updates += st->hit_updates;
	s->alloc_fail += st->alloc_fail;
	s->engine_sink_errors += st->sink_errors;
}

void mt_stats_sum(mt_stats *a, const mt_stats *b)
{
	/* The struct is a run of uint64_t after workers and uptime_s. */
	const uint64_t *src = &b->packets;
	uint64_t *dst = &a->packets;
	size_t n = (sizeof(*a) - offsetof(mt_stats, packets)) / sizeof(uint64_t), i;

	a->workers += b->workers;
	if (b->uptime_s > a->uptime_s)
		a->uptime_s = b->uptime_s;
	for (i = 0; i < n; i++)
		dst[i] += src[i];
}

void mt_stats_json(const mt_stats *s, mt_jw *jw)
{
	mt_jw_obj_open(jw);
	mt_jw_ku64(jw, "workers", s->workers);
	mt_jw_kdouble(jw, "uptime_s", s->uptime_s);
	mt_jw_ku64(jw, "packets", s->packets);
	mt_jw_ku64(jw, "bytes", s->bytes);
	mt_jw_ku64(jw, "decoded", s->decoded);
	mt_jw_ku64(jw, "decode_errors", s->decode_errors);
	mt_jw_ku64(jw, "kernel_packets", s->kernel_packets);
	mt_jw_ku64(jw, "kernel_drops", s->kernel_drops);
	mt_jw_ku64(jw, "kernel_freezes", s->kernel_freezes);
	mt_jw_ku64(jw, "flows", s->flows);
	mt_jw_ku64(jw, "flows_active", s->flows_active);
	mt_jw_ku64(jw, "flows_peak_active", s->flows_peak_active);
	mt_jw_ku64(jw, "evictions", s->evictions);
	mt_jw_ku64(jw, "flow_alloc_fail", s->flow_alloc_fail);
	mt_jw_ku64(jw, "flow_mem", s->flow_mem);
	mt_jw_ku64(jw, "flows_inspected", s->flows_inspected);
	mt_jw_ku64(jw, "flows_detected", s->flows_detected);
	mt_jw_ku64(jw, "hits", s->hits);
	mt_jw_ku64(jw, "hits_new", s->hits_new);
	mt_jw_ku64(jw, "hits_mining", s->hits_mining);
	mt_jw_ku64(jw, "hits_p2p", s->hits_p2p);
	mt_jw_ku64(jw, "hit_updates", s->hit_updates);
	mt_jw_ku64(jw, "alloc_fail", s->alloc_fail);
	mt_jw_ku64(jw, "sink_written", s->sink_written);
	/* The shared output and the engines count the same failures: the larger is the truth. */
	mt_jw_ku64(jw, "sink_errors", s->sink_errors > s->engine_sink_errors ? s->sink_errors : s->engine_sink_errors);
	mt_jw_ku64(jw, "sink_queue", s->sink_queue);
	mt_jw_ku64(jw, "sink_spool", s->sink_spool);
	mt_jw_ku64(jw, "reloads", s->reloads);
	mt_jw_ku64(jw, "files", s->files);
	mt_jw_ku64(jw, "truncated", s->truncated);
	mt_jw_obj_close(jw);
}
