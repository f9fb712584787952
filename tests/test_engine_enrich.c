/*
 * test_engine_enrich.c - the engine's attribution: miner/pool objects in every record, one
 * lookup per flow, a swapped database set used from the next record on (flows looked up again),
 * the old set closable right after the swap, and no objects once attribution is switched off.
 */
#include <stdint.h>

#include "capture/capture.h"
#include "engine/engine.h"
#include "enrich/enrich.h"
#include "mt_run.h"
#include "mt_test.h"

typedef struct mem_sink {
	mt_sink base;
	char *rec[64];
	int n;
} mem_sink;

static int ms_write(mt_sink *s, const char *json, size_t len)
{
	mem_sink *m = (mem_sink *)s;

	if (m->n < 64)
		m->rec[m->n++] = strndup(json, len);
	return 0;
}

static int ms_flush(mt_sink *s)
{
	(void)s;
	return 0;
}

static int ms_close(mt_sink *s)
{
	mem_sink *m = (mem_sink *)s;
	for (int i = 0; i < m->n; i++)
		free(m->rec[i]);
	m->n = 0;
	return 0;
}

static char g_dir[64];

/* The two test registries compiled with the build tree's minetrace-registry; 0 = skip. */
static int registries(void)
{
	static const char *const names[] = {"registry-test.csv", "registry-test-v2.csv"};
	const char *tool = getenv("MT_REGISTRY");
	char *perl[] = {"/usr/bin/perl", "-MMaxMind::DB::Writer::Tree", "-e", "1", NULL};

	if (!tool || mt_run(perl, NULL, NULL) != 0) {
		printf("skipped: no MT_REGISTRY or no Perl MaxMind::DB::Writer::Tree\n");
		return 0;
	}
	snprintf(g_dir, sizeof(g_dir), "/tmp/mt_engenrich_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	for (int i = 0; i < 2; i++) {
		char csv[1024], rel[128], out[128];
		snprintf(rel, sizeof(rel), "tests/geoip/%s", names[i]);
		mt_test_src(rel, csv, sizeof(csv));
		snprintf(out, sizeof(out), "%s/%d.mmdb", g_dir, i + 1);
		char *argv[] = {"/usr/bin/perl", (char *)tool, csv, "-o", out, NULL};
		ck_assert_int_eq(mt_run(argv, NULL, NULL), 0);
	}
	return 1;
}

static void cleanup(void)
{
	char *argv[] = {"/bin/rm", "-rf", g_dir, NULL};
	if (g_dir[0])
		mt_run(argv, NULL, NULL);
}

static mt_enrich *open_reg(int v)
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/%d.mmdb", g_dir, v);
	mt_enrich *e = mt_enrich_open(NULL, NULL, NULL, NULL, path, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

/* Feeds frames to the engine; before frame `at` (1-based) the set becomes `next`. */
typedef struct feed {
	mt_engine *eng;
	int n, at;
	const mt_enrich *next;
	mt_enrich *close_after; /* closed right after the swap: nothing may still use it */
} feed;

static void on_frame(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data,
		     uint32_t cap_len, uint32_t wire_len)
{
	feed *f = ctx;
	if (++f->n == f->at) {
		mt_engine_set_enrich(f->eng, f->next);
		mt_enrich_close(f->close_after);
		f->close_after = NULL;
	}
	mt_engine_frame(f->eng, linktype, ts_us, data, cap_len, wire_len);
}

/* Runs stratum-geo.pcap through an engine that starts with `initial`; returns its lookups. */
static uint64_t run(feed *f, mem_sink *ms, const mt_enrich *initial)
{
	char pcap[1024], err[256];
	mt_engine_cfg cfg;
	mt_detect_reg reg;
	uint64_t lookups;

	mt_engine_cfg_default(&cfg);
	cfg.ndpi = 0;
	ck_assert_int_ge(mt_detect_reg_init(&reg, 1, NULL, NULL), 0);
	f->eng = mt_engine_new(&cfg, &reg);
	ck_assert_ptr_nonnull(f->eng);
	memset(ms, 0, sizeof(*ms));
	ms->base.name = "mem";
	ms->base.write = ms_write;
	ms->base.flush = ms_flush;
	ms->base.close = ms_close;
	mt_engine_add_sink(f->eng, &ms->base);
	mt_engine_set_enrich(f->eng, initial);
	mt_capture *c = mt_capture_open_file(mt_test_src("pcaps/stratum-geo.pcap", pcap, sizeof(pcap)),
					     NULL, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(mt_capture_run(c, on_frame, f, NULL), MT_CAPTURE_EOF);
	mt_capture_close(c);
	mt_engine_flush(f->eng);
	lookups = mt_engine_stats_get(f->eng)->enrich_lookups;
	mt_engine_free(f->eng);
	mt_detect_reg_fini(&reg);
	return lookups;
}

/* The miner object of a record. */
static char *miner(const char *rec)
{
	const char *p = strstr(rec, "\"miner\":{"), *e = p ? strstr(p, ",\"pool\":{") : NULL;
	ck_assert_msg(p && e, "no miner/pool objects: %s", rec);
	return strndup(p, (size_t)(e - p));
}

START_TEST(test_once_per_flow)
{
	mem_sink ms;
	feed f = {0};
	char *a, *b;

	if (!registries())
		return;
	mt_enrich *e = open_reg(1);
	/* four flows, twelve records, four lookups */
	ck_assert_uint_eq(run(&f, &ms, e), 4);
	ck_assert_int_eq(ms.n, 12);
	a = miner(ms.rec[0]);
	b = miner(ms.rec[2]);
	ck_assert_str_eq(a, b); /* the end record reuses the flow's objects */
	ck_assert_ptr_nonnull(strstr(a, "\"verdict\":\"mining_in_data_center\""));
	free(a), free(b);
	a = miner(ms.rec[3]);
	ck_assert_ptr_nonnull(strstr(a, "\"company\":\"长春示例矿业有限公司\""));
	ck_assert_ptr_nonnull(strstr(a, "\"verdict\":\"known_mine\""));
	free(a);
	ms_close(&ms.base);
	mt_enrich_close(e);
	cleanup();
}
END_TEST

START_TEST(test_swap_mid_flow)
{
	mem_sink ms;
	feed f = {0};
	char *a;

	if (!registries())
		return;
	mt_enrich *e1 = open_reg(1), *e2 = open_reg(2);
	/* e1 from the start: swapped for e2 at frame 20 (inside session 1), e1 closed at once */
	f.at = 20;
	f.next = e2;
	f.close_after = e1;
	/* session 1 looked up before and again after the swap, then three flows */
	ck_assert_uint_eq(run(&f, &ms, e1), 5);
	ck_assert_int_eq(ms.n, 12);
	a = miner(ms.rec[3]);
	ck_assert_ptr_nonnull(strstr(a, "\"company\":\"长春新矿业集团有限公司\""));
	free(a);
	ms_close(&ms.base);
	mt_enrich_close(e2);
	cleanup();
}
END_TEST

START_TEST(test_switched_off)
{
	mem_sink ms;
	feed f = {0};

	if (!registries())
		return;
	mt_enrich *e = open_reg(1);
	/* on from frame 1, off from frame 34 (session 2 on): no objects there, no lookups */
	f.at = 34;
	f.next = NULL;
	ck_assert_uint_eq(run(&f, &ms, e), 1);
	ck_assert_int_eq(ms.n, 12);
	ck_assert_ptr_nonnull(strstr(ms.rec[0], "\"miner\":{"));
	for (int i = 3; i < 12; i++)
		ck_assert_msg(strstr(ms.rec[i], "\"miner\"") == NULL, "%s", ms.rec[i]);
	ms_close(&ms.base);
	mt_enrich_close(e);
	cleanup();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("engine_enrich");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_once_per_flow);
	tcase_add_test(tc, test_swap_mid_flow);
	tcase_add_test(tc, test_switched_off);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
