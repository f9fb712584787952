/* test_flow_flow.c - the flow table: keys, direction, TCP state, timeouts, caps, eviction, flush order. */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/flow.h"
#include "util/siphash.h"

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

#define SEC 1000000ull
#define T0 (1700000000ull * SEC) /* an ordinary epoch time, in microseconds */

static const uint8_t fixed_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* ---- what the end callback saw ---- */

typedef struct user_blob {
	uint64_t id;    /* the flow this blob was attached to */
	int64_t mem;    /* bytes it accounted with mt_flowtab_mem_add */
} user_blob;

typedef struct end_log {
	mt_flowtab *t;
	uint64_t n;
	uint64_t by_reason[MT_FLOW_END__COUNT];
	uint64_t ids[64];   /* the first 64 ended ids, in order */
	int reasons[64];
	uint64_t next_seq;  /* if non-zero: every ended id must be this, then ++ */
	int seq_fail;
	int user_fail;      /* a flow ended without its blob, or with someone else's */
} end_log;

static void on_end(mt_flow *f, int reason, void *ctx)
{
	end_log *L = ctx;
	user_blob *u = f->user;

	if (!u || u->id != f->id)
		L->user_fail++;
	if (u) {
		if (u->mem)
			mt_flowtab_mem_add(L->t, -u->mem);
		free(u);
		f->user = NULL;
	}
	if (L->n < 64) {
		L->ids[L->n] = f->id;
		L->reasons[L->n] = reason;
	}
	if (L->next_seq) {
		if (f->id != L->next_seq)
			L->seq_fail++;
		L->next_seq++;
	}
	L->n++;
	L->by_reason[reason]++;
}

static mt_flowtab *new_table(const mt_flow_cfg *cfg, end_log *L)
{
	mt_flowtab *t;

	memset(L, 0, sizeof *L);
	t = mt_flowtab_new(cfg, fixed_key, on_end, L);
	ck_assert_ptr_nonnull(t);
	L->t = t;
	return t;
}

/* Flushes, checks that every created flow ended exactly once, frees. */
static void finish(mt_flowtab *t, end_log *L)
{
	const mt_flow_stats *st = mt_flowtab_stats(t);

	mt_flowtab_flush(t);
	ck_assert_uint_eq(st->active, 0);
	ck_assert_uint_eq(L->n, st->created);
	ck_assert_int_eq(L->user_fail, 0);
	ck_assert_uint_eq(st->mem, 0);
	mt_flowtab_free(t);
}

/* ---- packets ---- */

static void set_addr(uint8_t out[16], const char *s, uint8_t *ver)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*ver = 4;
		return;
	}
	ck_assert_int_eq(inet_pton(AF_INET6, s, out), 1);
	*ver = 6;
}

static mt_pkt mk(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		 uint8_t proto, uint8_t flags, uint64_t ts, uint32_t paylen)
{
	mt_pkt p;
	uint8_t v1, v2;

	memset(&p, 0, sizeof p);
	set_addr(p.src, src, &v1);
	set_addr(p.dst, dst, &v2);
	ck_assert_int_eq(v1, v2);
	p.ipver = v1;
	p.l4proto = proto;
	p.tcp_flags = proto == 6 ? flags : 0;
	p.sport = sport;
	p.dport = dport;
	p.ts_us = ts;
	p.payload_len = paylen;
	p.wire_len = p.cap_len = 54 + paylen;
	return p;
}

static mt_pkt tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		  uint8_t flags, uint64_t ts, uint32_t paylen)
{
	return mk(src, sport, dst, dport, 6, flags, ts, paylen);
}

static mt_pkt udp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		  uint64_t ts, uint32_t paylen)
{
	return mk(src, sport, dst, dport, 17, 0, ts, paylen);
}

/* Feeds one packet; attaches a user blob to a new flow. */
static mt_flow *feed(mt_flowtab *t, const mt_pkt *p, int *dir, int *created)
{
	int d = -1, c = -1;
	mt_flow *f = mt_flowtab_packet(t, p, &d, &c);

	if (f) {
		ck_assert(d == MT_DIR_C2S || d == MT_DIR_S2C);
		ck_assert(c == 0 || c == 1);
		if (c) {
			user_blob *u = calloc(1, sizeof *u);

			ck_assert_ptr_nonnull(u);
			ck_assert_ptr_null(f->user);
			u->id = f->id;
			f->user = u;
		} else {
			ck_assert_ptr_nonnull(f->user);
		}
	}
	if (dir)
		*dir = d;
	if (created)
		*created = c;
	return f;
}

static void addr_is(const uint8_t *a, const char *s)
{
	uint8_t b[16], v;

	set_addr(b, s, &v);
	ck_assert_mem_eq(a, b, 16);
}

/* ---- tests ---- */

/* A full handshake and teardown: one flow, right directions, counters and states. */
START_TEST(test_both_directions)
{
	end_log L;
	mt_flowtab *t = new_table(NULL, &L);
	const char *cli = "192.168.7.9", *srv = "45.9.20.1"; /* the client is key.hi */
	mt_pkt p;
	mt_flow *f, *g;
	int dir, created;

	p = tcp(cli, 51000, srv, 3333, SYN, T0, 0);
	f = feed(t, &p, &dir, &created);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(dir, MT_DIR_C2S);
	ck_assert_uint_eq(f->id, 1);
	ck_assert_int_eq(f->dir_certain, 1);
	ck_assert_int_eq(f->cli_is_lo, 0);
	ck_assert_int_eq(f->tcp_state, MT_TCP_SYN);
	addr_is(mt_flow_cli_addr(f), cli);
	addr_is(mt_flow_srv_addr(f), srv);
	ck_assert_uint_eq(mt_flow_cli_port(f), 51000);
	ck_assert_uint_eq(mt_flow_srv_port(f), 3333);
	addr_is(f->key.lo, srv);
	ck_assert_uint_eq(f->key.lo_port, 3333);

	p = tcp(srv, 3333, cli, 51000, SYN | ACK, T0 + 100, 0);
	g = feed(t, &p, &dir, &created);
	ck_assert_ptr_eq(g, f);
	ck_assert_int_eq(created, 0);
	ck_assert_int_eq(dir, MT_DIR_S2C);
	ck_assert_int_eq(f->tcp_state, MT_TCP_SYN);

	p = tcp(cli, 51000, srv, 3333, ACK, T0 + 200, 0);
	ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
	ck_assert_int_eq(dir, MT_DIR_C2S);
	ck_assert_int_eq(f->tcp_state, MT_TCP_EST);

	p = tcp(cli, 51000, srv, 3333, PSH | ACK, T0 + 300, 120);
	ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
	ck_assert_int_eq(dir, MT_DIR_C2S);
	p = tcp(srv, 3333, cli, 51000, PSH | ACK, T0 + 400, 700);
	ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
	ck_assert_int_eq(dir, MT_DIR_S2C);

	p = tcp(cli, 51000, srv, 3333, FIN | ACK, T0 + 500, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSING);
	p = tcp(cli, 51000, srv, 3333, FIN | ACK, T0 + 510, 0); /* retransmitted FIN: still one side */
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSING);
	p = tcp(srv, 3333, cli, 51000, FIN | ACK, T0 + 600, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSED);
	p = tcp(cli, 51000, srv, 3333, ACK, T0 + 700, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSED);

	ck_assert_uint_eq(f->pkts[MT_DIR_C2S], 6);
	ck_assert_uint_eq(f->pkts[MT_DIR_S2C], 3);
	ck_assert_uint_eq(f->bytes[MT_DIR_C2S], 120);
	ck_assert_uint_eq(f->bytes[MT_DIR_S2C], 700);
	ck_assert_uint_eq(f->first_us, T0);
	ck_assert_uint_eq(f->last_us, T0 + 700);
	ck_assert_uint_eq(mt_flowtab_stats(t)->created, 1);
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 1);
	finish(t, &L);
	ck_assert_uint_eq(L.by_reason[MT_FLOW_END_FLUSH], 1);
}
END_TEST

/* The client is key.lo here, and the capture starts at the SYN+ACK. */
START_TEST(test_synack_first)
{
	end_log L;
	mt_flowtab *t = new_table(NULL, &L);
	mt_pkt p;
	mt_flow *f;
	int dir;

	p = tcp("203.0.113.50", 8333, "10.1.1.1", 40123, SYN | ACK, T0, 0);
	f = feed(t, &p, &dir, NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(dir, MT_DIR_S2C);
	ck_assert_int_eq(f->dir_certain, 1);
	ck_assert_int_eq(f->cli_is_lo, 1);
	addr_is(mt_flow_cli_addr(f), "10.1.1.1");
	ck_assert_uint_eq(mt_flow_cli_port(f), 40123);
	ck_assert_uint_eq(mt_flow_srv_port(f), 8333);
	ck_assert_int_eq(f->tcp_state, MT_TCP_SYN);
	p = tcp("10.1.1.1", 40123, "203.0.113.50", 8333, ACK, T0 + 10, 0);
	ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
	ck_assert_int_eq(dir, MT_DIR_C2S);
	ck_assert_int_eq(f->tcp_state, MT_TCP_EST);
	finish(t, &L);
}
END_TEST

/* Mid-session packets: direction from the port heuristics, not certain. */
START_TEST(test_port_heuristics)
{
	static const struct {
		uint8_t proto;
		uint16_t sport, dport;
		int sender_is_client;
	} v[] = {
		{ 6, 40000, 3333, 1 },   /* listed pool port */
		{ 6, 3333, 40000, 0 },
		{ 6, 443, 51515, 0 },    /* below 1024 */
		{ 6, 51515, 443, 1 },
		{ 6, 50000, 8080, 1 },
		{ 6, 14444, 61000, 0 },
		{ 17, 30303, 30304, 0 }, /* listed vs not: 30303 is the server */
		{ 17, 30304, 30303, 1 },
		{ 6, 80, 443, 0 },       /* both known: the lower port is the server */
		{ 6, 443, 80, 1 },
		{ 6, 3333, 4444, 0 },
		{ 6, 40000, 50000, 0 },  /* neither: the lower port is the server */
		{ 6, 50000, 40000, 1 },
		{ 17, 5000, 5000, 1 },   /* equal: the sender is the client */
		{ 6, 0, 0, 1 },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		end_log L;
		mt_flowtab *t = new_table(NULL, &L);
		mt_pkt p = mk("10.0.0.1", v[i].sport, "10.0.0.2", v[i].dport, v[i].proto, ACK, T0, 10);
		mt_flow *f;
		int dir;

		f = feed(t, &p, &dir, NULL);
		ck_assert_ptr_nonnull(f);
		ck_assert_msg(dir == (v[i].sender_is_client ? MT_DIR_C2S : MT_DIR_S2C),
			      "row %zu: %u -> %u", i, v[i].sport, v[i].dport);
		ck_assert_int_eq(f->dir_certain, 0);
		ck_assert_int_eq(f->tcp_state, v[i].proto == 6 ? MT_TCP_EST : MT_TCP_NONE);
		ck_assert_uint_eq(mt_flow_srv_port(f), v[i].sender_is_client ? v[i].dport : v[i].sport);
		finish(t, &L);
	}
}
END_TEST

/* A guess from ports is corrected (counters swapped) by a later SYN or SYN+ACK. */
START_TEST(test_direction_correction)
{
	for (int variant = 0; variant < 2; variant++) {
		end_log L;
		mt_flowtab *t = new_table(NULL, &L);
		/* The client uses a listed port as its source: the guess is wrong. */
		const char *cli = "10.0.0.1", *srv = "10.0.0.9";
		mt_pkt p;
		mt_flow *f;
		int dir;

		p = tcp(cli, 5555, srv, 40000, PSH | ACK, T0, 100);
		f = feed(t, &p, &dir, NULL);
		ck_assert_int_eq(dir, MT_DIR_S2C);
		ck_assert_int_eq(f->dir_certain, 0);
		p = tcp(srv, 40000, cli, 5555, PSH | ACK, T0 + 1, 30);
		ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
		ck_assert_int_eq(dir, MT_DIR_C2S);
		ck_assert_uint_eq(f->bytes[MT_DIR_S2C], 100);
		ck_assert_uint_eq(f->bytes[MT_DIR_C2S], 30);
		addr_is(mt_flow_cli_addr(f), srv);

		if (variant == 0)
			p = tcp(cli, 5555, srv, 40000, SYN, T0 + 2, 0);
		else
			p = tcp(srv, 40000, cli, 5555, SYN | ACK, T0 + 2, 0);
		ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
		ck_assert_int_eq(dir, variant == 0 ? MT_DIR_C2S : MT_DIR_S2C);
		ck_assert_int_eq(f->dir_certain, 1);
		addr_is(mt_flow_cli_addr(f), cli);
		ck_assert_uint_eq(mt_flow_cli_port(f), 5555);
		ck_assert_uint_eq(f->bytes[MT_DIR_C2S], 100);
		ck_assert_uint_eq(f->bytes[MT_DIR_S2C], 30);
		ck_assert_uint_eq(f->pkts[MT_DIR_C2S], variant == 0 ? 2 : 1);
		ck_assert_uint_eq(f->pkts[MT_DIR_S2C], variant == 0 ? 1 : 2);

		/* Once certain, a stray SYN+ACK from the client side changes nothing. */
		p = tcp(cli, 5555, srv, 40000, SYN | ACK, T0 + 3, 0);
		ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
		ck_assert_int_eq(dir, MT_DIR_C2S);
		addr_is(mt_flow_cli_addr(f), cli);
		finish(t, &L);
	}
}
END_TEST

/* A right guess is confirmed without a swap. */
START_TEST(test_direction_confirmed)
{
	end_log L;
	mt_flowtab *t = new_table(NULL, &L);
	mt_pkt p;
	mt_flow *f;
	int dir;

	p = tcp("10.0.0.1", 40000, "10.0.0.9", 3333, PSH | ACK, T0, 50);
	f = feed(t, &p, &dir, NULL);
	ck_assert_int_eq(dir, MT_DIR_C2S);
	p = tcp("10.0.0.1", 40000, "10.0.0.9", 3333, SYN, T0 + 1, 0);
	ck_assert_ptr_eq(feed(t, &p, &dir, NULL), f);
	ck_assert_int_eq(dir, MT_DIR_C2S);
	ck_assert_int_eq(f->dir_certain, 1);
	ck_assert_uint_eq(f->pkts[MT_DIR_C2S], 2);
	ck_assert_uint_eq(f->bytes[MT_DIR_C2S], 50);
	ck_assert_uint_eq(f->pkts[MT_DIR_S2C], 0);
	finish(t, &L);
}
END_TEST

static mt_flow_cfg timeout_cfg(void)
{
	mt_flow_cfg c;

	mt_flow_cfg_default(&c);
	c.tcp_new_timeout = 30;
	c.tcp_est_timeout = 600;
	c.tcp_closed_timeout = 10;
	c.udp_timeout = 120;
	return c;
}

/* An unrelated UDP packet, only to advance packet time. */
static void tick(mt_flowtab *t, uint64_t ts)
{
	mt_pkt p = udp("172.16.0.1", 1000, "172.16.0.2", 2000, ts, 0);

	ck_assert_ptr_nonnull(feed(t, &p, NULL, NULL));
}

/*
 * Each class (cls: 0 TCP new, 1 TCP established, 2 TCP closed, 3 UDP): the
 * flow survives a packet at exactly last + timeout and ends at
 * last + timeout + 1 us, with the right reason.
 */
static void check_timeout(int cls, uint32_t timeout_s, int want_reason)
{
	mt_flow_cfg cfg = timeout_cfg();
	end_log L;
	mt_flowtab *t;
	mt_pkt p;
	mt_flow *f;
	uint64_t last, id;

	cfg.udp_timeout = 100000; /* the ticking flow must not expire itself */
	if (cls == 3)
		cfg.udp_timeout = timeout_s;
	t = new_table(&cfg, &L);
	switch (cls) {
	case 0: /* TCP new: a SYN only */
		p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, SYN, T0, 0);
		f = feed(t, &p, NULL, NULL);
		ck_assert_int_eq(f->tcp_state, MT_TCP_SYN);
		break;
	case 1: /* TCP established, picked up mid-session */
		p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, ACK, T0, 10);
		f = feed(t, &p, NULL, NULL);
		ck_assert_int_eq(f->tcp_state, MT_TCP_EST);
		break;
	case 2: /* TCP closed by RST */
		p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, SYN, T0 - 5 * SEC, 0);
		f = feed(t, &p, NULL, NULL);
		p = tcp("10.0.0.2", 3333, "10.0.0.1", 40000, RST | ACK, T0, 0);
		ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
		ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSED);
		break;
	default: /* UDP */
		p = udp("10.0.0.1", 40000, "10.0.0.2", 3333, T0, 10);
		f = feed(t, &p, NULL, NULL);
		break;
	}
	ck_assert_ptr_nonnull(f);
	last = f->last_us;
	id = f->id;
	ck_assert_uint_eq(last, T0);

	tick(t, last + (uint64_t)timeout_s * SEC / 2);
	tick(t, last + (uint64_t)timeout_s * SEC);
	ck_assert_uint_eq(L.n, 0);
	mt_flowtab_expire(t, last + (uint64_t)timeout_s * SEC);
	ck_assert_uint_eq(L.n, 0);
	tick(t, last + (uint64_t)timeout_s * SEC + 1);
	ck_assert_uint_eq(L.n, 1);
	ck_assert_uint_eq(L.ids[0], id);
	ck_assert_int_eq(L.reasons[0], want_reason);
	ck_assert_uint_eq(mt_flowtab_stats(t)->ended[want_reason], 1);
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 1); /* the ticker */
	finish(t, &L);
}

START_TEST(test_timeout_tcp_new)
{
	check_timeout(0, 30, MT_FLOW_END_IDLE);
}
END_TEST

START_TEST(test_timeout_tcp_est)
{
	check_timeout(1, 600, MT_FLOW_END_IDLE);
}
END_TEST

START_TEST(test_timeout_tcp_closed)
{
	check_timeout(2, 10, MT_FLOW_END_CLOSED);
}
END_TEST

START_TEST(test_timeout_udp)
{
	check_timeout(3, 120, MT_FLOW_END_IDLE);
}
END_TEST

/* A flow moves lists with its state: after the handshake the SYN timeout no longer applies. */
START_TEST(test_timeout_class_moves)
{
	mt_flow_cfg cfg = timeout_cfg();
	end_log L;
	mt_flowtab *t = new_table(&cfg, &L);
	mt_pkt p;
	mt_flow *f;
	int created;

	p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, SYN, T0, 0);
	f = feed(t, &p, NULL, NULL);
	p = tcp("10.0.0.2", 3333, "10.0.0.1", 40000, SYN | ACK, T0 + 1, 0);
	feed(t, &p, NULL, NULL);
	p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, ACK, T0 + 2, 0);
	feed(t, &p, NULL, NULL);
	ck_assert_int_eq(f->tcp_state, MT_TCP_EST);
	mt_flowtab_expire(t, T0 + 2 + 31 * SEC);
	ck_assert_uint_eq(L.n, 0);
	mt_flowtab_expire(t, T0 + 2 + 600 * SEC); /* idle for exactly the timeout: kept */
	ck_assert_uint_eq(L.n, 0);

	/* FIN both ways: now the 10 s closed timeout applies */
	p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, FIN | ACK, T0 + 2 + 600 * SEC, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSING);
	p = tcp("10.0.0.2", 3333, "10.0.0.1", 40000, FIN | ACK, T0 + 601 * SEC + 1, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSED);
	mt_flowtab_expire(t, T0 + 611 * SEC + 1);
	ck_assert_uint_eq(L.n, 0);
	mt_flowtab_expire(t, T0 + 611 * SEC + 2);
	ck_assert_uint_eq(L.n, 1);
	ck_assert_int_eq(L.reasons[0], MT_FLOW_END_CLOSED);

	/* A packet of an idle flow after its timeout ends it and starts another */
	p = udp("10.0.0.5", 53000, "10.0.0.6", 53, T0 + 700 * SEC, 0);
	f = feed(t, &p, NULL, &created);
	ck_assert_int_eq(created, 1);
	p = udp("10.0.0.6", 53, "10.0.0.5", 53000, T0 + 820 * SEC, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, &created), f); /* exactly 120 s: the same flow */
	ck_assert_int_eq(created, 0);
	p = udp("10.0.0.6", 53, "10.0.0.5", 53000, T0 + 940 * SEC + 1, 0);
	f = feed(t, &p, NULL, &created);
	ck_assert_int_eq(created, 1);
	ck_assert_uint_eq(f->id, 3);
	ck_assert_uint_eq(L.n, 2);
	ck_assert_int_eq(L.reasons[1], MT_FLOW_END_IDLE);
	ck_assert_uint_eq(L.ids[1], 2);
	finish(t, &L);
}
END_TEST

/*
 * 40 flows in three classes. With `jumble`, packet times go back and forth
 * (lists are then only roughly time ordered); otherwise they increase.
 * Returns the ids in the order they ended after a final expiry.
 */
static void run_expiry(const uint8_t *key, int jumble, uint64_t ids[40], uint64_t last[40])
{
	mt_flow_cfg cfg = timeout_cfg();
	end_log L;
	mt_flowtab *t;

	memset(&L, 0, sizeof L);
	t = mt_flowtab_new(&cfg, key, on_end, &L);
	ck_assert_ptr_nonnull(t);
	L.t = t;
	for (int i = 0; i < 40; i++) {
		uint64_t ts = jumble ? T0 + (uint64_t)(i % 11) * SEC : T0 + (uint64_t)i * SEC / 10;
		char a[32];
		mt_pkt p;
		mt_flow *f;

		snprintf(a, sizeof a, "10.9.%d.%d", i / 7, i * 3 % 250);
		if (i % 3 == 0)
			p = udp(a, (uint16_t)(30000 + i), "10.0.0.1", 53, ts, 0);
		else if (i % 3 == 1)
			p = tcp(a, (uint16_t)(30000 + i), "10.0.0.1", 3333, SYN, ts, 0);
		else
			p = tcp(a, (uint16_t)(30000 + i), "10.0.0.1", 3333, RST, ts, 0);
		f = feed(t, &p, NULL, NULL);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->id, (uint64_t)i + 1);
		last[i] = f->last_us;
	}
	ck_assert_uint_eq(L.n, 0);
	mt_flowtab_expire(t, T0 + 1000 * SEC);
	ck_assert_uint_eq(L.n, 40);
	ck_assert_uint_eq(L.by_reason[MT_FLOW_END_CLOSED], 13);
	ck_assert_uint_eq(L.by_reason[MT_FLOW_END_IDLE], 27);
	memcpy(ids, L.ids, 40 * sizeof ids[0]);
	mt_flowtab_free(t);
}

/* With packet times in order, flows of all classes end in deadline order (id breaks ties). */
START_TEST(test_expiry_order)
{
	static const uint64_t tmo[3] = { 120, 30, 10 }; /* by i % 3: UDP, TCP new, TCP closed */
	uint64_t ids[40], last[40], want[40];

	run_expiry(fixed_key, 0, ids, last);
	for (int i = 0; i < 40; i++)
		want[i] = (uint64_t)i + 1;
	/* insertion sort of the ids by (last + timeout, id) */
	for (int i = 1; i < 40; i++) {
		for (int j = i; j > 0; j--) {
			uint64_t a = want[j - 1], b = want[j];
			uint64_t da = last[a - 1] + tmo[(a - 1) % 3] * SEC, db = last[b - 1] + tmo[(b - 1) % 3] * SEC;

			if (da < db || (da == db && a < b))
				break;
			want[j - 1] = b;
			want[j] = a;
		}
	}
	ck_assert_mem_eq(ids, want, sizeof want);
	ck_assert_uint_eq(ids[0], 3); /* the first closed flow */
}
END_TEST

/* Expiry order depends on the packets only, never on the hash key. */
START_TEST(test_expiry_deterministic)
{
	uint64_t first[40], ids[40], last[40];
	uint8_t key[16];

	for (int jumble = 0; jumble < 2; jumble++) {
		run_expiry(fixed_key, jumble, first, last);
		for (int run = 0; run < 4; run++) {
			memset(key, run * 77 + 1, sizeof key);
			run_expiry(run == 3 ? NULL : key, jumble, ids, last);
			ck_assert_mem_eq(first, ids, sizeof ids);
		}
	}
}
END_TEST

/* A SYN on a closed flow ends it and starts a new flow; on an open flow it does not. */
START_TEST(test_port_reuse)
{
	end_log L;
	mt_flowtab *t = new_table(NULL, &L);
	const char *c = "10.0.0.1", *s = "10.0.0.2";
	mt_pkt p;
	mt_flow *f;
	uint64_t id1;
	int created;

	p = tcp(c, 40000, s, 3333, SYN, T0, 0);
	f = feed(t, &p, NULL, NULL);
	id1 = f->id;
	p = tcp(s, 3333, c, 40000, SYN | ACK, T0 + 1, 0);
	feed(t, &p, NULL, NULL);
	p = tcp(c, 40000, s, 3333, ACK, T0 + 2, 0);
	feed(t, &p, NULL, NULL);
	p = tcp(c, 40000, s, 3333, SYN, T0 + 3, 0); /* SYN on an established flow: same flow */
	ck_assert_ptr_eq(feed(t, &p, NULL, &created), f);
	ck_assert_int_eq(created, 0);
	p = tcp(c, 40000, s, 3333, FIN | ACK, T0 + 4, 0);
	feed(t, &p, NULL, NULL);
	p = tcp(c, 40000, s, 3333, SYN, T0 + 5, 0); /* on a half-closed flow: same flow */
	ck_assert_ptr_eq(feed(t, &p, NULL, &created), f);
	ck_assert_int_eq(created, 0);
	p = tcp(s, 3333, c, 40000, FIN | ACK, T0 + 6, 0);
	feed(t, &p, NULL, NULL);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSED);
	p = tcp(s, 3333, c, 40000, SYN | ACK, T0 + 7, 0); /* SYN+ACK on closed: not a new connection */
	ck_assert_ptr_eq(feed(t, &p, NULL, &created), f);
	ck_assert_int_eq(created, 0);
	ck_assert_uint_eq(L.n, 0);

	p = tcp(c, 40000, s, 3333, SYN, T0 + 8, 0);
	f = feed(t, &p, NULL, &created);
	ck_assert_int_eq(created, 1);
	ck_assert_uint_ne(f->id, id1);
	ck_assert_int_eq(f->tcp_state, MT_TCP_SYN);
	ck_assert_uint_eq(f->pkts[MT_DIR_C2S], 1);
	ck_assert_uint_eq(f->pkts[MT_DIR_S2C], 0);
	ck_assert_uint_eq(L.n, 1);
	ck_assert_uint_eq(L.ids[0], id1);
	ck_assert_int_eq(L.reasons[0], MT_FLOW_END_CLOSED);

	/* The same after a RST, from the other side's SYN */
	p = tcp(s, 3333, c, 40000, RST, T0 + 9, 0);
	feed(t, &p, NULL, NULL);
	ck_assert_int_eq(f->tcp_state, MT_TCP_CLOSED);
	p = tcp(s, 3333, c, 40000, SYN, T0 + 10, 0);
	f = feed(t, &p, NULL, &created);
	ck_assert_int_eq(created, 1);
	addr_is(mt_flow_cli_addr(f), s);
	ck_assert_uint_eq(L.n, 2);
	finish(t, &L);
}
END_TEST

/* At max_flows a new flow evicts the least recently used one, whatever list it is on. */
START_TEST(test_max_flows_lru)
{
	mt_flow_cfg cfg;
	end_log L;
	mt_flowtab *t;
	mt_pkt p;
	mt_flow *f[5];
	int created;

	mt_flow_cfg_default(&cfg);
	cfg.max_flows = 4;
	t = new_table(&cfg, &L);
	p = tcp("10.0.0.1", 40001, "10.0.0.9", 3333, ACK, T0 + 1, 0);
	f[0] = feed(t, &p, NULL, NULL);           /* established list */
	p = udp("10.0.0.2", 40002, "10.0.0.9", 3333, T0 + 2, 0);
	f[1] = feed(t, &p, NULL, NULL);           /* UDP list */
	p = tcp("10.0.0.3", 40003, "10.0.0.9", 3333, SYN, T0 + 3, 0);
	f[2] = feed(t, &p, NULL, NULL);           /* new list */
	p = tcp("10.0.0.4", 40004, "10.0.0.9", 3333, RST, T0 + 4, 0);
	f[3] = feed(t, &p, NULL, NULL);           /* closed list */
	/* touch f[0]: now f[1] (UDP) is the least recently used */
	p = tcp("10.0.0.9", 3333, "10.0.0.1", 40001, ACK, T0 + 5, 0);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f[0]);
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 4);

	p = udp("10.0.0.5", 40005, "10.0.0.9", 3333, T0 + 6, 0);
	f[4] = feed(t, &p, NULL, &created);
	ck_assert_ptr_nonnull(f[4]);
	ck_assert_int_eq(created, 1);
	ck_assert_uint_eq(L.n, 1);
	ck_assert_uint_eq(L.ids[0], 2);
	ck_assert_int_eq(L.reasons[0], MT_FLOW_END_EVICT_FLOWS);

	/* next victims: f[2] (t+3) then f[3] (t+4), then f[0] (t+5) */
	p = udp("10.0.0.6", 40006, "10.0.0.9", 3333, T0 + 7, 0);
	feed(t, &p, NULL, NULL);
	p = udp("10.0.0.7", 40007, "10.0.0.9", 3333, T0 + 8, 0);
	feed(t, &p, NULL, NULL);
	p = udp("10.0.0.8", 40008, "10.0.0.9", 3333, T0 + 9, 0);
	feed(t, &p, NULL, NULL);
	ck_assert_uint_eq(L.n, 4);
	ck_assert_uint_eq(L.ids[1], 3);
	ck_assert_uint_eq(L.ids[2], 4);
	ck_assert_uint_eq(L.ids[3], 1);
	ck_assert_uint_eq(mt_flowtab_stats(t)->ended[MT_FLOW_END_EVICT_FLOWS], 4);
	ck_assert_uint_eq(mt_flowtab_stats(t)->evicted, 4);
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 4);
	ck_assert_uint_eq(mt_flowtab_stats(t)->peak_active, 4);
	finish(t, &L);
}
END_TEST

/* Size of one flow as the table accounts it. */
static uint64_t flow_size(void)
{
	end_log L;
	mt_flowtab *t = new_table(NULL, &L);
	mt_pkt p = udp("10.0.0.1", 1, "10.0.0.2", 2, T0, 0);
	uint64_t s;

	feed(t, &p, NULL, NULL);
	s = mt_flowtab_stats(t)->mem;
	ck_assert_uint_ge(s, sizeof(mt_flow));
	finish(t, &L);
	return s;
}

static mt_flow *udp_flow(mt_flowtab *t, int i, uint64_t ts)
{
	char a[32];
	mt_pkt p;

	snprintf(a, sizeof a, "10.0.%d.%d", i / 250, i % 250 + 1);
	p = udp(a, 40000, "10.255.0.1", 3333, ts, 0);
	return feed(t, &p, NULL, NULL);
}

START_TEST(test_memcap)
{
	uint64_t S = flow_size();
	mt_flow_cfg cfg;
	end_log L;
	mt_flowtab *t;
	mt_flow *f;
	const mt_flow_stats *st;

	mt_flow_cfg_default(&cfg);
	cfg.memcap = 4 * S;
	t = new_table(&cfg, &L);
	st = mt_flowtab_stats(t);
	udp_flow(t, 1, T0 + 1);                 /* id 1 */
	udp_flow(t, 2, T0 + 2);                 /* id 2 */
	f = udp_flow(t, 3, T0 + 3);             /* id 3 carries S bytes of user data */
	((user_blob *)f->user)->mem = (int64_t)S;
	mt_flowtab_mem_add(t, (int64_t)S);
	ck_assert_uint_eq(st->mem, 4 * S);

	udp_flow(t, 4, T0 + 4);                 /* must evict id 1 */
	ck_assert_uint_eq(L.n, 1);
	ck_assert_uint_eq(L.ids[0], 1);
	ck_assert_int_eq(L.reasons[0], MT_FLOW_END_EVICT_MEM);
	ck_assert_uint_eq(st->mem, 4 * S);

	udp_flow(t, 2, T0 + 5);                 /* touch id 2: now id 3 is the oldest */
	udp_flow(t, 5, T0 + 6);                 /* evicts id 3, which frees 2 S */
	ck_assert_uint_eq(L.n, 2);
	ck_assert_uint_eq(L.ids[1], 3);
	ck_assert_uint_eq(st->mem, 3 * S);
	ck_assert_uint_eq(st->active, 3);
	ck_assert_uint_eq(st->ended[MT_FLOW_END_EVICT_MEM], 2);
	ck_assert_uint_eq(st->evicted, 2);
	ck_assert_uint_eq(st->mem_peak, 4 * S);

	/* The user's memory alone over the cap: every flow goes, and the new one fails */
	mt_flowtab_mem_add(t, (int64_t)(10 * S));
	ck_assert_ptr_null(udp_flow(t, 6, T0 + 7));
	ck_assert_uint_eq(st->active, 0);
	ck_assert_uint_eq(st->alloc_fail, 1);
	ck_assert_uint_eq(st->ended[MT_FLOW_END_EVICT_MEM], 5);
	mt_flowtab_mem_add(t, -(int64_t)(10 * S));
	ck_assert_uint_eq(st->mem, 0);
	ck_assert_ptr_nonnull(udp_flow(t, 6, T0 + 8));

	/* mem never goes below zero */
	mt_flowtab_mem_add(t, INT64_MIN);
	ck_assert_uint_eq(st->mem, 0);
	finish(t, &L);
}
END_TEST

START_TEST(test_memcap_too_small)
{
	mt_flow_cfg cfg;
	end_log L;
	mt_flowtab *t;

	mt_flow_cfg_default(&cfg);
	cfg.memcap = sizeof(mt_flow) - 1;
	t = new_table(&cfg, &L);
	for (int i = 0; i < 10; i++)
		ck_assert_ptr_null(udp_flow(t, i, T0 + (uint64_t)i));
	ck_assert_uint_eq(mt_flowtab_stats(t)->alloc_fail, 10);
	ck_assert_uint_eq(mt_flowtab_stats(t)->created, 0);
	finish(t, &L);
}
END_TEST

/* Flush ends flows in id order, whatever the lists and the hash key say. */
START_TEST(test_flush_order)
{
	for (int run = 0; run < 2; run++) {
		end_log L;
		mt_flowtab *t;
		uint32_t r = 7;

		memset(&L, 0, sizeof L);
		t = mt_flowtab_new(NULL, run ? NULL : fixed_key, on_end, &L);
		ck_assert_ptr_nonnull(t);
		L.t = t;
		for (int i = 0; i < 2000; i++) {
			r = r * 1103515245u + 12345u;
			/* repeat earlier flows at random, with assorted classes */
			int k = (i < 500) ? i : (int)((r >> 8) % 600);
			char a[32];
			mt_pkt p;

			snprintf(a, sizeof a, "10.%d.%d.1", k / 200, k % 200);
			if (k % 2)
				p = udp(a, 4000, "10.200.0.1", 3333, T0 + (uint64_t)i, 1);
			else
				p = tcp(a, 4000, "10.200.0.1", 3333, (k % 4) ? SYN : ACK, T0 + (uint64_t)i, 1);
			ck_assert_ptr_nonnull(feed(t, &p, NULL, NULL));
		}
		ck_assert_uint_gt(mt_flowtab_stats(t)->active, 500);
		L.next_seq = 1;
		mt_flowtab_flush(t);
		ck_assert_int_eq(L.seq_fail, 0);
		ck_assert_uint_eq(L.n, mt_flowtab_stats(t)->created);
		ck_assert_uint_eq(L.by_reason[MT_FLOW_END_FLUSH], L.n);
		finish(t, &L);
	}
}
END_TEST

/* Mixed traffic with every end reason: each flow ends exactly once, with its own blob. */
START_TEST(test_end_once)
{
	mt_flow_cfg cfg = timeout_cfg();
	end_log L;
	mt_flowtab *t;
	uint32_t r = 99;
	uint64_t now = T0, S = flow_size();
	const mt_flow_stats *st;

	cfg.max_flows = 300;
	cfg.memcap = 250 * S;
	t = new_table(&cfg, &L);
	st = mt_flowtab_stats(t);
	for (int i = 0; i < 200000; i++) {
		char a[32];
		uint8_t fl;
		mt_pkt p;
		int k;

		r = r * 1103515245u + 12345u;
		k = (int)((r >> 8) % 2000);
		now += (r >> 4) % 2000000; /* 1 s on average: timeouts do happen */
		snprintf(a, sizeof a, "10.%d.%d.%d", k % 3, k / 250, k % 250);
		fl = (uint8_t[]){ SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST }[(r >> 20) % 6];
		if (k % 5 == 0)
			p = udp(a, 5000, "10.200.0.1", 3333, now, (r >> 24) & 0xff);
		else if (r & 0x40000000u)
			p = tcp(a, 5000, "10.200.0.1", 3333, fl, now, (r >> 24) & 0xff);
		else
			p = tcp("10.200.0.1", 3333, a, 5000, fl, now, (r >> 24) & 0xff);
		ck_assert_ptr_nonnull(feed(t, &p, NULL, NULL));
		ck_assert_uint_le(st->active, 250);
		if (i % 10000 == 0) {
			ck_assert_uint_eq(L.n + st->active, st->created);
			ck_assert_uint_eq(st->mem, st->active * S);
		}
	}
	ck_assert_uint_gt(st->ended[MT_FLOW_END_IDLE], 0);
	ck_assert_uint_gt(st->ended[MT_FLOW_END_CLOSED], 0);
	ck_assert_uint_gt(st->ended[MT_FLOW_END_EVICT_MEM], 0);
	ck_assert_uint_eq(st->evicted, st->ended[MT_FLOW_END_EVICT_FLOWS] + st->ended[MT_FLOW_END_EVICT_MEM]);
	mt_flowtab_flush(t);
	for (int i = 0; i < MT_FLOW_END__COUNT; i++)
		ck_assert_uint_eq(L.by_reason[i], st->ended[i]);
	printf("flow end_once: created %llu, ended idle %llu closed %llu evict_mem %llu flush %llu\n",
	       (unsigned long long)st->created, (unsigned long long)st->ended[MT_FLOW_END_IDLE],
	       (unsigned long long)st->ended[MT_FLOW_END_CLOSED],
	       (unsigned long long)st->ended[MT_FLOW_END_EVICT_MEM],
	       (unsigned long long)st->ended[MT_FLOW_END_FLUSH]);
	finish(t, &L);
}
END_TEST

/* VLAN, IP version, protocol are all part of the key; IPv6 keys normalise too. */
START_TEST(test_keys_ipv6_vlan)
{
	end_log L;
	mt_flowtab *t = new_table(NULL, &L);
	mt_pkt p, q;
	mt_flow *f[8];
	int dir;

	p = tcp("2001:db8::1", 40000, "2001:db8::2", 3333, SYN, T0, 0);
	f[0] = feed(t, &p, NULL, NULL);
	ck_assert_int_eq(f[0]->key.ipver, 6);
	q = tcp("2001:db8::2", 3333, "2001:db8::1", 40000, SYN | ACK, T0 + 1, 0);
	ck_assert_ptr_eq(feed(t, &q, &dir, NULL), f[0]);
	ck_assert_int_eq(dir, MT_DIR_S2C);
	addr_is(mt_flow_cli_addr(f[0]), "2001:db8::1");

	/* the same tuple on VLAN 10, on VLAN 20, and with an inner tag only differing */
	p.nvlan = 1;
	p.vlan[0] = 10;
	f[1] = feed(t, &p, NULL, NULL);
	ck_assert_ptr_ne(f[1], f[0]);
	ck_assert_uint_eq(f[1]->key.vlan, 10);
	q.nvlan = 2;
	q.vlan[0] = 10;
	q.vlan[1] = 99;
	ck_assert_ptr_eq(feed(t, &q, &dir, NULL), f[1]);
	ck_assert_int_eq(dir, MT_DIR_S2C);
	p.vlan[0] = 20;
	f[2] = feed(t, &p, NULL, NULL);
	ck_assert_ptr_ne(f[2], f[1]);
	ck_assert_ptr_ne(f[2], f[0]);
	/* a stale vlan[] with nvlan == 0 is not a tag */
	p.nvlan = 0;
	p.vlan[0] = 30;
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f[0]);

	/* IPv4 addresses whose bytes equal the start of the IPv6 ones are another flow */
	p = tcp("32.1.13.184", 40000, "32.1.13.184", 3333, SYN, T0 + 2, 0);
	f[3] = feed(t, &p, NULL, NULL);
	ck_assert_int_eq(f[3]->key.ipver, 4);
	ck_assert_ptr_ne(f[3], f[0]);
	/* UDP with the same tuple is another flow */
	p = udp("2001:db8::1", 40000, "2001:db8::2", 3333, T0 + 3, 0);
	f[4] = feed(t, &p, NULL, NULL);
	ck_assert_ptr_ne(f[4], f[0]);
	/* junk after the 4 bytes of an IPv4 address is ignored */
	p = tcp("10.0.0.1", 40000, "10.0.0.2", 3333, SYN, T0 + 4, 0);
	f[5] = feed(t, &p, NULL, NULL);
	memset(p.src + 4, 0xee, 12);
	memset(p.dst + 4, 0x11, 12);
	ck_assert_ptr_eq(feed(t, &p, NULL, NULL), f[5]);
	/* IPv6 addresses that differ only in the last byte */
	p = tcp("2001:db8::1", 40000, "2001:db8::3", 3333, SYN, T0 + 5, 0);
	f[6] = feed(t, &p, NULL, NULL);
	ck_assert_ptr_ne(f[6], f[0]);
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 7);
	finish(t, &L);
}
END_TEST

/* Packet time going backwards never moves a flow's clock back or expires anything wrongly. */
START_TEST(test_time_backwards)
{
	mt_flow_cfg cfg = timeout_cfg();
	end_log L;
	mt_flowtab *t = new_table(&cfg, &L);
	mt_flow *f;

	f = udp_flow(t, 1, T0 + 100 * SEC);
	ck_assert_ptr_eq(udp_flow(t, 1, T0), f);
	ck_assert_uint_eq(f->last_us, T0 + 100 * SEC);
	ck_assert_uint_eq(f->first_us, T0 + 100 * SEC);
	udp_flow(t, 2, 0);
	udp_flow(t, 3, UINT64_MAX - 5); /* ends 1 and 2; 3 can never be due */
	ck_assert_uint_eq(L.n, 2);
	mt_flowtab_expire(t, UINT64_MAX);
	ck_assert_uint_eq(L.n, 2);
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 1);
	finish(t, &L);
}
END_TEST

/* A flood of new flows: the table stays at max_flows, evicting the oldest each time. */
START_TEST(test_flood)
{
	mt_flow_cfg cfg;
	end_log L;
	mt_flowtab *t;
	const mt_flow_stats *st;
	mt_pkt p;

	mt_flow_cfg_default(&cfg);
	cfg.max_flows = 50000;
	t = new_table(&cfg, &L);
	st = mt_flowtab_stats(t);
	L.next_seq = 1;
	p = udp("10.0.0.1", 1, "192.0.2.1", 3333, T0, 0);
	for (uint32_t i = 0; i < 1000000; i++) {
		mt_flow *f;

		p.src[1] = (uint8_t)(i >> 16);
		p.src[2] = (uint8_t)(i >> 8);
		p.src[3] = (uint8_t)i;
		p.ts_us = T0 + i;
		f = feed(t, &p, NULL, NULL);
		ck_assert_ptr_nonnull(f);
		if (f->id != i + 1)
			ck_abort_msg("flow %u got id %llu", i, (unsigned long long)f->id);
	}
	ck_assert_uint_eq(st->created, 1000000);
	ck_assert_uint_eq(st->active, 50000);
	ck_assert_uint_eq(st->peak_active, 50000);
	ck_assert_uint_eq(st->ended[MT_FLOW_END_EVICT_FLOWS], 950000);
	ck_assert_uint_eq(st->evicted, 950000);
	ck_assert_uint_eq(st->alloc_fail, 0);
	ck_assert_int_eq(L.seq_fail, 0); /* victims were ids 1, 2, 3 ... in order */
	ck_assert_uint_eq(L.next_seq, 950001);
	mt_flowtab_flush(t);
	ck_assert_int_eq(L.seq_fail, 0); /* then the flush: 950001 ... 1000000 */
	finish(t, &L);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A textbook unkeyed flow hash: XOR of the address words and the ports. */
static uint32_t naive_hash(const mt_pkt *p)
{
	uint32_t s = (uint32_t)p->src[0] << 24 | (uint32_t)p->src[1] << 16 | (uint32_t)p->src[2] << 8 | p->src[3];
	uint32_t d = (uint32_t)p->dst[0] << 24 | (uint32_t)p->dst[1] << 16 | (uint32_t)p->dst[2] << 8 | p->dst[3];

	return s ^ d ^ p->sport ^ p->dport;
}

static double insert_set(int colliding, uint32_t *naive0, int *all_collide)
{
	mt_flow_cfg cfg;
	end_log L;
	mt_flowtab *t;
	double t0, t1;
	mt_pkt p;

	mt_flow_cfg_default(&cfg);
	cfg.max_flows = 262144;
	t = new_table(&cfg, &L);
	p = tcp("10.0.0.0", 40000, "10.0.0.0", 3333, SYN, T0, 0);
	*all_collide = 1;
	t0 = now_s();
	for (uint32_t i = 0; i < 200000; i++) {
		/* colliding: dst = src ^ C, so src ^ dst is the same for every key */
		uint32_t s = 0x0a000000u + i, d = colliding ? s ^ 0x00ff00ffu : 0xc0000000u + i * 7919u;

		for (int b = 0; b < 4; b++) {
			p.src[b] = (uint8_t)(s >> (24 - 8 * b));
			p.dst[b] = (uint8_t)(d >> (24 - 8 * b));
		}
		if (i == 0)
			*naive0 = naive_hash(&p);
		else if (naive_hash(&p) != *naive0)
			*all_collide = 0;
		ck_assert_ptr_nonnull(mt_flowtab_packet(t, &p, NULL, NULL));
	}
	t1 = now_s();
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 200000);
	mt_flowtab_free(t); /* no user data attached here */
	return t1 - t0;
}

/*
 * 200k keys that all share one value of an unkeyed XOR hash (one chain of
 * 200k, about 2e10 key compares, in a table that used it) insert about as
 * fast as unrelated keys, because the table's hash is keyed SipHash. Timing is
 * printed, not asserted.
 */
START_TEST(test_adversarial_keys)
{
	uint32_t h0;
	int all;
	double tc, tr;

	tc = insert_set(1, &h0, &all);
	ck_assert_int_eq(all, 1); /* the premise: they do all collide unkeyed */
	tr = insert_set(0, &h0, &all);
	ck_assert_int_eq(all, 0);
	printf("flow adversarial: 200000 keys with one unkeyed XOR hash %.3f s, "
	       "200000 unrelated keys %.3f s\n", tc, tr);
	/* generous: a chain of 200000 would make this thousands of times slower */
	ck_assert_msg(tc < 4 * tr + 0.05, "colliding %.3f s vs unrelated %.3f s", tc, tr);
}
END_TEST

/* The table's key of a TCP packet 10.x -> 192.0.2.1:443 (flow.c make_key: lower address first). */
static void key_of(mt_flow_key *k, uint32_t src, uint16_t sport)
{
	static const uint8_t dst[4] = {192, 0, 2, 1};

	memset(k, 0, sizeof *k);
	for (int b = 0; b < 4; b++)
		k->lo[b] = (uint8_t)(src >> (24 - 8 * b));
	memcpy(k->hi, dst, 4);
	k->lo_port = sport;
	k->hi_port = 443;
	k->ipver = 4;
	k->l4proto = 6;
}

/* Inserts n SYNs (keys from srcs/ports) into a 4096-bucket table with the given hash key (NULL: random). */
static double insert_keys(const uint8_t *hkey, const uint32_t *srcs, const uint16_t *ports, uint32_t n)
{
	mt_flow_cfg cfg;
	mt_flowtab *t;
	mt_pkt p;
	double t0, t1;

	mt_flow_cfg_default(&cfg);
	cfg.max_flows = 4096; /* 4096 buckets; the LRU evicts beyond */
	t = mt_flowtab_new(&cfg, hkey, NULL, NULL);
	ck_assert_ptr_nonnull(t);
	p = tcp("10.0.0.0", 40000, "192.0.2.1", 443, SYN, T0, 0);
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		for (int b = 0; b < 4; b++)
			p.src[b] = (uint8_t)(srcs[i] >> (24 - 8 * b));
		p.sport = ports[i];
		ck_assert_ptr_nonnull(mt_flowtab_packet(t, &p, NULL, NULL));
	}
	t1 = now_s();
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 4096);
	mt_flowtab_free(t);
	return t1 - t0;
}

/*
 * An attacker who knew the hash key could pick flows that all land in one
 * bucket: here 8000 keys chosen to collide (low 12 bits of the table's hash,
 * mt_flow_key_hash) under a fixed, known key. In a table with that key every insert walks a chain as
 * long as the table (4096 flows: about 5e7 key compares); in a table with a
 * key from getrandom() (what the engine uses) the same keys spread, and
 * inserting them costs about what unrelated keys cost. Timings are printed;
 * the assertion is a generous ratio, never an absolute time.
 */
START_TEST(test_fixed_key_collisions)
{
	enum { N = 8000 };
	uint32_t *srcs = malloc(N * sizeof *srcs), *usrc = malloc(N * sizeof *usrc);
	uint16_t *ports = malloc(N * sizeof *ports), *uport = malloc(N * sizeof *uport);
	uint64_t tried = 0;
	uint32_t n = 0, x = 0x0a000001u;
	double t0, tsearch, tfixed, trand, tunrel;

	ck_assert_ptr_nonnull(srcs);
	ck_assert_ptr_nonnull(ports);
	ck_assert_ptr_nonnull(usrc);
	ck_assert_ptr_nonnull(uport);
	t0 = now_s();
	while (n < N) {
		mt_flow_key k;

		for (uint16_t port = 1024; port < 1024 + 64 && n < N; port++) {
			key_of(&k, x, port);
			tried++;
			if ((mt_flow_key_hash(fixed_key, &k) & 4095u) == 0) {
				srcs[n] = x;
				ports[n] = port;
				n++;
			}
		}
		x++;
	}
	tsearch = now_s() - t0;
	for (uint32_t i = 0; i < N; i++) {
		usrc[i] = 0x0b000000u + i * 7919u;
		uport[i] = (uint16_t)(1024 + i % 60000);
	}
	tfixed = insert_keys(fixed_key, srcs, ports, N);
	trand = insert_keys(NULL, srcs, ports, N);
	tunrel = insert_keys(NULL, usrc, uport, N);
	printf("flow fixed-key attack: %d keys colliding under a known key (found in %.1f s, %llu tried): "
	       "table with that key %.3f s, table with a random key %.3f s, unrelated keys %.3f s\n",
	       N, tsearch, (unsigned long long)tried, tfixed, trand, tunrel);
	ck_assert_msg(trand < 4 * tunrel + 0.05, "colliding keys %.3f s vs unrelated %.3f s", trand, tunrel);
	free(srcs);
	free(ports);
	free(usrc);
	free(uport);
}
END_TEST

START_TEST(test_cfg_and_misc)
{
	mt_flow_cfg cfg;
	mt_flowtab *t;

	mt_flow_cfg_default(&cfg);
	ck_assert_uint_eq(cfg.max_flows, MT_FLOW_DEFAULT_MAX_FLOWS);
	ck_assert_uint_eq(cfg.memcap, MT_FLOW_DEFAULT_MEMCAP);
	ck_assert_uint_eq(cfg.tcp_new_timeout, MT_FLOW_DEFAULT_TCP_NEW_TIMEOUT);
	ck_assert_uint_eq(cfg.tcp_est_timeout, MT_FLOW_DEFAULT_TCP_EST_TIMEOUT);
	ck_assert_uint_eq(cfg.tcp_closed_timeout, MT_FLOW_DEFAULT_TCP_CLOSED_TIMEOUT);
	ck_assert_uint_eq(cfg.udp_timeout, MT_FLOW_DEFAULT_UDP_TIMEOUT);
	cfg.max_flows = 0;
	ck_assert_ptr_null(mt_flowtab_new(&cfg, NULL, NULL, NULL));
	cfg.max_flows = 1;
	t = mt_flowtab_new(&cfg, NULL, NULL, NULL); /* no callback is fine */
	ck_assert_ptr_nonnull(t);
	{
		mt_pkt p = udp("10.0.0.1", 1, "10.0.0.2", 2, T0, 0);
		int dir = -1;

		ck_assert_ptr_nonnull(mt_flowtab_packet(t, &p, &dir, NULL));
		ck_assert_int_eq(dir, MT_DIR_S2C);
		p.sport = 3;
		ck_assert_ptr_nonnull(mt_flowtab_packet(t, &p, NULL, NULL));
		ck_assert_uint_eq(mt_flowtab_stats(t)->evicted, 1);
	}
	mt_flowtab_flush(t);
	mt_flowtab_flush(t);
	mt_flowtab_free(t);
	mt_flowtab_free(NULL);
	mt_flowtab_flush(NULL);
	mt_flowtab_expire(NULL, 0);
	mt_flowtab_mem_add(NULL, 1);

	ck_assert_str_eq(mt_flow_end_reason_name(MT_FLOW_END_IDLE), "idle");
	ck_assert_str_eq(mt_flow_end_reason_name(MT_FLOW_END_CLOSED), "closed");
	ck_assert_str_eq(mt_flow_end_reason_name(MT_FLOW_END_EVICT_FLOWS), "evict_flows");
	ck_assert_str_eq(mt_flow_end_reason_name(MT_FLOW_END_EVICT_MEM), "evict_mem");
	ck_assert_str_eq(mt_flow_end_reason_name(MT_FLOW_END_FLUSH), "flush");
	ck_assert_str_eq(mt_flow_end_reason_name(-1), "unknown");
	ck_assert_str_eq(mt_flow_end_reason_name(MT_FLOW_END__COUNT), "unknown");
}
END_TEST

/* Flows left in the table are freed by mt_flowtab_free without a callback (no leak). */
START_TEST(test_free_without_flush)
{
	mt_flowtab *t = mt_flowtab_new(NULL, NULL, NULL, NULL);

	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < 3000; i++) {
		mt_pkt p = udp("10.0.0.1", (uint16_t)(1024 + i), "10.0.0.2", 3333, T0 + (uint64_t)i, 0);

		ck_assert_ptr_nonnull(mt_flowtab_packet(t, &p, NULL, NULL));
	}
	ck_assert_uint_eq(mt_flowtab_stats(t)->active, 3000);
	mt_flowtab_free(t);
}
END_TEST

static Suite *flow_suite(void)
{
	Suite *s = suite_create("flow_flow");
	TCase *tc = tcase_create("core");
	TCase *big = tcase_create("big");

	tcase_add_test(tc, test_both_directions);
	tcase_add_test(tc, test_synack_first);
	tcase_add_test(tc, test_port_heuristics);
	tcase_add_test(tc, test_direction_correction);
	tcase_add_test(tc, test_direction_confirmed);
	tcase_add_test(tc, test_timeout_tcp_new);
	tcase_add_test(tc, test_timeout_tcp_est);
	tcase_add_test(tc, test_timeout_tcp_closed);
	tcase_add_test(tc, test_timeout_udp);
	tcase_add_test(tc, test_timeout_class_moves);
	tcase_add_test(tc, test_expiry_order);
	tcase_add_test(tc, test_expiry_deterministic);
	tcase_add_test(tc, test_port_reuse);
	tcase_add_test(tc, test_max_flows_lru);
	tcase_add_test(tc, test_memcap);
	tcase_add_test(tc, test_memcap_too_small);
	tcase_add_test(tc, test_flush_order);
	tcase_add_test(tc, test_keys_ipv6_vlan);
	tcase_add_test(tc, test_time_backwards);
	tcase_add_test(tc, test_cfg_and_misc);
	tcase_add_test(tc, test_free_without_flush);
	suite_add_tcase(s, tc);

	/* a million packets under valgrind takes a while */
	tcase_set_timeout(big, 600);
	tcase_add_test(big, test_end_once);
	tcase_add_test(big, test_flood);
	tcase_add_test(big, test_adversarial_keys);
	tcase_add_test(big, test_fixed_key_collisions);
	suite_add_tcase(s, big);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flow_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
