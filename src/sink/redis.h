/* redis.h - Redis hit store sink (hiredis); see redis.c for the key schema. */
#ifndef MT_SINK_REDIS_H
#define MT_SINK_REDIS_H

#include <stddef.h>
#include "sink/sink.h"

#define MT_REDIS_DEFAULT_MAXLEN 1000000
#define MT_REDIS_DEFAULT_TIMEOUT_MS 2000
#define MT_REDIS_DEFAULT_BATCH 512
#define MT_REDIS_DEDUP_TTL_S (30 * 86400)

typedef struct mt_redis_cfg {
	const char *url;      /* redis://[user:pass@]host:port/db or unix:///path?db=N */
	const char *probe_id; /* NULL: host name */
	unsigned timeout_ms;  /* connect + command; 0: default */
	unsigned long maxlen; /* mt:hits approximate MAXLEN; 0: default */
	unsigned batch;       /* records per pipelined round trip; 0: default */
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

mt_sink *mt_sink_redis_open(const mt_redis_cfg *cfg, char *err, size_t errlen);

/* Counters: sent, duplicates skipped, errors. */
typedef struct mt_redis_stats {
	unsigned long long queued, sent, duplicates, errors;
} mt_redis_stats;
void mt_sink_redis_get_stats(mt_sink *s, mt_redis_stats *st);

#endif
