/* detect.h - the detector registry: built-in rows plus plugins, one interface. */
#ifndef MT_DETECT_H
#define MT_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "detect/detector.h"

#define MT_DETECT_MAX 32 /* detectors in one registry (bits of a per-flow mask) */

typedef struct mt_detect_reg {
	uint32_t n;
	const mt_detector *det[MT_DETECT_MAX];
	void *global[MT_DETECT_MAX];
	size_t state_off[MT_DETECT_MAX]; /* offset of each detector's state in a flow's block */
	const char *origin[MT_DETECT_MAX]; /* "builtin" or the plugin's path */
	void *dl[MT_DETECT_MAX];           /* dlopen handles to close at fini */
	size_t state_total;                /* bytes of one flow's state block */
	uint32_t tcp_mask;                 /* detectors that want TCP stream bytes */
	uint32_t tcppkt_mask;              /* detectors that want every TCP payload packet (no stream) */
	uint32_t udp_mask;                 /* detectors that want UDP */
	uint32_t labels_mask;              /* detectors that read nDPI's labels (MT_WANT_LABELS) */
	mt_detector_env env;               /* what each detector's init was given */
} mt_detect_reg;

/*
 * Registers the built-in detectors (all of them, or none if builtins is 0),
 * then every plugin in plugin_dir if non-NULL. Calls each init.
 * Returns 0, or a negative errno with the reason logged.
 */
int mt_detect_reg_init(mt_detect_reg *r, int builtins, const char *plugin_dir,
		       const char *signatures_dir);

/*
 * Loads every *.so in dir (name order) as a plugin. A folder that does not
 * exist is no error (no plugins). Returns 0 or a negative errno (logged).
 */
int mt_detect_reg_load_plugins(mt_detect_reg *r, const char *dir);

/* Adds one detector (checks its API version and name). Returns 0 or -EINVAL/-ENOSPC. */
int mt_detect_reg_add(mt_detect_reg *r, const mt_detector *d, const char *origin,
		      void *dl, const mt_detector_env *env);

/* Calls each fini and closes plugins. NULL-safe; r is zeroed. */
void mt_detect_reg_fini(mt_detect_reg *r);

#endif
