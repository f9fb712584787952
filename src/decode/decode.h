/* decode.h - link, network and transport decoding of one captured frame. */
#ifndef MT_DECODE_H
#define MT_DECODE_H

#include <stdint.h>

/* Link types we decode (values are the pcap LINKTYPE_* numbers). */
#define MT_LINK_NULL 0        /* BSD loopback: 4-byte host-order AF_ value */
#define MT_LINK_ETHERNET 1
#define MT_LINK_RAW 101       /* raw IPv4/IPv6, version from the first nibble */
#define MT_LINK_LOOP 108      /* OpenBSD loopback: 4-byte network-order AF_ value */
#define MT_LINK_LINUX_SLL 113
#define MT_LINK_IPV4 228
#define MT_LINK_IPV6 229
#define MT_LINK_LINUX_SLL2 276

#define MT_DECODE_MAX_VLAN 2   /* tags recorded; deeper stacks are still decoded */
#define MT_DECODE_MAX_ENCAP 8  /* VLAN + MPLS + PPPoE layers before we give up */
#define MT_DECODE_MAX_EXTHDR 8 /* IPv6 extension headers before we give up */

/* Why a frame was not decoded to TCP/UDP. One counter each (mt_decode_stats). */
enum mt_dec_reason {
	MT_DEC_LINK_UNSUPPORTED = 0, /* link type we do not decode */
	MT_DEC_LINK_TRUNC,           /* frame shorter than its link header */
	MT_DEC_VLAN_TRUNC,
	MT_DEC_MPLS_TRUNC,
	MT_DEC_PPPOE_TRUNC,
	MT_DEC_PPPOE_BAD,            /* bad version/type/code or length */
	MT_DEC_ENCAP_TOO_DEEP,
	MT_DEC_IPV4_TRUNC,           /* shorter than 20 bytes or than its IHL */
	MT_DEC_IPV4_BAD_VERSION,
	MT_DEC_IPV4_BAD_IHL,         /* IHL < 5 */
	MT_DEC_IPV4_BAD_LEN,         /* total length < header length */
	MT_DEC_IPV4_LEN_EXCEEDS,     /* total length > what even the wire length allows (a snaplen cut is not an error) */
	MT_DEC_IPV6_TRUNC,
	MT_DEC_IPV6_BAD_VERSION,
	MT_DEC_IPV6_EXTHDR_TRUNC,
	MT_DEC_IPV6_EXTHDR_TOO_MANY,
	MT_DEC_TCP_TRUNC,
	MT_DEC_TCP_BAD_OFFSET,       /* data offset < 5 or past the segment */
	MT_DEC_UDP_TRUNC,
	MT_DEC_UDP_BAD_LEN,
	MT_DEC__COUNT
};

/* What a frame was that is valid but not a TCP/UDP packet we track. */
enum mt_dec_other {
	MT_OTHER_NON_IP = 0, /* ARP, LLDP, STP, ... */
	MT_OTHER_IPV4_FRAGMENT, /* a non-first fragment, or a first fragment (counted, not reassembled) */
	MT_OTHER_IPV6_FRAGMENT,
	MT_OTHER_OTHER_L4, /* ICMP, ICMPv6, ESP, GRE, SCTP ... */
	MT_OTHER__COUNT
};

typedef struct mt_decode_stats {
	uint64_t frames;
	uint64_t decoded;  /* frames that became a TCP or UDP mt_pkt */
	uint64_t errors;   /* sum of reason[] */
	uint64_t reason[MT_DEC__COUNT];
	uint64_t other[MT_OTHER__COUNT];
} mt_decode_stats;

/* A captured frame as a packet source hands it over (data valid for the call it is passed to). */
typedef struct mt_frame {
	const uint8_t *data;
	uint64_t ts_us;
	uint32_t cap_len;
	uint32_t wire_len;
} mt_frame;

/*
 * One decoded TCP or UDP packet. All pointers point into the caller's frame
 * and are valid only until the capture callback returns.
 */
typedef struct mt_pkt {
	uint64_t ts_us;        /* packet time, microseconds since the epoch */
	uint32_t wire_len;     /* original length on the wire */
	uint32_t cap_len;      /* bytes captured */
	uint8_t ipver;         /* 4 or 6 */
	uint8_t l4proto;       /* 6 (TCP) or 17 (UDP) */
	uint8_t tcp_flags;     /* TCP flags byte (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10) */
	uint8_t nvlan;         /* VLAN tags seen (up to MT_DECODE_MAX_VLAN recorded) */
	uint16_t vlan[MT_DECODE_MAX_VLAN]; /* VLAN ids, outer first */
	uint8_t src[16];       /* IPv4 uses the first 4 bytes, rest zero */
	uint8_t dst[16];
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;     /* TCP, host order */
	uint16_t win;
	const uint8_t *l3;     /* start of the IP header (what nDPI wants) */
	uint32_t l3_len;       /* IP header + payload, clamped to what was captured and to the IP length */
	const uint8_t *payload;/* TCP/UDP payload */
	uint32_t payload_len;  /* clamped to the IP total length and the captured bytes */
	uint8_t truncated;     /* 1 if the payload was cut by the snap length */
} mt_pkt;

/* Result of mt_decode_frame. */
enum mt_dec_result {
	MT_DECODE_L4 = 0,    /* *out holds a TCP or UDP packet */
	MT_DECODE_OTHER = 1, /* valid frame we do not track; stats->other[] counted */
	MT_DECODE_ERROR = -1 /* malformed; stats->reason[] counted */
};

/*
 * Decodes one frame of the given link type. Never reads outside
 * [frame, frame + cap_len). Fills *out only for MT_DECODE_L4.
 * Counts into *stats (frames, decoded, errors, reason[], other[]).
 */
int mt_decode_frame(int linktype, const uint8_t *frame, uint32_t cap_len,
		    uint32_t wire_len, uint64_t ts_us, mt_pkt *out,
		    mt_decode_stats *stats);

/* 1 if we decode this link type, else 0. */
int mt_decode_link_supported(int linktype);

/* A stable snake_case name for a reason / other counter ("ipv4_trunc"). */
const char *mt_decode_reason_name(int reason);
const char *mt_decode_other_name(int other);

#endif
