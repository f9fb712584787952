/* behaviour.c - last-resort detector: mining-like timing (small steady upstream shares, bursty job pushes, low volume for long) on TLS or unknown TCP flows. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "detect/tlsparse.h"

#define BEH_MIN_DURATION_US (600ull * 1000000ull) /* decide only after 10 min */
#define BEH_MIN_UP 20u            /* ... and this many share-like upstream messages */
#define BEH_MIN_PUSHES 10u        /* server bursts (jobs) */
#define BEH_UP_MIN_B 40u          /* share-sized upstream messages (TLS record incl.) */
#define BEH_UP_MAX_B 600u
#define BEH_MAX_SPREAD_B 200u     /* shares of one miner differ little in size */
#define BEH_BURST_GAP_US 2000000ull /* a push starts after 2 s of downstream silence */
#define BEH_BULK_DOWN_B (4u * 1024u * 1024u) /* bulk transfer: give up */
#define BEH_MAX_RATE_BPS 2000.0   /* mining control traffic is a trickle */
#define BEH_MIN_MEAN_S 2.0        /* mean share interval range */
#define BEH_MAX_MEAN_S 300.0
#define BEH_MIN_CV 0.15           /* keep-alive timers are too regular */
#define BEH_MAX_CV 1.6            /* chat is burstier than a Poisson share stream */
#define BEH_MAX_OTHER_UP_FRAC 0.2 /* upstream packets that are not share-sized */
#define BEH_LINE_MAX 2048u        /* request line looked at in a stream that began mid-connection */

typedef struct beh_state {
	uint64_t first_us, last_up_us, last_down_us;
	uint64_t down_bytes, up_bytes;
	uint32_t n_up, n_up_other, n_down, pushes;
	uint32_t up_min, up_max;
	double mean, m2; /* Welford over upstream inter-arrival seconds */
	uint32_t n_iat;
	uint32_t reported_up; /* n_up when the evidence was last written */
	uint8_t looked;       /* bit d: direction d's first bytes were judged (first_bytes_other);
			       * bit 2: the client's open with a TLS record (tls_record) */
	uint8_t sni_done;     /* the ClientHello was read (or cannot be) */
	char *sni;            /* its server name, when nDPI is not asked for it (malloc'ed) */
} beh_state;

static int known_other(const mt_flow_view *fv)
{
	const char *p = fv->ndpi_proto;
	if (!p || !p[0])
		return 0;
	return strcmp(p, "TLS") != 0 && strcmp(p, "Unknown") != 0 && strcmp(p, "Mining") != 0;
}

/*
 * The first bytes of a direction: its stream up to a hole while the engine
 * keeps it (it drops the streams once no stream detector is asked), else the
 * direction's first payload packet while it is the only one. *have = 0 with
 * 1 returned: none yet; 0 returned: the start is gone, it cannot be judged.
 */
static int dir_start(const mt_flow_view *fv, const mt_pkt_view *pv, int dir, const uint8_t **d,
		     uint32_t *have)
{
	*d = fv->data[dir];
	*have = *d ? fv->len[dir] : 0;
	if (*d) {
		if (fv->gap_off[dir] != 0 && fv->gap_off[dir] < *have)
			*have = fv->gap_off[dir];
		return 1;
	}
	if (fv->bytes[dir] == 0)
		return 1;
	if (pv->dir == dir && pv->payload && !pv->flow_end && fv->bytes[dir] == pv->payload_len) {
		*d = pv->payload;
		*have = pv->payload_len;
		return 1;
	}
	return 0;
}

/* Does the stream start with the n bytes of s? 1 yes, 0 no, -1 not yet known (a prefix so far). */
static int starts_with(const uint8_t *d, uint32_t have, const char *s, uint32_t n)
{
	if (have < n)
		return memcmp(d, s, have) == 0 ? -1 : 0;
	return memcmp(d, s, n) == 0;
}

/*
 * The client's first bytes: an HTTP request line (RFC 9110 section 9
 * methods; RFC 9112 section 3: method, one space, target, one space,
 * HTTP-version), which is http-mining's to judge; an SSH identification
 * string (RFC 4253 section 4.2); the BitTorrent handshake (BEP 3: 19, then
 * "BitTorrent protocol"). A stream that began mid-connection may begin
 * anywhere: there a method counts only with " HTTP/1." on its line, and SSH
 * not at all. 1: one of them, 0: none, -1: not known yet.
 */
static int client_other(const mt_flow_view *fv, const mt_pkt_view *pv)
{
	static const struct {
		const char *s;
		uint32_t n;
	} pat[] = {
		{"GET ", 4}, {"POST ", 5}, {"HEAD ", 5}, {"PUT ", 4}, {"DELETE ", 7},
		{"OPTIONS ", 8}, {"CONNECT ", 8}, {"PATCH ", 6}, {"TRACE ", 6},
		{"\023BitTorrent protocol", 20}, {"SSH-", 4},
	};
	const size_t n_http = 9, n_pat = sizeof(pat) / sizeof(pat[0]);
	const uint8_t *d;
	uint32_t have;
	int ms = fv->midstream[0], wait = 0;
	size_t i;

	if (!dir_start(fv, pv, 0, &d, &have))
		return 0;
	if (have == 0)
		return -1;
	if (d[0] == 22)
		return 0; /* TLS (tls_record) */
	for (i = 0; i < n_pat; i++) {
		int r;

		if (ms && i == n_pat - 1)
			break;
		r = starts_with(d, have, pat[i].s, pat[i].n);
		if (r < 0)
			wait = 1;
		if (r <= 0)
			continue;
		if (!ms || i >= n_http)
			return 1;
		{
			uint32_t lim = have < BEH_LINE_MAX ? have : BEH_LINE_MAX;
			const uint8_t *eol = memchr(d, '\n', lim);

			if (!eol)
				return lim >= BEH_LINE_MAX ? 0 : -1;
			return memmem(d, (size_t)(eol - d), " HTTP/1.", 8) != NULL;
		}
	}
	return wait ? -1 : 0;
}

/* The server's first bytes: an SSH identification string, or an HTTP status line ("HTTP/1.1 200"). */
static int server_other(const mt_flow_view *fv, const mt_pkt_view *pv)
{
	const uint8_t *d;
	uint32_t have;
	int r;

	if (!dir_start(fv, pv, 1, &d, &have))
		return 0;
	if (have == 0)
		return -1;
	if (!fv->midstream[1] && (r = starts_with(d, have, "SSH-", 4)) != 0)
		return r;
	r = starts_with(d, have, "HTTP/1.", 7);
	if (r <= 0)
		return r;
	if (have < 13)
		return -1;
	return (d[7] == '0' || d[7] == '1') && d[8] == ' ' && d[9] >= '1' && d[9] <= '5' &&
	       d[10] >= '0' && d[10] <= '9' && d[11] >= '0' && d[11] <= '9' && d[12] == ' ';
}

/*
 * A TLS handshake record header (RFC 8446 section 5.1: content type 22,
 * legacy version 3.x, a length of at most 2^14 + 2048) at the start of the
 * client's bytes, on a connection seen from its start.
 */
static int tls_record(const mt_flow_view *fv, const mt_pkt_view *pv)
{
	const uint8_t *d;
	uint32_t have, rl;

	if (fv->midstream[0] || !dir_start(fv, pv, 0, &d, &have) || have < 5)
		return 0;
	rl = (uint32_t)d[3] << 8 | d[4];
	return d[0] == 22 && d[1] == 3 && d[2] <= 4 && rl >= 1 && rl <= 16384u + 2048u;
}

/*
 * Protocols behaviour leaves alone that the first stream bytes name without
 * nDPI (whose label for them is not TLS, Unknown or Mining). Sets bit d of
 * *looked once direction d is judged for good. Returns 1 for one of them.
 */
static int first_bytes_other(const mt_flow_view *fv, const mt_pkt_view *pv, uint8_t *looked)
{
	int r;

	if (!(*looked & 1)) {
		r = client_other(fv, pv);
		if (r > 0)
			return 1;
		if (r == 0)
			*looked |= (uint8_t)(1 | (tls_record(fv, pv) ? 4 : 0));
	}
	if (!(*looked & 2)) {
		r = server_other(fv, pv);
		if (r > 0)
			return 1;
		if (r == 0)
			*looked |= 2;
	}
	return 0;
}

/*
 * The ClientHello's server name of a TLS flow, for pool_host: nDPI, which
 * read it before, is not asked about TLS flows (beh_wants_labels). Read once
 * the hello is whole (or cannot be); one allocation per TLS flow with a name.
 */
static void read_sni(beh_state *st, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	static _Thread_local uint8_t hs[MT_TLS_HS_MAX];
	mt_tls_client_hello ch;
	const uint8_t *d;
	uint32_t have;
	int complete = 0, n, r;
	size_t l;

	if (!dir_start(fv, pv, 0, &d, &have)) {
		st->sni_done = 1; /* the start is gone */
		return;
	}
	if (have == 0)
		return;
	n = mt_tls_flatten(d, have, hs, sizeof hs, &complete);
	r = n < 0 ? -1 : mt_tls_client_hello_parse(hs, (size_t)n, &ch);
	if (r == 0 && !complete && !fv->fin[0] && !pv->flow_end)
		return; /* the hello is still arriving */
	st->sni_done = 1;
	if (r <= 0 || !ch.sni[0])
		return;
	l = strnlen(ch.sni, sizeof ch.sni - 1);
	st->sni = malloc(l + 1);
	if (st->sni) {
		memcpy(st->sni, ch.sni, l);
		st->sni[l] = '\0';
	}
}

static int beh_on_packet(void *global, void *state, const mt_flow_view *fv,
			 const mt_pkt_view *pv, mt_evidence *ev)
{
	beh_state *st = state;
	double sd, cv, dur_s, rate;
	char txt[MT_EV_TEXT_LEN];
	(void)global;
	if (fv->l4proto != 6 || known_other(fv))
		return MT_EXCLUDED;
	/* The first bytes, until each direction's start was judged (the prefilter's rule too). */
	if ((st->looked & 3) != 3 && first_bytes_other(fv, pv, &st->looked))
		return MT_EXCLUDED;
	if ((st->looked & 4) && !st->sni_done)
		read_sni(st, fv, pv);
	if (!pv->flow_end && pv->payload_len) {
		if (!st->first_us)
			st->first_us = pv->ts_us ? pv->ts_us : 1;
		if (pv->dir == 0) {
			st->up_bytes += pv->payload_len;
			if (pv->payload_len >= BEH_UP_MIN_B && pv->payload_len <= BEH_UP_MAX_B) {
				if (st->n_up == 0 || pv->payload_len < st->up_min)
					st->up_min = pv->payload_len;
				if (pv->payload_len > st->up_max)
					st->up_max = pv->payload_len;
				if (st->n_up && pv->ts_us > st->last_up_us) {
					double x = (double)(pv->ts_us - st->last_up_us) / 1e6, d;
					st->n_iat++;
					d = x - st->mean;
					st->mean += d / st->n_iat;
					st->m2 += d * (x - st->mean);
				}
				st->n_up++;
				st->last_up_us = pv->ts_us;
			} else {
				st->n_up_other++;
			}
		} else {
			st->down_bytes += pv->payload_len;
			if (st->down_bytes > BEH_BULK_DOWN_B)
				return MT_EXCLUDED;
			if (st->n_down == 0 || pv->ts_us > st->last_down_us + BEH_BURST_GAP_US)
				st->pushes++;
			st->n_down++;
			st->last_down_us = pv->ts_us;
		}
	}
	if (st->n_up < BEH_MIN_UP || st->pushes < BEH_MIN_PUSHES || st->n_iat < 2)
		return pv->flow_end ? MT_EXCLUDED : MT_UNDECIDED;
	if (st->last_up_us < st->first_us + BEH_MIN_DURATION_US)
		return pv->flow_end ? MT_EXCLUDED : MT_UNDECIDED;
	dur_s = (double)(st->last_up_us - st->first_us) / 1e6;
	rate = (double)(st->up_bytes + st->down_bytes) / dur_s;
	sd = sqrt(st->m2 / (st->n_iat - 1));
	cv = st->mean > 0 ? sd / st->mean : 0;
	if (rate > BEH_MAX_RATE_BPS || st->up_max - st->up_min > BEH_MAX_SPREAD_B ||
	    st->mean < BEH_MIN_MEAN_S || st->mean > BEH_MAX_MEAN_S || cv < BEH_MIN_CV || cv > BEH_MAX_CV ||
	    (double)st->n_up_other > BEH_MAX_OTHER_UP_FRAC * st->n_up)
		return pv->flow_end ? MT_EXCLUDED : MT_UNDECIDED;
	/* Rewrite the evidence only when it has doubled: each change is a new record. */
	if (st->reported_up && st->n_up < 2 * st->reported_up && ev->event == MT_EVENT_MINING)
		return MT_DETECTED;
	st->reported_up = st->n_up;
	ev->event = MT_EVENT_MINING;
	MT_EV_SET(ev, protocol, "behaviour", 9);
	snprintf(txt, sizeof txt, "behaviour: %u upstream msgs of %u-%u B every %.0f\xc2\xb1%.0f s over %.0f min, %u pushes, %.0f B/s",
		 st->n_up, st->up_min, st->up_max, st->mean, sd, dur_s / 60, st->pushes, rate);
	MT_EV_SET(ev, evidence, txt, strlen(txt));
	if (fv->sni && fv->sni[0])
		MT_EV_SET(ev, pool_host, fv->sni, strlen(fv->sni));
	else if (st->sni)
		MT_EV_SET(ev, pool_host, st->sni, strlen(st->sni));
	{
		/* Graded: 0.5 at the threshold, up to 0.7 as the pattern holds for an hour and 200 shares. */
		double conf = 0.5 + 0.1 * (dur_s >= 3600 ? 1.0 : dur_s / 3600) +
			      0.1 * (st->n_up >= 200 ? 1.0 : st->n_up / 200.0);
		conf = floor(conf * 100 + 0.5) / 100;
		if (ev->confidence != conf) {
			ev->confidence = conf;
			ev->version++;
		}
	}
	if (ev->shares != st->n_up || ev->jobs != st->pushes) {
		ev->shares = st->n_up;
		ev->jobs = st->pushes;
		ev->version++;
	}
	return MT_DETECTED;
}

/*
 * API 3: on_packet's first rules before any state is made: not TCP, or first
 * bytes that name another protocol. Flows it lets go here never reach nDPI
 * unless another detector reads its labels.
 */
static int beh_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	uint8_t looked = 0;

	(void)global;
	if (fv->l4proto != 6 || known_other(fv) || first_bytes_other(fv, pv, &looked))
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

/*
 * API 5: nDPI's labels are wanted only where they can exclude a flow. A
 * client that opened with a TLS record speaks TLS, which behaviour watches
 * whatever application nDPI would name it by (its SNI or addresses).
 */
static int beh_wants_labels(void *global, void *state, const mt_flow_view *fv)
{
	const beh_state *st = state;

	(void)global, (void)fv;
	return !(st->looked & 4);
}

static void beh_flow_free(void *global, void *state)
{
	beh_state *st = state;

	(void)global;
	free(st->sni);
	st->sni = NULL;
}

const mt_detector mt_detect_behaviour = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "behaviour",
	.description = "Mining-like timing on long TLS/unknown flows: steady small upstream messages, bursty pushes, low volume",
	.wants = MT_WANT_TCP_PACKETS | MT_WANT_LABELS,
	.max_packets = 0,
	.state_size = sizeof(beh_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = beh_on_packet,
	.flow_free = beh_flow_free,
	.prefilter = beh_prefilter,
	.wants_labels = beh_wants_labels,
};
