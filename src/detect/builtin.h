/* builtin.h - the built-in detectors: rows of one table (detect.c). */
#ifndef MT_BUILTIN_H
#define MT_BUILTIN_H

#include "detect/detector.h"

extern const mt_detector mt_detect_stratum; /* stratum.c: Stratum v1 JSON-RPC */
extern const mt_detector mt_detect_cryptonote; /* cryptonote.c: CryptoNote login/job/submit JSON-RPC */
extern const mt_detector mt_detect_ethproxy; /* ethproxy.c: EthProxy JSON-RPC lines over TCP */
extern const mt_detector mt_detect_dialects; /* dialects.c: Grin, Beam and Iron Fish pool JSON lines */
extern const mt_detector mt_detect_httpmine; /* httpmine.c: getwork, getblocktemplate, EthProxy over HTTP */
extern const mt_detector mt_detect_tls; /* tls.c: pool names (SNI, certificate, DNS, address lists), TLS stratum attempts, browser miners */
extern const mt_detector mt_detect_sv2; /* sv2.c: Stratum V2 plaintext framing and Noise-shaped fingerprint */
extern const mt_detector mt_detect_behaviour; /* behaviour.c: share-like timing on unexplained long flows */

#endif
