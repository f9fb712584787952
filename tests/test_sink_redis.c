/* test_sink_redis.c - the Redis sink against redis-servers started here: the schema with
 * enrichment and estimates, idempotency, ACL users, NOSCRIPT, concurrent writers, the cluster
 * router (CRC16 slots, MOVED, ASK), URL parsing and the no-formatted-commands rule. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mt_redis.h"
#include "sink/rc.h"
#include "sink/redis.h"

static mt_rsrv srv;

static mt_sink *open_url(const char *url, const char *probe, char *err, size_t n)
{
	mt_redis_cfg cfg = { .url = url, .probe_id = probe, .batch = 64, .timeout_ms = 1000 };
	return mt_sink_redis_open(&cfg, err, n);
}

static mt_sink *open_sink(int port, const char *probe)
{
	char url[64], err[256];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	mt_sink *s = open_url(url, probe, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

/* A hit record as minetrace prints it, with the enrichment and estimate objects other issues add. */
static int rec(char *buf, size_t cap, int ip, int flow, int seq, const char *status, double hr, double pw,
	       int enrich)
{
	char est[512] = "", mi[1024] = "";
	if (hr > 0)
		snprintf(est, sizeof(est),
			 ",\"estimate\":{\"algo\":\"sha256d\",\"basis\":\"share_difficulty\",\"shares\":10,"
			 "\"elapsed_s\":60,\"hashrate_hs\":%.0f,\"hashrate_low_hs\":%.0f,\"hashrate_high_hs\":%.0f,"
			 "\"share_rate_per_min\":10,\"power_w\":{\"low\":%.1f,\"best\":%.1f,\"high\":%.1f},"
			 "\"energy_kwh_day\":{\"low\":1,\"best\":2,\"high\":3}}",
			 hr, hr / 2, hr * 2, pw / 2, pw, pw * 2);
	if (enrich)
		snprintf(mi, sizeof(mi),
			 ",\"miner\":{\"ip\":\"10.0.0.%d\",\"geo\":{\"country\":\"CN\",\"country_name\":\"China\","
			 "\"subdivision\":\"SC\",\"subdivision_name\":\"Sichuan\",\"city\":\"Chengdu\","
			 "\"city_zh\":\"\\u6210\\u90fd\",\"latitude\":30.66,\"longitude\":104.06,\"accuracy_radius\":50},"
			 "\"asn\":{\"number\":4134,\"org\":\"Chinanet\"},\"enterprise\":{\"company\":\"Acme Data\","
			 "\"credit_code\":\"91510100MA6C\",\"registered_address\":\"R\",\"site_address\":\"Park Rd 1\","
			 "\"kind\":\"data_center\",\"park\":\"P\",\"latitude\":30.6,\"longitude\":104.0},"
			 "\"verdict\":\"mining_in_data_center\"},\"pool\":{\"ip\":\"203.0.113.5\"}",
			 ip);
	return snprintf(buf, cap,
			"{\"timestamp\":\"2024-03-14T09:%02d:%02d.500000Z\",\"event_type\":\"mining\","
			"\"src_ip\":\"10.0.0.%d\",\"src_port\":%d,\"dest_ip\":\"203.0.113.5\",\"dest_port\":3333,"
			"\"proto\":\"TCP\",\"community_id\":\"1:flow%d/%d\",\"mining\":{\"protocol\":\"stratum\","
			"\"coin\":\"BTC\",\"algo\":\"sha256d\",\"pool_host\":\"pool.example\",\"wallet\":\"W%d\","
			"\"worker\":\"rig%d\",\"agent\":\"cgminer/4.12\"},\"flow\":{\"start\":\"2024-03-14T09:00:%02d.000000Z\"},"
			"\"hit\":{\"status\":\"%s\",\"seq\":%d}%s%s}",
			seq, flow, ip, 40000 + flow, ip, flow, ip, flow, flow, status, seq, est, mi);
}

static void put(mt_sink *s, const char *b, int n)
{
	ck_assert_int_eq(s->write(s, b, (size_t)n), 0);
}

static void hget(int port, const char *key, const char *f, char *out, size_t n)
{
	mt_rqs(port, "HGET", key, f, out, n);
}

#define HEQ(key, f, want)                                                   \
	do {                                                                \
		char v_[512];                                               \
		hget(srv.port, key, f, v_, sizeof(v_));                     \
		ck_assert_msg(strcmp(v_, want) == 0, "%s %s = '%s', want '%s'", key, f, v_, want); \
	} while (0)

/* Reads pub/sub messages already queued on c (subscribed) until none come for 300 ms. */
static void count_events(redisContext *c, int *new_site, int *hit)
{
	struct timeval tv = { 0, 300000 };
	redisSetTimeout(c, tv);
	redisReply *r;
	while (redisGetReply(c, (void **)&r) == REDIS_OK) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING) {
			if (strstr(r->element[2]->str, "\"new_site\""))
				(*new_site)++;
			else if (strstr(r->element[2]->str, "\"hit\""))
				(*hit)++;
		}
		freeReplyObject(r);
	}
}

START_TEST(t_schema)
{
	char b[4096];
	int n;
	mt_rsrv_start(&srv);
	redisContext *sub = redisConnect("127.0.0.1", srv.port);
	const char *sa[2] = { "SUBSCRIBE", "mt:events" };
	redisReply *sr = redisCommandArgv(sub, 2, sa, NULL);
	freeReplyObject(sr);

	mt_sink *s = open_sink(srv.port, "probe-a");
	/* site 10.0.0.1: flow 1 (3 records, estimates 100 then 300 H/s), flow 2 (estimate 50 H/s) */
	n = rec(b, sizeof(b), 1, 1, 1, "new", 0, 0, 1);
	put(s, b, n);
	n = rec(b, sizeof(b), 1, 1, 2, "update", 100, 10, 1);
	put(s, b, n);
	n = rec(b, sizeof(b), 1, 1, 3, "end", 300, 30, 1);
	put(s, b, n);
	n = rec(b, sizeof(b), 1, 2, 5, "update", 50, 5, 1);
	put(s, b, n);
	/* site 10.0.0.2: no enrichment, no estimate (absent objects) */
	n = rec(b, sizeof(b), 2, 7, 1, "new", 0, 0, 0);
	put(s, b, n);
	ck_assert_int_eq(s->flush(s), 0);
	mt_redis_stats st;
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_eq(st.sent, 5);
	ck_assert_uint_eq(st.rejected, 0);

	const char *k = "mt:site:{10.0.0.1}";
	HEQ(k, "ip", "10.0.0.1");
	HEQ(k, "hits", "4");
	HEQ(k, "first_seen", "1710406801"); /* 09:00:01, flow 1's start */
	HEQ(k, "last_seen", "1710407102");  /* 09:05:02, flow 2 seq 5 */
	HEQ(k, "protocols", "[\"stratum\"]");
	HEQ(k, "coins", "[\"BTC\"]");
	HEQ(k, "pools", "[\"pool.example\"]");
	HEQ(k, "wallets", "[\"W1\"]");
	HEQ(k, "workers", "[\"rig1\",\"rig2\"]");
	HEQ(k, "agents", "[\"cgminer\\/4.12\"]");
	HEQ(k, "probes", "[\"probe-a\"]");
	HEQ(k, "country", "CN");
	HEQ(k, "subdivision", "SC");
	HEQ(k, "city", "Chengdu");
	HEQ(k, "city_zh", "\xe6\x88\x90\xe9\x83\xbd");
	HEQ(k, "latitude", "30.66");
	HEQ(k, "longitude", "104.06");
	HEQ(k, "asn", "4134");
	HEQ(k, "org", "Chinanet");
	HEQ(k, "company", "Acme Data");
	HEQ(k, "credit_code", "91510100MA6C");
	HEQ(k, "site_address", "Park Rd 1");
	HEQ(k, "kind", "data_center");
	HEQ(k, "verdict", "mining_in_data_center");
	/* per-flow latest estimates summed: flow 1 now 300 (replacing 100), flow 2 50 */
	HEQ(k, "hashrate_hs:sha256d", "350");
	HEQ(k, "hashrate_low_hs:sha256d", "175");
	HEQ(k, "hashrate_high_hs:sha256d", "700");
	HEQ(k, "power_w_best", "35");
	HEQ(k, "power_w_low", "17.5");
	HEQ(k, "power_w_high", "70");
	HEQ(k, "energy_kwh_day_best", "0.84");
	HEQ(k, "workers_seen", "2");
	HEQ(k, "machines_est", "2");
	ck_assert_int_eq(mt_rqi(srv.port, "HLEN", "mt:site:{10.0.0.1}:flows", NULL), 2);
	char fk[160], fv[512];
	snprintf(fk, sizeof(fk), "probe-a|1:flow1/1|%lld", 1710406801LL * 1000000);
	hget(srv.port, "mt:site:{10.0.0.1}:flows", fk, fv, sizeof(fv));
	ck_assert_msg(strstr(fv, "\"hashrate_hs\":300") && strstr(fv, "\"worker\":\"rig1\"") &&
			      strstr(fv, "\"algo\":\"sha256d\"") && strstr(fv, "\"best\":30") && strstr(fv, "\"last\":"),
		      "flow value %s", fv);
	ck_assert_int_eq(mt_rqi(srv.port, "ZCARD", "mt:site:{10.0.0.1}:hits", NULL), 4);
	/* the site without enrichment: no enrichment fields, no estimate fields */
	HEQ("mt:site:{10.0.0.2}", "hits", "1");
	HEQ("mt:site:{10.0.0.2}", "country", "");
	HEQ("mt:site:{10.0.0.2}", "power_w_best", "");
	ck_assert_int_eq(mt_rqi(srv.port, "ZCARD", "mt:sites", NULL), 2);
	ck_assert_int_eq(mt_rqi(srv.port, "ZSCORE", "mt:sites", "10.0.0.1"), 1710407102);
	ck_assert_int_eq(mt_rqi(srv.port, "XLEN", "mt:hits", NULL), 5);
	static const char *const idx[] = { "mt:idx:company:91510100MA6C", "mt:idx:companyname:Acme Data",
					   "mt:idx:wallet:W1", "mt:idx:region:CN:SC",
					   "mt:idx:region:CN", "mt:idx:asn:4134" };
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		ck_assert_msg(mt_rqi(srv.port, "SCARD", idx[i], NULL) == 1, "%s", idx[i]);
	ck_assert_int_eq(mt_rqi(srv.port, "SCARD", "mt:idx:probe:probe-a", NULL), 2);
	ck_assert_int_eq(mt_rqi(srv.port, "SCARD", "mt:idx:pool:pool.example", NULL), 2);
	/* events: one new_site per site, one hit per hit */
	int ns = 0, nh = 0;
	count_events(sub, &ns, &nh);
	ck_assert_int_eq(ns, 2);
	ck_assert_int_eq(nh, 5);
	/* everything again: nothing changes, no events */
	n = rec(b, sizeof(b), 1, 1, 2, "update", 100, 10, 1);
	put(s, b, n);
	n = rec(b, sizeof(b), 1, 1, 3, "end", 300, 30, 1);
	put(s, b, n);
	ck_assert_int_eq(s->flush(s), 0);
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_eq(st.sent, 5);
	ck_assert_uint_eq(st.duplicates, 2);
	HEQ(k, "hits", "4");
	HEQ(k, "hashrate_hs:sha256d", "350");
	ck_assert_int_eq(mt_rqi(srv.port, "XLEN", "mt:hits", NULL), 5);
	ns = nh = 0;
	count_events(sub, &ns, &nh);
	ck_assert_int_eq(ns + nh, 0);
	/* a record that is not a hit is refused and counted, not retried */
	put(s, "{\"x\":1}", 7);
	put(s, "not json", 8);
	ck_assert_int_eq(s->flush(s), 0);
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_eq(st.rejected, 2);
	redisFree(sub);
	mt_redis_stats fin;
	ck_assert_int_eq(mt_sink_redis_close(s, &fin), 0);
	/* the probe's statistics hash */
	HEQ("mt:probe:probe-a", "sent", "5");
	HEQ("mt:probe:probe-a", "duplicates", "2");
	HEQ("mt:probe:probe-a", "probe", "probe-a");
	ck_assert_int_gt(mt_rqi(srv.port, "HGET", "mt:probe:probe-a", "heartbeat"), 1700000000);
	mt_rsrv_cleanup(&srv);
}
END_TEST

/* A Redis ACL user limited to ~mt:* and the commands the README lists; a wrong password fails at open. */
START_TEST(t_acl)
{
	char b[4096], url[128], err[256];
	mt_rsrv_start(&srv);
	const char *acl[] = { "ACL", "SETUSER", "mt", "on", ">s3cret", "resetkeys", "~mt:*", "resetchannels",
			      "&mt:events", "-@all", "+evalsha", "+script|load", "+cluster|slots", "+asking",
			      "+select", "+ping", "+hset", "+hget", "+hmget", "+hlen", "+xadd",
			      "+zadd", "+zremrangebyscore", "+sadd", "+publish" };
	redisReply *r = mt_rq(srv.port, (int)(sizeof(acl) / sizeof(acl[0])), acl);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	snprintf(url, sizeof(url), "redis://mt:wrong@127.0.0.1:%d/0", srv.port);
	ck_assert_ptr_null(open_url(url, "p", err, sizeof(err)));
	ck_assert_msg(strstr(err, "AUTH refused"), "%s", err);
	snprintf(url, sizeof(url), "redis://mt:s3cret@127.0.0.1:%d/0", srv.port);
	mt_sink *s = open_url(url, "p-acl", err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	for (int i = 1; i <= 20; i++) {
		int n = rec(b, sizeof(b), i, i, 1, "new", 100, 10, 1);
		put(s, b, n);
	}
	mt_redis_stats st;
	ck_assert_int_eq(mt_sink_redis_close(s, &st), 0);
	ck_assert_uint_eq(st.sent, 20);
	ck_assert_uint_eq(st.rejected, 0);
	ck_assert_int_eq(mt_rqi(srv.port, "XLEN", "mt:hits", NULL), 20);
	ck_assert_int_eq(mt_rqi(srv.port, "HGET", "mt:probe:p-acl", "sent"), 20);
	mt_rsrv_cleanup(&srv);
}
END_TEST

/* SCRIPT FLUSH under a running sink: NOSCRIPT is answered by loading the script again. */
START_TEST(t_noscript)
{
	char b[4096];
	mt_rsrv_start(&srv);
	mt_sink *s = open_sink(srv.port, "p-ns");
	for (int i = 1; i <= 10; i++)
		put(s, b, rec(b, sizeof(b), i, i, 1, "new", 0, 0, 0));
	ck_assert_int_eq(s->flush(s), 0);
	ck_assert_int_eq(mt_rqi(srv.port, "SCRIPT", "FLUSH", NULL), -1); /* +OK */
	for (int i = 1; i <= 10; i++)
		put(s, b, rec(b, sizeof(b), i, i, 2, "update", 0, 0, 0));
	mt_redis_stats st;
	ck_assert_int_eq(mt_sink_redis_close(s, &st), 0);
	ck_assert_uint_eq(st.sent, 20);
	ck_assert_int_eq(mt_rqi(srv.port, "XLEN", "mt:hits", NULL), 20);
	mt_rsrv_cleanup(&srv);
}
END_TEST

/* Several capture threads write at once: every record arrives once. */
typedef struct wargs {
	mt_sink *s;
	int id;
} wargs;

static void *writer(void *p)
{
	wargs *w = p;
	char b[4096];
	for (int i = 0; i < 2000; i++) {
		int n = rec(b, sizeof(b), w->id * 50 + i % 50 + 1, i / 50, i % 7 + 1, "update", 0, 0, 0);
		if (w->s->write(w->s, b, (size_t)n) < 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(t_threads)
{
	mt_rsrv_start(&srv);
	mt_sink *s = open_sink(srv.port, "p-thr");
	pthread_t th[4];
	wargs wa[4];
	for (int i = 0; i < 4; i++) {
		wa[i] = (wargs){ s, i };
		pthread_create(&th[i], NULL, writer, &wa[i]);
	}
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		ck_assert_ptr_null(rv);
	}
	mt_redis_stats st;
	ck_assert_int_eq(mt_sink_redis_close(s, &st), 0);
	ck_assert_uint_eq(st.queued, 8000);
	ck_assert_uint_eq(st.sent, 8000);
	ck_assert_int_eq(mt_rqi(srv.port, "XLEN", "mt:hits", NULL), 8000);
	ck_assert_int_eq(mt_rqi(srv.port, "ZCARD", "mt:sites", NULL), 200);
	mt_rsrv_cleanup(&srv);
}
END_TEST

START_TEST(t_slots)
{
	ck_assert_uint_eq(mt_rc_crc16("123456789", 9), 0x31C3); /* CRC16/XMODEM check value */
	ck_assert_int_eq(mt_rc_slot("foo", 3), 12182);          /* CLUSTER KEYSLOT foo */
	ck_assert_int_eq(mt_rc_slot("{user1000}.following", 21), mt_rc_slot("{user1000}.followers", 21));
	ck_assert_int_eq(mt_rc_slot("foo{}{bar}", 10), mt_rc_crc16("foo{}{bar}", 10) & 16383);
	ck_assert_int_eq(mt_rc_slot("foo{{bar}}zap", 13), mt_rc_crc16("{bar", 4) & 16383);
	ck_assert_int_eq(mt_rc_slot("mt:site:{1.2.3.4}", 17), mt_rc_slot("mt:site:{1.2.3.4}:hits", 22));
	ck_assert_int_eq(mt_rc_slot("mt:hits", 7), mt_rc_slot("mt:hits:seen{mt:hits}", 21));
}
END_TEST

/* ---- cluster: MOVED and ASK while slots move ---- */

static int owner(int port, int slot)
{
	const char *a[2] = { "CLUSTER", "SLOTS" };
	redisReply *r = mt_rq(port, 2, a);
	int p = -1;
	for (size_t i = 0; r && i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (slot >= e->element[0]->integer && slot <= e->element[1]->integer)
			p = (int)e->element[2]->element[1]->integer;
	}
	if (r)
		freeReplyObject(r);
	return p;
}

static void myid(int port, char *out, size_t n)
{
	mt_rqs(port, "CLUSTER", "MYID", NULL, out, n);
}

static void setslot(int port, int slot, const char *how, const char *id)
{
	char sl[16];
	snprintf(sl, sizeof(sl), "%d", slot);
	const char *a[5] = { "CLUSTER", "SETSLOT", sl, how, id };
	redisReply *r = mt_rq(port, 5, a);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type == REDIS_REPLY_STATUS, "SETSLOT %s %s: %s", sl, how, r->str);
	freeReplyObject(r);
}

START_TEST(t_cluster_redirects)
{
	mt_rsrv n[3];
	char cmd[512], b[4096];
	if (access("/usr/bin/redis-cli", X_OK) != 0)
		return;
	for (int i = 0; i < 3; i++) {
		memset(&n[i], 0, sizeof(n[i]));
		n[i].cluster = 1;
		mt_rsrv_start(&n[i]);
	}
	snprintf(cmd, sizeof(cmd),
		 "redis-cli --cluster create 127.0.0.1:%d 127.0.0.1:%d 127.0.0.1:%d --cluster-yes >/dev/null 2>&1",
		 n[0].port, n[1].port, n[2].port);
	ck_assert_int_eq(system(cmd), 0);
	for (int i = 0; i < 200; i++) { /* cluster_state:ok on every node */
		char info[4096];
		int ok = 0;
		for (int k = 0; k < 3; k++) {
			mt_rqs(n[k].port, "CLUSTER", "INFO", NULL, info, sizeof(info));
			ok += strstr(info, "cluster_state:ok") != NULL;
		}
		if (ok == 3)
			break;
		usleep(50000);
	}
	mt_sink *s = open_sink(n[0].port, "p-cl");
	/* site 10.0.0.1: 5 hits, then its slot moves to another master with its keys */
	for (int q = 1; q <= 5; q++)
		put(s, b, rec(b, sizeof(b), 1, 1, q, "update", 100, 10, 1));
	ck_assert_int_eq(s->flush(s), 0);
	int slot = mt_rc_slot("mt:site:{10.0.0.1}", 18);
	int from = owner(n[0].port, slot), fi = 0, ti;
	while (n[fi].port != from)
		fi++;
	ti = (fi + 1) % 3;
	char idf[64], idt[64];
	myid(n[fi].port, idf, sizeof(idf));
	myid(n[ti].port, idt, sizeof(idt));
	setslot(n[ti].port, slot, "IMPORTING", idf);
	setslot(n[fi].port, slot, "MIGRATING", idt);
	char sl[16], tp[16];
	snprintf(sl, sizeof(sl), "%d", slot);
	snprintf(tp, sizeof(tp), "%d", n[ti].port);
	const char *gk[4] = { "CLUSTER", "GETKEYSINSLOT", sl, "100" };
	redisReply *keys = mt_rq(n[fi].port, 4, gk);
	ck_assert_uint_eq(keys->elements, 3); /* the site hash, its hits zset, its flows hash */
	const char *mig[12] = { "MIGRATE", "127.0.0.1", tp, "", "0", "5000", "KEYS" };
	for (size_t i = 0; i < keys->elements; i++)
		mig[7 + i] = keys->element[i]->str;
	redisReply *mr = mt_rq(n[fi].port, 7 + (int)keys->elements, mig);
	ck_assert_int_eq(mr->type, REDIS_REPLY_STATUS);
	freeReplyObject(mr);
	freeReplyObject(keys);
	for (int i = 0; i < 3; i++)
		setslot(n[i].port, slot, "NODE", idt);
	for (int q = 6; q <= 10; q++)
		put(s, b, rec(b, sizeof(b), 1, 1, q, "update", 100, 10, 1));
	ck_assert_int_eq(s->flush(s), 0);
	mt_redis_stats st;
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_ge(st.moved, 1);
	ck_assert_int_eq(mt_rqi(n[ti].port, "HGET", "mt:site:{10.0.0.1}", "hits"), 10);

	/* site 10.0.0.2 (new keys) while its slot is migrating: ASK to the importing master, then done */
	slot = mt_rc_slot("mt:site:{10.0.0.2}", 18);
	from = owner(n[0].port, slot);
	for (fi = 0; n[fi].port != from; fi++)
		;
	ti = (fi + 1) % 3;
	myid(n[fi].port, idf, sizeof(idf));
	myid(n[ti].port, idt, sizeof(idt));
	setslot(n[ti].port, slot, "IMPORTING", idf);
	setslot(n[fi].port, slot, "MIGRATING", idt);
	for (int q = 1; q <= 5; q++)
		put(s, b, rec(b, sizeof(b), 2, 3, q, "update", 0, 0, 0));
	usleep(400000); /* the sink meets ASK (and TRYAGAIN for the multi-key script): it retries */
	for (int i = 0; i < 3; i++)
		setslot(n[i].port, slot, "NODE", idt);
	int fr = -1;
	for (int i = 0; i < 5 && fr != 0; i++) /* retries back off up to 2 s */
		fr = s->flush(s);
	ck_assert_int_eq(fr, 0);
	ck_assert_int_eq(mt_sink_redis_close(s, &st), 0);
	ck_assert_uint_ge(st.ask, 1);
	ck_assert_uint_eq(st.sent, 15);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_int_eq(mt_rqi(n[ti].port, "HGET", "mt:site:{10.0.0.2}", "hits"), 5);
	long long xl = -1;
	for (int i = 0; i < 3; i++) {
		long long x = mt_rqi(n[i].port, "XLEN", "mt:hits", NULL);
		if (x > 0)
			xl = x;
	}
	ck_assert_int_eq(xl, 15);
	printf("cluster redirects: moved=%llu ask=%llu sent=%llu\n", (unsigned long long)st.moved,
	       (unsigned long long)st.ask, (unsigned long long)st.sent);
	for (int i = 0; i < 3; i++)
		mt_rsrv_cleanup(&n[i]);
}
END_TEST

START_TEST(t_bench)
{
	char b[4096];
	mt_rsrv_start(&srv);
	char url[64], err[256];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", srv.port);
	mt_redis_cfg cfg = { .url = url, .probe_id = "p-bench", .drain_ms = 50000 };
	mt_sink *s = mt_sink_redis_open(&cfg, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	struct timespec a, e;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 5000; i++)
		put(s, b, rec(b, sizeof(b), i % 200 + 1, i / 200, i % 5 + 1, "update", 100, 10, 1));
	mt_redis_stats st;
	int crc = mt_sink_redis_close(s, &st);
	clock_gettime(CLOCK_MONOTONIC, &e);
	printf("bench stats: queued=%llu sent=%llu dropped=%llu failures=%llu rejected=%llu\n", (unsigned long long)st.queued,
	       (unsigned long long)st.sent, (unsigned long long)st.dropped, (unsigned long long)st.failures,
	       (unsigned long long)st.rejected);
	fflush(stdout);
	ck_assert_int_eq(crc, 0);
	double dt = (double)(e.tv_sec - a.tv_sec) + (double)(e.tv_nsec - a.tv_nsec) / 1e9;
	printf("sink: 5000 enriched hits with estimates in %.3f s = %.0f hits/s (tests/bench/redis-bench measures properly)\n",
	       dt, 5000 / dt);
	ck_assert_uint_eq(st.sent, 5000);
	ck_assert_int_eq(mt_rqi(srv.port, "XLEN", "mt:hits", NULL), 5000);
	mt_rsrv_cleanup(&srv);
}
END_TEST

/* ---- lean hits and extracted fields: the same records into db 0 (lean on) and db 1 (every hit in
 * full, the script's decode or plain path as before) must give the same store ---- */

#define NTW 2 /* probes p1, p2 */
static mt_sink *tw_lean[NTW], *tw_full[NTW];

static mt_sink *open_db(int db, const char *probe, int no_lean)
{
	char url[64], err[256];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/%d", srv.port, db);
	mt_redis_cfg cfg = { .url = url, .probe_id = probe, .batch = 64, .timeout_ms = 1000, .no_lean = no_lean };
	mt_sink *s = mt_sink_redis_open(&cfg, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

/* A record with chosen values. kind 0: plain; 1: miner and estimate, raw UTF-8 (fields passed);
 * 2: the same with a \u escape (the script decodes it); 3: plain with an escaped worker. */
static int rec2(char *buf, size_t cap, int ip, int flow, int seq, const char *worker, const char *wallet,
		const char *country, int kind)
{
	char extra[1200] = "";
	if (kind == 1 || kind == 2)
		snprintf(extra, sizeof(extra),
			 ",\"miner\":{\"ip\":\"10.0.1.%d\",\"geo\":{\"country\":\"%s\",\"subdivision\":\"SC\",\"city\":\"Chengdu\","
			 "\"city_zh\":\"%s\",\"latitude\":30.66,\"longitude\":104.06},\"asn\":{\"number\":4134,\"org\":\"Chinanet\"},"
			 "\"enterprise\":{\"company\":\"Acme/Data\",\"credit_code\":\"91510100MA6C\",\"site_address\":\"Rd 1\","
			 "\"kind\":\"data_center\"},\"verdict\":\"mining_in_data_center\"},"
			 "\"estimate\":{\"algo\":\"sha256d\",\"basis\":\"share_difficulty\",\"shares\":4,\"elapsed_s\":60,"
			 "\"hashrate_hs\":%d.5e12,\"hashrate_low_hs\":9e11,\"hashrate_high_hs\":1.5e13,"
			 "\"power_w\":{\"low\":300,\"best\":350.25,\"high\":400}}",
			 ip, country, kind == 1 ? "\xe6\x88\x90\xe9\x83\xbd" : "\\u6210\\u90fd", seq);
	return snprintf(buf, cap,
			"{\"timestamp\":\"2024-03-14T10:%02d:%02d.500000Z\",\"src_ip\":\"10.0.1.%d\",\"community_id\":\"1:f%d\","
			"\"mining\":{\"protocol\":\"stratum\",\"coin\":\"BTC\",\"algo\":\"sha256d\",\"pool_host\":\"pool.example/x\","
			"\"wallet\":\"%s\",\"worker\":\"%s\",\"agent\":\"cgminer/4.12 \xc3\xa9\"},"
			"\"flow\":{\"start\":\"2024-03-14T10:00:%02d.000000Z\"},\"hit\":{\"status\":\"update\",\"seq\":%d}%s}",
			seq / 60 % 60, seq % 60, ip, flow, wallet, kind == 3 ? "r\\u0069g9" : worker, flow % 60, seq, extra);
}

static void tw(int probe, int ip, int flow, int seq, const char *worker, const char *wallet, const char *country,
	       int kind)
{
	char b[4096];
	int n = rec2(b, sizeof(b), ip, flow, seq, worker, wallet, country, kind);
	put(tw_lean[probe], b, n);
	put(tw_full[probe], b, n);
}

static void tw_flush(void)
{
	for (int i = 0; i < NTW; i++) {
		ck_assert_int_eq(tw_lean[i]->flush(tw_lean[i]), 0);
		ck_assert_int_eq(tw_full[i]->flush(tw_full[i]), 0);
	}
}

static redisReply *dbq(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", argv[0], r->str);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key's content as one sorted text (hash pairs, set members, zset members and scores; the
 * stream as its sorted hit ids), leaving out the wall-clock fields. */
static void dump_key(redisContext *c, const char *key, char *out, size_t cap)
{
	const char *ta[2] = { "TYPE", key };
	redisReply *t = dbq(c, 2, ta);
	const char *q[6] = { NULL, key, NULL, NULL, NULL, NULL };
	int qn = 2, step = 1, pick = 0;
	if (!strcmp(t->str, "hash")) {
		q[0] = "HGETALL";
		step = 2;
	} else if (!strcmp(t->str, "set")) {
		q[0] = "SMEMBERS";
	} else if (!strcmp(t->str, "zset")) {
		q[0] = "ZRANGE"; q[2] = "0"; q[3] = "-1"; q[4] = "WITHSCORES"; qn = 5;
		step = 2;
	} else {
		ck_assert_str_eq(t->str, "stream");
		q[0] = "XRANGE"; q[2] = "-"; q[3] = "+"; qn = 4;
		pick = 1;
	}
	freeReplyObject(t);
	redisReply *r = dbq(c, qn, q);
	char **items = calloc(r->elements + 1, sizeof(*items));
	size_t ni = 0;
	for (size_t i = 0; i < r->elements; i += (size_t)step) {
		char one[2048];
		if (pick) { /* entry: [id, [f, v, ...]]: the hit_id and json values */
			redisReply *fv = r->element[i]->element[1];
			one[0] = '\0';
			for (size_t k = 0; k + 1 < fv->elements; k += 2)
				if (!strcmp(fv->element[k]->str, "hit_id") || !strcmp(fv->element[k]->str, "probe"))
					snprintf(one + strlen(one), sizeof(one) - strlen(one), "%s ", fv->element[k + 1]->str);
		} else if (step == 2) {
			if (!strcmp(r->element[i]->str, "updated") || !strcmp(r->element[i]->str, "estimate_updated"))
				continue;
			snprintf(one, sizeof(one), "%s=%s", r->element[i]->str, r->element[i + 1]->str);
		} else {
			snprintf(one, sizeof(one), "%s", r->element[i]->str);
		}
		items[ni++] = strdup(one);
	}
	qsort(items, ni, sizeof(*items), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < ni; i++) {
		snprintf(out + strlen(out), cap - strlen(out), "%s\n", items[i]);
		free(items[i]);
	}
	free(items);
	freeReplyObject(r);
}

/* db 0 and db 1 hold the same mt:* keys with the same contents (mt:probe:* aside). */
static void same_dbs(void)
{
	redisContext *c[2];
	char *keys[2][256];
	size_t nk[2] = { 0, 0 };
	for (int d = 0; d < 2; d++) {
		c[d] = redisConnect("127.0.0.1", srv.port);
		ck_assert(c[d] && !c[d]->err);
		const char *sel[2] = { "SELECT", d ? "1" : "0" }, *ka[2] = { "KEYS", "mt:*" };
		freeReplyObject(dbq(c[d], 2, sel));
		redisReply *r = dbq(c[d], 2, ka);
		for (size_t i = 0; i < r->elements; i++)
			if (strncmp(r->element[i]->str, "mt:probe:", 9) != 0 && nk[d] < 256)
				keys[d][nk[d]++] = strdup(r->element[i]->str);
		freeReplyObject(r);
		qsort(keys[d], nk[d], sizeof(char *), cmp_str);
	}
	ck_assert_uint_eq(nk[0], nk[1]);
	static char a[65536], b[65536];
	for (size_t i = 0; i < nk[0]; i++) {
		ck_assert_str_eq(keys[0][i], keys[1][i]);
		dump_key(c[0], keys[0][i], a, sizeof(a));
		dump_key(c[1], keys[1][i], b, sizeof(b));
		ck_assert_msg(strcmp(a, b) == 0, "%s differs:\nlean:\n%s\nfull:\n%s", keys[0][i], a, b);
		free(keys[0][i]);
		free(keys[1][i]);
	}
	redisFree(c[0]);
	redisFree(c[1]);
}

static void both_dbs(int argc, const char **argv)
{
	for (int d = 0; d < 2; d++) {
		redisContext *c = redisConnect("127.0.0.1", srv.port);
		const char *sel[2] = { "SELECT", d ? "1" : "0" };
		freeReplyObject(dbq(c, 2, sel));
		freeReplyObject(dbq(c, argc, argv));
		redisFree(c);
	}
}

START_TEST(t_lean)
{
	mt_rsrv_start(&srv);
	const char *probes[NTW] = { "p1", "p2" };
	for (int i = 0; i < NTW; i++) {
		tw_lean[i] = open_db(0, probes[i], 0);
		tw_full[i] = open_db(1, probes[i], 1);
	}
	int seq = 1;
	/* one probe, repeated values: lean after the first reply */
	tw(0, 1, 1, seq++, "rig1", "W1", "CN", 0);
	tw_flush();
	for (int i = 0; i < 20; i++)
		tw(0, 1, 1, seq++, "rig1", "W1", "CN", 0);
	tw_flush();
	/* two probes interleaving on two sites, each with its own worker */
	for (int i = 0; i < 12; i++) {
		tw(i & 1, 1 + (i / 2 & 1), 2 + (i & 1), seq++, (i & 1) ? "rigB" : "rigA", "W1", "CN", 0);
		tw_flush();
	}
	/* a new value after many lean hits */
	tw(0, 1, 4, seq++, "rig-new", "W-new", "CN", 0);
	tw_flush();
	/* enriched records, fields passed (1) and decoded (2), the enrichment changing; p1's later
	 * ones are lean (their arrays known) */
	mt_redis_stats st;
	mt_sink_redis_get_stats(tw_lean[0], &st);
	uint64_t lean0 = st.lean;
	for (int i = 0; i < 6; i++) {
		tw(i & 1, 3, 5 + (i & 1), seq++, "rig3", "W3", i < 3 ? "CN" : "US", 1 + (i % 2));
		tw_flush();
	}
	mt_sink_redis_get_stats(tw_lean[0], &st);
	ck_assert_uint_eq(st.lean - lean0, 2);
	/* an escaped worker: the script decodes it */
	tw(0, 1, 7, seq++, "", "W1", "CN", 3);
	tw_flush();
	mt_sink_redis_get_stats(tw_lean[0], &st);
	ck_assert_uint_gt(st.lean, 15);
	same_dbs();
	HEQ("mt:site:{10.0.1.1}", "probes", "[\"p1\",\"p2\"]");
	HEQ("mt:site:{10.0.1.1}", "workers", "[\"rig1\",\"rigA\",\"rigB\",\"rig-new\",\"rig9\"]");
	HEQ("mt:site:{10.0.1.3}", "country", "US");
	HEQ("mt:site:{10.0.1.3}", "city_zh", "\xe6\x88\x90\xe9\x83\xbd");
	ck_assert_int_eq(mt_rqi(srv.port, "SISMEMBER", "mt:idx:region:US", "10.0.1.3"), 1);
	ck_assert_int_eq(mt_rqi(srv.port, "SISMEMBER", "mt:idx:wallet:W-new", "10.0.1.1"), 1);

	/* an operator deletes a site: the lean hit is refused and resent in full */
	const char *del[3] = { "DEL", "mt:site:{10.0.1.1}", "mt:site:{10.0.1.1}:hits" };
	both_dbs(3, del);
	tw(0, 1, 1, seq++, "rig1", "W1", "CN", 0);
	tw_flush();
	mt_sink_redis_get_stats(tw_lean[0], &st);
	ck_assert_uint_ge(st.lean_refused, 1);
	same_dbs();
	HEQ("mt:site:{10.0.1.1}", "hits", "1");
	HEQ("mt:site:{10.0.1.1}", "wallets", "[\"W1\"]");
	for (int i = 0; i < 5; i++)
		tw(0, 1, 1, seq++, "rig1", "W1", "CN", 0);
	tw_flush();
	same_dbs();

	/* a field deleted by hand is invisible to the lean check; a reconnect drops what the sink
	 * knew, so the next hit goes in full and writes it again */
	const char *hdel[3] = { "HDEL", "mt:site:{10.0.1.1}", "wallets" };
	both_dbs(3, hdel);
	const char *kill[4] = { "CLIENT", "KILL", "TYPE", "normal" };
	redisReply *kr = mt_rq(srv.port, 4, kill);
	ck_assert_ptr_nonnull(kr);
	freeReplyObject(kr);
	mt_sink_redis_get_stats(tw_lean[0], &st);
	uint64_t lean_before = st.lean;
	tw(0, 1, 1, seq++, "rig1", "W1", "CN", 0);
	tw_flush();
	mt_sink_redis_get_stats(tw_lean[0], &st);
	ck_assert_uint_eq(st.lean, lean_before);
	HEQ("mt:site:{10.0.1.1}", "wallets", "[\"W1\"]");
	same_dbs();
	for (int i = 0; i < NTW; i++) {
		ck_assert_int_eq(mt_sink_redis_close(tw_lean[i], &st), 0);
		ck_assert_uint_eq(st.rejected, 0);
		ck_assert_uint_eq(st.dropped, 0);
		ck_assert_int_eq(mt_sink_redis_close(tw_full[i], &st), 0);
		ck_assert_uint_eq(st.lean, 0);
	}
	mt_rsrv_cleanup(&srv);
}
END_TEST

/* Every truncation of an enriched record (the fields the sink extracts for the script): each is
 * stored or refused, nothing crashes, nothing is lost. */
START_TEST(t_truncated)
{
	char b[4096];
	mt_rsrv_start(&srv);
	mt_sink *s = open_sink(srv.port, "p-trunc");
	int n = rec2(b, sizeof(b), 9, 1, 1, "rig1", "W1", "CN", 1);
	for (int k = 0; k <= n; k++)
		put(s, b, k);
	ck_assert_int_eq(s->flush(s), 0);
	mt_redis_stats st;
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_eq(st.sent, 1);
	ck_assert_uint_eq(st.sent + st.duplicates + st.rejected, (uint64_t)n + 1);
	ck_assert_int_eq(mt_sink_redis_close(s, NULL), 0);
	mt_rsrv_cleanup(&srv);
}
END_TEST

START_TEST(t_url)
{
	mt_redis_url u;
	ck_assert_int_eq(mt_redis_url_parse("redis://h:1/2", &u), 0);
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 1);
	ck_assert_int_eq(u.db, 2);
	ck_assert_int_eq(mt_redis_url_parse("redis://u:p@h:6380/0", &u), 0);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.pass, "p");
	ck_assert_int_eq(mt_redis_url_parse("redis://pw@h", &u), 0);
	ck_assert_str_eq(u.pass, "pw");
	ck_assert_str_eq(u.user, "");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(mt_redis_url_parse("redis://[::1]:7000", &u), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(mt_redis_url_parse("unix:///tmp/r.sock?db=3", &u), 0);
	ck_assert_str_eq(u.path, "/tmp/r.sock");
	ck_assert_int_eq(u.db, 3);
	const char *bad[] = { NULL, "", "http://h", "redis://", "redis://h:", "redis://h:0",
			      "redis://h:65536", "redis://h:1x", "redis://h/x", "redis://h/16",
			      "unix://", "unix://rel", "unix:///p?x=1", "unix:///p?db=",
			      "redis://@h", "redis://u:@h", "redis://[::1", "redis://h:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mt_redis_url_parse(bad[i], &u) == -EINVAL, "%s", bad[i] ? bad[i] : "NULL");
	/* every truncation of a good URL: no crash */
	const char *g = "redis://user:pass@host.example:6380/5";
	char t[64];
	for (size_t n = 0; n <= strlen(g); n++) {
		memcpy(t, g, n);
		t[n] = '\0';
		(void)mt_redis_url_parse(t, &u);
	}
}
END_TEST

START_TEST(t_no_format_commands)
{
	/* hiredis' printf-like command builders must not be used anywhere in the sink */
	static const char *const files[] = { "/src/sink/redis.c", "/src/sink/rc.c", "/src/sink/spool.c" };
	int bad = 0, argv_calls = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s%s", SRCDIR, files[i]);
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		char line[1024];
		while (fgets(line, sizeof(line), f)) {
			for (char *p = line; (p = strstr(p, "redis")) != NULL; p++) {
				if (!strncmp(p, "redisCommand(", 13) || !strncmp(p, "redisAppendCommand(", 19) ||
				    !strncmp(p, "redisvCommand", 13) || !strncmp(p, "redisvAppendCommand", 19) ||
				    !strncmp(p, "redisFormatCommand", 18) || !strncmp(p, "redisvFormatCommand", 19))
					bad++;
				if (!strncmp(p, "redisCommandArgv(", 17) || !strncmp(p, "redisAppendCommandArgv(", 23))
					argv_calls++;
			}
		}
		fclose(f);
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_gt(argv_calls, 0); /* the check reads the right files */
}
END_TEST

int main(void)
{
	Suite *su = suite_create("sink_redis");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_url);
	tcase_add_test(tc, t_no_format_commands);
	tcase_add_test(tc, t_slots);
	tcase_add_test(tc, t_schema);
	tcase_add_test(tc, t_acl);
	tcase_add_test(tc, t_noscript);
	tcase_add_test(tc, t_threads);
	tcase_add_test(tc, t_cluster_redirects);
	tcase_add_test(tc, t_bench);
	tcase_add_test(tc, t_lean);
	tcase_add_test(tc, t_truncated);
	suite_add_tcase(su, tc);
	if (!mt_rsrv_have()) {
		printf("redis-server not installed: skipped\n");
		return 77;
	}
	SRunner *sr = srunner_create(su);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
