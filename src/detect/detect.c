/* detect.c - the detector registry: the table of built-in detectors and the plugin loader. */
#include "detect/detect.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "util/log.h"

/* The built-in detectors, in the order they are asked. */
static const mt_detector *const builtin_table[] = {
	&mt_detect_stratum,
	&mt_detect_cryptonote,
	&mt_detect_ethproxy,
	&mt_detect_dialects,
	&mt_detect_httpmine,
	&mt_detect_tls,
	&mt_detect_sv2,
	&mt_detect_behaviour,
};

static void env_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void env_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mt_log(level, "%s", msg);
}

int mt_detect_reg_add(mt_detect_reg *r, const mt_detector *d, const char *origin,
		      void *dl, const mt_detector_env *env)
{
	uint32_t i;
	int rc;

	if (!d || !d->name || !d->on_packet) {
		mt_err("%s: detector without name or on_packet", origin);
		return -EINVAL;
	}
	if (d->api_version != MT_DETECTOR_API_VERSION) {
		mt_err("%s: detector '%s' was built for detector API version %u, this minetrace has version %u",
		       origin, d->name, d->api_version, MT_DETECTOR_API_VERSION);
		return -EINVAL;
	}
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->det[i]->name, d->name) == 0) {
			mt_err("%s: detector '%s' is already registered by %s", origin,
			       d->name, r->origin[i]);
			return -EEXIST;
		}
	}
	if (r->n >= MT_DETECT_MAX) {
		mt_err("%s: more than %d detectors", origin, MT_DETECT_MAX);
		return -ENOSPC;
	}
	i = r->n;
	r->global[i] = NULL;
	if (d->init && (rc = d->init(&r->global[i], env)) < 0) {
		mt_err("%s: detector '%s' failed to start: %s", origin, d->name, strerror(-rc));
		return rc;
	}
	r->det[i] = d;
	r->origin[i] = origin;
	r->dl[i] = dl;
	/* Keep each state 16-byte aligned inside the flow's block. */
	r->state_off[i] = r->state_total;
	r->state_total += (d->state_size + 15u) & ~(size_t)15u;
	if (d->wants & MT_WANT_TCP)
		r->tcp_mask |= 1u << i;
	if (d->wants & MT_WANT_UDP)
		r->udp_mask |= 1u << i;
	if (d->wants & MT_WANT_TCP_PACKETS)
		r->tcppkt_mask |= 1u << i;
	if (d->wants & MT_WANT_LABELS)
		r->labels_mask |= 1u << i;
	r->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every *.so in dir, in name order so that the order of detectors is stable. */
int mt_detect_reg_load_plugins(mt_detect_reg *r, const char *dir)
{
	const mt_detector_env *env = &r->env;
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0; /* no plugin folder: no plugins */
		mt_err("%s: cannot read plugin folder: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".so") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nn = realloc(names, nc * sizeof(*names));
			if (!nn) {
				rc = -ENOMEM;
				goto out;
			}
			names = nn;
			cap = nc;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		char path[4096];
		void *h;
		mt_plugin_entry_fn entry;
		const mt_detector *const *list;
		char *origin;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			mt_err("%s/%s: path too long", dir, names[i]);
			rc = -ENAMETOOLONG;
			break;
		}
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			mt_err("%s: cannot load plugin: %s", path, dlerror());
			rc = -EINVAL;
			break;
		}
		*(void **)&entry = dlsym(h, MT_PLUGIN_ENTRY);
		if (!entry) {
			mt_err("%s: not a minetrace plugin (no %s symbol)", path, MT_PLUGIN_ENTRY);
			dlclose(h);
			rc = -EINVAL;
			break;
		}
		origin = strdup(path);
		list = entry();
		if (!origin || !list || !list[0]) {
			mt_err("%s: plugin lists no detector", path);
			free(origin);
			dlclose(h);
			rc = origin ? -EINVAL : -ENOMEM;
			break;
		}
		for (size_t k = 0; list[k]; k++) {
			/* The first detector of a plugin owns the handle and the origin string. */
			rc = mt_detect_reg_add(r, list[k], origin, k == 0 ? h : NULL, env);
			if (rc < 0) {
				if (k == 0) {
					free(origin);
					dlclose(h);
				}
				break;
			}
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int mt_detect_reg_init(mt_detect_reg *r, int builtins, const char *plugin_dir,
		       const char *signatures_dir)
{
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->env.api_version = MT_DETECTOR_API_VERSION;
	r->env.signatures_dir = signatures_dir;
	r->env.log = env_log;
	if (builtins) {
		for (i = 0; i < sizeof(builtin_table) / sizeof(builtin_table[0]); i++) {
			rc = mt_detect_reg_add(r, builtin_table[i], "builtin", NULL, &r->env);
			if (rc < 0)
				goto err;
		}
	}
	if (plugin_dir && (rc = mt_detect_reg_load_plugins(r, plugin_dir)) < 0)
		goto err;
	return 0;
err:
	mt_detect_reg_fini(r);
	return rc;
}

void mt_detect_reg_fini(mt_detect_reg *r)
{
	uint32_t i;

	if (!r)
		return;
	for (i = r->n; i-- > 0;) {
		if (r->det[i]->fini)
			r->det[i]->fini(r->global[i]);
	}
	for (i = r->n; i-- > 0;) {
		if (r->dl[i]) {
			free((char *)r->origin[i]);
			dlclose(r->dl[i]);
		}
	}
	memset(r, 0, sizeof(*r));
}
