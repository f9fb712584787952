/* test_sink_spool.c - the on-disk spool: order, restart, torn tails at every length, full policies, modes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mt_test.h"
#include "sink/spool.h"

static char dir[64];

static void fresh(void)
{
	char cmd[128];
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(dir, sizeof(dir), "/tmp/mt-spool-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	rmdir(dir); /* the spool creates it */
}

static mt_spool *sopen(uint64_t max, int pol)
{
	char err[256];
	mt_spool *sp = mt_spool_open(dir, max, pol, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	return sp;
}

static void put(mt_spool *sp, int i)
{
	char b[64];
	int n = snprintf(b, sizeof(b), "{\"rec\":%d}", i);
	ck_assert_int_eq(mt_spool_append(sp, b, (size_t)n), 0);
}

/* Reads everything; checks records first..first+n-1 in order. */
static void expect(mt_spool *sp, int first, int n)
{
	const uint8_t *p;
	size_t l;
	char b[64];
	for (int i = first; i < first + n; i++) {
		ck_assert_int_eq(mt_spool_next(sp, &p, &l), 1);
		int m = snprintf(b, sizeof(b), "{\"rec\":%d}", i);
		ck_assert_uint_eq(l, (size_t)m);
		ck_assert(memcmp(p, b, l) == 0);
	}
	ck_assert_int_eq(mt_spool_next(sp, &p, &l), 0);
}

START_TEST(t_order_restart)
{
	struct stat st;
	fresh();
	mt_spool *sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	for (int i = 0; i < 100; i++)
		put(sp, i);
	expect(sp, 0, 100);
	mt_spool_rewind(sp); /* a failed delivery reads again */
	const uint8_t *p;
	size_t l;
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(mt_spool_next(sp, &p, &l), 1);
	ck_assert_int_eq(mt_spool_commit(sp), 0);
	ck_assert_uint_eq(mt_spool_pending(sp), 60);
	mt_spool_close(sp);
	/* files are 0600 */
	char path[128];
	snprintf(path, sizeof(path), "%s/seg-%020d.mts", dir, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* the next run finds the 60 left and appends after them */
	sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	mt_spool_stats ss;
	mt_spool_get_stats(sp, &ss);
	ck_assert_uint_eq(ss.found, 60);
	char e2[256];
	ck_assert_ptr_null(mt_spool_open(dir, 0, MT_SPOOL_DROP_NEWEST, e2, sizeof(e2))); /* one user at a time */
	ck_assert_msg(strstr(e2, "in use"), "%s", e2);
	for (int i = 100; i < 110; i++)
		put(sp, i);
	expect(sp, 40, 70);
	ck_assert_int_eq(mt_spool_commit(sp), 0);
	ck_assert_uint_eq(mt_spool_pending(sp), 0);
	mt_spool_close(sp);
	sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	ck_assert_uint_eq(mt_spool_pending(sp), 0);
	mt_spool_close(sp);
}
END_TEST

/* A writer killed mid-record: every cut length of the last record is found, counted once, skipped. */
START_TEST(t_torn_every_length)
{
	char path[128];
	struct stat st;
	fresh();
	mt_spool *sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	for (int i = 0; i < 3; i++)
		put(sp, i);
	mt_spool_close(sp);
	snprintf(path, sizeof(path), "%s/seg-%020d.mts", dir, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	FILE *f = fopen(path, "rb");
	uint8_t buf[256];
	size_t full = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	size_t rec = full / 3;
	for (size_t cut = 0; cut <= full; cut++) {
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		f = fopen(path, "wb");
		fwrite(buf, 1, cut, f);
		fclose(f);
		sp = sopen(0, MT_SPOOL_DROP_NEWEST);
		mt_spool_stats ss;
		mt_spool_get_stats(sp, &ss);
		ck_assert_uint_eq(ss.found, cut / rec);
		ck_assert_uint_eq(ss.torn, cut % rec ? 1 : 0);
		expect(sp, 0, (int)(cut / rec));
		mt_spool_close(sp);
		/* counted once: the tail was cut off */
		sp = sopen(0, MT_SPOOL_DROP_NEWEST);
		mt_spool_get_stats(sp, &ss);
		ck_assert_uint_eq(ss.torn, 0);
		mt_spool_close(sp);
	}
	/* a flipped byte in the middle record: that record and the rest of the file are skipped */
	buf[rec + MT_SPOOL_HDR + 2] ^= 0x20;
	f = fopen(path, "wb");
	fwrite(buf, 1, full, f);
	fclose(f);
	sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	mt_spool_stats ss;
	mt_spool_get_stats(sp, &ss);
	ck_assert_uint_eq(ss.found, 1);
	ck_assert_uint_eq(ss.torn, 1);
	mt_spool_close(sp);
}
END_TEST

START_TEST(t_full_policies)
{
	fresh();
	/* 64 KiB limit, 16 KiB files: records of ~1 KiB */
	char big[1000];
	memset(big, 'x', sizeof(big));
	mt_spool *sp = sopen(64 << 10, MT_SPOOL_DROP_NEWEST);
	int ok = 0, full = 0;
	for (int i = 0; i < 100; i++) {
		int rc = mt_spool_append(sp, big, sizeof(big));
		if (rc == 0)
			ok++;
		else if (rc == -ENOSPC)
			full++;
	}
	mt_spool_stats ss;
	mt_spool_get_stats(sp, &ss);
	ck_assert_int_eq(ok + full, 100);
	ck_assert_int_gt(full, 0);
	ck_assert_uint_eq(ss.dropped, (uint64_t)full);
	ck_assert_uint_eq(ss.pending, (uint64_t)ok);
	ck_assert_uint_le(ss.bytes, 64 << 10);
	mt_spool_close(sp);

	fresh();
	sp = sopen(64 << 10, MT_SPOOL_DROP_OLDEST);
	for (int i = 0; i < 300; i++) {
		char b[1000];
		memset(b, ' ', sizeof(b));
		int n = snprintf(b, sizeof(b), "{\"rec\":%d}", i);
		b[n] = ' ';
		ck_assert_int_eq(mt_spool_append(sp, b, sizeof(b)), 0);
	}
	mt_spool_get_stats(sp, &ss);
	ck_assert_uint_le(ss.bytes, 64 << 10);
	ck_assert_uint_eq(ss.dropped + ss.pending, 300);
	ck_assert_uint_gt(ss.dropped, 0);
	/* what is left is the newest, in order */
	const uint8_t *p;
	size_t l;
	uint64_t first = ss.dropped, k = 0;
	while (mt_spool_next(sp, &p, &l) == 1) {
		char want[32];
		int n = snprintf(want, sizeof(want), "{\"rec\":%llu}", (unsigned long long)(first + k));
		ck_assert(memcmp(p, want, (size_t)n) == 0);
		k++;
	}
	ck_assert_uint_eq(k, ss.pending);
	mt_spool_close(sp);
	ck_assert_int_eq(mt_spool_policy_parse("drop-oldest"), MT_SPOOL_DROP_OLDEST);
	ck_assert_int_eq(mt_spool_policy_parse("drop-newest"), MT_SPOOL_DROP_NEWEST);
	ck_assert_int_eq(mt_spool_policy_parse("drop-all"), -EINVAL);
}
END_TEST

/* A file removed by hand while open: its records are counted as lost and delivery goes on. */
START_TEST(t_removed)
{
	char path[128];
	fresh();
	mt_spool *sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	for (int i = 0; i < 10; i++)
		put(sp, i);
	mt_spool_close(sp);
	sp = sopen(0, MT_SPOOL_DROP_NEWEST);
	snprintf(path, sizeof(path), "%s/seg-%020d.mts", dir, 1);
	ck_assert_int_eq(unlink(path), 0);
	put(sp, 10);
	expect(sp, 10, 1);
	ck_assert_int_eq(mt_spool_commit(sp), 0);
	mt_spool_stats ss;
	mt_spool_get_stats(sp, &ss);
	ck_assert_uint_eq(ss.torn, 1);
	ck_assert_uint_eq(ss.pending, 0);
	mt_spool_close(sp);
}
END_TEST

START_TEST(t_crc)
{
	/* CRC-32/ISO-HDLC check value */
	ck_assert_uint_eq(mt_spool_crc32("123456789", 9), 0xCBF43926u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sink_spool");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, t_crc);
	tcase_add_test(tc, t_order_restart);
	tcase_add_test(tc, t_torn_every_length);
	tcase_add_test(tc, t_full_policies);
	tcase_add_test(tc, t_removed);
	suite_add_tcase(s, tc);
	int rc = mt_test_run(s);
	if (dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
