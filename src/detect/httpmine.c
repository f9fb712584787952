/* httpmine.c - mining over HTTP/1.x: Bitcoin getwork, getblocktemplate / submitblock (BIP 22/23), EthProxy over HTTP, the X-Mining-* and pool headers, miner user agents. */
/*
 * Wire formats:
 *   - HTTP/1.x messages (RFC 7230): start line, header fields (names
 *     case-insensitive, section 3.2), a body framed by Transfer-Encoding:
 *     chunked (section 4.1) or Content-Length, else none for a request and
 *     the rest of the connection for a response (section 3.3.3); several
 *     messages per connection, responses in request order (section 6.3.2).
 *   - JSON-RPC 1.0 / 2.0 bodies: {"method","params","id"} and
 *     {"result","error","id"}.
 *   - getwork (Bitcoin wiki "Getwork"): params [] fetches work, answered with
 *     result {"data","target","midstate","hash1"} (target little-endian hex);
 *     params [data] submits a solved header, answered true or false.
 *     The miner's X-Mining-Extensions header lists what it supports
 *     (longpoll midstate rollntime submitold ...); pools answer with
 *     X-Long-Polling, X-Roll-NTime, X-Reject-Reason, X-Stratum (a
 *     stratum+tcp:// redirect) and X-Is-P2Pool.
 *   - getblocktemplate (BIP 22, BIP 23): params [] or [{"capabilities",
 *     "rules","mode","longpollid"...}], answered with a template
 *     {"version","previousblockhash","transactions","coinbasevalue","target",
 *     "bits","height",...} (target big-endian hex); submitblock [hexdata,
 *     {workid}] answered null or a reason string. Monero's daemon RPC
 *     get_block_template {"wallet_address","reserve_size"} is the same role.
 *   - EthProxy over HTTP (the Ethereum JSON-RPC methods for external
 *     miners): eth_getWork answered [header hash, seed hash, boundary],
 *     eth_submitWork [nonce, header, mix], eth_submitHashrate [rate, id],
 *     eth_submitLogin [wallet]; the wallet and worker often ride in the URL
 *     (POST /0xWALLET/WORKER, ?miner=RATE@0xWALLET@WORKER).
 *
 * Rules (confidence):
 *   - a mining JSON-RPC request of the right shape answered by a result of
 *     the right shape [0.9];
 *   - a pool reply carrying X-Stratum, X-Long-Polling, X-Roll-NTime,
 *     X-Reject-Reason or X-Is-P2Pool [0.85];
 *   - a request carrying X-Mining-Extensions or X-Mining-Hashrate [0.8];
 *   - a mining JSON-RPC request alone [0.7], and a miner's user agent on a
 *     JSON-RPC POST [0.6]: both held until the server has answered or the
 *     flow ends.
 * A node's API (eth_blockNumber, getbalance ...), other JSON-RPC, REST and
 * page requests are not mining.
 */
#include "detect/builtin.h"
#include "detect/detector.h"
#include "detect/sigs.h"
#include "util/json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Limits (compile-time overridable). */
#ifndef MT_HTTPMINE_MAX_PACKETS
#define MT_HTTPMINE_MAX_PACKETS 64   /* keep reading to grow share / job evidence */
#endif
#ifndef MT_HTTPMINE_MAX_HEAD
#define MT_HTTPMINE_MAX_HEAD 16384u  /* a header block longer than this is not a miner's */
#endif
#ifndef MT_HTTPMINE_MAX_HEADERS
#define MT_HTTPMINE_MAX_HEADERS 64   /* header fields per message */
#endif
#ifndef MT_HTTPMINE_MAX_LINE
#define MT_HTTPMINE_MAX_LINE 8192u   /* one start line or header field */
#endif
#ifndef MT_HTTPMINE_MAX_BODY
#define MT_HTTPMINE_MAX_BODY 16384u  /* chunked body bytes put together for parsing */
#endif
#ifndef MT_HTTPMINE_MAX_CHUNKS
#define MT_HTTPMINE_MAX_CHUNKS 256   /* chunks per body */
#endif
#ifndef MT_HTTPMINE_MAX_TOKENS
#define MT_HTTPMINE_MAX_TOKENS 512   /* JSON tokens per body; more goes to the prefix scan */
#endif
#ifndef MT_HTTPMINE_MAX_DEPTH
#define MT_HTTPMINE_MAX_DEPTH 8
#endif
#ifndef MT_HTTPMINE_MAX_FOREIGN
#define MT_HTTPMINE_MAX_FOREIGN 8    /* non-mining JSON-RPC calls before giving up */
#endif
#ifndef MT_HTTPMINE_PENDING
#define MT_HTTPMINE_PENDING 8        /* requests awaiting their response (pipelining) */
#endif
#define SKIM_DEPTH 16
#define METHOD_LEN 40
#define METHOD_MAX_LEN 20            /* longest request method token accepted */

#define CONF_AGENT 0.6
#define CONF_ALONE 0.7
#define CONF_HEADER 0.8
#define CONF_POOL_HEADER 0.85
#define CONF_ANSWERED 0.9

enum proto { PR_NONE = 0, PR_HTTP, PR_GETWORK, PR_GBT, PR_ETH };

static const char *const proto_names[] = {
	[PR_NONE] = "", [PR_HTTP] = "http-mining", [PR_GETWORK] = "getwork-http",
	[PR_GBT] = "getblocktemplate-http", [PR_ETH] = "ethproxy-http",
};

/* What a request body asked. */
enum rpc {
	R_NONE = 0,   /* no body, or not seen (cut) */
	R_NOTRPC,     /* a body that is not a JSON-RPC call */
	R_FOREIGN,    /* a JSON-RPC call of another method, or of a mining method in the wrong shape */
	R_GETWORK,
	R_GETWORK_SUBMIT,
	R_GBT,
	R_SUBMITBLOCK,
	R_ETH_GETWORK,
	R_ETH_SUBMITWORK,
	R_ETH_HASHRATE,
	R_ETH_LOGIN,
	R_XMR_GBT
};

#define IS_MINING(k) ((k) >= R_GETWORK)

struct rpc_method {
	const char *name;
	uint8_t kind;
};

static const struct rpc_method rpc_methods[] = {
	{ "getwork", R_GETWORK },
	{ "getblocktemplate", R_GBT },
	{ "submitblock", R_SUBMITBLOCK },
	{ "eth_getWork", R_ETH_GETWORK },
	{ "eth_submitWork", R_ETH_SUBMITWORK },
	{ "eth_submitHashrate", R_ETH_HASHRATE },
	{ "eth_submitLogin", R_ETH_LOGIN },
	{ "get_block_template", R_XMR_GBT },
	{ "submit_block", R_SUBMITBLOCK },
};

#define N_RPC (sizeof rpc_methods / sizeof rpc_methods[0])

static const char *rpc_name(int kind)
{
	if (kind == R_GETWORK_SUBMIT)
		return "getwork submission";
	for (size_t k = 0; k < N_RPC; k++)
		if (rpc_methods[k].kind == kind)
			return rpc_methods[k].name;
	return "request";
}

static int rpc_proto(int kind)
{
	switch (kind) {
	case R_GETWORK:
	case R_GETWORK_SUBMIT:
		return PR_GETWORK;
	case R_GBT:
	case R_SUBMITBLOCK:
	case R_XMR_GBT:
		return PR_GBT;
	case R_ETH_GETWORK:
	case R_ETH_SUBMITWORK:
	case R_ETH_HASHRATE:
	case R_ETH_LOGIN:
		return PR_ETH;
	default:
		return PR_HTTP;
	}
}

/* Members of a result object that tell work and templates apart (bits of rsum.keys). */
enum rkey {
	RK_VERSION, RK_PREVHASH, RK_TRANSACTIONS, RK_COINBASEVALUE, RK_COINBASEAUX, RK_TARGET,
	RK_BITS, RK_HEIGHT, RK_CURTIME, RK_MINTIME, RK_NONCERANGE, RK_SIGOPLIMIT, RK_SIZELIMIT,
	RK_WEIGHTLIMIT, RK_LONGPOLLID, RK_MUTABLE, RK_DATA, RK_MIDSTATE, RK_HASH1,
	RK_BLOB, RK_HASHING_BLOB, RK_DIFFICULTY, RK_PREV_HASH, RK_RESERVED_OFFSET, RK_N
};

static const char *const rkey_names[RK_N] = {
	"version", "previousblockhash", "transactions", "coinbasevalue", "coinbaseaux", "target",
	"bits", "height", "curtime", "mintime", "noncerange", "sigoplimit", "sizelimit",
	"weightlimit", "longpollid", "mutable", "data", "midstate", "hash1",
	"blocktemplate_blob", "blockhashing_blob", "difficulty", "prev_hash", "reserved_offset",
};

#define RKB(k) (1u << (k))
/* BIP 22 template members besides previousblockhash */
#define GBT_MEMBERS (RKB(RK_VERSION) | RKB(RK_TRANSACTIONS) | RKB(RK_COINBASEVALUE) | \
		     RKB(RK_COINBASEAUX) | RKB(RK_TARGET) | RKB(RK_BITS) | RKB(RK_HEIGHT) | \
		     RKB(RK_CURTIME) | RKB(RK_MINTIME) | RKB(RK_NONCERANGE) | RKB(RK_SIGOPLIMIT) | \
		     RKB(RK_SIZELIMIT) | RKB(RK_WEIGHTLIMIT) | RKB(RK_LONGPOLLID) | RKB(RK_MUTABLE))

/* Miner software that fetched work over HTTP (User-Agent prefixes, matched case-insensitively). */
static const char *const builtin_agents[] = {
	"cgminer", "bfgminer", "sgminer", "cpuminer", "minerd", "ccminer", "cudaminer", "BTCMiner",
	"ethminer", "qtminer", "Phoenix", "poclbm", "GUIMiner", "DiabloMiner", "RPCMiner",
	"Ufasoft", "xmrig",
};

enum phase { PH_HEAD = 0, PH_BODY };
enum framing { FR_NONE = 0, FR_LENGTH, FR_CHUNKED, FR_CLOSE };
enum verb { V_OTHER = 0, V_POST, V_GET, V_HEAD };

struct hdir {
	uint32_t off;       /* start of the current message */
	uint32_t scan;      /* the header-end search resumes here */
	uint32_t body;      /* start of the body (PH_BODY) */
	uint32_t clen;      /* FR_LENGTH */
	uint32_t ck_off;    /* FR_CHUNKED: the next chunk-size line */
	uint32_t ck_data;   /* FR_CHUNKED: data bytes in the chunks walked */
	uint32_t gap_seen;
	uint16_t ck_count;
	uint8_t phase;
	uint8_t framing;
	uint8_t seen;       /* first bytes looked at */
	uint8_t started;    /* a start line was accepted */
	uint8_t resync;     /* look for the next start line (midstream, after a hole) */
	uint8_t done;       /* parse no more of this direction */
	uint8_t resp_slot_ok; /* s2c: the response being read has a request */
	uint32_t resp_slot;
	uint32_t rs_scan;   /* resync search resumes here */
};

/* The request being read: spans into the c2s stream (which only grows while we are called). */
struct reqinfo {
	uint32_t host_off, host_len;
	uint32_t ua_off, ua_len;
	uint32_t auth_off, auth_len;
	uint32_t tgt_off, tgt_len;
	uint32_t xme_off, xme_len; /* X-Mining-Extensions value */
	double hashrate;           /* X-Mining-Hashrate */
	uint32_t slot;
	uint8_t verb;
	uint8_t json_ct;
	uint8_t xmining;
	uint8_t miner_agent;
};

struct slot {
	uint8_t rpc;
	uint8_t head; /* a HEAD request: its response has no body */
};

typedef struct httpmine_state {
	struct hdir d[2];
	struct reqinfo rq;
	struct slot q[MT_HTTPMINE_PENDING];
	uint32_t q_head, q_tail; /* requests read / responses taken */
	double conf;
	uint8_t proto;
	uint8_t mining;       /* a rule fired: evidence is being written */
	uint8_t excluded;
	uint8_t reported;     /* answered MT_DETECTED once */
	uint8_t rpc_mining;   /* a mining JSON-RPC request seen */
	uint8_t srv_answered; /* a complete response, or the server spoke something else */
	uint8_t pair_lost;    /* a hole: responses no longer pair with requests by order */
	uint8_t foreign;
} httpmine_state;

struct ctx {
	httpmine_state *st;
	const mt_flow_view *fv;
	mt_evidence *ev;
	uint64_t ts_us; /* packet time of this call (share and job times) */
};

/* A summary of a request body. */
struct qsum {
	int kind;
	double hashrate;    /* eth_submitHashrate */
	char login[MT_EV_WALLET_LEN];
	int login_len;      /* eth_submitLogin params[0], get_block_template wallet_address */
	char worker[MT_EV_WORKER_LEN];
	int worker_len;     /* the "worker" member */
};

struct span {
	const uint8_t *p;
	uint32_t n;
};

/* A summary of a response body. */
struct rsum {
	int rtype;          /* enum mt_json_type of "result", 0 if absent or unknown */
	int err;            /* "error" is present and not null */
	uint32_t keys;      /* RKB() of the result object's members */
	struct span target, bits, data, prevhash;
	double difficulty;  /* Monero template */
	int has_difficulty;
	int eth_work;       /* result is [header, seed, boundary(, number)] */
	struct span boundary;
};

/* ---- bytes ------------------------------------------------------------ */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 7230 section 3.2.6 tchar */
static int is_tchar(uint8_t c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int eq_ci(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	if (n != k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (lower(p[i]) != lower((uint8_t)lit[i]))
			return 0;
	return 1;
}

static int prefix_ci(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (lower(p[i]) != lower((uint8_t)lit[i]))
			return 0;
	return 1;
}

static int all_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mt_json_hexval(p[i]) < 0)
			return 0;
	return 1;
}

/* Strips "0x". */
static struct span strip0x(struct span s)
{
	if (s.n >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
		s.p += 2;
		s.n -= 2;
	}
	return s;
}

/* A 256-bit hex number as a double; little-endian byte order when le (getwork's target). */
static double hex256(struct span s, int le)
{
	double v = 0;

	s = strip0x(s);
	if (s.n == 0 || s.n > 64 || !all_hex(s.p, s.n))
		return 0;
	if (le) {
		if (s.n % 2)
			return 0;
		for (size_t i = s.n; i >= 2; i -= 2)
			v = v * 256.0 + (mt_json_hexval(s.p[i - 2]) * 16 + mt_json_hexval(s.p[i - 1]));
		return v;
	}
	for (size_t i = 0; i < s.n; i++)
		v = v * 16.0 + mt_json_hexval(s.p[i]);
	return v;
}

/* Bitcoin share difficulty: the difficulty-1 target 0xffff * 2^208 over the target. */
static double btc_difficulty(double target)
{
	return target > 0 ? 0xffffp208 / target : 0;
}

/* "bits" (compact nBits, big-endian hex of 8 digits) as a target. */
static double bits_target(struct span s)
{
	uint32_t v = 0;
	double t;
	int e;

	if (s.n != 8 || !all_hex(s.p, 8))
		return 0;
	for (int i = 0; i < 8; i++)
		v = v << 4 | (uint32_t)mt_json_hexval(s.p[i]);
	t = (double)(v & 0x007fffffu);
	for (e = (int)(v >> 24); e > 3; e--)
		t *= 256.0;
	for (; e < 3; e++)
		t /= 256.0;
	return t;
}

/* ---- JSON ------------------------------------------------------------- */

struct jd {
	const uint8_t *s;
	const mt_json_tok *t;
	int n;
};

static int jtype(const struct jd *j, int i)
{
	return i >= 0 && i < j->n ? j->t[i].type : MT_JSON_NONE;
}

static struct span jspan(const struct jd *j, int i)
{
	struct span s = { j->s + j->t[i].start, j->t[i].len };

	return s;
}

/* A plain (unescaped) string of hex digits, "0x" allowed when ox, [minlen, maxlen] digits. */
static int jhex(const struct jd *j, int i, uint32_t minlen, uint32_t maxlen, int ox)
{
	struct span s;

	if (jtype(j, i) != MT_JSON_STRING || j->t[i].escaped)
		return 0;
	s = jspan(j, i);
	if (ox) {
		if (s.n < 2 || s.p[0] != '0' || (s.p[1] != 'x' && s.p[1] != 'X'))
			return 0;
		s = strip0x(s);
	}
	return s.n >= minlen && s.n <= maxlen && all_hex(s.p, s.n);
}

/* Elements of array a, at most max; the count, or -1 if a is not an array or is larger. */
static int jkids(const struct jd *j, int a, int *out, int max)
{
	int k, i;

	if (jtype(j, a) != MT_JSON_ARRAY || j->t[a].size > (uint32_t)max)
		return -1;
	i = a + 1;
	for (k = 0; k < (int)j->t[a].size; k++) {
		if (i >= j->n)
			return -1;
		out[k] = i;
		i = (int)j->t[i].next;
	}
	return k;
}

static int lookup_rpc(const char *name)
{
	for (size_t k = 0; k < N_RPC; k++)
		if (strcmp(name, rpc_methods[k].name) == 0)
			return rpc_methods[k].kind;
	return R_FOREIGN;
}

/* BIP 22/23 template request: an object of known members (an empty one too). */
static int gbt_request_obj(const struct jd *j, int o)
{
	static const char *const known[] = { "capabilities", "rules", "mode", "longpollid",
					     "data", "workid", "maxversion", "sigoplimit",
					     "sizelimit", "maxtime", "mintime", "target" };
	uint32_t unknown = 0;
	int i = o + 1;

	for (uint32_t m = 0; m < j->t[o].size && i + 1 < j->n; m++) {
		int hit = 0;

		for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
			if (mt_json_str_eq(j->s, &j->t[i], known[k]))
				hit = 1;
		unknown += !hit;
		i = (int)j->t[i + 1].next;
	}
	return unknown == 0;
}

static void q_str(const struct jd *j, int i, char *out, size_t cap, int *len)
{
	int k = jtype(j, i) == MT_JSON_STRING ? mt_json_str(j->s, &j->t[i], out, cap) : -1;

	*len = k > 0 ? k : 0;
}

/* The kind of a JSON-RPC call object at token o, checking its params' shape. */
static int classify_call(const struct jd *j, int o, struct qsum *q)
{
	char name[METHOD_LEN];
	int im = mt_json_get(j->s, j->t, j->n, o, "method");
	int ip = mt_json_get(j->s, j->t, j->n, o, "params");
	int pt = jtype(j, ip);
	int el[4] = { -1, -1, -1, -1 };
	int n, kind;

	if (jtype(j, im) != MT_JSON_STRING)
		return R_NOTRPC;
	if (mt_json_str(j->s, &j->t[im], name, sizeof name) < 0)
		return R_FOREIGN;
	kind = lookup_rpc(name);
	n = jkids(j, ip, el, 4);
	switch (kind) {
	case R_GETWORK:
		if (ip < 0 || n == 0)
			return R_GETWORK;
		/* a solved block header: 80 bytes, padded to 128 by getwork */
		return n == 1 && jhex(j, el[0], 152, 512, 0) && j->t[el[0]].len % 2 == 0
			       ? R_GETWORK_SUBMIT : R_FOREIGN;
	case R_GBT:
		if (pt == MT_JSON_OBJECT && mt_json_get(j->s, j->t, j->n, ip, "wallet_address") >= 0) {
			/* Monero's daemon takes the same name with named params */
			q_str(j, mt_json_get(j->s, j->t, j->n, ip, "wallet_address"), q->login,
			      sizeof q->login, &q->login_len);
			return R_XMR_GBT;
		}
		if (ip < 0 || n == 0)
			return R_GBT;
		return n == 1 && jtype(j, el[0]) == MT_JSON_OBJECT && gbt_request_obj(j, el[0])
			       ? R_GBT : R_FOREIGN;
	case R_SUBMITBLOCK:
		/* [block hex] or [block hex, {workid}]: a block is at least its 80-byte header */
		return n >= 1 && n <= 2 && jhex(j, el[0], 160, UINT32_MAX, 0) &&
		       (n == 1 || jtype(j, el[1]) == MT_JSON_OBJECT || jtype(j, el[1]) == MT_JSON_STRING)
			       ? R_SUBMITBLOCK : R_FOREIGN;
	case R_XMR_GBT:
		if (pt != MT_JSON_OBJECT)
			return R_FOREIGN;
		q_str(j, mt_json_get(j->s, j->t, j->n, ip, "wallet_address"), q->login,
		      sizeof q->login, &q->login_len);
		return q->login_len > 0 ? R_XMR_GBT : R_FOREIGN;
	case R_ETH_GETWORK:
		return ip < 0 || n == 0 ? R_ETH_GETWORK : R_FOREIGN;
	case R_ETH_SUBMITWORK:
		return n == 3 && jhex(j, el[0], 1, 16, 1) && jhex(j, el[1], 64, 64, 1) &&
		       jhex(j, el[2], 64, 64, 1) ? R_ETH_SUBMITWORK : R_FOREIGN;
	case R_ETH_HASHRATE:
		if (n != 2 || !jhex(j, el[0], 1, 64, 1) || !jhex(j, el[1], 1, 64, 1))
			return R_FOREIGN;
		q->hashrate = hex256(jspan(j, el[0]), 0);
		return R_ETH_HASHRATE;
	case R_ETH_LOGIN:
		if (n < 1 || n > 3 || jtype(j, el[0]) != MT_JSON_STRING || j->t[el[0]].len == 0)
			return R_FOREIGN;
		q_str(j, el[0], q->login, sizeof q->login, &q->login_len);
		q_str(j, mt_json_get(j->s, j->t, j->n, o, "worker"), q->worker, sizeof q->worker,
		      &q->worker_len);
		return R_ETH_LOGIN;
	default:
		return R_FOREIGN;
	}
}

/* ---- the prefix scan: what a body too big for the tokens, or cut, still says ---- */

enum skey { SK_OTHER = 0, SK_METHOD, SK_PARAMS, SK_RESULT, SK_ERROR };

struct skim {
	struct span method;
	int method_ok;
	int params_nonempty;
	int rtype_char;     /* first byte of the result value */
	int err;            /* error present, not null */
	uint32_t keys;
	struct span target, bits, data, prevhash;
};

struct stok {
	uint8_t type;       /* { } [ ] : , " or 'a' (number / literal) */
	uint8_t esc;
	uint32_t off, len;
};

/* The next token of s from *i: 1, 0 at the end or when cut, -1 not JSON. */
static int skim_tok(const uint8_t *s, size_t n, size_t *i, struct stok *t)
{
	size_t k = *i;

	while (k < n && is_ws(s[k]))
		k++;
	if (k >= n)
		return 0;
	t->esc = 0;
	t->off = (uint32_t)k;
	if (s[k] && strchr("{}[]:,", s[k])) {
		t->type = s[k];
		t->len = 1;
		*i = k + 1;
		return 1;
	}
	if (s[k] == '"') {
		size_t e = k + 1;

		while (e < n && s[e] != '"') {
			if (s[e] == '\\') {
				t->esc = 1;
				e++;
			}
			e++;
		}
		if (e >= n)
			return 0;
		t->type = '"';
		t->off = (uint32_t)(k + 1);
		t->len = (uint32_t)(e - k - 1);
		*i = e + 1;
		return 1;
	}
	if (!(s[k] == '-' || (s[k] >= '0' && s[k] <= '9') || s[k] == 't' || s[k] == 'f' || s[k] == 'n'))
		return -1;
	{
		size_t e = k;

		while (e < n && !is_ws(s[e]) && s[e] && !strchr(",:]}[{\"", s[e]))
			e++;
		if (e >= n)
			return 0; /* a number may go on */
		t->type = 'a';
		t->len = (uint32_t)(e - k);
		*i = e;
	}
	return 1;
}

static int key_is(const uint8_t *s, const struct stok *t, const char *lit)
{
	return !t->esc && t->len == strlen(lit) && memcmp(s + t->off, lit, t->len) == 0;
}

/* Walks the JSON text s[0, n), possibly cut, and notes the members a JSON-RPC message is judged by. */
static void skim(const uint8_t *s, size_t n, struct skim *k)
{
	enum { W_VALUE, W_VALUE_OR_END, W_KEY, W_KEY_OR_END, W_COLON, W_COMMA_OR_END, W_DONE };
	uint8_t obj[SKIM_DEPTH];
	int depth = 0, want = W_VALUE, key1 = SK_OTHER, key2 = -1;
	size_t i = 0;
	struct stok t;

	memset(k, 0, sizeof *k);
	while (want != W_DONE && skim_tok(s, n, &i, &t) > 0) {
		if (want == W_KEY || want == W_KEY_OR_END) {
			if (t.type == '}' && want == W_KEY_OR_END)
				goto close;
			if (t.type != '"')
				return;
			if (depth == 1) {
				key1 = key_is(s, &t, "method") ? SK_METHOD : key_is(s, &t, "params") ? SK_PARAMS
				       : key_is(s, &t, "result") ? SK_RESULT : key_is(s, &t, "error") ? SK_ERROR
				       : SK_OTHER;
			} else if (depth == 2 && key1 == SK_RESULT) {
				key2 = -1;
				for (int r = 0; r < RK_N; r++)
					if (key_is(s, &t, rkey_names[r])) {
						key2 = r;
						k->keys |= RKB(r);
					}
			}
			want = W_COLON;
			continue;
		}
		if (want == W_COLON) {
			if (t.type != ':')
				return;
			want = W_VALUE;
			continue;
		}
		if (want == W_COMMA_OR_END) {
			if (t.type == ',') {
				want = obj[depth - 1] ? W_KEY : W_VALUE;
				continue;
			}
			if ((t.type == '}' && obj[depth - 1]) || (t.type == ']' && !obj[depth - 1]))
				goto close;
			return;
		}
		if (t.type == ']' && want == W_VALUE_OR_END)
			goto close;
		if (t.type == '}' || t.type == ']' || t.type == ':' || t.type == ',')
			return;
		/* a value */
		if (depth == 0 && t.type != '{')
			return;
		if (depth == 1 && obj[0]) {
			if (key1 == SK_METHOD && t.type == '"' && !t.esc) {
				k->method.p = s + t.off;
				k->method.n = t.len;
				k->method_ok = 1;
			} else if (key1 == SK_RESULT) {
				k->rtype_char = t.type == 'a' ? s[t.off] : t.type;
			} else if (key1 == SK_ERROR) {
				k->err = !(t.type == 'a' && s[t.off] == 'n');
			}
		} else if (depth == 2 && key1 == SK_PARAMS && !obj[1]) {
			k->params_nonempty = 1;
		} else if (depth == 2 && key1 == SK_RESULT && obj[1] && t.type == '"' && !t.esc) {
			struct span v = { s + t.off, t.len };

			if (key2 == RK_TARGET)
				k->target = v;
			else if (key2 == RK_BITS)
				k->bits = v;
			else if (key2 == RK_DATA)
				k->data = v;
			else if (key2 == RK_PREVHASH)
				k->prevhash = v;
		}
		if (t.type == '{' || t.type == '[') {
			if (depth >= SKIM_DEPTH)
				return;
			obj[depth++] = t.type == '{';
			want = t.type == '{' ? W_KEY_OR_END : W_VALUE_OR_END;
		} else {
			want = depth == 0 ? W_DONE : W_COMMA_OR_END;
		}
		continue;
close:
		depth--;
		want = depth == 0 ? W_DONE : W_COMMA_OR_END;
	}
}

/* ---- bodies ----------------------------------------------------------- */

/* A request body: what it asks, from the tokens, else from the prefix scan. */
static void summarize_request(const uint8_t *b, size_t n, int complete, struct qsum *q)
{
	mt_json_tok toks[MT_HTTPMINE_MAX_TOKENS];
	size_t i = 0;
	int nt;

	memset(q, 0, sizeof *q);
	while (i < n && is_ws(b[i]))
		i++;
	if (i == n) {
		q->kind = R_NONE;
		return;
	}
	if (b[i] != '{' && b[i] != '[') {
		q->kind = R_NOTRPC;
		return;
	}
	nt = mt_json_parse(b, n, toks, MT_HTTPMINE_MAX_TOKENS, MT_HTTPMINE_MAX_DEPTH);
	if (nt > 0) {
		struct jd j = { b, toks, nt };

		if (toks[0].type == MT_JSON_OBJECT) {
			q->kind = classify_call(&j, 0, q);
			return;
		}
		/* a batch (JSON-RPC 2.0 section 6): the first mining call, else what the calls are */
		q->kind = R_NOTRPC;
		for (int e = 1, m = 0; m < (int)toks[0].size && e < nt; m++, e = (int)toks[e].next) {
			struct qsum one;
			int k;

			if (toks[e].type != MT_JSON_OBJECT)
				continue;
			memset(&one, 0, sizeof one);
			k = classify_call(&j, e, &one);
			if (IS_MINING(k)) {
				one.kind = k;
				*q = one;
				return;
			}
			if (k == R_FOREIGN)
				q->kind = R_FOREIGN;
		}
		return;
	}
	if (complete && nt != MT_JSON_E_TOKENS && nt != MT_JSON_E_DEPTH) {
		q->kind = R_NOTRPC; /* all of it and not JSON */
		return;
	}
	{
		struct skim k;
		char name[METHOD_LEN];

		skim(b + i, n - i, &k);
		if (!k.method_ok) {
			q->kind = complete ? R_NOTRPC : R_NONE;
			return;
		}
		if (k.method.n >= sizeof name) {
			q->kind = R_FOREIGN;
			return;
		}
		memcpy(name, k.method.p, k.method.n);
		name[k.method.n] = '\0';
		/* the shape is out of sight: the name decides */
		q->kind = lookup_rpc(name);
		if (q->kind == R_GETWORK && k.params_nonempty)
			q->kind = R_GETWORK_SUBMIT;
	}
}

static void result_members(const struct jd *j, int o, struct rsum *r)
{
	int i = o + 1;

	for (uint32_t m = 0; m < j->t[o].size && i + 1 < j->n; m++) {
		int v = i + 1;

		for (int k = 0; k < RK_N; k++) {
			if (!mt_json_str_eq(j->s, &j->t[i], rkey_names[k]))
				continue;
			r->keys |= RKB(k);
			if (jtype(j, v) == MT_JSON_STRING && !j->t[v].escaped) {
				struct span s = jspan(j, v);

				if (k == RK_TARGET)
					r->target = s;
				else if (k == RK_BITS)
					r->bits = s;
				else if (k == RK_DATA)
					r->data = s;
				else if (k == RK_PREVHASH)
					r->prevhash = s;
			}
			if (k == RK_DIFFICULTY && jtype(j, v) == MT_JSON_NUMBER &&
			    mt_json_double(j->s, &j->t[v], &r->difficulty) == 0 && r->difficulty > 0)
				r->has_difficulty = 1;
		}
		i = (int)j->t[v].next;
	}
}

static void summarize_response(const uint8_t *b, size_t n, int complete, struct rsum *r)
{
	mt_json_tok toks[MT_HTTPMINE_MAX_TOKENS];
	size_t i = 0;
	int nt;

	memset(r, 0, sizeof *r);
	while (i < n && is_ws(b[i]))
		i++;
	if (i == n || b[i] != '{')
		return;
	nt = mt_json_parse(b, n, toks, MT_HTTPMINE_MAX_TOKENS, MT_HTTPMINE_MAX_DEPTH);
	if (nt > 0) {
		struct jd j = { b, toks, nt };
		int ir = mt_json_get(b, toks, nt, 0, "result");
		int ie = mt_json_get(b, toks, nt, 0, "error");
		int el[4];
		int k;

		r->rtype = jtype(&j, ir);
		r->err = ie >= 0 && jtype(&j, ie) != MT_JSON_NULL;
		if (r->rtype == MT_JSON_OBJECT)
			result_members(&j, ir, r);
		k = jkids(&j, ir, el, 4);
		if ((k == 3 || k == 4) && jhex(&j, el[0], 64, 64, 1) && jhex(&j, el[1], 64, 64, 1) &&
		    jhex(&j, el[2], 1, 64, 1) && (k == 3 || jhex(&j, el[3], 1, 16, 1))) {
			r->eth_work = 1;
			r->boundary = jspan(&j, el[2]);
		}
		return;
	}
	if (complete && nt != MT_JSON_E_TOKENS && nt != MT_JSON_E_DEPTH)
		return;
	{
		struct skim k;

		skim(b + i, n - i, &k);
		switch (k.rtype_char) {
		case '{': r->rtype = MT_JSON_OBJECT; break;
		case '[': r->rtype = MT_JSON_ARRAY; break;
		case '"': r->rtype = MT_JSON_STRING; break;
		case 't': r->rtype = MT_JSON_TRUE; break;
		case 'f': r->rtype = MT_JSON_FALSE; break;
		case 'n': r->rtype = MT_JSON_NULL; break;
		case 0: r->rtype = MT_JSON_NONE; break;
		default: r->rtype = MT_JSON_NUMBER; break;
		}
		r->err = k.err;
		r->keys = k.keys;
		r->target = k.target;
		r->bits = k.bits;
		r->data = k.data;
		r->prevhash = k.prevhash;
	}
}

enum shape { SH_NONE = 0, SH_GETWORK, SH_GBT, SH_XMR, SH_ETHWORK };

static int hexspan(struct span s, uint32_t minlen, uint32_t maxlen)
{
	return s.p && s.n >= minlen && s.n <= maxlen && all_hex(s.p, s.n);
}

static int popcount32(uint32_t v)
{
	int c = 0;

	for (; v; v &= v - 1)
		c++;
	return c;
}

/* Work or a template, whatever was asked: these shapes say it on their own. */
static int work_shape(const struct rsum *r)
{
	if (r->err)
		return SH_NONE;
	if (r->eth_work)
		return SH_ETHWORK;
	if (r->rtype != MT_JSON_OBJECT)
		return SH_NONE;
	if ((r->keys & RKB(RK_DATA)) && (r->keys & RKB(RK_TARGET)) && hexspan(r->data, 152, 512) &&
	    hexspan(r->target, 64, 64))
		return SH_GETWORK;
	if (hexspan(r->prevhash, 64, 64) && popcount32(r->keys & GBT_MEMBERS) >= 2)
		return SH_GBT;
	if ((r->keys & RKB(RK_BLOB)) && (r->keys & (RKB(RK_DIFFICULTY) | RKB(RK_HEIGHT))))
		return SH_XMR;
	return SH_NONE;
}

/* ---- evidence --------------------------------------------------------- */

static void ev_text(mt_evidence *ev, char *field, size_t cap, const char *s)
{
	mt_ev_set(ev, field, cap, s, strlen(s));
}

static const uint8_t *c2s(const struct ctx *c, uint32_t off)
{
	return c->fv->data[0] + off;
}

static int looks_like_address(const char *p, size_t n)
{
	static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	int ok58 = 1, okb32 = 1, one = 0;

	if (n < 26 || n > 128)
		return 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return all_hex((const uint8_t *)p + 2, n - 2);
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (ch == '\0' || !strchr(b58, ch))
			ok58 = 0;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
			okb32 = 0;
		if (ch == '1')
			one = 1;
	}
	return ok58 || (okb32 && one);
}

/* "wallet.worker" or "account.worker"; without a '.', an address is a wallet, anything else a worker. */
static void set_login(mt_evidence *ev, const char *buf, size_t n)
{
	const char *dot = n ? memchr(buf, '.', n) : NULL;

	if (n == 0)
		return;
	if (dot) {
		size_t w = (size_t)(dot - buf);

		if (w > 0)
			mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, w);
		if (n - w - 1 > 0)
			mt_ev_set(ev, ev->worker, sizeof ev->worker, buf + w + 1, n - w - 1);
		return;
	}
	if (looks_like_address(buf, n))
		mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, n);
	else
		mt_ev_set(ev, ev->worker, sizeof ev->worker, buf, n);
}

/* RFC 4648 base64; returns the decoded length, or -1. */
static int b64_decode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t ch = in[i];
		int v;

		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else if (ch == '=')
			break;
		else
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (int)o;
}

/* Authorization: Basic base64(user:pass) (RFC 7617); the user names the wallet / worker. */
static void ev_basic_auth(struct ctx *c)
{
	const struct reqinfo *rq = &c->st->rq;
	const uint8_t *p = c2s(c, rq->auth_off);
	uint32_t n = rq->auth_len, i = 6;
	char buf[256];
	const char *colon;
	int k;

	if (n <= 6 || !prefix_ci(p, n, "basic "))
		return;
	while (i < n && p[i] == ' ')
		i++;
	k = b64_decode(p + i, n - i, buf, sizeof buf);
	if (k <= 0)
		return;
	colon = memchr(buf, ':', (size_t)k);
	set_login(c->ev, buf, colon ? (size_t)(colon - buf) : (size_t)k);
}

static int is_eth_addr(const uint8_t *p, size_t n)
{
	return n == 42 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && all_hex(p + 2, 40);
}

static int worker_char(uint8_t ch)
{
	return is_alpha(ch) || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/*
 * The wallet and worker in an EthProxy URL: POST /0xWALLET/WORKER,
 * /0xWALLET.WORKER or ?miner=RATE@0xWALLET@WORKER. The fields are split at
 * / ? & = @ and the one after the address names the worker.
 */
static void ev_url_wallet(struct ctx *c)
{
	const struct reqinfo *rq = &c->st->rq;
	const uint8_t *p = c2s(c, rq->tgt_off);
	uint32_t n = rq->tgt_len, i = 0;
	int after = 0;

	while (i < n) {
		uint32_t s = i, e;

		while (i < n && !strchr("/?&=@", p[i]))
			i++;
		e = i;
		if (i < n)
			i++;
		if (e == s)
			continue;
		if (after) {
			uint32_t k = s;

			while (k < e && worker_char(p[k]))
				k++;
			if (k == e && e - s <= 64)
				MT_EV_SET(c->ev, worker, (const char *)p + s, e - s);
			return;
		}
		if (e - s >= 42 && is_eth_addr(p + s, 42)) {
			MT_EV_SET(c->ev, wallet, (const char *)p + s, 42);
			if (e - s > 43 && p[s + 42] == '.') {
				MT_EV_SET(c->ev, worker, (const char *)p + s + 43, e - s - 43);
				return;
			}
			after = 1;
		}
	}
}

/* Host: name[:port] -> name. */
static void ev_host(struct ctx *c)
{
	const struct reqinfo *rq = &c->st->rq;
	const uint8_t *p = c2s(c, rq->host_off);
	uint32_t n = rq->host_len, e = n;

	if (n == 0)
		return;
	if (p[0] == '[') {
		const uint8_t *rb = memchr(p, ']', n);

		if (rb)
			e = (uint32_t)(rb - p) + 1;
	} else {
		const uint8_t *colon = memchr(p, ':', n);

		if (colon && !memchr(colon + 1, ':', n - (uint32_t)(colon - p) - 1))
			e = (uint32_t)(colon - p);
	}
	if (e > 0)
		MT_EV_SET(c->ev, pool_host, (const char *)p, e);
}

static void ev_hashrate(mt_evidence *ev, double hs)
{
	if (hs > 0 && hs != ev->reported_hashrate_hs) {
		ev->reported_hashrate_hs = hs;
		ev->version++;
	}
}

static void ev_difficulty(mt_evidence *ev, double d)
{
	if (d > 0 && (!ev->has_difficulty || ev->difficulty != d)) {
		ev->difficulty = d;
		ev->has_difficulty = 1;
		ev->version++;
	}
}

static void bump_u64(mt_evidence *ev, uint64_t *f)
{
	(*f)++;
	ev->version++;
}

/* What the request being read says about the miner. */
static void ev_request(struct ctx *c)
{
	const struct reqinfo *rq = &c->st->rq;
	mt_evidence *ev = c->ev;

	if (rq->ua_len)
		MT_EV_SET(ev, agent, (const char *)c2s(c, rq->ua_off), rq->ua_len);
	ev_host(c);
	if (rq->auth_len)
		ev_basic_auth(c);
	if (rq->tgt_len)
		ev_url_wallet(c);
	ev_hashrate(ev, rq->hashrate);
}

static void set_proto(struct ctx *c, int proto)
{
	httpmine_state *st = c->st;

	if (proto == PR_NONE || proto == st->proto)
		return;
	if (st->proto != PR_NONE && st->proto != PR_HTTP)
		return; /* the first mining method named it */
	if (st->proto != PR_NONE && proto == PR_HTTP)
		return;
	st->proto = (uint8_t)proto;
	ev_text(c->ev, c->ev->protocol, sizeof c->ev->protocol, proto_names[proto]);
	if (proto == PR_ETH)
		ev_text(c->ev, c->ev->algo, sizeof c->ev->algo, "ethash");
}

__attribute__((format(printf, 4, 5)))
static void raise_conf(struct ctx *c, double conf, int proto, const char *fmt, ...)
{
	httpmine_state *st = c->st;
	mt_evidence *ev = c->ev;

	if (!st->mining) {
		st->mining = 1;
		ev->event = MT_EVENT_MINING;
		ev->version++;
		ev_request(c);
	}
	set_proto(c, proto);
	if (conf > st->conf) {
		char text[MT_EV_TEXT_LEN];
		va_list ap;
		int k;

		st->conf = conf;
		ev->confidence = conf;
		ev->version++;
		va_start(ap, fmt);
		k = vsnprintf(text, sizeof text, fmt, ap);
		va_end(ap);
		if (k < 0)
			k = 0;
		if ((size_t)k >= sizeof text)
			k = (int)sizeof text - 1;
		mt_ev_set(ev, ev->evidence, sizeof ev->evidence, text, (size_t)k);
	}
}

static void not_mine(struct ctx *c)
{
	if (!c->st->mining)
		c->st->excluded = 1;
}

/* ---- agents ----------------------------------------------------------- */

static int miner_agent(const struct ctx *c, const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < sizeof builtin_agents / sizeof builtin_agents[0]; k++) {
		size_t l = strlen(builtin_agents[k]);

		/* the name, then a version or nothing: "cgminer 3.7.2", "bfgminer/5.2.0" */
		if (prefix_ci(p, n, builtin_agents[k]) && (n == l || !is_alpha(p[l])))
			return 1;
	}
	return c->fv->sigs && mt_sigs_agent(c->fv->sigs, (const char *)p, n) != NULL;
}

/* ---- requests and responses ------------------------------------------- */

static struct slot *slot_at(httpmine_state *st, uint32_t idx)
{
	return &st->q[idx % MT_HTTPMINE_PENDING];
}

static void on_request_done(struct ctx *c, const uint8_t *b, size_t n, int complete)
{
	httpmine_state *st = c->st;
	const struct reqinfo *rq = &st->rq;
	mt_evidence *ev = c->ev;
	struct qsum q;

	summarize_request(b, n, complete, &q);
	if (st->q_head - rq->slot <= MT_HTTPMINE_PENDING)
		slot_at(st, rq->slot)->rpc = (uint8_t)q.kind;
	if (IS_MINING(q.kind)) {
		st->rpc_mining = 1;
		raise_conf(c, CONF_ALONE, rpc_proto(q.kind), "%s: %s request%s", proto_names[rpc_proto(q.kind)],
			   rpc_name(q.kind), complete ? "" : " (cut)");
		switch (q.kind) {
		case R_GETWORK_SUBMIT:
		case R_SUBMITBLOCK:
		case R_ETH_SUBMITWORK:
			bump_u64(ev, &ev->shares);
			/* Ethash boundary and Monero template difficulties are hashes per share; a Bitcoin
			 * target's difficulty is in difficulty-1 units */
			mt_ev_share(ev, c->ts_us, ev->has_difficulty ? ev->difficulty : 0,
				    q.kind == R_ETH_SUBMITWORK || strcmp(ev->algo, "randomx") == 0 ||
				    strncmp(ev->algo, "cn", 2) == 0);
			break;
		case R_ETH_HASHRATE:
			ev_hashrate(ev, q.hashrate);
			break;
		case R_ETH_LOGIN: {
			/* "0xWALLET", "0xWALLET.worker" or "0xWALLET/worker/email"; a "worker" member wins */
			const char *sl = memchr(q.login, '/', (size_t)q.login_len);

			if (sl) {
				const char *w = sl + 1, *e = memchr(w, '/', (size_t)(q.login + q.login_len - w));

				mt_ev_set(ev, ev->wallet, sizeof ev->wallet, q.login, (size_t)(sl - q.login));
				if (!e)
					e = q.login + q.login_len;
				if (e > w && q.worker_len == 0)
					mt_ev_set(ev, ev->worker, sizeof ev->worker, w, (size_t)(e - w));
			} else {
				set_login(ev, q.login, (size_t)q.login_len);
			}
			if (q.worker_len > 0)
				mt_ev_set(ev, ev->worker, sizeof ev->worker, q.worker, (size_t)q.worker_len);
			break;
		}
		case R_XMR_GBT:
			if (q.login_len > 0)
				mt_ev_set(ev, ev->wallet, sizeof ev->wallet, q.login, (size_t)q.login_len);
			break;
		default:
			break;
		}
		return;
	}
	if (rq->miner_agent && rq->verb == V_POST &&
	    (q.kind == R_FOREIGN || (q.kind == R_NONE && rq->json_ct)))
		raise_conf(c, CONF_AGENT, PR_HTTP, "http-mining: miner user agent on a JSON-RPC POST");
	if (st->mining)
		return;
	if (q.kind == R_FOREIGN) {
		if (++st->foreign >= MT_HTTPMINE_MAX_FOREIGN)
			not_mine(c);
	} else if (complete) {
		not_mine(c); /* a page, a form, a REST call: not a miner's */
	}
}

static void on_response_done(struct ctx *c, const uint8_t *b, size_t n, int complete)
{
	httpmine_state *st = c->st;
	struct hdir *ds = &st->d[1];
	mt_evidence *ev = c->ev;
	int kind = R_NONE, sh;
	struct rsum r;

	st->srv_answered = 1;
	if (ds->resp_slot_ok && !st->pair_lost && st->q_head - ds->resp_slot <= MT_HTTPMINE_PENDING)
		kind = slot_at(st, ds->resp_slot)->rpc;
	ds->resp_slot_ok = 0;
	if (!IS_MINING(kind) && !st->rpc_mining)
		return;
	summarize_response(b, n, complete, &r);
	sh = work_shape(&r);
	switch (kind) {
	case R_GETWORK_SUBMIT:
	case R_ETH_SUBMITWORK:
	case R_ETH_HASHRATE:
	case R_ETH_LOGIN:
		if (r.rtype != MT_JSON_TRUE && r.rtype != MT_JSON_FALSE)
			return;
		raise_conf(c, CONF_ANSWERED, rpc_proto(kind), "%s: %s answered %s",
			   proto_names[rpc_proto(kind)], rpc_name(kind),
			   r.rtype == MT_JSON_TRUE ? "true" : "false");
		if (kind == R_GETWORK_SUBMIT || kind == R_ETH_SUBMITWORK)
			bump_u64(ev, r.rtype == MT_JSON_TRUE ? &ev->shares_accepted : &ev->shares_rejected);
		return;
	case R_SUBMITBLOCK:
		/* BIP 22: null when accepted, else the reason as a string */
		if (r.err || (r.rtype != MT_JSON_NULL && r.rtype != MT_JSON_STRING &&
			      r.rtype != MT_JSON_OBJECT))
			return;
		raise_conf(c, CONF_ANSWERED, PR_GBT, "getblocktemplate-http: %s answered", rpc_name(kind));
		bump_u64(ev, r.rtype == MT_JSON_STRING ? &ev->shares_rejected : &ev->shares_accepted);
		return;
	case R_GETWORK:
	case R_GBT:
	case R_ETH_GETWORK:
	case R_XMR_GBT:
	case R_NONE:
		break;
	default:
		return;
	}
	if (sh == SH_NONE)
		return;
	if (kind != R_NONE && !((kind == R_GETWORK && sh == SH_GETWORK) || (kind == R_GBT && sh == SH_GBT) ||
				(kind == R_ETH_GETWORK && sh == SH_ETHWORK) ||
				(kind == R_XMR_GBT && sh == SH_XMR)))
		return;
	switch (sh) {
	case SH_GETWORK:
		raise_conf(c, CONF_ANSWERED, PR_GETWORK, "getwork-http: getwork answered with work");
		MT_EV_SET(ev, target, (const char *)r.target.p, r.target.n);
		ev_difficulty(ev, btc_difficulty(hex256(r.target, 1)));
		break;
	case SH_GBT:
		raise_conf(c, CONF_ANSWERED, PR_GBT, "getblocktemplate-http: getblocktemplate answered with a block template");
		if (hexspan(r.target, 64, 64)) {
			MT_EV_SET(ev, target, (const char *)r.target.p, r.target.n);
			ev_difficulty(ev, btc_difficulty(hex256(r.target, 0)));
		} else if (r.bits.p) {
			ev_difficulty(ev, btc_difficulty(bits_target(r.bits)));
		}
		break;
	case SH_XMR:
		raise_conf(c, CONF_ANSWERED, PR_GBT, "getblocktemplate-http: get_block_template answered with a block template");
		if (r.has_difficulty)
			ev_difficulty(ev, r.difficulty);
		break;
	case SH_ETHWORK:
		raise_conf(c, CONF_ANSWERED, PR_ETH, "ethproxy-http: eth_getWork answered with work");
		MT_EV_SET(ev, target, (const char *)r.boundary.p, r.boundary.n);
		{
			double bound = hex256(r.boundary, 0);

			if (bound > 0)
				ev_difficulty(ev, 0x1p256 / bound); /* Ethash: 2^256 / boundary */
		}
		break;
	default:
		return;
	}
	bump_u64(ev, &ev->jobs);
	mt_ev_work(ev, c->ts_us);
}

/* ---- HTTP/1.x framing --------------------------------------------------- */

/* Strict decimal (RFC 7230 section 3.3.2), at most UINT32_MAX. */
static int parse_u32(const uint8_t *p, size_t n, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* X-Mining-Hashrate: hashes per second, a decimal number. */
static double parse_rate(const uint8_t *p, size_t n)
{
	double v = 0, scale = 0;

	if (n == 0 || n > 24)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.' && scale == 0) {
			scale = 1;
		} else if (p[i] >= '0' && p[i] <= '9') {
			if (scale > 0) {
				scale /= 10;
				v += (p[i] - '0') * scale;
			} else {
				v = v * 10 + (p[i] - '0');
			}
		} else {
			return 0;
		}
	}
	return v;
}

/* Transfer-Encoding ends in "chunked" (RFC 7230 section 3.3.1). */
static int te_chunked(const uint8_t *p, size_t n)
{
	size_t e = n, s;

	while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	s = e;
	while (s > 0 && p[s - 1] != ',')
		s--;
	while (s < e && (p[s] == ' ' || p[s] == '\t'))
		s++;
	return eq_ci(p + s, e - s, "chunked");
}

/* An X-Mining-Extensions value: extension names separated by spaces. */
static int ext_list(const uint8_t *p, size_t n)
{
	int tok = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == ',')
			continue;
		if (!is_tchar(p[i]) && p[i] != '/')
			return 0;
		tok = 1;
	}
	return tok;
}

struct head {
	uint32_t clen;
	uint8_t has_clen, chunked, te, bad;
	int status;
	/* responses: the pool header that decides, if any */
	const char *pool_hdr;
	uint32_t pool_off, pool_len;
};

/* The end of the line at p (index of '\n'), or end. */
static uint32_t line_end(const uint8_t *d, uint32_t p, uint32_t end)
{
	const uint8_t *nl = memchr(d + p, '\n', end - p);

	return nl ? (uint32_t)(nl - d) : end;
}

/* Request line: method SP request-target SP HTTP/1.x (RFC 7230 section 3.1.1). */
static int request_line(struct ctx *c, const uint8_t *d, uint32_t s, uint32_t e)
{
	struct reqinfo *rq = &c->st->rq;
	uint32_t i = s, m, t;

	while (i < e && ((d[i] >= 'A' && d[i] <= 'Z') || d[i] == '-' || d[i] == '_'))
		i++;
	if (i == s || i - s > METHOD_MAX_LEN || i >= e || d[i] != ' ')
		return 0;
	m = i - s;
	rq->verb = eq_ci(d + s, m, "POST") ? V_POST : eq_ci(d + s, m, "GET") ? V_GET
		 : eq_ci(d + s, m, "HEAD") ? V_HEAD : V_OTHER;
	t = ++i;
	while (i < e && d[i] > ' ' && d[i] < 0x7f)
		i++;
	if (i == t || e - i != 9 || d[i] != ' ' || memcmp(d + i + 1, "HTTP/1.", 7) != 0 ||
	    (d[i + 8] != '0' && d[i + 8] != '1'))
		return 0;
	rq->tgt_off = t;
	rq->tgt_len = i - t;
	return 1;
}

/* Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 7230 section 3.1.2). */
static int status_line(const uint8_t *d, uint32_t s, uint32_t e, int *status)
{
	if (e - s < 12 || memcmp(d + s, "HTTP/1.", 7) != 0 || (d[s + 7] != '0' && d[s + 7] != '1') ||
	    d[s + 8] != ' ' || d[s + 9] < '1' || d[s + 9] > '5' || d[s + 10] < '0' ||
	    d[s + 10] > '9' || d[s + 11] < '0' || d[s + 11] > '9' ||
	    (e - s > 12 && d[s + 12] != ' '))
		return 0;
	*status = (d[s + 9] - '0') * 100 + (d[s + 10] - '0') * 10 + (d[s + 11] - '0');
	return 1;
}

/*
 * One header field of a request or a response. Names compare
 * case-insensitively (RFC 7230 section 3.2); no white space before the colon.
 */
static int header_field(struct ctx *c, int dir, const uint8_t *d, uint32_t s, uint32_t e,
			struct head *h)
{
	struct reqinfo *rq = &c->st->rq;
	uint32_t colon = s, vs, ve, nl;
	const uint8_t *name = d + s, *v;

	while (colon < e && is_tchar(d[colon]))
		colon++;
	if (colon == s || colon >= e || d[colon] != ':')
		return 0;
	nl = colon - s;
	vs = colon + 1;
	ve = e;
	while (vs < ve && (d[vs] == ' ' || d[vs] == '\t'))
		vs++;
	while (ve > vs && (d[ve - 1] == ' ' || d[ve - 1] == '\t'))
		ve--;
	v = d + vs;
	if (eq_ci(name, nl, "content-length")) {
		uint32_t cl = 0;

		if (parse_u32(v, ve - vs, &cl) < 0 || (h->has_clen && h->clen != cl))
			h->bad = 1; /* RFC 7230 section 3.3.2: differing lengths are an error */
		h->clen = cl;
		h->has_clen = 1;
	} else if (eq_ci(name, nl, "transfer-encoding")) {
		h->te = 1;
		h->chunked = (uint8_t)te_chunked(v, ve - vs);
	} else if (dir == 0) {
		if (eq_ci(name, nl, "host")) {
			rq->host_off = vs;
			rq->host_len = ve - vs;
		} else if (eq_ci(name, nl, "user-agent")) {
			rq->ua_off = vs;
			rq->ua_len = ve - vs;
			rq->miner_agent = (uint8_t)miner_agent(c, v, ve - vs);
		} else if (eq_ci(name, nl, "authorization")) {
			rq->auth_off = vs;
			rq->auth_len = ve - vs;
		} else if (eq_ci(name, nl, "content-type")) {
			for (uint32_t i = 0; i + 4 <= ve - vs; i++)
				if (prefix_ci(v + i, ve - vs - i, "json"))
					rq->json_ct = 1;
		} else if (eq_ci(name, nl, "x-mining-extensions")) {
			if (ext_list(v, ve - vs)) {
				rq->xmining = 1;
				rq->xme_off = vs;
				rq->xme_len = ve - vs;
			}
		} else if (eq_ci(name, nl, "x-mining-hashrate")) {
			double hs = parse_rate(v, ve - vs);

			if (hs > 0) {
				rq->xmining = rq->xmining ? rq->xmining : 2;
				rq->hashrate = hs;
			}
		}
	} else if (!h->pool_hdr && ve > vs) {
		static const char *const pool_hdrs[] = { "x-stratum", "x-long-polling", "x-roll-ntime",
							 "x-reject-reason", "x-is-p2pool" };

		for (size_t k = 0; k < sizeof pool_hdrs / sizeof pool_hdrs[0]; k++) {
			if (!eq_ci(name, nl, pool_hdrs[k]))
				continue;
			if (k == 0 && !prefix_ci(v, ve - vs, "stratum"))
				break; /* X-Stratum names a stratum URL */
			h->pool_hdr = k == 0 ? "X-Stratum" : k == 1 ? "X-Long-Polling" : k == 2 ? "X-Roll-NTime"
				    : k == 3 ? "X-Reject-Reason" : "X-Is-P2Pool";
			h->pool_off = vs;
			h->pool_len = ve - vs;
			break;
		}
	}
	return 1;
}

/* Parses the header block [s, e) (its lines; e ends the last line). Returns 0 if it is not HTTP. */
static int parse_head(struct ctx *c, int dir, uint32_t s, uint32_t e, struct head *h)
{
	const uint8_t *d = c->fv->data[dir];
	uint32_t p = s, fields = 0;
	int first = 1;

	memset(h, 0, sizeof *h);
	if (dir == 0) {
		uint32_t slot = c->st->rq.slot;

		memset(&c->st->rq, 0, sizeof c->st->rq);
		c->st->rq.slot = slot;
	}
	while (p < e) {
		uint32_t le = line_end(d, p, e), ce = le;

		if (ce > p && d[ce - 1] == '\r')
			ce--;
		if (ce - p > MT_HTTPMINE_MAX_LINE)
			return 0;
		if (first) {
			if (dir == 0 ? !request_line(c, d, p, ce) : !status_line(d, p, ce, &h->status))
				return 0;
			first = 0;
		} else if (ce == p) {
			break; /* the blank line */
		} else if (d[p] == ' ' || d[p] == '\t') {
			/* obs-fold (RFC 7230 section 3.2.4): a continuation, nothing we read */
		} else {
			if (++fields > MT_HTTPMINE_MAX_HEADERS || !header_field(c, dir, d, p, ce, h))
				return 0;
		}
		p = le + 1;
	}
	return !first;
}

/* The index just past the blank line that ends the header block begun at ds->off, or 0. */
static uint32_t head_end(struct hdir *ds, const uint8_t *d, uint32_t end)
{
	uint32_t p = ds->scan > ds->off ? ds->scan : ds->off;

	while (p < end) {
		const uint8_t *nl = memchr(d + p, '\n', end - p);
		uint32_t q;

		if (!nl)
			break;
		q = (uint32_t)(nl - d);
		if (q + 1 >= end) {
			ds->scan = q;
			return 0;
		}
		if (d[q + 1] == '\n')
			return q + 2;
		if (d[q + 1] == '\r') {
			if (q + 2 >= end) {
				ds->scan = q;
				return 0;
			}
			if (d[q + 2] == '\n')
				return q + 3;
		}
		p = q + 1;
	}
	ds->scan = end;
	return 0;
}

static void msg_done(struct ctx *c, int dir, const uint8_t *b, size_t n, int complete)
{
	if (dir == 0)
		on_request_done(c, b, n, complete);
	else
		on_response_done(c, b, n, complete);
}

static void next_message(struct hdir *ds, uint32_t off)
{
	ds->off = off;
	ds->scan = off;
	ds->phase = PH_HEAD;
	ds->framing = FR_NONE;
}

/* A complete header block [ds->off, he): the message's signals and framing. Returns 0 if not HTTP. */
static int on_head(struct ctx *c, int dir, uint32_t he, int cut)
{
	httpmine_state *st = c->st;
	struct hdir *ds = &st->d[dir];
	struct head h;
	int head_req = 0;

	if (!parse_head(c, dir, ds->off, he, &h))
		return 0;
	ds->started = 1;
	if (dir == 0) {
		struct reqinfo *rq = &st->rq;

		if (st->q_head - st->q_tail >= MT_HTTPMINE_PENDING) {
			st->q_tail++; /* too many unanswered: the oldest is forgotten */
			st->pair_lost = 1;
		}
		rq->slot = st->q_head++;
		slot_at(st, rq->slot)->rpc = R_NONE;
		slot_at(st, rq->slot)->head = rq->verb == V_HEAD;
		if (rq->xmining == 1)
			raise_conf(c, CONF_HEADER, PR_HTTP, "http-mining: X-Mining-Extensions: %.*s",
				   (int)(rq->xme_len > 80 ? 80 : rq->xme_len),
				   (const char *)c2s(c, rq->xme_off));
		else if (rq->xmining == 2)
			raise_conf(c, CONF_HEADER, PR_HTTP, "http-mining: X-Mining-Hashrate header");
		if (st->mining)
			ev_hashrate(c->ev, rq->hashrate);
		if (h.te && !h.chunked)
			h.bad = 1; /* RFC 7230 section 3.3.3: a request body of unknown length */
		ds->framing = h.chunked ? FR_CHUNKED : h.has_clen && h.clen ? FR_LENGTH : FR_NONE;
	} else {
		if (h.status >= 100 && h.status < 200) {
			if (h.status == 101) {
				ds->done = 1; /* another protocol from here */
				return 1;
			}
			next_message(ds, he); /* interim: the final response follows */
			return 1;
		}
		ds->resp_slot_ok = st->q_tail < st->q_head;
		if (ds->resp_slot_ok) {
			ds->resp_slot = st->q_tail++;
			head_req = slot_at(st, ds->resp_slot)->head;
		}
		if (h.pool_hdr)
			raise_conf(c, CONF_POOL_HEADER, PR_HTTP, "http-mining: pool reply header %s: %.*s",
				   h.pool_hdr, (int)(h.pool_len > 80 ? 80 : h.pool_len),
				   (const char *)c->fv->data[1] + h.pool_off);
		if (head_req || h.status == 204 || h.status == 304)
			ds->framing = FR_NONE;
		else
			ds->framing = h.chunked ? FR_CHUNKED : h.has_clen ? (h.clen ? FR_LENGTH : FR_NONE)
				    : FR_CLOSE;
	}
	if (h.bad) {
		/* what the head said stands; the body cannot be framed, nor anything after it */
		ds->done = 1;
		if (dir == 0)
			not_mine(c);
		else
			st->srv_answered = 1;
		return 1;
	}
	ds->clen = h.clen;
	ds->body = he;
	ds->ck_off = he;
	ds->ck_data = 0;
	ds->ck_count = 0;
	if (cut) {
		msg_done(c, dir, NULL, 0, 0);
		ds->done = 1;
		return 1;
	}
	if (ds->framing == FR_NONE) {
		msg_done(c, dir, NULL, 0, 1);
		next_message(ds, he);
		return 1;
	}
	ds->phase = PH_BODY;
	return 1;
}

/* A chunk-size line at p (RFC 7230 section 4.1): size in hex, extensions ignored. 1 ok, 0 more bytes, -1 bad. */
static int chunk_line(const uint8_t *d, uint32_t p, uint32_t end, uint32_t *size, uint32_t *next)
{
	const uint8_t *nl = memchr(d + p, '\n', end - p);
	uint32_t v = 0, i = p, digits = 0;

	if (!nl)
		return end - p > 256 ? -1 : 0;
	while (d + i < nl && mt_json_hexval(d[i]) >= 0) {
		if (++digits > 7)
			return -1; /* over 256 MiB: not a miner's */
		v = v << 4 | (uint32_t)mt_json_hexval(d[i]);
		i++;
	}
	if (digits == 0 || (d + i < nl && d[i] != ';' && d[i] != '\r' && d[i] != ' ' && d[i] != '\t'))
		return -1;
	*size = v;
	*next = (uint32_t)(nl - d) + 1;
	return 1;
}

/* The end of the line ending a chunk's data at p: CRLF or LF. */
static int chunk_crlf(const uint8_t *d, uint32_t p, uint32_t end, uint32_t *next)
{
	if (p < end && d[p] == '\n') {
		*next = p + 1;
		return 1;
	}
	if (end - p < 2)
		return p < end && d[p] != '\r' ? -1 : 0;
	if (d[p] == '\r' && d[p + 1] == '\n') {
		*next = p + 2;
		return 1;
	}
	return -1;
}

/* Gathers the data of the chunks in [from, to) into out. */
static size_t chunk_gather(const uint8_t *d, uint32_t from, uint32_t to, uint8_t *out, size_t cap)
{
	uint32_t p = from, size, next;
	size_t o = 0;

	while (p < to && o < cap && chunk_line(d, p, to, &size, &next) == 1 && size > 0) {
		uint32_t take = to - next < size ? to - next : size;

		if (take > cap - o)
			take = (uint32_t)(cap - o);
		memcpy(out + o, d + next, take);
		o += take;
		if (to - next <= size)
			break;
		p = next + size;
		if (chunk_crlf(d, p, to, &next) != 1)
			break;
		p = next;
	}
	return o;
}

/*
 * Walks the chunks from ds->ck_off. Returns 1 when the body (last chunk and
 * trailers) is complete, with *end past it; 0 for more bytes; -1 if bad.
 */
static int chunk_walk(struct hdir *ds, const uint8_t *d, uint32_t len, uint32_t *end)
{
	for (;;) {
		uint32_t size, next, p = ds->ck_off;
		int r = chunk_line(d, p, len, &size, &next);

		if (r <= 0)
			return r;
		if (size == 0) {
			/* trailer fields, then a blank line */
			p = next;
			for (;;) {
				const uint8_t *nl;

				if (p >= len)
					return 0;
				nl = memchr(d + p, '\n', len - p);
				if (!nl)
					return len - p > MT_HTTPMINE_MAX_LINE ? -1 : 0;
				if (d + p == nl || (d + p + 1 == nl && d[p] == '\r')) {
					*end = (uint32_t)(nl - d) + 1;
					return 1;
				}
				p = (uint32_t)(nl - d) + 1;
			}
		}
		if (len - next < size)
			return 0;
		r = chunk_crlf(d, next + size, len, &p);
		if (r <= 0)
			return r;
		if (++ds->ck_count > MT_HTTPMINE_MAX_CHUNKS)
			return -1;
		ds->ck_data += size;
		ds->ck_off = p;
	}
}

/* The body of the current message; final: no more bytes will come. Returns 1 when done with it. */
static int body_step(struct ctx *c, int dir, uint32_t len, int final, int closed)
{
	struct hdir *ds = &c->st->d[dir];
	const uint8_t *d = c->fv->data[dir];
	uint8_t buf[MT_HTTPMINE_MAX_BODY];

	switch (ds->framing) {
	case FR_LENGTH:
		if (len - ds->body >= ds->clen) {
			msg_done(c, dir, d + ds->body, ds->clen, 1);
			next_message(ds, ds->body + ds->clen);
			return 1;
		}
		if (!final)
			return 0;
		msg_done(c, dir, d + ds->body, len - ds->body, 0);
		ds->done = 1;
		return 0;
	case FR_CLOSE:
		if (!final)
			return 0;
		msg_done(c, dir, d + ds->body, len - ds->body, closed);
		ds->done = 1;
		return 0;
	case FR_CHUNKED: {
		uint32_t end = 0;
		int r = chunk_walk(ds, d, len, &end);
		size_t n;

		if (r == 0 && !final)
			return 0;
		if (r < 0) {
			ds->done = 1;
			if (dir == 0)
				not_mine(c);
			return 0;
		}
		n = chunk_gather(d, ds->body, r == 1 ? end : len, buf, sizeof buf);
		msg_done(c, dir, buf, n, r == 1 && n == ds->ck_data);
		if (r == 1) {
			next_message(ds, end);
			return 1;
		}
		ds->done = 1;
		return 0;
	}
	default:
		next_message(ds, ds->body);
		return 1;
	}
}

/* ---- finding a start line ------------------------------------------------ */

/* First bytes of a direction: 1 a start line begins, 0 too few bytes, -1 not HTTP. */
static int start_check(const uint8_t *d, uint32_t s, uint32_t end, int dir)
{
	uint32_t i = s;

	if (dir == 1) {
		static const char lit[] = "HTTP/1.";
		uint32_t n = end - s < 7 ? end - s : 7;

		return memcmp(d + s, lit, n) != 0 ? -1 : n == 7 ? 1 : 0;
	}
	while (i < end && ((d[i] >= 'A' && d[i] <= 'Z') || d[i] == '-' || d[i] == '_'))
		i++;
	if (i - s > METHOD_MAX_LEN)
		return -1;
	if (i == end)
		return 0;
	return i > s && d[i] == ' ' ? 1 : -1;
}

static const char *const resync_methods[] = { "POST", "GET", "HEAD", "PUT", "OPTIONS", "DELETE", "PATCH" };

#define NOWHERE UINT32_MAX

/* The next "HTTP/1." in [p, end), or end. */
static uint32_t find_http(const uint8_t *d, uint32_t p, uint32_t end)
{
	while (end - p >= 7) {
		const uint8_t *h = memchr(d + p, 'H', end - p - 6);

		if (!h)
			break;
		if (memcmp(h, "HTTP/1.", 7) == 0)
			return (uint32_t)(h - d);
		p = (uint32_t)(h - d) + 1;
	}
	return end;
}

/* Where "METHOD SP target SP" ends at the "HTTP/1." at `at` (not before lo), or NOWHERE. */
static uint32_t request_start(const uint8_t *d, uint32_t lo, uint32_t at)
{
	uint32_t t, te;

	if (at <= lo || d[at - 1] != ' ')
		return NOWHERE;
	t = te = at - 1;
	while (t > lo && d[t - 1] > ' ' && d[t - 1] < 0x7f)
		t--;
	if (t == te || t <= lo || d[t - 1] != ' ')
		return NOWHERE;
	for (size_t k = 0; k < sizeof resync_methods / sizeof resync_methods[0]; k++) {
		uint32_t ml = (uint32_t)strlen(resync_methods[k]);

		if (t - 1 - lo >= ml && memcmp(d + t - 1 - ml, resync_methods[k], ml) == 0)
			return t - 1 - ml;
	}
	return NOWHERE;
}

/*
 * After a hole or when the capture began mid-connection: the next start line
 * ("METHOD target HTTP/1.x" or "HTTP/1.x NNN"), which may follow a body
 * without a line break. Moves ds->off there; 0 if none yet.
 */
static int resync(struct ctx *c, int dir, uint32_t end)
{
	struct hdir *ds = &c->st->d[dir];
	const uint8_t *d = c->fv->data[dir];
	uint32_t p = ds->rs_scan > ds->off ? ds->rs_scan : ds->off;

	for (;;) {
		uint32_t at = find_http(d, p, end), s = NOWHERE;

		if (at >= end)
			break;
		if (end - at < 12) {
			ds->rs_scan = at;
			return 0;
		}
		if (dir == 1) {
			uint32_t le = line_end(d, at, end), ce = le;
			int status;

			if (le == end) {
				ds->rs_scan = at;
				return 0;
			}
			if (ce > at && d[ce - 1] == '\r')
				ce--;
			if (status_line(d, at, ce, &status))
				s = at;
		} else if (d[at + 8] == '\r' || d[at + 8] == '\n') {
			s = request_start(d, ds->off, at);
		}
		if (s != NOWHERE) {
			next_message(ds, s);
			ds->resync = 0;
			ds->started = 1;
			c->st->pair_lost = 1; /* what the lost part held is unknown */
			return 1;
		}
		p = at + 1;
	}
	ds->rs_scan = end - ds->off > 12 ? end - 12 : ds->off;
	if (end - ds->off > 4 * MT_HTTPMINE_MAX_HEAD) {
		ds->done = 1;
		if (dir == 0)
			not_mine(c);
	}
	return 0;
}

/* ---- one direction ------------------------------------------------------- */

static void bad_stream(struct ctx *c, int dir)
{
	c->st->d[dir].done = 1;
	if (dir == 0)
		not_mine(c);
	else
		c->st->srv_answered = 1; /* the server spoke, not HTTP (a stratum port's error line ...) */
}

static const uint8_t *last_nl(const uint8_t *p, size_t n)
{
	while (n > 0 && p[n - 1] != '\n')
		n--;
	return n ? p + n - 1 : NULL;
}

static void run_msgs(struct ctx *c, int dir, uint32_t end, int final, int closed)
{
	httpmine_state *st = c->st;
	struct hdir *ds = &st->d[dir];
	const uint8_t *d = c->fv->data[dir];

	while (!ds->done && !st->excluded) {
		uint32_t he;

		if (ds->phase == PH_BODY) {
			if (!body_step(c, dir, end, final, closed))
				return;
			continue;
		}
		if (ds->resync && !resync(c, dir, end))
			return;
		/* RFC 7230 section 3.5: empty lines before a start line are ignored */
		while (ds->off < end && (d[ds->off] == '\r' || d[ds->off] == '\n'))
			ds->off++;
		if (ds->off >= end)
			return;
		if (!ds->started) {
			int r = start_check(d, ds->off, end, dir);

			if (r < 0) {
				bad_stream(c, dir);
				return;
			}
			if (r == 0)
				return;
		}
		he = head_end(ds, d, end);
		if (!he) {
			if (end - ds->off > MT_HTTPMINE_MAX_HEAD) {
				bad_stream(c, dir);
				return;
			}
			if (final) {
				/* cut in its header block: the complete lines are what the message said */
				const uint8_t *nl = last_nl(d + ds->off, end - ds->off);

				if (nl && on_head(c, dir, (uint32_t)(nl - d) + 1, 1))
					return;
				if (!ds->started && dir == 1)
					st->srv_answered = 1;
				ds->done = 1;
			}
			return;
		}
		if (!on_head(c, dir, he, 0)) {
			bad_stream(c, dir);
			return;
		}
	}
}

static void process_dir(struct ctx *c, int dir, int flow_end)
{
	const mt_flow_view *fv = c->fv;
	struct hdir *ds = &c->st->d[dir];
	uint32_t len = fv->len[dir];
	uint32_t g = fv->gap_off[dir];
	int closed = fv->fin[dir] || flow_end;

	if (ds->done || !fv->data[dir] || len == 0)
		return;
	if (len < ds->off) {
		ds->done = 1;
		return;
	}
	if (!ds->seen) {
		ds->seen = 1;
		if (fv->midstream[dir])
			ds->resync = 1;
	}
	if (g != 0 && g != ds->gap_seen) {
		ds->gap_seen = g;
		if (g >= ds->off && g <= len) {
			/* messages wholly before the hole stand; the one across it is lost */
			run_msgs(c, dir, g, 0, 0);
			if (ds->done || c->st->excluded)
				return;
			next_message(ds, g);
			ds->resync = 1;
			ds->rs_scan = g;
			ds->resp_slot_ok = 0;
			c->st->pair_lost = 1;
		}
	}
	run_msgs(c, dir, len, closed || fv->capped[dir], closed);
}

static int answer(struct ctx *c, const mt_pkt_view *pv)
{
	httpmine_state *st = c->st;
	const mt_flow_view *fv = c->fv;

	if (st->excluded)
		return MT_EXCLUDED;
	if (!st->mining)
		return st->d[0].done ? MT_EXCLUDED : MT_UNDECIDED;
	if (!st->reported && !pv->flow_end && !fv->fin[0] && !fv->fin[1]) {
		/* a weak rule waits for the server's answer; any rule waits for its request's body */
		if (st->conf < CONF_HEADER && !st->srv_answered && !fv->capped[1])
			return MT_UNDECIDED;
		if (st->d[0].phase == PH_BODY && !st->d[0].done && fv->bytes[1] == 0)
			return MT_UNDECIDED;
	}
	st->reported = 1;
	return MT_DETECTED;
}

static int httpmine_on_packet(void *global, void *state, const mt_flow_view *fv,
			      const mt_pkt_view *pv, mt_evidence *ev)
{
	httpmine_state *st = state;
	struct ctx c = { st, fv, ev, pv ? pv->ts_us : 0 };
	int ans, had, fresh;

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return MT_EXCLUDED;
	if (fv->l4proto != 6) {
		not_mine(&c);
		return st->mining ? MT_DETECTED : MT_EXCLUDED;
	}
	/* an HTTP server never speaks first */
	if (!st->mining && fv->dir_certain && !fv->midstream[0] && fv->len[0] == 0 && fv->len[1] > 0) {
		st->excluded = 1;
		return MT_EXCLUDED;
	}
	had = st->mining && !st->reported;
	fresh = ev->version == 0;
	process_dir(&c, 0, pv->flow_end);
	process_dir(&c, 1, pv->flow_end);
	ans = answer(&c, pv);
	if (ans == MT_DETECTED && had && fresh) {
		/*
		 * What we wrote while waiting was not kept (the flow's evidence
		 * was another waiting detector's): read the streams again from
		 * their start, so that this answer carries all of it.
		 */
		memset(st, 0, sizeof *st);
		memset(ev, 0, sizeof *ev);
		process_dir(&c, 0, pv->flow_end);
		process_dir(&c, 1, pv->flow_end);
		ans = answer(&c, pv);
	}
	return ans;
}

/*
 * API 3: on_packet's first rules before any state is made: not TCP, or the
 * server spoke first on a connection seen from its start. (A client's first
 * bytes that are not a request line are not enough: a hole in the stream
 * before the head ends makes the detector look for a request after it.)
 */
static int httpmine_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	if (fv->l4proto != 6)
		return MT_EXCLUDED;
	if (fv->dir_certain && !fv->midstream[0] && fv->len[0] == 0 && fv->len[1] > 0)
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

const mt_detector mt_detect_httpmine = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "http-mining",
	.description = "Mining over HTTP: getwork, getblocktemplate / submitblock, EthProxy over HTTP, X-Mining-* and pool headers",
	.wants = MT_WANT_TCP,
	.max_packets = MT_HTTPMINE_MAX_PACKETS,
	.state_size = sizeof(httpmine_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = httpmine_on_packet,
	.flow_free = NULL,
	.prefilter = httpmine_prefilter,
};
