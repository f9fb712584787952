/* redis.c - Redis hit store sink: a delivery thread with pipelining, a crash-safe spool while
 * Redis is down or slow, and idempotent writes by one Lua script (hitstore.lua).
 *
 * Every command is built with redisAppendCommandArgv / redisCommandArgv (through rc.c) only;
 * record bytes are passed as arguments, never formatted into a command string.
 *
 * hit_id = hex SHA-1 of probe "\0" community_id "\0" flow start (µs) "\0" hit.seq "\0" hit.status:
 * stable across runs and probes' replays; each record (new, update, end) of a flow is its own hit.
 * Idempotency: the site's evidence zset mt:site:{IP}:hits holds every hit_id; the script adds
 * the id there first (ZADD NX) and changes nothing else when it was present. In cluster mode
 * the write is split by slot: the site call (which also decides "new"), then the stream call
 * (its own dedup zset mt:hits:seen{mt:hits} in the stream's slot) and plain ZADD GT / SADD
 * calls, which are idempotent by themselves; a replay after a partial failure redoes each part
 * and each part skips what it already has.
 */
#include "sink/redis.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hitstore_lua.h" /* generated from sink/hitstore.lua */
#include "sink/rc.h"
#include "sink/spool.h"
#include "util/json.h"
#include "util/log.h"
#include "util/sha1.h"
#include "util/siphash.h"

#define NTOK 2048
#define IPMAX 64
#define KEYMAX 96
#define NFAST 6 /* mining.protocol coin pool_host wallet worker agent */
#define NEXT 22   /* kind 'E': community_id, mining.algo, 13 miner values, 7 estimate values */
#define NF (NFAST + NEXT)
#define QMAX 1024 /* the fast fields' quoted forms together; longer: the script decodes the record */
#define NARR 7    /* the site's arrays: the fast fields, then probes */
#define KVMAX 512 /* longer values are never remembered (their hits take the full path) */

typedef struct prep {
	uint32_t off, len; /* record in the arena */
	int ok;            /* parsed */
	int done;          /* delivered (or rejected): not to be retried */
	char ip[IPMAX];
	char k_site[KEYMAX], k_hits[KEYMAX], k_flows[KEYMAX];
	char hid[41];
	char ts[24], fstart[24];
	/* kind 'P': a record without miner/estimate whose fast fields are given to the script (raw
	 * JSON strings without escapes, so equal to their decoded values); 'E': a record with them
	 * whose fields the script reads are all given (strings so, numbers as their JSON text); 'J':
	 * the script decodes the record. Fields: arena offset and length (length 0: absent) */
	int kind;
	int est;    /* 'E': the record has an estimate object */
	int nolean; /* the script refused this hit's lean path: send it in full */
	int lean;   /* sent lean in the current call */
	uint32_t fo[NF], fl[NF];
	/* and each fast field as cjson.encode writes it: qm 0 '"' value '"' (printable ASCII without
	 * '/'), 1 qb[qo..] ('/' as "\/"), 2 the script quotes it (UTF-8) */
	char qb[QMAX];
	uint32_t qo[NFAST], ql[NFAST];
	uint8_t qm[NFAST];
	const char *argv[19 + 2 * NFAST]; /* EVALSHA sha n, 5 keys, 10 args, fast flag, fields, quoted */
	size_t lens[19 + 2 * NFAST];
} prep;

/*
 * What the sink knows it stored, for lean hits: a set of 64-bit keyed hashes of (site, array,
 * value), each meaning "this value is in this site's array" (protocols, coins, pools, wallets,
 * workers, agents, probes), learnt from the script's replies on this connection. A hit whose
 * values are all known would change no array and no index set (index keys are added exactly
 * when an array value is), so it can take the script's lean path, which skips them and most
 * arguments.
 *
 * Why that stays true with many probes: arrays and index sets only grow (an array stops at 64
 * values, and a value that did not fit is never reported present), so what any writer saw
 * there stays there, whoever writes after. Only a deletion breaks it. The lean path checks the
 * site hash is there and lists this probe, so an operator's DEL of a site (or of all mt:*,
 * FLUSHDB) costs one refused lean hit, after which the sink forgets everything and resends in
 * full. What that check cannot see (someone HDELs a single array field, or deletes a site that
 * another writer recreated, with this probe, before this sink's next hit) heals when the
 * knowledge is dropped: on every reconnect, cluster redirect or topology refresh, script reload,
 * when the table fills, and at the latest every MT_REDIS_KNOW_TTL_S seconds. An operator who
 * edits sites by hand and wants them exact at once restarts the probes. In a cluster every hit
 * takes the full path (the site, stream and index writes are separate calls there anyway).
 */
typedef struct know {
	uint64_t *t;  /* open addressing, 0 = empty */
	size_t cap, n; /* cap: a power of two */
	uint8_t key[16];
	uint64_t born_ms, sig;
} know;

typedef struct counter {
	const char *name;
	uint64_t v;
} counter;

typedef struct rsink {
	mt_sink base;
	mt_redis_url u;
	char probe[128];
	char maxlen[24], ttl[24], now[24];
	unsigned batch, heartbeat_s, drain_ms, to_ms;
	mt_rc *rc;
	mt_spool *sp;
	pthread_t th;
	int th_started;

	/* shared with writers: the queue (ring of [u32 len][bytes]), under m */
	pthread_mutex_t m;
	pthread_cond_t cv;      /* work for the thread */
	pthread_cond_t idle;    /* the thread finished a step */
	uint8_t *q;
	size_t qcap, qhead, qtail, qused, qn;
	int stop, waiting, inflight;
	uint64_t wqueued, wdropped; /* writers' counters */
	mt_redis_stats st;      /* published copy (thread's counters + writers' queued/dropped) */
	counter ctr[MT_REDIS_MAX_COUNTERS];
	int nctr;

	/* the thread's own */
	int up;
	uint64_t next_try_ms, backoff_ms, next_hb_ms;
	uint8_t *ab;            /* arena: a batch of records */
	size_t abcap, abused;
	prep *pr;
	size_t npr, nheld;      /* nheld: batch kept for retry (no spool) */
	mt_json_tok *tok;
	mt_rc_cmd *cmds;
	redisReply **rep;
	size_t cmdcap;
	mt_redis_stats t;       /* thread-side counters */
	int logged_down;
	int no_lean;
	know kn;
} rsink;

/* ---- URL ---- */

static int parse_uint(const char *s, size_t n, long max, int *out)
{
	long v = 0;
	if (n == 0 || n > 9)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int copy_n(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int mt_redis_url_parse(const char *url, mt_redis_url *o)
{
	memset(o, 0, sizeof(*o));
	if (!url)
		return -EINVAL;
	if (strncmp(url, "unix://", 7) == 0) {
		const char *p = url + 7, *q = strchr(p, '?');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n < 2 || p[0] != '/' || copy_n(o->path, sizeof(o->path), p, n))
			return -EINVAL;
		o->is_unix = 1;
		if (q) {
			if (strncmp(q, "?db=", 4) != 0)
				return -EINVAL;
			return parse_uint(q + 4, strlen(q + 4), 15, &o->db);
		}
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return -EINVAL;
	const char *p = url + 8;
	const char *at = strrchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon) {
			if (copy_n(o->user, sizeof(o->user), p, (size_t)(colon - p)) ||
			    copy_n(o->pass, sizeof(o->pass), colon + 1, (size_t)(at - colon - 1)) ||
			    o->pass[0] == '\0')
				return -EINVAL;
		} else if (copy_n(o->pass, sizeof(o->pass), p, (size_t)(at - p)) || o->pass[0] == '\0') {
			return -EINVAL;
		}
		p = at + 1;
	}
	const char *slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	const char *hc;
	size_t hostlen;
	if (hl > 0 && p[0] == '[') {
		const char *rb = memchr(p, ']', hl);
		if (!rb)
			return -EINVAL;
		if (copy_n(o->host, sizeof(o->host), p + 1, (size_t)(rb - p - 1)))
			return -EINVAL;
		hc = rb + 1;
		if (hc < p + hl && *hc != ':')
			return -EINVAL;
	} else {
		hc = memchr(p, ':', hl);
		hostlen = hc ? (size_t)(hc - p) : hl;
		if (copy_n(o->host, sizeof(o->host), p, hostlen))
			return -EINVAL;
	}
	if (o->host[0] == '\0')
		return -EINVAL;
	for (const char *h = o->host; *h; h++)
		if (*h == ' ' || *h == '/' || *h == '?' || *h == '@')
			return -EINVAL;
	o->port = 6379;
	if (hc && hc < p + hl) {
		if (parse_uint(hc + 1, (size_t)(p + hl - hc - 1), 65535, &o->port) || o->port == 0)
			return -EINVAL;
	}
	if (slash) {
		if (slash[1] == '\0')
			return 0;
		return parse_uint(slash + 1, strlen(slash + 1), 15, &o->db);
	}
	return 0;
}

/* ---- times ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (RFC 3339, UTC, as the hit records print it) to µs since 1970. */
static int iso_us(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se, us = 0;
	size_t n = strlen(s);
	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || se > 60)
		return -1;
	size_t p = 19;
	if (s[p] == '.') {
		int k = 0;
		for (p++; p < n && s[p] >= '0' && s[p] <= '9'; p++, k++)
			if (k < 6)
				us = us * 10 + (s[p] - '0');
		if (k == 0)
			return -1;
		for (; k < 6; k++)
			us *= 10;
	}
	if (p + 1 != n || s[p] != 'Z')
		return -1;
	/* days from the civil date (proleptic Gregorian), era-based */
	int yy = mo <= 2 ? y - 1 : y;
	int era = yy / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	*out = ((days * 86400 + h * 3600 + mi * 60 + se) * 1000000) + us;
	return 0;
}

/* ---- the queue (writers) ---- */

static void q_put(rsink *s, const void *p, size_t n)
{
	size_t first = s->qcap - s->qtail < n ? s->qcap - s->qtail : n;
	memcpy(s->q + s->qtail, p, first);
	memcpy(s->q, (const uint8_t *)p + first, n - first);
	s->qtail = (s->qtail + n) % s->qcap;
}

static int rs_write(mt_sink *b, const char *json, size_t len)
{
	rsink *s = (rsink *)b;
	uint32_t l = (uint32_t)len;
	int rc = 0;

	pthread_mutex_lock(&s->m);
	if (len > MT_REDIS_MAX_RECORD || s->qused + 4 + len > s->qcap || s->stop) {
		s->wdropped++;
		s->st.dropped++;
		b->errors++;
		rc = -ENOBUFS;
	} else {
		q_put(s, &l, 4);
		q_put(s, json, len);
		s->qused += 4 + len;
		s->qn++;
		s->wqueued++;
		s->st.queued++;
		b->written++;
		/* wake the thread for a full batch; else it looks every 100 ms anyway */
		if (s->waiting && s->qn >= s->batch)
			pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->m);
	return rc;
}

/* ---- the arena (thread) ---- */

static int arena_add(rsink *s, const void *p, size_t n)
{
	if (s->npr >= s->batch)
		return -ENOSPC;
	if (s->abused + n > s->abcap) {
		size_t nc = s->abcap ? s->abcap : 1 << 16;
		while (nc < s->abused + n)
			nc *= 2;
		uint8_t *na = realloc(s->ab, nc);
		if (!na)
			return -ENOMEM;
		s->ab = na;
		s->abcap = nc;
	}
	if (n)
		memcpy(s->ab + s->abused, p, n);
	prep *r = &s->pr[s->npr++];
	r->off = (uint32_t)s->abused;
	r->len = (uint32_t)n;
	r->ok = r->done = 0;
	s->abused += n;
	return 0;
}

static void arena_clear(rsink *s)
{
	s->npr = s->abused = 0;
}

/* Copies n bytes at ring offset off out (wrapping). */
static void q_peek(const rsink *s, size_t off, void *p, size_t n)
{
	size_t first = s->qcap - off < n ? s->qcap - off : n;
	memcpy(p, s->q + off, first);
	memcpy((uint8_t *)p + first, s->q, n - first);
}

/*
 * Moves up to max queued records into the arena. Returns how many. The bytes are copied
 * outside the lock: writers only fill free space, and only this thread frees it.
 */
static size_t take(rsink *s, size_t max)
{
	size_t n = 0, off, bytes = 0, room = s->batch - s->npr;
	pthread_mutex_lock(&s->m);
	off = s->qhead;
	size_t avail = s->qn;
	pthread_mutex_unlock(&s->m);
	if (max > room)
		max = room;
	while (n < max && n < avail) {
		uint32_t l;
		q_peek(s, off, &l, 4);
		if (s->abused + l > s->abcap) {
			size_t nc = s->abcap ? s->abcap : 1 << 16;
			while (nc < s->abused + l)
				nc *= 2;
			uint8_t *na = realloc(s->ab, nc);
			if (!na)
				break;
			s->ab = na;
			s->abcap = nc;
		}
		prep *r = &s->pr[s->npr++];
		r->off = (uint32_t)s->abused;
		r->len = l;
		r->ok = r->done = 0;
		if (l) /* an empty record may come before any buffer exists */
			q_peek(s, (off + 4) % s->qcap, s->ab + s->abused, l);
		s->abused += l;
		off = (off + 4 + l) % s->qcap;
		bytes += 4 + l;
		n++;
	}
	pthread_mutex_lock(&s->m);
	s->qhead = off;
	s->qused -= bytes;
	s->qn -= n;
	s->inflight = s->npr > 0;
	pthread_mutex_unlock(&s->m);
	return n;
}

/* ---- what the sink knows it stored (see struct know) ---- */

static void know_clear(know *k)
{
	if (k->t && k->n)
		memset(k->t, 0, k->cap * sizeof(*k->t));
	k->n = 0;
	k->born_ms = mono_ms();
}

/* Hash of (ip, array i, value); 0 when the value is too long to remember. */
static uint64_t know_hash(const know *k, const char *ip, int i, const char *v, size_t vl)
{
	uint8_t b[IPMAX + 2 + KVMAX];
	size_t il = strlen(ip);
	if (vl > KVMAX || il >= IPMAX)
		return 0;
	memcpy(b, ip, il);
	b[il] = '\0';
	b[il + 1] = (uint8_t)i;
	memcpy(b + il + 2, v, vl);
	uint64_t h = mt_siphash24(k->key, b, il + 2 + vl);
	return h ? h : 1;
}

static int know_has(const know *k, uint64_t h)
{
	if (!k->t || !h)
		return 0;
	for (size_t i = h & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
		if (k->t[i] == h)
			return 1;
		if (!k->t[i])
			return 0;
	}
}

static void know_add(know *k, uint64_t h)
{
	if (!k->t || !h || know_has(k, h))
		return;
	if (k->n >= k->cap / 2) /* full enough: start over (one full hit per site relearns it) */
		know_clear(k);
	size_t i = h & (k->cap - 1);
	while (k->t[i])
		i = (i + 1) & (k->cap - 1);
	k->t[i] = h;
	k->n++;
}

/* Value of array i (0..5 the fast fields, 6 the probe) of a record: pointer and length. */
static const char *arr_val(const rsink *s, const prep *r, int i, size_t *len)
{
	if (i == NFAST) {
		*len = strlen(s->probe);
		return s->probe;
	}
	*len = r->fl[i];
	return (const char *)s->ab + r->fo[i];
}

/* 1 when every value of r's arrays is known to be in its site's arrays. */
static int know_all(const rsink *s, const prep *r)
{
	for (int i = 0; i < NARR; i++) {
		size_t l;
		const char *v = arr_val(s, r, i, &l);
		if (l && !know_has(&s->kn, know_hash(&s->kn, r->ip, i, v, l)))
			return 0;
	}
	return 1;
}

/* The script says which of r's values are in their arrays now (bit i: array i). */
static void know_learn(rsink *s, const prep *r, long long bits)
{
	for (int i = 0; i < NARR; i++) {
		size_t l;
		const char *v = arr_val(s, r, i, &l);
		if (l && (bits >> i & 1))
			know_add(&s->kn, know_hash(&s->kn, r->ip, i, v, l));
	}
}

/* Drops the knowledge when the connection or the cluster changed, or it is old. */
static void know_check(rsink *s)
{
	mt_rc_stats rs;
	mt_rc_get_stats(s->rc, &rs);
	uint64_t sig = rs.reconnects + rs.refreshes + rs.noscript + rs.moved + rs.ask;
	if (sig != s->kn.sig || mono_ms() - s->kn.born_ms >= MT_REDIS_KNOW_TTL_S * 1000u) {
		s->kn.sig = sig;
		know_clear(&s->kn);
	}
}

/* ---- records ---- */

static void tok_str(const uint8_t *j, const mt_json_tok *t, int n, int obj, const char *key, char *out,
		    size_t cap)
{
	out[0] = '\0';
	if (obj < 0)
		return;
	int i = mt_json_get(j, t, n, obj, key);
	if (i < 0)
		return;
	if (t[i].type == MT_JSON_STRING) {
		if (mt_json_str(j, &t[i], out, cap) < 0)
			out[0] = '\0';
	} else if (t[i].type == MT_JSON_NUMBER && t[i].len < cap) {
		memcpy(out, j + t[i].start, t[i].len);
		out[t[i].len] = '\0';
	}
}

static int tok_obj(const uint8_t *j, const mt_json_tok *t, int n, int obj, const char *key)
{
	if (obj < 0)
		return -1;
	int i = mt_json_get(j, t, n, obj, key);
	return (i >= 0 && t[i].type == MT_JSON_OBJECT) ? i : -1;
}

static int valid_ip(const char *ip)
{
	if (!ip[0])
		return 0;
	for (const char *p = ip; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
		      *p == '.' || *p == ':'))
			return 0;
	return 1;
}

/*
 * Field fi of r from token i (negative: absent): a string without escapes (want 's') or a
 * number (want 'n'); -1 when the value is of another kind (the script then decodes).
 */
static int field(prep *r, const mt_json_tok *t, int i, int fi, int want)
{
	r->fo[fi] = r->fl[fi] = 0;
	if (i < 0 || t[i].type == MT_JSON_NULL)
		return 0;
	if (t[i].type != (want == 's' ? MT_JSON_STRING : MT_JSON_NUMBER))
		return -1;
	r->fo[fi] = r->off + t[i].start;
	r->fl[fi] = t[i].len;
	return 0;
}

/*
 * The fields the script needs, so that it need not decode the record (struct prep). Sets
 * r->kind to 'E' when the record has miner or estimate; -1 when the script must decode it.
 */
static int fields(rsink *s, prep *r, const uint8_t *j, const mt_json_tok *t, int n)
{
	static const char *const fk[NFAST] = { "protocol", "coin", "pool_host", "wallet", "worker", "agent" };
	static const char *const geo_k[4] = { "country", "subdivision", "city", "city_zh" };
	static const char *const ent_k[4] = { "company", "credit_code", "site_address", "kind" };
	static const char *const hr_k[3] = { "hashrate_hs", "hashrate_low_hs", "hashrate_high_hs" };
	static const char *const pw_k[3] = { "low", "best", "high" };
	int mining = tok_obj(j, t, n, 0, "mining"), k;
	size_t qn = 0;
	int miner = mt_json_get(j, t, n, 0, "miner"), est = mt_json_get(j, t, n, 0, "estimate");

	r->kind = miner >= 0 || est >= 0 ? 'E' : 'P';
	for (k = 0; k < NFAST; k++) {
		int i = mining < 0 ? -1 : mt_json_get(j, t, n, mining, fk[k]);
		r->qm[k] = 0;
		if (field(r, t, i, k, 's') < 0)
			return -1;
		for (uint32_t c = 0; c < r->fl[k]; c++) {
			uint8_t ch = s->ab[r->fo[k] + c];
			if (ch == '\\')
				return -1; /* an escape: the raw bytes are not the value */
			if (ch < 0x20 || ch > 0x7e)
				r->qm[k] = 2; /* controls (invalid JSON anyway), UTF-8: the script's own quoting */
			else if (ch == '/' && r->qm[k] == 0)
				r->qm[k] = 1;
		}
		if (r->qm[k] != 1)
			continue;
		/* cjson.encode writes '/' as "\/" */
		if (qn + 2 * (size_t)r->fl[k] + 2 > sizeof(r->qb))
			return -1;
		r->qo[k] = (uint32_t)qn;
		r->qb[qn++] = '"';
		for (uint32_t c = 0; c < r->fl[k]; c++) {
			uint8_t ch = s->ab[r->fo[k] + c];
			if (ch == '/')
				r->qb[qn++] = '\\';
			r->qb[qn++] = (char)ch;
		}
		r->qb[qn++] = '"';
		r->ql[k] = (uint32_t)(qn - r->qo[k]);
	}
	if (r->kind == 'P')
		return 0;
	/* kind 'E': community_id, mining.algo, miner's geo (4 strings, 2 numbers), asn (number,
	 * string), enterprise (4 strings), verdict, estimate's algo and 6 numbers */
	int mo = tok_obj(j, t, n, 0, "miner"), eo = tok_obj(j, t, n, 0, "estimate");
	int geo = tok_obj(j, t, n, mo, "geo"), asn = tok_obj(j, t, n, mo, "asn");
	int ent = tok_obj(j, t, n, mo, "enterprise"), pw = tok_obj(j, t, n, eo, "power_w");
#define G(obj, key) ((obj) < 0 ? -1 : mt_json_get(j, t, n, (obj), (key)))
	int f = NFAST, bad = 0;
	bad |= field(r, t, G(0, "community_id"), f++, 's');
	bad |= field(r, t, G(mining, "algo"), f++, 's');
	for (k = 0; k < 4; k++)
		bad |= field(r, t, G(geo, geo_k[k]), f++, 's');
	bad |= field(r, t, G(geo, "latitude"), f++, 'n');
	bad |= field(r, t, G(geo, "longitude"), f++, 'n');
	bad |= field(r, t, G(asn, "number"), f++, 'n');
	bad |= field(r, t, G(asn, "org"), f++, 's');
	for (k = 0; k < 4; k++)
		bad |= field(r, t, G(ent, ent_k[k]), f++, 's');
	bad |= field(r, t, G(mo, "verdict"), f++, 's');
	bad |= field(r, t, G(eo, "algo"), f++, 's');
	for (k = 0; k < 3; k++)
		bad |= field(r, t, G(eo, hr_k[k]), f++, 'n');
	for (k = 0; k < 3; k++)
		bad |= field(r, t, G(pw, pw_k[k]), f++, 'n');
#undef G
	r->est = eo >= 0;
	if (bad)
		return -1;
	for (k = NFAST; k < NF; k++) /* strings without escapes only */
		if (r->fl[k] && memchr(s->ab + r->fo[k], '\\', r->fl[k]))
			return -1;
	return 0;
}

/* Fills r's keys, hit id and times from its JSON. 0, or -EINVAL for a record we cannot store. */
static int prep_rec(rsink *s, prep *r)
{
	const uint8_t *j;
	mt_json_tok *t = s->tok;
	char cid[256], seq[32], status[32], tbuf[64];
	int64_t fus = 0, tus = 0;
	int n;

	if (!r->len || !s->ab) /* an empty record: nothing to store (and maybe no buffer yet) */
		return -EINVAL;
	j = s->ab + r->off;
	n = mt_json_parse(j, r->len, t, NTOK, MT_JSON_DEFAULT_MAX_DEPTH);

	r->nolean = 0;
	if (n < 1 || t[0].type != MT_JSON_OBJECT)
		return -EINVAL;
	tok_str(j, t, n, tok_obj(j, t, n, 0, "miner"), "ip", r->ip, sizeof(r->ip));
	if (!r->ip[0])
		tok_str(j, t, n, 0, "src_ip", r->ip, sizeof(r->ip));
	if (!valid_ip(r->ip))
		return -EINVAL;
	tok_str(j, t, n, 0, "community_id", cid, sizeof(cid));
	int flow = tok_obj(j, t, n, 0, "flow"), hit = tok_obj(j, t, n, 0, "hit");
	tok_str(j, t, n, flow, "start", tbuf, sizeof(tbuf));
	if (iso_us(tbuf, &fus) < 0)
		fus = 0;
	tok_str(j, t, n, 0, "timestamp", tbuf, sizeof(tbuf));
	if (iso_us(tbuf, &tus) < 0)
		tus = fus;
	if (!fus)
		fus = tus;
	r->kind = s->no_lean || fields(s, r, j, t, n) < 0 ? 'J' : (r->kind == 'E' ? 'E' : 'P');
	tok_str(j, t, n, hit, "seq", seq, sizeof(seq));
	tok_str(j, t, n, hit, "status", status, sizeof(status));
	snprintf(r->fstart, sizeof(r->fstart), "%lld", (long long)fus);
	snprintf(r->ts, sizeof(r->ts), "%lld", (long long)(tus / 1000000));

	mt_sha1 h;
	uint8_t d[20];
	static const char hex[] = "0123456789abcdef";
	mt_sha1_init(&h);
	mt_sha1_update(&h, s->probe, strlen(s->probe) + 1);
	mt_sha1_update(&h, cid, strlen(cid) + 1);
	mt_sha1_update(&h, r->fstart, strlen(r->fstart) + 1);
	mt_sha1_update(&h, seq, strlen(seq) + 1);
	mt_sha1_update(&h, status, strlen(status));
	mt_sha1_final(&h, d);
	for (int i = 0; i < 20; i++) {
		r->hid[2 * i] = hex[d[i] >> 4];
		r->hid[2 * i + 1] = hex[d[i] & 15];
	}
	r->hid[40] = '\0';
	snprintf(r->k_site, sizeof(r->k_site), "mt:site:{%s}", r->ip);
	snprintf(r->k_hits, sizeof(r->k_hits), "mt:site:{%s}:hits", r->ip);
	snprintf(r->k_flows, sizeof(r->k_flows), "mt:site:{%s}:flows", r->ip);
	return 0;
}

/* The 12 fast-field arguments of a 'P' or 'E' record: values, then quoted forms. */
static int fast_args(const rsink *s, const prep *r, const char **a, size_t *l)
{
	for (int f = 0; f < NFAST; f++) {
		a[f] = (const char *)s->ab + r->fo[f];
		l[f] = r->fl[f];
		a[NFAST + f] = r->qm[f] == 0 ? "" : r->qm[f] == 1 ? r->qb + r->qo[f] : "?";
		l[NFAST + f] = r->qm[f] == 1 ? r->ql[f] : r->qm[f] == 0 ? 0 : 1;
	}
	return 2 * NFAST;
}

/* EVALSHA sha nkeys keys... op json ip probe hid ts fstart now maxlen ttl */
static int build_eval(rsink *s, prep *r, const char *op)
{
	static const char *const stream_keys[2] = { "mt:hits", "mt:hits:seen{mt:hits}" };
	int k = 0, nk;
	const char **a = r->argv;
	a[k++] = "EVALSHA";
	a[k++] = mt_rc_sha(s->rc);
	if (op[1] == 't') { /* stream */
		a[k++] = "2";
		a[k++] = stream_keys[0];
		a[k++] = stream_keys[1];
	} else {
		nk = op[0] == 'a' ? 5 : 3;
		a[k++] = nk == 5 ? "5" : "3";
		a[k++] = r->k_site;
		a[k++] = r->k_hits;
		a[k++] = r->k_flows;
		if (nk == 5) {
			a[k++] = "mt:hits";
			a[k++] = "mt:sites";
		}
	}
	a[k++] = op;
	a[k++] = (const char *)s->ab + r->off;
	a[k++] = r->ip;
	a[k++] = s->probe;
	a[k++] = r->hid;
	a[k++] = r->ts;
	a[k++] = r->fstart;
	a[k++] = s->now;
	a[k++] = s->maxlen;
	a[k++] = s->ttl;
	for (int i = 0; i < k; i++)
		r->lens[i] = strlen(a[i]);
	/* the record is not NUL-terminated in the arena */
	for (int i = 0; i < k; i++)
		if (a[i] == (const char *)s->ab + r->off)
			r->lens[i] = r->len;
	if (op[1] != 't') {
		r->lens[k] = 1;
		a[k++] = r->kind == 'P' ? "1" : "0";
		if (r->kind == 'P')
			k += fast_args(s, r, a + k, r->lens + k);
	}
	return k;
}

static int cmd_room(rsink *s, size_t n)
{
	if (n <= s->cmdcap)
		return 0;
	mt_rc_cmd *c = realloc(s->cmds, n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	s->cmds = c;
	redisReply **r = realloc(s->rep, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->rep = r;
	s->cmdcap = n;
	return 0;
}

/* A reply that says "not now" (retry later) rather than "this record is bad". */
static int transient(const redisReply *r)
{
	static const char *const t[] = { "LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "OOM", "READONLY",
					 "MASTERDOWN", "NOAUTH", "NOPERM", "NOREPLICAS", "MOVED", "ASK",
					 "NOSCRIPT" };
	if (!r)
		return 1;
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strncmp(r->str, t[i], strlen(t[i])) == 0)
			return 1;
	return 0;
}

static void free_replies(rsink *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->rep[i]) {
			freeReplyObject(s->rep[i]);
			s->rep[i] = NULL;
		}
}

/*
 * Not a cluster: up to MT_REDIS_HITS_PER_CALL records per EVALSHA (op 'many'), which spares the
 * script's per-call cost; the values common to the call (probe, now, maxlen, seen TTL) are given
 * once. A plain record whose values the sink knows stored goes lean (struct know). Same counting
 * and retry rules as one call per record; a refused lean hit stays not done, marked nolean.
 */
static int deliver_many(rsink *s, const size_t *map, size_t n)
{
	enum { PER = 6 + 2 * NFAST + NEXT + 1, HEAD = 11 }; /* most ARGV per hit; EVALSHA sha nkeys mt:hits mt:sites many n probe now maxlen ttl */
	size_t g = MT_REDIS_HITS_PER_CALL, ncall = (n + g - 1) / g, na = ncall * HEAD + n * (3 + PER);
	const char **args = calloc(na, sizeof(*args));
	size_t *lens = calloc(na, sizeof(*lens));
	char (*num)[2][16] = calloc(ncall, sizeof(*num));
	int fail = 0;
	static const char *const kinds[] = { "L", "K", "P", "E", "J" }; /* lean P, lean E, ... */

	if (!args || !lens || !num || cmd_room(s, ncall) < 0) {
		free(args);
		free(lens);
		free(num);
		return -ENOMEM;
	}
	size_t at = 0;
	for (size_t c = 0; c < ncall; c++) {
		size_t first = c * g, cnt = n - first < g ? n - first : g, nk = 2;
		const char **a = args + at;
		size_t *l = lens + at, k = 0;
		for (size_t i = first; i < first + cnt; i++) {
			prep *r = &s->pr[map[i]];
			r->lean = r->kind != 'J' && !r->nolean && !s->no_lean && know_all(s, r);
			nk += r->lean && r->kind == 'P' ? 2 : 3;
		}
		snprintf(num[c][0], sizeof(num[c][0]), "%zu", nk);
		snprintf(num[c][1], sizeof(num[c][1]), "%zu", cnt);
		a[k++] = "EVALSHA";
		a[k++] = mt_rc_sha(s->rc);
		a[k++] = num[c][0];
		a[k++] = "mt:hits";
		a[k++] = "mt:sites";
		for (size_t i = first; i < first + cnt; i++) {
			prep *r = &s->pr[map[i]];
			a[k++] = r->k_site;
			a[k++] = r->k_hits;
			if (!r->lean || r->kind != 'P')
				a[k++] = r->k_flows;
		}
		a[k++] = "many";
		a[k++] = num[c][1];
		a[k++] = s->probe;
		a[k++] = s->now;
		a[k++] = s->maxlen;
		a[k++] = s->ttl;
		for (size_t i = 0; i < k; i++)
			l[i] = strlen(a[i]);
		for (size_t i = first; i < first + cnt; i++) {
			prep *r = &s->pr[map[i]];
			a[k] = kinds[r->lean ? (r->kind == 'P' ? 0 : 1) : r->kind == 'P' ? 2 : r->kind == 'E' ? 3 : 4];
			l[k++] = 1;
			a[k] = (const char *)s->ab + r->off;
			l[k++] = r->len;
			a[k] = r->ip;
			l[k++] = strlen(r->ip);
			a[k] = r->hid;
			l[k++] = 40;
			a[k] = r->ts;
			l[k++] = strlen(r->ts);
			a[k] = r->fstart;
			l[k++] = strlen(r->fstart);
			if ((r->lean && r->kind == 'P') || r->kind == 'J')
				continue;
			k += fast_args(s, r, a + k, l + k);
			if (r->kind != 'E')
				continue;
			for (int f = NFAST; f < NF; f++) {
				if (f == NFAST + 15) { /* after verdict: the estimate flag */
					a[k] = r->est ? "1" : "";
					l[k++] = r->est ? 1 : 0;
				}
				a[k] = (const char *)s->ab + r->fo[f];
				l[k++] = r->fl[f];
			}
		}
		s->cmds[c] = (mt_rc_cmd){ 0, (int)k, a, l };
		at += k;
	}
	if (mt_rc_exec(s->rc, ncall, s->cmds, s->rep) < 0)
		fail = 1;
	for (size_t c = 0; c < ncall; c++) {
		size_t first = c * g, cnt = n - first < g ? n - first : g;
		redisReply *y = s->rep[c];
		if (transient(y)) {
			fail = 1;
			continue;
		}
		for (size_t i = 0; i < cnt; i++) {
			prep *r = &s->pr[map[first + i]];
			redisReply *e = y->type == REDIS_REPLY_ARRAY && i < y->elements ? y->element[i] : y;
			if (transient(e)) {
				fail = 1;
				continue;
			}
			if (e->type == REDIS_REPLY_INTEGER && e->integer < 0) {
				/* lean refused: the site is not what the sink knew (deleted); forget all, resend */
				r->nolean = 1;
				s->t.lean_refused++;
				know_clear(&s->kn);
				continue;
			}
			r->done = 1;
			if (e->type == REDIS_REPLY_INTEGER && e->integer >= 1) {
				s->t.sent++;
				if (r->lean)
					s->t.lean++;
				else if (r->kind != 'J')
					know_learn(s, r, e->integer >> 1);
			} else if (e->type == REDIS_REPLY_INTEGER) {
				s->t.duplicates++;
			} else {
				s->t.rejected++;
				mt_debug("redis: record refused: %s", e->type == REDIS_REPLY_ERROR ? e->str : "?");
			}
		}
	}
	free_replies(s, ncall);
	free(args);
	free(lens);
	free(num);
	return fail ? -EIO : 0;
}

/*
 * Delivers the arena's records not done yet. Marks each delivered (or rejected) one done.
 * 0 when all are done, -EIO when some must be retried (the connection is then considered down).
 */
static int deliver(rsink *s)
{
	size_t n = 0, i;
	int fail = 0;

	snprintf(s->now, sizeof(s->now), "%lld", (long long)time(NULL));
	for (i = 0; i < s->npr; i++) {
		prep *r = &s->pr[i];
		if (r->done || r->ok)
			continue;
		if (prep_rec(s, r) < 0) {
			r->done = 1;
			s->t.rejected++;
			continue;
		}
		r->ok = 1;
	}
	if (cmd_room(s, s->npr) < 0)
		return -ENOMEM;
	int cluster = mt_rc_is_cluster(s->rc);
	size_t *map = NULL;
	map = calloc(s->npr ? s->npr : 1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	if (!cluster) {
		know_check(s);
		int rc = 0;
		/* a second round for lean hits the script refused (they go in full then) */
		for (int round = 0; round < 2 && rc == 0; round++) {
			for (n = 0, i = 0; i < s->npr; i++)
				if (!s->pr[i].done)
					map[n++] = i;
			rc = n ? deliver_many(s, map, n) : 0;
		}
		for (i = 0; i < s->npr && rc == 0; i++)
			if (!s->pr[i].done)
				rc = -EIO; /* refused twice: the site changes under us; retried later */
		free(map);
		return rc;
	}
	for (i = 0; i < s->npr; i++) {
		prep *r = &s->pr[i];
		if (r->done)
			continue;
		int argc = build_eval(s, r, cluster ? "site" : "all");
		s->cmds[n].slot = mt_rc_slot(r->k_site, strlen(r->k_site));
		s->cmds[n].argc = argc;
		s->cmds[n].argv = r->argv;
		s->cmds[n].lens = r->lens;
		map[n++] = i;
	}
	if (n == 0) {
		free(map);
		return 0;
	}
	if (mt_rc_exec(s->rc, n, s->cmds, s->rep) < 0)
		fail = 1;
	if (!cluster) {
		for (i = 0; i < n; i++) {
			prep *r = &s->pr[map[i]];
			redisReply *y = s->rep[i];
			if (transient(y)) {
				fail = 1;
				continue;
			}
			r->done = 1;
			if (y->type == REDIS_REPLY_INTEGER && y->integer == 1)
				s->t.sent++;
			else if (y->type == REDIS_REPLY_INTEGER)
				s->t.duplicates++;
			else {
				s->t.rejected++;
				mt_debug("redis: record refused: %s", y->type == REDIS_REPLY_ERROR ? y->str : "?");
			}
		}
		free_replies(s, n);
		free(map);
		return fail ? -EIO : 0;
	}
	/* cluster: second round, the stream and the other slots' keys, for every site call that worked */
	size_t n1 = n, n2 = 0, cap2 = 0;
	for (i = 0; i < n1; i++) {
		redisReply *y = s->rep[i];
		if (y && y->type == REDIS_REPLY_ARRAY)
			cap2 += 2 + y->elements;
	}
	mt_rc_cmd *c2 = calloc(cap2 + 1, sizeof(*c2));
	redisReply **r2 = calloc(cap2 + 1, sizeof(*r2));
	size_t *own = calloc(cap2 + 1, sizeof(*own));
	const char **args = calloc(5 * (cap2 + 1), sizeof(*args));
	size_t *lens = calloc(5 * (cap2 + 1), sizeof(*lens));
	int *status = calloc(n1, sizeof(*status));
	int *bad = calloc(n1, sizeof(*bad));
	if (!c2 || !r2 || !own || !args || !lens || !status || !bad) {
		fail = 1;
		goto out;
	}
	for (i = 0; i < n1; i++) {
		prep *r = &s->pr[map[i]];
		redisReply *y = s->rep[i];
		status[i] = -1;
		if (transient(y)) {
			fail = 1;
			continue;
		}
		if (y->type != REDIS_REPLY_ARRAY || y->elements < 3 || y->element[0]->type != REDIS_REPLY_INTEGER ||
		    y->element[2]->type != REDIS_REPLY_STRING) {
			r->done = 1;
			s->t.rejected++;
			continue;
		}
		status[i] = (int)y->element[0]->integer;
		/* the stream call reuses the record's argv (the site call has been read) */
		int argc = build_eval(s, r, "stream");
		c2[n2] = (mt_rc_cmd){ mt_rc_slot("mt:hits", 7), argc, r->argv, r->lens };
		own[n2++] = i;
		const char **z = &args[5 * n2];
		size_t *zl = &lens[5 * n2];
		z[0] = "ZADD"; z[1] = "mt:sites"; z[2] = "GT"; z[3] = y->element[2]->str; z[4] = r->ip;
		for (int k = 0; k < 5; k++)
			zl[k] = strlen(z[k]);
		c2[n2] = (mt_rc_cmd){ mt_rc_slot("mt:sites", 8), 5, z, zl };
		own[n2++] = i;
		for (size_t k = 3; k < y->elements; k++) {
			if (y->element[k]->type != REDIS_REPLY_STRING)
				continue;
			const char **b2 = &args[5 * n2];
			size_t *bl = &lens[5 * n2];
			b2[0] = "SADD"; b2[1] = y->element[k]->str; b2[2] = r->ip;
			bl[0] = 4; bl[1] = y->element[k]->len; bl[2] = strlen(r->ip);
			c2[n2] = (mt_rc_cmd){ mt_rc_slot(b2[1], bl[1]), 3, b2, bl };
			own[n2++] = i;
		}
	}
	if (n2 && mt_rc_exec(s->rc, n2, c2, r2) < 0)
		fail = 1;
	for (size_t k = 0; k < n2; k++)
		if (transient(r2[k]))
			bad[own[k]] = 1;
	for (i = 0; i < n1; i++) {
		if (status[i] < 0)
			continue;
		if (status[i] == 1)
			s->t.sent++; /* the site call decides "new": counted once even if the rest is retried */
		else if (!bad[i])
			s->t.duplicates++;
		if (bad[i])
			fail = 1;
		else
			s->pr[map[i]].done = 1;
	}
	for (size_t k = 0; k < n2; k++)
		if (r2[k])
			freeReplyObject(r2[k]);
out:
	free_replies(s, n1);
	free(c2);
	free(r2);
	free(own);
	free(args);
	free(lens);
	free(status);
	free(bad);
	free(map);
	return fail ? -EIO : 0;
}

/* ---- the delivery thread ---- */

static void publish_stats(rsink *s)
{
	pthread_mutex_lock(&s->m);
	s->st = s->t;
	s->st.queued = s->wqueued;
	s->st.dropped = s->wdropped + s->t.dropped;
	if (s->sp) {
		mt_spool_stats ss;
		mt_spool_get_stats(s->sp, &ss);
		s->st.dropped += ss.dropped;
		s->st.torn = ss.torn;
		s->st.spool_found = ss.found;
		s->st.spool_pending = ss.pending;
		s->st.unspooled = ss.delivered;
	}
	mt_rc_stats rs;
	mt_rc_get_stats(s->rc, &rs);
	s->st.moved = rs.moved;
	s->st.ask = rs.ask;
	pthread_mutex_unlock(&s->m);
}

static void set_down(rsink *s, const char *why)
{
	s->up = 0;
	s->t.failures++;
	mt_rc_disconnect(s->rc);
	know_clear(&s->kn);
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 250;
	if (s->backoff_ms > 2000)
		s->backoff_ms = 2000;
	s->next_try_ms = mono_ms() + s->backoff_ms;
	if (!s->logged_down) {
		mt_warn("redis: %s; %s", why, s->sp ? "hits go to the spool until it is back" : "hits wait in memory");
		s->logged_down = 1;
	}
}

static int try_up(rsink *s)
{
	char err[256];
	if (s->up)
		return 1;
	if (mono_ms() < s->next_try_ms)
		return 0;
	if (mt_rc_connect(s->rc, err, sizeof(err)) < 0) {
		set_down(s, err);
		return 0;
	}
	if (s->logged_down)
		mt_info("redis: connected again");
	s->up = 1;
	s->logged_down = 0;
	s->backoff_ms = 0;
	return 1;
}

/* Arena records not done go to the spool (or count as dropped without one). */
static void arena_to_spool(rsink *s)
{
	for (size_t i = 0; i < s->npr; i++) {
		prep *r = &s->pr[i];
		if (r->done)
			continue;
		if (!s->sp) {
			s->t.dropped++;
			continue;
		}
		int rc = mt_spool_append(s->sp, s->ab + r->off, r->len);
		if (rc == 0)
			s->t.spooled++;
		else if (rc != -ENOSPC) /* ENOSPC: dropped per policy, counted by the spool */
			s->t.dropped++;
	}
	arena_clear(s);
	s->nheld = 0;
}

static void heartbeat(rsink *s)
{
	char v[32][24];
	const char *a[80];
	char key[160];
	int k = 0, nv = 0;
	mt_redis_stats st;

	publish_stats(s);
	pthread_mutex_lock(&s->m);
	st = s->st;
	counter ctr[MT_REDIS_MAX_COUNTERS];
	int nctr = s->nctr;
	memcpy(ctr, s->ctr, sizeof(ctr));
	pthread_mutex_unlock(&s->m);
	snprintf(key, sizeof(key), "mt:probe:%s", s->probe);
	a[k++] = "HSET";
	a[k++] = key;
	a[k++] = "probe";
	a[k++] = s->probe;
#define HB(name, val)                                                                       \
	do {                                                                                \
		snprintf(v[nv], sizeof(v[nv]), "%llu", (unsigned long long)(val));           \
		a[k++] = name;                                                              \
		a[k++] = v[nv++];                                                           \
	} while (0)
	HB("heartbeat", (uint64_t)time(NULL));
	HB("queued", st.queued);
	HB("spooled", st.spooled);
	HB("sent", st.sent);
	HB("duplicates", st.duplicates);
	HB("dropped", st.dropped);
	HB("rejected", st.rejected);
	HB("spool_pending", st.spool_pending);
	HB("failures", st.failures);
	for (int i = 0; i < nctr && nv < 32; i++)
		HB(ctr[i].name, ctr[i].v);
#undef HB
	size_t l[80];
	for (int i = 0; i < k; i++)
		l[i] = strlen(a[i]);
	mt_rc_cmd c = { mt_rc_slot(key, strlen(key)), k, a, l };
	redisReply *r = NULL;
	if (mt_rc_exec(s->rc, 1, &c, &r) < 0)
		set_down(s, "heartbeat failed");
	if (r)
		freeReplyObject(r);
	s->next_hb_ms = mono_ms() + s->heartbeat_s * 1000u;
}

/* One round of work. Returns 1 when more is ready right away. */
static int step(rsink *s)
{
	int more = 0;
	size_t qn;

	pthread_mutex_lock(&s->m);
	qn = s->qn;
	pthread_mutex_unlock(&s->m);
	int up = try_up(s);
	/* while Redis is away or a backlog is on disk, new records join the spool's tail (order kept) */
	if (s->sp && (!up || mt_spool_pending(s->sp) > 0) && !s->nheld) {
		while (take(s, s->batch) > 0)
			arena_to_spool(s);
		pthread_mutex_lock(&s->m);
		s->inflight = 0;
		pthread_mutex_unlock(&s->m);
		qn = 0;
	}
	if (!up)
		return 0;
	if (mono_ms() >= s->next_hb_ms)
		heartbeat(s);
	if (!s->up)
		return 0;
	if (s->nheld) {
		if (deliver(s) < 0) {
			set_down(s, "delivery failed");
			return 0;
		}
		arena_clear(s);
		s->nheld = 0;
		pthread_mutex_lock(&s->m);
		s->inflight = 0;
		pthread_mutex_unlock(&s->m);
		return 1;
	}
	if (s->sp && mt_spool_pending(s->sp) > 0) {
		const uint8_t *p;
		size_t len;
		int rc;
		arena_clear(s);
		while (s->npr < s->batch && (rc = mt_spool_next(s->sp, &p, &len)) == 1)
			if (arena_add(s, p, len) < 0)
				break;
		if (s->npr == 0) { /* nothing readable: the pending count was of torn records */
			mt_spool_commit(s->sp);
			return 0;
		}
		if (deliver(s) < 0) {
			mt_spool_rewind(s->sp);
			arena_clear(s);
			set_down(s, "delivery failed");
			return 0;
		}
		arena_clear(s);
		mt_spool_commit(s->sp);
		return 1;
	}
	if (qn > 0 && take(s, s->batch) > 0) {
		if (deliver(s) < 0) {
			if (s->sp)
				arena_to_spool(s);
			else
				s->nheld = s->npr;
			set_down(s, "delivery failed");
		} else {
			arena_clear(s);
		}
		pthread_mutex_lock(&s->m);
		s->inflight = s->nheld > 0;
		more = s->qn > 0;
		pthread_mutex_unlock(&s->m);
	}
	return more;
}

static void final_drain(rsink *s)
{
	uint64_t end = mono_ms() + s->drain_ms;
	/* Redis known to be away (still in its back-off): no new attempt, straight to the spool */
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= end)
			break;
		mt_rc_set_timeout(s->rc, (unsigned)(end - now) < s->to_ms ? (unsigned)(end - now) : s->to_ms);
		int more = step(s);
		if (!s->up)
			break;
		pthread_mutex_lock(&s->m);
		int empty = s->qn == 0 && !s->nheld;
		pthread_mutex_unlock(&s->m);
		if (!more && empty && (!s->sp || mt_spool_pending(s->sp) == 0))
			break;
	}
	/* what is left goes to the spool (or is lost without one) */
	if (s->nheld)
		arena_to_spool(s);
	while (take(s, s->batch) > 0)
		arena_to_spool(s);
	if (s->up) {
		mt_rc_set_timeout(s->rc, 500);
		heartbeat(s);
	}
	publish_stats(s);
}

static void *sink_main(void *arg)
{
	rsink *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->m);
		int stop = s->stop;
		pthread_mutex_unlock(&s->m);
		if (stop)
			break;
		int more = step(s);
		publish_stats(s);
		pthread_mutex_lock(&s->m);
		pthread_cond_broadcast(&s->idle);
		if (!more && !s->stop && s->qn == 0) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			s->waiting = 1;
			pthread_cond_timedwait(&s->cv, &s->m, &ts);
			s->waiting = 0;
		}
		pthread_mutex_unlock(&s->m);
	}
	final_drain(s);
	pthread_mutex_lock(&s->m);
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->m);
	return NULL;
}

/* ---- the sink ---- */

/* Waits until the queue is delivered or spooled; gives up after a command time-out and the
 * longest reconnect back-off without progress. */
static int rs_flush(mt_sink *b)
{
	rsink *s = (rsink *)b;
	uint64_t end = mono_ms() + s->to_ms + 3000;
	size_t last = (size_t)-1;
	int rc = 0;
	pthread_mutex_lock(&s->m);
	while (s->qn > 0 || s->inflight) {
		if (s->qn != last) {
			last = s->qn;
			end = mono_ms() + s->to_ms + 3000;
		}
		if (mono_ms() >= end) {
			rc = -ETIMEDOUT;
			break;
		}
		if (s->waiting)
			pthread_cond_signal(&s->cv);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->idle, &s->m, &ts);
	}
	pthread_mutex_unlock(&s->m);
	return rc;
}

int mt_sink_redis_close(mt_sink *b, mt_redis_stats *final)
{
	if (!b)
		return 0;
	rsink *s = (rsink *)b;
	int rc = 0;
	if (s->th_started) {
		pthread_mutex_lock(&s->m);
		s->stop = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->m);
		pthread_join(s->th, NULL);
	}
	if (s->st.dropped)
		rc = -EIO;
	if (final)
		*final = s->st;
	mt_rc_free(s->rc);
	mt_spool_close(s->sp);
	pthread_mutex_destroy(&s->m);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->idle);
	free(s->q);
	free(s->ab);
	free(s->pr);
	free(s->tok);
	free(s->cmds);
	free(s->rep);
	free(s->kn.t);
	free(s);
	return rc;
}

static int rs_close(mt_sink *b)
{
	return mt_sink_redis_close(b, NULL);
}

void mt_sink_redis_get_stats(mt_sink *b, mt_redis_stats *st)
{
	rsink *s = (rsink *)b;
	pthread_mutex_lock(&s->m);
	*st = s->st;
	st->queue_len = s->qn;
	pthread_mutex_unlock(&s->m);
}

void mt_sink_redis_set_counter(mt_sink *b, const char *name, uint64_t value)
{
	rsink *s = (rsink *)b;
	pthread_mutex_lock(&s->m);
	int i;
	for (i = 0; i < s->nctr; i++)
		if (s->ctr[i].name == name || strcmp(s->ctr[i].name, name) == 0)
			break;
	if (i < MT_REDIS_MAX_COUNTERS) {
		s->ctr[i].name = name;
		s->ctr[i].v = value;
		if (i == s->nctr)
			s->nctr++;
	}
	pthread_mutex_unlock(&s->m);
}

const char *mt_sink_redis_probe(mt_sink *b)
{
	return ((rsink *)b)->probe;
}

static int valid_probe(const char *p)
{
	if (!p[0])
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '|' || *p == '{' || *p == '}' || *p == '"' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

mt_sink *mt_sink_redis_open(const mt_redis_cfg *cfg, char *err, size_t errlen)
{
	rsink *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->m, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->base.name = "redis";
	s->base.write = rs_write;
	s->base.flush = rs_flush;
	s->base.close = rs_close;
	if (mt_redis_url_parse(cfg->url, &s->u)) {
		snprintf(err, errlen, "bad Redis URL (expected redis://[user:password@]host[:port][/db] or unix:///path[?db=N])");
		goto fail;
	}
	if (cfg->probe_id && cfg->probe_id[0]) {
		if (strlen(cfg->probe_id) >= sizeof(s->probe)) {
			snprintf(err, errlen, "probe id longer than %zu bytes", sizeof(s->probe) - 1);
			goto fail;
		}
		snprintf(s->probe, sizeof(s->probe), "%s", cfg->probe_id);
	} else if (gethostname(s->probe, sizeof(s->probe) - 1) || !s->probe[0]) {
		snprintf(s->probe, sizeof(s->probe), "probe");
	}
	if (!valid_probe(s->probe)) {
		snprintf(err, errlen, "probe id '%s': use printable ASCII without blanks, '|', '{', '}', '\"', '\\\\'", s->probe);
		goto fail;
	}
	s->to_ms = cfg->timeout_ms ? cfg->timeout_ms : MT_REDIS_DEFAULT_TIMEOUT_MS;
	s->batch = cfg->batch ? cfg->batch : MT_REDIS_DEFAULT_BATCH;
	s->heartbeat_s = cfg->heartbeat_s ? cfg->heartbeat_s : MT_REDIS_DEFAULT_HEARTBEAT_S;
	s->drain_ms = cfg->drain_ms ? cfg->drain_ms : MT_REDIS_DEFAULT_DRAIN_MS;
	s->qcap = cfg->queue_max ? (size_t)cfg->queue_max : MT_REDIS_DEFAULT_QUEUE;
	snprintf(s->maxlen, sizeof(s->maxlen), "%lu", cfg->maxlen ? cfg->maxlen : MT_REDIS_DEFAULT_MAXLEN);
	snprintf(s->ttl, sizeof(s->ttl), "%d", MT_REDIS_SEEN_TTL_S);
	s->q = malloc(s->qcap);
	s->pr = calloc(s->batch, sizeof(*s->pr));
	s->no_lean = cfg->no_lean;
	for (s->kn.cap = 64; s->kn.cap < 2 * (size_t)(cfg->know_max ? cfg->know_max : MT_REDIS_DEFAULT_KNOW);)
		s->kn.cap *= 2;
	s->kn.t = calloc(s->kn.cap, sizeof(*s->kn.t));
	if (getrandom(s->kn.key, sizeof(s->kn.key), GRND_NONBLOCK) != (ssize_t)sizeof(s->kn.key)) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;
		memcpy(s->kn.key, &x, sizeof(x)); /* a weaker key still works; only collisions suffer */
	}
	s->tok = malloc(NTOK * sizeof(*s->tok));
	s->rc = mt_rc_new(&s->u, cfg->connect_timeout_ms ? cfg->connect_timeout_ms : MT_REDIS_DEFAULT_CONNECT_TIMEOUT_MS,
			  s->to_ms, mt_hitstore_lua);
	if (!s->q || !s->pr || !s->tok || !s->rc || !s->kn.t) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cfg->spool_dir && cfg->spool_dir[0]) {
		s->sp = mt_spool_open(cfg->spool_dir, cfg->spool_max, cfg->spool_policy, err, errlen);
		if (!s->sp)
			goto fail;
	}
	/* A first connection now, so that a wrong password is an error at start, not a silent spool. */
	char cerr[256];
	unsigned cto = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : MT_REDIS_DEFAULT_CONNECT_TIMEOUT_MS;
	mt_rc_set_timeout(s->rc, cto < s->to_ms ? cto : s->to_ms); /* a hung server delays the start less */
	int crc = mt_rc_connect(s->rc, cerr, sizeof(cerr));
	mt_rc_set_timeout(s->rc, s->to_ms);
	if (crc == 0) {
		s->up = 1;
	} else if (crc == -EINVAL || crc == -EACCES) { /* a server that answers no: fix the config */
		snprintf(err, errlen, "%s", cerr);
		goto fail;
	} else {
		mt_warn("redis: %s; %s", cerr, s->sp ? "hits go to the spool until it answers" : "hits wait in memory until it answers");
		s->logged_down = 1;
		s->next_try_ms = mono_ms() + 500;
	}
	if (s->sp) {
		mt_spool_stats ss;
		mt_spool_get_stats(s->sp, &ss);
		if (ss.found || ss.torn)
			mt_info("spool %s: %llu records from an earlier run to deliver, %llu torn", cfg->spool_dir,
				(unsigned long long)ss.found, (unsigned long long)ss.torn);
	}
	/* The thread blocks every signal: SIGTERM and friends go to the capture thread, and a
	 * SIGPIPE from a connection Redis closed becomes EPIPE (hiredis writes with write(2)). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int tc = pthread_create(&s->th, NULL, sink_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (tc != 0) {
		snprintf(err, errlen, "cannot start the Redis thread");
		goto fail;
	}
	s->th_started = 1;
	return &s->base;
fail:
	rs_close(&s->base);
	return NULL;
}
