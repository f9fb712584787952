/* minetrace.c - the minetrace program: options, capture files, the engine, statistics. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli/config.h"
#include "cli/daemon.h"
#include "cli/run.h"
#include "detect/detect.h"
#include "detect/ndpi.h"
#include "detect/sigs.h"
#include "enrich/enrich.h"
#include "engine/engine.h"
#include "mt_config.h"
#include "sink/sink.h"
#include "util/jw.h"
#if MT_HAVE_HIREDIS
#include "sink/redis.h"
#include "sink/spool.h"
#endif
#include "util/log.h"
#include "util/perm.h"

#define MAX_FILES 4096

enum {
	OPT_STATS = 256,
	OPT_CONFIG,
	OPT_VERSION,
	OPT_HELP,
	OPT_NO_NDPI,
	OPT_PLUGIN_DIR,
	OPT_LIST_DETECTORS,
	OPT_CONFIG_KEYS,
	OPT_SET,
	OPT_NO_PLUGINS,
	OPT_SIGNATURES,
	OPT_CHECK_SIGNATURES,
	OPT_GEOIP_DIR,
	OPT_WORKERS,
	OPT_STATS_INTERVAL,
	OPT_CHROOT,
	OPT_PIDFILE,
	OPT_SYSLOG,
	OPT_REDIS,
	OPT_PROBE_ID,
	OPT_SPOOL,
	OPT_SPOOL_MAX,
	OPT_SPOOL_FULL,
};

static const struct option long_opts[] = {
	{"read", required_argument, NULL, 'r'},
	{"filter", required_argument, NULL, 'f'},
	{"count", required_argument, NULL, 'c'},
	{"output", required_argument, NULL, 'o'},
	{"verbose", no_argument, NULL, 'v'},
	{"stats", no_argument, NULL, OPT_STATS},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"set", required_argument, NULL, OPT_SET},
	{"no-ndpi", no_argument, NULL, OPT_NO_NDPI},
	{"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
	{"no-plugins", no_argument, NULL, OPT_NO_PLUGINS},
	{"signatures", required_argument, NULL, OPT_SIGNATURES},
	{"check-signatures", required_argument, NULL, OPT_CHECK_SIGNATURES},
	{"geoip-dir", required_argument, NULL, OPT_GEOIP_DIR},
	{"list-detectors", no_argument, NULL, OPT_LIST_DETECTORS},
	{"redis", required_argument, NULL, OPT_REDIS},
	{"probe-id", required_argument, NULL, OPT_PROBE_ID},
	{"spool", required_argument, NULL, OPT_SPOOL},
	{"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
	{"spool-full", required_argument, NULL, OPT_SPOOL_FULL},
	{"config-keys", no_argument, NULL, OPT_CONFIG_KEYS},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{"interface", required_argument, NULL, 'i'},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"user", required_argument, NULL, 'Z'},
	{"chroot", required_argument, NULL, OPT_CHROOT},
	{"pidfile", required_argument, NULL, OPT_PIDFILE},
	{"syslog", no_argument, NULL, OPT_SYSLOG},
	{NULL, 0, NULL, 0},
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: minetrace [options] -r FILE [-r FILE ...]\n"
		"       minetrace [options] -i IFACE [-i IFACE ...] [--workers N]\n"
		"Finds cryptocurrency-mining flows (miner to pool) and blockchain node traffic in\n"
		"captures and writes one JSON hit record per line.\n"
		"\n"
		"  -r, --read FILE       read a pcap or pcapng file; - is standard input; repeatable\n"
		"  -i, --interface IFACE capture live on IFACE (AF_PACKET rings); repeatable\n"
		"      --workers N       N workers, each with its own flow table: live, a fanout group\n"
		"                        hashing both directions of a flow to one worker; offline,\n"
		"                        one file each (default 1)\n"
		"      --stats-interval S  statistics (one JSON object) to the log every S seconds\n"
		"  -Z, --user USER       drop root to USER once capture and output are open\n"
		"      --chroot DIR      with -Z: chroot to DIR first\n"
		"      --pidfile PATH    write the process id to PATH\n"
		"      --syslog          log to syslog instead of standard error\n"
		"  -f, --filter EXPR     BPF filter (tcpdump syntax)\n"
		"  -c, --count N         stop after N packets\n"
		"  -o, --output PATH     JSON lines output; - is standard output (default)\n"
		"      --stats           print a statistics summary on standard error at exit\n"
		"      --config PATH     read settings from a config file (see --config-keys)\n"
		"      --set KEY=VALUE   set one config key (after the config file)\n"
		"      --config-keys     list every config key with its default and meaning\n"
		"      --no-ndpi         do not run nDPI\n"
		"      --plugin-dir DIR  load detector plugins from DIR (default %s)\n"
		"      --no-plugins      load no plugins\n"
		"      --signatures DIR  signature files (default %s)\n"
		"      --check-signatures DIR  validate the signature files in DIR and exit\n"
		"      --geoip-dir DIR   attribute both ends of each hit from the .mmdb files in DIR\n"
		"                        (City, ASN, ISP, enterprise registry; typed by metadata)%s\n"
		"      --list-detectors  list the detectors (built-in and plugins) and exit\n"
		"      --redis URL       also store hits in Redis: redis://[user:password@]host[:port][/db]\n"
		"                        or unix:///path[?db=N] (a Redis Cluster node works too)\n"
		"      --probe-id ID     this probe's name in Redis records (default: the host name)\n"
		"      --spool DIR       keep hits on disk while Redis is down or slow (delivered later)\n"
		"      --spool-max SIZE  size limit of the spool (default 256M)\n"
		"      --spool-full POLICY  drop-newest (default) or drop-oldest when the spool is full\n"
		"  -v, --verbose         more log messages (repeat for debug)\n"
		"      --version         print the version and exit\n"
		"      --help            print this help and exit\n"
		"\n"
		"Exit status: 0 on success (also for a truncated capture, with a warning),\n"
		"1 if a file could not be read or output failed, 2 for bad usage or configuration.\n"
		"SIGHUP reloads the signatures and the attribution databases (the old set stays if the new\n"
		"one is invalid); SIGUSR1 logs statistics; SIGTERM and SIGINT end every flow and exit.\n",
		MT_PLUGIN_DIR, MT_SIGNATURES_DIR,
		mt_enrich_available() ? "" : "\n                        [not built in: minetrace was built without libmaxminddb]");
}

static mt_capture *volatile g_cap;
static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_reload;
static volatile sig_atomic_t g_usr1;

static void on_signal(int sig)
{
	mt_capture *c = g_cap;

	mt_run_signal(sig); /* the workers' flags (live capture, parallel files) */
	if (sig == SIGHUP) {
		g_reload = 1;
		return;
	}
	if (sig == SIGUSR1) {
		g_usr1 = 1;
		return;
	}
	g_stop = 1;
	if (c)
		mt_capture_stop(c);
}

/* The signature set in force and where it came from (for SIGHUP). */
static mt_sigs *g_sigs;
static char g_sigs_dir[MT_CONFIG_MAX_STR + 64];

/* Loads the signatures again; on any error the old set stays in force. */
static void reload_sigs(mt_engine *e)
{
	char err[512];
	mt_sigs *ns;

	g_reload = 0;
	if (!g_sigs_dir[0])
		return;
	ns = mt_sigs_load(g_sigs_dir, err, sizeof(err));
	if (!ns) {
		mt_err("reload: %s; keeping the signatures loaded before", err);
		return;
	}
	mt_engine_set_sigs(e, ns);
	mt_sigs_free(g_sigs);
	g_sigs = ns;
	mt_info("reload: %zu signatures from %s", mt_sigs_count(ns), g_sigs_dir);
}

/* The attribution databases in force and the settings they came from (for SIGHUP). */
static mt_enrich *g_enrich;
static const mt_config *g_enrich_cfg;

static mt_enrich *open_enrich(const mt_config *c, char *err, size_t errlen)
{
	return mt_enrich_open(c->geoip_dir, c->geoip_city, c->geoip_asn, c->geoip_isp,
			      c->geoip_registry, err, errlen);
}

/*
 * Opens the databases again; the new set replaces the old only when every
 * file opened and nothing loaded before went missing (a file being replaced
 * is not dropped): otherwise the old set stays in use.
 */
static void reload_enrich(mt_engine *e)
{
	char err[1024], desc[2048];
	mt_enrich *ne;
	unsigned had;

	if (!g_enrich)
		return;
	ne = open_enrich(g_enrich_cfg, err, sizeof(err));
	if (!ne) {
		mt_err("reload: %s; keeping the attribution databases loaded before", err);
		return;
	}
	had = mt_enrich_loaded(g_enrich);
	if ((mt_enrich_loaded(ne) & had) != had) {
		mt_err("reload: %s; keeping the attribution databases loaded before", err);
		mt_enrich_close(ne);
		return;
	}
	mt_engine_set_enrich(e, ne);
	mt_enrich_close(g_enrich);
	g_enrich = ne;
	mt_enrich_describe(ne, desc, sizeof(desc));
	mt_info("reload: attribution databases: %s", desc);
}

static void single_report(const mt_engine *e, const char *why);

static mt_sink *g_redis;      /* the Redis sink, when --redis is given */
static uint64_t g_frames;

/* Engine counters for the mt:probe:<id> hash. */
static void redis_counters(const mt_engine *e)
{
#if MT_HAVE_HIREDIS
	const mt_engine_stats *st = mt_engine_stats_get(e);
	const mt_flow_stats *fs = mt_engine_flow_stats(e);

	mt_sink_redis_set_counter(g_redis, "packets", st->packets);
	mt_sink_redis_set_counter(g_redis, "bytes", st->bytes);
	mt_sink_redis_set_counter(g_redis, "hits", st->hits);
	mt_sink_redis_set_counter(g_redis, "flows", fs->created);
	mt_sink_redis_set_counter(g_redis, "flows_evicted", fs->evicted);
	mt_sink_redis_set_counter(g_redis, "sink_errors", st->sink_errors);
#else
	(void)e;
#endif
}

/* SIGHUP and SIGUSR1, between frames. */
static void frame_signals(void *ctx)
{
	if (g_reload) {
		reload_enrich(ctx);
		reload_sigs(ctx);
	}
	if (g_usr1) {
		g_usr1 = 0;
		single_report(ctx, "SIGUSR1");
	}
}

/* Frames from mt_capture_run_batch: the engine looks a few frames ahead (mt_engine_frames). */
static void frames_cb(void *ctx, int linktype, const mt_frame *fr, uint32_t n)
{
	uint64_t before = g_frames;

	if (__builtin_expect(g_reload | g_usr1, 0))
		frame_signals(ctx);
	mt_engine_frames(ctx, linktype, fr, n);
	g_frames += n;
	if (g_redis && (g_frames >> 16) != (before >> 16))
		redis_counters(ctx);
}

/* Starts the Redis sink (--redis). 0, or -1 after an error message. */
static int open_redis(const mt_config *cfg, mt_engine *eng)
{
#if MT_HAVE_HIREDIS
	mt_redis_cfg rc;
	char err[512];
	int pol = mt_spool_policy_parse(cfg->spool_full);

	if (pol < 0) {
		mt_err("spool_full: '%s' is not drop-newest or drop-oldest", cfg->spool_full);
		return -1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.url = cfg->redis;
	rc.probe_id = cfg->probe_id;
	rc.connect_timeout_ms = cfg->redis_connect_timeout;
	rc.timeout_ms = cfg->redis_timeout;
	rc.maxlen = (unsigned long)cfg->redis_maxlen;
	rc.batch = cfg->redis_batch;
	rc.queue_max = cfg->redis_queue_max;
	rc.spool_dir = cfg->spool;
	rc.spool_max = cfg->spool_max;
	rc.spool_policy = pol;
	rc.heartbeat_s = cfg->redis_heartbeat;
	g_redis = mt_sink_redis_open(&rc, err, sizeof(err));
	if (!g_redis) {
		mt_err("redis: %s", err);
		return -1;
	}
	if (!cfg->spool[0])
		mt_info("redis: no --spool: hits wait in memory while Redis is away and are lost at exit");
	mt_engine_add_sink(eng, g_redis);
	return 0;
#else
	(void)cfg;
	(void)eng;
	mt_err("--redis: this minetrace was built without hiredis (meson -Dredis=enabled)");
	return -1;
#endif
}

/* Workers: the run's totals into mt:probe:<id>, and the sink's queue and spool into the report. */
static void redis_run_stats(void *ctx, mt_stats *s)
{
#if MT_HAVE_HIREDIS
	mt_redis_stats st;

	(void)ctx;
	if (!g_redis)
		return;
	mt_sink_redis_set_counter(g_redis, "packets", s->packets);
	mt_sink_redis_set_counter(g_redis, "bytes", s->bytes);
	mt_sink_redis_set_counter(g_redis, "hits", s->hits);
	mt_sink_redis_set_counter(g_redis, "flows", s->flows);
	mt_sink_redis_set_counter(g_redis, "flows_evicted", s->evictions);
	mt_sink_redis_set_counter(g_redis, "kernel_drops", s->kernel_drops);
	mt_sink_redis_set_counter(g_redis, "kernel_freezes", s->kernel_freezes);
	mt_sink_redis_set_counter(g_redis, "decode_errors", s->decode_errors);
	mt_sink_redis_set_counter(g_redis, "workers", s->workers);
	mt_sink_redis_get_stats(g_redis, &st);
	s->sink_queue = st.queue_len;
	s->sink_spool = st.spool_pending;
#else
	(void)ctx;
	(void)s;
#endif
}

/* Drains and closes the Redis sink; prints its statistics. -1 if hits were lost. */
static int close_redis(const mt_engine *eng, int stats)
{
#if MT_HAVE_HIREDIS
	mt_redis_stats st;
	int rc;

	if (!g_redis)
		return 0;
	if (eng)
		redis_counters(eng);
	rc = mt_sink_redis_close(g_redis, &st) < 0 ? -1 : 0;
	if (stats)
		fprintf(stderr, "minetrace: stats: redis queued=%" PRIu64 " sent=%" PRIu64 " duplicates=%" PRIu64
			" spooled=%" PRIu64 " unspooled=%" PRIu64 " dropped=%" PRIu64 " rejected=%" PRIu64
			" torn=%" PRIu64 " spool_found=%" PRIu64 " spool_pending=%" PRIu64 " failures=%" PRIu64
			" lean=%" PRIu64 " lean_refused=%" PRIu64 "\n",
			st.queued, st.sent, st.duplicates, st.spooled, st.unspooled, st.dropped, st.rejected,
			st.torn, st.spool_found, st.spool_pending, st.failures, st.lean, st.lean_refused);
	if (rc < 0)
		mt_err("redis: %" PRIu64 " hits were dropped (no spool, or the spool was full)", st.dropped);
	g_redis = NULL;
	return rc;
#else
	(void)eng;
	(void)stats;
	return 0;
#endif
}

/* The statistics object of the one-worker offline run (the same keys as mt_run's). */
static void single_report(const mt_engine *e, const char *why)
{
	mt_stats s;
	mt_jw jw;

	memset(&s, 0, sizeof(s));
	s.workers = 1;
	mt_stats_add_engine(&s, e);
	s.sink_written = s.hits;
	mt_jw_init(&jw);
	mt_stats_json(&s, &jw);
	if (!jw.err)
		mt_log_notice("stats (%s): %.*s", why, (int)jw.len, jw.buf);
	mt_jw_free(&jw);
}

/* Splits "eth1, eth2" into names (in place); returns how many, or -1 if more than max. */
static int split_ifaces(char *list, const char **out, int n, int max)
{
	char *p = list;

	while (*p) {
		char *e;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		e = p;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if (n >= max)
			return -1;
		out[n++] = p;
		if (*e)
			*e++ = '\0';
		p = e;
	}
	return n;
}

/* Drops root when -Z was given: called once capture, output and signatures are open. */
static int drop_privileges(void *ctx)
{
	const mt_config *cfg = ctx;
	char err[512];

	if (!cfg->user[0])
		return 0;
	if (mt_daemon_drop(cfg->user, cfg->chroot_dir, err, sizeof(err)) < 0) {
		mt_err("%s", err);
		return -1;
	}
	mt_info("running as %s (uid %ld)", cfg->user, (long)getuid());
	return 0;
}

/* dir if it is a folder, else the folder rel beside this executable (a build tree), else "". */
static void default_dir(const char *installed, const char *rel, char *out, size_t n)
{
	char exe[4096];
	ssize_t l;
	char *slash;

	out[0] = '\0';
	if (access(installed, R_OK | X_OK) == 0) {
		snprintf(out, n, "%s", installed);
		return;
	}
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l <= 0)
		return;
	exe[l] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	if ((size_t)snprintf(out, n, "%s/%s", exe, rel) >= n || access(out, R_OK | X_OK) != 0)
		out[0] = '\0';
}

/* Loads the plugins of dir and of each folder directly in it (a build tree keeps one per plugin). */
static int load_plugin_tree(mt_detect_reg *r, const char *dir)
{
	struct dirent **ents;
	int n, i, rc;

	rc = mt_detect_reg_load_plugins(r, dir);
	if (rc < 0)
		return rc;
	n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char sub[4096];
		struct stat st;

		if (rc == 0 && ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, ents[i]->d_name) < sizeof(sub) &&
		    stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rc = mt_detect_reg_load_plugins(r, sub);
		free(ents[i]);
	}
	if (n > 0)
		free(ents);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread (the capture path), whatever other threads do. */
static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_stats(const mt_engine *e, const mt_detect_reg *reg, double secs, uint64_t files,
			uint64_t truncated)
{
	const mt_engine_stats *st = mt_engine_stats_get(e);
	const mt_decode_stats *ds = mt_engine_decode_stats(e);
	const mt_flow_stats *fs = mt_engine_flow_stats(e);
	const mt_stream_stats *ss = mt_engine_stream_stats(e);
	int i;

	fprintf(stderr, "minetrace: stats: files=%" PRIu64 " truncated=%" PRIu64 "\n", files, truncated);
	fprintf(stderr, "minetrace: stats: packets=%" PRIu64 " bytes=%" PRIu64 " decoded=%" PRIu64
		" decode_errors=%" PRIu64 "\n", st->packets, st->bytes, ds->decoded, ds->errors);
	for (i = 0; i < MT_DEC__COUNT; i++) {
		if (ds->reason[i])
			fprintf(stderr, "minetrace: stats:   decode_error.%s=%" PRIu64 "\n",
				mt_decode_reason_name(i), ds->reason[i]);
	}
	for (i = 0; i < MT_OTHER__COUNT; i++) {
		if (ds->other[i])
			fprintf(stderr, "minetrace: stats:   not_tracked.%s=%" PRIu64 "\n",
				mt_decode_other_name(i), ds->other[i]);
	}
	for (i = 0; i < MT_TUN__COUNT; i++) {
		if (ds->tunnel[i])
			fprintf(stderr, "minetrace: stats:   tunnel.%s=%" PRIu64 "\n", mt_decode_tunnel_name(i),
				ds->tunnel[i]);
	}
	if (mt_engine_defrag_stats(e)) {
		const mt_defrag_stats *df = mt_engine_defrag_stats(e);

		fprintf(stderr, "minetrace: stats: defrag fragments=%" PRIu64 " reassembled=%" PRIu64
			" timeouts=%" PRIu64 " evicted=%" PRIu64 " overlaps=%" PRIu64 " overlap_diff=%" PRIu64
			" too_many=%" PRIu64 " bad=%" PRIu64 " truncated=%" PRIu64 " active=%" PRIu64
			" mem_peak=%" PRIu64 "\n", df->fragments, df->reassembled, df->timeouts, df->evicted,
			df->overlaps, df->overlap_diff, df->too_many, df->bad, df->truncated, df->active,
			df->mem_peak);
	}
	fprintf(stderr, "minetrace: stats: flows=%" PRIu64 " peak_active=%" PRIu64 " evicted=%" PRIu64
		" flow_alloc_fail=%" PRIu64 " peak_mem=%" PRIu64 "\n", fs->created, fs->peak_active,
		fs->evicted, fs->alloc_fail, fs->mem_peak);
	fprintf(stderr, "minetrace: stats: flows_inspected=%" PRIu64 " ndpi_flows=%" PRIu64
		" ndpi_packets=%" PRIu64 " detector_calls=%" PRIu64 "\n", st->flows_inspected,
		st->ndpi_flows, st->ndpi_packets, st->detector_calls);
	fprintf(stderr, "minetrace: stats: ndpi_dropped=%" PRIu64 " app_vetoed=%" PRIu64 "\n", st->ndpi_dropped,
		st->app_vetoed);
	for (i = 0; i < (int)reg->n; i++)
		fprintf(stderr, "minetrace: stats:   detector.%s calls=%" PRIu64 " detected=%" PRIu64
			" excluded=%" PRIu64 " prefiltered=%" PRIu64 "\n", reg->det[i]->name, st->det_calls[i],
			st->det_detected[i], st->det_excluded[i], st->det_prefiltered[i]);
	fprintf(stderr, "minetrace: stats: stream segments=%" PRIu64 " retransmit=%" PRIu64
		" overlap=%" PRIu64 " ooo_queued=%" PRIu64 " ooo_dropped=%" PRIu64 " gaps=%" PRIu64
		" capped_bytes=%" PRIu64 "\n", ss->segments, ss->retransmit, ss->overlap, ss->ooo_queued,
		ss->ooo_dropped, ss->gaps, ss->capped_bytes);
	{
		const mt_dnscache_stats *dc = mt_engine_dns_stats(e);
		fprintf(stderr, "minetrace: stats: dns responses=%" PRIu64 " malformed=%" PRIu64 " answers=%" PRIu64
			" inserted=%" PRIu64 " refreshed=%" PRIu64 " evicted=%" PRIu64 " lookups=%" PRIu64
			" hits=%" PRIu64 " expired=%" PRIu64 "\n", dc->responses, dc->malformed, dc->answers,
			dc->inserted, dc->refreshed, dc->evicted, dc->lookups, dc->hits, dc->expired);
	}
	fprintf(stderr, "minetrace: stats: hits=%" PRIu64 " mining=%" PRIu64 " crypto_p2p=%" PRIu64
		" updates=%" PRIu64 " sink_errors=%" PRIu64 " alloc_fail=%" PRIu64 "\n", st->hits,
		st->hits_mining, st->hits_p2p, st->hit_updates, st->sink_errors, st->alloc_fail);
	if (st->enrich_lookups)
		fprintf(stderr, "minetrace: stats: attribution flows_looked_up=%" PRIu64 "\n",
			st->enrich_lookups);
	if (st->stage_samples) {
		double staged = 0;
		/* Estimated from one packet in MT_ENGINE_STAGE_SAMPLE; "read" is the rest (libpcap, start-up, flush). */
		fprintf(stderr, "minetrace: stats: stage_ns_per_packet");
		for (i = 0; i < MT_ENGINE_STAGES; i++) {
			staged += (double)st->stage_ns[i];
			fprintf(stderr, " %s=%.0f", mt_engine_stage_name(i),
				st->packets ? (double)st->stage_ns[i] / (double)st->packets : 0.0);
		}
		fprintf(stderr, " read_and_rest=%.0f samples=%" PRIu64 "\n",
			st->packets && secs * 1e9 > staged ? (secs * 1e9 - staged) / (double)st->packets : 0.0,
			st->stage_samples);
	}
	fprintf(stderr, "minetrace: stats: time=%.3fs rate=%.0f packets/s\n", secs,
		secs > 0 ? (double)st->packets / secs : 0.0);
}

static int list_detectors(const mt_detect_reg *r)
{
	uint32_t i;

	printf("%-20s %-8s %-10s %s\n", "NAME", "WANTS", "API", "ORIGIN / DESCRIPTION");
	for (i = 0; i < r->n; i++) {
		const mt_detector *d = r->det[i];
		/* MT_WANT_TCP_PACKETS (every segment, payload or not) is TCP too */
		int tcp = (d->wants & (MT_WANT_TCP | MT_WANT_TCP_PACKETS)) != 0;
		int udp = (d->wants & MT_WANT_UDP) != 0;

		printf("%-20s %-8s %-10u %s: %s\n", d->name,
		       tcp && udp ? "tcp,udp" : tcp ? "tcp" : udp ? "udp" : "-",
		       d->api_version, r->origin[i], d->description ? d->description : "");
	}
	printf("%-20s %-8s %-10s %s: nDPI %s (labels, SNI, HTTP host and agent)\n", "ndpi", "tcp,udp",
	       "-", "builtin", mt_ndpi_version());
	return 0;
}

int main(int argc, char **argv)
{
	const char *files[MAX_FILES];
	const char *ifaces[MT_LIVE_MAX_IFACES];
	char cli_ifaces[MT_CONFIG_MAX_STR] = "";
	const char *config_path = NULL;
	int nifaces = 0, nfiles = 0, verbose = 0, list = 0, no_plugins = 0, opt, i, rc = 0;
	uint64_t truncated = 0, opened = 0, budget;
	mt_config cfg;
	mt_detect_reg reg;
	mt_engine *eng = NULL;
	mt_sink *sink = NULL;
	char err[512];
	double t0, cpu0;
	struct sigaction sa;

	mt_log_set_ident("minetrace");
	mt_config_default(&cfg);
	/* Pass 1: the config file path; everything else is applied after it. */
	while ((opt = getopt_long(argc, argv, "r:f:c:o:vi:Z:", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (nfiles >= MAX_FILES) {
				mt_err("more than %d capture files", MAX_FILES);
				return 2;
			}
			files[nfiles++] = optarg;
			break;
		case OPT_CONFIG:
			config_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case OPT_VERSION:
			printf("minetrace %s (libpcap, nDPI %s)\n", MT_VERSION, mt_ndpi_version());
			return 0;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_CONFIG_KEYS:
			mt_config_print_keys(stdout);
			return 0;
		case OPT_LIST_DETECTORS:
			list = 1;
			break;
		case OPT_NO_PLUGINS:
			no_plugins = 1;
			break;
		case OPT_CHECK_SIGNATURES: {
			int problems = mt_sigs_check(optarg, stdout);
			if (problems == 0)
				printf("%s: signatures are valid\n", optarg);
			return problems == 0 ? 0 : 1;
		}
		case 'f': case 'c': case 'o': case OPT_STATS: case OPT_SET:
		case OPT_NO_NDPI: case OPT_PLUGIN_DIR: case OPT_SIGNATURES: case OPT_GEOIP_DIR:
		case 'Z': case OPT_WORKERS: case OPT_STATS_INTERVAL: case OPT_CHROOT:
		case OPT_PIDFILE: case OPT_SYSLOG:
		case OPT_REDIS: case OPT_PROBE_ID: case OPT_SPOOL: case OPT_SPOOL_MAX: case OPT_SPOOL_FULL:
			break;
		case 'i': {
			/* -i replaces the config file's interface list */
			size_t l = strlen(cli_ifaces);
			if (l + strlen(optarg) + 2 > sizeof(cli_ifaces)) {
				mt_err("-i: too many interfaces");
				return 2;
			}
			snprintf(cli_ifaces + l, sizeof(cli_ifaces) - l, "%s%s", l ? "," : "", optarg);
			break;
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		mt_err("unexpected argument '%s' (capture files are given with -r)", argv[optind]);
		return 2;
	}
	if (config_path && mt_config_load(&cfg, config_path, err, sizeof(err)) < 0) {
		mt_err("%s", err);
		return 2;
	}
	/* Pass 2: command-line settings override the file. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:f:c:o:vi:Z:", long_opts, NULL)) != -1) {
		const char *k = NULL, *v = optarg;
		char kv[MT_CONFIG_MAX_STR];

		switch (opt) {
		case 'f': k = "filter"; break;
		case 'c': k = "count"; break;
		case 'o': k = "output"; break;
		case OPT_STATS: k = "stats"; v = "yes"; break;
		case OPT_NO_NDPI: k = "ndpi"; v = "no"; break;
		case OPT_PLUGIN_DIR: k = "plugin_dir"; break;
		case OPT_SIGNATURES: k = "signatures_dir"; break;
		case OPT_GEOIP_DIR: k = "geoip_dir"; break;
		case 'i': k = "interface"; v = cli_ifaces; break;
		case OPT_WORKERS: k = "workers"; break;
		case OPT_STATS_INTERVAL: k = "stats_interval"; break;
		case 'Z': k = "user"; break;
		case OPT_CHROOT: k = "chroot"; break;
		case OPT_PIDFILE: k = "pidfile"; break;
		case OPT_SYSLOG: k = "syslog"; v = "yes"; break;
		case OPT_REDIS: k = "redis"; break;
		case OPT_PROBE_ID: k = "probe_id"; break;
		case OPT_SPOOL: k = "spool"; break;
		case OPT_SPOOL_MAX: k = "spool_max"; break;
		case OPT_SPOOL_FULL: k = "spool_full"; break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq || (size_t)(eq - optarg) >= sizeof(kv)) {
				mt_err("--set %s: expected KEY=VALUE", optarg);
				return 2;
			}
			memcpy(kv, optarg, (size_t)(eq - optarg));
			kv[eq - optarg] = '\0';
			k = kv;
			v = eq + 1;
			break;
		}
		default: break;
		}
		if (k && mt_config_set(&cfg, k, v, err, sizeof(err)) < 0) {
			mt_err("%s", err);
			return 2;
		}
	}
	if (strcmp(cfg.log_level, "error") == 0) mt_log_set_level(MT_LOG_ERROR);
	else if (strcmp(cfg.log_level, "info") == 0) mt_log_set_level(MT_LOG_INFO);
	else if (strcmp(cfg.log_level, "debug") == 0) mt_log_set_level(MT_LOG_DEBUG);
	else mt_log_set_level(MT_LOG_WARN);
	if (verbose)
		mt_log_set_level(mt_log_get_level() + verbose > MT_LOG_DEBUG ? MT_LOG_DEBUG
										: mt_log_get_level() + verbose);
	if (cfg.syslog)
		mt_log_use_syslog(1);
	nifaces = split_ifaces(cfg.interfaces, ifaces, 0, MT_LIVE_MAX_IFACES);
	if (nifaces < 0) {
		mt_err("more than %d interfaces", MT_LIVE_MAX_IFACES);
		return 2;
	}
	if (nifaces && nfiles) {
		mt_err("live capture (-i) and files (-r) cannot be mixed");
		return 2;
	}
	if (cfg.chroot_dir[0] && !cfg.user[0]) {
		mt_err("--chroot needs -Z USER (root could leave the chroot)");
		return 2;
	}

	if (cfg.signatures_dir[0])
		snprintf(g_sigs_dir, sizeof(g_sigs_dir), "%s", cfg.signatures_dir);
	else
		default_dir(MT_SIGNATURES_DIR, "signatures", g_sigs_dir, sizeof(g_sigs_dir));
	if (g_sigs_dir[0]) {
		/* signatures decide what is reported: nobody but their owner may change them */
		int prc = mt_perm_check(g_sigs_dir, err, sizeof(err));
		if (prc == -EPERM) {
			mt_err("%s: refusing the signature folder", err);
			return 2;
		}
		if (prc == 1)
			mt_warn("%s", err);
		g_sigs = mt_sigs_load(g_sigs_dir, err, sizeof(err));
		if (!g_sigs) {
			mt_err("%s", err);
			return 2;
		}
		mt_info("%zu signatures from %s", mt_sigs_count(g_sigs), g_sigs_dir);
	} else {
		mt_warn("no signature folder (%s): pool names, agents and magics are not used",
			MT_SIGNATURES_DIR);
	}
	if (mt_detect_reg_init(&reg, 1, NULL, g_sigs_dir[0] ? g_sigs_dir : NULL) < 0) {
		mt_sigs_free(g_sigs);
		return 2;
	}
	if (!no_plugins) {
		char pdir[MT_CONFIG_MAX_STR + 64];
		int prc;

		if (cfg.plugin_dir[0]) {
			prc = mt_detect_reg_load_plugins(&reg, cfg.plugin_dir);
		} else {
			default_dir(MT_PLUGIN_DIR, "plugins", pdir, sizeof(pdir));
			prc = pdir[0] ? load_plugin_tree(&reg, pdir) : 0;
		}
		if (prc < 0) {
			mt_detect_reg_fini(&reg);
			mt_sigs_free(g_sigs);
			return 2;
		}
	}
	if (list) {
		list_detectors(&reg);
		goto out;
	}
	if (nfiles == 0 && nifaces == 0) {
		mt_err("no capture given: use -r FILE or -i IFACE (see --help)");
		rc = 2;
		goto out;
	}
	/* Live: every record is flushed as it is written, so a reader sees hits at once. */
	sink = mt_sink_json_open(cfg.output, nifaces > 0, err, sizeof(err));
	if (!sink) {
		mt_err("%s: cannot write output: %s", cfg.output, err);
		rc = 2;
		goto out;
	}
	if (cfg.pidfile[0] && mt_daemon_pidfile(cfg.pidfile, err, sizeof(err)) < 0) {
		mt_err("pid file %s", err);
		sink->close(sink);
		rc = 2;
		goto out;
	}
	cfg.eng.stage_clock = cfg.stats; /* the per-stage times of --stats */
	eng = mt_engine_new(&cfg.eng, &reg);
	if (!eng) {
		sink->close(sink);
		rc = 1;
		goto out;
	}
	mt_engine_add_sink(eng, sink);
	if (cfg.redis[0] && open_redis(&cfg, eng) < 0) {
		sink->close(sink);
		mt_engine_free(eng);
		rc = 2;
		goto out;
	}
	mt_engine_set_sigs(eng, g_sigs);
	if (cfg.geoip_dir[0] || cfg.geoip_city[0] || cfg.geoip_asn[0] || cfg.geoip_isp[0] ||
	    cfg.geoip_registry[0]) {
		char gerr[1024], desc[2048];

		g_enrich = open_enrich(&cfg, gerr, sizeof(gerr));
		if (!g_enrich) {
			mt_err("%s", gerr);
			mt_engine_free(eng);
			sink->close(sink);
			rc = 2;
			goto out;
		}
		if (gerr[0])
			mt_warn("%s", gerr);
		g_enrich_cfg = &cfg;
		mt_engine_set_enrich(eng, g_enrich);
		mt_enrich_describe(g_enrich, desc, sizeof(desc));
		mt_info("attribution databases: %s", desc[0] ? desc : "none");
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* A signal must not cut a blocking read of a pipe or FIFO short (libpcap would see a truncated file). */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (nifaces || cfg.workers > 1) {
		mt_run_opts ro;
		mt_stats tot;

		memset(&ro, 0, sizeof(ro));
		ro.cfg = &cfg;
		ro.reg = &reg;
		ro.ifaces = ifaces;
		ro.nifaces = nifaces;
		ro.files = files;
		ro.nfiles = nfiles;
		ro.workers = (int)cfg.workers;
		ro.live.ring_size = cfg.ring_size;
		ro.live.block_size = (uint32_t)cfg.ring_block_size;
		ro.live.block_timeout_ms = cfg.ring_block_timeout;
		ro.live.promisc = cfg.promisc;
		ro.sink = sink;
		ro.extra_sink = g_redis;
		ro.sink_stats = redis_run_stats;
		ro.sigs = &g_sigs;
		ro.sigs_dir = g_sigs_dir;
		ro.enrich = &g_enrich;
		ro.ready = drop_privileges;
		ro.ctx = &cfg;
		mt_engine_free(eng); /* each worker makes its own */
		eng = NULL;
		rc = mt_run(&ro, &tot);
		if (g_redis) {
			redis_run_stats(NULL, &tot);
			if (close_redis(NULL, cfg.stats) < 0)
				rc = rc ? rc : 1;
			tot.sink_queue = 0; /* drained: delivered or spooled (the redis line says which) */
		}
		if (cfg.stats) {
			mt_jw jw;
			mt_jw_init(&jw);
			mt_stats_json(&tot, &jw);
			if (!jw.err)
				fprintf(stderr, "minetrace: stats: %.*s\n", (int)jw.len, jw.buf);
			mt_jw_free(&jw);
		}
		if (sink->close(sink) < 0) {
			mt_err("%s: writing the output failed", cfg.output);
			rc = rc ? rc : 1;
		}
		goto done;
	}
	if (drop_privileges(&cfg) != 0) {
		sink->close(sink);
		rc = 2;
		goto done;
	}

	budget = cfg.count ? cfg.count : UINT64_MAX;
	t0 = now_s();
	cpu0 = thread_cpu_s();
	for (i = 0; i < nfiles && !g_stop && budget > 0; i++) {
		mt_capture *c = mt_capture_open_file(files[i], cfg.filter[0] ? cfg.filter : NULL,
						     err, sizeof(err));
		int end;

		if (!c) {
			mt_err("%s: %s", strcmp(files[i], "-") ? files[i] : "(stdin)", err);
			rc = 1;
			continue;
		}
		opened++;
		if (!mt_decode_link_supported(mt_capture_linktype(c)))
			mt_warn("%s: link type %d is not decoded; its packets are counted as errors",
				files[i], mt_capture_linktype(c));
		g_cap = c;
		end = mt_capture_run_batch(c, frames_cb, eng, &budget);
		g_cap = NULL;
		if (end == MT_CAPTURE_TRUNCATED) {
			mt_warn("%s: capture is truncated (%s); hits before the cut are kept", files[i],
				mt_capture_error(c));
			truncated++;
		} else if (end == MT_CAPTURE_ERROR) {
			mt_err("%s: %s", files[i], mt_capture_error(c));
			rc = 1;
		}
		mt_capture_close(c);
	}
	mt_engine_flush(eng);
	if (cfg.stats) { /* before the Redis drain: time and rate are the capture path's */
		print_stats(eng, &reg, now_s() - t0, opened, truncated);
		fprintf(stderr, "minetrace: stats: capture_thread_cpu=%.3fs\n", thread_cpu_s() - cpu0);
	}
	if (close_redis(eng, cfg.stats) < 0)
		rc = 1;
	if (sink->close(sink) < 0) {
		mt_err("%s: writing the output failed", cfg.output);
		rc = 1;
	}
done:
	mt_engine_free(eng);
	if (cfg.pidfile[0])
		unlink(cfg.pidfile); /* may fail once root is gone; systemd's RuntimeDirectory cleans up */
	mt_enrich_close(g_enrich);
out:
	mt_detect_reg_fini(&reg);
	mt_sigs_free(g_sigs);
	return rc;
}
