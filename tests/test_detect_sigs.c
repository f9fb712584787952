/* test_detect_sigs.c - the signature loader: the shipped signatures/ folder, every validation error with its FILE:LINE, every lookup, hostile files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "detect/sigs.h"
#include "mt_run.h"
#include "mt_test.h"

/* ---- helpers: a throwaway folder of signature files ---- */

static char tdir[64];

/* Valgrind or a sanitizer: skip wall-clock limits and the slowest loops. */
static int slow_run(void)
{
	const char *p = getenv("LD_PRELOAD");
	return (p && strstr(p, "vgpreload")) || getenv("MT_TEST_SLOW") != NULL;
}

static void mkdir_tmp(void)
{
	snprintf(tdir, sizeof tdir, "/tmp/mt_sigs_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static void put(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tdir, name);
	fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static void puts_file(const char *name, const char *text)
{
	put(name, text, strlen(text));
}

static void rm_tmp(void)
{
	static const char *const names[] = { "pool-domains.txt", "pool-ips.txt", "miner-agents.txt",
					     "methods.txt", "p2p-magics.txt", "ports.txt",
					     "webminer-hosts.txt" };
	char path[256];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tdir, names[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			rmdir(path);
	}
	ck_assert_int_eq(rmdir(tdir), 0);
}

/* mt_sigs_check's output as a string (caller frees); *n gets the count it returned. */
static char *check_out(const char *dir, int *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	*n = mt_sigs_check(dir, fp);
	fclose(fp);
	return buf;
}

/* One bad line in one file: load fails with exactly "DIR/FILE:LINE: ..." containing why; check reports 1 problem. */
static void expect_error_n(const char *file, const char *text, size_t len, unsigned line, const char *why)
{
	char err[512], want[256];
	mt_sigs *s;
	char *out;
	int n;

	mkdir_tmp();
	put(file, text, len);
	s = mt_sigs_load(tdir, err, sizeof err);
	snprintf(want, sizeof want, "%s/%s:%u: ", tdir, file, line);
	ck_assert_msg(s == NULL, "loaded despite an error in %s: %s", file, text);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error '%s' does not start with '%s'", err, want);
	ck_assert_msg(strstr(err, why) != NULL, "error '%s' does not say '%s'", err, why);
	out = check_out(tdir, &n);
	ck_assert_int_eq(n, 1);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "check printed '%s'", out);
	free(out);
	rm_tmp();
}

static void expect_error(const char *file, const char *text, unsigned line, const char *why)
{
	expect_error_n(file, text, strlen(text), line, why);
}

/* The text loads cleanly; returns the loaded set (caller frees and removes the folder). */
static mt_sigs *load_ok(const char *file, const char *text)
{
	char err[512] = "";
	mt_sigs *s;

	mkdir_tmp();
	puts_file(file, text);
	s = mt_sigs_load(tdir, err, sizeof err);
	ck_assert_msg(s != NULL, "load failed: %s", err);
	return s;
}

static const char *dom(const mt_sigs *s, const char *host, const char **coin)
{
	return mt_sigs_pool_domain(s, host, strlen(host), coin);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the shipped folder ---- */

START_TEST(test_shipped_loads)
{
	char dir[1024], err[512] = "";
	const char *coin = NULL;
	mt_sigs *s;

	mt_test_src("signatures", dir, sizeof dir);
	s = mt_sigs_load(dir, err, sizeof err);
	ck_assert_msg(s != NULL, "shipped signatures: %s", err);
	ck_assert_uint_gt(mt_sigs_count(s), 500);

	ck_assert_str_eq(dom(s, "xmr-eu1.nanopool.org", &coin), "nanopool.org");
	ck_assert_ptr_null(dom(s, "evilnanopool.org", NULL));
	ck_assert_ptr_nonnull(dom(s, "pool.supportxmr.com", &coin));
	ck_assert_str_eq(coin, "XMR");
	ck_assert_ptr_nonnull(dom(s, "ss.antpool.com", NULL));
	ck_assert_ptr_nonnull(dom(s, "btc.f2pool.com", NULL));
	ck_assert_ptr_nonnull(dom(s, "stratum.braiins.com", NULL));
	ck_assert_ptr_nonnull(dom(s, "coinhive.com", NULL));
	ck_assert_ptr_null(dom(s, "example.com", NULL));
	ck_assert_ptr_null(dom(s, "google.com", NULL));
	{
		/* A stratum host of the big public pools of each coin mined today is covered. */
		static const char *const hosts[] = {
			"btc.foundryusapool.com", "btc.viabtc.io", "sha256.poolbinance.com", "btc.ss.poolin.com",
			"btc.global.luxor.tech", "solo.ckpool.org", "bch.viabtc.io", "bsv.viabtc.io",
			"ltc.f2pool.com", "litecoinpool.org", "stratum.trustpool.cc", "xmr-eu1.nanopool.org",
			"gulf.moneroocean.stream", "pool.hashvault.pro", "mine.c3pool.com", "xmr.kryptex.network",
			"etc.2miners.com", "etc.k1pool.com", "zec.2miners.com", "rvn.woolypooly.com",
			"kas.herominers.com", "erg.herominers.com", "dash.mining-dutch.nl", "ckb.f2pool.com",
			"alph.herominers.com", "rx.unmineable.com", "randomxmonero.auto.nicehash.com",
			"us1.ethermine.org", "eth.flexpool.io", "eu.emcd.io", "prohashing.com", "mine.zpool.ca",
			"eu.zergpool.com",
		};
		for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
			ck_assert_msg(dom(s, hosts[i], NULL) != NULL, "%s is not on the shipped pool list", hosts[i]);
		ck_assert_ptr_nonnull(mt_sigs_webminer_host(s, "ws014.coinhive.com", 18, NULL));
		ck_assert_ptr_nonnull(mt_sigs_webminer_host(s, "www.coinimp.com", 15, NULL));
		ck_assert_ptr_nonnull(mt_sigs_webminer_host(s, "monerominer.rocks", 17, NULL));
	}

	ck_assert_str_eq(mt_sigs_agent(s, "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0", 52), "xmrig");
	ck_assert_str_eq(mt_sigs_agent(s, "cgminer/4.10.0", 14), "cgminer");
	ck_assert_ptr_null(mt_sigs_agent(s, "Mozilla/5.0", 11));

	ck_assert(mt_sigs_method(s, "stratum-client", "mining.subscribe", 16));
	ck_assert(mt_sigs_method(s, "stratum-server", "mining.notify", 13));
	ck_assert(mt_sigs_method(s, "cryptonote-client", "login", 5));
	ck_assert(!mt_sigs_method(s, "stratum-server", "mining.subscribe", 16));

	ck_assert_ptr_nonnull(mt_sigs_p2p_magic(s, 0xf9beb4d9u));
	ck_assert_str_eq(mt_sigs_p2p_magic(s, 0xf9beb4d9u)->coin, "BTC");
	ck_assert_str_eq(mt_sigs_p2p_magic(s, 0xf9beb4d9u)->network, "bitcoin-mainnet");
	ck_assert_str_eq(mt_sigs_p2p_magic(s, 0xfbc0b6dbu)->coin, "LTC");
	ck_assert_str_eq(mt_sigs_p2p_magic(s, 0xc0c0c0c0u)->coin, "DOGE");
	ck_assert_ptr_null(mt_sigs_p2p_magic(s, 0x12345678u));

	ck_assert_str_eq(mt_sigs_port(s, 3333), "stratum");
	ck_assert_ptr_null(mt_sigs_port(s, 443));
	ck_assert_ptr_null(mt_sigs_port(s, 80));
	ck_assert_ptr_null(mt_sigs_port(s, 25));
	mt_sigs_free(s);
}
END_TEST

START_TEST(test_shipped_check_clean)
{
	char dir[1024];
	char *out;
	int n;

	mt_test_src("signatures", dir, sizeof dir);
	out = check_out(dir, &n);
	ck_assert_msg(n == 0, "%d problems in the shipped signatures:\n%s", n, out);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

/* ---- domains ---- */

START_TEST(test_domain_label_alignment)
{
	const char *coin = "x";
	mt_sigs *s = load_ok("pool-domains.txt",
			     "# pools\n"
			     "nanopool.org multi\n"
			     "xmr.nanopool.org XMR   # more specific: wins\n"
			     "Example-Pool.COM\n");

	ck_assert_str_eq(dom(s, "nanopool.org", &coin), "nanopool.org");
	ck_assert_str_eq(coin, "multi");
	ck_assert_str_eq(dom(s, "xmr-eu1.nanopool.org", &coin), "nanopool.org");
	ck_assert_str_eq(dom(s, "eu1.xmr.nanopool.org", &coin), "xmr.nanopool.org");
	ck_assert_str_eq(coin, "XMR");
	ck_assert_str_eq(dom(s, "xmr.nanopool.org", NULL), "xmr.nanopool.org");
	ck_assert_ptr_null(dom(s, "evilnanopool.org", &coin));
	ck_assert_str_eq(coin, "");
	ck_assert_ptr_null(dom(s, "nanopool.org.evil.com", NULL));
	ck_assert_ptr_null(dom(s, "anopool.org", NULL));
	ck_assert_ptr_null(dom(s, "org", NULL));
	ck_assert_ptr_null(dom(s, "", NULL));
	ck_assert_ptr_null(dom(s, ".", NULL));
	ck_assert_ptr_null(mt_sigs_pool_domain(s, NULL, 0, NULL));
	ck_assert_ptr_null(mt_sigs_pool_domain(NULL, "nanopool.org", 12, NULL));
	/* case and the trailing dot */
	ck_assert_str_eq(dom(s, "XMR-EU1.NanoPool.ORG", NULL), "nanopool.org");
	ck_assert_str_eq(dom(s, "xmr-eu1.nanopool.org.", NULL), "nanopool.org");
	ck_assert_ptr_null(dom(s, "xmr-eu1.nanopool.org..", NULL));
	ck_assert_str_eq(dom(s, "a.example-pool.com", &coin), "example-pool.com");
	ck_assert_str_eq(coin, "");
	/* not NUL-terminated: only len bytes count */
	ck_assert_str_eq(mt_sigs_pool_domain(s, "x.nanopool.orgXYZ", 14, NULL), "nanopool.org");
	ck_assert_ptr_null(mt_sigs_pool_domain(s, "x.nanopool.or", 13, NULL));
	/* hostile bytes never match and never crash */
	ck_assert_ptr_null(mt_sigs_pool_domain(s, "x\0nanopool.org", 14, NULL));
	ck_assert_ptr_null(dom(s, "x\xc3\xa9.nanopool.or", NULL));
	ck_assert_str_eq(dom(s, "\xff\xfe.nanopool.org", NULL), "nanopool.org");
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

START_TEST(test_domain_long_host)
{
	char host[1200];
	mt_sigs *s = load_ok("pool-domains.txt", "nanopool.org\n");

	/* a host longer than any DNS name: its last 253 bytes still match when label-aligned */
	memset(host, 'a', sizeof host);
	for (size_t i = 60; i < 1100; i += 61)
		host[i] = '.';
	memcpy(host + 1100 - 13, ".nanopool.org", 13);
	ck_assert_str_eq(mt_sigs_pool_domain(s, host, 1100, NULL), "nanopool.org");
	/* a 1000-byte label ending in the entry is not aligned */
	memset(host, 'a', 1000);
	memcpy(host + 1000, "nanopool.org", 12);
	ck_assert_ptr_null(mt_sigs_pool_domain(s, host, 1012, NULL));
	/* many empty labels */
	memset(host, '.', 1000);
	memcpy(host + 1000, "nanopool.org", 12);
	ck_assert_str_eq(mt_sigs_pool_domain(s, host, 1012, NULL), "nanopool.org");
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

START_TEST(test_domain_idn_alabel)
{
	mt_sigs *s = load_ok("pool-domains.txt", "xn--bcher-kva.example XMR\n");

	ck_assert_str_eq(dom(s, "pool.XN--BCHER-KVA.example", NULL), "xn--bcher-kva.example");
	/* the U-label form is not what goes on the wire */
	ck_assert_ptr_null(dom(s, "pool.b\xc3\xbc" "cher.example", NULL));
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

/* Lists may hold U-labels: converted to A-labels at load (RFC 3492 Punycode), so SNI / DNS names match. */
START_TEST(test_domain_idn_ulabel)
{
	mt_sigs *s = load_ok("pool-domains.txt", "B\xc3\x9c" "cher.example XMR\nm\xc3\xbc" "nchen.example\n"
			     "\xd0\x9f\xd1\x83\xd0\xbb.example\n");
	const char *coin;

	ck_assert_str_eq(dom(s, "eu.xn--bcher-kva.example", &coin), "xn--bcher-kva.example");
	ck_assert_str_eq(coin, "XMR");
	ck_assert_str_eq(dom(s, "XN--MNCHEN-3YA.example", NULL), "xn--mnchen-3ya.example");
	/* Cyrillic capital folded like the lower-case form: "пул" */
	ck_assert_str_eq(dom(s, "xn--k1ahm.example", NULL), "xn--k1ahm.example");
	ck_assert_ptr_null(dom(s, "xn--bcher-kva.example.org", NULL));
	mt_sigs_free(s);
	rm_tmp();
	/* the same name in both forms is one entry */
	expect_error("pool-domains.txt", "b\xc3\xbc" "cher.example\nxn--bcher-kva.example\n", 2, "duplicate");
}
END_TEST

/* RFC 3492 7.1 sample strings. */
START_TEST(test_punycode_vectors)
{
	static const uint32_t l[] = {0x33, 0x5e74, 0x42, 0x7d44, 0x91d1, 0x516b, 0x5148, 0x751f};
	static const uint32_t b[] = {'b', 0xfc, 'c', 'h', 'e', 'r'};
	char out[64];

	ck_assert_int_eq(mt_sigs_punycode(l, 8, out, sizeof out), 24);
	ck_assert_str_eq(out, "3B-ww4c5e180e575a65lsy2b");
	ck_assert_int_eq(mt_sigs_punycode(b, 6, out, sizeof out), 9);
	ck_assert_str_eq(out, "bcher-kva");
	ck_assert_int_eq(mt_sigs_punycode(b, 6, out, 5), -1); /* does not fit */
}
END_TEST

START_TEST(test_webminer_hosts)
{
	mt_sigs *s = load_ok("webminer-hosts.txt", "coinhive.com XMR\n");
	const char *coin;

	ck_assert_str_eq(mt_sigs_webminer_host(s, "WS014.coinhive.com", 18, &coin), "coinhive.com");
	ck_assert_str_eq(coin, "XMR");
	ck_assert_ptr_null(mt_sigs_webminer_host(s, "notcoinhive.com", 15, &coin));
	ck_assert_ptr_null(mt_sigs_pool_domain(s, "coinhive.com", 12, &coin));
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

/* signatures/refresh-pools: a user's list normalised, de-duplicated and sorted into the files the loader accepts. */
START_TEST(test_refresh_pools)
{
	char script[1024], list[128], path[128], out[64] = "/tmp/mt_refresh_out_XXXXXX";
	char *text;
	mt_sigs *s;
	const char *coin;
	int fd;

	mt_test_src("signatures/refresh-pools", script, sizeof script);
	if (access("/usr/bin/python3", X_OK) != 0) {
		printf("refresh-pools: no python3: skipped\n");
		return;
	}
	mkdir_tmp();
	puts_file("pool-domains.txt", "# hand-written\nnanopool.org multi\n");
	snprintf(list, sizeof list, "%s/list.txt", tdir);
	{
		FILE *fp = fopen(list, "w");
		ck_assert_ptr_nonnull(fp);
		fputs("# my pools\nstratum+tcp://User@XMR.Example-Pool.com:3333 XMR\nexample-pool.com:4444 XMR\n"
		      "b\xc3\xbc" "cher.example ETC\n203.0.113.9:3333 BTC\n[2001:db8::5]:443\n"
		      "stratum+ssl://eu1.nanopool.org:9433 XMR\ndup.example BTC\ndup.example LTC\n", fp);
		fclose(fp);
	}
	fd = mkstemp(out);
	close(fd);
	{
		char *argv[] = {"/usr/bin/python3", script, "--dir", tdir, list, NULL};
		ck_assert_int_eq(mt_run(argv, out, NULL), 0);
	}
	snprintf(path, sizeof path, "%s/pool-domains.txt", tdir);
	text = mt_slurp(path, NULL);
	ck_assert_ptr_nonnull(text);
	/* sorted, lower-cased, A-labels; the subdomain of a listed host and of a hand entry dropped; coins merged */
	ck_assert_msg(strstr(text, "# hand-written\nnanopool.org multi\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "dup.example multi\nexample-pool.com XMR\nxn--bcher-kva.example ETC\n") != NULL,
		      "%s", text);
	ck_assert_ptr_null(strstr(text, "xmr.example-pool.com"));
	ck_assert_ptr_null(strstr(text, "eu1.nanopool.org"));
	free(text);
	{
		char err[512] = "";
		s = mt_sigs_load(tdir, err, sizeof err);
		ck_assert_msg(s != NULL, "load failed: %s", err);
	}
	ck_assert_str_eq(dom(s, "XMR.example-pool.com", &coin), "example-pool.com");
	ck_assert_str_eq(coin, "XMR");
	{
		uint8_t a4[4] = {203, 0, 113, 9}, a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
		ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a4, &coin), 1);
		ck_assert_str_eq(coin, "BTC");
		ck_assert_int_eq(mt_sigs_pool_ip(s, 6, a6, NULL), 1);
	}
	mt_sigs_free(s);
	/* a second run changes nothing; --check agrees */
	{
		char *argv[] = {"/usr/bin/python3", script, "--check", "--dir", tdir, list, NULL};
		ck_assert_int_eq(mt_run(argv, out, NULL), 0);
	}
	/* a bad line: exit 2, nothing written */
	{
		FILE *fp = fopen(list, "a");
		ck_assert_ptr_nonnull(fp);
		fputs("not a host!\n", fp);
		fclose(fp);
		char *argv[] = {"/usr/bin/python3", script, "--dir", tdir, list, NULL};
		ck_assert_int_eq(mt_run(argv, out, NULL), 2);
	}
	unlink(list);
	unlink(out);
	rm_tmp();
}
END_TEST

START_TEST(test_domain_errors)
{
	expect_error("pool-domains.txt", "ok.example\nstratum+tcp://eu1.example.org:3333\n", 2, "remove the scheme");
	expect_error("pool-domains.txt", "eu1.example.org:3333\n", 1, "remove the port");
	expect_error("pool-domains.txt", "\n\n# c\neu1.example.org/path\n", 4, "remove the path");
	expect_error("pool-domains.txt", "*.nanopool.org\n", 1, "no wildcard");
	expect_error("pool-domains.txt", "nanopool.org.\n", 1, "trailing dot");
	expect_error("pool-domains.txt", "nanopool..org\n", 1, "empty label");
	expect_error("pool-domains.txt", ".nanopool.org\n", 1, "empty label");
	expect_error("pool-domains.txt", "-bad.example\n", 1, "starts or ends with '-'");
	expect_error("pool-domains.txt", "bad-.example\n", 1, "starts or ends with '-'");
	expect_error("pool-domains.txt", "under_score.example\n", 1, "character '_'");
	expect_error("pool-domains.txt", "localhost\n", 1, "single label");
	expect_error("pool-domains.txt", "10.1.2.3\n", 1, "pool-ips.txt");
	expect_error("pool-domains.txt", "xn--.example\n", 1, "empty A-label");
	expect_error("pool-domains.txt", "a.example BTC extra\n", 1, "too many fields");
	expect_error("pool-domains.txt", "a.example B/C\n", 1, "bad coin");
	expect_error("pool-domains.txt", "a.example ABCDEFGHIJKLMNOP\n", 1, "bad coin");
	expect_error("pool-domains.txt", "a.example\nb.example\nA.Example\n", 3, "duplicate domain 'a.example' (line 1)");
	{
		char big[400];
		/* a 64-character label */
		memset(big, 'a', 64);
		memcpy(big + 64, ".example\n", 10);
		expect_error("pool-domains.txt", big, 1, "label longer than 63");
		/* 254 characters in all */
		for (int i = 0; i < 4; i++) {
			memset(big + 62 * i, 'a', 61);
			big[62 * i + 61] = '.';
		}
		memcpy(big + 248, "abcdef\n", 8);
		expect_error("pool-domains.txt", big, 1, "longer than 253");
		/* 253 exactly is fine */
		big[253] = '\n';
		big[254] = '\0';
		mt_sigs_free(load_ok("pool-domains.txt", big));
		rm_tmp();
	}
}
END_TEST

/* ---- pool-ips.txt ---- */

START_TEST(test_cidr_longest_prefix)
{
	const char *coin = NULL;
	const uint8_t a1[4] = { 10, 1, 2, 3 }, a2[4] = { 10, 1, 9, 9 }, a3[4] = { 10, 200, 0, 1 };
	const uint8_t a4[4] = { 11, 0, 0, 1 }, a5[4] = { 192, 0, 2, 7 }, a6[4] = { 192, 0, 2, 8 };
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	mt_sigs *s = load_ok("pool-ips.txt",
			     "10.0.0.0/8 multi Some Pool, all of it\n"
			     "10.1.0.0/16 XMR\n"
			     "10.1.2.0/24 BTC\n"
			     "192.0.2.7 LTC   # a single host, no /len\n"
			     "2001:db8::/32 - Documentation net\n"
			     "2001:db8:1::/48 ETC\n"
			     "2001:db8:1:2::1 ZEC\n");

	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a1, &coin), 1);
	ck_assert_str_eq(coin, "BTC");
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a2, &coin), 1);
	ck_assert_str_eq(coin, "XMR");
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a3, &coin), 1);
	ck_assert_str_eq(coin, "multi");
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a4, &coin), 0);
	ck_assert_str_eq(coin, "");
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a5, &coin), 1);
	ck_assert_str_eq(coin, "LTC");
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a6, NULL), 0);

	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, b, &coin), 1);
	ck_assert_str_eq(coin, "");
	b[5] = 1;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, b, &coin), 1);
	ck_assert_str_eq(coin, "ETC");
	b[7] = 2;
	b[15] = 1;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, b, &coin), 1);
	ck_assert_str_eq(coin, "ZEC");
	b[15] = 2;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, b, &coin), 1);
	ck_assert_str_eq(coin, "ETC");
	b[3] = 0xb9;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, b, &coin), 0);
	/* an IPv4 address never matches as IPv6 and v.v.; unknown versions are no */
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, (const uint8_t *)"\x0a\x01\x02\x03\0\0\0\0\0\0\0\0\0\0\0\0", NULL), 0);
	ck_assert_int_eq(mt_sigs_pool_ip(s, 5, a1, NULL), 0);
	ck_assert_int_eq(mt_sigs_pool_ip(NULL, 4, a1, NULL), 0);
	ck_assert_uint_eq(mt_sigs_count(s), 7);
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

START_TEST(test_cidr_every_length)
{
	/* one network per prefix length, nested: an address inside all of them matches the longest */
	char text[8192];
	size_t k = 0;
	const char *coin;
	uint8_t a[16];

	for (int p = 1; p <= 32; p++)
		k += (size_t)snprintf(text + k, sizeof text - k, "128.0.0.0/%d c%d\n", p, p);
	for (int p = 1; p <= 128; p++)
		k += (size_t)snprintf(text + k, sizeof text - k, "8000::/%d v%d\n", p, p);
	mt_sigs *s = load_ok("pool-ips.txt", text);
	a[0] = 128, a[1] = 0, a[2] = 0, a[3] = 0;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a, &coin), 1);
	ck_assert_str_eq(coin, "c32");
	a[3] = 1;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a, &coin), 1);
	ck_assert_str_eq(coin, "c31");
	a[1] = 0x80;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a, &coin), 1);
	ck_assert_str_eq(coin, "c8");
	a[0] = 0xc0;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a, &coin), 1);
	ck_assert_str_eq(coin, "c1");
	memset(a, 0, sizeof a);
	a[0] = 0x80;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, a, &coin), 1);
	ck_assert_str_eq(coin, "v128");
	a[8] = 1; /* bit 71 */
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, a, &coin), 1);
	ck_assert_str_eq(coin, "v71");
	a[8] = 0x80; /* bit 64 */
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, a, &coin), 1);
	ck_assert_str_eq(coin, "v64");
	a[7] = 1;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, a, &coin), 1);
	ck_assert_str_eq(coin, "v63");
	a[15] = 1;
	a[8] = 0;
	a[7] = 0;
	ck_assert_int_eq(mt_sigs_pool_ip(s, 6, a, &coin), 1);
	ck_assert_str_eq(coin, "v127");
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

START_TEST(test_cidr_errors)
{
	expect_error("pool-ips.txt", "10.1.2.3/16\n", 1, "host bits set in '10.1.2.3/16': the network is 10.1.0.0/16");
	expect_error("pool-ips.txt", "2001:db8::1/32\n", 1, "the network is 2001:db8::/32");
	expect_error("pool-ips.txt", "10.0.0.0/33\n", 1, "bad prefix length");
	expect_error("pool-ips.txt", "2001:db8::/129\n", 1, "bad prefix length");
	expect_error("pool-ips.txt", "10.0.0.0/\n", 1, "bad prefix length");
	expect_error("pool-ips.txt", "10.0.0.0/08\n", 1, "bad prefix length");
	expect_error("pool-ips.txt", "0.0.0.0/0\n", 1, "every address");
	expect_error("pool-ips.txt", "10.0.0.256\n", 1, "bad address");
	expect_error("pool-ips.txt", "10.0.0\n", 1, "bad address");
	expect_error("pool-ips.txt", "pool.example.com\n", 1, "bad address");
	expect_error("pool-ips.txt", "2001:db8:::1\n", 1, "bad IPv6");
	expect_error("pool-ips.txt", "10.0.0.1 B@D\n", 1, "bad coin");
	expect_error("pool-ips.txt", "10.0.0.0/8\n10.1.0.0/16\n10.0.0.0/8 XMR\n", 3, "duplicate network 10.0.0.0/8 (line 1)");
	expect_error("pool-ips.txt", "10.0.0.1 - a name that is much too long for the sixty-three character limit of names\n", 1,
		     "name longer");
}
END_TEST

/* ---- miner-agents.txt ---- */

START_TEST(test_agents)
{
	mt_sigs *s = load_ok("miner-agents.txt",
			     "xmrig xmrig\n"
			     "XMRig-Proxy xmrig-proxy\n"
			     "cpuminer cpuminer\n"
			     "cpuminer-opt cpuminer-opt\n"
			     "NiceHash Miner nicehash-miner   # a prefix with a space\n");

	ck_assert_str_eq(mt_sigs_agent(s, "XMRig/6.21.0 (Windows NT 10.0; Win64; x64)", 42), "xmrig");
	ck_assert_str_eq(mt_sigs_agent(s, "xmrig-proxy/6.21.0", 18), "xmrig-proxy");
	ck_assert_str_eq(mt_sigs_agent(s, "XMRIG-PROXY", 11), "xmrig-proxy");
	ck_assert_str_eq(mt_sigs_agent(s, "xmrig", 5), "xmrig");
	ck_assert_ptr_null(mt_sigs_agent(s, "xmri", 4));
	ck_assert_ptr_null(mt_sigs_agent(s, "my-xmrig", 8));
	ck_assert_str_eq(mt_sigs_agent(s, "cpuminer-opt/23.15", 18), "cpuminer-opt");
	ck_assert_str_eq(mt_sigs_agent(s, "cpuminer/2.5.1", 14), "cpuminer");
	ck_assert_str_eq(mt_sigs_agent(s, "nicehash miner 3.0", 18), "nicehash-miner");
	ck_assert_ptr_null(mt_sigs_agent(s, "NiceHashMiner", 13));
	ck_assert_ptr_null(mt_sigs_agent(s, "", 0));
	ck_assert_ptr_null(mt_sigs_agent(s, NULL, 3));
	ck_assert_str_eq(mt_sigs_agent(s, "xmrig\0\0\0", 8), "xmrig");
	mt_sigs_free(s);
	rm_tmp();

	expect_error("miner-agents.txt", "xmrig\n", 1, "missing family");
	expect_error("miner-agents.txt", "xmrig Bad/Family\n", 1, "bad family");
	expect_error("miner-agents.txt", "xmrig xmrig\nXMRIG other\n", 2, "duplicate agent prefix 'xmrig' (line 1)");
	expect_error("miner-agents.txt", "two  spaces fam\n", 1, "two spaces");
	expect_error("miner-agents.txt", "tab\there fam\n", 1, "no tab");
	expect_error("miner-agents.txt",
		     "0123456789012345678901234567890123456789012345678901234567890123456789 fam\n", 1,
		     "longer than 64");
	expect_error("miner-agents.txt", "caf\xc3\xa9 fam\n", 1, "non-ASCII");
}
END_TEST

/* ---- methods.txt ---- */

START_TEST(test_methods)
{
	mt_sigs *s = load_ok("methods.txt",
			     "stratum-client mining.subscribe\n"
			     "stratum-server mining.notify\n"
			     "cryptonote-client login\n"
			     "ethproxy eth_submitLogin\n");

	ck_assert(mt_sigs_method(s, "stratum-client", "mining.subscribe", 16));
	ck_assert(mt_sigs_method(s, "stratum-client", "mining.subscribeXX", 16));
	ck_assert(!mt_sigs_method(s, "stratum-client", "mining.subscribe", 15));
	ck_assert(!mt_sigs_method(s, "stratum-client", "Mining.Subscribe", 16));
	ck_assert(!mt_sigs_method(s, "stratum-server", "mining.subscribe", 16));
	ck_assert(mt_sigs_method(s, "stratum-server", "mining.notify", 13));
	ck_assert(mt_sigs_method(s, "cryptonote-client", "login", 5));
	ck_assert(!mt_sigs_method(s, "cryptonote-server", "login", 5));
	ck_assert(mt_sigs_method(s, "ethproxy", "eth_submitLogin", 15));
	ck_assert(!mt_sigs_method(s, "no-such-set", "login", 5));
	ck_assert(!mt_sigs_method(s, NULL, "login", 5));
	ck_assert(!mt_sigs_method(s, "stratum-client", NULL, 0));
	mt_sigs_free(s);
	rm_tmp();

	expect_error("methods.txt", "stratum mining.subscribe\n", 1, "unknown method set 'stratum' (known: stratum-client");
	expect_error("methods.txt", "stratum-client\n", 1, "missing field");
	expect_error("methods.txt", "stratum-client a b\n", 1, "too many fields");
	expect_error("methods.txt", "stratum-client a\nstratum-server a\nstratum-client a\n", 3,
		     "duplicate method 'stratum-client a' (line 1)");
	expect_error("methods.txt",
		     "stratum-client m0123456789012345678901234567890123456789012345678901234567890123456789\n", 1,
		     "longer than 64");
}
END_TEST

/* ---- p2p-magics.txt ---- */

START_TEST(test_magics)
{
	const mt_sigs_magic *m;
	mt_sigs *s = load_ok("p2p-magics.txt",
			     "f9beb4d9 bitcoin-mainnet BTC\n"
			     "0B110907 bitcoin-testnet3 BTC\n"
			     "c0c0c0c0 dogecoin-mainnet DOGE\n");

	m = mt_sigs_p2p_magic(s, 0xf9beb4d9u);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->magic, 0xf9beb4d9u);
	ck_assert_str_eq(m->network, "bitcoin-mainnet");
	ck_assert_str_eq(m->coin, "BTC");
	ck_assert_str_eq(mt_sigs_p2p_magic(s, 0x0b110907u)->network, "bitcoin-testnet3");
	ck_assert_str_eq(mt_sigs_p2p_magic(s, 0xc0c0c0c0u)->coin, "DOGE");
	ck_assert_ptr_null(mt_sigs_p2p_magic(s, 0xd9b4bef9u)); /* byte order matters */
	ck_assert_ptr_null(mt_sigs_p2p_magic(s, 0));
	ck_assert_ptr_null(mt_sigs_p2p_magic(NULL, 0xf9beb4d9u));
	mt_sigs_free(s);
	rm_tmp();

	expect_error("p2p-magics.txt", "f9beb4d bitcoin BTC\n", 1, "exactly 8 hex digits");
	expect_error("p2p-magics.txt", "0xf9beb4d9 bitcoin BTC\n", 1, "exactly 8 hex digits");
	expect_error("p2p-magics.txt", "f9beb4dg bitcoin BTC\n", 1, "exactly 8 hex digits");
	expect_error("p2p-magics.txt", "f9beb4d9 bitcoin\n", 1, "missing field");
	expect_error("p2p-magics.txt", "f9beb4d9 a-network-name-longer-than-31-chars BTC\n", 1, "bad network");
	expect_error("p2p-magics.txt", "f9beb4d9 bitcoin-mainnet BTC\n\nF9BEB4D9 other BTC\n", 3,
		     "duplicate magic f9beb4d9 (line 1, bitcoin-mainnet)");
}
END_TEST

/* ---- ports.txt ---- */

START_TEST(test_ports)
{
	mt_sigs *s = load_ok("ports.txt", "3333 stratum\n14433 stratum-tls\n65535 x\n1 y\n");

	ck_assert_str_eq(mt_sigs_port(s, 3333), "stratum");
	ck_assert_str_eq(mt_sigs_port(s, 14433), "stratum-tls");
	ck_assert_str_eq(mt_sigs_port(s, 65535), "x");
	ck_assert_str_eq(mt_sigs_port(s, 1), "y");
	ck_assert_ptr_null(mt_sigs_port(s, 0));
	ck_assert_ptr_null(mt_sigs_port(s, 3334));
	ck_assert_ptr_null(mt_sigs_port(NULL, 3333));
	mt_sigs_free(s);
	rm_tmp();

	expect_error("ports.txt", "0 stratum\n", 1, "bad port");
	expect_error("ports.txt", "65536 stratum\n", 1, "bad port");
	expect_error("ports.txt", "03333 stratum\n", 1, "bad port");
	expect_error("ports.txt", "-1 stratum\n", 1, "bad port");
	expect_error("ports.txt", "3333\n", 1, "missing field");
	expect_error("ports.txt", "3333 bad/proto\n", 1, "bad protocol");
	expect_error("ports.txt", "3333 stratum\n4444 stratum\n3333 other\n", 3, "port 3333 already listed (line 1)");
}
END_TEST

/* ---- the files themselves ---- */

START_TEST(test_file_level)
{
	char err[512], path[256];
	mt_sigs *s;

	/* a missing file is an empty list; an empty folder loads */
	mkdir_tmp();
	s = mt_sigs_load(tdir, err, sizeof err);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(mt_sigs_count(s), 0);
	ck_assert_ptr_null(mt_sigs_pool_domain(s, "a.b", 3, NULL));
	ck_assert_ptr_null(mt_sigs_agent(s, "xmrig", 5));
	ck_assert_ptr_null(mt_sigs_port(s, 3333));
	mt_sigs_free(s);
	ck_assert_int_eq(mt_sigs_check(tdir, NULL), 0);

	/* not a regular file: a folder, a FIFO (must not hang) */
	snprintf(path, sizeof path, "%s/pool-ips.txt", tdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	s = mt_sigs_load(tdir, err, sizeof err);
	ck_assert_ptr_null(s);
	snprintf(path, sizeof path, "%s/pool-ips.txt: not a regular file", tdir);
	ck_assert_str_eq(err, path);
	snprintf(path, sizeof path, "%s/pool-ips.txt", tdir);
	rmdir(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	s = mt_sigs_load(tdir, err, sizeof err);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	unlink(path);
	rm_tmp();

	/* a missing folder, a file given as the folder */
	s = mt_sigs_load("/nonexistent/mt-sigs", err, sizeof err);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, "/nonexistent/mt-sigs: cannot open the signature folder: No such file or directory");
	ck_assert_int_eq(mt_sigs_check("/nonexistent/mt-sigs", NULL), 1);
	ck_assert_ptr_null(mt_sigs_load(NULL, err, sizeof err));
	ck_assert_ptr_null(mt_sigs_load("", NULL, 0));
	mkdir_tmp();
	puts_file("ports.txt", "3333 stratum\n");
	snprintf(path, sizeof path, "%s/ports.txt", tdir);
	ck_assert_ptr_null(mt_sigs_load(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "ports.txt: not a folder"));
	rm_tmp();

	/* FILE is the path as given: a trailing slash is not doubled */
	mkdir_tmp();
	puts_file("ports.txt", "99999 x\n");
	snprintf(path, sizeof path, "%s/", tdir);
	s = mt_sigs_load(path, err, sizeof err);
	ck_assert_ptr_null(s);
	snprintf(path, sizeof path, "%s/ports.txt:1: bad port '99999': 1-65535", tdir);
	ck_assert_str_eq(err, path);
	rm_tmp();

	/* an unreadable file (not as root, who reads anything) */
	if (geteuid() != 0) {
		mkdir_tmp();
		puts_file("ports.txt", "3333 stratum\n");
		snprintf(path, sizeof path, "%s/ports.txt", tdir);
		chmod(path, 0);
		ck_assert_ptr_null(mt_sigs_load(tdir, err, sizeof err));
		ck_assert_ptr_nonnull(strstr(err, "cannot open"));
		rm_tmp();
	}
}
END_TEST

START_TEST(test_line_level)
{
	char line[1100];

	expect_error_n("ports.txt", "3333 stratum\n4444 st\0ratum\n", 25, 2, "NUL byte");
	/* NUL inside a comment is still an error (a binary file) */
	expect_error_n("ports.txt", "# a\0b\n", 6, 1, "NUL byte");
	expect_error("ports.txt", "# caf\xe9\n", 1, "invalid UTF-8");
	expect_error("ports.txt", "# \xc0\xaf overlong\n", 1, "invalid UTF-8");
	expect_error("ports.txt", "# \xed\xa0\x80 surrogate\n", 1, "invalid UTF-8");
	expect_error("ports.txt", "# cut \xe2\x82\n", 1, "invalid UTF-8");
	expect_error("ports.txt", "3333\x01 stratum\n", 1, "control character 0x01");
	expect_error("ports.txt", "3333 stratum\r\r\n", 1, "control character 0x0d");

	/* exactly MT_SIGS_MAX_LINE bytes is fine, one more is not */
	memset(line, ' ', sizeof line);
	memcpy(line, "3333 stratum #", 14);
	line[MT_SIGS_MAX_LINE] = '\n';
	line[MT_SIGS_MAX_LINE + 1] = '\0';
	mt_sigs_free(load_ok("ports.txt", line));
	rm_tmp();
	line[MT_SIGS_MAX_LINE] = 'x';
	line[MT_SIGS_MAX_LINE + 1] = '\n';
	line[MT_SIGS_MAX_LINE + 2] = '\0';
	expect_error("ports.txt", line, 1, "line longer than 1024 bytes");
	/* a very long line does not hide the lines after it */
	{
		size_t n = 200000;
		char *big = malloc(n + 32);
		memset(big, '#', n);
		memcpy(big + n, "\n0 x\n", 6);
		char err[256];
		mkdir_tmp();
		puts_file("ports.txt", big);
		ck_assert_ptr_null(mt_sigs_load(tdir, err, sizeof err));
		ck_assert_ptr_nonnull(strstr(err, "ports.txt:1: line longer than 1024 bytes"));
		int cnt;
		char *out = check_out(tdir, &cnt);
		ck_assert_int_eq(cnt, 2);
		ck_assert_ptr_nonnull(strstr(out, "ports.txt:2: bad port '0'"));
		free(out);
		rm_tmp();
		free(big);
	}

	/* CRLF, a BOM, blank lines, comments, blanks around fields, no final newline */
	mt_sigs *s = load_ok("ports.txt", "\xef\xbb\xbf# ports\r\n\r\n\t 3333 \t stratum\t# prior\r\n  \n4444 stratum");
	ck_assert_uint_eq(mt_sigs_count(s), 2);
	ck_assert_str_eq(mt_sigs_port(s, 4444), "stratum");
	mt_sigs_free(s);
	rm_tmp();
}
END_TEST

/* mt_sigs_check prints every problem of every file, in file order, and counts them. */
START_TEST(test_check_output)
{
	char want[2048];
	char *out;
	int n;

	mkdir_tmp();
	puts_file("pool-domains.txt", "good.example\n*.bad.example\ngood.example\n");
	puts_file("ports.txt", "3333 stratum\n70000 stratum\nabc\n");
	puts_file("methods.txt", "stratum-client mining.subscribe\n");
	out = check_out(tdir, &n);
	ck_assert_int_eq(n, 4);
	snprintf(want, sizeof want,
		 "%s/pool-domains.txt:2: bad domain '*.bad.example': no wildcard: an entry already covers all its subdomains, write it without '*.'\n"
		 "%s/pool-domains.txt:3: duplicate domain 'good.example' (line 1)\n"
		 "%s/ports.txt:2: bad port '70000': 1-65535\n"
		 "%s/ports.txt:3: missing field: expected PORT PROTO\n",
		 tdir, tdir, tdir, tdir);
	ck_assert_str_eq(out, want);
	free(out);
	/* load reports the first one only */
	{
		char err[512];
		ck_assert_ptr_null(mt_sigs_load(tdir, err, sizeof err));
		snprintf(want, sizeof want, "%s/pool-domains.txt:2: bad domain '*.bad.example': no wildcard", tdir);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
		/* a short error buffer is cut, not overrun */
		char small[8] = "zzzzzzz";
		ck_assert_ptr_null(mt_sigs_load(tdir, small, 4));
		ck_assert_uint_eq(strlen(small), 3);
		ck_assert_int_eq(small[5], 'z');
	}
	rm_tmp();
}
END_TEST

/* ---- scale and hostile input ---- */

START_TEST(test_100k_entries)
{
	size_t n = 100000, cap = n * 40, k = 0;
	char *text = malloc(cap), err[256] = "", host[64];
	double t0, t1;
	mt_sigs *s;

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(text + k, cap - k, "pool%zu.example%zu.com C%zu\n", i, i % 977, i % 13);
	mkdir_tmp();
	put("pool-domains.txt", text, k);
	k = 0;
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(text + k, cap - k, "%zu.%zu.%zu.0/24\n", 1 + i / 65536, (i / 256) % 256, i % 256);
	put("pool-ips.txt", text, k);
	t0 = now();
	s = mt_sigs_load(tdir, err, sizeof err);
	t1 = now();
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_uint_eq(mt_sigs_count(s), 2 * n);
	/* speed is the bench's business; the figure is printed for the log only */
	printf("sigs: 200k entries loaded in %.2f s\n", t1 - t0);
	for (size_t i = 0; i < n; i += 997) {
		const char *coin;
		uint8_t a[4] = { (uint8_t)(1 + i / 65536), (uint8_t)((i / 256) % 256), (uint8_t)(i % 256), 77 };
		snprintf(host, sizeof host, "x.POOL%zu.example%zu.com", i, i % 977);
		ck_assert_ptr_nonnull(mt_sigs_pool_domain(s, host, strlen(host), &coin));
		snprintf(host, sizeof host, "C%zu", i % 13);
		ck_assert_str_eq(coin, host);
		ck_assert_int_eq(mt_sigs_pool_ip(s, 4, a, NULL), 1);
	}
	ck_assert_ptr_null(dom(s, "pool1.example2.com", NULL));
	/* a million lookups of a deep name */
	t0 = now();
	for (int i = 0; i < (slow_run() ? 1000 : 1000000); i++)
		ck_assert_ptr_nonnull(mt_sigs_pool_domain(s, "eu1.miner.pool77.example77.com", 30, NULL));
	t1 = now();
	printf("sigs: %d domain lookups in %.2f s\n", slow_run() ? 1000 : 1000000, t1 - t0);
	mt_sigs_free(s);
	rm_tmp();
	free(text);
}
END_TEST

START_TEST(test_entry_limit)
{
	size_t n = MT_SIGS_MAX_ENTRIES + 1, k = 7;
	char *text, err[256];
	mt_sigs *s;

	if (slow_run())
		return;
	text = malloc(n * 32 + 64);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "# many\n", 7);
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(text + k, 32, "stratum-client m%zu\n", i);
	mkdir_tmp();
	put("methods.txt", text, k);
	s = mt_sigs_load(tdir, err, sizeof err);
	ck_assert_ptr_null(s);
	snprintf(text, 256, "%s/methods.txt:%zu: too many entries (limit %d per file)", tdir, n + 1, MT_SIGS_MAX_ENTRIES);
	ck_assert_str_eq(err, text);
	rm_tmp();
	free(text);
}
END_TEST

static const char *const valid_files[][2] = {
	{ "pool-domains.txt", "# pools\nnanopool.org multi\nxn--bcher-kva.example XMR\n\nsupportxmr.com XMR\n" },
	{ "pool-ips.txt", "10.0.0.0/8 BTC Some Pool\n2001:db8::/32 -\n192.0.2.7\n" },
	{ "miner-agents.txt", "xmrig xmrig\nNiceHash Miner nicehash-miner\n" },
	{ "methods.txt", "stratum-client mining.subscribe\ncryptonote-server job\n" },
	{ "p2p-magics.txt", "f9beb4d9 bitcoin-mainnet BTC\nc0c0c0c0 dogecoin-mainnet DOGE\n" },
	{ "ports.txt", "3333 stratum\n14433 stratum-tls\n" },
};

/* Every valid file cut at every length: loads or fails with FILE:LINE, never crashes. */
START_TEST(test_truncated_every_length)
{
	char err[512], want[256];

	for (size_t f = 0; f < sizeof valid_files / sizeof valid_files[0]; f++) {
		const char *name = valid_files[f][0], *text = valid_files[f][1];
		size_t len = strlen(text);
		for (size_t cut = 0; cut <= len; cut++) {
			mt_sigs *s;
			mkdir_tmp();
			put(name, text, cut);
			s = mt_sigs_load(tdir, err, sizeof err);
			if (s) {
				ck_assert_uint_le(mt_sigs_count(s), 5);
				(void)mt_sigs_pool_domain(s, "x.nanopool.org", 14, NULL);
				mt_sigs_free(s);
			} else {
				snprintf(want, sizeof want, "%s/%s:", tdir, name);
				ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "cut %zu of %s: '%s'", cut, name, err);
			}
			rm_tmp();
		}
		/* the whole file loads */
		mkdir_tmp();
		put(name, text, len);
		mt_sigs *s = mt_sigs_load(tdir, err, sizeof err);
		ck_assert_msg(s != NULL, "%s: %s", name, err);
		mt_sigs_free(s);
		rm_tmp();
	}
}
END_TEST

/* Random bytes and a binary file in every slot: never a crash, and a binary file is refused. */
START_TEST(test_garbage_and_binary)
{
	static const char *const names[] = { "pool-domains.txt", "pool-ips.txt", "miner-agents.txt",
					     "methods.txt", "p2p-magics.txt", "ports.txt",
					     "webminer-hosts.txt" };
	static const char tbl[] = " \t\n#.:/-abcxn0123456789ABC\xc3\xa9";
	unsigned char buf[4096];
	uint32_t x = 0x12345678u;
	char err[512];

	for (int round = 0; round < 60; round++) {
		size_t len = (size_t)(round * 67) % sizeof buf;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* mostly printable with newlines, sometimes anything */
			buf[i] = (round % 3) ? (unsigned char)tbl[x % (sizeof tbl - 1)] : (unsigned char)x;
		}
		for (size_t f = 0; f < 6; f++) {
			mt_sigs *s;
			int n, loaded;
			mkdir_tmp();
			put(names[f], buf, len);
			s = mt_sigs_load(tdir, err, sizeof err);
			loaded = s != NULL;
			mt_sigs_free(s);
			n = mt_sigs_check(tdir, NULL);
			ck_assert_int_eq(n == 0, loaded);
			rm_tmp();
		}
	}
	/* an ELF header where a signature file should be */
	mkdir_tmp();
	put("pool-domains.txt", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16);
	ck_assert_ptr_null(mt_sigs_load(tdir, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "pool-domains.txt:1: "));
	rm_tmp();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("detect_sigs");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shipped_loads);
	tcase_add_test(tc, test_shipped_check_clean);
	tcase_add_test(tc, test_domain_label_alignment);
	tcase_add_test(tc, test_domain_long_host);
	tcase_add_test(tc, test_domain_idn_alabel);
	tcase_add_test(tc, test_domain_idn_ulabel);
	tcase_add_test(tc, test_punycode_vectors);
	tcase_add_test(tc, test_webminer_hosts);
	tcase_add_test(tc, test_refresh_pools);
	tcase_add_test(tc, test_domain_errors);
	tcase_add_test(tc, test_cidr_longest_prefix);
	tcase_add_test(tc, test_cidr_every_length);
	tcase_add_test(tc, test_cidr_errors);
	tcase_add_test(tc, test_agents);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_magics);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_file_level);
	tcase_add_test(tc, test_line_level);
	tcase_add_test(tc, test_check_output);
	tcase_add_test(tc, test_100k_entries);
	tcase_add_test(tc, test_entry_limit);
	tcase_add_test(tc, test_truncated_every_length);
	tcase_add_test(tc, test_garbage_and_binary);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
