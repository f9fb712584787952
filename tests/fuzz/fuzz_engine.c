/* fuzz_engine.c - fuzz target: the whole pipeline (mt_engine_frame) over a sequence of frames, every hit record checked. */
/*
 * Input (big-endian; a short input reads as zeros past its end):
 *   header u8: bits 0-2 link type (index into links[]); bit3 unused;
 *              bit4 small limits (16 flows, 256-byte streams, 1-2 s timeouts)
 *   frames until the end, each a 5-byte header and its bytes:
 *     len u16  captured bytes (fewer if the input ends)
 *     dt  u16  time since the previous frame: < 0xF000 milliseconds;
 *              0xF000-0xFFFE (dt - 0xF000) minutes; 0xFFFF one second back
 *     ctl u8   bit0 cut by the snap length (wire length = len + 1000)
 * tests/fuzz/make-seeds writes each capture of pcaps/ (and each of its flows) in this form.
 * The checking sink and the end-of-input checks are in fuzz_engine.h.
 *
 * Built twice: fuzz_engine runs without nDPI; fuzz_engine_ndpi
 * (-DMT_FUZZ_NDPI=1) with it. nDPI's start-up costs about 10 ms (250 ms
 * under ASan), so that target links with -Wl,--wrap=mt_ndpi_new,--wrap=
 * mt_ndpi_free and keeps one nDPI module for the whole process: each input
 * still gets a new engine, flow table and nDPI flows, but nDPI's own caches
 * (host and address caches kept across flows) carry over from one input to
 * the next, so a finding may occasionally need the inputs before it.
 */
#include "fuzz_engine.h"

#define T0_US 1710406800000000ull /* 2024-03-14T09:00:00Z, as in pcaps/ */
#ifndef MT_FUZZ_NDPI
#define MT_FUZZ_NDPI 0
#endif
#define MAX_FRAMES 4096           /* an input is a few hundred frames; keeps each run short */

static const int links[8] = {
	MT_LINK_NULL, MT_LINK_ETHERNET, MT_LINK_RAW, MT_LINK_LOOP,
	MT_LINK_LINUX_SLL, MT_LINK_IPV4, MT_LINK_IPV6, MT_LINK_LINUX_SLL2,
};

#if MT_FUZZ_NDPI
#include "detect/ndpi.h"

/* The linker's --wrap names (not ours to choose). */
mt_ndpi *__real_mt_ndpi_new(void);
mt_ndpi *__wrap_mt_ndpi_new(void);
void __wrap_mt_ndpi_free(mt_ndpi *n);

static mt_ndpi *g_ndpi;

mt_ndpi *__wrap_mt_ndpi_new(void)
{
	if (!g_ndpi)
		g_ndpi = __real_mt_ndpi_new();
	return g_ndpi;
}

void __wrap_mt_ndpi_free(mt_ndpi *n)
{
	(void)n; /* kept for the next input */
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mt_fuzz_engine_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_fuzz_in in;
	mt_engine_cfg cfg;
	mt_fuzz_sink sink;
	mt_engine *e;
	uint8_t hdr;
	uint64_t ts = T0_US, frames = 0;
	int lt;

	if (size > 4u << 20)
		return 0;
	mt_fuzz_in_init(&in, data, size);
	hdr = mt_fuzz_u8(&in);
	lt = links[hdr & 7];
	mt_fuzz_engine_cfg(&cfg, MT_FUZZ_NDPI, (hdr >> 4) & 1);
	e = mt_fuzz_engine_new(&cfg, &sink);

	while (mt_fuzz_left(&in) >= 5 && frames < MAX_FRAMES) {
		size_t want = mt_fuzz_u16(&in), got;
		uint16_t dt = mt_fuzz_u16(&in);
		uint8_t ctl = mt_fuzz_u8(&in);
		const uint8_t *p = mt_fuzz_bytes(&in, want, &got);
		uint8_t *frame;

		if (dt == 0xFFFF)
			ts = ts >= 1000000u ? ts - 1000000u : 0;
		else if (dt >= 0xF000)
			ts += (uint64_t)(dt - 0xF000) * 60000000u;
		else
			ts += (uint64_t)dt * 1000u;
		frame = mt_fuzz_dup(p, got);
		mt_engine_frame(e, lt, ts, frame, (uint32_t)got,
				(uint32_t)got + ((ctl & 1) ? 1000u : 0u));
		free(frame);
		frames++;
	}
	mt_fuzz_engine_finish(e, &sink, frames);
	return 0;
}
