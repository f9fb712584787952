/* test_detect_dialects.c - the Grin / Beam / Iron Fish detector fed hand-built streams the way the engine feeds it: sessions, truncations, look-alikes, wrong shapes. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "mt_detect_harness.h"

static const uint8_t cli_addr[16] = { 192, 0, 2, 85 };
static const uint8_t srv_addr[16] = { 203, 0, 113, 85 };
static const h_ends flow_ends = { cli_addr, srv_addr, 41085, 3416 };

#define NMSG(a) (sizeof(a) / sizeof((a)[0]))
#define NEAR(x, v) ((x) > (v) - 0.001 && (x) < (v) + 0.001)

static void check_detected(const mt_evidence *ev)
{
	ck_assert(strcmp(ev->protocol, "grin-stratum") == 0 || strcmp(ev->protocol, "beam-stratum") == 0 ||
		  strcmp(ev->protocol, "ironfish-stratum") == 0);
	ck_assert(ev->confidence >= 0.6 && ev->confidence <= 0.98);
}

static void h_init(harness *h, int midstream, int dir_certain)
{
	h_setup(h, &mt_detect_dialects, &flow_ends, midstream, dir_certain);
	h->on_detect = check_detected;
	h->ev_only_when_detected = 1; /* evidence is written only in calls that answer DETECTED */
}


#define POW42 "[13,110,207,304,401,498,595,692,789,886,983,1080,1177,1274,1371,1468,1565,1662,1759,1856,1953," \
	"2050,2147,2244,2341,2438,2535,2632,2729,2826,2923,3020,3117,3214,3311,3408,3505,3602,3699,3796,3893,3990]"
#define PREPOW "0001a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f"

/* grin servers/src/mining/stratumserver.rs: answers echo the method; the pool pushes with id "Stratum" */
static const struct msgline grin[] = {
	{ C2S, "{\"id\":\"0\",\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"grinminer.rig1\",\"pass\":\"x\",\"agent\":\"lolMiner 1.70\"}}\n" },
	{ S2C, "{\"id\":\"0\",\"jsonrpc\":\"2.0\",\"method\":\"login\",\"result\":\"ok\",\"error\":null}\n" },
	{ C2S, "{\"id\":\"1\",\"jsonrpc\":\"2.0\",\"method\":\"getjobtemplate\",\"params\":null}\n" },
	{ S2C, "{\"id\":\"1\",\"jsonrpc\":\"2.0\",\"method\":\"getjobtemplate\",\"result\":{\"difficulty\":4,\"height\":2500000,\"job_id\":7,\"pre_pow\":\"" PREPOW "\"},\"error\":null}\n" },
	{ S2C, "{\"id\":\"Stratum\",\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":{\"difficulty\":4,\"height\":2500001,\"job_id\":8,\"pre_pow\":\"" PREPOW "\"}}\n" },
	{ C2S, "{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"edge_bits\":32,\"height\":2500001,\"job_id\":8,\"nonce\":1234567,\"pow\":" POW42 "}}\n" },
	{ S2C, "{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"result\":\"ok\",\"error\":null}\n" },
	{ C2S, "{\"id\":\"3\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"edge_bits\":32,\"height\":2500000,\"job_id\":7,\"nonce\":7654321,\"pow\":" POW42 "}}\n" },
	{ S2C, "{\"id\":\"3\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"result\":null,\"error\":{\"code\":-32503,\"message\":\"Solution submitted too late\"}}\n" },
};

#define BEAMKEY "d09601cf53b7462b1760c840701cc9b0365ded69b0b10082b40449c3394ce0e813"
#define BEAMIN "5c2b3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9fa0b"

/* BeamMW/beam pow/stratum.h: flat members; "result" with codes 0 (no error), 1 accepted, 2 rejected */
static const struct msgline beam[] = {
	{ C2S, "{\"method\":\"login\",\"api_key\":\"" BEAMKEY ".rig1\",\"id\":\"login\",\"jsonrpc\":\"2.0\"}\n" },
	{ S2C, "{\"id\":\"login\",\"code\":0,\"description\":\"Login successful\",\"nonceprefix\":\"0a1b2c\",\"forkheight\":777777,\"jsonrpc\":\"2.0\",\"method\":\"result\"}\n" },
	{ S2C, "{\"difficulty\":56347621,\"id\":\"17\",\"input\":\"" BEAMIN "\",\"height\":1500000,\"jsonrpc\":\"2.0\",\"method\":\"job\"}\n" },
	{ C2S, "{\"id\":\"17\",\"jsonrpc\":\"2.0\",\"method\":\"solution\",\"nonce\":\"0a1b2c0000001234\",\"output\":\"" BEAMIN BEAMIN "\"}\n" },
	{ S2C, "{\"id\":\"17\",\"code\":1,\"description\":\"accepted\",\"jsonrpc\":\"2.0\",\"method\":\"result\"}\n" },
	{ C2S, "{\"id\":\"17\",\"jsonrpc\":\"2.0\",\"method\":\"solution\",\"nonce\":\"0a1b2c0000005678\",\"output\":\"" BEAMIN BEAMIN "\"}\n" },
	{ S2C, "{\"id\":\"17\",\"code\":3,\"description\":\"expired\",\"jsonrpc\":\"2.0\",\"method\":\"result\"}\n" },
};

#define IRONADDR "5e4cd295ef0f6e5d70aa52afd56b5239ba097b1951fb67385e4f2a0830f468c7"
#define IRONTGT "00000fffff000000000000000000000000000000000000000000000000000000"

/* iron-fish/ironfish src/mining/stratum: every message {id, method, body} */
static const struct msgline iron[] = {
	{ C2S, "{\"id\":0,\"method\":\"mining.subscribe\",\"body\":{\"version\":3,\"name\":\"rig1\",\"publicAddress\":\"" IRONADDR "\",\"agent\":\"ironfish-miner/1.0\"}}\n" },
	{ S2C, "{\"id\":0,\"method\":\"mining.subscribed\",\"body\":{\"clientId\":12,\"graffiti\":\"a1b2c3d4e5f60718\",\"xn\":\"0a1b\"}}\n" },
	{ S2C, "{\"id\":1,\"method\":\"mining.set_target\",\"body\":{\"target\":\"" IRONTGT "\"}}\n" },
	{ S2C, "{\"id\":2,\"method\":\"mining.notify\",\"body\":{\"miningRequestId\":3,\"header\":\"" BEAMIN BEAMIN "\"}}\n" },
	{ C2S, "{\"id\":1,\"method\":\"mining.submit\",\"body\":{\"miningRequestId\":3,\"randomness\":\"0a1b00000000beef\",\"graffiti\":\"a1b2c3d4e5f60718\"}}\n" },
	{ S2C, "{\"id\":3,\"method\":\"mining.submitted\",\"body\":{\"id\":1,\"result\":true}}\n" },
	{ C2S, "{\"id\":2,\"method\":\"mining.submit\",\"body\":{\"miningRequestId\":3,\"randomness\":\"0a1b00000000bf00\"}}\n" },
	{ S2C, "{\"id\":4,\"method\":\"mining.submitted\",\"body\":{\"id\":2,\"result\":false,\"message\":\"invalid leading xnonce in randomness\"}}\n" },
};

START_TEST(test_interface)
{
	ck_assert_uint_eq(mt_detect_dialects.api_version, MT_DETECTOR_API_VERSION);
	ck_assert_str_eq(mt_detect_dialects.name, "dialects");
	ck_assert_uint_eq(mt_detect_dialects.wants, MT_WANT_TCP);
	ck_assert_uint_ge(mt_detect_dialects.max_packets, 16);
	ck_assert_uint_gt(mt_detect_dialects.state_size, 0);
	ck_assert_uint_le(mt_detect_dialects.state_size, 2048);
	ck_assert_ptr_nonnull(mt_detect_dialects.on_packet);
	ck_assert_ptr_nonnull(mt_detect_dialects.prefilter);
}
END_TEST

START_TEST(test_grin_session)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, grin[0].text), MT_UNDECIDED); /* a login alone never decides */
	ck_assert_int_eq(h_feed_str(&h, S2C, grin[1].text), MT_UNDECIDED); /* nor answered: JSON-RPC APIs have logins */
	ck_assert_int_eq(h_run(&h, grin + 2, 2), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "grin-stratum");
	ck_assert(NEAR(h.ev.confidence, 0.98)); /* a job answered to getjobtemplate, after the login's answer */
	ck_assert_str_eq(h.ev.evidence, "grin-stratum: getjobtemplate request answered with a job (id 1)");
	ck_assert_str_eq(h.ev.wallet, "grinminer");
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert_str_eq(h.ev.agent, "lolMiner 1.70");
	ck_assert_str_eq(h.ev.algo, ""); /* no share yet: the graph size is unknown */
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_int_eq(h_run(&h, grin + 4, NMSG(grin) - 4), MT_DETECTED);
	ck_assert_str_eq(h.ev.algo, "cuckatoo32");
	ck_assert_str_eq(h.ev.coin, ""); /* MWC speaks the same protocol */
	ck_assert_uint_eq(h.ev.jobs, 2);
	ck_assert_uint_eq(h.ev.shares, 2);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.shares_rejected, 1);
	ck_assert_uint_eq(h.ev.shares_diff, 0); /* no hashes per share for Cuckoo graphs: share rate only */
	h_free(&h);

	/* the pool's side alone: its job push decides */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, grin[4].text), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.95));
	ck_assert_str_eq(h.ev.evidence, "grin-stratum: job push");
	h_free(&h);

	/* a submit alone is held until the pool says something, then 0.6 */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, grin[5].text), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.6));
	ck_assert_str_eq(h.ev.algo, "cuckatoo32");
	h_free(&h);
}
END_TEST

START_TEST(test_beam_session)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, beam[0].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, beam[1].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "beam-stratum");
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.evidence, "beam-stratum: login request answered (id login)");
	ck_assert_str_eq(h.ev.coin, "BEAM");
	ck_assert_str_eq(h.ev.algo, "beamhash");
	ck_assert_str_eq(h.ev.wallet, BEAMKEY);
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert_int_eq(h_run(&h, beam + 2, NMSG(beam) - 2), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.98));
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_uint_eq(h.ev.shares, 2);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.shares_rejected, 1);
	h_free(&h);

	/* a node's own stratum takes a secret api_key: it is not repeated as a wallet */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"method\":\"login\",\"api_key\":\"s3cr3t-key\",\"id\":\"login\",\"jsonrpc\":\"2.0\"}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, beam[1].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.wallet, "");
	h_free(&h);

	/* a refused login */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, beam[0].text);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":\"login\",\"code\":-32003,\"description\":\"Login failed\",\"jsonrpc\":\"2.0\",\"method\":\"result\"}\n"),
			 MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.85));
	h_free(&h);
}
END_TEST

START_TEST(test_ironfish_session)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, iron[0].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, iron[1].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "ironfish-stratum");
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.coin, "IRON");
	ck_assert_str_eq(h.ev.algo, "");
	ck_assert_str_eq(h.ev.wallet, IRONADDR);
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert_str_eq(h.ev.agent, "ironfish-miner/1.0");
	ck_assert_int_eq(h_run(&h, iron + 2, NMSG(iron) - 2), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.98));
	ck_assert_str_eq(h.ev.evidence, "ironfish-stratum: mining.notify push after an answered request");
	ck_assert_str_eq(h.ev.target, IRONTGT);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_uint_eq(h.ev.shares, 2);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.shares_rejected, 1);
	/* each share stands for 2^256 / target hashes */
	ck_assert_uint_eq(h.ev.shares_diff, 2);
	ck_assert_uint_eq(h.ev.diff_is_hashes, 1);
	ck_assert(fabs(h.ev.share_diff_sum - 2 * 0x1p256 / 0x00000fffffp216) < 1e-6 * h.ev.share_diff_sum);
	h_free(&h);
}
END_TEST

/*
 * Every truncation of every message: a session cut inside a message (then closed) says
 * exactly what the session before that message said: a cut line is never a message.
 */
static void truncations(const struct msgline *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(s[i].text);
		harness base;

		h_init(&base, 0, 1);
		h_run(&base, s, i);
		h_end(&base);
		for (size_t k = 0; k < len; k++) {
			harness h;

			h_init(&h, 0, 1);
			h_run(&h, s, i);
			h_feed(&h, s[i].dir, s[i].text, k);
			h_end(&h);
			ck_assert_int_eq(h.ans, base.ans);
			ck_assert(h.ev.confidence == base.ev.confidence);
			ck_assert_str_eq(h.ev.protocol, base.ev.protocol);
			ck_assert_str_eq(h.ev.evidence, base.ev.evidence);
			ck_assert_uint_eq(h.ev.shares, base.ev.shares);
			ck_assert_uint_eq(h.ev.shares_accepted, base.ev.shares_accepted);
			ck_assert_uint_eq(h.ev.shares_rejected, base.ev.shares_rejected);
			ck_assert_uint_eq(h.ev.jobs, base.ev.jobs);
			h_free(&h);
		}
		h_free(&base);
	}
}

START_TEST(test_every_truncation)
{
	truncations(grin, NMSG(grin));
	truncations(beam, NMSG(beam));
	truncations(iron, NMSG(iron));
}
END_TEST

/* The whole session byte by byte and in one piece give the same evidence. */
START_TEST(test_byte_by_byte)
{
	const struct msgline *sessions[] = { grin, beam, iron };
	size_t counts[] = { NMSG(grin), NMSG(beam), NMSG(iron) };

	for (size_t s = 0; s < 3; s++) {
		harness a, b;

		h_init(&a, 0, 1);
		h_init(&b, 0, 1);
		h_run(&a, sessions[s], counts[s]);
		for (size_t i = 0; i < counts[s]; i++)
			for (const char *p = sessions[s][i].text; *p; p++)
				h_feed(&b, sessions[s][i].dir, p, 1);
		ck_assert_int_eq(a.ans, MT_DETECTED);
		ck_assert_int_eq(b.ans, MT_DETECTED);
		ck_assert(a.ev.confidence == b.ev.confidence);
		ck_assert_str_eq(a.ev.evidence, b.ev.evidence);
		ck_assert_str_eq(a.ev.wallet, b.ev.wallet);
		ck_assert_uint_eq(a.ev.shares, b.ev.shares);
		ck_assert_uint_eq(a.ev.jobs, b.ev.jobs);
		h_free(&a);
		h_free(&b);
	}
}
END_TEST

static void silent(const struct msgline *s, size_t n)
{
	harness h;

	h_init(&h, 0, 1);
	h_run(&h, s, n);
	ck_assert_int_ne(h.ans, MT_DETECTED);
	h_end(&h);
	ck_assert_int_ne(h.ans, MT_DETECTED);
	h_free(&h);
}

START_TEST(test_lookalikes)
{
	/* a JSON-RPC 2.0 application API: login {login, pass, agent} answered "ok", the method echoed */
	static const struct msgline app[] = {
		{ C2S, "{\"id\":\"0\",\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"alice.home\",\"pass\":\"pw\",\"agent\":\"app/2.1\"}}\n" },
		{ S2C, "{\"id\":\"0\",\"jsonrpc\":\"2.0\",\"method\":\"login\",\"result\":\"ok\",\"error\":null}\n" },
		{ C2S, "{\"id\":\"1\",\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":null}\n" },
		{ S2C, "{\"id\":\"1\",\"jsonrpc\":\"2.0\",\"method\":\"status\",\"result\":{\"user\":\"alice\"},\"error\":null}\n" },
		{ C2S, "{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"form\":\"contact\",\"text\":\"hi\"}}\n" },
		{ S2C, "{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"result\":\"ok\",\"error\":null}\n" },
	};
	/* a login with an api_key answered by an ordinary result, and a job queue's events */
	static const struct msgline queue[] = {
		{ C2S, "{\"method\":\"login\",\"api_key\":\"k-7f3a9\",\"id\":\"login\",\"jsonrpc\":\"2.0\"}\n" },
		{ S2C, "{\"id\":\"login\",\"jsonrpc\":\"2.0\",\"result\":{\"session\":\"abc\"}}\n" },
		{ S2C, "{\"jsonrpc\":\"2.0\",\"method\":\"job\",\"id\":\"5\",\"params\":{\"queue\":\"mail\",\"state\":\"done\"}}\n" },
		{ S2C, "{\"jsonrpc\":\"2.0\",\"method\":\"job\",\"id\":\"6\",\"input\":\"abc\",\"difficulty\":\"high\"}\n" },
		{ C2S, "{\"jsonrpc\":\"2.0\",\"method\":\"result\",\"id\":\"5\",\"params\":{\"ok\":true}}\n" },
	};
	/* a chat service with body objects */
	static const struct msgline chat[] = {
		{ C2S, "{\"id\":1,\"method\":\"subscribe\",\"body\":{\"channel\":\"news\"}}\n" },
		{ S2C, "{\"id\":1,\"method\":\"subscribed\",\"body\":{\"channel\":\"news\"}}\n" },
		{ S2C, "{\"id\":2,\"method\":\"mining.notify\",\"body\":{\"text\":\"hello\"}}\n" },
	};
	/* the other mining grammars are not this detector's */
	static const struct msgline xmrig[] = {
		{ C2S, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"4AAAA\",\"pass\":\"x\",\"agent\":\"XMRig/6.21.0\",\"algo\":[\"rx/0\"]}}\n" },
		{ S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"s1\",\"job\":{\"blob\":\"0e0e\",\"job_id\":\"j1\",\"target\":\"dc460300\"},\"status\":\"OK\"}}\n" },
		{ S2C, "{\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":{\"blob\":\"0e0e\",\"job_id\":\"j2\",\"target\":\"dc460300\",\"height\":3000000}}\n" },
		{ C2S, "{\"id\":2,\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"id\":\"s1\",\"job_id\":\"j2\",\"nonce\":\"0a0b0c0d\",\"result\":\"" BEAMIN "\"}}\n" },
	};
	static const struct msgline btc[] = {
		{ C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\"]}\n" },
		{ S2C, "{\"id\":1,\"result\":[[[\"mining.notify\",\"ae68\"]],\"08000002\",4],\"error\":null}\n" },
		{ S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1\",\"" IRONTGT "\",\"01\",\"02\",[],\"20000000\",\"1a0ffff0\",\"5b646476\",true]}\n" },
		{ C2S, "{\"id\":2,\"method\":\"mining.submit\",\"params\":[\"w\",\"1\",\"00000001\",\"5b646476\",\"a1b2c3d4\"]}\n" },
	};
	harness h;

	silent(app, NMSG(app));
	silent(queue, NMSG(queue));
	silent(chat, NMSG(chat));
	silent(xmrig, NMSG(xmrig));
	silent(btc, NMSG(btc));

	/* HTTP and TLS are let go at the first byte, by the prefilter as well */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST /rpc HTTP/1.1\r\nHost: api.example.org\r\n\r\n"), MT_EXCLUDED);
	ck_assert_int_eq(h.prefiltered, 1);
	h_free(&h);

	/* an unknown first request from the client excludes the flow */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[]}\n"),
			 MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_wrong_shapes)
{
	static const char *const pushes[] = {
		/* Grin job without pre_pow, with odd-length pre_pow, with a string height, without jsonrpc */
		"{\"id\":\"Stratum\",\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":{\"difficulty\":4,\"height\":1,\"job_id\":8}}\n",
		"{\"id\":\"Stratum\",\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":{\"difficulty\":4,\"height\":1,\"job_id\":8,\"pre_pow\":\"abc\"}}\n",
		"{\"id\":\"Stratum\",\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":{\"difficulty\":4,\"height\":\"1\",\"job_id\":8,\"pre_pow\":\"ab\"}}\n",
		"{\"id\":\"Stratum\",\"method\":\"job\",\"params\":{\"difficulty\":4,\"height\":1,\"job_id\":8,\"pre_pow\":\"ab\"}}\n",
		/* Beam job with a 63-digit input, a negative difficulty, params */
		"{\"difficulty\":5,\"id\":\"17\",\"input\":\"5c2b3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9fa0\",\"method\":\"job\"}\n",
		"{\"difficulty\":-5,\"id\":\"17\",\"input\":\"" BEAMIN "\",\"method\":\"job\"}\n",
		"{\"difficulty\":5,\"id\":\"17\",\"input\":\"" BEAMIN "\",\"method\":\"job\",\"params\":[]}\n",
		/* Iron Fish notify with params, a string request id, a non-hex header; set_target too long */
		"{\"id\":2,\"method\":\"mining.notify\",\"params\":{\"miningRequestId\":3,\"header\":\"abcd\"}}\n",
		"{\"id\":2,\"method\":\"mining.notify\",\"body\":{\"miningRequestId\":\"3\",\"header\":\"abcd\"}}\n",
		"{\"id\":2,\"method\":\"mining.notify\",\"body\":{\"miningRequestId\":3,\"header\":\"xyz0\"}}\n",
		"{\"id\":\"2\",\"method\":\"mining.notify\",\"body\":{\"miningRequestId\":3,\"header\":\"abcd\"}}\n",
		"{\"id\":1,\"method\":\"mining.set_target\",\"body\":{\"target\":\"" IRONTGT "00\"}}\n",
	};
	static const char *const requests[] = {
		/* Grin submits: 41 nonces, a string nonce, no edge_bits */
		"{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"edge_bits\":32,\"height\":1,\"job_id\":8,\"nonce\":1,\"pow\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41]}}\n",
		"{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"edge_bits\":32,\"height\":1,\"job_id\":8,\"nonce\":\"1\",\"pow\":" POW42 "}}\n",
		"{\"id\":\"2\",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"height\":1,\"job_id\":8,\"nonce\":1,\"pow\":" POW42 "}}\n",
		/* Beam solutions: a short nonce, no output */
		"{\"id\":\"17\",\"jsonrpc\":\"2.0\",\"method\":\"solution\",\"nonce\":\"0a1b2c00\",\"output\":\"abcd\"}\n",
		"{\"id\":\"17\",\"jsonrpc\":\"2.0\",\"method\":\"solution\",\"nonce\":\"0a1b2c0000001234\"}\n",
		/* Iron Fish submit without randomness; subscribe without publicAddress */
		"{\"id\":1,\"method\":\"mining.submit\",\"body\":{\"miningRequestId\":3}}\n",
		"{\"id\":0,\"method\":\"mining.subscribe\",\"body\":{\"version\":3,\"name\":\"rig1\"}}\n",
	};

	for (size_t i = 0; i < NMSG(pushes); i++) {
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, S2C, pushes[i]);
		h_end(&h);
		ck_assert_int_ne(h.ans, MT_DETECTED);
		h_free(&h);
	}
	for (size_t i = 0; i < NMSG(requests); i++) {
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, requests[i]);
		h_end(&h);
		ck_assert_int_ne(h.ans, MT_DETECTED);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_direction_and_midstream)
{
	harness h;

	/* a pool's job sent by the client is not the grammar when the direction is known */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, grin[4].text);
	h_end(&h);
	ck_assert_int_ne(h.ans, MT_DETECTED);
	h_free(&h);

	/* a capture that begins inside a Beam job line: the fragment is skipped, the next job decides */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, beam[2].text + 20);
	ck_assert_int_eq(h.ans, MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, beam[2].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "beam-stratum");
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_free(&h);

	/* the dialect is fixed by the first message only one grammar has: Beam messages after a Grin job are foreign */
	h_init(&h, 0, 1);
	h_feed_str(&h, S2C, grin[4].text);
	h_feed_str(&h, S2C, beam[2].text);
	ck_assert_str_eq(h.ev.protocol, "grin-stratum");
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_free(&h);
}
END_TEST

START_TEST(test_udp_and_null_args)
{
	harness h;
	mt_pkt_view pv;
	mt_evidence ev;

	h_init(&h, 0, 1);
	h.fv.l4proto = 17;
	ck_assert_int_eq(h_feed_str(&h, C2S, grin[0].text), MT_EXCLUDED);
	h_free(&h);

	memset(&pv, 0, sizeof pv);
	memset(&ev, 0, sizeof ev);
	h_init(&h, 0, 1);
	ck_assert_int_eq(mt_detect_dialects.on_packet(NULL, NULL, &h.fv, &pv, &ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_dialects.on_packet(NULL, h.state, NULL, &pv, &ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_dialects.on_packet(NULL, h.state, &h.fv, NULL, &ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_dialects.on_packet(NULL, h.state, &h.fv, &pv, NULL), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

static Suite *dialects_suite(void)
{
	Suite *s = suite_create("detect_dialects");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interface);
	tcase_add_test(tc, test_grin_session);
	tcase_add_test(tc, test_beam_session);
	tcase_add_test(tc, test_ironfish_session);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_wrong_shapes);
	tcase_add_test(tc, test_direction_and_midstream);
	tcase_add_test(tc, test_udp_and_null_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dialects_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
