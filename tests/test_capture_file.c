/* test_capture_file.c - capture files: pcap, pcapng, stdin-less errors, truncation, filters. */
#include <stdint.h>
#include <unistd.h>

#include "capture/capture.h"
#include "mt_test.h"

static char tmpdir[256];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mt_capture_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* host order, as pcap writers do */
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* A UDP/IPv4 Ethernet frame to port `dport` (60 bytes). */
static size_t frame(uint8_t *f, uint16_t dport)
{
	memset(f, 0, 60);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = 0;
	f[17] = 28 + 4;
	f[22] = 64;
	f[23] = 17;
	f[26] = 192, f[27] = 0, f[28] = 2, f[29] = 1;
	f[30] = 192, f[31] = 0, f[32] = 2, f[33] = 2;
	f[34] = 0x30, f[35] = 0x39;
	f[36] = (uint8_t)(dport >> 8), f[37] = (uint8_t)dport;
	f[39] = 12;
	memcpy(f + 42, "ping", 4);
	return 60;
}

/* Writes a pcap with n frames (ports 1000, 1001, ...); cut bytes are removed from the end. */
static void write_pcap(const char *path, int n, size_t cut)
{
	uint8_t buf[8192], f[64];
	size_t len = 0;
	int i;
	FILE *fp;

	put32(buf, 0xa1b2c3d4);
	put16(buf + 4, 2);
	put16(buf + 6, 4);
	put32(buf + 8, 0);
	put32(buf + 12, 0);
	put32(buf + 16, 65535);
	put32(buf + 20, 1);
	len = 24;
	for (i = 0; i < n; i++) {
		size_t fl = frame(f, (uint16_t)(1000 + i));
		put32(buf + len, 1700000000u + (uint32_t)i);
		put32(buf + len + 4, 250000);
		put32(buf + len + 8, (uint32_t)fl);
		put32(buf + len + 12, (uint32_t)fl);
		memcpy(buf + len + 16, f, fl);
		len += 16 + fl;
	}
	fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	fwrite(buf, 1, len - cut, fp);
	fclose(fp);
}

typedef struct seen {
	int n;
	int linktype;
	uint64_t ts[16];
	uint32_t len[16];
} seen;

static void cb(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data, uint32_t cap_len,
	       uint32_t wire_len)
{
	seen *s = ctx;

	(void)data;
	ck_assert_uint_eq(cap_len, wire_len);
	if (s->n < 16) {
		s->ts[s->n] = ts_us;
		s->len[s->n] = cap_len;
	}
	s->n++;
	s->linktype = linktype;
}

START_TEST(test_read_pcap)
{
	char path[300], err[256];
	mt_capture *c;
	seen s = {0};

	snprintf(path, sizeof(path), "%s/a.pcap", tmpdir);
	write_pcap(path, 5, 0);
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_linktype(c), 1);
	ck_assert_int_eq(mt_capture_run(c, cb, &s, NULL), MT_CAPTURE_EOF);
	ck_assert_int_eq(s.n, 5);
	ck_assert_uint_eq(s.ts[0], 1700000000250000ull);
	ck_assert_uint_eq(s.ts[4], 1700000004250000ull);
	ck_assert_uint_eq(s.len[2], 60);
	mt_capture_close(c);
	unlink(path);
}
END_TEST

START_TEST(test_count_and_filter)
{
	char path[300], err[256];
	mt_capture *c;
	seen s = {0};
	uint64_t budget = 2;

	snprintf(path, sizeof(path), "%s/b.pcap", tmpdir);
	write_pcap(path, 5, 0);
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_int_eq(mt_capture_run(c, cb, &s, &budget), MT_CAPTURE_COUNT);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(budget, 0);
	mt_capture_close(c);

	memset(&s, 0, sizeof(s));
	c = mt_capture_open_file(path, "udp dst port 1003 or udp dst port 1004", err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_run(c, cb, &s, NULL), MT_CAPTURE_EOF);
	ck_assert_int_eq(s.n, 2);
	mt_capture_close(c);

	c = mt_capture_open_file(path, "udp dst port banana", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "bad filter"));
	unlink(path);
}
END_TEST

START_TEST(test_truncated)
{
	char path[300], err[256];
	mt_capture *c;
	seen s = {0};

	snprintf(path, sizeof(path), "%s/t.pcap", tmpdir);
	write_pcap(path, 4, 30); /* the last record loses 30 of its 60 bytes */
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_run(c, cb, &s, NULL), MT_CAPTURE_TRUNCATED);
	ck_assert_int_eq(s.n, 3);
	ck_assert_ptr_nonnull(strstr(mt_capture_error(c), "truncated"));
	mt_capture_close(c);
	unlink(path);
}
END_TEST

START_TEST(test_not_a_capture)
{
	char path[300], err[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/g.pcap", tmpdir);
	fp = fopen(path, "w");
	fputs("this is not a capture file, just some text\n", fp);
	fclose(fp);
	ck_assert_ptr_null(mt_capture_open_file(path, NULL, err, sizeof(err)));
	ck_assert_int_gt((int)strlen(err), 0);
	ck_assert_ptr_null(strchr(err, '\n'));
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing.pcap", tmpdir);
	ck_assert_ptr_null(mt_capture_open_file(path, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));

	/* Empty file: not a capture either. */
	snprintf(path, sizeof(path), "%s/empty.pcap", tmpdir);
	fp = fopen(path, "w");
	fclose(fp);
	ck_assert_ptr_null(mt_capture_open_file(path, NULL, err, sizeof(err)));
	unlink(path);
}
END_TEST

/* A minimal pcapng: SHB, IDB (Ethernet), two EPBs. */
START_TEST(test_pcapng)
{
	uint8_t b[1024], f[64];
	size_t len = 0, fl;
	char path[300], err[256];
	mt_capture *c;
	seen s = {0};
	int i;
	FILE *fp;

	put32(b, 0x0A0D0D0A);
	put32(b + 4, 28);
	put32(b + 8, 0x1A2B3C4D);
	put16(b + 12, 1);
	put16(b + 14, 0);
	put32(b + 16, 0xFFFFFFFF);
	put32(b + 20, 0xFFFFFFFF);
	put32(b + 24, 28);
	len = 28;
	put32(b + len, 1);
	put32(b + len + 4, 20);
	put16(b + len + 8, 1);
	put16(b + len + 10, 0);
	put32(b + len + 12, 0);
	put32(b + len + 16, 20);
	len += 20;
	for (i = 0; i < 2; i++) {
		uint64_t ts = 1700000000000000ull + (uint64_t)i * 1000000u;
		fl = frame(f, 2000);
		put32(b + len, 6);
		put32(b + len + 4, (uint32_t)(32 + fl));
		put32(b + len + 8, 0);
		put32(b + len + 12, (uint32_t)(ts >> 32));
		put32(b + len + 16, (uint32_t)ts);
		put32(b + len + 20, (uint32_t)fl);
		put32(b + len + 24, (uint32_t)fl);
		memcpy(b + len + 28, f, fl);
		put32(b + len + 28 + fl, (uint32_t)(32 + fl));
		len += 32 + fl;
	}
	snprintf(path, sizeof(path), "%s/n.pcapng", tmpdir);
	fp = fopen(path, "wb");
	fwrite(b, 1, len, fp);
	fclose(fp);
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_msg(c != NULL, "pcapng: %s", err);
	ck_assert_int_eq(mt_capture_run(c, cb, &s, NULL), MT_CAPTURE_EOF);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.ts[1], 1700000001000000ull);
	mt_capture_close(c);
	unlink(path);
}
END_TEST

/* Absurd lengths and a million interfaces: refused with a clear reason, no crash. */
START_TEST(test_absurd_files)
{
	char path[300], err[256];
	mt_capture *c;
	seen s = {0};
	FILE *fp;
	uint8_t b[64];
	uint32_t i;

	snprintf(path, sizeof(path), "%s/absurd.pcap", tmpdir);
	fp = fopen(path, "wb");
	put32(b, 0xa1b2c3d4), put16(b + 4, 2), put16(b + 6, 4), put32(b + 8, 0), put32(b + 12, 0);
	put32(b + 16, 0xffffffff), put32(b + 20, 1);
	put32(b + 24, 1), put32(b + 28, 0), put32(b + 32, 0x80000000u), put32(b + 36, 0x80000000u);
	fwrite(b, 1, 40, fp);
	fwrite(b, 1, 64, fp);
	fclose(fp);
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_run(c, cb, &s, NULL), MT_CAPTURE_ERROR);
	ck_assert_int_eq(s.n, 0);
	ck_assert_ptr_nonnull(strstr(mt_capture_error(c), "capture length"));
	mt_capture_close(c);

	snprintf(path, sizeof(path), "%s/ifaces.pcapng", tmpdir);
	fp = fopen(path, "wb");
	put32(b, 0x0A0D0D0A), put32(b + 4, 28), put32(b + 8, 0x1A2B3C4D), put16(b + 12, 1), put16(b + 14, 0);
	put32(b + 16, 0xffffffff), put32(b + 20, 0xffffffff), put32(b + 24, 28);
	fwrite(b, 1, 28, fp);
	put32(b, 1), put32(b + 4, 20), put16(b + 8, 1), put16(b + 10, 0), put32(b + 12, 65535), put32(b + 16, 20);
	for (i = 0; i < MT_CAPTURE_MAX_IFACES + 1; i++)
		fwrite(b, 1, 20, fp);
	fclose(fp);
	ck_assert_ptr_null(mt_capture_open_file(path, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "interfaces"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/absurd.pcap", tmpdir);
	unlink(path);
}
END_TEST

/* ---- batches ---- */

#define NB_FRAMES 60

/* Frame i's size: small, full-size, jumbo and over 64 KiB (a batch's copy space) in turn. */
static uint32_t batch_frame_len(int i)
{
	static const uint32_t sizes[] = { 60, 1514, 9000, 70000, 200, 30000, 64, 65536 };

	return sizes[i % 8];
}

/* A pcap of NB_FRAMES frames whose bytes say which frame they are. */
static void write_batch_pcap(const char *path)
{
	uint8_t h[24], rh[16], *f = malloc(70000);
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fp);
	put32(h, 0xa1b2c3d4);
	put16(h + 4, 2);
	put16(h + 6, 4);
	put32(h + 8, 0);
	put32(h + 12, 0);
	put32(h + 16, 262144);
	put32(h + 20, 1);
	ck_assert_uint_eq(fwrite(h, 1, 24, fp), 24);
	for (int i = 0; i < NB_FRAMES; i++) {
		uint32_t n = batch_frame_len(i);

		for (uint32_t j = 0; j < n; j++)
			f[j] = (uint8_t)(i * 31 + j * 7);
		put32(rh, 1700000000u + (uint32_t)i);
		put32(rh + 4, (uint32_t)i * 1000u);
		put32(rh + 8, n);
		put32(rh + 12, n + (uint32_t)(i % 3)); /* wire length may exceed the captured */
		ck_assert_uint_eq(fwrite(rh, 1, 16, fp), 16);
		ck_assert_uint_eq(fwrite(f, 1, n, fp), n);
	}
	fclose(fp);
	free(f);
}

/* What a reader saw of each frame: time, lengths, a hash of the bytes. */
typedef struct frames_seen {
	int n, calls, max_batch;
	uint64_t ts[NB_FRAMES], fp[NB_FRAMES];
	uint32_t cap[NB_FRAMES], wire[NB_FRAMES];
} frames_seen;

static void note(frames_seen *s, uint64_t ts, const uint8_t *d, uint32_t cap, uint32_t wire)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t j = 0; j < cap; j++)
		h = (h ^ d[j]) * 1099511628211ull;
	ck_assert_int_lt(s->n, NB_FRAMES);
	s->ts[s->n] = ts;
	s->fp[s->n] = h;
	s->cap[s->n] = cap;
	s->wire[s->n] = wire;
	s->n++;
}

static void one_cb(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data, uint32_t cap_len,
		   uint32_t wire_len)
{
	(void)linktype;
	note(ctx, ts_us, data, cap_len, wire_len);
}

static void batch_cb(void *ctx, int linktype, const mt_frame *fr, uint32_t n)
{
	frames_seen *s = ctx;

	ck_assert_int_eq(linktype, 1);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, MT_CAPTURE_BATCH);
	s->calls++;
	if ((int)n > s->max_batch)
		s->max_batch = (int)n;
	for (uint32_t i = 0; i < n; i++)
		note(s, fr[i].ts_us, fr[i].data, fr[i].cap_len, fr[i].wire_len);
}

/* Batches hand over the same frames in the same order as one by one, whatever their sizes. */
START_TEST(test_batches_same_frames)
{
	char path[300], err[256];
	frames_seen *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	mt_capture *c;
	uint64_t budget;

	snprintf(path, sizeof(path), "%s/batch.pcap", tmpdir);
	write_batch_pcap(path);
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_run(c, one_cb, a, NULL), MT_CAPTURE_EOF);
	mt_capture_close(c);
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_run_batch(c, batch_cb, b, NULL), MT_CAPTURE_EOF);
	mt_capture_close(c);
	ck_assert_int_eq(a->n, NB_FRAMES);
	ck_assert_int_eq(b->n, NB_FRAMES);
	ck_assert_int_gt(b->max_batch, 1); /* small frames did share batches */
	ck_assert_int_lt(b->calls, NB_FRAMES);
	for (int i = 0; i < NB_FRAMES; i++) {
		ck_assert_uint_eq(a->ts[i], 1700000000000000ull + (uint64_t)i * 1001000u);
		ck_assert_uint_eq(a->cap[i], batch_frame_len(i));
		ck_assert_uint_eq(a->wire[i], batch_frame_len(i) + (uint32_t)(i % 3));
		ck_assert_uint_eq(b->ts[i], a->ts[i]);
		ck_assert_uint_eq(b->cap[i], a->cap[i]);
		ck_assert_uint_eq(b->wire[i], a->wire[i]);
		ck_assert_uint_eq(b->fp[i], a->fp[i]);
	}

	/* a budget stops both after as many frames, all of them handed over */
	memset(b, 0, sizeof *b);
	budget = 37;
	c = mt_capture_open_file(path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mt_capture_run_batch(c, batch_cb, b, &budget), MT_CAPTURE_COUNT);
	ck_assert_uint_eq(budget, 0);
	ck_assert_int_eq(b->n, 37);
	for (int i = 0; i < 37; i++)
		ck_assert_uint_eq(b->fp[i], a->fp[i]);
	/* and the next call goes on from there */
	budget = 100;
	ck_assert_int_eq(mt_capture_run_batch(c, batch_cb, b, &budget), MT_CAPTURE_EOF);
	ck_assert_int_eq(b->n, NB_FRAMES);
	ck_assert_uint_eq(budget, 100 - (NB_FRAMES - 37));
	ck_assert_uint_eq(b->fp[NB_FRAMES - 1], a->fp[NB_FRAMES - 1]);
	mt_capture_close(c);
	unlink(path);
	free(a);
	free(b);
}
END_TEST

static void teardown(void)
{
	rmdir(tmpdir);
}

static Suite *suite(void)
{
	Suite *s = suite_create("capture_file");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_read_pcap);
	tcase_add_test(tc, test_count_and_filter);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_not_a_capture);
	tcase_add_test(tc, test_pcapng);
	tcase_add_test(tc, test_absurd_files);
	tcase_add_test(tc, test_batches_same_frames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
