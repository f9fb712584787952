/* estimate.h - a flow's hash rate (with a Poisson confidence interval), power and energy from its share evidence. */
#ifndef MT_ESTIMATE_H
#define MT_ESTIMATE_H

#include <stdint.h>

#include "detect/detector.h"
#include "util/jw.h"

/* signatures/algorithms.tsv: hashes one share of pool difficulty 1 stands for. */
typedef struct mt_estimate_algo {
	const char *algo;
	const char *unit;       /* "H", or "Sol" */
	double hashes_per_diff1;
} mt_estimate_algo;

/* signatures/efficiency.tsv: joules per hash, most efficient machine .. least efficient. */
typedef struct mt_estimate_eff {
	const char *algo;
	double j_per_h[3]; /* low, best, high */
} mt_estimate_eff;

/* Generated from signatures/ at build time (estimate_tables.c); ended by a NULL algo. */
extern const mt_estimate_algo mt_estimate_algos[];
extern const mt_estimate_eff mt_estimate_effs[];

/* The confidence of the stated interval (two-sided). */
#define MT_ESTIMATE_CONFIDENCE 0.95

typedef struct mt_estimate {
	char algo[MT_EV_ALGO_LEN]; /* canonical name ("randomx" for "rx/0"), "" if not known */
	const char *basis;         /* "share_difficulty", ..., "share_rate_only" (contracts.md) */
	uint64_t shares;
	double elapsed_s;          /* 0: not known */
	int has_rate;              /* hashrate_* valid */
	double hashrate_hs, hashrate_low_hs, hashrate_high_hs;
	double share_rate_per_min; /* valid if elapsed_s > 0 */
	double reported_hashrate_hs; /* > 0: the miner's own claim */
	int has_power;
	double power_w[3];         /* low, best, high */
	double energy_kwh_day[3];
} mt_estimate;

/*
 * Estimates a flow's rate from its evidence. flow_first_us is the flow's first packet time
 * (the elapsed time starts there when no job was seen); now_us the record's packet time (the end
 * when no share time was kept). Returns 1 with *out filled, or 0 when there is nothing to say
 * (no share and no self-report: the hit record then carries no estimate).
 */
int mt_estimate_flow(const mt_evidence *ev, uint64_t flow_first_us, uint64_t now_us, mt_estimate *out);

/* Writes the `estimate` key and object (contracts.md) into w. */
void mt_estimate_json(mt_jw *w, const mt_estimate *e);

/* Canonical algorithm name for a detector's ("rx/0" -> "randomx"); "" if none. */
void mt_estimate_algo_name(const char *algo, char *out, size_t outlen);

/* Table rows for a canonical name, or NULL. */
const mt_estimate_algo *mt_estimate_find_algo(const char *algo);
const mt_estimate_eff *mt_estimate_find_eff(const char *algo);

/*
 * Quantile of the Gamma(shape, 1) distribution: x with P(shape, x) = p, 0 < p < 1, shape > 0.
 * (chi-square quantile with k degrees of freedom = 2 * this with shape k/2.)
 */
double mt_estimate_gamma_quantile(double shape, double p);

/*
 * Garwood (exact Poisson) bounds on the mean count for n observed events at the given two-sided
 * confidence: low = Gamma^-1((1-c)/2; n) (0 for n = 0), high = Gamma^-1((1+c)/2; n+1).
 */
void mt_estimate_poisson_bounds(uint64_t n, double conf, double *low, double *high);

#endif
