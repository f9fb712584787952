/* run.c - the workers: live capture (one engine per fanout member) or files read in parallel. */
#include "cli/run.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "enrich/enrich.h"
#include "util/jw.h"
#include "util/log.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Offline workers look at the flags and the clock every this many packets. */
#define POLL_EVERY 1024
/* A worker publishes its counters at most this often (ns). */
#define SNAP_NS 200000000ull
/* How long a live worker waits in poll() before looking at the flags again (ms). */
#define LIVE_POLL_MS 100
/* The main thread's tick (ms). */
#define MAIN_TICK_MS 20

/*
 * Signal handlers only set these; the main thread and the workers look at
 * them (workers between ring blocks, or every POLL_EVERY packets offline).
 * Lock-free atomics: safe in a handler (C11 7.14.1.1) and between threads
 * (a worker whose interface fails sets g_stop too).
 */
static atomic_int g_stop, g_reload, g_usr1;

void mt_run_signal(int sig)
{
	if (sig == SIGHUP)
		atomic_store(&g_reload, 1);
	else if (sig == SIGUSR1)
		atomic_store(&g_usr1, 1);
	else
		atomic_store(&g_stop, 1);
}

typedef struct run run;

typedef struct worker {
	run *r;
	int id;
	pthread_t th;
	int started;
	mt_engine *eng;
	mt_live *live;
	mt_capture *cap;            /* offline: the file being read */
	uint64_t budget;
	uint32_t tick;
	unsigned sigs_gen;          /* the signature generation this engine uses */
	const mt_enrich *enrich;    /* the attribution databases this engine uses */
	uint64_t next_snap_ns;
	uint64_t files, truncated;
	int failed;
	atomic_uint acked_gen;      /* sigs_gen, for the main thread */
	atomic_int done;
	double cpu_s;               /* the thread's CPU time, at its end */
	pthread_mutex_t mu;         /* guards snap */
	mt_stats snap;
} worker;

struct run {
	const mt_run_opts *o;
	int n;
	worker *w;
	atomic_uint sigs_gen;
	const mt_sigs *_Atomic sigs_cur;
	const mt_enrich *_Atomic enrich_cur; /* handed over with the same generation as sigs_cur */
	atomic_int next_file;
	mt_sink *sink;              /* what the engines write to */
	mt_dnscache *dns;           /* live, several workers: their common DNS answer cache */
	pthread_mutex_t dns_mu;
	void *nodes;                /* and their common table of blockchain nodes seen */
	pthread_mutex_t nodes_mu;
	uint64_t reloads;
	uint64_t t0_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL); /* a signal cuts it short: the caller looks at the flags anyway */
}

/* Copies the worker's counters where the main thread reads them (never per packet). */
static void snapshot(worker *w)
{
	mt_stats s;

	memset(&s, 0, sizeof(s));
	s.workers = 1;
	mt_stats_add_engine(&s, w->eng);
	if (w->live) {
		mt_live_stats ls;
		mt_live_stats_get(w->live, &ls);
		s.kernel_packets = ls.packets;
		s.kernel_drops = ls.drops;
		s.kernel_freezes = ls.freezes;
	}
	s.files = w->files;
	s.truncated = w->truncated;
	pthread_mutex_lock(&w->mu);
	w->snap = s;
	pthread_mutex_unlock(&w->mu);
	w->next_snap_ns = mono_ns() + SNAP_NS;
}

/* Between packets: a new signature set, the stop flag, the counters. */
static void worker_poll(worker *w)
{
	unsigned gen = atomic_load_explicit(&w->r->sigs_gen, memory_order_acquire);

	if (unlikely(gen != w->sigs_gen)) {
		/* The main thread frees the old set only after every worker has acknowledged. */
		const mt_enrich *en = atomic_load_explicit(&w->r->enrich_cur, memory_order_acquire);

		mt_engine_set_sigs(w->eng, atomic_load_explicit(&w->r->sigs_cur, memory_order_acquire));
		/* Only on a change: setting the databases clears the engine's record cache. */
		if (en != w->enrich) {
			mt_engine_set_enrich(w->eng, en);
			w->enrich = en;
		}
		w->sigs_gen = gen;
		atomic_store_explicit(&w->acked_gen, gen, memory_order_release);
	}
	if (atomic_load_explicit(&g_stop, memory_order_relaxed) && w->cap)
		mt_capture_stop(w->cap);
	if (mono_ns() >= w->next_snap_ns)
		snapshot(w);
}

static void frame_offline(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data, uint32_t cap_len,
			  uint32_t wire_len)
{
	worker *w = ctx;

	if (unlikely(++w->tick >= POLL_EVERY)) {
		w->tick = 0;
		worker_poll(w);
	}
	mt_engine_frame(w->eng, linktype, ts_us, data, cap_len, wire_len);
}

static void frame_live(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data, uint32_t cap_len,
		       uint32_t wire_len)
{
	worker *w = ctx;

	mt_engine_frame(w->eng, linktype, ts_us, data, cap_len, wire_len);
}

/* Offline: takes the next file not yet taken until none is left (each file is read by one worker). */
static void run_files(worker *w)
{
	const mt_run_opts *o = w->r->o;
	const char *bpf = o->cfg->filter[0] ? o->cfg->filter : NULL;
	uint64_t *budget = &w->budget;
	char err[512];
	int i;

	while (!atomic_load(&g_stop) && *budget > 0 && (i = atomic_fetch_add(&w->r->next_file, 1)) < o->nfiles) {
		const char *name = strcmp(o->files[i], "-") ? o->files[i] : "(stdin)";
		int end;

		w->cap = mt_capture_open_file(o->files[i], bpf, err, sizeof(err));
		if (!w->cap) {
			mt_err("%s: %s", name, err);
			w->failed = 1;
			continue;
		}
		w->files++;
		/* A safe point too (the engine is empty): a reader blocked in a FIFO's open() switches here. */
		worker_poll(w);
		if (!mt_decode_link_supported(mt_capture_linktype(w->cap)))
			mt_warn("%s: link type %d is not decoded; its packets are counted as errors", name,
				mt_capture_linktype(w->cap));
		end = mt_capture_run(w->cap, frame_offline, w, budget);
		if (end == MT_CAPTURE_TRUNCATED) {
			mt_warn("%s: capture is truncated (%s); hits before the cut are kept", name,
				mt_capture_error(w->cap));
			w->truncated++;
		} else if (end == MT_CAPTURE_ERROR) {
			mt_err("%s: %s", name, mt_capture_error(w->cap));
			w->failed = 1;
		}
		mt_capture_close(w->cap);
		w->cap = NULL;
		/* Each file on its own, as a one-file run reads it, whichever worker took it. */
		mt_engine_restart(w->eng);
	}
}

static void run_live(worker *w)
{
	const mt_run_opts *o = w->r->o;
	char err[512];
	int n;

	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && w->budget > 0) {
		n = mt_live_dispatch(w->live, LIVE_POLL_MS, frame_live, w, &w->budget, err, sizeof(err));
		if (n < 0) {
			/* The interface went away: everything stops (exit 1), so a supervisor restarts the probe. */
			mt_err("worker %d: %s; stopping", w->id, err);
			w->failed = 1;
			atomic_store(&g_stop, 1);
			return;
		}
		worker_poll(w);
	}
	if (atomic_load(&g_stop)) {
		/* What the kernel already took is not lost: the block it is filling is handed over within one block timeout. */
		sleep_ms(o->live.block_timeout_ms + 5);
		mt_live_dispatch(w->live, 0, frame_live, w, &w->budget, err, sizeof(err));
	}
}

static void *worker_main(void *arg)
{
	worker *w = arg;

	if (w->live)
		run_live(w);
	else
		run_files(w);
	snapshot(w);
	mt_engine_flush(w->eng); /* the final records of every flow still open */
	snapshot(w);
	{
		struct timespec ts;
		if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
			w->cpu_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	atomic_store(&w->done, 1);
	return NULL;
}

/* The counters of every worker (as last published), the output's and the run's. */
static void collect(run *r, mt_stats *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < r->n; i++) {
		pthread_mutex_lock(&r->w[i].mu);
		mt_stats_sum(out, &r->w[i].snap);
		pthread_mutex_unlock(&r->w[i].mu);
	}
	if (r->n > 1)
		mt_sink_locked_counts(r->sink, &out->sink_written, &out->sink_errors);
	else
		out->sink_written = out->hits; /* one worker: the engine's own count (no shared wrapper) */
	out->uptime_s = (double)((mono_ns() - r->t0_ns) / 1000000u) / 1000.0;
	out->reloads = r->reloads;
	if (r->o->sink_stats)
		r->o->sink_stats(r->o->ctx, out);
}

static void report(run *r, const char *why)
{
	mt_stats s;
	mt_jw jw;

	collect(r, &s);
	mt_jw_init(&jw);
	mt_stats_json(&s, &jw);
	if (!jw.err) {
		mt_log_notice("stats (%s): %.*s", why, (int)jw.len, jw.buf);
		if (r->o->on_stats)
			r->o->on_stats(r->o->ctx, jw.buf, jw.len);
	}
	mt_jw_free(&jw);
}

/*
 * The attribution databases again (as reload_enrich() in minetrace.c): the
 * new set is taken only when every file opened and nothing loaded before went
 * missing (a file being replaced is not dropped). NULL keeps the old set.
 */
static mt_enrich *reload_enrich(run *r)
{
	const mt_config *c = r->o->cfg;
	char err[1024], desc[2048];
	mt_enrich *ne;
	unsigned had;

	if (!r->o->enrich || !*r->o->enrich)
		return NULL;
	err[0] = '\0';
	ne = mt_enrich_open(c->geoip_dir, c->geoip_city, c->geoip_asn, c->geoip_isp, c->geoip_registry, err,
			    sizeof(err));
	if (!ne) {
		mt_err("reload: %s; keeping the attribution databases loaded before", err);
		return NULL;
	}
	had = mt_enrich_loaded(*r->o->enrich);
	if ((mt_enrich_loaded(ne) & had) != had) {
		mt_err("reload: %s; keeping the attribution databases loaded before",
		       err[0] ? err : "a database loaded before is missing");
		mt_enrich_close(ne);
		return NULL;
	}
	/* Logged before the handover: the handover itself may wait for a worker blocked in a read. */
	mt_enrich_describe(ne, desc, sizeof(desc));
	mt_info("reload: attribution databases: %s", desc);
	return ne;
}

/*
 * SIGHUP: loads the signatures and the attribution databases again, hands
 * the new sets to every worker and frees the old ones once none of them uses
 * them. Flows and packets are not touched: workers switch between two ring
 * blocks (or packets offline, or at the start of a file). On any error the
 * old set of that kind stays in force.
 */
static void reload(run *r)
{
	const mt_run_opts *o = r->o;
	char err[512];
	mt_sigs *ns = NULL, *old = NULL;
	mt_enrich *ne, *olde = NULL;
	unsigned gen;
	int i;

	if (!o->sigs_dir || !o->sigs_dir[0]) {
		mt_warn("reload: no signature folder in use");
	} else {
		ns = mt_sigs_load(o->sigs_dir, err, sizeof(err));
		if (!ns)
			mt_err("reload: %s; keeping the signatures loaded before", err);
	}
	ne = reload_enrich(r);
	if (!ns && !ne)
		return;
	if (ns) {
		old = *o->sigs;
		atomic_store_explicit(&r->sigs_cur, ns, memory_order_release);
		*o->sigs = ns;
	}
	if (ne) {
		olde = *o->enrich;
		atomic_store_explicit(&r->enrich_cur, ne, memory_order_release);
		*o->enrich = ne;
	}
	gen = atomic_fetch_add_explicit(&r->sigs_gen, 1, memory_order_acq_rel) + 1;
	for (i = 0; i < r->n; i++) {
		worker *w = &r->w[i];
		while (!atomic_load(&w->done) && atomic_load_explicit(&w->acked_gen, memory_order_acquire) != gen)
			sleep_ms(2);
	}
	mt_sigs_free(old);
	mt_enrich_close(olde);
	if (ns) {
		r->reloads++;
		mt_log_notice("reload: %zu signatures from %s", mt_sigs_count(ns), o->sigs_dir);
	}
}

static int workers_setup(run *r, char *err, size_t errlen)
{
	const mt_run_opts *o = r->o;
	mt_engine_cfg ecfg = o->cfg->eng;
	int fanout[MT_LIVE_MAX_IFACES], i;

	/* The flow table's limits are for the whole probe: each worker gets its share. */
	if (r->n > 1) {
		ecfg.flow.max_flows = ecfg.flow.max_flows / (uint32_t)r->n < 16 ? 16 : ecfg.flow.max_flows / (uint32_t)r->n;
		ecfg.flow.memcap = ecfg.flow.memcap / (uint64_t)r->n < (1u << 20) ? (1u << 20)
										  : ecfg.flow.memcap / (uint64_t)r->n;
	}
	/*
	 * Live workers share the DNS answer cache: the answer and the flow it names
	 * usually hash to different workers. Offline, each file keeps its own (its
	 * worker's), as a one-file run does.
	 */
	if (o->nifaces && r->n > 1 && ecfg.dns_cache_entries) {
		r->dns = mt_dnscache_new(ecfg.dns_cache_entries);
		if (!r->dns) {
			snprintf(err, errlen, "cannot allocate the DNS cache");
			return -ENOMEM;
		}
	}
	if (o->nifaces && r->n > 1) {
		r->nodes = mt_engine_nodes_new();
		if (!r->nodes) {
			snprintf(err, errlen, "cannot allocate the node table");
			return -ENOMEM;
		}
	}
	/* One fanout group per interface; the first worker makes them, the others join. */
	for (i = 0; i < MT_LIVE_MAX_IFACES; i++)
		fanout[i] = -1;
	for (i = 0; i < r->n; i++) {
		worker *w = &r->w[i];

		w->r = r;
		w->id = i;
		w->budget = o->cfg->count ? o->cfg->count : UINT64_MAX;
		w->eng = mt_engine_new(&ecfg, o->reg);
		if (!w->eng) {
			snprintf(err, errlen, "worker %d: cannot make its engine", i);
			return -ENOMEM;
		}
		mt_engine_add_sink(w->eng, r->sink);
		if (o->extra_sink)
			mt_engine_add_sink(w->eng, o->extra_sink);
		if (r->dns)
			mt_engine_share_dns(w->eng, r->dns, &r->dns_mu);
		if (r->nodes)
			mt_engine_share_nodes(w->eng, r->nodes, &r->nodes_mu);
		mt_engine_set_sigs(w->eng, *o->sigs);
		w->enrich = o->enrich ? *o->enrich : NULL;
		mt_engine_set_enrich(w->eng, w->enrich);
		if (o->nifaces) {
			w->live = mt_live_open(o->ifaces, o->nifaces, r->n > 1 ? fanout : NULL, o->cfg->filter,
					       &o->live, err, errlen);
			if (!w->live)
				return -EIO;
		}
	}
	/* Every member has joined: now the real filter, so no flow is split by a changing group. */
	for (i = 0; o->nifaces && i < r->n; i++) {
		if (mt_live_start(r->w[i].live, err, errlen) < 0)
			return -EIO;
	}
	return 0;
}

int mt_run(const mt_run_opts *o, mt_stats *totals)
{
	run r;
	char err[512];
	uint64_t next_stats, interval_ns;
	int i, rc = 0, running;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.n = o->workers < 1 ? 1 : o->workers > MT_RUN_MAX_WORKERS ? MT_RUN_MAX_WORKERS : o->workers;
	if (!o->nifaces && r.n > o->nfiles)
		r.n = o->nfiles > 0 ? o->nfiles : 1; /* offline, one worker per file at most */
	r.t0_ns = mono_ns();
	atomic_init(&r.sigs_cur, *o->sigs);
	atomic_init(&r.enrich_cur, o->enrich ? *o->enrich : NULL);
	r.w = calloc((size_t)r.n, sizeof(*r.w));
	/* Several workers share the output through one lock per record. */
	r.sink = r.n > 1 ? mt_sink_locked_new(o->sink, 0) : o->sink;
	if (!r.w || !r.sink) {
		mt_err("%s", strerror(ENOMEM));
		free(r.w);
		return 2;
	}
	for (i = 0; i < r.n; i++)
		pthread_mutex_init(&r.w[i].mu, NULL);
	pthread_mutex_init(&r.dns_mu, NULL);
	pthread_mutex_init(&r.nodes_mu, NULL);
	if (workers_setup(&r, err, sizeof(err)) < 0) {
		mt_err("%s", err);
		rc = 2;
		goto out;
	}
	if (o->ready && o->ready(o->ctx) != 0) {
		rc = 2;
		goto out;
	}
	if (o->nifaces)
		mt_log_notice("capturing on %d interface(s) with %d worker(s)", o->nifaces, r.n);
	for (i = 0; i < r.n; i++) {
		worker *w = &r.w[i];
		w->next_snap_ns = 0;
		if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
			mt_err("cannot start worker %d", i);
			atomic_store(&g_stop, 1);
			rc = 2;
			break;
		}
		w->started = 1;
	}
	interval_ns = (uint64_t)o->cfg->stats_interval * 1000000000ull;
	next_stats = mono_ns() + interval_ns;
	do {
		sleep_ms(MAIN_TICK_MS);
		if (atomic_exchange(&g_reload, 0))
			reload(&r);
		if (atomic_exchange(&g_usr1, 0))
			report(&r, "SIGUSR1");
		if (interval_ns && mono_ns() >= next_stats) {
			report(&r, "interval");
			next_stats += interval_ns;
		}
		running = 0;
		for (i = 0; i < r.n; i++)
			running += r.w[i].started && !atomic_load(&r.w[i].done);
	} while (running);
	for (i = 0; i < r.n; i++) {
		if (r.w[i].started)
			pthread_join(r.w[i].th, NULL);
		if (r.w[i].failed && !rc)
			rc = 1;
	}
	if (r.sink->flush(r.sink) < 0 && !rc)
		rc = 1;
	if (interval_ns || mt_log_get_level() >= MT_LOG_INFO)
		report(&r, "exit");
	/* Each worker's share: on a shared machine its CPU time says more than the wall clock. */
	for (i = 0; o->cfg->stats && i < r.n; i++)
		fprintf(stderr, "minetrace: stats: worker %d packets=%" PRIu64 " cpu=%.3fs\n", i, r.w[i].snap.packets,
			r.w[i].cpu_s);
	if (totals)
		collect(&r, totals);
out:
	for (i = 0; i < r.n; i++) {
		mt_live_close(r.w[i].live);
		mt_engine_free(r.w[i].eng);
		pthread_mutex_destroy(&r.w[i].mu);
	}
	mt_dnscache_free(r.dns);
	pthread_mutex_destroy(&r.dns_mu);
	free(r.nodes);
	pthread_mutex_destroy(&r.nodes_mu);
	if (r.sink != o->sink)
		r.sink->close(r.sink); /* the wrapper only: the caller closes its sink */
	free(r.w);
	return rc;
}
