/* ndpi.h - the one adapter to Debian's nDPI 4.2; no other file includes nDPI headers. */
#ifndef MT_NDPI_H
#define MT_NDPI_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

#define MT_NDPI_MAX_PACKETS 24 /* give up (ndpi_detection_giveup) after this many packets */
#define MT_NDPI_MAX_ANSWERS 8

/* What nDPI told us about a flow. Strings are NUL-terminated ("" when unknown). */
typedef struct mt_ndpi_info {
	char proto[64];      /* "TLS.Google", "HTTP", "Mining", "DNS" ... (master.app) */
	char category[32];   /* nDPI category name */
	char sni[256];       /* TLS/QUIC server name */
	char http_host[256];
	char http_ua[256];
	char dns_query[256];
	uint8_t n_answers;   /* DNS A/AAAA answers (nDPI 4.2 keeps only the first address) */
	uint8_t answer_ver[MT_NDPI_MAX_ANSWERS]; /* 4 or 6 */
	uint8_t answer[MT_NDPI_MAX_ANSWERS][16];
	uint8_t is_mining;   /* nDPI's own Mining label */
	uint8_t done;        /* classified and nothing more to learn, or gave up */
} mt_ndpi_info;

typedef struct mt_ndpi mt_ndpi;           /* one per worker (not thread-safe) */
typedef struct mt_ndpi_flow mt_ndpi_flow; /* one per flow, freed as soon as done */

/* Loads every protocol. Returns NULL (and logs why) on failure. */
mt_ndpi *mt_ndpi_new(void);
void mt_ndpi_free(mt_ndpi *n);

/* nDPI's version string, e.g. "4.2.0". */
const char *mt_ndpi_version(void);

/* Per-flow state; *mem gets the bytes allocated (for the flow memcap). NULL on failure. */
mt_ndpi_flow *mt_ndpi_flow_new(mt_ndpi *n, size_t *mem);

/*
 * Runs nDPI on one packet of the flow (p->l3 / p->l3_len); dir is
 * MT_DIR_C2S or MT_DIR_S2C. Returns 1 when nDPI is done with this flow
 * (classified with no extra dissection pending, or gave up after
 * MT_NDPI_MAX_PACKETS); the caller then frees the flow state. Returns 0 when
 * it wants more packets. *info is rewritten whole from nDPI's state on every
 * packet fed to nDPI (skipped packets leave it untouched), so a caller that
 * reads it only after a return of 1 may pass one scratch for all flows.
 */
int mt_ndpi_packet(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir,
		   mt_ndpi_info *info);

/*
 * The same as mt_ndpi_packet without writing the labels (nDPI's names are
 * copied only once, by mt_ndpi_result, when the caller needs them): returns
 * 1 when done, 0 when nDPI wants more, -1 when this packet was not given
 * to nDPI (no IP header, or an empty segment it learns nothing from).
 */
int mt_ndpi_feed(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir);

/*
 * on: a flow is done at its first classification, without nDPI's extra
 * dissection (TLS certificates, HTTP responses), which refines only the
 * category and names the engine does not read. Off by default.
 */
void mt_ndpi_set_labels_only(mt_ndpi *n, int on);

/*
 * Packets given to nDPI before it gives up on a flow (ndpi_detection_giveup:
 * its guess from ports and addresses); MT_NDPI_MAX_PACKETS by default, 1..65535.
 */
void mt_ndpi_set_max_packets(mt_ndpi *n, uint32_t max);

/*
 * 1 when nDPI's host list names host (a TLS server name, an HTTP Host) as a known application
 * that is not mining, with its name in app; else 0. The same automaton nDPI matches SNIs with,
 * asked without a flow (for flows nDPI was not given).
 */
int mt_ndpi_host_app(mt_ndpi *n, const char *host, size_t len, char *app, size_t applen);

/* Fills *info from nDPI's state of the flow now (after mt_ndpi_feed returned 1, say). */
void mt_ndpi_result(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info);

/* At flow end, before free: lets nDPI guess (ndpi_detection_giveup) and fills *info. */
void mt_ndpi_giveup(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info);

/* NULL is fine. */
void mt_ndpi_flow_free(mt_ndpi_flow *f);

#endif
