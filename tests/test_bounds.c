/*
 * test_bounds.c - resource bounds of the whole program under floods: a million-flow
 * flood stays within the memory cap, 1.5 M SYN-only flows with the defaults peak under
 * 512 MiB, a 10 MB line without a newline does not grow memory past the stream cap.
 * Peak RSS comes from wait4(); it is only asserted in builds without sanitizers.
 */
#include <stdint.h>
#include <sys/resource.h>

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

/* Runs minetrace with args (NULL-terminated) on cap_path; returns the peak RSS in KiB. */
static long run_rss(const char *const *args)
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
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "minetrace failed: status %d", st);
	return ru.ru_maxrss;
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
	ck_assert_uint_eq(stat_value("evicted="), 1000000); /* max_flows 500000 */
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
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
