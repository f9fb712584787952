#!/usr/bin/env python3
"""gen-dialect-pcaps.py - one small capture per pool-protocol dialect, and their look-alikes.

Writes pcaps/dialect-*.pcap: a short miner/pool session in each of the dialects that
minetrace names by their own shapes (KawPow, EthereumStratum/2.0.0, Ergo, Kaspa stratum;
the Grin, Beam and Iron Fish pool protocols), and dialect-benign.pcap with JSON-RPC 2.0
traffic that uses the same method names but is not mining (it must stay silent).
The messages follow the public descriptions and the pool and miner sources cited in
src/detect/stratum.c and src/detect/dialects.c; every value is made up (hashes are SHA-256
of fixed labels, addresses are shape-only).

Python 3 standard library only, deterministic; the packet writers are gen-pcaps.py's.
Usage: gen-dialect-pcaps.py [--out DIR]
"""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('genpcaps', os.path.join(HERE, 'gen-pcaps.py'))
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

C, S = g.C, g.S


def J(obj):
    return json.dumps(obj, separators=(',', ':')) + '\n'


def hx(label, n=32):
    """n bytes of deterministic filler, as hex."""
    out = b''
    k = 0
    while len(out) < n:
        out += g.h('%s %d' % (label, k))
        k += 1
    return out[:n].hex()


def session(pkts, octet, port, msgs, server='203.0.113.%d'):
    """One TCP connection: handshake, the messages 2 s apart (each ACKed), close."""
    f = g.TcpFlow(pkts, g.EthLink(g.mac(octet)), '192.0.2.%d' % octet, 41000 + octet,
                  server % octet, port, (0x3100 * octet, 0x5200 * octet))
    f.handshake(0.0)
    t = 0.05
    for d, m in msgs:
        f.send(d, t, m if isinstance(m, str) else J(m), ack_delay=0.04)
        t += 2.0
    f.close(t + 1)
    return t + 1


RVN = 'R' + 'AbCdEfGhJkLmNpQrStUvWxYz23456789a'   # shape of a Ravencoin P2PKH address (34 base58)
ERG = '9f' + 'AbCdEfGhJkLmNpQrStUvWxYz23456789abcdefghijkmnopqr'  # shape of an Ergo P2PK address (51 base58)
KAS = 'kaspa:qqkqkzjvr7zwxxmjxjkmxxdwju9kjs6e9pz3ja7hhs4xqn5xnwrh7jx0zrkk2'
DIFF1 = '00000000ffff0000000000000000000000000000000000000000000000000000'


def cap_kawpow():
    # kawpowminer "stratum" mode against a Ravencoin pool (kawpowminer EthStratumClient.cpp)
    pkts = []
    target = '00000000' + 'ff' + '0' * 54
    session(pkts, 81, 3636, [
        (C, {'id': 1, 'method': 'mining.subscribe', 'params': ['kawpowminer/1.2.4']}),
        (S, {'id': 1, 'result': [None, '0a1b'], 'error': None}),
        (C, {'id': 2, 'method': 'mining.authorize', 'params': [RVN + '.rig', 'x']}),
        (S, {'id': 2, 'result': True, 'error': None}),
        (S, {'id': None, 'method': 'mining.set_target', 'params': [target]}),
        (S, {'id': None, 'method': 'mining.notify',
             'params': ['abcd', hx('rvn header'), hx('rvn seed'), target, True, 3000000, '1b00ffff']}),
        (C, {'id': 40, 'method': 'mining.submit',
             'params': [RVN + '.rig', 'abcd', '0x0a1b000000001234', '0x' + hx('rvn header'), '0x' + hx('rvn mix')]}),
        (S, {'id': 40, 'result': True, 'error': None}),
    ])
    return g.ordered(pkts)


def cap_es2():
    # EthereumStratum/2.0.0 (EIP-1571): hello, session subscribe, worker token, mining.set, notify, submit
    pkts = []
    session(pkts, 82, 3353, [
        (C, {'id': 0, 'method': 'mining.hello',
             'params': {'agent': 'ethminer-0.19.0', 'host': 'es2.example.com', 'port': 'd19',
                        'proto': 'EthereumStratum/2.0.0'}}),
        (S, {'id': 0, 'result': {'proto': 'EthereumStratum/2.0.0', 'encoding': 'plain', 'resume': '1',
                                 'timeout': 'b4', 'maxerrors': '5', 'node': 'pool-node/1.0'}}),
        (C, {'id': 1, 'method': 'mining.subscribe'}),
        (S, {'id': 1, 'result': 's-12345'}),
        (C, {'id': 2, 'method': 'mining.authorize', 'params': ['0xb85150eb365e7df0941f0cf08235f987ba91506a.rig1', 'x']}),
        (S, {'id': 2, 'result': 'w-123'}),
        (S, {'method': 'mining.set', 'params': {'epoch': 'dc', 'target': '0112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba',
                                                'algo': 'ethash', 'extranonce': 'af4c'}}),
        (S, {'method': 'mining.notify', 'params': ['bf0488aa', '6526d5', hx('es2 header'), '0']}),
        (C, {'id': 40, 'method': 'mining.submit', 'params': ['bf0488aa', '68765fccd712', 'w-123']}),
        (S, {'id': 40}),
        (C, {'id': 41, 'method': 'mining.submit', 'params': ['bf0488aa', '68765fccd7ff', 'w-123']}),
        (S, {'id': 41, 'error': {'code': 202, 'message': 'Stale'}}),
        (C, {'id': 9, 'method': 'mining.hashrate', 'params': ['1c9c380', 'w-123']}),
        (S, {'id': 9}),
    ])
    return g.ordered(pkts)


def cap_ergo():
    # an Ergo pool on Miningcore (ErgoJob.GetJobParams; submit [worker, job, extranonce2, ntime, nonce])
    pkts = []
    session(pkts, 83, 3052, [
        (C, {'id': 1, 'method': 'mining.subscribe', 'params': ['TeamRedMiner/0.10.10']}),
        (S, {'id': 1, 'result': [None, '6a0d', 6], 'error': None}),
        (C, {'id': 2, 'method': 'mining.authorize', 'params': [ERG + '.rig', 'x']}),
        (S, {'id': 2, 'result': True, 'error': None}),
        (S, {'id': None, 'method': 'mining.set_difficulty', 'params': [1]}),
        (S, {'id': None, 'method': 'mining.notify',
             'params': ['1a2b', 1100000, hx('ergo msg'), '', '', 2,
                        '28948022309329048855892746252171976963317496166410141009864396001978282409984', '', True]}),
        (C, {'id': 3, 'method': 'mining.submit', 'params': [ERG + '.rig', '1a2b', '00112233', 'undefined', '6a0d00112233']}),
        (S, {'id': 3, 'result': True, 'error': None}),
    ])
    return g.ordered(pkts)


def cap_kaspa():
    # BzMiner/lolMiner against kaspa-stratum-bridge (client_handler.go): the word-array job form
    pkts = []
    session(pkts, 84, 5555, [
        (C, {'id': 1, 'method': 'mining.subscribe', 'params': ['lolMiner/1.88', 'EthereumStratum/1.0.0']}),
        (S, {'id': 1, 'result': [True, 'EthereumStratum/1.0.0'], 'error': None}),
        (C, {'id': 2, 'method': 'mining.authorize', 'params': [KAS + '.rig1', 'x']}),
        (S, {'id': 2, 'result': True, 'error': None}),
        (S, {'jsonrpc': '2.0', 'method': 'set_extranonce', 'params': ['3ff2'], 'id': None}),
        (S, {'id': None, 'method': 'mining.set_difficulty', 'params': [4096]}),
        (S, {'jsonrpc': '2.0', 'method': 'mining.notify', 'id': 7,
             'params': ['7', [1234567890123, 987654321, 111, 222], 1700000000000]}),
        (C, {'id': 3, 'method': 'mining.submit', 'params': [KAS + '.rig1', '7', '0x3ff2a1b2c3d4e5f6']}),
        (S, {'id': 3, 'result': True, 'error': None}),
    ])
    return g.ordered(pkts)


def cap_grin():
    # grin's stratum server (servers/src/mining/stratumserver.rs): answers echo the method
    pkts = []
    pre_pow = '0001' + hx('grin pre_pow', 100)
    session(pkts, 85, 3416, [
        (C, {'id': '0', 'jsonrpc': '2.0', 'method': 'login',
             'params': {'login': 'grinminer.rig1', 'pass': 'x', 'agent': 'lolMiner 1.70'}}),
        (S, {'id': '0', 'jsonrpc': '2.0', 'method': 'login', 'result': 'ok', 'error': None}),
        (C, {'id': '1', 'jsonrpc': '2.0', 'method': 'getjobtemplate', 'params': None}),
        (S, {'id': '1', 'jsonrpc': '2.0', 'method': 'getjobtemplate',
             'result': {'difficulty': 4, 'height': 2500000, 'job_id': 7, 'pre_pow': pre_pow}, 'error': None}),
        (S, {'id': 'Stratum', 'jsonrpc': '2.0', 'method': 'job',
             'params': {'difficulty': 4, 'height': 2500001, 'job_id': 8, 'pre_pow': pre_pow}}),
        (C, {'id': '2', 'jsonrpc': '2.0', 'method': 'submit',
             'params': {'edge_bits': 32, 'height': 2500001, 'job_id': 8, 'nonce': 1234567,
                        'pow': [i * 97 + 13 for i in range(42)]}}),
        (S, {'id': '2', 'jsonrpc': '2.0', 'method': 'submit', 'result': 'ok', 'error': None}),
        (C, {'id': '3', 'jsonrpc': '2.0', 'method': 'submit',
             'params': {'edge_bits': 32, 'height': 2500000, 'job_id': 7, 'nonce': 7654321,
                        'pow': [i * 89 + 5 for i in range(42)]}}),
        (S, {'id': '3', 'jsonrpc': '2.0', 'method': 'submit', 'result': None,
             'error': {'code': -32503, 'message': 'Solution submitted too late'}}),
    ])
    return g.ordered(pkts)


def cap_beam():
    # Beam's stratum (BeamMW/beam pow/stratum.h): flat members, "result" answers with codes
    pkts = []
    session(pkts, 86, 3344, [
        (C, {'method': 'login', 'api_key': hx('beam wallet', 33) + '.rig1', 'id': 'login', 'jsonrpc': '2.0'}),
        (S, {'id': 'login', 'code': 0, 'description': 'Login successful', 'nonceprefix': '0a1b2c',
             'forkheight': 777777, 'jsonrpc': '2.0', 'method': 'result'}),
        (S, {'difficulty': 56347621, 'id': '17', 'input': hx('beam input'), 'height': 1500000,
             'jsonrpc': '2.0', 'method': 'job'}),
        (C, {'id': '17', 'jsonrpc': '2.0', 'method': 'solution', 'nonce': '0a1b2c0000001234',
             'output': hx('beam output', 104)}),
        (S, {'id': '17', 'code': 1, 'description': 'accepted', 'jsonrpc': '2.0', 'method': 'result'}),
    ])
    return g.ordered(pkts)


def cap_ironfish():
    # Iron Fish pool stratum (ironfish/src/mining/stratum): "body" objects, every message with an id
    pkts = []
    session(pkts, 87, 9034, [
        (C, {'id': 0, 'method': 'mining.subscribe',
             'body': {'version': 3, 'name': 'rig1', 'publicAddress': hx('iron address'), 'agent': 'ironfish-miner/1.0'}}),
        (S, {'id': 0, 'method': 'mining.subscribed', 'body': {'clientId': 12, 'graffiti': hx('graffiti', 8), 'xn': '0a1b'}}),
        (S, {'id': 1, 'method': 'mining.set_target', 'body': {'target': '00000fffff' + '0' * 54}}),
        (S, {'id': 2, 'method': 'mining.notify', 'body': {'miningRequestId': 3, 'header': hx('iron header', 180)}}),
        (C, {'id': 1, 'method': 'mining.submit',
             'body': {'miningRequestId': 3, 'randomness': '0a1b00000000beef', 'graffiti': hx('graffiti', 8)}}),
        (S, {'id': 3, 'method': 'mining.submitted', 'body': {'id': 1, 'result': True}}),
    ])
    return g.ordered(pkts)


def cap_benign():
    """JSON-RPC 2.0 services that share method names with the dialects but are not mining."""
    pkts = []
    base = '198.51.100.%d'
    # an application API with a "login" method taking {login, pass, agent}, answered "ok" with the method
    session(pkts, 90, 8080, [
        (C, {'id': '0', 'jsonrpc': '2.0', 'method': 'login', 'params': {'login': 'alice.home', 'pass': 'pw', 'agent': 'app/2.1'}}),
        (S, {'id': '0', 'jsonrpc': '2.0', 'method': 'login', 'result': 'ok', 'error': None}),
        (C, {'id': '1', 'jsonrpc': '2.0', 'method': 'status', 'params': None}),
        (S, {'id': '1', 'jsonrpc': '2.0', 'method': 'status', 'result': {'user': 'alice', 'unread': 3}, 'error': None}),
        (C, {'id': '2', 'jsonrpc': '2.0', 'method': 'submit', 'params': {'form': 'contact', 'text': 'hello'}}),
        (S, {'id': '2', 'jsonrpc': '2.0', 'method': 'submit', 'result': 'ok', 'error': None}),
    ], server=base)
    # a login with an api_key and a job queue's "job"/"result" events (not Beam's shapes)
    session(pkts, 91, 8443, [
        (C, {'method': 'login', 'api_key': 'k-7f3a9', 'id': 'login', 'jsonrpc': '2.0'}),
        (S, {'id': 'login', 'jsonrpc': '2.0', 'result': {'session': 'abc'}}),
        (S, {'jsonrpc': '2.0', 'method': 'job', 'id': '5', 'params': {'queue': 'mail', 'state': 'done'}}),
        (C, {'jsonrpc': '2.0', 'method': 'result', 'id': '5', 'params': {'ok': True}}),
    ], server=base)
    # a chat service with mining.*-free "subscribe"/"notify" events carrying a body
    session(pkts, 92, 9000, [
        (C, {'id': 1, 'method': 'subscribe', 'body': {'channel': 'news'}}),
        (S, {'id': 1, 'method': 'subscribed', 'body': {'channel': 'news'}}),
        (S, {'id': 2, 'method': 'notify', 'body': {'text': 'hello'}}),
    ], server=base)
    return g.ordered(pkts)


def main(argv):
    outdir = HERE
    if argv[:1] == ['--out'] and len(argv) == 2:
        outdir = argv[1]
    elif argv:
        sys.stderr.write('usage: gen-dialect-pcaps.py [--out DIR]\n')
        return 2
    caps = [
        ('dialect-kawpow.pcap', cap_kawpow()),
        ('dialect-es2.pcap', cap_es2()),
        ('dialect-ergo.pcap', cap_ergo()),
        ('dialect-kaspa.pcap', cap_kaspa()),
        ('dialect-grin.pcap', cap_grin()),
        ('dialect-beam.pcap', cap_beam()),
        ('dialect-ironfish.pcap', cap_ironfish()),
        ('dialect-benign.pcap', cap_benign()),
    ]
    for name, pkts in caps:
        data = g.pcap_bytes(g.LINKTYPE_ETHERNET, pkts)
        with open(os.path.join(outdir, name), 'wb') as fh:
            fh.write(data)
        print('%-24s %6d bytes' % (name, len(data)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
