/* test_detect_cryptonote.c - the CryptoNote pool detector fed hand-built streams the way the engine feeds it: sessions, splits, truncations, look-alikes. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "mt_detect_harness.h"

#define DET mt_detect_cryptonote

static const uint8_t cli_addr[16] = { 10, 0, 0, 21 };
static const uint8_t srv_addr[16] = { 203, 0, 113, 9 };
static const h_ends flow_ends = { cli_addr, srv_addr, 51234, 3333 };

/* What every DETECTED answer of this detector must look like. */
static void check_detected(const mt_evidence *ev)
{
	ck_assert_str_eq(ev->protocol, "cryptonote-stratum");
}

static void h_init(harness *h, int midstream, int dir_certain)
{
	h_setup(h, &mt_detect_cryptonote, &flow_ends, midstream, dir_certain);
	h->on_detect = check_detected;
	h->ev_only_when_detected = 1;
}

static int conf_is(const harness *h, double want)
{
	return h->ev.confidence > want - 0.001 && h->ev.confidence < want + 0.001;
}

/* ---- sessions -------------------------------------------------------------- */


#define C2S 0
#define S2C 1
#define NMSG(a) (sizeof(a) / sizeof((a)[0]))

/* Made-up addresses of the right alphabets and lengths. */
#define WALLET "4AMASi45ub7Qe4ZE36UT5G6cU4ud8Fhhe4deS4F3cw9KTAb8dLcukC7edhDQ7cn5d4gEYkbUrMWeWQLGsCmrG6dLaYyNoVK"
#define SUBADDR "8Bf58ZTBqNAYT3j5qcdsyuMNmPfYetW5v6JXmj54omLidkuVKnRyjP2WPBg8Y4ErK9pGSSxY6BVScJy9uUxcJnTPkyRFA6C"
#define INTEGRATED "4CAFjF1YveCHK1ATbQgdM9mwZgikp4WzxrxktcSSSS7XhS4D5EVB8Nf471dAb7Qg25xEgRAhHPfQX88wYWXXL6A7pNpHXvmBa2EaQAmb2q"
#define WOW_ADDR "WoaLix6mwHaQBPrFbbrZNhFgtsqwDtGuSptFDaYPo22sJXHDmfPVtoPQ6F7FXDNEXgzgv1XiPti6vj8RsnqDXyCUshN6toSWS"
#define PAYID "cb2b73415c4faf214035a73b9d947c202342f3bf3bdf632132bd6d7af98cb257"
#define AGENT "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"
#define BLOB1 "255404e4fb440034d6608697a8d41bed440e50454f31af3176813e02ea68ef786e4d3cea27d26934b484e73cf575dcad6ba2b0aee0ca923732881584d8c4fa2815d2802827283e0ad8417358"
#define BLOB2 "1569969e58b081006f7e3dfc967a64cb14028d512c9791e558e08baa7196b50ac2f86702824c1c099724caf4941d4072014b3ce107f80e222f828767efc2f91624a8940f1f836f99eee3692f"
#define SEED "09e2e8c662248b483b7ffc050fec94dbca3a0aac36098b2cc2bd818319478da6"
#define RES1 "c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100"
#define RES2 "f84596a48e57683f6b5608cc5d34f4ea1f64dbfa2ba397b9142626b9d9b90100"
#define RES3 "34906d8560e40212805f06a75747909ece0e79f74c139b0f939bc91115840000"
#define TARGET8 "471b47acc5a70000" /* 8-byte target of difficulty 100000 */

#define LOGIN_LINE "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"" WALLET ".rig7\",\"pass\":\"x\",\"agent\":\"" AGENT "\",\"rigid\":null,\"algo\":[\"cn/0\",\"cn/1\",\"cn/2\",\"cn/r\",\"rx/0\",\"rx/wow\",\"argon2/chukwa\"]}}\n"
#define LOGIN_REPLY "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"a3b0c4d2\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j1\",\"target\":\"dc460300\",\"algo\":\"rx/0\",\"height\":3000000,\"seed_hash\":\"" SEED "\"},\"extensions\":[\"algo\",\"nicehash\",\"connect\",\"tls\",\"keepalive\"],\"status\":\"OK\"}}\n"
#define SUBMIT(id, job, nonce, res) "{\"id\":" id ",\"jsonrpc\":\"2.0\",\"method\":\"submit\",\"params\":{\"id\":\"a3b0c4d2\",\"job_id\":\"" job "\",\"nonce\":\"" nonce "\",\"result\":\"" res "\",\"algo\":\"rx/0\"}}\n"
#define OK_REPLY(id) "{\"id\":" id ",\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"status\":\"OK\"}}\n"
#define JOB_PUSH "{\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":{\"blob\":\"" BLOB2 "\",\"job_id\":\"j2\",\"target\":\"" TARGET8 "\",\"algo\":\"rx/0\",\"height\":3000001,\"seed_hash\":\"" SEED "\"}}\n"

/* An XMRig session: login, a share, keepalive, a new job, a rejected and an accepted share. */
static const struct msgline xmrig_session[] = {
	{ C2S, LOGIN_LINE },
	{ S2C, LOGIN_REPLY },
	{ C2S, SUBMIT("2", "j1", "98024001", RES1) },
	{ S2C, OK_REPLY("2") },
	{ C2S, "{\"id\":3,\"jsonrpc\":\"2.0\",\"method\":\"keepalived\",\"params\":{\"id\":\"a3b0c4d2\"}}\n" },
	{ S2C, "{\"id\":3,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"status\":\"KEEPALIVED\"}}\n" },
	{ S2C, JOB_PUSH },
	{ C2S, SUBMIT("4", "j2", "b1038001", RES2) },
	{ S2C, "{\"id\":4,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":\"Low difficulty share\"}}\n" },
	{ C2S, SUBMIT("5", "j2", "63058000", RES3) },
	{ S2C, OK_REPLY("5") },
};

/* The same session with keys reordered, white space added and CRLF line ends. */
static const struct msgline xmrig_permuted[] = {
	{ C2S, "  { \"params\" : { \"algo\" : [ \"cn/0\", \"cn/1\", \"cn/2\", \"cn/r\", \"rx/0\", \"rx/wow\", \"argon2/chukwa\" ], \"rigid\" : null,"
	       " \"agent\" : \"" AGENT "\", \"pass\" : \"x\", \"login\" : \"" WALLET ".rig7\" },\t\"method\" : \"login\", \"jsonrpc\" : \"2.0\", \"id\" : 1 }\r\n" },
	{ S2C, "{\"result\": {\"status\": \"OK\", \"extensions\": [\"algo\", \"nicehash\", \"connect\", \"tls\", \"keepalive\"], \"job\": {\"seed_hash\": \"" SEED "\","
	       " \"height\": 3000000, \"algo\": \"rx/0\", \"target\": \"dc460300\", \"job_id\": \"j1\", \"blob\": \"" BLOB1 "\"}, \"id\": \"a3b0c4d2\"}, \"error\": null, \"jsonrpc\": \"2.0\", \"id\": 1}\r\n" },
	{ C2S, "{\"method\":\"submit\",\"params\":{\"result\":\"" RES1 "\",\"nonce\":\"98024001\",\"job_id\":\"j1\",\"id\":\"a3b0c4d2\",\"algo\":\"rx/0\"},\"id\":2}\r\n" },
	{ S2C, "{ \"result\" : { \"status\" : \"OK\" } , \"error\" : null , \"id\" : 2 }\r\n" },
	{ C2S, "{\"params\":{\"id\":\"a3b0c4d2\"},\"method\":\"keepalived\",\"id\":3}\r\n" },
	{ S2C, "{\"result\":{\"status\":\"KEEPALIVED\"},\"id\":3}\r\n" },
	{ S2C, "\r\n{\"params\":{\"target\":\"" TARGET8 "\",\"seed_hash\":\"" SEED "\",\"job_id\":\"j2\",\"height\":3000001,\"algo\":\"rx/0\",\"blob\":\"" BLOB2 "\"},\"method\":\"job\"}\r\n" },
	{ C2S, "{\"params\":{\"algo\":\"rx/0\",\"job_id\":\"j2\",\"result\":\"" RES2 "\",\"nonce\":\"b1038001\",\"id\":\"a3b0c4d2\"},\"id\":4,\"method\":\"submit\"}\r\n" },
	{ S2C, "{\"error\":{\"message\":\"Low difficulty share\",\"code\":-1},\"id\":4}\r\n" },
	{ C2S, "{\"id\":5,\"params\":{\"nonce\":\"63058000\",\"result\":\"" RES3 "\",\"job_id\":\"j2\"},\"method\":\"submit\"}\r\n" },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"status\":\"OK\"}}\r\n" },
};

static void check_xmrig_evidence(const mt_evidence *e)
{
	ck_assert_int_eq(e->event, MT_EVENT_MINING);
	ck_assert_str_eq(e->protocol, "cryptonote-stratum");
	ck_assert_str_eq(e->coin, "XMR");
	ck_assert_str_eq(e->algo, "rx/0");
	ck_assert(e->confidence > 0.979 && e->confidence < 0.981);
	ck_assert_str_eq(e->evidence, "cryptonote: job push after an answered request");
	ck_assert_str_eq(e->detector, ""); /* the engine's field */
	ck_assert_str_eq(e->pool_host, "");
	ck_assert_str_eq(e->wallet, WALLET);
	ck_assert_str_eq(e->worker, "rig7");
	ck_assert_str_eq(e->agent, AGENT);
	ck_assert_str_eq(e->target, TARGET8);
	ck_assert_str_eq(e->coinbase_tag, "");
	ck_assert_uint_eq(e->has_difficulty, 1);
	ck_assert(e->difficulty == 100000.0);
	ck_assert(e->reported_hashrate_hs == 0);
	ck_assert(e->hashrate_hs == 0);
	ck_assert_str_eq(e->hashrate_basis, "");
	ck_assert_uint_eq(e->shares, 3);
	ck_assert_uint_eq(e->shares_accepted, 2);
	ck_assert_uint_eq(e->shares_rejected, 1);
	ck_assert_uint_eq(e->jobs, 2);
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
	ck_assert_uint_eq(DET.api_version, MT_DETECTOR_API_VERSION);
	ck_assert_str_eq(DET.name, "cryptonote");
	ck_assert_uint_eq(DET.wants, MT_WANT_TCP);
	ck_assert_uint_ge(DET.max_packets, 64);
	ck_assert_uint_le(DET.max_packets, 1024);
	ck_assert_uint_gt(DET.state_size, 0);
	ck_assert_uint_le(DET.state_size, 1024); /* fixed, small, no per-packet allocation */
	ck_assert_ptr_nonnull(DET.on_packet);
	ck_assert_ptr_nonnull(DET.description);
}
END_TEST

START_TEST(test_xmrig_session)
{
	harness h;
	uint32_t v;

	h_init(&h, 0, 1);
	/* the login alone decides only once the pool has answered (or the flow ends) */
	ck_assert_int_eq(h_feed_str(&h, C2S, xmrig_session[0].text), MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.version, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, xmrig_session[1].text), MT_DETECTED);
	ck_assert(conf_is(&h, 0.95));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: login request answered with a job (id 1)");
	ck_assert_str_eq(h.ev.wallet, WALLET);
	ck_assert_str_eq(h.ev.target, "dc460300");
	ck_assert(h.ev.difficulty == 20000.0);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert_uint_eq(h.ev.shares, 0);
	for (size_t i = 2; i < 6; i++)
		ck_assert_int_eq(h_feed_str(&h, xmrig_session[i].dir, xmrig_session[i].text), MT_DETECTED);
	ck_assert(conf_is(&h, 0.95)); /* answered requests add nothing to an answered login */
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	for (size_t i = 6; i < NMSG(xmrig_session); i++)
		ck_assert_int_eq(h_feed_str(&h, xmrig_session[i].dir, xmrig_session[i].text), MT_DETECTED);
	check_xmrig_evidence(&h.ev);
	/* nothing new: the version stays */
	v = h.ev.version;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_uint_eq(h.ev.version, v);
	h_free(&h);
}
END_TEST

START_TEST(test_permuted)
{
	harness a, b;

	h_init(&a, 0, 1);
	h_init(&b, 0, 1);
	ck_assert_int_eq(h_run(&a, xmrig_session, NMSG(xmrig_session)), MT_DETECTED);
	ck_assert_int_eq(h_run(&b, xmrig_permuted, NMSG(xmrig_permuted)), MT_DETECTED);
	check_xmrig_evidence(&b.ev);
	ck_same_evidence(&a.ev, &b.ev);
	h_free(&a);
	h_free(&b);
}
END_TEST

START_TEST(test_pipelined)
{
	harness a, h;
	char c2s[8192], s2c[8192];
	size_t nc = 0, ns = 0;

	for (size_t i = 0; i < NMSG(xmrig_session); i++) {
		size_t n = strlen(xmrig_session[i].text);

		if (xmrig_session[i].dir == C2S) {
			ck_assert_uint_le(nc + n, sizeof c2s);
			memcpy(c2s + nc, xmrig_session[i].text, n);
			nc += n;
		} else {
			ck_assert_uint_le(ns + n, sizeof s2c);
			memcpy(s2c + ns, xmrig_session[i].text, n);
			ns += n;
		}
	}
	h_init(&a, 0, 1);
	h_run(&a, xmrig_session, NMSG(xmrig_session));
	/* every request in one segment (held: nothing written), then every reply and push in one */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed(&h, C2S, c2s, nc), MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.version, 0);
	ck_assert_int_eq(h_feed(&h, S2C, s2c, ns), MT_DETECTED);
	ck_same_evidence(&a.ev, &h.ev);
	check_xmrig_evidence(&h.ev);
	h_free(&h);
	h_free(&a);
}
END_TEST

START_TEST(test_every_split)
{
	harness ref;

	h_init(&ref, 0, 1);
	h_run(&ref, xmrig_session, NMSG(xmrig_session));
	for (size_t m = 0; m < NMSG(xmrig_session); m++) {
		size_t n = strlen(xmrig_session[m].text);

		for (size_t cut = 1; cut < n; cut++) {
			harness h;

			h_init(&h, 0, 1);
			for (size_t i = 0; i < NMSG(xmrig_session); i++) {
				const char *t = xmrig_session[i].text;

				if (i == m) {
					h_feed(&h, xmrig_session[i].dir, t, cut);
					h_feed(&h, xmrig_session[i].dir, t + cut, n - cut);
				} else {
					h_feed_str(&h, xmrig_session[i].dir, t);
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
	h_run(&ref, xmrig_session, NMSG(xmrig_session));
	h_init(&h, 0, 1);
	for (size_t i = 0; i < NMSG(xmrig_session); i++) {
		const char *t = xmrig_session[i].text;
		size_t n = strlen(t);

		for (size_t k = 0; k < n; k++) {
			int a = h_feed(&h, xmrig_session[i].dir, t + k, 1);

			if (i == 0) /* the login alone, even whole, waits for the pool */
				ck_assert_int_eq(a, MT_UNDECIDED);
			if (i == 1 && k == 0) { /* the pool's first byte releases it */
				ck_assert_int_eq(a, MT_DETECTED);
				ck_assert(conf_is(&h, 0.6));
				ck_assert_str_eq(h.ev.evidence, "cryptonote: login request (id 1)");
			}
		}
	}
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_same_evidence(&ref.ev, &h.ev);
	check_xmrig_evidence(&h.ev);
	h_free(&h);
	h_free(&ref);
}
END_TEST

/* The whole session as one byte sequence with each byte's direction, to cut anywhere. */
static size_t flatten(const struct msgline *s, size_t n, char *bytes, int *dirs, size_t cap, size_t *ends)
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

/* Feeds bytes[0, cut) in runs of one direction, each run cut after its newlines. */
static void feed_prefix(harness *h, const char *bytes, const int *dirs, size_t cut)
{
	size_t o = 0;

	while (o < cut) {
		size_t e = o;

		while (e < cut && dirs[e] == dirs[o] && (e == o || bytes[e - 1] != '\n'))
			e++;
		h_feed(h, dirs[o], bytes + o, e - o);
		o = e;
	}
}

START_TEST(test_every_truncation)
{
	static char bytes[8192];
	static int dirs[8192];
	size_t ends[NMSG(xmrig_session)];
	size_t total = flatten(xmrig_session, NMSG(xmrig_session), bytes, dirs, sizeof bytes, ends);
	double prev = 0;

	for (size_t cut = 0; cut <= total; cut++) {
		harness h;
		double want;

		h_init(&h, 0, 1);
		feed_prefix(&h, bytes, dirs, cut);
		/* a decisive message counts only once its newline is in */
		if (cut < ends[0])
			want = 0;
		else if (cut < ends[1])
			want = cut == ends[0] ? 0 : 0.6; /* a login alone waits for the pool's first byte */
		else if (cut < ends[6])
			want = 0.95;
		else
			want = 0.98;
		if (want == 0) {
			ck_assert_int_eq(h.ans, MT_UNDECIDED);
			ck_assert_uint_eq(h.ev.version, 0);
		} else {
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert(conf_is(&h, want));
		}
		ck_assert(h.ev.confidence >= prev);
		prev = h.ev.confidence;
		/* the flow ending mid-line changes nothing: a fragment is not a message */
		h_end(&h);
		if (cut == ends[0])
			want = 0.6; /* the login alone, at the end of the flow */
		if (want == 0) {
			ck_assert_int_ne(h.ans, MT_DETECTED);
			ck_assert_uint_eq(h.ev.version, 0);
		} else {
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert(conf_is(&h, want));
			ck_assert_str_eq(h.ev.wallet, WALLET);
			ck_assert_str_eq(h.ev.agent, AGENT);
		}
		if (cut == total)
			check_xmrig_evidence(&h.ev);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_midstream)
{
	harness h;
	const char *push = JOB_PUSH;
	size_t n = strlen(push);

	/* capture begins in the middle of a job push (no SYN seen) */
	h_init(&h, 1, 1);
	ck_assert_int_eq(h_feed(&h, S2C, push + n / 2, n - n / 2), MT_UNDECIDED);
	/* a share alone, the pool having spoken: decided at once */
	ck_assert_int_eq(h_feed_str(&h, C2S, SUBMIT("9", "j2", "63058000", RES3)), MT_DETECTED);
	ck_assert(conf_is(&h, 0.6));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: submit request (id 9)");
	ck_assert_str_eq(h.ev.algo, "rx/0"); /* the share names it */
	ck_assert_int_eq(h_feed_str(&h, S2C, OK_REPLY("9")), MT_DETECTED);
	ck_assert(conf_is(&h, 0.9));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: submit request answered (id 9)");
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.jobs, 0); /* the cut push did not count */
	ck_assert_int_eq(h_feed_str(&h, S2C, push), MT_DETECTED);
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert(conf_is(&h, 0.98));
	ck_assert_str_eq(h.ev.wallet, ""); /* the login was before the capture */
	ck_assert(h.ev.difficulty == 100000.0);
	h_free(&h);

	/* midstream where the capture happens to start at a line boundary: the line counts */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, push), MT_DETECTED);
	ck_assert(conf_is(&h, 0.95));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: job push");
	h_free(&h);

	/* the answer to a login the capture missed */
	h_init(&h, 1, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, LOGIN_REPLY), MT_DETECTED);
	ck_assert(conf_is(&h, 0.9));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: login answer with a job (id 1)");
	ck_assert_uint_eq(h.ev.jobs, 1);
	ck_assert(h.ev.difficulty == 20000.0);
	h_free(&h);

	/* midstream garbage that is not this protocol: the first whole line decides */
	h_init(&h, 1, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, "tail of something\nGET / HTTP/1.1\r\n"), MT_EXCLUDED);
	h_free(&h);
	/* binary before any newline */
	h_init(&h, 1, 1);
	ck_assert_int_eq(h_feed(&h, S2C, "\x00\x01\x02\x03{\"a\"", 8), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_direction_uncertain)
{
	harness h;

	/* the engine guessed the roles wrong: the pool's push arrives as "c2s" */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, C2S, JOB_PUSH), MT_DETECTED);
	h_free(&h);

	/* with certain roles, a client method from the server and a push from the client are not the grammar */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, LOGIN_LINE), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"keepalived\",\"params\":{}}\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, JOB_PUSH), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

START_TEST(test_login_alone)
{
	harness h;
	static const char *const replies[] = {
		NULL,
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n400 Bad Request",
		"{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}\n",
		"{\"id\":2,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"x\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc4603\"},\"status\":\"OK\"}}\n",
		"\x15\x03\x01\x00\x02\x02\x28",
	};

	for (size_t i = 0; i < NMSG(replies); i++) {
		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, LOGIN_LINE), MT_UNDECIDED);
		ck_assert_uint_eq(h.ev.version, 0);
		if (replies[i])
			ck_assert_int_eq(h_feed_str(&h, S2C, replies[i]), MT_DETECTED);
		h_end(&h);
		ck_assert_int_eq(h.ans, MT_DETECTED);
		ck_assert(conf_is(&h, 0.6));
		ck_assert_str_eq(h.ev.evidence, "cryptonote: login request (id 1)");
		ck_assert_str_eq(h.ev.wallet, WALLET);
		ck_assert_str_eq(h.ev.worker, "rig7");
		ck_assert_str_eq(h.ev.agent, AGENT);
		ck_assert_str_eq(h.ev.coin, "XMR"); /* a Monero address */
		ck_assert_str_eq(h.ev.algo, ""); /* seven algorithms offered: none named */
		ck_assert_uint_eq(h.ev.jobs, 0);
		h_free(&h);
	}

	/* the client closed (FIN) without an answer */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, LOGIN_LINE);
	h.fv.fin[0] = 1;
	ck_assert_int_eq(h_feed(&h, C2S, "\n", 1), MT_DETECTED);
	h_free(&h);

	/* the pool refuses the login with its own error object */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, LOGIN_LINE);
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":\"Invalid payment address provided\"}}\n"),
			 MT_DETECTED);
	ck_assert(conf_is(&h, 0.85));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: login request refused by the pool (id 1)");
	ck_assert_str_eq(h.ev.wallet, WALLET);
	h_free(&h);

	/* a known miner agent decides alone, whatever the login */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"method\":\"login\",\"params\":{\"login\":\"x\",\"pass\":\"x\",\"agent\":\"xmr-stak/2.10.8/1fff2d5/master/lin/nvidia-amd-cpu/20\"},\"id\":1}\n");
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert(conf_is(&h, 0.6));
	ck_assert_str_eq(h.ev.worker, "x");
	ck_assert_str_eq(h.ev.wallet, "");
	ck_assert_str_eq(h.ev.coin, "");
	h_free(&h);

	/* a plain login/pass does not decide alone, nor with an answer that is no job */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"alice\",\"pass\":\"hunter2\"}}\n");
	h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"token\":\"c2VjcmV0\",\"status\":\"OK\"}}\n");
	ck_assert_int_ne(h_end(&h), MT_DETECTED);
	ck_assert_uint_eq(h.ev.version, 0);
	h_free(&h);
	/* ... but answered with a job it does */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"alice.rig2\",\"pass\":\"hunter2\"}}\n"),
			 MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, LOGIN_REPLY), MT_DETECTED);
	ck_assert(conf_is(&h, 0.95));
	ck_assert_str_eq(h.ev.wallet, "alice");
	ck_assert_str_eq(h.ev.worker, "rig2");
	ck_assert_str_eq(h.ev.agent, "");
	ck_assert_str_eq(h.ev.coin, "XMR"); /* from the job's algorithm */
	h_free(&h);
}
END_TEST

#define SS_LOGIN "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\",\"agent\":\"" AGENT "\",\"algo\":[\"rx/0\"],\"mode\":\"self-select\"}}\n"
#define SS_JOB(id, nonce) "{\"job_id\":\"" id "\",\"target\":\"dc460300\",\"pool_wallet\":\"" SUBADDR "\",\"extra_nonce\":\"" nonce "\"}"

/* The self-select mode (monero-pool stratum-ss.md, XMRig SelfSelectClient). */
static const struct msgline ss_session[] = {
	{ C2S, SS_LOGIN },
	{ S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"c1\",\"job\":" SS_JOB("ss1", "0000000a") ",\"extensions\":[\"algo\",\"keepalive\"],\"status\":\"OK\"}}\n" },
	{ C2S, "{\"id\":2,\"jsonrpc\":\"2.0\",\"method\":\"block_template\",\"params\":{\"id\":\"c1\",\"job_id\":\"ss1\",\"blob\":\"" BLOB1 BLOB2 "\",\"height\":3000000,"
	       "\"difficulty\":300000000000,\"prev_hash\":\"" SEED "\",\"seed_hash\":\"" SEED "\",\"next_seed_hash\":\"\"}}\n" },
	{ S2C, "{\"id\":2,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"status\":\"OK\"}}\n" },
	{ C2S, SUBMIT("3", "ss1", "deadbeef", RES1) },
	{ S2C, OK_REPLY("3") },
	{ S2C, "{\"jsonrpc\":\"2.0\",\"method\":\"job\",\"params\":" SS_JOB("ss2", "0000000b") "}\n" },
};

START_TEST(test_self_select)
{
	harness h;

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, ss_session[0].text), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, ss_session[1].text), MT_DETECTED);
	ck_assert(conf_is(&h, 0.95));
	ck_assert_str_eq(h.ev.algo, "rx/0"); /* the one algorithm the login offered */
	ck_assert_str_eq(h.ev.coin, "XMR");
	ck_assert_str_eq(h.ev.wallet, WALLET); /* the miner's, not the pool's */
	ck_assert(h.ev.difficulty == 20000.0);
	ck_assert_int_eq(h_run(&h, ss_session + 2, NMSG(ss_session) - 2), MT_DETECTED);
	ck_assert(conf_is(&h, 0.98));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: job push after an answered request (self-select)");
	ck_assert_uint_eq(h.ev.jobs, 2);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	h_free(&h);

	/* the block template answered decides as a pair */
	h_init(&h, 1, 1);
	h_feed_str(&h, C2S, ss_session[2].text);
	ck_assert_int_eq(h_feed_str(&h, S2C, ss_session[3].text), MT_DETECTED);
	ck_assert(conf_is(&h, 0.9));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: block_template request answered (id 2)");
	h_free(&h);

	/* a self-select job push alone */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, ss_session[6].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.evidence, "cryptonote: job push (self-select)");
	h_free(&h);
}
END_TEST

START_TEST(test_getjob_keepalive)
{
	harness h;

	/* a weak login (no job in its answer), then getjob answered with a job */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"x\"}}\n");
	h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"s9\",\"status\":\"OK\"}}\n");
	ck_assert_int_eq(h.ans, MT_UNDECIDED);
	h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"getjob\",\"params\":{\"id\":\"s9\"}}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":2,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"blob\":\"" BLOB2 "\",\"job_id\":\"g1\",\"target\":\"b88d0600\"}}\n"),
			 MT_DETECTED);
	ck_assert(conf_is(&h, 0.95));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: getjob request answered with a job (id 2)");
	ck_assert_str_eq(h.ev.worker, "bob"); /* the login, read again */
	ck_assert(h.ev.difficulty == 10000.0);
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_free(&h);

	/* keepalived answered in form */
	h_init(&h, 1, 1);
	h_feed_str(&h, C2S, "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"keepalived\",\"params\":{\"id\":\"s9\"}}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, "{\"id\":7,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"status\":\"KEEPALIVED\"}}\n"), MT_DETECTED);
	ck_assert(conf_is(&h, 0.9));
	ck_assert_str_eq(h.ev.evidence, "cryptonote: keepalived request answered (id 7)");
	h_free(&h);
	/* answered otherwise: nothing */
	h_init(&h, 1, 1);
	h_feed_str(&h, C2S, "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"keepalived\",\"params\":{\"id\":\"s9\"}}\n");
	h_feed_str(&h, S2C, "{\"id\":7,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"status\":\"OK\"}}\n");
	ck_assert_int_ne(h_end(&h), MT_DETECTED);
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
		ck_assert_uint_eq(h.ev.version, 0); /* nothing claimed */
	h_free(&h);
	return a;
}

START_TEST(test_lookalikes)
{
	/* JSON-RPC 2.0 echo */
	ck_assert_int_eq(lookalike("{\"jsonrpc\": \"2.0\", \"method\": \"echo\", \"params\": [\"Hello JSON-RPC\"], \"id\": 1}\n",
				   "{\"jsonrpc\": \"2.0\", \"result\": \"Hello JSON-RPC\", \"id\": 1}\n", 0, 1),
			 MT_EXCLUDED);
	/* eth_getWork over JSON-RPC */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\",\"params\":[],\"id\":73}\n",
				   "{\"id\":73,\"jsonrpc\":\"2.0\",\"result\":[\"0x" SEED "\",\"0x" SEED "\",\"0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba\"]}\n", 0, 1),
			 MT_EXCLUDED);
	/* the same seen midstream: another dialect all the same */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"eth_submitWork\",\"params\":[\"0x1\",\"0x" SEED "\",\"0x" SEED "\"],\"id\":4}\n", NULL, 1, 0),
			 MT_EXCLUDED);
	/* EthProxy login */
	ck_assert_int_eq(lookalike("{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitLogin\",\"params\":[\"0xb85150eb365e7df0941f0cf08235f987ba91506a\"]}\n",
				   "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":true}\n", 0, 1),
			 MT_EXCLUDED);
	/* Stratum (the stratum detector's), also a Kaspa-style EthereumStratum subscribe */
	ck_assert_int_eq(lookalike("{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"cgminer/4.10.0\"]}\n",
				   "{\"id\":1,\"result\":[[[\"mining.notify\",\"ae6812eb4cd7735a302a8a9dd95cf71f\"]],\"08000002\",4],\"error\":null}\n", 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"BzMiner/v19.0.0\",\"EthereumStratum/1.0.0\"]}\n", NULL, 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike(NULL, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"a\",\"" SEED "\",\"" SEED "\",true]}\n", 1, 0),
			 MT_EXCLUDED);
	/* Geth web3 */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"web3_clientVersion\",\"params\":[],\"id\":67}\n"
				   "{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBalance\",\"params\":[\"0xc94770007dda54cF92009BFF0dE90c06F603a09f\",\"latest\"],\"id\":1}\n",
				   "{\"jsonrpc\":\"2.0\",\"id\":67,\"result\":\"Geth/v1.10.26-stable/linux-amd64/go1.18.5\"}\n"
				   "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x0234c8a3397aab58\"}\n", 0, 1),
			 MT_EXCLUDED);
	/* chats containing "login" */
	ck_assert_int_eq(lookalike("NICK miner\r\nPRIVMSG #monero :paste your {\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"},\"id\":1}\r\n",
				   ":irc.example 001 miner :Welcome\r\n", 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("{\"type\":\"message\",\"from\":\"bob\",\"text\":\"login with " WALLET " and agent XMRig\",\"id\":1}\n",
				   "{\"type\":\"ack\",\"id\":1}\n", 0, 1),
			 MT_EXCLUDED);
	/* an application's JSON-RPC login of another shape */
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"username\":\"bob\",\"password\":\"pw\"},\"id\":1}\n",
				   "{\"jsonrpc\":\"2.0\",\"result\":{\"token\":\"abc\"},\"id\":1}\n", 0, 1),
			 MT_EXCLUDED);
	ck_assert_int_eq(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":[\"" WALLET "\",\"x\"],\"id\":1}\n", NULL, 0, 1),
			 MT_EXCLUDED);
	/* and of this shape, but neither wallet nor miner nor job */
	ck_assert_int_ne(lookalike("{\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"pw\",\"agent\":\"curl/7.88.1\"},\"id\":1}\n",
				   "{\"jsonrpc\":\"2.0\",\"result\":{\"id\":\"s\",\"status\":\"OK\"},\"id\":1}\n", 0, 1),
			 MT_DETECTED);
	/* HTTP POST carrying the login (daemon RPC or web app territory) */
	ck_assert_int_eq(lookalike("POST /json_rpc HTTP/1.1\r\nHost: pool.example\r\nContent-Type: application/json\r\n\r\n" LOGIN_LINE,
				   "HTTP/1.1 200 OK\r\n\r\n" LOGIN_REPLY, 0, 1),
			 MT_EXCLUDED);
	/* TLS ClientHello to a pool port */
	ck_assert_int_eq(lookalike("\x16\x03\x01\x01\x0c\x01\x00\x01\x08\x03\x03", NULL, 0, 1), MT_EXCLUDED);
	/* a job pushed by a server that does not speak first in JSON */
	ck_assert_int_eq(lookalike(NULL, "220 ftp.example ready\r\n" JOB_PUSH, 0, 1), MT_EXCLUDED);
	/* a JSON array is not a line of this protocol */
	ck_assert_int_eq(lookalike("[" "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}" "]\n", NULL, 0, 1),
			 MT_EXCLUDED);
	/* a job queue with a "getjob" method: of the grammar, but its jobs are not ours */
	ck_assert_int_ne(lookalike("{\"id\":1,\"method\":\"getjob\",\"params\":{\"id\":\"worker-3\"}}\n",
				   "{\"id\":1,\"result\":{\"job_id\":\"42\",\"task\":\"resize\",\"target\":\"s3://bucket\"}}\n", 0, 1),
			 MT_DETECTED);
	/* many foreign JSON messages with nothing of the grammar end it */
	{
		harness h;

		h_init(&h, 1, 0);
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"status\",\"params\":{}}\n"), MT_UNDECIDED);
		ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"status\",\"params\":{}}\n"), MT_EXCLUDED);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_wrong_shapes)
{
	/* each as the client's first words: wrong-shaped, so not ours */
	static const char *const c2s_lines[] = {
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"\",\"pass\":\"x\",\"agent\":\"XMRig/6\"}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":12,\"pass\":\"x\",\"agent\":\"XMRig/6\"}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\"}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"agent\":7}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":{}}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\",\"algo\":\"rx/0\"}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\",\"algo\":[\"rx/0\",3]}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\",\"rigid\":5}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":\"" WALLET "\"}\n",
		"{\"id\":1,\"method\":\"login\"}\n",
		"{\"id\":null,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n",
		"{\"id\":{},\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n",
		"{\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n",
		"{\"id\":1,\"method\":\"Login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n",
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"},}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"j\",\"nonce\":\"9802400\",\"result\":\"" RES1 "\"}}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"j\",\"nonce\":\"98024001\",\"result\":\"" RES1 "00\"}}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"j\",\"nonce\":\"9802400g\",\"result\":\"" RES1 "\"}}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"\",\"nonce\":\"98024001\",\"result\":\"" RES1 "\"}}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"nonce\":\"98024001\",\"result\":\"" RES1 "\"}}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":3,\"job_id\":\"j\",\"nonce\":\"98024001\",\"result\":\"" RES1 "\"}}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":[\"s\",\"j\",\"98024001\",\"" RES1 "\"]}\n",
		"{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"j\",\"nonce\":\"9802\\u00340\",\"result\":\"" RES1 "\"}}\n",
	};
	/* each pushed after a weak login that nothing else decides */
	static const char *const s2c_lines[] = {
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc4603\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc46030000\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"zz460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":20000}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"\",\"target\":\"dc460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":7,\"target\":\"dc460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"target\":\"dc460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"0606e89883d205\",\"job_id\":\"j\",\"target\":\"dc460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "0\",\"job_id\":\"j\",\"target\":\"dc460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "xy\",\"job_id\":\"j\",\"target\":\"dc460300\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\",\"height\":\"3\"}}\n",
		"{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\",\"algo\":5}}\n",
		"{\"method\":\"job\",\"params\":{\"job_id\":\"j\",\"target\":\"dc460300\",\"pool_wallet\":\"" WALLET "\"}}\n",
		"{\"method\":\"job\",\"params\":{\"job_id\":\"j\",\"target\":\"dc460300\",\"extra_nonce\":\"0a\"}}\n",
		"{\"method\":\"job\",\"params\":[\"" BLOB1 "\",\"j\",\"dc460300\"]}\n",
		"{\"method\":\"job\"}\n",
		"{\"id\":1,\"error\":null,\"result\":{\"id\":\"s\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\"},\"status\":\"OK\"}}\n",
		"{\"id\":1,\"error\":null,\"result\":{\"id\":\"s\",\"status\":\"OK\"}}\n",
		"{\"id\":1,\"error\":{\"code\":-1,\"message\":\"nope\"},\"result\":null}\n",
		"{\"id\":1,\"result\":true}\n",
		"{\"id\":1,\"error\":{\"code\":-1,\"message\":\"nope\"},\"result\":{\"id\":\"s\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\"}}}\n",
	};

	for (size_t i = 0; i < NMSG(c2s_lines); i++) {
		int a = lookalike(c2s_lines[i], NULL, 0, 1);

		if (a == MT_DETECTED)
			ck_abort_msg("c2s line %zu detected: %s", i, c2s_lines[i]);
		if (a != MT_EXCLUDED)
			ck_abort_msg("c2s line %zu not excluded: %s", i, c2s_lines[i]);
	}
	for (size_t i = 0; i < NMSG(s2c_lines); i++) {
		int a = lookalike("{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"carol\",\"pass\":\"x\"}}\n", s2c_lines[i], 0, 1);

		if (a == MT_DETECTED)
			ck_abort_msg("s2c line %zu detected: %s", i, s2c_lines[i]);
	}
	/* escapes in the method name are still the method */
	ck_assert_int_eq(lookalike("{\"id\":1,\"method\":\"log\\u0069n\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n", NULL, 0, 1),
			 MT_DETECTED);
}
END_TEST

static void login_case(const char *user, const char *wallet, const char *worker, const char *coin)
{
	harness h;
	char line[1024];

	snprintf(line, sizeof line, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"%s\",\"pass\":\"x\",\"agent\":\"XMRig/6.21.0\"}}\n", user);
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, line), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_str_eq(h.ev.wallet, wallet);
	ck_assert_str_eq(h.ev.worker, worker);
	ck_assert_str_eq(h.ev.coin, coin);
	h_free(&h);
}

START_TEST(test_login_split)
{
	login_case(WALLET, WALLET, "", "XMR");
	login_case(WALLET ".rig1", WALLET, "rig1", "XMR");
	login_case(WALLET "+50000", WALLET, "", "XMR");
	login_case(WALLET "." PAYID ".ryzen", WALLET, "ryzen", "XMR");
	login_case(WALLET ".0123456789abcdef", WALLET, "", "XMR");
	login_case(WALLET "+0123456789abcdef", WALLET, "", "XMR");
	login_case(WALLET ".rig1+20000", WALLET, "rig1", "XMR");
	login_case(WALLET "+20000.rig2", WALLET, "rig2", "XMR");
	login_case(WALLET ".rig1/me@example.com", WALLET, "rig1/me@example.com", "XMR");
	login_case(WALLET ".", WALLET, "", "XMR");
	login_case(SUBADDR ".s", SUBADDR, "s", "XMR");
	login_case(INTEGRATED, INTEGRATED, "", "XMR");
	login_case(WOW_ADDR ".w1", WOW_ADDR, "w1", ""); /* not a Monero address: the coin waits for the algorithm */
	login_case("0xb85150eb365e7df0941f0cf08235f987ba91506a.rig1", "0xb85150eb365e7df0941f0cf08235f987ba91506a", "rig1", "");
	login_case("alice.rig1", "alice", "rig1", "");
	login_case("team.rack.7", "team.rack", "7", "");
	login_case("x", "", "x", "");
	login_case(WALLET ".w\\u0001x", WALLET, "w?x", "XMR"); /* control characters never reach the evidence */

	/* XMRig's rig id names the worker when the login does not */
	{
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":null,\"agent\":\"" AGENT "\",\"rigid\":\"rack-4\"}}\n");
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		ck_assert_str_eq(h.ev.worker, "rack-4");
		h_free(&h);
		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET ".rig1\",\"pass\":null,\"agent\":\"" AGENT "\",\"rigid\":\"rack-4\"}}\n");
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		ck_assert_str_eq(h.ev.worker, "rig1");
		h_free(&h);
	}
}
END_TEST

/* A job push with this target (and algorithm, if any), seen alone. */
static void target_case(const char *target, const char *algo, int has, double diff)
{
	harness h;
	char line[1024];

	if (algo)
		snprintf(line, sizeof line, "{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"t\",\"target\":\"%s\",\"algo\":\"%s\"}}\n", target, algo);
	else
		snprintf(line, sizeof line, "{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"t\",\"target\":\"%s\"}}\n", target);
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, S2C, line), MT_DETECTED);
	ck_assert_str_eq(h.ev.target, target);
	ck_assert_uint_eq(h.ev.has_difficulty, (unsigned)has);
	if (has && h.ev.difficulty != diff)
		ck_abort_msg("target %s: difficulty %.17g, want %.17g", target, h.ev.difficulty, diff);
	h_free(&h);
}

START_TEST(test_difficulty)
{
	/* XMRig Job::setTarget: 4 bytes t -> 2^64-1 / ((2^32-1) / t); 8 bytes as is; diff = (2^64-1) / target */
	target_case("dc460300", NULL, 1, 20000.0);
	target_case("DC460300", NULL, 1, 20000.0);
	target_case("69ba0000", NULL, 1, 90001.0);
	target_case("b88d0600", NULL, 1, 10000.0);
	target_case("ffffffff", NULL, 1, 1.0);
	target_case("01000000", NULL, 1, 4294967295.0);
	target_case("00000000", NULL, 0, 0);
	target_case(TARGET8, NULL, 1, 100000.0);
	target_case("689211ed960d0000", NULL, 1, 1234567.0);
	target_case("ffffffffffffffff", NULL, 1, 1.0);
	target_case("0100000000000000", NULL, 1, 18446744073709551615.0);
	target_case("0000000000000000", NULL, 0, 0);
	/* rx/yada sends the target as a hex number */
	target_case("00000fffffffffff", "rx/yada", 1, 1048576.0);
	target_case("ffff", "rx/yada", 1, 281479271743489.0);

	/* a new job with a new target: the difficulty follows, and the version moves */
	{
		harness h;
		uint32_t v;

		h_init(&h, 1, 0);
		h_feed_str(&h, S2C, "{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"1\",\"target\":\"dc460300\"}}\n");
		ck_assert(h.ev.difficulty == 20000.0);
		v = h.ev.version;
		h_feed_str(&h, S2C, "{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB2 "\",\"job_id\":\"2\",\"target\":\"b88d0600\"}}\n");
		ck_assert(h.ev.difficulty == 10000.0);
		ck_assert_str_eq(h.ev.target, "b88d0600");
		ck_assert_uint_gt(h.ev.version, v);
		ck_assert_uint_eq(h.ev.jobs, 2);
		h_free(&h);
	}
}
END_TEST

/* A login with this address, then a job naming this algorithm (or a seed hash only). */
static void algo_case(const char *wallet, const char *algo, const char *want_algo, const char *want_coin)
{
	harness h;
	char line[1024];

	snprintf(line, sizeof line, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"%s\",\"pass\":\"x\",\"agent\":\"" AGENT "\"}}\n", wallet);
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, line);
	if (algo)
		snprintf(line, sizeof line, "{\"id\":1,\"error\":null,\"result\":{\"id\":\"s\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\",\"algo\":\"%s\",\"seed_hash\":\"" SEED "\"},\"status\":\"OK\"}}\n", algo);
	else
		snprintf(line, sizeof line, "{\"id\":1,\"error\":null,\"result\":{\"id\":\"s\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\",\"seed_hash\":\"" SEED "\"},\"status\":\"OK\"}}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, line), MT_DETECTED);
	ck_assert_str_eq(h.ev.algo, want_algo);
	ck_assert_str_eq(h.ev.coin, want_coin);
	h_free(&h);
}

START_TEST(test_algo_coin)
{
	algo_case(WALLET, "rx/0", "rx/0", "XMR");
	algo_case(WOW_ADDR, "rx/wow", "rx/wow", "WOW");
	algo_case(WALLET, "RandomX", "RandomX", "XMR"); /* names compare case-insensitively, kept as given */
	algo_case("TRTLVxcwrWVZweDCtZXhgsC7VLA6btymh3fSVipgiBg1va543DyGf2rWMVevDaFhKY1j6WiJTcv6nHMqFZK25dr7S7wKR52wk1E", "argon2/chukwa", "argon2/chukwa", "TRTL");
	algo_case("hvxE4XRnST5dhDrkJN6LN1Tq89Gn714WtYCkcDVZDor9TiR8STE1JxteLy2ECSwfid73AEVH1rgNvKR556EehG1fQQgW9eXvd9", "cn-heavy/xhv", "cn-heavy/xhv", "XHV");
	algo_case(WALLET, "ghostrider", "ghostrider", "RTM");
	algo_case(WALLET, "rx/arq", "rx/arq", "ARQ");
	algo_case(WALLET, "cn/0", "cn/0", "XMR"); /* many coins' algorithm: the Monero address names it */
	algo_case(WOW_ADDR, "cn/0", "cn/0", "");
	algo_case(WOW_ADDR, "foo/bar", "foo/bar", "");
	/* a seed hash is RandomX's, which does not name the coin */
	algo_case(WALLET, NULL, "randomx", "XMR");
	algo_case(WOW_ADDR, NULL, "randomx", "");

	/* the login's only algorithm, until the pool's job names another; a share names it too */
	{
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WOW_ADDR "\",\"pass\":\"x\",\"algo\":[\"rx/wow\"]}}\n");
		h_feed_str(&h, S2C, "{\"id\":1,\"error\":null,\"result\":{\"id\":\"s\",\"job\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\"},\"status\":\"OK\"}}\n");
		ck_assert_str_eq(h.ev.algo, "rx/wow");
		ck_assert_str_eq(h.ev.coin, "WOW");
		h_feed_str(&h, C2S, "{\"id\":2,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"j\",\"nonce\":\"00000001\",\"result\":\"" RES1 "\",\"algo\":\"rx/0\"}}\n");
		ck_assert_str_eq(h.ev.algo, "rx/0");
		ck_assert_str_eq(h.ev.coin, "XMR");
		h_feed_str(&h, S2C, "{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"k\",\"target\":\"dc460300\",\"algo\":\"rx/arq\"}}\n");
		ck_assert_str_eq(h.ev.algo, "rx/arq");
		ck_assert_str_eq(h.ev.coin, "ARQ");
		/* a share does not override the pool's job */
		h_feed_str(&h, C2S, "{\"id\":3,\"method\":\"submit\",\"params\":{\"id\":\"s\",\"job_id\":\"k\",\"nonce\":\"00000002\",\"result\":\"" RES1 "\",\"algo\":\"rx/0\"}}\n");
		ck_assert_str_eq(h.ev.algo, "rx/arq");
		h_free(&h);
	}
}
END_TEST

START_TEST(test_pending_ids)
{
	harness h;
	char line[512];

	/* xmr-stak sends every request with id 1: replies pair first in, first out */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\",\"agent\":\"xmr-stak-cpu/1.3.0-1.5.0\"},\"id\":1}\n");
	h_feed_str(&h, S2C, LOGIN_REPLY);
	for (int i = 0; i < 3; i++)
		h_feed_str(&h, C2S, "{\"method\":\"submit\",\"params\":{\"id\":\"a3b0c4d2\",\"job_id\":\"j1\",\"nonce\":\"98024001\",\"result\":\"" RES1 "\"},\"id\":1}\n");
	h_feed_str(&h, S2C, OK_REPLY("1"));
	h_feed_str(&h, S2C, "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":\"Duplicate share\"}}\n");
	h_feed_str(&h, S2C, OK_REPLY("1"));
	h_feed_str(&h, S2C, OK_REPLY("1")); /* nothing left to pair */
	ck_assert_uint_eq(h.ev.shares, 3);
	ck_assert_uint_eq(h.ev.shares_accepted, 2);
	ck_assert_uint_eq(h.ev.shares_rejected, 1);
	h_free(&h);

	/* a reused id pairs with the oldest request that used it */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"x\"},\"id\":1}\n"
			    "{\"method\":\"keepalived\",\"params\":{\"id\":\"a3b0c4d2\"},\"id\":1}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, LOGIN_REPLY), MT_DETECTED);
	ck_assert_str_eq(h.ev.evidence, "cryptonote: login request answered with a job (id 1)");
	h_free(&h);

	/* a string id does not pair with the same number */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":\"1\",\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"x\"}}\n");
	h_feed_str(&h, S2C, LOGIN_REPLY);
	ck_assert(h.ev.confidence < 0.95); /* taken for the answer to a login the capture missed */
	h_free(&h);

	/* a bounded table: the oldest of many unanswered requests is forgotten */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, LOGIN_LINE);
	for (int i = 10; i < 50; i++) {
		snprintf(line, sizeof line, "{\"id\":%d,\"method\":\"submit\",\"params\":{\"job_id\":\"j\",\"nonce\":\"00000000\",\"result\":\"" RES1 "\"}}\n", i);
		h_feed_str(&h, C2S, line);
	}
	h_feed_str(&h, S2C, OK_REPLY("10"));
	ck_assert_uint_eq(h.ev.shares_accepted, 0);
	h_feed_str(&h, S2C, OK_REPLY("49"));
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_uint_eq(h.ev.shares, 40);
	h_free(&h);
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
		h.ans = DET.on_packet(NULL, h.state, &h.fv, &pv, &h.ev);
	}
	ck_assert_int_eq(h.ans, MT_EXCLUDED);
	ck_assert_uint_le(fed, 2 * CHUNK); /* gave up as soon as the line passed the limit */
	ck_assert_uint_eq(h.ev.version, 0);
	free(h.state);

	/* after detection the direction is dropped, the flow stays detected */
	h_init(&h, 0, 1);
	memcpy(buf, LOGIN_LINE, strlen(LOGIN_LINE));
	buf[strlen(LOGIN_LINE)] = '{';
	for (fed = CHUNK; fed <= TOTAL; fed += CHUNK) {
		mt_pkt_view pv;

		memset(&pv, 0, sizeof pv);
		h.fv.data[0] = buf;
		h.fv.len[0] = fed;
		h.fv.bytes[1] = 1; /* the pool has spoken: a login alone is decided at once */
		ck_assert_int_eq(DET.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_DETECTED);
	}
	ck_assert_str_eq(h.ev.wallet, WALLET);
	free(h.state);
	free(buf);

	/* a whole line longer than the limit is not read, and not held against the flow */
	{
		size_t pad = 40000;
		const char *pre = "{\"method\":\"job\",\"params\":{\"blob\":\"" BLOB1 "\",\"job_id\":\"j\",\"target\":\"dc460300\"},\"pad\":\"";
		char *big = malloc(strlen(pre) + pad + 4);
		size_t o = strlen(pre);

		ck_assert_ptr_nonnull(big);
		memcpy(big, pre, o);
		memset(big + o, 'p', pad);
		o += pad;
		memcpy(big + o, "\"}\n", 3);
		o += 3;
		h_init(&h, 1, 0);
		ck_assert_int_eq(h_feed(&h, S2C, big, o), MT_UNDECIDED);
		ck_assert_int_eq(h_feed_str(&h, S2C, JOB_PUSH), MT_DETECTED);
		ck_assert_uint_eq(h.ev.jobs, 1);
		h_free(&h);
		free(big);
	}
}
END_TEST

START_TEST(test_bad_lines)
{
	harness h;

	/* after detection, garbage never undoes it, and too much of it drops the direction */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, LOGIN_LINE);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(h_feed_str(&h, S2C, "garbage line\n"), MT_DETECTED);
	h_feed_str(&h, S2C, LOGIN_REPLY);
	ck_assert(h.ev.confidence < 0.61);
	h_free(&h);

	/* before detection: a few bad lines after a JSON first line are tolerated, then no more */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"x\"}}\n"), MT_UNDECIDED);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(h_feed_str(&h, C2S, "not json\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, "not json\n"), MT_EXCLUDED);
	h_free(&h);

	/* JSON deeper or bigger than the grammar: foreign, not fatal at once */
	h_init(&h, 1, 0);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"a\":[[[[[[[[[[1]]]]]]]]]]}\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, C2S, JOB_PUSH), MT_DETECTED);
	h_free(&h);
}
END_TEST

START_TEST(test_gap_resync)
{
	harness h;
	const char *push = JOB_PUSH;
	size_t n = strlen(push);

	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, LOGIN_LINE);
	h_feed_str(&h, S2C, LOGIN_REPLY);
	/* half a push, then a hole: the rest of the line is lost and the next bytes are mid-line */
	h_feed(&h, S2C, push, n / 2);
	h.fv.gap_off[1] = h.len[1];
	h_feed_str(&h, S2C, "00\"}}\n");
	ck_assert_uint_eq(h.ev.jobs, 1);
	h_feed_str(&h, S2C, push);
	ck_assert_uint_eq(h.ev.jobs, 2);
	ck_assert(conf_is(&h, 0.98));
	h_free(&h);

	/* a hole before the pool's first line is complete: the fragment after it is forgiven */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"x\"}}\n"), MT_UNDECIDED);
	h_feed(&h, S2C, LOGIN_REPLY, 30);
	h.fv.gap_off[1] = h.len[1];
	ck_assert_int_eq(h_feed_str(&h, S2C, "\"status\":\"OK\"}}\n"), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, push), MT_DETECTED);
	ck_assert_str_eq(h.ev.worker, "bob");
	h_free(&h);

	/* a hole inside a line whose two halves would glue into a valid object */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"bob\",\"pass\":\"x\"}}\n{\"id\":2,\"meth");
	h.fv.gap_off[0] = h.len[0];
	h_feed_str(&h, C2S, "od\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n");
	ck_assert_int_eq(h_end(&h), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

START_TEST(test_fin_tail)
{
	harness h;
	char line[2048];
	size_t n = strlen(LOGIN_LINE) - 1;

	/* the last message without its newline counts when the direction closed */
	memcpy(line, LOGIN_LINE, n);
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed(&h, C2S, line, n), MT_UNDECIDED);
	h.fv.fin[0] = 1;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_str_eq(h.ev.wallet, WALLET);
	h_free(&h);
	/* but not when it is cut */
	h_init(&h, 0, 1);
	h_feed(&h, C2S, line, n - 1);
	h.fv.fin[0] = 1;
	ck_assert_int_ne(h_end(&h), MT_DETECTED);
	ck_assert_uint_eq(h.ev.version, 0);
	h_free(&h);
}
END_TEST

START_TEST(test_foreign_evidence)
{
	harness h;

	/* what another detector left in the shared evidence goes when this one claims the flow */
	h_init(&h, 0, 1);
	snprintf(h.ev.protocol, sizeof h.ev.protocol, "%s", "stratum");
	snprintf(h.ev.coinbase_tag, sizeof h.ev.coinbase_tag, "%s", "/junk/");
	snprintf(h.ev.worker, sizeof h.ev.worker, "%s", "junk");
	h.ev.confidence = 0.6;
	h.ev.version = 7;
	h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"" WALLET "\",\"pass\":\"x\"}}\n");
	ck_assert_int_eq(h_feed_str(&h, S2C, LOGIN_REPLY), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "cryptonote-stratum");
	ck_assert_str_eq(h.ev.coinbase_tag, "");
	ck_assert_str_eq(h.ev.worker, "");
	ck_assert_str_eq(h.ev.wallet, WALLET);
	ck_assert(conf_is(&h, 0.95));
	ck_assert_uint_gt(h.ev.version, 7);
	h_free(&h);
}
END_TEST

START_TEST(test_other_detectors_probe)
{
	harness h;

	/*
	 * Another detector (stratum, asked first) holds a probe in the shared
	 * evidence: answering EXCLUDED would make the engine drop it, so the
	 * answer waits until that evidence is gone or claimed.
	 */
	h_init(&h, 0, 1);
	h.ev.version = 3;
	h.ev.confidence = 0.6;
	ck_assert_int_eq(h_feed_str(&h, C2S, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\"]}\n"), MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.version, 3);
	ck_assert(h.ev.confidence == 0.6);
	ck_assert_int_eq(h_feed_str(&h, C2S, LOGIN_LINE), MT_UNDECIDED); /* excluded all the same */
	memset(&h.ev, 0, sizeof h.ev); /* the other detector gave up: the engine cleared it */
	ck_assert_int_eq(h_feed_str(&h, S2C, LOGIN_REPLY), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_udp_and_null_args)
{
	harness h;
	mt_pkt_view pv;

	h_init(&h, 0, 1);
	h.fv.l4proto = 17;
	ck_assert_int_eq(h_feed_str(&h, C2S, LOGIN_LINE), MT_EXCLUDED);
	h_free(&h);

	memset(&pv, 0, sizeof pv);
	h_init(&h, 0, 1);
	ck_assert_int_eq(DET.on_packet(NULL, NULL, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(DET.on_packet(NULL, h.state, NULL, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(DET.on_packet(NULL, h.state, &h.fv, NULL, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(DET.on_packet(NULL, h.state, &h.fv, &pv, NULL), MT_UNDECIDED);
	/* nothing yet in either direction */
	ck_assert_int_eq(DET.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.version, 0);
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
	size_t ends[NMSG(xmrig_session)];
	size_t total = flatten(xmrig_session, NMSG(xmrig_session), bytes, dirs, sizeof bytes, ends);
	static const char alphabet[] = "{}[]\",:0123456789abcdef-.e \n\r\\untrfalsjobgi+";

	for (int it = 0; it < 3000; it++) {
		static char m[8192];
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

static Suite *cryptonote_suite(void)
{
	Suite *s = suite_create("detect_cryptonote");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interface);
	tcase_add_test(tc, test_xmrig_session);
	tcase_add_test(tc, test_permuted);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_midstream);
	tcase_add_test(tc, test_direction_uncertain);
	tcase_add_test(tc, test_login_alone);
	tcase_add_test(tc, test_self_select);
	tcase_add_test(tc, test_getjob_keepalive);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_wrong_shapes);
	tcase_add_test(tc, test_login_split);
	tcase_add_test(tc, test_difficulty);
	tcase_add_test(tc, test_algo_coin);
	tcase_add_test(tc, test_pending_ids);
	tcase_add_test(tc, test_huge_line);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_gap_resync);
	tcase_add_test(tc, test_fin_tail);
	tcase_add_test(tc, test_foreign_evidence);
	tcase_add_test(tc, test_other_detectors_probe);
	tcase_add_test(tc, test_udp_and_null_args);
	tcase_add_test(tc, test_fuzz_session);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cryptonote_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
