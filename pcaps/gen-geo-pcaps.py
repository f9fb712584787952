#!/usr/bin/env python3
"""gen-geo-pcaps.py - writes pcaps/stratum-geo.pcap, the attribution test capture.

The Stratum session of stratum-btc.pcap (written by gen-pcaps.py) replayed
four times with other addresses, so the miners fall in networks that the test
databases know:

  1. miner 89.160.20.130 (MaxMind's GeoLite2-City-Test: SE, Linkoping/林雪平;
     GeoLite2-ASN-Test: AS29518 Bredband2 AB; tests/geoip/registry-test.csv: a
     data_center) -> pool 175.16.199.10 (City-Test: CN, Changchun/长春)
  2. miner 175.16.199.7 (registry: a mine) -> pool 89.160.20.140
  3. miner 10.20.3.4 (private range, registry: an enterprise, no verdict)
     -> pool 216.160.83.57 (City-Test: US, Milton; ASN-Test: AS209)
  4. miner 2001:db8:100::5 (registry: an idc; IPv6) -> pool 2001:db8:2::1

Each session starts 10 minutes after the previous one (flows do not overlap).
Python 3 standard library only, deterministic (byte-identical on every run).
Formats: pcap (draft-ietf-opsawg-pcap), Ethernet II, IPv4 RFC 791, IPv6 RFC 8200,
TCP RFC 9293 (checksums recomputed with the right pseudo-header).

Usage: gen-geo-pcaps.py [--out DIR]   (default: the directory of this script)
"""

import ipaddress
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = 'stratum-btc.pcap'
OUTPUT = 'stratum-geo.pcap'
MINER, POOL = ipaddress.ip_address('192.0.2.10'), ipaddress.ip_address('203.0.113.5')
SESSIONS = [
    ('89.160.20.130', '175.16.199.10'),
    ('175.16.199.7', '89.160.20.140'),
    ('10.20.3.4', '216.160.83.57'),
    ('2001:db8:100::5', '2001:db8:2::1'),
]
SPACING_US = 600 * 1000000


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_with_csum(seg, pseudo):
    seg = seg[:16] + b'\0\0' + seg[18:]
    return seg[:16] + struct.pack('!H', csum(pseudo + seg)) + seg[18:]


def rewrite(frame, cmap):
    """One Ethernet/IPv4/TCP frame of the source with its addresses mapped (IPv4 or IPv6 out)."""
    eth, etype = frame[:12], struct.unpack('!H', frame[12:14])[0]
    assert etype == 0x0800, 'the source capture is plain Ethernet/IPv4'
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack('!H', ip[2:4])[0]
    src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
    seg = ip[ihl:total]
    nsrc, ndst = cmap[src], cmap[dst]
    if nsrc.version == 4:
        hdr = bytearray(ip[:ihl])
        hdr[12:16], hdr[16:20] = nsrc.packed, ndst.packed
        hdr[10:12] = b'\0\0'
        hdr[10:12] = struct.pack('!H', csum(bytes(hdr)))
        pseudo = nsrc.packed + ndst.packed + struct.pack('!BBH', 0, 6, len(seg))
        out = bytes(hdr) + tcp_with_csum(seg, pseudo)
        return eth + struct.pack('!H', 0x0800) + out + frame[14 + total:]
    # IPv6 (RFC 8200): same payload, hop limit from the IPv4 TTL, no extension headers.
    hdr = struct.pack('!IHBB', 6 << 28, len(seg), 6, ip[8]) + nsrc.packed + ndst.packed
    pseudo = nsrc.packed + ndst.packed + struct.pack('!I3xB', len(seg), 6)
    return eth + struct.pack('!H', 0x86DD) + hdr + tcp_with_csum(seg, pseudo)


def main():
    out_dir = HERE
    if len(sys.argv) == 3 and sys.argv[1] == '--out':
        out_dir = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    with open(os.path.join(HERE, SOURCE), 'rb') as f:
        data = f.read()
    magic, = struct.unpack('<I', data[:4])
    assert magic == 0xA1B2C3D4, 'little-endian microsecond pcap expected'
    ghdr, off, recs = data[:24], 24, []
    while off < len(data):
        sec, usec, incl, orig = struct.unpack('<IIII', data[off:off + 16])
        recs.append((sec * 1000000 + usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    out = bytearray(ghdr)
    for i, (m, p) in enumerate(SESSIONS):
        cmap = {MINER: ipaddress.ip_address(m), POOL: ipaddress.ip_address(p)}
        for t, frame in recs:
            nf = rewrite(frame, cmap)
            t += i * SPACING_US
            out += struct.pack('<IIII', t // 1000000, t % 1000000, len(nf), len(nf)) + nf
    path = os.path.join(out_dir, OUTPUT)
    with open(path, 'wb') as f:
        f.write(out)
    print('%s: %d packets' % (path, len(recs) * len(SESSIONS)))


if __name__ == '__main__':
    main()
