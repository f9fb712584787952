/* report.c - minetrace-query's inventory report (csv, json, self-contained html with inline SVG charts). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

#define R_MAX_ALGOS 16
#define R_BUCKETS 28 /* activity chart: the window in 28 columns (6 h each for a week) */

/* A group of sites: one company, one region, or everything. */
typedef struct rgroup {
	char key[256];   /* credit code, company name or region label */
	char name[256];  /* what people read */
	char region[64]; /* for companies: the first site's region */
	size_t nsites;
	size_t *site;    /* indices into the site array */
	double workers, machines, hits;
	mt_qrate algos[R_MAX_ALGOS];
	size_t nalgos;
	int has_power;
	double power_w[3], energy_kwh_day[3];
	char verdicts[256];
} rgroup;

static void *rrealloc(void *p, size_t n)
{
	void *d = realloc(p, n ? n : 1);

	if (!d) {
		fprintf(stderr, "minetrace-query: out of memory\n");
		exit(1);
	}
	return d;
}

static void add_site(rgroup *g, const mt_qsite *s, size_t idx)
{
	const char *v = mt_query_field(s, "verdict");

	g->site = rrealloc(g->site, (g->nsites + 1) * sizeof *g->site);
	g->site[g->nsites++] = idx;
	g->workers += s->workers_seen;
	g->machines += s->machines_est > 0 ? s->machines_est : s->workers_seen;
	g->hits += s->hits;
	for (size_t i = 0; i < s->nrates; i++) {
		size_t k;

		for (k = 0; k < g->nalgos && strcmp(g->algos[k].algo, s->rates[i].algo) != 0; k++)
			;
		if (k == g->nalgos) {
			if (k == R_MAX_ALGOS)
				continue;
			memset(&g->algos[k], 0, sizeof g->algos[k]);
			snprintf(g->algos[k].algo, sizeof g->algos[k].algo, "%s", s->rates[i].algo);
			g->nalgos++;
		}
		/* per algorithm only: rates of different algorithms are never added */
		g->algos[k].hs += s->rates[i].hs;
		g->algos[k].low += s->rates[i].low;
		g->algos[k].high += s->rates[i].high;
	}
	if (s->has_power) {
		g->has_power = 1;
		for (int i = 0; i < 3; i++) {
			g->power_w[i] += s->power_w[i];
			g->energy_kwh_day[i] += s->energy_kwh_day[i];
		}
	}
	if (v[0] && !strstr(g->verdicts, v)) {
		size_t o = strlen(g->verdicts);

		snprintf(g->verdicts + o, sizeof g->verdicts - o, "%s%s", o ? ", " : "", v);
	}
}

static rgroup *find_group(rgroup **v, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0)
			return &(*v)[i];
	*v = rrealloc(*v, (*n + 1) * sizeof **v);
	memset(&(*v)[*n], 0, sizeof **v);
	snprintf((*v)[*n].key, sizeof (*v)[*n].key, "%s", key);
	return &(*v)[(*n)++];
}

static int group_cmp(const void *a, const void *b)
{
	const rgroup *x = a, *y = b;

	if (x->power_w[1] != y->power_w[1])
		return x->power_w[1] < y->power_w[1] ? 1 : -1;
	if (x->nsites != y->nsites)
		return x->nsites < y->nsites ? 1 : -1;
	return strcmp(x->key, y->key);
}

typedef struct rdata {
	rgroup *company, *region, total;
	size_t ncompany, nregion;
	double buckets[R_BUCKETS];
	int64_t since, until;
} rdata;

static void build(rdata *d, const mt_qsite *v, size_t n, int64_t since, int64_t until)
{
	double span = until > since ? (double)(until - since) : 1;

	memset(d, 0, sizeof *d);
	d->since = since;
	d->until = until;
	snprintf(d->total.name, sizeof d->total.name, "all sites");
	for (size_t i = 0; i < n; i++) {
		const mt_qsite *s = &v[i];
		const char *cc = mt_query_field(s, "credit_code"), *co = mt_query_field(s, "company");
		char reg[64];
		rgroup *g;

		mt_query_region(s, reg, sizeof reg);
		g = find_group(&d->company, &d->ncompany, cc[0] ? cc : co[0] ? co : "");
		if (!g->name[0])
			snprintf(g->name, sizeof g->name, "%s", co[0] ? co : cc[0] ? cc : "(no company attributed)");
		if (!g->region[0])
			snprintf(g->region, sizeof g->region, "%s", reg);
		add_site(g, s, i);
		g = find_group(&d->region, &d->nregion, reg);
		snprintf(g->name, sizeof g->name, "%s", reg);
		add_site(g, s, i);
		add_site(&d->total, s, i);
		for (size_t k = 0; k < s->nhit_ts; k++) {
			double f = (double)(s->hit_ts[k] - since) / span * R_BUCKETS;
			int b = (int)f;

			if (b >= R_BUCKETS)
				b = R_BUCKETS - 1;
			if (b >= 0)
				d->buckets[b]++;
		}
	}
	if (n) { /* qsort's base must not be NULL, even for no element */
		qsort(d->company, d->ncompany, sizeof *d->company, group_cmp);
		qsort(d->region, d->nregion, sizeof *d->region, group_cmp);
	}
}

static void free_data(rdata *d)
{
	for (size_t i = 0; i < d->ncompany; i++)
		free(d->company[i].site);
	for (size_t i = 0; i < d->nregion; i++)
		free(d->region[i].site);
	free(d->company);
	free(d->region);
	free(d->total.site);
}

static void rates_of(const rgroup *g, char *out, size_t n)
{
	mt_query_rates_text(g->algos, g->nalgos, "; ", "", out, n);
}

/* ---- CSV (RFC 4180) ---- */

static void csv_field(FILE *fp, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', fp);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', fp);
			fputc(*s, fp);
		}
		fputc('"', fp);
	} else {
		fputs(s, fp);
	}
	fputc(last ? '\n' : ',', fp);
}

static void csv_list(FILE *fp, const mt_qlist *l)
{
	char b[4096];
	size_t o = 0;

	b[0] = '\0';
	for (size_t i = 0; i < l->n && o < sizeof b; i++) {
		int k = snprintf(b + o, sizeof b - o, "%s%s", i ? " " : "", l->v[i]);

		if (k < 0)
			break;
		o += (size_t)k;
	}
	csv_field(fp, b, 0);
}

static void csv_num(FILE *fp, double v)
{
	fprintf(fp, "%.6g,", v);
}

static void csv_group(FILE *fp, const char *level, const rgroup *g)
{
	char r[1024];

	csv_field(fp, level, 0);
	csv_field(fp, g->name, 0);
	csv_field(fp, strcmp(level, "company") == 0 ? g->key : "", 0);
	csv_field(fp, strcmp(level, "region") == 0 ? g->name : g->region, 0);
	fputs(",,,", fp); /* ip, first_seen, last_seen */
	csv_num(fp, (double)g->nsites);
	csv_num(fp, g->hits);
	csv_num(fp, g->workers);
	csv_num(fp, g->machines);
	rates_of(g, r, sizeof r);
	csv_field(fp, r, 0);
	for (int i = 0; i < 3; i++)
		csv_num(fp, g->power_w[i]);
	for (int i = 0; i < 3; i++)
		csv_num(fp, g->energy_kwh_day[i]);
	csv_field(fp, g->verdicts, 0);
	fputs(",,,,\n", fp); /* pools, wallets, workers, sample_hit_ids, protocols */
}

static void write_csv(FILE *fp, const rdata *d, const mt_qsite *v, size_t n)
{
	fputs("level,name,credit_code,region,ip,first_seen,last_seen,sites,hits,workers,machines_est,hashrate,"
	      "power_w_low,power_w_best,power_w_high,energy_kwh_day_low,energy_kwh_day_best,energy_kwh_day_high,"
	      "verdict,pools,wallets,worker_names,sample_hit_ids,protocols\n", fp);
	csv_group(fp, "total", &d->total);
	for (size_t i = 0; i < d->ncompany; i++)
		csv_group(fp, "company", &d->company[i]);
	for (size_t i = 0; i < d->nregion; i++)
		csv_group(fp, "region", &d->region[i]);
	for (size_t i = 0; i < n; i++) {
		const mt_qsite *s = &v[i];
		char reg[64], t[32], r[1024];
		rgroup one;

		memset(&one, 0, sizeof one);
		add_site(&one, s, 0);
		mt_query_region(s, reg, sizeof reg);
		csv_field(fp, "site", 0);
		csv_field(fp, mt_query_field(s, "company"), 0);
		csv_field(fp, mt_query_field(s, "credit_code"), 0);
		csv_field(fp, reg, 0);
		csv_field(fp, s->ip, 0);
		mt_query_fmt_time(s->first_seen, t, sizeof t);
		csv_field(fp, t, 0);
		mt_query_fmt_time(s->last_seen, t, sizeof t);
		csv_field(fp, t, 0);
		csv_num(fp, 1);
		csv_num(fp, s->hits);
		csv_num(fp, s->workers_seen);
		csv_num(fp, one.machines);
		rates_of(&one, r, sizeof r);
		csv_field(fp, r, 0);
		for (int k = 0; k < 3; k++)
			csv_num(fp, s->power_w[k]);
		for (int k = 0; k < 3; k++)
			csv_num(fp, s->energy_kwh_day[k]);
		csv_field(fp, mt_query_field(s, "verdict"), 0);
		csv_list(fp, &s->pools);
		csv_list(fp, &s->wallets);
		csv_list(fp, &s->workers);
		csv_list(fp, &s->hit_ids);
		{
			char b[1024];
			size_t o = 0;

			b[0] = '\0';
			for (size_t k = 0; k < s->protocols.n && o < sizeof b; k++) {
				int w = snprintf(b + o, sizeof b - o, "%s%s", k ? " " : "", s->protocols.v[k]);

				if (w < 0)
					break;
				o += (size_t)w;
			}
			csv_field(fp, b, 1);
		}
		free(one.site);
	}
}

/* ---- JSON ---- */

static void json_group(mt_jw *w, const rgroup *g, const mt_qsite *v, const char *label)
{
	static const char *const lbh[3] = { "low", "best", "high" };

	int company = strcmp(label, "company") == 0;

	mt_jw_obj_open(w);
	mt_jw_kstr(w, label, g->name);
	if (company) {
		mt_jw_kstr(w, "key", g->key);
		mt_jw_kstr(w, "region", g->region);
	}
	mt_jw_ku64(w, "sites", g->nsites);
	mt_jw_kdouble(w, "hits", g->hits);
	mt_jw_kdouble(w, "workers", g->workers);
	mt_jw_kdouble(w, "machines_est", g->machines);
	mt_jw_key(w, "hashrate");
	mt_jw_obj_open(w);
	for (size_t i = 0; i < g->nalgos; i++) {
		mt_jw_key(w, g->algos[i].algo);
		mt_jw_obj_open(w);
		mt_jw_kdouble(w, "hs", g->algos[i].hs);
		mt_jw_kdouble(w, "low_hs", g->algos[i].low);
		mt_jw_kdouble(w, "high_hs", g->algos[i].high);
		mt_jw_obj_close(w);
	}
	mt_jw_obj_close(w);
	mt_jw_key(w, "power_w");
	mt_jw_obj_open(w);
	for (int i = 0; i < 3; i++)
		mt_jw_kdouble(w, lbh[i], g->power_w[i]);
	mt_jw_obj_close(w);
	mt_jw_key(w, "energy_kwh_day");
	mt_jw_obj_open(w);
	for (int i = 0; i < 3; i++)
		mt_jw_kdouble(w, lbh[i], g->energy_kwh_day[i]);
	mt_jw_obj_close(w);
	mt_jw_kstr(w, "verdicts", g->verdicts);
	if (v) {
		mt_jw_key(w, "site_ips");
		mt_jw_arr_open(w);
		for (size_t i = 0; i < g->nsites; i++)
			mt_jw_str(w, v[g->site[i]].ip);
		mt_jw_arr_close(w);
	}
	mt_jw_obj_close(w);
}

static int write_json(FILE *fp, const rdata *d, const mt_qsite *v, size_t n)
{
	mt_jw w;
	int64_t step = (d->until - d->since) / R_BUCKETS;

	mt_jw_init(&w);
	mt_jw_reset(&w);
	mt_jw_obj_open(&w);
	mt_jw_key(&w, "window");
	mt_jw_obj_open(&w);
	mt_jw_ku64(&w, "since", (uint64_t)(d->since > 0 ? d->since : 0));
	mt_jw_ku64(&w, "until", (uint64_t)(d->until > 0 ? d->until : 0));
	mt_jw_obj_close(&w);
	mt_jw_key(&w, "totals");
	json_group(&w, &d->total, NULL, "scope");
	mt_jw_key(&w, "by_company");
	mt_jw_arr_open(&w);
	for (size_t i = 0; i < d->ncompany; i++)
		json_group(&w, &d->company[i], v, "company");
	mt_jw_arr_close(&w);
	mt_jw_key(&w, "by_region");
	mt_jw_arr_open(&w);
	for (size_t i = 0; i < d->nregion; i++)
		json_group(&w, &d->region[i], v, "region");
	mt_jw_arr_close(&w);
	mt_jw_key(&w, "activity");
	mt_jw_arr_open(&w);
	for (int i = 0; i < R_BUCKETS; i++) {
		mt_jw_obj_open(&w);
		mt_jw_ku64(&w, "start", (uint64_t)(d->since + i * step));
		mt_jw_kdouble(&w, "hits", d->buckets[i]);
		mt_jw_obj_close(&w);
	}
	mt_jw_arr_close(&w);
	mt_jw_key(&w, "sites");
	mt_jw_arr_open(&w);
	for (size_t i = 0; i < n; i++)
		mt_query_site_json(&w, &v[i]);
	mt_jw_arr_close(&w);
	mt_jw_obj_close(&w);
	if (w.err) {
		mt_jw_free(&w);
		return -ENOMEM;
	}
	fwrite(w.buf, 1, w.len, fp);
	fputc('\n', fp);
	mt_jw_free(&w);
	return 0;
}

/* ---- HTML ---- */

static void esc(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: fputc(*s, fp);
		}
	}
}

static void esc_list(FILE *fp, const mt_qlist *l, size_t max)
{
	for (size_t i = 0; i < l->n && i < max; i++) {
		if (i)
			fputs("<br>", fp);
		esc(fp, l->v[i]);
	}
	if (l->n > max)
		fprintf(fp, "<br>(+%zu)", l->n - max);
	if (!l->n)
		fputs("&ndash;", fp);
}

static const char *const palette[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
				       "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f" };
#define NPAL (sizeof palette / sizeof palette[0])

/* Horizontal bars: label, value (and optional low/high whiskers), text shown at the bar's end. */
static void svg_hbars(FILE *fp, const char *title, size_t n, const char *const *label, const double *val,
		      const double *lo, const double *hi, const char *const *text)
{
	double max = 0;
	int h = 34 + (int)n * 26, x0 = 150, width = 380; /* room for the value text on the right */

	for (size_t i = 0; i < n; i++) {
		double m = hi && hi[i] > val[i] ? hi[i] : val[i];

		if (m > max)
			max = m;
	}
	if (max <= 0)
		max = 1;
	fprintf(fp, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 760 %d\" width=\"760\" height=\"%d\" "
		"role=\"img\"><title>", h, h);
	esc(fp, title);
	fputs("</title>", fp);
	fprintf(fp, "<text x=\"4\" y=\"18\" class=\"ct\">");
	esc(fp, title);
	fputs("</text>", fp);
	for (size_t i = 0; i < n; i++) {
		int y = 30 + (int)i * 26;
		double bw = val[i] / max * width;

		fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"cl\">", x0 - 6, y + 15);
		esc(fp, label[i]);
		fprintf(fp, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>", x0, y,
			bw > 1 ? bw : 1, palette[i % NPAL]);
		if (lo && hi && hi[i] > 0)
			fprintf(fp, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#222\" stroke-width=\"1.5\"/>",
				x0 + lo[i] / max * width, x0 + hi[i] / max * width, y + 9, y + 9);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" class=\"cv\">", x0 + (hi && hi[i] > val[i] ? hi[i] : val[i]) / max * width + 6,
			y + 14);
		esc(fp, text[i]);
		fputs("</text>", fp);
	}
	fputs("</svg></figure>\n", fp);
}

static void chart_regions(FILE *fp, const rdata *d)
{
	size_t n = d->nregion < 12 ? d->nregion : 12;
	const char **label = calloc(n + 1, sizeof *label), **text = calloc(n + 1, sizeof *text);
	double *val = calloc(n + 1, sizeof *val), *lo = calloc(n + 1, sizeof *lo), *hi = calloc(n + 1, sizeof *hi);
	char (*buf)[96] = calloc(n + 1, sizeof *buf);

	if (!label || !text || !val || !lo || !hi || !buf)
		goto out;
	for (size_t i = 0; i < n; i++) {
		label[i] = d->region[i].name;
		val[i] = (double)d->region[i].nsites;
		snprintf(buf[i], sizeof buf[i], "%zu site%s", d->region[i].nsites, d->region[i].nsites == 1 ? "" : "s");
		text[i] = buf[i];
	}
	svg_hbars(fp, "Sites by region", n, label, val, NULL, NULL, text);
	for (size_t i = 0; i < n; i++) {
		char a[24], b[24], c[24];

		val[i] = d->region[i].power_w[1];
		lo[i] = d->region[i].power_w[0];
		hi[i] = d->region[i].power_w[2];
		mt_query_fmt_watts(lo[i], a, sizeof a);
		mt_query_fmt_watts(val[i], b, sizeof b);
		mt_query_fmt_watts(hi[i], c, sizeof c);
		snprintf(buf[i], sizeof buf[i], "%s (%s \xe2\x80\x93 %s)", b, a, c);
	}
	svg_hbars(fp, "Power by region: best estimate, low\xe2\x80\x93high range", n, label, val, lo, hi, text);
out:
	free(label); free(text); free(val); free(lo); free(hi); free(buf);
}

/* Hash rate per algorithm: units differ by orders of magnitude, so the bars are log10. */
static void chart_algos(FILE *fp, const rdata *d)
{
	const rgroup *g = &d->total;
	const char *label[R_MAX_ALGOS], *text[R_MAX_ALGOS];
	double val[R_MAX_ALGOS];
	char buf[R_MAX_ALGOS][64];

	for (size_t i = 0; i < g->nalgos; i++) {
		label[i] = g->algos[i].algo;
		val[i] = g->algos[i].hs > 1 ? log10(g->algos[i].hs) : 0.01;
		mt_query_fmt_rate(g->algos[i].hs, g->algos[i].algo, buf[i], sizeof buf[i]);
		text[i] = buf[i];
	}
	if (g->nalgos)
		svg_hbars(fp, "Hash rate by algorithm (bar length: log10 of the rate)", g->nalgos, label, val, NULL, NULL,
			  text);
	else
		fputs("<p class=\"note\">No site in the window has a hash rate estimate.</p>\n", fp);
}

static void chart_activity(FILE *fp, const rdata *d)
{
	double max = 0;
	int x0 = 50, w = 690, h = 200, bw = w / R_BUCKETS;

	for (int i = 0; i < R_BUCKETS; i++)
		if (d->buckets[i] > max)
			max = d->buckets[i];
	fprintf(fp, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 760 %d\" width=\"760\" height=\"%d\" "
		"role=\"img\"><title>Activity</title><text x=\"4\" y=\"18\" class=\"ct\">Activity: hits per %.0f h "
		"(max %.0f)</text>", h + 60, h + 60, (double)(d->until - d->since) / R_BUCKETS / 3600, max);
	fprintf(fp, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#444\"/>", x0, x0 + w, h + 30, h + 30);
	for (int i = 0; i < R_BUCKETS; i++) {
		double bh = max > 0 ? d->buckets[i] / max * h : 0;

		fprintf(fp, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%.0f hits</title></rect>",
			x0 + i * bw + 1, h + 30 - bh, bw - 2, bh, palette[(i / 4) % NPAL], d->buckets[i]);
		if (i % 4 == 0) {
			char t[32];

			mt_query_fmt_time(d->since + (int64_t)i * (d->until - d->since) / R_BUCKETS, t, sizeof t);
			t[10] = '\0';
			fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"cl\">%s</text>", x0 + i * bw, h + 48, t);
		}
	}
	fputs("</svg></figure>\n", fp);
}

static void html_group_table(FILE *fp, const char *title, const rgroup *g, size_t n, const mt_qsite *v, int company)
{
	fprintf(fp, "<h2>%s</h2>\n<table><thead><tr><th>%s</th>%s<th>Sites</th><th>Workers</th><th>Machines (est.)</th>"
		"<th>Hash rate</th><th>Power low / best / high</th><th>Energy per day (kWh) low / best / high</th>"
		"<th>Verdicts</th><th>Site IPs</th></tr></thead><tbody>\n",
		title, company ? "Company" : "Region", company ? "<th>Credit code</th><th>Region</th>" : "");
	for (size_t i = 0; i < n; i++) {
		char r[1024], a[24], b[24], c[24];

		fputs("<tr><td>", fp);
		esc(fp, g[i].name);
		if (company) {
			fputs("</td><td>", fp);
			esc(fp, strcmp(g[i].key, g[i].name) ? g[i].key : "");
			fputs("</td><td>", fp);
			esc(fp, g[i].region);
		}
		rates_of(&g[i], r, sizeof r);
		fprintf(fp, "</td><td class=\"n\">%zu</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td>", g[i].nsites,
			g[i].workers, g[i].machines);
		esc(fp, r[0] ? r : "\xe2\x80\x93");
		mt_query_fmt_watts(g[i].power_w[0], a, sizeof a);
		mt_query_fmt_watts(g[i].power_w[1], b, sizeof b);
		mt_query_fmt_watts(g[i].power_w[2], c, sizeof c);
		if (g[i].has_power)
			fprintf(fp, "</td><td class=\"n\">%s / <b>%s</b> / %s</td><td class=\"n\">%.1f / <b>%.1f</b> / %.1f</td><td>",
				a, b, c, g[i].energy_kwh_day[0], g[i].energy_kwh_day[1], g[i].energy_kwh_day[2]);
		else
			fputs("</td><td>&ndash;</td><td>&ndash;</td><td>", fp);
		esc(fp, g[i].verdicts);
		fputs("</td><td>", fp);
		for (size_t k = 0; k < g[i].nsites && k < 8; k++) {
			fprintf(fp, "%s<a href=\"#site-", k ? " " : "");
			esc(fp, v[g[i].site[k]].ip);
			fputs("\">", fp);
			esc(fp, v[g[i].site[k]].ip);
			fputs("</a>", fp);
		}
		if (g[i].nsites > 8)
			fprintf(fp, " (+%zu)", g[i].nsites - 8);
		fputs("</td></tr>\n", fp);
	}
	fputs("</tbody></table>\n", fp);
}

static void write_html(FILE *fp, const rdata *d, const mt_qsite *v, size_t n)
{
	char since[32], until[32], a[24], b[24], c[24], r[1024];
	const rgroup *t = &d->total;

	mt_query_fmt_time(d->since, since, sizeof since);
	mt_query_fmt_time(d->until, until, sizeof until);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>minetrace: mining sites report</title>\n<style>\n"
	      "body{font-family:\"Noto Sans\",\"Noto Sans CJK SC\",\"Microsoft YaHei\",Arial,sans-serif;margin:24px;color:#1b1b1b;background:#fff}\n"
	      "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #1f77b4;padding-bottom:2px}\n"
	      ".sub{color:#555;margin:0 0 16px}.cards{display:flex;flex-wrap:wrap;gap:12px}\n"
	      ".card{background:#eef4fb;border-left:6px solid #1f77b4;padding:10px 14px;min-width:150px}\n"
	      ".card b{display:block;font-size:22px}.card:nth-child(2){border-color:#ff7f0e;background:#fff3e6}\n"
	      ".card:nth-child(3){border-color:#2ca02c;background:#ecf8ec}.card:nth-child(4){border-color:#d62728;background:#fdeeee}\n"
	      ".card:nth-child(5){border-color:#9467bd;background:#f4effa}\n"
	      "table{border-collapse:collapse;width:100%;font-size:13px;margin-bottom:8px}\n"
	      "th,td{border:1px solid #c8d0d8;padding:4px 6px;vertical-align:top;text-align:left}td.w{overflow-wrap:anywhere;min-width:8em}\n"
	      "th{background:#1f3b57;color:#fff}tbody tr:nth-child(even){background:#f3f6f9}td.n{text-align:right;white-space:nowrap}\n"
	      "figure{margin:8px 0}.charts{display:flex;flex-wrap:wrap;gap:16px}svg{max-width:100%;height:auto;background:#fafbfc;border:1px solid #dde3e8}\n"
	      ".ct{font-size:14px;font-weight:bold;fill:#1b1b1b}.cl{font-size:12px;fill:#333}.cv{font-size:12px;fill:#111}\n"
	      ".note{color:#555;font-size:12px}code{font-size:12px}\n"
	      "@media print{body{margin:10mm;font-size:11px}h2{page-break-after:avoid}table,figure{page-break-inside:avoid}"
	      "th{background:#ddd!important;color:#000}svg{border:none}a{color:inherit;text-decoration:none}"
	      "@page{size:A4 landscape;margin:10mm}}\n"
	      "</style></head><body>\n", fp);
	fputs("<h1>Cryptocurrency mining sites: inventory</h1>\n<p class=\"sub\">", fp);
	fprintf(fp, "Window %s &ndash; %s UTC. Generated by minetrace-query from the minetrace store.</p>\n", since, until);
	mt_query_fmt_watts(t->power_w[0], a, sizeof a);
	mt_query_fmt_watts(t->power_w[1], b, sizeof b);
	mt_query_fmt_watts(t->power_w[2], c, sizeof c);
	fprintf(fp, "<div class=\"cards\"><div class=\"card\">Sites<b>%zu</b></div><div class=\"card\">Companies<b>%zu</b></div>"
		"<div class=\"card\">Workers seen<b>%.0f</b></div><div class=\"card\">Power (best)<b>%s</b>%s &ndash; %s</div>"
		"<div class=\"card\">Energy per day (best)<b>%.0f kWh</b>%.0f &ndash; %.0f kWh</div></div>\n",
		t->nsites, d->ncompany, t->workers, b, a, c, t->energy_kwh_day[1], t->energy_kwh_day[0], t->energy_kwh_day[2]);
	fputs("<h2>Charts</h2><div class=\"charts\">\n", fp);
	chart_regions(fp, d);
	chart_algos(fp, d);
	chart_activity(fp, d);
	fputs("</div>\n", fp);
	html_group_table(fp, "By company", d->company, d->ncompany, v, 1);
	html_group_table(fp, "By region", d->region, d->nregion, v, 0);
	fputs("<h2>Sites and their evidence</h2>\n<table><thead><tr><th>Site</th><th>Company / address</th><th>Region / city</th>"
	      "<th>Seen (UTC)</th><th>Hits</th><th>Verdict</th><th>Hash rate (95% interval)</th><th>Power low / best / high</th>"
	      "<th>Protocols</th><th>Pools</th><th>Wallets</th><th>Workers</th><th>Sample hit ids</th></tr></thead><tbody>\n", fp);
	for (size_t i = 0; i < n; i++) {
		const mt_qsite *s = &v[i];
		char reg[64], f[32], l[32];

		mt_query_region(s, reg, sizeof reg);
		mt_query_fmt_time(s->first_seen, f, sizeof f);
		mt_query_fmt_time(s->last_seen, l, sizeof l);
		fputs("<tr id=\"site-", fp);
		esc(fp, s->ip);
		fputs("\"><td>", fp);
		esc(fp, s->ip);
		fputs("</td><td>", fp);
		esc(fp, mt_query_field(s, "company"));
		if (mt_query_field(s, "credit_code")[0]) {
			fputs("<br><code>", fp);
			esc(fp, mt_query_field(s, "credit_code"));
			fputs("</code>", fp);
		}
		if (mt_query_field(s, "site_address")[0]) {
			fputs("<br>", fp);
			esc(fp, mt_query_field(s, "site_address"));
		}
		fputs("</td><td>", fp);
		esc(fp, reg);
		fputs("<br>", fp);
		esc(fp, mt_query_field(s, "city_zh")[0] ? mt_query_field(s, "city_zh") : mt_query_field(s, "city"));
		fprintf(fp, "</td><td>%s<br>%s</td><td class=\"n\">%.0f</td><td>", f, l, s->hits);
		esc(fp, mt_query_field(s, "verdict"));
		fputs("</td><td>", fp);
		for (size_t k = 0; k < s->nrates; k++) {
			char x[24], y[24], z[24];

			mt_query_fmt_rate(s->rates[k].hs, s->rates[k].algo, x, sizeof x);
			mt_query_fmt_rate(s->rates[k].low, s->rates[k].algo, y, sizeof y);
			mt_query_fmt_rate(s->rates[k].high, s->rates[k].algo, z, sizeof z);
			fprintf(fp, "%s", k ? "<br>" : "");
			esc(fp, s->rates[k].algo);
			fprintf(fp, " <b>%s</b> (%s &ndash; %s)", x, y, z);
		}
		if (!s->nrates)
			fputs("&ndash;", fp);
		if (s->has_power) {
			mt_query_fmt_watts(s->power_w[0], a, sizeof a);
			mt_query_fmt_watts(s->power_w[1], b, sizeof b);
			mt_query_fmt_watts(s->power_w[2], c, sizeof c);
			fprintf(fp, "</td><td class=\"n\">%s / <b>%s</b> / %s<br>%.1f kWh/day</td><td>", a, b, c, s->energy_kwh_day[1]);
		} else {
			fputs("</td><td>&ndash;</td><td>", fp);
		}
		esc_list(fp, &s->protocols, 6);
		fputs("</td><td>", fp);
		esc_list(fp, &s->pools, 6);
		fputs("</td><td class=\"w\">", fp);
		esc_list(fp, &s->wallets, 4);
		fputs("</td><td>", fp);
		esc_list(fp, &s->workers, 8);
		fputs("</td><td><code>", fp);
		for (size_t k = 0; k < s->hit_ids.n; k++) {
			/* the first 12 hex digits find a hit; the whole id is the tooltip */
			fputs(k ? "<br><span title=\"" : "<span title=\"", fp);
			char shortid[13];

			esc(fp, s->hit_ids.v[k]);
			snprintf(shortid, sizeof shortid, "%s", s->hit_ids.v[k]);
			fputs("\">", fp);
			esc(fp, shortid);
			fputs("</span>", fp);
		}
		if (!s->hit_ids.n)
			fputs("&ndash;", fp);
		fputs("</code></td></tr>\n", fp);
	}
	fputs("</tbody></table>\n", fp);
	rates_of(t, r, sizeof r);
	fputs("<p class=\"note\">Hash rates are estimated per flow from the shares seen (sum of share difficulty &times; hashes per "
	      "difficulty 1 &divide; elapsed time) with a 95% Poisson (Garwood) interval, and summed per algorithm only. Power is the "
	      "hash rate times the energy per hash of the most efficient (low), common (best) and least efficient (high) machines "
	      "for the algorithm, as the Cambridge Bitcoin Electricity Consumption Index reports its range; flows whose rate cannot "
	      "be seen (encrypted) add sites and workers but no power. Totals: ", fp);
	esc(fp, r[0] ? r : "no hash rate");
	fputs(".</p>\n</body></html>\n", fp);
}

int mt_query_report(FILE *out, const char *format, mt_qsite *sites, size_t n, int64_t since, int64_t until)
{
	rdata d;
	int rc = 0;

	build(&d, sites, n, since, until);
	if (strcmp(format, "csv") == 0)
		write_csv(out, &d, sites, n);
	else if (strcmp(format, "json") == 0)
		rc = write_json(out, &d, sites, n);
	else if (strcmp(format, "html") == 0)
		write_html(out, &d, sites, n);
	else
		rc = -EINVAL;
	free_data(&d);
	if (!rc && ferror(out))
		rc = -EIO;
	return rc;
}
