/* jsonl.c - newline-delimited JSON framing shared by the JSON-lines detectors (see jsonl.h). */
/*
 * One JSON text per line, LF terminated (the framing of Stratum v1, the CryptoNote/XMRig stratum
 * and EthProxy). A direction is judged by its first line: it must start with '{' and parse as a
 * JSON object, else the direction is not JSON lines. A capture that starts mid-connection, or a
 * hole in the stream, makes the next line tentative (it may be a fragment): a tentative line that
 * fails costs nothing, but binary bytes before its newline still do.
 */
#include "detect/jsonl.h"

#include <string.h>

/* JSON text never holds raw control bytes other than white space (RFC 8259 sections 2 and 7). */
static int has_ctl(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 1;
	return 0;
}

/* One complete line; tentative: it may be a fragment (after a resync or at FIN), so failure costs nothing. */
static void on_line(const mt_jsonl_ops *ops, void *ctx, mt_jsonl_dir *ds, int dir,
		    const uint8_t *data, uint32_t off, uint32_t n, int tentative)
{
	mt_json_tok toks[MT_JSONL_MAX_TOKENS];
	int max_tokens = ops->max_tokens < MT_JSONL_MAX_TOKENS ? ops->max_tokens : MT_JSONL_MAX_TOKENS;
	int first = !ds->started;
	int nt;

	if (n > ops->max_line) {
		if (!tentative) {
			ds->started = 1;
			if (ops->long_foreign)
				ops->foreign(ctx);
		}
		return;
	}
	nt = mt_json_parse(data + off, n, toks, max_tokens, ops->max_depth);
	if (nt > 0 && toks[0].type == MT_JSON_OBJECT) {
		int first_msg = ds->msgs == 0;

		ds->started = 1;
		if (ds->msgs < UINT8_MAX)
			ds->msgs++;
		ops->object(ctx, dir, data + off, off, n, toks, nt, first_msg);
		return;
	}
	if (tentative)
		return;
	ds->started = 1;
	if (nt == MT_JSON_E_TOKENS || nt == MT_JSON_E_DEPTH) {
		/* JSON too big for the grammar: not ours, not proof of another protocol */
		ops->foreign(ctx);
		return;
	}
	if (first) {
		ops->not_mine(ctx); /* this direction does not speak JSON lines */
		return;
	}
	if (++ds->bad > ops->max_bad) {
		ops->not_mine(ctx);
		ds->done = 1;
	}
}

/* Parses the complete lines in [off, end). */
static void scan_lines(const mt_jsonl_ops *ops, void *ctx, mt_jsonl_dir *ds, int dir,
		       const uint8_t *data, uint32_t end, const uint8_t *excluded)
{
	while (!ds->done && !*excluded && ds->off < end) {
		uint32_t from = ds->scan > ds->off ? ds->scan : ds->off;
		const uint8_t *nl = NULL;
		uint32_t s0, e;
		int tentative;

		if (!ds->started && !ds->resync) {
			/* a line of these protocols starts with '{': judge binary, HTTP, TLS at once */
			uint32_t k = ds->off;

			while (k < end && mt_jsonl_is_ws(data[k]))
				k++;
			if (k < end && data[k] != '{') {
				ops->not_mine(ctx);
				if (*excluded)
					return;
			}
		}
		if (from < end)
			nl = memchr(data + from, '\n', end - from);
		if (!nl) {
			/* a fragment we would forgive must at least be text */
			if (ds->resync && !ds->started && has_ctl(data + from, end - from))
				ops->not_mine(ctx);
			ds->scan = end;
			if (end - ds->off > ops->max_line) {
				ops->not_mine(ctx);
				ds->done = 1;
			}
			return;
		}
		e = (uint32_t)(nl - data);
		s0 = ds->off;
		tentative = ds->resync;
		ds->off = e + 1;
		ds->scan = ds->off;
		ds->resync = 0;
		if (tentative && !ds->started && has_ctl(data + from, e - from)) {
			ops->not_mine(ctx); /* binary before the first newline: not JSON lines */
			continue;
		}
		if (!mt_jsonl_blank(data + s0, e - s0))
			on_line(ops, ctx, ds, dir, data, s0, e - s0, tentative);
	}
}

/* One direction (see mt_jsonl_process). */
static void process_dir(const mt_jsonl_ops *ops, void *ctx, mt_jsonl_dir *ds, const mt_flow_view *fv,
			int dir, const uint8_t *excluded)
{
	const uint8_t *data = fv->data[dir];
	uint32_t len = fv->len[dir], g = fv->gap_off[dir];

	if (ds->done || !data || len == 0)
		return;
	if (len < ds->off) { /* the stream never shrinks; refuse to guess */
		ds->done = 1;
		return;
	}
	if (!ds->seen) {
		ds->seen = 1;
		if (fv->midstream[dir])
			ds->resync = 1; /* capture began mid-connection: the first line may be a fragment */
	}
	if (g != 0 && g != ds->gap_seen) {
		ds->gap_seen = g;
		if (g >= ds->off && g <= len) {
			/* lines wholly before the hole stand; the one across it is lost */
			scan_lines(ops, ctx, ds, dir, data, g, excluded);
			if (ds->done || *excluded)
				return;
			ds->off = g;
			ds->scan = g;
			ds->resync = 1;
		}
	}
	scan_lines(ops, ctx, ds, dir, data, len, excluded);
	if (!ds->done && !*excluded && fv->fin[dir] && !ds->tail_done && ds->off < len) {
		/* the sender closed after a message without its newline: complete if it parses */
		ds->tail_done = 1;
		if (!mt_jsonl_blank(data + ds->off, len - ds->off))
			on_line(ops, ctx, ds, dir, data, ds->off, len - ds->off, 1);
		ds->off = len;
		ds->scan = len;
	}
}

void mt_jsonl_process(const mt_jsonl_ops *ops, void *ctx, mt_jsonl_dir ds[2], const mt_flow_view *fv,
		      const uint8_t *excluded)
{
	process_dir(ops, ctx, &ds[0], fv, 0, excluded);
	process_dir(ops, ctx, &ds[1], fv, 1, excluded);
}
