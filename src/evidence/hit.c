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

void mt_hit_time(uint64_t ts_us, char *out, size_t outlen)
{
	/* Records come in bursts within one second: the date part is made once a second (per thread). */
	static _Thread_local char date[24];
	static _Thread_local uint64_t date_secs = UINT64_MAX;
	uint64_t s = ts_us / 1000000u;
	unsigned usec = (unsigned)(ts_us % 1000000u);
	char frac[9];
	size_t dl;
	int i;

	if (s != date_secs) {
		time_t secs = (time_t)s;
		struct tm tm;

		if (!gmtime_r(&secs, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
			date_secs = UINT64_MAX;
			snprintf(out, outlen, "1970-01-01T00:00:00.000000Z");
			return;
		}
		date_secs = s;
	}
	/* ".uuuuuuZ" without printf, as snprintf("%s.%06uZ") wrote it. */
	frac[0] = '.';
	for (i = 6; i >= 1; i--) {
		frac[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	frac[7] = 'Z';
	frac[8] = '\0';
	if (outlen == 0)
		return;
	dl = strlen(date);
	if (dl >= outlen) {
		memcpy(out, date, outlen - 1);
		out[outlen - 1] = '\0';
		return;
	}
	memcpy(out, date, dl);
	i = 0;
	while (dl + 1 < outlen && frac[i])
		out[dl++] = frac[i++];
	out[dl] = '\0';
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

static void kstr_opt(mt_jw *w, const char *key, const char *v)
{
	if (v && v[0])
		mt_jw_kstr(w, key, v);
}

static void write_mining(mt_jw *w, const mt_evidence *ev)
{
	mt_jw_key(w, "mining");
	mt_jw_obj_open(w);
	mt_jw_kstr(w, "protocol", ev->protocol[0] ? ev->protocol : "unknown");
	kstr_opt(w, "coin", ev->coin);
	kstr_opt(w, "algo", ev->algo);
	mt_jw_kdouble(w, "confidence", ev->confidence);
	mt_jw_kstr(w, "evidence", ev->evidence);
	kstr_opt(w, "detector", ev->detector);
	kstr_opt(w, "pool_host", ev->pool_host);
	kstr_opt(w, "wallet", ev->wallet);
	kstr_opt(w, "worker", ev->worker);
	kstr_opt(w, "agent", ev->agent);
	if (ev->has_difficulty)
		mt_jw_kdouble(w, "difficulty", ev->difficulty);
	kstr_opt(w, "target", ev->target);
	if (ev->event == MT_EVENT_MINING) {
		mt_jw_ku64(w, "shares", ev->shares);
		if (ev->shares_accepted || ev->shares_rejected) {
			mt_jw_ku64(w, "shares_accepted", ev->shares_accepted);
			mt_jw_ku64(w, "shares_rejected", ev->shares_rejected);
		}
		if (ev->jobs)
			mt_jw_ku64(w, "jobs", ev->jobs);
	}
	if (ev->hashrate_hs > 0) {
		mt_jw_kdouble(w, "hashrate_hs", ev->hashrate_hs);
		kstr_opt(w, "hashrate_basis", ev->hashrate_basis);
	}
	if (ev->reported_hashrate_hs > 0)
		mt_jw_kdouble(w, "reported_hashrate_hs", ev->reported_hashrate_hs);
	kstr_opt(w, "coinbase_tag", ev->coinbase_tag);
	mt_jw_obj_close(w);
}

int mt_hit_json(mt_jw *w, const mt_hit *h)
{
	const mt_flow *f = h->flow;
	const mt_evidence *ev = h->ev;
	char ts[40], sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN], cid[40];
	uint16_t sport = mt_flow_cli_port(f), dport = mt_flow_srv_port(f);

	mt_hit_time(h->ts_us, ts, sizeof(ts));
	mt_hit_addr(f->key.ipver, mt_flow_cli_addr(f), sip, sizeof(sip));
	mt_hit_addr(f->key.ipver, mt_flow_srv_addr(f), dip, sizeof(dip));
	if (mt_community_id(f->key.ipver, f->key.l4proto, mt_flow_cli_addr(f),
			    mt_flow_srv_addr(f), sport, dport, 0, cid, sizeof(cid)) < 0)
		cid[0] = '\0';

	mt_jw_obj_open(w);
	mt_jw_kstr(w, "timestamp", ts);
	mt_jw_kstr(w, "event_type", ev->event == MT_EVENT_CRYPTO_P2P ? "crypto_p2p" : "mining");
	mt_jw_kstr(w, "src_ip", sip);
	mt_jw_ku64(w, "src_port", sport);
	mt_jw_kstr(w, "dest_ip", dip);
	mt_jw_ku64(w, "dest_port", dport);
	mt_jw_kstr(w, "proto", f->key.l4proto == 6 ? "TCP" : "UDP");
	if (f->key.vlan) {
		mt_jw_key(w, "vlan");
		mt_jw_arr_open(w);
		mt_jw_u64(w, f->key.vlan);
		mt_jw_arr_close(w);
	}
	mt_jw_kstr(w, "community_id", cid);
	kstr_opt(w, "app_proto", h->app_proto);
	write_mining(w, ev);
	{
		mt_estimate est;

		if (mt_estimate_flow(ev, f->first_us, h->ts_us, &est))
			mt_estimate_json(w, &est);
	}

	mt_jw_key(w, "flow");
	mt_jw_obj_open(w);
	mt_hit_time(f->first_us, ts, sizeof(ts));
	mt_jw_kstr(w, "start", ts);
	mt_jw_ku64(w, "pkts_toserver", f->pkts[MT_DIR_C2S]);
	mt_jw_ku64(w, "pkts_toclient", f->pkts[MT_DIR_S2C]);
	mt_jw_ku64(w, "bytes_toserver", f->bytes[MT_DIR_C2S]);
	mt_jw_ku64(w, "bytes_toclient", f->bytes[MT_DIR_S2C]);
	mt_jw_kbool(w, "client_from_handshake", f->dir_certain);
	mt_jw_obj_close(w);

	if (h->miner_json) {
		mt_jw_key(w, "miner");
		mt_jw_raw(w, h->miner_json, h->miner_len);
	}
	if (h->pool_json) {
		mt_jw_key(w, "pool");
		mt_jw_raw(w, h->pool_json, h->pool_len);
	}

	mt_jw_key(w, "hit");
	mt_jw_obj_open(w);
	mt_jw_kstr(w, "status", mt_hit_status_name(h->status));
	mt_jw_ku64(w, "seq", h->seq);
	mt_jw_obj_close(w);
	mt_jw_obj_close(w);
	return w->err ? -ENOMEM : 0;
}
