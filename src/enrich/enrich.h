/* enrich.h - attribution of hit addresses from MaxMind DB files (city, ASN, ISP, registry). */
#ifndef MT_ENRICH_H
#define MT_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "util/jw.h"

#define MT_ENRICH_STR 256	/* bytes per field (85 Chinese characters); longer values are cut at a UTF-8 boundary */
#define MT_ENRICH_MAX_DIR_FILES 256

typedef struct mt_enrich mt_enrich;

typedef struct mt_enrich_result {
	int has_geo, has_asn, has_isp, has_ent;
	struct {
		char country[4], country_name[MT_ENRICH_STR];
		char subdivision[8], subdivision_name[MT_ENRICH_STR];
		char city[MT_ENRICH_STR], city_zh[MT_ENRICH_STR];
		double latitude, longitude;
		uint32_t accuracy_radius;
		int has_location, has_radius;
	} geo;
	struct { uint32_t number; char org[MT_ENRICH_STR]; } asn;
	struct { char isp[MT_ENRICH_STR], organization[MT_ENRICH_STR]; } isp;
	struct {
		char company[MT_ENRICH_STR], credit_code[20];
		char registered_address[MT_ENRICH_STR], site_address[MT_ENRICH_STR];
		char kind[24], park[MT_ENRICH_STR];
		double latitude, longitude;
		int has_location;
	} ent;
	char verdict[32];	/* "mining_in_data_center", "known_mine" or "" */
} mt_enrich_result;

/*
 * Opens the databases. `dir` is scanned for *.mmdb files typed by their
 * metadata database_type (never by name); the per-file arguments override.
 * Any may be NULL. A missing database disables that enrichment (one warning
 * into `err` is not an error); a file that fails to open or has the wrong
 * type makes the call return NULL with `err` naming the file.
 */
mt_enrich *mt_enrich_open(const char *dir, const char *city, const char *asn,
			  const char *isp, const char *registry, char *err, size_t errlen);
void mt_enrich_close(mt_enrich *e);
/* Which databases are loaded: bit 0 city, 1 asn, 2 isp, 3 registry. */
unsigned mt_enrich_loaded(const mt_enrich *e);
/* One line for the log: each loaded file with its database_type and build date. */
void mt_enrich_describe(const mt_enrich *e, char *out, size_t outlen);
/* ipver 4 (addr[0..3]) or 6. Returns 0 (fields empty when not found) or -errno. */
int mt_enrich_lookup(const mt_enrich *e, int ipver, const uint8_t addr[16],
		     mt_enrich_result *out);
/*
 * Writes {"ip":..,"geo":..,"asn":..,"isp":..,"enterprise":..,"verdict":..} (the
 * hit record's miner/pool object); absent parts are left out. key may be NULL
 * (a bare value); the verdict only when with_verdict (the miner end).
 */
void mt_enrich_json(mt_jw *w, const char *key, const char *ip, const mt_enrich_result *r,
		    int with_verdict);
/*
 * A worker's cache of rendered database records, keyed by (database, record
 * offset): many networks share one record (a city, an AS, a company), so a
 * hit mostly costs the tree walks. Belongs to one thread; cleared whenever
 * the database set changes. slots is rounded up to a power of two.
 */
#define MT_ENRICH_CACHE_SLOTS 4096
typedef struct mt_enrich_cache mt_enrich_cache;
mt_enrich_cache *mt_enrich_cache_new(unsigned slots);
void mt_enrich_cache_free(mt_enrich_cache *c);
void mt_enrich_cache_clear(mt_enrich_cache *c);
/*
 * Writes the same object as mt_enrich_lookup + mt_enrich_json, through the
 * cache. Returns 0, -EINVAL (bad arguments) or -ENOMEM (w->err set).
 */
int mt_enrich_write(const mt_enrich *e, mt_enrich_cache *c, mt_jw *w, int ipver,
		    const uint8_t addr[16], const char *ip, int with_verdict);
/* One part's value object alone (the record cache renders them one by one). */
enum { MT_ENRICH_PART_GEO, MT_ENRICH_PART_ASN, MT_ENRICH_PART_ISP, MT_ENRICH_PART_ENT };
void mt_enrich_json_part(mt_jw *w, const mt_enrich_result *r, int part);
/* Whether attribution is compiled in (libmaxminddb); 0 in a -Dmaxminddb=disabled build. */
int mt_enrich_available(void);

#endif
