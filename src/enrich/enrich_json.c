/* enrich_json.c - the hit record's miner/pool object from a lookup result (no libmaxminddb needed). */
#include "enrich/enrich.h"

static void kopt(mt_jw *w, const char *k, const char *v)
{
	if (v[0])
		mt_jw_kstr(w, k, v);
}

void mt_enrich_json_part(mt_jw *w, const mt_enrich_result *r, int part)
{
	mt_jw_obj_open(w);
	switch (part) {
	case MT_ENRICH_PART_GEO:
		kopt(w, "country", r->geo.country);
		kopt(w, "country_name", r->geo.country_name);
		kopt(w, "subdivision", r->geo.subdivision);
		kopt(w, "subdivision_name", r->geo.subdivision_name);
		kopt(w, "city", r->geo.city);
		kopt(w, "city_zh", r->geo.city_zh);
		if (r->geo.has_location) {
			mt_jw_kdouble(w, "latitude", r->geo.latitude);
			mt_jw_kdouble(w, "longitude", r->geo.longitude);
		}
		if (r->geo.has_radius)
			mt_jw_ku64(w, "accuracy_radius", r->geo.accuracy_radius);
		break;
	case MT_ENRICH_PART_ASN:
		mt_jw_ku64(w, "number", r->asn.number);
		kopt(w, "org", r->asn.org);
		break;
	case MT_ENRICH_PART_ISP:
		kopt(w, "isp", r->isp.isp);
		kopt(w, "organization", r->isp.organization);
		break;
	default:
		kopt(w, "company", r->ent.company);
		kopt(w, "credit_code", r->ent.credit_code);
		kopt(w, "registered_address", r->ent.registered_address);
		kopt(w, "site_address", r->ent.site_address);
		kopt(w, "kind", r->ent.kind);
		kopt(w, "park", r->ent.park);
		if (r->ent.has_location) {
			mt_jw_kdouble(w, "latitude", r->ent.latitude);
			mt_jw_kdouble(w, "longitude", r->ent.longitude);
		}
		break;
	}
	mt_jw_obj_close(w);
}

void mt_enrich_json(mt_jw *w, const char *key, const char *ip, const mt_enrich_result *r,
		    int with_verdict)
{
	if (key)
		mt_jw_key(w, key);
	mt_jw_obj_open(w);
	if (ip)
		mt_jw_kstr(w, "ip", ip);
	if (r->has_geo) {
		mt_jw_key(w, "geo");
		mt_enrich_json_part(w, r, MT_ENRICH_PART_GEO);
	}
	if (r->has_asn) {
		mt_jw_key(w, "asn");
		mt_enrich_json_part(w, r, MT_ENRICH_PART_ASN);
	}
	if (r->has_isp) {
		mt_jw_key(w, "isp");
		mt_enrich_json_part(w, r, MT_ENRICH_PART_ISP);
	}
	if (r->has_ent) {
		mt_jw_key(w, "enterprise");
		mt_enrich_json_part(w, r, MT_ENRICH_PART_ENT);
	}
	if (with_verdict && r->verdict[0])
		mt_jw_kstr(w, "verdict", r->verdict);
	mt_jw_obj_close(w);
}
