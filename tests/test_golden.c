/*
 * test_golden.c - runs minetrace on every capture in pcaps/ that has a NAME.expected.jsonl
 * and compares the JSON byte for byte; checks the error behaviour on bad files.
 * Refresh the expected files with tests/golden/update (then review the diff).
 */
#include <dirent.h>

#include "mt_run.h"
#include "mt_test.h"

static char tmp_out[64], tmp_err[64];

static const char *minetrace(void)
{
	const char *p = getenv("MT_MINETRACE");
	ck_assert_msg(p != NULL, "MT_MINETRACE is not set (run through meson test)");
	return p;
}

static void setup(void)
{
	int fd;
	snprintf(tmp_out, sizeof(tmp_out), "/tmp/mt_golden_out_XXXXXX");
	snprintf(tmp_err, sizeof(tmp_err), "/tmp/mt_golden_err_XXXXXX");
	fd = mkstemp(tmp_out);
	close(fd);
	fd = mkstemp(tmp_err);
	close(fd);
}

static void teardown(void)
{
	unlink(tmp_out);
	unlink(tmp_err);
}

/* Runs minetrace -r pcap and compares with the expected file; returns 1 if compared. */
static int compare_one(const char *dir, const char *name)
{
	char pcap[1400], expected[1400];
	const char *dot = strrchr(name, '.');
	char *want, *got, *errtext;
	int rc;

	if (!dot || (strcmp(dot, ".pcap") && strcmp(dot, ".pcapng")))
		return 0;
	snprintf(pcap, sizeof(pcap), "%s/%s", dir, name);
	snprintf(expected, sizeof(expected), "%s/%.*s.expected.jsonl", dir, (int)(dot - name), name);
	want = mt_slurp(expected, NULL);
	if (!want)
		return 0;
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "-r", pcap, "-o", "-", NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	got = mt_slurp(tmp_out, NULL);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_msg(rc == 0, "%s: exit %d: %s", name, rc, errtext ? errtext : "");
	ck_assert_ptr_nonnull(got);
	if (strcmp(want, got) != 0) {
		/* Name the first line that differs (Check's messages are bounded). */
		const char *g = got, *w = want;
		int line = 1;
		while (*g && *g == *w) {
			line += *g == '\n';
			g++, w++;
		}
		while (g > got && g[-1] != '\n')
			g--, w--;
		ck_abort_msg("%s: line %d differs from %s\n--- got:  %.300s\n--- want: %.300s", name, line,
			     expected, g, w);
	}
	free(want);
	free(got);
	free(errtext);
	return 1;
}

START_TEST(test_golden_captures)
{
	char dir[1024];
	struct dirent **ents;
	int n, i, compared = 0;

	mt_test_src("pcaps", dir, sizeof(dir));
	n = scandir(dir, &ents, NULL, alphasort);
	ck_assert_msg(n > 0, "no pcaps/ folder at %s", dir);
	for (i = 0; i < n; i++) {
		compared += compare_one(dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	/* The project ships golden captures; none compared means the test is broken. */
	ck_assert_int_ge(compared, 5);
}
END_TEST

START_TEST(test_stdin)
{
	char path[1024], expected[1024];
	char *got, *want;
	int rc;

	mt_test_src("pcaps/stratum-split.pcap", path, sizeof(path));
	mt_test_src("pcaps/stratum-split.expected.jsonl", expected, sizeof(expected));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "-r", "-", NULL};
		rc = mt_run_in(argv, path, tmp_out, tmp_err);
	}
	got = mt_slurp(tmp_out, NULL);
	want = mt_slurp(expected, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(want);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}
END_TEST

START_TEST(test_not_a_capture)
{
	char path[1024];
	char *errtext;
	int rc;

	mt_test_src("pcaps/garbage.pcap", path, sizeof(path));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "-r", path, NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_int_eq(rc, 1);
	/* One error line that names the file and the reason. */
	ck_assert_int_eq(mt_count_lines(errtext), 1);
	ck_assert_msg(strstr(errtext, path) != NULL, "%s", errtext);
	ck_assert_msg(strstr(errtext, "error") != NULL, "%s", errtext);
	ck_assert_msg(strstr(errtext, "format") != NULL, "%s", errtext);
	free(errtext);
}
END_TEST

START_TEST(test_missing_file)
{
	char *errtext;
	int rc;
	char *argv[] = {(char *)minetrace(), "--no-plugins", "-r", "/nonexistent/x.pcap", NULL};

	rc = mt_run(argv, tmp_out, tmp_err);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(mt_count_lines(errtext), 1);
	ck_assert_ptr_nonnull(strstr(errtext, "/nonexistent/x.pcap: "));
	ck_assert_ptr_nonnull(strstr(errtext, "No such file"));
	free(errtext);
}
END_TEST

START_TEST(test_truncated)
{
	char path[1024];
	char *errtext, *out;
	int rc;

	mt_test_src("pcaps/truncated.pcap", path, sizeof(path));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "-r", path, NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	errtext = mt_slurp(tmp_err, NULL);
	out = mt_slurp(tmp_out, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, errtext);
	ck_assert_msg(strstr(errtext, "warning") && strstr(errtext, "truncated"), "%s", errtext);
	/* The hits before the cut are kept. */
	ck_assert_msg(strstr(out, "\"event_type\":\"mining\"") != NULL, "no hit before the cut: %s", out);
	free(errtext);
	free(out);
}
END_TEST

START_TEST(test_usage_and_stats)
{
	char path[1024];
	char *errtext;
	int rc;

	{
		char *argv[] = {(char *)minetrace(), NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 2);
	}
	{
		char *argv[] = {(char *)minetrace(), "--bogus", NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 2);
	}
	{
		char *argv[] = {(char *)minetrace(), "--help", NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	{
		char *argv[] = {(char *)minetrace(), "--version", NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	mt_test_src("pcaps/stratum-btc.pcap", path, sizeof(path));
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--stats", "-r", path, "-o", "/dev/null", NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(errtext, "packets="));
	ck_assert_ptr_nonnull(strstr(errtext, "decode_errors="));
	ck_assert_ptr_nonnull(strstr(errtext, "flows="));
	ck_assert_ptr_nonnull(strstr(errtext, "hits="));
	ck_assert_ptr_nonnull(strstr(errtext, "packets/s"));
	free(errtext);
	/* -c 3 reads three packets: the handshake, so no hit. */
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "-c", "3", "-r", path, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	errtext = mt_slurp(tmp_out, NULL);
	ck_assert_str_eq(errtext, "");
	free(errtext);
	/* A BPF filter that excludes the pool port leaves nothing. */
	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "-f", "not tcp port 3333", "-r", path, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	errtext = mt_slurp(tmp_out, NULL);
	ck_assert_str_eq(errtext, "");
	free(errtext);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("golden");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_golden_captures);
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_not_a_capture);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_usage_and_stats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
