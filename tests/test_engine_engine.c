/* test_engine_engine.c - the whole pipeline on hand-made frames: hits, updates, no false hits, caps. */
#include <dirent.h>
#include <stdint.h>

#include "capture/capture.h"
#include "engine/engine.h"
#include "mt_test.h"
#include "mt_tls_hello.h"

/* A sink that keeps records in memory. */
typedef struct mem_sink {
	mt_sink base;
	char *rec[64];
	int n;
} mem_sink;

static int ms_write(mt_sink *s, const char *json, size_t len)
{
	mem_sink *m = (mem_sink *)s;

	if (m->n < 64)
		m->rec[m->n++] = strndup(json, len);
	s->written++;
	return 0;
}

static int ms_flush(mt_sink *s)
{
	(void)s;
	return 0;
}

static int ms_close(mt_sink *s)
{
	mem_sink *m = (mem_sink *)s;
	for (int i = 0; i < m->n; i++)
		free(m->rec[i]);
	m->n = 0;
	return 0;
}

static void ms_init(mem_sink *m)
{
	memset(m, 0, sizeof(*m));
	m->base.name = "mem";
	m->base.write = ms_write;
	m->base.flush = ms_flush;
	m->base.close = ms_close;
}

/*
 * Allocation counter: this test links with -Wl,--wrap=malloc,calloc,realloc
 * (tests/meson.build), so every allocation of the engine, stream and
 * detector code goes through these (nDPI's own, inside its shared library,
 * does not).
 */
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
static unsigned long n_allocs;

void *__wrap_malloc(size_t n)
{
	n_allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	n_allocs++;
	return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	n_allocs++;
	return __real_realloc(p, n);
}

/* One TCP endpoint pair and its sequence numbers. */
typedef struct conn {
	uint8_t cli[4], srv[4];
	uint16_t cport, sport;
	uint32_t cseq, sseq;
	uint64_t ts;
} conn;

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + TCP frame; returns its length. */
static size_t tcp_frame(uint8_t *f, const conn *c, int from_cli, uint8_t flags, uint32_t seq,
			uint32_t ack, const char *data, size_t dlen)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	size_t iplen = 20 + 20 + dlen;
	uint16_t s;

	memset(f, 0, 14 + iplen);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8), ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, from_cli ? c->cli : c->srv, 4);
	memcpy(ip + 16, from_cli ? c->srv : c->cli, 4);
	s = csum(ip, 20, 0);
	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	tcp[0] = (uint8_t)((from_cli ? c->cport : c->sport) >> 8);
	tcp[1] = (uint8_t)(from_cli ? c->cport : c->sport);
	tcp[2] = (uint8_t)((from_cli ? c->sport : c->cport) >> 8);
	tcp[3] = (uint8_t)(from_cli ? c->sport : c->cport);
	tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16), tcp[6] = (uint8_t)(seq >> 8), tcp[7] = (uint8_t)seq;
	tcp[8] = (uint8_t)(ack >> 24), tcp[9] = (uint8_t)(ack >> 16), tcp[10] = (uint8_t)(ack >> 8), tcp[11] = (uint8_t)ack;
	tcp[12] = 0x50;
	tcp[13] = flags;
	tcp[14] = 0xff, tcp[15] = 0xff;
	memcpy(tcp + 20, data, dlen);
	return 14 + iplen;
}

static void handshake(mt_engine *e, conn *c)
{
	uint8_t f[2048];
	size_t n;

	n = tcp_frame(f, c, 1, 0x02, c->cseq, 0, "", 0);
	mt_engine_frame(e, 1, c->ts, f, (uint32_t)n, (uint32_t)n);
	n = tcp_frame(f, c, 0, 0x12, c->sseq, c->cseq + 1, "", 0);
	mt_engine_frame(e, 1, c->ts += 1000, f, (uint32_t)n, (uint32_t)n);
	c->cseq++, c->sseq++;
	n = tcp_frame(f, c, 1, 0x10, c->cseq, c->sseq, "", 0);
	mt_engine_frame(e, 1, c->ts += 1000, f, (uint32_t)n, (uint32_t)n);
}

static void send_bytes(mt_engine *e, conn *c, int from_cli, const void *s, size_t len, uint64_t dt_us)
{
	uint8_t f[2048];
	size_t n;

	c->ts += dt_us;
	if (from_cli) {
		n = tcp_frame(f, c, 1, 0x18, c->cseq, c->sseq, s, len);
		c->cseq += (uint32_t)len;
	} else {
		n = tcp_frame(f, c, 0, 0x18, c->sseq, c->cseq, s, len);
		c->sseq += (uint32_t)len;
	}
	mt_engine_frame(e, 1, c->ts, f, (uint32_t)n, (uint32_t)n);
}

static void send_data(mt_engine *e, conn *c, int from_cli, const char *s, uint64_t dt_us)
{
	send_bytes(e, c, from_cli, s, strlen(s), dt_us);
}

static void fin(mt_engine *e, conn *c)
{
	uint8_t f[128];
	size_t n = tcp_frame(f, c, 1, 0x11, c->cseq, c->sseq, "", 0);
	mt_engine_frame(e, 1, c->ts += 1000, f, (uint32_t)n, (uint32_t)n);
	n = tcp_frame(f, c, 0, 0x11, c->sseq, c->cseq + 1, "", 0);
	mt_engine_frame(e, 1, c->ts += 1000, f, (uint32_t)n, (uint32_t)n);
}

static mt_detect_reg reg;
static mt_engine *eng;
static mem_sink sink;

static void setup_ndpi(int ndpi)
{
	mt_engine_cfg cfg;

	ck_assert_int_eq(mt_detect_reg_init(&reg, 1, NULL, NULL), 0);
	mt_engine_cfg_default(&cfg);
	cfg.ndpi = ndpi;
	cfg.flow.max_flows = 1000;
	eng = mt_engine_new(&cfg, &reg);
	ck_assert_ptr_nonnull(eng);
	ms_init(&sink);
	mt_engine_add_sink(eng, &sink.base);
}

static void setup(void)
{
	setup_ndpi(1);
}

static void teardown(void)
{
	mt_engine_free(eng);
	ms_close(&sink.base);
	mt_detect_reg_fini(&reg);
}

static conn pool_conn(void)
{
	conn c = {{192, 0, 2, 10}, {203, 0, 113, 5}, 49152, 3333, 1000, 5000, 1700000000000000ull};
	return c;
}

START_TEST(test_stratum_session)
{
	conn c = pool_conn();

	handshake(eng, &c);
	send_data(eng, &c, 1, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\"]}\n", 1000);
	ck_assert_int_eq(sink.n, 0);
	send_data(eng, &c, 0, "{\"id\":1,\"result\":[[[\"mining.set_difficulty\",\"1\"],[\"mining.notify\",\"1\"]],\"08000002\",4],\"error\":null}\n", 20000);
	ck_assert_int_eq(sink.n, 1);
	ck_assert_ptr_nonnull(strstr(sink.rec[0], "\"event_type\":\"mining\",\"src_ip\":\"192.0.2.10\",\"src_port\":49152,\"dest_ip\":\"203.0.113.5\",\"dest_port\":3333,\"proto\":\"TCP\""));
	ck_assert_ptr_nonnull(strstr(sink.rec[0], "\"protocol\":\"stratum\""));
	ck_assert_ptr_nonnull(strstr(sink.rec[0], "\"agent\":\"cgminer/4.12.1\""));
	ck_assert_ptr_nonnull(strstr(sink.rec[0], "\"detector\":\"stratum\""));
	ck_assert_ptr_nonnull(strstr(sink.rec[0], "\"status\":\"new\""));
	send_data(eng, &c, 1, "{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"wallet1.rig7\",\"x\"]}\n", 1000);
	send_data(eng, &c, 0, "{\"id\":2,\"result\":true,\"error\":null}\n{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[1024]}\n", 20000);
	send_data(eng, &c, 1, "{\"id\":3,\"method\":\"mining.submit\",\"params\":[\"wallet1.rig7\",\"1\",\"00000000\",\"5f5e1000\",\"0a0b0c0d\"]}\n", 10000000);
	send_data(eng, &c, 0, "{\"id\":3,\"result\":true,\"error\":null}\n", 20000);
	fin(eng, &c);
	mt_engine_flush(eng);
	/* The evidence grew after the first record: the flow's end gives a final record. */
	ck_assert_int_eq(sink.n, 2);
	ck_assert_ptr_nonnull(strstr(sink.rec[1], "\"status\":\"end\",\"seq\":2"));
	ck_assert_ptr_nonnull(strstr(sink.rec[1], "\"worker\":\"rig7\""));
	ck_assert_ptr_nonnull(strstr(sink.rec[1], "\"difficulty\":1024"));
	ck_assert_ptr_nonnull(strstr(sink.rec[1], "\"shares\":1"));
	/* Same community_id in both records. */
	ck_assert_int_eq(strncmp(strstr(sink.rec[0], "\"community_id\""), strstr(sink.rec[1], "\"community_id\""), 47), 0);
	ck_assert_uint_eq(mt_engine_stats_get(eng)->hits_mining, 1);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->active, 0);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->mem, 0);
}
END_TEST

/*
 * nDPI only where it adds information: a stratum flow identified at the
 * pool's first answer never reaches nDPI (its first packet was held back and
 * dropped unread; no app_proto); an HTTP flow never does either, since
 * behaviour, the one detector that reads nDPI's labels, lets HTTP go at its
 * first bytes; while a flow no detector identifies and behaviour keeps
 * watching gets nDPI with its held packets, in order.
 */
START_TEST(test_ndpi_held_back)
{
	conn c = pool_conn();
	const mt_engine_stats *st = mt_engine_stats_get(eng);

	handshake(eng, &c);
	send_data(eng, &c, 1, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\"]}\n", 1000);
	send_data(eng, &c, 0, "{\"id\":1,\"result\":[[[\"mining.notify\",\"1\"]],\"08000002\",4],\"error\":null}\n", 20000);
	ck_assert_int_eq(sink.n, 1);
	ck_assert_ptr_null(strstr(sink.rec[0], "\"app_proto\""));
	ck_assert_uint_eq(st->ndpi_flows, 0);
	ck_assert_uint_eq(st->ndpi_packets, 0);
	ck_assert_uint_eq(st->ndpi_dropped, 1);
	fin(eng, &c);

	c = pool_conn();
	c.cport = 49153;
	c.sport = 80;
	handshake(eng, &c);
	send_data(eng, &c, 1, "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88\r\n\r\n", 1000);
	ck_assert_uint_eq(st->ndpi_flows, 0); /* held */
	send_data(eng, &c, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", 1000);
	send_data(eng, &c, 0, "ok", 1000);
	ck_assert_uint_eq(st->ndpi_flows, 0);
	ck_assert_uint_eq(st->ndpi_dropped, 2);
	fin(eng, &c);

	c = pool_conn();
	c.cport = 49154;
	c.sport = 6379;
	handshake(eng, &c);
	send_data(eng, &c, 1, "*1\r\n$4\r\nPING\r\n", 1000);
	ck_assert_uint_eq(st->ndpi_flows, 0); /* held */
	send_data(eng, &c, 0, "+PONG\r\n", 1000);
	send_data(eng, &c, 1, "*1\r\n$4\r\nPING\r\n", 1000);
	/* The third payload packet starts nDPI with the two held ones. */
	ck_assert_uint_eq(st->ndpi_flows, 1);
	ck_assert_uint_ge(st->ndpi_packets, 2);
	fin(eng, &c);

	/* TLS from its first record: behaviour watches it whatever nDPI would name it, so no nDPI */
	{
		uint8_t hello[300];
		size_t n = tls_hello(hello, "www.example.org");

		c = pool_conn();
		c.cport = 49155;
		c.sport = 443;
		handshake(eng, &c);
		send_bytes(eng, &c, 1, hello, n, 1000);
		send_bytes(eng, &c, 0, "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9, 1000);
		send_bytes(eng, &c, 1, "\x17\x03\x03\x00\x02zz", 7, 1000);
		ck_assert_uint_eq(st->ndpi_flows, 1);
		ck_assert_uint_eq(st->ndpi_dropped, 3);
		fin(eng, &c);
	}
	mt_engine_flush(eng);
	ck_assert_int_eq(sink.n, 1);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->mem, 0);
}
END_TEST

START_TEST(test_benign_jsonrpc)
{
	conn c = pool_conn();

	c.sport = 4444;
	handshake(eng, &c);
	send_data(eng, &c, 1, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[\"hello\"]}\n", 1000);
	send_data(eng, &c, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"hello\"}\n", 1000);
	fin(eng, &c);
	mt_engine_flush(eng);
	ck_assert_int_eq(sink.n, 0);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->mem, 0);
}
END_TEST

START_TEST(test_http_not_stratum)
{
	conn c = pool_conn();

	c.sport = 80;
	handshake(eng, &c);
	send_data(eng, &c, 1, "GET /mining.notify HTTP/1.1\r\nHost: example.com\r\n\r\n", 1000);
	send_data(eng, &c, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1000);
	fin(eng, &c);
	mt_engine_flush(eng);
	ck_assert_int_eq(sink.n, 0);
}
END_TEST

/*
 * No allocation per packet: a long mining session allocates while its
 * flow starts (states, evidence, the record buffer, stream buffers doubling
 * up to their cap) and then nothing, however many packets follow.
 */
static void long_session(int packets)
{
	conn c = pool_conn();
	char line[160];

	handshake(eng, &c);
	send_data(eng, &c, 1, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\"]}\n", 1000);
	send_data(eng, &c, 0, "{\"id\":1,\"result\":[[[\"mining.notify\",\"1\"]],\"08000002\",4],\"error\":null}\n", 1000);
	for (int i = 0; i < packets; i++) {
		snprintf(line, sizeof(line), "{\"id\":%d,\"method\":\"mining.submit\",\"params\":[\"w.r\",\"1\",\"00000000\",\"5f5e1000\",\"%08x\"]}\n",
			 i + 2, (unsigned)i);
		send_data(eng, &c, i & 1, line, 100); /* 100 us apart: no update record is due */
	}
}

START_TEST(test_no_alloc_per_packet)
{
	unsigned long a0, a1, a2;

	long_session(200);
	a0 = n_allocs;
	long_session(0); /* same flow, already identified: its handshake packets are retransmissions */
	a1 = n_allocs;
	long_session(4000);
	a2 = n_allocs;
	ck_assert_uint_gt(a0, 0); /* the wrap is in place */
	ck_assert_uint_eq(sink.n, 1);
	/* 4000 more packets: at most the stream buffers' last doublings (256 B to 64 KiB). */
	ck_assert_msg(a2 - a1 <= 16, "%lu allocations for 4000 packets", a2 - a1);
	ck_assert_uint_le(a1 - a0, 2);

	/* An unknown binary protocol: behaviour keeps asking at every packet. */
	{
		conn c = pool_conn();
		char pl[64];
		unsigned long b0 = 0, b1;
		uint64_t calls = 0;

		c.cport = 50000;
		c.sport = 9000;
		handshake(eng, &c);
		for (int i = 0; i < 4200; i++) {
			if (i == 200) {
				b0 = n_allocs;
				calls = mt_engine_stats_get(eng)->detector_calls;
			}
			for (size_t k = 0; k < sizeof(pl) - 1; k++)
				pl[k] = (char)(0x80 | ((i * 31 + (int)k * 7) & 0x7f));
			pl[sizeof(pl) - 1] = '\0';
			send_data(eng, &c, i % 3 == 0, pl, 100);
		}
		b1 = n_allocs;
		ck_assert_uint_ge(mt_engine_stats_get(eng)->detector_calls - calls, 4000);
		ck_assert_msg(b1 - b0 <= 16, "%lu allocations for 4000 packets", b1 - b0);
	}
	mt_engine_flush(eng);
}
END_TEST

/*
 * A flow every built-in detector but behaviour has let go keeps only its
 * small state: far less than the block of all detectors' states it held
 * before states were per detector.
 */
START_TEST(test_states_freed_early)
{
	conn c = pool_conn();
	uint64_t before = mt_engine_flow_stats(eng)->mem;

	c.sport = 80;
	handshake(eng, &c);
	send_data(eng, &c, 1, "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n", 1000);
	send_data(eng, &c, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1000);
	send_data(eng, &c, 1, "GET /b.html HTTP/1.1\r\nHost: example.com\r\n\r\n", 1000);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->active, 1);
	ck_assert_uint_lt(mt_engine_flow_stats(eng)->mem - before, reg.state_total);
	ck_assert_uint_gt(mt_engine_stats_get(eng)->det_excluded[0], 0);
	fin(eng, &c);
	mt_engine_flush(eng);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->mem, 0);
	ck_assert_int_eq(sink.n, 0);
}
END_TEST

START_TEST(test_eviction_flood)
{
	uint8_t f[128];
	uint32_t i;
	conn c = pool_conn();

	/* 5000 SYN-only flows into a 1000-flow table: evictions counted, memory bounded. */
	for (i = 0; i < 5000; i++) {
		size_t n;
		c.cport = (uint16_t)(1024 + i);
		c.cli[3] = (uint8_t)(i >> 8);
		n = tcp_frame(f, &c, 1, 0x02, i, 0, "", 0);
		mt_engine_frame(eng, 1, c.ts + i, f, (uint32_t)n, (uint32_t)n);
	}
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->active, 1000);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->evicted, 4000);
	mt_engine_flush(eng);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->mem, 0);
	ck_assert_int_eq(sink.n, 0);
}
END_TEST

START_TEST(test_garbage_frames)
{
	uint8_t f[256];
	uint32_t i, j, seed = 12345;

	for (i = 0; i < 20000; i++) {
		uint32_t len = (seed = seed * 1103515245u + 12345u) % sizeof(f);
		for (j = 0; j < len; j++)
			f[j] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
		/* Mostly valid IPv4/TCP headers with random content after them. */
		if (len > 40 && (i & 1)) {
			f[12] = 0x08, f[13] = 0x00, f[14] = 0x45;
			f[23] = (i & 2) ? 6 : 17;
		}
		mt_engine_frame(eng, (i % 3) ? 1 : 101, 1700000000000000ull + i, f, len, len);
	}
	mt_engine_flush(eng);
	ck_assert_uint_eq(mt_engine_stats_get(eng)->packets, 20000);
	ck_assert_uint_gt(mt_engine_decode_stats(eng)->errors, 0);
	ck_assert_uint_eq(mt_engine_flow_stats(eng)->mem, 0);
}
END_TEST

/* A UDP DNS response from resolver 192.0.2.53:53: qname -> one A record addr with ttl (RFC 1035 4.1). */
static void dns_answer(mt_engine *e, uint64_t ts, const char *qname, const uint8_t addr[4], uint32_t ttl)
{
	uint8_t f[512], *ip = f + 14, *udp = ip + 20, *d = udp + 8;
	size_t n = 0, iplen;
	uint16_t s;

	memset(f, 0, sizeof f);
	memcpy(d, "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00", 12);
	n = 12;
	for (const char *p = qname; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		d[n++] = (uint8_t)l;
		memcpy(d + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	d[n++] = 0;
	memcpy(d + n, "\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01", 10);
	n += 10;
	d[n++] = (uint8_t)(ttl >> 24), d[n++] = (uint8_t)(ttl >> 16), d[n++] = (uint8_t)(ttl >> 8), d[n++] = (uint8_t)ttl;
	d[n++] = 0, d[n++] = 4;
	memcpy(d + n, addr, 4);
	n += 4;
	iplen = 20 + 8 + n;
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8), ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc0\x00\x02\x35", 4);
	memcpy(ip + 16, "\xc0\x00\x02\x0a", 4);
	s = csum(ip, 20, 0);
	ip[10] = (uint8_t)(s >> 8), ip[11] = (uint8_t)s;
	udp[0] = 0, udp[1] = 53, udp[2] = 0xc3, udp[3] = 0x50;
	udp[4] = (uint8_t)((8 + n) >> 8), udp[5] = (uint8_t)(8 + n);
	mt_engine_frame(e, 1, ts, f, (uint32_t)(14 + iplen), (uint32_t)(14 + iplen));
}

/* A stratum session whose pool address only a DNS answer named: the hit carries that name. */
static void dns_then_stratum(uint64_t answer_before_us, uint32_t ttl)
{
	conn c = pool_conn();

	dns_answer(eng, c.ts - answer_before_us, "Stratum.Pool.Example", c.srv, ttl);
	handshake(eng, &c);
	send_data(eng, &c, 1, "{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cgminer/4.12.1\"]}\n", 1000);
	send_data(eng, &c, 0, "{\"id\":1,\"result\":[[[\"mining.notify\",\"1\"]],\"08000002\",4],\"error\":null}\n", 20000);
	ck_assert_int_eq(sink.n, 1);
}

START_TEST(test_dns_pool_host)
{
	dns_then_stratum(1000000, 300);
	ck_assert_ptr_nonnull(strstr(sink.rec[0], "\"pool_host\":\"stratum.pool.example\""));
	ck_assert_uint_eq(mt_engine_dns_stats(eng)->responses, 1);
	ck_assert_uint_eq(mt_engine_dns_stats(eng)->hits, 1);
}
END_TEST

START_TEST(test_dns_ttl_expired)
{
	/* answered 10 minutes before, TTL 60 s: the name no longer holds */
	dns_then_stratum(600000000, 60);
	ck_assert_ptr_null(strstr(sink.rec[0], "\"pool_host\""));
	ck_assert_uint_eq(mt_engine_dns_stats(eng)->expired, 1);
}
END_TEST

START_TEST(test_dns_cache_off)
{
	mt_engine_cfg cfg;

	mt_engine_free(eng);
	ms_close(&sink.base);
	mt_engine_cfg_default(&cfg);
	cfg.flow.max_flows = 1000;
	cfg.dns_cache_entries = 0;
	eng = mt_engine_new(&cfg, &reg);
	ck_assert_ptr_nonnull(eng);
	ms_init(&sink);
	mt_engine_add_sink(eng, &sink.base);
	dns_then_stratum(1000000, 300);
	ck_assert_ptr_null(strstr(sink.rec[0], "\"pool_host\""));
	ck_assert_uint_eq(mt_engine_dns_stats(eng)->responses, 0);
}
END_TEST

/* ---- batches ---- */

/* A sink that keeps every record, one a line. */
typedef struct text_sink {
	mt_sink base;
	char *buf;
	size_t len, cap;
} text_sink;

static int ts_write(mt_sink *s, const char *json, size_t len)
{
	text_sink *t = (text_sink *)s;

	if (t->len + len + 2 > t->cap) {
		size_t nc = (t->len + len + 2) * 2;
		char *nb = realloc(t->buf, nc);

		ck_assert_ptr_nonnull(nb);
		t->buf = nb;
		t->cap = nc;
	}
	memcpy(t->buf + t->len, json, len);
	t->len += len;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
	s->written++;
	return 0;
}

static int ts_nop(mt_sink *s)
{
	(void)s;
	return 0;
}

/* The frames of a capture, copied. */
typedef struct frame_list {
	mt_frame *fr;
	uint32_t n, cap;
	int linktype;
} frame_list;

static void collect(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data, uint32_t cap_len,
		    uint32_t wire_len)
{
	frame_list *l = ctx;
	uint8_t *copy = malloc(cap_len ? cap_len : 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, data, cap_len);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->fr = realloc(l->fr, l->cap * sizeof(*l->fr));
		ck_assert_ptr_nonnull(l->fr);
	}
	l->fr[l->n].data = copy;
	l->fr[l->n].ts_us = ts_us;
	l->fr[l->n].cap_len = cap_len;
	l->fr[l->n].wire_len = wire_len;
	l->n++;
	l->linktype = linktype;
}

/* The records of l through a new engine: frame by frame (chunk 0) or mt_engine_frames by chunk. */
static char *records_of(const frame_list *l, uint32_t chunk)
{
	mt_engine_cfg cfg;
	mt_engine *e;
	text_sink t;

	memset(&t, 0, sizeof(t));
	t.base.name = "text";
	t.base.write = ts_write;
	t.base.flush = ts_nop;
	t.base.close = ts_nop;
	mt_engine_cfg_default(&cfg);
	cfg.flow.max_flows = 1000;
	cfg.stage_clock = 1; /* the sampled path too */
	e = mt_engine_new(&cfg, &reg);
	ck_assert_ptr_nonnull(e);
	mt_engine_add_sink(e, &t.base);
	for (uint32_t i = 0; i < l->n; i += chunk ? chunk : 1) {
		if (!chunk)
			mt_engine_frame(e, l->linktype, l->fr[i].ts_us, l->fr[i].data, l->fr[i].cap_len,
					l->fr[i].wire_len);
		else
			mt_engine_frames(e, l->linktype, l->fr + i, l->n - i < chunk ? l->n - i : chunk);
	}
	mt_engine_flush(e);
	ck_assert_uint_eq(mt_engine_stats_get(e)->packets, l->n);
	mt_engine_free(e);
	return t.buf ? t.buf : strdup("");
}

/*
 * mt_engine_frames reads ahead (decode, hash, prefetch) but must write what
 * mt_engine_frame writes, in the same order: every golden capture, in
 * batches of 1, 16 and 37 (cut into 16s), against frame by frame.
 */
START_TEST(test_frames_batch_same_records)
{
	static const uint32_t chunks[] = { 1, 16, 37 };
	char dir[512], path[1024], err[256];
	size_t total = 0;
	int files = 0;
	struct dirent *de;
	DIR *d = opendir(mt_test_src("pcaps", dir, sizeof(dir)));

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		frame_list l = {0};
		mt_capture *c;
		char *want;

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".pcap") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		c = mt_capture_open_file(path, NULL, err, sizeof(err));
		if (!c)
			continue; /* the captures that test bad files */
		mt_capture_run(c, collect, &l, NULL);
		mt_capture_close(c);
		want = records_of(&l, 0);
		total += strlen(want);
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			char *got = records_of(&l, chunks[k]);

			ck_assert_msg(strcmp(got, want) == 0, "%s in batches of %u: records differ",
				      de->d_name, chunks[k]);
			free(got);
		}
		free(want);
		for (uint32_t i = 0; i < l.n; i++)
			free((void *)l.fr[i].data);
		free(l.fr);
		files++;
	}
	closedir(d);
	ck_assert_int_gt(files, 20);
	ck_assert_uint_gt(total, 10000); /* they do write records */
}
END_TEST

/*
 * A TLS client is not given to nDPI (behaviour watches it from its first record), so nDPI's
 * application label cannot keep behaviour off a known application's long-lived connection;
 * the engine matches the server name against nDPI's host list instead (veto_known_app).
 * Fifteen minutes of share-like records: reported under an unknown name, refused under an
 * application's.
 */
static int tls_share_like(const char *sni)
{
	static const unsigned gap_s[] = { 21, 34, 12, 40, 27, 18, 33, 25, 15, 38, 22, 29, 17, 36, 24,
					   31, 14, 28, 35, 19, 26, 39, 16, 30, 23, 37, 20, 32, 13, 41 };
	uint8_t hello[300], rec[200];
	size_t n = tls_hello(hello, sni);
	conn c = pool_conn();
	int before = sink.n;
	uint64_t since_push = 0;
	static unsigned run;

	c.sport = 443;
	c.cport = (uint16_t)(50000 + run);
	c.ts += (uint64_t)run++ * 3600 * 1000000u; /* each session an hour after the last */
	handshake(eng, &c);
	send_bytes(eng, &c, 1, hello, n, 1000);
	send_bytes(eng, &c, 0, "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9, 20000);
	for (size_t i = 0; i < sizeof gap_s / sizeof gap_s[0]; i++) {
		size_t len = 110 + (i * 7) % 40;

		memset(rec, 0x42, sizeof rec);
		rec[0] = 0x17, rec[1] = 3, rec[2] = 3, rec[3] = 0, rec[4] = (uint8_t)(len - 5);
		send_bytes(eng, &c, 1, rec, len, (uint64_t)gap_s[i] * 1000000u);
		since_push += gap_s[i];
		if (since_push >= 45) { /* a new job: the pool pushes after a quiet spell */
			rec[4] = 200 - 5;
			send_bytes(eng, &c, 0, rec, 200, 300000);
			since_push = 0;
		}
	}
	fin(eng, &c);
	mt_engine_flush(eng);
	return sink.n - before;
}

START_TEST(test_tls_known_app_veto)
{
	const mt_engine_stats *st = mt_engine_stats_get(eng);

	ck_assert_int_ge(tls_share_like("pool.unknown-host.example"), 1);
	ck_assert_uint_eq(st->app_vetoed, 0);
	ck_assert_ptr_nonnull(strstr(sink.rec[sink.n - 1], "\"protocol\":\"behaviour\""));
	ck_assert_ptr_nonnull(strstr(sink.rec[sink.n - 1], "pool.unknown-host.example"));
	ck_assert_int_eq(tls_share_like("mmg.whatsapp.net"), 0);
	ck_assert_uint_eq(st->app_vetoed, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("engine_engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stratum_session);
	tcase_add_test(tc, test_ndpi_held_back);
	tcase_add_test(tc, test_benign_jsonrpc);
	tcase_add_test(tc, test_http_not_stratum);
	tcase_add_test(tc, test_eviction_flood);
	tcase_add_test(tc, test_no_alloc_per_packet);
	tcase_add_test(tc, test_states_freed_early);
	tcase_add_test(tc, test_garbage_frames);
	tcase_add_test(tc, test_dns_pool_host);
	tcase_add_test(tc, test_dns_ttl_expired);
	tcase_add_test(tc, test_dns_cache_off);
	tcase_add_test(tc, test_frames_batch_same_records);
	tcase_add_test(tc, test_tls_known_app_veto);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
