/* test_sink_json.c - the JSON lines sink: one record per line, errors reported. */
#include <unistd.h>

#include "mt_test.h"
#include "sink/sink.h"

START_TEST(test_lines)
{
	char path[64], err[256], buf[256];
	mt_sink *s;
	FILE *fp;
	size_t n;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mt_sink_XXXXXX");
	fd = mkstemp(path);
	close(fd);
	s = mt_sink_json_open(path, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->write(s, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(s->write(s, "{\"b\":2}", 7), 0);
	ck_assert_uint_eq(s->written, 2);
	ck_assert_int_eq(s->close(s), 0);
	fp = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	ck_assert_str_eq(buf, "{\"a\":1}\n{\"b\":2}\n");
	unlink(path);
}
END_TEST

START_TEST(test_open_error)
{
	char err[256];

	ck_assert_ptr_null(mt_sink_json_open("/nonexistent/dir/out.jsonl", 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(test_write_error)
{
	char err[256];
	mt_sink *s = mt_sink_json_open("/dev/full", 1, err, sizeof(err));

	ck_assert_ptr_nonnull(s);
	ck_assert_int_lt(s->write(s, "{}", 2), 0);
	ck_assert_uint_eq(s->errors, 1);
	ck_assert_int_lt(s->close(s), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sink_json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_open_error);
	tcase_add_test(tc, test_write_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
