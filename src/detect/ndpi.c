/* ndpi.c - the adapter to Debian's nDPI 4.2: the only file that includes nDPI headers. */

/*
 * How nDPI 4.2 is driven here, and why:
 *
 * - One detection module per worker. In 4.2 the per-packet parse state
 *   (struct ndpi_packet_struct) lives inside the module, not the flow, so a
 *   module must never be used by two threads at once. A module costs about
 *   6 MB and 10-20 ms to create (protocol tables, automata, address trees).
 *   Creating modules must not run in parallel (libgcrypt set-up, per the
 *   comment on ndpi_init_detection_module), so mt_ndpi_new and mt_ndpi_free
 *   take a mutex. Other process-wide state in 4.2 (the malloc hooks
 *   set_ndpi_*, ndpi_verbose_dga_detection, the Aho-Corasick debug switch)
 *   is left at its defaults and never written here.
 * - The flow state (struct ndpi_flow_struct) is 688 bytes in 4.2; we embed it
 *   in our own per-flow struct (704 bytes, one calloc) and refuse to start
 *   if the size the library reports differs from the header's (fields we
 *   read would be at the wrong offsets). nDPI hangs a few malloc'ed strings
 *   off it (URL, User-Agent, TLS ALPN and certificate names), not counted in
 *   *mem; ndpi_free_flow_data releases them.
 * - Direction: by default 4.2 derives a packet's direction from the order of
 *   the two addresses, so the client is direction 0 or 1 by chance. We turn
 *   that off (ndpi_pref_direction_detect_disable) and pass the direction the
 *   flow table found, client to server being 0. (On the corpus both ways
 *   classify the same; ours is the one that does not depend on addresses.)
 * - Which packets: the engine may pass every packet of the flow; this file
 *   decides. A TCP segment without payload (pure SYN, ACK, FIN, RST) goes to
 *   nDPI only if it is the first packet of the flow, which is when nDPI
 *   makes its port guess and its address match (a payload-free reconnect to
 *   a known pool address comes out as "Mining"), or if the flow is already
 *   classified and nDPI still wants packets (HTTP's extra dissection uses
 *   the server's bare ACK to recognise the response that follows, and the
 *   response's Content-Type sets the category). On the 3663 flows of the
 *   shared corpus this gave exactly the same proto, category, names and
 *   Mining label as feeding every packet, with 70% of the nDPI calls (bare
 *   segments are cheap for nDPI, so the CPU saved is small). Feeding only
 *   payload lost the label of 120 payload-free flows, of one FTP data flow
 *   and the Download/Media category of 3 HTTP flows. MT_NDPI_MAX_PACKETS
 *   counts the packets actually given to nDPI.
 * - Output: the Debian build defines NDPI_LOG_ERR as printf(), and some
 *   paths of the library print to stdout, where our JSON goes. With a
 *   finalised module and the default (off) debug switches, none of them is
 *   reached: set-up prints only when libgcrypt or an allocation fails (then
 *   mt_ndpi_new fails too), and the tests check that stdout stays empty
 *   through a random-bytes fuzz run. We do not redirect fd 1 around nDPI:
 *   that would be process-wide and race with the writer threads.
 */

#include "detect/ndpi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

#include <ndpi_api.h> /* clean under our warning flags with gcc 12 and clang 14 */

/* nDPI takes the packet length as an unsigned short. */
#define MT_NDPI_MAX_L3 65535u

struct mt_ndpi {
	struct ndpi_detection_module_struct *mod;
	int labels_only; /* done at the first classification (mt_ndpi_set_labels_only) */
	uint32_t max_packets; /* give up after this many packets (mt_ndpi_set_max_packets) */
};

struct mt_ndpi_flow {
	ndpi_protocol proto;    /* last answer from nDPI */
	uint16_t npkts;         /* packets given to nDPI */
	uint8_t done;
	struct ndpi_flow_struct nf; /* zeroed by calloc, as nDPI requires */
};

static pthread_mutex_t mt_ndpi_init_lock = PTHREAD_MUTEX_INITIALIZER;

const char *mt_ndpi_version(void)
{
	const char *v = ndpi_revision();
	return v ? v : "";
}

static struct ndpi_detection_module_struct *module_create(void)
{
	struct ndpi_detection_module_struct *mod;
	NDPI_PROTOCOL_BITMASK all;

	mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!mod)
		return NULL;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(mod, &all);
	ndpi_set_detection_preferences(mod, ndpi_pref_direction_detect_disable, 1);
	ndpi_finalize_initialization(mod);
	return mod;
}

mt_ndpi *mt_ndpi_new(void)
{
	mt_ndpi *n;
	uint32_t lib_size = ndpi_detection_get_sizeof_ndpi_flow_struct();

	if (lib_size != sizeof(struct ndpi_flow_struct)) {
		fprintf(stderr, "minetrace: nDPI %s flow struct is %u bytes, headers say %zu: "
			"headers and library differ\n", mt_ndpi_version(), lib_size,
			sizeof(struct ndpi_flow_struct));
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		fprintf(stderr, "minetrace: nDPI: out of memory\n");
		return NULL;
	}
	n->max_packets = MT_NDPI_MAX_PACKETS;
	pthread_mutex_lock(&mt_ndpi_init_lock);
	n->mod = module_create();
	pthread_mutex_unlock(&mt_ndpi_init_lock);
	if (!n->mod) {
		fprintf(stderr, "minetrace: nDPI %s: ndpi_init_detection_module failed\n",
			mt_ndpi_version());
		free(n);
		return NULL;
	}
	return n;
}

void mt_ndpi_free(mt_ndpi *n)
{
	if (!n)
		return;
	if (n->mod) {
		pthread_mutex_lock(&mt_ndpi_init_lock);
		ndpi_exit_detection_module(n->mod);
		pthread_mutex_unlock(&mt_ndpi_init_lock);
	}
	free(n);
}

mt_ndpi_flow *mt_ndpi_flow_new(mt_ndpi *n, size_t *mem)
{
	mt_ndpi_flow *f;

	if (mem)
		*mem = 0;
	if (!n)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (mem)
		*mem = sizeof(*f);
	return f;
}

void mt_ndpi_flow_free(mt_ndpi_flow *f)
{
	if (!f)
		return;
	ndpi_free_flow_data(&f->nf);
	free(f);
}

/* Copies at most min(src_cap, cap - 1) bytes of src and terminates dst. */
static void copy_str(char *dst, size_t cap, const char *src, size_t src_cap)
{
	size_t len = 0;

	if (cap == 0)
		return;
	if (src) {
		size_t max = cap - 1 < src_cap ? cap - 1 : src_cap;
		len = strnlen(src, max);
		memcpy(dst, src, len);
	}
	dst[len] = '\0';
}

static int proto_is(const ndpi_protocol *p, u_int16_t id)
{
	return p->master_protocol == id || p->app_protocol == id;
}

static int proto_is_http(const ndpi_protocol *p)
{
	return proto_is(p, NDPI_PROTOCOL_HTTP) || proto_is(p, NDPI_PROTOCOL_HTTP_CONNECT) ||
	       proto_is(p, NDPI_PROTOCOL_HTTP_PROXY);
}

/* Protocols whose host_server_name is the client's TLS/QUIC server name. */
static int proto_is_tls(const ndpi_protocol *p)
{
	return proto_is(p, NDPI_PROTOCOL_TLS) || proto_is(p, NDPI_PROTOCOL_QUIC) ||
	       proto_is(p, NDPI_PROTOCOL_DTLS) || proto_is(p, NDPI_PROTOCOL_MAIL_SMTPS) ||
	       proto_is(p, NDPI_PROTOCOL_MAIL_IMAPS) || proto_is(p, NDPI_PROTOCOL_MAIL_POPS);
}

static int all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static int proto_known(const ndpi_protocol *p)
{
	return p->master_protocol != NDPI_PROTOCOL_UNKNOWN ||
	       p->app_protocol != NDPI_PROTOCOL_UNKNOWN;
}

/*
 * host_server_name is one buffer that nDPI 4.2 reuses for the DNS query, the
 * HTTP Host and the TLS/QUIC SNI (and NetBIOS/DHCP/STUN names, which we do
 * not report), so the detected protocol says which field it is. protos is a
 * union: protos.dns is read only for DNS flows.
 */
static void fill_info(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info)
{
	const struct ndpi_flow_struct *nf = &f->nf;
	const ndpi_protocol *p = &f->proto;
	const char *cat;

	info->proto[0] = '\0';
	info->category[0] = '\0';
	info->sni[0] = '\0';
	info->http_host[0] = '\0';
	info->http_ua[0] = '\0';
	info->dns_query[0] = '\0';
	info->n_answers = 0;
	info->answer_ver[0] = 0;
	info->is_mining = 0;
	info->done = f->done;
	if (!proto_known(p))
		return;

	ndpi_protocol2name(n->mod, *p, info->proto, sizeof(info->proto));
	info->proto[sizeof(info->proto) - 1] = '\0';
	cat = ndpi_category_get_name(n->mod, p->category);
	copy_str(info->category, sizeof(info->category), cat, sizeof(info->category));
	info->is_mining = proto_is(p, NDPI_PROTOCOL_MINING);

	if (proto_is(p, NDPI_PROTOCOL_DNS)) {
		copy_str(info->dns_query, sizeof(info->dns_query), nf->host_server_name,
			 sizeof(nf->host_server_name));
		/*
		 * 4.2 keeps only the first A/AAAA address of the response, in
		 * network order, and its type; both stay once set.
		 */
		if (nf->protos.dns.rsp_type == 1) {
			memset(info->answer[0], 0, sizeof(info->answer[0]));
			memcpy(info->answer[0], &nf->protos.dns.rsp_addr.ipv4, 4);
			info->answer_ver[0] = 4;
		} else if (nf->protos.dns.rsp_type == 28) {
			memcpy(info->answer[0], &nf->protos.dns.rsp_addr.ipv6, 16);
			info->answer_ver[0] = 6;
		}
		if (info->answer_ver[0] && !all_zero(info->answer[0], sizeof(info->answer[0])))
			info->n_answers = 1;
	} else if (proto_is_http(p)) {
		copy_str(info->http_host, sizeof(info->http_host), nf->host_server_name,
			 sizeof(nf->host_server_name));
	} else if (proto_is_tls(p)) {
		copy_str(info->sni, sizeof(info->sni), nf->host_server_name,
			 sizeof(nf->host_server_name));
	}
	/* Outside the union: set by the HTTP dissector and by QUIC's UAID. */
	if (nf->http.user_agent)
		copy_str(info->http_ua, sizeof(info->http_ua), nf->http.user_agent,
			 sizeof(info->http_ua));
}

/* Lets nDPI guess from ports and addresses when nothing was detected. */
static void finish(mt_ndpi *n, mt_ndpi_flow *f)
{
	if (!proto_known(&f->proto)) {
		u_int8_t guessed = 0;
		f->proto = ndpi_detection_giveup(n->mod, &f->nf, 1, &guessed);
	}
	f->done = 1;
}

int mt_ndpi_packet(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir,
		   mt_ndpi_info *info)
{
	int r;

	if (!n || !f || !info)
		return 1;
	if (f->done)
		return 1;
	if (!p || !p->l3 || p->l3_len == 0)
		return 0;
	r = mt_ndpi_feed(n, f, p, dir);
	if (r >= 0)
		fill_info(n, f, info);
	return r > 0;
}

/* mt_ndpi_packet without the labels: 1 done, 0 more wanted, -1 packet not given to nDPI. */
int mt_ndpi_feed(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir)
{
	uint32_t len;

	if (!n || !f || f->done)
		return 1;
	if (!p || !p->l3 || p->l3_len == 0)
		return -1;
	/* Most empty TCP segments teach nDPI nothing we report (see the top of this file). */
	if (p->l4proto == 6 && p->payload_len == 0 && f->npkts > 0 && !proto_known(&f->proto))
		return -1;

	len = p->l3_len < MT_NDPI_MAX_L3 ? p->l3_len : MT_NDPI_MAX_L3;
	f->nf.packet_direction = dir == MT_DIR_S2C ? 1 : 0;
	f->proto = ndpi_detection_process_packet(n->mod, &f->nf, p->l3, (unsigned short)len,
						 p->ts_us / 1000u);
	f->npkts++;

	if (proto_known(&f->proto)) {
		if (n->labels_only || !ndpi_extra_dissection_possible(n->mod, &f->nf) ||
		    f->npkts >= n->max_packets)
			f->done = 1;
	} else if (f->npkts >= n->max_packets) {
		finish(n, f);
	}
	return f->done;
}

void mt_ndpi_set_labels_only(mt_ndpi *n, int on)
{
	if (n)
		n->labels_only = on != 0;
}

void mt_ndpi_set_max_packets(mt_ndpi *n, uint32_t max)
{
	if (n)
		n->max_packets = max == 0 ? 1 : max > UINT16_MAX ? UINT16_MAX : max;
}

int mt_ndpi_host_app(mt_ndpi *n, const char *host, size_t len, char *app, size_t applen)
{
	ndpi_protocol_match_result res;
	char buf[256];
	const char *name;
	int id;

	if (app && applen)
		app[0] = '\0';
	if (!n || !n->mod || !host || len == 0 || len >= sizeof buf)
		return 0;
	for (size_t i = 0; i < len; i++) /* the automaton holds lower-case names */
		buf[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
	buf[len] = '\0';
	memset(&res, 0, sizeof res);
	id = ndpi_match_string_subprotocol(n->mod, buf, (u_int)len, &res);
	if (id <= NDPI_PROTOCOL_UNKNOWN || id == NDPI_PROTOCOL_MINING ||
	    res.protocol_category == CUSTOM_CATEGORY_MINING)
		return 0;
	name = ndpi_get_proto_name(n->mod, (u_int16_t)id);
	if (app && applen && name)
		copy_str(app, applen, name, strlen(name));
	return 1;
}

void mt_ndpi_result(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info)
{
	if (!n || !f || !info)
		return;
	fill_info(n, f, info);
}

void mt_ndpi_giveup(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info)
{
	if (!n || !f || !info)
		return;
	if (!f->done)
		finish(n, f);
	fill_info(n, f, info);
}
