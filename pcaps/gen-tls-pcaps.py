#!/usr/bin/env python3
"""gen-tls-pcaps.py - writes deterministic captures of Stratum over TLS, Stratum V2 (plaintext and
Noise-shaped) and long benign TLS sessions into pcaps/ (tls-*.pcap, sv2-*.pcap). Python 3 stdlib only.
TLS records carry random-looking bytes (SHA-256 of a seed); frame layouts follow RFC 8446 and the
Stratum V2 spec (github.com/stratum-mining/sv2-spec, 03-Protocol-Overview, 05-Mining-Protocol)."""
import hashlib
import os
import struct

OUT = os.path.dirname(os.path.abspath(__file__))
CLI, SRV = bytes([192, 168, 7, 20]), bytes([198, 51, 100, 44])


def rnd(label, n):
    out = b''
    i = 0
    while len(out) < n:
        out += hashlib.sha256(('%s/%d' % (label, i)).encode()).digest()
        i += 1
    return out[:n]


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


class Tcp:
    """One TCP connection; pkt() appends (ts_us, frame) with correct seq/ack and checksums."""

    def __init__(self, sport, dport):
        self.p = {0: (CLI, SRV, sport, dport), 1: (SRV, CLI, dport, sport)}
        self.seq = {0: 1000, 1: 50000}
        self.pkts = []
        self.ident = 1

    def seg(self, ts, d, flags, payload=b''):
        src, dst, sp, dp = self.p[d]
        ack = self.seq[1 - d]
        hdr = struct.pack('!HHIIBBHHH', sp, dp, self.seq[d], ack, 5 << 4, flags, 65535, 0, 0)
        ph = src + dst + struct.pack('!BBH', 0, 6, len(hdr) + len(payload))
        c = csum(ph + hdr + payload)
        hdr = hdr[:16] + struct.pack('!H', c) + hdr[18:]
        tl = 20 + len(hdr) + len(payload)
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, tl, self.ident, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        self.ident += 1
        eth = b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x08\x00'
        if d == 1:
            eth = b'\x02\0\0\0\0\x01' + b'\x02\0\0\0\0\x02' + b'\x08\x00'
        self.pkts.append((ts, eth + ip + hdr + payload))
        self.seq[d] += len(payload) + (1 if flags & 0x03 else 0)

    def open(self, ts):
        self.seg(ts, 0, 0x02)
        self.seg(ts + 20000, 1, 0x12)
        self.seg(ts + 40000, 0, 0x10)

    def data(self, ts, d, payload):
        for i in range(0, len(payload), 1448):
            self.seg(ts, d, 0x18, payload[i:i + 1448])

    def close(self, ts):
        self.seg(ts, 0, 0x11)
        self.seg(ts + 20000, 1, 0x11)
        self.seg(ts + 40000, 0, 0x10)


def write(name, conns):
    pkts = sorted((p for c in conns for p in c.pkts), key=lambda x: x[0])
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in pkts:
            f.write(struct.pack('<IIII', ts // 1000000, ts % 1000000, len(fr), len(fr)))
            f.write(fr)


T0 = 1767225600 * 1000000  # 2026-01-01


def tls_rec(ctype, body):
    return struct.pack('!BHH', ctype, 0x0303, len(body)) + body


def client_hello(label, sni):
    ext = b''
    if sni:
        name = sni.encode()
        sn = struct.pack('!BH', 0, len(name)) + name
        ext += struct.pack('!HH', 0, len(sn) + 2) + struct.pack('!H', len(sn)) + sn
    ext += struct.pack('!HHH', 0x002b, 3, 0x0203) + b'\x04'  # supported_versions: TLS 1.3
    ext += struct.pack('!HHHH', 0x000a, 4, 2, 0x001d)        # supported_groups: x25519
    ks = struct.pack('!HH', 0x001d, 32) + rnd(label + 'ks', 32)
    ext += struct.pack('!HHH', 0x0033, len(ks) + 2, len(ks)) + ks
    body = (b'\x03\x03' + rnd(label + 'cr', 32) + b'\x20' + rnd(label + 'sid', 32) +
            b'\x00\x02\x13\x01' + b'\x01\x00' + struct.pack('!H', len(ext)) + ext)
    hs = b'\x01' + struct.pack('!I', len(body))[1:] + body
    return struct.pack('!BHH', 22, 0x0301, len(hs)) + hs


def server_flight(label):
    body = b'\x03\x03' + rnd(label + 'sr', 32) + b'\x20' + rnd(label + 'sid', 32) + \
        b'\x13\x01\x00' + b'\x00\x2e' + struct.pack('!HHH', 0x002b, 2, 0x0304) + \
        struct.pack('!HHHH', 0x0033, 36, 0x001d, 32) + rnd(label + 'sks', 32)
    sh = b'\x02' + struct.pack('!I', len(body))[1:] + body  # handshake length: the body's (118)
    return tls_rec(22, sh) + tls_rec(20, b'\x01') + tls_rec(23, rnd(label + 'cert', 2400))


def lcg(seed):
    while True:
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        yield seed >> 8


def tls_stratum(name, sni, minutes=35):
    c = Tcp(51234, 14433)
    c.open(T0)
    t = T0 + 60000
    c.data(t, 0, client_hello(name, sni))
    c.data(t + 30000, 1, server_flight(name))
    c.data(t + 60000, 0, tls_rec(20, b'\x01') + tls_rec(23, rnd(name + 'fin', 74)))
    c.data(t + 70000, 0, tls_rec(23, rnd(name + 'login', 260)))   # login
    c.data(t + 120000, 1, tls_rec(23, rnd(name + 'job0', 480)))   # first job
    r = lcg(11)
    end = T0 + minutes * 60 * 1000000
    nj = t + 30000000
    n = 0
    while t < end:
        t += (8 + next(r) % 40) * 1000000
        while nj < t:
            c.data(nj, 1, tls_rec(23, rnd(name + 'j%d' % nj, 380 + next(r) % 30)))
            nj += 30000000 if next(r) % 5 else 12000000
        c.data(t, 0, tls_rec(23, rnd(name + 's%d' % n, 160 + next(r) % 12)))
        c.data(t + 90000, 1, tls_rec(23, rnd(name + 'a%d' % n, 56)))
        n += 1
    c.close(end + 1000000)
    write(name + '.pcap', [c])


def sv2_frame(ext, mtype, payload):
    return struct.pack('<HB', ext, mtype) + struct.pack('<I', len(payload))[:3] + payload


def s0(s):
    return bytes([len(s)]) + s.encode()


def sv2_plain():
    c = Tcp(40112, 34255)
    c.open(T0)
    t = T0 + 60000
    setup = struct.pack('<BHHI', 0, 2, 2, 1) + s0('stratum.example-pool.net') + struct.pack('<H', 34255) + \
        s0('Bitmain') + s0('S19j Pro') + s0('braiins-os-23.10') + s0('S19-0042')
    c.data(t, 0, sv2_frame(0, 0x00, setup))
    c.data(t + 30000, 1, sv2_frame(0, 0x01, struct.pack('<HI', 2, 0)))
    ocm = struct.pack('<I', 1) + s0('bc1qexamplewallet0000.rack7') + struct.pack('<f', 1.0e14) + b'\xff' * 32
    c.data(t + 60000, 0, sv2_frame(0, 0x10, ocm))
    c.data(t + 90000, 1, sv2_frame(0, 0x11, struct.pack('<II', 1, 9) + b'\0' * 32 + b'\x04' + rnd('xn', 4) +
                                   struct.pack('<I', 0)))
    r = lcg(5)
    job = 1
    for i in range(40):
        t += (10 + next(r) % 30) * 1000000
        if i % 3 == 0:
            c.data(t - 500000, 1, sv2_frame(0x8000, 0x15, struct.pack('<IIBI', 9, job, 0, 0x20000000) + rnd('mr%d' % job, 32)))
            job += 1
        sub = struct.pack('<IIIIII', 9, i + 1, job - 1, next(r), 1767225600 + i, 0x20000000)
        c.data(t, 0, sv2_frame(0x8000, 0x1a, sub))
        c.data(t + 80000, 1, sv2_frame(0x8000, 0x1c, struct.pack('<IIIQ', 9, i + 1, 1, 1000 * (i + 1))))
    c.close(t + 1000000)
    write('sv2-plain.pcap', [c])


def sv2_noise():
    c = Tcp(40113, 34254)
    c.open(T0)
    t = T0 + 60000
    c.data(t, 0, rnd('ephemeral', 64))
    c.data(t + 30000, 1, rnd('nxreply', 234))
    c.data(t + 60000, 0, rnd('setup', 22 + 95 + 16))
    c.data(t + 90000, 1, rnd('setupok', 22 + 6 + 16))
    r = lcg(9)
    for i in range(30):
        t += (10 + next(r) % 30) * 1000000
        if i % 3 == 0:
            c.data(t - 400000, 1, rnd('job%d' % i, 22 + 45 + 16))
        c.data(t, 0, rnd('share%d' % i, 22 + 24 + 16))
        c.data(t + 70000, 1, rnd('ack%d' % i, 22 + 20 + 16))
    c.close(t + 1000000)
    write('sv2-noise.pcap', [c])


def benign_chat():
    c = Tcp(52000, 443)
    c.open(T0)
    t = T0 + 60000
    c.data(t, 0, client_hello('chat', 'chat.example.com'))
    c.data(t + 30000, 1, server_flight('chat'))
    r = lcg(21)
    for i in range(300):
        t += ((1 + next(r) % 4) if next(r) % 10 < 7 else (120 + next(r) % 900)) * 1000000
        d = next(r) & 1
        c.data(t, d, tls_rec(23, rnd('m%d' % i, 30 + next(r) % 900)))
    c.close(t + 1000000)
    write('tls-benign-chat.pcap', [c])


def benign_video():
    c = Tcp(52001, 443)
    c.open(T0)
    t = T0 + 60000
    c.data(t, 0, client_hello('video', 'video.example.com'))
    c.data(t + 30000, 1, server_flight('video'))
    for i in range(30):  # 30 segments of 48 KiB every 10 s
        t += 10000000
        c.data(t, 0, tls_rec(23, rnd('req%d' % i, 120)))
        c.data(t + 50000, 1, tls_rec(23, rnd('seg%d' % i, 16000)) * 3)
    c.close(t + 1000000)
    write('tls-benign-video.pcap', [c])


def benign_idle():
    c = Tcp(52002, 443)
    c.open(T0)
    t = T0 + 60000
    c.data(t, 0, client_hello('idle', 'push.example.com'))
    c.data(t + 30000, 1, server_flight('idle'))
    for i in range(70):  # a heartbeat each minute for 70 min
        t += 60000000
        c.data(t, 0, tls_rec(23, rnd('ping%d' % i, 31)))
        c.data(t + 40000, 1, tls_rec(23, rnd('pong%d' % i, 31)))
    c.close(t + 1000000)
    write('tls-benign-idle.pcap', [c])


if __name__ == '__main__':
    tls_stratum('tls-stratum-sni', 'xmr-eu1.nanopool.org')
    tls_stratum('tls-stratum-nosni', None)
    sv2_plain()
    sv2_noise()
    benign_chat()
    benign_video()
    benign_idle()
