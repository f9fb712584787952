/* redis-sink-bench.c - feeds N hit records (as minetrace prints them, with enrichment and
 * estimates) into the Redis sink and prints how fast they reach Redis. Built by redis-bench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink/redis.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: redis-sink-bench URL N SITES [batch] [plain]\n");
		return 2;
	}
	long n = strtol(argv[2], NULL, 10), sites = strtol(argv[3], NULL, 10);
	unsigned batch = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
	int plain = argc > 5 && strcmp(argv[5], "plain") == 0;
	char err[256], b[4096];
	mt_redis_cfg cfg = { .url = argv[1], .probe_id = "bench", .batch = batch, .drain_ms = 600000,
			     .queue_max = 1ull << 30 };
	mt_sink *s = mt_sink_redis_open(&cfg, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double t0 = now();
	for (long i = 0; i < n; i++) {
		long site = i % sites, flow = i / sites;
		int len;
		if (plain)
			len = snprintf(b, sizeof(b),
				       "{\"timestamp\":\"2024-03-14T09:01:%02ld.200000Z\",\"event_type\":\"mining\",\"src_ip\":\"10.%ld.%ld.%ld\","
				       "\"src_port\":49152,\"dest_ip\":\"203.0.113.5\",\"dest_port\":3333,\"proto\":\"TCP\","
				       "\"community_id\":\"1:bench%ld\",\"app_proto\":\"Mining\",\"mining\":{\"protocol\":\"stratum\","
				       "\"algo\":\"sha256d\",\"confidence\":0.98,\"evidence\":\"stratum: mining.notify\",\"detector\":\"stratum\","
				       "\"pool_host\":\"stratum.example.com\",\"wallet\":\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT\",\"worker\":\"rig%ld\","
				       "\"agent\":\"cgminer/4.12.1\",\"difficulty\":65536,\"shares\":4},\"flow\":{\"start\":\"2024-03-14T09:00:00.000000Z\","
				       "\"pkts_toserver\":14,\"pkts_toclient\":10,\"bytes_toserver\":712,\"bytes_toclient\":4748},"
				       "\"hit\":{\"status\":\"update\",\"seq\":%ld}}",
				       i % 60, site >> 16 & 255, site >> 8 & 255, site & 255, flow, flow % 8, i);
		else
			len = snprintf(b, sizeof(b),
				       "{\"timestamp\":\"2024-03-14T09:01:%02ld.200000Z\",\"event_type\":\"mining\",\"src_ip\":\"10.%ld.%ld.%ld\","
				       "\"src_port\":49152,\"dest_ip\":\"203.0.113.5\",\"dest_port\":3333,\"proto\":\"TCP\","
				       "\"community_id\":\"1:bench%ld\",\"app_proto\":\"Mining\",\"mining\":{\"protocol\":\"stratum\","
				       "\"algo\":\"sha256d\",\"confidence\":0.98,\"evidence\":\"stratum: mining.notify\",\"detector\":\"stratum\","
				       "\"pool_host\":\"stratum.example.com\",\"wallet\":\"1BoatSLRHtKNngkdXEeobR76b53LETtpyT\",\"worker\":\"rig%ld\","
				       "\"agent\":\"cgminer/4.12.1\",\"difficulty\":65536,\"shares\":4},\"flow\":{\"start\":\"2024-03-14T09:00:00.000000Z\","
				       "\"pkts_toserver\":14,\"pkts_toclient\":10,\"bytes_toserver\":712,\"bytes_toclient\":4748},"
				       "\"hit\":{\"status\":\"update\",\"seq\":%ld},"
				       "\"miner\":{\"ip\":\"10.%ld.%ld.%ld\",\"geo\":{\"country\":\"CN\",\"subdivision\":\"SC\",\"city\":\"Chengdu\","
				       "\"latitude\":30.66,\"longitude\":104.06},\"asn\":{\"number\":4134,\"org\":\"Chinanet\"},"
				       "\"enterprise\":{\"company\":\"Acme\",\"credit_code\":\"9151\",\"site_address\":\"Rd 1\",\"kind\":\"data_center\"},"
				       "\"verdict\":\"mining_in_data_center\"},"
				       "\"estimate\":{\"algo\":\"sha256d\",\"basis\":\"share_difficulty\",\"shares\":4,\"elapsed_s\":60,"
				       "\"hashrate_hs\":1.2e13,\"hashrate_low_hs\":9e12,\"hashrate_high_hs\":1.5e13,\"share_rate_per_min\":4,"
				       "\"power_w\":{\"low\":300,\"best\":350,\"high\":400},\"energy_kwh_day\":{\"low\":7.2,\"best\":8.4,\"high\":9.6}}}",
				       i % 60, site >> 16 & 255, site >> 8 & 255, site & 255, flow, flow % 8, i,
				       site >> 16 & 255, site >> 8 & 255, site & 255);
		if (s->write(s, b, (size_t)len) < 0) {
			fprintf(stderr, "write refused at %ld\n", i);
			return 1;
		}
	}
	double t1 = now();
	mt_redis_stats st;
	int rc = mt_sink_redis_close(s, &st);
	double t2 = now();
	printf("{\"records\":%ld,\"sites\":%ld,\"enqueue_s\":%.3f,\"total_s\":%.3f,\"hits_per_s\":%.0f,"
	       "\"sent\":%llu,\"duplicates\":%llu,\"dropped\":%llu,\"rejected\":%llu}\n",
	       n, sites, t1 - t0, t2 - t0, (double)n / (t2 - t0), (unsigned long long)st.sent,
	       (unsigned long long)st.duplicates, (unsigned long long)st.dropped, (unsigned long long)st.rejected);
	return rc < 0 ? 1 : 0;
}
