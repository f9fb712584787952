/*
 * test_golden.c - runs minetrace on every capture in pcaps/ that has a NAME.expected.jsonl
 * and compares the JSON byte for byte; checks the error behaviour on bad files.
 * Refresh the expected files with tests/golden/update (then review the diff).
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

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

/* Copies the shipped signatures into dir. */
static void copy_sigs(const char *dir)
{
	static const char *const files[] = {"pool-domains.txt", "pool-ips.txt", "miner-agents.txt",
					    "methods.txt", "p2p-magics.txt", "ports.txt"};
	char src[2048], dst[1024];
	size_t i, n = 0;
	char *text;
	FILE *fp;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(dst, sizeof(dst), "signatures/%s", files[i]);
		text = mt_slurp(mt_test_src(dst, src, sizeof(src)), &n);
		ck_assert_ptr_nonnull(text);
		snprintf(dst, sizeof(dst), "%s/%s", dir, files[i]);
		fp = fopen(dst, "wb");
		ck_assert_ptr_nonnull(fp);
		fwrite(text, 1, n, fp);
		fclose(fp);
		free(text);
	}
}

START_TEST(test_check_signatures)
{
	char dir[64], path[128], src[1024];
	char *out;
	FILE *fp;

	mt_test_src("signatures", src, sizeof(src));
	{
		char *argv[] = {(char *)minetrace(), "--check-signatures", src, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 0);
	}
	snprintf(dir, sizeof(dir), "/tmp/mt_sigs_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	copy_sigs(dir);
	snprintf(path, sizeof(path), "%s/pool-domains.txt", dir);
	fp = fopen(path, "a");
	fputs("not a domain!\n", fp);
	fclose(fp);
	{
		char *argv[] = {(char *)minetrace(), "--check-signatures", dir, NULL};
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 1);
	}
	out = mt_slurp(tmp_out, NULL);
	/* file:line: reason, for the line we broke */
	ck_assert_msg(strstr(out, path) && strstr(out, ".txt:") != NULL, "%s", out);
	free(out);
	/* A broken set refuses to start, naming the file and line. */
	{
		char bpath[1024];
		char *argv[] = {(char *)minetrace(), "--signatures", dir, "-r", bpath, NULL};
		mt_test_src("pcaps/stratum-btc.pcap", bpath, sizeof(bpath));
		ck_assert_int_eq(mt_run(argv, tmp_out, tmp_err), 2);
	}
	out = mt_slurp(tmp_err, NULL);
	ck_assert_msg(strstr(out, "pool-domains.txt:") != NULL, "%s", out);
	free(out);
	{
		char *argv[] = {"/bin/rm", "-rf", dir, NULL};
		mt_run(argv, NULL, NULL);
	}
}
END_TEST

/* Writes n bytes to fd in full. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		ck_assert_int_gt((int)w, 0);
		p += w;
		n -= (size_t)w;
	}
}

/*
 * SIGHUP while reading: a broken signature file keeps the old set (logged), a
 * fixed one is loaded, and no packet or hit is lost either way.
 */
START_TEST(test_sighup_reload)
{
	char dir[64], fifo[128], path[128], pcap[1024], expected[1024];
	char *cap, *good, *got, *want, *errtext;
	size_t caplen = 0, goodlen = 0, off, half;
	pid_t pid;
	int fd, st;
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/mt_hup_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	copy_sigs(dir);
	snprintf(fifo, sizeof(fifo), "%s/capture.fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(path, sizeof(path), "%s/pool-domains.txt", dir);
	good = mt_slurp(path, &goodlen);
	cap = mt_slurp(mt_test_src("pcaps/stratum-btc.pcap", pcap, sizeof(pcap)), &caplen);
	ck_assert_ptr_nonnull(cap);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(tmp_out, O_WRONLY | O_TRUNC), e = open(tmp_err, O_WRONLY | O_TRUNC);
		dup2(o, 1);
		dup2(e, 2);
		execl(minetrace(), minetrace(), "-v", "--no-plugins", "--signatures", dir, "-r", fifo,
		      (char *)NULL);
		_exit(127);
	}
	fd = open(fifo, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	/* The global header and about half of the records (cut on a record boundary). */
	off = 24;
	half = caplen / 2;
	while (off < half) {
		uint32_t incl = (uint32_t)(uint8_t)cap[off + 8] | (uint32_t)(uint8_t)cap[off + 9] << 8 |
				(uint32_t)(uint8_t)cap[off + 10] << 16 | (uint32_t)(uint8_t)cap[off + 11] << 24;
		off += 16 + incl;
	}
	write_all(fd, cap, off);
	usleep(200000);
	fp = fopen(path, "a");
	fputs("not a domain!\n", fp);
	fclose(fp);
	kill(pid, SIGHUP);
	usleep(200000);
	/* One more record makes the reload happen (it runs between packets). */
	{
		size_t next = off;
		uint32_t incl = (uint32_t)(uint8_t)cap[off + 8] | (uint32_t)(uint8_t)cap[off + 9] << 8;
		next += 16 + incl;
		write_all(fd, cap + off, next - off);
		off = next;
	}
	usleep(200000);
	fp = fopen(path, "wb");
	fwrite(good, 1, goodlen, fp);
	fclose(fp);
	kill(pid, SIGHUP);
	usleep(200000);
	write_all(fd, cap + off, caplen - off);
	close(fd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	errtext = mt_slurp(tmp_err, NULL);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, errtext);
	ck_assert_msg(strstr(errtext, "keeping the signatures") != NULL, "%s", errtext);
	ck_assert_msg(strstr(errtext, "pool-domains.txt:") != NULL, "%s", errtext);
	ck_assert_msg(strstr(errtext, "reload: ") && strstr(errtext, " signatures from "), "%s", errtext);
	got = mt_slurp(tmp_out, NULL);
	want = mt_slurp(mt_test_src("pcaps/stratum-btc.expected.jsonl", expected, sizeof(expected)), NULL);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(errtext);
	free(cap);
	free(good);
	{
		char *argv[] = {"/bin/rm", "-rf", dir, NULL};
		mt_run(argv, NULL, NULL);
	}
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

/* --list-detectors: each built-in with the transport it is fed (the timing detector wants TCP packets). */
START_TEST(test_list_detectors)
{
	char *out;
	const char *names[] = {"stratum ", "cryptonote ", "ethproxy ", "http-mining ", "names ",
			       "stratum-v2 ", "behaviour ", "ndpi "};
	int rc;

	{
		char *argv[] = {(char *)minetrace(), "--no-plugins", "--list-detectors", NULL};
		rc = mt_run(argv, tmp_out, tmp_err);
	}
	ck_assert_int_eq(rc, 0);
	out = mt_slurp(tmp_out, NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *l = strstr(out, names[i]);

		ck_assert_msg(l != NULL, "%s missing:\n%s", names[i], out);
		l += strspn(l + strlen(names[i]), " ") + strlen(names[i]);
		ck_assert_msg(strncmp(l, "tcp", 3) == 0, "%s: %.20s", names[i], l);
	}
	free(out);
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
	tcase_add_test(tc, test_check_signatures);
	tcase_add_test(tc, test_sighup_reload);
	tcase_add_test(tc, test_not_a_capture);
	tcase_add_test(tc, test_list_detectors);
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
