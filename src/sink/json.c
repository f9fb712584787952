/* json.c - the JSON lines sink: one hit record per line, to a file or stdout. */
#include "sink/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_sink {
	mt_sink base;
	FILE *fp;
	int is_stdout;
	int line_buffered;
	int first_err;
	char iobuf[1 << 16];
} json_sink;

static char stdout_buf[1 << 16];
static int stdout_buffered;

static int js_write(mt_sink *s, const char *json, size_t len)
{
	json_sink *j = (json_sink *)s;

	if (fwrite(json, 1, len, j->fp) != len || fputc('\n', j->fp) == EOF) {
		s->errors++;
		if (!j->first_err)
			j->first_err = errno ? -errno : -EIO;
		return j->first_err;
	}
	s->written++;
	if (j->line_buffered && fflush(j->fp) != 0) {
		s->errors++;
		if (!j->first_err)
			j->first_err = -errno;
		return j->first_err;
	}
	return 0;
}

static int js_flush(mt_sink *s)
{
	json_sink *j = (json_sink *)s;

	if (fflush(j->fp) != 0) {
		if (!j->first_err)
			j->first_err = -errno;
		return -errno;
	}
	return 0;
}

static int js_close(mt_sink *s)
{
	json_sink *j = (json_sink *)s;
	int rc;

	if (!s)
		return 0;
	js_flush(s);
	if (!j->is_stdout && fclose(j->fp) != 0 && !j->first_err)
		j->first_err = -errno;
	rc = j->first_err;
	free(j);
	return rc;
}

mt_sink *mt_sink_json_open(const char *path, int line_buffered, char *err,
			   size_t errlen)
{
	json_sink *j = calloc(1, sizeof(*j));

	if (!j) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		j->fp = stdout;
		j->is_stdout = 1;
	} else {
		j->fp = fopen(path, "w");
		if (!j->fp) {
			snprintf(err, errlen, "%s", strerror(errno));
			free(j);
			return NULL;
		}
	}
	/* stdout outlives the sink, so its buffer is static (set once, before any output). */
	if (!line_buffered && j->is_stdout && !stdout_buffered) {
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
		stdout_buffered = 1;
	} else if (!line_buffered && !j->is_stdout) {
		setvbuf(j->fp, j->iobuf, _IOFBF, sizeof(j->iobuf));
	}
	j->line_buffered = line_buffered;
	j->base.name = "json";
	j->base.write = js_write;
	j->base.flush = js_flush;
	j->base.close = js_close;
	return &j->base;
}
