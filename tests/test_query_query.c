/* test_query_query.c - minetrace-query against a redis-server started here, filled per the contracts.md schema. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/json.h"
#include "mt_run.h"
#include "mt_test.h"

static pid_t srv_pid;
static int srv_port;
static char url[64];

#define NTOK 8192
#define CO_NAME "四川某某数据科技有限公司"
#define CO_CODE "91510100MA6C000001"

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);

	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	ck_assert(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void start_server(void)
{
	char port[16];

	srv_port = free_port();
	snprintf(port, sizeof(port), "%d", srv_port);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", srv_port);
	srv_pid = fork();
	if (srv_pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl("/usr/bin/redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		      "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		redisContext *c = redisConnect("127.0.0.1", srv_port);
		int ok = c && !c->err;

		redisFree(c);
		if (ok)
			return;
		usleep(20000);
	}
	ck_abort_msg("redis-server did not start");
}

static void stop_server(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
		srv_pid = 0;
	}
}

/* One command, words separated by NULs' stand-in: an argv list ended by NULL. */
static void rcmd(redisContext *c, ...)
{
	const char *argv[128];
	int n = 0;
	va_list ap;
	redisReply *r;

	va_start(ap, c);
	while (n < 127 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	r = redisCommandArgv(c, n, argv, NULL);
	ck_assert_msg(r && r->type != REDIS_REPLY_ERROR, "redis %s: %s", argv[0], r ? r->str : c->errstr);
	freeReplyObject(r);
}

/*
 * The store as the sink writes it (contracts.md "Redis schema"): four sites over a week of packet
 * time ending 2024-03-14 07:06:40 UTC, two of one company in Sichuan, one known mine in Xinjiang
 * with two algorithms, one encrypted flow abroad without a rate.
 */
#define T_END 1710400000
static void fill(void)
{
	redisContext *c = redisConnect("127.0.0.1", srv_port);

	ck_assert(c && !c->err);
	rcmd(c, "HSET", "mt:site:{10.1.0.5}", "ip", "10.1.0.5", "first_seen", "1709900000", "last_seen", "1710400000",
	     "updated", "1764200000", "hits", "3", "protocols", "[\"stratum\"]", "coins", "[\"BTC\"]",
	     "pools", "[\"btc.f2pool.com\"]", "wallets", "[\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT\"]",
	     "workers", "[\"rig01\",\"rig02\"]", "agents", "[\"cgminer/4.12.1\"]", "probes", "[\"p1\"]",
	     "country", "CN", "subdivision", "SC", "city", "Chengdu", "city_zh", "成都", "latitude", "30.66",
	     "longitude", "104.06", "asn", "4134", "org", "CHINANET", "company", CO_NAME, "credit_code", CO_CODE,
	     "site_address", "成都市高新区", "kind", "data_center", "verdict", "mining_in_data_center",
	     "workers_seen", "2", "machines_est", "2", "hashrate_hs:sha256d", "1.2e14",
	     "hashrate_low_hs:sha256d", "1e14", "hashrate_high_hs:sha256d", "1.4e14", "power_w_low", "2100",
	     "power_w_best", "4080", "power_w_high", "11760", "energy_kwh_day_low", "50.4",
	     "energy_kwh_day_best", "97.92", "energy_kwh_day_high", "282.24", "estimate_updated", "1764200000", NULL);
	rcmd(c, "HSET", "mt:site:{10.1.0.6}", "ip", "10.1.0.6", "first_seen", "1710000000", "last_seen", "1710390000",
	     "hits", "2", "protocols", "[\"cryptonote-stratum\"]", "pools", "[\"xmr.example.cn\"]",
	     "workers", "[\"cpu1\"]", "country", "CN", "subdivision", "SC", "city", "Chengdu", "city_zh", "成都",
	     "asn", "4134", "company", CO_NAME, "credit_code", CO_CODE, "kind", "data_center",
	     "verdict", "mining_in_data_center", "workers_seen", "1", "hashrate_hs:randomx", "50000",
	     "hashrate_low_hs:randomx", "40000", "hashrate_high_hs:randomx", "60000", "power_w_low", "333",
	     "power_w_best", "833", "power_w_high", "2000", "energy_kwh_day_low", "8", "energy_kwh_day_best", "20",
	     "energy_kwh_day_high", "48", NULL);
	rcmd(c, "HSET", "mt:site:{10.2.0.9}", "ip", "10.2.0.9", "first_seen", "1710100000", "last_seen", "1710300000",
	     "hits", "4", "protocols", "[\"stratum\",\"cryptonote-stratum\"]", "pools", "[\"btc.f2pool.com\"]",
	     "workers", "[\"x1\"]", "country", "CN", "subdivision", "XJ", "city", "Urumqi", "city_zh", "乌鲁木齐",
	     "asn", "4837", "verdict", "known_mine", "workers_seen", "1", "hashrate_hs:sha256d", "2e13",
	     "hashrate_low_hs:sha256d", "1.5e13", "hashrate_high_hs:sha256d", "2.6e13", "hashrate_hs:randomx", "1000",
	     "hashrate_low_hs:randomx", "800", "hashrate_high_hs:randomx", "1200", "power_w_low", "370",
	     "power_w_best", "697", "power_w_high", "2000", "energy_kwh_day_low", "8.88", "energy_kwh_day_best", "16.7",
	     "energy_kwh_day_high", "48", NULL);
	rcmd(c, "HSET", "mt:site:{192.0.2.77}", "ip", "192.0.2.77", "first_seen", "1709000000", "last_seen", "1709500000",
	     "hits", "1", "protocols", "[\"stratum-v2-encrypted\"]", "country", "US", "workers_seen", "0", NULL);
	rcmd(c, "ZADD", "mt:sites", "1710400000", "10.1.0.5", "1710390000", "10.1.0.6", "1710300000", "10.2.0.9",
	     "1709500000", "192.0.2.77", NULL);
	rcmd(c, "ZADD", "mt:site:{10.1.0.5}:hits", "1709900000", "h51", "1710100000", "h52", "1710400000", "h53", NULL);
	rcmd(c, "ZADD", "mt:site:{10.1.0.6}:hits", "1710000000", "h61", "1710390000", "h62", NULL);
	rcmd(c, "ZADD", "mt:site:{10.2.0.9}:hits", "1710100000", "h91", "1710150000", "h92", "1710200000", "h93",
	     "1710300000", "h94", NULL);
	rcmd(c, "ZADD", "mt:site:{192.0.2.77}:hits", "1709500000", "h71", NULL);
	rcmd(c, "HSET", "mt:site:{10.1.0.5}:flows", "p1|1:abc=|1709900000000000",
	     "{\"algo\":\"sha256d\",\"worker\":\"rig01\",\"hashrate_hs\":1.2e14}", NULL);
	rcmd(c, "SADD", "mt:idx:company:" CO_CODE, "10.1.0.5", "10.1.0.6", NULL);
	rcmd(c, "SADD", "mt:idx:companyname:" CO_NAME, "10.1.0.5", "10.1.0.6", NULL);
	rcmd(c, "SADD", "mt:idx:pool:btc.f2pool.com", "10.1.0.5", "10.2.0.9", NULL);
	rcmd(c, "SADD", "mt:idx:wallet:1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "10.1.0.5", NULL);
	rcmd(c, "SADD", "mt:idx:region:CN:SC", "10.1.0.5", "10.1.0.6", NULL);
	rcmd(c, "SADD", "mt:idx:region:CN:XJ", "10.2.0.9", NULL);
	rcmd(c, "SADD", "mt:idx:region:CN", "10.1.0.5", "10.1.0.6", "10.2.0.9", NULL);
	rcmd(c, "SADD", "mt:idx:asn:4134", "10.1.0.5", "10.1.0.6", NULL);
	redisFree(c);
}

/* Runs minetrace-query with the given arguments (after --redis URL); returns its exit status, output in *out. */
static int query(char **out, ...)
{
	const char *exe = getenv("MT_QUERY");
	char *argv[32], path[] = "/tmp/mt-query-XXXXXX";
	int n = 0, fd, rc;
	va_list ap;

	ck_assert_msg(exe != NULL, "MT_QUERY is not set (run through meson test)");
	argv[n++] = (char *)exe;
	argv[n++] = "--redis";
	argv[n++] = url;
	va_start(ap, out);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	fd = mkstemp(path);
	ck_assert(fd >= 0);
	close(fd);
	rc = mt_run(argv, path, NULL);
	*out = mt_slurp(path, NULL);
	unlink(path);
	ck_assert_ptr_nonnull(*out);
	return rc;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Terminal columns (East Asian wide = 2), written independently of the tool's own. */
static size_t cols(const char *s, size_t bytes)
{
	size_t w = 0;

	for (size_t i = 0; i < bytes && s[i];) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			w++;
			i++;
		} else if ((c & 0xF0) == 0xE0) { /* every CJK ideograph here is a 3-byte sequence */
			w += 2;
			i += 3;
		} else {
			w++;
			i += (c & 0xE0) == 0xC0 ? 2 : 4;
		}
	}
	return w;
}

#define SKIP_NO_SERVER()                                                  \
	do {                                                              \
		if (access("/usr/bin/redis-server", X_OK) != 0) {          \
			printf("redis-server not installed: skipped\n");   \
			return;                                           \
		}                                                         \
		start_server();                                           \
		fill();                                                   \
	} while (0)

START_TEST(company_table_aligned_with_chinese_names)
{
	char *o, *line, *save = NULL;
	size_t verdict_col = 0;
	int rows = 0;

	SKIP_NO_SERVER();
	ck_assert_int_eq(query(&o, "company", CO_CODE, NULL), 0);
	ck_assert_int_eq(count(o, "10.1.0.5"), 1);
	ck_assert_int_eq(count(o, "10.1.0.6"), 1);
	ck_assert_int_eq(count(o, "10.2.0.9"), 0);
	ck_assert_ptr_nonnull(strstr(o, "2 sites"));
	/* the VERDICT column starts at the same terminal column on every line, after a 12-wide name */
	for (line = strtok_r(o, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *v = strstr(line, "VERDICT");

		if (!v)
			v = strstr(line, "mining_in_data_center");
		if (!v)
			continue;
		if (!verdict_col)
			verdict_col = cols(line, (size_t)(v - line));
		ck_assert_uint_eq(cols(line, (size_t)(v - line)), verdict_col);
		rows++;
	}
	ck_assert_int_eq(rows, 3);
	free(o);
	ck_assert_int_eq(query(&o, "company", CO_NAME, NULL), 0);
	ck_assert_int_eq(count(o, "10.1.0.6"), 1);
	free(o);
	stop_server();
}
END_TEST

START_TEST(indexes_and_json)
{
	static mt_json_tok t[NTOK];
	char *o;
	int n;

	SKIP_NO_SERVER();
	ck_assert_int_eq(query(&o, "--json", "pool", "btc.f2pool.com", NULL), 0);
	n = mt_json_parse((const uint8_t *)o, strlen(o), t, NTOK, 8);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(t[0].type, MT_JSON_ARRAY);
	ck_assert_uint_eq(t[0].size, 2);
	{
		int s0 = mt_json_at(t, n, 0, 0), hr, sha, hs;
		double v;

		ck_assert(mt_json_str_eq((const uint8_t *)o, &t[mt_json_get((const uint8_t *)o, t, n, s0, "ip")], "10.1.0.5"));
		hr = mt_json_get((const uint8_t *)o, t, n, s0, "hashrate");
		sha = mt_json_get((const uint8_t *)o, t, n, hr, "sha256d");
		hs = mt_json_get((const uint8_t *)o, t, n, sha, "hs");
		ck_assert(hs > 0 && mt_json_double((const uint8_t *)o, &t[hs], &v) == 0 && v == 1.2e14);
		ck_assert_int_gt(mt_json_get((const uint8_t *)o, t, n, s0, "sample_hit_ids"), 0);
		ck_assert(mt_json_str_eq((const uint8_t *)o,
					 &t[mt_json_get((const uint8_t *)o, t, n, s0, "company")], CO_NAME));
	}
	free(o);
	ck_assert_int_eq(query(&o, "region", "CN:SC", NULL), 0);
	ck_assert(count(o, "10.1.0.") == 2 && !strstr(o, "10.2.0.9"));
	free(o);
	ck_assert_int_eq(query(&o, "region", "CN", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "3 sites"));
	free(o);
	ck_assert_int_eq(query(&o, "asn", "4134", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "2 sites"));
	free(o);
	ck_assert_int_eq(query(&o, "wallet", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "1 site\n"));
	free(o);
	ck_assert_int_eq(query(&o, "pool", "nowhere.example", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "0 sites"));
	free(o);
	/* the window is relative to --until: a day before the newest last_seen holds three sites */
	ck_assert_int_eq(query(&o, "recent", "--since", "24h", "--until", "latest", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "2 sites"));
	free(o);
	ck_assert_int_eq(query(&o, "recent", "--since", "2024-03-01", "--until", "2024-03-14T12:00Z", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "4 sites"));
	free(o);
	stop_server();
}
END_TEST

START_TEST(site_and_errors)
{
	char *o;

	SKIP_NO_SERVER();
	ck_assert_int_eq(query(&o, "site", "10.1.0.5", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "成都市高新区"));
	ck_assert_ptr_nonnull(strstr(o, "hashrate_hs:sha256d"));
	ck_assert_ptr_nonnull(strstr(o, "p1|1:abc=|1709900000000000"));
	ck_assert_ptr_nonnull(strstr(o, "h53"));
	free(o);
	ck_assert_int_eq(query(&o, "site", "10.9.9.9", NULL), 1);
	free(o);
	ck_assert_int_eq(query(&o, "frobnicate", NULL), 2);
	free(o);
	ck_assert_int_eq(query(&o, "report", "--format", "pdf", NULL), 2);
	free(o);
	ck_assert_int_eq(query(&o, "recent", "--since", "yesterday-ish", NULL), 1);
	free(o);
	stop_server();
	/* nothing listens any more */
	ck_assert_int_eq(query(&o, "recent", NULL), 1);
	free(o);
}
END_TEST

static double jnum(const char *s, const mt_json_tok *t, int n, int obj, const char *k1, const char *k2)
{
	int i = mt_json_get((const uint8_t *)s, t, n, obj, k1);
	double v;

	if (i >= 0 && k2)
		i = mt_json_get((const uint8_t *)s, t, n, i, k2);
	ck_assert_msg(i >= 0 && mt_json_double((const uint8_t *)s, &t[i], &v) == 0, "no %s.%s", k1, k2 ? k2 : "");
	return v;
}

START_TEST(report_json_sums)
{
	static mt_json_tok t[NTOK];
	char *o;
	int n, tot, by, act;
	double hits = 0;

	SKIP_NO_SERVER();
	ck_assert_int_eq(query(&o, "report", "--since", "7d", "--until", "latest", "--format", "json", NULL), 0);
	n = mt_json_parse((const uint8_t *)o, strlen(o), t, NTOK, 8);
	ck_assert_int_gt(n, 0);
	tot = mt_json_get((const uint8_t *)o, t, n, 0, "totals");
	/* 192.0.2.77 was last seen more than 7 days before the newest last_seen */
	ck_assert(jnum(o, t, n, tot, "sites", NULL) == 3);
	ck_assert(jnum(o, t, n, tot, "workers", NULL) == 4);
	ck_assert(fabs(jnum(o, t, n, mt_json_get((const uint8_t *)o, t, n, tot, "hashrate"), "sha256d", "hs") - 1.4e14) < 1);
	ck_assert(fabs(jnum(o, t, n, mt_json_get((const uint8_t *)o, t, n, tot, "hashrate"), "randomx", "hs") - 51000) < 1e-6);
	ck_assert(fabs(jnum(o, t, n, tot, "power_w", "best") - (4080 + 833 + 697)) < 1e-6);
	ck_assert(fabs(jnum(o, t, n, tot, "energy_kwh_day", "high") - (282.24 + 48 + 48)) < 1e-6);
	by = mt_json_get((const uint8_t *)o, t, n, 0, "by_company");
	ck_assert_uint_eq(t[by].size, 2);
	/* the company with the most power first */
	ck_assert(mt_json_str_eq((const uint8_t *)o, &t[mt_json_get((const uint8_t *)o, t, n, mt_json_at(t, n, by, 0), "company")],
				 CO_NAME));
	ck_assert(jnum(o, t, n, mt_json_at(t, n, by, 0), "sites", NULL) == 2);
	by = mt_json_get((const uint8_t *)o, t, n, 0, "by_region");
	ck_assert_uint_eq(t[by].size, 2);
	act = mt_json_get((const uint8_t *)o, t, n, 0, "activity");
	ck_assert_uint_eq(t[act].size, 28);
	for (uint32_t i = 0; i < t[act].size; i++)
		hits += jnum(o, t, n, mt_json_at(t, n, act, i), "hits", NULL);
	ck_assert(hits == 9); /* every hit of the three sites lies within the window */
	free(o);
	stop_server();
}
END_TEST

START_TEST(report_csv_and_html)
{
	char *o, path[] = "/tmp/mt-report-XXXXXX";
	int fd, lines;

	SKIP_NO_SERVER();
	ck_assert_int_eq(query(&o, "report", "--until", "latest", "--format", "csv", NULL), 0);
	lines = count(o, "\n");
	ck_assert_int_eq(lines, 1 + 1 + 2 + 2 + 3); /* header, total, companies, regions, sites */
	ck_assert_ptr_nonnull(strstr(o, "\nsite," CO_NAME "," CO_CODE ",CN-SC,10.1.0.5,"));
	ck_assert_ptr_nonnull(strstr(o, "\"mining_in_data_center, known_mine\""));
	free(o);
	fd = mkstemp(path);
	ck_assert(fd >= 0);
	close(fd);
	ck_assert_int_eq(query(&o, "report", "--until", "latest", "--format", "html", "-o", path, NULL), 0);
	free(o);
	o = mt_slurp(path, NULL);
	unlink(path);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_ge(count(o, "<svg"), 4);
	ck_assert_int_ge(count(o, "<table>"), 3);
	ck_assert_ptr_nonnull(strstr(o, "@media print"));
	ck_assert_ptr_nonnull(strstr(o, CO_NAME));
	ck_assert_ptr_nonnull(strstr(o, "乌鲁木齐"));
	/* self-contained: nothing is fetched (the only URL is SVG's namespace name) */
	ck_assert_int_eq(count(o, "src="), 0);
	ck_assert_int_eq(count(o, "http"), count(o, "xmlns=\"http://www.w3.org/2000/svg\""));
	free(o);
	/* an empty window is a report too */
	ck_assert_int_eq(query(&o, "report", "--since", "1h", "--until", "2001-01-01", "--format", "html", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "Sites<b>0</b>"));
	free(o);
	ck_assert_int_eq(query(&o, "report", "--since", "1h", "--until", "2001-01-01", "--format", "json", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, "\"sites\":[]"));
	free(o);
	stop_server();
}
END_TEST

/* 1 if this minetrace has the Redis sink (--redis in its help). */
static int minetrace_has_redis(void)
{
	const char *exe = getenv("MT_MINETRACE");
	char path[] = "/tmp/mt-help-XXXXXX", *o;
	int fd, has;

	if (!exe)
		return 0;
	fd = mkstemp(path);
	ck_assert(fd >= 0);
	close(fd);
	{
		char *argv[] = { (char *)exe, "--help", NULL };

		mt_run(argv, path, NULL);
	}
	o = mt_slurp(path, NULL);
	unlink(path);
	has = o && strstr(o, "--redis") != NULL;
	free(o);
	return has;
}

/* The store filled by minetrace --redis itself: the site of a generated CryptoNote session. */
START_TEST(store_filled_by_minetrace)
{
	static mt_json_tok t[NTOK];
	const char *exe = getenv("MT_MINETRACE");
	char cap[4096], *o;
	int n, site = -1;

	if (access("/usr/bin/redis-server", X_OK) != 0 || !minetrace_has_redis()) {
		printf("redis-server or minetrace --redis absent: skipped\n");
		return;
	}
	start_server();
	mt_test_src("pcaps/estimate-cryptonote.pcap", cap, sizeof cap);
	{
		char *argv[] = { (char *)exe, "--no-plugins", "-r", cap, "-o", "/dev/null", "--redis", url,
				 "--probe-id", "t1", NULL };

		ck_assert_int_eq(mt_run(argv, NULL, NULL), 0);
	}
	ck_assert_int_eq(query(&o, "--json", "recent", "--since", "7d", "--until", "latest", NULL), 0);
	n = mt_json_parse((const uint8_t *)o, strlen(o), t, NTOK, 8);
	ck_assert_int_gt(n, 0);
	for (uint32_t i = 0; i < t[0].size; i++) {
		int s = mt_json_at(t, n, 0, i);

		if (mt_json_str_eq((const uint8_t *)o, &t[mt_json_get((const uint8_t *)o, t, n, s, "ip")], "192.0.2.72"))
			site = s;
	}
	ck_assert_int_ge(site, 0);
	/* the site's rate is its one flow's last estimate (tests/test_evidence_estimate.c: 693.857 H/s) */
	{
		int hr = mt_json_get((const uint8_t *)o, t, n, site, "hashrate");
		int rx = mt_json_get((const uint8_t *)o, t, n, hr, "randomx");
		int hs = mt_json_get((const uint8_t *)o, t, n, rx, "hs");
		double v = 0;

		ck_assert(hs > 0 && mt_json_double((const uint8_t *)o, &t[hs], &v) == 0);
		ck_assert_msg(fabs(v - 693.857) < 0.01, "site rate %g", v);
	}
	free(o);
	ck_assert_int_eq(query(&o, "report", "--until", "latest", "--format", "csv", NULL), 0);
	ck_assert_ptr_nonnull(strstr(o, ",192.0.2.72,"));
	free(o);
	stop_server();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("query_query");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, company_table_aligned_with_chinese_names);
	tcase_add_test(tc, indexes_and_json);
	tcase_add_test(tc, site_and_errors);
	tcase_add_test(tc, report_json_sums);
	tcase_add_test(tc, report_csv_and_html);
	tcase_add_test(tc, store_filled_by_minetrace);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
