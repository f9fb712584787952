/* dnscache.c - DNS response parsing (bounded, pointer loops refused) and a fixed-size, set-associative address -> name cache with TTLs. */
#include "flow/dnscache.h"

#include <stdlib.h>
#include <string.h>

#include "util/rd.h"

#define DNS_HDR 12u
#define DNS_TYPE_A 1u
#define DNS_TYPE_CNAME 5u
#define DNS_TYPE_AAAA 28u
#define DNS_CLASS_IN 1u
#define DNS_MAX_CHAIN 8u /* CNAME hops walked back to the question */

/*
 * Reads the (possibly compressed) name at *off into out as lower-case text.
 * *off moves past the name as it sits in the record. A pointer must point
 * before the place it was read from, so a name cannot loop; at most
 * MT_DNS_MAX_POINTERS are followed anyway. Label bytes outside printable
 * ASCII, or a '.' inside a label, make the name unusable (-1).
 */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, w = 0, limit = *off;
	unsigned jumps = 0;
	int jumped = 0;

	for (;;) {
		uint8_t l;
		if (pos >= len)
			return -1;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t to;
			if (len - pos < 2)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (!jumped)
				*off = pos + 2;
			jumped = 1;
			if (to >= limit || ++jumps > MT_DNS_MAX_POINTERS)
				return -1;
			limit = to;
			pos = to;
			continue;
		}
		if (l & 0xc0)
			return -1; /* 0x40 / 0x80: extended label types, obsolete */
		if (l == 0) {
			if (!jumped)
				*off = pos + 1;
			break;
		}
		if (len - pos - 1 < l)
			return -1;
		if (w + (w ? 1u : 0u) + l > MT_DNS_NAME_MAX)
			return -1;
		if (w)
			out[w++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = msg[pos + 1 + i];
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[w++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		pos += 1u + l;
	}
	out[w] = '\0';
	return (int)w;
}

struct cname {
	char owner[MT_DNS_NAME_MAX + 1];
	char target[MT_DNS_NAME_MAX + 1];
};

int mt_dnscache_parse(const uint8_t *msg, size_t len, mt_dnscache_answer_fn fn, void *ctx)
{
	static _Thread_local struct cname cn[MT_DNS_MAX_CNAMES];
	char qname[MT_DNS_NAME_MAX + 1], owner[MT_DNS_NAME_MAX + 1];
	unsigned qd, an, ncn = 0, i;
	size_t off = DNS_HDR;
	int found = 0;

	if (len < DNS_HDR || !(msg[2] & 0x80)) /* QR: a response */
		return -1;
	if ((msg[2] & 0x78) != 0 || (msg[3] & 0x0f) != 0) /* standard query, NOERROR */
		return 0;
	qd = (unsigned)msg[4] << 8 | msg[5];
	an = (unsigned)msg[6] << 8 | msg[7];
	if (qd != 1) /* every resolver asks one question per message */
		return qd == 0 ? 0 : -1;
	if (read_name(msg, len, &off, qname) < 0 || len - off < 4)
		return -1;
	off += 4; /* QTYPE, QCLASS */
	if (an > MT_DNS_MAX_RECORDS)
		an = MT_DNS_MAX_RECORDS;
	for (i = 0; i < an; i++) {
		unsigned type, cls, rdlen;
		uint32_t ttl;
		if (read_name(msg, len, &off, owner) < 0 || len - off < 10)
			return -1;
		type = (unsigned)msg[off] << 8 | msg[off + 1];
		cls = (unsigned)msg[off + 2] << 8 | msg[off + 3];
		ttl = (uint32_t)msg[off + 4] << 24 | (uint32_t)msg[off + 5] << 16 |
		      (uint32_t)msg[off + 6] << 8 | msg[off + 7];
		rdlen = (unsigned)msg[off + 8] << 8 | msg[off + 9];
		off += 10;
		if (len - off < rdlen)
			return -1;
		if (ttl > 0x7fffffffu) /* RFC 2181 8: treated as zero */
			ttl = 0;
		if (cls != DNS_CLASS_IN) {
			off += rdlen;
			continue;
		}
		if (type == DNS_TYPE_CNAME) {
			size_t t = off;
			if (ncn < MT_DNS_MAX_CNAMES && read_name(msg, off + rdlen, &t, cn[ncn].target) >= 0) {
				memcpy(cn[ncn].owner, owner, sizeof owner);
				ncn++;
			}
		} else if ((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16)) {
			/* Walk the chain back from the record's owner to the question. */
			const char *name = owner;
			unsigned hops = 0;
			while (strcmp(name, qname) != 0 && hops < DNS_MAX_CHAIN) {
				unsigned k;
				for (k = 0; k < ncn; k++)
					if (strcmp(cn[k].target, name) == 0)
						break;
				if (k == ncn)
					break;
				name = cn[k].owner;
				hops++;
			}
			if (strcmp(name, qname) == 0)
				name = qname;
			fn(ctx, name, type == DNS_TYPE_A ? 4 : 6, msg + off, ttl);
			found++;
		}
		off += rdlen;
	}
	return found;
}

/* ---- the cache ---- */

typedef struct dns_ent {
	uint8_t addr[16];
	uint8_t ipver;     /* 0: empty */
	uint64_t expires_us;
	char name[MT_DNS_NAME_MAX + 1];
} dns_ent;

struct mt_dnscache {
	dns_ent *ent;      /* nsets * MT_DNSCACHE_WAYS */
	uint32_t nsets;    /* power of two */
	uint64_t now_us;   /* of the message being fed */
	mt_dnscache_stats st;
};

mt_dnscache *mt_dnscache_new(uint32_t entries)
{
	mt_dnscache *c;
	uint32_t sets = 1;

	if (entries == 0)
		entries = MT_DNSCACHE_DEFAULT_ENTRIES;
	if (entries > (1u << 24))
		entries = 1u << 24;
	while (sets * MT_DNSCACHE_WAYS < entries)
		sets <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ent = calloc((size_t)sets * MT_DNSCACHE_WAYS, sizeof(*c->ent));
	if (!c->ent) {
		free(c);
		return NULL;
	}
	c->nsets = sets;
	return c;
}

void mt_dnscache_free(mt_dnscache *c)
{
	if (!c)
		return;
	free(c->ent);
	free(c);
}

static uint32_t addr_hash(int ipver, const uint8_t *addr)
{
	uint32_t h = 2166136261u;
	size_t n = ipver == 4 ? 4 : 16;

	for (size_t i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ (h >> 15);
}

static dns_ent *set_of(mt_dnscache *c, int ipver, const uint8_t *addr)
{
	return &c->ent[(size_t)(addr_hash(ipver, addr) & (c->nsets - 1)) * MT_DNSCACHE_WAYS];
}

static int same(const dns_ent *e, int ipver, const uint8_t *addr)
{
	return e->ipver == ipver && memcmp(e->addr, addr, ipver == 4 ? 4 : 16) == 0;
}

static void on_answer(void *ctx, const char *name, int ipver, const uint8_t *addr, uint32_t ttl)
{
	mt_dnscache *c = ctx;
	dns_ent *set = set_of(c, ipver, addr), *victim = NULL;
	size_t nl = strlen(name);

	c->st.answers++;
	if (ttl > MT_DNSCACHE_MAX_TTL_S)
		ttl = MT_DNSCACHE_MAX_TTL_S;
	for (unsigned w = 0; w < MT_DNSCACHE_WAYS; w++) {
		dns_ent *e = &set[w];
		if (same(e, ipver, addr)) {
			victim = e;
			c->st.refreshed++;
			break;
		}
		if (!victim || (victim->ipver && (!e->ipver || e->expires_us < victim->expires_us)))
			victim = e;
	}
	if (!same(victim, ipver, addr)) {
		if (victim->ipver && victim->expires_us > c->now_us)
			c->st.evicted++;
		c->st.inserted++;
		memset(victim->addr, 0, sizeof victim->addr);
		memcpy(victim->addr, addr, ipver == 4 ? 4 : 16);
		victim->ipver = (uint8_t)ipver;
	}
	victim->expires_us = c->now_us + ((uint64_t)ttl + MT_DNSCACHE_GRACE_S) * 1000000u;
	memcpy(victim->name, name, nl + 1);
}

int mt_dnscache_feed(mt_dnscache *c, const uint8_t *msg, size_t len, uint64_t now_us)
{
	int n;

	c->st.responses++;
	c->now_us = now_us;
	n = mt_dnscache_parse(msg, len, on_answer, c);
	if (n < 0)
		c->st.malformed++;
	return n;
}

const char *mt_dnscache_lookup(mt_dnscache *c, int ipver, const uint8_t *addr, uint64_t now_us)
{
	dns_ent *set;

	if (!c || (ipver != 4 && ipver != 6))
		return NULL;
	c->st.lookups++;
	set = set_of(c, ipver, addr);
	for (unsigned w = 0; w < MT_DNSCACHE_WAYS; w++) {
		if (!same(&set[w], ipver, addr))
			continue;
		if (set[w].expires_us < now_us) {
			c->st.expired++;
			return NULL;
		}
		c->st.hits++;
		return set[w].name;
	}
	return NULL;
}

const mt_dnscache_stats *mt_dnscache_stats_get(const mt_dnscache *c)
{
	return &c->st;
}
