/* defrag.c - IPv4 (RFC 791 section 3.2) and IPv6 (RFC 8200 section 4.5) fragment reassembly. */
/*
 * A datagram is keyed by IP version, protocol, identification, addresses and VLAN ids (RFC 791:
 * source, destination, protocol, identification; RFC 8200 adds nothing but the 32-bit id). Its
 * payload is tracked in 8-byte blocks (every fragment but the last carries a multiple of 8
 * bytes): a bitmap says which blocks arrived, so completion, duplicates and overlaps cost one
 * pass over the fragment's blocks. Overlapping data keeps the first copy (as Linux and
 * Suricata's default "first" policy for the IPv4 case do; RFC 5722 even forbids IPv6 overlaps):
 * a fragment that rewrites received bytes with other bytes is counted as an evasion attempt.
 *
 * Bounds: max_datagrams entries, preallocated, in a keyed hash (SipHash, random key, so that
 * crafted ids cannot pile into one chain) and an LRU list by first fragment time; memcap on the
 * buffers, which grow to the highest byte seen; max_frags per datagram (tiny-fragment floods);
 * 65535 bytes per datagram (IPv4's total length, "ping of death"); timeout_s of packet time.
 * Whatever breaks a bound is let go and counted. Nothing is allocated per fragment but the
 * growth of a datagram's buffer.
 */
#include "decode/defrag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/siphash.h"

#define DG_HEAD 64               /* room before the payload for the rebuilt IP header (IPv4: up to 60) */
#define DG_MAX_PAYLOAD 65535u    /* no datagram is longer (IPv4 total length; IPv6 without jumbograms) */
#define DG_BLOCKS ((DG_MAX_PAYLOAD + 7) / 8)

typedef struct dkey {
	uint8_t ipver, proto, nvlan, pad;
	uint32_t id;
	uint16_t vlan[MT_DECODE_MAX_VLAN];
	uint8_t src[16], dst[16];
} dkey;

typedef struct dgram {
	dkey k;
	struct dgram *chain;          /* hash chain */
	struct dgram *older, *newer;  /* LRU by first fragment */
	uint64_t first_us;
	uint8_t *buf;                 /* DG_HEAD bytes, then the payload */
	uint32_t cap;                 /* payload bytes buf can hold */
	uint32_t end;                 /* payload length once the last fragment came, else 0 */
	uint32_t max_end;             /* highest payload byte any fragment reached */
	uint32_t blocks_have;         /* distinct 8-byte blocks received */
	uint16_t nfrags;
	uint8_t hdr_len;              /* first fragment's header length (0: not seen yet) */
	uint8_t hdr[60];              /* first fragment's header */
	uint8_t bits[(DG_BLOCKS + 7) / 8];
} dgram;

struct mt_defrag {
	mt_defrag_cfg cfg;
	uint8_t key[16];
	dgram *pool;
	dgram *free_list;             /* through chain */
	dgram **bucket;
	uint32_t mask;
	dgram *oldest, *newest;
	uint8_t *done_buf;            /* the last completed datagram, handed out until the next call */
	uint32_t done_cap;
	mt_defrag_stats st;
};

void mt_defrag_cfg_default(mt_defrag_cfg *cfg)
{
	cfg->memcap = 16u << 20;
	cfg->max_datagrams = 4096;
	cfg->timeout_s = 30;
	cfg->max_frags = 128;
}

static void mem_add(mt_defrag *d, int64_t delta)
{
	d->st.mem = (uint64_t)((int64_t)d->st.mem + delta);
	if (d->st.mem > d->st.mem_peak)
		d->st.mem_peak = d->st.mem;
}

mt_defrag *mt_defrag_new(const mt_defrag_cfg *cfg, const uint8_t *seed_key)
{
	mt_defrag *d = calloc(1, sizeof *d);
	uint32_t nb = 1;

	if (!d)
		return NULL;
	if (cfg)
		d->cfg = *cfg;
	else
		mt_defrag_cfg_default(&d->cfg);
	if (d->cfg.max_datagrams == 0)
		d->cfg.max_datagrams = 1;
	if (d->cfg.max_datagrams > (1u << 20))
		d->cfg.max_datagrams = 1u << 20;
	if (d->cfg.max_frags == 0)
		d->cfg.max_frags = 1;
	while (nb < d->cfg.max_datagrams * 2u)
		nb <<= 1;
	d->pool = calloc(d->cfg.max_datagrams, sizeof *d->pool);
	d->bucket = calloc(nb, sizeof *d->bucket);
	if (!d->pool || !d->bucket)
		goto err;
	d->mask = nb - 1;
	for (uint32_t i = d->cfg.max_datagrams; i-- > 0;) {
		d->pool[i].chain = d->free_list;
		d->free_list = &d->pool[i];
	}
	if (seed_key) {
		memcpy(d->key, seed_key, sizeof d->key);
	} else {
		size_t got = 0;

		while (got < sizeof d->key) {
			ssize_t n = getrandom(d->key + got, sizeof d->key - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto err;
			got += (size_t)n;
		}
	}
	return d;
err:
	mt_defrag_free(d);
	return NULL;
}

void mt_defrag_free(mt_defrag *d)
{
	if (!d)
		return;
	if (d->pool)
		for (uint32_t i = 0; i < d->cfg.max_datagrams; i++)
			free(d->pool[i].buf);
	free(d->pool);
	free(d->bucket);
	free(d->done_buf);
	free(d);
}

const mt_defrag_stats *mt_defrag_stats_get(const mt_defrag *d)
{
	return &d->st;
}

static uint32_t slot_of(const mt_defrag *d, const dkey *k)
{
	return (uint32_t)mt_siphash24(d->key, k, sizeof *k) & d->mask;
}

static void lru_unlink(mt_defrag *d, dgram *g)
{
	if (g->older)
		g->older->newer = g->newer;
	else
		d->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		d->newest = g->older;
	g->older = g->newer = NULL;
}

/* Lets a datagram go: out of its chain and the LRU, buffer freed, entry back to the pool. */
static void drop(mt_defrag *d, dgram *g)
{
	dgram **pp = &d->bucket[slot_of(d, &g->k)];

	while (*pp && *pp != g)
		pp = &(*pp)->chain;
	if (*pp)
		*pp = g->chain;
	lru_unlink(d, g);
	mem_add(d, -(int64_t)g->cap);
	free(g->buf);
	g->buf = NULL;
	g->cap = 0;
	g->chain = d->free_list;
	d->free_list = g;
	d->st.active--;
}

static void expire(mt_defrag *d, uint64_t now_us)
{
	uint64_t limit = (uint64_t)d->cfg.timeout_s * 1000000u;

	while (d->oldest && now_us > d->oldest->first_us && now_us - d->oldest->first_us > limit) {
		d->st.timeouts++;
		drop(d, d->oldest);
	}
}

static dgram *find_or_make(mt_defrag *d, const dkey *k, uint64_t now_us)
{
	uint32_t s = slot_of(d, k);
	dgram *g;

	for (g = d->bucket[s]; g; g = g->chain)
		if (memcmp(&g->k, k, sizeof *k) == 0)
			return g;
	if (!d->free_list) {
		d->st.evicted++;
		drop(d, d->oldest);
	}
	g = d->free_list;
	d->free_list = g->chain;
	memset(g, 0, offsetof(dgram, bits));
	memset(g->bits, 0, sizeof g->bits);
	g->k = *k;
	g->first_us = now_us;
	g->chain = d->bucket[s];
	d->bucket[s] = g;
	g->older = d->newest;
	if (d->newest)
		d->newest->newer = g;
	else
		d->oldest = g;
	d->newest = g;
	d->st.active++;
	return g;
}

/* Room for payload bytes [0, need): grows the buffer within memcap, evicting the oldest others. */
static int grow(mt_defrag *d, dgram *g, uint32_t need)
{
	uint32_t cap = g->cap ? g->cap : 2048;
	uint8_t *nb;

	if (need <= g->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > DG_MAX_PAYLOAD + 1)
		cap = DG_MAX_PAYLOAD + 1;
	while (d->st.mem + (cap - g->cap) > d->cfg.memcap && d->oldest && d->oldest != g) {
		d->st.evicted++;
		drop(d, d->oldest);
	}
	if (d->st.mem + (cap - g->cap) > d->cfg.memcap)
		return -1;
	nb = realloc(g->buf, DG_HEAD + (size_t)cap);
	if (!nb)
		return -1;
	g->buf = nb;
	mem_add(d, (int64_t)cap - g->cap);
	g->cap = cap;
	return 0;
}

static int bit_get(const dgram *g, uint32_t b)
{
	return (g->bits[b >> 3] >> (b & 7)) & 1;
}

static void bit_set(dgram *g, uint32_t b)
{
	g->bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

/* IPv4 header checksum (RFC 1071) over hl bytes with the checksum field zero. */
static uint16_t ip_csum(const uint8_t *h, unsigned hl)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i + 1 < hl; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The whole datagram into done_buf: the first fragment's header, rewritten as unfragmented, then the payload. */
static int complete(mt_defrag *d, dgram *g, mt_defrag_dgram *out)
{
	uint32_t len = g->hdr_len + g->end;
	uint8_t *h;

	if (len > d->done_cap) {
		uint8_t *nb = realloc(d->done_buf, len);

		if (!nb)
			return -1;
		d->done_buf = nb;
		d->done_cap = len;
	}
	h = d->done_buf;
	memcpy(h, g->hdr, g->hdr_len);
	memcpy(h + g->hdr_len, g->buf + DG_HEAD, g->end);
	if (g->k.ipver == 4) {
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		h[6] &= 0x40; /* keep DF; MF and the offset go */
		h[7] = 0;
		h[10] = h[11] = 0;
		{
			uint16_t c = ip_csum(h, g->hdr_len);

			h[10] = (uint8_t)(c >> 8);
			h[11] = (uint8_t)c;
		}
	} else {
		h[4] = (uint8_t)(g->end >> 8);
		h[5] = (uint8_t)g->end;
		h[6] = g->k.proto; /* the fragment header and what preceded it are gone */
	}
	out->ip = h;
	out->len = len;
	out->nvlan = g->k.nvlan;
	memcpy(out->vlan, g->k.vlan, sizeof out->vlan);
	return 0;
}

int mt_defrag_add(mt_defrag *d, const mt_frag *f, uint64_t now_us, mt_defrag_dgram *out)
{
	dkey k;
	dgram *g;
	uint32_t first_b, last_b, fend;
	int overlap = 0, differs = 0;

	if (!d || !f || !out || (f->ipver != 4 && f->ipver != 6))
		return 0;
	d->st.fragments++;
	expire(d, now_us);
	if (f->truncated) {
		d->st.truncated++;
		return 0;
	}
	fend = f->offset + f->data_len;
	if (fend > DG_MAX_PAYLOAD || f->hdr_len > sizeof g->hdr || (f->ipver == 6 && f->hdr_len != 40) ||
	    (f->more && (f->data_len == 0 || f->data_len % 8 != 0)) || f->offset % 8 != 0) {
		d->st.bad++;
		return 0;
	}
	memset(&k, 0, sizeof k);
	k.ipver = f->ipver;
	k.proto = f->proto;
	k.nvlan = f->nvlan > MT_DECODE_MAX_VLAN ? MT_DECODE_MAX_VLAN : f->nvlan;
	k.id = f->id;
	memcpy(k.vlan, f->vlan, sizeof k.vlan);
	memcpy(k.src, f->src, 16);
	memcpy(k.dst, f->dst, 16);
	g = find_or_make(d, &k, now_us);
	if (++g->nfrags > d->cfg.max_frags) {
		d->st.too_many++;
		drop(d, g);
		return 0;
	}
	if (!f->more) {
		/* the last fragment fixes the length: data past it, or another end, is a lie */
		if ((g->end && g->end != fend) || g->max_end > fend) {
			d->st.bad++;
			drop(d, g);
			return 0;
		}
		g->end = fend;
	} else if (g->end && fend > g->end) {
		d->st.bad++;
		drop(d, g);
		return 0;
	}
	if (fend > g->max_end)
		g->max_end = fend;
	if (f->offset == 0 && !g->hdr_len) {
		memcpy(g->hdr, f->hdr, f->hdr_len);
		g->hdr_len = (uint8_t)f->hdr_len;
	}
	if (f->data_len) {
		if (grow(d, g, fend) != 0) {
			d->st.evicted++;
			drop(d, g);
			return 0;
		}
		first_b = f->offset / 8;
		last_b = (fend + 7) / 8; /* one past */
		for (uint32_t b = first_b; b < last_b; b++) {
			uint32_t from = b * 8, to = from + 8 < fend ? from + 8 : fend;
			uint8_t *dst = g->buf + DG_HEAD + from;
			const uint8_t *src = f->data + (from - f->offset);

			if (bit_get(g, b)) {
				overlap = 1;
				if (memcmp(dst, src, to - from) != 0)
					differs = 1;
				continue;
			}
			memcpy(dst, src, to - from);
			bit_set(g, b);
			g->blocks_have++;
		}
	}
	if (overlap)
		d->st.overlaps++;
	if (differs)
		d->st.overlap_diff++;
	if (!g->end || !g->hdr_len || g->blocks_have != (g->end + 7) / 8)
		return 0;
	/* every block below the end is here (blocks past the end were refused above) */
	if (complete(d, g, out) != 0) {
		drop(d, g);
		return 0;
	}
	d->st.reassembled++;
	drop(d, g);
	return 1;
}
