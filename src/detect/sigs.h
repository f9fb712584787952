/* sigs.h - the signature files in signatures/: loaded once, validated, looked up read-only. */
#ifndef MT_SIGS_H
#define MT_SIGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Files (all UTF-8 text, '#' starts a comment, blank lines ignored, fields
 * separated by white space; see signatures/README.md):
 *   pool-domains.txt  DOMAIN [COIN]          pool host names, matched by label-aligned suffix
 *   pool-ips.txt      CIDR [COIN] [NAME]     pool addresses (IPv4 or IPv6, with or without /len)
 *   miner-agents.txt  PREFIX FAMILY          miner software: user-agent / subscribe agent prefixes
 *   methods.txt       SET METHOD             JSON-RPC method names per protocol role
 *   p2p-magics.txt    HEX NETWORK COIN       4-byte network magics of Bitcoin-family P2P
 *   ports.txt         PORT PROTO             ports pools commonly use: a prior only, never decisive
 *   webminer-hosts.txt DOMAIN [COIN]         browser-miner script / WebSocket hosts (as pool-domains.txt)
 */

#define MT_SIGS_MAX_LINE 1024
#define MT_SIGS_MAX_ENTRIES 1000000 /* per file */

typedef struct mt_sigs mt_sigs;

typedef struct mt_sigs_magic {
	uint32_t magic;     /* as the 4 bytes read big-endian from the wire (f9beb4d9 = Bitcoin mainnet) */
	char network[32];   /* "bitcoin-mainnet", "litecoin-mainnet" ... */
	char coin[16];      /* "BTC", "LTC" ... */
} mt_sigs_magic;

/*
 * Loads every file of dir (a missing file is an empty list; an unreadable or
 * invalid one is an error). Returns NULL with "FILE:LINE: reason" in err.
 */
mt_sigs *mt_sigs_load(const char *dir, char *err, size_t errlen);

/* Validates dir and prints one "FILE:LINE: reason" line per problem to out. Returns the number of problems (0: valid). */
int mt_sigs_check(const char *dir, FILE *out);

void mt_sigs_free(mt_sigs *s);

/* Entries loaded (all files). */
size_t mt_sigs_count(const mt_sigs *s);

/*
 * Pool domain lookup: host (not NUL-terminated, untrusted) matches an entry
 * when it equals it or ends with "." + entry, case-insensitively, a trailing
 * dot ignored; IDN hosts are matched in their A-label (punycode) form as sent
 * on the wire. Returns the entry matched (the longest) or NULL; *coin gets
 * its coin ("" if none) when coin is non-NULL.
 */
const char *mt_sigs_pool_domain(const mt_sigs *s, const char *host, size_t len,
				const char **coin);

/* The same lookup in webminer-hosts.txt (browser-miner script and WebSocket hosts). */
const char *mt_sigs_webminer_host(const mt_sigs *s, const char *host, size_t len,
				  const char **coin);

/* RFC 3492 Punycode of n code points into out (NUL-terminated); the length or -1. For tests. */
int mt_sigs_punycode(const uint32_t *cp, size_t n, char *out, size_t cap);

/* 1 if addr (4 or 16 bytes by ipver) is in a pool network; *coin as above. */
int mt_sigs_pool_ip(const mt_sigs *s, int ipver, const uint8_t *addr, const char **coin);

/* Miner family ("xmrig", "cgminer" ...) whose prefix begins agent (case-insensitive), or NULL. */
const char *mt_sigs_agent(const mt_sigs *s, const char *agent, size_t len);

/* 1 if method (untrusted bytes) is in the named set ("stratum-client", "cryptonote-client" ...). */
int mt_sigs_method(const mt_sigs *s, const char *set, const char *method, size_t len);

/* The Bitcoin-family network of a magic, or NULL. */
const mt_sigs_magic *mt_sigs_p2p_magic(const mt_sigs *s, uint32_t magic);

/* The protocol commonly served on a port ("stratum", "cryptonote" ...), or NULL: a prior only. */
const char *mt_sigs_port(const mt_sigs *s, uint16_t port);

#endif
