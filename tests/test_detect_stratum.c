/* test_detect_stratum.c - the Stratum v1 detector fed hand-built streams the way the engine feeds it: sessions, splits, truncations, look-alikes. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "mt_detect_harness.h"

static const uint8_t cli_addr[16] = { 192, 168, 1, 100 };
static const uint8_t srv_addr[16] = { 198, 51, 100, 7 };
static const h_ends flow_ends = { cli_addr, srv_addr, 50000, 3333 };

static void h_init(harness *h, int midstream, int dir_certain)
{
	h_setup(h, &mt_detect_stratum, &flow_ends, midstream, dir_certain);
}

/* ---- sessions -------------------------------------------------------------- */


#define C2S 0
#define S2C 1

#define PREVHASH "4e0c0043b0caacdf632965a4060642ce2b563531a04837dc0e716ae368e5931e"
#define BRANCH1 "bc688ddc1c1d698f83d20b66172b5442d7414f5f4b1acbf8818c79e4823b72a6"
#define BRANCH2 "048287b3124edeb8d703794cb48787d69b1317e05b7a4168199767e129db63aa"
/* coinbase: version, 1 input spending 32 zero bytes / ffffffff, scriptSig: height, "/slush/", push of the extranonces */
#define COINB1 "01000000" "01" "0000000000000000000000000000000000000000000000000000000000000000" \
	       "ffffffff" "15" "03a0bb0d" "072f736c7573682f" "08"
#define COINB2 "ffffffff" "01" "00f2052a01000000" "1976a914" "5c0e4a6830ff6ea9aea773d75bc207299cd50b74" "88ac" "00000000"
#define CB1_NOTAG "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4003a0bb0d08"
#define WALLET_BTC "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"

static const struct msgline btc_session[] = {
	{ C2S, "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"bfgminer/4.4.0\"]}\n" },
	{ S2C, "{\"id\":1,\"result\":[[[\"mining.set_difficulty\",\"1\"],[\"mining.notify\",\"1\"]],\"08000002\",4],\"error\":null}\n" },
	{ C2S, "{\"id\": 2, \"method\": \"mining.authorize\", \"params\": [\"" WALLET_BTC ".rig7\", \"x\"]}\n" },
	{ S2C, "{\"id\":2,\"result\":true,\"error\":null}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[1024]}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"" PREVHASH "\",\"" COINB1 "\",\"" COINB2
	       "\",[\"" BRANCH1 "\",\"" BRANCH2 "\"],\"20000000\",\"1a0ffff0\",\"5b646476\",true]}\n" },
	{ C2S, "{\"id\": 3, \"method\": \"mining.submit\", \"params\": [\"" WALLET_BTC ".rig7\", \"4f2a\", \"00000001\", \"5b646476\", \"a1b2c3d4\"]}\n" },
	{ S2C, "{\"id\":3,\"result\":true,\"error\":null}\n" },
	{ C2S, "{\"id\": 4, \"method\": \"mining.submit\", \"params\": [\"" WALLET_BTC ".rig7\", \"4f2a\", \"00000002\", \"5b646476\", \"0badf00d\"]}\n" },
	{ S2C, "{\"id\":4,\"result\":null,\"error\":[23,\"Low difficulty share\",null]}\n" },
	{ C2S, "{\"id\": 5, \"method\": \"mining.submit\", \"params\": [\"" WALLET_BTC ".rig7\", \"4f2a\", \"00000003\", \"5b646476\", \"c0ffee00\"]}\n" },
	{ S2C, "{\"id\":5,\"result\":true,\"error\":null}\n" },
};

/* The same session with keys reordered, white space added and CRLF line ends. */
static const struct msgline btc_session_permuted[] = {
	{ C2S, "{ \"params\" : [ \"bfgminer/4.4.0\" ] ,\t\"method\" : \"mining.subscribe\" , \"id\" : 1 }\r\n" },
	{ S2C, "{\"error\": null, \"result\": [ [ [\"mining.set_difficulty\", \"1\"], [\"mining.notify\", \"1\"] ], \"08000002\", 4 ], \"id\": 1}\r\n" },
	{ C2S, "  {\"params\":[\"" WALLET_BTC ".rig7\",\"x\"],\"id\":2,\"method\":\"mining.authorize\"}\r\n" },
	{ S2C, "{\"result\" : true , \"error\" : null , \"id\" : 2}\r\n" },
	{ S2C, "{\"params\":[1024],\"method\":\"mining.set_difficulty\",\"id\":null}\r\n" },
	{ S2C, "{\"method\": \"mining.notify\", \"params\": [\"4f2a\", \"" PREVHASH "\", \"" COINB1 "\", \"" COINB2
	       "\", [ \"" BRANCH1 "\" , \"" BRANCH2 "\" ], \"20000000\", \"1a0ffff0\", \"5b646476\", true], \"id\": null}\r\n" },
	{ C2S, "{\"method\":\"mining.submit\",\"id\":3,\"params\":[\"" WALLET_BTC ".rig7\",\"4f2a\",\"00000001\",\"5b646476\",\"a1b2c3d4\"]}\r\n" },
	{ S2C, "{\"error\":null,\"id\":3,\"result\":true}\r\n" },
	{ C2S, "{\"method\":\"mining.submit\",\"params\":[\"" WALLET_BTC ".rig7\",\"4f2a\",\"00000002\",\"5b646476\",\"0badf00d\"],\"id\":4}\r\n" },
	{ S2C, "{\"result\":null,\"id\":4,\"error\":[23,\"Low difficulty share\",null]}\r\n" },
	{ C2S, "{\"params\":[\"" WALLET_BTC ".rig7\",\"4f2a\",\"00000003\",\"5b646476\",\"c0ffee00\"],\"method\":\"mining.submit\",\"id\":5}\r\n" },
	{ S2C, "\n{\"id\":5,\"error\":null,\"result\":true}\r\n" },
};

#define NMSG(a) (sizeof(a) / sizeof((a)[0]))

static void check_btc_evidence(const mt_evidence *e)
{
	ck_assert_int_eq(e->event, MT_EVENT_MINING);
	ck_assert_str_eq(e->protocol, "stratum");
	ck_assert_str_eq(e->coin, "");
	ck_assert_str_eq(e->algo, "sha256d");
	ck_assert(e->confidence > 0.97 && e->confidence < 0.99);
	ck_assert_str_eq(e->evidence, "stratum: mining.notify push with 9 params after an answered request");
	ck_assert_str_eq(e->agent, "bfgminer/4.4.0");
	ck_assert_str_eq(e->wallet, WALLET_BTC);
	ck_assert_str_eq(e->worker, "rig7");
	ck_assert_str_eq(e->pool_host, "");
	ck_assert_str_eq(e->target, "");
	ck_assert_str_eq(e->coinbase_tag, "/slush/");
	ck_assert_uint_eq(e->has_difficulty, 1);
	ck_assert(e->difficulty == 1024.0);
	ck_assert_uint_eq(e->shares, 3);
	ck_assert_uint_eq(e->shares_accepted, 2);
	ck_assert_uint_eq(e->shares_rejected, 1);
	ck_assert_uint_eq(e->jobs, 1);
	ck_assert_str_eq(e->detector, ""); /* the engine's field */
	ck_assert_uint_gt(e->version, 0);
}

/* Evidence equal in everything but the version counter. */
static void ck_same_evidence(const mt_evidence *a, const mt_evidence *b)
{
	ck_assert_int_eq(a->event, b->event);
	ck_assert_str_eq(a->protocol, b->protocol);
	ck_assert_str_eq(a->coin, b->coin);
	ck_assert_str_eq(a->algo, b->algo);
	ck_assert(a->confidence == b->confidence);
	ck_assert_str_eq(a->evidence, b->evidence);
	ck_assert_str_eq(a->pool_host, b->pool_host);
	ck_assert_str_eq(a->wallet, b->wallet);
	ck_assert_str_eq(a->worker, b->worker);
	ck_assert_str_eq(a->agent, b->agent);
	ck_assert_str_eq(a->target, b->target);
	ck_assert_str_eq(a->coinbase_tag, b->coinbase_tag);
	ck_assert(a->difficulty == b->difficulty);
	ck_assert_uint_eq(a->has_difficulty, b->has_difficulty);
	ck_assert_uint_eq(a->shares, b->shares);
	ck_assert_uint_eq(a->shares_accepted, b->shares_accepted);
	ck_assert_uint_eq(a->shares_rejected, b->shares_rejected);
	ck_assert_uint_eq(a->jobs, b->jobs);
}

START_TEST(test_interface)
{
	ck_assert_uint_eq(mt_detect_stratum.api_version, MT_DETECTOR_API_VERSION);
	ck_assert_str_eq(mt_detect_stratum.name, "stratum");
	ck_assert_uint_eq(mt_detect_stratum.wants, MT_WANT_TCP);
	ck_assert_uint_ge(mt_detect_stratum.max_packets, 32);
	ck_assert_uint_le(mt_detect_stratum.max_packets, 128);
	ck_assert_uint_gt(mt_detect_stratum.state_size, 0);
	ck_assert_uint_le(mt_detect_stratum.state_size, 1024); /* fixed, small, no per-packet allocation */
	ck_assert_ptr_nonnull(mt_detect_stratum.on_packet);
}
END_TEST

/*
 * The prefilter (prefilter.h, shared by the JSON-lines detectors) excludes
 * what the first scan excludes and nothing else; the harness checks at every
 * first call that on_packet excludes whatever the prefilter excluded.
 */
START_TEST(test_prefilter)
{
	static const struct {
		int dir, midstream;
		const char *first;
		int excluded;
	} cases[] = {
		{ C2S, 0, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n", 0 },
		{ C2S, 0, " \r\n\t{\"id\":1,", 0 },
		{ C2S, 0, "\r\n", 0 },
		{ C2S, 0, "GET / HTTP/1.1\r\n", 1 },
		{ C2S, 0, "\x16\x03\x01\x02\x00\x01", 1 },
		{ C2S, 0, "  [1,2]\n", 1 },
		{ S2C, 0, "SSH-2.0-OpenSSH_9.2\r\n", 1 },
		{ S2C, 0, "{\"id\":null,\"method\":\"mining.notify\"", 0 },
		{ C2S, 1, "GET / HTTP/1.1\r\n", 0 },   /* mid-connection: read with a resync */
		{ C2S, 1, "\"}\n{\"id\":4,", 0 },
	};
	harness h;

	ck_assert_ptr_nonnull(mt_detect_stratum.prefilter);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		h_setup(&h, &mt_detect_stratum, &flow_ends, cases[i].midstream, 1);
		h_feed_str(&h, cases[i].dir, cases[i].first);
		ck_assert_msg(h.prefiltered == cases[i].excluded, "case %zu", i);
		if (cases[i].excluded)
			ck_assert_int_eq(h.ans, MT_EXCLUDED);
		h_free(&h);
	}
	/* A byte other than '{' in the server's first words does not exclude once the client spoke JSON. */
	h_setup(&h, &mt_detect_stratum, &flow_ends, 0, 1);
	h.len[C2S] = 0;
	{
		mt_flow_view fv = h.fv;
		mt_pkt_view pv;
		static const uint8_t cli[] = "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n";
		static const uint8_t srv[] = "HTTP/1.1 400 Bad Request\r\n";

		memset(&pv, 0, sizeof pv);
		fv.data[0] = cli;
		fv.len[0] = sizeof cli - 1;
		fv.data[1] = srv;
		fv.len[1] = sizeof srv - 1;
		ck_assert_int_ne(mt_detect_stratum.prefilter(NULL, &fv, &pv), MT_EXCLUDED);
		fv.len[0] = 0; /* the client has said nothing: the server's HTTP excludes */
		ck_assert_int_eq(mt_detect_stratum.prefilter(NULL, &fv, &pv), MT_EXCLUDED);
		fv.len[0] = sizeof cli - 1;
		fv.gap_off[0] = 3; /* white space only before a hole: maybe */
		fv.data[0] = (const uint8_t *)"  \nGET";
		fv.len[0] = 6;
		ck_assert_int_ne(mt_detect_stratum.prefilter(NULL, &fv, &pv), MT_EXCLUDED);
		fv.gap_off[0] = 0;
		ck_assert_int_eq(mt_detect_stratum.prefilter(NULL, &fv, &pv), MT_EXCLUDED);
		fv.l4proto = 17;
		fv.data[0] = cli;
		fv.len[0] = sizeof cli - 1;
		ck_assert_int_eq(mt_detect_stratum.prefilter(NULL, &fv, &pv), MT_EXCLUDED);
	}
	h_free(&h);
}
END_TEST

START_TEST(test_btc_session)
{
	harness h;
	uint32_t v;

	h_init(&h, 0, 1);
	/* the first request alone decides only once the pool has answered (or the flow ends) */
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[0].text), MT_UNDECIDED);
	ck_assert(h.ev.confidence > 0.59 && h.ev.confidence < 0.61);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.subscribe request (id 1)");
	ck_assert_str_eq(h.ev.agent, "bfgminer/4.4.0");
	ck_assert_int_eq(h_feed_str(&h, S2C, btc_session[1].text), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.89 && h.ev.confidence < 0.91);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.subscribe request answered (id 1)");
	for (size_t i = 2; i < NMSG(btc_session); i++)
		ck_assert_int_eq(h_feed_str(&h, btc_session[i].dir, btc_session[i].text), MT_DETECTED);
	check_btc_evidence(&h.ev);
	/* nothing new: the version stays */
	v = h.ev.version;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_uint_eq(h.ev.version, v);
	h_free(&h);
}
END_TEST

START_TEST(test_btc_permuted)
{
	harness a, b;

	h_init(&a, 0, 1);
	h_init(&b, 0, 1);
	ck_assert_int_eq(h_run(&a, btc_session, NMSG(btc_session)), MT_DETECTED);
	ck_assert_int_eq(h_run(&b, btc_session_permuted, NMSG(btc_session_permuted)), MT_DETECTED);
	check_btc_evidence(&b.ev);
	ck_same_evidence(&a.ev, &b.ev);
	h_free(&a);
	h_free(&b);
}
END_TEST

START_TEST(test_pipelined)
{
	harness a, h;
	char c2s[4096], s2c[8192];
	size_t nc = 0, ns = 0;

	for (size_t i = 0; i < NMSG(btc_session); i++) {
		size_t n = strlen(btc_session[i].text);

		if (btc_session[i].dir == C2S) {
			memcpy(c2s + nc, btc_session[i].text, n);
			nc += n;
		} else {
			memcpy(s2c + ns, btc_session[i].text, n);
			ns += n;
		}
	}
	h_init(&a, 0, 1);
	h_run(&a, btc_session, NMSG(btc_session));
	/* every request in one segment, then every reply and push in one */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed(&h, C2S, c2s, nc), MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.shares, 3);
	ck_assert_int_eq(h_feed(&h, S2C, s2c, ns), MT_DETECTED);
	ck_same_evidence(&a.ev, &h.ev);
	h_free(&h);
	h_free(&a);
}
END_TEST

START_TEST(test_every_split)
{
	harness ref;

	h_init(&ref, 0, 1);
	h_run(&ref, btc_session, NMSG(btc_session));
	for (size_t m = 0; m < NMSG(btc_session); m++) {
		size_t n = strlen(btc_session[m].text);

		for (size_t cut = 1; cut < n; cut++) {
			harness h;

			h_init(&h, 0, 1);
			for (size_t i = 0; i < NMSG(btc_session); i++) {
				const char *t = btc_session[i].text;

				if (i == m) {
					h_feed(&h, btc_session[i].dir, t, cut);
					h_feed(&h, btc_session[i].dir, t + cut, n - cut);
				} else {
					h_feed_str(&h, btc_session[i].dir, t);
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
	harness ref, h;

	h_init(&ref, 0, 1);
	h_run(&ref, btc_session, NMSG(btc_session));
	h_init(&h, 0, 1);
	for (size_t i = 0; i < NMSG(btc_session); i++) {
		const char *t = btc_session[i].text;
		size_t n = strlen(t);

		for (size_t k = 0; k < n; k++) {
			int a = h_feed(&h, btc_session[i].dir, t + k, 1);

			/* nothing decides before the first line's newline */
			if (i == 0 && k + 1 < n)
				ck_assert_int_eq(a, MT_UNDECIDED);
		}
	}
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_same_evidence(&ref.ev, &h.ev);
	check_btc_evidence(&h.ev);
	h_free(&h);
	h_free(&ref);
}
END_TEST

/* The whole session as one byte sequence with each byte's direction, to cut anywhere. */
static size_t flatten(const struct msgline *s, size_t n, char *bytes, int *dirs, size_t cap,
		      size_t *ends)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(s[i].text);

		ck_assert_uint_le(o + k, cap);
		memcpy(bytes + o, s[i].text, k);
		for (size_t j = 0; j < k; j++)
			dirs[o + j] = s[i].dir;
		o += k;
		ends[i] = o;
	}
	return o;
}

START_TEST(test_every_truncation)
{
	static char bytes[8192];
	static int dirs[8192];
	size_t ends[NMSG(btc_session)];
	size_t total = flatten(btc_session, NMSG(btc_session), bytes, dirs, sizeof bytes, ends);
	double prev = 0;

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
		/* a decisive message counts only once its newline is in */
		if (cut < ends[0])
			want = 0;
		else if (cut < ends[1])
			want = cut == ends[0] ? 0 : 0.6; /* a request alone waits for the pool's first byte */
		else if (cut < ends[5])
			want = 0.9;
		else
			want = 0.98;
		if (want == 0) {
			ck_assert_int_eq(h.ans, MT_UNDECIDED);
		} else {
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert(h.ev.confidence > want - 0.001 && h.ev.confidence < want + 0.001);
		}
		ck_assert(h.ev.confidence >= prev);
		prev = h.ev.confidence;
		/* the flow ending mid-line changes nothing: a fragment is not a message */
		h_end(&h);
		if (cut == ends[0])
			want = 0.6; /* the request alone, at the end of the flow */
		if (want == 0)
			ck_assert_int_ne(h.ans, MT_DETECTED);
		else
			ck_assert(h.ev.confidence > want - 0.001 && h.ev.confidence < want + 0.001);
		if (cut == total)
			check_btc_evidence(&h.ev);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_midstream_mid_notify)
{
	harness h;
	const char *notify = btc_session[5].text;
	size_t n = strlen(notify);

	/* capture begins in the middle of a notify line (no SYN seen) */
	h_init(&h, 1, 1);
	ck_assert_int_eq(h_feed(&h, S2C, notify + n / 2, n - n / 2), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[6].text), MT_DETECTED); /* a submit */
	ck_assert(h.ev.confidence > 0.59 && h.ev.confidence < 0.61);
	ck_assert_int_eq(h_feed_str(&h, S2C, btc_session[7].text), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.89 && h.ev.confidence < 0.91);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.jobs, 0); /* the cut notify did not count */
	ck_assert_int_eq(h_feed_str(&h, S2C, notify), MT_DETECTED);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert(h.ev.confidence > 0.97);
	ck_assert_str_eq(h.ev.wallet, WALLET_BTC);
	h_free(&h);

	/* midstream where the capture happens to start at a line boundary: the line counts */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, notify), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.94 && h.ev.confidence < 0.96);
	h_free(&h);

	/* midstream garbage that is not stratum: the first whole line decides */
	h_init(&h, 1, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, "tail of something\nGET / HTTP/1.1\r\n"), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_direction_uncertain)
{
	harness h;

	/* the engine guessed the roles wrong: the pool's push arrives as "c2s" */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[4].text), MT_DETECTED); /* set_difficulty */
	h_free(&h);

	/* with certain roles, a client method from the server is not the grammar */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, btc_session[0].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[4].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[5].text), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

START_TEST(test_client_only_probe)
{
	harness h;
	static const char *const replies[] = {
		NULL,
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request",
		"{\"id\":691,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":\"invalid method\"}}\n",
		"{\"id\":691,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"status\":\"OK\"}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":691,\"result\":true}\n",
		"{\"id\":1,\"result\":[null,\"9174010000000000cf60b247e50d4e68\"],\"error\":null}\n", /* wrong id */
		"\x15\x03\x01\x00\x02\x02\x28",
	};

	for (size_t i = 0; i < NMSG(replies); i++) {
		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\": 691, \"method\": \"mining.subscribe\", \"params\": []}\n"),
				 MT_UNDECIDED);
		if (replies[i])
			ck_assert_int_eq(h_feed_str(&h, S2C, replies[i]), MT_DETECTED);
		h_end(&h);
		ck_assert_int_eq(h.ans, MT_DETECTED);
		ck_assert_str_eq(h.ev.protocol, "stratum");
		ck_assert(h.ev.confidence > 0.59 && h.ev.confidence < 0.61);
		ck_assert_str_eq(h.ev.evidence, "stratum: mining.subscribe request (id 691)");
		h_free(&h);
	}

	/* a stratum server that refuses: a stratum answer all the same */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\": 4, \"method\": \"mining.subscribe\", \"params\": [\"cgminer/3.7.2\"]}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"error\":[-9,\"Cannot call \\\"mining.subscribe\\\" - invalid signature\",null],\"id\":4,\"result\":null}\n"),
			 MT_DETECTED);
	ck_assert(h.ev.confidence > 0.84 && h.ev.confidence < 0.86);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.subscribe request refused with a stratum error (id 4)");
	ck_assert_str_eq(h.ev.agent, "cgminer/3.7.2");
	h_free(&h);

	/* authorize alone, submit alone */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\": 2, \"method\": \"mining.authorize\", \"params\": [\"Bitcoin\", \"x\"]}\n"),
			 MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_str_eq(h.ev.worker, "Bitcoin");
	ck_assert_str_eq(h.ev.wallet, "");
	h_free(&h);
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[6].text), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.59 && h.ev.confidence < 0.61);
	ck_assert_uint_eq(h.ev.shares, 1);
	h_free(&h);

	/* a server that sends garbage before its replies, after the probe decided (seen in the wild) */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\": 1035, \"method\": \"mining.subscribe\", \"params\": [\"cgminer/3.7.2\"]}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, "y\"}\n{\"error\":null,\"id\":1035,\"result\":[[[\"mining.set_difficulty\",\"1\"],[\"mining.notify\",\"1\"]],\"61660502e29c1e\",4]}\n"),
			 MT_DETECTED);
	ck_assert(h.ev.confidence > 0.89 && h.ev.confidence < 0.91);
	h_free(&h);
}
END_TEST

#define ZEC_ADDR "t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd"
#define ZH1 "225ff9589d1e119708ed631987823bfb84f758d92ab81a9545c0864700000000"
#define ZH2 "43e5dd6563c15095a3ee08b3e04e209c53a95938816a82124c0b7cc2e9edfa77"
#define ZH0 "0000000000000000000000000000000000000000000000000000000000000000"

/* ZIP 301 shapes. */
static const struct msgline zec_session[] = {
	{ C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"nheqminer/0.5c\",null,\"zec.pool.example\",\"3357\"]}\n" },
	{ S2C, "{\"id\":1,\"result\":[null,\"c208ec77000000000000000077ec08c1\"],\"error\":null}\n" },
	{ C2S, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"" ZEC_ADDR ".rig4\",\"x\"]}\n" },
	{ C2S, "{\"id\":3,\"method\":\"mining.extranonce.subscribe\",\"params\":[]}\n" },
	{ S2C, "{\"id\":2,\"result\":true}\n" }, /* flypool omits error */
	{ S2C, "{\"id\":null,\"method\":\"mining.set_target\",\"params\":[\"0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a\"]}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"39f2\",\"04000000\",\"" ZH1 "\",\"" ZH2 "\",\"" ZH0 "\",\"16ee7c58\",\"83837b1c\",true]}\n" },
	{ C2S, "{\"id\":100,\"method\":\"mining.submit\",\"params\":[\"" ZEC_ADDR ".rig4\",\"39f2\",\"16ee7c58\",\"3e2700000000000000000000000000000000000000000000000000\",\"fd4005002924\"]}\n" },
	{ S2C, "{\"id\":100,\"result\":true}\n" },
};

START_TEST(test_zcash_session)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, zec_session[0].text), MT_UNDECIDED);
	ck_assert_str_eq(h.ev.coin, ""); /* the 4-param subscribe alone names no coin */
	ck_assert_int_eq(h_run(&h, zec_session + 1, NMSG(zec_session) - 1), MT_DETECTED);
	ck_assert_str_eq(h.ev.coin, "ZEC"); /* ZIP 301 job and target shapes */
	ck_assert_str_eq(h.ev.algo, "equihash");
	ck_assert_str_eq(h.ev.protocol, "stratum");
	ck_assert_str_eq(h.ev.coin, "ZEC");
	ck_assert_str_eq(h.ev.algo, "equihash");
	ck_assert(h.ev.confidence > 0.97 && h.ev.confidence < 0.99);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.notify push with 8 params after an answered request");
	ck_assert_str_eq(h.ev.agent, "nheqminer/0.5c");
	ck_assert_str_eq(h.ev.pool_host, "zec.pool.example");
	ck_assert_str_eq(h.ev.wallet, ZEC_ADDR);
	ck_assert_str_eq(h.ev.worker, "rig4");
	ck_assert_str_eq(h.ev.target, "0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a");
	ck_assert_uint_eq(h.ev.has_difficulty, 0);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_str_eq(h.ev.coinbase_tag, "");
	h_free(&h);

	/* the pool's side alone: set_target, then the job */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, zec_session[5].text), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.89 && h.ev.confidence < 0.91);
	ck_assert_str_eq(h.ev.coin, ""); /* KawPow, Ergo, CKB pools send mining.set_target too */
	ck_assert_int_eq(h_feed_str(&h, S2C, zec_session[6].text), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.94 && h.ev.confidence < 0.96);
	ck_assert_str_eq(h.ev.coin, "ZEC");
	h_free(&h);
}
END_TEST

#define ETH_ADDR "0xb85150eb365e7df0941f0cf08235f987ba91506a"
#define SEED "52341cf7371faf9a5a0105914ad69f04b0cabfc51d12a2a28a00d5b808ea4e5c"
#define HDR "0b27fc516039bd1c5b121c9d829698a8aa99f3ebe65227a4c477674161dad0e3"

START_TEST(test_ethereum_stratum)
{
	harness h;

	/* NiceHash EthereumStratum/1.0.0 */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"ethminer/0.19.0\", \"EthereumStratum/1.0.0\"]}\n"),
			 MT_UNDECIDED);
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	ck_assert_str_eq(h.ev.agent, "ethminer/0.19.0");
	ck_assert_str_eq(h.ev.coin, "");
	h_feed_str(&h, S2C, "{\"id\": 1, \"result\": [[\"mining.notify\", \"ae6812eb4cd7735a302a8a9dd95cf71f\", \"EthereumStratum/1.0.0\"], \"080c\"], \"error\": null}\n");
	h_feed_str(&h, C2S, "{\"id\": 2, \"method\": \"mining.authorize\", \"params\": [\"" ETH_ADDR ".rig1\", \"x\"]}\n");
	h_feed_str(&h, S2C, "{\"id\": 2, \"result\": true, \"error\": null}\n");
	h_feed_str(&h, S2C, "{\"id\": null, \"method\": \"mining.set_difficulty\", \"params\": [0.5]}\n");
	h_feed_str(&h, S2C, "{\"id\": null, \"method\": \"mining.notify\", \"params\": [\"bf0488aa\", \"" SEED "\", \"" HDR "\", true]}\n");
	h_feed_str(&h, C2S, "{\"id\": 4, \"method\": \"mining.submit\", \"params\": [\"" ETH_ADDR ".rig1\", \"bf0488aa\", \"6a909d9bbc03\"]}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\": 4, \"result\": true, \"error\": null}\n"), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	ck_assert_str_eq(h.ev.algo, "ethash");
	ck_assert_str_eq(h.ev.coin, "");
	ck_assert_str_eq(h.ev.wallet, ETH_ADDR);
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert(h.ev.difficulty == 0.5);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert(h.ev.confidence > 0.97);
	h_free(&h);

	/* a three-element job: job, header, seed */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"0x" HDR "\",\"0x" HDR "\",\"0x" SEED "\"]}\n"),
			 MT_DETECTED);
	ck_assert_str_eq(h.ev.algo, "ethash");
	h_free(&h);

	/* only the reply names it */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"x/1\"]}\n");
	ck_assert_str_eq(h.ev.protocol, "stratum");
	h_feed_str(&h, S2C, "{\"id\": 1, \"result\": [[\"mining.notify\", \"ae68\", \"EthereumStratum/1.0.0\"], \"080c\"], \"error\": null}\n");
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	h_free(&h);

	/* only the job's shape names it (ethminer "stratum" mode, 0x hashes, a target) */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":6,\"jsonrpc\":\"2.0\",\"params\":[\"0x" HDR "\",\"0x" HDR "\",\"0x" SEED "\",\"0x0000000100000000000000000000000000000000000000000000000000000000\",false],\"method\":\"mining.notify\"}\n"),
			 MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	ck_assert_str_eq(h.ev.algo, "ethash");
	h_free(&h);
}
END_TEST

START_TEST(test_algo_strength)
{
	harness h;

	/* [agent, session, host, port] is sent by Bitcoin miners too: no coin until the job's shape */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"sgminer/5\",null,\"pool.example\",3333]}\n");
	ck_assert_str_eq(h.ev.coin, "");
	h_feed_str(&h, S2C, btc_session[5].text);
	ck_assert_str_eq(h.ev.coin, "");
	ck_assert_str_eq(h.ev.algo, "sha256d");
	/* four params without a host are no ZIP 301 hint */
	{
		harness z;

		h_init(&z, 0, 1);
		h_feed_str(&z, C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4\",\"sess\",null,null]}\n");
		ck_assert_int_eq(z.ans, MT_UNDECIDED);
		ck_assert_int_eq(h_end(&z), MT_DETECTED);
		ck_assert_str_eq(z.ev.coin, "");
		ck_assert_str_eq(z.ev.algo, "");
		ck_assert_str_eq(z.ev.pool_host, "");
		h_free(&z);
	}
	/* the miner answers the pool's client.get_version: its software, when subscribe gave none */
	{
		harness g;

		h_init(&g, 0, 1);
		h_feed_str(&g, C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n");
		h_feed_str(&g, S2C, "{\"id\":77,\"method\":\"client.get_version\",\"params\":[]}\n");
		h_feed_str(&g, C2S, "{\"id\":77,\"result\":\"cgminer/4.10.0\",\"error\":null}\n");
		ck_assert_str_eq(g.ev.agent, "cgminer/4.10.0");
		ck_assert(g.ev.confidence < 0.61);
		h_free(&g);
	}
	/* a later weak hint does not undo it */
	h_feed_str(&h, S2C, zec_session[5].text);
	ck_assert_str_eq(h.ev.algo, "sha256d");
	h_free(&h);
}
END_TEST

static int lookalike(const char *c2s, const char *s2c, int midstream, int dir_certain)
{
	harness h;
	int a;

	h_init(&h, midstream, dir_certain);
	if (c2s)
		h_feed_str(&h, C2S, c2s);
	if (s2c)
		h_feed_str(&h, S2C, s2c);
	h_end(&h);
	a = h.ans;
	if (a != MT_DETECTED)
		ck_assert_int_eq(h.ev.version, 0); /* nothing claimed */
	h_free(&h);
	return a;
}

START_TEST(test_lookalikes)
{
	/* JSON-RPC 2.0 echo */
	ck_assert_int_eq(lookalike("{\"jsonrpc\": \"2.0\", \"method\": \"echo\", \"params\": [\"Hello JSON-RPC\"], \"id\": 1}\n",
				   "{\"jsonrpc\": \"2.0\", \"result\": \"Hello JSON-RPC\", \"id\": 1}\n", 0, 1),
			 MT_EXCLUDED);
	/* Geth web3 */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"web3_clientVersion\",\"params\":[],\"id\":67}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBalance\",\"params\":[\"0xc94770007dda54cF92009BFF0dE90c06F603a09f\",\"latest\"],\"id\":1}\n",
				   "{\"jsonrpc\":\"2.0\",\"id\":67,\"result\":\"Geth/v1.10.26-stable/linux-amd64/go1.18.5\"}\n"
				   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x0234c8a3397aab58\"}\n", 0, 1),
			 MT_EXCLUDED);
	/* the same seen midstream: never stratum */
	ck_assert_int_ne(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBalance\",\"params\":[\"0xc94770007dda54cF92009BFF0dE90c06F603a09f\",\"latest\"],\"id\":1}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[],\"id\":2}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"net_version\",\"params\":[],\"id\":3}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\",\"params\":[],\"id\":4}\n",
				   NULL, 1, 0),
			 MT_DETECTED);
	/* EthProxy: eth_submitLogin opens the session */
	ck_assert_int_eq(lookalike("{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitLogin\",\"params\":[\"" ETH_ADDR "\"]}\n",
				   "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":true}\n", 0, 1),
			 MT_EXCLUDED);
	/* an unknown method after a stratum one is not the first word: counted, not decisive */
	{
		harness h;

		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"mining.extranonce.subscribe\",\"params\":[]}\n"), MT_UNDECIDED);
		ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"getjob\",\"params\":[]}\n"), MT_UNDECIDED);
		/* a request alone waits for the pool's answer, or the end of the flow */
		ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":3,\"method\":\"mining.subscribe\",\"params\":[]}\n"), MT_UNDECIDED);
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		h_free(&h);
		/* but many of them, with nothing of stratum, end it */
		h_init(&h, 1, 0);
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"getjob\",\"params\":[]}\n"), MT_UNDECIDED);
		ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"getjob\",\"params\":[]}\n"), MT_EXCLUDED);
		h_free(&h);
	}
	/* CryptoNote stratum (another detector's) */
	ck_assert_int_eq(lookalike("{\"method\":\"login\",\"params\":{\"login\":\"4BCeEPhodgPMbPWFN1dPwhWXdRX8q4mhh\",\"pass\":\"x\",\"agent\":\"xmr-stak\"},\"id\":1}\n",
				   NULL, 0, 1),
			 MT_EXCLUDED);
	/* HTTP POST carrying a stratum-looking JSON body (getwork/HTTP territory) */
	ck_assert_int_eq(lookalike("POST / HTTP/1.1\r\nHost: pool.example:3333\r\nContent-Type: application/json\r\nContent-Length: 56\r\n\r\n"
				   "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": []}\n",
				   "{\"id\":1,\"result\":[[[\"mining.notify\",\"1\"]],\"00\",4],\"error\":null}\n", 0, 1),
			 MT_EXCLUDED);
	/* IRC chat quoting stratum */
	ck_assert_int_eq(lookalike("NICK miner\r\nUSER miner 0 * :m\r\nPRIVMSG #pool :{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\r\n"
				   "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n",
				   ":irc.example 001 miner :Welcome\r\n", 0, 1),
			 MT_EXCLUDED);
	/* TLS ClientHello to a stratum port */
	ck_assert_int_eq(lookalike("\x16\x03\x01\x01\x0c\x01\x00\x01\x08\x03\x03",
				   "{\"id\":0,\"result\":null,\"error\":[20,\"Parse error\",null]}\n", 0, 1),
			 MT_EXCLUDED);
	/* stratum pushed by a server that does not speak first in JSON */
	ck_assert_int_eq(lookalike(NULL, "220 ftp.example ready\r\n{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[8]}\n", 0, 1),
			 MT_EXCLUDED);
	/* a JSON array is not a stratum line */
	ck_assert_int_eq(lookalike("[{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}]\n", NULL, 0, 1), MT_EXCLUDED);
}
END_TEST

START_TEST(test_pgsql_lookalike)
{
	/* PostgreSQL: a simple query and a data row whose text holds whole stratum lines */
	static const char notify[] = "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"" PREVHASH "\",\"" COINB1 "\",\"" COINB2
				     "\",[],\"20000000\",\"1a0ffff0\",\"5b646476\",true]}";
	uint8_t c2s[512], s2c[2048];
	size_t nc = 0, ns = 0;
	harness h;
	const char *q = "SELECT rule FROM ids_rules WHERE rule LIKE '%mining.notify%'";
	size_t ql = strlen(q) + 1, rl = strlen(notify);

	/* startup message, then 'Q' */
	static const uint8_t startup[] = { 0, 0, 0, 0x21, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'p', 'g', 0,
					   'd', 'a', 't', 'a', 'b', 'a', 's', 'e', 0, 'i', 'd', 's', 0, 0 };
	memcpy(c2s, startup, sizeof startup);
	nc = sizeof startup;
	c2s[nc++] = 'Q';
	c2s[nc++] = 0;
	c2s[nc++] = 0;
	c2s[nc++] = (uint8_t)((ql + 4) >> 8);
	c2s[nc++] = (uint8_t)(ql + 4);
	memcpy(c2s + nc, q, ql);
	nc += ql;
	/* AuthenticationOk, then a DataRow with "\n<notify>\n" in a text column */
	memcpy(s2c, "R\0\0\0\x08\0\0\0\0", 9);
	ns = 9;
	s2c[ns++] = 'D';
	s2c[ns++] = 0;
	s2c[ns++] = 0;
	s2c[ns++] = (uint8_t)((rl + 12) >> 8);
	s2c[ns++] = (uint8_t)(rl + 12);
	s2c[ns++] = 0;
	s2c[ns++] = 1;
	s2c[ns++] = 0;
	s2c[ns++] = 0;
	s2c[ns++] = (uint8_t)((rl + 2) >> 8);
	s2c[ns++] = (uint8_t)(rl + 2);
	s2c[ns++] = '\n';
	memcpy(s2c + ns, notify, rl);
	ns += rl;
	s2c[ns++] = '\n';
	ck_assert_uint_le(ns, sizeof s2c);

	h_init(&h, 0, 1);
	h_feed(&h, C2S, c2s, nc);
	h_feed(&h, S2C, s2c, ns);
	h_end(&h);
	ck_assert_int_eq(h.ans, MT_EXCLUDED);
	h_free(&h);
	/* even midstream, where a first fragment is forgiven, a binary one is not */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed(&h, S2C, s2c, ns), MT_EXCLUDED);
	h_free(&h);
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed(&h, S2C, s2c, 12), MT_EXCLUDED); /* before any newline */
	h_free(&h);
}
END_TEST

START_TEST(test_wrong_shapes)
{
	static const char *const c2s_lines[] = {
		"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":\"cgminer\"}\n",
		"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":{\"agent\":\"cgminer\"}}\n",
		"{\"id\":1,\"method\":\"mining.subscribe\"}\n",
		"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[[\"a\"]]}\n",
		"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}\n",
		"{\"id\":{},\"method\":\"mining.subscribe\",\"params\":[]}\n",
		"{\"method\":\"mining.subscribe\",\"params\":[]}\n",
		"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[]}\n",
		"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[123,\"x\"]}\n",
		"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"\",\"x\"]}\n",
		"{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"w\",{}]}\n",
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\",\"zz\",\"yy\",\"xx\"]}\n",
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\"]}\n",
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\",\"00\",\"00\",\"00\",\"00\",\"00\"]}\n",
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[1,\"j\",\"00\",\"00\",\"00\"]}\n",
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\",\"\",\"00\",\"00\"]}\n",
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\",\"0\\u0030\",\"00\",\"00\"]}\n",
		"{\"id\":1,\"method\":\"mining.Subscribe\",\"params\":[]}\n",
		"{\"id\":1,\"method\":\" mining.subscribe\",\"params\":[]}\n",
		"{\"id\":1,\"method\":1,\"params\":[]}\n",
		"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[],}\n",
		"{\"id\":1,'method':\"mining.subscribe\",\"params\":[]}\n",
	};
	static const char *const s2c_lines[] = {
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"" PREVHASH "\"]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"4e0c\",\"" COINB1 "\",\"" COINB2 "\",[],\"20000000\",\"1a0ffff0\",\"5b646476\",true]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"" PREVHASH "\",\"" COINB1 "\",\"" COINB2 "\",[\"abc\"],\"20000000\",\"1a0ffff0\",\"5b646476\",true]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"" PREVHASH "\",\"" COINB1 "\",\"" COINB2 "\",[],\"20000000\",\"1a0ffff0\",\"5b646476\",\"true\"]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"4f2a\",\"" PREVHASH "\",\"0\",\"" COINB2 "\",[],\"20000000\",\"1a0ffff0\",\"5b646476\",true]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":{\"job\":\"4f2a\"}}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"a\",\"" PREVHASH "\",\"b\",\"c\",true]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"a\",\"" PREVHASH "\",\"" PREVHASH "\",\"c\",true,1,2,3,4,5,6,7,8]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"a\",\"" PREVHASH "\",\"" PREVHASH "\",\"c\",true,{}]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",true]}\n",
		"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[\"1024\"]}\n",
		"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[-1]}\n",
		"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[0]}\n",
		"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[]}\n",
		"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[1e999]}\n",
		"{\"id\":null,\"method\":\"mining.set_target\",\"params\":[123]}\n",
		"{\"id\":null,\"method\":\"mining.set_target\",\"params\":[\"not-hex-at-all\"]}\n",
		"{\"id\":null,\"method\":\"mining.set_target\",\"params\":[\"00ff\"]}\n",
		"{\"id\":null,\"method\":\"client.show_message\",\"params\":[\"hello\"]}\n",
		"{\"id\":null,\"method\":\"mining.set_extranonce\",\"params\":[\"08000002\",4]}\n",
		"{\"id\":7,\"result\":true,\"error\":null}\n",
	};

	for (size_t i = 0; i < NMSG(c2s_lines); i++) {
		int a = lookalike(c2s_lines[i], NULL, 0, 1);

		if (a == MT_DETECTED)
			ck_abort_msg("c2s line %zu detected: %s", i, c2s_lines[i]);
	}
	for (size_t i = 0; i < NMSG(s2c_lines); i++) {
		int a = lookalike("{\"id\":9,\"method\":\"mining.extranonce.subscribe\",\"params\":[]}\n", s2c_lines[i], 0, 1);

		if (a == MT_DETECTED)
			ck_abort_msg("s2c line %zu detected: %s", i, s2c_lines[i]);
	}
	/* a wrong-shaped request answered in form is still not stratum */
	ck_assert_int_ne(lookalike("{\"id\":1,\"method\":\"mining.subscribe\",\"params\":\"x\"}\n",
				   "{\"id\":1,\"result\":[[[\"mining.notify\",\"1\"]],\"00\",4],\"error\":null}\n", 0, 1),
			 MT_DETECTED);
	/* escapes in the method name are still the method */
	ck_assert_int_eq(lookalike("{\"id\":1,\"method\":\"mining\\u002esubscribe\",\"params\":[]}\n", NULL, 0, 1), MT_DETECTED);
}
END_TEST

START_TEST(test_huge_line)
{
	harness h;
	enum { CHUNK = 65536, TOTAL = 10 * 1024 * 1024 };
	uint8_t *buf = malloc(TOTAL);
	uint32_t fed = 0;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'a', TOTAL);
	buf[0] = '{';
	h_init(&h, 0, 1);
	/* one buffer grown in place (as the stream would, up to its cap) */
	while (fed < TOTAL && h.ans != MT_EXCLUDED) {
		mt_pkt_view pv;

		fed += CHUNK;
		memset(&pv, 0, sizeof pv);
		h.fv.data[0] = buf;
		h.fv.len[0] = fed;
		h.ans = mt_detect_stratum.on_packet(NULL, h.state, &h.fv, &pv, &h.ev);
	}
	ck_assert_int_eq(h.ans, MT_EXCLUDED);
	ck_assert_uint_le(fed, 2 * CHUNK); /* gave up as soon as the line passed the limit */
	ck_assert_uint_eq(h.ev.version, 0);
	free(h.state);

	/* after detection the direction is dropped, the flow stays detected */
	h_init(&h, 0, 1);
	memcpy(buf, btc_session[0].text, strlen(btc_session[0].text));
	buf[strlen(btc_session[0].text)] = '{';
	for (fed = CHUNK; fed <= TOTAL; fed += CHUNK) {
		mt_pkt_view pv;

		memset(&pv, 0, sizeof pv);
		h.fv.data[0] = buf;
		h.fv.len[0] = fed;
		h.fv.bytes[1] = 1; /* the pool has spoken: a request alone is decided at once */
		ck_assert_int_eq(mt_detect_stratum.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_DETECTED);
	}
	free(h.state);
	free(buf);
}
END_TEST

START_TEST(test_bad_lines_after_detection)
{
	harness h;

	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, btc_session[0].text);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(h_feed_str(&h, S2C, "garbage line\n"), MT_DETECTED);
	/* the direction was dropped after too many: later replies are not read */
	h_feed_str(&h, S2C, btc_session[1].text);
	ck_assert(h.ev.confidence < 0.61);
	h_free(&h);

	/* before detection: a few bad lines after a JSON first line are tolerated, then no more */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":9,\"method\":\"mining.extranonce.subscribe\",\"params\":[]}\n"), MT_UNDECIDED);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(h_feed_str(&h, C2S, "not json\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, "not json\n"), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_gap_resync)
{
	harness h;
	const char *n1 = btc_session[5].text;
	size_t n = strlen(n1);

	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, btc_session[0].text);
	h_feed_str(&h, S2C, btc_session[1].text);
	/* half a notify, then a hole: the rest of the line is lost and the next bytes are mid-line */
	h_feed(&h, S2C, n1, n / 2);
	h.fv.gap_off[1] = h.len[1];
	h_feed(&h, S2C, "00\",true]}\n", 11);
	ck_assert_uint_eq(h.ev.jobs, 0);
	h_feed_str(&h, S2C, n1);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert(h.ev.confidence > 0.97);
	h_free(&h);

	/* a hole before the pool's first line is complete: the fragment after it is forgiven */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":9,\"method\":\"mining.extranonce.subscribe\",\"params\":[]}\n"), MT_UNDECIDED);
	h_feed(&h, S2C, btc_session[1].text, 20);
	h.fv.gap_off[1] = h.len[1];
	ck_assert_int_eq(h_feed_str(&h, S2C, "000002\",4],\"error\":null}\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, btc_session[4].text), MT_DETECTED);
	h_free(&h);

	/* a hole inside a line whose two halves would glue into a valid object */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"mining.extranonce.subscribe\",\"params\":[]}\n{\"id\":2,\"meth");
	h.fv.gap_off[0] = h.len[0];
	h_feed_str(&h, C2S, "od\":\"mining.subscribe\",\"params\":[]}\n");
	ck_assert_int_eq(h.ans, MT_UNDECIDED);
	h_feed_str(&h, C2S, "{\"id\":3,\"method\":\"mining.subscribe\",\"params\":[]}\n");
	ck_assert_int_eq(h.ans, MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.subscribe request (id 3)");
	h_free(&h);
}
END_TEST

START_TEST(test_fin_tail)
{
	harness h;

	/* the last message without its newline counts when the direction closed */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}"), MT_UNDECIDED);
	h.fv.fin[0] = 1;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	h_free(&h);
	/* but not when it is cut */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]");
	h.fv.fin[0] = 1;
	ck_assert_int_ne(h_end(&h), MT_DETECTED);
	h_free(&h);
}
END_TEST

START_TEST(test_pending_ids)
{
	harness h;
	char line[160];

	/* string ids; a number id does not pair with the same text as a string */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":\"auth\",\"method\":\"mining.authorize\",\"params\":[\"w\",\"x\"]}\n");
	h_feed_str(&h, S2C, "{\"id\":\"1\",\"result\":true,\"error\":null}\n");
	ck_assert(h.ev.confidence < 0.61);
	h_feed_str(&h, S2C, "{\"id\":\"auth\",\"result\":true,\"error\":null}\n");
	ck_assert(h.ev.confidence > 0.89);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.authorize request answered (id auth)");
	h_free(&h);

	/* a reused id pairs with the oldest request that used it */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":7,\"method\":\"mining.subscribe\",\"params\":[]}\n");
	h_feed_str(&h, C2S, "{\"id\":7,\"method\":\"mining.authorize\",\"params\":[\"w\",\"x\"]}\n");
	h_feed_str(&h, S2C, "{\"id\":7,\"result\":[[[\"mining.notify\",\"1\"]],\"00\",4],\"error\":null}\n");
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.subscribe request answered (id 7)");
	h_free(&h);

	/* one id used for every submit (seen in the wild): replies pair first in, first out */
	h_init(&h, 0, 1);
	for (int i = 0; i < 3; i++)
		h_feed_str(&h, C2S, "{\"id\":4,\"method\":\"mining.submit\",\"params\":[\"w\",\"39f2\",\"16ee7c58\",\"43040000\",\"fd4005\"]}\n");
	h_feed_str(&h, S2C, "{\"id\":4,\"result\":true,\"error\":null}\n");
	h_feed_str(&h, S2C, "{\"id\":4,\"result\":true,\"error\":null}\n");
	h_feed_str(&h, S2C, "{\"id\":4,\"result\":false,\"error\":null}\n");
	h_feed_str(&h, S2C, "{\"id\":4,\"result\":true,\"error\":null}\n"); /* nothing left to pair */
	ck_assert_uint_eq(h.ev.shares, 3);
	ck_assert_uint_eq(h.ev.shares_accepted, 2);
	ck_assert_uint_eq(h.ev.shares_rejected, 1);
	h_free(&h);

	/* a bounded table: the oldest of many unanswered requests is forgotten */
	h_init(&h, 0, 1);
	for (int i = 0; i < 40; i++) {
		snprintf(line, sizeof line, "{\"id\":%d,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\",\"00\",\"00\",\"00\"]}\n", i);
		h_feed_str(&h, C2S, line);
	}
	h_feed_str(&h, S2C, "{\"id\":0,\"result\":true,\"error\":null}\n");
	ck_assert_uint_eq(h.ev.shares_accepted, 0);
	h_feed_str(&h, S2C, "{\"id\":39,\"result\":true,\"error\":null}\n");
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.shares, 40);
	h_free(&h);
}
END_TEST

static void login_case(const char *user, const char *wallet, const char *worker)
{
	harness h;
	char line[512];

	snprintf(line, sizeof line, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"%s\",\"x\"]}\n", user);
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, line), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_str_eq(h.ev.wallet, wallet);
	ck_assert_str_eq(h.ev.worker, worker);
	h_free(&h);
}

START_TEST(test_login_split)
{
	login_case("kvetak.worker1", "kvetak", "worker1");
	login_case("Bitcoin", "", "Bitcoin");
	login_case(WALLET_BTC, WALLET_BTC, "");
	login_case(ETH_ADDR, ETH_ADDR, "");
	login_case(ETH_ADDR ".rig1", ETH_ADDR, "rig1");
	login_case("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.s9", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "s9");
	login_case("team.rack.7", "team.rack", "7");
	login_case("t1d7wj89Zf2xgEKjqCtKjs3xudXUraUsYkc.c2h2lhome/c2h2@me.com", "t1d7wj89Zf2xgEKjqCtKjs3xudXUraUsYkc",
		   "c2h2lhome/c2h2@me.com");
	login_case("user.", "user", "");
	login_case("worker\\u0001x", "", "worker?x"); /* control characters never reach the evidence */
}
END_TEST

START_TEST(test_coinbase_tags)
{
	harness h;

	/* the tag at the start of coinb2 (KanoPool-like), and one in coinb1 behind its push length */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"params\":[\"5adf\",\"" PREVHASH "\",\"01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff360353fc070004e3c1ff5a04104cf8170c\","
			    "\"0a2ef09f90882e12204b616e6f506f6f6c20283d4f2e4f3d2920ffffffff02dcaf504c000000001976a914370c9767eeb3f6add5c0e4a6830ff6ea9aea773d88ac00000000\","
			    "[],\"20000000\",\"172f4f7b\",\"5b646476\",true],\"id\":null,\"method\":\"mining.notify\"}\n");
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert_str_eq(h.ev.coinbase_tag, "KanoPool (=O.O=)");
	h_free(&h);

	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"method\":\"mining.notify\",\"params\":[\"274a-1\",\"" PREVHASH "\",\"01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d03ea2908094269744d696e7465722cfabe6d6d2196c7396ac836fcb82b58f1782705b607dfd9cdba75deddf2b63de6cd90a435010000000000000009757334274a00000001\","
			    "\"ffffffff023073a74b000000001976a9145c0e4a6830ff6ea9aea773d75bc207299cd50b7488ac00000000\",[],\"20000000\",\"172f4f7b\",\"5b646476\",true],\"id\":1}\n");
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert_str_eq(h.ev.coinbase_tag, "BitMinter");
	h_free(&h);

	/* coinb2 pushes that end at the sequence are trusted: the next push length (',') is not tag */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"method\":\"mining.notify\",\"params\":[\"1\",\"" PREVHASH "\",\"" CB1_NOTAG "\","
			    "\"064d79506f6f6c2cfabe6d6d11111111111111111111111111111111111111111111111111111111111111110100000000000000ffffffff0100f2052a010000001976a914222222222222222222222222222222222222222288ac00000000\","
			    "[],\"20000000\",\"172f4f7b\",\"5b646476\",true]}\n");
	ck_assert_str_eq(h.ev.coinbase_tag, "MyPool");
	h_free(&h);

	/* no ffffffff sequence: raw runs, and a /slash/ tag beats a longer run from an output script */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"method\":\"mining.notify\",\"params\":[\"1\",\"" PREVHASH "\",\"" CB1_NOTAG "\","
			    "\"072f736c7573682f000000000200000000000000002c6a4c2952534b424c4f434b3a33333333333333333333333333333333333333333333333333333333333333330000000000000000000000000000000000000000\","
			    "[],\"20000000\",\"172f4f7b\",\"5b646476\",true]}\n");
	ck_assert_str_eq(h.ev.coinbase_tag, "/slush/");
	h_free(&h);

	/* misaligned pushes: raw runs, cut to the /tag/ */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"method\":\"mining.notify\",\"params\":[\"1\",\"" PREVHASH "\",\"" CB1_NOTAG "\","
			    "\"ab392f746167506f6f6c2fffffffff0100f2052a010000000000000000\",[],\"20000000\",\"172f4f7b\",\"5b646476\",true]}\n");
	ck_assert_str_eq(h.ev.coinbase_tag, "/tagPool/");
	h_free(&h);

	/* a KawPow job: its own shape and algorithm, no coin without a Ravencoin address (FiroPoW, MeowPoW send it too) */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"6a1\",\"" HDR "\",\"" SEED "\",\"00000000ff000000000000000000000000000000000000000000000000000000\",true,2143000,\"1b00f2c1\"]}\n");
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert(h.ev.confidence > 0.94 && h.ev.confidence < 0.96);
	ck_assert_str_eq(h.ev.algo, "kawpow");
	ck_assert_str_eq(h.ev.coin, "");
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_free(&h);

	/* no printable run worth the name: no tag */
	h_init(&h, 1, 0);
	h_feed_str(&h, S2C, "{\"method\":\"mining.notify\",\"params\":[\"1\",\"" PREVHASH "\",\"0100000001\",\"ffffffff00\",[],\"20000000\",\"172f4f7b\",\"5b646476\",false]}\n");
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert_str_eq(h.ev.coinbase_tag, "");
	h_free(&h);
}
END_TEST

START_TEST(test_udp_and_null_args)
{
	harness h;
	mt_pkt_view pv;

	h_init(&h, 0, 1);
	h.fv.l4proto = 17;
	ck_assert_int_eq(h_feed_str(&h, C2S, btc_session[0].text), MT_EXCLUDED);
	h_free(&h);

	memset(&pv, 0, sizeof pv);
	h_init(&h, 0, 1);
	ck_assert_int_eq(mt_detect_stratum.on_packet(NULL, NULL, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_stratum.on_packet(NULL, h.state, NULL, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_stratum.on_packet(NULL, h.state, &h.fv, NULL, &h.ev), MT_UNDECIDED);
	/* nothing yet in either direction */
	ck_assert_int_eq(mt_detect_stratum.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 17);
}

START_TEST(test_fuzz_session)
{
	/* mutate the session's bytes and cut it into random segments: any answer, never a crash */
	static char bytes[8192];
	static int dirs[8192];
	size_t ends[NMSG(btc_session)];
	size_t total = flatten(btc_session, NMSG(btc_session), bytes, dirs, sizeof bytes, ends);
	static const char alphabet[] = "{}[]\",:0123456789abcdef-.e \n\r\\untrfalsmig";

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
			size_t e = o + 1 + rnd() % 300;

			if (e > total)
				e = total;
			for (size_t j = o + 1; j < e; j++)
				if (dirs[j] != dirs[o]) {
					e = j;
					break;
				}
			h_feed(&h, dirs[o], m + o, e - o);
			o = e;
		}
		h_end(&h);
		if (h.ans == MT_DETECTED)
			ck_assert(h.ev.confidence >= 0.6 && h.ev.confidence <= 1.0);
		h_free(&h);
	}
}
END_TEST

/* ---- coin dialects: KawPow, EthereumStratum/2.0.0, Ergo, Kaspa ------------- */

#define RVN_ADDR "RAbCdEfGhJkLmNpQrStUvWxYz23456789a"
#define KAS_ADDR "kaspa:qqkqkzjvr7zwxxmjxjkmxxdwju9kjs6e9pz3ja7hhs4xqn5xnwrh7jx0zrkk2"
#define ERG_ADDR "9fAbCdEfGhJkLmNpQrStUvWxYz23456789abcdefghijkmnopqr"
#define KTGT "00000000ff000000000000000000000000000000000000000000000000000000"

/* kawpowminer "stratum" mode (EthStratumClient.cpp): notify [job, header, seed, target, clean, height, nbits] */
static const struct msgline kawpow_session[] = {
	{ C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"kawpowminer/1.2.4\"]}\n" },
	{ S2C, "{\"id\":1,\"result\":[null,\"0a1b\"],\"error\":null}\n" },
	{ C2S, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"" RVN_ADDR ".rig\",\"x\"]}\n" },
	{ S2C, "{\"id\":2,\"result\":true,\"error\":null}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.set_target\",\"params\":[\"" KTGT "\"]}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"abcd\",\"" HDR "\",\"" SEED "\",\"" KTGT "\",true,3000000,\"1b00ffff\"]}\n" },
	{ C2S, "{\"id\":40,\"method\":\"mining.submit\",\"params\":[\"" RVN_ADDR ".rig\",\"abcd\",\"0x0a1b000000001234\",\"0x" HDR "\",\"0x" SEED "\"]}\n" },
	{ S2C, "{\"id\":40,\"result\":true,\"error\":null}\n" },
};

/* EIP-1571 */
static const struct msgline es2_session[] = {
	{ C2S, "{\"id\":0,\"method\":\"mining.hello\",\"params\":{\"agent\":\"ethminer-0.19.0\",\"host\":\"es2.example.com\",\"port\":\"d19\",\"proto\":\"EthereumStratum/2.0.0\"}}\n" },
	{ S2C, "{\"id\":0,\"result\":{\"proto\":\"EthereumStratum/2.0.0\",\"encoding\":\"plain\",\"resume\":\"1\",\"timeout\":\"b4\",\"maxerrors\":\"5\",\"node\":\"n/1\"}}\n" },
	{ C2S, "{\"id\":1,\"method\":\"mining.subscribe\"}\n" },
	{ S2C, "{\"id\":1,\"result\":\"s-12345\"}\n" },
	{ C2S, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"" ETH_ADDR ".rig1\",\"x\"]}\n" },
	{ S2C, "{\"id\":2,\"result\":\"w-123\"}\n" },
	{ S2C, "{\"method\":\"mining.set\",\"params\":{\"epoch\":\"dc\",\"target\":\"0112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba\",\"algo\":\"ethash\",\"extranonce\":\"af4c\"}}\n" },
	{ S2C, "{\"method\":\"mining.notify\",\"params\":[\"bf0488aa\",\"6526d5\",\"" HDR "\",\"0\"]}\n" },
	{ C2S, "{\"id\":40,\"method\":\"mining.submit\",\"params\":[\"bf0488aa\",\"68765fccd712\",\"w-123\"]}\n" },
	{ S2C, "{\"id\":40}\n" },
	{ C2S, "{\"id\":41,\"method\":\"mining.submit\",\"params\":[\"bf0488aa\",\"68765fccd7ff\",\"w-123\"]}\n" },
	{ S2C, "{\"id\":41,\"error\":{\"code\":202,\"message\":\"Stale\"}}\n" },
	{ C2S, "{\"id\":42,\"method\":\"mining.submit\",\"params\":[\"bf0488aa\",\"68765fccd700\",\"w-123\"]}\n" },
	{ S2C, "{\"id\":42,\"error\":{\"code\":406,\"message\":\"Bad nonce\"}}\n" },
	{ C2S, "{\"id\":9,\"method\":\"mining.hashrate\",\"params\":[\"1c9c380\",\"w-123\"]}\n" },
};

/* Miningcore's Ergo pool (ErgoJob.GetJobParams, ErgoJobManager submit) */
static const struct msgline ergo_session[] = {
	{ C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"TeamRedMiner/0.10.10\"]}\n" },
	{ S2C, "{\"id\":1,\"result\":[null,\"6a0d\",6],\"error\":null}\n" },
	{ C2S, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"" ERG_ADDR ".rig\",\"x\"]}\n" },
	{ S2C, "{\"id\":2,\"result\":true,\"error\":null}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[1]}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1a2b\",1100000,\"" HDR "\",\"\",\"\",2,\"28948022309329048855892746252171976963317496166410141009864396001978282409984\",\"\",true]}\n" },
	{ C2S, "{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"" ERG_ADDR ".rig\",\"1a2b\",\"00112233\",\"undefined\",\"6a0d00112233\"]}\n" },
	{ S2C, "{\"id\":3,\"result\":true,\"error\":null}\n" },
};

/* kaspa-stratum-bridge (gostratum default_client.go, client_handler.go) */
static const struct msgline kaspa_session[] = {
	{ C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"lolMiner/1.88\",\"EthereumStratum/1.0.0\"]}\n" },
	{ S2C, "{\"id\":1,\"result\":[true,\"EthereumStratum/1.0.0\"],\"error\":null}\n" },
	{ C2S, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"" KAS_ADDR ".rig1\",\"x\"]}\n" },
	{ S2C, "{\"id\":2,\"result\":true,\"error\":null}\n" },
	{ S2C, "{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[4096]}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"method\":\"mining.notify\",\"id\":7,\"params\":[\"7\",[1234567890123,987654321,111,222],1700000000000]}\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"method\":\"mining.notify\",\"id\":8,\"params\":[\"8\",\"" HDR "0000018bcfe56800\"]}\n" },
	{ C2S, "{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"" KAS_ADDR ".rig1\",\"7\",\"0x3ff2a1b2c3d4e5f6\"]}\n" },
	{ S2C, "{\"id\":3,\"result\":true,\"error\":null}\n" },
};

START_TEST(test_kawpow_session)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_run(&h, kawpow_session, 5), MT_DETECTED);
	ck_assert_str_eq(h.ev.coin, ""); /* a 256-bit set_target alone is not Zcash's */
	ck_assert_str_eq(h.ev.algo, "");
	ck_assert_int_eq(h_run(&h, kawpow_session + 5, NMSG(kawpow_session) - 5), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "stratum");
	ck_assert_str_eq(h.ev.coin, "RVN");
	ck_assert_str_eq(h.ev.algo, "kawpow");
	ck_assert(h.ev.confidence > 0.97 && h.ev.confidence < 0.99);
	ck_assert_str_eq(h.ev.wallet, RVN_ADDR);
	ck_assert_str_eq(h.ev.worker, "rig");
	ck_assert_str_eq(h.ev.target, KTGT);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	/* the share counts 2^256 / (0xff << 216) = 2^40 / 255 hashes */
	ck_assert_uint_eq(h.ev.shares_diff, 1);
	ck_assert_uint_eq(h.ev.diff_is_hashes, 1);
	ck_assert(h.ev.share_diff_sum > 0x1p40 / 255 * (1 - 1e-9) && h.ev.share_diff_sum < 0x1p40 / 255 * (1 + 1e-9));
	h_free(&h);

	/* a FiroPoW / MeowPoW pool: the same job, another address: no coin */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"aEF8ARzbxTfg8Ar3Tn5JbDqWVBzNdW4p6v.rig\",\"x\"]}\n");
	h_feed_str(&h, S2C, kawpow_session[5].text);
	ck_assert_str_eq(h.ev.algo, "kawpow");
	ck_assert_str_eq(h.ev.coin, "");
	h_free(&h);
}
END_TEST

START_TEST(test_es2_session)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, es2_session[0].text), MT_UNDECIDED);
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	ck_assert_str_eq(h.ev.agent, "ethminer-0.19.0");
	ck_assert_str_eq(h.ev.pool_host, "es2.example.com");
	ck_assert_int_eq(h_feed_str(&h, S2C, es2_session[1].text), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.89 && h.ev.confidence < 0.91);
	ck_assert_str_eq(h.ev.evidence, "stratum: mining.hello request answered (id 0) (EthereumStratum/2.0.0)");
	ck_assert_int_eq(h_run(&h, es2_session + 2, NMSG(es2_session) - 2), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	ck_assert_str_eq(h.ev.algo, "ethash");
	ck_assert_str_eq(h.ev.coin, "");
	ck_assert(h.ev.confidence > 0.97 && h.ev.confidence < 0.99);
	ck_assert_str_eq(h.ev.wallet, ETH_ADDR);
	ck_assert_str_eq(h.ev.worker, "rig1"); /* from authorize; the submit's first param is the job */
	ck_assert_str_eq(h.ev.target, "0112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba");
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_uint_eq(h.ev.shares, 3);
	ck_assert_uint_eq(h.ev.shares_accepted, 2); /* {"id":40}, and the stale 202 */
	ck_assert_uint_eq(h.ev.shares_rejected, 1);
	ck_assert(h.ev.reported_hashrate_hs == 30000000.0); /* 0x1c9c380 */
	ck_assert_uint_eq(h.ev.shares_diff, 3);
	ck_assert_uint_eq(h.ev.diff_is_hashes, 1);
	h_free(&h);

	/* from mid-session: mining.set switches the grammar on; an algorithm it names is taken */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"method\":\"mining.set\",\"params\":{\"algo\":\"etchash\",\"target\":\"00000001\"}}\n"),
			 MT_DETECTED);
	ck_assert_str_eq(h.ev.algo, "etchash");
	ck_assert_int_eq(h_feed_str(&h, S2C, es2_session[7].text), MT_DETECTED);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	h_free(&h);

	/* without the EIP-1571 grammar a [job, nonce, token] submit is no share of anyone's worker */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, es2_session[8].text);
	h_end(&h);
	ck_assert_int_ne(h.ans, MT_DETECTED);
	ck_assert_str_eq(h.ev.worker, "");
	h_free(&h);
}
END_TEST

START_TEST(test_ergo_kaspa_sessions)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_run(&h, ergo_session, NMSG(ergo_session)), MT_DETECTED);
	ck_assert_str_eq(h.ev.coin, "ERG");
	ck_assert_str_eq(h.ev.algo, "autolykos2");
	ck_assert(h.ev.confidence > 0.97 && h.ev.confidence < 0.99);
	ck_assert_str_eq(h.ev.wallet, ERG_ADDR);
	ck_assert_str_eq(h.ev.worker, "rig");
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_uint_eq(h.ev.shares, 1); /* the unused ntime ("undefined") does not hide the share */
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	h_free(&h);

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_run(&h, kaspa_session, 2), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.89 && h.ev.confidence < 0.91); /* the bridge's [true, proto] answer */
	ck_assert_str_eq(h.ev.protocol, "ethereum-stratum");
	ck_assert_int_eq(h_run(&h, kaspa_session + 2, NMSG(kaspa_session) - 2), MT_DETECTED);
	ck_assert_str_eq(h.ev.coin, "KAS");
	ck_assert_str_eq(h.ev.algo, "kheavyhash");
	ck_assert_str_eq(h.ev.wallet, KAS_ADDR);
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert_uint_eq(h.ev.jobs, 2); /* both job forms */
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert(h.ev.difficulty == 4096);
	h_free(&h);

	/* the Kaspa job shape without a kaspa: address names nothing (Karlsen, Pyrin send it too) */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, kaspa_session[5].text), MT_DETECTED);
	ck_assert(h.ev.confidence > 0.94 && h.ev.confidence < 0.96);
	ck_assert_str_eq(h.ev.coin, "");
	ck_assert_str_eq(h.ev.algo, "");
	h_free(&h);
}
END_TEST

/* Every truncation of every new message kind: a session cut inside it says what the session before it said. */
static void dialect_truncations(const struct msgline *s, size_t n)
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
			ck_assert_str_eq(h.ev.coin, base.ev.coin);
			ck_assert_str_eq(h.ev.algo, base.ev.algo);
			ck_assert_str_eq(h.ev.target, base.ev.target);
			ck_assert_uint_eq(h.ev.shares, base.ev.shares);
			ck_assert_uint_eq(h.ev.shares_accepted, base.ev.shares_accepted);
			ck_assert_uint_eq(h.ev.shares_rejected, base.ev.shares_rejected);
			ck_assert_uint_eq(h.ev.jobs, base.ev.jobs);
			h_free(&h);
		}
		h_free(&base);
	}
}

START_TEST(test_dialect_truncations)
{
	dialect_truncations(kawpow_session, NMSG(kawpow_session));
	dialect_truncations(es2_session, NMSG(es2_session));
	dialect_truncations(ergo_session, NMSG(ergo_session));
	dialect_truncations(kaspa_session, NMSG(kaspa_session));
}
END_TEST

START_TEST(test_dialect_lookalikes)
{
	static const char *const pushes[] = {
		/* KawPow with a string height, a 7th field that is not nbits, a missing clean flag */
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"abcd\",\"" HDR "\",\"" SEED "\",\"" KTGT "\",true,\"3000000\",\"1b00ffff\"]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"abcd\",\"" HDR "\",\"" SEED "\",\"" KTGT "\",true,3000000,\"nbits\"]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"abcd\",\"" HDR "\",\"" SEED "\",\"" KTGT "\",3000000,\"1b00ffff\",true]}\n",
		/* Ergo with filled reserved fields, a string height */
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1a2b\",1100000,\"" HDR "\",\"x\",\"\",2,\"1\",\"\",true]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"1a2b\",\"1100000\",\"" HDR "\",\"\",\"\",2,\"1\",\"\",true]}\n",
		/* Kaspa with 3 words, a negative word, a 79-digit big job */
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"7\",[1,2,3],1700000000000]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"7\",[1,-2,3,4],1700000000000]}\n",
		"{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"8\",\"" HDR "0000018bcfe5680\"]}\n",
		/* EIP-1571 notify with a 17-digit height, a clean flag "2"; mining.set with a non-hex target or no known member */
		"{\"method\":\"mining.notify\",\"params\":[\"bf0488aa\",\"6526d5000000000001\",\"" HDR "\",\"0\"]}\n",
		"{\"method\":\"mining.notify\",\"params\":[\"bf0488aa\",\"6526d5\",\"" HDR "\",\"2\"]}\n",
		"{\"method\":\"mining.set\",\"params\":{\"target\":\"xyz\"}}\n",
		"{\"method\":\"mining.set\",\"params\":{\"colour\":\"blue\"}}\n",
		"{\"method\":\"mining.set\",\"params\":[\"dc\"]}\n",
	};
	static const char *const requests[] = {
		/* mining.hello without the protocol name, with params as an array */
		"{\"id\":0,\"method\":\"mining.hello\",\"params\":{\"agent\":\"x\",\"host\":\"h\",\"port\":\"d19\"}}\n",
		"{\"id\":0,\"method\":\"mining.hello\",\"params\":[\"x\",\"EthereumStratum/2.0.0\"]}\n",
		/* an Ergo-style submit whose extranonce2 is empty */
		"{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"w.rig\",\"1a2b\",\"\",\"undefined\",\"6a0d00112233\"]}\n",
	};

	for (size_t i = 0; i < NMSG(pushes); i++) {
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, S2C, pushes[i]);
		h_end(&h);
		/* flat params with two hashes and a flag stay the generic job (0.8), naming nothing */
		ck_assert(h.ans != MT_DETECTED || h.ev.confidence < 0.81);
		ck_assert_str_eq(h.ev.algo, "");
		ck_assert_str_eq(h.ev.coin, "");
		ck_assert_str_ne(h.ev.protocol, "ethereum-stratum");
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

static Suite *stratum_suite(void)
{
	Suite *s = suite_create("detect_stratum");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interface);
	tcase_add_test(tc, test_prefilter);
	tcase_add_test(tc, test_btc_session);
	tcase_add_test(tc, test_btc_permuted);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_midstream_mid_notify);
	tcase_add_test(tc, test_direction_uncertain);
	tcase_add_test(tc, test_client_only_probe);
	tcase_add_test(tc, test_zcash_session);
	tcase_add_test(tc, test_ethereum_stratum);
	tcase_add_test(tc, test_algo_strength);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_pgsql_lookalike);
	tcase_add_test(tc, test_wrong_shapes);
	tcase_add_test(tc, test_huge_line);
	tcase_add_test(tc, test_bad_lines_after_detection);
	tcase_add_test(tc, test_gap_resync);
	tcase_add_test(tc, test_fin_tail);
	tcase_add_test(tc, test_pending_ids);
	tcase_add_test(tc, test_login_split);
	tcase_add_test(tc, test_coinbase_tags);
	tcase_add_test(tc, test_udp_and_null_args);
	tcase_add_test(tc, test_fuzz_session);
	tcase_add_test(tc, test_kawpow_session);
	tcase_add_test(tc, test_es2_session);
	tcase_add_test(tc, test_ergo_kaspa_sessions);
	tcase_add_test(tc, test_dialect_truncations);
	tcase_add_test(tc, test_dialect_lookalikes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stratum_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
