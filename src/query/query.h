/* query.h - minetrace-query: the sites of the Redis store (contracts.md schema) read back for people and programs. */
#ifndef MT_QUERY_H
#define MT_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/jw.h"

#define MT_Q_MAX_LIST 64   /* the store keeps at most 64 entries per list field */
#define MT_Q_SAMPLE_HITS 5 /* hit ids shown as a site's evidence */

typedef struct mt_qlist {
	char **v;
	size_t n;
} mt_qlist;

typedef struct mt_qrate {
	char algo[32];
	double hs, low, high;
} mt_qrate;

/* One site (mt:site:{IP}) as read from the store. */
typedef struct mt_qsite {
	char ip[64];
	char **kv;   /* field, value, field, value ... as stored */
	size_t nkv;
	int64_t first_seen, last_seen, updated;
	double hits, workers_seen, machines_est;
	mt_qlist protocols, coins, pools, wallets, workers, agents, probes;
	mt_qrate rates[8];
	size_t nrates;
	int has_power;
	double power_w[3], energy_kwh_day[3];
	mt_qlist hit_ids;  /* newest first, at most MT_Q_SAMPLE_HITS */
	int64_t *hit_ts;   /* packet times of the site's hits within the window (report activity) */
	size_t nhit_ts;
} mt_qsite;

typedef struct mt_qctx mt_qctx; /* the connection */

/* Value of a stored field, or "" if absent. */
const char *mt_query_field(const mt_qsite *s, const char *field);

/* Region label "CN-SC" (or "CN", or "??"). */
void mt_query_region(const mt_qsite *s, char *out, size_t n);

/* Reads the window's hit times of every site (for the activity chart). 0 or -errno. */
int mt_query_hit_times(mt_qctx *q, mt_qsite *sites, size_t n, int64_t since, int64_t until);

/* One site as a JSON object: stored fields, lists as arrays, rates per algorithm, sample hit ids. */
void mt_query_site_json(mt_jw *w, const mt_qsite *s);

/* Writes the report in "csv", "json" or "html". 0, or -EINVAL for an unknown format. */
int mt_query_report(FILE *out, const char *format, mt_qsite *sites, size_t n, int64_t since, int64_t until);

/* "12.3 TH/s" style (units of hashes; "Sol/s" for equihash). */
void mt_query_fmt_rate(double hs, const char *algo, char *out, size_t n);
void mt_query_rates_text(const mt_qrate *r, size_t nr, const char *sep, const char *empty, char *out,
			 size_t n);
/* "1.23 kW" style. */
void mt_query_fmt_watts(double w, char *out, size_t n);
/* UTC "2024-03-14 09:00". */
void mt_query_fmt_time(int64_t t, char *out, size_t n);
/* Display width of UTF-8 text in a terminal (East Asian wide characters count 2). */
size_t mt_query_width(const char *s);

#endif
