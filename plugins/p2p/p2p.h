/* p2p.h - the blockchain node (P2P) detector plugin: its entry point and limits. */
#ifndef MT_P2P_H
#define MT_P2P_H

#include "detect/detector.h"

/* Limits (compile-time overridable). */
#ifndef MT_BTC_MAX_PACKETS
#define MT_BTC_MAX_PACKETS 32u        /* payload packets read: version/verack come first */
#endif
#ifndef MT_BTC_MAX_PAYLOAD
#define MT_BTC_MAX_PAYLOAD 0x02000000u /* Bitcoin Core MAX_SIZE: a larger length is no header */
#endif
#ifndef MT_BTC_RESYNC_MAX
#define MT_BTC_RESYNC_MAX 8192u       /* bytes searched for a header when a direction starts mid-message */
#endif
#ifndef MT_BTC_VERIFY_MAX
#define MT_BTC_VERIFY_MAX 4u          /* checksums verified per flow besides those of version messages */
#endif
#ifndef MT_BTC_VERIFY_SPAN
#define MT_BTC_VERIFY_SPAN 16384u     /* checksums of longer payloads are not computed */
#endif
#ifndef MT_BTC_VERSION_MAX_LEN
#define MT_BTC_VERSION_MAX_LEN 1024u  /* version fields plus the longest agent, with room for extensions */
#endif
#ifndef MT_BTC_AGENT_MAX
#define MT_BTC_AGENT_MAX 256u         /* Bitcoin Core MAX_SUBVERSION_LENGTH */
#endif

#ifndef MT_LEVIN_MAX_PACKETS
#define MT_LEVIN_MAX_PACKETS 16u
#endif
#ifndef MT_LEVIN_MAX_BODY
#define MT_LEVIN_MAX_BODY 100000000u  /* epee LEVIN_DEFAULT_MAX_PACKET_SIZE */
#endif
#ifndef MT_LEVIN_RESYNC_MAX
#define MT_LEVIN_RESYNC_MAX 8192u
#endif

#ifndef MT_RLPX_MAX_PACKETS
#define MT_RLPX_MAX_PACKETS 16u       /* auth, ack and the first frames */
#endif
/*
 * EIP-8 size prefixes. The smallest auth is 113 bytes of ECIES overhead
 * (65 key + 16 IV + 32 MAC) around a 169-byte RLP body without padding; the
 * smallest ack wraps a 102-byte body. Implementations pad with 100-300 bytes.
 */
#ifndef MT_RLPX_AUTH_MIN
#define MT_RLPX_AUTH_MIN 282u
#endif
#ifndef MT_RLPX_ACK_MIN
#define MT_RLPX_ACK_MIN 215u
#endif
#ifndef MT_RLPX_EIP8_MAX
#define MT_RLPX_EIP8_MAX 2048u
#endif

#ifndef MT_DISCV4_MAX_PACKETS
#define MT_DISCV4_MAX_PACKETS 8u
#endif
#ifndef MT_DISCV4_MAX_SIZE
#define MT_DISCV4_MAX_SIZE 1280u      /* discv4: "the maximum size of any packet is 1280 bytes" */
#endif
#ifndef MT_DISCV4_TRIES
#define MT_DISCV4_TRIES 3u            /* datagrams that fail the hash before the flow is not discv4 */
#endif

/* The plugin's entry (MT_PLUGIN_ENTRY): bitcoin-p2p, monero-levin, ethereum-devp2p, ethereum-discv4, NULL. */
const mt_detector *const *mt_plugin_detectors(void);

#endif
