/* run.h - the workers: live capture (one engine per fanout member) or files read in parallel. */
#ifndef MT_CLI_RUN_H
#define MT_CLI_RUN_H

#include <stddef.h>

#include "capture/capture.h"
#include "cli/config.h"
#include "cli/stats.h"
#include "detect/detect.h"
#include "detect/sigs.h"
#include "sink/sink.h"

#define MT_RUN_MAX_WORKERS 64

typedef struct mt_run_opts {
	const mt_config *cfg;         /* engine settings, filter, count, stats_interval */
	const mt_detect_reg *reg;
	const char *const *ifaces;    /* live capture if nifaces > 0 */
	int nifaces;
	const char *const *files;     /* else these files, each read whole by one worker */
	int nfiles;
	int workers;                  /* 1..MT_RUN_MAX_WORKERS */
	mt_live_cfg live;
	mt_sink *sink;                /* shared by the workers: thread-safe when workers > 1 */
	mt_sink *extra_sink;          /* a second output every worker writes to, itself
				       * thread-safe (the Redis sink), or NULL */
	mt_sigs **sigs;               /* in force (may point to NULL); SIGHUP replaces *sigs */
	const char *sigs_dir;         /* where SIGHUP reloads from ("" or NULL: no reload) */
	struct mt_enrich **enrich;    /* attribution databases in force (may point to NULL, or be
				       * NULL); SIGHUP replaces *enrich when non-NULL */
	/* After the sockets are open and the engines made, before the first packet
	 * (dropping root). Nonzero stops the run with exit status 2. May be NULL. */
	int (*ready)(void *ctx);
	/* Fills the sink figures of a report (sink_queue, sink_spool, e.g. from the Redis
	 * sink's counters); called from the main thread. May be NULL. */
	void (*sink_stats)(void *ctx, mt_stats *s);
	/* Each statistics report as one JSON object (e.g. for Redis mt:probe:ID). May be NULL. */
	void (*on_stats)(void *ctx, const char *json, size_t len);
	void *ctx;
} mt_run_opts;

/*
 * Runs the workers until the files are read, the packet count is reached,
 * or SIGTERM/SIGINT; every flow is then flushed. Statistics go to the log
 * every cfg->stats_interval seconds and on SIGUSR1; SIGHUP reloads the
 * signatures and the attribution databases. If totals is non-NULL it gets the final counters. Returns the
 * exit status: 0, 1 (a file or the capture failed), 2 (setup failed).
 */
int mt_run(const mt_run_opts *o, mt_stats *totals);

/* For the signal handler (async-signal-safe): SIGINT/SIGTERM stop, SIGHUP reload, SIGUSR1 stats. */
void mt_run_signal(int sig);

#endif
