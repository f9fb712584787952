#!/usr/bin/env python3
"""gen-names-pcaps.py - writes deterministic captures for the "names" detector and the DNS answer
cache into pcaps/ (names-*.pcap). Python 3 stdlib only; reuses the TCP writer of gen-tls-pcaps.py.

  names-dns-pool.pcap     DNS answer (CNAME chain, A + AAAA) for a pool name, then a stratum flow and
                          an opaque flow to the answered address: both carry pool_host; a second name
                          whose TTL ran out before its flow: silent; an answer over TCP/53 and a
                          flow to its address (pool_host rvn.2miners.com)
  names-dns-benign.pcap   DNS for non-pool names, then TLS and opaque flows to them: silent
  names-tls-sni.pcap      TLS 1.3 ClientHello with a pool SNI (found); a browser (ALPN h2) on the
                          pool's web site (silent)
  names-tls-cert.pcap     TLS 1.2 without SNI whose certificate's subjectAltName names a pool (found)
  names-tls-attempt.pcap  TLS ClientHello to a pool answered by a plain stratum JSON-RPC error (found)
  names-webminer.pcap     browser-miner WebSocket in clear (HTTP Upgrade) and over TLS (found); the
                          TLS fetch of the miner script (silent)
  names-tls-benign.pcap   TLS 1.2 with certificate and TLS 1.3 to non-pool hosts: silent

Wire formats: DNS RFC 1035 4.1 / RFC 3596; TLS RFC 5246 7.4 and RFC 8446 4; X.509 RFC 5280 4.1 in
DER (X.690); WebSocket RFC 6455 5.2. Pool names are real entries of signatures/pool-domains.txt and
webminer-hosts.txt; addresses are documentation ranges (RFC 5737, RFC 3849)."""
import importlib.util
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('gentls', os.path.join(HERE, 'gen-tls-pcaps.py'))
G = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(G)

T0 = 1767225600 * 1000000 + 3600 * 1000000  # 2026-01-01T01:00:00Z
CLI = bytes([192, 0, 2, 30])
RESOLVER = bytes([192, 0, 2, 53])
POOL = bytes([203, 0, 113, 50])
POOL_STALE = bytes([203, 0, 113, 51])
POOL2 = bytes([203, 0, 113, 60])
POOL_TCPDNS = bytes([203, 0, 113, 70])
BENIGN = bytes([198, 51, 100, 80])


def conn(src, dst, sport, dport):
    c = G.Tcp(sport, dport)
    c.p = {0: (src, dst, sport, dport), 1: (dst, src, dport, sport)}
    return c


class Udp:
    """UDP datagrams between two hosts (IPv4, correct checksums)."""

    def __init__(self):
        self.pkts = []
        self.ident = 100

    def send(self, ts, src, dst, sp, dp, payload):
        ulen = 8 + len(payload)
        ph = src + dst + struct.pack('!BBH', 0, 17, ulen)
        u = struct.pack('!HHHH', sp, dp, ulen, 0)
        c = G.csum(ph + u + payload) or 0xffff
        u = u[:6] + struct.pack('!H', c)
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + ulen, self.ident, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', G.csum(ip)) + ip[12:]
        self.ident += 1
        eth = b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x08\x00'
        self.pkts.append((ts, eth + ip + u + payload))


# ---- DNS ----

def qname(name):
    return b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0'


def dns_exchange(u, ts, txid, name, answers, sport):
    """answers: list of (owner or None for a pointer to the question, type, ttl, rdata)."""
    q = struct.pack('!HHHHHH', txid, 0x0100, 1, 0, 0, 0) + qname(name) + struct.pack('!HH', 1, 1)
    u.send(ts, CLI, RESOLVER, sport, 53, q)
    body = b''
    for owner, rtype, ttl, rdata in answers:
        body += (b'\xc0\x0c' if owner is None else qname(owner)) + struct.pack('!HHIH', rtype, 1, ttl, len(rdata)) + rdata
    r = struct.pack('!HHHHHH', txid, 0x8180, 1, len(answers), 0, 0) + qname(name) + struct.pack('!HH', 1, 1) + body
    u.send(ts + 12000, RESOLVER, CLI, 53, sport, r)


def stratum_flow(c, t):
    c.open(t)
    c.data(t + 60000, 0, b'{"id":1,"method":"mining.subscribe","params":["cgminer/4.12.1"]}\n')
    c.data(t + 90000, 1, b'{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a"]],"08000002",4],"error":null}\n')
    c.data(t + 120000, 0, b'{"id":2,"method":"mining.authorize","params":["bc1qexample.rig1","x"]}\n')
    c.data(t + 150000, 1, b'{"id":2,"result":true,"error":null}\n')
    c.close(t + 2000000)


def opaque_flow(c, t, label, n=12):
    """A client-first binary exchange no detector parses (an encrypted proxy, say)."""
    c.open(t)
    for i in range(n):
        c.data(t + 60000 + i * 5000000, 0, G.rnd(label + 'u%d' % i, 90))
        c.data(t + 90000 + i * 5000000, 1, G.rnd(label + 'd%d' % i, 140))
    c.close(t + 60000 + n * 5000000)


def dns_pool():
    u = Udp()
    a = [(None, 5, 300, qname('eu1.lb.pool-edge.example.net')),
         ('eu1.lb.pool-edge.example.net', 1, 300, POOL),
         ('eu1.lb.pool-edge.example.net', 28, 300, bytes.fromhex('20010db8000200000000000000000050'))]
    dns_exchange(u, T0, 0x1a2b, 'xmr-eu1.nanopool.org', a, 40001)
    dns_exchange(u, T0 + 1000000, 0x1a2c, 'old.supportxmr.com', [(None, 1, 30, POOL_STALE)], 40002)
    s = conn(CLI, POOL, 50100, 14444)
    stratum_flow(s, T0 + 200000)
    o = conn(CLI, POOL, 50101, 10443)
    opaque_flow(o, T0 + 3000000, 'dnspool')
    late = conn(CLI, POOL_STALE, 50102, 10443)   # 120 s after a 30 s TTL: the name is gone
    opaque_flow(late, T0 + 121000000, 'stale')
    # DNS over TCP (RFC 7766 framing): rvn.2miners.com -> 203.0.113.70, then a flow there
    td = conn(CLI, RESOLVER, 50103, 53)
    td.open(T0 + 130000000)
    q = struct.pack('!HHHHHH', 0x3c3d, 0x0100, 1, 0, 0, 0) + qname('rvn.2miners.com') + struct.pack('!HH', 1, 1)
    r = struct.pack('!HHHHHH', 0x3c3d, 0x8180, 1, 1, 0, 0) + qname('rvn.2miners.com') + struct.pack('!HH', 1, 1) + \
        b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 600, 4) + POOL_TCPDNS
    td.data(T0 + 130060000, 0, struct.pack('!H', len(q)) + q)
    td.data(T0 + 130080000, 1, struct.pack('!H', len(r)) + r)
    td.close(T0 + 130100000)
    t2 = conn(CLI, POOL_TCPDNS, 50104, 6060)
    opaque_flow(t2, T0 + 131000000, 'tcpdns')
    G.write('names-dns-pool.pcap', [u, s, o, late, td, t2])


def dns_benign():
    u = Udp()
    dns_exchange(u, T0, 0x2001, 'www.example.org', [(None, 1, 600, BENIGN)], 40010)
    dns_exchange(u, T0 + 500000, 0x2002, 'cdn.example.org',
                 [(None, 5, 600, qname('edge.example.org')), ('edge.example.org', 1, 600, bytes([198, 51, 100, 81]))], 40011)
    dns_exchange(u, T0 + 700000, 0x2003, 'nx.example.org', [], 40012)
    t = conn(CLI, BENIGN, 50200, 443)
    t.open(T0 + 100000)
    t.data(T0 + 160000, 0, G.client_hello('benign-www', 'www.example.org'))
    t.data(T0 + 190000, 1, G.server_flight('benign-www'))
    for i in range(10):
        t.data(T0 + 300000 + i * 400000, 0, G.tls_rec(23, G.rnd('bw%d' % i, 200)))
        t.data(T0 + 340000 + i * 400000, 1, G.tls_rec(23, G.rnd('bwr%d' % i, 1200)))
    t.close(T0 + 5000000)
    o = conn(CLI, bytes([198, 51, 100, 81]), 50201, 8443)
    opaque_flow(o, T0 + 800000, 'benignopaque')
    G.write('names-dns-benign.pcap', [u, t, o])


# ---- TLS ----

def client_hello_alpn(label, sni, alpn):
    """A TLS 1.3 ClientHello with SNI and an ALPN list (a browser)."""
    name = sni.encode()
    sn = struct.pack('!BH', 0, len(name)) + name
    ext = struct.pack('!HH', 0, len(sn) + 2) + struct.pack('!H', len(sn)) + sn
    pl = b''.join(bytes([len(p)]) + p.encode() for p in alpn)
    ext += struct.pack('!HHH', 16, len(pl) + 2, len(pl)) + pl
    ext += struct.pack('!HHH', 0x002b, 3, 0x0203) + b'\x04'
    ks = struct.pack('!HH', 0x001d, 32) + G.rnd(label + 'ks', 32)
    ext += struct.pack('!HHH', 0x0033, len(ks) + 2, len(ks)) + ks
    body = (b'\x03\x03' + G.rnd(label + 'cr', 32) + b'\x20' + G.rnd(label + 'sid', 32) +
            b'\x00\x02\x13\x01' + b'\x01\x00' + struct.pack('!H', len(ext)) + ext)
    hs = b'\x01' + struct.pack('!I', len(body))[1:] + body
    return struct.pack('!BHH', 22, 0x0301, len(hs)) + hs


def client_hello12(label):
    """A TLS 1.2 ClientHello without SNI (a miner given an IP address)."""
    ext = struct.pack('!HHHH', 0x000a, 4, 2, 0x0017)
    body = (b'\x03\x03' + G.rnd(label + 'cr', 32) + b'\x00' + b'\x00\x04\xc0\x2f\xc0\x30' + b'\x01\x00' +
            struct.pack('!H', len(ext)) + ext)
    hs = b'\x01' + struct.pack('!I', len(body))[1:] + body
    return struct.pack('!BHH', 22, 0x0301, len(hs)) + hs


def der(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = b'\x81' + bytes([n])
    else:
        ln = b'\x82' + struct.pack('!H', n)
    return bytes([tag]) + ln + body


def rdn(oid, value):
    return der(0x31, der(0x30, der(0x06, oid) + der(0x0c, value.encode())))


def certificate(label, cn, sans):
    """A DER X.509 v3 certificate (signature bytes are filler: nothing here verifies them)."""
    alg = der(0x30, der(0x06, bytes.fromhex('2a864886f70d01010b')) + b'\x05\x00')  # sha256WithRSAEncryption
    issuer = der(0x30, rdn(b'\x55\x04\x0a', 'Example CA') + rdn(b'\x55\x04\x03', 'Example Issuing CA'))
    validity = der(0x30, der(0x17, b'260101000000Z') + der(0x17, b'270101000000Z'))
    subject = der(0x30, rdn(b'\x55\x04\x03', cn))
    spki = der(0x30, der(0x30, der(0x06, bytes.fromhex('2a8648ce3d0201')) + der(0x06, bytes.fromhex('2a8648ce3d030107'))) +
               der(0x03, b'\x00\x04' + G.rnd(label + 'pub', 64)))
    gn = b''.join(der(0x82, s.encode()) for s in sans)
    san = der(0x30, der(0x06, b'\x55\x1d\x11') + der(0x04, der(0x30, gn)))
    bc = der(0x30, der(0x06, b'\x55\x1d\x13') + der(0x01, b'\xff') + der(0x04, der(0x30, b'')))
    exts = der(0xa3, der(0x30, bc + san))
    tbs = der(0x30, der(0xa0, der(0x02, b'\x02')) + der(0x02, G.rnd(label + 'serial', 16)) + alg + issuer +
              validity + subject + spki + exts)
    return der(0x30, tbs + alg + der(0x03, b'\x00' + G.rnd(label + 'sig', 256)))


def server_flight12(label, certs):
    sh = b'\x03\x03' + G.rnd(label + 'sr', 32) + b'\x20' + G.rnd(label + 'sid', 32) + b'\xc0\x2f\x00' + \
        struct.pack('!H', 5) + struct.pack('!HHB', 0xff01, 1, 0)  # renegotiation_info
    msg = b'\x02' + struct.pack('!I', len(sh))[1:] + sh
    lst = b''.join(struct.pack('!I', len(c))[1:] + c for c in certs)
    body = struct.pack('!I', len(lst))[1:] + lst
    msg += b'\x0b' + struct.pack('!I', len(body))[1:] + body
    ske = G.rnd(label + 'ske', 300)
    msg += b'\x0c' + struct.pack('!I', len(ske))[1:] + ske + b'\x0e\x00\x00\x00'
    out = b''
    for i in range(0, len(msg), 16000):  # records of at most 16000 bytes
        out += G.tls_rec(22, msg[i:i + 16000])
    return out


def tls_session(c, t, hello, flight, label, n=6):
    c.open(t)
    c.data(t + 60000, 0, hello)
    c.data(t + 90000, 1, flight)
    c.data(t + 120000, 0, G.tls_rec(20, b'\x01') + G.tls_rec(23, G.rnd(label + 'fin', 40)))
    for i in range(n):
        c.data(t + 200000 + i * 10000000, 0, G.tls_rec(23, G.rnd(label + 's%d' % i, 170)))
        c.data(t + 230000 + i * 10000000, 1, G.tls_rec(23, G.rnd(label + 'j%d' % i, 400)))
    c.close(t + 300000 + n * 10000000)


def tls_sni():
    m = conn(CLI, POOL, 50300, 9000)
    tls_session(m, T0, G.client_hello('sni-miner', 'pool.supportxmr.com'),
                G.server_flight('sni-miner'), 'sni-miner')
    b = conn(CLI, POOL2, 50301, 443)
    tls_session(b, T0 + 500000, client_hello_alpn('sni-web', 'supportxmr.com', ['h2', 'http/1.1']),
                G.server_flight('sni-web'), 'sni-web', n=3)
    G.write('names-tls-sni.pcap', [m, b])


def tls_cert():
    leaf = certificate('cert-pool', 'proxy.internal', ['stratum.f2pool.com', '*.f2pool.com'])
    ca = certificate('cert-ca', 'Example Issuing CA', [])
    m = conn(CLI, POOL2, 50400, 1228)
    tls_session(m, T0, client_hello12('cert-miner'), server_flight12('cert-pool', [leaf, ca]), 'cert-miner')
    G.write('names-tls-cert.pcap', [m])


def tls_attempt():
    c = conn(CLI, POOL, 50500, 3333)
    c.open(T0)
    c.data(T0 + 60000, 0, G.client_hello('attempt', 'eu.stratum.slushpool.com'))
    err = b'{"id":null,"result":null,"error":[20,"Parse error",null]}\n'
    c.data(T0 + 90000, 1, err)
    c.seg(T0 + 100000, 1, 0x11)
    c.seg(T0 + 110000, 0, 0x11)
    c.seg(T0 + 120000, 1, 0x10)
    G.write('names-tls-attempt.pcap', [c])


def ws_frame(payload, mask=None):
    """RFC 6455 5.2: a text frame; client frames are masked."""
    n = len(payload)
    hdr = bytes([0x81])
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr += bytes([mbit | n])
    else:
        hdr += bytes([mbit | 126]) + struct.pack('!H', n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        hdr += mask
    return hdr + payload


def webminer():
    ws = conn(CLI, POOL, 50600, 80)
    ws.open(T0)
    ws.data(T0 + 60000, 0, b'GET /proxy2 HTTP/1.1\r\nHost: ws014.coinhive.com\r\nUpgrade: websocket\r\n'
            b'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
            b'Origin: http://blog.example.org\r\nSec-WebSocket-Version: 13\r\n\r\n')
    ws.data(T0 + 90000, 1, b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n')
    ws.data(T0 + 120000, 0, ws_frame(b'{"type":"auth","params":{"site_key":"SITEKEY0000","type":"anonymous","user":null,"goal":0}}', b'\x11\x22\x33\x44'))
    ws.data(T0 + 150000, 1, ws_frame(b'{"type":"authed","params":{"token":"","hashes":0}}'))
    ws.close(T0 + 3000000)
    t = conn(CLI, POOL2, 50601, 443)
    t.open(T0 + 200000)
    t.data(T0 + 260000, 0, client_hello_alpn('wss', 'ws005.authedmine.com', ['http/1.1']))
    t.data(T0 + 290000, 1, G.server_flight('wss'))
    t.data(T0 + 320000, 0, G.tls_rec(20, b'\x01') + G.tls_rec(23, G.rnd('wssfin', 40)))
    for i in range(20):
        t.data(T0 + 400000 + i * 3000000, 0, G.tls_rec(23, G.rnd('wsss%d' % i, 120)))
        t.data(T0 + 430000 + i * 3000000, 1, G.tls_rec(23, G.rnd('wssj%d' % i, 90)))
    t.close(T0 + 70000000)
    s = conn(CLI, POOL2, 50602, 443)
    s.open(T0 + 100000)
    s.data(T0 + 160000, 0, client_hello_alpn('script', 'authedmine.com', ['h2', 'http/1.1']))
    s.data(T0 + 190000, 1, G.server_flight('script'))
    s.data(T0 + 220000, 0, G.tls_rec(20, b'\x01') + G.tls_rec(23, G.rnd('scriptfin', 40)) +
           G.tls_rec(23, G.rnd('scriptget', 300)))
    s.data(T0 + 260000, 1, G.tls_rec(23, G.rnd('scriptbody', 12000)))
    s.close(T0 + 500000)
    G.write('names-webminer.pcap', [ws, t, s])


def tls_benign():
    leaf = certificate('benign-leaf', 'www.example.org', ['www.example.org', 'example.org'])
    a = conn(CLI, BENIGN, 50700, 443)
    tls_session(a, T0, client_hello12('benign12'), server_flight12('benign12', [leaf]), 'benign12')
    b = conn(CLI, bytes([198, 51, 100, 82]), 50701, 443)
    tls_session(b, T0 + 100000, G.client_hello('benign13', 'api.example.org'), G.server_flight('benign13'), 'benign13')
    G.write('names-tls-benign.pcap', [a, b])


if __name__ == '__main__':
    dns_pool()
    dns_benign()
    tls_sni()
    tls_cert()
    tls_attempt()
    webminer()
    tls_benign()
