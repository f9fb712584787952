/* test_detect_ethproxy.c - the EthProxy detector fed hand-built streams the way the engine feeds it: sessions, splits, truncations, look-alikes. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "mt_detect_harness.h"

static const uint8_t cli_addr[16] = { 147, 229, 13, 222 };
static const uint8_t srv_addr[16] = { 185, 71, 66, 39 };
static const h_ends flow_ends = { cli_addr, srv_addr, 49307, 9999 };

/* What every DETECTED answer of this detector must look like. */
static void check_detected(const mt_evidence *ev)
{
	ck_assert_str_eq(ev->protocol, "ethproxy");
	ck_assert_str_eq(ev->algo, "ethash");
	ck_assert(ev->confidence >= 0.6 && ev->confidence <= 1.0);
}

static void h_init(harness *h, int midstream, int dir_certain)
{
	h_setup(h, &mt_detect_ethproxy, &flow_ends, midstream, dir_certain);
	h->on_detect = check_detected;
}

#define C2S 0
#define S2C 1
#define NMSG(a) (sizeof(a) / sizeof((a)[0]))
#define NEAR(x, v) ((x) > (v) - 0.001 && (x) < (v) + 0.001)


#define WALLET "0x9c99d212f7e5daa18ab50810e0fd255d1f04303b"
#define HDR1 "0x415559c31768833f25b6dbfbb39be72e71375e14a3a711e589696850bc9431ec"
#define HDR2 "0xdb460a9f1238a53b1dbe331458f33e84c56f8170880722f995da11695adb4d58"
#define SEED "0x71a56feffb6f10ea9d76e1a9464eb0abd86e4349ae98fb794923a65b650282a3"
#define BOUNDARY "0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"
#define MIX "0x44e9206e9c830706f60e0129bdd117a2718d6553f3405b477541994df3583d4b"
#define MINERID "0x0000000000000000000000000000000000000000000000000000000002df91be"

/* Claymore's EthProxy mode against an eth-proxy pool: the pool answers eth_getWork with id 0, its push id. */
static const struct msgline session[] = {
	{ C2S, "{\"worker\": \"rig1\", \"jsonrpc\": \"2.0\", \"params\": [\"" WALLET "/farm.rig1/ops@example.org\", \"x\"], \"id\": 2, \"method\": \"eth_submitLogin\"}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":true}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":[\"" HDR1 "\",\"" SEED "\",\"" BOUNDARY "\"]}\n" },
	{ C2S, "{\"worker\": \"\", \"jsonrpc\": \"2.0\", \"params\": [], \"id\": 3, \"method\": \"eth_getWork\"}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":[\"" HDR2 "\",\"" SEED "\",\"" BOUNDARY "\"]}\n" },
	{ C2S, "{\"id\":6,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitHashrate\",\"params\":[\"0x1d08a61\", \"" MINERID "\"]}\n" },
	{ C2S, "{\"id\":4,\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5126\",\"" HDR2 "\",\"" MIX "\"]}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":true}\n" },
	{ C2S, "{\"id\":5,\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5127\",\"" HDR2 "\",\"" MIX "\"]}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":false}\n" },
};

static void check_session_evidence(const mt_evidence *e)
{
	ck_assert_int_eq(e->event, MT_EVENT_MINING);
	ck_assert_str_eq(e->protocol, "ethproxy");
	ck_assert_str_eq(e->algo, "ethash");
	ck_assert_str_eq(e->coin, "");
	ck_assert(NEAR(e->confidence, 0.95));
	ck_assert_str_eq(e->evidence, "ethproxy: eth_submitLogin accepted (id 2)");
	ck_assert_str_eq(e->wallet, WALLET);
	ck_assert_str_eq(e->worker, "rig1"); /* the "worker" member wins over the login's */
	ck_assert_str_eq(e->target, BOUNDARY);
	ck_assert_uint_eq(e->has_difficulty, 1);
	/* 2^256 / 0xdbe6fece... * 2^-32: about 4.66e9 */
	ck_assert(fabs(e->difficulty - 0x1p256 / 0xdbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422ep0) <
		  e->difficulty * 1e-9);
	ck_assert(e->difficulty > 4.9e9 && e->difficulty < 5.1e9);
	ck_assert(e->reported_hashrate_hs == 30444129.0); /* 0x1d08a61: 30.4 MH/s */
	ck_assert_uint_eq(e->shares, 2);
	ck_assert_uint_eq(e->shares_accepted, 1);
	ck_assert_uint_eq(e->shares_rejected, 1);
	ck_assert_uint_eq(e->jobs, 2);
	ck_assert_str_eq(e->agent, "");
	ck_assert_str_eq(e->pool_host, "");
}

static void ck_same_evidence(const mt_evidence *a, const mt_evidence *b)
{
	ck_assert_int_eq(a->event, b->event);
	ck_assert_str_eq(a->protocol, b->protocol);
	ck_assert_str_eq(a->algo, b->algo);
	ck_assert(a->confidence == b->confidence);
	ck_assert_str_eq(a->evidence, b->evidence);
	ck_assert_str_eq(a->wallet, b->wallet);
	ck_assert_str_eq(a->worker, b->worker);
	ck_assert_str_eq(a->target, b->target);
	ck_assert(a->difficulty == b->difficulty);
	ck_assert(a->reported_hashrate_hs == b->reported_hashrate_hs);
	ck_assert_uint_eq(a->shares, b->shares);
	ck_assert_uint_eq(a->shares_accepted, b->shares_accepted);
	ck_assert_uint_eq(a->shares_rejected, b->shares_rejected);
	ck_assert_uint_eq(a->jobs, b->jobs);
}

START_TEST(test_interface)
{
	ck_assert_uint_eq(mt_detect_ethproxy.api_version, MT_DETECTOR_API_VERSION);
	ck_assert_str_eq(mt_detect_ethproxy.name, "ethproxy");
	ck_assert_uint_eq(mt_detect_ethproxy.wants, MT_WANT_TCP);
	ck_assert_uint_ge(mt_detect_ethproxy.max_packets, 16);
	ck_assert_uint_gt(mt_detect_ethproxy.state_size, 0);
	ck_assert_uint_le(mt_detect_ethproxy.state_size, 1024);
	ck_assert_ptr_nonnull(mt_detect_ethproxy.on_packet);
}
END_TEST

START_TEST(test_session)
{
	harness h;
	uint32_t v;

	h_init(&h, 0, 1);
	/* the login alone waits for the pool */
	ck_assert_int_eq(h_feed_str(&h, C2S, session[0].text), MT_UNDECIDED);
	ck_assert(NEAR(h.ev.confidence, 0.6));
	ck_assert_str_eq(h.ev.evidence, "ethproxy: eth_submitLogin request (id 2)");
	ck_assert_int_eq(h_feed_str(&h, S2C, session[1].text), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.95));
	for (size_t i = 2; i < NMSG(session); i++)
		ck_assert_int_eq(h_feed_str(&h, session[i].dir, session[i].text), MT_DETECTED);
	check_session_evidence(&h.ev);
	v = h.ev.version;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_uint_eq(h.ev.version, v);
	h_free(&h);
}
END_TEST

START_TEST(test_every_split)
{
	harness ref;

	h_init(&ref, 0, 1);
	h_run(&ref, session, NMSG(session));
	for (size_t m = 0; m < NMSG(session); m++) {
		size_t n = strlen(session[m].text);

		for (size_t cut = 1; cut < n; cut++) {
			harness h;

			h_init(&h, 0, 1);
			for (size_t i = 0; i < NMSG(session); i++) {
				if (i == m) {
					h_feed(&h, session[i].dir, session[i].text, cut);
					h_feed(&h, session[i].dir, session[i].text + cut, n - cut);
				} else {
					h_feed_str(&h, session[i].dir, session[i].text);
				}
			}
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_same_evidence(&ref.ev, &h.ev);
			h_free(&h);
		}
	}
	h_free(&ref);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	harness h;

	h_init(&h, 0, 1);
	for (size_t i = 0; i < NMSG(session); i++) {
		const char *t = session[i].text;
		size_t n = strlen(t);

		for (size_t k = 0; k < n; k++) {
			int a = h_feed(&h, session[i].dir, t + k, 1);

			if (i == 0)
				ck_assert_int_eq(a, MT_UNDECIDED);
		}
	}
	ck_assert_int_eq(h.ans, MT_DETECTED);
	check_session_evidence(&h.ev);
	h_free(&h);
}
END_TEST

START_TEST(test_pipelined)
{
	harness h;
	char c2s[4096], s2c[4096];
	size_t nc = 0, ns = 0;

	for (size_t i = 0; i < NMSG(session); i++) {
		size_t n = strlen(session[i].text);
		char *dst = session[i].dir == C2S ? c2s + nc : s2c + ns;

		memcpy(dst, session[i].text, n);
		if (session[i].dir == C2S)
			nc += n;
		else
			ns += n;
	}
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed(&h, C2S, c2s, nc), MT_UNDECIDED);
	ck_assert_int_eq(h_feed(&h, S2C, s2c, ns), MT_DETECTED);
	check_session_evidence(&h.ev);
	h_free(&h);
}
END_TEST

START_TEST(test_every_truncation)
{
	static char bytes[8192];
	static int dirs[8192];
	size_t ends[NMSG(session)], total = 0;
	double prev = 0;

	for (size_t i = 0; i < NMSG(session); i++) {
		size_t k = strlen(session[i].text);

		memcpy(bytes + total, session[i].text, k);
		for (size_t j = 0; j < k; j++)
			dirs[total + j] = session[i].dir;
		total += k;
		ends[i] = total;
	}
	for (size_t cut = 0; cut <= total; cut++) {
		harness h;
		size_t o = 0;
		double want;

		h_init(&h, 0, 1);
		while (o < cut) {
			size_t e = o;

			while (e < cut && dirs[e] == dirs[o] && (e == o || bytes[e - 1] != '\n'))
				e++;
			h_feed(&h, dirs[o], bytes + o, e - o);
			o = e;
		}
		if (cut < ends[0])
			want = 0;
		else if (cut < ends[1])
			want = cut == ends[0] ? 0 : 0.6; /* the login waits for the pool's first byte */
		else
			want = 0.95;
		if (want == 0) {
			ck_assert_int_eq(h.ans, MT_UNDECIDED);
		} else {
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert(NEAR(h.ev.confidence, want));
		}
		ck_assert(h.ev.confidence >= prev);
		prev = h.ev.confidence;
		h_end(&h);
		if (cut == ends[0])
			want = 0.6;
		if (want == 0)
			ck_assert_int_ne(h.ans, MT_DETECTED);
		else
			ck_assert(NEAR(h.ev.confidence, want));
		if (cut == total)
			check_session_evidence(&h.ev);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_logins)
{
	static const struct {
		const char *line, *wallet, *worker;
	} cases[] = {
		{ "{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"" WALLET "\"]}\n", WALLET, "" },
		{ "{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"" WALLET ".rig7\",\"x\"]}\n", WALLET, "rig7" },
		{ "{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"" WALLET "/rig2/me@example.org\"]}\n", WALLET, "rig2" },
		{ "{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"" WALLET "/rig2\"],\"worker\":\"member\"}\n", WALLET, "member" },
		{ "{\"worker\":\"first\",\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"" WALLET ".rig3\"]}\n", WALLET, "first" },
		{ "{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"myaccount\",\"pw\"],\"worker\":\"\"}\n", "myaccount", "" },
	};

	for (size_t i = 0; i < NMSG(cases); i++) {
		harness h;

		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, cases[i].line), MT_UNDECIDED);
		ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":true}\n"), MT_DETECTED);
		ck_assert(NEAR(h.ev.confidence, 0.95));
		ck_assert_str_eq(h.ev.wallet, cases[i].wallet);
		ck_assert_str_eq(h.ev.worker, cases[i].worker);
		h_free(&h);
	}
	/* a refused login: a pool all the same */
	{
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, cases[0].line);
		ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":false,\"error\":{\"code\":-1,\"message\":\"bad wallet\"}}\n"),
				 MT_DETECTED);
		ck_assert(NEAR(h.ev.confidence, 0.85));
		ck_assert_str_eq(h.ev.evidence, "ethproxy: eth_submitLogin refused (id 1)");
		h_free(&h);
	}
}
END_TEST

START_TEST(test_work_rules)
{
	harness h;

	/* eth_getWork answered with the work array, any id */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\"}\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":[\"" HDR1 "\",\"" SEED "\",\"" BOUNDARY "\",\"0x4d9a3c\"]}\n"),
			 MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.evidence, "ethproxy: eth_getWork answered with work (id 7)");
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_free(&h);

	/* work pushed without a request */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, session[2].text), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.85));
	ck_assert_str_eq(h.ev.evidence, "ethproxy: work pushed by the pool (id 0)");
	h_free(&h);

	/* eth_submitHashrate answered */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, session[5].text), MT_UNDECIDED);
	ck_assert(h.ev.reported_hashrate_hs == 30444129.0);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":6,\"jsonrpc\":\"2.0\",\"result\":true}\n"), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.evidence, "ethproxy: eth_submitHashrate answered (id 6)");
	h_free(&h);

	/* eth_submitWork alone: held until the end of the flow */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, session[6].text), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.6));
	ck_assert_uint_eq(h.ev.shares, 1);
	h_free(&h);

	/* ... or until the pool says anything, even garbage */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, session[6].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, "Bad request\n"), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.6));
	h_free(&h);

	/* a hash rate of zero is no claim */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitHashrate\",\"params\":[\"0x0\",\"" MINERID "\"]}\n");
	ck_assert(h.ev.reported_hashrate_hs == 0);
	h_end(&h);
	ck_assert_int_eq(h.ans, MT_DETECTED);
	h_free(&h);
}
END_TEST

static int lookalike(const char *c2s, const char *s2c, int midstream, int certain)
{
	harness h;
	int a;

	h_init(&h, midstream, certain);
	if (c2s)
		h_feed_str(&h, C2S, c2s);
	if (s2c)
		h_feed_str(&h, S2C, s2c);
	h_end(&h);
	a = h.ans;
	if (a != MT_DETECTED)
		ck_assert_int_eq(h.ev.version, 0); /* nothing written for a flow that is not ours */
	h_free(&h);
	return a;
}

START_TEST(test_lookalikes)
{
	/* Geth's node API over a raw socket */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[],\"id\":83}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\",\"params\":[],\"id\":84}\n",
				   "{\"jsonrpc\":\"2.0\",\"id\":83,\"result\":\"0x4b7\"}\n", 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"net_version\",\"params\":[],\"id\":67}\n", NULL, 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"eth_call\",\"params\":[{\"to\":\"0x6b175474e89094c44da98b954eedeac495271d0f\",\"data\":\"0x70a08231\"},\"latest\"],\"id\":1}\n",
				   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x0000000000000000000000000000000000000000000000000000000000000000\"}\n", 0, 1),
			 MT_EXCLUDED);
	/* midstream node API: counted, then given up */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[],\"id\":1}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBalance\",\"params\":[\"" WALLET "\",\"latest\"],\"id\":2}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_gasPrice\",\"params\":[],\"id\":3}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\",\"params\":[],\"id\":4}\n",
				   NULL, 1, 0),
			 MT_EXCLUDED);
	/* stratum, EthereumStratum and CryptoNote are other detectors' */
	ck_assert_int_eq(lookalike("{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"ethminer/0.19\", \"EthereumStratum/1.0.0\"]}\n",
				   "{\"id\":1,\"result\":[[\"mining.notify\",\"ae6812eb4cd7735a302a8a9dd95cf71f\",\"EthereumStratum/1.0.0\"],\"080c\"],\"error\":null}\n", 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("{\"method\":\"login\",\"params\":{\"login\":\"44AFFq5kSiGBoZ\",\"pass\":\"x\",\"agent\":\"XMRig/6.21.0\"},\"id\":1}\n",
				   NULL, 0, 1),
			 MT_EXCLUDED);
	/* not JSON lines */
	ck_assert_int_eq(lookalike("POST / HTTP/1.1\r\nHost: pool\r\nContent-Length: 48\r\n\r\n{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\"}",
				   NULL, 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", NULL, 0, 1), MT_EXCLUDED);
	ck_assert_int_eq(lookalike(NULL, "220 smtp.example ESMTP\r\n", 0, 1), MT_EXCLUDED);
	/* a JSON-RPC echo */
	ck_assert_int_eq(lookalike("{\"jsonrpc\": \"2.0\", \"method\": \"echo\", \"params\": [\"Testing!\"], \"id\": \"ca08\"}\n",
				   "{\"jsonrpc\": \"2.0\", \"result\": \"Testing!\", \"id\": \"ca08\"}\n", 0, 1),
			 MT_EXCLUDED);
	/* a JSON array */
	ck_assert_int_eq(lookalike("[{\"id\":1,\"method\":\"eth_getWork\",\"params\":[]}]\n", NULL, 0, 1), MT_EXCLUDED);
}
END_TEST

START_TEST(test_wrong_shapes)
{
	static const char *const lines[] = {
		"{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[]}\n",
		"{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":\"" WALLET "\"}\n",
		"{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[1234]}\n",
		"{\"id\":1,\"method\":\"eth_getWork\",\"params\":[\"x\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5126\",\"" HDR2 "\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitWork\",\"params\":[\"07a05fa4133e5126\",\"" HDR2 "\",\"" MIX "\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5126aa\",\"" HDR2 "\",\"" MIX "\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5126\",\"0x1234\",\"" MIX "\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitWork\",\"params\":[\"0xzz\",\"" HDR2 "\",\"" MIX "\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitHashrate\",\"params\":[\"0x1d08a61\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitHashrate\",\"params\":[30444129,\"" MINERID "\"]}\n",
		"{\"id\":1,\"method\":\"eth_submitHashrate\",\"params\":[\"0x\",\"" MINERID "\"]}\n",
	};
	static const char *const pushes[] = {
		"{\"id\":0,\"result\":[\"" HDR1 "\",\"" SEED "\"]}\n",
		"{\"id\":0,\"result\":[\"" HDR1 "\",\"" SEED "\",\"" BOUNDARY "\",\"0x1\",\"0x2\"]}\n",
		"{\"id\":0,\"result\":[\"0x1234\",\"" SEED "\",\"" BOUNDARY "\"]}\n",
		"{\"id\":0,\"result\":[\"" HDR1 "\",\"" SEED "\",\"\"]}\n",
		"{\"id\":0,\"result\":[\"" HDR1 "\",\"" SEED "\",\"" BOUNDARY "\"],\"error\":{\"code\":1}}\n",
		"{\"id\":0,\"result\":[\"" HDR1 "\",\"" SEED "\",\"0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e00\"]}\n",
	};

	for (size_t i = 0; i < NMSG(lines); i++) {
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, lines[i]);
		h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":true}\n");
		h_end(&h);
		ck_assert_int_ne(h.ans, MT_DETECTED);
		h_free(&h);
	}
	for (size_t i = 0; i < NMSG(pushes); i++) {
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, S2C, pushes[i]);
		h_end(&h);
		ck_assert_int_ne(h.ans, MT_DETECTED);
		h_free(&h);
	}
	/* a boolean answer to nothing we asked */
	{
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, "{\"id\":9,\"method\":\"eth_getWork\",\"params\":[]}\n");
		h_feed_str(&h, S2C, "{\"id\":8,\"result\":true}\n");
		ck_assert_int_eq(h.ans, MT_DETECTED); /* the request alone, the pool spoke */
		ck_assert(NEAR(h.ev.confidence, 0.6));
		h_free(&h);
	}
}
END_TEST

START_TEST(test_midstream_and_direction)
{
	harness h;
	const char *push = session[4].text;
	size_t n = strlen(push);

	/* the capture begins in the middle of a work push */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed(&h, S2C, push + n / 2, n - n / 2), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, push), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.85));
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_free(&h);

	/* binary before the first newline is not a forgivable fragment */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed(&h, S2C, "\x01\x02\x03\x00\x7f\n", 6), MT_EXCLUDED);
	h_free(&h);

	/* with certain roles, a miner's request from the server side is not the grammar */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, session[6].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, session[2].text), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

START_TEST(test_gap_and_fin)
{
	harness h;
	const char *push = session[4].text;
	size_t n = strlen(push);

	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, session[3].text);
	h_feed(&h, S2C, push, n / 2);
	h.fv.gap_off[1] = h.len[1];
	h_feed(&h, S2C, push + n - 20, 20); /* the rest of a line after a hole: not a message */
	ck_assert_uint_eq(h.ev.jobs, 0);
	ck_assert_int_eq(h.ans, MT_DETECTED); /* the request alone; the pool spoke */
	h_feed_str(&h, S2C, push);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	h_free(&h);

	/* the last message without its newline counts when the direction closed */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":3,\"method\":\"eth_getWork\",\"params\":[]}\n");
	h_feed(&h, S2C, push, n - 1);
	h.fv.fin[1] = 1;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	h_free(&h);
}
END_TEST

START_TEST(test_limits)
{
	harness h;
	char *big = malloc(8192);

	ck_assert_ptr_nonnull(big);
	/* a line longer than any EthProxy message */
	memset(big, ' ', 8191);
	big[0] = '{';
	big[8191] = '\0';
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, big), MT_EXCLUDED);
	h_free(&h);
	free(big);

	/* more pending requests than remembered: the oldest is forgotten, nothing breaks */
	h_init(&h, 0, 1);
	for (int i = 0; i < 40; i++) {
		char line[256];

		snprintf(line, sizeof line, "{\"id\":%d,\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5126\",\"" HDR2 "\",\"" MIX "\"]}\n", i);
		h_feed_str(&h, C2S, line);
	}
	ck_assert_uint_eq(h.ev.shares, 40);
	h_feed_str(&h, S2C, "{\"id\":0,\"result\":true}\n");
	ck_assert_uint_eq(h.ev.shares_accepted, 0); /* id 0 was forgotten */
	h_feed_str(&h, S2C, "{\"id\":39,\"result\":true}\n");
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	h_free(&h);
}
END_TEST

START_TEST(test_evidence_not_kept)
{
	harness ref, h;

	h_init(&ref, 0, 1);
	h_run(&ref, session, 3);
	/*
	 * The engine keeps what a waiting detector wrote only while no other
	 * waiting detector holds the flow's evidence; otherwise each call gets a
	 * fresh, zeroed evidence. The answer that decides must carry it all.
	 */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, session[0].text), MT_UNDECIDED);
	ck_assert_str_eq(h.ev.wallet, WALLET);
	memset(&h.ev, 0, sizeof h.ev);
	ck_assert_int_eq(h_feed_str(&h, S2C, session[1].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.wallet, WALLET);
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert(NEAR(h.ev.confidence, 0.95));
	ck_assert_int_eq(h_feed_str(&h, S2C, session[2].text), MT_DETECTED);
	ck_same_evidence(&ref.ev, &h.ev);
	h_free(&h);

	/* a share counted once, not again when read twice */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, session[6].text), MT_UNDECIDED);
	memset(&h.ev, 0, sizeof h.ev);
	ck_assert_int_eq(h_feed_str(&h, S2C, session[7].text), MT_DETECTED);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	h_free(&h);
	h_free(&ref);
}
END_TEST

START_TEST(test_udp_and_null_args)
{
	harness h;
	mt_pkt_view pv;

	h_init(&h, 0, 1);
	h.fv.l4proto = 17;
	ck_assert_int_eq(h_feed_str(&h, C2S, session[0].text), MT_EXCLUDED);
	h_free(&h);

	memset(&pv, 0, sizeof pv);
	h_init(&h, 0, 1);
	ck_assert_int_eq(mt_detect_ethproxy.on_packet(NULL, NULL, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_ethproxy.on_packet(NULL, h.state, NULL, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_ethproxy.on_packet(NULL, h.state, &h.fv, NULL, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_ethproxy.on_packet(NULL, h.state, &h.fv, &pv, NULL), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_ethproxy.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 17);
}

START_TEST(test_fuzz_session)
{
	static char bytes[8192];
	static int dirs[8192];
	static const char alphabet[] = "{}[]\",:0123456789abcdefx-.e \n\r\\untrfalseth_";
	size_t total = 0;

	for (size_t i = 0; i < NMSG(session); i++) {
		size_t k = strlen(session[i].text);

		memcpy(bytes + total, session[i].text, k);
		for (size_t j = 0; j < k; j++)
			dirs[total + j] = session[i].dir;
		total += k;
	}
	for (int it = 0; it < 3000; it++) {
		char m[8192];
		harness h;
		size_t o = 0;
		int muts = 1 + (int)(rnd() % 8);

		memcpy(m, bytes, total);
		for (int k = 0; k < muts; k++)
			m[rnd() % total] = alphabet[rnd() % (sizeof alphabet - 1)];
		h_init(&h, (int)(rnd() % 2), (int)(rnd() % 2));
		while (o < total) {
			size_t e = o + 1 + rnd() % 200;

			if (e > total)
				e = total;
			for (size_t j = o + 1; j < e; j++)
				if (dirs[j] != dirs[o]) {
					e = j;
					break;
				}
			if (rnd() % 50 == 0)
				h.fv.gap_off[dirs[o]] = h.len[dirs[o]];
			h_feed(&h, dirs[o], m + o, e - o);
			o = e;
		}
		h_end(&h);
		h_free(&h);
	}
}
END_TEST

static Suite *ethproxy_suite(void)
{
	Suite *s = suite_create("detect_ethproxy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interface);
	tcase_add_test(tc, test_session);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_logins);
	tcase_add_test(tc, test_work_rules);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_wrong_shapes);
	tcase_add_test(tc, test_midstream_and_direction);
	tcase_add_test(tc, test_gap_and_fin);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_evidence_not_kept);
	tcase_add_test(tc, test_udp_and_null_args);
	tcase_add_test(tc, test_fuzz_session);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ethproxy_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
