/* enrich.c - MaxMind DB lookups (libmaxminddb, MMAP mode) for hit attribution. */
#include "enrich/enrich.h"

#include <dirent.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DB_CITY, DB_ASN, DB_ISP, DB_REG, DB_N };

static const char *const db_name[DB_N] = { "city", "asn", "isp", "registry" };

struct mt_enrich {
	MMDB_s db[DB_N];
	int open[DB_N];
	char path[DB_N][1024];
};

int mt_enrich_available(void)
{
	return 1;
}

/* A country-only database (GeoLite2-Country) gives geo without a city: used when no City is there. */
static int is_country(const char *type)
{
	return type && strstr(type, "Country") && !strstr(type, "City");
}

/*
 * Typed by metadata database_type: GeoIP2/GeoLite2/DBIP "...-City...", "...-Country...",
 * "...-ASN...", "...-ISP".
 */
static int db_kind(const char *type)
{
	if (!type)
		return -1;
	if (strstr(type, "City") || is_country(type))
		return DB_CITY;
	if (strstr(type, "-ASN"))
		return DB_ASN;
	if (strstr(type, "-ISP"))
		return DB_ISP;
	if (strcmp(type, "minetrace-registry") == 0)
		return DB_REG;
	return -1;
}

/*
 * Looks a few addresses up and decodes their whole records: a database whose
 * tree or data section is corrupt where these land is refused at start rather
 * than silently answering nothing for every hit. (Lookups elsewhere that hit
 * corruption later fail cleanly and count as "not found".)
 */
static int probe(MMDB_s *db)
{
	static const char *const ips[] = { "1.1.1.1", "8.8.8.8", "81.2.69.142", "175.16.199.1",
					   "203.0.113.1", "10.0.0.1", "2001:db8::1", "::1" };
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		int gai = 0, mmerr = 0;
		if (db->metadata.ip_version == 4 && strchr(ips[i], ':'))
			continue;
		MMDB_lookup_result_s r = MMDB_lookup_string(db, ips[i], &gai, &mmerr);
		if (gai != 0)
			continue;
		if (mmerr != MMDB_SUCCESS)
			return mmerr;
		if (!r.found_entry)
			continue;
		MMDB_entry_data_list_s *list = NULL;
		int rc = MMDB_get_entry_data_list(&r.entry, &list);
		MMDB_free_entry_data_list(list);
		if (rc != MMDB_SUCCESS)
			return rc;
	}
	return MMDB_SUCCESS;
}

static int open_one(const char *path, MMDB_s *db, char *err, size_t errlen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, MMDB_strerror(rc));
		return -EINVAL;
	}
	rc = probe(db);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: corrupt database: %s", path, MMDB_strerror(rc));
		MMDB_close(db);
		return -EINVAL;
	}
	return 0;
}

static void keep(mt_enrich *e, int k, MMDB_s *db, const char *path)
{
	if (e->open[k])
		MMDB_close(&e->db[k]);
	e->db[k] = *db;
	e->open[k] = 1;
	snprintf(e->path[k], sizeof e->path[k], "%s", path);
}

static int place(mt_enrich *e, const char *path, int want, char *err, size_t errlen)
{
	MMDB_s db;
	if (open_one(path, &db, err, errlen))
		return -EINVAL;
	int k = db_kind(db.metadata.database_type);
	if (k < 0 || k != want) {
		snprintf(err, errlen, "%s: database_type \"%s\" is not a %s database", path,
			 db.metadata.database_type ? db.metadata.database_type : "", db_name[want]);
		MMDB_close(&db);
		return -EINVAL;
	}
	keep(e, k, &db, path);
	return 0;
}

static int only_mmdb(const struct dirent *de)
{
	size_t l = strlen(de->d_name);
	return de->d_name[0] != '.' && l >= 5 && strcmp(de->d_name + l - 5, ".mmdb") == 0;
}

/*
 * Every *.mmdb of dir, in name order; the first of each type is used, the others named in
 * `note`, except those of a type named file by file (`given`), which the user chose over them.
 */
static int scan_dir(mt_enrich *e, const char *dir, const unsigned given, char *err, size_t errlen,
		    char *note, size_t notelen)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, only_mmdb, alphasort), rc = 0;
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0 && i < MT_ENRICH_MAX_DIR_FILES) {
			char path[1024];
			MMDB_s db;
			snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
			if (open_one(path, &db, err, errlen)) {
				rc = -EINVAL;
			} else {
				int k = db_kind(db.metadata.database_type);
				if (k >= 0 && !e->open[k]) {
					keep(e, k, &db, path);
				} else if (k == DB_CITY && !(given & 1u) &&
					   !is_country(db.metadata.database_type) &&
					   is_country(e->db[k].metadata.database_type)) {
					keep(e, k, &db, path); /* a City beats a Country */
				} else if (k >= 0 && (given & (1u << k))) {
					MMDB_close(&db);
				} else {
					size_t l = strlen(note);
					if (l < notelen)
						snprintf(note + l, notelen - l, "%s%s (%s) not used",
							 l ? "; " : "", path, k < 0 ?
							 "unknown database_type" : "second of its type");
					MMDB_close(&db);
				}
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

mt_enrich *mt_enrich_open(const char *dir, const char *city, const char *asn,
			  const char *isp, const char *registry, char *err, size_t errlen)
{
	char dummy[1], note[2048] = "";
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	mt_enrich *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Files named one by one take the place of the folder's file of that type. */
	const char *files[DB_N] = { city, asn, isp, registry };
	unsigned given = 0;
	for (int k = 0; k < DB_N; k++) {
		if (!files[k] || !files[k][0])
			continue;
		if (place(e, files[k], k, err, errlen))
			goto fail;
		given |= 1u << k;
	}
	if (dir && dir[0] && scan_dir(e, dir, given, err, errlen, note, sizeof note))
		goto fail;
	/* The one warning: what is disabled (the ISP database is optional) and what was skipped. */
	if (!e->open[DB_CITY] || !e->open[DB_ASN] || !e->open[DB_REG]) {
		snprintf(err, errlen, "no database for:%s%s%s (that enrichment is disabled)%s%s",
			 e->open[DB_CITY] ? "" : " city", e->open[DB_ASN] ? "" : " asn",
			 e->open[DB_REG] ? "" : " registry", note[0] ? "; " : "", note);
	} else if (note[0]) {
		snprintf(err, errlen, "%s", note);
	}
	return e;
fail:
	mt_enrich_close(e);
	return NULL;
}

void mt_enrich_close(mt_enrich *e)
{
	if (!e)
		return;
	for (int k = 0; k < DB_N; k++)
		if (e->open[k])
			MMDB_close(&e->db[k]);
	free(e);
}

unsigned mt_enrich_loaded(const mt_enrich *e)
{
	unsigned m = 0;
	for (int k = 0; e && k < DB_N; k++)
		if (e->open[k])
			m |= 1u << k;
	return m;
}

void mt_enrich_describe(const mt_enrich *e, char *out, size_t outlen)
{
	size_t l = 0;
	if (!outlen)
		return;
	out[0] = 0;
	for (int k = 0; e && k < DB_N; k++) {
		if (!e->open[k] || l >= outlen)
			continue;
		time_t t = (time_t)e->db[k].metadata.build_epoch;
		struct tm tm;
		char date[16] = "?";
		if (gmtime_r(&t, &tm))
			strftime(date, sizeof date, "%Y-%m-%d", &tm);
		int w = snprintf(out + l, outlen - l, "%s%s=%s (%s, %s)", l ? ", " : "", db_name[k],
				 e->path[k], e->db[k].metadata.database_type, date);
		if (w < 0)
			break;
		l += (size_t)w;
	}
}

/* Copies a UTF-8 string, cutting only at a character boundary. */
static void put_str(char *dst, size_t cap, const char *s, uint32_t n)
{
	if (n >= cap) {
		n = (uint32_t)cap - 1;
		while (n > 0 && ((uint8_t)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
}

static int get_str(MMDB_entry_s *en, char *dst, size_t cap, const char *const *path)
{
	MMDB_entry_data_s d;
	if (MMDB_aget_value(en, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return 0;
	put_str(dst, cap, d.utf8_string, d.data_size);
	return 1;
}

static int get_num(MMDB_entry_s *en, double *dv, uint32_t *uv, const char *const *path)
{
	MMDB_entry_data_s d;
	if (MMDB_aget_value(en, &d, path) != MMDB_SUCCESS || !d.has_data)
		return 0;
	double v;
	switch (d.type) {
	case MMDB_DATA_TYPE_DOUBLE: v = d.double_value; break;
	case MMDB_DATA_TYPE_FLOAT: v = d.float_value; break;
	case MMDB_DATA_TYPE_UINT16: v = d.uint16; break;
	case MMDB_DATA_TYPE_UINT32: v = d.uint32; break;
	case MMDB_DATA_TYPE_INT32: v = d.int32; break;
	case MMDB_DATA_TYPE_UINT64: v = (double)d.uint64; break;
	default: return 0;
	}
	if (dv)
		*dv = v;
	if (uv)
		*uv = (v >= 0 && v <= 4294967295.0) ? (uint32_t)v : 0;
	return 1;
}

static int find(const MMDB_s *db, int ipver, const uint8_t addr[16], MMDB_entry_s *out)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (ipver == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
	}
	int mmerr = 0;
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS || !r.found_entry)
		return 0;
	*out = r.entry;
	return 1;
}

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * The map at `path` below `en` as an entry of its own, so the fields in it are
 * found without walking the record's top-level map again for each one.
 */
static int sub_map(MMDB_entry_s *en, const char *const *path, MMDB_entry_s *out)
{
	MMDB_entry_data_s d;
	if (MMDB_aget_value(en, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_MAP)
		return 0;
	out->mmdb = en->mmdb;
	out->offset = d.offset;
	return 1;
}

static void geo_fields(MMDB_entry_s *en, mt_enrich_result *out)
{
	MMDB_entry_s m, n;
	if (sub_map(en, P("country"), &m)) {
		get_str(&m, out->geo.country, sizeof out->geo.country, P("iso_code"));
		if (sub_map(&m, P("names"), &n))
			get_str(&n, out->geo.country_name, MT_ENRICH_STR, P("en"));
	}
	if (sub_map(en, P("subdivisions", "0"), &m)) {
		get_str(&m, out->geo.subdivision, sizeof out->geo.subdivision, P("iso_code"));
		if (sub_map(&m, P("names"), &n))
			get_str(&n, out->geo.subdivision_name, MT_ENRICH_STR, P("en"));
	}
	if (sub_map(en, P("city", "names"), &n)) {
		get_str(&n, out->geo.city, MT_ENRICH_STR, P("en"));
		get_str(&n, out->geo.city_zh, MT_ENRICH_STR, P("zh-CN"));
	}
	if (sub_map(en, P("location"), &m)) {
		out->geo.has_location = get_num(&m, &out->geo.latitude, NULL, P("latitude")) &
					get_num(&m, &out->geo.longitude, NULL, P("longitude"));
		out->geo.has_radius = get_num(&m, NULL, &out->geo.accuracy_radius,
					      P("accuracy_radius"));
	}
	/* A record with none of these (only a continent, say) gives no geo object at all. */
	out->has_geo = out->geo.country[0] || out->geo.subdivision[0] || out->geo.city[0] ||
		       out->geo.city_zh[0] || out->geo.has_location;
}

static void reg_fields(MMDB_entry_s *en, mt_enrich_result *out)
{
	out->has_ent = 1;
	get_str(en, out->ent.company, MT_ENRICH_STR, P("company"));
	get_str(en, out->ent.credit_code, sizeof out->ent.credit_code, P("credit_code"));
	get_str(en, out->ent.registered_address, MT_ENRICH_STR, P("registered_address"));
	get_str(en, out->ent.site_address, MT_ENRICH_STR, P("site_address"));
	get_str(en, out->ent.kind, sizeof out->ent.kind, P("kind"));
	get_str(en, out->ent.park, MT_ENRICH_STR, P("park"));
	out->ent.has_location = get_num(en, &out->ent.latitude, NULL, P("latitude")) &
				get_num(en, &out->ent.longitude, NULL, P("longitude"));
	/* The notice forbids mining disguised as a data centre; a mine is a known one. */
	if (!strcmp(out->ent.kind, "data_center") || !strcmp(out->ent.kind, "idc"))
		memcpy(out->verdict, "mining_in_data_center", sizeof "mining_in_data_center");
	else if (!strcmp(out->ent.kind, "mine"))
		memcpy(out->verdict, "known_mine", sizeof "known_mine");
}

int mt_enrich_lookup(const mt_enrich *e, int ipver, const uint8_t addr[16],
		     mt_enrich_result *out)
{
	if (!e || !addr || !out || (ipver != 4 && ipver != 6))
		return -EINVAL;
	memset(out, 0, sizeof *out);
	MMDB_entry_s en;
	if (e->open[DB_CITY] && find(&e->db[DB_CITY], ipver, addr, &en)) {
		geo_fields(&en, out);
	}
	if (e->open[DB_ASN] && find(&e->db[DB_ASN], ipver, addr, &en)) {
		out->has_asn = get_num(&en, NULL, &out->asn.number, P("autonomous_system_number"));
		get_str(&en, out->asn.org, MT_ENRICH_STR, P("autonomous_system_organization"));
		out->has_asn |= out->asn.org[0] != 0;
	}
	if (e->open[DB_ISP] && find(&e->db[DB_ISP], ipver, addr, &en)) {
		get_str(&en, out->isp.isp, MT_ENRICH_STR, P("isp"));
		get_str(&en, out->isp.organization, MT_ENRICH_STR, P("organization"));
		out->has_isp = out->isp.isp[0] || out->isp.organization[0];
		if (!out->has_asn) {
			out->has_asn = get_num(&en, NULL, &out->asn.number,
					       P("autonomous_system_number"));
			get_str(&en, out->asn.org, MT_ENRICH_STR,
				P("autonomous_system_organization"));
		}
	}
	if (e->open[DB_REG] && find(&e->db[DB_REG], ipver, addr, &en)) {
		reg_fields(&en, out);
	}
	return 0;
}

/* ---- the record cache ---- */

typedef struct cslot {
	uint32_t off;		/* record offset in the data section */
	uint8_t db;		/* DB_* + 1; 0 = empty */
	char verdict[32];	/* of a registry record */
	uint32_t len[2];	/* [0] the part's value; [1] an ISP record's ASN value */
	uint32_t cap;
	char *buf;		/* len[0] + len[1] bytes of JSON */
} cslot;

/* A whole miner/pool object of one address: pools and busy miners come back in hit after hit. */
typedef struct aslot {
	uint8_t addr[16];
	uint8_t ipver;		/* 0 = empty */
	uint8_t verdict;	/* written with_verdict */
	uint32_t len, cap;
	char *buf;
} aslot;

#define ADDR_SLOTS 1024

struct mt_enrich_cache {
	unsigned mask;
	mt_jw scratch;
	mt_enrich_result r;
	aslot addr[ADDR_SLOTS];
	cslot slot[];
};

mt_enrich_cache *mt_enrich_cache_new(unsigned slots)
{
	unsigned n = 4 * DB_N;
	while (n < slots && n < (1u << 20))
		n <<= 1;
	mt_enrich_cache *c = calloc(1, sizeof *c + n * sizeof(cslot));
	if (!c)
		return NULL;
	c->mask = n - 1;
	mt_jw_init(&c->scratch);
	return c;
}

void mt_enrich_cache_clear(mt_enrich_cache *c)
{
	for (unsigned i = 0; c && i <= c->mask; i++)
		c->slot[i].db = 0;
	for (unsigned i = 0; c && i < ADDR_SLOTS; i++)
		c->addr[i].ipver = 0;
}

void mt_enrich_cache_free(mt_enrich_cache *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i <= c->mask; i++)
		free(c->slot[i].buf);
	for (unsigned i = 0; i < ADDR_SLOTS; i++)
		free(c->addr[i].buf);
	mt_jw_free(&c->scratch);
	free(c);
}

/* Appends the scratch writer's text to the slot as part i. */
static int slot_put(cslot *s, int i, const mt_jw *w)
{
	size_t need = (i ? s->len[0] : 0) + w->len;
	if (w->err || need > UINT32_MAX / 2)
		return -ENOMEM;
	if (need > s->cap) {
		char *nb = realloc(s->buf, need);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = (uint32_t)need;
	}
	if (w->len) /* an empty part may meet a slot that never had a buffer */
		memcpy(s->buf + (i ? s->len[0] : 0), w->buf, w->len);
	s->len[i] = (uint32_t)w->len;
	return 0;
}

/* Decodes one database's record and keeps its rendered value(s) in slot s. */
static int render(mt_enrich_cache *c, cslot *s, int k, MMDB_entry_s *en)
{
	mt_enrich_result *r = &c->r;
	mt_jw *w = &c->scratch;
	int rc = 0;

	memset(r, 0, sizeof *r);
	s->db = 0;
	s->len[0] = s->len[1] = 0;
	s->verdict[0] = 0;
	mt_jw_reset(w);
	switch (k) {
	case DB_CITY:
		geo_fields(en, r);
		if (r->has_geo)
			mt_enrich_json_part(w, r, MT_ENRICH_PART_GEO);
		break;
	case DB_ASN:
		r->has_asn = get_num(en, NULL, &r->asn.number, P("autonomous_system_number"));
		get_str(en, r->asn.org, MT_ENRICH_STR, P("autonomous_system_organization"));
		if (r->has_asn || r->asn.org[0])
			mt_enrich_json_part(w, r, MT_ENRICH_PART_ASN);
		break;
	case DB_ISP:
		get_str(en, r->isp.isp, MT_ENRICH_STR, P("isp"));
		get_str(en, r->isp.organization, MT_ENRICH_STR, P("organization"));
		if (r->isp.isp[0] || r->isp.organization[0])
			mt_enrich_json_part(w, r, MT_ENRICH_PART_ISP);
		rc = slot_put(s, 0, w);
		mt_jw_reset(w);
		/* The ISP database's AS number stands in when the ASN database has none. */
		if (get_num(en, NULL, &r->asn.number, P("autonomous_system_number"))) {
			get_str(en, r->asn.org, MT_ENRICH_STR, P("autonomous_system_organization"));
			mt_enrich_json_part(w, r, MT_ENRICH_PART_ASN);
		}
		if (rc == 0)
			rc = slot_put(s, 1, w);
		goto done;
	default:
		reg_fields(en, r);
		mt_enrich_json_part(w, r, MT_ENRICH_PART_ENT);
		memcpy(s->verdict, r->verdict, sizeof s->verdict);
		break;
	}
	rc = slot_put(s, 0, w);
done:
	if (rc == 0) {
		s->db = (uint8_t)(k + 1);
		s->off = en->offset;
	}
	return rc;
}

/* The slot holding the rendered record en of database k (rendered now if needed), or NULL. */
static const cslot *cached(mt_enrich_cache *c, int k, MMDB_entry_s *en)
{
	/* Each database has its own quarter, so one address's records never evict each other. */
	uint32_t h = en->offset * 2654435761u;
	unsigned quarter = (c->mask + 1) / DB_N;
	cslot *s = &c->slot[(unsigned)k * quarter + ((h >> 8) & (quarter - 1))];
	if (s->db == k + 1 && s->off == en->offset)
		return s;
	return render(c, s, k, en) == 0 ? s : NULL;
}

int mt_enrich_write(const mt_enrich *e, mt_enrich_cache *c, mt_jw *w, int ipver,
		    const uint8_t addr[16], const char *ip, int with_verdict)
{
	static const char *const key[DB_N] = { "geo", "asn", "isp", "enterprise" };
	const cslot *got[DB_N] = { NULL, NULL, NULL, NULL };
	MMDB_entry_s en;
	size_t start;
	uint32_t h = 2166136261u;
	aslot *as;
	int k;

	if (!e || !c || !w || !addr || (ipver != 4 && ipver != 6))
		return -EINVAL;
	with_verdict = !!with_verdict;
	for (k = 0; k < (ipver == 4 ? 4 : 16); k++)
		h = (h ^ addr[k]) * 16777619u;
	as = &c->addr[(h ^ (h >> 16) ^ (uint32_t)with_verdict) & (ADDR_SLOTS - 1)];
	if (as->ipver == ipver && as->verdict == with_verdict &&
	    memcmp(as->addr, addr, ipver == 4 ? 4 : 16) == 0) {
		mt_jw_raw(w, as->buf, as->len);
		return w->err ? -ENOMEM : 0;
	}
	for (k = 0; k < DB_N; k++)
		if (e->open[k] && find(&e->db[k], ipver, addr, &en))
			got[k] = cached(c, k, &en);
	mt_jw_obj_open(w);
	if (w->err)
		return -ENOMEM;
	start = w->len - 1; /* the object from its '{' (ip, the text of addr, is part of it) */
	if (ip)
		mt_jw_kstr(w, "ip", ip);
	for (k = 0; k < DB_N; k++) {
		const cslot *s = got[k];
		const char *v = NULL;
		size_t n = 0;
		if (s && s->len[0]) {
			v = s->buf;
			n = s->len[0];
		} else if (k == DB_ASN && got[DB_ISP] && got[DB_ISP]->len[1]) {
			/* The ISP record's AS number stands in for a missing ASN record. */
			v = got[DB_ISP]->buf + got[DB_ISP]->len[0];
			n = got[DB_ISP]->len[1];
		}
		if (!v)
			continue;
		mt_jw_key(w, key[k]);
		mt_jw_raw(w, v, n);
	}
	if (with_verdict && got[DB_REG] && got[DB_REG]->verdict[0])
		mt_jw_kstr(w, "verdict", got[DB_REG]->verdict);
	mt_jw_obj_close(w);
	if (w->err)
		return -ENOMEM;
	/* Kept for the next hit of this address (a failed allocation only skips the keeping). */
	size_t n = w->len - start;
	as->ipver = 0;
	if (n > as->cap && n <= UINT32_MAX) {
		char *nb = realloc(as->buf, n);
		if (nb) {
			as->buf = nb;
			as->cap = (uint32_t)n;
		}
	}
	if (n <= as->cap) {
		memcpy(as->buf, w->buf + start, n);
		as->len = (uint32_t)n;
		memcpy(as->addr, addr, ipver == 4 ? 4 : 16);
		as->ipver = (uint8_t)ipver;
		as->verdict = (uint8_t)with_verdict;
	}
	return 0;
}
