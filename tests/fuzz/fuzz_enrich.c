/* fuzz_enrich.c - fuzz target: a MaxMind DB file opened and looked up through src/enrich (mt_enrich_open, _lookup, _json). */
/*
 * The input is the .mmdb file (MaxMind DB format 2.0,
 * https://maxmind.github.io/MaxMind-DB/): written to a memfd and opened by
 * path as each of the four databases in turn (city, asn, isp, registry), as
 * `--geoip-city FILE` etc. do. The open must succeed for at most the one slot
 * its metadata's database_type names, and fail with a message naming the
 * file otherwise. An opened database is looked up at fixed addresses (the
 * networks of geoip/make-test-dbs and of MaxMind's test data, the edges of
 * both address families) and at the address in the input's last 16 bytes
 * (so mutations can steer the tree walk).
 *
 * Checks: every string of a result is NUL-terminated inside its field; the
 * verdict is one of the documented words; the JSON written
 * by mt_enrich_json parses as one JSON object (mt_json_parse).
 *
 * libmaxminddb itself is a system library without ASan instrumentation:
 * reads it makes past the mapping show up as crashes, not as ASan reports.
 */
#include "fuzz.h"

#include "enrich/enrich.h"
#include "util/json.h"
#include "util/jw.h"

static mt_fuzz_file g_file;

/*
 * libmaxminddb 1.7.1 (Debian 12) leaks the entry-data pool of the metadata
 * description when MMDB_open fails on it (regress/enrich/leak-libmaxminddb-*;
 * fixed upstream by maxmind/libmaxminddb pull 356, 2024). Nothing of ours can
 * free it, and minetrace exits after a failed open, so LeakSanitizer is told
 * to ignore leaks whose stack is in that library (its frames carry no
 * symbols); our own open/close pairing is checked by test_enrich_enrich under
 * ASan and by valgrind.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

static const uint8_t g_addrs[][17] = {
	/* ipver, address */
	{4, 203, 0, 113, 5}, {4, 198, 51, 100, 7}, {4, 10, 20, 1, 1}, {4, 81, 2, 69, 142},
	{4, 89, 160, 20, 130}, {4, 1, 128, 0, 1}, {4, 0, 0, 0, 0}, {4, 255, 255, 255, 255},
	{6, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	{6, 0}, {6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	{6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 5},
};

#define FIELD_OK(f) MT_FUZZ_CHECK(mt_fuzz_cstr_ok((f), sizeof(f)))

static void check_result(const mt_enrich_result *r)
{
	FIELD_OK(r->geo.country);
	FIELD_OK(r->geo.country_name);
	FIELD_OK(r->geo.subdivision);
	FIELD_OK(r->geo.subdivision_name);
	FIELD_OK(r->geo.city);
	FIELD_OK(r->geo.city_zh);
	FIELD_OK(r->asn.org);
	FIELD_OK(r->isp.isp);
	FIELD_OK(r->isp.organization);
	FIELD_OK(r->ent.company);
	FIELD_OK(r->ent.credit_code);
	FIELD_OK(r->ent.registered_address);
	FIELD_OK(r->ent.site_address);
	FIELD_OK(r->ent.kind);
	FIELD_OK(r->ent.park);
	FIELD_OK(r->verdict);
	MT_FUZZ_CHECK(r->verdict[0] == '\0' || strcmp(r->verdict, "mining_in_data_center") == 0 ||
		      strcmp(r->verdict, "known_mine") == 0);
	if (r->verdict[0])
		MT_FUZZ_CHECK(r->has_ent);
	if (!r->has_geo)
		MT_FUZZ_CHECK(r->geo.country[0] == '\0' && r->geo.city[0] == '\0');
}

static void check_json(const mt_enrich_result *r, int with_verdict)
{
	static mt_json_tok toks[256];
	mt_jw w;
	int n;

	mt_jw_init(&w);
	mt_enrich_json(&w, NULL, "192.0.2.1", r, with_verdict);
	MT_FUZZ_CHECK(!w.err);
	n = mt_json_parse((const uint8_t *)w.buf, w.len, toks, 256, 8);
	if (n < 0)
		fprintf(stderr, "fuzz_enrich: not JSON (%d): %.*s\n", n, (int)w.len, w.buf);
	MT_FUZZ_CHECK(n > 0 && toks[0].type == MT_JSON_OBJECT);
	mt_jw_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	int k, opened = 0;

	if (size > 1u << 20)
		return 0;
	mt_fuzz_file_write(&g_file, data, size);
	for (k = 0; k < 4; k++) {
		const char *slot[4] = {NULL, NULL, NULL, NULL};
		mt_enrich *e;
		mt_enrich_result r;
		size_t i;

		slot[k] = g_file.path;
		memset(err, 0x5a, sizeof(err));
		e = mt_enrich_open(NULL, slot[0], slot[1], slot[2], slot[3], err, sizeof(err));
		MT_FUZZ_CHECK(mt_fuzz_cstr_ok(err, sizeof(err)));
		if (!e) {
			/* the message names the file */
			MT_FUZZ_CHECK(strncmp(err, g_file.path, strlen(g_file.path)) == 0);
			continue;
		}
		opened++;
		MT_FUZZ_CHECK(mt_enrich_loaded(e) == 1u << k);
		for (i = 0; i <= sizeof(g_addrs) / sizeof(g_addrs[0]); i++) {
			uint8_t a[16] = {0};
			int ver;

			if (i < sizeof(g_addrs) / sizeof(g_addrs[0])) {
				ver = g_addrs[i][0];
				memcpy(a, g_addrs[i] + 1, 16);
			} else {
				if (size < 17)
					break;
				ver = (data[size - 17] & 1) ? 6 : 4;
				memcpy(a, data + size - 16, 16);
			}
			memset(&r, 0x5a, sizeof(r));
			MT_FUZZ_CHECK(mt_enrich_lookup(e, ver, a, &r) == 0);
			check_result(&r);
			check_json(&r, (int)(i & 1));
		}
		MT_FUZZ_CHECK(mt_enrich_lookup(e, 5, g_addrs[0] + 1, &r) < 0);
		mt_enrich_close(e);
	}
	/* database_type names one slot at most */
	MT_FUZZ_CHECK(opened <= 1);
	return 0;
}
