/* redis.h - Redis hit store sink: a delivery thread, a crash-safe spool, idempotent writes. */
#ifndef MT_SINK_REDIS_H
#define MT_SINK_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "sink/sink.h"

#define MT_REDIS_DEFAULT_MAXLEN 1000000
#define MT_REDIS_DEFAULT_TIMEOUT_MS 2000         /* command time-out */
#define MT_REDIS_DEFAULT_CONNECT_TIMEOUT_MS 1000
#define MT_REDIS_DEFAULT_BATCH 512               /* records per pipelined round trip */
#define MT_REDIS_HITS_PER_CALL 32                /* records per script call (not a cluster) */
#define MT_REDIS_DEFAULT_QUEUE (64u << 20)       /* bytes of records waiting in memory */
#define MT_REDIS_DEFAULT_HEARTBEAT_S 5
#define MT_REDIS_DEFAULT_DRAIN_MS 2000           /* at close: time to deliver before spooling (SIGTERM: exit well within 5 s) */
#define MT_REDIS_SEEN_TTL_S (30 * 86400)         /* cluster mode: stream dedup memory */
#define MT_REDIS_MAX_RECORD (1u << 20)
#define MT_REDIS_DEFAULT_KNOW (1u << 16)         /* (site, array, value) facts the sink remembers (lean hits) */
#define MT_REDIS_KNOW_TTL_S 60                   /* and for how long at most */

typedef struct mt_redis_cfg {
	const char *url;          /* redis://[user:pass@]host:port/db or unix:///path?db=N */
	const char *probe_id;     /* NULL or "": host name */
	unsigned connect_timeout_ms, timeout_ms; /* 0: defaults */
	unsigned long maxlen;     /* mt:hits approximate MAXLEN; 0: default */
	unsigned batch;           /* 0: default */
	uint64_t queue_max;       /* bytes; 0: default */
	const char *spool_dir;    /* NULL or "": no spool (records wait in memory, then drop) */
	uint64_t spool_max;       /* bytes; 0: default */
	int spool_policy;         /* enum mt_spool_policy */
	unsigned heartbeat_s;     /* mt:probe:<id> refresh; 0: default */
	unsigned drain_ms;        /* 0: default */
	unsigned know_max;        /* facts remembered for lean hits; 0: default */
	int no_lean;              /* 1: every hit takes the script's full path and the script decodes
	                             every record: the reference that tests compare with */
} mt_redis_cfg;

typedef struct mt_redis_url {
	int is_unix;
	char host[256];
	int port;
	char path[256];
	int db;
	char user[128];
	char pass[256];
} mt_redis_url;

/* Strict URL parse. 0 or -EINVAL. */
int mt_redis_url_parse(const char *url, mt_redis_url *out);

/*
 * Starts the sink and its delivery thread. Redis need not be up (records go to the spool and
 * are delivered when it returns); a bad URL, spool folder or (when Redis answers) a refused
 * AUTH fail here. NULL with a reason in err.
 * write() may be called from several threads at once and never waits on Redis;
 * flush() waits (bounded by the command time-out) until what was queued is delivered or spooled;
 * close() drains (drain_ms), spools the rest, and returns -EIO if records were dropped.
 */
mt_sink *mt_sink_redis_open(const mt_redis_cfg *cfg, char *err, size_t errlen);

typedef struct mt_redis_stats {
	uint64_t queued;      /* records accepted by write() */
	uint64_t spooled;     /* records written to the spool */
	uint64_t unspooled;   /* records read back from the spool and delivered */
	uint64_t sent;        /* new hits stored in Redis */
	uint64_t duplicates;  /* hits Redis already had (replays, a capture read twice) */
	uint64_t dropped;     /* lost: queue full without spool, spool full policy */
	uint64_t rejected;    /* records Redis or the parser refused (bad record) */
	uint64_t torn;        /* damaged spool records skipped */
	uint64_t spool_found; /* records an earlier run left in the spool */
	uint64_t spool_pending;
	uint64_t failures;    /* failed deliveries (connection lost, time-out) */
	uint64_t moved, ask;  /* cluster redirects followed */
	uint64_t lean;        /* hits sent on the lean path (the sink knew all their array values) */
	uint64_t lean_refused; /* lean hits the script sent back (the site was deleted): resent in full */
	uint64_t queue_len;   /* records waiting in memory for the thread (get_stats only) */
} mt_redis_stats;

void mt_sink_redis_get_stats(mt_sink *s, mt_redis_stats *st);

/* close() that also hands back the final statistics (final may be NULL). */
int mt_sink_redis_close(mt_sink *s, mt_redis_stats *final);

/* Extra u64 statistics written to mt:probe:<id> with the heartbeat (name must be static). */
#define MT_REDIS_MAX_COUNTERS 16
void mt_sink_redis_set_counter(mt_sink *s, const char *name, uint64_t value);

/* The probe id in use. */
const char *mt_sink_redis_probe(mt_sink *s);

#endif
