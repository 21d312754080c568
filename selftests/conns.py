#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Open N archip connections to one server at once, handshake each (with
the node's cluster key), and report how many were accepted (status 0) and
how many refused as busy (status 5).  usage: conns.py HOST PORT N"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archipwire as w  # noqa: E402

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
key = w.load_key()
socks, ok, busy, other = [], 0, 0, 0
for i in range(n):
    s = socket.create_connection((host, port), timeout=60)
    socks.append(s)
    try:
        w.handshake(s, i, 0, key)
        ok += 1
    except w.Refused as e:
        if e.status == 5 and 'connection limit' in e.reason:
            busy += 1
        else:
            other += 1
    except (ConnectionError, OSError):
        other += 1
print(f'{ok} accepted {busy} busy {other} other')
for s in socks:
    s.close()
