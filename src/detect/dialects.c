/* dialects.c - pool protocols of coins outside the stratum and CryptoNote families: the JSON-lines grammars of Grin, Beam and Iron Fish pools. */
/*
 * One JSON object per line, LF terminated (detect/jsonl.c), in three grammars
 * that share no method set with Stratum v1 or the CryptoNote login protocol:
 *
 * grin-stratum (mimblewimble/grin servers/src/mining/stratumserver.rs): JSON-RPC 2.0,
 *   requests {"id","jsonrpc":"2.0","method","params"}, and the answers echo the
 *   method: {"id","jsonrpc","method","result","error"}; errors {code, message}.
 *     login          params {login, pass, agent}                 -> "ok"
 *     getjobtemplate params null                                 -> JOB
 *     keepalive, status                                          -> "ok", worker status
 *     submit         params {height, job_id, nonce, edge_bits, pow: [42 numbers]}
 *                                                                -> "ok" | "blockfound - H" | error
 *   and the pool pushes {"id":"Stratum","method":"job","params":JOB},
 *   JOB = {height, job_id, difficulty, pre_pow: hex}.
 *
 * beam-stratum (BeamMW/beam pow/stratum.h): flat members, no params.
 *     {"method":"login","api_key":K,"id":"login","jsonrpc":"2.0"}
 *     {"method":"job","id":J,"input":hex64,"difficulty":N,"height":N}
 *     {"method":"solution","id":J,"nonce":hex16,"output":hex}
 *     {"method":"result","id":..,"code":C,"description":D}: C 0 no error (login:
 *       also nonceprefix, forkheight), 1 accepted, 2 rejected, 3 expired, -32000..-32003 errors;
 *     {"method":"cancel","id":J}.
 *
 * ironfish-stratum (iron-fish/ironfish src/mining/stratum/messages.ts, stratumServer.ts):
 *   {"id":N,"method":M,"body":B}, a "body" object where others have params:
 *     client mining.subscribe {version, publicAddress, name?, agent?}, mining.submit
 *       {miningRequestId, randomness: hex, graffiti?}, mining.get_status;
 *     pool mining.subscribed {clientId, graffiti, xn?}, mining.set_target {target: hex64},
 *       mining.notify {miningRequestId, header: hex}, mining.wait_for_work,
 *       mining.submitted {id: the submit's id, result: bool, message?}, mining.disconnect, mining.status.
 *
 * Rules (confidence): a job of the dialect's shape pushed or answered [0.95; 0.98 with an
 * answered request]; a share answered in form, Iron Fish's subscribe answered by
 * mining.subscribed, a Beam login answered with a result, a target push [0.9]; a share or
 * subscribe request alone [0.6], held until the pool has said something or the flow ended.
 * A login alone never decides: a plain JSON-RPC API may have a "login" method.
 * Evidence is written only in calls that answer MT_DETECTED (the engine keeps a detector's
 * writes only from then on, unless it already owns the evidence): the login is remembered
 * by its place in the stream and read again then, counters are kept here.
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
#ifndef MT_DIALECT_MAX_PACKETS
#define MT_DIALECT_MAX_PACKETS 128  /* keep reading to count shares and jobs */
#endif
#ifndef MT_DIALECT_MAX_LINE
#define MT_DIALECT_MAX_LINE 8192u   /* an Iron Fish notify (180-byte header) is ~450 bytes */
#endif
#ifndef MT_DIALECT_MAX_TOKENS
#define MT_DIALECT_MAX_TOKENS 128   /* a Grin submit: 42 proof nonces and some 15 more */
#endif
#ifndef MT_DIALECT_MAX_DEPTH
#define MT_DIALECT_MAX_DEPTH 6      /* deepest message (Grin submit's pow) nests 3 */
#endif
#ifndef MT_DIALECT_MAX_BAD_LINES
#define MT_DIALECT_MAX_BAD_LINES 8  /* non-JSON lines tolerated per direction */
#endif
#ifndef MT_DIALECT_MAX_FOREIGN
#define MT_DIALECT_MAX_FOREIGN 4    /* JSON messages outside the grammars before giving up */
#endif
#ifndef MT_DIALECT_PENDING
#define MT_DIALECT_PENDING 16       /* outstanding request ids remembered */
#endif
#define MT_DIALECT_METHOD_LEN 32
#define MT_DIALECT_ID_TEXT 32       /* request id characters quoted in the evidence */
#define GRIN_PROOF_SIZE 42          /* Cuckoo cycle length (grin core/src/global.rs PROOFSIZE) */

#define CONF_PROBE 0.6
#define CONF_REFUSED 0.85
#define CONF_PAIR 0.9
#define CONF_JOB 0.95
#define CONF_BOTH 0.98

enum dialect { D_NONE = 0, D_GRIN, D_BEAM, D_IRONFISH };

static const char *const dialect_names[] = {
	[D_NONE] = "", [D_GRIN] = "grin-stratum", [D_BEAM] = "beam-stratum", [D_IRONFISH] = "ironfish-stratum",
};

enum method {
	M_NONE = 0,
	/* grin (client) */
	G_LOGIN, G_GETJOB, G_KEEPALIVE, G_STATUS, G_SUBMIT,
	/* grin (pool) */
	G_JOB,
	/* beam */
	B_LOGIN, B_SOLUTION, B_JOB, B_RESULT, B_CANCEL,
	/* iron fish (client) */
	I_SUBSCRIBE, I_SUBMIT, I_GET_STATUS,
	/* iron fish (pool) */
	I_SUBSCRIBED, I_SET_TARGET, I_NOTIFY, I_WAIT, I_SUBMITTED, I_DISCONNECT, I_STATUS,
};

/* Method names as sent; Grin and Beam share "login" and "job" (told apart by their members). */
static const struct { const char *name; uint8_t grin, beam, iron; } method_table[] = {
	{ "login", G_LOGIN, B_LOGIN, 0 },
	{ "getjobtemplate", G_GETJOB, 0, 0 },
	{ "keepalive", G_KEEPALIVE, 0, 0 },
	{ "status", G_STATUS, 0, 0 },
	{ "submit", G_SUBMIT, 0, 0 },
	{ "job", G_JOB, B_JOB, 0 },
	{ "solution", 0, B_SOLUTION, 0 },
	{ "result", 0, B_RESULT, 0 },
	{ "cancel", 0, B_CANCEL, 0 },
	{ "mining.subscribe", 0, 0, I_SUBSCRIBE },
	{ "mining.submit", 0, 0, I_SUBMIT },
	{ "mining.get_status", 0, 0, I_GET_STATUS },
	{ "mining.subscribed", 0, 0, I_SUBSCRIBED },
	{ "mining.set_target", 0, 0, I_SET_TARGET },
	{ "mining.notify", 0, 0, I_NOTIFY },
	{ "mining.wait_for_work", 0, 0, I_WAIT },
	{ "mining.submitted", 0, 0, I_SUBMITTED },
	{ "mining.disconnect", 0, 0, I_DISCONNECT },
	{ "mining.status", 0, 0, I_STATUS },
};

struct pend {
	uint64_t id;  /* hash of the id's type and raw text */
	uint32_t seq; /* age: lowest is oldest */
	uint8_t method;
	uint8_t used;
};

/* A line's place in its direction's stream, to read it again. */
struct span {
	uint32_t off;
	uint32_t len;
	uint8_t dir;
	uint8_t used;
};

typedef struct dialect_state {
	mt_jsonl_dir d[2];
	struct pend pend[MT_DIALECT_PENDING];
	uint64_t shares, accepted, rejected, jobs;
	uint64_t work_us, first_us, last_us, n_diff;
	double cur_hashes;  /* hashes per share of the latest target (Iron Fish), 0: none */
	double diff_sum;    /* sum of cur_hashes at each share */
	struct span login;  /* login (Grin, Beam) or subscribe (Iron Fish): wallet, worker, agent */
	struct span target; /* latest Iron Fish target push */
	uint32_t seq;
	double conf;
	char text[MT_EV_TEXT_LEN]; /* evidence text of the strongest rule so far */
	uint8_t dialect;
	uint8_t detected, flushed, excluded;
	uint8_t answered;  /* a request paired with its answer */
	uint8_t pushed;    /* a job push */
	uint8_t grammar;   /* any message of a grammar */
	uint8_t foreign;
	uint8_t edge_bits; /* Grin's graph size from the latest submit */
	uint8_t target_new; /* a target push not yet written to the evidence */
} dialect_state;

struct ctx {
	dialect_state *st;
	const mt_flow_view *fv;
	mt_evidence *ev;
	uint64_t ts_us;
};

struct msg {
	const uint8_t *s;
	const mt_json_tok *t;
	int n;
	struct span at;
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

static int is_obj(const struct msg *m, int i)
{
	return type_at(m, i) == MT_JSON_OBJECT;
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

/* A JSON number that is a non-negative integer of at most 20 digits. */
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

/* A non-empty string of at most maxlen raw bytes. */
static int is_name(const struct msg *m, int i, uint32_t maxlen)
{
	return is_str(m, i) && m->t[i].len > 0 && m->t[i].len <= maxlen;
}

/* Absent, or null. */
static int absent(const struct msg *m, int i)
{
	return i < 0 || type_at(m, i) == MT_JSON_NULL;
}

static int str_is(const struct msg *m, int i, const char *lit)
{
	return is_str(m, i) && mt_json_str_eq(m->s, &m->t[i], lit);
}

static int valid_id(const struct msg *m, int i)
{
	int ty = type_at(m, i);

	return ty == MT_JSON_NUMBER || ty == MT_JSON_STRING;
}

static int id_len(const struct msg *m, int i)
{
	return m->t[i].len > MT_DIALECT_ID_TEXT ? MT_DIALECT_ID_TEXT : (int)m->t[i].len;
}

static const char *id_text(const struct msg *m, int i)
{
	return (const char *)m->s + m->t[i].start;
}

/* ---- pending requests ------------------------------------------------- */

static void pend_add(dialect_state *st, uint64_t id, uint8_t method)
{
	struct pend *slot = &st->pend[0];

	for (size_t k = 0; k < MT_DIALECT_PENDING; k++) {
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

/* Takes the oldest request with this id; returns its method or M_NONE. */
static enum method pend_take(dialect_state *st, uint64_t id)
{
	struct pend *hit = NULL;

	for (size_t k = 0; k < MT_DIALECT_PENDING; k++) {
		struct pend *p = &st->pend[k];

		if (p->used && p->id == id && (!hit || p->seq < hit->seq))
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

/* The dialect is fixed by the first message that only one grammar has. */
static int take_dialect(dialect_state *st, enum dialect d)
{
	if (st->dialect == D_NONE)
		st->dialect = (uint8_t)d;
	return st->dialect == d;
}

/* A rule fired: remembered here; written to the evidence when the flow is answered DETECTED. */
__attribute__((format(printf, 3, 4)))
static void raise_conf(struct ctx *c, double conf, const char *fmt, ...)
{
	dialect_state *st = c->st;
	va_list ap;

	st->detected = 1;
	if (!(conf > st->conf))
		return;
	st->conf = conf;
	va_start(ap, fmt);
	vsnprintf(st->text, sizeof st->text, fmt, ap);
	va_end(ap);
}

/* "LOGIN.WORKER" (pool convention for Grin and Iron Fish pools), else the login as the wallet. */
static void set_login(mt_evidence *ev, const struct msg *m, int i)
{
	char buf[512];
	int k = mt_json_str(m->s, &m->t[i], buf, sizeof buf);
	const char *dot;

	if (k <= 0)
		return;
	dot = memchr(buf, '.', (size_t)k);
	if (dot && dot > buf && dot + 1 < buf + k) {
		mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, (size_t)(dot - buf));
		mt_ev_set(ev, ev->worker, sizeof ev->worker, dot + 1, (size_t)(buf + k - dot - 1));
	} else {
		mt_ev_set(ev, ev->wallet, sizeof ev->wallet, buf, (size_t)k);
	}
}

/* What a remembered login / subscribe says (its line, read again). */
static void login_evidence(struct ctx *c, const struct msg *m)
{
	mt_evidence *ev = c->ev;
	int ip = get(m, 0, "params"), ib = get(m, 0, "body");

	switch (c->st->dialect) {
	case D_GRIN:
		if (is_name(m, get(m, ip, "login"), 512))
			set_login(ev, m, get(m, ip, "login"));
		if (is_name(m, get(m, ip, "agent"), 512))
			ev_tok(ev, ev->agent, sizeof ev->agent, m, get(m, ip, "agent"));
		break;
	case D_IRONFISH:
		if (is_name(m, get(m, ib, "publicAddress"), 512))
			ev_tok(ev, ev->wallet, sizeof ev->wallet, m, get(m, ib, "publicAddress"));
		if (is_name(m, get(m, ib, "name"), 512))
			ev_tok(ev, ev->worker, sizeof ev->worker, m, get(m, ib, "name"));
		if (is_name(m, get(m, ib, "agent"), 512))
			ev_tok(ev, ev->agent, sizeof ev->agent, m, get(m, ib, "agent"));
		break;
	case D_BEAM: {
		/* pools take "WALLET[.WORKER]" as the api_key (a Beam address: 60 hex digits or more); a node's
		 * own stratum takes a secret key, which is not repeated */
		int ik = get(m, 0, "api_key");
		char buf[512];
		int k = is_str(m, ik) ? mt_json_str(m->s, &m->t[ik], buf, sizeof buf) : -1;
		int h = 0;

		while (h < k && mt_json_hexval((uint8_t)buf[h]) >= 0)
			h++;
		if (h >= 60 && (h == k || buf[h] == '.'))
			set_login(ev, m, ik);
		break;
	}
	default:
		break;
	}
}

static void replay(struct ctx *c, const struct span *sp, void (*fn)(struct ctx *, const struct msg *))
{
	const mt_flow_view *fv = c->fv;
	mt_json_tok toks[MT_DIALECT_MAX_TOKENS];
	struct msg m;
	int n;

	if (!sp->used || sp->dir > 1 || !fv->data[sp->dir] || sp->off > fv->len[sp->dir] ||
	    fv->len[sp->dir] - sp->off < sp->len)
		return; /* the bytes are gone: nothing to add */
	n = mt_json_parse(fv->data[sp->dir] + sp->off, sp->len, toks, MT_DIALECT_MAX_TOKENS, MT_DIALECT_MAX_DEPTH);
	if (n <= 0 || toks[0].type != MT_JSON_OBJECT)
		return;
	m.s = fv->data[sp->dir] + sp->off;
	m.t = toks;
	m.n = n;
	m.at = *sp;
	fn(c, &m);
}

static void target_evidence(struct ctx *c, const struct msg *m)
{
	int it = get(m, get(m, 0, "body"), "target");

	if (is_str(m, it))
		ev_tok(c->ev, c->ev->target, sizeof c->ev->target, m, it);
}

/* The algorithm of a Grin share: C29 is the Cuckaroo family, 31 and up Cuckatoo (grin core/src/pow). */
static void grin_algo(struct ctx *c)
{
	char a[MT_EV_ALGO_LEN];
	int k;

	if (c->st->edge_bits == 0)
		return;
	if (c->st->edge_bits == 29)
		k = snprintf(a, sizeof a, "cuckaroo29");
	else
		k = snprintf(a, sizeof a, "cuckatoo%u", (unsigned)c->st->edge_bits);
	if (k > 0)
		mt_ev_set(c->ev, c->ev->algo, sizeof c->ev->algo, a, (size_t)k);
}

/* The first DETECTED answer: the flow is ours; write what was seen. Later calls keep it current. */
static void flush(struct ctx *c)
{
	dialect_state *st = c->st;
	mt_evidence *ev = c->ev;

	if (!st->flushed) {
		uint32_t v = ev->version;

		st->flushed = 1;
		memset(ev, 0, sizeof *ev);
		ev->version = v + 1;
		ev->event = MT_EVENT_MINING;
		ev_text(ev, ev->protocol, sizeof ev->protocol, dialect_names[st->dialect]);
		if (st->dialect == D_BEAM) {
			ev_text(ev, ev->coin, sizeof ev->coin, "BEAM");
			ev_text(ev, ev->algo, sizeof ev->algo, "beamhash");
		} else if (st->dialect == D_IRONFISH) {
			ev_text(ev, ev->coin, sizeof ev->coin, "IRON");
		}
		replay(c, &st->login, login_evidence);
	}
	if (st->dialect == D_IRONFISH && st->target_new) {
		st->target_new = 0;
		replay(c, &st->target, target_evidence);
	}
	if (st->dialect == D_GRIN)
		grin_algo(c);
	if (st->conf > ev->confidence) {
		ev->confidence = st->conf;
		ev->version++;
		ev_text(ev, ev->evidence, sizeof ev->evidence, st->text);
	}
}

static void sync_u64(mt_evidence *ev, uint64_t *field, uint64_t v)
{
	if (*field != v) {
		*field = v;
		ev->version++;
	}
}

/* ---- the grammars ----------------------------------------------------- */

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
	dialect_state *st = c->st;

	if (st->foreign < UINT8_MAX)
		st->foreign++;
	if (st->foreign >= MT_DIALECT_MAX_FOREIGN && !st->grammar)
		not_mine(c);
}

static double pair_conf(const dialect_state *st, double base)
{
	return st->answered && st->pushed ? CONF_BOTH : base;
}

static void note_share(struct ctx *c)
{
	dialect_state *st = c->st;

	if (st->shares < UINT64_MAX)
		st->shares++;
	if (!st->first_us)
		st->first_us = c->ts_us;
	st->last_us = c->ts_us;
	if (st->cur_hashes > 0) {
		st->diff_sum += st->cur_hashes;
		st->n_diff++;
	}
}

static void note_job(struct ctx *c)
{
	dialect_state *st = c->st;

	if (st->jobs < UINT64_MAX)
		st->jobs++;
	if (!st->work_us)
		st->work_us = c->ts_us;
	st->pushed = 1;
}

/* Grin JOB = {height, job_id, difficulty, pre_pow: hex} (JobTemplate). */
static int grin_job(const struct msg *m, int j)
{
	int ip = get(m, j, "pre_pow");

	return is_obj(m, j) && is_uint(m, get(m, j, "height")) && is_uint(m, get(m, j, "job_id")) &&
	       is_uint(m, get(m, j, "difficulty")) && is_hex_n(m, ip, 2, 4096) && m->t[ip].len % 2 == 0;
}

/* Grin SubmitParams {height, job_id, nonce, edge_bits, pow: [42 numbers]}. */
static int grin_submit(const struct msg *m, int p)
{
	int ipow = get(m, p, "pow");
	int j;

	if (!is_obj(m, p) || !is_uint(m, get(m, p, "height")) || !is_uint(m, get(m, p, "job_id")) ||
	    !is_uint(m, get(m, p, "nonce")) || !is_uint(m, get(m, p, "edge_bits")) ||
	    type_at(m, ipow) != MT_JSON_ARRAY || m->t[ipow].size != GRIN_PROOF_SIZE)
		return 0;
	j = ipow + 1;
	for (int k = 0; k < GRIN_PROOF_SIZE; k++) {
		if (!is_uint(m, j))
			return 0;
		j = (int)m->t[j].next;
	}
	return 1;
}

/* LoginParams {login, pass, agent}: all three strings (serde requires them). */
static int grin_login(const struct msg *m, int p)
{
	return is_obj(m, p) && is_name(m, get(m, p, "login"), 512) && is_str(m, get(m, p, "pass")) &&
	       is_str(m, get(m, p, "agent"));
}

/* {code, message}, the JSON-RPC error object Grin sends. */
static int rpc_error(const struct msg *m, int ie)
{
	return is_obj(m, ie) && type_at(m, get(m, ie, "code")) == MT_JSON_NUMBER &&
	       is_str(m, get(m, ie, "message"));
}

static int grin_message(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid)
{
	dialect_state *st = c->st;
	int ip = get(m, 0, "params"), ir = get(m, 0, "result"), ie = get(m, 0, "error");
	int reply = ir >= 0 || ie >= 0;

	if (!str_is(m, get(m, 0, "jsonrpc"), "2.0") || !valid_id(m, iid))
		return 0;
	if (reply) {
		/* an answer echoes its request's method: pair it by id */
		enum method req;
		int ok = !absent(m, ir) && absent(m, ie), err = absent(m, ir) && rpc_error(m, ie);

		if (c->fv->dir_certain && dir != 1)
			return 0;
		if (!ok && !err)
			return 0;
		req = pend_take(st, mt_json_tok_hash(m->s, m->t + iid));
		if (req != meth)
			return 0; /* not the answer to a request we saw */
		st->grammar = 1;
		switch (meth) {
		case G_GETJOB:
			if (!ok || !grin_job(m, ir) || !take_dialect(st, D_GRIN))
				return err;
			st->answered = 1;
			note_job(c);
			raise_conf(c, pair_conf(st, CONF_JOB), "grin-stratum: getjobtemplate request answered with a job (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
			return 1;
		case G_SUBMIT:
			if (ok && is_str(m, ir)) {
				if (st->accepted < UINT64_MAX)
					st->accepted++;
				st->answered = 1;
				raise_conf(c, pair_conf(st, CONF_PAIR), "grin-stratum: submit request answered (id %.*s)",
					   id_len(m, iid), id_text(m, iid));
			} else if (err) {
				if (st->rejected < UINT64_MAX)
					st->rejected++;
				raise_conf(c, CONF_REFUSED, "grin-stratum: submit request rejected by the pool (id %.*s)",
					   id_len(m, iid), id_text(m, iid));
			}
			return 1;
		case G_LOGIN:
		case G_KEEPALIVE:
		case G_STATUS:
			if (ok)
				st->answered = 1; /* the grammar, not decisive alone */
			return 1;
		default:
			return 0;
		}
	}
	switch (meth) {
	case G_JOB:
		if (c->fv->dir_certain && dir != 1)
			return 0;
		if (!grin_job(m, ip) || !take_dialect(st, D_GRIN))
			return 0;
		st->grammar = 1;
		note_job(c);
		if (st->answered)
			raise_conf(c, CONF_BOTH, "grin-stratum: job push after an answered request");
		else
			raise_conf(c, CONF_JOB, "grin-stratum: job push");
		return 1;
	case G_LOGIN:
	case G_GETJOB:
	case G_KEEPALIVE:
	case G_STATUS:
	case G_SUBMIT:
		if (c->fv->dir_certain && dir != 0)
			return 0;
		if (meth == G_LOGIN ? !grin_login(m, ip) : meth == G_SUBMIT ? !grin_submit(m, ip) : !absent(m, ip))
			return 0;
		st->grammar = 1;
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth);
		if (meth == G_LOGIN && !st->login.used)
			st->login = m->at;
		if (meth == G_SUBMIT && take_dialect(st, D_GRIN)) {
			uint64_t eb = 0;

			if (mt_json_u64(m->s, &m->t[get(m, ip, "edge_bits")], &eb) == 0 && eb >= 10 && eb <= 64)
				st->edge_bits = (uint8_t)eb;
			note_share(c);
			raise_conf(c, CONF_PROBE, "grin-stratum: submit request (id %.*s)", id_len(m, iid), id_text(m, iid));
		}
		return 1;
	default:
		return 0;
	}
}

/* Beam: {"method":"job","id","input":hex64,"difficulty":N,"height":N} (height optional in early pools). */
static int beam_job(const struct msg *m)
{
	int ih = get(m, 0, "height");

	return is_name(m, get(m, 0, "id"), 64) && is_hex_n(m, get(m, 0, "input"), 64, 64) &&
	       is_uint(m, get(m, 0, "difficulty")) && (ih < 0 || is_uint(m, ih));
}

static int beam_message(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid)
{
	dialect_state *st = c->st;
	int ic = get(m, 0, "code");
	int64_t code = 0;
	enum method req;

	if (get(m, 0, "params") >= 0 || !valid_id(m, iid))
		return 0; /* flat members, never params */
	switch (meth) {
	case B_LOGIN:
		if ((c->fv->dir_certain && dir != 0) || !is_name(m, get(m, 0, "api_key"), 256))
			return 0;
		st->grammar = 1;
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth);
		if (!st->login.used)
			st->login = m->at;
		return 1;
	case B_SOLUTION:
		if ((c->fv->dir_certain && dir != 0) || !is_name(m, iid, 64) ||
		    !is_hex_n(m, get(m, 0, "nonce"), 16, 16) || !is_hex_n(m, get(m, 0, "output"), 2, 1024) ||
		    !take_dialect(st, D_BEAM))
			return 0;
		st->grammar = 1;
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth);
		note_share(c);
		raise_conf(c, CONF_PROBE, "beam-stratum: solution request (id %.*s)", id_len(m, iid), id_text(m, iid));
		return 1;
	case B_JOB:
		if ((c->fv->dir_certain && dir != 1) || !beam_job(m) || !take_dialect(st, D_BEAM))
			return 0;
		st->grammar = 1;
		note_job(c);
		if (st->answered)
			raise_conf(c, CONF_BOTH, "beam-stratum: job push after an answered request");
		else
			raise_conf(c, CONF_JOB, "beam-stratum: job push");
		return 1;
	case B_CANCEL:
		if ((c->fv->dir_certain && dir != 1) || !is_name(m, iid, 64))
			return 0;
		st->grammar = 1;
		return 1;
	case B_RESULT:
		/* {"method":"result","id","code","description"}: 0 no error, 1 accepted, 2 rejected, 3 expired */
		if ((c->fv->dir_certain && dir != 1) || type_at(m, ic) != MT_JSON_NUMBER ||
		    mt_json_i64(m->s, &m->t[ic], &code) != 0 || !is_str(m, get(m, 0, "description")))
			return 0;
		req = pend_take(st, mt_json_tok_hash(m->s, m->t + iid));
		if (req == B_LOGIN && take_dialect(st, D_BEAM)) {
			st->grammar = 1;
			if (code == 0) {
				st->answered = 1;
				raise_conf(c, pair_conf(st, CONF_PAIR), "beam-stratum: login request answered (id %.*s)",
					   id_len(m, iid), id_text(m, iid));
			} else if (code < 0) {
				raise_conf(c, CONF_REFUSED, "beam-stratum: login request refused by the pool (id %.*s)",
					   id_len(m, iid), id_text(m, iid));
			}
			return 1;
		}
		if (req == B_SOLUTION) {
			st->grammar = 1;
			if (code == 1) {
				if (st->accepted < UINT64_MAX)
					st->accepted++;
				st->answered = 1;
				raise_conf(c, pair_conf(st, CONF_PAIR), "beam-stratum: solution request answered (id %.*s)",
					   id_len(m, iid), id_text(m, iid));
			} else if (code != 0) {
				if (st->rejected < UINT64_MAX)
					st->rejected++;
				raise_conf(c, CONF_REFUSED, "beam-stratum: solution request rejected by the pool (id %.*s)",
					   id_len(m, iid), id_text(m, iid));
			}
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* Iron Fish: every message {"id":N,"method":M,"body"?:B}. */
static int iron_message(struct ctx *c, const struct msg *m, int dir, enum method meth, int iid)
{
	dialect_state *st = c->st;
	int ib = get(m, 0, "body");
	int from_client = meth == I_SUBSCRIBE || meth == I_SUBMIT || meth == I_GET_STATUS;

	if (type_at(m, iid) != MT_JSON_NUMBER || get(m, 0, "params") >= 0)
		return 0;
	if (c->fv->dir_certain && dir != (from_client ? 0 : 1))
		return 0;
	switch (meth) {
	case I_SUBSCRIBE:
		if (!is_obj(m, ib) || !is_name(m, get(m, ib, "publicAddress"), 256))
			return 0;
		if (get(m, ib, "version") >= 0 && !is_uint(m, get(m, ib, "version")))
			return 0;
		st->grammar = 1;
		pend_add(st, 0, (uint8_t)meth); /* answered by mining.subscribed, whatever its id */
		if (!st->login.used)
			st->login = m->at;
		if (take_dialect(st, D_IRONFISH))
			raise_conf(c, CONF_PROBE, "ironfish-stratum: mining.subscribe request (id %.*s)",
				   id_len(m, iid), id_text(m, iid));
		return 1;
	case I_SUBMIT:
		if (!is_obj(m, ib) || !is_uint(m, get(m, ib, "miningRequestId")) ||
		    !is_hex_n(m, get(m, ib, "randomness"), 1, 64) || !take_dialect(st, D_IRONFISH))
			return 0;
		st->grammar = 1;
		pend_add(st, mt_json_tok_hash(m->s, m->t + iid), (uint8_t)meth);
		note_share(c);
		raise_conf(c, CONF_PROBE, "ironfish-stratum: mining.submit request (id %.*s)", id_len(m, iid),
			   id_text(m, iid));
		return 1;
	case I_SUBSCRIBED:
		if (!is_obj(m, ib) || !is_uint(m, get(m, ib, "clientId")) || !is_hex_n(m, get(m, ib, "graffiti"), 0, 64))
			return 0;
		st->grammar = 1;
		if (pend_take(st, 0) == I_SUBSCRIBE && take_dialect(st, D_IRONFISH)) {
			st->answered = 1;
			raise_conf(c, pair_conf(st, CONF_PAIR), "ironfish-stratum: mining.subscribe request answered");
		}
		return 1;
	case I_SET_TARGET: {
		int it = get(m, ib, "target");
		double t = 0;

		if (!is_obj(m, ib) || !is_hex_n(m, it, 1, 64) || !take_dialect(st, D_IRONFISH))
			return 0;
		for (uint32_t k = 0; k < m->t[it].len; k++)
			t = t * 16 + mt_json_hexval(m->s[m->t[it].start + k]);
		st->grammar = 1;
		st->cur_hashes = t > 0 ? 0x1p256 / t : 0; /* a hash at or under the target is a share */
		st->target = m->at;
		st->target_new = 1;
		if (!st->work_us)
			st->work_us = c->ts_us;
		raise_conf(c, CONF_PAIR, "ironfish-stratum: mining.set_target push");
		return 1;
	}
	case I_NOTIFY:
		if (!is_obj(m, ib) || !is_uint(m, get(m, ib, "miningRequestId")) ||
		    !is_hex_n(m, get(m, ib, "header"), 2, 1024) || !take_dialect(st, D_IRONFISH))
			return 0;
		st->grammar = 1;
		note_job(c);
		if (st->answered)
			raise_conf(c, CONF_BOTH, "ironfish-stratum: mining.notify push after an answered request");
		else
			raise_conf(c, CONF_JOB, "ironfish-stratum: mining.notify push");
		return 1;
	case I_SUBMITTED: {
		/* {id: the submit's id, result: bool, message?} */
		int isub = get(m, ib, "id"), ir = get(m, ib, "result");

		if (!is_obj(m, ib) || type_at(m, isub) != MT_JSON_NUMBER ||
		    (type_at(m, ir) != MT_JSON_TRUE && type_at(m, ir) != MT_JSON_FALSE))
			return 0;
		st->grammar = 1;
		if (pend_take(st, mt_json_tok_hash(m->s, m->t + isub)) != I_SUBMIT)
			return 1;
		if (type_at(m, ir) == MT_JSON_TRUE) {
			if (st->accepted < UINT64_MAX)
				st->accepted++;
			st->answered = 1;
			raise_conf(c, pair_conf(st, CONF_PAIR), "ironfish-stratum: mining.submit request answered (id %.*s)",
				   id_len(m, isub), id_text(m, isub));
		} else {
			if (st->rejected < UINT64_MAX)
				st->rejected++;
			raise_conf(c, CONF_REFUSED, "ironfish-stratum: mining.submit request rejected by the pool (id %.*s)",
				   id_len(m, isub), id_text(m, isub));
		}
		return 1;
	}
	case I_GET_STATUS:
	case I_WAIT:
	case I_DISCONNECT:
	case I_STATUS:
		if (ib >= 0 && !is_obj(m, ib))
			return 0;
		st->grammar = 1; /* the grammar, not decisive */
		return 1;
	default:
		return 0;
	}
}

static int st_allows(const dialect_state *st, enum dialect d)
{
	return st->dialect == D_NONE || st->dialect == d;
}

static void on_object(struct ctx *c, const struct msg *m, int dir, int first_msg)
{
	const mt_flow_view *fv = c->fv;
	int im = get(m, 0, "method"), iid = get(m, 0, "id");
	int opening = first_msg && dir == 0 && fv->dir_certain && !fv->midstream[0];
	char name[MT_DIALECT_METHOD_LEN];
	int k = is_str(m, im) ? mt_json_str(m->s, &m->t[im], name, sizeof name) : -1;
	int ok = 0;

	if (k >= 0) {
		for (size_t i = 0; i < sizeof method_table / sizeof method_table[0] && !ok; i++) {
			if (strcmp(name, method_table[i].name) != 0)
				continue;
			/* a name two grammars share is tried in each; the dialect once known decides */
			if (method_table[i].grin && st_allows(c->st, D_GRIN))
				ok = grin_message(c, m, dir, (enum method)method_table[i].grin, iid);
			if (!ok && method_table[i].beam && st_allows(c->st, D_BEAM))
				ok = beam_message(c, m, dir, (enum method)method_table[i].beam, iid);
			if (!ok && method_table[i].iron && st_allows(c->st, D_IRONFISH))
				ok = iron_message(c, m, dir, (enum method)method_table[i].iron, iid);
		}
	}
	if (ok)
		return;
	/* a miner's first words are a request of one of these grammars */
	if (opening)
		not_mine(c);
	else
		foreign_msg(c);
}

/* ---- the line framing (detect/jsonl.c) --------------------------------- */

static void line_object(void *ctx, int dir, const uint8_t *p, uint32_t off, uint32_t n,
			const mt_json_tok *t, int nt, int first_msg)
{
	struct msg m = { p, t, nt, { off, n, (uint8_t)dir, 1 } };

	on_object(ctx, &m, dir, first_msg);
}

_Static_assert(MT_DIALECT_MAX_TOKENS <= MT_JSONL_MAX_TOKENS, "a line's tokens live in jsonl.c's array");

static const mt_jsonl_ops line_ops = {
	.max_line = MT_DIALECT_MAX_LINE,
	.max_tokens = MT_DIALECT_MAX_TOKENS,
	.max_depth = MT_DIALECT_MAX_DEPTH,
	.max_bad = MT_DIALECT_MAX_BAD_LINES,
	.long_foreign = 0,
	.object = line_object,
	.foreign = foreign_msg,
	.not_mine = not_mine,
};

/* As cryptonote.c: evidence another detector holds (version != 0) is not dropped by our exclusion. */
static int exclude(const mt_evidence *ev)
{
	return ev->version != 0 ? MT_UNDECIDED : MT_EXCLUDED;
}

static int dialect_on_packet(void *global, void *state, const mt_flow_view *fv, const mt_pkt_view *pv,
			     mt_evidence *ev)
{
	dialect_state *st = state;
	struct ctx c = { st, fv, ev, pv ? pv->ts_us : 0 };

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return exclude(ev);
	if (fv->l4proto != 6) {
		not_mine(&c);
		return exclude(ev);
	}
	/* requests before replies when both directions grew */
	mt_jsonl_process(&line_ops, &c, st->d, fv, &st->excluded);
	if (st->detected && st->dialect != D_NONE) {
		/* a request alone is held until the pool has said something, or the flow ended */
		if (!st->flushed && st->conf <= CONF_PROBE && !pv->flow_end && !fv->fin[0] && !fv->fin[1] &&
		    fv->bytes[1] == 0)
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
		ev->diff_is_hashes = 1; /* Iron Fish: 2^256 / target; Grin and Beam keep none */
		return MT_DETECTED;
	}
	if (st->excluded || (st->d[0].done && st->d[1].done))
		return exclude(ev);
	return MT_UNDECIDED;
}

/* API 3: the first-byte rule of the JSON-lines framing, before any state is made (prefilter.h). */
static int dialect_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	return mt_prefilter_jsonl(fv);
}

const mt_detector mt_detect_dialects = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "dialects",
	.description = "Grin, Beam and Iron Fish pool protocols (JSON lines outside the stratum and CryptoNote families)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_DIALECT_MAX_PACKETS,
	.state_size = sizeof(dialect_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = dialect_on_packet,
	.flow_free = NULL,
	.prefilter = dialect_prefilter,
};
