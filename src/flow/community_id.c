/* community_id.c - Community ID v1 flow hash (https://github.com/corelight/community-id-spec). */
#include <errno.h>
#include <string.h>

#include "flow/flow.h"
#include "util/sha1.h"

/* "1:" + base64 of 20 bytes (28 characters) + NUL. */
#define CID_LEN (2 + 28)

/* Protocols whose ports the spec hashes; ICMP (1) and ICMPv6 (58) need a type/code mapping we do not take. */
static int proto_has_ports(uint8_t l4proto)
{
	return l4proto == 6 || l4proto == 17 || l4proto == 132; /* TCP, UDP, SCTP */
}

int mt_community_id(uint8_t ipver, uint8_t l4proto, const uint8_t *saddr,
		    const uint8_t *daddr, uint16_t sport, uint16_t dport,
		    uint16_t seed, char *out, size_t outlen)
{
	/* seed(2) saddr daddr proto(1) pad(1) sport(2) dport(2): at most 2+16+16+1+1+4 bytes. */
	uint8_t buf[40], digest[20];
	const uint8_t *a = saddr, *b = daddr;
	uint16_t pa = sport, pb = dport;
	size_t alen, n = 0;
	int cmp, has_ports;

	if (ipver == 4)
		alen = 4;
	else if (ipver == 6)
		alen = 16;
	else
		return -EINVAL;
	if (!saddr || !daddr || !out || outlen < CID_LEN + 1 || l4proto == 1 || l4proto == 58)
		return -EINVAL;
	has_ports = proto_has_ports(l4proto);
	if (!has_ports)
		pa = pb = 0;

	/* The spec orders the endpoints: smaller address first, ports break a tie. */
	cmp = memcmp(a, b, alen);
	if (cmp > 0 || (cmp == 0 && pa > pb)) {
		a = daddr;
		b = saddr;
		pa = dport;
		pb = sport;
		if (!has_ports)
			pa = pb = 0;
	}

	/* All multi-byte fields in network byte order. */
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, a, alen);
	n += alen;
	memcpy(buf + n, b, alen);
	n += alen;
	buf[n++] = l4proto;
	buf[n++] = 0; /* padding */
	if (has_ports) {
		buf[n++] = (uint8_t)(pa >> 8);
		buf[n++] = (uint8_t)pa;
		buf[n++] = (uint8_t)(pb >> 8);
		buf[n++] = (uint8_t)pb;
	}

	if (mt_sha1_short(buf, n, digest) < 0)
		return -EINVAL;
	out[0] = '1';
	out[1] = ':';
	if (mt_base64(digest, sizeof digest, out + 2, outlen - 2) != CID_LEN - 2)
		return -EINVAL;
	return 0;
}
