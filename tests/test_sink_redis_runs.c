/* test_sink_redis_runs.c - the minetrace program against real redis-servers that fail: restarts,
 * kill -9, absence, minetrace itself killed, replays, concurrent writers, a three-master cluster.
 * Every case checks that the hits in Redis are exactly the hits of the JSON output. */
#define _GNU_SOURCE 1
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/time.h>

#include "mt_redis.h"
#include "mt_test.h"
#include "util/json.h"
#include "sink/spool.h"

static const char *mt_bin(void)
{
	const char *p = getenv("MT_MINETRACE");
	return p ? p : "./minetrace";
}

/* ---- a capture of many distinct mining flows: pcaps/stratum-btc.pcap with the miner renumbered ---- */

static uint8_t *g_cap;
static size_t g_caplen;

static void load_base(void)
{
	char path[512];
	FILE *f = fopen(mt_test_src("pcaps/stratum-btc.pcap", path, sizeof(path)), "rb");
	ck_assert_ptr_nonnull(f);
	g_cap = malloc(1 << 20);
	g_caplen = fread(g_cap, 1, 1 << 20, f);
	fclose(f);
	ck_assert_uint_gt(g_caplen, 24);
}

static void put_replica(FILE *out, int i)
{
	/* 192.0.2.10 -> 10.9.(i/250).(i%250+1); time shifted by 200 s per replica */
	static const uint8_t from[4] = { 192, 0, 2, 10 };
	uint8_t to[4] = { 10, 9, (uint8_t)(i / 250), (uint8_t)(i % 250 + 1) };
	size_t off = 24;
	while (g_caplen - off >= 16) {
		uint8_t h[16], p[2048];
		memcpy(h, g_cap + off, 16);
		uint32_t cl = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
		if (cl > sizeof(p) || g_caplen - off - 16 < cl)
			break;
		memcpy(p, g_cap + off + 16, cl);
		uint32_t ts = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
		ts += (uint32_t)i * 200;
		h[0] = (uint8_t)ts; h[1] = (uint8_t)(ts >> 8); h[2] = (uint8_t)(ts >> 16); h[3] = (uint8_t)(ts >> 24);
		if (cl >= 34) {
			for (int a = 26; a <= 30; a += 4)
				if (memcmp(p + a, from, 4) == 0)
					memcpy(p + a, to, 4);
			uint32_t sum = 0;
			p[24] = p[25] = 0;
			for (int k = 14; k < 34; k += 2)
				sum += (uint32_t)p[k] << 8 | p[k + 1];
			while (sum >> 16)
				sum = (sum & 0xFFFF) + (sum >> 16);
			p[24] = (uint8_t)(~sum >> 8);
			p[25] = (uint8_t)~sum;
		}
		fwrite(h, 1, 16, out);
		fwrite(p, 1, cl, out);
		off += 16 + cl;
	}
}

static void put_header(FILE *out)
{
	fwrite(g_cap, 1, 24, out);
}

static void make_pcap(const char *path, int first, int n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	put_header(f);
	for (int i = first; i < first + n; i++)
		put_replica(f, i);
	fclose(f);
}

/* ---- running minetrace ---- */

typedef struct run {
	pid_t pid;
	FILE *in; /* its standard input (a pipe), when fed */
} run;

static char g_tmp[64];

static void tmpdir(void)
{
	snprintf(g_tmp, sizeof(g_tmp), "/tmp/mt-runs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_tmp));
}

/* Starts minetrace with --redis on port; reads stdin (fed) or the given pcap. */
static run start_mt(int port, const char *pcap, const char *out, const char *errf, const char *probe,
		    const char *extra)
{
	char url[64], spool[128];
	int pfd[2] = { -1, -1 };
	run r = { 0, NULL };
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	snprintf(spool, sizeof(spool), "%s/spool-%s", g_tmp, probe); /* one spool per process */
	if (!pcap)
		ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0); /* later children (a restarted Redis) must not hold it */
	r.pid = fork();
	if (r.pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (o < 0 || e < 0)
			_exit(126);
		dup2(o, 1);
		dup2(e, 2);
		if (!pcap) {
			dup2(pfd[0], 0);
			close(pfd[0]);
			close(pfd[1]);
		}
		const char *argv[24];
		int k = 0;
		argv[k++] = mt_bin();
		argv[k++] = "-r";
		argv[k++] = pcap ? pcap : "-";
		argv[k++] = "-o";
		argv[k++] = "-";
		argv[k++] = "--stats";
		argv[k++] = "--no-plugins";
		argv[k++] = "--redis";
		argv[k++] = url;
		argv[k++] = "--probe-id";
		argv[k++] = probe;
		argv[k++] = "--spool";
		argv[k++] = spool;
		argv[k++] = "--set";
		argv[k++] = "redis_timeout=500";
		if (extra) {
			argv[k++] = "--set";
			argv[k++] = extra;
		}
		argv[k] = NULL;
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (!pcap) {
		close(pfd[0]);
		r.in = fdopen(pfd[1], "wb");
		put_header(r.in);
	}
	return r;
}

static int wait_mt(run *r)
{
	int st;
	if (r->in) {
		fclose(r->in);
		r->in = NULL;
	}
	ck_assert_int_eq(waitpid(r->pid, &st, 0), r->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void feed(run *r, int first, int n)
{
	for (int i = first; i < first + n; i++)
		put_replica(r->in, i);
	fflush(r->in);
}

/* A run over an empty capture: delivers what the spool holds. Returns its exit status. */
static int deliver_run(int port, const char *probe, const char *tag, const char *err)
{
	char pcap[160], out[160];
	snprintf(pcap, sizeof(pcap), "%s/empty.pcap", g_tmp);
	snprintf(out, sizeof(out), "%s/%s.jsonl", g_tmp, tag);
	make_pcap(pcap, 0, 0);
	run r = start_mt(port, pcap, out, err, probe, NULL);
	return wait_mt(&r);
}

/* ---- comparing Redis with the JSON output ---- */

typedef struct keys {
	char **k;
	size_t n, cap;
} keys;

static void keys_add(keys *ks, const char *s)
{
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 256;
		ks->k = realloc(ks->k, ks->cap * sizeof(char *));
	}
	ks->k[ks->n++] = strdup(s);
}

static int cmpk(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct, sorted. Returns how many duplicates were removed. */
static size_t keys_uniq(keys *ks)
{
	size_t w = 0, d = 0;
	qsort(ks->k, ks->n, sizeof(char *), cmpk);
	for (size_t i = 0; i < ks->n; i++) {
		if (w && strcmp(ks->k[w - 1], ks->k[i]) == 0) {
			free(ks->k[i]);
			d++;
			continue;
		}
		ks->k[w++] = ks->k[i];
	}
	ks->n = w;
	return d;
}

static void keys_free(keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i]);
	free(ks->k);
	memset(ks, 0, sizeof(*ks));
}

/* A hit's identity in a record: probe|community_id|flow.start|seq|status. */
static int hit_key(const char *probe, const char *j, size_t len, char *out, size_t n)
{
	mt_json_tok t[512];
	char cid[128] = "", fs[64] = "", seq[32] = "", st[32] = "";
	int nt = mt_json_parse((const uint8_t *)j, len, t, 512, 16);
	if (nt < 1)
		return -1;
	const uint8_t *u = (const uint8_t *)j;
	int i = mt_json_get(u, t, nt, 0, "community_id");
	if (i >= 0)
		mt_json_str(u, &t[i], cid, sizeof(cid));
	int fl = mt_json_get(u, t, nt, 0, "flow"), h = mt_json_get(u, t, nt, 0, "hit");
	if (fl >= 0 && (i = mt_json_get(u, t, nt, fl, "start")) >= 0)
		mt_json_str(u, &t[i], fs, sizeof(fs));
	if (h >= 0 && (i = mt_json_get(u, t, nt, h, "seq")) >= 0)
		snprintf(seq, sizeof(seq), "%.*s", (int)t[i].len, j + t[i].start);
	if (h >= 0 && (i = mt_json_get(u, t, nt, h, "status")) >= 0)
		mt_json_str(u, &t[i], st, sizeof(st));
	snprintf(out, n, "%s|%s|%s|%s|%s", probe, cid, fs, seq, st);
	return 0;
}

static void json_keys(const char *path, const char *probe, keys *ks)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, k[512];
	size_t cap = 0;
	ssize_t l;
	ck_assert_ptr_nonnull(f);
	while ((l = getline(&line, &cap, f)) > 0) {
		if (line[l - 1] == '\n')
			line[--l] = '\0';
		if (hit_key(probe, line, (size_t)l, k, sizeof(k)) == 0)
			keys_add(ks, k);
	}
	free(line);
	fclose(f);
}

/* Keys of every stream entry; checks each hit_id appears once. */
static void redis_keys(int port, keys *ks)
{
	const char *a[4] = { "XRANGE", "mt:hits", "-", "+" };
	redisReply *r = mt_rq(port, 4, a);
	keys ids = { 0 };
	char k[512];
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *f = r->element[i]->element[1];
		const char *json = NULL, *probe = NULL, *hid = NULL;
		size_t jl = 0;
		for (size_t j = 0; j + 1 < f->elements; j += 2) {
			if (!strcmp(f->element[j]->str, "json")) {
				json = f->element[j + 1]->str;
				jl = f->element[j + 1]->len;
			} else if (!strcmp(f->element[j]->str, "probe")) {
				probe = f->element[j + 1]->str;
			} else if (!strcmp(f->element[j]->str, "hit_id")) {
				hid = f->element[j + 1]->str;
			}
		}
		ck_assert(json && probe && hid);
		ck_assert_int_eq(hit_key(probe, json, jl, k, sizeof(k)), 0);
		keys_add(ks, k);
		keys_add(&ids, hid);
	}
	freeReplyObject(r);
	ck_assert_uint_eq(keys_uniq(&ids), 0); /* no hit twice in the stream */
	keys_free(&ids);
}

/* Sum of the sites' hit counters and of their evidence zsets. */
static long long site_hits_sum(int port, long long *zsum)
{
	const char *a[4] = { "ZRANGE", "mt:sites", "0", "-1" };
	redisReply *r = mt_rq(port, 4, a);
	long long sum = 0;
	char key[128];
	*zsum = 0;
	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < r->elements; i++) {
		snprintf(key, sizeof(key), "mt:site:{%s}", r->element[i]->str);
		sum += mt_rqi(port, "HGET", key, "hits");
		snprintf(key, sizeof(key), "mt:site:{%s}:hits", r->element[i]->str);
		*zsum += mt_rqi(port, "ZCARD", key, NULL);
	}
	freeReplyObject(r);
	return sum;
}

/* Redis holds exactly the distinct hits of the JSON files (one per probe). Returns their count. */
static long long check_equal(int port, const char *const *json, const char *const *probes, int nfiles)
{
	keys want = { 0 }, got = { 0 };
	long long z;
	for (int i = 0; i < nfiles; i++)
		json_keys(json[i], probes[i], &want);
	keys_uniq(&want);
	redis_keys(port, &got);
	ck_assert_uint_eq(keys_uniq(&got), 0);
	ck_assert_msg(got.n == want.n, "redis has %zu hits, the JSON output %zu", got.n, want.n);
	for (size_t i = 0; i < want.n; i++)
		ck_assert_str_eq(got.k[i], want.k[i]);
	ck_assert_int_eq(site_hits_sum(port, &z), (long long)want.n);
	ck_assert_int_eq(z, (long long)want.n);
	long long n = (long long)want.n;
	keys_free(&want);
	keys_free(&got);
	return n;
}

/* The last "stats: redis" line of the stderr file (static buffer). */
static const char *last_line(const char *errf)
{
	static char last[1024];
	char line[1024];
	FILE *f = fopen(errf, "r");
	last[0] = '\0';
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "stats: redis"))
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	return last;
}

/* The last "stats: redis" line of the stderr file: its counters. */
static void last_stats(const char *errf, long long *sent, long long *dup, long long *spooled,
		       long long *unspooled, long long *dropped)
{
	FILE *f = fopen(errf, "r");
	char line[1024], last[1024] = "";
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "stats: redis"))
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	ck_assert_msg(last[0], "no redis stats line in %s", errf);
	*sent = strtoll(strstr(last, " sent=") + 6, NULL, 10);
	*dup = strtoll(strstr(last, " duplicates=") + 12, NULL, 10);
	*spooled = strtoll(strstr(last, " spooled=") + 9, NULL, 10);
	*unspooled = strtoll(strstr(last, " unspooled=") + 11, NULL, 10);
	*dropped = strtoll(strstr(last, " dropped=") + 9, NULL, 10);
	printf("  %s", strstr(last, "redis "));
}

static void setup(void)
{
	mt_rsrv_require();
	if (access(mt_bin(), X_OK) != 0) {
		printf("minetrace not built: skipped\n");
		exit(77);
	}
	load_base();
	tmpdir();
}

static void teardown_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
	if (system(cmd) != 0) {
		/* left in /tmp */
	}
}

static void paths(const char *tag, char *out, char *err)
{
	snprintf(out, 160, "%s/%s.jsonl", g_tmp, tag);
	snprintf(err, 160, "%s/%s.err", g_tmp, tag);
}

/* Redis goes away mid-run (clean shutdown or kill -9) and comes back on the same port and AOF. */
static void outage(int sig, const char *name)
{
	mt_rsrv s = { .aof = 1 };
	char out[160], err[160];
	long long sent, dup, sp, unsp, dr;
	setup();
	mt_rsrv_start(&s);
	paths(name, out, err);
	run r = start_mt(s.port, NULL, out, err, "pA", NULL);
	feed(&r, 0, 40);
	usleep(300000);
	mt_rsrv_stop(&s, sig);
	feed(&r, 40, 40);
	usleep(300000);
	mt_rsrv_start(&s);
	feed(&r, 80, 40);
	usleep(1500000);
	ck_assert_int_eq(wait_mt(&r), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(dr, 0);
	ck_assert_int_eq(deliver_run(s.port, "pA", "deliver", err), 0);
	const char *js[1] = { out }, *pr[1] = { "pA" };
	long long n = check_equal(s.port, js, pr, 1);
	printf("%s: %lld hits in the JSON output, %lld in Redis, sent=%lld spooled=%lld dup=%lld\n", name, n,
	       mt_rqi(s.port, "XLEN", "mt:hits", NULL), sent, sp, dup);
	ck_assert_int_eq(n, 120 * 3);
	mt_rsrv_cleanup(&s);
	teardown_tmp();
}

START_TEST(t_restart)
{
	outage(SIGTERM, "restart");
}
END_TEST

START_TEST(t_kill9_redis)
{
	outage(SIGKILL, "kill9-redis");
}
END_TEST

/* Redis absent for the whole run; the next run delivers the spool. */
START_TEST(t_absent)
{
	mt_rsrv s = { .aof = 0 };
	char out[160], err[160], pcap[160];
	long long sent, dup, sp, unsp, dr;
	setup();
	s.port = mt_free_port();
	paths("absent", out, err);
	snprintf(pcap, sizeof(pcap), "%s/a.pcap", g_tmp);
	make_pcap(pcap, 0, 50);
	run r = start_mt(s.port, pcap, out, err, "pB", NULL);
	ck_assert_int_eq(wait_mt(&r), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, 0);
	ck_assert_int_eq(sp, 150);
	mt_rsrv_start(&s);
	ck_assert_int_eq(deliver_run(s.port, "pB", "deliver", err), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, 150);
	ck_assert_int_eq(unsp, 150);
	ck_assert_int_eq(dup, 0);
	const char *js[1] = { out }, *pr[1] = { "pB" };
	ck_assert_int_eq(check_equal(s.port, js, pr, 1), 150);
	printf("absent: 150 spooled by run 1, 150 sent by run 2, 0 duplicates\n");
	mt_rsrv_cleanup(&s);
	teardown_tmp();
}
END_TEST

/* minetrace killed with kill -9 while it spools; the next run delivers what reached the disk. */
START_TEST(t_kill9_minetrace)
{
	mt_rsrv s = { .aof = 0 };
	char out[160], err[160], spool[160], pcap[160];
	long long sent, dup, sp, unsp, dr;
	setup();
	s.port = mt_free_port();
	paths("kill9mt", out, err);
	run r = start_mt(s.port, NULL, out, err, "pC", NULL);
	feed(&r, 0, 60);
	usleep(800000);
	kill(r.pid, SIGKILL);
	ck_assert_int_eq(wait_mt(&r), 128 + SIGKILL);
	/* what the spool holds now, read with the spool module itself */
	snprintf(spool, sizeof(spool), "%s/spool-pC", g_tmp);
	char e2[256];
	mt_spool *q = mt_spool_open(spool, 0, 0, e2, sizeof(e2));
	ck_assert_ptr_nonnull(q);
	long long on_disk = (long long)mt_spool_pending(q);
	mt_spool_close(q);
	ck_assert_int_gt(on_disk, 0);
	/* a write cut by the kill: a record header and part of its payload at the end of the last file */
	char last[600] = "";
	DIR *dp = opendir(spool);
	struct dirent *de;
	while ((de = readdir(dp)))
		if (!strncmp(de->d_name, "seg-", 4) && strcmp(de->d_name, last + strlen(spool) + (last[0] ? 1 : 0)) > 0)
			snprintf(last, sizeof(last), "%.160s/%.300s", spool, de->d_name);
	closedir(dp);
	FILE *tf = fopen(last, "ab");
	ck_assert_ptr_nonnull(tf);
	fwrite("MTS1\x40\0\0\0\1\2\3\4{\"timest", 1, 20, tf);
	fclose(tf);
	mt_rsrv_start(&s);
	ck_assert_int_eq(deliver_run(s.port, "pC", "deliver", err), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, on_disk);
	ck_assert_ptr_nonnull(strstr(strstr(last_line(err), "torn="), "torn=1 "));
	ck_assert_int_eq(mt_rqi(s.port, "XLEN", "mt:hits", NULL), on_disk);
	/* the whole capture again: every hit once, the delivered ones are duplicates */
	snprintf(pcap, sizeof(pcap), "%s/all.pcap", g_tmp);
	make_pcap(pcap, 0, 60);
	run r2 = start_mt(s.port, pcap, out, err, "pC", NULL);
	ck_assert_int_eq(wait_mt(&r2), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent + dup, 180);
	ck_assert_int_eq(dup, on_disk);
	const char *js[1] = { out }, *pr[1] = { "pC" };
	ck_assert_int_eq(check_equal(s.port, js, pr, 1), 180);
	printf("kill9-minetrace: %lld records on disk after kill -9 (plus one torn record, counted), all %lld delivered by the next run; "
	       "full rerun: sent=%lld duplicates=%lld, Redis 180 hits\n", on_disk, on_disk, sent, dup);
	mt_rsrv_cleanup(&s);
	teardown_tmp();
}
END_TEST

/* The same capture twice: the second run changes nothing; two probes at once; same probe at once. */
START_TEST(t_twice_and_concurrent)
{
	mt_rsrv s = { .aof = 0 };
	char out[160], err[160], out2[160], err2[160], pcap[160], sum1[64], sum2[64];
	long long sent, dup, sp, unsp, dr;
	setup();
	mt_rsrv_start(&s);
	snprintf(pcap, sizeof(pcap), "%s/t.pcap", g_tmp);
	make_pcap(pcap, 0, 80);
	paths("twice1", out, err);
	run r = start_mt(s.port, pcap, out, err, "pD", NULL);
	ck_assert_int_eq(wait_mt(&r), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, 240);
	long long x1 = mt_rqi(s.port, "XLEN", "mt:hits", NULL);
	mt_rqs(s.port, "HGET", "mt:site:{10.9.0.5}", "hits", sum1, sizeof(sum1));
	paths("twice2", out2, err2);
	run r2 = start_mt(s.port, pcap, out2, err2, "pD", NULL);
	ck_assert_int_eq(wait_mt(&r2), 0);
	last_stats(err2, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, 0);
	ck_assert_int_eq(dup, 240);
	ck_assert_int_eq(mt_rqi(s.port, "XLEN", "mt:hits", NULL), x1);
	mt_rqs(s.port, "HGET", "mt:site:{10.9.0.5}", "hits", sum2, sizeof(sum2));
	ck_assert_str_eq(sum1, sum2);
	printf("twice: run 1 sent=240, run 2 sent=0 duplicates=240, XLEN %lld both times\n", x1);
	/* two probes and a second process of the same probe, all at once */
	char o3[160], e3[160], o4[160], e4[160];
	paths("p2", o3, e3);
	paths("p3", o4, e4);
	run a = start_mt(s.port, pcap, o3, e3, "pE", NULL);
	run b = start_mt(s.port, pcap, o4, e4, "pF", NULL);
	run c = start_mt(s.port, pcap, out2, err2, "pD", NULL);
	ck_assert_int_eq(wait_mt(&a), 0);
	ck_assert_int_eq(wait_mt(&b), 0);
	ck_assert_int_eq(wait_mt(&c), 0);
	const char *js[3] = { out, o3, o4 }, *pr[3] = { "pD", "pE", "pF" };
	ck_assert_int_eq(check_equal(s.port, js, pr, 3), 720);
	ck_assert_int_eq(mt_rqi(s.port, "HGET", "mt:site:{10.9.0.5}", "hits"), 9);
	printf("concurrent: probes pD (again), pE, pF at once: 720 hits in Redis = 3 x 240\n");
	mt_rsrv_cleanup(&s);
	teardown_tmp();
}
END_TEST

/* SIGTERM while Redis hangs (SIGSTOP): exit 0 within 5 s, nothing lost. */
START_TEST(t_sigterm_stalled)
{
	mt_rsrv s = { .aof = 0 };
	char out[160], err[160];
	long long sent, dup, sp, unsp, dr;
	struct timeval a, b;
	setup();
	mt_rsrv_start(&s);
	paths("sigterm", out, err);
	/* the default 2 s command time-out: a batch is waiting on the stopped server at SIGTERM */
	run r = start_mt(s.port, NULL, out, err, "pG", "redis_timeout=2000");
	feed(&r, 0, 30);
	usleep(300000);
	kill(s.pid, SIGSTOP);
	feed(&r, 30, 30);
	usleep(150000);
	gettimeofday(&a, NULL);
	kill(r.pid, SIGTERM);
	/* minetrace reads its standard input with SA_RESTART: the loop sees the stop at the next packet */
	feed(&r, 60, 1);
	int st;
	ck_assert_int_eq(waitpid(r.pid, &st, 0), r.pid);
	gettimeofday(&b, NULL);
	fclose(r.in);
	double dt = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(dt < 5.0, "exit took %.2f s", dt);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(dr, 0);
	kill(s.pid, SIGCONT);
	ck_assert_int_eq(deliver_run(s.port, "pG", "deliver", err), 0);
	const char *js[1] = { out }, *pr[1] = { "pG" };
	long long n = check_equal(s.port, js, pr, 1);
	printf("sigterm: exit 0 after %.2f s with Redis stopped; %lld hits of the JSON output all in Redis after SIGCONT\n",
	       dt, n);
	mt_rsrv_cleanup(&s);
	teardown_tmp();
}
END_TEST

/* The project's captures and the shared corpus: Redis equals the JSON output. */
START_TEST(t_captures)
{
	mt_rsrv s = { .aof = 0 };
	char out[160], err[160], src[512], list[8192] = "";
	setup();
	mt_rsrv_start(&s);
	paths("caps", out, err);
	/* all captures in one run: -r for each */
	const char *argv[1100];
	int k = 0;
	char url[64], spool[160];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", s.port);
	snprintf(spool, sizeof(spool), "%s/spool", g_tmp);
	argv[k++] = mt_bin();
	char *names[500];
	int nn = 0;
	const char *dirs[3] = { "pcaps", "../shared/corpus/mining", "../shared/corpus/benign" };
	for (int d = 0; d < 3; d++) {
		DIR *dp = opendir(mt_test_src(dirs[d], src, sizeof(src)));
		struct dirent *de;
		if (!dp) {
			printf("captures: %s absent, not used\n", dirs[d]);
			continue;
		}
		while ((de = readdir(dp)) && nn < 500) {
			size_t l = strlen(de->d_name);
			if ((l > 5 && !strcmp(de->d_name + l - 5, ".pcap")) || (l > 7 && !strcmp(de->d_name + l - 7, ".pcapng"))) {
				names[nn] = malloc(600);
				snprintf(names[nn], 600, "%s/%s", src, de->d_name);
				argv[k++] = "-r";
				argv[k++] = names[nn++];
			}
		}
		closedir(dp);
	}
	(void)list;
	argv[k++] = "-o";
	argv[k++] = out;
	argv[k++] = "--stats";
	argv[k++] = "--redis";
	argv[k++] = url;
	argv[k++] = "--probe-id";
	argv[k++] = "pH";
	argv[k++] = "--spool";
	argv[k++] = spool;
	argv[k] = NULL;
	pid_t p = fork();
	if (p == 0) {
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(e, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	/* a truncated capture among them makes the exit status 0 still; an unreadable one 1 */
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
	const char *js[1] = { out }, *pr[1] = { "pH" };
	long long n = check_equal(s.port, js, pr, 1);
	long long sent, dup, sp, unsp, dr;
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, n);
	printf("captures: %d files, %lld distinct hits in the JSON output = %lld in Redis (%lld records, %lld duplicates across files)\n",
	       nn, n, mt_rqi(s.port, "XLEN", "mt:hits", NULL), sent + dup, dup);
	for (int i = 0; i < nn; i++)
		free(names[i]);
	mt_rsrv_cleanup(&s);
	teardown_tmp();
}
END_TEST

/* A real three-master cluster: hits land on their slots' masters, Redis equals the JSON output. */
START_TEST(t_cluster)
{
	mt_rsrv n[3];
	char out[160], err[160], pcap[160], ports[3][16], cmd[512];
	setup();
	if (access("/usr/bin/redis-cli", X_OK) != 0) {
		printf("redis-cli absent: cluster case skipped\n");
		return;
	}
	for (int i = 0; i < 3; i++) {
		memset(&n[i], 0, sizeof(n[i]));
		n[i].cluster = 1;
		mt_rsrv_start(&n[i]);
		snprintf(ports[i], sizeof(ports[i]), "%d", n[i].port);
	}
	snprintf(cmd, sizeof(cmd),
		 "redis-cli --cluster create 127.0.0.1:%d 127.0.0.1:%d 127.0.0.1:%d --cluster-yes >/dev/null 2>&1",
		 n[0].port, n[1].port, n[2].port);
	ck_assert_int_eq(system(cmd), 0);
	for (int i = 0; i < 200; i++) { /* wait for cluster_state:ok on every node */
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
	snprintf(pcap, sizeof(pcap), "%s/c.pcap", g_tmp);
	make_pcap(pcap, 0, 100);
	paths("cluster", out, err);
	run r = start_mt(n[1].port, pcap, out, err, "pK", NULL);
	ck_assert_int_eq(wait_mt(&r), 0);
	long long sent, dup, sp, unsp, dr, sent2;
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	/* a node still settling answers CLUSTERDOWN/TRYAGAIN: those hits wait in the spool */
	ck_assert_int_eq(deliver_run(n[1].port, "pK", "deliver", err), 0);
	last_stats(err, &sent2, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent + sent2, 300);
	/* every site sits on its slot's master; count hits over the masters */
	long long total = 0, xlen = -1, zs = 0;
	for (int i = 0; i < 3; i++) {
		const char *a[2] = { "DBSIZE", NULL };
		redisReply *y = mt_rq(n[i].port, 1, a);
		ck_assert_ptr_nonnull(y);
		ck_assert_int_gt(y->integer, 0); /* every master holds some keys */
		freeReplyObject(y);
		long long x = mt_rqi(n[i].port, "XLEN", "mt:hits", NULL);
		if (x > 0)
			xlen = x;
		long long z = mt_rqi(n[i].port, "ZCARD", "mt:sites", NULL);
		if (z > 0)
			zs = z;
	}
	for (int i = 0; i < 100; i++) {
		char key[64];
		snprintf(key, sizeof(key), "mt:site:{10.9.0.%d}", i + 1);
		int slot = 0;
		for (int m = 0; m < 3; m++) {
			long long h = mt_rqi(n[m].port, "HGET", key, "hits");
			if (h > 0) {
				total += h;
				slot++;
			}
		}
		ck_assert_int_eq(slot, 1);
	}
	ck_assert_int_eq(xlen, 300);
	ck_assert_int_eq(zs, 100);
	ck_assert_int_eq(total, 300);
	/* again: nothing changes */
	run r2 = start_mt(n[2].port, pcap, out, err, "pK", NULL);
	ck_assert_int_eq(wait_mt(&r2), 0);
	last_stats(err, &sent, &dup, &sp, &unsp, &dr);
	ck_assert_int_eq(sent, 0);
	ck_assert_int_eq(dup, 300);
	for (int i = 0; i < 3; i++) {
		long long x = mt_rqi(n[i].port, "XLEN", "mt:hits", NULL);
		if (x > 0)
			ck_assert_int_eq(x, 300);
	}
	printf("cluster: 3 masters, 300 hits, 100 sites each on one master, XLEN 300; second run sent=0 duplicates=300\n");
	for (int i = 0; i < 3; i++)
		mt_rsrv_cleanup(&n[i]);
	teardown_tmp();
}
END_TEST

int main(void)
{
	Suite *su = suite_create("sink_redis_runs");
	TCase *tc = tcase_create("runs");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_captures);
	tcase_add_test(tc, t_restart);
	tcase_add_test(tc, t_kill9_redis);
	tcase_add_test(tc, t_absent);
	tcase_add_test(tc, t_kill9_minetrace);
	tcase_add_test(tc, t_twice_and_concurrent);
	tcase_add_test(tc, t_sigterm_stalled);
	tcase_add_test(tc, t_cluster);
	suite_add_tcase(su, tc);
	if (!mt_rsrv_have()) {
		printf("redis-server not installed: skipped\n");
		return 77;
	}
	return mt_test_run(su);
}
