/* sink.h - where hit records go: JSON lines (file or stdout); Redis later. */
#ifndef MT_SINK_H
#define MT_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_sink mt_sink;

/* One sink. Several may be live at once, so this is a small vtable. */
struct mt_sink {
	const char *name;
	/* Takes one hit record (JSON, no newline). Returns 0 or a negative errno. */
	int (*write)(mt_sink *s, const char *json, size_t len);
	/* Pushes buffered records out. Returns 0 or a negative errno. */
	int (*flush)(mt_sink *s);
	/* Flushes and frees. Returns the first error seen over the sink's life (0 if none). */
	int (*close)(mt_sink *s);
	uint64_t written;
	uint64_t errors;
};

/*
 * JSON lines to path ("-" is stdout). line_buffered: flush after every
 * record (live capture). Returns NULL with a reason in err on failure.
 */
mt_sink *mt_sink_json_open(const char *path, int line_buffered, char *err,
			   size_t errlen);

/*
 * Wraps inner so that several worker threads may write to it: one mutex per
 * record. owns: closing the wrapper closes inner (else only flushes it).
 * Returns NULL on failure.
 */
mt_sink *mt_sink_locked_new(mt_sink *inner, int owns);

/* Records written and failed through a locked sink, read under its lock. */
void mt_sink_locked_counts(mt_sink *s, uint64_t *written, uint64_t *errors);

#endif
