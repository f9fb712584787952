/* behaviour.c - last-resort detector: mining-like timing (small steady upstream shares, bursty job pushes, low volume for long) on TLS or unknown TCP flows. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"

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

typedef struct beh_state {
	uint64_t first_us, last_up_us, last_down_us;
	uint64_t down_bytes, up_bytes;
	uint32_t n_up, n_up_other, n_down, pushes;
	uint32_t up_min, up_max;
	double mean, m2; /* Welford over upstream inter-arrival seconds */
	uint32_t n_iat;
	uint32_t reported_up; /* n_up when the evidence was last written */
} beh_state;

static int known_other(const mt_flow_view *fv)
{
	const char *p = fv->ndpi_proto;
	if (!p || !p[0])
		return 0;
	return strcmp(p, "TLS") != 0 && strcmp(p, "Unknown") != 0 && strcmp(p, "Mining") != 0;
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

const mt_detector mt_detect_behaviour = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "behaviour",
	.description = "Mining-like timing on long TLS/unknown flows: steady small upstream messages, bursty pushes, low volume",
	.wants = MT_WANT_TCP_PACKETS,
	.max_packets = 0,
	.state_size = sizeof(beh_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = beh_on_packet,
	.flow_free = NULL,
};
