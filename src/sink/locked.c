/* locked.c - a sink shared by several workers: one mutex around each record of an inner sink. */
#include "sink/sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/*
 * Workers emit hits rarely (once per identified flow and its updates), so a
 * mutex per record costs nothing on the per-packet path and keeps each JSON
 * line whole. The inner sink's own counters are read under the same lock.
 */
typedef struct locked_sink {
	mt_sink base;
	mt_sink *inner;
	int owns;
	pthread_mutex_t mu;
} locked_sink;

static int ls_write(mt_sink *s, const char *json, size_t len)
{
	locked_sink *l = (locked_sink *)s;
	int rc;

	pthread_mutex_lock(&l->mu);
	rc = l->inner->write(l->inner, json, len);
	if (rc < 0)
		s->errors++;
	else
		s->written++;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static int ls_flush(mt_sink *s)
{
	locked_sink *l = (locked_sink *)s;
	int rc;

	pthread_mutex_lock(&l->mu);
	rc = l->inner->flush(l->inner);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static int ls_close(mt_sink *s)
{
	locked_sink *l = (locked_sink *)s;
	int rc;

	if (!s)
		return 0;
	rc = l->owns ? l->inner->close(l->inner) : ls_flush(s);
	pthread_mutex_destroy(&l->mu);
	free(l);
	return rc;
}

mt_sink *mt_sink_locked_new(mt_sink *inner, int owns)
{
	locked_sink *l;

	if (!inner)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return NULL;
	}
	l->inner = inner;
	l->owns = owns;
	l->base.name = inner->name;
	l->base.write = ls_write;
	l->base.flush = ls_flush;
	l->base.close = ls_close;
	return &l->base;
}

void mt_sink_locked_counts(mt_sink *s, uint64_t *written, uint64_t *errors)
{
	locked_sink *l = (locked_sink *)s;

	pthread_mutex_lock(&l->mu);
	*written = s->written;
	*errors = s->errors;
	pthread_mutex_unlock(&l->mu);
}
