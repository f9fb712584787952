/* enrich.c - MaxMind DB lookups (libmaxminddb, MMAP mode) for hit attribution. */
#include "enrich/enrich.h"

#include <dirent.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DB_CITY, DB_ASN, DB_ISP, DB_REG, DB_N };

struct mt_enrich {
	MMDB_s db[DB_N];
	int open[DB_N];
};

static int db_kind(const char *type)
{
	if (!type)
		return -1;
	if (strstr(type, "City"))
		return DB_CITY;
	if (strstr(type, "-ASN"))
		return DB_ASN;
	if (strstr(type, "-ISP"))
		return DB_ISP;
	if (strcmp(type, "minetrace-registry") == 0)
		return DB_REG;
	return -1;
}

static int open_one(const char *path, MMDB_s *db, char *err, size_t errlen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, MMDB_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static int place(mt_enrich *e, const char *path, int want, char *err, size_t errlen)
{
	MMDB_s db;
	if (open_one(path, &db, err, errlen))
		return -EINVAL;
	int k = db_kind(db.metadata.database_type);
	if (k < 0 || (want >= 0 && k != want)) {
		snprintf(err, errlen, "%s: unexpected database_type \"%s\"", path,
			 db.metadata.database_type ? db.metadata.database_type : "");
		MMDB_close(&db);
		return -EINVAL;
	}
	if (e->open[k])
		MMDB_close(&e->db[k]);
	e->db[k] = db;
	e->open[k] = 1;
	return 0;
}

mt_enrich *mt_enrich_open(const char *dir, const char *city, const char *asn,
			  const char *isp, const char *registry, char *err, size_t errlen)
{
	char dummy[1];
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
	if (dir) {
		DIR *d = opendir(dir);
		if (!d) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		struct dirent *de;
		int n = 0;
		while ((de = readdir(d)) && n < MT_ENRICH_MAX_DIR_FILES) {
			size_t l = strlen(de->d_name);
			if (l < 5 || strcmp(de->d_name + l - 5, ".mmdb") != 0)
				continue;
			n++;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			MMDB_s db;
			if (open_one(path, &db, err, errlen)) {
				closedir(d);
				goto fail;
			}
			int k = db_kind(db.metadata.database_type);
			if (k >= 0 && !e->open[k]) {
				e->db[k] = db;
				e->open[k] = 1;
			} else {
				MMDB_close(&db);
			}
		}
		closedir(d);
	}
	const char *files[DB_N] = { city, asn, isp, registry };
	for (int k = 0; k < DB_N; k++)
		if (files[k] && place(e, files[k], k, err, errlen))
			goto fail;
	if (!e->open[DB_CITY] || !e->open[DB_ASN] || !e->open[DB_REG])
		snprintf(err, errlen, "warning: enrichment disabled for:%s%s%s",
			 e->open[DB_CITY] ? "" : " city", e->open[DB_ASN] ? "" : " asn",
			 e->open[DB_REG] ? "" : " registry");
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

int mt_enrich_lookup(const mt_enrich *e, int ipver, const uint8_t addr[16],
		     mt_enrich_result *out)
{
	if (!e || !addr || !out || (ipver != 4 && ipver != 6))
		return -EINVAL;
	memset(out, 0, sizeof *out);
	MMDB_entry_s en;
	if (e->open[DB_CITY] && find(&e->db[DB_CITY], ipver, addr, &en)) {
		out->has_geo = 1;
		get_str(&en, out->geo.country, sizeof out->geo.country, P("country", "iso_code"));
		get_str(&en, out->geo.country_name, MT_ENRICH_STR, P("country", "names", "en"));
		get_str(&en, out->geo.subdivision, sizeof out->geo.subdivision,
			P("subdivisions", "0", "iso_code"));
		get_str(&en, out->geo.subdivision_name, MT_ENRICH_STR,
			P("subdivisions", "0", "names", "en"));
		get_str(&en, out->geo.city, MT_ENRICH_STR, P("city", "names", "en"));
		get_str(&en, out->geo.city_zh, MT_ENRICH_STR, P("city", "names", "zh-CN"));
		get_num(&en, &out->geo.latitude, NULL, P("location", "latitude"));
		get_num(&en, &out->geo.longitude, NULL, P("location", "longitude"));
		get_num(&en, NULL, &out->geo.accuracy_radius, P("location", "accuracy_radius"));
	}
	if (e->open[DB_ASN] && find(&e->db[DB_ASN], ipver, addr, &en)) {
		out->has_asn = 1;
		get_num(&en, NULL, &out->asn.number, P("autonomous_system_number"));
		get_str(&en, out->asn.org, MT_ENRICH_STR, P("autonomous_system_organization"));
	}
	if (e->open[DB_ISP] && find(&e->db[DB_ISP], ipver, addr, &en)) {
		out->has_isp = 1;
		get_str(&en, out->isp.isp, MT_ENRICH_STR, P("isp"));
		get_str(&en, out->isp.organization, MT_ENRICH_STR, P("organization"));
		if (!out->has_asn) {
			out->has_asn = get_num(&en, NULL, &out->asn.number,
					       P("autonomous_system_number"));
			get_str(&en, out->asn.org, MT_ENRICH_STR,
				P("autonomous_system_organization"));
		}
	}
	if (e->open[DB_REG] && find(&e->db[DB_REG], ipver, addr, &en)) {
		out->has_ent = 1;
		get_str(&en, out->ent.company, MT_ENRICH_STR, P("company"));
		get_str(&en, out->ent.credit_code, sizeof out->ent.credit_code, P("credit_code"));
		get_str(&en, out->ent.registered_address, MT_ENRICH_STR, P("registered_address"));
		get_str(&en, out->ent.site_address, MT_ENRICH_STR, P("site_address"));
		get_str(&en, out->ent.kind, sizeof out->ent.kind, P("kind"));
		get_str(&en, out->ent.park, MT_ENRICH_STR, P("park"));
		get_num(&en, &out->ent.latitude, NULL, P("latitude"));
		get_num(&en, &out->ent.longitude, NULL, P("longitude"));
		if (!strcmp(out->ent.kind, "data_center") || !strcmp(out->ent.kind, "idc"))
			memcpy(out->verdict, "mining_in_data_center", sizeof "mining_in_data_center");
		else if (!strcmp(out->ent.kind, "mine"))
			memcpy(out->verdict, "known_mine", sizeof "known_mine");
	}
	return 0;
}

static void kopt(mt_jw *w, const char *k, const char *v)
{
	if (v[0])
		mt_jw_kstr(w, k, v);
}

void mt_enrich_json(mt_jw *w, const char *key, const mt_enrich_result *r, int with_verdict)
{
	if (key)
		mt_jw_key(w, key);
	mt_jw_obj_open(w);
	if (r->has_geo) {
		mt_jw_key(w, "geo");
		mt_jw_obj_open(w);
		kopt(w, "country", r->geo.country);
		kopt(w, "country_name", r->geo.country_name);
		kopt(w, "subdivision", r->geo.subdivision);
		kopt(w, "subdivision_name", r->geo.subdivision_name);
		kopt(w, "city", r->geo.city);
		kopt(w, "city_zh", r->geo.city_zh);
		mt_jw_kdouble(w, "latitude", r->geo.latitude);
		mt_jw_kdouble(w, "longitude", r->geo.longitude);
		mt_jw_ku64(w, "accuracy_radius", r->geo.accuracy_radius);
		mt_jw_obj_close(w);
	}
	if (r->has_asn) {
		mt_jw_key(w, "asn");
		mt_jw_obj_open(w);
		mt_jw_ku64(w, "number", r->asn.number);
		kopt(w, "org", r->asn.org);
		mt_jw_obj_close(w);
	}
	if (r->has_isp) {
		mt_jw_key(w, "isp");
		mt_jw_obj_open(w);
		kopt(w, "isp", r->isp.isp);
		kopt(w, "organization", r->isp.organization);
		mt_jw_obj_close(w);
	}
	if (r->has_ent) {
		mt_jw_key(w, "enterprise");
		mt_jw_obj_open(w);
		kopt(w, "company", r->ent.company);
		kopt(w, "credit_code", r->ent.credit_code);
		kopt(w, "registered_address", r->ent.registered_address);
		kopt(w, "site_address", r->ent.site_address);
		kopt(w, "kind", r->ent.kind);
		kopt(w, "park", r->ent.park);
		mt_jw_kdouble(w, "latitude", r->ent.latitude);
		mt_jw_kdouble(w, "longitude", r->ent.longitude);
		mt_jw_obj_close(w);
	}
	if (with_verdict && r->verdict[0])
		mt_jw_kstr(w, "verdict", r->verdict);
	mt_jw_obj_close(w);
}
