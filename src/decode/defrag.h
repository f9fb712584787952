/* defrag.h - IPv4 and IPv6 fragment reassembly, bounded in datagrams, memory, fragments and time. */
#ifndef MT_DEFRAG_H
#define MT_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

typedef struct mt_defrag_cfg {
	size_t memcap;          /* bytes of datagram buffers held at once (default 16 MiB) */
	uint32_t max_datagrams; /* datagrams being reassembled at once (default 4096) */
	uint32_t timeout_s;     /* packet-time seconds a datagram may take (default 30, as Linux) */
	uint32_t max_frags;     /* fragments per datagram (default 128) */
} mt_defrag_cfg;

typedef struct mt_defrag_stats {
	uint64_t fragments;     /* fragments offered */
	uint64_t reassembled;   /* datagrams completed */
	uint64_t timeouts;      /* datagrams given up after timeout_s */
	uint64_t evicted;       /* datagrams given up for room (max_datagrams or memcap) */
	uint64_t overlaps;      /* fragments that overlapped received data (the first copy wins) */
	uint64_t overlap_diff;  /* ... and carried different bytes there (an evasion attempt) */
	uint64_t too_many;      /* datagrams given up at max_frags fragments */
	uint64_t bad;           /* fragments refused: past 65535 bytes, a middle length not a multiple of 8, two different ends */
	uint64_t truncated;     /* fragments cut by the snap length: cannot complete */
	uint64_t mem;           /* bytes held now */
	uint64_t mem_peak;
	uint64_t active;        /* datagrams being reassembled now */
} mt_defrag_stats;

/* A completed datagram: the IP header then the whole payload, as one unfragmented packet. */
typedef struct mt_defrag_dgram {
	const uint8_t *ip; /* valid until the next mt_defrag_add or mt_defrag_free */
	uint32_t len;
	uint8_t nvlan;
	uint16_t vlan[MT_DECODE_MAX_VLAN];
} mt_defrag_dgram;

typedef struct mt_defrag mt_defrag;

void mt_defrag_cfg_default(mt_defrag_cfg *cfg);
/* seed_key: 16 bytes for a reproducible hash (tests), or NULL for a random key. */
mt_defrag *mt_defrag_new(const mt_defrag_cfg *cfg, const uint8_t *seed_key);
void mt_defrag_free(mt_defrag *d);

/*
 * Adds one fragment (as mt_decode_frame_frag described it) at packet time now_us. Returns 1 and
 * fills *out when it completes its datagram, 0 when it is held (or dropped and counted).
 * Datagrams older than timeout_s are let go first.
 */
int mt_defrag_add(mt_defrag *d, const mt_frag *f, uint64_t now_us, mt_defrag_dgram *out);

const mt_defrag_stats *mt_defrag_stats_get(const mt_defrag *d);

#endif
