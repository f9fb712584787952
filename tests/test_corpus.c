/*
 * test_corpus.c - scores minetrace over ../shared/corpus with ../shared/tools/score:
 * the families below must be found in full, with no false positive and no failure.
 * Skips (passes, saying so) when the corpus is not there.
 */
#include "mt_run.h"
#include "mt_test.h"

/* Families that must be complete; each detection issue adds its own. */
static const char *const complete_families[] = {
	"stratum_v1",
	"cryptonote_stratum",
	"ethproxy_tcp",
	"ethproxy_getwork_http",
	"http_getwork",
	"http_getblocktemplate",
	/* hidden pool traffic (the names detector) */
	"tls_clienthello_to_stratum_port_rejected_with_jsonrpc_error",
	"webminer_websocket_over_tls",
};

static int family_counts(const char *out, const char *fam, int *found, int *of)
{
	const char *p = out;
	size_t fl = strlen(fam);

	while ((p = strstr(p, fam)) != NULL) {
		if ((p == out || p[-1] == '\n') && p[fl] == ' ')
			return sscanf(p + fl, " %d %d", found, of) == 2 ? 0 : -1;
		p += fl;
	}
	return -1;
}

START_TEST(test_score)
{
	char score[1024], corpus[1024], cmd[2048], out[64], err[64];
	const char *mt = getenv("MT_MINETRACE");
	char *text, *last;
	size_t i;
	int fd, rc;

	if (!mt_test_shared("tools/score", score, sizeof(score)) ||
	    !mt_test_shared("corpus/ground_truth.tsv", corpus, sizeof(corpus))) {
		printf("corpus: ../shared/corpus not found: skipped\n");
		return;
	}
	ck_assert_ptr_nonnull(mt);
	*strrchr(corpus, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "%s -r {pcap} -o -", mt);
	snprintf(out, sizeof(out), "/tmp/mt_corpus_out_XXXXXX");
	snprintf(err, sizeof(err), "/tmp/mt_corpus_err_XXXXXX");
	fd = mkstemp(out);
	close(fd);
	fd = mkstemp(err);
	close(fd);
	{
		char *argv[] = {"/usr/bin/python3", score, "--corpus", corpus, "--cmd", cmd, NULL};
		rc = mt_run(argv, out, err);
	}
	text = mt_slurp(out, NULL);
	ck_assert_msg(rc == 0, "score exited %d", rc);
	ck_assert_ptr_nonnull(text);
	printf("%s", text);
	last = strstr(text, "score: ");
	ck_assert_msg(last != NULL, "no score line in:\n%s", text);
	ck_assert_msg(strstr(last, " fp=0 ") != NULL, "false positives: %s", last);
	ck_assert_msg(strstr(last, " failures=0") != NULL, "failures: %s", last);
	/* Node traffic is found and never called mining. */
	ck_assert_msg(strstr(last, " p2p_recall=1.0000 ") != NULL, "p2p: %s", last);
	ck_assert_msg(strstr(last, " misclass=0 ") != NULL, "misclass: %s", last);
	for (i = 0; i < sizeof(complete_families) / sizeof(complete_families[0]); i++) {
		int found = -1, of = -1;
		ck_assert_msg(family_counts(text, complete_families[i], &found, &of) == 0,
			      "family %s not in the score", complete_families[i]);
		ck_assert_msg(of > 0 && found == of, "family %s: found %d of %d", complete_families[i],
			      found, of);
	}
	free(text);
	unlink(out);
	unlink(err);
}
END_TEST

/* Lines of out with event_type ev. */
static int count_events(const char *out, const char *ev)
{
	char pat[64];
	int n = 0;
	const char *p = out;

	snprintf(pat, sizeof(pat), "\"event_type\":\"%s\"", ev);
	while ((p = strstr(p, pat)) != NULL) {
		n++;
		p += strlen(pat);
	}
	return n;
}

/* The P2P detectors are a plugin: taking it away removes its detections and nothing else. */
START_TEST(test_plugin_removal)
{
	char p2p[1024], mix[1024], out[64], empty[64];
	const char *mt = getenv("MT_MINETRACE");
	char *with, *without;
	int fd;

	if (!mt_test_shared("corpus/mining/ndpi_bitcoin_p2p.pcap", p2p, sizeof(p2p)) ||
	    !mt_test_shared("corpus/mining/ndpi_mining_zec-stratum_xmr-cryptonote_eth-ethproxy.pcapng", mix,
			    sizeof(mix))) {
		printf("corpus: ../shared/corpus not found: skipped\n");
		return;
	}
	snprintf(out, sizeof(out), "/tmp/mt_plugrm_XXXXXX");
	fd = mkstemp(out);
	close(fd);
	snprintf(empty, sizeof(empty), "/tmp/mt_noplug_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(empty));
	{
		char *argv[] = {(char *)mt, "-r", p2p, "-r", mix, NULL};
		ck_assert_int_eq(mt_run(argv, out, NULL), 0);
	}
	with = mt_slurp(out, NULL);
	{
		char *argv[] = {(char *)mt, "--plugin-dir", empty, "-r", p2p, "-r", mix, NULL};
		ck_assert_int_eq(mt_run(argv, out, NULL), 0);
	}
	without = mt_slurp(out, NULL);
	ck_assert_int_gt(count_events(with, "crypto_p2p"), 0);
	ck_assert_int_eq(count_events(without, "crypto_p2p"), 0);
	ck_assert_int_gt(count_events(with, "mining"), 0);
	ck_assert_int_eq(count_events(with, "mining"), count_events(without, "mining"));
	free(with);
	free(without);
	unlink(out);
	rmdir(empty);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("corpus");
	TCase *tc = tcase_create("score");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_score);
	tcase_add_test(tc, test_plugin_removal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
