/* rc.c - Redis connection and Redis Cluster slot router over hiredis 0.14 (argv commands only).
 *
 * Redis Cluster specification (redis.io/docs/reference/cluster-spec): a key's hash slot is
 * CRC16/XMODEM of the key (or of its {hash tag}) mod 16384; CLUSTER SLOTS maps slot ranges to
 * masters; "-MOVED slot host:port" means the slot lives elsewhere now (update the map),
 * "-ASK slot host:port" means this one command goes there, preceded by ASKING.
 * hiredis has no cluster client, so this is our own small router: one context per master,
 * commands pipelined per node, replies read back in the caller's order.
 */
#include "sink/rc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

typedef struct rc_node {
	char host[256];
	int port;
	redisContext *c;
} rc_node;

struct mt_rc {
	mt_redis_url u;
	unsigned cto_ms, to_ms;
	const char *script;
	char sha[41];
	int cluster, connected, stale;
	int denied; /* the last open got an error reply to AUTH or SCRIPT LOAD */
	rc_node node[MT_RC_MAX_NODES];
	int nnodes;
	int16_t slot[MT_RC_SLOTS]; /* node index, -1 unknown */
	mt_rc_stats st;
	int *which;                /* per command of a batch: node index */
	size_t which_cap;
};

static uint16_t crc_tab[256];
static int crc_ready;

uint16_t mt_rc_crc16(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint16_t c = 0;

	if (!crc_ready) { /* racing initialisers write the same values */
		for (int i = 0; i < 256; i++) {
			uint16_t v = (uint16_t)(i << 8);
			for (int k = 0; k < 8; k++)
				v = (uint16_t)((v & 0x8000) ? (v << 1) ^ 0x1021 : v << 1);
			crc_tab[i] = v;
		}
		crc_ready = 1;
	}
	for (size_t i = 0; i < len; i++)
		c = (uint16_t)((c << 8) ^ crc_tab[((c >> 8) ^ p[i]) & 0xFF]);
	return c;
}

int mt_rc_slot(const char *key, size_t len)
{
	const char *o = memchr(key, '{', len);
	if (o) {
		size_t rest = len - (size_t)(o - key) - 1;
		const char *c = memchr(o + 1, '}', rest);
		if (c && c > o + 1)
			return mt_rc_crc16(o + 1, (size_t)(c - o - 1)) & (MT_RC_SLOTS - 1);
	}
	return mt_rc_crc16(key, len) & (MT_RC_SLOTS - 1);
}

mt_rc *mt_rc_new(const mt_redis_url *u, unsigned connect_timeout_ms, unsigned cmd_timeout_ms,
		 const char *script)
{
	mt_rc *rc = calloc(1, sizeof(*rc));
	if (!rc)
		return NULL;
	rc->u = *u;
	rc->cto_ms = connect_timeout_ms ? connect_timeout_ms : 1000;
	rc->to_ms = cmd_timeout_ms ? cmd_timeout_ms : 2000;
	rc->script = script;
	memset(rc->slot, 0xff, sizeof(rc->slot));
	return rc;
}

static struct timeval tv_ms(unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	return tv;
}

static redisReply *cmd(redisContext *c, int argc, const char **argv)
{
	return redisCommandArgv(c, argc, argv, NULL);
}

static int load_script(mt_rc *rc, redisContext *c)
{
	if (!rc->script)
		return 0;
	const char *a[3] = { "SCRIPT", "LOAD", rc->script };
	redisReply *r = cmd(c, 3, a);
	int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
	if (ok) {
		memcpy(rc->sha, r->str, 40);
		rc->sha[40] = '\0';
	}
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -EIO;
}

/* A ready context (connected, authenticated, db selected, script loaded) or NULL. */
static redisContext *open_ctx(mt_rc *rc, const char *host, int port, int is_unix, char *err,
			      size_t errlen)
{
	redisContext *c = is_unix ? redisConnectUnixWithTimeout(rc->u.path, tv_ms(rc->cto_ms))
				  : redisConnectWithTimeout(host, port, tv_ms(rc->cto_ms));
	redisReply *r;

	if (!c || c->err) {
		if (err)
			snprintf(err, errlen, "redis connect %s:%d: %s", is_unix ? rc->u.path : host,
				 is_unix ? 0 : port, c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv_ms(rc->to_ms));
	if (rc->u.pass[0]) {
		const char *a[3] = { "AUTH", rc->u.user[0] ? rc->u.user : rc->u.pass, rc->u.pass };
		r = cmd(c, rc->u.user[0] ? 3 : 2, a);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			rc->denied = r != NULL;
			if (err && r)
				snprintf(err, errlen, "redis AUTH refused: %s", r->str);
			else if (err)
				snprintf(err, errlen, "redis AUTH: %s", c->errstr);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (rc->u.db && !rc->cluster) {
		char db[8];
		snprintf(db, sizeof(db), "%d", rc->u.db);
		const char *a[2] = { "SELECT", db };
		r = cmd(c, 2, a);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			if (err)
				snprintf(err, errlen, "redis SELECT %s failed", db);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (load_script(rc, c) < 0) {
		/* no reply at all is a time-out (a hung server): not the user's rights */
		if (err && c->err)
			snprintf(err, errlen, "redis SCRIPT LOAD: %s", c->errstr);
		else if (err)
			snprintf(err, errlen, "redis SCRIPT LOAD refused (is SCRIPT LOAD/EVALSHA allowed for this user?)");
		rc->denied = !c->err;
		redisFree(c);
		return NULL;
	}
	return c;
fail:
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return NULL;
}

static int node_find(mt_rc *rc, const char *host, int port, int add)
{
	for (int i = 0; i < rc->nnodes; i++)
		if (rc->node[i].port == port && strcmp(rc->node[i].host, host) == 0)
			return i;
	if (!add || rc->nnodes >= MT_RC_MAX_NODES || strlen(host) >= sizeof(rc->node[0].host))
		return -1;
	rc_node *n = &rc->node[rc->nnodes];
	memcpy(n->host, host, strlen(host) + 1);
	n->port = port;
	n->c = NULL;
	return rc->nnodes++;
}

static void node_drop(mt_rc *rc, int i)
{
	if (rc->node[i].c) {
		redisFree(rc->node[i].c);
		rc->node[i].c = NULL;
	}
	if (rc->cluster)
		rc->stale = 1;
}

static redisContext *node_ctx(mt_rc *rc, int i)
{
	if (!rc->node[i].c) {
		rc->node[i].c = open_ctx(rc, rc->node[i].host, rc->node[i].port, rc->u.is_unix && !rc->cluster,
					 NULL, 0);
		if (rc->node[i].c)
			rc->st.reconnects++;
	}
	return rc->node[i].c;
}

/* Loads the slot map from CLUSTER SLOTS of context c. 1 cluster, 0 not a cluster, <0 error. */
static int load_slots(mt_rc *rc, redisContext *c, const char *seed_host)
{
	const char *a[2] = { "CLUSTER", "SLOTS" };
	redisReply *r = cmd(c, 2, a);
	if (!r)
		return -EIO;
	if (r->type == REDIS_REPLY_ERROR) {
		int notc = strstr(r->str, "cluster support disabled") != NULL;
		freeReplyObject(r);
		return notc ? 0 : -EIO;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -EIO;
	}
	memset(rc->slot, 0xff, sizeof(rc->slot));
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
		    e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
			continue;
		long long lo = e->element[0]->integer, hi = e->element[1]->integer;
		const char *h = e->element[2]->element[0]->str;
		int port = (int)e->element[2]->element[1]->integer;
		int ni = node_find(rc, h[0] ? h : seed_host, port, 1);
		if (ni < 0 || lo < 0 || hi >= MT_RC_SLOTS || lo > hi)
			continue;
		for (long long s = lo; s <= hi; s++)
			rc->slot[s] = (int16_t)ni;
	}
	freeReplyObject(r);
	rc->st.refreshes++;
	rc->stale = 0;
	return 1;
}

/* Refreshes the map from any node that answers (the seed first). */
static int refresh(mt_rc *rc)
{
	redisContext *seed = NULL;
	for (int i = 0; i < rc->nnodes; i++) {
		redisContext *c = node_ctx(rc, i);
		if (c && load_slots(rc, c, rc->node[i].host) == 1)
			return 0;
		if (c)
			node_drop(rc, i);
	}
	seed = open_ctx(rc, rc->u.host, rc->u.port, 0, NULL, 0);
	if (seed) {
		int r = load_slots(rc, seed, rc->u.host);
		redisFree(seed);
		if (r == 1)
			return 0;
	}
	return -EIO;
}

int mt_rc_connect(mt_rc *rc, char *err, size_t errlen)
{
	mt_rc_disconnect(rc);
	rc->cluster = 0;
	rc->nnodes = 0;
	rc->denied = 0;
	redisContext *c = open_ctx(rc, rc->u.host, rc->u.port, rc->u.is_unix, err, errlen);
	if (!c)
		return rc->denied ? -EACCES : -ECONNREFUSED;
	if (rc->u.is_unix) {
		rc->nnodes = 1;
		rc->node[0].c = c;
		rc->node[0].host[0] = '\0';
		rc->connected = 1;
		return 0;
	}
	int k = load_slots(rc, c, rc->u.host);
	if (k < 0) {
		redisFree(c);
		if (err)
			snprintf(err, errlen, "redis CLUSTER SLOTS failed");
		return -EIO;
	}
	if (k == 0) {
		node_find(rc, rc->u.host, rc->u.port, 1);
		rc->node[0].c = c;
	} else {
		if (rc->u.db) {
			redisFree(c);
			if (err)
				snprintf(err, errlen, "redis cluster has only database 0");
			return -EINVAL;
		}
		rc->cluster = 1;
		int i = node_find(rc, rc->u.host, rc->u.port, 0);
		if (i >= 0)
			rc->node[i].c = c;
		else
			redisFree(c);
	}
	rc->connected = 1;
	return 0;
}

int mt_rc_is_cluster(const mt_rc *rc)
{
	return rc->cluster;
}

const char *mt_rc_sha(const mt_rc *rc)
{
	return rc->sha;
}

int mt_rc_connected(const mt_rc *rc)
{
	return rc->connected;
}

void mt_rc_set_timeout(mt_rc *rc, unsigned ms)
{
	rc->to_ms = ms ? ms : 1;
	for (int i = 0; i < rc->nnodes; i++)
		if (rc->node[i].c)
			redisSetTimeout(rc->node[i].c, tv_ms(rc->to_ms));
}

void mt_rc_disconnect(mt_rc *rc)
{
	for (int i = 0; i < rc->nnodes; i++)
		if (rc->node[i].c) {
			redisFree(rc->node[i].c);
			rc->node[i].c = NULL;
		}
	rc->connected = 0;
}

static int pick(mt_rc *rc, int slot)
{
	if (!rc->cluster)
		return 0;
	if (slot < 0 || slot >= MT_RC_SLOTS || rc->slot[slot] < 0)
		return -1;
	return rc->slot[slot];
}

/* "MOVED 3999 127.0.0.1:6381": slot and node index (added if new). */
static int parse_redirect(mt_rc *rc, const char *s, int *slot)
{
	const char *sp = strchr(s, ' ');
	if (!sp)
		return -1;
	long v = 0;
	const char *p = sp + 1;
	while (*p >= '0' && *p <= '9' && v < MT_RC_SLOTS)
		v = v * 10 + (*p++ - '0');
	if (*p != ' ' || v >= MT_RC_SLOTS)
		return -1;
	const char *hp = p + 1, *colon = strrchr(hp, ':');
	if (!colon || colon == hp || (size_t)(colon - hp) >= 256)
		return -1;
	char host[256];
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	int port = 0;
	for (p = colon + 1; *p >= '0' && *p <= '9' && port < 65536; p++)
		port = port * 10 + (*p - '0');
	if (*p || port <= 0 || port > 65535)
		return -1;
	*slot = (int)v;
	return node_find(rc, host, port, 1);
}

/* Follows MOVED / ASK / NOSCRIPT for one command whose reply was r (consumed). */
static redisReply *follow(mt_rc *rc, const mt_rc_cmd *cm, int ni, redisReply *r)
{
	for (int hop = 0; r && r->type == REDIS_REPLY_ERROR && hop < MT_RC_MAX_REDIRECTS; hop++) {
		int ask = strncmp(r->str, "ASK ", 4) == 0;
		int slot;
		if (strncmp(r->str, "NOSCRIPT", 8) == 0) {
			rc->st.noscript++;
		} else if (ask || strncmp(r->str, "MOVED ", 6) == 0) {
			int to = parse_redirect(rc, r->str, &slot);
			if (to < 0)
				return r;
			if (ask) {
				rc->st.ask++;
			} else {
				rc->st.moved++;
				rc->slot[slot] = (int16_t)to;
				rc->stale = 1;
			}
			ni = to;
		} else {
			return r;
		}
		freeReplyObject(r);
		r = NULL;
		redisContext *c = node_ctx(rc, ni);
		if (!c)
			return NULL;
		if (!ask && strncmp(cm->argv[0], "EVALSHA", 7) == 0 && load_script(rc, c) < 0) {
			node_drop(rc, ni);
			return NULL;
		}
		if (ask) {
			const char *a[1] = { "ASKING" };
			redisAppendCommandArgv(c, 1, a, NULL);
		}
		redisAppendCommandArgv(c, cm->argc, cm->argv, cm->lens);
		if (ask) {
			redisReply *ok = NULL;
			if (redisGetReply(c, (void **)&ok) != REDIS_OK) {
				node_drop(rc, ni);
				return NULL;
			}
			freeReplyObject(ok);
		}
		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			node_drop(rc, ni);
			return NULL;
		}
	}
	return r;
}

int mt_rc_exec(mt_rc *rc, size_t n, const mt_rc_cmd *cmds, redisReply **replies)
{
	int rc_ = 0;
	size_t i;

	for (i = 0; i < n; i++)
		replies[i] = NULL;
	if (!rc->connected && mt_rc_connect(rc, NULL, 0) < 0)
		return -ECONNREFUSED;
	if (rc->stale && refresh(rc) < 0) {
		mt_rc_disconnect(rc);
		return -EIO;
	}
	if (n > rc->which_cap) {
		int *w = realloc(rc->which, n * sizeof(*w));
		if (!w)
			return -ENOMEM;
		rc->which = w;
		rc->which_cap = n;
	}
	/* send: append each command to its node's output buffer (hiredis writes on the first read) */
	for (i = 0; i < n; i++) {
		int ni = pick(rc, cmds[i].slot);
		redisContext *c = ni >= 0 ? node_ctx(rc, ni) : NULL;
		if (!c || redisAppendCommandArgv(c, cmds[i].argc, cmds[i].argv, cmds[i].lens) != REDIS_OK) {
			rc->which[i] = -1;
			rc_ = -EIO;
			if (ni >= 0)
				node_drop(rc, ni);
			else
				rc->stale = 1;
			continue;
		}
		rc->which[i] = ni;
	}
	/* read in order; a node that fails loses the rest of its replies */
	for (i = 0; i < n; i++) {
		int ni = rc->which[i];
		redisReply *r = NULL;
		if (ni < 0 || !rc->node[ni].c)
			continue;
		if (redisGetReply(rc->node[ni].c, (void **)&r) != REDIS_OK) {
			node_drop(rc, ni);
			rc_ = -EIO;
			continue;
		}
		replies[i] = r;
	}
	/* redirects afterwards, so the pipelined replies above stay in step */
	for (i = 0; i < n; i++) {
		redisReply *r = replies[i];
		if (r && r->type == REDIS_REPLY_ERROR &&
		    (!strncmp(r->str, "MOVED ", 6) || !strncmp(r->str, "ASK ", 4) || !strncmp(r->str, "NOSCRIPT", 8)))
			replies[i] = follow(rc, &cmds[i], rc->which[i], r);
		if (!replies[i])
			rc_ = -EIO;
	}
	if (rc_ < 0 && !rc->cluster)
		mt_rc_disconnect(rc);
	if (rc_ < 0) {
		int any = 0;
		for (int k = 0; k < rc->nnodes; k++)
			any |= rc->node[k].c != NULL;
		if (!any)
			rc->connected = 0;
	}
	return rc_;
}

void mt_rc_get_stats(const mt_rc *rc, mt_rc_stats *st)
{
	*st = rc->st;
}

void mt_rc_free(mt_rc *rc)
{
	if (!rc)
		return;
	mt_rc_disconnect(rc);
	free(rc->which);
	free(rc);
}
