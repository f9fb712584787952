/* config.h - minetrace's settings: defaults, the config file (key = value), and their documentation. */
#ifndef MT_CONFIG_H
#define MT_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"

#define MT_CONFIG_MAX_LINE 4096
#define MT_CONFIG_MAX_STR 1024

typedef struct mt_config {
	mt_engine_cfg eng;
	char output[MT_CONFIG_MAX_STR];     /* "-" = stdout */
	char filter[MT_CONFIG_MAX_STR];     /* BPF, "" = none */
	char plugin_dir[MT_CONFIG_MAX_STR]; /* "" = the installed folder */
	char signatures_dir[MT_CONFIG_MAX_STR]; /* "" = the installed folder */
	char log_level[16];
	int stats;
	uint64_t count;                     /* 0 = no limit */
	/* Live capture and running as a service */
	char interfaces[MT_CONFIG_MAX_STR]; /* comma-separated; "" = none (-i) */
	uint32_t workers;                   /* capture workers (--workers) */
	uint32_t stats_interval;            /* s between statistics reports; 0 = none */
	uint64_t ring_size;                 /* bytes of ring per worker and interface */
	uint64_t ring_block_size;
	uint32_t ring_block_timeout;        /* ms */
	int promisc;
	int syslog;                         /* log to syslog instead of stderr */
	char user[MT_CONFIG_MAX_STR];       /* drop root to this user (-Z) */
	char chroot_dir[MT_CONFIG_MAX_STR]; /* and chroot here first */
	char pidfile[MT_CONFIG_MAX_STR];
	/* Attribution databases (issue 5): a folder typed by metadata, and single files. */
	char geoip_dir[MT_CONFIG_MAX_STR];
	char geoip_city[MT_CONFIG_MAX_STR];
	char geoip_asn[MT_CONFIG_MAX_STR];
	char geoip_isp[MT_CONFIG_MAX_STR];
	char geoip_registry[MT_CONFIG_MAX_STR];
	/* Redis hit store (issue 6) */
	char redis[MT_CONFIG_MAX_STR];      /* URL, "" = off */
	char probe_id[128];                 /* "" = host name */
	char spool[MT_CONFIG_MAX_STR];      /* folder, "" = none */
	char spool_full[16];                /* drop-newest | drop-oldest */
	uint64_t spool_max;
	uint64_t redis_queue_max;
	uint32_t redis_connect_timeout, redis_timeout, redis_batch, redis_heartbeat;
	uint64_t redis_maxlen;
} mt_config;

/* Fills the defaults. */
void mt_config_default(mt_config *c);

/*
 * Reads a config file: one `key = value` per line, '#' starts a comment,
 * values may be double-quoted. Unknown keys, bad values and out-of-range
 * numbers are errors. Returns 0, or -1 with "PATH:LINE: reason" in err.
 */
int mt_config_load(mt_config *c, const char *path, char *err, size_t errlen);

/* Sets one key from text (the file and command-line overrides share this). Returns 0 or -1 with a reason. */
int mt_config_set(mt_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Prints every key with its type, default and meaning. */
void mt_config_print_keys(FILE *fp);

/* Strict number parsing: decimal, optional K/M/G (and KiB/MiB/GiB) suffix when size is 1. */
int mt_config_parse_u64(const char *s, int size, uint64_t *out);

#endif
