/* test_detect_httpmine.c - the HTTP mining detector fed hand-built HTTP/1.x streams the way the engine feeds it: getwork, getblocktemplate, EthProxy over HTTP, cut requests, truncations, look-alikes. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "mt_detect_harness.h"
#include "detect/sigs.h"

static const uint8_t cli_addr[16] = { 192, 168, 1, 100 };
static const uint8_t srv_addr[16] = { 198, 51, 100, 7 };
static const h_ends flow_ends = { cli_addr, srv_addr, 58124, 8332 };

/* What every DETECTED answer of this detector must look like. */
static void check_detected(const mt_evidence *ev)
{
	ck_assert(ev->confidence >= 0.6 && ev->confidence <= 1.0);
	ck_assert(strcmp(ev->protocol, "http-mining") == 0 || strcmp(ev->protocol, "getwork-http") == 0 ||
		  strcmp(ev->protocol, "getblocktemplate-http") == 0 ||
		  strcmp(ev->protocol, "ethproxy-http") == 0);
}

static void h_init(harness *h, int midstream, int dir_certain)
{
	h_setup(h, &mt_detect_httpmine, &flow_ends, midstream, dir_certain);
	h->on_detect = check_detected;
}

#define C2S 0
#define S2C 1
#define NMSG(a) (sizeof(a) / sizeof((a)[0]))
#define NEAR(x, v) ((x) > (v) - 0.001 && (x) < (v) + 0.001)

/* ---- messages ---------------------------------------------------------- */

/* "head" ends with the header fields; a Content-Length for the body and the blank line are added. */
static char *msg_cl(const char *head, const char *body)
{
	size_t n = strlen(head) + strlen(body) + 64;
	char *m = malloc(n);

	ck_assert_ptr_nonnull(m);
	snprintf(m, n, "%sContent-Length: %zu\r\n\r\n%s", head, strlen(body), body);
	return m;
}

/* The same body in chunks of at most `chunk` bytes (RFC 7230 section 4.1). */
static char *msg_chunked(const char *head, const char *body, size_t chunk)
{
	size_t bl = strlen(body), n = strlen(head) + bl * 2 + 256, o;
	char *m = malloc(n);

	ck_assert_ptr_nonnull(m);
	o = (size_t)snprintf(m, n, "%sTransfer-Encoding: chunked\r\n\r\n", head);
	for (size_t i = 0; i < bl; i += chunk) {
		size_t k = bl - i < chunk ? bl - i : chunk;

		o += (size_t)snprintf(m + o, n - o, "%zx\r\n", k);
		memcpy(m + o, body + i, k);
		o += k;
		o += (size_t)snprintf(m + o, n - o, "\r\n");
	}
	snprintf(m + o, n - o, "0\r\n\r\n");
	return m;
}

struct msg {
	int dir;
	char *text;
};

struct session {
	struct msg m[16];
	size_t n;
};

static void s_add(struct session *s, int dir, char *text)
{
	ck_assert_uint_lt(s->n, NMSG(s->m));
	s->m[s->n].dir = dir;
	s->m[s->n].text = text;
	s->n++;
}

static void s_free(struct session *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].text);
	s->n = 0;
}

static int run_session(harness *h, const struct session *s)
{
	for (size_t i = 0; i < s->n; i++)
		h_feed_str(h, s->m[i].dir, s->m[i].text);
	return h->ans;
}

#define HEX64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
		 c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
/* a block header (version, previous hash, merkle root, time, bits, nonce) padded to 128 bytes as getwork sends it */
#define GW_DATA "00000001" HEX64("a") HEX64("b") "4dd7f5c7" "1a44b7cc" "00000000" \
		"00000080" "0000000000000000000000000000000000000000000000000000000000000000000000000000000080020000"
#define GW_TARGET "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000"
#define CGMINER_HEAD(host) "POST / HTTP/1.1\r\nAuthorization: Basic bWluZXIxLnJpZzE6eA==\r\nHost: " host "\r\n" \
			   "Accept: */*\r\nAccept-Encoding: deflate, gzip\r\nContent-type: application/json\r\n" \
			   "X-Mining-Extensions: longpoll midstate rollntime submitold\r\n"
#define GW_FETCH "{\"method\": \"getwork\", \"params\": [], \"id\":0}\n"

/* cgminer against a getwork pool: fetch work, submit twice (accepted, then stale). */
static void getwork_session(struct session *s)
{
	memset(s, 0, sizeof *s);
	s_add(s, C2S, msg_cl(CGMINER_HEAD("pool.example.net:8332") "User-Agent: cgminer 3.7.2\r\n", GW_FETCH));
	s_add(s, S2C, msg_cl("HTTP/1.1 200 OK\r\nServer: pushpool\r\nContent-Type: application/json\r\nX-Long-Polling: /LP\r\n"
			     "X-Roll-NTime: expire=120\r\n",
			     "{\"result\":{\"midstate\":\"" HEX64("a") "\",\"data\":\"" GW_DATA "\",\"hash1\":\""
			     "00000000000000000000000000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000010000"
			     "\",\"target\":\"" GW_TARGET "\"},\"error\":null,\"id\":0}"));
	s_add(s, C2S, msg_cl(CGMINER_HEAD("pool.example.net:8332") "User-Agent: cgminer 3.7.2\r\n",
			     "{\"method\": \"getwork\", \"params\": [\"" GW_DATA "\"], \"id\":1}\n"));
	s_add(s, S2C, msg_cl("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", "{\"result\":true,\"error\":null,\"id\":1}"));
	s_add(s, C2S, msg_cl(CGMINER_HEAD("pool.example.net:8332") "User-Agent: cgminer 3.7.2\r\n",
			     "{\"method\": \"getwork\", \"params\": [\"" GW_DATA "\"], \"id\":2}\n"));
	s_add(s, S2C, msg_cl("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Reject-Reason: stale\r\n",
			     "{\"result\":false,\"error\":null,\"id\":2}"));
}

static void check_getwork_evidence(const mt_evidence *e)
{
	ck_assert_int_eq(e->event, MT_EVENT_MINING);
	ck_assert_str_eq(e->protocol, "getwork-http");
	ck_assert(NEAR(e->confidence, 0.9));
	ck_assert_str_eq(e->evidence, "getwork-http: getwork answered with work");
	ck_assert_str_eq(e->agent, "cgminer 3.7.2");
	ck_assert_str_eq(e->pool_host, "pool.example.net");
	ck_assert_str_eq(e->wallet, "miner1");
	ck_assert_str_eq(e->worker, "rig1");
	ck_assert_str_eq(e->target, GW_TARGET);
	ck_assert_uint_eq(e->has_difficulty, 1);
	ck_assert(fabs(e->difficulty - 65535.0 * 0x1p208 / (0x1p224 - 1)) < 1e-9); /* difficulty 1 */
	ck_assert_uint_eq(e->shares, 2);
	ck_assert_uint_eq(e->shares_accepted, 1);
	ck_assert_uint_eq(e->shares_rejected, 1);
	ck_assert_uint_eq(e->jobs, 1);
	ck_assert_str_eq(e->coin, "");
	ck_assert_str_eq(e->detector, "");
}

static void ck_same_evidence(const mt_evidence *a, const mt_evidence *b)
{
	ck_assert_int_eq(a->event, b->event);
	ck_assert_str_eq(a->protocol, b->protocol);
	ck_assert_str_eq(a->algo, b->algo);
	ck_assert(a->confidence == b->confidence);
	ck_assert_str_eq(a->evidence, b->evidence);
	ck_assert_str_eq(a->pool_host, b->pool_host);
	ck_assert_str_eq(a->wallet, b->wallet);
	ck_assert_str_eq(a->worker, b->worker);
	ck_assert_str_eq(a->agent, b->agent);
	ck_assert_str_eq(a->target, b->target);
	ck_assert(a->difficulty == b->difficulty);
	ck_assert(a->reported_hashrate_hs == b->reported_hashrate_hs);
	ck_assert_uint_eq(a->shares, b->shares);
	ck_assert_uint_eq(a->shares_accepted, b->shares_accepted);
	ck_assert_uint_eq(a->shares_rejected, b->shares_rejected);
	ck_assert_uint_eq(a->jobs, b->jobs);
}

#define PREVHASH "000000000000000000026f5b4a7c0c2f8e3f3c0b5a4e1ee5b8f3f0d5a6e4c3b2"
#define GBT_TARGET "0000000000000000000523e10000000000000000000000000000000000000000"
#define GBT_TX "{\"data\":\"0100000001" HEX64("1") "00000000\",\"txid\":\"" HEX64("2") "\",\"hash\":\"" HEX64("3") \
	       "\",\"depends\":[],\"fee\":1000,\"sigops\":4,\"weight\":800}"
#define GBT_REQ "{\"id\": 0, \"method\": \"getblocktemplate\", \"params\": [{\"capabilities\": [\"coinbasetxn\", \"workid\", \"coinbase/append\"], \"rules\": [\"segwit\"]}]}"
#define GBT_HEAD "POST / HTTP/1.1\r\nHost: 127.0.0.1:8332\r\nAuthorization: Basic cnBjdXNlcjpycGNwYXNz\r\nUser-Agent: bfgminer/5.2.0\r\nContent-Type: application/json\r\n"
#define NODE_HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 20 Nov 2023 10:00:00 GMT\r\n"

static char *gbt_reply(int ntx, int with_target)
{
	size_t cap = 4096 + (size_t)ntx * (sizeof GBT_TX + 1);
	char *body = malloc(cap), *m;
	size_t o;

	ck_assert_ptr_nonnull(body);
	o = (size_t)snprintf(body, cap, "{\"result\":{\"capabilities\":[\"proposal\"],\"version\":536870912,\"rules\":[\"csv\",\"!segwit\"],"
				  "\"vbavailable\":{},\"vbrequired\":0,\"previousblockhash\":\"" PREVHASH "\",\"transactions\":[");
	for (int i = 0; i < ntx; i++)
		o += (size_t)snprintf(body + o, cap - o, "%s" GBT_TX, i ? "," : "");
	snprintf(body + o, cap - o, "],\"coinbaseaux\":{},\"coinbasevalue\":625000000,\"longpollid\":\"" PREVHASH "42\",%s"
				    "\"mintime\":1700000000,\"mutable\":[\"time\",\"transactions\",\"prevblock\"],\"noncerange\":\"00000000ffffffff\","
				    "\"sigoplimit\":80000,\"sizelimit\":4000000,\"weightlimit\":4000000,\"curtime\":1700000600,\"bits\":\"170523e1\","
				    "\"height\":820000},\"error\":null,\"id\":0}",
		 with_target ? "\"target\":\"" GBT_TARGET "\"," : "");
	m = msg_cl(NODE_HEAD, body);
	free(body);
	return m;
}

/* A solo miner against its node (BIP 22/23): a template, then a block. */
static void gbt_session(struct session *s, int ntx)
{
	memset(s, 0, sizeof *s);
	s_add(s, C2S, msg_cl(GBT_HEAD, GBT_REQ));
	s_add(s, S2C, gbt_reply(ntx, 1));
	s_add(s, C2S, msg_cl(GBT_HEAD, "{\"id\": 1, \"method\": \"submitblock\", \"params\": [\"" HEX64("0") HEX64("1") HEX64("2") "\", {\"workid\": \"1\"}]}"));
	s_add(s, S2C, msg_cl(NODE_HEAD, "{\"result\":null,\"error\":null,\"id\":1}"));
}

static const double GBT_DIFF = 65535.0 * 0x1p48 / 0x523e1; /* 0xffff * 2^208 / (0x0523e1 * 2^160) */

static void check_gbt_evidence(const mt_evidence *e)
{
	ck_assert_str_eq(e->protocol, "getblocktemplate-http");
	ck_assert(NEAR(e->confidence, 0.9));
	ck_assert_str_eq(e->evidence, "getblocktemplate-http: getblocktemplate answered with a block template");
	ck_assert_str_eq(e->agent, "bfgminer/5.2.0");
	ck_assert_str_eq(e->pool_host, "127.0.0.1");
	ck_assert_str_eq(e->worker, "rpcuser");
	ck_assert_str_eq(e->wallet, "");
	ck_assert_str_eq(e->target, GBT_TARGET);
	ck_assert(fabs(e->difficulty - GBT_DIFF) < GBT_DIFF * 1e-12);
	ck_assert_uint_eq(e->jobs, 1);
	ck_assert_uint_eq(e->shares, 1);
	ck_assert_uint_eq(e->shares_accepted, 1);
	ck_assert_uint_eq(e->shares_rejected, 0);
}

#define ETH_WALLET "0x4b999ba68e017854ffb6b494bc2ddb9ef02bd745"
#define HDR1 "0xd49408f639581e7c4daffd1b20ee981139ca96694a7e6460dad17a9bb45efcf6"
#define SEED "0x71a56feffb6f10ea9d76e1a9464eb0abd86e4349ae98fb794923a65b650282a3"
#define BOUNDARY "0x000000005ba03f80cf23190f76455c5b50637575fe8f983eab6727314d04c63e"
#define MIX "0x44e9206e9c830706f60e0129bdd117a2718d6553f3405b477541994df3583d4b"
#define MINERID "0x595394dfcf62b8f99cf36dae818fa985a394c6ded5d59f8711e93d445ad257a0"
#define ETH_HEAD(path) "POST " path " HTTP/1.1\r\nHost: eth-eu.pool.example:8080\r\nAccept: */*\r\nContent-Type: application/json\r\n"
#define NGINX_HEAD "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nConnection: keep-alive\r\n"

/* ethminer's getwork mode against a pool's HTTP front: the wallet and worker in the URL, chunked answers. */
static void eth_session(struct session *s, const char *path)
{
	char head[512];

	snprintf(head, sizeof head, ETH_HEAD("%s"), path);
	memset(s, 0, sizeof *s);
	s_add(s, C2S, msg_cl(head, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\"}"));
	s_add(s, S2C, msg_chunked(NGINX_HEAD, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":[\"" HDR1 "\",\"" SEED "\",\"" BOUNDARY "\"]}", 1000));
	s_add(s, C2S, msg_cl(head, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitHashrate\",\"params\":[\"0x1d08a61\",\"" MINERID "\"]}"));
	s_add(s, S2C, msg_chunked(NGINX_HEAD, "{\"id\":73,\"jsonrpc\":\"2.0\",\"result\":true}", 16));
	s_add(s, C2S, msg_cl(head, "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitWork\",\"params\":[\"0x07a05fa4133e5126\",\"" HDR1 "\",\"" MIX "\"]}"));
	s_add(s, S2C, msg_chunked(NGINX_HEAD, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":true}", 7));
}

static void check_eth_evidence(const mt_evidence *e, const char *worker)
{
	ck_assert_str_eq(e->protocol, "ethproxy-http");
	ck_assert_str_eq(e->algo, "ethash");
	ck_assert(NEAR(e->confidence, 0.9));
	ck_assert_str_eq(e->evidence, "ethproxy-http: eth_getWork answered with work");
	ck_assert_str_eq(e->pool_host, "eth-eu.pool.example");
	ck_assert_str_eq(e->wallet, ETH_WALLET);
	ck_assert_str_eq(e->worker, worker);
	ck_assert_str_eq(e->target, BOUNDARY);
	ck_assert(fabs(e->difficulty - 0x1p256 / 0x5ba03f80cf23190f76455c5b50637575fe8f983eab6727314d04c63ep0) < 1);
	ck_assert(e->difficulty > 1.19e10 && e->difficulty < 1.21e10);
	ck_assert(e->reported_hashrate_hs == 30444129.0); /* 0x1d08a61: 30.4 MH/s */
	ck_assert_uint_eq(e->shares, 1);
	ck_assert_uint_eq(e->shares_accepted, 1);
	ck_assert_uint_eq(e->jobs, 1);
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_interface)
{
	ck_assert_uint_eq(mt_detect_httpmine.api_version, MT_DETECTOR_API_VERSION);
	ck_assert_str_eq(mt_detect_httpmine.name, "http-mining");
	ck_assert_uint_eq(mt_detect_httpmine.wants, MT_WANT_TCP);
	ck_assert_uint_ge(mt_detect_httpmine.max_packets, 16);
	ck_assert_uint_gt(mt_detect_httpmine.state_size, 0);
	ck_assert_uint_le(mt_detect_httpmine.state_size, 1024);
	ck_assert_ptr_nonnull(mt_detect_httpmine.on_packet);
}
END_TEST

START_TEST(test_getwork_session)
{
	struct session s;
	harness h;
	char *head;
	uint32_t v;

	getwork_session(&s);
	h_init(&h, 0, 1);
	/* the header block alone: the miner's header decides, once its body says what it asked */
	head = strstr(s.m[0].text, "\r\n\r\n");
	ck_assert_ptr_nonnull(head);
	ck_assert_int_eq(h_feed(&h, C2S, s.m[0].text, (size_t)(head + 4 - s.m[0].text)), MT_UNDECIDED);
	ck_assert(NEAR(h.ev.confidence, 0.8));
	ck_assert_str_eq(h.ev.protocol, "http-mining");
	ck_assert_int_eq(h_feed_str(&h, C2S, head + 4), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "getwork-http");
	ck_assert(NEAR(h.ev.confidence, 0.8));
	ck_assert_str_eq(h.ev.evidence, "http-mining: X-Mining-Extensions: longpoll midstate rollntime submitold");
	for (size_t i = 1; i < s.n; i++)
		ck_assert_int_eq(h_feed_str(&h, s.m[i].dir, s.m[i].text), MT_DETECTED);
	check_getwork_evidence(&h.ev);
	v = h.ev.version;
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_uint_eq(h.ev.version, v);
	h_free(&h);
	s_free(&s);
}
END_TEST

START_TEST(test_cut_before_body)
{
	/* the scanner's probes: headers, then nothing; or a 400; or a stratum port's error line */
	static const char *const replies[] = {
		NULL,
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request",
		"{\"id\":0,\"result\":null,\"error\":[20,\"Parse error\",null]}\n",
		"HTTP/1.0 400 Bad Request\r\n",
	};
	const char *probe = CGMINER_HEAD("119.254.102.180:443") "Content-Length: 44\r\nUser-Agent: cgminer 3.7.2\r\n\r\n";

	for (size_t i = 0; i < NMSG(replies); i++) {
		harness h;

		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, probe), MT_UNDECIDED);
		if (replies[i])
			ck_assert_int_eq(h_feed_str(&h, S2C, replies[i]), MT_DETECTED);
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		ck_assert_str_eq(h.ev.protocol, "http-mining");
		ck_assert(NEAR(h.ev.confidence, 0.8));
		ck_assert_str_eq(h.ev.agent, "cgminer 3.7.2");
		ck_assert_str_eq(h.ev.pool_host, "119.254.102.180");
		ck_assert_str_eq(h.ev.wallet, "miner1");
		ck_assert_str_eq(h.ev.worker, "rig1");
		ck_assert_uint_eq(h.ev.shares, 0);
		h_free(&h);
	}
	/* the client closed after its headers */
	{
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, probe);
		h.fv.fin[0] = 1;
		ck_assert_int_eq(h_feed_str(&h, S2C, ""), MT_UNDECIDED); /* nothing new: the engine would not call */
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		h_free(&h);
	}
	/* cut inside the header block: the complete lines still say it */
	{
		harness h;
		const char *xme = strstr(probe, "Content-Length");

		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed(&h, C2S, probe, (size_t)(xme - probe) + 5), MT_UNDECIDED);
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		ck_assert(NEAR(h.ev.confidence, 0.8));
		h_free(&h);
	}
	/* a getwork body without any mining header, answered 400: the request alone */
	{
		harness h;
		char *m = msg_cl("POST / HTTP/1.1\r\nHost: 203.0.113.5\r\nContent-Type: application/json\r\n", GW_FETCH);

		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, m), MT_UNDECIDED);
		ck_assert(NEAR(h.ev.confidence, 0.7));
		ck_assert_int_eq(h_feed_str(&h, S2C, "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nBad Request"), MT_DETECTED);
		ck_assert(NEAR(h.ev.confidence, 0.7));
		ck_assert_str_eq(h.ev.protocol, "getwork-http");
		ck_assert_str_eq(h.ev.evidence, "getwork-http: getwork request");
		ck_assert_str_eq(h.ev.pool_host, "203.0.113.5");
		free(m);
		h_free(&h);
	}
	/* headers of a plain client and no body: nothing says mining */
	{
		harness h;

		h_init(&h, 0, 1);
		h_feed_str(&h, C2S, "POST / HTTP/1.1\r\nHost: 203.0.113.5\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r\n");
		h_feed_str(&h, S2C, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
		ck_assert_int_ne(h_end(&h), MT_DETECTED);
		ck_assert_uint_eq(h.ev.version, 0);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_gbt_session)
{
	struct session s;
	harness h;

	gbt_session(&s, 3);
	h_init(&h, 0, 1);
	/* no mining header: the request alone waits for the node */
	ck_assert_int_eq(h_feed_str(&h, C2S, s.m[0].text), MT_UNDECIDED);
	ck_assert(NEAR(h.ev.confidence, 0.7));
	ck_assert_str_eq(h.ev.evidence, "getblocktemplate-http: getblocktemplate request");
	for (size_t i = 1; i < s.n; i++)
		ck_assert_int_eq(h_feed_str(&h, s.m[i].dir, s.m[i].text), MT_DETECTED);
	check_gbt_evidence(&h.ev);
	h_free(&h);
	s_free(&s);

	/* a template of many transactions: too many tokens, read by the prefix scan */
	gbt_session(&s, 400);
	h_init(&h, 0, 1);
	ck_assert_int_eq(run_session(&h, &s), MT_DETECTED);
	check_gbt_evidence(&h.ev);
	h_free(&h);

	/* ... and cut by the stream's cap before its end: the members before the transactions say it */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, s.m[0].text);
	h_feed(&h, S2C, s.m[1].text, 3000);
	ck_assert_int_eq(h.ans, MT_UNDECIDED);
	h.fv.capped[1] = 1;
	ck_assert_int_eq(h_feed(&h, S2C, s.m[1].text + 3000, 100), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.target, ""); /* beyond the cut */
	ck_assert_uint_eq(h.ev.has_difficulty, 0);
	h_free(&h);
	s_free(&s);

	/* no "target": the difficulty from "bits" */
	h_init(&h, 0, 1);
	{
		char *q = msg_cl(GBT_HEAD, "{\"id\":0,\"method\":\"getblocktemplate\",\"params\":[]}");
		char *r = gbt_reply(1, 0);

		h_feed_str(&h, C2S, q);
		ck_assert_int_eq(h_feed_str(&h, S2C, r), MT_DETECTED);
		ck_assert(fabs(h.ev.difficulty - GBT_DIFF) < GBT_DIFF * 1e-12);
		ck_assert_str_eq(h.ev.target, "");
		free(q);
		free(r);
	}
	h_free(&h);

	/* submitblock refused with a reason */
	h_init(&h, 0, 1);
	{
		char *q = msg_cl(GBT_HEAD, "{\"id\": 1, \"method\": \"submitblock\", \"params\": [\"" HEX64("0") HEX64("1") HEX64("2") "\"]}");
		char *r = msg_cl(NODE_HEAD, "{\"result\":\"high-hash\",\"error\":null,\"id\":1}");

		ck_assert_int_eq(h_feed_str(&h, C2S, q), MT_UNDECIDED);
		ck_assert_uint_eq(h.ev.shares, 1);
		ck_assert_int_eq(h_feed_str(&h, S2C, r), MT_DETECTED);
		ck_assert(NEAR(h.ev.confidence, 0.9));
		ck_assert_str_eq(h.ev.evidence, "getblocktemplate-http: submitblock answered");
		ck_assert_uint_eq(h.ev.shares_rejected, 1);
		free(q);
		free(r);
	}
	h_free(&h);
}
END_TEST

START_TEST(test_eth_session)
{
	struct session s;
	harness h;

	eth_session(&s, "/" ETH_WALLET "/rig7");
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, s.m[0].text), MT_UNDECIDED);
	ck_assert(NEAR(h.ev.confidence, 0.7));
	ck_assert_str_eq(h.ev.protocol, "ethproxy-http");
	for (size_t i = 1; i < s.n; i++)
		ck_assert_int_eq(h_feed_str(&h, s.m[i].dir, s.m[i].text), MT_DETECTED);
	check_eth_evidence(&h.ev, "rig7");
	h_free(&h);
	s_free(&s);

	/* other URL forms of the wallet and worker */
	{
		static const struct {
			const char *path, *worker;
		} forms[] = {
			{ "/?miner=30@" ETH_WALLET "@OptionalRigName", "OptionalRigName" },
			{ "/" ETH_WALLET ".farm-3", "farm-3" },
			{ "/" ETH_WALLET, "" },
			{ "/" ETH_WALLET "/", "" },
			{ "/" ETH_WALLET "/bad%20name", "" },
		};

		for (size_t i = 0; i < NMSG(forms); i++) {
			eth_session(&s, forms[i].path);
			h_init(&h, 0, 1);
			ck_assert_int_eq(run_session(&h, &s), MT_DETECTED);
			check_eth_evidence(&h.ev, forms[i].worker);
			h_free(&h);
			s_free(&s);
		}
	}

	/* eth_submitLogin over HTTP */
	h_init(&h, 0, 1);
	{
		char *q = msg_cl(ETH_HEAD("/"), "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_submitLogin\",\"params\":[\"" ETH_WALLET "/w9\",\"x\"],\"worker\":\"w9\"}");
		char *r = msg_cl(NGINX_HEAD, "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":true}");

		h_feed_str(&h, C2S, q);
		ck_assert_int_eq(h_feed_str(&h, S2C, r), MT_DETECTED);
		ck_assert(NEAR(h.ev.confidence, 0.9));
		ck_assert_str_eq(h.ev.evidence, "ethproxy-http: eth_submitLogin answered true");
		ck_assert_str_eq(h.ev.wallet, ETH_WALLET);
		ck_assert_str_eq(h.ev.worker, "w9");
		free(q);
		free(r);
	}
	h_free(&h);

	/* the login's own worker when there is no member; a "/" form */
	{
		static const char *const logins[][2] = {
			{ ETH_WALLET ".rig5", "rig5" },
			{ ETH_WALLET "/rig6/me@example.org", "rig6" },
			{ ETH_WALLET, "" },
		};

		for (size_t i = 0; i < NMSG(logins); i++) {
			char body[256], *q;

			snprintf(body, sizeof body, "{\"id\":1,\"method\":\"eth_submitLogin\",\"params\":[\"%s\"]}", logins[i][0]);
			q = msg_cl(ETH_HEAD("/"), body);
			h_init(&h, 0, 1);
			ck_assert_int_eq(h_feed_str(&h, C2S, q), MT_UNDECIDED);
			ck_assert_int_eq(h_end(&h), MT_DETECTED);
			ck_assert(NEAR(h.ev.confidence, 0.7));
			ck_assert_str_eq(h.ev.wallet, ETH_WALLET);
			ck_assert_str_eq(h.ev.worker, logins[i][1]);
			h_free(&h);
			free(q);
		}
	}
}
END_TEST

START_TEST(test_every_split)
{
	struct session s;
	harness ref;

	getwork_session(&s);
	h_init(&ref, 0, 1);
	run_session(&ref, &s);
	for (size_t m = 0; m < s.n; m++) {
		size_t n = strlen(s.m[m].text);

		for (size_t cut = 1; cut < n; cut++) {
			harness h;

			h_init(&h, 0, 1);
			for (size_t i = 0; i < s.n; i++) {
				if (i == m) {
					h_feed(&h, s.m[i].dir, s.m[i].text, cut);
					h_feed(&h, s.m[i].dir, s.m[i].text + cut, n - cut);
				} else {
					h_feed_str(&h, s.m[i].dir, s.m[i].text);
				}
			}
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_same_evidence(&ref.ev, &h.ev);
			h_free(&h);
		}
	}
	h_free(&ref);
	s_free(&s);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	struct session s;
	harness ref, h;

	eth_session(&s, "/" ETH_WALLET "/rig7");
	h_init(&ref, 0, 1);
	run_session(&ref, &s);
	h_init(&h, 0, 1);
	for (size_t i = 0; i < s.n; i++)
		for (size_t k = 0; s.m[i].text[k]; k++)
			h_feed(&h, s.m[i].dir, s.m[i].text + k, 1);
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_same_evidence(&ref.ev, &h.ev);
	check_eth_evidence(&h.ev, "rig7");
	h_free(&h);
	h_free(&ref);
	s_free(&s);
}
END_TEST

START_TEST(test_keepalive_pipelined)
{
	/* every request in one segment, then every response in one */
	struct session s;
	harness a, h;
	size_t nc = 0, ns = 0;
	char *c2s = malloc(65536), *s2c = malloc(65536);

	ck_assert_ptr_nonnull(c2s);
	ck_assert_ptr_nonnull(s2c);
	getwork_session(&s);
	for (size_t i = 0; i < s.n; i++) {
		size_t n = strlen(s.m[i].text);

		if (s.m[i].dir == C2S) {
			memcpy(c2s + nc, s.m[i].text, n);
			nc += n;
		} else {
			memcpy(s2c + ns, s.m[i].text, n);
			ns += n;
		}
	}
	h_init(&a, 0, 1);
	run_session(&a, &s);
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed(&h, C2S, c2s, nc), MT_DETECTED);
	ck_assert_uint_eq(h.ev.shares, 2);
	ck_assert_int_eq(h_feed(&h, S2C, s2c, ns), MT_DETECTED);
	ck_same_evidence(&a.ev, &h.ev);
	check_getwork_evidence(&h.ev);
	h_free(&h);
	h_free(&a);
	s_free(&s);
	free(c2s);
	free(s2c);
}
END_TEST

/* The whole session as one byte sequence with each byte's direction, to cut anywhere. */
static size_t flatten(const struct session *s, char *bytes, int *dirs, size_t cap, size_t *ends)
{
	size_t o = 0;

	for (size_t i = 0; i < s->n; i++) {
		size_t k = strlen(s->m[i].text);

		ck_assert_uint_le(o + k, cap);
		memcpy(bytes + o, s->m[i].text, k);
		for (size_t j = 0; j < k; j++)
			dirs[o + j] = s->m[i].dir;
		o += k;
		ends[i] = o;
	}
	return o;
}

static void feed_prefix(harness *h, const char *bytes, const int *dirs, size_t cut, size_t seg)
{
	size_t o = 0;

	while (o < cut) {
		size_t e = o + 1;

		while (e < cut && dirs[e] == dirs[o] && e - o < seg)
			e++;
		h_feed(h, dirs[o], bytes + o, e - o);
		o = e;
	}
}

START_TEST(test_every_truncation)
{
	static char bytes[16384];
	static int dirs[16384];
	struct session s;
	size_t ends[16], total, xme_end, lp_end, ua_end, named, work;
	double prev_end = 0;

	getwork_session(&s);
	total = flatten(&s, bytes, dirs, sizeof bytes, ends);
	xme_end = (size_t)(strstr(bytes, "submitold\r\n") + 11 - bytes);
	lp_end = (size_t)(strstr(bytes, "X-Long-Polling: /LP\r\n") + 21 - bytes);
	ua_end = (size_t)(strstr(bytes, "cgminer 3.7.2\r\n") + 15 - bytes);
	named = (size_t)(strstr(bytes, "\"getwork\"") + 9 - bytes);
	/* a cut answer is read as far as it goes: the work is whole once its target is */
	work = (size_t)(strstr(bytes, "\"target\":\"" GW_TARGET "\"") + 10 + 64 + 1 - bytes);
	for (size_t cut = 0; cut <= total; cut++) {
		harness h;
		double want;

		h_init(&h, 0, 1);
		feed_prefix(&h, bytes, dirs, cut, 1460);
		if (h.ans == MT_DETECTED)
			ck_assert(h.ev.confidence >= 0.8);
		/* the flow ends here: what was said stands, a cut message counts for what it holds */
		h_end(&h);
		if (cut < xme_end)
			want = 0;
		else if (cut < lp_end)
			want = 0.8;
		else if (cut < work)
			want = 0.85;
		else
			want = 0.9;
		if (want == 0) {
			ck_assert_int_ne(h.ans, MT_DETECTED);
			ck_assert_uint_eq(h.ev.version, 0);
		} else {
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert_msg(NEAR(h.ev.confidence, want), "cut %zu of %zu (ends %zu %zu): %g, want %g", cut, total, ends[0], ends[1], h.ev.confidence, want);
			ck_assert_str_eq(h.ev.agent, cut >= ua_end ? "cgminer 3.7.2" : "");
			/* a cut body names its method once the name is whole */
			ck_assert_str_eq(h.ev.protocol, cut >= named ? "getwork-http" : "http-mining");
		}
		ck_assert(h.ev.confidence >= prev_end);
		prev_end = h.ev.confidence;
		if (cut == total)
			check_getwork_evidence(&h.ev);
		h_free(&h);
	}
	s_free(&s);
}
END_TEST

START_TEST(test_every_truncation_eth)
{
	static char bytes[16384];
	static int dirs[16384];
	struct session s;
	size_t ends[16], total, named, work;

	eth_session(&s, "/" ETH_WALLET "/rig7");
	total = flatten(&s, bytes, dirs, sizeof bytes, ends);
	named = (size_t)(strstr(bytes, "eth_getWork\"") + 12 - bytes);
	/* the work array is whole before the chunked body's last chunk */
	work = (size_t)(strstr(bytes + ends[0], BOUNDARY "\"]}") + strlen(BOUNDARY) + 3 - bytes);
	for (size_t cut = 0; cut <= total; cut++) {
		harness h;

		h_init(&h, 0, 1);
		feed_prefix(&h, bytes, dirs, cut, 97);
		h_end(&h);
		if (cut < named) {
			ck_assert_int_ne(h.ans, MT_DETECTED); /* no method yet */
			ck_assert_uint_eq(h.ev.version, 0);
		} else if (cut < work) {
			/* a cut body that names a mining method: the request alone */
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert(NEAR(h.ev.confidence, 0.7));
		} else {
			ck_assert_int_eq(h.ans, MT_DETECTED);
			ck_assert(NEAR(h.ev.confidence, 0.9));
			ck_assert_str_eq(h.ev.wallet, ETH_WALLET);
		}
		if (cut == total)
			check_eth_evidence(&h.ev, "rig7");
		h_free(&h);
	}
	s_free(&s);
}
END_TEST

START_TEST(test_odd_headers)
{
	harness h;
	char *m;

	/* lower-case names, no space after the colon, trailing blanks, a folded line, LF-only ends */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST /rpc HTTP/1.0\nhost:pool.example.net\nx-mining-extensions:longpoll midstate \t\n"
					     "x-folded: one\n  two\nuser-agent:   bfgminer/5.4.2   \ncontent-length: 44\n\n" GW_FETCH),
			 MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "getwork-http");
	ck_assert(NEAR(h.ev.confidence, 0.8));
	ck_assert_str_eq(h.ev.agent, "bfgminer/5.4.2");
	ck_assert_str_eq(h.ev.pool_host, "pool.example.net");
	ck_assert_str_eq(h.ev.evidence, "http-mining: X-Mining-Extensions: longpoll midstate");
	h_free(&h);

	/* a chunked request body with extensions and a trailer */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST / HTTP/1.1\r\nHost: 10.0.0.1:8332\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
					     "19;name=value\r\n{\"method\": \"getwork\", \"pa\r\n13\r\nrams\": [], \"id\":0}\n\r\n0\r\nX-Trailer: yes\r\n\r\n"),
			 MT_UNDECIDED);
	ck_assert(NEAR(h.ev.confidence, 0.7));
	ck_assert_str_eq(h.ev.protocol, "getwork-http");
	h_free(&h);

	/* Expect: 100-continue, an interim response, then the final one */
	h_init(&h, 0, 1);
	m = msg_cl("POST / HTTP/1.1\r\nHost: n\r\nExpect: 100-continue\r\n", "{\"id\":0,\"method\":\"getblocktemplate\",\"params\":[{}]}");
	h_feed_str(&h, C2S, m);
	ck_assert_int_eq(h_feed_str(&h, S2C, "HTTP/1.1 100 Continue\r\n\r\n"), MT_UNDECIDED);
	free(m);
	m = gbt_reply(2, 1);
	ck_assert_int_eq(h_feed_str(&h, S2C, m), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	free(m);
	h_free(&h);

	/* a HEAD: a page request without anything of mining */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "HEAD / HTTP/1.1\r\nHost: n\r\n\r\n"), MT_EXCLUDED);
	h_free(&h);

	/* a getwork miner's HEAD answered without a body though it declares one, then its getwork */
	h_init(&h, 0, 1);
	m = msg_cl(CGMINER_HEAD("n") "User-Agent: cgminer 3.7.2\r\n", GW_FETCH);
	h_feed_str(&h, C2S, "HEAD / HTTP/1.1\r\nHost: n\r\nX-Mining-Extensions: midstate\r\n\r\n");
	h_feed_str(&h, C2S, m);
	free(m);
	h_feed_str(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	m = msg_cl("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
		   "{\"result\":{\"data\":\"" GW_DATA "\",\"target\":\"" GW_TARGET "\"},\"error\":null,\"id\":0}");
	ck_assert_int_eq(h_feed_str(&h, S2C, m), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_uint_eq(h.ev.jobs, 1);
	free(m);
	h_free(&h);

	/* differing Content-Length values: a body we cannot frame, but the header said it */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, CGMINER_HEAD("n") "Content-Length: 44\r\nContent-Length: 45\r\n\r\n" GW_FETCH),
			 MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "http-mining");
	h_free(&h);
	/* ... and without the header, not ours */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST / HTTP/1.1\r\nContent-Length: 44\r\nContent-Length: 45\r\n\r\n" GW_FETCH),
			 MT_EXCLUDED);
	h_free(&h);
	/* equal ones are one */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, CGMINER_HEAD("n") "Content-Length: 44\r\nContent-Length: 44\r\n\r\n" GW_FETCH),
			 MT_DETECTED);
	h_free(&h);
	/* a request Transfer-Encoding without chunked: its length is unknown (RFC 7230 section 3.3.3) */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" GW_FETCH), MT_EXCLUDED);
	h_free(&h);
	/* white space before the colon (RFC 7230 section 3.2.4) */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST / HTTP/1.1\r\nX-Mining-Extensions : longpoll\r\n\r\n"), MT_EXCLUDED);
	h_free(&h);
	/* an empty X-Mining-Extensions says nothing */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "GET / HTTP/1.1\r\nX-Mining-Extensions: \r\n\r\n"), MT_EXCLUDED);
	h_free(&h);
	/* too many header fields, too long a line, too long a block */
	{
		char *big = malloc(40000);
		size_t o;

		ck_assert_ptr_nonnull(big);
		o = (size_t)snprintf(big, 40000, "POST / HTTP/1.1\r\n");
		for (int i = 0; i < 70; i++)
			o += (size_t)snprintf(big + o, 40000 - o, "X-H%d: v\r\n", i);
		snprintf(big + o, 40000 - o, "X-Mining-Extensions: midstate\r\n\r\n");
		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, big), MT_EXCLUDED);
		h_free(&h);

		o = (size_t)snprintf(big, 40000, "POST / HTTP/1.1\r\nX-Long: ");
		memset(big + o, 'a', 9000);
		snprintf(big + o + 9000, 40000 - o - 9000, "\r\nX-Mining-Extensions: midstate\r\n\r\n");
		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, big), MT_EXCLUDED);
		h_free(&h);

		o = (size_t)snprintf(big, 40000, "POST / HTTP/1.1\r\n");
		for (int i = 0; o < 17000; i++)
			o += (size_t)snprintf(big + o, 40000 - o, "X-Some-Header-%d: %0200d\r\n", i, i);
		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, C2S, big), MT_EXCLUDED);
		h_free(&h);
		free(big);
	}
}
END_TEST

START_TEST(test_pool_headers)
{
	harness h;
	char *q = msg_cl("POST / HTTP/1.1\r\nHost: mint.example.org:8332\r\nUser-Agent: python-requests/2.31\r\nContent-Type: application/json\r\n", GW_FETCH);
	char *r;

	/* a getwork pool that sends its miners to stratum */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, q), MT_UNDECIDED);
	r = msg_cl("HTTP/1.1 200 OK\r\nX-Stratum: stratum+tcp://mint.example.org:3333\r\nContent-Type: application/json\r\n",
		   "{\"result\":null,\"error\":{\"code\":-1,\"message\":\"use stratum\"},\"id\":0}");
	ck_assert_int_eq(h_feed_str(&h, S2C, r), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.85));
	ck_assert_str_eq(h.ev.evidence, "http-mining: pool reply header X-Stratum: stratum+tcp://mint.example.org:3333");
	ck_assert_str_eq(h.ev.protocol, "getwork-http");
	ck_assert_str_eq(h.ev.agent, "python-requests/2.31");
	free(r);
	h_free(&h);

	/* X-Stratum must name a stratum URL */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, q);
	r = msg_cl("HTTP/1.1 500 Error\r\nX-Stratum: none\r\n", "oops");
	ck_assert_int_eq(h_feed_str(&h, S2C, r), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.7)); /* the getwork request alone */
	free(r);
	h_free(&h);

	/* X-Mining-Hashrate: the miner's own claim */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST / HTTP/1.1\r\nHost: p\r\nX-Mining-Hashrate: 350000000\r\nContent-Length: 0\r\n\r\n"),
			 MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.8));
	ck_assert_str_eq(h.ev.evidence, "http-mining: X-Mining-Hashrate header");
	ck_assert(h.ev.reported_hashrate_hs == 350000000.0);
	h_free(&h);

	/* the long-poll GET of a getwork miner */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "GET /LP HTTP/1.1\r\nHost: p:8332\r\nX-Mining-Extensions: longpoll midstate rollntime\r\n\r\n"),
			 MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "http-mining");
	h_free(&h);
	free(q);
}
END_TEST

START_TEST(test_agent_rule)
{
	harness h;
	char *q = msg_cl("POST / HTTP/1.1\r\nHost: n\r\nUser-Agent: sgminer/5.6.1\r\nContent-Type: application/json\r\n",
			 "{\"method\":\"getinfo\",\"params\":[],\"id\":1}");

	/* a miner's user agent on a JSON-RPC POST of another method: weak, held for the server */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, q), MT_UNDECIDED);
	ck_assert(NEAR(h.ev.confidence, 0.6));
	ck_assert_int_eq(h_feed_str(&h, S2C, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "http-mining");
	ck_assert_str_eq(h.ev.evidence, "http-mining: miner user agent on a JSON-RPC POST");
	ck_assert_str_eq(h.ev.agent, "sgminer/5.6.1");
	h_free(&h);
	free(q);

	/* not a prefix of the agent, or another word that begins alike: no */
	{
		static const char *const agents[] = { "Mozilla/5.0 (cgminer)", "minerdx/1.0", "cgminers", "" };

		for (size_t i = 0; i < NMSG(agents); i++) {
			char head[256];

			snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: n\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n", agents[i]);
			q = msg_cl(head, "{\"method\":\"getinfo\",\"params\":[],\"id\":1}");
			h_init(&h, 0, 1);
			h_feed_str(&h, C2S, q);
			ck_assert_int_ne(h_end(&h), MT_DETECTED);
			h_free(&h);
			free(q);
		}
	}
	/* a miner's agent on a page request: no */
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, "GET /index.html HTTP/1.1\r\nHost: n\r\nUser-Agent: cgminer/4.9\r\n\r\n"), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_monero_daemon)
{
	harness h;
	char *q = msg_cl("POST /json_rpc HTTP/1.1\r\nHost: 127.0.0.1:18081\r\nUser-Agent: xmrig/6.21.0\r\nContent-Type: application/json\r\n",
			 "{\"jsonrpc\":\"2.0\",\"id\":\"0\",\"method\":\"get_block_template\",\"params\":{\"wallet_address\":\"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A\",\"reserve_size\":60}}");
	char *r = msg_cl("HTTP/1.1 200 Ok\r\nServer: Epee-based\r\nContent-Type: application/json\r\n",
			 "{\"id\":\"0\",\"jsonrpc\":\"2.0\",\"result\":{\"blockhashing_blob\":\"" HEX64("0") "\",\"blocktemplate_blob\":\"" HEX64("1")
			 "\",\"difficulty\":283305047039,\"expected_reward\":600000000000,\"height\":2286447,\"prev_hash\":\"" HEX64("2")
			 "\",\"reserved_offset\":130,\"status\":\"OK\",\"untrusted\":false}}");

	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, q), MT_UNDECIDED);
	ck_assert_int_eq(h_feed_str(&h, S2C, r), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "getblocktemplate-http");
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.evidence, "getblocktemplate-http: get_block_template answered with a block template");
	ck_assert(h.ev.difficulty == 283305047039.0);
	ck_assert_str_eq(h.ev.wallet, "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A");
	h_free(&h);
	free(q);
	free(r);
}
END_TEST

/* Runs a whole conversation; the answer at the end, and nothing written unless detected. */
static int lookalike(const char *const *c2s, const char *const *s2c, size_t n)
{
	harness h;
	int a;

	h_init(&h, 0, 1);
	for (size_t i = 0; i < n; i++) {
		if (c2s[i])
			h_feed_str(&h, C2S, c2s[i]);
		if (s2c && s2c[i])
			h_feed_str(&h, S2C, s2c[i]);
	}
	a = h_end(&h);
	if (a != MT_DETECTED)
		ck_assert_uint_eq(h.ev.version, 0);
	h_free(&h);
	return a;
}

static int rpc_conversation(const char *head, const char *const *bodies, size_t n, const char *result)
{
	char *c2s[16] = { 0 }, *s2c[16] = { 0 };
	int a;

	ck_assert_uint_le(n, 16);
	for (size_t i = 0; i < n; i++) {
		c2s[i] = msg_cl(head, bodies[i]);
		s2c[i] = msg_cl("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nVary: Origin\r\n", result);
	}
	a = lookalike((const char *const *)c2s, (const char *const *)s2c, n);
	for (size_t i = 0; i < n; i++) {
		free(c2s[i]);
		free(s2c[i]);
	}
	return a;
}

START_TEST(test_lookalikes)
{
	static const char *const geth[] = {
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[],\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBalance\",\"params\":[\"" ETH_WALLET "\",\"latest\"],\"id\":2}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"net_version\",\"params\":[],\"id\":3}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_call\",\"params\":[{\"to\":\"0x6b175474e89094c44da98b954eedeac495271d0f\",\"data\":\"0x70a08231\"},\"latest\"],\"id\":4}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\",\"params\":[],\"id\":5}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_gasPrice\",\"params\":[],\"id\":6}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_getBlockByNumber\",\"params\":[\"latest\",false],\"id\":7}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_syncing\",\"params\":[],\"id\":8}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"eth_getWork\",\"params\":[],\"id\":9}",
	};
	static const char *const wallet[] = {
		"{\"jsonrpc\":\"1.0\",\"id\":\"w\",\"method\":\"getblockchaininfo\",\"params\":[]}",
		"{\"jsonrpc\":\"1.0\",\"id\":\"w\",\"method\":\"getbalance\",\"params\":[\"*\",6]}",
		"{\"jsonrpc\":\"1.0\",\"id\":\"w\",\"method\":\"listunspent\",\"params\":[]}",
		"{\"jsonrpc\":\"1.0\",\"id\":\"w\",\"method\":\"getnetworkinfo\",\"params\":[]}",
		"{\"jsonrpc\":\"1.0\",\"id\":\"w\",\"method\":\"getmininginfo\",\"params\":[]}",
	};
	static const char *const wrong_shapes[] = {
		"{\"method\":\"getwork\",\"params\":[42],\"id\":0}",
		"{\"method\":\"getwork\",\"params\":[\"not hex\"],\"id\":0}",
		"{\"method\":\"getwork\",\"params\":{\"data\":\"00\"},\"id\":0}",
		"{\"method\":\"getblocktemplate\",\"params\":[{\"account\":\"x\"}],\"id\":0}",
		"{\"method\":\"getblocktemplate\",\"params\":[1,2],\"id\":0}",
		"{\"method\":\"submitblock\",\"params\":[\"00ff\"],\"id\":0}",
		"{\"method\":\"eth_submitWork\",\"params\":[\"0x1\",\"0x2\",\"0x3\"],\"id\":0}",
		"{\"method\":\"eth_submitHashrate\",\"params\":[\"fast\",\"" MINERID "\"],\"id\":0}",
		"{\"method\":\"get_block_template\",\"params\":[],\"id\":0}",
		"{\"data\":{\"method\":\"getwork\",\"params\":[]}}",
		"[1,2,3]",
	};
	const char *web3 = "POST / HTTP/1.1\r\nHost: localhost:8545\r\nUser-Agent: Go-http-client/1.1\r\nContent-Type: application/json\r\n";

	/* Geth web3 over HTTP: a node's API, even when eth_getWork comes after eight other calls */
	ck_assert_int_eq(rpc_conversation(web3, geth, NMSG(geth), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x10d4f\"}"), MT_EXCLUDED);
	/* ... and a few calls only: not mining, never written */
	ck_assert_int_ne(rpc_conversation(web3, geth, 3, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x10d4f\"}"), MT_DETECTED);
	/* a Bitcoin Core wallet */
	ck_assert_int_ne(rpc_conversation("POST / HTTP/1.1\r\nHost: 127.0.0.1:8332\r\nAuthorization: Basic cnBjdXNlcjpycGNwYXNz\r\nContent-Type: text/plain\r\n",
					  wallet, NMSG(wallet), "{\"result\":{\"chain\":\"main\",\"blocks\":820000,\"bestblockhash\":\"" PREVHASH "\"},\"error\":null,\"id\":\"w\"}"),
			 MT_DETECTED);
	/* mining names in the wrong shapes, or not where a method goes */
	for (size_t i = 0; i < NMSG(wrong_shapes); i++)
		ck_assert_int_ne(rpc_conversation("POST / HTTP/1.1\r\nHost: n\r\nContent-Type: application/json\r\n", &wrong_shapes[i], 1,
						  "{\"result\":true,\"error\":null,\"id\":0}"),
				 MT_DETECTED);
	{
		/* a page named getwork.html; REST; SOAP; WebDAV; CONNECT; a JSON-RPC echo; Zabbix */
		static const char *const pages[][2] = {
			{ "GET /getwork.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n\r\n",
			  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 29\r\n\r\n<html>getwork getwork</html>\n" },
			{ "POST /logs/_search HTTP/1.1\r\nHost: es:9200\r\nContent-Type: application/json\r\nContent-Length: 56\r\n\r\n{\"query\":{\"match\":{\"message\":\"getblocktemplate\"}}} \n",
			  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"hits\":{}}" },
			{ "POST /ws HTTP/1.1\r\nHost: soap\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"getwork\"\r\nContent-Length: 61\r\n\r\n"
			  "<soap:Envelope><soap:Body><getwork/></soap:Body></soap:Envelope>",
			  NULL },
			{ "PROPFIND /dav/ HTTP/1.1\r\nHost: dav\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n",
			  "HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n" },
			{ "CONNECT pool.example.net:443 HTTP/1.1\r\nHost: pool.example.net:443\r\n\r\n",
			  "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x4a" },
			{ "POST / HTTP/1.1\r\nHost: rpc\r\nContent-Type: application/json\r\nContent-Length: 90\r\n\r\n"
			  "{\"jsonrpc\": \"2.0\", \"method\": \"echo\", \"params\": [\"getwork\"], \"id\": \"ca08159b-af1a-481f\"}   ",
			  "HTTP/1.1 200 OK\r\nContent-Length: 55\r\n\r\n{\"jsonrpc\": \"2.0\", \"result\": \"getwork\", \"id\": \"ca08\"} " },
			{ "POST /zabbix/jsrpc.php?output=json-rpc HTTP/1.1\r\nHost: mdotti\r\nContent-type: application/json-rpc\r\nContent-Length: 60\r\n\r\n"
			  "{\"jsonrpc\": \"2.0\", \"method\": \"zabbix.status\", \"params\": {}}",
			  "HTTP/1.0 200 OK\r\nContent-Type: application/json-rpc\r\n\r\n{\"jsonrpc\":\"2.0\",\"result\":{\"result\":true},\"id\":1}" },
			{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NULL },
			{ "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": []}\n", NULL },
			{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", NULL },
			{ "post / http/1.1\r\n\r\n", NULL },
			{ "GET / HTTP/2\r\nHost: n\r\nX-Mining-Extensions: midstate\r\n\r\n", NULL },
			{ "POST /api/v1/workers HTTP/1.1\r\nHost: pool-stats\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\n\r\nmethod=getwork&id=1234",
			  NULL },
		};

		for (size_t i = 0; i < NMSG(pages); i++)
			ck_assert_int_ne(lookalike(&pages[i][0], &pages[i][1], 1), MT_DETECTED);
	}
	/* a server that speaks first (SMTP), whatever follows */
	{
		harness h;

		h_init(&h, 0, 1);
		ck_assert_int_eq(h_feed_str(&h, S2C, "220 mail.example ESMTP\r\n"), MT_EXCLUDED);
		h_free(&h);
	}
	/* a template-shaped answer to a call that did not ask for one */
	ck_assert_int_ne(rpc_conversation("POST / HTTP/1.1\r\nHost: n\r\n", wallet, 1,
					  "{\"result\":{\"version\":1,\"previousblockhash\":\"" PREVHASH "\",\"height\":5,\"bits\":\"170523e1\"},\"error\":null,\"id\":\"w\"}"),
			 MT_DETECTED);
}
END_TEST

START_TEST(test_midstream)
{
	struct session s;
	harness h;
	const char *r1;
	size_t n;

	getwork_session(&s);
	/* the capture begins inside the first request's body and the first response's body */
	h_init(&h, 1, 0);
	n = strlen(s.m[0].text);
	h_feed(&h, C2S, s.m[0].text + n - 20, 20);
	r1 = s.m[1].text;
	h_feed(&h, S2C, r1 + strlen(r1) - 30, 30);
	ck_assert_int_eq(h.ans, MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.version, 0);
	/* the next request, glued to the end of that body, is found */
	ck_assert_int_eq(h_feed_str(&h, C2S, s.m[2].text), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "getwork-http");
	ck_assert(NEAR(h.ev.confidence, 0.8));
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_str_eq(h.ev.agent, "cgminer 3.7.2");
	/* its answer pairs with it: the hole made pairing by order unsafe, so booleans do not count */
	ck_assert_int_eq(h_feed_str(&h, S2C, s.m[3].text), MT_DETECTED);
	ck_assert_uint_eq(h.ev.shares_accepted, 0);
	h_free(&h);

	/* midstream garbage that never shows a start line */
	h_init(&h, 1, 0);
	{
		char *junk = malloc(70000);

		ck_assert_ptr_nonnull(junk);
		memset(junk, 'x', 70000);
		h_feed(&h, C2S, junk, 70000);
		ck_assert_int_eq(h.ans, MT_EXCLUDED);
		free(junk);
	}
	h_free(&h);
	s_free(&s);
}
END_TEST

START_TEST(test_gap)
{
	struct session s;
	harness h;
	size_t n;

	getwork_session(&s);
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, s.m[0].text);
	h_feed_str(&h, S2C, s.m[1].text);
	ck_assert_uint_eq(h.ev.jobs, 1);
	/* the second request loses its middle: its tail is skipped, the third request counts */
	n = strlen(s.m[2].text);
	h_feed(&h, C2S, s.m[2].text, n / 3);
	h.fv.gap_off[0] = h.len[0];
	h_feed(&h, C2S, s.m[2].text + n - n / 3, n / 3);
	ck_assert_uint_eq(h.ev.shares, 0);
	h_feed_str(&h, C2S, s.m[4].text);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_int_eq(h.ans, MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.9));
	ck_assert_str_eq(h.ev.target, GW_TARGET);
	/* its answer, and the one of the request lost in the hole: pairing by order is off */
	h_feed_str(&h, S2C, s.m[3].text);
	h_feed_str(&h, S2C, s.m[5].text);
	ck_assert_uint_eq(h.ev.shares_accepted + h.ev.shares_rejected, 0);
	h_free(&h);
	s_free(&s);
}
END_TEST

START_TEST(test_evidence_not_kept)
{
	struct session s;
	harness ref, h;
	char *head;

	/*
	 * The engine keeps what a waiting detector wrote only while no other
	 * waiting detector holds the flow's evidence; otherwise each call gets a
	 * fresh, zeroed evidence. The answer that decides must carry it all.
	 */
	getwork_session(&s);
	h_init(&ref, 0, 1);
	run_session(&ref, &s);
	h_init(&h, 0, 1);
	head = strstr(s.m[0].text, "\r\n\r\n") + 4;
	ck_assert_int_eq(h_feed(&h, C2S, s.m[0].text, (size_t)(head - s.m[0].text)), MT_UNDECIDED);
	ck_assert_str_eq(h.ev.agent, "cgminer 3.7.2");
	memset(&h.ev, 0, sizeof h.ev);
	ck_assert_int_eq(h_feed_str(&h, C2S, head), MT_DETECTED);
	ck_assert_str_eq(h.ev.agent, "cgminer 3.7.2");
	ck_assert_str_eq(h.ev.worker, "rig1");
	ck_assert_str_eq(h.ev.protocol, "getwork-http");
	for (size_t i = 1; i < s.n; i++)
		h_feed_str(&h, s.m[i].dir, s.m[i].text);
	ck_same_evidence(&ref.ev, &h.ev);
	h_free(&h);
	h_free(&ref);
	s_free(&s);

	/* a block counted once, not again when read twice */
	gbt_session(&s, 1);
	h_init(&h, 0, 1);
	ck_assert_int_eq(h_feed_str(&h, C2S, s.m[2].text), MT_UNDECIDED);
	ck_assert_uint_eq(h.ev.shares, 1);
	memset(&h.ev, 0, sizeof h.ev);
	ck_assert_int_eq(h_feed_str(&h, S2C, s.m[3].text), MT_DETECTED);
	ck_assert_uint_eq(h.ev.shares, 1);
	ck_assert_uint_eq(h.ev.shares_accepted, 1);
	ck_assert_str_eq(h.ev.agent, "bfgminer/5.2.0");
	ck_assert(NEAR(h.ev.confidence, 0.9));
	h_free(&h);
	s_free(&s);
}
END_TEST

START_TEST(test_signature_agents)
{
	char dir[] = "/tmp/mt_httpmine_sigsXXXXXX";
	char path[256], err[256];
	FILE *f;
	mt_sigs *sg;
	harness h;
	char *q;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/miner-agents.txt", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# test\nHashForge hashforge\n", f);
	fclose(f);
	sg = mt_sigs_load(dir, err, sizeof err);
	ck_assert_msg(sg != NULL, "%s", err);
	q = msg_cl("POST / HTTP/1.1\r\nHost: n\r\nUser-Agent: HashForge/2.1\r\nContent-Type: application/json\r\n",
		   "{\"method\":\"getinfo\",\"params\":[],\"id\":1}");
	/* without the signatures, an unknown agent says nothing */
	h_init(&h, 0, 1);
	h_feed_str(&h, C2S, q);
	ck_assert_int_ne(h_end(&h), MT_DETECTED);
	h_free(&h);
	/* with them, it is a miner's */
	h_init(&h, 0, 1);
	h.fv.sigs = sg;
	h_feed_str(&h, C2S, q);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert(NEAR(h.ev.confidence, 0.6));
	ck_assert_str_eq(h.ev.agent, "HashForge/2.1");
	h_free(&h);
	free(q);
	mt_sigs_free(sg);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_udp_and_null_args)
{
	harness h;
	mt_pkt_view pv;

	h_init(&h, 0, 1);
	h.fv.l4proto = 17;
	ck_assert_int_eq(h_feed_str(&h, C2S, "POST / HTTP/1.1\r\n"), MT_EXCLUDED);
	h_free(&h);

	memset(&pv, 0, sizeof pv);
	h_init(&h, 0, 1);
	ck_assert_int_eq(mt_detect_httpmine.on_packet(NULL, NULL, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_httpmine.on_packet(NULL, h.state, NULL, &pv, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_httpmine.on_packet(NULL, h.state, &h.fv, NULL, &h.ev), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_httpmine.on_packet(NULL, h.state, &h.fv, &pv, NULL), MT_UNDECIDED);
	ck_assert_int_eq(mt_detect_httpmine.on_packet(NULL, h.state, &h.fv, &pv, &h.ev), MT_UNDECIDED);
	h_free(&h);
}
END_TEST

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 17);
}

static void fuzz_one(const struct session *s, int iters)
{
	static char bytes[65536];
	static int dirs[65536];
	static const char alphabet[] = "{}[]\",:0123456789abcdefx-.e \n\r\\untrfalsHTP/1 ;";
	size_t ends[16];
	size_t total = flatten(s, bytes, dirs, sizeof bytes, ends);

	for (int it = 0; it < iters; it++) {
		static char m[65536];
		harness h;
		size_t o = 0;
		int muts = 1 + (int)(rnd() % 8);

		memcpy(m, bytes, total);
		for (int k = 0; k < muts; k++)
			m[rnd() % total] = alphabet[rnd() % (sizeof alphabet - 1)];
		h_init(&h, (int)(rnd() % 4 == 0), (int)(rnd() % 2));
		while (o < total) {
			size_t e = o + 1 + rnd() % 400;

			if (e > total)
				e = total;
			for (size_t j = o + 1; j < e; j++)
				if (dirs[j] != dirs[o]) {
					e = j;
					break;
				}
			if (rnd() % 64 == 0)
				h.fv.gap_off[dirs[o]] = h.len[dirs[o]];
			if (rnd() % 256 == 0)
				h.fv.capped[dirs[o]] = 1;
			h_feed(&h, dirs[o], m + o, e - o);
			o = e;
		}
		h_end(&h);
		h_free(&h);
	}
}

START_TEST(test_fuzz_sessions)
{
	struct session s;

	getwork_session(&s);
	fuzz_one(&s, 1500);
	s_free(&s);
	gbt_session(&s, 2);
	fuzz_one(&s, 1000);
	s_free(&s);
	eth_session(&s, "/" ETH_WALLET "/rig7");
	fuzz_one(&s, 1000);
	s_free(&s);
}
END_TEST

static Suite *httpmine_suite(void)
{
	Suite *s = suite_create("detect_httpmine");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_interface);
	tcase_add_test(tc, test_getwork_session);
	tcase_add_test(tc, test_cut_before_body);
	tcase_add_test(tc, test_gbt_session);
	tcase_add_test(tc, test_eth_session);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_keepalive_pipelined);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_every_truncation_eth);
	tcase_add_test(tc, test_odd_headers);
	tcase_add_test(tc, test_pool_headers);
	tcase_add_test(tc, test_agent_rule);
	tcase_add_test(tc, test_monero_daemon);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_midstream);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_evidence_not_kept);
	tcase_add_test(tc, test_signature_agents);
	tcase_add_test(tc, test_udp_and_null_args);
	tcase_add_test(tc, test_fuzz_sessions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(httpmine_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
