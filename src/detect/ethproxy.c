/* ethproxy.c - EthProxy detector: newline-delimited JSON-RPC eth_submitLogin / eth_getWork / eth_submitWork / eth_submitHashrate between an Ethash miner and its pool over raw TCP. */
/*
 * Wire format: one JSON object per line, LF terminated, as spoken by the
 * "eth-proxy" pool proxy and the pools that copied it (Claymore's and
 * ethminer's "stratum" mode 0). The methods are those of the Ethereum JSON-RPC
 * API for external miners (eth_getWork, eth_submitWork, eth_submitHashrate),
 * plus eth_submitLogin:
 *   - eth_submitLogin  params [wallet(/worker/email or .worker), password?], an
 *     optional top-level "worker" member; answered true or false;
 *   - eth_getWork      params []; answered with result [header hash, seed hash,
 *     boundary (target), block number?], each 0x-hex; the pool also pushes new
 *     work as {"id":0,"result":[...]} without a request;
 *   - eth_submitWork   params [nonce (8 bytes), header hash, mix digest]; true/false;
 *   - eth_submitHashrate params [hash rate (H/s, 0x-hex), miner id (32 bytes)].
 *
 * The decision follows the grammar: a line counts only when it is a JSON
 * object of the right shape for a known method. Rules (confidence):
 *   - eth_submitLogin answered with a boolean true [0.95] (refused [0.85]);
 *   - eth_getWork answered with a work array [0.9]; a work array pushed
 *     without a request [0.85];
 *   - eth_submitWork / eth_submitHashrate answered with a boolean [0.9];
 *   - a well-formed EthProxy request alone [0.6], held until the pool has
 *     sent something or the flow ends.
 * A client that opens with stratum (mining.*), CryptoNote (login, getjob) or
 * the node API of an Ethereum client (eth_blockNumber, net_version ...) is not
 * EthProxy.
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
#ifndef MT_ETHPROXY_MAX_PACKETS
#define MT_ETHPROXY_MAX_PACKETS 64  /* keep reading to grow share / hash-rate evidence */
#endif
#ifndef MT_ETHPROXY_MAX_LINE
#define MT_ETHPROXY_MAX_LINE 4096u  /* the longest EthProxy message is ~300 bytes */
#endif
#ifndef MT_ETHPROXY_MAX_TOKENS
#define MT_ETHPROXY_MAX_TOKENS 64   /* per line; more is not EthProxy-shaped */
#endif
#ifndef MT_ETHPROXY_MAX_DEPTH
#define MT_ETHPROXY_MAX_DEPTH 4     /* {"params":[...]} nests 2 */
#endif
#ifndef MT_ETHPROXY_MAX_BAD_LINES
#define MT_ETHPROXY_MAX_BAD_LINES 8 /* non-JSON lines tolerated per direction */
#endif
#ifndef MT_ETHPROXY_MAX_FOREIGN
#define MT_ETHPROXY_MAX_FOREIGN 4   /* JSON messages outside the grammar before giving up */
#endif
#ifndef MT_ETHPROXY_PENDING
#define MT_ETHPROXY_PENDING 16      /* outstanding request ids remembered */
#endif
#define MT_ETHPROXY_METHOD_LEN 40

#define CONF_ALONE 0.6
#define CONF_LOGIN_REFUSED 0.85
#define CONF_PUSH 0.85
#define CONF_ANSWERED 0.9
#define CONF_LOGIN 0.95

enum method {
	M_NONE = 0,
	M_LOGIN,
	M_GETWORK,
	M_SUBMITWORK,
	M_HASHRATE
};

static const char *const method_names[] = {
	[M_NONE] = "",
	[M_LOGIN] = "eth_submitLogin",
	[M_GETWORK] = "eth_getWork",
	[M_SUBMITWORK] = "eth_submitWork",
	[M_HASHRATE] = "eth_submitHashrate",
};

#define N_METHODS (sizeof method_names / sizeof method_names[0])

struct pend {
	uint64_t id;  /* hash of the id's type and raw text */
	uint32_t seq; /* age: lowest is oldest */
	uint8_t method;
	uint8_t used;
};

typedef struct ethproxy_state {
	mt_jsonl_dir d[2];
	struct pend pend[MT_ETHPROXY_PENDING];
	uint32_t seq;
	double conf;
	uint8_t detected;
	uint8_t excluded;
	uint8_t grammar;  /* any message of the EthProxy grammar */
	uint8_t foreign;  /* JSON messages outside the grammar */
	uint8_t worker_member; /* the worker came from the "worker" member: it wins */
	uint8_t reported; /* answered MT_DETECTED once */
} ethproxy_state;

struct ctx {
	ethproxy_state *st;
	const mt_flow_view *fv;
	mt_evidence *ev;
	uint64_t ts_us; /* packet time of this call (share and job times) */
};

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

/* A "0x"-prefixed string of [minlen, maxlen] hex digits (the Ethereum JSON-RPC DATA / QUANTITY encoding). */
static int is_0xhex(const struct msg *m, int i, uint32_t minlen, uint32_t maxlen)
{
	const uint8_t *p;
	uint32_t n;

	if (!is_str(m, i) || m->t[i].escaped)
		return 0;
	p = m->s + m->t[i].start;
	n = m->t[i].len;
	if (n < 2 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return 0;
	p += 2;
	n -= 2;
	if (n < minlen || n > maxlen)
		return 0;
	for (uint32_t k = 0; k < n; k++)
		if (mt_json_hexval(p[k]) < 0)
			return 0;
	return 1;
}

/* The value of a 0x-hex string as a double (checked by is_0xhex first). */
static double hex_double(const struct msg *m, int i)
{
	const uint8_t *p = m->s + m->t[i].start + 2;
	double v = 0;

	for (uint32_t k = 0; k + 2 < m->t[i].len; k++)
		v = v * 16.0 + mt_json_hexval(p[k]);
	return v;
}

/* Child indices of array a (at most max); the count, or -1 if a is not an array or is larger. */
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

	return ty == MT_JSON_NUMBER || ty == MT_JSON_STRING;
}

static enum method lookup_method(const char *name)
{
	for (size_t k = 1; k < N_METHODS; k++)
		if (strcmp(name, method_names[k]) == 0)
			return (enum method)k;
	return M_NONE;
}

/* ---- evidence --------------------------------------------------------- */

static void ev_text(mt_evidence *ev, char *field, size_t cap, const char *s)
{
	mt_ev_set(ev, field, cap, s, strlen(s));
}

__attribute__((format(printf, 3, 4)))
static void raise_conf(struct ctx *c, double conf, const char *fmt, ...)
{
	ethproxy_state *st = c->st;
	mt_evidence *ev = c->ev;

	if (!st->detected) {
		st->detected = 1;
		ev->event = MT_EVENT_MINING;
		ev->version++;
		ev_text(ev, ev->protocol, sizeof ev->protocol, "ethproxy");
		ev_text(ev, ev->algo, sizeof ev->algo, "ethash");
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

static void bump_u64(mt_evidence *ev, uint64_t *f)
{
	(*f)++;
	ev->version++;
}

static int is_address(const char *p, size_t n)
{
	if (n != 42 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return 0;
	for (size_t i = 2; i < n; i++)
		if (mt_json_hexval((uint8_t)p[i]) < 0)
			return 0;
	return 1;
}

/*
 * eth_submitLogin params[0]: "0xWALLET", "0xWALLET.worker" or
 * "0xWALLET/worker/email" (dwarfpool's form). The worker from the
 * "worker" member, when there is one, wins.
 */
static void set_login(struct ctx *c, const struct msg *m, int i)
{
	mt_evidence *ev = c->ev;
	char buf[512];
	int k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);
	size_t n, w, rest, wl;
	const char *sep;

	if (k <= 0)
		return;
	n = (size_t)k;
	sep = memchr(buf, '/', n);
	w = sep ? (size_t)(sep - buf) : n;
	if (!sep) {
		const char *dot = memchr(buf, '.', n);

		if (dot && is_address(buf, (size_t)(dot - buf)))
			w = (size_t)(dot - buf);
	}
	if (w > 0)
		mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, w);
	if (w >= n || c->st->worker_member)
		return;
	rest = w + 1;
	sep = memchr(buf + rest, '/', n - rest);
	wl = sep ? (size_t)(sep - (buf + rest)) : n - rest;
	if (wl > 0)
		mt_ev_set(ev, ev->worker, sizeof ev->worker, buf + rest, wl);
}

/* ---- the grammar ------------------------------------------------------ */

static void pend_add(ethproxy_state *st, uint64_t id, uint8_t method)
{
	struct pend *slot = &st->pend[0];

	for (size_t k = 0; k < MT_ETHPROXY_PENDING; k++) {
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
	slot->used = 1;
}

/* Takes the oldest request with this id (when by_id) and this method (when not M_NONE); returns its method. */
static enum method pend_take(ethproxy_state *st, int by_id, uint64_t id, enum method method)
{
	struct pend *hit = NULL;

	for (size_t k = 0; k < MT_ETHPROXY_PENDING; k++) {
		struct pend *p = &st->pend[k];

		if (!p->used || (by_id && p->id != id) || (method != M_NONE && p->method != method))
			continue;
		if (!hit || p->seq < hit->seq)
			hit = p;
	}
	if (!hit)
		return M_NONE;
	hit->used = 0;
	return (enum method)hit->method;
}

static int request_shape(const struct msg *m, enum method meth, int ip)
{
	int el[4];
	int n = children(m, ip, el, 4);

	switch (meth) {
	case M_LOGIN:
		/* [login] or [login, password]; some proxies add an email third */
		return n >= 1 && n <= 3 && is_str(m, el[0]) && m->t[el[0]].len > 0 &&
		       (n < 2 || is_str(m, el[1])) && (n < 3 || is_str(m, el[2]));
	case M_GETWORK:
		return ip < 0 || n == 0;
	case M_SUBMITWORK:
		return n == 3 && is_0xhex(m, el[0], 1, 16) && is_0xhex(m, el[1], 64, 64) &&
		       is_0xhex(m, el[2], 64, 64);
	case M_HASHRATE:
		return n == 2 && is_0xhex(m, el[0], 1, 64) && is_0xhex(m, el[1], 1, 64);
	default:
		return 0;
	}
}

/* result [header hash, seed hash, boundary] or with the block number fourth. */
static int work_shape(const struct msg *m, int ir, int *el)
{
	int n = children(m, ir, el, 4);

	return (n == 3 || n == 4) && is_0xhex(m, el[0], 64, 64) && is_0xhex(m, el[1], 64, 64) &&
	       is_0xhex(m, el[2], 1, 64) && (n == 3 || is_0xhex(m, el[3], 1, 16));
}

static void on_request(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid, int ip)
{
	ethproxy_state *st = c->st;
	mt_evidence *ev = c->ev;
	int el[4] = { -1, -1, -1, -1 };

	if (c->fv->dir_certain && dir != 0)
		return;
	if (!request_shape(m, meth, ip))
		return;
	st->grammar = 1;
	if (valid_id(m, iid))
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth);
	else if (meth == M_GETWORK)
		pend_add(st, 0, (uint8_t)meth); /* its answer is matched by shape */
	if (iid >= 0)
		raise_conf(c, CONF_ALONE, "ethproxy: %s request (id %.*s)", method_names[meth],
			   id_text_len(m, iid), id_text(m, iid));
	else
		raise_conf(c, CONF_ALONE, "ethproxy: %s request", method_names[meth]);
	children(m, ip, el, 4);
	switch (meth) {
	case M_LOGIN: {
		int iw = mt_json_get(m->s, m->t, m->n, 0, "worker");
		char w[MT_EV_WORKER_LEN];
		int k = is_str(m, iw) ? mt_json_str(m->s, &m->t[iw], w, sizeof w) : -1;

		if (k > 0) {
			st->worker_member = 1;
			mt_ev_set(ev, ev->worker, sizeof ev->worker, w, (size_t)k);
		}
		set_login(c, m, el[0]);
		break;
	}
	case M_SUBMITWORK:
		bump_u64(ev, &ev->shares);
		/* 2^256 / boundary of the work in force: hashes per share */
		mt_ev_share(ev, c->ts_us, ev->has_difficulty ? ev->difficulty : 0, 1);
		break;
	case M_HASHRATE: {
		double hs = hex_double(m, el[0]);

		if (hs > 0 && hs != ev->reported_hashrate_hs) {
			ev->reported_hashrate_hs = hs;
			ev->version++;
		}
		break;
	}
	default:
		break;
	}
}

static void on_work(struct ctx *c, const struct msg *m, const int *el)
{
	mt_evidence *ev = c->ev;
	double b = hex_double(m, el[2]);

	bump_u64(ev, &ev->jobs);
	mt_ev_work(ev, c->ts_us);
	mt_ev_set(ev, ev->target, sizeof ev->target, (const char *)m->s + m->t[el[2]].start,
		  m->t[el[2]].len);
	if (b > 0) {
		double d = 0x1p256 / b; /* Ethash: a share's difficulty is 2^256 / boundary */

		if (!ev->has_difficulty || ev->difficulty != d) {
			ev->difficulty = d;
			ev->has_difficulty = 1;
			ev->version++;
		}
	}
}

static void on_reply(struct ctx *c, const struct msg *m, int dir, int iid, int ir, int ie)
{
	ethproxy_state *st = c->st;
	mt_evidence *ev = c->ev;
	enum method meth;
	int el[4];
	int rt = type_at(m, ir);
	int err = ie >= 0 && type_at(m, ie) != MT_JSON_NULL;

	if (c->fv->dir_certain && dir != 1)
		return;
	if (!err && work_shape(m, ir, el)) {
		/* pools answer eth_getWork with any id (often 0) and push work the same way */
		meth = valid_id(m, iid) ? pend_take(st, 1, mt_json_tok_hash(m->s, m->t + iid), M_GETWORK) : M_NONE;
		if (meth == M_NONE)
			meth = pend_take(st, 0, 0, M_GETWORK);
		st->grammar = 1;
		if (meth == M_GETWORK)
			raise_conf(c, CONF_ANSWERED, "ethproxy: eth_getWork answered with work (id %.*s)",
				   id_text_len(m, iid), id_text(m, iid));
		else
			raise_conf(c, CONF_PUSH, "ethproxy: work pushed by the pool (id %.*s)",
				   id_text_len(m, iid), id_text(m, iid));
		on_work(c, m, el);
		return;
	}
	if (!valid_id(m, iid))
		return;
	meth = pend_take(st, 1, mt_json_tok_hash(m->s, m->t + iid), M_NONE);
	if (meth == M_NONE || meth == M_GETWORK)
		return;
	if (!(is_bool(m, ir) || (err && (ir < 0 || rt == MT_JSON_NULL))))
		return;
	st->grammar = 1;
	if (meth == M_SUBMITWORK && st->detected) {
		if (rt == MT_JSON_TRUE)
			bump_u64(ev, &ev->shares_accepted);
		else
			bump_u64(ev, &ev->shares_rejected);
	}
	if (meth == M_LOGIN) {
		if (rt == MT_JSON_TRUE)
			raise_conf(c, CONF_LOGIN, "ethproxy: eth_submitLogin accepted (id %.*s)",
				   id_text_len(m, iid), id_text(m, iid));
		else
			raise_conf(c, CONF_LOGIN_REFUSED, "ethproxy: eth_submitLogin refused (id %.*s)",
				   id_text_len(m, iid), id_text(m, iid));
		return;
	}
	raise_conf(c, CONF_ANSWERED, "ethproxy: %s answered (id %.*s)", method_names[meth],
		   id_text_len(m, iid), id_text(m, iid));
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
	ethproxy_state *st = c->st;

	if (st->foreign < UINT8_MAX)
		st->foreign++;
	if (st->foreign >= MT_ETHPROXY_MAX_FOREIGN && !st->grammar)
		not_mine(c);
}

static void on_object(struct ctx *c, const struct msg *m, int dir, int first_msg)
{
	int im = mt_json_get(m->s, m->t, m->n, 0, "method");
	int iid = mt_json_get(m->s, m->t, m->n, 0, "id");

	if (im >= 0) {
		char name[MT_ETHPROXY_METHOD_LEN];
		int k = is_str(m, im) ? mt_json_str(m->s, &m->t[im], name, sizeof name) : -1;
		enum method meth = k >= 0 ? lookup_method(name) : M_NONE;

		if (meth != M_NONE) {
			on_request(c, m, dir, meth, iid, mt_json_get(m->s, m->t, m->n, 0, "params"));
			return;
		}
		/*
		 * A miner's first words are an EthProxy request; a client that
		 * opens with mining.*, login or eth_blockNumber speaks stratum,
		 * CryptoNote or the node API.
		 */
		if (first_msg && dir == 0 && c->fv->dir_certain && !c->fv->midstream[0])
			not_mine(c);
		else
			foreign_msg(c);
		return;
	}
	if (iid >= 0) {
		int ir = mt_json_get(m->s, m->t, m->n, 0, "result");
		int ie = mt_json_get(m->s, m->t, m->n, 0, "error");

		if (ir >= 0 || ie >= 0) {
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

_Static_assert(MT_ETHPROXY_MAX_TOKENS <= MT_JSONL_MAX_TOKENS, "a line's tokens live in jsonl.c's array");

static const mt_jsonl_ops line_ops = {
	.max_line = MT_ETHPROXY_MAX_LINE,
	.max_tokens = MT_ETHPROXY_MAX_TOKENS,
	.max_depth = MT_ETHPROXY_MAX_DEPTH,
	.max_bad = MT_ETHPROXY_MAX_BAD_LINES,
	.long_foreign = 1,
	.object = line_object,
	.foreign = foreign_msg,
	.not_mine = not_mine,
};

static int answer(struct ctx *c, const mt_pkt_view *pv)
{
	ethproxy_state *st = c->st;
	const mt_flow_view *fv = c->fv;

	if (st->detected) {
		/* a request alone waits for the pool's first byte (or the end) */
		if (!st->reported && st->conf <= CONF_ALONE && !pv->flow_end && !fv->fin[0] &&
		    !fv->fin[1] && fv->bytes[1] == 0)
			return MT_UNDECIDED;
		st->reported = 1;
		return MT_DETECTED;
	}
	if (st->excluded || (st->d[0].done && st->d[1].done))
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

static int ethproxy_on_packet(void *global, void *state, const mt_flow_view *fv,
			      const mt_pkt_view *pv, mt_evidence *ev)
{
	ethproxy_state *st = state;
	struct ctx c = { st, fv, ev, pv ? pv->ts_us : 0 };
	int ans, had, fresh;

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return MT_EXCLUDED;
	if (fv->l4proto != 6) {
		not_mine(&c);
		return st->detected ? MT_DETECTED : MT_EXCLUDED;
	}
	had = st->detected && !st->reported;
	fresh = ev->version == 0;
	mt_jsonl_process(&line_ops, &c, st->d, fv, &st->excluded);
	ans = answer(&c, pv);
	if (ans == MT_DETECTED && had && fresh) {
		/*
		 * What we wrote while waiting was not kept (the flow's evidence
		 * was another waiting detector's): read the streams again from
		 * their start, so that this answer carries all of it.
		 */
		memset(st, 0, sizeof *st);
		memset(ev, 0, sizeof *ev);
		mt_jsonl_process(&line_ops, &c, st->d, fv, &st->excluded);
		ans = answer(&c, pv);
	}
	return ans;
}

/* API 3: the first-byte rule of scan_lines, before any state is made (prefilter.h). */
static int ethproxy_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	return mt_prefilter_jsonl(fv);
}

const mt_detector mt_detect_ethproxy = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "ethproxy",
	.description = "EthProxy JSON-RPC lines over TCP (eth_submitLogin, eth_getWork, eth_submitWork, eth_submitHashrate)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_ETHPROXY_MAX_PACKETS,
	.state_size = sizeof(ethproxy_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = ethproxy_on_packet,
	.flow_free = NULL,
	.prefilter = ethproxy_prefilter,
};
