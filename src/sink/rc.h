/* rc.h - Redis connection with a small Redis Cluster slot router (hiredis 0.14, argv commands only). */
#ifndef MT_SINK_RC_H
#define MT_SINK_RC_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "sink/redis.h"

#define MT_RC_SLOTS 16384
#define MT_RC_MAX_NODES 64
#define MT_RC_MAX_REDIRECTS 5

/* One command of a pipelined batch. slot: mt_rc_slot() of its first key (ignored standalone). */
typedef struct mt_rc_cmd {
	int slot;
	int argc;
	const char **argv;
	const size_t *lens;
} mt_rc_cmd;

typedef struct mt_rc_stats {
	uint64_t moved, ask, noscript, refreshes, reconnects;
} mt_rc_stats;

typedef struct mt_rc mt_rc;

/* CRC16/XMODEM (poly 0x1021, init 0), the Redis Cluster key hash. */
uint16_t mt_rc_crc16(const void *buf, size_t len);

/* Hash slot of a key: CRC16 of its {hash tag} when it has a non-empty one, else of the key, mod 16384. */
int mt_rc_slot(const char *key, size_t len);

/*
 * A connection to the server or cluster named by u. script (may be NULL) is SCRIPT LOADed
 * on every node it connects to, and again on NOSCRIPT. Does not connect yet. NULL on ENOMEM.
 */
mt_rc *mt_rc_new(const mt_redis_url *u, unsigned connect_timeout_ms, unsigned cmd_timeout_ms,
		 const char *script);

/* Connects to the seed, authenticates, tells standalone from cluster (CLUSTER SLOTS), loads
 * the script. 0, -EACCES when the server refused AUTH or SCRIPT LOAD, or another negative
 * errno (not reachable, time-out) with a reason in err. */
int mt_rc_connect(mt_rc *rc, char *err, size_t errlen);

/* 1 in cluster mode (after a successful connect). */
int mt_rc_is_cluster(const mt_rc *rc);

/* The script's SHA-1 (hex), "" before the first load. */
const char *mt_rc_sha(const mt_rc *rc);

/*
 * Sends n commands pipelined (per node) and reads their replies into replies[i] (the caller
 * frees them with freeReplyObject; NULL where none came). MOVED, ASK and NOSCRIPT are
 * followed here. Returns 0 when every command got a reply (an error reply is a reply), or
 * -EIO after a connection failure (the connection is dropped; the next call reconnects).
 */
int mt_rc_exec(mt_rc *rc, size_t n, const mt_rc_cmd *cmds, redisReply **replies);

/* Command time-out for later commands (ms). */
void mt_rc_set_timeout(mt_rc *rc, unsigned ms);

/* 1 while connected to the seed (standalone) or at least one node (cluster). */
int mt_rc_connected(const mt_rc *rc);

/* Drops every connection (a later mt_rc_exec or mt_rc_connect reconnects). */
void mt_rc_disconnect(mt_rc *rc);

void mt_rc_get_stats(const mt_rc *rc, mt_rc_stats *st);

/* NULL is fine. */
void mt_rc_free(mt_rc *rc);

#endif
