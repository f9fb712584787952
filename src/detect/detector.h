/* detector.h - the public, versioned detector interface shared by built-ins and plugins. */
#ifndef MT_DETECTOR_H
#define MT_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

struct mt_sigs; /* signatures/ loaded (detect/sigs.h); swapped whole on reload */

/*
 * Bump on any change to a struct in this file. The plugin loader refuses a
 * plugin whose api_version differs and names both versions.
 */
#define MT_DETECTOR_API_VERSION 5u /* 3: prefilter; 4: share accounting at the end of mt_evidence; 5: MT_WANT_LABELS */

/* A detector's answer for a flow (nDPI's three answers). */
enum mt_answer {
	MT_UNDECIDED = 0, /* ask again with the next packet */
	MT_DETECTED = 1,  /* evidence filled; keep calling while packets are wanted, to grow it */
	MT_EXCLUDED = 2   /* certainly not mine: never ask again for this flow */
};

/* What kind of hit (the hit record's event_type). */
enum mt_event {
	MT_EVENT_NONE = 0,
	MT_EVENT_MINING = 1,    /* "mining": a miner talking to a pool, proxy or node for work */
	MT_EVENT_CRYPTO_P2P = 2 /* "crypto_p2p": blockchain node traffic, never mining */
};

/* Packets wanted (mt_detector.wants). */
#define MT_WANT_TCP 0x1u /* TCP: called when new in-order stream bytes arrive (and at FIN) */
#define MT_WANT_UDP 0x2u /* UDP: called with every datagram */
/* TCP: called with every packet that carries payload (its size, time and bytes in pv), without
 * needing the reassembled stream: for behaviour (share timing) over long flows. */
#define MT_WANT_TCP_PACKETS 0x4u
/* Reads nDPI's labels in the flow view (ndpi_proto, sni, http_host, http_ua). nDPI runs on a
 * flow only while a detector with this flag is still asked and none has identified the flow;
 * without one, the view's labels stay NULL (API 5). */
#define MT_WANT_LABELS 0x8u

#define MT_EV_PROTO_LEN 32
#define MT_EV_COIN_LEN 16
#define MT_EV_ALGO_LEN 32
#define MT_EV_TEXT_LEN 192
#define MT_EV_HOST_LEN 256
#define MT_EV_WALLET_LEN 160
#define MT_EV_WORKER_LEN 96
#define MT_EV_AGENT_LEN 128
#define MT_EV_TARGET_LEN 80
#define MT_EV_TAG_LEN 96

/*
 * The evidence of one flow: fixed-size fields, no allocation. A detector
 * fills what it saw. Strings are NUL-terminated, cut to fit (mt_ev_set).
 * Every change must bump `version`, so that the engine reports the flow again
 * (same community_id) when its evidence grows.
 */
typedef struct mt_evidence {
	uint32_t version;        /* bumped by each change */
	uint8_t event;           /* enum mt_event */
	char protocol[MT_EV_PROTO_LEN]; /* "stratum", "cryptonote-stratum", "bitcoin-p2p" ... */
	char coin[MT_EV_COIN_LEN];      /* "BTC", "XMR", "ZEC", "ETH" ... where known */
	char algo[MT_EV_ALGO_LEN];      /* "sha256d", "randomx", "equihash", "ethash" ... */
	double confidence;       /* 0 .. 1 */
	char evidence[MT_EV_TEXT_LEN];  /* the rule or message that decided */
	char detector[MT_EV_PROTO_LEN]; /* name of the detector (set by the engine) */
	char pool_host[MT_EV_HOST_LEN];
	char wallet[MT_EV_WALLET_LEN];
	char worker[MT_EV_WORKER_LEN];
	char agent[MT_EV_AGENT_LEN];
	char target[MT_EV_TARGET_LEN];  /* share target as the pool sent it (hex) */
	char coinbase_tag[MT_EV_TAG_LEN];
	double difficulty;       /* latest share difficulty; valid if has_difficulty */
	double reported_hashrate_hs; /* the miner's own claim (eth_submitHashrate); valid if > 0 */
	double hashrate_hs;      /* estimate; valid if > 0 */
	char hashrate_basis[MT_EV_PROTO_LEN];
	uint64_t shares;         /* shares submitted so far */
	uint64_t shares_accepted;
	uint64_t shares_rejected;
	uint64_t jobs;           /* jobs pushed by the pool so far */
	uint8_t has_difficulty;
	/* What the hash-rate estimate (evidence/estimate.h) needs, kept by the detectors that
	 * see shares: the difficulty in force at each share, summed, and the packet times. */
	double share_diff_sum;   /* sum over counted shares of the difficulty in force */
	uint64_t shares_diff;    /* shares counted into share_diff_sum */
	uint64_t work_start_us;  /* packet time of the first job or difficulty (0: none seen) */
	uint64_t first_share_us; /* packet times of the first and latest share (0: none) */
	uint64_t last_share_us;
	uint8_t diff_is_hashes;  /* 1: share_diff_sum is already in hashes (a target's 2^N / target);
				  * 0: in the pool's difficulty units (times the algorithm's multiplier) */
} mt_evidence;

/* Notes the first job or difficulty: the miner has work from then on. */
static inline void mt_ev_work(mt_evidence *ev, uint64_t ts_us)
{
	if (!ev->work_start_us && ts_us)
		ev->work_start_us = ts_us;
}

/* Notes one share at packet time ts_us under difficulty d (d <= 0: not known). */
static inline void mt_ev_share(mt_evidence *ev, uint64_t ts_us, double d, int d_is_hashes)
{
	if (!ev->first_share_us)
		ev->first_share_us = ts_us;
	if (ts_us > ev->last_share_us)
		ev->last_share_us = ts_us;
	if (d > 0) {
		ev->share_diff_sum += d;
		ev->shares_diff++;
		ev->diff_is_hashes = (uint8_t)(d_is_hashes != 0);
	}
}

/*
 * What a detector sees of a flow. For TCP, data[dir] / len[dir] are the
 * in-order stream bytes of each direction so far (bounded), from the
 * connection's start; the detector keeps its own read offsets in its state.
 */
typedef struct mt_flow_view {
	uint8_t ipver;          /* 4 or 6 */
	uint8_t l4proto;        /* 6 or 17 */
	uint8_t dir_certain;    /* client known from the handshake */
	uint8_t midstream[2];   /* direction started without SYN: first bytes may be mid-message */
	uint8_t fin[2];         /* direction closed */
	uint8_t capped[2];      /* direction hit the stream byte cap */
	const uint8_t *cli_addr; /* 16 bytes, IPv4 in the first 4 */
	const uint8_t *srv_addr;
	uint16_t cli_port, srv_port;
	uint64_t first_us;
	uint64_t pkts[2];
	uint64_t bytes[2];
	const uint8_t *data[2]; /* [0] client to server, [1] server to client (TCP) */
	uint32_t len[2];
	uint32_t gap_off[2];    /* bytes from gap_off on do not continue those before (0: none) */
	/* From the nDPI adapter when it has them (NULL otherwise). */
	const char *ndpi_proto; /* "TLS", "HTTP", "Mining" ... */
	const char *sni;
	const char *http_host;
	const char *http_ua;
	/* The signature set in force for this call (may be NULL); never keep it across calls. */
	const struct mt_sigs *sigs;
	/* The name an earlier DNS answer gave for srv_addr (the engine's DNS cache), or NULL. */
	const char *dns_name;
} mt_flow_view;

/* The packet that caused this call. */
typedef struct mt_pkt_view {
	int dir;                /* MT_DIR_C2S (0) or MT_DIR_S2C (1) */
	uint64_t ts_us;
	const uint8_t *payload; /* this packet's payload (UDP datagram, or TCP segment) */
	uint32_t payload_len;
	uint8_t tcp_flags;
	uint8_t flow_end;       /* 1 on the final call at flow end (no packet) */
} mt_pkt_view;

/* What the engine gives a detector at init. */
typedef struct mt_detector_env {
	uint32_t api_version;
	const char *signatures_dir; /* may be NULL */
	void (*log)(int level, const char *fmt, ...); /* level: 0 error, 1 warning, 2 info, 3 debug */
} mt_detector_env;

typedef struct mt_detector {
	uint32_t api_version;  /* MT_DETECTOR_API_VERSION */
	const char *name;      /* short, unique: "stratum" */
	const char *description;
	uint32_t wants;        /* MT_WANT_* */
	uint32_t max_packets;  /* stop calling after this many packets with payload (0: no limit) */
	size_t state_size;     /* per-flow state, zeroed by the engine before the first call */
	/* Returns 0 or a negative errno; *global is passed back to every call. May be NULL. */
	int (*init)(void **global, const mt_detector_env *env);
	void (*fini)(void *global);
	/* Returns an enum mt_answer. May fill *ev at any time; on MT_DETECTED it must have set ev->event. */
	int (*on_packet)(void *global, void *state, const mt_flow_view *fv,
			 const mt_pkt_view *pv, mt_evidence *ev);
	/* Releases what the state owns (not the state itself). May be NULL. */
	void (*flow_free)(void *global, void *state);
	/*
	 * Optional (API 3), a cheap look before the detector's first on_packet
	 * for a flow, with the same views: MT_EXCLUDED lets the flow go before
	 * any state is made (counted as an exclusion, never asked again);
	 * anything else makes the state and calls on_packet with this packet.
	 * It must answer MT_EXCLUDED only for flows on_packet would never
	 * identify, so that results do not depend on it. May be NULL.
	 */
	int (*prefilter)(void *global, const mt_flow_view *fv, const mt_pkt_view *pv);
	/*
	 * Optional (API 5), for a detector with MT_WANT_LABELS: asked when nDPI
	 * would start on a flow the detector is still asked about (at its third
	 * payload packet, or at its end), with its state: 0 when nDPI's labels
	 * would tell it nothing it needs on this flow, 1 when they would. nDPI
	 * starts only if one such detector says 1. NULL: always 1.
	 */
	int (*wants_labels)(void *global, void *state, const mt_flow_view *fv);
} mt_detector;

/* A plugin exports this symbol; it returns a NULL-terminated array of detectors. */
#define MT_PLUGIN_ENTRY "mt_plugin_detectors"
typedef const mt_detector *const *(*mt_plugin_entry_fn)(void);

/*
 * Sets a string field from untrusted bytes: cut to fit (at a UTF-8 boundary),
 * control characters replaced by '?'. Bumps ev->version if the value changed.
 */
static inline void mt_ev_set(mt_evidence *ev, char *field, size_t cap,
			     const char *src, size_t n)
{
	size_t i, o = 0;
	int changed = 0;
	if (cap == 0)
		return;
	if (n > cap - 1) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--; /* do not split a UTF-8 sequence */
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		char w = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		if (field[o] != w)
			changed = 1;
		field[o++] = w;
	}
	if (field[o] != '\0')
		changed = 1;
	field[o] = '\0';
	if (changed)
		ev->version++;
}

#define MT_EV_SET(ev, field, src, n) mt_ev_set((ev), (ev)->field, sizeof((ev)->field), (src), (n))

#endif
