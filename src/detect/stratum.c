/* stratum.c - Stratum v1 detector: newline-delimited JSON-RPC between a miner and its pool (Bitcoin, Zcash ZIP 301, EthereumStratum/1.0.0 and 2.0.0, KawPow, Ergo, Kaspa). */
/*
 * Wire format: one JSON object per line, LF terminated (slush0 "Stratum
 * mining protocol"; ZIP 301 section "Specification"; NiceHash
 * EthereumStratum/1.0.0). Client requests {"id","method","params"}; server
 * replies {"id","result","error"} with error null or [code, message,
 * traceback]; server notifications {"id":null,"method","params"}.
 *
 * Coin dialects recognised by their job (mining.notify) shapes:
 *   - KawPow (Ravencoin; the ProgPoW forks FiroPoW, MeowPoW send the same):
 *     [job, header_hash, seed_hash, share_target, clean, height (number), nbits]
 *     (kawpowminer libpoolprotocols/stratum/EthStratumClient.cpp, "stratum" mode);
 *   - Ergo (autolykos2; Miningcore Blockchain/Ergo/ErgoJob.cs GetJobParams):
 *     [job, height, msg, "", "", version, b, "", clean];
 *   - Kaspa (kaspa-stratum-bridge src/kaspastratum/client_handler.go):
 *     [job, [4 x u64 header words], timestamp], or for BzMiner [job, 80 hex digits].
 * EthereumStratum/2.0.0 (EIP-1571) is its own grammar, switched on by mining.hello
 * or mining.set: subscribe takes a session string (or nothing) and is answered with
 * one, authorize is answered with a worker token, mining.set {epoch, target, algo,
 * extranonce} carries the share target, notify is [job, height, header, clean] in
 * hex strings, submit is [job, nonce, token] answered {"id":N} or with an error
 * object {code, message} (2xx: accepted, stale).
 *
 * The decision follows the grammar, not substrings: a line counts only when
 * it is a JSON object of the right shape for a known method. Three rules
 * decide (confidence in brackets):
 *   - a server push of a job (mining.notify) of a known shape [0.95], or of
 *     the share difficulty / target [0.9];
 *   - a stratum request answered by a stratum reply with the same id [0.9]
 *     (refused with a stratum error array [0.85]);
 *   - a well-formed mining.subscribe / authorize / submit alone [0.6]: a
 *     miner talking to a pool that is down, or a scanner's probe.
 */
#include "detect/builtin.h"
#include "detect/detector.h"
#include "detect/jsonl.h"
#include "detect/prefilter.h"
#include "util/json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Limits (compile-time overridable). */
#ifndef MT_STRATUM_MAX_PACKETS
#define MT_STRATUM_MAX_PACKETS 64    /* keep reading to grow share/difficulty evidence */
#endif
#ifndef MT_STRATUM_MAX_LINE
#define MT_STRATUM_MAX_LINE 16384u   /* an unterminated line longer than this is not stratum */
#endif
#ifndef MT_STRATUM_MAX_TOKENS
#define MT_STRATUM_MAX_TOKENS 256    /* per line; more is not stratum-shaped */
#endif
#ifndef MT_STRATUM_MAX_DEPTH
#define MT_STRATUM_MAX_DEPTH 8       /* deepest stratum message (subscribe reply) nests 4 */
#endif
#ifndef MT_STRATUM_MAX_BAD_LINES
#define MT_STRATUM_MAX_BAD_LINES 8   /* non-JSON lines tolerated per direction */
#endif
#ifndef MT_STRATUM_MAX_FOREIGN
#define MT_STRATUM_MAX_FOREIGN 4     /* non-stratum JSON messages before giving up */
#endif
#ifndef MT_STRATUM_PENDING
#define MT_STRATUM_PENDING 16        /* outstanding request ids remembered */
#endif
#ifndef MT_STRATUM_TAG_TRIES
#define MT_STRATUM_TAG_TRIES 4       /* notifies searched for a coinbase tag */
#endif
#define MT_STRATUM_TAG_SCAN 256u     /* coinbase bytes decoded per part */
#define MT_STRATUM_METHOD_LEN 40

/* Confidence of each rule. */
#define CONF_PROBE 0.6
#define CONF_REFUSED 0.85
#define CONF_GENERIC_NOTIFY 0.8
#define CONF_PAIR 0.9
#define CONF_PUSH 0.9
#define CONF_NOTIFY 0.95
#define CONF_BOTH 0.98

enum method {
	M_NONE = 0,
	/* client to server */
	M_SUBSCRIBE,
	M_AUTHORIZE,
	M_SUBMIT,
	M_EXTRANONCE_SUBSCRIBE,
	M_CONFIGURE,
	M_SUGGEST_DIFFICULTY,
	M_SUGGEST_TARGET,
	M_GET_TRANSACTIONS,
	M_MULTI_VERSION,
	M_HELLO,      /* EthereumStratum/2.0.0 */
	M_NOOP,
	M_HASHRATE,
	/* server to client */
	M_NOTIFY,
	M_SET_DIFFICULTY,
	M_SET_TARGET,
	M_SET_EXTRANONCE,
	M_SET_VERSION_MASK,
	M_RECONNECT,
	M_SHOW_MESSAGE,
	M_GET_VERSION,
	M_SET,        /* EthereumStratum/2.0.0 */
	M_BYE
};

#define M_FIRST_SERVER M_NOTIFY

static const char *const method_names[] = {
	[M_NONE] = "",
	[M_SUBSCRIBE] = "mining.subscribe",
	[M_AUTHORIZE] = "mining.authorize",
	[M_SUBMIT] = "mining.submit",
	[M_EXTRANONCE_SUBSCRIBE] = "mining.extranonce.subscribe",
	[M_CONFIGURE] = "mining.configure",
	[M_SUGGEST_DIFFICULTY] = "mining.suggest_difficulty",
	[M_SUGGEST_TARGET] = "mining.suggest_target",
	[M_GET_TRANSACTIONS] = "mining.get_transactions",
	[M_MULTI_VERSION] = "mining.multi_version",
	[M_HELLO] = "mining.hello",
	[M_NOOP] = "mining.noop",
	[M_HASHRATE] = "mining.hashrate",
	[M_NOTIFY] = "mining.notify",
	[M_SET_DIFFICULTY] = "mining.set_difficulty",
	[M_SET_TARGET] = "mining.set_target",
	[M_SET_EXTRANONCE] = "mining.set_extranonce",
	[M_SET_VERSION_MASK] = "mining.set_version_mask",
	[M_RECONNECT] = "client.reconnect",
	[M_SHOW_MESSAGE] = "client.show_message",
	[M_GET_VERSION] = "client.get_version",
	[M_SET] = "mining.set",
	[M_BYE] = "mining.bye",
};

#define N_METHODS (sizeof method_names / sizeof method_names[0])

/* Shapes of mining.notify params. */
enum notify_shape { NS_NONE = 0, NS_BTC, NS_ZEC, NS_ETH, NS_KAWPOW, NS_ERGO, NS_KASPA, NS_ES2, NS_GENERIC };

struct pend {
	uint64_t id;  /* hash of the id's type and raw text */
	uint32_t seq; /* age: lowest is oldest */
	uint8_t method;
	uint8_t dir;
	uint8_t used;
};

typedef struct stratum_state {
	mt_jsonl_dir d[2];
	struct pend pend[MT_STRATUM_PENDING];
	uint32_t seq;
	double conf;
	uint8_t detected;
	uint8_t excluded;
	uint8_t stratum_seen; /* any message of the stratum grammar */
	uint8_t answered;     /* a request paired with a stratum reply */
	uint8_t notified;     /* a job push of a known shape */
	uint8_t eth;          /* EthereumStratum shape seen */
	uint8_t es2;          /* EthereumStratum/2.0.0 (mining.hello, mining.set) */
	double tdiff;         /* 2^256 / the latest 64-digit mining.set_target (hashes per share) */
	uint8_t algo_rank;    /* 0 none, 1 from subscribe, 2 from a job's shape, 3 from the wallet's prefix */
	uint8_t tag_tries;
	uint8_t foreign;      /* JSON messages outside the grammar */
} stratum_state;

struct ctx {
	stratum_state *st;
	const mt_flow_view *fv;
	mt_evidence *ev;
	uint64_t ts_us; /* packet time of this call (share and job times) */
};

/* A parsed line. */
struct msg {
	const uint8_t *s;
	const mt_json_tok *t;
	int n;
};

/* ---- small helpers ---------------------------------------------------- */

static int type_at(const struct msg *m, int i)
{
	return i >= 0 && i < m->n ? m->t[i].type : MT_JSON_NONE;
}

static int is_str(const struct msg *m, int i)
{
	return type_at(m, i) == MT_JSON_STRING;
}

static int is_bool(const struct msg *m, int i)
{
	int ty = type_at(m, i);

	return ty == MT_JSON_TRUE || ty == MT_JSON_FALSE;
}

/*
 * A string of hex digits, length in [minlen, maxlen] not counting an
 * optional "0x" prefix (when allowed). Escaped strings are not hex.
 */
static int is_hex_n(const struct msg *m, int i, uint32_t minlen, uint32_t maxlen, int allow0x)
{
	const uint8_t *p;
	uint32_t n;

	if (!is_str(m, i) || m->t[i].escaped)
		return 0;
	p = m->s + m->t[i].start;
	n = m->t[i].len;
	if (allow0x && n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		n -= 2;
	}
	if (n < minlen || n > maxlen)
		return 0;
	for (uint32_t k = 0; k < n; k++)
		if (mt_json_hexval(p[k]) < 0)
			return 0;
	return 1;
}

static int is_hex64(const struct msg *m, int i, int allow0x)
{
	return is_hex_n(m, i, 64, 64, allow0x);
}

/* The value of a hex string of minlen to 64 digits (optional 0x) as a double; 0 if it is not one. */
static double hex_value_n(const struct msg *m, int i, uint32_t minlen)
{
	const uint8_t *p;
	uint32_t n;
	double v = 0;

	if (!is_hex_n(m, i, minlen, 64, 1))
		return 0;
	p = m->s + m->t[i].start;
	n = m->t[i].len;
	if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		n -= 2;
	}
	for (uint32_t k = 0; k < n; k++)
		v = v * 16 + mt_json_hexval(p[k]);
	return v;
}

static double hex_value(const struct msg *m, int i)
{
	return hex_value_n(m, i, 1);
}

/*
 * Hashes per share of a 256-bit big-endian target (ZIP 301 mining.set_target; EthereumStratum's
 * boundary; KawPow's job target; EIP-1571 mining.set target, sent without its leading zeros):
 * 2^256 / target. 0 unless the token is minlen to 64 hex digits (checked by is_hex_n).
 */
static double target_hashes_n(const struct msg *m, int i, uint32_t minlen)
{
	double t = hex_value_n(m, i, minlen);

	return t > 0 ? 0x1p256 / t : 0;
}

static double target_hashes(const struct msg *m, int i)
{
	return target_hashes_n(m, i, 64);
}

/* A JSON number that is a non-negative integer (digits only). */
static int is_uint(const struct msg *m, int i)
{
	const uint8_t *p;

	if (type_at(m, i) != MT_JSON_NUMBER || m->t[i].len == 0 || m->t[i].len > 20)
		return 0;
	p = m->s + m->t[i].start;
	for (uint32_t k = 0; k < m->t[i].len; k++)
		if (p[k] < '0' || p[k] > '9')
			return 0;
	return 1;
}

/* A string token equal to lit (raw bytes; escaped strings never are). */
static int is_lit(const struct msg *m, int i, const char *lit)
{
	size_t n = strlen(lit);

	return is_str(m, i) && !m->t[i].escaped && m->t[i].len == n &&
	       memcmp(m->s + m->t[i].start, lit, n) == 0;
}

static int is_hex8(const struct msg *m, int i)
{
	return is_hex_n(m, i, 8, 8, 0);
}

/* Coinbase parts: even-length hex. */
static int is_hex_even(const struct msg *m, int i)
{
	return is_hex_n(m, i, 2, UINT32_MAX, 0) && (m->t[i].len % 2) == 0;
}

/* Child indices of array a, at most max of them; returns the count or -1 if a is not an array or is larger. */
static int children(const struct msg *m, int a, int *out, int max)
{
	int j, k;

	if (type_at(m, a) != MT_JSON_ARRAY || m->t[a].size > (uint32_t)max)
		return -1;
	j = a + 1;
	for (k = 0; k < (int)m->t[a].size; k++) {
		if (j >= m->n)
			return -1;
		out[k] = j;
		j = (int)m->t[j].next;
	}
	return k;
}

/* The id as printed in evidence text: raw, cut. */
static int id_text_len(const struct msg *m, int i)
{
	return m->t[i].len > 32 ? 32 : (int)m->t[i].len;
}

static const char *id_text(const struct msg *m, int i)
{
	return (const char *)m->s + m->t[i].start;
}

static int valid_id(const struct msg *m, int i)
{
	int ty = type_at(m, i);

	return ty == MT_JSON_NUMBER || ty == MT_JSON_STRING || ty == MT_JSON_NULL;
}

static enum method lookup_method(const char *name)
{
	for (size_t k = 1; k < N_METHODS; k++)
		if (strcmp(name, method_names[k]) == 0)
			return (enum method)k;
	return M_NONE;
}

static int has_prefix_ci(const uint8_t *p, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		uint8_t a = p[i], b = (uint8_t)pre[i];

		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static int is_eth_proto(const struct msg *m, int i)
{
	return is_str(m, i) &&
	       has_prefix_ci(m->s + m->t[i].start, m->t[i].len, "EthereumStratum/");
}

/* ---- evidence --------------------------------------------------------- */

static void ev_tok(mt_evidence *ev, char *field, size_t cap, const struct msg *m, int i)
{
	char buf[512];
	int k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);

	if (k >= 0)
		mt_ev_set(ev, field, cap, buf, (size_t)k);
	else /* too long or a bad escape: the raw text, cut and sanitised */
		mt_ev_set(ev, field, cap, (const char *)m->s + m->t[i].start, m->t[i].len);
}

static void ev_text(mt_evidence *ev, char *field, size_t cap, const char *s)
{
	mt_ev_set(ev, field, cap, s, strlen(s));
}

static void set_protocol(struct ctx *c)
{
	ev_text(c->ev, c->ev->protocol, sizeof c->ev->protocol,
		c->st->eth ? "ethereum-stratum" : "stratum");
}

__attribute__((format(printf, 3, 4)))
static void raise_conf(struct ctx *c, double conf, const char *fmt, ...)
{
	stratum_state *st = c->st;
	mt_evidence *ev = c->ev;

	if (!st->detected) {
		st->detected = 1;
		ev->event = MT_EVENT_MINING;
		ev->version++;
		set_protocol(c);
	}
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

/* Names the dialect in evidence texts where the method names do not. */
static const char *dialect_note(const stratum_state *st)
{
	return st->es2 ? " (EthereumStratum/2.0.0)" : "";
}

static void set_eth(struct ctx *c)
{
	if (c->st->eth)
		return;
	c->st->eth = 1;
	if (c->st->detected)
		set_protocol(c);
}

static void set_algo(struct ctx *c, uint8_t rank, const char *coin, const char *algo)
{
	if (rank < c->st->algo_rank)
		return;
	c->st->algo_rank = rank;
	ev_text(c->ev, c->ev->coin, sizeof c->ev->coin, coin);
	ev_text(c->ev, c->ev->algo, sizeof c->ev->algo, algo);
}

static void bump_u64(mt_evidence *ev, uint64_t *f)
{
	(*f)++;
	ev->version++;
}

/* Base58, bech32 (lower case with a '1' separator) or 0x-hex: a payout address, not a login. */
static int looks_like_address(const char *p, size_t n)
{
	static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	int ok58 = 1, okb32 = 1, one = 0;

	if (n < 26 || n > 128)
		return 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (size_t i = 2; i < n; i++)
			if (mt_json_hexval((uint8_t)p[i]) < 0)
				return 0;
		return 1;
	}
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

/* A Ravencoin P2PKH address: 34 base58 characters from version byte 60 ('R'). */
static int rvn_address(const char *w)
{
	static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	size_t n = strlen(w);

	if (n != 34 || w[0] != 'R')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(b58, w[i]))
			return 0;
	return 1;
}

/* KawPow's job shape is shared by FiroPoW and MeowPoW: only a Ravencoin address names the coin. */
static const char *kawpow_coin(const mt_evidence *ev)
{
	return rvn_address(ev->wallet) ? "RVN" : "";
}

/*
 * What the wallet says of the coin: a "kaspa:" address (Kaspa's bech32-style
 * address prefix) is Kaspa's and kHeavyHash's whatever the job looks like; a
 * Ravencoin address names the coin of a KawPow-shaped job.
 */
static void wallet_coin(struct ctx *c)
{
	mt_evidence *ev = c->ev;

	if (has_prefix_ci((const uint8_t *)ev->wallet, strlen(ev->wallet), "kaspa:"))
		set_algo(c, 3, "KAS", "kheavyhash");
	else if (c->st->algo_rank == 2 && strcmp(ev->algo, "kawpow") == 0)
		set_algo(c, 2, kawpow_coin(ev), "kawpow");
}

/*
 * "wallet.worker" / "account.worker" from mining.authorize or
 * mining.submit params[0]: an address before the first '.' is the wallet;
 * otherwise split at the last '.'. Without a '.', an address is a wallet and
 * anything else a worker name.
 */
static void set_login(struct ctx *c, const struct msg *m, int i)
{
	mt_evidence *ev = c->ev;
	char buf[512];
	int k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);
	const char *first, *last;
	size_t n;

	if (k <= 0)
		return;
	n = (size_t)k;
	first = memchr(buf, '.', n);
	if (first) {
		size_t w = (size_t)(first - buf);

		if (!looks_like_address(buf, w)) {
			last = first;
			for (const char *q = first; q; q = memchr(q + 1, '.', n - (size_t)(q + 1 - buf)))
				last = q;
			w = (size_t)(last - buf);
		}
		if (w > 0)
			mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, w);
		if (n - w - 1 > 0)
			mt_ev_set(ev, ev->worker, sizeof ev->worker, buf + w + 1, n - w - 1);
		wallet_coin(c);
		return;
	}
	if (looks_like_address(buf, n) || has_prefix_ci((const uint8_t *)buf, n, "kaspa:"))
		mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, n);
	else
		mt_ev_set(ev, ev->worker, sizeof ev->worker, buf, n);
	wallet_coin(c);
}

static int looks_like_host(const struct msg *m, int i)
{
	const uint8_t *p;
	uint32_t n;
	int alnum = 0;

	if (!is_str(m, i) || m->t[i].escaped)
		return 0;
	p = m->s + m->t[i].start;
	n = m->t[i].len;
	if (n == 0 || n > 253)
		return 0;
	for (uint32_t k = 0; k < n; k++) {
		uint8_t ch = p[k];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
			alnum = 1;
		else if (ch != '.' && ch != '-' && ch != '_' && ch != ':' && ch != '[' && ch != ']')
			return 0;
	}
	return alnum;
}

/* ---- coinbase tag ----------------------------------------------------- */

struct run {
	const uint8_t *p;
	size_t n;
	int slash; /* a "/tag/": what pools write by convention, preferred */
};

/*
 * The longest printable ASCII run in b[0, n) of six or more characters with
 * three letters or more, spaces trimmed; a run holding a "/tag/" is cut to
 * it and wins over any other (pools delimit their tags with slashes; bytes
 * around are nonces or push lengths that happen to be printable).
 */
static void best_run(const uint8_t *b, size_t n, struct run *best)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e, letters = 0, first_slash = SIZE_MAX, last_slash = 0;
		int slash = 0;

		while (i < n && (b[i] < 0x20 || b[i] > 0x7e))
			i++;
		s = i;
		while (i < n && b[i] >= 0x20 && b[i] <= 0x7e) {
			if (b[i] == '/') {
				if (first_slash == SIZE_MAX)
					first_slash = i;
				last_slash = i;
			}
			i++;
		}
		e = i;
		if (first_slash != SIZE_MAX && last_slash > first_slash + 1) {
			s = first_slash;
			e = last_slash + 1;
			slash = 1;
		}
		while (s < e && b[s] == ' ')
			s++;
		while (e > s && b[e - 1] == ' ')
			e--;
		for (size_t k = s; k < e; k++)
			if ((b[k] >= 'a' && b[k] <= 'z') || (b[k] >= 'A' && b[k] <= 'Z'))
				letters++;
		if (e - s >= 6 && letters >= 3 &&
		    (slash > best->slash || (slash == best->slash && e - s > best->n))) {
			best->p = b + s;
			best->n = e - s;
			best->slash = slash;
		}
	}
}

/*
 * Walks script pushes (opcodes 1-75, PUSHDATA1, PUSHDATA2) over b[0, n) and
 * collects runs inside each push, so that push lengths never join a tag.
 * With cut_ok a last push may run past n (coinb1 ends mid-script); without,
 * returns 0 and collects nothing unless the pushes end exactly at n.
 */
static int push_runs(const uint8_t *b, size_t n, struct run *best, int cut_ok)
{
	struct run r = *best;
	size_t p = 0;

	while (p < n) {
		uint8_t op = b[p];
		size_t len, hdr;

		if (op >= 1 && op <= 75) {
			len = op;
			hdr = 1;
		} else if (op == 0x4c && n - p >= 2) {
			len = b[p + 1];
			hdr = 2;
		} else if (op == 0x4d && n - p >= 3) {
			len = (size_t)b[p + 1] | (size_t)b[p + 2] << 8;
			hdr = 3;
		} else {
			p++; /* an opcode without data */
			continue;
		}
		if (n - p - hdr < len) {
			if (!cut_ok)
				return 0;
			len = n - p - hdr;
		}
		best_run(b + p + hdr, len, &r);
		p += hdr + len;
	}
	*best = r;
	return 1;
}

static size_t hex_decode(const uint8_t *h, size_t hlen, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; hlen - i >= 2 && n < cap; i += 2) {
		int a = mt_json_hexval(h[i]), b = mt_json_hexval(h[i + 1]);

		if (a < 0 || b < 0)
			break;
		out[n++] = (uint8_t)(a << 4 | b);
	}
	return n;
}

/*
 * The pool's tag in the coinbase scriptSig (Bitcoin block format: the
 * coinbase input spends 32 zero bytes, index 0xffffffff, then a varint script
 * length and the script). coinb1 ends inside the script, before the
 * extranonces; coinb2 continues it up to the input's sequence.
 */
static void coinbase_tag(struct ctx *c, const struct msg *m, int cb1, int cb2)
{
	uint8_t b1[MT_STRATUM_TAG_SCAN], b2[MT_STRATUM_TAG_SCAN];
	size_t n1, n2, i, lim;
	struct run best = { NULL, 0, 0 };

	n1 = hex_decode(m->s + m->t[cb1].start, m->t[cb1].len, b1, sizeof b1);
	n2 = hex_decode(m->s + m->t[cb2].start, m->t[cb2].len, b2, sizeof b2);

	for (i = 0; n1 >= 37 && i <= n1 - 37; i++) {
		size_t k;

		for (k = 0; k < 32 && b1[i + k] == 0; k++)
			;
		if (k == 32 && b1[i + 32] == 0xff && b1[i + 33] == 0xff && b1[i + 34] == 0xff &&
		    b1[i + 35] == 0xff)
			break;
	}
	if (n1 >= 37 && i <= n1 - 37 && b1[i + 36] < 0xfd)
		push_runs(b1 + i + 37, n1 - i - 37, &best, 1);
	/*
	 * coinb2 starts after the extranonces, usually at a push boundary:
	 * trust its pushes only if they end exactly at the input's sequence.
	 */
	for (lim = 0; lim + 4 <= n2; lim++)
		if (b2[lim] == 0xff && b2[lim + 1] == 0xff && b2[lim + 2] == 0xff && b2[lim + 3] == 0xff)
			break;
	if (lim + 4 > n2) /* no sequence seen: no alignment to check */
		best_run(b2, n2, &best);
	else if (!push_runs(b2, lim, &best, 0))
		best_run(b2, lim, &best);
	if (best.n)
		mt_ev_set(c->ev, c->ev->coinbase_tag, sizeof c->ev->coinbase_tag,
			  (const char *)best.p, best.n);
}

/* ---- the grammar ------------------------------------------------------ */

static void pend_add(stratum_state *st, uint64_t id, uint8_t method, int dir)
{
	struct pend *slot = &st->pend[0];

	for (size_t k = 0; k < MT_STRATUM_PENDING; k++) {
		if (!st->pend[k].used) {
			slot = &st->pend[k];
			break;
		}
		if (st->pend[k].seq < slot->seq)
			slot = &st->pend[k]; /* full: overwrite the oldest */
	}
	slot->id = id;
	slot->seq = ++st->seq;
	slot->method = method;
	slot->dir = (uint8_t)dir;
	slot->used = 1;
}

/* Takes the oldest request with this id sent the other way; returns its method or M_NONE. */
static enum method pend_take(stratum_state *st, uint64_t id, int dir)
{
	struct pend *hit = NULL;

	for (size_t k = 0; k < MT_STRATUM_PENDING; k++) {
		struct pend *p = &st->pend[k];

		if (p->used && p->id == id && p->dir != dir && (!hit || p->seq < hit->seq))
			hit = p;
	}
	if (!hit)
		return M_NONE;
	hit->used = 0;
	return (enum method)hit->method;
}

/* EIP-1571 mining.hello params: {agent, host, port (hex), proto: "EthereumStratum/..."}. */
static int hello_shape(const struct msg *m, int pa)
{
	int ia = mt_json_get(m->s, m->t, m->n, pa, "agent");
	int ih = mt_json_get(m->s, m->t, m->n, pa, "host");
	int ipo = mt_json_get(m->s, m->t, m->n, pa, "port");
	int ipr = mt_json_get(m->s, m->t, m->n, pa, "proto");

	return type_at(m, pa) == MT_JSON_OBJECT && is_str(m, ia) && is_eth_proto(m, ipr) &&
	       (ih < 0 || is_str(m, ih)) && (ipo < 0 || is_hex_n(m, ipo, 1, 4, 0));
}

/* A submit param after the nonce: hex, or empty / "undefined" where Ergo pools leave ntime unused (Miningcore ErgoJob.ProcessShare). */
static int submit_tail(const struct msg *m, int i)
{
	return is_hex_n(m, i, 1, UINT32_MAX, 1) || is_lit(m, i, "") || is_lit(m, i, "undefined");
}

/* Right-shaped params for a client request (slush0 docs, ZIP 301, BIP 310, NiceHash EthereumStratum, EIP-1571). */
static int request_shape(const stratum_state *st, const struct msg *m, enum method meth, int pa)
{
	int el[8];
	int n;
	int k;

	/* EIP-1571: subscribe carries a session id string or nothing; noop nothing; hello an object */
	if (meth == M_SUBSCRIBE && st->es2 && (pa < 0 || is_str(m, pa)))
		return 1;
	if (meth == M_NOOP)
		return pa < 0;
	if (meth == M_HELLO)
		return hello_shape(m, pa);
	n = children(m, pa, el, 8);
	if (n < 0)
		return 0;
	switch (meth) {
	case M_SUBSCRIBE:
		/* [agent (, session|protocol (, host, port))], or the slushpool Zcash draft [host, port, agent, session] */
		if (n > 4)
			return 0;
		for (k = 0; k < n; k++) {
			int ty = type_at(m, el[k]);

			if (ty != MT_JSON_STRING && ty != MT_JSON_NULL && ty != MT_JSON_NUMBER)
				return 0;
		}
		return 1;
	case M_AUTHORIZE:
		/* [user (, password)] */
		if (n < 1 || n > 3 || !is_str(m, el[0]) || m->t[el[0]].len == 0)
			return 0;
		for (k = 1; k < n; k++) {
			int ty = type_at(m, el[k]);

			if (ty != MT_JSON_STRING && ty != MT_JSON_NULL && ty != MT_JSON_NUMBER)
				return 0;
		}
		return 1;
	case M_SUBMIT:
		/*
		 * Bitcoin [worker, job, extranonce2, ntime, nonce (, version bits)];
		 * ZIP 301 [worker, job, time, nonce_2, solution];
		 * EthereumStratum [worker, job, nonce]; ethash stratum and KawPow
		 * [worker, job, nonce, header, mix]; Ergo [worker, job, extranonce2, ntime|""|"undefined", nonce];
		 * EIP-1571 [job, nonce, worker token].
		 */
		if (st->es2)
			return n == 3 && is_str(m, el[0]) && m->t[el[0]].len && is_hex_n(m, el[1], 1, 16, 0) &&
			       is_str(m, el[2]) && m->t[el[2]].len;
		if (n < 3 || n > 6 || !is_str(m, el[0]))
			return 0;
		if (!is_str(m, el[1]) && type_at(m, el[1]) != MT_JSON_NUMBER)
			return 0;
		if (!is_hex_n(m, el[2], 1, UINT32_MAX, 1))
			return 0;
		for (k = 3; k < n; k++)
			if (!submit_tail(m, el[k]))
				return 0;
		return 1;
	case M_HASHRATE:
		/* EIP-1571 [rate (hex), worker token] */
		return n == 2 && is_hex_n(m, el[0], 1, 64, 1) && is_str(m, el[1]);
	case M_EXTRANONCE_SUBSCRIBE:
		return n == 0;
	case M_CONFIGURE:
		/* BIP 310: [[extension names], {parameters}] */
		if (n != 2 || type_at(m, el[1]) != MT_JSON_OBJECT)
			return 0;
		{
			int names[16];
			int nn = children(m, el[0], names, 16);

			if (nn < 0)
				return 0;
			for (k = 0; k < nn; k++)
				if (!is_str(m, names[k]))
					return 0;
		}
		return 1;
	case M_SUGGEST_DIFFICULTY:
	case M_MULTI_VERSION:
		return n == 1 && type_at(m, el[0]) == MT_JSON_NUMBER;
	case M_SUGGEST_TARGET:
		return n == 1 && is_hex_n(m, el[0], 1, 64, 1);
	case M_GET_TRANSACTIONS:
		return n == 1 && (is_str(m, el[0]) || type_at(m, el[0]) == MT_JSON_NUMBER);
	default:
		return 0;
	}
}

static enum notify_shape notify_shape(const stratum_state *st, const struct msg *m, int pa, int *el, int *np)
{
	int n = children(m, pa, el, 16);
	int k;

	*np = n;
	if (n < 2 || (!is_str(m, el[0]) && type_at(m, el[0]) != MT_JSON_NUMBER))
		return NS_NONE;
	/* Kaspa (BzMiner's form): job, the header words and timestamp as 80 hex digits */
	if (n == 2)
		return is_hex_n(m, el[1], 80, 80, 0) ? NS_KASPA : NS_NONE;
	/* Kaspa: job, [four 64-bit words of the pre-PoW hash], timestamp */
	if (n == 3 && type_at(m, el[1]) == MT_JSON_ARRAY && is_uint(m, el[2])) {
		int w[4];

		if (children(m, el[1], w, 4) != 4)
			return NS_NONE;
		for (k = 0; k < 4; k++)
			if (!is_uint(m, w[k]))
				return NS_NONE;
		return NS_KASPA;
	}
	/* KawPow: job, header hash, seed hash, share target, clean, height, nbits */
	if (n == 7 && is_hex64(m, el[1], 1) && is_hex64(m, el[2], 1) && is_hex_n(m, el[3], 1, 64, 1) &&
	    is_bool(m, el[4]) && is_uint(m, el[5]) && is_hex_n(m, el[6], 1, 8, 1))
		return NS_KAWPOW;
	/* Ergo: job, height, msg, "", "", version, b (the share target as a decimal number), "", clean */
	if (n == 9 && is_uint(m, el[1]) && is_hex64(m, el[2], 0) && is_lit(m, el[3], "") &&
	    is_lit(m, el[4], "") && is_uint(m, el[5]) && is_lit(m, el[7], "") && is_bool(m, el[8]) &&
	    (type_at(m, el[6]) == MT_JSON_NUMBER || type_at(m, el[6]) == MT_JSON_NULL || is_str(m, el[6])))
		return NS_ERGO;
	/* EIP-1571: job, block height (hex), header hash (hex, leading zeros may go), clean ("0"/"1") */
	if (n == 4 && is_str(m, el[0]) && is_hex_n(m, el[1], 1, 16, 0) && is_hex_n(m, el[2], 1, 64, 0) &&
	    (is_lit(m, el[3], "0") || is_lit(m, el[3], "1") || (st->es2 && is_bool(m, el[3]))))
		return NS_ES2;
	/* Bitcoin: job, prevhash, coinb1, coinb2, merkle branch, version, nbits, ntime (, clean) */
	if ((n == 9 || n == 8) && type_at(m, el[4]) == MT_JSON_ARRAY) {
		int br[64];
		int nb = children(m, el[4], br, 64);

		if (nb < 0 || !is_hex64(m, el[1], 0) || !is_hex_even(m, el[2]) || !is_hex_even(m, el[3]) ||
		    !is_hex8(m, el[5]) || !is_hex8(m, el[6]) || !is_hex8(m, el[7]) ||
		    (n == 9 && !is_bool(m, el[8])))
			return NS_NONE;
		for (k = 0; k < nb; k++)
			if (!is_hex64(m, br[k], 0))
				return NS_NONE;
		return NS_BTC;
	}
	/* ZIP 301: job, version, prevhash, merkleroot, reserved, time, bits, clean (forks append more) */
	if (n >= 8 && is_hex8(m, el[1]) && is_hex64(m, el[2], 0) && is_hex64(m, el[3], 0) &&
	    is_hex64(m, el[4], 0) && is_hex8(m, el[5]) && is_hex8(m, el[6]) && is_bool(m, el[7]))
		return NS_ZEC;
	/*
	 * EthereumStratum/1.0.0: job, seedhash, headerhash, clean; ethash
	 * "stratum" (ethminer): job, header, seed (, target) (, clean).
	 */
	if (n <= 5 && is_hex64(m, el[1], 1) && is_hex64(m, el[2], 1)) {
		if (n == 3)
			return NS_ETH;
		if (n == 4 && (is_bool(m, el[3]) || is_hex64(m, el[3], 1)))
			return NS_ETH;
		if (n == 5 && is_hex64(m, el[3], 1) && is_bool(m, el[4]))
			return NS_ETH;
		return NS_NONE;
	}
	/*
	 * Other coins' variants (KawPow: job, header, seed, target, clean,
	 * height, bits): flat params with two or more 256-bit hex values and a
	 * clean flag. A Bitcoin layout with a broken field is not one of them.
	 */
	{
		int hashes = 0, flags = 0;

		if (n < 4 || n > 12)
			return NS_NONE;
		for (k = 1; k < n; k++) {
			int ty = type_at(m, el[k]);

			if (ty == MT_JSON_ARRAY || ty == MT_JSON_OBJECT)
				return NS_NONE;
			if (is_hex64(m, el[k], 1))
				hashes++;
			if (ty == MT_JSON_TRUE || ty == MT_JSON_FALSE)
				flags++;
		}
		return hashes >= 2 && flags >= 1 ? NS_GENERIC : NS_NONE;
	}
}

static void on_request(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid, int ip)
{
	stratum_state *st = c->st;
	mt_evidence *ev = c->ev;
	int el[8];
	int n;

	if (c->fv->dir_certain && dir != 0)
		return; /* a client method from the server is not the grammar */
	if (!valid_id(m, iid) || !request_shape(st, m, meth, ip))
		return;
	st->stratum_seen = 1;
	if (type_at(m, iid) != MT_JSON_NULL)
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth, dir);
	if (meth == M_HELLO) {
		int ia = mt_json_get(m->s, m->t, m->n, ip, "agent");
		int ih = mt_json_get(m->s, m->t, m->n, ip, "host");

		st->es2 = 1;
		set_eth(c);
		raise_conf(c, CONF_PROBE, "stratum: mining.hello request (id %.*s)%s", id_text_len(m, iid),
			   id_text(m, iid), dialect_note(st));
		if (m->t[ia].len)
			ev_tok(ev, ev->agent, sizeof ev->agent, m, ia);
		if (looks_like_host(m, ih))
			ev_tok(ev, ev->pool_host, sizeof ev->pool_host, m, ih);
		return;
	}
	if (meth == M_HASHRATE) {
		double r = hex_value(m, m->t[ip].size == 2 ? ip + 1 : -1);

		if (r > 0 && ev->reported_hashrate_hs != r) {
			ev->reported_hashrate_hs = r; /* the miner's own claim, H/s */
			ev->version++;
		}
		return;
	}
	if (meth != M_SUBSCRIBE && meth != M_AUTHORIZE && meth != M_SUBMIT)
		return;
	raise_conf(c, CONF_PROBE, "stratum: %s request (id %.*s)%s", method_names[meth],
		   id_text_len(m, iid), id_text(m, iid), dialect_note(st));
	n = children(m, ip, el, 8);
	switch (meth) {
	case M_SUBSCRIBE:
		if (n == 4 && type_at(m, el[1]) == MT_JSON_NUMBER) {
			/* the slushpool Zcash draft order: host, port, agent, session */
			if (looks_like_host(m, el[0]))
				ev_tok(ev, ev->pool_host, sizeof ev->pool_host, m, el[0]);
			if (is_str(m, el[2]) && m->t[el[2]].len)
				ev_tok(ev, ev->agent, sizeof ev->agent, m, el[2]);
			set_algo(c, 1, "ZEC", "equihash");
			break;
		}
		if (n >= 1 && is_str(m, el[0]) && m->t[el[0]].len)
			ev_tok(ev, ev->agent, sizeof ev->agent, m, el[0]);
		if (n >= 2 && is_eth_proto(m, el[1]))
			set_eth(c);
		if (n >= 3 && looks_like_host(m, el[2]))
			ev_tok(ev, ev->pool_host, sizeof ev->pool_host, m, el[2]);
		/* [agent, session, host, port] is ZIP 301's order but Bitcoin miners send it
		 * too: the coin is left to the pool's job shape. */
		break;
	case M_AUTHORIZE:
		set_login(c, m, el[0]);
		break;
	case M_SUBMIT:
		bump_u64(ev, &ev->shares);
		/* the difficulty in force: a 256-bit target's is in hashes, set_difficulty's in pool units */
		mt_ev_share(ev, c->ts_us, c->st->tdiff > 0 ? c->st->tdiff : ev->has_difficulty ? ev->difficulty : 0,
			    c->st->tdiff > 0);
		if (!st->es2) /* EIP-1571 submits name the job and a worker token, not the login */
			set_login(c, m, el[0]);
		break;
	default:
		break;
	}
}

static void on_push(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid, int ip)
{
	stratum_state *st = c->st;
	mt_evidence *ev = c->ev;
	int el[16];
	int n;

	if (c->fv->dir_certain && dir != 1)
		return;
	if (meth == M_GET_VERSION && (type_at(m, iid) == MT_JSON_NUMBER || type_at(m, iid) == MT_JSON_STRING))
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth, dir); /* the miner's answer names its software */
	if (ip < 0 && (meth == M_GET_VERSION || meth == M_RECONNECT)) {
		st->stratum_seen = 1;
		return;
	}
	switch (meth) {
	case M_NOTIFY: {
		enum notify_shape sh = notify_shape(st, m, ip, el, &n);

		if (sh == NS_NONE)
			return;
		st->stratum_seen = 1;
		if (sh == NS_ES2)
			st->es2 = 1;
		if (sh == NS_ETH || sh == NS_ES2)
			set_eth(c);
		if (sh == NS_GENERIC) {
			raise_conf(c, CONF_GENERIC_NOTIFY, "stratum: mining.notify push with %d params", n);
		} else if (st->answered) {
			st->notified = 1;
			raise_conf(c, CONF_BOTH, "stratum: mining.notify push with %d params after an answered request%s", n,
				   dialect_note(st));
		} else {
			st->notified = 1;
			raise_conf(c, CONF_NOTIFY, "stratum: mining.notify push with %d params%s", n,
				   sh == NS_ES2 ? dialect_note(st) : sh == NS_ETH ? " (EthereumStratum)" : "");
		}
		bump_u64(ev, &ev->jobs);
		mt_ev_work(ev, c->ts_us);
		if (sh == NS_BTC) {
			set_algo(c, 2, "", "sha256d");
			if (!ev->coinbase_tag[0] && st->tag_tries < MT_STRATUM_TAG_TRIES) {
				st->tag_tries++;
				coinbase_tag(c, m, el[2], el[3]);
			}
		} else if (sh == NS_ZEC) {
			if (n == 8 || (n == 9 && is_bool(m, el[8])))
				set_algo(c, 2, "ZEC", "equihash");
			else
				set_algo(c, 2, "", "equihash");
		} else if (sh == NS_ETH) {
			set_algo(c, 2, "", "ethash");
		} else if (sh == NS_KAWPOW) {
			/* the share target rides in each job: hashes per share = 2^256 / target */
			double t = target_hashes_n(m, el[3], 1);

			set_algo(c, 2, kawpow_coin(ev), "kawpow");
			ev_tok(ev, ev->target, sizeof ev->target, m, el[3]);
			if (t > 0)
				st->tdiff = t;
		} else if (sh == NS_ERGO) {
			set_algo(c, 2, "ERG", "autolykos2");
		}
		/* Kaspa's and EIP-1571's shapes name no algorithm: the wallet or mining.set do */
		return;
	}
	case M_SET: {
		/* EIP-1571 {epoch, target, algo, extranonce, timeout}: hex strings and the algorithm's name */
		static const char *const hex_keys[] = { "epoch", "target", "extranonce", "timeout" };
		int known = 0, ia, it;

		if (type_at(m, ip) != MT_JSON_OBJECT)
			return;
		for (size_t k = 0; k < sizeof hex_keys / sizeof hex_keys[0]; k++) {
			int iv = mt_json_get(m->s, m->t, m->n, ip, hex_keys[k]);

			if (iv < 0)
				continue;
			if (!is_hex_n(m, iv, k == 2 ? 0 : 1, 64, 0))
				return;
			known++;
		}
		ia = mt_json_get(m->s, m->t, m->n, ip, "algo");
		if (ia >= 0 && (!is_str(m, ia) || m->t[ia].len == 0 || m->t[ia].len >= MT_EV_ALGO_LEN))
			return;
		if (known == 0 && ia < 0)
			return;
		st->stratum_seen = 1;
		st->es2 = 1;
		set_eth(c);
		raise_conf(c, CONF_PUSH, "stratum: mining.set push%s", dialect_note(st));
		mt_ev_work(ev, c->ts_us);
		it = mt_json_get(m->s, m->t, m->n, ip, "target");
		if (it >= 0) {
			ev_tok(ev, ev->target, sizeof ev->target, m, it);
			st->tdiff = target_hashes_n(m, it, 1);
		}
		if (ia >= 0) {
			char a[MT_EV_ALGO_LEN];
			int k = mt_json_str(m->s, &m->t[ia], a, sizeof a);

			if (k > 0) {
				a[k] = '\0';
				set_algo(c, 2, "", a);
			}
		} else {
			set_algo(c, 1, "", "ethash"); /* EIP-1571: "If omitted the client MUST assume ethash" */
		}
		return;
	}
	case M_BYE:
		if (ip < 0)
			st->stratum_seen = 1;
		return;
	case M_SET_DIFFICULTY: {
		double d;

		n = children(m, ip, el, 16);
		if (n < 1 || n > 2 || type_at(m, el[0]) != MT_JSON_NUMBER ||
		    mt_json_double(m->s, &m->t[el[0]], &d) != 0 || !(d > 0))
			return;
		st->stratum_seen = 1;
		raise_conf(c, CONF_PUSH, "stratum: mining.set_difficulty push (%g)", d);
		mt_ev_work(ev, c->ts_us);
		if (!ev->has_difficulty || ev->difficulty != d) {
			ev->difficulty = d;
			ev->has_difficulty = 1;
			ev->version++;
		}
		return;
	}
	case M_SET_TARGET:
		n = children(m, ip, el, 16);
		if (n != 1 || !is_hex_n(m, el[0], 8, 64, 1))
			return;
		st->stratum_seen = 1;
		raise_conf(c, CONF_PUSH, "stratum: mining.set_target push");
		ev_tok(ev, ev->target, sizeof ev->target, m, el[0]);
		mt_ev_work(ev, c->ts_us);
		/* the coin is left to the job's shape: KawPow, Ergo and other pools send set_target too */
		st->tdiff = target_hashes(m, el[0]);
		return;
	case M_RECONNECT:
		n = children(m, ip, el, 16);
		if (n < 0)
			return;
		st->stratum_seen = 1;
		if (st->detected && n >= 1 && !ev->pool_host[0] && looks_like_host(m, el[0]))
			ev_tok(ev, ev->pool_host, sizeof ev->pool_host, m, el[0]);
		return;
	default:
		/* set_extranonce, set_version_mask, show_message, get_version: the grammar, not decisive */
		if (type_at(m, ip) == MT_JSON_ARRAY)
			st->stratum_seen = 1;
		return;
	}
}

/*
 * 0: null or absent; 1: stratum error [code, message, ...]; 2: anything else (JSON-RPC 2.0 object ...);
 * with es2, an EIP-1571 error object {code, message} is 1 too (*code set).
 */
static int error_form(const struct msg *m, int ie, int es2, int64_t *code)
{
	int el[3];
	int ty = type_at(m, ie);

	*code = 0;
	if (ie < 0 || ty == MT_JSON_NULL)
		return 0;
	if (ty == MT_JSON_ARRAY && m->t[ie].size >= 2 && children(m, ie, el, 3) >= 2 &&
	    type_at(m, el[0]) == MT_JSON_NUMBER && is_str(m, el[1]))
		return 1;
	if (es2 && ty == MT_JSON_OBJECT) {
		int ic = mt_json_get(m->s, m->t, m->n, ie, "code");

		if (type_at(m, ic) == MT_JSON_NUMBER && is_str(m, mt_json_get(m->s, m->t, m->n, ie, "message")) &&
		    mt_json_i64(m->s, &m->t[ic], code) == 0)
			return 1;
	}
	return 2;
}

/* 1 a stratum answer, 2 a stratum refusal, 0 not a stratum reply to meth. */
static int reply_form(const stratum_state *st, const struct msg *m, enum method meth, int ir, int ef)
{
	int rt = type_at(m, ir);

	if (ef == 1)
		return (ir < 0 || rt == MT_JSON_NULL) ? 2 : 0;
	if (ef != 0)
		return 0;
	if (st->es2) {
		/* EIP-1571: {"id":N} is a success without data; sessions and workers are named by strings */
		if (ir < 0)
			return meth == M_SUBMIT || meth == M_NOOP || meth == M_HASHRATE;
		if (meth == M_SUBSCRIBE || meth == M_AUTHORIZE)
			return rt == MT_JSON_STRING && m->t[ir].len > 0;
	}
	if (ir < 0)
		return 0;
	switch (meth) {
	case M_HELLO: {
		/* {proto, encoding, resume, timeout, maxerrors, node} */
		int ip = mt_json_get(m->s, m->t, m->n, ir, "proto");

		return rt == MT_JSON_OBJECT && is_eth_proto(m, ip) &&
		       is_str(m, mt_json_get(m->s, m->t, m->n, ir, "encoding"));
	}
	case M_SUBSCRIBE: {
		/* [subscriptions, extranonce1, extranonce2_size]; ZIP 301 [session, nonce1]; EthereumStratum [[...], extranonce] */
		int el[3];
		int r0;

		if (rt != MT_JSON_ARRAY || m->t[ir].size < 2 || m->t[ir].size > 3 ||
		    children(m, ir, el, 3) < 2)
			return 0;
		r0 = type_at(m, el[0]);
		/* kaspa-stratum-bridge (gostratum HandleSubscribe): [true, "EthereumStratum/1.0.0"] */
		if (m->t[ir].size == 2 && r0 == MT_JSON_TRUE && is_eth_proto(m, el[1]))
			return 1;
		if (r0 != MT_JSON_ARRAY && r0 != MT_JSON_STRING && r0 != MT_JSON_NULL)
			return 0;
		if (!is_hex_n(m, el[1], 0, 64, 0))
			return 0;
		if (m->t[ir].size == 3 && type_at(m, el[2]) != MT_JSON_NUMBER)
			return 0;
		return 1;
	}
	case M_AUTHORIZE:
	case M_SUBMIT:
	case M_EXTRANONCE_SUBSCRIBE:
		return rt == MT_JSON_TRUE || rt == MT_JSON_FALSE;
	case M_CONFIGURE:
		return rt == MT_JSON_OBJECT;
	default:
		return rt != MT_JSON_NONE;
	}
}

/* Does a subscribe result name EthereumStratum (result[0] = ["mining.notify", id, "EthereumStratum/1.0.0"])? */
static int eth_subscribe_result(const struct msg *m, int ir)
{
	int el[3], sub[4];
	int n = children(m, ir, el, 3);
	int k, ns;

	if (n < 1)
		return 0;
	if (n >= 2 && is_eth_proto(m, el[1]))
		return 1;
	ns = children(m, el[0], sub, 4);
	for (k = 0; k < ns; k++)
		if (is_eth_proto(m, sub[k]))
			return 1;
	return 0;
}

static void on_reply(struct ctx *c, const struct msg *m, int dir, int iid, int ir, int ie)
{
	stratum_state *st = c->st;
	mt_evidence *ev = c->ev;
	enum method meth;
	int ef, form, rt;
	int64_t code;

	if (type_at(m, iid) != MT_JSON_NUMBER && type_at(m, iid) != MT_JSON_STRING)
		return; /* id null: an unsolicited error, nothing to pair */
	meth = pend_take(st, mt_json_tok_hash(m->s, m->t + iid), dir);
	if (meth == M_NONE)
		return;
	ef = error_form(m, ie, st->es2, &code);
	rt = type_at(m, ir);
	if (meth == M_GET_VERSION) {
		/* client.get_version answered: not evidence of a pool, but the agent */
		if (st->detected && rt == MT_JSON_STRING && m->t[ir].len && !ev->agent[0])
			ev_tok(ev, ev->agent, sizeof ev->agent, m, ir);
		return;
	}
	form = reply_form(st, m, meth, ir, ef);
	if (meth == M_SUBMIT && st->detected) {
		/* EIP-1571: {"id":N} accepts, an error 2xx accepts a stale share */
		if (ef == 0 && (rt == MT_JSON_TRUE || (st->es2 && ir < 0)))
			bump_u64(ev, &ev->shares_accepted);
		else if (st->es2 && ef == 1 && code >= 200 && code < 300)
			bump_u64(ev, &ev->shares_accepted);
		else if (rt == MT_JSON_FALSE || ef != 0)
			bump_u64(ev, &ev->shares_rejected);
	}
	if (st->es2 && ef == 1 && code >= 200 && code < 300)
		form = reply_form(st, m, meth, ir, 0); /* processed, with a note: an answer */
	if (form == 0)
		return;
	st->stratum_seen = 1;
	if (form == 2) {
		raise_conf(c, CONF_REFUSED, "stratum: %s request refused with a stratum error (id %.*s)",
			   method_names[meth], id_text_len(m, iid), id_text(m, iid));
		return;
	}
	st->answered = 1;
	if (meth == M_SUBSCRIBE && ir >= 0 && eth_subscribe_result(m, ir))
		set_eth(c);
	if (meth == M_HELLO) {
		st->es2 = 1;
		set_eth(c);
	}
	if (st->notified)
		raise_conf(c, CONF_BOTH, "stratum: %s request answered (id %.*s) in a session with mining.notify pushes%s",
			   method_names[meth], id_text_len(m, iid), id_text(m, iid), dialect_note(st));
	else
		raise_conf(c, CONF_PAIR, "stratum: %s request answered (id %.*s)%s", method_names[meth],
			   id_text_len(m, iid), id_text(m, iid), dialect_note(st));
}

/* Also the framing's callbacks (detect/jsonl.h): ctx is a struct ctx. */
static void not_mine(void *ctx)
{
	struct ctx *c = ctx;

	if (!c->st->detected)
		c->st->excluded = 1;
}

static void foreign_msg(void *ctx)
{
	struct ctx *c = ctx;
	stratum_state *st = c->st;

	if (st->foreign < UINT8_MAX)
		st->foreign++;
	if (st->foreign >= MT_STRATUM_MAX_FOREIGN && !st->stratum_seen)
		not_mine(c);
}

static void on_object(struct ctx *c, const struct msg *m, int dir, int first_msg)
{
	int im = mt_json_get(m->s, m->t, m->n, 0, "method");
	int iid = mt_json_get(m->s, m->t, m->n, 0, "id");
	int ip = mt_json_get(m->s, m->t, m->n, 0, "params");
	enum method meth = M_NONE;

	if (im >= 0) {
		char name[MT_STRATUM_METHOD_LEN];
		int k = is_str(m, im) ? mt_json_str(m->s, &m->t[im], name, sizeof name) : -1;

		if (k >= 0)
			meth = lookup_method(name);
		if (meth == M_NONE) {
			if (k >= 0 && (strncmp(name, "mining.", 7) == 0 || strncmp(name, "client.", 7) == 0))
				return; /* an extension we do not know: neutral */
			/*
			 * A miner's first words are a stratum request; a client
			 * that opens with eth_*, login, echo ... speaks another
			 * JSON-RPC dialect.
			 */
			if (first_msg && dir == 0 && c->fv->dir_certain && !c->fv->midstream[0])
				not_mine(c);
			else
				foreign_msg(c);
			return;
		}
		if (meth >= M_FIRST_SERVER)
			on_push(c, m, dir, meth, iid, ip);
		else
			on_request(c, m, dir, meth, iid, ip);
		return;
	}
	if (iid >= 0) {
		int ir = mt_json_get(m->s, m->t, m->n, 0, "result");
		int ie = mt_json_get(m->s, m->t, m->n, 0, "error");

		if (ir >= 0 || ie >= 0 || (c->st->es2 && m->t[0].size == 1)) {
			/* EIP-1571 answers a void request with {"id":N} alone */
			on_reply(c, m, dir, iid, ir, ie);
			return;
		}
	}
	foreign_msg(c);
}

/* ---- the line framing (detect/jsonl.c) --------------------------------- */

static void line_object(void *ctx, int dir, const uint8_t *p, uint32_t off, uint32_t n,
			const mt_json_tok *t, int nt, int first_msg)
{
	struct msg m = { p, t, nt };

	(void)off;
	(void)n;
	on_object(ctx, &m, dir, first_msg);
}

_Static_assert(MT_STRATUM_MAX_TOKENS <= MT_JSONL_MAX_TOKENS, "a line's tokens live in jsonl.c's array");

static const mt_jsonl_ops line_ops = {
	.max_line = MT_STRATUM_MAX_LINE,
	.max_tokens = MT_STRATUM_MAX_TOKENS,
	.max_depth = MT_STRATUM_MAX_DEPTH,
	.max_bad = MT_STRATUM_MAX_BAD_LINES,
	.long_foreign = 0,
	.object = line_object,
	.foreign = foreign_msg,
	.not_mine = not_mine,
};

static int stratum_on_packet(void *global, void *state, const mt_flow_view *fv,
			     const mt_pkt_view *pv, mt_evidence *ev)
{
	stratum_state *st = state;
	struct ctx c = { st, fv, ev, pv ? pv->ts_us : 0 };

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return MT_EXCLUDED;
	if (fv->l4proto != 6) {
		not_mine(&c);
		return st->detected ? MT_DETECTED : MT_EXCLUDED;
	}
	/* requests before replies when both directions grew */
	mt_jsonl_process(&line_ops, &c, st->d, fv, &st->excluded);
	if (st->detected) {
		/* A request alone is the weakest rule: hold it until the server has said
		 * something (or nothing, by the end), so the first record tells the most. */
		if (ev->confidence <= CONF_PROBE && !pv->flow_end && !fv->fin[0] && !fv->fin[1] &&
		    fv->bytes[1] == 0)
			return MT_UNDECIDED;
		return MT_DETECTED;
	}
	if (st->excluded)
		return MT_EXCLUDED;
	if (st->d[0].done && st->d[1].done)
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

/* API 3: the first-byte rule of scan_lines, before any state is made (prefilter.h). */
static int stratum_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	return mt_prefilter_jsonl(fv);
}

const mt_detector mt_detect_stratum = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "stratum",
	.description = "Stratum v1 mining JSON-RPC lines (Bitcoin, Zcash ZIP 301, EthereumStratum/1.0.0 and 2.0.0, KawPow, Ergo, Kaspa)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_STRATUM_MAX_PACKETS,
	.state_size = sizeof(stratum_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = stratum_on_packet,
	.flow_free = NULL,
	.prefilter = stratum_prefilter,
};
