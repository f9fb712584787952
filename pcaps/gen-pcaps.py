#!/usr/bin/env python3
"""gen-pcaps.py - writes minetrace's small, deterministic test captures (pcaps/).

Python 3 standard library only; no randomness (every "random" byte is a
SHA-256 of a fixed label), fixed timestamps and sequence numbers, so two runs
give byte-identical files.

Usage: gen-pcaps.py [--out DIR] [--flows]
  --out DIR  write the captures there (default: the directory of this script)
  --flows    also print every capture's flows (5-tuple, Community ID)

Wire formats followed:
  pcap            draft-ietf-opsawg-pcap (classic libpcap file format)
  pcapng          draft-ietf-opsawg-pcapng (SHB, IDB, EPB, ISB)
  Ethernet II, IEEE 802.1Q (0x8100) and 802.1ad (0x88a8) tags
  MPLS            RFC 3032 (label stack entries, bottom-of-stack bit)
  PPPoE           RFC 2516 (session stage), PPP RFC 1661
  Linux cooked    tcpdump.org LINKTYPE_LINUX_SLL (113) and LINKTYPE_LINUX_SLL2 (276)
  NULL / RAW      tcpdump.org LINKTYPE_NULL (0), LINKTYPE_RAW (101)
  IPv4 RFC 791, IPv6 RFC 8200, TCP RFC 9293, UDP RFC 768, ICMP RFC 792,
  ARP RFC 826, DNS RFC 1035, TLS 1.3 RFC 8446, SSH RFC 4253, IRC RFC 2812,
  HTTP/1.1 RFC 9112, JSON-RPC 2.0, Community ID v1 (corelight spec),
  Stratum v1 (de-facto mining protocol), Zcash Stratum (ZIP 301).
"""

import base64
import hashlib
import json
import os
import struct
import sys

# --------------------------------------------------------------------------
# constants

SNAPLEN = 262144
BASE_US = 1710406800 * 1000000  # 2024-03-14T09:00:00Z: every capture's t=0

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

ETH_IPV4, ETH_ARP, ETH_IPV6 = 0x0800, 0x0806, 0x86DD
ETH_8021Q, ETH_8021AD = 0x8100, 0x88A8
ETH_MPLS, ETH_PPPOE_SESS = 0x8847, 0x8864
PPP_IPV4, PPP_IPV6 = 0x0021, 0x0057

IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP = 1, 6, 17
IP6_HOPOPTS, IP6_DSTOPTS = 0, 60

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
C, S = 0, 1  # direction: client (the side that opened the connection), server

# RFC 7042 documentation MAC range 00:00:5e:00:53:00-ff
GW_MAC = bytes.fromhex('00005e005301')  # the router in front of every pool/server


def mac(n):
    return bytes([0x00, 0x00, 0x5E, 0x00, 0x53, n])


def h(label):
    """Deterministic pseudo-random bytes: SHA-256 of a label."""
    return hashlib.sha256(label.encode()).digest()


def hbytes(label, n):
    out = b''
    i = 0
    while len(out) < n:
        out += h('%s#%d' % (label, i))
        i += 1
    return out[:n]


def hhex(label):
    return h(label).hex()


# --------------------------------------------------------------------------
# checksums and addresses

def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_bytes(addr):
    if ':' in addr:
        # expand "::" by hand to stay independent of the ipaddress module's text
        head, _, tail = addr.partition('::')
        hs = [x for x in head.split(':') if x] if head else []
        ts = [x for x in tail.split(':') if x] if tail else []
        if '::' not in addr:
            hs, ts = addr.split(':'), []
        groups = hs + ['0'] * (8 - len(hs) - len(ts)) + ts
        assert len(groups) == 8, addr
        return b''.join(struct.pack('!H', int(g, 16)) for g in groups)
    parts = [int(x) for x in addr.split('.')]
    assert len(parts) == 4
    return bytes(parts)


def pseudo_header(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack('!BBH', 0, proto, length)
    return src + dst + struct.pack('!IxxxB', length, proto)


def community_id(proto, saddr, sport, daddr, dport, seed=0):
    """Community ID v1 (https://github.com/corelight/community-id-spec)."""
    s, d = ip_bytes(saddr), ip_bytes(daddr)
    if (s, sport) > (d, dport):
        s, d, sport, dport = d, s, dport, sport
    data = struct.pack('!H', seed) + s + d + struct.pack('!BBHH', proto, 0, sport, dport)
    return '1:' + base64.b64encode(hashlib.sha1(data).digest()).decode()


# --------------------------------------------------------------------------
# capture file writers

class Pkt:
    __slots__ = ('t', 'frame', 'iface', 'comment', 'orig_len')

    def __init__(self, t, frame, iface=0, comment=None, orig_len=None):
        self.t = t  # microseconds since the epoch
        self.frame = frame
        self.iface = iface
        self.comment = comment
        self.orig_len = orig_len if orig_len is not None else len(frame)


def ordered(pkts):
    return sorted(pkts, key=lambda p: p.t)  # stable: equal times keep emission order


def pcap_bytes(linktype, pkts):
    """Classic pcap, little-endian, microsecond timestamps."""
    out = [struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, linktype)]
    for p in pkts:
        assert len(p.frame) <= SNAPLEN
        out.append(struct.pack('<IIII', p.t // 1000000, p.t % 1000000,
                               len(p.frame), p.orig_len))
        out.append(p.frame)
    return b''.join(out)


def pcap_record_offsets(pkts):
    """(start of record header, start of data, end) of every record in pcap_bytes()."""
    off = 24
    res = []
    for p in pkts:
        res.append((off, off + 16, off + 16 + len(p.frame)))
        off += 16 + len(p.frame)
    return res


def pad4(b):
    return b + b'\0' * (-len(b) % 4)


def ng_opt(code, value):
    return struct.pack('<HH', code, len(value)) + pad4(value)


def ng_block(btype, body):
    total = 12 + len(body)
    assert total % 4 == 0
    return struct.pack('<II', btype, total) + body + struct.pack('<I', total)


def pcapng_bytes(ifaces, pkts, appl):
    """ifaces: list of (linktype, name, tsresol_exp). One section."""
    shb = struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)
    shb += ng_opt(4, appl.encode()) + ng_opt(0, b'')  # shb_userappl, opt_endofopt
    out = [ng_block(0x0A0D0D0A, shb)]
    for linktype, name, tsexp in ifaces:
        body = struct.pack('<HHI', linktype, 0, SNAPLEN) + ng_opt(2, name.encode())
        if tsexp != 6:
            body += ng_opt(9, bytes([tsexp]))  # if_tsresol: 10^-tsexp s
        body += ng_opt(0, b'')
        out.append(ng_block(0x00000001, body))
    counts = [0] * len(ifaces)
    last = [0] * len(ifaces)
    for p in pkts:
        tsexp = ifaces[p.iface][2]
        ts = p.t * 10 ** (tsexp - 6) + (250 if tsexp == 9 else 0)
        body = struct.pack('<IIIII', p.iface, ts >> 32, ts & 0xFFFFFFFF,
                           len(p.frame), p.orig_len) + pad4(p.frame)
        if p.comment:
            body += ng_opt(1, p.comment.encode()) + ng_opt(0, b'')  # opt_comment
        out.append(ng_block(0x00000006, body))
        counts[p.iface] += 1
        last[p.iface] = ts
    for i, (linktype, name, tsexp) in enumerate(ifaces):
        ts = last[i]
        body = struct.pack('<III', i, ts >> 32, ts & 0xFFFFFFFF)
        body += ng_opt(4, struct.pack('<Q', counts[i]))  # isb_ifrecv
        body += ng_opt(5, struct.pack('<Q', 0))          # isb_ifdrop
        body += ng_opt(0, b'')
        out.append(ng_block(0x00000005, body))           # Interface Statistics Block
    return b''.join(out)


# --------------------------------------------------------------------------
# network and transport layers

def ipv4(src, dst, proto, payload, ident, ttl=64, df=True, mf=False, frag=0,
         tos=0, ihl=5, total=None):
    ver_ihl = 0x40 | ihl
    if total is None:
        total = 20 + len(payload)
    ff = (0x4000 if df else 0) | (0x2000 if mf else 0) | frag
    hdr = struct.pack('!BBHHHBBH4s4s', ver_ihl, tos, total, ident & 0xFFFF, ff,
                      ttl, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6_ext(nh, opts):
    """Hop-by-hop / destination options header: next header, length in 8-octet units - 1."""
    assert (len(opts) + 2) % 8 == 0
    return bytes([nh, (len(opts) + 2) // 8 - 1]) + opts


def ipv6(src, dst, nh, payload, hlim=64, flow=0, ext=()):
    """ext: [(header type, option bytes)], outermost first."""
    body = payload
    nxt = nh
    for typ, opts in reversed(ext):
        body = ip6_ext(nxt, opts) + body
        nxt = typ
    hdr = struct.pack('!IHBB16s16s', (6 << 28) | flow, len(body), nxt, hlim, src, dst)
    return hdr + body


def tcp(src, dst, sport, dport, seq, ack, flags, win, payload, opts=b'', doff=None):
    hl = 20 + len(opts)
    assert hl % 4 == 0
    off = (hl // 4 if doff is None else doff) << 4
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off, flags, win, 0, 0) + opts
    c = csum(pseudo_header(src, dst, IPPROTO_TCP, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack('!H', c) + hdr[18:] + payload


def udp(src, dst, sport, dport, payload):
    ln = 8 + len(payload)
    hdr = struct.pack('!HHHH', sport, dport, ln, 0)
    c = csum(pseudo_header(src, dst, IPPROTO_UDP, ln) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack('!H', c) + payload


def icmp_echo(typ, ident, seq, data):
    hdr = struct.pack('!BBHHH', typ, 0, 0, ident, seq)
    c = csum(hdr + data)
    return hdr[:2] + struct.pack('!H', c) + hdr[4:] + data


# --------------------------------------------------------------------------
# link layers: frame(ip packet, ip version, client-to-server?) -> bytes

def eth_header(dst, src, ethertype, tags=()):
    hdr = dst + src
    for tpid, tci in tags:
        hdr += struct.pack('!HH', tpid, tci)
    return hdr + struct.pack('!H', ethertype)


def eth_pad(frame):
    # a frame on the wire is at least 60 bytes before the FCS; a mirror port keeps the padding
    return frame + b'\0' * max(0, 60 - len(frame))


class EthLink:
    def __init__(self, cmac, smac=GW_MAC, tags=(), mpls=(), pppoe=None):
        self.cmac, self.smac = cmac, smac
        self.tags = tags      # [(tpid, tci)], outermost first
        self.mpls = mpls      # [label], top first; bottom gets the S bit
        self.pppoe = pppoe    # session id
        self.linktype = LINKTYPE_ETHERNET

    def frame(self, ip, v, c2s):
        dst, src = (self.smac, self.cmac) if c2s else (self.cmac, self.smac)
        if self.pppoe is not None:
            ppp = struct.pack('!H', PPP_IPV4 if v == 4 else PPP_IPV6) + ip
            body = struct.pack('!BBHH', 0x11, 0x00, self.pppoe, len(ppp)) + ppp
            etype = ETH_PPPOE_SESS
        elif self.mpls:
            body = b''
            for i, label in enumerate(self.mpls):
                bos = 1 if i == len(self.mpls) - 1 else 0
                body += struct.pack('!I', (label << 12) | (bos << 8) | 64)
            body += ip
            etype = ETH_MPLS
        else:
            body = ip
            etype = ETH_IPV4 if v == 4 else ETH_IPV6
        return eth_pad(eth_header(dst, src, etype, self.tags) + body)


class TunnelLink:
    """A mirror session that delivers the traffic inside a tunnel between two probes' routers
    (198.18.0.1 and 198.18.0.2, RFC 2544 benchmark space): the outer frame is Ethernet/IPv4,
    then GRE (RFC 2784, with a key), ERSPAN type II (GRE sequence + 8-byte header, the mirrored
    Ethernet frame), VXLAN (RFC 7348, VNI 5000), GTP-U (3GPP TS 29.281 G-PDU, TEID per side) or
    IP-in-IP (protocol 4 or 41). Outer UDP checksums are computed; GRE carries none."""

    OUT_A, OUT_B = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])

    def __init__(self, kind, cmac, smac=GW_MAC):
        self.kind, self.cmac, self.smac = kind, cmac, smac
        self.linktype = LINKTYPE_ETHERNET
        self.ident = 0x3000
        self.seq = 0

    def frame(self, ip, v, c2s):
        dst, src = (self.smac, self.cmac) if c2s else (self.cmac, self.smac)
        oa, ob = (self.OUT_A, self.OUT_B) if c2s else (self.OUT_B, self.OUT_A)
        inner_eth = eth_header(dst, src, ETH_IPV4 if v == 4 else ETH_IPV6) + ip
        self.ident += 1
        self.seq += 1
        if self.kind == 'gre':
            proto, body = 47, struct.pack('!HHI', 0x2000, ETH_IPV4 if v == 4 else ETH_IPV6,
                                          0x00C0FFEE) + ip
        elif self.kind == 'erspan2':
            # ERSPAN II: ver 1, VLAN 0, COS 0, En 0, T 0, session 42; index 7
            proto, body = 47, struct.pack('!HHIII', 0x1000, 0x88BE, self.seq,
                                          (1 << 28) | 42, 7) + inner_eth
        elif self.kind == 'vxlan':
            proto = 17
            body = udp(oa, ob, 49999, 4789, struct.pack('!II', 0x08000000, 5000 << 8) + inner_eth)
        elif self.kind == 'gtpu':
            proto = 17
            teid = 0x1000 if c2s else 0x2000
            body = udp(oa, ob, 2152, 2152, struct.pack('!BBHI', 0x30, 0xFF, len(ip), teid) + ip)
        elif self.kind == 'ipip':
            proto, body = (4 if v == 4 else 41), ip
        else:
            raise ValueError(self.kind)
        outer = ipv4(oa, ob, proto, body, self.ident)
        return eth_pad(eth_header(dst, src, ETH_IPV4) + outer)


class FragLink:
    """Ethernet, with every IP packet longer than `piece` bytes of payload fragmented: IPv4 by
    MF and offset (RFC 791 3.2), IPv6 with a fragment header (RFC 8200 4.5). frame() returns the
    list of frames; `reverse` sends the pieces last first (as a router's queue may reorder)."""

    def __init__(self, cmac, piece, reverse=False, smac=GW_MAC):
        self.eth = EthLink(cmac, smac)
        self.piece, self.reverse = piece, reverse
        self.linktype = LINKTYPE_ETHERNET
        self.ident = 0x5000

    def pieces(self, ip, v):
        if v == 4:
            hl = (ip[0] & 0x0F) * 4
            hdr, pay = ip[:hl], ip[hl:]
        else:
            hdr, pay = ip[:40], ip[40:]
        if len(pay) <= self.piece:
            return [ip]
        self.ident += 1
        out = []
        for off in range(0, len(pay), self.piece):
            chunk = pay[off:off + self.piece]
            more = off + self.piece < len(pay)
            if v == 4:
                h = bytearray(hdr)
                struct.pack_into('!H', h, 2, hl + len(chunk))
                struct.pack_into('!H', h, 6, (0x2000 if more else 0) | (off // 8))
                struct.pack_into('!H', h, 10, 0)
                struct.pack_into('!H', h, 10, csum(bytes(h)))
                out.append(bytes(h) + chunk)
            else:
                h = bytearray(hdr)
                nh = h[6]
                h[6] = 44
                struct.pack_into('!H', h, 4, 8 + len(chunk))
                fh = struct.pack('!BBHI', nh, 0, off | (1 if more else 0), self.ident)
                out.append(bytes(h) + fh + chunk)
        return out[::-1] if self.reverse else out

    def frame(self, ip, v, c2s):
        return [self.eth.frame(p, v, c2s) for p in self.pieces(ip, v)]


class SllLink:
    """Linux cooked v1: pkttype, ARPHRD, addr len, 8-byte addr, protocol."""

    def __init__(self, cmac, smac=GW_MAC):
        self.cmac, self.smac = cmac, smac
        self.linktype = LINKTYPE_LINUX_SLL

    def frame(self, ip, v, c2s):
        # captured on the miner: its own packets are outgoing (4), the pool's "to us" (0)
        pkttype, addr = (4, self.cmac) if c2s else (0, self.smac)
        proto = ETH_IPV4 if v == 4 else ETH_IPV6
        return struct.pack('!HHH8sH', pkttype, 1, 6, addr, proto) + ip


class Sll2Link:
    """Linux cooked v2: protocol, reserved, ifindex, ARPHRD, pkttype, addr len, addr."""

    def __init__(self, cmac, smac=GW_MAC, ifindex=2):
        self.cmac, self.smac, self.ifindex = cmac, smac, ifindex
        self.linktype = LINKTYPE_LINUX_SLL2

    def frame(self, ip, v, c2s):
        pkttype, addr = (4, self.cmac) if c2s else (0, self.smac)
        proto = ETH_IPV4 if v == 4 else ETH_IPV6
        return struct.pack('!HHIHBB8s', proto, 0, self.ifindex, 1, pkttype, 6, addr) + ip


class NullLink:
    """BSD loopback: 4-byte AF_ value in the writer's (here little-endian) byte order."""
    linktype = LINKTYPE_NULL

    def frame(self, ip, v, c2s):
        return struct.pack('<I', 2 if v == 4 else 24) + ip  # AF_INET, AF_INET6 (BSD)


class RawLink:
    linktype = LINKTYPE_RAW

    def frame(self, ip, v, c2s):
        return ip


# --------------------------------------------------------------------------
# TCP session builder

def us(t):
    """Seconds since capture start -> microseconds since the epoch."""
    return BASE_US + int(round(t * 1000000))


# SYN options: MSS, NOP, NOP, SACK permitted (no window scale: windows are literal)
def syn_opts(mss):
    return struct.pack('!BBH', 2, 4, mss) + b'\x01\x01\x04\x02'


class TcpFlow:
    def __init__(self, sink, link, caddr, cport, saddr, sport, isn, mss=1460,
                 ext6=(), iface=0, ipid=(0x3A10, 0x0000), ttl=(64, 52),
                 win=(64240, 65160), flow6=(0x4A3C1, 0xB2D07)):
        self.sink, self.link = sink, link
        self.v = 6 if ':' in caddr else 4
        self.addr = [ip_bytes(caddr), ip_bytes(saddr)]
        self.text = [caddr, saddr]
        self.port = [cport, sport]
        self.nxt = [isn[0] & 0xFFFFFFFF, isn[1] & 0xFFFFFFFF]
        self.mss, self.ext6, self.iface = mss, ext6, iface
        self.ipid, self.ttl, self.win, self.flow6 = list(ipid), ttl, win, flow6
        self.comment = None

    def five_tuple(self):
        return ('TCP', self.text[C], self.port[C], self.text[S], self.port[S])

    def emit(self, d, t, flags, payload=b'', seq=None, ack=None, opts=b''):
        if seq is None:
            seq = self.nxt[d]
        if ack is None:
            ack = self.nxt[1 - d] if flags & ACK else 0
        src, dst = self.addr[d], self.addr[1 - d]
        seg = tcp(src, dst, self.port[d], self.port[1 - d], seq, ack, flags,
                  self.win[d], payload, opts)
        if self.v == 4:
            ip = ipv4(src, dst, IPPROTO_TCP, seg, self.ipid[d], ttl=self.ttl[d])
            self.ipid[d] += 1
        else:
            ip = ipv6(src, dst, IPPROTO_TCP, seg, hlim=self.ttl[d], flow=self.flow6[d],
                      ext=self.ext6)
        fr = self.link.frame(ip, self.v, d == C)
        for k, one in enumerate(fr if isinstance(fr, list) else [fr]):
            # fragments 1 us apart, so that time order keeps them in the link's order
            self.sink.append(Pkt(us(t) + k, one, self.iface, self.comment))
        self.comment = None

    def handshake(self, t, rtt=0.021):
        self.emit(C, t, SYN, opts=syn_opts(self.mss))
        self.nxt[C] += 1
        self.emit(S, t + rtt, SYN | ACK, opts=syn_opts(self.mss))
        self.nxt[S] += 1
        self.emit(C, t + rtt + 0.00012, ACK)

    def segments(self, d, data, cuts=None):
        """Cuts data at the given offsets (else at the MSS); returns [(seq, bytes)]."""
        if cuts is None:
            cuts = list(range(self.mss, len(data), self.mss))
        bounds = [0] + sorted(cuts) + [len(data)]
        res = []
        for a, b in zip(bounds, bounds[1:]):
            assert 0 < b - a <= self.mss, (a, b)
            res.append((self.nxt[d], data[a:b]))
            self.nxt[d] = (self.nxt[d] + b - a) & 0xFFFFFFFF
        return res

    def send(self, d, t, data, cuts=None, ack_delay=None, gap=0.00009):
        """One write: segments (PSH on the last), then optionally the peer's pure ACK."""
        if isinstance(data, str):
            data = data.encode()
        segs = self.segments(d, data, cuts)
        for i, (seq, p) in enumerate(segs):
            self.emit(d, t + i * gap, (PSH | ACK) if i == len(segs) - 1 else ACK, p, seq=seq)
        if ack_delay is not None:
            self.emit(1 - d, t + (len(segs) - 1) * gap + ack_delay, ACK)
        return segs

    def close(self, t, d=C, rtt=0.021):
        self.emit(d, t, FIN | ACK)
        self.nxt[d] += 1
        self.emit(1 - d, t + rtt, FIN | ACK)
        self.nxt[1 - d] += 1
        self.emit(d, t + rtt + 0.00011, ACK)


def udp_packet(link, caddr, cport, saddr, sport, payload, c2s, ipid, ttl=64):
    a, b = ip_bytes(caddr), ip_bytes(saddr)
    if not c2s:
        a, b, cport, sport = b, a, sport, cport
    seg = udp(a, b, cport, sport, payload)
    if len(a) == 4:
        ip = ipv4(a, b, IPPROTO_UDP, seg, ipid, ttl=ttl, df=False)
        return link.frame(ip, 4, c2s)
    return link.frame(ipv6(a, b, IPPROTO_UDP, seg, hlim=ttl), 6, c2s)


# --------------------------------------------------------------------------
# Bitcoin / Zcash helpers (addresses are checked, coinbase is real serialisation)

B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def b58check_encode(payload):
    raw = payload + sha256d(payload)[:4]
    n = int.from_bytes(raw, 'big')
    s = ''
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return '1' * (len(raw) - len(raw.lstrip(b'\0'))) + s


def b58check_decode(s):
    n = 0
    for ch in s:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    raw = b'\0' * (len(s) - len(s.lstrip('1'))) + raw
    payload, chk = raw[:-4], raw[-4:]
    assert sha256d(payload)[:4] == chk, 'bad base58check: ' + s
    return payload


def bech32_ok(addr):
    """BIP 173 checksum of a bech32 (witness v0) address."""
    charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
    hrp, _, data = addr.rpartition('1')
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    values = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp] + \
        [charset.index(x) for x in data]
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk == 1


BTC_WALLET = '1BoatSLRHtKNngkdXEeobR76b53LETtpyT'  # well-known vanity address
BTC_H160 = b58check_decode(BTC_WALLET)[1:]
assert b58check_decode(BTC_WALLET)[0] == 0 and len(BTC_H160) == 20
BECH32_WALLET = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'  # BIP 173 test vector
assert bech32_ok(BECH32_WALLET)
ZEC_WALLET = b58check_encode(b'\x1c\xb8' + h('minetrace zcash test wallet')[:20])
assert ZEC_WALLET.startswith('t1') and len(ZEC_WALLET) == 35

POOL_TAG = b'/example-pool/'


def varint(n):
    assert n < 0xFD
    return bytes([n])


def coinbase_parts(height, tag, extranonce_len, h160, value, label):
    """Coinbase transaction cut around the extranonce (Stratum coinb1 / coinb2)."""
    hb = height.to_bytes(3, 'little')
    head = bytes([len(hb)]) + hb + bytes([len(tag)]) + tag + bytes([extranonce_len])
    coinb1 = struct.pack('<I', 1) + b'\x01' + b'\0' * 32 + b'\xff' * 4 + \
        varint(len(head) + extranonce_len) + head
    p2pkh = b'\x76\xa9\x14' + h160 + b'\x88\xac'
    commit = b'\x6a\x24\xaa\x21\xa9\xed' + h('witness commitment ' + label)  # BIP 141
    rsk = b'\x6a\x29RSKBLOCK:' + h('rsk merge mining ' + label)  # merge-mining tag
    coinb2 = b'\xff' * 4 + b'\x03' + struct.pack('<Q', value) + varint(len(p2pkh)) + p2pkh + \
        struct.pack('<Q', 0) + varint(len(commit)) + commit + \
        struct.pack('<Q', 0) + varint(len(rsk)) + rsk + struct.pack('<I', 0)
    return coinb1.hex(), coinb2.hex()


def stratum_prevhash(label):
    """A block hash with leading zeros, in Stratum's word-swapped byte order."""
    disp = b'\0' * 9 + h('block ' + label)[9:]
    internal = disp[::-1]
    return b''.join(internal[i:i + 4][::-1] for i in range(0, 32, 4)).hex()


def jl(obj, seps=(',', ':')):
    return (json.dumps(obj, separators=seps) + '\n').encode()


class BtcJob:
    def __init__(self, job_id, block_label, ntime, height, clean, nbranch=13):
        self.job_id, self.ntime = job_id, ntime
        c1, c2 = coinbase_parts(height, POOL_TAG, 8, BTC_H160, 625000000 + 18734561,
                                job_id)
        self.params = [job_id, stratum_prevhash(block_label), c1, c2,
                       [hhex('branch %s %d' % (block_label, i)) for i in range(nbranch)],
                       '20000000', '17034219', '%08x' % ntime, clean]

    def notify(self, seps=(',', ':')):
        return jl({'id': None, 'method': 'mining.notify', 'params': self.params}, seps)


def submit(i, worker, job, en2, ntime, nonce):
    return jl({'id': i, 'method': 'mining.submit',
               'params': [worker, job.job_id, en2, '%08x' % ntime, nonce]})


def reply(i, result=True, error=None):
    return jl({'id': i, 'result': result, 'error': error})


REJECT = [23, 'Low difficulty share', None]
NTIME0 = BASE_US // 1000000 - 37  # the pool's job time, a little behind the clock
HEIGHT = 834000


# --------------------------------------------------------------------------
# Stratum v1 sessions

class SessionPlan:
    def __init__(self, worker, agent='cgminer/4.12.1', host='stratum.example.com',
                 port=3333, en1='08000002', diff=65536, shares=(), rejected=(),
                 notifies=(), end=None, label='s'):
        self.__dict__.update(locals())
        del self.__dict__['self']


def stratum_session(f, t0, plan, rtt=0.021):
    """A complete Stratum v1 miner session on TcpFlow f starting at t0 (seconds)."""
    f.handshake(t0, rtt)
    t = t0 + 0.030
    f.send(C, t, jl({'id': 1, 'method': 'mining.subscribe',
                     'params': [plan.agent, None, plan.host, plan.port]}))
    t += rtt
    sid = hhex('session ' + plan.label)[:16]
    f.send(S, t, jl({'id': 1, 'result': [[['mining.set_difficulty', sid],
                                          ['mining.notify', sid]], plan.en1, 4],
                     'error': None}))
    t += 0.0005
    f.send(C, t, jl({'id': 2, 'method': 'mining.authorize', 'params': [plan.worker, 'x']}))
    t += rtt
    jobs = [BtcJob('%s%02x' % (plan.label, 1), plan.label + ' 0', NTIME0, HEIGHT, True)]
    f.send(S, t, reply(2) + jl({'id': None, 'method': 'mining.set_difficulty',
                                'params': [plan.diff]}) + jobs[0].notify(),
           ack_delay=0.040)
    events = [(x, 'notify') for x in plan.notifies] + [(x, 'share') for x in plan.shares]
    next_id = 3
    nshare = 0
    for at, kind in sorted(events):
        if kind == 'notify':
            n = len(jobs) + 1
            new_block = n % 2 == 1  # every other notify is a new block (clean_jobs)
            job = BtcJob('%s%02x' % (plan.label, n), '%s %d' % (plan.label, n), NTIME0 + int(at),
                         HEIGHT + (n - 1) // 2, new_block)
            if not new_block:
                job.params[1] = jobs[-1].params[1]
            jobs.append(job)
            f.send(S, t0 + at, job.notify(), ack_delay=0.040)
        else:
            job = jobs[-1]
            nonce = h('nonce %s %d' % (plan.label, nshare))[:4].hex()
            f.send(C, t0 + at, submit(next_id, plan.worker, job, '%08x' % nshare,
                                      job.ntime + 2, nonce))
            ok = nshare not in plan.rejected
            f.send(S, t0 + at + rtt, reply(next_id, True if ok else None,
                                          None if ok else REJECT), ack_delay=0.040)
            next_id += 1
            nshare += 1
    f.close(t0 + plan.end, C, rtt)
    return jobs


# --------------------------------------------------------------------------
# the captures

FLOWS = {}  # capture name -> [(five tuple, note)]


def note_flow(name, ft, what):
    FLOWS.setdefault(name, []).append((ft, what))


def cap_stratum_btc():
    pkts = []
    f = TcpFlow(pkts, EthLink(mac(0x0A)), '192.0.2.10', 49152, '203.0.113.5', 3333,
                (0x6B8B4567, 0x327B23C6))
    plan = SessionPlan('%s.rig01' % BTC_WALLET, label='6a2f',
                       shares=(12.4, 27.9, 41.3, 58.7, 71.2), rejected=(2,),
                       notifies=(30.1, 60.2, 90.0), end=95.0)
    stratum_session(f, 0.0, plan)
    note_flow('stratum-btc.pcap', f.five_tuple(), 'stratum BTC, 5 shares (1 rejected)')
    return ordered(pkts)


def cap_stratum_split():
    pkts = []
    f = TcpFlow(pkts, EthLink(mac(0x0B)), '192.0.2.11', 49201, '203.0.113.6', 3333,
                (0xFFFFFF00, 0x0A1B2C3D))  # client sequence numbers wrap past 2^32 in segment 2
    worker = '%s.rig02' % BTC_WALLET
    rtt = 0.024
    f.handshake(0.0, rtt)
    # 1. three pipelined requests; the first is cut inside the escape "\/"
    c1 = r'{"params":["cgminer\/4.12.1",null,"stratum.example.com",3333],"id":1,' \
         r'"method":"mining.subscribe"}' + '\n'
    c2 = '{"id":2,"method":"mining.extranonce.subscribe","params":[]}\n'
    c3 = '{ "id" : 3 ,  "method" : "mining.authorize" ,\t"params" : [ "%s" , "x" ] }\n' \
        % worker
    data = (c1 + c2 + c3).encode()
    f.send(C, 0.034, data, cuts=[data.index(b'\\/') + 1])
    # 2. replies, difficulty and the first job in one burst: cut mid-key ("met|hod"),
    #    then at the MSS; the last segment is lost after the tap and retransmitted
    job1 = BtcJob('7c1e01', '7c1e 0', NTIME0, HEIGHT, True)
    sid = hhex('session 7c1e')[:16]
    s = jl({'id': 1, 'result': [[['mining.set_difficulty', sid], ['mining.notify', sid]],
                                '0800000a', 4], 'error': None})
    s += b'{"error":null,"id":2,"result":true}\n'
    s += b'{"id":3,"result":true,"error":null}\r\n'
    s += b'{"id":null,"method":"mining.set_difficulty","params":[65536]}\n'
    s += (json.dumps({'params': job1.params, 'id': None, 'method': 'mining.notify'},
                     separators=(', ', ': ')) + '\n').encode()
    cut1 = s.index(b'"method":"mining.set_difficulty"') + 4
    cut2 = min(cut1 + 1460, len(s) - 200)
    assert cut2 - cut1 > 1000
    t = 0.034 + rtt
    segs = f.send(S, t, s, cuts=[cut1, cut2])
    f.emit(C, t + 0.040, ACK, ack=segs[2][0])        # the client got s1, s2 only
    f.emit(S, t + 0.262, PSH | ACK, segs[2][1], seq=segs[2][0])  # RTO retransmission
    f.emit(C, t + 0.262 + 0.040, ACK)
    # 3. a share with its keys in an unusual order
    f.send(C, 14.2, jl({'method': 'mining.submit', 'params': [
        worker, job1.job_id, '00000000', '%08x' % (job1.ntime + 3), 'c3a1e5f0'], 'id': 4}))
    f.send(S, 14.2 + rtt, reply(4), ack_delay=0.040)
    # 4. a share cut mid-key ("par|ams") whose two segments arrive swapped
    m = submit(5, worker, job1, '00000001', job1.ntime + 5, '0d9b7e21')
    segs = f.segments(C, m, cuts=[m.index(b'"params"') + 4])
    f.emit(C, 29.5, PSH | ACK, segs[1][1], seq=segs[1][0])
    f.emit(C, 29.5 + 0.0003, ACK, segs[0][1], seq=segs[0][0])
    f.send(S, 29.5 + rtt, reply(5), ack_delay=0.040)
    # 5. a job with extra whitespace around every separator
    job2 = BtcJob('7c1e02', '7c1e 0', NTIME0 + 30, HEIGHT, False)
    f.send(S, 30.3, (json.dumps({'id': None, 'method': 'mining.notify',
                                 'params': job2.params}, separators=(' , ', ' : '))
                     + '\n').encode(), ack_delay=0.040)
    # 6. two shares pipelined in one segment; the second is rejected
    f.send(C, 45.0, submit(6, worker, job2, '00000002', job2.ntime + 8, '5f00aa13') +
           submit(7, worker, job2, '00000003', job2.ntime + 8, '91bc0d44'))
    f.send(S, 45.0 + rtt, reply(6) + reply(7, None, REJECT), ack_delay=0.040)
    # 7. new block
    job3 = BtcJob('7c1e03', '7c1e 3', NTIME0 + 60, HEIGHT + 1, True)
    f.send(S, 60.1, job3.notify(), ack_delay=0.040)
    # 8. a share whose worker name holds a \u escape, cut inside it ("\u00|302")
    m = (r'{"id":8,"method":"mining.submit","params":["%s.rig\u00302","%s",'
         r'"00000004","%08x","77e0c2b9"]}' % (BTC_WALLET, job3.job_id, job3.ntime + 1)
         + '\n').encode()
    f.send(C, 61.7, m, cuts=[m.index(b'\\u00') + 4])
    f.send(S, 61.7 + rtt, reply(8), ack_delay=0.040)
    f.close(75.0, C, rtt)
    note_flow('stratum-split.pcap', f.five_tuple(), 'stratum BTC, 5 shares (1 rejected)')
    return ordered(pkts)


def cap_stratum_midstream():
    pkts = []
    f = TcpFlow(pkts, EthLink(mac(0x0C)), '192.0.2.12', 50412, '203.0.113.7', 3333,
                (0x1B2C3D4E, 0x5A3C1E07), ipid=(0x7A00, 0x11F0))
    worker = '%s.m2' % BECH32_WALLET
    rtt = 0.019
    # the capture starts inside a notify: we see its last 300 bytes only
    job0 = BtcJob('a3b0', 'a3b0 0', NTIME0 - 20, HEIGHT, True)
    tail = job0.notify()[-300:]
    assert tail[:1] != b'{'
    f.send(S, 0.0, tail, ack_delay=0.040)
    job = job0
    ntime = NTIME0 - 20
    t_notify = {6.8: False, 30.0: True, 44.9: False}
    shares = [(8.2, None), (22.6, None), (41.0, None), (52.3, [21, 'Job not found', None])]
    evs = sorted([(x, 'n') for x in t_notify] + [(x, 's') for x, _ in shares])
    sid = 57
    n = 0
    k = 0
    for at, kind in evs:
        if kind == 'n':
            n += 1
            clean = t_notify[at]
            blk = 'a3b0 %d' % n if clean else job.params[1]
            nj = BtcJob('a3b%d' % n, blk, ntime + int(at), HEIGHT + (1 if at >= 30 else 0),
                        clean)
            nj.params[1] = stratum_prevhash(blk) if clean else job.params[1]
            out = b''
            if at == 30.0:
                out += jl({'id': None, 'method': 'mining.set_difficulty', 'params': [131072]})
            f.send(S, at, out + nj.notify(), ack_delay=0.040)
            job = nj
        else:
            err = dict(shares)[at]
            stale_job = BtcJob('a3b0', 'a3b0 0', ntime, HEIGHT, True) if err else job
            f.send(C, at, submit(sid, worker, stale_job, '%08x' % k, job.ntime + 4,
                                 h('mid nonce %d' % k)[:4].hex()))
            f.send(S, at + rtt, reply(sid, None, err) if err else reply(sid),
                   ack_delay=0.040)
            sid += 1
            k += 1
    note_flow('stratum-midstream.pcap', f.five_tuple(),
              'stratum BTC mid-session, 4 shares (1 rejected), no handshake, no FIN')
    return ordered(pkts)


def short_plan(worker, label, port=3333):
    return SessionPlan(worker, port=port, label=label, shares=(8.5,), notifies=(),
                       end=12.0)


HBH_OPTS = b'\x01\x04\x00\x00\x00\x00'                  # PadN(4): 8-byte header
DST_OPTS = b'\x01\x0c' + b'\x00' * 12                  # PadN(12): 16-byte header


def cap_stratum_encaps():
    pkts = []
    name = 'stratum-encaps.pcapng'
    sessions = [
        ('802.1Q VLAN 100', EthLink(mac(0x14), tags=[(ETH_8021Q, 100)]),
         '192.0.2.20', 49160, '203.0.113.20', 3333, {}, 'e0'),
        ('QinQ 802.1ad 200 / 802.1Q 300',
         EthLink(mac(0x15), tags=[(ETH_8021AD, 200), (ETH_8021Q, (3 << 13) | 300)]),
         '192.0.2.21', 49161, '203.0.113.21', 3334, {}, 'e1'),
        ('MPLS labels 16001/16002', EthLink(mac(0x16), mpls=[16001, 16002]),
         '192.0.2.22', 49162, '203.0.113.22', 3335, {}, 'e2'),
        ('PPPoE session 0x1234', EthLink(mac(0x17), pppoe=0x1234),
         '192.0.2.23', 49163, '203.0.113.23', 3336, {'mss': 1452}, 'e3'),
        ('IPv6 hop-by-hop + destination options',
         EthLink(mac(0x18)), '2001:db8:1::20', 49164, '2001:db8:2::20', 3333,
         {'ext6': [(IP6_HOPOPTS, HBH_OPTS), (IP6_DSTOPTS, DST_OPTS)], 'mss': 1440,
          'iface': 1}, 'e4'),
        ('plain IPv6', EthLink(mac(0x19)), '2001:db8:1::21', 49165, '2001:db8:2::21', 3333,
         {'mss': 1440, 'iface': 1}, 'e5'),
    ]
    for i, (what, link, ca, cp, sa, sp, kw, label) in enumerate(sessions):
        isn = int.from_bytes(h('isn ' + label)[:8], 'big')
        f = TcpFlow(pkts, link, ca, cp, sa, sp, (isn >> 32, isn & 0xFFFFFFFF), **kw)
        f.comment = what
        worker = '%s.rig-%s' % (BTC_WALLET, label)
        stratum_session(f, 3.0 * i, short_plan(worker, label, sp))
        note_flow(name, f.five_tuple(), 'stratum BTC over %s, worker rig-%s, 1 share'
                  % (what, label))
    return ordered(pkts)


def cap_stratum_tunnels():
    """One short stratum session inside each tunnel a mirror port or a mobile core delivers."""
    pkts = []
    name = 'stratum-tunnels.pcap'
    sessions = [
        ('GRE with a key', 'gre', '192.0.2.40', '203.0.113.40', 't0'),
        ('ERSPAN type II', 'erspan2', '192.0.2.41', '203.0.113.41', 't1'),
        ('VXLAN VNI 5000', 'vxlan', '192.0.2.42', '203.0.113.42', 't2'),
        ('GTP-U', 'gtpu', '192.0.2.43', '203.0.113.43', 't3'),
        ('IPv4 in IPv4', 'ipip', '192.0.2.44', '203.0.113.44', 't4'),
        ('IPv6 in IPv4', 'ipip', '2001:db8:1::44', '2001:db8:2::44', 't5'),
    ]
    for i, (what, kind, ca, sa, label) in enumerate(sessions):
        isn = int.from_bytes(h('isn ' + label)[:8], 'big')
        kw = {'mss': 1440} if ':' in ca else {}
        f = TcpFlow(pkts, TunnelLink(kind, mac(0x28 + i)), ca, 49180 + i, sa, 3333,
                    (isn >> 32, isn & 0xFFFFFFFF), **kw)
        worker = '%s.rig-%s' % (BTC_WALLET, label)
        stratum_session(f, 3.0 * i, short_plan(worker, label))
        note_flow(name, f.five_tuple(), 'stratum BTC over %s, worker rig-%s, 1 share'
                  % (what, label))
    return ordered(pkts)


def cap_stratum_frag():
    """Stratum sessions whose data segments travel as IP fragments: IPv4 in 3 pieces sent last
    piece first, and IPv6 with fragment headers in order (every JSON line crosses a cut)."""
    pkts = []
    name = 'stratum-frag.pcap'
    sessions = [
        ('IPv4 fragments of 128 bytes, last first', FragLink(mac(0x30), 128, reverse=True),
         '192.0.2.50', '203.0.113.50', 'f0'),
        ('IPv6 fragment headers, 96-byte pieces', FragLink(mac(0x31), 96),
         '2001:db8:1::50', '2001:db8:2::50', 'f1'),
    ]
    for i, (what, link, ca, sa, label) in enumerate(sessions):
        isn = int.from_bytes(h('isn ' + label)[:8], 'big')
        kw = {'mss': 1440} if ':' in ca else {}
        f = TcpFlow(pkts, link, ca, 49190 + i, sa, 3333, (isn >> 32, isn & 0xFFFFFFFF), **kw)
        worker = '%s.rig-%s' % (BTC_WALLET, label)
        stratum_session(f, 3.0 * i, short_plan(worker, label))
        note_flow(name, f.five_tuple(), 'stratum BTC over %s, worker rig-%s, 1 share'
                  % (what, label))
    return ordered(pkts)


def cap_stratum_link(name, link, last_octet, label):
    pkts = []
    isn = int.from_bytes(h('isn ' + label)[:8], 'big')
    f = TcpFlow(pkts, link, '192.0.2.%d' % last_octet, 49170 + last_octet - 30,
                '203.0.113.%d' % last_octet, 3333, (isn >> 32, isn & 0xFFFFFFFF))
    worker = '%s.rig-%s' % (BTC_WALLET, label)
    stratum_session(f, 0.0, short_plan(worker, label))
    note_flow(name, f.five_tuple(), 'stratum BTC, worker rig-%s, 1 share' % label)
    return ordered(pkts)


def cap_stratum_zcash():
    pkts = []
    f = TcpFlow(pkts, EthLink(mac(0x28)), '192.0.2.40', 51040, '203.0.113.40', 3357,
                (0x2C5E9A11, 0x77D0B3E4))
    worker = '%s.rig01' % ZEC_WALLET
    rtt = 0.027
    f.handshake(0.0, rtt)
    t = 0.031
    f.send(C, t, jl({'id': 1, 'method': 'mining.subscribe',
                     'params': ['nheqminer/0.5c', None, 'zec.example.net', 3357]}))
    t += rtt
    nonce1 = '8a2b3c4d'
    f.send(S, t, jl({'id': 1, 'result': ['3b2a4c9d', nonce1], 'error': None}))
    t += 0.0006
    f.send(C, t, jl({'id': 2, 'method': 'mining.authorize', 'params': [worker, 'x']}))
    t += rtt
    target = '0040' + '0' * 60
    zt0 = NTIME0 - 11

    def znotify(n, at, clean):
        return jl({'id': None, 'method': 'mining.notify', 'params': [
            '%x' % (0x2f10 + n), '04000000', hhex('zec prev %d' % (n // 2)),
            hhex('zec merkle %d' % n), hhex('zec commitments %d' % n),
            struct.pack('<I', zt0 + int(at)).hex(),
            struct.pack('<I', 0x1C0168FD).hex(), clean]})

    f.send(S, t, reply(2) + jl({'id': None, 'method': 'mining.set_target',
                                'params': [target]}) + znotify(0, 0, True),
           ack_delay=0.040)
    n = 0
    sid = 3
    for at, kind in [(11.3, 's'), (26.0, 's'), (30.2, 'n'), (44.7, 's'), (60.1, 'n')]:
        if kind == 'n':
            n += 1
            f.send(S, at, znotify(n, at, n % 2 == 0), ack_delay=0.040)
        else:
            solution = 'fd4005' + hbytes('equihash solution %d' % sid, 1344).hex()
            m = jl({'id': sid, 'method': 'mining.submit', 'params': [
                worker, '%x' % (0x2f10 + n), struct.pack('<I', zt0 + int(at)).hex(),
                hbytes('nonce2 %d' % sid, 28).hex(), solution]})
            f.send(C, at, m)  # ~2.9 KB: a full segment and a second one
            f.send(S, at + rtt, reply(sid), ack_delay=0.040)
            sid += 1
    f.close(66.0, C, rtt)
    note_flow('stratum-zcash.pcap', f.five_tuple(), 'Zcash stratum (ZIP 301), 3 shares')
    return ordered(pkts)


def http_response(body, ctype='text/html; charset=utf-8', extra=''):
    if isinstance(body, str):
        body = body.encode()
    return ('HTTP/1.1 200 OK\r\nDate: Thu, 14 Mar 2024 09:00:%02d GMT\r\n'
            'Server: nginx\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n'
            % (12, ctype, len(body), extra)).encode() + body


def cap_benign_jsonrpc():
    pkts = []
    name = 'benign-jsonrpc.pcap'
    # JSON-RPC 2.0 line protocol on 4444 (a port Monero pools use, too)
    f = TcpFlow(pkts, EthLink(mac(0x32)), '192.0.2.50', 50000, '198.51.100.50', 4444,
                (0x11112222, 0x33334444))
    f.handshake(0.0, 0.012)
    t = 0.02
    for i, (method, params, result) in enumerate([
            ('echo', ['hello'], 'hello'), ('echo', ['world'], 'world'),
            ('subscribe', ['news'], 'sub-7f3a'), ('echo', ['bye'], 'bye')]):
        f.send(C, t, jl({'jsonrpc': '2.0', 'id': i + 1, 'method': method, 'params': params}))
        f.send(S, t + 0.012, jl({'jsonrpc': '2.0', 'id': i + 1, 'result': result}),
               ack_delay=0.040)
        if method == 'subscribe':
            f.send(S, t + 2.0, jl({'jsonrpc': '2.0', 'method': 'notify',
                                   'params': ['news', 'service restarted']}),
                   ack_delay=0.040)
            t += 2.0
        t += 1.5
    f.close(t + 0.5, C, 0.012)
    note_flow(name, f.five_tuple(), 'JSON-RPC 2.0 echo/subscribe/notify (not mining)')
    # Ethereum JSON-RPC over HTTP (web3) on 8545
    f = TcpFlow(pkts, EthLink(mac(0x33)), '192.0.2.51', 50001, '198.51.100.51', 8545,
                (0x55556666, 0x77778888))
    f.handshake(10.0, 0.009)
    t = 10.02
    for i, (method, params, result) in enumerate([
            ('eth_blockNumber', [], '0x12a05f2'),
            ('eth_getBalance', ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'latest'],
             '0x1bc16d674ec80000')]):
        body = json.dumps({'jsonrpc': '2.0', 'method': method, 'params': params,
                           'id': i + 1}, separators=(',', ':')).encode()
        req = ('POST / HTTP/1.1\r\nHost: 198.51.100.51:8545\r\nUser-Agent: web3.py/6.15.1\r\n'
               'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n'
               % len(body)).encode() + body
        f.send(C, t, req)
        f.send(S, t + 0.009, http_response(
            json.dumps({'jsonrpc': '2.0', 'id': i + 1, 'result': result},
                       separators=(',', ':')), 'application/json'), ack_delay=0.040)
        t += 0.8
    f.close(t + 1.0, C, 0.009)
    note_flow(name, f.five_tuple(), 'Ethereum web3 JSON-RPC over HTTP (not mining)')
    # IRC chat about Stratum
    f = TcpFlow(pkts, EthLink(mac(0x34)), '192.0.2.52', 50002, '198.51.100.52', 6667,
                (0x9999AAAA, 0xBBBBCCCC))
    f.handshake(20.0, 0.031)
    lines = [
        (20.04, C, 'NICK hashfan\r\nUSER hashfan 0 * :Hash Fan\r\n'),
        (20.08, S, ':irc.example.org 001 hashfan :Welcome to the Example IRC Network '
                   'hashfan\r\n'),
        (21.00, C, 'JOIN #pool-dev\r\n'),
        (21.04, S, ':hashfan!~hashfan@192.0.2.52 JOIN #pool-dev\r\n'),
        (25.50, S, ':alice!~alice@198.51.100.77 PRIVMSG #pool-dev :the miner sends '
                   'mining.subscribe first, then mining.authorize\r\n'),
        (31.20, C, 'PRIVMSG #pool-dev :and the pool pushes mining.notify every 30 s?\r\n'),
        (36.90, S, ':alice!~alice@198.51.100.77 PRIVMSG #pool-dev :yes, e.g. '
                   '{"id":null,"method":"mining.notify","params":[]}\r\n'),
        (40.10, C, 'PRIVMSG #pool-dev :{"id":1,"method":"mining.subscribe",'
                   '"params":["cgminer/4.12.1"]} is what I see\r\n'),
        (45.00, C, 'QUIT :bye\r\n'),
        (45.03, S, 'ERROR :Closing Link: hashfan (Quit: bye)\r\n'),
    ]
    for i, (at, d, text) in enumerate(lines):
        # the peer acknowledges with a pure ACK only when it has nothing to say soon
        answered = i + 1 < len(lines) and lines[i + 1][1] != d and lines[i + 1][0] - at < 0.2
        f.send(d, at, text, ack_delay=None if answered else 0.040)
    f.close(45.2, S, 0.031)
    note_flow(name, f.five_tuple(), 'IRC chat quoting mining.* (not mining)')
    # HTTP page named after a Stratum method
    f = TcpFlow(pkts, EthLink(mac(0x35)), '192.0.2.53', 50003, '198.51.100.53', 80,
                (0xDDDDEEEE, 0x0F0F0F0F))
    f.handshake(50.0, 0.015)
    f.send(C, 50.02, 'GET /mining.notify.html HTTP/1.1\r\nHost: docs.example.org\r\n'
                     'User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n')
    f.send(S, 50.035, http_response(
        '<html><head><title>mining.notify</title></head><body><h1>mining.notify</h1>'
        '<p>The pool pushes <code>mining.notify</code> after <code>mining.subscribe</code>'
        '.</p></body></html>\n'), ack_delay=0.040)
    f.close(50.2, C, 0.015)
    note_flow(name, f.five_tuple(), 'HTTP GET /mining.notify.html (not mining)')
    return ordered(pkts)


def dns_name(name):
    return b''.join(bytes([len(x)]) + x.encode() for x in name.split('.')) + b'\0'


def dns_msg(ident, flags, qname, qtype, answer=None):
    m = struct.pack('!HHHHHH', ident, flags, 1, 1 if answer else 0, 0, 0)
    m += dns_name(qname) + struct.pack('!HH', qtype, 1)
    if answer:
        m += struct.pack('!HHHIH', 0xC00C, qtype, 1, 3600, len(answer)) + answer
    return m


def tls_record(ctype, body, ver=0x0303):
    return struct.pack('!BHH', ctype, ver, len(body)) + body


def tls_handshake(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, 'big') + body


def tls_ext(etype, body):
    return struct.pack('!HH', etype, len(body)) + body


def tls_client_hello(sni, label):
    name = sni.encode()
    exts = tls_ext(0, struct.pack('!HBH', len(name) + 3, 0, len(name)) + name)
    exts += tls_ext(10, struct.pack('!HHH', 4, 0x001D, 0x0017))
    exts += tls_ext(11, b'\x01\x00')
    exts += tls_ext(13, struct.pack('!HHHH', 6, 0x0403, 0x0804, 0x0401))
    exts += tls_ext(16, b'\x00\x0c\x02h2\x08http/1.1')
    exts += tls_ext(43, b'\x04\x03\x04\x03\x03')
    exts += tls_ext(45, b'\x01\x01')
    exts += tls_ext(51, struct.pack('!HHH', 36, 0x001D, 32) + h('tls ckey ' + label))
    suites = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F]
    body = struct.pack('!H', 0x0303) + h('tls crandom ' + label) + b'\x20' + \
        h('tls sid ' + label) + struct.pack('!H', 2 * len(suites)) + \
        b''.join(struct.pack('!H', s) for s in suites) + b'\x01\x00' + \
        struct.pack('!H', len(exts)) + exts
    return tls_record(22, tls_handshake(1, body), 0x0301)


def tls_server_flight(label):
    exts = tls_ext(43, b'\x03\x04') + \
        tls_ext(51, struct.pack('!HH', 0x001D, 32) + h('tls skey ' + label))
    body = struct.pack('!H', 0x0303) + h('tls srandom ' + label) + b'\x20' + \
        h('tls sid ' + label) + struct.pack('!HB', 0x1301, 0) + \
        struct.pack('!H', len(exts)) + exts
    return tls_record(22, tls_handshake(2, body)) + tls_record(20, b'\x01') + \
        tls_record(23, hbytes('tls enc server ' + label, 1180))


def cap_mixed_benign():
    pkts = []
    name = 'mixed-benign.pcap'
    link = EthLink(mac(0x3C))
    # plain HTTP
    f = TcpFlow(pkts, link, '192.0.2.60', 50100, '198.51.100.60', 80, (0x01020304, 0x0A0B0C0D))
    f.handshake(1.0, 0.014)
    f.send(C, 1.02, 'GET / HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: curl/7.88.1\r\n'
                    'Accept: */*\r\n\r\n')
    f.send(S, 1.034, http_response('<!doctype html><html><head><title>Example</title>'
                                   '</head><body><p>Hello.</p></body></html>\n'),
           ack_delay=0.040)
    f.close(1.2, C, 0.014)
    note_flow(name, f.five_tuple(), 'HTTP GET /')
    # DNS over UDP: A and AAAA
    for i, (qtype, ans) in enumerate([(1, ip_bytes('198.51.100.60')),
                                      (28, ip_bytes('2001:db8:60::1'))]):
        t = 0.5 + i * 0.001
        pkts.append(Pkt(us(t), udp_packet(link, '192.0.2.60', 53000 + i, '198.51.100.53',
                                          53, dns_msg(0x1A2B + i, 0x0100, 'www.example.org',
                                                      qtype), True, 0x5000 + i)))
        pkts.append(Pkt(us(t + 0.011), udp_packet(
            link, '192.0.2.60', 53000 + i, '198.51.100.53', 53,
            dns_msg(0x1A2B + i, 0x8180, 'www.example.org', qtype, ans), False, 0x6100 + i,
            ttl=60)))
        note_flow(name, ('UDP', '192.0.2.60', 53000 + i, '198.51.100.53', 53),
                  'DNS %s query + answer' % ('A' if qtype == 1 else 'AAAA'))
    # two TLS 1.3 handshakes (well-formed records, fake keys and ciphertext)
    for i, sni in enumerate(['www.example.org', 'static.example.org']):
        f = TcpFlow(pkts, link, '192.0.2.61', 50101 + i, '198.51.100.61', 443,
                    (0x21436587 + i, 0x78563412 + i), ipid=(0x4000 + 0x100 * i, 0))
        t = 3.0 + 2.0 * i
        f.handshake(t, 0.018)
        f.send(C, t + 0.019, tls_client_hello(sni, sni))
        f.send(S, t + 0.037, tls_server_flight(sni), ack_delay=0.001)
        f.send(C, t + 0.039, tls_record(20, b'\x01') +
               tls_record(23, hbytes('tls fin ' + sni, 53)) +
               tls_record(23, hbytes('tls req ' + sni, 96)))
        f.send(S, t + 0.060, tls_record(23, hbytes('tls resp ' + sni, 420)), ack_delay=0.040)
        f.send(C, t + 0.300, tls_record(23, hbytes('tls alert ' + sni, 19)))
        f.close(t + 0.3005, C, 0.018)
        note_flow(name, f.five_tuple(), 'TLS 1.3 handshake, SNI %s' % sni)
    # SSH banners
    f = TcpFlow(pkts, link, '192.0.2.62', 50110, '198.51.100.62', 22, (0x31415926, 0x27182818))
    f.handshake(8.0, 0.02)
    f.send(S, 8.025, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n')
    f.send(C, 8.026, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n', ack_delay=0.020)
    f.close(8.2, C, 0.02)
    note_flow(name, f.five_tuple(), 'SSH banner exchange')
    # ARP who-has / is-at
    arp = struct.pack('!HHBBH6s4s6s4s', 1, ETH_IPV4, 6, 4, 1, mac(0x3C),
                      ip_bytes('192.0.2.60'), b'\0' * 6, ip_bytes('192.0.2.1'))
    pkts.append(Pkt(us(0.1), eth_pad(eth_header(b'\xff' * 6, mac(0x3C), ETH_ARP) + arp)))
    arp = struct.pack('!HHBBH6s4s6s4s', 1, ETH_IPV4, 6, 4, 2, GW_MAC,
                      ip_bytes('192.0.2.1'), mac(0x3C), ip_bytes('192.0.2.60'))
    pkts.append(Pkt(us(0.1008), eth_pad(eth_header(mac(0x3C), GW_MAC, ETH_ARP) + arp)))
    # ICMP echo, two round trips
    a, b = ip_bytes('192.0.2.60'), ip_bytes('198.51.100.1')
    for i in range(2):
        t = 10.0 + i
        data = struct.pack('!Q', 1710406810 + i) + bytes(range(0x10, 0x40))
        ip = ipv4(a, b, IPPROTO_ICMP, icmp_echo(8, 0x2F1C, i + 1, data), 0x7E00 + i)
        pkts.append(Pkt(us(t), link.frame(ip, 4, True)))
        ip = ipv4(b, a, IPPROTO_ICMP, icmp_echo(0, 0x2F1C, i + 1, data), 0x0C00 + i, ttl=56,
                  df=False)
        pkts.append(Pkt(us(t + 0.0123), link.frame(ip, 4, False)))
    # an IPv4 fragment pair carrying one 2000-byte UDP datagram
    a, b = ip_bytes('192.0.2.60'), ip_bytes('198.51.100.70')
    dgram = udp(a, b, 50500, 9, (b'benign fragmented datagram; ' * 72)[:2000])
    for off, mf in [(0, True), (1480, False)]:
        ip = ipv4(a, b, IPPROTO_UDP, dgram[off:off + 1480], 0x4242, df=False, mf=mf,
                  frag=off // 8)
        pkts.append(Pkt(us(12.0 + off / 1e7), link.frame(ip, 4, True)))
    note_flow(name, ('UDP', '192.0.2.60', 50500, '198.51.100.70', 9),
              'one UDP datagram in 2 IPv4 fragments (not reassembled)')
    # malformed frames: decode errors, never a crash
    a, b = ip_bytes('192.0.2.66'), ip_bytes('198.51.100.66')
    seg = tcp(a, b, 40000, 80, 1, 1, ACK, 1024, b'bad ihl')
    pkts.append(Pkt(us(13.0), link.frame(ipv4(a, b, IPPROTO_TCP, seg, 1, ihl=4), 4, True)))
    seg = tcp(a, b, 40001, 80, 1, 1, ACK, 1024, b'bad offset', doff=4)
    pkts.append(Pkt(us(13.1), link.frame(ipv4(a, b, IPPROTO_TCP, seg, 2), 4, True)))
    seg = udp(a, b, 40002, 53, b'')[:4]  # 4 of the 8 header bytes; Ethernet pads the rest
    pkts.append(Pkt(us(13.2), link.frame(ipv4(a, b, IPPROTO_UDP, seg, 3, df=False), 4,
                                         True)))
    return ordered(pkts)


# --------------------------------------------------------------------------
# main

def write(outdir, name, data, written):
    assert len(data) < 100 * 1024, (name, len(data))
    with open(os.path.join(outdir, name), 'wb') as fp:
        fp.write(data)
    written.append((name, len(data)))


def main(argv):
    outdir = os.path.dirname(os.path.abspath(__file__))
    show_flows = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--out' and args:
            outdir = args.pop(0)
        elif a == '--flows':
            show_flows = True
        else:
            sys.stderr.write('usage: gen-pcaps.py [--out DIR] [--flows]\n')
            return 2
    # the Community ID spec's own example, so that the printed IDs can be trusted
    assert community_id(6, '128.232.110.120', 34855, '66.35.250.204', 80) == \
        '1:LQU9qZlK+B5F3KDmev6m5PMibrg='
    written = []

    btc = cap_stratum_btc()
    btc_bytes = pcap_bytes(LINKTYPE_ETHERNET, btc)
    write(outdir, 'stratum-btc.pcap', btc_bytes, written)
    write(outdir, 'stratum-split.pcap', pcap_bytes(LINKTYPE_ETHERNET, cap_stratum_split()),
          written)
    write(outdir, 'stratum-midstream.pcap',
          pcap_bytes(LINKTYPE_ETHERNET, cap_stratum_midstream()), written)
    write(outdir, 'stratum-encaps.pcapng',
          pcapng_bytes([(LINKTYPE_ETHERNET, 'span0', 6), (LINKTYPE_ETHERNET, 'span1', 9)],
                       cap_stratum_encaps(), 'minetrace gen-pcaps.py'), written)
    write(outdir, 'stratum-frag.pcap', pcap_bytes(LINKTYPE_ETHERNET, cap_stratum_frag()), written)
    write(outdir, 'stratum-tunnels.pcap',
          pcap_bytes(LINKTYPE_ETHERNET, cap_stratum_tunnels()), written)
    for name, link, octet, label in [
            ('stratum-sll.pcap', SllLink(mac(0x1E)), 30, 'sll'),
            ('stratum-sll2.pcap', Sll2Link(mac(0x1F)), 31, 'sll2'),
            ('stratum-raw.pcap', RawLink(), 32, 'raw'),
            ('stratum-null.pcap', NullLink(), 33, 'null')]:
        write(outdir, name, pcap_bytes(link.linktype,
                                       cap_stratum_link(name, link, octet, label)), written)
    write(outdir, 'stratum-zcash.pcap', pcap_bytes(LINKTYPE_ETHERNET, cap_stratum_zcash()),
          written)
    write(outdir, 'benign-jsonrpc.pcap', pcap_bytes(LINKTYPE_ETHERNET, cap_benign_jsonrpc()),
          written)

    # truncated.pcap: stratum-btc.pcap cut inside the data of the record that carries
    # the third mining.submit (the first two shares and their replies are complete)
    offs = pcap_record_offsets(btc)
    k = next(i for i, p in enumerate(btc) if b'"id":5,"method":"mining.submit"' in p.frame)
    hdr, data, end = offs[k]
    write(outdir, 'truncated.pcap', btc_bytes[:data + (end - data) // 2], written)
    note_flow('truncated.pcap', FLOWS['stratum-btc.pcap'][0][0],
              'stratum BTC, cut in record %d of %d (third submit)' % (k + 1, len(btc)))

    garbage = ('This file is not a packet capture. minetrace must refuse it with an error '
               'that names the file. It is plain ASCII text, exactly two hundred bytes '
               'long, padded with dots: ')
    garbage = (garbage + '.' * 200)[:199] + '\n'
    write(outdir, 'garbage.pcap', garbage.encode(), written)
    write(outdir, 'mixed-benign.pcap', pcap_bytes(LINKTYPE_ETHERNET, cap_mixed_benign()),
          written)

    for name, size in written:
        print('%-26s %6d bytes' % (name, size))
    if show_flows:
        for name, flows in FLOWS.items():
            print('\n' + name)
            for (proto, ca, cp, sa, sp), what in flows:
                pn = IPPROTO_TCP if proto == 'TCP' else IPPROTO_UDP
                print('  %s %s:%d -> %s:%d  %s  %s' % (
                    proto, ca if ':' not in ca else '[%s]' % ca, cp,
                    sa if ':' not in sa else '[%s]' % sa, sp,
                    community_id(pn, ca, cp, sa, sp), what))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
