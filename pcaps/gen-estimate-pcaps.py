#!/usr/bin/env python3
"""gen-estimate-pcaps.py - captures whose hash rate is known, for the estimator's tests.

Each capture is one miner session whose shares arrive at Poisson times (seeded, so the
files are byte-identical on every run) for a set true hash rate H at a set share difficulty:
shares come at rate H / (hashes per share). pcaps/estimate-truth.json records, per capture,
the truth and what an exact estimator computes from the capture (number of shares, summed
difficulty in hashes, elapsed time from the first job to the last share), so that
tests/test_evidence_estimate.c can check both the arithmetic and that the truth lies within
the stated 95% interval.

Python 3 standard library only; the packet writers are gen-pcaps.py's.
Usage: gen-estimate-pcaps.py [--out DIR]

Wire formats: Stratum v1 (mining.subscribe/authorize/set_difficulty/notify/submit),
Zcash stratum (ZIP 301: mining.set_target, 256-bit big-endian target), EthProxy
(eth_submitLogin / eth_getWork / eth_submitWork / eth_submitHashrate), CryptoNote pool
JSON-RPC (XMRig login / job / submit; 4-byte little-endian target as XMRig reads it).
"""

import importlib.util
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('genpcaps', os.path.join(HERE, 'gen-pcaps.py'))
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

C, S = g.C, g.S
TRUTH = {}
XMR_WALLET = '4' + 'A' * 94  # shape only: 95 base58 characters


def poisson_times(rng, rate, n, start):
    """n arrival times of a Poisson stream of the given rate (per second) after start."""
    t, out = start, []
    for _ in range(n):
        t += rng.expovariate(rate)
        out.append(t)
    return out


def note(name, truth_hs, hashes, t_work, t_last, algo):
    TRUTH[name] = {'truth_hs': truth_hs, 'algo': algo, 'shares': len(hashes),
                   'hashes': sum(hashes), 'elapsed_s': t_last - t_work,
                   'exact_hs': sum(hashes) / (t_last - t_work)}


def cap_stratum(name, truth_hs, diffs, seed, octet):
    """Stratum v1 SHA-256d: diffs = [(difficulty, shares)] in turn (a set_difficulty each)."""
    pkts = []
    rng = random.Random(seed)
    f = g.TcpFlow(pkts, g.EthLink(g.mac(octet)), '192.0.2.%d' % octet, 50000 + octet,
                  '203.0.113.%d' % octet, 3333, (0x1000 * octet, 0x2000 * octet))
    worker = '%s.est%d' % (g.BTC_WALLET, octet)
    f.handshake(0.0)
    f.send(C, 0.03, g.jl({'id': 1, 'method': 'mining.subscribe', 'params': ['cgminer/4.12.1']}))
    f.send(S, 0.05, g.jl({'id': 1, 'result': [[['mining.notify', 'ae6812eb4cd7735a']], '08000002', 4],
                          'error': None}))
    f.send(C, 0.06, g.jl({'id': 2, 'method': 'mining.authorize', 'params': [worker, 'x']}))
    t_work = 0.08
    job = g.BtcJob('e1', 'est %d' % octet, g.NTIME0, g.HEIGHT, True)
    t, sid, hashes = t_work, 3, []
    for k, (diff, n) in enumerate(diffs):
        msg = g.jl({'id': None, 'method': 'mining.set_difficulty', 'params': [diff]}) + job.notify()
        f.send(S, t if k == 0 else t + 0.001, (g.reply(2) if k == 0 else b'') + msg, ack_delay=0.04)
        for at in poisson_times(rng, truth_hs / (diff * 2.0 ** 32), n, t + 0.002):
            f.send(C, at, g.submit(sid, worker, job, '%08x' % sid, job.ntime + 2,
                                   g.h('n %d %d' % (octet, sid))[:4].hex()))
            f.send(S, at + 0.02, g.reply(sid), ack_delay=0.04)
            hashes.append(diff * 2.0 ** 32)
            sid += 1
            t = at
    f.close(t + 5, C)
    note(name, truth_hs, hashes, t_work, t, 'sha256d')
    return g.ordered(pkts)


def cap_cryptonote(name, truth_hs, target_hex, hashes_per_share, n, seed, octet):
    pkts = []
    rng = random.Random(seed)
    f = g.TcpFlow(pkts, g.EthLink(g.mac(octet)), '192.0.2.%d' % octet, 50000 + octet,
                  '203.0.113.%d' % octet, 3333, (0x1000 * octet, 0x2000 * octet))
    f.handshake(0.0)
    f.send(C, 0.03, g.jl({'id': 1, 'jsonrpc': '2.0', 'method': 'login', 'params': {
        'login': XMR_WALLET, 'pass': 'est', 'agent': 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0',
        'algo': ['rx/0']}}))
    sess = g.hhex('xmr session %d' % octet)[:32]
    job = {'blob': g.hhex('blob %d' % octet) * 2 + g.hhex('blob2 %d' % octet)[:12], 'job_id': 'j%d' % octet,
           'target': target_hex, 'algo': 'rx/0', 'height': 3000000, 'seed_hash': g.hhex('seed %d' % octet)}
    t_work = 0.06
    f.send(S, t_work, g.jl({'id': 1, 'jsonrpc': '2.0', 'error': None,
                            'result': {'id': sess, 'job': job, 'extensions': ['algo'], 'status': 'OK'}}))
    times = poisson_times(rng, truth_hs / hashes_per_share, n, t_work + 0.001)
    for k, at in enumerate(times):
        f.send(C, at, g.jl({'id': k + 2, 'jsonrpc': '2.0', 'method': 'submit', 'params': {
            'id': sess, 'job_id': job['job_id'], 'nonce': g.h('xn %d %d' % (octet, k))[:4].hex(),
            'result': g.hhex('xr %d %d' % (octet, k)), 'algo': 'rx/0'}}))
        f.send(S, at + 0.02, g.jl({'id': k + 2, 'jsonrpc': '2.0', 'error': None, 'result': {'status': 'OK'}}),
               ack_delay=0.04)
    f.close(times[-1] + 5, C)
    note(name, truth_hs, [hashes_per_share] * n, t_work, times[-1], 'randomx')
    return g.ordered(pkts)


def cap_equihash(name, truth_hs, target_int, n, seed, octet):
    pkts = []
    rng = random.Random(seed)
    f = g.TcpFlow(pkts, g.EthLink(g.mac(octet)), '192.0.2.%d' % octet, 50000 + octet,
                  '203.0.113.%d' % octet, 3357, (0x1000 * octet, 0x2000 * octet))
    worker = '%s.est%d' % (g.ZEC_WALLET, octet)
    f.handshake(0.0)
    f.send(C, 0.03, g.jl({'id': 1, 'method': 'mining.subscribe',
                          'params': ['nheqminer/0.5c', None, 'zec.example.net', 3357]}))
    f.send(S, 0.05, g.jl({'id': 1, 'result': ['3b2a4c9d', '8a2b3c4d'], 'error': None}))
    f.send(C, 0.06, g.jl({'id': 2, 'method': 'mining.authorize', 'params': [worker, 'x']}))
    zt0 = g.NTIME0 - 11
    notify = g.jl({'id': None, 'method': 'mining.notify', 'params': [
        '2f10', '04000000', g.hhex('zec prev est'), g.hhex('zec merkle est'), g.hhex('zec commitments est'),
        struct.pack('<I', zt0).hex(), struct.pack('<I', 0x1C0168FD).hex(), True]})
    t_work = 0.08
    f.send(S, t_work, g.reply(2) + g.jl({'id': None, 'method': 'mining.set_target',
                                          'params': ['%064x' % target_int]}) + notify, ack_delay=0.04)
    per_share = 2.0 ** 256 / target_int
    times = poisson_times(rng, truth_hs / per_share, n, t_work + 0.001)
    for k, at in enumerate(times):
        # a short solution keeps each submit in one segment: the detector reads 64 packets
        f.send(C, at, g.jl({'id': k + 3, 'method': 'mining.submit', 'params': [
            worker, '2f10', struct.pack('<I', zt0 + int(at)).hex(), g.hbytes('n2 %d' % k, 28).hex(),
            'fd4005' + g.hbytes('sol %d' % k, 400).hex()]}))
        f.send(S, at + 0.02, g.reply(k + 3), ack_delay=0.04)
    f.close(times[-1] + 5, C)
    note(name, truth_hs, [per_share] * n, t_work, times[-1], 'equihash')
    return g.ordered(pkts)


def cap_ethproxy(name, truth_hs, reported_hs, hashes_per_share, n, seed, octet):
    """EthProxy: boundary = 2^256 / hashes per share; one eth_submitHashrate self-report."""
    pkts = []
    rng = random.Random(seed)
    f = g.TcpFlow(pkts, g.EthLink(g.mac(octet)), '192.0.2.%d' % octet, 50000 + octet,
                  '203.0.113.%d' % octet, 8008, (0x1000 * octet, 0x2000 * octet))
    wallet = '0x' + g.h('eth wallet')[:20].hex()
    f.handshake(0.0)
    f.send(C, 0.03, g.jl({'id': 1, 'jsonrpc': '2.0', 'method': 'eth_submitLogin', 'params': [wallet, 'x'],
                          'worker': 'eth%d' % octet}))
    f.send(S, 0.05, g.jl({'id': 1, 'jsonrpc': '2.0', 'result': True}))
    f.send(C, 0.06, g.jl({'id': 2, 'jsonrpc': '2.0', 'method': 'eth_getWork', 'params': []}))
    t_work = 0.08
    boundary = '0x%064x' % (2 ** 256 // hashes_per_share)
    f.send(S, t_work, g.jl({'id': 2, 'jsonrpc': '2.0', 'result': ['0x' + g.hhex('hdr'), '0x' + g.hhex('seed'), boundary]}))
    f.send(C, 0.09, g.jl({'id': 6, 'jsonrpc': '2.0', 'method': 'eth_submitHashrate',
                          'params': ['0x%x' % reported_hs, '0x' + g.hhex('miner id')]}))
    f.send(S, 0.11, g.jl({'id': 6, 'jsonrpc': '2.0', 'result': True}))
    times = poisson_times(rng, truth_hs / hashes_per_share, n, t_work + 0.04)
    for k, at in enumerate(times):
        f.send(C, at, g.jl({'id': 4, 'jsonrpc': '2.0', 'method': 'eth_submitWork', 'params': [
            '0x' + g.h('en %d' % k)[:8].hex(), '0x' + g.hhex('hdr'), '0x' + g.hhex('mix %d' % k)]}))
        f.send(S, at + 0.02, g.jl({'id': 4, 'jsonrpc': '2.0', 'result': True}), ack_delay=0.04)
    f.close(times[-1] + 5, C)
    per = 2.0 ** 256 / (2 ** 256 // hashes_per_share)
    note(name, truth_hs, [per] * n, t_work, times[-1], 'ethash')
    TRUTH[name]['reported_hs'] = reported_hs
    return g.ordered(pkts)


def main(argv):
    outdir = HERE
    if argv[:1] == ['--out'] and len(argv) == 2:
        outdir = argv[1]
    elif argv:
        sys.stderr.write('usage: gen-estimate-pcaps.py [--out DIR]\n')
        return 2
    caps = [
        # 10 TH/s at difficulty 65536: a share every 28 s; 26 shares
        ('estimate-stratum.pcap', cap_stratum('estimate-stratum.pcap', 10e12, [(65536, 26)], 10, 70)),
        # 2 TH/s, difficulty 8192 then 16384 (the one in force at each submit counts)
        ('estimate-stratum-vardiff.pcap',
         cap_stratum('estimate-stratum-vardiff.pcap', 2e12, [(8192, 12), (16384, 12)], 11, 71)),
        # CryptoNote, 4-byte target dc460300 = difficulty 20,000 (0xFFFFFFFF / 0x000346dc), 600 H/s
        ('estimate-cryptonote.pcap',
         cap_cryptonote('estimate-cryptonote.pcap', 600.0, 'dc460300', 0xFFFFFFFFFFFFFFFF /
                        (0xFFFFFFFFFFFFFFFF // (0xFFFFFFFF // 0x000346dc)), 40, 12, 72)),
        # CryptoNote, 8-byte target for difficulty 120,000 (2^64 / target), 4.8 kH/s
        ('estimate-cryptonote64.pcap',
         cap_cryptonote('estimate-cryptonote64.pcap', 4800.0,
                        struct.pack('<Q', 0xFFFFFFFFFFFFFFFF // 120000).hex(),
                        0xFFFFFFFFFFFFFFFF / (0xFFFFFFFFFFFFFFFF // 120000), 40, 13, 73)),
        # Equihash, 400 Sol/s at 2^256 / target = 8192 Sol per share; 18 shares
        ('estimate-equihash.pcap', cap_equihash('estimate-equihash.pcap', 400.0, 2 ** 256 // 8192, 18, 14, 74)),
        # EthProxy, 30 MH/s at 1 GH per share (boundary 2^256 / 1e9); the miner reports 30.4 MH/s
        ('estimate-ethproxy.pcap', cap_ethproxy('estimate-ethproxy.pcap', 30e6, 30400000, 1000000000, 26, 15, 75)),
    ]
    for name, pkts in caps:
        data = g.pcap_bytes(g.LINKTYPE_ETHERNET, pkts)
        with open(os.path.join(outdir, name), 'wb') as fh:
            fh.write(data)
        print('%-32s %7d bytes' % (name, len(data)))
    with open(os.path.join(outdir, 'estimate-truth.json'), 'w') as fh:
        json.dump(TRUTH, fh, indent=1, sort_keys=True)
        fh.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
