/* capture.h - packet sources: capture files (pcap, pcapng, stdin) through libpcap. */
#ifndef MT_CAPTURE_H
#define MT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

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

/* Asks a running mt_capture_run to return (async-signal-safe). */
void mt_capture_stop(mt_capture *c);

/* The last error or warning text ("" if none). */
const char *mt_capture_error(const mt_capture *c);

/* NULL is fine. */
void mt_capture_close(mt_capture *c);

#endif
