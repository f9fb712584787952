/* hit.c - writes the hit record of DESIGN.md; field names follow Suricata's EVE JSON where one exists. */
#include "evidence/hit.h"
#include "evidence/estimate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * The date part ("2024-01-02T03:04:05") of a second, made by strftime once and
 * kept: records come in bursts within a second, and a record asks for two
 * seconds (its own and the flow's start), so two slots per thread.
 */
typedef struct hit_date {
	uint64_t secs;
	size_t len;
	char text[24];
} hit_date;

static const hit_date *hit_date_of(uint64_t s)
{
	static _Thread_local hit_date slot[2] = {{UINT64_MAX, 0, ""}, {UINT64_MAX, 0, ""}};
	static _Thread_local unsigned next;
	hit_date *d;
	time_t secs = (time_t)s;
	struct tm tm;

	if (slot[0].secs == s)
		return &slot[0];
	if (slot[1].secs == s)
		return &slot[1];
	d = &slot[next];
	next ^= 1;
	d->secs = UINT64_MAX;
	if ((uint64_t)secs != s || !gmtime_r(&secs, &tm))
		return NULL;
	d->len = strftime(d->text, sizeof(d->text), "%Y-%m-%dT%H:%M:%S", &tm);
	if (d->len == 0)
		return NULL;
	d->secs = s;
	return d;
}

/* mt_hit_time into out[40]; returns the length. */
static size_t hit_time(uint64_t ts_us, char *out)
{
	static const char epoch[] = "1970-01-01T00:00:00.000000Z";
	const hit_date *d = hit_date_of(ts_us / 1000000u);
	unsigned usec = (unsigned)(ts_us % 1000000u);
	char *o;

	if (!d) {
		memcpy(out, epoch, sizeof(epoch));
		return sizeof(epoch) - 1;
	}
	/* ".uuuuuuZ" without printf, as snprintf("%s.%06uZ") wrote it. */
	memcpy(out, d->text, d->len);
	o = out + d->len;
	*o++ = '.';
	for (int i = 6; i >= 1; i--) {
		o[i - 1] = (char)('0' + usec % 10);
		usec /= 10;
	}
	o += 6;
	*o++ = 'Z';
	*o = '\0';
	return (size_t)(o - out);
}

void mt_hit_time(uint64_t ts_us, char *out, size_t outlen)
{
	char t[40];
	size_t n = hit_time(ts_us, t);

	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, t, n);
	out[n] = '\0';
}

void mt_hit_addr(uint8_t ipver, const uint8_t *addr, char *out, size_t outlen)
{
	/* IPv4 dotted quad without inet_ntop's printf (two per record); the same text. */
	if (ipver != 6 && outlen >= 16) {
		char *o = out;
		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (!inet_ntop(ipver == 6 ? AF_INET6 : AF_INET, addr, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}

const char *mt_hit_status_name(int status)
{
	switch (status) {
	case MT_HIT_NEW: return "new";
	case MT_HIT_UPDATE: return "update";
	case MT_HIT_END: return "end";
	default: return "unknown";
	}
}

/* Members with names known when compiling (MT_JW_KEY: no measuring or escaping of the name). */
#define KSTR(w, k, s) do { MT_JW_KEY(w, k); mt_jw_str(w, s); } while (0)
#define KU64(w, k, v) do { MT_JW_KEY(w, k); mt_jw_u64(w, v); } while (0)
#define KDOUBLE(w, k, v) do { MT_JW_KEY(w, k); mt_jw_double(w, v); } while (0)
#define KSTR_OPT(w, k, s) do { if ((s) && (s)[0]) KSTR(w, k, s); } while (0)

static void write_mining(mt_jw *w, const mt_evidence *ev)
{
	MT_JW_KEY(w, "mining");
	mt_jw_obj_open(w);
	KSTR(w, "protocol", ev->protocol[0] ? ev->protocol : "unknown");
	KSTR_OPT(w, "coin", ev->coin);
	KSTR_OPT(w, "algo", ev->algo);
	KDOUBLE(w, "confidence", ev->confidence);
	KSTR(w, "evidence", ev->evidence);
	KSTR_OPT(w, "detector", ev->detector);
	KSTR_OPT(w, "pool_host", ev->pool_host);
	KSTR_OPT(w, "wallet", ev->wallet);
	KSTR_OPT(w, "worker", ev->worker);
	KSTR_OPT(w, "agent", ev->agent);
	if (ev->has_difficulty)
		KDOUBLE(w, "difficulty", ev->difficulty);
	KSTR_OPT(w, "target", ev->target);
	if (ev->event == MT_EVENT_MINING) {
		KU64(w, "shares", ev->shares);
		if (ev->shares_accepted || ev->shares_rejected) {
			KU64(w, "shares_accepted", ev->shares_accepted);
			KU64(w, "shares_rejected", ev->shares_rejected);
		}
		if (ev->jobs)
			KU64(w, "jobs", ev->jobs);
	}
	if (ev->hashrate_hs > 0) {
		KDOUBLE(w, "hashrate_hs", ev->hashrate_hs);
		KSTR_OPT(w, "hashrate_basis", ev->hashrate_basis);
	}
	if (ev->reported_hashrate_hs > 0)
		KDOUBLE(w, "reported_hashrate_hs", ev->reported_hashrate_hs);
	KSTR_OPT(w, "coinbase_tag", ev->coinbase_tag);
	mt_jw_obj_close(w);
}

int mt_hit_json(mt_jw *w, const mt_hit *h)
{
	const mt_flow *f = h->flow;
	const mt_evidence *ev = h->ev;
	char ts[40], sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN], cid[40];
	uint16_t sport = mt_flow_cli_port(f), dport = mt_flow_srv_port(f);
	size_t tslen = hit_time(h->ts_us, ts), cidlen;
	mt_hit_addr(f->key.ipver, mt_flow_cli_addr(f), sip, sizeof(sip));
	mt_hit_addr(f->key.ipver, mt_flow_srv_addr(f), dip, sizeof(dip));
	if (mt_community_id(f->key.ipver, f->key.l4proto, mt_flow_cli_addr(f),
			    mt_flow_srv_addr(f), sport, dport, 0, cid, sizeof(cid)) < 0)
		cid[0] = '\0';
	cidlen = strlen(cid);

	mt_jw_obj_open(w);
	MT_JW_KEY(w, "timestamp");
	mt_jw_strn(w, ts, tslen);
	if (ev->event == MT_EVENT_CRYPTO_P2P)
		MT_JW_MEMBER(w, "event_type", "\"crypto_p2p\"");
	else
		MT_JW_MEMBER(w, "event_type", "\"mining\"");
	KSTR(w, "src_ip", sip);
	KU64(w, "src_port", sport);
	KSTR(w, "dest_ip", dip);
	KU64(w, "dest_port", dport);
	if (f->key.l4proto == 6)
		MT_JW_MEMBER(w, "proto", "\"TCP\"");
	else
		MT_JW_MEMBER(w, "proto", "\"UDP\"");
	if (f->key.vlan) {
		MT_JW_KEY(w, "vlan");
		mt_jw_arr_open(w);
		mt_jw_u64(w, f->key.vlan);
		mt_jw_arr_close(w);
	}
	MT_JW_KEY(w, "community_id");
	mt_jw_strn(w, cid, cidlen);
	KSTR_OPT(w, "app_proto", h->app_proto);
	write_mining(w, ev);
	{
		mt_estimate est;

		if (mt_estimate_flow(ev, f->first_us, h->ts_us, &est))
			mt_estimate_json(w, &est);
	}

	MT_JW_KEY(w, "flow");
	mt_jw_obj_open(w);
	tslen = hit_time(f->first_us, ts);
	MT_JW_KEY(w, "start");
	mt_jw_strn(w, ts, tslen);
	KU64(w, "pkts_toserver", f->pkts[MT_DIR_C2S]);
	KU64(w, "pkts_toclient", f->pkts[MT_DIR_S2C]);
	KU64(w, "bytes_toserver", f->bytes[MT_DIR_C2S]);
	KU64(w, "bytes_toclient", f->bytes[MT_DIR_S2C]);
	if (f->dir_certain)
		MT_JW_MEMBER(w, "client_from_handshake", "true");
	else
		MT_JW_MEMBER(w, "client_from_handshake", "false");
	mt_jw_obj_close(w);

	if (h->miner_json) {
		MT_JW_KEY(w, "miner");
		mt_jw_raw(w, h->miner_json, h->miner_len);
	}
	if (h->pool_json) {
		MT_JW_KEY(w, "pool");
		mt_jw_raw(w, h->pool_json, h->pool_len);
	}

	MT_JW_KEY(w, "hit");
	mt_jw_obj_open(w);
	MT_JW_KEY(w, "status");
	mt_jw_str(w, mt_hit_status_name(h->status));
	KU64(w, "seq", h->seq);
	mt_jw_obj_close(w);
	mt_jw_obj_close(w);
	return w->err ? -ENOMEM : 0;
}
