/* redis.c - Redis hit store sink: pipelined, idempotent (Lua + dedup key) writes of hit records.
 *
 * Every command is built with redisAppendCommandArgv / redisCommandArgv only;
 * untrusted data is never put into a format string.
 *
 * Schema ({IP} is the miner IP, braces are a cluster hash tag):
 *   mt:hits                 stream; XADD mt:hits MAXLEN ~ N * json <record> site <ip> probe <id> hit_id <id>
 *   mt:site:{IP}            hash: first_seen, last_seen (flow.start, seconds), hits,
 *                           country, subdivision, city, asn, org, company, credit_code,
 *                           site_address, kind, verdict (when present; last value wins)
 *   mt:site:{IP}:protocols|coins|pools|wallets|workers|agents|probes   sets
 *   mt:sites                zset of IPs scored by last_seen
 *   mt:idx:company:CC, mt:idx:pool:HOST, mt:idx:wallet:ADDR, mt:idx:region:CC:SUB,
 *   mt:idx:asn:N, mt:idx:probe:ID   sets of IPs
 *   mt:events               PUBLISH "site <ip>" for a new site, "hit <ip> <hit_id>" for every new hit
 *   mt:hitid:{IP}:<hit_id>  dedup key, SET NX EX ttl
 * hit_id = hex SHA-1 of probe "\0" community_id "\0" flow.start "\0" hit.seq
 * (raw JSON literals of flow.start and hit.seq; each record of a flow is its own hit).
 */
#include "sink/redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/json.h"
#include "util/sha1.h"

#define NTOK 256
#define FLD 512

static const char lua_src[] =
	"if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[7]) == false then return 0 end\n"
	"local ip, probe, hid = ARGV[1], ARGV[2], ARGV[3]\n"
	"local site = KEYS[2]\n"
	"redis.call('XADD', 'mt:hits', 'MAXLEN', '~', ARGV[6], '*', 'json', ARGV[4], 'site', ip, 'probe', probe, 'hit_id', hid)\n"
	"local ts = tonumber(ARGV[5]) or 0\n"
	"local new = redis.call('HSETNX', site, 'first_seen', ARGV[5])\n"
	"if new == 0 then\n"
	"  local fs = tonumber(redis.call('HGET', site, 'first_seen')) or ts\n"
	"  if ts < fs then redis.call('HSET', site, 'first_seen', ARGV[5]) end\n"
	"end\n"
	"local ls = tonumber(redis.call('HGET', site, 'last_seen') or '-1')\n"
	"if ts > ls then redis.call('HSET', site, 'last_seen', ARGV[5]); ls = ts end\n"
	"redis.call('HINCRBY', site, 'hits', 1)\n"
	"redis.call('ZADD', 'mt:sites', ls, ip)\n"
	"local sets = {'protocols','coins','pools','wallets','workers','agents'}\n"
	"for i = 1, 6 do if ARGV[7+i] ~= '' then redis.call('SADD', site .. ':' .. sets[i], ARGV[7+i]) end end\n"
	"redis.call('SADD', site .. ':probes', probe)\n"
	"local ef = {'country','subdivision','city','asn','org','company','credit_code','site_address','kind','verdict'}\n"
	"for i = 1, 10 do if ARGV[13+i] ~= '' then redis.call('HSET', site, ef[i], ARGV[13+i]) end end\n"
	"if ARGV[10] ~= '' then redis.call('SADD', 'mt:idx:pool:' .. ARGV[10], ip) end\n"
	"if ARGV[11] ~= '' then redis.call('SADD', 'mt:idx:wallet:' .. ARGV[11], ip) end\n"
	"if ARGV[20] ~= '' then redis.call('SADD', 'mt:idx:company:' .. ARGV[20], ip) end\n"
	"if ARGV[14] ~= '' then redis.call('SADD', 'mt:idx:region:' .. ARGV[14] .. ':' .. ARGV[15], ip) end\n"
	"if ARGV[17] ~= '' then redis.call('SADD', 'mt:idx:asn:' .. ARGV[17], ip) end\n"
	"redis.call('SADD', 'mt:idx:probe:' .. probe, ip)\n"
	"if new == 1 then redis.call('PUBLISH', 'mt:events', 'site ' .. ip) end\n"
	"redis.call('PUBLISH', 'mt:events', 'hit ' .. ip .. ' ' .. hid)\n"
	"return 1\n";

enum { A_IP, A_PROBE, A_HID, A_JSON, A_TS, A_MAXLEN, A_TTL, A_PROTO, A_COIN, A_POOL,
       A_WALLET, A_WORKER, A_AGENT, A_COUNTRY, A_SUB, A_CITY, A_ASN, A_ORG, A_COMPANY,
       A_CC, A_ADDR, A_KIND, A_VERDICT, A_N };

typedef struct rsink {
	mt_sink base;
	redisContext *c;
	mt_redis_url u;
	char probe[128];
	char sha[41];
	char maxlen[24];
	unsigned timeout_ms, batch, pending;
	int first_err;
	time_t next_try; /* while Redis is down, reconnect at most once a second */
	mt_redis_stats st;
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

/* ---- connection ---- */

static int cmd_ok(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	int ok = r && r->type != REDIS_REPLY_ERROR;
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -EIO;
}

static int rs_connect1(rsink *s, char *err, size_t errlen)
{
	struct timeval tv = { (time_t)(s->timeout_ms / 1000), (suseconds_t)(s->timeout_ms % 1000) * 1000 };
	if (s->c) {
		redisFree(s->c);
		s->c = NULL;
	}
	s->c = s->u.is_unix ? redisConnectUnixWithTimeout(s->u.path, tv)
			    : redisConnectWithTimeout(s->u.host, s->u.port, tv);
	if (!s->c || s->c->err) {
		if (err)
			snprintf(err, errlen, "redis connect: %s", s->c ? s->c->errstr : "out of memory");
		return -ECONNREFUSED;
	}
	redisSetTimeout(s->c, tv);
	if (s->u.pass[0]) {
		const char *a[3] = { "AUTH", s->u.user[0] ? s->u.user : s->u.pass, s->u.pass };
		if (cmd_ok(s->c, s->u.user[0] ? 3 : 2, a)) {
			if (err)
				snprintf(err, errlen, "redis AUTH failed");
			return -EACCES;
		}
	}
	if (s->u.db) {
		char db[8];
		snprintf(db, sizeof(db), "%d", s->u.db);
		const char *a[2] = { "SELECT", db };
		if (cmd_ok(s->c, 2, a)) {
			if (err)
				snprintf(err, errlen, "redis SELECT failed");
			return -EIO;
		}
	}
	const char *a[3] = { "SCRIPT", "LOAD", lua_src };
	redisReply *r = redisCommandArgv(s->c, 3, a, NULL);
	if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
		if (err)
			snprintf(err, errlen, "redis SCRIPT LOAD failed");
		if (r)
			freeReplyObject(r);
		return -EIO;
	}
	memcpy(s->sha, r->str, 40);
	s->sha[40] = '\0';
	freeReplyObject(r);
	return 0;
}

/* Connects, authenticates, selects and loads the script; on failure leaves no context. */
static int rs_connect(rsink *s, char *err, size_t errlen)
{
	int rc = rs_connect1(s, err, errlen);
	if (rc && s->c) {
		redisFree(s->c);
		s->c = NULL;
	}
	if (!rc)
		s->pending = 0;
	return rc;
}

/* ---- record parsing ---- */

static void get_str(const uint8_t *j, const mt_json_tok *t, int n, int obj, const char *key,
		    char *out, size_t cap)
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

static int sub(const uint8_t *j, const mt_json_tok *t, int n, int obj, const char *key)
{
	if (obj < 0)
		return -1;
	int i = mt_json_get(j, t, n, obj, key);
	return (i >= 0 && t[i].type == MT_JSON_OBJECT) ? i : -1;
}

static int rs_write(mt_sink *b, const char *json, size_t len)
{
	rsink *s = (rsink *)b;
	mt_json_tok t[NTOK];
	const uint8_t *j = (const uint8_t *)json;
	static char f[A_N][FLD]; /* sink is single-threaded; keeps the stack small */
	int n = mt_json_parse(j, len, t, NTOK, MT_JSON_DEFAULT_MAX_DEPTH);
	if (n < 1 || t[0].type != MT_JSON_OBJECT) {
		s->st.errors++;
		b->errors++;
		return -EINVAL;
	}
	get_str(j, t, n, 0, "src_ip", f[A_IP], FLD);
	if (!f[A_IP][0]) {
		s->st.errors++;
		b->errors++;
		return -EINVAL;
	}
	char cid[FLD], seq[64];
	get_str(j, t, n, 0, "community_id", cid, sizeof(cid));
	int flow = sub(j, t, n, 0, "flow");
	get_str(j, t, n, flow, "start", f[A_TS], FLD);
	get_str(j, t, n, sub(j, t, n, 0, "hit"), "seq", seq, sizeof(seq));
	mt_sha1 h;
	uint8_t d[20];
	mt_sha1_init(&h);
	mt_sha1_update(&h, s->probe, strlen(s->probe) + 1);
	mt_sha1_update(&h, cid, strlen(cid) + 1);
	mt_sha1_update(&h, f[A_TS], strlen(f[A_TS]) + 1);
	mt_sha1_update(&h, seq, strlen(seq));
	mt_sha1_final(&h, d);
	for (int i = 0; i < 20; i++)
		snprintf(f[A_HID] + 2 * i, 3, "%02x", d[i]);
	if (!f[A_TS][0])
		snprintf(f[A_TS], FLD, "0");
	int m = sub(j, t, n, 0, "mining");
	get_str(j, t, n, m, "protocol", f[A_PROTO], FLD);
	get_str(j, t, n, m, "coin", f[A_COIN], FLD);
	get_str(j, t, n, m, "pool_host", f[A_POOL], FLD);
	get_str(j, t, n, m, "wallet", f[A_WALLET], FLD);
	get_str(j, t, n, m, "worker", f[A_WORKER], FLD);
	get_str(j, t, n, m, "agent", f[A_AGENT], FLD);
	int mi = sub(j, t, n, 0, "miner");
	int geo = sub(j, t, n, mi, "geo"), asn = sub(j, t, n, mi, "asn"), ent = sub(j, t, n, mi, "enterprise");
	get_str(j, t, n, geo, "country", f[A_COUNTRY], FLD);
	get_str(j, t, n, geo, "subdivision", f[A_SUB], FLD);
	get_str(j, t, n, geo, "city", f[A_CITY], FLD);
	get_str(j, t, n, asn, "number", f[A_ASN], FLD);
	get_str(j, t, n, asn, "org", f[A_ORG], FLD);
	get_str(j, t, n, ent, "company", f[A_COMPANY], FLD);
	get_str(j, t, n, ent, "credit_code", f[A_CC], FLD);
	get_str(j, t, n, ent, "site_address", f[A_ADDR], FLD);
	get_str(j, t, n, ent, "kind", f[A_KIND], FLD);
	get_str(j, t, n, mi, "verdict", f[A_VERDICT], FLD);
	snprintf(f[A_PROBE], FLD, "%s", s->probe);
	snprintf(f[A_MAXLEN], FLD, "%s", s->maxlen);
	snprintf(f[A_TTL], FLD, "%d", MT_REDIS_DEDUP_TTL_S);

	char k1[2 * FLD + 32], k2[FLD + 16];
	snprintf(k1, sizeof(k1), "mt:hitid:{%s}:%s", f[A_IP], f[A_HID]);
	snprintf(k2, sizeof(k2), "mt:site:{%s}", f[A_IP]);
	const char *argv[5 + A_N];
	size_t alen[5 + A_N];
	argv[0] = "EVALSHA"; argv[1] = s->sha; argv[2] = "2"; argv[3] = k1; argv[4] = k2;
	for (int i = 0; i < 5; i++)
		alen[i] = strlen(argv[i]);
	for (int i = 0; i < A_N; i++) {
		argv[5 + i] = f[i];
		alen[5 + i] = strlen(f[i]);
	}
	argv[5 + A_JSON] = json;
	alen[5 + A_JSON] = len;
	if (!s->c && (time(NULL) < s->next_try || rs_connect(s, NULL, 0))) {
		if (s->next_try <= time(NULL))
			s->next_try = time(NULL) + 1;
		s->st.errors++;
		b->errors++;
		if (!s->first_err)
			s->first_err = -ECONNREFUSED;
		return -ECONNREFUSED;
	}
	if (redisAppendCommandArgv(s->c, 5 + A_N, argv, alen) != REDIS_OK)
		return -ENOMEM;
	s->st.queued++;
	b->written++;
	if (++s->pending >= s->batch)
		return b->flush(b);
	return 0;
}

static int rs_flush(mt_sink *b)
{
	rsink *s = (rsink *)b;
	int rc = 0;
	while (s->pending) {
		redisReply *r = NULL;
		if (!s->c || redisGetReply(s->c, (void **)&r) != REDIS_OK) {
			s->st.errors += s->pending;
			s->pending = 0;
			if (s->c) {
				redisFree(s->c);
				s->c = NULL;
			}
			rc = -EIO;
			break;
		}
		s->pending--;
		if (r->type == REDIS_REPLY_INTEGER) {
			if (r->integer == 1)
				s->st.sent++;
			else
				s->st.duplicates++;
		} else {
			s->st.errors++;
			rc = -EIO;
		}
		freeReplyObject(r);
	}
	if (rc && !s->first_err)
		s->first_err = rc;
	return rc;
}

static int rs_close(mt_sink *b)
{
	if (!b)
		return 0;
	rsink *s = (rsink *)b;
	rs_flush(b);
	int rc = s->first_err;
	if (s->c)
		redisFree(s->c);
	free(s);
	return rc;
}

void mt_sink_redis_get_stats(mt_sink *b, mt_redis_stats *st)
{
	*st = ((rsink *)b)->st;
}

mt_sink *mt_sink_redis_open(const mt_redis_cfg *cfg, char *err, size_t errlen)
{
	rsink *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mt_redis_url_parse(cfg->url, &s->u)) {
		snprintf(err, errlen, "bad redis URL");
		free(s);
		return NULL;
	}
	if (cfg->probe_id && cfg->probe_id[0])
		snprintf(s->probe, sizeof(s->probe), "%s", cfg->probe_id);
	else if (gethostname(s->probe, sizeof(s->probe) - 1))
		snprintf(s->probe, sizeof(s->probe), "probe");
	s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : MT_REDIS_DEFAULT_TIMEOUT_MS;
	s->batch = cfg->batch ? cfg->batch : MT_REDIS_DEFAULT_BATCH;
	snprintf(s->maxlen, sizeof(s->maxlen), "%lu", cfg->maxlen ? cfg->maxlen : MT_REDIS_DEFAULT_MAXLEN);
	s->base.name = "redis";
	s->base.write = rs_write;
	s->base.flush = rs_flush;
	s->base.close = rs_close;
	if (rs_connect(s, err, errlen)) {
		free(s);
		return NULL;
	}
	return &s->base;
}
