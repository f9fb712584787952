/* test_detect_ndpi.c - the nDPI 4.2 adapter on hand-built flows, fuzz and real captures. */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mt_test.h"
#include "decode/decode.h"
#include "detect/ndpi.h"
#include "flow/flow.h"

/* ---- building packets ---------------------------------------------------- */

#define T_MAX_PKT 2048

/* One conversation: addresses, ports and the next sequence number of each side. */
typedef struct tconv {
	uint8_t ipver;   /* 4 or 6 */
	uint8_t l4proto; /* 6 or 17 */
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	uint32_t seq[2];
	uint64_t ts_us;
} tconv;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void conv_init(tconv *c, int ipver, int l4proto, const char *cli, const char *srv,
		      uint16_t cport, uint16_t sport)
{
	memset(c, 0, sizeof(*c));
	c->ipver = (uint8_t)ipver;
	c->l4proto = (uint8_t)l4proto;
	ck_assert_int_eq(inet_pton(ipver == 4 ? AF_INET : AF_INET6, cli, c->cli), 1);
	ck_assert_int_eq(inet_pton(ipver == 4 ? AF_INET : AF_INET6, srv, c->srv), 1);
	c->cport = cport;
	c->sport = sport;
	c->seq[0] = 0x10000000u;
	c->seq[1] = 0x70000000u;
	c->ts_us = 1700000000ull * 1000000ull;
}

/*
 * Writes an IPv4 (RFC 791) or IPv6 (RFC 8200) header and a TCP (RFC 9293) or
 * UDP (RFC 768) header in front of the payload, and fills *p the way the
 * decoder would. Returns the packet length.
 */
static uint32_t build(const tconv *c, int dir, uint8_t flags, const void *pl, uint32_t plen,
		      uint8_t *buf, mt_pkt *p)
{
	const uint8_t *src = dir == MT_DIR_C2S ? c->cli : c->srv;
	const uint8_t *dst = dir == MT_DIR_C2S ? c->srv : c->cli;
	uint16_t sp = dir == MT_DIR_C2S ? c->cport : c->sport;
	uint16_t dp = dir == MT_DIR_C2S ? c->sport : c->cport;
	uint32_t iph = c->ipver == 4 ? 20 : 40;
	uint32_t l4h = c->l4proto == 6 ? 20 : 8;
	uint32_t len = iph + l4h + plen;
	uint8_t *l4 = buf + iph;

	ck_assert_uint_le(len, T_MAX_PKT);
	memset(buf, 0, iph + l4h);
	if (c->ipver == 4) {
		uint32_t sum = 0;
		buf[0] = 0x45;
		put16(buf + 2, (uint16_t)len);
		put16(buf + 4, 0x1234);
		buf[6] = 0x40; /* DF */
		buf[8] = 64;
		buf[9] = c->l4proto;
		memcpy(buf + 12, src, 4);
		memcpy(buf + 16, dst, 4);
		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put16(buf + 10, (uint16_t)~sum);
	} else {
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)(l4h + plen));
		buf[6] = c->l4proto;
		buf[7] = 64;
		memcpy(buf + 8, src, 16);
		memcpy(buf + 24, dst, 16);
	}
	put16(l4, sp);
	put16(l4 + 2, dp);
	if (c->l4proto == 6) {
		put32(l4 + 4, c->seq[dir]);
		put32(l4 + 8, (flags & 0x10) ? c->seq[1 - dir] : 0);
		l4[12] = 5 << 4;
		l4[13] = flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)(8 + plen));
	}
	if (plen)
		memcpy(l4 + l4h, pl, plen);

	memset(p, 0, sizeof(*p));
	p->ts_us = c->ts_us;
	p->wire_len = p->cap_len = len + 14;
	p->ipver = c->ipver;
	p->l4proto = c->l4proto;
	p->tcp_flags = c->l4proto == 6 ? flags : 0;
	memcpy(p->src, src, c->ipver == 4 ? 4 : 16);
	memcpy(p->dst, dst, c->ipver == 4 ? 4 : 16);
	p->sport = sp;
	p->dport = dp;
	p->seq = c->l4proto == 6 ? c->seq[dir] : 0;
	p->ack = (c->l4proto == 6 && (flags & 0x10)) ? c->seq[1 - dir] : 0;
	p->win = 65535;
	p->l3 = buf;
	p->l3_len = len;
	p->payload = buf + iph + l4h;
	p->payload_len = plen;
	return len;
}

/*
 * Gives nDPI a heap copy of exactly l3_len bytes, so that valgrind reports
 * any read past the packet (nDPI itself is not built with ASan).
 */
static int feed_pkt(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir, mt_ndpi_info *info)
{
	mt_pkt q = *p;
	uint8_t *copy = malloc(p->l3_len ? p->l3_len : 1);
	int r;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p->l3, p->l3_len);
	q.l3 = copy;
	q.payload = copy + (p->payload - p->l3);
	r = mt_ndpi_packet(n, f, &q, dir, info);
	free(copy);
	ck_assert(r == 0 || r == 1);
	return r;
}

/* Sends one packet of the conversation and advances its state. */
static int send_pkt(mt_ndpi *n, mt_ndpi_flow *f, tconv *c, int dir, uint8_t flags,
		    const void *pl, uint32_t plen, mt_ndpi_info *info)
{
	uint8_t buf[T_MAX_PKT];
	mt_pkt p;
	int r;

	build(c, dir, flags, pl, plen, buf, &p);
	r = feed_pkt(n, f, &p, dir, info);
	c->seq[dir] += plen + ((flags & 0x03) ? 1u : 0u); /* SYN and FIN take one */
	c->ts_us += 1500;
	return r;
}

static int send_str(mt_ndpi *n, mt_ndpi_flow *f, tconv *c, int dir, const char *s,
		    mt_ndpi_info *info)
{
	return send_pkt(n, f, c, dir, 0x18, s, (uint32_t)strlen(s), info);
}

static void handshake(mt_ndpi *n, mt_ndpi_flow *f, tconv *c, mt_ndpi_info *info)
{
	ck_assert_int_eq(send_pkt(n, f, c, MT_DIR_C2S, 0x02, NULL, 0, info), 0);
	ck_assert_int_eq(send_pkt(n, f, c, MT_DIR_S2C, 0x12, NULL, 0, info), 0);
	ck_assert_int_eq(send_pkt(n, f, c, MT_DIR_C2S, 0x10, NULL, 0, info), 0);
}

/* Every string of *info is terminated inside its array. */
static void check_terminated(const mt_ndpi_info *info)
{
	ck_assert(memchr(info->proto, 0, sizeof(info->proto)) != NULL);
	ck_assert(memchr(info->category, 0, sizeof(info->category)) != NULL);
	ck_assert(memchr(info->sni, 0, sizeof(info->sni)) != NULL);
	ck_assert(memchr(info->http_host, 0, sizeof(info->http_host)) != NULL);
	ck_assert(memchr(info->http_ua, 0, sizeof(info->http_ua)) != NULL);
	ck_assert(memchr(info->dns_query, 0, sizeof(info->dns_query)) != NULL);
	ck_assert_uint_le(info->n_answers, MT_NDPI_MAX_ANSWERS);
	ck_assert_uint_le(info->is_mining, 1);
	ck_assert_uint_le(info->done, 1);
}

/* ---- messages ------------------------------------------------------------ */

typedef struct wbuf {
	uint8_t b[1024];
	size_t n;
} wbuf;

static void w8(wbuf *w, uint8_t v)
{
	ck_assert_uint_lt(w->n, sizeof(w->b));
	w->b[w->n++] = v;
}

static void w16(wbuf *w, uint16_t v)
{
	w8(w, (uint8_t)(v >> 8));
	w8(w, (uint8_t)v);
}

static void wbytes(wbuf *w, const void *p, size_t len)
{
	ck_assert_uint_le(len, sizeof(w->b) - w->n);
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

/* Patches a big-endian length of `bytes` bytes at `at` to cover everything after it. */
static void wlen(wbuf *w, size_t at, int bytes)
{
	size_t v = w->n - at - (size_t)bytes;
	for (int i = bytes - 1; i >= 0; i--) {
		w->b[at + (size_t)i] = (uint8_t)v;
		v >>= 8;
	}
}

/* A TLS 1.2 ClientHello (RFC 5246 7.4.1.2) with server_name (RFC 6066 3). */
static void tls_client_hello(wbuf *w, const char *sni)
{
	static const uint16_t suites[] = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
					  0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	size_t rec, hs, exts, ext, list;

	memset(w, 0, sizeof(*w));
	w8(w, 0x16); /* handshake record */
	w16(w, 0x0301);
	rec = w->n;
	w16(w, 0);
	w8(w, 0x01); /* ClientHello */
	hs = w->n;
	w8(w, 0);
	w16(w, 0);
	w16(w, 0x0303);
	for (int i = 0; i < 32; i++)
		w8(w, (uint8_t)(i * 7 + 3)); /* random */
	w8(w, 0);                            /* session id */
	w16(w, (uint16_t)(sizeof(suites)));
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		w16(w, suites[i]);
	w8(w, 1); /* compression methods */
	w8(w, 0);
	exts = w->n;
	w16(w, 0);
	/* server_name */
	w16(w, 0x0000);
	ext = w->n;
	w16(w, 0);
	list = w->n;
	w16(w, 0);
	w8(w, 0); /* host_name */
	w16(w, (uint16_t)strlen(sni));
	wbytes(w, sni, strlen(sni));
	wlen(w, list, 2);
	wlen(w, ext, 2);
	/* supported_groups: x25519, secp256r1 */
	w16(w, 0x000a);
	w16(w, 6);
	w16(w, 4);
	w16(w, 0x001d);
	w16(w, 0x0017);
	/* ec_point_formats: uncompressed */
	w16(w, 0x000b);
	w16(w, 2);
	w8(w, 1);
	w8(w, 0);
	/* signature_algorithms */
	w16(w, 0x000d);
	w16(w, 8);
	w16(w, 6);
	w16(w, 0x0403);
	w16(w, 0x0804);
	w16(w, 0x0401);
	/* ALPN: http/1.1 */
	w16(w, 0x0010);
	w16(w, 11);
	w16(w, 9);
	w8(w, 8);
	wbytes(w, "http/1.1", 8);
	wlen(w, exts, 2);
	/* handshake length is 24 bits */
	wlen(w, hs, 3);
	wlen(w, rec, 2);
}

static void dns_name(wbuf *w, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		w8(w, (uint8_t)len);
		wbytes(w, name, len);
		name += len + (dot ? 1 : 0);
	}
	w8(w, 0);
}

/*
 * A DNS message (RFC 1035 4.1) asking for name's qtype record (A or AAAA).
 * With addr it is the response: a CNAME to `cname` first when given, then
 * one qtype record holding addr (4 or 16 bytes).
 */
static void dns_message(wbuf *w, const char *name, uint16_t qtype, const char *cname,
			const uint8_t *addr, uint16_t id)
{
	uint16_t owner = 0xc00c; /* compression pointer to the question's name */

	memset(w, 0, sizeof(*w));
	w16(w, id);
	w16(w, addr ? 0x8180 : 0x0100);
	w16(w, 1);
	w16(w, addr ? (cname ? 2 : 1) : 0);
	w16(w, 0);
	w16(w, 0);
	dns_name(w, name);
	w16(w, qtype);
	w16(w, 1); /* IN */
	if (!addr)
		return;
	if (cname) {
		size_t rdlen;
		w16(w, 0xc00c);
		w16(w, 5); /* CNAME */
		w16(w, 1);
		w16(w, 0);
		w16(w, 300);
		rdlen = w->n;
		w16(w, 0);
		owner = (uint16_t)(0xc000 | w->n);
		dns_name(w, cname);
		wlen(w, rdlen, 2);
	}
	w16(w, owner);
	w16(w, qtype);
	w16(w, 1);
	w16(w, 0);
	w16(w, 300);
	w16(w, qtype == 28 ? 16 : 4);
	wbytes(w, addr, qtype == 28 ? 16 : 4);
}

static const char http_get[] =
	"GET /index.html HTTP/1.1\r\n"
	"Host: pool.example.org\r\n"
	"User-Agent: cgminer/4.10.0\r\n"
	"Accept: */*\r\n"
	"\r\n";

static const char http_resp[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/html\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"hello";

static const char stratum_subscribe[] =
	"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.10.0\"]}\n";
static const char stratum_subscribe_resp[] =
	"{\"id\":1,\"result\":[[[\"mining.set_difficulty\",\"b4b6693b72a50c7116db18d6497cac52\"],"
	"[\"mining.notify\",\"ae6812eb4cd7735a302a8a9dd95cf71f\"]],\"08000002\",4],\"error\":null}\n";
static const char stratum_authorize[] =
	"{\"params\":[\"miner1.worker1\",\"x\"],\"id\":2,\"method\":\"mining.authorize\"}\n";
static const char stratum_authorize_resp[] = "{\"error\":null,\"id\":2,\"result\":true}\n";

/* ---- fixtures ------------------------------------------------------------ */

static mt_ndpi *nd;

static void setup(void)
{
	nd = mt_ndpi_new();
	ck_assert_ptr_nonnull(nd);
}

static void teardown(void)
{
	mt_ndpi_free(nd);
	nd = NULL;
}

static mt_ndpi_flow *new_flow(mt_ndpi_info *info)
{
	size_t mem = 0;
	mt_ndpi_flow *f = mt_ndpi_flow_new(nd, &mem);

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_ge(mem, 688); /* nDPI 4.2's flow struct alone */
	ck_assert_uint_lt(mem, 4096);
	memset(info, 0, sizeof(*info));
	return f;
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_version_and_null)
{
	mt_ndpi_info info;
	size_t mem = 123;
	mt_pkt p;

	ck_assert(strncmp(mt_ndpi_version(), "4.", 2) == 0);
	ck_assert_ptr_null(mt_ndpi_flow_new(NULL, &mem));
	ck_assert_uint_eq(mem, 0);
	mt_ndpi_flow_free(NULL);
	mt_ndpi_free(NULL);
	memset(&info, 0, sizeof(info));
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(mt_ndpi_packet(NULL, NULL, &p, MT_DIR_C2S, &info), 1);
	mt_ndpi_giveup(NULL, NULL, &info);
	ck_assert_uint_eq(info.done, 0);

	/* A packet without an IP header is ignored, not a crash. */
	{
		mt_ndpi_flow *f = new_flow(&info);
		ck_assert_int_eq(mt_ndpi_packet(nd, f, &p, MT_DIR_C2S, &info), 0);
		ck_assert_int_eq(mt_ndpi_packet(nd, f, NULL, MT_DIR_C2S, &info), 0);
		mt_ndpi_flow_free(f);
	}
}
END_TEST

START_TEST(test_tls_sni)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;
	wbuf w;

	conv_init(&c, 4, 6, "192.168.1.10", "198.51.100.20", 51000, 443);
	tls_client_hello(&w, "pool.example.org");
	handshake(nd, f, &c, &info);
	send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, w.b, (uint32_t)w.n, &info);
	check_terminated(&info);
	ck_assert_msg(strstr(info.proto, "TLS") != NULL, "proto '%s'", info.proto);
	ck_assert_str_eq(info.sni, "pool.example.org");
	ck_assert_str_eq(info.http_host, "");
	ck_assert_str_eq(info.dns_query, "");
	ck_assert_uint_eq(info.is_mining, 0);
	ck_assert(info.category[0] != '\0');
	/* nDPI waits for the server's certificate; at flow end we keep what we have. */
	ck_assert_uint_eq(info.done, 0);
	mt_ndpi_giveup(nd, f, &info);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_str_eq(info.sni, "pool.example.org");
	ck_assert(strstr(info.proto, "TLS") != NULL);
	mt_ndpi_flow_free(f);
}
END_TEST

/* Same over IPv6 and on a non-TLS port: nDPI finds TLS by content. */
START_TEST(test_tls_sni_ipv6_other_port)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;
	wbuf w;

	conv_init(&c, 6, 6, "2001:db8::10", "2001:db8:1::20", 51000, 14433);
	tls_client_hello(&w, "xmr.pool.example.net");
	handshake(nd, f, &c, &info);
	send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, w.b, (uint32_t)w.n, &info);
	ck_assert_msg(strstr(info.proto, "TLS") != NULL, "proto '%s'", info.proto);
	ck_assert_str_eq(info.sni, "xmr.pool.example.net");
	mt_ndpi_flow_free(f);
}
END_TEST

START_TEST(test_http_host_ua)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;
	int r;

	conv_init(&c, 4, 6, "10.0.0.5", "203.0.113.80", 40000, 80);
	handshake(nd, f, &c, &info);
	ck_assert_int_eq(send_str(nd, f, &c, MT_DIR_C2S, http_get, &info), 0);
	check_terminated(&info);
	ck_assert_msg(strstr(info.proto, "HTTP") != NULL, "proto '%s'", info.proto);
	ck_assert_str_eq(info.http_host, "pool.example.org");
	ck_assert_str_eq(info.http_ua, "cgminer/4.10.0");
	ck_assert_str_eq(info.sni, "");
	ck_assert_uint_eq(info.done, 0); /* nDPI wants the response */
	send_pkt(nd, f, &c, MT_DIR_S2C, 0x10, NULL, 0, &info);
	r = send_str(nd, f, &c, MT_DIR_S2C, http_resp, &info);
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_str_eq(info.http_host, "pool.example.org");
	ck_assert_str_eq(info.http_ua, "cgminer/4.10.0");
	/* Once done, more packets change nothing and still say done. */
	info.http_ua[0] = 'X';
	ck_assert_int_eq(send_str(nd, f, &c, MT_DIR_C2S, http_get, &info), 1);
	ck_assert_int_eq(info.http_ua[0], 'X');
	mt_ndpi_flow_free(f);
}
END_TEST

/*
 * Labels only (the engine's mode): the flow is done at the request that
 * classifies it, with the same names that the full dissection reports, and
 * mt_ndpi_feed says which packets it did not give to nDPI.
 */
START_TEST(test_labels_only_feed)
{
	mt_ndpi_info info, full;
	mt_ndpi_flow *f = new_flow(&info), *g = new_flow(&full);
	tconv c, d;
	uint8_t buf[T_MAX_PKT];
	mt_pkt p;

	/* The same request with extra dissection: nDPI wants the response. */
	conv_init(&d, 4, 6, "10.0.0.5", "203.0.113.80", 40000, 80);
	handshake(nd, g, &d, &full);
	ck_assert_int_eq(send_str(nd, g, &d, MT_DIR_C2S, http_get, &full), 0);
	mt_ndpi_flow_free(g);

	mt_ndpi_set_labels_only(nd, 1);
	conv_init(&c, 4, 6, "10.0.0.5", "203.0.113.80", 40000, 80);
	build(&c, MT_DIR_C2S, 0x02, NULL, 0, buf, &p);
	ck_assert_int_eq(mt_ndpi_feed(nd, f, &p, MT_DIR_C2S), 0); /* the first packet is given */
	c.seq[MT_DIR_C2S]++;
	build(&c, MT_DIR_S2C, 0x12, NULL, 0, buf, &p);
	ck_assert_int_eq(mt_ndpi_feed(nd, f, &p, MT_DIR_S2C), -1); /* a bare segment is not */
	c.seq[MT_DIR_S2C]++;
	ck_assert_int_eq(mt_ndpi_feed(nd, f, NULL, MT_DIR_C2S), -1);
	build(&c, MT_DIR_C2S, 0x18, http_get, (uint32_t)strlen(http_get), buf, &p);
	ck_assert_int_eq(mt_ndpi_feed(nd, f, &p, MT_DIR_C2S), 1);
	mt_ndpi_result(nd, f, &info);
	check_terminated(&info);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_str_eq(info.proto, full.proto);
	ck_assert_str_eq(info.http_host, full.http_host);
	ck_assert_str_eq(info.http_ua, full.http_ua);
	ck_assert_str_eq(info.http_host, "pool.example.org");
	/* Done stays done. */
	ck_assert_int_eq(mt_ndpi_feed(nd, f, &p, MT_DIR_C2S), 1);
	mt_ndpi_set_labels_only(nd, 0);
	mt_ndpi_flow_free(f);
}
END_TEST

/*
 * The server's bare ACK before its response is given to nDPI (the flow is
 * classified and HTTP still wants packets): nDPI then reads the response's
 * Content-Type and calls the flow a download.
 */
START_TEST(test_http_response_category)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
				   "Content-Type: application/octet-stream\r\n"
				   "Content-Length: 3\r\n"
				   "\r\n"
				   "MZ\x90";
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;

	conv_init(&c, 4, 6, "10.0.0.5", "203.0.113.80", 40001, 80);
	handshake(nd, f, &c, &info);
	ck_assert_int_eq(send_str(nd, f, &c, MT_DIR_C2S, http_get, &info), 0);
	ck_assert_str_eq(info.category, "Web");
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_S2C, 0x10, NULL, 0, &info), 0);
	ck_assert_int_eq(send_str(nd, f, &c, MT_DIR_S2C, resp, &info), 1);
	ck_assert_str_eq(info.category, "Download");
	ck_assert_str_eq(info.http_host, "pool.example.org");
	mt_ndpi_flow_free(f);
}
END_TEST

START_TEST(test_dns_query_answer)
{
	static const uint8_t addr[4] = {203, 0, 113, 7};
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;
	wbuf w;
	int r;

	conv_init(&c, 4, 17, "192.168.1.10", "192.168.1.1", 53001, 53);
	dns_message(&w, "pool.example.org", 1, NULL, NULL, 0xbeef);
	r = send_pkt(nd, f, &c, MT_DIR_C2S, 0, w.b, (uint32_t)w.n, &info);
	check_terminated(&info);
	ck_assert_msg(strstr(info.proto, "DNS") != NULL, "proto '%s'", info.proto);
	ck_assert_str_eq(info.dns_query, "pool.example.org");
	ck_assert_uint_eq(info.n_answers, 0);
	ck_assert_int_eq(r, 0); /* waits for the response */
	dns_message(&w, "pool.example.org", 1, NULL, addr, 0xbeef);
	r = send_pkt(nd, f, &c, MT_DIR_S2C, 0, w.b, (uint32_t)w.n, &info);
	check_terminated(&info);
	ck_assert_int_eq(r, 1);
	ck_assert_str_eq(info.dns_query, "pool.example.org");
	ck_assert_uint_eq(info.n_answers, 1);
	ck_assert_uint_eq(info.answer_ver[0], 4);
	ck_assert(memcmp(info.answer[0], addr, 4) == 0);
	ck_assert_str_eq(info.http_host, "");
	mt_ndpi_flow_free(f);
}
END_TEST

/* The answer nDPI keeps is the first address, after a CNAME, and AAAA too. */
START_TEST(test_dns_cname_and_aaaa)
{
	static const uint8_t a4[4] = {198, 51, 100, 44};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x44};
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;
	wbuf w;

	conv_init(&c, 4, 17, "192.168.1.10", "192.168.1.1", 53002, 53);
	dns_message(&w, "xmr.pool.example.org", 1, NULL, NULL, 7);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0, w.b, (uint32_t)w.n, &info), 0);
	dns_message(&w, "xmr.pool.example.org", 1, "lb.example.net", a4, 7);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_S2C, 0, w.b, (uint32_t)w.n, &info), 1);
	ck_assert_str_eq(info.dns_query, "xmr.pool.example.org");
	ck_assert_uint_eq(info.n_answers, 1);
	ck_assert_uint_eq(info.answer_ver[0], 4);
	ck_assert(memcmp(info.answer[0], a4, 4) == 0);
	mt_ndpi_flow_free(f);

	f = new_flow(&info);
	conv_init(&c, 6, 17, "2001:db8::10", "2001:db8::53", 53003, 53);
	dns_message(&w, "pool.example.org", 28, NULL, NULL, 8);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0, w.b, (uint32_t)w.n, &info), 0);
	ck_assert_uint_eq(info.n_answers, 0);
	dns_message(&w, "pool.example.org", 28, NULL, a6, 8);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_S2C, 0, w.b, (uint32_t)w.n, &info), 1);
	ck_assert_str_eq(info.dns_query, "pool.example.org");
	ck_assert_uint_eq(info.n_answers, 1);
	ck_assert_uint_eq(info.answer_ver[0], 6);
	ck_assert(memcmp(info.answer[0], a6, 16) == 0);
	mt_ndpi_flow_free(f);
}
END_TEST

/* nDPI 4.2's own Mining dissector knows Stratum's JSON-RPC methods. */
START_TEST(test_stratum_mining)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;
	int r = 0;

	conv_init(&c, 4, 6, "10.1.2.3", "198.51.100.33", 45000, 3333);
	handshake(nd, f, &c, &info);
	r |= send_str(nd, f, &c, MT_DIR_C2S, stratum_subscribe, &info);
	if (!r)
		r |= send_str(nd, f, &c, MT_DIR_S2C, stratum_subscribe_resp, &info);
	if (!r)
		r |= send_str(nd, f, &c, MT_DIR_C2S, stratum_authorize, &info);
	if (!r)
		r |= send_str(nd, f, &c, MT_DIR_S2C, stratum_authorize_resp, &info);
	check_terminated(&info);
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_uint_eq(info.is_mining, 1);
	ck_assert_msg(strstr(info.proto, "Mining") != NULL, "proto '%s'", info.proto);
	ck_assert_str_eq(info.sni, "");
	mt_ndpi_flow_free(f);
}
END_TEST

/* Unknown payload: done exactly at MT_NDPI_MAX_PACKETS packets given to nDPI. */
START_TEST(test_giveup_after_max_packets)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	uint8_t junk[64];
	tconv c;

	conv_init(&c, 4, 6, "10.9.8.7", "10.9.8.6", 41000, 41001);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xa5 ^ (i * 37));
	/* The SYN is given to nDPI (first packet); the bare ACKs before any
	 * classification are not, so they do not count. */
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0x02, NULL, 0, &info), 0);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_S2C, 0x12, NULL, 0, &info), 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(send_pkt(nd, f, &c, i & 1, 0x10, NULL, 0, &info), 0);
	for (int i = 1; i < MT_NDPI_MAX_PACKETS - 1; i++) {
		ck_assert_int_eq(send_pkt(nd, f, &c, i & 1, 0x18, junk, sizeof(junk), &info), 0);
		ck_assert_uint_eq(info.done, 0);
	}
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, junk, sizeof(junk), &info), 1);
	ck_assert_uint_eq(info.done, 1);
	check_terminated(&info);
	ck_assert_str_eq(info.proto, ""); /* no port or address to guess from */
	ck_assert_uint_eq(info.is_mining, 0);
	/* mt_ndpi_giveup on a finished flow keeps the answer. */
	mt_ndpi_giveup(nd, f, &info);
	ck_assert_uint_eq(info.done, 1);
	mt_ndpi_flow_free(f);
}
END_TEST

/* mt_ndpi_set_max_packets (config ndpi_max_packets): done at the third packet with a limit of 3. */
START_TEST(test_giveup_after_set_max_packets)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f;
	uint8_t junk[64];
	tconv c;

	mt_ndpi_set_max_packets(nd, 3);
	f = new_flow(&info);
	conv_init(&c, 4, 6, "10.9.8.7", "10.9.8.6", 41002, 41003);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0x5a ^ (i * 41));
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, junk, sizeof(junk), &info), 0);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_S2C, 0x18, junk, sizeof(junk), &info), 0);
	ck_assert_uint_eq(info.done, 0);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, junk, sizeof(junk), &info), 1);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_uint_eq(info.is_mining, 0);
	mt_ndpi_flow_free(f);
	/* 0 is taken as 1: a flow is always given its first packet. */
	mt_ndpi_set_max_packets(nd, 0);
	f = new_flow(&info);
	ck_assert_int_eq(send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, junk, sizeof(junk), &info), 1);
	mt_ndpi_flow_free(f);
	mt_ndpi_set_max_packets(nd, MT_NDPI_MAX_PACKETS);
}
END_TEST

/* At flow end nDPI guesses from the port: non-TLS bytes to 443 come out as TLS. */
START_TEST(test_giveup_guess)
{
	mt_ndpi_info info;
	mt_ndpi_flow *f = new_flow(&info);
	tconv c;

	conv_init(&c, 4, 6, "10.9.8.7", "10.9.8.6", 41002, 443);
	handshake(nd, f, &c, &info);
	ck_assert_int_eq(send_str(nd, f, &c, MT_DIR_C2S, "hello there\n", &info), 0);
	ck_assert_str_eq(info.proto, "");
	mt_ndpi_giveup(nd, f, &info);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_msg(strstr(info.proto, "TLS") != NULL, "proto '%s'", info.proto);
	ck_assert_str_eq(info.sni, "");
	/* After giving up the flow is done. */
	ck_assert_int_eq(send_str(nd, f, &c, MT_DIR_C2S, "more\n", &info), 1);
	mt_ndpi_flow_free(f);

	/* A flow nDPI never saw: no guess at all. */
	f = new_flow(&info);
	mt_ndpi_giveup(nd, f, &info);
	ck_assert_uint_eq(info.done, 1);
	ck_assert_str_eq(info.proto, "");
	mt_ndpi_flow_free(f);
}
END_TEST

/* A snap-length cut leaves the IP length larger than what was captured. */
typedef struct tmsg {
	int l4proto;
	uint16_t port;
	const uint8_t *b;
	uint32_t n;
} tmsg;

static void truncate_one(const tmsg *m)
{
	for (uint32_t cut = 0; cut <= m->n; cut++) {
		uint8_t buf[T_MAX_PKT];
		mt_ndpi_info info;
		mt_ndpi_flow *f = new_flow(&info);
		uint32_t hdr;
		tconv c;
		mt_pkt p;

		conv_init(&c, 4, m->l4proto, "10.0.0.1", "10.0.0.2", 50000, m->port);
		if (m->l4proto == 6)
			handshake(nd, f, &c, &info);
		/* The message cut short as a whole (a short write). */
		send_pkt(nd, f, &c, MT_DIR_C2S, 0x18, m->b, cut, &info);
		check_terminated(&info);
		/* The full message, captured only up to `cut` payload bytes. */
		build(&c, MT_DIR_C2S, 0x18, m->b, m->n, buf, &p);
		hdr = (uint32_t)(p.payload - p.l3);
		p.l3_len = hdr + cut;
		p.payload_len = cut;
		p.truncated = cut < m->n;
		feed_pkt(nd, f, &p, MT_DIR_C2S, &info);
		check_terminated(&info);
		/* And the headers themselves cut. */
		if (cut < hdr) {
			p.l3_len = cut;
			p.payload_len = 0;
			feed_pkt(nd, f, &p, MT_DIR_C2S, &info);
			check_terminated(&info);
		}
		mt_ndpi_giveup(nd, f, &info);
		check_terminated(&info);
		ck_assert_uint_eq(info.done, 1);
		mt_ndpi_flow_free(f);
	}
}

START_TEST(test_truncated_packets)
{
	static const uint8_t addr[4] = {203, 0, 113, 7};
	wbuf tls, dnsq, dnsr;

	tls_client_hello(&tls, "pool.example.org");
	dns_message(&dnsq, "pool.example.org", 1, NULL, NULL, 1);
	dns_message(&dnsr, "pool.example.org", 1, "eu.pool.example.org", addr, 1);
	{
		const tmsg msgs[] = {
			{6, 443, tls.b, (uint32_t)tls.n},
			{6, 80, (const uint8_t *)http_get, (uint32_t)strlen(http_get)},
			{6, 80, (const uint8_t *)http_resp, (uint32_t)strlen(http_resp)},
			{6, 3333, (const uint8_t *)stratum_subscribe, (uint32_t)strlen(stratum_subscribe)},
			{17, 53, dnsq.b, (uint32_t)dnsq.n},
			{17, 53, dnsr.b, (uint32_t)dnsr.n},
		};
		for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
			truncate_one(&msgs[i]);
	}
}
END_TEST

/* xorshift64*: fixed seed, so a failure can be replayed. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static unsigned long env_count(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	v = strtoul(s, &end, 10);
	return *end == '\0' && v > 0 ? v : dflt;
}

#define FUZZ_FLOWS 64

/*
 * Random payloads on ports whose dissectors parse them (DNS, HTTP, TLS,
 * Stratum ...), some starting like the real thing. Checks that nothing
 * crashes, every string stays terminated, and nDPI prints nothing on our
 * stdout.
 */
START_TEST(test_fuzz_random_payloads)
{
	static const uint16_t ports[] = {53, 80, 443, 3333, 8080, 4444, 5353, 123, 1900, 6881,
					 8333, 30303, 14444, 9999, 25, 22, 3478, 5060, 40000};
	static const char *prefixes[] = {"GET / HTTP/1.1\r\nHost: ", "\x16\x03\x01\x02\x00\x01",
					 "{\"id\":1,\"method\":\"mining.", "HTTP/1.1 200 OK\r\n",
					 "\xf9\xbe\xb4\xd9version", "POST / HTTP/1.0\r\n", ""};
	unsigned long npkts = env_count("MT_NDPI_FUZZ_PACKETS", 20000);
	mt_ndpi_flow *flows[FUZZ_FLOWS] = {0};
	tconv convs[FUZZ_FLOWS];
	mt_ndpi_info infos[FUZZ_FLOWS];
	uint8_t payload[1400];
	unsigned long done = 0;
	FILE *out = tmpfile();
	int saved;
	struct stat st;

	ck_assert_ptr_nonnull(out);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(out), STDOUT_FILENO), 0);

	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned long i = 0; i < npkts; i++) {
		unsigned k = (unsigned)(rng() % FUZZ_FLOWS);
		uint32_t len;
		uint8_t flags;
		int dir, r;

		if (!flows[k]) {
			char cli[32], srv[32];
			int udp = (int)(rng() % 3 == 0);
			snprintf(cli, sizeof(cli), "10.%u.%u.%u", (unsigned)(rng() % 256),
				 (unsigned)(rng() % 256), (unsigned)(rng() % 254 + 1));
			snprintf(srv, sizeof(srv), "%u.%u.%u.%u", (unsigned)(rng() % 223 + 1),
				 (unsigned)(rng() % 256), (unsigned)(rng() % 256),
				 (unsigned)(rng() % 254 + 1));
			flows[k] = new_flow(&infos[k]);
			conv_init(&convs[k], 4, udp ? 17 : 6, cli, srv,
				  (uint16_t)(1024 + rng() % 60000),
				  ports[rng() % (sizeof(ports) / sizeof(ports[0]))]);
		}
		len = (uint32_t)(rng() % 4 == 0 ? 0 : rng() % sizeof(payload));
		for (uint32_t j = 0; j < len; j++)
			payload[j] = (uint8_t)rng();
		if (len > 0 && rng() % 2) {
			const char *pre = prefixes[rng() % (sizeof(prefixes) / sizeof(prefixes[0]))];
			size_t pl = strlen(pre) < len ? strlen(pre) : len;
			memcpy(payload, pre, pl);
		}
		dir = (int)(rng() % 2);
		flags = (uint8_t)(rng() % 8 == 0 ? rng() : 0x18);
		if (convs[k].l4proto == 17 && len == 0)
			len = 1;
		r = send_pkt(nd, flows[k], &convs[k], dir, flags, payload, len, &infos[k]);
		check_terminated(&infos[k]);
		if (r || rng() % 200 == 0) {
			if (!r)
				mt_ndpi_giveup(nd, flows[k], &infos[k]);
			check_terminated(&infos[k]);
			ck_assert_uint_eq(infos[k].done, 1);
			mt_ndpi_flow_free(flows[k]);
			flows[k] = NULL;
			done++;
		}
	}
	for (unsigned k = 0; k < FUZZ_FLOWS; k++)
		mt_ndpi_flow_free(flows[k]);

	fflush(stdout);
	ck_assert_int_eq(fstat(fileno(out), &st), 0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	fclose(out);
	ck_assert_msg(st.st_size == 0, "nDPI wrote %lld bytes to stdout", (long long)st.st_size);
	ck_assert_uint_gt(done, npkts / 100);
}
END_TEST

/* One module per thread, created at the same time: same answers. */
struct thread_arg {
	char sni[256];
	int ok;
};

static void *thread_main(void *argp)
{
	struct thread_arg *a = argp;
	mt_ndpi *n = mt_ndpi_new();
	mt_ndpi_info info;
	mt_ndpi_flow *f;
	tconv c;
	wbuf w;

	if (!n)
		return NULL;
	for (int i = 0; i < 200; i++) {
		f = mt_ndpi_flow_new(n, NULL);
		if (!f)
			break;
		memset(&info, 0, sizeof(info));
		conv_init(&c, 4, 6, "192.168.1.10", "198.51.100.20", (uint16_t)(20000 + i), 443);
		tls_client_hello(&w, "pool.example.org");
		send_pkt(n, f, &c, MT_DIR_C2S, 0x02, NULL, 0, &info);
		send_pkt(n, f, &c, MT_DIR_C2S, 0x18, w.b, (uint32_t)w.n, &info);
		memcpy(a->sni, info.sni, sizeof(a->sni));
		a->ok += strcmp(info.sni, "pool.example.org") == 0;
		mt_ndpi_flow_free(f);
	}
	mt_ndpi_free(n);
	return NULL;
}

START_TEST(test_one_module_per_thread)
{
	pthread_t th[4];
	struct thread_arg args[4];

	memset(args, 0, sizeof(args));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].ok, 200);
	}
}
END_TEST

/* ---- real captures ------------------------------------------------------- */

#define CORPUS_FLOWS 8192

typedef struct cflow {
	uint8_t used, l4proto, ipver, finished;
	uint8_t a[16], b[16]; /* a is the client */
	uint16_t pa, pb;
	mt_ndpi_flow *f;
	mt_ndpi_info info;
} cflow;

typedef struct corpus_run {
	cflow *flows;
	uint64_t pkts, fed;
} corpus_run;

/* Ethernet (with VLAN tags) carrying IPv4 or IPv6, TCP or UDP: enough for these captures. */
static int corpus_decode(int dlt, const uint8_t *d, uint32_t caplen, mt_pkt *p)
{
	uint32_t off = 14, iplen, hl;
	uint16_t et;
	const uint8_t *ip, *l4;
	uint32_t l4len;

	memset(p, 0, sizeof(*p));
	if (dlt != DLT_EN10MB || caplen < 14)
		return -1;
	et = (uint16_t)(d[12] << 8 | d[13]);
	while ((et == 0x8100 || et == 0x88a8) && caplen - off >= 4) {
		et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		off += 4;
	}
	ip = d + off;
	if (et == 0x0800) {
		if (caplen - off < 20 || (ip[0] >> 4) != 4)
			return -1;
		hl = (ip[0] & 15u) * 4u;
		iplen = (uint32_t)(ip[2] << 8 | ip[3]);
		if (hl < 20 || iplen < hl || caplen - off < hl || (ip[6] & 0x3f) || ip[7])
			return -1; /* short, or a fragment */
		p->ipver = 4;
		p->l4proto = ip[9];
		memcpy(p->src, ip + 12, 4);
		memcpy(p->dst, ip + 16, 4);
	} else if (et == 0x86dd) {
		if (caplen - off < 40)
			return -1;
		hl = 40;
		iplen = 40u + (uint32_t)(ip[4] << 8 | ip[5]);
		p->ipver = 6;
		p->l4proto = ip[6];
		memcpy(p->src, ip + 8, 16);
		memcpy(p->dst, ip + 24, 16);
	} else {
		return -1;
	}
	if (iplen > caplen - off)
		iplen = caplen - off;
	l4 = ip + hl;
	l4len = iplen - hl;
	if (p->l4proto == 6) {
		uint32_t doff;
		if (l4len < 20)
			return -1;
		doff = (uint32_t)(l4[12] >> 4) * 4u;
		if (doff < 20 || doff > l4len)
			return -1;
		p->tcp_flags = l4[13];
		p->seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
		p->payload = l4 + doff;
		p->payload_len = l4len - doff;
	} else if (p->l4proto == 17) {
		if (l4len < 8)
			return -1;
		p->payload = l4 + 8;
		p->payload_len = l4len - 8;
	} else {
		return -1;
	}
	p->sport = (uint16_t)(l4[0] << 8 | l4[1]);
	p->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	p->l3 = ip;
	p->l3_len = iplen;
	return 0;
}

static cflow *corpus_lookup(cflow *flows, const mt_pkt *p, int *dir)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ (uint32_t)(p->src[i] ^ p->dst[i])) * 16777619u;
	h = (h ^ (uint32_t)(p->sport ^ p->dport)) * 16777619u;
	h = (h ^ p->l4proto) * 16777619u;
	for (uint32_t n = 0; n < CORPUS_FLOWS; n++) {
		cflow *x = &flows[(h + n) % CORPUS_FLOWS];
		if (!x->used) {
			int synack = p->l4proto == 6 && (p->tcp_flags & 0x12) == 0x12;
			x->used = 1;
			x->l4proto = p->l4proto;
			x->ipver = p->ipver;
			memcpy(x->a, synack ? p->dst : p->src, 16);
			memcpy(x->b, synack ? p->src : p->dst, 16);
			x->pa = synack ? p->dport : p->sport;
			x->pb = synack ? p->sport : p->dport;
			*dir = synack ? MT_DIR_S2C : MT_DIR_C2S;
			return x;
		}
		if (x->l4proto != p->l4proto)
			continue;
		if (!memcmp(x->a, p->src, 16) && !memcmp(x->b, p->dst, 16) && x->pa == p->sport &&
		    x->pb == p->dport) {
			*dir = MT_DIR_C2S;
			return x;
		}
		if (!memcmp(x->a, p->dst, 16) && !memcmp(x->b, p->src, 16) && x->pa == p->dport &&
		    x->pb == p->sport) {
			*dir = MT_DIR_S2C;
			return x;
		}
	}
	return NULL;
}

/* Runs every packet of the capture through the adapter; flows left open get mt_ndpi_giveup. */
static int corpus_run_file(const char *path, corpus_run *run)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hd;
	const u_char *d;
	pcap_t *pc = pcap_open_offline(path, err);
	int dlt;

	if (!pc) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	dlt = pcap_datalink(pc);
	run->flows = calloc(CORPUS_FLOWS, sizeof(cflow));
	ck_assert_ptr_nonnull(run->flows);
	while (pcap_next_ex(pc, &hd, &d) == 1) {
		mt_pkt p;
		cflow *x;
		int dir;

		if (corpus_decode(dlt, d, hd->caplen, &p))
			continue;
		p.ts_us = (uint64_t)hd->ts.tv_sec * 1000000u + (uint64_t)hd->ts.tv_usec;
		x = corpus_lookup(run->flows, &p, &dir);
		if (!x || x->finished)
			continue;
		if (!x->f) {
			x->f = mt_ndpi_flow_new(nd, NULL);
			ck_assert_ptr_nonnull(x->f);
		}
		run->pkts++;
		if (mt_ndpi_packet(nd, x->f, &p, dir, &x->info)) {
			x->finished = 1;
			mt_ndpi_flow_free(x->f);
			x->f = NULL;
		}
		check_terminated(&x->info);
	}
	pcap_close(pc);
	for (uint32_t i = 0; i < CORPUS_FLOWS; i++) {
		cflow *x = &run->flows[i];
		if (x->f) {
			mt_ndpi_giveup(nd, x->f, &x->info);
			mt_ndpi_flow_free(x->f);
			x->f = NULL;
		}
	}
	return 0;
}

static const char *corpus_path(const char *rel, char *out, size_t n)
{
	const char *p = mt_test_shared(rel, out, n);
	FILE *fp;

	if (p)
		return p;
	snprintf(out, n, "/work/shared/%s", rel);
	fp = fopen(out, "r");
	if (!fp)
		return NULL;
	fclose(fp);
	return out;
}

static const cflow *find_flow(const corpus_run *run, const char *field, const char *want)
{
	for (uint32_t i = 0; i < CORPUS_FLOWS; i++) {
		const cflow *x = &run->flows[i];
		const char *v;
		if (!x->used)
			continue;
		if (!strcmp(field, "sni"))
			v = x->info.sni;
		else if (!strcmp(field, "host"))
			v = x->info.http_host;
		else if (!strcmp(field, "ua"))
			v = x->info.http_ua;
		else if (!strcmp(field, "dns"))
			v = x->info.dns_query;
		else if (!strcmp(field, "proto"))
			v = x->info.proto;
		else
			v = x->info.is_mining ? "1" : "";
		if (want ? strstr(v, want) != NULL : v[0] != '\0')
			return x;
	}
	return NULL;
}

START_TEST(test_corpus_captures)
{
	char path[1024];
	corpus_run run;
	const cflow *x;

	if (!corpus_path("corpus/benign/ndpi_google_ssl.pcap", path, sizeof(path))) {
		printf("test_corpus_captures: no shared corpus here, skipped\n");
		return;
	}

	/* An SSLv2-format ClientHello: no extensions, so no SNI; TLS.Google by address. */
	memset(&run, 0, sizeof(run));
	ck_assert_int_eq(corpus_run_file(path, &run), 0);
	x = find_flow(&run, "proto", "TLS");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->info.sni, "");
	free(run.flows);

	ck_assert_ptr_nonnull(corpus_path("corpus/benign/ndpi_netflix.pcap", path, sizeof(path)));
	memset(&run, 0, sizeof(run));
	ck_assert_int_eq(corpus_run_file(path, &run), 0);
	x = find_flow(&run, "sni", "api-global.netflix.com");
	ck_assert_ptr_nonnull(x);
	ck_assert(strstr(x->info.proto, "TLS") != NULL);
	x = find_flow(&run, "host", "api-global.netflix.com");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->info.http_ua, "Argo/900 CFNetwork/808.2.16 Darwin/16.3.0");
	ck_assert_ptr_nonnull(find_flow(&run, "dns", NULL));
	free(run.flows);

	ck_assert_ptr_nonnull(corpus_path("corpus/benign/ndpi_1kxun.pcap", path, sizeof(path)));
	memset(&run, 0, sizeof(run));
	ck_assert_int_eq(corpus_run_file(path, &run), 0);
	x = find_flow(&run, "dns", "jp.kankan.1kxun.mobi");
	ck_assert_ptr_nonnull(x);
	ck_assert(strstr(x->info.proto, "DNS") != NULL);
	ck_assert_uint_eq(x->info.n_answers, 1);
	ck_assert_uint_eq(x->info.answer_ver[0], 4);
	{
		static const uint8_t want[4] = {106, 185, 35, 110};
		ck_assert(memcmp(x->info.answer[0], want, 4) == 0);
	}
	free(run.flows);

	ck_assert_ptr_nonnull(corpus_path(
		"corpus/mining/ndpi_mining_zec-stratum_xmr-cryptonote_eth-ethproxy.pcapng", path,
		sizeof(path)));
	memset(&run, 0, sizeof(run));
	ck_assert_int_eq(corpus_run_file(path, &run), 0);
	x = find_flow(&run, "mining", NULL);
	ck_assert_ptr_nonnull(x);
	ck_assert(strstr(x->info.proto, "Mining") != NULL);
	free(run.flows);
}
END_TEST

static Suite *ndpi_suite(void)
{
	Suite *s = suite_create("detect_ndpi");
	TCase *tc = tcase_create("adapter");
	TCase *slow = tcase_create("slow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_version_and_null);
	tcase_add_test(tc, test_tls_sni);
	tcase_add_test(tc, test_tls_sni_ipv6_other_port);
	tcase_add_test(tc, test_http_host_ua);
	tcase_add_test(tc, test_http_response_category);
	tcase_add_test(tc, test_labels_only_feed);
	tcase_add_test(tc, test_dns_query_answer);
	tcase_add_test(tc, test_dns_cname_and_aaaa);
	tcase_add_test(tc, test_stratum_mining);
	tcase_add_test(tc, test_giveup_after_max_packets);
	tcase_add_test(tc, test_giveup_after_set_max_packets);
	tcase_add_test(tc, test_giveup_guess);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(slow, setup, teardown);
	tcase_add_test(slow, test_truncated_packets);
	tcase_add_test(slow, test_fuzz_random_payloads);
	tcase_add_test(slow, test_one_module_per_thread);
	tcase_add_test(slow, test_corpus_captures);
	tcase_set_timeout(slow, 900);
	suite_add_tcase(s, slow);
	return s;
}

int main(void)
{
	return mt_test_run(ndpi_suite());
}
