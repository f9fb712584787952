/* test_evidence_estimate.c - the hash-rate estimator: its statistics, its tables, and captures of known rate. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/estimate.h"
#include "util/json.h"
#include "mt_run.h"
#include "mt_test.h"

#define NTOK 4096

static int near(double a, double b, double rel)
{
	return fabs(a - b) <= rel * fabs(b);
}

START_TEST(gamma_quantiles_match_chi_square_tables)
{
	/* chi-square quantiles (NIST/SEMATECH e-Handbook table 1.3.6.7.4): chi2_p(k) = 2 Gamma^-1(p; k/2) */
	ck_assert(near(2 * mt_estimate_gamma_quantile(1, 0.025), 0.0506, 1e-3));
	ck_assert(near(2 * mt_estimate_gamma_quantile(1, 0.975), 7.378, 1e-3));
	ck_assert(near(2 * mt_estimate_gamma_quantile(5, 0.975), 20.483, 1e-4));
	ck_assert(near(2 * mt_estimate_gamma_quantile(5, 0.025), 3.247, 1e-3));
	ck_assert(near(2 * mt_estimate_gamma_quantile(50, 0.95), 124.342, 1e-4));
	ck_assert(near(2 * mt_estimate_gamma_quantile(0.5, 0.95), 3.841, 1e-3));
	ck_assert(mt_estimate_gamma_quantile(0, 0.5) == 0);
	ck_assert(mt_estimate_gamma_quantile(3, 1) == 0);
}
END_TEST

START_TEST(garwood_bounds)
{
	double lo, hi;

	/* Garwood (1936) exact 95% limits for a Poisson count */
	mt_estimate_poisson_bounds(0, 0.95, &lo, &hi);
	ck_assert(lo == 0 && near(hi, 3.689, 1e-3));
	mt_estimate_poisson_bounds(10, 0.95, &lo, &hi);
	ck_assert(near(lo, 4.795, 1e-3) && near(hi, 18.390, 1e-3));
	mt_estimate_poisson_bounds(1000, 0.95, &lo, &hi);
	/* for large N the normal approximation N -/+ 1.96 sqrt(N) is within a share or two */
	ck_assert(fabs(lo - (1000 - 1.96 * sqrt(1000))) < 2 && fabs(hi - (1000 + 1.96 * sqrt(1000))) < 3);
}
END_TEST

START_TEST(tables_are_ordered_and_named)
{
	int n = 0;

	for (const mt_estimate_eff *e = mt_estimate_effs; e->algo; e++, n++)
		ck_assert(e->j_per_h[0] > 0 && e->j_per_h[0] <= e->j_per_h[1] && e->j_per_h[1] <= e->j_per_h[2]);
	ck_assert_int_ge(n, 8);
	ck_assert(mt_estimate_find_algo("sha256d")->hashes_per_diff1 == 0x1p32);
	ck_assert(mt_estimate_find_algo("scrypt")->hashes_per_diff1 == 0x1p16);
	/* KawPow pools (Miningcore RavencoinConstants) count difficulty 1 as target 0xff << 216: 2^40/255 hashes */
	ck_assert(fabs(mt_estimate_find_algo("kawpow")->hashes_per_diff1 - 0x1p40 / 255) < 1e-3);
	/* an S19 at 34 J/TH */
	ck_assert(near(mt_estimate_find_eff("sha256d")->j_per_h[1], 34e-12, 1e-9));
	ck_assert_ptr_null(mt_estimate_find_algo("no-such-algo"));
}
END_TEST

START_TEST(algo_names)
{
	char b[32];

	mt_estimate_algo_name("rx/0", b, sizeof b);
	ck_assert_str_eq(b, "randomx");
	mt_estimate_algo_name("RandomX", b, sizeof b);
	ck_assert_str_eq(b, "randomx");
	mt_estimate_algo_name("cn/r", b, sizeof b);
	ck_assert_str_eq(b, "cryptonight");
	mt_estimate_algo_name("SHA256d", b, sizeof b);
	ck_assert_str_eq(b, "sha256d");
	mt_estimate_algo_name(NULL, b, sizeof b);
	ck_assert_str_eq(b, "");
	mt_estimate_algo_name("equihash", b, 4);
	ck_assert_str_eq(b, "equ");
}
END_TEST

static mt_evidence ev_with(const char *proto, const char *algo)
{
	mt_evidence ev;

	memset(&ev, 0, sizeof ev);
	ev.event = MT_EVENT_MINING;
	snprintf(ev.protocol, sizeof ev.protocol, "%s", proto);
	snprintf(ev.algo, sizeof ev.algo, "%s", algo);
	return ev;
}

START_TEST(stratum_sum_of_difficulties)
{
	mt_evidence ev = ev_with("stratum", "sha256d");
	mt_estimate e;
	uint64_t t0 = 1700000000000000ull;

	mt_ev_work(&ev, t0);
	for (int i = 1; i <= 100; i++) {
		ev.shares++;
		mt_ev_share(&ev, t0 + (uint64_t)i * 10000000u, i <= 50 ? 1024 : 2048, 0);
	}
	ck_assert_int_eq(mt_estimate_flow(&ev, t0 - 5000000, t0 + 2000000000ull, &e), 1);
	ck_assert_str_eq(e.basis, "share_difficulty");
	ck_assert(near(e.elapsed_s, 1000, 1e-12));
	/* (50 x 1024 + 50 x 2048) x 2^32 / 1000 s */
	ck_assert(near(e.hashrate_hs, (50 * 1024.0 + 50 * 2048.0) * 0x1p32 / 1000, 1e-12));
	ck_assert(e.hashrate_low_hs < e.hashrate_hs && e.hashrate_hs < e.hashrate_high_hs);
	/* relative half-width about 1.96 / sqrt(100) */
	ck_assert(fabs(e.hashrate_high_hs / e.hashrate_hs - 1 - 0.2) < 0.03);
	ck_assert(near(e.share_rate_per_min, 6, 1e-12));
	ck_assert(e.has_power);
	ck_assert(near(e.power_w[1], e.hashrate_hs * 34e-12, 1e-9));
	ck_assert(near(e.energy_kwh_day[2], e.power_w[2] * 24 / 1000, 1e-12));
	ck_assert(e.power_w[0] < e.power_w[1] && e.power_w[1] < e.power_w[2]);
}
END_TEST

/* xorshift64*: a fixed, portable stream of uniforms for the simulation below */
static double uniform(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return (double)((*x * 0x2545F4914F6CDD1Dull) >> 11) / 0x1p53;
}

/*
 * Coverage: 4000 simulated Stratum sessions of 5 to 60 shares at Poisson times for a known
 * rate; the stated 95% interval must hold the truth about 95% of the time (Garwood's bounds are
 * conservative: at least 95%, at most a little above).
 */
START_TEST(interval_coverage_by_simulation)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	const double truth = 5e12, diff = 65536, lambda = truth / (diff * 0x1p32);
	int inside = 0, trials = 4000;

	for (int k = 0; k < trials; k++) {
		mt_evidence ev = ev_with("stratum", "sha256d");
		mt_estimate e;
		double t = 0;
		int n = 5 + (int)(uniform(&seed) * 56);

		mt_ev_work(&ev, 1000000);
		for (int i = 0; i < n; i++) {
			t += -log(1 - uniform(&seed)) / lambda;
			ev.shares++;
			mt_ev_share(&ev, 1000000 + (uint64_t)(t * 1e6), diff, 0);
		}
		ck_assert_int_eq(mt_estimate_flow(&ev, 0, 0, &e), 1);
		inside += e.hashrate_low_hs <= truth && truth <= e.hashrate_high_hs;
	}
	printf("simulated coverage of the 95%% interval: %.2f%% of %d sessions\n", 100.0 * inside / trials, trials);
	ck_assert_int_ge(inside, (int)(0.94 * trials));
	ck_assert_int_le(inside, (int)(0.985 * trials));
}
END_TEST

START_TEST(no_job_seen_starts_at_the_flow)
{
	mt_evidence ev = ev_with("stratum", "scrypt");
	mt_estimate e;

	ev.shares = 1;
	mt_ev_share(&ev, 11000000, 512, 0);
	ck_assert_int_eq(mt_estimate_flow(&ev, 1000000, 20000000, &e), 1);
	ck_assert(near(e.elapsed_s, 10, 1e-12));
	ck_assert(near(e.hashrate_hs, 512 * 65536.0 / 10, 1e-12));
}
END_TEST

START_TEST(self_report_and_rate_only)
{
	mt_evidence ev = ev_with("ethproxy", "ethash");
	mt_estimate e;

	ck_assert_int_eq(mt_estimate_flow(&ev, 0, 1000000, &e), 0); /* nothing to say */
	ev.reported_hashrate_hs = 30.4e6;
	ck_assert_int_eq(mt_estimate_flow(&ev, 0, 1000000, &e), 1);
	ck_assert_str_eq(e.basis, "self_reported");
	ck_assert(e.hashrate_hs == 30.4e6 && e.reported_hashrate_hs == 30.4e6);
	ck_assert(near(e.power_w[1], 30.4e6 * 2.5e-6, 1e-9));

	ev = ev_with("stratum-v2-encrypted", "");
	ev.shares = 30;
	ck_assert_int_eq(mt_estimate_flow(&ev, 1000000, 601000000, &e), 1);
	ck_assert_str_eq(e.basis, "share_rate_only");
	ck_assert(!e.has_rate && !e.has_power);
	ck_assert(near(e.share_rate_per_min, 3, 1e-12));

	/* a pool difficulty for an algorithm without a multiplier: no rate can be given */
	ev = ev_with("stratum", "mystery");
	ev.shares = 2;
	mt_ev_work(&ev, 1);
	mt_ev_share(&ev, 1000000, 8, 0);
	mt_ev_share(&ev, 2000000, 8, 0);
	ck_assert_int_eq(mt_estimate_flow(&ev, 0, 3000000, &e), 1);
	ck_assert_str_eq(e.basis, "share_rate_only");

	ev = ev_with("bitcoin-p2p", "");
	ev.event = MT_EVENT_CRYPTO_P2P;
	ev.shares = 3;
	ck_assert_int_eq(mt_estimate_flow(&ev, 0, 3000000, &e), 0);
}
END_TEST

START_TEST(json_object)
{
	mt_evidence ev = ev_with("cryptonote-stratum", "rx/0");
	mt_estimate e;
	mt_jw w;
	mt_json_tok t[256];
	int n, o;

	ev.shares = 2;
	mt_ev_work(&ev, 1000000);
	mt_ev_share(&ev, 2000000, 100, 1);
	mt_ev_share(&ev, 3000000, 100, 1);
	ck_assert_int_eq(mt_estimate_flow(&ev, 0, 0, &e), 1);
	mt_jw_init(&w);
	mt_jw_reset(&w);
	mt_jw_obj_open(&w);
	mt_estimate_json(&w, &e);
	mt_jw_obj_close(&w);
	ck_assert(!w.err);
	n = mt_json_parse((const uint8_t *)w.buf, w.len, t, 256, 8);
	ck_assert_int_gt(n, 0);
	o = mt_json_get((const uint8_t *)w.buf, t, n, 0, "estimate");
	ck_assert_int_gt(o, 0);
	ck_assert(mt_json_str_eq((const uint8_t *)w.buf, &t[mt_json_get((const uint8_t *)w.buf, t, n, o, "basis")],
				 "cryptonote_target"));
	ck_assert(mt_json_str_eq((const uint8_t *)w.buf, &t[mt_json_get((const uint8_t *)w.buf, t, n, o, "algo")],
				 "randomx"));
	ck_assert_int_gt(mt_json_get((const uint8_t *)w.buf, t, n, o, "hashrate_low_hs"), 0);
	ck_assert_int_gt(mt_json_get((const uint8_t *)w.buf, t, n, mt_json_get((const uint8_t *)w.buf, t, n, o, "power_w"), "best"), 0);
	mt_jw_free(&w);
}
END_TEST

/* ---- captures --------------------------------------------------------------------- */

/* A number at a path of keys in a parsed object (NAN if absent). */
static double num_at(const char *s, const mt_json_tok *t, int n, int obj, const char *k1, const char *k2)
{
	int i = mt_json_get((const uint8_t *)s, t, n, obj, k1);
	double v;

	if (i >= 0 && k2)
		i = mt_json_get((const uint8_t *)s, t, n, i, k2);
	if (i < 0 || mt_json_double((const uint8_t *)s, &t[i], &v) != 0)
		return NAN;
	return v;
}

/*
 * Runs minetrace on a capture and returns (a malloc'd copy) the last record with an estimate
 * whose mining protocol is `proto` (NULL: any); NULL if none.
 */
static char *last_estimate(const char *pcap, const char *proto)
{
	const char *exe = getenv("MT_MINETRACE");
	char outp[] = "/tmp/mt-est-XXXXXX", *buf, *line, *save = NULL, *best = NULL;
	int fd = mkstemp(outp);
	static mt_json_tok t[NTOK];

	ck_assert_msg(exe != NULL, "MT_MINETRACE is not set (run through meson test)");
	ck_assert(fd >= 0);
	close(fd);
	{
		char *argv[] = { (char *)exe, "--no-plugins", "-r", (char *)pcap, "-o", outp, NULL };
		ck_assert_int_eq(mt_run(argv, NULL, NULL), 0);
	}
	buf = mt_slurp(outp, NULL);
	unlink(outp);
	ck_assert_ptr_nonnull(buf);
	for (line = buf; line && *line; line = save) {
		char *nl = strchr(line, '\n');
		int n;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		n = mt_json_parse((const uint8_t *)line, strlen(line), t, NTOK, 16);
		ck_assert_int_gt(n, 0);
		if (proto) {
			int m = mt_json_get((const uint8_t *)line, t, n, 0, "mining");
			int pi = m > 0 ? mt_json_get((const uint8_t *)line, t, n, m, "protocol") : -1;

			if (pi < 0 || !mt_json_str_eq((const uint8_t *)line, &t[pi], proto))
				continue;
		}
		if (mt_json_get((const uint8_t *)line, t, n, 0, "estimate") > 0) {
			free(best);
			best = strdup(line);
		}
	}
	free(buf);
	return best;
}

struct est { double hs, lo, hi, shares, elapsed, reported; };

static struct est parse_est(const char *line)
{
	static mt_json_tok t[NTOK];
	int n = mt_json_parse((const uint8_t *)line, strlen(line), t, NTOK, 16);
	int o = mt_json_get((const uint8_t *)line, t, n, 0, "estimate");
	struct est e;

	ck_assert_int_gt(o, 0);
	e.hs = num_at(line, t, n, o, "hashrate_hs", NULL);
	e.lo = num_at(line, t, n, o, "hashrate_low_hs", NULL);
	e.hi = num_at(line, t, n, o, "hashrate_high_hs", NULL);
	e.shares = num_at(line, t, n, o, "shares", NULL);
	e.elapsed = num_at(line, t, n, o, "elapsed_s", NULL);
	e.reported = num_at(line, t, n, o, "reported_hashrate_hs", NULL);
	return e;
}

static const char *const gen_caps[] = {
	"estimate-stratum.pcap", "estimate-stratum-vardiff.pcap", "estimate-cryptonote.pcap",
	"estimate-cryptonote64.pcap", "estimate-equihash.pcap", "estimate-ethproxy.pcap",
};

START_TEST(generated_sessions_truth_within_interval)
{
	char path[4096], rel[256], *truth, *rec;
	static mt_json_tok t[NTOK];
	const char *name = gen_caps[_i];
	int n, o;
	struct est e;
	double truth_hs, exact, shares;

	truth = mt_slurp(mt_test_src("pcaps/estimate-truth.json", path, sizeof path), NULL);
	ck_assert_ptr_nonnull(truth);
	n = mt_json_parse((const uint8_t *)truth, strlen(truth), t, NTOK, 8);
	ck_assert_int_gt(n, 0);
	o = mt_json_get((const uint8_t *)truth, t, n, 0, name);
	ck_assert_int_gt(o, 0);
	truth_hs = num_at(truth, t, n, o, "truth_hs", NULL);
	exact = num_at(truth, t, n, o, "exact_hs", NULL);
	shares = num_at(truth, t, n, o, "shares", NULL);
	snprintf(rel, sizeof rel, "pcaps/%s", name);
	rec = last_estimate(mt_test_src(rel, path, sizeof path), NULL);
	ck_assert_ptr_nonnull(rec);
	e = parse_est(rec);
	printf("%-30s truth %.6g  estimate %.6g  95%% [%.6g, %.6g]  %g shares over %.1f s\n", name, truth_hs,
	       e.hs, e.lo, e.hi, e.shares, e.elapsed);
	/* what the capture itself says (every share counted, at its difficulty, over the right time) */
	ck_assert_msg(e.shares == shares, "%s: %g shares, want %g", name, e.shares, shares);
	ck_assert_msg(near(e.hs, exact, 1e-6), "%s: estimate %.9g, exact %.9g", name, e.hs, exact);
	/* and the truth behind the Poisson draw lies within the stated interval */
	ck_assert_msg(e.lo <= truth_hs && truth_hs <= e.hi, "%s: truth %g outside [%g, %g]", name, truth_hs, e.lo, e.hi);
	/* a miner's own claim is carried beside the estimate (EthProxy eth_submitHashrate) */
	if (mt_json_get((const uint8_t *)truth, t, n, o, "reported_hs") > 0)
		ck_assert(e.reported == num_at(truth, t, n, o, "reported_hs", NULL));
	free(rec);
	free(truth);
}
END_TEST

static const char *ndpi_cap(char *buf, size_t n)
{
	return mt_test_shared("corpus/mining/ndpi_mining_zec-stratum_xmr-cryptonote_eth-ethproxy.pcapng", buf, n);
}

START_TEST(corpus_cryptonote_flow)
{
	char path[4096], *rec;
	struct est e;

	if (!ndpi_cap(path, sizeof path)) {
		printf("corpus absent: skipped\n");
		return;
	}
	rec = last_estimate(path, "cryptonote-stratum");
	ck_assert_ptr_nonnull(rec);
	e = parse_est(rec);
	printf("corpus CryptoNote: %g shares over %.1f s: %.1f H/s, 95%% [%.1f, %.1f] (issue: about 570 H/s)\n",
	       e.shares, e.elapsed, e.hs, e.lo, e.hi);
	/* 33 submits on the wire, 3 of them TCP retransmissions of the same segment: 30 shares */
	ck_assert(e.shares == 30);
	ck_assert(e.elapsed > 1100 && e.elapsed < 1200);
	/* difficulty 20,000 (target dc460300) each */
	ck_assert(near(e.hs, 30 * 20000.0 / e.elapsed, 1e-3));
	ck_assert(e.lo <= 570 && 570 <= e.hi);
	free(rec);
}
END_TEST

START_TEST(corpus_ethproxy_self_report)
{
	char path[4096], *rec;
	struct est e;

	if (!ndpi_cap(path, sizeof path)) {
		printf("corpus absent: skipped\n");
		return;
	}
	rec = last_estimate(path, "ethproxy");
	ck_assert_ptr_nonnull(rec);
	ck_assert_ptr_nonnull(strstr(rec, "\"protocol\":\"ethproxy\""));
	e = parse_est(rec);
	printf("corpus EthProxy: reported %.4g H/s; from %g share(s): %.4g H/s, 95%% [%.4g, %.4g]\n", e.reported,
	       e.shares, e.hs, e.lo, e.hi);
	/* eth_submitHashrate 0x1d08a61 and its neighbours: about 30.4 MH/s */
	ck_assert(fabs(e.reported - 30.4e6) < 0.1e6);
	/* the share-based interval agrees with what the miner claims */
	ck_assert(e.lo <= e.reported && e.reported <= e.hi);
	free(rec);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("evidence_estimate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, gamma_quantiles_match_chi_square_tables);
	tcase_add_test(tc, garwood_bounds);
	tcase_add_test(tc, tables_are_ordered_and_named);
	tcase_add_test(tc, algo_names);
	tcase_add_test(tc, stratum_sum_of_difficulties);
	tcase_add_test(tc, interval_coverage_by_simulation);
	tcase_add_test(tc, no_job_seen_starts_at_the_flow);
	tcase_add_test(tc, self_report_and_rate_only);
	tcase_add_test(tc, json_object);
	tcase_add_loop_test(tc, generated_sessions_truth_within_interval, 0,
			    (int)(sizeof gen_caps / sizeof gen_caps[0]));
	tcase_add_test(tc, corpus_cryptonote_flow);
	tcase_add_test(tc, corpus_ethproxy_self_report);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
