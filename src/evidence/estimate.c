/* estimate.c - hash rate from shares (Poisson, Garwood interval), power and energy per algorithm (README "Estimates"). */
#include "evidence/estimate.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

/*
 * Regularized lower incomplete gamma P(a, x): the power series where it converges fast
 * (x < a + 1), else 1 - Q(a, x) from Legendre's continued fraction evaluated by the
 * modified Lentz method (Abramowitz & Stegun 6.5.29 and 6.5.31).
 */
static double gamma_p(double a, double x)
{
	const double eps = 1e-15, tiny = 1e-300;
	double lead;

	if (x <= 0)
		return 0;
	lead = exp(-x + a * log(x) - lgamma(a));
	if (x < a + 1) {
		double term = 1 / a, sum = term;

		for (int n = 1; n < 100000; n++) {
			term *= x / (a + n);
			sum += term;
			if (fabs(term) < fabs(sum) * eps)
				break;
		}
		return sum * lead;
	} else {
		double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;

		for (int i = 1; i < 100000; i++) {
			double an = -i * (i - a), del;

			b += 2;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1) < eps)
				break;
		}
		return 1 - lead * h;
	}
}

double mt_estimate_gamma_quantile(double shape, double p)
{
	double lo = 0, hi = shape + 10 * sqrt(shape) + 10;

	if (!(shape > 0) || !(p > 0) || !(p < 1))
		return 0;
	while (gamma_p(shape, hi) < p)
		hi *= 2;
	/* P is monotone in x: bisection to a relative 1e-12 is enough and cannot diverge */
	for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = (lo + hi) / 2;

		if (gamma_p(shape, mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

void mt_estimate_poisson_bounds(uint64_t n, double conf, double *low, double *high)
{
	double a = (1 - conf) / 2;

	*low = n ? mt_estimate_gamma_quantile((double)n, a) : 0;
	*high = mt_estimate_gamma_quantile((double)n + 1, 1 - a);
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

void mt_estimate_algo_name(const char *algo, char *out, size_t outlen)
{
	char low[MT_EV_ALGO_LEN];
	const char *name;
	size_t i;

	if (!outlen)
		return;
	for (i = 0; algo && algo[i] && i + 1 < sizeof low; i++)
		low[i] = (char)tolower((unsigned char)algo[i]);
	low[i] = '\0';
	/* detectors give a protocol's own spelling: XMRig's "rx/0", "cn/r"; "equihash200_9" ... */
	if (has_prefix(low, "rx/") || has_prefix(low, "randomx"))
		name = "randomx";
	else if (has_prefix(low, "cn") || has_prefix(low, "cryptonight"))
		name = "cryptonight";
	else if (has_prefix(low, "equihash"))
		name = "equihash";
	else if (has_prefix(low, "autolykos"))
		name = "autolykos";
	else if (strcmp(low, "sha-256") == 0 || strcmp(low, "sha256") == 0)
		name = "sha256d";
	else
		name = low;
	i = strlen(name);
	if (i >= outlen)
		i = outlen - 1;
	memcpy(out, name, i);
	out[i] = '\0';
}

const mt_estimate_algo *mt_estimate_find_algo(const char *algo)
{
	for (const mt_estimate_algo *a = mt_estimate_algos; a->algo; a++)
		if (strcmp(a->algo, algo) == 0)
			return a;
	return NULL;
}

const mt_estimate_eff *mt_estimate_find_eff(const char *algo)
{
	for (const mt_estimate_eff *e = mt_estimate_effs; e->algo; e++)
		if (strcmp(e->algo, algo) == 0)
			return e;
	return NULL;
}

/* What kind of number the summed difficulty was (contracts.md basis names). */
static const char *basis_of(const mt_evidence *ev, const char *algo)
{
	if (ev->diff_is_hashes) {
		if (has_prefix(ev->protocol, "cryptonote") || strcmp(algo, "randomx") == 0 ||
		    strcmp(algo, "cryptonight") == 0)
			return "cryptonote_target";
		if (strcmp(algo, "equihash") == 0)
			return "equihash_target";
		return "pool_difficulty";
	}
	if (strcmp(algo, "ethash") == 0 || strcmp(algo, "etchash") == 0)
		return "pool_difficulty";
	return "share_difficulty";
}

int mt_estimate_flow(const mt_evidence *ev, uint64_t flow_first_us, uint64_t now_us, mt_estimate *out)
{
	uint64_t start, end;
	const mt_estimate_algo *row;
	const mt_estimate_eff *eff;

	memset(out, 0, sizeof *out);
	out->basis = "share_rate_only";
	if (!ev || ev->event != MT_EVENT_MINING || (ev->shares == 0 && !(ev->reported_hashrate_hs > 0)))
		return 0;
	mt_estimate_algo_name(ev->algo, out->algo, sizeof out->algo);
	out->shares = ev->shares;
	if (ev->reported_hashrate_hs > 0)
		out->reported_hashrate_hs = ev->reported_hashrate_hs;
	/*
	 * Elapsed time: from the first job or difficulty (the miner hashes from then on; the first
	 * share is the end of a full Poisson wait, so starting at it would drop that wait and
	 * overstate the rate by N/(N-1)) to the latest share; else from the flow's start, or to
	 * this record's time when no share time was kept (encrypted and behavioural flows).
	 */
	start = ev->work_start_us ? ev->work_start_us : flow_first_us;
	end = ev->last_share_us ? ev->last_share_us : now_us;
	if (start >= end && flow_first_us < end)
		start = flow_first_us;
	if (end > start)
		out->elapsed_s = (double)(end - start) / 1e6;
	if (out->elapsed_s > 0 && ev->shares)
		out->share_rate_per_min = (double)ev->shares * 60 / out->elapsed_s;

	row = mt_estimate_find_algo(out->algo);
	if (ev->shares_diff && ev->share_diff_sum > 0 && out->elapsed_s > 0 && (ev->diff_is_hashes || row)) {
		double mult = ev->diff_is_hashes ? 1 : row->hashes_per_diff1;
		double mean = ev->share_diff_sum * mult / (double)ev->shares_diff, lo, hi;

		/* shares are a Poisson stream: the rate's bounds are the count's, scaled */
		mt_estimate_poisson_bounds(ev->shares_diff, MT_ESTIMATE_CONFIDENCE, &lo, &hi);
		out->basis = basis_of(ev, out->algo);
		out->has_rate = 1;
		out->hashrate_hs = ev->share_diff_sum * mult / out->elapsed_s;
		out->hashrate_low_hs = mean * lo / out->elapsed_s;
		out->hashrate_high_hs = mean * hi / out->elapsed_s;
	} else if (out->reported_hashrate_hs > 0) {
		out->basis = "self_reported";
		out->has_rate = 1;
		out->hashrate_hs = out->hashrate_low_hs = out->hashrate_high_hs = out->reported_hashrate_hs;
	}
	eff = out->has_rate ? mt_estimate_find_eff(out->algo) : NULL;
	if (eff) {
		out->has_power = 1;
		for (int i = 0; i < 3; i++) {
			out->power_w[i] = out->hashrate_hs * eff->j_per_h[i];
			out->energy_kwh_day[i] = out->power_w[i] * 24 / 1000;
		}
	}
	return 1;
}

/* Names known when compiling go through MT_JW_KEY (not measured or escaped at every record). */
#define KDOUBLE(w, k, v) do { MT_JW_KEY(w, k); mt_jw_double(w, v); } while (0)

/* The object of a low, best, high triple; the caller wrote its name. */
static void triple(mt_jw *w, const double v[3])
{
	mt_jw_obj_open(w);
	KDOUBLE(w, "low", v[0]);
	KDOUBLE(w, "best", v[1]);
	KDOUBLE(w, "high", v[2]);
	mt_jw_obj_close(w);
}

void mt_estimate_json(mt_jw *w, const mt_estimate *e)
{
	MT_JW_KEY(w, "estimate");
	mt_jw_obj_open(w);
	MT_JW_KEY(w, "algo");
	mt_jw_str(w, e->algo[0] ? e->algo : "unknown"); /* the store keys rates by it */
	MT_JW_KEY(w, "basis");
	mt_jw_str(w, e->basis);
	MT_JW_KEY(w, "shares");
	mt_jw_u64(w, e->shares);
	if (e->elapsed_s > 0)
		KDOUBLE(w, "elapsed_s", e->elapsed_s);
	if (e->has_rate) {
		KDOUBLE(w, "hashrate_hs", e->hashrate_hs);
		KDOUBLE(w, "hashrate_low_hs", e->hashrate_low_hs);
		KDOUBLE(w, "hashrate_high_hs", e->hashrate_high_hs);
	}
	if (e->elapsed_s > 0 && e->shares)
		KDOUBLE(w, "share_rate_per_min", e->share_rate_per_min);
	if (e->reported_hashrate_hs > 0)
		KDOUBLE(w, "reported_hashrate_hs", e->reported_hashrate_hs);
	if (e->has_power) {
		MT_JW_KEY(w, "power_w");
		triple(w, e->power_w);
		MT_JW_KEY(w, "energy_kwh_day");
		triple(w, e->energy_kwh_day);
	}
	mt_jw_obj_close(w);
}
