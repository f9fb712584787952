/* test_enrich_enrich.c - Check suite for the MaxMind DB enrichment (shared test dbs, bad data). */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <maxminddb.h>

#include "enrich/enrich.h"

/* MaxMind's test databases: ../shared/geoip beside the source tree, when it exists. */
static char g_shared[512];

static void find_shared(void)
{
	const char *root = getenv("MT_SOURCE_ROOT");
	snprintf(g_shared, sizeof g_shared, "%s/../shared/geoip", root && root[0] ? root : ".");
	if (access(g_shared, R_OK | X_OK) != 0)
		g_shared[0] = 0;
}

/* g_shared/name (four rotating buffers, so one call can name several files). */
static const char *sh(const char *name)
{
	static char buf[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", g_shared, name);
	return buf[i];
}

static int have(const char *name)
{
	if (g_shared[0] && access(sh(name), R_OK) == 0)
		return 1;
	printf("skipped: no %s in ../shared/geoip\n", name);
	return 0;
}

START_TEST(test_city_asn_isp)
{
	if (!have("GeoLite2-City-Test.mmdb"))
		return;
	char err[512];
	mt_enrich *e = mt_enrich_open(NULL, sh("GeoLite2-City-Test.mmdb"),
				      sh("GeoLite2-ASN-Test.mmdb"),
				      sh("GeoIP2-ISP-Test.mmdb"), NULL, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	ck_assert_uint_eq(mt_enrich_loaded(e), 7u);
	mt_enrich_result r;
	uint8_t a[16] = { 81, 2, 69, 142 };
	ck_assert_int_eq(mt_enrich_lookup(e, 4, a, &r), 0);
	ck_assert(r.has_geo);
	ck_assert_str_eq(r.geo.country, "GB");
	ck_assert_str_eq(r.geo.city, "London");
	ck_assert_str_eq(r.verdict, "");
	uint8_t b[16] = { 1, 128, 0, 1 };
	ck_assert_int_eq(mt_enrich_lookup(e, 4, b, &r), 0);
	ck_assert(r.has_asn);
	ck_assert_uint_eq(r.asn.number, 1221);
	ck_assert_str_eq(r.asn.org, "Telstra Pty Ltd");
	ck_assert_str_eq(r.isp.isp, "Telstra Internet");
	/* not in any db */
	uint8_t c[16] = { 10, 0, 0, 1 };
	ck_assert_int_eq(mt_enrich_lookup(e, 4, c, &r), 0);
	ck_assert(!r.has_geo && !r.has_asn);
	ck_assert_int_eq(mt_enrich_lookup(e, 5, c, &r), -22);

	mt_jw w;
	mt_jw_init(&w);
	mt_enrich_lookup(e, 4, a, &r);
	mt_enrich_json(&w, NULL, "81.2.69.142", &r, 1);
	ck_assert(!w.err);
	ck_assert_msg(memmem(w.buf, w.len, "\"city\":\"London\"", 15) != NULL, "%.*s",
		      (int)w.len, w.buf);
	mt_jw_free(&w);

	/* benchmark: printed figure */
	struct timespec t0, t1;
	enum { N = 200000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		a[3] = (uint8_t)i;
		mt_enrich_lookup(e, 4, a, &r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / N;
	printf("uncached lookup of one address (city+asn+isp): %.0f ns wall clock; build/tests/enrich-bench measures hits\n", ns);
	mt_enrich_close(e);
}
END_TEST

START_TEST(test_dir_typed_by_metadata)
{
	if (!have("GeoLite2-City-Test.mmdb"))
		return;
	char dir[] = "/tmp/mt-enrich-XXXXXX";
	ck_assert(mkdtemp(dir) != NULL);
	char cmd[512];
	/* misleading names: the city db named ASN and the ASN db named City */
	snprintf(cmd, sizeof cmd,
		 "cp %s %s/GeoLite2-ASN.mmdb && cp %s %s/GeoLite2-City.mmdb",
		 sh("GeoLite2-City-Test.mmdb"), dir, sh("GeoLite2-ASN-Test.mmdb"), dir);
	ck_assert_int_eq(system(cmd), 0);
	char err[512];
	mt_enrich *e = mt_enrich_open(dir, NULL, NULL, NULL, NULL, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	ck_assert_uint_eq(mt_enrich_loaded(e), 3u);
	ck_assert(strstr(err, "registry") != NULL); /* the one warning */
	mt_enrich_result r;
	uint8_t a[16] = { 81, 2, 69, 142 };
	mt_enrich_lookup(e, 4, a, &r);
	ck_assert_str_eq(r.geo.city, "London");
	mt_enrich_close(e);
	/* wrong type given per file is refused, naming the file */
	e = mt_enrich_open(NULL, NULL, sh("GeoLite2-City-Test.mmdb"), NULL, NULL, err,
			   sizeof err);
	ck_assert(e == NULL);
	ck_assert(strstr(err, "GeoLite2-City-Test.mmdb") != NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_bad_data)
{
	DIR *d = opendir(sh("bad-data"));
	if (!d)
		return;
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[1024], err[512];
		snprintf(path, sizeof path, "%s/bad-data/%s", g_shared, de->d_name);
		for (int k = 0; k < 4; k++) {
			const char *f[4] = { NULL, NULL, NULL, NULL };
			f[k] = path;
			mt_enrich *e = mt_enrich_open(NULL, f[0], f[1], f[2], f[3], err, sizeof err);
			if (!e) {
				ck_assert_msg(strstr(err, de->d_name) != NULL, "%s", err);
				continue;
			}
			mt_enrich_result r;
			uint8_t a[16] = { 0 };
			for (int i = 0; i < 4096; i++) {
				a[0] = (uint8_t)(i * 37);
				a[1] = (uint8_t)i;
				mt_enrich_lookup(e, 4, a, &r);
				mt_enrich_lookup(e, 6, a, &r);
			}
			mt_enrich_close(e);
		}
		/* files that open whatever their type: lookups and a full data walk */
		MMDB_s db;
		if (MMDB_open(path, MMDB_MODE_MMAP, &db) == MMDB_SUCCESS) {
			int gai, mmerr;
			MMDB_lookup_result_s lr = MMDB_lookup_string(&db, "1.2.3.4", &gai, &mmerr);
			if (mmerr == MMDB_SUCCESS && lr.found_entry) {
				MMDB_entry_data_list_s *list = NULL;
				if (MMDB_get_entry_data_list(&lr.entry, &list) == MMDB_SUCCESS)
					MMDB_free_entry_data_list(list);
				else
					MMDB_free_entry_data_list(list);
			}
			MMDB_close(&db);
		}
		n++;
	}
	closedir(d);
	ck_assert_int_gt(n, 0);
}
END_TEST


/* geoip/ of the source tree: $MT_SOURCE_ROOT/geoip under meson, ./geoip otherwise. */
static const char *geoip_src(void)
{
	static char buf[512];
	const char *root = getenv("MT_SOURCE_ROOT");
	snprintf(buf, sizeof buf, "%s/geoip", root && root[0] ? root : ".");
	return buf;
}

/* make-test-dbs runs once (main); each test gets its own copy. "" when the Perl writer is missing. */
static char g_made[64];

static void make_once(void)
{
	char cmd[2048];
	snprintf(g_made, sizeof g_made, "/tmp/mt-enrich-made-XXXXXX");
	if (!mkdtemp(g_made)) {
		g_made[0] = 0;
		return;
	}
	snprintf(cmd, sizeof cmd, "perl %s/make-test-dbs %s 2>/dev/null", geoip_src(), g_made);
	int rc = system(cmd);
	if (rc != 0) {
		snprintf(cmd, sizeof cmd, "rm -rf %s", g_made);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", g_made);
		g_made[0] = 0;
		if (!(WIFEXITED(rc) && WEXITSTATUS(rc) == 77))
			snprintf(g_made, sizeof g_made, "failed");
	}
}

/* A temp dir holding the test databases; returns 0 to skip when the Perl writer is missing. */
static int make_dbs(char *dir)
{
	char cmd[2048];
	ck_assert_msg(strcmp(g_made, "failed") != 0, "make-test-dbs failed");
	if (!g_made[0]) {
		printf("skipped: Perl MaxMind::DB::Writer::Tree is missing\n");
		return 0;
	}
	ck_assert(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof cmd, "cp %s/*.mmdb %s/", g_made, dir);
	ck_assert_int_eq(system(cmd), 0);
	return 1;
}

START_TEST(test_made_dbs)
{
	char dir[] = "/tmp/mt-enrich-XXXXXX", err[512];
	if (!make_dbs(dir))
		return;
	mt_enrich *e = mt_enrich_open(dir, NULL, NULL, NULL, NULL, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	ck_assert_uint_eq(mt_enrich_loaded(e), 11u);
	mt_enrich_result r;
	uint8_t a[16] = { 203, 0, 113, 9 };
	ck_assert_int_eq(mt_enrich_lookup(e, 4, a, &r), 0);
	ck_assert_str_eq(r.geo.country, "CN");
	ck_assert_str_eq(r.geo.city, "Hangzhou");
	ck_assert_str_eq(r.geo.city_zh, "杭州");
	ck_assert_str_eq(r.geo.subdivision, "ZJ");
	ck_assert_uint_eq(r.asn.number, 64500);
	ck_assert(strstr(r.ent.company, "杭州示例云计算有限公司") != NULL);
	ck_assert_str_eq(r.ent.credit_code, "91330100MA2B3C4D5N");
	ck_assert_str_eq(r.verdict, "mining_in_data_center");
	uint8_t b[16] = { 198, 51, 100, 3 };
	mt_enrich_lookup(e, 4, b, &r);
	ck_assert_str_eq(r.geo.city_zh, "深圳");
	ck_assert_str_eq(r.verdict, "known_mine");
	ck_assert_str_eq(r.ent.site_address, "深圳样本矿场 \"B\" 区");
	uint8_t c[16] = { 10, 20, 3, 4 }; /* private range kept */
	mt_enrich_lookup(e, 4, c, &r);
	ck_assert_str_eq(r.ent.kind, "enterprise");
	ck_assert_str_eq(r.verdict, "");
	uint8_t d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 };
	mt_enrich_lookup(e, 6, d, &r);
	ck_assert_str_eq(r.verdict, "mining_in_data_center");
	ck_assert_str_eq(r.ent.kind, "idc");
	mt_enrich_close(e);
	/* a Country database alone gives the country, no city */
	char path[128];
	snprintf(path, sizeof path, "%s/a-country-test.mmdb", dir);
	e = mt_enrich_open(NULL, path, NULL, NULL, NULL, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	uint8_t g[16] = { 192, 0, 2, 10 };
	mt_enrich_lookup(e, 4, g, &r);
	ck_assert(r.has_geo);
	ck_assert_str_eq(r.geo.country, "SG");
	ck_assert_str_eq(r.geo.country_name, "Singapore");
	ck_assert_str_eq(r.geo.city, "");
	ck_assert(!r.geo.has_location);
	mt_enrich_close(e);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The cached writer (the engine's path) writes exactly what lookup + json write, cold and warm. */
static void same_output(const mt_enrich *e, mt_enrich_cache *c, int ipver, const uint8_t *a)
{
	mt_enrich_result r;
	mt_jw w1, w2;
	char ip[64];

	mt_jw_init(&w1);
	mt_jw_init(&w2);
	inet_ntop(ipver == 4 ? AF_INET : AF_INET6, a, ip, sizeof ip);
	for (int v = 0; v < 2; v++) {
		mt_jw_reset(&w1);
		mt_jw_reset(&w2);
		ck_assert_int_eq(mt_enrich_lookup(e, ipver, a, &r), 0);
		mt_enrich_json(&w1, NULL, ip, &r, v);
		ck_assert_int_eq(mt_enrich_write(e, c, &w2, ipver, a, ip, v), 0);
		ck_assert_msg(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0,
			      "%s: %.*s\n!= %.*s", ip, (int)w1.len, w1.buf, (int)w2.len, w2.buf);
	}
	mt_jw_free(&w1);
	mt_jw_free(&w2);
}

static void same_output_many(const mt_enrich *e, unsigned slots)
{
	static const uint8_t known[][4] = { { 89, 160, 20, 130 }, { 81, 2, 69, 142 },
		{ 175, 16, 199, 7 }, { 216, 160, 83, 57 }, { 214, 78, 0, 1 }, { 203, 0, 113, 9 },
		{ 198, 51, 100, 3 }, { 10, 20, 3, 4 }, { 1, 128, 0, 1 }, { 8, 8, 8, 8 } };
	mt_enrich_cache *c = mt_enrich_cache_new(slots);
	ck_assert(c != NULL);
	/* three rounds: cold, from the address cache, and after evictions by the spread */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
			uint8_t a[16] = { 0 };
			memcpy(a, known[i], 4);
			same_output(e, c, 4, a);
		}
		for (int i = 0; i < 3000; i++) {
			uint8_t a[16] = { 0 };
			a[0] = (uint8_t)(i * 37 + round), a[1] = (uint8_t)(i * 11), a[2] = (uint8_t)i;
			a[3] = (uint8_t)(i >> 3);
			if (i % 3 == 0)
				a[0] = 214, a[1] = 78, a[2] = (uint8_t)(i & 31);
			same_output(e, c, 4, a);
			uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, (uint8_t)(i & 1), (uint8_t)i };
			b[15] = (uint8_t)(i * 7);
			same_output(e, c, 6, b);
		}
		if (round == 1)
			mt_enrich_cache_clear(c);
	}
	mt_enrich_cache_free(c);
	mt_enrich_cache_free(NULL);
}

START_TEST(test_cache_same_output)
{
	char dir[] = "/tmp/mt-enrich-XXXXXX", err[512];
	if (have("GeoLite2-City-Test.mmdb")) {
		mt_enrich *e = mt_enrich_open(NULL, sh("GeoLite2-City-Test.mmdb"),
					      sh("GeoLite2-ASN-Test.mmdb"), sh("GeoIP2-ISP-Test.mmdb"),
					      NULL, err, sizeof err);
		ck_assert_msg(e != NULL, "%s", err);
		same_output_many(e, MT_ENRICH_CACHE_SLOTS);
		same_output_many(e, 16); /* tiny: every record evicts another */
		mt_enrich_close(e);
	}
	if (!make_dbs(dir))
		return;
	mt_enrich *e = mt_enrich_open(dir, NULL, NULL, NULL, NULL, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	same_output_many(e, 64);
	mt_enrich_close(e);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A valid database cut at every length: refused or answering, never a crash. */
START_TEST(test_truncated_dbs)
{
	char dir[] = "/tmp/mt-enrich-XXXXXX", err[512], path[256], cut[256];
	static const char *const files[] = { "city-test.mmdb", "asn-test.mmdb", "registry-test.mmdb" };
	if (!make_dbs(dir))
		return;
	snprintf(cut, sizeof cut, "%s/cut.mmdb", dir);
	for (int f = 0; f < 3; f++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[f]);
		FILE *fp = fopen(path, "rb");
		ck_assert(fp != NULL);
		static char buf[1 << 16];
		size_t n = fread(buf, 1, sizeof buf, fp);
		fclose(fp);
		ck_assert_uint_gt(n, 100);
		int opened = 0;
		for (size_t len = 0; len < n; len++) {
			fp = fopen(cut, "wb");
			fwrite(buf, 1, len, fp);
			fclose(fp);
			const char *arg[4] = { NULL, NULL, NULL, NULL };
			arg[f == 2 ? 3 : f] = cut;
			mt_enrich *e = mt_enrich_open(NULL, arg[0], arg[1], arg[2], arg[3], err, sizeof err);
			if (!e) {
				ck_assert_msg(strstr(err, cut) != NULL, "%s", err);
				continue;
			}
			opened++;
			mt_enrich_cache *c = mt_enrich_cache_new(16);
			mt_jw w;
			mt_jw_init(&w);
			uint8_t a[16] = { 203, 0, 113, 9 }, b[16] = { 198, 51, 100, 3 };
			mt_enrich_write(e, c, &w, 4, a, "a", 1);
			mt_enrich_write(e, c, &w, 4, b, "b", 1);
			mt_jw_free(&w);
			mt_enrich_cache_free(c);
			mt_enrich_close(e);
		}
		ck_assert_int_eq(opened, 0); /* the metadata sits at the end: no prefix is a database */
	}
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static const char HDR[] = "network,company,credit_code,registered_address,site_address,"
			  "latitude,longitude,kind,park,notes\n";

START_TEST(test_registry_errors)
{
	static const struct { const char *row, *want; } bad[] = {
		{ "203.0.113.300/24,A,91330100MA2B3C4D5N,x,y,30,120,idc,,\n", "bad CIDR" },
		{ "203.0.114.0/24,A,91330100MA2B3C4D5M,x,y,30,120,idc,,\n", "credit_code" },
		{ "203.0.115.0/24,A,91330100MA2B3C4D5N,x,y,30,120,farm,,\n", "bad kind" },
		{ "203.0.116.0/24,A\xff\xfe,91330100MA2B3C4D5N,x,y,30,120,idc,,\n", "UTF-8" },
		{ "203.0.117.0/24,A,91330100MA2B3C4D5N,x,y,30,120,idc\n", "columns" },
		{ "203.0.118.0/24,,91330100MA2B3C4D5N,x,y,30,120,idc,,\n", "empty company" },
		{ "203.0.119.0/24,A,91330100MA2B3C4D5N,x,y,91,120,idc,,\n", "bad latitude" },
		{ "203.0.120.0/24,\"A\n", "unterminated" },
	};
	char dir[] = "/tmp/mt-reg-XXXXXX", path[128], cmd[2048], out[4096], loc[200];
	if (!g_made[0]) {
		printf("skipped: Perl MaxMind::DB::Writer::Tree is missing\n");
		return;
	}
	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/in.csv", dir);
	FILE *f = fopen(path, "w");
	ck_assert(f != NULL);
	fputs(HDR, f);
	fputs("203.0.113.0/24,A,91330100MA2B3C4D5N,x,y,30,120,idc,,\n", f);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		fputs(bad[i].row, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "perl %s/minetrace-registry %s -o %s/o.mmdb 2>&1; echo rc=$?",
		 geoip_src(), path, dir);
	FILE *p = popen(cmd, "r");
	ck_assert(p != NULL);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	pclose(p);
	ck_assert_msg(strstr(out, "rc=1") != NULL, "%s", out);
	/* every bad row reported, each as file:line: reason, in one run */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(loc, sizeof loc, "%s:%zu: ", path, i + 3);
		char *l = strstr(out, loc);
		ck_assert_msg(l != NULL, "no error for line %zu: %s", i + 3, out);
		char *eol = strchr(l, '\n');
		ck_assert(eol != NULL);
		*eol = 0;
		ck_assert_msg(strstr(l, bad[i].want) != NULL, "line %zu: %s", i + 3, l);
		*eol = '\n';
	}
	snprintf(loc, sizeof loc, "%s/o.mmdb", dir);
	ck_assert_int_ne(access(loc, F_OK), 0); /* nothing written on error */
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A field longer than MT_ENRICH_STR is cut at a UTF-8 character boundary, never inside one. */
START_TEST(test_long_field)
{
	char dir[] = "/tmp/mt-reg-XXXXXX", path[128], mmdb[128], cmd[1024], err[512];
	if (!g_made[0]) {
		printf("skipped: Perl MaxMind::DB::Writer::Tree is missing\n");
		return;
	}
	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/in.csv", dir);
	snprintf(mmdb, sizeof mmdb, "%s/r.mmdb", dir);
	FILE *f = fopen(path, "w");
	ck_assert(f != NULL);
	fputs(HDR, f);
	fputs("203.0.113.0/24,", f);
	for (int i = 0; i < 100; i++)
		fputs("矿", f); /* 300 bytes */
	fputs(",91330100MA2B3C4D5N,x,y,30,120,mine,,\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "perl %s/minetrace-registry %s -o %s", geoip_src(), path, mmdb);
	ck_assert_int_eq(system(cmd), 0);
	mt_enrich *e = mt_enrich_open(NULL, NULL, NULL, NULL, mmdb, err, sizeof err);
	ck_assert_msg(e != NULL, "%s", err);
	mt_enrich_result r;
	uint8_t a[16] = { 203, 0, 113, 1 };
	ck_assert_int_eq(mt_enrich_lookup(e, 4, a, &r), 0);
	size_t n = strlen(r.ent.company);
	ck_assert_uint_le(n, MT_ENRICH_STR - 1);
	ck_assert_uint_ge(n, MT_ENRICH_STR - 3);
	ck_assert_uint_eq(n % 3, 0);
	ck_assert(memcmp(r.ent.company, "矿矿矿", 9) == 0);
	ck_assert_str_eq(r.verdict, "known_mine");
	mt_enrich_close(e);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_missing)
{
	char err[256];
	mt_enrich *e = mt_enrich_open(NULL, "/nonexistent/x.mmdb", NULL, NULL, NULL, err,
				      sizeof err);
	ck_assert(e == NULL);
	ck_assert(strstr(err, "/nonexistent/x.mmdb") != NULL);
	e = mt_enrich_open(NULL, NULL, NULL, NULL, NULL, err, sizeof err);
	ck_assert(e != NULL);
	ck_assert_uint_eq(mt_enrich_loaded(e), 0u);
	mt_enrich_close(e);
	mt_enrich_close(NULL);
}
END_TEST

int main(void)
{
	find_shared();
	make_once();
	Suite *s = suite_create("enrich");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_city_asn_isp);
	tcase_add_test(tc, test_dir_typed_by_metadata);
	tcase_add_test(tc, test_bad_data);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_made_dbs);
	tcase_add_test(tc, test_registry_errors);
	tcase_add_test(tc, test_cache_same_output);
	tcase_add_test(tc, test_truncated_dbs);
	tcase_add_test(tc, test_long_field);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (g_made[0] == '/') {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", g_made);
		nf += system(cmd) != 0;
	}
	return nf ? 1 : 0;
}
