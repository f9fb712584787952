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
#define MT_DECODE_MAX_TUNNEL 6 /* tunnel headers (IP-in-IP, GRE, ERSPAN, VXLAN, Geneve, GTP-U) before we give up */

/* UDP ports of the UDP tunnels we open (IANA): a packet to another port is plain UDP. */
#define MT_DECODE_PORT_VXLAN 4789  /* RFC 7348 section 5 */
#define MT_DECODE_PORT_GENEVE 6081 /* RFC 8926 section 3.3 */
#define MT_DECODE_PORT_GTPU 2152   /* 3GPP TS 29.281 section 4.4.2 */

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
	MT_DEC_TUNNEL_TRUNC,         /* a GRE, ERSPAN, VXLAN, Geneve or GTP-U header cut short */
	MT_DEC_GRE_BAD,              /* GRE with source routing (RFC 1701), an unknown version, or PPTP without its key */
	MT_DEC_TUNNEL_TOO_DEEP,      /* more than MT_DECODE_MAX_TUNNEL tunnels */
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

/* Tunnels opened on the way to the inner packet (each layer counted once per frame). */
enum mt_dec_tunnel {
	MT_TUN_IPIP = 0, /* IPv4 or IPv6 in IPv4 or IPv6 (protocols 4 and 41) */
	MT_TUN_GRE,      /* RFC 2784/2890: IP, MPLS or Ethernet (transparent bridging) in GRE */
	MT_TUN_PPTP,     /* RFC 2637 enhanced GRE carrying PPP */
	MT_TUN_ERSPAN,   /* ERSPAN types I, II and III (remote mirror sessions) */
	MT_TUN_VXLAN,
	MT_TUN_GENEVE,
	MT_TUN_GTPU,
	MT_TUN__COUNT
};

/* A fragment the decoder stopped at (MT_DECODE_OTHER, MT_OTHER_IPV4/IPV6_FRAGMENT). */
typedef struct mt_frag {
	uint8_t ipver;          /* 4 or 6 */
	uint8_t proto;          /* IPv4 protocol, or the next header after IPv6's fragment header */
	uint8_t more;           /* more fragments follow (MF / M) */
	uint8_t truncated;      /* the snap length cut this fragment's data */
	uint32_t id;            /* identification: 16 bits (IPv4) or 32 (IPv6) */
	uint32_t offset;        /* bytes */
	uint8_t src[16], dst[16];
	uint8_t nvlan;
	uint16_t vlan[MT_DECODE_MAX_VLAN];
	const uint8_t *hdr;     /* IPv4: its header with options; IPv6: the 40-byte fixed header */
	uint32_t hdr_len;
	const uint8_t *data;    /* the fragment's payload, within the frame */
	uint32_t data_len;
} mt_frag;

typedef struct mt_decode_stats {
	uint64_t frames;
	uint64_t decoded;  /* frames that became a TCP or UDP mt_pkt */
	uint64_t errors;   /* sum of reason[] */
	uint64_t reason[MT_DEC__COUNT];
	uint64_t other[MT_OTHER__COUNT];
	uint64_t tunnel[MT_TUN__COUNT];
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

/*
 * The same, and when the frame is an IP fragment (MT_DECODE_OTHER, a fragment counted), fills
 * *frag (if not NULL) for reassembly (decode/defrag.h); frag->ipver is 0 otherwise.
 */
int mt_decode_frame_frag(int linktype, const uint8_t *frame, uint32_t cap_len,
			 uint32_t wire_len, uint64_t ts_us, mt_pkt *out,
			 mt_decode_stats *stats, mt_frag *frag);

/*
 * Decodes a reassembled IP datagram (an IPv4 or IPv6 header then its whole payload) as a frame
 * of its own, with the VLAN ids of its fragments; tunnels inside are opened as in a frame.
 * Only its tunnels are counted in *stats (its fragments were counted as frames).
 */
int mt_decode_datagram(const uint8_t *ip, uint32_t len, uint8_t nvlan, const uint16_t *vlan,
		       uint64_t ts_us, mt_pkt *out, mt_decode_stats *stats);

/* 1 if we decode this link type, else 0. */
int mt_decode_link_supported(int linktype);

/* A stable snake_case name for a reason / other counter ("ipv4_trunc"). */
const char *mt_decode_reason_name(int reason);
const char *mt_decode_other_name(int other);
const char *mt_decode_tunnel_name(int tunnel);

#endif
