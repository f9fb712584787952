/* enrich-bench.c - nanoseconds per hit for attribution: both ends looked up and written as the engine does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/enrich.h"
#include "util/jw.h"

/*
 * Usage: enrich-bench DIR [ROUNDS]
 * DIR holds the .mmdb files (as for --geoip-dir). Each "hit" is what the engine
 * does for a flow's first record: the miner and the pool address looked up in
 * every database and written as the miner/pool JSON objects. Address sets:
 * a few addresses coming back (pools, busy miners: the address cache answers);
 * 8,600 distinct addresses inside the networks the test databases know (every
 * database answers, no address repeats within 1,024 hits: the tree walks and
 * the record cache); addresses spread over the IPv4 and IPv6 spaces; and the
 * known addresses decoded field by field with no cache at all.
 */

/* CPU time of this thread: on a shared machine, time spent waiting for a core is not the lookups'. */
static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double run(const mt_enrich *e, mt_enrich_cache *c, const uint8_t (*a)[16], int n,
		  int ipver, long rounds, size_t *bytes)
{
	mt_enrich_result r;
	mt_jw w[2];
	double t0, t1;
	long i;

	mt_jw_init(&w[0]);
	mt_jw_init(&w[1]);
	*bytes = 0;
	t0 = now_ns();
	for (i = 0; i < rounds; i++) {
		const uint8_t *m = a[i % n], *p = a[(i * 7 + 3) % n];
		mt_jw_reset(&w[0]);
		mt_jw_reset(&w[1]);
		if (c) { /* the engine's way */
			mt_enrich_write(e, c, &w[0], ipver, m, "miner", 1);
			mt_enrich_write(e, c, &w[1], ipver, p, "pool", 0);
		} else { /* every field decoded from the database each time */
			mt_enrich_lookup(e, ipver, m, &r);
			mt_enrich_json(&w[0], NULL, "miner", &r, 1);
			mt_enrich_lookup(e, ipver, p, &r);
			mt_enrich_json(&w[1], NULL, "pool", &r, 0);
		}
		*bytes += w[0].len + w[1].len;
	}
	t1 = now_ns();
	mt_jw_free(&w[0]);
	mt_jw_free(&w[1]);
	return (t1 - t0) / (double)rounds;
}

int main(int argc, char **argv)
{
	static const uint8_t known[][16] = {
		{89, 160, 20, 130}, {89, 160, 20, 200}, {81, 2, 69, 142}, {175, 16, 199, 7},
		{216, 160, 83, 57}, {214, 78, 0, 1}, {203, 0, 113, 9}, {198, 51, 100, 3},
	};
	enum { NSPREAD = 4096 };
	static uint8_t spread[NSPREAD][16], v6[NSPREAD][16], nets[8192 + 384][16];
	char err[2048], desc[4096];
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	size_t bytes;
	uint32_t x = 2463534242u;
	int i, j;

	if (argc < 2 || rounds <= 0) {
		fprintf(stderr, "usage: enrich-bench DIR [ROUNDS]\n");
		return 2;
	}
	mt_enrich *e = mt_enrich_open(argv[1], NULL, NULL, NULL, NULL, err, sizeof err);
	if (!e) {
		fprintf(stderr, "enrich-bench: %s\n", err);
		return 1;
	}
	mt_enrich_describe(e, desc, sizeof desc);
	printf("databases: %s\n", desc);
	for (i = 0; i < NSPREAD; i++) {
		for (j = 0; j < 16; j++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
			spread[i][j] = (uint8_t)x;
			v6[i][j] = (uint8_t)(x >> 8);
		}
		v6[i][0] = 0x20, v6[i][1] = 0x01, v6[i][2] = i & 1 ? 0x0d : 0x02;
		v6[i][3] = i & 1 ? 0xb8 : 0x18;
	}
	mt_enrich_cache *c = mt_enrich_cache_new(MT_ENRICH_CACHE_SLOTS);
	if (!c)
		return 1;
	/* 214.78.0.0/19, 175.16.199.0/24, 89.160.20.128/25 (City and ASN, registry for two) */
	for (i = 0; i < 8192; i++) {
		nets[i][0] = 214, nets[i][1] = 78, nets[i][2] = (uint8_t)(i >> 8), nets[i][3] = (uint8_t)i;
	}
	for (i = 0; i < 256; i++) {
		nets[8192 + i][0] = 175, nets[8192 + i][1] = 16, nets[8192 + i][2] = 199;
		nets[8192 + i][3] = (uint8_t)i;
	}
	for (i = 0; i < 128; i++) {
		nets[8448 + i][0] = 89, nets[8448 + i][1] = 160, nets[8448 + i][2] = 20;
		nets[8448 + i][3] = (uint8_t)(128 + i);
	}
	/* interleaved so consecutive hits are in different networks */
	for (i = 0; i < 8576; i += 67) {
		uint8_t t[16];
		memcpy(t, nets[i], 16);
		memcpy(nets[i], nets[8575 - i], 16);
		memcpy(nets[8575 - i], t, 16);
	}
	run(e, c, known, 8, 4, rounds / 10 + 1, &bytes); /* warm the mapping and caches */
	double k = run(e, c, known, 8, 4, rounds, &bytes);
	printf("repeated addresses (address cache):       %6.0f ns/hit (both ends), %zu bytes/hit\n",
	       k, bytes / (size_t)rounds);
	double d = run(e, c, (const uint8_t(*)[16])nets, 8576, 4, rounds, &bytes);
	printf("new addresses in known networks:          %6.0f ns/hit (both ends), %zu bytes/hit\n",
	       d, bytes / (size_t)rounds);
	double s = run(e, c, (const uint8_t(*)[16])spread, NSPREAD, 4, rounds, &bytes);
	printf("IPv4 spread (mostly unknown):             %6.0f ns/hit (both ends)\n", s);
	double v = run(e, c, (const uint8_t(*)[16])v6, NSPREAD, 6, rounds, &bytes);
	printf("IPv6 spread:                              %6.0f ns/hit (both ends)\n", v);
	double u = run(e, NULL, known, 8, 4, rounds / 10 + 1, &bytes);
	printf("known addresses without the record cache: %6.0f ns/hit (both ends)\n", u);
	printf("%.0f hits/s (%.0f address lookups/s) for new addresses in known networks\n", 1e9 / d,
	       2e9 / d);
	mt_enrich_cache_free(c);
	mt_enrich_close(e);
	return 0;
}
