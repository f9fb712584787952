/* mt_detect_harness.h - a tiny engine for detector tests: two direction buffers, on_packet after each append. */
#ifndef MT_DETECT_HARNESS_H
#define MT_DETECT_HARNESS_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector.h"

#define C2S 0
#define S2C 1

typedef struct harness {
	const mt_detector *det;
	/* Checks a test file makes on every DETECTED answer (protocol name, ranges); may be NULL. */
	void (*on_detect)(const mt_evidence *ev);
	/* Set by tests of detectors that write evidence only in calls that answer DETECTED. */
	int ev_only_when_detected;
	uint8_t *buf[2];
	uint32_t len[2];
	mt_flow_view fv;
	void *state;
	mt_evidence ev;
	int ans;
	int calls;
	int prefiltered; /* the detector's prefilter excluded the flow at the first call */
} harness;

/* The flow's two ends; addresses are 16 bytes with IPv4 in the first 4. */
typedef struct h_ends {
	const uint8_t *cli_addr, *srv_addr;
	uint16_t cli_port, srv_port;
} h_ends;

static inline void h_setup(harness *h, const mt_detector *det, const h_ends *e, int midstream,
			   int dir_certain)
{
	memset(h, 0, sizeof *h);
	h->det = det;
	h->state = calloc(1, det->state_size ? det->state_size : 1);
	ck_assert_ptr_nonnull(h->state);
	h->fv.ipver = 4;
	h->fv.l4proto = 6;
	h->fv.dir_certain = (uint8_t)dir_certain;
	h->fv.midstream[0] = h->fv.midstream[1] = (uint8_t)midstream;
	h->fv.cli_addr = e->cli_addr;
	h->fv.srv_addr = e->srv_addr;
	h->fv.cli_port = e->cli_port;
	h->fv.srv_port = e->srv_port;
	h->ans = MT_UNDECIDED;
}

static inline void h_free(harness *h)
{
	free(h->buf[0]);
	free(h->buf[1]);
	free(h->state);
	memset(h, 0, sizeof *h);
}

/* One on_packet call as the engine makes it. */
static inline int h_call(harness *h, int dir, const void *payload, size_t n, int flow_end)
{
	mt_pkt_view pv;
	uint32_t v0 = h->ev.version;
	int pf;

	if (h->ans == MT_EXCLUDED)
		return h->ans; /* the engine never asks again */
	memset(&pv, 0, sizeof pv);
	pv.dir = dir;
	pv.payload = payload;
	pv.payload_len = (uint32_t)n;
	pv.flow_end = (uint8_t)flow_end;
	h->fv.data[0] = h->buf[0];
	h->fv.data[1] = h->buf[1];
	h->fv.len[0] = h->len[0];
	h->fv.len[1] = h->len[1];
	if (!flow_end) {
		h->fv.pkts[dir]++;
		h->fv.bytes[dir] += n;
	}
	/* The engine asks a prefilter before the first call: it may exclude only what on_packet excludes. */
	pf = h->calls == 0 && h->det->prefilter ? h->det->prefilter(NULL, &h->fv, &pv) : MT_UNDECIDED;
	h->ans = h->det->on_packet(NULL, h->state, &h->fv, &pv, &h->ev);
	ck_assert(h->ans == MT_UNDECIDED || h->ans == MT_DETECTED || h->ans == MT_EXCLUDED);
	if (pf == MT_EXCLUDED) {
		ck_assert_int_eq(h->ans, MT_EXCLUDED);
		h->prefiltered = 1;
	}
	if (h->ans == MT_DETECTED) {
		ck_assert_int_eq(h->ev.event, MT_EVENT_MINING);
		ck_assert(h->ev.confidence >= 0.0 && h->ev.confidence <= 1.0);
		if (h->on_detect)
			h->on_detect(&h->ev);
	} else if (h->ev_only_when_detected) {
		ck_assert_uint_eq(h->ev.version, v0);
	}
	h->calls++;
	return h->ans;
}

/* Appends into an exact-size buffer (a fresh allocation each time), so ASan sees reads past len. */
static inline int h_feed(harness *h, int dir, const void *p, size_t n)
{
	uint8_t *nb;

	if (n == 0)
		return h->ans;
	nb = malloc(h->len[dir] + n);
	ck_assert_ptr_nonnull(nb);
	if (h->len[dir])
		memcpy(nb, h->buf[dir], h->len[dir]);
	memcpy(nb + h->len[dir], p, n);
	free(h->buf[dir]);
	h->buf[dir] = nb;
	h->len[dir] += (uint32_t)n;
	return h_call(h, dir, nb + h->len[dir] - n, n, 0);
}

static inline int h_feed_str(harness *h, int dir, const char *s)
{
	return h_feed(h, dir, s, strlen(s));
}

static inline int h_end(harness *h)
{
	return h_call(h, 0, NULL, 0, 1);
}

/* A scripted session: one message per line, each from one side. */
struct msgline {
	int dir;
	const char *text;
};

/* Feeds the first n messages of a session whole; the detector's last answer. */
static inline int h_run(harness *h, const struct msgline *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h_feed_str(h, s[i].dir, s[i].text);
	return h->ans;
}

#endif
