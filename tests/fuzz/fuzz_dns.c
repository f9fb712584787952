/* fuzz_dns.c - fuzz target: the DNS response parser and the address cache it feeds (flow/dnscache.h). */
/*
 * Input: one DNS message, as a UDP payload from port 53. Checks: the parser
 * reports at most MT_DNS_MAX_RECORDS addresses, each attributed to a name of
 * at most MT_DNS_NAME_MAX printable, lower-case bytes; the cache that the
 * same message fed answers every lookup with NULL or such a name, and only
 * while the TTL runs.
 */
#include "fuzz.h"

#include "flow/dnscache.h"

static mt_dnscache *g_cache;

struct seen {
	int n;
	int ver[MT_DNS_MAX_RECORDS];
	uint8_t addr[MT_DNS_MAX_RECORDS][16];
};

static void check_name(const char *name)
{
	size_t l = strlen(name);

	MT_FUZZ_CHECK(l <= MT_DNS_NAME_MAX);
	for (size_t i = 0; i < l; i++)
		MT_FUZZ_CHECK(name[i] > 0x20 && name[i] < 0x7f && !(name[i] >= 'A' && name[i] <= 'Z'));
}

static void on_answer(void *ctx, const char *name, int ipver, const uint8_t *addr, uint32_t ttl)
{
	struct seen *s = ctx;

	(void)ttl;
	check_name(name);
	MT_FUZZ_CHECK(ipver == 4 || ipver == 6);
	MT_FUZZ_CHECK(s->n < (int)MT_DNS_MAX_RECORDS);
	s->ver[s->n] = ipver;
	memset(s->addr[s->n], 0, 16);
	memcpy(s->addr[s->n], addr, ipver == 4 ? 4 : 16);
	s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen s;
	uint64_t now = 1767225600ull * 1000000ull;
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
	int n;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	s.n = 0;
	n = mt_dnscache_parse(copy, size, on_answer, &s);
	MT_FUZZ_CHECK(n >= -1 && n <= (int)MT_DNS_MAX_RECORDS);
	MT_FUZZ_CHECK(n < 0 || n == s.n);
	if (!g_cache)
		g_cache = mt_dnscache_new(64);
	if (g_cache) {
		int m = mt_dnscache_feed(g_cache, copy, size, now);
		MT_FUZZ_CHECK(m == n);
		for (int i = 0; i < s.n; i++) {
			const char *name = mt_dnscache_lookup(g_cache, s.ver[i], s.addr[i], now);
			if (name)
				check_name(name);
			/* past the longest TTL the cache keeps, nothing is left */
			MT_FUZZ_CHECK(!mt_dnscache_lookup(g_cache, s.ver[i], s.addr[i],
							  now + (MT_DNSCACHE_MAX_TTL_S + MT_DNSCACHE_GRACE_S + 1) * 1000000ull));
		}
	}
	free(copy);
	return 0;
}
