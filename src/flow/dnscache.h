/* dnscache.h - addresses named by DNS answers seen on the wire: which name did a client resolve to reach this server? */
#ifndef MT_DNSCACHE_H
#define MT_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

#define MT_DNSCACHE_DEFAULT_ENTRIES 8192u /* addresses remembered (rounded up to a power of two) */
#define MT_DNSCACHE_WAYS 4u               /* set-associative: an address may sit in one of 4 slots */
#define MT_DNSCACHE_GRACE_S 2u            /* kept this long past the TTL: clients connect right after the answer */
#define MT_DNSCACHE_MAX_TTL_S 86400u      /* longer TTLs are cut to a day */
#define MT_DNS_NAME_MAX 253u              /* text form, without the trailing dot (RFC 1035 2.3.4) */
#define MT_DNS_MAX_POINTERS 16u           /* compression pointers followed per name */
#define MT_DNS_MAX_RECORDS 64u            /* answer records read per message */
#define MT_DNS_MAX_CNAMES 16u             /* CNAME records remembered per message */

/* One address an answer gave, attributed to the name the client asked for (the head of its CNAME chain). */
typedef void (*mt_dnscache_answer_fn)(void *ctx, const char *name, int ipver, const uint8_t *addr,
				 uint32_t ttl);

/*
 * Parses a DNS response (RFC 1035 4.1; AAAA: RFC 3596) and calls fn for each
 * A/AAAA record of the answer section. Returns the number of addresses
 * reported, or -1 if msg is not a well-formed response (the records before
 * the error are reported). Names are lower-cased text; compression pointers
 * must point backwards and at most MT_DNS_MAX_POINTERS are followed.
 */
int mt_dnscache_parse(const uint8_t *msg, size_t len, mt_dnscache_answer_fn fn, void *ctx);

typedef struct mt_dnscache_stats {
	uint64_t responses;   /* DNS responses fed */
	uint64_t malformed;   /* of which could not be parsed whole */
	uint64_t answers;     /* A/AAAA records read */
	uint64_t inserted;    /* new addresses */
	uint64_t refreshed;   /* addresses seen again (name and expiry renewed) */
	uint64_t evicted;     /* live entries pushed out by a new one (the cache was full there) */
	uint64_t lookups;
	uint64_t hits;
	uint64_t expired;     /* lookups that found the address past its TTL */
} mt_dnscache_stats;

typedef struct mt_dnscache mt_dnscache;

/* entries: capacity (0: default). NULL on allocation failure. */
mt_dnscache *mt_dnscache_new(uint32_t entries);
void mt_dnscache_free(mt_dnscache *c);

/* Feeds one DNS message (a UDP payload, or a TCP message without its 2-byte length) at packet time now_us. */
int mt_dnscache_feed(mt_dnscache *c, const uint8_t *msg, size_t len, uint64_t now_us);

/* The name that addr (4 or 16 bytes by ipver) was last given for, if its TTL has not run out; else NULL. */
const char *mt_dnscache_lookup(mt_dnscache *c, int ipver, const uint8_t *addr, uint64_t now_us);

const mt_dnscache_stats *mt_dnscache_stats_get(const mt_dnscache *c);

#endif
