/* fuzz_capture.c - fuzz target: a whole capture file (pcap or pcapng bytes) through mt_capture_open_file and the engine. */
/*
 * The input is the file. It is written to a memfd and opened by path, as
 * minetrace opens a file named on its command line; every packet libpcap
 * hands back is copied to an exact-size buffer and run through the engine
 * (nDPI off: fuzz_engine covers it) with the checking sink of fuzz_engine.h.
 */
#include "fuzz_engine.h"

#include "capture/capture.h"

#define MAX_PACKETS 20000 /* the budget of mt_capture_run: keeps each run short */

static mt_fuzz_file g_file;

typedef struct cap_ctx {
	mt_engine *e;
	int linktype;
	uint64_t frames;
} cap_ctx;

static void on_packet(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data,
		      uint32_t cap_len, uint32_t wire_len)
{
	cap_ctx *c = ctx;
	uint8_t *copy;

	MT_FUZZ_CHECK(linktype == c->linktype);
	MT_FUZZ_CHECK(cap_len <= wire_len);
	MT_FUZZ_CHECK(data != NULL || cap_len == 0);
	copy = mt_fuzz_dup(data, cap_len);
	mt_engine_frame(c->e, linktype, ts_us, copy, cap_len, wire_len);
	free(copy);
	c->frames++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mt_fuzz_engine_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	mt_capture *cap;
	mt_engine_cfg cfg;
	mt_fuzz_sink sink;
	cap_ctx c;
	uint64_t budget = MAX_PACKETS;
	int rc;

	if (size > 4u << 20)
		return 0;
	mt_fuzz_file_write(&g_file, data, size);
	memset(err, 'x', sizeof(err));
	cap = mt_capture_open_file(g_file.path, NULL, err, sizeof(err));
	if (!cap) {
		/* a one-line reason, NUL-terminated inside the buffer */
		MT_FUZZ_CHECK(mt_fuzz_cstr_ok(err, sizeof(err)));
		MT_FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		return 0;
	}
	mt_fuzz_engine_cfg(&cfg, 0, 0);
	memset(&c, 0, sizeof(c));
	c.e = mt_fuzz_engine_new(&cfg, &sink);
	c.linktype = mt_capture_linktype(cap);
	rc = mt_capture_run(cap, on_packet, &c, &budget);
	MT_FUZZ_CHECK(rc == MT_CAPTURE_EOF || rc == MT_CAPTURE_COUNT ||
		      rc == MT_CAPTURE_TRUNCATED || rc == MT_CAPTURE_ERROR);
	MT_FUZZ_CHECK(c.frames + budget == MAX_PACKETS);
	MT_FUZZ_CHECK(mt_capture_error(cap) != NULL);
	if (rc == MT_CAPTURE_ERROR || rc == MT_CAPTURE_TRUNCATED)
		MT_FUZZ_CHECK(mt_capture_error(cap)[0] != '\0');
	mt_fuzz_engine_finish(c.e, &sink, c.frames);
	mt_capture_close(cap);
	return 0;
}
