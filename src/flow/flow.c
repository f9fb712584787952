/* flow.c - the flow table: normalised key, SipHash-keyed chained buckets, per-class LRU timeouts, caps. */
#include "flow/flow.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/siphash.h"

/*
 * Layout
 * - Buckets: a power-of-two array of chain heads, at least max_flows long
 *   (load factor <= 1), allocated once. Chains are singly linked through
 *   f->hnext; a lookup compares the stored hash before the key.
 * - The hash is SipHash-1-3 of the key's significant bytes (16 for IPv4: the
 *   two addresses, ports, VLAN, version, protocol; 40 for IPv6) under a
 *   random per-table key, so a sender cannot choose tuples that pile into
 *   one chain. SipHash-1-3 (Rust's HashMap's choice against hash flooding)
 *   on 16 bytes is 6 rounds where SipHash-2-4 on the whole 40-byte key was
 *   16: the hash was 5% of the instructions. Computed once per packet: the
 *   key is normalised, so both directions hash the same.
 * - Flows live in a slab: chunks of FLOW_CHUNK structs, never more than
 *   max_flows in all, recycled through a free list. No allocation per packet;
 *   one malloc per FLOW_CHUNK new flows at most, until the slab is full.
 * - One LRU list per timeout class, most recent at the head; a flow moves to
 *   another list when its TCP state changes class. Packets come in time
 *   order, so each list is ordered by last_us and only its tail can be due:
 *   expiry and eviction look at four tails, never at buckets. Nothing
 *   depends on bucket order, so output order does not depend on the random
 *   hash key. (If packet time goes backwards, a list is only roughly ordered
 *   and a flow may end late, never early.)
 * - Expiry is exact to the microsecond of packet time and costs one compare
 *   per packet: next_expire_us is a lower bound of the earliest deadline,
 *   lowered when a flow enters a list and recomputed from the tails by
 *   mt_flowtab_expire. A flow is due when now - last_us > its timeout.
 * - Client: a SYN's sender, a SYN+ACK's receiver (dir_certain = 1); else by
 *   ports (see server_ports), corrected by a later SYN or SYN+ACK.
 * - TCP state: SYN or SYN+ACK -> SYN; then an ACK or data -> EST; a flow
 *   picked up mid-session starts in EST; FIN one way -> CLOSING (still the
 *   established timeout); FIN both ways or RST -> CLOSED (closed timeout).
 *   A SYN without ACK on a CLOSED flow ends it (MT_FLOW_END_CLOSED) and
 *   starts a new flow.
 * - stats.mem counts sizeof(flow_ent) per live flow plus what the user adds
 *   with mt_flowtab_mem_add. The bucket array (8 bytes per bucket) and spare
 *   structs on the free list are a fixed overhead bounded by max_flows.
 *
 * The end callback runs with the flow already unlinked. It must release
 * f->user and may call mt_flowtab_mem_add, and nothing else of this table:
 * it runs in the middle of mt_flowtab_packet / expire / flush.
 */

/* TCP header flags (RFC 9293 section 3.1). */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define IPPROTO_TCP_NUM 6

#define FLOW_CHUNK 1024u               /* flow structs per slab chunk */
#define FLOW_MAX_FLOWS_LIMIT (1u << 30) /* bucket count must fit the 32-bit hash */

/* Timeout classes, one LRU list each. */
enum {
	TC_TCP_NEW = 0, /* SYN seen, handshake not complete */
	TC_TCP_EST,     /* established, half closed, or picked up mid-session */
	TC_TCP_CLOSED,  /* FIN both ways or RST */
	TC_UDP,
	TC__COUNT,
	TC_NONE = 0xff  /* not on a list (just allocated) */
};

/* The table's private part of a flow; the public mt_flow comes first. */
typedef struct flow_ent {
	mt_flow f;
	uint8_t fin; /* FIN seen from key.lo (bit 0) and from key.hi (bit 1) */
} flow_ent;

#define FLOW_SZ ((uint64_t)sizeof(flow_ent))

struct flow_chunk {
	struct flow_chunk *next;
	flow_ent ent[];
};

typedef struct lru_list {
	mt_flow *head; /* most recently seen */
	mt_flow *tail; /* least recently seen */
} lru_list;

struct mt_flowtab {
	/* per-packet fields first */
	mt_flow **bucket;
	uint32_t mask;
	uint8_t hkey[16];
	uint64_t next_expire_us; /* no flow can be due before this packet time */
	lru_list lru[TC__COUNT];
	uint64_t timeout_us[TC__COUNT];
	mt_flow *free;           /* spare structs, linked through hnext */
	uint64_t next_id;
	mt_flow_stats st;
	/* the rest */
	struct flow_chunk *chunks;
	uint32_t nalloc; /* structs allocated in chunks so far (<= max_flows) */
	mt_flow_cfg cfg;
	mt_flow_end_fn on_end;
	void *ctx;
};

/* The key is hashed and compared as bytes: it must have no padding. */
_Static_assert(sizeof(mt_flow_key) == 40, "mt_flow_key has padding");
_Static_assert(offsetof(flow_ent, f) == 0, "mt_flow must come first in flow_ent");

/*
 * Ports that mark the server side when no SYN told us (ports below 1024 are
 * servers too). Kept sorted. Most clients take their port from an ephemeral
 * range (Linux 32768-60999, Windows 49152-65535), so the lower, listed port is
 * the listener. The mining ports are the ones pools commonly publish; the
 * node ports are the coins' P2P and RPC defaults.
 */
static const uint16_t server_ports[] = {
	1433,  /* MS SQL */
	1521,  /* Oracle */
	1883,  /* MQTT */
	3306,  /* MySQL */
	3333,  /* Stratum (the most common pool port) */
	3334,  /* Stratum, TLS variant on many pools */
	3389,  /* RDP */
	4444,  /* Stratum (Monero pools) */
	5222,  /* XMPP */
	5432,  /* PostgreSQL */
	5555,  /* Stratum */
	5900,  /* VNC */
	6379,  /* Redis */
	6667,  /* IRC */
	7777,  /* Stratum */
	8000,  /* HTTP alternative */
	8080,  /* HTTP alternative / proxies */
	8332,  /* Bitcoin JSON-RPC (getwork / getblocktemplate) */
	8333,  /* Bitcoin P2P */
	8443,  /* HTTPS alternative */
	8545,  /* Ethereum JSON-RPC */
	8888,  /* HTTP alternative, some pools */
	9332,  /* Litecoin JSON-RPC */
	9333,  /* Litecoin P2P */
	9999,  /* Stratum */
	14433, /* Stratum over TLS (several pools) */
	14444, /* Stratum (Monero pools) */
	18080, /* Monero P2P */
	18081, /* Monero RPC */
	18333, /* Bitcoin testnet P2P */
	27017, /* MongoDB */
	30303, /* Ethereum P2P (inside the Linux ephemeral range, hence listed) */
};

static int is_server_port(uint16_t port)
{
	size_t lo = 0, hi = sizeof server_ports / sizeof server_ports[0];

	if (port < 1024)
		return 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (server_ports[mid] == port)
			return 1;
		if (server_ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * 1 if the sender of a packet from sport to dport is the client, by ports
 * only: the side on a known server port is the server; if both or neither
 * are, the lower port; if they are equal, the sender is taken as the client.
 */
static int sender_is_client_by_port(uint16_t sport, uint16_t dport)
{
	int s_srv = is_server_port(sport), d_srv = is_server_port(dport);

	if (s_srv != d_srv)
		return d_srv;
	if (sport != dport)
		return dport < sport;
	return 1;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void mt_flow_cfg_default(mt_flow_cfg *cfg)
{
	cfg->max_flows = MT_FLOW_DEFAULT_MAX_FLOWS;
	cfg->memcap = MT_FLOW_DEFAULT_MEMCAP;
	cfg->tcp_new_timeout = MT_FLOW_DEFAULT_TCP_NEW_TIMEOUT;
	cfg->tcp_est_timeout = MT_FLOW_DEFAULT_TCP_EST_TIMEOUT;
	cfg->tcp_closed_timeout = MT_FLOW_DEFAULT_TCP_CLOSED_TIMEOUT;
	cfg->udp_timeout = MT_FLOW_DEFAULT_UDP_TIMEOUT;
}

/* Fills the normalised key of p; returns 1 if p's sender is key.lo. */
static inline int make_key(mt_flow_key *k, const mt_pkt *p)
{
	const uint8_t *lo, *hi;
	int cmp, from_lo;

	memset(k, 0, sizeof *k);
	k->ipver = p->ipver;
	k->l4proto = p->l4proto;
	k->vlan = p->nvlan > 0 ? p->vlan[0] : 0;
	if (p->ipver == 4) {
		/* memcmp order of 4 bytes = numeric order of the big-endian words, without a call */
		uint32_t s = (uint32_t)p->src[0] << 24 | (uint32_t)p->src[1] << 16 | (uint32_t)p->src[2] << 8 | p->src[3];
		uint32_t d = (uint32_t)p->dst[0] << 24 | (uint32_t)p->dst[1] << 16 | (uint32_t)p->dst[2] << 8 | p->dst[3];

		cmp = (s > d) - (s < d);
	} else {
		cmp = memcmp(p->src, p->dst, 16);
	}
	from_lo = cmp < 0 || (cmp == 0 && p->sport <= p->dport);
	lo = from_lo ? p->src : p->dst;
	hi = from_lo ? p->dst : p->src;
	/* constant lengths: inline stores, not a memcpy call */
	if (p->ipver == 4) {
		memcpy(k->lo, lo, 4);
		memcpy(k->hi, hi, 4);
	} else {
		memcpy(k->lo, lo, 16);
		memcpy(k->hi, hi, 16);
	}
	k->lo_port = from_lo ? p->sport : p->dport;
	k->hi_port = from_lo ? p->dport : p->sport;
	return from_lo;
}

static int flow_class(const mt_flow *f)
{
	if (f->key.l4proto != IPPROTO_TCP_NUM)
		return TC_UDP;
	switch (f->tcp_state) {
	case MT_TCP_SYN:
		return TC_TCP_NEW;
	case MT_TCP_CLOSED:
		return TC_TCP_CLOSED;
	default:
		return TC_TCP_EST;
	}
}

/* ---- LRU lists ---- */

/* The first packet time at which f, on list c, is due (saturating). */
static uint64_t due_at(const mt_flowtab *t, const mt_flow *f, int c)
{
	return sat_add(sat_add(f->last_us, t->timeout_us[c]), 1);
}

static void lru_unlink(mt_flowtab *t, mt_flow *f)
{
	lru_list *l = &t->lru[f->tclass];

	if (f->lprev)
		f->lprev->lnext = f->lnext;
	else
		l->head = f->lnext;
	if (f->lnext)
		f->lnext->lprev = f->lprev;
	else
		l->tail = f->lprev;
	f->lprev = f->lnext = NULL;
}

static void lru_push_head(mt_flowtab *t, mt_flow *f, int c)
{
	lru_list *l = &t->lru[c];

	f->tclass = (uint8_t)c;
	f->lprev = NULL;
	f->lnext = l->head;
	if (l->head)
		l->head->lprev = f;
	else
		l->tail = f;
	l->head = f;
}

/* Puts f at the head of the list of its (possibly new) class. */
static void lru_touch(mt_flowtab *t, mt_flow *f)
{
	int c = flow_class(f);
	uint64_t due;

	if (f->tclass == c && t->lru[c].head == f)
		return;
	if (f->tclass != TC_NONE)
		lru_unlink(t, f);
	lru_push_head(t, f, c);
	/* Keep next_expire_us a lower bound: f may now be due sooner than every tail. */
	due = due_at(t, f, c);
	if (due < t->next_expire_us)
		t->next_expire_us = due;
}

/* ---- slab ---- */

static flow_ent *flow_alloc(mt_flowtab *t)
{
	mt_flow *f = t->free;
	struct flow_chunk *ch;
	uint32_t n;

	if (f) {
		t->free = f->hnext;
		return (flow_ent *)f;
	}
	if (t->nalloc >= t->cfg.max_flows)
		return NULL;
	n = t->cfg.max_flows - t->nalloc;
	if (n > FLOW_CHUNK)
		n = FLOW_CHUNK;
	ch = malloc(sizeof *ch + (size_t)n * sizeof(flow_ent));
	if (!ch)
		return NULL;
	ch->next = t->chunks;
	t->chunks = ch;
	t->nalloc += n;
	/* Structs 1..n-1 go to the free list in address order; 0 is returned. */
	for (uint32_t i = n - 1; i >= 1; i--) {
		ch->ent[i].f.hnext = t->free;
		t->free = &ch->ent[i].f;
	}
	return &ch->ent[0];
}

/* ---- ending flows ---- */

static void bucket_unlink(mt_flowtab *t, mt_flow *f)
{
	mt_flow **pp = &t->bucket[f->hash & t->mask];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
}

static void end_flow(mt_flowtab *t, mt_flow *f, int reason)
{
	bucket_unlink(t, f);
	lru_unlink(t, f);
	t->st.active--;
	t->st.ended[reason]++;
	if (reason == MT_FLOW_END_EVICT_FLOWS || reason == MT_FLOW_END_EVICT_MEM)
		t->st.evicted++;
	t->st.mem = t->st.mem >= FLOW_SZ ? t->st.mem - FLOW_SZ : 0;
	if (t->on_end)
		t->on_end(f, reason, t->ctx);
	f->user = NULL;
	f->hnext = t->free;
	t->free = f;
}

/* The least recently seen flow over all lists: the oldest tail (lower id on a tie). */
static mt_flow *lru_victim(const mt_flowtab *t)
{
	mt_flow *v = NULL;

	for (int c = 0; c < TC__COUNT; c++) {
		mt_flow *f = t->lru[c].tail;

		if (f && (!v || f->last_us < v->last_us || (f->last_us == v->last_us && f->id < v->id)))
			v = f;
	}
	return v;
}

/* Ends the least recently used flow; returns 0 if there was none. */
static int evict_lru(mt_flowtab *t, int reason)
{
	mt_flow *v = lru_victim(t);

	if (!v)
		return 0;
	end_flow(t, v, reason);
	return 1;
}

void mt_flowtab_expire(mt_flowtab *t, uint64_t now_us)
{
	uint64_t next = UINT64_MAX;

	if (!t)
		return;
	/* Due tails, earliest deadline first (lower id on a tie): one deterministic order. */
	for (;;) {
		mt_flow *v = NULL;
		uint64_t vdue = 0;
		int vc = 0;

		for (int c = 0; c < TC__COUNT; c++) {
			mt_flow *f = t->lru[c].tail;
			uint64_t d;

			if (!f || now_us <= f->last_us || now_us - f->last_us <= t->timeout_us[c])
				continue;
			d = due_at(t, f, c);
			if (!v || d < vdue || (d == vdue && f->id < v->id)) {
				v = f;
				vdue = d;
				vc = c;
			}
		}
		if (!v)
			break;
		end_flow(t, v, vc == TC_TCP_CLOSED ? MT_FLOW_END_CLOSED : MT_FLOW_END_IDLE);
	}
	for (int c = 0; c < TC__COUNT; c++) {
		if (t->lru[c].tail) {
			uint64_t d = due_at(t, t->lru[c].tail, c);

			if (d < next)
				next = d;
		}
	}
	t->next_expire_us = next;
}

/* ---- lookup and create ---- */

uint32_t mt_flow_key_hash(const uint8_t hkey[16], const mt_flow_key *k)
{
	uint8_t m[40];

	/* lo_port, hi_port, vlan, ipver, l4proto: the last 8 bytes of the key. */
	_Static_assert(offsetof(mt_flow_key, lo_port) == 32 && sizeof(mt_flow_key) == 40,
		       "mt_flow_key tail");
	if (k->ipver == 4) {
		/* The other 24 address bytes of an IPv4 key are zero: not hashed. */
		memcpy(m, k->lo, 4);
		memcpy(m + 4, k->hi, 4);
		memcpy(m + 8, &k->lo_port, 8);
		return (uint32_t)mt_siphash13(hkey, m, 16);
	}
	return (uint32_t)mt_siphash13(hkey, k, sizeof *k);
}

/* Key equality as five 8-byte compares (the key has no padding). */
static inline int key_eq(const mt_flow_key *a, const mt_flow_key *b)
{
	uint64_t x[5], y[5];

	memcpy(x, a, sizeof x);
	memcpy(y, b, sizeof y);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

static mt_flow *lookup(const mt_flowtab *t, const mt_flow_key *k, uint32_t h)
{
	for (mt_flow *f = t->bucket[h & t->mask]; f; f = f->hnext) {
		/*
		 * A flow spans three cache lines: key and hash, counters, links.
		 * Ask for the other two now so that their misses overlap with the
		 * key compare instead of following it.
		 */
		__builtin_prefetch((const char *)f + 64);
		__builtin_prefetch((const char *)f + 128);
		if (f->hash == h && key_eq(&f->key, k))
			return f;
	}
	return NULL;
}

static void swap_dir(mt_flow *f)
{
	uint64_t x;

	f->cli_is_lo ^= 1;
	x = f->pkts[0];
	f->pkts[0] = f->pkts[1];
	f->pkts[1] = x;
	x = f->bytes[0];
	f->bytes[0] = f->bytes[1];
	f->bytes[1] = x;
}

static mt_flow *flow_create(mt_flowtab *t, const mt_flow_key *k, uint32_t h,
			    const mt_pkt *p, int from_lo)
{
	uint8_t fl = p->l4proto == IPPROTO_TCP_NUM ? p->tcp_flags : 0;
	mt_flow **b;
	flow_ent *e;
	mt_flow *f;
	int sender_cli;

	if (t->st.active >= t->cfg.max_flows)
		evict_lru(t, MT_FLOW_END_EVICT_FLOWS);
	while (t->st.mem + FLOW_SZ > t->cfg.memcap && evict_lru(t, MT_FLOW_END_EVICT_MEM))
		;
	if (t->st.mem + FLOW_SZ > t->cfg.memcap) {
		t->st.alloc_fail++;
		return NULL;
	}
	e = flow_alloc(t);
	if (!e && evict_lru(t, MT_FLOW_END_EVICT_MEM))
		e = flow_alloc(t);
	if (!e) {
		t->st.alloc_fail++;
		return NULL;
	}
	memset(e, 0, sizeof *e);
	f = &e->f;
	f->key = *k;
	f->hash = h;
	f->id = ++t->next_id;
	f->first_us = f->last_us = p->ts_us;
	f->tclass = TC_NONE;

	if (fl & TH_SYN) {
		/* SYN: the sender opened the connection; SYN+ACK: the receiver did. */
		f->dir_certain = 1;
		sender_cli = !(fl & TH_ACK);
	} else {
		sender_cli = sender_is_client_by_port(p->sport, p->dport);
	}
	f->cli_is_lo = (uint8_t)(sender_cli ? from_lo : !from_lo);

	if (p->l4proto != IPPROTO_TCP_NUM)
		f->tcp_state = MT_TCP_NONE;
	else if (fl & TH_RST)
		f->tcp_state = MT_TCP_CLOSED;
	else if (fl & TH_SYN)
		f->tcp_state = MT_TCP_SYN;
	else if (fl & TH_FIN) {
		f->tcp_state = MT_TCP_CLOSING;
		e->fin = from_lo ? 1 : 2;
	} else
		f->tcp_state = MT_TCP_EST; /* picked up mid-session */

	b = &t->bucket[h & t->mask];
	f->hnext = *b;
	*b = f;
	t->st.created++;
	t->st.active++;
	if (t->st.active > t->st.peak_active)
		t->st.peak_active = t->st.active;
	t->st.mem += FLOW_SZ;
	if (t->st.mem > t->st.mem_peak)
		t->st.mem_peak = t->st.mem;
	return f;
}

/* TCP state and late direction fixes for a packet of an existing flow. */
static void tcp_update(flow_ent *e, const mt_pkt *p, int from_lo)
{
	mt_flow *f = &e->f;
	uint8_t fl = p->tcp_flags;

	if (fl & TH_SYN) {
		if (!f->dir_certain) {
			int want = (fl & TH_ACK) ? !from_lo : from_lo;

			if (want != f->cli_is_lo)
				swap_dir(f);
			f->dir_certain = 1;
		}
	} else if (f->tcp_state == MT_TCP_SYN && ((fl & TH_ACK) || p->payload_len > 0)) {
		f->tcp_state = MT_TCP_EST;
	}
	if (fl & TH_RST) {
		f->tcp_state = MT_TCP_CLOSED;
	} else if (fl & TH_FIN) {
		e->fin |= from_lo ? 1 : 2;
		if (e->fin == 3)
			f->tcp_state = MT_TCP_CLOSED;
		else if (f->tcp_state < MT_TCP_CLOSING)
			f->tcp_state = MT_TCP_CLOSING;
	}
}

void mt_flowtab_prefetch(const mt_flowtab *t, const mt_pkt *p, mt_flow_hint *h)
{
	h->from_lo = make_key(&h->key, p);
	h->hash = mt_flow_key_hash(t->hkey, &h->key);
	__builtin_prefetch(&t->bucket[h->hash & t->mask]);
}

void mt_flowtab_prefetch_flow(const mt_flowtab *t, const mt_flow_hint *h)
{
	const mt_flow *f = t->bucket[h->hash & t->mask];

	if (f) {
		/* the three lines a packet of an existing flow touches (see lookup) */
		__builtin_prefetch(f);
		__builtin_prefetch((const char *)f + 64);
		__builtin_prefetch((const char *)f + 128);
	}
}

mt_flow *mt_flowtab_packet(mt_flowtab *t, const mt_pkt *p, int *dir, int *created)
{
	return mt_flowtab_packet_hinted(t, p, NULL, dir, created);
}

mt_flow *mt_flowtab_packet_hinted(mt_flowtab *t, const mt_pkt *p, const mt_flow_hint *hint,
				  int *dir, int *created)
{
	mt_flow_hint own;
	const mt_flow_key *kp;
	mt_flow *f;
	uint32_t h;
	int from_lo, d, is_new = 0;

	if (created)
		*created = 0;
	if (p->ts_us >= t->next_expire_us)
		mt_flowtab_expire(t, p->ts_us);

	if (!hint) {
		own.from_lo = make_key(&own.key, p);
		own.hash = mt_flow_key_hash(t->hkey, &own.key);
		hint = &own;
	}
	kp = &hint->key;
	from_lo = hint->from_lo;
	h = hint->hash;
	f = lookup(t, kp, h);
	if (f && p->l4proto == IPPROTO_TCP_NUM && f->tcp_state == MT_TCP_CLOSED &&
	    (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		/* The tuple is reused by a new connection. */
		end_flow(t, f, MT_FLOW_END_CLOSED);
		f = NULL;
	}
	if (!f) {
		f = flow_create(t, kp, h, p, from_lo);
		if (!f)
			return NULL;
		is_new = 1;
	} else if (p->l4proto == IPPROTO_TCP_NUM) {
		tcp_update((flow_ent *)f, p, from_lo);
	}

	d = from_lo == f->cli_is_lo ? MT_DIR_C2S : MT_DIR_S2C;
	f->pkts[d]++;
	f->bytes[d] += p->payload_len;
	/* Time going backwards (merged captures) never moves a flow's clock back. */
	if (p->ts_us > f->last_us)
		f->last_us = p->ts_us;
	lru_touch(t, f);
	if (dir)
		*dir = d;
	if (created)
		*created = is_new;
	return f;
}

/* ---- table ---- */

mt_flowtab *mt_flowtab_new(const mt_flow_cfg *cfg, const uint8_t *seed_key,
			   mt_flow_end_fn on_end, void *ctx)
{
	mt_flowtab *t;
	uint32_t nb = 1, want;

	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (cfg)
		t->cfg = *cfg;
	else
		mt_flow_cfg_default(&t->cfg);
	if (t->cfg.max_flows == 0 || t->cfg.max_flows > FLOW_MAX_FLOWS_LIMIT) {
		errno = EINVAL;
		goto err;
	}
	/* No more flows can live than the memory cap holds: the buckets are sized by
	 * that too, or a large max_flows would cost memory by itself. */
	want = t->cfg.max_flows;
	if (t->cfg.memcap / FLOW_SZ < want)
		want = t->cfg.memcap / FLOW_SZ > 16 ? (uint32_t)(t->cfg.memcap / FLOW_SZ) : 16;
	while (nb < want)
		nb <<= 1;
	t->bucket = calloc(nb, sizeof *t->bucket);
	if (!t->bucket)
		goto err;
	t->mask = nb - 1;

	if (seed_key) {
		memcpy(t->hkey, seed_key, sizeof t->hkey);
	} else {
		size_t got = 0;

		while (got < sizeof t->hkey) {
			ssize_t n = getrandom(t->hkey + got, sizeof t->hkey - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto err;
			got += (size_t)n;
		}
	}

	t->timeout_us[TC_TCP_NEW] = (uint64_t)t->cfg.tcp_new_timeout * 1000000u;
	t->timeout_us[TC_TCP_EST] = (uint64_t)t->cfg.tcp_est_timeout * 1000000u;
	t->timeout_us[TC_TCP_CLOSED] = (uint64_t)t->cfg.tcp_closed_timeout * 1000000u;
	t->timeout_us[TC_UDP] = (uint64_t)t->cfg.udp_timeout * 1000000u;
	t->next_expire_us = UINT64_MAX;
	t->on_end = on_end;
	t->ctx = ctx;
	return t;
err:
	mt_flowtab_free(t);
	return NULL;
}

void mt_flowtab_free(mt_flowtab *t)
{
	struct flow_chunk *ch, *next;

	if (!t)
		return;
	for (ch = t->chunks; ch; ch = next) {
		next = ch->next;
		free(ch);
	}
	free(t->bucket);
	free(t);
}

typedef struct id_flow {
	uint64_t id;
	mt_flow *f;
} id_flow;

/*
 * Sorts by id (unique): LSD radix, 16 bits a pass, no pass above the highest id's bits (two
 * passes below 2^32 flows). qsort took a twentieth of a whole benchmark run at the final flush
 * of 100,000+ flows. Returns the sorted array (a or tmp), or NULL without memory.
 */
static id_flow *sort_by_id(id_flow *a, id_flow *tmp, size_t n)
{
	uint32_t *cnt = malloc(65536 * sizeof *cnt);
	uint64_t all = 0;

	if (!cnt)
		return NULL;
	for (size_t i = 0; i < n; i++)
		all |= a[i].id;
	for (unsigned sh = 0; sh < 64 && (all >> sh); sh += 16) {
		uint32_t sum = 0;
		id_flow *x;

		memset(cnt, 0, 65536 * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].id >> sh) & 0xffff]++;
		for (size_t d = 0; d < 65536; d++) {
			uint32_t c = cnt[d];

			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i].id >> sh) & 0xffff]++] = a[i];
		x = a;
		a = tmp;
		tmp = x;
	}
	free(cnt);
	return a;
}

void mt_flowtab_flush(mt_flowtab *t)
{
	id_flow *v, *w, *sorted = NULL;
	size_t n = 0;

	if (!t || t->st.active == 0)
		return;
	v = malloc((size_t)t->st.active * sizeof *v);
	w = malloc((size_t)t->st.active * sizeof *w);
	if (v && w) {
		for (int c = 0; c < TC__COUNT; c++)
			for (mt_flow *f = t->lru[c].head; f; f = f->lnext) {
				v[n].id = f->id;
				v[n++].f = f;
			}
		sorted = sort_by_id(v, w, n);
	}
	if (sorted) {
		/* creation order: the records of a capture come out the same however it was read */
		for (size_t i = 0; i < n; i++)
			end_flow(t, sorted[i].f, MT_FLOW_END_FLUSH);
	} else {
		/* No memory to sort: still deterministic, oldest first per list. */
		for (int c = 0; c < TC__COUNT; c++)
			while (t->lru[c].tail)
				end_flow(t, t->lru[c].tail, MT_FLOW_END_FLUSH);
	}
	free(v);
	free(w);
	t->next_expire_us = UINT64_MAX;
}

void mt_flowtab_mem_add(mt_flowtab *t, int64_t delta)
{
	if (!t)
		return;
	if (delta >= 0) {
		t->st.mem += (uint64_t)delta;
		if (t->st.mem > t->st.mem_peak)
			t->st.mem_peak = t->st.mem;
	} else {
		uint64_t d = (uint64_t)(-(delta + 1)) + 1; /* no overflow at INT64_MIN */

		t->st.mem = t->st.mem > d ? t->st.mem - d : 0;
	}
}

const mt_flow_stats *mt_flowtab_stats(const mt_flowtab *t)
{
	return &t->st;
}

const uint8_t *mt_flow_cli_addr(const mt_flow *f)
{
	return f->cli_is_lo ? f->key.lo : f->key.hi;
}

const uint8_t *mt_flow_srv_addr(const mt_flow *f)
{
	return f->cli_is_lo ? f->key.hi : f->key.lo;
}

uint16_t mt_flow_cli_port(const mt_flow *f)
{
	return f->cli_is_lo ? f->key.lo_port : f->key.hi_port;
}

uint16_t mt_flow_srv_port(const mt_flow *f)
{
	return f->cli_is_lo ? f->key.hi_port : f->key.lo_port;
}

const char *mt_flow_end_reason_name(int reason)
{
	static const char *const names[MT_FLOW_END__COUNT] = {
		[MT_FLOW_END_IDLE] = "idle",
		[MT_FLOW_END_CLOSED] = "closed",
		[MT_FLOW_END_EVICT_FLOWS] = "evict_flows",
		[MT_FLOW_END_EVICT_MEM] = "evict_mem",
		[MT_FLOW_END_FLUSH] = "flush",
	};

	if (reason < 0 || reason >= MT_FLOW_END__COUNT)
		return "unknown";
	return names[reason];
}
