/*
 * test_bounds.c - resource bounds of the whole program under floods: a million-flow
 * flood stays within the memory cap, 1.5 M SYN-only flows with the defaults peak under
 * 512 MiB, a 10 MB line without a newline does not grow memory past the stream cap.
 * Peak RSS comes from wait4(); it is only asserted in builds without sanitizers.
 */
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "mt_run.h"
#include "mt_test.h"

static char cap_path[64], out_path[64], err_path[64];

static void setup(void)
{
	int fd;

	snprintf(cap_path, sizeof(cap_path), "/tmp/mt_bounds_cap_XXXXXX");
	snprintf(out_path, sizeof(out_path), "/tmp/mt_bounds_out_XXXXXX");
	snprintf(err_path, sizeof(err_path), "/tmp/mt_bounds_err_XXXXXX");
	fd = mkstemp(cap_path);
	close(fd);
	fd = mkstemp(out_path);
	close(fd);
	fd = mkstemp(err_path);
	close(fd);
}

static void teardown(void)
{
	unlink(cap_path);
	unlink(out_path);
	unlink(err_path);
}

static int sanitized(void)
{
	const char *s = getenv("MT_SANITIZED");
	return s && *s == '1';
}

/* Runs minetrace with args (NULL-terminated) on cap_path; the exit status into *status, returns the peak RSS in KiB. */
static long run_status(const char *const *args, int *status)
{
	char *argv[32];
	int n = 0, st;
	struct rusage ru;
	pid_t pid;

	argv[n++] = getenv("MT_MINETRACE");
	ck_assert_ptr_nonnull(argv[0]);
	while (*args && n < 28)
		argv[n++] = (char *)*args++;
	argv[n++] = "-r";
	argv[n++] = cap_path;
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_TRUNC), e = open(err_path, O_WRONLY | O_TRUNC);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(wait4(pid, &st, 0, &ru), pid);
	*status = st;
	return ru.ru_maxrss;
}

/* As run_status, and minetrace must exit 0. */
static long run_rss(const char *const *args)
{
	int st;
	long rss = run_status(args, &st);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "minetrace failed: status %d", st);
	return rss;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t stat_value(const char *key)
{
	char *text = mt_slurp(err_path, NULL);
	char *p;
	uint64_t v = 0;

	ck_assert_ptr_nonnull(text);
	p = strstr(text, key);
	ck_assert_msg(p != NULL, "no %s in:\n%s", key, text);
	v = strtoull(p + strlen(key), NULL, 10);
	free(text);
	return v;
}

static void put32(FILE *fp, uint32_t v)
{
	fwrite(&v, 4, 1, fp); /* host order, like every pcap writer */
}

/* A classic pcap header. */
static FILE *pcap_create(void)
{
	FILE *fp = fopen(cap_path, "wb");

	ck_assert_ptr_nonnull(fp);
	put32(fp, 0xa1b2c3d4);
	fputc(2, fp), fputc(0, fp), fputc(4, fp), fputc(0, fp);
	put32(fp, 0);
	put32(fp, 0);
	put32(fp, 262144);
	put32(fp, 1);
	return fp;
}

/* One Ethernet/IPv4/TCP frame (no checksums: minetrace does not need them). */
static void tcp_frame(FILE *fp, uint64_t ts, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		      uint8_t flags, uint32_t seq, const uint8_t *data, uint32_t len)
{
	uint8_t h[54];
	uint32_t iplen = 40 + len;

	memset(h, 0, sizeof(h));
	h[12] = 0x08;
	h[14] = 0x45;
	h[16] = (uint8_t)(iplen >> 8), h[17] = (uint8_t)iplen;
	h[22] = 64, h[23] = 6;
	h[26] = (uint8_t)(src >> 24), h[27] = (uint8_t)(src >> 16), h[28] = (uint8_t)(src >> 8), h[29] = (uint8_t)src;
	h[30] = (uint8_t)(dst >> 24), h[31] = (uint8_t)(dst >> 16), h[32] = (uint8_t)(dst >> 8), h[33] = (uint8_t)dst;
	h[34] = (uint8_t)(sport >> 8), h[35] = (uint8_t)sport;
	h[36] = (uint8_t)(dport >> 8), h[37] = (uint8_t)dport;
	h[38] = (uint8_t)(seq >> 24), h[39] = (uint8_t)(seq >> 16), h[40] = (uint8_t)(seq >> 8), h[41] = (uint8_t)seq;
	h[46] = 0x50, h[47] = flags;
	h[48] = 0xff, h[49] = 0xff;
	put32(fp, (uint32_t)(ts / 1000000u));
	put32(fp, (uint32_t)(ts % 1000000u));
	put32(fp, 54 + len);
	put32(fp, 54 + len);
	fwrite(h, 1, sizeof(h), fp);
	if (len)
		fwrite(data, 1, len, fp);
}

/* 1.5 M SYN-only flows with the default settings (ndpiReader 4.2 takes 5.2 GiB on this). */
START_TEST(test_syn_flood_defaults)
{
	FILE *fp = pcap_create();
	uint32_t i;
	long rss;

	for (i = 0; i < 1500000; i++)
		tcp_frame(fp, 1700000000000000ull + i, 0x0a000000u | i, 0xc0000201u, (uint16_t)(1024 + i % 60000),
			  80, 0x02, i, NULL, 0);
	fclose(fp);
	{
		const char *args[] = {"--stats", "-o", "/dev/null", NULL};
		rss = run_rss(args);
	}
	ck_assert_uint_eq(stat_value("flows="), 1500000);
	/* max_flows 500000, or memcap (128M: about 320,000 SYN-only flows) first */
	ck_assert_uint_ge(stat_value("evicted="), 1000000);
	printf("syn flood: 1.5 M flows, peak RSS %ld MiB\n", rss / 1024);
	if (!sanitized())
		ck_assert_msg(rss < 512 * 1024, "peak RSS %ld KiB", rss);
}
END_TEST

/* Over a million flows that all carry data, with a 64 MiB cap: RSS stays within cap + 64 MiB. */
START_TEST(test_flow_flood_memcap)
{
	FILE *fp = pcap_create();
	static const uint8_t hello[] = "{\"id\":1,\"method\":\"hello\",\"params\":[]}\n";
	uint32_t i;
	long rss;

	for (i = 0; i < 1100000; i++) {
		uint32_t src = 0x0a000000u | i;
		uint64_t ts = 1700000000000000ull + (uint64_t)i * 2;
		tcp_frame(fp, ts, src, 0xc0000201u, 40000, 3333, 0x02, 100, NULL, 0);
		tcp_frame(fp, ts + 1, src, 0xc0000201u, 40000, 3333, 0x18, 101, hello, sizeof(hello) - 1);
	}
	fclose(fp);
	{
		const char *args[] = {"--stats", "--set", "memcap=64M", "--set", "max_flows=100000000", "-o",
				      "/dev/null", NULL};
		rss = run_rss(args);
	}
	ck_assert_uint_eq(stat_value("flows="), 1100000);
	ck_assert_uint_gt(stat_value("evicted="), 0);
	/* The cap is enforced when flows are made; growth of live flows in between may pass it by a little. */
	ck_assert_uint_le(stat_value("peak_mem="), (64ull << 20) + (1u << 20));
	printf("flow flood: 1.1 M flows with data, memcap 64 MiB, peak RSS %ld MiB\n", rss / 1024);
	if (!sanitized())
		ck_assert_msg(rss < (64 + 64) * 1024, "peak RSS %ld KiB", rss);
}
END_TEST

/* A 10 MB JSON line without a newline: kept to the stream cap, excluded, memory flat. */
START_TEST(test_endless_line)
{
	FILE *fp = pcap_create();
	uint8_t *chunk = malloc(1400);
	uint32_t seq = 101, i;
	long rss;

	memset(chunk, 'a', 1400);
	memcpy(chunk, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"", 46);
	tcp_frame(fp, 1700000000000000ull, 0x0a000001u, 0xc0000201u, 40000, 3333, 0x02, 100, NULL, 0);
	for (i = 0; i < 10 * 1000 * 1000 / 1400; i++) {
		tcp_frame(fp, 1700000000000001ull + i, 0x0a000001u, 0xc0000201u, 40000, 3333, 0x18, seq,
			  chunk, 1400);
		seq += 1400;
		if (i == 0)
			memset(chunk, 'a', 46);
	}
	fclose(fp);
	free(chunk);
	{
		const char *args[] = {"--stats", NULL};
		rss = run_rss(args);
	}
	{
		char *out = mt_slurp(out_path, NULL);
		ck_assert_str_eq(out, ""); /* an unfinished line is no message */
		free(out);
	}
	/* The flow's buffers stayed small: accounted memory never reached the 64 KiB stream cap twice over. */
	ck_assert_uint_lt(stat_value("peak_mem="), 256u << 10);
	printf("endless line: 10 MB, peak RSS %ld MiB\n", rss / 1024);
	if (!sanitized())
		ck_assert_msg(rss < 64 * 1024, "peak RSS %ld KiB", rss);
}
END_TEST

/* One TCP session client 10.0.0.1:40000 <-> pool 192.0.2.1:3333: SYN, SYN-ACK, then the lines (even index: client). */
static void stratum_session(FILE *fp, const char *const *lines, size_t n)
{
	uint32_t seq[2] = {101, 5001};
	uint64_t ts = 1700000000000000ull;
	size_t i;

	tcp_frame(fp, ts++, 0x0a000001u, 0xc0000201u, 40000, 3333, 0x02, 100, NULL, 0);
	tcp_frame(fp, ts++, 0xc0000201u, 0x0a000001u, 3333, 40000, 0x12, 5000, NULL, 0);
	for (i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)lines[i];
		size_t len = strlen(lines[i]), off = 0;
		int d = (int)(i & 1);

		while (off < len) { /* segments of at most 1400 bytes */
			uint32_t k = (uint32_t)(len - off > 1400 ? 1400 : len - off);

			if (d == 0)
				tcp_frame(fp, ts++, 0x0a000001u, 0xc0000201u, 40000, 3333, 0x18, seq[0], p + off, k);
			else
				tcp_frame(fp, ts++, 0xc0000201u, 0x0a000001u, 3333, 40000, 0x18, seq[1], p + off, k);
			seq[d] += k;
			off += k;
		}
	}
}

/*
 * Deep JSON nesting and huge numbers inside a Stratum session are refused line by line
 * (json.c: depth 16, number literals of at most 64 characters): no crash, no stall, no
 * inf/nan in the record, and the session around them is still recognised.
 */
START_TEST(test_hostile_json)
{
	enum { DEEP = 40000 };
	char *deep = malloc(2 * DEEP + 64), *deep_obj = malloc(6 * DEEP + 64), *bignum = malloc(20100);
	FILE *fp = pcap_create();
	const char *lines[14];
	double t0, dt;
	size_t o = 0;
	int i;

	ck_assert_ptr_nonnull(deep);
	ck_assert_ptr_nonnull(deep_obj);
	ck_assert_ptr_nonnull(bignum);
	/* {"id":9,"method":"mining.notify","params":[[[[ ... ]]]]} */
	o = (size_t)snprintf(deep, 64, "{\"id\":9,\"method\":\"mining.notify\",\"params\":");
	memset(deep + o, '[', DEEP);
	memset(deep + o + DEEP, ']', DEEP);
	memcpy(deep + o + 2 * DEEP, "}\n", 3);
	/* {"a":{"a":{ ... }}} as a response */
	o = 0;
	for (i = 0; i < DEEP; i++)
		memcpy(deep_obj + o, "{\"a\":", 5), o += 5;
	deep_obj[o++] = '1';
	memset(deep_obj + o, '}', DEEP);
	memcpy(deep_obj + o + DEEP, "\n", 2);
	/* a difficulty of 20000 digits */
	o = (size_t)snprintf(bignum, 80, "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[");
	memset(bignum + o, '9', 20000);
	memcpy(bignum + o + 20000, "]}\n", 4);

	lines[0] = "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\",null,\"pool.example.com\",3333]}\n";
	lines[1] = "{\"id\":1,\"result\":[[[\"mining.set_difficulty\",\"01\"],[\"mining.notify\",\"01\"]],\"08000002\",4],\"error\":null}\n";
	lines[2] = "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT.rig01\",\"x\"]}\n";
	lines[3] = bignum;
	lines[4] = deep;
	lines[5] = "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[1e999999999]}\n";
	lines[6] = "{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT.rig01\",\"6a2f01\",\"00000000\",\"65f2bc6d\",\"abf13943\"]}\n";
	lines[7] = "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[-1e400]}\n";
	lines[8] = deep_obj;
	lines[9] = "{\"id\":3,\"result\":true,\"error\":null,\"x\":123456789012345678901234567890123456789012345678901234567890123456789}\n";
	lines[10] = "{\"id\":4,\"method\":\"mining.submit\",\"params\":[\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT.rig01\",\"6a2f01\",\"00000001\",\"65f2bc6d\",\"7fcd4d5b\"]}\n";
	lines[11] = "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[18446744073709551616]}\n";
	lines[12] = "{\"id\":5,\"method\":\"mining.submit\",\"params\":[\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT.rig01\",\"6a2f01\",\"00000002\",\"65f2bc6d\",\"1fcd4d5b\"]}\n";
	lines[13] = "{\"id\":4,\"result\":true,\"error\":null}\n";
	stratum_session(fp, lines, 14);
	fclose(fp);
	free(deep);
	free(deep_obj);
	free(bignum);
	t0 = now_s();
	{
		const char *args[] = {"--stats", "--set", "stream_max_bytes=1M", NULL};
		(void)run_rss(args);
	}
	dt = now_s() - t0;
	{
		size_t len;
		char *out = mt_slurp(out_path, &len);

		ck_assert_ptr_nonnull(out);
		ck_assert_msg(strstr(out, "\"protocol\":\"stratum\"") != NULL, "session not recognised:\n%s", out);
		ck_assert_msg(strstr(out, "inf") == NULL && strstr(out, "nan") == NULL &&
			      strstr(out, "Infinity") == NULL && strstr(out, "NaN") == NULL, "%s", out);
		ck_assert_msg(strstr(out, "99999999999999999999") == NULL, "huge number copied: %.300s", out);
		printf("hostile json: %d-deep arrays, %d-deep objects, a 20000-digit number, 1e999999999: "
		       "%zu bytes of records in %.2f s\n", DEEP, DEEP, len, dt);
		free(out);
	}
}
END_TEST

/* Writes a classic pcap: header snaplen `snap`, then records (incl, orig) each followed by 60 zero bytes. */
static void absurd_pcap(uint32_t snap, const uint32_t (*recs)[2], int n)
{
	FILE *fp = fopen(cap_path, "wb");
	uint8_t frame[60] = {0};

	ck_assert_ptr_nonnull(fp);
	put32(fp, 0xa1b2c3d4);
	fputc(2, fp), fputc(0, fp), fputc(4, fp), fputc(0, fp);
	put32(fp, 0), put32(fp, 0), put32(fp, snap), put32(fp, 1);
	for (int i = 0; i < n; i++) {
		put32(fp, 1700000000u), put32(fp, (uint32_t)i), put32(fp, recs[i][0]), put32(fp, recs[i][1]);
		fwrite(frame, 1, sizeof(frame), fp);
	}
	fclose(fp);
}

/* pcapng: a section header, `nif` interfaces of snaplen `snap`, then one packet of captured length `caplen`. */
static void absurd_pcapng(uint32_t nif, uint32_t snap, uint32_t caplen)
{
	FILE *fp = fopen(cap_path, "wb");
	static char buf[1 << 16];
	uint8_t frame[60] = {0};

	ck_assert_ptr_nonnull(fp);
	setvbuf(fp, buf, _IOFBF, sizeof(buf));
	put32(fp, 0x0A0D0D0A), put32(fp, 28), put32(fp, 0x1A2B3C4D), put32(fp, 1); /* version 1.0 */
	put32(fp, 0xffffffff), put32(fp, 0xffffffff), put32(fp, 28);
	for (uint32_t i = 0; i < nif; i++) {
		put32(fp, 1), put32(fp, 20), put32(fp, 1), put32(fp, snap), put32(fp, 20);
	}
	put32(fp, 6), put32(fp, 32 + 60), put32(fp, 0), put32(fp, 0), put32(fp, 0), put32(fp, caplen), put32(fp, 60);
	fwrite(frame, 1, sizeof(frame), fp);
	put32(fp, 32 + 60);
	fclose(fp);
}

/* Runs minetrace on cap_path; expects exit status `want` and, on failure, `msg` in the error. */
static void expect_run(const char *what, int want, const char *msg)
{
	const char *args[] = {"-o", "/dev/null", NULL};
	double t0 = now_s(), dt;
	int st;
	long rss = run_status(args, &st);
	char *err = mt_slurp(err_path, NULL);

	dt = now_s() - t0;
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(WIFEXITED(st), "%s: minetrace died (status %d): %s", what, st, err);
	ck_assert_msg(WEXITSTATUS(st) == want, "%s: exit %d, want %d: %s", what, WEXITSTATUS(st), want, err);
	if (msg)
		ck_assert_msg(strstr(err, msg) != NULL, "%s: no '%s' in: %s", what, msg, err);
	printf("absurd capture: %-44s exit %d in %.2f s, peak RSS %ld MiB: %.*s\n", what, WEXITSTATUS(st), dt,
	       rss / 1024, (int)strcspn(err, "\n"), err);
	/* no buffer sized by a length from the file */
	if (!sanitized())
		ck_assert_msg(rss < 96 * 1024, "%s: peak RSS %ld KiB", what, rss);
	free(err);
}

/*
 * Captures with absurd snap lengths, record lengths of 2^31 and more (negative as int32),
 * and a million interfaces fail with a clear error, fast and without big allocations;
 * an absurd header snap length alone is harmless (libpcap clamps it).
 */
START_TEST(test_absurd_captures)
{
	static const uint32_t ok[][2] = {{60, 60}};
	static const uint32_t neg[][2] = {{0x80000000u, 0x80000000u}};
	static const uint32_t neg2[][2] = {{60, 60}, {0xfffffff0u, 60}};
	static const uint32_t max[][2] = {{0x7fffffffu, 0x7fffffffu}};

	absurd_pcap(0xffffffffu, ok, 1);
	expect_run("pcap snaplen 2^32-1, sane record", 0, NULL);
	absurd_pcap(0, ok, 1);
	expect_run("pcap snaplen 0, sane record", 0, NULL);
	absurd_pcap(0xffffffffu, neg, 1);
	expect_run("pcap snaplen 2^32-1, record 2^31", 1, "capture length");
	absurd_pcap(65535, neg2, 2);
	expect_run("pcap record length 2^32-16 after a sane one", 1, "capture length");
	absurd_pcap(0x7fffffffu, max, 1);
	expect_run("pcap snaplen and record 2^31-1", 1, "capture length");
	absurd_pcapng(1, 0xffffffffu, 60);
	expect_run("pcapng interface snaplen 2^32-1", 0, NULL);
	absurd_pcapng(1, 65535, 0x80000000u);
	expect_run("pcapng packet length 2^31", 1, "capture length");
	absurd_pcapng(1000000, 65535, 60);
	expect_run("pcapng 1000000 interfaces", 1, "interfaces");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bounds");
	TCase *tc = tcase_create("bounds");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_syn_flood_defaults);
	tcase_add_test(tc, test_flow_flood_memcap);
	tcase_add_test(tc, test_endless_line);
	suite_add_tcase(s, tc);
	/* quick ones (CK_RUN_CASE=hostile runs only these) */
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hostile_json);
	tcase_add_test(tc, test_absurd_captures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
