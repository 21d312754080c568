#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""N waiting BINDs must not slow a good client's READs down.

One connection takes lock NAME (ACQUIRE, epoch E), a second BINDs to it in
slot 0 and keeps it; then N connections each send a BIND for slot 0 at E
that waits up to WAIT ms for the slot (as every queue of every hypervisor
does after a storage node died).  Meanwhile a good client READs 4 KiB of an
object OBJ over and over on a connection of its own; its latency before
and during the flood is printed, and the run fails if any READ during the
flood took longer than MAX_MS or the median grew more than 5 times (plus
20 ms).  At the end every BIND must still be waiting (none answered early),
and after the slot's holder lets go, one of them gets it.

usage: bindflood.py HOST PORT NAME OBJ N [WAIT_MS [MAX_MS]]
"""
import os
import socket
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archipwire as w  # noqa: E402

REQ_MAGIC, REP_MAGIC = w.REQ_MAGIC, w.REP_MAGIC
OP_READ, OP_ACQUIRE, OP_BIND = 1, 9, 12


recv_all = w.recv_all


def connect(host, port, cid):
    return w.connect(host, port, cid)


def send(s, op, tag, name, off=0, length=0, epoch=0):
    n = name.encode()
    s.sendall(struct.pack('<IBBHQQIHHII', REQ_MAGIC, op, 0, 0, tag, off, length,
                          len(n), 0, 0, epoch) + n)


def reply(s):
    magic, status, tag, dlen, _pad = struct.unpack('<IiQII', recv_all(s, 24))
    if magic != REP_MAGIC:
        raise ConnectionError('bad reply')
    return status, tag, recv_all(s, dlen) if dlen else b''


def reads(s, obj, n):
    lat = []
    for i in range(n):
        t = time.monotonic()
        send(s, OP_READ, i, obj, 0, 4096)
        st, _, data = reply(s)
        if st or len(data) != 4096:
            raise RuntimeError(f'READ {obj}: status {st}')
        lat.append((time.monotonic() - t) * 1000)
    return lat


def main():
    host, port, name, obj, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    wait = int(sys.argv[6]) if len(sys.argv) > 6 else 60000
    max_ms = float(sys.argv[7]) if len(sys.argv) > 7 else 1000
    holder = connect(host, port, 1)
    send(holder, OP_ACQUIRE, 1, name, 0, 1000)
    st, _, data = reply(holder)
    if st:
        raise RuntimeError(f'ACQUIRE {name}: {st}')
    epoch = struct.unpack_from('<I', data)[0]
    slot = connect(host, port, 2)
    send(slot, OP_BIND, 1, name, 0, 1000, epoch)
    st, _, _ = reply(slot)
    if st:
        raise RuntimeError(f'BIND slot 0: {st}')
    good = connect(host, port, 3)
    before = reads(good, obj, 40)
    flood = []
    t0 = time.monotonic()
    for i in range(n):
        s = connect(host, port, 100 + i)
        send(s, OP_BIND, 1, name, 0, wait, epoch)
        flood.append(s)
    t_sent = time.monotonic() - t0
    time.sleep(1)      # let every BIND reach its wait
    during = reads(good, obj, 100)
    t_flood = time.monotonic() - t0
    # None of them may have been answered: each still waits for slot 0.
    answered = 0
    for s in flood:
        s.setblocking(False)
        try:
            if s.recv(1):
                answered += 1
        except BlockingIOError:
            pass
        s.setblocking(True)
    slot.close()       # the slot's holder lets go: one waiter gets it
    got = None
    deadline = time.monotonic() + 30
    while got is None and time.monotonic() < deadline:
        for s in flood:
            s.settimeout(0.05)
            try:
                st, _, _ = reply(s)
                got = st
                break
            except socket.timeout:
                pass
    mb, md = statistics.median(before), statistics.median(during)
    print(f'{n} BINDs sent in {t_sent:.1f} s, all waiting for {t_flood:.1f} s; '
          f'READ 4 KiB latency ms: before median {mb:.1f} max {max(before):.1f}, '
          f'during median {md:.1f} max {max(during):.1f}; answered early {answered}; '
          f'after the slot was freed a waiter got it: {got == 0}')
    ok = max(during) <= max_ms and md <= 5 * mb + 20 and answered == 0 and got == 0
    for s in flood:
        s.close()
    holder.close()
    good.close()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
