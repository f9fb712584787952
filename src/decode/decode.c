/* decode.c - one captured frame: link header, VLAN/MPLS/PPPoE, IPv4/IPv6, tunnels (IP-in-IP, GRE, ERSPAN, VXLAN, Geneve, GTP-U) and TCP/UDP. */
#include "decode/decode.h"

#include <stddef.h>
#include <string.h>

#include "util/rd.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* IEEE 802 ethertypes (IANA "IEEE 802 Numbers"). */
enum {
	ET_IPV4 = 0x0800,
	ET_IPV6 = 0x86dd,
	ET_8021Q = 0x8100,        /* IEEE 802.1Q customer tag */
	ET_8021AD = 0x88a8,       /* IEEE 802.1ad service tag (QinQ) */
	ET_QINQ_LEGACY = 0x9100,  /* pre-802.1ad QinQ, still seen from older switches */
	ET_MPLS_UC = 0x8847,      /* RFC 3032 section 5 */
	ET_MPLS_MC = 0x8848,
	ET_PPPOE_SESSION = 0x8864, /* RFC 2516; discovery (0x8863) falls to "non IP" */
	ET_TEB = 0x6558,          /* transparent Ethernet bridging: Ethernet in GRE or Geneve */
	ET_ERSPAN_2 = 0x88be,     /* ERSPAN type II (type I: the same without the GRE sequence) */
	ET_ERSPAN_3 = 0x22eb,
	ET_PPP = 0x880b           /* PPP in enhanced GRE (PPTP, RFC 2637) */
};

/* IP protocol numbers of the tunnels we open (IANA "Assigned Internet Protocol Numbers"). */
enum { IP_IPIP = 4, IP_IPV6 = 41, IP_GRE = 47 };

/* PPP DLL protocol numbers (RFC 1332 for IPv4, RFC 5072 for IPv6). */
enum { PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057 };

/* IPv6 next-header values we walk (RFC 8200 section 4, IANA "IPv6 Extension Header Types"). */
enum {
	NH_HOPOPT = 0,
	NH_TCP = 6,
	NH_UDP = 17,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_DSTOPTS = 60,
	NH_MOBILITY = 135, /* RFC 6275 section 6.1 */
	NH_HIP = 139,      /* RFC 7401 section 5.1 */
	NH_SHIM6 = 140     /* RFC 5533 section 5 */
};

/*
 * Internal result of every step: 0 = go on (or, at the end, a TCP/UDP
 * packet), negative = error reason, positive = "other" class. One place
 * (mt_decode_frame) turns it into counters.
 */
#define DEC_OK 0
#define DEC_ERR(r) (-1 - (int)(r))
#define DEC_OTHER(o) (1 + (int)(o))

typedef struct dec_state {
	mt_rd r;           /* what is left of the layer being decoded */
	uint32_t miss;     /* bytes of this layer that were on the wire but past the snap length */
	uint8_t ipver;
	uint8_t l4proto;
	uint8_t nvlan;
	uint16_t vlan[MT_DECODE_MAX_VLAN];
	const uint8_t *l3;
	uint32_t l3_len;
	const uint8_t *src, *dst; /* 4 or 16 bytes, by ipver */
	mt_frag *frag;     /* where to describe a fragment, or NULL */
	uint8_t ntun;      /* tunnels opened */
	uint8_t tun;       /* bit per enum mt_dec_tunnel opened */
} dec_state;

/* Only after a length check: the caller proved the bytes are there. */
static inline uint16_t ld_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t ld_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The next n bytes of the current layer, or NULL if fewer were captured (no advance). */
static inline const uint8_t *dec_peek(const mt_rd *r, size_t n)
{
	if (r->err || r->len - r->off < n)
		return NULL;
	return r->p + r->off;
}

/*
 * Narrows the current layer to its declared length n. The part of n past
 * the captured bytes must fit in what the wire length says the snap length
 * cut off; otherwise the length field lies and -1 is returned.
 */
static inline int dec_bound(dec_state *s, uint32_t n)
{
	size_t left = mt_rd_left(&s->r);

	if (n > left) {
		if (n - left > s->miss)
			return -1;
		s->miss = (uint32_t)(n - left);
		n = (uint32_t)left;
	} else {
		s->miss = 0;
	}
	s->r = mt_rd_sub(&s->r, n);
	return 0;
}

/* BSD/Linux address-family values of the NULL and LOOP link types (tcpdump.org linktypes). */
static inline uint16_t af_ethertype(uint32_t af)
{
	switch (af) {
	case 2: /* AF_INET everywhere */
		return ET_IPV4;
	case 10: /* Linux */
	case 24: /* NetBSD, OpenBSD, BSD/OS */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* Darwin */
		return ET_IPV6;
	default:
		return 0; /* not an ethertype we decode: "non IP" */
	}
}

/* Strips the link header; *et says what follows, as an ethertype. */
static int dec_link(dec_state *s, int linktype, uint16_t *et)
{
	mt_rd *r = &s->r;
	const uint8_t *h;
	uint32_t af;

	switch (linktype) {
	case MT_LINK_ETHERNET:
		/* dst(6) src(6) type(2); a type below 0x600 is an 802.3 length: non IP below */
		if (!(h = mt_rd_ptr(r, 14)))
			return DEC_ERR(MT_DEC_LINK_TRUNC);
		*et = ld_be16(h + 12);
		return DEC_OK;
	case MT_LINK_LINUX_SLL:
		/* LINKTYPE_LINUX_SLL: pkttype(2) hatype(2) halen(2) addr(8) protocol(2) */
		if (!(h = mt_rd_ptr(r, 16)))
			return DEC_ERR(MT_DEC_LINK_TRUNC);
		*et = ld_be16(h + 14);
		return DEC_OK;
	case MT_LINK_LINUX_SLL2:
		/* LINKTYPE_LINUX_SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8) */
		if (!(h = mt_rd_ptr(r, 20)))
			return DEC_ERR(MT_DEC_LINK_TRUNC);
		*et = ld_be16(h);
		return DEC_OK;
	case MT_LINK_NULL:
	case MT_LINK_LOOP:
		if (!(h = mt_rd_ptr(r, 4)))
			return DEC_ERR(MT_DEC_LINK_TRUNC);
		af = ld_be32(h);
		/*
		 * NULL is in the writer's byte order: AF values are small, so
		 * a big value means a little-endian writer.
		 */
		if (linktype == MT_LINK_NULL && af > 0xffff)
			af = (uint32_t)h[0] | ((uint32_t)h[1] << 8) | ((uint32_t)h[2] << 16) |
			     ((uint32_t)h[3] << 24);
		*et = af_ethertype(af);
		return DEC_OK;
	case MT_LINK_RAW:
		if (!(h = dec_peek(r, 1)))
			return DEC_ERR(MT_DEC_LINK_TRUNC);
		switch (h[0] >> 4) {
		case 4:
			*et = ET_IPV4;
			return DEC_OK;
		case 6:
			*et = ET_IPV6;
			return DEC_OK;
		default:
			/* raw IP carries nothing else: a bad IP version */
			return DEC_ERR(MT_DEC_IPV4_BAD_VERSION);
		}
	case MT_LINK_IPV4:
		*et = ET_IPV4;
		return DEC_OK;
	case MT_LINK_IPV6:
		*et = ET_IPV6;
		return DEC_OK;
	default:
		return DEC_ERR(MT_DEC_LINK_UNSUPPORTED);
	}
}

/*
 * Walks VLAN tags, MPLS labels and a PPPoE session header until an IP
 * header; sets s->ipver. Every tag, label and PPPoE header is one layer of
 * MT_DECODE_MAX_ENCAP.
 */
static int dec_encap(dec_state *s, uint16_t et)
{
	mt_rd *r = &s->r;
	const uint8_t *h;
	unsigned layers = 0;

	for (;;) {
		switch (et) {
		case ET_IPV4:
			s->ipver = 4;
			return DEC_OK;
		case ET_IPV6:
			s->ipver = 6;
			return DEC_OK;
		case ET_8021Q:
		case ET_8021AD:
		case ET_QINQ_LEGACY:
			/* IEEE 802.1Q 9.6: TCI = PCP(3) DEI(1) VID(12), then the inner type */
			if (++layers > MT_DECODE_MAX_ENCAP)
				return DEC_ERR(MT_DEC_ENCAP_TOO_DEEP);
			if (!(h = mt_rd_ptr(r, 4)))
				return DEC_ERR(MT_DEC_VLAN_TRUNC);
			if (s->nvlan < MT_DECODE_MAX_VLAN)
				s->vlan[s->nvlan] = ld_be16(h) & 0x0fff;
			s->nvlan++; /* at most MT_DECODE_MAX_ENCAP, fits in uint8_t */
			et = ld_be16(h + 2);
			break;
		case ET_MPLS_UC:
		case ET_MPLS_MC:
			/* RFC 3032 2.1: label(20) TC(3) S(1) TTL(8); S marks the bottom of the stack */
			do {
				if (++layers > MT_DECODE_MAX_ENCAP)
					return DEC_ERR(MT_DEC_ENCAP_TOO_DEEP);
				if (!(h = mt_rd_ptr(r, 4)))
					return DEC_ERR(MT_DEC_MPLS_TRUNC);
			} while (!(h[2] & 0x01));
			/* MPLS does not say what it carries: guess from the IP version nibble */
			if (!(h = dec_peek(r, 1)))
				return DEC_ERR(MT_DEC_MPLS_TRUNC);
			switch (h[0] >> 4) {
			case 4:
				s->ipver = 4;
				return DEC_OK;
			case 6:
				s->ipver = 6;
				return DEC_OK;
			default: /* pseudowire control word, Ethernet over MPLS, ... */
				return DEC_OTHER(MT_OTHER_NON_IP);
			}
		case ET_PPPOE_SESSION: {
			uint16_t plen, proto;

			/* RFC 2516 section 4: ver(4)=1 type(4)=1 code(8)=0 session(16) length(16), then PPP */
			if (++layers > MT_DECODE_MAX_ENCAP)
				return DEC_ERR(MT_DEC_ENCAP_TOO_DEEP);
			if (!(h = mt_rd_ptr(r, 8)))
				return DEC_ERR(MT_DEC_PPPOE_TRUNC);
			plen = ld_be16(h + 4);
			/* the length covers the 2-byte PPP protocol (RFC 2516 7: no PFC) */
			if (h[0] != 0x11 || h[1] != 0 || plen < 2)
				return DEC_ERR(MT_DEC_PPPOE_BAD);
			if (dec_bound(s, plen - 2u) != 0)
				return DEC_ERR(MT_DEC_PPPOE_BAD);
			proto = ld_be16(h + 6);
			if (proto == PPP_IPV4) {
				s->ipver = 4;
				return DEC_OK;
			}
			if (proto == PPP_IPV6) {
				s->ipver = 6;
				return DEC_OK;
			}
			return DEC_OTHER(MT_OTHER_NON_IP); /* LCP, IPCP, CHAP, ... */
		}
		default:
			/* ARP, LLDP, PPPoE discovery, and 802.3 length fields (< 0x600) */
			return DEC_OTHER(MT_OTHER_NON_IP);
		}
	}
}

/* RFC 791 section 3.1. Leaves the reader on the transport header. */
static int dec_ipv4(dec_state *s)
{
	const uint8_t *h;
	unsigned hl;
	uint16_t tot;

	if (!(h = dec_peek(&s->r, 20)))
		return DEC_ERR(MT_DEC_IPV4_TRUNC);
	if ((h[0] >> 4) != 4)
		return DEC_ERR(MT_DEC_IPV4_BAD_VERSION);
	hl = (h[0] & 0x0fu) * 4u;
	if (hl < 20)
		return DEC_ERR(MT_DEC_IPV4_BAD_IHL);
	if (!dec_peek(&s->r, hl))
		return DEC_ERR(MT_DEC_IPV4_TRUNC);
	tot = ld_be16(h + 2);
	if (tot < hl)
		return DEC_ERR(MT_DEC_IPV4_BAD_LEN);
	/* trims Ethernet padding; a length past the wire length is a lie */
	if (dec_bound(s, tot) != 0)
		return DEC_ERR(MT_DEC_IPV4_LEN_EXCEEDS);
	s->l3 = h;
	s->l3_len = (uint32_t)s->r.len;
	/* MF set or a fragment offset: reassembled by the caller (decode/defrag.c), if it wants */
	if (ld_be16(h + 6) & 0x3fff) {
		if (s->frag) {
			mt_frag *fr = s->frag;

			fr->ipver = 4;
			fr->proto = h[9];
			fr->more = (ld_be16(h + 6) & 0x2000) != 0;
			fr->truncated = s->miss != 0;
			fr->id = ld_be16(h + 4);
			fr->offset = (uint32_t)(ld_be16(h + 6) & 0x1fff) * 8u;
			memset(fr->src, 0, sizeof fr->src);
			memset(fr->dst, 0, sizeof fr->dst);
			memcpy(fr->src, h + 12, 4);
			memcpy(fr->dst, h + 16, 4);
			fr->hdr = h;
			fr->hdr_len = hl;
			fr->data = h + hl;
			fr->data_len = (uint32_t)s->r.len - hl;
		}
		return DEC_OTHER(MT_OTHER_IPV4_FRAGMENT);
	}
	s->src = h + 12;
	s->dst = h + 16;
	s->l4proto = h[9];
	s->r.off = hl;
	return DEC_OK;
}

/* RFC 8200 sections 3 and 4. Leaves the reader on the transport header. */
static int dec_ipv6(dec_state *s)
{
	const uint8_t *h, *e;
	uint16_t plen;
	uint8_t nh;
	size_t elen;
	unsigned n;

	if (!(h = dec_peek(&s->r, 40)))
		return DEC_ERR(MT_DEC_IPV6_TRUNC);
	if ((h[0] >> 4) != 6)
		return DEC_ERR(MT_DEC_IPV6_BAD_VERSION);
	plen = ld_be16(h + 4);
	nh = h[6];
	/* a jumbogram (RFC 2675) has no length here: we do not follow it */
	if (plen == 0 && nh == NH_HOPOPT)
		return DEC_ERR(MT_DEC_IPV6_TRUNC);
	if (dec_bound(s, 40u + plen) != 0)
		return DEC_ERR(MT_DEC_IPV6_TRUNC);
	s->l3 = h;
	s->l3_len = (uint32_t)s->r.len;
	s->src = h + 8;
	s->dst = h + 24;
	s->r.off = 40;

	for (n = 0;; n++) {
		switch (nh) {
		case NH_TCP:
		case NH_UDP:
		case IP_IPIP:
		case IP_IPV6:
		case IP_GRE:
			s->l4proto = nh;
			return DEC_OK;
		case NH_HOPOPT:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_MOBILITY:
		case NH_HIP:
		case NH_SHIM6:
		case NH_AH:
		case NH_FRAGMENT:
			break;
		default:
			/* ICMPv6, ESP (50), no next header (59), ... */
			return DEC_OTHER(MT_OTHER_OTHER_L4);
		}
		if (n >= MT_DECODE_MAX_EXTHDR)
			return DEC_ERR(MT_DEC_IPV6_EXTHDR_TOO_MANY);
		if (!(e = dec_peek(&s->r, 2)))
			return DEC_ERR(MT_DEC_IPV6_EXTHDR_TRUNC);
		if (nh == NH_FRAGMENT)
			elen = 8; /* RFC 8200 4.5 */
		else if (nh == NH_AH)
			elen = ((size_t)e[1] + 2) * 4; /* RFC 4302 2.2: 32-bit words minus 2 */
		else
			elen = ((size_t)e[1] + 1) * 8; /* 8-octet units, not counting the first 8 */
		if (!dec_peek(&s->r, elen))
			return DEC_ERR(MT_DEC_IPV6_EXTHDR_TRUNC);
		/* offset(13) res(2) M(1): only an atomic fragment (RFC 6946) goes on */
		if (nh == NH_FRAGMENT && (ld_be16(e + 2) & 0xfff9)) {
			if (s->frag) {
				/* the fragmentable part follows the 8-byte fragment header (RFC 8200 4.5);
				 * what precedes it (hop-by-hop, routing) is not needed to read the packet */
				mt_frag *fr = s->frag;

				fr->ipver = 6;
				fr->proto = e[0];
				fr->more = ld_be16(e + 2) & 1;
				fr->truncated = s->miss != 0;
				fr->id = ld_be32(e + 4);
				fr->offset = ld_be16(e + 2) & 0xfff8u;
				memcpy(fr->src, h + 8, 16);
				memcpy(fr->dst, h + 24, 16);
				fr->hdr = h;
				fr->hdr_len = 40;
				fr->data = e + 8;
				fr->data_len = (uint32_t)(s->r.len - s->r.off - 8);
			}
			return DEC_OTHER(MT_OTHER_IPV6_FRAGMENT);
		}
		nh = e[0];
		s->r.off += elen;
	}
}

/* ---- tunnels ------------------------------------------------------------ */

/* The rest of the current layer becomes the next layer (a tunnel's payload). */
static int tun_open(dec_state *s, int kind)
{
	if (++s->ntun > MT_DECODE_MAX_TUNNEL)
		return DEC_ERR(MT_DEC_TUNNEL_TOO_DEEP);
	s->tun |= (uint8_t)(1u << kind);
	s->r = mt_rd_sub(&s->r, mt_rd_left(&s->r));
	return DEC_OK;
}

/* An IP packet with no type field before it (GTP-U, ERSPAN III frame type IP): its version nibble says. */
static int tun_ip_by_version(dec_state *s, uint16_t *et)
{
	const uint8_t *h = dec_peek(&s->r, 1);

	if (!h)
		return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
	switch (h[0] >> 4) {
	case 4:
		*et = ET_IPV4;
		return DEC_OK;
	case 6:
		*et = ET_IPV6;
		return DEC_OK;
	default:
		return DEC_OTHER(MT_OTHER_NON_IP);
	}
}

/* PPP in PPTP's GRE (RFC 1661 section 2; address/control and protocol compression, RFC 1661 6.5 and 6.6). */
static int tun_ppp(dec_state *s, uint16_t *et)
{
	const uint8_t *h = dec_peek(&s->r, 2);
	uint16_t proto;

	if (!mt_rd_left(&s->r))
		return DEC_OTHER(MT_OTHER_NON_IP); /* an acknowledgement alone carries no packet */
	if (h && h[0] == 0xff && h[1] == 0x03)
		s->r.off += 2;
	if (!(h = dec_peek(&s->r, 1)))
		return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
	if (h[0] & 1) { /* a compressed (one-byte) protocol field is odd */
		proto = h[0];
		s->r.off += 1;
	} else {
		if (!(h = dec_peek(&s->r, 2)))
			return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
		proto = ld_be16(h);
		s->r.off += 2;
	}
	if (proto == PPP_IPV4)
		*et = ET_IPV4;
	else if (proto == PPP_IPV6)
		*et = ET_IPV6;
	else
		return DEC_OTHER(MT_OTHER_NON_IP); /* LCP, CCP, MPPE-encrypted data ... */
	return DEC_OK;
}

/*
 * GRE (RFC 2784, keys and sequence numbers RFC 2890; version 1 is PPTP's enhanced GRE, RFC 2637
 * section 4.1), and the ERSPAN headers it may carry (draft-foschiano-erspan-03: type II is
 * version 1 with a GRE sequence number, type III version 2). On DEC_OK *et says what follows.
 */
static int tun_gre(dec_state *s, uint16_t *et)
{
	const uint8_t *h = dec_peek(&s->r, 4);
	unsigned ver;
	size_t hl = 4;
	uint16_t proto;
	int rc;

	if (!h)
		return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
	ver = h[1] & 0x07;
	proto = ld_be16(h + 2);
	if (h[0] & 0x40) /* RFC 1701 source routing: variable, deprecated */
		return DEC_ERR(MT_DEC_GRE_BAD);
	if (ver == 0) {
		hl += (h[0] & 0x80) ? 4 : 0; /* checksum and reserved */
		hl += (h[0] & 0x20) ? 4 : 0; /* key */
		hl += (h[0] & 0x10) ? 4 : 0; /* sequence number */
	} else if (ver == 1) {
		if (!(h[0] & 0x20) || proto != ET_PPP) /* the key (payload length, call id) is mandatory */
			return DEC_ERR(MT_DEC_GRE_BAD);
		hl += 4;
		hl += (h[0] & 0x10) ? 4 : 0; /* sequence number */
		hl += (h[1] & 0x80) ? 4 : 0; /* acknowledgement number */
	} else {
		return DEC_ERR(MT_DEC_GRE_BAD);
	}
	if (!dec_peek(&s->r, hl))
		return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
	s->r.off += hl;
	if (ver == 1) {
		if ((rc = tun_open(s, MT_TUN_PPTP)) != DEC_OK)
			return rc;
		return tun_ppp(s, et);
	}
	if ((rc = tun_open(s, MT_TUN_GRE)) != DEC_OK)
		return rc;
	switch (proto) {
	case ET_TEB:
		return dec_link(s, MT_LINK_ETHERNET, et);
	case ET_ERSPAN_2: {
		const uint8_t *e;

		if ((rc = tun_open(s, MT_TUN_ERSPAN)) != DEC_OK)
			return rc;
		if (!(h[0] & 0x10)) /* type I: the mirrored frame right after GRE */
			return dec_link(s, MT_LINK_ETHERNET, et);
		/* type II: ver(4)=1 vlan(12) cos(3) en(2) t(1) session(10) reserved(12) index(20) */
		if (!(e = mt_rd_ptr(&s->r, 8)))
			return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
		if ((e[0] >> 4) != 1)
			return DEC_ERR(MT_DEC_GRE_BAD);
		return dec_link(s, MT_LINK_ETHERNET, et);
	}
	case ET_ERSPAN_3: {
		const uint8_t *e;
		uint16_t w;

		if ((rc = tun_open(s, MT_TUN_ERSPAN)) != DEC_OK)
			return rc;
		/* ver(4)=2 vlan(12) cos(3) bso(2) t(1) session(10), timestamp(32),
		 * sgt(16) p(1) ft(5) hw id(6) d(1) gra(2) o(1), then 8 bytes of platform data if o */
		if (!(e = mt_rd_ptr(&s->r, 12)))
			return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
		if ((e[0] >> 4) != 2)
			return DEC_ERR(MT_DEC_GRE_BAD);
		w = ld_be16(e + 10);
		if ((w & 1) && !mt_rd_ptr(&s->r, 8))
			return DEC_ERR(MT_DEC_TUNNEL_TRUNC);
		switch ((w >> 10) & 0x1f) {
		case 0: /* Ethernet */
			return dec_link(s, MT_LINK_ETHERNET, et);
		case 2: /* IP */
			return tun_ip_by_version(s, et);
		default:
			return DEC_OTHER(MT_OTHER_NON_IP);
		}
	}
	default:
		*et = proto; /* IPv4, IPv6, MPLS, VLAN ... as after an Ethernet header */
		return DEC_OK;
	}
}

/*
 * VXLAN (RFC 7348 section 5), Geneve (RFC 8926 section 3.4) and GTP-U G-PDUs (3GPP TS 29.281
 * section 5) on their UDP ports. Returns 1 when the UDP payload is not such a header (the packet
 * stays plain UDP, s untouched), else DEC_OK with *et or an error of the inner layers.
 */
static int tun_udp(dec_state *s, uint16_t *et)
{
	const uint8_t *u = dec_peek(&s->r, 8), *h;
	uint16_t dport, ulen;
	dec_state t;
	int rc;

	if (!u)
		return 1;
	dport = ld_be16(u + 2);
	if (likely(dport != MT_DECODE_PORT_VXLAN && dport != MT_DECODE_PORT_GENEVE && dport != MT_DECODE_PORT_GTPU))
		return 1;
	t = *s; /* the UDP packet stays as it is unless a tunnel header is there */
	ulen = ld_be16(u + 4);
	if (ulen < 8)
		return 1;
	t.r.off += 8;
	if (dec_bound(&t, ulen - 8u) != 0)
		return 1; /* dec_l4 will say what is wrong with this UDP header */
	if (dport == MT_DECODE_PORT_VXLAN) {
		/* flags(8) with I (0x08) set, reserved(24), VNI(24), reserved(8) */
		if (!(h = dec_peek(&t.r, 8)) || !(h[0] & 0x08))
			return 1;
		t.r.off += 8;
		if ((rc = tun_open(&t, MT_TUN_VXLAN)) == DEC_OK)
			rc = dec_link(&t, MT_LINK_ETHERNET, et);
	} else if (dport == MT_DECODE_PORT_GENEVE) {
		size_t hl;
		uint16_t proto;

		/* ver(2)=0 opt len(6, 4-byte words) o(1) c(1) rsvd(6) protocol(16) VNI(24) rsvd(8), options */
		if (!(h = dec_peek(&t.r, 8)) || (h[0] >> 6) != 0)
			return 1;
		hl = 8 + (size_t)(h[0] & 0x3f) * 4;
		proto = ld_be16(h + 2);
		if (!dec_peek(&t.r, hl))
			return 1;
		t.r.off += hl;
		if ((rc = tun_open(&t, MT_TUN_GENEVE)) == DEC_OK) {
			if (proto == ET_TEB)
				rc = dec_link(&t, MT_LINK_ETHERNET, et);
			else
				*et = proto;
		}
	} else {
		uint16_t glen;
		size_t off;
		uint8_t next;

		/* version(3)=1 PT(1)=1 spare(1) E S PN, type(8) = 255 G-PDU, length(16) after these
		 * 8 bytes, TEID(32); with E, S or PN: sequence(16) N-PDU(8) next extension type(8) */
		if (!(h = dec_peek(&t.r, 8)) || (h[0] >> 4) != 0x3 || h[1] != 0xff)
			return 1;
		glen = ld_be16(h + 2);
		t.r.off += 8;
		if (dec_bound(&t, glen) != 0)
			return 1;
		off = 0;
		if (h[0] & 0x07) {
			const uint8_t *x = dec_peek(&t.r, 4);
			unsigned n = 0;

			if (!x)
				return 1;
			next = x[3];
			off = 4;
			/* extension headers: length(8, 4-byte units) ... next type(8) (29.281 5.2.1) */
			while (next) {
				if (++n > MT_DECODE_MAX_EXTHDR)
					return 1;
				if (!(x = dec_peek(&t.r, off + 1)) || x[off] == 0)
					return 1;
				if (!(x = dec_peek(&t.r, off + (size_t)x[off] * 4)))
					return 1;
				off += (size_t)x[off] * 4;
				next = x[off - 1];
			}
		}
		t.r.off += off;
		if ((rc = tun_open(&t, MT_TUN_GTPU)) == DEC_OK)
			rc = tun_ip_by_version(&t, et);
	}
	*s = t;
	return rc;
}

/* RFC 9293 3.1 (TCP) and RFC 768 (UDP). Fills *o, the only place that writes it. */
static int dec_l4(dec_state *s, mt_pkt *o)
{
	const mt_rd *r = &s->r;
	const uint8_t *h, *pay;
	size_t left = mt_rd_left(r);
	uint32_t paylen;
	uint8_t trunc;

	if (s->l4proto == NH_TCP) {
		unsigned doff;

		if (!(h = dec_peek(r, 20)))
			return DEC_ERR(MT_DEC_TCP_TRUNC);
		doff = (h[12] >> 4) * 4u;
		if (doff < 20 || doff > left + s->miss)
			return DEC_ERR(MT_DEC_TCP_BAD_OFFSET);
		if (doff <= left) {
			pay = h + doff;
			paylen = (uint32_t)(left - doff);
			trunc = s->miss != 0;
		} else {
			/* the snap length cut the options: ports and flags still count */
			pay = h + left;
			paylen = 0;
			trunc = 1;
		}
		o->tcp_flags = h[13];
		o->seq = ld_be32(h + 4);
		o->ack = ld_be32(h + 8);
		o->win = ld_be16(h + 14);
	} else {
		uint16_t ulen;

		if (!(h = dec_peek(r, 8)))
			return DEC_ERR(MT_DEC_UDP_TRUNC);
		ulen = ld_be16(h + 4);
		if (ulen < 8 || ulen > left + s->miss)
			return DEC_ERR(MT_DEC_UDP_BAD_LEN);
		pay = h + 8;
		if (ulen <= left) {
			paylen = ulen - 8u;
			trunc = 0;
		} else {
			paylen = (uint32_t)(left - 8);
			trunc = 1;
		}
		o->tcp_flags = 0;
		o->seq = 0;
		o->ack = 0;
		o->win = 0;
	}
	o->sport = ld_be16(h);
	o->dport = ld_be16(h + 2);
	o->payload = pay;
	o->payload_len = paylen;
	o->truncated = trunc;
	o->ipver = s->ipver;
	o->l4proto = s->l4proto;
	o->l3 = s->l3;
	o->l3_len = s->l3_len;
	if (s->ipver == 4) {
		memcpy(o->src, s->src, 4);
		memset(o->src + 4, 0, 12);
		memcpy(o->dst, s->dst, 4);
		memset(o->dst + 4, 0, 12);
	} else {
		memcpy(o->src, s->src, 16);
		memcpy(o->dst, s->dst, 16);
	}
	o->nvlan = s->nvlan;
	memcpy(o->vlan, s->vlan, sizeof o->vlan);
	return DEC_OK;
}

static int dec_all(int linktype, const uint8_t *frame, uint32_t cap_len, uint32_t wire_len,
		   mt_pkt *out, uint8_t *tun, mt_frag *frag, uint8_t nvlan, const uint16_t *vlan)
{
	dec_state s;
	uint16_t et = 0;
	int rc;

	mt_rd_init(&s.r, frame, cap_len);
	s.miss = wire_len > cap_len ? wire_len - cap_len : 0;
	s.nvlan = nvlan;
	memset(s.vlan, 0, sizeof s.vlan);
	if (vlan)
		memcpy(s.vlan, vlan, sizeof s.vlan);
	s.frag = frag;
	if (frag) {
		frag->ipver = 0;
		frag->nvlan = 0;
	}

	s.ntun = 0;
	s.tun = 0;
	*tun = 0;

	rc = dec_link(&s, linktype, &et);
	/* each pass: encapsulations, one IP header, and the tunnel it may open */
	while (rc == DEC_OK) {
		if ((rc = dec_encap(&s, et)) != DEC_OK)
			break;
		if ((rc = s.ipver == 4 ? dec_ipv4(&s) : dec_ipv6(&s)) != DEC_OK)
			break;
		switch (s.l4proto) {
		case IP_IPIP:
		case IP_IPV6:
			et = s.l4proto == IP_IPIP ? ET_IPV4 : ET_IPV6;
			rc = tun_open(&s, MT_TUN_IPIP);
			continue;
		case IP_GRE:
			rc = tun_gre(&s, &et);
			continue;
		case NH_UDP:
			if ((rc = tun_udp(&s, &et)) != 1)
				continue; /* a tunnel opened (or its inside failed) */
			/* plain UDP */
			rc = dec_l4(&s, out);
			break;
		case NH_TCP:
			rc = dec_l4(&s, out);
			break;
		default:
			rc = DEC_OTHER(MT_OTHER_OTHER_L4);
			break;
		}
		break;
	}
	*tun = s.tun;
	if (frag && frag->ipver) {
		if (rc == DEC_OTHER(MT_OTHER_IPV4_FRAGMENT) || rc == DEC_OTHER(MT_OTHER_IPV6_FRAGMENT)) {
			frag->nvlan = s.nvlan;
			memcpy(frag->vlan, s.vlan, sizeof frag->vlan);
		} else {
			frag->ipver = 0;
		}
	}
	return rc;
}

static inline int decode_count(int rc, uint8_t tun, uint32_t cap_len, uint32_t wire_len, uint64_t ts_us,
				mt_pkt *out, mt_decode_stats *stats, int frame);

int mt_decode_frame(int linktype, const uint8_t *frame, uint32_t cap_len,
		    uint32_t wire_len, uint64_t ts_us, mt_pkt *out,
		    mt_decode_stats *stats)
{
	return mt_decode_frame_frag(linktype, frame, cap_len, wire_len, ts_us, out, stats, NULL);
}

int mt_decode_frame_frag(int linktype, const uint8_t *frame, uint32_t cap_len,
			 uint32_t wire_len, uint64_t ts_us, mt_pkt *out,
			 mt_decode_stats *stats, mt_frag *frag)
{
	uint8_t tun;
	int rc = dec_all(linktype, frame, cap_len, wire_len, out, &tun, frag, 0, NULL);

	return decode_count(rc, tun, cap_len, wire_len, ts_us, out, stats, 1);
}

int mt_decode_datagram(const uint8_t *ip, uint32_t len, uint8_t nvlan, const uint16_t *vlan,
		       uint64_t ts_us, mt_pkt *out, mt_decode_stats *stats)
{
	uint8_t tun;
	int rc = dec_all(MT_LINK_RAW, ip, len, len, out, &tun, NULL,
			 nvlan > MT_DECODE_MAX_ENCAP ? MT_DECODE_MAX_ENCAP : nvlan, vlan);

	return decode_count(rc, tun, len, len, ts_us, out, stats, 0);
}

/* Counts one result; a reassembled datagram (frame = 0) is not counted: its fragments were (as
 * fragments), and frames = decoded + errors + other stays true. Its tunnels are counted. */
static inline int decode_count(int rc, uint8_t tun, uint32_t cap_len, uint32_t wire_len, uint64_t ts_us,
				mt_pkt *out, mt_decode_stats *stats, int frame)
{

	if (unlikely(tun) && stats)
		for (int k = 0; k < MT_TUN__COUNT; k++)
			if (tun & (1u << k))
				stats->tunnel[k]++;

	if (rc == DEC_OK) {
		out->ts_us = ts_us;
		out->wire_len = wire_len;
		out->cap_len = cap_len;
		if (stats && frame) {
			stats->frames++;
			stats->decoded++;
		}
		return MT_DECODE_L4;
	}
	if (stats && frame) {
		stats->frames++;
		if (rc < 0) {
			stats->errors++;
			stats->reason[-1 - rc]++;
		} else {
			stats->other[rc - 1]++;
		}
	}
	return rc < 0 ? MT_DECODE_ERROR : MT_DECODE_OTHER;
}

int mt_decode_link_supported(int linktype)
{
	switch (linktype) {
	case MT_LINK_NULL:
	case MT_LINK_ETHERNET:
	case MT_LINK_RAW:
	case MT_LINK_LOOP:
	case MT_LINK_LINUX_SLL:
	case MT_LINK_IPV4:
	case MT_LINK_IPV6:
	case MT_LINK_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

static const char *const reason_names[MT_DEC__COUNT] = {
	[MT_DEC_LINK_UNSUPPORTED] = "link_unsupported",
	[MT_DEC_LINK_TRUNC] = "link_trunc",
	[MT_DEC_VLAN_TRUNC] = "vlan_trunc",
	[MT_DEC_MPLS_TRUNC] = "mpls_trunc",
	[MT_DEC_PPPOE_TRUNC] = "pppoe_trunc",
	[MT_DEC_PPPOE_BAD] = "pppoe_bad",
	[MT_DEC_ENCAP_TOO_DEEP] = "encap_too_deep",
	[MT_DEC_IPV4_TRUNC] = "ipv4_trunc",
	[MT_DEC_IPV4_BAD_VERSION] = "ipv4_bad_version",
	[MT_DEC_IPV4_BAD_IHL] = "ipv4_bad_ihl",
	[MT_DEC_IPV4_BAD_LEN] = "ipv4_bad_len",
	[MT_DEC_IPV4_LEN_EXCEEDS] = "ipv4_len_exceeds",
	[MT_DEC_IPV6_TRUNC] = "ipv6_trunc",
	[MT_DEC_IPV6_BAD_VERSION] = "ipv6_bad_version",
	[MT_DEC_IPV6_EXTHDR_TRUNC] = "ipv6_exthdr_trunc",
	[MT_DEC_IPV6_EXTHDR_TOO_MANY] = "ipv6_exthdr_too_many",
	[MT_DEC_TCP_TRUNC] = "tcp_trunc",
	[MT_DEC_TCP_BAD_OFFSET] = "tcp_bad_offset",
	[MT_DEC_UDP_TRUNC] = "udp_trunc",
	[MT_DEC_UDP_BAD_LEN] = "udp_bad_len",
	[MT_DEC_TUNNEL_TRUNC] = "tunnel_trunc",
	[MT_DEC_GRE_BAD] = "gre_bad",
	[MT_DEC_TUNNEL_TOO_DEEP] = "tunnel_too_deep",
};

static const char *const other_names[MT_OTHER__COUNT] = {
	[MT_OTHER_NON_IP] = "non_ip",
	[MT_OTHER_IPV4_FRAGMENT] = "ipv4_fragment",
	[MT_OTHER_IPV6_FRAGMENT] = "ipv6_fragment",
	[MT_OTHER_OTHER_L4] = "other_l4",
};

/* names[i], or "unknown" out of range. */
static const char *name_of(const char *const *names, int n, int i)
{
	return i < 0 || i >= n || !names[i] ? "unknown" : names[i];
}

const char *mt_decode_reason_name(int reason)
{
	return name_of(reason_names, MT_DEC__COUNT, reason);
}

const char *mt_decode_other_name(int other)
{
	return name_of(other_names, MT_OTHER__COUNT, other);
}

static const char *const tunnel_names[MT_TUN__COUNT] = {
	[MT_TUN_IPIP] = "ipip",
	[MT_TUN_GRE] = "gre",
	[MT_TUN_PPTP] = "pptp",
	[MT_TUN_ERSPAN] = "erspan",
	[MT_TUN_VXLAN] = "vxlan",
	[MT_TUN_GENEVE] = "geneve",
	[MT_TUN_GTPU] = "gtpu",
};

const char *mt_decode_tunnel_name(int tunnel)
{
	return name_of(tunnel_names, MT_TUN__COUNT, tunnel);
}
