/* capture.h - packet sources: capture files (pcap, pcapng, stdin) through libpcap. */
#ifndef MT_CAPTURE_H
#define MT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

/* pcapng files that declare more interfaces than this before their first packet are refused. */
#define MT_CAPTURE_MAX_IFACES 4096

typedef struct mt_capture mt_capture;

/* Called for every packet; data is valid only during the call. */
typedef void (*mt_capture_fn)(void *ctx, int linktype, uint64_t ts_us,
			      const uint8_t *data, uint32_t cap_len,
			      uint32_t wire_len);

/* How a read loop ended. */
enum mt_capture_end {
	MT_CAPTURE_EOF = 0,       /* end of the file */
	MT_CAPTURE_COUNT = 1,     /* the packet limit was reached */
	MT_CAPTURE_TRUNCATED = 2, /* the file ends inside a record: a warning, not an error */
	MT_CAPTURE_STOPPED = 3,   /* mt_capture_stop was called */
	MT_CAPTURE_ERROR = -1     /* a read error; mt_capture_error says why */
};

/*
 * Opens a capture file (pcap or pcapng; "-" is standard input) and applies
 * the BPF filter if bpf is non-NULL. Returns NULL on failure with a one-line
 * reason (not including the path) in err.
 */
mt_capture *mt_capture_open_file(const char *path, const char *bpf, char *err,
				 size_t errlen);

/* The pcap link type (DLT mapped to LINKTYPE) of the opened source. */
int mt_capture_linktype(const mt_capture *c);

/*
 * Reads packets and calls fn for each until the end, an error, a stop, or
 * *budget packets (budget may be NULL: no limit; it is decremented).
 * Returns an enum mt_capture_end.
 */
int mt_capture_run(mt_capture *c, mt_capture_fn fn, void *ctx, uint64_t *budget);

/* Frames handed over at once by mt_capture_run_batch (at most). */
#define MT_CAPTURE_BATCH 16u

/* Called with n >= 1 frames in capture order; their data is valid only during the call. */
typedef void (*mt_capture_batch_fn)(void *ctx, int linktype, const mt_frame *fr, uint32_t n);

/*
 * mt_capture_run, handing frames over in batches of up to MT_CAPTURE_BATCH
 * (copies: libpcap reuses its buffer), so that the reader can look a few
 * frames ahead (mt_engine_frames). Every frame read is handed over before
 * it returns, whatever the reason; the budget counts frames read. Frames of
 * a pipe or FIFO (stdin...) are handed over one at a time, as they come.
 */
int mt_capture_run_batch(mt_capture *c, mt_capture_batch_fn fn, void *ctx, uint64_t *budget);

/* Asks a running mt_capture_run to return (async-signal-safe). */
void mt_capture_stop(mt_capture *c);

/* The last error or warning text ("" if none). */
const char *mt_capture_error(const mt_capture *c);

/* NULL is fine. */
void mt_capture_close(mt_capture *c);

/* ---- live capture (live.c): AF_PACKET sockets with TPACKET_V3 rings, Linux only ---- */

#define MT_LIVE_DEFAULT_RING_SIZE (64u << 20)  /* bytes of ring per socket */
#define MT_LIVE_DEFAULT_BLOCK_SIZE (1u << 20)  /* bytes per ring block */
#define MT_LIVE_DEFAULT_BLOCK_TIMEOUT 10       /* ms before the kernel hands over a partly filled block */
#define MT_LIVE_SNAPLEN 262144                 /* bytes kept of each frame (the filter's return value) */
#define MT_LIVE_MAX_IFACES 16

typedef struct mt_live_cfg {
	uint64_t ring_size;         /* per socket; a multiple of block_size */
	uint32_t block_size;        /* a power of two, at least the page size */
	uint32_t block_timeout_ms;  /* 1..60000 */
	int promisc;                /* put the interfaces in promiscuous mode */
} mt_live_cfg;

void mt_live_cfg_default(mt_live_cfg *cfg);

/* One worker's capture: one socket per interface. */
typedef struct mt_live mt_live;

/* Kernel counters, accumulated in 64 bits (the kernel's are 32-bit and reset when read). */
typedef struct mt_live_stats {
	uint64_t packets;  /* frames the kernel queued or dropped for these sockets */
	uint64_t drops;    /* frames lost because the ring was full */
	uint64_t freezes;  /* times the ring was full and the queue froze (tp_freeze_q_cnt) */
} mt_live_stats;

/*
 * Opens one socket per interface for a worker. fanout NULL: no fanout group.
 * Else fanout[i] is interface i's group (PACKET_FANOUT_HASH, see live.c): -1
 * makes a new group with an id no one else uses and writes that id into
 * fanout[i], so the next workers join it. Every socket starts with a filter
 * that passes nothing, so no packet reaches a ring before mt_live_start; bpf
 * (tcpdump syntax, may be NULL) is compiled here. Returns NULL with a reason
 * in err.
 */
mt_live *mt_live_open(const char *const *ifaces, int nifaces, int *fanout, const char *bpf,
		      const mt_live_cfg *cfg, char *err, size_t errlen);

/*
 * Replaces the pass-nothing filter by the real one. Called for every worker
 * once all of them have joined their fanout groups, so the flow hash is over
 * the final number of members from the first packet on. 0 or a negative errno.
 */
int mt_live_start(mt_live *l, char *err, size_t errlen);

/*
 * Hands every frame of the blocks the kernel has filled to fn, waiting up to
 * timeout_ms when none is ready. budget as for mt_capture_run. Returns the
 * number of frames, or a negative errno (the reason is in err).
 */
int mt_live_dispatch(mt_live *l, int timeout_ms, mt_capture_fn fn, void *ctx, uint64_t *budget,
		     char *err, size_t errlen);

/* Adds the kernel's counters since the last call into l's 64-bit totals and returns them. */
void mt_live_stats_get(mt_live *l, mt_live_stats *out);

/* NULL is fine. */
void mt_live_close(mt_live *l);

#endif
