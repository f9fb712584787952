/* tls.c - names detector: TLS SNI and certificate names on the pool lists, TLS stratum attempts answered in plain JSON-RPC, browser-miner WebSockets, and flows to addresses a DNS answer or the address list names as a pool's. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "detect/builtin.h"
#include "detect/detector.h"
#include "detect/sigs.h"
#include "detect/tlsparse.h"

/*
 * Verdicts (protocol, confidence):
 *   tls-stratum-attempt 0.9  a ClientHello answered by Stratum's JSON-RPC error
 *                            (an "error" array): the miner tried stratum+ssl on a
 *                            pool that speaks plain stratum; 0.95 when a name (SNI,
 *                            certificate, DNS) is on a pool list; 0.8 for another
 *                            JSON-RPC reply on a port pools use (ports.txt); a
 *                            plain JSON-RPC 2.0 reply with none of these is not
 *                            reported
 *   webminer            0.9  WebSocket upgrade in clear to a browser-miner host;
 *                       0.85 TLS to a browser-miner host that carries many small
 *                            upstream records (the socket, not the script fetch)
 *   tls-pool            0.8  TLS 1.2 whose certificate names a pool; 0.75 TLS whose
 *                            SNI is a pool's (clients offering HTTP in ALPN are
 *                            browsers on the pool's web site: not reported)
 *   pool-address        0.5  no protocol recognised, but the server address was
 *                            named as a pool by a DNS answer (0.5) or is on the
 *                            address list (0.5; 0.6 with both); decided after
 *                            TLS_FALLBACK_PKTS payload packets or at the end, so
 *                            that protocol detectors answer first
 */

#define TLS_MAX_PACKETS 96u
#define TLS_FALLBACK_PKTS 8u     /* payload packets before an address-only verdict */
#define TLS_WS_MIN_RECORDS 12u   /* upstream application records that make a socket */
#define TLS_WS_MAX_RECORD 4096u  /* ... each no bigger than a WebSocket message of a miner */
#define TLS_HTTP_MAX_HEAD 4096u  /* request head looked at for an Upgrade */

enum { C_WAIT = 0, C_TLS, C_HTTP, C_OTHER };

typedef struct tls_state {
	uint8_t c;             /* what the client speaks (C_*) */
	uint8_t srv_done;      /* server's first bytes classified */
	uint8_t srv_json;      /* the server answered the hello with JSON-RPC */
	uint8_t srv_tls13;
	uint8_t decided;       /* a verdict was given */
	uint8_t webhost;       /* SNI on the browser-miner list */
	uint8_t addr_checked;  /* C_OTHER: the server address is named as a pool's (address_named) */
	uint32_t rec_off;      /* next upstream record to count (after the handshake) */
	uint32_t app_records;  /* upstream application-data records of miner size */
	uint32_t pkts;         /* payload packets seen */
	mt_tls_client_hello ch;
	char pool_name[MT_TLS_NAME_MAX + 1]; /* name that matched a pool list */
	char pool_coin[16];
	char via[8];           /* "sni", "cert", "dns" */
} tls_state;

static const char *pool_match(const mt_flow_view *fv, const char *host, const char **coin)
{
	if (!host || !host[0])
		return NULL;
	return mt_sigs_pool_domain(fv->sigs, host, strlen(host), coin);
}

static void keep_name(tls_state *st, const char *name, const char *coin, const char *via)
{
	if (st->pool_name[0])
		return;
	snprintf(st->pool_name, sizeof st->pool_name, "%s", name);
	snprintf(st->pool_coin, sizeof st->pool_coin, "%s", coin ? coin : "");
	snprintf(st->via, sizeof st->via, "%s", via);
}

static int verdict(tls_state *st, mt_evidence *ev, const char *proto, double conf,
		   const char *host, const char *coin, const char *text)
{
	ev->event = MT_EVENT_MINING;
	MT_EV_SET(ev, protocol, proto, strlen(proto));
	MT_EV_SET(ev, evidence, text, strlen(text));
	if (host && host[0])
		MT_EV_SET(ev, pool_host, host, strlen(host));
	if (coin && coin[0] && strcmp(coin, "multi") != 0)
		MT_EV_SET(ev, coin, coin, strlen(coin));
	if (ev->confidence != conf) {
		ev->confidence = conf;
		ev->version++;
	}
	st->decided = 1;
	return MT_DETECTED;
}

/*
 * The server's bytes look like a JSON-RPC reply: an object with "id" and
 * "error" or "result" (1), with Stratum v1's error array [code, "message",
 * traceback] (2). Plain JSON-RPC 2.0 errors also come from other services
 * (Electrum servers answer a stray ClientHello that way), so those count
 * only with other evidence of a pool.
 */
static int jsonrpc_reply(const uint8_t *d, uint32_t n)
{
	uint32_t i = 0, lim = n < 1024 ? n : 1024;

	while (i < lim && (d[i] == ' ' || d[i] == '\r' || d[i] == '\n' || d[i] == '\t'))
		i++;
	if (i >= lim || d[i] != '{')
		return 0;
	if (!memmem(d + i, lim - i, "\"id\"", 4) ||
	    (!memmem(d + i, lim - i, "\"error\"", 7) && !memmem(d + i, lim - i, "\"result\"", 8)))
		return 0;
	if (memmem(d + i, lim - i, "\"error\":[", 9) || memmem(d + i, lim - i, "\"error\": [", 10))
		return 2;
	return 1;
}

/* Upstream TLS records after the handshake: how many look like WebSocket messages of a miner. */
static void count_records(tls_state *st, const mt_flow_view *fv)
{
	const uint8_t *d = fv->data[0];
	uint32_t len = fv->len[0];

	if (fv->gap_off[0] && len > fv->gap_off[0])
		len = fv->gap_off[0];
	while (d && len >= st->rec_off && len - st->rec_off >= 5) {
		const uint8_t *h = d + st->rec_off;
		uint32_t rl = (uint32_t)h[3] << 8 | h[4];
		if (h[1] != 3) {
			st->rec_off = UINT32_MAX; /* lost the framing: stop counting */
			return;
		}
		if (h[0] == 23 && rl <= TLS_WS_MAX_RECORD)
			st->app_records++;
		st->rec_off += 5 + rl;
	}
}

/* Case-insensitive search of needle in [p, p+n). */
static const uint8_t *find_ci(const uint8_t *p, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; m <= n && i <= n - m; i++) {
		size_t k = 0;
		while (k < m && (p[i + k] | 0x20) == (needle[k] | 0x20))
			k++;
		if (k == m)
			return p + i;
	}
	return NULL;
}

/* A plain HTTP request head: a WebSocket Upgrade whose Host is a browser-miner's (or a pool's). */
static int http_ws(tls_state *st, const mt_flow_view *fv, mt_evidence *ev)
{
	const uint8_t *d = fv->data[0], *h, *end;
	uint32_t n = fv->len[0] < TLS_HTTP_MAX_HEAD ? fv->len[0] : TLS_HTTP_MAX_HEAD;
	char host[MT_TLS_NAME_MAX + 1], txt[MT_EV_TEXT_LEN];
	const char *coin = NULL, *hit;
	size_t hl = 0;

	end = memmem(d, n, "\r\n\r\n", 4);
	if (!end)
		return fv->len[0] >= TLS_HTTP_MAX_HEAD || fv->fin[0] ? MT_EXCLUDED : MT_UNDECIDED;
	n = (uint32_t)(end - d);
	if (!find_ci(d, n, "\r\nupgrade: websocket"))
		return MT_EXCLUDED;
	h = find_ci(d, n, "\r\nhost:");
	if (!h)
		return MT_EXCLUDED;
	h += 7;
	while (h < end && *h == ' ')
		h++;
	while (h + hl < end && h[hl] != '\r' && h[hl] != ':' && hl < MT_TLS_NAME_MAX)
		hl++;
	for (size_t i = 0; i < hl; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	host[hl] = '\0';
	hit = mt_sigs_webminer_host(fv->sigs, host, hl, &coin);
	if (!hit)
		hit = mt_sigs_pool_domain(fv->sigs, host, hl, &coin);
	if (!hit)
		return MT_EXCLUDED;
	snprintf(txt, sizeof txt, "WebSocket upgrade to %.80s (list entry %.40s)", host, hit);
	return verdict(st, ev, "webminer", 0.9, host, coin, txt);
}

/*
 * A client's first bytes that do not open a TLS record (d[0] != 22): an HTTP
 * request (C_HTTP), not yet known (C_WAIT), or something else (C_OTHER).
 */
static int client_plain(const mt_flow_view *fv)
{
	/* HTTP is the HTTP detector's; only a GET can be a WebSocket Upgrade. */
	static const char *const methods[] = {"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "DELETE ",
					      "PATCH ", "CONNECT "};
	const uint8_t *d = fv->data[0];

	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		size_t ml = strlen(methods[i]);
		if (fv->len[0] >= ml && memcmp(d, methods[i], ml) == 0)
			return C_HTTP;
		if (fv->len[0] < ml && memcmp(d, methods[i], fv->len[0]) == 0 && !fv->fin[0])
			return C_WAIT; /* a method may still be arriving */
	}
	return C_OTHER;
}

/* Client's first bytes: TLS ClientHello, an HTTP request, or something else. */
static void classify_client(tls_state *st, const mt_flow_view *fv)
{
	static _Thread_local uint8_t hs[MT_TLS_HS_MAX];
	const uint8_t *d = fv->data[0];
	int complete, n, r;

	if (!d || fv->len[0] == 0)
		return;
	if (fv->midstream[0]) {
		st->c = C_OTHER;
		return;
	}
	if (d[0] == 22) {
		n = mt_tls_flatten(d, fv->len[0], hs, sizeof hs, &complete);
		if (n < 0) {
			st->c = C_OTHER;
			return;
		}
		r = mt_tls_client_hello_parse(hs, (size_t)n, &st->ch);
		if (r == 0 && !complete && !fv->fin[0])
			return;
		if (r <= 0) {
			st->c = C_OTHER;
			return;
		}
		st->c = C_TLS;
		return;
	}
	st->c = (uint8_t)client_plain(fv);
}

/* Server's first bytes after a ClientHello: a JSON-RPC reply (plain stratum) or a TLS handshake. */
static void classify_server(tls_state *st, const mt_flow_view *fv)
{
	static _Thread_local uint8_t hs[MT_TLS_HS_MAX];
	static _Thread_local mt_tls_server sv;
	const uint8_t *d = fv->data[1];
	const char *coin;
	int complete, n, r;

	if (!d || fv->len[1] == 0 || fv->midstream[1])
		return;
	if (d[0] != 22) {
		st->srv_json = (uint8_t)jsonrpc_reply(d, fv->len[1]);
		if (!st->srv_json && d[0] == '{' && fv->len[1] < 64 && !fv->fin[1])
			return; /* the reply may still be arriving */
		st->srv_done = 1;
		return;
	}
	n = mt_tls_flatten(d, fv->len[1], hs, sizeof hs, &complete);
	if (n < 0) {
		st->srv_done = 1;
		return;
	}
	r = mt_tls_server_parse(hs, (size_t)n, &sv);
	if (r == 0 && !complete && !fv->fin[1])
		return;
	st->srv_done = 1;
	st->srv_tls13 = sv.tls13;
	if (r == 1 && sv.has_cert) {
		for (uint32_t i = 0; i < sv.nnames; i++) {
			const char *hit = pool_match(fv, sv.names[i], &coin);
			if (hit && sv.names[i][0] != '*') {
				keep_name(st, sv.names[i], coin, "cert");
				break;
			}
			if (hit) { /* "*.pool.example": the pool's domain itself */
				keep_name(st, sv.names[i] + 2, coin, "cert");
				break;
			}
		}
	}
}

static int tls_verdicts(tls_state *st, const mt_flow_view *fv, const mt_pkt_view *pv, mt_evidence *ev)
{
	const char *coin = NULL, *hit, *name = st->ch.sni[0] ? st->ch.sni : NULL;
	char txt[MT_EV_TEXT_LEN];

	if (!st->srv_done)
		classify_server(st, fv);
	hit = pool_match(fv, name, &coin);
	if (hit && !st->pool_name[0])
		keep_name(st, name, coin, "sni");
	if (st->srv_json) {
		const char *host = name ? name : (st->pool_name[0] ? st->pool_name : fv->dns_name);
		const char *dcoin = NULL, *port = mt_sigs_port(fv->sigs, fv->srv_port);
		int pool = st->pool_name[0] || hit ||
			   (fv->dns_name && mt_sigs_pool_domain(fv->sigs, fv->dns_name, strlen(fv->dns_name), &dcoin));
		double conf = pool ? 0.95 : st->srv_json == 2 ? 0.9 : port ? 0.8 : 0;
		if (conf > 0) {
			snprintf(txt, sizeof txt, "TLS ClientHello%s%.100s answered in plain %s (a pool without TLS)%s",
				 name ? " SNI " : "", name ? name : "",
				 st->srv_json == 2 ? "stratum JSON-RPC error" : "JSON-RPC", pool ? ", pool name listed" : "");
			return verdict(st, ev, "tls-stratum-attempt", conf, host,
				       st->pool_coin[0] ? st->pool_coin : dcoin, txt);
		}
		st->srv_json = 0; /* JSON-RPC 2.0 from a service with nothing of a pool about it */
	}
	if (name && mt_sigs_webminer_host(fv->sigs, name, strlen(name), &coin)) {
		st->webhost = 1;
		if (st->rec_off != UINT32_MAX && fv->len[0] > 0) {
			if (st->rec_off == 0) {
				/* Application records start after the client's handshake records. */
				const uint8_t *d = fv->data[0];
				uint32_t o = 0;
				while (fv->len[0] - o >= 5 && d[o] != 23) {
					uint32_t rl = (uint32_t)d[o + 3] << 8 | d[o + 4];
					if (fv->len[0] - o - 5 < rl)
						break;
					o += 5 + rl;
				}
				if (fv->len[0] - o < 5 || d[o] != 23)
					return pv->flow_end ? MT_EXCLUDED : MT_UNDECIDED;
				st->rec_off = o;
			}
			count_records(st, fv);
		}
		if (st->app_records >= TLS_WS_MIN_RECORDS) {
			snprintf(txt, sizeof txt, "TLS to browser-miner host %.100s, %u small upstream records (WebSocket)",
				 name, st->app_records);
			return verdict(st, ev, "webminer", 0.85, name, coin, txt);
		}
		return pv->flow_end ? MT_EXCLUDED : MT_UNDECIDED;
	}
	if (!st->srv_done && !pv->flow_end)
		return MT_UNDECIDED;
	if (st->ch.alpn_http)
		return MT_EXCLUDED; /* a browser: the pool's web site, not its stratum port */
	if (st->pool_name[0]) {
		int cert = strcmp(st->via, "cert") == 0;
		snprintf(txt, sizeof txt, "TLS %s %.100s on the pool list%s", cert ? "certificate name" : "SNI",
			 st->pool_name, st->srv_tls13 ? " (TLS 1.3)" : "");
		return verdict(st, ev, "tls-pool", cert ? 0.8 : 0.75, st->pool_name, st->pool_coin, txt);
	}
	return MT_UNDECIDED; /* maybe the address names a pool (below) */
}

/* Is the server named as a pool's by the DNS answer or by the address list? (Fixed for the flow.) */
static int address_named(const mt_flow_view *fv)
{
	const char *coin = NULL;

	if (fv->dns_name && mt_sigs_pool_domain(fv->sigs, fv->dns_name, strlen(fv->dns_name), &coin))
		return 1;
	return mt_sigs_pool_ip(fv->sigs, fv->ipver, fv->srv_addr, &coin) != 0;
}

/* No protocol recognised: is the server a pool's by the DNS answer that named it, or by the address list? */
static int address_verdict(tls_state *st, const mt_flow_view *fv, const mt_pkt_view *pv, mt_evidence *ev)
{
	const char *coin = NULL, *dcoin = NULL, *dhit = NULL;
	int iphit;
	char txt[MT_EV_TEXT_LEN];

	if (st->pkts < TLS_FALLBACK_PKTS && !pv->flow_end)
		return MT_UNDECIDED;
	if (fv->dns_name)
		dhit = mt_sigs_pool_domain(fv->sigs, fv->dns_name, strlen(fv->dns_name), &dcoin);
	iphit = mt_sigs_pool_ip(fv->sigs, fv->ipver, fv->srv_addr, &coin);
	if (!dhit && !iphit)
		return MT_EXCLUDED;
	if (dhit)
		snprintf(txt, sizeof txt, "DNS answer named the server %.80s (pool entry %.40s)%s",
			 fv->dns_name, dhit, iphit ? ", also on the address list" : "");
	else
		snprintf(txt, sizeof txt, "server address on the pool address list");
	return verdict(st, ev, "pool-address", dhit && iphit ? 0.6 : 0.5, dhit ? fv->dns_name : NULL,
		       dhit ? dcoin : coin, txt);
}

static int tls_on_packet(void *global, void *state, const mt_flow_view *fv,
			 const mt_pkt_view *pv, mt_evidence *ev)
{
	tls_state *st = state;
	int a;

	(void)global;
	if (fv->l4proto != 6 || !fv->sigs)
		return MT_EXCLUDED;
	if (st->decided)
		return MT_DETECTED;
	if (pv->payload_len)
		st->pkts++;
	if (st->c == C_WAIT)
		classify_client(st, fv);
	switch (st->c) {
	case C_WAIT:
		return pv->flow_end ? MT_EXCLUDED : MT_UNDECIDED;
	case C_HTTP:
		/* An ordinary HTTP request is the HTTP detector's (a pool's web site is not mining). */
		if (fv->len[0] < 4 || memcmp(fv->data[0], "GET ", 4) != 0)
			return MT_EXCLUDED;
		return http_ws(st, fv, ev);
	case C_TLS:
		a = tls_verdicts(st, fv, pv, ev);
		if (a != MT_UNDECIDED || st->webhost)
			return a;
		if (!st->srv_done && !pv->flow_end)
			return MT_UNDECIDED;
		break;
	default:
		/* Only the address could name this flow: without it, let it go now, not after TLS_FALLBACK_PKTS. */
		if (!st->addr_checked) {
			if (!address_named(fv))
				return MT_EXCLUDED;
			st->addr_checked = 1;
		}
		break;
	}
	return address_verdict(st, fv, pv, ev);
}

/*
 * API 3: on_packet's first rules before any state is made: not TCP, no
 * signature set, an HTTP request other than GET (http-mining's), or a client
 * that speaks neither TLS nor HTTP (or a stream that began mid-connection)
 * to a server that no DNS answer or address list names as a pool's.
 */
static int tls_prefilter(void *global, const mt_flow_view *fv, const mt_pkt_view *pv)
{
	const uint8_t *d = fv->data[0];
	int c;

	(void)global, (void)pv;
	if (fv->l4proto != 6 || !fv->sigs)
		return MT_EXCLUDED;
	if (!d || fv->len[0] == 0)
		return MT_UNDECIDED;
	if (fv->midstream[0])
		c = C_OTHER;
	else if (d[0] == 22)
		return MT_UNDECIDED;
	else
		c = client_plain(fv);
	if (c == C_HTTP)
		return fv->len[0] >= 4 && memcmp(d, "GET ", 4) == 0 ? MT_UNDECIDED : MT_EXCLUDED;
	if (c == C_OTHER && !address_named(fv))
		return MT_EXCLUDED;
	return MT_UNDECIDED;
}

const mt_detector mt_detect_tls = {
	.api_version = MT_DETECTOR_API_VERSION,
	.name = "names",
	.description = "Pool names: TLS SNI and certificate names, TLS stratum attempts, browser-miner WebSockets, DNS-named and listed pool addresses",
	.wants = MT_WANT_TCP,
	.max_packets = TLS_MAX_PACKETS,
	.state_size = sizeof(tls_state),
	.init = NULL,
	.fini = NULL,
	.on_packet = tls_on_packet,
	.flow_free = NULL,
	.prefilter = tls_prefilter,
};
