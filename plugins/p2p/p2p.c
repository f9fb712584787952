/* p2p.c - blockchain node (P2P) detectors, a plugin: Bitcoin-family wire protocol, Monero levin, Ethereum RLPx and discv4. */
/*
 * Every flow found here is node-to-node traffic: the event is always
 * MT_EVENT_CRYPTO_P2P ("crypto_p2p"), never mining. Wire formats:
 *
 * bitcoin-p2p (Bitcoin developer reference "P2P Network: Message Headers";
 *   Bitcoin Core src/protocol.h): magic(4) command(12, ASCII then NUL
 *   padding) length(4 LE) checksum(4 = SHA256d(payload)[0..4]) payload.
 *   Peers older than protocol 209 (Bitcoin 0.3.x sent version and verack this
 *   way until the handshake finished) omit the checksum: a 20-byte header.
 *   The version payload: version, services, timestamp, addr_recv; from 106
 *   addr_from, nonce, user_agent (BIP 14 var_str), start_height; relay (BIP 37).
 *   [0.9] a complete header with a known magic and a known command;
 *   [0.98] a verified checksum, or version and verack both ways.
 * monero-levin (epee levin_base.h bucket_head2; p2p_protocol_defs.h,
 *   cryptonote_protocol_defs.h): signature 0x0101010101012101 (8 LE),
 *   body size (8 LE), have_to_return (1), command (4 LE), return code (4),
 *   flags (4: 1 request, 2 response, 4/8 fragment begin/end), protocol
 *   version (4). [0.9] a valid header of a known command; [0.98] a request
 *   answered by a response of the same command, or a portable-storage body.
 * ethereum-devp2p (devp2p rlpx.md "Initial Handshake", EIP-8): the
 *   initiator's auth and the recipient's ack are ECIES messages
 *   0x04 || R(64) || iv(16) || c || mac(32) with R an ephemeral secp256k1
 *   key; pre-EIP-8 auth is 307 bytes and ack 210, EIP-8 puts a 2-byte
 *   big-endian size first. Nothing is clear text, so the rule is the shape:
 *   exact size, R on the curve, the initiator silent until the ack.
 *   [0.7] an EIP-8 auth alone, [0.8] an auth alone to port 30303/30304,
 *   [0.9] auth and ack, [0.95] auth and ack on port 30303/30304.
 * ethereum-discv4 (devp2p discv4.md "Wire Protocol"): hash(32) ||
 *   signature(65) || type(1) || RLP data with hash = keccak256(signature ||
 *   type || data). [0.99] the hash verifies.
 */
#include "p2p.h"
#include "p2p_crypto.h"

#include "detect/detector.h"
#include "detect/sigs.h"
#include "util/rd.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * The signature set lives in the engine; a plugin must load even into an
 * engine built without it, so the lookup is a weak reference (NULL if absent).
 */
#pragma weak mt_sigs_p2p_magic

#define P2P_EXPORT __attribute__((visibility("default")))

/* Confidence of each rule. */
#define CONF_HEADER 0.9
#define CONF_CONFIRMED 0.98
#define CONF_RLPX_AUTH_EIP8 0.7
#define CONF_RLPX_AUTH_PORT 0.8
#define CONF_RLPX_PAIR 0.9
#define CONF_RLPX_PAIR_PORT 0.95
#define CONF_DISCV4 0.99

#define RLPX_PORT 30303u
#define RLPX_PORT_ALT 30304u /* Parity/OpenEthereum and second local nodes */
#define RLPX_PRE_EIP8_AUTH 307u
#define RLPX_PRE_EIP8_ACK 210u
#define ECIES_KEY_TAG 0x04     /* SEC 1 uncompressed point */

/* ---- shared helpers ---------------------------------------------------- */

/* Fills the evidence of a decided flow; every field bumps ev->version only on change. */
static void ev_fill(mt_evidence *ev, const char *proto, const char *coin, double conf,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void ev_fill(mt_evidence *ev, const char *proto, const char *coin, double conf,
		    const char *fmt, ...)
{
	char text[MT_EV_TEXT_LEN];
	va_list ap;
	int k;

	if (ev->event != MT_EVENT_CRYPTO_P2P) {
		ev->event = MT_EVENT_CRYPTO_P2P;
		ev->version++;
	}
	MT_EV_SET(ev, protocol, proto, strlen(proto));
	MT_EV_SET(ev, coin, coin, strlen(coin));
	if (ev->confidence != conf) {
		ev->confidence = conf;
		ev->version++;
	}
	va_start(ap, fmt);
	k = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (k < 0)
		k = 0;
	if ((size_t)k >= sizeof text)
		k = (int)sizeof text - 1;
	MT_EV_SET(ev, evidence, text, (size_t)k);
}

static uint32_t be32_at(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * ---- a walker over length-framed messages --------------------------------
 *
 * Bitcoin and levin frame every message as header + length, so one walker
 * serves both: it follows each direction message by message, skips payloads
 * it need not read, and when a direction starts mid-message (capture began
 * mid-connection) or after a hole in the capture, searches for the next
 * header within a budget.
 */
enum { W_MORE = 0, W_OK = 1, W_BAD = 2 };

struct wdir {
	uint32_t off;         /* start of the next message; may pass len while a payload is skipped */
	uint32_t scan;        /* resync: no header starts in [resync_from, scan) */
	uint32_t resync_from; /* where the current search began */
	uint32_t gap_seen;    /* last gap_off acted on */
	uint16_t msgs;        /* complete messages (saturating) */
	uint16_t since_sync;  /* complete messages since a header was found by search */
	uint8_t seen;         /* first bytes of this direction looked at */
	uint8_t resync;       /* searching for a header */
	uint8_t searched;     /* off was found by search (may be a false start) */
	uint8_t done;         /* read no more of this direction */
};

struct walker {
	struct wdir d[2];
	uint8_t header_ok; /* a decisive header seen */
	uint8_t excluded;
};

struct walk_ops {
	uint32_t probe_len;  /* bytes a probe needs */
	uint32_t resync_max; /* bytes searched before giving up on a direction */
	uint32_t anchor_off; /* every header has the byte anchor at this offset ... */
	uint8_t anchor;      /* ... so the search jumps between its occurrences (memchr) */
	/* 1 if a plausible header starts at p (n >= probe_len). */
	int (*probe)(void *ctx, const uint8_t *p, size_t n);
	/*
	 * Reads the message at p (avail bytes in the buffer, stream offset off).
	 * Returns W_MORE (need more bytes), W_BAD (not a message), or W_OK with
	 * *total = header + payload length (the payload may lie past avail).
	 */
	int (*msg)(void *ctx, int dir, uint32_t off, const uint8_t *p, size_t avail, int eof,
		   uint32_t *total);
};

static void walk_start_resync(struct wdir *ds, uint32_t at)
{
	ds->off = at;
	ds->scan = at;
	ds->resync_from = at;
	ds->resync = 1;
}

/* Searches [scan, end) for a header; returns 1 when off is set on one. */
static int walk_resync(const struct walk_ops *ops, void *ctx, struct wdir *ds,
		       const uint8_t *data, uint32_t end)
{
	uint32_t k = ds->scan > ds->off ? ds->scan : ds->off;

	if (k > end)
		return 0;
	while (end - k >= ops->probe_len) {
		const uint8_t *a;

		if (k - ds->resync_from > ops->resync_max) {
			ds->done = 1;
			return 0;
		}
		/* the next offset whose anchor byte is right; probe_len > anchor_off */
		a = memchr(data + k + ops->anchor_off, ops->anchor, end - k - ops->anchor_off);
		if (!a) {
			k = end - ops->probe_len + 1;
			break;
		}
		k = (uint32_t)(a - data) - ops->anchor_off;
		if (end - k < ops->probe_len)
			break;
		if (ops->probe(ctx, data + k, end - k)) {
			ds->off = k;
			ds->scan = k;
			ds->resync = 0;
			ds->searched = 1;
			ds->since_sync = 0;
			return 1;
		}
		k++;
	}
	ds->scan = k;
	if (k - ds->resync_from > ops->resync_max)
		ds->done = 1;
	return 0;
}

/*
 * Walks the messages that end at or before end. eof: no byte will follow
 * end; at_gap: a hole follows end, so a message cut there is lost, not wrong.
 */
static void walk_span(struct walker *w, const struct walk_ops *ops, void *ctx, int dir,
		      const uint8_t *data, uint32_t end, int eof, int at_gap)
{
	struct wdir *ds = &w->d[dir];

	while (!ds->done && !w->excluded) {
		uint32_t total = 0;
		int r;

		if (ds->resync && !walk_resync(ops, ctx, ds, data, end))
			return;
		if (ds->off >= end)
			return;
		r = ops->msg(ctx, dir, ds->off, data + ds->off, end - ds->off, eof, &total);
		if (r == W_MORE)
			return;
		if (r == W_BAD) {
			if (at_gap)
				return; /* the caller searches again after the hole */
			if (ds->searched && ds->since_sync == 0) {
				/* the header found by search was a false start: search on */
				ds->resync = 1;
				ds->scan = ds->off + 1;
				continue;
			}
			ds->done = 1;
			if (!w->header_ok)
				w->excluded = 1; /* bytes where a header must be, and none is */
			return;
		}
		if (ds->msgs < UINT16_MAX)
			ds->msgs++;
		if (ds->since_sync < UINT16_MAX)
			ds->since_sync++;
		ds->off += total;
	}
}

static void walk_dir(struct walker *w, const struct walk_ops *ops, void *ctx,
		     const mt_flow_view *fv, const mt_pkt_view *pv, int dir)
{
	struct wdir *ds = &w->d[dir];
	uint32_t len = fv->len[dir];
	uint32_t g = fv->gap_off[dir];
	const uint8_t *data = fv->data[dir];
	int eof = fv->fin[dir] || pv->flow_end;

	if (ds->done || !data || len == 0)
		return;
	if (!ds->seen) {
		ds->seen = 1;
		if (fv->midstream[dir])
			walk_start_resync(ds, 0); /* the first bytes may be mid-message */
	}
	if (g != 0 && g != ds->gap_seen) {
		ds->gap_seen = g;
		if (g <= len) {
			/* messages wholly before the hole stand; offsets past it mean nothing */
			if (g > ds->off || ds->resync)
				walk_span(w, ops, ctx, dir, data, g, 1, 1);
			if (ds->done || w->excluded)
				return;
			walk_start_resync(ds, g);
		}
	}
	walk_span(w, ops, ctx, dir, data, len, eof, 0);
	if (!ds->done && (fv->capped[dir] || eof) && ds->off >= len && !ds->resync)
		ds->done = 1; /* the rest of a payload will never be kept */
}

/*
 * The prefilters' view of walk_dir's first step in one direction: with
 * header_ok still 0, a direction seen from its start (no hole before byte
 * `need`) whose first bytes cannot open a header is W_BAD at offset 0, and
 * the walker excludes the flow. bad(p, n) says so from the first n >= 1
 * bytes. Returns -1 (excluded), 1 (bytes, maybe a header) or 0 (no bytes).
 */
static int walk_first(const mt_flow_view *fv, int dir, uint32_t need,
		      int (*bad)(const mt_flow_view *fv, const uint8_t *p, uint32_t n))
{
	uint32_t len = fv->data[dir] ? fv->len[dir] : 0;

	if (len == 0)
		return 0;
	if (fv->midstream[dir] || fv->gap_off[dir] != 0)
		return 1; /* searched with a resync, or cut by a hole: not judged here */
	return bad(fv, fv->data[dir], len < need ? len : need) ? -1 : 1;
}

/*
 * Walkers read the client's direction, then the server's: the server's first
 * bytes exclude only while the client's said nothing. Not TCP: excluded.
 */
static int walk_prefilter(const mt_flow_view *fv, uint32_t need,
			  int (*bad)(const mt_flow_view *fv, const uint8_t *p, uint32_t n))
{
	int c;

	if (fv->l4proto != 6)
		return MT_EXCLUDED;
	c = walk_first(fv, 0, need, bad);
	if (c < 0 || (c == 0 && walk_first(fv, 1, need, bad) < 0))
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

/* ---- bitcoin-p2p --------------------------------------------------------- */

#define BTC_HDR 24u
#define BTC_HDR_LEGACY 20u /* before protocol 209: no checksum */
#define BTC_CMD_LEN 12u
#define BTC_VERSION_MIN_LEN 46u   /* version, services, timestamp, addr_recv */
#define BTC_VERSION_MAX 10000000  /* protocol versions are 1 .. 70016 today */

struct btc_net {
	uint32_t magic; /* the 4 wire bytes read big-endian */
	const char *network;
	const char *coin;
};

/* Network magics (chainparams.cpp pchMessageStart of each project). */
static const struct btc_net btc_nets[] = {
	{ 0xf9beb4d9u, "bitcoin-mainnet", "BTC" },
	{ 0x0b110907u, "bitcoin-testnet3", "BTC" },
	{ 0x1c163f28u, "bitcoin-testnet4", "BTC" },
	{ 0xfabfb5dau, "bitcoin-regtest", "BTC" },
	{ 0x0a03cf40u, "bitcoin-signet", "BTC" },
	{ 0xfbc0b6dbu, "litecoin-mainnet", "LTC" },
	{ 0xfdd2c8f1u, "litecoin-testnet", "LTC" },
	{ 0xf9beb4feu, "namecoin-mainnet", "NMC" },
	{ 0xc0c0c0c0u, "dogecoin-mainnet", "DOGE" },
	{ 0xfcc1b7dcu, "dogecoin-testnet", "DOGE" },
	{ 0xe3e1f3e8u, "bitcoincash-mainnet", "BCH" },
	{ 0xf4e5f3f4u, "bitcoincash-testnet", "BCH" },
};

/* Message types of Bitcoin Core (protocol.h NetMsgType) and of the forks with these magics. */
static const char *const btc_cmds[] = {
	"version", "verack", "addr", "addrv2", "sendaddrv2", "inv", "getdata", "merkleblock",
	"getblocks", "getheaders", "tx", "headers", "block", "getaddr", "mempool", "ping",
	"pong", "notfound", "filterload", "filteradd", "filterclear", "sendheaders",
	"feefilter", "sendcmpct", "cmpctblock", "getblocktxn", "blocktxn", "getcfilters",
	"cfilter", "getcfheaders", "cfheaders", "getcfcheckpt", "cfcheckpt", "wtxidrelay",
	"sendtxrcncl", "reject", "alert", "checkorder", "submitorder", "reply",
	"mwebheader", "mwebleafset", "getmwebutxos", "mwebutxos", /* Litecoin MWEB */
	"xversion", "xverack", "xupdate", "extversion", "dsproof-beta", /* Bitcoin Cash nodes */
};

#define N_BTC_CMDS (sizeof btc_cmds / sizeof btc_cmds[0])

struct btc_dir_info {
	uint32_t ver_off; /* stream offset of this direction's version payload (0: none) */
	uint32_t ver_len;
	uint8_t version;  /* a well-formed version message seen */
	uint8_t verack;
	uint8_t legacy;   /* version/verack came without checksum */
};

typedef struct btc_state {
	struct walker w;
	struct btc_dir_info di[2];
	uint32_t magic;
	char network[32];
	char coin[16];
	char first_cmd[BTC_CMD_LEN + 1];    /* the first decisive command */
	char verified_cmd[BTC_CMD_LEN + 1]; /* the first command whose checksum verified */
	uint8_t have_net;
	uint8_t verified;   /* checksums verified (saturating) */
	uint8_t verify_used;  /* checksums computed outside version messages */
	uint8_t detected;
} btc_state;

struct btc_ctx {
	btc_state *st;
	const mt_flow_view *fv;
};

/* Known network of a magic: the built-in table, then the signature set. */
static int btc_lookup(const mt_flow_view *fv, uint32_t magic, const char **network, const char **coin)
{
	for (size_t i = 0; i < sizeof btc_nets / sizeof btc_nets[0]; i++) {
		if (btc_nets[i].magic == magic) {
			*network = btc_nets[i].network;
			*coin = btc_nets[i].coin;
			return 1;
		}
	}
	if (fv->sigs && mt_sigs_p2p_magic) {
		const mt_sigs_magic *m = mt_sigs_p2p_magic(fv->sigs, magic);

		if (m) {
			*network = m->network;
			*coin = m->coin;
			return 1;
		}
	}
	return 0;
}

/* Length of a well-formed command (printable ASCII then NUL padding only), or 0. */
static size_t btc_cmd_len(const uint8_t *c)
{
	size_t n = 0;

	while (n < BTC_CMD_LEN && c[n]) {
		if (c[n] <= 0x20 || c[n] >= 0x7f)
			return 0;
		n++;
	}
	for (size_t k = n; k < BTC_CMD_LEN; k++)
		if (c[k])
			return 0;
	return n;
}

static int btc_cmd_known(const uint8_t *c, size_t n)
{
	for (size_t i = 0; i < N_BTC_CMDS; i++)
		if (strlen(btc_cmds[i]) == n && memcmp(btc_cmds[i], c, n) == 0)
			return 1;
	return 0;
}

static int btc_cmd_is(const uint8_t *c, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(c, name, n) == 0;
}

struct btc_version {
	int32_t version;
	const uint8_t *agent;
	size_t agent_len;
	int32_t height;
	int has_agent;
};

/* Bitcoin CompactSize (the var_int of the protocol documentation); sets the sticky error on a short read. */
static uint64_t btc_compact(mt_rd *r)
{
	uint8_t b = mt_rd_u8(r);

	if (b < 0xfd)
		return b;
	if (b == 0xfd)
		return mt_rd_le16(r);
	if (b == 0xfe)
		return mt_rd_le32(r);
	return mt_rd_le64(r);
}

/* 1 if p[0, n) is a well-formed version payload; fills v. */
static int btc_parse_version(const uint8_t *p, size_t n, struct btc_version *v)
{
	mt_rd r;
	uint64_t alen;

	memset(v, 0, sizeof *v);
	if (n < BTC_VERSION_MIN_LEN || n > MT_BTC_VERSION_MAX_LEN)
		return 0;
	mt_rd_init(&r, p, n);
	v->version = (int32_t)mt_rd_le32(&r);
	mt_rd_skip(&r, 8);  /* services */
	mt_rd_skip(&r, 8);  /* timestamp */
	mt_rd_skip(&r, 26); /* addr_recv: services, IPv6-mapped address, port */
	if (r.err || v->version < 1 || v->version > BTC_VERSION_MAX)
		return 0;
	if (v->version < 106)
		return 1; /* the message ends here in the oldest protocol */
	mt_rd_skip(&r, 26); /* addr_from */
	mt_rd_skip(&r, 8);  /* nonce */
	alen = btc_compact(&r);
	if (r.err || alen > MT_BTC_AGENT_MAX)
		return 0;
	v->agent = mt_rd_ptr(&r, (size_t)alen);
	v->agent_len = (size_t)alen;
	v->height = (int32_t)mt_rd_le32(&r);
	if (r.err)
		return 0;
	v->has_agent = 1;
	return 1; /* the relay flag (BIP 37) and later fields are optional */
}

static int btc_checksum_ok(const uint8_t *payload, uint32_t len, const uint8_t *sum)
{
	uint8_t h[MT_P2P_HASH_LEN];

	mt_p2p_sha256d(payload, len, h);
	return memcmp(h, sum, 4) == 0;
}

/* The checksum of an empty payload: SHA256d("")[0..4]. */
static const uint8_t btc_empty_sum[4] = { 0x5d, 0xf6, 0xe0, 0xe2 };

static int btc_probe(void *vctx, const uint8_t *p, size_t n)
{
	struct btc_ctx *c = vctx;
	const char *net, *coin;
	size_t cl;

	(void)n;
	/*
	 * Cheap filters before the table lookups, as this runs at every offset
	 * searched: commands are lower-case words of at most 11 letters (the
	 * one 12-letter command, getcfcheckpt, is rare enough to wait for the
	 * next message), so the command field ends with a NUL.
	 */
	if (p[15] != 0 || p[4] < 'a' || p[4] > 'z')
		return 0;
	cl = btc_cmd_len(p + 4);
	if (cl == 0 || !btc_cmd_known(p + 4, cl) || le32_at(p + 16) > MT_BTC_MAX_PAYLOAD)
		return 0;
	return btc_lookup(c->fv, be32_at(p), &net, &coin);
}

static void btc_set_net(btc_state *st, uint32_t magic, const char *network, const char *coin)
{
	st->magic = magic;
	st->have_net = 1;
	snprintf(st->network, sizeof st->network, "%s", network);
	snprintf(st->coin, sizeof st->coin, "%s", coin);
}

static void btc_copy_cmd(char *dst, const uint8_t *c, size_t n)
{
	memcpy(dst, c, n);
	dst[n] = '\0';
}

/* Records a header that decides: a known magic and a known command. */
static void btc_header_ok(btc_state *st, uint32_t magic, const char *net, const char *coin,
			  const uint8_t *cmd, size_t cl)
{
	if (!st->have_net)
		btc_set_net(st, magic, net, coin);
	if (!st->w.header_ok) {
		st->w.header_ok = 1;
		btc_copy_cmd(st->first_cmd, cmd, cl);
	}
}

/* The fixed part of a header, as read. */
struct btc_hdr {
	uint32_t magic;
	uint32_t len;
	const char *net;
	const char *coin;
	const uint8_t *cmd;
	size_t cl;
	int known;
};

/* Waits for more bytes; a complete 24-byte header of a known command decides meanwhile. */
static int btc_wait(btc_state *st, const struct btc_hdr *h, size_t avail)
{
	if (h->known && avail >= BTC_HDR)
		btc_header_ok(st, h->magic, h->net, h->coin, h->cmd, h->cl);
	return W_MORE;
}

static int btc_msg(void *vctx, int dir, uint32_t off, const uint8_t *p, size_t avail, int eof,
		   uint32_t *total)
{
	struct btc_ctx *c = vctx;
	btc_state *st = c->st;
	struct btc_dir_info *di = &st->di[dir];
	struct btc_hdr h;
	uint32_t hdr = BTC_HDR;
	int is_version, is_verack, checked = 0;

	if (avail < 4)
		return eof ? W_BAD : W_MORE;
	h.magic = be32_at(p);
	if (!btc_lookup(c->fv, h.magic, &h.net, &h.coin))
		return W_BAD;
	if (st->have_net && h.magic != st->magic)
		return W_BAD; /* one connection speaks one network */
	if (avail < BTC_HDR_LEGACY)
		return eof ? W_BAD : W_MORE;
	h.cmd = p + 4;
	h.cl = btc_cmd_len(h.cmd);
	h.len = le32_at(p + 16);
	if (h.cl == 0 || h.len > MT_BTC_MAX_PAYLOAD)
		return W_BAD;
	is_version = btc_cmd_is(h.cmd, h.cl, "version");
	is_verack = btc_cmd_is(h.cmd, h.cl, "verack");
	if (is_verack && h.len != 0)
		return W_BAD;
	if (is_version && (h.len < BTC_VERSION_MIN_LEN || h.len > MT_BTC_VERSION_MAX_LEN))
		return W_BAD;
	h.known = btc_cmd_known(h.cmd, h.cl);

	if (is_verack) {
		if (avail >= BTC_HDR && memcmp(p + 20, btc_empty_sum, 4) == 0)
			checked = 1;
		else if (avail >= BTC_HDR && be32_at(p + 20) == h.magic)
			hdr = BTC_HDR_LEGACY; /* no checksum: the next message follows at once */
		else if (avail >= BTC_HDR)
			return W_BAD;
		else if (eof)
			hdr = BTC_HDR_LEGACY;
		else
			return btc_wait(st, &h, avail);
	} else if (is_version) {
		struct btc_version v;

		if (avail - BTC_HDR_LEGACY < h.len)
			return eof ? W_BAD : btc_wait(st, &h, avail);
		if (avail >= BTC_HDR && avail - BTC_HDR >= h.len &&
		    btc_checksum_ok(p + BTC_HDR, h.len, p + 20)) {
			checked = 1;
		} else if (btc_parse_version(p + BTC_HDR_LEGACY, h.len, &v)) {
			/* a legacy header: what follows must be the next message, or nothing yet */
			size_t after = avail - BTC_HDR_LEGACY - h.len;

			if (after >= 4 && be32_at(p + BTC_HDR_LEGACY + h.len) != h.magic)
				return W_BAD;
			if (after > 0 && after < 4 && !eof)
				return btc_wait(st, &h, avail);
			hdr = BTC_HDR_LEGACY;
		} else if (avail >= BTC_HDR && avail - BTC_HDR >= h.len) {
			return W_BAD; /* neither a valid checksum nor a legacy version */
		} else {
			return eof ? W_BAD : btc_wait(st, &h, avail);
		}
	} else {
		if (avail < BTC_HDR)
			return eof ? W_BAD : W_MORE;
		/* checksums of small messages, until the flow is decided or a few matched */
		if (h.len <= MT_BTC_VERIFY_SPAN && (!st->detected || st->verify_used < MT_BTC_VERIFY_MAX)) {
			if (avail - BTC_HDR >= h.len) {
				if (!btc_checksum_ok(p + BTC_HDR, h.len, p + 20))
					return W_BAD;
				checked = 1;
				if (st->verify_used < UINT8_MAX)
					st->verify_used++;
			} else if (!eof && !c->fv->capped[dir]) {
				return btc_wait(st, &h, avail); /* the checksum comes with the payload */
			}
		}
	}

	if (h.known)
		btc_header_ok(st, h.magic, h.net, h.coin, h.cmd, h.cl);
	else if (!st->have_net)
		btc_set_net(st, h.magic, h.net, h.coin);
	if (checked) {
		if (!st->verified_cmd[0])
			btc_copy_cmd(st->verified_cmd, h.cmd, h.cl);
		if (st->verified < UINT8_MAX)
			st->verified++;
	}
	if (hdr == BTC_HDR_LEGACY)
		di->legacy = 1;
	if (is_version && !di->version) {
		struct btc_version v;

		if (btc_parse_version(p + hdr, h.len, &v)) {
			di->version = 1;
			di->ver_off = off + hdr;
			di->ver_len = h.len;
		}
	}
	if (is_verack)
		di->verack = 1;
	*total = hdr + h.len;
	return W_OK;
}

static const struct walk_ops btc_ops = {
	.probe_len = BTC_HDR_LEGACY,
	.resync_max = MT_BTC_RESYNC_MAX,
	.anchor_off = 15, /* the command field's last byte: NUL padding (see btc_probe) */
	.anchor = 0x00,
	.probe = btc_probe,
	.msg = btc_msg,
};

/* The agent of a direction's version message, if it had one in the bytes still kept. */
static int btc_agent(const mt_flow_view *fv, const btc_state *st, int dir, struct btc_version *v)
{
	const struct btc_dir_info *di = &st->di[dir];

	if (!di->version || !fv->data[dir] || fv->len[dir] < di->ver_off ||
	    fv->len[dir] - di->ver_off < di->ver_len)
		return 0;
	return btc_parse_version(fv->data[dir] + di->ver_off, di->ver_len, v) && v->has_agent &&
	       v->agent_len > 0;
}

/* "bitcoin-mainnet" -> "bitcoin-p2p" */
static void btc_proto(const btc_state *st, char *out, size_t cap)
{
	size_t n = strcspn(st->network, "-");

	snprintf(out, cap, "%.*s-p2p", (int)n, st->network);
}

static void btc_fill(const btc_state *st, const mt_flow_view *fv, mt_evidence *ev)
{
	char proto[MT_EV_PROTO_LEN], how[96], peer[80];
	int both = st->di[0].version && st->di[1].version && st->di[0].verack && st->di[1].verack;
	double conf = (st->verified || both) ? CONF_CONFIRMED : CONF_HEADER;
	struct btc_version v0, v1;
	int a0 = btc_agent(fv, st, 0, &v0);
	int a1 = btc_agent(fv, st, 1, &v1);

	/* the initiator's software names the node behind the flow; else its peer's */
	if (a0)
		MT_EV_SET(ev, agent, (const char *)v0.agent, v0.agent_len);
	else if (a1)
		MT_EV_SET(ev, agent, (const char *)v1.agent, v1.agent_len);
	btc_proto(st, proto, sizeof proto);
	if (st->verified && both)
		snprintf(how, sizeof how, "%s with a valid checksum; version and verack both ways",
			 st->verified_cmd);
	else if (st->verified)
		snprintf(how, sizeof how, "%s with a valid checksum", st->verified_cmd);
	else if (both)
		snprintf(how, sizeof how, "version and verack both ways%s",
			 (st->di[0].legacy || st->di[1].legacy) ? " (pre-209 headers)" : "");
	else
		snprintf(how, sizeof how, "%s header", st->first_cmd);
	peer[0] = '\0';
	if (a0 && a1)
		snprintf(peer, sizeof peer, "; peer agent %.*s", (int)(v1.agent_len > 60 ? 60 : v1.agent_len),
			 (const char *)v1.agent);
	ev_fill(ev, proto, st->coin, conf, "%s: magic %08x (%s), %s%s", proto, st->magic, st->network,
		how, peer);
}

static int btc_on_packet(void *global, void *state, const mt_flow_view *fv, const mt_pkt_view *pv,
			 mt_evidence *ev)
{
	btc_state *st = state;
	struct btc_ctx c = { st, fv };

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->w.excluded)
		return MT_EXCLUDED;
	if (fv->l4proto != 6) {
		st->w.excluded = 1;
		return MT_EXCLUDED;
	}
	walk_dir(&st->w, &btc_ops, &c, fv, pv, 0);
	walk_dir(&st->w, &btc_ops, &c, fv, pv, 1);
	if (st->w.header_ok) {
		st->detected = 1;
		btc_fill(st, fv, ev);
		return MT_DETECTED;
	}
	if (st->w.excluded || (st->w.d[0].done && st->w.d[1].done) || pv->flow_end) {
		st->w.excluded = 1;
		return MT_EXCLUDED;
	}
	return MT_UNDECIDED;
}

/* btc_msg's first test: a header opens with a known network magic (4 bytes; fewer: maybe). */
static int btc_first_bad(const mt_flow_view *fv, const uint8_t *p, uint32_t n)
{
	const char *net, *coin;

	return n >= 4 && !btc_lookup(fv, be32_at(p), &net, &coin);
}

/* API 3: the first bytes of a direction seen from its start are not a known network magic. */
static int btc_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	return walk_prefilter(fv, 4, btc_first_bad);
}

static const mt_detector det_bitcoin = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "bitcoin-p2p",
	.description = "Bitcoin-family node wire protocol (magic, command, checksum; BTC LTC NMC DOGE BCH)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_BTC_MAX_PACKETS,
	.state_size = sizeof(btc_state),
	.on_packet = btc_on_packet,
	.prefilter = btc_prefilter,
};

/* ---- monero-levin -------------------------------------------------------- */

#define LEVIN_HDR 33u
#define LEVIN_FLAG_REQUEST 0x1u
#define LEVIN_FLAG_RESPONSE 0x2u
#define LEVIN_FLAG_BEGIN 0x4u
#define LEVIN_FLAG_END 0x8u
#define LEVIN_VER_MAX 1u

/* bucket_head2.m_signature = LEVIN_SIGNATURE 0x0101010101012101, little-endian */
static const uint8_t levin_sig[8] = { 0x01, 0x21, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 };
/* portable storage: PORTABLE_STORAGE_SIGNATUREA 0x01011101, SIGNATUREB 0x01020101, FORMAT_VER 1 */
static const uint8_t levin_storage_sig[9] = { 0x01, 0x11, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01 };

struct levin_cmd {
	uint32_t id;
	const char *name;
};

static const struct levin_cmd levin_cmds[] = {
	{ 1001, "handshake" }, { 1002, "timed_sync" }, { 1003, "ping" },
	{ 1004, "stat_info" }, { 1005, "network_state" }, { 1006, "peer_id" },
	{ 1007, "support_flags" },
	{ 2001, "new_block" }, { 2002, "new_transactions" }, { 2003, "request_get_objects" },
	{ 2004, "response_get_objects" }, { 2006, "request_chain" },
	{ 2007, "response_chain_entry" }, { 2008, "new_fluffy_block" },
	{ 2009, "request_fluffy_missing_tx" }, { 2010, "get_txpool_complement" },
};

typedef struct levin_state {
	struct walker w;
	uint32_t first_cmd;
	uint32_t first_flags;
	uint32_t req[2];       /* last request command per direction (0: none) */
	uint32_t answered_cmd; /* a request answered by a response (0: none) */
	uint8_t storage;       /* a body with the portable-storage signature */
	uint8_t detected;
} levin_state;

static const char *levin_name(uint32_t cmd)
{
	for (size_t i = 0; i < sizeof levin_cmds / sizeof levin_cmds[0]; i++)
		if (levin_cmds[i].id == cmd)
			return levin_cmds[i].name;
	return NULL;
}

struct levin_hdr {
	uint64_t body;
	uint8_t have_to_return;
	uint32_t cmd;
	uint32_t flags;
	uint32_t ver;
};

/* Returns W_OK for a valid header (33 bytes), W_MORE if p is a prefix of one, else W_BAD. */
static int levin_header(const uint8_t *p, size_t avail, struct levin_hdr *h)
{
	mt_rd r;

	if (memcmp(p, levin_sig, avail < 8 ? avail : 8) != 0)
		return W_BAD;
	if (avail < LEVIN_HDR)
		return W_MORE;
	mt_rd_init(&r, p, LEVIN_HDR);
	mt_rd_skip(&r, 8);
	h->body = mt_rd_le64(&r);
	h->have_to_return = mt_rd_u8(&r);
	h->cmd = mt_rd_le32(&r);
	mt_rd_skip(&r, 4); /* return code */
	h->flags = mt_rd_le32(&r);
	h->ver = mt_rd_le32(&r);
	if (r.err || h->body > MT_LEVIN_MAX_BODY || h->have_to_return > 1 || h->ver > LEVIN_VER_MAX)
		return W_BAD;
	if (h->flags & ~0xFu)
		return W_BAD;
	if ((h->flags & (LEVIN_FLAG_REQUEST | LEVIN_FLAG_RESPONSE)) ==
	    (LEVIN_FLAG_REQUEST | LEVIN_FLAG_RESPONSE))
		return W_BAD;
	if (h->flags == 0)
		return W_BAD;
	return W_OK;
}

static int levin_probe(void *vctx, const uint8_t *p, size_t n)
{
	struct levin_hdr h;

	(void)vctx;
	return p[0] == 0x01 && p[1] == 0x21 && levin_header(p, n, &h) == W_OK && levin_name(h.cmd);
}

static int levin_msg(void *vctx, int dir, uint32_t off, const uint8_t *p, size_t avail, int eof,
		     uint32_t *total)
{
	levin_state *st = vctx;
	struct levin_hdr h;
	int r = levin_header(p, avail, &h);

	(void)off;
	if (r == W_MORE)
		return eof ? W_BAD : W_MORE;
	if (r == W_BAD)
		return W_BAD;
	if (levin_name(h.cmd)) {
		if (!st->w.header_ok) {
			st->w.header_ok = 1;
			st->first_cmd = h.cmd;
			st->first_flags = h.flags;
		}
		if (h.flags & LEVIN_FLAG_REQUEST)
			st->req[dir] = h.cmd;
		else if ((h.flags & LEVIN_FLAG_RESPONSE) && st->req[!dir] == h.cmd && !st->answered_cmd)
			st->answered_cmd = h.cmd;
	}
	if (!st->storage && h.body >= sizeof levin_storage_sig &&
	    avail - LEVIN_HDR < sizeof levin_storage_sig && !eof)
		return W_MORE; /* the body's first bytes tell its encoding */
	if (!st->storage && h.body >= sizeof levin_storage_sig &&
	    avail - LEVIN_HDR >= sizeof levin_storage_sig &&
	    memcmp(p + LEVIN_HDR, levin_storage_sig, sizeof levin_storage_sig) == 0)
		st->storage = 1;
	*total = LEVIN_HDR + (uint32_t)h.body;
	return W_OK;
}

static const struct walk_ops levin_ops = {
	.probe_len = LEVIN_HDR,
	.resync_max = MT_LEVIN_RESYNC_MAX,
	.anchor_off = 1, /* the signature's one 0x21 byte */
	.anchor = 0x21,
	.probe = levin_probe,
	.msg = levin_msg,
};

static void levin_fill(const levin_state *st, mt_evidence *ev)
{
	const char *name = levin_name(st->first_cmd);
	const char *kind = (st->first_flags & LEVIN_FLAG_REQUEST) ? "request"
			   : (st->first_flags & LEVIN_FLAG_RESPONSE) ? "response" : "fragment";
	double conf = (st->answered_cmd || st->storage) ? CONF_CONFIRMED : CONF_HEADER;
	char ans[64];

	ans[0] = '\0';
	if (st->answered_cmd)
		snprintf(ans, sizeof ans, ", %s request answered", levin_name(st->answered_cmd));
	ev_fill(ev, "monero-levin", "XMR", conf, "monero-levin: levin %s %s (command %u)%s%s",
		name ? name : "?", kind, st->first_cmd, ans,
		st->storage ? ", portable-storage body" : "");
}

static int levin_on_packet(void *global, void *state, const mt_flow_view *fv, const mt_pkt_view *pv,
			   mt_evidence *ev)
{
	levin_state *st = state;

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->w.excluded)
		return MT_EXCLUDED;
	if (fv->l4proto != 6) {
		st->w.excluded = 1;
		return MT_EXCLUDED;
	}
	walk_dir(&st->w, &levin_ops, st, fv, pv, 0);
	walk_dir(&st->w, &levin_ops, st, fv, pv, 1);
	if (st->w.header_ok) {
		st->detected = 1;
		levin_fill(st, ev);
		return MT_DETECTED;
	}
	if (st->w.excluded || (st->w.d[0].done && st->w.d[1].done) || pv->flow_end) {
		st->w.excluded = 1;
		return MT_EXCLUDED;
	}
	return MT_UNDECIDED;
}

/* levin_header's first test: the bucket signature 0x0101010101012101 (little-endian), as far as it came. */
static int levin_first_bad(const mt_flow_view *fv, const uint8_t *p, uint32_t n)
{
	(void)fv;
	return memcmp(p, levin_sig, n < 8 ? n : 8) != 0;
}

/* API 3: the first bytes of a direction seen from its start are not the levin signature. */
static int levin_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	(void)global, (void)pv;
	return walk_prefilter(fv, 8, levin_first_bad);
}

static const mt_detector det_levin = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "monero-levin",
	.description = "Monero node levin protocol (bucket header, P2P and CryptoNote commands)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_LEVIN_MAX_PACKETS,
	.state_size = sizeof(levin_state),
	.on_packet = levin_on_packet,
	.prefilter = levin_prefilter,
};

/* ---- ethereum-devp2p (RLPx handshake) ------------------------------------ */

enum { RLPX_NONE = 0, RLPX_PRE_EIP8 = 1, RLPX_EIP8 = 2 };

typedef struct rlpx_state {
	uint32_t auth_len; /* whole auth message, size prefix included */
	uint32_t ack_len;
	uint8_t auth_kind;
	uint8_t ack_kind;
	uint8_t replied;   /* the recipient's first bytes were checked */
	uint8_t detected;
	uint8_t excluded;
} rlpx_state;

/*
 * An ECIES handshake message at the start of p: EIP-8 (size prefix in
 * [eip8_min, MT_RLPX_EIP8_MAX], then the key) or pre-EIP-8 (exactly
 * pre_len bytes from the key on). The ephemeral key must lie on secp256k1.
 * eof: no more bytes will come before the message must be complete.
 */
static int rlpx_msg(const uint8_t *p, size_t avail, int eof, uint32_t eip8_min, uint32_t pre_len,
		    uint8_t *kind, uint32_t *total)
{
	int r8 = W_BAD, r0 = W_BAD;

	if (avail < 3)
		return eof ? W_BAD : W_MORE;
	{
		uint32_t n = ((uint32_t)p[0] << 8) | p[1];

		if (p[2] == ECIES_KEY_TAG && n >= eip8_min && n <= MT_RLPX_EIP8_MAX) {
			if (avail - 2 < n) {
				r8 = eof ? W_BAD : W_MORE;
			} else if (mt_p2p_secp256k1_on_curve(p + 3)) {
				*kind = RLPX_EIP8;
				*total = 2 + n;
				return W_OK;
			}
		}
	}
	if (p[0] == ECIES_KEY_TAG) {
		if (avail < pre_len) {
			r0 = eof ? W_BAD : W_MORE;
		} else if (mt_p2p_secp256k1_on_curve(p + 1)) {
			*kind = RLPX_PRE_EIP8;
			*total = pre_len;
			return W_OK;
		}
	}
	return (r8 == W_MORE || r0 == W_MORE) ? W_MORE : W_BAD;
}

static const char *rlpx_kind(uint8_t k)
{
	return k == RLPX_EIP8 ? "EIP-8" : "pre-EIP-8";
}

static int rlpx_port(const mt_flow_view *fv)
{
	return fv->srv_port == RLPX_PORT || fv->srv_port == RLPX_PORT_ALT;
}

static int rlpx_exclude(rlpx_state *st)
{
	st->excluded = 1;
	return MT_EXCLUDED;
}

static int rlpx_decide(rlpx_state *st, const mt_flow_view *fv, mt_evidence *ev)
{
	int port = rlpx_port(fv);
	char on[32];

	on[0] = '\0';
	if (port)
		snprintf(on, sizeof on, " on port %u", fv->srv_port);
	if (st->ack_kind) {
		ev_fill(ev, "ethereum-devp2p", "ETH", port ? CONF_RLPX_PAIR_PORT : CONF_RLPX_PAIR,
			"ethereum-devp2p: RLPx %s auth (%u bytes, ephemeral key on secp256k1) answered by %s ack (%u bytes)%s",
			rlpx_kind(st->auth_kind), st->auth_len, rlpx_kind(st->ack_kind), st->ack_len, on);
	} else {
		/* an auth that nobody answered: only the exact shape speaks */
		if (!port && st->auth_kind != RLPX_EIP8)
			return rlpx_exclude(st);
		ev_fill(ev, "ethereum-devp2p", "ETH", port ? CONF_RLPX_AUTH_PORT : CONF_RLPX_AUTH_EIP8,
			"ethereum-devp2p: RLPx %s auth (%u bytes, ephemeral key on secp256k1), %s%s",
			rlpx_kind(st->auth_kind), st->auth_len,
			st->replied ? "answer cut short" : "no answer", on);
	}
	st->detected = 1;
	return MT_DETECTED;
}

static int rlpx_on_packet(void *global, void *state, const mt_flow_view *fv, const mt_pkt_view *pv,
			  mt_evidence *ev)
{
	rlpx_state *st = state;
	uint32_t len0, len1;
	int r;

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return MT_EXCLUDED;
	if (st->detected)
		return MT_DETECTED;
	if (fv->l4proto != 6)
		return rlpx_exclude(st);
	len0 = fv->data[0] ? fv->len[0] : 0;
	len1 = fv->data[1] ? fv->len[1] : 0;
	if (!st->auth_kind) {
		if (len0 == 0)
			return (len1 > 0 || pv->flow_end) ? rlpx_exclude(st) : MT_UNDECIDED; /* the initiator speaks first */
		/* once the recipient answered, the auth is as long as it will get */
		r = rlpx_msg(fv->data[0], len0, fv->fin[0] || pv->flow_end || len1 > 0,
			     MT_RLPX_AUTH_MIN, RLPX_PRE_EIP8_AUTH, &st->auth_kind, &st->auth_len);
		if (r == W_BAD)
			return rlpx_exclude(st);
		if (r == W_MORE)
			return MT_UNDECIDED;
		if (fv->gap_off[0] != 0 && fv->gap_off[0] < st->auth_len)
			return rlpx_exclude(st);
	}
	if (len1 == 0) {
		/* the initiator waits for the ack: more bytes before it is another protocol */
		if (len0 != st->auth_len)
			return rlpx_exclude(st);
		if (pv->flow_end || fv->fin[0] || fv->fin[1])
			return rlpx_decide(st, fv, ev);
		return MT_UNDECIDED;
	}
	if (!st->replied) {
		st->replied = 1;
		if (len0 != st->auth_len)
			return rlpx_exclude(st);
	}
	r = rlpx_msg(fv->data[1], len1, 0, MT_RLPX_ACK_MIN, RLPX_PRE_EIP8_ACK, &st->ack_kind,
		     &st->ack_len);
	if (r == W_BAD)
		return rlpx_exclude(st);
	if (r == W_MORE) {
		/* an answer cut short by the end of the capture: the auth speaks alone */
		if (fv->fin[1] || pv->flow_end)
			return rlpx_decide(st, fv, ev);
		return MT_UNDECIDED;
	}
	if (fv->gap_off[1] != 0 && fv->gap_off[1] < st->ack_len)
		return rlpx_exclude(st);
	return rlpx_decide(st, fv, ev);
}

/*
 * API 3: rlpx_on_packet's first rules: the initiator speaks first, and its
 * auth opens with the key tag, either at byte 0 (pre-EIP-8) or after a 2-byte
 * size in [MT_RLPX_AUTH_MIN, MT_RLPX_EIP8_MAX] (EIP-8). (The curve check
 * is on_packet's.)
 */
static int rlpx_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	const uint8_t *p = fv->data[0];
	uint32_t len0 = p ? fv->len[0] : 0, len1 = fv->data[1] ? fv->len[1] : 0;

	(void)global;
	if (fv->l4proto != 6)
		return MT_EXCLUDED;
	if (len0 == 0)
		return (len1 > 0 || pv->flow_end) ? MT_EXCLUDED : MT_UNDECIDED;
	if (len0 < 3 || p[0] == ECIES_KEY_TAG)
		return MT_UNDECIDED;
	if (p[2] == ECIES_KEY_TAG) {
		uint32_t n = ((uint32_t)p[0] << 8) | p[1];

		if (n >= MT_RLPX_AUTH_MIN && n <= MT_RLPX_EIP8_MAX)
			return MT_UNDECIDED;
	}
	return MT_EXCLUDED;
}

static const mt_detector det_rlpx = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "ethereum-devp2p",
	.description = "Ethereum RLPx handshake (EIP-8 or legacy auth/ack, secp256k1 ephemeral keys)",
	.wants = MT_WANT_TCP,
	.max_packets = MT_RLPX_MAX_PACKETS,
	.state_size = sizeof(rlpx_state),
	.on_packet = rlpx_on_packet,
	.prefilter = rlpx_prefilter,
};

/* ---- ethereum-discv4 ------------------------------------------------------ */

#define DISCV4_HASH 32u
#define DISCV4_SIG 65u
#define DISCV4_HEAD (DISCV4_HASH + DISCV4_SIG + 1u) /* hash, signature, packet-type */
#define RLP_LIST 0xc0u

static const char *const discv4_types[] = {
	NULL, "ping", "pong", "findnode", "neighbors", "enrrequest", "enrresponse",
};

#define DISCV4_NTYPES (sizeof discv4_types / sizeof discv4_types[0])

typedef struct discv4_state {
	uint16_t good;      /* packets whose hash verified */
	uint16_t first_len;
	uint8_t first_type;
	uint8_t types;      /* bit t: packet type t seen verified */
	uint8_t fails;
	uint8_t detected;
	uint8_t excluded;
} discv4_state;

/* The packet type if p is a discv4 packet whose hash verifies, else 0. */
static int discv4_check(const uint8_t *p, size_t n)
{
	uint8_t h[MT_P2P_HASH_LEN];
	uint8_t type;

	if (n < DISCV4_HEAD + 1 || n > MT_DISCV4_MAX_SIZE)
		return 0;
	type = p[DISCV4_HEAD - 1];
	/* cheap tests first: recovery id 0/1, a known type, an RLP list */
	if (p[DISCV4_HASH + DISCV4_SIG - 1] > 1 || type == 0 || type >= DISCV4_NTYPES ||
	    p[DISCV4_HEAD] < RLP_LIST)
		return 0;
	mt_p2p_keccak256(p + DISCV4_HASH, n - DISCV4_HASH, h);
	return memcmp(h, p, DISCV4_HASH) == 0 ? type : 0;
}

static void discv4_fill(const discv4_state *st, mt_evidence *ev)
{
	char seen[64];
	size_t o = 0;

	seen[0] = '\0';
	for (unsigned t = 1; t < DISCV4_NTYPES; t++) {
		if (!(st->types & (1u << t)))
			continue;
		int k = snprintf(seen + o, sizeof seen - o, "%s%s", o ? "," : "", discv4_types[t]);

		if (k < 0 || (size_t)k >= sizeof seen - o)
			break;
		o += (size_t)k;
	}
	ev_fill(ev, "ethereum-discv4", "ETH", CONF_DISCV4,
		"ethereum-discv4: %s packet (%u bytes) with a valid keccak256 hash; types seen %s",
		discv4_types[st->first_type], st->first_len, seen);
}

static int discv4_on_packet(void *global, void *state, const mt_flow_view *fv, const mt_pkt_view *pv,
			    mt_evidence *ev)
{
	discv4_state *st = state;
	int t;

	(void)global;
	if (!st || !fv || !pv || !ev)
		return MT_UNDECIDED;
	if (st->excluded)
		return MT_EXCLUDED;
	if (fv->l4proto != 17) {
		st->excluded = 1;
		return MT_EXCLUDED;
	}
	if (pv->flow_end || !pv->payload) {
		if (st->detected)
			return MT_DETECTED;
		st->excluded = 1;
		return MT_EXCLUDED;
	}
	t = discv4_check(pv->payload, pv->payload_len);
	if (t) {
		if (!st->detected) {
			st->first_type = (uint8_t)t;
			st->first_len = (uint16_t)pv->payload_len;
		}
		st->detected = 1;
		st->types |= (uint8_t)(1u << t);
		if (st->good < UINT16_MAX)
			st->good++;
	} else if (!st->detected && ++st->fails >= MT_DISCV4_TRIES) {
		st->excluded = 1;
		return MT_EXCLUDED;
	}
	if (!st->detected)
		return MT_UNDECIDED;
	discv4_fill(st, ev);
	return MT_DETECTED;
}

static const mt_detector det_discv4 = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "ethereum-discv4",
	.description = "Ethereum node discovery v4 (UDP; keccak256 packet hash verified)",
	.wants = MT_WANT_UDP,
	.max_packets = MT_DISCV4_MAX_PACKETS,
	.state_size = sizeof(discv4_state),
	.on_packet = discv4_on_packet,
};

/* ---- the plugin entry ------------------------------------------------------ */

static const mt_detector *const p2p_detectors[] = {
	&det_bitcoin, &det_levin, &det_rlpx, &det_discv4, NULL,
};

P2P_EXPORT const mt_detector *const *mt_plugin_detectors(void)
{
	return p2p_detectors;
}
