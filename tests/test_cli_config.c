/* test_cli_config.c - the config file: keys, values, errors with file:line, overrides. */
#include <unistd.h>

#include "cli/config.h"
#include "mt_config.h"
#include "mt_run.h"
#include "mt_test.h"

static const char *write_tmp(const char *text, char *path, size_t n)
{
	FILE *fp;
	int fd;

	snprintf(path, n, "/tmp/mt_config_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

START_TEST(test_defaults)
{
	mt_config c;

	mt_config_default(&c);
	ck_assert_str_eq(c.output, "-");
	ck_assert_int_eq(c.eng.ndpi, 1);
	ck_assert_uint_eq(c.eng.flow.max_flows, MT_FLOW_DEFAULT_MAX_FLOWS);
	ck_assert_uint_eq(c.eng.stream.max_bytes, MT_STREAM_DEFAULT_MAX_BYTES);
	ck_assert_uint_eq(c.count, 0);
}
END_TEST

START_TEST(test_file)
{
	char path[64], err[512];
	mt_config c;

	write_tmp("# a comment\n"
		  "\n"
		  "output = /tmp/out.jsonl   # trailing comment\n"
		  "  filter = \"tcp port 3333 # not a comment\"\n"
		  "max_flows=1000\n"
		  "memcap = 64M\n"
		  "stream_max_bytes = 16KiB\n"
		  "ndpi = no\n"
		  "stats = yes\n"
		  "count = 12\r\n"
		  "log_level = debug\n",
		  path, sizeof(path));
	mt_config_default(&c);
	ck_assert_msg(mt_config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.output, "/tmp/out.jsonl");
	ck_assert_str_eq(c.filter, "tcp port 3333 # not a comment");
	ck_assert_uint_eq(c.eng.flow.max_flows, 1000);
	ck_assert_uint_eq(c.eng.flow.memcap, 64ull << 20);
	ck_assert_uint_eq(c.eng.stream.max_bytes, 16384);
	ck_assert_int_eq(c.eng.ndpi, 0);
	ck_assert_int_eq(c.stats, 1);
	ck_assert_uint_eq(c.count, 12);
	ck_assert_str_eq(c.log_level, "debug");
	unlink(path);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	char path[64], err[512], line[600];
	mt_config c;

	write_tmp(text, path, sizeof(path));
	mt_config_default(&c);
	ck_assert_int_eq(mt_config_load(&c, path, err, sizeof(err)), -1);
	snprintf(line, sizeof(line), "%s:%s", path, want);
	ck_assert_msg(strncmp(err, line, strlen(line)) == 0, "got '%s', want prefix '%s'", err, line);
	unlink(path);
}

START_TEST(test_errors)
{
	expect_error("bogus = 1\n", "1: unknown key 'bogus'");
	expect_error("\n\nmax_flows = 12x\n", "3: max_flows: '12x' is not a whole number");
	expect_error("max_flows = 1\n", "1: max_flows: 1 is outside");
	expect_error("max_flows = 99999999999999999999999\n", "1: max_flows: '");
	expect_error("memcap = 18446744073709551615G\n", "1: memcap: '");
	expect_error("ndpi = maybe\n", "1: ndpi: 'maybe' is not yes or no");
	expect_error("just words\n", "1: expected 'key = value'");
	expect_error("filter = \"open\n", "1: unterminated quoted value");
	expect_error("log_level = loud\n", "1: log_level: 'loud' is not one of");
	expect_error("max_flows = -5\n", "1: max_flows: '-5'");
	expect_error("max_flows = \n", "1: max_flows: ''");
}
END_TEST

START_TEST(test_binary_and_missing)
{
	char path[64], err[512];
	mt_config c;
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mt_config_XXXXXX");
	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fwrite("ndpi = no\nout\0put = x\n", 1, 22, fp);
	fclose(fp);
	mt_config_default(&c);
	ck_assert_int_eq(mt_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2: NUL byte"));
	unlink(path);
	ck_assert_int_eq(mt_config_load(&c, "/nonexistent/minetrace.conf", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/minetrace.conf: No such file"));
}
END_TEST

START_TEST(test_long_line)
{
	char path[64], err[512];
	char *text = malloc(10000);
	mt_config c;

	memcpy(text, "filter = ", 9);
	memset(text + 9, 'a', 9000);
	memcpy(text + 9009, "\n", 2);
	write_tmp(text, path, sizeof(path));
	mt_config_default(&c);
	ck_assert_int_eq(mt_config_load(&c, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":1: line longer than"));
	unlink(path);
	free(text);
}
END_TEST

START_TEST(test_parse_u64)
{
	uint64_t v;

	ck_assert_int_eq(mt_config_parse_u64("0", 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(mt_config_parse_u64("18446744073709551615", 0, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(mt_config_parse_u64("18446744073709551616", 0, &v), -1);
	ck_assert_int_eq(mt_config_parse_u64("2G", 1, &v), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(mt_config_parse_u64("2G", 0, &v), -1);
	ck_assert_int_eq(mt_config_parse_u64("", 0, &v), -1);
	ck_assert_int_eq(mt_config_parse_u64(" 1", 0, &v), -1);
	ck_assert_int_eq(mt_config_parse_u64("1 ", 0, &v), -1);
	ck_assert_int_eq(mt_config_parse_u64("+1", 0, &v), -1);
	ck_assert_int_eq(mt_config_parse_u64("1MB", 1, &v), 0);
	ck_assert_uint_eq(v, 1u << 20);
	ck_assert_int_eq(mt_config_parse_u64("1Mx", 1, &v), -1);
}
END_TEST

START_TEST(test_print_keys)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);

	mt_config_print_keys(fp);
	fclose(fp);
	/* Every key the README documents is listed with a meaning. */
	ck_assert_ptr_nonnull(strstr(buf, "max_flows"));
	ck_assert_ptr_nonnull(strstr(buf, "memcap"));
	ck_assert_ptr_nonnull(strstr(buf, "stream_max_bytes"));
	ck_assert_ptr_nonnull(strstr(buf, "udp_timeout"));
	free(buf);
}
END_TEST

/* The attribution keys: stored as given; --config-keys says when attribution is not built in. */
START_TEST(test_geoip_keys)
{
	static const char *const keys[] = {"geoip_dir", "geoip_city", "geoip_asn", "geoip_isp",
					   "geoip_registry"};
	char err[256], *buf = NULL;
	size_t n = 0, i;
	mt_config c;
	FILE *fp;

	mt_config_default(&c);
	ck_assert_str_eq(c.geoip_dir, "");
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(mt_config_set(&c, keys[i], "/srv/geo/x.mmdb", err, sizeof(err)), 0);
	ck_assert_str_eq(c.geoip_dir, "/srv/geo/x.mmdb");
	ck_assert_str_eq(c.geoip_registry, "/srv/geo/x.mmdb");
	fp = open_memstream(&buf, &n);
	mt_config_print_keys(fp);
	fclose(fp);
	for (i = 0; i < 5; i++)
		ck_assert_ptr_nonnull(strstr(buf, keys[i]));
	ck_assert_int_eq(strstr(buf, "not built in") != NULL, !MT_HAVE_MAXMINDDB);
	free(buf);
}
END_TEST

/* '#' outside quotes starts a comment, even when the comment itself holds quotes. */
START_TEST(test_comments)
{
	char path[64], err[512];
	mt_config c;

	write_tmp("filter = \"\"                # BPF filter, e.g. \"not port 53\"\n"
		  "output = /tmp/x.jsonl # a comment with \"quotes\" and # more\n"
		  "log_level = info#no space before it\n"
		  "spool_full = \"drop-oldest\"\t# \"tab\" before the comment\n",
		  path, sizeof(path));
	mt_config_default(&c);
	ck_assert_msg(mt_config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.filter, "");
	ck_assert_str_eq(c.output, "/tmp/x.jsonl");
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_str_eq(c.spool_full, "drop-oldest");
	unlink(path);

	/* '#' and quotes inside the quotes are kept; the comment after them is not. */
	write_tmp("filter = \"tcp port 3333 # kept\" # \"dropped\"\n"
		  "output = \"/tmp/a \"b\" c#d\"\n",
		  path, sizeof(path));
	mt_config_default(&c);
	ck_assert_msg(mt_config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.filter, "tcp port 3333 # kept");
	ck_assert_str_eq(c.output, "/tmp/a \"b\" c#d");
	unlink(path);

	/* A quote followed by neither the end nor a comment does not close the value. */
	expect_error("filter = \"a\" b\n", "1: unterminated quoted value");
	expect_error("filter = \"a # b\n", "1: unterminated quoted value");
}
END_TEST

/* The shipped etc/minetrace.conf loads, and minetrace runs with it over a capture. */
START_TEST(test_shipped_conf)
{
	char conf[1024], pcap[1024], expected[1024], err[512], out[64], errf[64];
	char *got, *want, *errtext;
	const char *exe = getenv("MT_MINETRACE");
	mt_config c;
	int fd, rc;

	mt_test_src("etc/minetrace.conf", conf, sizeof(conf));
	mt_config_default(&c);
	ck_assert_msg(mt_config_load(&c, conf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.filter, "");
	if (!exe) {
		printf("skipped the run: MT_MINETRACE is not set (run through meson test)\n");
		return;
	}
	snprintf(out, sizeof(out), "/tmp/mt_conf_out_XXXXXX");
	snprintf(errf, sizeof(errf), "/tmp/mt_conf_err_XXXXXX");
	fd = mkstemp(out);
	close(fd);
	fd = mkstemp(errf);
	close(fd);
	mt_test_src("pcaps/stratum-btc.pcap", pcap, sizeof(pcap));
	{
		char *argv[] = {(char *)exe, "--config", conf, "--no-plugins", "-r", pcap, NULL};
		rc = mt_run(argv, out, errf);
	}
	errtext = mt_slurp(errf, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, errtext);
	got = mt_slurp(out, NULL);
	want = mt_slurp(mt_test_src("pcaps/stratum-btc.expected.jsonl", expected, sizeof(expected)), NULL);
	ck_assert_ptr_nonnull(want);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(errtext);
	unlink(out);
	unlink(errf);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_binary_and_missing);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_print_keys);
	tcase_add_test(tc, test_geoip_keys);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_shipped_conf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
