/* live.c - live packet source: AF_PACKET sockets with TPACKET_V3 rings, joined in a fanout group. */
#include "capture/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Why our own sockets and not libpcap's: libpcap has no fanout API, and
 * setting PACKET_FANOUT on pcap_fileno() would join the group only after
 * libpcap has bound the socket and started filling its ring, so every worker
 * would see the first packets of every flow. Opening the sockets here lets
 * each one start with a pass-nothing filter, join its group, and get the
 * real filter only when all members are in (mt_live_start).
 *
 * Why PACKET_FANOUT_HASH: since Linux 4.7 (commit "packet: Use symmetric hash
 * for PACKET_FANOUT_HASH") the kernel picks the member from
 * __skb_get_hash_symmetric(), a flow-dissector hash over the addresses and
 * ports sorted so that both directions give the same value; VLAN and other
 * encapsulations the dissector knows are looked through. That is what a flow
 * table per worker needs, so no cBPF/eBPF program of our own is required.
 * IP fragments after the first carry no ports and may land on another
 * worker, which is harmless: the decoder does not reassemble fragments.
 * PACKET_FANOUT_FLAG_DEFRAG is not set, for the same reason (offline reading
 * of the same traffic would then differ).
 */

#define FRAME_SIZE 2048 /* tp_frame_size: only a unit for TPACKET_V3, which packs frames */

typedef struct live_sock {
	int fd;
	int linktype;     /* LINKTYPE_ of the interface */
	uint8_t *ring;
	size_t ring_len;
	uint32_t nblocks;
	uint32_t next;    /* next block to look at */
	char name[IF_NAMESIZE];
} live_sock;

struct mt_live {
	mt_live_cfg cfg;
	int n;
	live_sock s[MT_LIVE_MAX_IFACES];
	struct sock_fprog prog;   /* the compiled filter (prog.filter NULL: none) */
	struct pollfd pfd[MT_LIVE_MAX_IFACES];
	mt_live_stats st;
	uint8_t vlanbuf[MT_LIVE_SNAPLEN + 4];
};

void mt_live_cfg_default(mt_live_cfg *cfg)
{
	cfg->ring_size = MT_LIVE_DEFAULT_RING_SIZE;
	cfg->block_size = MT_LIVE_DEFAULT_BLOCK_SIZE;
	cfg->block_timeout_ms = MT_LIVE_DEFAULT_BLOCK_TIMEOUT;
	cfg->promisc = 1;
}

/* The pcap LINKTYPE of an interface's ARPHRD type; -1 if we do not decode it. */
static int arphrd_linktype(int hatype)
{
	switch (hatype) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return 1;   /* LINKTYPE_ETHERNET */
	case ARPHRD_NONE:
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_IPGRE:
		return 101; /* LINKTYPE_RAW: the frame starts at the IP header */
	default:
		return -1;
	}
}

/* Compiles bpf for linktype with libpcap on a dead handle into a kernel socket filter. */
static int compile_filter(const char *bpf, int linktype, struct sock_fprog *out, char *err, size_t errlen)
{
	struct bpf_program bp;
	pcap_t *dead = pcap_open_dead(linktype == 101 ? DLT_RAW : linktype, MT_LIVE_SNAPLEN);
	size_t bytes;

	if (!dead) {
		snprintf(err, errlen, "cannot compile the filter: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	if (pcap_compile(dead, &bp, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter: %s", pcap_geterr(dead));
		pcap_close(dead);
		return -EINVAL;
	}
	pcap_close(dead);
	/* struct bpf_insn and struct sock_filter have the same layout (code, jt, jf, k). */
	_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter), "bpf_insn layout");
	bytes = (size_t)bp.bf_len * sizeof(struct sock_filter);
	out->filter = malloc(bytes ? bytes : 1);
	if (!out->filter) {
		pcap_freecode(&bp);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	memcpy(out->filter, bp.bf_insns, bytes);
	out->len = (unsigned short)bp.bf_len;
	pcap_freecode(&bp);
	return 0;
}

static int sock_open(mt_live *l, live_sock *s, const char *ifname, int *fanout_id, char *err, size_t errlen)
{
	static struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog none = {1, drop_all};
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int ver = TPACKET_V3, ifindex, e;

	s->fd = -1;
	if (strlen(ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "%s: interface name too long", ifname);
		return -EINVAL;
	}
	memcpy(s->name, ifname, strlen(ifname) + 1);
	/* Protocol 0: the socket receives nothing until bind names a protocol. */
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: AF_PACKET socket: %s%s", ifname, strerror(e),
			 e == EPERM ? " (needs root or CAP_NET_RAW)" : "");
		return -e;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0) {
		e = errno;
		snprintf(err, errlen, "%s: no such interface", ifname);
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(s->fd, SIOCGIFHWADDR, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: SIOCGIFHWADDR: %s", ifname, strerror(e));
		return -e;
	}
	s->linktype = arphrd_linktype(ifr.ifr_hwaddr.sa_family);
	if (s->linktype < 0) {
		snprintf(err, errlen, "%s: hardware type %d is not decoded", ifname, ifr.ifr_hwaddr.sa_family);
		return -EPROTONOSUPPORT;
	}
	if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &none, sizeof(none)) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: TPACKET_V3: %s", ifname, strerror(e));
		return -e;
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = l->cfg.block_size;
	req.tp_block_nr = (unsigned)(l->cfg.ring_size / l->cfg.block_size);
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = (unsigned)(l->cfg.ring_size / FRAME_SIZE);
	req.tp_retire_blk_tov = l->cfg.block_timeout_ms;
	if (setsockopt(s->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: PACKET_RX_RING (%u blocks of %u bytes): %s", ifname,
			 req.tp_block_nr, req.tp_block_size, strerror(e));
		return -e;
	}
	s->nblocks = req.tp_block_nr;
	s->ring_len = (size_t)req.tp_block_nr * req.tp_block_size;
	s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, s->fd, 0);
	if (s->ring == MAP_FAILED) /* MAP_LOCKED needs RLIMIT_MEMLOCK room; it only avoids page faults */
		s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->ring == MAP_FAILED) {
		e = errno;
		s->ring = NULL;
		snprintf(err, errlen, "%s: mmap of the ring: %s", ifname, strerror(e));
		return -e;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: bind: %s", ifname, strerror(e));
		return -e;
	}
	if (l->cfg.promisc) {
		struct packet_mreq mr;

		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
			e = errno;
			snprintf(err, errlen, "%s: promiscuous mode: %s", ifname, strerror(e));
			return -e;
		}
	}
	if (fanout_id) {
		/*
		 * The first member asks the kernel for an id no other group uses
		 * (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.20): a fixed id could join
		 * another process's group and split the traffic with it.
		 */
		int fresh = *fanout_id < 0;
		int arg = (fresh ? PACKET_FANOUT_FLAG_UNIQUEID << 16 : (*fanout_id & 0xffff)) |
			  (PACKET_FANOUT_HASH << 16);
		socklen_t al = sizeof(arg);

		if (setsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
			e = errno;
			snprintf(err, errlen, "%s: PACKET_FANOUT: %s", ifname, strerror(e));
			return -e;
		}
		if (fresh) {
			if (getsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &arg, &al) < 0) {
				e = errno;
				snprintf(err, errlen, "%s: PACKET_FANOUT id: %s", ifname, strerror(e));
				return -e;
			}
			*fanout_id = arg & 0xffff;
		}
	}
	return 0;
}

static void sock_close(live_sock *s)
{
	if (s->ring)
		munmap(s->ring, s->ring_len);
	if (s->fd >= 0)
		close(s->fd);
	s->ring = NULL;
	s->fd = -1;
}

mt_live *mt_live_open(const char *const *ifaces, int nifaces, int *fanout, const char *bpf,
		      const mt_live_cfg *cfg, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	mt_live *l;
	int i;

	if (nifaces < 1 || nifaces > MT_LIVE_MAX_IFACES) {
		snprintf(err, errlen, "between 1 and %d interfaces", MT_LIVE_MAX_IFACES);
		return NULL;
	}
	if (cfg->block_size < (uint32_t)page || (cfg->block_size & (cfg->block_size - 1)) ||
	    cfg->ring_size < cfg->block_size || cfg->ring_size % cfg->block_size ||
	    cfg->ring_size / cfg->block_size > 65536 || cfg->block_timeout_ms == 0) {
		snprintf(err, errlen, "ring: block size must be a power of two of at least %ld bytes and "
			 "the ring size a multiple of it (at most 65536 blocks)", page);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	l->cfg = *cfg;
	for (i = 0; i < nifaces; i++) {
		l->s[i].fd = -1;
		l->n = i + 1;
		if (sock_open(l, &l->s[i], ifaces[i], fanout ? &fanout[i] : NULL, err, errlen) < 0)
			goto fail;
		if (i > 0 && l->s[i].linktype != l->s[0].linktype) {
			snprintf(err, errlen, "%s and %s have different link types", ifaces[0], ifaces[i]);
			goto fail;
		}
		l->pfd[i].fd = l->s[i].fd;
		l->pfd[i].events = POLLIN | POLLRDNORM | POLLERR;
	}
	if (bpf && *bpf && compile_filter(bpf, l->s[0].linktype, &l->prog, err, errlen) < 0)
		goto fail;
	return l;
fail:
	mt_live_close(l);
	return NULL;
}

int mt_live_start(mt_live *l, char *err, size_t errlen)
{
	int i, e, dummy = 0;

	for (i = 0; i < l->n; i++) {
		int rc;
		if (l->prog.filter)
			rc = setsockopt(l->s[i].fd, SOL_SOCKET, SO_ATTACH_FILTER, &l->prog, sizeof(l->prog));
		else /* the kernel wants an int-sized option value even here */
			rc = setsockopt(l->s[i].fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof(dummy));
		if (rc < 0) {
			e = errno;
			snprintf(err, errlen, "%s: attaching the filter: %s", l->s[i].name, strerror(e));
			return -e;
		}
	}
	return 0;
}

/* One block's frames to fn. VLAN tags the kernel took off are put back, as a capture file has them. */
static uint32_t block_frames(mt_live *l, live_sock *s, struct tpacket_block_desc *bd, mt_capture_fn fn,
			     void *ctx, uint64_t *budget)
{
	uint32_t n = bd->hdr.bh1.num_pkts, i;
	struct tpacket3_hdr *h = (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);

	for (i = 0; i < n; i++) {
		const uint8_t *data = (const uint8_t *)h + h->tp_mac;
		uint32_t cap = h->tp_snaplen, wire = h->tp_len;
		uint64_t ts = (uint64_t)h->tp_sec * 1000000u + h->tp_nsec / 1000u;

		if ((h->tp_status & TP_STATUS_VLAN_VALID) && s->linktype == 1 && cap >= 12 &&
		    cap <= MT_LIVE_SNAPLEN) {
			uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
			uint8_t *b = l->vlanbuf;

			memcpy(b, data, 12);
			b[12] = (uint8_t)(tpid >> 8);
			b[13] = (uint8_t)tpid;
			b[14] = (uint8_t)(h->hv1.tp_vlan_tci >> 8);
			b[15] = (uint8_t)h->hv1.tp_vlan_tci;
			memcpy(b + 16, data + 12, cap - 12);
			data = b;
			cap += 4;
			wire += 4;
		}
		fn(ctx, s->linktype, ts, data, cap, wire < cap ? cap : wire);
		if (budget && *budget)
			(*budget)--;
		h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
	}
	return n;
}

int mt_live_dispatch(mt_live *l, int timeout_ms, mt_capture_fn fn, void *ctx, uint64_t *budget,
		     char *err, size_t errlen)
{
	int total = 0, i, waited = 0;

	for (;;) {
		for (i = 0; i < l->n; i++) {
			live_sock *s = &l->s[i];
			uint32_t k;

			/* At most one turn of the ring per call, so the caller gets control back. */
			for (k = 0; k < s->nblocks; k++) {
				struct tpacket_block_desc *bd =
					(struct tpacket_block_desc *)(s->ring + (size_t)s->next * l->cfg.block_size);

				if (budget && *budget == 0)
					return total;
				if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
					break;
				total += (int)block_frames(l, s, bd, fn, ctx, budget);
				__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
				s->next = s->next + 1 == s->nblocks ? 0 : s->next + 1;
			}
		}
		if (total || waited || timeout_ms <= 0)
			return total;
		for (i = 0; i < l->n; i++)
			l->pfd[i].revents = 0;
		if (poll(l->pfd, (nfds_t)l->n, timeout_ms) < 0) {
			if (errno == EINTR)
				return 0;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < l->n; i++) {
			if (l->pfd[i].revents & (POLLERR | POLLNVAL)) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);

				/* ENETDOWN and the like: the interface went away or down. */
				getsockopt(l->s[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				if (soerr) {
					snprintf(err, errlen, "%s: %s", l->s[i].name, strerror(soerr));
					return -soerr;
				}
			}
		}
		waited = 1;
	}
}

void mt_live_stats_get(mt_live *l, mt_live_stats *out)
{
	int i;

	for (i = 0; i < l->n; i++) {
		struct tpacket_stats_v3 ks;
		socklen_t len = sizeof(ks);

		memset(&ks, 0, sizeof(ks));
		/* The kernel zeroes its counters at every read, so nothing is counted twice. */
		if (getsockopt(l->s[i].fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0) {
			l->st.packets += ks.tp_packets;
			l->st.drops += ks.tp_drops;
			l->st.freezes += ks.tp_freeze_q_cnt;
		}
	}
	*out = l->st;
}

void mt_live_close(mt_live *l)
{
	int i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		sock_close(&l->s[i]);
	free(l->prog.filter);
	free(l);
}
