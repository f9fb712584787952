/*
 * test_enrich_hits.c - attribution end to end: minetrace --geoip-dir on pcaps/stratum-geo.pcap
 * gives miner/pool objects with the right country, city (en, zh), ASN, company, credit code
 * and verdict; bad databases are refused by name; SIGHUP swaps the registry atomically.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mt_config.h"
#include "mt_run.h"
#include "mt_test.h"

static char tmp_out[64], tmp_err[64], g_shared[1024];

static const char *minetrace(void)
{
	const char *p = getenv("MT_MINETRACE");
	ck_assert_msg(p != NULL, "MT_MINETRACE is not set (run through meson test)");
	return p;
}

/* minetrace-registry in the build tree (a copy of geoip/minetrace-registry). */
static const char *registry_tool(void)
{
	const char *p = getenv("MT_REGISTRY");
	ck_assert_msg(p != NULL, "MT_REGISTRY is not set (run through meson test)");
	return p;
}

static int have_writer(void)
{
	char *argv[] = {"/usr/bin/perl", "-MMaxMind::DB::Writer::Tree", "-e", "1", NULL};
	if (mt_run(argv, NULL, NULL) == 0)
		return 1;
	printf("skipped: Perl MaxMind::DB::Writer::Tree (libmaxmind-db-writer-perl) is missing\n");
	return 0;
}

/* ../shared/geoip beside the source tree, or NULL (the tests that need it skip). */
static const char *shared_geoip(void)
{
	char probe[1100];
	if (!mt_test_shared("geoip/GeoLite2-City-Test.mmdb", probe, sizeof(probe))) {
		printf("skipped: no ../shared/geoip (MaxMind's test databases)\n");
		return NULL;
	}
	mt_test_shared("geoip", g_shared, sizeof(g_shared));
	return g_shared;
}

static void setup(void)
{
	int fd;
	snprintf(tmp_out, sizeof(tmp_out), "/tmp/mt_geo_out_XXXXXX");
	snprintf(tmp_err, sizeof(tmp_err), "/tmp/mt_geo_err_XXXXXX");
	fd = mkstemp(tmp_out);
	close(fd);
	fd = mkstemp(tmp_err);
	close(fd);
}

static void teardown(void)
{
	unlink(tmp_out);
	unlink(tmp_err);
}

static void rm_rf(const char *dir)
{
	char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
	mt_run(argv, NULL, NULL);
}

static void copy_file(const char *from, const char *to);

/* The test registries, compiled once in main() by the build tree's minetrace-registry. */
static char g_reg_dir[64];
static int g_reg_failed;

static void compile_once(void)
{
	static const char *const names[] = {"registry-test.csv", "registry-test-v2.csv"};
	const char *tool = getenv("MT_REGISTRY");
	char *perl[] = {"/usr/bin/perl", "-MMaxMind::DB::Writer::Tree", "-e", "1", NULL};
	size_t i;

	if (!tool || mt_run(perl, NULL, NULL) != 0)
		return;
	snprintf(g_reg_dir, sizeof(g_reg_dir), "/tmp/mt_georeg_XXXXXX");
	if (!mkdtemp(g_reg_dir)) {
		g_reg_dir[0] = 0;
		return;
	}
	for (i = 0; i < 2; i++) {
		char csv[1024], rel[256], out[256];
		snprintf(rel, sizeof(rel), "tests/geoip/%s", names[i]);
		mt_test_src(rel, csv, sizeof(csv));
		snprintf(out, sizeof(out), "%s/%s.mmdb", g_reg_dir, names[i]);
		char *argv[] = {"/usr/bin/perl", (char *)tool, csv, "-o", out, NULL};
		if (mt_run(argv, NULL, NULL) != 0)
			g_reg_failed = 1;
	}
}

/* tests/geoip/NAME compiled (once, in main) and copied to path. */
static void compile_registry(const char *name, const char *path)
{
	char from[256];
	ck_assert_msg(!g_reg_failed, "minetrace-registry failed on tests/geoip/*.csv");
	ck_assert_msg(g_reg_dir[0], "no compiled registry (have_writer() not asked?)");
	snprintf(from, sizeof(from), "%s/%s.mmdb", g_reg_dir, name);
	copy_file(from, path);
}

static void copy_file(const char *from, const char *to)
{
	char *argv[] = {"/bin/cp", (char *)from, (char *)to, NULL};
	ck_assert_int_eq(mt_run(argv, NULL, NULL), 0);
}

/* The n-th line (0-based) of text, as a new string. */
static char *line_of(const char *text, int n)
{
	const char *p = text, *e;
	while (n-- > 0 && p) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	ck_assert_msg(p && *p, "no line %d in output:\n%s", n, text);
	e = strchr(p, '\n');
	return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* The text of the top-level member `key` ("miner" or "pool") of a record, up to the next one. */
static char *member(const char *rec, const char *key)
{
	char k[32];
	const char *p, *e;
	snprintf(k, sizeof(k), "\"%s\":{", key);
	p = strstr(rec, k);
	ck_assert_msg(p != NULL, "no %s object in %s", key, rec);
	e = strstr(p + 1, strcmp(key, "miner") == 0 ? ",\"pool\":{" : ",\"hit\":{");
	ck_assert_msg(e != NULL, "%s object not followed as expected in %s", key, rec);
	return strndup(p, (size_t)(e - p));
}

#define HAS(obj, s) ck_assert_msg(strstr((obj), (s)) != NULL, "missing %s in %s", (s), (obj))
#define HASNT(obj, s) ck_assert_msg(strstr((obj), (s)) == NULL, "unexpected %s in %s", (s), (obj))

/* A folder with MaxMind's City and ASN test databases and the compiled test registry. */
static int geo_dir(char *dir, size_t n, const char *registry_csv)
{
	char from[1200], to[1200];
	const char *sh = shared_geoip();
	if (!sh || !have_writer())
		return 0;
	snprintf(dir, n, "/tmp/mt_geo_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* file names that say nothing: the type comes from the metadata */
	snprintf(from, sizeof(from), "%s/GeoLite2-City-Test.mmdb", sh);
	snprintf(to, sizeof(to), "%s/a.mmdb", dir);
	copy_file(from, to);
	snprintf(from, sizeof(from), "%s/GeoLite2-ASN-Test.mmdb", sh);
	snprintf(to, sizeof(to), "%s/b.mmdb", dir);
	copy_file(from, to);
	snprintf(to, sizeof(to), "%s/c.mmdb", dir);
	compile_registry(registry_csv, to);
	return 1;
}

START_TEST(test_geo_hits)
{
	char dir[64], pcap[1024];
	char *out, *errtext, *rec, *m, *p;
	int rc;

	if (!geo_dir(dir, sizeof(dir), "registry-test.csv"))
		return;
	mt_test_src("pcaps/stratum-geo.pcap", pcap, sizeof(pcap));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--geoip-dir", dir, "-r", pcap, NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	out = mt_slurp(tmp_out, NULL);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, errtext);
	/* City, ASN and registry all found: no warning at all. */
	ck_assert_msg(errtext[0] == '\0', "%s", errtext);
	ck_assert_int_eq(mt_count_lines(out), 12);

	/* Session 1: a miner in a data centre (SE, Linköping/林雪平, AS29518). */
	rec = line_of(out, 0);
	m = member(rec, "miner");
	p = member(rec, "pool");
	HAS(m, "\"ip\":\"89.160.20.130\"");
	HAS(m, "\"country\":\"SE\",\"country_name\":\"Sweden\"");
	HAS(m, "\"city\":\"Linköping\",\"city_zh\":\"林雪平\"");
	HAS(m, "\"asn\":{\"number\":29518,\"org\":\"Bredband2 AB\"}");
	HAS(m, "\"company\":\"林雪平示例算力服务有限公司 (Linkoping Example Compute AB)\"");
	HAS(m, "\"credit_code\":\"91220100MA19X8W7RW\"");
	HAS(m, "\"kind\":\"data_center\"");
	HAS(m, "\"verdict\":\"mining_in_data_center\"");
	/* The pool: CN, Changchun/长春, in the narrower data-centre network listed first. */
	HAS(p, "\"ip\":\"175.16.199.10\"");
	HAS(p, "\"country\":\"CN\"");
	HAS(p, "\"city\":\"Changchun\",\"city_zh\":\"长春\"");
	HAS(p, "\"company\":\"长春示例云计算有限公司\"");
	HASNT(p, "verdict"); /* the verdict is about the miner's site only */
	HASNT(p, "\"asn\""); /* the ASN test database has no record for it: left out, no null */
	free(m), free(p), free(rec);
	/* The flow's later records carry the same objects (looked up once per flow). */
	rec = line_of(out, 2);
	HAS(rec, "\"status\":\"end\"");
	m = member(rec, "miner");
	HAS(m, "\"verdict\":\"mining_in_data_center\"");
	HAS(m, "\"city_zh\":\"林雪平\"");
	free(m), free(rec);

	/* Session 2: a known mine (CN, 长春). */
	rec = line_of(out, 3);
	m = member(rec, "miner");
	HAS(m, "\"ip\":\"175.16.199.7\"");
	HAS(m, "\"city_zh\":\"长春\"");
	HAS(m, "\"company\":\"长春示例矿业有限公司\"");
	HAS(m, "\"credit_code\":\"91220100MA17XJ2K3L\"");
	HAS(m, "\"site_address\":\"长春样本矿场 \\\"北\\\" 区\"");
	HAS(m, "\"verdict\":\"known_mine\"");
	p = member(rec, "pool");
	HAS(p, "\"asn\":{\"number\":29518");
	free(m), free(p), free(rec);

	/* Session 3: a private range the registry names (kept), no verdict, no coordinates. */
	rec = line_of(out, 6);
	m = member(rec, "miner");
	HAS(m, "\"ip\":\"10.20.3.4\",\"enterprise\":{\"company\":\"上海测试制造有限公司\"");
	HAS(m, "\"kind\":\"enterprise\"");
	HASNT(m, "verdict");
	HASNT(m, "latitude");
	HASNT(m, "\"geo\"");
	p = member(rec, "pool");
	HAS(p, "\"city\":\"Milton\"");
	HAS(p, "\"asn\":{\"number\":209}");
	free(m), free(p), free(rec);

	/* Session 4: IPv6, an IDC. */
	rec = line_of(out, 9);
	m = member(rec, "miner");
	HAS(m, "\"ip\":\"2001:db8:100::5\"");
	HAS(m, "\"company\":\"北京演示网络科技有限公司\"");
	HAS(m, "\"kind\":\"idc\"");
	HAS(m, "\"verdict\":\"mining_in_data_center\"");
	p = member(rec, "pool");
	ck_assert_str_eq(p, "\"pool\":{\"ip\":\"2001:db8:2::1\"}");
	free(m), free(p), free(rec);
	free(out);
	free(errtext);
	rm_rf(dir);
}
END_TEST

/* Without ../shared: the Perl-written test databases (make-test-dbs), files named one by one. */
START_TEST(test_made_dbs_hits)
{
	char dir[64], pcap[1024], tool[1024], city[128], asn[128], reg[128];
	char *out, *errtext, *p;
	int rc;

	if (!have_writer())
		return;
	snprintf(dir, sizeof(dir), "/tmp/mt_geo_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	mt_test_src("geoip/make-test-dbs", tool, sizeof(tool));
	{
		char *argv[] = {"/usr/bin/perl", tool, dir, NULL};
		ck_assert_int_eq(mt_run(argv, NULL, tmp_err), 0);
	}
	snprintf(city, sizeof(city), "geoip_city=%s/city-test.mmdb", dir);
	snprintf(asn, sizeof(asn), "geoip_asn=%s/asn-test.mmdb", dir);
	snprintf(reg, sizeof(reg), "geoip_registry=%s/registry-test.mmdb", dir);
	mt_test_src("pcaps/stratum-btc.pcap", pcap, sizeof(pcap));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--stats", "--set", city, "--set",
				asn, "--set", reg, "-r", pcap, NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	out = mt_slurp(tmp_out, NULL);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, errtext);
	ck_assert_int_eq(mt_count_lines(out), 3);
	/* Three records of one flow, looked up once. */
	HAS(errtext, "attribution flows_looked_up=1\n");
	HASNT(errtext, "warning");
	p = member(out, "pool");
	HAS(p, "\"ip\":\"203.0.113.5\",\"geo\":{\"country\":\"CN\",\"country_name\":\"China\","
	       "\"subdivision\":\"ZJ\",\"subdivision_name\":\"Zhejiang\",\"city\":\"Hangzhou\","
	       "\"city_zh\":\"杭州\",\"latitude\":30.2741,\"longitude\":120.1551,\"accuracy_radius\":20}");
	HAS(p, "\"asn\":{\"number\":64500,\"org\":\"Example Cloud AS\"}");
	HAS(p, "\"credit_code\":\"91330100MA2B3C4D5N\"");
	HASNT(p, "verdict");
	free(p);
	p = member(out, "miner");
	ck_assert_str_eq(p, "\"miner\":{\"ip\":\"192.0.2.10\"}");
	free(p);
	free(out);
	free(errtext);
	/* The folder plus one file named: the named one is used, and no warning about the other. */
	{
		snprintf(reg, sizeof(reg), "%s/mine.mmdb", dir);
		compile_registry("registry-test.csv", reg);
		snprintf(reg, sizeof(reg), "geoip_registry=%s/mine.mmdb", dir);
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--geoip-dir", dir, "--set", reg,
				"-r", pcap, NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	out = mt_slurp(tmp_out, NULL);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_msg(rc == 0 && errtext[0] == '\0', "exit %d: %s", rc, errtext);
	HAS(out, "\"pool\":{\"ip\":\"203.0.113.5\",\"geo\":{\"country\":\"CN\"");
	HASNT(out, "\"enterprise\""); /* the named registry has nothing for 203.0.113.5 */
	free(out);
	free(errtext);
	snprintf(reg, sizeof(reg), "geoip_registry=%s/registry-test.mmdb", dir);
	/* Only the registry: one warning naming what is disabled, and hits still written. */
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--set", reg, "-r", pcap, NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	out = mt_slurp(tmp_out, NULL);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, errtext);
	ck_assert_int_eq(mt_count_lines(errtext), 1);
	HAS(errtext, "warning");
	HAS(errtext, "city asn");
	HAS(out, "\"enterprise\":{\"company\":\"杭州示例云计算有限公司");
	HASNT(out, "\"geo\"");
	free(out);
	free(errtext);
	rm_rf(dir);
}
END_TEST

/* Every file of ../shared/geoip/bad-data: refused at start, by name, never a crash. */
START_TEST(test_bad_data)
{
	char dir[1200], pcap[1024], one[64];
	struct dirent **ents;
	const char *sh = shared_geoip();
	int n, i, checked = 0;

	if (!sh)
		return;
	snprintf(dir, sizeof(dir), "%s/bad-data", sh);
	n = scandir(dir, &ents, NULL, alphasort);
	ck_assert_int_gt(n, 2);
	mt_test_src("pcaps/stratum-btc.pcap", pcap, sizeof(pcap));
	snprintf(one, sizeof(one), "/tmp/mt_geobad_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(one));
	for (i = 0; i < n; i++) {
		char path[2400], kv[2500], dst[128];
		const char *key[] = {"geoip_city", "geoip_asn", "geoip_isp", "geoip_registry"};
		char *errtext;
		int k, rc;

		if (ents[i]->d_name[0] == '.') {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		for (k = 0; k < 4; k++) {
			snprintf(kv, sizeof(kv), "%s=%s", key[k], path);
			char *argv[] = {(char *)minetrace(), "--no-plugins", "--set", kv, "-r", pcap, NULL};
			rc = mt_run(argv, tmp_out, tmp_err);
			errtext = mt_slurp(tmp_err, NULL);
			ck_assert_msg(rc == 2, "%s as %s: exit %d: %s", path, key[k], rc, errtext);
			ck_assert_msg(strstr(errtext, path) != NULL, "%s", errtext);
			ck_assert_int_eq(mt_count_lines(errtext), 1);
			free(errtext);
		}
		/* Alone in a --geoip-dir folder: refused by name, or (a type minetrace does not
		 * read) named in the one warning; never a crash. */
		snprintf(dst, sizeof(dst), "%s/x.mmdb", one);
		copy_file(path, dst);
		{
			char *argv[] = {(char *)minetrace(), "--no-plugins", "--geoip-dir", one, "-r", pcap, NULL};
			rc = mt_run(argv, tmp_out, tmp_err);
		}
		errtext = mt_slurp(tmp_err, NULL);
		ck_assert_msg(rc == 0 || rc == 2, "%s: exit %d: %s", path, rc, errtext);
		ck_assert_msg(strstr(errtext, dst) != NULL, "%s: %s", path, errtext);
		free(errtext);
		checked++;
		free(ents[i]);
	}
	free(ents);
	rm_rf(one);
	ck_assert_int_gt(checked, 10);
}
END_TEST

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		ck_assert_int_gt((int)w, 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Offset just past `records` pcap records from off. */
static size_t skip_records(const char *cap, size_t off, int records)
{
	while (records-- > 0) {
		uint32_t incl = (uint32_t)(uint8_t)cap[off + 8] | (uint32_t)(uint8_t)cap[off + 9] << 8 |
				(uint32_t)(uint8_t)cap[off + 10] << 16 | (uint32_t)(uint8_t)cap[off + 11] << 24;
		off += 16 + incl;
	}
	return off;
}

/* Installs src as dst the way operators should: written beside it, renamed over it. */
static void swap_in(const char *src, const char *dst)
{
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s.new", dst);
	copy_file(src, tmp);
	ck_assert_int_eq(rename(tmp, dst), 0);
}

/*
 * SIGHUP while reading stratum-geo.pcap from a FIFO: a new registry is swapped in
 * (the next flows name the new company); then a corrupt one is refused and the
 * set loaded before stays in use.
 */
START_TEST(test_sighup_swap)
{
	char dir[64], fifo[128], reg[128], v2[128], junk[128], pcap[1024];
	char *cap, *out, *errtext, *rec, *m;
	size_t caplen = 0, off, next;
	pid_t pid;
	int fd, st;
	FILE *fp;

	if (!have_writer())
		return;
	snprintf(dir, sizeof(dir), "/tmp/mt_geohup_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(reg, sizeof(reg), "%s/registry.mmdb", dir);
	snprintf(v2, sizeof(v2), "%s/v2.mmdb.later", dir);
	snprintf(junk, sizeof(junk), "%s/junk.later", dir);
	compile_registry("registry-test.csv", reg);
	compile_registry("registry-test-v2.csv", v2);
	fp = fopen(junk, "wb");
	fputs("not a MaxMind database\n", fp);
	fclose(fp);
	snprintf(fifo, sizeof(fifo), "%s/capture.fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	cap = mt_slurp(mt_test_src("pcaps/stratum-geo.pcap", pcap, sizeof(pcap)), &caplen);
	ck_assert_ptr_nonnull(cap);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(tmp_out, O_WRONLY | O_TRUNC), e = open(tmp_err, O_WRONLY | O_TRUNC);
		dup2(o, 1);
		dup2(e, 2);
		execl(minetrace(), minetrace(), "-v", "--no-plugins", "--geoip-dir", dir, "-r", fifo,
		      (char *)NULL);
		_exit(127);
	}
	fd = open(fifo, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	/* Session 1 (33 records), then the new registry and SIGHUP. */
	off = skip_records(cap, 24, 33);
	write_all(fd, cap, off);
	usleep(300000);
	swap_in(v2, reg);
	kill(pid, SIGHUP);
	usleep(300000);
	/* Session 2 (the swap happens before its first packet), then a corrupt file and SIGHUP. */
	next = skip_records(cap, off, 33);
	write_all(fd, cap + off, next - off);
	off = next;
	usleep(300000);
	swap_in(junk, reg);
	kill(pid, SIGHUP);
	usleep(300000);
	write_all(fd, cap + off, caplen - off);
	close(fd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	errtext = mt_slurp(tmp_err, NULL);
	out = mt_slurp(tmp_out, NULL);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, errtext);
	HAS(errtext, "reload: attribution databases: ");
	HAS(errtext, "keeping the attribution databases loaded before");
	HAS(errtext, reg);
	ck_assert_int_eq(mt_count_lines(out), 12);
	/* Session 1 with the first registry: the data centre. */
	rec = line_of(out, 0);
	m = member(rec, "miner");
	HAS(m, "\"verdict\":\"mining_in_data_center\"");
	free(m), free(rec);
	/* Session 2 with the swapped-in one: the mine's new name. */
	rec = line_of(out, 3);
	m = member(rec, "miner");
	HAS(m, "\"company\":\"长春新矿业集团有限公司\"");
	HAS(m, "\"verdict\":\"known_mine\"");
	free(m), free(rec);
	/* Sessions 3 and 4 after the corrupt file: the v2 set still answers. */
	rec = line_of(out, 6);
	HAS(rec, "\"company\":\"上海测试制造有限公司\"");
	free(rec);
	rec = line_of(out, 11);
	m = member(rec, "miner");
	HAS(m, "\"company\":\"北京演示网络科技有限公司\"");
	HAS(m, "\"verdict\":\"mining_in_data_center\"");
	free(m), free(rec);
	free(out);
	free(errtext);
	free(cap);
	rm_rf(dir);
}
END_TEST

/* How often `needle` occurs in text. */
static int count_of(const char *text, const char *needle)
{
	int n = 0;
	const char *p = text;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* The last part of a log (Check's messages are short; a sanitizer report is long). */
static const char *tail_of(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	return !t ? "" : n > 1500 ? t + n - 1500 : t;
}

/*
 * Opens a FIFO for writing once minetrace has it open for reading (a worker
 * took that file), so the test knows where the workers are. Blocking after.
 */
static int open_when_read(const char *fifo, pid_t pid)
{
	int i, st, fd = -1;

	for (i = 0; i < 3000 && fd < 0; i++) {
		fd = open(fifo, O_WRONLY | O_NONBLOCK);
		if (fd >= 0)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char *t = mt_slurp(tmp_err, NULL);
			ck_abort_msg("minetrace ended (status %d) before reading %s: ...%s", st, fifo, tail_of(t));
		}
		usleep(10000);
	}
	ck_assert_msg(fd >= 0, "%s: no worker opened it", fifo);
	ck_assert_int_eq(fcntl(fd, F_SETFL, 0), 0);
	return fd;
}

/* Waits (up to 30 s) until minetrace's standard error holds `what`. */
static void wait_log(const char *what, pid_t pid)
{
	int i, st;

	for (i = 0; i < 3000; i++) {
		char *t = mt_slurp(tmp_err, NULL);
		int found = t && strstr(t, what) != NULL;
		if (!found && waitpid(pid, &st, WNOHANG) == pid)
			ck_abort_msg("minetrace ended (status %d) before logging '%s': ...%s", st, what, tail_of(t));
		free(t);
		if (found)
			return;
		usleep(10000);
	}
	ck_abort_msg("no '%s' in the log", what);
}

/* Hits of one run of stratum-geo.pcap whose text names `company`, with registry `reg` alone. */
static int hits_naming(const char *reg, const char *company)
{
	char dir[64], path[128], pcap[1024];
	char *out;
	int n;

	snprintf(dir, sizeof(dir), "/tmp/mt_georef_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/registry.mmdb", dir);
	copy_file(reg, path);
	mt_test_src("pcaps/stratum-geo.pcap", pcap, sizeof(pcap));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--geoip-dir", dir, "-r", pcap, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	out = mt_slurp(tmp_out, NULL);
	n = count_of(out, company);
	free(out);
	rm_rf(dir);
	return n;
}

/*
 * The same with two workers over six FIFOs (stratum-geo.pcap, the first two
 * cut after session 2). Files 1-2 are read with the first registry. SIGHUP swaps in the second
 * while one worker is halfway through file 3 and the other waits in file 4:
 * the first goes on with the old set until its next safe point (so, under
 * ASan, the old set must not be closed before it acknowledged), the second
 * switches at the start of its file. Then a corrupt registry is refused and
 * files 5-6 still get the second.
 */
START_TEST(test_sighup_swap_workers)
{
	static const char old_name[] = "长春示例矿业有限公司", new_name[] = "长春新矿业集团有限公司";
	char dir[64], fifo[6][128], reg[128], v1[128], v2[128], junk[128], pcap[1024];
	char *cap, *out, *errtext;
	size_t caplen = 0, half;
	int fd[6], i, st, k_old, k_new, lines_per_file;
	pid_t pid;
	FILE *fp;

	if (!have_writer())
		return;
	snprintf(dir, sizeof(dir), "/tmp/mt_geohupw_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(reg, sizeof(reg), "%s/registry.mmdb", dir);
	snprintf(v1, sizeof(v1), "%s/v1.mmdb.later", dir);
	snprintf(v2, sizeof(v2), "%s/v2.mmdb.later", dir);
	snprintf(junk, sizeof(junk), "%s/junk.later", dir);
	compile_registry("registry-test.csv", v1);
	compile_registry("registry-test-v2.csv", v2);
	copy_file(v1, reg);
	fp = fopen(junk, "wb");
	fputs("not a MaxMind database\n", fp);
	fclose(fp);
	/* What one file gives with each registry alone (one worker, no reload). */
	k_old = hits_naming(v1, old_name);
	k_new = hits_naming(v2, new_name);
	ck_assert_int_gt(k_old, 0);
	ck_assert_int_gt(k_new, 0);
	ck_assert_int_eq(hits_naming(v2, old_name), 0);
	out = mt_slurp(tmp_out, NULL);
	lines_per_file = mt_count_lines(out);
	free(out);
	for (i = 0; i < 6; i++) {
		snprintf(fifo[i], sizeof(fifo[i]), "%s/capture%d.fifo", dir, i);
		ck_assert_int_eq(mkfifo(fifo[i], 0600), 0);
	}
	cap = mt_slurp(mt_test_src("pcaps/stratum-geo.pcap", pcap, sizeof(pcap)), &caplen);
	ck_assert_ptr_nonnull(cap);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(tmp_out, O_WRONLY | O_TRUNC), e = open(tmp_err, O_WRONLY | O_TRUNC);
		dup2(o, 1);
		dup2(e, 2);
		execl(minetrace(), minetrace(), "-v", "--no-plugins", "--workers", "2", "--geoip-dir", dir,
		      "-r", fifo[0], "-r", fifo[1], "-r", fifo[2], "-r", fifo[3], "-r", fifo[4], "-r", fifo[5],
		      (char *)NULL);
		_exit(127);
	}
	/*
	 * Files 1-2 with the first registry: sessions 1-2 only, so sessions 3-4 in
	 * file 3 are new addresses to either worker's cache and looked up in the set.
	 */
	half = skip_records(cap, 24, 66);
	for (i = 0; i < 2; i++) {
		fd[i] = open_when_read(fifo[i], pid);
		write_all(fd[i], cap, half);
		close(fd[i]);
	}
	/* Both workers are done with them once both hold files 3-4. File 3: sessions 1-2. */
	fd[2] = open_when_read(fifo[2], pid);
	fd[3] = open_when_read(fifo[3], pid);
	write_all(fd[2], cap, half);
	usleep(300000);
	/* The new registry and SIGHUP; then sessions 3-4 of file 3 (looked up in the old set) and file 4. */
	swap_in(v2, reg);
	kill(pid, SIGHUP);
	wait_log("reload: attribution databases: ", pid);
	write_all(fd[2], cap + half, caplen - half);
	close(fd[2]);
	write_all(fd[3], cap, caplen);
	close(fd[3]);
	/* Files 5-6: their headers let the workers reach their safe point (the reload completes). */
	fd[4] = open_when_read(fifo[4], pid);
	fd[5] = open_when_read(fifo[5], pid);
	write_all(fd[4], cap, 24);
	write_all(fd[5], cap, 24);
	/* A corrupt registry: refused, the second stays. */
	swap_in(junk, reg);
	kill(pid, SIGHUP);
	wait_log("keeping the attribution databases loaded before", pid);
	for (i = 4; i < 6; i++) {
		write_all(fd[i], cap + 24, caplen - 24);
		close(fd[i]);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	errtext = mt_slurp(tmp_err, NULL);
	out = mt_slurp(tmp_out, NULL);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, errtext);
	HAS(errtext, reg);
	HASNT(errtext, "ERROR: AddressSanitizer");
	/* Four whole files and two halves. */
	ck_assert_int_gt(mt_count_lines(out), 4 * lines_per_file);
	ck_assert_int_lt(mt_count_lines(out), 6 * lines_per_file);
	/*
	 * Files 1-2 and session 2 of file 3 with the first registry, files 4-6 with the
	 * second (file 3's may be either, should its worker reach a safe point within
	 * it); every file with one of the two (never none: the corrupt one was refused).
	 */
	ck_assert_int_eq(k_old, k_new);
	ck_assert_int_ge(count_of(out, old_name), 2 * k_old);
	ck_assert_int_ge(count_of(out, new_name), 3 * k_new);
	ck_assert_int_eq(count_of(out, old_name) + count_of(out, new_name), 6 * k_old);
	free(out);
	free(errtext);
	free(cap);
	rm_rf(dir);
}
END_TEST

/* A registry CSV error names file:line; the build tree's copy of the compiler works. */
START_TEST(test_registry_tool)
{
	char dir[64], csv[128], mmdb[128];
	char *errtext;
	FILE *fp;

	if (!have_writer())
		return;
	snprintf(dir, sizeof(dir), "/tmp/mt_georeg_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(csv, sizeof(csv), "%s/in.csv", dir);
	snprintf(mmdb, sizeof(mmdb), "%s/out.mmdb", dir);
	fp = fopen(csv, "wb");
	fputs("\xEF\xBB\xBFnetwork,company,credit_code,registered_address,site_address,latitude,"
	      "longitude,kind,park,notes\r\n"
	      "203.0.113.0/24,甲,91330100MA2B3C4D5N,x,y,30,120,idc,,\r\n"
	      "203.0.113.7/24,乙,91330100MA2B3C4D5N,x,y,30,120,idc,,\r\n"
	      "203.0.113.0/24,丙,91330100MA2B3C4D5N,x,y,30,120,idc,,\r\n"
	      "198.51.100.0/24,丁,91330100MA2B3C4D5N,x,y,30,,idc,,\r\n",
	      fp);
	fclose(fp);
	{
		char *argv[] = {"/usr/bin/perl", (char *)registry_tool(), csv, "-o", mmdb, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 1);
	}
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_int_eq(mt_count_lines(errtext), 3);
	{
		char want[256];
		snprintf(want, sizeof(want), "%s:3: network '203.0.113.7/24' has host bits set", csv);
		HAS(errtext, want);
		snprintf(want, sizeof(want), "%s:4: duplicate network '203.0.113.0/24' (first at line 2)", csv);
		HAS(errtext, want);
		snprintf(want, sizeof(want), "%s:5: latitude and longitude go together", csv);
		HAS(errtext, want);
	}
	ck_assert_int_ne(access(mmdb, F_OK), 0); /* nothing written on error */
	free(errtext);
	rm_rf(dir);
}
END_TEST

/* A build without libmaxminddb says so and refuses the attribution settings. */
START_TEST(test_not_built_in)
{
	char pcap[1024];
	char *text;

	mt_test_src("pcaps/stratum-btc.pcap", pcap, sizeof(pcap));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--geoip-dir", "/tmp", "-r", pcap, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 2);
	}
	text = mt_slurp(tmp_err, NULL);
	HAS(text, "not built in");
	free(text);
	{
		char *argv[] = {(char *)minetrace(), "--help", NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	text = mt_slurp(tmp_out, NULL);
	HAS(text, "--geoip-dir");
	HAS(text, "not built in");
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("enrich_hits");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	if (!MT_HAVE_MAXMINDDB) {
		tcase_add_test(tc, test_not_built_in);
		suite_add_tcase(s, tc);
		return s;
	}
	tcase_add_test(tc, test_geo_hits);
	tcase_add_test(tc, test_made_dbs_hits);
	tcase_add_test(tc, test_bad_data);
	tcase_add_test(tc, test_sighup_swap);
	tcase_add_test(tc, test_sighup_swap_workers);
	tcase_add_test(tc, test_registry_tool);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	compile_once();
	rc = mt_test_run(suite());
	if (g_reg_dir[0])
		rm_rf(g_reg_dir);
	return rc;
}
