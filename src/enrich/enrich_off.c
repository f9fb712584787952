/* enrich_off.c - attribution when minetrace is built without libmaxminddb (-Dmaxminddb=disabled). */
#include "enrich/enrich.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int mt_enrich_available(void)
{
	return 0;
}

mt_enrich *mt_enrich_open(const char *dir, const char *city, const char *asn,
			  const char *isp, const char *registry, char *err, size_t errlen)
{
	(void)dir, (void)city, (void)asn, (void)isp, (void)registry;
	if (err && errlen)
		snprintf(err, errlen, "attribution (GeoIP, ASN, registry) is not built in: "
			 "minetrace was built without libmaxminddb");
	return NULL;
}

void mt_enrich_close(mt_enrich *e)
{
	(void)e;
}

unsigned mt_enrich_loaded(const mt_enrich *e)
{
	(void)e;
	return 0;
}

void mt_enrich_describe(const mt_enrich *e, char *out, size_t outlen)
{
	(void)e;
	if (outlen)
		out[0] = '\0';
}

int mt_enrich_lookup(const mt_enrich *e, int ipver, const uint8_t addr[16],
		     mt_enrich_result *out)
{
	(void)e, (void)ipver, (void)addr;
	if (out)
		memset(out, 0, sizeof(*out));
	return -ENOTSUP;
}

mt_enrich_cache *mt_enrich_cache_new(unsigned slots)
{
	(void)slots;
	return NULL;
}

void mt_enrich_cache_free(mt_enrich_cache *c)
{
	(void)c;
}

void mt_enrich_cache_clear(mt_enrich_cache *c)
{
	(void)c;
}

int mt_enrich_write(const mt_enrich *e, mt_enrich_cache *c, mt_jw *w, int ipver,
		    const uint8_t addr[16], const char *ip, int with_verdict)
{
	(void)e, (void)c, (void)w, (void)ipver, (void)addr, (void)ip, (void)with_verdict;
	return -ENOTSUP;
}
