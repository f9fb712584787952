/* config.c - the config file: `key = value` lines, one table of keys that also documents them. */
#include "cli/config.h"
#include "mt_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum key_type { K_U32, K_U64, K_SIZE, K_BOOL, K_STR, K_LEVEL };

typedef struct key_def {
	const char *name;
	int type;
	size_t off;      /* offset in mt_config */
	size_t size;     /* for strings: buffer size; for numbers: field width */
	uint64_t min, max;
	const char *def; /* default as text, for the documentation */
	const char *doc;
} key_def;

#if MT_HAVE_MAXMINDDB
#define GEO_NOTE ""
#else
#define GEO_NOTE " [not built in: built without libmaxminddb]"
#endif

#define OFF(f) offsetof(mt_config, f)
#define SZ(f) sizeof(((mt_config *)0)->f)

static const key_def keys[] = {
	{"output", K_STR, OFF(output), SZ(output), 0, 0, "-",
	 "where hit records go, one JSON object per line; - is standard output (-o)"},
	{"filter", K_STR, OFF(filter), SZ(filter), 0, 0, "",
	 "BPF filter applied to every capture (-f)"},
	{"count", K_U64, OFF(count), SZ(count), 0, UINT64_MAX, "0",
	 "stop after this many packets; 0 reads everything (-c)"},
	{"stats", K_BOOL, OFF(stats), SZ(stats), 0, 1, "no",
	 "print a statistics summary on standard error at exit (--stats)"},
	{"log_level", K_LEVEL, OFF(log_level), SZ(log_level), 0, 0, "warning",
	 "error, warning, info or debug"},
	{"plugin_dir", K_STR, OFF(plugin_dir), SZ(plugin_dir), 0, 0, "(installed)",
	 "folder of detector plugins (*.so) loaded at start (--plugin-dir)"},
	{"signatures_dir", K_STR, OFF(signatures_dir), SZ(signatures_dir), 0, 0, "(installed)",
	 "folder of signature files (pool domains, agents, magics ...) (--signatures); SIGHUP reloads it"},
	{"ndpi", K_BOOL, OFF(eng.ndpi), SZ(eng.ndpi), 0, 1, "yes",
	 "run nDPI on the first packets of each flow (labels, TLS SNI, HTTP host and agent)"},
	{"ndpi_max_packets", K_U32, OFF(eng.ndpi_max_packets), SZ(eng.ndpi_max_packets), 1, 65535, "24",
	 "packets of a flow given to nDPI before it gives up (its guess from ports); nDPI 4.2 names most protocols within a few"},
	{"update_interval", K_U32, OFF(eng.update_interval), SZ(eng.update_interval), 0, 86400, "60",
	 "seconds of packet time between two \"update\" records of one identified flow"},
	{"dns_cache_entries", K_U32, OFF(eng.dns_cache_entries), SZ(eng.dns_cache_entries), 0, 1u << 24, "8192",
	 "server addresses remembered from DNS answers (their names become pool_host); 0 turns the cache off"},
	{"defrag", K_BOOL, OFF(eng.defrag), SZ(eng.defrag), 0, 1, "yes",
	 "reassemble IPv4 and IPv6 fragments (first copy wins on overlaps; counted); no: count and skip them"},
	{"defrag_memcap", K_SIZE, OFF(eng.defrag_cfg.memcap), SZ(eng.defrag_cfg.memcap), 1 << 16, UINT64_MAX, "16M",
	 "memory for datagrams being reassembled; the oldest is given up (counted) beyond it"},
	{"defrag_max_datagrams", K_U32, OFF(eng.defrag_cfg.max_datagrams), SZ(eng.defrag_cfg.max_datagrams), 1, 1u << 20, "4096",
	 "datagrams being reassembled at once; the oldest is given up (counted) beyond it"},
	{"defrag_timeout", K_U32, OFF(eng.defrag_cfg.timeout_s), SZ(eng.defrag_cfg.timeout_s), 1, 3600, "30",
	 "seconds of packet time a datagram may take to arrive whole"},
	{"defrag_max_frags", K_U32, OFF(eng.defrag_cfg.max_frags), SZ(eng.defrag_cfg.max_frags), 1, 8192, "128",
	 "fragments per datagram; more (a tiny-fragment flood) gives the datagram up (counted)"},
	{"max_flows", K_U32, OFF(eng.flow.max_flows), SZ(eng.flow.max_flows), 16, 100000000, "500000",
	 "flows tracked at once; the least recently seen flow is evicted (counted) beyond it"},
	{"memcap", K_SIZE, OFF(eng.flow.memcap), SZ(eng.flow.memcap), 1 << 20, UINT64_MAX, "128M",
	 "memory for flows and their buffers (K, M, G suffixes); LRU eviction (counted) beyond it"},
	{"tcp_new_timeout", K_U32, OFF(eng.flow.tcp_new_timeout), SZ(eng.flow.tcp_new_timeout), 1, 86400 * 7, "30",
	 "seconds a TCP flow that has not completed its handshake is kept idle"},
	{"tcp_est_timeout", K_U32, OFF(eng.flow.tcp_est_timeout), SZ(eng.flow.tcp_est_timeout), 1, 86400 * 7, "600",
	 "seconds an established TCP flow is kept idle (pool sessions are quiet between shares)"},
	{"tcp_closed_timeout", K_U32, OFF(eng.flow.tcp_closed_timeout), SZ(eng.flow.tcp_closed_timeout), 0, 86400, "10",
	 "seconds a closed (FIN both ways or RST) TCP flow is kept for late packets"},
	{"udp_timeout", K_U32, OFF(eng.flow.udp_timeout), SZ(eng.flow.udp_timeout), 1, 86400 * 7, "120",
	 "seconds a UDP flow is kept idle"},
	{"stream_max_bytes", K_SIZE, OFF(eng.stream.max_bytes), SZ(eng.stream.max_bytes), 256, 16u << 20, "64K",
	 "bytes of each TCP direction reassembled for the detectors (hard limit 16M)"},
	{"stream_window", K_SIZE, OFF(eng.stream.window), SZ(eng.stream.window), 1024, 16u << 20, "64K",
	 "how far ahead of the next expected byte an out-of-order segment is held"},
	{"stream_max_segs", K_U32, OFF(eng.stream.max_segs), SZ(eng.stream.max_segs), 1, 4096, "32",
	 "out-of-order segments held per direction before a hole is given up"},
	{"interface", K_STR, OFF(interfaces), SZ(interfaces), 0, 0, "",
	 "live capture: interface names, comma-separated (-i, repeatable); the daemon's input"},
	{"workers", K_U32, OFF(workers), SZ(workers), 1, 64, "1",
	 "capture workers, each with its own flow table (--workers); live: one fanout member each, offline: one file each"},
	{"stats_interval", K_U32, OFF(stats_interval), SZ(stats_interval), 0, 86400, "0",
	 "seconds between statistics reports (one JSON object) to the log; 0: none (--stats-interval)"},
	{"ring_size", K_SIZE, OFF(ring_size), SZ(ring_size), 1 << 16, 1ull << 34, "64M",
	 "live: bytes of TPACKET_V3 ring per worker and interface"},
	{"ring_block_size", K_SIZE, OFF(ring_block_size), SZ(ring_block_size), 4096, 1u << 28, "1M",
	 "live: bytes per ring block (a power of two); the ring size is a multiple of it"},
	{"ring_block_timeout", K_U32, OFF(ring_block_timeout), SZ(ring_block_timeout), 1, 60000, "10",
	 "live: ms after which the kernel hands over a block that is not full"},
	{"promisc", K_BOOL, OFF(promisc), SZ(promisc), 0, 1, "yes",
	 "live: put the interfaces in promiscuous mode"},
	{"syslog", K_BOOL, OFF(syslog), SZ(syslog), 0, 1, "no",
	 "log to syslog (daemon facility) instead of standard error (--syslog)"},
	{"user", K_STR, OFF(user), SZ(user), 0, 0, "",
	 "drop root to this user once the sockets, output and databases are open (-Z)"},
	{"chroot", K_STR, OFF(chroot_dir), SZ(chroot_dir), 0, 0, "",
	 "with user: chroot to this folder before dropping root (--chroot); SIGHUP then reloads signatures from inside it"},
	{"pidfile", K_STR, OFF(pidfile), SZ(pidfile), 0, 0, "",
	 "write the process id to this file (--pidfile)"},
	{"geoip_dir", K_STR, OFF(geoip_dir), SZ(geoip_dir), 0, 0, "",
	 "folder of .mmdb attribution databases, each typed by its metadata (--geoip-dir); SIGHUP reopens" GEO_NOTE},
	{"geoip_city", K_STR, OFF(geoip_city), SZ(geoip_city), 0, 0, "",
	 "GeoIP2/GeoLite2 City database file (overrides the folder's)" GEO_NOTE},
	{"geoip_asn", K_STR, OFF(geoip_asn), SZ(geoip_asn), 0, 0, "",
	 "GeoLite2 ASN database file (overrides the folder's)" GEO_NOTE},
	{"geoip_isp", K_STR, OFF(geoip_isp), SZ(geoip_isp), 0, 0, "",
	 "GeoIP2 ISP database file, optional (overrides the folder's)" GEO_NOTE},
	{"geoip_registry", K_STR, OFF(geoip_registry), SZ(geoip_registry), 0, 0, "",
	 "enterprise registry .mmdb made by minetrace-registry (overrides the folder's)" GEO_NOTE},
	{"redis", K_STR, OFF(redis), SZ(redis), 0, 0, "",
	 "Redis hit store: redis://[user:password@]host[:port][/db] or unix:///path[?db=N]; a cluster node works too (--redis)"},
	{"probe_id", K_STR, OFF(probe_id), SZ(probe_id), 0, 0, "(host name)",
	 "this probe's name in every Redis record (--probe-id)"},
	{"redis_connect_timeout", K_U32, OFF(redis_connect_timeout), SZ(redis_connect_timeout), 10, 600000, "1000",
	 "milliseconds to wait for a Redis connection"},
	{"redis_timeout", K_U32, OFF(redis_timeout), SZ(redis_timeout), 10, 600000, "2000",
	 "milliseconds to wait for a Redis reply before the hits go to the spool"},
	{"redis_maxlen", K_U64, OFF(redis_maxlen), SZ(redis_maxlen), 1, UINT64_MAX, "1000000",
	 "approximate length limit of the mt:hits stream (XADD MAXLEN ~)"},
	{"redis_batch", K_U32, OFF(redis_batch), SZ(redis_batch), 1, 65536, "512",
	 "hit records per pipelined Redis round trip"},
	{"redis_queue_max", K_SIZE, OFF(redis_queue_max), SZ(redis_queue_max), 1 << 16, UINT64_MAX, "64M",
	 "memory for hits waiting for the Redis thread; beyond it hits are dropped (counted)"},
	{"redis_heartbeat", K_U32, OFF(redis_heartbeat), SZ(redis_heartbeat), 1, 86400, "5",
	 "seconds between two updates of the mt:probe:<id> statistics hash"},
	{"spool", K_STR, OFF(spool), SZ(spool), 0, 0, "",
	 "folder where hits wait on disk while Redis is down or slow, delivered later, also by the next run (--spool)"},
	{"spool_max", K_SIZE, OFF(spool_max), SZ(spool_max), 1 << 16, UINT64_MAX, "256M",
	 "size limit of the spool folder (--spool-max)"},
	{"spool_full", K_STR, OFF(spool_full), SZ(spool_full), 0, 0, "drop-newest",
	 "when the spool is full: drop-newest (refuse new hits) or drop-oldest (delete the oldest file); counted (--spool-full)"},
};

void mt_config_default(mt_config *c)
{
	memset(c, 0, sizeof(*c));
	mt_engine_cfg_default(&c->eng);
	c->output[0] = '-';
	snprintf(c->log_level, sizeof(c->log_level), "warning");
	c->workers = 1;
	c->ring_size = 64u << 20;
	c->ring_block_size = 1u << 20;
	c->ring_block_timeout = 10;
	c->promisc = 1;
	snprintf(c->spool_full, sizeof(c->spool_full), "drop-newest");
}

int mt_config_parse_u64(const char *s, int size, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		unsigned dgt = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			return -1;
		v = v * 10 + dgt;
		p++;
	}
	if (*p && size) {
		switch (*p) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: return -1;
		}
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (*p == 'B')
			p++;
	}
	if (*p)
		return -1;
	if (mul > 1 && v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int mt_config_set(mt_config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const key_def *k = NULL;
	char *base = (char *)c;
	uint64_t v;
	size_t i;
	int b;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (!k) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	switch (k->type) {
	case K_STR:
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes", key, k->size - 1);
			return -1;
		}
		memcpy(base + k->off, value, strlen(value) + 1);
		return 0;
	case K_LEVEL:
		if (strcmp(value, "error") && strcmp(value, "warning") && strcmp(value, "info") &&
		    strcmp(value, "debug")) {
			snprintf(err, errlen, "%s: '%s' is not one of error, warning, info, debug", key, value);
			return -1;
		}
		memcpy(base + k->off, value, strlen(value) + 1);
		return 0;
	case K_BOOL:
		if (parse_bool(value, &b) < 0) {
			snprintf(err, errlen, "%s: '%s' is not yes or no", key, value);
			return -1;
		}
		*(int *)(void *)(base + k->off) = b;
		return 0;
	default:
		break;
	}
	if (mt_config_parse_u64(value, k->type == K_SIZE, &v) < 0) {
		snprintf(err, errlen, "%s: '%s' is not a %s", key, value,
			 k->type == K_SIZE ? "size (number with optional K, M, G)" : "whole number");
		return -1;
	}
	if (v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: %llu is outside %llu..%llu", key, (unsigned long long)v,
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)(void *)(base + k->off) = (uint32_t)v;
	else
		*(uint64_t *)(void *)(base + k->off) = v;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int mt_config_load(mt_config *c, const char *path, char *err, size_t errlen)
{
	char why[256];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = -1;
	FILE *fp = fopen(path, "r");

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		char *k, *v, *eq, *hash;

		lineno++;
		if (n > MT_CONFIG_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno, MT_CONFIG_MAX_LINE);
			goto out;
		}
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%u: NUL byte in line (not a text file?)", path, lineno);
			goto out;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (*v == '"') {
			/*
			 * The value ends at the first quote followed by nothing or by a
			 * comment: a trailing comment may itself hold quotes (`"" # e.g. "x"`),
			 * the value may hold '#' and quotes ("a # b", "a "b" c").
			 */
			char *q = v;
			char *rest = NULL;
			while ((q = strchr(q + 1, '"')) != NULL) {
				rest = q + 1;
				while (*rest == ' ' || *rest == '\t')
					rest++;
				if (*rest == '\0' || *rest == '#')
					break;
			}
			if (!q) {
				snprintf(err, errlen, "%s:%u: unterminated quoted value", path, lineno);
				goto out;
			}
			*q = '\0';
			v++;
		} else if ((hash = strchr(v, '#')) != NULL) {
			*hash = '\0';
			v = trim(v);
		}
		if (mt_config_set(c, k, v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(fp);
	return rc;
}

void mt_config_print_keys(FILE *fp)
{
	static const char *const tname[] = {"number", "number", "size", "yes/no", "text", "level"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(fp, "%-20s %-7s default %-12s %s\n", keys[i].name, tname[keys[i].type],
			keys[i].def[0] ? keys[i].def : "(none)", keys[i].doc);
}
