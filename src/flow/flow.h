/* flow.h - the flow table: normalised 5-tuple key, keyed hash, timeouts, caps, eviction. */
#ifndef MT_FLOW_H
#define MT_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

#define MT_DIR_C2S 0 /* client (miner) to server (pool) */
#define MT_DIR_S2C 1

/* Defaults; every one can be overridden by the config file. */
#define MT_FLOW_DEFAULT_MAX_FLOWS 500000u
#define MT_FLOW_DEFAULT_MEMCAP (128ull << 20)   /* bytes: flows + what the engine accounts (README: Speed and memory) */
#define MT_FLOW_DEFAULT_TCP_NEW_TIMEOUT 30      /* s: handshake not completed */
#define MT_FLOW_DEFAULT_TCP_EST_TIMEOUT 600     /* s: established (pool sessions are quiet) */
#define MT_FLOW_DEFAULT_TCP_CLOSED_TIMEOUT 10   /* s: after FIN both ways or RST */
#define MT_FLOW_DEFAULT_UDP_TIMEOUT 120         /* s */

typedef struct mt_flow_cfg {
	uint32_t max_flows;
	uint64_t memcap;
	uint32_t tcp_new_timeout;   /* seconds */
	uint32_t tcp_est_timeout;
	uint32_t tcp_closed_timeout;
	uint32_t udp_timeout;
} mt_flow_cfg;

/* Fills *cfg with the defaults above. */
void mt_flow_cfg_default(mt_flow_cfg *cfg);

/*
 * Normalised key: the endpoint that compares lower (address bytes, then port)
 * is `lo`. Both directions of a connection give the same key. The outer VLAN
 * id is part of the key so that overlapping address plans stay apart.
 */
typedef struct mt_flow_key {
	uint8_t lo[16];
	uint8_t hi[16];
	uint16_t lo_port;
	uint16_t hi_port;
	uint16_t vlan;
	uint8_t ipver;   /* 4 or 6 */
	uint8_t l4proto; /* 6 or 17 */
} mt_flow_key;

/* Why a flow ended (argument of the end callback). */
enum mt_flow_end_reason {
	MT_FLOW_END_IDLE = 0,     /* its protocol's idle timeout passed (packet time) */
	MT_FLOW_END_CLOSED,       /* TCP closed, closed timeout passed, or a new SYN reused the tuple */
	MT_FLOW_END_EVICT_FLOWS,  /* evicted to stay under max_flows */
	MT_FLOW_END_EVICT_MEM,    /* evicted to stay under memcap */
	MT_FLOW_END_FLUSH,        /* end of input / shutdown */
	MT_FLOW_END__COUNT
};

/* TCP state as far as timeouts care. */
enum mt_flow_tcp_state {
	MT_TCP_NONE = 0, /* UDP (a TCP flow seen mid-session starts as MT_TCP_EST) */
	MT_TCP_SYN,      /* SYN seen, no data/ACK completion yet */
	MT_TCP_EST,
	MT_TCP_CLOSING,  /* FIN in one direction */
	MT_TCP_CLOSED    /* FIN both ways, or RST */
};

typedef struct mt_flow mt_flow;
struct mt_flow {
	mt_flow_key key;
	uint8_t cli_is_lo;   /* 1 if the client (miner side) is key.lo */
	uint8_t dir_certain; /* 1 if the client is known from the SYN / SYN-ACK, 0 if from port heuristics */
	uint8_t tcp_state;   /* enum mt_flow_tcp_state */
	uint8_t tclass;      /* internal: timeout class (which LRU list) */
	uint32_t hash;       /* internal: keyed hash of key */
	mt_flow *hnext;      /* internal: bucket chain (next to the key: one cache line per lookup step) */
	uint64_t id;         /* 1, 2, 3 ... in creation order (deterministic) */
	uint64_t first_us;   /* packet time of the first packet */
	uint64_t last_us;    /* packet time of the latest packet */
	uint64_t pkts[2];    /* [MT_DIR_C2S], [MT_DIR_S2C] */
	uint64_t bytes[2];   /* payload bytes per direction */
	void *user;          /* owned by the table's user; released in the end callback */
	/* internal links */
	mt_flow *lprev, *lnext;
};

typedef struct mt_flow_stats {
	uint64_t created;
	uint64_t active;
	uint64_t peak_active;
	uint64_t ended[MT_FLOW_END__COUNT];
	uint64_t evicted; /* ended[EVICT_FLOWS] + ended[EVICT_MEM] */
	uint64_t alloc_fail;
	uint64_t mem;      /* bytes accounted now (flows + mt_flowtab_mem_add) */
	uint64_t mem_peak;
} mt_flow_stats;

typedef struct mt_flowtab mt_flowtab;

/*
 * The table's hash of a key under hash key hkey: SipHash-1-3 of the key's
 * significant bytes (IPv4: 16). Exposed for tests that build colliding keys.
 */
uint32_t mt_flow_key_hash(const uint8_t hkey[16], const mt_flow_key *k);

/* Called once for every flow that ends, before it is freed; must release f->user. */
typedef void (*mt_flow_end_fn)(mt_flow *f, int reason, void *ctx);

/*
 * New table. The hash key is random per table (getrandom); `seed_key` may be
 * NULL, or 16 bytes to fix it (tests). Returns NULL on allocation failure.
 */
mt_flowtab *mt_flowtab_new(const mt_flow_cfg *cfg, const uint8_t *seed_key,
			   mt_flow_end_fn on_end, void *ctx);

/* Frees the table and every flow without calling the end callback (flush first). NULL is fine. */
void mt_flowtab_free(mt_flowtab *t);

/*
 * The flow of packet p, created if new (evicting the least recently used flow
 * when a cap is reached). Updates last_us, counters and TCP state, and
 * expires idle flows older than p's time first. *dir gets MT_DIR_C2S or
 * MT_DIR_S2C; *created 1 for a new flow. A SYN on a closed flow ends it and
 * starts a new one. Returns NULL only if no memory could be had (counted).
 */
mt_flow *mt_flowtab_packet(mt_flowtab *t, const mt_pkt *p, int *dir, int *created);

/*
 * Batches (the engine reads a few packets ahead): mt_flowtab_prefetch fills
 * *h with p's key and hash and asks for its bucket in the cache;
 * mt_flowtab_prefetch_flow(h) later asks for the bucket's first flow; and
 * mt_flowtab_packet_hinted(h) is mt_flowtab_packet without making the key
 * again. Hints only: the table does not change until the last call, so a
 * hint stays valid while other packets are processed.
 */
typedef struct mt_flow_hint {
	mt_flow_key key;
	uint32_t hash;
	int from_lo;
} mt_flow_hint;

void mt_flowtab_prefetch(const mt_flowtab *t, const mt_pkt *p, mt_flow_hint *h);
void mt_flowtab_prefetch_flow(const mt_flowtab *t, const mt_flow_hint *h);

/* mt_flowtab_packet with the hint mt_flowtab_prefetch gave for p (NULL: made here). */
mt_flow *mt_flowtab_packet_hinted(mt_flowtab *t, const mt_pkt *p, const mt_flow_hint *hint,
				  int *dir, int *created);

/* Ends (callback, then frees) every flow idle for longer than its timeout at now_us. */
void mt_flowtab_expire(mt_flowtab *t, uint64_t now_us);

/* Ends every flow, oldest id first (deterministic order). */
void mt_flowtab_flush(mt_flowtab *t);

/* The user accounts its per-flow memory (stream buffers...) here; delta may be negative. */
void mt_flowtab_mem_add(mt_flowtab *t, int64_t delta);

const mt_flow_stats *mt_flowtab_stats(const mt_flowtab *t);

/* Client and server endpoints of a flow (addresses are 16 bytes, IPv4 in the first 4). */
const uint8_t *mt_flow_cli_addr(const mt_flow *f);
const uint8_t *mt_flow_srv_addr(const mt_flow *f);
uint16_t mt_flow_cli_port(const mt_flow *f);
uint16_t mt_flow_srv_port(const mt_flow *f);

/* Name of an end reason ("idle", "closed", "evict_flows", "evict_mem", "flush"). */
const char *mt_flow_end_reason_name(int reason);

/*
 * Community ID v1 (https://github.com/corelight/community-id-spec) of a
 * connection, ordered as the spec says. addr are 4 or 16 bytes by ipver.
 * Writes "1:<base64 sha1>" (31 bytes + NUL) to out; returns 0 or -EINVAL.
 */
int mt_community_id(uint8_t ipver, uint8_t l4proto, const uint8_t *saddr,
		    const uint8_t *daddr, uint16_t sport, uint16_t dport,
		    uint16_t seed, char *out, size_t outlen);

#endif
