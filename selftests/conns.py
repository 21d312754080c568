#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Open N archip connections to one server at once, handshake each, and
report how many were accepted (status 0) and how many refused as busy
(status 5).  usage: conns.py HOST PORT N"""
import socket
import struct
import sys

HELLO_MAGIC = 0x50494843
PROTO = 2
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks, ok, busy, other = [], 0, 0, 0
for i in range(n):
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(struct.pack('<IHHQQQII', HELLO_MAGIC, PROTO, 40, 0, 0, i, 0, 0))
    socks.append(s)
for s in socks:
    buf = b''
    while len(buf) < 96:
        chunk = s.recv(96 - len(buf))
        if not chunk:
            break
        buf += chunk
    if len(buf) < 96:
        other += 1
        continue
    magic, _ver, status = struct.unpack_from('<IHH', buf)
    reason = buf[32:96].split(b'\0')[0].decode()
    if magic == HELLO_MAGIC and status == 0:
        ok += 1
    elif status == 5 and 'connection limit' in reason:
        busy += 1
    else:
        other += 1
print(f'{ok} accepted {busy} busy {other} other')
for s in socks:
    s.close()
