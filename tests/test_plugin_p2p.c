/* test_plugin_p2p.c - the P2P plugin's detectors fed hand-built node traffic the way the engine feeds them: sessions, splits, truncations, look-alikes; its hashes against published vectors. */
#include <check.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detector.h"
#include "detect/sigs.h"
#include "p2p.h"
#include "p2p_crypto.h"

/* ---- a signature set of our own: the plugin's weak reference binds to this ---- */

static const int fake_sigs_tag = 1;
#define FAKE_SIGS ((const struct mt_sigs *)(const void *)&fake_sigs_tag)

const mt_sigs_magic *mt_sigs_p2p_magic(const mt_sigs *s, uint32_t magic)
{
	static const mt_sigs_magic zec = { 0x24e92764u, "zcash-mainnet", "ZEC" };

	if (s == FAKE_SIGS && magic == zec.magic)
		return &zec;
	return NULL;
}

/* ---- helpers ------------------------------------------------------------- */

static const mt_detector *det(const char *name)
{
	const mt_detector *const *l = mt_plugin_detectors();

	for (; *l; l++)
		if (strcmp((*l)->name, name) == 0)
			return *l;
	ck_abort_msg("no detector %s", name);
	return NULL;
}

static void hex(const char *s, uint8_t *out, size_t n)
{
	ck_assert_uint_eq(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void ck_hash(const uint8_t *h, const char *want)
{
	uint8_t w[32];

	hex(want, w, 32);
	ck_assert_mem_eq(h, w, 32);
}

/* A reproducible byte stream (xorshift), so that failures can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint8_t rnd8(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd8();
}

/* ---- a tiny engine: two direction buffers, on_packet after each append ---- */

typedef struct harness {
	const mt_detector *d;
	uint8_t *buf[2];
	uint32_t len[2];
	mt_flow_view fv;
	void *state;
	mt_evidence ev;    /* the flow's evidence once a call answered DETECTED */
	int owned;         /* the engine keeps ev (a DETECTED answer came) */
	int ans;
	int calls;
	int detected_calls;
	int prefiltered;   /* the detector's prefilter excluded the flow at the first call */
} harness;

static const uint8_t cli_addr[16] = { 192, 168, 1, 100 };
static const uint8_t srv_addr[16] = { 198, 51, 100, 7 };

static void h_init(harness *h, const char *name, int l4, uint16_t srv_port, int midstream)
{
	memset(h, 0, sizeof *h);
	h->d = det(name);
	h->state = calloc(1, h->d->state_size ? h->d->state_size : 1);
	ck_assert_ptr_nonnull(h->state);
	h->fv.ipver = 4;
	h->fv.l4proto = (uint8_t)l4;
	h->fv.dir_certain = !midstream;
	h->fv.midstream[0] = h->fv.midstream[1] = (uint8_t)midstream;
	h->fv.cli_addr = cli_addr;
	h->fv.srv_addr = srv_addr;
	h->fv.cli_port = 50123;
	h->fv.srv_port = srv_port;
	h->ans = MT_UNDECIDED;
}

static void h_free(harness *h)
{
	free(h->buf[0]);
	free(h->buf[1]);
	free(h->state);
	memset(h, 0, sizeof *h);
}

/*
 * One call as the engine makes it: before the flow is decided, a zeroed
 * scratch evidence that must stay untouched unless the answer is DETECTED.
 */
static int h_call(harness *h, int dir, const uint8_t *payload, size_t n, int flow_end)
{
	mt_pkt_view pv;
	mt_evidence scratch;
	mt_evidence *ev;
	uint32_t v0;
	int pf;

	if (h->ans == MT_EXCLUDED)
		return h->ans; /* the engine never asks again */
	memset(&pv, 0, sizeof pv);
	pv.dir = dir;
	pv.payload = payload;
	pv.payload_len = (uint32_t)n;
	pv.flow_end = (uint8_t)flow_end;
	if (h->fv.l4proto == 6) {
		h->fv.data[0] = h->buf[0];
		h->fv.data[1] = h->buf[1];
		h->fv.len[0] = h->len[0];
		h->fv.len[1] = h->len[1];
	}
	if (!flow_end) {
		h->fv.pkts[dir]++;
		h->fv.bytes[dir] += n;
	}
	if (h->owned) {
		ev = &h->ev;
	} else {
		memset(&scratch, 0, sizeof scratch);
		ev = &scratch;
	}
	v0 = ev->version;
	/* The engine asks a prefilter before the first call: it may exclude only what on_packet excludes. */
	pf = h->calls == 0 && h->d->prefilter ? h->d->prefilter(NULL, &h->fv, &pv) : MT_UNDECIDED;
	h->ans = h->d->on_packet(NULL, h->state, &h->fv, &pv, ev);
	ck_assert(h->ans == MT_UNDECIDED || h->ans == MT_DETECTED || h->ans == MT_EXCLUDED);
	if (pf == MT_EXCLUDED) {
		ck_assert_int_eq(h->ans, MT_EXCLUDED);
		h->prefiltered = 1;
	}
	if (!h->owned) {
		if (h->ans == MT_DETECTED) {
			h->ev = scratch;
			h->owned = 1;
		} else {
			ck_assert_uint_eq(scratch.version, v0); /* evidence only with a decision */
		}
	}
	if (h->ans == MT_DETECTED) {
		ck_assert_int_eq(h->ev.event, MT_EVENT_CRYPTO_P2P);
		ck_assert(h->ev.protocol[0] != '\0');
		ck_assert(h->ev.evidence[0] != '\0');
		ck_assert(h->ev.confidence > 0.5 && h->ev.confidence <= 1.0);
		h->detected_calls++;
	}
	h->calls++;
	return h->ans;
}

/* Appends into an exact-size buffer (a fresh allocation each time), so ASan sees reads past len. */
static int h_feed(harness *h, int dir, const void *p, size_t n)
{
	uint8_t *nb;

	if (n == 0)
		return h->ans;
	nb = malloc(h->len[dir] + n);
	ck_assert_ptr_nonnull(nb);
	if (h->len[dir])
		memcpy(nb, h->buf[dir], h->len[dir]);
	memcpy(nb + h->len[dir], p, n);
	free(h->buf[dir]);
	h->buf[dir] = nb;
	h->len[dir] += (uint32_t)n;
	return h_call(h, dir, nb + h->len[dir] - n, n, 0);
}

/* One UDP datagram, in an exact-size copy. */
static int h_dgram(harness *h, int dir, const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	int r;

	ck_assert_ptr_nonnull(c);
	if (n)
		memcpy(c, p, n);
	r = h_call(h, dir, c, n, 0);
	free(c);
	return r;
}

static int h_fin(harness *h, int dir)
{
	h->fv.fin[dir] = 1;
	return h_call(h, dir, NULL, 0, 0);
}

static int h_end(harness *h)
{
	return h_call(h, 0, NULL, 0, 1);
}

#define C2S 0
#define S2C 1

/* ---- Bitcoin messages built by hand (developer reference "P2P Network") ---- */

#define MAGIC_BTC 0xf9beb4d9u
#define MAGIC_LTC 0xfbc0b6dbu
#define MAGIC_DOGE 0xc0c0c0c0u
#define MAGIC_ZEC 0x24e92764u /* not built in: only through the signature set */

static size_t put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return 4;
}

static size_t put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
	return 8;
}

static size_t put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* net_addr without time: services, IPv4-mapped IPv6 address, port (big-endian). */
static size_t put_addr(uint8_t *p, uint8_t last, uint16_t port)
{
	size_t o = put_le64(p, 1);

	memset(p + o, 0, 10);
	o += 10;
	p[o++] = 0xff;
	p[o++] = 0xff;
	p[o++] = 10;
	p[o++] = 0;
	p[o++] = 0;
	p[o++] = last;
	p[o++] = (uint8_t)(port >> 8);
	p[o++] = (uint8_t)port;
	return o;
}

/* A version payload (protocol >= 106 layout; relay flag from 70001). */
static size_t btc_version_payload(uint8_t *p, int32_t version, const char *agent)
{
	size_t o = 0, al = strlen(agent);

	o += put_le32(p + o, (uint32_t)version);
	o += put_le64(p + o, 0x409);               /* services */
	o += put_le64(p + o, 1600000000u);         /* timestamp */
	o += put_addr(p + o, 7, 8333);             /* addr_recv */
	o += put_addr(p + o, 100, 0);              /* addr_from */
	o += put_le64(p + o, 0x1122334455667788u); /* nonce */
	p[o++] = (uint8_t)al;                      /* var_str, short form */
	memcpy(p + o, agent, al);
	o += al;
	o += put_le32(p + o, 650000); /* start_height */
	if (version >= 70001)
		p[o++] = 1; /* relay */
	return o;
}

/* A whole message; legacy: the pre-209 20-byte header without checksum. */
static size_t btc_msg(uint8_t *out, uint32_t magic, const char *cmd, const uint8_t *payload,
		      size_t len, int legacy)
{
	size_t o = put_be32(out, magic);
	uint8_t h[32];

	memset(out + o, 0, 12);
	memcpy(out + o, cmd, strlen(cmd));
	o += 12;
	o += put_le32(out + o, (uint32_t)len);
	if (!legacy) {
		mt_p2p_sha256d(payload, len, h);
		memcpy(out + o, h, 4);
		o += 4;
	}
	if (len)
		memcpy(out + o, payload, len);
	return o + len;
}

/* A modern session: c2s "version verack ping", s2c "version verack". Returns the lengths. */
struct session {
	uint8_t c[1024], s[1024];
	size_t cn, sn;
	size_t c_first; /* length of the first c2s message */
};

static void btc_session(struct session *ss, uint32_t magic, int legacy)
{
	uint8_t pl[256];
	uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t n;

	memset(ss, 0, sizeof *ss);
	n = btc_version_payload(pl, legacy ? 32001 : 70016, legacy ? "" : "/Satoshi:0.20.1/");
	ss->c_first = btc_msg(ss->c, magic, "version", pl, n, legacy);
	ss->cn = ss->c_first;
	ss->cn += btc_msg(ss->c + ss->cn, magic, "verack", NULL, 0, legacy);
	ss->cn += btc_msg(ss->c + ss->cn, magic, "ping", ping, sizeof ping, 0);
	n = btc_version_payload(pl, legacy ? 32001 : 70015, legacy ? "" : "/Satoshi:0.21.0/");
	ss->sn = btc_msg(ss->s, magic, "version", pl, n, legacy);
	ss->sn += btc_msg(ss->s + ss->sn, magic, "verack", NULL, 0, legacy);
}

/* ---- interface ----------------------------------------------------------- */

START_TEST(test_entry)
{
	const mt_detector *const *l = mt_plugin_detectors();
	const char *names[] = { "bitcoin-p2p", "monero-levin", "ethereum-devp2p", "ethereum-discv4" };
	size_t n = 0;

	ck_assert_ptr_nonnull(l);
	for (; l[n]; n++) {
		ck_assert_uint_eq(l[n]->api_version, MT_DETECTOR_API_VERSION);
		ck_assert_str_eq(l[n]->name, names[n]);
		ck_assert_ptr_nonnull(l[n]->on_packet);
		ck_assert_ptr_nonnull(l[n]->description);
		ck_assert(l[n]->state_size > 0 && l[n]->state_size < 512);
		ck_assert(l[n]->max_packets > 0);
	}
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(det("ethereum-discv4")->wants, MT_WANT_UDP);
	ck_assert_uint_eq(det("bitcoin-p2p")->wants, MT_WANT_TCP);
	ck_assert_uint_eq(det("monero-levin")->wants, MT_WANT_TCP);
	ck_assert_uint_eq(det("ethereum-devp2p")->wants, MT_WANT_TCP);
}
END_TEST

/* The built module loads with dlopen and exports the entry (when the build tree is known). */
START_TEST(test_module_loads)
{
	const char *root = getenv("MT_BUILD_ROOT");
	char path[4096];
	void *dl;
	mt_plugin_entry_fn entry;
	const mt_detector *const *l;

	if (!root)
		return; /* standalone build: no module to load */
	snprintf(path, sizeof path, "%s/plugins/p2p/mt_p2p.so", root);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(dl != NULL, "dlopen %s: %s", path, dlerror());
	*(void **)&entry = dlsym(dl, MT_PLUGIN_ENTRY);
	ck_assert_ptr_nonnull(entry);
	l = entry();
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l[0]->name, "bitcoin-p2p");
	ck_assert_ptr_nonnull(l[3]);
	ck_assert_ptr_null(l[4]);
	/* helpers stay private to the module */
	ck_assert_ptr_null(dlsym(dl, "mt_p2p_sha256"));
	dlclose(dl);
}
END_TEST

START_TEST(test_null_args)
{
	const mt_detector *const *l = mt_plugin_detectors();
	uint8_t st[512];
	mt_flow_view fv;
	mt_pkt_view pv;
	mt_evidence ev;

	memset(st, 0, sizeof st);
	memset(&fv, 0, sizeof fv);
	memset(&pv, 0, sizeof pv);
	memset(&ev, 0, sizeof ev);
	for (; *l; l++) {
		ck_assert_int_eq((*l)->on_packet(NULL, NULL, &fv, &pv, &ev), MT_UNDECIDED);
		ck_assert_int_eq((*l)->on_packet(NULL, st, NULL, &pv, &ev), MT_UNDECIDED);
		ck_assert_int_eq((*l)->on_packet(NULL, st, &fv, NULL, &ev), MT_UNDECIDED);
		ck_assert_int_eq((*l)->on_packet(NULL, st, &fv, &pv, NULL), MT_UNDECIDED);
	}
}
END_TEST

/* ---- hashes and the curve -------------------------------------------------- */

START_TEST(test_sha256_vectors)
{
	static uint8_t million[1000000];
	uint8_t h[32];
	const char *l448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	/* FIPS 180-2 appendix B and the NIST example values */
	mt_p2p_sha256(NULL, 0, h);
	ck_hash(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	mt_p2p_sha256((const uint8_t *)"abc", 3, h);
	ck_hash(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	mt_p2p_sha256((const uint8_t *)l448, strlen(l448), h);
	ck_hash(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof million);
	mt_p2p_sha256(million, sizeof million, h);
	ck_hash(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* padding edges: 55 bytes fit one block, 56 need two */
	mt_p2p_sha256(million, 55, h);
	ck_hash(h, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	mt_p2p_sha256(million, 56, h);
	ck_hash(h, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	mt_p2p_sha256(million, 64, h);
	ck_hash(h, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	/* the Bitcoin checksum of an empty payload */
	mt_p2p_sha256d(NULL, 0, h);
	ck_assert_mem_eq(h, "\x5d\xf6\xe0\xe2", 4);
}
END_TEST

START_TEST(test_keccak_vectors)
{
	uint8_t h[32], buf[300];

	/* Ethereum's Keccak-256 (original padding) */
	mt_p2p_keccak256(NULL, 0, h);
	ck_hash(h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	mt_p2p_keccak256((const uint8_t *)"abc", 3, h);
	ck_hash(h, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
	/* the same permutation with the FIPS 202 pad: SHA3-256 vectors */
	mt_p2p_sha3_256(NULL, 0, h);
	ck_hash(h, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
	mt_p2p_sha3_256((const uint8_t *)"abc", 3, h);
	ck_hash(h, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
	/* around the 136-byte rate */
	memset(buf, 'a', sizeof buf);
	mt_p2p_sha3_256(buf, 135, h);
	ck_hash(h, "8094bb53c44cfb1e67b7c30447f9a1c33696d2463ecc1d9c92538913392843c9");
	mt_p2p_sha3_256(buf, 136, h);
	ck_hash(h, "3fc5559f14db8e453a0a3091edbd2bc25e11528d81c66fa570a4efdcc2695ee1");
	mt_p2p_sha3_256(buf, 137, h);
	ck_hash(h, "f8d6846cedd2ccfadf15c5879ef95af724d799eed7391fb1c91f95344e738614");
	/* the two paddings differ */
	{
		uint8_t k[32];

		mt_p2p_keccak256(buf, 136, k);
		ck_assert(memcmp(h, k, 32) != 0);
	}
}
END_TEST

/* secp256k1 generator and two multiples (SEC 2 section 2.4.1) */
#define GX "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define GY "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
#define G2X "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
#define G2Y "1ae168fea63dc339a3c58419466ceaeef7f632653266d0e1236431a950cfe52a"
#define G3X "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define G3Y "388f7b0f632de8140fe337e62a37f3566500a99934c2231b6cb9fd7584b8e672"
#define P_HEX "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"

START_TEST(test_secp256k1)
{
	uint8_t xy[64];

	hex(GX GY, xy, 64);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 1);
	hex(G2X G2Y, xy, 64);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 1);
	hex(G3X G3Y, xy, 64);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 1);
	/* the negation (x, p - y) is on the curve too: p - Gy */
	hex(GX "b7c52588d95c3b9aa25b0403f1eef75702e84bb7597aabe663b82f6f04ef2777", xy, 64);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 1);
	/* one bit off */
	hex(GX GY, xy, 64);
	xy[63] ^= 1;
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 0);
	hex(GX G2Y, xy, 64);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 0);
	/* coordinates not reduced mod p */
	hex(P_HEX GY, xy, 64);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 0);
	memset(xy, 0xff, sizeof xy);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 0);
	memset(xy, 0, sizeof xy);
	ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 0);
	/* random points: essentially never on the curve */
	for (int i = 0; i < 2000; i++) {
		rnd_fill(xy, sizeof xy);
		ck_assert_int_eq(mt_p2p_secp256k1_on_curve(xy), 0);
	}
}
END_TEST

/* ---- bitcoin-p2p ------------------------------------------------------------- */

START_TEST(test_btc_session)
{
	struct session ss;
	harness h;

	btc_session(&ss, MAGIC_BTC, 0);
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	/* the version alone, with its checksum, decides at once */
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.c_first), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
	ck_assert_str_eq(h.ev.protocol, "bitcoin-p2p");
	ck_assert_str_eq(h.ev.coin, "BTC");
	ck_assert_str_eq(h.ev.agent, "/Satoshi:0.20.1/");
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "f9beb4d9"));
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "version"));
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "checksum"));
	ck_assert_int_eq(h_feed(&h, S2C, ss.s, ss.sn), MT_DETECTED);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c + ss.c_first, ss.cn - ss.c_first), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "both ways"));
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "/Satoshi:0.21.0/"));
	ck_assert_str_eq(h.ev.agent, "/Satoshi:0.20.1/");
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	h_free(&h);
}
END_TEST

START_TEST(test_btc_networks)
{
	static const struct {
		uint32_t magic;
		const char *proto, *coin;
	} nets[] = {
		{ MAGIC_BTC, "bitcoin-p2p", "BTC" }, { 0x0b110907u, "bitcoin-p2p", "BTC" },
		{ 0x1c163f28u, "bitcoin-p2p", "BTC" }, { 0xfabfb5dau, "bitcoin-p2p", "BTC" },
		{ 0x0a03cf40u, "bitcoin-p2p", "BTC" }, { MAGIC_LTC, "litecoin-p2p", "LTC" },
		{ 0xfdd2c8f1u, "litecoin-p2p", "LTC" }, { 0xf9beb4feu, "namecoin-p2p", "NMC" },
		{ MAGIC_DOGE, "dogecoin-p2p", "DOGE" }, { 0xfcc1b7dcu, "dogecoin-p2p", "DOGE" },
		{ 0xe3e1f3e8u, "bitcoincash-p2p", "BCH" },
	};
	char magic_hex[16];

	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
		struct session ss;
		harness h;

		btc_session(&ss, nets[i].magic, 0);
		h_init(&h, "bitcoin-p2p", 6, 18333, 0);
		ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.cn), MT_DETECTED);
		ck_assert_str_eq(h.ev.protocol, nets[i].proto);
		ck_assert_str_eq(h.ev.coin, nets[i].coin);
		snprintf(magic_hex, sizeof magic_hex, "%08x", nets[i].magic);
		ck_assert_ptr_nonnull(strstr(h.ev.evidence, magic_hex));
		h_free(&h);
	}
}
END_TEST

START_TEST(test_btc_sigs_magic)
{
	struct session ss;
	harness h;

	btc_session(&ss, MAGIC_ZEC, 0);
	/* unknown without the signature set */
	h_init(&h, "bitcoin-p2p", 6, 8233, 0);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.cn), MT_EXCLUDED);
	h_free(&h);
	/* named by it when present */
	h_init(&h, "bitcoin-p2p", 6, 8233, 0);
	h.fv.sigs = FAKE_SIGS;
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.cn), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "zcash-p2p");
	ck_assert_str_eq(h.ev.coin, "ZEC");
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "zcash-mainnet"));
	h_free(&h);
	/* the built-in table stays in force with a signature set */
	btc_session(&ss, MAGIC_BTC, 0);
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	h.fv.sigs = FAKE_SIGS;
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.cn), MT_DETECTED);
	ck_assert_str_eq(h.ev.coin, "BTC");
	h_free(&h);
}
END_TEST

/* Pre-209 peers (Bitcoin 0.3.x): version and verack without checksum, later messages with. */
START_TEST(test_btc_legacy)
{
	struct session ss;
	uint8_t inv[64], pl[37];
	size_t n;
	harness h;

	btc_session(&ss, MAGIC_BTC, 1);
	h_init(&h, "bitcoin-p2p", 6, 8333, 1);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.c_first), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.9, 1e-9);
	ck_assert_int_eq(h_feed(&h, S2C, ss.s, ss.sn), MT_DETECTED);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c + ss.c_first, ss.cn - ss.c_first), MT_DETECTED);
	/* an inv with its checksum after the legacy handshake */
	memset(pl, 0, sizeof pl);
	pl[0] = 1;
	pl[1] = 2;
	n = btc_msg(inv, MAGIC_BTC, "inv", pl, sizeof pl, 0);
	ck_assert_int_eq(h_feed(&h, S2C, inv, n), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "both ways"));
	ck_assert_str_eq(h.ev.agent, "");
	h_free(&h);

	/* a legacy verack at the very end of the stream is complete */
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	h_feed(&h, C2S, ss.c, ss.c_first + 20);
	h_feed(&h, S2C, ss.s, ss.sn);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "both ways"));
	h_free(&h);
}
END_TEST

START_TEST(test_btc_bad_checksum)
{
	struct session ss;
	uint8_t ping[8] = { 0 }, m[64];
	size_t n;
	harness h;

	/* a complete version whose checksum is wrong is no Bitcoin message */
	btc_session(&ss, MAGIC_BTC, 0);
	ss.c[20] ^= 0x01;
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.c_first), MT_EXCLUDED);
	h_free(&h);
	/* nor a ping */
	n = btc_msg(m, MAGIC_BTC, "ping", ping, sizeof ping, 0);
	m[23] ^= 0x80;
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
	h_free(&h);
	/* a header that came alone decided; its payload with a wrong sum adds nothing */
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, 24), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.9, 1e-9);
	ck_assert_int_eq(h_feed(&h, C2S, m + 24, n - 24), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.9, 1e-9);
	h_free(&h);
}
END_TEST

START_TEST(test_btc_wrong_magic)
{
	struct session ss;
	harness h;

	btc_session(&ss, 0xdeadbeefu, 0);
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, 4), MT_EXCLUDED); /* four bytes suffice */
	ck_assert_int_eq(h.calls, 1);
	h_free(&h);
	/* the magic of one network, then another */
	{
		struct session a, b;

		btc_session(&a, MAGIC_BTC, 0);
		btc_session(&b, MAGIC_LTC, 0);
		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		ck_assert_int_eq(h_feed(&h, C2S, a.c, a.c_first), MT_DETECTED);
		ck_assert_int_eq(h_feed(&h, S2C, b.s, b.sn), MT_DETECTED);
		ck_assert_str_eq(h.ev.coin, "BTC");
		ck_assert_ptr_null(strstr(h.ev.evidence, "both ways"));
		h_free(&h);
	}
	/* malformed commands */
	{
		uint8_t m[64];
		size_t n = btc_msg(m, MAGIC_BTC, "ping", (const uint8_t *)"12345678", 8, 0);

		m[9] = 'x'; /* a byte after the NUL padding began */
		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
		h_free(&h);
		n = btc_msg(m, MAGIC_BTC, "pi\x01g", (const uint8_t *)"12345678", 8, 0);
		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
		h_free(&h);
		/* an unknown but well-formed command decides nothing */
		n = btc_msg(m, MAGIC_BTC, "frobnicate", (const uint8_t *)"12345678", 8, 0);
		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_UNDECIDED);
		ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
		h_free(&h);
		/* a length past MAX_SIZE */
		n = btc_msg(m, MAGIC_BTC, "block", NULL, 0, 0);
		put_le32(m + 16, MT_BTC_MAX_PAYLOAD + 1);
		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
		h_free(&h);
	}
}
END_TEST

/* Every truncation of the client's stream, then the end of the flow. */
START_TEST(test_btc_truncations)
{
	struct session ss;

	btc_session(&ss, MAGIC_BTC, 0);
	for (size_t cut = 0; cut <= ss.cn; cut++) {
		harness h;
		int r;

		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		h_feed(&h, C2S, ss.c, cut);
		r = h_end(&h);
		if (cut < 24)
			ck_assert_int_eq(r, MT_EXCLUDED);
		else
			ck_assert_int_eq(r, MT_DETECTED);
		if (cut >= ss.c_first) {
			ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
			ck_assert_str_eq(h.ev.agent, "/Satoshi:0.20.1/");
		} else if (cut >= 24) {
			ck_assert_double_eq_tol(h.ev.confidence, 0.9, 1e-9);
			ck_assert_str_eq(h.ev.agent, "");
		}
		h_free(&h);
	}
	/* the same for the legacy handshake: its 20-byte header cannot decide before its payload */
	btc_session(&ss, MAGIC_BTC, 1);
	for (size_t cut = 0; cut <= ss.cn; cut++) {
		harness h;
		int r;

		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		h_feed(&h, C2S, ss.c, cut);
		r = h_end(&h);
		ck_assert_int_eq(r, cut >= 24 ? MT_DETECTED : MT_EXCLUDED);
		h_free(&h);
	}
}
END_TEST

/* Headers split across segments at every point, and byte by byte. */
START_TEST(test_btc_splits)
{
	struct session ss;
	harness h;

	btc_session(&ss, MAGIC_BTC, 0);
	for (size_t cut = 1; cut < ss.cn; cut++) {
		h_init(&h, "bitcoin-p2p", 6, 8333, 0);
		h_feed(&h, C2S, ss.c, cut);
		h_feed(&h, S2C, ss.s, ss.sn);
		ck_assert_int_eq(h_feed(&h, C2S, ss.c + cut, ss.cn - cut), MT_DETECTED);
		ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
		ck_assert_str_eq(h.ev.agent, "/Satoshi:0.20.1/");
		ck_assert_ptr_nonnull(strstr(h.ev.evidence, "both ways"));
		h_free(&h);
	}
	ck_assert(ss.cn > ss.sn);
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	for (size_t i = 0; i < ss.cn; i++) {
		int r = h_feed(&h, C2S, ss.c + i, 1);

		ck_assert_int_eq(r, i + 1 < 24 ? MT_UNDECIDED : MT_DETECTED);
		if (i + 1 < ss.sn)
			h_feed(&h, S2C, ss.s + i, 1);
	}
	ck_assert_ptr_null(strstr(h.ev.evidence, "both ways")); /* the peer's verack is one byte short */
	ck_assert_int_eq(h_feed(&h, S2C, ss.s + ss.sn - 1, 1), MT_DETECTED);
	ck_assert_str_eq(h.ev.agent, "/Satoshi:0.20.1/");
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "both ways"));
	h_free(&h);
}
END_TEST

/* A capture that began mid-connection: the first bytes are the tail of some message. */
START_TEST(test_btc_midstream)
{
	uint8_t buf[4096], blk[300];
	size_t n = 0;
	harness h;

	rnd_fill(blk, sizeof blk);
	memcpy(buf, blk + 100, 200); /* tail of a block */
	n = 200;
	n += btc_msg(buf + n, MAGIC_BTC, "inv", blk, 37, 0);
	h_init(&h, "bitcoin-p2p", 6, 8333, 1);
	ck_assert_int_eq(h_feed(&h, S2C, buf, n), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "inv"));
	h_free(&h);

	/* a false start: a known magic and command whose checksum fails, then the real message */
	n = btc_msg(buf, MAGIC_BTC, "ping", blk, 8, 0);
	buf[20] ^= 1;
	memmove(buf + 3, buf, n);
	memset(buf, 0x55, 3);
	n += 3;
	n += btc_msg(buf + n, MAGIC_BTC, "pong", blk, 8, 0);
	h_init(&h, "bitcoin-p2p", 6, 8333, 1);
	ck_assert_int_eq(h_feed(&h, C2S, buf, n), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "pong with a valid checksum"));
	h_free(&h);

	/* random midstream bytes: nothing, and the search gives up */
	h_init(&h, "bitcoin-p2p", 6, 8333, 1);
	for (int i = 0; i < 12 && h.ans != MT_EXCLUDED; i++) {
		rnd_fill(buf, sizeof buf);
		h_feed(&h, C2S, buf, sizeof buf);
		h_feed(&h, S2C, buf, sizeof buf);
	}
	ck_assert_int_eq(h.ans, MT_EXCLUDED);
	h_free(&h);
}
END_TEST

/* Bytes lost in the capture: messages before the hole stand, the walk resumes after it. */
START_TEST(test_btc_gap)
{
	struct session ss;
	uint8_t buf[512], junk[40];
	size_t n;
	harness h;

	btc_session(&ss, MAGIC_BTC, 0);
	rnd_fill(junk, sizeof junk);
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	/* version, then the first 10 bytes of verack, then a hole */
	h_feed(&h, C2S, ss.c, ss.c_first + 10);
	n = 0;
	memcpy(buf, junk, sizeof junk);
	n += sizeof junk;
	n += btc_msg(buf + n, MAGIC_BTC, "getaddr", NULL, 0, 0);
	h.fv.gap_off[0] = h.len[0];
	ck_assert_int_eq(h_feed(&h, C2S, buf, n), MT_DETECTED);
	ck_assert_str_eq(h.ev.agent, "/Satoshi:0.20.1/");
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "version with a valid checksum"));
	h_free(&h);
}
END_TEST

/* A payload longer than the kept stream: the header decides, nothing is read past the cap. */
START_TEST(test_btc_capped)
{
	uint8_t buf[8192];
	size_t n;
	harness h;

	n = btc_msg(buf, MAGIC_BTC, "block", NULL, 0, 0);
	put_le32(buf + 16, 1000000);
	rnd_fill(buf + n, sizeof buf - n);
	h_init(&h, "bitcoin-p2p", 6, 8333, 0);
	ck_assert_int_eq(h_feed(&h, S2C, buf, sizeof buf), MT_DETECTED);
	h.fv.capped[1] = 1;
	ck_assert_int_eq(h_feed(&h, S2C, buf, 100), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "block header"));
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	h_free(&h);
}
END_TEST

/* ---- monero-levin ------------------------------------------------------------ */

static const uint8_t storage_sig[9] = { 0x01, 0x11, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01 };

/* A levin bucket (epee levin_base.h bucket_head2) with a portable-storage body of n bytes. */
static size_t levin_msg(uint8_t *p, uint32_t cmd, int request, uint32_t flags, size_t body)
{
	static const uint8_t sig[8] = { 0x01, 0x21, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 };
	size_t o = 0;

	memcpy(p, sig, 8);
	o = 8;
	o += put_le64(p + o, body);
	p[o++] = (uint8_t)request;
	o += put_le32(p + o, cmd);
	o += put_le32(p + o, request ? 0 : 1); /* return code */
	o += put_le32(p + o, flags);
	o += put_le32(p + o, 1); /* protocol version */
	ck_assert_uint_eq(o, 33);
	if (body) {
		rnd_fill(p + o, body);
		if (body >= sizeof storage_sig)
			memcpy(p + o, storage_sig, sizeof storage_sig);
	}
	return o + body;
}

START_TEST(test_levin_handshake)
{
	uint8_t req[400], resp[2000], ts[200];
	size_t rn = levin_msg(req, 1001, 1, 1, 262);
	size_t sn = levin_msg(resp, 1001, 0, 2, 1500);
	size_t tn;
	harness h;

	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, req, rn), MT_DETECTED);
	ck_assert_str_eq(h.ev.protocol, "monero-levin");
	ck_assert_str_eq(h.ev.coin, "XMR");
	ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9); /* portable-storage body */
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "handshake request"));
	ck_assert_int_eq(h_feed(&h, S2C, resp, sn), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "answered"));
	tn = levin_msg(ts, 1002, 1, 1, 100);
	ck_assert_int_eq(h_feed(&h, S2C, ts, tn), MT_DETECTED);
	h_free(&h);

	/* a header without a storage body: 0.9 until the response pairs it */
	rn = levin_msg(req, 1003, 1, 1, 0);
	sn = levin_msg(resp, 1003, 0, 2, 0);
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, req, rn), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.9, 1e-9);
	ck_assert_int_eq(h_feed(&h, S2C, resp, sn), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "ping request answered"));
	h_free(&h);
}
END_TEST

START_TEST(test_levin_bad_headers)
{
	uint8_t m[100];
	size_t n;
	harness h;

	/* wrong signature byte: excluded on the first bytes */
	n = levin_msg(m, 1001, 1, 1, 0);
	m[3] = 0x02;
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, 4), MT_EXCLUDED);
	h_free(&h);
	/* request and response flags at once */
	n = levin_msg(m, 1001, 1, 3, 0);
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
	h_free(&h);
	/* protocol version 2 */
	n = levin_msg(m, 1001, 1, 1, 0);
	put_le32(m + 29, 2);
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
	h_free(&h);
	/* have_to_return 2 */
	n = levin_msg(m, 1001, 1, 1, 0);
	m[16] = 2;
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
	h_free(&h);
	/* body over the levin limit */
	n = levin_msg(m, 1001, 1, 1, 0);
	put_le64(m + 8, (uint64_t)MT_LEVIN_MAX_BODY + 1);
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_EXCLUDED);
	h_free(&h);
	/* a valid header of an unknown command decides nothing */
	n = levin_msg(m, 4242, 1, 1, 0);
	h_init(&h, "monero-levin", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, m, n), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_levin_truncations)
{
	uint8_t req[400];
	size_t rn = levin_msg(req, 1001, 1, 1, 262);

	for (size_t cut = 0; cut <= rn; cut++) {
		harness h;
		int r;

		h_init(&h, "monero-levin", 6, 18080, 0);
		r = h_feed(&h, C2S, req, cut);
		if (cut > 0 && cut < 33)
			ck_assert_int_eq(r, MT_UNDECIDED);
		r = h_end(&h);
		ck_assert_int_eq(r, cut >= 33 ? MT_DETECTED : MT_EXCLUDED);
		if (cut >= 33 + 9)
			ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
		h_free(&h);
	}
	/* and byte by byte */
	{
		harness h;

		h_init(&h, "monero-levin", 6, 18080, 0);
		for (size_t i = 0; i < rn; i++)
			h_feed(&h, C2S, req + i, 1);
		ck_assert_int_eq(h.ans, MT_DETECTED);
		ck_assert_double_eq_tol(h.ev.confidence, 0.98, 1e-9);
		h_free(&h);
	}
}
END_TEST

START_TEST(test_levin_midstream)
{
	uint8_t buf[3000];
	size_t n;
	harness h;

	rnd_fill(buf, 700);
	n = 700 + levin_msg(buf + 700, 2002, 0, 1, 500); /* a notify: request without return */
	n += levin_msg(buf + n, 1002, 1, 1, 50);
	h_init(&h, "monero-levin", 6, 18080, 1);
	ck_assert_int_eq(h_feed(&h, S2C, buf, n), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "new_transactions"));
	h_free(&h);
}
END_TEST

/* ---- ethereum-devp2p (RLPx) ------------------------------------------------ */

/* An EIP-8 message: size prefix, 0x04, key (64), then n - 65 random bytes; or pre-EIP-8 (no prefix). */
static size_t rlpx_msg(uint8_t *p, const char *key_hex, size_t ecies_len, int eip8)
{
	size_t o = 0;

	if (eip8) {
		p[0] = (uint8_t)(ecies_len >> 8);
		p[1] = (uint8_t)ecies_len;
		o = 2;
	}
	p[o] = 0x04;
	hex(key_hex, p + o + 1, 64);
	rnd_fill(p + o + 65, ecies_len - 65);
	return o + ecies_len;
}

START_TEST(test_rlpx_eip8)
{
	uint8_t auth[1000], ack[1000], frame[64];
	size_t an = rlpx_msg(auth, GX GY, 427, 1);
	size_t kn = rlpx_msg(ack, G2X G2Y, 394, 1);
	harness h;

	rnd_fill(frame, sizeof frame);
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	ck_assert_int_eq(h_feed(&h, C2S, auth, an), MT_UNDECIDED); /* waits for the ack */
	ck_assert_int_eq(h_feed(&h, S2C, ack, kn), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.95, 1e-9);
	ck_assert_str_eq(h.ev.protocol, "ethereum-devp2p");
	ck_assert_str_eq(h.ev.coin, "ETH");
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "EIP-8 auth (429 bytes"));
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "EIP-8 ack (396 bytes)"));
	ck_assert_int_eq(h_feed(&h, C2S, frame, 32), MT_DETECTED);
	h_free(&h);

	/* the ack and the first frame in one segment; another port */
	h_init(&h, "ethereum-devp2p", 6, 40404, 0);
	ck_assert_int_eq(h_feed(&h, C2S, auth, an), MT_UNDECIDED);
	memcpy(ack + kn, frame, 32);
	ck_assert_int_eq(h_feed(&h, S2C, ack, kn + 32), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.9, 1e-9);
	h_free(&h);

	/* the auth alone: 0.8 on the devp2p port, 0.7 elsewhere, decided at the end */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	ck_assert_int_eq(h_feed(&h, C2S, auth, an), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.8, 1e-9);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "no answer"));
	h_free(&h);
	h_init(&h, "ethereum-devp2p", 6, 443, 0);
	ck_assert_int_eq(h_feed(&h, C2S, auth, an), MT_UNDECIDED);
	ck_assert_int_eq(h_fin(&h, S2C), MT_DETECTED); /* refused: the shape is all there is */
	ck_assert_double_eq_tol(h.ev.confidence, 0.7, 1e-9);
	h_free(&h);

	/* auth in pieces */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	for (size_t i = 0; i < an; i += 100)
		ck_assert_int_eq(h_feed(&h, C2S, auth + i, an - i < 100 ? an - i : 100), MT_UNDECIDED);
	ck_assert_int_eq(h_feed(&h, S2C, ack, 50), MT_UNDECIDED);
	ck_assert_int_eq(h_feed(&h, S2C, ack + 50, kn - 50), MT_DETECTED);
	h_free(&h);
}
END_TEST

START_TEST(test_rlpx_pre_eip8)
{
	uint8_t auth[400], ack[300];
	size_t an = rlpx_msg(auth, G3X G3Y, 307, 0);
	size_t kn = rlpx_msg(ack, GX GY, 210, 0);
	harness h;

	ck_assert_uint_eq(an, 307);
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	ck_assert_int_eq(h_feed(&h, C2S, auth, an), MT_UNDECIDED);
	ck_assert_int_eq(h_feed(&h, S2C, ack, kn), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.95, 1e-9);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "pre-EIP-8 auth (307 bytes"));
	h_free(&h);
	/* answered by an EIP-8 ack */
	kn = rlpx_msg(ack, GX GY, 260, 1);
	h_init(&h, "ethereum-devp2p", 6, 30304, 0);
	h_feed(&h, C2S, auth, an);
	ck_assert_int_eq(h_feed(&h, S2C, ack, kn), MT_DETECTED);
	h_free(&h);
	/* alone on the devp2p port: 0.8 */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	h_feed(&h, C2S, auth, an);
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.8, 1e-9);
	h_free(&h);
	/* alone elsewhere: a 307-byte message does not fire by itself */
	h_init(&h, "ethereum-devp2p", 6, 9000, 0);
	h_feed(&h, C2S, auth, an);
	ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_rlpx_lookalikes)
{
	uint8_t auth[1000], ack[1000], blob[1000];
	size_t an = rlpx_msg(auth, GX GY, 427, 1);
	size_t kn = rlpx_msg(ack, G2X G2Y, 394, 1);
	harness h;

	/* random 307-byte blobs starting with 0x04, on and off the port, answered or not */
	for (int i = 0; i < 200; i++) {
		uint16_t port = (i & 1) ? 30303 : 31000;

		rnd_fill(blob, sizeof blob);
		blob[0] = 0x04;
		h_init(&h, "ethereum-devp2p", 6, port, 0);
		ck_assert_int_ne(h_feed(&h, C2S, blob, 307), MT_DETECTED);
		if (i & 2)
			h_feed(&h, S2C, blob + 100, 210);
		ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
		h_free(&h);
	}
	/* a consistent EIP-8 size prefix but no curve point */
	memcpy(blob, auth, an);
	blob[10] ^= 0x40;
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	h_feed(&h, C2S, blob, an);
	ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
	h_free(&h);
	/* the size prefix promises more than comes before the answer */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	memcpy(blob, auth, an);
	blob[1] = (uint8_t)(blob[1] + 8);
	h_feed(&h, C2S, blob, an);
	ck_assert_int_eq(h_feed(&h, S2C, ack, kn), MT_EXCLUDED);
	h_free(&h);
	/* the initiator sends more before any answer */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	h_feed(&h, C2S, auth, an);
	ck_assert_int_eq(h_feed(&h, C2S, ack, 40), MT_EXCLUDED);
	h_free(&h);
	/* the recipient speaks first */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	ck_assert_int_eq(h_feed(&h, S2C, ack, kn), MT_EXCLUDED);
	h_free(&h);
	/* an answer that is no ack */
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	h_feed(&h, C2S, auth, an);
	rnd_fill(blob, sizeof blob);
	ck_assert_int_eq(h_feed(&h, S2C, blob, 300), MT_EXCLUDED);
	h_free(&h);
	/* an ack whose key is off the curve */
	memcpy(blob, ack, kn);
	blob[40] ^= 1;
	h_init(&h, "ethereum-devp2p", 6, 30303, 0);
	h_feed(&h, C2S, auth, an);
	ck_assert_int_eq(h_feed(&h, S2C, blob, kn), MT_EXCLUDED);
	h_free(&h);
	/* UDP is not RLPx */
	h_init(&h, "ethereum-devp2p", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, auth, an), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_rlpx_truncations)
{
	uint8_t auth[1000], ack[1000];
	size_t an = rlpx_msg(auth, GX GY, 427, 1);
	size_t kn = rlpx_msg(ack, G2X G2Y, 394, 1);

	for (size_t cut = 0; cut <= an; cut++) {
		harness h;

		h_init(&h, "ethereum-devp2p", 6, 30303, 0);
		h_feed(&h, C2S, auth, cut);
		ck_assert_int_eq(h_end(&h), cut == an ? MT_DETECTED : MT_EXCLUDED);
		h_free(&h);
	}
	for (size_t cut = 0; cut <= kn; cut++) {
		harness h;

		h_init(&h, "ethereum-devp2p", 6, 30303, 0);
		h_feed(&h, C2S, auth, an);
		h_feed(&h, S2C, ack, cut);
		/* an ack cut short leaves the auth alone: 0.8 on the devp2p port */
		ck_assert_int_eq(h_end(&h), MT_DETECTED);
		ck_assert_double_eq_tol(h.ev.confidence, cut == kn ? 0.95 : 0.8, 1e-9);
		if (cut > 0 && cut < kn)
			ck_assert_ptr_nonnull(strstr(h.ev.evidence, "answer cut short"));
		h_free(&h);
	}
}
END_TEST

/* ---- ethereum-discv4 --------------------------------------------------------- */

/* A discv4 ping (discv4.md "Ping Packet (0x01)"): [4, from, to, expiration], hashed as the spec says. */
static size_t discv4_ping(uint8_t *p, uint8_t type)
{
	static const uint8_t data[] = {
		0xde,                                    /* list, 30 bytes */
		0x04,                                    /* version */
		0xcb, 0x84, 10, 0, 0, 1, 0x82, 0x76, 0x5f, 0x82, 0x76, 0x5f, /* from: ip, udp, tcp */
		0xcb, 0x84, 10, 0, 0, 2, 0x82, 0x76, 0x5f, 0x82, 0x76, 0x5f, /* to */
		0x84, 0x60, 0x00, 0x00, 0x00,            /* expiration */
	};
	size_t n = 32;

	rnd_fill(p + n, 64); /* signature r, s */
	n += 64;
	p[n++] = 0;          /* recovery id */
	p[n++] = type;
	memcpy(p + n, data, sizeof data);
	n += sizeof data;
	mt_p2p_keccak256(p + 32, n - 32, p);
	return n;
}

START_TEST(test_discv4_ping)
{
	uint8_t pk[200], pong[200];
	size_t n = discv4_ping(pk, 1);
	size_t m = discv4_ping(pong, 2);
	harness h;

	ck_assert_uint_eq(n, 32 + 65 + 1 + 31);
	h_init(&h, "ethereum-discv4", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, pk, n), MT_DETECTED);
	ck_assert_double_eq_tol(h.ev.confidence, 0.99, 1e-9);
	ck_assert_str_eq(h.ev.protocol, "ethereum-discv4");
	ck_assert_str_eq(h.ev.coin, "ETH");
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "ping packet (129 bytes)"));
	ck_assert_int_eq(h_dgram(&h, S2C, pong, m), MT_DETECTED);
	ck_assert_ptr_nonnull(strstr(h.ev.evidence, "ping,pong"));
	ck_assert_int_eq(h_end(&h), MT_DETECTED);
	h_free(&h);

	/* any port: the hash is the proof */
	h_init(&h, "ethereum-discv4", 17, 1024, 0);
	ck_assert_int_eq(h_dgram(&h, S2C, pk, n), MT_DETECTED);
	h_free(&h);
	/* after a datagram that is not discv4 */
	h_init(&h, "ethereum-discv4", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, pong + 1, m - 1), MT_UNDECIDED);
	ck_assert_int_eq(h_dgram(&h, C2S, pk, n), MT_DETECTED);
	h_free(&h);
}
END_TEST

START_TEST(test_discv4_bad)
{
	uint8_t pk[200], bad[200];
	size_t n = discv4_ping(pk, 1);
	harness h;

	/* one bit off anywhere: no match */
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, pk, n);
		bad[i] ^= 0x10;
		h_init(&h, "ethereum-discv4", 17, 30303, 0);
		ck_assert_int_eq(h_dgram(&h, C2S, bad, n), MT_UNDECIDED);
		h_free(&h);
	}
	/* a correct hash over a bad type or recovery id still does not count */
	memcpy(bad, pk, n);
	bad[97] = 9;
	mt_p2p_keccak256(bad + 32, n - 32, bad);
	h_init(&h, "ethereum-discv4", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, bad, n), MT_UNDECIDED);
	h_free(&h);
	memcpy(bad, pk, n);
	bad[96] = 27;
	mt_p2p_keccak256(bad + 32, n - 32, bad);
	h_init(&h, "ethereum-discv4", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, bad, n), MT_UNDECIDED);
	h_free(&h);
	/* three strikes */
	h_init(&h, "ethereum-discv4", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, pk + 1, n - 1), MT_UNDECIDED);
	ck_assert_int_eq(h_dgram(&h, S2C, pk + 2, n - 2), MT_UNDECIDED);
	ck_assert_int_eq(h_dgram(&h, C2S, pk + 3, n - 3), MT_EXCLUDED);
	h_free(&h);
	/* a flow that ends undecided */
	h_init(&h, "ethereum-discv4", 17, 30303, 0);
	ck_assert_int_eq(h_dgram(&h, C2S, pk + 1, n - 1), MT_UNDECIDED);
	ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
	h_free(&h);
	/* TCP is not discv4 */
	h_init(&h, "ethereum-discv4", 6, 30303, 0);
	ck_assert_int_eq(h_feed(&h, C2S, pk, n), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

START_TEST(test_discv4_truncations)
{
	uint8_t pk[200];
	size_t n = discv4_ping(pk, 1);

	for (size_t cut = 0; cut <= n; cut++) {
		harness h;

		h_init(&h, "ethereum-discv4", 17, 30303, 0);
		ck_assert_int_eq(h_dgram(&h, C2S, pk, cut), cut == n ? MT_DETECTED : MT_UNDECIDED);
		h_free(&h);
	}
	/* and too long: over 1280 bytes is not discv4 */
	{
		static uint8_t big[1400];
		harness h;

		memcpy(big, pk, n);
		rnd_fill(big + n, sizeof big - n);
		mt_p2p_keccak256(big + 32, sizeof big - 32, big);
		h_init(&h, "ethereum-discv4", 17, 30303, 0);
		ck_assert_int_eq(h_dgram(&h, C2S, big, sizeof big), MT_UNDECIDED);
		h_free(&h);
		h_init(&h, "ethereum-discv4", 17, 30303, 0);
		mt_p2p_keccak256(big + 32, 1280 - 32, big);
		ck_assert_int_eq(h_dgram(&h, C2S, big, 1280), MT_DETECTED);
		h_free(&h);
	}
}
END_TEST

/* ---- look-alikes: every detector of the plugin on other protocols ---------- */

static const uint8_t tls_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x5b, 0x0a, 0x1c, 0x33,
	0x94, 0x11, 0x2c, 0x6d, 0x00, 0x00, 0x20, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xcc, 0xa9,
};

static size_t bittorrent_hs(uint8_t *p)
{
	static const char proto[] = "BitTorrent protocol";

	p[0] = 19;
	memcpy(p + 1, proto, 19);
	memset(p + 20, 0, 8);
	rnd_fill(p + 28, 20);              /* info hash */
	memcpy(p + 48, "-qB4250-", 8);     /* peer id */
	rnd_fill(p + 56, 12);
	return 68;
}

START_TEST(test_lookalikes)
{
	static const char *const tcp_dets[] = { "bitcoin-p2p", "monero-levin", "ethereum-devp2p" };
	static const uint16_t ports[] = { 8333, 18080, 30303, 6881, 443 };
	uint8_t bt[68], rnd[1500], big[600];
	const char *http = "GET /index.html HTTP/1.1\r\nHost: example.org\r\n\r\n";
	const char *ssh = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

	bittorrent_hs(bt);
	for (size_t d = 0; d < 3; d++) {
		for (size_t pi = 0; pi < sizeof ports / sizeof ports[0]; pi++) {
			harness h;

			/* each of these is let go by the prefilter at its first bytes (no state, no call) */
			h_init(&h, tcp_dets[d], 6, ports[pi], 0);
			h_feed(&h, C2S, tls_hello, sizeof tls_hello);
			h_feed(&h, S2C, tls_hello, sizeof tls_hello);
			ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
			ck_assert_int_eq(h.prefiltered, 1);
			h_free(&h);

			h_init(&h, tcp_dets[d], 6, ports[pi], 0);
			h_feed(&h, C2S, bt, sizeof bt);
			h_feed(&h, S2C, bt, sizeof bt);
			ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
			ck_assert_int_eq(h.prefiltered, 1);
			h_free(&h);

			h_init(&h, tcp_dets[d], 6, ports[pi], 0);
			h_feed(&h, C2S, http, strlen(http));
			ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
			ck_assert_int_eq(h.prefiltered, 1);
			h_free(&h);

			h_init(&h, tcp_dets[d], 6, ports[pi], 0);
			h_feed(&h, S2C, ssh, strlen(ssh));
			ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
			ck_assert_int_eq(h.prefiltered, 1);
			h_free(&h);

			/* random binary, both directions, several segments, midstream or not */
			for (int mid = 0; mid < 2; mid++) {
				h_init(&h, tcp_dets[d], 6, ports[pi], mid);
				for (int k = 0; k < 4; k++) {
					rnd_fill(rnd, sizeof rnd);
					h_feed(&h, C2S, rnd, sizeof rnd);
					h_feed(&h, S2C, rnd + 7, sizeof rnd - 7);
				}
				ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
				h_free(&h);
			}
			/* a big-endian length prefix that matches, on the devp2p port */
			rnd_fill(big, sizeof big);
			big[0] = 0x01;
			big[1] = 0xab;
			big[2] = 0x04;
			h_init(&h, tcp_dets[d], 6, ports[pi], 0);
			h_feed(&h, C2S, big, 0x1ab + 2);
			ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
			h_free(&h);
		}
	}
	/* UDP look-alikes for discv4: random datagrams of discv4 sizes, TLS, BitTorrent DHT-ish */
	for (int i = 0; i < 300; i++) {
		harness h;
		size_t n = 99 + (size_t)(rnd8() % 200);

		rnd_fill(rnd, n);
		rnd[96] = 0;
		rnd[97] = 1;
		rnd[98] = 0xde;
		h_init(&h, "ethereum-discv4", 17, 30303, 0);
		ck_assert_int_eq(h_dgram(&h, C2S, rnd, n), MT_UNDECIDED);
		h_free(&h);
	}
	{
		harness h;
		const char *dht = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";

		h_init(&h, "ethereum-discv4", 17, 6881, 0);
		h_dgram(&h, C2S, dht, strlen(dht));
		h_dgram(&h, S2C, tls_hello, sizeof tls_hello);
		ck_assert_int_eq(h_dgram(&h, C2S, bt, sizeof bt), MT_EXCLUDED);
		h_free(&h);
	}
	/* the Bitcoin and levin detectors give up UDP at once */
	{
		harness h;

		h_init(&h, "bitcoin-p2p", 17, 8333, 0);
		ck_assert_int_eq(h_dgram(&h, C2S, tls_hello, sizeof tls_hello), MT_EXCLUDED);
		h_free(&h);
		h_init(&h, "monero-levin", 17, 18080, 0);
		ck_assert_int_eq(h_dgram(&h, C2S, tls_hello, sizeof tls_hello), MT_EXCLUDED);
		h_free(&h);
	}
}
END_TEST

/* Each protocol's session is left alone by the other detectors of the plugin. */
START_TEST(test_cross)
{
	struct session ss;
	uint8_t lev[400], auth[1000], ack[1000];
	size_t ln = levin_msg(lev, 1001, 1, 1, 262);
	size_t an = rlpx_msg(auth, GX GY, 427, 1);
	size_t kn = rlpx_msg(ack, G2X G2Y, 394, 1);
	harness h;

	btc_session(&ss, MAGIC_BTC, 0);
	h_init(&h, "monero-levin", 6, 8333, 0);
	ck_assert_int_eq(h_feed(&h, C2S, ss.c, ss.cn), MT_EXCLUDED);
	h_free(&h);
	h_init(&h, "ethereum-devp2p", 6, 8333, 0);
	h_feed(&h, C2S, ss.c, ss.cn);
	ck_assert_int_eq(h_feed(&h, S2C, ss.s, ss.sn), MT_EXCLUDED);
	h_free(&h);
	h_init(&h, "bitcoin-p2p", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, lev, ln), MT_EXCLUDED);
	h_free(&h);
	h_init(&h, "ethereum-devp2p", 6, 18080, 0);
	ck_assert_int_eq(h_feed(&h, C2S, lev, ln), MT_EXCLUDED);
	h_free(&h);
	h_init(&h, "bitcoin-p2p", 6, 30303, 0);
	h_feed(&h, C2S, auth, an);
	h_feed(&h, S2C, ack, kn);
	ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
	h_free(&h);
	h_init(&h, "monero-levin", 6, 30303, 0);
	h_feed(&h, C2S, auth, an);
	h_feed(&h, S2C, ack, kn);
	ck_assert_int_eq(h_end(&h), MT_EXCLUDED);
	h_free(&h);
}
END_TEST

/* Random mutations of valid sessions: no crash, no out-of-bounds read (run under ASan/valgrind). */
START_TEST(test_fuzz)
{
	static const char *const names[] = { "bitcoin-p2p", "monero-levin", "ethereum-devp2p" };
	struct session ss;
	uint8_t lev[2000], auth[1000];
	size_t ln, an;

	for (int iter = 0; iter < 3000; iter++) {
		uint8_t c[2048], s[2048];
		size_t cn, sn;
		harness h;
		int which = iter % 3;

		if (which == 0) {
			btc_session(&ss, (iter & 4) ? MAGIC_BTC : 0xf9beb4d9u, iter & 8);
			memcpy(c, ss.c, ss.cn);
			memcpy(s, ss.s, ss.sn);
			cn = ss.cn;
			sn = ss.sn;
		} else if (which == 1) {
			ln = levin_msg(lev, 1001, 1, 1, 262);
			memcpy(c, lev, ln);
			cn = ln;
			sn = levin_msg(s, 1001, 0, 2, 400);
		} else {
			an = rlpx_msg(auth, GX GY, 427, 1);
			memcpy(c, auth, an);
			cn = an;
			sn = rlpx_msg(s, G2X G2Y, 394, 1);
		}
		for (int k = rnd8() % 6; k >= 0; k--) {
			c[rnd8() % cn] = rnd8();
			s[rnd8() % sn] = rnd8();
		}
		h_init(&h, names[which], 6, 30303, iter & 16 ? 1 : 0);
		for (size_t o = 0, q = 0; o < cn || q < sn;) {
			size_t a = 1 + rnd8() % 300, b = 1 + rnd8() % 300;

			if (o < cn) {
				a = a > cn - o ? cn - o : a;
				h_feed(&h, C2S, c + o, a);
				o += a;
			}
			if (q < sn) {
				b = b > sn - q ? sn - q : b;
				if (rnd8() < 8)
					h.fv.gap_off[1] = h.len[1];
				h_feed(&h, S2C, s + q, b);
				q += b;
			}
		}
		h_end(&h);
		h_free(&h);
	}
}
END_TEST

static Suite *p2p_suite(void)
{
	Suite *s = suite_create("plugin_p2p");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_entry);
	tcase_add_test(tc, test_module_loads);
	tcase_add_test(tc, test_null_args);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_keccak_vectors);
	tcase_add_test(tc, test_secp256k1);
	tcase_add_test(tc, test_btc_session);
	tcase_add_test(tc, test_btc_networks);
	tcase_add_test(tc, test_btc_sigs_magic);
	tcase_add_test(tc, test_btc_legacy);
	tcase_add_test(tc, test_btc_bad_checksum);
	tcase_add_test(tc, test_btc_wrong_magic);
	tcase_add_test(tc, test_btc_truncations);
	tcase_add_test(tc, test_btc_splits);
	tcase_add_test(tc, test_btc_midstream);
	tcase_add_test(tc, test_btc_gap);
	tcase_add_test(tc, test_btc_capped);
	tcase_add_test(tc, test_levin_handshake);
	tcase_add_test(tc, test_levin_bad_headers);
	tcase_add_test(tc, test_levin_truncations);
	tcase_add_test(tc, test_levin_midstream);
	tcase_add_test(tc, test_rlpx_eip8);
	tcase_add_test(tc, test_rlpx_pre_eip8);
	tcase_add_test(tc, test_rlpx_lookalikes);
	tcase_add_test(tc, test_rlpx_truncations);
	tcase_add_test(tc, test_discv4_ping);
	tcase_add_test(tc, test_discv4_bad);
	tcase_add_test(tc, test_discv4_truncations);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_cross);
	tcase_add_test(tc, test_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(p2p_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
