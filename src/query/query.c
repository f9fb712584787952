/* query.c - minetrace-query: sites, companies, pools, wallets, regions, ASNs and reports from the Redis store. */
/*
 * Reads the keys of contracts.md ("Redis schema"): mt:site:{IP} hashes, their :hits zsets,
 * mt:sites and the mt:idx:* sets. Every command goes through redisCommandArgv: what the user
 * typed is never put into a format string. Read-only: it never writes to the store.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "query/query.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mt_config.h"
#include "sink/redis.h"
#include "util/json.h"
#include "util/jw.h"

#define Q_DEFAULT_URL "redis://127.0.0.1:6379/0"
#define Q_TIMEOUT_MS 5000
#define Q_CELL_MAX 48 /* table cells wider than this are cut with an ellipsis */
#define Q_NTOK 1024

struct mt_qctx {
	redisContext *c;
};

static const char *const list_names[] = { "protocols", "coins", "pools", "wallets", "workers", "agents", "probes" };

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: minetrace-query [--redis URL] [--json] COMMAND ...\n"
		"  site IP                     one site: its fields, flows and latest hits\n"
		"  company CODE|NAME           sites of a company (credit code or name)\n"
		"  pool HOST                   sites that mine at a pool\n"
		"  wallet ADDR                 sites that mine to a wallet\n"
		"  region CC[:SUBDIVISION]     sites in a country or province (CN:SC)\n"
		"  asn N                       sites in an autonomous system\n"
		"  recent [--since 24h] [--until TIME]   sites seen in the window\n"
		"  report [--since 7d] [--until TIME|latest] [--format csv|json|html] [-o FILE]\n"
		"URL: redis://[user:pass@]host:port/db or unix:///path?db=N (default %s).\n"
		"TIME: now (default), latest (the newest last_seen in the store), epoch seconds,\n"
		"or YYYY-MM-DD[THH:MM[:SS]][Z] (UTC). Durations: 90s, 30m, 24h, 7d, 2w.\n",
		Q_DEFAULT_URL);
}

/* ---- Redis ---- */

static redisReply *cmd(mt_qctx *q, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(q->c, argc, argv, NULL);

	if (!r) {
		fprintf(stderr, "minetrace-query: redis: %s\n", q->c->errstr);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "minetrace-query: redis %s: %s\n", argv[0], r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int q_connect(mt_qctx *q, const char *url)
{
	mt_redis_url u;
	struct timeval tv = { Q_TIMEOUT_MS / 1000, (Q_TIMEOUT_MS % 1000) * 1000 };
	redisReply *r;

	if (mt_redis_url_parse(url, &u) < 0) {
		fprintf(stderr, "minetrace-query: bad --redis URL '%s' (redis://[user:pass@]host:port/db or unix:///path?db=N)\n", url);
		return -EINVAL;
	}
	q->c = u.is_unix ? redisConnectUnixWithTimeout(u.path, tv) : redisConnectWithTimeout(u.host, u.port, tv);
	if (!q->c || q->c->err) {
		fprintf(stderr, "minetrace-query: redis connect %s: %s\n", url, q->c ? q->c->errstr : "out of memory");
		return -ECONNREFUSED;
	}
	redisSetTimeout(q->c, tv);
	if (u.pass[0]) {
		const char *a[3] = { "AUTH", u.user[0] ? u.user : u.pass, u.pass };

		if (!(r = cmd(q, u.user[0] ? 3 : 2, a)))
			return -EACCES;
		freeReplyObject(r);
	}
	if (u.db) {
		char db[16];
		const char *a[2] = { "SELECT", db };

		snprintf(db, sizeof db, "%d", u.db);
		if (!(r = cmd(q, 2, a)))
			return -EIO;
		freeReplyObject(r);
	}
	return 0;
}

/* ---- small helpers ---- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "minetrace-query: out of memory\n");
		exit(1);
	}
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	void *d = realloc(p, n ? n : 1);

	if (!d) {
		fprintf(stderr, "minetrace-query: out of memory\n");
		exit(1);
	}
	return d;
}

static void list_add(mt_qlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

static void list_free(mt_qlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const char *mt_query_field(const mt_qsite *s, const char *field)
{
	for (size_t i = 0; i + 1 < s->nkv; i += 2)
		if (strcmp(s->kv[i], field) == 0)
			return s->kv[i + 1];
	return "";
}

static double num(const char *s)
{
	char *e;
	double v;

	if (!s || !*s)
		return 0;
	v = strtod(s, &e);
	return e != s ? v : 0;
}

/* Seconds since the epoch of "1710406800", "2024-03-14T09:00:00.000000Z", "2024-03-14". -1 if none. */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	char *e;
	const char *p;
	long long v;

	if (!s || !*s)
		return -1;
	v = strtoll(s, &e, 10);
	if (e != s && (*e == '\0' || *e == '.') && (s[4] != '-'))
		return (int64_t)v;
	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p)
		return -1;
	if (*p == 'T' || *p == ' ') {
		const char *p2 = strptime(p + 1, "%H:%M:%S", &tm);

		if (!p2)
			p2 = strptime(p + 1, "%H:%M", &tm);
		if (!p2)
			return -1;
		p = p2;
	}
	return (int64_t)timegm(&tm);
}

/* "24h" -> 86400; -1 if not a duration. */
static int64_t parse_duration(const char *s)
{
	char *e;
	long long v = strtoll(s, &e, 10);

	if (e == s || v < 0)
		return -1;
	switch (*e) {
	case '\0': case 's': return e[*e ? 1 : 0] ? -1 : v;
	case 'm': return e[1] ? -1 : v * 60;
	case 'h': return e[1] ? -1 : v * 3600;
	case 'd': return e[1] ? -1 : v * 86400;
	case 'w': return e[1] ? -1 : v * 7 * 86400;
	default: return -1;
	}
}

/* ---- sites ---- */

static void parse_list(mt_qctx *q, mt_qsite *s, const char *name, mt_qlist *l)
{
	const char *v = mt_query_field(s, name);
	static mt_json_tok t[Q_NTOK];
	char buf[1024];

	if (v[0] == '[') {
		int n = mt_json_parse((const uint8_t *)v, strlen(v), t, Q_NTOK, 4);

		for (int i = 1; n > 0 && t[0].type == MT_JSON_ARRAY && i < n; i = (int)t[i].next)
			if (t[i].type == MT_JSON_STRING && mt_json_str((const uint8_t *)v, &t[i], buf, sizeof buf) >= 0)
				list_add(l, buf);
		return;
	}
	if (v[0]) { /* a plain string */
		list_add(l, v);
		return;
	}
	{ /* the first Redis sink kept sets mt:site:{IP}:<name> */
		char key[160];
		const char *a[2] = { "SMEMBERS", key };
		redisReply *r;

		snprintf(key, sizeof key, "mt:site:{%s}:%s", s->ip, name);
		if (!(r = cmd(q, 2, a)))
			return;
		for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && l->n < MT_Q_MAX_LIST; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				list_add(l, r->element[i]->str);
		freeReplyObject(r);
	}
}

static int rate_cmp(const void *a, const void *b)
{
	return strcmp(((const mt_qrate *)a)->algo, ((const mt_qrate *)b)->algo);
}

/* Reads mt:site:{IP}. Returns 1, 0 if the site is not in the store, or -errno. */
static int load_site(mt_qctx *q, const char *ip, mt_qsite *s)
{
	char key[160];
	const char *a[2] = { "HGETALL", key };
	redisReply *r;
	static const char *const fld[3][3] = {
		{ "power_w_low", "power_w_best", "power_w_high" },
		{ "energy_kwh_day_low", "energy_kwh_day_best", "energy_kwh_day_high" },
	};

	memset(s, 0, sizeof *s);
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	snprintf(key, sizeof key, "mt:site:{%s}", ip);
	if (!(r = cmd(q, 2, a)))
		return -EIO;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		freeReplyObject(r);
		return 0;
	}
	s->kv = xrealloc(NULL, r->elements * sizeof *s->kv);
	for (size_t i = 0; i < r->elements; i++)
		s->kv[s->nkv++] = xstrdup(r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "");
	freeReplyObject(r);
	s->first_seen = parse_time(mt_query_field(s, "first_seen"));
	s->last_seen = parse_time(mt_query_field(s, "last_seen"));
	s->updated = parse_time(mt_query_field(s, "updated"));
	s->hits = num(mt_query_field(s, "hits"));
	s->workers_seen = num(mt_query_field(s, "workers_seen"));
	s->machines_est = num(mt_query_field(s, "machines_est"));
	parse_list(q, s, "protocols", &s->protocols);
	parse_list(q, s, "coins", &s->coins);
	parse_list(q, s, "pools", &s->pools);
	parse_list(q, s, "wallets", &s->wallets);
	parse_list(q, s, "workers", &s->workers);
	parse_list(q, s, "agents", &s->agents);
	parse_list(q, s, "probes", &s->probes);
	if (s->workers_seen == 0)
		s->workers_seen = (double)s->workers.n;
	for (size_t i = 0; i + 1 < s->nkv && s->nrates < sizeof s->rates / sizeof s->rates[0]; i += 2) {
		mt_qrate *rt = &s->rates[s->nrates];
		char k[64];

		if (strncmp(s->kv[i], "hashrate_hs:", 12) != 0)
			continue;
		snprintf(rt->algo, sizeof rt->algo, "%s", s->kv[i] + 12);
		rt->hs = num(s->kv[i + 1]);
		snprintf(k, sizeof k, "hashrate_low_hs:%s", rt->algo);
		rt->low = num(mt_query_field(s, k));
		snprintf(k, sizeof k, "hashrate_high_hs:%s", rt->algo);
		rt->high = num(mt_query_field(s, k));
		s->nrates++;
	}
	qsort(s->rates, s->nrates, sizeof s->rates[0], rate_cmp);
	for (int i = 0; i < 3; i++) {
		if (mt_query_field(s, fld[0][i])[0])
			s->has_power = 1;
		s->power_w[i] = num(mt_query_field(s, fld[0][i]));
		s->energy_kwh_day[i] = num(mt_query_field(s, fld[1][i]));
	}
	{ /* the latest hit ids: the evidence behind the site */
		char hk[160], lim[16];
		const char *b[8] = { "ZREVRANGE", hk, "0", lim };

		snprintf(hk, sizeof hk, "mt:site:{%s}:hits", ip);
		snprintf(lim, sizeof lim, "%d", MT_Q_SAMPLE_HITS - 1);
		if ((r = cmd(q, 4, b))) {
			for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
				if (r->element[i]->type == REDIS_REPLY_STRING)
					list_add(&s->hit_ids, r->element[i]->str);
			freeReplyObject(r);
		}
	}
	return 1;
}

static void free_site(mt_qsite *s)
{
	for (size_t i = 0; i < s->nkv; i++)
		free(s->kv[i]);
	free(s->kv);
	list_free(&s->protocols);
	list_free(&s->coins);
	list_free(&s->pools);
	list_free(&s->wallets);
	list_free(&s->workers);
	list_free(&s->agents);
	list_free(&s->probes);
	list_free(&s->hit_ids);
	free(s->hit_ts);
}

int mt_query_hit_times(mt_qctx *q, mt_qsite *sites, size_t n, int64_t since, int64_t until)
{
	char key[160], lo[32], hi[32];
	const char *a[5] = { "ZRANGEBYSCORE", key, lo, hi, "WITHSCORES" };

	snprintf(lo, sizeof lo, "%lld", (long long)since);
	snprintf(hi, sizeof hi, "%lld", (long long)until);
	for (size_t k = 0; k < n; k++) {
		redisReply *r;

		snprintf(key, sizeof key, "mt:site:{%s}:hits", sites[k].ip);
		if (!(r = cmd(q, 5, a)))
			return -EIO;
		if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
			sites[k].hit_ts = xrealloc(sites[k].hit_ts, r->elements / 2 * sizeof *sites[k].hit_ts);
			for (size_t i = 1; i < r->elements; i += 2)
				if (r->element[i]->type == REDIS_REPLY_STRING)
					sites[k].hit_ts[sites[k].nhit_ts++] = (int64_t)num(r->element[i]->str);
		}
		freeReplyObject(r);
	}
	return 0;
}

/* Site IPs from a command's array reply (SMEMBERS, ZRANGEBYSCORE ...), sorted, deduplicated into l. */
static int ips_from(mt_qctx *q, int argc, const char **argv, mt_qlist *l)
{
	redisReply *r = cmd(q, argc, argv);

	if (!r)
		return -EIO;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			list_add(l, r->element[i]->str);
	freeReplyObject(r);
	return 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every listed site that exists; *out is malloc'd. */
static int load_sites(mt_qctx *q, const mt_qlist *ips, mt_qsite **out, size_t *nout)
{
	mt_qsite *v = xrealloc(NULL, (ips->n ? ips->n : 1) * sizeof *v);
	size_t n = 0;

	if (ips->n) /* qsort's base must not be NULL, even for no element */
		qsort(ips->v, ips->n, sizeof *ips->v, strp_cmp);
	for (size_t i = 0; i < ips->n; i++) {
		int rc = load_site(q, ips->v[i], &v[n]);

		if (rc < 0) {
			for (size_t k = 0; k <= n; k++)
				free_site(&v[k]);
			free(v);
			return rc;
		}
		if (rc > 0)
			n++;
		else
			free_site(&v[n]);
	}
	*out = v;
	*nout = n;
	return 0;
}

/* ---- formatting ---- */

static void fmt_si(double v, const char *unit, char *out, size_t n)
{
	static const char *const pre[] = { "", "k", "M", "G", "T", "P", "E", "Z" };
	int i = 0;

	while (v >= 1000 && i < 7) {
		v /= 1000;
		i++;
	}
	snprintf(out, n, v >= 100 ? "%.0f %s%s" : v >= 10 ? "%.1f %s%s" : "%.2f %s%s", v, pre[i], unit);
}

void mt_query_fmt_rate(double hs, const char *algo, char *out, size_t n)
{
	fmt_si(hs, strcmp(algo, "equihash") == 0 ? "Sol/s" : "H/s", out, n);
}

void mt_query_fmt_watts(double w, char *out, size_t n)
{
	fmt_si(w, "W", out, n);
}

void mt_query_fmt_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, n, "-");
}

void mt_query_region(const mt_qsite *s, char *out, size_t n)
{
	const char *cc = mt_query_field(s, "country"), *sub = mt_query_field(s, "subdivision");

	if (!cc[0])
		snprintf(out, n, "??");
	else if (sub[0])
		snprintf(out, n, "%s-%s", cc, sub);
	else
		snprintf(out, n, "%s", cc);
}

/* Decodes one UTF-8 sequence; returns its length (1 for a bad byte) and the code point. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
		*cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
		return 2;
	}
	if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
		*cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
		return 3;
	}
	if ((p[0] & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
		*cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 |
		      (p[3] & 0x3F);
		return 4;
	}
	*cp = 0xFFFD;
	return 1;
}

/* Terminal columns of a code point: East Asian Wide and Fullwidth (UAX #11) take two. */
static int cp_width(uint32_t c)
{
	if (c == 0 || (c >= 0x300 && c <= 0x36F) || c == 0x200B)
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

size_t mt_query_width(const char *s)
{
	size_t w = 0;
	uint32_t c;

	while (*s) {
		s += utf8_next((const unsigned char *)s, &c);
		w += (size_t)cp_width(c);
	}
	return w;
}

/* Copies s cut to at most max columns (an ellipsis marks the cut) into out. */
static void cut_cell(const char *s, size_t max, char *out, size_t n)
{
	size_t o = 0, w = 0;
	uint32_t c;

	if (mt_query_width(s) <= max) {
		snprintf(out, n, "%s", s);
		return;
	}
	while (*s) {
		size_t l = utf8_next((const unsigned char *)s, &c);
		int cw = cp_width(c);

		if (w + (size_t)cw > max - 1 || o + l + 4 > n)
			break;
		memcpy(out + o, s, l);
		o += l;
		w += (size_t)cw;
		s += l;
	}
	memcpy(out + o, "\xe2\x80\xa6", 3); /* U+2026 */
	out[o + 3] = '\0';
}

/* ---- aligned tables ---- */

typedef struct table {
	size_t ncol, nrow;
	char **cell; /* row-major, row 0 = header */
} table;

static void tab_row(table *t, const char *const *cells)
{
	t->cell = xrealloc(t->cell, (t->nrow + 1) * t->ncol * sizeof *t->cell);
	for (size_t c = 0; c < t->ncol; c++) {
		char buf[512];

		cut_cell(cells[c] ? cells[c] : "", Q_CELL_MAX, buf, sizeof buf);
		t->cell[t->nrow * t->ncol + c] = xstrdup(buf);
	}
	t->nrow++;
}

static void tab_print(FILE *fp, table *t)
{
	size_t w[32] = { 0 };

	for (size_t r = 0; r < t->nrow; r++)
		for (size_t c = 0; c < t->ncol && c < 32; c++) {
			size_t cw = mt_query_width(t->cell[r * t->ncol + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r < t->nrow; r++) {
		for (size_t c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];

			fputs(s, fp);
			if (c + 1 < t->ncol)
				for (size_t k = mt_query_width(s); k < w[c] + 2; k++)
					fputc(' ', fp);
		}
		fputc('\n', fp);
		if (r == 0) {
			for (size_t c = 0; c < t->ncol; c++)
				for (size_t k = 0; k < w[c] + (c + 1 < t->ncol ? 2 : 0); k++)
					fputc('-', fp);
			fputc('\n', fp);
		}
	}
	for (size_t i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->nrow = 0;
}

static void join_list(const mt_qlist *l, const char *sep, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n && o < n; i++) {
		int k = snprintf(out + o, n - o, "%s%s", i ? sep : "", l->v[i]);

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* "algo rate" per algorithm, joined by sep; empty when there is none. */
void mt_query_rates_text(const mt_qrate *r, size_t nr, const char *sep, const char *empty, char *out,
			 size_t n)
{
	size_t o = 0;

	if (!n)
		return;
	snprintf(out, n, "%s", empty);
	for (size_t i = 0; i < nr && o < n; i++) {
		char t[48];
		int k;

		mt_query_fmt_rate(r[i].hs, r[i].algo, t, sizeof t);
		k = snprintf(out + o, n - o, "%s%s %s", i ? sep : "", r[i].algo, t);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

static void print_sites_table(FILE *fp, const mt_qsite *v, size_t n)
{
	static const char *const hdr[] = { "SITE", "LAST SEEN (UTC)", "HITS", "REGION", "CITY", "COMPANY",
					   "VERDICT", "WORKERS", "HASH RATE", "POWER (BEST)", "POOLS" };
	table t = { sizeof hdr / sizeof hdr[0], 0, NULL };

	tab_row(&t, hdr);
	for (size_t i = 0; i < n; i++) {
		const mt_qsite *s = &v[i];
		char last[32], hits[24], reg[64], city[256], wk[24], rate[256], pw[32], pools[512];
		const char *row[11];

		mt_query_fmt_time(s->last_seen, last, sizeof last);
		snprintf(hits, sizeof hits, "%.0f", s->hits);
		mt_query_region(s, reg, sizeof reg);
		snprintf(city, sizeof city, "%s", mt_query_field(s, "city_zh")[0] ? mt_query_field(s, "city_zh")
										 : mt_query_field(s, "city"));
		snprintf(wk, sizeof wk, "%.0f", s->workers_seen);
		mt_query_rates_text(s->rates, s->nrates, ", ", "-", rate, sizeof rate);
		if (s->has_power)
			mt_query_fmt_watts(s->power_w[1], pw, sizeof pw);
		else
			snprintf(pw, sizeof pw, "-");
		join_list(&s->pools, ", ", pools, sizeof pools);
		row[0] = s->ip; row[1] = last; row[2] = hits; row[3] = reg; row[4] = city;
		row[5] = mt_query_field(s, "company"); row[6] = mt_query_field(s, "verdict");
		row[7] = wk; row[8] = rate; row[9] = pw; row[10] = pools;
		tab_row(&t, row);
	}
	tab_print(fp, &t);
	fprintf(fp, "%zu site%s\n", n, n == 1 ? "" : "s");
}

/* ---- JSON ---- */

static void jw_list(mt_jw *w, const char *key, const mt_qlist *l)
{
	mt_jw_key(w, key);
	mt_jw_arr_open(w);
	for (size_t i = 0; i < l->n; i++)
		mt_jw_str(w, l->v[i]);
	mt_jw_arr_close(w);
}

void mt_query_site_json(mt_jw *w, const mt_qsite *s)
{
	static const char *const numeric[] = { "latitude", "longitude", "asn", "hits", "workers_seen", "machines_est",
					       "estimate_updated" };
	mt_jw_obj_open(w);
	mt_jw_kstr(w, "ip", s->ip);
	for (size_t i = 0; i + 1 < s->nkv; i += 2) {
		const char *k = s->kv[i];
		int skip = 0, isnum = 0;

		for (size_t j = 0; j < sizeof list_names / sizeof list_names[0]; j++)
			skip |= strcmp(k, list_names[j]) == 0;
		skip |= strncmp(k, "hashrate_", 9) == 0 || strncmp(k, "power_w_", 8) == 0 ||
			strncmp(k, "energy_kwh_day_", 15) == 0 || strcmp(k, "first_seen") == 0 ||
			strcmp(k, "last_seen") == 0 || strcmp(k, "updated") == 0 || strcmp(k, "ip") == 0;
		if (skip)
			continue;
		for (size_t j = 0; j < sizeof numeric / sizeof numeric[0]; j++)
			isnum |= strcmp(k, numeric[j]) == 0;
		if (isnum)
			mt_jw_kdouble(w, k, num(s->kv[i + 1]));
		else
			mt_jw_kstr(w, k, s->kv[i + 1]);
	}
	if (s->first_seen >= 0)
		mt_jw_ku64(w, "first_seen", (uint64_t)s->first_seen);
	if (s->last_seen >= 0)
		mt_jw_ku64(w, "last_seen", (uint64_t)s->last_seen);
	if (s->updated >= 0)
		mt_jw_ku64(w, "updated", (uint64_t)s->updated);
	jw_list(w, "protocols", &s->protocols);
	jw_list(w, "coins", &s->coins);
	jw_list(w, "pools", &s->pools);
	jw_list(w, "wallets", &s->wallets);
	jw_list(w, "workers", &s->workers);
	jw_list(w, "agents", &s->agents);
	jw_list(w, "probes", &s->probes);
	mt_jw_key(w, "hashrate");
	mt_jw_obj_open(w);
	for (size_t i = 0; i < s->nrates; i++) {
		mt_jw_key(w, s->rates[i].algo);
		mt_jw_obj_open(w);
		mt_jw_kdouble(w, "hs", s->rates[i].hs);
		mt_jw_kdouble(w, "low_hs", s->rates[i].low);
		mt_jw_kdouble(w, "high_hs", s->rates[i].high);
		mt_jw_obj_close(w);
	}
	mt_jw_obj_close(w);
	if (s->has_power) {
		static const char *const lbh[3] = { "low", "best", "high" };

		mt_jw_key(w, "power_w");
		mt_jw_obj_open(w);
		for (int i = 0; i < 3; i++)
			mt_jw_kdouble(w, lbh[i], s->power_w[i]);
		mt_jw_obj_close(w);
		mt_jw_key(w, "energy_kwh_day");
		mt_jw_obj_open(w);
		for (int i = 0; i < 3; i++)
			mt_jw_kdouble(w, lbh[i], s->energy_kwh_day[i]);
		mt_jw_obj_close(w);
	}
	jw_list(w, "sample_hit_ids", &s->hit_ids);
	mt_jw_obj_close(w);
}

static int print_sites_json(FILE *fp, const mt_qsite *v, size_t n)
{
	mt_jw w;

	mt_jw_init(&w);
	mt_jw_reset(&w);
	mt_jw_arr_open(&w);
	for (size_t i = 0; i < n; i++)
		mt_query_site_json(&w, &v[i]);
	mt_jw_arr_close(&w);
	if (w.err) {
		mt_jw_free(&w);
		return -ENOMEM;
	}
	fwrite(w.buf, 1, w.len, fp);
	fputc('\n', fp);
	mt_jw_free(&w);
	return 0;
}

/* ---- commands ---- */

static int show_sites(mt_qctx *q, mt_qlist *ips, int json)
{
	mt_qsite *v;
	size_t n;
	int rc = load_sites(q, ips, &v, &n);

	if (rc < 0)
		return rc;
	if (json)
		rc = print_sites_json(stdout, v, n);
	else
		print_sites_table(stdout, v, n);
	for (size_t i = 0; i < n; i++)
		free_site(&v[i]);
	free(v);
	return rc;
}

static int cmd_site(mt_qctx *q, const char *ip, int json)
{
	mt_qsite s;
	int rc = load_site(q, ip, &s);
	char key[160];
	redisReply *r;

	if (rc <= 0) {
		free_site(&s);
		if (rc == 0)
			fprintf(stderr, "minetrace-query: no site %s in the store\n", ip);
		return rc == 0 ? -ENOENT : rc;
	}
	if (json) {
		rc = print_sites_json(stdout, &s, 1);
		free_site(&s);
		return rc;
	}
	{
		static const char *const hdr[] = { "FIELD", "VALUE" };
		table t = { 2, 0, NULL };
		char b[1024];
		const char *row[2];

		tab_row(&t, hdr);
		for (size_t i = 0; i + 1 < s.nkv; i += 2) {
			row[0] = s.kv[i];
			row[1] = s.kv[i + 1];
			if (strcmp(row[0], "first_seen") == 0 || strcmp(row[0], "last_seen") == 0 ||
			    strcmp(row[0], "updated") == 0) {
				char tm[32];

				mt_query_fmt_time(parse_time(row[1]), tm, sizeof tm);
				snprintf(b, sizeof b, "%s (%s UTC)", row[1], tm);
				row[1] = b;
			}
			tab_row(&t, row);
		}
		printf("site %s\n\n", s.ip);
		tab_print(stdout, &t);
	}
	snprintf(key, sizeof key, "mt:site:{%s}:flows", ip);
	{
		const char *a[2] = { "HGETALL", key };

		if ((r = cmd(q, 2, a)) && r->type == REDIS_REPLY_ARRAY && r->elements) {
			static const char *const hdr[] = { "FLOW (probe|community_id|start)", "ESTIMATE" };
			table t = { 2, 0, NULL };

			tab_row(&t, hdr);
			for (size_t i = 0; i + 1 < r->elements; i += 2) {
				const char *row[2] = { r->element[i]->str, r->element[i + 1]->str };

				tab_row(&t, row);
			}
			printf("\nflows\n\n");
			tab_print(stdout, &t);
		}
		if (r)
			freeReplyObject(r);
	}
	if (s.hit_ids.n) {
		char ids[1024];

		join_list(&s.hit_ids, "\n  ", ids, sizeof ids);
		printf("\nlatest hits\n  %s\n", ids);
	}
	free_site(&s);
	return 0;
}

static int cmd_index(mt_qctx *q, const char *kind, const char *arg, int json)
{
	mt_qlist ips = { NULL, 0 };
	char key[600];
	const char *a[2] = { "SMEMBERS", key };
	int rc = 0;

	if (strcmp(kind, "company") == 0) {
		snprintf(key, sizeof key, "mt:idx:company:%s", arg);
		rc = ips_from(q, 2, a, &ips);
		snprintf(key, sizeof key, "mt:idx:companyname:%s", arg);
		if (!rc)
			rc = ips_from(q, 2, a, &ips);
	} else if (strcmp(kind, "region") == 0) {
		snprintf(key, sizeof key, "mt:idx:region:%s", arg);
		rc = ips_from(q, 2, a, &ips);
	} else {
		snprintf(key, sizeof key, "mt:idx:%s:%s", kind, arg);
		rc = ips_from(q, 2, a, &ips);
	}
	if (!rc)
		rc = show_sites(q, &ips, json);
	list_free(&ips);
	return rc;
}

/* The newest last_seen in the store (mt:sites' top score), or -1. */
static int64_t latest_seen(mt_qctx *q)
{
	const char *a[5] = { "ZREVRANGE", "mt:sites", "0", "0", "WITHSCORES" };
	redisReply *r = cmd(q, 5, a);
	int64_t t = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
		t = (int64_t)num(r->element[1]->str);
	if (r)
		freeReplyObject(r);
	return t;
}

static int window_sites(mt_qctx *q, int64_t since, int64_t until, mt_qlist *ips)
{
	char lo[32], hi[32];
	const char *a[4] = { "ZRANGEBYSCORE", "mt:sites", lo, hi };

	snprintf(lo, sizeof lo, "%lld", (long long)since);
	snprintf(hi, sizeof hi, "%lld", (long long)until);
	return ips_from(q, 4, a, ips);
}

static int resolve_window(mt_qctx *q, const char *since_s, const char *until_s, int64_t *since, int64_t *until)
{
	int64_t d = parse_duration(since_s);

	if (!until_s || strcmp(until_s, "now") == 0) {
		*until = (int64_t)time(NULL);
	} else if (strcmp(until_s, "latest") == 0) {
		*until = latest_seen(q);
		if (*until < 0)
			*until = (int64_t)time(NULL);
	} else if ((*until = parse_time(until_s)) < 0) {
		fprintf(stderr, "minetrace-query: bad --until '%s'\n", until_s);
		return -EINVAL;
	}
	if (d < 0) {
		*since = parse_time(since_s);
		if (*since < 0) {
			fprintf(stderr, "minetrace-query: bad --since '%s' (a duration such as 24h, or a time)\n", since_s);
			return -EINVAL;
		}
	} else {
		*since = *until - d;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *url = getenv("MT_REDIS_URL"), *since_s = NULL, *until_s = NULL, *format = "html", *outp = NULL;
	const char *pos[4] = { NULL };
	int json = 0, npos = 0, rc;
	mt_qctx q = { NULL };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "--redis") == 0 || strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0 ||
		     strcmp(a, "--format") == 0 || strcmp(a, "-o") == 0) && i + 1 >= argc) {
			fprintf(stderr, "minetrace-query: %s needs a value\n", a);
			return 2;
		}
		if (strcmp(a, "--redis") == 0)
			url = argv[++i];
		else if (strcmp(a, "--since") == 0)
			since_s = argv[++i];
		else if (strcmp(a, "--until") == 0)
			until_s = argv[++i];
		else if (strcmp(a, "--format") == 0)
			format = argv[++i];
		else if (strcmp(a, "-o") == 0)
			outp = argv[++i];
		else if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("minetrace-query %s\n", MT_VERSION);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "minetrace-query: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else if (npos < 4) {
			pos[npos++] = a;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (npos < 1) {
		usage(stderr);
		return 2;
	}
	{
		static const char *const one[] = { "site", "company", "pool", "wallet", "region", "asn" };
		int need = 0, known = strcmp(pos[0], "recent") == 0 || strcmp(pos[0], "report") == 0;

		for (size_t k = 0; k < sizeof one / sizeof one[0]; k++)
			if (strcmp(pos[0], one[k]) == 0)
				need = known = 1;
		if (!known || npos != 1 + need) {
			fprintf(stderr, "minetrace-query: %s '%s'\n", known ? "wrong arguments for" : "unknown command", pos[0]);
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(pos[0], "report") == 0 && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "html") != 0) {
		fprintf(stderr, "minetrace-query: --format is csv, json or html\n");
		return 2;
	}
	if (q_connect(&q, url ? url : Q_DEFAULT_URL) < 0) {
		if (q.c)
			redisFree(q.c);
		return 1;
	}
	if (strcmp(pos[0], "site") == 0) {
		rc = cmd_site(&q, pos[1], json);
	} else if (strcmp(pos[0], "recent") == 0 || strcmp(pos[0], "report") == 0) {
		int report = strcmp(pos[0], "report") == 0;
		int64_t since, until;
		mt_qlist ips = { NULL, 0 };

		rc = resolve_window(&q, since_s ? since_s : report ? "7d" : "24h", until_s, &since, &until);
		if (!rc)
			rc = window_sites(&q, since, until, &ips);
		if (!rc && !report) {
			rc = show_sites(&q, &ips, json);
		} else if (!rc) {
			mt_qsite *v = NULL;
			size_t n = 0;
			FILE *fp = stdout;

			rc = load_sites(&q, &ips, &v, &n);
			if (!rc)
				rc = mt_query_hit_times(&q, v, n, since, until);
			if (!rc && outp && !(fp = fopen(outp, "w"))) {
				fprintf(stderr, "minetrace-query: %s: %s\n", outp, strerror(errno));
				rc = -errno;
			}
			if (!rc)
				rc = mt_query_report(fp, format, v, n, since, until);
			if (fp && fp != stdout && fclose(fp) != 0 && !rc)
				rc = -EIO;
			for (size_t i = 0; i < n; i++)
				free_site(&v[i]);
			free(v);
		}
		list_free(&ips);
	} else {
		rc = cmd_index(&q, pos[0], pos[1], json);
	}
	redisFree(q.c);
	return rc == 0 ? 0 : 1;
}
