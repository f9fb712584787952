/* fuzz_detector.c - fuzz target for any detector: one flow's segments through mt_stream_segment into on_packet, as the engine feeds them. */
/*
 * Built once per detector: -DMT_FUZZ_DETECTOR=mt_detect_stratum names a
 * built-in (a `const mt_detector`), or -DMT_FUZZ_PLUGIN_NAME="p2p" picks a
 * detector by name from the mt_plugin_detectors() of plugin sources linked
 * into the target. Optional -DMT_FUZZ_SIGS_DIR="path" loads that signature
 * folder once (detect/sigs.h) and lets inputs turn it on.
 *
 * Input (big-endian; a short input reads as zeros past its end):
 *   flow header, 13 bytes:
 *     flags  u8   bit0 UDP (when the detector wants UDP; a UDP-only detector always gets UDP)
 *                 bit1 IPv6 addresses      bit2 client known from the handshake
 *                 bit3 small stream limits bit4 nDPI labels follow
 *                 bit5 signatures on       bit6 long gaps (dt below counts 100 ms)
 *                 bit7 run the flow twice and compare (determinism)
 *     cli_port u16, srv_port u16, cli_isn u32, srv_isn u32
 *   labels (bit4 only): from u8 (segment index from which the labels are
 *     visible), then 4 x (len u8, bytes): ndpi_proto, sni, http_host, http_ua
 *   segments until the end, each a 6-byte header and its payload:
 *     ctl u8  bit0 direction (1 = server to client); bits1-3 FIN SYN RST;
 *             bit4 PSH; bit5 no ACK
 *     seq u16 signed offset from the sender's next sequence number (0: in order)
 *     len u16 payload bytes (fewer if the input ends)
 *     dt  u8  time since the previous segment: dt*dt milliseconds (with
 *             bit6: dt*dt*100 ms, up to 1.8 h, for timing detectors such as
 *             behaviour, which decide only after 10 minutes)
 * tests/fuzz/make-seeds writes the TCP and UDP flows of pcaps/ in this form (bit5 set).
 *
 * Checks beyond memory safety (every buffer the detector sees is an
 * exact-size heap copy, so a read one byte too far is caught): answers are
 * enum mt_answer; evidence strings stay NUL-terminated inside their fields;
 * confidence is in [0, 1]; MT_DETECTED comes with an event; the evidence
 * version never goes back; with bit7, two runs of one flow give identical
 * evidence and answers (no state outside the per-flow state).
 */
#include "fuzz.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>

#include "detect/detector.h"
#include "stream/stream.h"
#include "util/log.h"
#ifdef MT_FUZZ_SIGS_DIR
#include "detect/sigs.h"
#endif

#if defined(MT_FUZZ_PLUGIN_NAME)
const mt_detector *const *mt_plugin_detectors(void);
#elif defined(MT_FUZZ_DETECTOR)
extern const mt_detector MT_FUZZ_DETECTOR;
#else
#error "define MT_FUZZ_DETECTOR (a built-in's symbol) or MT_FUZZ_PLUGIN_NAME"
#endif

#define SEG_HDR_LEN 6
#define T0_US 1710406800000000ull /* 2024-03-14T09:00:00Z, as in pcaps/ */

static const mt_detector *g_det;
static void *g_global;
static const struct mt_sigs *g_sigs;

static void quiet_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats every message (so bad format arguments are caught) and drops it unless MT_FUZZ_LOG is set. */
static void quiet_log(int level, const char *fmt, ...)
{
	static int show = -1;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (show < 0)
		show = getenv("MT_FUZZ_LOG") != NULL;
	if (show)
		fprintf(stderr, "detector log %d: %s\n", level, msg);
}

static void setup(void)
{
	static mt_detector_env env;
	int rc;

	if (g_det)
		return;
	mt_log_set_level(getenv("MT_FUZZ_LOG") ? MT_LOG_DEBUG : -1);
#if defined(MT_FUZZ_PLUGIN_NAME)
	{
		const mt_detector *const *list = mt_plugin_detectors();
		for (; list && *list; list++)
			if (strcmp((*list)->name, MT_FUZZ_PLUGIN_NAME) == 0)
				g_det = *list;
	}
#else
	g_det = &MT_FUZZ_DETECTOR;
#endif
	if (!g_det) {
		fprintf(stderr, "fuzz_detector: no detector named in the build\n");
		abort();
	}
	MT_FUZZ_CHECK(g_det->api_version == MT_DETECTOR_API_VERSION);
	MT_FUZZ_CHECK(g_det->name && g_det->on_packet);
	MT_FUZZ_CHECK(g_det->wants & (MT_WANT_TCP | MT_WANT_UDP | MT_WANT_TCP_PACKETS));
	env.api_version = MT_DETECTOR_API_VERSION;
	env.log = quiet_log;
#ifdef MT_FUZZ_SIGS_DIR
	{
		char err[512];
		env.signatures_dir = MT_FUZZ_SIGS_DIR;
		g_sigs = mt_sigs_load(MT_FUZZ_SIGS_DIR, err, sizeof(err));
		if (!g_sigs) {
			fprintf(stderr, "fuzz_detector: %s\n", err);
			abort();
		}
	}
#endif
	if (g_det->init && (rc = g_det->init(&g_global, &env)) < 0) {
		fprintf(stderr, "fuzz_detector: %s: init failed (%d)\n", g_det->name, rc);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

/* What one run of a flow produced, to compare two runs. */
typedef struct outcome {
	mt_evidence ev;
	uint64_t answers; /* a hash of the answer sequence */
	uint32_t calls;
} outcome;

static void check_ev(const mt_evidence *ev, int ans, uint32_t prev_version)
{
	MT_FUZZ_CHECK(ans == MT_UNDECIDED || ans == MT_DETECTED || ans == MT_EXCLUDED);
	MT_FUZZ_CHECK(ev->event <= MT_EVENT_CRYPTO_P2P);
	if (ans == MT_DETECTED)
		MT_FUZZ_CHECK(ev->event != MT_EVENT_NONE);
	MT_FUZZ_CHECK(!isnan(ev->confidence) && ev->confidence >= 0.0 && ev->confidence <= 1.0);
	MT_FUZZ_CHECK(ev->version >= prev_version);
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->protocol, sizeof(ev->protocol)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->coin, sizeof(ev->coin)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->algo, sizeof(ev->algo)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->evidence, sizeof(ev->evidence)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->detector, sizeof(ev->detector)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->pool_host, sizeof(ev->pool_host)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->wallet, sizeof(ev->wallet)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->worker, sizeof(ev->worker)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->agent, sizeof(ev->agent)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->target, sizeof(ev->target)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->coinbase_tag, sizeof(ev->coinbase_tag)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(ev->hashrate_basis, sizeof(ev->hashrate_basis)));
}

/* A NUL-terminated exact-size copy of a length-prefixed label (NULL when empty, as the engine gives). */
static char *read_label(mt_fuzz_in *in)
{
	size_t n = mt_fuzz_u8(in), got;
	const uint8_t *p = mt_fuzz_bytes(in, n, &got);
	char *s;

	if (got == 0)
		return NULL;
	s = malloc(got + 1);
	if (!s)
		abort();
	memcpy(s, p, got);
	s[got] = '\0';
	return s;
}

typedef struct flow {
	mt_flow_view fv;
	mt_stream_dir sd[2];
	mt_stream_cfg cfg;
	mt_stream_stats sst;
	uint8_t cli[16], srv[16];
	char *label[4];
	uint32_t labels_from;
	void *state;
	mt_evidence ev;
	int have_ev;     /* the engine keeps evidence once written; before that a zeroed scratch */
	int owner;       /* answered MT_DETECTED once */
	int active;
	int touched;
	uint32_t payload_pkts;
	uint32_t nseg;
	outcome *out;
} flow;

/* One detector call, with the flow's stream bytes copied to exact-size buffers. */
static void call(flow *f, const mt_pkt_view *pv)
{
	uint8_t *copy[2] = {NULL, NULL};
	uint32_t prev;
	int d, ans;

	for (d = 0; d < 2; d++) {
		f->fv.len[d] = f->sd[d].len;
		f->fv.gap_off[d] = f->sd[d].gap_off;
		f->fv.midstream[d] = f->sd[d].midstream;
		f->fv.fin[d] = f->sd[d].fin;
		f->fv.capped[d] = f->sd[d].capped;
		if (f->sd[d].len) {
			copy[d] = mt_fuzz_dup(f->sd[d].buf, f->sd[d].len);
			f->fv.data[d] = copy[d];
		} else {
			f->fv.data[d] = f->sd[d].buf;
		}
	}
	if (f->nseg >= f->labels_from) {
		f->fv.ndpi_proto = f->label[0];
		f->fv.sni = f->label[1];
		f->fv.http_host = f->label[2];
		f->fv.http_ua = f->label[3];
	}
	if (!f->have_ev)
		memset(&f->ev, 0, sizeof(f->ev));
	prev = f->ev.version;
	f->touched = 1;
	ans = g_det->on_packet(g_global, f->state, &f->fv, pv, &f->ev);
	check_ev(&f->ev, ans, prev);
	f->out->calls++;
	f->out->answers = f->out->answers * 31 + (uint64_t)ans + 1;
	if (f->ev.version || ans == MT_DETECTED)
		f->have_ev = 1;
	if (ans == MT_DETECTED && !f->owner) {
		f->owner = 1;
		MT_EV_SET(&f->ev, detector, g_det->name, strlen(g_det->name));
	} else if (ans == MT_EXCLUDED) {
		f->active = 0;
		if (!f->owner)
			memset(&f->ev, 0, sizeof(f->ev));
	}
	if (g_det->max_packets && f->payload_pkts >= g_det->max_packets)
		f->active = 0;
	free(copy[0]);
	free(copy[1]);
}

static void run_flow(const uint8_t *data, size_t size, outcome *out)
{
	static const uint8_t cli4[4] = {192, 0, 2, 10}, srv4[4] = {203, 0, 113, 5};
	static const uint8_t cli6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10};
	static const uint8_t srv6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x05};
	mt_fuzz_in in;
	flow f;
	uint8_t flags;
	uint32_t next[2];
	uint64_t ts = T0_US;
	int udp, d, rst = 0;
	int64_t md = 0;

	memset(&f, 0, sizeof(f));
	memset(out, 0, sizeof(*out));
	f.out = out;
	mt_fuzz_in_init(&in, data, size);
	flags = mt_fuzz_u8(&in);
	udp = (g_det->wants & MT_WANT_UDP) && ((flags & 1) || !(g_det->wants & (MT_WANT_TCP | MT_WANT_TCP_PACKETS)));
	f.fv.ipver = (flags & 2) ? 6 : 4;
	f.fv.l4proto = udp ? 17 : 6;
	f.fv.dir_certain = (flags >> 2) & 1;
	f.fv.cli_port = mt_fuzz_u16(&in);
	f.fv.srv_port = mt_fuzz_u16(&in);
	next[0] = mt_fuzz_u32(&in);
	next[1] = mt_fuzz_u32(&in);
	if (flags & 2) {
		memcpy(f.cli, cli6, 16);
		memcpy(f.srv, srv6, 16);
	} else {
		memcpy(f.cli, cli4, 4);
		memcpy(f.srv, srv4, 4);
	}
	f.fv.cli_addr = f.cli;
	f.fv.srv_addr = f.srv;
	f.fv.first_us = ts;
	f.fv.sigs = (flags & 0x20) ? g_sigs : NULL;
	mt_stream_cfg_default(&f.cfg);
	if (flags & 8) {
		f.cfg.max_bytes = 256;
		f.cfg.window = 1024;
		f.cfg.max_segs = 2;
	}
	f.labels_from = UINT32_MAX;
	if (flags & 0x10) {
		f.labels_from = mt_fuzz_u8(&in);
		for (d = 0; d < 4; d++)
			f.label[d] = read_label(&in);
	}
	f.state = calloc(1, g_det->state_size ? g_det->state_size : 1);
	if (!f.state)
		abort();
	f.active = 1;

	while (f.active && !rst && !(f.sd[0].fin && f.sd[1].fin) && mt_fuzz_left(&in) >= SEG_HDR_LEN) {
		uint8_t ctl = mt_fuzz_u8(&in);
		int16_t off = (int16_t)mt_fuzz_u16(&in);
		size_t want = mt_fuzz_u16(&in), len;
		uint8_t dt = mt_fuzz_u8(&in);
		const uint8_t *p = mt_fuzz_bytes(&in, want, &len);
		uint8_t tflags = (uint8_t)(((ctl >> 1) & 7) | ((ctl & 0x10) ? 0x08 : 0) |
					   ((ctl & 0x20) ? 0 : 0x10));
		uint32_t seq;
		mt_pkt_view pv;
		uint8_t *payload;
		int n;

		d = ctl & 1;
		ts += (uint64_t)dt * dt * ((flags & 0x40) ? 100000u : 1000u);
		f.fv.pkts[d]++;
		f.fv.bytes[d] += len;
		f.nseg++;
		seq = next[d] + (uint32_t)(int32_t)off;
		if (!udp) {
			uint32_t end = seq + (uint32_t)len + ((tflags & 2) ? 1u : 0u) + ((tflags & 1) ? 1u : 0u);
			if ((int32_t)(end - next[d]) > 0)
				next[d] = end;
			if (len == 0 && !(tflags & 0x07))
				continue; /* a pure ACK tells the stream nothing */
			md = 0;
			n = mt_stream_segment(&f.sd[d], &f.cfg, &f.sst, seq, tflags, p,
					      (uint32_t)len, &md);
			MT_FUZZ_CHECK(n >= 0 || n == -ENOMEM);
			MT_FUZZ_CHECK(f.sd[d].len <= f.sd[d].alloc);
			MT_FUZZ_CHECK(f.sd[d].len <= f.cfg.max_bytes);
			if (len)
				f.payload_pkts++;
			if (tflags & 4)
				rst = 1;
			/* as the engine's flow_packet: stream detectors when the stream grew or
			 * closed, packet detectors (MT_WANT_TCP_PACKETS) for every payload */
			if (!((g_det->wants & MT_WANT_TCP) && (n > 0 || (tflags & 0x05))) &&
			    !((g_det->wants & MT_WANT_TCP_PACKETS) && len))
				continue;
		} else {
			if (len == 0)
				continue;
			f.payload_pkts++;
		}
		payload = mt_fuzz_dup(p, len);
		memset(&pv, 0, sizeof(pv));
		pv.dir = d;
		pv.ts_us = ts;
		pv.payload = payload;
		pv.payload_len = (uint32_t)len;
		pv.tcp_flags = udp ? 0 : tflags;
		call(&f, &pv);
		free(payload);
	}
	/* The flow's end: holes given up, then the final call (engine's flow_finish). */
	if (f.active && f.payload_pkts) {
		mt_pkt_view pv;

		if (!udp) {
			md = 0;
			mt_stream_drain(&f.sd[0], &f.cfg, &f.sst, &md);
			mt_stream_drain(&f.sd[1], &f.cfg, &f.sst, &md);
		}
		memset(&pv, 0, sizeof(pv));
		pv.ts_us = ts;
		pv.flow_end = 1;
		call(&f, &pv);
	}
	if (getenv("MT_FUZZ_SHOW"))
		fprintf(stderr, "%s: %u calls, event %u protocol '%s' confidence %.2f worker '%s' shares %llu: %s\n",
			g_det->name, out->calls, f.ev.event, f.ev.protocol, f.ev.confidence, f.ev.worker,
			(unsigned long long)f.ev.shares, f.ev.evidence);
	if (f.touched && g_det->flow_free)
		g_det->flow_free(g_global, f.state);
	memcpy(&out->ev, &f.ev, sizeof(out->ev));
	free(f.state);
	mt_stream_dir_free(&f.sd[0], &md);
	mt_stream_dir_free(&f.sd[1], &md);
	for (d = 0; d < 4; d++)
		free(f.label[d]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	outcome a, b;

	setup();
	if (size > 1u << 20)
		return 0;
	run_flow(data, size, &a);
	if (size && (data[0] & 0x80)) {
		run_flow(data, size, &b);
		MT_FUZZ_CHECK(a.calls == b.calls && a.answers == b.answers);
		MT_FUZZ_CHECK(memcmp(&a.ev, &b.ev, sizeof(a.ev)) == 0);
	}
	return 0;
}
