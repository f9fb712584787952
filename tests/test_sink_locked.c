/* test_sink_locked.c - the locked sink: several threads writing, every line whole, counts right. */
#include <pthread.h>
#include <unistd.h>

#include "mt_test.h"
#include "sink/sink.h"

#define THREADS 4
#define PER_THREAD 3000

static void *writer(void *arg)
{
	mt_sink *s = arg;
	char rec[128];
	int i, n;
	static int next_id;
	int id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);

	for (i = 0; i < PER_THREAD; i++) {
		/* Long enough that an unlocked stdio stream would interleave the pieces of two lines. */
		n = snprintf(rec, sizeof(rec), "{\"thread\":%d,\"i\":%d,\"pad\":\"%040d\"}", id, i, i);
		ck_assert_int_eq(s->write(s, rec, (size_t)n), 0);
	}
	return NULL;
}

START_TEST(test_threads)
{
	char path[64], err[256], line[256];
	int seen[THREADS][PER_THREAD];
	pthread_t th[THREADS];
	uint64_t written, errors;
	mt_sink *inner, *s;
	FILE *fp;
	int i, fd, lines = 0;

	memset(seen, 0, sizeof(seen));
	snprintf(path, sizeof(path), "/tmp/mt_locked_XXXXXX");
	fd = mkstemp(path);
	close(fd);
	inner = mt_sink_json_open(path, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(inner);
	s = mt_sink_locked_new(inner, 1);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, writer, s), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	mt_sink_locked_counts(s, &written, &errors);
	ck_assert_uint_eq(written, THREADS * PER_THREAD);
	ck_assert_uint_eq(errors, 0);
	ck_assert_int_eq(s->close(s), 0); /* owns: closes the file sink too */
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp)) {
		int t, k, pad;
		char tail[8];
		ck_assert_int_eq(sscanf(line, "{\"thread\":%d,\"i\":%d,\"pad\":\"%d\"%7s", &t, &k, &pad, tail), 4);
		ck_assert_str_eq(tail, "}");
		ck_assert(t >= 0 && t < THREADS && k >= 0 && k < PER_THREAD && pad == k);
		ck_assert_int_eq(seen[t][k]++, 0);
		lines++;
	}
	fclose(fp);
	ck_assert_int_eq(lines, THREADS * PER_THREAD);
	unlink(path);
}
END_TEST

START_TEST(test_not_owned)
{
	char path[64], err[256], buf[64];
	mt_sink *inner, *s;
	FILE *fp;
	size_t n;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mt_locked_XXXXXX");
	fd = mkstemp(path);
	close(fd);
	inner = mt_sink_json_open(path, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(inner);
	ck_assert_ptr_null(mt_sink_locked_new(NULL, 0));
	s = mt_sink_locked_new(inner, 0);
	ck_assert_int_eq(s->write(s, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(s->close(s), 0); /* flushes; inner stays open */
	ck_assert_int_eq(inner->write(inner, "{\"b\":2}", 7), 0);
	ck_assert_uint_eq(inner->written, 2);
	ck_assert_int_eq(inner->close(inner), 0);
	fp = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	ck_assert_str_eq(buf, "{\"a\":1}\n{\"b\":2}\n");
	unlink(path);
}
END_TEST

START_TEST(test_errors_counted)
{
	char err[256];
	uint64_t written, errors;
	mt_sink *inner, *s;

	inner = mt_sink_json_open("/dev/full", 1, err, sizeof(err));
	if (!inner)
		return; /* no /dev/full here */
	s = mt_sink_locked_new(inner, 1);
	ck_assert_int_lt(s->write(s, "{\"a\":1}", 7), 0);
	mt_sink_locked_counts(s, &written, &errors);
	ck_assert_uint_eq(written, 0);
	ck_assert_uint_eq(errors, 1);
	ck_assert_int_lt(s->close(s), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sink_locked");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_not_owned);
	tcase_add_test(tc, test_errors_counted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
