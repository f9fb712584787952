/* engine.c - one worker's pipeline: decode -> flow -> stream -> detect -> evidence -> sinks. */
#include "engine/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/ndpi.h"
#include "enrich/enrich.h"
#include "evidence/hit.h"
#include "flow/dnscache.h"
#include "util/jw.h"
#include "util/log.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* nDPI's labels of a flow, kept compactly once nDPI is done: four strings in one block. */
typedef struct ndpi_labels {
	const char *proto, *sni, *host, *ua;
	char text[];
} ndpi_labels;

/* Per-flow state of the engine (mt_flow.user); made at the flow's first packet. */
typedef struct fstate {
	mt_stream_dir sd[2];
	mt_ndpi_flow *nf;       /* while nDPI runs */
	ndpi_labels *lbl;       /* after nDPI is done, if it said anything */
	mt_evidence *ev;        /* once a detector wrote evidence */
	void **ds;              /* per detector (reg->n slots, from the first payload): its state, made at
				 * its first call and freed as soon as it stops being asked */
	uint32_t active;        /* detectors still asked */
	uint32_t touched;       /* detectors whose state exists (ds[i] != NULL) */
	int owner;              /* detector that identified the flow, or -1 */
	int ev_writer;          /* detector whose evidence ev holds, or -1 */
	uint32_t payload_pkts;
	uint32_t nreports;
	uint32_t reported_version;
	uint64_t last_report_us;
	int64_t mem;            /* bytes accounted to the flow table for this flow */
	int64_t ndpi_mem;       /* of which nf */
	uint8_t inspected;      /* the first payload was seen (ds, nf made) */
	uint8_t finished;       /* flow_finish ran: later packets are only counted */
	char *dns_name;         /* the name a DNS answer gave for the server, at the first payload */
	struct ndpi_hold *hold; /* packets held back from nDPI (ndpi_wait) */
	uint8_t ndpi_wait;      /* nDPI not started yet: the first packets are held (NDPI_HOLD_PKTS) */
	char *attrib;           /* miner then pool object (JSON) once the flow wrote a record */
	uint32_t attrib_len[2];
	uint32_t attrib_gen;    /* the database set it was looked up in */
} fstate;

/*
 * Blockchain nodes seen (client address and the peer port it spoke P2P to):
 * a node keeps dialling peers on that port, and attempts that never carry a
 * byte (SYN only, refused) are node traffic too. Bounded; newest wins a slot.
 */
#define NODE_SLOTS 4096
typedef struct node_host {
	uint8_t addr[16];
	uint16_t port;
	uint8_t ipver;
	uint8_t used;
	char protocol[MT_EV_PROTO_LEN];
	char coin[MT_EV_COIN_LEN];
} node_host;

struct mt_engine {
	mt_engine_cfg cfg;
	const mt_detect_reg *reg;
	mt_flowtab *ft;
	mt_ndpi *ndpi;
	mt_sink *sinks[MT_ENGINE_MAX_SINKS];
	int nsinks;
	mt_engine_stats st;
	mt_decode_stats dst;
	mt_defrag *defrag;   /* made at the first fragment */
	mt_stream_stats sst;
	mt_evidence scratch;
	mt_ndpi_info ni;        /* nDPI's answer for the flow it just finished */
	mt_jw jw;
	uint64_t now_us;
	const struct mt_sigs *sigs;
	node_host *nodes; /* NODE_SLOTS, made at the first P2P identification */
	node_host *nodes_shared;  /* or the workers' common table (mt_engine_share_nodes) */
	pthread_mutex_t *nodes_mu;
	mt_dnscache *dns; /* made at the first DNS response */
	mt_dnscache *dns_shared;  /* or the workers' common cache (mt_engine_share_dns) */
	pthread_mutex_t *dns_mu;
	/*
	 * Detector states let go, kept for the next flow (linked through their
	 * first bytes, at most STATE_SPARE each): most flows make a state for
	 * every detector at the first payload and free most of them at once, and
	 * malloc and free of those were a tenth of the time (perf, 10 replicas).
	 */
	void *spare[MT_DETECT_MAX];
	uint32_t nspare[MT_DETECT_MAX];
	/* The same for the per-flow states and their detector slot arrays (spare_take/spare_put). */
	void *spare_fs, *spare_ds;
	uint32_t nspare_fs, nspare_ds;
	mt_stream_pool spool;   /* spare first stream buffers */
	/* Stage clock (--stats): on one packet in MT_ENGINE_STAGE_SAMPLE, time from mark to mark. */
	int stage;              /* the stage running on a sampled packet, or -1 */
	uint64_t stage_t0;      /* when it started (ns) */
	const mt_enrich *enrich;  /* attribution databases, or NULL */
	uint32_t enrich_gen;      /* bumped at every swap */
	mt_enrich_cache *ecache;  /* rendered records, cleared at every swap */
	mt_jw ajw[2];
};

static const char *const stage_names[MT_ENGINE_STAGES] = {
	"decode", "flow", "ndpi", "stream", "detect", "output",
};

const char *mt_engine_stage_name(int stage)
{
	return stage >= 0 && stage < MT_ENGINE_STAGES ? stage_names[stage] : "?";
}

static uint64_t stage_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Charges the time since the last mark to the stage that ran and starts
 * `next` (-1: none). Only sampled packets pay for the clock, so the cost
 * is a predictable branch on the others; returns the stage it ended.
 */
static inline int stage_mark(mt_engine *e, int next)
{
	int prev = e->stage;

	if (unlikely(prev >= 0 || next >= 0) && e->cfg.stage_clock) {
		uint64_t t = stage_now();
		if (prev >= 0)
			e->st.stage_ns[prev] += (t - e->stage_t0) * MT_ENGINE_STAGE_SAMPLE;
		e->stage_t0 = t;
		e->stage = next;
	}
	return prev;
}

void mt_engine_cfg_default(mt_engine_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	mt_flow_cfg_default(&cfg->flow);
	mt_stream_cfg_default(&cfg->stream);
	cfg->ndpi = 1;
	cfg->ndpi_max_packets = MT_NDPI_MAX_PACKETS;
	cfg->update_interval = MT_ENGINE_DEFAULT_UPDATE_INTERVAL;
	cfg->dns_cache_entries = MT_DNSCACHE_DEFAULT_ENTRIES;
	cfg->defrag = 1;
	mt_defrag_cfg_default(&cfg->defrag_cfg);
}

static void mem_add(mt_engine *e, fstate *fs, int64_t delta)
{
	if (delta) {
		fs->mem += delta;
		mt_flowtab_mem_add(e->ft, delta);
	}
}

/* ---- records ---- */

/*
 * The miner and pool objects of the flow's records: looked up once per flow
 * (and again only after the databases were swapped), kept as JSON text.
 */
static int attrib(mt_engine *e, const mt_flow *f, fstate *fs)
{
	const uint8_t *addr[2] = {mt_flow_cli_addr(f), mt_flow_srv_addr(f)};
	char ip[48];
	char *t;
	int i;

	if (fs->attrib && fs->attrib_gen == e->enrich_gen)
		return 0;
	for (i = 0; i < 2; i++) {
		mt_jw_reset(&e->ajw[i]);
		mt_hit_addr(f->key.ipver, addr[i], ip, sizeof(ip));
		/* The verdict is about where the mining happens: the miner end only. */
		if (mt_enrich_write(e->enrich, e->ecache, &e->ajw[i], f->key.ipver, addr[i], ip,
				    i == 0) < 0)
			return -ENOMEM;
	}
	e->st.enrich_lookups++;
	t = malloc(e->ajw[0].len + e->ajw[1].len);
	if (!t)
		return -ENOMEM;
	memcpy(t, e->ajw[0].buf, e->ajw[0].len);
	memcpy(t + e->ajw[0].len, e->ajw[1].buf, e->ajw[1].len);
	if (fs->attrib)
		mem_add(e, fs, -(int64_t)(fs->attrib_len[0] + fs->attrib_len[1]));
	free(fs->attrib);
	fs->attrib = t;
	fs->attrib_len[0] = (uint32_t)e->ajw[0].len;
	fs->attrib_len[1] = (uint32_t)e->ajw[1].len;
	fs->attrib_gen = e->enrich_gen;
	mem_add(e, fs, (int64_t)(e->ajw[0].len + e->ajw[1].len));
	return 0;
}

static void emit(mt_engine *e, mt_flow *f, fstate *fs, int status)
{
	mt_hit h;
	int i, prev;

	if (!fs->ev)
		return;
	prev = stage_mark(e, e->stage >= 0 ? MT_STAGE_OUTPUT : -1);
	/* A name that only a DNS answer gave still says which pool the flow went to. */
	if (!fs->ev->pool_host[0] && fs->dns_name)
		MT_EV_SET(fs->ev, pool_host, fs->dns_name, strlen(fs->dns_name));
	h.flow = f;
	h.ev = fs->ev;
	h.ts_us = e->now_us;
	h.status = status;
	h.seq = ++fs->nreports;
	h.app_proto = fs->lbl && fs->lbl->proto[0] ? fs->lbl->proto : NULL;
	h.miner_json = h.pool_json = NULL;
	h.miner_len = h.pool_len = 0;
	if (e->enrich) {
		if (attrib(e, f, fs) == 0) {
			h.miner_json = fs->attrib;
			h.miner_len = fs->attrib_len[0];
			h.pool_json = fs->attrib + fs->attrib_len[0];
			h.pool_len = fs->attrib_len[1];
		} else {
			e->st.alloc_fail++;
		}
	}
	mt_jw_reset(&e->jw);
	if (mt_hit_json(&e->jw, &h) < 0) {
		e->st.alloc_fail++;
		return;
	}
	for (i = 0; i < e->nsinks; i++) {
		if (e->sinks[i]->write(e->sinks[i], e->jw.buf, e->jw.len) < 0)
			e->st.sink_errors++;
	}
	fs->reported_version = fs->ev->version;
	fs->last_report_us = e->now_us;
	e->st.hits++;
	if (status == MT_HIT_NEW) {
		e->st.hits_new++;
		if (fs->ev->event == MT_EVENT_CRYPTO_P2P)
			e->st.hits_p2p++;
		else
			e->st.hits_mining++;
	} else {
		e->st.hit_updates++;
	}
	stage_mark(e, prev);
}

/* ---- nDPI ---- */

/* Keeps nDPI's final labels (from e->ni) compactly and frees its flow state. */
static void ndpi_finish(mt_engine *e, fstate *fs)
{
	const mt_ndpi_info *ni = &e->ni;
	size_t l[4], total;
	const char *src[4];
	/* Each field's own bound (all are NUL-terminated; the bound keeps gcc -O3 sure of it). */
	const size_t cap[4] = {sizeof(ni->proto) - 1, sizeof(ni->sni) - 1, sizeof(ni->http_host) - 1,
			       sizeof(ni->http_ua) - 1};
	ndpi_labels *lb;
	char *p;
	int i;

	src[0] = ni->proto;
	src[1] = ni->sni;
	src[2] = ni->http_host;
	src[3] = ni->http_ua;
	total = 0;
	for (i = 0; i < 4; i++)
		total += (l[i] = strnlen(src[i], cap[i])) + 1;
	lb = total > 4 ? malloc(sizeof(*lb) + total) : NULL;
	if (lb) {
		const char **dst[4] = {&lb->proto, &lb->sni, &lb->host, &lb->ua};
		p = lb->text;
		for (i = 0; i < 4; i++) {
			memcpy(p, src[i], l[i]);
			p[l[i]] = '\0';
			*dst[i] = p;
			p += l[i] + 1;
		}
		fs->lbl = lb;
		mem_add(e, fs, (int64_t)(sizeof(*lb) + total));
	}
	mt_ndpi_flow_free(fs->nf);
	fs->nf = NULL;
	mem_add(e, fs, -fs->ndpi_mem);
	fs->ndpi_mem = 0;
}

static void ndpi_packet(mt_engine *e, fstate *fs, const mt_pkt *p, int dir)
{
	e->st.ndpi_packets++;
	/* nDPI's names are copied out once, when it is done, not at every packet. */
	if (mt_ndpi_feed(e->ndpi, fs->nf, p, dir) > 0) {
		mt_ndpi_result(e->ndpi, fs->nf, &e->ni);
		ndpi_finish(e, fs);
	}
}

/*
 * nDPI's labels are read by the detectors still asked that declare it
 * (MT_WANT_LABELS: behaviour's exclusion of other protocols) and by records
 * (app_proto). Once one of our detectors has identified the flow, the record
 * names its protocol (mining.protocol) and nDPI would only add app_proto at
 * about 22,000 instructions a packet: its state goes at once, and app_proto
 * is only there when nDPI had classified the flow before. While no detector
 * that reads the labels is asked (UDP flows; TCP flows behaviour let go),
 * nobody needs them either: nDPI never starts, or its state goes without its
 * final guess, and app_proto is omitted. (DNS answers come from the engine's
 * own DNS cache, not from nDPI.)
 */
static int ndpi_useless(const mt_engine *e, const fstate *fs)
{
	return fs->owner >= 0 || !(fs->active & e->reg->labels_mask);
}

/*
 * nDPI held back: most mining flows are identified by our detectors at the
 * pool's first answer, the second or third payload packet, and nDPI would
 * only spend its first packet on them (about 26,000 instructions, a third of
 * the time on the benchmark). So the first NDPI_HOLD_PKTS payload packets are
 * copied aside; once a detector identifies the flow they are dropped unread,
 * else nDPI gets them in order (then the flow's later packets) at the next
 * packet, at the flow's end, or when one does not fit: it sees the same
 * packets as before, one or two packets later (only behaviour, which decides
 * after minutes, reads its labels meanwhile).
 */
#define NDPI_HOLD_PKTS 2u
#define NDPI_HOLD_MAX_L3 2048u /* a bigger packet starts nDPI at once */

typedef struct ndpi_held {
	uint64_t ts_us;
	uint32_t l3_len, payload_len;
	uint8_t dir, l4proto;
} ndpi_held;

typedef struct ndpi_hold {
	uint32_t n, bytes;
	ndpi_held p[NDPI_HOLD_PKTS];
	uint8_t data[]; /* their IP packets, one after the other */
} ndpi_hold;

static void ndpi_hold_free(mt_engine *e, fstate *fs)
{
	if (!fs->hold)
		return;
	mem_add(e, fs, -(int64_t)(sizeof(*fs->hold) + fs->hold->bytes));
	free(fs->hold);
	fs->hold = NULL;
}

/* Copies p aside for nDPI: 0, or -1 when it cannot be held (full, too big, out of memory). */
static int ndpi_hold_add(mt_engine *e, fstate *fs, const mt_pkt *p, int dir)
{
	ndpi_hold *h = fs->hold, *nh;
	uint32_t n = h ? h->n : 0, b = h ? h->bytes : 0;

	if (n >= NDPI_HOLD_PKTS || !p->l3 || p->l3_len == 0 || p->l3_len > NDPI_HOLD_MAX_L3)
		return -1;
	nh = realloc(h, sizeof(*nh) + b + p->l3_len);
	if (!nh) {
		e->st.alloc_fail++;
		return -1;
	}
	memcpy(nh->data + b, p->l3, p->l3_len);
	nh->p[n].ts_us = p->ts_us;
	nh->p[n].l3_len = p->l3_len;
	nh->p[n].payload_len = p->payload_len;
	nh->p[n].dir = (uint8_t)dir;
	nh->p[n].l4proto = p->l4proto;
	nh->n = n + 1;
	nh->bytes = b + p->l3_len;
	mem_add(e, fs, (int64_t)p->l3_len + (h ? 0 : (int64_t)sizeof(*nh)));
	fs->hold = nh;
	return 0;
}

/* Starts nDPI on the flow: its state, then the held packets in their order. */
static void ndpi_start(mt_engine *e, fstate *fs)
{
	const ndpi_hold *h = fs->hold;
	size_t m = 0;

	fs->ndpi_wait = 0;
	fs->nf = mt_ndpi_flow_new(e->ndpi, &m);
	if (fs->nf) {
		fs->ndpi_mem = (int64_t)m;
		mem_add(e, fs, fs->ndpi_mem);
		e->st.ndpi_flows++;
	}
	if (h) {
		uint32_t i, off = 0;
		for (i = 0; i < h->n && fs->nf; i++) {
			mt_pkt pk;
			memset(&pk, 0, sizeof(pk));
			pk.ts_us = h->p[i].ts_us;
			pk.l4proto = h->p[i].l4proto;
			pk.l3 = h->data + off;
			pk.l3_len = h->p[i].l3_len;
			pk.payload_len = h->p[i].payload_len;
			off += h->p[i].l3_len;
			ndpi_packet(e, fs, &pk, h->p[i].dir);
		}
		ndpi_hold_free(e, fs);
	}
}

static void ndpi_drop(mt_engine *e, fstate *fs)
{
	mt_ndpi_flow_free(fs->nf);
	fs->nf = NULL;
	mem_add(e, fs, -fs->ndpi_mem);
	fs->ndpi_mem = 0;
	e->st.ndpi_dropped++;
}

/* ---- detectors ---- */

static void flow_view(const mt_engine *e, const mt_flow *f, const fstate *fs, mt_flow_view *fv)
{
	int d;

	memset(fv, 0, sizeof(*fv));
	fv->sigs = e->sigs;
	fv->ipver = f->key.ipver;
	fv->l4proto = f->key.l4proto;
	fv->dir_certain = f->dir_certain;
	fv->cli_addr = mt_flow_cli_addr(f);
	fv->srv_addr = mt_flow_srv_addr(f);
	fv->cli_port = mt_flow_cli_port(f);
	fv->srv_port = mt_flow_srv_port(f);
	fv->first_us = f->first_us;
	for (d = 0; d < 2; d++) {
		fv->pkts[d] = f->pkts[d];
		fv->bytes[d] = f->bytes[d];
		fv->data[d] = fs->sd[d].buf;
		fv->len[d] = fs->sd[d].len;
		fv->gap_off[d] = fs->sd[d].gap_off;
		fv->midstream[d] = fs->sd[d].midstream;
		fv->fin[d] = fs->sd[d].fin;
		fv->capped[d] = fs->sd[d].capped;
	}
	if (fs->lbl) {
		fv->ndpi_proto = fs->lbl->proto[0] ? fs->lbl->proto : NULL;
		fv->sni = fs->lbl->sni[0] ? fs->lbl->sni : NULL;
		fv->http_host = fs->lbl->host[0] ? fs->lbl->host : NULL;
		fv->http_ua = fs->lbl->ua[0] ? fs->lbl->ua : NULL;
	}
	fv->dns_name = fs->dns_name;
}

static void detectors_done(mt_engine *e, fstate *fs);
static void node_learn(mt_engine *e, const mt_flow *f, const mt_evidence *ev);

/*
 * Whether nDPI should start on the flow now: some detector still asked reads
 * its labels (ndpi_useless) and, asked with its state (wants_labels), says
 * this flow's labels would tell it something. A detector not called yet has
 * no state and cannot tell: it wants them.
 */
static int ndpi_wanted(mt_engine *e, const mt_flow *f, fstate *fs)
{
	const mt_detect_reg *r = e->reg;
	uint32_t m = fs->active & r->labels_mask;
	mt_flow_view fv;
	int built = 0;

	if (fs->owner >= 0)
		return 0;
	while (m) {
		int i = __builtin_ctz(m);
		const mt_detector *d = r->det[i];

		m &= m - 1;
		if (!d->wants_labels || !fs->ds || !fs->ds[i])
			return 1;
		if (!built) {
			flow_view(e, f, fs, &fv);
			built = 1;
		}
		if (d->wants_labels(r->global[i], fs->ds[i], &fv))
			return 1;
	}
	return 0;
}

static void streams_free(mt_engine *e, fstate *fs)
{
	int64_t md = 0;

	mt_stream_dir_release(&fs->sd[0], &e->spool, &md);
	mt_stream_dir_release(&fs->sd[1], &e->spool, &md);
	mem_add(e, fs, md);
}

/* Bytes a detector's state is accounted for: its size rounded as malloc does, plus malloc's header. */
static int64_t state_cost(const mt_detector *d)
{
	return (int64_t)(((d->state_size + 15u) & ~(size_t)15u) + 16u);
}

/*
 * Detector i's state for this flow, zeroed, made at its first call: a
 * detector that a prefilter or an earlier answer let go never costs one.
 * NULL when out of memory.
 */
/* Under AddressSanitizer, states are freed at once so that a detector that kept a pointer into one is caught. */
#if defined(__SANITIZE_ADDRESS__)
#define STATE_SPARE 0u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STATE_SPARE 0u
#endif
#endif
#ifndef STATE_SPARE
#define STATE_SPARE 256u
#endif

static void *det_state(mt_engine *e, fstate *fs, int i)
{
	const mt_detector *d = e->reg->det[i];
	void *st = fs->ds[i];

	if (likely(st != NULL))
		return st;
	if (e->spare[i]) {
		st = e->spare[i];
		memcpy(&e->spare[i], st, sizeof(void *));
		e->nspare[i]--;
		memset(st, 0, d->state_size);
	} else {
		/* Room for the spare list's link whatever the state's size. */
		st = calloc(1, d->state_size > sizeof(void *) ? d->state_size : sizeof(void *));
	}
	if (unlikely(!st)) {
		e->st.alloc_fail++;
		return NULL;
	}
	fs->ds[i] = st;
	fs->touched |= 1u << i;
	mem_add(e, fs, state_cost(d));
	return st;
}

/* Frees the states of the detectors no longer asked (excluded, out of packets, or not the owner). */
static void det_prune(mt_engine *e, fstate *fs)
{
	const mt_detect_reg *r = e->reg;
	uint32_t t = fs->touched & ~fs->active;

	while (t) {
		int i = __builtin_ctz(t);
		const mt_detector *d = r->det[i];

		t &= t - 1;
		if (d->flow_free)
			d->flow_free(r->global[i], fs->ds[i]);
		if (e->nspare[i] < STATE_SPARE) {
			memcpy(fs->ds[i], &e->spare[i], sizeof(void *));
			e->spare[i] = fs->ds[i];
			e->nspare[i]++;
		} else {
			free(fs->ds[i]);
		}
		fs->ds[i] = NULL;
		mem_add(e, fs, -state_cost(d));
	}
	fs->touched &= fs->active;
}

/*
 * Asks the active detectors in `mask` about the flow. Until one has
 * identified it, detectors write into a scratch evidence that is kept only if
 * they wrote something; the first to answer MT_DETECTED owns the flow and,
 * from then on, is the only one asked.
 */
/*
 * A detector that reads nDPI's labels to leave known applications alone (MT_WANT_LABELS:
 * behaviour) may identify a flow nDPI never saw (a TLS client is not given to nDPI, see
 * wants_labels). Its server name is then matched against nDPI's host list, as nDPI would have
 * matched the SNI: a known application that is not mining refuses the identification (counted).
 */
static int veto_known_app(mt_engine *e, const fstate *fs, const char *detector)
{
	char app[64];
	size_t n;

	if (!e->ndpi || !fs->ev || fs->lbl) /* labelled by nDPI: the detector judged the labels */
		return 0;
	n = strnlen(fs->ev->pool_host, sizeof fs->ev->pool_host);
	if (!n || !mt_ndpi_host_app(e->ndpi, fs->ev->pool_host, n, app, sizeof app))
		return 0;
	e->st.app_vetoed++;
	mt_debug("%s: not reported: %.*s is %s by nDPI's host list", detector, (int)n,
		 fs->ev->pool_host, app);
	return 1;
}

static void run_detectors(mt_engine *e, mt_flow *f, fstate *fs, uint32_t mask,
			  const mt_pkt_view *pv)
{
	const mt_detect_reg *r = e->reg;
	mt_flow_view fv;
	uint32_t todo = fs->active & mask;
	int built = 0;

	while (todo) {
		int i = __builtin_ctz(todo);
		const mt_detector *d = r->det[i];
		mt_evidence *ev;
		void *st;
		int ans, scratch = 0;

		todo &= todo - 1;
		if (!built) {
			flow_view(e, f, fs, &fv);
			built = 1;
		}
		if (!fs->ds[i]) {
			/* First call for this flow: a prefilter may let it go before any state exists. */
			if (d->prefilter && d->prefilter(r->global[i], &fv, pv) == MT_EXCLUDED) {
				e->st.det_prefiltered[i]++;
				e->st.det_excluded[i]++;
				fs->active &= ~(1u << i);
				continue;
			}
			st = det_state(e, fs, i);
			if (unlikely(!st)) {
				fs->active &= ~(1u << i);
				continue;
			}
		} else {
			st = fs->ds[i];
		}
		/*
		 * The flow's evidence belongs to one detector at a time (ev_writer):
		 * the others write into a zeroed scratch that is kept only when they
		 * identify the flow.
		 */
		if (fs->ev && fs->ev_writer == i) {
			ev = fs->ev;
		} else {
			memset(&e->scratch, 0, sizeof(e->scratch));
			ev = &e->scratch;
			scratch = 1;
		}
		e->st.detector_calls++;
		e->st.det_calls[i]++;
		ans = d->on_packet(r->global[i], st, &fv, pv, ev);
		if (scratch && (ev->version || ans == MT_DETECTED) &&
		    (fs->ev_writer < 0 || ans == MT_DETECTED)) {
			if (!fs->ev) {
				fs->ev = malloc(sizeof(*fs->ev));
				if (!fs->ev) {
					e->st.alloc_fail++;
					continue;
				}
				mem_add(e, fs, (int64_t)sizeof(*fs->ev));
			}
			memcpy(fs->ev, ev, sizeof(*fs->ev));
			fs->ev_writer = i;
		}
		if (ans == MT_DETECTED && fs->owner < 0 && (d->wants & MT_WANT_LABELS) && veto_known_app(e, fs, d->name))
			ans = MT_EXCLUDED;
		if (ans == MT_DETECTED) {
			if (fs->owner < 0) {
				if (fs->ev->event == MT_EVENT_NONE)
					fs->ev->event = MT_EVENT_MINING;
				MT_EV_SET(fs->ev, detector, d->name, strlen(d->name));
				fs->owner = i;
				e->st.det_detected[i]++;
				fs->active = 1u << i;
				todo = 0;
				e->st.flows_detected++;
				emit(e, f, fs, MT_HIT_NEW);
				if (fs->ev->event == MT_EVENT_CRYPTO_P2P)
					node_learn(e, f, fs->ev);
			} else if (fs->ev->version != fs->reported_version && !pv->flow_end &&
				   e->now_us - fs->last_report_us >=
					   (uint64_t)e->cfg.update_interval * 1000000u) {
				emit(e, f, fs, MT_HIT_UPDATE);
			}
		} else if (ans == MT_EXCLUDED) {
			e->st.det_excluded[i]++;
			fs->active &= ~(1u << i);
			if (fs->owner < 0 && fs->ev_writer == i) {
				memset(fs->ev, 0, sizeof(*fs->ev)); /* its partial evidence goes with it */
				fs->ev_writer = -1;
			}
		}
		if (d->max_packets && fs->payload_pkts >= d->max_packets)
			fs->active &= ~(1u << i);
	}
	if (!fs->active && !pv->flow_end) {
		detectors_done(e, fs);
		return;
	}
	if (fs->touched & ~fs->active)
		det_prune(e, fs);
	if (!(fs->active & r->tcp_mask) && (fs->sd[0].alloc || fs->sd[1].alloc))
		streams_free(e, fs);
}

/*
 * Spare blocks of one size, linked through their first bytes: a flow's state
 * and its slot array are made at every new flow and freed at every flow's
 * end, and calloc and free of them were 2% of the instructions. Zeroed when
 * taken; at most FLOW_SPARE kept.
 */
#define FLOW_SPARE (STATE_SPARE * 4u)

static void *spare_take(void **list, uint32_t *n, size_t size)
{
	void *b = *list;

	if (!b)
		return calloc(1, size);
	memcpy(list, b, sizeof(void *));
	(*n)--;
	memset(b, 0, size);
	return b;
}

static void spare_put(void **list, uint32_t *n, void *b)
{
	if (!b)
		return;
	if (*n >= FLOW_SPARE) {
		free(b);
		return;
	}
	memcpy(b, list, sizeof(void *));
	*list = b;
	(*n)++;
}

static void spare_drain(void **list, uint32_t *n)
{
	while (*list) {
		void *next;

		memcpy(&next, *list, sizeof(void *));
		free(*list);
		*list = next;
	}
	*n = 0;
}

/*
 * Small state for every flow (its stream positions start at the SYN); the
 * detector states and nDPI's state wait for the first payload, so a flood of
 * empty connections costs only this.
 */
static fstate *fstate_new(mt_engine *e, mt_flow *f)
{
	fstate *fs = spare_take(&e->spare_fs, &e->nspare_fs, sizeof(*fs));

	if (!fs) {
		e->st.alloc_fail++;
		return NULL;
	}
	fs->owner = -1;
	fs->ev_writer = -1;
	fs->active = f->key.l4proto == 6 ? e->reg->tcp_mask | e->reg->tcppkt_mask : e->reg->udp_mask;
	f->user = fs;
	mem_add(e, fs, (int64_t)sizeof(*fs));
	return fs;
}

/* At the first payload: detector states and nDPI. Returns 0, or -1 if nothing can be asked. */
static int fstate_inspect(mt_engine *e, fstate *fs)
{
	fs->inspected = 1;
	e->st.flows_inspected++;
	if (e->ndpi)
		fs->ndpi_wait = 1; /* nDPI starts later, if still wanted (ndpi_start) */
	if (fs->active) {
		/* Only the slots: each detector's state is made at its first call. */
		fs->ds = spare_take(&e->spare_ds, &e->nspare_ds, e->reg->n * sizeof(*fs->ds));
		if (!fs->ds) {
			e->st.alloc_fail++;
			fs->active = 0;
			return -1;
		}
		mem_add(e, fs, (int64_t)(e->reg->n * sizeof(*fs->ds)));
	}
	return 0;
}

/* Once no detector is asked any more: their states and the stream buffers go. */
static void detectors_done(mt_engine *e, fstate *fs)
{
	fs->active = 0;
	det_prune(e, fs);
	if (fs->ds) {
		spare_put(&e->spare_ds, &e->nspare_ds, fs->ds);
		fs->ds = NULL;
		mem_add(e, fs, -(int64_t)(e->reg->n * sizeof(*fs->ds)));
	}
	streams_free(e, fs);
}

/* Frees what fs holds; the flow table gets its memory back through mem_add. */
static void fstate_free(mt_engine *e, fstate *fs)
{
	detectors_done(e, fs);
	ndpi_hold_free(e, fs);
	mt_ndpi_flow_free(fs->nf);
	free(fs->lbl);
	free(fs->ev);
	free(fs->dns_name);
	free(fs->attrib);
	mt_flowtab_mem_add(e->ft, -fs->mem);
	spare_put(&e->spare_fs, &e->nspare_fs, fs);
}

static uint32_t node_slot(const uint8_t *addr, uint16_t port)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ port) * 16777619u;
	return h % NODE_SLOTS;
}

/* Remembers the client of an identified P2P flow as a node dialling that port. */
static void node_learn(mt_engine *e, const mt_flow *f, const mt_evidence *ev)
{
	node_host *n;

	node_host nh;

	if (f->key.l4proto != 6 || !f->dir_certain)
		return;
	memset(&nh, 0, sizeof(nh));
	memcpy(nh.addr, mt_flow_cli_addr(f), 16);
	nh.port = mt_flow_srv_port(f);
	nh.ipver = f->key.ipver;
	nh.used = 1;
	memcpy(nh.protocol, ev->protocol, sizeof(nh.protocol));
	memcpy(nh.coin, ev->coin, sizeof(nh.coin));
	if (e->nodes_shared) {
		/* A node's attempts may hash to another worker: every worker learns it (lock per identification). */
		pthread_mutex_lock(e->nodes_mu);
		e->nodes_shared[node_slot(nh.addr, nh.port)] = nh;
		pthread_mutex_unlock(e->nodes_mu);
		return;
	}
	if (!e->nodes) {
		e->nodes = calloc(NODE_SLOTS, sizeof(*e->nodes));
		if (!e->nodes) {
			e->st.alloc_fail++;
			return;
		}
	}
	n = &e->nodes[node_slot(nh.addr, nh.port)];
	*n = nh;
}

/*
 * A TCP connection attempt that never carried a byte, from a known node to
 * the port it speaks P2P on: reported as that node's P2P traffic, at low
 * confidence and saying why.
 */
static void node_dial(mt_engine *e, mt_flow *f, fstate *fs)
{
	const node_host *n;
	node_host copy;
	char text[MT_EV_TEXT_LEN];

	if ((!e->nodes && !e->nodes_shared) || f->key.l4proto != 6 || !f->dir_certain || fs->ev)
		return;
	if (e->nodes_shared) {
		/* Copied under the lock (once per flow that ends without a byte). */
		pthread_mutex_lock(e->nodes_mu);
		copy = e->nodes_shared[node_slot(mt_flow_cli_addr(f), mt_flow_srv_port(f))];
		pthread_mutex_unlock(e->nodes_mu);
		n = &copy;
	} else {
		n = &e->nodes[node_slot(mt_flow_cli_addr(f), mt_flow_srv_port(f))];
	}
	if (!n->used || n->ipver != f->key.ipver || n->port != mt_flow_srv_port(f) ||
	    memcmp(n->addr, mt_flow_cli_addr(f), 16) != 0)
		return;
	fs->ev = calloc(1, sizeof(*fs->ev));
	if (!fs->ev) {
		e->st.alloc_fail++;
		return;
	}
	mem_add(e, fs, (int64_t)sizeof(*fs->ev));
	fs->ev->event = MT_EVENT_CRYPTO_P2P;
	MT_EV_SET(fs->ev, protocol, n->protocol, strnlen(n->protocol, sizeof(n->protocol)));
	MT_EV_SET(fs->ev, coin, n->coin, strnlen(n->coin, sizeof(n->coin)));
	MT_EV_SET(fs->ev, detector, "engine", 6);
	snprintf(text, sizeof(text), "%s: connection attempt without payload from a host seen as a node, to its peer port %u",
		 n->protocol, (unsigned)n->port);
	MT_EV_SET(fs->ev, evidence, text, strlen(text));
	fs->ev->confidence = 0.5;
	e->st.flows_detected++;
	emit(e, f, fs, MT_HIT_NEW);
}

/*
 * Last words: nDPI's final guess, the detectors' flow-end call, the final
 * record if the evidence changed; then the heavy per-flow state goes. Runs
 * when the connection closes (the flow itself stays a while for late
 * packets, which are then ignored) or when the flow table ends the flow.
 */
/*
 * After the last words nothing is reported for the flow any more: its
 * evidence and labels go at once, not when the table drops the flow (a
 * closed connection stays there tcp_closed_timeout for late packets).
 */
static void records_done(mt_engine *e, fstate *fs)
{
	if (fs->ev) {
		free(fs->ev);
		fs->ev = NULL;
		mem_add(e, fs, -(int64_t)sizeof(mt_evidence));
	}
	if (fs->lbl) {
		const ndpi_labels *lb = fs->lbl;
		size_t n = sizeof(*lb) + strlen(lb->proto) + strlen(lb->sni) + strlen(lb->host) +
			   strlen(lb->ua) + 4;

		free(fs->lbl);
		fs->lbl = NULL;
		mem_add(e, fs, -(int64_t)n);
	}
}

static void flow_finish(mt_engine *e, mt_flow *f, fstate *fs)
{
	mt_pkt_view pv;
	int64_t md = 0;

	if (fs->finished)
		return;
	fs->finished = 1;
	if (!fs->inspected) {
		node_dial(e, f, fs);
		records_done(e, fs);
		return;
	}
	if (fs->ndpi_wait) {
		if (!ndpi_wanted(e, f, fs)) {
			fs->ndpi_wait = 0;
			ndpi_hold_free(e, fs);
		} else {
			ndpi_start(e, fs);
		}
	}
	if (fs->nf) {
		mt_ndpi_giveup(e->ndpi, fs->nf, &e->ni);
		ndpi_finish(e, fs);
	}
	if (fs->active && fs->payload_pkts) {
		if (f->key.l4proto == 6) {
			mt_stream_drain(&fs->sd[0], &e->cfg.stream, &e->sst, &md);
			mt_stream_drain(&fs->sd[1], &e->cfg.stream, &e->sst, &md);
			mem_add(e, fs, md);
		}
		memset(&pv, 0, sizeof(pv));
		pv.ts_us = f->last_us;
		pv.flow_end = 1;
		run_detectors(e, f, fs, fs->active, &pv);
	}
	if (fs->owner >= 0 && fs->ev && fs->ev->version != fs->reported_version)
		emit(e, f, fs, MT_HIT_END);
	detectors_done(e, fs);
	records_done(e, fs);
}

/* The flow table's end callback. */
static void on_flow_end(mt_flow *f, int reason, void *ctx)
{
	mt_engine *e = ctx;
	fstate *fs = f->user;

	(void)reason;
	if (!fs)
		return;
	flow_finish(e, f, fs);
	fstate_free(e, fs);
	f->user = NULL;
}

/* ---- per packet ---- */

/* The name an earlier DNS answer gave for the flow's server, kept with the flow (the cache may drop it). */
static void dns_name_of(mt_engine *e, const mt_flow *f, fstate *fs)
{
	const char *n;
	char buf[256];
	size_t l;

	if (e->dns_shared) {
		/* Copied out under the lock: another worker may replace the entry right after. */
		pthread_mutex_lock(e->dns_mu);
		n = mt_dnscache_lookup(e->dns_shared, f->key.ipver, mt_flow_srv_addr(f), e->now_us);
		if (n)
			snprintf(buf, sizeof(buf), "%s", n);
		pthread_mutex_unlock(e->dns_mu);
		n = n ? buf : NULL;
	} else {
		n = mt_dnscache_lookup(e->dns, f->key.ipver, mt_flow_srv_addr(f), e->now_us);
	}
	if (!n)
		return;
	l = strlen(n);
	fs->dns_name = malloc(l + 1);
	if (!fs->dns_name) {
		e->st.alloc_fail++;
		return;
	}
	memcpy(fs->dns_name, n, l + 1);
	mem_add(e, fs, (int64_t)(l + 1));
}

/*
 * A DNS response goes into the cache before its flow is looked at: every UDP
 * datagram from port 53, and over TCP (RFC 7766: a 2-byte length, then the
 * message) a segment from port 53 that holds one whole message, which is how
 * answers travel; a message split over segments is not read.
 */
static void dns_feed(mt_engine *e, const mt_pkt *p)
{
	const uint8_t *m = p->payload;
	uint32_t n = p->payload_len;

	if (!e->dns && !e->dns_shared) {
		if (!e->cfg.dns_cache_entries)
			return;
		e->dns = mt_dnscache_new(e->cfg.dns_cache_entries);
		if (!e->dns) {
			e->st.alloc_fail++;
			e->cfg.dns_cache_entries = 0;
			return;
		}
	}
	if (p->l4proto == 6) {
		uint32_t l;
		if (n < 2)
			return;
		l = (uint32_t)m[0] << 8 | m[1];
		if (l == 0 || l > n - 2)
			return;
		m += 2;
		n = l;
	}
	if (e->dns_shared) {
		/* One lock per DNS answer (not per packet): every worker learns every answer. */
		pthread_mutex_lock(e->dns_mu);
		mt_dnscache_feed(e->dns_shared, m, n, e->now_us);
		pthread_mutex_unlock(e->dns_mu);
		return;
	}
	mt_dnscache_feed(e->dns, m, n, e->now_us);
}

/* Stream and detectors for one decoded packet of flow f. */
static void flow_detect(mt_engine *e, mt_flow *f, fstate *fs, const mt_pkt *p, int dir);

static void flow_packet(mt_engine *e, mt_flow *f, fstate *fs, const mt_pkt *p, int dir)
{
	if (unlikely(!fs->inspected)) {
		if (p->payload_len == 0 && !(p->l4proto == 6 && (p->tcp_flags & 0x02) && fs->active))
			return;
		/* A SYN only sets the stream's first sequence number; states wait for data. */
		if (p->payload_len && fstate_inspect(e, fs) < 0)
			return;
		if (p->payload_len)
			dns_name_of(e, f, fs);
	}
	flow_detect(e, f, fs, p, dir);
	/*
	 * nDPI after our detectors, and only while it adds information: once
	 * one of them has identified the flow (the record names the protocol)
	 * or none is left to read its labels, its state goes (ndpi_useless).
	 */
	if (fs->ndpi_wait) {
		stage_mark(e, e->stage >= 0 ? MT_STAGE_NDPI : -1);
		if (ndpi_useless(e, fs)) {
			fs->ndpi_wait = 0;
			ndpi_hold_free(e, fs);
			e->st.ndpi_dropped++;
			return;
		}
		/* nDPI reads no bare TCP segment of a flow before it has named it. */
		if ((p->l4proto == 6 && p->payload_len == 0) || ndpi_hold_add(e, fs, p, dir) == 0)
			return;
		if (!ndpi_wanted(e, f, fs)) {
			/* The detectors that read labels know enough of this flow without them. */
			fs->ndpi_wait = 0;
			ndpi_hold_free(e, fs);
			e->st.ndpi_dropped++;
			return;
		}
		ndpi_start(e, fs);
	}
	if (fs->nf) {
		stage_mark(e, e->stage >= 0 ? MT_STAGE_NDPI : -1);
		if (ndpi_useless(e, fs))
			ndpi_drop(e, fs);
		else
			ndpi_packet(e, fs, p, dir);
	}
}

/* Stream and detectors for one packet of an inspected flow. */
static void flow_detect(mt_engine *e, mt_flow *f, fstate *fs, const mt_pkt *p, int dir)
{
	mt_pkt_view pv;
	uint32_t mask;
	int n;

	stage_mark(e, e->stage >= 0 ? MT_STAGE_STREAM : -1);
	if (!fs->active)
		return;
	if (p->l4proto == 6) {
		int64_t md = 0;
		if (p->payload_len == 0 && !(p->tcp_flags & 0x07))
			return; /* a pure ACK tells the stream nothing */
		n = 0;
		if (fs->active & e->reg->tcp_mask) {
			n = mt_stream_segment_pooled(&fs->sd[dir], &e->cfg.stream, &e->sst, &e->spool,
						     p->seq, p->tcp_flags, p->payload, p->payload_len, &md);
			mem_add(e, fs, md);
		}
		if (p->payload_len)
			fs->payload_pkts++;
		/* Stream detectors when the stream grew (or closed); packet detectors for every payload. */
		mask = (n > 0 || (p->tcp_flags & 0x05)) ? e->reg->tcp_mask : 0;
		if (p->payload_len)
			mask |= e->reg->tcppkt_mask;
		if (!(mask & fs->active))
			return;
	} else {
		mask = e->reg->udp_mask;
		if (p->payload_len == 0)
			return;
		fs->payload_pkts++;
	}
	if (unlikely(!fs->inspected))
		return; /* a SYN with FIN or RST and no byte: no detector state exists yet */
	e->st.payload_pkts++;
	pv.dir = dir;
	pv.ts_us = e->now_us;
	pv.payload = p->payload;
	pv.payload_len = p->payload_len;
	pv.tcp_flags = p->tcp_flags;
	pv.flow_end = 0;
	stage_mark(e, e->stage >= 0 ? MT_STAGE_DETECT : -1);
	run_detectors(e, f, fs, mask, &pv);
}

/* A fragment: held, or the last one of its datagram, which is then decoded into *p (returns 1). */
static int defrag_packet(mt_engine *e, const mt_frag *fr, mt_pkt *p)
{
	mt_defrag_dgram dg;

	if (unlikely(!e->defrag)) {
		e->defrag = mt_defrag_new(&e->cfg.defrag_cfg, NULL);
		if (!e->defrag) {
			mt_warn("cannot allocate the fragment reassembly table: fragments are skipped");
			e->cfg.defrag = 0;
			return 0;
		}
	}
	if (mt_defrag_add(e->defrag, fr, e->now_us, &dg) != 1)
		return 0;
	return mt_decode_datagram(dg.ip, dg.len, dg.nvlan, dg.vlan, e->now_us, p, &e->dst) == MT_DECODE_L4;
}

/* The rest of mt_engine_frame for a decoded packet; hint as mt_flowtab_packet_hinted takes it. */
static void frame_decoded(mt_engine *e, const mt_pkt *p, const mt_flow_hint *hint)
{
	mt_flow *f;
	fstate *fs;
	int dir, created;

	if (p->sport == 53 && p->payload_len)
		dns_feed(e, p);
	stage_mark(e, e->stage >= 0 ? MT_STAGE_FLOW : -1);
	f = mt_flowtab_packet_hinted(e->ft, p, hint, &dir, &created);
	if (unlikely(!f))
		return;
	fs = f->user;
	if (!fs) {
		fs = fstate_new(e, f);
		if (!fs)
			return;
	}
	if (unlikely(fs->finished))
		return;
	flow_packet(e, f, fs, p, dir);
	/* Closed both ways (or reset): the last words now, not at the table's timeout. */
	if (f->tcp_state == MT_TCP_CLOSED && fs->inspected) {
		stage_mark(e, e->stage >= 0 ? MT_STAGE_DETECT : -1);
		flow_finish(e, f, fs);
	}
}

/* Counters and packet time of a frame; 1 if its stages are to be timed. */
static inline int frame_count(mt_engine *e, uint64_t ts_us, uint32_t wire_len)
{
	e->st.packets++;
	e->st.bytes += wire_len;
	if (unlikely(e->st.first_ts_us == 0))
		e->st.first_ts_us = ts_us;
	/* Packet time never goes backwards for the flow table, whatever the capture says. */
	if (ts_us > e->now_us)
		e->now_us = ts_us;
	e->st.last_ts_us = e->now_us;
	if (unlikely(e->st.packets % MT_ENGINE_STAGE_SAMPLE == 0) && e->cfg.stage_clock) {
		e->st.stage_samples++;
		return 1;
	}
	return 0;
}

void mt_engine_frame(mt_engine *e, int linktype, uint64_t ts_us,
		     const uint8_t *data, uint32_t cap_len, uint32_t wire_len)
{
	mt_pkt p;
	mt_frag fr;
	int rc;

	if (frame_count(e, ts_us, wire_len))
		stage_mark(e, MT_STAGE_DECODE);
	rc = mt_decode_frame_frag(linktype, data, cap_len, wire_len, e->now_us, &p, &e->dst,
				  e->cfg.defrag ? &fr : NULL);
	if (rc == MT_DECODE_L4 || (rc == MT_DECODE_OTHER && e->cfg.defrag && fr.ipver && defrag_packet(e, &fr, &p)))
		frame_decoded(e, &p, NULL);
	stage_mark(e, -1);
}

/*
 * Three passes over a batch: decode each frame (at the packet time
 * mt_engine_frame would give it) and ask for its flow's bucket; ask for the
 * first flow of each bucket; then everything else, frame by frame, in order.
 * The first two passes change nothing but the decode counters, so the
 * records are those of mt_engine_frame; an IP fragment goes to reassembly
 * in the third pass, at its turn. Time sampling: a sampled frame's decode
 * (with the hash) is timed in the first pass, the rest in the third.
 */
enum { FR_SKIP = 0, FR_PKT, FR_FRAG };

void mt_engine_frames(mt_engine *e, int linktype, const mt_frame *fr, uint32_t n)
{
	mt_pkt pk[MT_ENGINE_BATCH];
	mt_flow_hint hint[MT_ENGINE_BATCH];
	mt_frag frag[MT_ENGINE_BATCH];
	uint8_t kind[MT_ENGINE_BATCH];
	uint64_t now;
	uint32_t i;

	for (; n > MT_ENGINE_BATCH; n -= MT_ENGINE_BATCH, fr += MT_ENGINE_BATCH)
		mt_engine_frames(e, linktype, fr, MT_ENGINE_BATCH);
	now = e->now_us;
	for (i = 0; i < n; i++) {
		int timed = e->cfg.stage_clock &&
			    unlikely((e->st.packets + i + 1) % MT_ENGINE_STAGE_SAMPLE == 0);
		uint64_t t0 = timed ? stage_now() : 0;
		int rc;

		if (fr[i].ts_us > now)
			now = fr[i].ts_us;
		rc = mt_decode_frame_frag(linktype, fr[i].data, fr[i].cap_len, fr[i].wire_len, now,
					  &pk[i], &e->dst, e->cfg.defrag ? &frag[i] : NULL);
		kind[i] = FR_SKIP;
		if (rc == MT_DECODE_L4) {
			kind[i] = FR_PKT;
			mt_flowtab_prefetch(e->ft, &pk[i], &hint[i]);
		} else if (rc == MT_DECODE_OTHER && e->cfg.defrag && frag[i].ipver) {
			kind[i] = FR_FRAG;
		}
		if (timed)
			e->st.stage_ns[MT_STAGE_DECODE] += (stage_now() - t0) * MT_ENGINE_STAGE_SAMPLE;
	}
	for (i = 0; i < n; i++)
		if (kind[i] == FR_PKT)
			mt_flowtab_prefetch_flow(e->ft, &hint[i]);
	for (i = 0; i < n; i++) {
		if (frame_count(e, fr[i].ts_us, fr[i].wire_len)) {
			/* its decode was timed above: the clock starts at the flow stage */
			stage_mark(e, MT_STAGE_FLOW);
		}
		if (kind[i] == FR_PKT)
			frame_decoded(e, &pk[i], &hint[i]);
		else if (kind[i] == FR_FRAG && e->cfg.defrag && defrag_packet(e, &frag[i], &pk[i]))
			frame_decoded(e, &pk[i], NULL);
		stage_mark(e, -1);
	}
}

/* ---- life cycle ---- */

mt_engine *mt_engine_new(const mt_engine_cfg *cfg, const mt_detect_reg *reg)
{
	mt_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->reg = reg;
	e->stage = -1;
	e->spool.max = FLOW_SPARE;
	mt_jw_init(&e->jw);
	mt_jw_init(&e->ajw[0]);
	mt_jw_init(&e->ajw[1]);
	e->ft = mt_flowtab_new(&e->cfg.flow, NULL, on_flow_end, e);
	if (!e->ft) {
		mt_err("cannot allocate the flow table (%u flows)", cfg->flow.max_flows);
		goto err;
	}
	if (cfg->ndpi) {
		e->ndpi = mt_ndpi_new();
		if (!e->ndpi)
			mt_warn("continuing without nDPI");
		/*
		 * The engine reads nDPI's protocol, SNI, Host and User-Agent, all known
		 * at its first classification; its extra dissection (certificates,
		 * responses) refines the category, which nothing here reads. Stopping
		 * there cut nDPI's packets by 58% on the benchmark; on the corpus and
		 * the benchmark, records are the same except that app_proto appears
		 * in earlier records of HTTP flows (it was known, nDPI was not done).
		 */
		mt_ndpi_set_labels_only(e->ndpi, 1);
		mt_ndpi_set_max_packets(e->ndpi, cfg->ndpi_max_packets);
	}
	return e;
err:
	mt_engine_free(e);
	return NULL;
}

void mt_engine_set_sigs(mt_engine *e, const struct mt_sigs *sigs)
{
	e->sigs = sigs;
}

void mt_engine_set_enrich(mt_engine *e, const struct mt_enrich *en)
{
	if (en && !e->ecache) {
		e->ecache = mt_enrich_cache_new(MT_ENRICH_CACHE_SLOTS);
		if (!e->ecache) {
			e->st.alloc_fail++;
			en = NULL;
		}
	}
	mt_enrich_cache_clear(e->ecache);
	e->enrich = en;
	e->enrich_gen++;
}

int mt_engine_add_sink(mt_engine *e, mt_sink *s)
{
	if (e->nsinks >= MT_ENGINE_MAX_SINKS)
		return -ENOSPC;
	e->sinks[e->nsinks++] = s;
	return 0;
}

void mt_engine_flush(mt_engine *e)
{
	mt_flowtab_flush(e->ft);
}

void mt_engine_share_dns(mt_engine *e, mt_dnscache *c, pthread_mutex_t *mu)
{
	e->dns_shared = c;
	e->dns_mu = mu;
}

void *mt_engine_nodes_new(void)
{
	return calloc(NODE_SLOTS, sizeof(node_host));
}

void mt_engine_share_nodes(mt_engine *e, void *nodes, pthread_mutex_t *mu)
{
	e->nodes_shared = nodes;
	e->nodes_mu = mu;
}

void mt_engine_restart(mt_engine *e)
{
	mt_flowtab_flush(e->ft);
	if (!e->dns_shared) {
		mt_dnscache_free(e->dns); /* its times are the last input's */
		e->dns = NULL;
	}
	/* The next input's packet time starts afresh, and so does what was learnt about nodes. */
	e->now_us = 0;
	if (e->nodes)
		memset(e->nodes, 0, NODE_SLOTS * sizeof(*e->nodes));
}

const mt_engine_stats *mt_engine_stats_get(const mt_engine *e)
{
	return &e->st;
}

const mt_defrag_stats *mt_engine_defrag_stats(const mt_engine *e)
{
	return e->defrag ? mt_defrag_stats_get(e->defrag) : NULL;
}

const mt_decode_stats *mt_engine_decode_stats(const mt_engine *e)
{
	return &e->dst;
}

const mt_flow_stats *mt_engine_flow_stats(const mt_engine *e)
{
	return mt_flowtab_stats(e->ft);
}

const mt_stream_stats *mt_engine_stream_stats(const mt_engine *e)
{
	return &e->sst;
}

const mt_dnscache_stats *mt_engine_dns_stats(const mt_engine *e)
{
	static const mt_dnscache_stats none;
	return e->dns ? mt_dnscache_stats_get(e->dns) : &none;
}

void mt_engine_free(mt_engine *e)
{
	if (!e)
		return;
	if (e->ft) {
		/* Flows still open are released without records (mt_engine_flush gives them). */
		e->nsinks = 0;
		mt_flowtab_flush(e->ft);
		mt_flowtab_free(e->ft);
	}
	mt_ndpi_free(e->ndpi);
	mt_jw_free(&e->jw);
	mt_jw_free(&e->ajw[0]);
	mt_jw_free(&e->ajw[1]);
	mt_enrich_cache_free(e->ecache);
	free(e->nodes);
	for (int i = 0; i < MT_DETECT_MAX; i++) {
		while (e->spare[i]) {
			void *next;
			memcpy(&next, e->spare[i], sizeof(void *));
			free(e->spare[i]);
			e->spare[i] = next;
		}
	}
	spare_drain(&e->spare_fs, &e->nspare_fs);
	spare_drain(&e->spare_ds, &e->nspare_ds);
	mt_stream_pool_drain(&e->spool);
	mt_dnscache_free(e->dns);
	mt_defrag_free(e->defrag);
	free(e);
}
