#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Two storage nodes create one new name at once, N times over.

One connection to each of two servers.  For each round a fresh object
name gets a WRITE through both at once (4 KiB at 0 through the first,
4 KiB at 4096 through the second, both sent before either reply is read),
and a fresh lock name an ACQUIRE through both at once.  Every WRITE must
succeed, and every lock must go to exactly one of the two (the other is
told busy, -EAGAIN): no error of any other kind, such as the -EEXIST that
a create losing the race to another node returned.  Then every object is
read back through both servers and compared with what was written.

usage: createrace.py HOST1 HOST2 PORT N SEED
"""
import hashlib
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archipwire as w  # noqa: E402

REQ_MAGIC, REP_MAGIC = w.REQ_MAGIC, w.REP_MAGIC
OP_READ, OP_WRITE, OP_ACQUIRE, OP_RELEASE = 1, 2, 9, 10
EAGAIN = 11
BLK = 4096


recv_all = w.recv_all


def connect(host, port, cid):
    return w.connect(host, port, cid)


def send(s, op, tag, name, off=0, length=0, data=b''):
    n = name.encode()
    s.sendall(struct.pack('<IBBHQQIHHII', REQ_MAGIC, op, 0, 0, tag, off, length,
                          len(n), 0, len(data), 0) + n + data)


def reply(s):
    magic, status, tag, dlen, _pad = struct.unpack('<IiQII', recv_all(s, 24))
    if magic != REP_MAGIC:
        raise ConnectionError('bad reply')
    return status, tag, recv_all(s, dlen) if dlen else b''


def block(seed, i, half):
    return hashlib.sha256(f'{seed}.{i}.{half}'.encode()).digest() * (BLK // 32)


def main():
    h1, h2, port, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    c = [connect(h1, port, 1), connect(h2, port, 2)]
    bad = []
    for i in range(n):
        obj = f'cr.{seed}.{i}'
        for k in (0, 1):
            send(c[k], OP_WRITE, i, obj, k * BLK, BLK, block(seed, i, k))
        for k in (0, 1):
            st, _, _ = reply(c[k])
            if st:
                bad.append(f'WRITE {obj} through server {k + 1}: {st}')
        lock = f'crl.{seed}.{i}'
        for k in (0, 1):
            send(c[k], OP_ACQUIRE, i, lock)
        sts = [reply(c[k])[0] for k in (0, 1)]
        if sorted(sts) != [-EAGAIN, 0]:
            bad.append(f'ACQUIRE {lock} through both: {sts} (want one 0, one {-EAGAIN})')
        for k in (0, 1):
            if sts[k] == 0:
                send(c[k], OP_RELEASE, i, lock)
                st, _, _ = reply(c[k])
                if st:
                    bad.append(f'RELEASE {lock}: {st}')
    wrong = 0
    for i in range(n):
        want = block(seed, i, 0) + block(seed, i, 1)
        for k in (0, 1):
            send(c[k], OP_READ, i, f'cr.{seed}.{i}', 0, 2 * BLK)
            st, _, data = reply(c[k])
            if st or data != want:
                wrong += 1
                bad.append(f'READ cr.{seed}.{i} through server {k + 1}: status {st}, '
                           f'{"right" if data == want else "wrong"} data')
    for s in c:
        s.close()
    print(f'{n} rounds: {n} objects and {n} locks created through two nodes at once; '
          f'{len(bad)} errors, {wrong} objects read back wrong')
    for b in bad[:20]:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
