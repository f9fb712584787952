/* sv2.c - Stratum V2 detector: plaintext binary frames (SetupConnection .. shares) and the Noise NX handshake shape of the encrypted form. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"

/*
 * Wire format (stratum-mining/sv2-spec, 03-Protocol-Overview "Framing"):
 * extension_type U16 LE (bit 15 = channel_msg), msg_type U8, msg_length U24 LE,
 * then msg_length payload bytes. Message numbers from 08-Message-Types.
 */
#define SV2_HDR 6u
#define SV2_MAX_FRAME 65536u       /* longer plaintext mining frames do not occur */
#define SV2_MAX_PACKETS 200u
#define SV2_NOISE_PORT 34254u      /* the spec's example / default port */
#define SV2_NOISE_SHARE_RUN 3u     /* equal-size upstream frames that raise confidence */

enum {
	SV2_SETUP = 0x00, SV2_SETUP_OK = 0x01, SV2_SETUP_ERR = 0x02,
	SV2_OPEN_STD = 0x10, SV2_OPEN_STD_OK = 0x11, SV2_OPEN_ERR = 0x12,
	SV2_OPEN_EXT = 0x13, SV2_OPEN_EXT_OK = 0x14, SV2_NEW_JOB = 0x15,
	SV2_SUBMIT_STD = 0x1a, SV2_SUBMIT_EXT = 0x1b, SV2_SUBMIT_OK = 0x1c,
	SV2_SUBMIT_ERR = 0x1d, SV2_NEW_EXT_JOB = 0x1f, SV2_PREVHASH = 0x20,
	SV2_SET_TARGET = 0x21
};

typedef struct sv2_state {
	uint32_t off[2];       /* next frame start in each direction */
	uint8_t bad[2];        /* direction is not SV2 framing */
	uint8_t setup;         /* valid mining SetupConnection seen */
	uint8_t setup_ok;      /* SetupConnection.Success seen */
	uint8_t channel;       /* channel opened / open request */
	uint8_t noise;         /* 1: handshake sizes matched */
	uint8_t noise_dead;
	uint8_t hs;           /* client handshake size: 64 or 32 */
	uint32_t n_c2s, n_s2c; /* payload packets seen (noise) */
	uint32_t last_sz, run; /* run of equal-size upstream packets after the handshake */
	uint64_t shares, acc, rej, jobs;
	char vendor[64], fw[64], host[128], user[96];
	float hashrate;
	uint64_t now_us;       /* packet time of this call */
	uint64_t work_us, first_us, last_us; /* first job, first and latest share (share rate) */
	uint64_t up_frames;    /* noise: upstream payload packets after the handshake (share-like) */
} sv2_state;

static uint32_t u24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }

/* STR0_255: one length byte then that many bytes; copies to out (NUL-terminated). */
static int str0(const uint8_t *p, uint32_t n, uint32_t *o, char *out, size_t cap)
{
	uint32_t l;
	if (n - *o < 1)
		return -1;
	l = p[*o];
	if (n - *o - 1 < l)
		return -1;
	if (out && cap) {
		size_t c = l < cap - 1 ? l : cap - 1;
		memcpy(out, p + *o + 1, c);
		out[c] = '\0';
	}
	*o += 1 + l;
	return 0;
}

static int parse_setup(sv2_state *st, const uint8_t *p, uint32_t n)
{
	uint32_t o = 0;
	uint16_t minv, maxv;
	if (n < 1 + 2 + 2 + 4)
		return -1;
	if (p[0] != 0) /* protocol 0 = Mining Protocol */
		return -1;
	minv = (uint16_t)(p[1] | p[2] << 8);
	maxv = (uint16_t)(p[3] | p[4] << 8);
	if (minv > 2 || maxv < 2 || minv > maxv || maxv > 16)
		return -1;
	o = 9;
	if (str0(p, n, &o, st->host, sizeof st->host) < 0 || n - o < 2)
		return -1;
	o += 2;
	if (str0(p, n, &o, st->vendor, sizeof st->vendor) < 0 || str0(p, n, &o, NULL, 0) < 0 ||
	    str0(p, n, &o, st->fw, sizeof st->fw) < 0 || str0(p, n, &o, NULL, 0) < 0)
		return -1;
	return o == n ? 0 : -1;
}

static int parse_open(sv2_state *st, const uint8_t *p, uint32_t n, int ext)
{
	uint32_t o = 4, bits;
	if (n < 4)
		return -1;
	if (str0(p, n, &o, st->user, sizeof st->user) < 0 || n - o < 4 + 32 + (ext ? 2u : 0u))
		return -1;
	bits = (uint32_t)p[o] | (uint32_t)p[o + 1] << 8 | (uint32_t)p[o + 2] << 16 | (uint32_t)p[o + 3] << 24;
	memcpy(&st->hashrate, &bits, sizeof st->hashrate);
	o += 4 + 32 + (ext ? 2u : 0u);
	return o == n ? 0 : -1;
}

/* Returns -1 if the frame breaks the grammar. */
static int on_frame(sv2_state *st, int dir, uint16_t ext, uint8_t type, const uint8_t *p, uint32_t n)
{
	if ((ext & 0x7fffu) != 0)
		return st->setup_ok ? 0 : -1; /* extensions only after a mining setup */
	if (!st->setup) {
		if (dir != 0 || type != SV2_SETUP || parse_setup(st, p, n) < 0)
			return -1;
		st->setup = 1;
		return 0;
	}
	switch (type) {
	case SV2_SETUP_OK:
		if (dir != 1 || n != 6)
			return -1;
		st->setup_ok = 1;
		break;
	case SV2_SETUP_ERR:
		return -1;
	case SV2_OPEN_STD: case SV2_OPEN_EXT:
		if (dir != 0 || parse_open(st, p, n, type == SV2_OPEN_EXT) < 0)
			return -1;
		st->channel = 1;
		break;
	case SV2_SUBMIT_STD: case SV2_SUBMIT_EXT:
		if (dir == 0) {
			st->shares++;
			if (!st->first_us)
				st->first_us = st->now_us;
			st->last_us = st->now_us;
		}
		break;
	case SV2_SUBMIT_OK: if (dir == 1) st->acc++; break;
	case SV2_SUBMIT_ERR: if (dir == 1) st->rej++; break;
	case SV2_NEW_JOB: case SV2_NEW_EXT_JOB:
		if (dir == 1) {
			st->jobs++;
			if (!st->work_us)
				st->work_us = st->now_us;
		}
		break;
	default:
		break;
	}
	return 0;
}

static void scan(sv2_state *st, const mt_flow_view *fv, int dir)
{
	const uint8_t *d = fv->data[dir];
	uint32_t len = fv->len[dir];
	if (st->bad[dir] || !d)
		return;
	if (fv->gap_off[dir]) {
		if (st->off[dir] >= fv->gap_off[dir]) {
			st->bad[dir] = 1; /* framing lost at a hole */
			return;
		}
		if (len > fv->gap_off[dir])
			len = fv->gap_off[dir];
	}
	while (len >= st->off[dir] && len - st->off[dir] >= SV2_HDR) {
		const uint8_t *h = d + st->off[dir];
		uint32_t ml = u24(h + 3);
		uint16_t ext = (uint16_t)(h[0] | h[1] << 8);
		if (ml > SV2_MAX_FRAME) {
			st->bad[dir] = 1;
			return;
		}
		if (len - st->off[dir] - SV2_HDR < ml)
			return; /* wait for the rest */
		if (on_frame(st, dir, ext, h[2], h + SV2_HDR, ml) < 0) {
			st->bad[dir] = 1;
			return;
		}
		st->off[dir] += SV2_HDR + ml;
	}
}

static void fill_plain(const sv2_state *st, mt_evidence *ev)
{
	char txt[MT_EV_TEXT_LEN], agent[MT_EV_AGENT_LEN];
	ev->event = MT_EVENT_MINING;
	MT_EV_SET(ev, protocol, "stratum-v2", 10);
	MT_EV_SET(ev, algo, "sha256d", 7); /* Stratum V2 is Bitcoin's (sv2-spec 05-Mining-Protocol) */
	snprintf(txt, sizeof txt, "SetupConnection(mining)%s%s", st->setup_ok ? " + Success" : "",
		 st->channel ? " + OpenMiningChannel" : "");
	MT_EV_SET(ev, evidence, txt, strlen(txt));
	if (st->vendor[0] || st->fw[0]) {
		snprintf(agent, sizeof agent, "%s%s%s", st->vendor, st->fw[0] ? "/" : "", st->fw);
		MT_EV_SET(ev, agent, agent, strlen(agent));
	}
	if (st->host[0])
		MT_EV_SET(ev, pool_host, st->host, strlen(st->host));
	if (st->user[0]) {
		const char *dot = strchr(st->user, '.');
		size_t wl = dot ? (size_t)(dot - st->user) : strlen(st->user);
		MT_EV_SET(ev, wallet, st->user, wl);
		if (dot)
			MT_EV_SET(ev, worker, dot + 1, strlen(dot + 1));
	}
	if (st->hashrate > 0 && st->hashrate < 1e30f && (double)st->hashrate != ev->reported_hashrate_hs) {
		ev->reported_hashrate_hs = st->hashrate;
		ev->version++;
	}
	if (ev->confidence != 0.95) { ev->confidence = 0.95; ev->version++; }
	if (ev->shares != st->shares || ev->jobs != st->jobs || ev->shares_accepted != st->acc ||
	    ev->shares_rejected != st->rej) {
		ev->shares = st->shares; ev->jobs = st->jobs;
		ev->shares_accepted = st->acc; ev->shares_rejected = st->rej;
		ev->work_start_us = st->work_us;
		ev->first_share_us = st->first_us;
		ev->last_share_us = st->last_us;
		ev->version++;
	}
}

/* Encrypted form: Noise NX (sv2-spec 04-Protocol-Security): -> e (64 B ElligatorSwift, 32 B
 * in older drafts); <- e, ee, s, es + signature noise message (234 B; 170 B older). Then
 * every frame is an encrypted 22-byte header (6 + 16 MAC) and payload + 16 MAC. */
static int noise(sv2_state *st, const mt_flow_view *fv, const mt_pkt_view *pv, mt_evidence *ev)
{
	double conf;
	char txt[MT_EV_TEXT_LEN];
	if (!st->noise) {
		if (pv->flow_end || fv->midstream[0] || fv->midstream[1])
			return MT_EXCLUDED;
		if (!pv->payload_len)
			return MT_UNDECIDED;
		if (st->n_s2c == 0) {
			if (pv->dir == 0)
				return (fv->len[0] == 64 || fv->len[0] == 32 || fv->len[0] < 32) ? MT_UNDECIDED : MT_EXCLUDED;
			if (fv->len[0] != 64 && fv->len[0] != 32)
				return MT_EXCLUDED;
			st->hs = (uint8_t)fv->len[0];
			st->n_s2c = 1;
		}
		if (fv->len[0] == st->hs) { /* reply still arriving? */
			uint32_t want = st->hs == 64 ? 234u : 170u;
			return fv->len[1] <= want ? MT_UNDECIDED : MT_EXCLUDED;
		}
		if (fv->len[1] != (st->hs == 64 ? 234u : 170u) || pv->dir != 0 || pv->payload_len < 38)
			return MT_EXCLUDED;
		st->noise = 1;
		st->last_sz = pv->payload_len;
	} else if (pv->dir == 0 && pv->payload_len) {
		/* a miner sends little but shares upstream: each packet is counted as one, for the
		 * share rate (no difficulty is visible, so no hash rate) */
		st->up_frames++;
		if (!st->first_us)
			st->first_us = pv->ts_us;
		st->last_us = pv->ts_us;
		if (pv->payload_len == st->last_sz)
			st->run++;
		else
			st->run = 0;
		st->last_sz = pv->payload_len;
	}
	conf = 0.5;
	if (fv->srv_port == SV2_NOISE_PORT)
		conf += 0.1;
	if (st->run >= SV2_NOISE_SHARE_RUN)
		conf += 0.2;
	if (conf > 0.8)
		conf = 0.8;
	ev->event = MT_EVENT_MINING;
	MT_EV_SET(ev, protocol, "stratum-v2-encrypted", 20);
	snprintf(txt, sizeof txt, "noise NX handshake %u/%u B%s%s", (unsigned)st->hs,
		 st->hs == 64 ? 234u : 170u, fv->srv_port == SV2_NOISE_PORT ? ", port 34254" : "",
		 st->run >= SV2_NOISE_SHARE_RUN ? ", equal-size upstream frames" : "");
	MT_EV_SET(ev, evidence, txt, strlen(txt));
	if (ev->confidence < conf) {
		ev->confidence = conf;
		ev->version++;
	}
	if (ev->shares != st->up_frames) {
		ev->shares = st->up_frames;
		ev->first_share_us = st->first_us;
		ev->last_share_us = st->last_us;
		ev->version++;
	}
	return MT_DETECTED;
}

static int sv2_on_packet(void *global, void *state, const mt_flow_view *fv,
			 const mt_pkt_view *pv, mt_evidence *ev)
{
	sv2_state *st = state;
	int plain_dead, a;
	(void)global;
	if (fv->l4proto != 6)
		return MT_EXCLUDED;
	st->now_us = pv->ts_us;
	if (!st->noise) {
		scan(st, fv, 0);
		scan(st, fv, 1);
		if (st->setup && (st->setup_ok || st->channel)) {
			fill_plain(st, ev);
			return MT_DETECTED;
		}
	}
	plain_dead = st->bad[0] || st->bad[1];
	if (!st->noise_dead) {
		a = noise(st, fv, pv, ev);
		if (a == MT_DETECTED)
			return a;
		if (a == MT_EXCLUDED)
			st->noise_dead = 1;
	}
	if ((plain_dead && st->noise_dead) || pv->flow_end)
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

/*
 * The first frame header of one direction, as scan() first reads it with a
 * zeroed state: 1 when it marks the direction bad (a frame longer than
 * SV2_MAX_FRAME, or a whole first frame that is not a mining
 * SetupConnection from the client: extension 0, type 0x00), 0 otherwise
 * (including a frame still arriving).
 */
static int first_frame_bad(const mt_flow_view *fv, int dir)
{
	const uint8_t *h = fv->data[dir];
	uint32_t len = fv->len[dir], ml;

	if (!h)
		return 0;
	if (fv->gap_off[dir] && len > fv->gap_off[dir])
		len = fv->gap_off[dir];
	if (len < SV2_HDR)
		return 0;
	ml = u24(h + 3);
	if (ml > SV2_MAX_FRAME)
		return 1;
	if (len - SV2_HDR < ml)
		return 0;
	return dir != 0 || (h[0] | (h[1] & 0x7f)) != 0 || h[2] != SV2_SETUP;
}

/*
 * API 3: on_packet's first answer with a zeroed state, from the frame
 * headers and the Noise handshake sizes only: excluded when the plaintext
 * framing is already broken (the client's first frame, or with no client
 * bytes yet the server's) and the handshake shape cannot be Noise NX (a
 * stream that began mid-connection, or a client's first message that is
 * neither 32 nor 64 bytes, nor shorter than 32).
 */
static int sv2_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	int plain_dead, noise_dead;

	(void)global;
	if (fv->l4proto != 6)
		return MT_EXCLUDED;
	if (pv->flow_end)
		return MT_UNDECIDED; /* a flow-end first call: leave it to on_packet */
	plain_dead = first_frame_bad(fv, 0) || (fv->len[0] == 0 && first_frame_bad(fv, 1));
	if (!plain_dead)
		return MT_UNDECIDED;
	if (fv->midstream[0] || fv->midstream[1])
		noise_dead = 1;
	else if (!pv->payload_len)
		noise_dead = 0;
	else if (pv->dir == 0)
		noise_dead = !(fv->len[0] == 64 || fv->len[0] == 32 || fv->len[0] < 32);
	else
		noise_dead = (fv->len[0] != 64 && fv->len[0] != 32) ||
			     fv->len[1] > (fv->len[0] == 64 ? 234u : 170u);
	return noise_dead ? MT_EXCLUDED : MT_UNDECIDED;
}

const mt_detector mt_detect_sv2 = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "stratum-v2",
	.description = "Stratum V2: plaintext binary framing (SetupConnection, channels, jobs, shares) and the Noise NX handshake shape",
	.wants = MT_WANT_TCP,
	.max_packets = SV2_MAX_PACKETS,
	.state_size = sizeof(sv2_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = sv2_on_packet,
	.flow_free = NULL,
	.prefilter = sv2_prefilter,
};
