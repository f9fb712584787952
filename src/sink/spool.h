/* spool.h - on-disk FIFO of hit records that survives crashes (kill -9) of the writer. */
#ifndef MT_SINK_SPOOL_H
#define MT_SINK_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define MT_SPOOL_DEFAULT_MAX (256ull << 20) /* bytes on disk */
#define MT_SPOOL_MAX_RECORD (16u << 20)     /* longer records are refused (and torn on read) */
#define MT_SPOOL_HDR 12                     /* magic, length, CRC-32 */

enum mt_spool_policy { MT_SPOOL_DROP_NEWEST = 0, MT_SPOOL_DROP_OLDEST = 1 };

typedef struct mt_spool_stats {
	uint64_t appended;  /* records written by this process */
	uint64_t delivered; /* records committed (taken out) by this process */
	uint64_t dropped;   /* records lost to the full policy */
	uint64_t torn;      /* damaged or cut records found (skipped) */
	uint64_t found;     /* intact records found at open (left by an earlier run) */
	uint64_t pending;   /* records in the spool, not yet committed */
	uint64_t bytes;     /* bytes of the spool files */
} mt_spool_stats;

typedef struct mt_spool mt_spool;

/*
 * Opens (creating it 0700 if missing) the spool folder and indexes what earlier
 * runs left there, checking each record's CRC. Not thread-safe: one thread uses it; one
 * process per folder (a lock file; a second open fails with "in use").
 * Returns NULL with a reason in err.
 */
mt_spool *mt_spool_open(const char *dir, uint64_t max_bytes, int policy, char *err, size_t errlen);

/* Appends one record (written with write(2): it survives kill -9 of this process).
 * 0, -ENOSPC (full; dropped per policy, counted), -EMSGSIZE or another negative errno. */
int mt_spool_append(mt_spool *sp, const void *rec, size_t len);

/* Next record after the read cursor: 1 with rec and len set (valid until the next call), 0 when
 * nothing more, or a negative errno. The cursor moves; nothing is removed until commit. */
int mt_spool_next(mt_spool *sp, const uint8_t **rec, size_t *len);

/* Everything read so far is delivered: persist the position, remove finished files. 0 or -errno. */
int mt_spool_commit(mt_spool *sp);

/* Read again from the last commit (a delivery failed). */
void mt_spool_rewind(mt_spool *sp);

/* Records not committed yet (including ones read but not committed). */
uint64_t mt_spool_pending(const mt_spool *sp);

void mt_spool_get_stats(const mt_spool *sp, mt_spool_stats *st);

/* Closes (records stay on disk for the next run). NULL is fine. */
void mt_spool_close(mt_spool *sp);

/* Policy by name ("drop-newest", "drop-oldest"): 0.. or -EINVAL. */
int mt_spool_policy_parse(const char *name);

/* CRC-32 (ISO-HDLC, the zlib/PNG one) of buf. */
uint32_t mt_spool_crc32(const void *buf, size_t len);

#endif
