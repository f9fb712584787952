/* cryptonote.c - CryptoNote pool protocol detector: the login / job / submit JSON-RPC lines of XMRig, xmr-stak and Monero-family pools. */
/*
 * Wire format: one JSON-RPC 2.0 object per line, LF terminated (xmrig-proxy
 * doc/STRATUM.md "Stratum mining protocol"; the self-select mode of
 * jtgrassie/monero-pool stratum-ss.md). The miner speaks first:
 *   {"id":1,"method":"login","params":{"login":WALLET,"pass":P,"agent":A,"algo":[..],"rigid":R}}
 * the pool answers with a session id and a first job
 *   {"id":1,"error":null,"result":{"id":S,"job":JOB,"extensions":[..],"status":"OK"}}
 *   JOB = {"blob":HEX,"job_id":J,"target":HEX8|HEX16,"algo":A,"height":N,"seed_hash":HEX64}
 *   (self-select: {"job_id":J,"target":T,"pool_wallet":W,"extra_nonce":HEX}, no blob)
 * then pushes jobs {"method":"job","params":JOB}. The miner sends shares
 * {"method":"submit","params":{"id":S,"job_id":J,"nonce":HEX8,"result":HEX64}}
 * answered {"result":{"status":"OK"}} or with an error object
 * {"code":-1,"message":"Low difficulty share"}; "keepalived", "getjob" and
 * (self-select) "block_template" complete the client's methods.
 *
 * The decision follows the grammar: a line counts only as a JSON object of
 * the right shape. Rules (confidence in brackets):
 *   - a job of the right shape, pushed or in the answer to login / getjob
 *     [0.95; 0.98 once the session has both an answered request and a push];
 *   - submit / keepalived / block_template answered in form [0.9], a share or
 *     login refused with a pool's error object [0.85]; a login answer with a
 *     job whose request the capture missed [0.9];
 *   - a well-formed login (wallet-like login or a known miner agent) or
 *     submit alone [0.6], held until the pool has said something or the flow
 *     ended: a miner whose pool is down, or a scanner's probe.
 * Evidence is written only in calls that answer MT_DETECTED: requests seen
 * before are remembered by position in the stream and read again then.
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
#ifndef MT_CN_MAX_PACKETS
#define MT_CN_MAX_PACKETS 256   /* keep reading to count shares and jobs */
#endif
#ifndef MT_CN_MAX_LINE
#define MT_CN_MAX_LINE 32768u   /* block_template lines carry whole block templates */
#endif
#ifndef MT_CN_MAX_TOKENS
#define MT_CN_MAX_TOKENS 256    /* XMRig's login lists some 40 algorithms */
#endif
#ifndef MT_CN_MAX_DEPTH
#define MT_CN_MAX_DEPTH 8       /* deepest message (login answer) nests 4 */
#endif
#ifndef MT_CN_MAX_BAD_LINES
#define MT_CN_MAX_BAD_LINES 8   /* non-JSON lines tolerated per direction */
#endif
#ifndef MT_CN_MAX_FOREIGN
#define MT_CN_MAX_FOREIGN 4     /* JSON messages outside the grammar before giving up */
#endif
#ifndef MT_CN_PENDING
#define MT_CN_PENDING 16        /* outstanding request ids remembered */
#endif
#define MT_CN_METHOD_LEN 40
#define MT_CN_LOGIN_LEN 512     /* longest login string taken apart */
#define MT_CN_MIN_BLOB 43       /* bytes: the nonce (4 bytes at offset 39) must fit */
#define MT_CN_MAX_BLOB 1024     /* bytes: XMRig holds 408 at most */
#define MT_CN_MAX_JOB_ID 128
#define MT_CN_MIN_WALLET 90     /* base58 characters: CryptoNote addresses have 95 and more */
#define MT_CN_MIN_ADDR 26       /* shortest address-like run that names a wallet */
#define MT_CN_ID_TEXT 32        /* request id characters quoted in the evidence */

/* Confidence of each rule. */
#define CONF_PROBE 0.6
#define CONF_REFUSED 0.85
#define CONF_PAIR 0.9
#define CONF_LONE_REPLY 0.9
#define CONF_JOB 0.95
#define CONF_BOTH 0.98

enum method { M_NONE = 0, M_LOGIN, M_SUBMIT, M_GETJOB, M_KEEPALIVED, M_BLOCK_TEMPLATE, M_JOB };

static const char *const method_names[] = {
	[M_NONE] = "",
	[M_LOGIN] = "login",
	[M_SUBMIT] = "submit",
	[M_GETJOB] = "getjob",
	[M_KEEPALIVED] = "keepalived",
	[M_BLOCK_TEMPLATE] = "block_template",
	[M_JOB] = "job",
};

#define N_METHODS (sizeof method_names / sizeof method_names[0])

/* Algorithm ranks: a later, stronger source replaces a weaker one. */
enum { AR_NONE = 0, AR_SEED, AR_LOGIN, AR_SUBMIT, AR_JOB };

struct pend {
	uint64_t id;  /* hash of the id's type and raw text */
	uint32_t seq; /* age: lowest is oldest */
	uint8_t method;
	uint8_t dir;
	uint8_t used;
};

/* A line's place in its direction's stream, to read it again. */
struct span {
	uint32_t off;
	uint32_t len;
	uint8_t dir;
	uint8_t used;
};

typedef struct cn_state {
	mt_jsonl_dir d[2];
	struct pend pend[MT_CN_PENDING];
	uint64_t shares, accepted, rejected, jobs;
	struct span login; /* first login request: its wallet, worker, agent */
	struct span probe; /* first request that decides alone (held) */
	uint32_t seq;
	double conf;
	uint8_t detected;  /* a rule fired */
	uint8_t flushed;   /* evidence written (a DETECTED answer given) */
	uint8_t excluded;
	uint8_t grammar;   /* any message of the grammar */
	uint8_t answered;  /* a request paired with its answer */
	uint8_t pushed;    /* a job push */
	uint8_t foreign;   /* JSON messages outside the grammar */
	uint8_t algo_rank;
	uint8_t algo_guess; /* ev->algo inferred, not named: no coin from it */
	uint8_t wallet_xmr; /* the login names a Monero address */
	/* share accounting for the hash-rate estimate, kept here because flush() clears ev */
	double cur_diff;    /* difficulty of the latest job's target (0: none) */
	double diff_sum;    /* sum of cur_diff at each submit */
	uint64_t n_diff, work_us, first_us, last_us;
} cn_state;

struct ctx {
	cn_state *st;
	const mt_flow_view *fv;
	mt_evidence *ev;
	uint64_t ts_us; /* packet time of this call (share and job times) */
};

/* A parsed line. */
struct msg {
	const uint8_t *s;
	const mt_json_tok *t;
	int n;
	struct span at;
};

/* ---- small helpers ---------------------------------------------------- */

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

static int eq_ci(const char *a, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)lit[i]))
			return 0;
	return 1;
}

static int prefix_ci(const char *a, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)pre[i]))
			return 0;
	return 1;
}

static int type_at(const struct msg *m, int i)
{
	return i >= 0 && i < m->n ? m->t[i].type : MT_JSON_NONE;
}

static int is_str(const struct msg *m, int i)
{
	return type_at(m, i) == MT_JSON_STRING;
}

static int is_obj(const struct msg *m, int i)
{
	return type_at(m, i) == MT_JSON_OBJECT;
}

/* Absent, or of type ty (or null when null_ok). */
static int opt_type(const struct msg *m, int i, int ty, int null_ok)
{
	int t = type_at(m, i);

	return i < 0 || t == ty || (null_ok && t == MT_JSON_NULL);
}

static int get(const struct msg *m, int obj, const char *key)
{
	return mt_json_get(m->s, m->t, m->n, obj, key);
}

/* A string of hex digits, length in [minlen, maxlen]; escaped strings are not hex. */
static int is_hex_n(const struct msg *m, int i, uint32_t minlen, uint32_t maxlen)
{
	const uint8_t *p;
	uint32_t n;

	if (!is_str(m, i) || m->t[i].escaped)
		return 0;
	p = m->s + m->t[i].start;
	n = m->t[i].len;
	if (n < minlen || n > maxlen)
		return 0;
	for (uint32_t k = 0; k < n; k++)
		if (mt_json_hexval(p[k]) < 0)
			return 0;
	return 1;
}

/* A non-empty string of at most maxlen raw bytes. */
static int is_name(const struct msg *m, int i, uint32_t maxlen)
{
	return is_str(m, i) && m->t[i].len > 0 && m->t[i].len <= maxlen;
}

static int str_eq_ci(const struct msg *m, int i, const char *lit)
{
	char buf[32];
	int k;

	if (!is_str(m, i))
		return 0;
	k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);
	return k >= 0 && eq_ci(buf, (size_t)k, lit);
}

static int valid_id(const struct msg *m, int i)
{
	int ty = type_at(m, i);

	return ty == MT_JSON_NUMBER || ty == MT_JSON_STRING;
}

static int id_len(const struct msg *m, int i)
{
	return m->t[i].len > MT_CN_ID_TEXT ? MT_CN_ID_TEXT : (int)m->t[i].len;
}

static const char *id_text(const struct msg *m, int i)
{
	return (const char *)m->s + m->t[i].start;
}

static enum method lookup_method(const char *name)
{
	for (size_t k = 1; k < N_METHODS; k++)
		if (strcmp(name, method_names[k]) == 0)
			return (enum method)k;
	return M_NONE;
}

static int is_b58(uint8_t c)
{
	return (c >= '1' && c <= '9') || (c >= 'A' && c <= 'H') || (c >= 'J' && c <= 'N') ||
	       (c >= 'P' && c <= 'Z') || (c >= 'a' && c <= 'k') || (c >= 'm' && c <= 'z');
}

static size_t b58_run(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_b58((uint8_t)p[i]))
		i++;
	return i;
}

/*
 * Length of the address that begins p: a base58 run (CryptoNote, and the
 * other coins some of these pools pay in) or 0x and 40 hex digits; 0 if none.
 */
static size_t addr_len(const char *p, size_t n)
{
	size_t k = b58_run(p, n);

	if (k >= MT_CN_MIN_ADDR)
		return k;
	if (n >= 42 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (k = 2; k < 42; k++)
			if (mt_json_hexval((uint8_t)p[k]) < 0)
				return 0;
		if (n == 42 || !((p[42] >= '0' && p[42] <= '9') || (lower((uint8_t)p[42]) >= 'a' && lower((uint8_t)p[42]) <= 'z')))
			return 42;
	}
	return 0;
}

/* Monero main-net standard (4...) and subaddress (8...) addresses have 95 base58 characters, integrated ones 106. */
static int monero_address(const char *p, size_t n)
{
	if (b58_run(p, n) != n)
		return 0;
	return (n == 95 && (p[0] == '4' || p[0] == '8')) || (n == 106 && p[0] == '4');
}

static int all_digits(const char *p, size_t n)
{
	if (n == 0 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* A payment id: 8 or 32 bytes in hex. */
static int payment_id(const char *p, size_t n)
{
	if (n != 16 && n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (mt_json_hexval((uint8_t)p[i]) < 0)
			return 0;
	return 1;
}

/* Miner software that speaks this protocol (agent prefixes, case-insensitive). */
static const char *const known_agents[] = {
	"xmrig", "xmr-stak", "xmr-node-proxy", "srbminer", "cpuminer", "teamredminer",
	"jceminer", "jce/", "castxmr", "cast_xmr", "xmr/", "nanominer", "wildrig",
	"cryptodredge", "xmrminer", "mo-proxy", "snipa",
};

static int known_agent(const char *p, size_t n)
{
	for (size_t k = 0; k < sizeof known_agents / sizeof known_agents[0]; k++)
		if (prefix_ci(p, n, known_agents[k]))
			return 1;
	return 0;
}

/*
 * Coins by the algorithm the pool names (XMRig's short and long names,
 * src/base/crypto/Algorithm.cpp): only names one coin uses.
 */
static const struct { const char *algo; const char *coin; } algo_coins[] = {
	{ "rx/0", "XMR" }, { "randomx/0", "XMR" }, { "rx", "XMR" }, { "randomx", "XMR" },
	{ "cn/r", "XMR" }, { "cryptonight/r", "XMR" }, { "cryptonight_r", "XMR" },
	{ "rx/wow", "WOW" }, { "randomx/wow", "WOW" }, { "randomwow", "WOW" },
	{ "rx/arq", "ARQ" }, { "randomx/arq", "ARQ" }, { "randomarq", "ARQ" },
	{ "rx/loki", "LOKI" }, { "randomx/loki", "LOKI" }, { "randomxl", "LOKI" },
	{ "rx/sfx", "SFX" }, { "randomx/sfx", "SFX" }, { "randomsfx", "SFX" },
	{ "rx/keva", "KVA" }, { "randomx/keva", "KVA" }, { "randomkeva", "KVA" },
	{ "rx/graft", "GRFT" }, { "randomx/graft", "GRFT" },
	{ "rx/yada", "YDA" }, { "randomx/yada", "YDA" },
	{ "cn-heavy/xhv", "XHV" }, { "cryptonight-heavy/xhv", "XHV" }, { "cryptonight_haven", "XHV" },
	{ "cn-heavy/tube", "TUBE" }, { "cryptonight-heavy/tube", "TUBE" }, { "cryptonight-bittube2", "TUBE" },
	{ "cn/ccx", "CCX" }, { "cryptonight/ccx", "CCX" },
	{ "cn/upx2", "UPX" }, { "cryptonight/upx2", "UPX" },
	{ "cn/rwz", "GRFT" }, { "cryptonight/rwz", "GRFT" },
	{ "cn/zls", "ZLS" }, { "cryptonight/zls", "ZLS" },
	{ "cn/double", "XCASH" }, { "cryptonight/double", "XCASH" },
	{ "cn/xao", "XAO" }, { "cryptonight/xao", "XAO" }, { "cryptonight_alloy", "XAO" },
	{ "cn/gpu", "RYO" }, { "cryptonight/gpu", "RYO" }, { "cryptonight_gpu", "RYO" },
	{ "cn/half", "MSR" }, { "cryptonight/half", "MSR" },
	{ "cn/fast", "MSR" }, { "cryptonight/fast", "MSR" }, { "cryptonight/msr", "MSR" },
	{ "cn-lite/1", "AEON" }, { "cryptonight-lite/1", "AEON" }, { "cryptonight-aeonv7", "AEON" },
	{ "cn-pico/tlo", "TLO" }, { "cryptonight-pico/tlo", "TLO" }, { "cryptonight-talleo", "TLO" },
	{ "cn-pico", "TRTL" }, { "cn-pico/trtl", "TRTL" }, { "cryptonight-pico", "TRTL" },
	{ "cryptonight-turtle", "TRTL" }, { "argon2/chukwa", "TRTL" }, { "chukwa", "TRTL" },
	{ "argon2/chukwav2", "TRTL" }, { "argon2/wrkz", "WRKZ" }, { "argon2/ninja", "NINJA" },
	{ "astrobwt", "DERO" }, { "astrobwt/dero", "DERO" }, { "astrobwt/v2", "DERO" },
	{ "ghostrider", "RTM" }, { "gr", "RTM" },
};

static const char *algo_coin(const char *a, size_t n)
{
	for (size_t k = 0; k < sizeof algo_coins / sizeof algo_coins[0]; k++)
		if (eq_ci(a, n, algo_coins[k].algo))
			return algo_coins[k].coin;
	return NULL;
}

/* ---- pending requests ------------------------------------------------- */

static void pend_add(cn_state *st, uint64_t id, uint8_t method, int dir)
{
	struct pend *slot = &st->pend[0];

	for (size_t k = 0; k < MT_CN_PENDING; k++) {
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

/* Takes the oldest request with this id sent the other way (xmr-stak sends every request with id 1). */
static enum method pend_take(cn_state *st, uint64_t id, int dir)
{
	struct pend *hit = NULL;

	for (size_t k = 0; k < MT_CN_PENDING; k++) {
		struct pend *p = &st->pend[k];

		if (p->used && p->id == id && p->dir != dir && (!hit || p->seq < hit->seq))
			hit = p;
	}
	if (!hit)
		return M_NONE;
	hit->used = 0;
	return (enum method)hit->method;
}

/* ---- evidence --------------------------------------------------------- */

static void ev_text(mt_evidence *ev, char *field, size_t cap, const char *s)
{
	mt_ev_set(ev, field, cap, s, strlen(s));
}

static void ev_tok(mt_evidence *ev, char *field, size_t cap, const struct msg *m, int i)
{
	char buf[512];
	int k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);

	if (k >= 0)
		mt_ev_set(ev, field, cap, buf, (size_t)k);
	else /* too long or a bad escape: the raw text, cut and sanitised */
		mt_ev_set(ev, field, cap, (const char *)m->s + m->t[i].start, m->t[i].len);
}

static void sync_u64(mt_evidence *ev, uint64_t *field, uint64_t v)
{
	if (*field != v) {
		*field = v;
		ev->version++;
	}
}

static void update_coin(struct ctx *c)
{
	mt_evidence *ev = c->ev;
	const char *coin = NULL;

	if (ev->algo[0] && !c->st->algo_guess)
		coin = algo_coin(ev->algo, strlen(ev->algo));
	if (!coin)
		coin = c->st->wallet_xmr ? "XMR" : "";
	ev_text(ev, ev->coin, sizeof ev->coin, coin);
}

static void set_algo(struct ctx *c, uint8_t rank, const char *name, size_t n, int guess)
{
	if (rank < c->st->algo_rank || n == 0)
		return;
	c->st->algo_rank = rank;
	c->st->algo_guess = (uint8_t)guess;
	mt_ev_set(c->ev, c->ev->algo, sizeof c->ev->algo, name, n);
	update_coin(c);
}

static void set_algo_tok(struct ctx *c, uint8_t rank, const struct msg *m, int i)
{
	char buf[MT_EV_ALGO_LEN];
	int k;

	if (!is_str(m, i))
		return;
	k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);
	if (k > 0)
		set_algo(c, rank, buf, (size_t)k, 0);
}

static void flush(struct ctx *c);

/*
 * A rule fired. Before the first DETECTED answer nothing is written: a held
 * probe only remembers its confidence (its line is read again at flush); a
 * stronger rule flushes first.
 */
__attribute__((format(printf, 3, 4)))
static void raise_conf(struct ctx *c, double conf, const char *fmt, ...)
{
	cn_state *st = c->st;
	mt_evidence *ev = c->ev;
	char text[MT_EV_TEXT_LEN];
	va_list ap;
	int k;

	st->detected = 1;
	if (conf > st->conf)
		st->conf = conf;
	if (!st->flushed) {
		if (conf <= CONF_PROBE)
			return;
		flush(c);
	}
	if (!(conf > ev->confidence))
		return;
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

/*
 * The login string: "WALLET", "WALLET.WORKER", "WALLET+DIFF",
 * "WALLET.PAYMENTID.WORKER", "WALLET+PAYMENTID", "WALLET.WORKER+DIFF" (pool
 * conventions: a '+' suffix sets a fixed difficulty, a 16- or 64-digit hex
 * part is a payment id). Without an address in front, the stratum
 * convention: "ACCOUNT.WORKER", or a bare worker name.
 */
static void set_login(struct ctx *c, const struct msg *m, int i)
{
	mt_evidence *ev = c->ev;
	char buf[MT_CN_LOGIN_LEN + 1];
	int k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);
	size_t n, w, p;

	if (k <= 0)
		return;
	n = (size_t)k;
	w = addr_len(buf, n);
	if (w == 0) {
		const char *dot = NULL;

		for (size_t q = 0; q < n; q++)
			if (buf[q] == '.')
				dot = buf + q;
		if (!dot) {
			mt_ev_set(ev, ev->worker, sizeof ev->worker, buf, n);
			return;
		}
		w = (size_t)(dot - buf);
		if (w > 0)
			mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, w);
		if (n - w - 1 > 0)
			mt_ev_set(ev, ev->worker, sizeof ev->worker, buf + w + 1, n - w - 1);
		return;
	}
	mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, w);
	c->st->wallet_xmr = (uint8_t)monero_address(buf, w);
	update_coin(c);
	p = w;
	while (p < n) {
		char sep = buf[p];
		size_t s = p + 1, e = s, end;

		while (e < n && buf[e] != '.' && buf[e] != '+')
			e++;
		if (sep == '+' && all_digits(buf + s, e - s)) {
			p = e; /* fixed difficulty */
			continue;
		}
		if ((sep == '.' || sep == '+') && payment_id(buf + s, e - s)) {
			p = e;
			continue;
		}
		/* the worker runs to the end, less a trailing "+DIFF" */
		end = n;
		for (size_t q = n; q > s; q--) {
			if (buf[q - 1] == '+') {
				if (all_digits(buf + q, n - q))
					end = q - 1;
				break;
			}
		}
		if (end > s)
			mt_ev_set(ev, ev->worker, sizeof ev->worker, buf + s, end - s);
		return;
	}
}

/* What a login request says of the miner (written once detected). */
static void login_evidence(struct ctx *c, const struct msg *m, int ip)
{
	mt_evidence *ev = c->ev;
	int il = get(m, ip, "login");
	int ia = get(m, ip, "agent");
	int ir = get(m, ip, "rigid");
	int ialgo = get(m, ip, "algo");

	if (is_str(m, il))
		set_login(c, m, il);
	if (is_name(m, ia, UINT32_MAX))
		ev_tok(ev, ev->agent, sizeof ev->agent, m, ia);
	/* XMRig's rig id names the worker when the login does not */
	if (!ev->worker[0] && is_name(m, ir, UINT32_MAX))
		ev_tok(ev, ev->worker, sizeof ev->worker, m, ir);
	/* the list of algorithms the miner can run names one only when it has one */
	if (type_at(m, ialgo) == MT_JSON_ARRAY && m->t[ialgo].size == 1)
		set_algo_tok(c, AR_LOGIN, m, ialgo + 1);
}

/* ---- shapes ------------------------------------------------------------ */

/* {login, pass and/or agent, [algo], [rigid], [mode]} */
static int login_shape(const struct msg *m, int ip)
{
	int il = get(m, ip, "login"), ipw = get(m, ip, "pass"), ia = get(m, ip, "agent");
	int ialgo = get(m, ip, "algo");

	if (!is_obj(m, ip) || !is_name(m, il, MT_CN_LOGIN_LEN))
		return 0;
	if (ipw < 0 && ia < 0)
		return 0;
	if (!opt_type(m, ipw, MT_JSON_STRING, 1) || !opt_type(m, ia, MT_JSON_STRING, 0) ||
	    !opt_type(m, get(m, ip, "rigid"), MT_JSON_STRING, 1) ||
	    !opt_type(m, get(m, ip, "mode"), MT_JSON_STRING, 0) ||
	    !opt_type(m, ialgo, MT_JSON_ARRAY, 0))
		return 0;
	if (ialgo >= 0) {
		int j = ialgo + 1;

		for (uint32_t k = 0; k < m->t[ialgo].size; k++) {
			if (!is_str(m, j))
				return 0;
			j = (int)m->t[j].next;
		}
	}
	return 1;
}

/* A login that decides alone: an address-like login or a known miner agent. */
static int login_strong(const struct msg *m, int ip)
{
	int il = get(m, ip, "login"), ia = get(m, ip, "agent");
	char buf[MT_CN_LOGIN_LEN + 1];
	int k;

	k = mt_json_str(m->s, &m->t[il], buf, sizeof buf);
	if (k > 0 && b58_run(buf, (size_t)k) >= MT_CN_MIN_WALLET)
		return 1;
	if (is_str(m, ia)) {
		k = mt_json_str(m->s, &m->t[ia], buf, sizeof buf);
		if (k > 0 && known_agent(buf, (size_t)k))
			return 1;
	}
	return 0;
}

/* {[id], job_id, nonce: 4 bytes, result: 32 bytes, [algo]} */
static int submit_shape(const struct msg *m, int ip)
{
	return is_obj(m, ip) && is_name(m, get(m, ip, "job_id"), MT_CN_MAX_JOB_ID) &&
	       is_hex_n(m, get(m, ip, "nonce"), 8, 8) && is_hex_n(m, get(m, ip, "result"), 64, 64) &&
	       opt_type(m, get(m, ip, "id"), MT_JSON_STRING, 0) &&
	       opt_type(m, get(m, ip, "algo"), MT_JSON_STRING, 0);
}

static int request_shape(const struct msg *m, enum method meth, int ip)
{
	switch (meth) {
	case M_LOGIN:
		return login_shape(m, ip);
	case M_SUBMIT:
		return submit_shape(m, ip);
	case M_GETJOB:
		return is_obj(m, ip) && is_name(m, get(m, ip, "id"), 256);
	case M_KEEPALIVED:
		return is_obj(m, ip) && opt_type(m, get(m, ip, "id"), MT_JSON_STRING, 0);
	case M_BLOCK_TEMPLATE: {
		int ib = get(m, ip, "blob");

		return is_obj(m, ip) && is_name(m, get(m, ip, "job_id"), MT_CN_MAX_JOB_ID) &&
		       is_hex_n(m, ib, 2, UINT32_MAX) && m->t[ib].len % 2 == 0;
	}
	default:
		return 0;
	}
}

enum job_shape { JS_NONE = 0, JS_BLOB, JS_SELF_SELECT };

/*
 * A job: job_id, target (4 or 8 bytes little-endian; rx/yada a hex number),
 * and the hashing blob, or (self-select) the pool's wallet and extra nonce.
 */
static enum job_shape job_shape(const struct msg *m, int j)
{
	int ia, it, ib, ih, iw, ix;
	int yada;

	if (!is_obj(m, j) || !is_name(m, get(m, j, "job_id"), MT_CN_MAX_JOB_ID))
		return JS_NONE;
	ia = get(m, j, "algo");
	ih = get(m, j, "height");
	if (!opt_type(m, ia, MT_JSON_STRING, 1) || !opt_type(m, ih, MT_JSON_NUMBER, 0) ||
	    !opt_type(m, get(m, j, "seed_hash"), MT_JSON_STRING, 0))
		return JS_NONE;
	yada = str_eq_ci(m, ia, "rx/yada");
	it = get(m, j, "target");
	if (!(yada ? is_hex_n(m, it, 1, 16) : (is_hex_n(m, it, 8, 8) || is_hex_n(m, it, 16, 16))))
		return JS_NONE;
	ib = get(m, j, "blob");
	if (ib >= 0)
		return is_hex_n(m, ib, 2 * MT_CN_MIN_BLOB, 2 * MT_CN_MAX_BLOB) && m->t[ib].len % 2 == 0
			       ? JS_BLOB
			       : JS_NONE;
	iw = get(m, j, "pool_wallet");
	ix = get(m, j, "extra_nonce");
	if (is_name(m, iw, 256) && is_hex_n(m, ix, 1, 512))
		return JS_SELF_SELECT;
	return JS_NONE;
}

/*
 * Share difficulty from a job's target as XMRig computes it (Job::setTarget,
 * toDiff): a 4-byte target t becomes the 64-bit target
 * 0xFFFFFFFFFFFFFFFF / (0xFFFFFFFF / t); an 8-byte one is taken as is;
 * difficulty = 0xFFFFFFFFFFFFFFFF / target64. rx/yada sends a hex number.
 * Returns 0 and the difficulty, or -1 (a zero target means none).
 */
static int target_difficulty(const uint8_t *p, uint32_t n, int yada, double *diff)
{
	uint64_t t = 0;

	for (uint32_t k = 0; k < n; k++)
		if (mt_json_hexval(p[k]) < 0)
			return -1;
	if (yada) {
		if (n < 1 || n > 16)
			return -1;
		for (uint32_t k = 0; k < n; k++)
			t = t << 4 | (uint64_t)mt_json_hexval(p[k]);
	} else if (n == 8 || n == 16) {
		for (uint32_t k = n / 2; k-- > 0;) /* little-endian bytes */
			t = t << 8 | (uint64_t)(mt_json_hexval(p[2 * k]) << 4 | mt_json_hexval(p[2 * k + 1]));
		if (n == 8) {
			if (t == 0)
				return -1;
			t = UINT64_MAX / (0xFFFFFFFFULL / t);
		}
	} else {
		return -1;
	}
	if (t == 0)
		return -1;
	*diff = (double)(UINT64_MAX / t);
	return 0;
}

/* What a job says (written once detected). */
static void job_evidence(struct ctx *c, const struct msg *m, int j)
{
	cn_state *st = c->st;
	mt_evidence *ev = c->ev;
	int ia = get(m, j, "algo"), it = get(m, j, "target"), is = get(m, j, "seed_hash");
	double d;

	if (st->jobs < UINT64_MAX)
		st->jobs++;
	if (!st->work_us)
		st->work_us = c->ts_us;
	if (is_name(m, ia, MT_EV_ALGO_LEN))
		set_algo_tok(c, AR_JOB, m, ia);
	else if (is_hex_n(m, is, 64, 64))
		set_algo(c, AR_SEED, "randomx", 7, 1); /* a seed hash is RandomX's; the variant is not named */
	if (is_str(m, it)) {
		ev_tok(ev, ev->target, sizeof ev->target, m, it);
		if (target_difficulty(m->s + m->t[it].start, m->t[it].len, str_eq_ci(m, ia, "rx/yada"), &d) == 0) {
			st->cur_diff = d;
			if (!ev->has_difficulty || ev->difficulty != d) {
				ev->difficulty = d;
				ev->has_difficulty = 1;
				ev->version++;
			}
		}
	}
}

/* ---- reading a remembered line again ----------------------------------- */

static void replay(struct ctx *c, const struct span *sp, int as_probe)
{
	const mt_flow_view *fv = c->fv;
	mt_json_tok toks[MT_CN_MAX_TOKENS];
	struct msg m;
	char name[MT_CN_METHOD_LEN];
	int n, im, iid, ip, k;
	enum method meth;

	if (!sp->used || sp->dir > 1 || !fv->data[sp->dir] || sp->off > fv->len[sp->dir] ||
	    fv->len[sp->dir] - sp->off < sp->len)
		return; /* the bytes are gone: nothing to add */
	n = mt_json_parse(fv->data[sp->dir] + sp->off, sp->len, toks, MT_CN_MAX_TOKENS, MT_CN_MAX_DEPTH);
	if (n <= 0)
		return;
	m.s = fv->data[sp->dir] + sp->off;
	m.t = toks;
	m.n = n;
	m.at = *sp;
	im = get(&m, 0, "method");
	iid = get(&m, 0, "id");
	ip = get(&m, 0, "params");
	k = is_str(&m, im) ? mt_json_str(m.s, &m.t[im], name, sizeof name) : -1;
	if (k < 0 || !valid_id(&m, iid))
		return;
	meth = lookup_method(name);
	if (meth == M_LOGIN)
		login_evidence(c, &m, ip);
	else if (meth == M_SUBMIT)
		set_algo_tok(c, AR_SUBMIT, &m, get(&m, ip, "algo"));
	if (as_probe)
		raise_conf(c, CONF_PROBE, "cryptonote: %s request (id %.*s)", method_names[meth],
			   id_len(&m, iid), id_text(&m, iid));
}

/*
 * The first DETECTED answer: the flow is ours. Whatever another detector
 * left in the evidence goes; what we saw before is read again.
 */
static void flush(struct ctx *c)
{
	cn_state *st = c->st;
	mt_evidence *ev = c->ev;
	uint32_t v = ev->version;

	if (st->flushed)
		return;
	st->flushed = 1;
	memset(ev, 0, sizeof *ev);
	ev->version = v + 1;
	ev->event = MT_EVENT_MINING;
	ev_text(ev, ev->protocol, sizeof ev->protocol, "cryptonote-stratum");
	if (st->probe.used)
		replay(c, &st->probe, 1);
	if (st->login.used &&
	    !(st->probe.used && st->probe.dir == st->login.dir && st->probe.off == st->login.off))
		replay(c, &st->login, 0);
}

/* ---- the grammar ------------------------------------------------------ */

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
	cn_state *st = c->st;

	if (st->foreign < UINT8_MAX)
		st->foreign++;
	if (st->foreign >= MT_CN_MAX_FOREIGN && !st->grammar)
		not_mine(c);
}

static double pair_conf(const cn_state *st, double base)
{
	return st->answered && st->pushed ? CONF_BOTH : base;
}

/* Returns 1 if the request is of the grammar. */
static int on_request(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid, int ip)
{
	cn_state *st = c->st;

	if (c->fv->dir_certain && dir != 0)
		return 0; /* a client method from the server is not the grammar */
	if (!valid_id(m, iid) || !request_shape(m, meth, ip))
		return 0;
	st->grammar = 1;
	pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth, dir);
	if (meth == M_LOGIN) {
		if (!st->login.used)
			st->login = m->at;
		if (st->flushed)
			login_evidence(c, m, ip);
		if (login_strong(m, ip)) {
			if (!st->probe.used && !st->flushed)
				st->probe = m->at;
			raise_conf(c, CONF_PROBE, "cryptonote: login request (id %.*s)", id_len(m, iid),
				   id_text(m, iid));
		}
	} else if (meth == M_SUBMIT) {
		if (st->shares < UINT64_MAX)
			st->shares++;
		if (!st->first_us)
			st->first_us = c->ts_us;
		st->last_us = c->ts_us;
		if (st->cur_diff > 0) {
			st->diff_sum += st->cur_diff;
			st->n_diff++;
		}
		if (st->flushed)
			set_algo_tok(c, AR_SUBMIT, m, get(m, ip, "algo"));
		if (!st->probe.used && !st->flushed)
			st->probe = m->at;
		raise_conf(c, CONF_PROBE, "cryptonote: submit request (id %.*s)", id_len(m, iid),
			   id_text(m, iid));
	}
	return 1;
}

static int on_push(struct ctx *c, const struct msg *m, int dir, int ip)
{
	cn_state *st = c->st;
	enum job_shape sh;

	if (c->fv->dir_certain && dir != 1)
		return 0;
	sh = job_shape(m, ip);
	if (sh == JS_NONE)
		return 0;
	st->grammar = 1;
	st->pushed = 1;
	if (st->answered)
		raise_conf(c, CONF_BOTH, "cryptonote: job push after an answered request%s",
			   sh == JS_SELF_SELECT ? " (self-select)" : "");
	else
		raise_conf(c, CONF_JOB, "cryptonote: job push%s", sh == JS_SELF_SELECT ? " (self-select)" : "");
	job_evidence(c, m, ip);
	return 1;
}

/* 0: error null or absent; 1: a pool's error object {code, message}; 2: anything else. */
static int error_form(const struct msg *m, int ie)
{
	int ic, imsg;
	int64_t code;

	if (ie < 0 || type_at(m, ie) == MT_JSON_NULL)
		return 0;
	if (!is_obj(m, ie))
		return 2;
	ic = get(m, ie, "code");
	imsg = get(m, ie, "message");
	if (type_at(m, ic) != MT_JSON_NUMBER || !is_str(m, imsg) ||
	    mt_json_i64(m->s, &m->t[ic], &code) != 0)
		return 2;
	/* JSON-RPC 2.0 section 5.1 reserves -32768..-32000: any server's "method not found" */
	return code >= -32768 && code <= -32000 ? 2 : 1;
}

static void on_reply(struct ctx *c, const struct msg *m, int dir, int iid, int ir, int ie)
{
	cn_state *st = c->st;
	enum method meth;
	int ef, j;

	if (!valid_id(m, iid))
		return; /* id null: an unsolicited error, nothing to pair */
	ef = error_form(m, ie);
	meth = pend_take(st, mt_json_tok_hash(m->s, m->t + iid), dir);
	switch (meth) {
	case M_NONE:
		/* the answer to a login the capture missed: the session id and a job */
		if (ef == 0 && is_obj(m, ir) && is_name(m, get(m, ir, "id"), 256) &&
		    (!c->fv->dir_certain || dir == 1) && job_shape(m, (j = get(m, ir, "job"))) != JS_NONE) {
			st->grammar = 1;
			raise_conf(c, pair_conf(st, CONF_LONE_REPLY), "cryptonote: login answer with a job (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
			job_evidence(c, m, j);
		}
		return;
	case M_LOGIN:
		if (ef == 0 && is_obj(m, ir) && job_shape(m, (j = get(m, ir, "job"))) != JS_NONE) {
			st->grammar = 1;
			st->answered = 1;
			raise_conf(c, pair_conf(st, CONF_JOB), "cryptonote: login request answered with a job (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
			job_evidence(c, m, j);
		} else if (ef == 1 && st->probe.used) {
			raise_conf(c, CONF_REFUSED, "cryptonote: login request refused by the pool (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
		}
		return;
	case M_SUBMIT:
		if (ef == 0 && is_obj(m, ir) && str_eq_ci(m, get(m, ir, "status"), "OK")) {
			if (st->accepted < UINT64_MAX)
				st->accepted++;
			st->answered = 1;
			raise_conf(c, pair_conf(st, CONF_PAIR), "cryptonote: submit request answered (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
		} else if (ef == 1) {
			if (st->rejected < UINT64_MAX)
				st->rejected++;
			raise_conf(c, CONF_REFUSED, "cryptonote: submit request rejected by the pool (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
		} else if (ef == 0 && ir >= 0 && type_at(m, ir) != MT_JSON_NULL && type_at(m, ir) != MT_JSON_FALSE) {
			if (st->accepted < UINT64_MAX)
				st->accepted++; /* XMRig takes any answer without an error as accepted */
		} else if ((ef == 2 || type_at(m, ir) == MT_JSON_FALSE) && st->rejected < UINT64_MAX) {
			st->rejected++;
		}
		return;
	case M_GETJOB:
		if (ef != 0 || !is_obj(m, ir))
			return;
		j = job_shape(m, ir) != JS_NONE ? ir : get(m, ir, "job");
		if (job_shape(m, j) == JS_NONE)
			return;
		st->answered = 1;
		raise_conf(c, pair_conf(st, CONF_JOB), "cryptonote: getjob request answered with a job (id %.*s)",
			   id_len(m, iid), id_text(m, iid));
		job_evidence(c, m, j);
		return;
	case M_KEEPALIVED:
	case M_BLOCK_TEMPLATE:
		if (ef == 0 && is_obj(m, ir) &&
		    str_eq_ci(m, get(m, ir, "status"), meth == M_KEEPALIVED ? "KEEPALIVED" : "OK")) {
			st->answered = 1;
			raise_conf(c, pair_conf(st, CONF_PAIR), "cryptonote: %s request answered (id %.*s)",
				   method_names[meth], id_len(m, iid), id_text(m, iid));
		}
		return;
	default:
		return;
	}
}

/* Method namespaces of other JSON-RPC mining dialects: Stratum v1, EthProxy / Ethereum nodes. */
static int other_dialect(const char *name)
{
	return strncmp(name, "mining.", 7) == 0 || strncmp(name, "client.", 7) == 0 ||
	       strncmp(name, "eth_", 4) == 0 || strncmp(name, "web3_", 5) == 0 ||
	       strncmp(name, "net_", 4) == 0;
}

static void on_object(struct ctx *c, const struct msg *m, int dir, int first_msg)
{
	const mt_flow_view *fv = c->fv;
	int im = get(m, 0, "method");
	int iid = get(m, 0, "id");
	int ip = get(m, 0, "params");
	/* a miner's first words are a request of this grammar */
	int opening = first_msg && dir == 0 && fv->dir_certain && !fv->midstream[0];

	if (im >= 0) {
		char name[MT_CN_METHOD_LEN];
		int k = is_str(m, im) ? mt_json_str(m->s, &m->t[im], name, sizeof name) : -1;
		enum method meth = k >= 0 ? lookup_method(name) : M_NONE;
		int ok;

		if (meth == M_NONE) {
			if (opening || (k >= 0 && other_dialect(name)))
				not_mine(c);
			else
				foreign_msg(c);
			return;
		}
		ok = meth == M_JOB ? on_push(c, m, dir, ip) : on_request(c, m, dir, meth, iid, ip);
		if (!ok) {
			if (opening)
				not_mine(c);
			else
				foreign_msg(c);
		}
		return;
	}
	if (!opening && iid >= 0) {
		int ir = get(m, 0, "result");
		int ie = get(m, 0, "error");

		if (ir >= 0 || ie >= 0) {
			on_reply(c, m, dir, iid, ir, ie);
			return;
		}
	}
	if (opening)
		not_mine(c);
	else
		foreign_msg(c);
}

/* ---- lines ------------------------------------------------------------ */

/* ---- the line framing (detect/jsonl.c) --------------------------------- */

static void line_object(void *ctx, int dir, const uint8_t *p, uint32_t off, uint32_t n,
			const mt_json_tok *t, int nt, int first_msg)
{
	struct msg m = { p, t, nt, { off, n, (uint8_t)dir, 1 } };

	(void)off;
	(void)n;
	on_object(ctx, &m, dir, first_msg);
}

_Static_assert(MT_CN_MAX_TOKENS <= MT_JSONL_MAX_TOKENS, "a line's tokens live in jsonl.c's array");

static const mt_jsonl_ops line_ops = {
	.max_line = MT_CN_MAX_LINE,
	.max_tokens = MT_CN_MAX_TOKENS,
	.max_depth = MT_CN_MAX_DEPTH,
	.max_bad = MT_CN_MAX_BAD_LINES,
	.long_foreign = 0,
	.object = line_object,
	.foreign = foreign_msg,
	.not_mine = not_mine,
};

/*
 * The engine drops a flow's partial evidence when a detector answers
 * EXCLUDED, but that evidence may be another detector's held probe (written
 * before it answers DETECTED). This detector writes nothing before its own
 * DETECTED, so a version there is someone else's: stay silent (UNDECIDED,
 * at no cost: the state says excluded) until that detector has decided.
 */
static int exclude(const mt_evidence *ev)
{
	return ev->version != 0 ? MT_UNDECIDED : MT_EXCLUDED;
}

static int cn_on_packet(void *global, void *state, const mt_flow_view *fv, const mt_pkt_view *pv,
			mt_evidence *ev)
{
	cn_state *st = state;
	struct ctx c = { st, fv, ev, pv ? pv->ts_us : 0 };

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return exclude(ev);
	if (fv->l4proto != 6) {
		not_mine(&c);
		if (st->excluded)
			return exclude(ev);
	} else {
		/* requests before replies when both directions grew */
		mt_jsonl_process(&line_ops, &c, st->d, fv, &st->excluded);
	}
	if (st->detected) {
		/* A request alone is the weakest rule: hold it until the pool has said
		 * something (or nothing, by the end), so the first record tells the most. */
		if (!st->flushed && st->conf <= CONF_PROBE && !pv->flow_end && !fv->fin[0] &&
		    !fv->fin[1] && fv->bytes[1] == 0)
			return MT_UNDECIDED;
		flush(&c);
		sync_u64(ev, &ev->shares, st->shares);
		sync_u64(ev, &ev->shares_accepted, st->accepted);
		sync_u64(ev, &ev->shares_rejected, st->rejected);
		sync_u64(ev, &ev->jobs, st->jobs);
		ev->share_diff_sum = st->diff_sum; /* changes only with shares, which bump version */
		ev->shares_diff = st->n_diff;
		ev->work_start_us = st->work_us;
		ev->first_share_us = st->first_us;
		ev->last_share_us = st->last_us;
		ev->diff_is_hashes = 1; /* 2^64 / target: hashes per share */
		return MT_DETECTED;
	}
	if (st->excluded || (st->d[0].done && st->d[1].done))
		return exclude(ev);
	return MT_UNDECIDED;
}

/* API 3: the first-byte rule of scan_lines, before any state is made (prefilter.h). */
static int cryptonote_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	return mt_prefilter_jsonl(fv);
}

const mt_detector mt_detect_cryptonote = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "cryptonote",
	.description = "CryptoNote pool protocol: login / job / submit JSON-RPC lines (XMRig, xmr-stak; Monero and kin)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_CN_MAX_PACKETS,
	.state_size = sizeof(cn_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = cn_on_packet,
	.flow_free = NULL,
	.prefilter = cryptonote_prefilter,
};
