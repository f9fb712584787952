/* prefilter.h - the first-byte rule of the JSON-lines detectors (stratum, cryptonote, ethproxy) as an API 3 prefilter. */
#ifndef MT_PREFILTER_H
#define MT_PREFILTER_H

#include <stdint.h>

#include "detect/detector.h"

/*
 * What the JSON-lines detectors' first scan of one direction decides
 * (their scan_lines before any line was read): the first byte that is not
 * JSON white space (RFC 8259 section 2) must open an object, else the flow
 * is excluded at once. Bytes past a hole (gap_off) and streams that began
 * mid-connection are read with a resync, without this rule.
 * Returns -1 (a byte other than '{' first: excluded), 1 ('{' first, or a
 * resync may find a line: maybe) or 0 (nothing to judge yet).
 */
static inline int mt_prefilter_jsonl_dir(const mt_flow_view *fv, int dir)
{
	const uint8_t *d = fv->data[dir];
	uint32_t end = fv->len[dir], g = fv->gap_off[dir], k = 0;

	if (!d || end == 0)
		return 0;
	if (fv->midstream[dir])
		return 1;
	if (g != 0 && g <= end)
		end = g;
	while (k < end && (d[k] == ' ' || d[k] == '\t' || d[k] == '\r' || d[k] == '\n'))
		k++;
	if (k < end)
		return d[k] == '{' ? 1 : -1;
	return g != 0 ? 1 : 0; /* white space, then a hole: the rest is read with a resync */
}

/*
 * The detectors read the client's direction first, then the server's; the
 * server's first byte excludes only while the client's said nothing (once a
 * client line may have identified the flow, a server's non-JSON byte does not
 * exclude it). Not TCP: they exclude too.
 */
static inline int mt_prefilter_jsonl(const mt_flow_view *fv)
{
	int c;

	if (fv->l4proto != 6)
		return MT_EXCLUDED;
	c = mt_prefilter_jsonl_dir(fv, 0);
	if (c < 0 || (c == 0 && mt_prefilter_jsonl_dir(fv, 1) < 0))
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

#endif
